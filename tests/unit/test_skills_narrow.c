/*
 * allowed-tools narrowing: how entries written for Claude Code, the Agent
 * Skills examples and coworker map onto the requests a session judges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/skills_narrow.h"

#define WORKSPACE "/tmp/narrow-ws"

struct notes {
	char text[4096];
	int count;
};

static void collect_note(void *ctx, const char *message)
{
	struct notes *n = ctx;
	size_t len = strlen(n->text);

	snprintf(n->text + len, sizeof(n->text) - len, "%s\n", message);
	n->count++;
}

/* Build the narrowing of a skill "demo" whose allowed-tools are entries. */
static void narrow(struct skills_narrowing *n, struct notes *notes,
		   const char *const *entries, size_t count)
{
	struct skill sk;
	char err[256];

	memset(&sk, 0, sizeof(sk));
	memset(notes, 0, sizeof(*notes));
	sk.name = "demo";
	sk.path = "/skills/demo/SKILL.md";
	sk.allowed_tools = (char **)entries;
	sk.nallowed = count;
	sk.has_allowed_tools = true;
	assert_int_equal(skills_narrow_init(n, &sk, WORKSPACE, collect_note,
					    notes, err, sizeof(err)), 0);
}

static enum policy_decision path_decision(const struct skills_narrowing *n,
					  enum skills_narrow_request kind,
					  const char *path)
{
	enum policy_tool tool = kind == SKILLS_NARROW_WRITE ? POLICY_WRITE :
				POLICY_READ;

	return policy_decide_path(skills_narrow_policy(n, kind), tool,
				  path).decision;
}

static enum policy_decision command_decision(const struct skills_narrowing *n,
					     const char *command)
{
	return policy_decide_command(skills_narrow_policy(n, SKILLS_NARROW_EXEC),
				     command).decision;
}

static void read_allows_reading_and_listing(void **state)
{
	static const char *const entries[] = { "Read" };
	struct skills_narrowing n;
	struct notes notes;

	(void)state;
	narrow(&n, &notes, entries, 1);
	assert_int_equal(notes.count, 0);
	assert_string_equal(n.listed, "Read");
	assert_int_equal(path_decision(&n, SKILLS_NARROW_READ, "src/a.c"),
			 POLICY_ALLOW);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_LIST, "src"),
			 POLICY_ALLOW);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_WRITE, "src/a.c"),
			 POLICY_ASK);
	assert_int_equal(command_decision(&n, "ls"), POLICY_ASK);
	skills_narrow_free(&n);
}

static void names_map_without_case(void **state)
{
	static const char *const entries[] = {
		"bash", "read_file", "EDIT", "ls",
	};
	struct skills_narrowing n;
	struct notes notes;

	(void)state;
	narrow(&n, &notes, entries, 4);
	assert_int_equal(notes.count, 0);
	assert_int_equal(command_decision(&n, "make test"), POLICY_ALLOW);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_READ, "a.c"),
			 POLICY_ALLOW);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_WRITE, "a.c"),
			 POLICY_ALLOW);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_LIST, "."),
			 POLICY_ALLOW);
	skills_narrow_free(&n);
}

static void patterns_keep_their_limits(void **state)
{
	static const char *const entries[] = {
		"Bash(git diff:*)", "Exec(git log:*)", "Edit(docs/*.md)",
		"Read(src/**)",
	};
	struct skills_narrowing n;
	struct notes notes;

	(void)state;
	narrow(&n, &notes, entries, 4);
	assert_int_equal(notes.count, 0);
	assert_int_equal(command_decision(&n, "git diff HEAD"), POLICY_ALLOW);
	assert_int_equal(command_decision(&n, "git log --oneline"),
			 POLICY_ALLOW);
	assert_int_equal(command_decision(&n, "git push"), POLICY_ASK);
	assert_int_equal(command_decision(&n, "git diff; rm -rf src"),
			 POLICY_ASK);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_WRITE, "docs/a.md"),
			 POLICY_ALLOW);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_WRITE, "src/a.c"),
			 POLICY_ASK);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_READ, "src/x/a.c"),
			 POLICY_ALLOW);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_READ, ".env"),
			 POLICY_ASK);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_LIST, "src/x"),
			 POLICY_ALLOW);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_LIST, "docs"),
			 POLICY_ASK);
	skills_narrow_free(&n);
}

static void listing_alone_reads_nothing(void **state)
{
	static const char *const entries[] = { "LS", "Glob", "Grep" };
	struct skills_narrowing n;
	struct notes notes;

	(void)state;
	narrow(&n, &notes, entries, 3);
	assert_int_equal(notes.count, 0);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_LIST, "src"),
			 POLICY_ALLOW);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_READ, "src/a.c"),
			 POLICY_ASK);
	skills_narrow_free(&n);
}

static void unknown_entries_allow_nothing(void **state)
{
	static const char *const entries[] = {
		"WebFetch", "Glob(*.py)", "Read(", "(x)", "Bash()", "Skill",
		"mcp__github__create_issue",
	};
	struct skills_narrowing n;
	struct notes notes;

	(void)state;
	narrow(&n, &notes, entries, 7);
	assert_int_equal(notes.count, 6);
	assert_non_null(strstr(notes.text, "skill \"demo\": allowed-tools "
			       "entry \"WebFetch\" names no coworker tool and "
			       "allows nothing"));
	assert_non_null(strstr(notes.text, "entry \"Glob(*.py)\" has an "
			       "argument that is not a path"));
	assert_non_null(strstr(notes.text, "entry \"Read(\" is not NAME or "
			       "NAME(ARGUMENT)"));
	assert_non_null(strstr(notes.text, "entry \"(x)\" is not NAME"));
	assert_non_null(strstr(notes.text, "entry \"Bash()\" allows nothing: "));
	assert_null(strstr(notes.text, "\"Skill\""));
	assert_int_equal(path_decision(&n, SKILLS_NARROW_LIST, "src"),
			 POLICY_ASK);
	assert_int_equal(path_decision(&n, SKILLS_NARROW_READ, "a"),
			 POLICY_ASK);
	assert_int_equal(command_decision(&n, "ls"), POLICY_ASK);
	skills_narrow_free(&n);
}

static void empty_list_narrows_everything(void **state)
{
	struct skills_narrowing n;
	struct notes notes;

	(void)state;
	narrow(&n, &notes, NULL, 0);
	assert_string_equal(n.listed, "an empty list");
	assert_int_equal(path_decision(&n, SKILLS_NARROW_READ, "a"),
			 POLICY_ASK);
	assert_int_equal(command_decision(&n, "true"), POLICY_ASK);
	skills_narrow_free(&n);
}

static void long_list_is_cut_for_messages(void **state)
{
	const char *entries[64];
	struct skills_narrowing n;
	struct notes notes;
	size_t i, len;

	(void)state;
	for (i = 0; i < 64; i++)
		entries[i] = "Bash(make test:*)";
	narrow(&n, &notes, entries, 64);
	len = strlen(n.listed);
	assert_true(len < sizeof(n.listed));
	assert_string_equal(n.listed + len - 3, "...");
	assert_int_equal(strncmp(n.listed, "Bash(make test:*), Bash(", 24), 0);
	skills_narrow_free(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_allows_reading_and_listing),
		cmocka_unit_test(names_map_without_case),
		cmocka_unit_test(patterns_keep_their_limits),
		cmocka_unit_test(listing_alone_reads_nothing),
		cmocka_unit_test(unknown_entries_allow_nothing),
		cmocka_unit_test(empty_list_narrows_everything),
		cmocka_unit_test(long_list_is_cut_for_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
