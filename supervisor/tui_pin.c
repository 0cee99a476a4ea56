/*
 * The pinned area below the scroll region. Every drawing saves the cursor
 * (DECSC), writes the area's rows with autowrap off, and restores the
 * cursor (DECRC), so the streamed text goes on where it was. The region
 * itself is reset by tui_pin_end and, after a crash, by tui_term_restore.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "supervisor/sanitize.h"
#include "supervisor/tui_pin.h"

#define SAVE_CURSOR "\0337"
#define RESTORE_CURSOR "\0338"
#define AUTOWRAP_OFF "\033[?7l"
#define AUTOWRAP_ON "\033[?7h"
#define DIM "\033[2m"
#define RED "\033[31m"
#define RESET "\033[0m"

static const char spinner[] = "|/-\\";

static volatile sig_atomic_t resized;
static struct sigaction saved_winch;

static void winch_handler(int sig)
{
	(void)sig;
	resized = 1;
}

static void emit_file(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, ctx);
}

static void write_escaped(FILE *out, const char *text, size_t len)
{
	sanitize_text(text, len, 0, emit_file, out);
}

static bool terminal_size(struct tui_render *r, int *rows, int *cols)
{
	struct winsize ws;

	if (ioctl(fileno(r->out), TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return true;
}

/* One todo line at a time: STATUS TEXT, the status as its mark. */
static const char *next_item(const char *p, const char **text, size_t *len,
			     const char **mark)
{
	const char *end = strchr(p, '\n'), *space;

	if (!end)
		end = p + strlen(p);
	space = memchr(p, ' ', (size_t)(end - p));
	*mark = tui_render_todo_mark(p, space ? (size_t)(space - p) :
				     (size_t)(end - p));
	*text = space ? space + 1 : end;
	*len = (size_t)(end - *text);
	return *end ? end + 1 : end;
}

static int count_items(const char *items)
{
	const char *text, *mark;
	size_t len;
	int n = 0;

	while (items && *items) {
		items = next_item(items, &text, &len, &mark);
		n++;
	}
	return n;
}

/*
 * The window of a long list: it starts at the first item not completed,
 * so the rows show what is left to do, and ends at the list's end.
 */
static int first_shown(const char *items, int n)
{
	const char *text, *mark;
	size_t len;
	int i = 0;

	if (n <= TUI_PIN_TODO_ROWS)
		return 0;
	while (*items) {
		items = next_item(items, &text, &len, &mark);
		if (strcmp(mark, "[x]") != 0)
			break;
		i++;
	}
	return i < n - TUI_PIN_TODO_ROWS ? i : n - TUI_PIN_TODO_ROWS;
}

/* Status row, todo rows (with "+N more" when cut), busy row. */
static int needed_height(const struct tui_render *r)
{
	int n = count_items(r->pin.todo);

	if (n > TUI_PIN_TODO_ROWS)
		n = TUI_PIN_TODO_ROWS + 1;
	return 2 + n;
}

static void move_to_row(FILE *out, int row)
{
	fprintf(out, "\033[%d;1H\033[2K", row);
}

/*
 * Give the area height rows, the text the rest. A growing area first
 * scrolls the text up by the difference with index (IND), which keeps
 * the column of a line still being streamed, so no text is covered.
 */
static void set_height(struct tui_render *r, int height)
{
	FILE *out = r->out;
	int grow = height - r->pin.height, i;

	/* Rows a shrinking area gives back to the text start out empty. */
	if (grow < 0) {
		fputs(SAVE_CURSOR, out);
		for (i = r->pin.rows - r->pin.height + 1;
		     i <= r->pin.rows - height; i++)
			move_to_row(out, i);
		fputs(RESTORE_CURSOR, out);
	}
	for (i = 0; i < grow; i++)
		fputs("\033D", out);
	if (grow > 0)
		fprintf(out, "\033[%dA", grow);
	/* DECSTBM moves the cursor home, so it is saved around it. */
	fprintf(out, SAVE_CURSOR "\033[1;%dr" RESTORE_CURSOR,
		r->pin.rows - height);
	r->pin.height = height;
}

static void draw_status(struct tui_render *r, int row)
{
	bool full = r->pin.mode && strcmp(r->pin.mode, "full-access") == 0;
	const char *mode = r->pin.mode ? r->pin.mode : "workspace-write";
	const char *model = r->pin.model ? r->pin.model : "?";
	const char *workspace = r->pin.workspace ? r->pin.workspace : "?";

	move_to_row(r->out, row);
	if (r->color)
		fputs(full ? RED : DIM, r->out);
	fputc('[', r->out);
	write_escaped(r->out, mode, strlen(mode));
	fputs("] ", r->out);
	write_escaped(r->out, model, strlen(model));
	fputs("  ", r->out);
	write_escaped(r->out, workspace, strlen(workspace));
	if (r->color)
		fputs(RESET, r->out);
}

static void draw_todo(struct tui_render *r, int row)
{
	const char *p = r->pin.todo, *text, *mark;
	int n = count_items(p), first = first_shown(p ? p : "", n), i = 0;
	size_t len;

	while (p && *p && i < first + TUI_PIN_TODO_ROWS) {
		p = next_item(p, &text, &len, &mark);
		if (i++ < first)
			continue;
		move_to_row(r->out, row++);
		fprintf(r->out, "  %s ", mark);
		write_escaped(r->out, text, len);
	}
	if (n > TUI_PIN_TODO_ROWS) {
		move_to_row(r->out, row);
		fprintf(r->out, "  +%d more", n - TUI_PIN_TODO_ROWS);
	}
}

static void draw_busy(struct tui_render *r, int row, long now_ms)
{
	move_to_row(r->out, row);
	if (!r->busy_label[0])
		return;
	if (r->color)
		fputs(DIM, r->out);
	fprintf(r->out, "%c ", spinner[r->spin++ % (sizeof(spinner) - 1)]);
	write_escaped(r->out, r->busy_label, strlen(r->busy_label));
	fprintf(r->out, " %lds (Ctrl-C cancels)",
		(now_ms - r->busy_start_ms) / 1000);
	if (r->color)
		fputs(RESET, r->out);
}

/* After SIGWINCH: set the region up again for the new size. */
static void follow_resize(struct tui_render *r)
{
	int rows, cols;

	resized = 0;
	if (!terminal_size(r, &rows, &cols) || rows < TUI_PIN_MIN_ROWS) {
		tui_pin_end(r);
		return;
	}
	fputs(SAVE_CURSOR "\033[r" RESTORE_CURSOR, r->out);
	r->pin.rows = rows;
	r->pin.cols = cols;
	r->pin.height = 0;
	set_height(r, needed_height(r));
}

void tui_pin_draw(struct tui_render *r, long now_ms)
{
	int row;

	if (!r->pin.active)
		return;
	if (resized)
		follow_resize(r);
	if (!r->pin.active)
		return;
	if (needed_height(r) != r->pin.height)
		set_height(r, needed_height(r));

	row = r->pin.rows - r->pin.height + 1;
	fputs(SAVE_CURSOR AUTOWRAP_OFF, r->out);
	draw_status(r, row);
	draw_todo(r, row + 1);
	draw_busy(r, r->pin.rows, now_ms);
	fputs(AUTOWRAP_ON RESTORE_CURSOR, r->out);
	fflush(r->out);
}

bool tui_pin_begin(struct tui_render *r, const char *mode, const char *model,
		   const char *workspace)
{
	struct sigaction sa;
	int rows, cols;

	if (r->pin.active)
		return true;
	if (!r->tty || !terminal_size(r, &rows, &cols) ||
	    rows < TUI_PIN_MIN_ROWS)
		return false;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = winch_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGWINCH, &sa, &saved_winch);
	resized = 0;

	r->pin.active = true;
	r->pin.rows = rows;
	r->pin.cols = cols;
	r->pin.height = 0;
	r->pin.mode = mode;
	r->pin.model = model;
	r->pin.workspace = workspace;
	set_height(r, needed_height(r));
	tui_pin_draw(r, r->busy_start_ms);
	return true;
}

void tui_pin_end(struct tui_render *r)
{
	int row;

	if (!r->pin.active)
		return;
	fputs(SAVE_CURSOR, r->out);
	for (row = r->pin.rows - r->pin.height + 1; row <= r->pin.rows; row++)
		move_to_row(r->out, row);
	fputs("\033[r" RESTORE_CURSOR, r->out);
	fflush(r->out);
	sigaction(SIGWINCH, &saved_winch, NULL);
	r->pin.active = false;
	r->pin.height = 0;
}

void tui_pin_set_todo(struct tui_render *r, const char *items)
{
	free(r->pin.todo);
	r->pin.todo = items && *items ? strdup(items) : NULL;
}

void tui_pin_free(struct tui_render *r)
{
	tui_pin_end(r);
	free(r->pin.todo);
	r->pin.todo = NULL;
}
