/*
 * The pinned area at the bottom of the terminal while a turn runs: the
 * status line, the todo list (cut to a few rows) and the busy line stay
 * there, and the streamed text scrolls in the region above (DECSTBM).
 * The area needs a terminal of at least TUI_PIN_MIN_ROWS rows. Elsewhere
 * the renderer draws the busy line below the text, and the status line
 * only before each prompt.
 */
#ifndef COWORKER_TUI_PIN_H
#define COWORKER_TUI_PIN_H

#include <stdbool.h>

#include "supervisor/tui_render.h"

/* Below this many rows the text would have too little room. */
#define TUI_PIN_MIN_ROWS 10

/* Todo items shown in the area; a "+N more" row counts the rest. */
#define TUI_PIN_TODO_ROWS 4

/*
 * Set up the area for a turn and draw it. mode, model and workspace are
 * borrowed until tui_pin_end. Returns false, changing nothing, when the
 * output is not a terminal or has fewer than TUI_PIN_MIN_ROWS rows.
 */
bool tui_pin_begin(struct tui_render *r, const char *mode, const char *model,
		   const char *workspace);

/* Clear the area and give the whole screen back to the text. */
void tui_pin_end(struct tui_render *r);

/*
 * Redraw the area with the busy line's time at now_ms, first following a
 * change of the terminal's size (SIGWINCH) since the last call.
 */
void tui_pin_draw(struct tui_render *r, long now_ms);

/* Keep items ("STATUS TEXT" lines, or NULL for none) for the area. */
void tui_pin_set_todo(struct tui_render *r, const char *items);

/* Free what the area keeps. */
void tui_pin_free(struct tui_render *r);

#endif
