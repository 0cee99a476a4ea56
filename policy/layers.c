/*
 * Layers: the preset, the user file, the project files, extra files and
 * command-line rules, loaded in that order into one policy.
 *
 * Layers only add rules, and deny beats ask beats allow whatever layer a
 * rule comes from, so a later layer can narrow but never lift an earlier
 * deny. Project files come with the repository, so their allow rules are
 * kept inactive until the user trusts the project. Their ask and deny
 * rules always apply, because they can only narrow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

const char *const policy_preset_names[] = {
	"read-only", "workspace-write", "full-access", NULL,
};

/* Programs that only read, allowed by the read-only and workspace-write presets. */
#define READ_ONLY_PROGRAMS \
	"Exec(ls:*)", "Exec(cat:*)", "Exec(head:*)", "Exec(tail:*)", \
	"Exec(wc:*)", "Exec(grep:*)", "Exec(rg:*)", "Exec(find:*)", \
	"Exec(pwd)", "Exec(echo:*)", "Exec(printf:*)", "Exec(cd:*)", \
	"Exec(stat:*)", "Exec(file:*)", "Exec(which:*)", "Exec(tree:*)", \
	"Exec(du:*)", "Exec(sort:*)", "Exec(uniq:*)", "Exec(cut:*)", \
	"Exec(tr:*)", "Exec(diff:*)", "Exec(sed:*)", "Exec(basename:*)", \
	"Exec(dirname:*)", "Exec(realpath:*)", "Exec(true)", "Exec(false)", \
	"Exec(test:*)", "Exec(date)", "Exec(git status:*)", \
	"Exec(git diff:*)", "Exec(git log:*)", "Exec(git show:*)", \
	"Exec(git rev-parse:*)", "Exec(git ls-files:*)", "Exec(git grep:*)", \
	"Exec(git blame:*)"

static const char *const preset_read_only[] = {
	"allow", "Read", "Skill", READ_ONLY_PROGRAMS,
	"deny", "Write", NULL,
};

static const char *const preset_workspace_write[] = {
	"allow", "Read", "Write", "Skill", READ_ONLY_PROGRAMS, NULL,
};

static const char *const preset_full_access[] = {
	"allow", "Read", "Write", "Exec", "Net", "Skill", NULL,
};

static int load_preset(struct policy *p, const char *name, char *err,
		       size_t errlen)
{
	char source[64];
	struct policy_origin o = { source, 0, 0, POLICY_LAYER_PRESET };
	const char *const *list;
	enum policy_decision d = POLICY_ALLOW;
	size_t i;

	if (!name || strcmp(name, "workspace-write") == 0)
		list = preset_workspace_write;
	else if (strcmp(name, "read-only") == 0)
		list = preset_read_only;
	else if (strcmp(name, "full-access") == 0)
		list = preset_full_access;
	else {
		snprintf(err, errlen,
			 "unknown preset \"%.100s\": use read-only, workspace-write or full-access",
			 name);
		return -1;
	}
	snprintf(source, sizeof(source), "preset %s",
		 name ? name : "workspace-write");
	for (i = 0; list[i]; i++) {
		if (strcmp(list[i], "allow") == 0) {
			d = POLICY_ALLOW;
		} else if (strcmp(list[i], "deny") == 0) {
			d = POLICY_DENY;
		} else if (policy_add_rule_at(p, d, list[i], &o, err,
					      errlen) < 0) {
			return -1;
		}
	}
	return 0;
}

int policy_user_file_path(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		return (size_t)snprintf(buf, size, "%s/coworker/policy.json",
					xdg) < size ? 0 : -1;
	if (!home || home[0] != '/')
		return -1;
	return (size_t)snprintf(buf, size, "%s/.config/coworker/policy.json",
				home) < size ? 0 : -1;
}

/*
 * Is path a regular file? 0 yes, 1 missing, -1 something else (err set).
 * Project files are not followed through symlinks, so a repository cannot
 * point its policy at a file elsewhere.
 */
static int regular_file(const char *path, bool nofollow, char *err,
			size_t errlen)
{
	struct stat st;
	int rc = nofollow ? lstat(path, &st) : stat(path, &st);

	if (rc < 0 && errno == ENOENT)
		return 1;
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot read policy file: %s", path,
			 strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
			 "%s is not a regular file; replace it with a policy file",
			 path);
		return -1;
	}
	return 0;
}

void policy_project_paths(const char *workspace, char project[4096],
			  char local[4096])
{
	snprintf(project, 4096, "%s/.coworker/policy.json", workspace);
	snprintf(local, 4096, "%s/.coworker/policy.local.json", workspace);
}

static bool path_listed(char **list, const char *path)
{
	size_t i, n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (i = 0; list && list[i]; i++) {
		size_t m = strlen(list[i]);

		while (m > 1 && list[i][m - 1] == '/')
			m--;
		if (m == n && strncmp(list[i], path, n) == 0)
			return true;
	}
	return false;
}

static int load_user(struct policy *p, const struct policy_layers *l,
		     char ***trusted, char *err, size_t errlen)
{
	char path[4096];
	int rc;

	if (l->no_user_file)
		return 0;
	if (l->user_file)
		snprintf(path, sizeof(path), "%s", l->user_file);
	else if (policy_user_file_path(path, sizeof(path)) < 0)
		return 0;	/* no home directory: no user file */
	rc = regular_file(path, false, err, errlen);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		if (!l->user_file)
			return 0;
		snprintf(err, errlen, "%s: policy file not found", path);
		return -1;
	}
	return policy_load_file_layer(p, path, POLICY_LAYER_USER, NULL, NULL,
				      trusted, err, errlen);
}

/* Load the project files; their allow rules stay inactive unless trusted. */
static int load_project(struct policy *p, const struct policy_layers *l,
			char **trusted, char *err, size_t errlen)
{
	char project[4096], local[4096];
	const char *paths[2] = { project, local };
	const enum policy_layer layers[2] = { POLICY_LAYER_PROJECT,
					      POLICY_LAYER_LOCAL };
	size_t first = p->count, i;
	int k, rc;

	int present[2];

	policy_project_paths(l->workspace, project, local);
	for (k = 0; k < 2; k++) {
		rc = regular_file(paths[k], true, err, errlen);
		if (rc < 0)
			return -1;
		present[k] = rc == 0;
	}
	if (policy_project_digest(l->workspace, p->project_digest, err,
				  errlen) < 0)
		return -1;
	for (k = 0; k < 2; k++) {
		if (present[k] && policy_load_file_layer(p, paths[k], layers[k],
							 NULL, NULL, NULL, err,
							 errlen) < 0)
			return -1;
	}

	/* The trust record is read only when it can decide the trust. */
	p->project_trusted = l->trust_project ||
			     path_listed(trusted, l->workspace);
	if (!p->project_trusted && p->project_digest[0] &&
	    policy_trust_recorded(l, p->project_digest, &p->project_trusted,
				  err, errlen) < 0)
		return -1;
	for (i = first; i < p->count && !p->project_trusted; i++) {
		if (p->rules[i].decision == POLICY_ALLOW) {
			p->rules[i].inactive = true;
			p->inactive_count++;
		}
	}
	return 0;
}

static int load_cli_rules(struct policy *p, const char *const *rules,
			  enum policy_decision d, const char *flag,
			  char *err, size_t errlen)
{
	struct policy_origin o = { flag, 0, 0, POLICY_LAYER_COMMAND_LINE };
	char rerr[1024];
	size_t i;

	for (i = 0; rules && rules[i]; i++) {
		if (policy_add_rule_at(p, d, rules[i], &o, rerr,
				       sizeof(rerr)) < 0) {
			snprintf(err, errlen, "%s %s: %s", flag, rules[i], rerr);
			return -1;
		}
	}
	return 0;
}

int policy_load_layers(struct policy *p, const struct policy_layers *l,
		       char *err, size_t errlen)
{
	const char *home = l->home ? l->home : getenv("HOME");
	char **trusted = NULL;
	size_t i;
	int ret = -1;

	if (home && home[0] != '/')
		home = NULL;
	if (policy_set_roots(p, l->workspace, home) < 0 ||
	    policy_protected_load(p, err, errlen) < 0 ||
	    load_preset(p, l->preset, err, errlen) < 0 ||
	    load_user(p, l, &trusted, err, errlen) < 0)
		goto out;
	if (l->workspace && load_project(p, l, trusted, err, errlen) < 0)
		goto out;
	for (i = 0; l->extra_files && l->extra_files[i]; i++) {
		if (policy_load_file_layer(p, l->extra_files[i],
					   POLICY_LAYER_EXTRA, NULL, NULL,
					   NULL, err, errlen) < 0)
			goto out;
	}
	if (load_cli_rules(p, l->allow, POLICY_ALLOW, "--allow", err,
			   errlen) < 0 ||
	    load_cli_rules(p, l->ask, POLICY_ASK, "--ask", err, errlen) < 0 ||
	    load_cli_rules(p, l->deny, POLICY_DENY, "--deny", err,
			   errlen) < 0)
		goto out;
	ret = 0;
out:
	policy_strv_free(trusted);
	return ret;
}
