/*
 * Positions of JSON values, for messages that point at a rule.
 *
 * cJSON reports where a syntax error is but keeps no position for the
 * values it parses. Once cJSON has accepted a text, its structure is known
 * to be valid, so a small walker can step through the raw bytes in the
 * same order as the tree (objects and arrays keep document order in cJSON,
 * duplicate keys included) and note where each value and key starts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal.h"

struct pos_entry {
	const cJSON *node;
	size_t key_off;		/* SIZE_MAX for array elements and the root */
	size_t val_off;
};

struct policy_json_pos {
	struct pos_entry *entries;
	size_t count, cap;
	size_t *line_starts;	/* offset of the first byte of each line */
	size_t nlines;
	bool oom;
};

static void record(struct policy_json_pos *m, const cJSON *node,
		   size_t key_off, size_t val_off)
{
	struct pos_entry *grown;
	size_t cap;

	if (m->oom)
		return;
	if (m->count == m->cap) {
		cap = m->cap ? m->cap * 2 : 64;
		grown = realloc(m->entries, cap * sizeof(*grown));
		if (!grown) {
			m->oom = true;
			return;
		}
		m->entries = grown;
		m->cap = cap;
	}
	m->entries[m->count].node = node;
	m->entries[m->count].key_off = key_off;
	m->entries[m->count].val_off = val_off;
	m->count++;
}

static size_t skip_ws(const char *t, size_t len, size_t i)
{
	while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' ||
			   t[i] == '\r'))
		i++;
	return i;
}

/* i is at the opening quote; returns the index after the closing one. */
static size_t skip_string(const char *t, size_t len, size_t i)
{
	for (i++; i < len && t[i] != '"'; i++) {
		if (t[i] == '\\')
			i++;
	}
	return i < len ? i + 1 : len;
}

static size_t walk(struct policy_json_pos *m, const char *t, size_t len,
		   size_t i, const cJSON *node, size_t key_off);

/* Walk the members of an object or the elements of an array at t[i]. */
static size_t walk_children(struct policy_json_pos *m, const char *t,
			    size_t len, size_t i, const cJSON *node)
{
	const cJSON *child = node ? node->child : NULL;
	char close = t[i] == '{' ? '}' : ']';
	size_t key_off;

	i = skip_ws(t, len, i + 1);
	if (i < len && t[i] == close)
		return i + 1;
	while (i < len) {
		key_off = SIZE_MAX;
		if (close == '}') {
			key_off = i;
			i = skip_ws(t, len, skip_string(t, len, i));
			i++;	/* the ":" */
		}
		i = walk(m, t, len, i, child, key_off);
		child = child ? child->next : NULL;
		i = skip_ws(t, len, i);
		if (i >= len || t[i] != ',')
			break;
		i = skip_ws(t, len, i + 1);
	}
	return i < len ? i + 1 : len;
}

static size_t walk(struct policy_json_pos *m, const char *t, size_t len,
		   size_t i, const cJSON *node, size_t key_off)
{
	i = skip_ws(t, len, i);
	if (node)
		record(m, node, key_off, i);
	if (i >= len)
		return len;
	if (t[i] == '{' || t[i] == '[')
		return walk_children(m, t, len, i, node);
	if (t[i] == '"')
		return skip_string(t, len, i);
	while (i < len && !strchr(",]} \t\r\n", t[i]))
		i++;
	return i;
}

static int by_node(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct pos_entry *)a)->node;
	uintptr_t y = (uintptr_t)((const struct pos_entry *)b)->node;

	return x < y ? -1 : x > y;
}

static int index_lines(struct policy_json_pos *m, const char *t, size_t len)
{
	size_t i, n = 1;

	for (i = 0; i < len; i++)
		n += t[i] == '\n';
	m->line_starts = malloc(n * sizeof(*m->line_starts));
	if (!m->line_starts)
		return -1;
	m->line_starts[0] = 0;
	m->nlines = 1;
	for (i = 0; i < len; i++) {
		if (t[i] == '\n')
			m->line_starts[m->nlines++] = i + 1;
	}
	return 0;
}

struct policy_json_pos *policy_json_pos_build(const char *text, size_t len,
					      const cJSON *root)
{
	struct policy_json_pos *m = calloc(1, sizeof(*m));
	size_t start = 0;

	if (!m)
		return NULL;
	/* cJSON skips a UTF-8 byte order mark; so do we. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		start = 3;
	walk(m, text, len, start, root, SIZE_MAX);
	if (m->oom || index_lines(m, text, len) < 0) {
		policy_json_pos_free(m);
		return NULL;
	}
	qsort(m->entries, m->count, sizeof(*m->entries), by_node);
	return m;
}

void policy_json_pos_get(const struct policy_json_pos *m, const cJSON *item,
			 bool key, int *line, int *column)
{
	struct pos_entry probe = { item, 0, 0 };
	const struct pos_entry *e;
	size_t off, lo = 0, hi;

	*line = 0;
	*column = 0;
	if (!m)
		return;
	e = bsearch(&probe, m->entries, m->count, sizeof(*m->entries),
		    by_node);
	if (!e)
		return;
	off = key && e->key_off != SIZE_MAX ? e->key_off : e->val_off;

	/* The last line that starts at or before off. */
	hi = m->nlines;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->line_starts[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	*line = (int)(lo + 1);
	*column = (int)(off - m->line_starts[lo] + 1);
}

void policy_json_pos_free(struct policy_json_pos *m)
{
	if (!m)
		return;
	free(m->entries);
	free(m->line_starts);
	free(m);
}
