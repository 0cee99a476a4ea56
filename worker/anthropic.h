/*
 * The Anthropic Messages API, streamed and not.
 *
 * The conversation stays in Chat Completions form (openai.h); requests are
 * converted on the way out (system prompt apart, tool calls as tool_use
 * blocks, tool results as tool_result blocks in a user message) and
 * responses are converted on the way in to struct openai_response, so the
 * agent loop has one shape to work with.
 */
#ifndef COWORKER_WORKER_ANTHROPIC_H
#define COWORKER_WORKER_ANTHROPIC_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "openai.h"
#include "text.h"

/* The API version the requests and parsing follow. */
#define ANTHROPIC_VERSION "2023-06-01"
/* max_tokens is required by the API; this is the reply budget asked for. */
#define ANTHROPIC_MAX_TOKENS 8192
#define ANTHROPIC_BLOCKS_MAX 128

/*
 * The request body {model, max_tokens, system, messages, tools} (plus
 * stream), built from a Chat Completions conversation and tool list. The
 * result is a new tree the caller deletes. NULL when out of memory.
 */
cJSON *anthropic_request(const char *model, const cJSON *messages,
			 const cJSON *tools, bool stream);

/* Parse a non-streamed Messages response body. Returns 0 or -1 with err. */
int anthropic_parse_response(const char *body, size_t len,
			     struct openai_response *resp, char *err,
			     size_t errlen);

enum anthropic_block_type {
	ANTHROPIC_BLOCK_NONE,	/* no content_block_start for this index */
	ANTHROPIC_BLOCK_TEXT,
	ANTHROPIC_BLOCK_TOOL_USE,
	ANTHROPIC_BLOCK_OTHER,	/* thinking and anything newer: kept out */
};

struct anthropic_block {
	enum anthropic_block_type type;
	char *id;		/* tool_use */
	char *name;
	char *input;		/* tool_use input from the start event, JSON */
	struct buf text;	/* text, or the tool's input_json_delta parts */
};

/* A streamed Messages response, folded event by event. */
struct anthropic_stream {
	struct anthropic_block blocks[ANTHROPIC_BLOCKS_MAX];
	size_t block_slots;	/* highest block index seen, plus one */
	char *model;
	char *stop_reason;
	long long input_tokens;	/* -1 until reported */
	long long output_tokens;
	size_t events;
	bool started;		/* message_start */
	bool stopped;		/* message_stop */
	bool server_error;	/* an "error" event arrived */
};

void anthropic_stream_init(struct anthropic_stream *s);

/*
 * Fold one event. name is the SSE event name (may be NULL); the data's
 * own "type" decides, so payloads without SSE framing work too. Returns 0,
 * or -1 with err (s->server_error set for an "error" event).
 */
int anthropic_stream_event(struct anthropic_stream *s, const char *name,
			   const char *data, size_t len, char *err,
			   size_t errlen);

/* True once message_stop arrived. */
bool anthropic_stream_complete(const struct anthropic_stream *s);

/*
 * The folded response in Chat Completions form: text blocks joined, each
 * tool_use a tool call whose arguments are the joined input_json_delta
 * parts ("{}" when they are all empty). Returns 0 or -1 with err.
 */
int anthropic_stream_result(struct anthropic_stream *s,
			    struct openai_response *resp, char *err,
			    size_t errlen);

void anthropic_stream_free(struct anthropic_stream *s);

#endif
