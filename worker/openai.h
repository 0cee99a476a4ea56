/*
 * OpenAI-compatible Chat Completions: request bodies, response parsing
 * (whole JSON bodies and streamed chunks) and the messages the
 * conversation grows by. The conversation is kept in this format whatever
 * the provider; anthropic.c converts it.
 *
 * Responses are hostile input. Parsing checks the types of the fields the
 * worker uses, ignores fields it does not know, and treats null as absent.
 */
#ifndef COWORKER_WORKER_OPENAI_H
#define COWORKER_WORKER_OPENAI_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "text.h"

/* More tool calls than this in one response is treated as garbage. */
#define OPENAI_TOOL_CALLS_MAX 128
/* Text, refusal or tool arguments of one streamed response, in bytes. */
#define OPENAI_STREAM_TEXT_MAX (4L * 1024 * 1024)

struct openai_tool_call {
	const char *id;
	const char *name;
	const char *arguments;	/* a JSON text, as the model wrote it */
};

struct openai_response {
	cJSON *root;		/* owned; the strings below point into it */
	const char *model;	/* NULL when absent */
	const char *content;	/* NULL when null or absent */
	const char *refusal;	/* the model's refusal text, or NULL */
	const char *finish_reason;
	long long prompt_tokens;	/* -1 when absent */
	long long completion_tokens;
	struct openai_tool_call *tool_calls;
	size_t tool_call_count;
};

/* The system prompt for a session working in workspace. */
cJSON *openai_system_message(const char *workspace);

cJSON *openai_user_message(const char *text);

/*
 * The request body {model, messages, tools, tool_choice}, plus stream and
 * stream_options.include_usage when stream is set. tools and tool_choice
 * are left out when tools is NULL or empty. messages and tools are
 * referenced, not copied: the body must be deleted before them.
 */
cJSON *openai_request(const char *model, cJSON *messages, cJSON *tools,
		      bool stream);

/* Parse a response body of len bytes. Returns 0 or -1 with err. */
int openai_parse_response(const char *body, size_t len,
			  struct openai_response *resp, char *err,
			  size_t errlen);

/*
 * Parse a response already in JSON form; root moves into resp, also on
 * failure (it is freed then). Returns 0 or -1 with err.
 */
int openai_parse_root(cJSON *root, struct openai_response *resp, char *err,
		      size_t errlen);

/* One tool call being assembled from stream deltas. */
struct openai_stream_call {
	char *id;		/* from the first delta that has a non-empty one */
	char *name;
	struct buf arguments;	/* fragments appended in order */
	bool seen;
};

/*
 * A streamed Chat Completions response, folded chunk by chunk. Only
 * choice 0 is kept. Reasoning deltas ("reasoning_content", "reasoning")
 * are counted, never taken as answer text.
 */
struct openai_stream {
	struct buf content;
	struct buf refusal;
	size_t reasoning_bytes;
	char *model;
	char *finish_reason;
	long long prompt_tokens;	/* -1 until a usage object arrives */
	long long completion_tokens;
	struct openai_stream_call calls[OPENAI_TOOL_CALLS_MAX];
	size_t call_slots;	/* highest tool call index seen, plus one */
	size_t chunks;
	bool done;		/* "data: [DONE]" arrived */
	bool server_error;	/* the stream carried an error object */
};

void openai_stream_init(struct openai_stream *s);

/*
 * Fold one event's data (a chunk's JSON, or "[DONE]"). Returns 0, or -1
 * with err for a chunk that is not JSON, breaks a limit, or is an error
 * object from the server (then s->server_error is set).
 */
int openai_stream_data(struct openai_stream *s, const char *data, size_t len,
		       char *err, size_t errlen);

/* True when the stream ended properly: [DONE] or a finish_reason. */
bool openai_stream_complete(const struct openai_stream *s);

/*
 * The folded response as if it had come in one body: tool calls in index
 * order, empty argument strings as "{}". Returns 0 or -1 with err.
 */
int openai_stream_result(struct openai_stream *s, struct openai_response *resp,
			 char *err, size_t errlen);

void openai_stream_free(struct openai_stream *s);

void openai_response_free(struct openai_response *resp);

/*
 * The assistant message to send back: its content when there is text, and
 * its tool calls as {id, type "function", function {name, arguments}}.
 */
cJSON *openai_assistant_message(const struct openai_response *resp);

cJSON *openai_tool_message(const char *tool_call_id, const char *content);

/*
 * The server's own explanation from an error body: error.message when the
 * body is OpenAI-style JSON, else the start of the body as text. The
 * result is at most max bytes of valid UTF-8; the caller frees it.
 */
char *openai_error_message(const char *body, size_t len, size_t max);

#endif
