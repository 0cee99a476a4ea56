/*
 * Shared between the parent side of the command sandbox (sandbox.c,
 * sandbox_output.c) and the steps that run inside the new namespaces
 * (sandbox_child.c, sandbox_mount.c). Not for callers of sandbox_run.
 */
#ifndef COWORKER_SANDBOX_INTERNAL_H
#define COWORKER_SANDBOX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor/sandbox.h"

/* Maximum size of one record on the report pipe, below PIPE_BUF (atomic). */
#define SANDBOX_REPORT_MAX 512

/*
 * Record types on the report pipe, child to parent. An error record is the
 * type byte followed by NUL-terminated text. A status record is the type
 * byte followed by the command's raw wait status as an int.
 */
#define SANDBOX_REPORT_ERROR 'E'
#define SANDBOX_REPORT_STATUS 'S'

/* Size cap of the private tmpfs mounted on /tmp inside the sandbox. */
#define SANDBOX_TMP_SIZE "512m"

/* Host name inside the sandbox's UTS namespace. */
#define SANDBOX_HOSTNAME "coworker-sandbox"

/* Name of the first process of the pid namespace, as /proc/1/comm shows. */
#define SANDBOX_INIT_NAME "sandbox-init"

/*
 * Everything the child needs, prepared by the parent before clone so that
 * the child allocates nothing.
 */
struct sandbox_plan {
	const struct sandbox_opts *opts;
	const char *bash;	/* absolute path of bash */
	char *argv[4];		/* bash -c COMMAND */
	char *envp[8];		/* the allowlisted environment */
	char *home_env;		/* "HOME=workspace", owned by the plan */
	int sync_fd;		/* socket: the parent wrote the id maps */
	bool make_dumpable;	/* the parent is not dumpable (see spawn) */
	int report_fd;		/* write end: error text or final status */
	int output_fd;		/* write end: the command's stdout and stderr */
};

/* Run the sandbox's pid 1 in the new namespaces; never returns. */
_Noreturn void sandbox_child_main(const struct sandbox_plan *plan);

/*
 * Build the command's mount namespace view and pivot_root into it. Runs in
 * the child with full capabilities in its own user namespace.
 */
int sandbox_mount_view(const struct sandbox_opts *opts, char *err,
		       size_t errlen);

/* Capture of the command's output into a sealed memfd. */
struct sandbox_output {
	int memfd;
	size_t cap;		/* bytes kept at most */
	size_t kept;
	size_t total;		/* bytes read, kept or not */
	void *digest;		/* EVP_MD_CTX over the kept bytes */
};

int sandbox_output_open(struct sandbox_output *out, size_t cap, char *err,
			size_t errlen);

/*
 * Read what the non-blocking pipe fd holds now. Returns 1 when more may
 * come, 0 at end of file, -1 on error.
 */
int sandbox_output_read(struct sandbox_output *out, int fd, char *err,
			size_t errlen);

/* Seal the memfd, rewind it and move it with its digest into result. */
int sandbox_output_finish(struct sandbox_output *out,
			  struct sandbox_result *result, char *err,
			  size_t errlen);

void sandbox_output_close(struct sandbox_output *out);

#endif
