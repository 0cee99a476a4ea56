/*
 * Gathering streamed text into "text_delta" events.
 */
#include <stdlib.h>
#include <string.h>

#include "deltas.h"

void deltas_init(struct deltas *d, struct channel *ch, bool enabled)
{
	memset(d, 0, sizeof(*d));
	d->ch = ch;
	d->enabled = enabled;
	buf_init(&d->pending, DELTAS_EVENT_MAX);
	clock_gettime(CLOCK_MONOTONIC, &d->last);
}

void deltas_free(struct deltas *d)
{
	buf_free(&d->pending);
}

size_t deltas_cut(const char *text, size_t len, size_t max)
{
	size_t cut;

	if (len <= max)
		return len;
	cut = max;
	/* Back off continuation bytes (10xxxxxx) to a sequence's start. */
	while (cut > 0 && ((unsigned char)text[cut] & 0xc0) == 0x80)
		cut--;
	/* Longer than any UTF-8 sequence: not UTF-8, any cut will do. */
	if (cut == 0 && max >= 4)
		return max;
	return cut;
}

static void deltas_send(struct deltas *d, const char *text, size_t len)
{
	cJSON *f;
	char *copy;

	if (len == 0)
		return;
	copy = strndup(text, len);
	f = cJSON_CreateObject();
	if (!copy || !f || !cJSON_AddStringToObject(f, "text", copy))
		channel_die("out of memory");
	channel_event(d->ch, PROTO_TEXT_DELTA, f);
	cJSON_Delete(f);
	free(copy);
	d->events++;
	clock_gettime(CLOCK_MONOTONIC, &d->last);
}

void deltas_flush(struct deltas *d)
{
	if (!d->enabled || d->pending.len == 0)
		return;
	deltas_send(d, d->pending.data, d->pending.len);
	/* Keep the allocation: the next pieces are on their way. */
	d->pending.len = 0;
	d->pending.data[0] = '\0';
}

static long since_last_ms(const struct deltas *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - d->last.tv_sec) * 1000 +
	       (long)(now.tv_nsec - d->last.tv_nsec) / 1000000;
}

void deltas_push(struct deltas *d, const char *text, size_t len)
{
	size_t part;

	if (!d->enabled)
		return;
	while (len > 0) {
		part = deltas_cut(text, len, DELTAS_EVENT_MAX - d->pending.len);
		/* Full, or the next sequence does not fit: start an event. */
		if (part == 0) {
			deltas_flush(d);
			continue;
		}
		if (buf_append(&d->pending, text, part) < 0)
			channel_die("out of memory");
		text += part;
		len -= part;
	}
	if (d->pending.len >= DELTAS_FLUSH_BYTES ||
	    since_last_ms(d) >= DELTAS_FLUSH_MS)
		deltas_flush(d);
}

void deltas_tick(struct deltas *d)
{
	if (d->enabled && d->pending.len > 0 &&
	    since_last_ms(d) >= DELTAS_FLUSH_MS)
		deltas_flush(d);
}
