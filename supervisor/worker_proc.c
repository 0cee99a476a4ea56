/*
 * Starting a worker process and checking its confinement.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker_proc.h"

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/local/libexec/coworker"
#endif

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

/* In the child: put the socket on its fixed number and exec the worker. */
static void exec_worker(int sock, const char *path)
{
	static char *const envp[] = {
		"PATH=/usr/bin:/bin",
		"LC_ALL=C.UTF-8",
		NULL,
	};
	char *const argv[] = { "coworker-worker", NULL };

	if (sock != WORKER_SOCKET_FD) {
		if (dup2(sock, WORKER_SOCKET_FD) < 0)
			_exit(127);
	} else if (fcntl(sock, F_SETFD, 0) < 0) {
		_exit(127);
	}
	/* Nothing of the supervisor's but the socket reaches the worker. */
	syscall(SYS_close_range, WORKER_SOCKET_FD + 1, ~0U, 0);
	execve(path, argv, envp);
	dprintf(2, "coworker: cannot run the worker %s: %s\n", path,
		strerror(errno));
	_exit(127);
}

int worker_start(struct worker_proc *w, const char *path, char *err,
		 size_t errlen)
{
	int sv[2];

	w->pid = -1;
	w->sock = -1;
	snprintf(w->path, sizeof(w->path), "%s", path);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -1;
	}
	w->pid = fork();
	if (w->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (w->pid == 0) {
		close(sv[0]);
		exec_worker(sv[1], path);
	}
	close(sv[1]);
	w->sock = sv[0];
	return 0;
}

/* Value of a "Name:\tvalue" line in a /proc status text, or -1. */
static long status_field(const char *text, const char *name)
{
	size_t len = strlen(name);
	const char *p = text;
	char *end;
	long v;

	while (p && *p) {
		if (strncmp(p, name, len) == 0 && p[len] == ':') {
			errno = 0;
			v = strtol(p + len + 1, &end, 10);
			return errno ? -1 : v;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int worker_check_confinement(pid_t pid, char *err, size_t errlen)
{
	char path[64], text[8192];
	long seccomp, nnp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 strerror(errno));
		return -1;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, errlen, "cannot read %s", path);
		return -1;
	}
	text[n] = '\0';
	seccomp = status_field(text, "Seccomp");
	nnp = status_field(text, "NoNewPrivs");
	if (seccomp != 2 || nnp != 1) {
		snprintf(err, errlen, "the worker is not confined (Seccomp: %ld, "
			 "NoNewPrivs: %ld; expected 2 and 1)", seccomp, nnp);
		return -1;
	}
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
