/*
 * Skills: folders of instructions in the Agent Skills format, read and
 * checked by the supervisor (the worker has no filesystem).
 *
 * A skill is a folder NAME/ holding SKILL.md: YAML front matter with name
 * (equal to the folder name) and description, optionally license,
 * compatibility, metadata and allowed-tools, then Markdown instructions.
 * Other files in the folder are read only on request, beneath the folder.
 *
 * Discovery reads four roots in order: shipped, user, project
 * (WORKSPACE/.coworker/skills) and claude (WORKSPACE/.claude/skills). A
 * later root's skill replaces an earlier one of the same name. A skill
 * that fails to parse or validate is skipped with a warning; discovery
 * itself never fails because of a bad skill.
 */
#ifndef COWORKER_SKILLS_H
#define COWORKER_SKILLS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Largest SKILL.md read, in bytes. */
#define SKILLS_MD_MAX (256 * 1024)

/* Largest other file of a skill that skills_load_file reads, in bytes. */
#define SKILLS_FILE_MAX (1024 * 1024)

/* Most skills one discovery keeps; later ones are skipped with a warning. */
#define SKILLS_MAX 512

#define SKILLS_NAME_MAX 64
#define SKILLS_DESCRIPTION_MAX 1024	/* Unicode characters */
#define SKILLS_COMPATIBILITY_MAX 500	/* Unicode characters */

struct skill {
	char *name;
	char *description;	/* folded to one paragraph by YAML rules */
	char *license;		/* NULL when absent */
	char *compatibility;	/* NULL when absent */
	/*
	 * allowed-tools as a list, whichever way it was written. Only a
	 * narrowing: while the skill is active, calls outside the list go to
	 * ask. has_allowed_tools distinguishes an absent field from an empty list.
	 */
	char **allowed_tools;
	size_t nallowed;
	bool has_allowed_tools;
	char **metadata_keys;	/* metadata mapping, string values only */
	char **metadata_values;
	size_t nmetadata;

	char *root;		/* the skills root the folder was found in */
	char *dir;		/* root + "/" + folder name */
	char *path;		/* dir + "/SKILL.md" */
	const char *source;	/* "shipped", "user", "project", "claude", "check" */
	const char *overridden_source;	/* source it replaced, or NULL */
	bool project;		/* from the workspace: needs a trusted project */
	size_t body_offset;	/* first byte of the Markdown in SKILL.md */
	unsigned body_line;	/* its line number */
};

struct skill_set {
	struct skill *skills;	/* sorted by name after skills_discover */
	size_t count;
	size_t cap;
	size_t untrusted_skipped;	/* project skills left out, see trust */
};

/* Paths of the four roots; an empty string skips that root. */
struct skills_roots {
	char shipped[PATH_MAX];
	char user[PATH_MAX];
	char project[PATH_MAX];	/* WORKSPACE/.coworker/skills */
	char claude[PATH_MAX];	/* WORKSPACE/.claude/skills */
	/*
	 * Project and claude skills are loaded only when this is true, so a
	 * cloned repository cannot add instructions (or replace a shipped
	 * skill) before the user trusts it.
	 */
	bool trust_project;
};

enum skills_severity {
	SKILLS_NOTE,		/* e.g. an unknown key; shown by check */
	SKILLS_WARNING,		/* a skill was skipped */
};

/*
 * Receives each problem found, as "file:line: message". Discovery reports
 * a skipped skill as SKILLS_WARNING with the reason.
 */
typedef void (*skills_warn_fn)(void *ctx, enum skills_severity severity,
			       const char *message);

/* A skills_warn_fn printing warnings (not notes) to the FILE * in ctx. */
void skills_warn_file(void *ctx, enum skills_severity severity,
		      const char *message);

/*
 * Fill roots with the default locations: the shipped folder (see
 * skills_shipped_dir), $XDG_CONFIG_HOME/coworker/skills (or
 * ~/.config/coworker/skills), and the two workspace folders when
 * workspace is not NULL. trust_project starts false.
 */
void skills_roots_default(struct skills_roots *roots, const char *workspace);

/*
 * Write the shipped skills folder to out: BINDIR/../share/coworker/skills
 * when it exists, else BINDIR/../skills when BINDIR/.. is the source tree
 * (a binary run from build/), else COWORKER_SKILLS_DIR. BINDIR comes from
 * /proc/self/exe.
 */
void skills_shipped_dir(char *out, size_t outlen);

void skills_init(struct skill_set *set);
void skills_free(struct skill_set *set);

/*
 * Read every root in order into set (which must be empty). Roots that do
 * not exist are skipped silently. Returns the number of skills kept.
 */
size_t skills_discover(struct skill_set *set, const struct skills_roots *roots,
		       skills_warn_fn warn, void *ctx);

/*
 * Check one root the way discovery reads it, with source "check", and
 * report notes too. If dir itself contains SKILL.md, check that one skill.
 * Returns the number of skills with errors, or -1 if dir cannot be read
 * (with the reason passed to warn).
 */
int skills_check_dir(const char *dir, struct skill_set *set,
		     skills_warn_fn warn, void *ctx);

const struct skill *skills_find(const struct skill_set *set, const char *name);

/*
 * Parse and validate a SKILL.md held in buf. path names it in messages and
 * folder is the name of its folder. On success *sk owns its strings (free
 * with skill_clear); root, dir, path and source are left for the caller.
 * Returns 0, or -1 after passing the error to warn as SKILLS_WARNING.
 * Notes (unknown keys, ignored values) go to warn too.
 */
int skill_parse(const char *buf, size_t len, const char *path,
		const char *folder, struct skill *sk,
		skills_warn_fn warn, void *ctx);

void skill_clear(struct skill *sk);

/*
 * Read the Markdown body of the skill (everything after the front matter)
 * into *out, NUL-terminated, *len bytes without the NUL. The file is read
 * again beneath the skill's root, so a SKILL.md changed since discovery is
 * seen as it is now. Returns 0, or -1 with err.
 */
int skills_load_body(const struct skill *sk, char **out, size_t *len,
		     char *err, size_t errlen);

/*
 * Open another file of the skill, relpath resolved beneath the skill
 * folder (openat2 RESOLVE_BENEATH: no "..", absolute path or symbolic link
 * leading out). Returns a read-only fd of a regular file of at most
 * SKILLS_FILE_MAX bytes, or -1 with err.
 */
int skills_open_file(const struct skill *sk, const char *relpath,
		     char *err, size_t errlen);

/*
 * Read a file of the skill as skills_open_file opens it; it must be UTF-8
 * text. Returns 0 with *out NUL-terminated, or -1 with err.
 */
int skills_load_file(const struct skill *sk, const char *relpath,
		     char **out, size_t *len, char *err, size_t errlen);

/*
 * Build the block for the system prompt: how to use skills, then one line
 * "- name: description" per skill. *out is empty text when the set is
 * empty. Returns 0, or -1 when out of memory.
 */
int skills_prompt_section(const struct skill_set *set, char **out);

/* The "coworker skills" command; argv[0] is "skills". */
int skills_cli(int argc, char **argv);

#endif
