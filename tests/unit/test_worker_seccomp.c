/*
 * The worker's lock-down, tried from inside: each case forks a child that
 * applies the worker's own confinement functions and then attempts one
 * thing. Calls outside the allowlist must kill the child with SIGSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <cmocka.h>

#include "worker/confine.h"

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

/* Child exit codes below 100 are the attempt's own result. */
#define CHILD_CONFINE_FAILED 100

typedef int (*attempt_fn)(void);

/* Fork, confine fully, run attempt; return the wait status. */
static int run_confined(attempt_fn attempt)
{
	char err[256];
	int status, abi;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (confine_all(&abi, err, sizeof(err)) < 0) {
			fprintf(stderr, "# %s\n", err);
			_exit(CHILD_CONFINE_FAILED);
		}
		_exit(attempt());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_killed_by_sigsys(attempt_fn attempt)
{
	int status = run_confined(attempt);

	if (WIFEXITED(status))
		fail_msg("child exited with %d instead of dying of SIGSYS",
			 WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void assert_exits_zero(attempt_fn attempt)
{
	int status = run_confined(attempt);

	if (WIFSIGNALED(status))
		fail_msg("child died of signal %d", WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int try_open(void)
{
	return open("/etc/hostname", O_RDONLY) >= 0 ? 1 : 2;
}

static int try_openat(void)
{
	return (int)syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY) >= 0
	       ? 1 : 2;
}

static int try_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 1 : 2;
}

static int try_socketpair(void)
{
	int sv[2];

	return socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 ? 1 : 2;
}

static int try_execve(void)
{
	char *argv[] = { "true", NULL };

	execve("/bin/true", argv, (char *[]){ NULL });
	return 2;
}

static int try_io_uring(void)
{
	char params[120] = { 0 };	/* struct io_uring_params */

	return syscall(SYS_io_uring_setup, 1, params) >= 0 ? 1 : 2;
}

static int try_ptrace(void)
{
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 1 : 2;
}

static int try_clone(void)
{
	long rc = syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);

	if (rc == 0)
		_exit(0);
	return rc > 0 ? 1 : 2;
}

static int try_kill_parent(void)
{
	/* Signal 0 only probes; the call itself must be stopped. */
	return kill(getppid(), 0) == 0 ? 1 : 2;
}

static int try_tgkill_parent(void)
{
	return syscall(SYS_tgkill, getppid(), getppid(), 0) == 0 ? 1 : 2;
}

static int try_exec_mapping(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p != MAP_FAILED ? 1 : 2;
}

static int try_x32_getpid(void)
{
	return syscall(__X32_SYSCALL_BIT | SYS_getpid) >= 0 ? 1 : 2;
}

static int try_setrlimit(void)
{
	struct rlimit lim = { 1024, 1024 };

	return setrlimit(RLIMIT_NOFILE, &lim) == 0 ? 1 : 2;
}

/*
 * The sanitizer build's filter answers open and openat with ENOENT, so
 * that ASan can report (worker/seccomp.c); the path never reaches the
 * kernel. A normal build kills.
 */
static void assert_open_refused(attempt_fn attempt)
{
	int status;

	if (strcmp(confine_profile(), "sanitizer") != 0) {
		assert_killed_by_sigsys(attempt);
		return;
	}
	status = run_confined(attempt);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
}

static void open_killed(void **state)
{
	(void)state;
	assert_open_refused(try_open);
	assert_open_refused(try_openat);
}

static void socket_killed(void **state)
{
	(void)state;
	assert_killed_by_sigsys(try_socket);
	assert_killed_by_sigsys(try_socketpair);
}

static void execve_killed(void **state)
{
	(void)state;
	assert_killed_by_sigsys(try_execve);
}

static void io_uring_killed(void **state)
{
	(void)state;
	assert_killed_by_sigsys(try_io_uring);
}

static void ptrace_killed(void **state)
{
	(void)state;
	assert_killed_by_sigsys(try_ptrace);
}

static void clone_killed(void **state)
{
	(void)state;
	assert_killed_by_sigsys(try_clone);
}

static void signal_to_parent_killed(void **state)
{
	(void)state;
	assert_killed_by_sigsys(try_kill_parent);
	assert_killed_by_sigsys(try_tgkill_parent);
}

static void exec_mapping_killed(void **state)
{
	(void)state;
	assert_killed_by_sigsys(try_exec_mapping);
}

static void x32_syscall_killed(void **state)
{
	(void)state;
	assert_killed_by_sigsys(try_x32_getpid);
}

static void setrlimit_killed(void **state)
{
	(void)state;
	assert_killed_by_sigsys(try_setrlimit);
}

static int fds[2];	/* created before the fork, used by the attempt */

static int try_connect_socketpair(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char c = 0;

	/* A real connect on a connected socket fails with EISCONN. */
	memcpy(addr.sun_path, "\0coworker-test-nowhere", 22);
	if (connect(fds[0], (struct sockaddr *)&addr,
		    offsetof(struct sockaddr_un, sun_path) + 22) != 0)
		return 3;
	if (write(fds[0], "y", 1) != 1 || recv(fds[1], &c, 1, 0) != 1)
		return 4;
	return c == 'y' ? 0 : 5;
}

static int try_clone3(void)
{
	long rc = syscall(SYS_clone3, NULL, 0);

	return rc == -1 && errno == ENOSYS ? 0 : 3;
}

static int try_read_write(void)
{
	char c = 0;

	/* recv, not read: the worker reads sockets the way libcurl does. */
	if (write(fds[1], "x", 1) != 1 || recv(fds[0], &c, 1, 0) != 1)
		return 3;
	return c == 'x' ? 0 : 4;
}

static int try_sealed_memfd(void)
{
	const int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
			  F_SEAL_SEAL;
	char buf[8] = { 0 };
	int fd;

	fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || write(fd, "abc", 3) != 3)
		return 3;
	if (fcntl(fd, F_ADD_SEALS, seals) != 0)
		return 4;
	if (pread(fd, buf, sizeof(buf), 0) != 3 || strcmp(buf, "abc") != 0)
		return 5;
	return write(fd, "d", 1) < 0 && errno == EPERM ? 0 : 6;
}

static int try_abort(void)
{
	abort();
}

static void connect_answered_without_running(void **state)
{
	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    fds), 0);
	assert_exits_zero(try_connect_socketpair);
	close(fds[0]);
	close(fds[1]);
}

static void clone3_returns_enosys(void **state)
{
	(void)state;
	assert_exits_zero(try_clone3);
}

static void existing_fds_still_work(void **state)
{
	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    fds), 0);
	assert_exits_zero(try_read_write);
	close(fds[0]);
	close(fds[1]);
	assert_exits_zero(try_sealed_memfd);
}

static void abort_raises_sigabrt(void **state)
{
	int status;

	(void)state;
	status = run_confined(try_abort);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* i386 getpid (number 20) through int 0x80, the 32-bit entry point. */
static int try_int80_getpid(void)
{
	long ret;

	__asm__ volatile ("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret > 0 ? 0 : 3;
}

static void i386_syscall_killed(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	/* Without the filter first: the kernel may lack IA32 emulation. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(try_int80_getpid());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		skip();	/* this kernel has no 32-bit system call entry */
	assert_killed_by_sigsys(try_int80_getpid);
}

static long kernel_landlock_abi(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0,
		       LANDLOCK_CREATE_RULESET_VERSION);
}

/* Confine up to Landlock only, so that open() reaches Landlock. */
static void landlock_denies_open(void **state)
{
	char err[256];
	int status, abi;
	pid_t pid;

	(void)state;
	if (kernel_landlock_abi() < 1)
		skip();	/* Landlock is not enabled in this kernel */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (confine_rlimits(err, sizeof(err)) < 0 ||
		    confine_no_new_privs(err, sizeof(err)) < 0 ||
		    confine_drop_caps(err, sizeof(err)) < 0 ||
		    confine_landlock(&abi, err, sizeof(err)) < 0)
			_exit(CHILD_CONFINE_FAILED);
		if (abi != kernel_landlock_abi())
			_exit(3);
		if (open("/etc/hostname", O_RDONLY) >= 0)
			_exit(4);
		_exit(errno == EACCES ? 0 : 5);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void landlock_abi_reported(void **state)
{
	char err[256];
	long kernel = kernel_landlock_abi();
	int status, abi = -1;
	pid_t pid;

	(void)state;
	if (kernel < 1)
		skip();	/* Landlock is not enabled in this kernel */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (confine_all(&abi, err, sizeof(err)) < 0)
			_exit(CHILD_CONFINE_FAILED);
		_exit(abi);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), kernel);
	print_message("# Landlock ABI %ld\n", kernel);
}

static void limits_applied(void **state)
{
	struct rlimit core, nofile, fsize, as;
	char err[256];
	int sanitizer = strcmp(confine_profile(), "sanitizer") == 0;

	(void)state;
	/* In this process: rlimits only lower limits, nothing else changes. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &nofile), 0);
	if (fork() == 0) {
		if (confine_rlimits(err, sizeof(err)) < 0 ||
		    getrlimit(RLIMIT_CORE, &core) < 0 ||
		    getrlimit(RLIMIT_NOFILE, &nofile) < 0 ||
		    getrlimit(RLIMIT_FSIZE, &fsize) < 0 ||
		    getrlimit(RLIMIT_AS, &as) < 0)
			_exit(CHILD_CONFINE_FAILED);
		/* ASan's shadow memory needs an unlimited address space. */
		if (sanitizer ? as.rlim_max != RLIM_INFINITY :
		    as.rlim_max != 1024UL * 1024 * 1024)
			_exit(4);
		_exit(core.rlim_max == 0 && nofile.rlim_max == 64 &&
		      fsize.rlim_max == 16L * 1024 * 1024 ? 0 : 3);
	}
	{
		int status;

		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

#ifdef COWORKER_SANITIZER_PROFILE
/*
 * The sanitizer profile exists so that a memory error in the confined
 * worker is reported, not hidden behind SIGSYS.
 */
static volatile int overflow_index = 16;

static int try_heap_overflow(void)
{
	char *buf = malloc(16);

	buf[overflow_index] = 'x';	/* one byte past the end */
	free(buf);
	return 0;
}

static void sanitizer_reports_inside_lock_down(void **state)
{
	int err_pipe[2], status;
	char text[8192] = { 0 };
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_string_equal(confine_profile(), "sanitizer");
	assert_int_equal(pipe(err_pipe), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		int abi;

		dup2(err_pipe[1], 2);
		if (confine_all(&abi, err, sizeof(err)) < 0)
			_exit(CHILD_CONFINE_FAILED);
		_exit(try_heap_overflow());
	}
	close(err_pipe[1]);
	while (len < sizeof(text) - 1 &&
	       (n = read(err_pipe[0], text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)n;
	close(err_pipe[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("the report was cut by signal %d:\n%s",
			 WTERMSIG(status), text);
	assert_int_not_equal(WEXITSTATUS(status), 0);
	assert_int_not_equal(WEXITSTATUS(status), CHILD_CONFINE_FAILED);
	assert_non_null(strstr(text, "heap-buffer-overflow"));
	assert_non_null(strstr(text, "SUMMARY: AddressSanitizer"));
}
#else
/* The wider profile can never be selected in a build without sanitizers. */
static void normal_build_has_normal_profile(void **state)
{
	(void)state;
	assert_string_equal(confine_profile(), "normal");
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_killed),
		cmocka_unit_test(socket_killed),
		cmocka_unit_test(execve_killed),
		cmocka_unit_test(io_uring_killed),
		cmocka_unit_test(ptrace_killed),
		cmocka_unit_test(clone_killed),
		cmocka_unit_test(signal_to_parent_killed),
		cmocka_unit_test(exec_mapping_killed),
		cmocka_unit_test(x32_syscall_killed),
		cmocka_unit_test(i386_syscall_killed),
		cmocka_unit_test(setrlimit_killed),
		cmocka_unit_test(connect_answered_without_running),
		cmocka_unit_test(clone3_returns_enosys),
		cmocka_unit_test(existing_fds_still_work),
		cmocka_unit_test(abort_raises_sigabrt),
		cmocka_unit_test(landlock_denies_open),
		cmocka_unit_test(landlock_abi_reported),
		cmocka_unit_test(limits_applied),
#ifdef COWORKER_SANITIZER_PROFILE
		cmocka_unit_test(sanitizer_reports_inside_lock_down),
#else
		cmocka_unit_test(normal_build_has_normal_profile),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
