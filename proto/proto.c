/*
 * The protocol table and the frame codec shared by supervisor and worker.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"
#include "lib/error.h"

#define S PROTO_FIELD_STR
#define I PROTO_FIELD_INT
#define B PROTO_FIELD_BOOL
#define W PROTO_FROM_WORKER
#define SUP PROTO_FROM_SUPERVISOR
#define START PROTO_PHASE_START
#define RUN PROTO_PHASE_RUN
#define ANY (PROTO_PHASE_START | PROTO_PHASE_RUN)
#define TIMEOUT_MS_MAX (24L * 3600 * 1000)
#define PATH_LEN_MAX 4096
#define SKILL_NAME_LEN_MAX 64
#define PATTERN_LEN_MAX 1024
#define COUNT_MAX 1000000000LL

/*
 * Every message type, the direction and phases it is permitted in, whether
 * it carries a descriptor, and the only fields it may hold. A field not
 * listed here is a violation, so adding a field means adding it here first.
 */
static const struct proto_type proto_types[] = {
	{ PROTO_READY, "ready", W, PROTO_KIND_EVENT, START, PROTO_FD_NONE, {
		{ "landlock_abi", I, true, 0, 1000 },
		{ NULL } } },
	{ PROTO_CONNECT, "connect", W, PROTO_KIND_REQUEST, RUN, PROTO_FD_NONE, {
		{ NULL } } },
	{ PROTO_READ_FILE, "read_file", W, PROTO_KIND_REQUEST, RUN, PROTO_FD_NONE, {
		{ "path", S, true, 1, PATH_LEN_MAX },
		{ NULL } } },
	{ PROTO_WRITE_FILE, "write_file", W, PROTO_KIND_REQUEST, RUN, PROTO_FD_REQUIRED, {
		{ "path", S, true, 1, PATH_LEN_MAX },
		{ NULL } } },
	{ PROTO_EDIT_FILE, "edit_file", W, PROTO_KIND_REQUEST, RUN, PROTO_FD_NONE, {
		{ "path", S, true, 1, PATH_LEN_MAX },
		{ "old", S, true, 1, PROTO_STR_MAX / 2 },
		{ "new", S, true, 0, PROTO_STR_MAX / 2 },
		{ NULL } } },
	{ PROTO_LIST_DIRECTORY, "list_directory", W, PROTO_KIND_REQUEST, RUN, PROTO_FD_NONE, {
		{ "path", S, true, 1, PATH_LEN_MAX },
		{ NULL } } },
	{ PROTO_RUN_COMMAND, "run_command", W, PROTO_KIND_REQUEST, RUN, PROTO_FD_NONE, {
		{ "command", S, true, 1, PROTO_STR_MAX },
		{ "timeout_ms", I, false, 1, TIMEOUT_MS_MAX },
		{ NULL } } },
	{ PROTO_TEXT, "text", W, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ "text", S, true, 0, PROTO_STR_MAX },
		{ NULL } } },
	{ PROTO_TURN, "turn", W, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ "turn", I, true, 1, 1000000 },
		{ "model", S, false, 0, 256 },
		{ "finish_reason", S, false, 0, 64 },
		{ "prompt_tokens", I, false, 0, 1000000000 },
		{ "completion_tokens", I, false, 0, 1000000000 },
		{ "tool_calls", I, false, 0, 1000 },
		{ NULL } } },
	{ PROTO_LOG, "log", W, PROTO_KIND_EVENT, ANY, PROTO_FD_NONE, {
		{ "level", S, true, 1, 16 },
		{ "message", S, true, 0, 4096 },
		{ NULL } } },
	{ PROTO_DONE, "done", W, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ "status", S, true, 1, 32 },
		{ "summary", S, false, 0, PROTO_STR_MAX },
		{ NULL } } },

	{ PROTO_RETRY, "retry", W, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ "attempt", I, true, 2, 100 },
		{ "max_attempts", I, true, 1, 100 },
		{ "delay_ms", I, true, 0, 3600000 },
		{ "reason", S, true, 0, 4096 },
		{ NULL } } },
	{ PROTO_LOAD_SKILL, "load_skill", W, PROTO_KIND_REQUEST, RUN, PROTO_FD_NONE, {
		{ "name", S, true, 1, SKILL_NAME_LEN_MAX },
		{ "file", S, false, 1, PATH_LEN_MAX },
		{ NULL } } },
	{ PROTO_GLOB, "glob", W, PROTO_KIND_REQUEST, RUN, PROTO_FD_NONE, {
		{ "pattern", S, true, 1, PATTERN_LEN_MAX },
		{ "path", S, false, 1, PATH_LEN_MAX },
		{ NULL } } },
	{ PROTO_GREP, "grep", W, PROTO_KIND_REQUEST, RUN, PROTO_FD_NONE, {
		{ "pattern", S, true, 1, PATTERN_LEN_MAX },
		{ "path", S, false, 1, PATH_LEN_MAX },
		{ "glob", S, false, 1, PATTERN_LEN_MAX },
		{ "ignore_case", B, false, 0, 0 },
		{ "max_results", I, false, 1, 10000 },
		{ NULL } } },
	{ PROTO_TODO, "todo", W, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ "items", S, true, 0,
		  PROTO_TODO_ITEMS_MAX * (PROTO_TODO_TEXT_MAX + 16) },
		{ NULL } } },
	{ PROTO_COMPACTION, "compaction", W, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ "turn", I, true, 0, 1000000 },
		{ "messages_before", I, true, 0, COUNT_MAX },
		{ "messages_after", I, true, 0, COUNT_MAX },
		{ "tokens_before", I, true, 0, COUNT_MAX },
		{ "tokens_after", I, true, 0, COUNT_MAX },
		{ "prompt_tokens", I, false, 0, COUNT_MAX },
		{ "completion_tokens", I, false, 0, COUNT_MAX },
		{ NULL } } },
	{ PROTO_TURN_START, "turn_start", W, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ "turn", I, true, 1, 1000000 },
		{ NULL } } },
	{ PROTO_TEXT_DELTA, "text_delta", W, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ "text", S, true, 1, PROTO_STR_MAX },
		{ NULL } } },

	{ PROTO_CONFIG, "config", SUP, PROTO_KIND_EVENT, START, PROTO_FD_OPTIONAL, {
		{ "provider", S, false, 1, 16 },
		{ "model", S, true, 1, 256 },
		{ "base_url", S, true, 1, 2048 },
		{ "resolve", S, true, 1, 600 },
		{ "proxy", S, false, 1, 300 },
		{ "api_key", S, false, 0, 4096 },
		{ "max_turns", I, true, 1, 10000 },
		{ "workspace", S, true, 1, PATH_LEN_MAX },
		{ "skills", S, false, 1, PROTO_SKILLS_SECTION_MAX },
		{ "instructions", S, false, 1, PROTO_INSTRUCTIONS_MAX },
		{ "context_tokens", I, false, 1000, 100000000 },
		{ "token_budget", I, false, 1, 1000000000000LL },
		{ "deltas", B, false, 0, 0 },
		{ NULL } } },
	{ PROTO_TASK, "task", SUP, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ "text", S, true, 1, PROTO_STR_MAX },
		{ NULL } } },
	{ PROTO_REPLY, "reply", SUP, PROTO_KIND_REPLY, RUN, PROTO_FD_OPTIONAL, {
		{ "ok", B, true, 0, 0 },
		{ "error", S, false, 0, 4096 },
		{ "content", S, false, 0, PROTO_STR_MAX - 4096 },
		{ "exit_code", I, false, -1, 255 },
		{ "signal", I, false, 0, 128 },
		{ "timed_out", B, false, 0, 0 },
		{ "output_bytes", I, false, 0, 1LL << 50 },
		{ "truncated", B, false, 0, 0 },
		{ "duration_ms", I, false, 0, 1LL << 40 },
		{ "limits", S, false, 1, 256 },
		{ "oom_killed", B, false, 0, 0 },
		{ NULL } } },
	{ PROTO_CANCEL, "cancel", SUP, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ NULL } } },
	{ PROTO_CLEAR, "clear", SUP, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ NULL } } },
	{ PROTO_COMPACT, "compact", SUP, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ NULL } } },
	{ PROTO_SET_MODEL, "set_model", SUP, PROTO_KIND_EVENT, RUN, PROTO_FD_NONE, {
		{ "model", S, true, 1, 256 },
		{ NULL } } },
};

#undef S
#undef I
#undef B
#undef W
#undef SUP
#undef START
#undef RUN
#undef ANY

const struct proto_type *proto_type_by_id(enum proto_type_id id)
{
	size_t i;

	for (i = 0; i < sizeof(proto_types) / sizeof(proto_types[0]); i++)
		if (proto_types[i].id == id)
			return &proto_types[i];
	return NULL;
}

const struct proto_type *proto_type_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(proto_types) / sizeof(proto_types[0]); i++)
		if (strcmp(proto_types[i].name, name) == 0)
			return &proto_types[i];
	return NULL;
}

static const struct proto_field *find_field(const struct proto_type *t,
					    const char *name)
{
	const struct proto_field *f;

	for (f = t->fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* JSON numbers arrive as doubles; only exact integers are accepted. */
static bool json_integer(const cJSON *item, long long *out)
{
	double d;

	if (!cJSON_IsNumber(item))
		return false;
	d = item->valuedouble;
	if (d != d || d < -9007199254740991.0 || d > 9007199254740991.0)
		return false;
	if ((double)(long long)d != d)
		return false;
	*out = (long long)d;
	return true;
}

static int check_field(const struct proto_type *t, const struct proto_field *f,
		       const cJSON *item, char *err, size_t errlen)
{
	long long n;
	size_t len;

	switch (f->type) {
	case PROTO_FIELD_STR:
		if (!cJSON_IsString(item) || !item->valuestring)
			return error_set(err, errlen, "%s.%s: expected a string",
				    t->name, f->name);
		len = strlen(item->valuestring);
		if ((long long)len < f->min || (long long)len > f->max)
			return error_set(err, errlen,
				    "%s.%s: length %zu outside %lld..%lld",
				    t->name, f->name, len, f->min, f->max);
		return 0;
	case PROTO_FIELD_INT:
		if (!json_integer(item, &n))
			return error_set(err, errlen, "%s.%s: expected an integer",
				    t->name, f->name);
		if (n < f->min || n > f->max)
			return error_set(err, errlen,
				    "%s.%s: value %lld outside %lld..%lld",
				    t->name, f->name, n, f->min, f->max);
		return 0;
	case PROTO_FIELD_BOOL:
		if (!cJSON_IsBool(item))
			return error_set(err, errlen, "%s.%s: expected true or false",
				    t->name, f->name);
		return 0;
	}
	return error_set(err, errlen, "%s.%s: unknown field type", t->name, f->name);
}

/* Check every member of obj against the table entry t. */
static int check_fields(const struct proto_type *t, const cJSON *obj,
			char *err, size_t errlen)
{
	const struct proto_field *f;
	const cJSON *item;

	cJSON_ArrayForEach(item, obj) {
		if (!item->string)
			return error_set(err, errlen, "%s: member without a name",
				    t->name);
		if (strcmp(item->string, "v") == 0 ||
		    strcmp(item->string, "id") == 0 ||
		    strcmp(item->string, "type") == 0)
			continue;
		f = find_field(t, item->string);
		if (!f)
			return error_set(err, errlen, "%s: unknown field \"%.64s\"",
				    t->name, item->string);
		if (check_field(t, f, item, err, errlen) < 0)
			return -1;
	}
	for (f = t->fields; f->name; f++)
		if (f->required && !cJSON_GetObjectItemCaseSensitive(obj, f->name))
			return error_set(err, errlen, "%s: missing field \"%s\"",
				    t->name, f->name);
	return 0;
}

/* cJSON keeps the last of duplicate keys reachable only by iteration. */
static bool has_duplicate_keys(const cJSON *obj)
{
	const cJSON *a, *b;

	for (a = obj->child; a; a = a->next)
		for (b = a->next; b; b = b->next)
			if (a->string && b->string &&
			    strcmp(a->string, b->string) == 0)
				return true;
	return false;
}

static int check_envelope(const cJSON *root, enum proto_dir dir,
			  const struct proto_type **type, long *id,
			  char *err, size_t errlen)
{
	const cJSON *v, *jid, *jtype;
	long long n;

	if (!cJSON_IsObject(root))
		return error_set(err, errlen, "frame is not a JSON object");
	if (has_duplicate_keys(root))
		return error_set(err, errlen, "frame has a duplicate member name");

	v = cJSON_GetObjectItemCaseSensitive(root, "v");
	if (!json_integer(v, &n))
		return error_set(err, errlen, "missing or non-integer \"v\"");
	if (n != PROTO_VERSION)
		return error_set(err, errlen,
			    "protocol version %lld, expected %d: the supervisor "
			    "and worker binaries come from different builds",
			    n, PROTO_VERSION);

	jid = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (!json_integer(jid, &n) || n < 1 || n > PROTO_ID_MAX)
		return error_set(err, errlen, "\"id\" must be an integer in 1..%ld",
			    PROTO_ID_MAX);
	*id = (long)n;

	jtype = cJSON_GetObjectItemCaseSensitive(root, "type");
	if (!cJSON_IsString(jtype) || !jtype->valuestring)
		return error_set(err, errlen, "missing or non-string \"type\"");
	*type = proto_type_by_name(jtype->valuestring);
	if (!*type)
		return error_set(err, errlen, "unknown message type \"%.64s\"",
			    jtype->valuestring);
	if ((*type)->dir != dir)
		return error_set(err, errlen, "message type \"%s\" is not permitted "
			    "in this direction", (*type)->name);
	return 0;
}

int proto_decode(const char *buf, size_t len, enum proto_dir dir, int fd,
		 struct proto_msg *msg, char *err, size_t errlen)
{
	const struct proto_type *type = NULL;
	const char *end = NULL;
	cJSON *root;
	long id = 0;

	memset(msg, 0, sizeof(*msg));
	msg->fd = -1;

	if (len == 0)
		return error_set(err, errlen, "empty frame");
	if (len > PROTO_FRAME_MAX)
		return error_set(err, errlen, "frame of %zu bytes exceeds %d",
			    len, PROTO_FRAME_MAX);
	if (memchr(buf, '\0', len))
		return error_set(err, errlen, "frame contains a NUL byte");

	/*
	 * cJSON's require_null_terminated flag fails whenever the length ends
	 * exactly at the closing brace, so trailing bytes are checked here.
	 */
	root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	if (!root)
		return error_set(err, errlen, "frame is not valid JSON");
	while (end < buf + len && strchr(" \t\r\n", *end))
		end++;
	if (end != buf + len) {
		cJSON_Delete(root);
		return error_set(err, errlen, "frame has bytes after the JSON value");
	}

	if (check_envelope(root, dir, &type, &id, err, errlen) < 0 ||
	    check_fields(type, root, err, errlen) < 0)
		goto bad;

	if (type->fd == PROTO_FD_NONE && fd >= 0) {
		error_set(err, errlen, "%s: unexpected file descriptor", type->name);
		goto bad;
	}
	if (type->fd == PROTO_FD_REQUIRED && fd < 0) {
		error_set(err, errlen, "%s: missing file descriptor", type->name);
		goto bad;
	}

	msg->type = type;
	msg->id = id;
	msg->root = root;
	msg->fd = fd;
	return 0;

bad:
	cJSON_Delete(root);
	return -1;
}

/* Receive one frame and at most one descriptor; returns bytes, 0 or -1. */
static ssize_t recv_frame(int sock, char *buf, size_t cap, int *fd,
			  char *err, size_t errlen)
{
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(int) * 4)];
	} control;
	struct iovec iov = { buf, cap };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	ssize_t n;
	int count, i, *fds;

	*fd = -1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = control.space;
	mh.msg_controllen = sizeof(control.space);

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return error_set(err, errlen, "recvmsg: %s", strerror(errno));

	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		fds = (int *)CMSG_DATA(c);
		for (i = 0; i < count; i++) {
			if (*fd < 0)
				*fd = fds[i];
			else
				close(fds[i]);
		}
		if (count > 1) {
			close(*fd);
			*fd = -1;
			return error_set(err, errlen, "frame carries %d%s descriptors, "
				    "at most 1 is permitted", count,
				    (mh.msg_flags & MSG_CTRUNC) ? " or more" : "");
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return error_set(err, errlen, "frame exceeds %d bytes or carries "
			    "too many descriptors", PROTO_FRAME_MAX);
	}
	return n;
}

int proto_recv(int sock, enum proto_dir dir, struct proto_msg *msg,
	       char *err, size_t errlen)
{
	static char buf[PROTO_FRAME_MAX + 1];
	ssize_t n;
	int fd;

	memset(msg, 0, sizeof(*msg));
	msg->fd = -1;
	n = recv_frame(sock, buf, sizeof(buf), &fd, err, errlen);
	if (n < 0)
		return -1;
	if (n == 0 && fd < 0)
		return 0;
	if (proto_decode(buf, (size_t)n, dir, fd, msg, err, errlen) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 1;
}

static int send_frame(int sock, const char *buf, size_t len, int fd,
		      char *err, size_t errlen)
{
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	ssize_t n;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&control, 0, sizeof(control));
		mh.msg_control = control.space;
		mh.msg_controllen = sizeof(control.space);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return error_set(err, errlen, "sendmsg: %s", strerror(errno));
	if ((size_t)n != len)
		return error_set(err, errlen, "sendmsg sent %zd of %zu bytes", n, len);
	return 0;
}

int proto_send(int sock, enum proto_type_id type_id, long id,
	       const cJSON *fields, int fd, char *err, size_t errlen)
{
	const struct proto_type *type = proto_type_by_id(type_id);
	cJSON *root, *item, *copy;
	char *text = NULL;
	int rc = -1;

	if (!type)
		return error_set(err, errlen, "unknown message type number %d",
			    (int)type_id);
	root = cJSON_CreateObject();
	if (!root)
		return error_set(err, errlen, "out of memory");
	cJSON_AddNumberToObject(root, "v", PROTO_VERSION);
	cJSON_AddNumberToObject(root, "id", (double)id);
	cJSON_AddStringToObject(root, "type", type->name);
	if (fields) {
		cJSON_ArrayForEach(item, fields) {
			copy = cJSON_Duplicate(item, true);
			if (!copy || !item->string) {
				cJSON_Delete(copy);
				error_set(err, errlen, "out of memory");
				goto out;
			}
			cJSON_AddItemToObject(root, item->string, copy);
		}
	}

	/* Deliberate self-check: never send what the peer must reject. */
	text = cJSON_PrintUnformatted(root);
	if (!text) {
		error_set(err, errlen, "out of memory");
		goto out;
	}
	{
		struct proto_msg check;

		if (proto_decode(text, strlen(text), type->dir,
				 type->fd == PROTO_FD_REQUIRED ? 0 : -1,
				 &check, err, errlen) < 0)
			goto out;
		check.fd = -1;
		proto_msg_free(&check);
	}
	if (type->fd == PROTO_FD_NONE && fd >= 0) {
		error_set(err, errlen, "%s: cannot carry a file descriptor",
		     type->name);
		goto out;
	}
	if (type->fd == PROTO_FD_REQUIRED && fd < 0) {
		error_set(err, errlen, "%s: needs a file descriptor", type->name);
		goto out;
	}
	rc = send_frame(sock, text, strlen(text), fd, err, errlen);
out:
	free(text);
	cJSON_Delete(root);
	return rc;
}

void proto_msg_free(struct proto_msg *msg)
{
	if (msg->fd >= 0)
		close(msg->fd);
	msg->fd = -1;
	cJSON_Delete(msg->root);
	msg->root = NULL;
	msg->type = NULL;
}

int proto_msg_take_fd(struct proto_msg *msg)
{
	int fd = msg->fd;

	msg->fd = -1;
	return fd;
}

const char *proto_str(const struct proto_msg *msg, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(msg->root, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

long long proto_int(const struct proto_msg *msg, const char *name,
		    long long fallback)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(msg->root, name);
	long long n;

	return json_integer(item, &n) ? n : fallback;
}

bool proto_bool(const struct proto_msg *msg, const char *name, bool fallback)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(msg->root, name);

	return cJSON_IsBool(item) ? cJSON_IsTrue(item) : fallback;
}
