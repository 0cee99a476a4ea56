/*
 * Growable byte buffers with a hard maximum, and UTF-8 helpers for text that
 * goes into JSON strings (file contents, command output, model text).
 */
#ifndef COWORKER_WORKER_TEXT_H
#define COWORKER_WORKER_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;		/* NUL-terminated after every append */
	size_t len;
	size_t cap;
	size_t max;		/* appends beyond this many bytes fail */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);

/* Append len bytes; returns 0, or -1 when out of memory or over b->max. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Take the data out of b (never NULL on success); b is left empty. */
char *buf_take(struct buf *b);

/*
 * Copy len bytes into a new NUL-terminated string in which every NUL byte
 * and every byte that is not part of valid UTF-8 becomes U+FFFD, so the
 * result can be a JSON string. Returns NULL when out of memory.
 */
char *text_from_bytes(const char *data, size_t len);

/* Cut s in place to at most max bytes without splitting a UTF-8 sequence. */
void text_truncate(char *s, size_t max);

#endif
