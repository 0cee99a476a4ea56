/* Small filesystem helpers shared by the supervisor's modules. */
#ifndef COWORKER_LIB_FSUTIL_H
#define COWORKER_LIB_FSUTIL_H

#include <sys/types.h>

/*
 * Create dir and every missing directory above it with mode, as
 * `mkdir -p` does. Returns 0, or -1 with errno from the step that failed.
 */
int mkdir_all(const char *dir, mode_t mode);

/*
 * Write the directory of the running program (from /proc/self/exe) to
 * dir. Returns 0, or -1 when it cannot be read or does not fit.
 */
int program_dir(char *dir, size_t size);

/*
 * Find the coworker program name: beside the running executable (a build
 * tree), in ../libexec/coworker beside it (an installed tree), then in
 * libexec_dir. Writes the path to path and returns 0, or -1 when none of
 * them is executable.
 */
int find_program(const char *name, const char *libexec_dir, char *path,
		 size_t size);

#endif
