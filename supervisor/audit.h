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

/*
 * Maximum line length in bytes, without the newline. audit_append rejects an event
 * whose line would be longer, and audit_verify reports a longer line as
 * tampered, so memory stays bounded while reading a hostile file.
 */
#define AUDIT_LINE_MAX (1024 * 1024)

/* Placeholder that replaces the secret given to audit_open. */
#define AUDIT_REDACTED "[REDACTED]"

/*
 * Shortest secret that is redacted, in bytes. A shorter key is taken for
 * a placeholder such as the "x" or "test" that people give local model
 * servers. Replacing it everywhere would garble the log ("unit[REDACTED]"
 * for "unittest"), and a key that occurs in a line's fixed text, as "e" or
 * "ab" in a digest, would stop every append. Keys that OpenAI and
 * Anthropic issue have more than 40 characters.
 */
#define AUDIT_SECRET_MIN 16

struct audit_log;

/*
 * Open (create or continue) the log at path. A log that already has lines
 * is continued: its chain is read and verified first, and a torn last line
 * is an error. redact, when not NULL, is a secret that is replaced by
 * "[REDACTED]" wherever it appears in any later line, together with its
 * base64 forms, unless it is shorter than AUDIT_SECRET_MIN.
 *
 * The path must not be a symbolic link, and a file whose mode is looser
 * than 0600 is changed to 0600. The log holds an exclusive flock(2) on the
 * file until audit_close, so a second writer fails here instead of
 * breaking the chain.
 */
struct audit_log *audit_open(const char *path, const char *redact,
			     char *err, size_t errlen);

/*
 * Redact secret, and its base64 forms, in every later line too, as the
 * redact argument of audit_open does; a secret shorter than
 * AUDIT_SECRET_MIN is skipped. Room is kept for one secret besides that
 * one. Returns -1 with err set when the secret cannot be added.
 */
int audit_add_secret(struct audit_log *log, const char *secret,
		     char *err, size_t errlen);

/*
 * Check whether secret is shorter than AUDIT_SECRET_MIN, so that
 * audit_open and audit_add_secret do not redact it.
 */
bool audit_secret_too_short(const char *secret);

/*
 * The log's secrets are redacted in what the session prints as well, with
 * the functions below, so that its output hides what the log hides.
 */

/*
 * Copy text with every form of the log's secrets replaced by
 * AUDIT_REDACTED, as in a line's strings. Returns the copy (free it with
 * free()), or NULL when memory ran out.
 */
char *audit_redact_text(const struct audit_log *log, const char *text);

/*
 * Redact item in place as audit_append redacts a line, then print it
 * compactly. item must own its strings (no cJSON references). Returns the
 * text (free it with cJSON_free()), or NULL with err set when memory ran
 * out or a secret occurs in the JSON syntax itself.
 */
char *audit_redact_print(const struct audit_log *log, cJSON *item, char *err,
			 size_t errlen);

/*
 * Return the length of the longest end of the len bytes at text that
 * begins a form of a secret without completing it. A caller that receives
 * text in pieces prints the piece without that end and prepends the end
 * to the next piece, because redacting each piece alone misses a secret
 * split between two.
 */
size_t audit_secret_prefix(const struct audit_log *log, const char *text,
			   size_t len);

/*
 * Append one event. fields is an object whose members follow "event"
 * (borrowed; may be NULL). With sync, the line is on disk (fdatasync) before
 * this returns: use it before any action with side effects. Without it,
 * lines are written at once but synced in batches: at the latest after 256
 * lines or 100 ms since the last sync, checked on each append.
 *
 * Redaction covers the event name, every string value and member name at
 * any depth, and numbers whose printed form contains the secret (those
 * become the string "[REDACTED]"). The secret can still occur in a line's
 * fixed text: a member name of the format, the timestamp, the digest or
 * the placeholder itself. Such a line is not written and the call fails.
 * A secret of AUDIT_SECRET_MIN bytes or more causes that only by chance,
 * for example a key of hex digits that a digest happens to contain.
 *
 * An event that is invalid (fields not an object, a field named "seq",
 * "ts", "prev" or "event", a line longer than AUDIT_LINE_MAX) fails and
 * leaves the log usable. A failed write or fdatasync leaves the log
 * unusable: every later append, sync and close fails.
 */
int audit_append(struct audit_log *log, const char *event, const cJSON *fields,
		 bool sync, char *err, size_t errlen);

/* fdatasync whatever is not yet synced. */
int audit_sync(struct audit_log *log, char *err, size_t errlen);

/*
 * The current head digest (hex) and number of lines. The head of a log with
 * no lines is 64 zeros, the "prev" of its first line.
 */
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

/* Result of a verification, for callers that print it themselves. */
struct audit_report {
	long lines;			/* complete lines that verify */
	char head[AUDIT_DIGEST_HEX];	/* digest of the last of them */
	char message[512];		/* one line, without "audit: " or newline */
};

/*
 * Verify the log open for reading at fd, from its current offset to EOF,
 * as audit_verify does; name is used in messages. The fd is not closed.
 */
enum audit_verify_status audit_verify_fd(int fd, const char *name,
					 const char *head,
					 struct audit_report *report);

/* Write the hex sha256 of len bytes at data to hex; 0, or -1 on failure. */
int audit_digest_hex(const void *data, size_t len,
		     char hex[AUDIT_DIGEST_HEX]);

/*
 * Run `coworker audit verify FILE [--head DIGEST]`; argv[0] is "verify".
 * The report goes to stdout, usage and read errors to stderr. Returns the
 * exit status: 0 intact, 1 tampered or head mismatch, 2 torn last line,
 * 3 usage or read error.
 */
int audit_cli_verify(int argc, char **argv);

#endif
