/*
 * Reading the supervisor's "config" message.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "text.h"
#include "lib/error.h"

static int copy_field(const struct proto_msg *msg, const char *name,
		      char **out, char *err, size_t errlen)
{
	const char *value = proto_str(msg, name);

	*out = NULL;
	if (!value)
		return 0;
	*out = strdup(value);
	if (!*out)
		return error_set(err, errlen, "out of memory copying config.%s", name);
	return 0;
}

static int read_ca(int fd, struct worker_config *cfg, char *err, size_t errlen)
{
	struct buf b;
	char chunk[16384];
	ssize_t n;

	buf_init(&b, CONFIG_CA_MAX);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set(err, errlen, "reading the CA bundle failed: %s",
			     strerror(errno));
			goto bad;
		}
		if (n == 0)
			break;
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			error_set(err, errlen, "the CA bundle exceeds %ld bytes",
			     CONFIG_CA_MAX);
			goto bad;
		}
	}
	if (b.len == 0) {
		error_set(err, errlen, "the CA bundle descriptor is empty");
		goto bad;
	}
	cfg->ca_len = b.len;
	cfg->ca = buf_take(&b);
	return cfg->ca ? 0 : error_set(err, errlen, "out of memory");
bad:
	buf_free(&b);
	return -1;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && strncmp(s + len - n, suffix, n) == 0;
}

enum provider config_guess_provider(const char *model, const char *base_url)
{
	const char *query = strpbrk(base_url, "?#");
	size_t len = query ? (size_t)(query - base_url) : strlen(base_url);

	while (len > 1 && base_url[len - 1] == '/')
		len--;
	if (ends_with(base_url, len, "/anthropic") ||
	    ends_with(base_url, len, "/anthropic/v1") ||
	    strncmp(model, "claude", 6) == 0)
		return PROVIDER_ANTHROPIC;
	return PROVIDER_OPENAI;
}

/* The config's provider, or a guess when it names none. */
static int pick_provider(const struct proto_msg *msg,
			 struct worker_config *cfg, char *err, size_t errlen)
{
	const char *name = proto_str(msg, "provider");

	if (!name) {
		cfg->provider = config_guess_provider(cfg->model,
						      cfg->base_url);
		return 0;
	}
	if (strcmp(name, "openai") == 0)
		cfg->provider = PROVIDER_OPENAI;
	else if (strcmp(name, "anthropic") == 0)
		cfg->provider = PROVIDER_ANTHROPIC;
	else
		return error_set(err, errlen, "config.provider \"%.32s\" is "
			    "neither \"openai\" nor \"anthropic\"", name);
	return 0;
}

int config_from_msg(struct proto_msg *msg, struct worker_config *cfg,
		    char *err, size_t errlen)
{
	int fd, rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (copy_field(msg, "model", &cfg->model, err, errlen) < 0 ||
	    copy_field(msg, "base_url", &cfg->base_url, err, errlen) < 0 ||
	    copy_field(msg, "resolve", &cfg->resolve, err, errlen) < 0 ||
	    copy_field(msg, "proxy", &cfg->proxy, err, errlen) < 0 ||
	    copy_field(msg, "api_key", &cfg->api_key, err, errlen) < 0 ||
	    copy_field(msg, "workspace", &cfg->workspace, err, errlen) < 0 ||
	    copy_field(msg, "skills", &cfg->skills, err, errlen) < 0 ||
	    copy_field(msg, "instructions", &cfg->instructions, err,
		       errlen) < 0)
		return -1;
	cfg->max_turns = (long)proto_int(msg, "max_turns", 1);
	cfg->context_tokens = proto_int(msg, "context_tokens", 0);
	cfg->token_budget = proto_int(msg, "token_budget", 0);
	cfg->deltas = proto_bool(msg, "deltas", false);
	if (!cfg->model || !cfg->base_url)
		return error_set(err, errlen, "config lacks model or base_url");
	if (pick_provider(msg, cfg, err, errlen) < 0)
		return -1;

	/* The copy is the only one kept; wipe the key in the message. */
	if (cfg->api_key)
		explicit_bzero((char *)proto_str(msg, "api_key"),
			       strlen(cfg->api_key));

	/* An empty key means none: no Authorization header is sent. */
	if (cfg->api_key && !cfg->api_key[0]) {
		free(cfg->api_key);
		cfg->api_key = NULL;
	}

	fd = proto_msg_take_fd(msg);
	if (fd >= 0) {
		rc = read_ca(fd, cfg, err, errlen);
		close(fd);
	}
	return rc;
}

void config_free(struct worker_config *cfg)
{
	if (cfg->api_key)
		explicit_bzero(cfg->api_key, strlen(cfg->api_key));
	free(cfg->model);
	free(cfg->base_url);
	free(cfg->resolve);
	free(cfg->proxy);
	free(cfg->api_key);
	free(cfg->workspace);
	free(cfg->skills);
	free(cfg->instructions);
	free(cfg->ca);
	memset(cfg, 0, sizeof(*cfg));
}
