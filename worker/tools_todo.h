/*
 * The todo_write tool: the model replaces its whole todo list, the worker
 * checks it and sends it to the supervisor as a "todo" event.
 */
#ifndef COWORKER_WORKER_TOOLS_TODO_H
#define COWORKER_WORKER_TOOLS_TODO_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "channel.h"

/*
 * Check a todo_write "todos" array: at most PROTO_TODO_ITEMS_MAX objects,
 * each with "content" (1 to PROTO_TODO_TEXT_MAX bytes, not only spaces)
 * and "status" (pending, in_progress or completed). Other members are
 * ignored. Returns the event's "items" text with *count set: one
 * "STATUS TEXT" line per item, control characters such as newlines turned
 * into spaces. On failure returns NULL with err set to the tool result
 * for the model, or to "" when out of memory.
 */
char *todo_items_text(const cJSON *todos, size_t *count, char *err,
		      size_t errlen);

/*
 * Run a todo_write call: check the list, send the "todo" event and return
 * the tool result text (the list as recorded), or NULL when out of memory.
 */
char *todo_write(struct channel *ch, const cJSON *todos);

#endif
