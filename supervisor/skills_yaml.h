/*
 * A parser for the YAML front matter of SKILL.md files.
 *
 * It reads the subset that Agent Skills use, not all of YAML: block
 * mappings and sequences (nested up to FM_DEPTH_MAX levels), flow
 * sequences and mappings, plain, single- and double-quoted scalars, literal
 * and folded block scalars with chomping and indentation indicators, and
 * comments. Anchors, aliases, tags, complex keys and multiple documents are
 * rejected with a message naming the line. Every scalar stays a string:
 * "true" and "1.0" are not converted, but an empty value, "~" and "null"
 * become FM_NULL.
 *
 * The module is pure: it works on a buffer and never touches files.
 */
#ifndef COWORKER_SKILLS_YAML_H
#define COWORKER_SKILLS_YAML_H

#include <stdbool.h>
#include <stddef.h>

/* Largest front matter accepted, in bytes, the two "---" lines included. */
#define FM_MAX (64 * 1024)

/* Deepest nesting of mappings and sequences accepted. */
#define FM_DEPTH_MAX 16

enum fm_kind {
	FM_NULL,
	FM_SCALAR,
	FM_SEQ,
	FM_MAP,
};

struct fm_node {
	enum fm_kind kind;
	unsigned line;		/* 1-based line in the file where it starts */
	char *text;		/* FM_SCALAR: the value, valid UTF-8 */
	struct fm_node *items;	/* FM_SEQ items, or FM_MAP values */
	char **keys;		/* FM_MAP: keys, parallel to items */
	size_t count;
};

struct frontmatter {
	struct fm_node root;	/* FM_MAP, or FM_NULL when it is empty */
	size_t body_offset;	/* first byte after the closing "---" line */
	unsigned body_line;	/* line number of that byte */
};

/*
 * Find the front matter of buf: the first line must be "---" (after an
 * optional UTF-8 byte order mark) and the next "---" line closes it. Sets
 * *start to the first byte after the opening line, *end to the first byte
 * of the closing line and *body to the first byte after it. Returns 0, or
 * -1 with err as "file:line: message".
 */
int frontmatter_split(const char *buf, size_t len, const char *file,
		      size_t *start, size_t *end, size_t *body,
		      char *err, size_t errlen);

/*
 * Check that buf is valid UTF-8 without NUL bytes (overlong forms and
 * surrogates are invalid). Returns 0, or -1 with err as "file:line: message".
 */
int frontmatter_check_utf8(const char *buf, size_t len, const char *file,
			   char *err, size_t errlen);

/*
 * Parse the front matter of a whole SKILL.md held in buf. On success fm
 * owns its nodes until frontmatter_free. Returns 0, or -1 with err as
 * "file:line: message" and fm left empty.
 */
int frontmatter_parse(const char *buf, size_t len, const char *file,
		      struct frontmatter *fm, char *err, size_t errlen);

void frontmatter_free(struct frontmatter *fm);

/* The value of key in a mapping node, or NULL when absent. */
const struct fm_node *fm_map_get(const struct fm_node *map, const char *key);

#endif
