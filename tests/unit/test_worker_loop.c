/*
 * The worker end to end: this test plays the supervisor over the
 * socketpair (config, connect, tool replies) and runs a small HTTP server on
 * 127.0.0.1 that answers the worker's model requests with recorded or
 * scripted Chat Completions responses.
 *
 * COWORKER_BUILD names the build directory (default "build").
 * COWORKER_TEST_WRAPPER, when set, is a command prefix for the worker (for
 * example "strace -f -o /tmp/worker.trace"); the confinement check of
 * /proc/PID/status is skipped then, because PID is the wrapper's.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "proto/proto.h"

#define FIXTURES "tests/fixtures/openai/fantasy-gpt-4o-parallel-tools"
#define EXCHANGES_MAX 8
#define REQUEST_MAX (1024 * 1024)

struct exchange {
	int status;
	char *response;		/* body to send */
	char *request;		/* body received */
	char authorization[256];
};

struct server {
	int listen_fd;
	int port;
	pthread_t thread;
	struct exchange ex[EXCHANGES_MAX];
	int count;		/* exchanges scripted */
	int served;
};

struct session {
	struct server srv;
	pid_t pid;
	int sock;
	int exit_status;	/* -1 when killed by a signal */
	int landlock_abi;
	cJSON *events;		/* every event the worker sent, in order */
	int connects;
	bool refuse_connect;
	long max_turns;
	const char *api_key;
	const char *skills;	/* the config's skills section, or NULL */
	char workspace[64];
	long vm_rss_kb;		/* sampled while the worker waited */
};

static char *read_file_text(const char *path)
{
	struct stat st;
	char *text;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	text = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(text);
	assert_int_equal(read(fd, text, (size_t)st.st_size), st.st_size);
	close(fd);
	return text;
}

/* Read one HTTP request: headers up to the blank line, then the body. */
static void server_read_request(int fd, struct exchange *ex)
{
	char *buf = calloc(1, REQUEST_MAX + 1), *end, *p;
	size_t len = 0, want = 0;
	ssize_t n;

	assert_non_null(buf);
	while (!(end = strstr(buf, "\r\n\r\n")) && len < REQUEST_MAX) {
		n = read(fd, buf + len, REQUEST_MAX - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (end) {
		for (p = buf; p < end; p = strstr(p, "\r\n") + 2) {
			if (strncasecmp(p, "Content-Length:", 15) == 0)
				want = strtoul(p + 15, NULL, 10);
			if (strncasecmp(p, "Authorization:", 14) == 0)
				sscanf(p + 14, " %255[^\r]", ex->authorization);
		}
		end += 4;
		while ((size_t)(buf + len - end) < want && len < REQUEST_MAX) {
			n = read(fd, buf + len, REQUEST_MAX - len);
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		ex->request = strndup(end, want);
	}
	free(buf);
}

static void *server_main(void *arg)
{
	struct server *srv = arg;
	struct exchange *ex;
	char head[256];
	int fd;

	while (srv->served < srv->count) {
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			break;
		ex = &srv->ex[srv->served++];
		server_read_request(fd, ex);
		snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: "
			 "application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", ex->status,
			 strlen(ex->response));
		if (write(fd, head, strlen(head)) < 0 ||
		    write(fd, ex->response, strlen(ex->response)) < 0)
			perror("server write");
		close(fd);
	}
	return NULL;
}

static void server_start(struct server *srv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(srv->listen_fd >= 0);
	assert_int_equal(bind(srv->listen_fd, (struct sockaddr *)&addr,
			      sizeof(addr)), 0);
	assert_int_equal(listen(srv->listen_fd, 8), 0);
	assert_int_equal(getsockname(srv->listen_fd, (struct sockaddr *)&addr,
				     &len), 0);
	srv->port = ntohs(addr.sin_port);
	assert_int_equal(pthread_create(&srv->thread, NULL, server_main, srv),
			 0);
}

/*
 * shutdown() wakes a thread blocked in accept() when fewer came. The
 * requests received stay for the checks; server_free_requests frees them.
 */
static void server_stop(struct server *srv)
{
	int i;

	shutdown(srv->listen_fd, SHUT_RDWR);
	pthread_join(srv->thread, NULL);
	close(srv->listen_fd);
	for (i = 0; i < srv->count; i++) {
		free(srv->ex[i].response);
		srv->ex[i].response = NULL;
	}
}

static void server_free_requests(struct server *srv)
{
	int i;

	for (i = 0; i < EXCHANGES_MAX; i++) {
		free(srv->ex[i].request);
		srv->ex[i].request = NULL;
	}
}

static void script(struct session *s, int status, char *response)
{
	assert_true(s->srv.count < EXCHANGES_MAX);
	s->srv.ex[s->srv.count].status = status;
	s->srv.ex[s->srv.count].response = response;
	s->srv.count++;
}

static const char *build_dir(void)
{
	const char *dir = getenv("COWORKER_BUILD");

	return dir && dir[0] ? dir : "build";
}

static pid_t spawn_worker(int fd3)
{
	const char *wrapper = getenv("COWORKER_TEST_WRAPPER");
	char path[4096], cmd[8192];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/coworker-worker", build_dir());
	pid = fork();
	assert_true(pid >= 0);
	if (pid > 0)
		return pid;

	/* Child: the socket on descriptor 3, a minimal environment. */
	if (fd3 != 3 && (dup2(fd3, 3) < 0 || close(fd3) < 0))
		_exit(126);
	if (fd3 == 3)
		fcntl(3, F_SETFD, 0);
	if (wrapper) {
		snprintf(cmd, sizeof(cmd), "exec %s %s", wrapper, path);
		execle("/bin/sh", "sh", "-c", cmd, (char *)NULL,
		       (char *[]){ "PATH=/usr/bin:/bin", NULL });
	} else {
		execle(path, "coworker-worker", (char *)NULL,
		       (char *[]){ NULL });
	}
	_exit(127);
}

static int status_field(pid_t pid, const char *name, long *value)
{
	char path[64], line[256];
	size_t len = strlen(name);
	FILE *f;
	int found = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, name, len) == 0 && line[len] == ':') {
			*value = strtol(line + len + 1, NULL, 10);
			found = 0;
		}
	fclose(f);
	return found;
}

static void send_msg(struct session *s, enum proto_type_id type, long id,
		     cJSON *fields, int fd)
{
	char err[256];

	if (proto_send(s->sock, type, id, fields, fd, err, sizeof(err)) < 0)
		fail_msg("proto_send: %s", err);
	cJSON_Delete(fields);
}

static void send_config(struct session *s)
{
	cJSON *c = cJSON_CreateObject();
	char url[128], resolve[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", s->srv.port);
	snprintf(resolve, sizeof(resolve), "127.0.0.1:%d:127.0.0.1",
		 s->srv.port);
	cJSON_AddStringToObject(c, "model", "gpt-4o");
	cJSON_AddStringToObject(c, "base_url", url);
	cJSON_AddStringToObject(c, "resolve", resolve);
	if (s->api_key)
		cJSON_AddStringToObject(c, "api_key", s->api_key);
	cJSON_AddNumberToObject(c, "max_turns", (double)s->max_turns);
	cJSON_AddStringToObject(c, "workspace", s->workspace);
	if (s->skills)
		cJSON_AddStringToObject(c, "skills", s->skills);
	send_msg(s, PROTO_CONFIG, 1, c, -1);
}

static int connect_server(struct session *s)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((uint16_t)s->srv.port);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
			 0);
	return fd;
}

static cJSON *reply_ok(void)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddBoolToObject(r, "ok", true);
	return r;
}

static cJSON *reply_error(const char *error)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddBoolToObject(r, "ok", false);
	cJSON_AddStringToObject(r, "error", error);
	return r;
}

static int memfd_with(const char *text)
{
	int fd = memfd_create("test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

static char written[256];	/* content of the last write_file memfd */

static void answer_write_file(struct session *s, struct proto_msg *m)
{
	const int all = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
	char text[128];
	ssize_t n;
	cJSON *r;

	assert_int_equal(fcntl(m->fd, F_GET_SEALS) & all, all);
	n = pread(m->fd, written, sizeof(written) - 1, 0);
	assert_true(n >= 0);
	written[n] = '\0';
	r = reply_ok();
	snprintf(text, sizeof(text), "wrote %zd bytes to %s", n,
		 proto_str(m, "path"));
	cJSON_AddStringToObject(r, "content", text);
	send_msg(s, PROTO_REPLY, m->id, r, -1);
}

static void answer_run_command(struct session *s, struct proto_msg *m)
{
	cJSON *r = reply_ok();
	int fd = memfd_with("hi\n");

	cJSON_AddNumberToObject(r, "exit_code", 0);
	cJSON_AddNumberToObject(r, "signal", 0);
	cJSON_AddBoolToObject(r, "timed_out", false);
	cJSON_AddNumberToObject(r, "output_bytes", 3);
	cJSON_AddBoolToObject(r, "truncated", false);
	cJSON_AddNumberToObject(r, "duration_ms", 5);
	send_msg(s, PROTO_REPLY, m->id, r, fd);
	close(fd);
}

/* The supervisor's side of each request the worker can make. */
static void answer(struct session *s, struct proto_msg *m)
{
	const char *path = proto_str(m, "path");
	cJSON *r;
	int fd;

	switch (m->type->id) {
	case PROTO_CONNECT:
		if (++s->connects == 2)
			status_field(s->pid, "VmRSS", &s->vm_rss_kb);
		if (s->refuse_connect) {
			send_msg(s, PROTO_REPLY, m->id, reply_error("denied: "
				 "connections to this host are not allowed"), -1);
			return;
		}
		fd = connect_server(s);
		send_msg(s, PROTO_REPLY, m->id, reply_ok(), fd);
		close(fd);
		return;
	case PROTO_READ_FILE:
		if (strcmp(path, "notes.txt") != 0) {
			send_msg(s, PROTO_REPLY, m->id,
				 reply_error("not found: \"missing.txt\""), -1);
			return;
		}
		/* The offset is left at the end, as after writing a memfd. */
		fd = memfd_with("line one\n");
		send_msg(s, PROTO_REPLY, m->id, reply_ok(), fd);
		close(fd);
		return;
	case PROTO_WRITE_FILE:
		answer_write_file(s, m);
		return;
	case PROTO_EDIT_FILE:
		send_msg(s, PROTO_REPLY, m->id, reply_error("denied: "
			 "\".git/hooks/pre-commit\" is protected: the broker "
			 "never writes there"), -1);
		return;
	case PROTO_LIST_DIRECTORY:
		r = reply_ok();
		cJSON_AddStringToObject(r, "content", "notes.txt\nsrc/");
		send_msg(s, PROTO_REPLY, m->id, r, -1);
		return;
	case PROTO_RUN_COMMAND:
		answer_run_command(s, m);
		return;
	case PROTO_LOAD_SKILL:
		if (proto_str(m, "file")) {
			send_msg(s, PROTO_REPLY, m->id, reply_error("skill "
				 "demo-skill/missing.md: No such file or "
				 "directory"), -1);
			return;
		}
		fd = memfd_with("# Demo\nStep one.\n");
		send_msg(s, PROTO_REPLY, m->id, reply_ok(), fd);
		close(fd);
		return;
	default:
		cJSON_AddItemToArray(s->events, cJSON_Duplicate(m->root, true));
	}
}

static void check_confined(struct session *s)
{
	long seccomp = -1, nnp = -1;

	if (getenv("COWORKER_TEST_WRAPPER"))
		return;
	assert_int_equal(status_field(s->pid, "Seccomp", &seccomp), 0);
	assert_int_equal(seccomp, 2);
	assert_int_equal(status_field(s->pid, "NoNewPrivs", &nnp), 0);
	assert_int_equal(nnp, 1);
}

static void run_session(struct session *s, const char *task)
{
	struct proto_msg m;
	char err[256];
	int sv[2], status, rc;
	cJSON *t;

	server_start(&s->srv);
	s->events = cJSON_CreateArray();
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				    sv), 0);
	s->pid = spawn_worker(sv[1]);
	close(sv[1]);
	s->sock = sv[0];

	send_config(s);
	rc = proto_recv(s->sock, PROTO_FROM_WORKER, &m, err, sizeof(err));
	if (rc != 1)
		fail_msg("no ready message: %s", rc < 0 ? err : "socket closed");
	assert_string_equal(m.type->name, "ready");
	s->landlock_abi = (int)proto_int(&m, "landlock_abi", -1);
	proto_msg_free(&m);
	check_confined(s);

	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "text", task);
	send_msg(s, PROTO_TASK, 2, t, -1);

	while ((rc = proto_recv(s->sock, PROTO_FROM_WORKER, &m, err,
				sizeof(err))) == 1) {
		/* As the supervisor does: one task, then the worker may go. */
		if (m.type->id == PROTO_DONE)
			shutdown(s->sock, SHUT_WR);
		/* turn_start has tests of its own (test_worker_tasks). */
		if (m.type->id != PROTO_TURN_START)
			answer(s, &m);
		proto_msg_free(&m);
	}
	if (rc < 0)
		fail_msg("bad message from the worker: %s", err);

	assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
	s->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (WIFSIGNALED(status))
		print_message("# worker killed by signal %d\n", WTERMSIG(status));
	close(s->sock);
	server_stop(&s->srv);
}

static void session_free(struct session *s)
{
	server_free_requests(&s->srv);
	cJSON_Delete(s->events);
}

static const cJSON *event(const struct session *s, int index,
			  const char *type)
{
	const cJSON *e = cJSON_GetArrayItem(s->events, index);

	assert_non_null(e);
	assert_string_equal(cJSON_GetObjectItem(e, "type")->valuestring, type);
	return e;
}

static const char *field_str(const cJSON *e, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(e, name);

	assert_true(cJSON_IsString(item));
	return item->valuestring;
}

static double field_num(const cJSON *e, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(e, name);

	assert_true(cJSON_IsNumber(item));
	return item->valuedouble;
}

/* The messages array of the request body the server received. */
static cJSON *request_messages(const struct session *s, int index)
{
	cJSON *body;

	assert_non_null(s->srv.ex[index].request);
	body = cJSON_Parse(s->srv.ex[index].request);
	assert_non_null(body);
	return body;
}

static void session_init(struct session *s)
{
	memset(s, 0, sizeof(*s));
	s->max_turns = 10;
	snprintf(s->workspace, sizeof(s->workspace), "/tmp/workspace");
}

static const char *tool_content(const cJSON *messages, int index)
{
	const cJSON *m = cJSON_GetArrayItem(messages, index);

	assert_non_null(m);
	assert_string_equal(field_str(m, "role"), "tool");
	return field_str(m, "content");
}

static void fixture_conversation(void **state)
{
	struct session s;
	const cJSON *e, *msgs;
	cJSON *body;

	(void)state;
	session_init(&s);
	script(&s, 200, read_file_text(FIXTURES ".turn0.response.json"));
	script(&s, 200, read_file_text(FIXTURES ".turn1.response.json"));
	run_session(&s, "Add and multiply the number 2 and 3");

	assert_int_equal(s.exit_status, 0);
	assert_int_equal(cJSON_GetArraySize(s.events), 4);
	e = event(&s, 0, "turn");
	assert_int_equal(field_num(e, "turn"), 1);
	assert_string_equal(field_str(e, "finish_reason"), "tool_calls");
	assert_string_equal(field_str(e, "model"), "gpt-4o-2024-08-06");
	assert_int_equal(field_num(e, "prompt_tokens"), 110);
	assert_int_equal(field_num(e, "completion_tokens"), 50);
	assert_int_equal(field_num(e, "tool_calls"), 2);
	e = event(&s, 1, "turn");
	assert_int_equal(field_num(e, "turn"), 2);
	assert_int_equal(field_num(e, "tool_calls"), 0);
	e = event(&s, 2, "text");
	assert_string_equal(field_str(e, "text"), "The result of adding 2 and 3 "
			    "is 5, and the result of multiplying 2 and 3 is 6.");
	e = event(&s, 3, "done");
	assert_string_equal(field_str(e, "status"), "ok");
	assert_string_equal(field_str(e, "summary"), "The result of adding 2 "
			    "and 3 is 5, and the result of multiplying 2 and 3 "
			    "is 6.");

	/* The model's tools are unknown here, so each result says so. */
	body = request_messages(&s, 1);
	msgs = cJSON_GetObjectItem(body, "messages");
	assert_int_equal(cJSON_GetArraySize(msgs), 5);
	assert_string_equal(tool_content(msgs, 3), "error: unknown tool \"add\"");
	assert_string_equal(tool_content(msgs, 4),
			    "error: unknown tool \"multiply\"");
	assert_string_equal(field_str(body, "tool_choice"), "auto");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(body, "tools")),
			 9);
	assert_string_equal(s.srv.ex[0].authorization, "");
	cJSON_Delete(body);

	print_message("# landlock ABI reported by the worker: %d\n",
		      s.landlock_abi);
	print_message("# worker VmRSS while waiting for its second "
		      "connection: %ld kB\n", s.vm_rss_kb);
	session_free(&s);
}

static char *tool_call_response(void)
{
	static const char *const calls[][2] = {
		{ "read_file", "{\"path\": \"notes.txt\"}" },
		{ "read_file", "{\"path\": \"missing.txt\"}" },
		{ "write_file", "{\"path\": \"out.txt\", \"content\": \"hello\"}" },
		{ "edit_file", "{\"path\": \".git/hooks/pre-commit\", "
		  "\"old_string\": \"a\", \"new_string\": \"b\"}" },
		{ "list_directory", "{\"path\": \".\"}" },
		{ "run_command", "{\"command\": \"echo hi\", \"timeout_ms\": 500}" },
		{ "read_file", "{\"file\": \"notes.txt\"}" },
		{ "load_skill", "{\"name\": \"demo-skill\"}" },
		{ "load_skill", "{\"name\": \"demo-skill\", \"file\": "
		  "\"missing.md\"}" },
	};
	cJSON *root = cJSON_CreateObject();
	cJSON *msg = cJSON_CreateObject(), *arr, *c, *f, *choice;
	char id[16], *text;
	size_t i;

	arr = cJSON_AddArrayToObject(msg, "tool_calls");
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		c = cJSON_CreateObject();
		snprintf(id, sizeof(id), "call_%zu", i);
		cJSON_AddStringToObject(c, "id", id);
		cJSON_AddStringToObject(c, "type", "function");
		f = cJSON_AddObjectToObject(c, "function");
		cJSON_AddStringToObject(f, "name", calls[i][0]);
		cJSON_AddStringToObject(f, "arguments", calls[i][1]);
		cJSON_AddItemToArray(arr, c);
	}
	cJSON_AddStringToObject(msg, "role", "assistant");
	cJSON_AddNullToObject(msg, "content");
	choice = cJSON_CreateObject();
	cJSON_AddItemToObject(choice, "message", msg);
	cJSON_AddStringToObject(choice, "finish_reason", "tool_calls");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "choices"), choice);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

static void tool_round_trip(void **state)
{
	struct session s;
	const cJSON *msgs;
	const char *system;
	cJSON *body;

	(void)state;
	session_init(&s);
	s.skills = "# Skills\n\nAvailable skills:\n- demo-skill: Demo.\n";
	script(&s, 200, tool_call_response());
	script(&s, 200, read_file_text(FIXTURES ".turn1.response.json"));
	run_session(&s, "Try every tool");

	assert_int_equal(s.exit_status, 0);
	body = request_messages(&s, 1);
	msgs = cJSON_GetObjectItem(body, "messages");
	assert_int_equal(cJSON_GetArraySize(msgs), 12);
	system = field_str(cJSON_GetArrayItem(msgs, 0), "content");
	assert_non_null(strstr(system, "/tmp/workspace"));
	assert_non_null(strstr(system, ".\n\n# Skills\n"));
	assert_non_null(strstr(system, "- demo-skill: Demo.\n"));
	assert_string_equal(tool_content(msgs, 3), "line one\n");
	assert_string_equal(tool_content(msgs, 4),
			    "error: not found: \"missing.txt\"");
	assert_string_equal(tool_content(msgs, 5), "wrote 5 bytes to out.txt");
	assert_string_equal(written, "hello");
	assert_string_equal(tool_content(msgs, 6), "error: denied: "
			    "\".git/hooks/pre-commit\" is protected: the "
			    "broker never writes there");
	assert_string_equal(tool_content(msgs, 7), "notes.txt\nsrc/");
	assert_string_equal(tool_content(msgs, 8), "exit_code: 0\n"
			    "output_bytes: 3\noutput:\nhi\n");
	assert_string_equal(tool_content(msgs, 9), "error: invalid arguments "
			    "for read_file: missing required field \"path\"");
	assert_string_equal(tool_content(msgs, 10), "# Demo\nStep one.\n");
	assert_string_equal(tool_content(msgs, 11), "error: skill "
			    "demo-skill/missing.md: No such file or directory");
	cJSON_Delete(body);
	session_free(&s);
}

/* No event may carry the API key, whatever the server echoes. */
static void assert_no_secret(const struct session *s, const char *secret)
{
	char *text = cJSON_PrintUnformatted(s->events);

	assert_non_null(text);
	assert_null(strstr(text, secret));
	free(text);
}

static void http_error_reported(void **state)
{
	static const char key[] = "sk-test-secret-123";
	struct session s;
	const cJSON *e;

	(void)state;
	session_init(&s);
	s.api_key = key;
	script(&s, 401, strdup("{\"error\": {\"message\": \"Incorrect API key "
			       "provided: sk-test-secret-123.\", \"type\": "
			       "\"invalid_request_error\"}}"));
	run_session(&s, "anything");

	/* The error is in "done"; the closed socket ends the worker with 0. */
	assert_int_equal(s.exit_status, 0);
	assert_string_equal(s.srv.ex[0].authorization, "Bearer sk-test-secret-123");
	assert_int_equal(cJSON_GetArraySize(s.events), 2);
	e = event(&s, 0, "log");
	assert_string_equal(field_str(e, "level"), "error");
	assert_string_equal(field_str(e, "message"), "the model endpoint "
			    "rejected the API key (HTTP 401): Incorrect API key "
			    "provided: [redacted]. (check that the API key is "
			    "set and valid for this endpoint)");
	e = event(&s, 1, "done");
	assert_string_equal(field_str(e, "status"), "error");
	assert_string_equal(field_str(e, "summary"), "the model endpoint "
			    "rejected the API key (HTTP 401): Incorrect API key "
			    "provided: [redacted]. (check that the API key is "
			    "set and valid for this endpoint)");
	assert_no_secret(&s, key);
	session_free(&s);
}

static void max_turns_stops(void **state)
{
	struct session s;
	const cJSON *e;

	(void)state;
	session_init(&s);
	s.max_turns = 1;
	script(&s, 200, read_file_text(FIXTURES ".turn0.response.json"));
	script(&s, 200, read_file_text(FIXTURES ".turn1.response.json"));
	run_session(&s, "Add and multiply the number 2 and 3");

	assert_int_equal(s.exit_status, 0);
	assert_int_equal(s.srv.served, 1);
	assert_int_equal(cJSON_GetArraySize(s.events), 2);
	event(&s, 0, "turn");
	e = event(&s, 1, "done");
	assert_string_equal(field_str(e, "status"), "max_turns");
	session_free(&s);
}

static void connect_denied(void **state)
{
	struct session s;
	const cJSON *e;

	(void)state;
	session_init(&s);
	s.refuse_connect = true;
	script(&s, 200, read_file_text(FIXTURES ".turn1.response.json"));
	run_session(&s, "anything");

	/* The error is in "done"; the closed socket ends the worker with 0. */
	assert_int_equal(s.exit_status, 0);
	assert_int_equal(s.srv.served, 0);
	e = event(&s, 0, "log");
	assert_non_null(strstr(field_str(e, "message"), "the supervisor did not "
			       "open a connection to 127.0.0.1: denied: "
			       "connections to this host are not allowed"));
	e = event(&s, 1, "done");
	assert_string_equal(field_str(e, "status"), "error");
	session_free(&s);
}

/* A base URL the resolve entry does not cover ends the worker at once. */
static void resolve_mismatch_rejected(void **state)
{
	struct session s;
	struct proto_msg m;
	char err[256], expected[256];
	int sv[2], status;
	cJSON *c;

	(void)state;
	session_init(&s);
	server_start(&s.srv);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				    sv), 0);
	s.pid = spawn_worker(sv[1]);
	close(sv[1]);
	s.sock = sv[0];

	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "model", "m");
	cJSON_AddStringToObject(c, "base_url", "http://127.0.0.1:9/v1");
	cJSON_AddStringToObject(c, "resolve", "127.0.0.1:8:127.0.0.1");
	cJSON_AddNumberToObject(c, "max_turns", 1);
	cJSON_AddStringToObject(c, "workspace", "/tmp");
	send_msg(&s, PROTO_CONFIG, 1, c, -1);

	assert_int_equal(proto_recv(s.sock, PROTO_FROM_WORKER, &m, err,
				    sizeof(err)), 1);
	assert_string_equal(m.type->name, "log");
	snprintf(expected, sizeof(expected), "base URL \"http://127.0.0.1:9/v1\""
		 " names 127.0.0.1:9 but the resolve entry names 127.0.0.1:8");
	assert_string_equal(proto_str(&m, "message"), expected);
	proto_msg_free(&m);
	assert_int_equal(proto_recv(s.sock, PROTO_FROM_WORKER, &m, err,
				    sizeof(err)), 0);
	assert_int_equal(waitpid(s.pid, &status, 0), s.pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	close(s.sock);
	server_stop(&s.srv);
	server_free_requests(&s.srv);
}

static void direct_start_rejected(void **state)
{
	char path[4096], out[512];
	int errpipe[2], status;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	(void)state;
	snprintf(path, sizeof(path), "%s/coworker-worker", build_dir());
	assert_int_equal(pipe2(errpipe, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Descriptor 3 is a pipe, not the supervisor's socket. */
		if (dup2(errpipe[1], 2) < 0 || dup2(errpipe[1], 3) < 0)
			_exit(126);
		execl(path, "coworker-worker", (char *)NULL);
		_exit(127);
	}
	close(errpipe[1]);
	/* A sanitizer build writes a line of its own first: read to the end. */
	while (len < sizeof(out) - 1 &&
	       (n = read(errpipe[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	assert_true(len > 0);
	out[len] = '\0';
	close(errpipe[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
	assert_non_null(strstr(out, "coworker-worker is started by coworker; "
			       "do not run it directly"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixture_conversation),
		cmocka_unit_test(tool_round_trip),
		cmocka_unit_test(http_error_reported),
		cmocka_unit_test(max_turns_stops),
		cmocka_unit_test(connect_denied),
		cmocka_unit_test(resolve_mismatch_rejected),
		cmocka_unit_test(direct_start_rejected),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
