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
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sched.h>

#include "supervisor/sandbox_internal.h"
#include "supervisor/sandbox_sys.h"

/*
 * User namespace whose maps send the workspace owner to the sandbox ids,
 * kept for the life of the process: building one costs a clone. The lock
 * covers it, because commands may be started from several threads.
 */
static struct {
	pthread_mutex_t lock;
	int fd;
	uid_t owner;
	gid_t group;
	pid_t holder;		/* the last holder, until reaped; or -1 */
	int pipe[2];		/* the holder's; it may start after we return */
	_Alignas(16) char stack[16384];	/* the holder's */
} idmap_ns = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1, .holder = -1 };

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

/* The holder's whole life: wait until the parent closes the pipe. */
static int hold_ns(void *arg)
{
	const int *hold = arg;
	char byte;

	/* Signals are blocked, so read returns only at end of file. */
	close(hold[1]);
	if (read(hold[0], &byte, 1) < 0)
		return 1;
	return 0;
}

/*
 * Reap the holder of an earlier call, which exits as soon as its pipe
 * closes. Called with the lock held. Without wait, a holder still
 * exiting stays for a later call.
 */
static void holder_reap(bool wait)
{
	pid_t pid;

	if (idmap_ns.holder < 0)
		return;
	do
		pid = waitpid(idmap_ns.holder, NULL, __WALL | (wait ? 0 : WNOHANG));
	while (pid < 0 && errno == EINTR);
	if (pid != 0)
		idmap_ns.holder = -1;
}

void sandbox_idmap_reap(bool wait)
{
	pthread_mutex_lock(&idmap_ns.lock);
	holder_reap(wait);
	pthread_mutex_unlock(&idmap_ns.lock);
}

/*
 * A user namespace held by a short-lived child, with owner -> sandbox ids.
 * The child shares our memory (CLONE_VM) and runs on idmap_ns.stack: it
 * makes no copy of the supervisor's page tables, which a fork would, and
 * its exit tears nothing down. It calls only close(2) and read(2), with
 * every signal blocked, so it neither sets errno nor runs a handler on
 * memory it shares with us. Exit signal 0: a waitpid(-1) loop elsewhere
 * in the supervisor does not reap it. Waiting for it to exit would add
 * two wake-ups to the start of a command, so sandbox_reap reaps it
 * after the command, and the next call here before it reuses the stack.
 * Called with the lock held.
 */
static int idmap_ns_make(uid_t owner, gid_t group, char *err, size_t errlen)
{
	int *hold = idmap_ns.pipe;
	char path[64];
	sigset_t all, old;
	int fd = -1;
	pid_t pid;

	holder_reap(true);
	if (pipe2(hold, O_CLOEXEC) < 0)
		return idmap_fail(err, errlen, "pipe");

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = clone(hold_ns, idmap_ns.stack + sizeof(idmap_ns.stack),
		    CLONE_VM | CLONE_NEWUSER, hold);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		close(hold[0]);
		close(hold[1]);
		return idmap_fail(err, errlen, "clone of the idmap namespace");
	}

	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	if (write_map(pid, "uid_map", owner, SANDBOX_HOST_UID) == 0 &&
	    write_map(pid, "gid_map", group, SANDBOX_HOST_GID) == 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		idmap_fail(err, errlen, "writing the idmap namespace's maps");

	/* End of file on the pipe ends the holder. */
	close(hold[1]);
	close(hold[0]);
	idmap_ns.holder = pid;
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
	int fd, rc = -1;

	*tree = -1;
	if (stat(opts->workspace, &st) < 0)
		return idmap_fail(err, errlen, "stat of the workspace");

	fd = open_tree(AT_FDCWD, opts->workspace, OPEN_TREE_CLONE |
		       OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (fd < 0)
		return idmap_fail(err, errlen, "open_tree of the workspace");

	/* The child cannot change this tree later: it is not its own. */
	if (opts->mode == SANDBOX_READ_ONLY)
		attr.attr_set |= MOUNT_ATTR_RDONLY;

	pthread_mutex_lock(&idmap_ns.lock);
	if ((idmap_ns.fd < 0 || idmap_ns.owner != st.st_uid ||
	     idmap_ns.group != st.st_gid) &&
	    idmap_ns_make(st.st_uid, st.st_gid, err, errlen) < 0)
		goto out;
	attr.userns_fd = (unsigned long long)idmap_ns.fd;
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
			  sizeof(attr)) < 0) {
		idmap_fail(err, errlen, "mount_setattr MOUNT_ATTR_IDMAP");
		goto out;
	}
	*tree = fd;
	fd = -1;
	rc = 0;
out:
	pthread_mutex_unlock(&idmap_ns.lock);
	if (fd >= 0)
		close(fd);
	return rc;
}
