/* One headless session: a worker, its requests, the policy and the log. */
#ifndef COWORKER_SESSION_H
#define COWORKER_SESSION_H

#include <stdbool.h>

/* Exit statuses of `coworker exec`, documented in docs/cli.md. */
enum session_exit {
	SESSION_EXIT_OK = 0,		/* the agent finished with an answer */
	SESSION_EXIT_MODEL = 1,		/* model endpoint or network failure */
	SESSION_EXIT_USAGE = 2,		/* bad flags, policy or configuration */
	SESSION_EXIT_WORKER = 3,	/* worker broke the protocol or died */
	SESSION_EXIT_SETUP = 4,		/* a confinement layer failed */
	SESSION_EXIT_LIMIT = 5,		/* --max-turns, --token-budget, --timeout */
	SESSION_EXIT_DENIED = 6,	/* finished, but actions were denied */
	SESSION_EXIT_INTERRUPTED = 130,	/* SIGINT or SIGTERM */
};

struct session_config {
	const char *workspace;		/* -C, default "." */
	const char *mode;		/* preset: read-only, workspace-write
					   (NULL) or full-access */
	const char *const *policy_files;	/* --policy, NULL-terminated */
	const char *const *allow;	/* --allow/--ask/--deny rules */
	const char *const *ask;
	const char *const *deny;
	bool trust_project;		/* --trust-project */
	bool json;			/* --json: JSON Lines events on stdout */
	bool json_deltas;		/* --json-deltas: text_delta events too */
	bool weaker_worker_sandbox;	/* --weaker-worker-sandbox */
	bool shared_netns;		/* --shared-netns */
	const char *audit_path;		/* --audit, may be NULL */
	const char *provider;		/* "openai" or "anthropic" */
	const char *base_url;
	const char *model;
	const char *api_key_env;	/* name of the variable with the key */
	const char *task;
	long max_turns;
	long long context_tokens;	/* --context-tokens; 0: worker default */
	long long token_budget;		/* --token-budget; 0: no budget */
	long command_timeout_ms;	/* default and cap for run_command */
	long timeout_sec;		/* --timeout for the session; 0: none */
	int argc;
	char **argv;
};

/* Run the session to its end; returns an enum session_exit value. */
int session_run(const struct session_config *cfg);

/* A provider's endpoint, model and key variable when nothing set them. */
struct provider_defaults {
	const char *base_url;
	const char *model;
	const char *key_env;
};

/*
 * The defaults of provider ("openai" or "anthropic"): its environment
 * variables (OPENAI_BASE_URL, ANTHROPIC_MODEL, ...) when set, else the
 * public endpoint and a current model.
 */
void session_provider_defaults(const char *provider,
			       struct provider_defaults *out);

#endif
