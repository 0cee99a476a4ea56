/*
 * Run a program with every catchable signal ignored and blocked,
 * glibc's own real-time signals (32 and 33) included, which glibc's
 * sigaction refuses to touch. The sandbox tests use it to check that a
 * command starts with default signal dispositions whatever its caller
 * left.
 *
 * usage: ignore-signals PROGRAM [ARGS...]
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} ignore = { .handler = SIG_IGN };
	uint64_t all = ~(uint64_t)0;
	int sig;

	if (argc < 2) {
		fputs("usage: ignore-signals PROGRAM [ARGS...]\n", stderr);
		return 2;
	}
	for (sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &ignore, NULL,
				sizeof(ignore.mask));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(all));
	execvp(argv[1], argv + 1);
	fprintf(stderr, "ignore-signals: cannot execute %s: %s\n", argv[1],
		strerror(errno));
	return 127;
}
