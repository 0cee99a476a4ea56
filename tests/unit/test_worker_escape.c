/*
 * Escape attempts against the worker's confinement. Each case runs one
 * attempt in a child under five set-ups. Without confinement the attempt
 * must work, or the case proves nothing. The full stack is what the real
 * worker gets. The other three apply one layer alone: namespaces (with the
 * empty root and descriptor clean-up that come with them), Landlock, or
 * seccomp. The full stack must stop every attempt in the expected way, and
 * the outcome under each set-up is printed as a matrix in TAP diagnostics.
 *
 * "Outside" is a directory this test creates, and the supervisor being
 * attacked is this test process. Every attempt is harmless if it works: it
 * reads, probes, or undoes what it did (ptrace detaches, mount unmounts).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "worker/confine.h"

/* The namespace layer is the supervisor's own worker_spawn. */
#include "supervisor/worker_proc.h"

enum setup {
	SETUP_NONE,
	SETUP_FULL,
	SETUP_NAMESPACES,
	SETUP_LANDLOCK,
	SETUP_SECCOMP,
	SETUP_COUNT,
};

static const char *const setup_names[SETUP_COUNT] = {
	"none", "full", "namespaces", "landlock", "seccomp",
};

/* Child exit codes: 0 means the attempt worked, 100 + errno that it failed. */
#define EXIT_SETUP_FAILED 99
#define EXIT_ERRNO_BASE 100

struct attempt {
	const char *name;
	int (*fn)(void);	/* 0 when the attempt worked, -1 with errno */
	int full_errno;		/* how the full stack stops it; 0 for SIGSYS */
};

/* State shared with the children, set up before any of them starts. */
static char top[64] = "/tmp/cw-escape-XXXXXX";
static char secret_path[128];
static char mount_point[128];
static pid_t parent_pid;
static int listen_port;
static int listen_fd = -1;
static int pty_master = -1;
static int pty_slave = -1;
static int stray_fd = -1;	/* opened without O_CLOEXEC before starting */
static volatile sig_atomic_t sigterm_arrived;

static int try_open_system_file(void)
{
	int fd = open("/etc/passwd", O_RDONLY);

	return fd < 0 ? -1 : 0;
}

static int try_open_outside_file(void)
{
	int fd = open(secret_path, O_RDONLY);

	return fd < 0 ? -1 : 0;
}

static int try_execve_shell(void)
{
	char *argv[] = { "sh", "-c", "exit 0", NULL };

	execve("/bin/sh", argv, (char *[]){ NULL });
	return -1;
}

static int try_connect_loopback(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	addr.sin_port = htons((uint16_t)listen_port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return connect(fd, (struct sockaddr *)&addr, sizeof(addr));
}

static int try_ptrace_parent(void)
{
	int status;

	if (ptrace(PTRACE_ATTACH, parent_pid, NULL, NULL) < 0)
		return -1;
	/* It worked: take the stop and let the parent go at once. */
	waitpid(parent_pid, &status, __WALL);
	ptrace(PTRACE_DETACH, parent_pid, NULL, NULL);
	return 0;
}

static int try_write_parent_memory(void)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)parent_pid);
	fd = open(path, O_WRONLY);
	return fd < 0 ? -1 : 0;	/* opening is enough; nothing is written */
}

static int try_signal_parent(void)
{
	return kill(parent_pid, SIGTERM);
}

static int try_fork(void)
{
	long pid = syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0UL);

	if (pid == 0)
		_exit(0);
	return pid < 0 ? -1 : 0;
}

static int try_mount(void)
{
	if (mount("escape", mount_point, "tmpfs", 0, "size=4k") < 0)
		return -1;
	umount2(mount_point, MNT_DETACH);
	return 0;
}

static int try_unshare_user(void)
{
	return unshare(CLONE_NEWUSER);
}

static int try_io_uring(void)
{
	char params[120] = { 0 };	/* struct io_uring_params */

	return syscall(SYS_io_uring_setup, 1, params) < 0 ? -1 : 0;
}

static int try_bpf(void)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	return syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)) < 0 ? -1 : 0;
}

static int try_keyctl(void)
{
	/* A new anonymous session keyring for this child alone. */
	return syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 ? -1 : 0;
}

static int try_perf_event_open(void)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_TASK_CLOCK;
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0) < 0 ? -1 : 0;
}

static int try_userfaultfd(void)
{
	return syscall(SYS_userfaultfd, O_CLOEXEC) < 0 ? -1 : 0;
}

/* i386 getpid (number 20) through int 0x80, the 32-bit entry point. */
static int try_int80(void)
{
	long ret;

	__asm__ volatile ("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	if (ret > 0)
		return 0;
	errno = (int)-ret;
	return -1;
}

static int try_tiocsti(void)
{
	char c = '#';

	return ioctl(pty_slave, TIOCSTI, &c);
}

/* pread is on the allowlist, so only a closed descriptor stops this. */
static int try_read_stray_fd(void)
{
	char buf[16];

	return pread(stray_fd, buf, sizeof(buf), 0) < 0 ? -1 : 0;
}

static const struct attempt attempts[] = {
	{ "open /etc/passwd", try_open_system_file, 0 },
	{ "open a file outside", try_open_outside_file, 0 },
	{ "execve /bin/sh", try_execve_shell, 0 },
	{ "connect to loopback", try_connect_loopback, 0 },
	{ "ptrace the parent", try_ptrace_parent, 0 },
	{ "open parent's mem", try_write_parent_memory, 0 },
	{ "SIGTERM the parent", try_signal_parent, 0 },
	{ "fork", try_fork, 0 },
	{ "mount", try_mount, 0 },
	{ "unshare a user ns", try_unshare_user, 0 },
	{ "io_uring_setup", try_io_uring, 0 },
	{ "bpf", try_bpf, 0 },
	{ "keyctl", try_keyctl, 0 },
	{ "perf_event_open", try_perf_event_open, 0 },
	{ "userfaultfd", try_userfaultfd, 0 },
	{ "int 0x80", try_int80, 0 },
	{ "TIOCSTI on a pty", try_tiocsti, 0 },
	{ "read a stray fd", try_read_stray_fd, EBADF },
};

#define ATTEMPT_COUNT (sizeof(attempts) / sizeof(attempts[0]))

/*
 * What the worker does with descriptors: the real one gets only its socket
 * on 3 and closes everything above it. Here the pty slave goes on stdin in
 * place of a terminal, which the worker must not be able to use either.
 */
static void clean_descriptors(void)
{
	if (dup2(pty_slave, 0) == 0)
		pty_slave = 0;
	syscall(SYS_close_range, 3, ~0U, 0);
}

static int apply_setup(enum setup setup)
{
	char err[256];
	int abi;

	switch (setup) {
	case SETUP_NONE:
		return 0;
	case SETUP_FULL:
		clean_descriptors();
		return confine_all(&abi, err, sizeof(err));
	case SETUP_NAMESPACES:
		clean_descriptors();
		return confine_empty_root(err, sizeof(err));
	case SETUP_LANDLOCK:
		if (confine_no_new_privs(err, sizeof(err)) < 0)
			return -1;
		return confine_landlock(&abi, err, sizeof(err));
	case SETUP_SECCOMP:
		if (confine_no_new_privs(err, sizeof(err)) < 0)
			return -1;
		return confine_seccomp(err, sizeof(err));
	default:
		return -1;
	}
}

struct child_args {
	enum setup setup;
	const struct attempt *attempt;
};

static int child_body(const struct child_args *a)
{
	int rc, saved;

	if (apply_setup(a->setup) < 0)
		return EXIT_SETUP_FAILED;
	rc = a->attempt->fn();
	saved = errno;
	if (rc == 0)
		return 0;
	return EXIT_ERRNO_BASE + (saved < 155 ? saved : 155);
}

static void spawned_child(void *arg, int report_fd)
{
	close(report_fd);
	_exit(child_body(arg));
}

/*
 * Run one attempt under one set-up. Returns the wait status; the two
 * set-ups with namespaces start the child through worker_spawn.
 */
static int run_attempt(enum setup setup, const struct attempt *attempt)
{
	struct child_args args = { setup, attempt };
	struct worker_proc w;
	char err[512];
	int status;
	pid_t pid;

	if (setup == SETUP_FULL || setup == SETUP_NAMESPACES) {
		memset(&w, 0, sizeof(w));
		if (worker_spawn(&w, 0, spawned_child, &args, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		pid = w.pid;
	} else {
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(child_body(&args));
	}
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	return status;
}

/*
 * Attempts whose only system call is open: the sanitizer build's filter
 * returns ENOENT for open (worker/seccomp.c) without the path reaching
 * the kernel, so that ASan can report; a normal build kills.
 */
static bool opens_a_path(const struct attempt *attempt)
{
	return attempt->fn == try_open_system_file ||
	       attempt->fn == try_open_outside_file ||
	       attempt->fn == try_write_parent_memory;
}

static void describe(int status, char *buf, size_t size)
{
	int code;

	if (WIFSIGNALED(status)) {
		snprintf(buf, size, "%s", sigabbrev_np(WTERMSIG(status)) ?
			 sigabbrev_np(WTERMSIG(status)) : "signal");
		if (strcmp(buf, "SYS") == 0)
			snprintf(buf, size, "SIGSYS");
		return;
	}
	code = WEXITSTATUS(status);
	if (code == 0)
		snprintf(buf, size, "WORKED");
	else if (code == EXIT_SETUP_FAILED)
		snprintf(buf, size, "setup-failed");
	else if (code >= EXIT_ERRNO_BASE)
		snprintf(buf, size, "%s", strerrorname_np(code - EXIT_ERRNO_BASE) ?
			 strerrorname_np(code - EXIT_ERRNO_BASE) : "errno");
	else
		snprintf(buf, size, "exit-%d", code);
}

static void run_case(const struct attempt *attempt)
{
	char outcome[SETUP_COUNT][32], line[512];
	int status[SETUP_COUNT], full;
	bool arrived[SETUP_COUNT];
	size_t len = 0;
	int s;

	for (s = 0; s < SETUP_COUNT; s++) {
		sigterm_arrived = 0;
		status[s] = run_attempt((enum setup)s, attempt);
		arrived[s] = sigterm_arrived;
		describe(status[s], outcome[s], sizeof(outcome[s]));
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%s",
					setup_names[s], outcome[s]);
	}
	print_message("# %-20s%s\n", attempt->name, line);

	if (attempt->fn == try_signal_parent)
		print_message("# SIGTERM arrived: none=%d full=%d namespaces=%d "
			      "landlock=%d seccomp=%d\n", arrived[0], arrived[1],
			      arrived[2], arrived[3], arrived[4]);
	if (attempt->fn == try_int80 && !(WIFEXITED(status[SETUP_NONE]) &&
					  WEXITSTATUS(status[SETUP_NONE]) == 0))
		skip();	/* this kernel has no 32-bit system call entry */

	/* Unconfined, the attempt works: a failure below means a layer. */
	if (!WIFEXITED(status[SETUP_NONE]) || WEXITSTATUS(status[SETUP_NONE]))
		fail_msg("\"%s\" fails even unconfined (%s); the case proves "
			 "nothing on this host", attempt->name,
			 outcome[SETUP_NONE]);

	full = status[SETUP_FULL];
	if (attempt->full_errno == 0 && opens_a_path(attempt) &&
	    strcmp(confine_profile(), "sanitizer") == 0) {
		/* The sanitizer profile answers open with ENOENT instead. */
		assert_true(WIFEXITED(full));
		assert_int_equal(WEXITSTATUS(full), EXIT_ERRNO_BASE + ENOENT);
	} else if (attempt->full_errno == 0) {
		if (!WIFSIGNALED(full) || WTERMSIG(full) != SIGSYS)
			fail_msg("\"%s\" under the full stack: %s, expected "
				 "SIGSYS", attempt->name, outcome[SETUP_FULL]);
	} else {
		assert_true(WIFEXITED(full));
		assert_int_equal(WEXITSTATUS(full),
				 EXIT_ERRNO_BASE + attempt->full_errno);
	}
	assert_false(arrived[SETUP_FULL]);
}

/* One TAP case per attempt; the attempt comes in as the initial state. */
static void escape_case(void **state)
{
	run_case(*state);
}

static void on_sigterm(int sig)
{
	(void)sig;
	sigterm_arrived = 1;
}

static int open_listener(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);

	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (listen_fd < 0 ||
	    bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(listen_fd, 64) < 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&addr, &len) < 0)
		return -1;
	listen_port = ntohs(addr.sin_port);
	return 0;
}

static int open_pty(void)
{
	pty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (pty_master < 0 || grantpt(pty_master) < 0 ||
	    unlockpt(pty_master) < 0)
		return -1;
	/* Not O_CLOEXEC: the pty plays a terminal that a worker inherits. */
	pty_slave = open(ptsname(pty_master), O_RDWR | O_NOCTTY);
	return pty_slave < 0 ? -1 : 0;
}

static int setup_all(void **state)
{
	struct sigaction sa;
	char path[160];
	int fd;

	(void)state;
	if (!mkdtemp(top))
		return -1;
	snprintf(path, sizeof(path), "%s/outside", top);
	snprintf(secret_path, sizeof(secret_path), "%s/outside/secret.txt", top);
	snprintf(mount_point, sizeof(mount_point), "%s/mnt", top);
	if (mkdir(path, 0700) < 0 || mkdir(mount_point, 0700) < 0)
		return -1;
	fd = open(secret_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "outside secret\n", 15) != 15 || close(fd) < 0)
		return -1;
	stray_fd = open(secret_path, O_RDONLY);
	if (stray_fd < 0 || open_listener() < 0 || open_pty() < 0)
		return -1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigterm;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;
	parent_pid = getpid();
	return 0;
}

static int teardown_all(void **state)
{
	char path[160];

	(void)state;
	close(stray_fd);
	close(listen_fd);
	close(pty_slave);
	close(pty_master);
	unlink(secret_path);
	snprintf(path, sizeof(path), "%s/outside", top);
	rmdir(path);
	rmdir(mount_point);
	rmdir(top);
	return 0;
}

int main(void)
{
	struct CMUnitTest tests[ATTEMPT_COUNT];
	size_t i;

	for (i = 0; i < ATTEMPT_COUNT; i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = attempts[i].name;
		tests[i].test_func = escape_case;
		tests[i].initial_state = (void *)&attempts[i];
	}
	if (geteuid() != 0)
		print_message("# running as uid %d: the unconfined baseline of "
			      "some attempts needs root\n", (int)geteuid());
	return _cmocka_run_group_tests("worker_escape", tests, ATTEMPT_COUNT,
				       setup_all, teardown_all);
}
