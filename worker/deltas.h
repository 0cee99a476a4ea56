/*
 * Streamed model text for the supervisor: "text_delta" events, sent only
 * when the config asked for them. Pieces from the event stream are often a
 * few bytes each, so they are gathered and sent when enough text or time
 * has built up; the concatenation of all events is the text as it came.
 */
#ifndef COWORKER_WORKER_DELTAS_H
#define COWORKER_WORKER_DELTAS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "channel.h"
#include "text.h"

/* Send once this much text is waiting, or this long after the last send. */
#define DELTAS_FLUSH_BYTES 1024
#define DELTAS_FLUSH_MS 50L

/* Largest text of one event: well under the protocol's string limit. */
#define DELTAS_EVENT_MAX (16 * 1024)

struct deltas {
	struct channel *ch;
	bool enabled;
	struct buf pending;	/* text not sent yet, at most DELTAS_EVENT_MAX */
	struct timespec last;	/* when the last event went out */
	unsigned long events;	/* sent so far, for tests and logs */
};

void deltas_init(struct deltas *d, struct channel *ch, bool enabled);

/* Add a piece of the model's text (valid UTF-8); may send events. */
void deltas_push(struct deltas *d, const char *text, size_t len);

/*
 * Send the waiting text once DELTAS_FLUSH_MS have passed since the last
 * event. The transfer loop calls it when it wakes without new data, so
 * text that came before a pause in the stream is not held back.
 */
void deltas_tick(struct deltas *d);

/* Send whatever text is still waiting. */
void deltas_flush(struct deltas *d);

void deltas_free(struct deltas *d);

/*
 * The length of the longest prefix of text (len bytes) that is at most max
 * bytes and does not end inside a UTF-8 sequence.
 */
size_t deltas_cut(const char *text, size_t len, size_t max);

#endif
