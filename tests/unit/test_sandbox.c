/*
 * Unit tests for the command sandbox. Every test runs real commands under
 * bash in real namespaces, on a workspace in its own mkdtemp directory.
 * A sibling "outside" directory is the rest of the machine.
 */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include "supervisor/sandbox.h"
#include "supervisor/sandbox_internal.h"

#define TEST_USER "cwtest"
#define OUTPUT_MAX (1024 * 1024)

struct fixture {
	char base[4096];
	char ws[4200];
	char outside[4200];
	const char *protected_paths[4];
	struct sandbox_opts opts;
	struct sandbox_result result;
	char err[1024];
	char *output;
};

/*
 * Make the base directory in parent. The sandbox masks /tmp, so a sibling
 * "outside" directory under /tmp would be hidden rather than read-only;
 * most tests therefore work beside the test binary.
 */
static int setup_in(void **state, const char *parent)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->base, sizeof(fx->base), "%s/coworker-sandbox-XXXXXX",
		 parent);
	if (!mkdtemp(fx->base)) {
		free(fx);
		return -1;
	}
	snprintf(fx->ws, sizeof(fx->ws), "%s/ws", fx->base);
	snprintf(fx->outside, sizeof(fx->outside), "%s/outside", fx->base);
	/* The sandbox uid of a root caller must reach the workspace. */
	if (chmod(fx->base, 0755) < 0 || mkdir(fx->ws, 0755) < 0 ||
	    mkdir(fx->outside, 0755) < 0)
		return -1;

	fx->protected_paths[0] = ".coworker";
	fx->protected_paths[1] = ".git/hooks";
	fx->protected_paths[2] = ".git/config";
	fx->protected_paths[3] = NULL;

	fx->opts.workspace = fx->ws;
	fx->opts.timeout_ms = 60000;
	fx->opts.output_cap = OUTPUT_MAX;
	fx->opts.network = false;
	fx->opts.protected_paths = fx->protected_paths;
	fx->result.output_fd = -1;
	*state = fx;
	return 0;
}

static bool under_masked_path(const char *path)
{
	static const char *const masked[] = {
		"/tmp", "/var/tmp", "/run", "/var/run", "/dev/shm", NULL,
	};
	const char *const *m;
	size_t len;

	for (m = masked; *m; m++) {
		len = strlen(*m);
		if (strncmp(path, *m, len) == 0 &&
		    (path[len] == '/' || path[len] == '\0'))
			return true;
	}
	return false;
}

static int setup(void **state)
{
	char exe[4096];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (len <= 0)
		return -1;
	exe[len] = '\0';
	slash = strrchr(exe, '/');
	if (!slash || slash == exe)
		return -1;
	*slash = '\0';

	/*
	 * A checkout under a path the sandbox masks (a CI clone in /tmp, say)
	 * would hide "outside" instead of showing it read-only, so the tests
	 * move to a directory the sandbox leaves visible.
	 */
	if (under_masked_path(exe))
		return setup_in(state, access("/var/lib", W_OK) == 0 ? "/var/lib" :
				getenv("HOME") ? getenv("HOME") : "/");
	return setup_in(state, exe);
}

static int setup_tmp(void **state)
{
	return setup_in(state, "/tmp");
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	nftw(fx->base, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (fx->result.output_fd >= 0)
		close(fx->result.output_fd);
	free(fx->output);
	free(fx);
	return 0;
}

static bool have_bash(void)
{
	return access("/bin/bash", X_OK) == 0 ||
	       access("/usr/bin/bash", X_OK) == 0;
}

/* Read the whole memfd into a NUL-terminated string. */
static char *read_fd(int fd)
{
	char *buf = malloc(OUTPUT_MAX + 1);
	size_t len = 0;
	ssize_t n;

	assert_non_null(buf);
	while (len < OUTPUT_MAX &&
	       (n = read(fd, buf + len, OUTPUT_MAX - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

/*
 * Run command in the fixture's sandbox and keep its output. A kernel
 * without user namespaces is a visible skip, every other failure fails.
 */
static void run(struct fixture *fx, const char *command)
{
	int rc;

	if (!have_bash()) {
		print_message("# bash not found at /bin/bash or /usr/bin/bash\n");
		skip();
	}

	if (fx->result.output_fd >= 0)
		close(fx->result.output_fd);
	free(fx->output);
	fx->output = NULL;

	rc = sandbox_run(&fx->opts, command, &fx->result, fx->err,
			 sizeof(fx->err));
	if (rc < 0 && strstr(fx->err, "cannot create a user namespace")) {
		print_message("# %s\n", fx->err);
		skip();
	}
	if (rc < 0)
		fail_msg("sandbox_run failed: %s", fx->err);
	assert_true(fx->result.output_fd >= 0);
	fx->output = read_fd(fx->result.output_fd);
}

static void path_in(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void test_exit_code_passes_through(void **state)
{
	struct fixture *fx = *state;

	run(fx, "exit 7");
	assert_int_equal(fx->result.exit_code, 7);
	assert_int_equal(fx->result.signal, 0);
	assert_false(fx->result.timed_out);

	run(fx, "true");
	assert_int_equal(fx->result.exit_code, 0);
}

static void test_signal_reported(void **state)
{
	struct fixture *fx = *state;

	run(fx, "kill -TERM $$");
	assert_int_equal(fx->result.exit_code, -1);
	assert_int_equal(fx->result.signal, SIGTERM);
	assert_false(fx->result.timed_out);
}

static void libcrypto_sha256_hex(const char *data, size_t len, char *hex)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	int i;

	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL), 1);
	assert_int_equal(mdlen, 32);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void test_output_captured_with_sha256(void **state)
{
	const int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
			  F_SEAL_SEAL;
	struct fixture *fx = *state;
	char hex[65];

	run(fx, "printf 'hello\\n'; printf 'to stderr\\n' >&2");
	assert_string_equal(fx->output, "hello\nto stderr\n");
	assert_int_equal(fx->result.output_bytes, strlen(fx->output));
	assert_false(fx->result.truncated);

	libcrypto_sha256_hex(fx->output, strlen(fx->output), hex);
	assert_string_equal(fx->result.output_sha256, hex);

	assert_int_equal(fcntl(fx->result.output_fd, F_GET_SEALS) & seals, seals);
	assert_int_equal(write(fx->result.output_fd, "x", 1), -1);
	assert_int_equal(errno, EPERM);
}

static void test_output_cap_truncates(void **state)
{
	struct fixture *fx = *state;
	char hex[65];
	struct stat st;

	fx->opts.output_cap = 1000;
	run(fx, "head -c 100000 /dev/zero | tr '\\0' a");
	assert_int_equal(fx->result.exit_code, 0);
	assert_int_equal(fx->result.output_bytes, 100000);
	assert_true(fx->result.truncated);

	assert_int_equal(fstat(fx->result.output_fd, &st), 0);
	assert_int_equal(st.st_size, 1000);
	assert_int_equal(strlen(fx->output), 1000);
	libcrypto_sha256_hex(fx->output, 1000, hex);
	assert_string_equal(fx->result.output_sha256, hex);
}

/*
 * The background processes would write their files 2 s after starting;
 * the test waits 3 s after sandbox_run returns and expects none of them.
 */
static void test_timeout_kills_whole_tree(void **state)
{
	struct fixture *fx = *state;
	char path[4300];

	fx->opts.timeout_ms = 1000;
	run(fx, "(sleep 2; echo survived > late1) & "
		"bash -c '(sleep 2; echo survived > late2) & sleep 1000' & "
		"setsid bash -c 'sleep 2; echo survived > late3' & "
		"echo started > started; sleep 1000");
	assert_true(fx->result.timed_out);
	assert_int_equal(fx->result.signal, SIGKILL);
	assert_int_equal(fx->result.exit_code, -1);

	path_in(path, sizeof(path), fx->ws, "started");
	assert_true(exists(path));

	sleep(3);
	path_in(path, sizeof(path), fx->ws, "late1");
	assert_false(exists(path));
	path_in(path, sizeof(path), fx->ws, "late2");
	assert_false(exists(path));
	path_in(path, sizeof(path), fx->ws, "late3");
	assert_false(exists(path));
}

/*
 * A background process keeps the output pipe open after bash exits; the
 * run must end with bash, not at the timeout.
 */
static void test_background_holder_does_not_hang(void **state)
{
	struct fixture *fx = *state;

	fx->opts.timeout_ms = 600000;
	run(fx, "sleep 1000 & echo started; exit 3");
	assert_false(fx->result.timed_out);
	assert_int_equal(fx->result.exit_code, 3);
	assert_string_equal(fx->output, "started\n");
}

/*
 * sandbox_run returns before pid 1 has finished exiting, but only once
 * every process the command started is gone: a background job that
 * would write a file a moment later never does.
 */
static void test_background_gone_on_return(void **state)
{
	struct fixture *fx = *state;
	char path[4300];

	run(fx, "(sleep 0.3; echo late > late) & exit 0");
	assert_int_equal(fx->result.exit_code, 0);
	usleep(600 * 1000);
	path_in(path, sizeof(path), fx->ws, "late");
	assert_false(exists(path));
}

/*
 * Output without end is read only so far past the cap: then the pipe is
 * closed and the writer gets EPIPE, well before the timeout.
 */
static void test_endless_output_stopped(void **state)
{
	struct fixture *fx = *state;

	fx->opts.timeout_ms = 600000;
	run(fx, "yes");
	assert_false(fx->result.timed_out);
	assert_true(fx->result.truncated);
	assert_true(fx->result.output_bytes > SANDBOX_OUTPUT_SURPLUS_MAX);
	assert_int_equal(fx->result.signal, SIGPIPE);
}

/*
 * Renames and hard links across directories work in the workspace and in
 * /tmp: a Landlock domain that left REFER unhandled would refuse them
 * with EXDEV, which mv hides by copying but git mv, ln and pip do not.
 */
static void test_rename_across_directories(void **state)
{
	struct fixture *fx = *state;

	run(fx, "mkdir -p a b /tmp/a /tmp/b && touch a/f a/g /tmp/a/f && "
	    "ln a/g b/g && echo linked && "
	    "python3 -c 'import os; os.rename(\"a/f\", \"b/f\"); "
	    "os.rename(\"/tmp/a/f\", \"/tmp/b/f\")' && echo renamed");
	assert_int_equal(fx->result.exit_code, 0);
	assert_string_equal(fx->output, "linked\nrenamed\n");
}

/*
 * What the user's policy file unprotects stays unmasked (a committed
 * .env of a Vite project), while the other secrets stay masked.
 */
static void test_unprotected_env_not_masked(void **state)
{
	static const char *const unmasked[] = { "**/.env", NULL };
	struct fixture *fx = *state;
	char path[4300];

	path_in(path, sizeof(path), fx->ws, ".env");
	write_file(path, "PLAIN=1\n");
	path_in(path, sizeof(path), fx->ws, ".env.local");
	write_file(path, "SECRET=1\n");
	fx->opts.unmasked = unmasked;
	run(fx, "cat .env .env.local");
	assert_int_equal(fx->result.exit_code, 0);
	assert_string_equal(fx->output, "PLAIN=1\n");
}

/* Scripts write to /dev/stderr, which opens the output pipe again. */
static void test_dev_stdout_stderr_open(void **state)
{
	struct fixture *fx = *state;

	run(fx, "echo one > /dev/stdout && echo two > /dev/stderr");
	assert_int_equal(fx->result.exit_code, 0);
	assert_string_equal(fx->output, "one\ntwo\n");
}

/* The placeholders of the last command go with sandbox_reap. */
static void test_reap_releases_placeholders(void **state)
{
	struct fixture *fx = *state;
	char path[4300];

	run(fx, "test -d .coworker && test -d .git");
	assert_int_equal(fx->result.exit_code, 0);
	sandbox_reap(true);
	path_in(path, sizeof(path), fx->ws, ".coworker");
	assert_false(exists(path));
	path_in(path, sizeof(path), fx->ws, ".git");
	assert_false(exists(path));
}

static void test_writes_confined_to_workspace(void **state)
{
	struct fixture *fx = *state;
	char command[9000], path[4300];
	FILE *f;
	char line[16] = "";

	snprintf(command, sizeof(command),
		 "echo in > inside.txt; echo out > %s/escaped.txt", fx->outside);
	run(fx, command);
	assert_non_null(strstr(fx->output, "Read-only file system"));

	path_in(path, sizeof(path), fx->ws, "inside.txt");
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "in\n");

	path_in(path, sizeof(path), fx->outside, "escaped.txt");
	assert_false(exists(path));
}

static void test_root_fs_read_only(void **state)
{
	struct fixture *fx = *state;
	char command[9000];

	snprintf(command, sizeof(command), "touch %s/f", fx->outside);
	run(fx, command);
	assert_int_equal(fx->result.exit_code, 1);
	assert_non_null(strstr(fx->output, "Read-only file system"));
}

static void make_repo(struct fixture *fx)
{
	char path[4300];

	path_in(path, sizeof(path), fx->ws, ".coworker");
	assert_int_equal(mkdir(path, 0755), 0);
	path_in(path, sizeof(path), fx->ws, ".coworker/policy.json");
	write_file(path, "{}\n");
	path_in(path, sizeof(path), fx->ws, ".git");
	assert_int_equal(mkdir(path, 0755), 0);
	path_in(path, sizeof(path), fx->ws, ".git/hooks");
	assert_int_equal(mkdir(path, 0755), 0);
	path_in(path, sizeof(path), fx->ws, ".git/objects");
	assert_int_equal(mkdir(path, 0755), 0);
}

static void test_protected_paths_read_only(void **state)
{
	struct fixture *fx = *state;
	char path[4300], line[16] = "";
	FILE *f;

	make_repo(fx);
	run(fx, "echo changed > .coworker/policy.json; "
		"rm -f .coworker/policy.json; "
		"touch .git/hooks/pre-commit; "
		"umount .coworker; umount .git/hooks; "
		"mv .git/hooks .git/hooks.old; "
		"touch .git/objects/ok; echo done");
	assert_non_null(strstr(fx->output, "Read-only file system"));
	assert_non_null(strstr(fx->output, "done\n"));

	path_in(path, sizeof(path), fx->ws, ".coworker/policy.json");
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "{}\n");

	path_in(path, sizeof(path), fx->ws, ".git/hooks/pre-commit");
	assert_false(exists(path));
	path_in(path, sizeof(path), fx->ws, ".git/hooks.old");
	assert_false(exists(path));
	path_in(path, sizeof(path), fx->ws, ".git/objects/ok");
	assert_true(exists(path));
}

static void test_protected_symlink_rejected(void **state)
{
	struct fixture *fx = *state;
	char path[4300];
	int rc;

	if (!have_bash())
		skip();
	path_in(path, sizeof(path), fx->ws, ".coworker");
	assert_int_equal(symlink("../outside", path), 0);

	rc = sandbox_run(&fx->opts, "true", &fx->result, fx->err,
			 sizeof(fx->err));
	if (rc < 0 && strstr(fx->err, "cannot create a user namespace"))
		skip();
	assert_int_equal(rc, -1);
	assert_non_null(strstr(fx->err, "symbolic link"));
	assert_int_equal(fx->result.output_fd, -1);
}

static void test_tmp_and_run_private(void **state)
{
	struct fixture *fx = *state;
	char command[512], tmp_marker[128], shm_marker[128];

	snprintf(tmp_marker, sizeof(tmp_marker), "/tmp/coworker-sandbox-marker-%d",
		 (int)getpid());
	snprintf(shm_marker, sizeof(shm_marker),
		 "/dev/shm/coworker-sandbox-marker-%d", (int)getpid());
	snprintf(command, sizeof(command),
		 "echo x > %s && echo x > %s && ls -A /run | wc -l",
		 tmp_marker, shm_marker);
	run(fx, command);
	assert_int_equal(fx->result.exit_code, 0);
	assert_string_equal(fx->output, "0\n");
	assert_false(exists(tmp_marker));
	assert_false(exists(shm_marker));
}

/* The workspace lives under /tmp, which the sandbox masks with a tmpfs. */
static void test_workspace_under_tmp_visible(void **state)
{
	struct fixture *fx = *state;
	char path[4300];

	run(fx, "echo in > inside.txt && cat inside.txt && pwd");
	assert_int_equal(fx->result.exit_code, 0);
	assert_non_null(strstr(fx->output, "in\n"));
	assert_non_null(strstr(fx->output, fx->ws));

	path_in(path, sizeof(path), fx->ws, "inside.txt");
	assert_true(exists(path));
	path_in(path, sizeof(path), fx->outside, "inside.txt");
	assert_false(exists(path));
}

static int listen_loopback(int *port)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	*port = ntohs(addr.sin_port);
	return fd;
}

static void test_host_loopback_unreachable(void **state)
{
	struct fixture *fx = *state;
	char command[256];
	int port, fd = listen_loopback(&port);

	snprintf(command, sizeof(command),
		 "exec 3<>/dev/tcp/127.0.0.1/%d && echo connected", port);
	run(fx, command);
	close(fd);
	assert_null(strstr(fx->output, "connected"));
	assert_non_null(strstr(fx->output, "Connection refused"));
}

/* "Connection refused" rather than "Network is unreachable": lo is up. */
static void test_loopback_up_inside(void **state)
{
	struct fixture *fx = *state;

	run(fx, "exec 3<>/dev/tcp/127.0.0.1/1");
	assert_int_not_equal(fx->result.exit_code, 0);
	assert_non_null(strstr(fx->output, "Connection refused"));
	assert_null(strstr(fx->output, "unreachable"));
}

static void test_network_option_shares_host(void **state)
{
	struct fixture *fx = *state;
	char command[256];
	int port, fd = listen_loopback(&port);

	fx->opts.network = true;
	snprintf(command, sizeof(command),
		 "exec 3<>/dev/tcp/127.0.0.1/%d && echo connected", port);
	run(fx, command);
	close(fd);
	assert_string_equal(fx->output, "connected\n");
}

/*
 * With a shared network namespace, every command joins the same one
 * (loopback up, the host's listener out of reach); without it, each
 * gets its own.
 */
static void test_shared_netns(void **state)
{
	struct fixture *fx = *state;
	char first[128], command[256], err[512];
	int port, host = listen_loopback(&port);
	int shared;

	if (geteuid() != 0) {
		close(host);
		skip();
	}
	shared = sandbox_netns_create(err, sizeof(err));
	if (shared < 0)
		fail_msg("sandbox_netns_create: %s", err);
	fx->opts.netns_fd = shared;

	run(fx, "readlink /proc/self/ns/net");
	snprintf(first, sizeof(first), "%s", fx->output);
	run(fx, "readlink /proc/self/ns/net");
	assert_string_equal(fx->output, first);
	run(fx, "exec 3<>/dev/tcp/127.0.0.1/1");
	assert_non_null(strstr(fx->output, "Connection refused"));
	snprintf(command, sizeof(command),
		 "exec 3<>/dev/tcp/127.0.0.1/%d && echo connected", port);
	run(fx, command);
	assert_null(strstr(fx->output, "connected"));

	fx->opts.netns_fd = 0;
	run(fx, "readlink /proc/self/ns/net");
	assert_string_not_equal(fx->output, first);
	close(shared);
	close(host);
}

/* Only root may keep a shared namespace, and the error names the fix. */
static void test_shared_netns_needs_root(void **state)
{
	char err[512];
	int status, fd;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (geteuid() == 0 && setresuid(65534, 65534, 65534) < 0)
			_exit(3);
		fd = sandbox_netns_create(err, sizeof(err));
		_exit(fd < 0 && strstr(err, "needs a root supervisor") &&
		      strstr(err, "--shared-netns") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * The caller's $XDG_RUNTIME_DIR (its session's sockets) reads as empty,
 * outside the workspace and inside it, where the workspace's mount would
 * otherwise show it again. The host's files stay.
 */
static void test_runtime_dir_masked(void **state)
{
	struct fixture *fx = *state;
	const char *parents[] = { fx->outside, fx->ws, fx->base };
	char dir[4300], file[4400], link[4400], command[4400];
	size_t i;

	for (i = 0; i < 3; i++) {
		path_in(dir, sizeof(dir), parents[i], "runtime");
		/* Readable by the sandbox uid, so only the mask hides it. */
		assert_int_equal(mkdir(dir, 0755), 0);
		path_in(file, sizeof(file), dir, "bus");
		write_file(file, "socket stand-in\n");
		/* The last one is named through a symbolic link in the workspace. */
		if (i == 2) {
			path_in(link, sizeof(link), fx->ws, "runtime-link");
			assert_int_equal(symlink(dir, link), 0);
		}
		assert_int_equal(setenv("XDG_RUNTIME_DIR", i == 2 ? link : dir, 1),
				 0);

		snprintf(command, sizeof(command), "ls -A '%s'; echo end", dir);
		run(fx, command);
		unsetenv("XDG_RUNTIME_DIR");
		assert_string_equal(fx->output, "end\n");
		assert_true(exists(file));
	}
}

static void test_env_from_allowlist(void **state)
{
	struct fixture *fx = *state;
	char home[4300];

	char *path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	assert_int_equal(setenv("COWORKER_TEST_API_KEY", "sk-test-secret", 1), 0);
	/* The caller's PATH without its relative and empty entries. */
	assert_int_equal(setenv("PATH", "/opt/tool/bin:.::bin:/usr/bin:/bin", 1), 0);
	run(fx, "env");
	unsetenv("COWORKER_TEST_API_KEY");
	if (path)
		setenv("PATH", path, 1);
	else
		unsetenv("PATH");
	free(path);

	assert_null(strstr(fx->output, "COWORKER_TEST_API_KEY"));
	assert_null(strstr(fx->output, "sk-test-secret"));
	assert_non_null(strstr(fx->output, "PATH=/opt/tool/bin:/usr/bin:/bin\n"));
	assert_non_null(strstr(fx->output, "TMPDIR=/tmp\n"));
	assert_non_null(strstr(fx->output, "LC_ALL=C.UTF-8\n"));
	assert_non_null(strstr(fx->output, "TERM=dumb\n"));
	snprintf(home, sizeof(home), "HOME=%s\n", fx->ws);
	assert_non_null(strstr(fx->output, home));
}

static void test_hostname_separate(void **state)
{
	struct fixture *fx = *state;
	char before[256] = "", after[256] = "";

	assert_int_equal(gethostname(before, sizeof(before)), 0);
	run(fx, "cat /proc/sys/kernel/hostname");
	assert_int_equal(gethostname(after, sizeof(after)), 0);

	assert_string_equal(fx->output, "coworker-sandbox\n");
	assert_string_not_equal(before, "coworker-sandbox");
	assert_string_equal(before, after);
}

static void test_pid_one_inside(void **state)
{
	struct fixture *fx = *state;

	/* The command's own pid depends on how many helpers pid 1 started. */
	run(fx, "echo $PPID; cat /proc/1/comm");
	assert_string_equal(fx->output, "1\nsandbox-init\n");
}

static void test_no_fd_leak(void **state)
{
	struct fixture *fx = *state;
	int leak = open("/dev/null", O_RDONLY);
	int pipefd[2];

	assert_true(leak >= 0);
	assert_int_equal(pipe(pipefd), 0);
	run(fx, "ls /proc/self/fd");
	close(leak);
	close(pipefd[0]);
	close(pipefd[1]);
	assert_string_equal(fx->output, "0\n1\n2\n3\n");
}

static void test_dev_minimal(void **state)
{
	struct fixture *fx = *state;

	run(fx, "ls /dev; echo x > /dev/null && head -c 4 /dev/zero | wc -c; "
		"touch /dev/new 2>/dev/null || echo no-create");
	assert_string_equal(fx->output,
			    "fd\nfull\nnull\nrandom\nshm\nstderr\nstdin\n"
			    "stdout\nurandom\nzero\n4\nno-create\n");
}

static void test_capabilities_dropped(void **state)
{
	struct fixture *fx = *state;

	run(fx, "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status");
	assert_string_equal(fx->output,
			    "CapEff:\t0000000000000000\n"
			    "CapBnd:\t0000000000000000\n"
			    "NoNewPrivs:\t1\n");
}

static void expect_invalid(struct fixture *fx, const char *needle)
{
	int rc = sandbox_run(&fx->opts, "true", &fx->result, fx->err,
			     sizeof(fx->err));

	assert_int_equal(rc, -1);
	assert_non_null(strstr(fx->err, needle));
	assert_int_equal(fx->result.output_fd, -1);
}

static void test_invalid_opts_rejected(void **state)
{
	struct fixture *fx = *state;
	const char *bad[] = { "/abs", NULL };
	char missing[4300];

	fx->opts.workspace = "relative/ws";
	expect_invalid(fx, "invalid workspace");
	fx->opts.workspace = "/";
	expect_invalid(fx, "invalid workspace");
	snprintf(missing, sizeof(missing), "%s/missing", fx->base);
	fx->opts.workspace = missing;
	expect_invalid(fx, "does not exist");
	fx->opts.workspace = fx->ws;

	fx->opts.timeout_ms = 0;
	expect_invalid(fx, "invalid timeout");
	fx->opts.timeout_ms = 1000;

	fx->opts.protected_paths = bad;
	expect_invalid(fx, "invalid protected path");
}

/* Find the test user, creating it with useradd when running as root. */
static struct passwd *test_user(void)
{
	struct passwd *pw = getpwnam(TEST_USER);
	pid_t pid;
	int status;

	if (pw || geteuid() != 0 || access("/usr/sbin/useradd", X_OK) != 0)
		return pw;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/usr/sbin/useradd", "useradd", "--system",
		      "--no-create-home", "--shell", "/usr/sbin/nologin",
		      TEST_USER, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return getpwnam(TEST_USER);
}

/*
 * The body of the unprivileged test, in a forked child that has dropped to
 * the test user. Returns the child's exit status: 0 when all checks pass.
 */
static int run_as_user(struct fixture *fx)
{
	char command[9000], path[4300], uid_line[32];
	int rc;

	snprintf(command, sizeof(command),
		 "id -u; echo in > inside.txt; echo out > %s/escaped.txt",
		 fx->outside);
	rc = sandbox_run(&fx->opts, command, &fx->result, fx->err,
			 sizeof(fx->err));
	if (rc < 0) {
		fprintf(stderr, "# sandbox_run as uid %d failed: %s\n",
			(int)getuid(), fx->err);
		return 10;
	}
	fx->output = read_fd(fx->result.output_fd);
	fprintf(stderr, "# output as uid %d: %s", (int)getuid(), fx->output);

	snprintf(uid_line, sizeof(uid_line), "%d\n", (int)getuid());
	if (strncmp(fx->output, uid_line, strlen(uid_line)) != 0)
		return 11;
	path_in(path, sizeof(path), fx->ws, "inside.txt");
	if (!exists(path))
		return 12;
	path_in(path, sizeof(path), fx->outside, "escaped.txt");
	if (exists(path))
		return 13;
	return 0;
}

static void test_unprivileged_caller(void **state)
{
	struct fixture *fx = *state;
	struct passwd *pw = NULL;
	int status;
	pid_t pid;

	if (!have_bash())
		skip();
	if (geteuid() == 0) {
		pw = test_user();
		if (!pw) {
			print_message("# user " TEST_USER " missing and useradd "
				      "unavailable\n");
			skip();
		}
		/* The test user owns both, so only the sandbox stops a write. */
		assert_int_equal(chmod(fx->base, 0755), 0);
		assert_int_equal(chown(fx->ws, pw->pw_uid, pw->pw_gid), 0);
		assert_int_equal(chown(fx->outside, pw->pw_uid, pw->pw_gid), 0);
	}

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (pw && (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
			   setuid(pw->pw_uid) < 0))
			_exit(20);
		_exit(run_as_user(fx));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * A classic BPF interpreter for the instructions seccomp filters use. An
 * instruction outside that set fails the test instead of being guessed.
 */
static uint32_t bpf_run(const struct sock_filter *insns, unsigned short len,
			const struct seccomp_data *data)
{
	const unsigned char *bytes = (const unsigned char *)data;
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	unsigned int pc = 0;

	while (pc < len) {
		const struct sock_filter *i = &insns[pc++];
		uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;

		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_true(i->k + 4 <= sizeof(*data));
			memcpy(&a, bytes + i->k, 4);
			break;
		case BPF_LD | BPF_MEM:
			a = mem[i->k % BPF_MEMWORDS];
			break;
		case BPF_ST:
			mem[i->k % BPF_MEMWORDS] = a;
			break;
		case BPF_LDX | BPF_MEM:
			x = mem[i->k % BPF_MEMWORDS];
			break;
		case BPF_MISC | BPF_TAX:
			x = a;
			break;
		case BPF_MISC | BPF_TXA:
			a = x;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			a &= i->k;
			break;
		case BPF_JMP | BPF_JA:
			pc += i->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JEQ | BPF_X:
			pc += a == src ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGT | BPF_X:
			pc += a > src ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_X:
			pc += a >= src ? i->jt : i->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_X:
			pc += a & src ? i->jt : i->jf;
			break;
		case BPF_RET | BPF_K:
			return i->k;
		default:
			fail_msg("BPF instruction 0x%x not handled by the test",
				 i->code);
		}
	}
	fail_msg("BPF program ran off its end");
	return 0;
}

/* The sandbox's rules as libseccomp would build them, the reference. */
static void reference_filter(struct sock_filter **insns, unsigned short *len)
{
	static const char *const denied[] = {
		"ptrace", "process_vm_readv", "process_vm_writev", "mount",
		"umount2", "pivot_root", "fsopen", "fsconfig", "fsmount",
		"fspick", "move_mount", "mount_setattr", "bpf", "keyctl",
		"add_key", "request_key", "io_uring_setup", "io_uring_enter",
		"io_uring_register", "perf_event_open", "userfaultfd",
		"kexec_load", "kexec_file_load", "init_module", "finit_module",
		"delete_module",
	};
	const struct scmp_arg_cmp newuser =
		SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	char path[] = "/tmp/coworker-bpf-XXXXXX";
	struct stat st;
	size_t i;
	int fd;

	assert_non_null(ctx);
	assert_int_equal(seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
					  SCMP_ACT_ERRNO(EPERM)), 0);
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
			seccomp_syscall_resolve_name(denied[i]), 0), 0);
	assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
					  SCMP_SYS(unshare), 1, newuser), 0);
	assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
					  SCMP_SYS(clone), 1, newuser), 0);
	assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
					  SCMP_SYS(clone3), 0), 0);
	assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU,
					    TIOCSTI)), 0);
	assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffU,
					    TIOCLINUX)), 0);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
	assert_int_equal(fstat(fd, &st), 0);
	*insns = malloc((size_t)st.st_size);
	assert_non_null(*insns);
	assert_int_equal(pread(fd, *insns, (size_t)st.st_size, 0), st.st_size);
	*len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	close(fd);
	seccomp_release(ctx);
}

/*
 * The compiled-in program answers like libseccomp's for every system call
 * number below 600, x32 numbers, a foreign architecture, and arguments
 * with and without the flags and requests the rules look at, high bits
 * set or not.
 */
static void test_seccomp_program_matches_libseccomp(void **state)
{
	static const uint64_t args[] = {
		0, CLONE_NEWUSER, CLONE_NEWUSER | CLONE_NEWNS, CLONE_NEWNS,
		SIGCHLD, TIOCSTI, TIOCLINUX, 0x100000000ULL | TIOCSTI,
		0xffffffff00000000ULL | TIOCLINUX, 0x100000000ULL | CLONE_NEWUSER,
		0x5413, 0xffffffffffffffffULL,
	};
	static const uint32_t archs[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386,
					  AUDIT_ARCH_AARCH64 };
	const struct sock_filter *ours;
	struct sock_filter *ref;
	unsigned short our_len, ref_len;
	struct seccomp_data d;
	size_t a, i, j;
	int nr, checked = 0;

	(void)state;
	sandbox_seccomp_program(&ours, &our_len);
	reference_filter(&ref, &ref_len);

	for (a = 0; a < sizeof(archs) / sizeof(archs[0]); a++)
	for (nr = 0; nr < 600; nr++)
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++)
	for (j = 0; j < sizeof(args) / sizeof(args[0]); j++) {
		memset(&d, 0, sizeof(d));
		d.arch = archs[a];
		d.nr = nr;
		d.args[0] = args[i];
		d.args[1] = args[j];
		if (bpf_run(ours, our_len, &d) != bpf_run(ref, ref_len, &d))
			fail_msg("arch 0x%x nr %d args 0x%llx 0x%llx: 0x%x, "
				 "libseccomp 0x%x", d.arch, nr,
				 (unsigned long long)args[i],
				 (unsigned long long)args[j],
				 bpf_run(ours, our_len, &d),
				 bpf_run(ref, ref_len, &d));
		checked++;
	}
	d.arch = AUDIT_ARCH_X86_64;
	d.nr = 0x40000000 | __NR_read;	/* x32 */
	assert_int_equal(bpf_run(ours, our_len, &d), bpf_run(ref, ref_len, &d));
	assert_int_equal(bpf_run(ours, our_len, &d),
			 SECCOMP_RET_ERRNO | EPERM);
	print_message("# %d inputs compared\n", checked);
	free(ref);
}

/*
 * The command's cgroup carries the requested limits, and the result says
 * which kind of limits applied. Without a usable cgroup, only the rlimits
 * bit may be set, and the test says so.
 */
static void test_cgroup_limits_applied(void **state)
{
	struct fixture *fx = *state;

	fx->opts.pids_max = 77;
	fx->opts.memory_max = 96ULL << 20;
	run(fx, "p=$(sed -n 's/^[0-9]*:pids://p' /proc/self/cgroup); "
		"m=$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup); "
		"u=$(sed -n 's/^0:://p' /proc/self/cgroup); "
		"cat /sys/fs/cgroup/pids$p/pids.max "
		"/sys/fs/cgroup/memory$m/memory.limit_in_bytes 2>/dev/null || "
		"cat /sys/fs/cgroup$u/pids.max /sys/fs/cgroup$u/memory.max");
	assert_true(fx->result.limits & SANDBOX_LIMIT_RLIMITS);

	if (!(fx->result.limits & (SANDBOX_LIMIT_CGROUP_V1 |
				   SANDBOX_LIMIT_CGROUP_V2))) {
		print_message("# no cgroup here; only rlimits applied\n");
		skip();
	}
	assert_false((fx->result.limits & SANDBOX_LIMIT_CGROUP_V1) &&
		     (fx->result.limits & SANDBOX_LIMIT_CGROUP_V2));
	assert_string_equal(fx->output, "77\n100663296\n");
}

/*
 * A command killed by the memory limit is reported as such; one that
 * fails by itself is not.
 */
static void test_oom_kill_reported(void **state)
{
	struct fixture *fx = *state;

	fx->opts.memory_max = 32ULL << 20;
	run(fx, "exit 3");
	assert_false(fx->result.oom_killed);
	if (!(fx->result.limits & (SANDBOX_LIMIT_CGROUP_V1 |
				   SANDBOX_LIMIT_CGROUP_V2))) {
		print_message("# no cgroup here; only rlimits applied\n");
		skip();
	}
	run(fx, "exec python3 -c 'b = bytearray(256 << 20)'");
	assert_int_equal(fx->result.signal, SIGKILL);
	assert_true(fx->result.oom_killed);
}

static void test_limits_text_names_bits(void **state)
{
	char buf[128];

	(void)state;
	assert_string_equal(sandbox_limits_text(SANDBOX_LIMIT_RLIMITS, buf,
						sizeof(buf)), "rlimits");
	assert_string_equal(sandbox_limits_text(SANDBOX_LIMIT_RLIMITS |
						SANDBOX_LIMIT_CGROUP_V1 |
						SANDBOX_LIMIT_SANDBOX_UID,
						buf, sizeof(buf)),
			    "cgroup-v1 sandbox-uid rlimits");
	assert_string_equal(sandbox_limits_text(SANDBOX_LIMIT_CGROUP_V2 |
						SANDBOX_LIMIT_RLIMITS,
						buf, sizeof(buf)),
			    "cgroup-v2 rlimits");
}

#define SANDBOX_TEST(name) \
	cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		SANDBOX_TEST(test_exit_code_passes_through),
		SANDBOX_TEST(test_signal_reported),
		SANDBOX_TEST(test_output_captured_with_sha256),
		SANDBOX_TEST(test_output_cap_truncates),
		SANDBOX_TEST(test_timeout_kills_whole_tree),
		SANDBOX_TEST(test_background_holder_does_not_hang),
		SANDBOX_TEST(test_background_gone_on_return),
		SANDBOX_TEST(test_rename_across_directories),
		SANDBOX_TEST(test_unprotected_env_not_masked),
		SANDBOX_TEST(test_endless_output_stopped),
		SANDBOX_TEST(test_dev_stdout_stderr_open),
		SANDBOX_TEST(test_reap_releases_placeholders),
		SANDBOX_TEST(test_writes_confined_to_workspace),
		SANDBOX_TEST(test_root_fs_read_only),
		SANDBOX_TEST(test_protected_paths_read_only),
		SANDBOX_TEST(test_protected_symlink_rejected),
		SANDBOX_TEST(test_tmp_and_run_private),
		cmocka_unit_test_setup_teardown(test_workspace_under_tmp_visible,
						setup_tmp, teardown),
		SANDBOX_TEST(test_host_loopback_unreachable),
		SANDBOX_TEST(test_loopback_up_inside),
		SANDBOX_TEST(test_network_option_shares_host),
		SANDBOX_TEST(test_shared_netns),
		cmocka_unit_test(test_shared_netns_needs_root),
		SANDBOX_TEST(test_runtime_dir_masked),
		SANDBOX_TEST(test_env_from_allowlist),
		SANDBOX_TEST(test_hostname_separate),
		SANDBOX_TEST(test_pid_one_inside),
		SANDBOX_TEST(test_no_fd_leak),
		SANDBOX_TEST(test_dev_minimal),
		SANDBOX_TEST(test_capabilities_dropped),
		SANDBOX_TEST(test_invalid_opts_rejected),
		SANDBOX_TEST(test_unprivileged_caller),
		SANDBOX_TEST(test_cgroup_limits_applied),
		SANDBOX_TEST(test_oom_kill_reported),
		cmocka_unit_test(test_limits_text_names_bits),
		cmocka_unit_test(test_seccomp_program_matches_libseccomp),
	};

	return cmocka_run_group_tests_name("sandbox", tests, NULL, NULL);
}
