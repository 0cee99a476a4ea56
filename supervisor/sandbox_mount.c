/*
 * The command sandbox's mount namespace view, built inside the child with
 * the new mount API (open_tree, fsmount, move_mount, mount_setattr).
 *
 * Approach: first take detached clones of the workspace and of the few
 * device nodes, before anything else is mounted, so later masks cannot
 * hide a source. Then the namespace's own copy of the host's mounts, which
 * clone made, is made read-only, nosuid and nodev with one recursive
 * mount_setattr on "/", so no submount is writable in the view, however
 * many the host has. Everything else is mounted relative to "/" in this
 * order: /dev, tmpfs masks, /proc, the workspace and the read-only
 * protected paths inside it. The workspace comes after the masks, so a
 * workspace under /tmp or /dev/shm stays visible at its own path.
 *
 * A recursive clone of "/" attached on top and a pivot_root into it, as
 * this file did before, showed the same view. It cost a second copy of
 * every host mount, the pivot and the detach of the old root, which also
 * made the namespace's teardown longer (docs/benchmarks.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "supervisor/sandbox_internal.h"
#include "supervisor/sandbox_sys.h"

#define MOUNT_PATH_MAX 4096

static const char *const dev_nodes[SANDBOX_DEV_NODE_COUNT] = {
	"null", "zero", "full", "random", "urandom",
};
#define DEV_NODE_COUNT SANDBOX_DEV_NODE_COUNT

/*
 * Parts of the new /proc that would let uid 0 inside (the caller's uid
 * under a root supervisor) change the host kernel; kept read-only.
 */
static const char *const proc_read_only[] = {
	"sys", "sysrq-trigger", "irq", "bus",
};

static int fail(char *err, size_t errlen, const char *step, const char *path)
{
	int saved = errno;
	const char *fix = "";

	if (saved == EPERM || saved == EACCES)
		fix = "; the kernel or a security module does not allow this "
		      "mount in an unprivileged user namespace";
	else if (saved == ENOSYS)
		fix = "; the new mount API needs Linux 5.12 or later";

	snprintf(err, errlen,
		 "command sandbox: mount namespace: %s %s failed (%s)%s",
		 step, path, strerror(saved), fix);
	errno = saved;
	return -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void sandbox_mounts_close(struct sandbox_mounts *t)
{
	size_t i;

	close_fd(&t->root);
	close_fd(&t->workspace);
	for (i = 0; i < DEV_NODE_COUNT; i++)
		close_fd(&t->dev[i]);
}

static int set_attrs(int tree, unsigned int flags, unsigned long long attrs)
{
	struct mount_attr attr = { .attr_set = attrs };

	return mount_setattr(tree, "", AT_EMPTY_PATH | flags, &attr,
			     sizeof(attr));
}

/* Take every source before the view hides any of them. */
static int trees_clone(const struct sandbox_plan *plan, struct sandbox_mounts *t,
		       char *err, size_t errlen)
{
	const struct sandbox_opts *opts = plan->opts;
	const unsigned int rec = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
				 AT_RECURSIVE;
	char path[64];
	size_t i;

	t->root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->root < 0)
		return fail(err, errlen, "opening", "/");

	/*
	 * An idmapped workspace comes from the parent later; it is a detached
	 * tree, which no mask made here can hide.
	 */
	if (!plan->switch_ids) {
		t->workspace = open_tree(AT_FDCWD, opts->workspace, rec);
		if (t->workspace < 0)
			return fail(err, errlen, "open_tree", opts->workspace);
		if (opts->mode == SANDBOX_READ_ONLY &&
		    set_attrs(t->workspace, AT_RECURSIVE, MOUNT_ATTR_RDONLY) < 0)
			return fail(err, errlen, "mount_setattr read-only on",
				    opts->workspace);
	}

	for (i = 0; i < DEV_NODE_COUNT; i++) {
		snprintf(path, sizeof(path), "/dev/%s", dev_nodes[i]);
		t->dev[i] = open_tree(AT_FDCWD, path,
				      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (t->dev[i] < 0)
			return fail(err, errlen, "open_tree", path);
	}
	return 0;
}

/*
 * Mount a new tmpfs at path below dirfd. Returns the mount's fd, or -1.
 * A path that does not exist in the host root is skipped (returns -2),
 * because there is nothing to mask there.
 */
static int mount_tmpfs(int dirfd, const char *path, const char *mode,
		       const char *size, char *err, size_t errlen)
{
	struct stat st;
	int fs, mnt;

	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(st.st_mode))
		return -2;

	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return fail(err, errlen, "fsopen tmpfs for", path);

	if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0 ||
	    (size && fsconfig(fs, FSCONFIG_SET_STRING, "size", size, 0) < 0) ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		close(fs);
		return fail(err, errlen, "fsconfig tmpfs for", path);
	}

	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	close(fs);
	if (mnt < 0)
		return fail(err, errlen, "fsmount tmpfs for", path);

	if (move_mount(mnt, "", dirfd, path, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		close(mnt);
		return fail(err, errlen, "move_mount tmpfs onto", path);
	}
	return mnt;
}

/* A fresh /dev with only harmless nodes, read-only once populated. */
static int mount_dev(int root, struct sandbox_mounts *t, char *err,
		     size_t errlen)
{
	static const char *const links[][2] = {
		{ "fd", "/proc/self/fd" },
		{ "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" },
	};
	int dev, fd, rc = -1;
	size_t i;

	dev = mount_tmpfs(root, "dev", "0755", "64k", err, errlen);
	if (dev < 0)
		return dev == -2 ? fail(err, errlen, "finding", "/dev") : -1;

	for (i = 0; i < DEV_NODE_COUNT; i++) {
		fd = openat(dev, dev_nodes[i], O_CREAT | O_EXCL | O_WRONLY |
			    O_CLOEXEC, 0666);
		if (fd < 0) {
			fail(err, errlen, "creating /dev mount point", dev_nodes[i]);
			goto out;
		}
		close(fd);
		if (move_mount(t->dev[i], "", dev, dev_nodes[i],
			       MOVE_MOUNT_F_EMPTY_PATH) < 0) {
			fail(err, errlen, "bind mounting /dev/", dev_nodes[i]);
			goto out;
		}
	}

	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (symlinkat(links[i][1], dev, links[i][0]) < 0) {
			fail(err, errlen, "symlink in /dev", links[i][0]);
			goto out;
		}
	}

	if (mkdirat(dev, "shm", 0755) < 0 ||
	    set_attrs(dev, 0, MOUNT_ATTR_RDONLY) < 0) {
		fail(err, errlen, "finishing", "/dev");
		goto out;
	}
	rc = 0;
out:
	close(dev);
	return rc;
}

/*
 * Private writable tmpfs over the places where host processes leave unix
 * sockets or shared files: a read-only mount does not stop connect() on a
 * socket file, so these must be replaced, not just made read-only.
 */
static int mount_masks(int root, enum sandbox_mode mode, char *err,
		       size_t errlen)
{
	static const struct {
		const char *path, *mode, *size;
		bool scratch;	/* the host's copy stays in full access */
	} masks[] = {
		{ "dev/shm", "1777", SANDBOX_TMP_SIZE, false },
		{ "tmp", "1777", SANDBOX_TMP_SIZE, true },
		{ "var/tmp", "1777", SANDBOX_TMP_SIZE, true },
		{ "run", "0755", "1m", false },
		{ "var/run", "0755", "1m", false },
	};
	size_t i;
	int fd;

	/*
	 * NOTE: a mask path missing from the host, or a symbolic link there
	 * (usually /var/run -> /run), is skipped. The link's target is only
	 * masked when it is one of the paths in this table.
	 */
	for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		if (masks[i].scratch && mode == SANDBOX_FULL_ACCESS)
			continue;
		fd = mount_tmpfs(root, masks[i].path, masks[i].mode,
				 masks[i].size, err, errlen);
		if (fd == -1)
			return -1;
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

/* Whether path lies strictly below dir (both absolute and canonical). */
static bool path_below(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return strncmp(path, dir, len) == 0 && path[len] == '/';
}

/*
 * The caller's $XDG_RUNTIME_DIR contains its session's sockets (an SSH
 * agent, D-Bus, a rootless Docker). Below /run it is masked already;
 * elsewhere it gets a private tmpfs of its own. A path that is missing or
 * not a directory is left alone. One inside the workspace is masked again
 * once the workspace is mounted over it (workspace set).
 */
static int mask_runtime_dir(int root, const char *dir, const char *workspace,
			    char *err, size_t errlen)
{
	int fd;

	if (!dir || path_below(dir, "/run") || path_below(dir, "/var/run"))
		return 0;
	if (workspace && !path_below(dir, workspace))
		return 0;
	fd = mount_tmpfs(root, dir + 1, "0700", "1m", err, errlen);
	if (fd == -1)
		return -1;
	if (fd >= 0)
		close(fd);
	return 0;
}

/* A new /proc for the new pid namespace, kernel tunables read-only. */
static int mount_proc(int root, char *err, size_t errlen)
{
	int fs, mnt, tree, rc = -1;
	size_t i;

	fs = fsopen("proc", FSOPEN_CLOEXEC);
	if (fs < 0)
		return fail(err, errlen, "fsopen", "proc");
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		close(fs);
		return fail(err, errlen, "creating", "proc");
	}
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID |
		      MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	close(fs);
	if (mnt < 0)
		return fail(err, errlen, "fsmount", "proc");

	if (move_mount(mnt, "", root, "proc", MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		fail(err, errlen, "move_mount onto", "/proc");
		goto out;
	}

	for (i = 0; i < sizeof(proc_read_only) / sizeof(proc_read_only[0]); i++) {
		tree = open_tree(mnt, proc_read_only[i], OPEN_TREE_CLONE |
				 OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		if (tree < 0 && errno == ENOENT)
			continue;
		if (tree < 0 ||
		    set_attrs(tree, AT_RECURSIVE, MOUNT_ATTR_RDONLY) < 0 ||
		    move_mount(tree, "", mnt, proc_read_only[i],
			       MOVE_MOUNT_F_EMPTY_PATH) < 0) {
			if (tree >= 0)
				close(tree);
			fail(err, errlen, "read-only bind of /proc/",
			     proc_read_only[i]);
			goto out;
		}
		close(tree);
	}
	rc = 0;
out:
	close(mnt);
	return rc;
}

/*
 * Open, creating where missing, the directory at the absolute canonical
 * path inside the view. Directories are only created on the tmpfs masks,
 * because everything else is read-only.
 */
static int open_mount_point(int root, const char *path, char *err,
			    size_t errlen)
{
	char copy[MOUNT_PATH_MAX];
	char *name, *slash;
	int dir, next;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		errno = ENAMETOOLONG;
		return fail(err, errlen, "opening", path);
	}

	dir = dup(root);
	for (name = copy + 1; dir >= 0 && *name; name = slash) {
		slash = strchr(name, '/');
		if (slash)
			*slash++ = '\0';
		else
			slash = name + strlen(name);

		if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
			break;
		next = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		close(dir);
		dir = next;
	}
	if (dir < 0 || *name) {
		fail(err, errlen, "creating the mount point", path);
		if (dir >= 0)
			close(dir);
		return -1;
	}
	return dir;
}

/* Hide the workspace's first unsearchable ancestor under an empty tmpfs. */
static int hide_ancestor(int root, const struct sandbox_plan *plan,
			 char *err, size_t errlen)
{
	char path[MOUNT_PATH_MAX];
	int fd;

	if (plan->hide_len < 2 || plan->hide_len >= sizeof(path))
		return 0;
	memcpy(path, plan->opts->workspace + 1, plan->hide_len - 1);
	path[plan->hide_len - 1] = '\0';
	fd = mount_tmpfs(root, path, "0755", "1m", err, errlen);
	if (fd == -1)
		return -1;
	if (fd >= 0)
		close(fd);
	return 0;
}

static int mount_workspace(int root, const struct sandbox_opts *opts,
			   struct sandbox_mounts *t, char *err, size_t errlen)
{
	int point = open_mount_point(root, opts->workspace, err, errlen);
	int rc = 0;

	if (point < 0)
		return -1;
	if (move_mount(t->workspace, "", point, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		rc = fail(err, errlen, "bind mounting the workspace", opts->workspace);
	close(point);
	return rc;
}

/*
 * Bind one protected path read-only over itself. The lookup stays beneath
 * the workspace and follows no symbolic link, because a link would put the
 * read-only mount on its target while the link itself stays replaceable.
 */
static int protect_path(int workspace, const char *rel, char *err,
			size_t errlen)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	int fd, tree, rc = -1;

	fd = (int)syscall(SYS_openat2, workspace, rel, &how, sizeof(how));
	/* The parent holds a placeholder for the first missing component. */
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	if (fd < 0 && errno == ELOOP) {
		snprintf(err, errlen,
			 "command sandbox: protected path %s is or passes through "
			 "a symbolic link, so it cannot be kept read-only; replace "
			 "the link with the directory or file itself", rel);
		return -1;
	}
	if (fd < 0)
		return fail(err, errlen, "opening the protected path", rel);

	tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
			 AT_RECURSIVE | AT_EMPTY_PATH);
	if (tree < 0 ||
	    set_attrs(tree, AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
		      MOUNT_ATTR_NODEV) < 0 ||
	    move_mount(tree, "", fd, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		fail(err, errlen, "read-only bind of the protected path", rel);
		goto out;
	}
	rc = 0;
out:
	if (tree >= 0)
		close(tree);
	close(fd);
	return rc;
}

/*
 * Bind each existing directory above a protected path (".git" above
 * ".git/hooks") onto itself, writable. A mount point cannot be renamed or
 * removed, so the command cannot move ".git" aside and build a new one
 * with its own hooks. done collects the directories already bound.
 */
static int pin_parents(int workspace, const char *rel,
		       char done[][SANDBOX_PLACEHOLDER_PATH_MAX],
		       size_t *ndone, char *err, size_t errlen)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	char prefix[SANDBOX_PLACEHOLDER_PATH_MAX];
	const char *slash;
	int fd, tree;
	size_t i, len;

	for (slash = strchr(rel, '/'); slash && slash[1];
	     slash = strchr(slash + 1, '/')) {
		len = (size_t)(slash - rel);
		if (len >= sizeof(prefix))
			return 0;
		snprintf(prefix, sizeof(prefix), "%.*s", (int)len, rel);
		for (i = 0; i < *ndone && strcmp(done[i], prefix) != 0; i++)
			;
		if (i < *ndone || *ndone == SANDBOX_PLACEHOLDER_MAX)
			continue;

		fd = (int)syscall(SYS_openat2, workspace, prefix, &how, sizeof(how));
		if (fd < 0)
			return 0;	/* missing: the placeholder covers it */
		tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
				 AT_RECURSIVE | AT_EMPTY_PATH);
		if (tree < 0 ||
		    move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH |
			       MOVE_MOUNT_T_EMPTY_PATH) < 0) {
			fail(err, errlen, "pinning the directory", prefix);
			if (tree >= 0)
				close(tree);
			close(fd);
			return -1;
		}
		close(tree);
		close(fd);
		snprintf(done[(*ndone)++], SANDBOX_PLACEHOLDER_PATH_MAX, "%s",
			 prefix);
	}
	return 0;
}

/* Whether rel, without a trailing slash, is one of the placeholders. */
static bool listed_as_placeholder(const struct sandbox_plan *plan,
				  const char *rel)
{
	const char *const *ph;
	size_t len = strlen(rel);

	if (len > 0 && rel[len - 1] == '/')
		len--;
	for (ph = plan->placeholders; ph && *ph; ph++)
		if (strlen(*ph) == len && strncmp(*ph, rel, len) == 0)
			return true;
	return false;
}

static int mount_protected(const struct sandbox_plan *plan, int workspace,
			   char *err, size_t errlen)
{
	char pinned[SANDBOX_PLACEHOLDER_MAX][SANDBOX_PLACEHOLDER_PATH_MAX];
	const char *const *rel;
	size_t npinned = 0;

	/* A placeholder is bound read-only whole, so it needs no pin. */
	for (rel = plan->placeholders; rel && *rel; rel++)
		if (npinned < SANDBOX_PLACEHOLDER_MAX)
			snprintf(pinned[npinned++], sizeof(pinned[0]), "%s", *rel);
	for (rel = plan->opts->protected_paths; rel && *rel; rel++) {
		if (pin_parents(workspace, *rel, pinned, &npinned, err,
				errlen) < 0)
			return -1;
	}

	for (rel = plan->placeholders; rel && *rel; rel++) {
		if (protect_path(workspace, *rel, err, errlen) < 0)
			return -1;
	}
	/* One read-only bind per path: a placeholder has had its own. */
	for (rel = plan->opts->protected_paths; rel && *rel; rel++) {
		if (!listed_as_placeholder(plan, *rel) &&
		    protect_path(workspace, *rel, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int sandbox_mount_begin(const struct sandbox_plan *plan,
			struct sandbox_mounts *m, char *err, size_t errlen)
{
	const struct sandbox_opts *opts = plan->opts;
	unsigned long long root_attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	size_t i;

	m->root = m->workspace = -1;
	for (i = 0; i < DEV_NODE_COUNT; i++)
		m->dev[i] = -1;

	/* Nothing mounted from here on may propagate back to the host. */
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(err, errlen, "making private", "/");

	if (trees_clone(plan, m, err, errlen) < 0)
		return -1;

	if (opts->mode != SANDBOX_FULL_ACCESS)
		root_attrs |= MOUNT_ATTR_RDONLY;
	if (set_attrs(m->root, AT_RECURSIVE, root_attrs) < 0)
		return fail(err, errlen, "mount_setattr read-only on", "/");
	sandbox_trace(plan->trace_t0, "pid 1: root made read-only");

	if (mount_dev(m->root, m, err, errlen) < 0)
		return -1;
	sandbox_trace(plan->trace_t0, "pid 1: /dev");
	if (mount_masks(m->root, opts->mode, err, errlen) < 0 ||
	    mask_runtime_dir(m->root, plan->runtime_dir, NULL, err, errlen) < 0 ||
	    sandbox_mask_home(m->root, plan->home, NULL, opts->unmasked, err,
			      errlen) < 0 ||
	    sandbox_mask_ancestors(m->root, opts->workspace, opts->unmasked,
				   err, errlen) < 0)
		return -1;
	sandbox_trace(plan->trace_t0, "pid 1: tmpfs masks, home secrets");
	if (mount_proc(m->root, err, errlen) < 0)
		return -1;
	sandbox_trace(plan->trace_t0, "pid 1: /proc");
	return 0;
}

int sandbox_mount_finish(const struct sandbox_plan *plan,
			 struct sandbox_mounts *m, char *err, size_t errlen)
{
	const struct sandbox_opts *opts = plan->opts;
	int rc = -1;

	/* The parent made it when it had to be idmapped. */
	if (m->workspace < 0) {
		m->workspace = plan->workspace_tree >= 0 ?
			fcntl(plan->workspace_tree, F_DUPFD_CLOEXEC, 3) : -1;
		if (m->workspace < 0) {
			if (plan->workspace_tree < 0)
				errno = EBADF;
			fail(err, errlen, "taking the idmapped workspace tree of",
			     opts->workspace);
			goto out;
		}
	}

	if (hide_ancestor(m->root, plan, err, errlen) < 0 ||
	    mount_workspace(m->root, opts, m, err, errlen) < 0 ||
	    sandbox_mask_workspace(m->root, opts->workspace, m->workspace,
				   opts->unmasked, err, errlen) < 0 ||
	    mask_runtime_dir(m->root, plan->runtime_dir, opts->workspace, err,
			     errlen) < 0 ||
	    sandbox_mask_home(m->root, plan->home, opts->workspace,
			      opts->unmasked, err, errlen) < 0 ||
	    mount_protected(plan, m->workspace, err, errlen) < 0)
		goto out;
	sandbox_trace(plan->trace_t0, "pid 1: workspace, .env masks, protected");
	if (chdir("/") < 0) {
		fail(err, errlen, "changing directory to", "/");
		goto out;
	}
	rc = 0;
out:
	sandbox_mounts_close(m);
	return rc;
}
