/*
 * The agent loop: ask the model, run the tool calls it makes through the
 * supervisor, feed the results back, until it replies without tool calls
 * or the turn limit is reached. One agent serves every task of a worker.
 */
#ifndef COWORKER_WORKER_AGENT_H
#define COWORKER_WORKER_AGENT_H

#include "channel.h"
#include "config.h"
#include "http.h"
#include "context.h"
#include "model.h"

/*
 * One conversation, kept across the tasks of a worker's life: the system
 * prompt, then each task's user message and the exchanges it led to.
 */
struct agent {
	struct channel *ch;
	struct model_client model;
	const struct worker_config *cfg;	/* cfg->model may change */
	cJSON *messages;	/* the conversation, grown every turn */
	cJSON *tools;
	struct context_budget budget;	/* tokens spent by the session */
};

/* Start a conversation holding only the system prompt. */
void agent_init(struct agent *a, struct channel *ch, struct http_client *http,
		const struct worker_config *cfg);

/*
 * Run one task to its end: add text as a user message, then ask the model
 * and run its tool calls until it answers or the turn limit is reached,
 * and send "done". A "cancel" stops the task at the next point where the
 * conversation can be left valid (see agent.c) and "done" says
 * "cancelled". Returns 0 for "ok", "max_turns" and "cancelled", 1 for
 * "error".
 */
int agent_task(struct agent *a, const char *text);

/* Forget the conversation: only the system prompt stays. */
void agent_clear(struct agent *a);

void agent_free(struct agent *a);

/* Send "done" with a status and an optional summary. */
void agent_send_done(struct agent *a, const char *status,
		     const char *summary);

/*
 * Replace every occurrence of secret in text with "[redacted]". Returns a
 * new string, or NULL when out of memory.
 */
char *agent_redact(const char *text, const char *secret);

#endif
