/*
 * Rendering of a session for the terminal: streamed model text, one line
 * per tool call and one per result, a busy line with elapsed time, the
 * todo list and the status line. All text from the worker or a command
 * is escaped with the sanitiser. The only control sequences written are
 * the renderer's own: colours, "\r\033[K" to clear the busy line, and
 * the pinned area's cursor moves (tui_pin.c). They are written only when
 * the output is a terminal.
 */
#ifndef COWORKER_TUI_RENDER_H
#define COWORKER_TUI_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * The pinned area: the bottom rows of the terminal, outside the scroll
 * region (DECSTBM), that keep the status line, the todo list and the busy
 * line visible while a turn runs and its text scrolls above them.
 */
struct tui_pin {
	bool active;
	int rows, cols;		/* the terminal's size when it was set up */
	int height;		/* rows the area takes now */
	/* For the status row; borrowed from the caller until tui_pin_end. */
	const char *mode, *model, *workspace;
	char *todo;		/* the latest todo list, or NULL */
};

struct tui_render {
	FILE *out;
	bool tty;		/* out is a terminal: busy line redrawn in place */
	bool color;		/* tty and NO_COLOR unset */
	char carry[4];		/* an incomplete UTF-8 character of the stream */
	size_t carry_len;
	bool mid_line;		/* streamed text did not end with a newline */
	bool busy_shown;	/* the busy line is on screen */
	char busy_label[64];
	long busy_start_ms;
	unsigned spin;
	struct tui_pin pin;
};

/* A command's or file action's outcome, as the supervisor measured it. */
struct tui_result {
	bool ok;
	const char *error;	/* when !ok: why, or NULL */
	int exit_code;		/* -1 when there was no exit status */
	int signal;		/* 0 when none */
	bool timed_out;
	long long bytes;	/* output or file bytes, -1 when not known */
	long long lines;	/* -1 when not known */
	long long duration_ms;	/* -1 when not known */
};

/* Set up r for out; colours follow isatty(out) and NO_COLOR. */
void tui_render_init(struct tui_render *r, FILE *out);

/* Write a piece of streamed model text (escaped; newlines kept). */
void tui_render_text(struct tui_render *r, const char *text, size_t len);

/* End the streamed text: flush a held character, end the line. */
void tui_render_text_end(struct tui_render *r);

/* One line for a tool call: tool, target and the decision. */
void tui_render_tool(struct tui_render *r, const char *tool,
		     const char *target, const char *decision);

/* One line summarising a result. */
void tui_render_result(struct tui_render *r, const struct tui_result *res);

/*
 * Show a busy line ("thinking", "running make") with the time since
 * start_ms; tui_render_tick redraws it. Times are monotonic milliseconds
 * from the caller, so tests control them.
 */
void tui_render_busy(struct tui_render *r, const char *label, long start_ms);
void tui_render_tick(struct tui_render *r, long now_ms);
void tui_render_idle(struct tui_render *r);

/*
 * Draw a todo list in the protocol's form: one item a line, "STATUS TEXT"
 * with STATUS pending, in_progress or completed. Unknown statuses show
 * as "?". An empty list prints "(no todo items)".
 */
void tui_render_todo(struct tui_render *r, const char *items);

/* The mark of a todo status of len bytes: "[ ]", "[>]", "[x]" or "[?]". */
const char *tui_render_todo_mark(const char *status, size_t len);

/* The status line: mode, model and workspace. */
void tui_render_status(struct tui_render *r, const char *mode,
		       const char *model, const char *workspace);

/* A notice from the supervisor (escaped all the same). */
void tui_render_notice(struct tui_render *r, const char *text);

/* Usage for /cost: tokens in, out and turns. */
void tui_render_cost(struct tui_render *r, long long prompt_tokens,
		     long long completion_tokens, long turns);

#endif
