/*
 * "Always" approvals: the narrowest rules that cover one approved request,
 * and saving them to the personal project file.
 *
 * A saved approval must never be broader than what the person saw: the
 * exact words of each command (never a program-name prefix) and the exact
 * path (glob characters escaped). Each rule is parsed back and compared
 * with the request before it is offered.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "internal.h"

static bool is_plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("_./=@%+,-", c);
}

/* Append word to buf, single-quoted unless it is plain. */
static int append_word(char *buf, size_t size, size_t *o, const char *w)
{
	size_t i;
	bool plain = w[0] != '\0';

	for (i = 0; w[i]; i++)
		plain = plain && is_plain_char(w[i]);
	if (*o && *o + 1 < size)
		buf[(*o)++] = ' ';
	if (plain) {
		*o += (size_t)snprintf(buf + *o, *o < size ? size - *o : 0, "%s", w);
		return *o < size ? 0 : -1;
	}
	*o += (size_t)snprintf(buf + *o, *o < size ? size - *o : 0, "'");
	for (i = 0; w[i] && *o < size; i++) {
		if (w[i] == '\'')
			*o += (size_t)snprintf(buf + *o, size - *o, "'\\''");
		else
			buf[(*o)++] = w[i];
	}
	*o += (size_t)snprintf(buf + *o, *o < size ? size - *o : 0, "'");
	return *o < size ? 0 : -1;
}

/* Is the parsed rule exactly the words of cmd? */
static bool rule_is_exact(const char *text,
			  const struct policy_simple_command *cmd)
{
	struct policy_origin o = { "approval", 0, 0, POLICY_LAYER_LOCAL };
	struct policy_rule r;
	char err[256];
	bool same;
	size_t i;

	same = policy_rule_parse(&r, POLICY_ALLOW, text, &o, err,
				 sizeof(err)) == 0 && !r.prefix &&
	       r.nwords == cmd->nwords;
	for (i = 0; same && i < r.nwords; i++)
		same = strcmp(r.words[i], cmd->words[i].text) == 0;
	policy_rule_free(&r);
	return same;
}

static int exec_rules(const char *command, char ***out, size_t *n,
		      char *err, size_t errlen)
{
	struct policy_command_list list;
	char rule[POLICY_RULE_MAX + 1];
	size_t i, k, o;
	int ret = -1;

	if (policy_shell_split(command, &list) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (list.unjudged) {
		snprintf(err, errlen, "the command cannot be saved as a rule (%s); approve it once instead",
			 list.unjudged);
		goto out;
	}
	for (i = 0; i < list.count; i++) {
		const struct policy_simple_command *cmd = &list.cmds[i];

		if (cmd->kind != POLICY_CMD_SIMPLE || cmd->nwords == 0)
			continue;
		/* The words go after "Exec(", leaving room for ")". */
		o = 0;
		for (k = 0; k < cmd->nwords; k++) {
			if (cmd->words[k].dynamic ||
			    append_word(rule + 5, sizeof(rule) - 7, &o,
					cmd->words[k].text) < 0)
				break;
		}
		if (k < cmd->nwords) {
			snprintf(err, errlen, "a command with expanded or very long words cannot be saved as a rule; approve it once instead");
			goto out;
		}
		memcpy(rule, "Exec(", 5);
		snprintf(rule + 5 + o, sizeof(rule) - 5 - o, ")");
		if (!rule_is_exact(rule, cmd)) {
			snprintf(err, errlen, "the command cannot be written as an exact rule; approve it once instead");
			goto out;
		}
		if (policy_strv_push(out, n, rule) < 0) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	ret = 0;
out:
	policy_command_list_free(&list);
	return ret;
}

/* Read(path) or Write(path) with glob characters escaped. */
static int path_rule(const char *tool, const char *path, char ***out,
		     size_t *n, char *err, size_t errlen)
{
	char rule[POLICY_RULE_MAX + 1];
	size_t o = (size_t)snprintf(rule, sizeof(rule), "%s(", tool), i;

	for (i = 0; path[i] && o + 3 < sizeof(rule); i++) {
		if (strchr("*?[]\\", path[i]))
			rule[o++] = '\\';
		rule[o++] = path[i];
	}
	if (path[i] || o + 2 > sizeof(rule) || strchr(path, '(') ||
	    strchr(path, ')')) {
		snprintf(err, errlen, "the path cannot be written as a rule; approve it once instead");
		return -1;
	}
	rule[o++] = ')';
	rule[o] = '\0';
	if (policy_strv_push(out, n, rule) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int policy_approval_rules(enum policy_tool tool, const char *subject,
			  char ***rules, char *err, size_t errlen)
{
	char text[600];
	size_t n = 0;
	int rc;

	*rules = NULL;
	switch (tool) {
	case POLICY_EXEC:
		rc = exec_rules(subject, rules, &n, err, errlen);
		break;
	case POLICY_READ:
	case POLICY_WRITE:
		rc = path_rule(policy_tool_name(tool), subject, rules, &n, err,
			       errlen);
		break;
	case POLICY_NET:
	case POLICY_SKILL:
	default:
		snprintf(text, sizeof(text), "%s(%.500s)",
			 policy_tool_name(tool), subject);
		rc = policy_strv_push(rules, &n, text);
		if (rc < 0)
			snprintf(err, errlen, "out of memory");
		break;
	}
	if (rc == 0 && n == 0) {
		snprintf(err, errlen, "the request names nothing to save as a rule");
		rc = -1;
	}
	if (rc < 0) {
		policy_strv_free(*rules);
		*rules = NULL;
	}
	return rc;
}

static cJSON *read_local(const char *path, char *err, size_t errlen)
{
	char buf[POLICY_FILE_MAX + 1];
	ssize_t n;
	cJSON *root;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0 && errno == ENOENT)
		return cJSON_CreateObject();
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf[n] = '\0';
	root = cJSON_Parse(buf);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		snprintf(err, errlen, "%s: not a policy object; fix or remove it first",
			 path);
		return NULL;
	}
	return root;
}

static bool array_has(const cJSON *array, const char *s)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, array) {
		if (cJSON_IsString(item) && strcmp(item->valuestring, s) == 0)
			return true;
	}
	return false;
}

int policy_save_approval(const struct policy_layers *l,
			 const char *const *rules, bool keep_trust,
			 char *err, size_t errlen)
{
	char dir[4096], path[4200];
	cJSON *root, *allow;
	char *text = NULL;
	size_t i;
	int ret = -1;

	snprintf(dir, sizeof(dir), "%s/.coworker", l->workspace);
	snprintf(path, sizeof(path), "%s/policy.local.json", dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	root = read_local(path, err, errlen);
	if (!root)
		return -1;
	allow = cJSON_GetObjectItemCaseSensitive(root, "allow");
	if (!allow)
		allow = cJSON_AddArrayToObject(root, "allow");
	if (!cJSON_IsArray(allow)) {
		snprintf(err, errlen, "%s: \"allow\" is not an array; fix it first",
			 path);
		goto out;
	}
	for (i = 0; rules[i]; i++) {
		if (!array_has(allow, rules[i]))
			cJSON_AddItemToArray(allow,
					     cJSON_CreateString(rules[i]));
	}
	text = cJSON_Print(root);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (policy_write_atomic(path, text, 0644, err, errlen) < 0)
		goto out;
	/* The person just approved these rules, so a trusted project stays trusted. */
	ret = keep_trust ? policy_trust_record(l, err, errlen) : 0;
out:
	cJSON_free(text);
	cJSON_Delete(root);
	return ret;
}
