/*
 * The command sandbox's preparation on the host side, in the parent:
 * placeholders for missing protected paths, and under a root supervisor
 * the idmapped workspace and the ancestor to hide. Only the ancestor is
 * found before clone. The rest runs while the child builds its mounts,
 * and reaches the child over the sync socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "supervisor/sandbox_internal.h"

#define HOST_PATH_MAX 4096

/*
 * Placeholders for protected paths that do not exist yet. A mount needs
 * an existing name, so the first missing component of each protected path
 * (".gitmodules", or ".git" when there is no repository) gets an empty
 * directory for the time of the command, bound read-only in the sandbox
 * like the other protected paths. git ignores empty directories, and
 * treats an empty ".git" as no repository at all, so nothing shows up in
 * "git status" outside while it exists. Each placeholder carries the
 * sticky bit and no write bit (PLACEHOLDER_MODE) from its mkdir on, so
 * another sandbox, or a later command that finds one a killed supervisor
 * left, can tell it from a directory the user made.
 *
 * Several sandboxes (of one supervisor or of several) may share one
 * placeholder. Each holds a shared flock on it for as long as its
 * command runs; the last one takes the lock exclusively and removes the
 * directory. Removing a directory that is a mount point in another mount
 * namespace detaches those mounts, so removal must never race a sandbox
 * that still uses it. A sandbox that got its shared lock checks that the
 * name still refers to the locked directory, and starts again when a
 * remover came first.
 */
#define PLACEHOLDER_MODE (S_ISVTX | 0555)
#define PLACEHOLDER_TRIES 8

/*
 * The umask may clear permission bits of a new placeholder but never its
 * sticky bit, so the test does not need the exact mode.
 */
static bool is_placeholder(const struct stat *st)
{
	return S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) &&
	       !(st->st_mode & 0222);
}

/*
 * Make or reuse the placeholder name in dir and lock it shared. Returns
 * its fd, or -1 with errno set: EEXIST when name is now something of the
 * user's, which needs no placeholder.
 */
static int placeholder_hold(int dir, const char *name)
{
	struct stat held, now;
	int fd, tries;

	for (tries = 0; tries < PLACEHOLDER_TRIES; tries++) {
		if (mkdirat(dir, name, PLACEHOLDER_MODE) < 0 && errno != EEXIST)
			return -1;
		fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
		/* Removed by the last sandbox that held it: make it again. */
		if (fd < 0 && errno == ENOENT)
			continue;
		/* A file or a symbolic link of the user's. */
		if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
			errno = EEXIST;
		if (fd < 0)
			return -1;
		if (fstat(fd, &held) < 0) {
			close(fd);
			return -1;
		}
		if (!is_placeholder(&held)) {
			close(fd);
			errno = EEXIST;
			return -1;
		}
		if (((held.st_mode & 07777) != PLACEHOLDER_MODE &&
		     fchmod(fd, PLACEHOLDER_MODE) < 0) ||
		    flock(fd, LOCK_SH) < 0) {
			close(fd);
			return -1;
		}
		/* A remover that held the lock before us may have unlinked it. */
		if (fstat(fd, &held) == 0 && held.st_nlink > 0 &&
		    fstatat(dir, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now.st_dev == held.st_dev && now.st_ino == held.st_ino)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

/*
 * Find the first missing component of rel below the workspace and hold a
 * placeholder there. Nothing is needed when rel exists, or when a
 * component is a file, which no command can create children of.
 */
static int placeholder_for(int workspace, const char *ws_path,
			   const char *rel, struct sandbox_placeholders *ph,
			   char *err, size_t errlen)
{
	char path[SANDBOX_PLACEHOLDER_PATH_MAX], *name, *slash;
	struct stat st;
	int dir, next, fd, rc = -1;
	size_t i, len;

	if (snprintf(path, sizeof(path), "%s", rel) >= (int)sizeof(path))
		return 0;
	dir = dup(workspace);
	for (name = path; dir >= 0 && *name; name = slash) {
		slash = strchr(name, '/');
		if (slash)
			*slash++ = '\0';
		else
			slash = name + strlen(name);
		if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			break;
		/* Ours or a killed supervisor's: held again, not entered. */
		if (is_placeholder(&st)) {
			errno = ENOENT;
			break;
		}
		/* A symbolic link is rejected by the child, a file ends it. */
		if (!S_ISDIR(st.st_mode) || !*slash)
			goto done;
		next = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		close(dir);
		dir = next;
	}
	if (dir < 0 || errno != ENOENT)
		goto fail;

	/* The prefix of rel up to the missing component; others may share it. */
	len = (size_t)(name - path) + strlen(name);
	for (i = 0; i < ph->count; i++)
		if (strlen(ph->rel[i]) == len &&
		    strncmp(ph->rel[i], rel, len) == 0)
			goto done;
	if (ph->count == SANDBOX_PLACEHOLDER_MAX) {
		errno = ENOSPC;
		goto fail;
	}
	fd = placeholder_hold(dir, name);
	if (fd < 0 && errno == EEXIST)
		goto done;
	if (fd < 0)
		goto fail;
	snprintf(ph->rel[ph->count], sizeof(ph->rel[0]), "%.*s", (int)len, rel);
	ph->fd[ph->count] = fd;
	ph->parent[ph->count] = dir;
	ph->list[ph->count] = ph->rel[ph->count];
	ph->count++;
	ph->list[ph->count] = NULL;
	return 0;
done:
	rc = 0;
fail:
	if (rc < 0)
		snprintf(err, errlen,
			 "command sandbox: creating the read-only placeholder for "
			 "the protected path %s in %s failed (%s); create it "
			 "yourself, make its directory writable, or use "
			 "--mode read-only", rel, ws_path, strerror(errno));
	if (dir >= 0)
		close(dir);
	return rc;
}

static int make_placeholders(const struct sandbox_opts *opts,
			     struct sandbox_placeholders *ph, char *err,
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
		rc = placeholder_for(ws, opts->workspace, *rel, ph, err, errlen);
	close(ws);
	return rc;
}

void sandbox_placeholders_init(struct sandbox_placeholders *ph)
{
	memset(ph, 0, sizeof(*ph));
}

/*
 * Remove the placeholders no other sandbox holds. Called once the
 * sandbox's processes are gone, so its mounts on them are too. A
 * placeholder the user filled in the meantime stays (ENOTEMPTY).
 */
void sandbox_placeholders_release(struct sandbox_placeholders *ph)
{
	const char *name;
	size_t i;

	for (i = ph->count; i-- > 0;) {
		name = strrchr(ph->rel[i], '/');
		name = name ? name + 1 : ph->rel[i];
		if (flock(ph->fd[i], LOCK_EX | LOCK_NB) == 0)
			unlinkat(ph->parent[i], name, AT_REMOVEDIR);
		close(ph->fd[i]);
		close(ph->parent[i]);
	}
	sandbox_placeholders_init(ph);
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

void sandbox_prepare_early(struct sandbox_plan *plan)
{
	if (plan->switch_ids)
		find_hidden_ancestor(plan);
}

int sandbox_prepare_host(struct sandbox_plan *plan,
			 struct sandbox_placeholders *ph, char *err,
			 size_t errlen)
{
	if (make_placeholders(plan->opts, ph, err, errlen) < 0)
		return -1;
	plan->placeholders = ph->list;
	sandbox_trace(plan->trace_t0, "parent: placeholders");
	if (!plan->switch_ids)
		return 0;
	if (sandbox_idmap_workspace(plan->opts, &plan->workspace_tree, err,
				    errlen) < 0)
		return -1;
	sandbox_trace(plan->trace_t0, "parent: idmapped workspace");
	return 0;
}

int sandbox_host_send(int sock, const struct sandbox_plan *plan, char *err,
		      size_t errlen)
{
	const int sources[3] = { plan->workspace_tree, plan->cgroup_join[0],
				 plan->cgroup_join[1] };
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} control;
	char names[SANDBOX_HOST_NAMES_MAX];
	struct sandbox_host_msg head = { 0 };
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
	const char *const *rel;
	struct cmsghdr *cmsg;
	int fds[3], i, nfds = 0;
	size_t len = 0, n;

	for (rel = plan->placeholders; rel && *rel; rel++) {
		n = strlen(*rel) + 1;
		if (len + n > sizeof(names))
			break;
		memcpy(names + len, *rel, n);
		len += n;
		head.count++;
	}
	head.len = (uint16_t)len;
	for (i = 0; i < 3; i++) {
		if (sources[i] < 0)
			continue;
		head.fds |= (uint8_t)(1U << i);
		fds[nfds++] = sources[i];
	}

	iov[0] = (struct iovec){ .iov_base = &head, .iov_len = sizeof(head) };
	iov[1] = (struct iovec){ .iov_base = names, .iov_len = len };
	if (nfds) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, (size_t)nfds * sizeof(int));
	}
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)(sizeof(head) + len))
		return 0;
	snprintf(err, errlen, "command sandbox: handing the workspace, "
		 "placeholders and cgroup to the sandbox init failed (%s)",
		 strerror(errno));
	return -1;
}
