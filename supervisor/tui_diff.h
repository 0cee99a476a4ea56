/*
 * A small line diff for approval prompts: the change an edit_file or
 * write_file request would make, as a unified diff with three lines of
 * context, every line escaped with SANITIZE_STRICT.
 */
#ifndef COWORKER_TUI_DIFF_H
#define COWORKER_TUI_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Lines of context around each change. */
#define TUI_DIFF_CONTEXT 3

/*
 * Largest table the exact diff builds, in cells (old lines times new lines
 * after common leading and trailing lines are removed). Past it, the
 * changed middle is shown as all removed, then all added: still exact,
 * only longer.
 */
#define TUI_DIFF_CELLS_MAX (1L << 20)

/*
 * Write the hunks that turn old_text into new_text to out (without the
 * "---" and "+++" header lines). At most max_lines hunk lines are written,
 * then one line counting the rest. With color, removed lines are red and
 * added lines green. Returns the number of hunk lines in the whole diff,
 * or -1 when memory runs out.
 */
long tui_diff_write(FILE *out, const char *old_text, size_t old_len,
		    const char *new_text, size_t new_len, size_t max_lines,
		    bool color);

#endif
