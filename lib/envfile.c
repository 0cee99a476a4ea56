/*
 * Names of .env files. A .env file contains a project's secrets and stays
 * out of git, while its template, with placeholder values, is committed
 * beside it. Masking a committed template in the sandbox would break git
 * diff, git add and git stash there, and keep nothing secret.
 */
#include <string.h>

#include "lib/envfile.h"

bool env_template_name(const char *name)
{
	static const char *const templates[] = {
		".env.example", ".env.sample", ".env.template", ".env.dist",
	};
	size_t i;

	for (i = 0; i < sizeof(templates) / sizeof(templates[0]); i++)
		if (strcmp(name, templates[i]) == 0)
			return true;
	return false;
}
