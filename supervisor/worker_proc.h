/* Starting a worker process and checking its confinement. */
#ifndef COWORKER_WORKER_PROC_H
#define COWORKER_WORKER_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* The descriptor number on which a worker finds its socket. */
#define WORKER_SOCKET_FD 3

struct worker_proc {
	pid_t pid;
	int sock;		/* supervisor's end of the socketpair */
	char path[4096];	/* the worker binary that was started */
};

/*
 * Find the worker binary: $COWORKER_WORKER when set (tests use it to run a
 * misbehaving worker), else coworker-worker next to this executable, else
 * the installed libexec copy.
 */
int worker_find(char *path, size_t size, char *err, size_t errlen);

/*
 * Start the worker with a SOCK_SEQPACKET socketpair on WORKER_SOCKET_FD, no
 * other descriptors and an environment that holds no secret.
 */
int worker_start(struct worker_proc *w, const char *path, char *err,
		 size_t errlen);

/*
 * Check /proc/PID/status: the worker must run with a seccomp filter
 * (Seccomp: 2) and no_new_privs (NoNewPrivs: 1).
 */
int worker_check_confinement(pid_t pid, char *err, size_t errlen);

/* Kill the worker (if still running) and reap it; returns wait status. */
int worker_stop(struct worker_proc *w);

#endif
