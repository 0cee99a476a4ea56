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

#define BROKER_PATH_MAX 4096

/* Largest listing returned by broker_list, in entries. */
#define BROKER_LIST_MAX 1000

struct broker {
	int root_fd;		/* O_PATH descriptor of the workspace */
	char root[BROKER_PATH_MAX];	/* canonical absolute path */
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
 * Turn a path from the worker (absolute inside the workspace, or relative
 * to it) into normalised relative form: no leading "/", no "." or ".."
 * components; the workspace itself is ".".
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
