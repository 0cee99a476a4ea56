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
	/* {"role":"user","content":"abcd"} is 32 bytes. */
	assert_int_equal(context_message_tokens(cJSON_GetArrayItem(msgs, 0)), 8);
	assert_int_equal(context_tokens(msgs), 8 + 9);
	cJSON_Delete(msgs);
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
		cmocka_unit_test(read_file_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
