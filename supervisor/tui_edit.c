/*
 * The prompt's line editor: libedit through dlopen, or plain reads.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "lib/fsutil.h"
#include "supervisor/sanitize.h"
#include "supervisor/tui_edit.h"

/* Bracketed paste: the terminal wraps pasted text in these. */
#define PASTE_ON "\033[?2004h"
#define PASTE_OFF "\033[?2004l"
#define PASTE_START "\033[200~"
#define PASTE_END "\033[201~"
/*
 * A private key sequence the editor pushes into its own input to insert
 * the rest of a paste on the continuation line; terminals send no such key.
 */
#define INSERT_PENDING "\033[299~"

#define CONTINUE_PROMPT "... "

/* The libedit functions used, looked up by name after dlopen. */
struct libedit_api {
	void *handle;
	EditLine *(*el_init)(const char *, FILE *, FILE *, FILE *);
	void (*el_end)(EditLine *);
	int (*el_set)(EditLine *, int, ...);
	int (*el_get)(EditLine *, int, ...);
	const char *(*el_gets)(EditLine *, int *);
	int (*el_wgetc)(EditLine *, wchar_t *);
	int (*el_winsertstr)(EditLine *, const wchar_t *);
	void (*el_push)(EditLine *, const char *);
	History *(*history_init)(void);
	void (*history_end)(History *);
	int (*history)(History *, HistEvent *, int, ...);
};

struct tui_editor {
	int in_fd, out_fd;
	FILE *in, *out;
	struct libedit_api api;
	EditLine *el;
	History *hist;
	char *history_path;
	const char *prompt;
	bool interrupted;
	char *paste_rest;	/* a paste after its first newline, UTF-8 */
	char *pending;		/* text INSERT_PENDING inserts */
};

/* A growable input buffer capped at TUI_INPUT_MAX. */
struct input {
	char *data;
	size_t len, cap;
};

static int input_add(struct input *in, const char *text, size_t n)
{
	char *grown;

	if (in->len + n > TUI_INPUT_MAX)
		n = TUI_INPUT_MAX - in->len;
	if (in->len + n + 1 > in->cap) {
		size_t cap = in->cap * 2 + n + 64;

		grown = realloc(in->data, cap);
		if (!grown)
			return -1;
		in->data = grown;
		in->cap = cap;
	}
	memcpy(in->data + in->len, text, n);
	in->len += n;
	in->data[in->len] = '\0';
	return 0;
}

static bool load_libedit(struct libedit_api *api, const char *name)
{
	api->handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!api->handle)
		return false;
	*(void **)&api->el_init = dlsym(api->handle, "el_init");
	*(void **)&api->el_end = dlsym(api->handle, "el_end");
	*(void **)&api->el_set = dlsym(api->handle, "el_set");
	*(void **)&api->el_get = dlsym(api->handle, "el_get");
	*(void **)&api->el_gets = dlsym(api->handle, "el_gets");
	*(void **)&api->el_wgetc = dlsym(api->handle, "el_wgetc");
	*(void **)&api->el_winsertstr = dlsym(api->handle, "el_winsertstr");
	*(void **)&api->el_push = dlsym(api->handle, "el_push");
	*(void **)&api->history_init = dlsym(api->handle, "history_init");
	*(void **)&api->history_end = dlsym(api->handle, "history_end");
	*(void **)&api->history = dlsym(api->handle, "history");
	if (api->el_init && api->el_end && api->el_set && api->el_get &&
	    api->el_gets && api->el_wgetc && api->el_winsertstr &&
	    api->el_push && api->history_init && api->history_end &&
	    api->history)
		return true;
	dlclose(api->handle);
	api->handle = NULL;
	return false;
}

static struct tui_editor *editor_of(EditLine *el, const struct libedit_api *api)
{
	struct tui_editor *ed = NULL;

	api->el_get(el, EL_CLIENTDATA, &ed);
	return ed;
}

/*
 * libedit calls these with only the EditLine, and the one editor the
 * process has is found through EL_CLIENTDATA; the API table is needed to
 * call el_get, so it is kept here as well.
 */
static struct libedit_api *current_api;

static char *prompt_fn(EditLine *el)
{
	return (char *)editor_of(el, current_api)->prompt;
}

static unsigned char interrupt_fn(EditLine *el, int ch)
{
	(void)ch;
	editor_of(el, current_api)->interrupted = true;
	return CC_EOF;
}

static int insert_utf8(struct tui_editor *ed, const char *text)
{
	size_t n = mbstowcs(NULL, text, 0);
	wchar_t *w;

	if (n == (size_t)-1)
		return -1;
	w = calloc(n + 1, sizeof(*w));
	if (!w)
		return -1;
	mbstowcs(w, text, n + 1);
	ed->api.el_winsertstr(ed->el, w);
	free(w);
	return 0;
}

static unsigned char insert_pending_fn(EditLine *el, int ch)
{
	struct tui_editor *ed = editor_of(el, current_api);

	(void)ch;
	if (ed->pending)
		insert_utf8(ed, ed->pending);
	free(ed->pending);
	ed->pending = NULL;
	return CC_REFRESH;
}

/* Read the pasted text up to PASTE_END, newlines as "\n". */
static int read_paste(struct tui_editor *ed, struct input *paste)
{
	static const char end[] = PASTE_END;
	char mb[MB_LEN_MAX];
	size_t matched = 0, n;
	bool last_cr = false;
	mbstate_t st;
	wchar_t wc;

	while (ed->api.el_wgetc(ed->el, &wc) == 1) {
		if (wc == (wchar_t)(unsigned char)end[matched]) {
			if (++matched == sizeof(end) - 1)
				return 0;
			continue;
		}
		if (matched && input_add(paste, end, matched) < 0)
			return -1;
		matched = wc == 0x1b ? 1 : 0;
		if (matched)
			continue;
		if (wc == '\n' && last_cr)
			continue;
		last_cr = wc == '\r';
		if (wc == '\r')
			wc = '\n';
		memset(&st, 0, sizeof(st));
		n = wcrtomb(mb, wc, &st);
		if (n != (size_t)-1 && input_add(paste, mb, n) < 0)
			return -1;
	}
	return 0;
}

/*
 * A paste without a newline is inserted where the cursor is. One with
 * newlines ends this line after its first line; tui_editor_read adds
 * the rest to the same input.
 */
static unsigned char paste_fn(EditLine *el, int ch)
{
	struct tui_editor *ed = editor_of(el, current_api);
	struct input paste = { NULL, 0, 0 };
	char *newline;

	(void)ch;
	if (read_paste(ed, &paste) < 0 || !paste.data) {
		free(paste.data);
		return CC_REFRESH;
	}
	newline = strchr(paste.data, '\n');
	if (newline) {
		free(ed->paste_rest);
		ed->paste_rest = strdup(newline + 1);
		*newline = '\0';
	}
	insert_utf8(ed, paste.data);
	free(paste.data);
	return newline ? CC_NEWLINE : CC_REFRESH;
}

static void setup_locale(void)
{
	const char *ctype = setlocale(LC_CTYPE, "");

	if (!ctype || strcmp(ctype, "C") == 0 || strcmp(ctype, "POSIX") == 0)
		setlocale(LC_CTYPE, "C.UTF-8");
}

/* Create the directories above path, each 0700 when new. */
static int make_parents(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (strlen(path) >= sizeof(dir))
		return -1;
	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return mkdir_all(dir, 0700);
}

/*
 * Load the history file when it is a regular file of a sane size, and
 * take group and other permissions away from it: inputs may hold secrets.
 */
static void history_load(struct tui_editor *ed)
{
	struct stat st;
	HistEvent ev;
	int fd;

	fd = open(ed->history_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size <= TUI_HISTORY_FILE_MAX) {
		if (st.st_mode & 077)
			fchmod(fd, 0600);
		ed->api.history(ed->hist, &ev, H_LOAD, ed->history_path);
	}
	close(fd);
}

/* Write the history to a new 0600 file beside it, then rename it over. */
static void history_save(struct tui_editor *ed)
{
	char tmp[PATH_MAX];
	HistEvent ev;
	FILE *f;
	int fd;

	if (make_parents(ed->history_path) < 0)
		return;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", ed->history_path) >=
	    sizeof(tmp))
		return;
	fd = mkstemp(tmp);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return;
	}
	ed->api.history(ed->hist, &ev, H_SAVE_FP, f);
	if (fclose(f) != 0 || rename(tmp, ed->history_path) < 0)
		unlink(tmp);
}

static void history_add(struct tui_editor *ed, const char *text)
{
	HistEvent ev;

	if (!ed->hist || !*text || strlen(text) > TUI_HISTORY_ENTRY_MAX)
		return;
	ed->api.history(ed->hist, &ev, H_ENTER, text);
	if (ed->history_path)
		history_save(ed);
}

static int setup_libedit(struct tui_editor *ed)
{
	HistEvent ev;
	const struct libedit_api *api = &ed->api;

	ed->el = api->el_init("coworker", ed->in, ed->out, ed->out);
	ed->hist = api->history_init();
	if (!ed->el || !ed->hist)
		return -1;
	current_api = &ed->api;
	api->history(ed->hist, &ev, H_SETSIZE, TUI_HISTORY_ENTRIES);
	api->history(ed->hist, &ev, H_SETUNIQUE, 1);
	if (ed->history_path)
		history_load(ed);

	api->el_set(ed->el, EL_CLIENTDATA, ed);
	api->el_set(ed->el, EL_EDITOR, "emacs");
	api->el_set(ed->el, EL_PROMPT, prompt_fn);
	api->el_set(ed->el, EL_HIST, api->history, ed->hist);
	/* Ctrl-C reaches the editor as a key, so it can end the input. */
	api->el_set(ed->el, EL_SETTY, "-d", "-isig", NULL);
	/*
	 * NOTE: libedit 3.1-20221030 keeps copies of each EL_ADDFN name and
	 * help text that el_end does not free; tests/lsan.supp keeps
	 * LeakSanitizer from reporting them under `make SANITIZE=1`.
	 */
	api->el_set(ed->el, EL_ADDFN, "coworker-interrupt",
		    "cancel the input", interrupt_fn);
	api->el_set(ed->el, EL_BIND, "^C", "coworker-interrupt", NULL);
	api->el_set(ed->el, EL_ADDFN, "coworker-paste",
		    "read a bracketed paste", paste_fn);
	api->el_set(ed->el, EL_BIND, PASTE_START, "coworker-paste", NULL);
	api->el_set(ed->el, EL_ADDFN, "coworker-insert-pending",
		    "insert the rest of a paste", insert_pending_fn);
	api->el_set(ed->el, EL_BIND, INSERT_PENDING, "coworker-insert-pending",
		    NULL);
	return 0;
}

static void fallback_notice(char *notice, size_t len, bool tty,
			    const char *name)
{
	if (!tty)
		snprintf(notice, len, "line editing is off because the input "
			 "is not a terminal; reading plain lines");
	else
		snprintf(notice, len, "line editing is off because %s could "
			 "not be loaded (install libedit2); reading plain lines",
			 name);
}

struct tui_editor *tui_editor_open(int in_fd, int out_fd,
				   const char *history_path,
				   const char *libedit_name,
				   char *notice, size_t notice_len)
{
	const char *name = libedit_name ? libedit_name : TUI_LIBEDIT_NAME;
	struct tui_editor *ed = calloc(1, sizeof(*ed));
	bool tty = isatty(in_fd) && isatty(out_fd);

	if (!ed)
		return NULL;
	ed->in_fd = in_fd;
	ed->out_fd = out_fd;
	notice[0] = '\0';
	if (history_path)
		ed->history_path = strdup(history_path);

	if (!tty || !load_libedit(&ed->api, name)) {
		fallback_notice(notice, notice_len, tty, name);
		return ed;
	}
	setup_locale();
	ed->in = fdopen(dup(in_fd), "r");
	ed->out = fdopen(dup(out_fd), "w");
	if (ed->in && ed->out && setup_libedit(ed) == 0)
		return ed;

	snprintf(notice, notice_len, "line editing is off because libedit "
		 "failed to start; reading plain lines");
	if (ed->el)
		ed->api.el_end(ed->el);
	if (ed->hist)
		ed->api.history_end(ed->hist);
	ed->el = NULL;
	ed->hist = NULL;
	return ed;
}

bool tui_editor_uses_libedit(const struct tui_editor *ed)
{
	return ed->el != NULL;
}

/* Read a line with read(2) alone, so nothing past it is consumed. */
static enum tui_read_status read_plain(struct tui_editor *ed,
				       const char *prompt, struct input *line)
{
	bool any = false;
	ssize_t n;
	char c;

	if (isatty(ed->out_fd)) {
		n = write(ed->out_fd, prompt, strlen(prompt));
		(void)n;
	}
	for (;;) {
		n = read(ed->in_fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1)
			break;
		any = true;
		if (c == '\n')
			break;
		if (input_add(line, &c, 1) < 0)
			return TUI_READ_EOF;
	}
	return any ? TUI_READ_LINE : TUI_READ_EOF;
}

static enum tui_read_status read_edited(struct tui_editor *ed,
					const char *prompt, struct input *line)
{
	const char *text;
	int count = 0;
	size_t len;

	ed->prompt = prompt;
	ed->interrupted = false;
	fputs(PASTE_ON, ed->out);
	fflush(ed->out);
	text = ed->api.el_gets(ed->el, &count);
	fputs(PASTE_OFF, ed->out);
	fflush(ed->out);
	if (ed->interrupted) {
		fputc('\n', ed->out);
		fflush(ed->out);
		return TUI_READ_INTERRUPT;
	}
	if (!text || count <= 0)
		return TUI_READ_EOF;

	len = strlen(text);
	if (len > 0 && text[len - 1] == '\n')
		len--;
	return input_add(line, text, len) < 0 ? TUI_READ_EOF : TUI_READ_LINE;
}

static void emit_out(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, ctx);
}

/*
 * Add the lines of a paste after its first one to acc, echoing them as
 * continuation lines, and queue its last partial line for editing.
 */
static int take_paste_rest(struct tui_editor *ed, struct input *acc)
{
	char *p = ed->paste_rest, *newline;
	int rc = 0;

	while (rc == 0 && (newline = strchr(p, '\n'))) {
		fputs(CONTINUE_PROMPT, ed->out);
		sanitize_text(p, (size_t)(newline - p), SANITIZE_TABS, emit_out,
			      ed->out);
		fputc('\n', ed->out);
		rc = input_add(acc, p, (size_t)(newline - p) + 1);
		p = newline + 1;
	}
	fflush(ed->out);
	if (rc == 0 && *p) {
		ed->pending = strdup(p);
		if (ed->pending)
			ed->api.el_push(ed->el, INSERT_PENDING);
	}
	free(ed->paste_rest);
	ed->paste_rest = NULL;
	return rc;
}

/* Add one physical line to acc; returns true when the input goes on. */
static bool add_line(struct tui_editor *ed, struct input *acc,
		     struct input *line, int *rc)
{
	bool pasted = ed->paste_rest != NULL;

	if (pasted) {
		*rc = input_add(acc, line->data ? line->data : "", line->len);
		if (*rc == 0)
			*rc = input_add(acc, "\n", 1);
		if (*rc == 0)
			*rc = take_paste_rest(ed, acc);
		return true;
	}
	if (line->len > 0 && line->data[line->len - 1] == '\\') {
		*rc = input_add(acc, line->data, line->len - 1);
		if (*rc == 0)
			*rc = input_add(acc, "\n", 1);
		return true;
	}
	*rc = input_add(acc, line->data ? line->data : "", line->len);
	return false;
}

enum tui_read_status tui_editor_read(struct tui_editor *ed,
				     const char *prompt, char **line)
{
	struct input acc = { NULL, 0, 0 };
	enum tui_read_status status;
	const char *p = prompt;
	bool more = true;
	int rc = 0;

	*line = NULL;
	while (more && rc == 0) {
		struct input physical = { NULL, 0, 0 };

		status = ed->el ? read_edited(ed, p, &physical) :
			 read_plain(ed, p, &physical);
		if (status != TUI_READ_LINE) {
			free(physical.data);
			if (status == TUI_READ_EOF && acc.data)
				break;
			free(acc.data);
			return status;
		}
		more = add_line(ed, &acc, &physical, &rc);
		free(physical.data);
		p = CONTINUE_PROMPT;
	}
	if (rc < 0 || (!acc.data && input_add(&acc, "", 0) < 0)) {
		free(acc.data);
		return TUI_READ_EOF;
	}
	history_add(ed, acc.data);
	*line = acc.data;
	return TUI_READ_LINE;
}

void tui_editor_close(struct tui_editor *ed)
{
	if (!ed)
		return;
	if (ed->el)
		ed->api.el_end(ed->el);
	if (ed->hist)
		ed->api.history_end(ed->hist);
	if (ed->in)
		fclose(ed->in);
	if (ed->out)
		fclose(ed->out);
	/* The library stays mapped: unloading it buys nothing at exit. */
	free(ed->history_path);
	free(ed->paste_rest);
	free(ed->pending);
	free(ed);
}

int tui_history_path(char *buf, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (state && state[0] == '/')
		n = snprintf(buf, size, "%s/coworker/history", state);
	else if (home && home[0] == '/')
		n = snprintf(buf, size, "%s/.local/state/coworker/history",
			     home);
	else
		return -1;
	return n < 0 || (size_t)n >= size ? -1 : 0;
}
