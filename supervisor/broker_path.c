/*
 * Path handling for the file broker: lexical normalisation, the protected
 * list, and resolution beneath the workspace with openat2.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "broker.h"
#include "broker_internal.h"

int broker_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int broker_openat2(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	/* openat2 rejects O_NOCTTY next to O_PATH with EINVAL. */
	if (!(flags & O_PATH))
		flags |= O_NOCTTY;
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.mode = (flags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int broker_open(struct broker *b, const char *workspace, char *err,
		size_t errlen)
{
	char *real;

	b->root_fd = -1;
	real = realpath(workspace, NULL);
	if (!real)
		return broker_fail(err, errlen, "workspace \"%s\": %s",
				   workspace, strerror(errno));
	if (strlen(real) >= sizeof(b->root)) {
		free(real);
		return broker_fail(err, errlen, "workspace path is too long");
	}
	snprintf(b->root, sizeof(b->root), "%s", real);
	free(real);

	b->root_fd = open(b->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b->root_fd < 0)
		return broker_fail(err, errlen, "workspace \"%s\": %s",
				   b->root, strerror(errno));
	return 0;
}

void broker_close(struct broker *b)
{
	if (b->root_fd >= 0)
		close(b->root_fd);
	b->root_fd = -1;
}

/* Append one component to rel (of length *len), or pop one for "..". */
static int push_component(char *rel, size_t relsize, size_t *len,
			  const char *comp, size_t complen)
{
	char *slash;

	if (complen == 0 || (complen == 1 && comp[0] == '.'))
		return 0;
	if (complen == 2 && comp[0] == '.' && comp[1] == '.') {
		if (*len == 0)
			return -1;	/* would climb out of the workspace */
		slash = strrchr(rel, '/');
		*len = slash ? (size_t)(slash - rel) : 0;
		rel[*len] = '\0';
		return 0;
	}
	if (*len + (*len ? 1 : 0) + complen + 1 > relsize)
		return -2;
	if (*len)
		rel[(*len)++] = '/';
	memcpy(rel + *len, comp, complen);
	*len += complen;
	rel[*len] = '\0';
	return 0;
}

enum broker_status broker_normalize(const struct broker *b, const char *path,
				    char *rel, size_t relsize,
				    char *err, size_t errlen)
{
	size_t rootlen = strlen(b->root), len = 0, n;
	const char *p = path, *end;
	int rc;

	if (*path == '\0') {
		broker_fail(err, errlen, "invalid path: empty");
		return BROKER_FAILED;
	}
	for (end = path; *end; end++)
		if ((unsigned char)*end < 0x20 || *end == 0x7f) {
			broker_fail(err, errlen, "invalid path: it contains "
				    "a control character");
			return BROKER_FAILED;
		}

	if (path[0] == '/') {
		if (strncmp(path, b->root, rootlen) != 0 ||
		    (path[rootlen] != '\0' && path[rootlen] != '/')) {
			broker_fail(err, errlen, "denied: \"%s\" is outside the "
				    "workspace", path);
			return BROKER_OUTSIDE;
		}
		p = path + rootlen;
	}

	rel[0] = '\0';
	while (*p) {
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		rc = push_component(rel, relsize, &len, p, n);
		if (rc == -1) {
			broker_fail(err, errlen, "denied: \"%s\" is outside the "
				    "workspace", path);
			return BROKER_OUTSIDE;
		}
		if (rc == -2) {
			broker_fail(err, errlen, "invalid path: longer than %zu "
				    "bytes", relsize - 1);
			return BROKER_FAILED;
		}
		p += n;
	}
	if (len == 0)
		snprintf(rel, relsize, ".");
	return BROKER_OK;
}

/* True when rel has the component sequence a/b (b may be NULL) anywhere. */
static bool has_components(const char *rel, const char *a, const char *b)
{
	size_t alen = strlen(a), blen = b ? strlen(b) : 0;
	const char *p = rel;

	for (;;) {
		if (strncmp(p, a, alen) == 0) {
			const char *q = p + alen;

			if (!b && (*q == '\0' || *q == '/'))
				return true;
			if (b && *q == '/' && strncmp(q + 1, b, blen) == 0 &&
			    (q[1 + blen] == '\0' || q[1 + blen] == '/'))
				return true;
		}
		p = strchr(p, '/');
		if (!p)
			return false;
		p++;
	}
}

/*
 * Writing any of these would let a model widen its own permissions (the
 * policy in .coworker) or plant code that runs later outside the sandbox
 * (git hooks, and git config, which can name programs git runs).
 */
bool broker_is_protected(const char *rel)
{
	if (strcmp(rel, ".coworker") == 0 || strncmp(rel, ".coworker/", 10) == 0)
		return true;
	return has_components(rel, ".git", "hooks") ||
	       has_components(rel, ".git", "config");
}

/* Relative path of an open descriptor, from /proc/self/fd. */
int broker_fd_relpath(const struct broker *b, int fd, char *real,
		      size_t realsize, char *err, size_t errlen)
{
	char link[64], target[BROKER_PATH_MAX];
	size_t rootlen = strlen(b->root);
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return broker_fail(err, errlen, "readlink %s: %s", link,
				   strerror(errno));
	target[n] = '\0';
	if (strcmp(target, b->root) == 0) {
		snprintf(real, realsize, ".");
		return 0;
	}
	if (strncmp(target, b->root, rootlen) != 0 || target[rootlen] != '/')
		return broker_fail(err, errlen, "resolved path is outside "
				   "the workspace");
	if ((size_t)snprintf(real, realsize, "%s", target + rootlen + 1) >=
	    realsize)
		return broker_fail(err, errlen, "resolved path is too long");
	return 0;
}

/* Split rel into its parent ("." at top level) and final component. */
void broker_split(const char *rel, char *parent, size_t parentsize,
		  const char **name)
{
	const char *slash = strrchr(rel, '/');

	if (!slash) {
		snprintf(parent, parentsize, ".");
		*name = rel;
		return;
	}
	snprintf(parent, parentsize, "%.*s", (int)(slash - rel), rel);
	*name = slash + 1;
}

static enum broker_status errno_status(int e)
{
	if (e == EXDEV)
		return BROKER_OUTSIDE;
	if (e == ENOENT || e == ENOTDIR)
		return BROKER_NOT_FOUND;
	return BROKER_FAILED;
}

enum broker_status broker_fail_errno(const char *what, const char *rel, int e,
				     char *err, size_t errlen)
{
	enum broker_status st = errno_status(e);

	if (st == BROKER_OUTSIDE)
		broker_fail(err, errlen, "denied: \"%s\" leads outside the "
			    "workspace", rel);
	else if (st == BROKER_NOT_FOUND)
		broker_fail(err, errlen, "not found: \"%s\"", rel);
	else
		broker_fail(err, errlen, "%s \"%s\" failed: %s", what, rel,
			    strerror(e));
	return st;
}

enum broker_status broker_resolve(const struct broker *b, const char *rel,
				  char *real, size_t realsize,
				  char *err, size_t errlen)
{
	char parent[BROKER_PATH_MAX], preal[BROKER_PATH_MAX];
	const char *name;
	int fd;

	fd = broker_openat2(b->root_fd, rel, O_PATH, 0);
	if (fd >= 0) {
		if (broker_fd_relpath(b, fd, real, realsize, err, errlen) < 0) {
			close(fd);
			return BROKER_OUTSIDE;
		}
		close(fd);
		return BROKER_OK;
	}
	if (errno != ENOENT)
		return broker_fail_errno("resolve", rel, errno, err, errlen);

	/*
	 * The final component does not exist (or a dangling symlink does):
	 * resolve the nearest existing ancestor and append the rest. A
	 * dangling symlink as final component is refused, since following it
	 * on create could leave the workspace.
	 */
	broker_split(rel, parent, sizeof(parent), &name);
	fd = broker_openat2(b->root_fd, rel, O_PATH | O_NOFOLLOW, 0);
	if (fd >= 0) {
		close(fd);
		broker_fail(err, errlen, "denied: \"%s\" is a dangling symlink",
			    rel);
		return BROKER_FAILED;
	}
	if (strcmp(rel, ".") == 0 || strcmp(parent, rel) == 0)
		return broker_fail_errno("resolve", rel, ENOENT, err, errlen);
	if (strcmp(parent, ".") != 0) {
		enum broker_status st = broker_resolve(b, parent, preal,
						       sizeof(preal), err,
						       errlen);
		if (st != BROKER_OK)
			return st;
	} else {
		snprintf(preal, sizeof(preal), ".");
	}
	if (strcmp(preal, ".") == 0) {
		if ((size_t)snprintf(real, realsize, "%s", name) >= realsize)
			goto toolong;
	} else if ((size_t)snprintf(real, realsize, "%s/%s", preal, name) >=
		   realsize) {
		goto toolong;
	}
	return BROKER_OK;
toolong:
	broker_fail(err, errlen, "invalid path: too long");
	return BROKER_FAILED;
}
