/*
 * The actions of the slash commands in an interactive session. Parsing
 * and validation are in tui_slash.c. Everything shown from the policy, skills or
 * the worker goes through the sanitiser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/interactive.h"
#include "supervisor/sanitize.h"

static void show_config(struct interactive *ui)
{
	FILE *out = ui->tui.out;

	tui_render_idle(&ui->tui.render);
	fputs("  model:     ", out);
	sanitize_write(out, ui->model, false);
	fputs("\n  provider:  ", out);
	sanitize_write(out, ui->cfg.provider, false);
	fputs("\n  base URL:  ", out);
	sanitize_write(out, ui->cfg.base_url, false);
	fputs("\n  mode:      ", out);
	sanitize_write(out, ui->mode, false);
	fputs("\n  workspace: ", out);
	sanitize_write(out, ui->s->broker.root, false);
	fputc('\n', out);
	fflush(out);
}

static int set_model(struct interactive *ui, const char *model)
{
	cJSON *f = cJSON_CreateObject();
	char line[TUI_SLASH_ARG_MAX + 64];
	int rc;

	cJSON_AddStringToObject(f, "model", model);
	rc = interactive_send(ui, PROTO_SET_MODEL, f);
	if (rc == 0)
		rc = session_audit(ui->s, "set_model",
				   cJSON_Duplicate(f, true), true);
	cJSON_Delete(f);
	if (rc < 0)
		return -1;
	snprintf(ui->model, sizeof(ui->model), "%s", model);
	snprintf(line, sizeof(line), "model set to %s from the next task on",
		 model);
	tui_notice(&ui->tui, line);
	return 0;
}

/* Switch the preset: the policy is loaded again with the new one. */
static int set_mode(struct interactive *ui, const char *mode)
{
	char old[sizeof(ui->mode)], err[SESSION_ERR_MAX], line[128];

	snprintf(old, sizeof(old), "%s", ui->mode);
	snprintf(ui->mode, sizeof(ui->mode), "%s", mode);
	if (session_reload_policy(ui->s, err, sizeof(err)) < 0) {
		snprintf(ui->mode, sizeof(ui->mode), "%s", old);
		if (ui->s->exit_status != SESSION_EXIT_OK)
			return -1;
		session_note("the mode stays %s: %s", old, err);
		return 0;
	}
	interactive_readd_rules(ui);
	snprintf(line, sizeof(line), "mode set to %s for this session", mode);
	tui_notice(&ui->tui, line);
	return 0;
}

static void show_skills(struct interactive *ui)
{
	const struct skill_set *set = &ui->s->skills;
	FILE *out = ui->tui.out;
	size_t i;

	tui_render_idle(&ui->tui.render);
	if (set->count == 0)
		fputs("  (no skills found)\n", out);
	for (i = 0; i < set->count; i++) {
		fputs("  ", out);
		sanitize_write(out, set->skills[i].name, false);
		fputs(": ", out);
		sanitize_write(out, set->skills[i].description, false);
		fputc('\n', out);
	}
	if (set->untrusted_skipped > 0)
		fputs("  (the project's skills are left out until you trust "
		      "the project)\n", out);
	fflush(out);
}

static void show_rule(FILE *out, const struct policy_rule *r)
{
	fprintf(out, "  %-5s ", policy_decision_name(r->decision));
	sanitize_write(out, r->text, false);
	fputs("  ", out);
	sanitize_write(out, r->source, false);
	if (r->line > 0)
		fprintf(out, ":%d", r->line);
	fprintf(out, " (%s)%s\n", policy_layer_name(r->layer),
		r->inactive ? " [inactive: project not trusted]" : "");
}

/* The effective rules, then the latest decisions of this session. */
static void show_policy(struct interactive *ui)
{
	const struct policy *p = &ui->s->policy;
	const struct interactive_decision *d;
	FILE *out = ui->tui.out;
	size_t i, first;

	tui_render_idle(&ui->tui.render);
	fputs("rules (deny beats ask beats allow, whatever the layer):\n", out);
	for (i = 0; i < p->count; i++)
		show_rule(out, &p->rules[i]);
	fprintf(out, "protected paths: %zu built-in entries (coworker policy "
		"show lists them)\n", p->nprotected);
	first = ui->nrecent > INTERACTIVE_RECENT ?
		ui->nrecent - INTERACTIVE_RECENT : 0;
	fprintf(out, "recent decisions (%zu in this session):\n", ui->nrecent);
	for (i = first; i < ui->nrecent; i++) {
		d = &ui->recent[i % INTERACTIVE_RECENT];
		fprintf(out, "  %-5s %-14s ", d->decision, d->tool);
		sanitize_write(out, d->subject, false);
		fputs("  (", out);
		sanitize_write(out, d->answered_by, false);
		fputs(")\n", out);
	}
	fflush(out);
}

/* The todo list in the protocol's "STATUS TEXT" lines, for the renderer. */
static void show_todo(struct interactive *ui)
{
	const cJSON *item;
	char *items = NULL;
	size_t len = 0;
	FILE *buf = open_memstream(&items, &len);

	if (!buf)
		return;
	cJSON_ArrayForEach(item, ui->s->todo)
		fprintf(buf, "%s %s\n",
			cJSON_GetStringValue(cJSON_GetObjectItem(item, "status")),
			cJSON_GetStringValue(cJSON_GetObjectItem(item, "text")));
	fclose(buf);
	tui_todo(&ui->tui, items ? items : "");
	free(items);
}

/* A "compact" record, then "compact_done" when the worker answers. */
static int compact(struct interactive *ui)
{
	int rc;

	ui->s->awaiting = "compact";
	rc = session_audit(ui->s, "compact", cJSON_CreateObject(), true);
	if (rc == 0)
		rc = interactive_send(ui, PROTO_COMPACT, NULL);
	if (rc == 0)
		rc = interactive_wait_done(ui);
	ui->s->awaiting = "task";
	if (rc < 0)
		return -1;
	/* A compaction was shown as it happened, so show only why there was none. */
	if (ui->s->summary && *ui->s->summary)
		tui_notice(&ui->tui, ui->s->summary);
	return 0;
}

static int clear(struct interactive *ui)
{
	if (interactive_send(ui, PROTO_CLEAR, NULL) < 0 ||
	    session_audit(ui->s, "clear", cJSON_CreateObject(), true) < 0)
		return -1;
	cJSON_Delete(ui->s->todo);
	ui->s->todo = NULL;
	tui_forget_todo(&ui->tui);
	tui_notice(&ui->tui, "the conversation was cleared; the next task "
		   "starts a new one");
	return 0;
}

static int configure(struct interactive *ui, const struct tui_slash *cmd)
{
	switch (cmd->key) {
	case TUI_CONFIG_MODEL:
		return set_model(ui, cmd->value);
	case TUI_CONFIG_MODE:
		return set_mode(ui, cmd->value);
	case TUI_CONFIG_PROVIDER:
		return interactive_switch_provider(ui, cmd->value);
	default:
		show_config(ui);
		return 0;
	}
}

int interactive_slash(struct interactive *ui, const char *line)
{
	struct tui_slash cmd;
	char err[512];

	if (tui_slash_parse(line, &cmd, err, sizeof(err)) < 0) {
		tui_notice(&ui->tui, err);
		return 0;
	}
	switch (cmd.command) {
	case TUI_SLASH_HELP:
		tui_render_idle(&ui->tui.render);
		tui_slash_help(ui->tui.out);
		fflush(ui->tui.out);
		return 0;
	case TUI_SLASH_CONFIG:
		return configure(ui, &cmd) < 0 ? -1 : 0;
	case TUI_SLASH_TODO:
		show_todo(ui);
		return 0;
	case TUI_SLASH_SKILLS:
		show_skills(ui);
		return 0;
	case TUI_SLASH_POLICY:
		show_policy(ui);
		return 0;
	case TUI_SLASH_COMPACT:
		return compact(ui);
	case TUI_SLASH_CLEAR:
		return clear(ui);
	case TUI_SLASH_COST:
		tui_render_cost(&ui->tui.render, ui->s->prompt_tokens,
				ui->s->completion_tokens, ui->model_turns);
		return 0;
	case TUI_SLASH_EXIT:
	default:
		return 1;
	}
}
