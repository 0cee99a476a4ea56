/*
 * Unit tests for judging paths through the broker: roots outside the
 * workspace and hardlinks of denied files (test_broker_casefold covers
 * case-insensitive directories).
 * Everything happens in a directory the test makes, with a "home" inside
 * it standing in for the user's home directory.
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

#include "supervisor/broker.h"

struct fixture {
	char top[64];
	char ws[128];
	char home[128];
	char data[128];		/* outside the workspace, named by rules */
	char other[128];	/* outside, named by no rule */
	struct broker b;
	struct policy p;
	bool loaded;
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

static void make_dir(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void make_link(const char *from_dir, const char *from,
		      const char *to_dir, const char *to)
{
	char a[512], b[512];

	snprintf(a, sizeof(a), "%s/%s", from_dir, from);
	snprintf(b, sizeof(b), "%s/%s", to_dir, to);
	assert_int_equal(link(a, b), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->b.root_fd = -1;
	snprintf(f->top, sizeof(f->top), "/tmp/cw-judge-XXXXXX");
	assert_non_null(mkdtemp(f->top));
	snprintf(f->ws, sizeof(f->ws), "%s/ws", f->top);
	snprintf(f->home, sizeof(f->home), "%s/home", f->top);
	snprintf(f->data, sizeof(f->data), "%s/data", f->top);
	snprintf(f->other, sizeof(f->other), "%s/other", f->top);
	assert_int_equal(mkdir(f->ws, 0755), 0);
	assert_int_equal(mkdir(f->home, 0755), 0);
	assert_int_equal(mkdir(f->data, 0755), 0);
	assert_int_equal(mkdir(f->other, 0755), 0);
	make_dir(f->home, ".ssh");
	make_dir(f->home, "notes");
	make_dir(f->ws, "src");
	put(f->home, ".ssh/id_ed25519", "private key\n");
	put(f->home, "notes/todo.md", "buy milk\n");
	put(f->home, "notes/private.md", "diary\n");
	put(f->data, "a.csv", "1,2\n");
	put(f->data, "b.txt", "text\n");
	put(f->other, "x.txt", "other\n");
	put(f->ws, ".env", "TOKEN=abc\n");
	put(f->ws, "src/main.c", "int main;\n");
	put(f->ws, "secret.db", "rows\n");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	broker_close(&f->b);
	if (f->loaded)
		policy_free(&f->p);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->top);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", f->top);
	free(f);
	return 0;
}

/* Load the policy from rule lists and open the broker with its roots. */
static void load(struct fixture *f, const char *const *allow,
		 const char *const *deny)
{
	struct policy_layers l;

	memset(&l, 0, sizeof(l));
	l.no_user_file = true;
	l.config_dir = f->top;
	l.workspace = f->ws;
	l.home = f->home;
	l.allow = allow;
	l.deny = deny;
	policy_init(&f->p);
	assert_int_equal(policy_load_layers(&f->p, &l, err, sizeof(err)), 0);
	f->loaded = true;
	assert_int_equal(broker_open(&f->b, f->ws, err, sizeof(err)), 0);
	assert_int_equal(broker_add_roots(&f->b, &f->p, err, sizeof(err)), 0);
}

/* Normalise, resolve and decide path as a session does. */
static struct policy_verdict judge(struct fixture *f, enum policy_tool tool,
				   const char *path, enum broker_status *st)
{
	char rel[BROKER_PATH_MAX], real[BROKER_PATH_MAX];
	struct policy_verdict none = { POLICY_DENY, NULL, NULL };

	*st = broker_normalize(&f->b, path, rel, sizeof(rel), err,
			       sizeof(err));
	if (*st == BROKER_OK)
		*st = broker_resolve(&f->b, rel, real, sizeof(real), err,
				     sizeof(err));
	if (*st == BROKER_NOT_FOUND) {
		snprintf(real, sizeof(real), "%s", rel);
		*st = BROKER_OK;
	}
	if (*st != BROKER_OK)
		return none;
	return broker_decide(&f->b, &f->p, tool, rel, real);
}

static enum policy_decision decide(struct fixture *f, enum policy_tool tool,
				   const char *path)
{
	enum broker_status st;
	struct policy_verdict v = judge(f, tool, path, &st);

	return st == BROKER_OK ? v.decision : POLICY_DENY;
}

static void root_read_allowed_beneath(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read(~/notes/*.md)", NULL };
	const char *deny[] = { "Read(~/notes/private.md)", NULL };
	char rel[BROKER_PATH_MAX], path[512];
	int fd;

	load(f, allow, deny);
	assert_int_equal(f->b.nroots, 1);
	assert_int_equal(decide(f, POLICY_READ, "~/notes/todo.md"),
			 POLICY_ALLOW);
	snprintf(path, sizeof(path), "%s/notes/todo.md", f->home);
	assert_int_equal(decide(f, POLICY_READ, path), POLICY_ALLOW);

	assert_int_equal(broker_normalize(&f->b, "~/notes/todo.md", rel,
					  sizeof(rel), err, sizeof(err)),
			 BROKER_OK);
	assert_string_equal(rel, path);
	assert_int_equal(broker_read(&f->b, rel, &fd, err, sizeof(err)),
			 BROKER_OK);
	close(fd);
}

/*
 * Without a rule that makes the home a root, "~/" still means the home
 * directory: outside the workspace, not a folder named "~" inside it.
 */
static void home_path_without_root_outside(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read(src/**)", NULL };
	char rel[BROKER_PATH_MAX];

	load(f, allow, NULL);
	assert_int_equal(broker_normalize(&f->b, "~/.ssh/id_rsa", rel,
					  sizeof(rel), err, sizeof(err)),
			 BROKER_OUTSIDE);
	assert_non_null(strstr(err, "\"~/.ssh/id_rsa\" is in the home "
				    "directory, outside the workspace"));
	assert_int_equal(broker_normalize(&f->b, "~", rel, sizeof(rel), err,
					  sizeof(err)), BROKER_OUTSIDE);
}

static void root_deny_entry_wins(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read(~/notes/*.md)", NULL };
	const char *deny[] = { "Read(~/notes/private.md)", NULL };

	load(f, allow, deny);
	assert_int_equal(decide(f, POLICY_READ, "~/notes/private.md"),
			 POLICY_DENY);
}

static void root_unnamed_path_denied(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read(~/notes/*.md)", NULL };
	enum broker_status st;
	struct policy_verdict v;
	char path[512];

	load(f, allow, NULL);
	put(f->home, "notes/list.txt", "list\n");
	v = judge(f, POLICY_READ, "~/notes/list.txt", &st);
	assert_int_equal(st, BROKER_OK);
	assert_int_equal(v.decision, POLICY_DENY);
	assert_null(v.rule);
	assert_non_null(strstr(v.reason, "outside the workspace"));

	snprintf(path, sizeof(path), "%s/x.txt", f->other);
	judge(f, POLICY_READ, path, &st);
	assert_int_equal(st, BROKER_OUTSIDE);
	judge(f, POLICY_READ, "~/notes/../../other/x.txt", &st);
	assert_int_equal(st, BROKER_OUTSIDE);
}

static void root_symlink_out_stays_beneath(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read(~/notes/**)", NULL };
	char target[512], linkpath[512];
	enum broker_status st;

	snprintf(target, sizeof(target), "%s/x.txt", f->other);
	snprintf(linkpath, sizeof(linkpath), "%s/notes/escape.md", f->home);
	assert_int_equal(symlink(target, linkpath), 0);
	load(f, allow, NULL);
	judge(f, POLICY_READ, "~/notes/escape.md", &st);
	assert_int_equal(st, BROKER_OUTSIDE);
}

static void root_protected_entry_wins(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read(~/**)", NULL };

	load(f, allow, NULL);
	assert_int_equal(decide(f, POLICY_READ, "~/notes/todo.md"),
			 POLICY_ALLOW);
	assert_int_equal(decide(f, POLICY_READ, "~/.ssh/id_ed25519"),
			 POLICY_DENY);
}

static void root_write_creates_beneath(void **state)
{
	struct fixture *f = *state;
	char rule[256], path[512], rel[BROKER_PATH_MAX];
	const char *allow[] = { rule, NULL };
	struct stat st;

	snprintf(rule, sizeof(rule), "Write(%s/out/**)", f->data);
	make_dir(f->data, "out");
	load(f, allow, NULL);
	snprintf(path, sizeof(path), "%s/out/new/r.txt", f->data);
	assert_int_equal(decide(f, POLICY_WRITE, path), POLICY_ALLOW);
	assert_int_equal(broker_normalize(&f->b, path, rel, sizeof(rel), err,
					  sizeof(err)), BROKER_OK);
	assert_int_equal(broker_write_bytes(&f->b, rel, "ok\n", 3, err,
					    sizeof(err)), BROKER_OK);
	assert_int_equal(stat(path, &st), 0);

	snprintf(path, sizeof(path), "%s/b.txt", f->data);
	assert_int_equal(decide(f, POLICY_WRITE, path), POLICY_DENY);
}

static void root_glob_start_opens_parent(void **state)
{
	struct fixture *f = *state;
	char rule[256], path[512];
	const char *allow[] = { rule, NULL };

	snprintf(rule, sizeof(rule), "Read(%s/*.csv)", f->data);
	load(f, allow, NULL);
	assert_int_equal(f->b.nroots, 1);
	assert_string_equal(f->b.roots[0].path, f->data);
	snprintf(path, sizeof(path), "%s/a.csv", f->data);
	assert_int_equal(decide(f, POLICY_READ, path), POLICY_ALLOW);
	snprintf(path, sizeof(path), "%s/b.txt", f->data);
	assert_int_equal(decide(f, POLICY_READ, path), POLICY_DENY);
}

static void hardlink_to_env_gets_secret_decision(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read", "Write", NULL };
	enum broker_status st;
	struct policy_verdict v;

	make_link(f->ws, ".env", f->ws, "notes.txt");
	load(f, allow, NULL);
	v = judge(f, POLICY_READ, "notes.txt", &st);
	assert_int_equal(st, BROKER_OK);
	assert_int_equal(v.decision, POLICY_DENY);
	assert_non_null(v.rule);
	assert_string_equal(v.rule->text, "**/.env");
	assert_int_equal(decide(f, POLICY_WRITE, "notes.txt"), POLICY_DENY);
	assert_int_equal(decide(f, POLICY_READ, "src/main.c"), POLICY_ALLOW);
}

static void hardlink_to_home_secret_denied(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read", NULL };
	char ssh[256];

	snprintf(ssh, sizeof(ssh), "%s/.ssh", f->home);
	make_link(ssh, "id_ed25519", f->ws, "key.txt");
	load(f, allow, NULL);
	assert_int_equal(decide(f, POLICY_READ, "key.txt"), POLICY_DENY);
}

static void hardlink_to_denied_glob_denied(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read", NULL };
	const char *deny[] = { "Read(*.db)", NULL };

	make_link(f->ws, "secret.db", f->ws, "src/copy.c");
	load(f, allow, deny);
	assert_int_equal(decide(f, POLICY_READ, "src/copy.c"), POLICY_DENY);
}

static void hardlink_write_asks(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read", "Write", NULL };
	enum broker_status st;
	struct policy_verdict v;

	make_link(f->ws, "src/main.c", f->ws, "main2.c");
	load(f, allow, NULL);
	v = judge(f, POLICY_WRITE, "main2.c", &st);
	assert_int_equal(v.decision, POLICY_ASK);
	assert_non_null(strstr(v.reason, "has 2 links; a write would change "
			       "the other names too"));
	assert_int_equal(decide(f, POLICY_READ, "main2.c"), POLICY_ALLOW);
	assert_int_equal(decide(f, POLICY_WRITE, "src/other.c"), POLICY_ALLOW);
}

static void hardlink_made_later_found_after_forget(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read", "Write", NULL };

	make_link(f->ws, "src/main.c", f->ws, "main2.c");
	load(f, allow, NULL);
	/* The first multiply linked file fills the cache. */
	assert_int_equal(decide(f, POLICY_READ, "main2.c"), POLICY_ALLOW);
	make_link(f->ws, ".env", f->ws, "later.txt");
	broker_forget(&f->b);
	assert_int_equal(decide(f, POLICY_READ, "later.txt"), POLICY_DENY);
}

static void hardlink_to_git_config_write_denied(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read", "Write", NULL };
	enum broker_status st;
	struct policy_verdict v;

	make_dir(f->ws, ".git");
	put(f->ws, ".git/config", "[core]\n");
	make_link(f->ws, ".git/config", f->ws, "cfg.txt");
	load(f, allow, NULL);
	v = judge(f, POLICY_WRITE, "cfg.txt", &st);
	assert_int_equal(v.decision, POLICY_DENY);
	assert_non_null(strstr(v.reason, "never writes"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(root_read_allowed_beneath,
						setup, teardown),
		cmocka_unit_test_setup_teardown(home_path_without_root_outside, setup,
						teardown),
		cmocka_unit_test_setup_teardown(root_deny_entry_wins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(root_unnamed_path_denied, setup,
						teardown),
		cmocka_unit_test_setup_teardown(root_symlink_out_stays_beneath,
						setup, teardown),
		cmocka_unit_test_setup_teardown(root_protected_entry_wins,
						setup, teardown),
		cmocka_unit_test_setup_teardown(root_write_creates_beneath,
						setup, teardown),
		cmocka_unit_test_setup_teardown(root_glob_start_opens_parent,
						setup, teardown),
		cmocka_unit_test_setup_teardown(hardlink_to_env_gets_secret_decision,
						setup, teardown),
		cmocka_unit_test_setup_teardown(hardlink_to_home_secret_denied,
						setup, teardown),
		cmocka_unit_test_setup_teardown(hardlink_to_denied_glob_denied,
						setup, teardown),
		cmocka_unit_test_setup_teardown(hardlink_write_asks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(hardlink_made_later_found_after_forget,
						setup, teardown),
		cmocka_unit_test_setup_teardown(hardlink_to_git_config_write_denied,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("broker_judge", tests, NULL, NULL);
}
