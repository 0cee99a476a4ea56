/*
 * The context manager: token estimates, read_file line selection and the
 * cut markers that tell the model how to read on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/context.h"
#include "worker/tools.h"

static const char five[] = "one\ntwo\nthree\nfour\nfive\n";

static void check_lines(long long offset, long long limit, size_t budget,
			const char *want)
{
	char *got = context_select_lines(five, strlen(five), 0, offset, limit,
					 budget);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void select_lines(void **state)
{
	(void)state;
	check_lines(0, 0, 1000, five);
	check_lines(2, 2, 1000, "two\nthree\n");
	check_lines(4, 0, 1000, "four\nfive\n");
	check_lines(5, 10, 1000, "five\n");
	check_lines(6, 0, 1000, "[offset 6 is past the end: the file has 5 "
		    "lines]");
	check_lines(1, 0, 10, "one\ntwo\n[truncated: 16 more bytes; call "
		    "read_file with offset 3 to read on]");
	check_lines(2, 3, 9, "two\n[truncated: 11 more bytes; call read_file "
		    "with offset 3 to read on]");
}

/* Only the file's start was read: the cut counts the whole file. */
static void select_lines_of_partial_read(void **state)
{
	char *got;

	(void)state;
	got = context_select_lines(five, strlen(five), 1000, 1, 0, 8);
	assert_string_equal(got, "one\ntwo\n[truncated: 992 more bytes; call "
			    "read_file with offset 3 to read on]");
	free(got);
}

static void cut_output(void **state)
{
	char *got;

	(void)state;
	got = context_cut_output(five, 9);
	assert_string_equal(got, "one\ntwo\n[truncated: 16 more bytes of "
			    "output; run the command again with its output "
			    "filtered or redirected to a file and read that "
			    "file in parts]");
	free(got);
	got = context_cut_output(five, 100);
	assert_string_equal(got, five);
	free(got);
}

static void token_estimate(void **state)
{
	cJSON *msgs = cJSON_Parse("[{\"role\":\"user\",\"content\":\"abcd\"},"
				  "{\"role\":\"assistant\",\"content\":\"\"}]");

	(void)state;
	/* 4 bytes of text are one token, plus the message overhead. */
	assert_int_equal(context_message_tokens(cJSON_GetArrayItem(msgs, 0)),
			 CONTEXT_MESSAGE_OVERHEAD + 1);
	assert_int_equal(context_tokens(msgs), 2 * CONTEXT_MESSAGE_OVERHEAD + 1);
	cJSON_Delete(msgs);
}

/* Tool calls count their name, id and arguments, not the JSON around. */
static void token_estimate_tool_call(void **state)
{
	cJSON *call = cJSON_Parse(
		"{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
		"{\"id\":\"call_123\",\"type\":\"function\",\"function\":"
		"{\"name\":\"read_file\",\"arguments\":"
		"\"{\\\"path\\\":\\\"a.c\\\"}\"}},"
		"{\"id\":\"call_456\",\"type\":\"function\",\"function\":"
		"{\"name\":\"list_directory\",\"arguments\":\"{}\"}}]}");
	cJSON *result = cJSON_Parse("{\"role\":\"tool\",\"tool_call_id\":"
				    "\"call_123\",\"content\":\"0123456789ab\"}");

	(void)state;
	assert_non_null(call);
	assert_non_null(result);
	/*
	 * call_123 read_file {"path":"a.c"} is 8 + 9 + 14 bytes and
	 * call_456 list_directory {} is 8 + 14 + 2: 55 bytes, 14 tokens.
	 */
	assert_int_equal(context_message_tokens(call),
			 CONTEXT_MESSAGE_OVERHEAD + 2 * CONTEXT_CALL_OVERHEAD + 14);
	/* 8 bytes of id and 12 of content: 5 tokens. */
	assert_int_equal(context_message_tokens(result),
			 CONTEXT_MESSAGE_OVERHEAD + 5);
	cJSON_Delete(call);
	cJSON_Delete(result);
}

/* A large result costs about a token per 4 bytes, escapes or not. */
static void token_estimate_large_result(void **state)
{
	size_t len = 40000, i;
	char *text = malloc(len + 1);
	cJSON *m;

	(void)state;
	assert_non_null(text);
	for (i = 0; i < len; i++)
		text[i] = i % 40 == 39 ? '\n' : '"';
	text[len] = '\0';
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "role", "tool");
	cJSON_AddStringToObject(m, "tool_call_id", "");
	cJSON_AddStringToObject(m, "content", text);
	assert_int_equal(context_message_tokens(m),
			 CONTEXT_MESSAGE_OVERHEAD + len / 4);
	cJSON_Delete(m);
	free(text);
}

static void token_budget(void **state)
{
	struct context_budget none = { 0, 0 }, b = { 100, 0 };
	char text[256];

	(void)state;
	context_budget_add(&none, 1000000, 1000000);
	assert_false(context_budget_reached(&none));

	/* -1 means the response reported no usage. */
	context_budget_add(&b, -1, -1);
	assert_int_equal(b.spent, 0);
	context_budget_add(&b, 60, 39);
	assert_false(context_budget_reached(&b));
	context_budget_add(&b, -1, 1);
	assert_true(context_budget_reached(&b));

	context_budget_describe(&b, 3, text, sizeof(text));
	assert_non_null(strstr(text, "3 model turns"));
	assert_non_null(strstr(text, "used 100 tokens"));
	assert_non_null(strstr(text, "budget of 100"));
}

static void read_file_arguments(void **state)
{
	struct tool_args args;
	char err[256];

	(void)state;
	assert_int_equal(tools_parse("read_file", "{\"path\":\"a\",\"offset\":"
				     "10,\"limit\":5}", &args, err,
				     sizeof(err)), 0);
	assert_int_equal(args.offset, 10);
	assert_int_equal(args.limit, 5);
	tools_args_free(&args);
	assert_int_equal(tools_parse("read_file", "{\"path\":\"a\",\"offset\":"
				     "0}", &args, err, sizeof(err)), -1);
	assert_string_equal(err, "error: invalid arguments for read_file: "
			    "field \"offset\" must be an integer from 1 to "
			    "1000000000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(select_lines),
		cmocka_unit_test(select_lines_of_partial_read),
		cmocka_unit_test(cut_output),
		cmocka_unit_test(token_estimate),
		cmocka_unit_test(token_estimate_tool_call),
		cmocka_unit_test(token_estimate_large_result),
		cmocka_unit_test(token_budget),
		cmocka_unit_test(read_file_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
