#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

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
