/*
 * The last layers of the command sandbox but one, applied in the command's
 * process right before execve: resource limits and Landlock. The seccomp
 * denylist, loaded last, is in sandbox_seccomp.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/landlock.h>

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

/*
 * Create a ruleset for the running kernel's ABI, with its scopes. It
 * handles the filesystem rights of only_fs that the ABI defines, or when 0
 * every right the ABI defines; *handled gets the rights handled. Returns
 * its fd, or -1.
 */
static int ruleset_create(uint64_t only_fs, uint64_t *handled, char *err,
			  size_t errlen)
{
	struct sandbox_ruleset_attr attr;
	size_t size;
	long abi;
	int ruleset;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
		      LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return landlock_fail(err, errlen, "reading the ABI version");
	landlock_attr_for(abi, &attr, &size);
	if (only_fs)
		attr.handled_access_fs &= only_fs;
	*handled = attr.handled_access_fs;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return landlock_fail(err, errlen, "creating the ruleset");
	return ruleset;
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
 * Restrict the calling thread with ruleset unless rc already reports a
 * failure (its rules then are incomplete), and close ruleset. Returns 0,
 * or -1 with err set.
 */
static int ruleset_enforce(int ruleset, int rc, char *err, size_t errlen)
{
	if (rc == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		rc = landlock_fail(err, errlen, "restricting the command");
	close(ruleset);
	return rc;
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
	uint64_t all;
	size_t i;
	int ruleset, rc;

	ruleset = ruleset_create(0, &all, err, errlen);
	if (ruleset < 0)
		return -1;

	if (opts->mode == SANDBOX_FULL_ACCESS) {
		rc = landlock_allow(ruleset, "/", all, err, errlen);
	} else {
		rc = landlock_allow(ruleset, "/", FS_READ, err, errlen);
		for (i = 0; rc == 0 && i < sizeof(scratch) / sizeof(scratch[0]);
		     i++)
			rc = landlock_allow(ruleset, scratch[i], all, err, errlen);
		if (rc == 0 && opts->mode == SANDBOX_WORKSPACE_WRITE)
			rc = landlock_allow(ruleset, opts->workspace, all, err,
					    errlen);
	}
	return ruleset_enforce(ruleset, rc, err, errlen);
}

int sandbox_landlock_nest(char *err, size_t errlen)
{
	uint64_t handled, refer;
	int ruleset, rc = 0;

	/*
	 * Nothing in the sandbox may make a block device anyway. A domain
	 * that does not handle REFER denies every rename and link across
	 * directories (EXDEV), so from ABI 2 on it is handled and granted
	 * everywhere, leaving those moves to pid 1's domain.
	 */
	ruleset = ruleset_create(LANDLOCK_ACCESS_FS_MAKE_BLOCK |
				 LANDLOCK_ACCESS_FS_REFER, &handled, err, errlen);
	if (ruleset < 0)
		return -1;
	refer = handled & LANDLOCK_ACCESS_FS_REFER;
	if (refer)
		rc = landlock_allow(ruleset, "/", refer, err, errlen);
	return ruleset_enforce(ruleset, rc, err, errlen);
}
