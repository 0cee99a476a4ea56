/*
 * Interfaces shared by the files of the policy module, not by its callers.
 */
#ifndef COWORKER_POLICY_INTERNAL_H
#define COWORKER_POLICY_INTERNAL_H

#include <sys/types.h>

#include "check.h"
#include "policy.h"

/* Parse a rule into r (zeroed first); the caller frees r, also on error. */
int policy_rule_parse(struct policy_rule *r, enum policy_decision decision,
		      const char *text, const struct policy_origin *o,
		      char *err, size_t errlen);
void policy_rule_free(struct policy_rule *r);

/*
 * Pack up to min(n, 8) bytes of s (stopping after a NUL) into head, and
 * set the matching bytes of mask. Comparing (x & mask) == head for x, the
 * packed start of a subject, is a necessary test for a literal match.
 */
void policy_head(const char *s, size_t n, unsigned long long *head,
		 unsigned long long *mask);

/* Append a parsed rule to p (taking it over) and index it. */
int policy_rule_append(struct policy *p, struct policy_rule *r);

/*
 * The Exec rule index (exec_index.c). policy_exec_bucket hashes a rule's
 * or a command's first word, and second when given, to a bucket.
 */
size_t policy_exec_bucket(const char *first, const char *second);
int policy_exec_index_add(struct policy *p, const struct policy_rule *r,
			  size_t index);
void policy_exec_index_truncate(struct policy *p, size_t count);
void policy_exec_index_free(struct policy *p);

/* A Read or Write rule whose pattern starts with "/" or "~/". */
bool policy_rule_is_absolute(const struct policy_rule *r);

/* Does rule r (Read or Write) match the path? */
bool policy_rule_matches_path(const struct policy *p,
			      const struct policy_rule *r, const char *path);

/* Does Exec rule r match cmd's words, ignoring the risky-option table? */
bool policy_rule_matches_command(const struct policy_rule *r,
				 const struct policy_simple_command *cmd);

/*
 * The built-in protected list: rule patterns that deny Read and Write
 * before any layer's rules are looked at. NULL-terminated.
 */
extern const char *const policy_protected_list[];

/* Fill p->protected_rules from the built-in list minus p->unprotected. */
int policy_protected_load(struct policy *p, char *err, size_t errlen);

/*
 * The risky-option table: programs whose options run other programs or
 * write files. policy_program_risk returns a static reason naming the
 * first such form in cmd and sets *index to the word that shows it, or
 * returns NULL.
 */
const char *policy_program_risk(const struct policy_simple_command *cmd,
				size_t *index);

/*
 * Programs that run another program given in their words (env, nice,
 * timeout, xargs, find -exec, ...). Finds the next wrapped command whose
 * words begin at or after *from, stores its word range in [*start, *end)
 * and moves *from past it. Returns false when there is none.
 */
bool policy_program_wrapped(const struct policy_simple_command *cmd,
			    size_t *from, size_t *start, size_t *end);

/*
 * Files that options of cmd write ("sort -o FILE", "find -fprint FILE",
 * "git diff --output=FILE"): the k-th such target, or NULL past the last.
 */
const char *policy_program_write_target(const struct policy_simple_command *cmd,
					size_t k);

/*
 * Positions of the values in a JSON text that cJSON has accepted, looked
 * up by node. The raw text is walked in step with the tree, because cJSON
 * itself records no positions.
 */
struct policy_json_pos;
struct cJSON;
struct policy_json_pos *policy_json_pos_build(const char *text, size_t len,
					      const struct cJSON *root);
/* Line and column (from 1) of item's value, or of its key when key is set. */
void policy_json_pos_get(const struct policy_json_pos *map,
			 const struct cJSON *item, bool key,
			 int *line, int *column);
void policy_json_pos_free(struct policy_json_pos *map);

/*
 * Load a file as policy_load_file does, tagging rules with layer. Every
 * problem goes to diag (when not NULL) rather than only the first;
 * unprotect is accepted only for the user layer and trusted paths are
 * collected into *trusted (NULL-terminated, caller frees) when asked for.
 */
int policy_load_file_layer(struct policy *p, const char *path,
			   enum policy_layer layer, policy_diag_fn diag,
			   void *ctx, char ***trusted, char *err,
			   size_t errlen);

/*
 * policy_load_file_layer on text already in memory; name stands for the
 * file in messages. buf must have room for one byte past len (a NUL is
 * written there).
 */
int policy_load_buffer_layer(struct policy *p, const char *name, char *buf,
			     size_t len, enum policy_layer layer,
			     policy_diag_fn diag, void *ctx, char ***trusted,
			     char *err, size_t errlen);

/*
 * Append a copy of s to the NULL-terminated vector *v of *n strings.
 * Returns 0, or -1 when out of memory (the vector stays valid).
 */
int policy_strv_push(char ***v, size_t *n, const char *s);

/* The paths of the project file and the personal project file. */
void policy_project_paths(const char *workspace, char project[4096],
			  char local[4096]);

/*
 * Write the sha256 of the project's policy files to hex, or "" when
 * neither file exists. Returns -1 with err naming the file when one
 * cannot be read (trust.c).
 */
int policy_project_digest(const char *workspace, char hex[65], char *err,
			  size_t errlen);

/*
 * Set *trusted to whether the trust record lists l->workspace with this
 * digest; a missing record lists nothing. Returns -1 with err naming the
 * file, and the line and column when known, when the record exists but
 * cannot be read or parsed (trust.c).
 */
int policy_trust_recorded(const struct policy_layers *l, const char *digest,
			  bool *trusted, char *err, size_t errlen);

/*
 * Write text and a newline to path through a temporary file with mode,
 * fsync and a rename, so a crash leaves the old file or the new one.
 * Returns 0, or -1 with err naming the path and the cause.
 */
int policy_write_atomic(const char *path, const char *text, mode_t mode,
			char *err, size_t errlen);

#endif
