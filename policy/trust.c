/*
 * Project trust. One sha256 digest covers a project's policy files, and
 * trusted-projects.json in the user's configuration directory records each
 * workspace the user trusts with the digest its files had at that time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "internal.h"
#include "lib/error.h"
#include "lib/fsutil.h"
#include "lib/sha256.h"

/* The directory of the trust record: l->config_dir or the user file's. */
static int config_dir_path(const struct policy_layers *l, char *buf,
			   size_t size)
{
	char *slash;

	if (l->config_dir)
		return (size_t)snprintf(buf, size, "%s", l->config_dir) < size ?
		       0 : -1;
	if (l->user_file) {
		if ((size_t)snprintf(buf, size, "%s", l->user_file) >= size)
			return -1;
	} else if (policy_user_file_path(buf, size) < 0) {
		return -1;
	}
	slash = strrchr(buf, '/');
	if (!slash)
		return (size_t)snprintf(buf, size, ".") < size ? 0 : -1;
	*slash = '\0';
	return 0;
}

/*
 * Add one file to the digest: its name, a presence byte and its bytes.
 * Returns 1 when the file exists, 0 when it does not, or -1 with err
 * naming the file and the cause.
 */
static int digest_file(struct sha256 *c, const char *name, const char *path,
		       char *err, size_t errlen)
{
	char buf[8192];
	unsigned char present;
	ssize_t n;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno != ENOENT)
		return error_set(err, errlen, "%s: cannot read policy file: %s",
				 path, strerror(errno));
	present = fd >= 0;
	sha256_update(c, name, strlen(name) + 1);
	sha256_update(c, &present, 1);
	if (fd < 0)
		return 0;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sha256_update(c, buf, (size_t)n);
	}
	saved = errno;
	close(fd);
	if (n < 0)
		return error_set(err, errlen, "%s: cannot read policy file: %s",
				 path, strerror(saved));
	return 1;
}

int policy_project_digest(const char *workspace, char hex[65], char *err,
			  size_t errlen)
{
	unsigned char md[SHA256_BYTES];
	char project[4096], local[4096];
	struct sha256 c;
	int a, b;

	hex[0] = '\0';
	policy_project_paths(workspace, project, local);
	sha256_init(&c);
	a = digest_file(&c, "policy.json", project, err, errlen);
	if (a < 0)
		return -1;
	b = digest_file(&c, "policy.local.json", local, err, errlen);
	if (b < 0)
		return -1;
	sha256_final(&c, md);
	if (a || b)
		sha256_to_hex(md, hex);
	return 0;
}

/* The advice that ends each message about an unusable trust record. */
#define TRUST_FIX \
	"delete the file and run 'coworker policy trust' again in each project you trust"

/*
 * Read the whole trust record at path into *text (NUL-terminated, the
 * caller frees it). Returns 1, 0 when the file does not exist, or -1 with
 * err set.
 */
static int trust_read_text(const char *path, char **text, size_t *len,
			   char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	ssize_t n = 0;
	int fd, saved;

	*text = NULL;
	/* O_NONBLOCK so that a FIFO in place of the file cannot hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP)
		return error_set(err, errlen,
				 "%s is a symbolic link, but coworker reads and replaces the trust record only as a regular file; move the file it points to into its place",
				 path);
	if (fd < 0 || fstat(fd, &st) < 0) {
		error_set(err, errlen,
			  "%s: cannot read the trust record: %s; make it readable, or " TRUST_FIX,
			  path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > POLICY_FILE_MAX) {
		close(fd);
		return error_set(err, errlen,
				 "%s: the trust record must be a regular file of at most %d bytes; " TRUST_FIX,
				 path, POLICY_FILE_MAX);
	}

	*text = malloc((size_t)st.st_size + 1);
	if (!*text) {
		close(fd);
		return error_set(err, errlen, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, *text + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	saved = errno;
	close(fd);
	if (got != (size_t)st.st_size) {
		free(*text);
		*text = NULL;
		if (n < 0)
			return error_set(err, errlen,
					 "%s: cannot read the trust record: %s",
					 path, strerror(saved));
		return error_set(err, errlen,
				 "%s: the trust record shrank while it was read; try again",
				 path);
	}
	(*text)[got] = '\0';
	*len = got;
	return 1;
}

/*
 * Check that every workspace maps to a string, and report the first that
 * does not at its line and column.
 */
static int trust_check_values(const char *path, const char *text,
			      size_t len, const cJSON *root, char *err,
			      size_t errlen)
{
	struct policy_json_pos *pos;
	const cJSON *member;
	int line, column;

	cJSON_ArrayForEach(member, root) {
		if (cJSON_IsString(member))
			continue;
		pos = policy_json_pos_build(text, len, root);
		policy_json_pos_get(pos, member, false, &line, &column);
		policy_json_pos_free(pos);
		return error_set(err, errlen,
				 "%s:%d:%d: the value for a workspace must be the digest string that 'coworker policy trust' writes; fix it, or " TRUST_FIX,
				 path, line, column);
	}
	return 0;
}

/*
 * Load the trust record in dir: a JSON object that maps each trusted
 * workspace to the digest of its policy files. *root is NULL when the
 * file does not exist, which trusts no project. A file that exists but
 * cannot be read or parsed is an error, not an empty record. Read as
 * empty, it would withdraw every trust without a word, and the next
 * 'policy trust' would replace the file with a single entry.
 */
static int trust_load(const char *dir, cJSON **root, char *err,
		      size_t errlen)
{
	char path[4200], *text = NULL;
	const char *end = NULL;
	int rc, line, column;
	size_t len = 0;

	*root = NULL;
	snprintf(path, sizeof(path), "%s/trusted-projects.json", dir);
	rc = trust_read_text(path, &text, &len, err, errlen);
	if (rc <= 0)
		return rc;

	if (len == 0) {
		free(text);
		return error_set(err, errlen,
				 "%s: the trust record is empty; " TRUST_FIX,
				 path);
	}

	/* The NUL at text[len] makes cJSON reject trailing text. */
	*root = cJSON_ParseWithLengthOpts(text, len + 1, &end, true);
	if (!*root) {
		error_position(text, end && end >= text ?
			       (size_t)(end - text) : 0, &line, &column);
		rc = error_set(err, errlen,
			       "%s:%d:%d: invalid JSON in the trust record: fix the syntax there, or " TRUST_FIX,
			       path, line, column);
	} else if (!cJSON_IsObject(*root)) {
		rc = error_set(err, errlen,
			       "%s: the trust record must be a JSON object of workspace paths and digests; fix it, or " TRUST_FIX,
			       path);
	} else {
		rc = trust_check_values(path, text, len, *root, err, errlen);
	}
	free(text);
	if (rc < 0) {
		cJSON_Delete(*root);
		*root = NULL;
	}
	return rc;
}

int policy_trust_recorded(const struct policy_layers *l, const char *digest,
			  bool *trusted, char *err, size_t errlen)
{
	char dir[4096];
	const cJSON *entry;
	cJSON *root;

	*trusted = false;
	if (config_dir_path(l, dir, sizeof(dir)) < 0)
		return 0;	/* no configuration directory: no record */
	if (trust_load(dir, &root, err, errlen) < 0)
		return -1;
	entry = cJSON_GetObjectItemCaseSensitive(root, l->workspace);
	*trusted = cJSON_IsString(entry) &&
		   strcmp(entry->valuestring, digest) == 0;
	cJSON_Delete(root);
	return 0;
}

int policy_trust_record(const struct policy_layers *l, char *err,
			size_t errlen)
{
	char dir[4096], path[4200], digest[65];
	cJSON *root = NULL;
	char *text = NULL;
	int ret = -1;

	if (!l->workspace || config_dir_path(l, dir, sizeof(dir)) < 0) {
		snprintf(err, errlen,
			 "cannot find the configuration directory: set HOME or XDG_CONFIG_HOME");
		return -1;
	}
	if (policy_project_digest(l->workspace, digest, err, errlen) < 0)
		return -1;
	if (mkdir_all(dir, 0700) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", dir,
			 strerror(errno));
		return -1;
	}

	/* A record that cannot be read or parsed is left as it is. */
	if (trust_load(dir, &root, err, errlen) < 0)
		return -1;
	if (!root)
		root = cJSON_CreateObject();
	/* A duplicate key left behind would shadow the new entry. */
	while (root && cJSON_GetObjectItemCaseSensitive(root, l->workspace))
		cJSON_DeleteItemFromObjectCaseSensitive(root, l->workspace);
	if (!root || !cJSON_AddStringToObject(root, l->workspace, digest) ||
	    !(text = cJSON_Print(root)))
		goto oom;

	/* A crash leaves the old record or the new one, never half of one. */
	snprintf(path, sizeof(path), "%s/trusted-projects.json", dir);
	if (policy_write_atomic(path, text, 0600, err, errlen) < 0)
		goto out;
	ret = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	cJSON_free(text);
	cJSON_Delete(root);
	return ret;
}

