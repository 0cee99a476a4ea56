/* Small filesystem helpers shared by the supervisor's modules. */
#ifndef COWORKER_LIB_FSUTIL_H
#define COWORKER_LIB_FSUTIL_H

#include <sys/types.h>

/*
 * Create dir and every missing directory above it with mode, as
 * `mkdir -p` does. Returns 0, or -1 with errno from the step that failed.
 */
int mkdir_all(const char *dir, mode_t mode);

#endif
