/*
 * Compaction: which messages are summarised, what the summary request
 * carries, and how the summary takes their place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "worker/compact.h"
#include "worker/openai.h"

static void add(cJSON *messages, const char *role, const char *content)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "role", role);
	cJSON_AddStringToObject(m, "content", content);
	cJSON_AddItemToArray(messages, m);
}

/* An assistant message calling ncalls tools, then their results. */
static void add_exchange(cJSON *messages, const char *id, int ncalls,
			 const char *result)
{
	cJSON *m = cJSON_CreateObject(), *calls, *call, *function;
	char call_id[64];
	int i;

	cJSON_AddStringToObject(m, "role", "assistant");
	cJSON_AddNullToObject(m, "content");
	calls = cJSON_AddArrayToObject(m, "tool_calls");
	for (i = 0; i < ncalls; i++) {
		snprintf(call_id, sizeof(call_id), "%s_%d", id, i);
		call = cJSON_CreateObject();
		cJSON_AddStringToObject(call, "id", call_id);
		cJSON_AddStringToObject(call, "type", "function");
		function = cJSON_AddObjectToObject(call, "function");
		cJSON_AddStringToObject(function, "name", "read_file");
		cJSON_AddStringToObject(function, "arguments",
					"{\"path\":\"a.txt\"}");
		cJSON_AddItemToArray(calls, call);
	}
	cJSON_AddItemToArray(messages, m);
	for (i = 0; i < ncalls; i++) {
		snprintf(call_id, sizeof(call_id), "%s_%d", id, i);
		cJSON_AddItemToArray(messages,
				     openai_tool_message(call_id, result));
	}
}

static cJSON *conversation(void)
{
	cJSON *messages = cJSON_CreateArray();

	add(messages, "system", "You are a test.");
	add(messages, "user", "Do the task.");
	return messages;
}

static const char *role_at(const cJSON *messages, size_t i)
{
	return cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(messages, (int)i), "role")->valuestring;
}

static void choose_keeps_last_exchange(void **state)
{
	cJSON *messages = conversation();
	size_t first, end;

	(void)state;
	add_exchange(messages, "a", 2, "first result");
	add_exchange(messages, "b", 1, "second result");
	/* Nothing fits the tail budget: only the last exchange is kept. */
	assert_int_equal(compact_choose(messages, 0, &first, &end), 0);
	assert_int_equal(first, 2);
	assert_int_equal(end, 5);
	assert_string_equal(role_at(messages, end), "assistant");
	cJSON_Delete(messages);
}

static void choose_keeps_what_fits(void **state)
{
	cJSON *messages = conversation();
	char big[2001];
	size_t first, end;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	add_exchange(messages, "a", 1, big);
	add_exchange(messages, "b", 1, "small");
	add_exchange(messages, "c", 1, "small");
	/* The two small exchanges fit 200 tokens; the big one does not. */
	assert_int_equal(compact_choose(messages, 200, &first, &end), 0);
	assert_int_equal(first, 2);
	assert_int_equal(end, 4);
	cJSON_Delete(messages);
}

/* Parallel calls: the cut never lands between a call and its results. */
static void choose_never_splits_calls(void **state)
{
	cJSON *messages = conversation();
	size_t first, end, keep;

	(void)state;
	add_exchange(messages, "a", 3, "result of a");
	add_exchange(messages, "b", 3, "result of b");
	add_exchange(messages, "c", 3, "result of c");
	for (keep = 0; keep < 210; keep += 7) {
		assert_int_equal(compact_choose(messages, keep, &first, &end), 0);
		assert_string_equal(role_at(messages, end), "assistant");
		assert_string_not_equal(role_at(messages, first), "tool");
		assert_true(end == 6 || end == 10);
	}
	cJSON_Delete(messages);
}

static void choose_with_nothing_to_compact(void **state)
{
	cJSON *messages = conversation();
	size_t first, end;

	(void)state;
	assert_int_equal(compact_choose(messages, 0, &first, &end), -1);
	/* One exchange is the last one, which is always kept. */
	add_exchange(messages, "a", 2, "result");
	assert_int_equal(compact_choose(messages, 0, &first, &end), -1);
	/* Everything fits the tail: compaction would not help. */
	add_exchange(messages, "b", 1, "result");
	assert_int_equal(compact_choose(messages, 100000, &first, &end), -1);
	cJSON_Delete(messages);
}

/* A later task (a user message) is a boundary; its text is kept whole. */
static void choose_at_user_message(void **state)
{
	cJSON *messages = conversation();
	size_t first, end;

	(void)state;
	add_exchange(messages, "a", 1, "result");
	add(messages, "assistant", "Done with the first task.");
	add(messages, "user", "Now the second task.");
	assert_int_equal(compact_choose(messages, 0, &first, &end), 0);
	assert_int_equal(first, 2);
	assert_int_equal(end, 5);
	assert_string_equal(role_at(messages, end), "user");
	cJSON_Delete(messages);
}

static void request_carries_transcript(void **state)
{
	cJSON *messages = conversation(), *request;
	const char *text;

	(void)state;
	add_exchange(messages, "a", 2, "OLD-RESULT");
	add_exchange(messages, "b", 1, "NEW-RESULT");
	request = compact_request(messages, 2, 5, 100000);
	assert_non_null(request);
	assert_int_equal(cJSON_GetArraySize(request), 2);
	assert_string_equal(role_at(request, 0), "system");
	assert_string_equal(role_at(request, 1), "user");
	text = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(request, 1),
						"content")->valuestring;
	assert_non_null(strstr(text, "Do the task."));
	assert_non_null(strstr(text, "OLD-RESULT"));
	assert_non_null(strstr(text, "Tool call read_file (call a_1)"));
	assert_null(strstr(text, "NEW-RESULT"));
	/* Plain text only: no tool messages the API would pair up. */
	assert_null(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(request, 1), "tool_calls"));
	cJSON_Delete(request);
	cJSON_Delete(messages);
}

/* Large results are cut per message, and the oldest go first. */
static void request_is_bounded(void **state)
{
	cJSON *messages = conversation(), *request;
	size_t big_len = 3 * COMPACT_ITEM_MAX;
	char *big = malloc(big_len + 1);
	const char *text;
	int i;

	(void)state;
	memset(big, 'y', big_len);
	big[big_len] = '\0';
	for (i = 0; i < 20; i++)
		add_exchange(messages, i == 0 ? "first" : "next", 1, big);
	request = compact_request(messages, 2, 40, 8 * COMPACT_ITEM_MAX);
	assert_non_null(request);
	text = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(request, 1),
						"content")->valuestring;
	assert_true(strlen(text) < 8 * COMPACT_ITEM_MAX + 2 * COMPACT_ITEM_MAX +
		    1024);
	assert_non_null(strstr(text, "more bytes left out"));
	assert_non_null(strstr(text, "older messages left out"));
	assert_null(strstr(text, "call first_0"));
	cJSON_Delete(request);
	cJSON_Delete(messages);
	free(big);
}

static void replace_with_summary(void **state)
{
	cJSON *messages = conversation();
	const char *text;

	(void)state;
	add_exchange(messages, "a", 2, "old");
	add_exchange(messages, "b", 1, "new");
	assert_int_equal(compact_replace(messages, 2, 5, "SUMMARY"), 0);
	assert_int_equal(cJSON_GetArraySize(messages), 5);
	assert_string_equal(role_at(messages, 0), "system");
	assert_string_equal(role_at(messages, 1), "user");
	assert_string_equal(role_at(messages, 2), "user");
	assert_string_equal(role_at(messages, 3), "assistant");
	assert_string_equal(role_at(messages, 4), "tool");
	text = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(messages, 2),
						"content")->valuestring;
	assert_non_null(strstr(text, COMPACT_SUMMARY_HEADER));
	assert_non_null(strstr(text, "SUMMARY"));
	cJSON_Delete(messages);
}

static void replace_cuts_long_summary(void **state)
{
	cJSON *messages = conversation();
	size_t len = 2 * COMPACT_SUMMARY_MAX;
	char *summary = malloc(len + 1);
	const char *text;

	(void)state;
	memset(summary, 's', len);
	summary[len] = '\0';
	add_exchange(messages, "a", 1, "old");
	add_exchange(messages, "b", 1, "new");
	assert_int_equal(compact_replace(messages, 2, 4, summary), 0);
	text = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(messages, 2),
						"content")->valuestring;
	assert_int_equal(strlen(text),
			 strlen(COMPACT_SUMMARY_HEADER) + 1 + COMPACT_SUMMARY_MAX);
	cJSON_Delete(messages);
	free(summary);
}

/* The content of message i. */
static const char *content_at(const cJSON *messages, size_t i)
{
	return cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(messages, (int)i), "content")->valuestring;
}

/*
 * Two long results that alone overflow the window are cut, the longest
 * first, until the conversation fits; earlier results stay whole.
 */
static void shrink_cuts_latest_results(void **state)
{
	cJSON *messages = conversation();
	char *big = malloc(200001);
	size_t cuts = 0, total;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 200000);
	big[200000] = '\0';
	add_exchange(messages, "old", 1, big);
	add(messages, "user", "Go on.");
	add_exchange(messages, "new", 2, big);
	free(big);

	total = compact_shrink_results(messages, 0, 80000, &cuts);
	assert_true(total <= 80000);
	assert_true(cuts > 0);
	/* system, user, assistant, old result, user, assistant, two results */
	assert_int_equal(strlen(content_at(messages, 3)), 200000);
	assert_true(strlen(content_at(messages, 6)) < 200000);
	assert_true(strlen(content_at(messages, 7)) < 200000);
	assert_non_null(strstr(content_at(messages, 6), "more bytes left out]"));
	cJSON_Delete(messages);
}

/* Results that fit, or are short already, are left as they are. */
static void shrink_leaves_short_results(void **state)
{
	cJSON *messages = conversation();
	size_t cuts = 0;

	(void)state;
	add_exchange(messages, "a", 2, "short output");
	compact_shrink_results(messages, 0, 1, &cuts);
	assert_int_equal(cuts, 0);
	assert_string_equal(content_at(messages, 3), "short output");
	cJSON_Delete(messages);
}

static void threshold_and_window(void **state)
{
	struct worker_config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(compact_window(&cfg), COMPACT_WINDOW_DEFAULT);
	cfg.context_tokens = 2000;
	assert_int_equal(compact_window(&cfg), 2000);
	assert_false(compact_needed(1600, 2000));
	assert_true(compact_needed(1601, 2000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(choose_keeps_last_exchange),
		cmocka_unit_test(choose_keeps_what_fits),
		cmocka_unit_test(choose_never_splits_calls),
		cmocka_unit_test(choose_with_nothing_to_compact),
		cmocka_unit_test(choose_at_user_message),
		cmocka_unit_test(request_carries_transcript),
		cmocka_unit_test(request_is_bounded),
		cmocka_unit_test(replace_with_summary),
		cmocka_unit_test(replace_cuts_long_summary),
		cmocka_unit_test(shrink_cuts_latest_results),
		cmocka_unit_test(shrink_leaves_short_results),
		cmocka_unit_test(threshold_and_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
