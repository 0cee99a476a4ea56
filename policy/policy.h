/*
 * The permission policy: rules, their files, and decisions.
 *
 * A rule is written Tool(pattern): Read(glob), Write(glob), Exec(prefix:*)
 * or Exec(exact command), Net(host[:port]), Skill(name), or a bare Tool for
 * every subject of that tool. Files are JSON objects with "allow", "ask"
 * and "deny" arrays of rule strings (see docs/policy.md). Layers only add
 * rules; across all layers deny beats ask beats allow, and a subject that
 * no rule matches gets ask.
 *
 * This module is pure: it reads policy files it is given (and the trust
 * record in the user's configuration directory), but never touches the
 * workspace. Path subjects are normalised by the caller (no "." or ".."
 * components, no empty ones): workspace-relative, or absolute from "/".
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
	POLICY_NET,
	POLICY_SKILL,
};

/* The layer a rule came from, in the order the layers are loaded. */
enum policy_layer {
	POLICY_LAYER_PROTECTED,	/* the built-in list of secrets */
	POLICY_LAYER_PRESET,
	POLICY_LAYER_USER,
	POLICY_LAYER_PROJECT,	/* .coworker/policy.json */
	POLICY_LAYER_LOCAL,	/* .coworker/policy.local.json */
	POLICY_LAYER_EXTRA,	/* --policy FILE */
	POLICY_LAYER_COMMAND_LINE,	/* --allow, --ask, --deny */
};

struct policy_rule {
	enum policy_tool tool;
	enum policy_decision decision;
	char *pattern;		/* NULL for a bare tool rule */
	bool prefix;		/* Exec(prefix:*) */
	char *text;		/* the rule as written, e.g. "Exec(git diff:*)" */
	char *source;		/* file name, "command line" or "built-in" */
	char **words;		/* Exec pattern split into shell words */
	size_t nwords;		/* 0 for every rule but a patterned Exec */
	int line, column;	/* of the rule string in source; 0 if none */
	enum policy_layer layer;
	/*
	 * An allow rule of an untrusted project layer: shown and digested
	 * apart, never matched.
	 */
	bool inactive;
	int port;		/* Net: the port, or -1 for any */
	/* Read, Write: bytes of the glob (after "/" or "~/") before a wildcard */
	size_t literal_len;
	/*
	 * The first 8 bytes, zero-padded, of that literal start (paths) or of
	 * the program name (Exec), with mask selecting the bytes that must
	 * match: a filter that needs no pointer to be followed.
	 */
	unsigned long long head, head_mask;
	/* Exec: of the second word; paths: of literal bytes 8 to 15 */
	unsigned long long head1, head1_mask;
	bool head_exact;	/* Exec: head holds the whole program name */
};

#define POLICY_NTOOLS 5

/* Maximum length of a rule policy_add_rule accepts, in bytes. */
#define POLICY_RULE_MAX 4096

/* Largest policy file policy_load_file reads, in bytes. */
#define POLICY_FILE_MAX (1024 * 1024)

/* Maximum length of a command policy_decide_command judges, in bytes. Longer commands are denied. */
#define POLICY_COMMAND_MAX (256 * 1024)

/* A growable list of rule indices. */
struct policy_index {
	size_t *v;
	size_t n, cap;
};

/* Number of buckets in the Exec rule index; a power of two. */
#define POLICY_EXEC_BUCKETS 256

struct policy {
	struct policy_rule *rules;
	size_t count;
	size_t cap;

	/* Indices into rules for each tool, in order, so decisions skip the rest. */
	size_t *by_tool[POLICY_NTOOLS];
	size_t nby_tool[POLICY_NTOOLS];
	size_t cap_by_tool[POLICY_NTOOLS];

	/*
	 * The Exec rules once more, indexed for speed: allow rules with a
	 * pattern in buckets by their first one or two words (NULL until
	 * there is one), every other Exec rule in exec_rest.
	 */
	struct policy_index *exec_buckets;
	struct policy_index exec_rest;

	/*
	 * The built-in protected list (secrets), checked before the rules.
	 * Entries the user file removed with "unprotect" are left out here
	 * and named in unprotected, for the audit log.
	 */
	struct policy_rule *protected_rules;
	size_t nprotected;
	char **unprotected;
	size_t nunprotected;

	/* Absolute workspace and home directory; NULL when not set. */
	char *workspace;
	char *home;
	bool has_absolute;	/* some rule starts with "/" or "~/" */

	/* Project trust, set by policy_load_layers. */
	bool project_trusted;
	size_t inactive_count;	/* project allow rules left out */
	char project_digest[65];	/* "" when there are no project files */
};

/* The outcome of one decision, pointing into the policy (no ownership). */
struct policy_verdict {
	enum policy_decision decision;
	const struct policy_rule *rule;	/* NULL when no rule matched */
	/*
	 * Static text: why, when rule is NULL; when rule is set, NULL or
	 * a note on why the rule's decision was raised (e.g. to ask).
	 */
	const char *reason;
};

void policy_init(struct policy *p);
void policy_free(struct policy *p);

/*
 * Set the absolute workspace and home directories that rules starting with
 * "/" and "~/" are matched against. Either may be NULL. Returns 0, or -1
 * when memory runs out.
 */
int policy_set_roots(struct policy *p, const char *workspace,
		     const char *home);

/*
 * Parse one rule string such as "Exec(git diff:*)" and add it with the given
 * decision. Returns 0, or -1 with err naming the rule and what is wrong.
 */
int policy_add_rule(struct policy *p, enum policy_decision decision,
		    const char *text, const char *source,
		    char *err, size_t errlen);

/* The file, position and layer of a rule, for policy_add_rule_at. */
struct policy_origin {
	const char *source;	/* file name, "command line", ... */
	int line, column;	/* 0 when unknown */
	enum policy_layer layer;
};

/* policy_add_rule with the rule's file, line, column and layer. */
int policy_add_rule_at(struct policy *p, enum policy_decision decision,
		       const char *text, const struct policy_origin *origin,
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

/*
 * The layers policy_load_layers reads, in this order: the preset, the
 * user file, the project file, the personal project file, extra files
 * (--policy) and command-line rules. Every pointer may be NULL.
 */
struct policy_layers {
	const char *preset;	/* "read-only", "workspace-write" (NULL), "full-access" */
	/*
	 * NULL: $XDG_CONFIG_HOME/coworker/policy.json, or
	 * ~/.config/coworker/policy.json; a missing user file is fine.
	 */
	const char *user_file;
	bool no_user_file;	/* skip the user layer altogether (tests) */
	/* Directory for the trust record; NULL: the user file's directory. */
	const char *config_dir;
	const char *workspace;	/* absolute; NULL skips the project layers */
	const char *home;	/* NULL: $HOME */
	const char *const *extra_files;	/* NULL-terminated */
	const char *const *allow;	/* NULL-terminated rule strings */
	const char *const *ask;
	const char *const *deny;
	/* Trust the project for this load (--trust-project); not recorded. */
	bool trust_project;
};

/*
 * Load every layer into p (which must be freshly initialised). Project
 * allow rules take effect only when the project is trusted: by
 * trust_project, by a "trusted" entry in the user file naming the
 * workspace, or by a trust record (policy_trust_record) whose digest still
 * matches the project files. Returns 0, or -1 with err naming the file,
 * line and column of the first error.
 */
int policy_load_layers(struct policy *p, const struct policy_layers *l,
		       char *err, size_t errlen);

/*
 * Record in the user's configuration directory that the project at
 * l->workspace is trusted with its policy files as they are now.
 */
int policy_trust_record(const struct policy_layers *l, char *err,
			size_t errlen);

/*
 * Build the narrowest rules that cover one approved request, for the
 * "always" approval: one exact Exec rule per simple command (words quoted as
 * needed, never a prefix rule), or Read(path) / Write(path) with glob
 * characters escaped. *rules is NULL-terminated; free it with
 * policy_strv_free. Returns -1 with err set when the request cannot be
 * written exactly (substitutions, expanded words): approve it once then.
 */
int policy_approval_rules(enum policy_tool tool, const char *subject,
			  char ***rules, char *err, size_t errlen);

/*
 * Append rules to the allow list of l->workspace/.coworker/policy.local.json
 * (created if missing; written atomically). With keep_trust the trust
 * record is renewed, because the changed file would otherwise lapse it.
 */
int policy_save_approval(const struct policy_layers *l,
			 const char *const *rules, bool keep_trust,
			 char *err, size_t errlen);

void policy_strv_free(char **v);

/* The default user file path into buf; returns 0, or -1 without HOME. */
int policy_user_file_path(char *buf, size_t size);

/* The preset names, NULL-terminated, for help text. */
extern const char *const policy_preset_names[];

/*
 * Decide a Read or Write of a path: workspace-relative, or absolute (from
 * "/"). Absolute subjects meet relative rules only when they lie beneath
 * the workspace, and bare Read or Write rules only inside the workspace.
 */
struct policy_verdict policy_decide_path(const struct policy *p,
					 enum policy_tool tool,
					 const char *relpath);

/*
 * policy_decide_path for a path on a case-insensitive directory: deny and
 * ask rules and the protected list also match when the names differ only
 * in ASCII case. Allow rules still compare exactly.
 */
struct policy_verdict policy_decide_path_folded(const struct policy *p,
						enum policy_tool tool,
						const char *relpath);

/*
 * Decide a connection to host (a name or address, without brackets) on
 * port (1-65535). Names compare case-insensitively.
 */
struct policy_verdict policy_decide_net(const struct policy *p,
					const char *host, int port);

/* Decide loading the skill called name. */
struct policy_verdict policy_decide_skill(const struct policy *p,
					  const char *name);

/*
 * Write one sentence that explains v, naming the rule, its file, line and
 * column, into buf. Returns buf.
 */
const char *policy_verdict_sentence(const struct policy_verdict *v,
				    char *buf, size_t size);

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

/*
 * Decide a request written as a rule: "Exec(git status)", "Read(src/a.c)",
 * "Write(x)", "Net(host:port)" or "Skill(name)". Returns 0, or -1 with err
 * set when the request cannot be parsed.
 */
int policy_decide_request(const struct policy *p, const char *request,
			  struct policy_verdict *v, char *err, size_t errlen);

/* Match a glob with "*", "?" and "**" against a workspace-relative path. */
bool policy_glob_match(const char *pattern, const char *path);

/* "allow", "ask" or "deny". */
const char *policy_decision_name(enum policy_decision d);

/* "Read", "Write", "Exec", "Net" or "Skill". */
const char *policy_tool_name(enum policy_tool tool);

/* "preset", "user", "project", ... */
const char *policy_layer_name(enum policy_layer layer);

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
	bool reads;		/* POLICY_REDIR_FILE opened for reading: <, <> */
	bool writes;		/* ... for writing: >, >>, >|, <>, &>, >&name */
};

enum policy_command_kind {
	POLICY_CMD_SIMPLE,
	POLICY_CMD_TEST,	/* [[ ... ]]: the words are the test, no program runs */
	POLICY_CMD_ARITH,	/* (( ... )): arithmetic, no program runs */
	POLICY_CMD_FOR,		/* for NAME in WORDS: the loop header */
};

struct policy_simple_command {
	enum policy_command_kind kind;
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

/*
 * The parts of a command line that policy_explain_command judged: each
 * simple command, each program another one runs (find -exec, xargs, env,
 * timeout, ...), each redirection target, and the constructs that raised
 * the decision.
 */
enum policy_part_kind {
	POLICY_PART_COMMAND,
	POLICY_PART_READ,	/* an input redirection's file */
	POLICY_PART_WRITE,	/* an output redirection's or option's file */
	POLICY_PART_CONSTRUCT,	/* something the words alone do not show */
};

struct policy_part {
	enum policy_part_kind kind;
	char *subject;		/* command words joined by spaces, or the path */
	struct policy_verdict verdict;
};

struct policy_explanation {
	struct policy_verdict verdict;	/* for the whole line */
	struct policy_part *parts;
	size_t count;
	size_t cap;
};

/*
 * Judges a file that a command line reads or writes through a redirection
 * or an option such as "sort -o FILE". path is the word after quote
 * removal (relative to the shell's working directory, or absolute). The
 * supervisor passes one that resolves the path with the broker; NULL means
 * policy_judge_path_lexically.
 */
typedef struct policy_verdict (*policy_path_judge_fn)(void *ctx,
		const struct policy *p, enum policy_tool tool,
		const char *path);

/*
 * Judge path as written, without looking at the filesystem: "." and ".."
 * are folded, a path that leaves the workspace by ".." gets ask, and the
 * rest goes to policy_decide_path.
 */
struct policy_verdict policy_judge_path_lexically(void *ctx,
		const struct policy *p, enum policy_tool tool,
		const char *path);

/*
 * Decide a command line and list every part judged in out (which the
 * caller frees with policy_explanation_free, also after an error).
 * Returns 0, or -1 when memory runs out (out->verdict is then deny).
 */
int policy_explain_command(const struct policy *p, const char *command,
			   policy_path_judge_fn judge, void *ctx,
			   struct policy_explanation *out);

void policy_explanation_free(struct policy_explanation *e);

/*
 * policy_decide_request with every part listed, as policy_explain_command
 * does for Exec requests; other requests have one part. Returns 0, -1
 * with err set when the request cannot be parsed or memory runs out.
 */
int policy_explain_request(const struct policy *p, const char *request,
			   struct policy_explanation *out, char *err,
			   size_t errlen);

/* policy_decide_command with redirection targets judged by judge. */
struct policy_verdict policy_decide_command_with(const struct policy *p,
		const char *command, policy_path_judge_fn judge, void *ctx);

#endif
