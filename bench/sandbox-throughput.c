/*
 * Sandboxed commands started from a running process: latency at 1 and
 * throughput at N in parallel, through sandbox_run (the supervisor's own
 * path) and through bwrap started with posix_spawn, the way a supervisor
 * without its own sandbox would run it.
 *
 * Build: make build/bench-sandbox-throughput (not part of make all).
 *
 * usage: build/bench-sandbox-throughput [SECONDS] [PARALLEL...]
 * Defaults: 3 seconds per case, parallelism 1 10 50. Each case runs
 * /bin/true in a workspace under a fresh directory in /var/tmp. N threads
 * each start commands one after the other until the time is up. The case
 * prints the median and 90th percentile latency and the commands
 * completed per second. A case whose first command fails is reported and
 * skipped. Times come from CLOCK_MONOTONIC.
 *
 * coworker runs with the protected paths of a session, in two workspaces.
 * "project" has the layout of a git repository with a coworker policy
 * (.git/hooks, .git/config, .coworker/policy.json), so only .gitmodules
 * is missing. "empty" has nothing, so each command also gets read-only
 * placeholders for .coworker, .git and .gitmodules. Under root, "shared-net"
 * runs in the project workspace with one network namespace for all
 * commands (--shared-netns) instead of a fresh one each.
 *
 * "namespaces only" is the floor under all of them: a forked child makes
 * the six namespaces with one unshare, brings up loopback, then starts
 * /bin/true with vfork and waits for it. It has no mounts, no
 * Landlock, seccomp, cgroups, id maps or placeholders.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/sandbox.h"
#include "supervisor/sandbox_internal.h"

#define MAX_THREADS 256
#define MAX_SAMPLES 200000

extern char **environ;

enum launcher { LAUNCH_COWORKER, LAUNCH_BWRAP, LAUNCH_FLOOR };

/* The protected paths of a session (supervisor/requests.c). */
static const char *const protected_paths[] = {
	".coworker/", ".git/hooks/", ".git/config", ".gitmodules", NULL,
};

struct bench {
	enum launcher how;
	const char *workspace;	/* of coworker */
	int netns_fd;		/* coworker's shared network namespace, or 0 */
	int64_t stop;
	pthread_mutex_t lock;
	double *samples;	/* ms */
	size_t count;
	int failures;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int run_coworker(const char *workspace, int netns_fd)
{
	static const char *const argv[] = { "/bin/true", NULL };
	struct sandbox_opts opts = {
		.workspace = workspace,
		.timeout_ms = 10000,
		.output_cap = 65536,
		.argv = argv,
		.protected_paths = protected_paths,
		.netns_fd = netns_fd,
	};
	struct sandbox_result r;
	char err[1024];

	if (sandbox_run(&opts, "/bin/true", &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "sandbox_run: %s\n", err);
		return -1;
	}
	if (r.output_fd >= 0)
		close(r.output_fd);
	return r.exit_code == 0 ? 0 : -1;
}

static int run_bwrap(void)
{
	static char *const argv[] = {
		"bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc",
		"/proc", "--unshare-all", "/bin/true", NULL,
	};
	int status;
	pid_t pid;

	if (posix_spawnp(&pid, "bwrap", NULL, NULL, argv, environ) != 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The child of run_floor: the namespaces, loopback, then /bin/true. */
static _Noreturn void floor_child(void)
{
	static char *const argv[] = { "/bin/true", NULL };
	int status;
	pid_t pid;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
		    CLONE_NEWUTS | CLONE_NEWNET) < 0 ||
	    sandbox_loopback_up() < 0)
		_exit(125);
	/* As coworker's pid 1 starts the command: no page table copy. */
	pid = vfork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		_exit(125);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 125);
}

static int run_floor(void)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0)
		floor_child();
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int run_one(const struct bench *b)
{
	switch (b->how) {
	case LAUNCH_COWORKER:
		return run_coworker(b->workspace, b->netns_fd);
	case LAUNCH_BWRAP:
		return run_bwrap();
	default:
		return run_floor();
	}
}

static void *worker(void *arg)
{
	struct bench *b = arg;
	int64_t start;
	int rc;

	while (now_ns() < b->stop) {
		start = now_ns();
		rc = run_one(b);
		pthread_mutex_lock(&b->lock);
		if (rc < 0)
			b->failures++;
		else if (b->count < MAX_SAMPLES)
			b->samples[b->count++] = (double)(now_ns() - start) / 1e6;
		pthread_mutex_unlock(&b->lock);
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void run_case(struct bench *b, const char *name, int parallel,
		     double seconds)
{
	pthread_t threads[MAX_THREADS];
	int64_t begin;
	double elapsed;
	int i;

	b->count = 0;
	b->failures = 0;
	begin = now_ns();
	b->stop = begin + (int64_t)(seconds * 1e9);
	for (i = 0; i < parallel; i++)
		pthread_create(&threads[i], NULL, worker, b);
	for (i = 0; i < parallel; i++)
		pthread_join(threads[i], NULL);
	elapsed = (double)(now_ns() - begin) / 1e9;

	qsort(b->samples, b->count, sizeof(double), cmp_double);
	if (b->count == 0) {
		printf("%-19s %4d  no command completed (%d failures)\n", name,
		       parallel, b->failures);
		return;
	}
	printf("%-19s %4d %9.2f %9.2f %9.0f %8zu %6d\n", name, parallel,
	       b->samples[b->count / 2],
	       b->samples[(size_t)((double)b->count * 0.9)],
	       (double)b->count / elapsed, b->count, b->failures);
}

/* Files and directories of the project workspace, in creation order. */
static const struct {
	const char *path;
	bool dir;
} project_layout[] = {
	{ ".git", true }, { ".git/hooks", true }, { ".git/objects", true },
	{ ".git/refs", true }, { ".git/HEAD", false }, { ".git/config", false },
	{ ".coworker", true }, { ".coworker/policy.json", false },
	{ "src", true }, { "src/main.c", false }, { "Makefile", false },
};
#define PROJECT_ENTRIES (sizeof(project_layout) / sizeof(project_layout[0]))

static int make_project(const char *ws)
{
	char path[256];
	size_t i;
	FILE *f;

	for (i = 0; i < PROJECT_ENTRIES; i++) {
		snprintf(path, sizeof(path), "%s/%s", ws, project_layout[i].path);
		if (project_layout[i].dir) {
			if (mkdir(path, 0755) < 0)
				return -1;
			continue;
		}
		f = fopen(path, "w");
		if (!f)
			return -1;
		fputs("\n", f);
		fclose(f);
	}
	return 0;
}

static void remove_project(const char *ws)
{
	char path[256];
	size_t i;

	for (i = PROJECT_ENTRIES; i-- > 0;) {
		snprintf(path, sizeof(path), "%s/%s", ws, project_layout[i].path);
		if (project_layout[i].dir)
			rmdir(path);
		else
			unlink(path);
	}
}

int main(int argc, char **argv)
{
	static const int defaults[] = { 1, 10, 50 };
	char base[] = "/var/tmp/coworker-bench-XXXXXX", empty[64], project[64];
	char err[512];
	struct bench b = { .lock = PTHREAD_MUTEX_INITIALIZER };
	double seconds = argc > 1 ? strtod(argv[1], NULL) : 3.0;
	bool have_bwrap, have_floor;
	int i, n, shared, count = argc > 2 ? argc - 2 : 3;

	if (seconds <= 0 || !mkdtemp(base) || chmod(base, 0755) < 0) {
		fprintf(stderr, "usage: %s [SECONDS] [PARALLEL...]\n", argv[0]);
		return 2;
	}
	snprintf(empty, sizeof(empty), "%s/empty", base);
	snprintf(project, sizeof(project), "%s/project", base);
	if (mkdir(empty, 0755) < 0 || mkdir(project, 0755) < 0 ||
	    make_project(project) < 0) {
		perror(base);
		return 1;
	}
	b.samples = calloc(MAX_SAMPLES, sizeof(double));
	if (!b.samples)
		return 1;

	b.how = LAUNCH_COWORKER;
	b.workspace = project;
	if (run_one(&b) < 0)
		return 1;
	/* Root only; its row is left out elsewhere. */
	shared = sandbox_netns_create(err, sizeof(err));
	if (shared < 0)
		printf("# coworker shared-net: skipped: %s\n", err);
	b.how = LAUNCH_BWRAP;
	have_bwrap = run_one(&b) == 0;
	if (!have_bwrap)
		printf("# bwrap: not installed or failing, skipped\n");
	b.how = LAUNCH_FLOOR;
	have_floor = run_one(&b) == 0;
	if (!have_floor)
		printf("# namespaces only: its first run failed, skipped\n");

	printf("# %.1f s per case; latency in ms; workspaces in %s\n", seconds,
	       base);
	printf("%-19s %4s %9s %9s %9s %8s %6s\n", "launcher", "par", "median",
	       "p90", "per s", "count", "fail");
	for (i = 0; i < count; i++) {
		n = argc > 2 ? (int)strtol(argv[i + 2], NULL, 10) : defaults[i];
		if (n < 1 || n > MAX_THREADS)
			continue;
		b.how = LAUNCH_COWORKER;
		b.workspace = project;
		run_case(&b, "coworker project", n, seconds);
		b.workspace = empty;
		run_case(&b, "coworker empty", n, seconds);
		if (shared >= 0) {
			b.workspace = project;
			b.netns_fd = shared;
			run_case(&b, "coworker shared-net", n, seconds);
			b.netns_fd = 0;
		}
		if (have_bwrap) {
			b.how = LAUNCH_BWRAP;
			run_case(&b, "bwrap", n, seconds);
		}
		if (have_floor) {
			b.how = LAUNCH_FLOOR;
			run_case(&b, "namespaces only", n, seconds);
		}
	}
	/* The last command's placeholders, before the workspaces go. */
	sandbox_reap(true);
	remove_project(project);
	rmdir(project);
	rmdir(empty);
	rmdir(base);
	free(b.samples);
	return 0;
}
