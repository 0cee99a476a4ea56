/*
 * OpenAI-compatible Chat Completions, non-streaming: request bodies,
 * response parsing and the messages the conversation grows by.
 *
 * Responses are hostile input. Parsing checks the types of the fields the
 * worker uses, ignores fields it does not know, and treats null as absent.
 */
#ifndef COWORKER_WORKER_OPENAI_H
#define COWORKER_WORKER_OPENAI_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct openai_tool_call {
	const char *id;
	const char *name;
	const char *arguments;	/* a JSON text, as the model wrote it */
};

struct openai_response {
	cJSON *root;		/* owned; the strings below point into it */
	const char *model;	/* NULL when absent */
	const char *content;	/* NULL when null or absent */
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
 * The request body {model, messages, tools, tool_choice}. messages and
 * tools are referenced, not copied: the body must be deleted before them.
 */
cJSON *openai_request(const char *model, cJSON *messages, cJSON *tools);

/* Parse a response body of len bytes. Returns 0 or -1 with err. */
int openai_parse_response(const char *body, size_t len,
			  struct openai_response *resp, char *err,
			  size_t errlen);

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
