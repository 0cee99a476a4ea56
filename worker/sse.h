/*
 * An incremental parser for Server-Sent Events (the WHATWG HTML "event
 * stream" format), as model APIs use it for streamed responses.
 *
 * Bytes go in as they arrive, split anywhere: inside a line, between CR and
 * LF, inside a UTF-8 sequence. Lines end in CRLF, LF or CR. Each complete
 * event (a blank line after at least one "data:" line) goes to the callback
 * with its event name, its data lines joined by LF, and the last id. Lines
 * starting with ":" are comments. Lines and events have hard size limits
 * fixed when the parser is created.
 */
#ifndef COWORKER_WORKER_SSE_H
#define COWORKER_WORKER_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

/* Defaults: one data line or one event larger than these is an error. */
#define SSE_LINE_MAX (1024L * 1024)
#define SSE_EVENT_MAX (4L * 1024 * 1024)
#define SSE_NAME_MAX 64
#define SSE_ID_MAX 256

struct sse_event {
	const char *name;	/* the "event:" field, "message" when absent */
	const char *data;	/* NUL-terminated, data lines joined by LF */
	size_t data_len;
	const char *id;		/* last "id:" seen, "" when none */
};

/*
 * Called once per event; the event's strings are valid only during the
 * call. Return 0 to go on, or -1 with err set to stop the parser.
 */
typedef int (*sse_event_fn)(void *ctx, const struct sse_event *ev,
			    char *err, size_t errlen);

struct sse_parser {
	sse_event_fn on_event;
	void *ctx;
	struct buf line;	/* the line being read, without its end */
	struct buf data;	/* data lines of the pending event */
	bool has_data;		/* a data: line was seen for this event */
	bool after_cr;		/* a LF right after CR ends nothing */
	bool failed;		/* an error stopped the parser for good */
	char name[SSE_NAME_MAX + 1];
	char id[SSE_ID_MAX + 1];
	long retry_ms;		/* last valid "retry:" value, -1 when none */
	size_t events;		/* events dispatched */
};

/* Set up p; line_max and event_max of 0 take the defaults above. */
void sse_init(struct sse_parser *p, size_t line_max, size_t event_max,
	      sse_event_fn on_event, void *ctx);

/*
 * Feed len bytes. Returns 0, or -1 with err when a limit was exceeded or
 * the callback failed; after that every call fails.
 */
int sse_feed(struct sse_parser *p, const char *data, size_t len,
	     char *err, size_t errlen);

/*
 * The stream ended. An event without its closing blank line is discarded,
 * as the format says; returns true when such a partial event (or line) was
 * pending, which tells a caller the stream was cut.
 */
bool sse_finish(struct sse_parser *p);

void sse_free(struct sse_parser *p);

#endif
