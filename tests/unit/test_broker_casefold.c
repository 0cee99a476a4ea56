/*
 * Case-insensitive directories through the broker, on a real filesystem:
 * an ext4 image made with the casefold feature, loop-mounted as the
 * workspace, with one directory marked case-insensitive (chattr +F). On
 * such a directory ".ENV" opens ".env", so the protected list must match
 * it. Needs root and a kernel with ext4 casefold support; without them
 * the whole file is a visible skip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/broker.h"

struct fixture {
	char top[64];
	char ws[128];
	char home[128];
	bool mounted;
	struct broker b;
	struct policy p;
	bool loaded;
};

static char err[1024];

/* Run a shell command line; its exit status, or -1. */
static int run(const char *cmd)
{
	int rc = system(cmd);

	return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

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

/* Mark the empty directory path case-insensitive. */
static int set_casefold(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY), flags = 0, rc = -1;

	if (fd < 0)
		return -1;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags |= FS_CASEFOLD_FL;
		rc = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return rc;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	broker_close(&f->b);
	if (f->loaded)
		policy_free(&f->p);
	/* mount -o loop sets autoclear, so the loop device goes with it. */
	if (f->mounted && umount2(f->ws, MNT_DETACH) != 0)
		fprintf(stderr, "# umount %s: %s\n", f->ws, strerror(errno));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->top);
	if (run(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", f->top);
	free(f);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char cmd[512], dir[256];

	f->b.root_fd = -1;
	*state = f;
	snprintf(f->top, sizeof(f->top), "/tmp/cw-casefold-XXXXXX");
	if (!mkdtemp(f->top))
		return -1;
	snprintf(f->ws, sizeof(f->ws), "%s/ws", f->top);
	snprintf(f->home, sizeof(f->home), "%s/home", f->top);
	if (mkdir(f->ws, 0755) < 0 || mkdir(f->home, 0755) < 0)
		goto fail;
	snprintf(cmd, sizeof(cmd), "truncate -s 16M '%s/img' && mkfs.ext4 -q "
		 "-O casefold '%s/img' && mount -o loop '%s/img' '%s'",
		 f->top, f->top, f->top, f->ws);
	if (run(cmd) != 0)
		goto fail;
	f->mounted = true;
	snprintf(dir, sizeof(dir), "%s/ci", f->ws);
	if (mkdir(dir, 0755) < 0 || set_casefold(dir) < 0)
		goto fail;
	put(dir, ".env", "TOKEN=abc\n");
	put(dir, "ok.txt", "fine\n");
	snprintf(dir, sizeof(dir), "%s/plain", f->ws);
	if (mkdir(dir, 0755) < 0)
		goto fail;
	put(dir, "Notes.txt", "case matters here\n");
	return 0;
fail:
	teardown(state);
	return -1;
}

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
}

static enum policy_decision decide(struct fixture *f, enum policy_tool tool,
				   const char *path)
{
	char rel[BROKER_PATH_MAX], real[BROKER_PATH_MAX];
	enum broker_status st;

	st = broker_normalize(&f->b, path, rel, sizeof(rel), err, sizeof(err));
	assert_int_equal(st, BROKER_OK);
	st = broker_resolve(&f->b, rel, real, sizeof(real), err, sizeof(err));
	if (st == BROKER_NOT_FOUND)
		snprintf(real, sizeof(real), "%s", rel);
	else
		assert_int_equal(st, BROKER_OK);
	return broker_decide(&f->b, &f->p, tool, rel, real).decision;
}

static void casefold_protected_env_other_case(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read", "Write", NULL };

	load(f, allow, NULL);
	assert_int_equal(decide(f, POLICY_READ, "ci/.env"), POLICY_DENY);
	assert_int_equal(decide(f, POLICY_READ, "ci/.ENV"), POLICY_DENY);
	assert_int_equal(decide(f, POLICY_WRITE, "ci/.Env"), POLICY_DENY);
	assert_int_equal(decide(f, POLICY_READ, "ci/OK.TXT"), POLICY_ALLOW);
}

static void casefold_deny_rule_other_case(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read", NULL };
	const char *deny[] = { "Read(ci/ok.txt)", NULL };

	load(f, allow, deny);
	assert_int_equal(decide(f, POLICY_READ, "ci/OK.txt"), POLICY_DENY);
	assert_int_equal(decide(f, POLICY_READ, "CI/ok.txt"), POLICY_DENY);
}

static void casefold_allow_rule_stays_exact(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read(ci/ok.txt)", NULL };

	load(f, allow, NULL);
	assert_int_equal(decide(f, POLICY_READ, "ci/ok.txt"), POLICY_ALLOW);
	assert_int_equal(decide(f, POLICY_READ, "ci/OK.TXT"), POLICY_ASK);
}

static void casefold_plain_dir_compares_exactly(void **state)
{
	struct fixture *f = *state;
	const char *allow[] = { "Read", NULL };
	const char *deny[] = { "Read(plain/notes.txt)", NULL };

	load(f, allow, deny);
	assert_int_equal(decide(f, POLICY_READ, "plain/Notes.txt"),
			 POLICY_ALLOW);
}

/* Why this machine cannot run the tests, or NULL. */
static const char *cannot_run(void)
{
	if (geteuid() != 0)
		return "needs root to loop-mount an ext4 image";
	if (access("/sys/fs/ext4/features/casefold", F_OK) != 0)
		return "the kernel's ext4 has no casefold support";
	if (run("command -v mkfs.ext4 >/dev/null") != 0)
		return "mkfs.ext4 not found";
	return NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(casefold_protected_env_other_case,
						setup, teardown),
		cmocka_unit_test_setup_teardown(casefold_deny_rule_other_case,
						setup, teardown),
		cmocka_unit_test_setup_teardown(casefold_allow_rule_stays_exact,
						setup, teardown),
		cmocka_unit_test_setup_teardown(casefold_plain_dir_compares_exactly,
						setup, teardown),
	};
	const char *why = cannot_run();

	if (why) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	return cmocka_run_group_tests_name("broker_casefold", tests, NULL, NULL);
}
