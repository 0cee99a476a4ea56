/*
 * The line editor on a real pseudo-terminal (libedit, history, paste,
 * Ctrl-C) and its plain fallback on a pipe.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/tui_edit.h"

static char state_dir[] = "/tmp/coworker-tui-edit-XXXXXX";
static char history[256];

static bool libedit_mapped(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "libedit"))
			found = true;
	fclose(f);
	return found;
}

static int pipe_with(const char *text)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
	close(p[1]);
	return p[0];
}

static void expect_line(struct tui_editor *ed, const char *want)
{
	char *line = NULL;

	assert_int_equal(tui_editor_read(ed, "> ", &line), TUI_READ_LINE);
	assert_string_equal(line, want);
	free(line);
}

/* Runs first: nothing has loaded libedit yet. */
static void test_edit_plain_fallback(void **state)
{
	int fd = pipe_with("one\ntwo \\\nthree\nlast");
	char notice[256];
	struct tui_editor *ed;
	char *line = NULL;

	(void)state;
	ed = tui_editor_open(fd, STDOUT_FILENO, NULL, NULL, notice,
			     sizeof(notice));
	assert_non_null(ed);
	assert_false(tui_editor_uses_libedit(ed));
	assert_non_null(strstr(notice, "not a terminal"));
	expect_line(ed, "one");
	expect_line(ed, "two \nthree");
	expect_line(ed, "last");
	assert_int_equal(tui_editor_read(ed, "> ", &line), TUI_READ_EOF);
	assert_null(line);
	assert_false(libedit_mapped());
	tui_editor_close(ed);
	close(fd);
}

struct pty {
	int master, slave;
};

static void pty_open(struct pty *t)
{
	t->master = posix_openpt(O_RDWR | O_NOCTTY);
	if (t->master < 0)
		skip();
	assert_int_equal(grantpt(t->master), 0);
	assert_int_equal(unlockpt(t->master), 0);
	t->slave = open(ptsname(t->master), O_RDWR | O_NOCTTY);
	assert_true(t->slave >= 0);
}

static void pty_close(struct pty *t)
{
	close(t->slave);
	close(t->master);
}

struct typist {
	pthread_t thread;
	struct pty *t;
	const char *keys;
};

/*
 * Keys the kernel processes before libedit leaves canonical mode are
 * cooked (Ctrl-C becomes a signal), so wait until it has left.
 */
static void *type_when_raw(void *arg)
{
	struct typist *ty = arg;
	struct termios tio;
	int i;

	for (i = 0; i < 10000; i++) {
		if (tcgetattr(ty->t->slave, &tio) == 0 &&
		    !(tio.c_lflag & ICANON))
			break;
		usleep(1000);
	}
	if (write(ty->t->master, ty->keys, strlen(ty->keys)) !=
	    (ssize_t)strlen(ty->keys))
		return (void *)1;
	return NULL;
}

static void type_keys(struct typist *ty, struct pty *t, const char *keys)
{
	ty->t = t;
	ty->keys = keys;
	assert_int_equal(pthread_create(&ty->thread, NULL, type_when_raw, ty),
			 0);
}

static void typed(struct typist *ty)
{
	void *rc;

	assert_int_equal(pthread_join(ty->thread, &rc), 0);
	assert_null(rc);
}

static struct tui_editor *open_on_pty(struct pty *t)
{
	struct tui_editor *ed;
	char notice[256];

	ed = tui_editor_open(t->slave, t->slave, history, NULL, notice,
			     sizeof(notice));
	assert_non_null(ed);
	if (!tui_editor_uses_libedit(ed)) {
		tui_editor_close(ed);
		pty_close(t);
		skip();
	}
	assert_string_equal(notice, "");
	return ed;
}

/* Drain what the editor drew, so the pty's buffer never fills. */
static void drain(struct pty *t)
{
	char buf[4096];
	int flags = fcntl(t->master, F_GETFL);

	fcntl(t->master, F_SETFL, flags | O_NONBLOCK);
	while (read(t->master, buf, sizeof(buf)) > 0)
		;
	fcntl(t->master, F_SETFL, flags);
}

static void test_edit_libedit_history(void **state)
{
	struct tui_editor *ed;
	struct typist ty;
	struct stat st;
	struct pty t;
	char buf[256];
	FILE *f;

	(void)state;
	pty_open(&t);
	ed = open_on_pty(&t);
	assert_true(libedit_mapped());
	type_keys(&ty, &t, "hello world\r");
	expect_line(ed, "hello world");
	typed(&ty);
	drain(&t);
	tui_editor_close(ed);

	assert_int_equal(stat(history, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(history, "r");
	assert_non_null(f);
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "hello"));
	pty_close(&t);
}

/* Up-arrow recalls the entry the last editor saved. */
static void test_edit_history_reloaded(void **state)
{
	struct tui_editor *ed;
	struct typist ty;
	struct pty t;

	(void)state;
	pty_open(&t);
	ed = open_on_pty(&t);
	type_keys(&ty, &t, "\033[A\r");
	expect_line(ed, "hello world");
	typed(&ty);
	drain(&t);
	tui_editor_close(ed);
	pty_close(&t);
}

static void test_edit_bracketed_paste(void **state)
{
	struct tui_editor *ed;
	struct typist ty;
	struct pty t;

	(void)state;
	pty_open(&t);
	ed = open_on_pty(&t);
	type_keys(&ty, &t, "x \033[200~first\rsecond\nthird\033[201~ end\r");
	expect_line(ed, "x first\nsecond\nthird end");
	typed(&ty);
	drain(&t);
	tui_editor_close(ed);
	pty_close(&t);
}

static void test_edit_backslash_continues(void **state)
{
	struct tui_editor *ed;
	struct typist ty;
	struct pty t;

	(void)state;
	pty_open(&t);
	ed = open_on_pty(&t);
	type_keys(&ty, &t, "a \\\rb\r");
	expect_line(ed, "a \nb");
	typed(&ty);
	drain(&t);
	tui_editor_close(ed);
	pty_close(&t);
}

static void test_edit_ctrl_c_and_d(void **state)
{
	struct tui_editor *ed;
	char *line = NULL;
	struct typist ty;
	struct pty t;

	(void)state;
	pty_open(&t);
	ed = open_on_pty(&t);
	type_keys(&ty, &t, "half\x03");
	assert_int_equal(tui_editor_read(ed, "> ", &line), TUI_READ_INTERRUPT);
	typed(&ty);
	assert_null(line);
	type_keys(&ty, &t, "\x04");
	assert_int_equal(tui_editor_read(ed, "> ", &line), TUI_READ_EOF);
	typed(&ty);
	drain(&t);
	tui_editor_close(ed);
	pty_close(&t);
}

static void test_edit_missing_library(void **state)
{
	struct tui_editor *ed;
	char notice[256];
	struct pty t;

	(void)state;
	pty_open(&t);
	ed = tui_editor_open(t.slave, t.slave, NULL,
			     "libcoworker-no-such-editor.so", notice,
			     sizeof(notice));
	assert_non_null(ed);
	assert_false(tui_editor_uses_libedit(ed));
	assert_non_null(strstr(notice, "could not be loaded"));
	assert_int_equal(write(t.master, "plain\n", 6), 6);
	expect_line(ed, "plain");
	tui_editor_close(ed);
	pty_close(&t);
}

static void test_edit_history_path(void **state)
{
	char buf[256];

	(void)state;
	setenv("XDG_STATE_HOME", "/x/state", 1);
	assert_int_equal(tui_history_path(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/x/state/coworker/history");
	setenv("XDG_STATE_HOME", "relative", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(tui_history_path(buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.local/state/coworker/history");
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "", 1);
	assert_int_equal(tui_history_path(buf, sizeof(buf)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edit_plain_fallback),
		cmocka_unit_test(test_edit_libedit_history),
		cmocka_unit_test(test_edit_history_reloaded),
		cmocka_unit_test(test_edit_bracketed_paste),
		cmocka_unit_test(test_edit_backslash_continues),
		cmocka_unit_test(test_edit_ctrl_c_and_d),
		cmocka_unit_test(test_edit_missing_library),
		cmocka_unit_test(test_edit_history_path),
	};
	char cmd[300];
	int rc;

	assert_non_null(mkdtemp(state_dir));
	snprintf(history, sizeof(history), "%s/state/coworker/history",
		 state_dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
