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
	if (worker_spawn(w, probe_child, &p, err, sizeof(err)) < 0)
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(child_is_root_inside),
		cmocka_unit_test(child_runs_as_unprivileged_host_ids),
		cmocka_unit_test(unconfined_child_fails_check),
		cmocka_unit_test(exec_failure_names_uid),
		cmocka_unit_test(layers_described),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
