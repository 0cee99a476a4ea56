/*
 * Several tasks in one worker: this test plays the supervisor over the
 * socketpair and runs a small HTTP server on 127.0.0.1 whose answers are
 * scripted per request, including one that stalls half-way so that a
 * "cancel" arrives while the worker's transfer is running.
 *
 * COWORKER_BUILD names the build directory (default "build").
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "proto/proto.h"

#define EXCHANGES_MAX 8
#define REQUEST_MAX (1024 * 1024)

struct exchange {
	const char *answer;	/* final text, or NULL: stall half-way */
	char *request;		/* body received */
};

struct server {
	int listen_fd;
	int port;
	pthread_t thread;
	struct exchange ex[EXCHANGES_MAX];
	int count;
	int served;
	int stalled_fd;		/* eventfd written once a stall has begun */
};

struct harness {
	struct server srv;
	pid_t pid;
	int sock;
	long next_id;
};

static char *read_request(int fd)
{
	char *buf = calloc(1, REQUEST_MAX + 1), *end, *p, *body = NULL;
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
		for (p = buf; p < end; p = strstr(p, "\r\n") + 2)
			if (strncasecmp(p, "Content-Length:", 15) == 0)
				want = strtoul(p + 15, NULL, 10);
		end += 4;
		while ((size_t)(buf + len - end) < want && len < REQUEST_MAX) {
			n = read(fd, buf + len, REQUEST_MAX - len);
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		body = strndup(end, want);
	}
	free(buf);
	return body;
}

static void send_text(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) < 0)
		perror("server write");
}

/* Send a complete JSON response, or a stream that stalls after one event. */
static void server_answer(struct server *srv, int fd, const struct exchange *ex)
{
	char head[256], *body;
	cJSON *root;
	uint64_t one = 1;

	if (!ex->answer) {
		send_text(fd, "HTTP/1.1 200 OK\r\nContent-Type: "
			  "text/event-stream\r\nContent-Length: 100000\r\n\r\n"
			  "data: {\"choices\":[{\"index\":0,\"delta\":"
			  "{\"role\":\"assistant\",\"content\":\"Partial\"}}]}\n\n");
		if (write(srv->stalled_fd, &one, sizeof(one)) < 0)
			perror("eventfd");
		/* Silence until the client gives up on the transfer. */
		while (read(fd, head, sizeof(head)) > 0)
			;
		return;
	}
	root = cJSON_Parse("{\"id\":\"x\",\"object\":\"chat.completion\","
			   "\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
			   "\"message\":{\"role\":\"assistant\"},"
			   "\"finish_reason\":\"stop\"}]}");
	cJSON_AddStringToObject(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(root, "choices"), 0), "message"), "content",
		ex->answer);
	body = cJSON_PrintUnformatted(root);
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: "
		 "application/json\r\nContent-Length: %zu\r\nConnection: "
		 "close\r\n\r\n", strlen(body));
	send_text(fd, head);
	send_text(fd, body);
	free(body);
	cJSON_Delete(root);
}

static void *server_main(void *arg)
{
	struct server *srv = arg;
	struct exchange *ex;
	int fd;

	while (srv->served < srv->count) {
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			break;
		ex = &srv->ex[srv->served++];
		ex->request = read_request(fd);
		server_answer(srv, fd, ex);
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
	srv->stalled_fd = eventfd(0, EFD_CLOEXEC);
	assert_true(srv->stalled_fd >= 0);
	assert_int_equal(pthread_create(&srv->thread, NULL, server_main, srv),
			 0);
}

/* The requests received stay for the checks; harness_free frees them. */
static void server_stop(struct server *srv)
{
	shutdown(srv->listen_fd, SHUT_RDWR);
	pthread_join(srv->thread, NULL);
	close(srv->listen_fd);
	close(srv->stalled_fd);
}

static void harness_free(struct harness *h)
{
	int i;

	for (i = 0; i < EXCHANGES_MAX; i++)
		free(h->srv.ex[i].request);
}

static void script(struct harness *h, const char *answer)
{
	assert_true(h->srv.count < EXCHANGES_MAX);
	h->srv.ex[h->srv.count++].answer = answer;
}

static pid_t spawn_worker(int fd3)
{
	const char *dir = getenv("COWORKER_BUILD");
	char path[4096];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/coworker-worker",
		 dir && dir[0] ? dir : "build");
	pid = fork();
	assert_true(pid >= 0);
	if (pid > 0)
		return pid;
	if (dup2(fd3, 3) < 0)
		_exit(126);
	execle(path, "coworker-worker", (char *)NULL, (char *[]){ NULL });
	_exit(127);
}

static void send_msg(struct harness *h, enum proto_type_id type,
		     cJSON *fields, int fd)
{
	char err[256];

	if (proto_send(h->sock, type, h->next_id++, fields, fd, err,
		       sizeof(err)) < 0)
		fail_msg("proto_send: %s", err);
	cJSON_Delete(fields);
}

static void recv_msg(struct harness *h, struct proto_msg *m)
{
	char err[256];
	int rc = proto_recv(h->sock, PROTO_FROM_WORKER, m, err, sizeof(err));

	if (rc != 1)
		fail_msg("no message from the worker: %s",
			 rc < 0 ? err : "socket closed");
}

static void harness_start(struct harness *h, bool deltas)
{
	struct proto_msg m;
	char url[128], resolve[128];
	cJSON *c = cJSON_CreateObject();
	int sv[2];

	server_start(&h->srv);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				    sv), 0);
	h->pid = spawn_worker(sv[1]);
	close(sv[1]);
	h->sock = sv[0];
	h->next_id = 1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1", h->srv.port);
	snprintf(resolve, sizeof(resolve), "127.0.0.1:%d:127.0.0.1",
		 h->srv.port);
	cJSON_AddStringToObject(c, "model", "gpt-4o");
	cJSON_AddStringToObject(c, "base_url", url);
	cJSON_AddStringToObject(c, "resolve", resolve);
	cJSON_AddNumberToObject(c, "max_turns", 5);
	cJSON_AddStringToObject(c, "workspace", "/tmp/ws");
	if (deltas)
		cJSON_AddBoolToObject(c, "deltas", 1);
	send_msg(h, PROTO_CONFIG, c, -1);
	recv_msg(h, &m);
	assert_string_equal(m.type->name, "ready");
	proto_msg_free(&m);
}

/* Close the socket as the supervisor does; the worker must exit with 0. */
static void harness_finish(struct harness *h)
{
	int status;

	close(h->sock);
	assert_int_equal(waitpid(h->pid, &status, 0), h->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	server_stop(&h->srv);
}

static void answer_connect(struct harness *h, struct proto_msg *m)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	cJSON *r = cJSON_CreateObject();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((uint16_t)h->srv.port);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cJSON_AddBoolToObject(r, "ok", 1);
	h->next_id = m->id;
	send_msg(h, PROTO_REPLY, r, fd);
	close(fd);
}

/*
 * Send a task and serve the worker until "done"; returns the done status
 * (static storage). With cancel_on_stall, "cancel" is sent once the
 * first text of a stalled answer has arrived as a delta. deltas collects text_delta text.
 */
static const char *run_task(struct harness *h, const char *text,
			    bool cancel_on_stall, char *deltas, size_t dsize)
{
	static char status[64];
	struct proto_msg m;
	cJSON *t = cJSON_CreateObject();
	uint64_t n;

	cJSON_AddStringToObject(t, "text", text);
	send_msg(h, PROTO_TASK, t, -1);
	for (;;) {
		recv_msg(h, &m);
		if (m.type->id == PROTO_CONNECT) {
			answer_connect(h, &m);
		} else if (m.type->id == PROTO_TEXT_DELTA && deltas) {
			strncat(deltas, proto_str(&m, "text"),
				dsize - strlen(deltas) - 1);
			/*
			 * The stalled answer's text has reached us, so the
			 * transfer is under way and stays so: cancel now.
			 */
			if (cancel_on_stall) {
				assert_int_equal(read(h->srv.stalled_fd, &n,
						      sizeof(n)), sizeof(n));
				send_msg(h, PROTO_CANCEL, NULL, -1);
				cancel_on_stall = false;
			}
		} else if (m.type->id == PROTO_DONE) {
			snprintf(status, sizeof(status), "%s",
				 proto_str(&m, "status"));
			proto_msg_free(&m);
			return status;
		}
		proto_msg_free(&m);
	}
}

/* The roles and contents of request index's messages, "role:content|". */
static void request_shape(const struct harness *h, int index, char *out,
			  size_t size)
{
	cJSON *body = cJSON_Parse(h->srv.ex[index].request), *m;
	const cJSON *content;
	size_t len = 0;

	assert_non_null(body);
	out[0] = '\0';
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(body, "messages")) {
		content = cJSON_GetObjectItem(m, "content");
		len += (size_t)snprintf(out + len, size - len, "%s:%s|",
			cJSON_GetObjectItem(m, "role")->valuestring,
			strcmp(cJSON_GetObjectItem(m, "role")->valuestring,
			       "system") == 0 || !cJSON_IsString(content) ? "" :
			content->valuestring);
		assert_true(len < size);
	}
	cJSON_Delete(body);
}

static const char *request_model(const struct harness *h, int index,
				 char *out, size_t size)
{
	cJSON *body = cJSON_Parse(h->srv.ex[index].request);

	assert_non_null(body);
	snprintf(out, size, "%s",
		 cJSON_GetObjectItem(body, "model")->valuestring);
	cJSON_Delete(body);
	return out;
}

static void two_tasks_keep_conversation(void **state)
{
	struct harness h;
	char shape[1024], model[64];
	cJSON *f = cJSON_CreateObject();

	(void)state;
	memset(&h, 0, sizeof(h));
	script(&h, "First answer.");
	script(&h, "Second answer.");
	harness_start(&h, false);

	assert_string_equal(run_task(&h, "first task", false, NULL, 0), "ok");
	cJSON_AddStringToObject(f, "model", "gpt-4o-mini");
	send_msg(&h, PROTO_SET_MODEL, f, -1);
	/* A cancel between tasks is for nothing and is ignored. */
	send_msg(&h, PROTO_CANCEL, NULL, -1);
	assert_string_equal(run_task(&h, "second task", false, NULL, 0), "ok");
	harness_finish(&h);

	request_shape(&h, 1, shape, sizeof(shape));
	assert_string_equal(shape, "system:|user:first task|assistant:First "
			    "answer.|user:second task|");
	assert_string_equal(request_model(&h, 0, model, sizeof(model)),
			    "gpt-4o");
	assert_string_equal(request_model(&h, 1, model, sizeof(model)),
			    "gpt-4o-mini");
	harness_free(&h);
}

static void clear_forgets(void **state)
{
	struct harness h;
	char shape[1024];

	(void)state;
	memset(&h, 0, sizeof(h));
	script(&h, "First answer.");
	script(&h, "Second answer.");
	harness_start(&h, false);

	assert_string_equal(run_task(&h, "first task", false, NULL, 0), "ok");
	send_msg(&h, PROTO_CLEAR, NULL, -1);
	assert_string_equal(run_task(&h, "second task", false, NULL, 0), "ok");
	harness_finish(&h);

	request_shape(&h, 1, shape, sizeof(shape));
	assert_string_equal(shape, "system:|user:second task|");
	harness_free(&h);
}

static void cancel_during_transfer(void **state)
{
	struct harness h;
	char shape[1024], deltas[256] = "";

	(void)state;
	memset(&h, 0, sizeof(h));
	script(&h, "First answer.");
	script(&h, NULL);
	script(&h, "Third answer.");
	harness_start(&h, true);

	assert_string_equal(run_task(&h, "first task", false, deltas,
				     sizeof(deltas)), "ok");
	assert_string_equal(deltas, "First answer.");
	deltas[0] = '\0';
	assert_string_equal(run_task(&h, "stalled task", true, deltas,
				     sizeof(deltas)), "cancelled");
	/* What streamed before the cancel was shown, never kept. */
	assert_string_equal(deltas, "Partial");
	assert_string_equal(run_task(&h, "third task", false, NULL, 0), "ok");
	harness_finish(&h);

	/* The unanswered task is gone; the conversation is still valid. */
	request_shape(&h, 2, shape, sizeof(shape));
	assert_string_equal(shape, "system:|user:first task|assistant:First "
			    "answer.|user:third task|");
	harness_free(&h);
}

/*
 * "compact" between tasks on a conversation too short to shrink: no
 * summary request goes out and "done" reports why. Compaction itself is
 * tested in test_worker_compact and end to end in e2e.bats.
 */
static void compact_short_conversation(void **state)
{
	struct harness h;
	struct proto_msg m;

	(void)state;
	memset(&h, 0, sizeof(h));
	script(&h, "First answer.");
	harness_start(&h, false);
	assert_string_equal(run_task(&h, "first task", false, NULL, 0), "ok");
	send_msg(&h, PROTO_COMPACT, NULL, -1);
	recv_msg(&h, &m);
	assert_string_equal(m.type->name, "done");
	assert_string_equal(proto_str(&m, "status"), "ok");
	assert_non_null(strstr(proto_str(&m, "summary"), "nothing to compact"));
	proto_msg_free(&m);
	harness_finish(&h);
	assert_int_equal(h.srv.served, 1);
	harness_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_tasks_keep_conversation),
		cmocka_unit_test(clear_forgets),
		cmocka_unit_test(cancel_during_transfer),
		cmocka_unit_test(compact_short_conversation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
