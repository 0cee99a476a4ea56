/*
 * Policy files: a JSON object with optional "allow", "ask" and "deny"
 * arrays of rule strings.
 *
 * Anything else is an error, not a warning: a misspelt key such as "deny "
 * or "denied" would otherwise drop rules without a sound and weaken the
 * policy. A file is added whole or not at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "policy.h"

/* Longest JSON value quoted in an error message. */
#define VALUE_MAX 80

static const struct {
	const char *key;
	enum policy_decision decision;
} sections[] = {
	{ "allow", POLICY_ALLOW },
	{ "ask", POLICY_ASK },
	{ "deny", POLICY_DENY },
};

#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Write item as compact JSON into buf (escaped, cut with "..." if long). */
static const char *json_text(const cJSON *item, char *buf, size_t size)
{
	char *printed = cJSON_PrintUnformatted(item);

	if (!printed) {
		snprintf(buf, size, "(a value)");
		return buf;
	}
	if (strlen(printed) > VALUE_MAX)
		snprintf(buf, size, "%.*s...", VALUE_MAX, printed);
	else
		snprintf(buf, size, "%s", printed);
	cJSON_free(printed);
	return buf;
}

/* The key as a JSON string, so that control characters stay escaped. */
static const char *key_text(const char *key, char *buf, size_t size)
{
	cJSON *s = cJSON_CreateString(key);

	json_text(s, buf, size);
	cJSON_Delete(s);
	return buf;
}

static int read_all(int fd, const char *path, char **out, size_t *outlen,
		    char *err, size_t errlen)
{
	size_t cap = POLICY_FILE_MAX + 1, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		return fail(err, errlen, "%s: out of memory", path);
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(err, errlen, "%s: read failed: %s", path,
			     strerror(errno));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > POLICY_FILE_MAX) {
		free(buf);
		return fail(err, errlen,
			    "%s: file is larger than the maximum of %d bytes for a policy file",
			    path, POLICY_FILE_MAX);
	}
	*out = buf;
	*outlen = len;
	return 0;
}

static int read_file(const char *path, char **buf, size_t *len,
		     char *err, size_t errlen)
{
	struct stat st;
	int fd, ret;

	/* O_NONBLOCK so that a FIFO in place of the file cannot hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fail(err, errlen, "%s: cannot open policy file: %s",
			    path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errlen, "%s: not a regular file", path);
	}
	if (st.st_size > POLICY_FILE_MAX) {
		close(fd);
		return fail(err, errlen,
			    "%s: file is %lld bytes, more than the maximum of %d for a policy file",
			    path, (long long)st.st_size, POLICY_FILE_MAX);
	}
	ret = read_all(fd, path, buf, len, err, errlen);
	close(fd);
	return ret;
}

static void line_column(const char *buf, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/*
 * cJSON keeps strings NUL-terminated, so a NUL byte or a \u0000 escape
 * would silently cut a rule short ("Read(a)\u0000junk" reads as "Read(a)").
 */
static int check_nul(const char *path, const char *buf, size_t len,
		     char *err, size_t errlen)
{
	int line, col;
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\0' ||
		    (buf[i] == '\\' && i + 5 < len &&
		     strncmp(buf + i + 1, "u0000", 5) == 0)) {
			line_column(buf, i, &line, &col);
			return fail(err, errlen,
				    "%s:%d:%d: NUL character in the file: remove it",
				    path, line, col);
		}
		if (buf[i] == '\\')
			i++;	/* skip the escaped character, e.g. "\\" */
	}
	return 0;
}

static cJSON *parse_json(const char *path, char *buf, size_t len,
			 char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root;
	int line, col;

	buf[len] = '\0';
	/* buf has room for the NUL, and the NUL makes cJSON reject trailing text. */
	root = cJSON_ParseWithLengthOpts(buf, len + 1, &end, true);
	if (!root) {
		line_column(buf, end && end >= buf ? (size_t)(end - buf) : 0,
			    &line, &col);
		fail(err, errlen, "%s:%d:%d: invalid JSON: fix the syntax there",
		     path, line, col);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		fail(err, errlen,
		     "%s: expected a JSON object with \"allow\", \"ask\" or \"deny\" arrays",
		     path);
		return NULL;
	}
	return root;
}

static int find_section(const char *path, const cJSON *member, bool *seen,
			enum policy_decision *decision, char *err,
			size_t errlen)
{
	char k[VALUE_MAX * 6 + 8];
	size_t i;

	for (i = 0; i < NSECTIONS; i++) {
		if (strcmp(member->string, sections[i].key) != 0)
			continue;
		if (seen[i])
			return fail(err, errlen,
				    "%s: key \"%s\" appears twice: merge the two arrays",
				    path, sections[i].key);
		seen[i] = true;
		*decision = sections[i].decision;
		return 0;
	}
	return fail(err, errlen,
		    "%s: unknown key %s: the only keys are \"allow\", \"ask\" and \"deny\"",
		    path, key_text(member->string, k, sizeof(k)));
}

static int load_section(struct policy *p, const char *path,
			const cJSON *member, enum policy_decision decision,
			char *err, size_t errlen)
{
	char v[VALUE_MAX + 8], rerr[1024];
	const cJSON *item;
	int index = 0;

	if (!cJSON_IsArray(member))
		return fail(err, errlen,
			    "%s: \"%s\" must be an array of rule strings, not %s",
			    path, member->string,
			    json_text(member, v, sizeof(v)));

	cJSON_ArrayForEach(item, member) {
		if (!cJSON_IsString(item))
			return fail(err, errlen,
				    "%s: \"%s\"[%d] must be a rule string such as \"Read(src/**)\", not %s",
				    path, member->string, index,
				    json_text(item, v, sizeof(v)));
		if (policy_add_rule(p, decision, item->valuestring, path,
				    rerr, sizeof(rerr)) < 0)
			return fail(err, errlen, "%s: \"%s\"[%d]: %s", path,
				    member->string, index, rerr);
		index++;
	}
	return 0;
}

int policy_load_file(struct policy *p, const char *path,
		     char *err, size_t errlen)
{
	bool seen[NSECTIONS] = { false };
	enum policy_decision decision;
	size_t before = p->count;
	const cJSON *member;
	cJSON *root = NULL;
	char *buf = NULL;
	size_t len = 0;
	int ret = -1;

	if (read_file(path, &buf, &len, err, errlen) < 0)
		return -1;
	if (check_nul(path, buf, len, err, errlen) < 0)
		goto out;
	root = parse_json(path, buf, len, err, errlen);
	if (!root)
		goto out;

	cJSON_ArrayForEach(member, root) {
		if (find_section(path, member, seen, &decision, err,
				 errlen) < 0 ||
		    load_section(p, path, member, decision, err, errlen) < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		policy_truncate(p, before);
	cJSON_Delete(root);
	free(buf);
	return ret;
}
