/*
 * The last layers of the command sandbox, applied in the forked command
 * right before execve: resource limits, Landlock and the seccomp denylist.
 *
 * The seccomp filter is compiled by libseccomp once per supervisor process
 * and kept as BPF, so every later command only loads the program (one
 * seccomp(2) call) instead of building it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include "supervisor/sandbox_internal.h"

/*
 * The system header may predate the kernel. These values are fixed by the
 * kernel's UAPI (include/uapi/linux/landlock.h); the ABI version that the
 * kernel reports decides which of them are handled.
 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)	/* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)	/* ABI 5 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)	/* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)		/* ABI 6 */
#endif

/* The ruleset attribute as of ABI 6; the kernel reads the first size bytes. */
struct sandbox_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define FS_READ (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | \
		 LANDLOCK_ACCESS_FS_READ_DIR)

/* Every right of ABI 1: bits 0 to 12. */
#define FS_ABI1 ((1ULL << 13) - 1)

/*
 * Resource limits, soft equal to hard so the command cannot raise them.
 * RLIMIT_NPROC is counted per uid within the sandbox's own user namespace
 * (Linux 5.14 and later), so it bounds a fork bomb without counting the
 * caller's other processes there.
 */
#define LIMIT_NPROC 2048
#define LIMIT_NOFILE 4096
#define LIMIT_FSIZE (8ULL << 30)

/* The compiled seccomp program, built once by sandbox_seccomp_prepare. */
static struct {
	pthread_once_t once;
	struct sock_filter *insns;
	unsigned short len;
	char err[SANDBOX_REPORT_MAX];
} filter = { .once = PTHREAD_ONCE_INIT };

static int set_limit(int resource, const char *name, rlim_t value,
		     char *err, size_t errlen)
{
	struct rlimit lim = { value, value };

	if (setrlimit(resource, &lim) == 0)
		return 0;
	snprintf(err, errlen,
		 "command sandbox: rlimits: setrlimit(%s, %llu) failed (%s)",
		 name, (unsigned long long)value, strerror(errno));
	return -1;
}

int sandbox_rlimits_apply(const struct sandbox_opts *opts, char *err,
			  size_t errlen)
{
	/* CPU seconds: one more than the wall clock allows, rounded up. */
	rlim_t cpu = (rlim_t)(opts->timeout_ms + 999) / 1000 + 1;

	if (set_limit(RLIMIT_NPROC, "RLIMIT_NPROC", LIMIT_NPROC, err, errlen) < 0 ||
	    set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", LIMIT_NOFILE, err, errlen) < 0 ||
	    set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", LIMIT_FSIZE, err, errlen) < 0 ||
	    set_limit(RLIMIT_CPU, "RLIMIT_CPU", cpu, err, errlen) < 0 ||
	    set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0, err, errlen) < 0)
		return -1;
	return 0;
}

static int landlock_fail(char *err, size_t errlen, const char *step)
{
	const char *fix = "";

	if (errno == ENOSYS || errno == EOPNOTSUPP)
		fix = "; Landlock is not enabled in this kernel: boot Linux 5.13 or "
		      "later with CONFIG_SECURITY_LANDLOCK=y and \"landlock\" in the "
		      "lsm= boot parameter";
	snprintf(err, errlen, "command sandbox: Landlock: %s failed (%s)%s",
		 step, strerror(errno), fix);
	return -1;
}

static void landlock_attr_for(long abi, struct sandbox_ruleset_attr *attr,
			      size_t *size)
{
	memset(attr, 0, sizeof(*attr));
	attr->handled_access_fs = FS_ABI1;
	if (abi >= 2)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	*size = offsetof(struct sandbox_ruleset_attr, handled_access_net);

	/*
	 * Scoping keeps the command from connecting to abstract unix sockets
	 * made outside its domain, which a shared network namespace (--net)
	 * would otherwise expose, and from signalling processes outside.
	 */
	if (abi >= 6) {
		attr->scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |
			       LANDLOCK_SCOPE_SIGNAL;
		*size = sizeof(*attr);
	}
}

/* Grant access beneath path; a path missing from the view is skipped. */
static int landlock_allow(int ruleset, const char *path, uint64_t access,
			  char *err, size_t errlen)
{
	struct landlock_path_beneath_attr rule = { .allowed_access = access };
	struct stat st;
	int fd, rc;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return landlock_fail(err, errlen, "opening a rule's path");

	/* Rights on a non-directory may only be those that apply to files. */
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		rule.allowed_access &= LANDLOCK_ACCESS_FS_EXECUTE |
				       LANDLOCK_ACCESS_FS_READ_FILE |
				       LANDLOCK_ACCESS_FS_WRITE_FILE |
				       LANDLOCK_ACCESS_FS_TRUNCATE |
				       LANDLOCK_ACCESS_FS_IOCTL_DEV;
	rule.parent_fd = fd;
	rc = (int)syscall(SYS_landlock_add_rule, ruleset,
			  LANDLOCK_RULE_PATH_BENEATH, &rule, 0);
	close(fd);
	if (rc < 0) {
		snprintf(err, errlen,
			 "command sandbox: Landlock: adding the rule for %s failed (%s)",
			 path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Landlock under the mounts: read and execute everywhere, write only
 * beneath the workspace (unless read-only), the private temporary
 * directories and the few device nodes. Full access grants write
 * everywhere and keeps the scoping. Landlock only grants, so the read-only
 * protected paths inside the workspace are kept by their mounts.
 */
int sandbox_landlock_apply(const struct sandbox_opts *opts, char *err,
			   size_t errlen)
{
	static const char *const scratch[] = {
		"/tmp", "/var/tmp", "/dev/shm", "/dev/null", "/dev/zero",
		"/dev/full", "/dev/random", "/dev/urandom",
	};
	struct sandbox_ruleset_attr attr;
	uint64_t all;
	size_t size, i;
	long abi;
	int ruleset, rc = -1;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
		      LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return landlock_fail(err, errlen, "reading the ABI version");

	landlock_attr_for(abi, &attr, &size);
	all = attr.handled_access_fs;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return landlock_fail(err, errlen, "creating the ruleset");

	if (opts->mode == SANDBOX_FULL_ACCESS) {
		if (landlock_allow(ruleset, "/", all, err, errlen) < 0)
			goto out;
	} else {
		if (landlock_allow(ruleset, "/", FS_READ, err, errlen) < 0)
			goto out;
		for (i = 0; i < sizeof(scratch) / sizeof(scratch[0]); i++)
			if (landlock_allow(ruleset, scratch[i], all, err,
					   errlen) < 0)
				goto out;
		if (opts->mode == SANDBOX_WORKSPACE_WRITE &&
		    landlock_allow(ruleset, opts->workspace, all, err, errlen) < 0)
			goto out;
	}

	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
		landlock_fail(err, errlen, "restricting the command");
		goto out;
	}
	rc = 0;
out:
	close(ruleset);
	return rc;
}

/* System calls that no build or test needs and that widen the attack surface. */
static const int denied_syscalls[] = {
	SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
	SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
	SCMP_SYS(fsopen), SCMP_SYS(fsconfig), SCMP_SYS(fsmount),
	SCMP_SYS(fspick), SCMP_SYS(move_mount), SCMP_SYS(mount_setattr),
	SCMP_SYS(bpf), SCMP_SYS(keyctl), SCMP_SYS(add_key),
	SCMP_SYS(request_key), SCMP_SYS(io_uring_setup),
	SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register),
	SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd),
	SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load),
	SCMP_SYS(init_module), SCMP_SYS(finit_module),
	SCMP_SYS(delete_module),
};

static int filter_rules(scmp_filter_ctx ctx)
{
	const struct scmp_arg_cmp newuser =
		SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < sizeof(denied_syscalls) / sizeof(int); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				      denied_syscalls[i], 0);

	/* Nested user namespaces would give the command capabilities again. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				      SCMP_SYS(unshare), 1, newuser);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				      SCMP_SYS(clone), 1, newuser);

	/*
	 * clone3 passes its flags in memory, which seccomp cannot read.
	 * ENOSYS makes glibc fall back to clone, which the rule above checks.
	 */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				      SCMP_SYS(clone3), 0);

	/*
	 * The kernel compares the ioctl request as an unsigned int, so only
	 * the low 32 bits are compared: a request with bits set above them
	 * must not slip past.
	 */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl),
				      1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU,
						 TIOCSTI));
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl),
				      1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU,
						 TIOCLINUX));
	return rc;
}

/* Copy the BPF that libseccomp writes to fd into filter.insns. */
static int filter_read_back(int fd)
{
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
	    st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -1;
	filter.insns = malloc((size_t)st.st_size);
	if (!filter.insns)
		return -1;
	n = pread(fd, filter.insns, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		free(filter.insns);
		filter.insns = NULL;
		return -1;
	}
	filter.len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	return 0;
}

/*
 * Build the filter. Only the native architecture is in it, so the 32-bit
 * entry (int 0x80) and x32 system calls take the bad-architecture action,
 * EPERM, and a 32-bit build tool fails cleanly instead of being killed.
 */
static void filter_build(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int fd = -1, rc = -1;

	if (!ctx)
		goto out;
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			      SCMP_ACT_ERRNO(EPERM));
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc == 0)
		rc = filter_rules(ctx);
	if (rc < 0)
		goto out;

	fd = memfd_create("coworker-seccomp", MFD_CLOEXEC);
	rc = -1;
	if (fd >= 0 && seccomp_export_bpf(ctx, fd) == 0)
		rc = filter_read_back(fd);
out:
	if (rc < 0)
		snprintf(filter.err, sizeof(filter.err),
			 "command sandbox: seccomp: building the filter with "
			 "libseccomp failed; check that libseccomp 2.5 or later "
			 "is installed");
	if (fd >= 0)
		close(fd);
	if (ctx)
		seccomp_release(ctx);
}

int sandbox_seccomp_prepare(char *err, size_t errlen)
{
	pthread_once(&filter.once, filter_build);
	if (filter.insns)
		return 0;
	snprintf(err, errlen, "%s", filter.err);
	return -1;
}

int sandbox_seccomp_load(char *err, size_t errlen)
{
	struct sock_fprog prog = { .len = filter.len, .filter = filter.insns };

	if (!filter.insns) {
		snprintf(err, errlen, "command sandbox: seccomp: no filter prepared");
		return -1;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
		return 0;
	snprintf(err, errlen,
		 "command sandbox: seccomp: loading the filter failed (%s)%s",
		 strerror(errno), errno == EINVAL ?
		 "; the kernel needs CONFIG_SECCOMP_FILTER=y" : "");
	return -1;
}
