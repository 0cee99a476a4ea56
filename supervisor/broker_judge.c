/*
 * Judging a path as the kernel sees the file, not only by its name.
 *
 * The policy matches names; two things let one file have names that the
 * rules do not see. A hardlink has no single real path, so the file's
 * inode is looked up among the inodes of denied and protected files. A
 * case-insensitive directory (ext4 or f2fs with casefold, vfat, exfat,
 * ...) makes ".ENV" the same file as ".env", so there the deny, ask and
 * protected rules compare folded names.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "broker.h"
#include "broker_internal.h"

/*
 * Maximum number of directory entries one search for hardlinks looks at. A
 * search that stops here leaves reads of multiply linked files it did not
 * find at ask.
 */
#define LINKS_SCAN_MAX 50000

/* Deepest directory the search for hardlinks descends into. */
#define LINKS_DEPTH_MAX 32

/* Filesystems that compare every name without case. */
#define EXFAT_MAGIC 0x2011BAB0
#define HFSPLUS_MAGIC 0x482b
#define CIFS_MAGIC 0xFF534D42
#define SMB2_MAGIC 0xFE534D42

/* Filesystems where a directory can be case-insensitive (FS_CASEFOLD_FL). */
#define F2FS_MAGIC 0xF2F52010
#define BCACHEFS_MAGIC 0xca451a4e

void broker_cache_free(struct broker_cache *c)
{
	if (!c)
		return;
	free(c->links);
	free(c);
}

void broker_forget(const struct broker *b)
{
	b->cache->policy = NULL;
	b->cache->nlinks = 0;
	b->cache->truncated = false;
}

/* Does the filesystem of directory fd, or fd itself, fold case? */
static bool dir_folds(int fd)
{
	struct statfs sf;
	int flags = 0;

	if (fstatfs(fd, &sf) < 0)
		return false;
	switch ((unsigned long)sf.f_type) {
	case MSDOS_SUPER_MAGIC:
	case EXFAT_MAGIC:
	case HFSPLUS_MAGIC:
	case CIFS_MAGIC:
	case SMB2_MAGIC:
	case SMB_SUPER_MAGIC:
		return true;
	case EXT4_SUPER_MAGIC:
	case F2FS_MAGIC:
	case TMPFS_MAGIC:
	case BCACHEFS_MAGIC:
		return ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
		       (flags & FS_CASEFOLD_FL);
	default:
		return false;
	}
}

/*
 * Open the deepest existing directory that contains real, beneath its base,
 * for reading (FS_IOC_GETFLAGS needs more than O_PATH).
 */
static int open_holding_dir(const struct broker *b, const char *real)
{
	char dir[BROKER_PATH_MAX], next[BROKER_PATH_MAX];
	const char *name, *sub;
	int base, fd;

	broker_split(real, dir, sizeof(dir), &name);
	for (;;) {
		base = broker_base(b, dir, &sub);
		if (base < 0)
			return -1;
		fd = broker_openat2(base, sub, O_RDONLY | O_DIRECTORY, 0);
		if (fd >= 0 || errno != ENOENT || strcmp(sub, ".") == 0)
			return fd;
		snprintf(next, sizeof(next), "%s", dir);
		broker_split(next, dir, sizeof(dir), &name);
	}
}

/*
 * Is any directory from the one holding real up to its base (workspace
 * or root) case-insensitive? Every level is checked, because casefold is
 * a per-directory flag and a subdirectory can have it cleared.
 */
static bool path_folds(const struct broker *b, const char *real)
{
	struct stat top, st;
	const char *sub;
	int fd, up, base, depth;
	bool folds = false;

	base = broker_base(b, real, &sub);
	if (base < 0 || fstat(base, &top) < 0)
		return false;
	fd = open_holding_dir(b, real);
	for (depth = 0; fd >= 0 && depth < BROKER_PATH_MAX / 2; depth++) {
		if (dir_folds(fd)) {
			folds = true;
			break;
		}
		if (fstat(fd, &st) < 0 ||
		    (st.st_dev == top.st_dev && st.st_ino == top.st_ino))
			break;
		up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = up;
	}
	if (fd >= 0)
		close(fd);
	return folds;
}

static struct policy_verdict decide_one(const struct policy *p,
					enum policy_tool tool,
					const char *path, bool fold)
{
	return fold ? policy_decide_path_folded(p, tool, path) :
		      policy_decide_path(p, tool, path);
}

static int link_add(struct broker_cache *c, const struct stat *st,
		    const struct policy_rule *read,
		    const struct policy_rule *write, bool protected)
{
	struct broker_link *grown;
	size_t cap;

	if (c->nlinks == c->cap) {
		cap = c->cap ? c->cap * 2 : 16;
		grown = realloc(c->links, cap * sizeof(*grown));
		if (!grown)
			return -1;
		c->links = grown;
		c->cap = cap;
	}
	c->links[c->nlinks].dev = st->st_dev;
	c->links[c->nlinks].ino = st->st_ino;
	c->links[c->nlinks].read = read;
	c->links[c->nlinks].write = write;
	c->links[c->nlinks].protected = protected;
	c->nlinks++;
	return 0;
}

/* Record the file at path when the policy or the broker denies it. */
static int link_note(struct broker_cache *c, const struct policy *p,
		     const char *path, const struct stat *st)
{
	struct policy_verdict r = policy_decide_path(p, POLICY_READ, path);
	struct policy_verdict w = policy_decide_path(p, POLICY_WRITE, path);
	bool protected = path[0] != '/' && broker_is_protected(path);

	if (r.decision != POLICY_DENY && w.decision != POLICY_DENY &&
	    !protected)
		return 0;
	return link_add(c, st,
			r.decision == POLICY_DENY ? r.rule : NULL,
			w.decision == POLICY_DENY ? w.rule : NULL, protected);
}

/* The state of one search for denied files. */
struct link_scan {
	struct broker_cache *cache;
	const struct policy *p;
	size_t budget;		/* entries left to look at */
	bool oom;
};

/* Note every denied regular file beneath directory fd (which is closed). */
static void scan_dir(struct link_scan *s, int fd, const char *prefix,
		     int depth)
{
	char path[BROKER_PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *dir = fdopendir(fd);
	int sub;

	if (!dir) {
		close(fd);
		return;
	}
	while (!s->oom && (e = readdir(dir))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (s->budget == 0) {
			s->cache->truncated = true;
			break;
		}
		s->budget--;
		if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    broker_join(prefix, e->d_name, path, sizeof(path)) < 0)
			continue;
		if (S_ISREG(st.st_mode) && link_note(s->cache, s->p, path,
						     &st) < 0)
			s->oom = true;
		if (!S_ISDIR(st.st_mode))
			continue;
		if (depth >= LINKS_DEPTH_MAX) {
			s->cache->truncated = true;
			continue;
		}
		sub = openat(dirfd(dir), e->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			scan_dir(s, sub, path, depth + 1);
	}
	closedir(dir);
}

/*
 * Search the place an absolute or "~/" deny or protected rule names: the
 * file itself for a literal rule, else the directory where the glob's
 * literal start ends.
 */
static void scan_rule(struct link_scan *s, const struct policy_rule *r)
{
	char dir[BROKER_PATH_MAX];
	struct stat st;
	bool literal;
	int fd;

	if (broker_rule_dir(s->p, r, dir, sizeof(dir), &literal) < 0)
		return;
	if (stat(dir, &st) < 0)
		return;
	if (S_ISREG(st.st_mode)) {
		if (link_note(s->cache, s->p, dir, &st) < 0)
			s->oom = true;
		return;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		scan_dir(s, fd, dir, 0);
}

/*
 * Collect the inodes of denied and protected files: every regular file in
 * the workspace that the policy denies or the broker never writes, and
 * the files that absolute and "~/" deny and protected rules name. When
 * memory runs out, the cache stays without a policy, which leaves reads
 * of multiply linked files at ask.
 */
static void links_collect(const struct broker *b, const struct policy *p)
{
	struct link_scan s = { b->cache, p, LINKS_SCAN_MAX, false };
	const struct policy_rule *r;
	size_t i;
	int fd;

	b->cache->nlinks = 0;
	b->cache->truncated = false;
	fd = openat(b->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		scan_dir(&s, fd, "", 0);
	for (i = 0; i < p->nprotected && !s.oom; i++)
		scan_rule(&s, &p->protected_rules[i]);
	for (i = 0; i < p->count && !s.oom; i++) {
		r = &p->rules[i];
		if ((r->tool == POLICY_READ || r->tool == POLICY_WRITE) &&
		    r->decision == POLICY_DENY)
			scan_rule(&s, r);
	}
	if (!s.oom)
		b->cache->policy = p;
}

static const struct broker_link *link_find(const struct broker_cache *c,
					   const struct stat *st)
{
	size_t i;

	for (i = 0; i < c->nlinks; i++) {
		if (c->links[i].dev == st->st_dev &&
		    c->links[i].ino == st->st_ino)
			return &c->links[i];
	}
	return NULL;
}

/*
 * The decision for a file with more than one link: a denied file's own
 * decision when real is another name of it, else ask for writes (and for
 * reads when the search could not look everywhere).
 */
static struct policy_verdict decide_links(const struct broker *b,
					  const struct policy *p,
					  enum policy_tool tool,
					  const char *real,
					  struct policy_verdict v)
{
	struct broker_cache *c = b->cache;
	const struct broker_link *l = NULL;
	const struct policy_rule *rule;
	const char *sub;
	struct stat st;
	int base, fd;
	bool unsure;

	base = broker_base(b, real, &sub);
	if (base < 0)
		return v;
	fd = broker_openat2(base, sub, O_PATH, 0);
	if (fd < 0)
		return v;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink < 2) {
		close(fd);
		return v;
	}
	close(fd);

	/*
	 * Collected once for the first policy judged here, the session's own,
	 * until broker_forget; other policies (a skill's allowed-tools) only
	 * narrow, so they skip the lookup.
	 */
	if (!c->policy)
		links_collect(b, p);
	if (c->policy == p)
		l = link_find(c, &st);
	unsure = c->policy == p ? c->truncated : !c->policy;
	rule = NULL;
	if (l)
		rule = tool == POLICY_READ ? l->read : l->write;
	if (rule) {
		snprintf(c->reason, sizeof(c->reason), "\"%s\" is a hardlink "
			 "of a file the policy denies", real);
		v.decision = POLICY_DENY;
		v.rule = rule;
		v.reason = c->reason;
		return v;
	}
	if (tool == POLICY_WRITE && l && l->protected) {
		snprintf(c->reason, sizeof(c->reason), "\"%s\" is a hardlink "
			 "of a file the broker never writes", real);
		v.decision = POLICY_DENY;
		v.rule = NULL;
		v.reason = c->reason;
		return v;
	}
	if (v.decision != POLICY_ALLOW)
		return v;
	if (tool == POLICY_WRITE)
		snprintf(c->reason, sizeof(c->reason), "\"%s\" has %lu links; "
			 "a write would change the other names too", real,
			 (unsigned long)st.st_nlink);
	else if (unsure)
		snprintf(c->reason, sizeof(c->reason), "\"%s\" has %lu links "
			 "and the search for its other names stopped after "
			 "%d entries", real, (unsigned long)st.st_nlink,
			 LINKS_SCAN_MAX);
	else
		return v;
	/* The links raise the decision, not the rule that allowed the name. */
	v.decision = POLICY_ASK;
	v.rule = NULL;
	v.reason = c->reason;
	return v;
}

struct policy_verdict broker_decide(const struct broker *b,
				    const struct policy *p,
				    enum policy_tool tool, const char *rel,
				    const char *real)
{
	bool fold = path_folds(b, real);
	struct policy_verdict v = decide_one(p, tool, rel, fold), w;

	if (strcmp(real, rel) != 0) {
		w = decide_one(p, tool, real, fold);
		if (w.decision > v.decision)
			v = w;
	}
	/* A root makes a path reachable; only a rule makes it allowed. */
	if (v.decision != POLICY_DENY && !v.rule && real[0] == '/') {
		snprintf(b->cache->reason, sizeof(b->cache->reason),
			 "denied: \"%s\" is outside the workspace and no rule "
			 "names it", real);
		v.decision = POLICY_DENY;
		v.reason = b->cache->reason;
		return v;
	}
	if (v.decision != POLICY_DENY)
		v = decide_links(b, p, tool, real, v);
	return v;
}
