/*
 * todo_write: the tool's schema, and the checks on the model's list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/proto.h"
#include "worker/tools.h"
#include "worker/tools_todo.h"

/* Check the list in json; returns the items text or NULL with err. */
static char *items_of(const char *json, size_t *count, char *err,
		      size_t errlen)
{
	cJSON *todos = cJSON_Parse(json);
	char *items;

	assert_non_null(todos);
	items = todo_items_text(todos, count, err, errlen);
	cJSON_Delete(todos);
	return items;
}

static void expect_error(const char *json, const char *want)
{
	char err[512];
	size_t count = 0;
	char *items = items_of(json, &count, err, sizeof(err));

	assert_null(items);
	assert_non_null(strstr(err, "error: invalid arguments for todo_write: "));
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void valid_list(void **state)
{
	char err[512];
	size_t count = 0;
	char *items;

	(void)state;
	items = items_of("[{\"content\":\"Read the code\",\"status\":\"completed\"},"
			 "{\"content\":\"Fix the bug\",\"status\":\"in_progress\","
			 "\"id\":\"2\",\"activeForm\":\"Fixing\"},"
			 "{\"content\":\"Run tests\",\"status\":\"pending\"}]",
			 &count, err, sizeof(err));
	assert_non_null(items);
	assert_int_equal(count, 3);
	assert_string_equal(items, "completed Read the code\n"
			    "in_progress Fix the bug\npending Run tests");
	free(items);

	items = items_of("[]", &count, err, sizeof(err));
	assert_non_null(items);
	assert_int_equal(count, 0);
	assert_string_equal(items, "");
	free(items);
}

static void newlines_become_spaces(void **state)
{
	char err[512];
	size_t count = 0;
	char *items;

	(void)state;
	items = items_of("[{\"content\":\"two\\nlines\\r\\nand\\ttab\","
			 "\"status\":\"pending\"}]", &count, err, sizeof(err));
	assert_non_null(items);
	assert_string_equal(items, "pending two lines  and tab");
	assert_null(strchr(items, '\n'));
	free(items);
}

static void rejects_bad_items(void **state)
{
	(void)state;
	expect_error("[{\"content\":\"x\",\"status\":\"done\"}]",
		     "item 1 has the unknown status \"done\"; use pending, "
		     "in_progress or completed");
	expect_error("[{\"content\":\"x\"}]", "item 1 has no \"status\"");
	expect_error("[{\"content\":\"a\",\"status\":\"pending\"},"
		     "{\"status\":\"pending\"}]",
		     "item 2 has no \"content\" string");
	expect_error("[{\"content\":\"\",\"status\":\"pending\"}]",
		     "the content of item 1 is empty");
	expect_error("[{\"content\":\" \\n \",\"status\":\"pending\"}]",
		     "the content of item 1 is empty");
	expect_error("[{\"content\":7,\"status\":\"pending\"}]",
		     "item 1 has no \"content\" string");
	expect_error("[\"just text\"]", "item 1 is not an object");
	expect_error("{\"content\":\"x\"}", "must be an array");
}

/* A one-item list whose content is len bytes of 'a'. */
static char *list_with_content(size_t len)
{
	static const char head[] = "[{\"status\":\"pending\",\"content\":\"";
	char *json = malloc(sizeof(head) + len + 8);

	assert_non_null(json);
	memcpy(json, head, sizeof(head) - 1);
	memset(json + sizeof(head) - 1, 'a', len);
	memcpy(json + sizeof(head) - 1 + len, "\"}]", 4);
	return json;
}

static void rejects_long_content(void **state)
{
	char err[512], *json, *items;
	size_t count = 0;

	(void)state;
	json = list_with_content(PROTO_TODO_TEXT_MAX);
	items = items_of(json, &count, err, sizeof(err));
	assert_non_null(items);
	assert_int_equal(strlen(items), strlen("pending ") + PROTO_TODO_TEXT_MAX);
	free(items);
	free(json);

	json = list_with_content(PROTO_TODO_TEXT_MAX + 1);
	expect_error(json, "is 501 bytes, at most 500 are accepted");
	free(json);
}

static void rejects_too_many_items(void **state)
{
	char json[64 * (PROTO_TODO_ITEMS_MAX + 2)];
	size_t len = 0;
	int i;

	(void)state;
	len += (size_t)snprintf(json + len, sizeof(json) - len, "[");
	for (i = 0; i < PROTO_TODO_ITEMS_MAX + 1; i++)
		len += (size_t)snprintf(json + len, sizeof(json) - len,
					"%s{\"content\":\"item %d\","
					"\"status\":\"pending\"}",
					i ? "," : "", i);
	snprintf(json + len, sizeof(json) - len, "]");
	expect_error(json, "the list has 51 items, at most 50 are accepted");
}

/* The schema offers an array of objects with a fixed set of statuses. */
static void schema_describes_todos(void **state)
{
	cJSON *tools = tools_schema(), *tool, *params = NULL, *items, *status;
	const cJSON *name;

	(void)state;
	assert_non_null(tools);
	cJSON_ArrayForEach(tool, tools) {
		name = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(tool, "function"), "name");
		if (strcmp(name->valuestring, "todo_write") == 0)
			params = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(tool, "function"),
				"parameters");
	}
	assert_non_null(params);
	items = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(params, "properties"),
			"todos"), "items");
	assert_non_null(items);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(items, "type")->valuestring,
			    "object");
	status = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(items, "properties"), "status");
	assert_int_equal(cJSON_GetArraySize(
		cJSON_GetObjectItemCaseSensitive(status, "enum")), 3);
	assert_int_equal(cJSON_GetArraySize(
		cJSON_GetObjectItemCaseSensitive(items, "required")), 2);
	cJSON_Delete(tools);
}

static void parse_wants_an_array(void **state)
{
	struct tool_args args;
	char err[256];

	(void)state;
	assert_int_equal(tools_parse("todo_write", "{\"todos\":[]}", &args, err,
				     sizeof(err)), 0);
	assert_int_equal(args.kind, TOOL_TODO_WRITE);
	assert_true(cJSON_IsArray(args.todos));
	tools_args_free(&args);
	assert_int_equal(tools_parse("todo_write", "{\"todos\":\"a list\"}",
				     &args, err, sizeof(err)), -1);
	assert_string_equal(err, "error: invalid arguments for todo_write: "
			    "field \"todos\" must be an array");
	assert_int_equal(tools_parse("todo_write", "{}", &args, err,
				     sizeof(err)), -1);
	assert_string_equal(err, "error: invalid arguments for todo_write: "
			    "missing required field \"todos\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_list),
		cmocka_unit_test(newlines_become_spaces),
		cmocka_unit_test(rejects_bad_items),
		cmocka_unit_test(rejects_long_content),
		cmocka_unit_test(rejects_too_many_items),
		cmocka_unit_test(schema_describes_todos),
		cmocka_unit_test(parse_wants_an_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
