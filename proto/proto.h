/*
 * The wire protocol between the supervisor and a worker.
 *
 * One SOCK_SEQPACKET socketpair per worker. Every frame is one JSON object
 * with "v" (PROTO_VERSION), "id" (chosen by the sender; a reply carries the
 * id of its request), "type" (a name from the table in proto.c) and the
 * typed fields that table lists for that type. A frame may carry at most one
 * file descriptor (SCM_RIGHTS); bulk data always travels that way, never in
 * the JSON.
 *
 * Both sides decode with the same table, and the receiver trusts nothing:
 * size first, then JSON syntax, then version, id, type, the direction and
 * phase the type is permitted in, then every field's type and range. Any
 * violation is fatal for the peer that sent it.
 */
#ifndef COWORKER_PROTO_H
#define COWORKER_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define PROTO_VERSION 1

/* Hard maximum of one frame in bytes; larger data travels as an fd. */
#define PROTO_FRAME_MAX 65536

/* Largest string a field may hold, leaving room for the JSON around it. */
#define PROTO_STR_MAX 60000

/* Largest id a sender may choose; ids start at 1. */
#define PROTO_ID_MAX 2147483647L

/* Largest content a worker may hand over in a memfd (write_file). */
#define PROTO_CONTENT_MAX (16L * 1024 * 1024)

/*
 * Largest skills section of the system prompt that "config" carries, in
 * bytes. The section contains no control characters but line breaks, so JSON
 * escaping at most doubles it and the frame still fits the other fields.
 */
#define PROTO_SKILLS_SECTION_MAX (16 * 1024)

/*
 * Largest project-instructions text (AGENTS.md, CLAUDE.md) in the config.
 * The supervisor replaces control characters other than newline and tab,
 * so JSON escaping at most doubles it and the config frame still fits.
 */
#define PROTO_INSTRUCTIONS_MAX (8 * 1024)

/* Most items a todo list may hold, and the longest text of one item. */
#define PROTO_TODO_ITEMS_MAX 50
#define PROTO_TODO_TEXT_MAX 500

/*
 * Message types. Numbers are fixed once assigned and never reused: worker to
 * supervisor types take 1-63, supervisor to worker types take 64-127. The
 * name, not the number, travels on the wire; the number indexes the table.
 */
enum proto_type_id {
	PROTO_READY = 1,
	PROTO_CONNECT = 2,
	PROTO_READ_FILE = 3,
	PROTO_WRITE_FILE = 4,
	PROTO_EDIT_FILE = 5,
	PROTO_LIST_DIRECTORY = 6,
	PROTO_RUN_COMMAND = 7,
	PROTO_TEXT = 8,
	PROTO_TURN = 9,
	PROTO_LOG = 10,
	PROTO_DONE = 11,
	PROTO_RETRY = 12,
	PROTO_LOAD_SKILL = 13,
	PROTO_GLOB = 14,
	PROTO_GREP = 15,
	PROTO_TODO = 16,
	PROTO_COMPACTION = 17,
	PROTO_TURN_START = 18,
	PROTO_TEXT_DELTA = 19,

	PROTO_CONFIG = 64,
	PROTO_TASK = 65,
	PROTO_REPLY = 66,
	PROTO_CANCEL = 67,
	PROTO_CLEAR = 68,
	PROTO_COMPACT = 69,
	PROTO_SET_MODEL = 70,
};

enum proto_dir {
	PROTO_FROM_WORKER = 1,
	PROTO_FROM_SUPERVISOR = 2,
};

enum proto_kind {
	PROTO_KIND_EVENT,	/* no reply */
	PROTO_KIND_REQUEST,	/* exactly one PROTO_REPLY with the same id */
	PROTO_KIND_REPLY,
};

/* Phases of a worker's life; a type lists the phases it is permitted in. */
enum proto_phase {
	PROTO_PHASE_START = 1 << 0,	/* config sent, waiting for ready */
	PROTO_PHASE_RUN = 1 << 1,	/* confinement checked, task sent */
};

enum proto_field_type {
	PROTO_FIELD_STR,
	PROTO_FIELD_INT,
	PROTO_FIELD_BOOL,
};

enum proto_fd_rule {
	PROTO_FD_NONE,
	PROTO_FD_OPTIONAL,
	PROTO_FD_REQUIRED,
};

struct proto_field {
	const char *name;
	enum proto_field_type type;
	bool required;
	long long min;		/* INT: smallest value; STR: shortest length */
	long long max;		/* INT: largest value; STR: longest length */
};

#define PROTO_FIELDS_MAX 16

struct proto_type {
	enum proto_type_id id;
	const char *name;
	enum proto_dir dir;
	enum proto_kind kind;
	unsigned phases;	/* mask of enum proto_phase */
	enum proto_fd_rule fd;
	struct proto_field fields[PROTO_FIELDS_MAX];	/* ends at name NULL */
};

/* A decoded, validated message. */
struct proto_msg {
	const struct proto_type *type;
	long id;
	cJSON *root;		/* owned; fields are looked up here */
	int fd;			/* received descriptor, or -1 */
};

/* Return the table entry for a type number or name, or NULL. */
const struct proto_type *proto_type_by_id(enum proto_type_id id);
const struct proto_type *proto_type_by_name(const char *name);

/*
 * Decode one frame of len bytes received from the peer in direction dir.
 * fd is the descriptor that came with the frame (or -1); on success it moves
 * into msg. Returns 0, or -1 with err describing the first violation; the
 * caller still owns fd on failure.
 */
int proto_decode(const char *buf, size_t len, enum proto_dir dir, int fd,
		 struct proto_msg *msg, char *err, size_t errlen);

/*
 * Receive one frame from sock and decode it. Returns 1 for a message, 0 when
 * the peer closed the socket, -1 on a violation or error (err says which; a
 * descriptor that came with a bad frame is closed).
 */
int proto_recv(int sock, enum proto_dir dir, struct proto_msg *msg,
	       char *err, size_t errlen);

/*
 * Send a message of the given type and id. fields is an object with the
 * type's fields (borrowed, may be NULL); fd is sent along unless it is -1.
 * The message is checked against the table before it is sent, so a sender
 * cannot produce a frame its peer would reject. Returns 0 or -1 with err.
 */
int proto_send(int sock, enum proto_type_id type, long id, const cJSON *fields,
	       int fd, char *err, size_t errlen);

/* Close the message's descriptor (if still owned) and free its JSON. */
void proto_msg_free(struct proto_msg *msg);

/* Take the descriptor out of the message; the caller must close it. */
int proto_msg_take_fd(struct proto_msg *msg);

/* Field accessors; the fields were validated by proto_decode. */
const char *proto_str(const struct proto_msg *msg, const char *name);
long long proto_int(const struct proto_msg *msg, const char *name,
		    long long fallback);
bool proto_bool(const struct proto_msg *msg, const char *name, bool fallback);

#endif
