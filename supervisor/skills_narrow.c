/*
 * allowed-tools entries mapped onto coworker's rule grammar, one small
 * policy per loaded skill.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "skills_narrow.h"

/* What an entry of allowed-tools stands for in coworker. */
enum entry_class {
	ENTRY_READ,		/* read_file, and list_directory too */
	ENTRY_LIST,		/* list_directory only */
	ENTRY_SEARCH,		/* list_directory; the argument is no path */
	ENTRY_WRITE,		/* write_file and edit_file */
	ENTRY_EXEC,		/* run_command */
	ENTRY_UNJUDGED,		/* a request the narrowing never judges */
};

/*
 * Tool names as Claude Code, the Agent Skills examples and coworker write
 * them, compared without case.
 */
static const struct {
	const char *name;
	enum entry_class class;
} entry_names[] = {
	{ "Read", ENTRY_READ },
	{ "read_file", ENTRY_READ },
	{ "View", ENTRY_READ },
	{ "NotebookRead", ENTRY_READ },
	{ "LS", ENTRY_LIST },
	{ "List", ENTRY_LIST },
	{ "list_directory", ENTRY_LIST },
	{ "Glob", ENTRY_SEARCH },
	{ "Grep", ENTRY_SEARCH },
	{ "Write", ENTRY_WRITE },
	{ "Edit", ENTRY_WRITE },
	{ "MultiEdit", ENTRY_WRITE },
	{ "NotebookEdit", ENTRY_WRITE },
	{ "write_file", ENTRY_WRITE },
	{ "edit_file", ENTRY_WRITE },
	{ "Bash", ENTRY_EXEC },
	{ "Exec", ENTRY_EXEC },
	{ "Shell", ENTRY_EXEC },
	{ "run_command", ENTRY_EXEC },
	{ "Skill", ENTRY_UNJUDGED },
	{ "load_skill", ENTRY_UNJUDGED },
};

#define ENTRY_NAMES (sizeof(entry_names) / sizeof(entry_names[0]))

typedef void (*note_fn)(void *ctx, const char *message);

static bool entry_class_of(const char *tool, enum entry_class *class)
{
	size_t i;

	for (i = 0; i < ENTRY_NAMES; i++) {
		if (strcasecmp(entry_names[i].name, tool) == 0) {
			*class = entry_names[i].class;
			return true;
		}
	}
	return false;
}

/*
 * Split "Tool(argument)" into tool and argument (NULL for a bare "Tool").
 * Returns false when the parentheses do not close at the end.
 */
static bool split_entry(const char *entry, char *tool, size_t toolsize,
			const char **argument, size_t *arglen)
{
	const char *open = strchr(entry, '(');
	size_t len = strlen(entry), toollen;

	*argument = NULL;
	*arglen = 0;
	toollen = open ? (size_t)(open - entry) : len;
	if (toollen == 0 || toollen >= toolsize)
		return false;
	memcpy(tool, entry, toollen);
	tool[toollen] = '\0';
	if (!open)
		return true;
	if (entry[len - 1] != ')' || open + 1 > entry + len - 1)
		return false;
	*argument = open + 1;
	*arglen = (size_t)(entry + len - 1 - *argument);
	return true;
}

/* Add "Kind" or "Kind(argument)" to p as an allow rule. */
static int add_rule(struct policy *p, const char *kind, const char *argument,
		    size_t arglen, const struct skill *sk, char *err,
		    size_t errlen)
{
	char rule[POLICY_RULE_MAX + 1];

	if (argument)
		snprintf(rule, sizeof(rule), "%s(%.*s)", kind, (int)arglen,
			 argument);
	else
		snprintf(rule, sizeof(rule), "%s", kind);
	return policy_add_rule(p, POLICY_ALLOW, rule, sk->path, err, errlen);
}

static void note_entry(note_fn note, void *ctx, const struct skill *sk,
		       const char *entry, const char *why)
{
	char message[1024];

	snprintf(message, sizeof(message), "skill \"%s\": allowed-tools entry "
		 "\"%.200s\" %s", sk->name, entry, why);
	note(ctx, message);
}

/* Map one entry into the narrowing; an entry it cannot map is noted. */
static void map_entry(struct skills_narrowing *n, const struct skill *sk,
		      const char *entry, note_fn note, void *ctx)
{
	char tool[64], err[512], why[600];
	const char *argument;
	enum entry_class class;
	size_t arglen;
	int rc = 0;

	if (!split_entry(entry, tool, sizeof(tool), &argument, &arglen)) {
		note_entry(note, ctx, sk, entry, "is not NAME or NAME(ARGUMENT) "
			   "and allows nothing");
		return;
	}
	if (!entry_class_of(tool, &class)) {
		note_entry(note, ctx, sk, entry, "names no coworker tool and "
			   "allows nothing");
		return;
	}

	switch (class) {
	case ENTRY_READ:
		rc = add_rule(&n->rules, "Read", argument, arglen, sk, err,
			      sizeof(err));
		if (rc == 0)
			rc = add_rule(&n->listing, "Read", argument, arglen, sk,
				      err, sizeof(err));
		break;
	case ENTRY_LIST:
		rc = add_rule(&n->listing, "Read", argument, arglen, sk, err,
			      sizeof(err));
		break;
	case ENTRY_SEARCH:
		if (argument) {
			note_entry(note, ctx, sk, entry, "has an argument that "
				   "is not a path and allows nothing");
			return;
		}
		rc = add_rule(&n->listing, "Read", NULL, 0, sk, err,
			      sizeof(err));
		break;
	case ENTRY_WRITE:
		rc = add_rule(&n->rules, "Write", argument, arglen, sk, err,
			      sizeof(err));
		break;
	case ENTRY_EXEC:
		rc = add_rule(&n->rules, "Exec", argument, arglen, sk, err,
			      sizeof(err));
		break;
	case ENTRY_UNJUDGED:
		return;
	}
	if (rc < 0) {
		snprintf(why, sizeof(why), "allows nothing: %s", err);
		note_entry(note, ctx, sk, entry, why);
	}
}

/* Join the entries with ", " for messages, cut with "..." when long. */
static void join_listed(struct skills_narrowing *n, const struct skill *sk)
{
	size_t i, len = 0, cap = sizeof(n->listed);
	int w;

	n->listed[0] = '\0';
	for (i = 0; i < sk->nallowed; i++) {
		w = snprintf(n->listed + len, cap - len, "%s%s",
			     i ? ", " : "", sk->allowed_tools[i]);
		if (w < 0 || (size_t)w >= cap - len) {
			snprintf(n->listed + cap - 4, 4, "...");
			return;
		}
		len += (size_t)w;
	}
	if (sk->nallowed == 0)
		snprintf(n->listed, cap, "an empty list");
}

int skills_narrow_init(struct skills_narrowing *n, const struct skill *sk,
		       const char *workspace, note_fn note, void *ctx,
		       char *err, size_t errlen)
{
	size_t i;

	memset(n, 0, sizeof(*n));
	policy_init(&n->rules);
	policy_init(&n->listing);
	n->name = strdup(sk->name);
	n->path = strdup(sk->path);
	if (!n->name || !n->path ||
	    policy_set_roots(&n->rules, workspace, NULL) < 0 ||
	    policy_set_roots(&n->listing, workspace, NULL) < 0) {
		skills_narrow_free(n);
		snprintf(err, errlen, "out of memory narrowing the tools for "
			 "skill \"%s\"", sk->name);
		return -1;
	}
	join_listed(n, sk);
	for (i = 0; i < sk->nallowed; i++)
		map_entry(n, sk, sk->allowed_tools[i], note, ctx);
	return 0;
}

void skills_narrow_free(struct skills_narrowing *n)
{
	free(n->name);
	free(n->path);
	policy_free(&n->rules);
	policy_free(&n->listing);
	memset(n, 0, sizeof(*n));
}

const struct policy *skills_narrow_policy(const struct skills_narrowing *n,
					  enum skills_narrow_request request)
{
	return request == SKILLS_NARROW_LIST ? &n->listing : &n->rules;
}
