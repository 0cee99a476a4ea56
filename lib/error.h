/*
 * The error convention of library-style code: a function that fails fills
 * the caller's buffer with a message naming the value and what to do, and
 * returns -1.
 */
#ifndef COWORKER_LIB_ERROR_H
#define COWORKER_LIB_ERROR_H

#include <stddef.h>

/* Format the message into err (errlen bytes, cut if longer); returns -1. */
int error_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The line and column, from 1, of byte off in buf, for error messages. */
void error_position(const char *buf, size_t off, int *line, int *col);

#endif
