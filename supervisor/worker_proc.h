/*
 * Starting a worker process in its own namespaces and checking its
 * confinement before it gets a task.
 */
#ifndef COWORKER_WORKER_PROC_H
#define COWORKER_WORKER_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

/* The descriptor number on which a worker finds its socket. */
#define WORKER_SOCKET_FD 3

/*
 * The host uid and gid a worker runs as under a root supervisor: Debian's
 * "nobody" and "nogroup", which own no files on a normal system. Inside its
 * user namespace the worker is uid 0, so that it keeps the capabilities it
 * needs for its own lock-down across execve.
 */
#define WORKER_ROOT_HOST_UID 65534
#define WORKER_ROOT_HOST_GID 65534

/*
 * Maximum time in seconds the supervisor waits to send one frame to its
 * worker. An honest worker reads each reply before it sends its next
 * request, so at most one reply is queued and the send never waits. Only
 * a worker that stops reading its socket fills the buffer. The send then
 * fails with EAGAIN instead of stalling the supervisor's event loop.
 */
#define WORKER_SEND_TIMEOUT_SEC 5

/* Flags for worker_spawn and worker_start_flags. */
enum worker_flags {
	/*
	 * --weaker-worker-sandbox: when the kernel refuses a new user
	 * namespace, start the worker without any namespace (and so without
	 * its empty root) instead of failing. The remaining layers still
	 * apply; w->weaker and w->weaker_reason record the choice.
	 */
	WORKER_WEAKER_SANDBOX = 1 << 0,
	/*
	 * Give the worker a pipe as stderr and its read end as w->log_fd, so
	 * that the supervisor re-logs the worker's diagnostics instead of
	 * letting raw bytes reach the terminal. Without it the worker
	 * inherits the supervisor's stderr.
	 */
	WORKER_STDERR_PIPE = 1 << 1,
};

/* Maximum length of the reason kept for a weaker sandbox. */
#define WORKER_REASON_MAX 512

struct worker_proc {
	pid_t pid;
	int sock;		/* supervisor's end of the socketpair */
	int log_fd;		/* read end of the worker's stderr, or -1 */
	char path[4096];	/* the worker binary that was started */
	unsigned long namespaces;	/* CLONE_NEW* flags it was started with */
	uid_t uid;		/* host uid it runs as */
	gid_t gid;		/* host gid it runs as */
	int groups_cleared;	/* 1 when supplementary groups were dropped */
	int weaker;		/* 1 when started without namespaces */
	char weaker_reason[WORKER_REASON_MAX];	/* why, for the audit log */
};

/*
 * Code that runs in a spawned child once its ids are switched. It must
 * execve or _exit, never return. report_fd is close-on-exec: a child that
 * fails writes one line there before it exits, a child that does not exec
 * closes it once it is running.
 */
typedef void (*worker_child_fn)(void *arg, int report_fd);

/*
 * Find the worker binary: $COWORKER_WORKER when set (tests use it to run a
 * misbehaving worker), else coworker-worker next to this executable, else
 * the installed libexec copy.
 */
int worker_find(char *path, size_t size, char *err, size_t errlen);

/*
 * Clone a child into new user, pid, net, mount, ipc and uts namespaces,
 * write its id maps (inside uid and gid 0; outside the supervisor's own ids,
 * or WORKER_ROOT_HOST_UID/GID under root, without supplementary groups) and
 * run fn(arg) in it. Fills w->pid, namespaces, uid, gid, groups_cleared,
 * weaker and weaker_reason. Returns 0 once the child has exec'd or closed
 * report_fd, or -1 with err naming the layer, the cause and the fix; the
 * child is reaped then.
 *
 * With WORKER_WEAKER_SANDBOX, a refused user namespace (EPERM, EACCES,
 * ENOSPC, EUSERS or EINVAL) starts the child in the supervisor's
 * namespaces instead: under root it still switches to the host ids above,
 * without supplementary groups and with an empty bounding set.
 */
int worker_spawn(struct worker_proc *w, unsigned int flags,
		 worker_child_fn fn, void *arg, char *err, size_t errlen);

/*
 * Start the worker through worker_spawn with a SOCK_SEQPACKET socketpair on
 * WORKER_SOCKET_FD, stdin and stdout on /dev/null, stderr inherited (or a
 * pipe with WORKER_STDERR_PIPE), no other descriptors and an environment
 * that holds no secret. w->sock sends with a WORKER_SEND_TIMEOUT_SEC
 * timeout. Sets w->log_fd to -1 before anything else.
 */
int worker_start_flags(struct worker_proc *w, const char *path,
		       unsigned int flags, char *err, size_t errlen);

/* worker_start_flags without flags: all layers, stderr inherited. */
int worker_start(struct worker_proc *w, const char *path, char *err,
		 size_t errlen);

/*
 * Check /proc/PID: the worker must run with a seccomp filter (Seccomp: 2),
 * no_new_privs, no capability in any set, as the host ids worker_spawn
 * chose, in namespaces other than the supervisor's, and with a root that is
 * one read-only tmpfs.
 */
int worker_check_confinement(pid_t pid, char *err, size_t errlen);

/*
 * worker_check_confinement for the layers w was started with. A weaker
 * worker (w->weaker) shares the supervisor's namespaces and root, so those
 * two checks are left out; an unprivileged supervisor could not empty its
 * bounding set either, so CapBnd is not checked then. Every other check
 * stays.
 */
int worker_check(const struct worker_proc *w, char *err, size_t errlen);

/*
 * Add the layers worker_spawn applied to out, for the audit log:
 * "namespaces" (array of names), "uid", "gid", "groups_cleared", "root",
 * "capabilities", "weaker" and, for a weaker sandbox, "weaker_reason".
 * Sanitizer builds add "profile": "sanitizer". Returns 0, or -1 when out
 * of memory.
 */
int worker_describe_layers(const struct worker_proc *w, cJSON *out);

/*
 * Kill the worker (if still running), reap it and close its descriptors;
 * returns the wait status.
 */
int worker_stop(struct worker_proc *w);

#endif
