/*
 * The user's defaults for `coworker exec`, from
 * $XDG_CONFIG_HOME/coworker/config.json (else ~/.config/coworker/...).
 * Command-line flags win over the file; the file wins over the provider's
 * environment variables. The file contains the name of the variable with
 * the API key, never the key itself.
 */
#ifndef COWORKER_USER_CONFIG_H
#define COWORKER_USER_CONFIG_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "supervisor/session.h"

struct user_config {
	char path[4096];	/* the file read, or "" when there was none */
	cJSON *root;		/* owns the strings put into the session config */
};

/* Where the file is looked for. Returns 0, or -1 when HOME is not usable. */
int user_config_path(char *buf, size_t size);

/*
 * Read path (NULL: the default place) and fill every field of cfg that is
 * still unset (NULL, or 0 for max_turns and command_timeout_ms). A missing
 * file is no error. Unknown keys and bad values are: returns -1 with err
 * naming the file, the key and what to do. Strings placed in cfg stay
 * valid until user_config_free.
 */
int user_config_apply(struct user_config *uc, const char *path,
		      struct session_config *cfg, char *err, size_t errlen);

void user_config_free(struct user_config *uc);

#endif
