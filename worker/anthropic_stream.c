/*
 * Streamed Anthropic Messages: message_start, content_block_start,
 * content_block_delta, content_block_stop, message_delta, message_stop,
 * ping and error events, folded into one response.
 *
 * Tolerated, as tests/fixtures/anthropic shows servers do it: data JSON
 * padded with spaces, ping events inside a tool_use block, a tool with no
 * arguments whose only input_json_delta is "" (its input is {}), thinking
 * blocks (never answer text), and fields nobody documents.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "anthropic.h"
#include "lib/error.h"

#define NAME_MAX_BYTES 256
#define INPUT_MAX (4L * 1024 * 1024)

void anthropic_stream_init(struct anthropic_stream *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < ANTHROPIC_BLOCKS_MAX; i++)
		buf_init(&s->blocks[i].text, INPUT_MAX);
	s->input_tokens = -1;
	s->output_tokens = -1;
}

void anthropic_stream_free(struct anthropic_stream *s)
{
	size_t i;

	for (i = 0; i < ANTHROPIC_BLOCKS_MAX; i++) {
		free(s->blocks[i].id);
		free(s->blocks[i].name);
		free(s->blocks[i].input);
		buf_free(&s->blocks[i].text);
	}
	free(s->model);
	free(s->stop_reason);
	memset(s, 0, sizeof(*s));
}

static int copy_string(char **slot, const char *value, char *err,
		       size_t errlen)
{
	if (!value)
		return 0;
	if (strlen(value) > NAME_MAX_BYTES)
		return error_set(err, errlen, "a streamed name or id exceeds %d "
			    "bytes", NAME_MAX_BYTES);
	free(*slot);
	*slot = strdup(value);
	return *slot ? 0 : error_set(err, errlen, "out of memory");
}

/*
 * input_tokens arrive in message_start; message_delta repeats or updates
 * them with the final output_tokens, so later counts replace earlier ones.
 */
static void take_usage(struct anthropic_stream *s, const cJSON *usage)
{
	long long n = json_count_member(usage, "input_tokens"), c;

	if (n >= 0) {
		c = json_count_member(usage, "cache_read_input_tokens");
		n += c > 0 ? c : 0;
		c = json_count_member(usage, "cache_creation_input_tokens");
		n += c > 0 ? c : 0;
		s->input_tokens = n;
	}
	n = json_count_member(usage, "output_tokens");
	if (n >= 0)
		s->output_tokens = n;
}

static int on_message_start(struct anthropic_stream *s, const cJSON *ev,
			    char *err, size_t errlen)
{
	const cJSON *message = cJSON_GetObjectItemCaseSensitive(ev, "message");

	s->started = true;
	take_usage(s, cJSON_GetObjectItemCaseSensitive(message, "usage"));
	return copy_string(&s->model, json_string_member(message, "model"),
			   err, errlen);
}

static struct anthropic_block *block_at(struct anthropic_stream *s,
					const cJSON *ev, char *err,
					size_t errlen)
{
	const cJSON *index = cJSON_GetObjectItemCaseSensitive(ev, "index");
	double d = cJSON_IsNumber(index) ? index->valuedouble : -1;

	if (d < 0 || d >= ANTHROPIC_BLOCKS_MAX || d != (double)(size_t)d) {
		error_set(err, errlen, "a content block event has index %.0f, "
		     "expected 0 to %d", d, ANTHROPIC_BLOCKS_MAX - 1);
		return NULL;
	}
	if ((size_t)d + 1 > s->block_slots)
		s->block_slots = (size_t)d + 1;
	return &s->blocks[(size_t)d];
}

static int on_block_start(struct anthropic_stream *s, const cJSON *ev,
			  char *err, size_t errlen)
{
	struct anthropic_block *b = block_at(s, ev, err, errlen);
	const cJSON *cb = cJSON_GetObjectItemCaseSensitive(ev, "content_block");
	const char *type = json_string_member(cb, "type"), *text;
	const cJSON *input;

	if (!b)
		return -1;
	if (!type || (strcmp(type, "text") != 0 &&
		      strcmp(type, "tool_use") != 0)) {
		b->type = ANTHROPIC_BLOCK_OTHER;
		return 0;
	}
	if (strcmp(type, "text") == 0) {
		b->type = ANTHROPIC_BLOCK_TEXT;
		text = json_string_member(cb, "text");
		if (text && buf_append(&b->text, text, strlen(text)) < 0)
			return error_set(err, errlen, "a text block is too large");
		return 0;
	}

	b->type = ANTHROPIC_BLOCK_TOOL_USE;
	input = cJSON_GetObjectItemCaseSensitive(cb, "input");
	if (cJSON_IsObject(input) && input->child) {
		b->input = cJSON_PrintUnformatted(input);
		if (!b->input)
			return error_set(err, errlen, "out of memory");
	}
	if (copy_string(&b->id, json_string_member(cb, "id"), err, errlen) < 0 ||
	    copy_string(&b->name, json_string_member(cb, "name"), err, errlen) < 0)
		return -1;
	return 0;
}

static int on_block_delta(struct anthropic_stream *s, const cJSON *ev,
			  char *err, size_t errlen)
{
	struct anthropic_block *b = block_at(s, ev, err, errlen);
	const cJSON *delta = cJSON_GetObjectItemCaseSensitive(ev, "delta");
	const char *type = json_string_member(delta, "type"), *part = NULL;

	if (!b)
		return -1;
	if (!type)
		return 0;
	/* thinking_delta, signature_delta and citations are not answers. */
	if (strcmp(type, "text_delta") == 0 && b->type == ANTHROPIC_BLOCK_TEXT)
		part = json_string_member(delta, "text");
	else if (strcmp(type, "input_json_delta") == 0 &&
		 b->type == ANTHROPIC_BLOCK_TOOL_USE)
		part = json_string_member(delta, "partial_json");
	if (part && buf_append(&b->text, part, strlen(part)) < 0)
		return error_set(err, errlen, "content block %ld exceeds %ld bytes",
			    (long)(b - s->blocks), INPUT_MAX);
	return 0;
}

static int on_message_delta(struct anthropic_stream *s, const cJSON *ev,
			    char *err, size_t errlen)
{
	const cJSON *delta = cJSON_GetObjectItemCaseSensitive(ev, "delta");

	take_usage(s, cJSON_GetObjectItemCaseSensitive(ev, "usage"));
	return copy_string(&s->stop_reason, json_string_member(delta, "stop_reason"),
			   err, errlen);
}

static int on_error(struct anthropic_stream *s, const cJSON *ev, char *err,
		    size_t errlen)
{
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(ev, "error");
	const char *type = json_string_member(error, "type");
	const char *message = json_string_member(error, "message");

	s->server_error = true;
	return error_set(err, errlen, "the model endpoint sent an error in the "
		    "stream: %.64s: %.512s", type ? type : "error",
		    message ? message : "(no message)");
}

int anthropic_stream_event(struct anthropic_stream *s, const char *name,
			   const char *data, size_t len, char *err,
			   size_t errlen)
{
	cJSON *ev = cJSON_ParseWithLength(data, len);
	const char *type = json_string_member(ev, "type");
	int rc = 0;

	if (!cJSON_IsObject(ev)) {
		cJSON_Delete(ev);
		return error_set(err, errlen, "stream event %zu (%.64s) is not a "
			    "JSON object", s->events + 1, name ? name : "?");
	}
	s->events++;
	if (!type)
		type = name ? name : "";

	if (strcmp(type, "message_start") == 0)
		rc = on_message_start(s, ev, err, errlen);
	else if (strcmp(type, "content_block_start") == 0)
		rc = on_block_start(s, ev, err, errlen);
	else if (strcmp(type, "content_block_delta") == 0)
		rc = on_block_delta(s, ev, err, errlen);
	else if (strcmp(type, "message_delta") == 0)
		rc = on_message_delta(s, ev, err, errlen);
	else if (strcmp(type, "message_stop") == 0)
		s->stopped = true;
	else if (strcmp(type, "error") == 0)
		rc = on_error(s, ev, err, errlen);
	/* ping, content_block_stop and newer event types change nothing. */
	cJSON_Delete(ev);
	return rc;
}

bool anthropic_stream_complete(const struct anthropic_stream *s)
{
	return s->stopped;
}

static cJSON *block_call(const struct anthropic_block *b)
{
	cJSON *c = cJSON_CreateObject();
	cJSON *f = cJSON_AddObjectToObject(c, "function");
	const char *args = b->text.len ? b->text.data :
			   b->input ? b->input : "{}";

	if (!c || !f || !cJSON_AddStringToObject(c, "type", "function") ||
	    (b->id && !cJSON_AddStringToObject(c, "id", b->id)) ||
	    (b->name && !cJSON_AddStringToObject(f, "name", b->name)) ||
	    !cJSON_AddStringToObject(f, "arguments", args)) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

static int fill_message(const struct anthropic_stream *s, cJSON *message)
{
	cJSON *calls = cJSON_AddArrayToObject(message, "tool_calls"), *c;
	const struct anthropic_block *b;
	struct buf text;
	size_t i;
	int rc = -1;

	buf_init(&text, OPENAI_STREAM_TEXT_MAX);
	for (i = 0; calls && i < s->block_slots; i++) {
		b = &s->blocks[i];
		if (b->type == ANTHROPIC_BLOCK_TEXT &&
		    buf_append(&text, b->text.data ? b->text.data : "",
			       b->text.len) < 0)
			goto out;
		if (b->type != ANTHROPIC_BLOCK_TOOL_USE)
			continue;
		c = block_call(b);
		if (!c || !cJSON_AddItemToArray(calls, c)) {
			cJSON_Delete(c);
			goto out;
		}
	}
	if (calls && (!text.len ||
		      cJSON_AddStringToObject(message, "content", text.data)))
		rc = 0;
out:
	buf_free(&text);
	return rc;
}

int anthropic_stream_result(struct anthropic_stream *s,
			    struct openai_response *resp, char *err,
			    size_t errlen)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *choices = cJSON_AddArrayToObject(root, "choices");
	cJSON *choice = cJSON_CreateObject(), *message, *usage;

	memset(resp, 0, sizeof(*resp));
	if (!choices || !choice || !cJSON_AddItemToArray(choices, choice)) {
		cJSON_Delete(choice);
		goto bad;
	}
	message = cJSON_AddObjectToObject(choice, "message");
	usage = cJSON_AddObjectToObject(root, "usage");
	if (!message || !usage ||
	    !cJSON_AddStringToObject(message, "role", "assistant") ||
	    (s->model && !cJSON_AddStringToObject(root, "model", s->model)) ||
	    (s->stop_reason && !cJSON_AddStringToObject(choice,
			"finish_reason", s->stop_reason)) ||
	    (s->input_tokens >= 0 && !cJSON_AddNumberToObject(usage,
			"prompt_tokens", (double)s->input_tokens)) ||
	    (s->output_tokens >= 0 && !cJSON_AddNumberToObject(usage,
			"completion_tokens", (double)s->output_tokens)) ||
	    fill_message(s, message) < 0)
		goto bad;
	return openai_parse_root(root, resp, err, errlen);
bad:
	cJSON_Delete(root);
	return error_set(err, errlen, "out of memory or a response too large to "
		    "assemble");
}
