/* Small helpers for writing a child's /proc files. */
#ifndef COWORKER_PROCFS_H
#define COWORKER_PROCFS_H

#include <sys/types.h>

/*
 * Write text to /proc/PID/NAME in one write(), as id maps require.
 * Returns 0, or -1 with errno set (EIO for a short write); path receives
 * the file's path for the caller's message.
 */
int procfs_write(pid_t pid, const char *name, const char *text, char *path,
		 size_t pathsize);

#endif
