/*
 * Process-wide lock-down steps that come before the seccomp filter:
 * resource limits, no_new_privs, capabilities and Landlock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/landlock.h>

#include "proto/proto.h"
#include "confine.h"

/*
 * The system header may predate the kernel. These values are fixed by the
 * kernel's UAPI (include/uapi/linux/landlock.h), so defining them here is
 * safe; the ABI version decides which ones the kernel accepts.
 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)	/* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)	/* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)	/* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)	/* ABI 4 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)	/* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)		/* ABI 6 */
#endif

/* The ruleset attribute as of ABI 6; the kernel reads the first size bytes. */
struct worker_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define NOFILE_MAX 64

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int set_limit(int resource, const char *name, rlim_t value,
		     char *err, size_t errlen)
{
	struct rlimit lim = { value, value };

	if (setrlimit(resource, &lim) < 0)
		return fail(err, errlen, "setrlimit(%s, %llu) failed: %s", name,
			    (unsigned long long)value, strerror(errno));
	return 0;
}

/*
 * Limits come first, while setrlimit is still permitted; seccomp removes
 * it. Soft and hard limits are equal so the worker cannot raise them again.
 * RLIMIT_FSIZE is not 0 because write_file content is written into a memfd
 * and the limit applies there too. RLIMIT_NPROC is left alone: it does not
 * bind uid 0, and the seccomp filter already kills clone and fork.
 */
int confine_rlimits(char *err, size_t errlen)
{
	if (set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0, err, errlen) < 0 ||
	    set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", NOFILE_MAX,
		      err, errlen) < 0 ||
	    set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", PROTO_CONTENT_MAX,
		      err, errlen) < 0)
		return -1;
	return 0;
}

/* Landlock without CAP_SYS_ADMIN and seccomp without it both need this. */
int confine_no_new_privs(char *err, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS) failed: %s",
			    strerror(errno));
	return 0;
}

/*
 * TODO: the worker still runs as uid 0 when the supervisor does. Without
 * capabilities uid 0 keeps only its ownership of root's files, which
 * Landlock and the seccomp filter keep out of reach; a user namespace and
 * an unprivileged uid are still to come.
 */
int confine_drop_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	int cap;

	/*
	 * The bounding set first, because dropping it needs CAP_SETPCAP. A
	 * process without CAP_SETPCAP gets EPERM and keeps its bounding set,
	 * which is harmless: no_new_privs and the absence of execve already
	 * stop any later gain of capabilities. EINVAL marks the last one.
	 */
	for (cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0 || errno == EPERM)
			continue;
		if (errno == EINVAL)
			break;
		return fail(err, errlen, "prctl(PR_CAPBSET_DROP, %d) failed: %s",
			    cap, strerror(errno));
	}

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return fail(err, errlen, "clearing ambient capabilities "
			    "failed: %s", strerror(errno));

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return fail(err, errlen, "capset(0) failed: %s", strerror(errno));
	return 0;
}

/* Access rights the kernel with Landlock ABI version abi can handle. */
static void landlock_attr_for(int abi, struct worker_ruleset_attr *attr,
			      size_t *size)
{
	memset(attr, 0, sizeof(*attr));
	attr->handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		attr->handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	*size = sizeof(attr->handled_access_fs);

	if (abi >= 4) {
		attr->handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP |
					   LANDLOCK_ACCESS_NET_CONNECT_TCP;
		*size = offsetof(struct worker_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr->scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |
			       LANDLOCK_SCOPE_SIGNAL;
		*size = sizeof(*attr);
	}
}

/*
 * Landlock comes after no_new_privs (landlock_restrict_self requires it
 * without CAP_SYS_ADMIN) and before seccomp, which removes the Landlock
 * system calls. The ruleset has no rules, so every handled access is denied.
 * NOTE: the worker opens nothing after start-up, so this layer mostly backs
 * up the seccomp filter; connect() on the socket libcurl is handed never
 * reaches Landlock because seccomp returns first.
 */
int confine_landlock(int *abi, char *err, size_t errlen)
{
	struct worker_ruleset_attr attr;
	size_t size;
	long version;
	int fd;

	*abi = 0;
	version = syscall(SYS_landlock_create_ruleset, NULL, 0,
			  LANDLOCK_CREATE_RULESET_VERSION);
	if (version < 0) {
		if (errno == ENOSYS || errno == EOPNOTSUPP)
			return 0;
		return fail(err, errlen, "querying the Landlock ABI failed: %s",
			    strerror(errno));
	}

	landlock_attr_for((int)version, &attr, &size);
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		return fail(err, errlen, "landlock_create_ruleset (ABI %ld) "
			    "failed: %s", version, strerror(errno));
	if (syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
		fail(err, errlen, "landlock_restrict_self failed: %s",
		     strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	*abi = (int)version;
	return 0;
}

/*
 * The order binds. Rlimits, no_new_privs and capabilities need prctl,
 * setrlimit and capset. Landlock needs no_new_privs and its own system
 * calls. The seccomp filter removes all of those, so it goes last.
 */
int confine_all(int *landlock_abi, char *err, size_t errlen)
{
	if (confine_rlimits(err, errlen) < 0 ||
	    confine_no_new_privs(err, errlen) < 0 ||
	    confine_drop_caps(err, errlen) < 0 ||
	    confine_landlock(landlock_abi, err, errlen) < 0 ||
	    confine_seccomp(err, errlen) < 0)
		return -1;
	return 0;
}
