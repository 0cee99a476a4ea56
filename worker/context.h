/*
 * The context manager: how large the conversation is, and how tool output
 * is cut to fit it.
 *
 * Token counts here are estimates: one token per 4 bytes of the text a
 * message carries (content, tool call names, arguments and ids), plus a
 * few tokens for each message's and each tool call's framing. That is
 * near what BPE tokenizers give for English and code, and needs no
 * tokenizer table in the confined worker. JSON escaping is not counted,
 * because the model receives the decoded text.
 */
#ifndef COWORKER_WORKER_CONTEXT_H
#define COWORKER_WORKER_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define CONTEXT_BYTES_PER_TOKEN 4
#define CONTEXT_MESSAGE_OVERHEAD 4	/* role and separators */
#define CONTEXT_CALL_OVERHEAD 8		/* a tool call's framing */

/* Estimated tokens of one message, of a whole conversation. */
size_t context_message_tokens(const cJSON *message);
size_t context_tokens(const cJSON *messages);

/* Estimated tokens of the "tools" array, which every request repeats. */
size_t context_tools_tokens(const cJSON *tools);

/*
 * The session's token budget: prompt plus completion tokens as the model
 * reports them in each response's usage (responses without usage add
 * nothing).
 */
struct context_budget {
	long long limit;	/* 0: no budget */
	long long spent;
};

void context_budget_add(struct context_budget *b, long long prompt_tokens,
			long long completion_tokens);

/* True when a budget is set and spent reaches it. */
bool context_budget_reached(const struct context_budget *b);

/* The summary of a session that the budget stopped after turn. */
void context_budget_describe(const struct context_budget *b, long turn,
			     char *out, size_t len);

/*
 * Lines offset .. offset+limit-1 (counting from 1; offset 0 means 1,
 * limit 0 means to the end) of text, cut at a line end so that at most
 * budget bytes remain. A cut adds a marker line saying how many bytes were
 * left out and which offset reads on; a range past the end says how many
 * lines there are. total_len is the file's full size when text holds only
 * its start (0 when text is all of it). Returns a new string or NULL when
 * out of memory.
 */
char *context_select_lines(const char *text, size_t len, size_t total_len,
			   long long offset, long long limit, size_t budget);

/* The advice in a cut marker on how to see the rest of command output. */
#define CONTEXT_OUTPUT_HINT \
	"run the command again with its output filtered or redirected to a " \
	"file and read that file in parts"

/*
 * Cut tool output to budget bytes at a line end, keeping the start, with
 * a marker saying how many bytes were cut and how to see the rest.
 * Returns a new string or NULL when out of memory.
 */
char *context_cut_output(const char *text, size_t budget);

#endif
