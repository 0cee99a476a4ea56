/*
 * Line-oriented rendering of a session.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/sanitize.h"
#include "supervisor/tui_pin.h"
#include "supervisor/tui_render.h"

#define DIM "\033[2m"
#define RED "\033[31m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define CYAN "\033[36m"
#define RESET "\033[0m"

static const char spinner[] = "|/-\\";

static void emit_file(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, ctx);
}

static void write_escaped(struct tui_render *r, const char *text)
{
	sanitize_text(text, strlen(text), SANITIZE_TABS, emit_file, r->out);
}

static void color(struct tui_render *r, const char *seq)
{
	if (r->color)
		fputs(seq, r->out);
}

void tui_render_init(struct tui_render *r, FILE *out)
{
	const char *no_color = getenv("NO_COLOR");

	memset(r, 0, sizeof(*r));
	r->out = out;
	r->tty = isatty(fileno(out));
	/* NO_COLOR set to any non-empty value turns colours off. */
	r->color = r->tty && !(no_color && *no_color);
}

/* Take the busy line off the screen before other output. */
static void clear_busy(struct tui_render *r)
{
	if (!r->busy_shown)
		return;
	fputs("\r\033[K", r->out);
	r->busy_shown = false;
}

/* Start other output on a fresh line. */
static void begin_line(struct tui_render *r)
{
	clear_busy(r);
	if (r->mid_line) {
		fputc('\n', r->out);
		r->mid_line = false;
	}
}

#define STREAM_FLAGS (SANITIZE_NEWLINES | SANITIZE_TABS | SANITIZE_PARTIAL)

/*
 * Finish a character held from the last piece with up to three bytes of
 * this one, which always complete or invalidate it. Returns the bytes of
 * text consumed, or len when the character is still incomplete.
 */
static size_t finish_carry(struct tui_render *r, const char *text, size_t len)
{
	size_t take = len < 3 ? len : 3, used, held = r->carry_len;
	char joined[8];

	memcpy(joined, r->carry, held);
	memcpy(joined + held, text, take);
	used = sanitize_text(joined, held + take, STREAM_FLAGS, emit_file,
			     r->out);
	if (used < held) {
		/* Only when this piece is shorter than the character's rest. */
		r->carry_len = held + take - used;
		memcpy(r->carry, joined + used, r->carry_len);
		return len;
	}
	r->carry_len = 0;
	return used - held;
}

void tui_render_text(struct tui_render *r, const char *text, size_t len)
{
	size_t used;

	clear_busy(r);
	if (r->carry_len > 0) {
		used = finish_carry(r, text, len);
		text += used;
		len -= used;
	}
	used = sanitize_text(text, len, STREAM_FLAGS, emit_file, r->out);
	if (len - used > 0) {
		r->carry_len = len - used;
		memcpy(r->carry, text + used, r->carry_len);
	}
	if (used > 0)
		r->mid_line = text[used - 1] != '\n';
	fflush(r->out);
}

void tui_render_text_end(struct tui_render *r)
{
	if (r->carry_len > 0) {
		sanitize_text(r->carry, r->carry_len, 0, emit_file, r->out);
		r->carry_len = 0;
		r->mid_line = true;
	}
	begin_line(r);
	fflush(r->out);
}

void tui_render_tool(struct tui_render *r, const char *tool,
		     const char *target, const char *decision)
{
	bool denied = decision && strcmp(decision, "deny") == 0;

	begin_line(r);
	color(r, CYAN);
	fputs("* ", r->out);
	write_escaped(r, tool);
	color(r, RESET);
	if (target && *target) {
		fputc(' ', r->out);
		write_escaped(r, target);
	}
	if (decision) {
		fputs("  ", r->out);
		color(r, denied ? RED : DIM);
		fputc('[', r->out);
		write_escaped(r, decision);
		fputc(']', r->out);
		color(r, RESET);
	}
	fputc('\n', r->out);
	fflush(r->out);
}

static void write_size(FILE *out, long long bytes)
{
	if (bytes < 1024)
		fprintf(out, "%lld B", bytes);
	else if (bytes < 1024 * 1024)
		fprintf(out, "%.1f KiB", (double)bytes / 1024);
	else
		fprintf(out, "%.1f MiB", (double)bytes / (1024 * 1024));
}

void tui_render_result(struct tui_render *r, const struct tui_result *res)
{
	begin_line(r);
	fputs("  -> ", r->out);
	if (!res->ok) {
		color(r, RED);
		fputs("failed", r->out);
		color(r, RESET);
		if (res->error) {
			fputs(": ", r->out);
			write_escaped(r, res->error);
		}
	} else if (res->timed_out) {
		fputs("timed out", r->out);
	} else if (res->signal > 0) {
		fprintf(r->out, "killed by signal %d", res->signal);
	} else if (res->exit_code >= 0) {
		color(r, res->exit_code == 0 ? GREEN : YELLOW);
		fprintf(r->out, "exit %d", res->exit_code);
		color(r, RESET);
	} else {
		fputs("ok", r->out);
	}
	if (res->bytes >= 0) {
		fputs(", ", r->out);
		write_size(r->out, res->bytes);
	}
	if (res->lines >= 0)
		fprintf(r->out, ", %lld line%s", res->lines,
			res->lines == 1 ? "" : "s");
	if (res->duration_ms >= 0)
		fprintf(r->out, ", %lld.%01lld s", res->duration_ms / 1000,
			res->duration_ms % 1000 / 100);
	fputc('\n', r->out);
	fflush(r->out);
}

void tui_render_busy(struct tui_render *r, const char *label, long start_ms)
{
	snprintf(r->busy_label, sizeof(r->busy_label), "%s", label);
	r->busy_start_ms = start_ms;
	tui_render_tick(r, start_ms);
}

/*
 * Only a terminal gets the busy line, redrawn in place; a pipe or file
 * would collect one line per tick.
 */
void tui_render_tick(struct tui_render *r, long now_ms)
{
	long seconds;

	if (r->pin.active) {
		tui_pin_draw(r, now_ms);
		return;
	}
	if (!r->tty || !r->busy_label[0] || r->mid_line)
		return;
	seconds = (now_ms - r->busy_start_ms) / 1000;
	fputs("\r\033[K", r->out);
	color(r, DIM);
	fprintf(r->out, "%c ", spinner[r->spin++ % (sizeof(spinner) - 1)]);
	write_escaped(r, r->busy_label);
	fprintf(r->out, " %lds (Ctrl-C cancels)", seconds);
	color(r, RESET);
	r->busy_shown = true;
	fflush(r->out);
}

void tui_render_idle(struct tui_render *r)
{
	clear_busy(r);
	r->busy_label[0] = '\0';
	tui_pin_draw(r, r->busy_start_ms);
	fflush(r->out);
}

const char *tui_render_todo_mark(const char *status, size_t len)
{
	if (len == 7 && strncmp(status, "pending", len) == 0)
		return "[ ]";
	if (len == 11 && strncmp(status, "in_progress", len) == 0)
		return "[>]";
	if (len == 9 && strncmp(status, "completed", len) == 0)
		return "[x]";
	return "[?]";
}

void tui_render_todo(struct tui_render *r, const char *items)
{
	const char *p = items, *end, *space;
	bool any = false;

	begin_line(r);
	while (*p) {
		end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		space = memchr(p, ' ', (size_t)(end - p));
		if (end > p) {
			const char *text = space ? space + 1 : end;

			fprintf(r->out, "  %s ", tui_render_todo_mark(p, space ?
				(size_t)(space - p) : (size_t)(end - p)));
			sanitize_text(text, (size_t)(end - text), 0, emit_file,
				      r->out);
			fputc('\n', r->out);
			any = true;
		}
		p = *end ? end + 1 : end;
	}
	if (!any)
		fputs("  (no todo items)\n", r->out);
	tui_pin_set_todo(r, items);
	tui_pin_draw(r, r->busy_start_ms);
	fflush(r->out);
}

void tui_render_status(struct tui_render *r, const char *mode,
		       const char *model, const char *workspace)
{
	bool full = mode && strcmp(mode, "full-access") == 0;

	begin_line(r);
	color(r, full ? RED : DIM);
	fputs("[", r->out);
	write_escaped(r, mode ? mode : "workspace-write");
	fputs("] ", r->out);
	write_escaped(r, model ? model : "?");
	fputs("  ", r->out);
	write_escaped(r, workspace ? workspace : "?");
	color(r, RESET);
	fputc('\n', r->out);
	fflush(r->out);
}

void tui_render_notice(struct tui_render *r, const char *text)
{
	begin_line(r);
	color(r, YELLOW);
	fputs("coworker: ", r->out);
	write_escaped(r, text);
	color(r, RESET);
	fputc('\n', r->out);
	fflush(r->out);
}

void tui_render_cost(struct tui_render *r, long long prompt_tokens,
		     long long completion_tokens, long turns)
{
	begin_line(r);
	fprintf(r->out, "  tokens: %lld in, %lld out, %lld total\n"
		"  turns: %ld\n", prompt_tokens, completion_tokens,
		prompt_tokens + completion_tokens, turns);
	fflush(r->out);
}
