/*
 * Messages from the worker to the supervisor, and waiting for replies.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "channel.h"
#include "text.h"

#define LOG_MESSAGE_MAX 4096	/* the "log" message field's limit */

void channel_die(const char *fmt, ...)
{
	va_list ap;

	fputs("coworker-worker: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void channel_init(struct channel *ch, int sock)
{
	ch->sock = sock;
	ch->next_id = 1;
	ch->cancelled = false;
}

static long channel_take_id(struct channel *ch)
{
	if (ch->next_id > PROTO_ID_MAX)
		channel_die("request ids exhausted after %ld messages",
			    PROTO_ID_MAX);
	return ch->next_id++;
}

/* Receive one message; a closed socket or a bad frame ends the worker. */
static void channel_receive(struct channel *ch, const char *phase,
			    struct proto_msg *msg)
{
	char err[256];
	int rc;

	rc = proto_recv(ch->sock, PROTO_FROM_SUPERVISOR, msg, err, sizeof(err));
	if (rc == 0)
		channel_die("the supervisor closed the socket while %s", phase);
	if (rc < 0)
		channel_die("protocol violation while %s: %s", phase, err);
}

void channel_event(struct channel *ch, enum proto_type_id type,
		   const cJSON *fields)
{
	char err[256];

	if (proto_send(ch->sock, type, channel_take_id(ch), fields, -1,
		       err, sizeof(err)) < 0)
		channel_die("cannot send to the supervisor: %s", err);
}

void channel_request(struct channel *ch, enum proto_type_id type,
		     const cJSON *fields, int fd, struct proto_msg *reply)
{
	char err[256];
	long id = channel_take_id(ch);

	if (proto_send(ch->sock, type, id, fields, fd, err, sizeof(err)) < 0)
		channel_die("cannot send to the supervisor: %s", err);

	/* The supervisor answers a request even after it sent "cancel". */
	for (;;) {
		channel_receive(ch, "waiting for a reply", reply);
		if (reply->type->id != PROTO_CANCEL)
			break;
		ch->cancelled = true;
		proto_msg_free(reply);
	}
	if (reply->type->id != PROTO_REPLY)
		channel_die("protocol violation while waiting for a reply: "
			    "unexpected \"%s\" message", reply->type->name);
	if (reply->id != id)
		channel_die("protocol violation while waiting for a reply: "
			    "reply has id %ld, expected %ld", reply->id, id);
}

void channel_take_cancel(struct channel *ch, const char *phase)
{
	struct proto_msg msg;

	channel_receive(ch, phase, &msg);
	if (msg.type->id != PROTO_CANCEL)
		channel_die("protocol violation while %s: unexpected \"%s\" "
			    "message", phase, msg.type->name);
	proto_msg_free(&msg);
	ch->cancelled = true;
}

int channel_next(struct channel *ch, struct proto_msg *msg)
{
	char err[256];
	int rc;

	rc = proto_recv(ch->sock, PROTO_FROM_SUPERVISOR, msg, err, sizeof(err));
	if (rc < 0)
		channel_die("protocol violation while waiting for a task: %s",
			    err);
	return rc;
}

void channel_expect(struct channel *ch, enum proto_type_id want,
		    const char *phase, struct proto_msg *msg)
{
	channel_receive(ch, phase, msg);
	if (msg->type->id != want)
		channel_die("protocol violation while %s: unexpected \"%s\" "
			    "message", phase, msg->type->name);
}

void channel_log(struct channel *ch, const char *level, const char *fmt, ...)
{
	/* Room past the limit, so a cut by vsnprintf is cut again cleanly. */
	char message[LOG_MESSAGE_MAX + 8];
	cJSON *fields;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	text_truncate(message, LOG_MESSAGE_MAX);

	fields = cJSON_CreateObject();
	if (!fields || !cJSON_AddStringToObject(fields, "level", level) ||
	    !cJSON_AddStringToObject(fields, "message", message))
		channel_die("out of memory");
	channel_event(ch, PROTO_LOG, fields);
	cJSON_Delete(fields);
}
