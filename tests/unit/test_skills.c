/*
 * Unit tests for skills: the front-matter parser, validation with file:line
 * messages, discovery order and overriding, and reading files beneath a
 * skill's folder. Each test works on real files in its own mkdtemp folder;
 * the three real skills under tests/fixtures/skills are read in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/skills.h"
#include "supervisor/skills_yaml.h"

struct fixture {
	char dir[64];
	char messages[16384];	/* every warning and note, one per line */
	unsigned warnings;
	unsigned notes;
};

static void collect(void *ctx, enum skills_severity severity,
		    const char *message)
{
	struct fixture *fx = ctx;
	size_t used = strlen(fx->messages);

	if (severity == SKILLS_WARNING)
		fx->warnings++;
	else
		fx->notes++;
	snprintf(fx->messages + used, sizeof(fx->messages) - used, "%s\n",
		 message);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/coworker-skills-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	/* The folder name comes from mkdtemp above, so it needs no quoting
	 * beyond the single quotes. */
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", fx->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", fx->dir);
	free(fx);
	return 0;
}

/* Write content to fx->dir/rel, creating folders on the way. */
static void put_file(struct fixture *fx, const char *rel, const char *content,
		     size_t len)
{
	char path[PATH_MAX], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, rel);
	for (slash = strchr(path + strlen(fx->dir) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void put_text(struct fixture *fx, const char *rel, const char *content)
{
	put_file(fx, rel, content, strlen(content));
}

static void path_in(struct fixture *fx, char *out, size_t outlen,
		    const char *rel)
{
	snprintf(out, outlen, "%s/%s", fx->dir, rel);
}

/* The source tree's tests/fixtures/skills, found from this binary's path
 * (build/tests/test_skills), so the test runs from any directory. */
static void fixtures_dir(char *out, size_t outlen)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	assert_true(n > 0);
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	assert_non_null(slash);
	*slash = '\0';
	snprintf(out, outlen, "%s/../../tests/fixtures/skills", exe);
}

/* Roots with only "user" set to dir. */
static void only_user_root(struct skills_roots *roots, const char *dir)
{
	memset(roots, 0, sizeof(*roots));
	snprintf(roots->user, sizeof(roots->user), "%s", dir);
}

/* Write FOLDER/SKILL.md in a new root and check that root; returns the
 * number of invalid skills. */
static int check_one(struct fixture *fx, const char *folder,
		     const char *content, size_t len)
{
	char rel[256], root[PATH_MAX];
	struct skill_set set;
	int bad;

	/* A root of its own, so earlier cases do not count again. */
	snprintf(rel, sizeof(rel), "root-%s/%s/SKILL.md", folder, folder);
	put_file(fx, rel, content, len);
	snprintf(rel, sizeof(rel), "root-%s", folder);
	path_in(fx, root, sizeof(root), rel);
	skills_init(&set);
	bad = skills_check_dir(root, &set, collect, fx);
	skills_free(&set);
	return bad;
}

static void assert_message(struct fixture *fx, const char *needle)
{
	if (!strstr(fx->messages, needle))
		fail_msg("expected \"%s\" in messages:\n%s", needle,
			 fx->messages);
}

/* ---- the three real skills ------------------------------------------- */

static void test_fixture_skills_load(void **state)
{
	struct fixture *fx = *state;
	struct skills_roots roots;
	const struct skill *sk;
	struct skill_set set;
	char dir[PATH_MAX];

	fixtures_dir(dir, sizeof(dir));
	only_user_root(&roots, dir);
	skills_init(&set);
	assert_int_equal(skills_discover(&set, &roots, collect, fx), 3);
	assert_int_equal(fx->warnings, 0);

	/* A double-quoted description containing ": ". */
	sk = skills_find(&set, "code-review");
	assert_non_null(sk);
	assert_true(strncmp(sk->description, "Perform thorough code reviews: "
			    "analyze", 38) == 0);
	assert_string_equal(sk->license, "Apache-2.0");
	assert_int_equal(sk->nallowed, 3);
	assert_string_equal(sk->allowed_tools[2], "file_search");
	assert_int_equal(sk->nmetadata, 4);
	assert_string_equal(sk->metadata_keys[1], "version");
	assert_string_equal(sk->metadata_values[1], "1.0.0");
	assert_string_equal(sk->metadata_values[3],
			    "code-review, quality, security");
	assert_string_equal(sk->source, "user");
	assert_null(sk->overridden_source);
	skills_free(&set);
}

static void test_fixture_folded_and_comment(void **state)
{
	struct fixture *fx = *state;
	struct skills_roots roots;
	const struct skill *sk;
	struct skill_set set;
	char dir[PATH_MAX];

	fixtures_dir(dir, sizeof(dir));
	only_user_root(&roots, dir);
	skills_init(&set);
	skills_discover(&set, &roots, collect, fx);
	sk = skills_find(&set, "runpod-comfyui-models");
	assert_non_null(sk);

	/* ">-" folds the lines with spaces and strips the final break. */
	assert_null(strchr(sk->description, '\n'));
	assert_true(strncmp(sk->description, "Repair imported ComfyUI "
			    "workflows with missing or broken model metadata "
			    "for ComfyUI-RunpodDirect. Accept", 95) == 0);
	assert_string_equal(sk->description + strlen(sk->description) - 14,
			    "Pod lifecycle.");
	/* A comma-separated string whose rules contain ":" and "*". */
	assert_int_equal(sk->nallowed, 2);
	assert_string_equal(sk->allowed_tools[0], "Bash(python3:*)");
	assert_string_equal(sk->allowed_tools[1], "Bash(curl:*)");
	assert_string_equal(sk->compatibility, "Linux, macOS, Windows");
	/* The comment after the quoted version is not part of it. */
	assert_int_equal(sk->nmetadata, 2);
	assert_string_equal(sk->metadata_values[1], "1.2.0");
	assert_string_equal(sk->license, "Apache-2.0");
	/* user-invocable is outside the format: a note, not a warning. */
	assert_message(fx, "runpod-comfyui-models/SKILL.md:10: key "
		       "\"user-invocable\"");
	assert_int_equal(fx->warnings, 0);
	skills_free(&set);
}

static void test_fixture_all_optional_fields(void **state)
{
	struct fixture *fx = *state;
	struct skills_roots roots;
	const struct skill *sk;
	struct skill_set set;
	char dir[PATH_MAX];

	fixtures_dir(dir, sizeof(dir));
	only_user_root(&roots, dir);
	skills_init(&set);
	skills_discover(&set, &roots, collect, fx);
	sk = skills_find(&set, "web-research-and-source-triage");
	assert_non_null(sk);
	assert_string_equal(sk->license, "MIT");
	assert_string_equal(sk->compatibility,
			    "Tested with Claude Code, Codex, and Aider skill "
			    "layouts");
	assert_int_equal(sk->nallowed, 5);
	assert_string_equal(sk->allowed_tools[0], "Read");
	assert_string_equal(sk->allowed_tools[4], "WebSearch");
	assert_int_equal(sk->nmetadata, 10);
	assert_string_equal(sk->metadata_keys[9],
			    "agtmls-requires-human-review");
	assert_string_equal(sk->metadata_values[9], "true");
	assert_int_equal(sk->body_line, 19);
	skills_free(&set);
}

/* ---- parser ----------------------------------------------------------- */

static const char *scalar(const struct frontmatter *fm, const char *key)
{
	const struct fm_node *v = fm_map_get(&fm->root, key);

	assert_non_null(v);
	assert_int_equal(v->kind, FM_SCALAR);
	return v->text;
}

static void parse_ok(const char *text, struct frontmatter *fm)
{
	char err[512];

	if (frontmatter_parse(text, strlen(text), "t.md", fm, err,
			      sizeof(err)) < 0)
		fail_msg("parse failed: %s", err);
}

static void test_yaml_block_scalars(void **state)
{
	struct frontmatter fm;

	(void)state;
	parse_ok("---\n"
		 "lit: |\n  one\n  two\n\n"
		 "lit_strip: |-\n  one\n  two\n\n"
		 "lit_keep: |+\n  one\n\n\n"
		 "fold: >\n  a\n  b\n\n  c\n    indented\n  d\n"
		 "fold_strip: >-\n  x\n  y\n"
		 "explicit: |2\n    four\n  two\n"
		 "empty: |\n"
		 "after: end # comment\n"
		 "---\nbody\n", &fm);
	assert_string_equal(scalar(&fm, "lit"), "one\ntwo\n");
	assert_string_equal(scalar(&fm, "lit_strip"), "one\ntwo");
	assert_string_equal(scalar(&fm, "lit_keep"), "one\n\n\n");
	assert_string_equal(scalar(&fm, "fold"), "a b\nc\n  indented\nd\n");
	assert_string_equal(scalar(&fm, "fold_strip"), "x y");
	assert_string_equal(scalar(&fm, "explicit"), "  four\ntwo\n");
	assert_string_equal(scalar(&fm, "empty"), "");
	assert_string_equal(scalar(&fm, "after"), "end");
	frontmatter_free(&fm);
}

static void test_yaml_quoted_scalars(void **state)
{
	struct frontmatter fm;

	(void)state;
	parse_ok("---\n"
		 "dq: \"tab\\there \\\"q\\\" \\u00e9 \\x41 \\U0001F600\"\n"
		 "sq: 'it''s: fine # not a comment'\n"
		 "multi: \"first\n   second\n\n   third\"\n"
		 "joined: \"ab\\\n   cd\"\n"
		 "plain: one\n  two\n"
		 "hash: a#b\n"
		 "nul: ~\n"
		 "---\n", &fm);
	assert_string_equal(scalar(&fm, "dq"),
			    "tab\there \"q\" \xc3\xa9 A \xf0\x9f\x98\x80");
	assert_string_equal(scalar(&fm, "sq"), "it's: fine # not a comment");
	assert_string_equal(scalar(&fm, "multi"), "first second\nthird");
	assert_string_equal(scalar(&fm, "joined"), "abcd");
	assert_string_equal(scalar(&fm, "plain"), "one two");
	assert_string_equal(scalar(&fm, "hash"), "a#b");
	assert_int_equal(fm_map_get(&fm.root, "nul")->kind, FM_NULL);
	frontmatter_free(&fm);
}

static void test_yaml_lists_and_maps(void **state)
{
	const struct fm_node *v;
	struct frontmatter fm;

	(void)state;
	parse_ok("---\n"
		 "# a full-line comment\n"
		 "block:\n  - a\n  - 'b c'\n"
		 "same_column:\n- x\n- y\n"
		 "flow: [one, \"two, three\", [nested]]\n"
		 "map:\n  k1: v1   # trailing comment\n  # inside\n  k2: \"v2\"\n"
		 "flowmap: {a: 1, b: [2, 3]}\n"
		 "items:\n  - name: n1\n    value: v1\n  - name: n2\n"
		 "---\n", &fm);
	v = fm_map_get(&fm.root, "block");
	assert_int_equal(v->kind, FM_SEQ);
	assert_int_equal(v->count, 2);
	assert_string_equal(v->items[1].text, "b c");
	v = fm_map_get(&fm.root, "same_column");
	assert_int_equal(v->kind, FM_SEQ);
	assert_int_equal(v->count, 2);
	v = fm_map_get(&fm.root, "flow");
	assert_int_equal(v->count, 3);
	assert_string_equal(v->items[1].text, "two, three");
	assert_int_equal(v->items[2].kind, FM_SEQ);
	v = fm_map_get(&fm.root, "map");
	assert_int_equal(v->kind, FM_MAP);
	assert_int_equal(v->count, 2);
	assert_string_equal(fm_map_get(v, "k1")->text, "v1");
	assert_string_equal(fm_map_get(v, "k2")->text, "v2");
	v = fm_map_get(&fm.root, "flowmap");
	assert_int_equal(fm_map_get(v, "b")->count, 2);
	v = fm_map_get(&fm.root, "items");
	assert_int_equal(v->count, 2);
	assert_string_equal(fm_map_get(&v->items[0], "value")->text, "v1");
	frontmatter_free(&fm);
}

static void test_yaml_crlf(void **state)
{
	struct frontmatter fm;

	(void)state;
	parse_ok("---\r\nname: crlf\r\ndescription: >\r\n  two\r\n  lines\r\n"
		 "tools: [a, b]\r\n---\r\nbody\r\n", &fm);
	assert_string_equal(scalar(&fm, "name"), "crlf");
	assert_string_equal(scalar(&fm, "description"), "two lines\n");
	assert_int_equal(fm.body_line, 8);
	frontmatter_free(&fm);
}

static void test_yaml_depth_limit(void **state)
{
	char text[512], err[256];
	struct frontmatter fm;
	size_t n;
	int i;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "---\nk: ");
	for (i = 0; i < FM_DEPTH_MAX + 4; i++)
		text[n++] = '[';
	for (i = 0; i < FM_DEPTH_MAX + 4; i++)
		text[n++] = ']';
	snprintf(text + n, sizeof(text) - n, "\n---\n");
	assert_int_equal(frontmatter_parse(text, strlen(text), "deep.md", &fm,
					   err, sizeof(err)), -1);
	assert_non_null(strstr(err, "deep.md:2: values are nested deeper"));
}

/* ---- validation errors with file:line ---------------------------------- */

struct bad_case {
	const char *folder;
	const char *text;
	const char *expect;	/* substring after "FOLDER/SKILL.md" */
};

static void test_validation_errors(void **state)
{
	static const struct bad_case cases[] = {
		{ "nofm", "# just markdown\n", ":1: missing front matter" },
		{ "open", "---\nname: open\n", ":1: the front matter is not closed" },
		{ "noname", "---\ndescription: d\n---\n", ":1: missing name" },
		{ "upper", "---\nname: Upper\ndescription: d\n---\n",
		  ":2: invalid name \"Upper\": use only lowercase" },
		{ "a--b", "---\nname: a--b\ndescription: d\n---\n",
		  ":2: invalid name \"a--b\": it must not start" },
		{ "-lead", "---\nname: -lead\ndescription: d\n---\n",
		  ":2: invalid name" },
		{ "other", "---\nname: mismatch\ndescription: d\n---\n",
		  ":2: name \"mismatch\" does not match its folder \"other\"" },
		{ "nodesc", "---\nname: nodesc\n---\n", ":1: missing description" },
		{ "emptydesc", "---\nname: emptydesc\ndescription: \"\"\n---\n",
		  ":3: missing description" },
		{ "colon", "---\nname: colon\ndescription: Use when: x\n---\n",
		  ":3: a plain value cannot contain \": \"" },
		{ "tab", "---\nname: tab\nmetadata:\n\tk: v\ndescription: d\n---\n",
		  ":4: tab character in indentation" },
		{ "dup", "---\nname: dup\nname: dup\ndescription: d\n---\n",
		  ":3: duplicate key \"name\"" },
		{ "quote", "---\nname: quote\ndescription: \"open\n---\n",
		  ":3: the quoted string is not closed" },
		{ "tools", "---\nname: tools\ndescription: d\nallowed-tools:\n  a: b\n---\n",
		  ":4: invalid allowed-tools" },
		{ "listname", "---\nname: [a]\ndescription: d\n---\n",
		  ":2: invalid name: expected a string, found a list" },
		{ "anchor", "---\nname: anchor\ndescription: &a d\n---\n",
		  ":3: YAML anchors, aliases and tags are not supported" },
		{ "indent", "---\nname: indent\n  description: d\n---\n",
		  ":3: a plain value cannot contain" },
		{ "header", "---\nname: header\ndescription: |x\n  d\n---\n",
		  ":3: invalid block scalar header" },
		{ "escape", "---\nname: escape\ndescription: \"\\q\"\n---\n",
		  ":3: invalid escape sequence" },
	};
	struct fixture *fx = *state;
	char expect[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx->messages[0] = '\0';
		assert_int_equal(check_one(fx, cases[i].folder, cases[i].text,
					   strlen(cases[i].text)), 1);
		snprintf(expect, sizeof(expect), "%s/SKILL.md%s",
			 cases[i].folder, cases[i].expect);
		assert_message(fx, expect);
	}
}

static void test_description_length(void **state)
{
	struct fixture *fx = *state;
	char text[8192];
	size_t n, i;

	/* 1024 three-byte characters are within the limit... */
	n = (size_t)snprintf(text, sizeof(text),
			     "---\nname: long\ndescription: ");
	for (i = 0; i < 1024; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "\xe6\x97\xa5");
	snprintf(text + n, sizeof(text) - n, "\n---\n");
	assert_int_equal(check_one(fx, "long", text, strlen(text)), 0);

	/* ...and one more is over it, reported on the description's line. */
	n = (size_t)snprintf(text, sizeof(text),
			     "---\nname: longer\ndescription: >\n");
	for (i = 0; i < 41; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "  abcdefghijklmnopqrstuvwx\n");
	snprintf(text + n, sizeof(text) - n, "---\n");
	assert_int_equal(check_one(fx, "longer", text, strlen(text)), 1);
	assert_message(fx, "longer/SKILL.md:3: description is 1025 characters");
}

static void test_compatibility_length(void **state)
{
	struct fixture *fx = *state;
	char text[1024];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "---\nname: compat\n"
			     "description: d\ncompatibility: ");
	memset(text + n, 'x', 501);
	snprintf(text + n + 501, sizeof(text) - n - 501, "\n---\n");
	assert_int_equal(check_one(fx, "compat", text, strlen(text)), 1);
	assert_message(fx, "compat/SKILL.md:4: compatibility is 501 characters");
}

static void test_invalid_utf8(void **state)
{
	static const char text[] = "---\nname: bytes\ndescription: caf\xe9\n---\n";
	struct fixture *fx = *state;

	assert_int_equal(check_one(fx, "bytes", text, sizeof(text) - 1), 1);
	assert_message(fx, "bytes/SKILL.md:3: invalid UTF-8");
}

static void test_size_limits(void **state)
{
	struct fixture *fx = *state;
	size_t big = SKILLS_MD_MAX + 1, n;
	char *text = malloc(big + 1);

	assert_non_null(text);
	n = (size_t)snprintf(text, big, "---\nname: huge\ndescription: d\n---\n");
	memset(text + n, 'x', big - n);
	assert_int_equal(check_one(fx, "huge", text, big), 1);
	assert_message(fx, "huge/SKILL.md:1: ");
	assert_message(fx, "larger than 262144 bytes");

	/* Front matter over 64 KiB in a file under 256 KiB. */
	n = (size_t)snprintf(text, big, "---\nname: wide\ndescription: |\n");
	while (n < FM_MAX + 200)
		n += (size_t)snprintf(text + n, big - n, "  %s\n",
				      "filler line of the description");
	n += (size_t)snprintf(text + n, big - n, "---\n");
	assert_int_equal(check_one(fx, "wide", text, n), 1);
	assert_message(fx, "wide/SKILL.md:");
	assert_message(fx, "the front matter is longer than 65536 bytes");
	free(text);
}

static void test_crlf_skill(void **state)
{
	static const char text[] =
		"---\r\nname: crlf\r\ndescription: Handles CRLF. # note\r\n"
		"allowed-tools:\r\n  - Read\r\n  - Exec(make test)\r\n"
		"---\r\n# Body\r\n";
	struct fixture *fx = *state;
	struct skills_roots roots;
	const struct skill *sk;
	struct skill_set set;
	char root[PATH_MAX];

	put_text(fx, "root/crlf/SKILL.md", text);
	path_in(fx, root, sizeof(root), "root");
	only_user_root(&roots, root);
	skills_init(&set);
	assert_int_equal(skills_discover(&set, &roots, collect, fx), 1);
	sk = skills_find(&set, "crlf");
	assert_non_null(sk);
	assert_string_equal(sk->description, "Handles CRLF.");
	assert_int_equal(sk->nallowed, 2);
	assert_string_equal(sk->allowed_tools[1], "Exec(make test)");
	skills_free(&set);
}

static void test_non_latin_description(void **state)
{
	static const char desc[] =
		"Проверяет изменения на ошибки безопасности. "
		"セキュリティ上の問題を探す。";
	struct fixture *fx = *state;
	struct skills_roots roots;
	struct skill_set set;
	char root[PATH_MAX], text[512];

	snprintf(text, sizeof(text), "---\nname: intl\ndescription: %s\n---\n",
		 desc);
	put_text(fx, "root/intl/SKILL.md", text);
	path_in(fx, root, sizeof(root), "root");
	only_user_root(&roots, root);
	skills_init(&set);
	assert_int_equal(skills_discover(&set, &roots, collect, fx), 1);
	assert_string_equal(skills_find(&set, "intl")->description, desc);
	skills_free(&set);
}

static void test_allowed_tools_forms(void **state)
{
	struct fixture *fx = *state;
	struct skills_roots roots;
	const struct skill *sk;
	struct skill_set set;
	char root[PATH_MAX];

	put_text(fx, "root/flow/SKILL.md", "---\nname: flow\ndescription: d\n"
		 "allowed-tools: [Read, \"Exec(git diff:*)\"]\n---\n");
	put_text(fx, "root/spaced/SKILL.md", "---\nname: spaced\ndescription: d\n"
		 "allowed-tools: Read,Grep  Bash(git log:*)\n---\n");
	put_text(fx, "root/none/SKILL.md", "---\nname: none\ndescription: d\n"
		 "allowed-tools: []\n---\n");
	path_in(fx, root, sizeof(root), "root");
	only_user_root(&roots, root);
	skills_init(&set);
	assert_int_equal(skills_discover(&set, &roots, collect, fx), 3);
	sk = skills_find(&set, "flow");
	assert_int_equal(sk->nallowed, 2);
	assert_string_equal(sk->allowed_tools[1], "Exec(git diff:*)");
	sk = skills_find(&set, "spaced");
	assert_int_equal(sk->nallowed, 3);
	assert_string_equal(sk->allowed_tools[1], "Grep");
	assert_string_equal(sk->allowed_tools[2], "Bash(git log:*)");
	sk = skills_find(&set, "none");
	assert_true(sk->has_allowed_tools);
	assert_int_equal(sk->nallowed, 0);
	skills_free(&set);
}

/* ---- discovery --------------------------------------------------------- */

static void put_skill(struct fixture *fx, const char *root, const char *name,
		      const char *desc)
{
	char rel[256], text[512];

	snprintf(rel, sizeof(rel), "%s/%s/SKILL.md", root, name);
	snprintf(text, sizeof(text), "---\nname: %s\ndescription: %s\n---\n"
		 "Body of %s from %s.\n", name, desc, name, root);
	put_text(fx, rel, text);
}

static void four_roots(struct fixture *fx, struct skills_roots *roots)
{
	memset(roots, 0, sizeof(*roots));
	path_in(fx, roots->shipped, sizeof(roots->shipped), "shipped");
	path_in(fx, roots->user, sizeof(roots->user), "user");
	path_in(fx, roots->project, sizeof(roots->project), "ws/.coworker/skills");
	path_in(fx, roots->claude, sizeof(roots->claude), "ws/.claude/skills");
}

static void test_discovery_order(void **state)
{
	struct fixture *fx = *state;
	struct skills_roots roots;
	const struct skill *sk;
	struct skill_set set;

	put_skill(fx, "shipped", "alpha", "shipped alpha");
	put_skill(fx, "shipped", "beta", "shipped beta");
	put_skill(fx, "shipped", "gamma", "shipped gamma");
	put_skill(fx, "user", "alpha", "user alpha");
	put_skill(fx, "ws/.coworker/skills", "beta", "project beta");
	put_skill(fx, "ws/.claude/skills", "beta", "claude beta");
	put_skill(fx, "ws/.claude/skills", "delta", "claude delta");
	four_roots(fx, &roots);
	roots.trust_project = true;

	skills_init(&set);
	assert_int_equal(skills_discover(&set, &roots, collect, fx), 4);
	assert_int_equal(fx->warnings, 0);
	sk = skills_find(&set, "alpha");
	assert_string_equal(sk->description, "user alpha");
	assert_string_equal(sk->source, "user");
	assert_string_equal(sk->overridden_source, "shipped");
	assert_false(sk->project);
	sk = skills_find(&set, "beta");
	assert_string_equal(sk->description, "claude beta");
	assert_string_equal(sk->overridden_source, "project");
	assert_true(sk->project);
	sk = skills_find(&set, "gamma");
	assert_string_equal(sk->source, "shipped");
	assert_null(sk->overridden_source);
	/* Sorted by name. */
	assert_string_equal(set.skills[0].name, "alpha");
	assert_string_equal(set.skills[3].name, "gamma");
	skills_free(&set);
}

static void test_untrusted_project_skipped(void **state)
{
	struct fixture *fx = *state;
	struct skills_roots roots;
	struct skill_set set;

	put_skill(fx, "shipped", "beta", "shipped beta");
	put_skill(fx, "ws/.coworker/skills", "beta", "project beta");
	put_skill(fx, "ws/.claude/skills", "delta", "claude delta");
	four_roots(fx, &roots);

	skills_init(&set);
	assert_int_equal(skills_discover(&set, &roots, collect, fx), 1);
	assert_string_equal(skills_find(&set, "beta")->description,
			    "shipped beta");
	assert_null(skills_find(&set, "delta"));
	assert_int_equal(set.untrusted_skipped, 2);
	skills_free(&set);
}

static void test_bad_skill_skipped_not_fatal(void **state)
{
	struct fixture *fx = *state;
	struct skills_roots roots;
	struct skill_set set;

	put_skill(fx, "shipped", "good", "fine");
	put_text(fx, "shipped/bad/SKILL.md", "---\nname: Bad\n---\n");
	put_text(fx, "shipped/notes.txt", "not a folder\n");
	four_roots(fx, &roots);
	skills_init(&set);
	assert_int_equal(skills_discover(&set, &roots, collect, fx), 1);
	assert_int_equal(fx->warnings, 1);
	assert_message(fx, "bad/SKILL.md:2: invalid name \"Bad\"");
	skills_free(&set);
}

static void make_link(struct fixture *fx, const char *target_rel,
		      const char *link_rel, bool absolute)
{
	char target[PATH_MAX], link[PATH_MAX];

	if (absolute)
		path_in(fx, target, sizeof(target), target_rel);
	else
		snprintf(target, sizeof(target), "%s", target_rel);
	path_in(fx, link, sizeof(link), link_rel);
	assert_int_equal(symlink(target, link), 0);
}

static void test_symlink_escape_skipped(void **state)
{
	struct fixture *fx = *state;
	struct skills_roots roots;
	struct skill_set set;

	put_skill(fx, "outside", "evil", "from outside");
	put_skill(fx, "user", "inner", "real one");
	/* A SKILL.md that is a symbolic link out of the root. */
	put_text(fx, "user/evil/placeholder", "");
	make_link(fx, "outside/evil/SKILL.md", "user/evil/SKILL.md", true);
	/* A SKILL.md linking to a sibling inside the root is fine. */
	put_text(fx, "user/twin/placeholder", "");
	put_skill(fx, "user/store", "twin", "stored twin");
	make_link(fx, "../store/twin/SKILL.md", "user/twin/SKILL.md", false);
	/* The root itself may be a symbolic link. */
	make_link(fx, "user", "user-link", true);

	memset(&roots, 0, sizeof(roots));
	path_in(fx, roots.user, sizeof(roots.user), "user-link");
	skills_init(&set);
	assert_int_equal(skills_discover(&set, &roots, collect, fx), 2);
	assert_null(skills_find(&set, "evil"));
	assert_non_null(skills_find(&set, "inner"));
	assert_string_equal(skills_find(&set, "twin")->description,
			    "stored twin");
	assert_int_equal(fx->warnings, 1);
	assert_message(fx, "evil/SKILL.md:1: ");
	assert_message(fx, "leads outside its folder");
	skills_free(&set);
}

/* ---- loading the body and other files ---------------------------------- */

static const struct skill *load_demo(struct fixture *fx, struct skill_set *set)
{
	struct skills_roots roots;

	put_text(fx, "user/demo/SKILL.md", "---\nname: demo\ndescription: d\n"
		 "---\n# Demo\nSee refs/guide.md.\n");
	put_text(fx, "user/demo/refs/guide.md", "guide text\n");
	put_text(fx, "user/other/secret.txt", "sibling secret\n");
	put_text(fx, "outside.txt", "outside\n");
	memset(&roots, 0, sizeof(roots));
	path_in(fx, roots.user, sizeof(roots.user), "user");
	skills_init(set);
	assert_int_equal(skills_discover(set, &roots, collect, fx), 1);
	return skills_find(set, "demo");
}

static void test_load_body(void **state)
{
	struct fixture *fx = *state;
	struct skill_set set;
	const struct skill *sk = load_demo(fx, &set);
	char err[512], *body;
	size_t len;

	assert_int_equal(skills_load_body(sk, &body, &len, err, sizeof(err)), 0);
	assert_string_equal(body, "# Demo\nSee refs/guide.md.\n");
	assert_int_equal(len, strlen(body));
	assert_int_equal(sk->body_line, 5);
	free(body);
	skills_free(&set);
}

static void test_load_file_beneath(void **state)
{
	struct fixture *fx = *state;
	struct skill_set set;
	const struct skill *sk = load_demo(fx, &set);
	char err[512], *out = NULL, abs[PATH_MAX];
	size_t len;

	assert_int_equal(skills_load_file(sk, "refs/guide.md", &out, &len,
					  err, sizeof(err)), 0);
	assert_string_equal(out, "guide text\n");
	free(out);

	/* Out of the skill folder by "..", even into a sibling skill. */
	assert_int_equal(skills_load_file(sk, "../other/secret.txt", &out,
					  &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "leads outside its folder"));
	assert_int_equal(skills_load_file(sk, "../../outside.txt", &out, &len,
					  err, sizeof(err)), -1);

	/* An absolute path and a symbolic link leading out. */
	path_in(fx, abs, sizeof(abs), "outside.txt");
	assert_int_equal(skills_load_file(sk, abs, &out, &len, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "relative to the skill folder"));
	make_link(fx, "outside.txt", "user/demo/link.txt", true);
	assert_int_equal(skills_load_file(sk, "link.txt", &out, &len, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "leads outside its folder"));

	/* Not a regular file. */
	assert_int_equal(skills_load_file(sk, "refs", &out, &len, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	skills_free(&set);
}

static void test_load_file_fifo_and_size(void **state)
{
	struct fixture *fx = *state;
	struct skill_set set;
	const struct skill *sk = load_demo(fx, &set);
	char err[512], path[PATH_MAX], *out = NULL, *big;
	size_t len;

	path_in(fx, path, sizeof(path), "user/demo/fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(skills_load_file(sk, "fifo", &out, &len, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));

	big = calloc(1, SKILLS_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', SKILLS_FILE_MAX + 1);
	put_text(fx, "user/demo/big.txt", big);
	free(big);
	assert_int_equal(skills_load_file(sk, "big.txt", &out, &len, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than"));

	put_file(fx, "user/demo/bin.dat", "\xff\xfe", 2);
	assert_int_equal(skills_load_file(sk, "bin.dat", &out, &len, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid UTF-8"));
	skills_free(&set);
}

static void test_prompt_section(void **state)
{
	struct fixture *fx = *state;
	struct skills_roots roots;
	struct skill_set set;
	char *text;

	put_skill(fx, "shipped", "alpha", "Does alpha things.");
	put_text(fx, "shipped/beta/SKILL.md", "---\nname: beta\ndescription: |\n"
		 "  Two\n  lines.\n---\n");
	four_roots(fx, &roots);
	skills_init(&set);
	assert_int_equal(skills_discover(&set, &roots, collect, fx), 2);
	assert_int_equal(skills_prompt_section(&set, &text), 0);
	assert_non_null(strstr(text, "load_skill"));
	assert_non_null(strstr(text, "\n- alpha: Does alpha things.\n"));
	assert_non_null(strstr(text, "\n- beta: Two lines. \n"));
	assert_null(strstr(text, "Body of"));
	free(text);
	skills_free(&set);

	skills_init(&set);
	assert_int_equal(skills_prompt_section(&set, &text), 0);
	assert_string_equal(text, "");
	free(text);
}

static void test_shipped_skills_valid(void **state)
{
	struct fixture *fx = *state;
	char dir[PATH_MAX];
	struct skill_set set;

	fixtures_dir(dir, sizeof(dir));
	snprintf(dir + strlen(dir) - strlen("tests/fixtures/skills"),
		 sizeof(dir) - strlen(dir) + strlen("tests/fixtures/skills"),
		 "skills");
	skills_init(&set);
	assert_int_equal(skills_check_dir(dir, &set, collect, fx), 0);
	assert_true(set.count >= 10);
	assert_int_equal(fx->notes, 0);
	skills_free(&set);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest tests[] = {
	T(test_fixture_skills_load),
	T(test_fixture_folded_and_comment),
	T(test_fixture_all_optional_fields),
	T(test_yaml_block_scalars),
	T(test_yaml_quoted_scalars),
	T(test_yaml_lists_and_maps),
	T(test_yaml_crlf),
	T(test_yaml_depth_limit),
	T(test_validation_errors),
	T(test_description_length),
	T(test_compatibility_length),
	T(test_invalid_utf8),
	T(test_size_limits),
	T(test_crlf_skill),
	T(test_non_latin_description),
	T(test_allowed_tools_forms),
	T(test_discovery_order),
	T(test_untrusted_project_skipped),
	T(test_bad_skill_skipped_not_fatal),
	T(test_symlink_escape_skipped),
	T(test_load_body),
	T(test_load_file_beneath),
	T(test_load_file_fifo_and_size),
	T(test_prompt_section),
	T(test_shipped_skills_valid),
};

int main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
