/*
 * The life of one headless session: set-up, the worker's start and
 * confinement check, the event loop, and the end record.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "session_internal.h"
#include "sanitize.h"
#include "supervisor/sandbox.h"

#ifndef COWORKER_VERSION
#define COWORKER_VERSION "0.1.0"
#endif

/* How often batched audit lines are synced while the session is quiet. */
#define AUDIT_SYNC_INTERVAL_MS 200

/* How long a worker that closed its socket may take to exit. */
#define WORKER_REAP_GRACE_MS 2000

/* How long a worker may take to send "done" after "cancel". */
#define CANCEL_GRACE_SEC 2

/* How long a worker may take from exec to "ready". */
#define READY_TIMEOUT_SEC 30

/* The CA bundle handed to the worker for https endpoints. */
#define CA_BUNDLE_DEFAULT "/etc/ssl/certs/ca-certificates.crt"

/* Maximum length of a note in bytes. A longer note is cut. */
#define NOTE_MAX 8191

void (*session_note_hook)(const char *line);

/*
 * The log whose secrets session_note redacts: the running session's, from
 * open_audit until the log is closed. session_note takes no session, and
 * a process runs one session at a time.
 */
static const struct audit_log *note_redactor;

static void note_write(const char *line)
{
	if (session_note_hook) {
		session_note_hook(line);
		return;
	}
	fputs("coworker: ", stderr);
	sanitize_write(stderr, line, false);
	fputc('\n', stderr);
}

void session_note(const char *fmt, ...)
{
	char *line, *redacted;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	if (line && note_redactor) {
		redacted = audit_redact_text(note_redactor, line);
		free(line);
		line = redacted;
	}
	if (!line) {
		note_write("a message was dropped: out of memory");
		return;
	}

	/* Cut only after redacting, so that a key cut in two is still found. */
	if (strlen(line) > NOTE_MAX)
		line[NOTE_MAX] = '\0';
	note_write(line);
	free(line);
}

void session_abort(struct session *s, int exit_status, const char *end_status,
		   const char *fmt, ...)
{
	char msg[SESSION_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	session_note("%s", msg);
	if (s->exit_status == SESSION_EXIT_OK) {
		s->exit_status = exit_status;
		s->end_status = end_status;
	}
	if (s->base)
		event_base_loopbreak(s->base);
}

/* Version of the --json event stream, documented in docs/headless.md. */
#define JSON_STREAM_VERSION 1

/*
 * Print one line of the --json stream, redacted with the log's secrets as
 * the log's own lines are. Events come only while the log is open, and a
 * line that cannot be redacted is not printed.
 */
static void emit_line(struct session *s, const char *type,
		      const cJSON *fields)
{
	char err[SESSION_ERR_MAX] = "out of memory";
	cJSON *line, *item;
	char *text = NULL;

	if (!s->audit)
		return;
	line = cJSON_CreateObject();
	cJSON_AddNumberToObject(line, "v", JSON_STREAM_VERSION);
	cJSON_AddStringToObject(line, "type", type);
	if (fields)
		cJSON_ArrayForEach(item, fields)
			cJSON_AddItemToObject(line, item->string,
					      cJSON_Duplicate(item, true));
	if (line)
		text = audit_redact_print(s->audit, line, err, sizeof(err));
	if (text) {
		fputs(text, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	} else {
		session_note("--json: the %s event was not printed: %s", type,
			     err);
	}
	cJSON_free(text);
	cJSON_Delete(line);
}

static void emit_delta_line(struct session *s, const char *text)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "text", text);
	emit_line(s, "text_delta", f);
	cJSON_Delete(f);
}

/*
 * --json-deltas: redacting each delta alone would miss a key split
 * between two of them. So the end of the text that could begin a form of
 * the key is held back in s->delta_held, until the next delta completes
 * it (and it is redacted whole) or shows that it was not the key. Any
 * other event prints the held text first, so the order stays as it came.
 */
static void emit_text_delta(struct session *s, const char *text)
{
	size_t held_len = s->delta_held ? strlen(s->delta_held) : 0;
	size_t len = held_len + strlen(text), keep;
	char *joined;

	if (!s->cfg->json || !s->cfg->json_deltas || !s->audit)
		return;
	joined = malloc(len + 1);
	if (!joined) {
		session_note("--json: a text_delta event was not printed: "
			     "out of memory");
		return;
	}
	memcpy(joined, s->delta_held ? s->delta_held : "", held_len);
	memcpy(joined + held_len, text, len - held_len + 1);
	free(s->delta_held);
	s->delta_held = NULL;

	keep = audit_secret_prefix(s->audit, joined, len);
	if (keep > 0) {
		s->delta_held = strdup(joined + len - keep);
		if (!s->delta_held)
			session_note("--json: the end of a text_delta event was "
				     "not printed: out of memory");
	}
	joined[len - keep] = '\0';
	if (joined[0])
		emit_delta_line(s, joined);
	free(joined);
}

/* Print the text that emit_text_delta held back, if any. */
static void flush_text_delta(struct session *s)
{
	char *text = s->delta_held;

	if (!text)
		return;
	s->delta_held = NULL;
	emit_delta_line(s, text);
	free(text);
}

void session_emit(struct session *s, const char *type, const cJSON *fields)
{
	if (!s->cfg->json)
		return;
	flush_text_delta(s);
	emit_line(s, type, fields);
}

/*
 * Every audited event also goes to the --json stream, so that stream is the
 * audit log without its chain. The key is redacted in both, with the same
 * secrets: the log redacts its line, and session_emit redacts its copy.
 */
int session_audit(struct session *s, const char *event, cJSON *fields,
		  bool sync)
{
	char err[SESSION_ERR_MAX];
	int rc;

	rc = audit_append(s->audit, event, fields, sync, err, sizeof(err));
	if (rc == 0)
		session_emit(s, event, fields);
	cJSON_Delete(fields);
	if (rc < 0) {
		session_abort(s, SESSION_EXIT_SETUP, "error",
			      "audit log: %s; the session was stopped because "
			      "actions can no longer be recorded", err);
		return -1;
	}
	return 0;
}

static void make_session_id(char *id, size_t size)
{
	unsigned char rnd[4] = { 0 };
	struct tm tm;
	time_t now = time(NULL);

	gmtime_r(&now, &tm);
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	snprintf(id, size, "%04d%02d%02dT%02d%02d%02dZ-%02x%02x%02x%02x",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, rnd[0], rnd[1], rnd[2], rnd[3]);
}

/*
 * Load every policy layer: the preset, the user file, the project files
 * (whose allow rules count only once the project is trusted), --policy
 * files and command-line rules.
 */
static int load_policy(struct session *s, cJSON *files, char *err,
		       size_t errlen)
{
	const struct session_config *cfg = s->cfg;
	struct policy_layers layers;
	char path[BROKER_PATH_MAX + 64];
	const char *const *f;
	struct stat st;

	memset(&layers, 0, sizeof(layers));
	layers.preset = cfg->mode;
	layers.workspace = s->broker.root;
	layers.extra_files = cfg->policy_files;
	layers.allow = cfg->allow;
	layers.ask = cfg->ask;
	layers.deny = cfg->deny;
	layers.trust_project = cfg->trust_project;
	if (policy_load_layers(&s->policy, &layers, err, errlen) < 0)
		return -1;

	if (policy_user_file_path(path, sizeof(path)) == 0 &&
	    stat(path, &st) == 0)
		cJSON_AddItemToArray(files, cJSON_CreateString(path));
	snprintf(path, sizeof(path), "%s/.coworker/policy.json", s->broker.root);
	if (stat(path, &st) == 0)
		cJSON_AddItemToArray(files, cJSON_CreateString(path));
	snprintf(path, sizeof(path), "%s/.coworker/policy.local.json",
		 s->broker.root);
	if (stat(path, &st) == 0)
		cJSON_AddItemToArray(files, cJSON_CreateString(path));
	for (f = cfg->policy_files; f && *f; f++)
		cJSON_AddItemToArray(files, cJSON_CreateString(*f));

	policy_digest(&s->policy, s->policy_digest);
	if (s->policy.inactive_count > 0)
		session_note("the project's policy has %zu allow rule%s that "
			     "%s inactive until you trust the project: pass "
			     "--trust-project or run 'coworker policy trust'",
			     s->policy.inactive_count,
			     s->policy.inactive_count == 1 ? "" : "s",
			     s->policy.inactive_count == 1 ? "stays" : "stay");
	return 0;
}

int session_reload_policy(struct session *s, char *err, size_t errlen)
{
	struct policy old = s->policy;
	cJSON *files = cJSON_CreateArray(), *f;

	policy_init(&s->policy);
	if (load_policy(s, files, err, errlen) < 0) {
		policy_free(&s->policy);
		s->policy = old;
		cJSON_Delete(files);
		return -1;
	}
	/*
	 * NOTE: the broker keeps the roots outside the workspace that the
	 * first policy opened; a preset that reaches new ones needs a new
	 * session.
	 */
	policy_free(&old);
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "mode", s->cfg->mode ? s->cfg->mode :
				"workspace-write");
	cJSON_AddStringToObject(f, "policy_digest", s->policy_digest);
	cJSON_AddItemToObject(f, "policy_files", files);
	return session_audit(s, "policy_reload", f, true);
}

/* Make dir (one level) unless it exists as a real directory. */
static int ensure_private_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory (a symlink here "
			 "could send the audit log elsewhere); remove it", dir);
		return -1;
	}
	return 0;
}

/* Skill warnings name the file and line; notes are for skills check. */
static void warn_skill(void *ctx, enum skills_severity severity,
		       const char *message)
{
	(void)ctx;
	if (severity == SKILLS_WARNING)
		session_note("skill skipped: %s", message);
}

/*
 * Cut the prompt section to PROTO_SKILLS_SECTION_MAX bytes at a line end,
 * saying how many skill lines were left out. Those skills can still be
 * loaded by name, but the prompt no longer lists them.
 */
static void cap_skills_section(char *section)
{
	static const char fmt[] = "- (%zu more skills are not listed: the list "
				  "is limited to %d bytes)\n";
	size_t len = strlen(section), cut, omitted = 0, i;

	if (len <= PROTO_SKILLS_SECTION_MAX)
		return;
	cut = PROTO_SKILLS_SECTION_MAX - sizeof(fmt) - 32;
	while (cut > 0 && section[cut - 1] != '\n')
		cut--;
	for (i = cut; i < len; i++)
		if (section[i] == '\n')
			omitted++;
	snprintf(section + cut, len + 1 - cut, fmt, omitted,
		 PROTO_SKILLS_SECTION_MAX);
}

/*
 * Find the skills the worker's system prompt lists. Project skills count
 * only in a trusted project, the same trust that activates the project's
 * allow rules.
 */
static int discover_skills(struct session *s, char *err, size_t errlen)
{
	struct skills_roots roots;

	skills_roots_default(&roots, s->broker.root);
	roots.trust_project = s->policy.project_trusted;
	skills_discover(&s->skills, &roots, warn_skill, s);
	if (s->skills.untrusted_skipped > 0)
		session_note("the project's skills stay inactive until you "
			     "trust the project: pass --trust-project or run "
			     "'coworker policy trust'");
	if (skills_prompt_section(&s->skills, &s->skills_section) < 0) {
		snprintf(err, errlen, "out of memory listing the skills");
		return -1;
	}
	cap_skills_section(s->skills_section);
	return 0;
}

/*
 * Write a .gitignore of "*" into the audit directory unless one exists, so
 * git ignores the logs and the file itself. A failure only leaves the
 * logs untracked.
 */
static void ignore_audit_dir(const char *dir)
{
	char path[BROKER_PATH_MAX + 48];
	int fd;

	snprintf(path, sizeof(path), "%s/.gitignore", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0)
		return;
	if (write(fd, "*\n", 2) != 2)
		unlink(path);
	close(fd);
}

static int open_audit(struct session *s, const char *key, char *path,
		      size_t pathsize, char *err, size_t errlen)
{
	char dir[BROKER_PATH_MAX + 32];

	if (s->cfg->audit_path) {
		snprintf(path, pathsize, "%s", s->cfg->audit_path);
	} else {
		snprintf(dir, sizeof(dir), "%s/.coworker", s->broker.root);
		if (ensure_private_dir(dir, err, errlen) < 0)
			return -1;
		snprintf(dir, sizeof(dir), "%s/.coworker/audit",
			 s->broker.root);
		if (ensure_private_dir(dir, err, errlen) < 0)
			return -1;
		ignore_audit_dir(dir);
		snprintf(path, pathsize, "%s/%s.jsonl", dir, s->id);
	}
	s->audit = audit_open(path, key, err, errlen);
	if (!s->audit)
		return -1;
	note_redactor = s->audit;

	/* audit_open skips such a key: tell the user, in case it is real. */
	if (*key && audit_secret_too_short(key))
		session_note("%s is shorter than %d characters, so it is taken "
			     "for a placeholder and not redacted from the audit "
			     "log or the output; a key that must stay secret "
			     "needs %d or more", s->cfg->api_key_env,
			     AUDIT_SECRET_MIN, AUDIT_SECRET_MIN);
	return 0;
}

/* Close the log, and with it the redaction of what session_note prints. */
static int close_audit(struct session *s, char *err, size_t errlen)
{
	int rc;

	note_redactor = NULL;
	rc = audit_close(s->audit, err, errlen);
	s->audit = NULL;
	return rc;
}

static int audit_session_start(struct session *s, cJSON *files)
{
	const struct session_config *cfg = s->cfg;
	cJSON *f = cJSON_CreateObject(), *argv = cJSON_CreateArray();
	cJSON *unprotected;
	char cwd[BROKER_PATH_MAX];
	int i;

	for (i = 0; i < cfg->argc; i++)
		cJSON_AddItemToArray(argv, cJSON_CreateString(cfg->argv[i]));
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "(unknown)");
	cJSON_AddStringToObject(f, "session", s->id);
	cJSON_AddStringToObject(f, "version", COWORKER_VERSION);
	cJSON_AddNumberToObject(f, "protocol", PROTO_VERSION);
	cJSON_AddItemToObject(f, "argv", argv);
	cJSON_AddStringToObject(f, "cwd", cwd);
	cJSON_AddStringToObject(f, "workspace", s->broker.root);
	cJSON_AddStringToObject(f, "mode", cfg->mode ? cfg->mode :
				"workspace-write");
	cJSON_AddStringToObject(f, "command_network",
				cfg->mode && strcmp(cfg->mode, "full-access") == 0 ?
				"host" : cfg->shared_netns ? "shared" :
				"fresh per command");
	cJSON_AddStringToObject(f, "policy_digest", s->policy_digest);
	cJSON_AddItemToObject(f, "policy_files", files);
	cJSON_AddStringToObject(f, "project_digest", s->policy.project_digest);
	cJSON_AddBoolToObject(f, "project_trusted", s->policy.project_trusted);
	cJSON_AddNumberToObject(f, "inactive_project_rules",
				(double)s->policy.inactive_count);
	cJSON_AddNumberToObject(f, "skills", (double)s->skills.count);
	cJSON_AddItemToObject(f, "instructions",
			      cJSON_Duplicate(s->instruction_files, true));
	cJSON_AddNumberToObject(f, "untrusted_skill_roots",
				(double)s->skills.untrusted_skipped);
	unprotected = cJSON_AddArrayToObject(f, "unprotected");
	for (i = 0; i < (int)s->policy.nunprotected; i++)
		cJSON_AddItemToArray(unprotected,
				     cJSON_CreateString(s->policy.unprotected[i]));
	cJSON_AddStringToObject(f, "provider", cfg->provider);
	cJSON_AddStringToObject(f, "model", cfg->model);
	cJSON_AddStringToObject(f, "base_url", cfg->base_url);
	if (s->endpoint.via_proxy)
		cJSON_AddStringToObject(f, "proxy", s->endpoint.proxy_url);
	else
		cJSON_AddNullToObject(f, "proxy");
	return session_audit(s, "session_start", f, true);
}

/* Send the worker its configuration, the API key and the CA bundle. */
static int send_config(struct session *s, const char *key, char *err,
		       size_t errlen)
{
	cJSON *f = cJSON_CreateObject();
	const char *ca = getenv("SSL_CERT_FILE");
	int cafd = -1, rc;

	if (s->endpoint.tls) {
		if (!ca || !*ca)
			ca = CA_BUNDLE_DEFAULT;
		cafd = open(ca, O_RDONLY | O_CLOEXEC);
		if (cafd < 0) {
			snprintf(err, errlen, "cannot open the CA bundle %s: %s; "
				 "install ca-certificates or set SSL_CERT_FILE",
				 ca, strerror(errno));
			cJSON_Delete(f);
			return -1;
		}
	}
	cJSON_AddStringToObject(f, "provider", s->cfg->provider);
	cJSON_AddStringToObject(f, "model", s->cfg->model);
	cJSON_AddStringToObject(f, "base_url", s->cfg->base_url);
	cJSON_AddStringToObject(f, "resolve", s->endpoint.resolve);
	if (s->endpoint.via_proxy)
		cJSON_AddStringToObject(f, "proxy", s->endpoint.proxy_url);
	if (key && *key)
		cJSON_AddStringToObject(f, "api_key", key);
	cJSON_AddNumberToObject(f, "max_turns", (double)s->cfg->max_turns);
	if (s->cfg->context_tokens > 0)
		cJSON_AddNumberToObject(f, "context_tokens",
					(double)s->cfg->context_tokens);
	if (s->cfg->token_budget > 0)
		cJSON_AddNumberToObject(f, "token_budget",
					(double)s->cfg->token_budget);
	if ((s->cfg->json && s->cfg->json_deltas) || s->ui)
		cJSON_AddBoolToObject(f, "deltas", 1);
	cJSON_AddStringToObject(f, "workspace", s->broker.root);
	if (s->skills_section && s->skills_section[0])
		cJSON_AddStringToObject(f, "skills", s->skills_section);
	if (s->instructions)
		cJSON_AddStringToObject(f, "instructions", s->instructions);
	rc = proto_send(s->worker.sock, PROTO_CONFIG, 1, f, cafd, err, errlen);
	cJSON_Delete(f);
	if (cafd >= 0)
		close(cafd);
	return rc;
}

/* The worker reports it is locked down; verify before any task. */
static int on_ready(struct session *s, struct proto_msg *m)
{
	char err[SESSION_ERR_MAX];
	long long abi = proto_int(m, "landlock_abi", 0);
	cJSON *f = cJSON_CreateObject(), *t;

	event_del(s->ready_timer);
	if (worker_check(&s->worker, err, sizeof(err)) < 0) {
		cJSON_AddStringToObject(f, "error", err);
		session_audit(s, "confinement_failed", f, true);
		session_abort(s, SESSION_EXIT_SETUP, "error", "%s; no task was "
			      "sent", err);
		return -1;
	}
	cJSON_AddNumberToObject(f, "pid", s->worker.pid);
	cJSON_AddNumberToObject(f, "landlock_abi", (double)abi);
	cJSON_AddStringToObject(f, "seccomp", "filter");
	cJSON_AddBoolToObject(f, "no_new_privs", 1);
	if (worker_describe_layers(&s->worker, f) < 0) {
		cJSON_Delete(f);
		session_abort(s, SESSION_EXIT_SETUP, "error", "out of memory");
		return -1;
	}
	if (session_audit(s, "worker_ready", f, false) < 0)
		return -1;
	/* A missing layer stops the session unless the user chose less. */
	if (abi == 0 && !s->cfg->weaker_worker_sandbox) {
		session_abort(s, SESSION_EXIT_SETUP, "error", "the worker could "
			      "not apply Landlock (the kernel does not offer it "
			      "or it is disabled; enable it with lsm=landlock on "
			      "the kernel command line), so no task was sent; "
			      "pass --weaker-worker-sandbox to run without it");
		return -1;
	}
	if (abi == 0)
		session_note("warning: the worker runs without Landlock "
			     "(--weaker-worker-sandbox)");

	s->phase = PROTO_PHASE_RUN;
	if (s->ui) {
		/* Interactive mode sends each task when the user types it. */
		s->done = true;
		event_base_loopbreak(s->base);
		return 0;
	}
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "text", s->cfg->task);
	if (proto_send(s->worker.sock, PROTO_TASK, 1, t, -1, err,
		       sizeof(err)) < 0) {
		cJSON_Delete(t);
		session_abort(s, SESSION_EXIT_WORKER, "error",
			      "cannot send the task to the worker: %s", err);
		return -1;
	}
	cJSON_Delete(t);
	return 0;
}

/*
 * Show the model's text line by line, each behind "model:", so that text
 * from the worker can never pass for one of the supervisor's own lines.
 */
static void note_model_text(const char *text)
{
	const char *end;

	while (*text) {
		end = strchr(text, '\n');
		if (!end)
			end = text + strlen(text);
		session_note("model: %.*s", (int)(end - text), text);
		text = *end ? end + 1 : end;
	}
}

/*
 * Parse the worker's todo list: one item per line, "STATUS TEXT", with
 * STATUS one of pending, in_progress or completed. Returns an array of
 * {status, text} objects, or NULL when a line breaks the format.
 */
static cJSON *parse_todo(const char *items, char *err, size_t errlen)
{
	static const char *const statuses[] = {
		"pending", "in_progress", "completed",
	};
	cJSON *list = cJSON_CreateArray(), *item;
	const char *line = items, *end, *sp;
	size_t i, n = 0, len;
	char text[PROTO_TODO_TEXT_MAX + 1];

	while (list && *line) {
		end = strchrnul(line, '\n');
		sp = memchr(line, ' ', (size_t)(end - line));
		for (i = 0; sp && i < sizeof(statuses) / sizeof(statuses[0]); i++)
			if ((size_t)(sp - line) == strlen(statuses[i]) &&
			    strncmp(line, statuses[i], (size_t)(sp - line)) == 0)
				break;
		len = sp ? (size_t)(end - sp - 1) : 0;
		if (!sp || i == sizeof(statuses) / sizeof(statuses[0]) ||
		    len == 0 || len > PROTO_TODO_TEXT_MAX ||
		    ++n > PROTO_TODO_ITEMS_MAX) {
			snprintf(err, errlen, "todo item %zu is not \"STATUS "
				 "TEXT\" with a known status, 1 to %d bytes of "
				 "text, at most %d items", n + 1,
				 PROTO_TODO_TEXT_MAX, PROTO_TODO_ITEMS_MAX);
			cJSON_Delete(list);
			return NULL;
		}
		memcpy(text, sp + 1, len);
		text[len] = '\0';
		item = cJSON_CreateObject();
		cJSON_AddStringToObject(item, "status", statuses[i]);
		cJSON_AddStringToObject(item, "text", text);
		cJSON_AddItemToArray(list, item);
		line = *end ? end + 1 : end;
	}
	return list;
}

/* Keep the latest todo list for display and record it. */
static int on_todo(struct session *s, struct proto_msg *m, cJSON *f)
{
	char err[SESSION_ERR_MAX];
	cJSON *list = parse_todo(proto_str(m, "items"), err, sizeof(err));

	if (!list) {
		cJSON_Delete(f);
		session_violation(s, err);
		return 0;
	}
	cJSON_Delete(s->todo);
	s->todo = cJSON_Duplicate(list, true);
	cJSON_AddItemToObject(f, "items", list);
	return session_audit(s, "todo", f, false);
}

static int on_compaction(struct session *s, struct proto_msg *m, cJSON *f)
{
	static const char *const names[] = {
		"turn", "messages_before", "messages_after", "tokens_before",
		"tokens_after",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cJSON_AddNumberToObject(f, names[i],
					(double)proto_int(m, names[i], 0));
	/* The summary request's tokens count like a turn's. */
	s->prompt_tokens += proto_int(m, "prompt_tokens", 0);
	s->completion_tokens += proto_int(m, "completion_tokens", 0);
	cJSON_AddNumberToObject(f, "prompt_tokens",
				(double)proto_int(m, "prompt_tokens", 0));
	cJSON_AddNumberToObject(f, "completion_tokens",
				(double)proto_int(m, "completion_tokens", 0));
	session_note("context compacted: about %lld tokens in %lld messages "
		     "became %lld in %lld", proto_int(m, "tokens_before", 0),
		     proto_int(m, "messages_before", 0),
		     proto_int(m, "tokens_after", 0),
		     proto_int(m, "messages_after", 0));
	return session_audit(s, "compaction", f, false);
}

static bool cancelled_by_timeout(const struct session *s)
{
	return s->cancelling && strcmp(s->cancelling, "timeout") == 0;
}

/* The worker confirmed the cancel: end with the status of its cause. */
static void on_cancelled(struct session *s)
{
	if (cancelled_by_timeout(s)) {
		s->end_status = "timeout";
		s->exit_status = SESSION_EXIT_LIMIT;
	} else {
		s->end_status = "cancelled";
		s->exit_status = SESSION_EXIT_INTERRUPTED;
	}
}

/*
 * Interactive mode: one task ended and the worker waits for the next, so
 * the loop returns to the prompt. The session's exit status stays as it
 * is: a cancelled or failed task does not end the session.
 */
static int on_task_done(struct session *s, struct proto_msg *m)
{
	static const char *const statuses[] = {
		"ok", "max_turns", "token_budget", "cancelled",
	};
	const char *status = proto_str(m, "status");
	cJSON *f = cJSON_CreateObject();
	size_t i;

	s->task_status = "error";
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (strcmp(status, statuses[i]) == 0)
			s->task_status = statuses[i];
	free(s->summary);
	s->summary = strdup(proto_str(m, "summary") ?
			    proto_str(m, "summary") : "");
	event_base_loopbreak(s->base);
	cJSON_AddStringToObject(f, "status", s->task_status);
	return session_audit(s, s->awaiting && strcmp(s->awaiting, "compact")
			     == 0 ? "compact_done" : "task_done", f, false);
}

static int on_event(struct session *s, struct proto_msg *m)
{
	static const struct timeval exit_grace = { 2, 0 };
	cJSON *f = cJSON_CreateObject();
	const char *text;

	if (s->ui)
		interactive_show_event(s, m);
	switch (m->type->id) {
	case PROTO_TEXT:
		text = proto_str(m, "text");
		cJSON_AddStringToObject(f, "text", text);
		if (!s->ui)
			note_model_text(text);
		return session_audit(s, "text", f, false);
	case PROTO_TURN:
		s->turns = proto_int(m, "turn", s->turns);
		s->prompt_tokens += proto_int(m, "prompt_tokens", 0);
		s->completion_tokens += proto_int(m, "completion_tokens", 0);
		cJSON_AddNumberToObject(f, "turn", (double)s->turns);
		if (proto_str(m, "model"))
			cJSON_AddStringToObject(f, "model", proto_str(m, "model"));
		if (proto_str(m, "finish_reason"))
			cJSON_AddStringToObject(f, "finish_reason",
						proto_str(m, "finish_reason"));
		cJSON_AddNumberToObject(f, "prompt_tokens",
					(double)proto_int(m, "prompt_tokens", 0));
		cJSON_AddNumberToObject(f, "completion_tokens",
					(double)proto_int(m, "completion_tokens", 0));
		cJSON_AddNumberToObject(f, "tool_calls",
					(double)proto_int(m, "tool_calls", 0));
		return session_audit(s, "model_turn", f, false);
	case PROTO_LOG:
		session_note("worker %s: %s", proto_str(m, "level"),
			     proto_str(m, "message"));
		cJSON_AddStringToObject(f, "level", proto_str(m, "level"));
		cJSON_AddStringToObject(f, "message", proto_str(m, "message"));
		return session_audit(s, "worker_log", f, false);
	case PROTO_RETRY:
		session_note("model: retry %lld of %lld in %.1f s: %s",
			     proto_int(m, "attempt", 0),
			     proto_int(m, "max_attempts", 0),
			     (double)proto_int(m, "delay_ms", 0) / 1000.0,
			     proto_str(m, "reason"));
		cJSON_AddNumberToObject(f, "attempt",
					(double)proto_int(m, "attempt", 0));
		cJSON_AddNumberToObject(f, "max_attempts",
					(double)proto_int(m, "max_attempts", 0));
		cJSON_AddNumberToObject(f, "delay_ms",
					(double)proto_int(m, "delay_ms", 0));
		cJSON_AddStringToObject(f, "reason", proto_str(m, "reason"));
		return session_audit(s, "retry", f, false);
	case PROTO_TURN_START:
		cJSON_AddNumberToObject(f, "turn",
					(double)proto_int(m, "turn", 0));
		return session_audit(s, "turn_start", f, false);
	case PROTO_TEXT_DELTA:
		/* Not audited: the whole text follows in a "text" event. */
		cJSON_Delete(f);
		emit_text_delta(s, proto_str(m, "text"));
		return 0;
	case PROTO_TODO:
		return on_todo(s, m, f);
	case PROTO_COMPACTION:
		return on_compaction(s, m, f);
	case PROTO_DONE:
		cJSON_Delete(f);
		s->done = true;
		event_del(s->cancel_timer);
		if (s->ui)
			return on_task_done(s, m);
		/*
		 * One task per exec: closing our side ends the worker, which
		 * waits for another task otherwise; one that lingers is
		 * stopped after the grace.
		 */
		shutdown(s->worker.sock, SHUT_WR);
		event_base_loopexit(s->base, &exit_grace);
		text = proto_str(m, "status");
		free(s->summary);
		s->summary = strdup(proto_str(m, "summary") ?
				    proto_str(m, "summary") : "");
		if (strcmp(text, "ok") == 0) {
			s->end_status = "ok";
		} else if (strcmp(text, "max_turns") == 0) {
			s->end_status = "max_turns";
			s->exit_status = SESSION_EXIT_LIMIT;
		} else if (strcmp(text, "token_budget") == 0) {
			s->end_status = "token_budget";
			s->exit_status = SESSION_EXIT_LIMIT;
		} else if (strcmp(text, "cancelled") == 0) {
			on_cancelled(s);
		} else {
			s->end_status = "error";
			s->exit_status = SESSION_EXIT_MODEL;
		}
		return 0;
	default:
		cJSON_Delete(f);
		return -1;
	}
}

void session_violation(struct session *s, const char *err)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "error", err);
	session_audit(s, "protocol_violation", f, true);
	session_abort(s, SESSION_EXIT_WORKER, "violation",
		      "the worker sent an invalid message (%s); it was stopped "
		      "and the violation is in the audit log", err);
}

static void on_message(struct session *s, struct proto_msg *m)
{
	char err[SESSION_ERR_MAX];

	if (s->done) {
		session_violation(s, "message after \"done\"");
		return;
	}
	if (!(m->type->phases & s->phase)) {
		snprintf(err, sizeof(err), "message type \"%s\" is not "
			 "permitted %s", m->type->name,
			 s->phase == PROTO_PHASE_START ?
			 "before the worker is ready" : "after start-up");
		session_violation(s, err);
		return;
	}
	if (m->type->id == PROTO_READY) {
		on_ready(s, m);
		return;
	}
	if (m->type->kind == PROTO_KIND_REQUEST) {
		session_handle_request(s, m);
		return;
	}
	if (on_event(s, m) < 0)
		session_violation(s, "unexpected message type");
}

static void describe_exit(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		snprintf(buf, size, "killed by SIGSYS: it made a system call "
			 "its seccomp filter forbids");
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "wait status %d", status);
}

/*
 * Re-log one line of the worker's stderr with its pid: on the terminal with
 * controls made visible (session_note), and in the audit log. A worker
 * could flood both, so only WORKER_LOG_LINES_MAX lines are kept.
 */
static void relog_worker_line(struct session *s, const char *line, bool cut)
{
	cJSON *f;

	if (++s->log_lines > WORKER_LOG_LINES_MAX) {
		if (s->log_lines == WORKER_LOG_LINES_MAX + 1)
			session_note("worker %d: further stderr lines are "
				     "dropped", (int)s->worker.pid);
		return;
	}
	session_note("worker %d: %s%s", (int)s->worker.pid, line,
		     cut ? " [cut]" : "");
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "line", line);
	if (cut)
		cJSON_AddBoolToObject(f, "cut", 1);
	session_audit(s, "worker_stderr", f, false);
}

/* Read what the worker wrote to stderr and re-log each whole line. */
static void drain_worker_log(struct session *s)
{
	char buf[4096];
	ssize_t n, i;

	if (s->worker.log_fd < 0)
		return;
	while ((n = read(s->worker.log_fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n' && s->log_len < WORKER_LOG_LINE_MAX) {
				s->log_line[s->log_len++] = buf[i];
				continue;
			}
			s->log_line[s->log_len] = '\0';
			relog_worker_line(s, s->log_line, buf[i] != '\n');
			s->log_len = 0;
			if (buf[i] != '\n')
				s->log_line[s->log_len++] = buf[i];
		}
	}
	if (n == 0 && s->log_len > 0) {
		s->log_line[s->log_len] = '\0';
		relog_worker_line(s, s->log_line, false);
		s->log_len = 0;
	}
	if (n == 0 && s->log_event)
		event_del(s->log_event);
}

static void log_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	drain_worker_log(arg);
}

/* The worker closed its socket: it exited, normally or not. */
/*
 * Reap a worker whose socket has closed. A worker that closed its socket
 * but does not exit has nothing left to do, so it gets a short grace
 * period and then SIGKILL; the supervisor must never wait on it forever.
 */
static void reap_worker(pid_t pid, int *status)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < WORKER_REAP_GRACE_MS / 10; i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return;
		nanosleep(&pause, NULL);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

static void on_worker_gone(struct session *s)
{
	char how[256];
	cJSON *f = cJSON_CreateObject();
	int status = 0;

	reap_worker(s->worker.pid, &status);
	/* Its last words (a failed lock-down, say) come before the exit. */
	drain_worker_log(s);
	s->worker.pid = -1;
	describe_exit(status, how, sizeof(how));
	cJSON_AddStringToObject(f, "status", how);
	if (WIFSIGNALED(status))
		cJSON_AddNumberToObject(f, "signal", WTERMSIG(status));
	session_audit(s, "worker_exit", f, false);
	if (!s->done)
		session_abort(s, SESSION_EXIT_WORKER, "error", "the worker ended "
			      "before finishing the task (%s)", how);
	event_base_loopbreak(s->base);
}

static void sock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	char err[SESSION_ERR_MAX];
	struct proto_msg m;
	int rc;

	(void)what;
	rc = proto_recv(fd, PROTO_FROM_WORKER, &m, err, sizeof(err));
	if (rc == 0) {
		on_worker_gone(s);
		return;
	}
	if (rc < 0) {
		session_violation(s, err);
		return;
	}
	on_message(s, &m);
	proto_msg_free(&m);
}

/*
 * SIGINT, SIGTERM and SIGHUP reach the session through an eventfd: a plain handler
 * writes it, the loop reads it, and the sandbox of a running command polls
 * it. libevent's own signal events fire only from the loop, which a
 * running command blocks, so they could not stop that command.
 */
static int signal_wake_fd = -1;
static volatile sig_atomic_t signal_last;
static struct sigaction saved_sigint, saved_sigterm, saved_sighup;
static bool watching_sighup;

static void signal_handler(int sig)
{
	uint64_t one = 1;
	int saved = errno;
	ssize_t n;

	signal_last = sig;
	/* A full counter already marks a signal as pending. */
	n = write(signal_wake_fd, &one, sizeof(one));
	(void)n;
	errno = saved;
}

static int signals_install(struct session *s)
{
	struct sigaction sa;

	s->signal_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->signal_fd < 0)
		return -1;
	signal_wake_fd = s->signal_fd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = signal_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGINT, &sa, &saved_sigint) < 0)
		return -1;
	if (sigaction(SIGTERM, &sa, &saved_sigterm) < 0) {
		sigaction(SIGINT, &saved_sigint, NULL);
		return -1;
	}
	/*
	 * A hangup (the terminal closed) ends the session as SIGTERM does,
	 * so a running command is killed and its placeholders removed.
	 * Under nohup it stays ignored.
	 */
	watching_sighup = sigaction(SIGHUP, NULL, &saved_sighup) == 0 &&
			  saved_sighup.sa_handler != SIG_IGN &&
			  sigaction(SIGHUP, &sa, NULL) == 0;
	return 0;
}

static void signals_restore(struct session *s)
{
	if (signal_wake_fd >= 0) {
		sigaction(SIGINT, &saved_sigint, NULL);
		sigaction(SIGTERM, &saved_sigterm, NULL);
		if (watching_sighup)
			sigaction(SIGHUP, &saved_sighup, NULL);
		watching_sighup = false;
		signal_wake_fd = -1;
	}
	if (s->signal_fd >= 0)
		close(s->signal_fd);
	s->signal_fd = -1;
}

long session_time_left_ms(const struct session *s)
{
	struct timespec now;
	long long left;

	if (!s->deadline_ms)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	left = s->deadline_ms - ((long long)now.tv_sec * 1000 +
				 now.tv_nsec / 1000000);
	return left > 0 ? (long)left : 1;
}

/* Stop at once, as before the worker could be cancelled. */
static void session_interrupt(struct session *s, int sig)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddNumberToObject(f, "signal", (double)sig);
	session_audit(s, "interrupted", f, true);
	session_abort(s, SESSION_EXIT_INTERRUPTED, "interrupted",
		      "interrupted by signal %d; the worker was stopped", sig);
}

/*
 * Ask the worker to stop its task. A command running now has already
 * been killed by its sandbox (signal) or is cut at the deadline (its
 * timeout was capped), so only the worker's "done" is still to come.
 */
static void session_cancel(struct session *s, const char *why, int sig)
{
	static const struct timeval grace = { CANCEL_GRACE_SEC, 0 };
	char err[SESSION_ERR_MAX];
	cJSON *f = cJSON_CreateObject();

	s->cancelling = why;
	cJSON_AddStringToObject(f, "reason", why);
	if (sig)
		cJSON_AddNumberToObject(f, "signal", sig);
	if (session_audit(s, "cancel", f, true) < 0)
		return;
	if (proto_send(s->worker.sock, PROTO_CANCEL, 1, NULL, -1, err,
		       sizeof(err)) < 0) {
		session_abort(s, SESSION_EXIT_WORKER, "error", "cannot send "
			      "\"cancel\" to the worker: %s", err);
		return;
	}
	if (sig)
		session_note("interrupted by signal %d: cancelling the task; "
			     "interrupt again to stop at once", sig);
	else
		session_note("the session reached --timeout %ld s: cancelling "
			     "the task", s->cfg->timeout_sec);
	evtimer_add(s->cancel_timer, &grace);
}

void session_take_signals(struct session *s)
{
	uint64_t count = 0;
	int sig = signal_last;

	if (read(s->signal_fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
		return;
	/* A second signal, or nothing to cancel: stop now. */
	if (s->cancelling || s->done || count > 1 ||
	    s->phase != PROTO_PHASE_RUN) {
		session_interrupt(s, sig);
		return;
	}
	session_cancel(s, "interrupted", sig);
}

static void signal_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_take_signals(arg);
}

static void cancel_grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	bool timeout = cancelled_by_timeout(s);

	(void)fd;
	(void)what;
	session_abort(s, timeout ? SESSION_EXIT_LIMIT : SESSION_EXIT_INTERRUPTED,
		      timeout ? "timeout" : "interrupted", "the worker did not "
		      "confirm the cancel within %d s; it was stopped",
		      CANCEL_GRACE_SEC);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_expire(arg);
}

void session_expire(struct session *s)
{
	if (s->done || s->cancelling)
		return;
	if (s->phase != PROTO_PHASE_RUN) {
		session_abort(s, SESSION_EXIT_LIMIT, "timeout", "the session "
			      "reached --timeout %ld s before the task started",
			      s->cfg->timeout_sec);
		return;
	}
	session_cancel(s, "timeout", 0);
}

static void ready_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	session_abort(s, SESSION_EXIT_WORKER, "error", "the worker did not "
		      "report ready within %d seconds", READY_TIMEOUT_SEC);
}

/* Lines appended in a burst that then goes quiet still reach the disk. */
static void audit_sync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	char err[SESSION_ERR_MAX];

	(void)fd;
	(void)what;
	if (s->audit && audit_sync(s->audit, err, sizeof(err)) < 0)
		session_abort(s, SESSION_EXIT_SETUP, "error", "audit log: %s", err);
}

/* --timeout counts from here; commands are capped by what is left. */
static int setup_timeout(struct session *s)
{
	struct timeval tv = { s->cfg->timeout_sec, 0 };
	struct timespec now;

	if (s->cfg->timeout_sec <= 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	s->deadline_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000 +
			 s->cfg->timeout_sec * 1000LL;
	return event_add(s->timeout_timer, &tv);
}

static int setup_loop(struct session *s)
{
	struct timeval tv = { READY_TIMEOUT_SEC, 0 };
	struct timeval sync_every = { 0, AUDIT_SYNC_INTERVAL_MS * 1000 };

	s->base = event_base_new();
	if (!s->base)
		return -1;
	s->sock_event = event_new(s->base, s->worker.sock, EV_READ | EV_PERSIST,
				  sock_cb, s);
	if (signals_install(s) < 0)
		return -1;
	s->signal_event = event_new(s->base, s->signal_fd,
				    EV_READ | EV_PERSIST, signal_cb, s);
	s->cancel_timer = evtimer_new(s->base, cancel_grace_cb, s);
	s->timeout_timer = evtimer_new(s->base, timeout_cb, s);
	s->ready_timer = evtimer_new(s->base, ready_timeout_cb, s);
	s->sync_timer = event_new(s->base, -1, EV_PERSIST, audit_sync_cb, s);
	s->log_event = event_new(s->base, s->worker.log_fd,
				 EV_READ | EV_PERSIST, log_cb, s);
	if (!s->sock_event || !s->signal_event || !s->cancel_timer ||
	    !s->timeout_timer || !s->ready_timer || !s->sync_timer ||
	    !s->log_event)
		return -1;
	event_add(s->log_event, NULL);
	event_add(s->sync_timer, &sync_every);
	event_add(s->sock_event, NULL);
	event_add(s->signal_event, NULL);
	event_add(s->ready_timer, &tv);
	return setup_timeout(s);
}

static void teardown_loop(struct session *s)
{
	if (s->sock_event)
		event_free(s->sock_event);
	if (s->signal_event)
		event_free(s->signal_event);
	if (s->cancel_timer)
		event_free(s->cancel_timer);
	if (s->timeout_timer)
		event_free(s->timeout_timer);
	signals_restore(s);
	if (s->ready_timer)
		event_free(s->ready_timer);
	if (s->sync_timer)
		event_free(s->sync_timer);
	if (s->log_event)
		event_free(s->log_event);
	if (s->base)
		event_base_free(s->base);
	s->base = NULL;
}

/*
 * Write the end record, print the head digest and the session_completed
 * event, and close the log. The log contains the secrets that the notes
 * and the --json stream are redacted with, so it closes last.
 */
static void finish_audit(struct session *s, const char *path)
{
	char err[SESSION_ERR_MAX], head[AUDIT_DIGEST_HEX];
	cJSON *f = cJSON_CreateObject();
	bool synced;

	cJSON_AddStringToObject(f, "status", s->end_status);
	cJSON_AddNumberToObject(f, "turns", (double)s->turns);
	cJSON_AddNumberToObject(f, "requests", (double)s->requests);
	cJSON_AddNumberToObject(f, "denials", (double)s->denials);
	cJSON_AddNumberToObject(f, "exit_code", s->exit_status);
	if (audit_append(s->audit, "session_end", f, true, err,
			 sizeof(err)) < 0) {
		session_note("audit log: cannot write the end record: %s", err);
		if (s->exit_status == SESSION_EXIT_OK)
			s->exit_status = SESSION_EXIT_SETUP;
	}
	cJSON_Delete(f);

	/* Lines before a failed end record may still wait for their sync. */
	synced = audit_sync(s->audit, err, sizeof(err)) == 0;
	if (!synced) {
		session_note("audit log: %s", err);
		if (s->exit_status == SESSION_EXIT_OK)
			s->exit_status = SESSION_EXIT_SETUP;
	}
	snprintf(head, sizeof(head), "%s", audit_head(s->audit));
	session_note("audit log %s", path);
	fprintf(stderr, "audit head: %s\n", head);

	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "status", s->end_status);
	cJSON_AddNumberToObject(f, "exit_code", s->exit_status);
	cJSON_AddStringToObject(f, "final_text", s->summary ? s->summary : "");
	cJSON_AddNumberToObject(f, "turns", (double)s->turns);
	cJSON_AddNumberToObject(f, "requests", (double)s->requests);
	cJSON_AddNumberToObject(f, "denials", (double)s->denials);
	cJSON_AddStringToObject(f, "audit_log", path);
	cJSON_AddStringToObject(f, "audit_head", head);
	session_emit(s, "session_completed", f);
	cJSON_Delete(f);

	/*
	 * Every line is on disk once audit_sync succeeded, so a failed
	 * close(2) loses none and leaves the exit status just printed as it
	 * is. After a failed sync, closing only repeats that error.
	 */
	if (close_audit(s, err, sizeof(err)) < 0 && synced)
		session_note("audit log: %s", err);
}

/* Read the key and remove it from our environment at once. */
static char *take_api_key(const char *var)
{
	const char *v = getenv(var);
	char *key = strdup(v ? v : "");

	unsetenv(var);
	return key;
}

/*
 * A remote endpoint without a key can only answer 401, so say what to set
 * before starting anything. Local servers (Ollama, llama.cpp, the replay
 * server) usually need no key.
 */
static int check_key(const struct session *s, const char *key, char *err,
		     size_t errlen)
{
	if (*key || endpoint_host_is_local(&s->endpoint))
		return 0;
	snprintf(err, errlen, "no API key: %s is not set; export it, name "
		 "another variable with --api-key-env, or point --base-url at "
		 "a local server", s->cfg->api_key_env);
	return -1;
}

/* Append the readable part of one instructions file to buf. */
static size_t read_instructions(struct session *s, const char *name,
				char *buf, size_t len, size_t cap)
{
	char err[SESSION_ERR_MAX];
	size_t start = len;
	ssize_t n;
	int fd;

	if (broker_read(&s->broker, name, &fd, err, sizeof(err)) != BROKER_OK)
		return len;
	if (len > 0 && len + 2 < cap) {
		buf[len++] = '\n';
		buf[len++] = '\n';
	}
	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	close(fd);
	/* Keep the JSON escaping bound that PROTO_INSTRUCTIONS_MAX relies on. */
	for (; start < len; start++)
		if (((unsigned char)buf[start] < 0x20 && buf[start] != '\n' &&
		     buf[start] != '\t') || buf[start] == 0x7f)
			buf[start] = ' ';
	cJSON_AddItemToArray(s->instruction_files, cJSON_CreateString(name));
	return len;
}

/*
 * The project's own instructions: AGENTS.md, then CLAUDE.md, from the
 * workspace root, through the broker and only where the policy lets the
 * agent read them. Like a project's allow rules and skills, they count
 * only once the project is trusted: a cloned repository must not steer
 * the agent before the user agreed.
 */
static int load_instructions(struct session *s)
{
	static const char *const names[] = { "AGENTS.md", "CLAUDE.md", NULL };
	char buf[PROTO_INSTRUCTIONS_MAX + 1];
	const char *const *name;
	struct stat st;
	size_t len = 0;
	int present = 0;

	s->instruction_files = cJSON_CreateArray();
	for (name = names; *name; name++) {
		if (fstatat(s->broker.root_fd, *name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		present++;
		if (!s->policy.project_trusted)
			continue;
		if (policy_decide_path(&s->policy, POLICY_READ, *name).decision !=
		    POLICY_ALLOW) {
			session_note("%s is not used: the policy does not allow "
				     "reading it", *name);
			continue;
		}
		len = read_instructions(s, *name, buf, len, PROTO_INSTRUCTIONS_MAX);
	}
	if (present && !s->policy.project_trusted)
		session_note("the project's AGENTS.md is ignored until you trust "
			     "the project ('coworker policy trust' or "
			     "--trust-project)");
	if (len == PROTO_INSTRUCTIONS_MAX)
		session_note("project instructions cut at %d bytes",
			     PROTO_INSTRUCTIONS_MAX);
	buf[len] = '\0';
	if (len > 0 && !(s->instructions = strdup(buf)))
		return -1;
	return 0;
}

/*
 * --shared-netns: one network namespace for every command of the
 * session, kept from here to the end, instead of a fresh one each.
 */
static int open_shared_netns(struct session *s, char *err, size_t errlen)
{
	if (!s->cfg->shared_netns)
		return 0;
	if (s->cfg->mode && strcmp(s->cfg->mode, "full-access") == 0) {
		session_note("--shared-netns has no effect in full-access mode, "
			     "where commands use the host's network");
		return 0;
	}
	s->netns_fd = sandbox_netns_create(err, errlen);
	return s->netns_fd < 0 ? -1 : 0;
}

static int prepare(struct session *s, const char *key, char *audit_path,
		   size_t pathsize, char *err, size_t errlen)
{
	cJSON *files = cJSON_CreateArray();

	if (broker_open(&s->broker, s->cfg->workspace, err, errlen) < 0 ||
	    load_policy(s, files, err, errlen) < 0 ||
	    broker_add_roots(&s->broker, &s->policy, err, errlen) < 0 ||
	    discover_skills(s, err, errlen) < 0 ||
	    load_instructions(s) < 0 ||
	    endpoint_parse(&s->endpoint, s->cfg->base_url, err, errlen) < 0 ||
	    check_key(s, key, err, errlen) < 0 ||
	    endpoint_proxy_from_env(&s->endpoint, err, errlen) < 0 ||
	    endpoint_resolve(&s->endpoint, err, errlen) < 0 ||
	    open_shared_netns(s, err, errlen) < 0 ||
	    open_audit(s, key, audit_path, pathsize, err, errlen) < 0) {
		cJSON_Delete(files);
		return -1;
	}
	return audit_session_start(s, files);
}

static int start_worker(struct session *s, const char *key, char *err,
			size_t errlen)
{
	unsigned int flags = WORKER_STDERR_PIPE;
	char path[4096];
	cJSON *f;

	if (s->cfg->weaker_worker_sandbox)
		flags |= WORKER_WEAKER_SANDBOX;
	if (worker_find(path, sizeof(path), err, errlen) < 0 ||
	    worker_start_flags(&s->worker, path, flags, err, errlen) < 0)
		return -1;
	if (s->worker.weaker) {
		session_note("warning: the worker runs without namespaces "
			     "(--weaker-worker-sandbox): %s",
			     s->worker.weaker_reason);
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "reason", s->worker.weaker_reason);
		if (session_audit(s, "weaker_worker_sandbox", f, true) < 0)
			return -1;
	}
	s->phase = PROTO_PHASE_START;
	return send_config(s, key, err, errlen);
}

int session_open(struct session *s, const struct session_config *cfg,
		 struct interactive *ui)
{
	char err[SESSION_ERR_MAX];

	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->ui = ui;
	s->broker.root_fd = -1;
	s->worker.pid = -1;
	s->worker.sock = -1;
	s->worker.log_fd = -1;
	s->signal_fd = -1;
	s->netns_fd = -1;
	s->end_status = "ok";
	policy_init(&s->policy);
	skills_init(&s->skills);
	make_session_id(s->id, sizeof(s->id));
	s->key = take_api_key(cfg->api_key_env);

	if (prepare(s, s->key, s->audit_path, sizeof(s->audit_path), err,
		    sizeof(err)) < 0) {
		if (s->exit_status == SESSION_EXIT_OK) {
			session_note("%s", err);
			s->exit_status = SESSION_EXIT_USAGE;
		}
		return -1;
	}
	s->audit_open = true;
	if (start_worker(s, s->key, err, sizeof(err)) < 0 ||
	    setup_loop(s) < 0) {
		session_abort(s, SESSION_EXIT_SETUP, "error",
			      "cannot start the worker: %s", err);
		return -1;
	}
	/*
	 * The key now lives only in the worker and the redactor. Interactive
	 * mode keeps it, because /config provider may switch back to it after
	 * the variable was removed from the environment.
	 */
	if (!ui)
		explicit_bzero(s->key, strlen(s->key));
	return 0;
}

int session_endpoint_prepare(struct endpoint *ep, const char *base_url,
			     const char *key, const char *key_env, char *err,
			     size_t errlen)
{
	memset(ep, 0, sizeof(*ep));
	if (endpoint_parse(ep, base_url, err, errlen) < 0)
		return -1;
	/* Before any lookup, like check_key at start-up. */
	if ((!key || !*key) && !endpoint_host_is_local(ep)) {
		snprintf(err, errlen, "no API key: %s is not set; set it before "
			 "starting coworker chat, or use a local base URL",
			 key_env);
		return -1;
	}
	if (endpoint_proxy_from_env(ep, err, errlen) < 0 ||
	    endpoint_resolve(ep, err, errlen) < 0)
		return -1;
	return 0;
}

/* Close the worker's socket, reap it and audit its exit. */
static void stop_worker_cleanly(struct session *s)
{
	event_del(s->sock_event);
	event_del(s->log_event);
	close(s->worker.sock);
	s->worker.sock = -1;
	on_worker_gone(s);
	if (s->worker.log_fd >= 0)
		close(s->worker.log_fd);
	s->worker.log_fd = -1;
	s->log_len = 0;
}

/* Point the socket and log events at the new worker's descriptors. */
static int watch_new_worker(struct session *s)
{
	event_free(s->sock_event);
	event_free(s->log_event);
	s->sock_event = event_new(s->base, s->worker.sock,
				  EV_READ | EV_PERSIST, sock_cb, s);
	s->log_event = event_new(s->base, s->worker.log_fd,
				 EV_READ | EV_PERSIST, log_cb, s);
	if (!s->sock_event || !s->log_event)
		return -1;
	event_add(s->sock_event, NULL);
	event_add(s->log_event, NULL);
	return 0;
}

int session_restart_worker(struct session *s, const struct endpoint *ep,
			   const char *key)
{
	struct timeval tv = { READY_TIMEOUT_SEC, 0 };
	char err[SESSION_ERR_MAX] = "out of memory";

	stop_worker_cleanly(s);
	if (s->exit_status != SESSION_EXIT_OK)
		return -1;
	cJSON_Delete(s->todo);
	s->todo = NULL;
	s->endpoint = *ep;
	if (start_worker(s, key, err, sizeof(err)) < 0 ||
	    watch_new_worker(s) < 0) {
		session_abort(s, SESSION_EXIT_SETUP, "error",
			      "cannot start the worker: %s", err);
		return -1;
	}

	/* on_ready checks the confinement and breaks the loop. */
	s->done = false;
	event_add(s->ready_timer, &tv);
	event_base_dispatch(s->base);
	if (s->exit_status != SESSION_EXIT_OK || !s->done)
		return -1;
	return 0;
}

int session_close(struct session *s)
{
	char err[SESSION_ERR_MAX];

	if (s->worker.pid > 0)
		worker_stop(&s->worker);
	if (s->audit_open)
		finish_audit(s, s->audit_path);
	teardown_loop(s);
	if (s->audit)
		close_audit(s, err, sizeof(err));
	free(s->delta_held);
	s->delta_held = NULL;
	if (s->worker.sock >= 0 || s->worker.pid > 0)
		worker_stop(&s->worker);
	broker_close(&s->broker);
	/* The last command's placeholders and cgroup slot. */
	sandbox_reap(true);
	if (s->netns_fd >= 0)
		close(s->netns_fd);
	s->netns_fd = -1;
	policy_free(&s->policy);
	skills_free(&s->skills);
	free(s->skills_section);
	free(s->instructions);
	cJSON_Delete(s->instruction_files);
	session_free_narrowings(s);
	free(s->summary);
	cJSON_Delete(s->todo);
	if (s->key) {
		explicit_bzero(s->key, strlen(s->key));
		free(s->key);
	}
	s->key = NULL;
	return s->exit_status;
}

/* Print the final answer on stdout, redacted as the log redacts it. */
static void print_final_text(struct session *s)
{
	char *text = audit_redact_text(s->audit, s->summary);

	if (!text) {
		session_note("the final answer was not printed: out of memory");
		return;
	}
	sanitize_write(stdout, text, true);
	fputc('\n', stdout);
	fflush(stdout);
	free(text);
}

/* Print exec's result after the loop: the final text, or why there is none. */
static void report_exec_end(struct session *s)
{
	const struct session_config *cfg = s->cfg;

	/*
	 * A run whose actions were denied must not look like success to CI,
	 * even when the model wrote a final answer.
	 */
	if (s->done && s->exit_status == SESSION_EXIT_OK && s->denials > 0) {
		s->exit_status = SESSION_EXIT_DENIED;
		session_note("%ld request%s denied by the policy; see the audit "
			     "log", s->denials, s->denials == 1 ? " was" : "s were");
	}
	if (!cfg->json && s->done && s->summary && s->end_status &&
	    strcmp(s->end_status, "ok") == 0) {
		print_final_text(s);
	} else if (s->done && s->summary && *s->summary) {
		/* An error's text was already shown as the worker's log line. */
		if (strcmp(s->end_status, "max_turns") == 0 ||
		    strcmp(s->end_status, "token_budget") == 0 ||
		    strcmp(s->end_status, "cancelled") == 0 ||
		    strcmp(s->end_status, "timeout") == 0)
			session_note("%s", s->summary);
		if (strstr(s->summary, "API key"))
			session_note("the API key was read from %s",
				     cfg->api_key_env);
	}
}

int session_run(const struct session_config *cfg)
{
	struct session s;

	if (session_open(&s, cfg, NULL) == 0)
		event_base_dispatch(s.base);
	if (s.worker.pid > 0)
		worker_stop(&s.worker);
	if (s.audit_open)
		report_exec_end(&s);
	return session_close(&s);
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && *v ? v : fallback;
}

void session_provider_defaults(const char *provider,
			       struct provider_defaults *out)
{
	if (provider && strcmp(provider, "anthropic") == 0) {
		out->base_url = env_or("ANTHROPIC_BASE_URL",
				       "https://api.anthropic.com");
		out->model = env_or("ANTHROPIC_MODEL", "claude-sonnet-4-5");
		out->key_env = "ANTHROPIC_API_KEY";
		return;
	}
	out->base_url = env_or("OPENAI_BASE_URL", "https://api.openai.com/v1");
	out->model = env_or("OPENAI_MODEL", "gpt-4o");
	out->key_env = "OPENAI_API_KEY";
}
