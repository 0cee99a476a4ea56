/*
 * Chat Completions parsing and message building against recorded OpenAI
 * traffic, and the tool argument checks with their exact result texts.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "worker/agent.h"
#include "worker/openai.h"
#include "worker/text.h"
#include "worker/tools.h"

#define FIXTURES "tests/fixtures/openai/fantasy-gpt-4o-parallel-tools"

static char *read_fixture(const char *path, size_t *len)
{
	struct stat st;
	char *text;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		fail_msg("cannot open %s (run from the repository root)", path);
	text = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(text);
	assert_int_equal(read(fd, text, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return text;
}

static void parse_fixture(const char *path, struct openai_response *resp)
{
	char err[256];
	size_t len;
	char *body = read_fixture(path, &len);

	if (openai_parse_response(body, len, resp, err, sizeof(err)) < 0)
		fail_msg("%s: %s", path, err);
	free(body);
}

static void parse_parallel_tool_calls(void **state)
{
	struct openai_response resp;

	(void)state;
	parse_fixture(FIXTURES ".turn0.response.json", &resp);
	assert_null(resp.content);
	assert_string_equal(resp.finish_reason, "tool_calls");
	assert_string_equal(resp.model, "gpt-4o-2024-08-06");
	assert_int_equal(resp.prompt_tokens, 110);
	assert_int_equal(resp.completion_tokens, 50);
	assert_int_equal(resp.tool_call_count, 2);
	assert_string_equal(resp.tool_calls[0].id, "call_fifE5poZ3dg3JDUKGFi48NGq");
	assert_string_equal(resp.tool_calls[0].name, "add");
	assert_string_equal(resp.tool_calls[0].arguments, "{\"a\": 2, \"b\": 3}");
	assert_string_equal(resp.tool_calls[1].id, "call_cvvIly4eGLZUYOMhAviT8jAF");
	assert_string_equal(resp.tool_calls[1].name, "multiply");
	assert_string_equal(resp.tool_calls[1].arguments, "{\"a\": 2, \"b\": 3}");
	openai_response_free(&resp);
}

static void parse_text_answer(void **state)
{
	struct openai_response resp;

	(void)state;
	parse_fixture(FIXTURES ".turn1.response.json", &resp);
	assert_string_equal(resp.content, "The result of adding 2 and 3 is 5, "
			    "and the result of multiplying 2 and 3 is 6.");
	assert_string_equal(resp.finish_reason, "stop");
	assert_int_equal(resp.tool_call_count, 0);
	assert_int_equal(resp.prompt_tokens, 176);
	assert_int_equal(resp.completion_tokens, 28);
	openai_response_free(&resp);
}

/* The turn-1 messages built from turn 0 equal the recorded request's. */
static void build_turn1_messages(void **state)
{
	struct openai_response resp;
	cJSON *recorded, *rec_msgs, *msgs, *system;
	size_t len;
	char *text;

	(void)state;
	text = read_fixture(FIXTURES ".turn1.request.json", &len);
	recorded = cJSON_Parse(text);
	free(text);
	assert_non_null(recorded);
	rec_msgs = cJSON_GetObjectItem(recorded, "messages");
	assert_int_equal(cJSON_GetArraySize(rec_msgs), 5);

	msgs = cJSON_CreateArray();
	system = cJSON_CreateObject();
	cJSON_AddStringToObject(system, "role", "system");
	cJSON_AddStringToObject(system, "content", cJSON_GetObjectItem(
		cJSON_GetArrayItem(rec_msgs, 0), "content")->valuestring);
	cJSON_AddItemToArray(msgs, system);
	cJSON_AddItemToArray(msgs, openai_user_message(cJSON_GetObjectItem(
		cJSON_GetArrayItem(rec_msgs, 1), "content")->valuestring));

	parse_fixture(FIXTURES ".turn0.response.json", &resp);
	cJSON_AddItemToArray(msgs, openai_assistant_message(&resp));
	cJSON_AddItemToArray(msgs, openai_tool_message(resp.tool_calls[0].id,
						       "5"));
	cJSON_AddItemToArray(msgs, openai_tool_message(resp.tool_calls[1].id,
						       "6"));
	openai_response_free(&resp);

	assert_true(cJSON_Compare(cJSON_GetArrayItem(msgs, 2),
				  cJSON_GetArrayItem(rec_msgs, 2), true));
	assert_true(cJSON_Compare(cJSON_GetArrayItem(msgs, 3),
				  cJSON_GetArrayItem(rec_msgs, 3), true));
	assert_true(cJSON_Compare(msgs, rec_msgs, true));
	cJSON_Delete(msgs);
	cJSON_Delete(recorded);
}

static void request_body_shape(void **state)
{
	cJSON *msgs = cJSON_CreateArray(), *tools = tools_schema(), *body;
	const cJSON *tool;
	const char *names[] = { "read_file", "write_file", "edit_file",
				"list_directory", "run_command", "load_skill",
				"todo_write", "glob", "grep" };
	int i = 0;

	(void)state;
	cJSON_AddItemToArray(msgs, openai_system_message("/work/project"));
	body = openai_request("gpt-4o", msgs, tools, false);
	assert_non_null(body);
	assert_string_equal(cJSON_GetObjectItem(body, "model")->valuestring,
			    "gpt-4o");
	assert_string_equal(cJSON_GetObjectItem(body, "tool_choice")->valuestring,
			    "auto");
	assert_non_null(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(msgs, 0),
				"content")->valuestring, "/work/project"));
	assert_int_equal(cJSON_GetArraySize(tools), 9);
	cJSON_ArrayForEach(tool, tools) {
		const cJSON *f = cJSON_GetObjectItem(tool, "function");

		assert_string_equal(cJSON_GetObjectItem(tool, "type")->valuestring,
				    "function");
		assert_string_equal(cJSON_GetObjectItem(f, "name")->valuestring,
				    names[i++]);
		assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(f,
				"parameters"), "required"));
	}
	/* The body references the conversation; deleting it keeps both. */
	cJSON_Delete(body);
	assert_int_equal(cJSON_GetArraySize(msgs), 1);

	/* A request without tools (a summary request) names none. */
	body = openai_request("gpt-4o", msgs, NULL, true);
	assert_non_null(body);
	assert_null(cJSON_GetObjectItem(body, "tools"));
	assert_null(cJSON_GetObjectItem(body, "tool_choice"));
	cJSON_Delete(body);
	cJSON_Delete(msgs);
	cJSON_Delete(tools);
}

static void assert_args_error(const char *name, const char *arguments,
			      const char *expected)
{
	struct tool_args args;
	char err[512];

	assert_int_equal(tools_parse(name, arguments, &args, err, sizeof(err)),
			 -1);
	assert_string_equal(err, expected);
}

static void tool_args_invalid(void **state)
{
	(void)state;
	assert_args_error("read_file", "{\"path\": ", "error: invalid arguments "
			  "for read_file: arguments are not valid JSON");
	assert_args_error("read_file", "[1]", "error: invalid arguments for "
			  "read_file: arguments are not a JSON object");
	assert_args_error("write_file", "{\"path\": \"a.txt\"}", "error: invalid "
			  "arguments for write_file: missing required field "
			  "\"content\"");
	assert_args_error("read_file", "{\"path\": 7}", "error: invalid "
			  "arguments for read_file: field \"path\" must be a "
			  "string");
	assert_args_error("list_directory", "{\"path\": \"\"}", "error: invalid "
			  "arguments for list_directory: field \"path\" must not "
			  "be empty");
	assert_args_error("run_command", "{\"command\": \"ls\", \"timeout_ms\": "
			  "1.5}", "error: invalid arguments for run_command: "
			  "field \"timeout_ms\" must be an integer from 1 to "
			  "86400000");
	assert_args_error("edit_file", "{\"path\": \"a\", \"old_string\": \"\", "
			  "\"new_string\": \"b\"}", "error: invalid arguments for "
			  "edit_file: field \"old_string\" must not be empty");
	assert_args_error("load_skill", "{}", "error: invalid arguments for "
			  "load_skill: missing required field \"name\"");
	assert_args_error("load_skill", "{\"name\": \"\"}", "error: invalid "
			  "arguments for load_skill: field \"name\" must not "
			  "be empty");
	assert_args_error("load_skill", "{\"name\": \"a2345678901234567890"
			  "123456789012345678901234567890123456789012345\"}",
			  "error: invalid arguments for load_skill: field "
			  "\"name\" is 65 bytes, at most 64 are accepted");
	assert_args_error("load_skill", "{\"name\": \"x\", \"file\": 3}",
			  "error: invalid arguments for load_skill: field "
			  "\"file\" must be a string");
	assert_args_error("add", "{}", "error: unknown tool \"add\"");
	assert_args_error("read_file", NULL, "error: invalid arguments for "
			  "read_file: arguments are not valid JSON");
}

static void tool_args_valid(void **state)
{
	struct tool_args args;
	char err[512];

	(void)state;
	assert_int_equal(tools_parse("run_command", "{\"command\": \"make\", "
				     "\"timeout_ms\": 5000, \"extra\": 1}",
				     &args, err, sizeof(err)), 0);
	assert_int_equal(args.kind, TOOL_RUN_COMMAND);
	assert_string_equal(args.command, "make");
	assert_int_equal(args.timeout_ms, 5000);
	tools_args_free(&args);

	assert_int_equal(tools_parse("edit_file", "{\"path\": \"a.c\", "
				     "\"old_string\": \"x\", \"new_string\": "
				     "\"\"}", &args, err, sizeof(err)), 0);
	assert_string_equal(args.path, "a.c");
	assert_string_equal(args.old_string, "x");
	assert_string_equal(args.new_string, "");
	tools_args_free(&args);

	assert_int_equal(tools_parse("load_skill", "{\"name\": \"pdf\", "
				     "\"file\": \"forms.md\"}", &args, err,
				     sizeof(err)), 0);
	assert_int_equal(args.kind, TOOL_LOAD_SKILL);
	assert_string_equal(args.skill, "pdf");
	assert_string_equal(args.skill_file, "forms.md");
	assert_null(args.path);
	tools_args_free(&args);
}

static void tolerate_odd_responses(void **state)
{
	static const char body[] =
		"{\"choices\": [{\"message\": {\"content\": \"\", \"tool_calls\": "
		"[{\"function\": {\"name\": \"list_directory\", \"arguments\": "
		"{\"path\": \".\"}}}]}, \"finish_reason\": null}], "
		"\"usage\": null, \"x_groq\": {}}";
	struct openai_response resp;
	char err[256];
	cJSON *m;

	(void)state;
	assert_int_equal(openai_parse_response(body, strlen(body), &resp, err,
					       sizeof(err)), 0);
	assert_null(resp.finish_reason);
	assert_int_equal(resp.prompt_tokens, -1);
	assert_int_equal(resp.tool_call_count, 1);
	assert_string_equal(resp.tool_calls[0].id, "call_0");
	assert_string_equal(resp.tool_calls[0].arguments, "{\"path\":\".\"}");
	m = openai_assistant_message(&resp);
	assert_null(cJSON_GetObjectItem(m, "content"));
	cJSON_Delete(m);
	openai_response_free(&resp);
}

static void reject_bad_responses(void **state)
{
	static const char *const bodies[][2] = {
		{ "not json", "the response is not a JSON object" },
		{ "{\"choices\": []}", "the response has no \"choices\"" },
		{ "{\"choices\": [{\"message\": 3}]}",
		  "choices[0] has no \"message\" object" },
		{ "{\"choices\": [{\"message\": {\"content\": 5}}]}",
		  "\"content\" is not a string" },
		{ "{\"choices\": [{\"message\": {\"tool_calls\": [{\"id\": \"x\", "
		  "\"function\": {}}]}}]}",
		  "tool call 0 lacks an id or a function name" },
	};
	struct openai_response resp;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_int_equal(openai_parse_response(bodies[i][0],
						       strlen(bodies[i][0]),
						       &resp, err, sizeof(err)),
				 -1);
		assert_string_equal(err, bodies[i][1]);
	}
}

static void error_message_extracted(void **state)
{
	static const char json[] = "{\"error\": {\"message\": \"model not found\"}}";
	static const char html[] = "<html>bad gateway</html>";
	char *m;

	(void)state;
	m = openai_error_message(json, strlen(json), 100);
	assert_string_equal(m, "model not found");
	free(m);
	m = openai_error_message(html, strlen(html), 10);
	assert_string_equal(m, "<html>bad ");
	free(m);
}

static void secret_redacted(void **state)
{
	char *m;

	(void)state;
	m = agent_redact("key sk-1 and sk-1 again", "sk-1");
	assert_string_equal(m, "key [redacted] and [redacted] again");
	free(m);
	m = agent_redact("no key here", NULL);
	assert_string_equal(m, "no key here");
	free(m);
}

static void utf8_cleaned(void **state)
{
	char *t, cut[] = "ab\xc3\xa9";

	(void)state;
	t = text_from_bytes("a\0b\xff\xc3\xa9", 6);
	assert_string_equal(t, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xc3\xa9");
	free(t);
	/* An overlong encoding of "/" is not valid UTF-8. */
	t = text_from_bytes("\xc0\xaf", 2);
	assert_string_equal(t, "\xef\xbf\xbd\xef\xbf\xbd");
	free(t);
	text_truncate(cut, 3);
	assert_string_equal(cut, "ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_parallel_tool_calls),
		cmocka_unit_test(parse_text_answer),
		cmocka_unit_test(build_turn1_messages),
		cmocka_unit_test(request_body_shape),
		cmocka_unit_test(tool_args_invalid),
		cmocka_unit_test(tool_args_valid),
		cmocka_unit_test(tolerate_odd_responses),
		cmocka_unit_test(reject_bad_responses),
		cmocka_unit_test(error_message_extracted),
		cmocka_unit_test(secret_redacted),
		cmocka_unit_test(utf8_cleaned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
