/*
 * The YAML front-matter parser behind SKILL.md (see skills_yaml.h).
 *
 * The front matter is cut into lines first (a CR before each LF dropped),
 * then parsed by recursive descent over block structure. Flow collections
 * and quoted scalars that span lines are joined with "\n" and parsed as
 * one piece of text. Nesting is bounded by FM_DEPTH_MAX and the input by
 * FM_MAX, so no input can make the parser recurse or allocate without
 * bound.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skills_yaml.h"

struct fm_line {
	const char *s;		/* start of the line */
	size_t len;		/* without the line break */
	unsigned no;		/* 1-based line number in the file */
	unsigned indent;	/* columns before the content */
};

struct parser {
	const char *file;
	struct fm_line *lines;
	size_t nlines;
	size_t pos;		/* next line not yet consumed */
	char *err;
	size_t errlen;
};

struct sbuf {
	char *s;
	size_t len;
	size_t cap;
	bool failed;
};

static int fail(struct parser *p, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%u: %s", p->file, line, msg);
	return -1;
}

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	char *grown;
	size_t cap;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		grown = realloc(b->s, cap);
		if (!grown) {
			b->failed = true;
			return;
		}
		b->s = grown;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_addc(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

/* Move the finished text into a scalar node; an empty buffer gives "". */
static int sb_to_scalar(struct parser *p, struct sbuf *b, unsigned line,
			struct fm_node *node)
{
	sb_add(b, "", 0);
	if (b->failed || !b->s) {
		free(b->s);
		return fail(p, line, "out of memory");
	}
	node->kind = FM_SCALAR;
	node->line = line;
	node->text = b->s;
	return 0;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && is_ws(*s))
		s++;
	return s;
}

static size_t trim_right(const char *s, size_t n)
{
	while (n > 0 && is_ws(s[n - 1]))
		n--;
	return n;
}

static const char *line_content(const struct fm_line *l)
{
	return l->s + l->indent;
}

static size_t line_content_len(const struct fm_line *l)
{
	return l->len - l->indent;
}

/* A line holding only whitespace, or only a comment. */
static bool line_is_empty(const struct fm_line *l)
{
	const char *end = l->s + l->len;
	const char *s = skip_ws(l->s, end);

	return s == end || *s == '#';
}

static bool line_is_blank(const struct fm_line *l)
{
	return skip_ws(l->s, l->s + l->len) == l->s + l->len;
}

/* Index of the next line with content, or nlines. */
static size_t next_content(const struct parser *p)
{
	size_t i = p->pos;

	while (i < p->nlines && line_is_empty(&p->lines[i]))
		i++;
	return i;
}

static bool is_seq_entry(const char *s, size_t n)
{
	return n > 0 && s[0] == '-' && (n == 1 || is_ws(s[1]));
}

/* Text from s up to an unquoted " #" comment, with trailing space cut. */
static size_t plain_extent(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '#' && (i == 0 || is_ws(s[i - 1])))
			break;
	return trim_right(s, i);
}

/*
 * Position of the ':' that separates a block mapping key from its value
 * ("key: value" or "key:" at the end), or -1 when the line is no key line.
 */
static long find_key_colon(const char *s, size_t n)
{
	size_t i = 0;
	char q;

	if (n == 0 || s[0] == '[' || s[0] == '{')
		return -1;
	if (s[0] == '"' || s[0] == '\'') {
		q = s[0];
		for (i = 1; i < n; i++) {
			if (q == '"' && s[i] == '\\') {
				i++;
				continue;
			}
			if (s[i] == q) {
				if (q == '\'' && i + 1 < n && s[i + 1] == '\'') {
					i++;
					continue;
				}
				break;
			}
		}
		if (i >= n)
			return -1;
		i = (size_t)(skip_ws(s + i + 1, s + n) - s);
		if (i < n && s[i] == ':' && (i + 1 == n || is_ws(s[i + 1])))
			return (long)i;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '#' && i > 0 && is_ws(s[i - 1]))
			return -1;
		if (s[i] == ':' && (i + 1 == n || is_ws(s[i + 1])))
			return (long)i;
	}
	return -1;
}

static int node_append(struct parser *p, unsigned line, struct fm_node *node,
		       char *key, struct fm_node **slot)
{
	struct fm_node *items;
	char **keys;

	items = realloc(node->items, (node->count + 1) * sizeof(*items));
	if (!items)
		goto oom;
	node->items = items;
	if (node->kind == FM_MAP) {
		keys = realloc(node->keys, (node->count + 1) * sizeof(*keys));
		if (!keys)
			goto oom;
		node->keys = keys;
		keys[node->count] = key;
	}
	memset(&items[node->count], 0, sizeof(*items));
	*slot = &items[node->count++];
	return 0;
oom:
	free(key);
	return fail(p, line, "out of memory");
}

static bool map_has_key(const struct fm_node *map, const char *key)
{
	return fm_map_get(map, key) != NULL;
}

static void node_free(struct fm_node *n)
{
	size_t i;

	for (i = 0; i < n->count; i++) {
		node_free(&n->items[i]);
		if (n->keys)
			free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->text);
	memset(n, 0, sizeof(*n));
}

/* ---- scalars ---------------------------------------------------------- */

static bool is_null_text(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '~') ||
	       (n == 4 && (memcmp(s, "null", 4) == 0 ||
			   memcmp(s, "Null", 4) == 0 ||
			   memcmp(s, "NULL", 4) == 0));
}

/* Reject the indicators that start YAML features this parser leaves out. */
static int check_plain_start(struct parser *p, unsigned line, char c)
{
	if (c == '&' || c == '*' || c == '!')
		return fail(p, line, "YAML anchors, aliases and tags are not "
			    "supported in front matter; write the value out "
			    "or quote it");
	if (c == '@' || c == '`')
		return fail(p, line, "a plain value cannot start with '%c'; "
			    "quote the value", c);
	return 0;
}

static int utf8_put(struct sbuf *b, uint32_t cp)
{
	char out[4];

	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	if (cp < 0x80) {
		out[0] = (char)cp;
		sb_add(b, out, 1);
	} else if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		sb_add(b, out, 2);
	} else if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		sb_add(b, out, 3);
	} else {
		out[0] = (char)(0xF0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[3] = (char)(0x80 | (cp & 0x3F));
		sb_add(b, out, 4);
	}
	return 0;
}

static int hex_escape(const char *s, size_t n, size_t digits, uint32_t *cp)
{
	size_t i;
	int v;

	if (n < digits)
		return -1;
	*cp = 0;
	for (i = 0; i < digits; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			v = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			v = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			v = s[i] - 'A' + 10;
		else
			return -1;
		*cp = *cp * 16 + (uint32_t)v;
	}
	return 0;
}

/*
 * Decode one escape of a double-quoted scalar at s[0] (the character after
 * the backslash). Returns the number of input bytes used, or -1.
 */
static long decode_escape(struct sbuf *b, const char *s, size_t n)
{
	static const char simple_in[] = "abtnvfre \"/\\\t";
	static const char simple_out[] = "\a\b\t\n\v\f\r\x1b \"/\\\t";
	const char *hit = n ? strchr(simple_in, s[0]) : NULL;
	size_t digits = 0;
	uint32_t cp;

	if (hit && s[0]) {
		sb_addc(b, simple_out[hit - simple_in]);
		return 1;
	}
	if (n && s[0] == 'N')
		return utf8_put(b, 0x85) == 0 ? 1 : -1;
	if (n && s[0] == '_')
		return utf8_put(b, 0xA0) == 0 ? 1 : -1;
	if (n && s[0] == 'L')
		return utf8_put(b, 0x2028) == 0 ? 1 : -1;
	if (n && s[0] == 'P')
		return utf8_put(b, 0x2029) == 0 ? 1 : -1;
	if (n && s[0] == 'x')
		digits = 2;
	else if (n && s[0] == 'u')
		digits = 4;
	else if (n && s[0] == 'U')
		digits = 8;
	if (!digits || hex_escape(s + 1, n - 1, digits, &cp) < 0 ||
	    utf8_put(b, cp) < 0)
		return -1;
	return (long)(digits + 1);
}

/*
 * Fold the line breaks inside a quoted scalar: the white space around a
 * break is dropped, one break becomes a space, and each further empty line
 * becomes "\n". s[*i] is the first break; *i ends after the white space
 * that follows the last one.
 */
static void fold_quoted_break(struct sbuf *b, const char *s, size_t n,
			      size_t *i)
{
	size_t breaks = 0;

	while (*i < n && s[*i] == '\n') {
		breaks++;
		(*i)++;
		while (*i < n && is_ws(s[*i]))
			(*i)++;
	}
	if (breaks == 1)
		sb_addc(b, ' ');
	while (breaks-- > 1)
		sb_addc(b, '\n');
}

/*
 * Decode the text between the quotes of a single- or double-quoted scalar.
 * The text may contain "\n" where the scalar spans lines.
 */
static int decode_quoted(struct parser *p, unsigned line, const char *s,
			 size_t n, char q, struct sbuf *b)
{
	size_t i = 0, j;
	long used;

	while (i < n) {
		if (is_ws(s[i])) {
			for (j = i; j < n && is_ws(s[j]); j++)
				;
			if (j < n && s[j] == '\n') {
				i = j;
				continue;
			}
			sb_add(b, s + i, j - i);
			i = j;
		} else if (s[i] == '\n') {
			fold_quoted_break(b, s, n, &i);
		} else if (q == '\'' && s[i] == '\'') {
			sb_addc(b, '\'');
			i += 2;
		} else if (q == '"' && s[i] == '\\' && i + 1 < n &&
			   s[i + 1] == '\n') {
			/* An escaped line break joins the lines directly. */
			for (i += 2; i < n && is_ws(s[i]); i++)
				;
		} else if (q == '"' && s[i] == '\\') {
			used = decode_escape(b, s + i + 1, n - i - 1);
			if (used < 0)
				return fail(p, line, "invalid escape sequence "
					    "\"\\%.1s\" in a double-quoted "
					    "string (\\0 and surrogates are "
					    "not allowed either)",
					    i + 1 < n ? s + i + 1 : "");
			i += 1 + (size_t)used;
		} else {
			sb_addc(b, s[i++]);
		}
	}
	return 0;
}

/*
 * Scan s[from..n) for the quote that closes a scalar opened with q.
 * Returns its index, or -1 with *resume set to where the next scan of the
 * extended text should start.
 */
static long scan_quote(const char *s, size_t from, size_t n, char q,
		       size_t *resume)
{
	size_t i = from;

	while (i < n) {
		if (q == '"' && s[i] == '\\') {
			i += 2;
			continue;
		}
		if (s[i] == q) {
			if (q == '\'' && i + 1 < n && s[i + 1] == '\'') {
				i += 2;
				continue;
			}
			return (long)i;
		}
		i++;
	}
	*resume = i;
	return -1;
}

/*
 * A quoted scalar in block context, starting at text (the opening quote)
 * on the line already consumed; it may continue over the next lines.
 */
static int parse_quoted(struct parser *p, const char *text, size_t n,
			unsigned line, struct fm_node *node)
{
	struct sbuf joined = { 0 }, out = { 0 };
	size_t resume = 1;
	unsigned last_line = line;
	const struct fm_line *l;
	const char *after;
	long close;
	int rc = -1;

	sb_add(&joined, text, n);
	while ((close = scan_quote(joined.s, resume, joined.len, text[0],
				   &resume)) < 0) {
		if (p->pos >= p->nlines) {
			fail(p, line, "the quoted string is not closed; add "
			     "the closing %c", text[0]);
			goto out;
		}
		l = &p->lines[p->pos++];
		sb_addc(&joined, '\n');
		sb_add(&joined, l->s, l->len);
		last_line = l->no;
		if (joined.failed) {
			fail(p, line, "out of memory");
			goto out;
		}
	}
	after = skip_ws(joined.s + close + 1, joined.s + joined.len);
	if (after < joined.s + joined.len && *after != '#') {
		fail(p, last_line, "unexpected text after the closing quote; put the whole "
		     "value inside the quotes");
		goto out;
	}
	if (decode_quoted(p, line, joined.s + 1, (size_t)close - 1, text[0],
			  &out) < 0)
		goto out;
	rc = sb_to_scalar(p, &out, line, node);
	out.s = NULL;
out:
	free(joined.s);
	free(out.s);
	return rc;
}

/* YAML reads "a: b" inside a plain value as a mapping, so reject it. */
static int check_plain_colon(struct parser *p, unsigned line, const char *s,
			     size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == ':' && (i + 1 == n || is_ws(s[i + 1])))
			return fail(p, line, "a plain value cannot contain "
				    "\": \" or end with \":\"; put the value "
				    "in quotes");
	return 0;
}

/*
 * A plain scalar starting on the consumed line; continuation lines must be
 * indented more than owner_indent and are folded into one line. A comment
 * ends the scalar.
 */
static int parse_plain(struct parser *p, const char *text, size_t n,
		       unsigned line, int owner_indent, struct fm_node *node)
{
	struct sbuf b = { 0 };
	size_t len = plain_extent(text, n), breaks = 0;
	bool multi = false, commented = len != trim_right(text, n);
	const struct fm_line *l;
	const char *c;

	if (check_plain_start(p, line, text[0]) < 0 ||
	    check_plain_colon(p, line, text, len) < 0)
		return -1;
	sb_add(&b, text, len);
	while (p->pos < p->nlines && !commented) {
		l = &p->lines[p->pos];
		if (line_is_blank(l)) {
			breaks++;
			p->pos++;
			continue;
		}
		if ((int)l->indent <= owner_indent || line_is_empty(l))
			break;
		c = skip_ws(l->s, l->s + l->len);
		n = (size_t)(l->s + l->len - c);
		len = plain_extent(c, n);
		commented = len != trim_right(c, n);
		if (check_plain_colon(p, l->no, c, len) < 0) {
			free(b.s);
			return -1;
		}
		/* One break folds to a space; each empty line is a "\n". */
		if (!breaks)
			sb_addc(&b, ' ');
		for (; breaks; breaks--)
			sb_addc(&b, '\n');
		sb_add(&b, c, len);
		multi = true;
		p->pos++;
	}
	if (!multi && is_null_text(b.s ? b.s : "", b.len)) {
		free(b.s);
		node->kind = FM_NULL;
		node->line = line;
		return 0;
	}
	return sb_to_scalar(p, &b, line, node);
}

/* ---- block scalars ---------------------------------------------------- */

struct block_header {
	char style;		/* '|' or '>' */
	char chomp;		/* '-', '+' or 0 for clip */
	unsigned indent;	/* explicit indentation, 0 when detected */
};

static int parse_block_header(struct parser *p, const char *s, size_t n,
			      unsigned line, struct block_header *h)
{
	size_t i;

	memset(h, 0, sizeof(*h));
	h->style = s[0];
	for (i = 1; i < n && i < 3; i++) {
		if ((s[i] == '-' || s[i] == '+') && !h->chomp)
			h->chomp = s[i];
		else if (s[i] >= '1' && s[i] <= '9' && !h->indent)
			h->indent = (unsigned)(s[i] - '0');
		else
			break;
	}
	if (i < n && !is_ws(s[i]))
		return fail(p, line, "invalid block scalar header \"%.*s\": "
			    "expected | or > with at most a chomping "
			    "indicator (- or +) and an indentation digit",
			    (int)(n > 16 ? 16 : n), s);
	if (skip_ws(s + i, s + n) < s + n && *skip_ws(s + i, s + n) != '#')
		return fail(p, line, "unexpected text after the block scalar "
			    "header; the value starts on the next line");
	return 0;
}

/* The indentation of the block scalar's content, or 0 if it is empty. */
static unsigned block_content_indent(const struct parser *p, int owner_indent,
				     const struct block_header *h)
{
	size_t i;

	if (h->indent)
		return (unsigned)(owner_indent < 0 ? 0 : owner_indent) +
		       h->indent;
	for (i = p->pos; i < p->nlines; i++) {
		if (line_is_blank(&p->lines[i]))
			continue;
		if ((int)p->lines[i].indent > owner_indent)
			return p->lines[i].indent;
		break;
	}
	return 0;
}

static bool more_indented(const struct fm_line *l, unsigned ci)
{
	return l->len > ci && is_ws(l->s[ci]);
}

/* Join the content lines [first, last) with literal or folded breaks. */
static void block_join(struct sbuf *b, const struct parser *p, size_t first,
		       size_t last, unsigned ci, char style)
{
	size_t i, empties = 0;
	bool seen = false, prev_more = false;
	const struct fm_line *l;

	for (i = first; i < last; i++) {
		l = &p->lines[i];
		if (line_is_blank(l) && l->len <= ci) {
			empties++;
			continue;
		}
		/*
		 * Folding joins two adjacent normal lines with a space, and
		 * the break before empty lines disappears; literal style and
		 * more-indented lines keep every break.
		 */
		if (seen && style == '>' && !prev_more &&
		    !more_indented(l, ci)) {
			if (!empties)
				sb_addc(b, ' ');
		} else if (seen) {
			sb_addc(b, '\n');
		}
		for (; empties; empties--)
			sb_addc(b, '\n');
		sb_add(b, l->s + ci, l->len - ci);
		prev_more = more_indented(l, ci);
		seen = true;
	}
}

static int parse_block_scalar(struct parser *p, const char *text, size_t n,
			      unsigned line, int owner_indent,
			      struct fm_node *node)
{
	struct block_header h;
	struct sbuf b = { 0 };
	size_t first = p->pos, last, end, trailing = 0;
	unsigned ci;

	if (parse_block_header(p, text, n, line, &h) < 0)
		return -1;
	ci = block_content_indent(p, owner_indent, &h);

	/* Take every line that is blank or indented at least ci. */
	end = first;
	while (ci && end < p->nlines &&
	       (line_is_blank(&p->lines[end]) || p->lines[end].indent >= ci))
		end++;
	if (!ci)
		while (end < p->nlines && line_is_blank(&p->lines[end]))
			end++;
	for (last = end; last > first && line_is_blank(&p->lines[last - 1]) &&
	     p->lines[last - 1].len <= ci; last--)
		trailing++;
	p->pos = end;

	block_join(&b, p, first, last, ci ? ci : 0, h.style);
	if (h.chomp != '-' && last > first)
		sb_addc(&b, '\n');
	while (h.chomp == '+' && trailing--)
		sb_addc(&b, '\n');
	return sb_to_scalar(p, &b, line, node);
}

/* ---- flow collections ------------------------------------------------- */

struct flow {
	const char *s;
	size_t n;
	size_t i;
	unsigned line;
};

static int flow_node(struct parser *p, struct flow *f, int depth,
		     bool key, struct fm_node *node);

static void flow_skip(struct flow *f)
{
	for (;;) {
		while (f->i < f->n && (is_ws(f->s[f->i]) || f->s[f->i] == '\n'))
			f->i++;
		if (f->i < f->n && f->s[f->i] == '#')
			while (f->i < f->n && f->s[f->i] != '\n')
				f->i++;
		else
			return;
	}
}

static bool flow_plain_ends(const struct flow *f, size_t i)
{
	char c = f->s[i];

	if (c == ',' || c == '[' || c == ']' || c == '{' || c == '}')
		return true;
	if (c == '#' && i > 0 && (is_ws(f->s[i - 1]) || f->s[i - 1] == '\n'))
		return true;
	if (c == ':' && (i + 1 == f->n || is_ws(f->s[i + 1]) ||
			 f->s[i + 1] == '\n' || f->s[i + 1] == ',' ||
			 f->s[i + 1] == '}' || f->s[i + 1] == ']'))
		return true;
	return false;
}

static int flow_plain(struct parser *p, struct flow *f, bool key,
		      struct fm_node *node)
{
	struct sbuf b = { 0 };
	size_t start = f->i, j;

	if (check_plain_start(p, f->line, f->s[start]) < 0)
		return -1;
	while (f->i < f->n && !flow_plain_ends(f, f->i))
		f->i++;
	for (j = start; j < f->i; j++)
		sb_addc(&b, f->s[j] == '\n' ? ' ' : f->s[j]);
	b.len = trim_right(b.s ? b.s : "", b.len);
	if (b.s)
		b.s[b.len] = '\0';
	if (!key && f->i < f->n && f->s[f->i] == ':') {
		free(b.s);
		return fail(p, f->line, "unexpected \":\" in a flow "
			    "collection; quote values that contain it");
	}
	if (is_null_text(b.s ? b.s : "", b.len)) {
		free(b.s);
		node->kind = FM_NULL;
		node->line = f->line;
		return 0;
	}
	return sb_to_scalar(p, &b, f->line, node);
}

static int flow_quoted(struct parser *p, struct flow *f, struct fm_node *node)
{
	struct sbuf b = { 0 };
	size_t resume;
	long close;

	close = scan_quote(f->s, f->i + 1, f->n, f->s[f->i], &resume);
	if (close < 0)
		return fail(p, f->line, "the quoted string is not closed");
	if (decode_quoted(p, f->line, f->s + f->i + 1,
			  (size_t)close - f->i - 1, f->s[f->i], &b) < 0) {
		free(b.s);
		return -1;
	}
	f->i = (size_t)close + 1;
	return sb_to_scalar(p, &b, f->line, node);
}

static int flow_seq(struct parser *p, struct flow *f, int depth,
		    struct fm_node *node)
{
	struct fm_node *slot;

	node->kind = FM_SEQ;
	node->line = f->line;
	f->i++;
	for (;;) {
		flow_skip(f);
		if (f->i < f->n && f->s[f->i] == ']')
			break;
		if (node_append(p, f->line, node, NULL, &slot) < 0 ||
		    flow_node(p, f, depth + 1, false, slot) < 0)
			return -1;
		flow_skip(f);
		if (f->i < f->n && f->s[f->i] == ',') {
			f->i++;
			continue;
		}
		if (f->i < f->n && f->s[f->i] == ']')
			break;
		return fail(p, f->line, "expected \",\" or \"]\" in a flow "
			    "sequence");
	}
	f->i++;
	return 0;
}

static int flow_map_entry(struct parser *p, struct flow *f, int depth,
			  struct fm_node *node)
{
	struct fm_node key = { 0 }, *slot;
	char *name;

	if (flow_node(p, f, depth + 1, true, &key) < 0) {
		node_free(&key);
		return -1;
	}
	if (key.kind != FM_SCALAR) {
		node_free(&key);
		return fail(p, f->line, "a flow mapping key must be a "
			    "non-empty scalar");
	}
	name = key.text;
	if (map_has_key(node, name)) {
		fail(p, f->line, "duplicate key \"%s\"", name);
		free(name);
		return -1;
	}
	if (node_append(p, f->line, node, name, &slot) < 0)
		return -1;
	flow_skip(f);
	if (f->i < f->n && f->s[f->i] == ':') {
		f->i++;
		flow_skip(f);
		if (f->i < f->n && (f->s[f->i] == ',' || f->s[f->i] == '}')) {
			slot->kind = FM_NULL;
			slot->line = f->line;
			return 0;
		}
		return flow_node(p, f, depth + 1, false, slot);
	}
	slot->kind = FM_NULL;
	slot->line = f->line;
	return 0;
}

static int flow_map(struct parser *p, struct flow *f, int depth,
		    struct fm_node *node)
{
	node->kind = FM_MAP;
	node->line = f->line;
	f->i++;
	for (;;) {
		flow_skip(f);
		if (f->i < f->n && f->s[f->i] == '}')
			break;
		if (flow_map_entry(p, f, depth, node) < 0)
			return -1;
		flow_skip(f);
		if (f->i < f->n && f->s[f->i] == ',') {
			f->i++;
			continue;
		}
		if (f->i < f->n && f->s[f->i] == '}')
			break;
		return fail(p, f->line, "expected \",\" or \"}\" in a flow "
			    "mapping");
	}
	f->i++;
	return 0;
}

static int flow_node(struct parser *p, struct flow *f, int depth, bool key,
		     struct fm_node *node)
{
	if (depth > FM_DEPTH_MAX)
		return fail(p, f->line, "values are nested deeper than %d "
			    "levels", FM_DEPTH_MAX);
	flow_skip(f);
	if (f->i >= f->n)
		return fail(p, f->line, "the flow collection is not closed");
	switch (f->s[f->i]) {
	case '[':
		return flow_seq(p, f, depth, node);
	case '{':
		return flow_map(p, f, depth, node);
	case '"':
	case '\'':
		return flow_quoted(p, f, node);
	default:
		return flow_plain(p, f, key, node);
	}
}

/* Bracket depth change over s[from..n), quotes skipped; *state carries an
 * open quote character (or 0) from one line to the next. */
static int flow_balance(const char *s, size_t from, size_t n, char *state)
{
	int d = 0;
	size_t i;

	for (i = from; i < n; i++) {
		if (*state) {
			if (*state == '"' && s[i] == '\\')
				i++;
			else if (s[i] == *state)
				*state = 0;
			continue;
		}
		if (s[i] == '#' && i > 0 && (is_ws(s[i - 1]) || s[i - 1] == '\n'))
			while (i + 1 < n && s[i + 1] != '\n')
				i++;
		else if (s[i] == '"' || s[i] == '\'')
			*state = s[i];
		else if (s[i] == '[' || s[i] == '{')
			d++;
		else if (s[i] == ']' || s[i] == '}')
			d--;
	}
	return d;
}

static int parse_flow(struct parser *p, const char *text, size_t n,
		      unsigned line, int depth, struct fm_node *node)
{
	struct sbuf joined = { 0 };
	struct flow f;
	char state = 0;
	int open, rc = -1;

	sb_add(&joined, text, n);
	open = flow_balance(joined.s, 0, joined.len, &state);
	while (open > 0 && p->pos < p->nlines && !joined.failed) {
		size_t from = joined.len + 1;

		sb_addc(&joined, '\n');
		sb_add(&joined, p->lines[p->pos].s, p->lines[p->pos].len);
		p->pos++;
		if (!joined.failed)
			open += flow_balance(joined.s, from, joined.len,
					     &state);
	}
	if (joined.failed) {
		free(joined.s);
		return fail(p, line, "out of memory");
	}
	f = (struct flow){ .s = joined.s, .n = joined.len, .i = 0,
			   .line = line };
	if (flow_node(p, &f, depth, false, node) < 0)
		goto out;
	flow_skip(&f);
	if (f.i < f.n) {
		fail(p, line, "unexpected text after the flow collection");
		goto out;
	}
	rc = 0;
out:
	free(joined.s);
	return rc;
}

/* ---- block collections ------------------------------------------------ */

static int parse_block_node(struct parser *p, int parent_indent,
			    bool seq_at_parent, int depth, unsigned line,
			    struct fm_node *node);
static int parse_line_node(struct parser *p, int owner_indent, int depth,
			   struct fm_node *node);

static int check_indent_tabs(struct parser *p, const struct fm_line *l)
{
	if (l->indent < l->len && l->s[l->indent] == '\t')
		return fail(p, l->no, "tab character in indentation; indent "
			    "with spaces");
	return 0;
}

/*
 * The value after "key:" or "- " on a consumed line: text is what follows
 * on that line (maybe empty), owner_indent the column of the key or dash.
 */
static int parse_value(struct parser *p, const char *text, size_t n,
		       unsigned line, int owner_indent, bool in_map,
		       int depth, struct fm_node *node)
{
	const char *s = skip_ws(text, text + n);

	n -= (size_t)(s - text);
	if (depth > FM_DEPTH_MAX)
		return fail(p, line, "values are nested deeper than %d levels",
			    FM_DEPTH_MAX);
	if (n == 0 || s[0] == '#')
		return parse_block_node(p, owner_indent, in_map, depth, line,
					node);
	switch (s[0]) {
	case '|':
	case '>':
		return parse_block_scalar(p, s, n, line, owner_indent, node);
	case '"':
	case '\'':
		return parse_quoted(p, s, n, line, node);
	case '[':
	case '{':
		return parse_flow(p, s, n, line, depth, node);
	default:
		return parse_plain(p, s, n, line, owner_indent, node);
	}
}

static int map_key(struct parser *p, const struct fm_line *l, long colon,
		   char **key)
{
	const char *s = line_content(l);
	struct sbuf b = { 0 };
	size_t klen = trim_right(s, (size_t)colon);

	if (klen == 0)
		return fail(p, l->no, "empty key before \":\"");
	if (s[0] == '?' && (klen == 1 || is_ws(s[1])))
		return fail(p, l->no, "complex keys (\"? \") are not "
			    "supported");
	if (s[0] == '"' || s[0] == '\'') {
		if (decode_quoted(p, l->no, s + 1, klen - 2, s[0], &b) < 0) {
			free(b.s);
			return -1;
		}
		sb_add(&b, "", 0);
	} else {
		if (check_plain_start(p, l->no, s[0]) < 0)
			return -1;
		sb_add(&b, s, klen);
	}
	if (b.failed) {
		free(b.s);
		return fail(p, l->no, "out of memory");
	}
	*key = b.s;
	return 0;
}

static int parse_map(struct parser *p, unsigned indent, int depth,
		     struct fm_node *node)
{
	const struct fm_line *l;
	struct fm_node *slot;
	char *key = NULL;
	size_t i;
	long colon;

	node->kind = FM_MAP;
	while ((i = next_content(p)) < p->nlines) {
		l = &p->lines[i];
		if (l->indent < indent)
			break;
		if (!node->line)
			node->line = l->no;
		if (l->indent > indent)
			return fail(p, l->no, "unexpected indentation; keys of "
				    "one mapping must line up");
		if (check_indent_tabs(p, l) < 0)
			return -1;
		colon = find_key_colon(line_content(l), line_content_len(l));
		if (is_seq_entry(line_content(l), line_content_len(l)) ||
		    colon < 0)
			return fail(p, l->no, "expected \"key: value\"");
		if (map_key(p, l, colon, &key) < 0)
			return -1;
		if (map_has_key(node, key)) {
			fail(p, l->no, "duplicate key \"%s\"", key);
			free(key);
			return -1;
		}
		if (node_append(p, l->no, node, key, &slot) < 0)
			return -1;
		p->pos = i + 1;
		if (parse_value(p, line_content(l) + colon + 1,
				line_content_len(l) - (size_t)colon - 1, l->no,
				(int)indent, true, depth + 1, slot) < 0)
			return -1;
	}
	return 0;
}

static int parse_seq(struct parser *p, unsigned indent, int depth,
		     struct fm_node *node)
{
	struct fm_line *l;
	struct fm_node *slot;
	const char *rest;
	size_t i;

	node->kind = FM_SEQ;
	while ((i = next_content(p)) < p->nlines) {
		l = &p->lines[i];
		if (l->indent < indent)
			break;
		if (!node->line)
			node->line = l->no;
		if (l->indent > indent)
			return fail(p, l->no, "unexpected indentation; items of "
				    "one list must line up");
		if (check_indent_tabs(p, l) < 0)
			return -1;
		if (!is_seq_entry(line_content(l), line_content_len(l)))
			break;
		if (node_append(p, l->no, node, NULL, &slot) < 0)
			return -1;
		rest = skip_ws(line_content(l) + 1, l->s + l->len);
		if (rest == l->s + l->len || *rest == '#') {
			p->pos = i + 1;
			if (parse_block_node(p, (int)indent, false, depth + 1,
					     l->no, slot) < 0)
				return -1;
			continue;
		}
		/* Reread the rest of the line as if it were indented to
		 * where it starts, so "- key: v" opens a nested mapping. */
		l->indent = (unsigned)(rest - l->s);
		p->pos = i;
		if (parse_line_node(p, (int)indent, depth + 1, slot) < 0)
			return -1;
	}
	return 0;
}

/* The node that starts at the content of line p->pos, not yet consumed. */
static int parse_line_node(struct parser *p, int owner_indent, int depth,
			   struct fm_node *node)
{
	struct fm_line *l = &p->lines[p->pos];
	const char *s = line_content(l);
	size_t n = line_content_len(l);

	if (depth > FM_DEPTH_MAX)
		return fail(p, l->no, "values are nested deeper than %d "
			    "levels", FM_DEPTH_MAX);
	if (check_indent_tabs(p, l) < 0)
		return -1;
	if (is_seq_entry(s, n))
		return parse_seq(p, l->indent, depth, node);
	if (find_key_colon(s, n) >= 0)
		return parse_map(p, l->indent, depth, node);
	p->pos++;
	return parse_value(p, s, n, l->no, owner_indent, false, depth, node);
}

/*
 * The value that follows a key or dash with nothing after it on its line:
 * a more indented block, a list at the key's own column (allowed for
 * mapping values), or nothing.
 */
static int parse_block_node(struct parser *p, int parent_indent,
			    bool seq_at_parent, int depth, unsigned line,
			    struct fm_node *node)
{
	size_t i = next_content(p);
	const struct fm_line *l;

	node->line = line;
	if (i < p->nlines) {
		l = &p->lines[i];
		if ((int)l->indent > parent_indent ||
		    (seq_at_parent && (int)l->indent == parent_indent &&
		     is_seq_entry(line_content(l), line_content_len(l)))) {
			p->pos = i;
			return parse_line_node(p, parent_indent, depth, node);
		}
	}
	node->kind = FM_NULL;
	return 0;
}

/* ---- entry points ----------------------------------------------------- */

static bool is_marker_line(const char *s, size_t n)
{
	if (n && s[n - 1] == '\r')
		n--;
	return n >= 3 && memcmp(s, "---", 3) == 0 &&
	       skip_ws(s + 3, s + n) == s + n;
}

int frontmatter_split(const char *buf, size_t len, const char *file,
		      size_t *start, size_t *end, size_t *body,
		      char *err, size_t errlen)
{
	size_t off = 0, next;
	const char *nl;
	unsigned line = 1;

	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		off = 3;
	nl = memchr(buf + off, '\n', len - off);
	if (!nl || !is_marker_line(buf + off, (size_t)(nl - buf) - off)) {
		snprintf(err, errlen, "%s:1: missing front matter: the file "
			 "must start with a \"---\" line, then name: and "
			 "description:, then another \"---\" line", file);
		return -1;
	}
	*start = (size_t)(nl - buf) + 1;
	for (off = *start; off < len; off = next) {
		line++;
		nl = memchr(buf + off, '\n', len - off);
		next = nl ? (size_t)(nl - buf) + 1 : len;
		if (is_marker_line(buf + off, (nl ? next - 1 : next) - off)) {
			*end = off;
			*body = next;
			return 0;
		}
		if (off - *start > FM_MAX)
			break;
	}
	if (off - *start > FM_MAX)
		snprintf(err, errlen, "%s:%u: the front matter is longer than "
			 "%d bytes; move long text into the body", file, line,
			 FM_MAX);
	else
		snprintf(err, errlen, "%s:1: the front matter is not closed: "
			 "add a \"---\" line after the last key", file);
	return -1;
}

static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need, i;
	uint32_t cp;

	if (c < 0x80)
		return c ? 1 : 0;
	if (c >= 0xC2 && c <= 0xDF)
		need = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 4, cp = c & 0x07;
	else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return need;
}

int frontmatter_check_utf8(const char *buf, size_t len, const char *file,
			   char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)buf;
	unsigned line = 1;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq_len(s + i, len - i);
		if (!n) {
			snprintf(err, errlen, "%s:%u: %s at byte %zu; save the "
				 "file as UTF-8", file, line,
				 s[i] ? "invalid UTF-8" : "NUL byte", i);
			return -1;
		}
		if (s[i] == '\n')
			line++;
		i += n;
	}
	return 0;
}

/* Cut the front matter into lines; reject control characters. */
static int split_lines(struct parser *p, const char *s, size_t n,
		       unsigned first_no)
{
	size_t off = 0, len, cap = 0, k;
	const char *nl;
	struct fm_line *grown, *l;

	while (off < n) {
		nl = memchr(s + off, '\n', n - off);
		len = (nl ? (size_t)(nl - s) : n) - off;
		if (p->nlines == cap) {
			cap = cap ? cap * 2 : 32;
			grown = realloc(p->lines, cap * sizeof(*grown));
			if (!grown)
				return fail(p, first_no, "out of memory");
			p->lines = grown;
		}
		l = &p->lines[p->nlines++];
		l->s = s + off;
		l->len = len && s[off + len - 1] == '\r' ? len - 1 : len;
		l->no = first_no + (unsigned)(p->nlines - 1);
		for (l->indent = 0; l->indent < l->len &&
		     l->s[l->indent] == ' '; l->indent++)
			;
		for (k = 0; k < l->len; k++)
			if (((unsigned char)l->s[k] < 0x20 && l->s[k] != '\t') ||
			    l->s[k] == 0x7f)
				return fail(p, l->no, "control character 0x%02x "
					    "in the front matter",
					    (unsigned char)l->s[k]);
		off += len + 1;
	}
	return 0;
}

int frontmatter_parse(const char *buf, size_t len, const char *file,
		      struct frontmatter *fm, char *err, size_t errlen)
{
	struct parser p = { .file = file, .err = err, .errlen = errlen };
	size_t start, end, body, i;
	int rc = -1;

	memset(fm, 0, sizeof(*fm));
	if (frontmatter_check_utf8(buf, len, file, err, errlen) < 0 ||
	    frontmatter_split(buf, len, file, &start, &end, &body, err,
			      errlen) < 0)
		return -1;
	if (split_lines(&p, buf + start, end - start, 2) < 0)
		goto out;

	i = next_content(&p);
	if (i < p.nlines) {
		if (p.lines[i].indent > 0 ||
		    find_key_colon(line_content(&p.lines[i]),
				   line_content_len(&p.lines[i])) < 0) {
			fail(&p, p.lines[i].no, "the front matter must be a "
			     "mapping of \"key: value\" lines starting in the "
			     "first column");
			goto out;
		}
		if (parse_map(&p, 0, 1, &fm->root) < 0)
			goto out;
		i = next_content(&p);
		if (i < p.nlines) {
			fail(&p, p.lines[i].no, "expected \"key: value\"");
			goto out;
		}
	}
	fm->body_offset = body;
	fm->body_line = 1;
	for (i = 0; i < body; i++)
		if (buf[i] == '\n')
			fm->body_line++;
	rc = 0;
out:
	if (rc < 0)
		node_free(&fm->root);
	free(p.lines);
	return rc;
}

void frontmatter_free(struct frontmatter *fm)
{
	node_free(&fm->root);
}

const struct fm_node *fm_map_get(const struct fm_node *map, const char *key)
{
	size_t i;

	if (!map || map->kind != FM_MAP)
		return NULL;
	for (i = 0; i < map->count; i++)
		if (map->keys[i] && strcmp(map->keys[i], key) == 0)
			return &map->items[i];
	return NULL;
}
