/*
 * Reading the user's config.json for `coworker exec`.
 */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supervisor/user_config.h"
#include "lib/error.h"

/* A config file is a few hundred bytes, so a larger one is a mistake. */
#define USER_CONFIG_MAX (64 * 1024)

static const char known_keys[] = "provider, model, base_url, max_turns, "
				 "mode, command_timeout, api_key_env";

int user_config_path(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		return (size_t)snprintf(buf, size, "%s/coworker/config.json",
					xdg) < size ? 0 : -1;
	if (!home || home[0] != '/')
		return -1;
	return (size_t)snprintf(buf, size, "%s/.config/coworker/config.json",
				home) < size ? 0 : -1;
}

/* Read the whole file; returns 1, 0 when it does not exist, or -1. */
static int read_text(const char *path, char **text, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd;

	*text = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return error_set(err, errlen, "%s: cannot open: %s", path,
			    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > USER_CONFIG_MAX) {
		close(fd);
		return error_set(err, errlen, "%s: not a regular file of at most %d "
			    "bytes", path, USER_CONFIG_MAX);
	}
	*text = calloc(1, (size_t)st.st_size + 1);
	if (!*text) {
		close(fd);
		return error_set(err, errlen, "out of memory");
	}
	n = read(fd, *text, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(*text);
		*text = NULL;
		return error_set(err, errlen, "%s: cannot read the whole file", path);
	}
	return 1;
}

static bool one_of(const char *value, const char *const *choices)
{
	for (; *choices; choices++)
		if (strcmp(value, *choices) == 0)
			return true;
	return false;
}

static bool variable_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static int bad_value(const char *path, const char *key, const char *want,
		     char *err, size_t errlen)
{
	return error_set(err, errlen, "%s: \"%s\" must be %s; fix or remove it",
		    path, key, want);
}

/* A non-empty string, kept unless a flag has set the field already. */
static int take_string(const char *path, const cJSON *item, const char **out,
		       char *err, size_t errlen)
{
	if (!cJSON_IsString(item) || !item->valuestring[0])
		return bad_value(path, item->string, "a non-empty string", err,
				 errlen);
	if (!*out)
		*out = item->valuestring;
	return 0;
}

static int take_number(const char *path, const cJSON *item, long min,
		       long max, long *out, char *err, size_t errlen)
{
	char want[96];
	double v = cJSON_GetNumberValue(item);

	snprintf(want, sizeof(want), "a whole number from %ld to %ld", min,
		 max);
	if (!cJSON_IsNumber(item) || v != (double)(long)v || v < min ||
	    v > max)
		return bad_value(path, item->string, want, err, errlen);
	if (*out == 0)
		*out = (long)v;
	return 0;
}

static int apply_key(const char *path, const cJSON *item,
		     struct session_config *cfg, char *err, size_t errlen)
{
	static const char *const providers[] = { "openai", "anthropic", NULL };
	static const char *const modes[] = {
		"read-only", "workspace-write", "full-access", NULL,
	};
	const char *key = item->string;
	long seconds = 0;

	if (strcmp(key, "model") == 0)
		return take_string(path, item, &cfg->model, err, errlen);
	if (strcmp(key, "base_url") == 0)
		return take_string(path, item, &cfg->base_url, err, errlen);
	if (strcmp(key, "provider") == 0) {
		if (!cJSON_IsString(item) || !one_of(item->valuestring, providers))
			return bad_value(path, key, "\"openai\" or \"anthropic\"",
					 err, errlen);
		return take_string(path, item, &cfg->provider, err, errlen);
	}
	if (strcmp(key, "mode") == 0) {
		if (!cJSON_IsString(item) || !one_of(item->valuestring, modes))
			return bad_value(path, key, "\"read-only\", "
					 "\"workspace-write\" or \"full-access\"",
					 err, errlen);
		return take_string(path, item, &cfg->mode, err, errlen);
	}
	if (strcmp(key, "api_key_env") == 0) {
		if (!cJSON_IsString(item) || !variable_name(item->valuestring))
			return bad_value(path, key, "the name of an environment "
					 "variable (the key itself never goes "
					 "in this file)", err, errlen);
		return take_string(path, item, &cfg->api_key_env, err, errlen);
	}
	if (strcmp(key, "max_turns") == 0)
		return take_number(path, item, 1, 10000, &cfg->max_turns, err,
				   errlen);
	if (strcmp(key, "command_timeout") == 0) {
		if (take_number(path, item, 1, 86400, &seconds, err, errlen) < 0)
			return -1;
		if (cfg->command_timeout_ms == 0)
			cfg->command_timeout_ms = seconds * 1000;
		return 0;
	}
	return error_set(err, errlen, "%s: unknown key \"%s\"; the keys are %s",
		    path, key, known_keys);
}

int user_config_apply(struct user_config *uc, const char *path,
		      struct session_config *cfg, char *err, size_t errlen)
{
	const cJSON *item;
	const char *end = NULL;
	char *text;
	int rc, line, col;

	memset(uc, 0, sizeof(*uc));
	if (path)
		snprintf(uc->path, sizeof(uc->path), "%s", path);
	else if (user_config_path(uc->path, sizeof(uc->path)) < 0)
		return 0;
	rc = read_text(uc->path, &text, err, errlen);
	if (rc <= 0) {
		if (rc == 0)
			uc->path[0] = '\0';
		return rc;
	}
	uc->root = cJSON_ParseWithOpts(text, &end, true);
	if (!uc->root) {
		error_position(text, end && end >= text ? (size_t)(end - text) :
			       0, &line, &col);
		free(text);
		return error_set(err, errlen, "%s:%d:%d: invalid JSON: fix the "
				 "syntax there", uc->path, line, col);
	}
	free(text);
	if (!cJSON_IsObject(uc->root))
		return error_set(err, errlen, "%s: not a JSON object; write it as "
			    "{\"model\": \"...\", ...} with the keys %s",
			    uc->path, known_keys);
	cJSON_ArrayForEach(item, uc->root)
		if (apply_key(uc->path, item, cfg, err, errlen) < 0)
			return -1;
	return 0;
}

void user_config_free(struct user_config *uc)
{
	cJSON_Delete(uc->root);
	uc->root = NULL;
}
