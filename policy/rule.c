/*
 * Rule parsing: "Tool" or "Tool(pattern)" strings into struct policy_rule.
 *
 * Rules come from files a project may ship, so every rule is checked before
 * it is stored, and an error names the rule and what to write instead.
 * Rule text in messages is escaped, because it may carry control bytes
 * that a terminal would act on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

static const struct {
	const char *name;
	enum policy_tool tool;
} tools[] = {
	{ "Read", POLICY_READ },
	{ "Write", POLICY_WRITE },
	{ "Exec", POLICY_EXEC },
};

#define NTOOLS (sizeof(tools) / sizeof(tools[0]))

static const char *tool_name(enum policy_tool tool)
{
	size_t i;

	for (i = 0; i < NTOOLS; i++) {
		if (tools[i].tool == tool)
			return tools[i].name;
	}
	return "?";
}

/* Longest quoted rule text shown in a message before it is cut with "...". */
#define QUOTE_MAX 120

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Copy text into buf for a message, escaping control bytes, cut if long. */
static const char *quote(char *buf, size_t size, const char *text, size_t len)
{
	size_t o = 0, i;
	unsigned char c;

	for (i = 0; i < len && o + 8 < size; i++) {
		c = (unsigned char)text[i];
		if (i == QUOTE_MAX) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
}

static void rule_free(struct policy_rule *r)
{
	size_t i;

	for (i = 0; i < r->nwords; i++)
		free(r->words[i]);
	free(r->words);
	free(r->pattern);
	free(r->text);
	free(r->source);
	memset(r, 0, sizeof(*r));
}

void policy_free(struct policy *p)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		rule_free(&p->rules[i]);
	free(p->rules);
	policy_init(p);
}

/* Remove the rules added after the first count, undoing a partial load. */
void policy_truncate(struct policy *p, size_t count)
{
	while (p->count > count)
		rule_free(&p->rules[--p->count]);
}

const char *policy_decision_name(enum policy_decision d)
{
	switch (d) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_ASK:
		return "ask";
	case POLICY_DENY:
		return "deny";
	}
	return "invalid";
}

static int check_text(const char *text, char *err, size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8];
	size_t len = strlen(text);
	size_t i;

	if (len > POLICY_RULE_MAX)
		return fail(err, errlen,
			    "rule \"%s\" is %zu bytes long, more than the maximum of %d: split it into shorter rules",
			    quote(q, sizeof(q), text, len), len,
			    POLICY_RULE_MAX);
	if (len == 0)
		return fail(err, errlen,
			    "empty rule: write Tool or Tool(pattern), e.g. Read(src/**)");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c == 0x7f)
			return fail(err, errlen,
				    "rule \"%s\" contains control character 0x%02x at byte %zu: remove it",
				    quote(q, sizeof(q), text, len), c, i);
	}
	return 0;
}

static int parse_tool(const char *text, size_t namelen, enum policy_tool *tool,
		      char *err, size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8], name[QUOTE_MAX * 4 + 8];
	size_t i;

	for (i = 0; i < NTOOLS; i++) {
		if (strlen(tools[i].name) == namelen &&
		    strncmp(tools[i].name, text, namelen) == 0) {
			*tool = tools[i].tool;
			return 0;
		}
	}

	quote(name, sizeof(name), text, namelen);
	quote(q, sizeof(q), text, strlen(text));
	for (i = 0; i < NTOOLS; i++) {
		if (strlen(tools[i].name) == namelen &&
		    strncasecmp(tools[i].name, text, namelen) == 0)
			return fail(err, errlen,
				    "unknown tool \"%s\" in rule \"%s\": tool names are case-sensitive, write %s",
				    name, q, tools[i].name);
	}
	return fail(err, errlen,
		    "unknown tool \"%s\" in rule \"%s\": use Read, Write or Exec",
		    name, q);
}

/* Find the pattern between "(" and the final ")"; NULL pattern if bare. */
static int split_parens(const char *text, size_t *namelen, const char **pat,
			size_t *patlen, char *err, size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8];
	const char *open = strchr(text, '(');
	size_t len = strlen(text);
	size_t i;
	int depth = 0;

	*pat = NULL;
	*patlen = 0;
	if (!open) {
		if (strchr(text, ')'))
			goto unbalanced;
		*namelen = len;
		return 0;
	}
	*namelen = (size_t)(open - text);
	if (text[len - 1] != ')') {
		if (strchr(open, ')'))
			return fail(err, errlen,
				    "text after the closing parenthesis in rule \"%s\": the rule must end with \")\", as in Read(src/**)",
				    quote(q, sizeof(q), text, len));
		goto unbalanced;
	}

	*pat = open + 1;
	*patlen = len - *namelen - 2;
	for (i = 0; i < *patlen; i++) {
		if ((*pat)[i] == '(')
			depth++;
		else if ((*pat)[i] == ')' && --depth < 0)
			goto unbalanced;
	}
	if (depth != 0)
		goto unbalanced;
	return 0;

unbalanced:
	return fail(err, errlen,
		    "unbalanced parentheses in rule \"%s\": write Tool(pattern), e.g. Read(src/**)",
		    quote(q, sizeof(q), text, len));
}

/* Read and Write patterns are globs relative to the workspace. */
static int check_path_pattern(const char *text, const char *pat,
			      char *err, size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8];
	const char *c = pat;
	size_t n;

	quote(q, sizeof(q), text, strlen(text));
	if (pat[0] == '/' || pat[0] == '~')
		return fail(err, errlen,
			    "rule \"%s\": paths are relative to the workspace, so the pattern cannot start with \"%c\"; write a workspace path such as src/**",
			    q, pat[0]);
	for (;;) {
		n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return fail(err, errlen,
				    "rule \"%s\": \"..\" components are not allowed, because paths are relative to the workspace and cannot leave it; remove them",
				    q);
		if (n == 0 || (n == 1 && c[0] == '.'))
			return fail(err, errlen,
				    "rule \"%s\": empty or \".\" components never match a normalised path; remove them (write dir/** for a directory's contents)",
				    q);
		if (c[n] == '\0')
			return 0;
		c += n + 1;
	}
}

static void list_words_free(char **words, size_t n)
{
	while (n > 0)
		free(words[--n]);
	free(words);
}

/* Split an Exec pattern into the words a simple command is compared with. */
static int split_exec_pattern(struct policy_rule *r, char *err, size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8];
	struct policy_command_list list = { 0 };
	const struct policy_simple_command *cmd;
	const char *problem = NULL;
	size_t i;
	int ret = -1;

	quote(q, sizeof(q), r->text, strlen(r->text));
	if (policy_shell_split(r->pattern, &list) < 0)
		return fail(err, errlen, "rule \"%s\": out of memory", q);

	cmd = list.count == 1 ? &list.cmds[0] : NULL;
	if (list.unjudged)
		problem = list.unjudged;
	else if (list.count > 1)
		problem = "it names more than one command; write one rule per command";
	else if (!cmd || cmd->nwords == 0)
		problem = "it names no command; write Exec for every command";
	else if (cmd->nassigns > 0)
		problem = "leading assignments are not part of the match; write the command without them";
	else if (cmd->nredirs > 0)
		problem = "redirections are not part of the match; write the command without them";
	for (i = 0; !problem && i < cmd->nwords; i++) {
		if (cmd->words[i].dynamic)
			problem = "a word that the shell would expand is compared literally; quote it, or end the pattern with \":*\" to match any arguments";
	}
	if (problem) {
		fail(err, errlen, "invalid Exec pattern in rule \"%s\": %s",
		     q, problem);
		goto out;
	}

	r->words = calloc(cmd->nwords, sizeof(*r->words));
	if (!r->words)
		goto oom;
	for (i = 0; i < cmd->nwords; i++) {
		r->words[i] = strdup(cmd->words[i].text);
		if (!r->words[i]) {
			list_words_free(r->words, i);
			r->words = NULL;
			goto oom;
		}
	}
	r->nwords = cmd->nwords;
	ret = 0;
	goto out;

oom:
	fail(err, errlen, "rule \"%s\": out of memory", q);
out:
	policy_command_list_free(&list);
	return ret;
}

static int parse_pattern(struct policy_rule *r, const char *pat, size_t patlen,
			 char *err, size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8];
	const char *name = tool_name(r->tool);

	if (patlen == 0)
		return fail(err, errlen,
			    "empty pattern in rule \"%s\": write %s alone to match everything, or give a pattern such as %s",
			    quote(q, sizeof(q), r->text, strlen(r->text)),
			    name, r->tool == POLICY_EXEC ? "Exec(make test)" :
			    r->tool == POLICY_READ ? "Read(src/**)" :
			    "Write(src/**)");

	if (r->tool == POLICY_EXEC && patlen >= 2 &&
	    strncmp(pat + patlen - 2, ":*", 2) == 0) {
		r->prefix = true;
		patlen -= 2;
	}
	r->pattern = strndup(pat, patlen);
	if (!r->pattern)
		return fail(err, errlen, "out of memory");

	if (r->tool == POLICY_EXEC)
		return split_exec_pattern(r, err, errlen);
	return check_path_pattern(r->text, r->pattern, err, errlen);
}

static int rule_parse(struct policy_rule *r, const char *text,
		      char *err, size_t errlen)
{
	const char *pat;
	size_t namelen = 0, patlen = 0;

	if (check_text(text, err, errlen) < 0)
		return -1;
	if (split_parens(text, &namelen, &pat, &patlen, err, errlen) < 0)
		return -1;
	if (parse_tool(text, namelen, &r->tool, err, errlen) < 0)
		return -1;
	r->text = strdup(text);
	if (!r->text)
		return fail(err, errlen, "out of memory");
	if (!pat)
		return 0;
	return parse_pattern(r, pat, patlen, err, errlen);
}

static int rules_reserve(struct policy *p)
{
	struct policy_rule *grown;
	size_t cap;

	if (p->count < p->cap)
		return 0;
	cap = p->cap ? p->cap * 2 : 16;
	grown = realloc(p->rules, cap * sizeof(*grown));
	if (!grown)
		return -1;
	p->rules = grown;
	p->cap = cap;
	return 0;
}

int policy_add_rule(struct policy *p, enum policy_decision decision,
		    const char *text, const char *source,
		    char *err, size_t errlen)
{
	struct policy_rule r;

	memset(&r, 0, sizeof(r));
	if (decision != POLICY_ALLOW && decision != POLICY_ASK &&
	    decision != POLICY_DENY)
		return fail(err, errlen, "invalid decision %d for a rule",
			    (int)decision);
	r.decision = decision;
	if (rule_parse(&r, text, err, errlen) < 0)
		goto fail_rule;

	r.source = strdup(source ? source : "command line");
	if (!r.source || rules_reserve(p) < 0) {
		fail(err, errlen, "out of memory while adding a rule");
		goto fail_rule;
	}
	p->rules[p->count++] = r;
	return 0;

fail_rule:
	rule_free(&r);
	return -1;
}
