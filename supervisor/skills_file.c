/*
 * Reading skill files: SKILL.md bodies and the other files a skill points
 * to, always beneath the skill's root or folder with openat2.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "skills.h"
#include "skills_internal.h"
#include "skills_yaml.h"

int skills_openat2(int dirfd, const char *path, int flags)
{
	struct open_how how;

	memset(&how, 0, sizeof(how));
	if (!(flags & O_PATH))
		flags |= O_NOCTTY;
	how.flags = (unsigned long long)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static int read_fd(int fd, const char *display, size_t max, char **out,
		   size_t *len, char *err, size_t errlen)
{
	size_t used = 0;
	ssize_t n;
	char *buf;

	buf = malloc(max + 2);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", display);
		return -1;
	}
	/* Read one byte past max, so a file that grew is caught too. */
	while (used <= max) {
		n = read(fd, buf + used, max + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: read failed: %s", display,
				 strerror(errno));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", display,
			 max);
		free(buf);
		errno = EFBIG;
		return -1;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	return 0;
}

/* Open relpath beneath dirfd as a regular file of at most max bytes. */
static int open_regular(int dirfd, const char *relpath, const char *display,
			size_t max, char *err, size_t errlen)
{
	struct stat st;
	int fd, saved;

	/* O_NONBLOCK keeps a FIFO planted in a skill from blocking us. */
	fd = skills_openat2(dirfd, relpath, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		saved = errno;
		if (errno == EXDEV || errno == ELOOP)
			snprintf(err, errlen, "%s: the path leads outside its "
				 "folder (\"..\", an absolute path or a "
				 "symbolic link)", display);
		else
			snprintf(err, errlen, "%s: %s", display,
				 strerror(errno));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", display);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if ((size_t)st.st_size > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes", display,
			 max);
		close(fd);
		errno = EFBIG;
		return -1;
	}
	/* Reads must block normally from here on. */
	if (fcntl(fd, F_SETFL, 0) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int skills_read_beneath(int dirfd, const char *relpath, const char *display,
			size_t max, char **out, size_t *len,
			char *err, size_t errlen)
{
	int fd, rc, saved;

	fd = open_regular(dirfd, relpath, display, max, err, errlen);
	if (fd < 0)
		return -1;
	rc = read_fd(fd, display, max, out, len, err, errlen);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static const char *skill_folder(const struct skill *sk)
{
	size_t n = strlen(sk->root);

	return sk->dir + n + (sk->dir[n] == '/' ? 1 : 0);
}

int skills_load_body(const struct skill *sk, char **out, size_t *len,
		     char *err, size_t errlen)
{
	size_t start, end, body;
	char rel[PATH_MAX];
	char *buf;
	size_t n;
	int rootfd, rc;

	rootfd = open(sk->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		snprintf(err, errlen, "%s: %s", sk->root, strerror(errno));
		return -1;
	}
	snprintf(rel, sizeof(rel), "%s/SKILL.md", skill_folder(sk));
	rc = skills_read_beneath(rootfd, rel, sk->path, SKILLS_MD_MAX, &buf,
				 &n, err, errlen);
	close(rootfd);
	if (rc < 0)
		return -1;
	if (frontmatter_check_utf8(buf, n, sk->path, err, errlen) < 0 ||
	    frontmatter_split(buf, n, sk->path, &start, &end, &body, err,
			      errlen) < 0) {
		free(buf);
		return -1;
	}
	memmove(buf, buf + body, n - body + 1);
	*out = buf;
	*len = n - body;
	return 0;
}

static int check_relpath(const char *relpath, char *err, size_t errlen)
{
	const char *c;

	if (!*relpath || relpath[0] == '/') {
		snprintf(err, errlen, "invalid skill file \"%.200s\": give a "
			 "path relative to the skill folder", relpath);
		return -1;
	}
	if (strlen(relpath) >= PATH_MAX) {
		snprintf(err, errlen, "invalid skill file: the path is longer "
			 "than %d bytes", PATH_MAX - 1);
		return -1;
	}
	for (c = relpath; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			snprintf(err, errlen, "invalid skill file: the path "
				 "contains a control character");
			return -1;
		}
	return 0;
}

int skills_open_file(const struct skill *sk, const char *relpath,
		     char *err, size_t errlen)
{
	char display[PATH_MAX + 64];
	int rootfd, dirfd, fd;

	if (check_relpath(relpath, err, errlen) < 0)
		return -1;
	snprintf(display, sizeof(display), "%s/%s", sk->dir, relpath);
	rootfd = open(sk->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		snprintf(err, errlen, "%s: %s", sk->root, strerror(errno));
		return -1;
	}
	/* The folder is opened beneath its root as discovery saw it, and
	 * the file beneath the folder, not merely beneath the root. */
	dirfd = skills_openat2(rootfd, skill_folder(sk), O_PATH | O_DIRECTORY);
	close(rootfd);
	if (dirfd < 0) {
		snprintf(err, errlen, "%s: %s", sk->dir, strerror(errno));
		return -1;
	}
	fd = open_regular(dirfd, relpath, display, SKILLS_FILE_MAX, err,
			  errlen);
	close(dirfd);
	return fd;
}

int skills_load_file(const struct skill *sk, const char *relpath,
		     char **out, size_t *len, char *err, size_t errlen)
{
	char display[PATH_MAX + 64];
	int fd, rc;

	fd = skills_open_file(sk, relpath, err, errlen);
	if (fd < 0)
		return -1;
	snprintf(display, sizeof(display), "%s/%s", sk->dir, relpath);
	rc = read_fd(fd, display, SKILLS_FILE_MAX, out, len, err, errlen);
	close(fd);
	if (rc == 0 && frontmatter_check_utf8(*out, *len, display, err,
					      errlen) < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return rc;
}
