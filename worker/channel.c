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
}

static long channel_take_id(struct channel *ch)
{
	if (ch->next_id > PROTO_ID_MAX)
		channel_die("request ids exhausted after %ld messages",
			    PROTO_ID_MAX);
	return ch->next_id++;
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

	channel_expect(ch, PROTO_REPLY, "waiting for a reply", reply);
	if (reply->id != id)
		channel_die("protocol violation while waiting for a reply: "
			    "reply has id %ld, expected %ld", reply->id, id);
}

void channel_expect(struct channel *ch, enum proto_type_id want,
		    const char *phase, struct proto_msg *msg)
{
	char err[256];
	int rc;

	rc = proto_recv(ch->sock, PROTO_FROM_SUPERVISOR, msg, err, sizeof(err));
	if (rc == 0)
		channel_die("the supervisor closed the socket while %s", phase);
	if (rc < 0)
		channel_die("protocol violation while %s: %s", phase, err);
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
