/*
 * Starting a worker in its namespaces (supervisor/worker_proc.c) and the
 * supervisor's confinement check (supervisor/worker_check.c), with real
 * children. Run as root: the children run as host uid 65534 then.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/*
 * The checks below call static helpers of worker_check.c, so the spawn and
 * check code is compiled in from source rather than linked.
 */
#include "supervisor/worker_proc.c"
#include "supervisor/worker_check.c"
#include "supervisor/procfs.c"
#include "proto/proto.h"

struct probe {
	int result_fd;		/* the child writes its findings here */
	int hold_fd;		/* the child waits here until the parent looked */
	int hold_write_fd;	/* the parent's end, closed in the child */
};

/* In the child: report ids as seen inside, then wait for the parent. */
static void probe_child(void *arg, int report_fd)
{
	const struct probe *p = arg;
	char line[128], byte;

	close(report_fd);
	close(p->hold_write_fd);
	snprintf(line, sizeof(line), "uid=%d gid=%d groups=%d pid=%d",
		 (int)getuid(), (int)getgid(), getgroups(0, NULL),
		 (int)getpid());
	if (write(p->result_fd, line, strlen(line)) < 0)
		_exit(1);
	close(p->result_fd);
	if (read(p->hold_fd, &byte, 1) < 0)
		_exit(1);
	_exit(0);
}

static void start_probe(struct worker_proc *w, int *result, int *hold)
{
	int result_pipe[2], hold_pipe[2];
	struct probe p;
	char err[512];

	assert_int_equal(pipe2(result_pipe, O_CLOEXEC), 0);
	assert_int_equal(pipe2(hold_pipe, O_CLOEXEC), 0);
	p.result_fd = result_pipe[1];
	p.hold_fd = hold_pipe[0];
	p.hold_write_fd = hold_pipe[1];
	memset(w, 0, sizeof(*w));
	if (worker_spawn(w, 0, probe_child, &p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	close(result_pipe[1]);
	close(hold_pipe[0]);
	*result = result_pipe[0];
	*hold = hold_pipe[1];
}

static void finish_probe(struct worker_proc *w, int result, int hold)
{
	int status;

	close(result);
	close(hold);
	assert_int_equal(waitpid(w->pid, &status, 0), w->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void child_is_root_inside(void **state)
{
	struct worker_proc w;
	char line[128] = { 0 };
	int result, hold;

	(void)state;
	start_probe(&w, &result, &hold);
	assert_true(read(result, line, sizeof(line) - 1) > 0);
	assert_string_equal(line, "uid=0 gid=0 groups=0 pid=1");
	finish_probe(&w, result, hold);
}

static void child_runs_as_unprivileged_host_ids(void **state)
{
	char text[STATUS_MAX], err[256];
	const char *groups;
	struct worker_proc w;
	long want_uid = geteuid() == 0 ? WORKER_ROOT_HOST_UID : (long)geteuid();
	long want_gid = geteuid() == 0 ? WORKER_ROOT_HOST_GID : (long)getegid();
	int result, hold;

	(void)state;
	start_probe(&w, &result, &hold);
	assert_int_equal(read_proc(w.pid, "status", text, sizeof(text), err,
				   sizeof(err)), 0);
	assert_true(ids_all_equal(text, "Uid", want_uid));
	assert_true(ids_all_equal(text, "Gid", want_gid));
	assert_int_equal(w.uid, (uid_t)want_uid);
	assert_int_equal(w.gid, (gid_t)want_gid);
	if (geteuid() == 0) {
		groups = status_value(text, "Groups");
		assert_non_null(groups);
		assert_int_equal(groups[strspn(groups, " \t")], '\n');
	}
	assert_int_equal(check_namespaces(w.pid, err, sizeof(err)), 0);
	/* Its own session, so no terminal's Ctrl-C reaches it. */
	assert_int_equal(getsid(w.pid), w.pid);
	finish_probe(&w, result, hold);
}

static void unconfined_child_fails_check(void **state)
{
	struct worker_proc w;
	char err[512];
	int result, hold;

	(void)state;
	start_probe(&w, &result, &hold);
	assert_int_equal(worker_check_confinement(w.pid, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not confined"));
	assert_non_null(strstr(err, "Seccomp: 0"));
	finish_probe(&w, result, hold);
}

static void exec_failure_names_uid(void **state)
{
	char dir[] = "/tmp/cw-spawn-XXXXXX", path[64], err[512];
	struct worker_proc w;
	int fd;

	(void)state;
	if (geteuid() != 0)
		skip();	/* only root's worker changes uid */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/coworker-worker", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);

	/* The directory is 0700 root: host uid 65534 cannot reach it. */
	assert_int_equal(worker_start(&w, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot run"));
	assert_non_null(strstr(err, "Permission denied"));
	assert_non_null(strstr(err, "65534"));
	assert_int_equal(w.pid, -1);
	unlink(path);
	rmdir(dir);
}

static void layers_described(void **state)
{
	struct worker_proc w;
	cJSON *out = cJSON_CreateObject(), *names;
	int result, hold;

	(void)state;
	start_probe(&w, &result, &hold);
	assert_int_equal(worker_describe_layers(&w, out), 0);
	names = cJSON_GetObjectItem(out, "namespaces");
	assert_int_equal(cJSON_GetArraySize(names), 6);
	assert_string_equal(cJSON_GetArrayItem(names, 0)->valuestring, "user");
	assert_string_equal(cJSON_GetArrayItem(names, 3)->valuestring, "mount");
	assert_int_equal(cJSON_GetObjectItem(out, "uid")->valueint, (int)w.uid);
	assert_int_equal(cJSON_GetObjectItem(out, "gid")->valueint, (int)w.gid);
	cJSON_Delete(out);
	finish_probe(&w, result, hold);
}

/* The worker binary of this build, or NULL (the case is skipped then). */
static const char *built_worker(char *path, size_t size)
{
	const char *build = getenv("COWORKER_BUILD");

	if (!build || !*build)
		return NULL;
	snprintf(path, size, "%s/coworker-worker", build);
	return access(path, X_OK) == 0 ? path : NULL;
}

/* The config a worker needs to reach its lock-down; nothing connects. */
static int send_config(int sock, const char *provider, char *err,
		       size_t errlen)
{
	cJSON *f = cJSON_CreateObject();
	int rc;

	cJSON_AddStringToObject(f, "provider", provider);
	cJSON_AddStringToObject(f, "model", "test-model");
	cJSON_AddStringToObject(f, "base_url", "http://127.0.0.1:9/v1");
	cJSON_AddStringToObject(f, "resolve", "127.0.0.1:9:127.0.0.1");
	cJSON_AddNumberToObject(f, "max_turns", 1);
	cJSON_AddStringToObject(f, "workspace", "/nonexistent");
	rc = proto_send(sock, PROTO_CONFIG, 1, f, -1, err, errlen);
	cJSON_Delete(f);
	return rc;
}

/* Read until the worker's "ready"; a "log" event before it is skipped. */
static int wait_ready(int sock, char *err, size_t errlen)
{
	struct proto_msg m;
	int rc, ready;

	for (;;) {
		rc = proto_recv(sock, PROTO_FROM_WORKER, &m, err, errlen);
		if (rc != 1) {
			if (rc == 0)
				snprintf(err, errlen, "the worker closed its socket");
			return -1;
		}
		ready = m.type->id == PROTO_READY;
		proto_msg_free(&m);
		if (ready)
			return 0;
	}
}

static void supervisor_socket_has_send_timeout(void **state)
{
	char path[4096], err[512];
	struct worker_proc w;
	struct timeval tv = { 0, 0 };
	socklen_t len = sizeof(tv);

	(void)state;
	if (!built_worker(path, sizeof(path)))
		skip();
	assert_int_equal(worker_start(&w, path, err, sizeof(err)), 0);
	assert_int_equal(getsockopt(w.sock, SOL_SOCKET, SO_SNDTIMEO, &tv,
				    &len), 0);
	assert_int_equal(tv.tv_sec, WORKER_SEND_TIMEOUT_SEC);
	assert_int_equal(w.log_fd, -1);
	worker_stop(&w);
}

/* With WORKER_STDERR_PIPE the worker's last words arrive on log_fd. */
static void stderr_pipe_carries_worker_errors(void **state)
{
	char path[4096], err[512], text[1024] = { 0 };
	struct worker_proc w;
	int status, flags;
	ssize_t n;

	(void)state;
	if (!built_worker(path, sizeof(path)))
		skip();
	assert_int_equal(worker_start_flags(&w, path, WORKER_STDERR_PIPE, err,
					    sizeof(err)), 0);
	assert_true(w.log_fd > 2);
	flags = fcntl(w.log_fd, F_GETFL);
	assert_true(flags & O_NONBLOCK);

	/* An unknown provider makes the worker exit with a line on stderr. */
	assert_int_equal(send_config(w.sock, "bogus", err, sizeof(err)), 0);
	assert_int_equal(waitpid(w.pid, &status, 0), w.pid);
	w.pid = -1;
	n = read(w.log_fd, text, sizeof(text) - 1);
	assert_true(n > 0);
	assert_non_null(strstr(text, "coworker-worker: invalid config"));
	assert_non_null(strstr(text, "bogus"));
	worker_stop(&w);
	assert_int_equal(w.log_fd, -1);
}

/* A child's exit status that makes the case skip. */
#define CHILD_SKIP 77

/*
 * Run fn in a child inside a user namespace whose max_user_namespaces is
 * 0, so that the kernel refuses the worker's user namespace there and
 * nowhere else. The namespace maps ids 0-65535 to the same host ids, so
 * the worker's host uid 65534 exists in it. fn returns 0, CHILD_SKIP, or
 * prints a "# " line and returns 1.
 */
static void run_without_userns(int (*fn)(void))
{
	static const char map[] = "0 0 65536\n";
	int to_parent[2], to_child[2], status, fd;
	const char *const files[] = { "uid_map", "gid_map" };
	char path[64], byte;
	size_t i;
	pid_t pid;

	if (geteuid() != 0)
		skip();	/* an unprivileged test cannot map 65534 */
	assert_int_equal(pipe2(to_parent, O_CLOEXEC), 0);
	assert_int_equal(pipe2(to_child, O_CLOEXEC), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWUSER) < 0 || write(to_parent[1], "u", 1) != 1 ||
		    read(to_child[0], &byte, 1) != 1)
			_exit(2);
		fd = open("/proc/sys/user/max_user_namespaces", O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(3);
		close(fd);
		status = fn();
		fflush(stdout);
		_exit(status);
	}
	close(to_parent[1]);
	close(to_child[0]);

	/* The parent writes the maps: only it may map more than one id. */
	assert_int_equal(read(to_parent[0], &byte, 1), 1);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[i]);
		fd = open(path, O_WRONLY);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, map, sizeof(map) - 1),
				 (ssize_t)sizeof(map) - 1);
		close(fd);
	}
	assert_int_equal(write(to_child[1], "m", 1), 1);
	close(to_child[1]);
	close(to_parent[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == CHILD_SKIP)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

#define EXPECT(cond) do {						\
	if (!(cond)) {							\
		printf("# %s:%d: %s\n", __FILE__, __LINE__, #cond);	\
		return 1;						\
	}								\
} while (0)

static void quiet_child(void *arg, int report_fd)
{
	(void)arg;
	close(report_fd);
	_exit(0);
}

static int refusal_names_layer_cause_and_fix(void)
{
	struct worker_proc w;
	char err[1024];

	memset(&w, 0, sizeof(w));
	EXPECT(worker_spawn(&w, 0, quiet_child, NULL, err, sizeof(err)) < 0);
	printf("# %s\n", err);
	EXPECT(strstr(err, "namespaces layer"));
	EXPECT(strstr(err, "user.max_user_namespaces is 0"));
	EXPECT(strstr(err, "sysctl -w user.max_user_namespaces="));
	EXPECT(strstr(err, "--weaker-worker-sandbox"));
	return 0;
}

static void userns_refusal_is_an_error(void **state)
{
	(void)state;
	run_without_userns(refusal_names_layer_cause_and_fix);
}

static int weaker_spawn_runs_without_namespaces(void)
{
	struct worker_proc w;
	char err[1024];
	int status;

	memset(&w, 0, sizeof(w));
	if (worker_spawn(&w, WORKER_WEAKER_SANDBOX, quiet_child, NULL, err,
			 sizeof(err)) < 0) {
		printf("# %s\n", err);
		return 1;
	}
	EXPECT(w.weaker == 1);
	EXPECT(w.namespaces == 0);
	EXPECT(strstr(w.weaker_reason, "user.max_user_namespaces is 0"));
	EXPECT(waitpid(w.pid, &status, 0) == w.pid);
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return 0;
}

static void weaker_flag_skips_namespaces(void **state)
{
	(void)state;
	run_without_userns(weaker_spawn_runs_without_namespaces);
}

/*
 * The real worker in a weaker sandbox: it locks itself down without the
 * empty root, and worker_check accepts it while the full check does not.
 */
static int weaker_worker_is_checked(void)
{
	char path[4096], err[1024], text[STATUS_MAX];
	struct worker_proc w;
	cJSON *layers;
	int rc = 1;

	if (!built_worker(path, sizeof(path)))
		return CHILD_SKIP;
	if (worker_start_flags(&w, path, WORKER_WEAKER_SANDBOX, err,
			       sizeof(err)) < 0) {
		printf("# %s\n", err);
		return 1;
	}
	if (send_config(w.sock, "openai", err, sizeof(err)) < 0 ||
	    wait_ready(w.sock, err, sizeof(err)) < 0) {
		printf("# %s\n", err);
		goto out;
	}
	if (worker_check(&w, err, sizeof(err)) < 0) {
		printf("# worker_check: %s\n", err);
		goto out;
	}
	EXPECT(read_proc(w.pid, "status", text, sizeof(text), err,
			 sizeof(err)) == 0);
	EXPECT(ids_all_equal(text, "Uid", WORKER_ROOT_HOST_UID));
	EXPECT(status_number(text, "CapBnd", 16) == 0);
	EXPECT(worker_check_confinement(w.pid, err, sizeof(err)) < 0);
	EXPECT(strstr(err, "namespace"));

	layers = cJSON_CreateObject();
	EXPECT(worker_describe_layers(&w, layers) == 0);
	EXPECT(cJSON_IsTrue(cJSON_GetObjectItem(layers, "weaker")));
	EXPECT(cJSON_GetArraySize(cJSON_GetObjectItem(layers, "namespaces"))
	       == 0);
	EXPECT(strstr(cJSON_GetObjectItem(layers, "weaker_reason")->valuestring,
		      "max_user_namespaces"));
	cJSON_Delete(layers);
	rc = 0;
out:
	worker_stop(&w);
	return rc;
}

static void weaker_worker_passes_weaker_check(void **state)
{
	(void)state;
	run_without_userns(weaker_worker_is_checked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(child_is_root_inside),
		cmocka_unit_test(child_runs_as_unprivileged_host_ids),
		cmocka_unit_test(unconfined_child_fails_check),
		cmocka_unit_test(exec_failure_names_uid),
		cmocka_unit_test(layers_described),
		cmocka_unit_test(supervisor_socket_has_send_timeout),
		cmocka_unit_test(stderr_pipe_carries_worker_errors),
		cmocka_unit_test(userns_refusal_is_an_error),
		cmocka_unit_test(weaker_flag_skips_namespaces),
		cmocka_unit_test(weaker_worker_passes_weaker_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
