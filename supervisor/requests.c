/*
 * Requests from the worker: each is judged against the policy and the
 * broker's own rules, recorded in the audit log, carried out when allowed,
 * and answered with exactly one reply.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "broker_search.h"
#include "sandbox.h"
#include "session_internal.h"
#include "tui.h"

/*
 * Kept read-only inside every command's sandbox. A missing one gets an
 * empty read-only placeholder for the time of the command, so a command
 * cannot create it either.
 */
static const char *const protected_paths[] = {
	".coworker/", ".git/hooks/", ".git/config", ".gitmodules", NULL,
};

/* A decision and what to say about it. */
struct judgement {
	enum policy_decision decision;
	const char *rule;	/* rule text, or NULL */
	const char *source;	/* policy file, or "builtin" */
	int line;		/* of the rule in source; 0 if unknown */
	char reason[512];	/* for the audit line and the reply */
	bool asked;		/* ask, answered deny in headless mode */
	/* The loaded skill whose allowed-tools raised allow to ask, or NULL. */
	const struct skills_narrowing *narrowed;
	/* Interactive mode: how the user answered an ask, or NULL. */
	const char *answer;
	const char *answered_by;
	char message[sizeof(((struct interactive_answer *)0)->message)];
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
	j->line = v.rule ? v.rule->line : 0;
	snprintf(j->reason, sizeof(j->reason), "%s",
		 v.reason ? v.reason : "");
}

/*
 * Headless mode cannot prompt anyone, so ask becomes deny. Interactive
 * mode keeps ask for ask_user, once every narrowing has been applied.
 */
static void answer_headless(const struct session *s, struct judgement *j)
{
	if (j->decision == POLICY_ASK && !s->ui) {
		j->decision = POLICY_DENY;
		j->asked = true;
	}
}

static void denial_text(const struct judgement *j, const char *what,
			char *out, size_t size)
{
	if (j->answer && j->message[0])
		snprintf(out, size, "denied by the user: %s", j->message);
	else if (j->answer)
		snprintf(out, size, "denied by the user: %s was not approved",
			 what);
	else if (j->asked && j->narrowed)
		snprintf(out, size, "denied: skill \"%s\" is active and its "
			 "allowed-tools (%s) do not cover %s; headless mode "
			 "answers ask with deny", j->narrowed->name,
			 j->narrowed->listed, what);
	else if (j->asked && j->rule && j->reason[0])
		snprintf(out, size, "denied: %s (rule \"%s\" alone would not "
			 "decide it); headless mode answers ask with deny",
			 j->reason, j->rule);
	else if (j->asked && j->rule)
		snprintf(out, size, "denied: rule \"%s\" asks for approval and "
			 "headless mode answers ask with deny", j->rule);
	else if (j->asked && j->reason[0] &&
		 strcmp(j->reason, "no rule matches") != 0)
		snprintf(out, size, "denied: %s (%s); headless mode answers ask "
			 "with deny", what, j->reason);
	else if (j->asked)
		snprintf(out, size, "denied: no rule allows %s and headless mode "
			 "answers ask with deny", what);
	else if (j->rule && j->line > 0)
		snprintf(out, size, "denied by rule \"%s\" (deny, %s:%d)",
			 j->rule, j->source, j->line);
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
	const char *why;

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
	if (j->line > 0)
		cJSON_AddNumberToObject(f, "line", j->line);
	if (j->reason[0])
		cJSON_AddStringToObject(f, "reason", j->reason);
	if (j->asked)
		cJSON_AddBoolToObject(f, "asked", 1);
	if (j->narrowed)
		cJSON_AddStringToObject(f, "skill", j->narrowed->name);
	if (j->answer) {
		cJSON_AddStringToObject(f, "answered_by", j->answered_by);
		cJSON_AddStringToObject(f, "answer", j->answer);
	}
	if (j->message[0])
		cJSON_AddStringToObject(f, "message", j->message);
	if (j->decision == POLICY_DENY)
		s->denials++;
	if (s->ui && strcmp(tool, "connect") == 0)
		return session_audit(s, "decision", f, sync);
	if (s->ui) {
		interactive_show_decision(s, tool, subject,
					  policy_decision_name(j->decision),
					  j->answered_by);
		return session_audit(s, "decision", f, sync);
	}
	why = j->rule ? j->rule : j->reason;
	/* Say when the deny is headless mode's answer to an ask. */
	if (why[0])
		session_note("%-5s %s %s  (%s%s)", policy_decision_name(j->decision),
			     tool, subject, why, j->asked ? "; asks for "
			     "approval, and headless mode answers ask with deny" :
			     "");
	else
		session_note("%-5s %s %s%s", policy_decision_name(j->decision),
			     tool, subject, j->asked ? "  (asks for approval, "
			     "and headless mode answers ask with deny)" : "");
	return session_audit(s, "decision", f, sync);
}

static int reply(struct session *s, long id, cJSON *f, int fd)
{
	char err[SESSION_ERR_MAX], msg[SESSION_ERR_MAX];
	int rc, saved;

	rc = proto_send(s->worker.sock, PROTO_REPLY, id, f, fd, err,
			sizeof(err));
	saved = errno;
	cJSON_Delete(f);
	if (rc < 0 && (saved == EAGAIN || saved == EWOULDBLOCK)) {
		/*
		 * An honest worker reads each reply before its next request,
		 * so a full socket means it stopped reading (worker_proc.h).
		 */
		snprintf(msg, sizeof(msg), "the worker stopped reading its "
			 "socket: the reply to request %ld could not be sent "
			 "within %d s", id, WORKER_SEND_TIMEOUT_SEC);
		session_violation(s, msg);
	} else if (rc < 0) {
		session_abort(s, SESSION_EXIT_WORKER, "error",
			      "cannot reply to the worker: %s", err);
	}
	return rc;
}

static int reply_error(struct session *s, long id, const char *msg)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddBoolToObject(f, "ok", 0);
	cJSON_AddStringToObject(f, "error", msg);
	return reply(s, id, f, -1);
}

/* Show one result line in interactive mode, from the audit record's fields. */
static void show_result(struct session *s, bool ok, const char *error,
			const cJSON *f)
{
	struct tui_result r = {
		.ok = ok, .error = error, .exit_code = -1, .bytes = -1,
		.lines = -1, .duration_ms = -1,
	};
	const cJSON *v;

	if ((v = cJSON_GetObjectItemCaseSensitive(f, "exit_code")))
		r.exit_code = v->valueint;
	if ((v = cJSON_GetObjectItemCaseSensitive(f, "signal")))
		r.signal = v->valueint;
	r.timed_out = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f,
								    "timed_out"));
	if ((v = cJSON_GetObjectItemCaseSensitive(f, "output_bytes")) ||
	    (v = cJSON_GetObjectItemCaseSensitive(f, "bytes")))
		r.bytes = (long long)v->valuedouble;
	if ((v = cJSON_GetObjectItemCaseSensitive(f, "duration_ms")))
		r.duration_ms = (long long)v->valuedouble;
	interactive_show_result(s, &r);
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
	/* The model endpoint's connect is routine: not shown, only audited. */
	if (s->ui && strcmp(tool, "connect") != 0)
		show_result(s, ok, error, f);
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

/*
 * The stricter of the decisions for the written and the resolved path,
 * with the broker's view of the file (hardlinks, case-insensitive names).
 */
static struct policy_verdict decide_both(const struct broker *b,
					 const struct policy *p,
					 enum policy_tool tool, const char *rel,
					 const char *real)
{
	return broker_decide(b, p, tool, rel, real);
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
	judge_verdict(j, decide_both(&s->broker, &s->policy, tool, rel,
				    real));
	answer_headless(s, j);
}

/*
 * Raise an allowed request to ask because a loaded skill's allowed-tools
 * do not cover it. Only allow is raised, so the policy's deny and its own
 * reasons for ask stay as they are.
 */
static void narrow_judgement(struct judgement *j,
			     const struct skills_narrowing *n)
{
	j->decision = POLICY_ASK;
	j->rule = NULL;
	j->source = n->path;
	j->narrowed = n;
	snprintf(j->reason, sizeof(j->reason), "skill \"%s\" is active and "
		 "its allowed-tools (%s) do not cover this request", n->name,
		 n->listed);
}

/* Judge a file request against every loaded skill's allowed-tools. */
static void narrow_path(struct session *s, enum proto_type_id type,
			enum policy_tool tool, const char *rel,
			const char *real, struct judgement *j)
{
	enum skills_narrow_request kind = SKILLS_NARROW_WRITE;
	const struct policy *p;
	size_t i;

	if (type == PROTO_READ_FILE)
		kind = SKILLS_NARROW_READ;
	else if (type == PROTO_LIST_DIRECTORY || type == PROTO_GLOB ||
		 type == PROTO_GREP)
		kind = SKILLS_NARROW_LIST;
	for (i = 0; i < s->nnarrowings && j->decision == POLICY_ALLOW; i++) {
		p = skills_narrow_policy(&s->narrowings[i], kind);
		if (decide_both(&s->broker, p, tool, rel, real).decision !=
		    POLICY_ALLOW)
			narrow_judgement(j, &s->narrowings[i]);
	}
	answer_headless(s, j);
}

/*
 * Interactive mode: put a request the policy asks about to the user and
 * turn the answer into allow or deny. req->reason is filled here.
 * Returns 0, or -1 when the session must end.
 */
static int ask_user(struct session *s, struct judgement *j, const char *tool,
		    struct tui_approval_request *req, const char *digest)
{
	struct interactive_answer a;
	char why[sizeof(j->reason) + POLICY_RULE_MAX + 32];

	if (!s->ui || j->decision != POLICY_ASK)
		return 0;
	if (j->rule && j->reason[0])
		snprintf(why, sizeof(why), "rule \"%s\" asks: %s", j->rule,
			 j->reason);
	else if (j->rule)
		snprintf(why, sizeof(why), "rule \"%s\" asks", j->rule);
	else
		snprintf(why, sizeof(why), "%s", j->reason[0] ? j->reason :
			 "no rule allows it");
	req->reason = why;
	if (interactive_approve(s, tool, req, digest, &a) < 0)
		return -1;
	j->decision = a.allow ? POLICY_ALLOW : POLICY_DENY;
	j->asked = true;
	j->answer = a.answer;
	j->answered_by = a.answered_by;
	snprintf(j->message, sizeof(j->message), "%s", a.message);
	return 0;
}

/*
 * Read all of fd from offset 0, at most cap bytes, into a malloc'd
 * buffer with a NUL after it. *cut is set when more was left.
 */
static char *read_whole(int fd, size_t cap, size_t *len, bool *cut)
{
	char *buf = malloc(cap + 2);
	ssize_t n;

	*len = 0;
	if (!buf)
		return NULL;
	while (*len < cap + 1 &&
	       (n = pread(fd, buf + *len, cap + 1 - *len, (off_t)*len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		*len += (size_t)n;
	}
	*cut = *len > cap;
	if (*cut)
		*len = cap;
	buf[*len] = '\0';
	return buf;
}

/*
 * Ask about a write_file, showing the file's current content read through
 * the broker (none for a new file) against the content in the request's
 * memfd. The digest covers all of the new content, so an "s" answer
 * covers only this exact write.
 */
static int ask_about_write(struct session *s, struct proto_msg *m,
			   const char *real, struct judgement *j)
{
	struct tui_approval_request req = {
		.action = TUI_ACTION_WRITE, .subject = real, .rule_subject = real,
	};
	char err[SESSION_ERR_MAX], digest[AUDIT_DIGEST_HEX];
	char *old = NULL, *new;
	bool old_cut = false, new_cut;
	size_t len;
	int fd, rc;

	new = read_whole(m->fd, PROTO_CONTENT_MAX, &req.new_len, &new_cut);
	if (!new || new_cut) {
		free(new);
		judge_builtin(j, "denied: the content to write cannot be read "
			      "or is larger than the protocol allows");
		return 0;
	}
	req.new_text = new;
	audit_digest_hex(new, req.new_len, digest);
	if (broker_read(&s->broker, real, &fd, err, sizeof(err)) ==
	    BROKER_OK) {
		/* NOTE: past this size the diff compares only the start. */
		old = read_whole(fd, PROTO_CONTENT_MAX, &len, &old_cut);
		close(fd);
		req.old_text = old ? old : "";
		req.old_len = old ? len : 0;
	}
	rc = ask_user(s, j, m->type->name, &req, digest);
	if (old_cut)
		session_note("the current %s is larger than %ld bytes: the "
			     "diff showed only its start", real,
			     (long)PROTO_CONTENT_MAX);
	free(old);
	free(new);
	return rc;
}

/* Ask about a file request other than write_file. */
static int ask_about_path(struct session *s, struct proto_msg *m,
			  const char *real, struct judgement *j)
{
	struct tui_approval_request req = {
		.action = TUI_ACTION_LIST, .subject = real, .rule_subject = real,
	};
	char digest[AUDIT_DIGEST_HEX], *both;
	size_t oldlen, newlen;
	int rc;

	if (!s->ui || j->decision != POLICY_ASK)
		return 0;
	if (m->type->id == PROTO_WRITE_FILE)
		return ask_about_write(s, m, real, j);
	if (m->type->id == PROTO_READ_FILE)
		req.action = TUI_ACTION_READ;
	if (m->type->id != PROTO_EDIT_FILE)
		return ask_user(s, j, m->type->name, &req, NULL);

	/* An edit's digest covers both strings, with a NUL between them. */
	req.action = TUI_ACTION_EDIT;
	req.old_text = proto_str(m, "old");
	req.new_text = proto_str(m, "new");
	oldlen = strlen(req.old_text);
	newlen = strlen(req.new_text);
	req.old_len = oldlen;
	req.new_len = newlen;
	both = malloc(oldlen + newlen + 1);
	if (!both) {
		session_abort(s, SESSION_EXIT_SETUP, "error", "out of memory");
		return -1;
	}
	memcpy(both, req.old_text, oldlen);
	both[oldlen] = '\0';
	memcpy(both + oldlen + 1, req.new_text, newlen);
	audit_digest_hex(both, oldlen + newlen + 1, digest);
	free(both);
	rc = ask_user(s, j, m->type->name, &req, digest);
	return rc;
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
	char msg[SESSION_ERR_MAX + 2048], what[BROKER_PATH_MAX + 16];
	struct judgement j;
	bool effects = tool == POLICY_WRITE;

	/* glob and grep may leave path out: they search the workspace. */
	if (!path)
		path = ".";

	judge_path(s, tool, path, rel, real, &j);
	narrow_path(s, m->type->id, tool, rel, real, &j);
	if (ask_about_path(s, m, real, &j) < 0)
		return -1;
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

/* Context of search_may_read: the session and the narrowing to apply. */
struct search_judge {
	struct session *s;
	enum skills_narrow_request kind;
};

/*
 * A path the glob or grep walk came across, judged as read_file would
 * judge a Read of it. The walk follows no symlink, so the path is also
 * what it resolves to. An ask verdict skips the path too, because no one
 * is prompted for each file. A loaded skill's allowed-tools narrow glob
 * like list_directory and grep like read_file, because grep hands over
 * file contents.
 */
static bool search_may_read(void *ctx, const char *rel)
{
	const struct search_judge *judge = ctx;
	struct session *s = judge->s;
	const struct policy *p;
	size_t i;

	if (policy_decide_path(&s->policy, POLICY_READ, rel).decision !=
	    POLICY_ALLOW)
		return false;
	for (i = 0; i < s->nnarrowings; i++) {
		p = skills_narrow_policy(&s->narrowings[i], judge->kind);
		if (policy_decide_path(p, POLICY_READ, rel).decision !=
		    POLICY_ALLOW)
			return false;
	}
	return true;
}

static cJSON *search_result_fields(struct proto_msg *m,
				   const struct search_result *r)
{
	cJSON *f = cJSON_CreateObject();
	const char *cut = broker_search_cut_name(r->cut);

	cJSON_AddStringToObject(f, "pattern", proto_str(m, "pattern"));
	if (proto_str(m, "glob"))
		cJSON_AddStringToObject(f, "glob", proto_str(m, "glob"));
	cJSON_AddNumberToObject(f, "matches", (double)r->matches);
	if (m->type->id == PROTO_GREP)
		cJSON_AddNumberToObject(f, "files_searched",
					(double)r->files_searched);
	cJSON_AddNumberToObject(f, "entries", (double)r->entries);
	cJSON_AddNumberToObject(f, "skipped_by_policy", (double)r->denied);
	if (cut)
		cJSON_AddStringToObject(f, "cut", cut);
	else
		cJSON_AddNullToObject(f, "cut");
	return f;
}

/*
 * Handle glob and grep. The root is judged like list_directory, as a Read
 * of the path. Each file and directory beneath it is then judged on its
 * own by search_may_read while the broker walks.
 */
static int handle_search(struct session *s, struct proto_msg *m)
{
	char rel[BROKER_PATH_MAX], real[BROKER_PATH_MAX], err[SESSION_ERR_MAX];
	char msg[SESSION_ERR_MAX + 64];
	bool grep = m->type->id == PROTO_GREP;
	struct search_judge judge = {
		s, grep ? SKILLS_NARROW_READ : SKILLS_NARROW_LIST
	};
	struct search_request q = {
		.root = real,
		.pattern = proto_str(m, "pattern"),
		.file_glob = proto_str(m, "glob"),
		.ignore_case = proto_bool(m, "ignore_case", false),
		.max_results = (long)proto_int(m, "max_results", 0),
		.may_read = search_may_read,
		.ctx = &judge,
	};
	struct search_result r;
	enum broker_status st;
	cJSON *f;
	int rc;

	rc = admit_path(s, m, POLICY_READ, rel, real);
	if (rc <= 0)
		return rc;
	if ((grep ? broker_grep_check(&q, err, sizeof(err)) :
	     broker_glob_check(&q, err, sizeof(err))) < 0) {
		snprintf(msg, sizeof(msg), "invalid arguments for %s: %s",
			 m->type->name, err);
		return broker_failed(s, m, msg);
	}
	st = grep ? broker_grep(&s->broker, &q, &r, err, sizeof(err)) :
	     broker_glob(&s->broker, &q, &r, err, sizeof(err));
	if (st != BROKER_OK)
		return broker_failed(s, m, err);

	if (audit_result(s, m->id, m->type->name, true, NULL,
			 search_result_fields(m, &r)) < 0) {
		broker_search_free(&r);
		return -1;
	}
	f = cJSON_CreateObject();
	cJSON_AddBoolToObject(f, "ok", 1);
	cJSON_AddStringToObject(f, "content", r.content);
	broker_search_free(&r);
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
	return decide_both(&s->broker, p, tool, rel, real);
}

/*
 * Judge a command against every loaded skill's allowed-tools, with its
 * redirections judged as Read and Write against the same entries.
 */
static void narrow_command(struct session *s, const char *command,
			   struct judgement *j)
{
	struct policy_verdict v;
	size_t i;

	for (i = 0; i < s->nnarrowings && j->decision == POLICY_ALLOW; i++) {
		v = policy_decide_command_with(&s->narrowings[i].rules, command,
					       judge_redirection, s);
		if (v.decision != POLICY_ALLOW)
			narrow_judgement(j, &s->narrowings[i]);
	}
	answer_headless(s, j);
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
	if (r->oom_killed)
		cJSON_AddBoolToObject(f, "oom_killed", 1);
	return f;
}

#define COMMAND_CANCELLED "the command was cancelled by the user; its " \
	"processes were killed"

static int reply_cancelled(struct session *s, long id)
{
	if (audit_result(s, id, "run_command", false, COMMAND_CANCELLED,
			 NULL) < 0)
		return -1;
	return reply_error(s, id, COMMAND_CANCELLED);
}

static int handle_command(struct session *s, struct proto_msg *m)
{
	const char *command = proto_str(m, "command");
	char err[SESSION_ERR_MAX], msg[SESSION_ERR_MAX + 2048];
	struct tui_approval_request req = {
		.action = TUI_ACTION_COMMAND, .subject = command,
	};
	struct sandbox_opts opts;
	struct sandbox_result r;
	struct judgement j;
	long limit = s->cfg->command_timeout_ms;
	long left = session_time_left_ms(s);
	bool deadline_cap = false;
	cJSON *f;
	int rc;

	memset(&j, 0, sizeof(j));
	judge_verdict(&j, policy_decide_command_with(&s->policy, command,
						     judge_redirection, s));
	answer_headless(s, &j);
	narrow_command(s, command, &j);
	if (ask_user(s, &j, "run_command", &req, NULL) < 0)
		return -1;
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

	/* After "cancel" the task is over; nothing more runs for it. */
	if (s->cancelling)
		return reply_cancelled(s, m->id);

	memset(&opts, 0, sizeof(opts));
	opts.workspace = s->broker.root;
	if (left > 0 && left < limit)
		limit = left;
	opts.timeout_ms = proto_int(m, "timeout_ms", limit);
	if (opts.timeout_ms >= limit) {
		opts.timeout_ms = limit;
		deadline_cap = left > 0 && left == limit;
	}
	opts.cancel_fd = s->signal_fd;
	/* The loop is blocked now; keep the chat's elapsed time moving. */
	if (s->ui) {
		opts.on_wait = interactive_tick;
		opts.wait_ctx = s;
	}
	opts.output_cap = SESSION_OUTPUT_CAP;
	opts.mode = sandbox_mode_for(s->cfg->mode);
	opts.network = opts.mode == SANDBOX_FULL_ACCESS;
	opts.netns_fd = s->netns_fd;
	opts.protected_paths = protected_paths;
	/* What the user's policy file unprotects, the sandbox leaves unmasked. */
	opts.unmasked = (const char *const *)s->policy.unprotected;
	/* TODO: this blocks the event loop; run commands as child events. */
	rc = sandbox_run(&opts, command, &r, err, sizeof(err));
	/* The command may have made links or files the broker had not seen. */
	broker_forget(&s->broker);
	if (rc < 0) {
		session_note("command sandbox: %s", err);
		return broker_failed(s, m, err);
	}

	f = command_result_fields(&r);
	cJSON_AddStringToObject(f, "output_sha256", r.output_sha256);
	cJSON_AddStringToObject(f, "limits", sandbox_limits_text(r.limits, msg,
								 sizeof(msg)));
	/* Cut at the session's deadline: that is --timeout, not the command's. */
	if (r.timed_out && deadline_cap) {
		session_expire(s);
		r.cancelled = true;
	}
	if (r.cancelled) {
		close(r.output_fd);
		cJSON_AddBoolToObject(f, "cancelled", 1);
		if (audit_result(s, m->id, "run_command", false,
				 COMMAND_CANCELLED, f) < 0)
			return -1;
		/* "cancel" first, so the worker stops after this reply. */
		session_take_signals(s);
		return reply_error(s, m->id, COMMAND_CANCELLED);
	}
	if (audit_result(s, m->id, "run_command", true, NULL, f) < 0) {
		close(r.output_fd);
		return -1;
	}
	f = command_result_fields(&r);
	cJSON_AddStringToObject(f, "limits", sandbox_limits_text(r.limits, msg,
								 sizeof(msg)));
	cJSON_AddBoolToObject(f, "ok", 1);
	rc = reply(s, m->id, f, r.output_fd);
	if (r.output_fd >= 0)
		close(r.output_fd);
	/* With the reply sent: the placeholders go until the next command. */
	sandbox_reap(true);
	return rc;
}

/* The connect broker: only ever the configured model endpoint. */
static int handle_connect(struct session *s, struct proto_msg *m)
{
	char err[SESSION_ERR_MAX], subject[600];
	struct judgement j;
	cJSON *f;
	int fd, rc;

	memset(&j, 0, sizeof(j));
	j.decision = POLICY_ALLOW;
	j.source = "builtin";
	snprintf(j.reason, sizeof(j.reason), "the configured model endpoint");
	if (s->endpoint.via_proxy)
		snprintf(subject, sizeof(subject), "%s:%d via %s:%d",
			 s->endpoint.host, s->endpoint.port,
			 s->endpoint.proxy_host, s->endpoint.proxy_port);
	else
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

/* Copy text into a memfd sealed against change, for a read-only reply. */
static int sealed_memfd(const char *text, size_t len, char *err,
			size_t errlen)
{
	size_t done = 0;
	ssize_t n;
	int fd;

	fd = memfd_create("coworker-skill", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		goto fail;
	while (done < len) {
		n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		done += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "cannot hand over the skill text: %s",
		 strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * The worker's copy of a skill error: the skill's folder is written as the
 * skill's name, so the model never learns where the user keeps skills.
 */
static void skill_error_for_worker(const struct skill *sk, const char *err,
				   char *out, size_t size)
{
	size_t dirlen = strlen(sk->dir);

	if (strncmp(err, sk->dir, dirlen) == 0 &&
	    (err[dirlen] == '/' || err[dirlen] == ':'))
		snprintf(out, size, "skill %s%s", sk->name, err + dirlen);
	else if (strncmp(err, sk->root, strlen(sk->root)) == 0)
		snprintf(out, size, "skill %s: cannot read its folder",
			 sk->name);
	else
		snprintf(out, size, "%s", err);
}

/* Record a failed skill load in full and answer it without paths. */
static int skill_failed(struct session *s, struct proto_msg *m,
			const struct skill *sk, const char *err)
{
	char msg[SESSION_ERR_MAX];

	if (audit_result(s, m->id, "load_skill", false, err, NULL) < 0)
		return -1;
	skill_error_for_worker(sk, err, msg, sizeof(msg));
	return reply_error(s, m->id, msg);
}

static void narrowing_note(void *ctx, const char *message)
{
	(void)ctx;
	session_note("%s", message);
}

/*
 * Start narrowing later requests to sk's allowed-tools, once per skill.
 * This happens before the skill's text is handed over, so no request the
 * skill prompts can slip past its own list.
 */
static int narrow_to_skill(struct session *s, const struct skill *sk,
			   char *err, size_t errlen)
{
	struct skills_narrowing *grown;
	size_t i;

	if (!sk->has_allowed_tools)
		return 0;
	for (i = 0; i < s->nnarrowings; i++)
		if (strcmp(s->narrowings[i].name, sk->name) == 0)
			return 0;
	grown = realloc(s->narrowings,
			(s->nnarrowings + 1) * sizeof(*s->narrowings));
	if (!grown) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->narrowings = grown;
	if (skills_narrow_init(&s->narrowings[s->nnarrowings], sk,
			       s->broker.root, narrowing_note, s, err,
			       errlen) < 0)
		return -1;
	session_note("skill \"%s\" is active: requests outside its "
		     "allowed-tools (%s) now need approval", sk->name,
		     s->narrowings[s->nnarrowings].listed);
	s->nnarrowings++;
	return 0;
}

void session_free_narrowings(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nnarrowings; i++)
		skills_narrow_free(&s->narrowings[i]);
	free(s->narrowings);
	s->narrowings = NULL;
	s->nnarrowings = 0;
}

/*
 * Judge and record a load, and reply to a denial. Returns 1 when the load
 * may go ahead, 0 after a denial, -1 when the session must end.
 */
static int admit_skill(struct session *s, struct proto_msg *m,
		       const char *name, const char *subject)
{
	char msg[SESSION_ERR_MAX + 2048], what[SKILLS_NAME_MAX + 16];
	struct tui_approval_request req = {
		.action = TUI_ACTION_SKILL, .subject = name,
	};
	struct judgement j;

	memset(&j, 0, sizeof(j));
	judge_verdict(&j, policy_decide_skill(&s->policy, name));
	answer_headless(s, &j);
	if (ask_user(s, &j, "load_skill", &req, NULL) < 0)
		return -1;
	if (audit_decision(s, m->id, "load_skill", subject, &j, false) < 0)
		return -1;
	if (j.decision == POLICY_ALLOW)
		return 1;
	snprintf(what, sizeof(what), "Skill(%s)", name);
	denial_text(&j, what, msg, sizeof(msg));
	if (audit_result(s, m->id, "load_skill", false, msg, NULL) < 0)
		return -1;
	return reply_error(s, m->id, msg) < 0 ? -1 : 0;
}

/*
 * load_skill: the body of a skill's SKILL.md, or one other file of the
 * skill, in a sealed memfd. Skills mostly live outside the workspace, so
 * this is the only way the worker reaches them.
 */
static int handle_load_skill(struct session *s, struct proto_msg *m)
{
	const char *name = proto_str(m, "name"), *file = proto_str(m, "file");
	char subject[SKILLS_NAME_MAX + 4096 + 2], err[SESSION_ERR_MAX];
	char sha[AUDIT_DIGEST_HEX] = "";
	const struct skill *sk;
	size_t len = 0;
	char *text = NULL;
	cJSON *f;
	int rc, fd;

	snprintf(subject, sizeof(subject), "%s%s%s", name, file ? "/" : "",
		 file ? file : "");
	rc = admit_skill(s, m, name, subject);
	if (rc <= 0)
		return rc;

	sk = skills_find(&s->skills, name);
	if (!sk) {
		snprintf(err, sizeof(err), "no skill named \"%s\" in this "
			 "session; use a name from the list of skills in the "
			 "system prompt", name);
		return broker_failed(s, m, err);
	}
	rc = file ? skills_load_file(sk, file, &text, &len, err, sizeof(err)) :
	     skills_load_body(sk, &text, &len, err, sizeof(err));
	if (rc < 0)
		return skill_failed(s, m, sk, err);
	audit_digest_hex(text, len, sha);
	fd = sealed_memfd(text, len, err, sizeof(err));
	free(text);
	if (fd < 0 || narrow_to_skill(s, sk, err, sizeof(err)) < 0) {
		if (fd >= 0)
			close(fd);
		return skill_failed(s, m, sk, err);
	}

	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "source", sk->source);
	cJSON_AddStringToObject(f, "path", sk->path);
	cJSON_AddNumberToObject(f, "bytes", (double)len);
	cJSON_AddStringToObject(f, "sha256", sha);
	if (audit_result(s, m->id, "load_skill", true, NULL, f) < 0) {
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
	case PROTO_GLOB:
	case PROTO_GREP:
		return handle_search(s, m);
	case PROTO_RUN_COMMAND:
		return handle_command(s, m);
	case PROTO_LOAD_SKILL:
		return handle_load_skill(s, m);
	default:
		session_abort(s, SESSION_EXIT_WORKER, "violation",
			      "the worker sent an unknown request \"%s\"",
			      m->type->name);
		return -1;
	}
}
