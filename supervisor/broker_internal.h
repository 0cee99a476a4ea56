/* Helpers shared by the broker's source files; not for other modules. */
#ifndef COWORKER_BROKER_INTERNAL_H
#define COWORKER_BROKER_INTERNAL_H

#include <sys/types.h>

#include "broker.h"

int broker_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS and O_CLOEXEC. */
int broker_openat2(int dirfd, const char *path, int flags, mode_t mode);

int broker_fd_relpath(const struct broker *b, int fd, char *real,
		      size_t realsize, char *err, size_t errlen);

void broker_split(const char *rel, char *parent, size_t parentsize,
		  const char **name);

/* Word an errno from resolving rel as a broker status and message. */
enum broker_status broker_fail_errno(const char *what, const char *rel, int e,
				     char *err, size_t errlen);

#endif
