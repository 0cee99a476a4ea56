/*
 * libFuzzer target for policy files: JSON parsing, position tracking,
 * rule parsing, examples and the checks behind `coworker policy check`,
 * then a few decisions against whatever loaded.
 * Build (clang):
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -I. -I/usr/include/cjson \
 *     -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_policy_file.c \
 *     policy/[a-z]*.c -lcjson -lcrypto -o build/fuzz/fuzz_policy_file
 * Run: build/fuzz/fuzz_policy_file -max_total_time=60 CORPUS_DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

static void ignore(void *ctx, const char *file, int line, int column,
		   const char *message)
{
	(void)ctx;
	(void)file;
	(void)line;
	(void)column;
	(void)message;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_verdict v;
	struct policy p;
	char err[1024], **trusted = NULL;
	char *buf;

	if (size > POLICY_FILE_MAX)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	policy_init(&p);
	if (policy_set_roots(&p, "/ws", "/home/u") == 0 &&
	    policy_protected_load(&p, err, sizeof(err)) == 0 &&
	    policy_load_buffer_layer(&p, "fuzz.json", buf, size,
				     POLICY_LAYER_USER, ignore, NULL,
				     &trusted, err, sizeof(err)) == 0) {
		policy_lint(&p, ignore, NULL);
		v = policy_decide_path(&p, POLICY_READ, "src/a.c");
		v = policy_decide_path(&p, POLICY_WRITE, "/home/u/.ssh/x");
		v = policy_decide_command(&p, "git diff --stat && make > out");
		v = policy_decide_net(&p, "api.example.com", 443);
		v = policy_decide_skill(&p, "pdf");
		(void)v;
	}
	policy_strv_free(trusted);
	policy_free(&p);
	free(buf);
	return 0;
}
