/*
 * Compaction of older turns: choosing what to summarise, the summary
 * request, and splicing the summary into the conversation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "compact.h"
#include "openai.h"
#include "text.h"
#include "lib/error.h"

static const char summary_instruction[] =
	"You summarise the work of a coding agent so that it can carry on "
	"with its task after the older part of its conversation is removed. "
	"Answer with plain text only and call no tools. Keep what the agent "
	"needs to continue: what it did and found, the files it read or "
	"changed and the facts in them that matter, the commands it ran and "
	"their results, its decisions and their reasons, the errors it met, "
	"and what remains to do. Be concise: about 500 words at most.";

long long compact_window(const struct worker_config *cfg)
{
	return cfg->context_tokens > 0 ? cfg->context_tokens :
	       COMPACT_WINDOW_DEFAULT;
}

bool compact_needed(size_t tokens, long long window)
{
	return (long long)tokens > window * COMPACT_THRESHOLD_PERCENT / 100;
}

static cJSON *system_message(const char *text)
{
	cJSON *m = cJSON_CreateObject();

	if (!m || !cJSON_AddStringToObject(m, "role", "system") ||
	    !cJSON_AddStringToObject(m, "content", text)) {
		cJSON_Delete(m);
		return NULL;
	}
	return m;
}

static bool has_role(const cJSON *m, const char *role)
{
	const char *r = json_string_member(m, "role");

	return r && strcmp(r, role) == 0;
}

int compact_choose(const cJSON *messages, size_t keep_tokens, size_t *first,
		   size_t *end)
{
	const cJSON *m = messages ? messages->child : NULL, *last = NULL;
	size_t i = 0, n = 0, tail = 0;

	/* The original task is the first user message; the range follows. */
	while (m && !has_role(m, "user")) {
		m = m->next;
		i++;
	}
	if (!m)
		return -1;
	*first = i + 1;
	for (m = messages->child; m; m = m->next, n++)
		last = m;

	/*
	 * Walk back from the newest message, keeping exchanges while they fit
	 * keep_tokens. A boundary is a message that is not a tool result, so
	 * the range never ends between a call and its results.
	 */
	*end = n;
	for (i = n, m = last; i > *first; i--, m = m->prev) {
		tail += context_message_tokens(m);
		if (has_role(m, "tool"))
			continue;
		if (*end < n && tail > keep_tokens)
			break;
		*end = i - 1;
	}
	if (*end >= n || *end <= *first)
		return -1;

	m = cJSON_GetArrayItem(messages, (int)*first);
	if (has_role(m, "tool"))
		return -1;
	for (i = *first; m && i < *end; i++, m = m->next)
		if (has_role(m, "assistant"))
			return 0;
	return -1;
}

/* Append text cut to max bytes, with a note on how much was left out. */
static int append_cut(struct buf *b, const char *text, size_t max)
{
	size_t len = strlen(text);
	char *copy;
	int rc;

	if (len <= max)
		return buf_append(b, text, len);
	copy = strndup(text, max);
	if (!copy)
		return -1;
	text_truncate(copy, max);
	rc = buf_printf(b, "%s\n[... %zu more bytes left out]", copy,
			len - strlen(copy));
	free(copy);
	return rc;
}

/* One message of the transcript as plain text. */
static char *render_message(const cJSON *m)
{
	const char *content = json_string_member(m, "content");
	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
	const cJSON *call, *function;
	const char *role = json_string_member(m, "role");
	struct buf b;
	int rc;

	buf_init(&b, 2 * COMPACT_ITEM_MAX + 256);
	if (has_role(m, "tool"))
		rc = buf_printf(&b, "Tool result (call %s):\n",
				json_string_member(m, "tool_call_id") ?
				json_string_member(m, "tool_call_id") : "?");
	else
		rc = buf_printf(&b, "%s:\n", role && strcmp(role, "assistant") ==
				0 ? "Assistant" : "User");
	if (rc == 0 && content)
		rc = append_cut(&b, content, COMPACT_ITEM_MAX);
	cJSON_ArrayForEach(call, (cJSON_IsArray(calls) ? calls : NULL)) {
		function = cJSON_GetObjectItemCaseSensitive(call, "function");
		if (rc == 0)
			rc = buf_printf(&b, "\nTool call %s (call %s): ",
					json_string_member(function, "name") ?
					json_string_member(function, "name") : "?",
					json_string_member(call, "id") ?
					json_string_member(call, "id") : "?");
		if (rc == 0)
			rc = append_cut(&b, json_string_member(function, "arguments") ?
					json_string_member(function, "arguments") : "",
					COMPACT_ITEM_MAX / 4);
	}
	if (rc < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

/*
 * The transcript of [first, end), newest messages first to go in, so that
 * a cut drops the oldest ones.
 */
static char *render_range(const cJSON *messages, size_t first, size_t end,
			  size_t max_bytes)
{
	size_t count = end - first, i, from, total = 0;
	char **items = calloc(count, sizeof(*items));
	const cJSON *m = cJSON_GetArrayItem(messages, (int)first);
	char *out = NULL;
	struct buf b;

	if (!items)
		return NULL;
	for (i = 0; i < count && m; i++, m = m->next)
		if (!(items[i] = render_message(m)))
			goto out;
	for (from = count; from > 0; from--) {
		total += strlen(items[from - 1]) + 2;
		if (total > max_bytes)
			break;
	}

	buf_init(&b, max_bytes + 256);
	if (from > 0 && buf_printf(&b, "[%zu older message%s left out to fit "
				   "the request]\n\n", from,
				   from == 1 ? "" : "s") < 0)
		goto cut;
	for (i = from; i < count; i++)
		if (buf_printf(&b, "%s\n\n", items[i]) < 0)
			goto cut;
	out = buf_take(&b);
cut:
	buf_free(&b);
out:
	for (i = 0; i < count; i++)
		free(items[i]);
	free(items);
	return out;
}

cJSON *compact_request(const cJSON *messages, size_t first, size_t end,
		       size_t max_bytes)
{
	const char *task = json_string_member(cJSON_GetArrayItem(messages,
							 (int)first - 1),
				      "content");
	cJSON *request = cJSON_CreateArray();
	char *transcript = render_range(messages, first, end, max_bytes);
	struct buf b;
	int rc;

	buf_init(&b, max_bytes + 2 * COMPACT_ITEM_MAX + 1024);
	rc = transcript && request ? 0 : -1;
	if (rc == 0)
		rc = buf_printf(&b, "The task the agent works on:\n");
	if (rc == 0)
		rc = append_cut(&b, task ? task : "", COMPACT_ITEM_MAX);
	if (rc == 0)
		rc = buf_printf(&b, "\n\nThe older part of its conversation, "
				"which your summary will replace:\n\n%s"
				"Write the summary now.", transcript);
	if (rc == 0 &&
	    (!cJSON_AddItemToArray(request,
				   system_message(summary_instruction)) ||
	     !cJSON_AddItemToArray(request, openai_user_message(b.data))))
		rc = -1;
	buf_free(&b);
	free(transcript);
	if (rc < 0) {
		cJSON_Delete(request);
		return NULL;
	}
	return request;
}

int compact_replace(cJSON *messages, size_t first, size_t end,
		    const char *summary)
{
	char *cut = strndup(summary, COMPACT_SUMMARY_MAX);
	cJSON *message = NULL;
	struct buf b;
	size_t i;

	buf_init(&b, COMPACT_SUMMARY_MAX + sizeof(COMPACT_SUMMARY_HEADER) + 2);
	if (cut) {
		text_truncate(cut, COMPACT_SUMMARY_MAX);
		if (buf_printf(&b, "%s\n%s", COMPACT_SUMMARY_HEADER, cut) == 0)
			message = openai_user_message(b.data);
	}
	free(cut);
	buf_free(&b);
	if (!message)
		return -1;

	/*
	 * Replace, then delete: cJSON 1.7.15 as Debian ships it fails
	 * cJSON_InsertItemInArray in the middle of an array.
	 */
	if (!cJSON_ReplaceItemInArray(messages, (int)first, message)) {
		cJSON_Delete(message);
		return -1;
	}
	for (i = first + 1; i < end; i++)
		cJSON_DeleteItemFromArray(messages, (int)first + 1);
	return 0;
}

static void send_compaction(struct channel *ch, long turn,
			    const struct compact_result *r)
{
	cJSON *f = cJSON_CreateObject();

	if (!f || !cJSON_AddNumberToObject(f, "turn", (double)turn) ||
	    !cJSON_AddNumberToObject(f, "messages_before",
				     (double)r->messages_before) ||
	    !cJSON_AddNumberToObject(f, "messages_after",
				     (double)r->messages_after) ||
	    !cJSON_AddNumberToObject(f, "tokens_before",
				     (double)r->tokens_before) ||
	    !cJSON_AddNumberToObject(f, "tokens_after",
				     (double)r->tokens_after))
		channel_die("out of memory");
	/* The summary request's usage, so the session's totals include it. */
	if (r->prompt_tokens >= 0)
		cJSON_AddNumberToObject(f, "prompt_tokens",
					(double)r->prompt_tokens);
	if (r->completion_tokens >= 0)
		cJSON_AddNumberToObject(f, "completion_tokens",
					(double)r->completion_tokens);
	channel_event(ch, PROTO_COMPACTION, f);
	cJSON_Delete(f);
}

/* Ask for the summary; returns its text (allocated) or NULL with err. */
static char *ask_summary(struct model_client *model, cJSON *request,
			 struct compact_result *r, char *err, size_t errlen)
{
	struct openai_response resp;
	char *summary = NULL;
	bool deltas = model->deltas.enabled;
	int rc;

	/* The summary is for the model, not the user: do not stream it. */
	model->deltas.enabled = false;
	rc = model_ask(model, request, NULL, &resp, err, errlen);
	model->deltas.enabled = deltas;
	if (rc < 0)
		return NULL;
	r->prompt_tokens = resp.prompt_tokens;
	r->completion_tokens = resp.completion_tokens;
	/* Tool calls the model made anyway are ignored: only text counts. */
	if (!resp.content || !resp.content[0])
		error_set(err, errlen, "the model returned no text for the summary "
		     "request");
	else if (!(summary = strdup(resp.content)))
		channel_die("out of memory");
	openai_response_free(&resp);
	return summary;
}

int compact_run(struct model_client *model, cJSON *messages, long turn,
		struct compact_result *result, char *err, size_t errlen)
{
	long long window = compact_window(model->cfg);
	size_t first, end;
	cJSON *request;
	char *summary;

	memset(result, 0, sizeof(*result));
	result->prompt_tokens = result->completion_tokens = -1;
	result->messages_before = (size_t)cJSON_GetArraySize(messages);
	result->tokens_before = context_tokens(messages);
	result->messages_after = result->messages_before;
	result->tokens_after = result->tokens_before;
	if (compact_choose(messages, (size_t)(window * COMPACT_KEEP_PERCENT /
					      100), &first, &end) < 0)
		return 1;

	/* Half the window for the transcript leaves room for the response. */
	request = compact_request(messages, first, end,
				  (size_t)(window * CONTEXT_BYTES_PER_TOKEN / 2));
	if (!request)
		channel_die("out of memory");
	summary = ask_summary(model, request, result, err, errlen);
	cJSON_Delete(request);
	if (!summary)
		return -1;
	if (compact_replace(messages, first, end, summary) < 0)
		channel_die("out of memory");
	free(summary);

	result->messages_after = (size_t)cJSON_GetArraySize(messages);
	result->tokens_after = context_tokens(messages);
	send_compaction(model->ch, turn, result);
	return 0;
}

/* A result is not cut below this many bytes. */
#define RESULT_KEEP_MIN 1024

size_t compact_shrink_results(cJSON *messages, size_t schema,
			     long long target, size_t *cuts)
{
	size_t total = context_tokens(messages) + schema, len, best_len, keep;
	cJSON *m, *first = NULL, *best;
	const char *content;
	char *cut;
	struct buf b;

	/* The first of the tool results that end the conversation. */
	cJSON_ArrayForEach(m, messages)
		if (!has_role(m, "tool"))
			first = NULL;
		else if (!first)
			first = m;

	while (first && (long long)total > target) {
		best = NULL;
		best_len = 0;
		for (m = first; m; m = m->next) {
			content = json_string_member(m, "content");
			len = content ? strlen(content) : 0;
			if (len > best_len) {
				best = m;
				best_len = len;
			}
		}
		if (!best || best_len <= RESULT_KEEP_MIN)
			break;
		keep = best_len / 2;
		buf_init(&b, keep + 128);
		if (append_cut(&b, json_string_member(best, "content"), keep) < 0)
			channel_die("out of memory");
		cut = buf_take(&b);
		if (!cut || !cJSON_ReplaceItemInObjectCaseSensitive(best,
				"content", cJSON_CreateString(cut)))
			channel_die("out of memory");
		free(cut);
		(*cuts)++;
		total = context_tokens(messages) + schema;
	}
	return total;
}

int compact_check(struct model_client *model, cJSON *messages,
		  const cJSON *tools, long turn, struct context_budget *budget,
		  char *err, size_t errlen)
{
	long long window = compact_window(model->cfg);
	size_t schema = context_tools_tokens(tools), total;
	struct compact_result r;
	char why[1024] = "";
	size_t cuts = 0;
	int rc;

	total = context_tokens(messages) + schema;
	if (!compact_needed(total, window))
		return 0;
	rc = compact_run(model, messages, turn, &r, why, sizeof(why));
	context_budget_add(budget, r.prompt_tokens, r.completion_tokens);
	total = r.tokens_after + schema;
	if ((long long)total <= window) {
		if (rc < 0)
			channel_log(model->ch, "warn", "compaction failed, going "
				    "on without it: %s", why);
		return 0;
	}

	/* What still does not fit are the latest exchange's tool results. */
	total = compact_shrink_results(messages, schema, window *
				       COMPACT_THRESHOLD_PERCENT / 100, &cuts);
	if (cuts > 0 && (long long)total <= window) {
		channel_log(model->ch, "warn", "the latest tool results did not "
			    "fit the context window of %lld tokens; %zu cuts "
			    "shortened them to about %zu tokens in all", window,
			    cuts, total);
		return 0;
	}

	if (rc < 0)
		return error_set(err, errlen, "the conversation (about %zu tokens) "
			    "no longer fits the context window of %lld tokens, "
			    "and compacting it failed: %s", total, window, why);
	return error_set(err, errlen, "the conversation (about %zu tokens) no "
		    "longer fits the context window of %lld tokens%s; raise "
		    "--context-tokens if the model's window is larger, or split "
		    "the task into smaller steps", total, window,
		    rc == 0 ? " even after compaction" :
		    " and only the latest exchange is left to compact");
}
