/*
 * Escaping of untrusted text for the terminal.
 */
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

/*
 * Characters that draw nothing or change how the text around them is
 * ordered: C1 controls, soft hyphen, bidirectional marks, embeddings,
 * overrides and isolates, zero-width spaces and joiners, line and
 * paragraph separators, invisible operators, fillers, variation selectors,
 * the byte order mark, interlinear annotations and the tag characters
 * (which can carry hidden ASCII).
 */
static const struct {
	unsigned first, last;
} invisible_ranges[] = {
	{ 0x0080, 0x009F }, { 0x00AD, 0x00AD }, { 0x034F, 0x034F },
	{ 0x061C, 0x061C }, { 0x115F, 0x1160 }, { 0x17B4, 0x17B5 },
	{ 0x180B, 0x180F }, { 0x200B, 0x200F }, { 0x2028, 0x202E },
	{ 0x2060, 0x206F }, { 0x3164, 0x3164 }, { 0xFE00, 0xFE0F },
	{ 0xFEFF, 0xFEFF }, { 0xFFA0, 0xFFA0 }, { 0xFFF9, 0xFFFB },
	{ 0x1D173, 0x1D17A }, { 0xE0000, 0xE0FFF },
};

bool sanitize_is_invisible(unsigned cp)
{
	size_t i;

	for (i = 0; i < sizeof(invisible_ranges) / sizeof(invisible_ranges[0]);
	     i++)
		if (cp >= invisible_ranges[i].first &&
		    cp <= invisible_ranges[i].last)
			return true;
	return false;
}

static bool is_continuation(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

int sanitize_utf8_decode(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		len = 2;
		*cp = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		len = 3;
		*cp = p[0] & 0x0F;
		/* Below A0 an E0 form is overlong, and above 9F ED is a surrogate. */
		if (p[0] == 0xE0)
			lo = 0xA0;
		if (p[0] == 0xED)
			hi = 0x9F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		len = 4;
		*cp = p[0] & 0x07;
		/* Below 90 an F0 form is overlong, and above 8F F4 is past U+10FFFF. */
		if (p[0] == 0xF0)
			lo = 0x90;
		if (p[0] == 0xF4)
			hi = 0x8F;
	} else {
		return -1;
	}

	for (i = 1; i < len; i++) {
		if (i >= n)
			return 0;
		if (i == 1 && (p[1] < lo || p[1] > hi))
			return -1;
		if (!is_continuation(p[i]))
			return -1;
		*cp = (*cp << 6) | (p[i] & 0x3F);
	}
	return (int)len;
}

/* Escape one ASCII byte (a control, "\" or a printable character). */
static void emit_ascii(unsigned char c, unsigned flags, sanitize_emit_fn emit,
		       void *ctx)
{
	char buf[8];

	if (c == '\n' && (flags & SANITIZE_NEWLINES))
		emit(ctx, "\n", 1);
	else if (c == '\t' && (flags & SANITIZE_TABS))
		emit(ctx, "\t", 1);
	else if (c == '\n')
		emit(ctx, "\\n", 2);
	else if (c == '\t')
		emit(ctx, "\\t", 2);
	else if (c == '\r')
		emit(ctx, "\\r", 2);
	else if (c == 0x1b)
		emit(ctx, "\\e", 2);
	else if (c < 0x20 || c == 0x7f)
		emit(ctx, buf, (size_t)snprintf(buf, sizeof(buf), "\\x%02x", c));
	else if (c == '\\' && (flags & SANITIZE_STRICT))
		emit(ctx, "\\\\", 2);
	else
		emit(ctx, (const char *)&c, 1);
}

/* Write a valid non-ASCII character, or its code point, or both. */
static void emit_char(const unsigned char *p, int len, unsigned cp,
		      unsigned flags, sanitize_emit_fn emit, void *ctx)
{
	char buf[16];
	bool invisible = sanitize_is_invisible(cp);

	if (!invisible)
		emit(ctx, (const char *)p, (size_t)len);
	if (invisible || (flags & SANITIZE_STRICT))
		emit(ctx, buf, (size_t)snprintf(buf, sizeof(buf), "<U+%04X>", cp));
}

size_t sanitize_text(const char *in, size_t len, unsigned flags,
		     sanitize_emit_fn emit, void *ctx)
{
	const unsigned char *p = (const unsigned char *)in;
	char buf[8];
	size_t i = 0;
	unsigned cp;
	int n;

	while (i < len) {
		if (p[i] < 0x80) {
			emit_ascii(p[i], flags, emit, ctx);
			i++;
			continue;
		}

		n = sanitize_utf8_decode(p + i, len - i, &cp);
		if (n == 0 && (flags & SANITIZE_PARTIAL))
			return i;
		if (n <= 0) {
			emit(ctx, buf,
			     (size_t)snprintf(buf, sizeof(buf), "\\x%02x", p[i]));
			i++;
			continue;
		}
		emit_char(p + i, n, cp, flags, emit, ctx);
		i += (size_t)n;
	}
	return i;
}

static void emit_file(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, ctx);
}

void sanitize_write(FILE *out, const char *text, bool keep_newlines)
{
	unsigned flags = SANITIZE_TABS;

	if (keep_newlines)
		flags |= SANITIZE_NEWLINES;
	sanitize_text(text, strlen(text), flags, emit_file, out);
}

struct dup_buf {
	char *data;
	size_t len, cap;
	bool failed;
};

static void emit_dup(void *ctx, const char *s, size_t n)
{
	struct dup_buf *b = ctx;
	char *grown;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 64) + n;

		grown = realloc(b->data, cap);
		if (!grown) {
			b->failed = true;
			return;
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

char *sanitize_dup(const char *in, size_t len, unsigned flags)
{
	struct dup_buf b = { NULL, 0, 0, false };

	sanitize_text(in, len, flags & ~(unsigned)SANITIZE_PARTIAL, emit_dup, &b);
	if (b.failed) {
		free(b.data);
		return NULL;
	}
	if (!b.data)
		return strdup("");
	return b.data;
}
