/*
 * Validation of a SKILL.md's front matter into a struct skill. Pure: it
 * works on a buffer (the fuzz target links it with skills_yaml.c alone).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skills.h"
#include "skills_yaml.h"

/* Keys of the Agent Skills format this loader reads. */
static const char *const known_keys[] = {
	"name", "description", "license", "compatibility", "metadata",
	"allowed-tools", NULL,
};

static void report(skills_warn_fn warn, void *ctx, enum skills_severity sev,
		   const char *path, unsigned line, const char *fmt, ...)
{
	char msg[768], full[1024];
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s:%u: %s", path, line, msg);
	warn(ctx, sev, full);
}

/* Unicode characters in valid UTF-8 text. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static bool name_is_valid(const char *name, const char **why)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > SKILLS_NAME_MAX) {
		*why = "it must be 1 to 64 characters long";
		return false;
	}
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '-')) {
			*why = "use only lowercase letters a-z, digits and "
			       "hyphens";
			return false;
		}
	if (name[0] == '-' || name[n - 1] == '-' || strstr(name, "--")) {
		*why = "it must not start or end with a hyphen or contain "
		       "\"--\"";
		return false;
	}
	return true;
}

static int dup_into(char **dst, const char *src)
{
	*dst = strdup(src);
	return *dst ? 0 : -1;
}

static int add_tool(struct skill *sk, const char *s, size_t n)
{
	char **grown;

	if (n == 0)
		return 0;
	grown = realloc(sk->allowed_tools,
			(sk->nallowed + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	sk->allowed_tools = grown;
	grown[sk->nallowed] = strndup(s, n);
	if (!grown[sk->nallowed])
		return -1;
	sk->nallowed++;
	return 0;
}

/*
 * Split "Read Grep" or "Bash(git diff:*), Bash(curl:*)" at spaces and
 * commas outside parentheses, so a rule's own spaces stay in it.
 */
static int split_tools(struct skill *sk, const char *s)
{
	size_t start = 0, i;
	int depth = 0;

	for (i = 0;; i++) {
		if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && depth > 0)
			depth--;
		if (s[i] == '\0' || (depth == 0 && (s[i] == ' ' ||
			s[i] == ',' || s[i] == '\t' || s[i] == '\n'))) {
			if (add_tool(sk, s + start, i - start) < 0)
				return -1;
			start = i + 1;
		}
		if (s[i] == '\0')
			return 0;
	}
}

static int read_allowed_tools(struct skill *sk, const struct fm_node *v,
			      const char *path, skills_warn_fn warn, void *ctx)
{
	size_t i;

	sk->has_allowed_tools = true;
	if (v->kind == FM_NULL)
		return 0;
	if (v->kind == FM_SCALAR)
		return split_tools(sk, v->text);
	if (v->kind == FM_SEQ) {
		for (i = 0; i < v->count; i++) {
			if (v->items[i].kind != FM_SCALAR) {
				report(warn, ctx, SKILLS_WARNING, path,
				       v->items[i].line, "invalid allowed-tools: "
				       "each list item must be a tool name or "
				       "rule; skipping this skill");
				return -2;
			}
			if (add_tool(sk, v->items[i].text,
				     strlen(v->items[i].text)) < 0)
				return -1;
		}
		return 0;
	}
	/* Ignoring it would give the skill more than its author meant. */
	report(warn, ctx, SKILLS_WARNING, path, v->line, "invalid "
	       "allowed-tools: expected a list or a space- or comma-separated "
	       "string; skipping this skill");
	return -2;
}

static int read_metadata(struct skill *sk, const struct fm_node *v,
			 const char *path, skills_warn_fn warn, void *ctx)
{
	size_t i;

	if (v->kind == FM_NULL)
		return 0;
	if (v->kind != FM_MAP) {
		report(warn, ctx, SKILLS_NOTE, path, v->line, "metadata is "
		       "not a mapping of keys to values; ignoring it");
		return 0;
	}
	sk->metadata_keys = calloc(v->count, sizeof(char *));
	sk->metadata_values = calloc(v->count, sizeof(char *));
	if (v->count && (!sk->metadata_keys || !sk->metadata_values))
		return -1;
	for (i = 0; i < v->count; i++) {
		if (v->items[i].kind != FM_SCALAR) {
			report(warn, ctx, SKILLS_NOTE, path, v->items[i].line,
			       "metadata value of \"%s\" is not a string; "
			       "ignoring it", v->keys[i]);
			continue;
		}
		if (dup_into(&sk->metadata_keys[sk->nmetadata], v->keys[i]) ||
		    dup_into(&sk->metadata_values[sk->nmetadata],
			     v->items[i].text)) {
			sk->nmetadata++;
			return -1;
		}
		sk->nmetadata++;
	}
	return 0;
}

/* A required or optional string field; -2 after reporting a problem. */
static int read_string(char **dst, const struct fm_node *root,
		       const char *key, const char *path, unsigned key_line,
		       skills_warn_fn warn, void *ctx)
{
	const struct fm_node *v = fm_map_get(root, key);

	if (!v || v->kind == FM_NULL)
		return 0;
	if (v->kind != FM_SCALAR) {
		report(warn, ctx, SKILLS_WARNING, path, v->line ? v->line :
		       key_line, "invalid %s: expected a string, found a %s; "
		       "skipping this skill", key,
		       v->kind == FM_SEQ ? "list" : "mapping");
		return -2;
	}
	return dup_into(dst, v->text);
}

static int check_name(const struct skill *sk, const struct fm_node *root,
		      const char *path, const char *folder,
		      skills_warn_fn warn, void *ctx)
{
	const struct fm_node *v = fm_map_get(root, "name");
	const char *why;

	if (!sk->name) {
		report(warn, ctx, SKILLS_WARNING, path, v ? v->line : 1,
		       "missing name: add \"name: %s\" to the front matter; "
		       "skipping this skill", folder);
		return -2;
	}
	if (!name_is_valid(sk->name, &why)) {
		report(warn, ctx, SKILLS_WARNING, path, v->line, "invalid "
		       "name \"%.80s\": %s; skipping this skill", sk->name,
		       why);
		return -2;
	}
	if (folder && strcmp(sk->name, folder) != 0) {
		report(warn, ctx, SKILLS_WARNING, path, v->line, "name \"%s\" "
		       "does not match its folder \"%s\"; rename one of them; "
		       "skipping this skill", sk->name, folder);
		return -2;
	}
	return 0;
}

static int check_lengths(const struct skill *sk, const struct fm_node *root,
			 const char *path, skills_warn_fn warn, void *ctx)
{
	const struct fm_node *v = fm_map_get(root, "description");
	size_t n;

	if (!sk->description || !*sk->description) {
		report(warn, ctx, SKILLS_WARNING, path, v ? v->line : 1,
		       "missing description: say what the skill does and "
		       "when to use it; skipping this skill");
		return -2;
	}
	n = utf8_chars(sk->description);
	if (n > SKILLS_DESCRIPTION_MAX) {
		report(warn, ctx, SKILLS_WARNING, path, v->line, "description "
		       "is %zu characters long, more than %d; shorten it and "
		       "move details into the body; skipping this skill", n,
		       SKILLS_DESCRIPTION_MAX);
		return -2;
	}
	v = fm_map_get(root, "compatibility");
	if (sk->compatibility &&
	    (n = utf8_chars(sk->compatibility)) > SKILLS_COMPATIBILITY_MAX) {
		report(warn, ctx, SKILLS_WARNING, path, v->line,
		       "compatibility is %zu characters long, more than %d; "
		       "shorten it; skipping this skill", n,
		       SKILLS_COMPATIBILITY_MAX);
		return -2;
	}
	return 0;
}

static bool is_known_key(const char *key)
{
	size_t i;

	for (i = 0; known_keys[i]; i++)
		if (strcmp(known_keys[i], key) == 0)
			return true;
	return false;
}

static void note_unknown_keys(const struct fm_node *root, const char *path,
			      skills_warn_fn warn, void *ctx)
{
	size_t i;

	for (i = 0; i < root->count; i++)
		if (!is_known_key(root->keys[i]))
			report(warn, ctx, SKILLS_NOTE, path, root->items[i].line,
			       "key \"%.64s\" is not part of the Agent Skills "
			       "format; ignoring it", root->keys[i]);
}

/* Fill sk from the parsed front matter; -1 out of memory, -2 invalid. */
static int skill_from_frontmatter(struct skill *sk, const struct frontmatter *fm,
				  const char *path, const char *folder,
				  skills_warn_fn warn, void *ctx)
{
	const struct fm_node *root = &fm->root, *v;
	int rc;

	if ((rc = read_string(&sk->name, root, "name", path, 1, warn, ctx)) ||
	    (rc = read_string(&sk->description, root, "description", path, 1,
			      warn, ctx)) ||
	    (rc = read_string(&sk->license, root, "license", path, 1, warn,
			      ctx)) ||
	    (rc = read_string(&sk->compatibility, root, "compatibility", path,
			      1, warn, ctx)))
		return rc;
	if ((rc = check_name(sk, root, path, folder, warn, ctx)) ||
	    (rc = check_lengths(sk, root, path, warn, ctx)))
		return rc;
	v = fm_map_get(root, "allowed-tools");
	if (v && (rc = read_allowed_tools(sk, v, path, warn, ctx)))
		return rc;
	v = fm_map_get(root, "metadata");
	if (v && (rc = read_metadata(sk, v, path, warn, ctx)))
		return rc;
	note_unknown_keys(root, path, warn, ctx);
	sk->body_offset = fm->body_offset;
	sk->body_line = fm->body_line;
	return 0;
}

int skill_parse(const char *buf, size_t len, const char *path,
		const char *folder, struct skill *sk,
		skills_warn_fn warn, void *ctx)
{
	struct frontmatter fm;
	char err[1024];
	int rc;

	memset(sk, 0, sizeof(*sk));
	if (len > SKILLS_MD_MAX) {
		report(warn, ctx, SKILLS_WARNING, path, 1, "the file is larger "
		       "than %d bytes; skipping this skill", SKILLS_MD_MAX);
		return -1;
	}
	if (frontmatter_parse(buf, len, path, &fm, err, sizeof(err)) < 0) {
		if (warn) {
			snprintf(err + strlen(err), sizeof(err) - strlen(err),
				 "; skipping this skill");
			warn(ctx, SKILLS_WARNING, err);
		}
		return -1;
	}
	rc = skill_from_frontmatter(sk, &fm, path, folder, warn, ctx);
	frontmatter_free(&fm);
	if (rc == -1)
		report(warn, ctx, SKILLS_WARNING, path, 1, "out of memory; "
		       "skipping this skill");
	if (rc < 0) {
		skill_clear(sk);
		return -1;
	}
	return 0;
}

void skill_clear(struct skill *sk)
{
	size_t i;

	for (i = 0; i < sk->nallowed; i++)
		free(sk->allowed_tools[i]);
	for (i = 0; i < sk->nmetadata; i++) {
		free(sk->metadata_keys[i]);
		free(sk->metadata_values[i]);
	}
	free(sk->allowed_tools);
	free(sk->metadata_keys);
	free(sk->metadata_values);
	free(sk->name);
	free(sk->description);
	free(sk->license);
	free(sk->compatibility);
	free(sk->root);
	free(sk->dir);
	free(sk->path);
	memset(sk, 0, sizeof(*sk));
}
