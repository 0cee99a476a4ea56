/*
 * Requests written as rules ("Exec(make)", "Read(src/a.c)"), lexical path
 * judging, and the sentences that explain a verdict.
 *
 * These serve `coworker policy explain`, the examples in policy files, and
 * any caller without a broker at hand. The supervisor judges real requests
 * after resolving paths with the broker, never by these string forms.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *policy_layer_name(enum policy_layer layer)
{
	switch (layer) {
	case POLICY_LAYER_PROTECTED:
		return "protected";
	case POLICY_LAYER_PRESET:
		return "preset";
	case POLICY_LAYER_USER:
		return "user";
	case POLICY_LAYER_PROJECT:
		return "project";
	case POLICY_LAYER_LOCAL:
		return "local";
	case POLICY_LAYER_EXTRA:
		return "file";
	case POLICY_LAYER_COMMAND_LINE:
		return "command line";
	}
	return "?";
}

/*
 * Fold "." and ".." components of path into out. Returns the number of
 * components a relative path climbs above its start (then out is not
 * usable), 0 on success, or -1 when out is too small.
 */
static int fold_path(const char *path, char *out, size_t size)
{
	const char *c = path;
	size_t o = 0, n;
	bool absolute = path[0] == '/';

	if (size < 2)
		return -1;
	if (absolute)
		out[o++] = '/';
	out[o] = '\0';
	while (*c) {
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.')) {
			/* an empty or "." component changes nothing */
		} else if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (o == (absolute ? 1u : 0u)) {
				if (!absolute)
					return 1;
			} else {
				while (o > (absolute ? 1u : 0u) &&
				       out[o - 1] != '/')
					o--;
				if (o > (absolute ? 1u : 0u))
					o--;	/* the "/" before it */
				out[o] = '\0';
			}
		} else {
			if (o + n + 2 > size)
				return -1;
			if (o > (absolute ? 1u : 0u))
				out[o++] = '/';
			memcpy(out + o, c, n);
			o += n;
			out[o] = '\0';
		}
		c += n;
		if (*c == '/')
			c++;
	}
	return 0;
}

struct policy_verdict policy_judge_path_lexically(void *ctx,
		const struct policy *p, enum policy_tool tool,
		const char *path)
{
	struct policy_verdict v = { POLICY_ASK, NULL, NULL };
	char folded[PATH_MAX], joined[PATH_MAX];
	int rc;

	(void)ctx;
	if (path[0] == '~' && path[1] == '/' && p->home) {
		if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", p->home,
				     path + 2) >= sizeof(joined))
			goto too_long;
		path = joined;
	}
	rc = fold_path(path, folded, sizeof(folded));
	if (rc < 0)
		goto too_long;
	if (rc > 0) {
		v.reason = "a path that leaves the workspace through \"..\" needs approval";
		return v;
	}
	if (folded[0] == '\0') {
		v.reason = "the path names the workspace itself";
		return v;
	}
	return policy_decide_path(p, tool, folded);

too_long:
	v.decision = POLICY_DENY;
	v.reason = "the path is longer than the policy judges";
	return v;
}

/* Split "Tool(argument)" into the tool and a copy of the argument. */
static int split_request(const char *request, enum policy_tool *tool,
			 char **arg, char *err, size_t errlen)
{
	static const char *const names[] = { "Read", "Write", "Exec", "Net",
					     "Skill" };
	static const enum policy_tool tools[] = { POLICY_READ, POLICY_WRITE,
		POLICY_EXEC, POLICY_NET, POLICY_SKILL };
	const char *open = strchr(request, '(');
	size_t len = strlen(request), namelen, i;

	if (!open || len < 3 || request[len - 1] != ')')
		goto bad;
	namelen = (size_t)(open - request);
	for (i = 0; i < 5; i++) {
		if (strlen(names[i]) == namelen &&
		    strncmp(names[i], request, namelen) == 0)
			break;
	}
	if (i == 5)
		goto bad;
	*tool = tools[i];
	*arg = strndup(open + 1, len - namelen - 2);
	if (!*arg) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "invalid request \"%.200s\": write Exec(command), Read(path), Write(path), Net(host:port) or Skill(name)",
		 request);
	return -1;
}

/* "host", "host:port" or "[v6]:port"; port 443 when none is given. */
static int split_host_port(char *arg, const char **host, int *port,
			   char *err, size_t errlen)
{
	char *colon, *end;
	long v;

	*port = 443;
	*host = arg;
	if (arg[0] == '[') {
		end = strchr(arg, ']');
		if (!end)
			goto bad;
		*end = '\0';
		*host = arg + 1;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (!colon && end[1])
			goto bad;
	} else {
		colon = strrchr(arg, ':');
		if (colon && strchr(arg, ':') != colon)
			goto bad;	/* bare IPv6 needs brackets */
	}
	if (colon) {
		*colon = '\0';
		v = strtol(colon + 1, &end, 10);
		if (*end || end == colon + 1 || v < 1 || v > 65535)
			goto bad;
		*port = (int)v;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "invalid Net request: write Net(host), Net(host:port) or Net([ipv6]:port)");
	return -1;
}

static int decide_arg(const struct policy *p, enum policy_tool tool,
		      char *arg, struct policy_verdict *v, char *err,
		      size_t errlen)
{
	const char *host;
	int port;

	switch (tool) {
	case POLICY_EXEC:
		*v = policy_decide_command(p, arg);
		return 0;
	case POLICY_READ:
	case POLICY_WRITE:
		*v = policy_judge_path_lexically(NULL, p, tool, arg);
		return 0;
	case POLICY_NET:
		if (split_host_port(arg, &host, &port, err, errlen) < 0)
			return -1;
		*v = policy_decide_net(p, host, port);
		return 0;
	case POLICY_SKILL:
		*v = policy_decide_skill(p, arg);
		return 0;
	}
	return -1;
}

int policy_decide_request(const struct policy *p, const char *request,
			  struct policy_verdict *v, char *err, size_t errlen)
{
	enum policy_tool tool;
	char *arg;
	int rc;

	if (split_request(request, &tool, &arg, err, errlen) < 0)
		return -1;
	rc = decide_arg(p, tool, arg, v, err, errlen);
	free(arg);
	return rc;
}

int policy_explain_request(const struct policy *p, const char *request,
			   struct policy_explanation *out, char *err,
			   size_t errlen)
{
	static const enum policy_part_kind kinds[] = {
		[POLICY_READ] = POLICY_PART_READ,
		[POLICY_WRITE] = POLICY_PART_WRITE,
		[POLICY_EXEC] = POLICY_PART_COMMAND,
		[POLICY_NET] = POLICY_PART_CONSTRUCT,
		[POLICY_SKILL] = POLICY_PART_CONSTRUCT,
	};
	enum policy_tool tool;
	char *arg;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (split_request(request, &tool, &arg, err, errlen) < 0)
		return -1;
	if (tool == POLICY_EXEC) {
		rc = policy_explain_command(p, arg, NULL, NULL, out);
		if (rc < 0)
			snprintf(err, errlen, "out of memory");
		goto out;
	}
	out->parts = calloc(1, sizeof(*out->parts));
	if (!out->parts || !(out->parts[0].subject = strdup(arg))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	out->cap = out->count = 1;
	out->parts[0].kind = kinds[tool];
	rc = decide_arg(p, tool, arg, &out->verdict, err, errlen);
	out->parts[0].verdict = out->verdict;
out:
	free(arg);
	return rc;
}

/* "FILE:LINE:COLUMN" or just "FILE" for a rule's origin. */
static const char *origin_text(const struct policy_rule *r, char *buf,
			       size_t size)
{
	if (r->line > 0)
		snprintf(buf, size, "%s:%d:%d", r->source, r->line, r->column);
	else
		snprintf(buf, size, "%s", r->source);
	return buf;
}

const char *policy_verdict_sentence(const struct policy_verdict *v,
				    char *buf, size_t size)
{
	static const char *const verbs[] = {
		[POLICY_ALLOW] = "allowed by",
		[POLICY_ASK] = "needs approval by",
		[POLICY_DENY] = "denied by",
	};
	const struct policy_rule *r = v->rule;
	char where[1024];

	if (!r) {
		snprintf(buf, size, "%s: %s", policy_decision_name(v->decision),
			 v->reason ? v->reason : "no reason recorded");
		return buf;
	}
	if (r->layer == POLICY_LAYER_PROTECTED) {
		snprintf(buf, size,
			 "denied: %s%s\"%s\" is on the built-in protected list of secrets; only the user file can unprotect it",
			 v->reason ? v->reason : "", v->reason ? "; " : "",
			 r->text);
		return buf;
	}
	origin_text(r, where, sizeof(where));
	/* A reason beside a rule of the same decision explains how it matched. */
	if (v->reason && v->decision == r->decision)
		snprintf(buf, size, "%s: %s; %s rule \"%s\" in %s",
			 policy_decision_name(v->decision), v->reason,
			 verbs[v->decision], r->text, where);
	else if (v->reason)
		snprintf(buf, size,
			 "%s: %s; rule \"%s\" (%s, %s) matches the command but does not spell out that form",
			 policy_decision_name(v->decision), v->reason, r->text,
			 policy_decision_name(r->decision), where);
	else
		snprintf(buf, size, "%s rule \"%s\" in %s",
			 verbs[v->decision], r->text, where);
	return buf;
}
