/*
 * Tool calls as requests to the supervisor, and their replies as result
 * text for the model.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context.h"
#include "text.h"
#include "tools.h"
#include "tools_todo.h"

/*
 * Lines are selected from at most this much of a file; offset and limit
 * reach no further. The protocol's write limit, so any file the agent
 * wrote can be read back.
 */
#define READ_FILE_MAX ((size_t)PROTO_CONTENT_MAX)

/* Room the envelope ("v", "id", "type") needs in a frame. */
#define FRAME_ENVELOPE 128

static char *result_error(const char *fmt, const char *detail)
{
	struct buf b;

	buf_init(&b, PROTO_STR_MAX);
	if (buf_printf(&b, fmt, detail) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

/*
 * Read at most TOOLS_RESULT_MAX bytes from offset 0 (the supervisor may
 * have left a memfd's offset at its end), plus a line with the count of
 * bytes left out and, when hint is not NULL, how to see them.
 */
static char *read_fd_text(int fd, const char *hint)
{
	struct stat st;
	struct buf b;
	char *data, *text = NULL, *out = NULL;
	long long rest = 0;
	size_t len = 0;
	ssize_t n;

	data = malloc(TOOLS_RESULT_MAX);
	if (!data)
		return NULL;
	while (len < TOOLS_RESULT_MAX) {
		n = pread(fd, data + len, TOOLS_RESULT_MAX - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			out = result_error("error: reading the result failed: "
					   "%s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == TOOLS_RESULT_MAX && fstat(fd, &st) == 0 &&
	    st.st_size > (off_t)len)
		rest = (long long)st.st_size - (long long)len;

	text = text_from_bytes(data, len);
	if (!text)
		goto out;
	if (!rest) {
		out = text;
		text = NULL;
		goto out;
	}
	buf_init(&b, 4 * TOOLS_RESULT_MAX);
	if (buf_printf(&b, "%s\n[truncated: %lld more bytes%s%s]", text, rest,
		       hint ? " of output; " : "", hint ? hint : "") == 0)
		out = buf_take(&b);
	buf_free(&b);
out:
	free(text);
	free(data);
	return out;
}

/*
 * Send a request and wait for its reply. Arguments that would not fit in
 * one frame become a tool error for the model instead of a send failure,
 * which would end the worker. Returns 0 with reply, or -1 with *result.
 */
static int tool_request(struct channel *ch, enum proto_type_id type,
			const cJSON *fields, int fd, struct proto_msg *reply,
			char **result)
{
	char *text = cJSON_PrintUnformatted(fields);
	size_t len;

	if (!text) {
		*result = NULL;
		return -1;
	}
	len = strlen(text);
	free(text);
	if (len + FRAME_ENVELOPE > PROTO_FRAME_MAX) {
		*result = strdup("error: the arguments are too large for one "
				 "request (64 KiB of JSON at most); split the "
				 "change into smaller edits or use write_file");
		return -1;
	}
	channel_request(ch, type, fields, fd, reply);
	if (!proto_bool(reply, "ok", false)) {
		*result = result_error("error: %s", proto_str(reply, "error") ?
				       proto_str(reply, "error") :
				       "the supervisor gave no reason");
		proto_msg_free(reply);
		return -1;
	}
	return 0;
}

/* The reply's "content", or a note that it had none. */
static char *reply_content(struct proto_msg *reply)
{
	const char *content = proto_str(reply, "content");
	char *out = strdup(content ? content : "(no content)");

	proto_msg_free(reply);
	return out;
}

/*
 * Up to READ_FILE_MAX bytes of a file from offset 0, for line selection;
 * *total is the file's size.
 */
static char *read_fd_all(int fd, size_t *len, size_t *total, char **result)
{
	struct stat st;
	size_t want;
	ssize_t n;
	char *data;

	*len = 0;
	if (fstat(fd, &st) < 0) {
		*result = result_error("error: reading the file failed: %s",
				       strerror(errno));
		return NULL;
	}
	*total = st.st_size > 0 ? (size_t)st.st_size : 0;
	want = *total < READ_FILE_MAX ? *total : READ_FILE_MAX;
	data = malloc(want + 1);
	if (!data) {
		*result = NULL;
		return NULL;
	}
	while (*len < want) {
		n = pread(fd, data + *len, want - *len, (off_t)*len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*result = result_error("error: reading the file failed: "
					       "%s", strerror(errno));
			free(data);
			return NULL;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	data[*len] = '\0';
	return data;
}

static char *run_read_file(struct channel *ch, const struct tool_args *args,
			   const cJSON *fields)
{
	struct proto_msg reply;
	size_t len, total;
	char *result = NULL, *data;

	if (tool_request(ch, PROTO_READ_FILE, fields, -1, &reply, &result) < 0)
		return result;
	if (reply.fd < 0) {
		result = strdup("error: the supervisor sent no file descriptor");
	} else {
		data = read_fd_all(reply.fd, &len, &total, &result);
		if (data)
			result = context_select_lines(data, len, total,
						      args->offset, args->limit,
						      TOOLS_RESULT_MAX);
		free(data);
	}
	proto_msg_free(&reply);
	return result;
}

/* Write content into a memfd sealed so it cannot change after review. */
static int sealed_memfd(const char *content, char **result)
{
	size_t len = strlen(content), done = 0;
	ssize_t n;
	int fd;

	fd = memfd_create("coworker-write", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		goto fail;
	while (done < len) {
		n = write(fd, content + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		goto fail;
	return fd;
fail:
	*result = result_error("error: preparing the content failed: %s",
			       strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static char *run_write_file(struct channel *ch, const struct tool_args *args,
			    const cJSON *fields)
{
	struct proto_msg reply;
	char *result;
	int fd, rc;

	fd = sealed_memfd(args->content, &result);
	if (fd < 0)
		return result;
	rc = tool_request(ch, PROTO_WRITE_FILE, fields, fd, &reply, &result);
	close(fd);
	return rc < 0 ? result : reply_content(&reply);
}

static char *run_simple(struct channel *ch, enum proto_type_id type,
			const cJSON *fields)
{
	struct proto_msg reply;
	char *result;

	if (tool_request(ch, type, fields, -1, &reply, &result) < 0)
		return result;
	return reply_content(&reply);
}

static char *format_command_result(struct proto_msg *reply)
{
	long long sig = proto_int(reply, "signal", 0);
	char *output = NULL, *out = NULL;
	struct buf b;
	int rc;

	if (reply->fd >= 0) {
		output = read_fd_text(reply->fd, CONTEXT_OUTPUT_HINT);
		if (!output)
			return NULL;
	}
	buf_init(&b, 8 * TOOLS_RESULT_MAX);
	if (sig > 0)
		rc = buf_printf(&b, "signal: %lld\n", sig);
	else
		rc = buf_printf(&b, "exit_code: %lld\n",
				proto_int(reply, "exit_code", -1));
	if (rc == 0 && proto_bool(reply, "timed_out", false))
		rc = buf_printf(&b, "timed_out: true\n");
	/* A kill by the memory or pids limit reads better with them named. */
	if (rc == 0 && proto_str(reply, "limits"))
		rc = buf_printf(&b, "limits: %s\n", proto_str(reply, "limits"));
	if (rc == 0 && proto_bool(reply, "oom_killed", false))
		rc = buf_printf(&b, "oom_killed: true (the memory limit killed "
				"the command or one of its processes)\n");
	if (rc == 0)
		rc = buf_printf(&b, "output_bytes: %lld%s\noutput:\n%s",
				proto_int(reply, "output_bytes", 0),
				proto_bool(reply, "truncated", false) ?
				" (truncated)" : "",
				output ? output : "");
	if (rc == 0)
		out = buf_take(&b);
	buf_free(&b);
	free(output);
	return out;
}

static char *run_command(struct channel *ch, const cJSON *fields)
{
	struct proto_msg reply;
	char *result;

	if (tool_request(ch, PROTO_RUN_COMMAND, fields, -1, &reply,
			 &result) < 0)
		return result;
	result = format_command_result(&reply);
	proto_msg_free(&reply);
	return result;
}

/* The skill's text, cut at TOOLS_RESULT_MAX like any other result. */
static char *run_load_skill(struct channel *ch, const cJSON *fields)
{
	struct proto_msg reply;
	char *result;

	if (tool_request(ch, PROTO_LOAD_SKILL, fields, -1, &reply,
			 &result) < 0)
		return result;
	if (reply.fd < 0)
		result = strdup("error: the supervisor sent no file descriptor");
	else
		result = read_fd_text(reply.fd, NULL);
	proto_msg_free(&reply);
	return result;
}

/* The request fields: tool argument names become protocol names. */
static cJSON *request_fields(const struct tool_args *args)
{
	cJSON *f = cJSON_CreateObject();
	bool ok = f != NULL;

	if (ok && args->path)
		ok = cJSON_AddStringToObject(f, "path", args->path) != NULL;
	if (ok && args->kind == TOOL_EDIT_FILE)
		ok = cJSON_AddStringToObject(f, "old", args->old_string) &&
		     cJSON_AddStringToObject(f, "new", args->new_string);
	if (ok && args->command)
		ok = cJSON_AddStringToObject(f, "command", args->command) != NULL;
	if (ok && args->skill)
		ok = cJSON_AddStringToObject(f, "name", args->skill) != NULL;
	if (ok && args->skill_file)
		ok = cJSON_AddStringToObject(f, "file", args->skill_file) != NULL;
	if (ok && args->timeout_ms)
		ok = cJSON_AddNumberToObject(f, "timeout_ms",
					     (double)args->timeout_ms) != NULL;
	if (ok && args->pattern)
		ok = cJSON_AddStringToObject(f, "pattern", args->pattern) != NULL;
	if (ok && args->file_glob)
		ok = cJSON_AddStringToObject(f, "glob", args->file_glob) != NULL;
	if (ok && args->ignore_case)
		ok = cJSON_AddBoolToObject(f, "ignore_case", 1) != NULL;
	if (ok && args->max_results)
		ok = cJSON_AddNumberToObject(f, "max_results",
					     (double)args->max_results) != NULL;
	if (!ok) {
		cJSON_Delete(f);
		return NULL;
	}
	return f;
}

char *tools_execute(struct channel *ch, const struct tool_args *args)
{
	cJSON *fields = request_fields(args);
	char *result = NULL;

	if (!fields)
		return NULL;
	switch (args->kind) {
	case TOOL_READ_FILE:
		result = run_read_file(ch, args, fields);
		break;
	case TOOL_WRITE_FILE:
		result = run_write_file(ch, args, fields);
		break;
	case TOOL_EDIT_FILE:
		result = run_simple(ch, PROTO_EDIT_FILE, fields);
		break;
	case TOOL_LIST_DIRECTORY:
		result = run_simple(ch, PROTO_LIST_DIRECTORY, fields);
		break;
	case TOOL_RUN_COMMAND:
		result = run_command(ch, fields);
		break;
	case TOOL_LOAD_SKILL:
		result = run_load_skill(ch, fields);
		break;
	case TOOL_TODO_WRITE:
		result = todo_write(ch, args->todos);
		break;
	case TOOL_GLOB:
		result = run_simple(ch, PROTO_GLOB, fields);
		break;
	case TOOL_GREP:
		result = run_simple(ch, PROTO_GREP, fields);
		break;
	}
	cJSON_Delete(fields);
	return result;
}
