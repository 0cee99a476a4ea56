/*
 * Compaction: when the conversation nears the model's context window, the
 * model summarises the older turns and one message holding that summary
 * takes their place.
 *
 * What is kept verbatim: the system message, the original task (the first
 * user message) and the most recent exchanges, at least the last one. An
 * assistant message with tool calls and the tool messages with its results
 * are always kept or summarised together, because both APIs reject a tool
 * result without its call and a call without its result.
 *
 * NOTE: the summary is a user message right after the task, so the
 * Messages API gets two user turns in a row. The replay server accepts
 * that; whether every Messages endpoint merges them was not checked.
 */
#ifndef COWORKER_WORKER_COMPACT_H
#define COWORKER_WORKER_COMPACT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "context.h"
#include "model.h"

/* The context window assumed when the config gives none, in tokens. */
#define COMPACT_WINDOW_DEFAULT 128000LL
/* Compaction starts when the estimate exceeds this share of the window. */
#define COMPACT_THRESHOLD_PERCENT 80
/* The recent exchanges kept verbatim may fill this share of the window. */
#define COMPACT_KEEP_PERCENT 25
/* Bytes of one message in the transcript the summary request carries. */
#define COMPACT_ITEM_MAX 4096
/* Bytes of the summary kept; a longer one is cut. */
#define COMPACT_SUMMARY_MAX 16384

/* The first line of the message that contains a summary. */
#define COMPACT_SUMMARY_HEADER \
	"[Summary of the earlier conversation, written when the context " \
	"window filled up; the turns it covers were removed]"

struct compact_result {
	size_t messages_before, messages_after;
	size_t tokens_before, tokens_after;	/* estimates, messages only */
	long long prompt_tokens;	/* the summary request's usage; -1 when */
	long long completion_tokens;	/* the model reported none */
};

/* The context window the config sets, or COMPACT_WINDOW_DEFAULT. */
long long compact_window(const struct worker_config *cfg);

/* True when tokens exceed COMPACT_THRESHOLD_PERCENT of window. */
bool compact_needed(size_t tokens, long long window);

/*
 * Choose the messages to summarise: the range [*first, *end) after the
 * original task and before the recent exchanges, which are kept while
 * their estimate stays within keep_tokens (the last exchange always).
 * *end is never a tool message, so a call and its results stay on one
 * side. Returns 0, or -1 when the range would hold no assistant message
 * and compacting could not help.
 */
int compact_choose(const cJSON *messages, size_t keep_tokens, size_t *first,
		   size_t *end);

/*
 * Build the messages of the summary request for the range [first, end):
 * a system message with the instruction, and one user message with the
 * original task and a plain-text transcript of the range. Each message is
 * cut to COMPACT_ITEM_MAX bytes and the transcript to max_bytes, dropping
 * the oldest messages first. Returns NULL when out of memory.
 */
cJSON *compact_request(const cJSON *messages, size_t first, size_t end,
		       size_t max_bytes);

/*
 * Replace messages [first, end) with one user message that starts with
 * COMPACT_SUMMARY_HEADER and contains summary, cut to COMPACT_SUMMARY_MAX
 * bytes. Returns 0, or -1 when out of memory (messages unchanged).
 */
int compact_replace(cJSON *messages, size_t first, size_t end,
		    const char *summary);

/*
 * Compact the conversation now: choose the range, ask the model (same
 * provider, no tools) for a summary, replace the range, and send a
 * "compaction" event for turn. Used before a model call when the context
 * fills up, and on demand between tasks. Returns 0 when compacted, 1 when
 * there was nothing to compact (no request was made), or -1 with err when
 * the summary request failed (messages unchanged). result is filled in
 * every case; its usage counts toward the token budget.
 */
int compact_run(struct model_client *model, cJSON *messages, long turn,
		struct compact_result *result, char *err, size_t errlen);

/*
 * Halve the largest tool result of the latest exchange (the results that
 * end messages), again and again, until the conversation plus schema
 * tokens fits target or no such result is over 1 KiB. A long command
 * output is not worth ending the session for, and each cut result notes
 * how many bytes were left out. Adds the number of cuts to *cuts and
 * returns the new estimate.
 */
size_t compact_shrink_results(cJSON *messages, size_t schema,
			      long long target, size_t *cuts);

/*
 * The check before each model call: compact when the conversation plus
 * the tools schema exceed the threshold. When compaction fails or finds
 * nothing to compact, the session goes on if the estimate still fits the
 * window, cutting the latest tool results when they alone do not fit.
 * Adds the summary request's usage to budget. Returns 0 to go on, or -1
 * with err when the session must end.
 */
int compact_check(struct model_client *model, cJSON *messages,
		  const cJSON *tools, long turn, struct context_budget *budget,
		  char *err, size_t errlen);

#endif
