/*
 * coworker: the supervisor and command-line interface.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "policy/policy_cli.h"
#include "proto/proto.h"
#include "supervisor/audit.h"
#include "supervisor/interactive.h"
#include "supervisor/sandbox.h"
#include "supervisor/session.h"
#include "supervisor/skills.h"
#include "supervisor/user_config.h"

#ifndef COWORKER_VERSION
#define COWORKER_VERSION "0.1.0"
#endif

static const char usage_text[] =
	"usage: coworker [chat [options]]\n"
	"       coworker exec [options] TASK|-\n"
	"       coworker sandbox [options] -- CMD [ARGS...]\n"
	"       coworker policy check|explain|show|trust ...\n"
	"       coworker skills list|show|check ...\n"
	"       coworker audit verify FILE [--head DIGEST]\n"
	"       coworker version\n"
	"\n"
	"Each command takes --help. See docs/cli.md for exit statuses.\n"
	"\n"
	"coworker with no command, or coworker chat, opens an interactive\n"
	"session in the workspace (docs/interactive.md). chat takes the exec\n"
	"options below except --json, --json-deltas and --timeout.\n"
	"\n"
	"exec runs one headless session in the workspace and prints the\n"
	"agent's final answer. TASK is the task text, or - to read it from\n"
	"standard input.\n"
	"\n"
	"options for exec:\n"
	"  -C DIR                 workspace directory (default: .)\n"
	"  --mode MODE            read-only, workspace-write (default) or\n"
	"                         full-access: the preset policy and sandbox\n"
	"  --policy FILE          add the rules of FILE (repeatable)\n"
	"  --allow RULE, --ask RULE, --deny RULE\n"
	"                         add one rule, e.g. --allow 'Exec(make test)'\n"
	"  --trust-project        let the project's allow rules take effect\n"
	"                         for this session\n"
	"  --audit FILE           audit log path (default:\n"
	"                         DIR/.coworker/audit/SESSION.jsonl)\n"
	"  --provider NAME        openai (Chat Completions, the default) or\n"
	"                         anthropic (Messages API)\n"
	"  --base-url URL         API base URL (default: $OPENAI_BASE_URL or\n"
	"                         https://api.openai.com/v1; for anthropic\n"
	"                         $ANTHROPIC_BASE_URL or https://api.anthropic.com)\n"
	"  --model NAME           model name (default: $OPENAI_MODEL or gpt-4o;\n"
	"                         for anthropic $ANTHROPIC_MODEL or\n"
	"                         claude-sonnet-4-5)\n"
	"  --json                 print JSON Lines events on standard output\n"
	"                         instead of the final answer\n"
	"  --json-deltas          with --json, also print text_delta events\n"
	"                         as the answer streams in\n"
	"  --timeout SEC          cancel the session after SEC seconds (exit\n"
	"                         status 5)\n"
	"  --max-turns N          stop after N model calls (default: 30)\n"
	"  --context-tokens N     the model's context window in tokens; older\n"
	"                         turns are summarised when the conversation\n"
	"                         fills 80% of it (default: 128000)\n"
	"  --token-budget N       stop once the model has reported N tokens\n"
	"                         (prompt plus completion) over the session\n"
	"  --api-key-env VAR      variable holding the API key (default:\n"
	"                         OPENAI_API_KEY, or ANTHROPIC_API_KEY)\n"
	"  --command-timeout SEC  wall-clock limit per command in seconds\n"
	"                         (default: 120)\n"
	"  --shared-netns         run every command in one network namespace\n"
	"                         kept for the session instead of a fresh one\n"
	"                         each (faster; commands share 127.0.0.1;\n"
	"                         root only; recorded in the audit log)\n"
	"  --weaker-worker-sandbox\n"
	"                         if the kernel refuses user namespaces, run the\n"
	"                         worker without namespaces (recorded in the\n"
	"                         audit log) instead of refusing to start\n"
	"\n"
	"Defaults for provider, model, base_url, max_turns, mode,\n"
	"command_timeout and api_key_env come from\n"
	"$XDG_CONFIG_HOME/coworker/config.json (default ~/.config); flags win.\n";

static void usage_error(const char *fmt, const char *arg)
{
	fputs("coworker: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nRun 'coworker --help' for usage.\n", stderr);
}

static int parse_long(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parse a token count option from min to max, the protocol's limits. */
static int parse_count(const char *text, const char *option, long long min,
		       long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max) {
		fprintf(stderr, "coworker: invalid %s \"%s\": expected a number "
			"of tokens from %lld to %lld\nRun 'coworker --help' for "
			"usage.\n", option, text, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Read the task from standard input, up to the protocol's string limit. */
static char *read_task_stdin(void)
{
	size_t cap = PROTO_STR_MAX + 1, len = 0;
	char *buf = malloc(cap + 1);
	size_t n;

	if (!buf)
		return NULL;
	while ((n = fread(buf + len, 1, cap - len, stdin)) > 0)
		len += n;
	if (len > PROTO_STR_MAX) {
		fprintf(stderr, "coworker: the task on standard input is longer "
			"than %d bytes; shorten it or put details in a file "
			"in the workspace\n", PROTO_STR_MAX);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

enum {
	OPT_POLICY = 256, OPT_AUDIT, OPT_BASE_URL, OPT_MODEL, OPT_MAX_TURNS,
	OPT_KEY_ENV, OPT_CMD_TIMEOUT, OPT_MODE, OPT_ALLOW, OPT_ASK, OPT_DENY,
	OPT_TRUST, OPT_JSON, OPT_PROVIDER, OPT_WEAKER,
	OPT_CONTEXT_TOKENS, OPT_TOKEN_BUDGET, OPT_TIMEOUT, OPT_JSON_DELTAS,
	OPT_SHARED_NETNS,
};

/* Most rules or policy files one kind of option may add. */
#define RULE_OPTIONS_MAX 64

/* Repeatable options, collected into NULL-terminated lists. */
struct rule_options {
	const char *policy[RULE_OPTIONS_MAX + 1];
	const char *allow[RULE_OPTIONS_MAX + 1];
	const char *ask[RULE_OPTIONS_MAX + 1];
	const char *deny[RULE_OPTIONS_MAX + 1];
	size_t npolicy, nallow, nask, ndeny;
};

static int push_option(const char **list, size_t *n, const char *value,
		       const char *option)
{
	if (*n == RULE_OPTIONS_MAX) {
		fprintf(stderr, "coworker: more than %d %s options; put the "
			"rules in a policy file instead\n", RULE_OPTIONS_MAX,
			option);
		return -1;
	}
	list[(*n)++] = value;
	list[*n] = NULL;
	return 0;
}

static int parse_exec_option(int c, struct session_config *cfg,
			     struct rule_options *r)
{
	long v;

	switch (c) {
	case 'C':
		cfg->workspace = optarg;
		return 0;
	case OPT_POLICY:
		return push_option(r->policy, &r->npolicy, optarg, "--policy");
	case OPT_ALLOW:
		return push_option(r->allow, &r->nallow, optarg, "--allow");
	case OPT_ASK:
		return push_option(r->ask, &r->nask, optarg, "--ask");
	case OPT_DENY:
		return push_option(r->deny, &r->ndeny, optarg, "--deny");
	case OPT_TRUST:
		cfg->trust_project = true;
		return 0;
	case OPT_JSON:
		cfg->json = true;
		return 0;
	case OPT_JSON_DELTAS:
		cfg->json_deltas = true;
		return 0;
	case OPT_TIMEOUT:
		if (parse_long(optarg, 1, 7 * 86400, &cfg->timeout_sec) == 0)
			return 0;
		usage_error("invalid --timeout \"%s\": expected seconds from 1 "
			    "to 604800", optarg);
		return -1;
	case OPT_WEAKER:
		cfg->weaker_worker_sandbox = true;
		return 0;
	case OPT_SHARED_NETNS:
		cfg->shared_netns = true;
		return 0;
	case OPT_PROVIDER:
		if (strcmp(optarg, "openai") == 0 ||
		    strcmp(optarg, "anthropic") == 0) {
			cfg->provider = optarg;
			return 0;
		}
		usage_error("invalid --provider \"%s\": use openai or "
			    "anthropic", optarg);
		return -1;
	case OPT_MODE:
		if (strcmp(optarg, "read-only") == 0 ||
		    strcmp(optarg, "workspace-write") == 0 ||
		    strcmp(optarg, "full-access") == 0) {
			cfg->mode = optarg;
			return 0;
		}
		usage_error("invalid --mode \"%s\": use read-only, "
			    "workspace-write or full-access", optarg);
		return -1;
	case OPT_AUDIT:
		cfg->audit_path = optarg;
		return 0;
	case OPT_BASE_URL:
		cfg->base_url = optarg;
		return 0;
	case OPT_MODEL:
		cfg->model = optarg;
		return 0;
	case OPT_KEY_ENV:
		cfg->api_key_env = optarg;
		return 0;
	case OPT_MAX_TURNS:
		if (parse_long(optarg, 1, 10000, &cfg->max_turns) == 0)
			return 0;
		usage_error("invalid --max-turns \"%s\": expected a number "
			    "from 1 to 10000", optarg);
		return -1;
	case OPT_CMD_TIMEOUT:
		if (parse_long(optarg, 1, 86400, &v) == 0) {
			cfg->command_timeout_ms = v * 1000;
			return 0;
		}
		usage_error("invalid --command-timeout \"%s\": expected seconds "
			    "from 1 to 86400", optarg);
		return -1;
	case OPT_CONTEXT_TOKENS:
		return parse_count(optarg, "--context-tokens", 1000, 100000000,
				   &cfg->context_tokens);
	case OPT_TOKEN_BUDGET:
		return parse_count(optarg, "--token-budget", 1,
				   1000000000000LL, &cfg->token_budget);
	default:
		usage_error("%s", "invalid option for exec");
		return -1;
	}
}

/* Fill what the flags left open from the provider's usual variables. */
static void apply_provider_defaults(struct session_config *cfg)
{
	struct provider_defaults d;

	if (!cfg->provider)
		cfg->provider = "openai";
	session_provider_defaults(cfg->provider, &d);
	if (!cfg->base_url)
		cfg->base_url = d.base_url;
	if (!cfg->model)
		cfg->model = d.model;
	if (!cfg->api_key_env)
		cfg->api_key_env = d.key_env;
}

/* The task from the one argument or standard input, then the session. */
static int exec_session(struct session_config *cfg, int argc, char **argv)
{
	char *stdin_task = NULL;
	int rc;

	if (optind != argc - 1) {
		usage_error("%s", "exec needs exactly one TASK argument (or - "
			    "to read it from standard input)");
		return SESSION_EXIT_USAGE;
	}
	cfg->task = argv[optind];
	if (strcmp(cfg->task, "-") == 0) {
		stdin_task = read_task_stdin();
		if (!stdin_task)
			return SESSION_EXIT_USAGE;
		cfg->task = stdin_task;
	}
	/* A task of only blanks (echo "" | coworker exec -) is no task. */
	if (!cfg->task[strspn(cfg->task, " \t\r\n")] ||
	    strlen(cfg->task) > PROTO_STR_MAX) {
		usage_error("%s", "the task is empty or too long");
		free(stdin_task);
		return SESSION_EXIT_USAGE;
	}
	rc = session_run(cfg);
	free(stdin_task);
	return rc;
}

/* Interactive mode has no JSON stream and no session deadline. */
static int check_chat_config(const struct session_config *cfg)
{
	if (cfg->json || cfg->json_deltas || cfg->timeout_sec) {
		usage_error("%s", "chat does not take --json, --json-deltas or "
			    "--timeout; use exec for headless runs");
		return -1;
	}
	if (optind != cfg->argc) {
		usage_error("chat takes no task argument (\"%s\"); type tasks "
			    "at the prompt", cfg->argv[optind]);
		return -1;
	}
	return 0;
}

/* exec, or with chat set, an interactive session. */
static int cmd_session(int argc, char **argv, bool chat)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "audit", required_argument, NULL, OPT_AUDIT },
		{ "base-url", required_argument, NULL, OPT_BASE_URL },
		{ "model", required_argument, NULL, OPT_MODEL },
		{ "max-turns", required_argument, NULL, OPT_MAX_TURNS },
		{ "api-key-env", required_argument, NULL, OPT_KEY_ENV },
		{ "command-timeout", required_argument, NULL, OPT_CMD_TIMEOUT },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "allow", required_argument, NULL, OPT_ALLOW },
		{ "ask", required_argument, NULL, OPT_ASK },
		{ "deny", required_argument, NULL, OPT_DENY },
		{ "trust-project", no_argument, NULL, OPT_TRUST },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "provider", required_argument, NULL, OPT_PROVIDER },
		{ "help", no_argument, NULL, 'h' },
		{ "weaker-worker-sandbox", no_argument, NULL, OPT_WEAKER },
		{ "shared-netns", no_argument, NULL, OPT_SHARED_NETNS },
		{ "context-tokens", required_argument, NULL, OPT_CONTEXT_TOKENS },
		{ "token-budget", required_argument, NULL, OPT_TOKEN_BUDGET },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "json-deltas", no_argument, NULL, OPT_JSON_DELTAS },
		{ NULL, 0, NULL, 0 },
	};
	static struct rule_options rules;
	struct session_config cfg;
	struct user_config user;
	char err[4200];
	int c, rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.workspace = ".";
	cfg.argc = argc;
	cfg.argv = argv;
	cfg.policy_files = rules.policy;
	cfg.allow = rules.allow;
	cfg.ask = rules.ask;
	cfg.deny = rules.deny;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+C:h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return 0;
		}
		if (parse_exec_option(c, &cfg, &rules) < 0)
			return SESSION_EXIT_USAGE;
	}
	/* Flags first, so that what they set is what the file cannot. */
	if (user_config_apply(&user, NULL, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "coworker: %s\n", err);
		user_config_free(&user);
		return SESSION_EXIT_USAGE;
	}
	if (cfg.max_turns == 0)
		cfg.max_turns = 30;
	if (cfg.command_timeout_ms == 0)
		cfg.command_timeout_ms = 120L * 1000;
	apply_provider_defaults(&cfg);
	if (chat)
		rc = check_chat_config(&cfg) < 0 ? SESSION_EXIT_USAGE :
		     interactive_run(&cfg);
	else
		rc = exec_session(&cfg, argc, argv);
	user_config_free(&user);
	return rc;
}

int main(int argc, char **argv)
{
	static char chat_name[] = "chat";
	char *chat_argv[] = { chat_name, NULL };

	/* Started by coworker (launcher.c), still "coworker" in ps and top. */
	prctl(PR_SET_NAME, "coworker", 0, 0, 0);
	if (argc < 2)
		return cmd_session(1, chat_argv, true);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(argv[1], "exec") == 0)
		return cmd_session(argc - 1, argv + 1, false);
	if (strcmp(argv[1], "chat") == 0)
		return cmd_session(argc - 1, argv + 1, true);
	if (strcmp(argv[1], "policy") == 0)
		return policy_cli(argc - 1, argv + 1);
	if (strcmp(argv[1], "sandbox") == 0)
		return sandbox_cli(argc - 1, argv + 1);
	if (strcmp(argv[1], "skills") == 0)
		return skills_cli(argc - 1, argv + 1);
	if (strcmp(argv[1], "audit") == 0) {
		if (argc >= 3 && strcmp(argv[2], "verify") == 0)
			return audit_cli_verify(argc - 2, argv + 2);
		usage_error("%s", "audit needs a subcommand: coworker audit "
			    "verify FILE [--head DIGEST]");
		return 3;	/* audit's usage status; 2 means a torn line */
	}
	if (strcmp(argv[1], "version") == 0 ||
	    strcmp(argv[1], "--version") == 0) {
		printf("coworker %s (protocol %d)\n", COWORKER_VERSION,
		       PROTO_VERSION);
		return 0;
	}
	usage_error("unknown command \"%s\"", argv[1]);
	return 2;
}
