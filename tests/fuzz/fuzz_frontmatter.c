/*
 * libFuzzer target for the SKILL.md front-matter parser and validation.
 * Build (clang):
 *   clang -g -O1 -std=c11 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined \
 *     tests/fuzz/fuzz_frontmatter.c supervisor/skills_yaml.c \
 *     supervisor/skills_validate.c -o build/fuzz/fuzz_frontmatter
 * Run: build/fuzz/fuzz_frontmatter -max_total_time=60 CORPUS_DIR
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/skills.h"
#include "supervisor/skills_yaml.h"

static void ignore(void *ctx, enum skills_severity severity,
		   const char *message)
{
	(void)ctx;
	(void)severity;
	(void)message;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frontmatter fm;
	struct skill sk;
	char err[1024];
	char *copy;

	if (size > SKILLS_MD_MAX)
		return 0;
	/* A private copy, so a read past the input's end is caught. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);

	if (frontmatter_parse(copy, size, "fuzz.md", &fm, err,
			      sizeof(err)) == 0)
		frontmatter_free(&fm);
	else if (!strstr(err, "fuzz.md:"))
		abort();	/* every error must name the file and line */

	if (skill_parse(copy, size, "fuzz/SKILL.md", "fuzz", &sk, ignore,
			NULL) == 0)
		skill_clear(&sk);
	free(copy);
	return 0;
}
