/*
 * Unit tests for the policy module: rule parsing, policy files, globs,
 * path and command decisions, the shell lexer and the digest.
 *
 * Command lines marked "agent" are copied from real agent sessions
 * (mini-swe-agent and SWE-agent trajectories). Their recorded escapes for
 * newlines and backslashes are written as C escapes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/internal.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Temporary directory for policy files, made by the group setup. */
static char tmpdir[] = "/tmp/test_policy.XXXXXX";

/* ---------- helpers ---------- */

static void add(struct policy *p, enum policy_decision d, const char *text)
{
	char err[1024] = "";

	if (policy_add_rule(p, d, text, "test", err, sizeof(err)) < 0)
		fail_msg("rule \"%s\" rejected: %s", text, err);
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, haystack);
}

/* Write content to name inside tmpdir and return the full path in out. */
static void write_file(const char *name, const char *content, char *out,
		       size_t outlen)
{
	FILE *f;

	snprintf(out, outlen, "%s/%s", tmpdir, name);
	f = fopen(out, "w");
	assert_non_null(f);
	assert_int_equal(fputs(content, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Load content as a policy file; returns policy_load_file's result. */
static int load_text(struct policy *p, const char *content, char *err,
		     size_t errlen)
{
	char path[512];
	int ret;

	write_file("policy.json", content, path, sizeof(path));
	ret = policy_load_file(p, path, err, errlen);
	unlink(path);
	return ret;
}

/* Render a split as "w1,w2 | w1" (words only), for table comparisons. */
static void render(const struct policy_command_list *l, char *buf, size_t size)
{
	size_t i, j, o = 0;

	buf[0] = '\0';
	for (i = 0; i < l->count; i++) {
		if (i > 0)
			o += (size_t)snprintf(buf + o, size - o, " | ");
		for (j = 0; j < l->cmds[i].nwords && o < size; j++)
			o += (size_t)snprintf(buf + o, size - o, "%s%s",
					      j ? "," : "",
					      l->cmds[i].words[j].text);
		if (o >= size)
			break;
	}
}

static void assert_split(const char *command, const char *expected)
{
	struct policy_command_list l;
	char got[8192];

	assert_int_equal(policy_shell_split(command, &l), 0);
	render(&l, got, sizeof(got));
	if (strcmp(got, expected) != 0)
		fail_msg("split of \"%s\": expected \"%s\", got \"%s\"",
			 command, expected, got);
	policy_command_list_free(&l);
}

static void assert_verdict(const struct policy_verdict *v,
			   enum policy_decision d, const char *rule_text,
			   const char *reason_part)
{
	if (v->decision != d)
		fail_msg("expected %s, got %s (%s)", policy_decision_name(d),
			 policy_decision_name(v->decision),
			 v->rule ? v->rule->text : v->reason);
	if (rule_text) {
		assert_non_null(v->rule);
		assert_string_equal(v->rule->text, rule_text);
		assert_null(v->reason);
	}
	if (reason_part) {
		assert_null(v->rule);
		assert_non_null(v->reason);
		assert_contains(v->reason, reason_part);
	}
}

static void assert_command(const struct policy *p, const char *command,
			   enum policy_decision d, const char *rule_text,
			   const char *reason_part)
{
	struct policy_verdict v = policy_decide_command(p, command);

	if (v.decision != d)
		fail_msg("\"%s\": expected %s, got %s (%s)", command,
			 policy_decision_name(d),
			 policy_decision_name(v.decision),
			 v.rule ? v.rule->text : v.reason);
	assert_verdict(&v, d, rule_text, reason_part);
}

/* ---------- rule parsing ---------- */

static void test_rule_parse_accepts(void **state)
{
	static const struct {
		const char *text;
		enum policy_tool tool;
		const char *pattern;
		bool prefix;
		size_t nwords;
	} cases[] = {
		{ "Read", POLICY_READ, NULL, false, 0 },
		{ "Write", POLICY_WRITE, NULL, false, 0 },
		{ "Exec", POLICY_EXEC, NULL, false, 0 },
		{ "Read(src/**)", POLICY_READ, "src/**", false, 0 },
		{ "Write(docs/*.md)", POLICY_WRITE, "docs/*.md", false, 0 },
		{ "Read(.env)", POLICY_READ, ".env", false, 0 },
		{ "Read([ab]?.c)", POLICY_READ, "[ab]?.c", false, 0 },
		{ "Exec(git diff:*)", POLICY_EXEC, "git diff", true, 2 },
		{ "Exec(make test)", POLICY_EXEC, "make test", false, 2 },
		{ "Exec(ls:*)", POLICY_EXEC, "ls", true, 1 },
		{ "Exec(echo 'a b')", POLICY_EXEC, "echo 'a b'", false, 2 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct policy p;
		const struct policy_rule *r;

		policy_init(&p);
		add(&p, POLICY_ALLOW, cases[i].text);
		assert_int_equal(p.count, 1);
		r = &p.rules[0];
		assert_int_equal(r->tool, cases[i].tool);
		assert_string_equal(r->text, cases[i].text);
		if (cases[i].pattern)
			assert_string_equal(r->pattern, cases[i].pattern);
		else
			assert_null(r->pattern);
		assert_int_equal(r->prefix, cases[i].prefix);
		assert_int_equal(r->nwords, cases[i].nwords);
		policy_free(&p);
	}
}

static void test_rule_exec_words_unquoted(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(echo 'a b')");
	assert_int_equal(p.rules[0].nwords, 2);
	assert_string_equal(p.rules[0].words[0], "echo");
	assert_string_equal(p.rules[0].words[1], "a b");
	policy_free(&p);
}

static void test_rule_source_recorded(void **state)
{
	struct policy p;
	char err[256];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_rule(&p, POLICY_DENY, "Read(.env)",
					 "a/policy.json", err, sizeof(err)), 0);
	assert_int_equal(policy_add_rule(&p, POLICY_DENY, "Read(x)", NULL,
					 err, sizeof(err)), 0);
	assert_string_equal(p.rules[0].source, "a/policy.json");
	assert_string_equal(p.rules[1].source, "command line");
	assert_int_equal(p.rules[0].decision, POLICY_DENY);
	policy_free(&p);
}

static const struct {
	const char *text;
	const char *message;	/* part of the expected error */
} bad_rules[] = {
	{ "Foo(x)", "unknown tool \"Foo\" in rule \"Foo(x)\": use Read, Write, Exec, Net or Skill" },
	{ "Web(api.example.com)", "unknown tool \"Web\"" },
	{ "Net(a b)", "invalid character \" \" in the host name" },
	{ "Net(*)x", "text after the closing parenthesis" },
	{ "Net(a.*.com)", "invalid character \"*\"" },
	{ "Net(*.)", "missing host name" },
	{ "Net(x:0)", "invalid port \"0\"" },
	{ "Net(x:65536)", "invalid port" },
	{ "Net(x:http)", "invalid port" },
	{ "Net([::1)", "IPv6 address is written in brackets" },
	{ "Net([zz]:1)", "invalid IPv6 address" },
	{ "Skill(a/b)", "invalid character \"/\" in the skill name" },
	{ "Read(a[bc)", "unclosed \"[\"" },
	{ "read(src/**)", "case-sensitive, write Read" },
	{ "EXEC", "case-sensitive, write Exec" },
	{ "Read (x)", "unknown tool \"Read \"" },
	{ "Read(a", "unbalanced parentheses in rule \"Read(a\"" },
	{ "Read(a))", "unbalanced parentheses in rule \"Read(a))\"" },
	{ "Read((a)", "unbalanced parentheses" },
	{ "Read)", "unbalanced parentheses" },
	{ "Exec(echo (a)", "unbalanced parentheses" },
	{ "Read(a)b", "text after the closing parenthesis in rule \"Read(a)b\"" },
	{ "Read()", "empty pattern in rule \"Read()\": write Read alone" },
	{ "Write()", "empty pattern in rule \"Write()\"" },
	{ "Exec()", "empty pattern in rule \"Exec()\"" },
	{ "Read(/etc/../passwd)", "\"..\" components are not allowed" },
	{ "Write(~user/.bashrc)", "only \"~/\" is understood" },
	{ "Write(~)", "only \"~/\" is understood" },
	{ "Read(//etc)", "empty or \".\" components" },
	{ "Read(..)", "\"..\" components are not allowed" },
	{ "Read(../secret)", "\"..\" components are not allowed" },
	{ "Read(src/../../etc)", "rule \"Read(src/../../etc)\": \"..\" components" },
	{ "Write(a/..)", "\"..\" components are not allowed" },
	{ "Read(./src)", "empty or \".\" components" },
	{ "Read(a//b)", "empty or \".\" components" },
	{ "Read(src/)", "write dir/** for a directory's contents" },
	{ "Read(a\tb)", "control character 0x09 at byte 6" },
	{ "Read(a\x01)", "control character 0x01" },
	{ "Exec(ls\x7f)", "control character 0x7f" },
	{ "Read(a)\n", "control character 0x0a" },
	{ "", "empty rule" },
	{ "Exec(a && b)", "more than one command; write one rule per command" },
	{ "Exec(a; b)", "more than one command" },
	{ "Exec(git *)", "compared literally" },
	{ "Exec($HOME/bin/x)", "compared literally" },
	{ "Exec(echo $(id))", "command substitution" },
	{ "Exec(echo 'a)", "unterminated quote" },
	{ "Exec(:*)", "names no command; write Exec for every command" },
	{ "Exec(FOO=1 make)", "leading assignments are not part of the match" },
	{ "Exec(echo > x)", "redirections are not part of the match" },
};

static void test_rule_parse_rejects(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad_rules); i++) {
		struct policy p;
		char err[1024] = "";

		policy_init(&p);
		if (policy_add_rule(&p, POLICY_ALLOW, bad_rules[i].text, "t",
				    err, sizeof(err)) == 0)
			fail_msg("rule \"%s\" was accepted", bad_rules[i].text);
		assert_contains(err, bad_rules[i].message);
		assert_int_equal(p.count, 0);
		policy_free(&p);
	}
}

static void test_rule_error_escapes_control(void **state)
{
	struct policy p;
	char err[1024] = "";

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_rule(&p, POLICY_ALLOW, "Read(\x1b[31m)",
					 "t", err, sizeof(err)), -1);
	assert_null(strchr(err, '\x1b'));
	assert_contains(err, "Read(\\x1b[31m)");
	policy_free(&p);
}

static void test_rule_too_long(void **state)
{
	struct policy p;
	char err[1024] = "";
	char *text = malloc(POLICY_RULE_MAX + 16);
	size_t n;

	(void)state;
	assert_non_null(text);
	n = (size_t)snprintf(text, POLICY_RULE_MAX + 16, "Read(");
	memset(text + n, 'a', POLICY_RULE_MAX);
	text[n + POLICY_RULE_MAX - 6] = ')';
	text[n + POLICY_RULE_MAX - 5] = '\0';	/* exactly the maximum */

	policy_init(&p);
	assert_int_equal(strlen(text), POLICY_RULE_MAX);
	assert_int_equal(policy_add_rule(&p, POLICY_ALLOW, text, "t", err,
					 sizeof(err)), 0);

	text[n + POLICY_RULE_MAX - 6] = 'a';
	text[n + POLICY_RULE_MAX - 5] = ')';
	text[n + POLICY_RULE_MAX - 4] = '\0';	/* one byte over */
	assert_int_equal(policy_add_rule(&p, POLICY_ALLOW, text, "t", err,
					 sizeof(err)), -1);
	assert_contains(err, "4097 bytes long, more than the maximum of 4096");
	assert_contains(err, "rule \"Read(aaaa");
	assert_int_equal(p.count, 1);
	policy_free(&p);
	free(text);
}

static void test_rule_invalid_decision(void **state)
{
	struct policy p;
	char err[256] = "";

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_rule(&p, (enum policy_decision)7, "Read",
					 "t", err, sizeof(err)), -1);
	assert_contains(err, "invalid decision 7");
	policy_free(&p);
}

static void test_decision_names(void **state)
{
	(void)state;
	assert_string_equal(policy_decision_name(POLICY_ALLOW), "allow");
	assert_string_equal(policy_decision_name(POLICY_ASK), "ask");
	assert_string_equal(policy_decision_name(POLICY_DENY), "deny");
	assert_string_equal(policy_decision_name((enum policy_decision)9),
			    "invalid");
}

/* ---------- globs ---------- */

static const struct {
	const char *pattern;
	const char *path;
	bool match;
} glob_cases[] = {
	{ "a.c", "a.c", true },
	{ "a.c", "b.c", false },
	{ "a.c", "x/a.c", false },
	{ "*.c", "a.c", true },
	{ "*.c", "x/a.c", false },	/* "*" stays within a component */
	{ "*", "a", true },
	{ "*", "a/b", false },
	{ "src/*", "src/a", true },
	{ "src/*", "src", false },
	{ "src/*", "src/a/b", false },
	{ "?.c", "a.c", true },
	{ "?.c", "ab.c", false },
	{ "a?b", "a/b", false },	/* "?" never matches "/" */
	{ "src/**", "src", true },
	{ "src/**", "src/a", true },
	{ "src/**", "src/a/b", true },
	{ "src/**", "srcx/a", false },
	{ "src/**", "other/src/a", false },
	{ "**/*.c", "a.c", true },
	{ "**/*.c", "x/y/a.c", true },
	{ "**/*.c", "x/y/a.h", false },
	{ "**", "", true },
	{ "**", "a/b/c", true },
	{ "a/**/b", "a/b", true },
	{ "a/**/b", "a/x/y/b", true },
	{ "a/**/b", "a/x/y/c", false },
	{ "a/**/b/**/c", "a/1/b/2/3/c", true },
	{ "a/**/b/**/c", "a/b/c", true },
	{ "a/**/b/**/c", "a/c/b", false },
	{ "**/test/**", "x/test/y/z", true },
	{ "a**b", "aXXb", true },	/* not a whole component: two "*" */
	{ "a**b", "a/b", false },
	{ "*", ".env", true },	/* dotfiles match "*" */
	{ "*", ".git", true },
	{ ".*", ".env", true },
	{ "**/.env", ".env", true },
	{ "**/.env", "config/.env", true },
	{ "**/*", ".git/config", true },
	{ "?env", ".env", true },
	{ "[abc].c", "b.c", true },
	{ "[abc].c", "d.c", false },
	{ "[a-z].c", "q.c", true },
	{ "[a-z].c", "Q.c", false },
	{ "[!a-z].c", "Q.c", true },
	{ "[!a-z].c", "q.c", false },
	{ "[^a-z].c", "Q.c", true },
	{ "[]a].c", "].c", true },
	{ "[!]].c", "].c", false },
	{ "[a-].c", "-.c", true },
	{ "[.c", "[.c", true },	/* unterminated class: "[" is literal */
	{ "\\*.c", "*.c", true },
	{ "\\*.c", "a.c", false },
	{ "*.tar.gz", "x.tar.gz", true },
	{ "*a*b", "xxaxxb", true },
	{ "*a*b", "xxaxxbx", false },
	{ "", "", true },
	{ "", "a", false },
	{ "a", "", false },
};

static void test_glob_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(glob_cases); i++) {
		bool got = policy_glob_match(glob_cases[i].pattern,
					     glob_cases[i].path);

		if (got != glob_cases[i].match)
			fail_msg("glob \"%s\" on \"%s\": expected %s",
				 glob_cases[i].pattern, glob_cases[i].path,
				 glob_cases[i].match ? "match" : "no match");
	}
}

/*
 * Patterns that make a naive backtracking matcher exponential. The test
 * checks results only, but with exponential backtracking it would not
 * finish.
 */
static void test_glob_hostile_patterns(void **state)
{
	char path[4096], pattern[512];
	size_t i, o = 0;

	(void)state;
	memset(path, 'a', 200);
	path[200] = '\0';
	assert_false(policy_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", path));
	assert_true(policy_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*", path));

	/* Forty "**" components against a deep path without the last name. */
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(pattern + o, sizeof(pattern) - o, "**/");
	snprintf(pattern + o, sizeof(pattern) - o, "b");
	o = 0;
	for (i = 0; i < 500; i++)
		o += (size_t)snprintf(path + o, sizeof(path) - o, "a/");
	snprintf(path + o, sizeof(path) - o, "c");
	assert_false(policy_glob_match(pattern, path));
	path[o] = 'b';
	assert_true(policy_glob_match(pattern, path));

	/* "**" and "*" mixed, with the match only possible at the very end. */
	assert_false(policy_glob_match("**/*a*a*a*a*a*/**/*a*a*b/x", path));
}

/* ---------- path decisions ---------- */

static void test_path_no_rule_asks(void **state)
{
	struct policy p;
	struct policy_verdict v;

	(void)state;
	policy_init(&p);
	v = policy_decide_path(&p, POLICY_READ, "src/a.c");
	assert_verdict(&v, POLICY_ASK, NULL, "no rule matches");
	add(&p, POLICY_ALLOW, "Read(docs/**)");
	v = policy_decide_path(&p, POLICY_READ, "src/a.c");
	assert_verdict(&v, POLICY_ASK, NULL, "no rule matches");
	policy_free(&p);
}

/* Committed .env templates are not secrets, but every other .env file is. */
static void test_protected_env_templates(void **state)
{
	struct policy p;
	struct policy_verdict v;
	char err[256];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_set_roots(&p, "/w", "/h"), 0);
	assert_int_equal(policy_protected_load(&p, err, sizeof(err)), 0);

	v = policy_decide_path(&p, POLICY_READ, ".env.example");
	assert_verdict(&v, POLICY_ASK, NULL, "no rule matches");
	v = policy_decide_path(&p, POLICY_WRITE, "app/.env.sample");
	assert_verdict(&v, POLICY_ASK, NULL, "no rule matches");
	v = policy_decide_path(&p, POLICY_READ, ".env.local");
	assert_int_equal(v.decision, POLICY_DENY);
	assert_string_equal(v.rule->text, "**/.env.*");
	v = policy_decide_path(&p, POLICY_READ, ".env.example.bak");
	assert_int_equal(v.decision, POLICY_DENY);
	v = policy_decide_path(&p, POLICY_READ, ".env");
	assert_int_equal(v.decision, POLICY_DENY);
	policy_free(&p);
}

static void test_path_folded_narrows_only(void **state)
{
	struct policy p;
	struct policy_verdict v;
	char err[256];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_set_roots(&p, "/w", "/h"), 0);
	assert_int_equal(policy_protected_load(&p, err, sizeof(err)), 0);
	add(&p, POLICY_ALLOW, "Read(docs/*.md)");
	add(&p, POLICY_DENY, "Read(build/out.bin)");
	add(&p, POLICY_ASK, "Read(~/Notes/*)");

	v = policy_decide_path_folded(&p, POLICY_READ, "app/.ENV");
	assert_int_equal(v.decision, POLICY_DENY);
	assert_string_equal(v.rule->text, "**/.env");
	v = policy_decide_path(&p, POLICY_READ, "app/.ENV");
	assert_int_equal(v.decision, POLICY_ASK);
	v = policy_decide_path_folded(&p, POLICY_READ, "/h/.SSH/id_rsa");
	assert_int_equal(v.decision, POLICY_DENY);
	v = policy_decide_path_folded(&p, POLICY_READ, "BUILD/Out.bin");
	assert_int_equal(v.decision, POLICY_DENY);
	v = policy_decide_path_folded(&p, POLICY_READ, "/h/notes/a");
	assert_int_equal(v.decision, POLICY_ASK);
	assert_non_null(v.rule);

	/* Allow rules never match by folded name. */
	v = policy_decide_path_folded(&p, POLICY_READ, "DOCS/a.md");
	assert_verdict(&v, POLICY_ASK, NULL, "no rule matches");
	v = policy_decide_path_folded(&p, POLICY_READ, "docs/a.md");
	assert_int_equal(v.decision, POLICY_ALLOW);
	policy_free(&p);
}

static void test_path_strictest_wins(void **state)
{
	struct policy p;
	struct policy_verdict v;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_DENY, "Read(**/.env)");
	add(&p, POLICY_ALLOW, "Read");
	add(&p, POLICY_ASK, "Read(secrets/**)");
	add(&p, POLICY_ALLOW, "Read(src/**)");

	v = policy_decide_path(&p, POLICY_READ, "src/a.c");
	assert_verdict(&v, POLICY_ALLOW, "Read", NULL);	/* first of the ties */
	v = policy_decide_path(&p, POLICY_READ, ".env");
	assert_verdict(&v, POLICY_DENY, "Read(**/.env)", NULL);
	v = policy_decide_path(&p, POLICY_READ, "src/.env");
	assert_verdict(&v, POLICY_DENY, "Read(**/.env)", NULL);
	v = policy_decide_path(&p, POLICY_READ, "secrets/key");
	assert_verdict(&v, POLICY_ASK, "Read(secrets/**)", NULL);
	policy_free(&p);
}

static void test_path_first_rule_on_tie(void **state)
{
	struct policy p;
	struct policy_verdict v;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_DENY, "Write(*.pem)");
	add(&p, POLICY_DENY, "Write");
	v = policy_decide_path(&p, POLICY_WRITE, "a.pem");
	assert_verdict(&v, POLICY_DENY, "Write(*.pem)", NULL);
	policy_free(&p);
}

static void test_exec_index_first_on_tie(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(git status)");
	add(&p, POLICY_ALLOW, "Exec");
	add(&p, POLICY_ALLOW, "Exec(git:*)");
	assert_command(&p, "git status", POLICY_ALLOW, "Exec(git status)",
		       NULL);
	assert_command(&p, "git log", POLICY_ALLOW, "Exec", NULL);
	policy_free(&p);

	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(git:*)");
	add(&p, POLICY_ALLOW, "Exec(git status)");
	add(&p, POLICY_ASK, "Exec(git push:*)");
	assert_command(&p, "git status", POLICY_ALLOW, "Exec(git:*)", NULL);
	assert_command(&p, "git push origin", POLICY_ASK, "Exec(git push:*)",
		       NULL);
	policy_free(&p);
}

static void test_exec_index_truncate(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(make test)");
	add(&p, POLICY_ALLOW, "Exec(make)");
	add(&p, POLICY_DENY, "Exec(make clean)");
	policy_truncate(&p, 1);
	assert_command(&p, "make test", POLICY_ALLOW, "Exec(make test)", NULL);
	assert_command(&p, "make", POLICY_ASK, NULL, "no rule matches");
	assert_command(&p, "make clean", POLICY_ASK, NULL, "no rule matches");
	add(&p, POLICY_ALLOW, "Exec(make)");
	assert_command(&p, "make", POLICY_ALLOW, "Exec(make)", NULL);
	policy_free(&p);
}

static void test_path_tools_separate(void **state)
{
	struct policy p;
	struct policy_verdict v;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Write(src/**)");
	add(&p, POLICY_ALLOW, "Exec");
	v = policy_decide_path(&p, POLICY_READ, "src/a.c");
	assert_verdict(&v, POLICY_ASK, NULL, "no rule matches");
	v = policy_decide_path(&p, POLICY_WRITE, "src/a.c");
	assert_verdict(&v, POLICY_ALLOW, "Write(src/**)", NULL);
	policy_free(&p);

	policy_init(&p);
	add(&p, POLICY_ALLOW, "Read");
	v = policy_decide_path(&p, POLICY_WRITE, "src/a.c");
	assert_verdict(&v, POLICY_ASK, NULL, "no rule matches");
	v = policy_decide_path(&p, POLICY_EXEC, "src/a.c");
	assert_int_equal(v.decision, POLICY_DENY);
	policy_free(&p);
}

/* ---------- policy files ---------- */

static void test_file_loads_all_sections(void **state)
{
	struct policy p;
	char err[1024] = "", path[512];

	(void)state;
	policy_init(&p);
	write_file("all.json",
		   "{\n"
		   "  \"allow\": [\"Read(src/**)\", \"Exec(git diff:*)\"],\n"
		   "  \"ask\": [\"Write\"],\n"
		   "  \"deny\": [\"Read(**/.env)\"]\n"
		   "}\n", path, sizeof(path));
	assert_int_equal(policy_load_file(&p, path, err, sizeof(err)), 0);
	assert_int_equal(p.count, 4);
	assert_int_equal(p.rules[0].decision, POLICY_ALLOW);
	assert_int_equal(p.rules[2].decision, POLICY_ASK);
	assert_int_equal(p.rules[3].decision, POLICY_DENY);
	assert_string_equal(p.rules[3].source, path);
	unlink(path);
	policy_free(&p);
}

static void test_file_empty_object(void **state)
{
	struct policy p;
	char err[1024] = "";

	(void)state;
	policy_init(&p);
	assert_int_equal(load_text(&p, "{}", err, sizeof(err)), 0);
	assert_int_equal(load_text(&p, " { \"deny\": [] } \n", err,
				   sizeof(err)), 0);
	assert_int_equal(p.count, 0);
	policy_free(&p);
}

/* A user file allows, a project file denies: the deny wins either way. */
static void test_file_layers_deny_wins(void **state)
{
	struct policy p;
	struct policy_verdict v;
	char err[1024] = "", user[512], project[512];

	(void)state;
	write_file("user.json",
		   "{\"allow\": [\"Read\", \"Exec(curl:*)\"]}", user,
		   sizeof(user));
	write_file("project.json",
		   "{\"deny\": [\"Read(.env)\", \"Exec(curl:*)\"]}", project,
		   sizeof(project));

	policy_init(&p);
	assert_int_equal(policy_load_file(&p, user, err, sizeof(err)), 0);
	assert_int_equal(policy_load_file(&p, project, err, sizeof(err)), 0);
	v = policy_decide_path(&p, POLICY_READ, ".env");
	assert_verdict(&v, POLICY_DENY, "Read(.env)", NULL);
	assert_string_equal(v.rule->source, project);
	v = policy_decide_path(&p, POLICY_READ, "README");
	assert_verdict(&v, POLICY_ALLOW, "Read", NULL);
	assert_command(&p, "curl http://127.0.0.1/", POLICY_DENY,
		       "Exec(curl:*)", NULL);
	policy_free(&p);

	unlink(user);
	unlink(project);
}

/* A project allow added after a user deny cannot lift it. */
static void test_file_project_cannot_lift_deny(void **state)
{
	struct policy p;
	struct policy_verdict v;
	char err[1024] = "", user[512], project[512];

	(void)state;
	write_file("user.json", "{\"deny\": [\"Read(**/*.pem)\"]}", user,
		   sizeof(user));
	write_file("project.json",
		   "{\"allow\": [\"Read\", \"Read(keys/*.pem)\"]}", project,
		   sizeof(project));

	policy_init(&p);
	assert_int_equal(policy_load_file(&p, user, err, sizeof(err)), 0);
	assert_int_equal(policy_load_file(&p, project, err, sizeof(err)), 0);
	v = policy_decide_path(&p, POLICY_READ, "keys/server.pem");
	assert_verdict(&v, POLICY_DENY, "Read(**/*.pem)", NULL);
	assert_string_equal(v.rule->source, user);
	policy_free(&p);

	unlink(user);
	unlink(project);
}

static const struct {
	const char *name;
	const char *content;
	const char *parts[3];	/* each must appear in the error */
} bad_files[] = {
	{ "unknown key", "{\"allow\": [], \"denied\": [\"Read\"]}",
	  { ":1:15: unknown key \"denied\"", "\"allow\", \"ask\", \"deny\"", NULL } },
	{ "key with a trailing space", "{\"deny \": [\"Read(.env)\"]}",
	  { "unknown key \"deny \"", NULL, NULL } },
	{ "key with control character", "{\"\\u001b[2J\": []}",
	  { "unknown key \"\\u001b[2J\"", NULL, NULL } },
	{ "number entry", "{\"allow\": [\"Read\", 42]}",
	  { "\"allow\"[1]", "not 42", "rule string" } },
	{ "object entry", "{\"deny\": [{\"rule\": \"Read\"}]}",
	  { "\"deny\"[0]", "not {\"rule\":\"Read\"}", NULL } },
	{ "null entry", "{\"ask\": [null]}", { "\"ask\"[0]", "not null", NULL } },
	{ "string section", "{\"allow\": \"Read\"}",
	  { "\"allow\" must be an array", "not \"Read\"", NULL } },
	{ "bad rule", "{\"allow\": [\"Read\", \"Raed(src/**)\"]}",
	  { "\"allow\"[1]", "unknown tool \"Raed\"", "Raed(src/**)" } },
	{ "bad absolute rule", "{\"deny\": [\"Read(/etc/../shadow)\"]}",
	  { "\"deny\"[0]", ":1:11:", "\"..\" components" } },
	{ "unprotect outside the user file", "{\"unprotect\": [\"**/.env\"]}",
	  { ":1:2:", "only in the user file", NULL } },
	{ "trusted outside the user file", "{\"trusted\": [\"/x\"]}",
	  { ":1:2:", "cannot trust itself", NULL } },
	{ "failing example", "{\"allow\": [\"Exec(ls:*)\"],\n \"examples\": {\"deny\": [\"Exec(ls -l)\"]}}",
	  { ":2:24:", "example \"Exec(ls -l)\" expects deny but gets allow", "Exec(ls:*)" } },
	{ "bad example", "{\"examples\": {\"allow\": [\"Exec ls\"]}}",
	  { ":1:25:", "invalid request", NULL } },
	{ "unknown example key", "{\"examples\": {\"allowed\": []}}",
	  { ":1:15:", "unknown key \"allowed\" in \"examples\"", NULL } },
	{ "duplicate key", "{\"deny\": [\"Read\"], \"deny\": []}",
	  { "key \"deny\" appears twice", NULL, NULL } },
	{ "top-level array", "[\"Read\"]",
	  { "expected a JSON object", NULL, NULL } },
	{ "not JSON", "{\n  \"allow\": [\"Read\",]\n}\n",
	  { ":2:", "invalid JSON", NULL } },
	{ "empty file", "", { ":1:1: invalid JSON", NULL, NULL } },
	{ "trailing text", "{} {}", { "invalid JSON", NULL, NULL } },
	{ "NUL escape", "{\"deny\": [\"Read(.env)\\u0000x\"]}",
	  { ":1:", "NUL character", NULL } },
	{ "long value cut", "{\"allow\": [[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]]}",
	  { "\"allow\"[0]", "aaaa...", NULL } },
};

static void test_file_errors(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad_files); i++) {
		struct policy p;
		char err[1024] = "";

		policy_init(&p);
		if (load_text(&p, bad_files[i].content, err, sizeof(err)) == 0)
			fail_msg("%s: file was accepted", bad_files[i].name);
		assert_contains(err, tmpdir);	/* names the file */
		for (k = 0; k < 3 && bad_files[i].parts[k]; k++) {
			if (!strstr(err, bad_files[i].parts[k]))
				fail_msg("%s: expected \"%s\" in \"%s\"",
					 bad_files[i].name,
					 bad_files[i].parts[k], err);
		}
		assert_int_equal(p.count, 0);
		policy_free(&p);
	}
}

static void test_file_escaped_backslash_u0000_ok(void **state)
{
	struct policy p;
	char err[1024] = "";

	(void)state;
	policy_init(&p);
	/* "\\u0000" is a backslash followed by text, not a NUL. */
	assert_int_equal(load_text(&p, "{\"deny\": [\"Read(a\\\\u0000)\"]}",
				   err, sizeof(err)), 0);
	assert_string_equal(p.rules[0].pattern, "a\\u0000");
	policy_free(&p);
}

static void test_file_error_keeps_earlier_rules(void **state)
{
	struct policy p;
	char err[1024] = "";

	(void)state;
	policy_init(&p);
	add(&p, POLICY_DENY, "Read(.env)");
	assert_int_equal(load_text(&p,
				   "{\"allow\": [\"Read\", \"Write\", \"Bad\"]}",
				   err, sizeof(err)), -1);
	assert_contains(err, "\"allow\"[2]");
	assert_int_equal(p.count, 1);	/* the file added nothing */
	assert_string_equal(p.rules[0].text, "Read(.env)");
	policy_free(&p);
}

static void test_file_missing(void **state)
{
	struct policy p;
	char err[1024] = "", path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/no-such-policy.json", tmpdir);
	policy_init(&p);
	assert_int_equal(policy_load_file(&p, path, err, sizeof(err)), -1);
	assert_contains(err, path);
	assert_contains(err, "No such file or directory");
	policy_free(&p);
}

static void test_file_directory_rejected(void **state)
{
	struct policy p;
	char err[1024] = "";

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_load_file(&p, tmpdir, err, sizeof(err)), -1);
	assert_contains(err, "not a regular file");
	policy_free(&p);
}

static void test_file_too_large(void **state)
{
	struct policy p;
	char err[1024] = "", path[512];
	FILE *f;
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/big.json", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"allow\": [", f);
	for (i = 0; i < POLICY_FILE_MAX / 10; i++)
		fputs("\"Read\",   ", f);
	fputs("\"Read\"]}", f);
	assert_int_equal(fclose(f), 0);

	policy_init(&p);
	assert_int_equal(policy_load_file(&p, path, err, sizeof(err)), -1);
	assert_contains(err, path);
	assert_contains(err, "maximum of 1048576");
	assert_int_equal(p.count, 0);
	policy_free(&p);
	unlink(path);
}

/* ---------- shell lexer ---------- */

static const struct {
	const char *command;
	const char *expected;
} split_cases[] = {
	/* agent */
	{ "cd /testbed && find . -path \"*/separable*\" -type f | head -20",
	  "cd,/testbed | find,.,-path,*/separable*,-type,f | head,-20" },
	/* agent */
	{ "cd /testbed && pip install -e . 2>&1 | tail -5",
	  "cd,/testbed | pip,install,-e,. | tail,-5" },
	/* agent */
	{ "grep -r \"ASCIIUsernameValidator\\|UnicodeUsernameValidator\" --include=\"*.py\" . | grep -v \"__pycache__\" | head -20",
	  "grep,-r,ASCIIUsernameValidator\\|UnicodeUsernameValidator,--include=*.py,. | grep,-v,__pycache__ | head,-20" },
	/* agent */
	{ "find . -name \"*.py\" -type f -exec grep -l \"class.*RegexValidator\" {} \\; | grep -v \"__pycache__\" | grep -v \"test_\" | head -10",
	  "find,.,-name,*.py,-type,f,-exec,grep,-l,class.*RegexValidator,{},; | grep,-v,__pycache__ | grep,-v,test_ | head,-10" },
	/* agent */
	{ "cd /testbed && sed -i 's/cright\\[-right.shape\\[0\\]:, -right.shape\\[1\\]:\\] = 1/cright[-right.shape[0]:, -right.shape[1]:] = right/' astropy/modeling/separable.py",
	  "cd,/testbed | sed,-i,s/cright\\[-right.shape\\[0\\]:, -right.shape\\[1\\]:\\] = 1/cright[-right.shape[0]:, -right.shape[1]:] = right/,astropy/modeling/separable.py" },
	/* agent */
	{ "pip uninstall astropy -y 2>&1; cd /testbed && PYTHONPATH=/testbed python -c \"\n"
	  "import sys\n"
	  "# Skip the top-level astropy init to avoid erfa issue\n"
	  "# Let's directly import the modeling module\n"
	  "sys.path.insert(0, '/testbed')\n"
	  "# Try importing just the separable module directly\n"
	  "import importlib.util\n"
	  "spec = importlib.util.spec_from_file_location('separable', '/testbed/astropy/modeling/separable.py')\n"
	  "\" 2>&1",
	  "pip,uninstall,astropy,-y | cd,/testbed | python,-c,\n"
	  "import sys\n"
	  "# Skip the top-level astropy init to avoid erfa issue\n"
	  "# Let's directly import the modeling module\n"
	  "sys.path.insert(0, '/testbed')\n"
	  "# Try importing just the separable module directly\n"
	  "import importlib.util\n"
	  "spec = importlib.util.spec_from_file_location('separable', '/testbed/astropy/modeling/separable.py')\n" },
	/* agent: the here-document body is skipped, not lexed */
	{ "cat > ./django/contrib/auth/validators.py << 'EOF'\n"
	  "import re\n"
	  "\n"
	  "from django.core import validators\n"
	  "from django.utils.deconstruct import deconstructible\n"
	  "from django.utils.translation import gettext_lazy as _\n"
	  "\n"
	  "\n"
	  "@deconstructible\n"
	  "class ASCIIUsernameValidator(validators.RegexValidator):\n"
	  "    regex = r'\\A[\\w.@+-]+\\Z'\n"
	  "    message = _(\n"
	  "        'Enter a valid username. This value may contain only English letters, '\n"
	  "        'numbers, and @/./+/-/_ characters.'\n"
	  "    )\n"
	  "    flags = re.ASCII\n"
	  "\n"
	  "\n"
	  "@deconstructible\n"
	  "class UnicodeUsernameValidator(validators.RegexValidator):\n"
	  "    regex = r'\\A[\\w.@+-]+\\Z'\n"
	  "    message = _(\n"
	  "        'Enter a valid username. This value may contain only letters, '\n"
	  "        'numbers, and @/./+/-/_ characters.'\n"
	  "    )\n"
	  "    flags = 0\n"
	  "EOF",
	  "cat" },
	{ "cat <<-END\n\tls; rm x\n\tEND\necho done", "cat | echo,done" },
	{ "cat <<A <<B\na body\nA\nb body\nB\nls", "cat | ls" },
	{ "echo 'a;b'", "echo,a;b" },
	{ "echo \"a && b\" 'c | d'", "echo,a && b,c | d" },
	{ "echo a\\;b", "echo,a;b" },
	{ "a;b&&c||d|e&f\ng|&h", "a | b | c | d | e | f | g | h" },
	{ "git \"diff\" 'HEAD'", "git,diff,HEAD" },
	{ "g\"i\"t di\\ff", "git,diff" },
	{ "echo \"a\\\"b\" 'c\\d'", "echo,a\"b,c\\d" },
	{ "echo \"\\$HOME\"", "echo,$HOME" },
	{ "echo ''", "echo," },
	{ "  make   test  ", "make,test" },
	{ "FOO=1 BAR=\"a b\" make test", "make,test" },
	{ "make CC=gcc", "make,CC=gcc" },
	{ "\"FOO=1\" make", "FOO=1,make" },
	{ "ls # comment; rm -rf x", "ls" },
	{ "ls # c\npwd", "ls | pwd" },
	{ "echo a#b", "echo,a#b" },
	{ "echo one\\\ntwo", "echo,onetwo" },
	{ "echo hi > out.txt 2>&1", "echo,hi" },
	{ "echo 2 > x", "echo,2" },
	{ "echo a>b", "echo,a" },
	{ "(cd sub && make)", "cd,sub | make" },
	{ "if curl x; then ls; else pwd; fi", "curl,x | ls | pwd" },
	{ "while true; do make; done", "true | make" },
	{ "! grep x f", "grep,x,f" },
	{ "a && { b; c; }", "a | b | c" },
	{ "time make", "make" },
	{ "'if' x", "if,x" },
	{ "echo if then", "echo,if,then" },
	{ "for f in *.py; do python $f; done", "for,f,in,*.py | python,$f" },
	{ "echo $'a b'", "echo,a b" },
	{ "echo $\"x y\"", "echo,x y" },
	{ "echo $(date; rm -rf x)", "date | rm,-rf,x | echo,$(date; rm -rf x)" },
	{ "echo `id`", "id | echo,`id`" },
	{ "diff <(ls a) >(wc)", "ls,a | wc | diff,<(ls a),>(wc)" },
	{ "echo \"$(whoami)\"", "whoami | echo,$(whoami)" },
	{ "", "" },
	{ "   \t ", "" },
	{ ";;&&", "" },
};

static void test_split_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(split_cases); i++)
		assert_split(split_cases[i].command, split_cases[i].expected);
}

static void test_split_assignments(void **state)
{
	struct policy_command_list l;

	(void)state;
	assert_int_equal(policy_shell_split("FOO=1 BAR+=x make X=2", &l), 0);
	assert_int_equal(l.count, 1);
	assert_int_equal(l.cmds[0].nassigns, 2);
	assert_string_equal(l.cmds[0].assigns[0].text, "FOO=1");
	assert_string_equal(l.cmds[0].assigns[1].text, "BAR+=x");
	assert_int_equal(l.cmds[0].nwords, 2);
	assert_string_equal(l.cmds[0].words[1].text, "X=2");
	policy_command_list_free(&l);

	/* An assignment alone is a simple command without words. */
	assert_int_equal(policy_shell_split("X=1; ls", &l), 0);
	assert_int_equal(l.count, 2);
	assert_int_equal(l.cmds[0].nwords, 0);
	assert_int_equal(l.cmds[0].nassigns, 1);
	policy_command_list_free(&l);
}

static const struct {
	const char *command;
	enum policy_redir_kind kind;
	const char *target;
} redir_cases[] = {
	{ "cmd > f", POLICY_REDIR_FILE, "f" },
	{ "cmd >> f", POLICY_REDIR_FILE, "f" },
	{ "cmd >| f", POLICY_REDIR_FILE, "f" },
	{ "cmd < f", POLICY_REDIR_FILE, "f" },
	{ "cmd <> f", POLICY_REDIR_FILE, "f" },
	{ "cmd 2> f", POLICY_REDIR_FILE, "f" },
	{ "cmd 2>>f", POLICY_REDIR_FILE, "f" },
	{ "cmd &> f", POLICY_REDIR_FILE, "f" },
	{ "cmd &>> f", POLICY_REDIR_FILE, "f" },
	{ "cmd >&f", POLICY_REDIR_FILE, "f" },
	{ "cmd > 'a b'", POLICY_REDIR_FILE, "a b" },
	{ "cmd 2>&1", POLICY_REDIR_DUP, "1" },
	{ "cmd >&2", POLICY_REDIR_DUP, "2" },
	{ "cmd <&0", POLICY_REDIR_DUP, "0" },
	{ "cmd >&-", POLICY_REDIR_DUP, "-" },
	{ "cmd 3>&1-", POLICY_REDIR_DUP, "1-" },
	{ "cmd <<< word", POLICY_REDIR_HERESTRING, "word" },
	{ "cmd << EOF\nx\nEOF", POLICY_REDIR_HEREDOC, "EOF" },
	{ "cmd <<'EOF'\nx\nEOF", POLICY_REDIR_HEREDOC, "EOF" },
	{ "cmd <<-EOF\n\tx\n\tEOF", POLICY_REDIR_HEREDOC, "EOF" },
};

static void test_split_redirections(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(redir_cases); i++) {
		struct policy_command_list l;

		assert_int_equal(policy_shell_split(redir_cases[i].command,
						    &l), 0);
		if (l.count != 1 || l.cmds[0].nredirs != 1 ||
		    l.cmds[0].nwords != 1)
			fail_msg("\"%s\": expected one command with one word and one redirection",
				 redir_cases[i].command);
		assert_string_equal(l.cmds[0].words[0].text, "cmd");
		assert_int_equal(l.cmds[0].redirs[0].kind,
				 redir_cases[i].kind);
		assert_string_equal(l.cmds[0].redirs[0].target.text,
				    redir_cases[i].target);
		assert_null(l.unjudged);
		policy_command_list_free(&l);
	}
}

static const struct {
	const char *command;
	bool dynamic;
} dynamic_cases[] = {
	{ "x", false },
	{ "'$X'", false },
	{ "\\$X", false },
	{ "'a*'", false },
	{ "$'abc'", false },
	{ "a/b.c", false },
	{ "$X", true },
	{ "\"$X\"", true },
	{ "${X}", true },
	{ "a*", true },
	{ "a?", true },
	{ "[ab]", true },
	{ "cu{rl,}", true },
	{ "~/bin/x", true },
	{ "$'\\x63url'", false },	/* decoded to "curl" */
	{ "$'\\cA'", true },
	{ "$(echo x)", true },
};

static void test_split_dynamic_words(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(dynamic_cases); i++) {
		struct policy_command_list l;

		assert_int_equal(policy_shell_split(dynamic_cases[i].command,
						    &l), 0);
		assert_true(l.count >= 1);
		if (l.cmds[l.count - 1].words[0].dynamic !=
		    dynamic_cases[i].dynamic)
			fail_msg("\"%s\": expected %s", dynamic_cases[i].command,
				 dynamic_cases[i].dynamic ? "dynamic" :
				 "literal");
		policy_command_list_free(&l);
	}
}

static const struct {
	const char *command;
	const char *unjudged;	/* part of list.unjudged, or NULL */
} unjudged_cases[] = {
	{ "ls -la", NULL },
	{ "echo $(id)", "command substitution" },
	{ "echo \"`id`\"", "command substitution" },
	{ "echo ${X:-$(id)}", "command substitution" },
	{ "diff <(ls a) <(ls b)", "process substitution" },
	{ "tee >(wc)", "process substitution" },
	{ "echo 'abc", "unterminated quote" },
	{ "echo \"abc", "unterminated quote" },
	{ "echo $'abc", "unterminated quote" },
	{ "echo $(ls", "unterminated substitution" },
	{ "echo ${X", "unterminated parameter expansion" },
	{ "echo >", "redirection without a target" },
	{ "echo > ; ls", "redirection without a target" },
	{ "echo $((1 + 2))", NULL },
	{ "echo $(( $(id) + 2 ))", "command substitution" },
	{ "[[ -f a ]]", NULL },
	{ "[[ -f a", "closing ]]" },
	{ "case x in a) ls;; esac", "case" },
	{ "f() { ls; }", "function definition" },
};

static void test_split_unjudged(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(unjudged_cases); i++) {
		struct policy_command_list l;

		assert_int_equal(policy_shell_split(unjudged_cases[i].command,
						    &l), 0);
		if (!unjudged_cases[i].unjudged && l.unjudged)
			fail_msg("\"%s\": unexpected \"%s\"",
				 unjudged_cases[i].command, l.unjudged);
		if (unjudged_cases[i].unjudged) {
			if (!l.unjudged)
				fail_msg("\"%s\": nothing noted",
					 unjudged_cases[i].command);
			assert_contains(l.unjudged,
					unjudged_cases[i].unjudged);
		}
		policy_command_list_free(&l);
	}
}

static void test_split_deep_nesting(void **state)
{
	struct policy_command_list l;
	char command[512];
	size_t i, o = 0;

	(void)state;
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(command + o, sizeof(command) - o, "$(");
	o += (size_t)snprintf(command + o, sizeof(command) - o, "ls");
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(command + o, sizeof(command) - o, ")");
	assert_int_equal(policy_shell_split(command, &l), 0);
	assert_non_null(l.unjudged);
	policy_command_list_free(&l);
}

/* ---------- command decisions ---------- */

static void test_command_prefix_word_boundary(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(git diff:*)");
	assert_command(&p, "git diff", POLICY_ALLOW, "Exec(git diff:*)", NULL);
	assert_command(&p, "git diff --stat", POLICY_ALLOW, "Exec(git diff:*)",
		       NULL);
	assert_command(&p, "git   diff  HEAD~1", POLICY_ALLOW,
		       "Exec(git diff:*)", NULL);
	assert_command(&p, "git difftool", POLICY_ASK, NULL, "no rule matches");
	assert_command(&p, "git", POLICY_ASK, NULL, "no rule matches");
	assert_command(&p, "git log", POLICY_ASK, NULL, "no rule matches");
	assert_command(&p, "/usr/bin/git diff", POLICY_ASK, NULL,
		       "no rule matches");
	policy_free(&p);
}

static void test_command_exact_match(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(make test)");
	assert_command(&p, "make test", POLICY_ALLOW, "Exec(make test)", NULL);
	assert_command(&p, "  make \t test ", POLICY_ALLOW, "Exec(make test)",
		       NULL);
	assert_command(&p, "make 'test'", POLICY_ALLOW, "Exec(make test)",
		       NULL);
	assert_command(&p, "make test2", POLICY_ASK, NULL, "no rule matches");
	assert_command(&p, "make test install", POLICY_ASK, NULL,
		       "no rule matches");
	assert_command(&p, "make", POLICY_ASK, NULL, "no rule matches");
	policy_free(&p);
}

static void test_command_bare_exec(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec");
	assert_command(&p, "anything --at all", POLICY_ALLOW, "Exec", NULL);
	policy_free(&p);
}

static const char *const separators[] = { ";", "&&", "||", "|", "&", "\n",
					  "|&" };

/* Whatever joins the commands, an unmatched one asks and a denied one denies. */
static void test_command_chained_bypass(void **state)
{
	struct policy p;
	char command[128];
	size_t i;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(git diff:*)");
	for (i = 0; i < ARRAY_LEN(separators); i++) {
		snprintf(command, sizeof(command), "git diff%s curl x",
			 separators[i]);
		assert_command(&p, command, POLICY_ASK, NULL,
			       "no rule matches");
	}
	add(&p, POLICY_DENY, "Exec(curl:*)");
	for (i = 0; i < ARRAY_LEN(separators); i++) {
		snprintf(command, sizeof(command), "git diff%s curl x",
			 separators[i]);
		assert_command(&p, command, POLICY_DENY, "Exec(curl:*)", NULL);
		snprintf(command, sizeof(command), "curl x%sgit diff",
			 separators[i]);
		assert_command(&p, command, POLICY_DENY, "Exec(curl:*)", NULL);
	}
	policy_free(&p);
}

static void test_command_quotes_keep_separators(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(echo:*)");
	add(&p, POLICY_DENY, "Exec(curl:*)");
	assert_command(&p, "echo 'a; curl x'", POLICY_ALLOW, "Exec(echo:*)",
		       NULL);
	assert_command(&p, "echo \"a && curl x\"", POLICY_ALLOW,
		       "Exec(echo:*)", NULL);
	assert_command(&p, "echo a \\| curl x", POLICY_ALLOW, "Exec(echo:*)",
		       NULL);
	assert_command(&p, "echo a # ; curl x", POLICY_ALLOW, "Exec(echo:*)",
		       NULL);
	policy_free(&p);
}

static void test_command_substitution_asks(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(git diff:*)");
	add(&p, POLICY_ALLOW, "Exec(ls:*)");
	add(&p, POLICY_ALLOW, "Exec(diff:*)");
	assert_command(&p, "git diff $(ls)", POLICY_ASK, NULL,
		       "command substitution cannot be judged statically");
	assert_command(&p, "git diff `ls`", POLICY_ASK, NULL,
		       "command substitution");
	assert_command(&p, "git diff \"$(ls)\"", POLICY_ASK, NULL,
		       "command substitution");
	assert_command(&p, "diff <(ls a) <(ls b)", POLICY_ASK, NULL,
		       "process substitution");
	policy_free(&p);
}

/* A deny inside a substitution is still seen, and ask never lowers it. */
static void test_command_substitution_keeps_deny(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec");
	add(&p, POLICY_DENY, "Exec(curl:*)");
	assert_command(&p, "echo $(curl x)", POLICY_DENY, "Exec(curl:*)",
		       NULL);
	assert_command(&p, "echo `curl x`", POLICY_DENY, "Exec(curl:*)", NULL);
	assert_command(&p, "cat <(curl x)", POLICY_DENY, "Exec(curl:*)", NULL);
	assert_command(&p, "curl 'x", POLICY_DENY, "Exec(curl:*)", NULL);
	policy_free(&p);
}

static const struct {
	const char *command;
	const char *reason;
} unjudged_commands[] = {
	{ "eval git diff", "eval" },
	{ "exec git diff", "exec" },
	{ "source env.sh", "source" },
	{ ". ./env.sh", "source" },
	{ "command eval ls", "eval" },
	{ "builtin -p eval ls", "eval" },
	{ "sh -c 'curl x'", "sh -c" },
	{ "bash -c 'ls'", "sh -c" },
	{ "bash -ec ls", "sh -c" },
	{ "/bin/sh -c ls", "sh -c" },
	{ "env FOO=1 sh -c ls", "sh -c" },
	{ "env -i bash --norc -c ls", "sh -c" },
	{ "timeout 5 dash -c ls", "sh -c" },
	{ "find . -exec sh -c 'rm {}' \\;", "sh -c" },
	{ "echo 'abc", "unterminated quote" },
	{ "echo \"abc", "unterminated quote" },
	{ "echo hi >> ../x", "leaves the workspace" },
	{ "echo hi > a/../../x", "leaves the workspace" },
	{ "cd sub && echo hi > x", "after \"cd\"" },
	{ "echo hi > ~/.bashrc", "redirection target that comes from an expansion" },
	{ "echo hi > $HOME/x", "redirection target that comes from an expansion" },
	{ "bash << EOF\nrm -rf x\nEOF", "here-document" },
	{ "sh -s <<< 'rm -rf x'", "here-document" },
	{ "bash - <<'EOF'\nls\nEOF", "here-document" },
	{ "cat << EOF\n$(curl x)\nEOF", "command substitution" },
	{ "env -S 'ls -l' x", "env -S" },
	{ "PATH=/tmp/evil git diff", "PATH, LD_PRELOAD" },
	{ "LD_PRELOAD=/tmp/x.so git diff", "PATH, LD_PRELOAD" },
	{ "LD_LIBRARY_PATH=. git diff", "PATH, LD_PRELOAD" },
	{ "BASH_ENV=x git diff", "PATH, LD_PRELOAD" },
	{ "ENV=x git diff", "PATH, LD_PRELOAD" },
	{ "IFS=/ git diff", "PATH, LD_PRELOAD" },
	{ "GIT_EXTERNAL_DIFF=./x git diff", "PATH, LD_PRELOAD" },
	{ "env PATH=/tmp git diff", "PATH, LD_PRELOAD" },
	{ "PATH=/tmp; git diff", "PATH, LD_PRELOAD" },
	{ "$CMD x", "command name that comes from an expansion" },
	{ "$'\\u0063url' x", "command name that comes from an expansion" },
	{ "cu?l x", "command name that comes from an expansion" },
};

/* With every command allowed, each construct still raises to ask. */
static void test_command_unjudged_constructs(void **state)
{
	struct policy p;
	size_t i;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec");
	add(&p, POLICY_ALLOW, "Read");
	add(&p, POLICY_ALLOW, "Write");
	for (i = 0; i < ARRAY_LEN(unjudged_commands); i++)
		assert_command(&p, unjudged_commands[i].command, POLICY_ASK,
			       NULL, unjudged_commands[i].reason);
	policy_free(&p);
}

static const char *const judged_commands[] = {
	"echo hi > out.txt",
	"echo hi >> logs/out.txt 2>&1",
	"echo hi > /dev/null 2>&1",
	"find / -name \"erfa*\" -type f 2>/dev/null | head -10",	/* agent */
	"cat < src/a.c",
	"FOO=1 CC=gcc make test",
	"GIT_PAGER=cat git log",
	"make PATH=x",	/* an argument, not an assignment */
	"bash script.sh",
	"grep -c bash file",
	"echo $HOME",
	"ls *.c",
	"cd /testbed && cat astropy/modeling/separable.py",	/* agent */
	"cat << EOF\nhi $HOME\nEOF",
	"cat <<< hi",
	"[[ -f a && -d b ]] && make",
	"(( i > 2 )) && make",
	"echo $((1 + 2))",
	"for f in a b; do echo $f; done",
};

static void test_command_judged_constructs(void **state)
{
	struct policy p;
	size_t i;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec");
	add(&p, POLICY_ALLOW, "Read");
	add(&p, POLICY_ALLOW, "Write");
	for (i = 0; i < ARRAY_LEN(judged_commands); i++)
		assert_command(&p, judged_commands[i], POLICY_ALLOW, "Exec",
			       NULL);
	policy_free(&p);
}

static void test_command_assignment_stripped(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(make test)");
	assert_command(&p, "CFLAGS=-O0 make test", POLICY_ALLOW,
		       "Exec(make test)", NULL);
	assert_command(&p, "PATH=. make test", POLICY_ASK, NULL,
		       "PATH, LD_PRELOAD");
	policy_free(&p);
}

static void test_command_cd_needs_rule(void **state)
{
	struct policy p;
	const char *command = "cd /testbed && find . -path \"*/separable*\" -type f | head -20";	/* agent */

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(find:*)");
	add(&p, POLICY_ALLOW, "Exec(head:*)");
	assert_command(&p, command, POLICY_ASK, NULL, "no rule matches");
	add(&p, POLICY_ALLOW, "Exec(cd:*)");
	/* All three are allowed; the first command's rule decides the tie. */
	assert_command(&p, command, POLICY_ALLOW, "Exec(cd:*)", NULL);
	policy_free(&p);
}

/* A quoted here-document is data for cat; the file it writes is judged. */
static void test_command_agent_heredoc_write(void **state)
{
	struct policy p;
	/* agent, cut to its first and last lines */
	const char *command = "cat > test_username_validator.py << 'EOF'\n"
			      "import re\n"
			      "EOF";

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(cat:*)");
	add(&p, POLICY_DENY, "Exec(import:*)");
	assert_command(&p, command, POLICY_ASK, NULL, "no rule matches");
	add(&p, POLICY_ALLOW, "Write(*.py)");
	assert_command(&p, command, POLICY_ALLOW, "Exec(cat:*)", NULL);
	add(&p, POLICY_DENY, "Write(test_*)");
	assert_command(&p, command, POLICY_DENY, "Write(test_*)", NULL);
	policy_free(&p);
}

static void test_command_empty_denied(void **state)
{
	static const char *const empty[] = { "", "   ", "\t\n", ";", "# x",
					     "X=1", "> out.txt" };
	struct policy p;
	size_t i;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec");
	for (i = 0; i < ARRAY_LEN(empty); i++)
		assert_command(&p, empty[i], POLICY_DENY, NULL,
			       "no program to run");
	policy_free(&p);
}

static void test_command_too_long_denied(void **state)
{
	struct policy p;
	char *command = malloc(POLICY_COMMAND_MAX + 2);

	(void)state;
	assert_non_null(command);
	memset(command, 'a', POLICY_COMMAND_MAX + 1);
	command[POLICY_COMMAND_MAX + 1] = '\0';
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec");
	assert_command(&p, command, POLICY_DENY, NULL, "longer");
	policy_free(&p);
	free(command);
}

/* Deny and ask rules also catch what could turn into their command. */
static void test_command_deny_matches_conservatively(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec");
	add(&p, POLICY_DENY, "Exec(curl:*)");
	add(&p, POLICY_DENY, "Exec(git push:*)");
	add(&p, POLICY_DENY, "Exec(rm -rf build)");
	assert_command(&p, "/usr/bin/curl x", POLICY_DENY, "Exec(curl:*)",
		       NULL);
	assert_command(&p, "./curl x", POLICY_DENY, "Exec(curl:*)", NULL);
	assert_command(&p, "$C x", POLICY_DENY, "Exec(curl:*)", NULL);
	assert_command(&p, "git $P origin", POLICY_DENY, "Exec(git push:*)",
		       NULL);
	assert_command(&p, "git pu* origin", POLICY_DENY, "Exec(git push:*)",
		       NULL);
	assert_command(&p, "rm $ARGS", POLICY_DENY, "Exec(rm -rf build)",
		       NULL);
	assert_command(&p, "rm -rf build", POLICY_DENY, "Exec(rm -rf build)",
		       NULL);
	assert_command(&p, "rm -rf build2", POLICY_ALLOW, "Exec", NULL);
	assert_command(&p, "if curl x; then :; fi", POLICY_DENY,
		       "Exec(curl:*)", NULL);
	assert_command(&p, "{ curl x; }", POLICY_DENY, "Exec(curl:*)", NULL);
	assert_command(&p, "nohup curl x", POLICY_DENY, "Exec(curl:*)", NULL);
	assert_command(&p, "env -i FOO=1 curl x", POLICY_DENY, "Exec(curl:*)",
		       NULL);
	assert_command(&p, "xargs -n1 curl < urls", POLICY_DENY,
		       "Exec(curl:*)", NULL);
	assert_command(&p, "timeout 5 git push origin", POLICY_DENY,
		       "Exec(git push:*)", NULL);
	assert_command(&p, "grep curl notes.txt", POLICY_ALLOW, "Exec", NULL);
	assert_command(&p, "git pull", POLICY_ALLOW, "Exec", NULL);
	policy_free(&p);
}

/* Allow rules compare literally: a path or an expansion is not the command. */
static void test_command_allow_matches_literally(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ALLOW, "Exec(git diff:*)");
	assert_command(&p, "./git diff", POLICY_ASK, NULL, "no rule matches");
	assert_command(&p, "git $X", POLICY_ASK, NULL, "no rule matches");
	assert_command(&p, "git dif?", POLICY_ASK, NULL, "no rule matches");
	assert_command(&p, "nohup git diff", POLICY_ASK, NULL,
		       "no rule matches");
	policy_free(&p);
}

static void test_command_strictest_and_ties(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add(&p, POLICY_ASK, "Exec(npm:*)");
	add(&p, POLICY_ASK, "Exec(npm install:*)");
	add(&p, POLICY_ALLOW, "Exec(ls:*)");
	assert_command(&p, "npm install x", POLICY_ASK, "Exec(npm:*)", NULL);
	assert_command(&p, "ls && npm test", POLICY_ASK, "Exec(npm:*)", NULL);
	/* A construct replaces an ask rule as the reason to show. */
	assert_command(&p, "npm test $(ls)", POLICY_ASK, NULL,
		       "command substitution");
	policy_free(&p);
}

/* ---------- digest ---------- */

static void test_digest_known_value(void **state)
{
	struct policy p;
	char hex[65];

	(void)state;
	policy_init(&p);
	policy_digest(&p, hex);
	/* sha256 of the empty string */
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

	/* sha256 of the canonical text of the two rules below, from sha256sum */
	add(&p, POLICY_ALLOW, "Read(src/**)");
	add(&p, POLICY_DENY, "Exec(curl:*)");
	policy_digest(&p, hex);
	assert_string_equal(hex, "abfd13e19f1bbabb2c009b1e845df0fcefa01be777aee1f39c24c3c9a97bbedf");
	policy_free(&p);
}

static void test_digest_order_and_decision(void **state)
{
	struct policy a, b, c;
	char ha[65], hb[65], hc[65];
	char err[256];

	(void)state;
	policy_init(&a);
	policy_init(&b);
	policy_init(&c);
	add(&a, POLICY_ALLOW, "Read");
	add(&a, POLICY_DENY, "Write");
	add(&b, POLICY_DENY, "Write");
	add(&b, POLICY_ALLOW, "Read");
	add(&c, POLICY_ASK, "Read");
	add(&c, POLICY_DENY, "Write");
	policy_digest(&a, ha);
	policy_digest(&b, hb);
	policy_digest(&c, hc);
	assert_string_not_equal(ha, hb);
	assert_string_not_equal(ha, hc);

	/* The source is not part of the digest. */
	policy_free(&b);
	policy_init(&b);
	assert_int_equal(policy_add_rule(&b, POLICY_ALLOW, "Read", "x.json",
					 err, sizeof(err)), 0);
	assert_int_equal(policy_add_rule(&b, POLICY_DENY, "Write", NULL, err,
					 sizeof(err)), 0);
	policy_digest(&b, hb);
	assert_string_equal(ha, hb);
	policy_free(&a);
	policy_free(&b);
	policy_free(&c);
}

/* ---------- runner ---------- */

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_parse_accepts),
		cmocka_unit_test(test_rule_exec_words_unquoted),
		cmocka_unit_test(test_rule_source_recorded),
		cmocka_unit_test(test_rule_parse_rejects),
		cmocka_unit_test(test_rule_error_escapes_control),
		cmocka_unit_test(test_rule_too_long),
		cmocka_unit_test(test_rule_invalid_decision),
		cmocka_unit_test(test_decision_names),
		cmocka_unit_test(test_glob_table),
		cmocka_unit_test(test_glob_hostile_patterns),
		cmocka_unit_test(test_path_no_rule_asks),
		cmocka_unit_test(test_protected_env_templates),
		cmocka_unit_test(test_path_folded_narrows_only),
		cmocka_unit_test(test_path_strictest_wins),
		cmocka_unit_test(test_path_first_rule_on_tie),
		cmocka_unit_test(test_exec_index_first_on_tie),
		cmocka_unit_test(test_exec_index_truncate),
		cmocka_unit_test(test_path_tools_separate),
		cmocka_unit_test(test_file_loads_all_sections),
		cmocka_unit_test(test_file_empty_object),
		cmocka_unit_test(test_file_layers_deny_wins),
		cmocka_unit_test(test_file_project_cannot_lift_deny),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_file_escaped_backslash_u0000_ok),
		cmocka_unit_test(test_file_error_keeps_earlier_rules),
		cmocka_unit_test(test_file_missing),
		cmocka_unit_test(test_file_directory_rejected),
		cmocka_unit_test(test_file_too_large),
		cmocka_unit_test(test_split_table),
		cmocka_unit_test(test_split_assignments),
		cmocka_unit_test(test_split_redirections),
		cmocka_unit_test(test_split_dynamic_words),
		cmocka_unit_test(test_split_unjudged),
		cmocka_unit_test(test_split_deep_nesting),
		cmocka_unit_test(test_command_prefix_word_boundary),
		cmocka_unit_test(test_command_exact_match),
		cmocka_unit_test(test_command_bare_exec),
		cmocka_unit_test(test_command_chained_bypass),
		cmocka_unit_test(test_command_quotes_keep_separators),
		cmocka_unit_test(test_command_substitution_asks),
		cmocka_unit_test(test_command_substitution_keeps_deny),
		cmocka_unit_test(test_command_unjudged_constructs),
		cmocka_unit_test(test_command_judged_constructs),
		cmocka_unit_test(test_command_assignment_stripped),
		cmocka_unit_test(test_command_cd_needs_rule),
		cmocka_unit_test(test_command_agent_heredoc_write),
		cmocka_unit_test(test_command_empty_denied),
		cmocka_unit_test(test_command_too_long_denied),
		cmocka_unit_test(test_command_deny_matches_conservatively),
		cmocka_unit_test(test_command_allow_matches_literally),
		cmocka_unit_test(test_command_strictest_and_ties),
		cmocka_unit_test(test_digest_known_value),
		cmocka_unit_test(test_digest_order_and_decision),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
