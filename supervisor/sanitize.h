/*
 * Text from a worker or a command is never interpreted by the terminal:
 * control characters, escape sequences and bidirectional overrides are
 * written in a visible escaped form instead.
 */
#ifndef COWORKER_SANITIZE_H
#define COWORKER_SANITIZE_H

#include <stdbool.h>
#include <stdio.h>

/* Write text to out, escaping what a terminal would act on. */
void sanitize_write(FILE *out, const char *text, bool keep_newlines);

#endif
