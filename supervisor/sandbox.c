/*
 * The command sandbox, parent side: checks the options, clones the child
 * into new namespaces, writes its id maps, captures its output under the
 * wall-clock deadline and reports how it ended. The steps inside the
 * namespaces are in sandbox_child.c and sandbox_mount.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/sched.h>

#include "supervisor/procfs.h"
#include "supervisor/sandbox_internal.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define WORKSPACE_PATH_MAX 4096

/* Keeps the deadline in nanoseconds and poll's int timeout from overflowing. */
#define SANDBOX_TIMEOUT_MAX_MS 1000000000L

/* The parent's ends of the pipes and the handle on the child. */
struct sandbox_child {
	pid_t pid;
	int pidfd;
	int sync_fd;		/* socket; one byte once the maps are written */
	int report_fd;		/* read end */
	int output_fd;		/* read end, non-blocking */
	bool in_cgroup;		/* cloned into plan->cgroup_fd */
};

static int check_opts(const struct sandbox_opts *opts, const char *command,
		      char *err, size_t errlen)
{
	const char *const *rel;
	struct stat st;
	char why[96];

	errno = 0;
	if (!opts || !command || !opts->workspace) {
		snprintf(err, errlen,
			 "command sandbox: missing options, command or workspace");
		return -1;
	}
	if (opts->workspace[0] != '/' || opts->workspace[1] == '\0' ||
	    strlen(opts->workspace) >= WORKSPACE_PATH_MAX) {
		snprintf(err, errlen,
			 "command sandbox: invalid workspace \"%.200s\"; pass an "
			 "absolute canonical path other than / and shorter than %d bytes",
			 opts->workspace, WORKSPACE_PATH_MAX);
		return -1;
	}
	if (stat(opts->workspace, &st) < 0 || !S_ISDIR(st.st_mode)) {
		if (errno == ENOENT)
			snprintf(why, sizeof(why), "does not exist");
		else if (errno)
			snprintf(why, sizeof(why), "cannot be reached (%s)",
				 strerror(errno));
		else
			snprintf(why, sizeof(why), "is not a directory");
		snprintf(err, errlen, "command sandbox: workspace \"%.200s\" %s; "
			 "use a directory that exists and that you may enter",
			 opts->workspace, why);
		return -1;
	}
	if (opts->argv && (!opts->argv[0] || !opts->argv[0][0])) {
		snprintf(err, errlen,
			 "command sandbox: empty argument vector; pass a program");
		return -1;
	}
	if (opts->timeout_ms <= 0 || opts->timeout_ms > SANDBOX_TIMEOUT_MAX_MS) {
		snprintf(err, errlen,
			 "command sandbox: invalid timeout %ld ms; it must be between "
			 "1 and %ld", opts->timeout_ms, SANDBOX_TIMEOUT_MAX_MS);
		return -1;
	}
	if (opts->mode != SANDBOX_WORKSPACE_WRITE &&
	    opts->mode != SANDBOX_READ_ONLY && opts->mode != SANDBOX_FULL_ACCESS) {
		snprintf(err, errlen, "command sandbox: invalid mode %d",
			 (int)opts->mode);
		return -1;
	}
	for (rel = opts->protected_paths; rel && *rel; rel++) {
		if ((*rel)[0] == '\0' || (*rel)[0] == '/') {
			snprintf(err, errlen,
				 "command sandbox: invalid protected path \"%.200s\"; "
				 "it must be relative to the workspace", *rel);
			return -1;
		}
	}
	return 0;
}

static const char *find_bash(void)
{
	static const char *const paths[] = { "/bin/bash", "/usr/bin/bash" };
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	}
	return NULL;
}

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* Upper bound on the PATH passed on, which also bounds a command's search. */
#define PATH_ENV_MAX 4096

/*
 * Add "NAME=value" to the plan's environment, in a copy the plan owns.
 * Returns the copy's value, or NULL when out of memory.
 */
static const char *env_add(struct sandbox_plan *plan, char ***env,
			   const char *name, const char *value)
{
	size_t max = sizeof(plan->env_owned) / sizeof(plan->env_owned[0]);
	size_t len = strlen(name) + strlen(value) + 2, i;
	char *text;

	for (i = 0; i < max && plan->env_owned[i]; i++)
		;
	if (i == max || !(text = malloc(len)))
		return NULL;
	snprintf(text, len, "%s=%s", name, value);
	plan->env_owned[i] = text;
	*(*env)++ = text;
	return text + strlen(name) + 1;
}

/*
 * Return the caller's PATH without empty or relative entries, which would
 * resolve inside the workspace, written to buf. Returns the default PATH
 * when nothing is left or the result does not fit.
 */
static const char *command_path(char *buf, size_t size)
{
	const char *caller = getenv("PATH"), *entry, *end;
	size_t len = 0, n;

	if (!caller)
		return DEFAULT_PATH;
	for (entry = caller; *entry; entry = *end ? end + 1 : end) {
		end = strchrnul(entry, ':');
		n = (size_t)(end - entry);
		if (n == 0 || entry[0] != '/')
			continue;
		if (len + n + 2 > size)
			return DEFAULT_PATH;
		if (len > 0)
			buf[len++] = ':';
		memcpy(buf + len, entry, n);
		len += n;
	}
	buf[len] = '\0';
	return len > 0 ? buf : DEFAULT_PATH;
}

/* Check that TERM is letters, digits and "-+._", as terminfo names are. */
static bool term_name_ok(const char *term)
{
	size_t len = strspn(term, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+._");

	return len > 0 && len < 64 && term[len] == '\0';
}

/*
 * Return the user's global git configuration file, which gives "git
 * commit" the name and e-mail while HOME is the workspace; or NULL. Only a
 * caller whose uid the command keeps gets one, because git stops at a
 * global file it cannot read (a root supervisor's command has another uid).
 */
static const char *git_global_config(const struct sandbox_plan *plan,
				     char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	struct stat st;
	int i;

	if (plan->switch_ids || !plan->home)
		return NULL;
	/* ~/.gitconfig, then the XDG file, as git looks for them. */
	for (i = 0; i < 2; i++) {
		if (i == 0)
			snprintf(buf, size, "%s/.gitconfig", plan->home);
		else if (xdg && xdg[0] == '/')
			snprintf(buf, size, "%s/git/config", xdg);
		else
			snprintf(buf, size, "%s/.config/git/config", plan->home);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(buf, R_OK) == 0)
			return buf;
	}
	return NULL;
}

/*
 * Build argv and the environment from an allowlist. It has PATH (the
 * caller's absolute entries), HOME (the workspace), a fixed locale, TERM
 * (the caller's only when the command writes to its terminal) and TMPDIR.
 * git gets the user's configuration file and the caller's GIT_AUTHOR_*
 * and GIT_COMMITTER_* names. Nothing else is taken from the supervisor's
 * environment, so its secrets (API keys) never reach a command.
 */
static int plan_init(struct sandbox_plan *plan, const struct sandbox_opts *opts,
		     const char *command, char *err, size_t errlen)
{
	static const char *const git_identity[] = {
		"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
		"GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
	};
	char **env = plan->envp;
	char path_buf[PATH_ENV_MAX], git_buf[4096];
	const char *term = getenv("TERM"), *git, *value;
	size_t i;

	const char *home = getenv("HOME");
	const char *runtime_dir = getenv("XDG_RUNTIME_DIR");
	const struct sock_filter *filter;
	unsigned short filter_len;

	memset(plan, 0, sizeof(*plan));
	plan->opts = opts;
	plan->sync_fd = plan->report_fd = plan->output_fd = -1;
	plan->workspace_tree = -1;
	plan->cgroup_fd = -1;
	plan->cgroup_join[0] = plan->cgroup_join[1] = -1;
	plan->make_dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1;
	plan->network = opts->network || opts->mode == SANDBOX_FULL_ACCESS;
	/* Cloned from inside the shared namespace, the child stays there. */
	if (!plan->network && opts->netns_fd > 0)
		plan->network = plan->shared_netns = true;
	plan->home = home && home[0] == '/' && home[1] ? home : NULL;
	/* Canonical, as the mounts compare it with the workspace's path. */
	if (runtime_dir && runtime_dir[0] == '/')
		plan->runtime_dir = realpath(runtime_dir, NULL);
	if (plan->runtime_dir && !plan->runtime_dir[1]) {
		free(plan->runtime_dir);
		plan->runtime_dir = NULL;
	}
	plan->inner_uid = geteuid();
	plan->inner_gid = getegid();
	if (plan->inner_uid == 0) {
		plan->switch_ids = true;
		plan->inner_uid = SANDBOX_INNER_ID;
		plan->inner_gid = SANDBOX_INNER_ID;
	}

	/* Built here, once per process: the sandbox only loads it. */
	sandbox_seccomp_program(&filter, &filter_len);

	plan->bash = find_bash();
	if (!plan->bash) {
		snprintf(err, errlen,
			 "command sandbox: bash not found at /bin/bash or "
			 "/usr/bin/bash; install bash");
		return -1;
	}

	plan->argv[0] = "bash";
	plan->argv[1] = "-c";
	plan->argv[2] = (char *)command;
	plan->argv[3] = NULL;

	if (!(opts->passthrough && isatty(STDOUT_FILENO) && term &&
	      term_name_ok(term)))
		term = "dumb";
	git = git_global_config(plan, git_buf, sizeof(git_buf));
	plan->path = env_add(plan, &env, "PATH",
			     command_path(path_buf, sizeof(path_buf)));
	if (!plan->path || !env_add(plan, &env, "HOME", opts->workspace) ||
	    !env_add(plan, &env, "TERM", term) ||
	    (git && !env_add(plan, &env, "GIT_CONFIG_GLOBAL", git))) {
		snprintf(err, errlen, "command sandbox: out of memory");
		return -1;
	}
	/* A CI job names the committer with these rather than a file. */
	for (i = 0; i < sizeof(git_identity) / sizeof(git_identity[0]); i++) {
		value = getenv(git_identity[i]);
		if (value && value[0] && strlen(value) < 256 &&
		    !env_add(plan, &env, git_identity[i], value)) {
			snprintf(err, errlen, "command sandbox: out of memory");
			return -1;
		}
	}
	*env++ = "LANG=C.UTF-8";
	*env++ = "LC_ALL=C.UTF-8";
	*env++ = "TMPDIR=/tmp";
	/* less would keep its history in HOME, the workspace. */
	*env++ = "LESSHISTFILE=-";
	/*
	 * Under a root supervisor the command's uid owns no file outside the
	 * workspace's idmapped mount, so git would refuse a repository above
	 * the workspace as of "dubious ownership". That check keeps a
	 * repository's configuration from running commands as its reader,
	 * and here the reader is the sandbox.
	 */
	if (plan->switch_ids) {
		*env++ = "GIT_CONFIG_COUNT=1";
		*env++ = "GIT_CONFIG_KEY_0=safe.directory";
		*env++ = "GIT_CONFIG_VALUE_0=*";
	}
	*env = NULL;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void child_close(struct sandbox_child *c)
{
	close_fd(&c->pidfd);
	close_fd(&c->sync_fd);
	close_fd(&c->report_fd);
	close_fd(&c->output_fd);
}

static int open_pipes(struct sandbox_plan *plan, struct sandbox_child *c,
		      char *err, size_t errlen)
{
	int sync[2], report[2], output[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0)
		goto fail;
	plan->sync_fd = sync[0];
	c->sync_fd = sync[1];

	if (pipe2(report, O_CLOEXEC) < 0)
		goto fail;
	c->report_fd = report[0];
	plan->report_fd = report[1];

	if (plan->opts->passthrough)
		return 0;
	if (pipe2(output, O_CLOEXEC) < 0)
		goto fail;
	c->output_fd = output[0];
	plan->output_fd = output[1];
	/*
	 * A command that opens /dev/stdout or /dev/stderr opens the pipe
	 * again, which its owner's permission decides. Under a root
	 * supervisor the command runs as the sandbox uid, so that uid owns it.
	 */
	if (plan->switch_ids &&
	    fchown(output[1], SANDBOX_HOST_UID, SANDBOX_HOST_GID) < 0)
		goto fail;

	if (fcntl(c->output_fd, F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "command sandbox: cannot create pipes (%s)",
		 strerror(errno));
	return -1;
}

/* Close the ends that only the child may hold, or end of file never comes. */
static void plan_close_child_ends(struct sandbox_plan *plan)
{
	close_fd(&plan->sync_fd);
	close_fd(&plan->report_fd);
	close_fd(&plan->output_fd);
}

static void plan_close(struct sandbox_plan *plan)
{
	size_t i;

	close_fd(&plan->sync_fd);
	close_fd(&plan->report_fd);
	close_fd(&plan->output_fd);
	close_fd(&plan->workspace_tree);
	for (i = 0; i < sizeof(plan->env_owned) / sizeof(plan->env_owned[0]);
	     i++) {
		free(plan->env_owned[i]);
		plan->env_owned[i] = NULL;
	}
	free(plan->runtime_dir);
	plan->runtime_dir = NULL;
}

static void spawn_error(int saved, char *err, size_t errlen)
{
	const char *fix;

	switch (saved) {
	case EPERM:
	case EACCES:
		fix = "unprivileged user namespaces are disabled; enable them "
		      "with sysctl kernel.unprivileged_userns_clone=1 (Debian) or "
		      "allow them in the AppArmor or SELinux policy";
		break;
	case ENOSPC:
	case EUSERS:
		fix = "the user namespace limit is reached; raise it with "
		      "sysctl user.max_user_namespaces";
		break;
	case ENOSYS:
		fix = "the kernel lacks clone3 and clone with CLONE_PIDFD "
		      "(Linux 5.3 or later)";
		break;
	default:
		fix = "check that the kernel supports user, mount, pid, net, "
		      "ipc and uts namespaces";
		break;
	}
	snprintf(err, errlen,
		 "command sandbox: cannot create a user namespace (%s): %s",
		 strerror(saved), fix);
}

/*
 * Clone the child into its namespaces. exit_signal 0 makes it a clone
 * child that a supervisor's waitpid(-1) loop does not reap by accident;
 * it is reaped through its pidfd. The network namespace is not made
 * here: the child makes it in parallel with its mounts
 * (sandbox_child.c).
 */
static int spawn(struct sandbox_plan *plan, struct sandbox_child *c,
		 char *err, size_t errlen)
{
	struct clone_args args;
	int host_netns = -1, saved;
	siginfo_t info;
	long pid;

	memset(&args, 0, sizeof(args));
	args.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
		     CLONE_NEWUTS | CLONE_PIDFD;
	args.pidfd = (uint64_t)(uintptr_t)&c->pidfd;
	args.exit_signal = 0;
	if (plan->cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)plan->cgroup_fd;
	}

	/*
	 * A shared network namespace is joined before the user namespace
	 * exists: joining needs CAP_SYS_ADMIN over the namespace's owner,
	 * which only the caller has. setns moves only this thread.
	 */
	if (plan->shared_netns &&
	    sandbox_netns_enter(plan->opts->netns_fd, &host_netns, err,
				errlen) < 0)
		return -1;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	c->in_cgroup = pid >= 0 && plan->cgroup_fd >= 0;

	/*
	 * Some emulators (valgrind 3.19) return ENOSYS for clone3. The older
	 * clone takes the same flags and stores the pidfd through its
	 * parent_tid argument (x86-64 argument order). It cannot clone into
	 * a cgroup, so the parent moves the child there afterwards.
	 */
	if (pid < 0 && errno == ENOSYS)
		pid = syscall(SYS_clone, (unsigned long)(args.flags &
			      ~(uint64_t)CLONE_INTO_CGROUP), NULL, &c->pidfd,
			      NULL, 0UL);
	if (pid == 0)
		sandbox_child_main(plan);
	saved = errno;
	if (plan->shared_netns && sandbox_netns_leave(host_netns) < 0) {
		snprintf(err, errlen, "command sandbox: returning from the shared "
			 "network namespace failed (%s)", strerror(errno));
		if (pid > 0) {
			syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
			waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &info,
			       WEXITED | __WALL);
		}
		return -1;
	}
	if (pid < 0) {
		spawn_error(saved, err, errlen);
		return -1;
	}

	c->pid = (pid_t)pid;
	return 0;
}

static int write_proc_file(pid_t pid, const char *name, const char *text,
			   char *err, size_t errlen)
{
	char path[64];

	if (procfs_write(pid, name, text, path, sizeof(path)) == 0)
		return 0;
	snprintf(err, errlen,
		 "command sandbox: user namespace: writing %s failed (%s); a "
		 "security module may restrict user namespaces",
		 path, strerror(errno));
	return -1;
}

/*
 * Map the caller's uid and gid to the same ids inside. An unprivileged
 * caller may only write gid_map after denying setgroups. A root caller
 * maps only the sandbox ids, so no command runs as host uid 0, and leaves
 * setgroups allowed so the child can drop root's supplementary groups.
 */
static int write_id_maps(const struct sandbox_plan *plan, pid_t pid,
			 char *err, size_t errlen)
{
	unsigned int uid = (unsigned int)geteuid();
	unsigned int gid = (unsigned int)getegid();
	char map[64];

	if (plan->switch_ids) {
		uid = SANDBOX_HOST_UID;
		gid = SANDBOX_HOST_GID;
	} else if (write_proc_file(pid, "setgroups", "deny", err, errlen) < 0) {
		return -1;
	}

	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned int)plan->inner_gid, gid);
	if (write_proc_file(pid, "gid_map", map, err, errlen) < 0)
		return -1;

	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned int)plan->inner_uid, uid);
	return write_proc_file(pid, "uid_map", map, err, errlen);
}

/* Wait until a child that had to become dumpable is ready for its maps. */
static int child_wait_ready(const struct sandbox_plan *plan,
			    struct sandbox_child *c, char *err, size_t errlen)
{
	char byte;
	ssize_t n;

	if (!plan->make_dumpable)
		return 0;
	do
		n = read(c->sync_fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		return 0;
	snprintf(err, errlen,
		 "command sandbox: the child exited before its id maps were written");
	return -1;
}

static void child_kill(struct sandbox_child *c)
{
	syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
}

static int child_reap(struct sandbox_child *c, siginfo_t *info)
{
	memset(info, 0, sizeof(*info));
	while (waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, info,
		      WEXITED | __WALL) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* The records pid 1 wrote on the report pipe, as they arrive. */
struct sandbox_report {
	char buf[2 * SANDBOX_REPORT_MAX];
	size_t len;
};

/*
 * Read what the report pipe contains. Returns 1 once a status record is
 * complete (pid 1 writes it after the last process of the command is
 * gone), 0 when more may come, -1 at end of file or on an error.
 */
static int report_take(int fd, struct sandbox_report *rep)
{
	ssize_t n;

	do
		n = read(fd, rep->buf + rep->len, sizeof(rep->buf) - rep->len);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	rep->len += (size_t)n;
	if (rep->buf[0] == SANDBOX_REPORT_STATUS &&
	    rep->len >= 1 + sizeof(int))
		return 1;
	return rep->len == sizeof(rep->buf) ? -1 : 0;
}

/*
 * Read output until the command has ended or the deadline passes. The
 * command has ended when pid 1 reports its status, which it does once no
 * other process of the sandbox is left, or when pid 1 itself exits.
 * Either way the writers of the output pipe are gone, so it is drained
 * without waiting, and a write end passed out of the sandbox cannot
 * stall the supervisor. At the deadline, SIGKILL to pid 1 takes the
 * whole pid namespace with it. Sets *exited when pid 1 was seen to exit.
 */
static int supervise(struct sandbox_child *c, struct sandbox_output *out,
		     struct sandbox_report *rep, int64_t deadline,
		     const struct sandbox_opts *opts, bool *killed,
		     bool *cancelled, bool *exited, char *err, size_t errlen)
{
	struct pollfd pfd[4] = {
		{ .fd = c->output_fd, .events = POLLIN },
		{ .fd = c->pidfd, .events = POLLIN },
		{ .fd = opts->cancel_fd > 0 ? opts->cancel_fd : -1,
		  .events = POLLIN },
		{ .fd = c->report_fd, .events = POLLIN },
	};
	int64_t left;
	int rc, wait_ms;

	for (;;) {
		left = deadline - sandbox_now_ns();
		if (!*killed && left <= 0) {
			child_kill(c);
			*killed = true;
		}

		wait_ms = *killed ? -1 : (int)((left + 999999) / 1000000);
		if (opts->on_wait && (wait_ms < 0 ||
				      wait_ms > SANDBOX_WAIT_TICK_MS))
			wait_ms = SANDBOX_WAIT_TICK_MS;
		rc = poll(pfd, 4, wait_ms);
		if (opts->on_wait)
			opts->on_wait(opts->wait_ctx);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			snprintf(err, errlen, "command sandbox: poll failed (%s)",
				 strerror(errno));
			return -1;
		}

		if (pfd[0].fd >= 0 && pfd[0].revents) {
			rc = sandbox_output_read(out, pfd[0].fd, err, errlen);
			if (rc < 0)
				return -1;
			/* Closed, so a writer past the surplus gets EPIPE. */
			if (rc == 0) {
				pfd[0].fd = -1;
				close_fd(&c->output_fd);
			}
		}
		if (pfd[1].revents) {
			*exited = true;
			break;
		}
		/* An error record or none: pid 1's exit ends the wait. */
		if (pfd[3].fd >= 0 && pfd[3].revents) {
			rc = report_take(pfd[3].fd, rep);
			if (rc > 0 && !*killed)
				break;
			if (rc < 0)
				pfd[3].fd = -1;
		}
		/* Cancelled: kill as at the deadline; the fd stays unread. */
		if (pfd[2].fd >= 0 && pfd[2].revents) {
			pfd[2].fd = -1;
			if (!*killed) {
				child_kill(c);
				*killed = true;
				*cancelled = true;
			}
		}
	}

	if (pfd[0].fd >= 0 &&
	    sandbox_output_read(out, pfd[0].fd, err, errlen) < 0)
		return -1;
	return 0;
}

/*
 * Parse the records pid 1 wrote: error text (NUL-terminated) or the
 * command's wait status. When pid 1 has exited, the rest of the pipe is
 * read first. Returns 1 with *status set, 0 when no status came, -1 with
 * err set when the child reported a setup error.
 */
static int report_read(int fd, struct sandbox_report *rep, bool exited,
		       int *status, char *err, size_t errlen)
{
	size_t pos = 0, text;
	int found = 0;

	while (exited && report_take(fd, rep) >= 0)
		;
	while (pos < rep->len) {
		if (rep->buf[pos] == SANDBOX_REPORT_ERROR) {
			text = strnlen(rep->buf + pos + 1, rep->len - pos - 1);
			snprintf(err, errlen, "%.*s", (int)text, rep->buf + pos + 1);
			return -1;
		}
		if (rep->buf[pos] != SANDBOX_REPORT_STATUS ||
		    rep->len - pos < 1 + sizeof(int))
			break;
		memcpy(status, rep->buf + pos + 1, sizeof(int));
		found = 1;
		pos += 1 + sizeof(int);
	}
	if (pos < rep->len) {
		snprintf(err, errlen,
			 "command sandbox: malformed report from the sandbox init");
		return -1;
	}
	return found;
}

/* Fill the exit fields from pid 1's end and the status it reported. */
static int decode_end(const siginfo_t *info, bool killed, int have, int status,
		      struct sandbox_result *result, char *err, size_t errlen)
{
	if (info && (info->si_code == CLD_KILLED ||
		     info->si_code == CLD_DUMPED)) {
		result->signal = info->si_status;
		result->timed_out = killed && !result->cancelled &&
				    info->si_status == SIGKILL;
		return 0;
	}
	if (!have) {
		snprintf(err, errlen,
			 "command sandbox: the sandbox init exited with status %d "
			 "without reporting the command's status",
			 info ? info->si_status : -1);
		return -1;
	}
	if (WIFSIGNALED(status))
		result->signal = WTERMSIG(status);
	else
		result->exit_code = WEXITSTATUS(status);
	return 0;
}

/*
 * Make the command's cgroup; a v2 one is handed to clone. The trace names
 * the limits that apply, or why no cgroup does.
 */
static int limits_prepare(struct sandbox_plan *plan, struct sandbox_cgroup *cg,
			  char *err, size_t errlen)
{
	const struct sandbox_opts *opts = plan->opts;
	char line[400];

	if (sandbox_cgroup_create(cg, opts, err, errlen) < 0)
		return -1;
	if (cg->kind == SANDBOX_LIMIT_CGROUP_V2)
		plan->cgroup_fd = cg->dir[0];
	plan->cgroup_join[0] = cg->join[0];
	plan->cgroup_join[1] = cg->join[1];

	if (!plan->trace_t0)
		return 0;
	if (cg->kind)
		snprintf(line, sizeof(line),
			 "parent: cgroup %s/coworker/%s (memory %llu bytes, %lu pids)",
			 cg->own[0], cg->name,
			 opts->memory_max ? opts->memory_max : SANDBOX_MEMORY_DEFAULT,
			 opts->pids_max ? opts->pids_max : SANDBOX_PIDS_DEFAULT);
	else
		snprintf(line, sizeof(line), "parent: no cgroup, rlimits only: %s",
			 cg->why);
	sandbox_trace(plan->trace_t0, line);
	return 0;
}

/*
 * Sandboxes whose command has ended while pid 1 may still be exiting.
 * Tearing down a sandbox's namespaces takes pid 1 a quarter of a
 * millisecond or more (the mount namespace waits for an RCU grace
 * period), and nothing of the command runs any more, so the result does
 * not wait for it. Each is reaped by a later sandbox_run or by
 * sandbox_reap; until then it keeps its cgroup slot and placeholders.
 */
struct sandbox_ended {
	struct sandbox_ended *next;
	int pidfd;
	struct sandbox_cgroup cg;
	struct sandbox_placeholders ph;
};

static struct {
	pthread_mutex_t lock;
	struct sandbox_ended *list;
} ended = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Move the exiting pid 1, its cgroup slot and placeholders to the list. */
static int ended_add(struct sandbox_child *c, struct sandbox_cgroup *cg,
		     struct sandbox_placeholders *ph)
{
	struct sandbox_ended *e = malloc(sizeof(*e));

	if (!e)
		return -1;
	e->pidfd = c->pidfd;
	e->cg = *cg;
	e->ph = *ph;
	c->pidfd = -1;
	memset(cg->dir, -1, sizeof(cg->dir));
	memset(cg->join, -1, sizeof(cg->join));
	sandbox_placeholders_init(ph);

	pthread_mutex_lock(&ended.lock);
	e->next = ended.list;
	ended.list = e;
	pthread_mutex_unlock(&ended.lock);
	return 0;
}

void sandbox_reap(bool wait)
{
	struct sandbox_ended *all, *e, *keep = NULL;
	siginfo_t info;
	int rc;

	sandbox_idmap_reap(wait);
	pthread_mutex_lock(&ended.lock);
	all = ended.list;
	ended.list = NULL;
	pthread_mutex_unlock(&ended.lock);

	/*
	 * Nothing of their commands runs any more, so the placeholders and
	 * slots go first, while the pid 1s finish exiting in parallel.
	 */
	for (e = all; wait && e; e = e->next) {
		sandbox_cgroup_destroy(&e->cg);
		sandbox_placeholders_release(&e->ph);
	}
	while ((e = all) != NULL) {
		all = e->next;
		do {
			memset(&info, 0, sizeof(info));
			rc = waitid((idtype_t)P_PIDFD, (id_t)e->pidfd, &info,
				    WEXITED | __WALL | (wait ? 0 : WNOHANG));
		} while (rc < 0 && errno == EINTR);
		if (rc == 0 && info.si_pid == 0) {
			e->next = keep;
			keep = e;
			continue;
		}
		close(e->pidfd);
		sandbox_cgroup_destroy(&e->cg);
		sandbox_placeholders_release(&e->ph);
		free(e);
	}
	if (!keep)
		return;

	pthread_mutex_lock(&ended.lock);
	for (e = keep; e->next; e = e->next)
		;
	e->next = ended.list;
	ended.list = keep;
	pthread_mutex_unlock(&ended.lock);
}

static void result_init(struct sandbox_result *result)
{
	memset(result, 0, sizeof(*result));
	result->exit_code = -1;
	result->output_fd = -1;
}

int sandbox_run(const struct sandbox_opts *opts, const char *command,
		struct sandbox_result *result, char *err, size_t errlen)
{
	struct sandbox_child c = { .pid = -1, .pidfd = -1, .sync_fd = -1,
				   .report_fd = -1, .output_fd = -1 };
	struct sandbox_output out = { .memfd = -1 };
	struct sandbox_plan plan = { .workspace_tree = -1, .cgroup_fd = -1,
				     .cgroup_join = { -1, -1 } };
	struct sandbox_cgroup cg = { .dir = { -1, -1 }, .join = { -1, -1 } };
	struct sandbox_placeholders ph;
	int64_t start = sandbox_now_ns();
	int64_t t0 = sandbox_trace_start(start);
	struct sandbox_report rep = { .len = 0 };
	bool killed = false, exited = false, early_cgroup;
	int have, status = 0, rc = -1;
	siginfo_t info;

	result_init(result);
	sandbox_placeholders_init(&ph);
	if (check_opts(opts, command, err, errlen) < 0)
		return -1;
	if (plan_init(&plan, opts, command, err, errlen) < 0)
		goto out;
	plan.trace_t0 = t0;
	sandbox_prepare_early(&plan);
	sandbox_trace(t0, "parent: plan ready (bash, env)");

	/* A v2 child is cloned straight into its cgroup, so that comes first. */
	early_cgroup = sandbox_limits_available(NULL, 0) ==
		       SANDBOX_LIMIT_CGROUP_V2;
	if (early_cgroup && limits_prepare(&plan, &cg, err, errlen) < 0)
		goto out;
	if (open_pipes(&plan, &c, err, errlen) < 0 ||
	    (!opts->passthrough &&
	     sandbox_output_open(&out, opts->output_cap, err, errlen) < 0) ||
	    spawn(&plan, &c, err, errlen) < 0)
		goto out;
	plan_close_child_ends(&plan);
	sandbox_trace(t0, "parent: clone returned");

	/*
	 * Only when clone could not put a v2 child into its cgroup. The child
	 * waits for the maps, so nothing of it has run yet.
	 */
	cg.attached = c.in_cgroup;
	if (sandbox_cgroup_attach(&cg, c.pid, err, errlen) < 0 ||
	    child_wait_ready(&plan, &c, err, errlen) < 0 ||
	    write_id_maps(&plan, c.pid, err, errlen) < 0 ||
	    send(c.sync_fd, "", 1, MSG_NOSIGNAL) != 1)
		goto kill;
	sandbox_trace(t0, "parent: id maps written");

	/*
	 * The on-disk steps run here, while the child mounts its root, /dev,
	 * the masks and /proc. It waits for them only before the workspace.
	 */
	if (sandbox_prepare_host(&plan, &ph, err, errlen) < 0 ||
	    (!early_cgroup && limits_prepare(&plan, &cg, err, errlen) < 0) ||
	    sandbox_host_send(c.sync_fd, &plan, err, errlen) < 0)
		goto kill;
	close_fd(&c.sync_fd);
	close_fd(&plan.workspace_tree);
	sandbox_trace(t0, "parent: host-side preparation sent");

	/*
	 * Earlier sandboxes are reaped while this one's pid 1 mounts. This
	 * runs after our placeholders are held, so a placeholder the last
	 * command made is taken over rather than removed and made again.
	 */
	sandbox_reap(false);

	if (supervise(&c, &out, &rep,
		      start + (int64_t)opts->timeout_ms * 1000000, opts, &killed,
		      &result->cancelled, &exited, err, errlen) < 0) {
		child_kill(&c);
		child_reap(&c, &info);
		goto out;
	}
	sandbox_trace(t0, exited ? "parent: pid 1 exited" :
		      "parent: status reported");
	if (exited && child_reap(&c, &info) < 0) {
		snprintf(err, errlen, "command sandbox: waitid failed (%s)",
			 strerror(errno));
		goto out;
	}

	have = report_read(c.report_fd, &rep, exited, &status, err, errlen);
	if (have < 0 ||
	    decode_end(exited ? &info : NULL, killed, have, status, result,
		       err, errlen) < 0 ||
	    (!opts->passthrough &&
	     sandbox_output_finish(&out, result, err, errlen) < 0))
		goto kill;
	result->limits = SANDBOX_LIMIT_RLIMITS | cg.kind;
	/* Read only after a failure: a clean exit needs no explanation. */
	result->oom_killed = (result->signal || result->exit_code) &&
			     sandbox_cgroup_oom_killed(&cg);
	if (plan.switch_ids)
		result->limits |= SANDBOX_LIMIT_SANDBOX_UID;

	result->duration_ms = (long)((sandbox_now_ns() - start) / 1000000);
	/* Reaped now when the list cannot take it. */
	if (!exited && ended_add(&c, &cg, &ph) < 0)
		child_reap(&c, &info);
	sandbox_trace(t0, "parent: done");
	rc = 0;
	goto out;
kill:
	child_kill(&c);
	child_reap(&c, &info);
out:
	if (rc < 0)
		result_init(result);
	plan_close(&plan);
	child_close(&c);
	sandbox_cgroup_destroy(&cg);
	sandbox_placeholders_release(&ph);
	sandbox_output_close(&out);
	return rc;
}
