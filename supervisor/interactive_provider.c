/*
 * /config provider: switch the session to the other model API. The
 * worker's endpoint and key are fixed by its configuration, so a switch
 * replaces the worker, and the conversation starts over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/interactive.h"

/*
 * The provider the session started with keeps what the flags and the
 * user's configuration gave it: --base-url, --model and --api-key-env
 * belong to that provider only. The other one gets its usual variables
 * and defaults.
 */
static void provider_settings(const struct interactive *ui,
			      const char *provider,
			      struct provider_defaults *out)
{
	const struct session_config *start = &ui->start;

	if (strcmp(provider, start->provider) == 0) {
		out->base_url = start->base_url;
		out->model = start->model;
		out->key_env = start->api_key_env;
		return;
	}
	session_provider_defaults(provider, out);
}

/*
 * The key for provider: the start-up key for the provider the session
 * started with, else the other variable's value, read once and then
 * removed from the environment as start-up does with its own.
 */
static const char *provider_key(struct interactive *ui, const char *provider,
				const char *key_env)
{
	const char *v;

	if (strcmp(provider, ui->start.provider) == 0)
		return ui->s->key ? ui->s->key : "";
	if (!ui->other_key) {
		v = getenv(key_env);
		if (!v || !*v)
			return "";
		ui->other_key = strdup(v);
		if (!ui->other_key)
			return "";
		unsetenv(key_env);
	}
	return ui->other_key;
}

static int audit_switch(struct interactive *ui,
			const struct provider_defaults *to, const char *provider)
{
	cJSON *f = cJSON_CreateObject();
	cJSON *from = cJSON_AddObjectToObject(f, "from");
	cJSON *next = cJSON_AddObjectToObject(f, "to");

	cJSON_AddStringToObject(from, "provider", ui->provider);
	cJSON_AddStringToObject(from, "model", ui->model);
	cJSON_AddStringToObject(from, "base_url", ui->base_url);
	cJSON_AddStringToObject(next, "provider", provider);
	cJSON_AddStringToObject(next, "model", to->model);
	cJSON_AddStringToObject(next, "base_url", to->base_url);
	return session_audit(ui->s, "provider_switch", f, true);
}

int interactive_switch_provider(struct interactive *ui, const char *provider)
{
	struct provider_defaults to;
	struct endpoint ep;
	char err[SESSION_ERR_MAX], line[SESSION_ERR_MAX + 128];
	const char *key;

	if (strcmp(provider, ui->provider) == 0) {
		snprintf(line, sizeof(line), "the provider is already %s",
			 provider);
		tui_notice(&ui->tui, line);
		return 0;
	}
	provider_settings(ui, provider, &to);
	key = provider_key(ui, provider, to.key_env);
	/* The log redacts this key too, like the start-up key. */
	if (session_endpoint_prepare(&ep, to.base_url, key, to.key_env, err,
				     sizeof(err)) < 0 ||
	    (ui->s->audit &&
	     audit_add_secret(ui->s->audit, key, err, sizeof(err)) < 0)) {
		snprintf(line, sizeof(line), "the provider stays %s: %s",
			 ui->provider, err);
		tui_notice(&ui->tui, line);
		return 0;
	}

	/* From here on, a failure ends the session: the old worker is gone. */
	if (audit_switch(ui, &to, provider) < 0)
		return -1;
	snprintf(ui->provider, sizeof(ui->provider), "%s", provider);
	snprintf(ui->base_url, sizeof(ui->base_url), "%s", to.base_url);
	snprintf(ui->model, sizeof(ui->model), "%s", to.model);
	snprintf(ui->key_env, sizeof(ui->key_env), "%s", to.key_env);
	if (session_restart_worker(ui->s, &ep, key) < 0)
		return -1;
	tui_forget_todo(&ui->tui);

	snprintf(line, sizeof(line), "provider set to %s (model %s, %s); the "
		 "conversation starts over", provider, to.model, to.base_url);
	tui_notice(&ui->tui, line);
	if (strcmp(provider, ui->start.provider) != 0) {
		snprintf(line, sizeof(line), "--base-url, --model and "
			 "--api-key-env apply to %s only; %s uses %s and its "
			 "defaults", ui->start.provider, provider,
			 strcmp(provider, "anthropic") == 0 ?
			 "ANTHROPIC_BASE_URL, ANTHROPIC_MODEL, ANTHROPIC_API_KEY" :
			 "OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_API_KEY");
		tui_notice(&ui->tui, line);
	}
	return 0;
}
