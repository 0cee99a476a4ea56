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
 *   leak-key     report ready, then put the API key into a command and a
 *                file path, to check that the audit log redacts it
 */
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "proto/proto.h"

#define SOCK 3

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

static void send_ready(void)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddNumberToObject(f, "landlock_abi", 0);
	if (proto_send(SOCK, PROTO_READY, 1, f, -1, err, sizeof(err)) < 0)
		die("ready");
	cJSON_Delete(f);
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

	if (strcmp(mode, "garbage") == 0) {
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
