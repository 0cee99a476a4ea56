/*
 * "coworker sandbox": runs one command in the command sandbox from the
 * shell, with the current directory as the workspace. The command's
 * output goes straight to the caller's stdout and stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "supervisor/sandbox.h"

#define CLI_EXIT_TIMEOUT 124	/* as timeout(1) */
#define CLI_TIMEOUT_MAX_S 86400L
#define CLI_COMMAND_MAX (256 * 1024)

/* Ranges of --memory and --pids; below the minimums bash cannot start. */
#define CLI_MEMORY_MIN (16ULL << 20)
#define CLI_MEMORY_MAX (1ULL << 50)
#define CLI_PIDS_MIN 8L
#define CLI_PIDS_MAX 4194304L

/* Kept read-only inside a writable workspace, as in a session. */
static const char *const cli_protected[] = {
	".coworker/", ".git/hooks/", ".git/config", ".gitmodules", NULL,
};

static const char cli_usage[] =
	"usage: coworker sandbox [options] -- CMD [ARGS...]\n"
	"\n"
	"Run CMD with ARGS in the command sandbox, with the current directory\n"
	"as the workspace, and exit with its status (128\n"
	"plus the signal when a signal ended it, 124 on timeout, 125 when the\n"
	"sandbox could not be set up, 126 when --policy does not allow it or\n"
	"CMD cannot be executed, 127 when CMD is not found).\n"
	"CMD is executed directly (searched in the absolute directories of\n"
	"PATH); for a shell command line, use: coworker sandbox -- bash -c 'LINE'.\n"
	"HOME is the workspace; git reads your global configuration for\n"
	"commits. Only PATH, TERM and a few fixed variables are passed.\n"
	"SIGINT, SIGTERM and SIGHUP stop CMD and everything it started, then\n"
	"end this process by the same signal.\n"
	"\n"
	"options:\n"
	"  --mode MODE     read-only, workspace-write (default) or full-access\n"
	"  --net           share the host's network (default: a new network\n"
	"                  namespace with only loopback)\n"
	"  --timeout SEC   wall-clock limit in seconds (default: 600)\n"
	"  --memory SIZE   memory limit of the command's cgroup, in bytes or\n"
	"                  with a K, M, G or T suffix (default: 2G)\n"
	"  --pids N        processes and threads in the command's cgroup at\n"
	"                  most (default: 512)\n"
	"\n"
	"  The cgroup limits apply when cgroup v2 is delegated to coworker or,\n"
	"  as root, through cgroup v1; otherwise only the rlimits do.\n"
	"  COWORKER_SANDBOX_TRACE=1 prints which applied and each step's time.\n"
	"\n"
	"  --policy FILE   run only if the rules in FILE allow the command\n"
	"  -i, --stdin     pass standard input (default: /dev/null)\n"
	"  -h, --help      print this help\n";

/* The prefix of sandbox_run's messages, dropped before this command's own. */
#define LIB_PREFIX "command sandbox: "

static int cli_usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "coworker sandbox: %s \"%s\"\n"
		"Run 'coworker sandbox --help' for usage.\n", what, arg);
	return SANDBOX_CLI_EXIT_USAGE;
}

/*
 * Report the option getopt_long rejected: -X for a short one (it may sit
 * inside a group such as -xi), else the argument that held it.
 */
static int option_error(const char *problem, char **argv, int short_opt)
{
	char name[3] = { '-', (char)short_opt, '\0' };

	if (short_opt > 0 && short_opt < 256)
		return cli_usage_error(problem, name);
	return cli_usage_error(problem, argv[optind - 1]);
}

static int parse_mode(const char *text, enum sandbox_mode *mode)
{
	if (strcmp(text, "read-only") == 0)
		*mode = SANDBOX_READ_ONLY;
	else if (strcmp(text, "workspace-write") == 0)
		*mode = SANDBOX_WORKSPACE_WRITE;
	else if (strcmp(text, "full-access") == 0)
		*mode = SANDBOX_FULL_ACCESS;
	else
		return -1;
	return 0;
}

static int parse_seconds(const char *text, long *ms)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 1 || v > CLI_TIMEOUT_MAX_S)
		return -1;
	*ms = v * 1000;
	return 0;
}

/* Parse a byte count with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *text, unsigned long long *bytes)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	if (text[0] < '0' || text[0] > '9')
		return -1;
	v = strtoull(text, &end, 10);
	if (errno || end == text)
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end == 'T' || *end == 't')
		shift = 40;
	if (shift)
		end++;
	if (*end || v > (CLI_MEMORY_MAX >> shift))
		return -1;
	v <<= shift;
	if (v < CLI_MEMORY_MIN)
		return -1;
	*bytes = v;
	return 0;
}

static int parse_pids(const char *text, unsigned long *pids)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < CLI_PIDS_MIN || v > CLI_PIDS_MAX)
		return -1;
	*pids = (unsigned long)v;
	return 0;
}

/* Whether word can go into a bash command line without quoting. */
static bool plain_word(const char *word)
{
	const char *p;

	if (!*word)
		return false;
	for (p = word; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_-./=:,+@%", *p))
			return false;
	return true;
}

/*
 * Join CMD ARGS into one shell command line, quoted word by word, for the
 * policy to judge as it would judge the same command in a session.
 */
static char *join_command(int argc, char **argv)
{
	size_t cap = 8, len = 0;
	char *buf, *p;
	int i;

	/* At most four bytes per byte (a quote) and three around each word. */
	for (i = 0; i < argc && cap < CLI_COMMAND_MAX; i++)
		cap += 4 * strlen(argv[i]) + 3;
	if (cap > CLI_COMMAND_MAX)
		cap = CLI_COMMAND_MAX;
	buf = malloc(cap);
	if (!buf)
		return NULL;
	for (i = 0; i < argc; i++) {
		if (i > 0 && len + 1 < cap)
			buf[len++] = ' ';
		if (plain_word(argv[i])) {
			len += (size_t)snprintf(buf + len, cap - len, "%s", argv[i]);
		} else {
			/* Single quotes, with each ' written as '\''. */
			if (len + 1 < cap)
				buf[len++] = '\'';
			for (p = argv[i]; *p && len + 5 < cap; p++) {
				if (*p == '\'') {
					memcpy(buf + len, "'\\''", 4);
					len += 4;
				} else {
					buf[len++] = *p;
				}
			}
			if (len + 1 < cap)
				buf[len++] = '\'';
		}
		if (len + 5 >= cap) {
			free(buf);
			return NULL;
		}
	}
	buf[len] = '\0';
	return buf;
}

/*
 * The command line the policy judges: LINE itself for "bash -c LINE",
 * because a session runs the model's command as bash -c LINE and judges
 * LINE; otherwise CMD ARGS quoted and joined. *shell_line is set for
 * the first. Not "sh -c": /bin/sh may be another shell (dash on Debian),
 * which reads LINE differently from the bash grammar the policy parses.
 */
static char *policy_command(int argc, char **argv, bool *shell_line)
{
	static const char *const bashes[] = {
		"bash", "/bin/bash", "/usr/bin/bash",
	};
	size_t i;

	*shell_line = false;
	if (argc == 3 && strcmp(argv[1], "-c") == 0)
		for (i = 0; i < sizeof(bashes) / sizeof(bashes[0]); i++)
			if (strcmp(argv[0], bashes[i]) == 0) {
				*shell_line = true;
				return strlen(argv[2]) < CLI_COMMAND_MAX ?
				       strdup(argv[2]) : NULL;
			}
	return join_command(argc, argv);
}

static int exit_status(const struct sandbox_result *r)
{
	if (r->oom_killed)
		fprintf(stderr, "coworker sandbox: the memory limit killed the "
			"command or one of its processes; raise it with "
			"--memory\n");
	if (r->timed_out) {
		fprintf(stderr, "coworker sandbox: the command timed out and "
			"was killed\n");
		return CLI_EXIT_TIMEOUT;
	}
	if (r->signal)
		return 128 + r->signal;
	return r->exit_code;
}

enum { OPT_MODE = 256, OPT_NET, OPT_TIMEOUT, OPT_POLICY, OPT_MEMORY,
       OPT_PIDS };

static int parse_options(int argc, char **argv, struct sandbox_opts *opts,
			 const char **policy)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "net", no_argument, NULL, OPT_NET },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "pids", required_argument, NULL, OPT_PIDS },
		{ "stdin", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	/* Our own messages: glibc's and musl's getopt word them differently. */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:ih", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MODE:
			if (parse_mode(optarg, &opts->mode) < 0)
				return cli_usage_error("invalid --mode (expected "
						       "read-only, workspace-write "
						       "or full-access):", optarg);
			break;
		case OPT_NET:
			opts->network = true;
			break;
		case OPT_TIMEOUT:
			if (parse_seconds(optarg, &opts->timeout_ms) < 0)
				return cli_usage_error("invalid --timeout (expected "
						       "seconds from 1 to 86400):",
						       optarg);
			break;
		case OPT_POLICY:
			*policy = optarg;
			break;
		case OPT_MEMORY:
			if (parse_size(optarg, &opts->memory_max) < 0)
				return cli_usage_error("invalid --memory (expected "
						       "bytes from 16M to 1024T, "
						       "e.g. 512M or 2G):", optarg);
			break;
		case OPT_PIDS:
			if (parse_pids(optarg, &opts->pids_max) < 0)
				return cli_usage_error("invalid --pids (expected a "
						       "number from 8 to 4194304):",
						       optarg);
			break;
		case 'i':
			opts->pass_stdin = true;
			break;
		case 'h':
			fputs(cli_usage, stdout);
			return -1;
		case ':':
			return option_error("missing value for option", argv,
					    optopt);
		default:
			return option_error("unknown option", argv, optopt);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "coworker sandbox: missing command; run "
			"'coworker sandbox -- CMD [ARGS...]'\n");
		return SANDBOX_CLI_EXIT_USAGE;
	}
	return 0;
}

/*
 * Block SIGINT, SIGTERM and SIGHUP and open a signalfd for them, which
 * the sandbox polls as its cancel descriptor. A stop signal then kills
 * the command's processes, and the placeholders go before this process
 * ends. Returns the fd, or -1 when the signals keep their usual effect.
 */
static int watch_stop_signals(sigset_t *set)
{
	static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction old;
	size_t i;
	int fd;

	/* One the caller ignores (nohup, trap '' INT) stays ignored. */
	sigemptyset(set);
	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		if (sigaction(stops[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaddset(set, stops[i]);
	if (sigisemptyset(set))
		return -1;
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return -1;
	fd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		sigprocmask(SIG_UNBLOCK, set, NULL);
	return fd;
}

/* Return whether one of the stop signals is waiting in the signalfd. */
static bool stop_pending(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/*
 * End this process by the signal that stopped the command, as a shell
 * expects of a program interrupted by Ctrl-C; 128 plus it when that fails.
 */
static int die_by(int fd, const sigset_t *set)
{
	struct signalfd_siginfo info;
	int sig = SIGTERM;

	if (read(fd, &info, sizeof(info)) == (ssize_t)sizeof(info))
		sig = (int)info.ssi_signo;
	close(fd);
	signal(sig, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, set, NULL);
	raise(sig);
	return 128 + sig;
}

int sandbox_cli(int argc, char **argv)
{
	struct sandbox_opts opts;
	struct sandbox_result result;
	const char *policy = NULL;
	char workspace[PATH_MAX], err[1024], *command;
	bool shell_line;
	sigset_t stop;
	int rc, stop_fd;

	memset(&opts, 0, sizeof(opts));
	opts.timeout_ms = 600L * 1000;
	opts.protected_paths = cli_protected;
	opts.passthrough = true;

	rc = parse_options(argc, argv, &opts, &policy);
	if (rc != 0)
		return rc < 0 ? 0 : rc;

	/* First: the launcher's check hands the whole command over. */
	command = policy_command(argc - optind, argv + optind, &shell_line);
	if (!command) {
		fprintf(stderr, "coworker sandbox: the command is longer than "
			"%d bytes\n", CLI_COMMAND_MAX);
		return SANDBOX_CLI_EXIT_USAGE;
	}
	if (policy && (rc = sandbox_cli_check_policy(policy, command)) != 0) {
		free(command);
		return rc;
	}

	if (!realpath(".", workspace)) {
		fprintf(stderr, "coworker sandbox: resolving the current "
			"directory failed (%s); run it from a directory that "
			"exists and that you may enter\n", strerror(errno));
		free(command);
		return SANDBOX_CLI_EXIT_FAILED;
	}
	if (strcmp(workspace, "/") == 0) {
		fprintf(stderr, "coworker sandbox: the current directory is /, "
			"which cannot be the workspace; run it from a project "
			"directory\n");
		free(command);
		return SANDBOX_CLI_EXIT_FAILED;
	}
	opts.workspace = workspace;
	/* A judged line runs as in a session: the sandbox's bash -c LINE. */
	if (!(policy && shell_line))
		opts.argv = (const char *const *)(argv + optind);
	if ((opts.memory_max || opts.pids_max) &&
	    !sandbox_limits_available(err, sizeof(err)))
		fprintf(stderr, "coworker sandbox: warning: --memory and --pids "
			"cannot apply here (%s); only the rlimits bound the "
			"command\n", err);

	stop_fd = watch_stop_signals(&stop);
	if (stop_fd >= 0)
		opts.cancel_fd = stop_fd;
	rc = sandbox_run(&opts, command, &result, err, sizeof(err));
	free(command);
	/* The placeholders go while pid 1 tears down its namespaces. */
	sandbox_reap(true);
	/* Also a signal that came as the command ended or the set-up failed. */
	if (stop_fd >= 0 && stop_pending(stop_fd))
		return die_by(stop_fd, &stop);
	if (stop_fd >= 0)
		close(stop_fd);
	if (rc < 0) {
		/* The library's messages start with its own prefix. */
		fprintf(stderr, "coworker sandbox: %s\n",
			strncmp(err, LIB_PREFIX, strlen(LIB_PREFIX)) == 0 ?
			err + strlen(LIB_PREFIX) : err);
		return SANDBOX_CLI_EXIT_FAILED;
	}
	return exit_status(&result);
}
