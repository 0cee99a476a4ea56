/*
 * replay-server: an offline stand-in for an OpenAI-compatible Chat
 * Completions endpoint and for the Anthropic Messages API, so the whole
 * agent runs and is tested without a network or a model.
 *
 * A scenario file lists turns. Each POST to a path ending in
 * "/chat/completions" (or "/messages" for Anthropic) is checked against
 * the next turn (the tool results it must carry) and, when the checks
 * pass, answered with that turn's response file byte for byte. A request
 * with "stream": true gets an event stream: a response file whose name
 * ends in ".sse" is served verbatim, and a JSON response is cut into the
 * chunks (Chat Completions) or events (Messages) the API would stream. A failed check is answered with HTTP 400,
 * printed and counted, so a client that drifts from the scenario fails
 * loudly. On SIGTERM or SIGINT the exit status is 0 only when every turn
 * was served and nothing failed.
 *
 * Scenario format (unknown members are rejected, so a typo is not ignored):
 *   {"description": "optional text",
 *    "turns": [{"response": "turn0.response.json",  (relative to the scenario)
 *               "expect": [{"tool_call_id": "call_x", "contains": "text"}],
 *               "status": 200, "headers": {"Retry-After": "1"},
 *               "fault": "reset-mid-stream"}, ...]}
 * An expect entry requires a role "tool" message with that tool_call_id
 * whose content contains the text (omit "contains" to require only the
 * message). Independently, every tool call in the previous turn's response
 * must have its tool message. "status" and "headers" (both optional) let a
 * turn stand for an API error such as a 429 with Retry-After. "fault"
 * (optional) breaks the answer on purpose:
 *   "reset-mid-stream"  half the response, then a TCP reset;
 *   "truncate-stream"   a stream that ends cleanly half-way, at an event
 *                       boundary, without its final events;
 *   "non-json"          HTTP 200 with an HTML body;
 *   "huge-body"         HTTP 200 with a JSON body of 9 MiB;
 *   "stall-mid-stream"  the first half of the response, cut at an event
 *                       boundary, then silence on an open connection
 *                       (for tests that cancel or time out a transfer).
 * A turn with a fault or a status outside 2xx makes no tool calls: the
 * tool results of the last answered turn stay due.
 *
 * Three more optional turn members check the conversation itself:
 *   "contains": ["text", ...]  each text must occur in some string of the
 *                              request's "messages" (or its "system");
 *   "lacks": ["text", ...]     no such string may contain any of them;
 *   "side_request": true       a request outside the tool loop, such as a
 *                              summary request: it must offer no tools,
 *                              its response may make no tool calls, and
 *                              the tool results due are checked on the
 *                              next turn instead.
 *
 * Only 127.0.0.1 is bound. The HTTP side is deliberately small: HTTP/1.0
 * and 1.1, keep-alive, request bodies framed by Content-Length only, hard
 * limits on the header block and the body; streamed responses are sent
 * whole with a Content-Length, as the bytes are known in advance.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

/* Request line plus headers, including the blank line that ends them. */
#define HEAD_MAX (16 * 1024)
/* Request bodies, and also the scenario and response files we load. */
#define BODY_MAX (8 * 1024 * 1024)
#define HEADER_COUNT_MAX 100
/* Extra response headers a turn may add, so the status line and ours fit. */
#define HEADERS_EXTRA_MAX 512
/* Connections served at once; a request is still handled one at a time. */
#define CONNS_MAX 8
/* Bytes of a wrong tool result quoted back in an error message. */
#define EXCERPT_MAX 200
#define MSG_MAX 2048
#define READ_CHUNK 65536
/* A client that stops reading its response cannot stall the server. */
#define SEND_TIMEOUT_SEC 30
/* Bytes and seconds a rejected client may still send before the close
 * (see conn_drain_close()). */
#define DRAIN_MAX (1024 * 1024)
#define DRAIN_SEC 2
#define DRAIN_WAIT_USEC 200000

enum fault {
	FAULT_NONE,
	FAULT_RESET,		/* "reset-mid-stream" */
	FAULT_TRUNCATE,		/* "truncate-stream" */
	FAULT_NON_JSON,		/* "non-json" */
	FAULT_HUGE,		/* "huge-body" */
	FAULT_STALL,		/* "stall-mid-stream" */
};

/* The size of the "huge-body" fault: above any client's 8 MiB limit. */
#define HUGE_BODY (9 * 1024 * 1024)

struct expect {
	char *call_id;
	char *contains;		/* NULL: the tool result only has to exist */
};

struct turn {
	char *file;		/* the name the scenario gives, for messages */
	char *body;
	size_t body_len;
	int status;		/* HTTP status served with the body */
	char *headers;		/* extra header lines, each ending in CRLF */
	enum fault fault;
	bool sse;		/* the response file is an event stream */
	char **call_ids;	/* tool calls the body asks the client to make */
	size_t ncalls;
	struct expect *expects;
	size_t nexpects;
	char **contains;	/* texts the request's messages must carry */
	size_t ncontains;
	char **lacks;		/* texts they must not carry */
	size_t nlacks;
	bool side;		/* "side_request" */
};

struct scenario {
	struct turn *turns;
	size_t nturns;
};

struct options {
	const char *scenario;
	long port;
	const char *port_file;
	const char *record_dir;
	const char *api_key;
};

struct conn {
	int fd;			/* -1 when the slot is free */
	unsigned long id;
	char *buf;
	size_t len;
	size_t cap;
	bool continue_sent;	/* "100 Continue" sent for the pending request */
};

struct server {
	struct options opt;
	struct scenario sc;
	size_t next_turn;
	unsigned long failures;
	int listen_fd;
	int signal_fd;
	unsigned long conn_count;
	struct conn conns[CONNS_MAX];
};

/* A slice of the connection buffer; not NUL-terminated. */
struct span {
	const char *p;
	size_t len;
};

struct http_request {
	struct span method;
	struct span target;
	struct span path;	/* target without its query */
	int minor;		/* HTTP/1.minor */
	size_t head_len;
	size_t content_length;
	bool keep_alive;
	bool expect_continue;
	bool has_auth;
	struct span auth;
	bool has_api_key;
	struct span api_key;	/* the Messages API's x-api-key header */
	const char *body;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static bool span_is(struct span s, const char *text)
{
	return s.len == strlen(text) && memcmp(s.p, text, s.len) == 0;
}

static bool span_is_nocase(struct span s, const char *text)
{
	return s.len == strlen(text) && strncasecmp(s.p, text, s.len) == 0;
}

static bool span_ends_with(struct span s, const char *suffix)
{
	size_t n = strlen(suffix);

	return s.len >= n && memcmp(s.p + s.len - n, suffix, n) == 0;
}

/* RFC 9110 token characters, used for methods and header names. */
static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *p, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!is_tchar((unsigned char)p[i]))
			return false;
	return true;
}

/* ---- files ---- */

static int file_read(const char *path, char **out, size_t *out_len,
		     char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "cannot open \"%s\": %s", path,
			    strerror(errno));

	/* One byte beyond the limit distinguishes a full file from a too-large one. */
	buf = malloc(BODY_MAX + 2);
	if (!buf) {
		close(fd);
		return fail(err, errlen, "out of memory reading \"%s\"", path);
	}
	do {
		n = read(fd, buf + len, BODY_MAX + 1 - len);
		if (n > 0)
			len += (size_t)n;
	} while ((n > 0 && len <= BODY_MAX) || (n < 0 && errno == EINTR));
	close(fd);

	if (n < 0) {
		free(buf);
		return fail(err, errlen, "cannot read \"%s\": %s", path,
			    strerror(errno));
	}
	if (len > BODY_MAX) {
		free(buf);
		return fail(err, errlen, "\"%s\" is larger than %d bytes", path,
			    BODY_MAX);
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Write a file so that a reader sees either nothing or all of it: write a
 * temporary file beside it, then rename it into place.
 */
static int file_write_atomic(const char *path, const char *data, size_t len,
			     char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	int fd, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return fail(err, errlen, "path \"%s\" is too long", path);

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(err, errlen, "cannot create \"%s\": %s", tmp,
			    strerror(errno));
	if (write_all(fd, data, len) < 0) {
		fail(err, errlen, "cannot write \"%s\": %s", tmp,
		     strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);

	if (rename(tmp, path) < 0) {
		fail(err, errlen, "cannot rename \"%s\" to \"%s\": %s", tmp,
		     path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- scenario ---- */

static void turn_free(struct turn *t)
{
	size_t i;

	free(t->file);
	free(t->body);
	free(t->headers);
	for (i = 0; i < t->ncalls; i++)
		free(t->call_ids[i]);
	free(t->call_ids);
	for (i = 0; i < t->nexpects; i++) {
		free(t->expects[i].call_id);
		free(t->expects[i].contains);
	}
	free(t->expects);
	for (i = 0; i < t->ncontains; i++)
		free(t->contains[i]);
	free(t->contains);
	for (i = 0; i < t->nlacks; i++)
		free(t->lacks[i]);
	free(t->lacks);
}

static void scenario_free(struct scenario *sc)
{
	size_t i;

	for (i = 0; i < sc->nturns; i++)
		turn_free(&sc->turns[i]);
	free(sc->turns);
	sc->turns = NULL;
	sc->nturns = 0;
}

/* Reject members other than the listed ones, so a typo is not ignored. */
static int json_check_keys(const cJSON *obj, const char *const *known,
			   const char *where, char *err, size_t errlen)
{
	const cJSON *item;
	size_t i;

	cJSON_ArrayForEach(item, obj) {
		for (i = 0; known[i]; i++)
			if (strcmp(item->string, known[i]) == 0)
				break;
		if (!known[i])
			return fail(err, errlen, "%s: unknown member \"%s\"",
				    where, item->string);
	}
	return 0;
}

static int turn_add_call(struct turn *t, const cJSON *id, char *err,
			 size_t errlen)
{
	char **grown;

	if (!cJSON_IsString(id) || id->valuestring[0] == '\0')
		return fail(err, errlen, "%s: a tool call has no \"id\" string",
			    t->file);
	grown = realloc(t->call_ids, (t->ncalls + 1) * sizeof(*grown));
	if (!grown)
		return fail(err, errlen, "out of memory");
	t->call_ids = grown;
	t->call_ids[t->ncalls] = strdup(id->valuestring);
	if (!t->call_ids[t->ncalls])
		return fail(err, errlen, "out of memory");
	t->ncalls++;
	return 0;
}

/*
 * Collect the ids of the tool calls in a response body: every choice's
 * message.tool_calls (Chat Completions) or every tool_use block of
 * "content" (Messages).
 */
static int turn_collect_calls(struct turn *t, const cJSON *root,
			      char *err, size_t errlen)
{
	const cJSON *choice, *call, *calls, *block, *type;

	cJSON_ArrayForEach(choice, cJSON_GetObjectItemCaseSensitive(root,
								    "choices")) {
		calls = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(choice, "message"),
			"tool_calls");
		cJSON_ArrayForEach(call, calls)
			if (turn_add_call(t, cJSON_GetObjectItemCaseSensitive(
					call, "id"), err, errlen) < 0)
				return -1;
	}
	cJSON_ArrayForEach(block, cJSON_GetObjectItemCaseSensitive(root,
								   "content")) {
		type = cJSON_GetObjectItemCaseSensitive(block, "type");
		if (cJSON_IsString(type) &&
		    strcmp(type->valuestring, "tool_use") == 0 &&
		    turn_add_call(t, cJSON_GetObjectItemCaseSensitive(block,
				"id"), err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* The tool call ids one streamed chunk or event starts, if any. */
static int turn_collect_stream_calls(struct turn *t, const cJSON *ev,
				     char *err, size_t errlen)
{
	const cJSON *choice, *call, *id, *block, *type;

	cJSON_ArrayForEach(choice, cJSON_GetObjectItemCaseSensitive(ev,
								    "choices")) {
		cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(choice, "delta"),
				"tool_calls")) {
			id = cJSON_GetObjectItemCaseSensitive(call, "id");
			/* Only the first delta of a call names it. */
			if (cJSON_IsString(id) && id->valuestring[0] &&
			    turn_add_call(t, id, err, errlen) < 0)
				return -1;
		}
	}
	block = cJSON_GetObjectItemCaseSensitive(ev, "content_block");
	type = cJSON_GetObjectItemCaseSensitive(block, "type");
	if (cJSON_IsString(type) && strcmp(type->valuestring, "tool_use") == 0)
		return turn_add_call(t, cJSON_GetObjectItemCaseSensitive(block,
				     "id"), err, errlen);
	return 0;
}

/* An event stream file: every "data:" line that holds JSON is checked. */
static int turn_scan_sse(struct turn *t, const char *path, char *err,
			 size_t errlen)
{
	const char *line = t->body, *end = t->body + t->body_len, *eol;
	size_t events = 0;
	cJSON *ev;
	int ret = 0;

	for (; line < end && ret == 0; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		if ((size_t)(eol - line) < 6 || memcmp(line, "data: ", 6) != 0 ||
		    line[6] != '{')
			continue;
		ev = cJSON_ParseWithLength(line + 6, (size_t)(eol - line - 6));
		if (!cJSON_IsObject(ev))
			ret = fail(err, errlen, "%s: a data line is not a JSON "
				   "object", path);
		else
			ret = turn_collect_stream_calls(t, ev, err, errlen);
		cJSON_Delete(ev);
		events++;
	}
	if (ret == 0 && events == 0)
		return fail(err, errlen, "%s: no \"data: {...}\" line", path);
	return ret;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int turn_load_response(struct turn *t, const char *dir,
			      char *err, size_t errlen)
{
	char path[PATH_MAX];
	cJSON *root;
	int n, ret;

	if (t->file[0] == '/')
		n = snprintf(path, sizeof(path), "%s", t->file);
	else
		n = snprintf(path, sizeof(path), "%s/%s", dir, t->file);
	if (n < 0 || (size_t)n >= sizeof(path))
		return fail(err, errlen, "response path \"%s\" is too long",
			    t->file);

	if (file_read(path, &t->body, &t->body_len, err, errlen) < 0)
		return -1;

	/* A turn that is not answered makes no calls the client acts on. */
	t->sse = ends_with(t->file, ".sse");
	if (t->sse) {
		ret = turn_scan_sse(t, path, err, errlen);
		goto out;
	}

	/* Bodies are served verbatim, but they must be JSON the client can
	 * parse, and the tool calls in them decide the next turn's checks. */
	root = cJSON_ParseWithLength(t->body, t->body_len);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return fail(err, errlen, "%s: not a JSON object", path);
	}
	ret = turn_collect_calls(t, root, err, errlen);
	cJSON_Delete(root);
out:
	if (ret == 0 && (t->fault != FAULT_NONE || t->status < 200 ||
			 t->status > 299)) {
		while (t->ncalls)
			free(t->call_ids[--t->ncalls]);
	}
	return ret;
}

/* Turn the optional "headers" object into header lines ending in CRLF. */
static int turn_load_headers(struct turn *t, const cJSON *headers,
			     const char *where, char *err, size_t errlen)
{
	static const char *const reserved[] = {
		"content-length", "content-type", "connection",
		"transfer-encoding", NULL
	};
	const cJSON *h;
	size_t len = 0, i;
	char *p;

	cJSON_ArrayForEach(h, headers) {
		if (!is_token(h->string, strlen(h->string)))
			return fail(err, errlen, "%s: invalid header name \"%s\"",
				    where, h->string);
		for (i = 0; reserved[i]; i++)
			if (strcasecmp(h->string, reserved[i]) == 0)
				return fail(err, errlen,
					    "%s: header \"%s\" is set by the server",
					    where, h->string);
		if (!cJSON_IsString(h))
			return fail(err, errlen, "%s: header \"%s\" is not a string",
				    where, h->string);
		for (p = h->valuestring; *p; p++)
			if (iscntrl((unsigned char)*p) && *p != '\t')
				return fail(err, errlen,
					    "%s: header \"%s\" contains a control character",
					    where, h->string);
		len += strlen(h->string) + strlen(h->valuestring) + 4;
	}
	if (len > HEADERS_EXTRA_MAX)
		return fail(err, errlen, "%s: \"headers\" add up to more than %d bytes",
			    where, HEADERS_EXTRA_MAX);

	t->headers = calloc(1, len + 1);
	if (!t->headers)
		return fail(err, errlen, "out of memory");
	p = t->headers;
	cJSON_ArrayForEach(h, headers)
		p += snprintf(p, len + 1 - (size_t)(p - t->headers),
			      "%s: %s\r\n", h->string, h->valuestring);
	return 0;
}

static int turn_load_expects(struct turn *t, const cJSON *list,
			     const char *where, char *err, size_t errlen)
{
	static const char *const keys[] = { "tool_call_id", "contains", NULL };
	const cJSON *e, *id, *contains;
	size_t n = (size_t)cJSON_GetArraySize(list);

	t->expects = calloc(n ? n : 1, sizeof(*t->expects));
	if (!t->expects)
		return fail(err, errlen, "out of memory");

	cJSON_ArrayForEach(e, list) {
		struct expect *x = &t->expects[t->nexpects];

		if (!cJSON_IsObject(e))
			return fail(err, errlen, "%s: \"expect\" entries must be objects",
				    where);
		if (json_check_keys(e, keys, where, err, errlen) < 0)
			return -1;
		id = cJSON_GetObjectItemCaseSensitive(e, "tool_call_id");
		contains = cJSON_GetObjectItemCaseSensitive(e, "contains");
		if (!cJSON_IsString(id) || id->valuestring[0] == '\0')
			return fail(err, errlen,
				    "%s: an \"expect\" entry has no \"tool_call_id\" string",
				    where);
		if (contains && !cJSON_IsString(contains))
			return fail(err, errlen, "%s: \"contains\" must be a string",
				    where);

		t->nexpects++;
		x->call_id = strdup(id->valuestring);
		x->contains = contains ? strdup(contains->valuestring) : NULL;
		if (!x->call_id || (contains && !x->contains))
			return fail(err, errlen, "out of memory");
	}
	return 0;
}

/* A "contains" or "lacks" member: an array of non-empty strings. */
static int turn_load_texts(const cJSON *list, const char *name, char ***out,
			   size_t *n, const char *where, char *err,
			   size_t errlen)
{
	const cJSON *e;

	if (!list)
		return 0;
	if (!cJSON_IsArray(list))
		return fail(err, errlen, "%s: \"%s\" must be an array of strings",
			    where, name);
	*out = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(**out));
	if (!*out)
		return fail(err, errlen, "out of memory");
	cJSON_ArrayForEach(e, list) {
		if (!cJSON_IsString(e) || e->valuestring[0] == '\0')
			return fail(err, errlen, "%s: \"%s\" must be an array of "
				    "non-empty strings", where, name);
		(*out)[*n] = strdup(e->valuestring);
		if (!(*out)[(*n)++])
			return fail(err, errlen, "out of memory");
	}
	return 0;
}

static int turn_load_fault(struct turn *t, const cJSON *fault,
			   const char *where, char *err, size_t errlen)
{
	static const char *const names[] = {
		[FAULT_RESET] = "reset-mid-stream",
		[FAULT_TRUNCATE] = "truncate-stream",
		[FAULT_NON_JSON] = "non-json",
		[FAULT_HUGE] = "huge-body",
		[FAULT_STALL] = "stall-mid-stream",
	};
	size_t i;

	for (i = FAULT_RESET; cJSON_IsString(fault) &&
	     i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(fault->valuestring, names[i]) == 0) {
			t->fault = (enum fault)i;
			return 0;
		}
	}
	return fail(err, errlen, "%s: \"fault\" must be one of "
		    "\"reset-mid-stream\", \"truncate-stream\", \"non-json\", "
		    "\"huge-body\", \"stall-mid-stream\"", where);
}

static int turn_load(struct turn *t, const cJSON *obj, size_t index,
		     const char *dir, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"response", "expect", "status", "headers", "fault", "contains",
		"lacks", "side_request", NULL
	};
	const cJSON *response, *expect, *status, *headers, *fault, *side;
	char where[64];

	snprintf(where, sizeof(where), "scenario turn %zu", index);
	if (!cJSON_IsObject(obj))
		return fail(err, errlen, "%s: not an object", where);
	if (json_check_keys(obj, keys, where, err, errlen) < 0)
		return -1;

	response = cJSON_GetObjectItemCaseSensitive(obj, "response");
	expect = cJSON_GetObjectItemCaseSensitive(obj, "expect");
	status = cJSON_GetObjectItemCaseSensitive(obj, "status");
	headers = cJSON_GetObjectItemCaseSensitive(obj, "headers");
	fault = cJSON_GetObjectItemCaseSensitive(obj, "fault");
	if (fault && turn_load_fault(t, fault, where, err, errlen) < 0)
		return -1;
	if (!cJSON_IsString(response) || response->valuestring[0] == '\0')
		return fail(err, errlen, "%s: \"response\" must name a file", where);
	if (expect && !cJSON_IsArray(expect))
		return fail(err, errlen, "%s: \"expect\" must be an array", where);
	if (headers && !cJSON_IsObject(headers))
		return fail(err, errlen, "%s: \"headers\" must be an object", where);
	if (status && (!cJSON_IsNumber(status) || status->valuedouble < 200 ||
		       status->valuedouble > 599 ||
		       status->valuedouble != (int)status->valuedouble))
		return fail(err, errlen, "%s: \"status\" must be an integer from 200 to 599",
			    where);

	t->status = status ? (int)status->valuedouble : 200;
	t->file = strdup(response->valuestring);
	if (!t->file)
		return fail(err, errlen, "out of memory");
	if (turn_load_headers(t, headers, where, err, errlen) < 0 ||
	    turn_load_expects(t, expect, where, err, errlen) < 0 ||
	    turn_load_texts(cJSON_GetObjectItemCaseSensitive(obj, "contains"),
			    "contains", &t->contains, &t->ncontains, where, err,
			    errlen) < 0 ||
	    turn_load_texts(cJSON_GetObjectItemCaseSensitive(obj, "lacks"),
			    "lacks", &t->lacks, &t->nlacks, where, err,
			    errlen) < 0)
		return -1;
	side = cJSON_GetObjectItemCaseSensitive(obj, "side_request");
	if (side && !cJSON_IsBool(side))
		return fail(err, errlen, "%s: \"side_request\" must be true or "
			    "false", where);
	t->side = cJSON_IsTrue(side);
	if (turn_load_response(t, dir, err, errlen) < 0)
		return -1;
	if (t->side && t->ncalls)
		return fail(err, errlen, "%s: a side request's response may not "
			    "make tool calls", where);
	return 0;
}

static bool turn_has_call(const struct turn *t, const char *id)
{
	size_t i;

	for (i = 0; i < t->ncalls; i++)
		if (strcmp(t->call_ids[i], id) == 0)
			return true;
	return false;
}

/*
 * An expectation naming a call that no earlier response makes can never be
 * met; catch that typo when loading rather than during a run.
 */
static int scenario_check_expects(const struct scenario *sc, char *err,
				  size_t errlen)
{
	size_t n, i, k;

	for (n = 0; n < sc->nturns; n++) {
		for (i = 0; i < sc->turns[n].nexpects; i++) {
			const char *id = sc->turns[n].expects[i].call_id;

			for (k = 0; k < n; k++)
				if (turn_has_call(&sc->turns[k], id))
					break;
			if (k == n)
				return fail(err, errlen,
					    "scenario turn %zu expects a tool result for %s, but no earlier response makes a tool call with that id",
					    n, id);
		}
	}
	return 0;
}

static int scenario_parse(struct scenario *sc, const cJSON *root,
			  const char *dir, char *err, size_t errlen)
{
	static const char *const keys[] = { "turns", "description", NULL };
	const cJSON *turns, *item;

	if (!cJSON_IsObject(root))
		return fail(err, errlen, "scenario: not a JSON object");
	if (json_check_keys(root, keys, "scenario", err, errlen) < 0)
		return -1;
	turns = cJSON_GetObjectItemCaseSensitive(root, "turns");
	if (!cJSON_IsArray(turns) || cJSON_GetArraySize(turns) == 0)
		return fail(err, errlen,
			    "scenario: \"turns\" must be a non-empty array");

	sc->turns = calloc((size_t)cJSON_GetArraySize(turns),
			   sizeof(*sc->turns));
	if (!sc->turns)
		return fail(err, errlen, "out of memory");
	cJSON_ArrayForEach(item, turns) {
		sc->nturns++;
		if (turn_load(&sc->turns[sc->nturns - 1], item, sc->nturns - 1,
			      dir, err, errlen) < 0)
			return -1;
	}
	return scenario_check_expects(sc, err, errlen);
}

static int scenario_load(struct scenario *sc, const char *path,
			 char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash;
	char *text = NULL;
	size_t len;
	cJSON *root;
	int ret;

	/* Response files are named relative to the scenario's directory. */
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return fail(err, errlen, "scenario path is too long");
	else
		snprintf(dir, sizeof(dir), "%.*s",
			 slash == path ? 1 : (int)(slash - path), path);

	if (file_read(path, &text, &len, err, errlen) < 0)
		return -1;
	root = cJSON_ParseWithLength(text, len);
	free(text);
	if (!root)
		return fail(err, errlen, "%s: invalid JSON", path);

	ret = scenario_parse(sc, root, dir, err, errlen);
	cJSON_Delete(root);
	if (ret < 0)
		scenario_free(sc);
	return ret;
}

/* ---- HTTP requests ---- */

/*
 * Every byte of the header block must be part of a CRLF line ending or a
 * non-NUL character: bare CR and LF are how request smuggling starts.
 */
static int http_check_line_endings(const char *buf, size_t len, char *err,
				   size_t errlen)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\0')
			return fail(err, errlen, "replay-server: NUL byte in the request header");
		if (buf[i] == '\r' && (i + 1 == len || buf[i + 1] != '\n'))
			return fail(err, errlen, "replay-server: bare CR in the request header");
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
			return fail(err, errlen, "replay-server: bare LF in the request header");
	}
	return 0;
}

/* Parse "METHOD SP target SP HTTP/1.x". Returns 0 or an HTTP status. */
static int http_parse_request_line(const char *p, size_t len,
				   struct http_request *req,
				   char *err, size_t errlen)
{
	const char *sp1, *sp2, *q;
	struct span version;
	size_t i;

	sp1 = memchr(p, ' ', len);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - p)) : NULL;
	if (!sp2 || !is_token(p, (size_t)(sp1 - p)) || sp2 == sp1 + 1 ||
	    sp1[1] != '/') {
		fail(err, errlen, "replay-server: malformed request line");
		return 400;
	}
	req->method = (struct span){ p, (size_t)(sp1 - p) };
	req->target = (struct span){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	for (i = 0; i < req->target.len; i++) {
		unsigned char c = (unsigned char)req->target.p[i];

		if (c <= 0x20 || c >= 0x7f) {
			fail(err, errlen, "replay-server: invalid character in the request target");
			return 400;
		}
	}
	q = memchr(req->target.p, '?', req->target.len);
	req->path = (struct span){ req->target.p,
				   q ? (size_t)(q - req->target.p) : req->target.len };

	version = (struct span){ sp2 + 1, len - (size_t)(sp2 + 1 - p) };
	if (span_is(version, "HTTP/1.1") || span_is(version, "HTTP/1.0")) {
		req->minor = version.p[7] - '0';
		return 0;
	}
	if (version.len == 8 && memcmp(version.p, "HTTP/", 5) == 0 &&
	    isdigit((unsigned char)version.p[5]) && version.p[6] == '.' &&
	    isdigit((unsigned char)version.p[7])) {
		fail(err, errlen, "replay-server: HTTP version %.8s is not supported; use HTTP/1.1",
		     version.p);
		return 505;
	}
	fail(err, errlen, "replay-server: malformed HTTP version in the request line");
	return 400;
}

static int http_parse_content_length(struct span value, bool *seen,
				     struct http_request *req,
				     char *err, size_t errlen)
{
	size_t n = 0, i;

	if (value.len == 0) {
		fail(err, errlen, "replay-server: empty Content-Length");
		return 400;
	}
	for (i = 0; i < value.len; i++) {
		if (!isdigit((unsigned char)value.p[i])) {
			fail(err, errlen, "replay-server: invalid Content-Length \"%.*s\"",
			     (int)value.len, value.p);
			return 400;
		}
		n = n * 10 + (size_t)(value.p[i] - '0');
		if (n > BODY_MAX) {
			fail(err, errlen, "replay-server: request body is larger than %d bytes",
			     BODY_MAX);
			return 413;
		}
	}
	if (*seen && n != req->content_length) {
		fail(err, errlen, "replay-server: conflicting Content-Length headers");
		return 400;
	}
	*seen = true;
	req->content_length = n;
	return 0;
}

/* Apply the "Connection" tokens; "close" wins over "keep-alive". */
static void http_parse_connection(struct span value, bool *close_seen,
				  bool *keep_alive_seen)
{
	const char *p = value.p, *end = value.p + value.len;

	while (p < end) {
		struct span tok;
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;

		while (p < stop && (*p == ' ' || *p == '\t'))
			p++;
		tok = (struct span){ p, (size_t)(stop - p) };
		while (tok.len > 0 && (tok.p[tok.len - 1] == ' ' ||
				       tok.p[tok.len - 1] == '\t'))
			tok.len--;
		if (span_is_nocase(tok, "close"))
			*close_seen = true;
		else if (span_is_nocase(tok, "keep-alive"))
			*keep_alive_seen = true;
		p = stop + 1;
	}
}

struct header_state {
	bool length_seen;
	bool host_seen;
	bool close_seen;
	bool keep_alive_seen;
};

/* Act on one header we care about. Returns 0 or an HTTP status. */
static int http_apply_header(struct span name, struct span value,
			     struct header_state *st, struct http_request *req,
			     char *err, size_t errlen)
{
	if (span_is_nocase(name, "content-length"))
		return http_parse_content_length(value, &st->length_seen, req,
						 err, errlen);
	if (span_is_nocase(name, "transfer-encoding")) {
		fail(err, errlen, "replay-server: chunked or other transfer-encoded request bodies are not supported; send the body with Content-Length");
		return 411;
	}
	if (span_is_nocase(name, "connection")) {
		http_parse_connection(value, &st->close_seen,
				      &st->keep_alive_seen);
	} else if (span_is_nocase(name, "expect")) {
		if (!span_is_nocase(value, "100-continue")) {
			fail(err, errlen, "replay-server: unsupported expectation \"%.*s\"",
			     (int)value.len, value.p);
			return 417;
		}
		req->expect_continue = true;
	} else if (span_is_nocase(name, "x-api-key")) {
		if (req->has_api_key) {
			fail(err, errlen, "replay-server: duplicate x-api-key header");
			return 400;
		}
		req->has_api_key = true;
		req->api_key = value;
	} else if (span_is_nocase(name, "host") ||
		   span_is_nocase(name, "authorization")) {
		bool host = span_is_nocase(name, "host");

		if (host ? st->host_seen : req->has_auth) {
			fail(err, errlen, "replay-server: duplicate %.*s header",
			     (int)name.len, name.p);
			return 400;
		}
		if (host) {
			st->host_seen = true;
		} else {
			req->has_auth = true;
			req->auth = value;
		}
	}
	return 0;
}

/* Split one header line into name and trimmed value and apply it. */
static int http_parse_header_line(const char *p, size_t len,
				  struct header_state *st,
				  struct http_request *req,
				  char *err, size_t errlen)
{
	const char *colon = memchr(p, ':', len);
	struct span name, value;
	size_t i;

	if (p[0] == ' ' || p[0] == '\t') {
		fail(err, errlen, "replay-server: obsolete header line folding is not accepted");
		return 400;
	}
	if (!colon || !is_token(p, (size_t)(colon - p))) {
		fail(err, errlen, "replay-server: malformed header line \"%.*s\"",
		     (int)(len < 64 ? len : 64), p);
		return 400;
	}
	name = (struct span){ p, (size_t)(colon - p) };
	value = (struct span){ colon + 1, len - name.len - 1 };
	while (value.len > 0 && (value.p[0] == ' ' || value.p[0] == '\t')) {
		value.p++;
		value.len--;
	}
	while (value.len > 0 && (value.p[value.len - 1] == ' ' ||
				 value.p[value.len - 1] == '\t'))
		value.len--;
	for (i = 0; i < value.len; i++) {
		unsigned char c = (unsigned char)value.p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			fail(err, errlen, "replay-server: control character in header %.*s",
			     (int)name.len, name.p);
			return 400;
		}
	}
	return http_apply_header(name, value, st, req, err, errlen);
}

/*
 * Parse the header block buf[0..head_len), which ends in CRLF CRLF.
 * Returns 0, or the HTTP status to reject the request with (err gives the
 * reason).
 */
static int http_parse_head(const char *buf, size_t head_len,
			   struct http_request *req, char *err, size_t errlen)
{
	struct header_state st = { 0 };
	const char *line = buf, *end = buf + head_len - 2, *eol;
	int status, count = 0;

	memset(req, 0, sizeof(*req));
	req->head_len = head_len;
	if (http_check_line_endings(buf, head_len, err, errlen) < 0)
		return 400;

	eol = memmem(line, (size_t)(end - line), "\r\n", 2);
	status = http_parse_request_line(line, (size_t)(eol - line), req, err,
					 errlen);
	if (status)
		return status;

	for (line = eol + 2; line < end; line = eol + 2) {
		eol = memmem(line, (size_t)(end - line), "\r\n", 2);
		if (++count > HEADER_COUNT_MAX) {
			fail(err, errlen, "replay-server: more than %d header lines",
			     HEADER_COUNT_MAX);
			return 431;
		}
		status = http_parse_header_line(line, (size_t)(eol - line), &st,
						req, err, errlen);
		if (status)
			return status;
	}

	if (req->minor == 1 && !st.host_seen) {
		fail(err, errlen, "replay-server: HTTP/1.1 request without a Host header");
		return 400;
	}
	if (req->minor == 1)
		req->keep_alive = !st.close_seen;
	else
		req->keep_alive = st.keep_alive_seen && !st.close_seen;
	return 0;
}

/* ---- HTTP responses ---- */

static const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 417: return "Expectation Failed";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Status";
	}
}

/* Send every byte or fail; MSG_NOSIGNAL keeps a closed peer from raising
 * SIGPIPE. */
static int send_all(int fd, struct iovec *iov, int iovcnt)
{
	struct msghdr mh;
	ssize_t n;

	while (iovcnt > 0) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)iovcnt;
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

struct reply {
	int status;
	const char *headers;	/* extra lines ending in CRLF, or NULL */
	const char *content_type;	/* NULL: application/json */
	const char *body;
	size_t body_len;
	size_t send_len;	/* when not 0, send only this much of the body */
	bool keep_alive;
	bool head_only;		/* a HEAD request gets no body */
};

static int reply_send(struct conn *c, const struct reply *r)
{
	char head[1024];
	struct iovec iov[2];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "%s"
		     "Connection: %s\r\n"
		     "\r\n",
		     r->status, http_reason(r->status),
		     r->content_type ? r->content_type : "application/json",
		     r->body_len,
		     r->headers ? r->headers : "",
		     r->keep_alive ? "keep-alive" : "close");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		fprintf(stderr, "replay-server: response header for status %d is too long\n",
			r->status);
		return -1;
	}

	iov[0] = (struct iovec){ head, (size_t)n };
	iov[1] = (struct iovec){ (void *)r->body,
				 r->send_len ? r->send_len : r->body_len };
	if (send_all(c->fd, iov, r->head_only ? 1 : 2) < 0) {
		fprintf(stderr, "replay-server: connection %lu: send failed: %s\n",
			c->id, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Send an error body shaped like OpenAI's, so clients show the
 * message the way they would show a real API error.
 */
static int reply_error(struct conn *c, const struct http_request *req,
		       int status, const char *message, bool keep_alive)
{
	struct reply r = { 0 };
	cJSON *root, *error;
	char *body;
	int ret;

	root = cJSON_CreateObject();
	error = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(error, "message", message);
	cJSON_AddStringToObject(error, "type", status >= 500 ? "server_error"
							     : "invalid_request_error");
	cJSON_AddNullToObject(error, "param");
	if (status == 401)
		cJSON_AddStringToObject(error, "code", "invalid_api_key");
	else
		cJSON_AddNullToObject(error, "code");
	body = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!body) {
		fprintf(stderr, "replay-server: out of memory\n");
		return -1;
	}

	r.status = status;
	r.body = body;
	r.body_len = strlen(body);
	r.keep_alive = keep_alive && req && req->keep_alive;
	r.head_only = req && span_is(req->method, "HEAD");
	ret = reply_send(c, &r);
	free(body);
	return ret;
}

/* ---- JSON responses as event streams ---- */

/* Print one SSE event; name NULL leaves out the "event:" line. */
static int sse_put(FILE *out, const char *name, const cJSON *data)
{
	char *text = cJSON_PrintUnformatted(data);
	int ret;

	if (!text)
		return -1;
	ret = fprintf(out, "%s%s%sdata: %s\n\n", name ? "event: " : "",
		      name ? name : "", name ? "\n" : "", text) < 0 ? -1 : 0;
	free(text);
	return ret;
}

/* Split a string at about its middle, never inside a UTF-8 sequence. */
static size_t utf8_middle(const char *s)
{
	size_t n = strlen(s) / 2;

	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* One chat.completion.chunk around delta (taken over). */
static int chat_chunk(FILE *out, const cJSON *root, cJSON *delta,
		      const char *finish)
{
	cJSON *chunk = cJSON_CreateObject(), *choices, *choice;
	static const char *const copied[] = { "id", "created", "model", NULL };
	size_t i;
	int ret;

	for (i = 0; copied[i]; i++)
		if (cJSON_GetObjectItemCaseSensitive(root, copied[i]))
			cJSON_AddItemToObject(chunk, copied[i], cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(root, copied[i]),
				true));
	cJSON_AddStringToObject(chunk, "object", "chat.completion.chunk");
	choices = cJSON_AddArrayToObject(chunk, "choices");
	choice = cJSON_CreateObject();
	cJSON_AddItemToArray(choices, choice);
	cJSON_AddNumberToObject(choice, "index", 0);
	cJSON_AddItemToObject(choice, "delta", delta);
	if (finish)
		cJSON_AddStringToObject(choice, "finish_reason", finish);
	else
		cJSON_AddNullToObject(choice, "finish_reason");
	ret = sse_put(out, NULL, chunk);
	cJSON_Delete(chunk);
	return ret;
}

static int chat_text_chunks(FILE *out, const cJSON *root, const char *field,
			    const char *text)
{
	size_t mid = utf8_middle(text);
	char *first = strndup(text, mid);
	cJSON *d1 = cJSON_CreateObject(), *d2 = cJSON_CreateObject();
	int ret;

	cJSON_AddStringToObject(d1, field, first ? first : "");
	cJSON_AddStringToObject(d2, field, text + mid);
	free(first);
	ret = chat_chunk(out, root, d1, NULL);
	return ret < 0 ? (cJSON_Delete(d2), -1) : chat_chunk(out, root, d2, NULL);
}

/* A call as the first delta names it, then its arguments in three parts. */
static int chat_call_chunks(FILE *out, const cJSON *root, const cJSON *call,
			    int index)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(call, "function");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(f, "arguments");
	const char *text = cJSON_IsString(args) ? args->valuestring : "";
	size_t len = strlen(text), at = 0, n;
	cJSON *delta, *calls, *c, *fn;
	char *part;
	int i;

	for (i = -1; i < 3; i++) {
		delta = cJSON_CreateObject();
		calls = cJSON_AddArrayToObject(delta, "tool_calls");
		c = cJSON_CreateObject();
		cJSON_AddItemToArray(calls, c);
		cJSON_AddNumberToObject(c, "index", index);
		fn = cJSON_AddObjectToObject(c, "function");
		if (i < 0) {
			cJSON_AddItemToObject(c, "id", cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(call, "id"), true));
			cJSON_AddStringToObject(c, "type", "function");
			cJSON_AddItemToObject(fn, "name", cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(f, "name"), true));
			cJSON_AddStringToObject(fn, "arguments", "");
		} else {
			n = i == 2 ? len - at : len / 3;
			while (at + n < len && n > 0 &&
			       ((unsigned char)text[at + n] & 0xc0) == 0x80)
				n--;
			part = strndup(text + at, n);
			cJSON_AddStringToObject(fn, "arguments", part ? part : "");
			free(part);
			at += n;
		}
		if (chat_chunk(out, root, delta, NULL) < 0)
			return -1;
	}
	return 0;
}

static int chat_to_sse(FILE *out, const cJSON *root)
{
	const cJSON *choice = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(root, "choices"), 0);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(choice, "message");
	const cJSON *finish = cJSON_GetObjectItemCaseSensitive(choice,
							       "finish_reason");
	const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	const cJSON *refusal = cJSON_GetObjectItemCaseSensitive(msg, "refusal");
	const cJSON *call;
	cJSON *delta = cJSON_CreateObject(), *last;
	int index = 0;

	cJSON_AddStringToObject(delta, "role", "assistant");
	if (chat_chunk(out, root, delta, NULL) < 0)
		return -1;
	if (cJSON_IsString(content) && content->valuestring[0] &&
	    chat_text_chunks(out, root, "content", content->valuestring) < 0)
		return -1;
	if (cJSON_IsString(refusal) && refusal->valuestring[0] &&
	    chat_text_chunks(out, root, "refusal", refusal->valuestring) < 0)
		return -1;
	cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(msg,
							"tool_calls"))
		if (chat_call_chunks(out, root, call, index++) < 0)
			return -1;
	if (chat_chunk(out, root, cJSON_CreateObject(),
		       cJSON_IsString(finish) ? finish->valuestring : "stop") < 0)
		return -1;

	/* What "stream_options": {"include_usage": true} adds. */
	if (cJSON_IsObject(usage)) {
		last = cJSON_CreateObject();
		cJSON_AddArrayToObject(last, "choices");
		cJSON_AddItemToObject(last, "usage", cJSON_Duplicate(usage, true));
		if (sse_put(out, NULL, last) < 0) {
			cJSON_Delete(last);
			return -1;
		}
		cJSON_Delete(last);
	}
	return fprintf(out, "data: [DONE]\n\n") < 0 ? -1 : 0;
}

/* Print one Messages event of the given type with its members. */
static int msg_event(FILE *out, const char *type, cJSON *ev)
{
	int ret;

	cJSON_AddStringToObject(ev, "type", type);
	ret = sse_put(out, type, ev);
	cJSON_Delete(ev);
	return ret;
}

static int msg_delta(FILE *out, int index, const char *type,
		     const char *field, const char *text)
{
	cJSON *ev = cJSON_CreateObject(), *d;

	cJSON_AddNumberToObject(ev, "index", index);
	d = cJSON_AddObjectToObject(ev, "delta");
	cJSON_AddStringToObject(d, "type", type);
	cJSON_AddStringToObject(d, field, text);
	return msg_event(out, "content_block_delta", ev);
}

/* One content block: start, its text or input in two deltas, stop. */
static int msg_block(FILE *out, const cJSON *block, int index)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(block, "type");
	bool tool = cJSON_IsString(type) &&
		    strcmp(type->valuestring, "tool_use") == 0;
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(block, "text");
	char *whole, *first;
	cJSON *ev = cJSON_CreateObject(), *start;
	size_t mid;
	int ret;

	cJSON_AddNumberToObject(ev, "index", index);
	start = cJSON_Duplicate(block, true);
	cJSON_ReplaceItemInObjectCaseSensitive(start, tool ? "input" : "text",
		tool ? cJSON_CreateObject() : cJSON_CreateString(""));
	cJSON_AddItemToObject(ev, "content_block", start);
	if (msg_event(out, "content_block_start", ev) < 0)
		return -1;

	whole = tool ? cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(
			block, "input")) :
		strdup(cJSON_IsString(text) ? text->valuestring : "");
	if (!whole)
		return -1;
	mid = utf8_middle(whole);
	first = strndup(whole, mid);
	ret = (tool && msg_delta(out, index, "input_json_delta",
				 "partial_json", "") < 0) ||
	      msg_delta(out, index, tool ? "input_json_delta" : "text_delta",
			tool ? "partial_json" : "text", first ? first : "") < 0 ||
	      msg_delta(out, index, tool ? "input_json_delta" : "text_delta",
			tool ? "partial_json" : "text", whole + mid) < 0 ? -1 : 0;
	free(first);
	free(whole);
	if (ret < 0)
		return -1;
	ev = cJSON_CreateObject();
	cJSON_AddNumberToObject(ev, "index", index);
	return msg_event(out, "content_block_stop", ev);
}

static int messages_to_sse(FILE *out, const cJSON *root)
{
	const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	const cJSON *block;
	cJSON *ev = cJSON_CreateObject(), *m, *d;
	int index = 0;

	m = cJSON_Duplicate(root, true);
	cJSON_ReplaceItemInObjectCaseSensitive(m, "content", cJSON_CreateArray());
	cJSON_ReplaceItemInObjectCaseSensitive(m, "stop_reason", cJSON_CreateNull());
	cJSON_AddItemToObject(ev, "message", m);
	if (msg_event(out, "message_start", ev) < 0 ||
	    msg_event(out, "ping", cJSON_CreateObject()) < 0)
		return -1;
	cJSON_ArrayForEach(block, cJSON_GetObjectItemCaseSensitive(root,
								   "content"))
		if (msg_block(out, block, index++) < 0)
			return -1;

	ev = cJSON_CreateObject();
	d = cJSON_AddObjectToObject(ev, "delta");
	cJSON_AddItemToObject(d, "stop_reason", cJSON_Duplicate(
		cJSON_GetObjectItemCaseSensitive(root, "stop_reason"), true));
	if (cJSON_IsObject(usage))
		cJSON_AddItemToObject(ev, "usage", cJSON_Duplicate(usage, true));
	if (msg_event(out, "message_delta", ev) < 0)
		return -1;
	return msg_event(out, "message_stop", cJSON_CreateObject());
}

/*
 * The event stream the API would have sent for a turn's JSON response:
 * text in two parts, each tool call's arguments in several, usage at the
 * end. The result is malloc'd into *out.
 */
static int sse_from_json(const struct turn *t, bool messages_api, char **out,
			 size_t *len)
{
	cJSON *root = cJSON_ParseWithLength(t->body, t->body_len);
	FILE *f;
	int ret;

	*out = NULL;
	*len = 0;
	f = open_memstream(out, len);
	if (!root || !f) {
		cJSON_Delete(root);
		if (f)
			fclose(f);
		free(*out);
		*out = NULL;
		return -1;
	}
	ret = messages_api ? messages_to_sse(f, root) : chat_to_sse(f, root);
	if (fclose(f) != 0)
		ret = -1;
	cJSON_Delete(root);
	if (ret < 0) {
		free(*out);
		*out = NULL;
	}
	return ret;
}

/* ---- checks on a chat completions request ---- */

/*
 * Quote up to EXCERPT_MAX bytes of s for an error message, escaping
 * control characters so the message stays on one line. The cut never
 * splits a UTF-8 sequence.
 */
static void excerpt_format(const char *s, size_t len, char *out, size_t outlen)
{
	size_t n = len < EXCERPT_MAX ? len : EXCERPT_MAX, i, o = 0;

	while (n < len && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;

	out[o++] = '"';
	for (i = 0; i < n && o + 8 < outlen; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n')
			o += (size_t)snprintf(out + o, outlen - o, "\\n");
		else if (ch == '\t')
			o += (size_t)snprintf(out + o, outlen - o, "\\t");
		else if (ch == '"' || ch == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	snprintf(out + o, outlen - o, "\"%s", n < len ? "..." : "");
}

/*
 * Return the text of a tool message (a string, or an array of text parts
 * joined) as a new string, or NULL when it has no text content.
 */
static char *tool_message_text(const cJSON *msg)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	const cJSON *part, *text;
	size_t len = 0;
	char *out;

	if (cJSON_IsString(content))
		return strdup(content->valuestring);
	if (!cJSON_IsArray(content))
		return NULL;

	cJSON_ArrayForEach(part, content) {
		text = cJSON_GetObjectItemCaseSensitive(part, "text");
		if (cJSON_IsString(text))
			len += strlen(text->valuestring);
	}
	out = malloc(len + 1);
	if (!out)
		return NULL;
	len = 0;
	cJSON_ArrayForEach(part, content) {
		text = cJSON_GetObjectItemCaseSensitive(part, "text");
		if (cJSON_IsString(text)) {
			memcpy(out + len, text->valuestring,
			       strlen(text->valuestring));
			len += strlen(text->valuestring);
		}
	}
	out[len] = '\0';
	return out;
}

/* A tool_result block for call_id in a Messages API user message. */
static const cJSON *tool_result_find(const cJSON *msg, const char *call_id)
{
	const cJSON *block, *type, *id;

	cJSON_ArrayForEach(block, cJSON_GetObjectItemCaseSensitive(msg,
								   "content")) {
		type = cJSON_GetObjectItemCaseSensitive(block, "type");
		id = cJSON_GetObjectItemCaseSensitive(block, "tool_use_id");
		if (cJSON_IsString(type) &&
		    strcmp(type->valuestring, "tool_result") == 0 &&
		    cJSON_IsString(id) && strcmp(id->valuestring, call_id) == 0)
			return block;
	}
	return NULL;
}

/*
 * Find the first role "tool" message whose tool_call_id is call_id, or
 * the first tool_result block with that tool_use_id. Both hold the result
 * in "content".
 */
static const cJSON *tool_message_find(const cJSON *messages,
				      const char *call_id)
{
	const cJSON *msg, *role, *id, *block;

	cJSON_ArrayForEach(msg, messages) {
		role = cJSON_GetObjectItemCaseSensitive(msg, "role");
		id = cJSON_GetObjectItemCaseSensitive(msg, "tool_call_id");
		if (cJSON_IsString(role) && strcmp(role->valuestring, "tool") == 0 &&
		    cJSON_IsString(id) && strcmp(id->valuestring, call_id) == 0)
			return msg;
		if (cJSON_IsString(role) && strcmp(role->valuestring, "user") == 0 &&
		    (block = tool_result_find(msg, call_id)))
			return block;
	}
	return NULL;
}

/*
 * Check one expected tool result. Returns 0 or -1 with the complaint in
 * err. origin explains in the message why the result was expected.
 */
static int check_tool_result(const cJSON *messages, size_t turn,
			     const char *call_id, const char *contains,
			     const char *origin, char *err, size_t errlen)
{
	char want[EXCERPT_MAX * 4 + 16] = "";
	char got[EXCERPT_MAX * 4 + 16];
	const cJSON *msg;
	char *text;
	bool ok;

	if (contains) {
		size_t n = (size_t)snprintf(want, sizeof(want), " containing ");

		excerpt_format(contains, strlen(contains), want + n,
			       sizeof(want) - n);
	}

	msg = tool_message_find(messages, call_id);
	text = msg ? tool_message_text(msg) : NULL;
	ok = text && (!contains || strstr(text, contains));
	if (ok) {
		free(text);
		return 0;
	}

	if (!msg)
		snprintf(got, sizeof(got), "none");
	else if (!text)
		snprintf(got, sizeof(got), "a tool message without text content");
	else
		excerpt_format(text, strlen(text), got, sizeof(got));
	free(text);
	return fail(err, errlen,
		    "replay-server: turn %zu: expected a tool result for %s%s%s; got: %s",
		    turn, call_id, want, origin, got);
}

static int check_request_shape(const cJSON *root, size_t turn, bool messages_api,
			       bool side, char *err, size_t errlen)
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
	const cJSON *max = cJSON_GetObjectItemCaseSensitive(root, "max_tokens");

	if (messages_api && (!cJSON_IsNumber(max) || max->valuedouble < 1))
		return fail(err, errlen, "replay-server: turn %zu: a Messages request needs a positive \"max_tokens\"",
			    turn);

	if (!cJSON_IsString(model) || model->valuestring[0] == '\0')
		return fail(err, errlen, "replay-server: turn %zu: request has no \"model\" string",
			    turn);
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "messages")))
		return fail(err, errlen, "replay-server: turn %zu: request has no \"messages\" array",
			    turn);
	if (side) {
		if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root,
									"tools")))
			return fail(err, errlen, "replay-server: turn %zu: a side request must offer no tools",
				    turn);
		return 0;
	}
	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "tools")))
		return fail(err, errlen, "replay-server: turn %zu: request has no \"tools\" array",
			    turn);
	return 0;
}

/* True when some string in item, at any depth, contains text. */
static bool json_has_text(const cJSON *item, const char *text)
{
	const cJSON *child;

	if (cJSON_IsString(item))
		return strstr(item->valuestring, text) != NULL;
	cJSON_ArrayForEach(child, item)
		if (json_has_text(child, text))
			return true;
	return false;
}

/* The turn's "contains" and "lacks" checks on messages and system. */
static int check_texts(const cJSON *root, const struct turn *t, size_t turn,
		       char *err, size_t errlen)
{
	const cJSON *messages = cJSON_GetObjectItemCaseSensitive(root,
								 "messages");
	const cJSON *system = cJSON_GetObjectItemCaseSensitive(root, "system");
	char want[EXCERPT_MAX * 4 + 16];
	size_t i;

	for (i = 0; i < t->ncontains; i++) {
		if (json_has_text(messages, t->contains[i]) ||
		    json_has_text(system, t->contains[i]))
			continue;
		excerpt_format(t->contains[i], strlen(t->contains[i]), want,
			       sizeof(want));
		return fail(err, errlen, "replay-server: turn %zu: expected the request's messages to contain %s",
			    turn, want);
	}
	for (i = 0; i < t->nlacks; i++) {
		if (!json_has_text(messages, t->lacks[i]) &&
		    !json_has_text(system, t->lacks[i]))
			continue;
		excerpt_format(t->lacks[i], strlen(t->lacks[i]), want,
			       sizeof(want));
		return fail(err, errlen, "replay-server: turn %zu: expected the request's messages not to contain %s",
			    turn, want);
	}
	return 0;
}

/*
 * A turn of the tool loop whose response reaches the client whole, tool
 * calls and all. Side requests do not count: the results stay due.
 */
static bool turn_answered(const struct turn *t)
{
	return t->fault == FAULT_NONE && t->status >= 200 &&
	       t->status <= 299 && !t->side;
}

/*
 * Every tool call the last answered response made needs its result in
 * this request, whatever the scenario lists; then the scenario's own
 * checks.
 */
static int check_tool_results(const struct scenario *sc, const cJSON *root,
			      size_t turn, char *err, size_t errlen)
{
	const cJSON *messages = cJSON_GetObjectItemCaseSensitive(root,
								 "messages");
	const struct turn *t = &sc->turns[turn];
	char origin[64];
	size_t i, k;

	for (k = turn; k > 0; k--)
		if (turn_answered(&sc->turns[k - 1]))
			break;
	if (k > 0 && !t->side) {
		const struct turn *prev = &sc->turns[k - 1];

		snprintf(origin, sizeof(origin), " (a tool call served in turn %zu)",
			 k - 1);
		for (i = 0; i < prev->ncalls; i++)
			if (check_tool_result(messages, turn, prev->call_ids[i],
					      NULL, origin, err, errlen) < 0)
				return -1;
	}
	for (i = 0; i < t->nexpects; i++)
		if (check_tool_result(messages, turn, t->expects[i].call_id,
				      t->expects[i].contains, "", err,
				      errlen) < 0)
			return -1;
	return 0;
}

static bool check_auth(const struct server *srv, const struct http_request *req)
{
	const char *key = srv->opt.api_key;
	struct span a = req->auth;

	if (!key)
		return true;
	if (req->has_api_key && req->api_key.len == strlen(key) &&
	    memcmp(req->api_key.p, key, req->api_key.len) == 0)
		return true;
	if (!req->has_auth || a.len < 7 || strncasecmp(a.p, "Bearer ", 7) != 0)
		return false;
	return a.len - 7 == strlen(key) && memcmp(a.p + 7, key, a.len - 7) == 0;
}

static int record_request(const struct server *srv, size_t turn,
			  const struct http_request *req, char *err,
			  size_t errlen)
{
	char path[PATH_MAX], why[MSG_MAX];
	int n;

	if (!srv->opt.record_dir)
		return 0;
	n = snprintf(path, sizeof(path), "%s/turn%zu.request.json",
		     srv->opt.record_dir, turn);
	if (n < 0 || (size_t)n >= sizeof(path))
		return fail(err, errlen, "replay-server: --record path is too long");
	if (file_write_atomic(path, req->body, req->content_length, why,
			      sizeof(why)) < 0)
		return fail(err, errlen, "replay-server: cannot record turn %zu: %s",
			    turn, why);
	return 0;
}

/*
 * Run every check on a request for turn n. Returns 0 when the turn may be
 * served, else the HTTP status to answer with (err is the message).
 */
static int chat_check(const struct server *srv, const struct http_request *req,
		      size_t n, bool messages_api, bool *stream, char *err,
		      size_t errlen)
{
	const struct turn *t;
	cJSON *root;
	int status = 400;

	if (!check_auth(srv, req)) {
		fail(err, errlen, "replay-server: turn %zu: missing or wrong Authorization header; expected \"Bearer\" followed by the key given with --api-key (or that key in x-api-key)",
		     n);
		return 401;
	}
	if (record_request(srv, n, req, err, errlen) < 0)
		return 500;
	if (n >= srv->sc.nturns) {
		fail(err, errlen, "replay-server: scenario has no turn %zu (it has %zu turns)",
		     n, srv->sc.nturns);
		return 500;
	}

	root = cJSON_ParseWithLength(req->body, req->content_length);
	if (!cJSON_IsObject(root)) {
		fail(err, errlen, "replay-server: turn %zu: request body is not a JSON object",
		     n);
		goto out;
	}
	t = &srv->sc.turns[n];
	*stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "stream"));
	if (t->sse && !*stream && (turn_answered(t) || t->side)) {
		fail(err, errlen, "replay-server: turn %zu: the response %s is an event stream but the request did not ask for \"stream\": true",
		     n, t->file);
		goto out;
	}
	if (check_request_shape(root, n, messages_api, t->side, err,
				errlen) < 0 ||
	    check_tool_results(&srv->sc, root, n, err, errlen) < 0 ||
	    check_texts(root, t, n, err, errlen) < 0)
		goto out;
	status = 0;
out:
	cJSON_Delete(root);
	return status;
}

/* ---- routing ---- */

/* Close with a TCP reset: SO_LINGER with a zero timeout drops the data. */
static void conn_reset(struct conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/*
 * The bytes a turn answers with: the file as it is, or made into an event
 * stream, or broken as its fault says. *owned is set when the body was
 * built here and must be freed.
 */
static int turn_body(const struct turn *t, bool stream, bool messages_api,
		     struct reply *r, char **owned)
{
	size_t cut;
	const char *end;

	*owned = NULL;
	r->body = t->body;
	r->body_len = t->body_len;
	r->content_type = "application/json";
	if (t->fault == FAULT_NON_JSON) {
		r->body = "<html><body><h1>502 Bad Gateway</h1></body></html>\n";
		r->body_len = strlen(r->body);
		return 0;
	}
	if (t->fault == FAULT_HUGE) {
		*owned = malloc(HUGE_BODY);
		if (!*owned)
			return -1;
		memset(*owned, 'x', HUGE_BODY);
		memcpy(*owned, "{\"pad\":\"", 8);
		memcpy(*owned + HUGE_BODY - 2, "\"}", 2);
		r->body = *owned;
		r->body_len = HUGE_BODY;
		return 0;
	}
	if (stream && (t->sse || (t->status >= 200 && t->status <= 299))) {
		r->content_type = "text/event-stream";
		if (!t->sse && sse_from_json(t, messages_api, owned,
					     &r->body_len) < 0)
			return -1;
		if (*owned)
			r->body = *owned;
	}
	if (t->fault == FAULT_TRUNCATE || t->fault == FAULT_STALL) {
		/* End at the first event boundary past the middle. */
		end = memmem(r->body + r->body_len / 2,
			     r->body_len - r->body_len / 2, "\n\n", 2);
		cut = end ? (size_t)(end - r->body) + 2 : r->body_len / 2;
		/* A stall announces the whole length and never sends the rest. */
		if (t->fault == FAULT_STALL)
			r->send_len = cut;
		else
			r->body_len = cut;
	}
	return 0;
}

static int chat_handle(struct server *srv, struct conn *c,
		       const struct http_request *req, bool messages_api)
{
	char msg[MSG_MAX], *owned = NULL;
	const struct turn *t;
	struct reply r = { 0 };
	bool stream = false;
	int status, ret;

	status = chat_check(srv, req, srv->next_turn, messages_api, &stream,
			    msg, sizeof(msg));
	if (status) {
		srv->failures++;
		fprintf(stderr, "%s\n", msg);
		return reply_error(c, req, status, msg, true);
	}

	t = &srv->sc.turns[srv->next_turn];
	if (turn_body(t, stream, messages_api, &r, &owned) < 0) {
		fprintf(stderr, "replay-server: out of memory\n");
		return -1;
	}
	fprintf(stderr, "replay-server: turn %zu: served %s (%zu bytes, status %d%s%s)\n",
		srv->next_turn, t->file, r.body_len, t->status,
		stream ? ", streamed" : "",
		t->fault == FAULT_NONE ? "" : ", with a fault");
	srv->next_turn++;

	r.status = t->status;
	r.headers = t->headers;
	r.keep_alive = req->keep_alive && t->fault != FAULT_RESET;
	if (t->fault == FAULT_RESET) {
		r.send_len = r.body_len / 2;
		conn_reset(c);
	}
	ret = reply_send(c, &r);
	free(owned);
	return t->fault == FAULT_RESET ? -1 : ret;
}

static int request_handle(struct server *srv, struct conn *c,
			  const struct http_request *req)
{
	char msg[MSG_MAX];

	if (span_is(req->method, "POST") &&
	    span_ends_with(req->path, "/chat/completions"))
		return chat_handle(srv, c, req, false);
	if (span_is(req->method, "POST") &&
	    span_ends_with(req->path, "/messages"))
		return chat_handle(srv, c, req, true);

	/* Not a failure of the scenario: clients may probe other endpoints. */
	snprintf(msg, sizeof(msg),
		 "replay-server: no route for %.*s %.*s; only POST to a path ending in /chat/completions or /messages is served",
		 (int)req->method.len, req->method.p,
		 (int)(req->target.len < 200 ? req->target.len : 200),
		 req->target.p);
	fprintf(stderr, "%s\n", msg);
	return reply_error(c, req, 404, msg, true);
}

/* ---- connections ---- */

static void conn_close(struct conn *c)
{
	if (c->fd < 0)
		return;
	fprintf(stderr, "replay-server: connection %lu closed\n", c->id);
	close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/*
 * Close after an error response while the client may still be sending.
 * Closing a socket with unread bytes makes the kernel send a reset, which
 * can destroy the response before the client reads it. So stop writing,
 * discard what is still in flight (bounded in bytes and time), then close.
 */
static void conn_drain_close(struct conn *c)
{
	struct timeval tv = { .tv_usec = DRAIN_WAIT_USEC };
	struct timespec start, now;
	char sink[4096];
	size_t total = 0;
	ssize_t n;

	shutdown(c->fd, SHUT_WR);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		n = recv(c->fd, sink, sizeof(sink), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += (size_t)n;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (total >= DRAIN_MAX || now.tv_sec - start.tv_sec >= DRAIN_SEC)
			break;
	}
	conn_close(c);
}

/* Reject a request whose framing cannot be trusted, then close. */
static void conn_reject(struct server *srv, struct conn *c, int status,
			const char *msg)
{
	srv->failures++;
	fprintf(stderr, "%s (connection %lu)\n", msg, c->id);
	if (reply_error(c, NULL, status, msg, false) < 0) {
		conn_close(c);
		return;
	}
	conn_drain_close(c);
}

/*
 * Handle every complete request in the buffer. Returns once more bytes are
 * needed, and closes the connection when the client requests it or an
 * error leaves the framing in doubt.
 */
static void conn_process(struct server *srv, struct conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct http_request req;
	char err[MSG_MAX];
	const char *end;
	size_t used;
	int status;

	while (c->fd >= 0) {
		end = memmem(c->buf, c->len < HEAD_MAX ? c->len : HEAD_MAX,
			     "\r\n\r\n", 4);
		if (!end) {
			if (c->len >= HEAD_MAX) {
				snprintf(err, sizeof(err),
					 "replay-server: request header is larger than %d bytes",
					 HEAD_MAX);
				conn_reject(srv, c, 431, err);
			}
			return;
		}

		status = http_parse_head(c->buf, (size_t)(end - c->buf) + 4,
					 &req, err, sizeof(err));
		if (status) {
			conn_reject(srv, c, status, err);
			return;
		}
		if (c->len - req.head_len < req.content_length) {
			if (req.expect_continue && !c->continue_sent) {
				struct iovec iov = { (void *)cont, sizeof(cont) - 1 };

				if (send_all(c->fd, &iov, 1) < 0) {
					conn_close(c);
					return;
				}
				c->continue_sent = true;
			}
			return;
		}

		req.body = c->buf + req.head_len;
		if (request_handle(srv, c, &req) < 0 || !req.keep_alive) {
			conn_close(c);
			return;
		}
		used = req.head_len + req.content_length;
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		c->continue_sent = false;
	}
}

static void conn_read(struct server *srv, struct conn *c)
{
	size_t max = HEAD_MAX + BODY_MAX, want;
	ssize_t n;
	char *grown;

	if (c->cap - c->len < READ_CHUNK && c->cap < max) {
		want = c->cap + READ_CHUNK < max ? c->cap + READ_CHUNK : max;
		grown = realloc(c->buf, want);
		if (!grown) {
			fprintf(stderr, "replay-server: connection %lu: out of memory\n",
				c->id);
			conn_close(c);
			return;
		}
		c->buf = grown;
		c->cap = want;
	}

	n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0)
		fprintf(stderr, "replay-server: connection %lu: receive failed: %s\n",
			c->id, strerror(errno));
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	conn_process(srv, c);
}

static void conn_accept(struct server *srv)
{
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_SEC };
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	struct conn *c = NULL;
	char addr[INET_ADDRSTRLEN] = "?";
	int fd, i;

	fd = accept4(srv->listen_fd, (struct sockaddr *)&peer, &plen,
		     SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			fprintf(stderr, "replay-server: accept failed: %s\n",
				strerror(errno));
		return;
	}
	for (i = 0; i < CONNS_MAX && !c; i++)
		if (srv->conns[i].fd < 0)
			c = &srv->conns[i];
	if (!c) {
		/* Not reached: the listening socket is only polled with a
		 * free slot. Kept so a slip cannot overrun the table. */
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	c->fd = fd;
	c->id = ++srv->conn_count;
	inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr));
	fprintf(stderr, "replay-server: connection %lu from %s:%u accepted\n",
		c->id, addr, (unsigned)ntohs(peer.sin_port));
}

/* ---- server ---- */

static int server_summary(const struct server *srv)
{
	bool ok = srv->next_turn == srv->sc.nturns && srv->failures == 0;

	fprintf(stderr, "replay-server: %zu of %zu turns served, %lu check%s failed\n",
		srv->next_turn, srv->sc.nturns, srv->failures,
		srv->failures == 1 ? "" : "s");
	return ok ? 0 : 1;
}

/* Serve until SIGTERM or SIGINT, then return the exit status. */
static int server_run(struct server *srv)
{
	struct pollfd pfd[CONNS_MAX + 2];
	struct conn *owner[CONNS_MAX + 2];
	struct signalfd_siginfo si;
	int i, n, nfds, free_slots;

	for (;;) {
		nfds = 0;
		free_slots = 0;
		pfd[nfds++] = (struct pollfd){ .fd = srv->signal_fd, .events = POLLIN };
		for (i = 0; i < CONNS_MAX; i++) {
			if (srv->conns[i].fd < 0) {
				free_slots++;
				continue;
			}
			owner[nfds] = &srv->conns[i];
			pfd[nfds++] = (struct pollfd){ .fd = srv->conns[i].fd,
						       .events = POLLIN };
		}
		if (free_slots > 0)
			pfd[nfds++] = (struct pollfd){ .fd = srv->listen_fd,
						       .events = POLLIN };

		n = poll(pfd, (nfds_t)nfds, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "replay-server: poll failed: %s\n",
				strerror(errno));
			return 1;
		}

		if (pfd[0].revents & POLLIN) {
			if (read(srv->signal_fd, &si, sizeof(si)) == sizeof(si))
				fprintf(stderr, "replay-server: received %s, stopping\n",
					si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			return server_summary(srv);
		}
		for (i = 1; i < nfds; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == srv->listen_fd)
				conn_accept(srv);
			else
				conn_read(srv, owner[i]);
		}
	}
}

static int listen_open(struct server *srv, char *err, size_t errlen)
{
	struct sockaddr_in addr = { 0 };
	socklen_t alen = sizeof(addr);
	int one = 1;

	srv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0)
		return fail(err, errlen, "socket: %s", strerror(errno));
	setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((unsigned short)srv->opt.port);
	if (bind(srv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return fail(err, errlen, "cannot bind 127.0.0.1:%ld: %s",
			    srv->opt.port, strerror(errno));
	if (listen(srv->listen_fd, 16) < 0)
		return fail(err, errlen, "listen: %s", strerror(errno));
	if (getsockname(srv->listen_fd, (struct sockaddr *)&addr, &alen) < 0)
		return fail(err, errlen, "getsockname: %s", strerror(errno));
	srv->opt.port = ntohs(addr.sin_port);
	return 0;
}

/*
 * Take SIGTERM and SIGINT through a signalfd. They are blocked from the
 * start, before the port file announces us, so a signal sent as soon as
 * the port is known still ends in the summary rather than default termination.
 */
static int signals_open(struct server *srv, char *err, size_t errlen)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return fail(err, errlen, "sigprocmask: %s", strerror(errno));
	srv->signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (srv->signal_fd < 0)
		return fail(err, errlen, "signalfd: %s", strerror(errno));
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: replay-server --scenario FILE [--port N] [--port-file FILE]\n"
		"                     [--record DIR] [--api-key KEY]\n"
		"\n"
		"Serve the turns of a Chat Completions or Messages scenario on 127.0.0.1.\n"
		"  --scenario FILE   scenario JSON: {\"turns\": [{\"response\": FILE, \"expect\": [...]}]}\n"
		"  --port N          TCP port to listen on (default 0: any free port)\n"
		"  --port-file FILE  write the port number here once listening\n"
		"  --record DIR      write each request body to DIR/turnN.request.json\n"
		"  --api-key KEY     require \"Authorization: Bearer KEY\"\n"
		"Exit status on SIGTERM or SIGINT: 0 when every turn was served and no\n"
		"check failed, 1 otherwise, 2 for usage and start-up errors.\n");
}

static int options_parse(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "scenario", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "record", required_argument, NULL, 'r' },
		{ "api-key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': opt->scenario = optarg; break;
		case 'f': opt->port_file = optarg; break;
		case 'r': opt->record_dir = optarg; break;
		case 'k': opt->api_key = optarg; break;
		case 'p':
			errno = 0;
			opt->port = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || opt->port < 0 ||
			    opt->port > 65535) {
				fprintf(stderr, "replay-server: invalid --port \"%s\": expected 0 to 65535\n",
					optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || !opt->scenario) {
		fprintf(stderr, "replay-server: %s\n", optind != argc ?
			"unexpected argument" : "--scenario FILE is required");
		usage(stderr);
		return -1;
	}
	return 0;
}

static int server_start(struct server *srv, char *err, size_t errlen)
{
	char port[16];
	int n;

	if (signals_open(srv, err, errlen) < 0 ||
	    scenario_load(&srv->sc, srv->opt.scenario, err, errlen) < 0)
		return -1;
	if (srv->opt.record_dir && mkdir(srv->opt.record_dir, 0755) < 0 &&
	    errno != EEXIST)
		return fail(err, errlen, "cannot create --record directory \"%s\": %s",
			    srv->opt.record_dir, strerror(errno));
	if (listen_open(srv, err, errlen) < 0)
		return -1;

	n = snprintf(port, sizeof(port), "%ld\n", srv->opt.port);
	if (srv->opt.port_file &&
	    file_write_atomic(srv->opt.port_file, port, (size_t)n, err,
			      errlen) < 0)
		return -1;
	fprintf(stderr, "replay-server: %zu turns loaded from %s\n",
		srv->sc.nturns, srv->opt.scenario);
	fprintf(stderr, "replay-server: listening on 127.0.0.1:%ld\n",
		srv->opt.port);
	return 0;
}

static void server_free(struct server *srv)
{
	int i;

	for (i = 0; i < CONNS_MAX; i++)
		conn_close(&srv->conns[i]);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->signal_fd >= 0)
		close(srv->signal_fd);
	scenario_free(&srv->sc);
}

int main(int argc, char **argv)
{
	static struct server srv;
	char err[MSG_MAX];
	int i, status = 2;

	srv.listen_fd = -1;
	srv.signal_fd = -1;
	for (i = 0; i < CONNS_MAX; i++)
		srv.conns[i].fd = -1;

	if (options_parse(argc, argv, &srv.opt) < 0)
		goto out;
	if (server_start(&srv, err, sizeof(err)) < 0) {
		fprintf(stderr, "replay-server: %s\n", err);
		goto out;
	}
	status = server_run(&srv);
out:
	server_free(&srv);
	return status;
}
