/*
 * The `coworker` program. "coworker sandbox" runs here; every other
 * command runs in coworker-supervisor, which this program executes with
 * the same arguments.
 *
 * The Makefile links this program statically with musl when musl-gcc is
 * installed. glibc runs `cpuid` dozens of times before main, and a VM
 * traps each one: an empty program took 0.52 ms from spawn to exit with
 * glibc here, 0.14 ms with musl (docs/benchmarks.md). "coworker sandbox"
 * pays that on every command; a session pays it once, plus this exec.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "supervisor/sandbox.h"

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/local/libexec/coworker"
#endif

#define SUPERVISOR_PROGRAM "coworker-supervisor"

static char **launcher_argv;

/*
 * Execute coworker-supervisor with argv. Returns only on failure, with
 * the exit status env(1) gives: 127 when it is not found, 126 when it
 * cannot be executed.
 */
static int run_supervisor(char **argv)
{
	char path[PATH_MAX];

	if (find_program(SUPERVISOR_PROGRAM, LIBEXECDIR, path,
			 sizeof(path)) < 0) {
		fprintf(stderr, "coworker: %s is missing or not executable "
			"(looked beside this program, in ../libexec/coworker "
			"beside it and in %s); reinstall coworker\n",
			SUPERVISOR_PROGRAM, LIBEXECDIR);
		return 127;
	}
	execv(path, argv);
	fprintf(stderr, "coworker: executing %s failed (%s); reinstall "
		"coworker\n", path, strerror(errno));
	return 126;
}

/*
 * Nothing has run yet when the policy is checked, so the whole command
 * starts again in coworker-supervisor, which has the policy parser. When
 * that fails, the status is the sandbox's own failure (125): 126 and 127
 * mean a rejected or missing command here.
 */
int sandbox_cli_check_policy(const char *path, const char *command)
{
	(void)path;
	(void)command;
	run_supervisor(launcher_argv);
	return SANDBOX_CLI_EXIT_FAILED;
}

int main(int argc, char **argv)
{
	launcher_argv = argv;
	if (argc >= 2 && strcmp(argv[1], "sandbox") == 0)
		return sandbox_cli(argc - 1, argv + 1);
	return run_supervisor(argv);
}
