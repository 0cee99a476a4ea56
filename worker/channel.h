/*
 * The worker's side of the protocol: numbered messages to the supervisor
 * and blocking requests that wait for their one reply.
 *
 * The supervisor is the only peer. Anything it sends that is not the reply
 * being waited for is a protocol violation, and the worker exits at once
 * with status 1 rather than trying to resynchronise. The one exception is
 * "cancel", which may arrive at any moment of a task: it is noted in
 * ch->cancelled and the wait goes on, so the pending reply still comes.
 */
#ifndef COWORKER_WORKER_CHANNEL_H
#define COWORKER_WORKER_CHANNEL_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "proto/proto.h"

struct channel {
	int sock;
	long next_id;		/* every message the worker sends takes one */
	bool cancelled;		/* "cancel" came during the current task */
};

void channel_init(struct channel *ch, int sock);

/* Send an event; exits the worker when the socket fails. */
void channel_event(struct channel *ch, enum proto_type_id type,
		   const cJSON *fields);

/*
 * Send a request (with fd, or -1) and wait for its reply, which is stored
 * in reply for the caller to free with proto_msg_free. Exits the worker on
 * any other message, a closed socket or a malformed frame.
 */
void channel_request(struct channel *ch, enum proto_type_id type,
		     const cJSON *fields, int fd, struct proto_msg *reply);

/*
 * Receive the next message, which must be of type want; exits the worker
 * otherwise, naming phase in the message.
 */
void channel_expect(struct channel *ch, enum proto_type_id want,
		    const char *phase, struct proto_msg *msg);

/*
 * The socket is readable in the middle of a task: take the one message
 * waiting, which must be "cancel" (ch->cancelled is set). Exits the worker
 * on anything else or a closed socket.
 */
void channel_take_cancel(struct channel *ch, const char *phase);

/*
 * Between tasks: wait for the supervisor's next message. Returns 1 with
 * msg filled, or 0 when the supervisor closed the socket (the worker's
 * normal end). Exits the worker on a malformed frame.
 */
int channel_next(struct channel *ch, struct proto_msg *msg);

/* Send a "log" event; message is cut to fit the protocol's limit. */
void channel_log(struct channel *ch, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print "coworker-worker: " and the message to stderr and exit 1. */
void channel_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
