/*
 * The tamper-evident audit log.
 *
 * JSON Lines, one event per line. Every line is an object whose first
 * members are "seq" (1, 2, ...), "ts" (RFC 3339 UTC with milliseconds) and
 * "prev" (hex sha256 of the previous line's bytes without its newline; 64
 * zeros for the first line), followed by "event" and the event's fields.
 * The head digest is the sha256 of the last line. The file is opened with
 * O_APPEND and mode 0600.
 */
#ifndef COWORKER_AUDIT_H
#define COWORKER_AUDIT_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#define AUDIT_DIGEST_HEX 65

struct audit_log;

/*
 * Open (create or continue) the log at path. A log that already has lines
 * is continued: its chain is read and verified first, and a torn last line
 * is an error. redact, when not NULL or empty, is a secret that is replaced
 * by "[REDACTED]" wherever it appears in any later line, together with its
 * base64 form.
 */
struct audit_log *audit_open(const char *path, const char *redact,
			     char *err, size_t errlen);

/*
 * Append one event. fields is an object whose members follow "event"
 * (borrowed; may be NULL). With sync, the line is on disk (fdatasync) before
 * this returns: use it before any action with side effects. Without it,
 * lines are written at once but synced in batches.
 */
int audit_append(struct audit_log *log, const char *event, const cJSON *fields,
		 bool sync, char *err, size_t errlen);

/* fdatasync whatever is not yet synced. */
int audit_sync(struct audit_log *log, char *err, size_t errlen);

/* The current head digest (hex) and number of lines. */
const char *audit_head(const struct audit_log *log);
long audit_count(const struct audit_log *log);

/* Sync and close; the log pointer is freed. */
int audit_close(struct audit_log *log, char *err, size_t errlen);

enum audit_verify_status {
	AUDIT_VERIFY_OK = 0,
	AUDIT_VERIFY_TAMPERED = 1,	/* a line does not chain, or bad JSON */
	AUDIT_VERIFY_TORN = 2,		/* only the last line is incomplete */
	AUDIT_VERIFY_HEAD_MISMATCH = 3,	/* chain intact, head differs */
	AUDIT_VERIFY_ERROR = 4,		/* cannot read the file */
};

/*
 * Verify the chain of the log at path. With head (hex), the final digest
 * must equal it, which catches a cut tail. Writes a human-readable report
 * (one line, naming the first bad line number on failure) to out.
 */
enum audit_verify_status audit_verify(const char *path, const char *head,
				      FILE *out);

#endif
