/*
 * The terminal state interactive mode changes, and how it is given back:
 * the line editor and the approval prompt switch the input terminal's
 * modes, and the renderer may hide the cursor or leave a colour set.
 * tui_term_guard_install saves the modes once, then restores them and
 * resets those settings at exit, on a fatal signal and on
 * tui_term_restore, so the user's shell is never left in raw mode.
 */
#ifndef COWORKER_TUI_TERM_H
#define COWORKER_TUI_TERM_H

#include <stddef.h>
#include <sys/types.h>

/* Control keys that raw reads return as themselves. */
#define TUI_KEY_CTRL_C 0x03
#define TUI_KEY_CTRL_D 0x04

/*
 * Save the modes of terminal in_fd and register the restoring atexit and
 * signal handlers (SIGHUP, SIGQUIT, SIGILL, SIGABRT, SIGBUS, SIGFPE,
 * SIGSEGV, SIGTERM; each is re-raised after the restore). out_fd receives
 * the reset sequences. Safe to call more than once; only the first call
 * saves. Returns 0, or -1 when in_fd is not a terminal.
 */
int tui_term_guard_install(int in_fd, int out_fd);

/*
 * Restore the saved modes and write the reset sequences: end bracketed
 * paste, show the cursor, default colours. Async-signal-safe.
 */
void tui_term_restore(void);

/*
 * Read one key from fd. On a terminal, canonical mode, echo and signal
 * keys are off during the read, so Ctrl-C arrives as TUI_KEY_CTRL_C.
 * Other input is read a line at a time, and the line's first byte other
 * than a blank is the key ('\n' for a blank line).
 * Returns the byte, or -1 at end of input or on an error.
 */
int tui_term_read_key(int fd);

/*
 * Read one line from fd, a byte at a time so nothing past the newline is
 * consumed, with the terminal's own line editing. The newline is not
 * stored, and a line longer than size - 1 is cut there (the rest is read
 * and dropped). Returns the length, or -1 at end of input with nothing
 * read.
 */
ssize_t tui_term_read_line(int fd, char *buf, size_t size);

#endif
