#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

int mkdir_all(const char *dir, mode_t mode)
{
	char path[PATH_MAX];
	size_t i, len = strlen(dir);

	if (len == 0 || len >= sizeof(path)) {
		errno = len ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return -1;
		path[i] = i < len ? '/' : '\0';
	}
	return 0;
}

int program_dir(char *dir, size_t size)
{
	char *slash;
	ssize_t n;

	if (size < 2)
		return -1;
	n = readlink("/proc/self/exe", dir, size - 1);
	if (n <= 0 || (size_t)n >= size - 1)
		return -1;
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return 0;
}

int find_program(const char *name, const char *libexec_dir, char *path,
		 size_t size)
{
	char self[PATH_MAX];

	if (program_dir(self, sizeof(self)) == 0) {
		snprintf(path, size, "%s/%s", self, name);
		if (access(path, X_OK) == 0)
			return 0;
		snprintf(path, size, "%s/../libexec/coworker/%s", self, name);
		if (access(path, X_OK) == 0)
			return 0;
	}
	snprintf(path, size, "%s/%s", libexec_dir, name);
	return access(path, X_OK) == 0 ? 0 : -1;
}
