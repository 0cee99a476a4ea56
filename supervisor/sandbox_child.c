/*
 * The command sandbox's steps inside the new namespaces. The cloned child
 * is pid 1 of its pid namespace: it waits for the parent to write its id
 * maps, builds the view, starts the command and reaps until it exits.
 * When pid 1 exits, the kernel kills whatever else is left in the
 * namespace.
 *
 * Every setup error goes to the parent as text on the report pipe and ends
 * the child before bash is started, so a command never runs with a layer
 * missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/securebits.h>

#include "supervisor/sandbox_internal.h"
#include "supervisor/sandbox_sys.h"

static void report_write(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
}

static _Noreturn void child_fail(const struct sandbox_plan *plan,
				 const char *msg)
{
	char rec[SANDBOX_REPORT_MAX];
	size_t len = strnlen(msg, sizeof(rec) - 2);

	rec[0] = SANDBOX_REPORT_ERROR;
	memcpy(rec + 1, msg, len);
	rec[1 + len] = '\0';
	report_write(plan->report_fd, rec, len + 2);
	_exit(127);
}

/*
 * Close every inherited fd but 0 to 2 and the plan's own: the supervisor's
 * other sockets and pipes must not stay open for as long as the command
 * runs.
 */
#define KEEP_COUNT 6

static void close_inherited(const struct sandbox_plan *plan)
{
	int keep[KEEP_COUNT] = { plan->sync_fd, plan->report_fd,
				 plan->output_fd, plan->workspace_tree,
				 plan->cgroup_join[0], plan->cgroup_join[1] };
	unsigned int from = 3, next;
	int i, j, tmp;

	for (i = 1; i < KEEP_COUNT; i++)
		for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			tmp = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = tmp;
		}

	for (i = 0; i < KEEP_COUNT; i++) {
		if (keep[i] < (int)from)
			continue;
		next = (unsigned int)keep[i];
		if (next > from)
			close_range(from, next - 1, 0);
		from = next + 1;
	}
	close_range(from, ~0U, 0);
}

/*
 * Move this process, still single-threaded and the only one of the
 * sandbox, into its v1 cgroups. "0" names the writer itself, which the
 * kernel moves without taking the global lock a move by pid needs.
 */
static void join_cgroups(const struct sandbox_plan *plan)
{
	char err[SANDBOX_REPORT_MAX];
	int i;

	for (i = 0; i < 2; i++) {
		if (plan->cgroup_join[i] < 0)
			continue;
		if (write(plan->cgroup_join[i], "0", 1) != 1) {
			snprintf(err, sizeof(err),
				 "command sandbox: cgroup v1: joining the "
				 "command's cgroup failed (%s)", strerror(errno));
			child_fail(plan, err);
		}
		close(plan->cgroup_join[i]);
	}
}

/*
 * Arm the parent-death signal again, which a change of ids clears. If
 * the parent died in between, the report pipe has no reader left, and
 * poll reports POLLERR on its write end.
 */
static int watch_parent_again(const struct sandbox_plan *plan)
{
	struct pollfd pfd = { .fd = plan->report_fd, .events = 0 };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		return -1;
	if (poll(&pfd, 1, 0) != 0)
		return -1;
	return 0;
}

static int wait_for_maps(const struct sandbox_plan *plan)
{
	char byte = 'r';
	ssize_t n;

	/*
	 * A non-dumpable process's /proc/PID files belong to root, so the
	 * parent could not write our id maps. Become dumpable and notify it.
	 * setup_namespaces makes pid 1 non-dumpable again before bash runs.
	 */
	if (plan->make_dumpable &&
	    (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0 ||
	     write(plan->sync_fd, &byte, 1) != 1))
		return -1;

	do
		n = read(plan->sync_fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return -1;

	/*
	 * Under a root supervisor only the sandbox uid is mapped. Switching
	 * to it keeps the capabilities in this user namespace, because uid 0
	 * of the namespace is not mapped, and dropping the host's
	 * supplementary groups (root's among them) needs setgroups still
	 * allowed, which only a privileged parent can leave it.
	 *
	 * Raw system calls, not glibc's wrappers: the child came from a bare
	 * clone3, so glibc still lists the supervisor's other threads. Its
	 * wrappers would signal each of them to change ids too, and wait
	 * forever for threads that do not exist in this process.
	 */
	if (plan->switch_ids &&
	    (syscall(SYS_setgroups, 0, NULL) < 0 ||
	     syscall(SYS_setresgid, plan->inner_gid, plan->inner_gid,
		     plan->inner_gid) < 0 ||
	     syscall(SYS_setresuid, plan->inner_uid, plan->inner_uid,
		     plan->inner_uid) < 0 ||
	     watch_parent_again(plan) < 0))
		return -1;
	return 0;
}

/*
 * The sandbox's network namespace, made by a helper process while pid 1
 * builds its mounts, because creating one is the largest single step of
 * a start (docs/benchmarks.md). The helper shares pid 1's memory and fd
 * table (CLONE_VM | CLONE_FILES), runs on the stack below with every
 * signal blocked, and only makes system calls. pid 1 reads the results
 * once the helper has exited, then joins the namespace before the
 * command exists, so nothing of the command runs in the host's.
 * NOTE: the helper shares pid 1's errno, so an error of both at the same
 * moment may report the other's errno; either ends the sandbox.
 */
static struct {
	_Alignas(16) char stack[16384];
	pid_t pid;
	int fd;			/* the new namespace, or -1 */
	int error;		/* errno of the failed step */
	const char *step;	/* the step running or failed */
	int64_t trace_t0;	/* pid 1's, for sandbox_trace */
} net_helper = { .pid = -1, .fd = -1 };

static int net_helper_main(void *arg)
{
	(void)arg;
	net_helper.step = "unshare(CLONE_NEWNET)";
	sandbox_trace(net_helper.trace_t0, "network helper: started");
	if (unshare(CLONE_NEWNET) < 0)
		goto fail;
	sandbox_trace(net_helper.trace_t0, "network helper: namespace made");

	net_helper.step = "bringing up loopback";
	if (sandbox_loopback_up() < 0)
		goto fail;

	sandbox_trace(net_helper.trace_t0, "network helper: loopback up");
	net_helper.step = "opening /proc/self/ns/net";
	net_helper.fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (net_helper.fd < 0)
		goto fail;
	return 0;
fail:
	net_helper.error = errno;
	return 1;
}

/*
 * Move pid off the CPU this process runs on, when another one is
 * allowed. A new task starts on its parent's CPU when every CPU is
 * busy, and the scheduler keeps it queued there as cache-hot after
 * another CPU goes idle. The helper would then wait for pid 1 to block
 * before it made the namespace. A failure here costs only speed.
 */
static void away_from_this_cpu(pid_t pid)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	CPU_CLR(cpu, &set);
	if (CPU_COUNT(&set) > 0)
		sched_setaffinity(pid, sizeof(set), &set);
}

static int net_helper_start(void)
{
	sigset_t all, old;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	net_helper.pid = clone(net_helper_main,
			       net_helper.stack + sizeof(net_helper.stack),
			       CLONE_VM | CLONE_FILES, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (net_helper.pid < 0)
		return -1;
	away_from_this_cpu(net_helper.pid);
	return 0;
}

/* Wait for the helper and move pid 1 into the namespace it made. */
static int net_helper_join(char *err, size_t errlen)
{
	int status;

	while (waitpid(net_helper.pid, &status, __WALL) < 0) {
		if (errno != EINTR) {
			net_helper.step = "waiting for the helper";
			net_helper.error = errno;
			goto fail;
		}
	}
	if (net_helper.fd < 0)
		goto fail;
	net_helper.step = "setns";
	if (setns(net_helper.fd, CLONE_NEWNET) < 0) {
		net_helper.error = errno;
		goto fail;
	}
	close(net_helper.fd);
	return 0;
fail:
	snprintf(err, errlen, "command sandbox: network namespace: %s failed (%s)",
		 net_helper.step ? net_helper.step : "the helper",
		 strerror(net_helper.error));
	return -1;
}

/*
 * Give every signal its default action and unblock them all, so the
 * command does not inherit what its caller ignored or blocked (a shell's
 * "trap '' PIPE", nohup, or the signals 'coworker sandbox' waits for).
 * The command's process copies this from pid 1. pid 1, as the init of
 * its namespace, still ignores every signal it has no handler for,
 * except those the kernel forces.
 */
static void default_signals(void)
{
	/* The kernel's struct sigaction: handler, flags, restorer, mask. */
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} dfl = { .handler = SIG_DFL };
	uint64_t none = 0;
	int sig;

	/*
	 * The system call, because glibc's sigaction rejects the two
	 * real-time signals it keeps for itself (32 and 33). A caller may
	 * have left those ignored too.
	 */
	for (sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
}

/* Placeholder paths from the parent's host-side preparation, for pid 1. */
struct host_parts {
	char names[SANDBOX_HOST_NAMES_MAX];
	const char *list[SANDBOX_PLACEHOLDER_MAX + 1];
};

/* Take the fds that head->fds names from msg into the plan. */
static int take_fds(struct sandbox_plan *plan, const struct sandbox_host_msg *head,
		    struct msghdr *msg)
{
	int *slots[3] = { &plan->workspace_tree, &plan->cgroup_join[0],
			  &plan->cgroup_join[1] };
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(msg);
	size_t want = 0, i, next = 0;
	int fds[3];

	for (i = 0; i < 3; i++)
		want += (head->fds >> i) & 1U;
	if (want == 0)
		return cmsg ? -1 : 0;
	if (!cmsg || cmsg->cmsg_level != SOL_SOCKET ||
	    cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(want * sizeof(int)))
		return -1;
	memcpy(fds, CMSG_DATA(cmsg), want * sizeof(int));
	for (i = 0; i < 3; i++)
		if ((head->fds >> i) & 1U)
			*slots[i] = fds[next++];
	return 0;
}

/*
 * Apply what the command inherits (an empty bounding set, no_new_privs,
 * Landlock, seccomp) to pid 1 while the network helper may still work,
 * so the command's process starts confined. The rest of pid 1's work
 * passes it: setns and the cgroup writes use fds it holds, then come
 * clone without a user namespace, waitpid, kill and the status write.
 */
static int confine_inherited(const struct sandbox_plan *plan, char *err,
			     size_t errlen)
{
	int cap;

	for (cap = 0; prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0; cap++)
		;
	if (errno != EINVAL || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "command sandbox: dropping the capability "
			 "bounding set failed (%s)", strerror(errno));
		return -1;
	}
	if (sandbox_landlock_apply(plan->opts, err, errlen) < 0 ||
	    sandbox_seccomp_load(err, errlen) < 0)
		return -1;
	sandbox_trace(plan->trace_t0, "pid 1: Landlock and seccomp applied");
	return 0;
}

/*
 * Wait for the parent's host-side preparation (sandbox_host_send): the
 * placeholders exist on disk from then on, and the plan gets the
 * idmapped workspace and the v1 cgroups' "tasks" files.
 */
static int receive_host(struct sandbox_plan *plan, struct host_parts *parts,
			char *err, size_t errlen)
{
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct sandbox_host_msg head;
	struct iovec iov = { .iov_base = &head, .iov_len = sizeof(head) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	size_t got = 0, pos, i;
	ssize_t n;

	do
		n = recvmsg(plan->sync_fd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(head) || (msg.msg_flags & MSG_CTRUNC) ||
	    take_fds(plan, &head, &msg) < 0 ||
	    head.len > sizeof(parts->names) || head.count > SANDBOX_PLACEHOLDER_MAX)
		goto fail;
	while (got < head.len) {
		n = read(plan->sync_fd, parts->names + got, head.len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}

	for (i = 0, pos = 0; i < head.count; i++) {
		if (pos >= head.len || !memchr(parts->names + pos, '\0',
					       head.len - pos))
			goto fail;
		parts->list[i] = parts->names + pos;
		pos += strlen(parts->names + pos) + 1;
	}
	parts->list[head.count] = NULL;
	plan->placeholders = parts->list;
	close(plan->sync_fd);
	plan->sync_fd = -1;
	return 0;
fail:
	snprintf(err, errlen, "command sandbox: the supervisor's host-side "
		 "preparation did not arrive intact");
	return -1;
}

static int setup_namespaces(struct sandbox_plan *plan, char *err,
			    size_t errlen)
{
	struct sandbox_mounts mounts;
	struct host_parts parts;

	if (sethostname(SANDBOX_HOSTNAME, strlen(SANDBOX_HOSTNAME)) < 0) {
		snprintf(err, errlen,
			 "command sandbox: UTS namespace: sethostname failed (%s)",
			 strerror(errno));
		return -1;
	}

	sandbox_trace(plan->trace_t0, "pid 1: hostname");

	if (sandbox_mount_begin(plan, &mounts, err, errlen) < 0) {
		sandbox_mounts_close(&mounts);
		return -1;
	}
	if (receive_host(plan, &parts, err, errlen) < 0) {
		sandbox_mounts_close(&mounts);
		return -1;
	}
	sandbox_trace(plan->trace_t0, "pid 1: host-side preparation received");
	if (sandbox_mount_finish(plan, &mounts, err, errlen) < 0 ||
	    confine_inherited(plan, err, errlen) < 0)
		return -1;
	if (!plan->network) {
		if (net_helper_join(err, errlen) < 0)
			return -1;
		sandbox_trace(plan->trace_t0,
			      "pid 1: network namespace (loopback up) joined");
	}

	default_signals();

	/*
	 * pid 1 keeps its capabilities in the user namespace and becomes
	 * non-dumpable, so the command (which has none) can neither ptrace
	 * it nor open its fds through /proc/1/fd and forge a status record.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_NAME, SANDBOX_INIT_NAME, 0, 0, 0) < 0) {
		snprintf(err, errlen, "command sandbox: prctl failed (%s)",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Drop the command's capabilities for good. The bounding set is empty
 * already (confine_inherited). With the caller's uid mapped to itself,
 * bash runs as uid 0 under a root supervisor, and SECBIT_NOROOT keeps
 * execve from handing it the user namespace's full set again.
 */
static int drop_capabilities(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
		  SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
		  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 ||
	    syscall(SYS_capset, &hdr, data) < 0) {
		snprintf(err, errlen,
			 "command sandbox: dropping capabilities failed (%s)",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int redirect_stdio(const struct sandbox_plan *plan, char *err,
			  size_t errlen)
{
	int null = -1;

	if (!plan->opts->pass_stdin) {
		null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0)
			goto fail;
		close(null);
	}
	if (!plan->opts->passthrough &&
	    (dup2(plan->output_fd, 1) < 0 || dup2(plan->output_fd, 2) < 0))
		goto fail;

	/* The report pipe must stay open until execve reports success. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	return 0;
fail:
	snprintf(err, errlen,
		 "command sandbox: redirecting stdin/stdout/stderr failed (%s)",
		 strerror(errno));
	return -1;
}

/*
 * Execute opts->argv, searching the sandbox's PATH (not the supervisor's
 * environment, which execvp would read) when the name has no slash. As in
 * a shell, a directory that is missing or that the command may not search
 * is passed over, and a file found but not executable is reported if
 * nothing runs.
 */
static void exec_argv(const struct sandbox_plan *plan)
{
	char *const *argv = (char *const *)plan->opts->argv;
	const char *dir, *end;
	char path[4096];
	struct stat st;
	int saved = ENOENT;

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, plan->envp);
		return;
	}
	for (dir = plan->path; *dir; dir = *end ? end + 1 : end) {
		end = strchrnul(dir, ':');
		if (snprintf(path, sizeof(path), "%.*s/%s", (int)(end - dir),
			     dir, argv[0]) >= (int)sizeof(path))
			continue;
		execve(path, argv, plan->envp);
		if (errno == ENOENT || errno == ENOTDIR ||
		    (errno == EACCES && stat(path, &st) < 0))
			continue;
		saved = errno;
	}
	errno = saved;
}

static _Noreturn void exec_command(const struct sandbox_plan *plan,
				   const sigset_t *mask)
{
	char err[SANDBOX_REPORT_MAX];
	ssize_t written;
	int saved;

	sandbox_trace(plan->trace_t0, "command: started");
	if (setsid() < 0) {
		snprintf(err, sizeof(err), "command sandbox: setsid failed (%s)",
			 strerror(errno));
		child_fail(plan, err);
	}
	if (chdir(plan->opts->workspace) < 0) {
		snprintf(err, sizeof(err),
			 "command sandbox: cannot enter the workspace %s (%s)",
			 plan->opts->workspace, strerror(errno));
		child_fail(plan, err);
	}
	/*
	 * Landlock, seccomp, no_new_privs and the bounding set came with
	 * pid 1 (confine_inherited). Limits go first, while setrlimit may
	 * still raise them, then the capabilities, then a Landlock domain
	 * below pid 1's.
	 */
	if (!plan->opts->passthrough)
		sandbox_trace(plan->trace_t0, "command: before stdio redirect");
	if (redirect_stdio(plan, err, sizeof(err)) < 0 ||
	    sandbox_rlimits_apply(plan->opts, err, sizeof(err)) < 0 ||
	    drop_capabilities(err, sizeof(err)) < 0 ||
	    sandbox_landlock_nest(err, sizeof(err)) < 0)
		child_fail(plan, err);
	if (plan->opts->passthrough)
		sandbox_trace(plan->trace_t0, "command: confined, execve");
	sigprocmask(SIG_SETMASK, mask, NULL);

	if (plan->opts->argv) {
		exec_argv(plan);
		/*
		 * The sandbox is fine but the command is not, so print why on
		 * its stderr and exit as a shell does, 127 when not found.
		 */
		saved = errno;
		if (saved == ENOENT && !strchr(plan->opts->argv[0], '/'))
			snprintf(err, sizeof(err), "coworker sandbox: %s: command "
				 "not found in PATH (%s)\n",
				 plan->opts->argv[0], plan->path);
		else
			snprintf(err, sizeof(err), "coworker sandbox: cannot "
				 "execute %s: %s\n", plan->opts->argv[0],
				 strerror(saved));
		written = write(STDERR_FILENO, err, strlen(err));
		(void)written;
		_exit(saved == ENOENT ? 127 : 126);
	}
	execve(plan->bash, plan->argv, plan->envp);
	snprintf(err, sizeof(err), "command sandbox: cannot execute %s (%s)",
		 plan->bash, strerror(errno));
	child_fail(plan, err);
}

/* Reap every orphan until bash exits; return bash's raw wait status. */
static int reap_until(pid_t bash)
{
	int status;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, 0);
		if (pid == bash)
			return status;
		if (pid < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * Kill and reap whatever the command left behind in the namespace
 * (daemons, background jobs). Every orphan is pid 1's child, so once
 * waitpid finds none, pid 1 is the last process of the sandbox. The
 * status reported next therefore means that nothing of the command runs
 * any more, and the parent need not wait for pid 1's own exit.
 */
static void end_the_rest(void)
{
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, __WALL) >= 0 || errno == EINTR)
		;
}

/* What the command's process gets, on pid 1's stack. */
struct command_start {
	const struct sandbox_plan *plan;
	sigset_t mask;		/* pid 1's mask, for the command */
};

static int command_main(void *arg)
{
	const struct command_start *start = arg;

	exec_command(start->plan, &start->mask);
}

/*
 * Start the command's process. It shares pid 1's memory (CLONE_VM) and
 * runs on a stack in this frame while pid 1 waits (CLONE_VFORK) until it
 * calls execve or exits: no page tables are copied and no page is copied
 * on write, which a fork would do. Signals stay blocked until right
 * before execve, so no handler inherited from the supervisor runs on the
 * shared memory. Everything the child calls after this point writes only
 * to its own stack, errno and the report pipe.
 */
static pid_t command_spawn(const struct sandbox_plan *plan)
{
	_Alignas(16) char stack[65536];
	struct command_start start = { .plan = plan };
	sigset_t all;
	pid_t pid;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &start.mask);
	pid = clone(command_main, stack + sizeof(stack),
		    CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
	sigprocmask(SIG_SETMASK, &start.mask, NULL);
	return pid;
}

_Noreturn void sandbox_child_main(const struct sandbox_plan *parent_plan)
{
	struct sandbox_plan own = *parent_plan;
	struct sandbox_plan *plan = &own;	/* completed by receive_host */
	char err[SANDBOX_REPORT_MAX];
	char rec[1 + sizeof(int)];
	pid_t bash;
	int status;

	close_inherited(plan);

	/* The sandbox must not outlive the supervisor thread that made it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

	sandbox_trace(plan->trace_t0, "pid 1: started");
	if (wait_for_maps(plan) < 0)
		_exit(127);
	sandbox_trace(plan->trace_t0, "pid 1: id maps received");

	/* After the maps: it would only compete with the parent writing them. */
	net_helper.trace_t0 = plan->trace_t0;
	if (!plan->network && net_helper_start() < 0) {
		snprintf(err, sizeof(err), "command sandbox: network namespace: "
			 "clone of the helper failed (%s)", strerror(errno));
		child_fail(plan, err);
	}

	if (setup_namespaces(plan, err, sizeof(err)) < 0)
		child_fail(plan, err);
	sandbox_trace(plan->trace_t0, "pid 1: namespaces set up");

	/* Before the command exists, so none of it runs outside. */
	join_cgroups(plan);
	if (plan->cgroup_join[0] >= 0)
		sandbox_trace(plan->trace_t0, "pid 1: joined its cgroups");

	bash = command_spawn(plan);
	if (bash < 0) {
		snprintf(err, sizeof(err), "command sandbox: clone failed (%s)",
			 strerror(errno));
		child_fail(plan, err);
	}
	if (plan->output_fd >= 0)
		close(plan->output_fd);

	status = reap_until(bash);
	sandbox_trace(plan->trace_t0, "pid 1: command exited");
	if (status == -1) {
		snprintf(err, sizeof(err), "command sandbox: waitpid failed (%s)",
			 strerror(errno));
		child_fail(plan, err);
	}
	end_the_rest();

	rec[0] = SANDBOX_REPORT_STATUS;
	memcpy(rec + 1, &status, sizeof(status));
	report_write(plan->report_fd, rec, sizeof(rec));
	_exit(0);
}
