/*
 * Chat Completions messages and response parsing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "openai.h"
#include "text.h"
#include "lib/error.h"

#define TOOL_CALLS_MAX OPENAI_TOOL_CALLS_MAX

static cJSON *message_new(const char *role, const char *content)
{
	cJSON *m = cJSON_CreateObject();

	if (!m || !cJSON_AddStringToObject(m, "role", role) ||
	    (content && !cJSON_AddStringToObject(m, "content", content))) {
		cJSON_Delete(m);
		return NULL;
	}
	return m;
}

cJSON *openai_system_message(const char *workspace)
{
	static const char fmt[] =
		"You are coworker, a coding agent. You work in the project at "
		"%s and act on it only through the tools you are given; paths "
		"are relative to that directory. Every tool call is checked "
		"against the user's policy and may be denied: when a call is "
		"denied, do not retry it unchanged, choose another way or "
		"explain what you need. Keep going until the task is done, "
		"then finish with a short summary of what you changed and "
		"what you found.";
	char *text;
	cJSON *m;
	int n;

	n = snprintf(NULL, 0, fmt, workspace);
	if (n < 0)
		return NULL;
	text = malloc((size_t)n + 1);
	if (!text)
		return NULL;
	snprintf(text, (size_t)n + 1, fmt, workspace);
	m = message_new("system", text);
	free(text);
	return m;
}

cJSON *openai_user_message(const char *text)
{
	return message_new("user", text);
}

cJSON *openai_tool_message(const char *tool_call_id, const char *content)
{
	cJSON *m = message_new("tool", content);

	if (m && !cJSON_AddStringToObject(m, "tool_call_id", tool_call_id)) {
		cJSON_Delete(m);
		return NULL;
	}
	return m;
}

cJSON *openai_request(const char *model, cJSON *messages, cJSON *tools,
		      bool stream)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *options;

	if (!body || !cJSON_AddStringToObject(body, "model", model) ||
	    !cJSON_AddItemReferenceToObject(body, "messages", messages))
		goto bad;
	/* The API rejects an empty "tools" array and a lone "tool_choice". */
	if (cJSON_GetArraySize(tools) > 0 &&
	    (!cJSON_AddItemReferenceToObject(body, "tools", tools) ||
	     !cJSON_AddStringToObject(body, "tool_choice", "auto")))
		goto bad;
	if (!stream)
		return body;

	/* Without include_usage a stream carries no token counts. */
	if (!cJSON_AddBoolToObject(body, "stream", true))
		goto bad;
	options = cJSON_AddObjectToObject(body, "stream_options");
	if (!options || !cJSON_AddBoolToObject(options, "include_usage", true))
		goto bad;
	return body;
bad:
	cJSON_Delete(body);
	return NULL;
}

/* A member that is a string, or NULL when absent or null. */
static int optional_string(const cJSON *obj, const char *name,
			   const char **out, char *err, size_t errlen)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = NULL;
	if (!item || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item))
		return error_set(err, errlen, "\"%s\" is not a string", name);
	*out = item->valuestring;
	return 0;
}

/*
 * Some servers omit a tool call's id or send its arguments as an object
 * instead of a JSON string. Both are repaired in the parsed tree, so the
 * assistant message sent back carries what the API expects.
 */
static int repair_tool_call(cJSON *call, cJSON *function, size_t index,
			    char *err, size_t errlen)
{
	cJSON *args = cJSON_GetObjectItemCaseSensitive(function, "arguments");
	char id[32], *text;

	if (!cJSON_GetObjectItemCaseSensitive(call, "id") ||
	    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(call, "id"))) {
		snprintf(id, sizeof(id), "call_%zu", index);
		cJSON_DeleteItemFromObjectCaseSensitive(call, "id");
		if (!cJSON_AddStringToObject(call, "id", id))
			return error_set(err, errlen, "out of memory");
	}
	if (!args || cJSON_IsNull(args)) {
		cJSON_DeleteItemFromObjectCaseSensitive(function, "arguments");
		if (!cJSON_AddStringToObject(function, "arguments", "{}"))
			return error_set(err, errlen, "out of memory");
	} else if (cJSON_IsObject(args)) {
		text = cJSON_PrintUnformatted(args);
		if (!text || !cJSON_ReplaceItemInObjectCaseSensitive(function,
				"arguments", cJSON_CreateString(text))) {
			free(text);
			return error_set(err, errlen, "out of memory");
		}
		free(text);
	}
	return 0;
}

static int parse_tool_call(cJSON *call, size_t index,
			   struct openai_tool_call *out, char *err,
			   size_t errlen)
{
	cJSON *function = cJSON_GetObjectItemCaseSensitive(call, "function");
	const char *type;

	if (!cJSON_IsObject(call) || !cJSON_IsObject(function))
		return error_set(err, errlen, "tool call %zu has no \"function\" "
			    "object", index);
	if (optional_string(call, "type", &type, err, errlen) < 0)
		return -1;
	if (type && strcmp(type, "function") != 0)
		return error_set(err, errlen, "tool call %zu has type \"%.32s\", "
			    "expected \"function\"", index, type);
	if (repair_tool_call(call, function, index, err, errlen) < 0)
		return -1;

	if (optional_string(call, "id", &out->id, err, errlen) < 0 ||
	    optional_string(function, "name", &out->name, err, errlen) < 0 ||
	    optional_string(function, "arguments", &out->arguments,
			    err, errlen) < 0)
		return -1;
	if (!out->id || !out->name)
		return error_set(err, errlen, "tool call %zu lacks an id or a "
			    "function name", index);
	return 0;
}

static int parse_tool_calls(cJSON *message, struct openai_response *resp,
			    char *err, size_t errlen)
{
	cJSON *calls = cJSON_GetObjectItemCaseSensitive(message, "tool_calls");
	cJSON *call;
	size_t n, i = 0;

	if (!calls || cJSON_IsNull(calls))
		return 0;
	if (!cJSON_IsArray(calls))
		return error_set(err, errlen, "\"tool_calls\" is not an array");
	n = (size_t)cJSON_GetArraySize(calls);
	if (n == 0)
		return 0;
	if (n > TOOL_CALLS_MAX)
		return error_set(err, errlen, "%zu tool calls in one response, at "
			    "most %d are accepted", n, TOOL_CALLS_MAX);

	resp->tool_calls = calloc(n, sizeof(*resp->tool_calls));
	if (!resp->tool_calls)
		return error_set(err, errlen, "out of memory");
	cJSON_ArrayForEach(call, calls) {
		if (parse_tool_call(call, i, &resp->tool_calls[i],
				    err, errlen) < 0)
			return -1;
		i++;
	}
	resp->tool_call_count = n;
	return 0;
}

static int parse_choice(cJSON *root, struct openai_response *resp,
			char *err, size_t errlen)
{
	cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
	cJSON *choice, *message;

	if (!cJSON_IsArray(choices) || cJSON_GetArraySize(choices) < 1)
		return error_set(err, errlen, "the response has no \"choices\"");
	choice = cJSON_GetArrayItem(choices, 0);
	message = cJSON_GetObjectItemCaseSensitive(choice, "message");
	if (!cJSON_IsObject(choice) || !cJSON_IsObject(message))
		return error_set(err, errlen, "choices[0] has no \"message\" object");

	if (optional_string(choice, "finish_reason", &resp->finish_reason,
			    err, errlen) < 0 ||
	    optional_string(message, "content", &resp->content,
			    err, errlen) < 0 ||
	    optional_string(message, "refusal", &resp->refusal,
			    err, errlen) < 0)
		return -1;
	return parse_tool_calls(message, resp, err, errlen);
}

int openai_parse_root(cJSON *root, struct openai_response *resp, char *err,
		      size_t errlen)
{
	cJSON *usage;

	memset(resp, 0, sizeof(*resp));
	resp->prompt_tokens = -1;
	resp->completion_tokens = -1;

	resp->root = root;
	if (!cJSON_IsObject(resp->root)) {
		error_set(err, errlen, "the response is not a JSON object");
		goto bad;
	}
	if (optional_string(resp->root, "model", &resp->model,
			    err, errlen) < 0 ||
	    parse_choice(resp->root, resp, err, errlen) < 0)
		goto bad;

	usage = cJSON_GetObjectItemCaseSensitive(resp->root, "usage");
	if (cJSON_IsObject(usage)) {
		resp->prompt_tokens = json_count_member(usage, "prompt_tokens");
		resp->completion_tokens =
			json_count_member(usage, "completion_tokens");
	}
	return 0;
bad:
	openai_response_free(resp);
	return -1;
}

int openai_parse_response(const char *body, size_t len,
			  struct openai_response *resp, char *err,
			  size_t errlen)
{
	return openai_parse_root(cJSON_ParseWithLength(body, len), resp,
				 err, errlen);
}

void openai_response_free(struct openai_response *resp)
{
	cJSON_Delete(resp->root);
	free(resp->tool_calls);
	memset(resp, 0, sizeof(*resp));
}

static cJSON *tool_call_json(const struct openai_tool_call *call)
{
	cJSON *c = cJSON_CreateObject();
	cJSON *f = cJSON_CreateObject();

	if (!c || !f || !cJSON_AddStringToObject(c, "id", call->id) ||
	    !cJSON_AddStringToObject(c, "type", "function") ||
	    !cJSON_AddStringToObject(f, "name", call->name) ||
	    !cJSON_AddStringToObject(f, "arguments", call->arguments)) {
		cJSON_Delete(c);
		cJSON_Delete(f);
		return NULL;
	}
	cJSON_AddItemToObject(c, "function", f);
	return c;
}

cJSON *openai_assistant_message(const struct openai_response *resp)
{
	const char *content = resp->content;
	cJSON *m, *calls, *c;
	size_t i;

	/* With tool calls and no text the API expects content left out. */
	if (content && !content[0] && resp->tool_call_count)
		content = NULL;
	m = message_new("assistant", content);
	if (!m || !resp->tool_call_count)
		return m;

	calls = cJSON_AddArrayToObject(m, "tool_calls");
	if (!calls)
		goto bad;
	for (i = 0; i < resp->tool_call_count; i++) {
		c = tool_call_json(&resp->tool_calls[i]);
		if (!c)
			goto bad;
		cJSON_AddItemToArray(calls, c);
	}
	return m;
bad:
	cJSON_Delete(m);
	return NULL;
}

char *openai_error_message(const char *body, size_t len, size_t max)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(error, "message");
	char *text;

	if (cJSON_IsString(message))
		text = text_from_bytes(message->valuestring,
				       strlen(message->valuestring));
	else if (cJSON_IsString(error))
		text = text_from_bytes(error->valuestring,
				       strlen(error->valuestring));
	else
		text = text_from_bytes(body, len < max ? len : max);
	cJSON_Delete(root);
	if (text)
		text_truncate(text, max);
	return text;
}
