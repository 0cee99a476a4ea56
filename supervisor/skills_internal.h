/*
 * Helpers shared by the skills files; not part of the public API.
 */
#ifndef COWORKER_SKILLS_INTERNAL_H
#define COWORKER_SKILLS_INTERNAL_H

#include <stddef.h>

/*
 * Open path beneath dirfd with openat2 RESOLVE_BENEATH: no "..", absolute
 * path or symbolic link may lead out of dirfd's folder (EXDEV if one
 * tries). O_CLOEXEC and O_NOCTTY are added.
 */
int skills_openat2(int dirfd, const char *path, int flags);

/*
 * Read the regular file relpath beneath dirfd, at most max bytes, into a
 * NUL-terminated buffer. display names the file in err. Returns 0, or -1
 * with err and errno set (EXDEV for a path leading outside dirfd, EFBIG
 * for a file over max).
 */
int skills_read_beneath(int dirfd, const char *relpath, const char *display,
			size_t max, char **out, size_t *len,
			char *err, size_t errlen);

#endif
