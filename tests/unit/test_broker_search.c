/*
 * Unit tests for the glob and grep walk, on a real tree in a temporary
 * workspace with a sibling directory that stands for "outside", judged by
 * a real policy with the built-in protected list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/internal.h"
#include "policy/policy.h"
#include "supervisor/broker_search.h"

struct fixture {
	char top[64];
	char ws[128];
	char outside[128];
	struct broker b;
	struct policy p;
	size_t judged;		/* calls of the filter */
};

static char err[1024];

static void put_bytes(const struct fixture *f, const char *name,
		      const char *data, size_t len)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->ws, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void put(const struct fixture *f, const char *name, const char *text)
{
	put_bytes(f, name, text, strlen(text));
}

static void make_dir(const struct fixture *f, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", f->ws, name);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void make_link(const struct fixture *f, const char *target,
		      const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", f->ws, name);
	assert_int_equal(symlink(target, path), 0);
}

/* The filter the session uses, over a policy built like the session's. */
static bool policy_allows(void *ctx, const char *rel)
{
	struct fixture *f = ctx;

	f->judged++;
	return policy_decide_path(&f->p, POLICY_READ, rel).decision ==
	       POLICY_ALLOW;
}

static void build_tree(struct fixture *f)
{
	char line[3100];

	put(f, ".env", "TODO=1\n");
	make_dir(f, ".git");
	put(f, ".git/HEAD", "ref: TODO\n");
	put(f, ".git/config", "TODO\n");
	put(f, "README.md", "Project notes\nTODO: write more\n");
	make_dir(f, "bin");
	put_bytes(f, "bin/blob.bin", "\0\1TODO\n", 7);
	make_dir(f, "certs");
	put(f, "certs/key.pem", "TODO key\n");
	make_dir(f, "docs");
	put(f, "docs/guide.md", "a todo in lower case\n");
	make_link(f, "../outside", "link_out");
	memset(line, 'x', 2000);
	memcpy(line + 2000, "TODO", 4);
	memset(line + 2004, 'y', 1000);
	line[3004] = '\n';
	put_bytes(f, "long.txt", line, 3005);
	make_link(f, "loop_b", "loop_a");
	make_link(f, "loop_a", "loop_b");
	make_dir(f, "private");
	put(f, "private/notes.txt", "TODO private\n");
	make_dir(f, "src");
	put(f, "src/creds.secret", "TODO secret\n");
	make_dir(f, "src/lib");
	put(f, "src/lib/deep.h", "#define TODO_LATER 1\n");
	put(f, "src/main.c", "int main(void)\n{\n\treturn 0; /* TODO */\n}\n");
	put(f, "src/util.c", "int add(int a, int b)\n{\n\treturn a + b;\n}\n");
	make_link(f, "src", "src_link");
	make_dir(f, "vault");
	put(f, "vault/plan.txt", "TODO vault\n");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->top, sizeof(f->top), "/tmp/cw-search-XXXXXX");
	assert_non_null(mkdtemp(f->top));
	snprintf(f->ws, sizeof(f->ws), "%s/ws", f->top);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->top);
	assert_int_equal(mkdir(f->ws, 0755), 0);
	assert_int_equal(mkdir(f->outside, 0755), 0);
	snprintf(err, sizeof(err), "%s/secret.txt", f->outside);
	{
		FILE *fp = fopen(err, "w");

		assert_non_null(fp);
		fputs("TODO outside\n", fp);
		fclose(fp);
	}
	build_tree(f);
	assert_int_equal(broker_open(&f->b, f->ws, err, sizeof(err)), 0);

	policy_init(&f->p);
	assert_int_equal(policy_set_roots(&f->p, f->ws, NULL), 0);
	assert_int_equal(policy_protected_load(&f->p, err, sizeof(err)), 0);
	assert_int_equal(policy_add_rule(&f->p, POLICY_ALLOW, "Read(**)",
					 "test", err, sizeof(err)), 0);
	assert_int_equal(policy_add_rule(&f->p, POLICY_DENY,
					 "Read(private/**)", "test", err,
					 sizeof(err)), 0);
	assert_int_equal(policy_add_rule(&f->p, POLICY_DENY,
					 "Read(**/*.secret)", "test", err,
					 sizeof(err)), 0);
	/* A denied directory is not entered, as list_directory is denied. */
	assert_int_equal(policy_add_rule(&f->p, POLICY_DENY, "Read(vault)",
					 "test", err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	policy_free(&f->p);
	broker_close(&f->b);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->top);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct search_request request(struct fixture *f, const char *root,
				     const char *pattern)
{
	struct search_request q = {
		.root = root,
		.pattern = pattern,
		.may_read = policy_allows,
		.ctx = f,
	};

	return q;
}

/* Run glob or grep and compare the whole output with want. */
static void assert_search(const struct broker *b,
			  const struct search_request *q, bool grep,
			  const char *want, struct search_result *r)
{
	enum broker_status st;

	st = grep ? broker_grep(b, q, r, err, sizeof(err)) :
	     broker_glob(b, q, r, err, sizeof(err));
	if (st != BROKER_OK)
		fail_msg("search for \"%s\" failed: %s", q->pattern, err);
	assert_non_null(r->content);
	assert_string_equal(r->content, want);
}

static void glob_recursive_skips_symlinks(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "**/*.c");
	struct search_result r;

	assert_search(&f->b, &q, false,
		      "src/main.c\n"
		      "src/util.c\n"
		      "[1 directory skipped: the policy does not allow "
		      "reading it]\n", &r);
	assert_int_equal(r.matches, 2);
	assert_int_equal(r.denied, 1);
	assert_int_equal(r.cut, SEARCH_CUT_NONE);
	broker_search_free(&r);
}

static void glob_top_level_marks_types(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "*");
	struct search_result r;

	assert_search(&f->b, &q, false,
		      "README.md\n"
		      "bin/\n"
		      "certs/\n"
		      "docs/\n"
		      "link_out@\n"
		      "long.txt\n"
		      "loop_a@\n"
		      "loop_b@\n"
		      "private/\n"
		      "src/\n"
		      "src_link@\n"
		      "[1 file and 1 directory skipped: the policy does not "
		      "allow reading them]\n", &r);
	broker_search_free(&r);
}

static void glob_globstar_counts_denied_file(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "src/**");
	struct search_result r;

	assert_search(&f->b, &q, false,
		      "src/\n"
		      "src/lib/\n"
		      "src/lib/deep.h\n"
		      "src/main.c\n"
		      "src/util.c\n"
		      "[1 file skipped: the policy does not allow reading "
		      "it]\n", &r);
	broker_search_free(&r);
}

static void glob_under_path_is_workspace_relative(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, "src", "./*.[ch]");
	struct search_result r;

	assert_search(&f->b, &q, false, "src/main.c\nsrc/util.c\n", &r);
	broker_search_free(&r);
}

static void glob_prunes_unrelated_directories(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "docs/*.md");
	struct search_result r;

	assert_search(&f->b, &q, false, "docs/guide.md\n", &r);
	/* docs/ and docs/guide.md only: no other directory was judged. */
	assert_int_equal(f->judged, 2);
	broker_search_free(&r);
}

static void glob_enters_git_only_from_inside(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "**/HEAD");
	struct search_result r;

	assert_search(&f->b, &q, false,
		      "no paths match\n"
		      "[1 directory skipped: the policy does not allow "
		      "reading it]\n", &r);
	broker_search_free(&r);

	q = request(f, ".git", "*");
	assert_search(&f->b, &q, false, ".git/HEAD\n.git/config\n", &r);
	broker_search_free(&r);
}

static void glob_rejects_bad_patterns(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "/etc/*", "../outside/*", "a/../b",
					   ".", "./" };
	struct search_request q;
	struct search_result r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		q = request(f, ".", bad[i]);
		assert_int_equal(broker_glob_check(&q, err, sizeof(err)), -1);
		assert_int_equal(broker_glob(&f->b, &q, &r, err, sizeof(err)),
				 BROKER_FAILED);
		assert_null(r.content);
	}
	q = request(f, "src/main.c", "*");
	assert_int_equal(broker_glob(&f->b, &q, &r, err, sizeof(err)),
			 BROKER_FAILED);
	assert_non_null(strstr(err, "is not a directory"));
}

static void grep_whole_tree(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "TODO");
	struct search_result r;
	char want[2048], excerpt[501];

	memset(excerpt, 'x', 100);
	memcpy(excerpt + 100, "TODO", 4);
	memset(excerpt + 104, 'y', 396);
	excerpt[500] = '\0';
	snprintf(want, sizeof(want),
		 "README.md:2:TODO: write more\n"
		 "long.txt:1:%s [line cut: bytes 1900-2400 of 3004 shown]\n"
		 "src/lib/deep.h:1:#define TODO_LATER 1\n"
		 "src/main.c:3:\treturn 0; /* TODO */\n"
		 "[1 binary file skipped: a NUL byte in the first 8 KiB]\n"
		 "[4 files and 1 directory skipped: the policy does not "
		 "allow reading them]\n", excerpt);
	assert_search(&f->b, &q, true, want, &r);
	assert_int_equal(r.matches, 4);
	assert_int_equal(r.files_searched, 6);
	assert_int_equal(r.binary, 1);
	assert_int_equal(r.denied, 5);
	broker_search_free(&r);
}

static void grep_ignore_case_with_file_glob(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "^a TODO|todo:");
	struct search_result r;

	q.ignore_case = true;
	q.file_glob = "*.md";
	assert_search(&f->b, &q, true,
		      "README.md:2:TODO: write more\n"
		      "docs/guide.md:1:a todo in lower case\n"
		      "[1 directory skipped: the policy does not allow "
		      "reading it]\n", &r);
	assert_int_equal(r.files_searched, 2);
	broker_search_free(&r);

	q.file_glob = "src/*/*.h";
	q.ignore_case = false;
	q.pattern = "TODO";
	assert_search(&f->b, &q, true,
		      "src/lib/deep.h:1:#define TODO_LATER 1\n"
		      "[1 directory skipped: the policy does not allow "
		      "reading it]\n", &r);
	broker_search_free(&r);
}

static void grep_single_file_root(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, "src/main.c", "return|main");
	struct search_result r;

	assert_search(&f->b, &q, true,
		      "src/main.c:1:int main(void)\n"
		      "src/main.c:3:\treturn 0; /* TODO */\n", &r);
	broker_search_free(&r);

	q = request(f, "src/creds.secret", "TODO");
	assert_search(&f->b, &q, true,
		      "no lines match (0 files searched)\n"
		      "[1 file skipped: the policy does not allow reading "
		      "it]\n", &r);
	broker_search_free(&r);
}

static void grep_stops_at_max_results(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "TODO");
	struct search_result r;

	q.max_results = 1;
	assert_search(&f->b, &q, true,
		      "README.md:2:TODO: write more\n"
		      "[1 binary file skipped: a NUL byte in the first 8 KiB]\n"
		      "[2 files skipped: the policy does not allow reading "
		      "them]\n"
		      "[more lines match: results stop at max_results (1); "
		      "use a more specific pattern, a narrower path or glob, "
		      "or raise max_results]\n", &r);
	assert_int_equal(r.cut, SEARCH_CUT_RESULTS);
	assert_string_equal(broker_search_cut_name(r.cut), "results");
	broker_search_free(&r);
}

static void grep_rejects_backreferences(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "(a)\\1");
	struct search_result r;

	assert_int_equal(broker_grep_check(&q, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "back-reference \"\\1\""));
	assert_int_equal(broker_grep(&f->b, &q, &r, err, sizeof(err)),
			 BROKER_FAILED);
	assert_null(r.content);

	q.pattern = "a\\\\1";		/* a backslash, then "1" */
	assert_int_equal(broker_grep_check(&q, err, sizeof(err)), 0);
	q.pattern = "(unclosed";
	assert_int_equal(broker_grep_check(&q, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a valid POSIX extended regular "
				    "expression"));
	q.pattern = "x";
	q.file_glob = "../*.c";
	assert_int_equal(broker_grep_check(&q, err, sizeof(err)), -1);
}

/* A directory of n empty files named f00000, f00001, ... */
static void make_many(const struct fixture *f, const char *dir, size_t n)
{
	char path[512];
	size_t i;
	int fd;

	make_dir(f, dir);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s/f%05zu", f->ws, dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		assert_true(fd >= 0);
		close(fd);
	}
}

static void walk_stops_at_entry_bound(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "many/none*");
	struct search_result r;
	const char *last;

	make_many(f, "many", SEARCH_ENTRIES_MAX);
	assert_search(&f->b, &q, false,
		      "[search stopped after 50000 directory entries, the "
		      "maximum; search a narrower path or start the pattern "
		      "with a directory name]\n", &r);
	assert_int_equal(r.cut, SEARCH_CUT_ENTRIES);
	assert_int_equal(r.entries, SEARCH_ENTRIES_MAX);
	broker_search_free(&r);

	/* Under the bound, the same tree is walked to the end. */
	q = request(f, "many", "f4999?");
	assert_search(&f->b, &q, false, "many/f49990\nmany/f49991\n"
		      "many/f49992\nmany/f49993\nmany/f49994\nmany/f49995\n"
		      "many/f49996\nmany/f49997\nmany/f49998\nmany/f49999\n",
		      &r);
	broker_search_free(&r);

	/* Listing them all would not fit in one reply. */
	q = request(f, "many", "*");
	assert_int_equal(broker_glob(&f->b, &q, &r, err, sizeof(err)),
			 BROKER_OK);
	assert_int_equal(r.cut, SEARCH_CUT_CONTENT);
	assert_true(strlen(r.content) <= SEARCH_CONTENT_MAX);
	last = strstr(r.content, "[output stopped after ");
	assert_non_null(last);
	assert_string_equal(strchr(last, '\n'), "\n");
	broker_search_free(&r);
}

static void grep_output_fits_reply(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "match");
	struct search_result r;
	size_t i, len = 0, size = 10000 * 64;
	char *text = malloc(size);
	const char *last;

	assert_non_null(text);
	for (i = 0; i < 10000; i++)
		len += (size_t)snprintf(text + len, size - len,
					"line %05zu: a match padded to be "
					"long enough to fill\n", i);
	put_bytes(f, "big.log", text, len);
	free(text);

	q.file_glob = "big.log";
	q.max_results = 10000;
	assert_int_equal(broker_grep(&f->b, &q, &r, err, sizeof(err)),
			 BROKER_OK);
	assert_int_equal(r.cut, SEARCH_CUT_CONTENT);
	assert_true(strlen(r.content) <= SEARCH_CONTENT_MAX);
	assert_true(r.matches > 500);
	assert_true(r.matches < 10000);
	assert_true(strncmp(r.content, "big.log:1:line 00000: a match", 29) ==
		    0);
	last = strstr(r.content, "[output stopped after ");
	assert_non_null(last);
	assert_string_equal(strchr(last, '\n'), "\n");
	broker_search_free(&r);
}

static void grep_default_result_bound(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "hit");
	struct search_result r;
	char line[32];
	size_t i;
	FILE *fp;

	snprintf(err, sizeof(err), "%s/hits.txt", f->ws);
	fp = fopen(err, "w");
	assert_non_null(fp);
	for (i = 1; i <= 300; i++)
		fprintf(fp, "hit %zu\n", i);
	fclose(fp);

	q.file_glob = "hits.txt";
	assert_int_equal(broker_grep(&f->b, &q, &r, err, sizeof(err)),
			 BROKER_OK);
	assert_int_equal(r.matches, SEARCH_RESULTS_DEFAULT);
	assert_int_equal(r.cut, SEARCH_CUT_RESULTS);
	snprintf(line, sizeof(line), "hits.txt:200:hit 200\n");
	assert_non_null(strstr(r.content, line));
	assert_null(strstr(r.content, "hits.txt:201:"));
	broker_search_free(&r);
}

static void grep_large_file_and_depth_bounds(void **state)
{
	struct fixture *f = *state;
	struct search_request q = request(f, ".", "needle");
	struct search_result r;
	size_t size = SEARCH_FILE_BYTES_MAX + 4096, i;
	char *data = malloc(size + 16), dir[512];
	int n = 0;

	assert_non_null(data);
	memset(data, 'a', size);
	for (i = 63; i < size; i += 64)
		data[i] = '\n';
	memcpy(data + 20, "needle", 6);
	memcpy(data + SEARCH_FILE_BYTES_MAX + 100, "needle", 6);
	put_bytes(f, "huge.txt", data, size);
	free(data);

	/* A file 66 directories down, so the walk stops above it. */
	for (i = 0; i < SEARCH_DEPTH_MAX + 2; i++) {
		n += snprintf(dir + n, sizeof(dir) - (size_t)n, "%sd",
			      i ? "/" : "");
		make_dir(f, dir);
	}
	snprintf(dir + n, sizeof(dir) - (size_t)n, "/deep.txt");
	put(f, dir, "needle\n");

	assert_search(&f->b, &q, true,
		      "huge.txt:1:aaaaaaaaaaaaaaaaaaaaneedleaaaaaaaaaaaaaaaaaaaaa"
		      "aaaaaaaaaaaaaaaa\n"
		      "[1 binary file skipped: a NUL byte in the first 8 KiB]\n"
		      "[1 file larger than 4 MiB: only the first 4 MiB of "
		      "each were searched]\n"
		      "[1 directory more than 64 levels beneath the search "
		      "path not entered]\n"
		      "[4 files and 1 directory skipped: the policy does not "
		      "allow reading them]\n", &r);
	broker_search_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(glob_recursive_skips_symlinks,
						setup, teardown),
		cmocka_unit_test_setup_teardown(glob_top_level_marks_types,
						setup, teardown),
		cmocka_unit_test_setup_teardown(glob_globstar_counts_denied_file,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			glob_under_path_is_workspace_relative, setup, teardown),
		cmocka_unit_test_setup_teardown(glob_prunes_unrelated_directories,
						setup, teardown),
		cmocka_unit_test_setup_teardown(glob_enters_git_only_from_inside,
						setup, teardown),
		cmocka_unit_test_setup_teardown(glob_rejects_bad_patterns,
						setup, teardown),
		cmocka_unit_test_setup_teardown(grep_whole_tree, setup,
						teardown),
		cmocka_unit_test_setup_teardown(grep_ignore_case_with_file_glob,
						setup, teardown),
		cmocka_unit_test_setup_teardown(grep_single_file_root, setup,
						teardown),
		cmocka_unit_test_setup_teardown(grep_stops_at_max_results,
						setup, teardown),
		cmocka_unit_test_setup_teardown(grep_rejects_backreferences,
						setup, teardown),
		cmocka_unit_test_setup_teardown(walk_stops_at_entry_bound,
						setup, teardown),
		cmocka_unit_test_setup_teardown(grep_output_fits_reply, setup,
						teardown),
		cmocka_unit_test_setup_teardown(grep_default_result_bound,
						setup, teardown),
		cmocka_unit_test_setup_teardown(grep_large_file_and_depth_bounds,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
