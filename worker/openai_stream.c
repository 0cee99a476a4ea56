/*
 * Streamed Chat Completions: fold "chat.completion.chunk" objects into one
 * response.
 *
 * What servers send, and what the folding copes with (all of it appears in
 * tests/fixtures/openai): a tool call's id and name only in its first
 * delta, later deltas carrying only index and an argument fragment split
 * anywhere, later deltas repeating "id": "" or "arguments": "" (an empty
 * string never replaces a stored value), the first tool call at index 1
 * after text, usage in a final chunk with "choices": [] or beside the
 * finish_reason, reasoning text in its own delta fields, and fields nobody
 * documents.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "openai.h"
#include "lib/error.h"

#define NAME_MAX_BYTES 256
#define ID_MAX_BYTES 256

void openai_stream_init(struct openai_stream *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	buf_init(&s->content, OPENAI_STREAM_TEXT_MAX);
	buf_init(&s->refusal, OPENAI_STREAM_TEXT_MAX);
	for (i = 0; i < OPENAI_TOOL_CALLS_MAX; i++)
		buf_init(&s->calls[i].arguments, OPENAI_STREAM_TEXT_MAX);
	s->prompt_tokens = -1;
	s->completion_tokens = -1;
}

void openai_stream_free(struct openai_stream *s)
{
	size_t i;

	buf_free(&s->content);
	buf_free(&s->refusal);
	for (i = 0; i < OPENAI_TOOL_CALLS_MAX; i++) {
		free(s->calls[i].id);
		free(s->calls[i].name);
		buf_free(&s->calls[i].arguments);
	}
	free(s->model);
	free(s->finish_reason);
	memset(s, 0, sizeof(*s));
}

/* A non-empty string member, or NULL. */
static const char *nonempty(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsString(item) || !item->valuestring[0])
		return NULL;
	return item->valuestring;
}

/* Keep the first non-empty value; later ones repeat or are noise. */
static int keep_first(char **slot, const char *value, size_t max,
		      const char *what, char *err, size_t errlen)
{
	if (!value || *slot)
		return 0;
	if (strlen(value) > max)
		return error_set(err, errlen, "a streamed %s exceeds %zu bytes",
			    what, max);
	*slot = strdup(value);
	return *slot ? 0 : error_set(err, errlen, "out of memory");
}

static int append_text(struct buf *b, const cJSON *obj, const char *name,
		       char *err, size_t errlen)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsString(item))
		return 0;
	if (buf_append(b, item->valuestring, strlen(item->valuestring)) < 0)
		return error_set(err, errlen, "the streamed %s exceeds %zu bytes",
			    name, b->max);
	return 0;
}

/*
 * A delta without an index continues the last call: some servers leave
 * it out when they stream one call at a time.
 */
static int call_index(const struct openai_stream *s, const cJSON *delta,
		      size_t *index, char *err, size_t errlen)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(delta, "index");
	double d;

	if (!item || cJSON_IsNull(item)) {
		*index = s->call_slots ? s->call_slots - 1 : 0;
		return 0;
	}
	d = cJSON_IsNumber(item) ? item->valuedouble : -1;
	if (d < 0 || d >= OPENAI_TOOL_CALLS_MAX || d != (double)(size_t)d)
		return error_set(err, errlen, "a streamed tool call has index %.0f, "
			    "expected 0 to %d", d, OPENAI_TOOL_CALLS_MAX - 1);
	*index = (size_t)d;
	return 0;
}

static int fold_tool_call(struct openai_stream *s, const cJSON *delta,
			  char *err, size_t errlen)
{
	const cJSON *function = cJSON_GetObjectItemCaseSensitive(delta,
								 "function");
	struct openai_stream_call *call;
	size_t index = 0;

	if (!cJSON_IsObject(delta))
		return error_set(err, errlen, "a streamed tool call is not an object");
	if (call_index(s, delta, &index, err, errlen) < 0)
		return -1;
	call = &s->calls[index];
	call->seen = true;
	if (index + 1 > s->call_slots)
		s->call_slots = index + 1;

	if (keep_first(&call->id, nonempty(delta, "id"), ID_MAX_BYTES,
		       "tool call id", err, errlen) < 0 ||
	    keep_first(&call->name, nonempty(function, "name"), NAME_MAX_BYTES,
		       "tool name", err, errlen) < 0)
		return -1;

	/* Some servers send the whole arguments as an object at once. */
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(function,
							    "arguments"))) {
		char *text = cJSON_PrintUnformatted(
			cJSON_GetObjectItemCaseSensitive(function, "arguments"));
		int rc = text ? buf_append(&call->arguments, text,
					   strlen(text)) : -1;

		free(text);
		return rc < 0 ? error_set(err, errlen, "the streamed arguments of "
				     "tool call %zu are too large", index) : 0;
	}
	return append_text(&call->arguments, function, "arguments",
			   err, errlen);
}

static int fold_delta(struct openai_stream *s, const cJSON *delta,
		      char *err, size_t errlen)
{
	const cJSON *calls, *call, *item;

	if (!cJSON_IsObject(delta))
		return 0;
	if (append_text(&s->content, delta, "content", err, errlen) < 0 ||
	    append_text(&s->refusal, delta, "refusal", err, errlen) < 0)
		return -1;

	/* DeepSeek says reasoning_content, OpenRouter and vLLM reasoning. */
	item = cJSON_GetObjectItemCaseSensitive(delta, "reasoning_content");
	if (cJSON_IsString(item))
		s->reasoning_bytes += strlen(item->valuestring);
	item = cJSON_GetObjectItemCaseSensitive(delta, "reasoning");
	if (cJSON_IsString(item))
		s->reasoning_bytes += strlen(item->valuestring);

	calls = cJSON_GetObjectItemCaseSensitive(delta, "tool_calls");
	if (!cJSON_IsArray(calls))
		return 0;
	cJSON_ArrayForEach(call, calls)
		if (fold_tool_call(s, call, err, errlen) < 0)
			return -1;
	return 0;
}

static int fold_choices(struct openai_stream *s, const cJSON *choices,
			char *err, size_t errlen)
{
	const cJSON *choice, *index;

	if (!cJSON_IsArray(choices))
		return 0;
	cJSON_ArrayForEach(choice, choices) {
		index = cJSON_GetObjectItemCaseSensitive(choice, "index");
		if (cJSON_IsNumber(index) && index->valuedouble != 0)
			continue;
		if (keep_first(&s->finish_reason, nonempty(choice,
				"finish_reason"), 64, "finish_reason",
				err, errlen) < 0)
			return -1;
		if (fold_delta(s, cJSON_GetObjectItemCaseSensitive(choice,
				"delta"), err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int fold_error(struct openai_stream *s, const cJSON *error,
		      char *err, size_t errlen)
{
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(error,
								"message");

	s->server_error = true;
	if (cJSON_IsString(message))
		return error_set(err, errlen, "the model endpoint sent an error "
			    "in the stream: %.512s", message->valuestring);
	if (cJSON_IsString(error))
		return error_set(err, errlen, "the model endpoint sent an error "
			    "in the stream: %.512s", error->valuestring);
	return error_set(err, errlen, "the model endpoint sent an error object "
		    "in the stream");
}

int openai_stream_data(struct openai_stream *s, const char *data, size_t len,
		       char *err, size_t errlen)
{
	cJSON *chunk, *usage, *error;
	int rc = -1;

	if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
		s->done = true;
		return 0;
	}
	chunk = cJSON_ParseWithLength(data, len);
	if (!cJSON_IsObject(chunk)) {
		error_set(err, errlen, "stream chunk %zu is not a JSON object",
		     s->chunks + 1);
		goto out;
	}
	s->chunks++;

	error = cJSON_GetObjectItemCaseSensitive(chunk, "error");
	if (error && !cJSON_IsNull(error)) {
		fold_error(s, error, err, errlen);
		goto out;
	}
	if (keep_first(&s->model, nonempty(chunk, "model"), NAME_MAX_BYTES,
		       "model name", err, errlen) < 0 ||
	    fold_choices(s, cJSON_GetObjectItemCaseSensitive(chunk, "choices"),
			 err, errlen) < 0)
		goto out;

	usage = cJSON_GetObjectItemCaseSensitive(chunk, "usage");
	if (cJSON_IsObject(usage)) {
		s->prompt_tokens = json_count_member(usage, "prompt_tokens");
		s->completion_tokens = json_count_member(usage, "completion_tokens");
	}
	rc = 0;
out:
	cJSON_Delete(chunk);
	return rc;
}

bool openai_stream_complete(const struct openai_stream *s)
{
	return s->done || s->finish_reason;
}

/* {"id", "type": "function", "function": {"name", "arguments"}} */
static cJSON *call_json(const struct openai_stream_call *call)
{
	cJSON *c = cJSON_CreateObject();
	cJSON *f = cJSON_AddObjectToObject(c, "function");
	const char *args = call->arguments.len ? call->arguments.data : "{}";

	if (!c || !f || !cJSON_AddStringToObject(c, "type", "function") ||
	    !cJSON_AddStringToObject(f, "arguments", args) ||
	    (call->id && !cJSON_AddStringToObject(c, "id", call->id)) ||
	    (call->name && !cJSON_AddStringToObject(f, "name", call->name))) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

static int add_usage(const struct openai_stream *s, cJSON *root)
{
	cJSON *usage;

	if (s->prompt_tokens < 0 && s->completion_tokens < 0)
		return 0;
	usage = cJSON_AddObjectToObject(root, "usage");
	if (!usage ||
	    (s->prompt_tokens >= 0 &&
	     !cJSON_AddNumberToObject(usage, "prompt_tokens",
				      (double)s->prompt_tokens)) ||
	    (s->completion_tokens >= 0 &&
	     !cJSON_AddNumberToObject(usage, "completion_tokens",
				      (double)s->completion_tokens)))
		return -1;
	return 0;
}

static int add_calls(const struct openai_stream *s, cJSON *message)
{
	cJSON *calls = cJSON_AddArrayToObject(message, "tool_calls");
	cJSON *c;
	size_t i;

	if (!calls)
		return -1;
	for (i = 0; i < s->call_slots; i++) {
		/* A gap in the indices is not a call. */
		if (!s->calls[i].seen)
			continue;
		c = call_json(&s->calls[i]);
		if (!c || !cJSON_AddItemToArray(calls, c)) {
			cJSON_Delete(c);
			return -1;
		}
	}
	return 0;
}

/* The response as one non-streamed body would have carried it. */
static cJSON *stream_root(const struct openai_stream *s)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *choices = cJSON_AddArrayToObject(root, "choices");
	cJSON *choice = cJSON_CreateObject();
	cJSON *message;

	if (!choices || !choice || !cJSON_AddItemToArray(choices, choice)) {
		cJSON_Delete(choice);
		goto bad;
	}
	message = cJSON_AddObjectToObject(choice, "message");
	if (!message ||
	    (s->model && !cJSON_AddStringToObject(root, "model", s->model)) ||
	    (s->finish_reason && !cJSON_AddStringToObject(choice,
			"finish_reason", s->finish_reason)) ||
	    !cJSON_AddStringToObject(message, "role", "assistant") ||
	    (s->content.len && !cJSON_AddStringToObject(message, "content",
			s->content.data)) ||
	    (s->refusal.len && !cJSON_AddStringToObject(message, "refusal",
			s->refusal.data)) ||
	    add_usage(s, root) < 0 || add_calls(s, message) < 0)
		goto bad;
	return root;
bad:
	cJSON_Delete(root);
	return NULL;
}

int openai_stream_result(struct openai_stream *s, struct openai_response *resp,
			 char *err, size_t errlen)
{
	cJSON *root = stream_root(s);

	if (!root)
		return error_set(err, errlen, "out of memory");
	return openai_parse_root(root, resp, err, errlen);
}
