/* Lookups in model responses and messages, which are hostile input. */
#ifndef COWORKER_WORKER_JSON_H
#define COWORKER_WORKER_JSON_H

#include <cjson/cJSON.h>

/* Return member name of obj when it is a string, else NULL. */
const char *json_string_member(const cJSON *obj, const char *name);

/*
 * Return member name of obj as a token count: a number from 0 to 10^9,
 * or -1 when it is absent, not a number or out of that range.
 */
long long json_count_member(const cJSON *obj, const char *name);

#endif
