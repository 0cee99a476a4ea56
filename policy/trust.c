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
#include <unistd.h>

#include <cjson/cJSON.h>

#include "internal.h"
#include "lib/error.h"
#include "lib/fsutil.h"
#include "lib/sha256.h"

/* The directory holding the trust record: l->config_dir or the user file's. */
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

/* Read the trust record (an object of workspace: digest), or NULL. */
static cJSON *trust_read(const char *dir)
{
	char path[4096], buf[65536];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/trusted-projects.json", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return cJSON_Parse(buf);
}

bool policy_trust_recorded(const struct policy_layers *l,
			   const char *digest)
{
	char dir[4096];
	const cJSON *entry;
	cJSON *root;
	bool ok;

	if (config_dir_path(l, dir, sizeof(dir)) < 0)
		return false;
	root = trust_read(dir);
	entry = cJSON_GetObjectItemCaseSensitive(root, l->workspace);
	ok = cJSON_IsString(entry) && strcmp(entry->valuestring, digest) == 0;
	cJSON_Delete(root);
	return ok;
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
	root = trust_read(dir);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		root = cJSON_CreateObject();
	}
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

