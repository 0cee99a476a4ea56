/*
 * Policy files: a JSON object with optional "allow", "ask" and "deny"
 * arrays of rule strings, "examples" that the file's rules must decide as
 * stated, and in the user file "unprotect" and "trusted".
 *
 * Anything else is an error, not a warning: a misspelt key such as "deny "
 * or "denied" would otherwise drop rules without a sound and weaken the
 * policy. A file is added whole or not at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "internal.h"
#include "lib/error.h"

/* Longest JSON value quoted in an error message. */
#define VALUE_MAX 80

static const struct {
	const char *key;
	enum policy_decision decision;
} sections[] = {
	{ "allow", POLICY_ALLOW },
	{ "ask", POLICY_ASK },
	{ "deny", POLICY_DENY },
};

#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

/* Write item as compact JSON into buf (escaped, cut with "..." if long). */
static const char *json_text(const cJSON *item, char *buf, size_t size)
{
	char *printed = cJSON_PrintUnformatted(item);

	if (!printed) {
		snprintf(buf, size, "(a value)");
		return buf;
	}
	if (strlen(printed) > VALUE_MAX)
		snprintf(buf, size, "%.*s...", VALUE_MAX, printed);
	else
		snprintf(buf, size, "%s", printed);
	cJSON_free(printed);
	return buf;
}

/* The key as a JSON string, so that control characters stay escaped. */
static const char *key_text(const char *key, char *buf, size_t size)
{
	cJSON *s = cJSON_CreateString(key);

	json_text(s, buf, size);
	cJSON_Delete(s);
	return buf;
}

static int read_all(int fd, const char *path, char **out, size_t *outlen,
		    char *err, size_t errlen)
{
	size_t cap = POLICY_FILE_MAX + 1, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		return error_set(err, errlen, "%s: out of memory", path);
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set(err, errlen, "%s: read failed: %s", path,
			     strerror(errno));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > POLICY_FILE_MAX) {
		free(buf);
		return error_set(err, errlen,
			    "%s: file is larger than the maximum of %d bytes for a policy file",
			    path, POLICY_FILE_MAX);
	}
	*out = buf;
	*outlen = len;
	return 0;
}

static int read_file(const char *path, char **buf, size_t *len,
		     char *err, size_t errlen)
{
	struct stat st;
	int fd, ret;

	/* O_NONBLOCK so that a FIFO in place of the file cannot hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return error_set(err, errlen, "%s: cannot open policy file: %s",
			    path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(err, errlen, "%s: not a regular file", path);
	}
	if (st.st_size > POLICY_FILE_MAX) {
		close(fd);
		return error_set(err, errlen,
			    "%s: file is %lld bytes, more than the maximum of %d for a policy file",
			    path, (long long)st.st_size, POLICY_FILE_MAX);
	}
	ret = read_all(fd, path, buf, len, err, errlen);
	close(fd);
	return ret;
}

/*
 * cJSON keeps strings NUL-terminated, so a NUL byte or a \u0000 escape
 * would silently cut a rule short ("Read(a)\u0000junk" reads as "Read(a)").
 */
static int check_nul(const char *path, const char *buf, size_t len,
		     char *err, size_t errlen)
{
	int line, col;
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\0' ||
		    (buf[i] == '\\' && i + 5 < len &&
		     strncmp(buf + i + 1, "u0000", 5) == 0)) {
			error_position(buf, i, &line, &col);
			return error_set(err, errlen,
				    "%s:%d:%d: NUL character in the file: remove it",
				    path, line, col);
		}
		if (buf[i] == '\\')
			i++;	/* skip the escaped character, e.g. "\\" */
	}
	return 0;
}

static cJSON *parse_json(const char *path, char *buf, size_t len,
			 char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root;
	int line, col;

	buf[len] = '\0';
	/* buf has room for the NUL, and the NUL makes cJSON reject trailing text. */
	root = cJSON_ParseWithLengthOpts(buf, len + 1, &end, true);
	if (!root) {
		error_position(buf, end && end >= buf ? (size_t)(end - buf) : 0,
			    &line, &col);
		error_set(err, errlen, "%s:%d:%d: invalid JSON: fix the syntax there",
		     path, line, col);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		error_set(err, errlen,
		     "%s: expected a JSON object with \"allow\", \"ask\" or \"deny\" arrays",
		     path);
		return NULL;
	}
	return root;
}

/* One file being loaded. */
struct loader {
	struct policy *p;
	struct policy own;	/* this file's rules, for its examples */
	const char *path;
	enum policy_layer layer;
	struct policy_json_pos *pos;
	policy_diag_fn diag;
	void *ctx;
	char ***trusted;
	int errors;
	char *err;
	size_t errlen;
};

/*
 * Report a problem at item (its key when key is set) as FILE:LINE:COLUMN:
 * message. The first one goes to err; every one goes to diag.
 */
static void report(struct loader *L, const cJSON *item, bool key,
		   const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	int line = 0, col = 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (item)
		policy_json_pos_get(L->pos, item, key, &line, &col);
	if (L->errors == 0) {
		if (line > 0)
			snprintf(L->err, L->errlen, "%s:%d:%d: %s", L->path,
				 line, col, msg);
		else
			snprintf(L->err, L->errlen, "%s: %s", L->path, msg);
	}
	if (L->diag)
		L->diag(L->ctx, L->path, line, col, msg);
	L->errors++;
}

static const char known_keys[] =
	"\"allow\", \"ask\", \"deny\", \"examples\", and in the user file \"unprotect\" and \"trusted\"";

static bool find_section(const char *key, enum policy_decision *decision)
{
	size_t i;

	for (i = 0; i < NSECTIONS; i++) {
		if (strcmp(key, sections[i].key) == 0) {
			*decision = sections[i].decision;
			return true;
		}
	}
	return false;
}

/* Check that member is an array of strings; report each bad element. */
static bool check_string_array(struct loader *L, const cJSON *member,
			       const char *what)
{
	char v[VALUE_MAX + 8];
	const cJSON *item;
	bool ok = true;
	int index = 0;

	if (!cJSON_IsArray(member)) {
		report(L, member, false, "\"%s\" must be an array of %ss, not %s",
		       member->string, what, json_text(member, v, sizeof(v)));
		return false;
	}
	cJSON_ArrayForEach(item, member) {
		if (!cJSON_IsString(item)) {
			report(L, item, false,
			       "\"%s\"[%d] must be a %s such as \"Read(src/**)\", not %s",
			       member->string, index, what,
			       json_text(item, v, sizeof(v)));
			ok = false;
		}
		index++;
	}
	return ok;
}

static void load_section(struct loader *L, const cJSON *member,
			 enum policy_decision decision)
{
	struct policy_origin o = { L->path, 0, 0, L->layer };
	char rerr[1024];
	const cJSON *item;
	int index = 0;

	if (!check_string_array(L, member, "rule string"))
		return;
	cJSON_ArrayForEach(item, member) {
		policy_json_pos_get(L->pos, item, false, &o.line, &o.column);
		if (policy_add_rule_at(&L->own, decision, item->valuestring,
				       &o, rerr, sizeof(rerr)) < 0)
			report(L, item, false, "\"%s\"[%d]: %s",
			       member->string, index, rerr);
		index++;
	}
}

static bool is_protected_entry(const char *entry)
{
	size_t i;

	for (i = 0; policy_protected_list[i]; i++) {
		if (strcmp(entry, policy_protected_list[i]) == 0)
			return true;
	}
	return false;
}

void policy_strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/*
 * "unprotect": entries of the built-in protected list that the user wants
 * readable and writable. A project must never be able to do this, so only
 * the user layer accepts the key.
 */
static void load_unprotect(struct loader *L, const cJSON *member)
{
	struct policy *p = L->p;
	const cJSON *item;
	size_t i;
	bool dup;

	if (L->layer != POLICY_LAYER_USER) {
		report(L, member, true,
		       "\"unprotect\" is accepted only in the user file ($XDG_CONFIG_HOME/coworker/policy.json), so that no project can lift the protection of secrets; remove it");
		return;
	}
	if (!check_string_array(L, member, "protected-list entry"))
		return;
	cJSON_ArrayForEach(item, member) {
		if (!is_protected_entry(item->valuestring)) {
			report(L, item, false,
			       "\"%s\" is not on the built-in protected list; run 'coworker policy show' to list its entries and copy one exactly",
			       item->valuestring);
			continue;
		}
		dup = false;
		for (i = 0; i < p->nunprotected; i++)
			dup = dup || strcmp(p->unprotected[i],
					    item->valuestring) == 0;
		if (!dup && policy_strv_push(&p->unprotected, &p->nunprotected,
				      item->valuestring) < 0)
			report(L, item, false, "out of memory");
	}
}

/* "trusted": absolute workspace paths whose project layers are trusted. */
static void load_trusted(struct loader *L, const cJSON *member)
{
	const cJSON *item;
	size_t n = 0;

	if (L->layer != POLICY_LAYER_USER) {
		report(L, member, true,
		       "\"trusted\" is accepted only in the user file, because a project cannot trust itself; remove it");
		return;
	}
	if (!check_string_array(L, member, "absolute directory path"))
		return;
	cJSON_ArrayForEach(item, member) {
		if (item->valuestring[0] != '/') {
			report(L, item, false,
			       "trusted path \"%s\" is not absolute; write the full path of the workspace, e.g. /home/me/src/project",
			       item->valuestring);
			continue;
		}
		if (!L->trusted)
			continue;
		while (*L->trusted && (*L->trusted)[n])
			n++;
		if (policy_strv_push(L->trusted, &n, item->valuestring) < 0)
			report(L, item, false, "out of memory");
	}
}

/*
 * Check the file's examples against the file's own rules (and the
 * protected list), so that a policy documents and tests itself whatever
 * other layers it is later combined with.
 */
static void check_examples(struct loader *L, const cJSON *examples)
{
	char v[VALUE_MAX + 8], rerr[1024], sentence[1024];
	struct policy_verdict verdict;
	enum policy_decision want;
	const cJSON *member, *item;

	if (!cJSON_IsObject(examples)) {
		report(L, examples, false,
		       "\"examples\" must be an object with \"allow\", \"ask\" and \"deny\" arrays of requests such as \"Exec(git status)\", not %s",
		       json_text(examples, v, sizeof(v)));
		return;
	}
	cJSON_ArrayForEach(member, examples) {
		if (!find_section(member->string, &want)) {
			report(L, member, true,
			       "unknown key %s in \"examples\": the only keys are \"allow\", \"ask\" and \"deny\"",
			       key_text(member->string, v, sizeof(v)));
			continue;
		}
		if (!check_string_array(L, member, "request"))
			continue;
		cJSON_ArrayForEach(item, member) {
			if (policy_decide_request(&L->own, item->valuestring,
						  &verdict, rerr,
						  sizeof(rerr)) < 0) {
				report(L, item, false, "example: %s", rerr);
				continue;
			}
			if (verdict.decision == want)
				continue;
			report(L, item, false,
			       "example \"%s\" expects %s but gets %s: %s",
			       item->valuestring, policy_decision_name(want),
			       policy_decision_name(verdict.decision),
			       policy_verdict_sentence(&verdict, sentence,
						       sizeof(sentence)));
		}
	}
}

/* Dispatch one top-level member. Returns the examples member, if this is it. */
static const cJSON *load_member(struct loader *L, const cJSON *member,
				bool seen[5])
{
	static const char *const keys[] = { "allow", "ask", "deny",
					    "unprotect", "trusted" };
	char k[VALUE_MAX * 6 + 8];
	enum policy_decision decision;
	size_t i;

	if (strcmp(member->string, "examples") == 0)
		return member;
	for (i = 0; i < 5; i++) {
		if (strcmp(member->string, keys[i]) != 0)
			continue;
		if (seen[i]) {
			report(L, member, true,
			       "key \"%s\" appears twice: merge the two arrays",
			       keys[i]);
			return NULL;
		}
		seen[i] = true;
	}
	if (find_section(member->string, &decision))
		load_section(L, member, decision);
	else if (strcmp(member->string, "unprotect") == 0)
		load_unprotect(L, member);
	else if (strcmp(member->string, "trusted") == 0)
		load_trusted(L, member);
	else
		report(L, member, true, "unknown key %s: the only keys are %s",
		       key_text(member->string, k, sizeof(k)), known_keys);
	return NULL;
}

/* Borrow p's protected list and roots for the file's own policy. */
static void own_borrow(struct loader *L)
{
	policy_init(&L->own);
	L->own.protected_rules = L->p->protected_rules;
	L->own.nprotected = L->p->nprotected;
	L->own.workspace = L->p->workspace;
	L->own.home = L->p->home;
}

static void own_release(struct loader *L)
{
	L->own.protected_rules = NULL;
	L->own.nprotected = 0;
	L->own.workspace = NULL;
	L->own.home = NULL;
	policy_free(&L->own);
}

/* Move the file's rules into p; the file is added whole or not at all. */
static int own_commit(struct loader *L)
{
	size_t before = L->p->count, i;

	for (i = 0; i < L->own.count; i++) {
		if (policy_rule_append(L->p, &L->own.rules[i]) < 0) {
			/* The rules already moved belong to p now. */
			policy_truncate(L->p, before);
			while (i < L->own.count)
				policy_rule_free(&L->own.rules[i++]);
			L->own.count = 0;
			return -1;
		}
	}
	L->own.count = 0;
	return 0;
}

static void load_root(struct loader *L, const cJSON *root)
{
	bool seen[5] = { false };
	const cJSON *member, *examples = NULL, *ex;
	size_t unprotected_before = L->p->nunprotected;
	char err[1024];

	cJSON_ArrayForEach(member, root) {
		ex = load_member(L, member, seen);
		if (ex && examples)
			report(L, ex, true,
			       "key \"examples\" appears twice: merge the two objects");
		else if (ex)
			examples = ex;
	}
	if (L->p->nunprotected != unprotected_before && L->p->nprotected > 0 &&
	    policy_protected_load(L->p, err, sizeof(err)) < 0)
		report(L, NULL, false, "%s", err);
	L->own.protected_rules = L->p->protected_rules;
	L->own.nprotected = L->p->nprotected;
	if (examples && L->errors == 0)
		check_examples(L, examples);
}

int policy_load_buffer_layer(struct policy *p, const char *name, char *buf,
			     size_t len, enum policy_layer layer,
			     policy_diag_fn diag, void *ctx, char ***trusted,
			     char *err, size_t errlen)
{
	struct loader L = { .p = p, .path = name, .layer = layer,
			    .diag = diag, .ctx = ctx, .trusted = trusted,
			    .err = err, .errlen = errlen };
	cJSON *root = NULL;
	int ret = -1;

	if (check_nul(name, buf, len, err, errlen) < 0 ||
	    !(root = parse_json(name, buf, len, err, errlen))) {
		if (diag)
			diag(ctx, NULL, 0, 0, err);
		goto out;
	}
	L.pos = policy_json_pos_build(buf, len, root);
	if (!L.pos) {
		error_set(err, errlen, "%s: out of memory", name);
		goto out;
	}
	own_borrow(&L);
	load_root(&L, root);
	if (L.errors == 0 && own_commit(&L) < 0)
		report(&L, NULL, false, "out of memory");
	own_release(&L);
	ret = L.errors ? -1 : 0;
out:
	policy_json_pos_free(L.pos);
	cJSON_Delete(root);
	return ret;
}

int policy_load_file_layer(struct policy *p, const char *path,
			   enum policy_layer layer, policy_diag_fn diag,
			   void *ctx, char ***trusted, char *err,
			   size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (read_file(path, &buf, &len, err, errlen) < 0) {
		if (diag)
			diag(ctx, NULL, 0, 0, err);
		return -1;
	}
	ret = policy_load_buffer_layer(p, path, buf, len, layer, diag, ctx,
				       trusted, err, errlen);
	free(buf);
	return ret;
}

int policy_load_file(struct policy *p, const char *path,
		     char *err, size_t errlen)
{
	return policy_load_file_layer(p, path, POLICY_LAYER_EXTRA, NULL, NULL,
				      NULL, err, errlen);
}
