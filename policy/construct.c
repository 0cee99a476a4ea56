/*
 * Constructs in a simple command that Exec rules cannot judge.
 *
 * An Exec rule compares the words of a command. These checks catch the ways
 * in which an allowed-looking command can still run something else: a shell
 * that reads its program from a string, a variable that changes which
 * program or library is loaded, or a redirection whose target is not
 * known. Each returns a fixed reason, which raises the decision to at
 * least ask.
 */
#include <stdbool.h>
#include <string.h>

#include "policy.h"

/*
 * Variables that make an allowed program run other code or look for
 * programs elsewhere, matched by exact name or, when ending in "*", by
 * prefix.
 * NOTE: no such list is complete; the command sandbox bounds what the
 * other code can do.
 */
static const char *const dangerous_variables[] = {
	"PATH", "IFS", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "PS4",
	"PROMPT_COMMAND", "LD_*", "BASH_FUNC_*", "GIT_EXTERNAL_DIFF",
	"GIT_SSH", "GIT_SSH_COMMAND", "GIT_EDITOR", "GIT_CONFIG_*",
	"EDITOR", "VISUAL", "PYTHONSTARTUP", "PERL5OPT", "NODE_OPTIONS",
	"RUBYOPT",
};

static const char dangerous_assignment[] =
	"an assignment to a variable that changes which code runs (PATH, LD_PRELOAD, ...) cannot be judged statically";

static const char *const shells[] = {
	"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "busybox",
};

static bool in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(name, list[i]) == 0)
			return true;
	}
	return false;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool is_dangerous_assignment(const char *assign)
{
	size_t namelen = strcspn(assign, "+=");
	size_t i, n;
	const char *v;

	for (i = 0; i < sizeof(dangerous_variables) /
			sizeof(dangerous_variables[0]); i++) {
		v = dangerous_variables[i];
		n = strlen(v);
		if (v[n - 1] == '*') {
			if (namelen >= n - 1 && strncmp(assign, v, n - 1) == 0)
				return true;
		} else if (namelen == n && strncmp(assign, v, n) == 0) {
			return true;
		}
	}
	return false;
}

/* True for "-c" and combined options such as "-ec" or "-lc". */
static bool is_command_string_option(const char *w)
{
	return w[0] == '-' && w[1] != '-' && strchr(w, 'c') != NULL;
}

/*
 * A shell word followed later by "-c" runs a program from a string; this
 * catches "sh -c", "env X=1 bash -c" and "timeout 5 sh -c" alike.
 */
static bool has_nested_shell(const struct policy_simple_command *cmd)
{
	size_t i, j;

	for (i = 0; i < cmd->nwords; i++) {
		if (!in_list(basename_of(cmd->words[i].text), shells,
			     sizeof(shells) / sizeof(shells[0])))
			continue;
		for (j = i + 1; j < cmd->nwords; j++) {
			if (is_command_string_option(cmd->words[j].text))
				return true;
		}
	}
	return false;
}

static const char *check_builtin(const char *name)
{
	if (strcmp(name, "eval") == 0)
		return "eval cannot be judged statically";
	if (strcmp(name, "exec") == 0)
		return "exec cannot be judged statically";
	if (strcmp(name, "source") == 0 || strcmp(name, ".") == 0)
		return "source runs a script in the shell itself and cannot be judged statically";
	return NULL;
}

static const char *check_words(const struct policy_simple_command *cmd)
{
	const char *name, *reason;
	size_t i = 0;

	if (cmd->nwords == 0)
		return NULL;
	if (cmd->words[0].dynamic)
		return "a command name that comes from an expansion cannot be judged statically";

	/* "command eval ..." and "builtin eval ..." still run eval. */
	name = basename_of(cmd->words[0].text);
	while ((strcmp(name, "command") == 0 || strcmp(name, "builtin") == 0) &&
	       i + 1 < cmd->nwords && cmd->words[i + 1].text[0] == '-')
		i++;
	if ((strcmp(name, "command") == 0 || strcmp(name, "builtin") == 0) &&
	    i + 1 < cmd->nwords)
		name = cmd->words[i + 1].text;
	reason = check_builtin(name);
	if (reason)
		return reason;

	if (has_nested_shell(cmd))
		return "a nested shell command string (sh -c) cannot be judged statically";

	/* env NAME=value ... sets variables just like a leading assignment. */
	if (strcmp(basename_of(cmd->words[0].text), "env") == 0) {
		for (i = 1; i < cmd->nwords; i++) {
			if (strcmp(cmd->words[i].text, "-S") == 0 ||
			    strncmp(cmd->words[i].text, "--split-string", 14) == 0)
				return "env -S splits a string into a command that cannot be judged statically";
			if (is_dangerous_assignment(cmd->words[i].text) &&
			    strchr(cmd->words[i].text, '='))
				return dangerous_assignment;
		}
	}
	return NULL;
}

/*
 * Redirection targets are judged as Read and Write requests by the caller;
 * here only what cannot be judged that way: a target that comes from an
 * expansion.
 */
static const char *check_redirect(const struct policy_redir *r)
{
	if (r->kind == POLICY_REDIR_FILE && r->target.dynamic)
		return "a redirection target that comes from an expansion cannot be judged statically";
	return NULL;
}

/*
 * A shell fed a here-document or here-string with no script operand reads
 * its program from it, as "sh -c" reads it from a string.
 */
static const char *check_shell_stdin(const struct policy_simple_command *cmd)
{
	size_t i;
	bool fed = false;

	if (cmd->nwords == 0 ||
	    !in_list(basename_of(cmd->words[0].text), shells,
		     sizeof(shells) / sizeof(shells[0])))
		return NULL;
	for (i = 0; i < cmd->nredirs; i++) {
		if (cmd->redirs[i].kind == POLICY_REDIR_HEREDOC ||
		    cmd->redirs[i].kind == POLICY_REDIR_HERESTRING)
			fed = true;
	}
	for (i = 1; fed && i < cmd->nwords; i++) {
		if (cmd->words[i].text[0] != '-' ||
		    strcmp(cmd->words[i].text, "-") == 0)
			return strcmp(cmd->words[i].text, "-") == 0 ?
			       "a shell reading its program from a here-document cannot be judged statically" :
			       NULL;
	}
	return fed ? "a shell reading its program from a here-document cannot be judged statically" :
		     NULL;
}

const char *policy_command_unjudged(const struct policy_simple_command *cmd)
{
	const char *reason;
	size_t i;

	for (i = 0; i < cmd->nassigns; i++) {
		if (is_dangerous_assignment(cmd->assigns[i].text))
			return dangerous_assignment;
	}
	for (i = 0; i < cmd->nredirs; i++) {
		reason = check_redirect(&cmd->redirs[i]);
		if (reason)
			return reason;
	}
	if (cmd->kind != POLICY_CMD_SIMPLE)
		return NULL;	/* no program; substitutions are lexed apart */
	reason = check_shell_stdin(cmd);
	if (reason)
		return reason;
	return check_words(cmd);
}
