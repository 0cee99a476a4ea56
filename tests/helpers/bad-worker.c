/*
 * A misbehaving worker for integration tests, started by the supervisor in
 * place of coworker-worker (COWORKER_WORKER=path). The supervisor hands a
 * worker nothing but its socket and the config message, so the behaviour is
 * chosen by the model name in that message:
 *
 *   garbage      send bytes that are not JSON
 *   oversize     send a frame larger than the protocol's limit
 *   early        send a request before reporting ready
 *   unconfined   report ready without a seccomp filter
 *   unknown      send a message type the protocol does not have
 *   no-landlock  pass the /proc checks but report that Landlock is absent
 *   linger       close the socket after getting the task, but never exit
 *   leak-key     report ready, then put the API key into a command and a
 *                file path, to check that the audit log redacts it
 *
 * The modes below first pass the confinement check and get the task, so
 * that the supervisor judges them as a running worker:
 *
 *   raw:FRAME    send FRAME (the rest of the model name) as it is
 *   fd-unexpected  a read_file request carrying a descriptor
 *   fd-two       a write_file request carrying two descriptors
 *   fd-many      a write_file request carrying FD_MANY descriptors
 *   flood        FLOOD_COUNT read_file requests of flood.txt, sent without
 *                waiting for replies (a reply is read only when the socket
 *                is full), then "done" with a count of in-order replies
 *   deaf         list_directory requests of "." sent without ever reading a
 *                reply, until the supervisor ends the worker
 *   reuse-id     two read_file requests with id 7 before reading either
 *                reply, then "done" naming the ids of the two replies
 */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "proto/proto.h"

#define SOCK 3
#define FLOOD_COUNT 10000
#define DEAF_MAX 100000
#define FD_MANY 8

static char err[512];

static void die(const char *what)
{
	fprintf(stderr, "bad-worker: %s: %s\n", what, err);
	exit(1);
}

/*
 * What the supervisor sees from outside: an empty read-only root, no
 * capabilities, no_new_privs and a seccomp filter. The filter allows all,
 * so this worker passes the check while confining nothing inside.
 */
static int fake_empty_root(void)
{
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("bad-root", "/tmp", "tmpfs", 0, "size=4k") < 0 ||
	    chdir("/tmp") < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return -1;
	return mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
}

static int fake_drop_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	int cap;

	for (cap = 0; prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0; cap++)
		;
	return syscall(SYS_capset, &hdr, data) < 0 ? -1 : 0;
}

static void fake_confinement(void)
{
	scmp_filter_ctx ctx;

	if (fake_empty_root() < 0 || fake_drop_caps() < 0) {
		snprintf(err, sizeof(err), "cannot build the outside view");
		die("setup");
	}
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || !ctx ||
	    seccomp_load(ctx) < 0) {
		snprintf(err, sizeof(err), "cannot install a filter");
		die("setup");
	}
	seccomp_release(ctx);
}

/*
 * Report ready with the given Landlock ABI. The supervisor cannot see
 * Landlock in /proc and takes the worker's word, so this double claims
 * ABI 1 for the modes that must reach the run phase.
 */
static void send_ready_abi(int abi)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddNumberToObject(f, "landlock_abi", abi);
	if (proto_send(SOCK, PROTO_READY, 1, f, -1, err, sizeof(err)) < 0)
		die("ready");
	cJSON_Delete(f);
}

static void send_ready(void)
{
	send_ready_abi(1);
}

static void expect_task(void)
{
	struct proto_msg m;

	if (proto_recv(SOCK, PROTO_FROM_SUPERVISOR, &m, err, sizeof(err)) != 1)
		die("task");
	proto_msg_free(&m);
}

static void send_raw(const char *buf, size_t len)
{
	if (send(SOCK, buf, len, 0) < 0) {
		snprintf(err, sizeof(err), "send failed");
		die("send");
	}
}

/* Ask for an action with the key inside it, then read the reply. */
static void leak_key(const char *key)
{
	char text[512];
	struct proto_msg m;
	cJSON *f = cJSON_CreateObject();

	snprintf(text, sizeof(text), "echo %s", key);
	cJSON_AddStringToObject(f, "command", text);
	if (proto_send(SOCK, PROTO_RUN_COMMAND, 2, f, -1, err, sizeof(err)) < 0)
		die("run_command");
	cJSON_Delete(f);
	if (proto_recv(SOCK, PROTO_FROM_SUPERVISOR, &m, err, sizeof(err)) != 1)
		die("reply");
	proto_msg_free(&m);

	f = cJSON_CreateObject();
	snprintf(text, sizeof(text), "notes-%s.txt", key);
	cJSON_AddStringToObject(f, "path", text);
	if (proto_send(SOCK, PROTO_READ_FILE, 3, f, -1, err, sizeof(err)) < 0)
		die("read_file");
	cJSON_Delete(f);
	if (proto_recv(SOCK, PROTO_FROM_SUPERVISOR, &m, err, sizeof(err)) != 1)
		die("reply");
	proto_msg_free(&m);

	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "status", "ok");
	cJSON_AddStringToObject(f, "summary", "done");
	proto_send(SOCK, PROTO_DONE, 4, f, -1, err, sizeof(err));
	cJSON_Delete(f);
}

static void enter_run_phase(void)
{
	fake_confinement();
	send_ready();
	expect_task();
}

static void send_done(const char *summary)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "status", "ok");
	cJSON_AddStringToObject(f, "summary", summary);
	if (proto_send(SOCK, PROTO_DONE, PROTO_ID_MAX, f, -1, err,
		       sizeof(err)) < 0)
		die("done");
	cJSON_Delete(f);
	/* An honest worker exits after "done"; so does this one. */
	exit(0);
}

/* Send text with count descriptors, bypassing proto_send's checks. */
static void send_with_fds(const char *text, const int *fds, int count)
{
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(int) * FD_MANY)];
	} control;
	struct iovec iov = { (void *)text, strlen(text) };
	struct msghdr mh = { 0 };
	struct cmsghdr *c;

	memset(&control, 0, sizeof(control));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = control.space;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)count);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)count);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)count);
	if (sendmsg(SOCK, &mh, 0) < 0) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		die("sendmsg with descriptors");
	}
}

static void send_write_with_memfds(int count)
{
	static const char req[] =
		"{\"v\":1,\"id\":2,\"type\":\"write_file\",\"path\":\"x.txt\"}";
	int fds[FD_MANY], i;

	for (i = 0; i < count; i++) {
		fds[i] = memfd_create("bad-worker", MFD_CLOEXEC);
		if (fds[i] < 0) {
			snprintf(err, sizeof(err), "%s", strerror(errno));
			die("memfd_create");
		}
	}
	send_with_fds(req, fds, count);
	for (i = 0; i < count; i++)
		close(fds[i]);
}

/* Read one reply; returns its id, and closes any descriptor with it. */
static long read_reply(void)
{
	struct proto_msg m;
	long id;

	if (proto_recv(SOCK, PROTO_FROM_SUPERVISOR, &m, err, sizeof(err)) != 1)
		die("reply");
	id = m.id;
	proto_msg_free(&m);
	return id;
}

/*
 * Send FLOOD_COUNT requests without waiting; when the socket is full, read
 * one reply and try again. Counts replies that come back in request order.
 */
static void flood(void)
{
	char req[128], summary[128];
	long sent = 0, answered = 0, in_order = 0;
	size_t len;

	while (sent < FLOOD_COUNT) {
		len = (size_t)snprintf(req, sizeof(req), "{\"v\":1,\"id\":%ld,"
				       "\"type\":\"read_file\",\"path\":"
				       "\"flood.txt\"}", sent + 1);
		if (send(SOCK, req, len, MSG_DONTWAIT) == (ssize_t)len) {
			sent++;
			continue;
		}
		if (errno != EAGAIN) {
			snprintf(err, sizeof(err), "%s", strerror(errno));
			die("flood send");
		}
		in_order += read_reply() == ++answered;
	}
	while (answered < sent)
		in_order += read_reply() == ++answered;
	snprintf(summary, sizeof(summary), "flood: %ld requests, %ld replies "
		 "in order", sent, in_order);
	send_done(summary);
}

/* Ask for replies as large as a frame allows and never read one. */
static void deaf(void)
{
	static const char req[] =
		"{\"v\":1,\"id\":1,\"type\":\"list_directory\",\"path\":\".\"}";
	long i;

	for (i = 0; i < DEAF_MAX; i++)
		if (send(SOCK, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
			exit(1);
}

static void reuse_id(void)
{
	static const char req[] =
		"{\"v\":1,\"id\":7,\"type\":\"read_file\",\"path\":\"a.txt\"}";
	char summary[128];
	long first, second;

	send_raw(req, sizeof(req) - 1);
	send_raw(req, sizeof(req) - 1);
	first = read_reply();
	second = read_reply();
	snprintf(summary, sizeof(summary), "reuse: replies %ld and %ld", first,
		 second);
	send_done(summary);
}

/* The modes that first pass the check and get the task. */
static int run_phase_mode(const char *mode)
{
	static const char read_req[] =
		"{\"v\":1,\"id\":2,\"type\":\"read_file\",\"path\":\"a.txt\"}";
	int fd = 0;

	if (strncmp(mode, "raw:", 4) == 0) {
		enter_run_phase();
		send_raw(mode + 4, strlen(mode + 4));
	} else if (strcmp(mode, "fd-unexpected") == 0) {
		enter_run_phase();
		send_with_fds(read_req, &fd, 1);
	} else if (strcmp(mode, "fd-two") == 0) {
		enter_run_phase();
		send_write_with_memfds(2);
	} else if (strcmp(mode, "fd-many") == 0) {
		enter_run_phase();
		send_write_with_memfds(FD_MANY);
	} else if (strcmp(mode, "flood") == 0) {
		enter_run_phase();
		flood();
	} else if (strcmp(mode, "deaf") == 0) {
		enter_run_phase();
		deaf();
	} else if (strcmp(mode, "reuse-id") == 0) {
		enter_run_phase();
		reuse_id();
	} else {
		return 0;
	}
	return 1;
}

int main(void)
{
	struct proto_msg config;
	const char *mode, *key;
	char *big;

	if (proto_recv(SOCK, PROTO_FROM_SUPERVISOR, &config, err,
		       sizeof(err)) != 1)
		die("config");
	mode = proto_str(&config, "model");
	key = proto_str(&config, "api_key");

	if (run_phase_mode(mode)) {
		/* The mode ran; wait below like the others. */
	} else if (strcmp(mode, "garbage") == 0) {
		send_raw("\x01\x02 this is not JSON", 19);
	} else if (strcmp(mode, "oversize") == 0) {
		big = malloc(PROTO_FRAME_MAX + 1000);
		memset(big, ' ', PROTO_FRAME_MAX + 1000);
		send_raw(big, PROTO_FRAME_MAX + 1000);
		free(big);
	} else if (strcmp(mode, "early") == 0) {
		static const char req[] =
			"{\"v\":1,\"id\":1,\"type\":\"read_file\",\"path\":\"a\"}";
		send_raw(req, sizeof(req) - 1);
	} else if (strcmp(mode, "unconfined") == 0) {
		send_ready();
	} else if (strcmp(mode, "linger") == 0) {
		enter_run_phase();
		close(SOCK);
		/* Ignore SIGTERM as a pid-1 worker does; only SIGKILL ends us. */
		signal(SIGTERM, SIG_IGN);
	} else if (strcmp(mode, "no-landlock") == 0) {
		fake_confinement();
		send_ready_abi(0);
	} else if (strcmp(mode, "unknown") == 0) {
		static const char req[] =
			"{\"v\":1,\"id\":1,\"type\":\"spawn_shell\"}";
		send_raw(req, sizeof(req) - 1);
	} else if (strcmp(mode, "leak-key") == 0) {
		fake_confinement();
		send_ready();
		expect_task();
		leak_key(key ? key : "");
	}
	/* Wait for the supervisor to end us, as a stuck worker would. */
	pause();
	return 0;
}
