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

#include "internal.h"
#include "lib/error.h"

static const struct {
	const char *name;
	enum policy_tool tool;
} tools[] = {
	{ "Read", POLICY_READ },
	{ "Write", POLICY_WRITE },
	{ "Exec", POLICY_EXEC },
	{ "Net", POLICY_NET },
	{ "Skill", POLICY_SKILL },
};

#define NTOOLS (sizeof(tools) / sizeof(tools[0]))

const char *policy_tool_name(enum policy_tool tool)
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

int policy_set_roots(struct policy *p, const char *workspace,
		     const char *home)
{
	char *ws = NULL, *h = NULL;
	size_t n;

	if (workspace && !(ws = strdup(workspace)))
		return -1;
	if (home && !(h = strdup(home))) {
		free(ws);
		return -1;
	}
	/* "/a/" and "/a" name one directory; keep the form without "/". */
	for (n = ws ? strlen(ws) : 0; n > 1 && ws[n - 1] == '/'; n--)
		ws[n - 1] = '\0';
	for (n = h ? strlen(h) : 0; n > 1 && h[n - 1] == '/'; n--)
		h[n - 1] = '\0';
	free(p->workspace);
	free(p->home);
	p->workspace = ws;
	p->home = h;
	return 0;
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
	for (i = 0; i < p->nprotected; i++)
		rule_free(&p->protected_rules[i]);
	free(p->protected_rules);
	for (i = 0; i < p->nunprotected; i++)
		free(p->unprotected[i]);
	free(p->unprotected);
	free(p->workspace);
	free(p->home);
	for (i = 0; i < POLICY_NTOOLS; i++)
		free(p->by_tool[i]);
	policy_exec_index_free(p);
	policy_init(p);
}

/* Remove the rules added after the first count, undoing a partial load. */
void policy_truncate(struct policy *p, size_t count)
{
	size_t t;

	while (p->count > count)
		rule_free(&p->rules[--p->count]);
	for (t = 0; t < POLICY_NTOOLS; t++) {
		while (p->nby_tool[t] > 0 &&
		       p->by_tool[t][p->nby_tool[t] - 1] >= count)
			p->nby_tool[t]--;
	}
	policy_exec_index_truncate(p, count);
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
		return error_set(err, errlen,
			    "rule \"%s\" is %zu bytes long, more than the maximum of %d: split it into shorter rules",
			    quote(q, sizeof(q), text, len), len,
			    POLICY_RULE_MAX);
	if (len == 0)
		return error_set(err, errlen,
			    "empty rule: write Tool or Tool(pattern), e.g. Read(src/**)");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c == 0x7f)
			return error_set(err, errlen,
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
			return error_set(err, errlen,
				    "unknown tool \"%s\" in rule \"%s\": tool names are case-sensitive, write %s",
				    name, q, tools[i].name);
	}
	return error_set(err, errlen,
		    "unknown tool \"%s\" in rule \"%s\": use Read, Write, Exec, Net or Skill",
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
			return error_set(err, errlen,
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
	return error_set(err, errlen,
		    "unbalanced parentheses in rule \"%s\": write Tool(pattern), e.g. Read(src/**)",
		    quote(q, sizeof(q), text, len));
}

/* A "[" must be closed, because a literal "[" is more likely a typo. */
static int check_classes(const char *q, const char *pat, char *err,
			 size_t errlen)
{
	size_t i, j;

	for (i = 0; pat[i]; i++) {
		if (pat[i] == '\\' && pat[i + 1]) {
			i++;
			continue;
		}
		if (pat[i] != '[')
			continue;
		j = i + 1;
		if (pat[j] == '!' || pat[j] == '^')
			j++;
		if (pat[j] == ']')
			j++;
		while (pat[j] && pat[j] != ']' && pat[j] != '/')
			j++;
		if (pat[j] != ']')
			return error_set(err, errlen,
				    "rule \"%s\": unclosed \"[\" in the glob; close the character class with \"]\" or write \\[ for a literal \"[\"",
				    q);
		i = j;
	}
	return 0;
}

/*
 * Read and Write patterns are globs relative to the workspace, or absolute
 * when they start with "/" or "~/" (the home directory).
 */
static int check_path_pattern(const char *text, const char *pat,
			      char *err, size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8];
	const char *c = pat;
	size_t n;

	quote(q, sizeof(q), text, strlen(text));
	if (pat[0] == '~' && pat[1] != '/')
		return error_set(err, errlen,
			    "rule \"%s\": only \"~/\" is understood (the home directory); write the path as ~/dir/** or /home/name/dir/**",
			    q);
	if (pat[0] == '~')
		c = pat + 2;
	else if (pat[0] == '/')
		c = pat + 1;
	if (check_classes(q, pat, err, errlen) < 0)
		return -1;
	for (;;) {
		n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return error_set(err, errlen,
				    "rule \"%s\": \"..\" components are not allowed, because paths are judged after resolution and never contain them; remove them",
				    q);
		if (n == 0 || (n == 1 && c[0] == '.'))
			return error_set(err, errlen,
				    "rule \"%s\": empty or \".\" components never match a normalised path; remove them (write dir/** for a directory's contents)",
				    q);
		if (c[n] == '\0')
			return 0;
		c += n + 1;
	}
}

static bool is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

static int parse_port(const char *q, const char *text, int *port,
		      char *err, size_t errlen)
{
	char *end;
	long v;

	if (strcmp(text, "*") == 0) {
		*port = -1;
		return 0;
	}
	if (text[0] < '0' || text[0] > '9')
		goto bad;
	v = strtol(text, &end, 10);
	if (*end || v < 1 || v > 65535)
		goto bad;
	*port = (int)v;
	return 0;
bad:
	return error_set(err, errlen,
		    "rule \"%s\": invalid port \"%s\": write a number from 1 to 65535, or * for any port",
		    q, text);
}

/*
 * Net(host), Net(host:port), Net(*.example.com:443), Net([::1]:8080).
 * The host is stored lower-cased in pattern, the port in port.
 */
static int parse_net_pattern(struct policy_rule *r, char *err, size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8];
	char *pat = r->pattern, *host = pat, *colon, *close;
	size_t i;

	quote(q, sizeof(q), r->text, strlen(r->text));
	r->port = -1;
	if (pat[0] == '[') {
		close = strchr(pat, ']');
		if (!close || (close[1] && close[1] != ':'))
			return error_set(err, errlen,
				    "rule \"%s\": an IPv6 address is written in brackets, as in Net([::1]:8080)",
				    q);
		if (close[1] == ':' &&
		    parse_port(q, close + 2, &r->port, err, errlen) < 0)
			return -1;
		*close = '\0';
		host = pat + 1;
		for (i = 0; host[i]; i++) {
			if (!strchr("0123456789abcdefABCDEF:.", host[i]))
				return error_set(err, errlen,
					    "rule \"%s\": invalid IPv6 address", q);
		}
	} else {
		colon = strchr(pat, ':');
		if (colon) {
			if (parse_port(q, colon + 1, &r->port, err, errlen) < 0)
				return -1;
			*colon = '\0';
		}
		i = strncmp(host, "*.", 2) == 0 ? 2 : 0;
		if (strcmp(host, "*") == 0)
			i = 1;
		else if (host[i] == '\0' || host[i] == '.')
			return error_set(err, errlen,
				    "rule \"%s\": missing host name; write Net(example.com), Net(*.example.com) or Net(host:port)",
				    q);
		for (; host[i]; i++) {
			if (!is_host_char(host[i]))
				return error_set(err, errlen,
					    "rule \"%s\": invalid character \"%c\" in the host name; only \"*.\" at the start is a wildcard",
					    q, host[i]);
		}
	}
	memmove(pat, host, strlen(host) + 1);
	for (i = 0; pat[i]; i++) {
		if (pat[i] >= 'A' && pat[i] <= 'Z')
			pat[i] = (char)(pat[i] - 'A' + 'a');
	}
	return 0;
}

/* Skill names are globs over one name: letters, digits, "-", "_", ".". */
static int check_skill_pattern(const struct policy_rule *r, char *err,
			       size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8];
	const char *c;

	for (c = r->pattern; *c; c++) {
		if (!is_host_char(*c) && *c != '*' && *c != '?')
			return error_set(err, errlen,
				    "rule \"%s\": invalid character \"%c\" in the skill name; names use letters, digits, \"-\", \"_\" and \".\", with * and ? as wildcards",
				    quote(q, sizeof(q), r->text,
					  strlen(r->text)), *c);
	}
	return 0;
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
		return error_set(err, errlen, "rule \"%s\": out of memory", q);

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
		error_set(err, errlen, "invalid Exec pattern in rule \"%s\": %s",
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
	error_set(err, errlen, "rule \"%s\": out of memory", q);
out:
	policy_command_list_free(&list);
	return ret;
}

static int parse_pattern(struct policy_rule *r, const char *pat, size_t patlen,
			 char *err, size_t errlen)
{
	char q[QUOTE_MAX * 4 + 8];
	static const char *const examples[] = {
		[POLICY_READ] = "Read(src/**)",
		[POLICY_WRITE] = "Write(src/**)",
		[POLICY_EXEC] = "Exec(make test)",
		[POLICY_NET] = "Net(*.example.com:443)",
		[POLICY_SKILL] = "Skill(pdf)",
	};
	const char *name = policy_tool_name(r->tool);

	if (patlen == 0)
		return error_set(err, errlen,
			    "empty pattern in rule \"%s\": write %s alone to match everything, or give a pattern such as %s",
			    quote(q, sizeof(q), r->text, strlen(r->text)),
			    name, examples[r->tool]);

	if (r->tool == POLICY_EXEC && patlen >= 2 &&
	    strncmp(pat + patlen - 2, ":*", 2) == 0) {
		r->prefix = true;
		patlen -= 2;
	}
	r->pattern = strndup(pat, patlen);
	if (!r->pattern)
		return error_set(err, errlen, "out of memory");

	switch (r->tool) {
	case POLICY_EXEC:
		return split_exec_pattern(r, err, errlen);
	case POLICY_NET:
		return parse_net_pattern(r, err, errlen);
	case POLICY_SKILL:
		return check_skill_pattern(r, err, errlen);
	case POLICY_READ:
	case POLICY_WRITE:
		break;
	}
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
	r->port = -1;
	if (!r->text)
		return error_set(err, errlen, "out of memory");
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
	struct policy_origin o = { source, 0, 0, POLICY_LAYER_COMMAND_LINE };

	return policy_add_rule_at(p, decision, text, &o, err, errlen);
}

/* Parse a rule into r; the caller frees r on error. */
int policy_rule_parse(struct policy_rule *r, enum policy_decision decision,
		      const char *text, const struct policy_origin *o,
		      char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->port = -1;
	if (decision != POLICY_ALLOW && decision != POLICY_ASK &&
	    decision != POLICY_DENY)
		return error_set(err, errlen, "invalid decision %d for a rule",
			    (int)decision);
	r->decision = decision;
	r->line = o->line;
	r->column = o->column;
	r->layer = o->layer;
	if (rule_parse(r, text, err, errlen) < 0)
		return -1;
	r->source = strdup(o->source ? o->source : "command line");
	if (!r->source)
		return error_set(err, errlen, "out of memory while adding a rule");
	return 0;
}

void policy_rule_free(struct policy_rule *r)
{
	rule_free(r);
}

bool policy_rule_is_absolute(const struct policy_rule *r)
{
	return (r->tool == POLICY_READ || r->tool == POLICY_WRITE) &&
	       r->pattern && (r->pattern[0] == '/' || r->pattern[0] == '~');
}

void policy_head(const char *s, size_t n, unsigned long long *head,
		 unsigned long long *mask)
{
	unsigned char bytes[8] = { 0 }, ones[8] = { 0 };
	size_t i;

	for (i = 0; i < n && i < 8; i++) {
		bytes[i] = (unsigned char)s[i];
		ones[i] = 0xff;
		if (!s[i])
			break;
	}
	memcpy(head, bytes, 8);
	memcpy(mask, ones, 8);
}

/* Bytes of a path glob, after "/" or "~/", before its first wildcard. */
static size_t literal_prefix(const char *pat)
{
	if (pat[0] == '/')
		pat++;
	else if (pat[0] == '~')
		pat += 2;
	return strcspn(pat, "*?[\\");
}

int policy_rule_append(struct policy *p, struct policy_rule *r)
{
	enum policy_tool t = r->tool;
	size_t *grown, cap;

	if (rules_reserve(p) < 0)
		return -1;
	if (p->nby_tool[t] == p->cap_by_tool[t]) {
		cap = p->cap_by_tool[t] ? p->cap_by_tool[t] * 2 : 16;
		grown = realloc(p->by_tool[t], cap * sizeof(*grown));
		if (!grown)
			return -1;
		p->by_tool[t] = grown;
		p->cap_by_tool[t] = cap;
	}
	if ((t == POLICY_READ || t == POLICY_WRITE) && r->pattern) {
		r->literal_len = literal_prefix(r->pattern);
		const char *body = r->pattern + (r->pattern[0] == '/' ? 1 :
						 r->pattern[0] == '~' ? 2 : 0);

		policy_head(body, r->literal_len, &r->head, &r->head_mask);
		if (r->literal_len > 8)
			policy_head(body + 8, r->literal_len - 8, &r->head1,
				    &r->head1_mask);
	} else if (t == POLICY_EXEC && r->nwords > 0) {
		/* The name and its NUL, so that short names compare exactly. */
		policy_head(r->words[0], strlen(r->words[0]) + 1, &r->head,
			    &r->head_mask);
		r->head_exact = strlen(r->words[0]) < 8;
		if (r->nwords > 1)
			policy_head(r->words[1], strlen(r->words[1]) + 1,
				    &r->head1, &r->head1_mask);
	}
	if (t == POLICY_EXEC && policy_exec_index_add(p, r, p->count) < 0)
		return -1;
	if (policy_rule_is_absolute(r))
		p->has_absolute = true;
	p->by_tool[t][p->nby_tool[t]++] = p->count;
	p->rules[p->count++] = *r;
	return 0;
}

int policy_add_rule_at(struct policy *p, enum policy_decision decision,
		       const char *text, const struct policy_origin *origin,
		       char *err, size_t errlen)
{
	struct policy_rule r;

	if (policy_rule_parse(&r, decision, text, origin, err, errlen) < 0)
		goto fail_rule;
	if (policy_rule_append(p, &r) < 0) {
		error_set(err, errlen, "out of memory while adding a rule");
		goto fail_rule;
	}
	return 0;

fail_rule:
	rule_free(&r);
	return -1;
}
