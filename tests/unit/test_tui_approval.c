/*
 * Approval prompts and the diffs they show: what the user sees is what the
 * supervisor judged, with nothing hidden, and every answer key works.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/tui_approval.h"
#include "supervisor/tui_diff.h"
#include "supervisor/tui_term.h"

struct capture {
	char *text;
	size_t size;
	FILE *f;
};

static void capture_open(struct capture *c)
{
	c->text = NULL;
	c->size = 0;
	c->f = open_memstream(&c->text, &c->size);
	assert_non_null(c->f);
}

static void capture_close(struct capture *c)
{
	fclose(c->f);
}

/* Return a pipe whose read end yields keys, then end of input. */
static int keys_fd(const char *keys)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], keys, strlen(keys)), (ssize_t)strlen(keys));
	close(p[1]);
	return p[0];
}

static enum tui_answer ask(const struct tui_approval_request *req,
			   const char *keys, struct capture *c,
			   struct tui_approval_answer *answer)
{
	int fd = keys_fd(keys);

	capture_open(c);
	assert_int_equal(tui_approval_ask(fd, c->f, false, req, answer), 0);
	capture_close(c);
	close(fd);
	return answer->answer;
}

static const struct tui_approval_request command_request = {
	.action = TUI_ACTION_COMMAND,
	.subject = "git status && FOO=1 make -j2 > out.log",
	.reason = "no rule matches",
};

static void test_approval_command_argv(void **state)
{
	struct tui_approval_answer a;
	struct capture c;

	(void)state;
	assert_int_equal(ask(&command_request, "y", &c, &a), TUI_ANSWER_ONCE);
	assert_non_null(strstr(c.text, "command: git status && FOO=1 make"));
	assert_non_null(strstr(c.text, "1. argv: \"git\" \"status\"\n"));
	assert_non_null(strstr(c.text, "2. argv: \"make\" \"-j2\"\n"));
	assert_non_null(strstr(c.text, "sets \"FOO=1\""));
	assert_non_null(strstr(c.text, "redirect > \"out.log\""));
	assert_non_null(strstr(c.text, "why: no rule matches"));
	tui_approval_answer_free(&a);
	free(c.text);
}

/* A Cyrillic "р" in "rm" and a right-to-left override are both shown. */
static void test_approval_confusables_visible(void **state)
{
	struct tui_approval_request req = {
		.action = TUI_ACTION_COMMAND,
		.subject = "\xd1\x80m -rf \"a\xe2\x80\xae" "b\"",
	};
	struct tui_approval_answer a;
	struct capture c;

	(void)state;
	ask(&req, "n", &c, &a);
	assert_non_null(strstr(c.text, "\"\xd1\x80<U+0440>m\" \"-rf\""));
	assert_non_null(strstr(c.text, "\"a<U+202E>b\""));
	assert_null(strstr(c.text, "\xe2\x80\xae"));
	tui_approval_answer_free(&a);
	free(c.text);
}

/* The whole of a long command is shown, including its last part. */
static void test_approval_long_command_whole(void **state)
{
	struct tui_approval_request req = { .action = TUI_ACTION_COMMAND };
	struct tui_approval_answer a;
	struct capture c;
	char *cmd = malloc(20001);

	(void)state;
	assert_non_null(cmd);
	memset(cmd, 'x', 20000);
	memcpy(cmd, "echo ", 5);
	memcpy(cmd + 20000 - 16, "; curl 127.0.0.1", 16);
	cmd[20000] = '\0';
	req.subject = cmd;
	ask(&req, "n", &c, &a);
	assert_non_null(strstr(c.text, cmd));
	assert_non_null(strstr(c.text, "2. argv: \"curl\" \"127.0.0.1\""));
	tui_approval_answer_free(&a);
	free(c.text);
	free(cmd);
}

static void test_approval_escaped_quote_in_word(void **state)
{
	struct tui_approval_request req = {
		.action = TUI_ACTION_COMMAND,
		.subject = "echo 'a\" \"b'",
	};
	struct tui_approval_answer a;
	struct capture c;

	(void)state;
	ask(&req, "n", &c, &a);
	assert_non_null(strstr(c.text, "argv: \"echo\" \"a\\\" \\\"b\"\n"));
	tui_approval_answer_free(&a);
	free(c.text);
}

static void test_approval_unknown_key_asks_again(void **state)
{
	struct tui_approval_answer a;
	struct capture c;

	(void)state;
	assert_int_equal(ask(&command_request, "x\n\x1b\ns\n", &c, &a),
			 TUI_ANSWER_SESSION);
	assert_non_null(strstr(c.text, "Unknown answer \"x\""));
	assert_non_null(strstr(c.text, "Unknown answer \"\\e\""));
	tui_approval_answer_free(&a);
	free(c.text);
}

/*
 * Input that is not a terminal is read a line at a time: "yes" answers
 * once and leaves nothing behind for the next prompt.
 */
static void test_key_from_pipe_takes_line(void **state)
{
	int fd = keys_fd("yes\n\n  n\n");

	(void)state;
	assert_int_equal(tui_term_read_key(fd), 'y');
	assert_int_equal(tui_term_read_key(fd), '\n');
	assert_int_equal(tui_term_read_key(fd), 'n');
	assert_int_equal(tui_term_read_key(fd), -1);
	close(fd);
}

static void test_approval_end_of_input_denies(void **state)
{
	struct tui_approval_answer a;
	struct capture c;

	(void)state;
	assert_int_equal(ask(&command_request, "", &c, &a), TUI_ANSWER_DENY);
	tui_approval_answer_free(&a);
	free(c.text);
	assert_int_equal(ask(&command_request, "\x03", &c, &a),
			 TUI_ANSWER_DENY);
	tui_approval_answer_free(&a);
	free(c.text);
}

static void test_approval_message(void **state)
{
	struct tui_approval_answer a;
	struct capture c;

	(void)state;
	assert_int_equal(ask(&command_request, "m\nuse make check\nleft", &c, &a),
			 TUI_ANSWER_DENY_MESSAGE);
	assert_string_equal(a.message, "use make check");
	tui_approval_answer_free(&a);
	free(c.text);
}

static void test_approval_always_exact_rules(void **state)
{
	struct tui_approval_request req = {
		.action = TUI_ACTION_COMMAND,
		.subject = "git status; make test",
	};
	struct tui_approval_answer a;
	struct capture c;

	(void)state;
	assert_int_equal(ask(&req, "a", &c, &a), TUI_ANSWER_ALWAYS);
	assert_non_null(a.rules);
	assert_string_equal(a.rules[0], "Exec(git status)");
	assert_string_equal(a.rules[1], "Exec(make test)");
	assert_null(a.rules[2]);
	assert_non_null(strstr(c.text, "saving allow rule Exec(make test)"));
	tui_approval_answer_free(&a);
	free(c.text);
}

/* A substitution cannot be written as an exact rule, so "a" asks again. */
static void test_approval_always_rejected(void **state)
{
	struct tui_approval_request req = {
		.action = TUI_ACTION_COMMAND,
		.subject = "echo $(whoami)",
	};
	struct tui_approval_answer a;
	struct capture c;

	(void)state;
	assert_int_equal(ask(&req, "a\ny\n", &c, &a), TUI_ANSWER_ONCE);
	assert_null(a.rules);
	assert_non_null(strstr(c.text, "This cannot be saved as a rule"));
	tui_approval_answer_free(&a);
	free(c.text);
}

static void test_approval_always_path_rule(void **state)
{
	struct tui_approval_request req = {
		.action = TUI_ACTION_WRITE,
		.subject = "/ws/docs/a*.md",
		.rule_subject = "docs/a*.md",
		.new_text = "hi\n",
		.new_len = 3,
	};
	struct tui_approval_answer a;
	struct capture c;

	(void)state;
	assert_int_equal(ask(&req, "a", &c, &a), TUI_ANSWER_ALWAYS);
	assert_non_null(a.rules);
	assert_non_null(strstr(a.rules[0], "Write(docs/a"));
	assert_null(strstr(a.rules[0], "a*"));
	assert_non_null(strstr(c.text, "(new file)"));
	assert_non_null(strstr(c.text, "+hi\n"));
	tui_approval_answer_free(&a);
	free(c.text);
}

static void test_approval_edit_diff(void **state)
{
	const char *old_text = "one\ntwo\nthree\n";
	const char *new_text = "one\n2\xe2\x80\x8b\nthree\n";
	struct tui_approval_request req = {
		.action = TUI_ACTION_EDIT,
		.subject = "/ws/src/a.c",
		.old_text = old_text,
		.old_len = strlen(old_text),
		.new_text = new_text,
		.new_len = strlen(new_text),
	};
	struct tui_approval_answer a;
	struct capture c;

	(void)state;
	ask(&req, "y", &c, &a);
	assert_non_null(strstr(c.text, "path: /ws/src/a.c\n"));
	assert_non_null(strstr(c.text, "--- /ws/src/a.c\n+++ /ws/src/a.c\n"));
	assert_non_null(strstr(c.text, "@@ -1,3 +1,3 @@\n one\n-two\n+2<U+200B>\n"
			       " three\n"));
	tui_approval_answer_free(&a);
	free(c.text);
}

static char *diff(const char *old_text, const char *new_text, size_t max,
		  long *total)
{
	struct capture c;

	capture_open(&c);
	*total = tui_diff_write(c.f, old_text, strlen(old_text), new_text,
				strlen(new_text), max, false);
	capture_close(&c);
	return c.text;
}

static void test_diff_two_hunks(void **state)
{
	const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
	const char *b = "1\nX\n3\n4\n5\n6\n7\n8\n9\n10\nY\n12\n";
	long total;
	char *out = diff(a, b, 100, &total);

	(void)state;
	assert_string_equal(out,
		"@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n"
		"@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+Y\n 12\n");
	assert_int_equal(total, 14);
	free(out);
}

static void test_diff_no_change(void **state)
{
	long total;
	char *out = diff("same\n", "same\n", 100, &total);

	(void)state;
	assert_string_equal(out, "");
	assert_int_equal(total, 0);
	free(out);
}

static void test_diff_no_newline(void **state)
{
	long total;
	char *out = diff("a\nb", "a\nc", 100, &total);

	(void)state;
	assert_string_equal(out, "@@ -1,2 +1,2 @@\n a\n-b\n"
			    "\\ No newline at end of file\n+c\n"
			    "\\ No newline at end of file\n");
	free(out);
}

static void test_diff_capped(void **state)
{
	long total;
	char *out = diff("", "1\n2\n3\n4\n5\n6\n", 3, &total);

	(void)state;
	assert_string_equal(out, "@@ -0,0 +1,6 @@\n+1\n+2\n"
			    "... 4 more diff lines not shown\n");
	assert_int_equal(total, 7);
	free(out);
}

static void test_diff_escapes_lines(void **state)
{
	long total;
	char *out = diff("x\n", "\x1b]52;c;aGk=\x07\n", 100, &total);

	(void)state;
	assert_non_null(strstr(out, "+\\e]52;c;aGk=\\x07\n"));
	assert_null(strchr(out, 0x1b));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_approval_command_argv),
		cmocka_unit_test(test_approval_confusables_visible),
		cmocka_unit_test(test_approval_long_command_whole),
		cmocka_unit_test(test_approval_escaped_quote_in_word),
		cmocka_unit_test(test_approval_unknown_key_asks_again),
		cmocka_unit_test(test_key_from_pipe_takes_line),
		cmocka_unit_test(test_approval_end_of_input_denies),
		cmocka_unit_test(test_approval_message),
		cmocka_unit_test(test_approval_always_exact_rules),
		cmocka_unit_test(test_approval_always_rejected),
		cmocka_unit_test(test_approval_always_path_rule),
		cmocka_unit_test(test_approval_edit_diff),
		cmocka_unit_test(test_diff_two_hunks),
		cmocka_unit_test(test_diff_no_change),
		cmocka_unit_test(test_diff_no_newline),
		cmocka_unit_test(test_diff_capped),
		cmocka_unit_test(test_diff_escapes_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
