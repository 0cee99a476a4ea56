/*
 * Masks over secrets in the command sandbox's view: credential folders in
 * the caller's home and .env files at the top of the workspace. A folder
 * becomes an empty read-only tmpfs, a file a read-only bind of an empty
 * regular file, so both read as empty and writes to them fail. Runs
 * inside the child's mount namespace, after the read-only root is
 * attached and before pivot_root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "lib/envfile.h"
#include "supervisor/sandbox_internal.h"
#include "supervisor/sandbox_sys.h"

#define MASK_PATH_MAX 4096

/*
 * Relative to the caller's home directory: the home entries of the
 * policy's protected list (policy/protected.c), each with its entry there,
 * and whole folders for .docker and .kube.
 */
static const struct {
	const char *name;
	const char *entry;
} home_secrets[] = {
	{ ".ssh", "~/.ssh/**" },
	{ ".aws", "~/.aws/**" },
	{ ".config/gcloud", "~/.config/gcloud/**" },
	{ ".azure", "~/.azure/**" },
	{ ".gnupg", "~/.gnupg/**" },
	{ ".config/coworker", "~/.config/coworker/**" },
	{ ".netrc", "~/.netrc" },
	{ ".git-credentials", "~/.git-credentials" },
	{ ".docker", "~/.docker/config.json" },
	{ ".kube", "~/.kube/config" },
	{ ".config/gh", "~/.config/gh/**" },
	{ ".npmrc", "~/.npmrc" },
	{ ".pypirc", "~/.pypirc" },
	{ ".cargo/credentials", "~/.cargo/credentials" },
	{ ".cargo/credentials.toml", "~/.cargo/credentials.toml" },
	{ ".gem/credentials", "~/.gem/credentials" },
	{ ".pgpass", "~/.pgpass" },
	{ ".vault-token", "~/.vault-token" },
	{ ".terraform.d/credentials.tfrc.json",
	  "~/.terraform.d/credentials.tfrc.json" },
};

/* Check whether the user took entry off the protected list. */
static bool unmasked(const char *const *list, const char *entry)
{
	for (; list && *list; list++)
		if (strcmp(*list, entry) == 0)
			return true;
	return false;
}

static int mask_fail(char *err, size_t errlen, const char *step,
		     const char *path)
{
	snprintf(err, errlen,
		 "command sandbox: masking secrets: %s %s failed (%s)",
		 step, path, strerror(errno));
	return -1;
}

/*
 * Make a detached 4 KiB tmpfs with an empty root of mode 0555, mounted
 * nosuid, nodev, noexec and with the extra attributes. Returns its fd, or
 * -1 with err naming path, the mask it is for.
 */
static int small_tmpfs(unsigned int attrs, const char *path, char *err,
		       size_t errlen)
{
	int fs, mnt;

	fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return mask_fail(err, errlen, "fsopen tmpfs for", path);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0555", 0) < 0 ||
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		close(fs);
		return mask_fail(err, errlen, "creating a tmpfs for", path);
	}
	mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs | MOUNT_ATTR_NOSUID |
		      MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	close(fs);
	if (mnt < 0)
		return mask_fail(err, errlen, "fsmount tmpfs for", path);
	return mnt;
}

static int mask_dir(int target, const char *path, char *err, size_t errlen)
{
	int mnt, rc = -1;

	mnt = small_tmpfs(MOUNT_ATTR_RDONLY, path, err, errlen);
	if (mnt < 0)
		return -1;
	if (move_mount(mnt, "", target, "", MOVE_MOUNT_F_EMPTY_PATH |
		       MOVE_MOUNT_T_EMPTY_PATH) < 0)
		mask_fail(err, errlen, "mounting an empty tmpfs on", path);
	else
		rc = 0;
	close(mnt);
	return rc;
}

/*
 * Return a detached tmpfs that contains one empty file, "empty", made on the
 * first call in this process (pid 1 runs it once per sandbox). A bind of
 * /dev/null would also read as empty, but writes to it succeed and vanish,
 * and git stops at a device where it expects a file.
 */
static int empty_file_source(const char *path, char *err, size_t errlen)
{
	static int mnt = -1;
	int fd;

	if (mnt >= 0)
		return mnt;
	mnt = small_tmpfs(0, path, err, errlen);
	if (mnt < 0)
		return -1;
	fd = openat(mnt, "empty", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0) {
		mask_fail(err, errlen, "creating the empty file for", path);
		close(mnt);
		mnt = -1;
		return -1;
	}
	close(fd);
	return mnt;
}

static int mask_file(int target, const char *path, char *err, size_t errlen)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	int source, tree, rc = -1;

	source = empty_file_source(path, err, errlen);
	if (source < 0)
		return -1;
	tree = open_tree(source, "empty", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return mask_fail(err, errlen, "open_tree of the empty file for",
				 path);
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 ||
	    move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH |
		       MOVE_MOUNT_T_EMPTY_PATH) < 0)
		mask_fail(err, errlen, "binding an empty file on", path);
	else
		rc = 0;
	close(tree);
	return rc;
}

/*
 * Mask the absolute path as the view sees it. Symbolic links are followed
 * inside the view (RESOLVE_IN_ROOT), so the mask lands on what a command
 * would read through the link.
 */
static int mask_path(int root, const char *path, char *err, size_t errlen)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int fd, rc;

	fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == EACCES))
		return 0;
	if (fd < 0)
		return mask_fail(err, errlen, "opening", path);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return mask_fail(err, errlen, "stat of", path);
	}

	if (S_ISDIR(st.st_mode))
		rc = mask_dir(fd, path, err, errlen);
	else
		rc = mask_file(fd, path, err, errlen);
	close(fd);
	return rc;
}

int sandbox_mask_home(int root, const char *home, const char *workspace,
		      const char *const *keep, char *err, size_t errlen)
{
	size_t len = workspace ? strlen(workspace) : 0, i;
	char path[MASK_PATH_MAX];

	if (!home)
		return 0;
	for (i = 0; i < sizeof(home_secrets) / sizeof(home_secrets[0]); i++) {
		if (unmasked(keep, home_secrets[i].entry) ||
		    snprintf(path, sizeof(path), "%s/%s", home,
			     home_secrets[i].name) >= (int)sizeof(path))
			continue;
		if (workspace && (strncmp(path, workspace, len) != 0 ||
				  path[len] != '/'))
			continue;
		if (mask_path(root, path, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/*
 * Mask the entry name of the directory at dir_path when it starts with
 * .env, unless it is a committed template such as .env.example or the
 * user took its entry off the protected list.
 */
static int mask_env_entry(int root, const char *dir_path, const char *name,
			  const char *const *keep, char *err, size_t errlen)
{
	char path[MASK_PATH_MAX];

	if (strncmp(name, ".env", 4) != 0 || env_template_name(name) ||
	    (strcmp(name, ".env") == 0 && unmasked(keep, "**/.env")) ||
	    (name[4] == '.' && unmasked(keep, "**/.env.*")))
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s", dir_path, name) >=
	    (int)sizeof(path))
		return 0;
	return mask_path(root, path, err, errlen);
}

/*
 * Mask the .env* entries of the directory open as dir, whose path in the
 * view is path, and close dir. Entries are read with getdents64 into a
 * stack buffer, because the cloned child must not call malloc: another
 * thread of the supervisor may have held its lock at clone time.
 */
static int mask_env_in(int root, const char *path, int dir,
		       const char *const *keep, char *err, size_t errlen)
{
	char buf[8192];
	struct dirent64 *d;
	long n, pos;
	int rc = 0;

	while (rc == 0 && (n = syscall(SYS_getdents64, dir, buf,
				       sizeof(buf))) > 0) {
		for (pos = 0; rc == 0 && pos < n; pos += d->d_reclen) {
			d = (struct dirent64 *)(buf + pos);
			rc = mask_env_entry(root, path, d->d_name, keep, err,
					    errlen);
		}
	}
	if (rc == 0 && n < 0)
		rc = mask_fail(err, errlen, "listing", path);
	close(dir);
	return rc;
}

/*
 * Mask .env* entries at the top of the workspace.
 * NOTE: only the top level is searched; a .env in a subdirectory stays
 * readable.
 */
int sandbox_mask_workspace(int root, const char *workspace, int tree,
			   const char *const *keep, char *err, size_t errlen)
{
	int dir = openat(tree, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dir < 0)
		return mask_fail(err, errlen, "listing", workspace);
	return mask_env_in(root, workspace, dir, keep, err, errlen);
}

int sandbox_mask_ancestors(int root, const char *workspace,
			   const char *const *keep, char *err, size_t errlen)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char path[MASK_PATH_MAX];
	char *slash;
	int dir;

	if (snprintf(path, sizeof(path), "%s", workspace) >= (int)sizeof(path))
		return 0;
	while ((slash = strrchr(path, '/')) && slash != path) {
		*slash = '\0';
		/*
		 * NOTE: a directory pid 1 may not list (search-only, of
		 * another owner) is passed over. A .env in it stays readable
		 * to a command that guesses the name.
		 */
		dir = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
		if (dir < 0)
			continue;
		if (mask_env_in(root, path, dir, keep, err, errlen) < 0)
			return -1;
	}
	return 0;
}
