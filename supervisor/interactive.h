/*
 * Interactive mode: `coworker` with no subcommand, or `coworker chat`.
 * The same session as exec (worker, policy, broker, audit log), driven
 * from a prompt: the user types tasks and slash commands, watches the
 * agent work and answers approval prompts. The supervisor owns the
 * terminal; the worker never touches it.
 */
#ifndef COWORKER_INTERACTIVE_H
#define COWORKER_INTERACTIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor/session_internal.h"
#include "supervisor/tui.h"

/* Decisions /policy lists, the latest ones of the session. */
#define INTERACTIVE_RECENT 20

/* One decision as /policy lists it; long subjects are cut. */
struct interactive_decision {
	char tool[32];
	char subject[200];
	char decision[8];
	char answered_by[16];
};

struct interactive {
	struct tui tui;
	struct session *s;
	/* The session's configuration; /config changes mode and model. */
	struct session_config cfg;
	char mode[32];
	char model[TUI_SLASH_ARG_MAX + 1];
	/* The provider's settings; /config provider switches them. */
	char provider[16];
	char base_url[4096];
	char key_env[256];
	/* The settings the session started with, for switching back. */
	struct session_config start;
	char *other_key;	/* the other provider's key, once read */
	long next_id;			/* of the next message to the worker */
	bool deltas_seen;		/* this model turn streamed text */
	long model_turns;		/* model calls over the session */
	struct event *tick;		/* redraws the busy line */
	/* Keys of the actions answered "s": tool, subject and digest. */
	char **memo;
	size_t nmemo;
	/* Rules answered "a", added again when /config reloads the policy. */
	char **saved_rules;
	size_t nsaved;
	struct interactive_decision recent[INTERACTIVE_RECENT];
	size_t nrecent;			/* decisions so far, all of them */
};

/*
 * Run an interactive session with cfg (its task is ignored) until /exit,
 * Ctrl-D, two Ctrl-C at the prompt, or the worker's end. Returns an enum
 * session_exit value.
 */
int interactive_run(const struct session_config *cfg);

/* Handle one slash command line; returns 1 for /exit, else 0. */
int interactive_slash(struct interactive *ui, const char *line);

/*
 * Send one message to the worker; fields may be NULL and stay the
 * caller's. Returns 0, or -1 when the session is over.
 */
int interactive_send(struct interactive *ui, int type, cJSON *fields);

/*
 * Run the event loop until the worker sends "done" or the session ends.
 * Returns 0 when the worker waits for the next task, -1 when the session
 * is over.
 */
int interactive_wait_done(struct interactive *ui);

/*
 * Switch the session to provider ("openai" or "anthropic") with a new
 * worker. A provider whose endpoint or key is missing leaves the old
 * worker running and prints what to set. Returns 0, or -1 when the session
 * is over.
 */
int interactive_switch_provider(struct interactive *ui, const char *provider);

/* Add the rules answered "a" to the session's policy again. */
void interactive_readd_rules(struct interactive *ui);

#endif
