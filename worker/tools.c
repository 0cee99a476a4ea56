/*
 * Tool schemas and argument checks. Nothing here talks to the supervisor;
 * tools_run.c does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "tools.h"
#include "tools_todo.h"

#define PATH_MAX_BYTES 4096		/* the protocol's path limit */
#define TIMEOUT_MS_MAX 86400000LL	/* the protocol's timeout limit */
#define LINES_MAX 1000000000LL		/* read_file offset and limit */
#define SKILL_NAME_MAX_BYTES 64		/* the protocol's skill name limit */
#define PATTERN_MAX_BYTES 1024		/* the protocol's glob and grep limit */
#define RESULTS_MAX 10000LL		/* the protocol's grep max_results limit */

struct tool_field {
	const char *name;
	const char *type;	/* JSON Schema type: string, integer, boolean or array */
	const char *description;
	bool required;
};

static const char *const todo_statuses[] = {
	"pending", "in_progress", "completed", NULL,
};

static const struct tool_field todo_item_fields[] = {
	{ "content", "string", "What to do, in one line of 1 to 500 bytes.",
	  true },
	{ "status", "string", "pending, in_progress (one item at a time) or "
	  "completed.", true },
	{ NULL },
};

/*
 * Schema details beyond a field's type, by field name: the fields of the
 * objects an array holds, and the values a string may take.
 */
static const struct field_schema {
	const char *name;
	const struct tool_field *items;
	const char *const *choices;
} field_schemas[] = {
	{ "todos", todo_item_fields, NULL },
	{ "status", NULL, todo_statuses },
};

static const struct field_schema *field_schema_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(field_schemas) / sizeof(field_schemas[0]); i++)
		if (strcmp(field_schemas[i].name, name) == 0)
			return &field_schemas[i];
	return NULL;
}

struct tool_def {
	enum tool_kind kind;
	const char *name;
	const char *description;
	struct tool_field fields[6];	/* ends at name NULL */
};

static const struct tool_def tool_defs[] = {
	{ TOOL_READ_FILE, "read_file",
	  "Read a text file in the workspace and return its contents. "
	  "Output over 256 KiB is cut at a line end, and the cut says which "
	  "offset reads on.", {
		{ "path", "string", "File path relative to the workspace.", true },
		{ "offset", "integer",
		  "First line to return, counting from 1 (default 1).", false },
		{ "limit", "integer",
		  "Most lines to return (default: to the end).", false },
		{ NULL } } },
	{ TOOL_WRITE_FILE, "write_file",
	  "Create a file in the workspace, or replace all of its content.", {
		{ "path", "string", "File path relative to the workspace.", true },
		{ "content", "string", "The complete new content of the file.",
		  true },
		{ NULL } } },
	{ TOOL_EDIT_FILE, "edit_file",
	  "Replace one exact occurrence of old_string with new_string in a "
	  "file. Fails when old_string is absent or occurs more than once, so "
	  "include enough surrounding lines to make it unique.", {
		{ "path", "string", "File path relative to the workspace.", true },
		{ "old_string", "string", "The exact text to replace.", true },
		{ "new_string", "string", "The text to put in its place.", true },
		{ NULL } } },
	{ TOOL_LIST_DIRECTORY, "list_directory",
	  "List a directory in the workspace, one entry per line, sorted; "
	  "directory names end in \"/\".", {
		{ "path", "string",
		  "Directory path relative to the workspace; \".\" is the "
		  "workspace itself.", true },
		{ NULL } } },
	{ TOOL_RUN_COMMAND, "run_command",
	  "Run a shell command with bash -c in the workspace, inside a "
	  "sandbox. Returns the exit code and the combined stdout and "
	  "stderr.", {
		{ "command", "string", "The shell command line.", true },
		{ "timeout_ms", "integer",
		  "Wall-clock limit in milliseconds; the command is killed "
		  "after it.", false },
		{ NULL } } },
	{ TOOL_LOAD_SKILL, "load_skill",
	  "Load the instructions of a skill from the skills list in the "
	  "system prompt. Without file, returns the skill's instructions; "
	  "with file, one of the skill's other files that the instructions "
	  "name.", {
		{ "name", "string", "The skill's name, as listed.", true },
		{ "file", "string",
		  "A file of the skill, relative to the skill's folder, e.g. "
		  "\"reference/checklist.md\".", false },
		{ NULL } } },
	{ TOOL_TODO_WRITE, "todo_write",
	  "Replace your todo list for the task with the list given, and show "
	  "it to the user. Use it for work of several steps: list the steps, "
	  "mark the one you work on in_progress and each finished one "
	  "completed. At most 50 items.", {
		{ "todos", "array", "The complete list, in order; it replaces "
		  "the previous one.", true },
		{ NULL } } },
	{ TOOL_GLOB, "glob",
	  "Find files and directories in the workspace whose paths match a "
	  "glob pattern. \"*\" matches within one path component, \"?\" one "
	  "character, \"[a-z]\" one character of a class, and \"**\" any "
	  "number of directories. Returns paths relative to the workspace, "
	  "one per line in path order; directories end in \"/\" and symlinks "
	  "in \"@\". Symlinks are not followed, .git is skipped, and paths "
	  "the policy does not let you read are left out and counted.", {
		{ "pattern", "string",
		  "Glob matched against each path relative to path, e.g. "
		  "\"**/*.c\" or \"src/*/test_*.py\".", true },
		{ "path", "string",
		  "Directory to search, relative to the workspace (default: "
		  "the workspace).", false },
		{ NULL } } },
	{ TOOL_GREP, "grep",
	  "Search the contents of files in the workspace for lines matching "
	  "a POSIX extended regular expression (as grep -E). Returns "
	  "path:LINE:text for each matching line, in path order. Binary "
	  "files, symlinks, .git and files the policy does not let you read "
	  "are skipped; long lines are cut around the match. "
	  "Back-references such as \\1 are not supported.", {
		{ "pattern", "string",
		  "POSIX extended regular expression matched against each "
		  "line.", true },
		{ "path", "string",
		  "Directory or file to search, relative to the workspace "
		  "(default: the workspace).", false },
		{ "glob", "string",
		  "Search only files whose name matches this glob, e.g. "
		  "\"*.c\"; a glob with \"/\" is matched against the path "
		  "relative to path instead.", false },
		{ "ignore_case", "boolean",
		  "Match letters in either case (default false).", false },
		{ "max_results", "integer",
		  "Most matching lines to return, from 1 to 10000 (default "
		  "200).", false },
		{ NULL } } },
};

#define TOOL_COUNT (sizeof(tool_defs) / sizeof(tool_defs[0]))

static cJSON *schema_object(const struct tool_field *fields);

static cJSON *schema_property(const struct tool_field *f)
{
	const struct field_schema *extra = field_schema_find(f->name);
	cJSON *prop = cJSON_CreateObject(), *choices, *items;
	const char *const *c;

	if (!prop || !cJSON_AddStringToObject(prop, "type", f->type) ||
	    !cJSON_AddStringToObject(prop, "description", f->description))
		goto bad;
	if (extra && extra->choices) {
		choices = cJSON_AddArrayToObject(prop, "enum");
		for (c = extra->choices; choices && *c; c++)
			if (!cJSON_AddItemToArray(choices, cJSON_CreateString(*c)))
				goto bad;
		if (!choices)
			goto bad;
	}
	if (extra && extra->items) {
		items = schema_object(extra->items);
		if (!items || !cJSON_AddItemToObject(prop, "items", items)) {
			cJSON_Delete(items);
			goto bad;
		}
	}
	return prop;
bad:
	cJSON_Delete(prop);
	return NULL;
}

/* {"type": "object", "properties": ..., "required": [...]} for fields. */
static cJSON *schema_object(const struct tool_field *fields)
{
	cJSON *params = cJSON_CreateObject();
	cJSON *props = cJSON_AddObjectToObject(params, "properties");
	cJSON *required = cJSON_AddArrayToObject(params, "required");
	const struct tool_field *f;
	cJSON *prop;

	if (!params || !props || !required ||
	    !cJSON_AddStringToObject(params, "type", "object"))
		goto bad;
	for (f = fields; f->name; f++) {
		prop = schema_property(f);
		if (!prop || !cJSON_AddItemToObject(props, f->name, prop)) {
			cJSON_Delete(prop);
			goto bad;
		}
		if (f->required &&
		    !cJSON_AddItemToArray(required, cJSON_CreateString(f->name)))
			goto bad;
	}
	return params;
bad:
	cJSON_Delete(params);
	return NULL;
}

cJSON *tools_schema(void)
{
	cJSON *tools = cJSON_CreateArray();
	cJSON *tool, *function, *params;
	size_t i;

	for (i = 0; tools && i < TOOL_COUNT; i++) {
		tool = cJSON_CreateObject();
		if (!tool || !cJSON_AddItemToArray(tools, tool))
			goto bad;
		function = cJSON_AddObjectToObject(tool, "function");
		params = schema_object(tool_defs[i].fields);
		if (!function || !params ||
		    !cJSON_AddStringToObject(tool, "type", "function") ||
		    !cJSON_AddStringToObject(function, "name",
					     tool_defs[i].name) ||
		    !cJSON_AddStringToObject(function, "description",
					     tool_defs[i].description)) {
			cJSON_Delete(params);
			goto bad;
		}
		cJSON_AddItemToObject(function, "parameters", params);
	}
	return tools;
bad:
	cJSON_Delete(tools);
	return NULL;
}

static const struct tool_def *tool_find(const char *name)
{
	size_t i;

	for (i = 0; i < TOOL_COUNT; i++)
		if (strcmp(tool_defs[i].name, name) == 0)
			return &tool_defs[i];
	return NULL;
}

int tools_invalid(char *err, size_t errlen, const char *tool,
		  const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errlen, "error: invalid arguments for %s: ", tool);
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* The protocol's limits on each string argument, in bytes. */
static void string_limits(const char *name, size_t *min, size_t *max)
{
	*min = 0;
	*max = PROTO_STR_MAX;
	if (strcmp(name, "path") == 0) {
		*min = 1;
		*max = PATH_MAX_BYTES;
	} else if (strcmp(name, "command") == 0) {
		*min = 1;
	} else if (strcmp(name, "old_string") == 0) {
		*min = 1;
		*max = PROTO_STR_MAX / 2;
	} else if (strcmp(name, "new_string") == 0) {
		*max = PROTO_STR_MAX / 2;
	} else if (strcmp(name, "content") == 0) {
		*max = PROTO_CONTENT_MAX;
	} else if (strcmp(name, "name") == 0) {
		*min = 1;
		*max = SKILL_NAME_MAX_BYTES;
	} else if (strcmp(name, "file") == 0) {
		*min = 1;
		*max = PATH_MAX_BYTES;
	} else if (strcmp(name, "pattern") == 0 || strcmp(name, "glob") == 0) {
		*min = 1;
		*max = PATTERN_MAX_BYTES;
	}
}

static int check_string(const struct tool_def *def, const char *name,
			const cJSON *item, char *err, size_t errlen)
{
	size_t min, max, len;

	if (!cJSON_IsString(item))
		return tools_invalid(err, errlen, def->name, "field \"%s\" must be a string",
			       name);
	string_limits(name, &min, &max);
	len = strlen(item->valuestring);
	if (len < min)
		return tools_invalid(err, errlen, def->name, "field \"%s\" must not be "
			       "empty", name);
	if (len > max)
		return tools_invalid(err, errlen, def->name, "field \"%s\" is %zu bytes, "
			       "at most %zu are accepted", name, len, max);
	return 0;
}

static int check_integer(const struct tool_def *def, const char *name,
			 const cJSON *item, long long *out, char *err,
			 size_t errlen)
{
	long long max = strcmp(name, "timeout_ms") == 0 ? TIMEOUT_MS_MAX :
			strcmp(name, "max_results") == 0 ? RESULTS_MAX :
			LINES_MAX;
	double d;

	d = cJSON_IsNumber(item) ? item->valuedouble : 0;
	if (!cJSON_IsNumber(item) || d != (double)(long long)d || d < 1 ||
	    d > (double)max)
		return tools_invalid(err, errlen, def->name, "field \"%s\" must be an "
			       "integer from 1 to %lld", name, max);
	*out = (long long)d;
	return 0;
}

static long long *integer_slot(struct tool_args *args, const char *name)
{
	if (strcmp(name, "offset") == 0)
		return &args->offset;
	if (strcmp(name, "limit") == 0)
		return &args->limit;
	if (strcmp(name, "max_results") == 0)
		return &args->max_results;
	return &args->timeout_ms;
}

static const char **string_slot(struct tool_args *args, const char *name)
{
	if (strcmp(name, "path") == 0)
		return &args->path;
	if (strcmp(name, "content") == 0)
		return &args->content;
	if (strcmp(name, "old_string") == 0)
		return &args->old_string;
	if (strcmp(name, "new_string") == 0)
		return &args->new_string;
	if (strcmp(name, "name") == 0)
		return &args->skill;
	if (strcmp(name, "file") == 0)
		return &args->skill_file;
	if (strcmp(name, "pattern") == 0)
		return &args->pattern;
	if (strcmp(name, "glob") == 0)
		return &args->file_glob;
	return &args->command;
}

/* Fields the tool does not define are ignored, as models add some. */
static int check_fields(const struct tool_def *def, struct tool_args *args,
			char *err, size_t errlen)
{
	const struct tool_field *f;
	const cJSON *item;

	for (f = def->fields; f->name; f++) {
		item = cJSON_GetObjectItemCaseSensitive(args->root, f->name);
		if (!item || cJSON_IsNull(item)) {
			if (f->required)
				return tools_invalid(err, errlen, def->name, "missing "
					       "required field \"%s\"", f->name);
			continue;
		}
		if (strcmp(f->type, "array") == 0) {
			/* The items are checked when the call runs. */
			if (!cJSON_IsArray(item))
				return tools_invalid(err, errlen, def->name, "field \"%s\" "
					       "must be an array", f->name);
			args->todos = item;
			continue;
		}
		if (strcmp(f->type, "boolean") == 0) {
			if (!cJSON_IsBool(item))
				return tools_invalid(err, errlen, def->name, "field \"%s\" "
					       "must be true or false", f->name);
			args->ignore_case = cJSON_IsTrue(item);
			continue;
		}
		if (strcmp(f->type, "integer") == 0) {
			if (check_integer(def, f->name, item,
					  integer_slot(args, f->name),
					  err, errlen) < 0)
				return -1;
			continue;
		}
		if (check_string(def, f->name, item, err, errlen) < 0)
			return -1;
		*string_slot(args, f->name) = item->valuestring;
	}
	return 0;
}

int tools_parse(const char *name, const char *arguments,
		struct tool_args *args, char *err, size_t errlen)
{
	const struct tool_def *def = tool_find(name);

	memset(args, 0, sizeof(*args));
	if (!def) {
		snprintf(err, errlen, "error: unknown tool \"%.128s\"", name);
		return -1;
	}
	args->kind = def->kind;

	args->root = cJSON_Parse(arguments ? arguments : "");
	if (!args->root) {
		tools_invalid(err, errlen, def->name, "arguments are not valid JSON");
		goto bad;
	}
	if (!cJSON_IsObject(args->root)) {
		tools_invalid(err, errlen, def->name, "arguments are not a JSON object");
		goto bad;
	}
	if (check_fields(def, args, err, errlen) < 0)
		goto bad;
	return 0;
bad:
	tools_args_free(args);
	return -1;
}

void tools_args_free(struct tool_args *args)
{
	cJSON_Delete(args->root);
	memset(args, 0, sizeof(*args));
}

char *tools_call(struct channel *ch, const char *name, const char *arguments)
{
	struct tool_args args;
	char err[512];
	char *result;

	if (tools_parse(name, arguments, &args, err, sizeof(err)) < 0)
		return strdup(err);
	result = tools_execute(ch, &args);
	tools_args_free(&args);
	return result;
}
