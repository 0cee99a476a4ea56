/*
 * The agent loop: ask the model, run the tool calls it makes through the
 * supervisor, feed the results back, until it replies without tool calls
 * or the turn limit is reached.
 */
#ifndef COWORKER_WORKER_AGENT_H
#define COWORKER_WORKER_AGENT_H

#include "channel.h"
#include "config.h"
#include "http.h"

/*
 * Run the task to its end and send the final "done" event. Returns the
 * worker's exit status: 0 for "ok", "max_turns" and "token_budget", 1 for
 * "error".
 */
int agent_run(struct channel *ch, struct http_client *http,
	      const struct worker_config *cfg, const char *task);

/*
 * Replace every occurrence of secret in text with "[redacted]". Returns a
 * new string, or NULL when out of memory.
 */
char *agent_redact(const char *text, const char *secret);

#endif
