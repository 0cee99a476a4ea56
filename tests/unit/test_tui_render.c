/*
 * The renderer and the slash command parser: worker text is escaped even
 * when a sequence is split across pieces, results are summarised, and
 * every command parses or fails with a clear message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/tui_render.h"
#include "supervisor/tui_slash.h"

struct out {
	char *text;
	size_t size;
	FILE *f;
	struct tui_render r;
};

static void out_open(struct out *o)
{
	o->text = NULL;
	o->size = 0;
	o->f = open_memstream(&o->text, &o->size);
	assert_non_null(o->f);
	tui_render_init(&o->r, o->f);
}

static void out_close(struct out *o)
{
	fclose(o->f);
}

static void test_render_pipe_has_no_colour(void **state)
{
	struct out o;

	(void)state;
	out_open(&o);
	assert_false(o.r.tty);
	assert_false(o.r.color);
	tui_render_tool(&o.r, "run_command", "make", "allow");
	out_close(&o);
	assert_string_equal(o.text, "* run_command make  [allow]\n");
	free(o.text);
}

/* Escapes and a split bidi override stay visible, never raw. */
static void test_render_stream_escaped(void **state)
{
	static const char *const pieces[] = {
		"Hello \x1b", "[2J\x1b]52;c;aGk=\x07 ", "\xe2", "\x80",
		"\xae" "end\n",
	};
	struct out o;
	size_t i;

	(void)state;
	out_open(&o);
	for (i = 0; i < 5; i++)
		tui_render_text(&o.r, pieces[i], strlen(pieces[i]));
	tui_render_text_end(&o.r);
	out_close(&o);
	assert_string_equal(o.text,
			    "Hello \\e[2J\\e]52;c;aGk=\\x07 <U+202E>end\n");
	free(o.text);
}

static void test_render_text_ends_line(void **state)
{
	struct out o;

	(void)state;
	out_open(&o);
	tui_render_text(&o.r, "partial", 7);
	tui_render_tool(&o.r, "read_file", "a\x1b.c", NULL);
	tui_render_text(&o.r, "\xe2\x80", 2);
	tui_render_text_end(&o.r);
	out_close(&o);
	assert_string_equal(o.text, "partial\n* read_file a\\e.c\n\\xe2\\x80\n");
	free(o.text);
}

static void test_render_results(void **state)
{
	struct tui_result ok = { true, NULL, 0, 0, false, 2048, 12, 1500 };
	struct tui_result bad = { true, NULL, 2, 0, false, 10, 1, -1 };
	struct tui_result err = { false, "not found: \x1b[1m", -1, 0, false,
				  -1, -1, -1 };
	struct tui_result killed = { true, NULL, -1, 9, false, 0, 0, -1 };
	struct tui_result slow = { true, NULL, -1, 0, true, -1, -1, 60000 };
	struct out o;

	(void)state;
	out_open(&o);
	tui_render_result(&o.r, &ok);
	tui_render_result(&o.r, &bad);
	tui_render_result(&o.r, &err);
	tui_render_result(&o.r, &killed);
	tui_render_result(&o.r, &slow);
	out_close(&o);
	assert_string_equal(o.text,
		"  -> exit 0, 2.0 KiB, 12 lines, 1.5 s\n"
		"  -> exit 2, 10 B, 1 line\n"
		"  -> failed: not found: \\e[1m\n"
		"  -> killed by signal 9, 0 B, 0 lines\n"
		"  -> timed out, 60.0 s\n");
	free(o.text);
}

/* Off a terminal, the busy line is never drawn. */
static void test_render_busy_quiet_off_tty(void **state)
{
	struct out o;

	(void)state;
	out_open(&o);
	tui_render_busy(&o.r, "thinking", 1000);
	tui_render_tick(&o.r, 5000);
	tui_render_idle(&o.r);
	out_close(&o);
	assert_string_equal(o.text, "");
	free(o.text);
}

static void test_render_busy_on_tty(void **state)
{
	struct out o;

	(void)state;
	out_open(&o);
	o.r.tty = true;
	tui_render_busy(&o.r, "running make", 1000);
	tui_render_tick(&o.r, 4200);
	tui_render_tool(&o.r, "x", NULL, NULL);
	out_close(&o);
	assert_non_null(strstr(o.text, "\r\033[K/ running make 3s"));
	assert_non_null(strstr(o.text, "\r\033[K* x\n"));
	assert_null(strstr(o.text, "\033[2m"));
	free(o.text);
}

static void test_render_todo(void **state)
{
	struct out o;

	(void)state;
	out_open(&o);
	tui_render_todo(&o.r, "completed read the code\nin_progress write "
			"\x1b[8mtests\npending docs\nweird x");
	tui_render_todo(&o.r, "");
	out_close(&o);
	assert_string_equal(o.text,
		"  [x] read the code\n"
		"  [>] write \\e[8mtests\n"
		"  [ ] docs\n"
		"  [?] x\n"
		"  (no todo items)\n");
	free(o.text);
}

static void test_render_status_and_cost(void **state)
{
	struct out o;

	(void)state;
	out_open(&o);
	tui_render_status(&o.r, "full-access", "gpt-test", "/w\xe2\x80\xaes");
	tui_render_cost(&o.r, 1200, 300, 4);
	tui_render_notice(&o.r, "worker \x1b[31mcrashed");
	out_close(&o);
	assert_string_equal(o.text,
		"[full-access] gpt-test  /w<U+202E>s\n"
		"  tokens: 1200 in, 300 out, 1500 total\n"
		"  turns: 4\n"
		"coworker: worker \\e[31mcrashed\n");
	free(o.text);
}

static void expect_parse(const char *line, enum tui_slash_command command,
			 enum tui_config_key key, const char *value)
{
	struct tui_slash s;
	char err[256];

	if (tui_slash_parse(line, &s, err, sizeof(err)) != 0)
		fail_msg("%s: %s", line, err);
	assert_int_equal(s.command, command);
	assert_int_equal(s.key, key);
	assert_string_equal(s.value, value);
}

static void expect_error(const char *line, const char *message)
{
	struct tui_slash s;
	char err[256];

	assert_int_equal(tui_slash_parse(line, &s, err, sizeof(err)), -1);
	if (!strstr(err, message))
		fail_msg("%s: got \"%s\", expected \"%s\"", line, err, message);
}

static void test_slash_valid(void **state)
{
	(void)state;
	expect_parse("/help", TUI_SLASH_HELP, TUI_CONFIG_SHOW, "");
	expect_parse("/config", TUI_SLASH_CONFIG, TUI_CONFIG_SHOW, "");
	expect_parse("/config model gpt-4o", TUI_SLASH_CONFIG,
		     TUI_CONFIG_MODEL, "gpt-4o");
	expect_parse("/config  mode\tread-only ", TUI_SLASH_CONFIG,
		     TUI_CONFIG_MODE, "read-only");
	expect_parse("/config provider anthropic", TUI_SLASH_CONFIG,
		     TUI_CONFIG_PROVIDER, "anthropic");
	expect_parse("/todo", TUI_SLASH_TODO, TUI_CONFIG_SHOW, "");
	expect_parse("/skills", TUI_SLASH_SKILLS, TUI_CONFIG_SHOW, "");
	expect_parse("/policy", TUI_SLASH_POLICY, TUI_CONFIG_SHOW, "");
	expect_parse("/compact", TUI_SLASH_COMPACT, TUI_CONFIG_SHOW, "");
	expect_parse("/clear", TUI_SLASH_CLEAR, TUI_CONFIG_SHOW, "");
	expect_parse("/cost", TUI_SLASH_COST, TUI_CONFIG_SHOW, "");
	expect_parse("/exit ", TUI_SLASH_EXIT, TUI_CONFIG_SHOW, "");
}

static void test_slash_errors(void **state)
{
	(void)state;
	expect_error("/frobnicate", "unknown command; type /help");
	expect_error("/", "unknown command");
	expect_error("/exit now", "/exit takes no arguments");
	expect_error("/config colour red", "unknown setting");
	expect_error("/config model", "/config model: missing value");
	expect_error("/config mode yolo", "unknown mode \"yolo\"");
	expect_error("/config provider azure", "unknown provider \"azure\"");
	expect_error("/config model a b", "takes one value");
	expect_error("/config model \xd0\xb0", "invalid value");
	assert_false(tui_slash_is_command("fix the bug in /src"));
	assert_true(tui_slash_is_command("/help"));
}

static void test_slash_help_lists_all(void **state)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	(void)state;
	tui_slash_help(f);
	fclose(f);
	assert_non_null(strstr(text, "/config [model NAME | mode MODE"));
	assert_non_null(strstr(text, "/exit\n"));
	assert_non_null(strstr(text, "/cost\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_pipe_has_no_colour),
		cmocka_unit_test(test_render_stream_escaped),
		cmocka_unit_test(test_render_text_ends_line),
		cmocka_unit_test(test_render_results),
		cmocka_unit_test(test_render_busy_quiet_off_tty),
		cmocka_unit_test(test_render_busy_on_tty),
		cmocka_unit_test(test_render_todo),
		cmocka_unit_test(test_render_status_and_cost),
		cmocka_unit_test(test_slash_valid),
		cmocka_unit_test(test_slash_errors),
		cmocka_unit_test(test_slash_help_lists_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
