/*
 * The worker's seccomp allowlist. After start-up the worker only moves
 * bytes on descriptors it already holds (the supervisor socket, sockets and
 * files the supervisor hands over, memfds it creates), allocates memory and
 * reads the clock. Everything else kills the whole process.
 *
 * The list comes from strace -f of whole sessions: the end-to-end test
 * over plain http with every tool, and an https session against a local
 * TLS server (tests/integration/tls.bats). Each entry names its caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <seccomp.h>

#include "confine.h"
#include "lib/error.h"

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#endif

/*
 * The sanitizer profile widens the filter, so it must never reach a build
 * without sanitizers: make SANITIZE=1 defines COWORKER_SANITIZER_PROFILE
 * together with -fsanitize=address. GCC defines __SANITIZE_ADDRESS__ then,
 * and clang reports it through __has_feature.
 */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(COWORKER_SANITIZER_PROFILE) && !defined(__SANITIZE_ADDRESS__) && \
	!__has_feature(address_sanitizer)
#error "COWORKER_SANITIZER_PROFILE widens the worker's seccomp filter; it is only for builds with -fsanitize=address (make SANITIZE=1)"
#endif

struct allow_rule {
	int nr;
	unsigned count;			/* argument checks used, 0..1 */
	struct scmp_arg_cmp arg;
};

#define ALLOW(name) { SCMP_SYS(name), 0, { 0, 0, 0, 0 } }
#define ALLOW_IF(name, cmp) { SCMP_SYS(name), 1, cmp }

/*
 * One entry per permitted call, or per permitted argument value where the
 * argument is a plain integer that seccomp can see. Pointer arguments
 * (paths, socket addresses inside msghdr) cannot be inspected.
 */
static const struct allow_rule allow_rules[] = {
	/* The supervisor socket: proto_send and proto_recv. */
	ALLOW(sendmsg),
	ALLOW(recvmsg),

	/* libcurl's send() and recv() on the handed socket; no address. */
	ALLOW_IF(sendto, SCMP_A4(SCMP_CMP_EQ, 0)),
	ALLOW_IF(recvfrom, SCMP_A4(SCMP_CMP_EQ, 0)),
	ALLOW(poll),		/* curl_multi_poll (glibc 2.36 uses poll) */
	ALLOW(setsockopt),	/* libcurl: TCP_NODELAY */
	ALLOW(getsockopt),	/* libcurl: SO_ERROR after "connecting" */
	ALLOW(getsockname),	/* libcurl: local address for its info */
	ALLOW(getpeername),	/* libcurl: peer address for its info */
	ALLOW(close),		/* libcurl's sockets, descriptors in replies */

	/* Descriptor flags: libcurl sets O_NONBLOCK, memfds get sealed. */
	ALLOW_IF(fcntl, SCMP_A1(SCMP_CMP_EQ, F_GETFL)),
	ALLOW_IF(fcntl, SCMP_A1(SCMP_CMP_EQ, F_SETFL)),
	ALLOW_IF(fcntl, SCMP_A1(SCMP_CMP_EQ, F_ADD_SEALS)),

	/* Tool data: write_file content into a memfd, results read back. */
	ALLOW_IF(memfd_create,
		 SCMP_A1(SCMP_CMP_EQ, MFD_CLOEXEC | MFD_ALLOW_SEALING)),
	ALLOW(write),		/* memfd content; stderr before exiting */
	ALLOW(pread64),		/* files and memfds in replies, from offset 0 */
	/*
	 * glibc implements fstat() as newfstatat(fd, "", st, AT_EMPTY_PATH);
	 * the worker uses it to size results over 256 KiB.
	 * NOTE: the path is a pointer that seccomp cannot read, so an absolute
	 * path with AT_EMPTY_PATH is still looked up, and Landlock does not
	 * cover stat. The empty root (confine_empty_root) leaves no file for
	 * such a path to name.
	 */
	ALLOW_IF(newfstatat, SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH)),

	/* Memory for malloc; never an executable mapping. */
	ALLOW_IF(mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	ALLOW_IF(mprotect, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)),
	ALLOW(munmap),
	ALLOW(mremap),		/* realloc of blocks above the mmap threshold */
	ALLOW(brk),
	ALLOW(madvise),		/* free() trimming large chunks */
	ALLOW(futex),		/* glibc and OpenSSL locks, seen at exit */

	/* libcurl timers and OpenSSL; the vDSO serves these when it can. */
	ALLOW(clock_gettime),
	ALLOW(gettimeofday),
	ALLOW(getrandom),	/* OpenSSL's random generator, seeded per TLS session */
	ALLOW(getpid),		/* OpenSSL's fork check on every handshake; abort() */
	ALLOW(gettid),		/* abort(): the thread id for tgkill */

	/* Signals: abort() blocks signals before raising SIGABRT. */
	ALLOW(rt_sigprocmask),
	ALLOW(rt_sigaction),
	ALLOW(rt_sigreturn),
	/* poll interrupted by a stop signal is resumed through this. */
	ALLOW(restart_syscall),

	ALLOW(exit_group),
};

#ifdef COWORKER_SANITIZER_PROFILE
/*
 * The sanitizer profile: what GCC 12's ASan and UBSan runtimes call after
 * the lock-down, seen with strace while they report an error in a confined
 * process (tests/unit/test_worker_seccomp.c,
 * sanitizer_reports_inside_lock_down). These rules exist only in builds
 * with COWORKER_SANITIZER_PROFILE. Leak detection is off in the worker
 * (worker/main.c), because LeakSanitizer stops the process with ptrace
 * from a cloned thread, so neither clone nor ptrace is here.
 */
static const struct allow_rule sanitizer_rules[] = {
	ALLOW(sigaltstack),	/* queried on the _exit and report paths */
};

/*
 * A report reads /proc/self/exe, /proc/self/cmdline and /proc/self/environ.
 * The error ENOENT is what the empty root would give anyway, and the
 * report is still printed, with addresses to symbolize later, instead of
 * the process dying of SIGSYS in the middle of it. The path never reaches
 * the kernel, so nothing is opened.
 */
static const int sanitizer_enoent[] = {
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(readlink),
};
#endif

const char *confine_profile(void)
{
#ifdef COWORKER_SANITIZER_PROFILE
	return "sanitizer";
#else
	return "normal";
#endif
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr,
		    unsigned count, struct scmp_arg_cmp arg,
		    char *err, size_t errlen)
{
	char *name;
	int rc;

	if (count)
		rc = seccomp_rule_add(ctx, action, nr, 1, arg);
	else
		rc = seccomp_rule_add(ctx, action, nr, 0);
	if (rc == 0)
		return 0;

	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	error_set(err, errlen, "seccomp rule for %s failed: %s",
	     name ? name : "?", strerror(-rc));
	free(name);
	return -1;
}

static int add_rules(scmp_filter_ctx ctx, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(allow_rules) / sizeof(allow_rules[0]); i++)
		if (add_rule(ctx, SCMP_ACT_ALLOW, allow_rules[i].nr,
			     allow_rules[i].count, allow_rules[i].arg,
			     err, errlen) < 0)
			return -1;

#ifdef COWORKER_SANITIZER_PROFILE
	for (i = 0; i < sizeof(sanitizer_rules) / sizeof(sanitizer_rules[0]);
	     i++)
		if (add_rule(ctx, SCMP_ACT_ALLOW, sanitizer_rules[i].nr,
			     sanitizer_rules[i].count, sanitizer_rules[i].arg,
			     err, errlen) < 0)
			return -1;
	for (i = 0; i < sizeof(sanitizer_enoent) / sizeof(sanitizer_enoent[0]);
	     i++)
		if (add_rule(ctx, SCMP_ACT_ERRNO(ENOENT), sanitizer_enoent[i], 0,
			     SCMP_A0(SCMP_CMP_EQ, 0), err, errlen) < 0)
			return -1;
	/*
	 * UBSan probes whether memory around a bad pointer is readable by
	 * writing it into a pipe; without a pipe it prints no bytes.
	 */
	if (add_rule(ctx, SCMP_ACT_ERRNO(EMFILE), SCMP_SYS(pipe2), 0,
		     SCMP_A0(SCMP_CMP_EQ, 0), err, errlen) < 0)
		return -1;

	/* isatty(2) before a report, to choose colours: "not a terminal". */
	if (add_rule(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 1,
		     SCMP_A1(SCMP_CMP_EQ, TCGETS), err, errlen) < 0)
		return -1;
#endif

	/*
	 * abort() raises SIGABRT with tgkill on its own pid; a signal to any
	 * other process is killed. The pid is fixed when the filter is built.
	 */
	if (add_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
		     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()),
		     err, errlen) < 0)
		return -1;

	/*
	 * libcurl 7.88.1 calls connect() on the socket the supervisor already
	 * connected, ignoring CURL_SOCKOPT_ALREADY_CONNECTED (fixed in 8.0.0).
	 * Returning success without running the call keeps that working, and
	 * the worker never chooses a destination.
	 */
	if (add_rule(ctx, SCMP_ACT_ERRNO(0), SCMP_SYS(connect), 0,
		     SCMP_A0(SCMP_CMP_EQ, 0), err, errlen) < 0)
		return -1;

	/*
	 * clone3 takes its flags in a struct that seccomp cannot read. ENOSYS
	 * makes glibc fall back to clone, which the default action kills, so
	 * an attempt to start a thread or process fails loudly either way.
	 */
	if (add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0,
		     SCMP_A0(SCMP_CMP_EQ, 0), err, errlen) < 0)
		return -1;
	return 0;
}

/*
 * Last step of the lock-down: it removes prctl, setrlimit, capset and the
 * Landlock calls that the steps before it need.
 */
int confine_seccomp(char *err, size_t errlen)
{
	scmp_filter_ctx ctx;
	int rc;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return error_set(err, errlen, "seccomp_init failed");

	/*
	 * A call made through another ABI (i386 int 0x80, or x32 numbers with
	 * bit 30 set on x86_64) does not match the native rules; libseccomp
	 * routes it to the bad-architecture action, which must also kill.
	 */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			      SCMP_ACT_KILL_PROCESS);
	if (rc < 0) {
		error_set(err, errlen, "seccomp bad-architecture action failed: %s",
		     strerror(-rc));
		goto out;
	}

	rc = add_rules(ctx, err, errlen);
	if (rc < 0)
		goto out;

	rc = seccomp_load(ctx);
	if (rc < 0)
		error_set(err, errlen, "loading the seccomp filter failed: %s",
		     strerror(-rc));
out:
	seccomp_release(ctx);
	return rc < 0 ? -1 : 0;
}
