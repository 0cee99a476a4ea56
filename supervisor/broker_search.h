/*
 * The glob and grep tools: a bounded walk of a directory tree beneath the
 * workspace that lists paths matching a glob, or lines matching a POSIX
 * extended regular expression.
 *
 * The walk opens every directory and file relative to its parent's
 * descriptor with openat2(RESOLVE_BENEATH) and O_NOFOLLOW, so it never
 * follows a symlink and never leaves the workspace. It does not descend
 * into ".git" unless the search root is inside a ".git" directory. Every
 * directory it would enter and every file it would list or read is first
 * passed to the caller's filter, which applies the policy. What the filter
 * rejects is skipped and counted, and the count ends the output.
 */
#ifndef COWORKER_BROKER_SEARCH_H
#define COWORKER_BROKER_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "broker.h"
#include "proto/proto.h"

/* Directory entries the walk looks at before it stops. */
#define SEARCH_ENTRIES_MAX 50000

/* Directory levels beneath the search root that the walk enters. */
#define SEARCH_DEPTH_MAX 64

/* Bytes grep reads from one file, and from all files of one search. */
#define SEARCH_FILE_BYTES_MAX (4L * 1024 * 1024)
#define SEARCH_TOTAL_BYTES_MAX (256L * 1024 * 1024)

/* Bytes at the start of a file in which a NUL byte marks it as binary. */
#define SEARCH_BINARY_PROBE 8192

/* Maximum excerpt of one matching line in the output, in bytes. */
#define SEARCH_LINE_MAX 500

/* grep's default for max_results. */
#define SEARCH_RESULTS_DEFAULT 200

/*
 * Largest output, trailing notes included: what fits in the reply's
 * "content" string with room left for the rest of the frame.
 */
#define SEARCH_CONTENT_MAX (PROTO_STR_MAX - 4096)

/*
 * Decide whether the search may look at rel, a workspace-relative path of
 * a file or directory (never a symlink's target). Returns false to skip it.
 */
typedef bool (*search_filter_fn)(void *ctx, const char *rel);

struct search_request {
	/*
	 * The directory to search (grep also takes a regular file), in the
	 * normalised and resolved form broker_resolve returns; "." for the
	 * workspace.
	 */
	const char *root;
	const char *pattern;	/* glob pattern, or grep's regular expression */
	const char *file_glob;	/* grep: which files to read; NULL for all */
	bool ignore_case;	/* grep */
	long max_results;	/* grep: matching lines; 0 for the default */
	search_filter_fn may_read;
	void *ctx;
};

/* The bound that stopped a search before it covered everything. */
enum search_cut {
	SEARCH_CUT_NONE = 0,
	SEARCH_CUT_ENTRIES,	/* SEARCH_ENTRIES_MAX entries visited */
	SEARCH_CUT_BYTES,	/* SEARCH_TOTAL_BYTES_MAX bytes read */
	SEARCH_CUT_RESULTS,	/* max_results matching lines found */
	SEARCH_CUT_CONTENT,	/* the output reached SEARCH_CONTENT_MAX */
};

struct search_result {
	char *content;		/* the text for the model; the caller frees it */
	size_t matches;		/* glob: paths listed; grep: lines listed */
	size_t files_searched;	/* grep: files read */
	size_t entries;		/* directory entries visited */
	size_t denied;		/* files and directories the filter skipped */
	size_t binary;		/* grep: files skipped as binary */
	enum search_cut cut;
};

/*
 * Check a request's pattern (and grep's file_glob) before any walk, so an
 * invalid one becomes an invalid-argument error. Returns 0, or -1 with err
 * naming what is wrong and how to write it instead.
 */
int broker_glob_check(const struct search_request *q, char *err,
		      size_t errlen);
int broker_grep_check(const struct search_request *q, char *err,
		      size_t errlen);

/*
 * List the paths under q->root whose path relative to q->root matches
 * q->pattern: workspace-relative, one per line, in path order compared
 * component by component, directories ending in "/" and symlinks in "@".
 */
enum broker_status broker_glob(const struct broker *b,
			       const struct search_request *q,
			       struct search_result *r, char *err,
			       size_t errlen);

/*
 * List the lines matching q->pattern in the files under q->root, as
 * "path:LINE:text" in path order, at most max_results of them.
 */
enum broker_status broker_grep(const struct broker *b,
			       const struct search_request *q,
			       struct search_result *r, char *err,
			       size_t errlen);

void broker_search_free(struct search_result *r);

/* "entries", "bytes", "results", "content", or NULL for SEARCH_CUT_NONE. */
const char *broker_search_cut_name(enum search_cut cut);

#endif
