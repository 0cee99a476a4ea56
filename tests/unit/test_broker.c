/*
 * Unit tests for the file broker, on real files in a temporary workspace
 * with a sibling directory that stands for "outside".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/broker.h"

struct fixture {
	char top[64];
	char ws[128];
	char outside[128];
	struct broker b;
};

static char err[1024];

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *slurp(const char *dir, const char *name)
{
	static char buf[4096];
	char path[512];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[256];

	snprintf(f->top, sizeof(f->top), "/tmp/cw-broker-XXXXXX");
	assert_non_null(mkdtemp(f->top));
	snprintf(f->ws, sizeof(f->ws), "%s/ws", f->top);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->top);
	assert_int_equal(mkdir(f->ws, 0755), 0);
	assert_int_equal(mkdir(f->outside, 0755), 0);
	put(f->outside, "secret.txt", "outside secret\n");
	put(f->ws, "a.txt", "alpha beta gamma\n");
	snprintf(path, sizeof(path), "%s/src", f->ws);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/.git", f->ws);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/.git/hooks", f->ws);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(broker_open(&f->b, f->ws, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	broker_close(&f->b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->top);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void normalize_cases(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *in, *out;
		enum broker_status st;
	} cases[] = {
		{ "a.txt", "a.txt", BROKER_OK },
		{ "./src//x.c", "src/x.c", BROKER_OK },
		{ "src/../a.txt", "a.txt", BROKER_OK },
		{ ".", ".", BROKER_OK },
		{ "src/..", ".", BROKER_OK },
		{ "..", NULL, BROKER_OUTSIDE },
		{ "../outside/secret.txt", NULL, BROKER_OUTSIDE },
		{ "src/../../x", NULL, BROKER_OUTSIDE },
		{ "/etc/passwd", NULL, BROKER_OUTSIDE },
		{ "", NULL, BROKER_FAILED },
		{ "a\x1b[2Jb", NULL, BROKER_FAILED },
	};
	char rel[BROKER_PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum broker_status st = broker_normalize(&f->b, cases[i].in, rel,
							 sizeof(rel), err,
							 sizeof(err));
		if (st != cases[i].st)
			fail_msg("%s: status %d, expected %d (%s)", cases[i].in,
				 st, cases[i].st, err);
		if (cases[i].out)
			assert_string_equal(rel, cases[i].out);
	}
}

static void normalize_accepts_absolute_inside(void **state)
{
	struct fixture *f = *state;
	char in[512], rel[BROKER_PATH_MAX];

	snprintf(in, sizeof(in), "%s/src/x.c", f->b.root);
	assert_int_equal(broker_normalize(&f->b, in, rel, sizeof(rel), err,
					  sizeof(err)), BROKER_OK);
	assert_string_equal(rel, "src/x.c");
	/* A sibling whose name starts like the workspace is outside. */
	snprintf(in, sizeof(in), "%s2/x", f->b.root);
	assert_int_equal(broker_normalize(&f->b, in, rel, sizeof(rel), err,
					  sizeof(err)), BROKER_OUTSIDE);
}

static void protected_paths(void **state)
{
	(void)state;
	assert_true(broker_is_protected(".coworker"));
	assert_true(broker_is_protected(".coworker/policy.json"));
	assert_true(broker_is_protected(".git/hooks"));
	assert_true(broker_is_protected(".git/hooks/pre-commit"));
	assert_true(broker_is_protected(".git/config"));
	assert_true(broker_is_protected("vendor/lib/.git/hooks/post-merge"));
	assert_false(broker_is_protected(".git/objects/ab/cdef"));
	assert_false(broker_is_protected(".git/configs"));
	assert_false(broker_is_protected("src/.coworker"));
	assert_false(broker_is_protected("hooks/x"));
}

static void read_through_symlink_escape_denied(void **state)
{
	struct fixture *f = *state;
	char link[256], target[256];
	int fd = -1;

	snprintf(link, sizeof(link), "%s/leak", f->ws);
	snprintf(target, sizeof(target), "%s/secret.txt", f->outside);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(broker_read(&f->b, "leak", &fd, err, sizeof(err)),
			 BROKER_OUTSIDE);
	assert_int_equal(fd, -1);

	/* A relative symlink climbing out is refused as well. */
	snprintf(link, sizeof(link), "%s/src/up", f->ws);
	assert_int_equal(symlink("../../outside", link), 0);
	assert_int_equal(broker_read(&f->b, "src/up/secret.txt", &fd, err,
				     sizeof(err)), BROKER_OUTSIDE);
}

static void write_through_symlink_escape_denied(void **state)
{
	struct fixture *f = *state;
	char link[256], real[BROKER_PATH_MAX];

	snprintf(link, sizeof(link), "%s/out", f->ws);
	assert_int_equal(symlink(f->outside, link), 0);
	assert_int_equal(broker_resolve(&f->b, "out/new.txt", real, sizeof(real),
					err, sizeof(err)), BROKER_OUTSIDE);
	assert_int_not_equal(broker_write_bytes(&f->b, "out/new.txt", "x", 1,
						err, sizeof(err)), BROKER_OK);
	assert_null(slurp(f->outside, "new.txt"));
}

static void resolve_inside_symlink_reports_target(void **state)
{
	struct fixture *f = *state;
	char link[256], real[BROKER_PATH_MAX];

	snprintf(link, sizeof(link), "%s/hooks", f->ws);
	assert_int_equal(symlink(".git/hooks", link), 0);
	assert_int_equal(broker_resolve(&f->b, "hooks/pre-commit", real,
					sizeof(real), err, sizeof(err)),
			 BROKER_OK);
	assert_string_equal(real, ".git/hooks/pre-commit");
	assert_true(broker_is_protected(real));
}

static void read_returns_regular_file_fd(void **state)
{
	struct fixture *f = *state;
	char buf[64];
	ssize_t n;
	int fd;

	assert_int_equal(broker_read(&f->b, "a.txt", &fd, err, sizeof(err)),
			 BROKER_OK);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "alpha beta gamma\n");
	/* Read-only: the worker cannot write through it. */
	assert_int_equal(write(fd, "x", 1), -1);
	close(fd);
	assert_int_equal(broker_read(&f->b, "src", &fd, err, sizeof(err)),
			 BROKER_FAILED);
	assert_int_equal(broker_read(&f->b, "missing", &fd, err, sizeof(err)),
			 BROKER_NOT_FOUND);
}

static void read_refuses_fifo_without_blocking(void **state)
{
	struct fixture *f = *state;
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/pipe", f->ws);
	assert_int_equal(mkfifo(path, 0644), 0);
	assert_int_equal(broker_read(&f->b, "pipe", &fd, err, sizeof(err)),
			 BROKER_FAILED);
	assert_non_null(strstr(err, "not a regular file"));
}

static void write_is_atomic_and_creates_parents(void **state)
{
	struct fixture *f = *state;
	char path[256];
	struct stat st;

	assert_int_equal(broker_write_bytes(&f->b, "new/dir/file.txt", "hello\n",
					    6, err, sizeof(err)), BROKER_OK);
	snprintf(path, sizeof(path), "%s/new/dir", f->ws);
	assert_string_equal(slurp(path, "file.txt"), "hello\n");

	/* Mode of an existing file survives the replacement. */
	snprintf(path, sizeof(path), "%s/a.txt", f->ws);
	assert_int_equal(chmod(path, 0751), 0);
	assert_int_equal(broker_write_bytes(&f->b, "a.txt", "new", 3, err,
					    sizeof(err)), BROKER_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0751);
	assert_string_equal(slurp(f->ws, "a.txt"), "new");
}

static void write_refuses_protected(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(broker_write_bytes(&f->b, ".git/hooks/pre-commit", "x",
					    1, err, sizeof(err)),
			 BROKER_PROTECTED);
	assert_int_equal(broker_write_bytes(&f->b, ".coworker/policy.json", "{}",
					    2, err, sizeof(err)),
			 BROKER_PROTECTED);
	assert_null(slurp(f->ws, ".git/hooks/pre-commit"));
}

static int sealed_memfd(const char *text)
{
	int fd = memfd_create("content", MFD_ALLOW_SEALING | MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

static void write_requires_sealed_memfd(void **state)
{
	struct fixture *f = *state;
	char summary[256];
	int fd = sealed_memfd("sealed content\n");

	assert_int_equal(broker_write(&f->b, "m.txt", fd, summary,
				      sizeof(summary), err, sizeof(err)),
			 BROKER_FAILED);
	assert_non_null(strstr(err, "sealed"));
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW |
			       F_SEAL_SHRINK | F_SEAL_SEAL), 0);
	assert_int_equal(broker_write(&f->b, "m.txt", fd, summary,
				      sizeof(summary), err, sizeof(err)),
			 BROKER_OK);
	assert_string_equal(slurp(f->ws, "m.txt"), "sealed content\n");
	close(fd);
}

static void edit_replaces_unique_occurrence(void **state)
{
	struct fixture *f = *state;
	char summary[256];

	assert_int_equal(broker_edit(&f->b, "a.txt", "beta", "BETA", summary,
				     sizeof(summary), err, sizeof(err)),
			 BROKER_OK);
	assert_string_equal(slurp(f->ws, "a.txt"), "alpha BETA gamma\n");
}

static void edit_fails_absent_or_ambiguous(void **state)
{
	struct fixture *f = *state;
	char summary[256];

	put(f->ws, "dup.txt", "x = 1\nx = 1\n");
	assert_int_equal(broker_edit(&f->b, "dup.txt", "x = 1", "x = 2", summary,
				     sizeof(summary), err, sizeof(err)),
			 BROKER_FAILED);
	assert_non_null(strstr(err, "occurs 2 times"));
	assert_int_equal(broker_edit(&f->b, "a.txt", "delta", "D", summary,
				     sizeof(summary), err, sizeof(err)),
			 BROKER_FAILED);
	assert_non_null(strstr(err, "not found"));
	assert_string_equal(slurp(f->ws, "dup.txt"), "x = 1\nx = 1\n");
}

static void list_sorted_with_markers(void **state)
{
	struct fixture *f = *state;
	char *out;

	assert_int_equal(broker_list(&f->b, ".", &out, err, sizeof(err)),
			 BROKER_OK);
	assert_string_equal(out, ".git/\na.txt\nsrc/\n");
	free(out);
	assert_int_equal(broker_list(&f->b, "a.txt", &out, err, sizeof(err)),
			 BROKER_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(normalize_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(normalize_accepts_absolute_inside,
						setup, teardown),
		cmocka_unit_test(protected_paths),
		cmocka_unit_test_setup_teardown(read_through_symlink_escape_denied,
						setup, teardown),
		cmocka_unit_test_setup_teardown(write_through_symlink_escape_denied,
						setup, teardown),
		cmocka_unit_test_setup_teardown(resolve_inside_symlink_reports_target,
						setup, teardown),
		cmocka_unit_test_setup_teardown(read_returns_regular_file_fd,
						setup, teardown),
		cmocka_unit_test_setup_teardown(read_refuses_fifo_without_blocking,
						setup, teardown),
		cmocka_unit_test_setup_teardown(write_is_atomic_and_creates_parents,
						setup, teardown),
		cmocka_unit_test_setup_teardown(write_refuses_protected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(write_requires_sealed_memfd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(edit_replaces_unique_occurrence,
						setup, teardown),
		cmocka_unit_test_setup_teardown(edit_fails_absent_or_ambiguous,
						setup, teardown),
		cmocka_unit_test_setup_teardown(list_sorted_with_markers, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("broker", tests, NULL, NULL);
}
