/*
 * File actions of the broker: read, atomic write, exact-string edit and
 * directory listing, all beneath the workspace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "broker_internal.h"

/* Largest file the broker reads into memory for an edit or a write. */
#define BROKER_FILE_MAX (16L * 1024 * 1024)

#define SEALS_REQUIRED (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

enum broker_status broker_read(const struct broker *b, const char *rel,
			       int *fd, char *err, size_t errlen)
{
	const char *sub;
	struct stat st;
	int f, base;

	*fd = -1;
	base = broker_base(b, rel, &sub);
	if (base < 0)
		return broker_fail_errno("open", rel, errno, err, errlen);
	/* O_NONBLOCK so that a FIFO planted in the workspace cannot stall us. */
	f = broker_openat2(base, sub, O_RDONLY | O_NONBLOCK, 0);
	if (f < 0)
		return broker_fail_errno("open", rel, errno, err, errlen);
	if (fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(f);
		broker_fail(err, errlen, "\"%s\" is not a regular file%s", rel,
			    S_ISDIR(st.st_mode) ? " (use list_directory)" : "");
		return BROKER_FAILED;
	}
	if (fcntl(f, F_SETFL, 0) < 0) {
		close(f);
		return broker_fail_errno("open", rel, errno, err, errlen);
	}
	*fd = f;
	return BROKER_OK;
}

/* Read a whole regular file descriptor from offset 0 into a new buffer. */
static int slurp_fd(int fd, char **data, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t off = 0;
	ssize_t n;
	char *buf;

	if (fstat(fd, &st) < 0)
		return broker_fail(err, errlen, "fstat: %s", strerror(errno));
	if (st.st_size > BROKER_FILE_MAX)
		return broker_fail(err, errlen, "file of %lld bytes exceeds the "
				   "limit of %ld bytes", (long long)st.st_size,
				   BROKER_FILE_MAX);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return broker_fail(err, errlen, "out of memory");
	while (off < (size_t)st.st_size) {
		n = pread(fd, buf + off, (size_t)st.st_size - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (off != (size_t)st.st_size) {
		free(buf);
		return broker_fail(err, errlen, "short read (%zu of %lld bytes)",
				   off, (long long)st.st_size);
	}
	buf[off] = '\0';
	*data = buf;
	*len = off;
	return 0;
}

/*
 * Open (creating as needed) the directory rel beneath the workspace, or
 * beneath its root when rel is absolute.
 */
static int open_parent_dir(const struct broker *b, const char *rel,
			   char *err, size_t errlen)
{
	char prefix[BROKER_PATH_MAX];
	const char *p;
	size_t n, len = 0;
	int fd, base;

	base = broker_base(b, rel, &p);
	if (base < 0) {
		broker_fail_errno("open", rel, errno, err, errlen);
		return -1;
	}
	rel = p;
	fd = broker_openat2(base, rel, O_RDONLY | O_DIRECTORY, 0);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd :
		       (broker_fail_errno("open", rel, errno, err, errlen), -1);

	/* Create the missing components one at a time, each beneath root. */
	while (*p) {
		n = strcspn(p, "/");
		if (len + n + 2 > sizeof(prefix))
			return broker_fail(err, errlen, "path too long");
		if (len)
			prefix[len++] = '/';
		memcpy(prefix + len, p, n);
		len += n;
		prefix[len] = '\0';
		if (mkdirat(base, prefix, 0777) < 0 && errno != EEXIST)
			return broker_fail(err, errlen, "cannot create directory "
					   "\"%s\": %s", prefix,
					   strerror(errno));
		fd = broker_openat2(base, prefix, O_PATH | O_DIRECTORY, 0);
		if (fd < 0) {
			broker_fail_errno("open", prefix, errno, err, errlen);
			return -1;
		}
		close(fd);
		p += n;
		while (*p == '/')
			p++;
	}
	fd = broker_openat2(base, rel, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		broker_fail_errno("open", rel, errno, err, errlen);
	return fd;
}

static int write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static void temp_name(char *buf, size_t size, const char *name)
{
	unsigned char rnd[6];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	/* Keep the name under NAME_MAX whatever the target's length. */
	i = (size_t)snprintf(buf, size, ".%.200s.cw-", name);
	for (size_t k = 0; k < sizeof(rnd) && i + 3 < size; k++)
		i += (size_t)snprintf(buf + i, size - i, "%02x", rnd[k]);
}

/* Write data to a temporary file in dirfd and rename it over name. */
static int replace_in_dir(int dirfd, const char *name, const char *data,
			  size_t len, char *err, size_t errlen)
{
	char tmp[300];
	struct stat st;
	bool exists;
	mode_t mode;
	int fd;

	exists = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (exists && !S_ISREG(st.st_mode))
		return broker_fail(err, errlen, "\"%s\" exists and is not a "
				   "regular file", name);
	if (exists)
		mode = st.st_mode & 0777;
	else {
		mode_t mask = umask(0);

		umask(mask);
		mode = 0666 & ~mask;
	}

	temp_name(tmp, sizeof(tmp), name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0)
		return broker_fail(err, errlen, "cannot create a temporary file "
				   "next to \"%s\": %s", name, strerror(errno));
	if (write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0 ||
	    (exists && geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0) ||
	    fsync(fd) < 0) {
		broker_fail(err, errlen, "writing \"%s\" failed: %s", name,
			    strerror(errno));
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		broker_fail(err, errlen, "renaming onto \"%s\" failed: %s", name,
			    strerror(errno));
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	/* The rename is durable only once the directory is synced. */
	fsync(dirfd);
	return 0;
}

enum broker_status broker_write_bytes(const struct broker *b, const char *rel,
				      const char *data, size_t len,
				      char *err, size_t errlen)
{
	char parent[BROKER_PATH_MAX];
	const char *name;
	int dirfd, rc;

	/* Deliberate re-check: callers test this too, but it must never slip. */
	if (broker_is_protected(rel)) {
		broker_fail(err, errlen, "denied: \"%s\" is protected: the "
			    "broker never writes there", rel);
		return BROKER_PROTECTED;
	}
	if (strcmp(rel, ".") == 0) {
		broker_fail(err, errlen, "invalid path: the workspace itself");
		return BROKER_FAILED;
	}
	broker_split(rel, parent, sizeof(parent), &name);
	dirfd = open_parent_dir(b, parent, err, errlen);
	if (dirfd < 0)
		return BROKER_FAILED;
	rc = replace_in_dir(dirfd, name, data, len, err, errlen);
	close(dirfd);
	return rc < 0 ? BROKER_FAILED : BROKER_OK;
}

/*
 * The worker seals its memfd so the content cannot change after the
 * supervisor has judged it; a descriptor without the seals is refused.
 */
enum broker_status broker_write(const struct broker *b, const char *rel,
				int memfd, char *summary, size_t summarysize,
				char *err, size_t errlen)
{
	enum broker_status st;
	size_t len;
	char *data;
	int seals;

	seals = fcntl(memfd, F_GET_SEALS);
	if (seals < 0 || (seals & SEALS_REQUIRED) != SEALS_REQUIRED) {
		broker_fail(err, errlen, "content descriptor is not a sealed "
			    "memfd (F_SEAL_WRITE, F_SEAL_GROW, F_SEAL_SHRINK)");
		return BROKER_FAILED;
	}
	if (slurp_fd(memfd, &data, &len, err, errlen) < 0)
		return BROKER_FAILED;
	st = broker_write_bytes(b, rel, data, len, err, errlen);
	free(data);
	if (st == BROKER_OK)
		snprintf(summary, summarysize, "wrote %zu bytes to %s", len, rel);
	return st;
}

static size_t count_occurrences(const char *hay, size_t haylen,
				const char *needle, const char **first)
{
	size_t n = 0, nlen = strlen(needle);
	const char *p = hay, *end = hay + haylen, *hit;

	*first = NULL;
	while (p + nlen <= end) {
		hit = memmem(p, (size_t)(end - p), needle, nlen);
		if (!hit)
			break;
		if (!*first)
			*first = hit;
		n++;
		p = hit + nlen;
	}
	return n;
}

enum broker_status broker_edit(const struct broker *b, const char *rel,
			       const char *old_text, const char *new_text,
			       char *summary, size_t summarysize,
			       char *err, size_t errlen)
{
	size_t len, count, oldlen = strlen(old_text), newlen = strlen(new_text);
	enum broker_status st;
	const char *hit;
	char *data, *out;
	int fd;

	if (oldlen == 0) {
		broker_fail(err, errlen, "old_string is empty");
		return BROKER_FAILED;
	}
	st = broker_read(b, rel, &fd, err, errlen);
	if (st != BROKER_OK)
		return st;
	if (slurp_fd(fd, &data, &len, err, errlen) < 0) {
		close(fd);
		return BROKER_FAILED;
	}
	close(fd);

	count = count_occurrences(data, len, old_text, &hit);
	if (count != 1) {
		if (count == 0)
			broker_fail(err, errlen, "old_string not found in %s",
				    rel);
		else
			broker_fail(err, errlen, "old_string occurs %zu times in "
				    "%s; include more surrounding text so it "
				    "is unique", count, rel);
		free(data);
		return BROKER_FAILED;
	}

	out = malloc(len - oldlen + newlen + 1);
	if (!out) {
		free(data);
		broker_fail(err, errlen, "out of memory");
		return BROKER_FAILED;
	}
	memcpy(out, data, (size_t)(hit - data));
	memcpy(out + (hit - data), new_text, newlen);
	memcpy(out + (hit - data) + newlen, hit + oldlen,
	       len - (size_t)(hit - data) - oldlen);
	st = broker_write_bytes(b, rel, out, len - oldlen + newlen, err, errlen);
	if (st == BROKER_OK)
		snprintf(summary, summarysize, "edited %s: replaced 1 occurrence "
			 "(%zu bytes now)", rel, len - oldlen + newlen);
	free(out);
	free(data);
	return st;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect up to BROKER_LIST_MAX entry names with a type suffix. */
static size_t collect_entries(DIR *dir, char **names, size_t *total)
{
	struct dirent *de;
	struct stat st;
	size_t n = 0;
	const char *suffix;

	*total = 0;
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		(*total)++;
		if (n == BROKER_LIST_MAX)
			continue;
		suffix = "";
		if (de->d_type == DT_DIR)
			suffix = "/";
		else if (de->d_type == DT_LNK)
			suffix = "@";
		else if (de->d_type == DT_UNKNOWN &&
			 fstatat(dirfd(dir), de->d_name, &st,
				 AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			suffix = "/";
		if (asprintf(&names[n], "%s%s", de->d_name, suffix) < 0)
			break;
		n++;
	}
	return n;
}

enum broker_status broker_list(const struct broker *b, const char *rel,
			       char **out, char *err, size_t errlen)
{
	char **names;
	size_t n, total, i, size = 1, off = 0;
	const char *sub;
	DIR *dir;
	int fd, base;

	*out = NULL;
	base = broker_base(b, rel, &sub);
	if (base < 0)
		return broker_fail_errno("list", rel, errno, err, errlen);
	fd = broker_openat2(base, sub, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return broker_fail_errno("list", rel, errno, err, errlen);
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return broker_fail_errno("list", rel, errno, err, errlen);
	}
	names = calloc(BROKER_LIST_MAX, sizeof(*names));
	if (!names) {
		closedir(dir);
		broker_fail(err, errlen, "out of memory");
		return BROKER_FAILED;
	}
	n = collect_entries(dir, names, &total);
	closedir(dir);
	qsort(names, n, sizeof(*names), compare_names);

	for (i = 0; i < n; i++)
		size += strlen(names[i]) + 1;
	size += 64;
	*out = malloc(size);
	if (*out) {
		(*out)[0] = '\0';
		for (i = 0; i < n; i++)
			off += (size_t)snprintf(*out + off, size - off, "%s\n",
						names[i]);
		if (total > n)
			snprintf(*out + off, size - off,
				 "[%zu more entries not shown]\n", total - n);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!*out) {
		broker_fail(err, errlen, "out of memory");
		return BROKER_FAILED;
	}
	return BROKER_OK;
}
