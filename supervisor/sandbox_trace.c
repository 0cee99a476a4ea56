/*
 * Phase timings of the command sandbox. With COWORKER_SANDBOX_TRACE=1 in
 * the environment, each step of sandbox_run, in the parent and in the
 * processes inside the namespaces, prints one line to stderr: the time
 * since sandbox_run started, the process and the step. CLOCK_MONOTONIC is
 * the same in every namespace the sandbox creates, so the lines of all
 * processes share one time line. docs/benchmarks.md shows the breakdown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/sandbox_internal.h"

int64_t sandbox_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sandbox_trace_start(int64_t start)
{
	const char *on = getenv("COWORKER_SANDBOX_TRACE");

	return on && strcmp(on, "1") == 0 ? start : 0;
}

/*
 * Safe in the cloned children: no allocation, one write. The line goes to
 * fd 2, which is the command's output pipe once stdio is redirected, so
 * no step is traced after that.
 */
void sandbox_trace(int64_t t0, const char *step)
{
	char line[512];
	int len;

	if (!t0)
		return;
	len = snprintf(line, sizeof(line), "sandbox trace: %7.1f us  pid %-6d %s\n",
		       (double)(sandbox_now_ns() - t0) / 1000.0, (int)getpid(),
		       step);
	/* A long step is cut; the line still ends with its newline. */
	if (len >= (int)sizeof(line)) {
		len = (int)sizeof(line);
		line[len - 1] = '\n';
	}
	if (len > 0 && write(2, line, (size_t)len) < 0)
		return;
}
