/*
 * Token estimates and cutting tool output to a budget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "text.h"

static size_t string_bytes(const cJSON *item)
{
	return cJSON_IsString(item) ? strlen(item->valuestring) : 0;
}

/* Text of a "content" that is a string or an array of {"text": ...} parts. */
static size_t content_bytes(const cJSON *content)
{
	const cJSON *part;
	size_t n = string_bytes(content);

	if (cJSON_IsArray(content))
		cJSON_ArrayForEach(part, content)
			n += string_bytes(cJSON_GetObjectItemCaseSensitive(part,
									  "text"));
	return n;
}

size_t context_message_tokens(const cJSON *message)
{
	const cJSON *calls, *call, *function;
	size_t bytes, tokens = CONTEXT_MESSAGE_OVERHEAD;

	bytes = content_bytes(cJSON_GetObjectItemCaseSensitive(message,
								 "content")) +
		string_bytes(cJSON_GetObjectItemCaseSensitive(message,
							      "tool_call_id"));
	calls = cJSON_GetObjectItemCaseSensitive(message, "tool_calls");
	cJSON_ArrayForEach(call, (cJSON_IsArray(calls) ? calls : NULL)) {
		function = cJSON_GetObjectItemCaseSensitive(call, "function");
		bytes += string_bytes(cJSON_GetObjectItemCaseSensitive(call,
								       "id")) +
			 string_bytes(cJSON_GetObjectItemCaseSensitive(function,
								       "name")) +
			 string_bytes(cJSON_GetObjectItemCaseSensitive(function,
								       "arguments"));
		tokens += CONTEXT_CALL_OVERHEAD;
	}
	return tokens + (bytes + CONTEXT_BYTES_PER_TOKEN - 1) /
	       CONTEXT_BYTES_PER_TOKEN;
}

size_t context_tokens(const cJSON *messages)
{
	const cJSON *m;
	size_t n = 0;

	cJSON_ArrayForEach(m, messages)
		n += context_message_tokens(m);
	return n;
}

size_t context_tools_tokens(const cJSON *tools)
{
	char *text = tools ? cJSON_PrintUnformatted(tools) : NULL;
	size_t n;

	if (!text)
		return 0;
	n = (strlen(text) + CONTEXT_BYTES_PER_TOKEN - 1) /
	    CONTEXT_BYTES_PER_TOKEN;
	free(text);
	return n;
}

void context_budget_add(struct context_budget *b, long long prompt_tokens,
			long long completion_tokens)
{
	if (prompt_tokens > 0)
		b->spent += prompt_tokens;
	if (completion_tokens > 0)
		b->spent += completion_tokens;
}

bool context_budget_reached(const struct context_budget *b)
{
	return b->limit > 0 && b->spent >= b->limit;
}

void context_budget_describe(const struct context_budget *b, long turn,
			     char *out, size_t len)
{
	snprintf(out, len, "stopped after %ld model turn%s: the session used "
		 "%lld tokens, reaching its token budget of %lld; the tool "
		 "calls of the last turn were not run", turn,
		 turn == 1 ? "" : "s", b->spent, b->limit);
}

/* The start of line number line (from 1), or NULL past the end. */
static const char *line_start(const char *text, size_t len, long long line,
			      long long *lines_seen)
{
	const char *p = text, *end = text + len, *nl;
	long long at = 1;

	while (at < line && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			p = end;
			break;
		}
		p = nl + 1;
		at++;
	}
	*lines_seen = at - (p == end && (len == 0 || text[len - 1] == '\n'));
	return at == line && p < end ? p : NULL;
}

/* The end of the line block that fits budget bytes, at a line end. */
static size_t fit_lines(const char *p, size_t len, size_t budget)
{
	const char *nl;
	size_t cut;

	if (len <= budget)
		return len;
	nl = memrchr(p, '\n', budget);
	cut = nl ? (size_t)(nl - p) + 1 : budget;
	/* A single line longer than the budget is cut inside it. */
	while (cut > 0 && cut < len && ((unsigned char)p[cut] & 0xc0) == 0x80)
		cut--;
	return cut;
}

static long long count_lines(const char *p, size_t len)
{
	long long n = 0;
	const char *nl;

	while (len && (nl = memchr(p, '\n', len))) {
		n++;
		len -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	return n;
}

char *context_select_lines(const char *text, size_t len, size_t total_len,
			   long long offset, long long limit, size_t budget)
{
	const char *start, *stop, *nl;
	long long seen = 0, i;
	size_t span, cut, left;
	struct buf b;
	char *shown;
	int rc;

	if (offset < 1)
		offset = 1;
	start = line_start(text, len, offset, &seen);
	buf_init(&b, budget + 512);
	if (!start) {
		rc = buf_printf(&b, "[offset %lld is past the end: the file has "
				"%lld lines]", offset, seen);
		return rc == 0 ? buf_take(&b) : (buf_free(&b), NULL);
	}

	stop = text + len;
	for (i = 0, nl = start; limit > 0 && i < limit && nl < stop; i++) {
		nl = memchr(nl, '\n', (size_t)(stop - nl));
		nl = nl ? nl + 1 : stop;
	}
	if (limit > 0)
		stop = nl;
	span = (size_t)(stop - start);
	cut = fit_lines(start, span, budget);
	/* Bytes not shown: the rest of the range, or of the file. */
	left = limit > 0 ? span - cut :
	       (total_len > len ? total_len : len) - (size_t)(start - text) - cut;

	shown = text_from_bytes(start, cut);
	if (!shown)
		return NULL;
	rc = buf_printf(&b, "%s", shown);
	if (rc == 0 && left > 0)
		rc = buf_printf(&b, "%s[truncated: %zu more bytes; call "
				"read_file with offset %lld to read on]",
				cut && start[cut - 1] != '\n' ? "\n" : "",
				left, offset + count_lines(start, cut));
	free(shown);
	if (rc < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

char *context_cut_output(const char *text, size_t budget)
{
	size_t len = strlen(text), cut = fit_lines(text, len, budget);
	struct buf b;

	buf_init(&b, budget + 512);
	if (buf_append(&b, text, cut) < 0 ||
	    (cut < len &&
	     buf_printf(&b, "%s[truncated: %zu more bytes of output; %s]",
			cut && text[cut - 1] != '\n' ? "\n" : "",
			len - cut, CONTEXT_OUTPUT_HINT) < 0)) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}
