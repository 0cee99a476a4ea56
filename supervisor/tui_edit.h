/*
 * The prompt's line editor. libedit is loaded with dlopen by
 * tui_editor_open, so only interactive mode maps it: `coworker exec`, the
 * sandbox and the worker never do. When the input is not a terminal or
 * libedit cannot be loaded, lines are read plainly from the input and the
 * caller gets a one-line notice saying so.
 *
 * Input rules in both modes: a line ending in "\" continues on the next
 * line (the "\" is dropped, the newline kept). With libedit, a bracketed
 * paste keeps its newlines inside one input, so a pasted paragraph is one
 * task; Enter after the paste sends it.
 */
#ifndef COWORKER_TUI_EDIT_H
#define COWORKER_TUI_EDIT_H

#include <stdbool.h>
#include <stddef.h>

/* Largest input accepted, in bytes; the rest of a longer one is dropped. */
#define TUI_INPUT_MAX (256 * 1024)

/* Entries the history keeps; older ones are dropped when it is saved. */
#define TUI_HISTORY_ENTRIES 1000

/* Maximum length of an input stored in the history, in bytes. */
#define TUI_HISTORY_ENTRY_MAX (16 * 1024)

/* Largest history file loaded, in bytes; a larger one is left alone. */
#define TUI_HISTORY_FILE_MAX (4 * 1024 * 1024)

/* The shared library name passed to dlopen. */
#define TUI_LIBEDIT_NAME "libedit.so.2"

enum tui_read_status {
	TUI_READ_LINE,		/* *line holds the input */
	TUI_READ_EOF,		/* Ctrl-D on an empty line, or end of input */
	TUI_READ_INTERRUPT,	/* Ctrl-C at the prompt */
};

struct tui_editor;

/*
 * Open an editor on the terminal in_fd / out_fd. history_path may be NULL
 * (no history). When libedit is not used, notice receives one line for
 * the user, else "". libedit_name overrides TUI_LIBEDIT_NAME (tests).
 * Sets LC_CTYPE from the environment (C.UTF-8 when that gives plain C),
 * because libedit decodes multibyte input by it. Returns NULL only when
 * memory runs out.
 */
struct tui_editor *tui_editor_open(int in_fd, int out_fd,
				   const char *history_path,
				   const char *libedit_name,
				   char *notice, size_t notice_len);

/*
 * Read one input with prompt (trusted text: the caller's own). On
 * TUI_READ_LINE, *line is a malloc'd string the caller frees; a
 * non-empty input is added to the history and the history file saved.
 */
enum tui_read_status tui_editor_read(struct tui_editor *ed,
				     const char *prompt, char **line);

/* Whether ed uses libedit (false: the plain fallback). */
bool tui_editor_uses_libedit(const struct tui_editor *ed);

/* Restore the terminal, free ed. The history was saved on every entry. */
void tui_editor_close(struct tui_editor *ed);

/*
 * Write $XDG_STATE_HOME/coworker/history, or ~/.local/state/coworker/history
 * when XDG_STATE_HOME is unset or not absolute, into buf. Returns 0, or -1
 * when neither variable gives an absolute directory or buf is too small.
 */
int tui_history_path(char *buf, size_t size);

#endif
