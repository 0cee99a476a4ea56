/*
 * allowed-tools as a narrowing: a loaded skill that declares the field
 * limits which later requests the policy may allow without asking.
 *
 * Each entry is mapped loosely onto coworker's rule grammar ("Read",
 * "read_file" and "View" become Read; "Bash", "Exec" and "run_command"
 * become Exec; "Bash(git diff:*)" becomes Exec(git diff:*); the full
 * table is in docs/skills.md) and kept as an allow rule of a small policy
 * of its own. A request that this policy does not allow goes to ask. An
 * entry with no coworker equivalent allows nothing, so the list can only
 * ever narrow what the session's policy allows, never widen it.
 */
#ifndef COWORKER_SKILLS_NARROW_H
#define COWORKER_SKILLS_NARROW_H

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"
#include "supervisor/skills.h"

/* Longest allowed-tools text kept for messages, in bytes. */
#define SKILLS_NARROW_LISTED_MAX 256

struct skills_narrowing {
	char *name;		/* the skill's name */
	char *path;		/* its SKILL.md, for the audit log */
	char listed[SKILLS_NARROW_LISTED_MAX];	/* allowed-tools, comma-separated */
	struct policy rules;	/* Read, Write and Exec entries */
	struct policy listing;	/* what list_directory may list */
};

/* The requests a narrowing judges. */
enum skills_narrow_request {
	SKILLS_NARROW_READ,	/* read_file */
	SKILLS_NARROW_LIST,	/* list_directory */
	SKILLS_NARROW_WRITE,	/* write_file, edit_file */
	SKILLS_NARROW_EXEC,	/* run_command */
};

/*
 * Build the narrowing of sk, which must declare allowed-tools. workspace
 * is the absolute workspace that rules starting with "/" are matched
 * against. Each entry that maps to nothing, or whose pattern is not a
 * valid rule, is passed to note as a sentence and allows nothing. Returns
 * 0, or -1 with err when memory runs out.
 */
int skills_narrow_init(struct skills_narrowing *n, const struct skill *sk,
		       const char *workspace,
		       void (*note)(void *ctx, const char *message), void *ctx,
		       char *err, size_t errlen);

void skills_narrow_free(struct skills_narrowing *n);

/*
 * The policy a request of the given kind is judged against: its allow
 * rules are the skill's entries for that kind, and anything else is ask.
 */
const struct policy *skills_narrow_policy(const struct skills_narrowing *n,
					  enum skills_narrow_request request);

#endif
