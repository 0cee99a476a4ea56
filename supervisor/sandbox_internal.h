/*
 * Shared between the parent side of the command sandbox (sandbox.c,
 * sandbox_output.c) and the steps that run inside the new namespaces
 * (sandbox_child.c, sandbox_mount.c). Not for callers of sandbox_run.
 */
#ifndef COWORKER_SANDBOX_INTERNAL_H
#define COWORKER_SANDBOX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/sha256.h"
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
 * Under a root supervisor, commands run as this host uid and gid, and see
 * themselves as SANDBOX_INNER_ID inside their user namespace.
 * NOTE: 65534 is "nobody", shared with other daemons; a uid of its own
 * would keep host files owned by nobody out of reach too.
 */
#define SANDBOX_HOST_UID 65534
#define SANDBOX_HOST_GID 65534
#define SANDBOX_INNER_ID 1000

/*
 * Everything the child needs, prepared by the parent before clone so that
 * the child allocates nothing.
 */
struct sandbox_plan {
	const struct sandbox_opts *opts;
	const char *bash;	/* absolute path of bash */
	char *argv[4];		/* bash -c COMMAND */
	char *envp[20];		/* the allowlisted environment */
	char *env_owned[8];	/* the strings of envp the plan allocated */
	const char *path;	/* PATH's value in envp, searched for argv[0] */
	int sync_fd;		/* socket: the parent wrote the id maps */
	bool make_dumpable;	/* the parent is not dumpable (see spawn) */
	int report_fd;		/* write end: error text or final status */
	int output_fd;		/* write end: the command's stdout and stderr,
				   or -1 with opts->passthrough */
	bool network;		/* share the caller's network namespace */
	bool shared_netns;	/* clone from inside opts->netns_fd */
	bool switch_ids;	/* root caller: become inner_uid/inner_gid */
	uid_t inner_uid;	/* the command's uid and gid inside */
	gid_t inner_gid;
	int workspace_tree;	/* detached idmapped workspace made by the
				   parent, or -1: the child clones it */
	const char *home;	/* caller's home directory, or NULL */
	char *runtime_dir;	/* caller's $XDG_RUNTIME_DIR made canonical,
				   owned by the plan; or NULL */
	size_t hide_len;	/* length of the workspace's first ancestor
				   the sandbox uid cannot search, hidden
				   under a tmpfs; 0 for none */
	int64_t trace_t0;	/* start of sandbox_run when tracing, else 0 */
	int cgroup_fd;		/* v2 cgroup to clone the child into, or -1 */
	int cgroup_join[2];	/* v1 "tasks" files the child writes itself
				   into first, or -1 */
	const char *const *placeholders;	/* workspace-relative, bound
						   read-only like the
						   protected paths; or NULL */
};

#define SANDBOX_CGROUP_PATH_MAX 1024

/* One command's cgroup (sandbox_cgroup.c). */
struct sandbox_cgroup {
	unsigned int kind;	/* SANDBOX_LIMIT_CGROUP_V1, _V2 or 0 */
	int dir[2];		/* the command's cgroup: v2 in [0]; v1
				   memory, pids; -1 when absent */
	int join[2];		/* v1: its "tasks" files, or -1 */
	bool attached;		/* the child is in it */
	long long oom_kills;	/* the slot's OOM kill count when claimed,
				   or -1 when unknown */
	char name[64];		/* "slot-K" */
	char own[2][SANDBOX_CGROUP_PATH_MAX];	/* our cgroup directories */
	char why[256];		/* with kind 0: why no cgroup applies */
};


/*
 * Make the command's cgroup with its memory and pids limits, when the
 * machine offers one (cg->kind 0 otherwise, with the reason in cg->why).
 * Returns -1 only when a cgroup that should apply could not be set up.
 */
int sandbox_cgroup_create(struct sandbox_cgroup *cg,
			  const struct sandbox_opts *opts, char *err,
			  size_t errlen);

/*
 * Move pid into a v2 cgroup that clone could not put it in. A v1 child
 * joins by itself through plan->cgroup_join.
 */
int sandbox_cgroup_attach(struct sandbox_cgroup *cg, pid_t pid, char *err,
			  size_t errlen);

/*
 * Whether the cgroup's memory limit killed a process since the slot was
 * claimed (the kernel's oom_kill count went up).
 */
bool sandbox_cgroup_oom_killed(const struct sandbox_cgroup *cg);

/*
 * Give the slot back (close its fds, which drops the lock). The command
 * must have ended; safe to call twice.
 */
void sandbox_cgroup_destroy(struct sandbox_cgroup *cg);

/* Bring up lo in the caller's network namespace (sandbox_netns.c). */
int sandbox_loopback_up(void);

/*
 * Move the calling thread into netns_fd, keeping its own namespace in
 * *host for sandbox_netns_leave, which moves it back and closes *host.
 */
int sandbox_netns_enter(int netns_fd, int *host, char *err, size_t errlen);
int sandbox_netns_leave(int host);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t sandbox_now_ns(void);

/*
 * Tracing of the sandbox's steps (sandbox_trace.c): start returns start
 * when COWORKER_SANDBOX_TRACE=1 is set, else 0; sandbox_trace prints one
 * step's time since t0 to stderr and does nothing when t0 is 0.
 */
int64_t sandbox_trace_start(int64_t start);
void sandbox_trace(int64_t t0, const char *step);

/*
 * Mask credential folders below home and .env* files at the top of the
 * workspace (tree: its attached mount) so they read as empty. root is the
 * view's root before pivot_root. With workspace set, sandbox_mask_home
 * masks only the credentials below it, once the workspace is mounted
 * over the first masks (the workspace is, or contains, the home). Files
 * whose protected-list entry is in keep (opts->unmasked) stay as they are.
 */
int sandbox_mask_home(int root, const char *home, const char *workspace,
		      const char *const *keep, char *err, size_t errlen);
int sandbox_mask_workspace(int root, const char *workspace, int tree,
			   const char *const *keep, char *err, size_t errlen);

/*
 * Mask the .env* entries of each directory above the workspace, up to but
 * not including "/": a monorepo keeps its secrets at the top, above the
 * package a command works in.
 */
int sandbox_mask_ancestors(int root, const char *workspace,
			   const char *const *keep, char *err, size_t errlen);

/*
 * Make a detached, recursive clone of the workspace on which the files of
 * the workspace's owner appear as SANDBOX_HOST_UID's. In the parent, as
 * root; *tree is the mount's fd.
 */
int sandbox_idmap_workspace(const struct sandbox_opts *opts, int *tree,
			    char *err, size_t errlen);

/*
 * Reap the short-lived process that held the idmap's user namespace
 * while its maps were written. With wait, also one still exiting.
 */
void sandbox_idmap_reap(bool wait);

#define SANDBOX_PLACEHOLDER_MAX 16
#define SANDBOX_PLACEHOLDER_PATH_MAX 256

/*
 * Empty read-only directories held for protected paths that do not exist,
 * for the time of one command (sandbox_host.c).
 */
struct sandbox_placeholders {
	size_t count;
	int fd[SANDBOX_PLACEHOLDER_MAX];	/* locked shared */
	int parent[SANDBOX_PLACEHOLDER_MAX];	/* directory containing it */
	char rel[SANDBOX_PLACEHOLDER_MAX][SANDBOX_PLACEHOLDER_PATH_MAX];
	const char *list[SANDBOX_PLACEHOLDER_MAX + 1];	/* rel, for the
							   child */
};

void sandbox_placeholders_init(struct sandbox_placeholders *ph);
void sandbox_placeholders_release(struct sandbox_placeholders *ph);

/*
 * Host-side preparation, in two parts. Before clone: the workspace
 * ancestor to hide, which the child reads from its copy of the plan.
 * After clone, while the child builds its mounts: placeholders for
 * missing protected paths and, under a root supervisor, the idmapped
 * workspace. sandbox_host_send then hands the child what the second part
 * made.
 */
void sandbox_prepare_early(struct sandbox_plan *plan);
int sandbox_prepare_host(struct sandbox_plan *plan,
			 struct sandbox_placeholders *ph, char *err,
			 size_t errlen);

/*
 * The message on the sync socket that follows the id maps byte: a header,
 * then "count" placeholder paths of "len" bytes in all, each ending in
 * NUL. SCM_RIGHTS carries the fds that the "fds" bits name, in the order
 * of the bits.
 */
#define SANDBOX_HOST_WORKSPACE	0x1	/* plan->workspace_tree */
#define SANDBOX_HOST_JOIN0	0x2	/* plan->cgroup_join[0] */
#define SANDBOX_HOST_JOIN1	0x4	/* plan->cgroup_join[1] */
#define SANDBOX_HOST_NAMES_MAX \
	(SANDBOX_PLACEHOLDER_MAX * SANDBOX_PLACEHOLDER_PATH_MAX)

struct sandbox_host_msg {
	uint8_t fds;		/* SANDBOX_HOST_* bits */
	uint8_t count;		/* placeholder paths that follow */
	uint16_t len;		/* their bytes, NULs included */
};

int sandbox_host_send(int sock, const struct sandbox_plan *plan, char *err,
		      size_t errlen);

/* Resource limits of the command; in the forked command before execve. */
int sandbox_rlimits_apply(const struct sandbox_opts *opts, char *err,
			  size_t errlen);

/* Landlock ruleset of the command; after no_new_privs, before seccomp. */
int sandbox_landlock_apply(const struct sandbox_opts *opts, char *err,
			   size_t errlen);

/*
 * Give the command a Landlock domain of its own below pid 1's, which it
 * shares otherwise: Landlock then keeps it from tracing pid 1 and, from
 * ABI 6, from signalling it. The domain limits nothing else.
 */
int sandbox_landlock_nest(char *err, size_t errlen);

/* Load the seccomp denylist; last step before execve. */
int sandbox_seccomp_load(char *err, size_t errlen);

/* The denylist's BPF program, for tests that check it. */
struct sock_filter;
void sandbox_seccomp_program(const struct sock_filter **insns,
			     unsigned short *len);

/* Run the sandbox's pid 1 in the new namespaces; never returns. */
_Noreturn void sandbox_child_main(const struct sandbox_plan *plan);

/* Sources of the view, taken before anything hides them. */
#define SANDBOX_DEV_NODE_COUNT 5

struct sandbox_mounts {
	int root;
	int workspace;
	int dev[SANDBOX_DEV_NODE_COUNT];
};

/*
 * Build the command's mount namespace view in two parts. begin mounts what
 * needs nothing from the parent's host-side preparation (the read-only
 * root, /dev, the masks, /proc), and finish mounts the workspace and the
 * protected paths, then closes m. Both run in the child with full
 * capabilities in its own user namespace.
 */
int sandbox_mount_begin(const struct sandbox_plan *plan,
			struct sandbox_mounts *m, char *err, size_t errlen);
int sandbox_mount_finish(const struct sandbox_plan *plan,
			 struct sandbox_mounts *m, char *err, size_t errlen);
void sandbox_mounts_close(struct sandbox_mounts *m);

/* Capture of the command's output into a sealed memfd. */
struct sandbox_output {
	int memfd;
	size_t cap;		/* bytes kept at most */
	size_t kept;
	size_t total;		/* bytes read, kept or not */
	struct sha256 digest;	/* over the kept bytes */
};

int sandbox_output_open(struct sandbox_output *out, size_t cap, char *err,
			size_t errlen);

/*
 * Bytes beyond the cap that are still read and counted. Past them the
 * caller closes the pipe, so a command that writes without end (yes, a
 * loop) gets EPIPE at once instead of running to its timeout.
 */
#define SANDBOX_OUTPUT_SURPLUS_MAX (256UL << 20)

/*
 * Read what the non-blocking pipe fd holds now. Returns 1 when more may
 * come, 0 at end of file or once SANDBOX_OUTPUT_SURPLUS_MAX bytes beyond
 * the cap were read, -1 on error.
 */
int sandbox_output_read(struct sandbox_output *out, int fd, char *err,
			size_t errlen);

/* Seal the memfd, rewind it and move it with its digest into result. */
int sandbox_output_finish(struct sandbox_output *out,
			  struct sandbox_result *result, char *err,
			  size_t errlen);

void sandbox_output_close(struct sandbox_output *out);

#endif
