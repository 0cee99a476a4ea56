/*
 * Memory and process-count limits of the command sandbox through one
 * cgroup per command. What the machine offers is detected once per
 * process, in this order:
 *
 *  - cgroup v2, when our own v2 cgroup lists the memory and pids
 *    controllers and we may enable them for a child (delegation). The
 *    child is cloned straight into its cgroup with CLONE_INTO_CGROUP.
 *  - cgroup v1, when the supervisor is root and the memory and pids
 *    hierarchies are mounted and writable. The sandbox's pid 1 writes
 *    itself into both right before it starts the command, through "tasks"
 *    files the parent opened, so the command never runs outside them.
 *    This is because a single-threaded process that moves itself takes
 *    no global lock. A parent that writes the child's pid into
 *    cgroup.procs waits for an RCU grace period instead (about 5 ms
 *    measured here, see docs/benchmarks.md).
 *  - neither: only the rlimits of sandbox_confine.c apply.
 *
 * Each command runs in a slot, "slot-K" under a "coworker" cgroup below
 * our own. A command claims a slot with an exclusive flock on its
 * directory, writes the limits, and gives the slot back when it ends.
 * Making and removing a memory cgroup per command cost more than all the
 * rest of its cgroup work. A slot keeps the page cache the last command
 * left charged to it, which the kernel reclaims before it would fail an
 * allocation. A slot left holding tmpfs pages, which cannot be reclaimed
 * without swap, is removed and made again when it is next claimed.
 * The "coworker" cgroups and the
 * slots hold no task between commands.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "supervisor/sandbox_internal.h"

#define CGROUP_PARENT "coworker"
#define CGROUP_LINE_MAX 4096

/*
 * Command cgroups are slots "slot-0", "slot-1", ... that stay once made
 * and are reused: making and removing a memory cgroup cost more than the
 * rest of a short command's cgroup work. At most this many run at once.
 */
#define CGROUP_SLOT "slot-"
#define CGROUP_SLOTS_MAX 4096

/* tmpfs bytes a command may leave charged to a slot before it is renewed. */
#define CGROUP_SHMEM_LEFT (1ULL << 20)

/* What detect() found; filled once per process. */
static struct {
	pthread_mutex_t lock;
	bool done;
	uid_t euid;		/* detection holds for this effective uid */
	unsigned int kind;	/* SANDBOX_LIMIT_CGROUP_V1, _V2 or 0 */
	char parent[2][SANDBOX_CGROUP_PATH_MAX];	/* our own cgroups:
							   v2 in [0]; v1
							   memory, pids */
	char why[256];		/* why no cgroup applies, for the trace */
	int coworker_fd[2];	/* the "coworker" cgroups below parent[],
				   opened on first use; -1 before */
} cgroup_host = { .lock = PTHREAD_MUTEX_INITIALIZER,
		  .coworker_fd = { -1, -1 } };

/* Read a small file into buf, NUL-terminated. Returns its length or -1. */
static ssize_t read_small(int dirfd, const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Write text to a cgroup control file in one write(), as the kernel wants. */
static int write_control(int dirfd, const char *name, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd;

	fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	do
		n = write(fd, text, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0 && (size_t)n != len) {
		n = -1;
		errno = EIO;
	}
	close(fd);
	return n < 0 ? -1 : 0;
}

/* Whether the comma- or space-separated list contains word. */
static bool list_has(const char *list, const char *word, const char *seps)
{
	size_t len = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == list || strchr(seps, p[-1])) &&
		    (p[len] == '\0' || strchr(seps, p[len])))
			return true;
		p += len;
	}
	return false;
}

/* The two /proc files that detection reads, read when first needed and kept. */
struct proc_text {
	char *mountinfo;
	char *cgroup;
};

/* Read a whole /proc file into a new NUL-terminated buffer, or NULL. */
static char *read_proc(const char *path)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap), *grown;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !buf)
		goto fail;
	for (;;) {
		if (cap - len < 2) {
			grown = cap < (1U << 24) ? realloc(buf, cap * 2) : NULL;
			if (!grown)
				goto fail;
			buf = grown;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* Copy the line at *pos into line and move *pos past it; false at the end. */
static bool next_line(const char **pos, char *line, size_t len)
{
	const char *p = *pos, *nl;
	size_t n;

	if (!p || !*p)
		return false;
	nl = strchr(p, '\n');
	n = nl ? (size_t)(nl - p) : strlen(p);
	*pos = nl ? nl + 1 : p + n;
	/* An overlong line is cut; it then matches nothing we look for. */
	if (n >= len)
		n = len - 1;
	memcpy(line, p, n);
	line[n] = '\0';
	return true;
}

/*
 * Find where the hierarchy that matches (cgroup2 for v2, cgroup v1 with
 * the controller in its super options) is mounted. root receives the
 * mount's root within the hierarchy, dir the mount point.
 */
static int find_mount(const char *mountinfo, bool v2, const char *controller,
		      char *root, char *dir, size_t len)
{
	char line[CGROUP_LINE_MAX], r[CGROUP_LINE_MAX], d[CGROUP_LINE_MAX];
	char fstype[64], opts[CGROUP_LINE_MAX];
	const char *pos = mountinfo, *dash;

	while (next_line(&pos, line, sizeof(line))) {
		dash = strstr(line, " - ");
		if (!dash ||
		    sscanf(line, "%*s %*s %*s %4095s %4095s", r, d) != 2 ||
		    sscanf(dash + 3, "%63s %*s %4095s", fstype, opts) != 2)
			continue;
		if (v2 ? strcmp(fstype, "cgroup2") != 0 :
		    strcmp(fstype, "cgroup") != 0 ||
		    !list_has(opts, controller, ","))
			continue;
		/* Mount points with spaces are escaped; not ours to handle. */
		if (strchr(d, '\\') || strlen(d) >= len || strlen(r) >= len)
			continue;
		snprintf(root, len, "%s", r);
		snprintf(dir, len, "%s", d);
		return 0;
	}
	return -1;
}

/* Our own cgroup in the hierarchy ("" for the v2 line "0::PATH"). */
static int own_cgroup(const char *cgroup, const char *controller,
		      char *path, size_t len)
{
	char line[CGROUP_LINE_MAX], *list, *rest;
	const char *pos = cgroup;

	while (next_line(&pos, line, sizeof(line))) {
		list = strchr(line, ':');
		if (!list)
			continue;
		rest = strchr(++list, ':');
		if (!rest)
			continue;
		*rest++ = '\0';
		if (controller[0] ? !list_has(list, controller, ",") :
		    strcmp(line, "0:") != 0)
			continue;
		if (strlen(rest) >= len)
			return -1;
		snprintf(path, len, "%s", rest);
		return 0;
	}
	return -1;
}

/*
 * Our own cgroup below the usual mount point of a hierarchy:
 * "/sys/fs/cgroup" or "/sys/fs/cgroup/unified" for v2, and
 * "/sys/fs/cgroup/CONTROLLER" for v1, when statfs shows a hierarchy of
 * the right version there. It saves generating and parsing
 * /proc/self/mountinfo at every start of a short-lived process such as
 * "coworker sandbox".
 * NOTE: this takes the mount's root to be the hierarchy's (or the cgroup
 * namespace's) root and a v1 mount point to carry the controller it is
 * named after. A machine where that is wrong gets a visible error when
 * the limits are written, not a silent run without them.
 */
static int usual_dir(const struct proc_text *proc, bool v2,
		     const char *controller, char *out, size_t len)
{
	static const char *const v2_points[] = {
		"/sys/fs/cgroup", "/sys/fs/cgroup/unified",
	};
	char point[64], own[CGROUP_LINE_MAX];
	struct statfs fs;
	struct stat st;
	size_t i, count = v2 ? 2 : 1;

	if (!proc->cgroup ||
	    own_cgroup(proc->cgroup, v2 ? "" : controller, own, sizeof(own)) < 0)
		return -1;
	for (i = 0; i < count; i++) {
		if (v2)
			snprintf(point, sizeof(point), "%s", v2_points[i]);
		else
			snprintf(point, sizeof(point), "/sys/fs/cgroup/%s",
				 controller);
		if (statfs(point, &fs) < 0 ||
		    fs.f_type != (v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC))
			continue;
		if ((size_t)snprintf(out, len, "%s%s", point,
				     strcmp(own, "/") == 0 ? "" : own) >= len)
			return -1;
		if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
	}
	return -1;
}

/*
 * The directory of our own cgroup in one hierarchy: the mount point plus
 * our path with the mount's root taken off. The usual mount point is
 * tried before mountinfo is read.
 */
static int own_dir(struct proc_text *proc, bool v2,
		   const char *controller, char *out, size_t len)
{
	char root[CGROUP_LINE_MAX], dir[CGROUP_LINE_MAX], own[CGROUP_LINE_MAX];
	size_t rlen;

	if (usual_dir(proc, v2, controller, out, len) == 0)
		return 0;
	if (!proc->mountinfo)
		proc->mountinfo = read_proc("/proc/self/mountinfo");
	if (!proc->mountinfo || !proc->cgroup ||
	    find_mount(proc->mountinfo, v2, controller, root, dir,
		       sizeof(root)) < 0 ||
	    own_cgroup(proc->cgroup, v2 ? "" : controller, own,
		       sizeof(own)) < 0)
		return -1;
	rlen = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if (strncmp(own, root, rlen) != 0 ||
	    (own[rlen] != '/' && own[rlen] != '\0'))
		return -1;
	if ((size_t)snprintf(out, len, "%s%s", dir, own + rlen) >= len)
		return -1;
	return 0;
}

/*
 * Whether v2 is delegated to us: our cgroup offers memory and pids, and we
 * may create the coworker cgroup below it with both enabled.
 * NOTE: a cgroup that contains processes cannot enable controllers for its
 * children (EBUSY), so this succeeds only when the supervisor's cgroup is
 * the root of its cgroup namespace, as in most containers. A systemd unit
 * with Delegate=yes would need the supervisor to move itself into a leaf
 * first, which it does not do.
 */
static bool detect_v2(struct proc_text *proc, char *why,
		      size_t whylen)
{
	char *dir = cgroup_host.parent[0];
	char buf[512];
	int fd;

	if (own_dir(proc, true, NULL, dir, SANDBOX_CGROUP_PATH_MAX) < 0) {
		snprintf(why, whylen, "no cgroup v2 hierarchy");
		return false;
	}
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || read_small(fd, "cgroup.controllers", buf, sizeof(buf)) < 0 ||
	    !list_has(buf, "memory", " \n") || !list_has(buf, "pids", " \n")) {
		snprintf(why, whylen, "cgroup v2 at %s lacks the memory or pids "
			 "controller", dir);
		goto fail;
	}
	if (read_small(fd, "cgroup.subtree_control", buf, sizeof(buf)) < 0 ||
	    ((!list_has(buf, "memory", " \n") || !list_has(buf, "pids", " \n")) &&
	     write_control(fd, "cgroup.subtree_control", "+memory +pids") < 0)) {
		snprintf(why, whylen, "cgroup v2 at %s is not delegated (%s)",
			 dir, strerror(errno));
		goto fail;
	}
	close(fd);
	return true;
fail:
	if (fd >= 0)
		close(fd);
	return false;
}

static bool detect_v1(struct proc_text *proc, char *why,
		      size_t whylen)
{
	if (geteuid() != 0) {
		snprintf(why, whylen, "cgroup v1 needs a root supervisor");
		return false;
	}
	if (own_dir(proc, false, "memory", cgroup_host.parent[0],
		    SANDBOX_CGROUP_PATH_MAX) < 0 ||
	    own_dir(proc, false, "pids", cgroup_host.parent[1],
		    SANDBOX_CGROUP_PATH_MAX) < 0) {
		snprintf(why, whylen, "no cgroup v1 memory and pids hierarchies");
		return false;
	}
	if (access(cgroup_host.parent[0], W_OK) < 0 ||
	    access(cgroup_host.parent[1], W_OK) < 0) {
		snprintf(why, whylen, "cgroup v1 hierarchies are read-only here");
		return false;
	}
	return true;
}

/* Detect once which cgroup version applies. */
static void detect(void)
{
	struct proc_text proc;
	char why2[128] = "", why1[128] = "";
	int i;

	/* After a uid change the permissions differ, so detect again. */
	if (cgroup_host.done && cgroup_host.euid == geteuid())
		return;
	cgroup_host.done = true;
	cgroup_host.euid = geteuid();
	for (i = 0; i < 2; i++) {
		if (cgroup_host.coworker_fd[i] >= 0)
			close(cgroup_host.coworker_fd[i]);
		cgroup_host.coworker_fd[i] = -1;
	}
	cgroup_host.kind = 0;
	cgroup_host.why[0] = '\0';
	proc.mountinfo = NULL;	/* read only when needed, see own_dir */
	proc.cgroup = read_proc("/proc/self/cgroup");

	if (detect_v2(&proc, why2, sizeof(why2)))
		cgroup_host.kind = SANDBOX_LIMIT_CGROUP_V2;
	else if (detect_v1(&proc, why1, sizeof(why1)))
		cgroup_host.kind = SANDBOX_LIMIT_CGROUP_V1;
	else
		snprintf(cgroup_host.why, sizeof(cgroup_host.why), "%s; %s",
			 why2, why1);
	free(proc.mountinfo);
	free(proc.cgroup);
}

/*
 * Open the coworker cgroup below our own cgroup in hierarchy i, making it
 * when missing. Called with the lock held; the fd is kept for the life of
 * the process. A v2 one gets the memory and pids controllers for its
 * children.
 */
static int coworker_open(int i, bool v2)
{
	char path[SANDBOX_CGROUP_PATH_MAX + 16];
	int fd;

	if (cgroup_host.coworker_fd[i] >= 0)
		return cgroup_host.coworker_fd[i];
	snprintf(path, sizeof(path), "%s/" CGROUP_PARENT, cgroup_host.parent[i]);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -1;
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (v2 && write_control(fd, "cgroup.subtree_control",
				"+memory +pids") < 0) {
		close(fd);
		return -1;
	}
	cgroup_host.coworker_fd[i] = fd;
	return fd;
}

/*
 * Open slot NAME below the coworker cgroup of hierarchy i, making it when
 * missing. When an administrator removed the coworker cgroup since it
 * was opened, it is made again once.
 */
static int open_slot(int i, const char *name, bool v2)
{
	int parent, fd = -1, tries;

	for (tries = 0; fd < 0 && tries < 2; tries++) {
		pthread_mutex_lock(&cgroup_host.lock);
		if (tries > 0 && cgroup_host.coworker_fd[i] >= 0) {
			close(cgroup_host.coworker_fd[i]);
			cgroup_host.coworker_fd[i] = -1;
		}
		parent = coworker_open(i, v2);
		if (parent >= 0 && (mkdirat(parent, name, 0755) == 0 ||
				    errno == EEXIST))
			fd = openat(parent, name, O_RDONLY | O_DIRECTORY |
				    O_CLOEXEC);
		pthread_mutex_unlock(&cgroup_host.lock);
		if (parent < 0 || (fd < 0 && errno != ENOENT))
			break;
	}
	return fd;
}

/*
 * Open and lock slot NAME in hierarchy i. Returns its fd, -1 on an error,
 * or -2 when another sandbox uses it or a task is still in it (a task in
 * a free slot belongs to a sandbox that is still exiting).
 */
static int lock_slot(int i, const char *name, bool v2)
{
	char procs[32];
	int fd;

	fd = open_slot(i, name, v2);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    read_small(fd, "cgroup.procs", procs, sizeof(procs)) == 0)
		return fd;
	close(fd);
	return -2;
}

/*
 * Read the number on the line "KEY N" of a cgroup file with such lines
 * (memory.stat, memory.events). Returns false when the file or the line
 * is missing.
 */
static bool read_key(int dirfd, const char *file, const char *key,
		     unsigned long long *value)
{
	char buf[4096], *line;
	size_t len = strlen(key);

	if (read_small(dirfd, file, buf, sizeof(buf)) < 0)
		return false;
	for (line = buf; line; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, key, len) == 0 && line[len] == ' ' &&
		    sscanf(line + len, "%llu", value) == 1)
			return true;
	}
	return false;
}

/*
 * Return the bytes of tmpfs and shared memory charged to the memory
 * cgroup at fd ("shmem" in memory.stat, v1 and v2), or 0 when unknown.
 * memory.stat costs the kernel a walk of its counters, so it is read only
 * when the cgroup's whole usage is above the threshold.
 */
static unsigned long long slot_shmem(int fd, bool v2)
{
	char buf[64];
	unsigned long long n;

	if (read_small(fd, v2 ? "memory.current" : "memory.usage_in_bytes",
		       buf, sizeof(buf)) > 0 &&
	    sscanf(buf, "%llu", &n) == 1 && n <= CGROUP_SHMEM_LEFT)
		return n;
	return read_key(fd, "memory.stat", "shmem", &n) ? n : 0;
}

/*
 * Remove the locked slot NAME and make it again. A page stays charged to
 * the memory cgroup that first used it, and without swap a tmpfs page
 * cannot be reclaimed. Files a command left on a tmpfs (a workspace under
 * /dev/shm, the host's /tmp in full-access mode) would count against the
 * next command in the slot. Removing the slot moves its charges to the
 * parent. Returns the new slot's locked fd, or -2 when another sandbox
 * took the name in between.
 */
static int renew_slot(int fd, const char *name, bool v2)
{
	int parent;

	pthread_mutex_lock(&cgroup_host.lock);
	parent = coworker_open(0, v2);
	if (parent >= 0)
		unlinkat(parent, name, AT_REMOVEDIR);
	pthread_mutex_unlock(&cgroup_host.lock);
	close(fd);
	return lock_slot(0, name, v2);
}

/*
 * Claim the first slot that is free in each of the n hierarchies and
 * fill cg->dir and cg->name. A slot's directory carries an exclusive
 * flock for as long as a sandbox uses it, and the lock goes with the
 * last fd, also when the supervisor is killed. Each hierarchy is locked
 * on its own: supervisors in different memory cgroups may share one pids
 * cgroup (or the reverse), so slot K may be free in one and not the
 * other. Returns 0, or -1 with errno set.
 */
static int claim_slot(struct sandbox_cgroup *cg, int n, bool v2)
{
	unsigned int k;
	int i, fd;

	for (k = 0; k < CGROUP_SLOTS_MAX; k++) {
		snprintf(cg->name, sizeof(cg->name), CGROUP_SLOT "%u", k);
		for (i = 0; i < n; i++) {
			fd = lock_slot(i, cg->name, v2);
			if (fd >= 0 && i == 0 &&
			    slot_shmem(fd, v2) > CGROUP_SHMEM_LEFT)
				fd = renew_slot(fd, cg->name, v2);
			if (fd < 0)
				break;
			cg->dir[i] = fd;
		}
		if (i == n)
			return 0;
		while (i-- > 0) {
			close(cg->dir[i]);
			cg->dir[i] = -1;
		}
		if (fd == -1)
			return -1;
	}
	errno = EAGAIN;
	return -1;
}

static int fail(struct sandbox_cgroup *cg, char *err, size_t errlen,
		const char *step, const char *path)
{
	snprintf(err, errlen,
		 "command sandbox: cgroup %s: %s %s failed (%s); the limits "
		 "cannot be set, so the command was not started",
		 cg->kind == SANDBOX_LIMIT_CGROUP_V2 ? "v2" : "v1", step, path,
		 strerror(errno));
	sandbox_cgroup_destroy(cg);
	return -1;
}

static int set_limits(struct sandbox_cgroup *cg, unsigned long long memory,
		      unsigned long pids, char *err, size_t errlen)
{
	char mem[32], nproc[32];

	snprintf(mem, sizeof(mem), "%llu", memory);
	snprintf(nproc, sizeof(nproc), "%lu", pids);

	if (cg->kind == SANDBOX_LIMIT_CGROUP_V2) {
		if (write_control(cg->dir[0], "memory.max", mem) < 0)
			return fail(cg, err, errlen, "writing", "memory.max");
		/* No swap: the limit would mean little if pages moved there. */
		if (write_control(cg->dir[0], "memory.swap.max", "0") < 0 &&
		    errno != ENOENT)
			return fail(cg, err, errlen, "writing", "memory.swap.max");
		if (write_control(cg->dir[0], "pids.max", nproc) < 0)
			return fail(cg, err, errlen, "writing", "pids.max");
		return 0;
	}

	/*
	 * memory+swap equal to memory: no swap. The file exists only when
	 * the kernel accounts swap (swapaccount=1); without it swap stays
	 * possible and only RAM is capped. memory+swap may never be below
	 * memory, so a slot whose last command had a lower limit takes the
	 * new memory+swap limit first.
	 */
	if (write_control(cg->dir[0], "memory.limit_in_bytes", mem) < 0 &&
	    (errno != EINVAL ||
	     write_control(cg->dir[0], "memory.memsw.limit_in_bytes", mem) < 0 ||
	     write_control(cg->dir[0], "memory.limit_in_bytes", mem) < 0))
		return fail(cg, err, errlen, "writing", "memory.limit_in_bytes");
	if (write_control(cg->dir[0], "memory.memsw.limit_in_bytes", mem) < 0 &&
	    errno != ENOENT)
		return fail(cg, err, errlen, "writing",
			    "memory.memsw.limit_in_bytes");
	if (write_control(cg->dir[1], "pids.max", nproc) < 0)
		return fail(cg, err, errlen, "writing", "pids.max");
	return 0;
}

/*
 * The memory cgroup's count of processes its limit killed: "oom_kill N"
 * in memory.events (v2) or memory.oom_control (v1, Linux 4.13 and
 * later). -1 when the file or the line is missing.
 */
static long long oom_kill_count(const struct sandbox_cgroup *cg)
{
	unsigned long long n;

	if (cg->dir[0] < 0 ||
	    !read_key(cg->dir[0], cg->kind == SANDBOX_LIMIT_CGROUP_V2 ?
		      "memory.events" : "memory.oom_control", "oom_kill", &n))
		return -1;
	return (long long)n;
}

bool sandbox_cgroup_oom_killed(const struct sandbox_cgroup *cg)
{
	long long now;

	if (!cg->kind || cg->oom_kills < 0)
		return false;
	now = oom_kill_count(cg);
	return now > cg->oom_kills;
}

unsigned int sandbox_limits_available(char *why, size_t whylen)
{
	unsigned int kind;

	pthread_mutex_lock(&cgroup_host.lock);
	detect();
	kind = cgroup_host.kind;
	if (why)
		snprintf(why, whylen, "%s", cgroup_host.why);
	pthread_mutex_unlock(&cgroup_host.lock);
	return kind;
}

int sandbox_cgroup_create(struct sandbox_cgroup *cg,
			  const struct sandbox_opts *opts, char *err,
			  size_t errlen)
{
	unsigned long long memory = opts->memory_max ? opts->memory_max :
				    SANDBOX_MEMORY_DEFAULT;
	unsigned long pids = opts->pids_max ? opts->pids_max :
			     SANDBOX_PIDS_DEFAULT;
	bool v2;
	int i, n;

	memset(cg, 0, sizeof(*cg));
	cg->dir[0] = cg->dir[1] = -1;
	cg->join[0] = cg->join[1] = -1;
	cg->oom_kills = -1;

	pthread_mutex_lock(&cgroup_host.lock);
	detect();
	cg->kind = cgroup_host.kind;
	pthread_mutex_unlock(&cgroup_host.lock);

	if (!cg->kind) {
		snprintf(cg->why, sizeof(cg->why), "%s", cgroup_host.why);
		return 0;
	}

	v2 = cg->kind == SANDBOX_LIMIT_CGROUP_V2;
	n = v2 ? 1 : 2;
	for (i = 0; i < n; i++)
		snprintf(cg->own[i], sizeof(cg->own[i]), "%s",
			 cgroup_host.parent[i]);
	if (claim_slot(cg, n, v2) < 0) {
		if (errno != EAGAIN)
			return fail(cg, err, errlen, "claiming a slot below",
				    cg->own[0]);
		snprintf(err, errlen, "command sandbox: cgroup: all %d slots "
			 "below %s/" CGROUP_PARENT " are in use; wait for commands "
			 "to end", CGROUP_SLOTS_MAX, cg->own[0]);
		sandbox_cgroup_destroy(cg);
		return -1;
	}
	for (i = 0; i < n && !v2; i++) {
		cg->join[i] = openat(cg->dir[i], "tasks", O_WRONLY | O_CLOEXEC);
		if (cg->join[i] < 0)
			return fail(cg, err, errlen, "opening tasks of", cg->name);
	}
	if (set_limits(cg, memory, pids, err, errlen) < 0)
		return -1;
	cg->oom_kills = oom_kill_count(cg);
	return 0;
}

int sandbox_cgroup_attach(struct sandbox_cgroup *cg, pid_t pid, char *err,
			  size_t errlen)
{
	char text[32];
	int i;

	if (cg->kind != SANDBOX_LIMIT_CGROUP_V2 || cg->attached)
		return 0;
	snprintf(text, sizeof(text), "%d", (int)pid);
	for (i = 0; i < 2 && cg->dir[i] >= 0; i++) {
		if (write_control(cg->dir[i], "cgroup.procs", text) < 0) {
			snprintf(err, errlen,
				 "command sandbox: cgroup: moving the sandbox into "
				 "%s/" CGROUP_PARENT "/%s failed (%s)",
				 cg->own[i], cg->name, strerror(errno));
			return -1;
		}
	}
	cg->attached = true;
	return 0;
}

/*
 * Give the slot back by closing its directory, which drops the lock. The
 * command has ended by then, so the slot is empty or its last tasks are
 * leaving, which the next claim checks.
 */
void sandbox_cgroup_destroy(struct sandbox_cgroup *cg)
{
	int i;

	for (i = 1; i >= 0; i--) {
		if (cg->join[i] >= 0)
			close(cg->join[i]);
		cg->join[i] = -1;
		if (cg->dir[i] >= 0)
			close(cg->dir[i]);
		cg->dir[i] = -1;
	}
}

const char *sandbox_limits_text(unsigned int limits, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s",
		 limits & SANDBOX_LIMIT_CGROUP_V2 ? "cgroup-v2 " : "",
		 limits & SANDBOX_LIMIT_CGROUP_V1 ? "cgroup-v1 " : "",
		 limits & SANDBOX_LIMIT_SANDBOX_UID ? "sandbox-uid " : "",
		 limits & SANDBOX_LIMIT_RLIMITS ? "rlimits" : "");
	return buf;
}
