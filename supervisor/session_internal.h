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

struct session {
	const struct session_config *cfg;
	struct broker broker;
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
	long requests;
	long denials;			/* requests answered with deny */
	char *summary;
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
