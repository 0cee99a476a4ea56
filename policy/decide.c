/*
 * Decisions: which rule, if any, decides a path, a host, a skill or a
 * command.
 *
 * Among the rules that match, the strictest decision wins (deny over ask
 * over allow), and among equally strict rules the first one added decides,
 * so the verdict names a stable rule. Nothing matching means ask. The
 * built-in protected list is looked at before any rule.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "lib/envfile.h"

static const char no_rule_matches[] = "no rule matches";
static const char only_inactive_matches[] =
	"no active rule matches: a project allow rule would, but it is inactive until you trust the project with 'coworker policy trust' or --trust-project";

static struct policy_verdict verdict_reason(enum policy_decision d,
					    const char *reason)
{
	struct policy_verdict v = { d, NULL, reason };

	return v;
}

/* Keep the stricter of best and the rule r; ties keep best. */
static void consider(struct policy_verdict *best, const struct policy_rule *r)
{
	if (!best->rule || r->decision > best->decision) {
		best->decision = r->decision;
		best->rule = r;
		best->reason = NULL;
	}
}

/* One path seen three ways: beneath the workspace, absolute, beneath home. */
struct path_view {
	const char *rel;	/* NULL when outside the workspace */
	const char *abs;	/* NULL when relative and no workspace is set */
	const char *homerel;	/* NULL when not beneath the home directory */
	/* policy_head of each at offsets 0 and 8 (0 when shorter) */
	unsigned long long rel_head[2], abs_head[2], home_head[2];
};

/* The part of path after dir and a "/", or NULL when path is not beneath. */
static const char *beneath(const char *dir, const char *path)
{
	size_t n;

	if (!dir)
		return NULL;
	n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return path + 1;
	if (strncmp(path, dir, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return "";
	return path[n] == '/' ? path + n + 1 : NULL;
}

static void path_heads(const char *s, unsigned long long heads[2])
{
	unsigned long long mask;

	heads[0] = heads[1] = 0;
	if (!s)
		return;
	policy_head(s, 8, &heads[0], &mask);
	if (strnlen(s, 8) == 8)
		policy_head(s + 8, 8, &heads[1], &mask);
}

static void path_view_init(const struct policy *p, const char *path,
			   char *buf, size_t size, struct path_view *v)
{
	memset(v, 0, sizeof(*v));
	if (path[0] == '/') {
		v->abs = path;
		v->rel = beneath(p->workspace, path);
	} else {
		v->rel = path;
		if ((p->has_absolute || p->nprotected > 0) && p->workspace &&
		    (size_t)snprintf(buf, size, "%s/%s", p->workspace,
				     path) < size)
			v->abs = buf;
	}
	if (v->abs)
		v->homerel = beneath(p->home, v->abs);
	path_heads(v->rel, v->rel_head);
	path_heads(v->abs ? v->abs + 1 : NULL, v->abs_head);
	path_heads(v->homerel, v->home_head);
}

/*
 * Match the glob pat against path, first comparing the literal start of
 * the glob (literal_len bytes, no wildcards in it) as a cheap filter.
 */
static bool glob_match_fast(const struct policy_rule *r, const char *pat,
			    const char *path, const unsigned long long heads[2])
{
	if ((heads[0] & r->head_mask) != r->head ||
	    (heads[1] & r->head1_mask) != r->head1)
		return false;
	if (r->literal_len > 16 && strncmp(pat, path, r->literal_len) != 0)
		return false;
	return policy_glob_match(pat, path);
}

static bool rule_matches_view(const struct policy_rule *r,
			      const struct path_view *v)
{
	if (!r->pattern)
		return v->rel != NULL;	/* bare rules cover the workspace */
	if (r->pattern[0] == '/')
		return v->abs && glob_match_fast(r, r->pattern + 1, v->abs + 1,
						 v->abs_head);
	if (r->pattern[0] == '~')
		return v->homerel && glob_match_fast(r, r->pattern + 2,
						     v->homerel, v->home_head);
	return v->rel && glob_match_fast(r, r->pattern, v->rel, v->rel_head);
}

bool policy_rule_matches_path(const struct policy *p,
			      const struct policy_rule *r, const char *path)
{
	char buf[PATH_MAX];
	struct path_view v;

	path_view_init(p, path, buf, sizeof(buf), &v);
	return rule_matches_view(r, &v);
}

/* ASCII lower-case copy of s into buf; false when it does not fit. */
static bool fold_copy(const char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i + 1 >= size)
			return false;
		buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	}
	buf[i] = '\0';
	return true;
}

/*
 * Match r against the view with both sides folded to lower case, as a
 * case-insensitive directory compares names. A name too long to fold
 * counts as a match, because only deny, ask and protected rules are
 * matched this way.
 */
static bool rule_matches_folded(const struct policy_rule *r,
				const struct path_view *v)
{
	char pat[PATH_MAX], sub[PATH_MAX];
	const char *pattern = r->pattern, *subject = v->rel;

	if (!r->pattern)
		return v->rel != NULL;
	if (r->pattern[0] == '/') {
		pattern = r->pattern + 1;
		subject = v->abs ? v->abs + 1 : NULL;
	} else if (r->pattern[0] == '~') {
		pattern = r->pattern + 2;
		subject = v->homerel;
	}
	if (!subject)
		return false;
	if (!fold_copy(pattern, pat, sizeof(pat)) ||
	    !fold_copy(subject, sub, sizeof(sub)))
		return true;
	return policy_glob_match(pat, sub);
}

/*
 * Does r match the view? With fold, rules that narrow (deny, ask and the
 * protected list) also match by folded names; allow rules never do, so
 * folding can only make a decision stricter.
 */
static bool rule_matches_case(const struct policy_rule *r,
			      const struct path_view *v, bool fold)
{
	if (rule_matches_view(r, v))
		return true;
	return fold && r->decision != POLICY_ALLOW && rule_matches_folded(r, v);
}

/*
 * Whether the protected entry r matches path only as a committed .env
 * template (".env.example"), which contains no secret (lib/envfile.h).
 */
static bool env_template_exempt(const struct policy_rule *r, const char *path)
{
	const char *name = strrchr(path, '/');

	name = name ? name + 1 : path;
	return strcmp(r->text, "**/.env.*") == 0 && env_template_name(name);
}

static struct policy_verdict decide_path(const struct policy *p,
					 enum policy_tool tool,
					 const char *relpath, bool fold)
{
	struct policy_verdict best = verdict_reason(POLICY_ASK,
						    no_rule_matches);
	const struct policy_rule *r;
	char buf[PATH_MAX];
	struct path_view v;
	bool inactive = false;
	size_t i;

	if (tool != POLICY_READ && tool != POLICY_WRITE)
		return verdict_reason(POLICY_DENY,
				      "only Read and Write decide paths");
	path_view_init(p, relpath, buf, sizeof(buf), &v);

	/* Secrets first: the protected list denies both tools. */
	for (i = 0; i < p->nprotected; i++) {
		if (rule_matches_case(&p->protected_rules[i], &v, fold) &&
		    !env_template_exempt(&p->protected_rules[i], relpath)) {
			best.decision = POLICY_DENY;
			best.rule = &p->protected_rules[i];
			best.reason = NULL;
			return best;
		}
	}
	for (i = 0; i < p->nby_tool[tool]; i++) {
		r = &p->rules[p->by_tool[tool][i]];
		if (!rule_matches_case(r, &v, fold))
			continue;
		if (r->inactive)
			inactive = true;
		else
			consider(&best, r);
	}
	if (!best.rule && inactive)
		best.reason = only_inactive_matches;
	return best;
}

struct policy_verdict policy_decide_path(const struct policy *p,
					 enum policy_tool tool,
					 const char *relpath)
{
	return decide_path(p, tool, relpath, false);
}

struct policy_verdict policy_decide_path_folded(const struct policy *p,
						enum policy_tool tool,
						const char *relpath)
{
	return decide_path(p, tool, relpath, true);
}

static bool host_matches(const char *pattern, const char *host)
{
	size_t hl = strlen(host), pl;

	if (strcmp(pattern, "*") == 0)
		return true;
	if (strncmp(pattern, "*.", 2) == 0) {
		pl = strlen(pattern + 1);	/* ".example.com" */
		return hl > pl && strcasecmp(host + hl - pl, pattern + 1) == 0;
	}
	return strcasecmp(pattern, host) == 0;
}

struct policy_verdict policy_decide_net(const struct policy *p,
					const char *host, int port)
{
	struct policy_verdict best = verdict_reason(POLICY_ASK,
						    no_rule_matches);
	const struct policy_rule *r;
	size_t i;

	if (!host[0] || port < 1 || port > 65535)
		return verdict_reason(POLICY_DENY,
				      "the host is empty or the port is not in 1-65535");
	for (i = 0; i < p->count; i++) {
		r = &p->rules[i];
		if (r->tool != POLICY_NET || r->inactive)
			continue;
		if (!r->pattern || (host_matches(r->pattern, host) &&
				    (r->port < 0 || r->port == port)))
			consider(&best, r);
	}
	return best;
}

struct policy_verdict policy_decide_skill(const struct policy *p,
					  const char *name)
{
	struct policy_verdict best = verdict_reason(POLICY_ASK,
						    no_rule_matches);
	const struct policy_rule *r;
	size_t i;

	if (!name[0] || strchr(name, '/'))
		return verdict_reason(POLICY_DENY,
				      "a skill name is empty or contains \"/\"");
	for (i = 0; i < p->count; i++) {
		r = &p->rules[i];
		if (r->tool != POLICY_SKILL || r->inactive)
			continue;
		if (!r->pattern || policy_glob_match(r->pattern, name))
			consider(&best, r);
	}
	return best;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool has_dynamic_word(const struct policy_simple_command *cmd)
{
	size_t i;

	for (i = 0; i < cmd->nwords; i++) {
		if (cmd->words[i].dynamic)
			return true;
	}
	return false;
}

/*
 * Compare word i of a command with a rule word. Allow rules compare
 * literally. Deny and ask rules also match where the command could turn
 * out to be theirs at run time. So a word the shell expands matches any
 * rule word, and a command name given as a path ("/usr/bin/curl") matches
 * by its last component.
 */
static bool word_matches(const struct policy_rule *r, size_t i,
			 const struct policy_word *w)
{
	bool strict = r->decision != POLICY_ALLOW;

	if (strcmp(r->words[i], w->text) == 0)
		return true;
	if (!strict)
		return false;
	if (w->dynamic)
		return true;
	return i == 0 && !strchr(r->words[i], '/') &&
	       strcmp(r->words[i], basename_of(w->text)) == 0;
}

/*
 * Programs that run the command given in their arguments. A deny or ask
 * rule also matches a command that follows one of them, anywhere in its
 * words, so "nohup curl x" or "xargs -n1 curl" still meet deny Exec(curl:*)
 * even where the wrapped-program table cannot find the command.
 */
static bool is_wrapper(const char *word)
{
	static const char *const wrappers[] = {
		"env", "nohup", "nice", "timeout", "xargs", "sudo", "doas",
		"command", "builtin", "time", "stdbuf", "setsid", "exec",
		"ionice", "chrt", "taskset", "strace", "ltrace", "watch",
	};
	const char *name = basename_of(word);
	size_t i;

	for (i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++) {
		if (strcmp(name, wrappers[i]) == 0)
			return true;
	}
	return false;
}

/* Facts about a command that rule matching needs, computed once. */
struct command_facts {
	bool dynamic;		/* some word the shell expands */
	bool wrapper;		/* the program runs a command in its words */
	unsigned long long head;	/* policy_head of the program name */
	unsigned long long base_head;	/* ... of its last path component */
	unsigned long long head1;	/* ... of the second word, or 0 */
};

static void command_facts_init(struct command_facts *f,
			       const struct policy_simple_command *cmd)
{
	unsigned long long mask;

	f->dynamic = has_dynamic_word(cmd);
	f->wrapper = cmd->nwords > 0 && is_wrapper(cmd->words[0].text);
	f->head = 0;
	f->base_head = 0;
	if (cmd->nwords > 0) {
		policy_head(cmd->words[0].text, 8, &f->head, &mask);
		policy_head(basename_of(cmd->words[0].text), 8, &f->base_head,
			    &mask);
	}
	f->head1 = 0;
	if (cmd->nwords > 1)
		policy_head(cmd->words[1].text, 8, &f->head1, &mask);
}

/* Match r against the words of cmd from index start on. */
static bool exec_rule_matches_at(const struct policy_rule *r,
				 const struct policy_simple_command *cmd,
				 size_t start, const struct command_facts *f)
{
	size_t i, n = r->nwords;
	size_t have = cmd->nwords - start;
	bool prefix = r->prefix;

	/*
	 * An unquoted expansion may become any number of words, so for
	 * deny and ask rules an exact pattern also matches as a prefix.
	 */
	if (r->decision != POLICY_ALLOW && f->dynamic) {
		prefix = true;
		if (have < n)
			n = have;
	}
	if (have < n || (!prefix && have != n))
		return false;
	for (i = 0; i < n; i++) {
		if (!word_matches(r, i, &cmd->words[start + i]))
			return false;
	}
	return true;
}

static bool exec_rule_matches(const struct policy_rule *r,
			      const struct policy_simple_command *cmd,
			      const struct command_facts *f)
{
	size_t k;

	if (!r->pattern)
		return true;
	if (cmd->nwords == 0)
		return false;
	/* Allow rules compare the program name literally: a cheap first test. */
	if (r->decision == POLICY_ALLOW &&
	    ((f->head & r->head_mask) != r->head ||
	     (!r->head_exact &&
	      strcmp(r->words[0], cmd->words[0].text) != 0)))
		return false;
	/*
	 * Deny and ask rules also match by the name's last component, an
	 * expanded word, or a command after a wrapper. Without those, the
	 * name must start like the rule's.
	 */
	if (!f->dynamic && !f->wrapper &&
	    (f->head & r->head_mask) != r->head &&
	    (f->base_head & r->head_mask) != r->head)
		return false;
	/* The second word compares literally unless a word is expanded. */
	if (r->nwords > 1 && cmd->nwords > 1 &&
	    (r->decision == POLICY_ALLOW || (!f->dynamic && !f->wrapper)) &&
	    (f->head1 & r->head1_mask) != r->head1)
		return false;
	if (exec_rule_matches_at(r, cmd, 0, f))
		return true;
	if (r->decision == POLICY_ALLOW || !f->wrapper)
		return false;
	for (k = 1; k < cmd->nwords; k++) {
		if (exec_rule_matches_at(r, cmd, k, f))
			return true;
	}
	return false;
}

bool policy_rule_matches_command(const struct policy_rule *r,
				 const struct policy_simple_command *cmd)
{
	struct command_facts f;

	command_facts_init(&f, cmd);
	return exec_rule_matches(r, cmd, &f);
}

/*
 * An allow rule covers a risky form (find -exec, sed -i, ...) only when it
 * spells that form out: a bare Exec, an exact command, or a prefix rule
 * whose words reach the risky word.
 */
static bool rule_covers(const struct policy_rule *r, size_t risk_index)
{
	return !r->pattern || !r->prefix || risk_index < r->nwords;
}

/* The state of judging one simple command against the Exec rules. */
struct exec_scan {
	const struct policy_simple_command *cmd;
	struct command_facts facts;
	const char *risk;	/* the risky form in cmd, or NULL */
	size_t risk_index;
	struct policy_verdict best;
	const struct policy_rule *uncovered;	/* first allow rule that does not spell out risk */
	bool inactive;
};

/*
 * Keep the stricter of the best verdict and r. The rule lists are scanned
 * one after another, so on a tie the rule added first (lower in p->rules)
 * decides, as it would in one pass.
 */
static void consider_ordered(struct policy_verdict *best,
			     const struct policy_rule *r)
{
	if (!best->rule || r->decision > best->decision ||
	    (r->decision == best->decision && r < best->rule)) {
		best->decision = r->decision;
		best->rule = r;
		best->reason = NULL;
	}
}

static void scan_rules(const struct policy *p, const struct policy_index *x,
		       struct exec_scan *s)
{
	const struct policy_rule *r;
	size_t i;

	for (i = 0; i < x->n; i++) {
		r = &p->rules[x->v[i]];
		if (!exec_rule_matches(r, s->cmd, &s->facts))
			continue;
		if (r->inactive) {
			s->inactive = true;
			continue;
		}
		if (r->decision == POLICY_ALLOW && s->risk &&
		    !rule_covers(r, s->risk_index)) {
			if (!s->uncovered || r < s->uncovered)
				s->uncovered = r;
			continue;
		}
		consider_ordered(&s->best, r);
	}
}

static struct policy_verdict decide_simple(const struct policy *p,
					   const struct policy_simple_command *cmd)
{
	struct exec_scan s = { .cmd = cmd };
	const struct policy_index *buckets = p->exec_buckets;

	s.best = verdict_reason(POLICY_ASK, no_rule_matches);
	s.risk = policy_program_risk(cmd, &s.risk_index);
	command_facts_init(&s.facts, cmd);

	/*
	 * Allow rules with a pattern can only be in the buckets of the
	 * command's first word and of its first two words.
	 */
	scan_rules(p, &p->exec_rest, &s);
	if (buckets && cmd->nwords > 0) {
		scan_rules(p, &buckets[policy_exec_bucket(cmd->words[0].text,
							  NULL)], &s);
		if (cmd->nwords > 1)
			scan_rules(p, &buckets[policy_exec_bucket(
				cmd->words[0].text, cmd->words[1].text)], &s);
	}

	if (!s.best.rule && s.uncovered) {
		s.best.rule = s.uncovered;
		s.best.reason = s.risk;
	} else if (!s.best.rule && s.inactive) {
		s.best.reason = only_inactive_matches;
	}
	return s.best;
}

static int add_part(struct policy_explanation *out, enum policy_part_kind kind,
		    const char *subject, size_t len, struct policy_verdict v)
{
	struct policy_part *grown, *part;
	size_t cap;

	if (!out)
		return 0;
	if (out->count == out->cap) {
		cap = out->cap ? out->cap * 2 : 8;
		grown = realloc(out->parts, cap * sizeof(*grown));
		if (!grown)
			return -1;
		out->parts = grown;
		out->cap = cap;
	}
	part = &out->parts[out->count];
	part->subject = strndup(subject, len);
	if (!part->subject)
		return -1;
	part->kind = kind;
	part->verdict = v;
	out->count++;
	return 0;
}

void policy_explanation_free(struct policy_explanation *e)
{
	size_t i;

	for (i = 0; i < e->count; i++)
		free(e->parts[i].subject);
	free(e->parts);
	memset(e, 0, sizeof(*e));
}

/* The state of judging one command line. */
struct judging {
	const struct policy *p;
	policy_path_judge_fn judge;
	void *judge_ctx;
	struct policy_explanation *out;
	bool oom;
	struct policy_verdict best;
	bool decided;		/* best holds a verdict */
	bool has_program;
	bool after_cd;		/* an earlier command changed directory */
	const char *unjudged;
};

static void fold(struct judging *j, struct policy_verdict v)
{
	if (!j->decided || v.decision > j->best.decision)
		j->best = v;
	j->decided = true;
}

static void part(struct judging *j, enum policy_part_kind kind,
		 const char *subject, struct policy_verdict v)
{
	if (add_part(j->out, kind, subject, strlen(subject), v) < 0)
		j->oom = true;
}

/* Words [start, end) of cmd joined by spaces, for a part's subject. */
static void join_words(const struct policy_simple_command *cmd, char *buf,
		       size_t size)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < cmd->nwords && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? " " : "",
				      cmd->words[i].text);
}

static void judge_file(struct judging *j, enum policy_tool tool,
		       const char *path)
{
	struct policy_verdict v;
	enum policy_part_kind kind = tool == POLICY_READ ? POLICY_PART_READ :
				     POLICY_PART_WRITE;

	if (strcmp(path, "/dev/null") == 0 ||
	    strcmp(path, "/dev/stdout") == 0 ||
	    strcmp(path, "/dev/stderr") == 0 ||
	    strcmp(path, "/dev/stdin") == 0)
		return;
	if (j->after_cd && path[0] != '/')
		v = verdict_reason(POLICY_ASK,
				   "a relative path after \"cd\" on the same line cannot be resolved before the command runs");
	else
		v = j->judge(j->judge_ctx, j->p, tool, path);
	fold(j, v);
	part(j, kind, path, v);
}

/* Maximum depth of programs wrapped in programs ("nohup nice timeout ..."). */
#define WRAP_MAX 8

/* Judge the words of view as one program, then the programs it wraps. */
static void judge_program(struct judging *j,
			  const struct policy_simple_command *view, int depth)
{
	struct policy_simple_command inner;
	struct policy_verdict v;
	char subject[1024];
	const char *target;
	size_t from = 0, start, end, k;

	v = decide_simple(j->p, view);
	fold(j, v);
	if (j->out) {
		join_words(view, subject, sizeof(subject));
		part(j, POLICY_PART_COMMAND, subject, v);
	}
	for (k = 0; (target = policy_program_write_target(view, k)); k++)
		judge_file(j, POLICY_WRITE, target);

	while (policy_program_wrapped(view, &from, &start, &end)) {
		if (depth >= WRAP_MAX) {
			if (!j->unjudged)
				j->unjudged = "programs wrapped this deep cannot be judged";
			return;
		}
		inner = *view;
		inner.words = view->words + start;
		inner.nwords = end - start;
		judge_program(j, &inner, depth + 1);
	}
}

static bool changes_directory(const struct policy_simple_command *cmd)
{
	const char *name;

	if (cmd->nwords == 0)
		return false;
	name = cmd->words[0].text;
	return strcmp(name, "cd") == 0 || strcmp(name, "pushd") == 0 ||
	       strcmp(name, "popd") == 0;
}

static void judge_redirections(struct judging *j,
			       const struct policy_simple_command *cmd)
{
	const struct policy_redir *r;
	size_t i;

	for (i = 0; i < cmd->nredirs; i++) {
		r = &cmd->redirs[i];
		if (r->kind != POLICY_REDIR_FILE || r->target.dynamic)
			continue;	/* dynamic targets are unjudged */
		if (r->reads)
			judge_file(j, POLICY_READ, r->target.text);
		if (r->writes)
			judge_file(j, POLICY_WRITE, r->target.text);
	}
}

static void judge_command(struct judging *j,
			  const struct policy_simple_command *cmd)
{
	static const char *const kinds[][2] = {
		[POLICY_CMD_TEST] = { "[[ ]]", "a [[ ]] test runs no program" },
		[POLICY_CMD_ARITH] = { "(( ))", "an (( )) arithmetic command runs no program" },
		[POLICY_CMD_FOR] = { "for NAME in WORDS", "a for loop header runs no program" },
	};
	const char *reason;

	if (!j->unjudged) {
		reason = policy_command_unjudged(cmd);
		if (reason)
			j->unjudged = reason;
	}
	if (cmd->kind != POLICY_CMD_SIMPLE) {
		judge_redirections(j, cmd);
		part(j, POLICY_PART_CONSTRUCT, kinds[cmd->kind][0],
		     verdict_reason(POLICY_ALLOW, kinds[cmd->kind][1]));
		j->has_program = true;
		return;
	}
	if (cmd->nwords == 0) {
		judge_redirections(j, cmd);
		return;		/* only assignments or redirections */
	}
	judge_program(j, cmd, 0);
	judge_redirections(j, cmd);
	j->has_program = true;
	if (changes_directory(cmd))
		j->after_cd = true;
}

/*
 * A construct that cannot be judged raises the verdict to ask. At ask it
 * replaces a rule's verdict too, because the construct is what the person
 * approving needs to see. It applies under a bare allow Exec too, because
 * a hidden program may be one that a deny or ask rule names.
 */
static void judge_constructs(struct judging *j)
{
	struct policy_verdict v;

	if (!j->unjudged || j->best.decision == POLICY_DENY)
		return;
	v = verdict_reason(POLICY_ASK, j->unjudged);
	part(j, POLICY_PART_CONSTRUCT, j->unjudged, v);
	j->best = v;
}

static struct policy_verdict judge_list(struct judging *j,
					const struct policy_command_list *list)
{
	size_t i;

	j->best = verdict_reason(POLICY_ALLOW, NULL);
	j->unjudged = list->unjudged;
	for (i = 0; i < list->count; i++)
		judge_command(j, &list->cmds[i]);
	if (!j->has_program)
		return verdict_reason(POLICY_DENY,
				      "the command contains no program to run");
	judge_constructs(j);
	return j->best;
}

static struct policy_verdict judge_line(const struct policy *p,
					const char *command,
					policy_path_judge_fn judge, void *ctx,
					struct policy_explanation *out)
{
	struct judging j = { .p = p, .judge = judge, .judge_ctx = ctx,
			     .out = out };
	struct policy_command_list list;
	struct policy_verdict v;

	if (!j.judge)
		j.judge = policy_judge_path_lexically;
	if (strlen(command) > POLICY_COMMAND_MAX)
		return verdict_reason(POLICY_DENY,
				      "the command is longer than the policy judges");
	if (policy_shell_split(command, &list) < 0)
		return verdict_reason(POLICY_DENY,
				      "out of memory while judging the command");
	v = judge_list(&j, &list);
	policy_command_list_free(&list);
	if (j.oom)
		return verdict_reason(POLICY_DENY,
				      "out of memory while judging the command");
	return v;
}

struct policy_verdict policy_decide_command_with(const struct policy *p,
		const char *command, policy_path_judge_fn judge, void *ctx)
{
	return judge_line(p, command, judge, ctx, NULL);
}

struct policy_verdict policy_decide_command(const struct policy *p,
					    const char *command)
{
	return judge_line(p, command, NULL, NULL, NULL);
}

int policy_explain_command(const struct policy *p, const char *command,
			   policy_path_judge_fn judge, void *ctx,
			   struct policy_explanation *out)
{
	memset(out, 0, sizeof(*out));
	out->verdict = judge_line(p, command, judge, ctx, out);
	if (out->verdict.decision == POLICY_DENY && !out->verdict.rule &&
	    out->verdict.reason && strstr(out->verdict.reason, "out of memory"))
		return -1;
	return 0;
}
