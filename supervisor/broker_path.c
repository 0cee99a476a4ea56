/*
 * Path handling for the file broker: lexical normalisation, the protected
 * list, and resolution beneath the workspace (or a root outside it) with
 * openat2.
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
	b->home = NULL;
	b->nroots = 0;
	b->cache = calloc(1, sizeof(*b->cache));
	if (!b->cache)
		return broker_fail(err, errlen, "out of memory");
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
	size_t i;

	if (b->root_fd >= 0)
		close(b->root_fd);
	b->root_fd = -1;
	for (i = 0; i < b->nroots; i++) {
		close(b->roots[i].fd);
		free(b->roots[i].path);
		free(b->roots[i].real);
	}
	b->nroots = 0;
	free(b->home);
	b->home = NULL;
	broker_cache_free(b->cache);
	b->cache = NULL;
}

const char *broker_beneath(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/' ? path + 1 : NULL;
	if (strncmp(path, dir, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return "";
	return path[n] == '/' ? path + n + 1 : NULL;
}

int broker_join(const char *dir, const char *sub, char *out, size_t size)
{
	const char *sep = "/";
	int n;

	if (sub[0] == '\0' || strcmp(sub, ".") == 0)
		n = snprintf(out, size, "%s", dir);
	else if (dir[0] == '\0')
		n = snprintf(out, size, "%s", sub);
	else {
		if (dir[strlen(dir) - 1] == '/')
			sep = "";
		n = snprintf(out, size, "%s%s%s", dir, sep, sub);
	}
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/*
 * The outermost root holding abs, so that a symlink from a nested root
 * to elsewhere in the outer one still resolves.
 */
const struct broker_root *broker_root_of(const struct broker *b,
					 const char *abs)
{
	const struct broker_root *best = NULL;
	size_t i;

	for (i = 0; i < b->nroots; i++) {
		if (!broker_beneath(b->roots[i].path, abs))
			continue;
		if (!best || strlen(b->roots[i].path) < strlen(best->path))
			best = &b->roots[i];
	}
	return best;
}

int broker_base(const struct broker *b, const char *rel, const char **sub)
{
	const struct broker_root *r;

	if (rel[0] != '/') {
		*sub = rel;
		return b->root_fd;
	}
	r = broker_root_of(b, rel);
	if (!r) {
		errno = EXDEV;
		return -1;
	}
	*sub = broker_beneath(r->path, rel);
	if (**sub == '\0')
		*sub = ".";
	return r->fd;
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

int broker_fold_components(const char *p, bool absolute, char *rel,
			   size_t relsize)
{
	size_t len = 0, n;
	int rc;

	rel[0] = '\0';
	while (*p) {
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		rc = push_component(rel, relsize, &len, p, n);
		if (rc == -1 && absolute)
			rc = 0;
		if (rc < 0)
			return rc;
		p += n;
	}
	return 0;
}

static enum broker_status normalize_absolute(const struct broker *b,
					     const char *path, char *rel,
					     size_t relsize, char *err,
					     size_t errlen)
{
	char abs[BROKER_PATH_MAX];
	const char *inside;

	if (broker_fold_components(path, true, abs + 1, sizeof(abs) - 1) < 0) {
		broker_fail(err, errlen, "invalid path: longer than %zu bytes",
			    sizeof(abs) - 2);
		return BROKER_FAILED;
	}
	abs[0] = '/';
	inside = broker_beneath(b->root, abs);
	if (inside) {
		snprintf(rel, relsize, "%s", inside[0] ? inside : ".");
		return BROKER_OK;
	}
	if (!broker_root_of(b, abs)) {
		broker_fail(err, errlen, "denied: \"%s\" is outside the "
			    "workspace", path);
		return BROKER_OUTSIDE;
	}
	if ((size_t)snprintf(rel, relsize, "%s", abs) >= relsize) {
		broker_fail(err, errlen, "invalid path: longer than %zu bytes",
			    relsize - 1);
		return BROKER_FAILED;
	}
	return BROKER_OK;
}

enum broker_status broker_normalize(const struct broker *b, const char *path,
				    char *rel, size_t relsize,
				    char *err, size_t errlen)
{
	char home[BROKER_PATH_MAX];
	const char *end;
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

	/*
	 * "~/" means the home directory, as in a shell and in the rules. It
	 * is reachable only where a rule made it a root (b->home set); else
	 * it is outside the workspace, not a folder named "~" inside it.
	 */
	if (strcmp(path, "~") == 0 || strncmp(path, "~/", 2) == 0) {
		if (!b->home) {
			broker_fail(err, errlen, "denied: \"%s\" is in the home "
				    "directory, outside the workspace", path);
			return BROKER_OUTSIDE;
		}
		if ((size_t)snprintf(home, sizeof(home), "%s%s", b->home,
				     path + 1) >= sizeof(home)) {
			broker_fail(err, errlen, "invalid path: too long");
			return BROKER_FAILED;
		}
		return normalize_absolute(b, home, rel, relsize, err, errlen);
	}
	if (path[0] == '/')
		return normalize_absolute(b, path, rel, relsize, err, errlen);

	rc = broker_fold_components(path, false, rel, relsize);
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
	if (rel[0] == '\0')
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

/*
 * Path of an open descriptor, from /proc/self/fd: relative inside the
 * workspace, absolute beneath a root.
 */
int broker_fd_relpath(const struct broker *b, int fd, char *real,
		      size_t realsize, char *err, size_t errlen)
{
	char link[64], target[BROKER_PATH_MAX];
	const char *inside;
	ssize_t n;
	size_t i;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return broker_fail(err, errlen, "readlink %s: %s", link,
				   strerror(errno));
	target[n] = '\0';
	inside = broker_beneath(b->root, target);
	if (inside) {
		snprintf(real, realsize, "%s", inside[0] ? inside : ".");
		return 0;
	}
	for (i = 0; i < b->nroots; i++) {
		inside = broker_beneath(b->roots[i].real, target);
		if (!inside)
			continue;
		/* Named as the rules name it, so they match the real file. */
		if (broker_join(b->roots[i].path, inside, real, realsize) < 0)
			return broker_fail(err, errlen, "resolved path is "
					   "too long");
		return 0;
	}
	return broker_fail(err, errlen, "resolved path is outside the "
			   "workspace");
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
	if (slash == rel) {
		snprintf(parent, parentsize, "/");
		*name = rel + 1;
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
	const char *name, *sub;
	int fd, base;

	base = broker_base(b, rel, &sub);
	if (base < 0)
		return broker_fail_errno("resolve", rel, errno, err, errlen);
	fd = broker_openat2(base, sub, O_PATH, 0);
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
	fd = broker_openat2(base, sub, O_PATH | O_NOFOLLOW, 0);
	if (fd >= 0) {
		close(fd);
		broker_fail(err, errlen, "denied: \"%s\" is a dangling symlink",
			    rel);
		return BROKER_FAILED;
	}
	if (strcmp(rel, ".") == 0 || strcmp(parent, rel) == 0 ||
	    strcmp(sub, ".") == 0)
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
