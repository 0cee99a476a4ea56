/*
 * Unified diff of two texts, line by line, using the longest common
 * subsequence of the lines that differ.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/sanitize.h"
#include "supervisor/tui_diff.h"

struct line {
	const char *text;
	size_t len;		/* including the newline, if any */
};

/* One line of the edit script: ' ', '-' or '+'. */
struct op {
	char kind;
	const struct line *line;
};

struct script {
	struct op *ops;
	size_t count;
};

static struct line *split_lines(const char *text, size_t len, size_t *count)
{
	struct line *lines;
	size_t n = 0, i, start = 0;

	for (i = 0; i < len; i++)
		if (text[i] == '\n')
			n++;
	lines = calloc(n + 2, sizeof(*lines));
	if (!lines)
		return NULL;

	n = 0;
	for (i = 0; i < len; i++) {
		if (text[i] != '\n')
			continue;
		lines[n].text = text + start;
		lines[n++].len = i + 1 - start;
		start = i + 1;
	}
	if (start < len) {
		lines[n].text = text + start;
		lines[n++].len = len - start;
	}
	*count = n;
	return lines;
}

static bool same(const struct line *a, const struct line *b)
{
	return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

static void push(struct script *s, char kind, const struct line *line)
{
	s->ops[s->count].kind = kind;
	s->ops[s->count++].line = line;
}

/*
 * Diff the middle old[0..n) and new[0..m) by the LCS table, where
 * table[i][j] is the LCS length of old[i..n) and new[j..m).
 */
static int diff_middle(struct script *s, const struct line *a, size_t n,
		       const struct line *b, size_t m)
{
	uint32_t *t;
	size_t i, j, w = m + 1;

	if ((n + 1) * (m + 1) > (size_t)TUI_DIFF_CELLS_MAX) {
		for (i = 0; i < n; i++)
			push(s, '-', &a[i]);
		for (j = 0; j < m; j++)
			push(s, '+', &b[j]);
		return 0;
	}
	t = calloc((n + 1) * w, sizeof(*t));
	if (!t)
		return -1;
	for (i = n; i-- > 0;)
		for (j = m; j-- > 0;)
			t[i * w + j] = same(&a[i], &b[j]) ?
				t[(i + 1) * w + j + 1] + 1 :
				(t[(i + 1) * w + j] > t[i * w + j + 1] ?
				 t[(i + 1) * w + j] : t[i * w + j + 1]);

	i = 0;
	j = 0;
	while (i < n || j < m) {
		if (i < n && j < m && same(&a[i], &b[j])) {
			push(s, ' ', &a[i++]);
			j++;
		} else if (i < n && (j == m || t[(i + 1) * w + j] >=
					     t[i * w + j + 1])) {
			/* Removed lines come before added ones, as diff -u does. */
			push(s, '-', &a[i++]);
		} else {
			push(s, '+', &b[j++]);
		}
	}
	free(t);
	return 0;
}

static int build_script(struct script *s, const struct line *a, size_t n,
			const struct line *b, size_t m)
{
	size_t head = 0, tail = 0, i;

	s->ops = calloc(n + m + 1, sizeof(*s->ops));
	if (!s->ops)
		return -1;
	while (head < n && head < m && same(&a[head], &b[head]))
		head++;
	while (tail < n - head && tail < m - head &&
	       same(&a[n - 1 - tail], &b[m - 1 - tail]))
		tail++;

	for (i = 0; i < head; i++)
		push(s, ' ', &a[i]);
	if (diff_middle(s, a + head, n - head - tail, b + head,
			m - head - tail) < 0)
		return -1;
	for (i = n - tail; i < n; i++)
		push(s, ' ', &a[i]);
	return 0;
}

static void emit_file(void *ctx, const char *text, size_t n)
{
	fwrite(text, 1, n, ctx);
}

static void write_op(FILE *out, const struct op *op, bool color)
{
	size_t len = op->line->len;
	bool newline = len > 0 && op->line->text[len - 1] == '\n';

	if (color && op->kind != ' ')
		fputs(op->kind == '-' ? "\033[31m" : "\033[32m", out);
	fputc(op->kind, out);
	sanitize_text(op->line->text, newline ? len - 1 : len,
		      SANITIZE_STRICT | SANITIZE_TABS, emit_file, out);
	if (color && op->kind != ' ')
		fputs("\033[0m", out);
	if (!newline)
		fputs("\n\\ No newline at end of file", out);
	fputc('\n', out);
}

/* Mark the ops within TUI_DIFF_CONTEXT lines of a change. */
static bool *mark_shown(const struct script *s)
{
	bool *shown = calloc(s->count + 1, sizeof(*shown));
	size_t i, k, lo, hi;

	if (!shown)
		return NULL;
	for (i = 0; i < s->count; i++) {
		if (s->ops[i].kind == ' ')
			continue;
		lo = i > TUI_DIFF_CONTEXT ? i - TUI_DIFF_CONTEXT : 0;
		hi = i + TUI_DIFF_CONTEXT < s->count ? i + TUI_DIFF_CONTEXT :
			s->count - 1;
		for (k = lo; k <= hi; k++)
			shown[k] = true;
	}
	return shown;
}

/* Write one hunk ops[start..end) with its header; returns lines written. */
static size_t write_hunk(FILE *out, const struct script *s, size_t start,
			 size_t end, size_t old_line, size_t new_line,
			 size_t budget, bool color)
{
	size_t old_count = 0, new_count = 0, i, written = 0;

	for (i = start; i < end; i++) {
		old_count += s->ops[i].kind != '+';
		new_count += s->ops[i].kind != '-';
	}
	if (budget > 0) {
		fprintf(out, "@@ -%zu,%zu +%zu,%zu @@\n",
			old_count ? old_line + 1 : old_line, old_count,
			new_count ? new_line + 1 : new_line, new_count);
		written++;
	}
	for (i = start; i < end && written < budget; i++, written++)
		write_op(out, &s->ops[i], color);
	return written;
}

static long write_hunks(FILE *out, const struct script *s, const bool *shown,
			size_t max_lines, bool color)
{
	size_t i = 0, end, old_line = 0, new_line = 0, total = 0, written = 0;

	while (i < s->count) {
		if (!shown[i]) {
			old_line += s->ops[i].kind != '+';
			new_line += s->ops[i].kind != '-';
			i++;
			continue;
		}
		for (end = i; end < s->count && shown[end]; end++)
			;
		total += end - i + 1;
		written += write_hunk(out, s, i, end, old_line, new_line,
				      max_lines - written, color);
		for (; i < end; i++) {
			old_line += s->ops[i].kind != '+';
			new_line += s->ops[i].kind != '-';
		}
	}
	if (total > written)
		fprintf(out, "... %zu more diff line%s not shown\n",
			total - written, total - written == 1 ? "" : "s");
	return (long)total;
}

long tui_diff_write(FILE *out, const char *old_text, size_t old_len,
		    const char *new_text, size_t new_len, size_t max_lines,
		    bool color)
{
	struct script s = { NULL, 0 };
	struct line *a = NULL, *b = NULL;
	size_t n = 0, m = 0;
	bool *shown = NULL;
	long rc = -1;

	a = split_lines(old_text, old_len, &n);
	b = split_lines(new_text, new_len, &m);
	if (!a || !b || build_script(&s, a, n, b, m) < 0)
		goto out;
	shown = mark_shown(&s);
	if (!shown)
		goto out;
	rc = write_hunks(out, &s, shown, max_lines, color);
out:
	free(shown);
	free(s.ops);
	free(a);
	free(b);
	return rc;
}
