/*
 * The command sandbox's preparation on the host side, in the parent before
 * clone: placeholders for missing protected directories, and under a root
 * supervisor the idmapped workspace and the ancestor to hide.
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

#define HOST_PATH_MAX 4096

/*
 * Create an empty directory for a protected path written with a trailing
 * "/" that does not exist yet, so there is something to bind read-only
 * over and the command cannot create it. The directory is left in the
 * workspace: no mount inside the sandbox can make a name that does not
 * exist on disk unwritable without hiding its parent directory. Only the
 * parent's existence is required; the lookup stays beneath the workspace
 * and follows no symbolic link.
 */
static int make_placeholder(int workspace, const char *rel, char *err,
			    size_t errlen)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	char parent[HOST_PATH_MAX], *name;
	size_t len = strlen(rel);
	int dir;

	if (len < 2 || rel[len - 1] != '/' || len >= sizeof(parent))
		return 0;
	memcpy(parent, rel, len - 1);
	parent[len - 1] = '\0';
	name = strrchr(parent, '/');
	if (name) {
		*name++ = '\0';
	} else {
		name = parent;
	}

	dir = (int)syscall(SYS_openat2, workspace, name == parent ? "." : parent,
			   &how, sizeof(how));
	if (dir < 0)
		return 0;	/* no parent: nothing a command could use */
	if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen,
			 "command sandbox: creating the read-only placeholder %s "
			 "failed (%s); create it yourself or make its parent "
			 "directory writable", rel, strerror(errno));
		close(dir);
		return -1;
	}
	close(dir);
	return 0;
}

static int make_placeholders(const struct sandbox_opts *opts, char *err,
			     size_t errlen)
{
	const char *const *rel;
	int ws, rc = 0;

	if (!opts->protected_paths || opts->mode == SANDBOX_READ_ONLY)
		return 0;
	ws = open(opts->workspace, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ws < 0) {
		snprintf(err, errlen, "command sandbox: opening the workspace "
			 "%s failed (%s)", opts->workspace, strerror(errno));
		return -1;
	}
	for (rel = opts->protected_paths; rc == 0 && *rel; rel++)
		rc = make_placeholder(ws, *rel, err, errlen);
	close(ws);
	return rc;
}

/* Whether the sandbox ids may search a directory with this stat. */
static bool searchable(const struct stat *st)
{
	if (st->st_uid == SANDBOX_HOST_UID)
		return st->st_mode & S_IXUSR;
	if (st->st_gid == SANDBOX_HOST_GID)
		return st->st_mode & S_IXGRP;
	return st->st_mode & S_IXOTH;
}

/*
 * Find the first ancestor of the workspace that the sandbox uid cannot
 * search (root's home is usually 0700). The child hides it under an empty
 * tmpfs and rebuilds the path to the workspace inside, so the workspace is
 * reachable while the rest of that ancestor is not shown.
 */
static void find_hidden_ancestor(struct sandbox_plan *plan)
{
	const char *ws = plan->opts->workspace;
	char prefix[HOST_PATH_MAX];
	const char *slash;
	struct stat st;
	size_t len;

	plan->hide_len = 0;
	for (slash = strchr(ws + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		len = (size_t)(slash - ws);
		if (len >= sizeof(prefix))
			return;
		memcpy(prefix, ws, len);
		prefix[len] = '\0';
		if (stat(prefix, &st) == 0 && !searchable(&st)) {
			plan->hide_len = len;
			return;
		}
	}
}

int sandbox_prepare_host(struct sandbox_plan *plan, char *err, size_t errlen)
{
	if (make_placeholders(plan->opts, err, errlen) < 0)
		return -1;
	if (!plan->switch_ids)
		return 0;
	find_hidden_ancestor(plan);
	return sandbox_idmap_workspace(plan->opts, &plan->workspace_tree, err,
				       errlen);
}
