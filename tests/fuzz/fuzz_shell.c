/*
 * libFuzzer target for the shell parser: splitting a command line,
 * deciding it against a small policy, explaining it part by part and
 * building the exact rules an "always" approval would save.
 * Build (clang):
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -I. -I/usr/include/cjson \
 *     -fsanitize=fuzzer,address,undefined tests/fuzz/fuzz_shell.c \
 *     policy/[a-z]*.c -lcjson -lcrypto -o build/fuzz/fuzz_shell
 * Run: build/fuzz/fuzz_shell -max_total_time=60 CORPUS_DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static struct policy policy;
static int ready;

static void setup(void)
{
	static const char *const allow[] = {
		"Read", "Write", "Exec(ls:*)", "Exec(find:*)", "Exec(sed:*)",
		"Exec(git diff:*)", "Exec(xargs:*)", "Exec(env:*)",
	};
	static const char *const deny[] = { "Exec(curl:*)", "Write(.git/**)" };
	char err[512];
	size_t i;

	policy_init(&policy);
	for (i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
		policy_add_rule(&policy, POLICY_ALLOW, allow[i], "fuzz", err,
				sizeof(err));
	for (i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
		policy_add_rule(&policy, POLICY_DENY, deny[i], "fuzz", err,
				sizeof(err));
	ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_command_list list;
	struct policy_explanation e;
	struct policy_verdict v;
	char *command, **rules = NULL, err[512];

	if (!ready)
		setup();
	command = malloc(size + 1);
	if (!command)
		return 0;
	memcpy(command, data, size);
	command[size] = '\0';

	if (policy_shell_split(command, &list) == 0)
		policy_command_list_free(&list);
	v = policy_decide_command(&policy, command);
	(void)v;
	policy_explain_command(&policy, command, NULL, NULL, &e);
	policy_explanation_free(&e);
	if (policy_approval_rules(POLICY_EXEC, command, &rules, err,
				  sizeof(err)) == 0)
		policy_strv_free(rules);
	free(command);
	return 0;
}
