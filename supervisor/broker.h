/*
 * The file broker: every file action a worker requests is carried out here,
 * beneath the workspace and nowhere else.
 *
 * Paths from the worker are first normalised lexically into workspace-
 * relative form; the kernel then resolves them with openat2(RESOLVE_BENEATH),
 * so neither ".." nor a symlink can leave the workspace. Because a symlink
 * inside the workspace can still lead to another place inside it, each
 * action also reports the resolved relative path so the caller can judge
 * that path against the policy too.
 */
#ifndef COWORKER_BROKER_H
#define COWORKER_BROKER_H

#include <stdbool.h>
#include <stddef.h>

#include "../policy/policy.h"

#define BROKER_PATH_MAX 4096

/* Largest listing returned by broker_list, in entries. */
#define BROKER_LIST_MAX 1000

/* Most roots outside the workspace that allow and ask rules can name. */
#define BROKER_ROOTS_MAX 32

/*
 * A directory outside the workspace that a Read or Write rule reaches
 * (Read(~/notes/...) gives ~/notes), opened once at session start. Paths
 * beneath it are resolved beneath fd, never by string.
 */
struct broker_root {
	int fd;			/* O_PATH descriptor */
	char *path;		/* absolute, as the rule names it ("~/" expanded) */
	char *real;		/* canonical absolute path (symlinks resolved) */
};

struct broker_cache;

struct broker {
	int root_fd;		/* O_PATH descriptor of the workspace */
	char root[BROKER_PATH_MAX];	/* canonical absolute path */
	char *home;		/* for "~/" paths; NULL when there are no roots */
	struct broker_root roots[BROKER_ROOTS_MAX];
	size_t nroots;
	/*
	 * State that judging builds on demand (the inodes of denied files,
	 * reason text); a pointer, so judging through a const broker can
	 * fill it.
	 */
	struct broker_cache *cache;
};

/* Outcome classes, so the caller can word the reply and the audit line. */
enum broker_status {
	BROKER_OK = 0,
	BROKER_OUTSIDE = 1,	/* the path leaves the workspace */
	BROKER_PROTECTED = 2,	/* a write to a path the broker never writes */
	BROKER_NOT_FOUND = 3,
	BROKER_FAILED = 4,	/* anything else; err says what */
};

int broker_open(struct broker *b, const char *workspace,
		char *err, size_t errlen);
void broker_close(struct broker *b);

/*
 * Open a root for each directory outside the workspace that an allow or
 * ask Read or Write rule of p reaches (see broker_root); a directory that
 * does not exist is skipped. Call once, after the policy is loaded.
 */
int broker_add_roots(struct broker *b, const struct policy *p,
		     char *err, size_t errlen);

/*
 * Turn a path from the worker (absolute, "~/..." or relative to the
 * workspace) into normalised form: no "." or ".." components. Inside the
 * workspace the result is relative (the workspace itself is "."); beneath
 * a root it stays absolute. Anything else is BROKER_OUTSIDE.
 */
enum broker_status broker_normalize(const struct broker *b, const char *path,
				    char *rel, size_t relsize,
				    char *err, size_t errlen);

/* True for paths the broker never writes, whatever the policy says. */
bool broker_is_protected(const char *rel);

/*
 * Resolve rel as the kernel would, beneath the workspace, into the relative
 * path of what it names. A missing final component is allowed (for writes);
 * its parent must exist or be creatable.
 */
enum broker_status broker_resolve(const struct broker *b, const char *rel,
				  char *real, size_t realsize,
				  char *err, size_t errlen);

/*
 * Decide a Read or Write of a normalised path rel that resolved to real
 * (both from broker_resolve), by the file the kernel opens: names compare
 * folded on a case-insensitive directory, a hardlink of a denied or
 * protected file gets that file's decision, a write to a file with more
 * than one link gets at least ask, and a path outside the workspace that
 * no rule names is denied. The verdict's reason may point into b's cache,
 * valid until the next call.
 */
struct policy_verdict broker_decide(const struct broker *b,
				    const struct policy *p,
				    enum policy_tool tool, const char *rel,
				    const char *real);

/*
 * Forget what broker_decide learnt about the files (after a command ran,
 * since it may have added links or files).
 */
void broker_forget(const struct broker *b);

/* Open a regular file read-only; *fd receives the descriptor. */
enum broker_status broker_read(const struct broker *b, const char *rel,
			       int *fd, char *err, size_t errlen);

/*
 * Replace the file at rel atomically with the content of a sealed memfd
 * (temporary file in the same directory, fsync, rename, fsync of the
 * directory). Missing parent directories are created. summary receives a
 * one-line description for the model.
 */
enum broker_status broker_write(const struct broker *b, const char *rel,
				int memfd, char *summary, size_t summarysize,
				char *err, size_t errlen);

/* Like broker_write with bytes in memory. */
enum broker_status broker_write_bytes(const struct broker *b, const char *rel,
				      const char *data, size_t len,
				      char *err, size_t errlen);

/*
 * Replace the one occurrence of old_text in the file with new_text. Fails
 * when old_text is absent or occurs more than once.
 */
enum broker_status broker_edit(const struct broker *b, const char *rel,
			       const char *old_text, const char *new_text,
			       char *summary, size_t summarysize,
			       char *err, size_t errlen);

/*
 * List a directory: one entry per line, sorted, directories ending in "/".
 * *out is allocated; the caller frees it.
 */
enum broker_status broker_list(const struct broker *b, const char *rel,
			       char **out, char *err, size_t errlen);

#endif
