/* Names of .env files, shared by the policy and the command sandbox. */
#ifndef COWORKER_LIB_ENVFILE_H
#define COWORKER_LIB_ENVFILE_H

#include <stdbool.h>

/*
 * Whether name (a file name without a directory) is a template of a .env
 * file: ".env.example", ".env.sample", ".env.template" or ".env.dist".
 * Projects commit these with placeholder values, so they are left out of
 * the secrets that ".env.*" protects.
 */
bool env_template_name(const char *name);

#endif
