/*
 * Anthropic Messages: converting requests out of, and responses into, the
 * Chat Completions form the agent keeps.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "json.h"
#include "anthropic.h"
#include "lib/error.h"

/* ---- requests ---- */

/* True when m is a message whose role is "user"; false for NULL. */
static bool is_user(const cJSON *m)
{
	const char *role = json_string_member(m, "role");

	return role && strcmp(role, "user") == 0;
}

static cJSON *text_block(const char *text)
{
	cJSON *b = cJSON_CreateObject();

	if (!b || !cJSON_AddStringToObject(b, "type", "text") ||
	    !cJSON_AddStringToObject(b, "text", text)) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

/* Arguments the model wrote that are not a JSON object go back as {}. */
static cJSON *tool_use_block(const cJSON *call)
{
	const cJSON *function = cJSON_GetObjectItemCaseSensitive(call,
								 "function");
	const char *args = json_string_member(function, "arguments");
	cJSON *b = cJSON_CreateObject();
	cJSON *input = cJSON_Parse(args ? args : "");

	if (!cJSON_IsObject(input)) {
		cJSON_Delete(input);
		input = cJSON_CreateObject();
	}
	if (!b || !input || !cJSON_AddStringToObject(b, "type", "tool_use") ||
	    !cJSON_AddStringToObject(b, "id", json_string_member(call, "id") ?
				     json_string_member(call, "id") : "") ||
	    !cJSON_AddStringToObject(b, "name", json_string_member(function, "name") ?
				     json_string_member(function, "name") : "")) {
		cJSON_Delete(input);
		cJSON_Delete(b);
		return NULL;
	}
	cJSON_AddItemToObject(b, "input", input);
	return b;
}

static cJSON *assistant_blocks(const cJSON *m)
{
	const char *content = json_string_member(m, "content");
	cJSON *blocks = cJSON_CreateArray(), *b;
	const cJSON *call;

	if (!blocks)
		return NULL;
	if (content && content[0]) {
		b = text_block(content);
		if (!b || !cJSON_AddItemToArray(blocks, b))
			goto bad;
	}
	cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(m,
							"tool_calls")) {
		b = tool_use_block(call);
		if (!b || !cJSON_AddItemToArray(blocks, b))
			goto bad;
	}
	return blocks;
bad:
	cJSON_Delete(blocks);
	return NULL;
}

/* A tool message becomes a tool_result block; "error: ..." sets is_error. */
static cJSON *tool_result_block(const cJSON *m)
{
	const char *content = json_string_member(m, "content");
	const char *id = json_string_member(m, "tool_call_id");
	cJSON *b = cJSON_CreateObject();

	if (!content)
		content = "";
	if (!b || !cJSON_AddStringToObject(b, "type", "tool_result") ||
	    !cJSON_AddStringToObject(b, "tool_use_id", id ? id : "") ||
	    !cJSON_AddStringToObject(b, "content", content) ||
	    (strncmp(content, "error: ", 7) == 0 &&
	     !cJSON_AddBoolToObject(b, "is_error", true))) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

static cJSON *message_with(const char *role, cJSON *content)
{
	cJSON *m = cJSON_CreateObject();

	if (!m || !content || !cJSON_AddStringToObject(m, "role", role)) {
		cJSON_Delete(m);
		cJSON_Delete(content);
		return NULL;
	}
	cJSON_AddItemToObject(m, "content", content);
	return m;
}

/*
 * Consecutive tool messages share one user message, as the API wants all
 * results for one assistant turn together.
 */
static int convert_tool(cJSON *out, const cJSON *m)
{
	cJSON *last = cJSON_GetArrayItem(out, cJSON_GetArraySize(out) - 1);
	cJSON *content = cJSON_GetObjectItemCaseSensitive(last, "content");
	cJSON *block = tool_result_block(m), *first;
	const char *type;

	if (!block)
		return -1;
	first = cJSON_GetArrayItem(content, 0);
	type = json_string_member(first, "type");
	if (last && cJSON_IsArray(content) &&
	    is_user(last) &&
	    type && strcmp(type, "tool_result") == 0)
		return cJSON_AddItemToArray(content, block) ? 0 : -1;

	content = cJSON_CreateArray();
	if (!content || !cJSON_AddItemToArray(content, block)) {
		cJSON_Delete(content);
		cJSON_Delete(block);
		return -1;
	}
	return cJSON_AddItemToArray(out, message_with("user", content)) ? 0 : -1;
}

/*
 * The API wants user and assistant turns to alternate. Two user texts in a
 * row (a compaction summary after the task, a task after a cancelled turn)
 * become one user message with a text block each.
 */
static int convert_user_text(cJSON *out, const char *text)
{
	cJSON *last = cJSON_GetArrayItem(out, cJSON_GetArraySize(out) - 1);
	cJSON *content = cJSON_GetObjectItemCaseSensitive(last, "content");
	cJSON *blocks, *block;

	if (!is_user(last))
		return cJSON_AddItemToArray(out, message_with("user",
				cJSON_CreateString(text))) ? 0 : -1;
	if (cJSON_IsString(content)) {
		blocks = cJSON_CreateArray();
		block = text_block(content->valuestring);
		if (!blocks || !block || !cJSON_AddItemToArray(blocks, block)) {
			cJSON_Delete(blocks);
			cJSON_Delete(block);
			return -1;
		}
		if (!cJSON_ReplaceItemInObjectCaseSensitive(last, "content",
							     blocks)) {
			cJSON_Delete(blocks);
			return -1;
		}
		content = blocks;
	}
	block = text_block(text);
	if (!block || !cJSON_AddItemToArray(content, block)) {
		cJSON_Delete(block);
		return -1;
	}
	return 0;
}

static int convert_message(cJSON *out, struct buf *system, const cJSON *m)
{
	const char *role = json_string_member(m, "role");
	const char *content = json_string_member(m, "content");
	cJSON *blocks;

	if (!role)
		return 0;
	if (strcmp(role, "system") == 0) {
		if (system->len && buf_append(system, "\n\n", 2) < 0)
			return -1;
		return content ? buf_append(system, content,
					    strlen(content)) : 0;
	}
	if (strcmp(role, "tool") == 0)
		return convert_tool(out, m);
	if (strcmp(role, "assistant") == 0) {
		blocks = assistant_blocks(m);
		/* An empty assistant turn has nothing the API would accept. */
		if (blocks && cJSON_GetArraySize(blocks) == 0) {
			cJSON_Delete(blocks);
			return 0;
		}
		return cJSON_AddItemToArray(out, message_with("assistant",
						blocks)) ? 0 : -1;
	}
	return convert_user_text(out, content ? content : "");
}

static cJSON *convert_tools(const cJSON *tools)
{
	cJSON *out = cJSON_CreateArray(), *t, *schema;
	const cJSON *tool, *function;
	const char *name, *description;

	cJSON_ArrayForEach(tool, tools) {
		function = cJSON_GetObjectItemCaseSensitive(tool, "function");
		name = json_string_member(function, "name");
		description = json_string_member(function, "description");
		t = cJSON_CreateObject();
		if (!out || !t || !cJSON_AddItemToArray(out, t)) {
			cJSON_Delete(t);
			goto bad;
		}
		schema = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
				function, "parameters"), true);
		if (!schema || !cJSON_AddItemToObject(t, "input_schema", schema)) {
			cJSON_Delete(schema);
			goto bad;
		}
		if (!cJSON_AddStringToObject(t, "name", name ? name : "") ||
		    (description && !cJSON_AddStringToObject(t, "description",
							     description)))
			goto bad;
	}
	return out;
bad:
	cJSON_Delete(out);
	return NULL;
}

cJSON *anthropic_request(const char *model, const cJSON *messages,
			 const cJSON *tools, bool stream)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *out = cJSON_AddArrayToObject(body, "messages");
	const cJSON *m;
	struct buf system;

	buf_init(&system, 16L * 1024 * 1024);
	if (!body || !out || !cJSON_AddStringToObject(body, "model", model) ||
	    !cJSON_AddNumberToObject(body, "max_tokens", ANTHROPIC_MAX_TOKENS))
		goto bad;
	cJSON_ArrayForEach(m, messages)
		if (convert_message(out, &system, m) < 0)
			goto bad;
	if (system.len && !cJSON_AddStringToObject(body, "system", system.data))
		goto bad;
	if (tools && cJSON_GetArraySize(tools) > 0) {
		cJSON *t = convert_tools(tools);

		if (!t)
			goto bad;
		cJSON_AddItemToObject(body, "tools", t);
	}
	if (stream && !cJSON_AddBoolToObject(body, "stream", true))
		goto bad;
	buf_free(&system);
	return body;
bad:
	buf_free(&system);
	cJSON_Delete(body);
	return NULL;
}

/* ---- responses, in Chat Completions form ---- */

/*
 * input_tokens leaves out what the prompt cache served; the prompt's size
 * is the sum of all three.
 */
static long long input_count(const cJSON *usage)
{
	long long n = json_count_member(usage, "input_tokens"), c;

	if (n < 0)
		return -1;
	c = json_count_member(usage, "cache_read_input_tokens");
	n += c > 0 ? c : 0;
	c = json_count_member(usage, "cache_creation_input_tokens");
	n += c > 0 ? c : 0;
	return n;
}

static cJSON *call_json(const char *id, const char *name, const char *args)
{
	cJSON *c = cJSON_CreateObject();
	cJSON *f = cJSON_AddObjectToObject(c, "function");

	if (!c || !f || !cJSON_AddStringToObject(c, "type", "function") ||
	    (id && !cJSON_AddStringToObject(c, "id", id)) ||
	    (name && !cJSON_AddStringToObject(f, "name", name)) ||
	    !cJSON_AddStringToObject(f, "arguments", args)) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

/* The skeleton {model, choices: [{finish_reason, message}], usage}. */
static cJSON *result_root(const char *model, const char *stop_reason,
			  long long in, long long out, cJSON **message)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *choices = cJSON_AddArrayToObject(root, "choices");
	cJSON *choice = cJSON_CreateObject(), *usage;

	if (!choices || !choice || !cJSON_AddItemToArray(choices, choice)) {
		cJSON_Delete(choice);
		goto bad;
	}
	*message = cJSON_AddObjectToObject(choice, "message");
	usage = cJSON_AddObjectToObject(root, "usage");
	if (!*message || !usage ||
	    !cJSON_AddStringToObject(*message, "role", "assistant") ||
	    (model && !cJSON_AddStringToObject(root, "model", model)) ||
	    (stop_reason && !cJSON_AddStringToObject(choice, "finish_reason",
						     stop_reason)) ||
	    (in >= 0 && !cJSON_AddNumberToObject(usage, "prompt_tokens",
						 (double)in)) ||
	    (out >= 0 && !cJSON_AddNumberToObject(usage, "completion_tokens",
						  (double)out)))
		goto bad;
	return root;
bad:
	cJSON_Delete(root);
	return NULL;
}

static int add_text(cJSON *message, struct buf *text)
{
	if (!text->len)
		return 0;
	return cJSON_AddStringToObject(message, "content", text->data) ? 0 : -1;
}

static int body_blocks(const cJSON *content, cJSON *message, char *err,
		       size_t errlen)
{
	cJSON *calls = cJSON_AddArrayToObject(message, "tool_calls"), *c;
	const cJSON *block;
	const char *type, *text;
	char *args;
	struct buf joined;
	int rc = -1;

	buf_init(&joined, OPENAI_STREAM_TEXT_MAX);
	if (!calls)
		goto out;
	cJSON_ArrayForEach(block, content) {
		type = json_string_member(block, "type");
		if (type && strcmp(type, "text") == 0) {
			text = json_string_member(block, "text");
			if (text && buf_append(&joined, text, strlen(text)) < 0) {
				error_set(err, errlen, "the response text is too large");
				goto out;
			}
		} else if (type && strcmp(type, "tool_use") == 0) {
			args = cJSON_PrintUnformatted(
				cJSON_GetObjectItemCaseSensitive(block, "input"));
			c = call_json(json_string_member(block, "id"),
				      json_string_member(block, "name"),
				      args && args[0] == '{' ? args : "{}");
			free(args);
			if (!c || !cJSON_AddItemToArray(calls, c)) {
				cJSON_Delete(c);
				goto oom;
			}
		}
	}
	if (add_text(message, &joined) < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	error_set(err, errlen, "out of memory");
out:
	buf_free(&joined);
	return rc;
}

int anthropic_parse_response(const char *body, size_t len,
			     struct openai_response *resp, char *err,
			     size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(body, len), *out, *message;
	const cJSON *content, *usage;
	const char *type;

	memset(resp, 0, sizeof(*resp));
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return error_set(err, errlen, "the response is not a JSON object");
	}
	type = json_string_member(root, "type");
	content = cJSON_GetObjectItemCaseSensitive(root, "content");
	if ((type && strcmp(type, "message") != 0) || !cJSON_IsArray(content)) {
		cJSON_Delete(root);
		return error_set(err, errlen, "the response is not a message with "
			    "a \"content\" array");
	}
	usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	out = result_root(json_string_member(root, "model"),
			  json_string_member(root, "stop_reason"), input_count(usage),
			  json_count_member(usage, "output_tokens"), &message);
	if (!out || body_blocks(content, message, err, errlen) < 0) {
		if (!out)
			error_set(err, errlen, "out of memory");
		cJSON_Delete(out);
		cJSON_Delete(root);
		return -1;
	}
	cJSON_Delete(root);
	return openai_parse_root(out, resp, err, errlen);
}
