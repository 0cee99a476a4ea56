/*
 * The interactive session's driver: the prompt loop, the display of the
 * worker's events, and the user's answers to approvals.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/interactive.h"
#include "supervisor/sanitize.h"
#include "supervisor/tui_term.h"

/* How often the busy line is redrawn while a turn runs. */
#define TICK_INTERVAL_MS 200

/* The session whose terminal session_note writes to, for the hook. */
static struct interactive *note_target;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void note_to_terminal(const char *line)
{
	tui_notice(&note_target->tui, line);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct interactive *ui = arg;

	(void)fd;
	(void)what;
	tui_tick(&ui->tui, now_ms());
}

void interactive_show_event(struct session *s, const struct proto_msg *m)
{
	struct interactive *ui = s->ui;
	const char *text;

	switch (m->type->id) {
	case PROTO_TURN_START:
		ui->deltas_seen = false;
		tui_busy(&ui->tui, "thinking", now_ms());
		break;
	case PROTO_TEXT_DELTA:
		ui->deltas_seen = true;
		text = proto_str(m, "text");
		tui_text_delta(&ui->tui, text, strlen(text));
		break;
	case PROTO_TEXT:
		/* The whole text of a turn, shown only when nothing streamed. */
		text = proto_str(m, "text");
		if (!ui->deltas_seen)
			tui_text_delta(&ui->tui, text, strlen(text));
		tui_turn_end(&ui->tui);
		break;
	case PROTO_TODO:
		tui_todo(&ui->tui, proto_str(m, "items"));
		break;
	case PROTO_TURN:
		ui->model_turns++;
		break;
	default:
		break;
	}
}

void interactive_show_decision(struct session *s, const char *tool,
			       const char *subject, const char *decision,
			       const char *answered_by)
{
	struct interactive *ui = s->ui;
	struct interactive_decision *d;
	char shown[64];

	if (answered_by)
		snprintf(shown, sizeof(shown), "%s by %s", decision,
			 answered_by);
	else
		snprintf(shown, sizeof(shown), "%s", decision);
	tui_tool_line(&ui->tui, tool, subject, shown);
	if (strcmp(tool, "run_command") == 0 && strcmp(decision, "allow") == 0)
		tui_busy(&ui->tui, "running the command", now_ms());

	d = &ui->recent[ui->nrecent % INTERACTIVE_RECENT];
	snprintf(d->tool, sizeof(d->tool), "%s", tool);
	snprintf(d->subject, sizeof(d->subject), "%s", subject);
	snprintf(d->decision, sizeof(d->decision), "%s", decision);
	snprintf(d->answered_by, sizeof(d->answered_by), "%s",
		 answered_by ? answered_by : "policy");
	ui->nrecent++;
}

void interactive_show_result(struct session *s, const struct tui_result *r)
{
	tui_result(&s->ui->tui, r);
}

void interactive_tick(void *ctx)
{
	struct session *s = ctx;

	tui_tick(&s->ui->tui, now_ms());
}

static char *memo_key(const char *tool, const char *subject,
		      const char *digest)
{
	size_t len = strlen(tool) + strlen(subject) + 3 +
		     (digest ? strlen(digest) : 0);
	char *key = malloc(len);

	if (key)
		snprintf(key, len, "%s\n%s\n%s", tool, subject,
			 digest ? digest : "");
	return key;
}

static bool memo_has(const struct interactive *ui, const char *key)
{
	size_t i;

	for (i = 0; i < ui->nmemo; i++)
		if (strcmp(ui->memo[i], key) == 0)
			return true;
	return false;
}

/* Keep key (taking it over) as an action allowed for the session. */
static int memo_add(struct interactive *ui, char *key)
{
	char **grown = realloc(ui->memo, (ui->nmemo + 1) * sizeof(*grown));

	if (!grown) {
		free(key);
		return -1;
	}
	ui->memo = grown;
	ui->memo[ui->nmemo++] = key;
	return 0;
}

static int add_rules_to_policy(struct interactive *ui, char **rules)
{
	struct session *s = ui->s;
	char err[SESSION_ERR_MAX];
	size_t i;

	for (i = 0; rules[i]; i++)
		if (policy_add_rule(&s->policy, POLICY_ALLOW, rules[i],
				    ".coworker/policy.local.json (approved in "
				    "this session)", err, sizeof(err)) < 0) {
			session_note("cannot add the approved rule: %s", err);
			return -1;
		}
	policy_digest(&s->policy, s->policy_digest);
	return 0;
}

void interactive_readd_rules(struct interactive *ui)
{
	char *one[2] = { NULL, NULL };
	size_t i;

	for (i = 0; i < ui->nsaved; i++) {
		one[0] = ui->saved_rules[i];
		add_rules_to_policy(ui, one);
	}
}

/* Remember rules for interactive_readd_rules. */
static void keep_saved_rules(struct interactive *ui, char **rules)
{
	char **grown;
	size_t i, n = 0;

	while (rules[n])
		n++;
	grown = realloc(ui->saved_rules, (ui->nsaved + n) * sizeof(*grown));
	if (!grown)
		return;
	ui->saved_rules = grown;
	for (i = 0; i < n; i++)
		if ((ui->saved_rules[ui->nsaved] = strdup(rules[i])))
			ui->nsaved++;
}

/*
 * The "always" answer: write the narrowest rules to the project's
 * policy.local.json, add them to the policy in memory for the rest of the
 * session, and record them. Returns 0, or -1 when the audit log failed.
 */
static int save_always(struct interactive *ui, char **rules)
{
	struct session *s = ui->s;
	struct policy_layers layers;
	char err[SESSION_ERR_MAX], line[POLICY_RULE_MAX + 128];
	cJSON *f, *list;
	size_t i;

	memset(&layers, 0, sizeof(layers));
	layers.workspace = s->broker.root;
	/* A trust record covers the file's digest, so renew what exists. */
	if (policy_save_approval(&layers, (const char *const *)rules,
				 s->policy.project_trusted &&
				 !ui->cfg.trust_project, err, sizeof(err)) < 0) {
		session_note("the rule was not saved: %s; the request is "
			     "allowed this once", err);
		return 0;
	}
	add_rules_to_policy(ui, rules);
	keep_saved_rules(ui, rules);

	f = cJSON_CreateObject();
	list = cJSON_AddArrayToObject(f, "rules");
	for (i = 0; rules[i]; i++) {
		cJSON_AddItemToArray(list, cJSON_CreateString(rules[i]));
		snprintf(line, sizeof(line), "saved to .coworker/policy.local."
			 "json: allow %s", rules[i]);
		tui_notice(&ui->tui, line);
	}
	cJSON_AddStringToObject(f, "file", ".coworker/policy.local.json");
	if (!s->policy.project_trusted)
		tui_notice(&ui->tui, "the project is not trusted, so later "
			   "sessions use these rules only once you trust it "
			   "('coworker policy trust')");
	return session_audit(s, "approval_saved", f, true);
}

int interactive_approve(struct session *s, const char *tool,
			const struct tui_approval_request *req,
			const char *digest, struct interactive_answer *out)
{
	struct interactive *ui = s->ui;
	struct tui_approval_answer a;
	char *key = memo_key(tool, req->subject, digest);
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->answered_by = "user";
	if (!key) {
		session_abort(s, SESSION_EXIT_SETUP, "error", "out of memory");
		return -1;
	}
	if (memo_has(ui, key)) {
		free(key);
		out->allow = true;
		out->answer = "session";
		out->answered_by = "session";
		return 0;
	}

	/* The answer is denial whenever the prompt itself fails. */
	tui_ask_approval(&ui->tui, req, &a);
	switch (a.answer) {
	case TUI_ANSWER_ONCE:
		out->allow = true;
		out->answer = "once";
		break;
	case TUI_ANSWER_SESSION:
		out->allow = true;
		out->answer = "session";
		memo_add(ui, key);
		key = NULL;
		break;
	case TUI_ANSWER_ALWAYS:
		out->allow = true;
		out->answer = "always";
		rc = a.rules ? save_always(ui, a.rules) : 0;
		break;
	case TUI_ANSWER_DENY_MESSAGE:
		out->answer = "deny_message";
		snprintf(out->message, sizeof(out->message), "%s",
			 a.message ? a.message : "");
		break;
	default:
		out->answer = "deny";
		break;
	}
	free(key);
	tui_approval_answer_free(&a);
	/* The model is called again after the reply. */
	tui_busy(&ui->tui, "working", now_ms());
	return rc;
}

int interactive_send(struct interactive *ui, int type, cJSON *fields)
{
	struct session *s = ui->s;
	char err[SESSION_ERR_MAX];

	if (proto_send(s->worker.sock, (enum proto_type_id)type, ui->next_id++,
		       fields, -1, err, sizeof(err)) < 0) {
		session_abort(s, SESSION_EXIT_WORKER, "error", "sending to the "
			      "worker failed: %s", err);
		return -1;
	}
	return 0;
}

/* Forget interrupts that came while no task ran. */
static void drain_signals(struct session *s)
{
	uint64_t count;

	while (read(s->signal_fd, &count, sizeof(count)) ==
	       (ssize_t)sizeof(count))
		;
}

int interactive_wait_done(struct interactive *ui)
{
	static const struct timeval tick = { 0, TICK_INTERVAL_MS * 1000 };
	struct session *s = ui->s;

	s->done = false;
	s->cancelling = NULL;
	s->task_status = NULL;
	ui->deltas_seen = false;
	tui_task_begin(&ui->tui);
	if (ui->tui.render.tty)
		event_add(ui->tick, &tick);
	event_base_dispatch(s->base);
	event_del(ui->tick);
	tui_task_end(&ui->tui);
	s->cancelling = NULL;
	if (s->exit_status != SESSION_EXIT_OK || !s->done)
		return -1;
	return 0;
}

/* Send one task and show the turn until the worker is done with it. */
static int run_task(struct interactive *ui, const char *text)
{
	struct session *s = ui->s;
	cJSON *f = cJSON_CreateObject();
	int rc;

	cJSON_AddStringToObject(f, "text", text);
	if (session_audit(s, "task", cJSON_Duplicate(f, true), true) < 0) {
		cJSON_Delete(f);
		return -1;
	}
	drain_signals(s);
	tui_busy(&ui->tui, "thinking", now_ms());
	rc = interactive_send(ui, PROTO_TASK, f);
	cJSON_Delete(f);
	if (rc < 0 || interactive_wait_done(ui) < 0)
		return -1;

	if (strcmp(s->task_status, "cancelled") == 0)
		tui_notice(&ui->tui, "cancelled");
	else if (strcmp(s->task_status, "ok") != 0 && s->summary)
		session_note("the task ended with %s: %s", s->task_status,
			     s->summary);
	return 0;
}

/*
 * Return whether the project has anything that waits for trust: policy files,
 * skills, or AGENTS.md / CLAUDE.md.
 */
static bool project_has_content(const char *root)
{
	static const char *const names[] = {
		".coworker/policy.json", ".coworker/policy.local.json",
		".coworker/skills", ".claude/skills", "AGENTS.md", "CLAUDE.md",
		NULL,
	};
	char path[4200];
	struct stat st;
	size_t i;

	for (i = 0; names[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, names[i]);
		if (lstat(path, &st) == 0)
			return true;
	}
	return false;
}

/*
 * Ask once at start whether to trust a project that has policy files,
 * skills or instructions and is not trusted yet. "y" records the trust as
 * `coworker policy trust` does; anything else goes on without them.
 */
static void ask_project_trust(struct interactive *ui)
{
	struct policy_layers layers;
	struct policy p;
	char root[4096], err[SESSION_ERR_MAX];
	int key;

	if (ui->cfg.trust_project ||
	    !realpath(ui->cfg.workspace, root) || !project_has_content(root))
		return;
	memset(&layers, 0, sizeof(layers));
	layers.preset = ui->cfg.mode;
	layers.workspace = root;
	policy_init(&p);
	if (policy_load_layers(&p, &layers, err, sizeof(err)) < 0 ||
	    p.project_trusted) {
		policy_free(&p);
		return;
	}
	policy_free(&p);

	fputs("This project has its own policy files, skills or AGENTS.md:\n  ",
	      ui->tui.out);
	sanitize_write(ui->tui.out, root, false);
	fputs("\nThey can allow actions and steer the agent. Trust this "
	      "project? [y/n] ", ui->tui.out);
	fflush(ui->tui.out);
	key = tui_term_read_key(ui->tui.in_fd);
	fputc('\n', ui->tui.out);
	fflush(ui->tui.out);
	if (key != 'y' && key != 'Y') {
		tui_notice(&ui->tui, "going on without the project's allow "
			   "rules, skills and instructions");
		return;
	}
	if (policy_trust_record(&layers, err, sizeof(err)) < 0)
		session_note("the trust was not recorded (%s); it holds for "
			     "this session only", err);
	ui->cfg.trust_project = true;
}

static void set_status(struct interactive *ui)
{
	tui_set_status(&ui->tui, ui->mode, ui->model, ui->s->broker.root);
}

/*
 * Read inputs until the session ends. Ctrl-C at the prompt drops the
 * input; a second one in a row ends the session, like Ctrl-D.
 */
static void prompt_loop(struct interactive *ui)
{
	enum tui_read_status st;
	bool interrupted = false;
	char *line;
	int rc;

	for (;;) {
		set_status(ui);
		st = tui_read_input(&ui->tui, &line);
		if (st == TUI_READ_EOF) {
			/* Ctrl-D leaves the cursor after the prompt. */
			fputc('\n', ui->tui.out);
			break;
		}
		if (st == TUI_READ_INTERRUPT) {
			if (interrupted)
				break;
			interrupted = true;
			tui_notice(&ui->tui, "press Ctrl-C again or Ctrl-D to "
				   "exit");
			continue;
		}
		interrupted = false;
		if (!line[strspn(line, " \t\n")]) {
			free(line);
			continue;
		}
		if (tui_slash_is_command(line))
			rc = interactive_slash(ui, line);
		else
			rc = run_task(ui, line);
		free(line);
		if (rc != 0 || ui->s->exit_status != SESSION_EXIT_OK)
			break;
	}
}

static void free_ui(struct interactive *ui)
{
	size_t i;

	for (i = 0; i < ui->nmemo; i++)
		free(ui->memo[i]);
	free(ui->memo);
	for (i = 0; i < ui->nsaved; i++)
		free(ui->saved_rules[i]);
	free(ui->saved_rules);
	if (ui->other_key) {
		explicit_bzero(ui->other_key, strlen(ui->other_key));
		free(ui->other_key);
	}
	ui->other_key = NULL;
	if (ui->tick)
		event_free(ui->tick);
	ui->tick = NULL;
}

int interactive_run(const struct session_config *cfg)
{
	struct tui_options opts = { STDIN_FILENO, STDOUT_FILENO, NULL };
	static struct interactive ui;
	struct session s;
	char err[SESSION_ERR_MAX];
	int rc;

	memset(&ui, 0, sizeof(ui));
	ui.cfg = *cfg;
	ui.cfg.task = NULL;
	ui.next_id = 2;
	snprintf(ui.mode, sizeof(ui.mode), "%s", cfg->mode ? cfg->mode :
		 "workspace-write");
	snprintf(ui.model, sizeof(ui.model), "%s", cfg->model);
	snprintf(ui.provider, sizeof(ui.provider), "%s", cfg->provider);
	snprintf(ui.base_url, sizeof(ui.base_url), "%s", cfg->base_url);
	snprintf(ui.key_env, sizeof(ui.key_env), "%s", cfg->api_key_env);
	ui.start = *cfg;
	ui.cfg.mode = ui.mode;
	ui.cfg.model = ui.model;
	ui.cfg.provider = ui.provider;
	ui.cfg.base_url = ui.base_url;
	ui.cfg.api_key_env = ui.key_env;
	if (tui_start(&ui.tui, &opts, err, sizeof(err)) < 0) {
		fprintf(stderr, "coworker: %s\n", err);
		return SESSION_EXIT_SETUP;
	}
	note_target = &ui;
	session_note_hook = note_to_terminal;
	ask_project_trust(&ui);

	ui.s = &s;
	if (session_open(&s, &ui.cfg, &ui) == 0 &&
	    (ui.tick = event_new(s.base, -1, EV_PERSIST, tick_cb, &ui))) {
		/* Until the worker is ready; on_ready breaks the loop. */
		event_base_dispatch(s.base);
		if (s.exit_status == SESSION_EXIT_OK && s.done)
			prompt_loop(&ui);
	}
	if (s.exit_status != SESSION_EXIT_OK)
		tui_notice(&ui.tui, "the session has ended");
	free_ui(&ui);
	rc = session_close(&s);
	session_note_hook = NULL;
	note_target = NULL;
	tui_stop(&ui.tui);
	return rc;
}
