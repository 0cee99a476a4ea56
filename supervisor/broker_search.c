/*
 * The walk behind the glob and grep tools. See broker_search.h for what it
 * promises; the bounds are the SEARCH_* limits there.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker_internal.h"
#include "broker_search.h"
#include "policy/policy.h"

/* Output bytes kept free for the trailing notes while results are added. */
#define NOTES_ROOM 1024

/* One result line: a path and an excerpt, each at worst tripled by U+FFFD. */
#define RESULT_LINE_MAX (3 * BROKER_PATH_MAX + 3 * SEARCH_LINE_MAX + 128)

/* Bytes shown before the match when an over-long line is cut. */
#define EXCERPT_LEAD 100

struct entry {
	char *name;
	unsigned char type;	/* DT_DIR, DT_REG, DT_LNK, ... */
};

struct walk {
	const struct broker *b;
	const struct search_request *q;
	struct search_result *r;
	bool grep;
	bool enter_git;		/* the root is inside a .git directory */
	size_t rootlen;		/* bytes of "root/" before a root-relative path */

	/* glob: the normalised pattern and its components */
	char *pattern;
	char *comp_text;
	char **comp;
	size_t ncomp;

	/* grep */
	regex_t re;
	bool have_re;
	long max_results;
	char *buf;		/* one file's first bytes, NUL-terminated */
	size_t bytes_read;

	char path[BROKER_PATH_MAX];	/* workspace-relative, being walked */
	char *line;		/* RESULT_LINE_MAX bytes */
	char *out;
	size_t outlen, outcap;

	size_t denied_files, denied_dirs;
	size_t large_files, deep_dirs, unopened;
	bool stop;
	bool oom;
};

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] < 0x80)
		return s[0] ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return len;
}

/*
 * Copy len bytes of src to dst (cap bytes), turning each NUL and each byte
 * that is not valid UTF-8 into U+FFFD so the text can be a JSON string. In
 * a name, control characters become "?" so a name stays on one line.
 * Returns the bytes written; stops early rather than overflow.
 */
static size_t put_text(char *dst, size_t cap, const char *src, size_t len,
		       bool name)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, n;

	while (i < len && o + 4 <= cap) {
		n = utf8_len(s + i, len - i);
		if (n == 0) {
			memcpy(dst + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		if (name && n == 1 && (s[i] < 0x20 || s[i] == 0x7f)) {
			dst[o++] = '?';
			i++;
			continue;
		}
		memcpy(dst + o, s + i, n);
		o += n;
		i += n;
	}
	return o;
}

/* Append to the output unless it would pass limit; -1 when it would. */
static int out_append(struct walk *w, const char *data, size_t len,
		      size_t limit)
{
	size_t cap;
	char *grown;

	if (w->outlen + len > limit)
		return -1;
	if (w->outlen + len + 1 > w->outcap) {
		cap = w->outcap ? w->outcap : 4096;
		while (cap < w->outlen + len + 1)
			cap *= 2;
		if (cap > SEARCH_CONTENT_MAX + 1)
			cap = SEARCH_CONTENT_MAX + 1;
		grown = realloc(w->out, cap);
		if (!grown) {
			w->oom = true;
			w->stop = true;
			return -1;
		}
		w->out = grown;
		w->outcap = cap;
	}
	memcpy(w->out + w->outlen, data, len);
	w->outlen += len;
	w->out[w->outlen] = '\0';
	return 0;
}

static void out_note(struct walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append one formatted line of the trailing notes. */
static void out_note(struct walk *w, const char *fmt, ...)
{
	char note[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(note, sizeof(note) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(note) - 2)
		n = (int)sizeof(note) - 2;
	note[n++] = '\n';
	out_append(w, note, (size_t)n, SEARCH_CONTENT_MAX);
}

/* Add one result line, or stop the walk when the output is full. */
static void emit_line(struct walk *w, size_t len)
{
	if (out_append(w, w->line, len, SEARCH_CONTENT_MAX - NOTES_ROOM) < 0) {
		if (w->r->cut == SEARCH_CUT_NONE)
			w->r->cut = SEARCH_CUT_CONTENT;
		w->stop = true;
		return;
	}
	w->r->matches++;
}

static const char *root_relative(const struct walk *w, const char *rel)
{
	return w->rootlen ? rel + w->rootlen : rel;
}

/* True when rel has a component equal to name. */
static bool has_component(const char *rel, const char *name)
{
	size_t n = strlen(name);
	const char *p = rel;

	while (p) {
		if (strncmp(p, name, n) == 0 && (p[n] == '/' || p[n] == '\0'))
			return true;
		p = strchr(p, '/');
		if (p)
			p++;
	}
	return false;
}

/*
 * Split a glob pattern into components, dropping empty and "." ones.
 * Returns 0, or -1 with err for a pattern that cannot match beneath root.
 */
static int glob_split(struct walk *w, const char *pattern, char *err,
		      size_t errlen)
{
	size_t n = 0, used = 0, len = strlen(pattern);
	char *p, *next;

	if (pattern[0] == '/')
		return broker_fail(err, errlen, "pattern \"%s\" starts with "
				   "\"/\"; patterns are relative to the search "
				   "path, so drop the leading \"/\" and name "
				   "the directory in path", pattern);
	w->comp_text = strdup(pattern);
	w->pattern = malloc(len + 1);
	w->comp = calloc(len / 2 + 2, sizeof(*w->comp));
	if (!w->comp_text || !w->pattern || !w->comp)
		return broker_fail(err, errlen, "out of memory");

	/* Cut comp_text at each "/" and rebuild pattern from what is kept. */
	for (p = w->comp_text; p; p = next) {
		next = strchr(p, '/');
		if (next)
			*next++ = '\0';
		if (p[0] == '\0' || strcmp(p, ".") == 0)
			continue;
		if (strcmp(p, "..") == 0)
			return broker_fail(err, errlen, "pattern \"%s\" contains "
					   "\"..\"; set path to the directory "
					   "to search instead", pattern);
		used += (size_t)snprintf(w->pattern + used, len + 1 - used,
					 "%s%s", n ? "/" : "", p);
		w->comp[n++] = p;
	}
	if (n == 0)
		return broker_fail(err, errlen, "pattern \"%s\" names no path "
				   "beneath the search path; use for example "
				   "\"*\" or \"**/*.c\"", pattern);
	w->ncomp = n;
	return 0;
}

/*
 * True when a directory at dir (relative to the root) may hold a match: its
 * components match the pattern's leading ones up to a "**", and the
 * pattern goes on deeper than dir.
 */
static bool glob_may_descend(const struct walk *w, const char *dir)
{
	char name[BROKER_PATH_MAX];
	const char *d = dir;
	size_t j = 0, n;

	while (d) {
		if (j == w->ncomp)
			return false;
		if (strcmp(w->comp[j], "**") == 0)
			return true;
		n = strcspn(d, "/");
		snprintf(name, sizeof(name), "%.*s", (int)n, d);
		if (!policy_glob_match(w->comp[j], name))
			return false;
		j++;
		d = d[n] == '/' ? d + n + 1 : NULL;
	}
	return j < w->ncomp;
}

/*
 * A back-reference (\1 to \9) lets a regular expression take exponential
 * time, and the supervisor runs it; glibc's ERE accepts them, so reject
 * them here. An escaped backslash ("\\1") is a literal and passes.
 */
static int reject_backrefs(const char *pattern, char *err, size_t errlen)
{
	const char *p;

	for (p = pattern; *p; p++) {
		if (*p != '\\')
			continue;
		if (p[1] >= '1' && p[1] <= '9')
			return broker_fail(err, errlen, "pattern contains the "
					   "back-reference \"\\%c\", which is "
					   "not supported because it can make "
					   "matching take exponential time; "
					   "repeat the text instead", p[1]);
		if (p[1] == '\0')
			break;
		p++;
	}
	return 0;
}

static int compile_regex(regex_t *re, const struct search_request *q,
			 char *err, size_t errlen)
{
	int flags = REG_EXTENDED | REG_NEWLINE;
	char msg[256];
	int rc;

	if (reject_backrefs(q->pattern, err, errlen) < 0)
		return -1;
	if (q->ignore_case)
		flags |= REG_ICASE;
	rc = regcomp(re, q->pattern, flags);
	if (rc != 0) {
		regerror(rc, re, msg, sizeof(msg));
		regfree(re);
		return broker_fail(err, errlen, "pattern is not a valid POSIX "
				   "extended regular expression: %s", msg);
	}
	return 0;
}

static int check_file_glob(const struct search_request *q, char *err,
			   size_t errlen)
{
	if (q->file_glob && q->file_glob[0] == '/')
		return broker_fail(err, errlen, "glob \"%s\" starts with \"/\"; "
				   "it matches file names, or paths relative "
				   "to the search path when it contains \"/\"",
				   q->file_glob);
	if (q->file_glob && has_component(q->file_glob, ".."))
		return broker_fail(err, errlen, "glob \"%s\" contains \"..\"; "
				   "set path to the directory to search "
				   "instead", q->file_glob);
	return 0;
}

int broker_glob_check(const struct search_request *q, char *err,
		      size_t errlen)
{
	struct walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	rc = glob_split(&w, q->pattern, err, errlen);
	free(w.comp_text);
	free(w.pattern);
	free(w.comp);
	return rc;
}

int broker_grep_check(const struct search_request *q, char *err,
		      size_t errlen)
{
	regex_t re;

	if (compile_regex(&re, q, err, errlen) < 0)
		return -1;
	regfree(&re);
	return check_file_glob(q, err, errlen);
}

static bool file_selected(const struct walk *w, const char *name,
			  const char *rel)
{
	const char *g = w->q->file_glob;

	if (!g)
		return true;
	if (strchr(g, '/'))
		return policy_glob_match(g, root_relative(w, rel));
	return policy_glob_match(g, name);
}

/* Append "path:LINE:excerpt" for a line of len bytes matched at offset so. */
static void emit_match(struct walk *w, long lineno, const char *text,
		       size_t len, size_t so)
{
	size_t o, start = 0, end = len;
	int n;

	if (w->r->matches == (size_t)w->max_results) {
		w->r->cut = SEARCH_CUT_RESULTS;
		w->stop = true;
		return;
	}
	if (len > SEARCH_LINE_MAX) {
		if (so > EXCERPT_LEAD)
			start = so - EXCERPT_LEAD;
		if (start > len - SEARCH_LINE_MAX)
			start = len - SEARCH_LINE_MAX;
		while (start > 0 && ((unsigned char)text[start] & 0xc0) == 0x80)
			start--;
		end = start + SEARCH_LINE_MAX;
		while (end < len && end > start &&
		       ((unsigned char)text[end] & 0xc0) == 0x80)
			end--;
	}
	o = put_text(w->line, RESULT_LINE_MAX - 3 * SEARCH_LINE_MAX - 128,
		     w->path, strlen(w->path), true);
	n = snprintf(w->line + o, 32, ":%ld:", lineno);
	o += (size_t)n;
	o += put_text(w->line + o, RESULT_LINE_MAX - o - 96, text + start,
		      end - start, false);
	if (start > 0 || end < len)
		o += (size_t)snprintf(w->line + o, 96, " [line cut: bytes "
				      "%zu-%zu of %zu shown]", start, end, len);
	w->line[o++] = '\n';
	emit_line(w, o);
}

static void search_lines(struct walk *w, size_t len)
{
	const char *p = w->buf, *end = w->buf + len, *nl;
	regmatch_t m;
	long lineno = 0;
	size_t llen;

	while (p < end && !w->stop) {
		nl = memchr(p, '\n', (size_t)(end - p));
		llen = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (llen && p[llen - 1] == '\r')
			llen--;
		m.rm_so = 0;
		m.rm_eo = (regoff_t)llen;
		/* REG_STARTEND: the line is not NUL-terminated. */
		if (regexec(&w->re, p, 1, &m, REG_STARTEND) == 0)
			emit_match(w, lineno, p, llen, (size_t)m.rm_so);
		p = nl ? nl + 1 : end;
	}
}

static size_t read_upto(int fd, char *buf, size_t want)
{
	size_t len = 0;
	ssize_t n;

	while (len < want) {
		n = pread(fd, buf + len, want - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	return len;
}

/* A rename or a swap for a symlink under the walk: skip it quietly. */
static bool vanished(int e)
{
	return e == ENOENT || e == ELOOP || e == ENOTDIR || e == EXDEV;
}

/* Read one file (its first SEARCH_FILE_BYTES_MAX bytes) and search it. */
static void grep_file(struct walk *w, int dirfd, const char *name)
{
	size_t want, len, budget = SEARCH_TOTAL_BYTES_MAX - w->bytes_read;
	struct stat st;
	int fd;

	if (budget == 0) {
		w->r->cut = SEARCH_CUT_BYTES;
		w->stop = true;
		return;
	}
	/* O_NONBLOCK so that a FIFO swapped in cannot stall the walk. */
	fd = broker_openat2(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
	if (fd < 0) {
		if (!vanished(errno))
			w->unopened++;
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	want = (size_t)st.st_size;
	if (want > SEARCH_FILE_BYTES_MAX) {
		want = SEARCH_FILE_BYTES_MAX;
		w->large_files++;
	}
	len = read_upto(fd, w->buf, want < budget ? want : budget);
	w->buf[len] = '\0';
	close(fd);
	w->bytes_read += len;

	if (memchr(w->buf, '\0', len < SEARCH_BINARY_PROBE ? len :
		   SEARCH_BINARY_PROBE)) {
		w->r->binary++;
	} else {
		w->r->files_searched++;
		search_lines(w, len);
	}
	/* The total budget ran out inside this file. */
	if (want > budget && !w->stop) {
		w->r->cut = SEARCH_CUT_BYTES;
		w->stop = true;
	}
}

/* List rel with suffix when it matches the pattern and the filter agrees. */
static void glob_entry(struct walk *w, const char *suffix)
{
	size_t o;

	if (!policy_glob_match(w->pattern, root_relative(w, w->path)))
		return;
	if (!w->q->may_read(w->q->ctx, w->path)) {
		w->denied_files++;
		return;
	}
	o = put_text(w->line, RESULT_LINE_MAX - 8, w->path, strlen(w->path),
		     true);
	o += (size_t)snprintf(w->line + o, 8, "%s\n", suffix);
	emit_line(w, o);
}

static void walk_dir(struct walk *w, int parent, const char *name,
		     size_t depth);

static void visit_dir(struct walk *w, int dirfd, const char *name,
		      size_t depth)
{
	const char *rel = root_relative(w, w->path);
	bool listed, descend;
	size_t o;

	if (!w->enter_git && strcmp(name, ".git") == 0)
		return;
	listed = !w->grep && policy_glob_match(w->pattern, rel);
	descend = w->grep || glob_may_descend(w, rel);
	if (!listed && !descend)
		return;
	if (!w->q->may_read(w->q->ctx, w->path)) {
		w->denied_dirs++;
		return;
	}
	if (listed) {
		o = put_text(w->line, RESULT_LINE_MAX - 8, w->path,
			     strlen(w->path), true);
		w->line[o++] = '/';
		w->line[o++] = '\n';
		emit_line(w, o);
	}
	if (!descend || w->stop)
		return;
	if (depth >= SEARCH_DEPTH_MAX) {
		w->deep_dirs++;
		return;
	}
	walk_dir(w, dirfd, name, depth + 1);
}

/*
 * Visit one entry of the directory whose workspace-relative path is
 * w->path[0..plen); plen is 0 for the workspace itself.
 */
static void visit(struct walk *w, int dirfd, const struct entry *e,
		  size_t plen, size_t depth)
{
	struct stat st;
	unsigned char type = e->type;
	int n;

	n = snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s",
		     plen ? "/" : "", e->name);
	if (n < 0 || (size_t)n >= sizeof(w->path) - plen) {
		w->unopened++;
		goto out;
	}
	if (type == DT_UNKNOWN && fstatat(dirfd, e->name, &st,
					  AT_SYMLINK_NOFOLLOW) == 0)
		type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ?
		       DT_REG : S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;

	if (type == DT_DIR)
		visit_dir(w, dirfd, e->name, depth);
	else if (w->grep && type == DT_REG &&
		 file_selected(w, e->name, w->path)) {
		if (w->q->may_read(w->q->ctx, w->path))
			grep_file(w, dirfd, e->name);
		else
			w->denied_files++;
	} else if (!w->grep) {
		glob_entry(w, type == DT_LNK ? "@" : "");
	}
out:
	w->path[plen] = '\0';
}

static int compare_entries(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
		      ((const struct entry *)b)->name);
}

/*
 * Read the names in dir, counting each against SEARCH_ENTRIES_MAX, and
 * return how many were read. At the bound, or when memory runs out, the
 * walk stops and the names are left unsorted.
 */
static size_t read_entries(struct walk *w, DIR *dir, struct entry **out)
{
	struct entry *list = NULL, *grown;
	struct dirent *de;
	size_t n = 0, cap = 0;

	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (++w->r->entries > SEARCH_ENTRIES_MAX) {
			w->r->entries = SEARCH_ENTRIES_MAX;
			w->r->cut = SEARCH_CUT_ENTRIES;
			w->stop = true;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown)
				goto oom;
			list = grown;
		}
		list[n].name = strdup(de->d_name);
		if (!list[n].name)
			goto oom;
		list[n++].type = de->d_type;
	}
	if (!w->stop)
		qsort(list, n, sizeof(*list), compare_entries);
	*out = list;
	return n;
oom:
	w->oom = true;
	w->stop = true;
	*out = list;
	return n;
}

/* Walk the directory name (relative to parent) at w->path. */
static void walk_dir(struct walk *w, int parent, const char *name,
		     size_t depth)
{
	size_t plen = strlen(w->path), n, i;
	struct entry *list;
	DIR *dir;
	int fd;

	fd = broker_openat2(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
			    0);
	if (fd < 0) {
		if (!vanished(errno))
			w->unopened++;
		return;
	}
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		w->unopened++;
		return;
	}
	n = read_entries(w, dir, &list);
	for (i = 0; i < n && !w->stop; i++)
		visit(w, dirfd(dir), &list[i], plen, depth);
	for (i = 0; i < n; i++)
		free(list[i].name);
	free(list);
	closedir(dir);
}

static int walk_init(struct walk *w, const struct broker *b,
		     const struct search_request *q, struct search_result *r,
		     bool grep, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	memset(r, 0, sizeof(*r));
	w->b = b;
	w->q = q;
	w->r = r;
	w->grep = grep;
	w->enter_git = has_component(q->root, ".git");
	if (strcmp(q->root, ".") != 0) {
		w->rootlen = strlen(q->root) + 1;
		snprintf(w->path, sizeof(w->path), "%s", q->root);
	}
	w->max_results = q->max_results > 0 ? q->max_results :
			 SEARCH_RESULTS_DEFAULT;
	w->line = malloc(RESULT_LINE_MAX);
	if (!w->line)
		return broker_fail(err, errlen, "out of memory");
	if (!grep)
		return glob_split(w, q->pattern, err, errlen);

	if (compile_regex(&w->re, q, err, errlen) < 0 ||
	    check_file_glob(q, err, errlen) < 0)
		return -1;
	w->have_re = true;
	/* One more byte for a NUL: ASan's regexec runs strlen on the text. */
	w->buf = malloc(SEARCH_FILE_BYTES_MAX + 1);
	if (!w->buf)
		return broker_fail(err, errlen, "out of memory");
	return 0;
}

/* grep with a regular file as its root: search that one file. */
static void grep_root_file(struct walk *w)
{
	const char *slash = strrchr(w->q->root, '/');
	const char *name = slash ? slash + 1 : w->q->root;

	w->rootlen = (size_t)(name - w->q->root);
	if (!file_selected(w, name, w->path))
		return;
	if (!w->q->may_read(w->q->ctx, w->path)) {
		w->denied_files++;
		return;
	}
	grep_file(w, w->b->root_fd, w->q->root);
}

static enum broker_status walk_root(struct walk *w, char *err, size_t errlen)
{
	const char *root = w->q->root;
	struct stat st;
	int fd;

	fd = broker_openat2(w->b->root_fd, root, O_RDONLY | O_NONBLOCK |
			    O_NOFOLLOW, 0);
	if (fd < 0)
		return broker_fail_errno("search", root, errno, err, errlen);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return broker_fail_errno("search", root, errno, err, errlen);
	}
	close(fd);
	if (S_ISDIR(st.st_mode)) {
		walk_dir(w, w->b->root_fd, root, 0);
		return BROKER_OK;
	}
	if (w->grep && S_ISREG(st.st_mode)) {
		grep_root_file(w);
		return BROKER_OK;
	}
	broker_fail(err, errlen, "\"%s\" is not a directory; give a directory "
		    "as path%s", root, w->grep ? " or a regular file" : "");
	return BROKER_FAILED;
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void note_denied(struct walk *w)
{
	size_t f = w->denied_files, d = w->denied_dirs;

	if (f && d)
		out_note(w, "[%zu %s and %zu %s skipped: the policy does not "
			 "allow reading them]", f, plural(f, "file", "files"),
			 d, plural(d, "directory", "directories"));
	else if (f || d)
		out_note(w, "[%zu %s skipped: the policy does not allow "
			 "reading %s]", f + d, f ? plural(f, "file", "files") :
			 plural(d, "directory", "directories"),
			 f + d == 1 ? "it" : "them");
}

/* The note for the bound that cut the search, which ends the output. */
static void note_cut(struct walk *w)
{
	switch (w->r->cut) {
	case SEARCH_CUT_NONE:
		break;
	case SEARCH_CUT_ENTRIES:
		out_note(w, "[search stopped after %d directory entries, the "
			 "maximum; search a narrower path or start the "
			 "pattern with a directory name]", SEARCH_ENTRIES_MAX);
		break;
	case SEARCH_CUT_BYTES:
		out_note(w, "[search stopped after reading %ld MiB, the "
			 "maximum; search a narrower path or select fewer "
			 "files with glob]", SEARCH_TOTAL_BYTES_MAX >> 20);
		break;
	case SEARCH_CUT_RESULTS:
		out_note(w, "[more lines match: results stop at max_results "
			 "(%ld); use a more specific pattern, a narrower path "
			 "or glob, or raise max_results]", w->max_results);
		break;
	case SEARCH_CUT_CONTENT:
		out_note(w, "[output stopped after %zu %s at %d bytes, the "
			 "most one reply holds; use a more specific pattern "
			 "or a narrower path]", w->r->matches,
			 w->grep ? "lines" : "paths", SEARCH_CONTENT_MAX);
		break;
	}
}

static void add_notes(struct walk *w)
{
	struct search_result *r = w->r;

	if (r->matches == 0 && r->cut == SEARCH_CUT_NONE && w->grep)
		out_note(w, "no lines match (%zu %s searched)",
			 r->files_searched,
			 plural(r->files_searched, "file", "files"));
	else if (r->matches == 0 && r->cut == SEARCH_CUT_NONE)
		out_note(w, "no paths match");
	if (r->binary)
		out_note(w, "[%zu binary %s skipped: a NUL byte in the first "
			 "%d KiB]", r->binary, plural(r->binary, "file", "files"),
			 SEARCH_BINARY_PROBE / 1024);
	if (w->large_files)
		out_note(w, "[%zu %s larger than %ld MiB: only the first %ld "
			 "MiB of each were searched]", w->large_files,
			 plural(w->large_files, "file", "files"),
			 SEARCH_FILE_BYTES_MAX >> 20, SEARCH_FILE_BYTES_MAX >> 20);
	if (w->deep_dirs)
		out_note(w, "[%zu %s more than %d levels beneath the search "
			 "path not entered]", w->deep_dirs,
			 plural(w->deep_dirs, "directory", "directories"),
			 SEARCH_DEPTH_MAX);
	if (w->unopened)
		out_note(w, "[%zu %s could not be opened]", w->unopened,
			 plural(w->unopened, "entry", "entries"));
	note_denied(w);
	note_cut(w);
}

/* Hand the output to r on success, and free everything else. */
static enum broker_status walk_finish(struct walk *w, enum broker_status st,
				      char *err, size_t errlen)
{
	if (st == BROKER_OK && !w->oom)
		add_notes(w);
	if (st == BROKER_OK && !w->oom && !w->out)
		out_append(w, "", 0, SEARCH_CONTENT_MAX);
	if (st == BROKER_OK && w->oom) {
		broker_fail(err, errlen, "out of memory");
		st = BROKER_FAILED;
	}
	w->r->denied = w->denied_files + w->denied_dirs;
	if (st == BROKER_OK) {
		w->r->content = w->out;
		w->out = NULL;
	}
	if (w->have_re)
		regfree(&w->re);
	free(w->out);
	free(w->buf);
	free(w->line);
	free(w->pattern);
	free(w->comp_text);
	free(w->comp);
	return st;
}

static enum broker_status search_run(const struct broker *b,
				     const struct search_request *q,
				     struct search_result *r, bool grep,
				     char *err, size_t errlen)
{
	enum broker_status st = BROKER_FAILED;
	struct walk w;

	if (walk_init(&w, b, q, r, grep, err, errlen) == 0)
		st = walk_root(&w, err, errlen);
	return walk_finish(&w, st, err, errlen);
}

enum broker_status broker_glob(const struct broker *b,
			       const struct search_request *q,
			       struct search_result *r, char *err,
			       size_t errlen)
{
	return search_run(b, q, r, false, err, errlen);
}

enum broker_status broker_grep(const struct broker *b,
			       const struct search_request *q,
			       struct search_result *r, char *err,
			       size_t errlen)
{
	return search_run(b, q, r, true, err, errlen);
}

void broker_search_free(struct search_result *r)
{
	free(r->content);
	r->content = NULL;
}

const char *broker_search_cut_name(enum search_cut cut)
{
	switch (cut) {
	case SEARCH_CUT_ENTRIES:
		return "entries";
	case SEARCH_CUT_BYTES:
		return "bytes";
	case SEARCH_CUT_RESULTS:
		return "results";
	case SEARCH_CUT_CONTENT:
		return "content";
	default:
		return NULL;
	}
}
