/*
 * The command sandbox: runs one shell command under "bash -c" in fresh
 * namespaces, with the root filesystem read-only and only the workspace
 * writable.
 */
#ifndef COWORKER_SANDBOX_H
#define COWORKER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* How much of the filesystem and network a command gets. */
enum sandbox_mode {
	SANDBOX_WORKSPACE_WRITE = 0,	/* root read-only, workspace writable */
	SANDBOX_READ_ONLY,		/* the workspace read-only too */
	SANDBOX_FULL_ACCESS,		/* writable wherever the user can write,
					   host network; protected paths and
					   masked secrets stay */
};

/* Bits of sandbox_result.limits: the resource limits that applied. */
#define SANDBOX_LIMIT_RLIMITS	0x1	/* RLIMIT_NPROC, FSIZE, NOFILE, CPU */
#define SANDBOX_LIMIT_CGROUP_V1	0x2	/* per-sandbox memory and pids cgroup */
#define SANDBOX_LIMIT_SANDBOX_UID 0x4	/* ran as an unprivileged host uid of
					   its own, not the caller's */
#define SANDBOX_LIMIT_CGROUP_V2	0x8	/* per-sandbox memory and pids cgroup */

/*
 * Default cgroup limits of one command: enough for a parallel build or a
 * test suite, small enough that a runaway command leaves the machine
 * usable.
 */
#define SANDBOX_MEMORY_DEFAULT (2ULL << 30)
#define SANDBOX_PIDS_DEFAULT 512UL

/* How often opts->on_wait runs while a command runs, at least. */
#define SANDBOX_WAIT_TICK_MS 200

struct sandbox_opts {
	const char *workspace;	/* absolute, canonical path */
	long timeout_ms;	/* wall clock, positive; the whole tree is
				   killed after */
	size_t output_cap;	/* bytes of combined stdout+stderr kept */
	bool network;		/* false: new network namespace, loopback up */
	unsigned long long memory_max;	/* bytes for the cgroup's memory
					   limit; 0: SANDBOX_MEMORY_DEFAULT */
	unsigned long pids_max;	/* tasks in the cgroup at most; 0:
				   SANDBOX_PIDS_DEFAULT */
	const char *const *protected_paths;	/* workspace-relative, kept
						   read-only; NULL-terminated */
	const char *const *unmasked;	/* entries of the policy's protected
					   list that the user took off (the
					   policy's unprotected list); their
					   files are not masked.
					   NULL-terminated, or NULL */
	enum sandbox_mode mode;	/* zero: SANDBOX_WORKSPACE_WRITE */
	bool passthrough;	/* stdout and stderr go to the caller's fds 1
				   and 2 instead of the output memfd */
	bool pass_stdin;	/* stdin is the caller's fd 0, not /dev/null */
	const char *const *argv;	/* NULL: run command under bash -c;
					   else execute this argument vector
					   directly (command is then only its
					   text for messages) */
	int cancel_fd;		/* when > 0, polled while the command runs:
				   once readable, the whole pid namespace is
				   killed and result->cancelled set; it is
				   not read, so the caller still sees it */
	int netns_fd;		/* when > 0 and the network is off, the
				   network namespace of sandbox_netns_create
				   that the command joins instead of a fresh
				   one; root callers only */
	/* When set, called at least every SANDBOX_WAIT_TICK_MS while the
	   command runs, e.g. to keep an elapsed-time display moving. */
	void (*on_wait)(void *ctx);
	void *wait_ctx;
};

struct sandbox_result {
	int exit_code;		/* -1 when killed by a signal */
	int signal;		/* 0 unless killed by a signal */
	bool timed_out;
	bool cancelled;		/* stopped because opts->cancel_fd fired */
	size_t output_bytes;	/* all bytes produced, kept or not */
	bool truncated;		/* output_bytes > output_cap */
	int output_fd;		/* sealed memfd with the kept output, or -1 */
	long duration_ms;
	char output_sha256[65];	/* hex digest of the kept output */
	unsigned int limits;	/* SANDBOX_LIMIT_* bits that applied */
	bool oom_killed;	/* the cgroup's memory limit killed the
				   command or one of its processes */
};

/*
 * Run command and fill result. With opts->passthrough, result->output_fd
 * is -1 and the output fields stay zero. Returns 0 when the command ran (whatever its
 * exit status), -1 when the sandbox could not be set up, with err naming the
 * layer, the cause and the fix. The caller closes result->output_fd.
 */
int sandbox_run(const struct sandbox_opts *opts, const char *command,
		struct sandbox_result *result, char *err, size_t errlen);

/*
 * Make an empty network namespace with loopback up for opts->netns_fd,
 * without moving the caller into it. Returns its fd, or -1 with err
 * naming the cause (an unprivileged caller cannot make one).
 */
int sandbox_netns_create(char *err, size_t errlen);

/*
 * Reap ended sandboxes: those whose pid 1 has exited, or with wait all of
 * them. sandbox_run returns once the command and every process it started
 * are gone, while the sandbox's pid 1 may still be exiting, and keeps its
 * placeholders and cgroup slot until a later sandbox_run or this call.
 * The helper process of an idmapped workspace is reaped here too. Callers
 * reap with wait before they exit, so that none is left for init.
 */
void sandbox_reap(bool wait);

/*
 * Return which cgroup would carry a command's memory and pids limits
 * here: SANDBOX_LIMIT_CGROUP_V1, _V2, or 0 with the reason in why (which
 * may be NULL). Detection runs once per process and effective uid.
 */
unsigned int sandbox_limits_available(char *why, size_t whylen);

/*
 * Write the SANDBOX_LIMIT_* bits as words ("cgroup-v1 rlimits") into buf
 * and return buf.
 */
const char *sandbox_limits_text(unsigned int limits, char *buf, size_t len);

/*
 * Run "coworker sandbox [options] -- CMD ARGS..."; argv[0] is "sandbox".
 * Returns the exit status for the process: the command's own, 128 plus the
 * signal that killed it, 124 on timeout, 125 when the sandbox failed and
 * 2 on a usage error.
 */
int sandbox_cli(int argc, char **argv);

#define SANDBOX_CLI_EXIT_USAGE 2
#define SANDBOX_CLI_EXIT_FAILED 125	/* the sandbox itself failed */
#define SANDBOX_CLI_EXIT_DENIED 126	/* the policy did not allow it */

/*
 * Check command, the shell command line "coworker sandbox --policy" built
 * from CMD ARGS, against the rules in the policy file path. Returns
 * 0 when they allow it, otherwise an exit status after printing why. The
 * launcher's version (launcher.c) has no policy parser: it runs the whole
 * command in coworker-supervisor instead.
 */
int sandbox_cli_check_policy(const char *path, const char *command);

#endif
