/*
 * Writing a child's /proc files (uid_map, gid_map, setgroups), shared by
 * the worker's and the command sandbox's user namespaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

int procfs_write(pid_t pid, const char *name, const char *text, char *path,
		 size_t pathsize)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd, saved;

	snprintf(path, pathsize, "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, text, len);
	saved = n < 0 ? errno : EIO;
	close(fd);
	if (n != (ssize_t)len) {
		errno = saved;
		return -1;
	}
	return 0;
}
