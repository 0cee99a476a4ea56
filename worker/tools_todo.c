/*
 * todo_write: checking the model's list and reporting it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "text.h"
#include "tools.h"
#include "tools_todo.h"

static const char *const statuses[] = {
	"pending", "in_progress", "completed",
};

#define STATUS_COUNT (sizeof(statuses) / sizeof(statuses[0]))

/* Bytes per line beyond the text: the longest status, a space, a newline. */
#define LINE_EXTRA 16

static const char *status_find(const char *name)
{
	size_t i;

	for (i = 0; i < STATUS_COUNT; i++)
		if (strcmp(statuses[i], name) == 0)
			return statuses[i];
	return NULL;
}

/*
 * The item's text as one line of valid UTF-8: control characters become
 * spaces, so an item cannot add lines to the event, and invalid bytes
 * become U+FFFD, cut back to the limit if that made it longer.
 */
static char *one_line(const char *content)
{
	char *line = text_from_bytes(content, strlen(content)), *p;

	if (!line)
		return NULL;
	for (p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	text_truncate(line, PROTO_TODO_TEXT_MAX);
	return line;
}

static bool only_spaces(const char *s)
{
	for (; *s; s++)
		if (*s != ' ')
			return false;
	return true;
}

/* Append one checked item as "STATUS TEXT"; returns 0, -1 with err. */
static int append_item(struct buf *b, const cJSON *item, size_t n, char *err,
		       size_t errlen)
{
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(item, "content");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(item, "status");
	const char *known;
	size_t len;
	char *line;
	int rc;

	if (!cJSON_IsObject(item))
		return tools_invalid(err, errlen, "todo_write", "item %zu is not an object with "
			       "\"content\" and \"status\"", n);
	if (!cJSON_IsString(status))
		return tools_invalid(err, errlen, "todo_write", "item %zu has no \"status\" string; "
			       "use pending, in_progress or completed", n);
	known = status_find(status->valuestring);
	if (!known)
		return tools_invalid(err, errlen, "todo_write", "item %zu has the unknown status "
			       "\"%.32s\"; use pending, in_progress or "
			       "completed", n, status->valuestring);
	if (!cJSON_IsString(content))
		return tools_invalid(err, errlen, "todo_write", "item %zu has no \"content\" string",
			       n);
	len = strlen(content->valuestring);
	if (len > PROTO_TODO_TEXT_MAX)
		return tools_invalid(err, errlen, "todo_write", "the content of item %zu is %zu "
			       "bytes, at most %d are accepted; shorten it", n,
			       len, PROTO_TODO_TEXT_MAX);

	line = one_line(content->valuestring);
	if (!line)
		return -1;
	if (only_spaces(line)) {
		free(line);
		return tools_invalid(err, errlen, "todo_write", "the content of item %zu is empty",
			       n);
	}
	rc = buf_printf(b, "%s%s %s", b->len ? "\n" : "", known, line);
	free(line);
	return rc;
}

char *todo_items_text(const cJSON *todos, size_t *count, char *err,
		      size_t errlen)
{
	const cJSON *item;
	struct buf b;
	size_t n = 0;

	if (errlen)
		err[0] = '\0';
	if (!cJSON_IsArray(todos)) {
		tools_invalid(err, errlen, "todo_write", "field \"todos\" must be an array");
		return NULL;
	}
	if (cJSON_GetArraySize(todos) > PROTO_TODO_ITEMS_MAX) {
		tools_invalid(err, errlen, "todo_write", "the list has %d items, at most %d are "
			"accepted; merge or drop some", cJSON_GetArraySize(todos),
			PROTO_TODO_ITEMS_MAX);
		return NULL;
	}

	buf_init(&b, PROTO_TODO_ITEMS_MAX * (PROTO_TODO_TEXT_MAX + LINE_EXTRA));
	cJSON_ArrayForEach(item, todos) {
		if (append_item(&b, item, ++n, err, errlen) < 0) {
			buf_free(&b);
			return NULL;
		}
	}
	*count = n;
	return buf_take(&b);
}

char *todo_write(struct channel *ch, const cJSON *todos)
{
	char err[512];
	size_t count = 0;
	struct buf b;
	char *items;
	cJSON *f;

	items = todo_items_text(todos, &count, err, sizeof(err));
	if (!items)
		return err[0] ? strdup(err) : NULL;

	f = cJSON_CreateObject();
	if (!f || !cJSON_AddStringToObject(f, "items", items))
		channel_die("out of memory");
	channel_event(ch, PROTO_TODO, f);
	cJSON_Delete(f);

	buf_init(&b, PROTO_TODO_ITEMS_MAX * (PROTO_TODO_TEXT_MAX + LINE_EXTRA) +
		 128);
	if (count == 0 ? buf_printf(&b, "The todo list is now empty.") :
	    buf_printf(&b, "The todo list now has %zu item%s:\n%s", count,
		       count == 1 ? "" : "s", items) < 0) {
		buf_free(&b);
		free(items);
		return NULL;
	}
	free(items);
	return buf_take(&b);
}
