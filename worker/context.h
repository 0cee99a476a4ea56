/*
 * The context manager: how large the conversation is, and how tool output
 * is cut to fit it.
 *
 * Token counts here are estimates: one token per 4 bytes of the message's
 * JSON, which is near what BPE tokenizers give for English and code and
 * needs no tokenizer table in the confined worker.
 */
#ifndef COWORKER_WORKER_CONTEXT_H
#define COWORKER_WORKER_CONTEXT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define CONTEXT_BYTES_PER_TOKEN 4

/*
 * TODO: compaction of older turns near the model's context limit (a
 * summary the model writes, reported as an event) is not built yet; the
 * config carries no context limit to measure against.
 */

/* Estimated tokens of one message, of a whole conversation. */
size_t context_message_tokens(const cJSON *message);
size_t context_tokens(const cJSON *messages);

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

/*
 * Cut tool output to budget bytes at a line end, keeping the start, with
 * a marker saying how many bytes were cut and how to see the rest.
 * Returns a new string or NULL when out of memory.
 */
char *context_cut_output(const char *text, size_t budget);

#endif
