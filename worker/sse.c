/*
 * Server-Sent Events, parsed incrementally.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sse.h"
#include "lib/error.h"

static void buf_clear(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void sse_init(struct sse_parser *p, size_t line_max, size_t event_max,
	      sse_event_fn on_event, void *ctx)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->line, line_max ? line_max : SSE_LINE_MAX);
	buf_init(&p->data, event_max ? event_max : SSE_EVENT_MAX);
	p->on_event = on_event;
	p->ctx = ctx;
	p->retry_ms = -1;
}

void sse_free(struct sse_parser *p)
{
	buf_free(&p->line);
	buf_free(&p->data);
}

static void event_reset(struct sse_parser *p)
{
	buf_clear(&p->data);
	p->has_data = false;
	p->name[0] = '\0';
}

/* A blank line ends the event; one without data lines is dropped. */
static int event_dispatch(struct sse_parser *p, char *err, size_t errlen)
{
	struct sse_event ev;
	int rc;

	if (!p->has_data) {
		event_reset(p);
		return 0;
	}
	/* The data buffer ends in the LF that followed the last line. */
	if (p->data.len && p->data.data[p->data.len - 1] == '\n')
		p->data.data[--p->data.len] = '\0';
	ev.name = p->name[0] ? p->name : "message";
	ev.data = p->data.data ? p->data.data : "";
	ev.data_len = p->data.len;
	ev.id = p->id;
	p->events++;
	rc = p->on_event(p->ctx, &ev, err, errlen);
	event_reset(p);
	return rc;
}

static void field_retry(struct sse_parser *p, const char *value, size_t len)
{
	long ms = 0;
	size_t i;

	if (len == 0 || len > 9)
		return;
	for (i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return;
		ms = ms * 10 + (value[i] - '0');
	}
	p->retry_ms = ms;
}

static int field_apply(struct sse_parser *p, const char *name, size_t nlen,
		       const char *value, size_t vlen, char *err,
		       size_t errlen)
{
	if (nlen == 4 && memcmp(name, "data", 4) == 0) {
		p->has_data = true;
		if (buf_append(&p->data, value, vlen) < 0 ||
		    buf_append(&p->data, "\n", 1) < 0)
			return error_set(err, errlen, "an event stream event exceeds "
				    "%zu bytes", p->data.max);
	} else if (nlen == 5 && memcmp(name, "event", 5) == 0) {
		if (vlen > SSE_NAME_MAX)
			return error_set(err, errlen, "an event stream event name "
				    "exceeds %d bytes", SSE_NAME_MAX);
		memcpy(p->name, value, vlen);
		p->name[vlen] = '\0';
	} else if (nlen == 2 && memcmp(name, "id", 2) == 0) {
		/* The format ignores ids holding NUL; long ones are cut. */
		if (!memchr(value, '\0', vlen)) {
			if (vlen > SSE_ID_MAX)
				vlen = SSE_ID_MAX;
			memcpy(p->id, value, vlen);
			p->id[vlen] = '\0';
		}
	} else if (nlen == 5 && memcmp(name, "retry", 5) == 0) {
		field_retry(p, value, vlen);
	}
	/* Any other field name is ignored, as the format requires. */
	return 0;
}

/* One complete line, without its end. */
static int line_process(struct sse_parser *p, char *err, size_t errlen)
{
	const char *line = p->line.data ? p->line.data : "";
	size_t len = p->line.len, nlen;
	const char *colon, *value;
	size_t vlen;

	if (len == 0)
		return event_dispatch(p, err, errlen);
	if (line[0] == ':')
		return 0;

	colon = memchr(line, ':', len);
	nlen = colon ? (size_t)(colon - line) : len;
	value = colon ? colon + 1 : line + len;
	vlen = colon ? len - nlen - 1 : 0;
	/* One space after the colon belongs to the syntax, not the value. */
	if (vlen && value[0] == ' ') {
		value++;
		vlen--;
	}
	return field_apply(p, line, nlen, value, vlen, err, errlen);
}

static int line_end(struct sse_parser *p, char *err, size_t errlen)
{
	int rc = line_process(p, err, errlen);

	buf_clear(&p->line);
	return rc;
}

int sse_feed(struct sse_parser *p, const char *data, size_t len,
	     char *err, size_t errlen)
{
	const char *end = data + len, *stop;
	size_t run;

	if (p->failed)
		return error_set(err, errlen, "the event stream parser stopped "
			    "after an earlier error");
	while (data < end) {
		if (p->after_cr) {
			p->after_cr = false;
			if (*data == '\n') {
				data++;
				continue;
			}
		}
		if (*data == '\r' || *data == '\n') {
			p->after_cr = *data == '\r';
			data++;
			if (line_end(p, err, errlen) < 0)
				goto bad;
			continue;
		}

		/* The rest of this line, up to the next CR or LF. */
		for (stop = data; stop < end && *stop != '\r' && *stop != '\n';
		     stop++)
			;
		run = (size_t)(stop - data);
		if (buf_append(&p->line, data, run) < 0) {
			error_set(err, errlen, "an event stream line exceeds %zu "
			     "bytes", p->line.max);
			goto bad;
		}
		data = stop;
	}
	return 0;
bad:
	p->failed = true;
	return -1;
}

bool sse_finish(struct sse_parser *p)
{
	bool partial = p->line.len > 0 || p->has_data;

	buf_clear(&p->line);
	event_reset(p);
	p->after_cr = false;
	return partial;
}
