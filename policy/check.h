/*
 * Checking policy files for `coworker policy check`: load errors with
 * positions, and rules that can never take effect.
 */
#ifndef COWORKER_POLICY_CHECK_H
#define COWORKER_POLICY_CHECK_H

#include "policy.h"

/* Receives one problem; file is NULL when message names it already. */
typedef void (*policy_diag_fn)(void *ctx, const char *file, int line,
			       int column, const char *message);

/*
 * Does rule a match every subject rule b matches? Only certain cases
 * return true (same tool; bare rules, equal or prefix words, a trailing "**"
 * component over paths beneath its directory, literal paths a glob
 * matches, "*." hosts).
 */
bool policy_rule_covers(const struct policy_rule *a,
			const struct policy_rule *b);

/*
 * Report the rules of p that can never take effect: shadowed by a broader
 * rule of the same or a stronger decision, an allow rule that only reaches
 * protected files, or a glob that matches nothing. Returns the count.
 */
int policy_lint(const struct policy *p, policy_diag_fn diag, void *ctx);

/*
 * Load one file on its own (with the protected list) as a file of layer,
 * report every problem to diag, then lint it. Returns the number of
 * problems, 0 when the file is clean.
 */
int policy_check_file(const char *path, enum policy_layer layer,
		      const char *workspace, const char *home,
		      policy_diag_fn diag, void *ctx);

#endif
