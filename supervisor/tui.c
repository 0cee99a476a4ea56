/*
 * The interface the session uses, on top of the editor, renderer and
 * approval prompt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/tui.h"
#include "supervisor/tui_pin.h"
#include "supervisor/tui_term.h"

#define PROMPT "> "

int tui_start(struct tui *t, const struct tui_options *opts, char *err,
	      size_t errlen)
{
	char history[4096];
	const char *path = opts->history_path;
	char notice[256];

	memset(t, 0, sizeof(*t));
	t->in_fd = opts->in_fd;
	t->out = fdopen(dup(opts->out_fd), "w");
	if (!t->out) {
		snprintf(err, errlen, "cannot open the terminal output");
		return -1;
	}
	tui_render_init(&t->render, t->out);
	/* Not a terminal is fine: there is nothing to restore then. */
	tui_term_guard_install(opts->in_fd, opts->out_fd);

	if (!path && tui_history_path(history, sizeof(history)) == 0)
		path = history;
	if (path && !*path)
		path = NULL;
	t->editor = tui_editor_open(opts->in_fd, opts->out_fd, path, NULL,
				    notice, sizeof(notice));
	if (!t->editor) {
		snprintf(err, errlen, "out of memory starting the line editor");
		fclose(t->out);
		t->out = NULL;
		return -1;
	}
	if (notice[0])
		tui_render_notice(&t->render, notice);
	return 0;
}

void tui_stop(struct tui *t)
{
	if (t->editor)
		tui_editor_close(t->editor);
	t->editor = NULL;
	if (t->out) {
		tui_render_idle(&t->render);
		tui_pin_free(&t->render);
		fclose(t->out);
	}
	t->out = NULL;
	tui_term_restore();
}

void tui_set_status(struct tui *t, const char *mode, const char *model,
		    const char *workspace)
{
	snprintf(t->mode, sizeof(t->mode), "%s", mode ? mode : "");
	snprintf(t->model, sizeof(t->model), "%s", model ? model : "");
	snprintf(t->workspace, sizeof(t->workspace), "%s",
		 workspace ? workspace : "");
}

enum tui_read_status tui_read_input(struct tui *t, char **line)
{
	tui_render_idle(&t->render);
	tui_render_status(&t->render, t->mode, t->model, t->workspace);
	return tui_editor_read(t->editor, PROMPT, line);
}

void tui_text_delta(struct tui *t, const char *text, size_t len)
{
	tui_render_text(&t->render, text, len);
}

void tui_tool_line(struct tui *t, const char *tool, const char *target,
		   const char *decision)
{
	tui_render_tool(&t->render, tool, target, decision);
}

void tui_result(struct tui *t, const struct tui_result *res)
{
	tui_render_result(&t->render, res);
}

void tui_todo(struct tui *t, const char *items)
{
	tui_render_todo(&t->render, items);
}

void tui_notice(struct tui *t, const char *text)
{
	tui_render_notice(&t->render, text);
}

void tui_busy(struct tui *t, const char *label, long now_ms)
{
	tui_render_busy(&t->render, label, now_ms);
}

void tui_tick(struct tui *t, long now_ms)
{
	tui_render_tick(&t->render, now_ms);
}

void tui_task_begin(struct tui *t)
{
	tui_render_text_end(&t->render);
	tui_pin_begin(&t->render, t->mode, t->model, t->workspace);
}

void tui_task_end(struct tui *t)
{
	tui_turn_end(t);
	tui_pin_end(&t->render);
}

void tui_forget_todo(struct tui *t)
{
	tui_pin_set_todo(&t->render, NULL);
}

void tui_turn_end(struct tui *t)
{
	tui_render_text_end(&t->render);
	tui_render_idle(&t->render);
}

int tui_ask_approval(struct tui *t, const struct tui_approval_request *req,
		     struct tui_approval_answer *answer)
{
	tui_render_text_end(&t->render);
	tui_render_idle(&t->render);
	return tui_approval_ask(t->in_fd, t->out, t->render.color, req, answer);
}
