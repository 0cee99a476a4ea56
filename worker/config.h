/*
 * The worker's configuration, as the supervisor's "config" message sets it.
 */
#ifndef COWORKER_WORKER_CONFIG_H
#define COWORKER_WORKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/proto.h"

/* A CA bundle larger than this is rejected; Debian's is about 200 KiB. */
#define CONFIG_CA_MAX (4L * 1024 * 1024)

enum provider {
	PROVIDER_OPENAI,	/* Chat Completions at base_url/chat/completions */
	PROVIDER_ANTHROPIC,	/* Messages at base_url[/v1]/messages */
};

struct worker_config {
	enum provider provider;
	char *model;
	char *base_url;		/* e.g. http://127.0.0.1:8080/v1 */
	char *resolve;		/* CURLOPT_RESOLVE entry HOST:PORT:ADDRESS */
	char *proxy;		/* "http://HOST:PORT" or NULL; resolve names it */
	char *api_key;		/* NULL when none; never logged */
	char *workspace;
	long max_turns;
	long long context_tokens;	/* the model's context window; 0: default */
	long long token_budget;	/* most tokens the session may spend; 0: none */
	char *skills;		/* skills section of the system prompt, or NULL */
	char *instructions;	/* the project's AGENTS.md text, or NULL */
	char *ca;		/* PEM bundle read from the descriptor, or NULL */
	size_t ca_len;
	bool deltas;		/* send "text_delta" events as text streams */
};

/*
 * Copy the fields of a decoded "config" message and read the CA bundle from
 * the message's descriptor, if any, closing it. Returns 0 or -1 with err.
 */
int config_from_msg(struct proto_msg *msg, struct worker_config *cfg,
		    char *err, size_t errlen);

/*
 * The provider for a model and base URL when the config names none (the
 * supervisor always does; test harnesses may not): a base URL whose path
 * ends in "/anthropic" or "/anthropic/v1", or a model name starting with
 * "claude", means Anthropic.
 */
enum provider config_guess_provider(const char *model, const char *base_url);

/* Free the configuration, wiping the API key first. */
void config_free(struct worker_config *cfg);

#endif
