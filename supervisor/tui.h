/*
 * Interactive mode's terminal, as the session uses it. The supervisor owns
 * the terminal; the worker never writes to it. Every text a worker or a
 * command sends is shown through the sanitiser, and approval prompts are
 * built only from what the supervisor judged.
 *
 * Typical use from the session:
 *
 *	tui_start(&t, &opts)                      once, before the first prompt
 *	loop:
 *	  tui_set_status(&t, mode, model, workspace)
 *	  tui_read_input(&t, &line)               a task or a slash command
 *	  tui_parse_slash(line, &cmd, err)        when tui_slash_is_command(line)
 *	  during a turn, from the worker's events:
 *	    turn_start     -> tui_busy(&t, "thinking", now_ms)
 *	    text_delta     -> tui_text_delta(&t, text, len)
 *	    a request      -> tui_tool_line(&t, tool, target, decision)
 *	    ask            -> tui_ask_approval(&t, &req, &answer)
 *	    reply sent     -> tui_result(&t, &res)
 *	    todo           -> tui_todo(&t, items)
 *	    a timer        -> tui_tick(&t, now_ms) every 100-250 ms
 *	    done           -> tui_turn_end(&t)
 *	tui_stop(&t)                              also on every error path
 *
 * The terminal is restored by tui_stop, at exit and on fatal signals
 * (tui_term_guard_install), so a crash of the supervisor or an early exit
 * after the worker died never leaves the shell in raw mode. A crash of the
 * worker changes nothing on the terminal: only the supervisor touched it.
 */
#ifndef COWORKER_TUI_H
#define COWORKER_TUI_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor/tui_approval.h"
#include "supervisor/tui_edit.h"
#include "supervisor/tui_render.h"
#include "supervisor/tui_slash.h"

struct tui_options {
	int in_fd;		/* usually STDIN_FILENO */
	int out_fd;		/* usually STDOUT_FILENO */
	/* NULL: tui_history_path; "" keeps no history. */
	const char *history_path;
};

struct tui {
	int in_fd;
	FILE *out;		/* a stdio stream on out_fd */
	struct tui_editor *editor;
	struct tui_render render;
	char mode[32], model[257], workspace[4096];
};

/*
 * Save the terminal modes, install the restoring handlers, open the
 * line editor (loading libedit now, and only now) and show the editor's
 * fallback notice when there is one. Returns 0, or -1 with err set.
 */
int tui_start(struct tui *t, const struct tui_options *opts, char *err,
	      size_t errlen);

/* Close the editor and restore the terminal. Safe to call twice. */
void tui_stop(struct tui *t);

/*
 * Draw the status line and read one input (a task or a slash command)
 * with the prompt. *line is malloc'd on TUI_READ_LINE.
 */
enum tui_read_status tui_read_input(struct tui *t, char **line);

/* Remember the status line's fields; it is drawn before every prompt. */
void tui_set_status(struct tui *t, const char *mode, const char *model,
		    const char *workspace);

void tui_text_delta(struct tui *t, const char *text, size_t len);
void tui_tool_line(struct tui *t, const char *tool, const char *target,
		   const char *decision);
void tui_result(struct tui *t, const struct tui_result *res);
void tui_todo(struct tui *t, const char *items);
void tui_notice(struct tui *t, const char *text);
void tui_busy(struct tui *t, const char *label, long now_ms);
void tui_tick(struct tui *t, long now_ms);

/*
 * Around the worker's work on one task: keep the status line, the todo
 * list and the busy line pinned at the bottom of a large enough terminal
 * (see tui_pin.h) until tui_task_end.
 */
void tui_task_begin(struct tui *t);
void tui_task_end(struct tui *t);

/* Drop the todo list the pinned area shows, for a new conversation. */
void tui_forget_todo(struct tui *t);

/* End a turn: finish the streamed text and clear the busy line. */
void tui_turn_end(struct tui *t);

/*
 * Ask the user about req (see tui_approval_ask); the busy line is cleared
 * first. On TUI_ANSWER_ALWAYS the caller saves answer->rules with
 * policy_save_approval and audits them.
 */
int tui_ask_approval(struct tui *t, const struct tui_approval_request *req,
		     struct tui_approval_answer *answer);

#endif
