/*
 * Roots outside the workspace: a Read or Write rule that names an
 * absolute or "~/" path (Read(~/notes/x.md), Write(/tmp/out/y)) lets the
 * broker reach the directory where its glob's literal start ends. Each
 * such directory is opened once, here, and every request beneath it is
 * resolved beneath that descriptor with openat2, so a symlink or ".."
 * inside it cannot lead further out. The policy still judges every path;
 * a root only makes a path reachable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "broker_internal.h"

int broker_rule_dir(const struct policy *p, const struct policy_rule *r,
		    char *dir, size_t size, bool *literal)
{
	char glob[BROKER_PATH_MAX];
	size_t n;
	int len;

	if (!r->pattern)
		return -1;
	if (r->pattern[0] == '/')
		len = snprintf(glob, sizeof(glob), "%s", r->pattern);
	else if (strncmp(r->pattern, "~/", 2) == 0 && p->home)
		len = snprintf(glob, sizeof(glob), "%s%s", p->home,
			       r->pattern + 1);
	else
		return -1;
	if (len < 0 || (size_t)len >= sizeof(glob))
		return -1;

	n = strcspn(glob, "*?[\\");
	*literal = glob[n] == '\0';
	glob[n] = '\0';
	if (!*literal) {
		/* Back to the last whole directory before the wildcard. */
		while (n > 1 && glob[n - 1] != '/')
			n--;
		glob[n > 1 ? n - 1 : 1] = '\0';
	}
	if (broker_fold_components(glob, true, dir + 1, size - 1) < 0)
		return -1;
	dir[0] = '/';
	return 0;
}

static bool root_known(const struct broker *b, const char *path)
{
	size_t i;

	for (i = 0; i < b->nroots; i++) {
		if (strcmp(b->roots[i].path, path) == 0)
			return true;
	}
	return false;
}

/*
 * Open dir as a root, unless it lies inside the workspace (those paths
 * are the workspace's) or does not exist. A literal rule names a file or
 * a directory: a directory is its own root, a file's parent is the root.
 */
static int root_add(struct broker *b, char *dir, bool literal, char *err,
		    size_t errlen)
{
	struct broker_root *r;
	struct stat st;
	char *real;
	int fd;

	if (literal && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		*strrchr(dir, '/') = '\0';
		if (dir[0] == '\0')
			snprintf(dir, 2, "/");
	}
	if (root_known(b, dir) || broker_beneath(b->root, dir))
		return 0;
	real = realpath(dir, NULL);
	if (!real)
		return 0;	/* nothing there yet: the rule reaches nothing */
	if (broker_beneath(b->root, real)) {
		free(real);
		return 0;
	}
	if (b->nroots == BROKER_ROOTS_MAX) {
		free(real);
		return broker_fail(err, errlen, "too many directories outside "
				   "the workspace in Read and Write rules "
				   "(at most %d); name a common parent "
				   "instead", BROKER_ROOTS_MAX);
	}
	fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		free(real);
		return 0;
	}
	r = &b->roots[b->nroots];
	r->fd = fd;
	r->real = real;
	r->path = strdup(dir);
	if (!r->path) {
		close(fd);
		free(real);
		return broker_fail(err, errlen, "out of memory");
	}
	b->nroots++;
	return 0;
}

int broker_add_roots(struct broker *b, const struct policy *p, char *err,
		     size_t errlen)
{
	const struct policy_rule *r;
	char dir[BROKER_PATH_MAX];
	bool literal;
	size_t i;

	for (i = 0; i < p->count; i++) {
		r = &p->rules[i];
		if ((r->tool != POLICY_READ && r->tool != POLICY_WRITE) ||
		    r->decision == POLICY_DENY || r->inactive)
			continue;
		if (broker_rule_dir(p, r, dir, sizeof(dir), &literal) < 0)
			continue;
		if (root_add(b, dir, literal, err, errlen) < 0)
			return -1;
	}
	if (b->nroots > 0 && p->home && !b->home) {
		b->home = strdup(p->home);
		if (!b->home)
			return broker_fail(err, errlen, "out of memory");
	}
	return 0;
}
