/*
 * Starting a worker process in its own namespaces.
 *
 * The supervisor clones the worker into new user, pid, net, mount, ipc and
 * uts namespaces, writes its id maps, and only then lets it switch ids and
 * exec. Inside, the worker is uid 0 of a user namespace that owns nothing
 * on the host: the capabilities it gets there let it build its empty root
 * and are dropped before it reads any model output.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker_proc.h"

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/local/libexec/coworker"
#endif

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define WORKER_NAMESPACES (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
			   CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS)

/* Longest failure line a child sends back before it exits. */
#define REPORT_MAX 512

int worker_find(char *path, size_t size, char *err, size_t errlen)
{
	const char *env = getenv("COWORKER_WORKER");
	char self[4096], *slash;
	ssize_t n;

	if (env && *env) {
		snprintf(path, size, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, size, "%s/coworker-worker", self);
			if (access(path, X_OK) == 0)
				return 0;
			snprintf(path, size, "%s/../libexec/coworker/coworker-worker",
				 self);
			if (access(path, X_OK) == 0)
				return 0;
		}
	}
	snprintf(path, size, "%s/coworker-worker", LIBEXECDIR);
	if (access(path, X_OK) == 0)
		return 0;
	snprintf(err, errlen, "cannot find coworker-worker next to coworker or "
		 "in %s; reinstall coworker or set COWORKER_WORKER", LIBEXECDIR);
	return -1;
}

/*
 * In a child: send one failure line to the parent and exit. Only
 * async-signal-safe calls, because the child of a clone may not use the
 * parent's locks.
 */
static void child_fail(int report_fd, const char *what, int saved)
{
	dprintf(report_fd, "%s: %s", what, strerror(saved));
	_exit(127);
}

/*
 * In the child, once the parent has written the id maps: become uid and gid
 * 0 of the new user namespace, which the maps tie to the unprivileged host
 * ids. Under a root supervisor the supplementary groups (root's) go first;
 * an unprivileged supervisor had to deny setgroups to write gid_map, and
 * its groups stay, shown as the overflow gid and usable for nothing the
 * supervisor's user could not already do.
 */
static void child_switch_ids(int clear_groups, int report_fd)
{
	if (clear_groups && setgroups(0, NULL) < 0)
		child_fail(report_fd, "setgroups(0) in the worker's user "
			   "namespace failed", errno);
	if (setresgid(0, 0, 0) < 0)
		child_fail(report_fd, "setresgid(0) in the worker's user "
			   "namespace failed", errno);
	if (setresuid(0, 0, 0) < 0)
		child_fail(report_fd, "setresuid(0) in the worker's user "
			   "namespace failed", errno);

	/*
	 * After the id switch, because a change of credentials clears it:
	 * the worker must not outlive its supervisor.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(report_fd, "prctl(PR_SET_PDEATHSIG)", errno);
}

static void child_main(int sync_fd, int report_fd, int clear_groups,
		       worker_child_fn fn, void *arg)
{
	char byte;
	ssize_t n;

	/* The maps are written when the parent sends one byte. */
	do
		n = read(sync_fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127);
	close(sync_fd);

	child_switch_ids(clear_groups, report_fd);
	fn(arg, report_fd);
	_exit(127);
}

static int write_proc_file(pid_t pid, const char *name, const char *text,
			   char *err, size_t errlen)
{
	char path[64];
	size_t len = strlen(text);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	n = write(fd, text, len);
	if (n != (ssize_t)len) {
		if (n >= 0)
			errno = EIO;
		close(fd);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	snprintf(err, errlen, "worker sandbox: user namespace: writing \"%.*s\" "
		 "to %s failed (%s); the host id must exist in the "
		 "supervisor's own user namespace, and a security module may "
		 "restrict id maps", (int)strcspn(text, "\n"), text, path,
		 strerror(errno));
	return -1;
}

/*
 * Map inside uid and gid 0 to the worker's host ids. A root supervisor may
 * map any id and leaves setgroups allowed, so that the child can drop
 * root's supplementary groups; with only gid 0 mapped, setgroups can add
 * no other group. An unprivileged one must deny setgroups first.
 */
static int write_id_maps(const struct worker_proc *w, char *err,
			 size_t errlen)
{
	char map[64];

	if (!w->groups_cleared &&
	    write_proc_file(w->pid, "setgroups", "deny", err, errlen) < 0)
		return -1;

	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned int)w->gid);
	if (write_proc_file(w->pid, "gid_map", map, err, errlen) < 0)
		return -1;

	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned int)w->uid);
	return write_proc_file(w->pid, "uid_map", map, err, errlen);
}

static void clone_error(int saved, char *err, size_t errlen)
{
	const char *fix;

	switch (saved) {
	case EPERM:
	case EACCES:
		fix = "user namespaces are disabled or restricted; enable them "
		      "with sysctl kernel.unprivileged_userns_clone=1 (Debian) "
		      "or allow them in the AppArmor or SELinux policy";
		break;
	case ENOSPC:
	case EUSERS:
		fix = "a namespace limit is reached; raise it with sysctl "
		      "user.max_user_namespaces (and the other user.max_*_namespaces)";
		break;
	case EINVAL:
		fix = "the kernel lacks one of these namespaces; build it with "
		      "CONFIG_USER_NS, CONFIG_PID_NS, CONFIG_NET_NS, "
		      "CONFIG_IPC_NS and CONFIG_UTS_NS";
		break;
	default:
		fix = "check that the kernel supports user, pid, net, mount, "
		      "ipc and uts namespaces";
		break;
	}
	/* TODO: an audited --weaker-worker-sandbox opt-out for such hosts. */
	snprintf(err, errlen, "worker sandbox: cannot create the worker's user, "
		 "pid, net, mount, ipc and uts namespaces (%s): %s",
		 strerror(saved), fix);
}

/*
 * Read the child's report until the exec closes it. Returns 0 for an empty
 * report (the child runs), -1 with the child's line otherwise.
 */
static int read_report(int report_fd, char *err, size_t errlen)
{
	char line[REPORT_MAX];
	size_t len = 0;
	ssize_t n;

	for (;;) {
		n = read(report_fd, line + len, sizeof(line) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(line) - 1)
			break;
	}
	if (n < 0) {
		snprintf(err, errlen, "worker sandbox: reading the child's "
			 "start-up report failed: %s", strerror(errno));
		return -1;
	}
	if (len == 0)
		return 0;
	line[len] = '\0';
	snprintf(err, errlen, "worker sandbox: the child failed before it ran: "
		 "%s", line);
	return -1;
}

static void reap(struct worker_proc *w)
{
	kill(w->pid, SIGKILL);
	while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
		;
	w->pid = -1;
}

static void choose_host_ids(struct worker_proc *w)
{
	w->namespaces = WORKER_NAMESPACES;
	if (geteuid() == 0) {
		w->uid = WORKER_ROOT_HOST_UID;
		w->gid = WORKER_ROOT_HOST_GID;
		w->groups_cleared = 1;
	} else {
		w->uid = geteuid();
		w->gid = getegid();
		w->groups_cleared = 0;
	}
}

int worker_spawn(struct worker_proc *w, worker_child_fn fn, void *arg,
		 char *err, size_t errlen)
{
	int sync_sock[2], report_pipe[2];
	long pid;
	int rc = -1;

	err[0] = '\0';
	choose_host_ids(w);

	/* A socket, not a pipe: send can say MSG_NOSIGNAL if the child died. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync_sock) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	if (pipe2(report_pipe, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out_sync;
	}

	/*
	 * A raw clone without a stack works like fork, with the namespace
	 * flags. SIGCHLD as exit signal keeps the child an ordinary child
	 * for the session's waitpid.
	 */
	pid = syscall(SYS_clone, (unsigned long)(WORKER_NAMESPACES | SIGCHLD),
		      NULL, NULL, NULL, 0UL);
	if (pid < 0) {
		clone_error(errno, err, errlen);
		goto out_report;
	}
	if (pid == 0) {
		close(sync_sock[1]);
		close(report_pipe[0]);
		child_main(sync_sock[0], report_pipe[1], w->groups_cleared,
			   fn, arg);
	}

	w->pid = (pid_t)pid;
	close(sync_sock[0]);
	sync_sock[0] = -1;
	close(report_pipe[1]);
	report_pipe[1] = -1;
	if (write_id_maps(w, err, errlen) < 0 ||
	    send(sync_sock[1], "m", 1, MSG_NOSIGNAL) != 1) {
		if (!*err)
			snprintf(err, errlen, "worker sandbox: the child exited "
				 "before its id maps were written");
		reap(w);
		goto out_report;
	}
	if (read_report(report_pipe[0], err, errlen) < 0) {
		reap(w);
		goto out_report;
	}
	rc = 0;
out_report:
	if (report_pipe[0] >= 0)
		close(report_pipe[0]);
	if (report_pipe[1] >= 0)
		close(report_pipe[1]);
out_sync:
	if (sync_sock[0] >= 0)
		close(sync_sock[0]);
	close(sync_sock[1]);
	return rc;
}

struct exec_args {
	int sock;
	const char *path;
	uid_t host_uid;		/* for the error message only */
};

/*
 * In the child: the socket on its fixed number, stdin and stdout on
 * /dev/null, every other descriptor closed at exec, then the worker.
 * TODO: stderr is still the supervisor's, so a compromised worker can write
 * raw bytes to the terminal; it should become a pipe that the supervisor
 * reads and sanitises.
 */
static void exec_worker(void *arg, int report_fd)
{
	static char *const envp[] = {
		"PATH=/usr/bin:/bin",
		"LC_ALL=C.UTF-8",
		NULL,
	};
	const struct exec_args *a = arg;
	char *const argv[] = { "coworker-worker", NULL };
	int null_fd;

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0)
		child_fail(report_fd, "opening /dev/null", errno);
	if (a->sock != WORKER_SOCKET_FD) {
		if (dup2(a->sock, WORKER_SOCKET_FD) < 0)
			child_fail(report_fd, "dup2 of the socket", errno);
	} else if (fcntl(a->sock, F_SETFD, 0) < 0) {
		child_fail(report_fd, "fcntl of the socket", errno);
	}

	/*
	 * Nothing of the supervisor's but the socket reaches the worker.
	 * Close-on-exec rather than close, so report_fd stays open until
	 * the exec succeeds.
	 */
	if (syscall(SYS_close_range, WORKER_SOCKET_FD + 1, ~0U,
		    CLOSE_RANGE_CLOEXEC) < 0)
		child_fail(report_fd, "close_range", errno);
	execve(a->path, argv, envp);
	dprintf(report_fd, "cannot run %s: %s; the binary and its directories "
		"must be readable and executable by the worker's host uid %u",
		a->path, strerror(errno), (unsigned int)a->host_uid);
	_exit(127);
}

int worker_start(struct worker_proc *w, const char *path, char *err,
		 size_t errlen)
{
	struct exec_args args;
	int sv[2];

	w->pid = -1;
	w->sock = -1;
	snprintf(w->path, sizeof(w->path), "%s", path);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	args.sock = sv[1];
	args.path = path;
	args.host_uid = geteuid() == 0 ? WORKER_ROOT_HOST_UID : geteuid();
	if (worker_spawn(w, exec_worker, &args, err, errlen) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	w->sock = sv[0];
	return 0;
}

int worker_stop(struct worker_proc *w)
{
	int status = 0;

	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	w->pid = -1;
	return status;
}
