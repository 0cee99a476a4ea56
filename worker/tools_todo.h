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
 * and "status" (pending, in_progress or completed); other members are
 * ignored. Returns the event's "items" text, one "STATUS TEXT" line per
 * item with control characters (newlines among them) turned into spaces
 * and *count set, or NULL with err holding the tool result for the model
 * (or empty when out of memory).
 */
char *todo_items_text(const cJSON *todos, size_t *count, char *err,
		      size_t errlen);

/*
 * Run a todo_write call: check the list, send the "todo" event and return
 * the tool result text (the list as recorded), or NULL when out of memory.
 */
char *todo_write(struct channel *ch, const cJSON *todos);

#endif
