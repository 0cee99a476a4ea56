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
	char **words;		/* Exec pattern split into shell words */
	size_t nwords;		/* 0 for every rule but a patterned Exec */
};

/* Maximum length of a rule policy_add_rule accepts, in bytes. */
#define POLICY_RULE_MAX 4096

/* Largest policy file policy_load_file reads, in bytes. */
#define POLICY_FILE_MAX (1024 * 1024)

/* Maximum length of a command policy_decide_command judges, in bytes. Longer commands are denied. */
#define POLICY_COMMAND_MAX (256 * 1024)

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

/* Remove every rule after the first count, e.g. to undo a partial load. */
void policy_truncate(struct policy *p, size_t count);

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

/*
 * Write the policy's digest: sha256 in hex (64 digits and a NUL) over one
 * line "decision<TAB>rule text<LF>" per rule, in the order they were added.
 * hex is the empty string if libcrypto fails.
 */
void policy_digest(const struct policy *p, char hex[65]);

/*
 * The shell lexer behind policy_decide_command, exposed for tests and for
 * explaining decisions. It is a lexer, not a parser: it finds simple
 * commands, their words, leading assignments and redirections, and notes
 * the constructs whose effect it cannot see.
 */

/* A word after quote removal. */
struct policy_word {
	char *text;
	/*
	 * The word may differ at run time: it contains a parameter expansion,
	 * a command substitution, an unquoted glob or brace character, a
	 * leading "~", or $'...' escapes.
	 */
	bool dynamic;
};

enum policy_redir_kind {
	POLICY_REDIR_FILE,	/* <, >, >>, >|, <>, &>, &>>, >&name */
	POLICY_REDIR_DUP,	/* >&2, 2>&1, <&0, >&- */
	POLICY_REDIR_HEREDOC,	/* << and <<-; target is the delimiter */
	POLICY_REDIR_HERESTRING,	/* <<< */
};

struct policy_redir {
	enum policy_redir_kind kind;
	struct policy_word target;
};

struct policy_simple_command {
	struct policy_word *words;	/* without assignments and redirections */
	size_t nwords;
	struct policy_word *assigns;	/* leading NAME=value words */
	size_t nassigns;
	struct policy_redir *redirs;
	size_t nredirs;
};

struct policy_command_list {
	struct policy_simple_command *cmds;
	size_t count;
	size_t cap;
	/*
	 * Static text naming the first construct the lexer could not judge
	 * (command substitution, unterminated quote, ...), or NULL.
	 */
	const char *unjudged;
};

/*
 * Split a shell command into simple commands, including those inside
 * command and process substitutions, so that a deny rule still sees them.
 * Simple commands without words (only assignments or redirections) are
 * kept. Returns 0, or -1 when memory runs out.
 */
int policy_shell_split(const char *command,
		       struct policy_command_list *list);

void policy_command_list_free(struct policy_command_list *list);

/*
 * Check one simple command for what the Exec rules cannot see: eval, exec,
 * source, nested "sh -c" strings, assignments that change which program
 * runs or how, here-documents, redirections out of the workspace and
 * command names that come from an expansion. Returns static text naming
 * the construct, or NULL.
 */
const char *policy_command_unjudged(const struct policy_simple_command *cmd);

#endif
