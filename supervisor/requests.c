/*
 * Requests from the worker: each is judged against the policy and the
 * broker's own rules, recorded in the audit log, carried out when allowed,
 * and answered with exactly one reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "session_internal.h"

/*
 * Kept read-only inside every command's sandbox. A trailing "/" marks a
 * directory that gets an empty read-only placeholder when it is missing
 * (and its parent exists), so a command cannot create it either.
 */
static const char *const protected_paths[] = {
	".coworker/", ".git/hooks/", ".git/config", ".gitmodules", NULL,
};

/* A decision and what to say about it. */
struct judgement {
	enum policy_decision decision;
	const char *rule;	/* rule text, or NULL */
	const char *source;	/* policy file, or "builtin" */
	char reason[512];	/* for the audit line and the reply */
	bool asked;		/* ask, answered deny in headless mode */
};

static const char *tool_rule_name(enum policy_tool tool)
{
	return tool == POLICY_READ ? "Read" : tool == POLICY_WRITE ? "Write" :
	       "Exec";
}

static void judge_builtin(struct judgement *j, const char *reason)
{
	j->decision = POLICY_DENY;
	j->rule = NULL;
	j->source = "builtin";
	snprintf(j->reason, sizeof(j->reason), "%s", reason);
}

/* Fold a policy verdict into j, keeping the strictest decision. */
static void judge_verdict(struct judgement *j, struct policy_verdict v)
{
	if (j->source && v.decision <= j->decision)
		return;
	j->decision = v.decision;
	j->rule = v.rule ? v.rule->text : NULL;
	j->source = v.rule ? v.rule->source : "builtin";
	snprintf(j->reason, sizeof(j->reason), "%s",
		 v.reason ? v.reason : "");
}

/* Headless mode has nobody to ask: ask is answered with deny. */
static void answer_headless(struct judgement *j)
{
	if (j->decision == POLICY_ASK) {
		j->decision = POLICY_DENY;
		j->asked = true;
	}
}

static void denial_text(const struct judgement *j, const char *what,
			char *out, size_t size)
{
	if (j->asked && j->rule)
		snprintf(out, size, "denied: rule \"%s\" asks for approval and "
			 "headless mode answers ask with deny", j->rule);
	else if (j->asked)
		snprintf(out, size, "denied: no rule allows %s and headless mode "
			 "answers ask with deny", what);
	else if (j->rule)
		snprintf(out, size, "denied by rule \"%s\" (deny, %s)", j->rule,
			 j->source);
	else
		snprintf(out, size, "%s", j->reason);
}

static int audit_decision(struct session *s, long req, const char *tool,
			  const char *subject, const struct judgement *j,
			  bool sync)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddNumberToObject(f, "req", (double)req);
	cJSON_AddStringToObject(f, "tool", tool);
	cJSON_AddStringToObject(f, "subject", subject);
	if (session_audit(s, "request", f, false) < 0)
		return -1;

	f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "req", (double)req);
	cJSON_AddStringToObject(f, "tool", tool);
	cJSON_AddStringToObject(f, "subject", subject);
	cJSON_AddStringToObject(f, "decision", policy_decision_name(j->decision));
	if (j->rule)
		cJSON_AddStringToObject(f, "rule", j->rule);
	else
		cJSON_AddNullToObject(f, "rule");
	cJSON_AddStringToObject(f, "source", j->source);
	if (j->reason[0])
		cJSON_AddStringToObject(f, "reason", j->reason);
	if (j->asked)
		cJSON_AddBoolToObject(f, "asked", 1);
	if (j->decision == POLICY_DENY)
		s->denials++;
	session_note("%-5s %s %s%s%s%s", policy_decision_name(j->decision), tool,
		     subject, j->rule ? "  (" : j->reason[0] ? "  (" : "",
		     j->rule ? j->rule : j->reason,
		     j->rule || j->reason[0] ? ")" : "");
	return session_audit(s, "decision", f, sync);
}

static int reply(struct session *s, long id, cJSON *f, int fd)
{
	char err[SESSION_ERR_MAX];
	int rc;

	rc = proto_send(s->worker.sock, PROTO_REPLY, id, f, fd, err,
			sizeof(err));
	cJSON_Delete(f);
	if (rc < 0)
		session_abort(s, SESSION_EXIT_WORKER, "error",
			      "cannot reply to the worker: %s", err);
	return rc;
}

static int reply_error(struct session *s, long id, const char *msg)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddBoolToObject(f, "ok", 0);
	cJSON_AddStringToObject(f, "error", msg);
	return reply(s, id, f, -1);
}

static int audit_result(struct session *s, long req, const char *tool,
			bool ok, const char *error, cJSON *f)
{
	if (!f)
		f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "req", (double)req);
	cJSON_AddStringToObject(f, "tool", tool);
	cJSON_AddBoolToObject(f, "ok", ok);
	if (error)
		cJSON_AddStringToObject(f, "error", error);
	return session_audit(s, "result", f, false);
}

/*
 * Normalise path and resolve it beneath the workspace. real receives the
 * path it reaches; for a file that does not exist yet, the normalised path.
 */
static enum broker_status resolve_subject(struct session *s, const char *path,
					  char *rel, char *real, char *err,
					  size_t errlen)
{
	enum broker_status st;

	snprintf(rel, BROKER_PATH_MAX, "%s", path);
	real[0] = '\0';
	st = broker_normalize(&s->broker, path, rel, BROKER_PATH_MAX, err,
			      errlen);
	if (st != BROKER_OK)
		return st;
	st = broker_resolve(&s->broker, rel, real, BROKER_PATH_MAX, err, errlen);
	if (st == BROKER_NOT_FOUND) {
		snprintf(real, BROKER_PATH_MAX, "%s", rel);
		st = BROKER_OK;
	}
	return st;
}

/* The stricter of the decisions for the written and the resolved path. */
static struct policy_verdict decide_both(const struct policy *p,
					 enum policy_tool tool, const char *rel,
					 const char *real)
{
	struct policy_verdict v = policy_decide_path(p, tool, rel), w;

	if (strcmp(real, rel) != 0) {
		w = policy_decide_path(p, tool, real);
		if (w.decision > v.decision)
			v = w;
	}
	return v;
}

/*
 * Judge a path request. rel receives the normalised path the worker named;
 * real the path it resolves to. Both are judged, because a symlink inside
 * the workspace may lead from an allowed name to a denied file.
 */
static void judge_path(struct session *s, enum policy_tool tool,
		       const char *path, char *rel, char *real,
		       struct judgement *j)
{
	char err[SESSION_ERR_MAX], what[BROKER_PATH_MAX + 16];

	memset(j, 0, sizeof(*j));
	if (resolve_subject(s, path, rel, real, err, sizeof(err)) != BROKER_OK) {
		judge_builtin(j, err);
		return;
	}
	if (tool == POLICY_WRITE &&
	    (broker_is_protected(rel) || broker_is_protected(real))) {
		snprintf(what, sizeof(what), "denied: \"%s\" is protected: the "
			 "broker never writes there",
			 broker_is_protected(rel) ? rel : real);
		judge_builtin(j, what);
		return;
	}
	judge_verdict(j, decide_both(&s->policy, tool, rel, real));
	answer_headless(j);
}

/*
 * Common front half of every file request: judge, record, and on denial
 * reply. Returns 1 when the action may go ahead, 0 when it was denied and
 * answered, -1 when the session must end.
 */
static int admit_path(struct session *s, struct proto_msg *m,
		      enum policy_tool tool, char *rel, char *real)
{
	const char *path = proto_str(m, "path");
	char msg[SESSION_ERR_MAX], what[BROKER_PATH_MAX + 16];
	struct judgement j;
	bool effects = tool == POLICY_WRITE;

	judge_path(s, tool, path, rel, real, &j);
	if (audit_decision(s, m->id, m->type->name, path, &j,
			   effects && j.decision == POLICY_ALLOW) < 0)
		return -1;
	if (j.decision == POLICY_ALLOW)
		return 1;
	snprintf(what, sizeof(what), "%s(%s)", tool_rule_name(tool), rel);
	denial_text(&j, what, msg, sizeof(msg));
	if (audit_result(s, m->id, m->type->name, false, msg, NULL) < 0)
		return -1;
	return reply_error(s, m->id, msg) < 0 ? -1 : 0;
}

/* Record a broker failure and answer it. */
static int broker_failed(struct session *s, struct proto_msg *m,
			 const char *err)
{
	if (audit_result(s, m->id, m->type->name, false, err, NULL) < 0)
		return -1;
	return reply_error(s, m->id, err);
}

static int handle_read(struct session *s, struct proto_msg *m)
{
	char rel[BROKER_PATH_MAX], real[BROKER_PATH_MAX], err[SESSION_ERR_MAX];
	cJSON *f;
	int rc, fd;

	rc = admit_path(s, m, POLICY_READ, rel, real);
	if (rc <= 0)
		return rc;
	if (broker_read(&s->broker, real, &fd, err, sizeof(err)) != BROKER_OK)
		return broker_failed(s, m, err);
	if (audit_result(s, m->id, m->type->name, true, NULL, NULL) < 0) {
		close(fd);
		return -1;
	}
	f = cJSON_CreateObject();
	cJSON_AddBoolToObject(f, "ok", 1);
	rc = reply(s, m->id, f, fd);
	close(fd);
	return rc;
}

static int handle_list(struct session *s, struct proto_msg *m)
{
	char rel[BROKER_PATH_MAX], real[BROKER_PATH_MAX], err[SESSION_ERR_MAX];
	char *listing;
	cJSON *f;
	int rc;

	rc = admit_path(s, m, POLICY_READ, rel, real);
	if (rc <= 0)
		return rc;
	if (broker_list(&s->broker, real, &listing, err, sizeof(err)) !=
	    BROKER_OK)
		return broker_failed(s, m, err);
	if (strlen(listing) > PROTO_STR_MAX - 4096)
		listing[PROTO_STR_MAX - 4096] = '\0';
	if (audit_result(s, m->id, m->type->name, true, NULL, NULL) < 0) {
		free(listing);
		return -1;
	}
	f = cJSON_CreateObject();
	cJSON_AddBoolToObject(f, "ok", 1);
	cJSON_AddStringToObject(f, "content", listing);
	free(listing);
	return reply(s, m->id, f, -1);
}

static int reply_summary(struct session *s, struct proto_msg *m,
			 const char *summary)
{
	cJSON *f = cJSON_CreateObject();

	if (audit_result(s, m->id, m->type->name, true, NULL, NULL) < 0) {
		cJSON_Delete(f);
		return -1;
	}
	cJSON_AddBoolToObject(f, "ok", 1);
	cJSON_AddStringToObject(f, "content", summary);
	return reply(s, m->id, f, -1);
}

static int handle_write(struct session *s, struct proto_msg *m)
{
	char rel[BROKER_PATH_MAX], real[BROKER_PATH_MAX], err[SESSION_ERR_MAX];
	char summary[BROKER_PATH_MAX + 64];
	int rc;

	rc = admit_path(s, m, POLICY_WRITE, rel, real);
	if (rc <= 0)
		return rc;
	if (broker_write(&s->broker, real, m->fd, summary, sizeof(summary),
			 err, sizeof(err)) != BROKER_OK)
		return broker_failed(s, m, err);
	return reply_summary(s, m, summary);
}

static int handle_edit(struct session *s, struct proto_msg *m)
{
	char rel[BROKER_PATH_MAX], real[BROKER_PATH_MAX], err[SESSION_ERR_MAX];
	char summary[BROKER_PATH_MAX + 64];
	int rc;

	rc = admit_path(s, m, POLICY_WRITE, rel, real);
	if (rc <= 0)
		return rc;
	if (broker_edit(&s->broker, real, proto_str(m, "old"),
			proto_str(m, "new"), summary, sizeof(summary), err,
			sizeof(err)) != BROKER_OK)
		return broker_failed(s, m, err);
	return reply_summary(s, m, summary);
}

/*
 * Judge a redirection target the way a file request is judged: resolved
 * beneath the workspace, both the written and the resolved path. Targets
 * are relative to the workspace, where every command starts.
 */
static struct policy_verdict judge_redirection(void *ctx,
		const struct policy *p, enum policy_tool tool, const char *path)
{
	struct session *s = ctx;
	char rel[BROKER_PATH_MAX], real[BROKER_PATH_MAX], err[SESSION_ERR_MAX];
	struct policy_verdict v = { POLICY_DENY, NULL, NULL };

	if (resolve_subject(s, path, rel, real, err, sizeof(err)) != BROKER_OK) {
		v.reason = "the redirection target is outside the workspace";
		return v;
	}
	if (tool == POLICY_WRITE &&
	    (broker_is_protected(rel) || broker_is_protected(real))) {
		v.reason = "the redirection target is protected";
		return v;
	}
	return decide_both(p, tool, rel, real);
}

static enum sandbox_mode sandbox_mode_for(const char *mode)
{
	if (mode && strcmp(mode, "read-only") == 0)
		return SANDBOX_READ_ONLY;
	if (mode && strcmp(mode, "full-access") == 0)
		return SANDBOX_FULL_ACCESS;
	return SANDBOX_WORKSPACE_WRITE;
}

static cJSON *command_result_fields(const struct sandbox_result *r)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddNumberToObject(f, "exit_code", r->exit_code);
	cJSON_AddNumberToObject(f, "signal", r->signal);
	cJSON_AddBoolToObject(f, "timed_out", r->timed_out);
	cJSON_AddNumberToObject(f, "output_bytes", (double)r->output_bytes);
	cJSON_AddBoolToObject(f, "truncated", r->truncated);
	cJSON_AddNumberToObject(f, "duration_ms", (double)r->duration_ms);
	return f;
}

static int handle_command(struct session *s, struct proto_msg *m)
{
	const char *command = proto_str(m, "command");
	char err[SESSION_ERR_MAX], msg[SESSION_ERR_MAX];
	struct sandbox_opts opts;
	struct sandbox_result r;
	struct judgement j;
	long limit = s->cfg->command_timeout_ms;
	cJSON *f;
	int rc;

	memset(&j, 0, sizeof(j));
	judge_verdict(&j, policy_decide_command_with(&s->policy, command,
						     judge_redirection, s));
	answer_headless(&j);
	if (audit_decision(s, m->id, "run_command", command, &j,
			   j.decision == POLICY_ALLOW) < 0)
		return -1;
	if (j.decision != POLICY_ALLOW) {
		snprintf(err, sizeof(err), "Exec(%.900s)", command);
		denial_text(&j, err, msg, sizeof(msg));
		if (audit_result(s, m->id, "run_command", false, msg, NULL) < 0)
			return -1;
		return reply_error(s, m->id, msg);
	}

	memset(&opts, 0, sizeof(opts));
	opts.workspace = s->broker.root;
	opts.timeout_ms = proto_int(m, "timeout_ms", limit);
	if (opts.timeout_ms > limit)
		opts.timeout_ms = limit;
	opts.output_cap = SESSION_OUTPUT_CAP;
	opts.mode = sandbox_mode_for(s->cfg->mode);
	opts.network = opts.mode == SANDBOX_FULL_ACCESS;
	opts.protected_paths = protected_paths;
	/* TODO: this blocks the event loop; run commands as child events. */
	if (sandbox_run(&opts, command, &r, err, sizeof(err)) < 0) {
		session_note("command sandbox: %s", err);
		return broker_failed(s, m, err);
	}

	f = command_result_fields(&r);
	cJSON_AddStringToObject(f, "output_sha256", r.output_sha256);
	if (audit_result(s, m->id, "run_command", true, NULL, f) < 0) {
		close(r.output_fd);
		return -1;
	}
	f = command_result_fields(&r);
	cJSON_AddBoolToObject(f, "ok", 1);
	rc = reply(s, m->id, f, r.output_fd);
	if (r.output_fd >= 0)
		close(r.output_fd);
	return rc;
}

/* The connect broker: only ever the configured model endpoint. */
static int handle_connect(struct session *s, struct proto_msg *m)
{
	char err[SESSION_ERR_MAX], subject[400];
	struct judgement j;
	cJSON *f;
	int fd, rc;

	memset(&j, 0, sizeof(j));
	j.decision = POLICY_ALLOW;
	j.source = "builtin";
	snprintf(j.reason, sizeof(j.reason), "the configured model endpoint");
	snprintf(subject, sizeof(subject), "%s:%d", s->endpoint.host,
		 s->endpoint.port);
	if (audit_decision(s, m->id, "connect", subject, &j, true) < 0)
		return -1;
	fd = endpoint_connect(&s->endpoint, 10000, err, sizeof(err));
	if (fd < 0)
		return broker_failed(s, m, err);
	if (audit_result(s, m->id, "connect", true, NULL, NULL) < 0) {
		close(fd);
		return -1;
	}
	f = cJSON_CreateObject();
	cJSON_AddBoolToObject(f, "ok", 1);
	rc = reply(s, m->id, f, fd);
	close(fd);
	return rc;
}

int session_handle_request(struct session *s, struct proto_msg *m)
{
	s->requests++;
	switch (m->type->id) {
	case PROTO_CONNECT:
		return handle_connect(s, m);
	case PROTO_READ_FILE:
		return handle_read(s, m);
	case PROTO_WRITE_FILE:
		return handle_write(s, m);
	case PROTO_EDIT_FILE:
		return handle_edit(s, m);
	case PROTO_LIST_DIRECTORY:
		return handle_list(s, m);
	case PROTO_RUN_COMMAND:
		return handle_command(s, m);
	default:
		session_abort(s, SESSION_EXIT_WORKER, "violation",
			      "the worker sent an unknown request \"%s\"",
			      m->type->name);
		return -1;
	}
}
