/*
 * The permission policy: rules, their files, and decisions.
 *
 * A rule is written Tool(pattern): Read(glob), Write(glob), Exec(prefix:*)
 * or Exec(exact command), or a bare Tool for every subject of that tool.
 * Files are JSON objects with "allow", "ask" and "deny" arrays of rule
 * strings. Layers only add rules; across all layers deny beats ask beats
 * allow, and a subject that no rule matches gets ask.
 *
 * This module is pure: it reads policy files it is given, but never touches
 * the workspace. Path subjects are workspace-relative, already normalised by
 * the caller (no leading "/", no "." or ".." components, no empty ones).
 */
#ifndef COWORKER_POLICY_H
#define COWORKER_POLICY_H

#include <stdbool.h>
#include <stddef.h>

enum policy_decision {
	POLICY_ALLOW = 0,
	POLICY_ASK = 1,
	POLICY_DENY = 2,
};

enum policy_tool {
	POLICY_READ,
	POLICY_WRITE,
	POLICY_EXEC,
};

struct policy_rule {
	enum policy_tool tool;
	enum policy_decision decision;
	char *pattern;		/* NULL for a bare tool rule */
	bool prefix;		/* Exec(prefix:*) */
	char *text;		/* the rule as written, e.g. "Exec(git diff:*)" */
	char *source;		/* file name or "command line" */
};

struct policy {
	struct policy_rule *rules;
	size_t count;
	size_t cap;
};

/* The outcome of one decision, pointing into the policy (no ownership). */
struct policy_verdict {
	enum policy_decision decision;
	const struct policy_rule *rule;	/* NULL when no rule matched */
	const char *reason;	/* static text when rule is NULL, else NULL */
};

void policy_init(struct policy *p);
void policy_free(struct policy *p);

/*
 * Parse one rule string such as "Exec(git diff:*)" and add it with the given
 * decision. Returns 0, or -1 with err naming the rule and what is wrong.
 */
int policy_add_rule(struct policy *p, enum policy_decision decision,
		    const char *text, const char *source,
		    char *err, size_t errlen);

/*
 * Load a policy file and add its rules. A file that does not exist is an
 * error here; callers that treat a missing project file as empty check
 * first. Errors name the file, the offending value and what to do.
 */
int policy_load_file(struct policy *p, const char *path,
		     char *err, size_t errlen);

/* Decide a Read or Write of a workspace-relative path. */
struct policy_verdict policy_decide_path(const struct policy *p,
					 enum policy_tool tool,
					 const char *relpath);

/*
 * Decide a shell command. The command is split into simple commands at
 * ";", "&&", "||", "|", "&" and newlines (quotes respected); each must be
 * allowed for the whole to be allowed, and the strictest decision wins.
 * Constructs that cannot be judged statically (command or process
 * substitution, backquotes, eval, nested "sh -c" strings, redirection to a
 * path outside the workspace) raise the result to at least ask.
 */
struct policy_verdict policy_decide_command(const struct policy *p,
					    const char *command);

/* Match a glob with "*", "?" and "**" against a workspace-relative path. */
bool policy_glob_match(const char *pattern, const char *path);

/* "allow", "ask" or "deny". */
const char *policy_decision_name(enum policy_decision d);

/* Write the policy's canonical text digest (sha256 hex, 65 bytes). */
void policy_digest(const struct policy *p, char hex[65]);

#endif
