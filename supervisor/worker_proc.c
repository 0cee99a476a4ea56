/*
 * Starting a worker process in its own namespaces.
 *
 * The supervisor clones the worker into new user, pid, net, mount, ipc and
 * uts namespaces, writes its id maps, and only then lets it switch ids and
 * exec. Inside, the worker is uid 0 of a user namespace that owns nothing
 * on the host: the capabilities it gets there let it build its empty root
 * and are dropped before it reads any model output.
 *
 * Where the kernel refuses user namespaces, --weaker-worker-sandbox starts
 * the worker in the supervisor's namespaces instead (WORKER_WEAKER_SANDBOX).
 * It keeps the unprivileged uid, no_new_privs, Landlock and seccomp, and
 * loses the empty root and the pid and network isolation.
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
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "procfs.h"
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

	if (env && *env) {
		snprintf(path, size, "%s", env);
		return 0;
	}
	if (find_program("coworker-worker", LIBEXECDIR, path, size) == 0)
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

/* The ids a child switches to, and what it drops on the way. */
struct child_ids {
	uid_t uid;		/* 0 inside a user namespace, else the host uid */
	gid_t gid;
	int clear_groups;
	int drop_bounding;	/* empty the bounding set before the switch */
};

/*
 * In a weaker sandbox under root: empty the bounding set while the child
 * still holds CAP_SETPCAP, so that the worker, which can no longer do it
 * itself, never regains a capability. EINVAL marks the first number past
 * the kernel's last capability.
 */
static void child_drop_bounding(int report_fd)
{
	int cap;

	for (cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL)
			break;
		child_fail(report_fd, "prctl(PR_CAPBSET_DROP) in the worker "
			   "failed", errno);
	}
}

/*
 * In the child, once the parent has written the id maps: become uid and gid
 * 0 of the new user namespace, which the maps tie to the unprivileged host
 * ids. Under a root supervisor the supplementary groups (root's) go first;
 * an unprivileged supervisor had to deny setgroups to write gid_map, and
 * its groups stay, shown as the overflow gid and usable for nothing the
 * supervisor's user could not already do. A weaker sandbox has no user
 * namespace, so the child switches to the host ids directly.
 */
static void child_switch_ids(const struct child_ids *ids, int report_fd)
{
	if (ids->drop_bounding)
		child_drop_bounding(report_fd);
	if (ids->clear_groups && setgroups(0, NULL) < 0)
		child_fail(report_fd, "setgroups(0) in the worker failed",
			   errno);
	if (setresgid(ids->gid, ids->gid, ids->gid) < 0)
		child_fail(report_fd, "setresgid in the worker failed", errno);
	if (setresuid(ids->uid, ids->uid, ids->uid) < 0)
		child_fail(report_fd, "setresuid in the worker failed", errno);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		child_fail(report_fd, "clearing ambient capabilities failed",
			   errno);

	/*
	 * After the id switch, because a change of credentials clears it:
	 * the worker must not outlive its supervisor.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(report_fd, "prctl(PR_SET_PDEATHSIG)", errno);
}

static void child_main(int sync_fd, int report_fd, const struct child_ids *ids,
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

	/*
	 * A session of its own: Ctrl-C in the user's terminal signals the
	 * terminal's foreground process group, which must not include the
	 * worker (the supervisor decides what a Ctrl-C cancels).
	 */
	if (setsid() < 0)
		child_fail(report_fd, "setsid in the worker failed", errno);
	child_switch_ids(ids, report_fd);
	fn(arg, report_fd);
	_exit(127);
}

static int write_proc_file(pid_t pid, const char *name, const char *text,
			   char *err, size_t errlen)
{
	char path[64];

	if (procfs_write(pid, name, text, path, sizeof(path)) == 0)
		return 0;
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

/* A sysctl's value, or -1 when the file is missing or unreadable. */
static long read_sysctl(const char *path)
{
	char text[32];
	ssize_t n;
	char *end;
	long value;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || end == text)
		return -1;
	return value;
}

/* The namespace limits; any at 0 makes clone fail with ENOSPC. */
static const char *const namespace_limits[] = {
	"max_user_namespaces", "max_pid_namespaces", "max_net_namespaces",
	"max_mnt_namespaces", "max_ipc_namespaces", "max_uts_namespaces",
};

/*
 * Name the setting that refused the user namespace and how to change it.
 * The sysctls are read as this process sees them: limits are per user
 * namespace, so a supervisor that itself runs in one sees its own.
 */
static void explain_userns_refusal(int saved, char *cause, size_t causelen,
				   char *fix, size_t fixlen)
{
	char path[64];
	size_t i;

	for (i = 0; i < sizeof(namespace_limits) / sizeof(namespace_limits[0]);
	     i++) {
		snprintf(path, sizeof(path), "/proc/sys/user/%s",
			 namespace_limits[i]);
		if (read_sysctl(path) == 0) {
			snprintf(cause, causelen, "sysctl user.%s is 0",
				 namespace_limits[i]);
			snprintf(fix, fixlen, "raise it, for example with "
				 "'sysctl -w user.%s=10000'", namespace_limits[i]);
			return;
		}
	}
	if (geteuid() != 0 &&
	    read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0) {
		snprintf(cause, causelen, "sysctl kernel.unprivileged_userns_clone "
			 "is 0");
		snprintf(fix, fixlen, "enable it with 'sysctl -w "
			 "kernel.unprivileged_userns_clone=1'");
		return;
	}
	if (geteuid() != 0 &&
	    read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
	    == 1) {
		snprintf(cause, causelen, "AppArmor restricts unprivileged user "
			 "namespaces (sysctl "
			 "kernel.apparmor_restrict_unprivileged_userns is 1)");
		snprintf(fix, fixlen, "give coworker an AppArmor profile that "
			 "allows userns, or set that sysctl to 0");
		return;
	}
	switch (saved) {
	case EPERM:
	case EACCES:
		snprintf(cause, causelen, "user namespaces are disabled or "
			 "restricted");
		snprintf(fix, fixlen, "allow them in the security module's "
			 "policy (AppArmor, SELinux) or the container runtime's "
			 "seccomp profile");
		break;
	case ENOSPC:
	case EUSERS:
		snprintf(cause, causelen, "a namespace limit is reached");
		snprintf(fix, fixlen, "raise the user.max_*_namespaces sysctls");
		break;
	case EINVAL:
		snprintf(cause, causelen, "the kernel lacks one of these "
			 "namespaces");
		snprintf(fix, fixlen, "build it with CONFIG_USER_NS, "
			 "CONFIG_PID_NS, CONFIG_NET_NS, CONFIG_IPC_NS and "
			 "CONFIG_UTS_NS");
		break;
	default:
		snprintf(cause, causelen, "unexpected error");
		snprintf(fix, fixlen, "check that the kernel supports user, pid, "
			 "net, mount, ipc and uts namespaces");
		break;
	}
}

/* The errors with which a kernel refuses a user namespace. */
static int userns_refused(int saved)
{
	return saved == EPERM || saved == EACCES || saved == ENOSPC ||
	       saved == EUSERS || saved == EINVAL;
}

static void clone_error(int saved, char *err, size_t errlen)
{
	char cause[256], fix[256];

	explain_userns_refusal(saved, cause, sizeof(cause), fix, sizeof(fix));
	snprintf(err, errlen, "worker sandbox: namespaces layer: cannot create "
		 "the worker's user, pid, net, mount, ipc and uts namespaces "
		 "(%s): %s; %s%s", strerror(saved), cause, fix,
		 userns_refused(saved) ? ", or pass --weaker-worker-sandbox "
		 "to run the worker without namespaces (recorded in the audit "
		 "log)" : "");
}

/* Record why a weaker sandbox was used; err is left empty. */
static void note_weaker(struct worker_proc *w, int saved)
{
	char cause[256], fix[256];

	explain_userns_refusal(saved, cause, sizeof(cause), fix, sizeof(fix));
	w->weaker = 1;
	w->namespaces = 0;
	snprintf(w->weaker_reason, sizeof(w->weaker_reason), "clone with new "
		 "namespaces failed (%s): %s", strerror(saved), cause);
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
	w->weaker = 0;
	w->weaker_reason[0] = '\0';
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

/*
 * The ids the child switches to: uid and gid 0 of its user namespace, or
 * in a weaker sandbox the host ids themselves. Only root can empty the
 * bounding set there; under an unprivileged supervisor the worker's is
 * what the supervisor's was, and no_new_privs keeps it from mattering.
 */
static void choose_child_ids(const struct worker_proc *w,
			     struct child_ids *ids)
{
	ids->clear_groups = w->groups_cleared;
	ids->uid = w->weaker ? w->uid : 0;
	ids->gid = w->weaker ? w->gid : 0;
	ids->drop_bounding = w->weaker && geteuid() == 0;
}

/*
 * A raw clone without a stack works like fork, with the namespace flags.
 * SIGCHLD as exit signal keeps the child an ordinary child for the
 * session's waitpid. Returns the pid as clone does, with errno set.
 */
static long clone_child(struct worker_proc *w, unsigned int flags)
{
	long pid;
	int saved;

	pid = syscall(SYS_clone, (unsigned long)(WORKER_NAMESPACES | SIGCHLD),
		      NULL, NULL, NULL, 0UL);
	if (pid >= 0 || !(flags & WORKER_WEAKER_SANDBOX) ||
	    !userns_refused(errno))
		return pid;

	saved = errno;
	note_weaker(w, saved);
	return syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0UL);
}

int worker_spawn(struct worker_proc *w, unsigned int flags,
		 worker_child_fn fn, void *arg, char *err, size_t errlen)
{
	int sync_sock[2], report_pipe[2];
	struct child_ids ids;
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

	pid = clone_child(w, flags);
	if (pid < 0) {
		if (w->weaker)
			snprintf(err, errlen, "worker sandbox: fork failed: %s",
				 strerror(errno));
		else
			clone_error(errno, err, errlen);
		goto out_report;
	}
	if (pid == 0) {
		close(sync_sock[1]);
		close(report_pipe[0]);
		choose_child_ids(w, &ids);
		child_main(sync_sock[0], report_pipe[1], &ids, fn, arg);
	}

	w->pid = (pid_t)pid;
	close(sync_sock[0]);
	sync_sock[0] = -1;
	close(report_pipe[1]);
	report_pipe[1] = -1;
	if ((!w->weaker && write_id_maps(w, err, errlen) < 0) ||
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
	int log_fd;		/* write end of the stderr pipe, or -1 */
	const struct worker_proc *w;	/* the child's copy, made at clone */
	const char *path;
	uid_t host_uid;		/* for the error message only */
};

/*
 * In the child: return a close-on-exec copy of fd above WORKER_SOCKET_FD,
 * so that moving one descriptor onto 0-3 cannot overwrite another that
 * still has to be moved.
 */
static int child_lift_fd(int fd, int report_fd, const char *what)
{
	int high = fcntl(fd, F_DUPFD_CLOEXEC, WORKER_SOCKET_FD + 1);

	if (high < 0)
		child_fail(report_fd, what, errno);
	return high;
}

/*
 * In the child: the socket on its fixed number, stdin and stdout on
 * /dev/null, stderr on the log pipe or inherited, every other descriptor
 * closed at exec, then the worker.
 */
static void exec_worker(void *arg, int report_fd)
{
	char *envp[] = {
		"PATH=/usr/bin:/bin",
		"LC_ALL=C.UTF-8",
		NULL,		/* COWORKER_SANDBOX=weaker */
		NULL,
	};
	const struct exec_args *a = arg;
	char *const argv[] = { "coworker-worker", NULL };
	int null_fd, sock, log_fd = -1;

	sock = child_lift_fd(a->sock, report_fd, "copying the socket");
	if (a->log_fd >= 0)
		log_fd = child_lift_fd(a->log_fd, report_fd,
				       "copying the stderr pipe");
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0)
		child_fail(report_fd, "opening /dev/null", errno);
	if (log_fd >= 0 && dup2(log_fd, 2) < 0)
		child_fail(report_fd, "dup2 of the stderr pipe", errno);
	if (dup2(sock, WORKER_SOCKET_FD) < 0)
		child_fail(report_fd, "dup2 of the socket", errno);
	/* The worker cannot build its empty root without a user namespace. */
	if (a->w->weaker)
		envp[2] = "COWORKER_SANDBOX=weaker";

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

/*
 * The supervisor's end of the socket: sends give up after
 * WORKER_SEND_TIMEOUT_SEC (see worker_proc.h), receives are unchanged.
 */
static int open_socket(int sv[2], char *err, size_t errlen)
{
	struct timeval tv = { WORKER_SEND_TIMEOUT_SEC, 0 };

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		snprintf(err, errlen, "setsockopt(SO_SNDTIMEO): %s",
			 strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	return 0;
}

/*
 * The worker's stderr: a pipe that is non-blocking at both ends. The
 * worker's writes fail with EAGAIN once the pipe is full rather than
 * stopping it when the supervisor does not read; the supervisor reads its
 * end from the event loop.
 */
static int open_log_pipe(int fds[2], char *err, size_t errlen)
{
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "pipe for the worker's stderr: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static void close_pair(int fds[2])
{
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
}

int worker_start_flags(struct worker_proc *w, const char *path,
		       unsigned int flags, char *err, size_t errlen)
{
	struct exec_args args;
	int sv[2], logp[2] = { -1, -1 };

	w->pid = -1;
	w->sock = -1;
	w->log_fd = -1;
	snprintf(w->path, sizeof(w->path), "%s", path);
	if (open_socket(sv, err, errlen) < 0)
		return -1;
	if ((flags & WORKER_STDERR_PIPE) &&
	    open_log_pipe(logp, err, errlen) < 0) {
		close_pair(sv);
		return -1;
	}

	args.sock = sv[1];
	args.log_fd = logp[1];
	args.path = path;
	args.host_uid = geteuid() == 0 ? WORKER_ROOT_HOST_UID : geteuid();
	args.w = w;
	if (worker_spawn(w, flags, exec_worker, &args, err, errlen) < 0) {
		close_pair(sv);
		close_pair(logp);
		return -1;
	}
	close(sv[1]);
	if (logp[1] >= 0)
		close(logp[1]);
	w->sock = sv[0];
	w->log_fd = logp[0];
	return 0;
}

int worker_start(struct worker_proc *w, const char *path, char *err,
		 size_t errlen)
{
	return worker_start_flags(w, path, 0, err, errlen);
}

int worker_stop(struct worker_proc *w)
{
	int status = 0;

	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
	if (w->log_fd >= 0)
		close(w->log_fd);
	w->log_fd = -1;
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	w->pid = -1;
	return status;
}
