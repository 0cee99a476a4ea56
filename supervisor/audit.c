/*
 * Writing the audit log: building each line, redacting the secret, chaining
 * the digests, and syncing in batches. The session's output is redacted
 * here too, with the same secrets.
 *
 * Verification (also used here to continue an existing log) lives in
 * audit_verify.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#include "audit.h"
#include "lib/sha256.h"

/* Batched mode syncs at the latest after this many lines or this long. */
#define AUDIT_BATCH_LINES 256
#define AUDIT_BATCH_NS (100L * 1000 * 1000)

/*
 * The forms redacted for each secret: the raw secret, its padded base64
 * form and its unpadded base64 form. A session redacts its start-up key
 * and at most one more, the key of the provider it switches to.
 */
#define AUDIT_SECRET_FORMS 3
#define AUDIT_SECRETS_MAX 2

/* First size of the reusable line buffer; it doubles as needed. */
#define AUDIT_LINE_INITIAL 4096

struct audit_log {
	int fd;
	char *path;
	char *secrets[AUDIT_SECRET_FORMS * AUDIT_SECRETS_MAX];
	size_t secret_count;
	long count;
	char head[AUDIT_DIGEST_HEX];
	char *line;		/* reused print buffer, line plus newline */
	size_t line_cap;
	unsigned int unsynced;	/* lines written since the last fdatasync */
	struct timespec last_sync;	/* CLOCK_MONOTONIC */
	bool failed;
	char failure[256];	/* why the log became unusable */
};

static const char *const audit_reserved[] = { "seq", "ts", "prev", "event" };

bool audit_secret_too_short(const char *secret)
{
	return strlen(secret) < AUDIT_SECRET_MIN;
}

/* Add secret to the forms to redact, unless it is already there. */
static int secrets_add(struct audit_log *log, const char *secret)
{
	size_t i;

	for (i = 0; i < log->secret_count; i++)
		if (strcmp(log->secrets[i], secret) == 0)
			return 0;

	if (log->secret_count == sizeof(log->secrets) / sizeof(log->secrets[0])) {
		errno = ENOSPC;
		return -1;
	}
	log->secrets[log->secret_count] = strdup(secret);
	if (!log->secrets[log->secret_count])
		return -1;
	log->secret_count++;
	return 0;
}

/*
 * Collect the forms of the secret to redact, unless it is too short to be
 * a real key (AUDIT_SECRET_MIN). Its base64 forms are longer than the
 * secret, so none of them is shorter than that minimum either. The padded
 * base64 form comes before the unpadded one, which is its prefix, so that
 * a padded occurrence is replaced whole.
 *
 * NOTE: only the encoding of the secret on its own is matched. Inside a
 * longer base64 text (such as "user:secret" in HTTP Basic auth) the secret
 * starts at another offset modulo 3 and encodes differently.
 */
static int secrets_init(struct audit_log *log, const char *secret)
{
	size_t len = strlen(secret);
	size_t b64_len = 4 * ((len + 2) / 3);
	char *b64;
	int rc = -1;

	if (audit_secret_too_short(secret))
		return 0;

	b64 = malloc(b64_len + 1);
	if (!b64)
		return -1;
	base64_encode(secret, len, b64);

	if (secrets_add(log, secret) < 0 ||
	    secrets_add(log, b64) < 0)
		goto out;
	while (b64_len > 0 && b64[b64_len - 1] == '=')
		b64[--b64_len] = '\0';
	if (secrets_add(log, b64) < 0)
		goto out;
	rc = 0;
out:
	explicit_bzero(b64, b64_len);
	free(b64);
	return rc;
}

static bool secrets_found(const struct audit_log *log, const char *text,
			  size_t len)
{
	size_t i;

	for (i = 0; i < log->secret_count; i++)
		if (memmem(text, len, log->secrets[i], strlen(log->secrets[i])))
			return true;
	return false;
}

/* Copy s with cJSON's allocator, so that cJSON_Delete can free it. */
static char *cjson_strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *copy = cJSON_malloc(len);

	if (copy)
		memcpy(copy, s, len);
	return copy;
}

/*
 * Return a copy of s (allocated with cJSON_malloc) with every
 * non-overlapping occurrence of pattern replaced by AUDIT_REDACTED.
 */
static char *replace_all(const char *s, const char *pattern)
{
	size_t plen = strlen(pattern);
	size_t rlen = strlen(AUDIT_REDACTED);
	size_t hits = 0, out_len;
	const char *p, *hit;
	char *out, *w;

	for (p = s; (hit = strstr(p, pattern)); p = hit + plen)
		hits++;

	out_len = strlen(s) - hits * plen + hits * rlen;
	out = cJSON_malloc(out_len + 1);
	if (!out)
		return NULL;

	w = out;
	for (p = s; (hit = strstr(p, pattern)); p = hit + plen) {
		memcpy(w, p, (size_t)(hit - p));
		w += hit - p;
		memcpy(w, AUDIT_REDACTED, rlen);
		w += rlen;
	}
	memcpy(w, p, strlen(p) + 1);
	return out;
}

/*
 * Replace *s (allocated by cJSON) with a redacted copy when it contains a
 * form of the secret. A replacement can join text into a new occurrence
 * (a secret that contains the placeholder), so a string that still
 * contains one afterwards becomes the bare placeholder. owned is false for
 * a string that must not be freed (cJSON flags constant member names).
 */
static int redact_string(const struct audit_log *log, char **s, bool owned)
{
	char *cur = *s, *next;
	bool cur_owned = owned;
	size_t i;

	if (!cur || !secrets_found(log, cur, strlen(cur)))
		return 0;

	for (i = 0; i < log->secret_count; i++) {
		if (!strstr(cur, log->secrets[i]))
			continue;
		next = replace_all(cur, log->secrets[i]);
		if (!next)
			goto fail;
		if (cur_owned)
			cJSON_free(cur);
		cur = next;
		cur_owned = true;
	}

	if (secrets_found(log, cur, strlen(cur))) {
		next = cjson_strdup(AUDIT_REDACTED);
		if (!next)
			goto fail;
		if (cur_owned)
			cJSON_free(cur);
		cur = next;
	}
	*s = cur;
	return 0;
fail:
	if (cur_owned)
		cJSON_free(cur);
	*s = NULL;
	return -1;
}

/* Redact the member name and string value of item and all it contains. */
static int redact_tree(const struct audit_log *log, cJSON *item)
{
	cJSON *child;
	char *name = item->string;

	if (name) {
		if (redact_string(log, &item->string,
				  !(item->type & cJSON_StringIsConst)) < 0)
			return -1;
		if (item->string != name)
			item->type &= ~cJSON_StringIsConst;
	}
	if (cJSON_IsString(item) &&
	    redact_string(log, &item->valuestring, true) < 0)
		return -1;

	cJSON_ArrayForEach(child, item)
		if (redact_tree(log, child) < 0)
			return -1;
	return 0;
}

/*
 * Turn every number whose printed form contains the secret into the string
 * AUDIT_REDACTED. Only called when the printed line still shows the secret,
 * which string redaction alone cannot explain.
 */
static int redact_numbers(const struct audit_log *log, cJSON *item)
{
	cJSON *child;

	if (cJSON_IsNumber(item)) {
		char *text = cJSON_PrintUnformatted(item);
		bool hit;

		if (!text)
			return -1;
		hit = secrets_found(log, text, strlen(text));
		cJSON_free(text);
		if (!hit)
			return 0;

		item->valuestring = cjson_strdup(AUDIT_REDACTED);
		if (!item->valuestring)
			return -1;
		item->type = cJSON_String | (item->type & cJSON_StringIsConst);
		return 0;
	}

	cJSON_ArrayForEach(child, item)
		if (redact_numbers(log, child) < 0)
			return -1;
	return 0;
}

char *audit_redact_text(const struct audit_log *log, const char *text)
{
	char *redacted = (char *)text, *copy;

	if (redact_string(log, &redacted, false) < 0)
		return NULL;
	copy = strdup(redacted);
	if (redacted != text)
		cJSON_free(redacted);
	return copy;
}

char *audit_redact_print(const struct audit_log *log, cJSON *item, char *err,
			 size_t errlen)
{
	char *text;

	if (redact_tree(log, item) < 0)
		goto nomem;
	text = cJSON_PrintUnformatted(item);
	if (text && secrets_found(log, text, strlen(text))) {
		cJSON_free(text);
		if (redact_numbers(log, item) < 0)
			goto nomem;
		text = cJSON_PrintUnformatted(item);
	}
	if (!text)
		goto nomem;
	if (secrets_found(log, text, strlen(text))) {
		cJSON_free(text);
		snprintf(err, errlen,
			 "a key to redact occurs in the JSON syntax between the values, where it cannot be replaced");
		return NULL;
	}
	return text;
nomem:
	snprintf(err, errlen, "out of memory while redacting");
	return NULL;
}

size_t audit_secret_prefix(const struct audit_log *log, const char *text,
			   size_t len)
{
	size_t i, n, longest = 0;

	for (i = 0; i < log->secret_count; i++) {
		/* A whole form is redacted where it is, not held back. */
		n = strlen(log->secrets[i]) - 1;
		if (n > len)
			n = len;
		for (; n > longest; n--) {
			if (memcmp(text + len - n, log->secrets[i], n) == 0) {
				longest = n;
				break;
			}
		}
	}
	return longest;
}

static void format_timestamp(char *buf, size_t len)
{
	struct timespec now;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", now.tv_nsec / 1000000);
}

/* Whether containers nest more than budget levels deep in item. */
static bool nesting_exceeds(const cJSON *item, int budget)
{
	const cJSON *child;

	if (!cJSON_IsArray(item) && !cJSON_IsObject(item))
		return false;
	if (budget == 0)
		return true;
	cJSON_ArrayForEach(child, item)
		if (nesting_exceeds(child, budget - 1))
			return true;
	return false;
}

/*
 * Reject fields that would make a line the verifier rejects: reserved
 * names, and nesting deeper than cJSON parses (the line's own object takes
 * one level of CJSON_NESTING_LIMIT).
 */
static int fields_check(const cJSON *fields, char *err, size_t errlen)
{
	const cJSON *field;
	size_t i;

	if (!fields)
		return 0;
	if (!cJSON_IsObject(fields)) {
		snprintf(err, errlen,
			 "audit event fields must be a JSON object");
		return -1;
	}

	cJSON_ArrayForEach(field, fields) {
		if (nesting_exceeds(field, CJSON_NESTING_LIMIT - 1)) {
			snprintf(err, errlen,
				 "audit event fields nest deeper than %d levels, more than the verifier parses",
				 CJSON_NESTING_LIMIT - 1);
			return -1;
		}
		for (i = 0; i < sizeof(audit_reserved) / sizeof(*audit_reserved);
		     i++) {
			if (field->string &&
			    strcmp(field->string, audit_reserved[i]) == 0) {
				snprintf(err, errlen,
					 "audit event field \"%s\" is reserved for the log's own members; rename the field",
					 audit_reserved[i]);
				return -1;
			}
		}
	}
	return 0;
}

/* Build the line's object: seq, ts, prev, event, then a copy of fields. */
static cJSON *line_build(const struct audit_log *log, const char *event,
			 const cJSON *fields)
{
	char ts[40];
	cJSON *line, *item;
	const cJSON *field;

	format_timestamp(ts, sizeof(ts));
	line = cJSON_CreateObject();
	if (!line ||
	    !cJSON_AddNumberToObject(line, "seq", (double)(log->count + 1)) ||
	    !cJSON_AddStringToObject(line, "ts", ts) ||
	    !cJSON_AddStringToObject(line, "prev", log->head))
		goto fail;

	/* Only the value: the name "event" is part of the format. */
	item = cJSON_AddStringToObject(line, "event", event);
	if (!item || redact_string(log, &item->valuestring, true) < 0)
		goto fail;

	cJSON_ArrayForEach(field, fields) {
		item = cJSON_Duplicate(field, true);
		if (!item)
			goto fail;
		if (!cJSON_AddItemToObject(line, field->string, item)) {
			cJSON_Delete(item);
			goto fail;
		}
		if (redact_tree(log, item) < 0)
			goto fail;
	}
	return line;
fail:
	cJSON_Delete(line);
	return NULL;
}

/*
 * Print line compactly into log->line, leaving room for the newline.
 * Returns its length, or -1 when it would exceed AUDIT_LINE_MAX or memory
 * ran out.
 */
static long line_print(struct audit_log *log, cJSON *line)
{
	char *grown;

	for (;;) {
		if (log->line &&
		    cJSON_PrintPreallocated(line, log->line,
					    (int)log->line_cap - 1, false))
			break;
		if (log->line_cap > AUDIT_LINE_MAX + 1)
			return -1;

		grown = realloc(log->line, log->line_cap * 2);
		if (!grown)
			return -1;
		log->line = grown;
		log->line_cap *= 2;
	}
	return (long)strlen(log->line);
}

/*
 * Print the line, making sure no form of the secret survives. Numbers are
 * only redacted when the first print shows the secret, which keeps the
 * common case to one pass.
 */
static long line_render(struct audit_log *log, cJSON *line, char *err,
			size_t errlen)
{
	long len = line_print(log, line);

	if (len >= 0 && secrets_found(log, log->line, (size_t)len)) {
		if (redact_numbers(log, line) < 0)
			goto nomem;
		len = line_print(log, line);
	}
	if (len < 0 || len > AUDIT_LINE_MAX) {
		snprintf(err, errlen,
			 "audit event not written: its line is longer than %d bytes or memory ran out; log large data by its sha256 instead",
			 AUDIT_LINE_MAX);
		return -1;
	}
	if (secrets_found(log, log->line, (size_t)len)) {
		snprintf(err, errlen,
			 "audit event not written: a key to redact occurs in the line's fixed text (a member name, the timestamp or a digest), where it cannot be replaced; use another key");
		return -1;
	}
	return len;
nomem:
	snprintf(err, errlen, "audit event not written: out of memory");
	return -1;
}

/* Mark the log unusable; every later call reports this failure. */
static int log_fail(struct audit_log *log, const char *operation, int errnum,
		    char *err, size_t errlen)
{
	log->failed = true;
	snprintf(log->failure, sizeof(log->failure), "%s %s failed: %s",
		 operation, log->path, strerror(errnum));
	snprintf(err, errlen, "%s", log->failure);
	return -1;
}

static int log_check_usable(const struct audit_log *log, char *err,
			    size_t errlen)
{
	if (!log->failed)
		return 0;
	snprintf(err, errlen,
		 "audit log is unusable after an earlier failure (%s); check it with `coworker audit verify %s`",
		 log->failure, log->path);
	return -1;
}

/*
 * Write the whole line with one write() call when the kernel takes it all,
 * as it does for regular files short of a full disk or a file size limit.
 */
static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static long elapsed_ns(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000000000L +
	       (now.tv_nsec - since->tv_nsec);
}

int audit_append(struct audit_log *log, const char *event, const cJSON *fields,
		 bool sync, char *err, size_t errlen)
{
	char digest[AUDIT_DIGEST_HEX];
	cJSON *line;
	long len;

	if (log_check_usable(log, err, errlen) < 0 ||
	    fields_check(fields, err, errlen) < 0)
		return -1;
	if (!event) {
		snprintf(err, errlen, "audit event not written: no event name");
		return -1;
	}

	line = line_build(log, event, fields);
	if (!line) {
		snprintf(err, errlen, "audit event not written: out of memory");
		return -1;
	}
	len = line_render(log, line, err, errlen);
	cJSON_Delete(line);
	if (len < 0)
		return -1;

	if (audit_digest_hex(log->line, (size_t)len, digest) < 0) {
		snprintf(err, errlen, "audit event not written: sha256 failed");
		return -1;
	}

	/*
	 * The chain state advances only after the whole line is in the file.
	 * A failed or partial write leaves a torn line there, so the log
	 * rejects further lines rather than chain onto it.
	 */
	log->line[len] = '\n';
	if (write_all(log->fd, log->line, (size_t)len + 1) < 0)
		return log_fail(log, "write to audit log", errno, err, errlen);
	log->count++;
	memcpy(log->head, digest, sizeof(digest));
	log->unsynced++;

	/*
	 * NOTE: the batch limits are checked only here, so lines written just
	 * before the log goes idle stay unsynced until the next append,
	 * audit_sync or audit_close. A caller with a timer can call audit_sync.
	 */
	if (sync || log->unsynced >= AUDIT_BATCH_LINES ||
	    elapsed_ns(&log->last_sync) >= AUDIT_BATCH_NS)
		return audit_sync(log, err, errlen);
	return 0;
}

int audit_sync(struct audit_log *log, char *err, size_t errlen)
{
	if (log_check_usable(log, err, errlen) < 0)
		return -1;

	clock_gettime(CLOCK_MONOTONIC, &log->last_sync);
	if (log->unsynced == 0)
		return 0;

	/*
	 * No retry: after a failed fdatasync the kernel may already have
	 * dropped the dirty pages, so a second call could report success for
	 * lines that never reached the disk.
	 */
	if (fdatasync(log->fd) < 0)
		return log_fail(log, "fdatasync of audit log", errno, err,
				errlen);
	log->unsynced = 0;
	return 0;
}

const char *audit_head(const struct audit_log *log)
{
	return log->head;
}

long audit_count(const struct audit_log *log)
{
	return log->count;
}

static void log_free(struct audit_log *log)
{
	size_t i;

	if (log->fd >= 0)
		close(log->fd);
	for (i = 0; i < log->secret_count; i++) {
		explicit_bzero(log->secrets[i], strlen(log->secrets[i]));
		free(log->secrets[i]);
	}
	free(log->line);
	free(log->path);
	free(log);
}

int audit_close(struct audit_log *log, char *err, size_t errlen)
{
	int rc;

	if (!log)
		return 0;

	rc = audit_sync(log, err, errlen);
	if (close(log->fd) < 0 && rc == 0) {
		snprintf(err, errlen, "close of audit log %s failed: %s",
			 log->path, strerror(errno));
		rc = -1;
	}
	log->fd = -1;
	log_free(log);
	return rc;
}

/* Make a newly created file's directory entry durable. */
static int sync_parent_dir(const char *path, char *err, size_t errlen)
{
	char *copy = strdup(path);
	int fd, rc = -1;

	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		snprintf(err, errlen,
			 "cannot sync the directory of audit log %s: %s",
			 path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

/*
 * Open the file for appending. O_NOFOLLOW rejects a symbolic link at the
 * path, and O_NONBLOCK keeps a FIFO planted there from blocking the open
 * until the type check rejects it.
 */
static int log_open_file(struct audit_log *log, char *err, size_t errlen)
{
	const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
			  O_NONBLOCK;
	bool created = true;
	struct stat st;

	log->fd = open(log->path, flags | O_CREAT | O_EXCL, 0600);
	if (log->fd < 0 && errno == EEXIST) {
		created = false;
		log->fd = open(log->path, flags);
	}
	if (log->fd < 0 && errno == ELOOP) {
		snprintf(err, errlen,
			 "audit log %s is a symbolic link; give the path of the file itself",
			 log->path);
		return -1;
	}
	if (log->fd < 0 && errno == ENXIO) {
		/* What O_NONBLOCK gives a FIFO without a reader, or a socket. */
		snprintf(err, errlen,
			 "audit log %s is not a regular file; give the path of a regular file",
			 log->path);
		return -1;
	}
	if (log->fd < 0) {
		snprintf(err, errlen, "cannot open audit log %s: %s",
			 log->path, strerror(errno));
		return -1;
	}

	if (fstat(log->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
			 "audit log %s is not a regular file; give the path of a regular file",
			 log->path);
		return -1;
	}
	if (fcntl(log->fd, F_SETFL, O_APPEND) < 0 ||
	    ((st.st_mode & 07777) & ~0600 && fchmod(log->fd, 0600) < 0)) {
		snprintf(err, errlen, "cannot set up audit log %s: %s",
			 log->path, strerror(errno));
		return -1;
	}

	if (flock(log->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen,
				 "audit log %s is in use by another writer, which holds a lock on it; give each session its own log",
				 log->path);
		else
			snprintf(err, errlen, "cannot lock audit log %s: %s",
				 log->path, strerror(errno));
		return -1;
	}
	if (created)
		return sync_parent_dir(log->path, err, errlen);
	return 0;
}

/*
 * Read back the chain of the file just opened, through a second descriptor
 * on the same inode (the write descriptor cannot read), and continue it.
 * The lock is held already, so no other writer can extend the file between
 * this check and our first line.
 */
static int log_continue(struct audit_log *log, char *err, size_t errlen)
{
	struct audit_report report;
	enum audit_verify_status status;
	struct stat wst, rst;
	int fd;

	fd = open(log->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &rst) < 0 || fstat(log->fd, &wst) < 0) {
		snprintf(err, errlen, "cannot read audit log %s: %s",
			 log->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (rst.st_dev != wst.st_dev || rst.st_ino != wst.st_ino) {
		close(fd);
		snprintf(err, errlen,
			 "audit log %s was replaced while it was being opened; try again",
			 log->path);
		return -1;
	}

	status = audit_verify_fd(fd, log->path, NULL, &report);
	close(fd);
	if (status != AUDIT_VERIFY_OK) {
		snprintf(err, errlen,
			 "cannot continue audit log %s: %s; run `coworker audit verify %s`, then move the file aside",
			 log->path, report.message, log->path);
		return -1;
	}
	log->count = report.lines;
	memcpy(log->head, report.head, sizeof(log->head));
	return 0;
}

int audit_add_secret(struct audit_log *log, const char *secret,
		     char *err, size_t errlen)
{
	if (secrets_init(log, secret) == 0)
		return 0;
	snprintf(err, errlen, "%s", errno == ENOSPC ?
		 "the audit log already redacts two keys" : "out of memory");
	return -1;
}

struct audit_log *audit_open(const char *path, const char *redact,
			     char *err, size_t errlen)
{
	struct audit_log *log = calloc(1, sizeof(*log));

	if (!log) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	log->fd = -1;
	log->line_cap = AUDIT_LINE_INITIAL;
	log->line = malloc(log->line_cap);
	log->path = strdup(path);
	if (!log->line || !log->path ||
	    secrets_init(log, redact ? redact : "") < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	if (log_open_file(log, err, errlen) < 0 ||
	    log_continue(log, err, errlen) < 0)
		goto fail;

	clock_gettime(CLOCK_MONOTONIC, &log->last_sync);
	return log;
fail:
	log_free(log);
	return NULL;
}
