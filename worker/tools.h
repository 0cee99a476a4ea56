/*
 * The tools the worker offers the model, their argument checks, and how a
 * call becomes a request to the supervisor and a result text for the model.
 */
#ifndef COWORKER_WORKER_TOOLS_H
#define COWORKER_WORKER_TOOLS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "channel.h"

/* File contents and command output beyond this are cut for the model. */
#define TOOLS_RESULT_MAX (256L * 1024)

enum tool_kind {
	TOOL_READ_FILE,
	TOOL_WRITE_FILE,
	TOOL_EDIT_FILE,
	TOOL_LIST_DIRECTORY,
	TOOL_RUN_COMMAND,
	TOOL_LOAD_SKILL,
	TOOL_TODO_WRITE,
	TOOL_GLOB,
	TOOL_GREP,
};

/* A checked tool call; the strings point into root. */
struct tool_args {
	enum tool_kind kind;
	cJSON *root;
	const char *path;
	const char *content;
	const char *old_string;
	const char *new_string;
	const char *command;
	const char *skill;	/* load_skill: the skill's name */
	const char *skill_file;	/* load_skill: another file; NULL for the body */
	const cJSON *todos;	/* todo_write: the array, checked when run */
	long long timeout_ms;	/* 0 when not given */
	long long offset;	/* read_file: first line, from 1; 0 when not given */
	long long limit;	/* read_file: most lines; 0 when not given */
	const char *pattern;	/* glob, grep */
	const char *file_glob;	/* grep: file name filter */
	bool ignore_case;	/* grep */
	long long max_results;	/* grep; 0 when not given */
};

/* The "tools" array of a Chat Completions request. */
cJSON *tools_schema(void);

/*
 * Check a tool call's name and JSON arguments. Returns 0, or -1 with err
 * set to the exact tool result text for the model, e.g.
 * "error: invalid arguments for read_file: missing required field \"path\"".
 */
int tools_parse(const char *name, const char *arguments,
		struct tool_args *args, char *err, size_t errlen);

void tools_args_free(struct tool_args *args);

/*
 * Run a checked call through the supervisor and return the result text for
 * the model (allocated; NULL when out of memory). Exits the worker on a
 * protocol violation, like every channel request.
 */
char *tools_execute(struct channel *ch, const struct tool_args *args);

/* Parse, then execute or describe the error: one call, one result text. */
char *tools_call(struct channel *ch, const char *name, const char *arguments);

/*
 * Write "error: invalid arguments for TOOL: " and the message into err, the
 * tool result a model gets for arguments that break the schema. Returns -1.
 */
int tools_invalid(char *err, size_t errlen, const char *tool,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
