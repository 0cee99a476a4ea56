/*
 * Process-wide lock-down steps that come before the seccomp filter: the
 * empty root, resource limits, capabilities, no_new_privs and Landlock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/landlock.h>

#ifdef COWORKER_SANITIZER_PROFILE
#include <sanitizer/common_interface_defs.h>
#endif

#include "proto/proto.h"
#include "confine.h"
#include "lib/error.h"

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

/*
 * Maximum address space of the worker. It maps its libraries and keeps its
 * context and one model response in memory. 1 GiB is an estimate, not a
 * measured maximum, with room for the largest response that libcurl and
 * cJSON keep at once, and it stops a runaway allocation from taking the
 * host's memory. ASan reserves terabytes of shadow address space, so the
 * sanitizer profile sets no such limit.
 */
#define ADDRESS_SPACE_MAX (1024UL * 1024 * 1024)

/*
 * An existing directory to mount the new root on. /tmp is world-searchable,
 * so the worker's unprivileged host uid can reach it; the mount is only
 * seen inside the worker's own mount namespace.
 */
#define NEW_ROOT_MOUNT_POINT "/tmp"

/*
 * Make the whole file system view an empty, read-only tmpfs. The worker
 * opens no file after start-up, so nothing is lost; a path that reaches
 * the kernel later (stat with AT_EMPTY_PATH, a bug in a library) finds
 * nothing to name.
 *
 * This step comes after library start-up (the loader, libcurl, OpenSSL's
 * configuration, the CA bundle and tzset need the real files) and before
 * the capabilities go, because mount and pivot_root need CAP_SYS_ADMIN in
 * the worker's user namespace. Landlock would also forbid them once
 * enforced.
 */
int confine_empty_root(char *err, size_t errlen)
{
	/*
	 * A mount namespace of this process alone, even when the supervisor
	 * already made one: pivot_root moves the root of every process in
	 * the namespace, and a worker started by a test or by hand without
	 * the supervisor must never move anyone else's root.
	 */
	if (unshare(CLONE_NEWNS) < 0)
		return error_set(err, errlen, "unshare(CLONE_NEWNS) failed: %s; the "
			    "worker needs CAP_SYS_ADMIN in its user namespace, "
			    "which coworker gives it by starting it in one",
			    strerror(errno));

	/* Mounts made below must not propagate to any other namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return error_set(err, errlen, "making the mounts private failed: %s",
			    strerror(errno));

	if (mount("coworker-root", NEW_ROOT_MOUNT_POINT, "tmpfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0555") < 0)
		return error_set(err, errlen, "mounting a tmpfs on %s failed: %s",
			    NEW_ROOT_MOUNT_POINT, strerror(errno));

	/*
	 * pivot_root(".", ".") stacks the old root on top of the new one,
	 * so the old root can be detached from "." without a directory
	 * for it, and the tmpfs stays empty.
	 */
	if (chdir(NEW_ROOT_MOUNT_POINT) < 0 ||
	    syscall(SYS_pivot_root, ".", ".") < 0)
		return error_set(err, errlen, "pivot_root to the empty tmpfs failed: "
			    "%s", strerror(errno));
	if (umount2(".", MNT_DETACH) < 0)
		return error_set(err, errlen, "detaching the old root failed: %s",
			    strerror(errno));
	if (chdir("/") < 0)
		return error_set(err, errlen, "chdir(\"/\") in the new root failed: "
			    "%s", strerror(errno));

	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID |
		  MS_NODEV | MS_NOEXEC, NULL) < 0)
		return error_set(err, errlen, "remounting the new root read-only "
			    "failed: %s", strerror(errno));
	return 0;
}

static int set_limit(int resource, const char *name, rlim_t value,
		     char *err, size_t errlen)
{
	struct rlimit lim = { value, value };

	if (setrlimit(resource, &lim) < 0)
		return error_set(err, errlen, "setrlimit(%s, %llu) failed: %s", name,
			    (unsigned long long)value, strerror(errno));
	return 0;
}

/*
 * Limits come while setrlimit is still permitted; seccomp removes it. Soft
 * and hard limits are equal so the worker cannot raise them again once its
 * capabilities are gone. RLIMIT_FSIZE is not 0 because write_file content
 * is written into a memfd and the limit applies there too. RLIMIT_NPROC is
 * left alone: it counts every process of the host uid, and the seccomp
 * filter already kills clone and fork.
 *
 * The process also becomes non-dumpable, so that another process of the
 * same host uid (65534 is shared with other daemons' "nobody") can neither
 * ptrace it nor read its memory through /proc, where the API key lives.
 */
int confine_rlimits(char *err, size_t errlen)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return error_set(err, errlen, "prctl(PR_SET_DUMPABLE, 0) failed: %s",
			    strerror(errno));
	if (set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0, err, errlen) < 0 ||
	    set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", NOFILE_MAX,
		      err, errlen) < 0 ||
	    set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", PROTO_CONTENT_MAX,
		      err, errlen) < 0)
		return -1;
#ifndef COWORKER_SANITIZER_PROFILE
	if (set_limit(RLIMIT_AS, "RLIMIT_AS", ADDRESS_SPACE_MAX, err,
		      errlen) < 0)
		return -1;
#endif
	return 0;
}

/* Landlock without CAP_SYS_ADMIN and seccomp without it both need this. */
int confine_no_new_privs(char *err, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return error_set(err, errlen, "prctl(PR_SET_NO_NEW_PRIVS) failed: %s",
			    strerror(errno));
	return 0;
}

/*
 * Drop every capability for good. The worker holds all of them in its own
 * user namespace (it is uid 0 there), and none outside it; after this step
 * it holds none anywhere.
 *
 * The bounding set goes first, because PR_CAPBSET_DROP needs CAP_SETPCAP,
 * which the capset at the end removes. EINVAL marks the first number past
 * the kernel's last capability.
 */
static int drop_caps(int need_bounding, char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	int cap;

	for (cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL)
			break;
		if (errno == EPERM && !need_bounding)
			break;
		return error_set(err, errlen, "prctl(PR_CAPBSET_DROP, %d) failed: %s; "
			    "the worker needs CAP_SETPCAP in its user namespace, "
			    "which coworker gives it by starting it in one",
			    cap, strerror(errno));
	}

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		return error_set(err, errlen, "clearing ambient capabilities "
			    "failed: %s", strerror(errno));

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return error_set(err, errlen, "capset(0) failed: %s", strerror(errno));
	return 0;
}

int confine_drop_caps(char *err, size_t errlen)
{
	return drop_caps(1, err, errlen);
}

int confine_drop_caps_weaker(char *err, size_t errlen)
{
	return drop_caps(0, err, errlen);
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
		return error_set(err, errlen, "querying the Landlock ABI failed: %s",
			    strerror(errno));
	}

	landlock_attr_for((int)version, &attr, &size);
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		return error_set(err, errlen, "landlock_create_ruleset (ABI %ld) "
			    "failed: %s", version, strerror(errno));
	if (syscall(SYS_landlock_restrict_self, fd, 0) < 0) {
		error_set(err, errlen, "landlock_restrict_self failed: %s",
		     strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	*abi = (int)version;
	return 0;
}

/*
 * The order binds, because each step needs what the ones before it still
 * allow. mount and pivot_root need CAP_SYS_ADMIN, so the empty root comes
 * before the capabilities go. PR_CAPBSET_DROP needs CAP_SETPCAP, which the
 * capset in the same step removes. Landlock needs no_new_privs, because the
 * worker has no CAP_SYS_ADMIN by then. The seccomp filter removes mount,
 * prctl, setrlimit, capset and the Landlock calls, so it goes last.
 */
int confine_all_flags(unsigned int flags, int *landlock_abi, char *err,
		      size_t errlen)
{
	int weaker = (flags & CONFINE_WEAKER) != 0;

#ifdef COWORKER_SANITIZER_PROFILE
	/*
	 * The runtimes read /proc/self/maps and the binary to describe an
	 * error; this lets them do it now, while those files exist.
	 */
	__sanitizer_sandbox_on_notify(NULL);
#endif
	if ((!weaker && confine_empty_root(err, errlen) < 0) ||
	    confine_rlimits(err, errlen) < 0 ||
	    (weaker ? confine_drop_caps_weaker(err, errlen) :
		      confine_drop_caps(err, errlen)) < 0 ||
	    confine_no_new_privs(err, errlen) < 0 ||
	    confine_landlock(landlock_abi, err, errlen) < 0 ||
	    confine_seccomp(err, errlen) < 0)
		return -1;
	return 0;
}

int confine_all(int *landlock_abi, char *err, size_t errlen)
{
	return confine_all_flags(0, landlock_abi, err, errlen);
}
