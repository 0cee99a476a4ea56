/*
 * Skill discovery: the roots, reading each folder's SKILL.md beneath its
 * root, overriding by name, lookup and the system-prompt section.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "skills.h"
#include "skills_internal.h"

#ifndef COWORKER_SKILLS_DIR
#define COWORKER_SKILLS_DIR "/usr/local/share/coworker/skills"
#endif

/* Maximum entries read from one root; the rest are skipped with a warning. */
#define SKILLS_ROOT_ENTRIES_MAX 4096

struct root_scan {
	struct skill_set *set;
	const char *root;
	const char *source;
	bool project;
	bool check;		/* report folders without SKILL.md */
	skills_warn_fn warn;
	void *ctx;
};

static void warnf(const struct root_scan *rs, enum skills_severity sev,
		  const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!rs->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rs->warn(rs->ctx, sev, msg);
}

void skills_warn_file(void *ctx, enum skills_severity severity,
		      const char *message)
{
	if (severity == SKILLS_WARNING)
		fprintf(ctx ? (FILE *)ctx : stderr, "coworker: warning: %s\n",
			message);
}

void skills_init(struct skill_set *set)
{
	memset(set, 0, sizeof(*set));
}

void skills_free(struct skill_set *set)
{
	size_t i;

	for (i = 0; i < set->count; i++)
		skill_clear(&set->skills[i]);
	free(set->skills);
	memset(set, 0, sizeof(*set));
}

const struct skill *skills_find(const struct skill_set *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->count; i++)
		if (strcmp(set->skills[i].name, name) == 0)
			return &set->skills[i];
	return NULL;
}

/* Add sk to the set, replacing a skill of the same name. */
static int set_put(const struct root_scan *rs, struct skill *sk)
{
	struct skill_set *set = rs->set;
	struct skill *old = (struct skill *)skills_find(set, sk->name);
	struct skill *grown;
	size_t cap;

	if (old) {
		sk->overridden_source = old->source;
		skill_clear(old);
		*old = *sk;
		return 0;
	}
	if (set->count == SKILLS_MAX) {
		warnf(rs, SKILLS_WARNING, "%s: more than %d skills; skipping "
		      "this one", sk->path, SKILLS_MAX);
		return -1;
	}
	if (set->count == set->cap) {
		cap = set->cap ? set->cap * 2 : 16;
		grown = realloc(set->skills, cap * sizeof(*grown));
		if (!grown)
			return -1;
		set->skills = grown;
		set->cap = cap;
	}
	set->skills[set->count++] = *sk;
	return 0;
}

static int fill_paths(struct skill *sk, const char *root, const char *folder)
{
	size_t n = strlen(root) + strlen(folder) + sizeof("/SKILL.md") + 1;

	sk->root = strdup(root);
	sk->dir = malloc(n);
	sk->path = malloc(n);
	if (!sk->root || !sk->dir || !sk->path)
		return -1;
	snprintf(sk->dir, n, "%s/%s", root, folder);
	snprintf(sk->path, n, "%s/%s/SKILL.md", root, folder);
	return 0;
}

/*
 * Read ROOT/FOLDER/SKILL.md beneath ROOT. Returns 1 when the skill was
 * added, 0 when the folder contains no SKILL.md, -1 when it was skipped.
 */
static int load_one(const struct root_scan *rs, int rootfd, const char *folder)
{
	char rel[PATH_MAX], display[PATH_MAX + 16], err[1024];
	struct skill sk;
	size_t len;
	char *buf;

	snprintf(rel, sizeof(rel), "%s/SKILL.md", folder);
	snprintf(display, sizeof(display), "%s/%s", rs->root, rel);
	if (skills_read_beneath(rootfd, rel, display, SKILLS_MD_MAX, &buf,
				&len, err, sizeof(err)) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			if (rs->check)
				warnf(rs, SKILLS_NOTE, "%s/%s: no SKILL.md, so "
				      "this folder is no skill", rs->root,
				      folder);
			return 0;
		}
		warnf(rs, SKILLS_WARNING, "%s:1: %s; skipping this skill",
		      display, err + strlen(display) + 2);
		return -1;
	}
	if (skill_parse(buf, len, display, folder, &sk, rs->warn,
			rs->ctx) < 0) {
		free(buf);
		return -1;
	}
	free(buf);
	if (fill_paths(&sk, rs->root, folder) < 0) {
		warnf(rs, SKILLS_WARNING, "%s: out of memory", display);
		skill_clear(&sk);
		return -1;
	}
	sk.source = rs->source;
	sk.project = rs->project;
	if (set_put(rs, &sk) < 0) {
		skill_clear(&sk);
		return -1;
	}
	return 1;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folder names in rootfd, sorted so every run reads them in order. */
static char **list_folders(const struct root_scan *rs, int rootfd,
			   size_t *count)
{
	struct dirent *e;
	char **names = NULL, **grown;
	int fd;
	DIR *d;

	*count = 0;
	fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		warnf(rs, SKILLS_WARNING, "%s: cannot list the folder: %s",
		      rs->root, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (*count == SKILLS_ROOT_ENTRIES_MAX) {
			warnf(rs, SKILLS_WARNING, "%s: more than %d entries; "
			      "reading only the first", rs->root,
			      SKILLS_ROOT_ENTRIES_MAX);
			break;
		}
		grown = realloc(names, (*count + 1) * sizeof(*names));
		if (!grown)
			break;
		names = grown;
		names[*count] = strdup(e->d_name);
		if (!names[*count])
			break;
		(*count)++;
	}
	closedir(d);
	if (names)
		qsort(names, *count, sizeof(*names), compare_names);
	return names;
}

/* Returns the number of skipped skills, or -1 if the root is unreadable. */
static int scan_root(const struct root_scan *rs)
{
	size_t count, i;
	char **names;
	int rootfd, bad = 0;

	/* The root itself may be a symbolic link (a dotfiles checkout). */
	rootfd = open(rs->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		if (errno == ENOENT && !rs->check)
			return 0;
		warnf(rs, SKILLS_WARNING, "%s: cannot open the skills folder: "
		      "%s", rs->root, strerror(errno));
		return -1;
	}
	names = list_folders(rs, rootfd, &count);
	for (i = 0; i < count; i++) {
		if (load_one(rs, rootfd, names[i]) < 0)
			bad++;
		free(names[i]);
	}
	free(names);
	close(rootfd);
	return bad;
}

static int compare_skills(const void *a, const void *b)
{
	return strcmp(((const struct skill *)a)->name,
		      ((const struct skill *)b)->name);
}

size_t skills_discover(struct skill_set *set, const struct skills_roots *roots,
		       skills_warn_fn warn, void *ctx)
{
	const struct {
		const char *path;
		const char *source;
		bool project;
	} order[] = {
		{ roots->shipped, "shipped", false },
		{ roots->user, "user", false },
		{ roots->project, "project", true },
		{ roots->claude, "claude", true },
	};
	struct root_scan rs = { .set = set, .warn = warn, .ctx = ctx };
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!order[i].path[0])
			continue;
		if (order[i].project && !roots->trust_project) {
			if (stat(order[i].path, &st) == 0)
				set->untrusted_skipped++;
			continue;
		}
		rs.root = order[i].path;
		rs.source = order[i].source;
		rs.project = order[i].project;
		scan_root(&rs);
	}
	if (set->count)
		qsort(set->skills, set->count, sizeof(*set->skills),
		      compare_skills);
	return set->count;
}

int skills_check_dir(const char *dir, struct skill_set *set,
		     skills_warn_fn warn, void *ctx)
{
	struct root_scan rs = { .set = set, .source = "check", .check = true,
				.warn = warn, .ctx = ctx };
	char *real, *copy_dir = NULL, *copy_base = NULL;
	char probe[PATH_MAX];
	int rootfd, rc;

	snprintf(probe, sizeof(probe), "%s/SKILL.md", dir);
	if (access(probe, F_OK) != 0) {
		rs.root = dir;
		rc = scan_root(&rs);
		goto out;
	}

	/* dir is one skill: check it as a folder of its parent. */
	real = realpath(dir, NULL);
	copy_dir = real ? strdup(real) : NULL;
	copy_base = real ? strdup(real) : NULL;
	free(real);
	if (!copy_dir || !copy_base) {
		warnf(&rs, SKILLS_WARNING, "%s: %s", dir, strerror(errno));
		rc = -1;
		goto out;
	}
	rs.root = dirname(copy_dir);
	rootfd = open(rs.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		warnf(&rs, SKILLS_WARNING, "%s: %s", rs.root, strerror(errno));
		rc = -1;
		goto out;
	}
	rc = load_one(&rs, rootfd, basename(copy_base)) < 0 ? 1 : 0;
	close(rootfd);
out:
	free(copy_dir);
	free(copy_base);
	if (set->count)
		qsort(set->skills, set->count, sizeof(*set->skills),
		      compare_skills);
	return rc;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void skills_shipped_dir(char *out, size_t outlen)
{
	char exe[PATH_MAX], probe[PATH_MAX + 64];

	snprintf(out, outlen, "%s", COWORKER_SKILLS_DIR);
	if (program_dir(exe, sizeof(exe)) < 0)
		return;

	snprintf(probe, sizeof(probe), "%s/../share/coworker/skills", exe);
	if (is_dir(probe)) {
		snprintf(out, outlen, "%s", probe);
		return;
	}
	/* coworker-supervisor runs from PREFIX/libexec/coworker. */
	snprintf(probe, sizeof(probe), "%s/../../share/coworker/skills", exe);
	if (is_dir(probe)) {
		snprintf(out, outlen, "%s", probe);
		return;
	}
	/* Run from build/ (or build-asan/) inside the source tree. */
	snprintf(probe, sizeof(probe), "%s/../supervisor/skills.h", exe);
	if (access(probe, F_OK) == 0) {
		snprintf(probe, sizeof(probe), "%s/../skills", exe);
		if (is_dir(probe))
			snprintf(out, outlen, "%s", probe);
	}
}

void skills_roots_default(struct skills_roots *roots, const char *workspace)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	char *ws;

	memset(roots, 0, sizeof(*roots));
	skills_shipped_dir(roots->shipped, sizeof(roots->shipped));
	/* The XDG spec says a relative XDG_CONFIG_HOME is to be ignored. */
	if (xdg && xdg[0] == '/')
		snprintf(roots->user, sizeof(roots->user),
			 "%s/coworker/skills", xdg);
	else if (home && home[0] == '/')
		snprintf(roots->user, sizeof(roots->user),
			 "%s/.config/coworker/skills", home);
	if (!workspace)
		return;
	ws = realpath(workspace, NULL);
	snprintf(roots->project, sizeof(roots->project), "%s/.coworker/skills",
		 ws ? ws : workspace);
	snprintf(roots->claude, sizeof(roots->claude), "%s/.claude/skills",
		 ws ? ws : workspace);
	free(ws);
}

struct text {
	char *s;
	size_t len;
	size_t cap;
	bool failed;
};

/* Append s; with flat, line breaks and other control characters become
 * spaces, so one description stays on one line of the prompt. */
static void text_add(struct text *t, const char *s, bool flat)
{
	size_t n = strlen(s), i;
	char *grown;

	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		t->cap = (t->len + n + 1) * 2;
		grown = realloc(t->s, t->cap);
		if (!grown) {
			t->failed = true;
			return;
		}
		t->s = grown;
	}
	for (i = 0; i < n; i++)
		t->s[t->len++] = flat && ((unsigned char)s[i] < 0x20 ||
					  s[i] == 0x7f) ? ' ' : s[i];
	t->s[t->len] = '\0';
}

int skills_prompt_section(const struct skill_set *set, char **out)
{
	struct text t = { 0 };
	size_t i;

	text_add(&t, "", false);
	if (set->count)
		text_add(&t, "# Skills\n\n"
			 "Skills are instructions for particular kinds of "
			 "tasks. When a task matches a skill's description, "
			 "call load_skill with the skill's name before you "
			 "start, and follow what it says. When the "
			 "instructions refer to another file of the skill, "
			 "call load_skill with the name and that file's "
			 "path.\n\nAvailable skills:\n", false);
	for (i = 0; i < set->count; i++) {
		text_add(&t, "- ", false);
		text_add(&t, set->skills[i].name, true);
		text_add(&t, ": ", false);
		text_add(&t, set->skills[i].description, true);
		text_add(&t, "\n", false);
	}
	if (t.failed) {
		free(t.s);
		*out = NULL;
		return -1;
	}
	*out = t.s;
	return 0;
}
