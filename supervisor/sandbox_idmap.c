/*
 * Sandboxed commands under a root supervisor: they run as an unprivileged
 * host uid, and see the workspace through an idmapped mount on which the
 * workspace owner's files appear as their own. Files they create belong to
 * the owner on disk, and nothing on disk changes ownership.
 *
 * Only a process with CAP_SYS_ADMIN over the filesystem's user namespace
 * (here: the initial one) may idmap a mount, so the parent builds the
 * detached tree before clone and the child attaches it in its view.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sched.h>

#include "supervisor/sandbox_internal.h"

/*
 * User namespace whose maps send the workspace owner to the sandbox ids,
 * kept for the life of the process: building one costs a clone.
 */
static struct {
	int fd;
	uid_t owner;
	gid_t group;
} idmap_ns = { .fd = -1 };

static int idmap_fail(char *err, size_t errlen, const char *step)
{
	const char *fix = "";

	if (errno == EINVAL || errno == EPERM || errno == EOPNOTSUPP)
		fix = "; the workspace's filesystem may not support idmapped "
		      "mounts (Linux 5.12 or later, ext4, xfs, btrfs, tmpfs "
		      "from 6.3); run coworker as an unprivileged user instead";
	snprintf(err, errlen,
		 "command sandbox: idmapped workspace: %s failed (%s)%s",
		 step, strerror(errno), fix);
	return -1;
}

static int write_map(pid_t pid, const char *name, unsigned int from,
		     unsigned int to)
{
	char path[64], map[64];
	int fd, len;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	len = snprintf(map, sizeof(map), "%u %u 1\n", from, to);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, map, (size_t)len);
	close(fd);
	return n == len ? 0 : -1;
}

/* A user namespace held by a short-lived child, with owner -> sandbox ids. */
static int idmap_ns_make(uid_t owner, gid_t group, char *err, size_t errlen)
{
	char path[64], byte;
	int hold[2], fd = -1;
	pid_t pid;

	if (pipe2(hold, O_CLOEXEC) < 0)
		return idmap_fail(err, errlen, "pipe");

	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL,
			     NULL, 0UL);
	if (pid == 0) {
		close(hold[1]);
		while (read(hold[0], &byte, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(hold[0]);
	if (pid < 0) {
		close(hold[1]);
		return idmap_fail(err, errlen, "clone of the idmap namespace");
	}

	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (write_map(pid, "uid_map", owner, SANDBOX_HOST_UID) == 0 &&
	    write_map(pid, "gid_map", group, SANDBOX_HOST_GID) == 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		idmap_fail(err, errlen, "writing the idmap namespace's maps");

	close(hold[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (fd < 0)
		return -1;

	if (idmap_ns.fd >= 0)
		close(idmap_ns.fd);
	idmap_ns.fd = fd;
	idmap_ns.owner = owner;
	idmap_ns.group = group;
	return 0;
}

int sandbox_idmap_workspace(const struct sandbox_opts *opts, int *tree,
			    char *err, size_t errlen)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };
	struct stat st;
	int fd;

	*tree = -1;
	if (stat(opts->workspace, &st) < 0)
		return idmap_fail(err, errlen, "stat of the workspace");
	if ((idmap_ns.fd < 0 || idmap_ns.owner != st.st_uid ||
	     idmap_ns.group != st.st_gid) &&
	    idmap_ns_make(st.st_uid, st.st_gid, err, errlen) < 0)
		return -1;

	fd = open_tree(AT_FDCWD, opts->workspace, OPEN_TREE_CLONE |
		       OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (fd < 0)
		return idmap_fail(err, errlen, "open_tree of the workspace");

	/* The child cannot change this tree later: it is not its own. */
	if (opts->mode == SANDBOX_READ_ONLY)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	attr.userns_fd = (unsigned long long)idmap_ns.fd;
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			  sizeof(attr)) < 0) {
		close(fd);
		return idmap_fail(err, errlen, "mount_setattr MOUNT_ATTR_IDMAP");
	}
	*tree = fd;
	return 0;
}
