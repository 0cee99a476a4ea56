/*
 * Verifying the audit log's hash chain, and `coworker audit verify`.
 *
 * The file is streamed line by line through a buffer of at most
 * AUDIT_LINE_MAX + 1 bytes, so a huge or hostile file costs time, not
 * memory. Verification stops at the first line that does not chain.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "audit.h"
#include "lib/sha256.h"

#define READ_CHUNK (64 * 1024)

/* The "prev" of the first line. */
static const char audit_zero_digest[AUDIT_DIGEST_HEX] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static const char audit_usage[] =
	"usage: coworker audit verify FILE [--head DIGEST]\n";

int audit_digest_hex(const void *data, size_t len, char hex[AUDIT_DIGEST_HEX])
{
	_Static_assert(AUDIT_DIGEST_HEX == SHA256_HEX, "a sha256 in hex");
	sha256_hex(data, len, hex);
	return 0;
}

enum read_result {
	READ_LINE,		/* a complete line */
	READ_EOF,		/* no more bytes */
	READ_PARTIAL,		/* bytes at EOF without a newline */
	READ_TOO_LONG,		/* more than AUDIT_LINE_MAX bytes, no newline */
	READ_FAILED,		/* read() failed; errno is set */
};

struct line_reader {
	int fd;
	char *buf;
	size_t cap;
	size_t start;		/* first byte not yet returned */
	size_t end;		/* one past the last byte read */
	bool eof;
};

/* Move the unreturned bytes to the front and make room for more. */
static int reader_make_room(struct line_reader *r)
{
	size_t cap;
	char *grown;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end < r->cap)
		return 0;

	cap = r->cap ? r->cap * 2 : READ_CHUNK;
	if (cap > AUDIT_LINE_MAX + 1)
		cap = AUDIT_LINE_MAX + 1;
	grown = realloc(r->buf, cap);
	if (!grown)
		return -1;
	r->buf = grown;
	r->cap = cap;
	return 0;
}

/*
 * Find the next line; *line points into the reader's buffer and *len
 * excludes the newline. A complete line may be modified in place, up to
 * and including its newline, until the next call.
 */
static enum read_result reader_next(struct line_reader *r, char **line,
				    size_t *len)
{
	char *newline;
	ssize_t n;

	for (;;) {
		/* Nothing buffered yet (buf may still be NULL): read first. */
		newline = r->end > r->start ?
			  memchr(r->buf + r->start, '\n', r->end - r->start) :
			  NULL;
		*line = r->buf + r->start;
		if (newline) {
			*len = (size_t)(newline - *line);
			r->start += *len + 1;
			return READ_LINE;
		}

		*len = r->end - r->start;
		if (*len > AUDIT_LINE_MAX)
			return READ_TOO_LONG;
		if (r->eof) {
			r->start = r->end;
			return *len ? READ_PARTIAL : READ_EOF;
		}

		if (reader_make_room(r) < 0) {
			errno = ENOMEM;
			return READ_FAILED;
		}
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return READ_FAILED;
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
}

/*
 * Check one complete line (NUL-terminated at len) as line number n, whose
 * predecessor's digest is prev. On failure, reason explains it.
 */
static int check_line(const char *line, size_t len, long n, const char *prev,
		      char *reason, size_t reasonlen)
{
	const cJSON *seq, *item;
	cJSON *json;
	int rc = -1;

	if (memchr(line, '\0', len)) {
		snprintf(reason, reasonlen, "contains a NUL byte");
		return -1;
	}
	json = cJSON_ParseWithLengthOpts(line, len + 1, NULL, true);
	if (!cJSON_IsObject(json)) {
		snprintf(reason, reasonlen, "not valid JSON");
		goto out;
	}

	/* The range check comes first, so the cast below is defined. */
	seq = cJSON_GetObjectItemCaseSensitive(json, "seq");
	if (!cJSON_IsNumber(seq) || !(seq->valuedouble >= 0) ||
	    seq->valuedouble > 9e15 ||
	    (double)(long long)seq->valuedouble != seq->valuedouble) {
		snprintf(reason, reasonlen, "seq is missing or not an integer");
		goto out;
	}
	if (seq->valuedouble != (double)n) {
		snprintf(reason, reasonlen, "seq %.0f, expected %ld",
			 seq->valuedouble, n);
		goto out;
	}

	item = cJSON_GetObjectItemCaseSensitive(json, "prev");
	if (!cJSON_IsString(item) || strcmp(item->valuestring, prev) != 0) {
		if (n == 1)
			snprintf(reason, reasonlen,
				 "prev is not 64 zeros, as the first line's must be");
		else
			snprintf(reason, reasonlen, "prev does not match line %ld",
				 n - 1);
		goto out;
	}

	item = cJSON_GetObjectItemCaseSensitive(json, "ts");
	if (!cJSON_IsString(item)) {
		snprintf(reason, reasonlen, "ts is missing or not a string");
		goto out;
	}
	item = cJSON_GetObjectItemCaseSensitive(json, "event");
	if (!cJSON_IsString(item)) {
		snprintf(reason, reasonlen, "event is missing or not a string");
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(json);
	return rc;
}

/* Copy a 64-digit hex digest in lower case; -1 when head is not one. */
static int head_normalize(const char *head, char out[AUDIT_DIGEST_HEX])
{
	size_t i;

	for (i = 0; i < AUDIT_DIGEST_HEX - 1; i++) {
		char c = head[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		out[i] = c;
	}
	out[i] = '\0';
	return head[i] == '\0' ? 0 : -1;
}

/* Report on a log whose complete lines all chained. */
static enum audit_verify_status report_intact(struct audit_report *report,
					      const char *want, long matched)
{
	long n = report->lines;
	const char *noun = n == 1 ? "line" : "lines";

	if (!want) {
		snprintf(report->message, sizeof(report->message),
			 "%ld %s, chain intact, head %s", n, noun, report->head);
		return AUDIT_VERIFY_OK;
	}
	if (n > 0 && matched == n) {
		snprintf(report->message, sizeof(report->message),
			 "%ld %s, chain intact, head %s matches", n, noun,
			 report->head);
		return AUDIT_VERIFY_OK;
	}

	/*
	 * No later line vouches for the last one, so an edited last line and
	 * a cut tail both leave an intact chain with another head.
	 */
	if (matched > 0)
		snprintf(report->message, sizeof(report->message),
			 "%ld %s, chain intact, but the expected head is the digest of line %ld; lines %ld..%ld were added after it",
			 n, noun, matched, matched + 1, n);
	else if (n == 0)
		snprintf(report->message, sizeof(report->message),
			 "the log is empty, so it cannot end with the expected head %s: every line may have been cut",
			 want);
	else
		snprintf(report->message, sizeof(report->message),
			 "%ld %s, chain intact, but head %s differs from the expected %s: line %ld may have been edited, or lines after %ld may have been cut, or the expected digest is of another log",
			 n, noun, report->head, want, n, n);
	return AUDIT_VERIFY_HEAD_MISMATCH;
}

static enum audit_verify_status report_torn(struct audit_report *report,
					    const char *want)
{
	long n = report->lines + 1;
	const char *note = want && strcmp(want, report->head) != 0 ?
		"; the expected head is not the head of the lines before it" :
		"";

	if (n == 1)
		snprintf(report->message, sizeof(report->message),
			 "line 1 is incomplete (torn write, probably a crash); no complete line precedes it%s",
			 note);
	else
		snprintf(report->message, sizeof(report->message),
			 "line %ld is incomplete (torn write, probably a crash); lines 1..%ld verify, head %s%s",
			 n, n - 1, report->head, note);
	return AUDIT_VERIFY_TORN;
}

enum audit_verify_status audit_verify_fd(int fd, const char *name,
					 const char *head,
					 struct audit_report *report)
{
	struct line_reader reader = { .fd = fd };
	enum audit_verify_status status;
	char want[AUDIT_DIGEST_HEX], digest[AUDIT_DIGEST_HEX], reason[128];
	enum read_result got;
	long matched = 0;
	size_t len;
	char *line;

	report->lines = 0;
	memcpy(report->head, audit_zero_digest, sizeof(report->head));
	if (head && head_normalize(head, want) < 0) {
		snprintf(report->message, sizeof(report->message),
			 "the expected head must be 64 hex digits (a sha256 digest)");
		return AUDIT_VERIFY_ERROR;
	}

	for (;;) {
		got = reader_next(&reader, &line, &len);
		if (got != READ_LINE)
			break;

		if (audit_digest_hex(line, len, digest) < 0) {
			errno = EIO;
			got = READ_FAILED;
			break;
		}
		line[len] = '\0';
		if (check_line(line, len, report->lines + 1, report->head,
			       reason, sizeof(reason)) < 0) {
			snprintf(report->message, sizeof(report->message),
				 "line %ld: %s", report->lines + 1, reason);
			status = AUDIT_VERIFY_TAMPERED;
			goto out;
		}
		report->lines++;
		memcpy(report->head, digest, sizeof(digest));
		if (head && strcmp(digest, want) == 0)
			matched = report->lines;
	}

	switch (got) {
	case READ_EOF:
		status = report_intact(report, head ? want : NULL, matched);
		break;
	case READ_PARTIAL:
		status = report_torn(report, head ? want : NULL);
		break;
	case READ_TOO_LONG:
		snprintf(report->message, sizeof(report->message),
			 "line %ld: longer than %d bytes, more than any line the log writes",
			 report->lines + 1, AUDIT_LINE_MAX);
		status = AUDIT_VERIFY_TAMPERED;
		break;
	default:
		snprintf(report->message, sizeof(report->message),
			 "cannot read %s: %s", name, strerror(errno));
		status = AUDIT_VERIFY_ERROR;
		break;
	}
out:
	free(reader.buf);
	return status;
}

enum audit_verify_status audit_verify(const char *path, const char *head,
				      FILE *out)
{
	struct audit_report report;
	enum audit_verify_status status;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(out, "audit: cannot open %s: %s\n", path,
			strerror(errno));
		return AUDIT_VERIFY_ERROR;
	}
	status = audit_verify_fd(fd, path, head, &report);
	close(fd);

	fprintf(out, "audit: %s\n", report.message);
	return status;
}

/* Exit statuses of `coworker audit verify`, as docs/cli.md lists them. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_BROKEN = 1,	/* tampered, head mismatch, or an empty log */
	CLI_EXIT_TORN = 2,
	CLI_EXIT_USAGE = 3,	/* also a file that cannot be opened or read */
	CLI_EXIT_HELP = -1,	/* --help printed; exit 0 */
};

static int cli_usage_error(const char *problem, const char *value)
{
	fprintf(stderr, "coworker audit verify: %s%s\n", problem, value);
	fputs(audit_usage, stderr);
	return CLI_EXIT_USAGE;
}

/* Parse FILE [--head DIGEST]; returns 0, CLI_EXIT_HELP or CLI_EXIT_USAGE. */
static int cli_parse(int argc, char **argv, const char **file,
		     const char **head)
{
	char normalized[AUDIT_DIGEST_HEX];
	bool options = true;
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (options && strcmp(arg, "--") == 0) {
			options = false;
		} else if (options && strcmp(arg, "--head") == 0) {
			if (++i >= argc)
				return cli_usage_error("missing digest after --head", "");
			*head = argv[i];
		} else if (options && strncmp(arg, "--head=", 7) == 0) {
			*head = arg + 7;
		} else if (options && (strcmp(arg, "-h") == 0 ||
				       strcmp(arg, "--help") == 0)) {
			fputs(audit_usage, stdout);
			return CLI_EXIT_HELP;
		} else if (options && arg[0] == '-' && arg[1] != '\0') {
			return cli_usage_error("unknown option ", arg);
		} else if (*file) {
			return cli_usage_error("more than one file given: ", arg);
		} else {
			*file = arg;
		}
	}

	if (!*file)
		return cli_usage_error("missing log file", "");
	if (*head && head_normalize(*head, normalized) < 0)
		return cli_usage_error(
			"--head must be 64 hex digits (a sha256 digest), not ",
			*head);
	return 0;
}

int audit_cli_verify(int argc, char **argv)
{
	const char *file = NULL, *head = NULL;
	struct audit_report report;
	enum audit_verify_status status;
	int rc, fd;

	rc = cli_parse(argc, argv, &file, &head);
	if (rc == CLI_EXIT_HELP)
		return CLI_EXIT_OK;
	if (rc != 0)
		return rc;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "audit: cannot open %s: %s\n", file,
			strerror(errno));
		return CLI_EXIT_USAGE;
	}
	status = audit_verify_fd(fd, file, head, &report);
	close(fd);

	/*
	 * An empty file is an intact chain, which lets audit_open start a log
	 * in it, but it records no session, because each session writes
	 * session_start first. Without --head, nothing else would flag a log
	 * whose lines were all cut.
	 */
	if (status == AUDIT_VERIFY_OK && report.lines == 0) {
		printf("audit: %s is empty (0 bytes), so it records no session: its lines were cut, or the session stopped before writing its first line\n",
		       file);
		return CLI_EXIT_BROKEN;
	}
	fprintf(status == AUDIT_VERIFY_ERROR ? stderr : stdout, "audit: %s\n",
		report.message);
	switch (status) {
	case AUDIT_VERIFY_OK:
		return CLI_EXIT_OK;
	case AUDIT_VERIFY_TAMPERED:
	case AUDIT_VERIFY_HEAD_MISMATCH:
		return CLI_EXIT_BROKEN;
	case AUDIT_VERIFY_TORN:
		return CLI_EXIT_TORN;
	default:
		return CLI_EXIT_USAGE;
	}
}
