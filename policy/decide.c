/*
 * Decisions: which rule, if any, decides a path or a command.
 *
 * Among the rules that match, the strictest decision wins (deny over ask
 * over allow), and among equally strict rules the first one added decides,
 * so the verdict names a stable rule. Nothing matching means ask.
 */
#include <stdbool.h>
#include <string.h>

#include "policy.h"

static const char no_rule_matches[] = "no rule matches";

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

struct policy_verdict policy_decide_path(const struct policy *p,
					 enum policy_tool tool,
					 const char *relpath)
{
	struct policy_verdict best = verdict_reason(POLICY_ASK,
						    no_rule_matches);
	const struct policy_rule *r;
	size_t i;

	if (tool != POLICY_READ && tool != POLICY_WRITE)
		return verdict_reason(POLICY_DENY,
				      "only Read and Write decide paths");
	for (i = 0; i < p->count; i++) {
		r = &p->rules[i];
		if (r->tool != tool)
			continue;
		if (!r->pattern || policy_glob_match(r->pattern, relpath))
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
 * words, so "nohup curl x" or "xargs -n1 curl" still meet deny Exec(curl:*).
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

/* Match r against the words of cmd from index start on. */
static bool exec_rule_matches_at(const struct policy_rule *r,
				 const struct policy_simple_command *cmd,
				 size_t start)
{
	size_t i, n = r->nwords;
	size_t have = cmd->nwords - start;
	bool prefix = r->prefix;

	/*
	 * An unquoted expansion may become any number of words, so for
	 * deny and ask rules an exact pattern also matches as a prefix.
	 */
	if (r->decision != POLICY_ALLOW && has_dynamic_word(cmd)) {
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
			      const struct policy_simple_command *cmd)
{
	size_t k;

	if (!r->pattern)
		return true;
	if (exec_rule_matches_at(r, cmd, 0))
		return true;
	if (r->decision == POLICY_ALLOW || !is_wrapper(cmd->words[0].text))
		return false;
	for (k = 1; k < cmd->nwords; k++) {
		if (exec_rule_matches_at(r, cmd, k))
			return true;
	}
	return false;
}

static struct policy_verdict decide_simple(const struct policy *p,
					   const struct policy_simple_command *cmd)
{
	struct policy_verdict best = verdict_reason(POLICY_ASK,
						    no_rule_matches);
	const struct policy_rule *r;
	size_t i;

	for (i = 0; i < p->count; i++) {
		r = &p->rules[i];
		if (r->tool == POLICY_EXEC && exec_rule_matches(r, cmd))
			consider(&best, r);
	}
	return best;
}

/*
 * A construct that cannot be judged raises the verdict to ask. At ask it
 * replaces a rule's verdict too, because the construct is what the person
 * approving needs to see.
 */
static void raise_to_ask(struct policy_verdict *v, const char *reason)
{
	if (!reason || v->decision == POLICY_DENY)
		return;
	*v = verdict_reason(POLICY_ASK, reason);
}

static struct policy_verdict decide_list(const struct policy *p,
					 const struct policy_command_list *list)
{
	struct policy_verdict best = verdict_reason(POLICY_ALLOW, NULL);
	struct policy_verdict v;
	const char *unjudged = list->unjudged;
	bool decided = false;
	size_t i;

	for (i = 0; i < list->count; i++) {
		const struct policy_simple_command *cmd = &list->cmds[i];

		if (!unjudged)
			unjudged = policy_command_unjudged(cmd);
		if (cmd->nwords == 0)
			continue;	/* only assignments or redirections */
		v = decide_simple(p, cmd);
		if (!decided || v.decision > best.decision)
			best = v;
		decided = true;
	}
	if (!decided)
		return verdict_reason(POLICY_DENY,
				      "the command contains no program to run");
	raise_to_ask(&best, unjudged);
	return best;
}

struct policy_verdict policy_decide_command(const struct policy *p,
					    const char *command)
{
	struct policy_command_list list;
	struct policy_verdict v;

	if (strlen(command) > POLICY_COMMAND_MAX)
		return verdict_reason(POLICY_DENY,
				      "the command is longer than the policy judges");
	if (policy_shell_split(command, &list) < 0)
		return verdict_reason(POLICY_DENY,
				      "out of memory while judging the command");
	v = decide_list(p, &list);
	policy_command_list_free(&list);
	return v;
}
