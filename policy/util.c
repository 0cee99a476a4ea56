/* Small helpers the policy files share. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int policy_strv_push(char ***v, size_t *n, const char *s)
{
	char **grown = realloc(*v, (*n + 2) * sizeof(**v));

	if (!grown)
		return -1;
	*v = grown;
	grown[*n] = strdup(s);
	if (!grown[*n])
		return -1;
	grown[++*n] = NULL;
	return 0;
}

int policy_write_atomic(const char *path, const char *text, mode_t mode,
			char *err, size_t errlen)
{
	char tmp[4300];
	size_t len = strlen(text);
	int fd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >=
	    (int)sizeof(tmp)) {
		snprintf(err, errlen, "cannot write %s: the path is too long",
			 path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0)
		goto fail;
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		goto fail_unlink;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0)
		goto fail_unlink;
	return 0;

fail_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
fail:
	snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
	return -1;
}
