/* State shared by the session's source files; not for other modules. */
#ifndef COWORKER_SESSION_INTERNAL_H
#define COWORKER_SESSION_INTERNAL_H

#include <event2/event.h>

#include "proto/proto.h"
#include "policy/policy.h"
#include "supervisor/audit.h"
#include "supervisor/broker.h"
#include "supervisor/endpoint.h"
#include "supervisor/session.h"
#include "supervisor/skills.h"
#include "supervisor/skills_narrow.h"
#include "supervisor/worker_proc.h"

#define SESSION_ERR_MAX 1024

/* Longest stderr line of a worker kept whole; the rest is cut. */
#define WORKER_LOG_LINE_MAX 1024

/* Lines of worker stderr re-logged per session; later ones are counted. */
#define WORKER_LOG_LINES_MAX 1000

/* Largest output of one command kept and handed to the worker. */
#define SESSION_OUTPUT_CAP (1024L * 1024)

struct interactive;

struct session {
	const struct session_config *cfg;
	struct interactive *ui;		/* interactive mode; NULL in exec */
	char *key;			/* the API key until the worker has it */
	char audit_path[BROKER_PATH_MAX + 128];
	bool audit_open;		/* session_start was written */
	struct broker broker;
	int netns_fd;			/* --shared-netns, or -1 */
	struct policy policy;
	char policy_digest[65];
	struct endpoint endpoint;
	struct audit_log *audit;
	struct worker_proc worker;
	char id[64];

	struct event_base *base;
	struct event *sock_event;
	struct event *signal_event;	/* signal_fd became readable */
	struct event *cancel_timer;	/* grace for "done" after "cancel" */
	struct event *timeout_timer;	/* --timeout */
	int signal_fd;			/* eventfd the signal handler writes;
					   polled by running commands too */
	const char *cancelling;		/* NULL, or why "cancel" was sent:
					   "interrupted" or "timeout" */
	long long deadline_ms;		/* CLOCK_MONOTONIC end of --timeout,
					   0 for none */
	struct event *ready_timer;
	struct event *sync_timer;
	struct event *log_event;	/* the worker's stderr pipe */
	char log_line[WORKER_LOG_LINE_MAX + 1];	/* a line still open */
	size_t log_len;
	long log_lines;			/* lines re-logged so far */

	unsigned phase;			/* enum proto_phase */
	int exit_status;		/* enum session_exit */
	const char *end_status;		/* for the session_end record */
	bool done;			/* the worker sent "done" */
	long turns;
	long long prompt_tokens;	/* summed over the model's turns */
	long long completion_tokens;
	const char *task_status;	/* interactive: the last "done" status */
	const char *awaiting;		/* "task" or "compact": what "done" ends */
	long requests;
	long denials;			/* requests answered with deny */
	char *summary;
	char *delta_held;		/* --json-deltas: text that may begin
					   the key, not printed yet */
	cJSON *todo;			/* the worker's latest todo list */

	struct skill_set skills;	/* discovered at start */
	char *skills_section;		/* for the system prompt; may be "" */
	char *instructions;		/* AGENTS.md text for the prompt, or NULL */
	cJSON *instruction_files;	/* the files it came from, for the log */
	/*
	 * Every skill loaded in this session that declares allowed-tools.
	 * All of them narrow every later request, not only the latest one.
	 */
	struct skills_narrowing *narrowings;
	size_t nnarrowings;
};

/*
 * Set up s for cfg: workspace, policy, skills, audit log, endpoint, and
 * the worker with its configuration, ready for event_base_dispatch. ui is
 * NULL for exec. Returns 0, or -1 with the reason shown and
 * s->exit_status set; call session_close in both cases.
 */
int session_open(struct session *s, const struct session_config *cfg,
		 struct interactive *ui);

/*
 * Stop the worker, write the end record and free everything s holds.
 * Returns s->exit_status.
 */
int session_close(struct session *s);

/*
 * Load the policy again from every layer, with s->cfg->mode as the
 * preset, and audit it as "policy_reload". On failure the old policy
 * stays. Returns 0, or -1 with err set.
 */
int session_reload_policy(struct session *s, char *err, size_t errlen);

/*
 * Parse base_url into ep, check that a remote endpoint has a key (key_env
 * names the variable for the message), pick the proxy and resolve the
 * host, as start-up does. Changes nothing in a session. Returns 0, or -1
 * with err set.
 */
int session_endpoint_prepare(struct endpoint *ep, const char *base_url,
			     const char *key, const char *key_env, char *err,
			     size_t errlen);

/*
 * Replace the worker between tasks: close its socket, reap it, start a new
 * one for s->cfg (the caller has set the new provider there) with
 * endpoint ep and key, check its confinement and send its configuration.
 * The conversation and the todo list start over. Returns 0 once the new
 * worker is ready, or -1 with the session ended.
 */
int session_restart_worker(struct session *s, const struct endpoint *ep,
			   const char *key);

/* When set, session_note hands each line here instead of stderr. */
extern void (*session_note_hook)(const char *line);

/*
 * Interactive mode's side of the session (supervisor/interactive*.c),
 * called only when s->ui is set.
 */
struct tui_approval_request;
struct tui_result;

/* Show a worker event (streamed text, busy line, todo list). */
void interactive_show_event(struct session *s, const struct proto_msg *m);

/* Show one tool line and remember the decision for /policy. */
void interactive_show_decision(struct session *s, const char *tool,
			       const char *subject, const char *decision,
			       const char *answered_by);

void interactive_show_result(struct session *s, const struct tui_result *r);

/* Redraw the busy line and pinned area; ctx is the session. */
void interactive_tick(void *ctx);

/* The user's answer to an approval, as requests.c records it. */
struct interactive_answer {
	bool allow;
	const char *answer;	/* once, session, always, deny, deny_message */
	const char *answered_by;	/* "user", or "session" for a
					   remembered "s" answer */
	char message[2048];	/* deny_message: the user's text */
};

/*
 * Ask the user about req, unless an "s" answer this session already
 * covers tool, subject and digest (NULL for no content). An "always"
 * answer saves its rules and adds them to s->policy. Returns 0, or -1
 * when the session must end.
 */
int interactive_approve(struct session *s, const char *tool,
			const struct tui_approval_request *req,
			const char *digest, struct interactive_answer *out);

/*
 * Milliseconds left before --timeout, at least 1; -1 when the session has
 * no timeout. A command's own timeout is capped by this.
 */
long session_time_left_ms(const struct session *s);

/*
 * Act on SIGINT or SIGTERM received since the last call: the first sends
 * "cancel" to the worker, a second one stops the session. The loop calls
 * it; so does a request whose command a signal cut, so that "cancel"
 * reaches the worker before the reply.
 */
void session_take_signals(struct session *s);

/*
 * Act on --timeout now: cancel the task as the timer would. A request
 * whose command was cut at the session's deadline calls it, because the
 * timer cannot fire while the command blocks the loop.
 */
void session_expire(struct session *s);

/* Record a protocol violation, stop the worker and end the session. */
void session_violation(struct session *s, const char *err);

/* Handle one request from the worker; -1 ends the session. */
int session_handle_request(struct session *s, struct proto_msg *m);

/* Free the allowed-tools narrowings of the skills loaded so far. */
void session_free_narrowings(struct session *s);

/* Stop the session with an exit status and a message for the user. */
void session_abort(struct session *s, int exit_status, const char *end_status,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Append to the audit log; a failure aborts the session. */
int session_audit(struct session *s, const char *event, cJSON *fields,
		  bool sync);

/* With --json, print one event line on stdout (fields borrowed). */
void session_emit(struct session *s, const char *type, const cJSON *fields);

/* Print a progress line on stderr with terminal controls made visible. */
void session_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
