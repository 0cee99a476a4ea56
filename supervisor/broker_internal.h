/* Helpers shared by the broker's source files; not for other modules. */
#ifndef COWORKER_BROKER_INTERNAL_H
#define COWORKER_BROKER_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "broker.h"

int broker_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS and O_CLOEXEC. */
int broker_openat2(int dirfd, const char *path, int flags, mode_t mode);

/*
 * The directory descriptor that a normalised path is resolved beneath:
 * the workspace for a relative path, the matching root for an absolute
 * one. *sub receives the path relative to it ("." for the root itself).
 * Returns -1 with errno EXDEV when no root contains the path.
 */
int broker_base(const struct broker *b, const char *rel, const char **sub);

/* Return the root whose path contains the absolute path abs, or NULL. */
const struct broker_root *broker_root_of(const struct broker *b,
					 const char *abs);

/*
 * Fold path p lexically into rel: "." and empty components go, ".."
 * removes one. With absolute, ".." at the top stays there, as "/.." is
 * "/", and rel gets no leading "/". Returns 0, -1 when a relative path
 * climbs out, -2 when rel is too small.
 */
int broker_fold_components(const char *p, bool absolute, char *rel,
			   size_t relsize);

/*
 * The directory where the literal start of an absolute or "~/" Read or
 * Write rule ends, lexically normalised, into dir. *literal is set when
 * the whole pattern is literal (dir is then the named path itself).
 * Returns -1 for other rules.
 */
int broker_rule_dir(const struct policy *p, const struct policy_rule *r,
		    char *dir, size_t size, bool *literal);

/* Join dir and sub ("" or "." for dir itself) into out; -1 if too long. */
int broker_join(const char *dir, const char *sub, char *out, size_t size);

/* The part of path beneath dir ("" for dir itself), or NULL. */
const char *broker_beneath(const char *dir, const char *path);

/* A file that a hardlink must not reach by another name. */
struct broker_link {
	dev_t dev;
	ino_t ino;
	const struct policy_rule *read;		/* the rule denying Read, or NULL */
	const struct policy_rule *write;	/* ... denying Write, or NULL */
	bool protected;		/* a path the broker never writes */
};

struct broker_cache {
	/* The policy links were collected for; NULL until they are. */
	const struct policy *policy;
	struct broker_link *links;
	size_t nlinks, cap;
	bool truncated;		/* the search stopped at its limit */
	char reason[BROKER_PATH_MAX + 160];
};

void broker_cache_free(struct broker_cache *c);

int broker_fd_relpath(const struct broker *b, int fd, char *real,
		      size_t realsize, char *err, size_t errlen);

void broker_split(const char *rel, char *parent, size_t parentsize,
		  const char **name);

/* Word an errno from resolving rel as a broker status and message. */
enum broker_status broker_fail_errno(const char *what, const char *rel, int e,
				     char *err, size_t errlen);

#endif
