/*
 * Checks for `coworker policy check`: rules that can never take effect.
 *
 * A rule is dead when a broader rule of the same file, with the same or a
 * stronger decision, covers every subject it matches: it is then redundant
 * or overruled. An allow rule is dead too when the built-in protected list
 * covers everything it would open. "Covers" is decided conservatively:
 * only cases that are certain are reported, so a clean check does not
 * prove that no rule is shadowed.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "internal.h"

static bool has_glob_meta(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

/* Strip the "/" or "~/" of an absolute pattern and set kind to 1 or 2 (0: relative). */
static const char *path_body(const char *pat, int *kind)
{
	if (pat[0] == '/') {
		*kind = 1;
		return pat + 1;
	}
	if (pat[0] == '~') {
		*kind = 2;
		return pat + 2;
	}
	*kind = 0;
	return pat;
}

/* Does glob a match every path glob b matches? True only when certain. */
static bool glob_covers(const char *a, const char *b)
{
	size_t n = strlen(a);
	int ka, kb;

	a = path_body(a, &ka);
	b = path_body(b, &kb);
	if (ka != kb)
		return false;
	n = strlen(a);
	if (strcmp(a, b) == 0 || strcmp(a, "**") == 0)
		return true;
	if (!has_glob_meta(b))
		return policy_glob_match(a, b);
	/* A trailing "**" component covers anything beneath its directory. */
	if (n >= 3 && strcmp(a + n - 3, "/**") == 0 &&
	    strncmp(a, b, n - 2) == 0 && !memchr(a, '*', n - 3) &&
	    !strpbrk(a, "?[\\"))
		return true;
	/* "**" then one name pattern covers any glob whose last name it covers. */
	if (strncmp(a, "**/", 3) == 0 && !strchr(a + 3, '/')) {
		const char *tail = strrchr(b, '/');

		tail = tail ? tail + 1 : b;
		return strcmp(tail, a + 3) == 0 ||
		       (!has_glob_meta(tail) && policy_glob_match(a + 3, tail));
	}
	return false;
}

static bool host_covers(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (strcmp(a, "*") == 0 || strcmp(a, b) == 0)
		return true;
	if (strncmp(a, "*.", 2) != 0)
		return false;
	/* "*.x.com" covers "y.x.com" and "*.y.x.com". */
	return lb > la - 1 && strcmp(b + lb - (la - 1), a + 1) == 0;
}

static bool words_prefix(const struct policy_rule *a,
			 const struct policy_rule *b)
{
	size_t i;

	if (a->nwords > b->nwords || (!a->prefix && (b->prefix ||
						     a->nwords != b->nwords)))
		return false;
	for (i = 0; i < a->nwords; i++) {
		if (strcmp(a->words[i], b->words[i]) != 0)
			return false;
	}
	return true;
}

bool policy_rule_covers(const struct policy_rule *a,
			const struct policy_rule *b)
{
	if (a->tool != b->tool)
		return false;
	if (!a->pattern)
		return !policy_rule_is_absolute(b);
	if (!b->pattern)
		return false;
	switch (a->tool) {
	case POLICY_EXEC:
		return words_prefix(a, b);
	case POLICY_NET:
		return host_covers(a->pattern, b->pattern) &&
		       (a->port < 0 || a->port == b->port);
	case POLICY_READ:
	case POLICY_WRITE:
	case POLICY_SKILL:
		return glob_covers(a->pattern, b->pattern);
	}
	return false;
}

/* A class such as "[z-a]" matches nothing, so neither does the rule. */
static bool has_empty_range(const char *pat)
{
	const char *c;

	for (c = pat; (c = strchr(c, '[')); c++) {
		if (c[1] && c[2] == '-' && c[3] && c[3] != ']' &&
		    (unsigned char)c[3] < (unsigned char)c[1])
			return true;
	}
	return false;
}

static void say(policy_diag_fn diag, void *ctx, const struct policy_rule *r,
		const char *fmt, const char *a, const char *b, const char *c)
{
	char msg[2048];

	snprintf(msg, sizeof(msg), fmt, a, b, c);
	diag(ctx, r->source, r->line, r->column, msg);
}

static int lint_rule(const struct policy *p, size_t i, policy_diag_fn diag,
		     void *ctx)
{
	const struct policy_rule *r = &p->rules[i], *a;
	char where[1100];
	size_t k;

	if (r->pattern && (r->tool == POLICY_READ || r->tool == POLICY_WRITE ||
			   r->tool == POLICY_SKILL) &&
	    has_empty_range(r->pattern)) {
		say(diag, ctx, r, "rule \"%s\" can never match: a character class has an empty range%s%s",
		    r->text, "", "");
		return 1;
	}
	for (k = 0; r->decision == POLICY_ALLOW && r->pattern &&
		    (r->tool == POLICY_READ || r->tool == POLICY_WRITE) &&
		    k < p->nprotected; k++) {
		if (glob_covers(p->protected_rules[k].pattern, r->pattern)) {
			say(diag, ctx, r, "rule \"%s\" can never take effect: \"%s\" is on the built-in protected list%s",
			    r->text, p->protected_rules[k].text, "");
			return 1;
		}
	}
	for (k = 0; k < p->count; k++) {
		a = &p->rules[k];
		if (k == i || a->decision < r->decision ||
		    !policy_rule_covers(a, r))
			continue;
		/* Of two identical rules, report only the later one. */
		if (a->decision == r->decision && k > i &&
		    policy_rule_covers(r, a))
			continue;
		snprintf(where, sizeof(where), "%s:%d:%d", a->source, a->line,
			 a->column);
		if (a->decision > r->decision)
			say(diag, ctx, r, "rule \"%s\" can never take effect: the broader %s rule \"%s\" wins wherever it matches",
			    r->text, policy_decision_name(a->decision), a->text);
		else
			say(diag, ctx, r, "rule \"%s\" is shadowed by the broader rule \"%s\" at %s; remove one of them",
			    r->text, a->text, where);
		return 1;
	}
	return 0;
}

int policy_lint(const struct policy *p, policy_diag_fn diag, void *ctx)
{
	size_t i;
	int problems = 0;

	for (i = 0; i < p->count; i++)
		problems += lint_rule(p, i, diag, ctx);
	return problems;
}

/* Counts the problems passed on to the caller's diag. */
struct counting {
	policy_diag_fn diag;
	void *ctx;
	int count;
};

static void count_diag(void *ctx, const char *file, int line, int column,
		       const char *message)
{
	struct counting *c = ctx;

	c->count++;
	if (c->diag)
		c->diag(c->ctx, file, line, column, message);
}

int policy_check_file(const char *path, enum policy_layer layer,
		      const char *workspace, const char *home,
		      policy_diag_fn diag, void *ctx)
{
	struct counting c = { diag, ctx, 0 };
	struct policy p;
	char err[2048];

	policy_init(&p);
	if (policy_set_roots(&p, workspace, home) < 0 ||
	    policy_protected_load(&p, err, sizeof(err)) < 0) {
		count_diag(&c, path, 0, 0, "out of memory");
		policy_free(&p);
		return c.count;
	}
	if (policy_load_file_layer(&p, path, layer, count_diag, &c, NULL, err,
				   sizeof(err)) < 0) {
		if (c.count == 0)
			count_diag(&c, NULL, 0, 0, err);
	} else {
		policy_lint(&p, count_diag, &c);
	}
	policy_free(&p);
	return c.count;
}
