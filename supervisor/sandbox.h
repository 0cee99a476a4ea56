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

struct sandbox_opts {
	const char *workspace;	/* absolute, canonical path */
	long timeout_ms;	/* wall clock, positive; the whole tree is
				   killed after */
	size_t output_cap;	/* bytes of combined stdout+stderr kept */
	bool network;		/* false: new network namespace, loopback up */
	const char *const *protected_paths;	/* workspace-relative, kept
						   read-only; NULL-terminated */
};

struct sandbox_result {
	int exit_code;		/* -1 when killed by a signal */
	int signal;		/* 0 unless killed by a signal */
	bool timed_out;
	size_t output_bytes;	/* all bytes produced, kept or not */
	bool truncated;		/* output_bytes > output_cap */
	int output_fd;		/* sealed memfd with the kept output, or -1 */
	long duration_ms;
	char output_sha256[65];	/* hex digest of the kept output */
};

/*
 * Run command and fill result. Returns 0 when the command ran (whatever its
 * exit status), -1 when the sandbox could not be set up, with err naming the
 * layer, the cause and the fix. The caller closes result->output_fd.
 */
int sandbox_run(const struct sandbox_opts *opts, const char *command,
		struct sandbox_result *result, char *err, size_t errlen);

#endif
