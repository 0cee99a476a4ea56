/*
 * The event stream parser and both providers' response decoders, against
 * every recorded response under tests/fixtures: each stream is fed whole,
 * one byte at a time and in random chunkings (fixed seeds), with CRLF and
 * CR line ends, and must decode to exactly the same tool calls, text and
 * usage every time.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "worker/anthropic.h"
#include "worker/openai.h"
#include "worker/sse.h"
#include "worker/text.h"

#define OA "tests/fixtures/openai/"
#define AN "tests/fixtures/anthropic/"
#define SEEDS 25

enum api { API_OPENAI, API_ANTHROPIC };

static char *read_fixture(const char *path, size_t *len)
{
	struct stat st;
	char *text;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		fail_msg("cannot open %s (run from the repository root)", path);
	text = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(text);
	assert_int_equal(read(fd, text, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return text;
}

/* ---- the parser on its own: a log of every event ---- */

static int log_event(void *ctx, const struct sse_event *ev, char *err,
		     size_t errlen)
{
	struct buf *log = ctx;

	(void)err;
	(void)errlen;
	assert_int_equal(strlen(ev->data), ev->data_len);
	assert_int_equal(buf_printf(log, "[%s|%s|%s]\n", ev->name, ev->id,
				    ev->data), 0);
	return 0;
}

/* Feed text in pieces: step 0 means random sizes from seed, else step. */
static void feed_pieces(struct sse_parser *p, const char *text, size_t len,
			size_t step, unsigned seed)
{
	char err[256];
	size_t at = 0, n;

	srand(seed);
	while (at < len) {
		n = step ? step : 1 + (size_t)rand() % 97;
		if (n > len - at)
			n = len - at;
		if (sse_feed(p, text + at, n, err, sizeof(err)) < 0)
			fail_msg("sse_feed: %s", err);
		at += n;
	}
}

static char *sse_log(const char *text, size_t len, size_t step,
		     unsigned seed, bool *partial)
{
	struct sse_parser p;
	struct buf log;

	buf_init(&log, 64L * 1024 * 1024);
	assert_int_equal(buf_append(&log, "", 0), 0);
	sse_init(&p, 0, 0, log_event, &log);
	feed_pieces(&p, text, len, step, seed);
	*partial = sse_finish(&p);
	sse_free(&p);
	return buf_take(&log);
}

static const char *const sse_fixtures[] = {
	OA "fantasy-gpt-4o-parallel-tools-streaming.turn0.response.sse",
	OA "fantasy-gpt-4o-parallel-tools-streaming.turn1.response.sse",
	OA "fantasy-gpt-5-tool-streaming.turn0.response.sse",
	OA "fantasy-gpt-5-tool-streaming.turn1.response.sse",
	AN "fantasy-claude-sonnet-4-parallel-tools-streaming.turn0.response.sse",
	AN "fantasy-claude-sonnet-4-parallel-tools-streaming.turn1.response.sse",
};

/* Replace each LF with the given line end. */
static char *with_line_ends(const char *text, const char *eol)
{
	struct buf b;
	const char *p;

	buf_init(&b, 64L * 1024 * 1024);
	for (p = text; *p; p++) {
		if (*p == '\n')
			assert_int_equal(buf_append(&b, eol, strlen(eol)), 0);
		else
			assert_int_equal(buf_append(&b, p, 1), 0);
	}
	return buf_take(&b);
}

static void sse_fixtures_every_split(void **state)
{
	static const char *const eols[] = { "\n", "\r\n", "\r" };
	char *text, *variant, *want, *got;
	size_t len, i, e;
	unsigned seed;
	bool partial;

	(void)state;
	for (i = 0; i < sizeof(sse_fixtures) / sizeof(sse_fixtures[0]); i++) {
		text = read_fixture(sse_fixtures[i], &len);
		want = sse_log(text, len, len, 0, &partial);
		assert_false(partial);
		assert_true(want[0] == '[');
		for (e = 0; e < 3; e++) {
			variant = with_line_ends(text, eols[e]);
			got = sse_log(variant, strlen(variant), 1, 0, &partial);
			assert_string_equal(got, want);
			free(got);
			for (seed = 1; seed <= SEEDS; seed++) {
				got = sse_log(variant, strlen(variant), 0, seed,
					      &partial);
				assert_string_equal(got, want);
				assert_false(partial);
				free(got);
			}
			free(variant);
		}
		free(want);
		free(text);
	}
}

static void sse_field_rules(void **state)
{
	static const char stream[] =
		": a comment\r\n"
		"retry: 2500\r\n"
		"event: first\r\n"
		"data: one\r\n"
		"data:two\r\n"
		"data:  three\r\n"
		"id: 7\r\n"
		"\r\n"
		"event: ignored-without-data\n"
		"id: 8\n"
		"\n"
		"data\n"
		"\n"
		"unknown: field\n"
		"data: {\"a\":1}\r"
		"\r"
		"data: cut off";
	const char *want =
		"[first|7|one\ntwo\n three]\n"
		"[message|8|]\n"
		"[message|8|{\"a\":1}]\n";
	struct sse_parser p;
	struct buf log;
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		buf_init(&log, 4096);
		assert_int_equal(buf_append(&log, "", 0), 0);
		sse_init(&p, 0, 0, log_event, &log);
		feed_pieces(&p, stream, strlen(stream), i ? 1 : strlen(stream),
			    0);
		assert_string_equal(log.data, want);
		assert_int_equal(p.retry_ms, 2500);
		assert_true(sse_finish(&p));
		assert_int_equal(sse_feed(&p, "\n", 1, err, sizeof(err)), 0);
		assert_string_equal(log.data, want);
		sse_free(&p);
		buf_free(&log);
	}
}

static void sse_limits(void **state)
{
	struct sse_parser p;
	struct buf log;
	char err[128];

	(void)state;
	buf_init(&log, 4096);
	sse_init(&p, 16, 32, log_event, &log);
	assert_int_equal(sse_feed(&p, "data: 0123456789\n", 17, err,
				  sizeof(err)), 0);
	assert_int_equal(sse_feed(&p, "data: 0123456789", 16, err,
				  sizeof(err)), 0);
	assert_int_equal(sse_feed(&p, "X", 1, err, sizeof(err)), -1);
	assert_string_equal(err, "an event stream line exceeds 16 bytes");
	assert_int_equal(sse_feed(&p, "\n", 1, err, sizeof(err)), -1);
	sse_free(&p);

	sse_init(&p, 16, 32, log_event, &log);
	assert_int_equal(sse_feed(&p, "data: 0123456789\ndata: 0123456789\n"
				  "data: 0123456789\n", 51, err,
				  sizeof(err)), -1);
	assert_string_equal(err, "an event stream event exceeds 32 bytes");
	sse_free(&p);
	buf_free(&log);
}

/* ---- decoding: a canonical summary of a response ---- */

static char *summary(const struct openai_response *r)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	assert_int_equal(buf_printf(&b, "model=%s finish=%s prompt=%lld "
				    "completion=%lld\ncontent=%s\n",
				    r->model ? r->model : "(none)",
				    r->finish_reason ? r->finish_reason : "(none)",
				    r->prompt_tokens, r->completion_tokens,
				    r->content ? r->content : "(null)"), 0);
	for (i = 0; i < r->tool_call_count; i++)
		assert_int_equal(buf_printf(&b, "call %s %s %s\n",
					    r->tool_calls[i].id,
					    r->tool_calls[i].name,
					    r->tool_calls[i].arguments), 0);
	return buf_take(&b);
}

struct decoder {
	enum api api;
	struct openai_stream openai;
	struct anthropic_stream anthropic;
};

static int decode_event(void *ctx, const struct sse_event *ev, char *err,
			size_t errlen)
{
	struct decoder *d = ctx;

	if (d->api == API_ANTHROPIC)
		return anthropic_stream_event(&d->anthropic, ev->name, ev->data,
					      ev->data_len, err, errlen);
	return openai_stream_data(&d->openai, ev->data, ev->data_len, err,
				  errlen);
}

static char *decode_result(struct decoder *d)
{
	struct openai_response r;
	char err[256], *s;
	int rc;

	if (d->api == API_ANTHROPIC) {
		assert_true(anthropic_stream_complete(&d->anthropic));
		rc = anthropic_stream_result(&d->anthropic, &r, err,
					     sizeof(err));
	} else {
		assert_true(openai_stream_complete(&d->openai));
		rc = openai_stream_result(&d->openai, &r, err, sizeof(err));
	}
	if (rc < 0)
		fail_msg("decoding failed: %s", err);
	s = summary(&r);
	openai_response_free(&r);
	return s;
}

static char *decode_sse(enum api api, const char *text, size_t len,
			size_t step, unsigned seed)
{
	struct sse_parser p;
	struct decoder d = { .api = api };
	char *s;

	openai_stream_init(&d.openai);
	anthropic_stream_init(&d.anthropic);
	sse_init(&p, 0, 0, decode_event, &d);
	feed_pieces(&p, text, len, step, seed);
	assert_false(sse_finish(&p));
	s = decode_result(&d);
	sse_free(&p);
	openai_stream_free(&d.openai);
	anthropic_stream_free(&d.anthropic);
	return s;
}

/* Decode at once, byte by byte and in random chunkings; all must agree. */
static void check_sse(enum api api, const char *path, const char *want)
{
	char *text, *got;
	size_t len;
	unsigned seed;

	text = read_fixture(path, &len);
	got = decode_sse(api, text, len, len, 0);
	assert_string_equal(got, want);
	free(got);
	got = decode_sse(api, text, len, 1, 0);
	assert_string_equal(got, want);
	free(got);
	for (seed = 1; seed <= SEEDS; seed++) {
		got = decode_sse(api, text, len, 0, seed);
		assert_string_equal(got, want);
		free(got);
	}
	free(text);
}

/* chunks.jsonl: each line straight to the decoder, then framed as SSE. */
static void check_jsonl(enum api api, const char *path, const char *want)
{
	struct decoder d = { .api = api };
	char *text, *line, *next, *got, err[256];
	struct buf framed;
	size_t len;
	unsigned seed;

	text = read_fixture(path, &len);
	openai_stream_init(&d.openai);
	anthropic_stream_init(&d.anthropic);
	buf_init(&framed, 1 << 20);
	for (line = text; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (next - line <= 1)
			continue;
		len = (size_t)(next - line) - (next[-1] == '\n');
		if ((api == API_ANTHROPIC ?
		     anthropic_stream_event(&d.anthropic, NULL, line, len, err,
					    sizeof(err)) :
		     openai_stream_data(&d.openai, line, len, err,
					sizeof(err))) < 0)
			fail_msg("%s: %s", path, err);
		assert_int_equal(buf_printf(&framed, "data: %.*s\n\n",
					    (int)len, line), 0);
	}
	got = decode_result(&d);
	assert_string_equal(got, want);
	free(got);
	openai_stream_free(&d.openai);
	anthropic_stream_free(&d.anthropic);

	for (seed = 0; seed <= SEEDS; seed++) {
		got = decode_sse(api, framed.data, framed.len, seed ? 0 : 1,
				 seed);
		assert_string_equal(got, want);
		free(got);
	}
	buf_free(&framed);
	free(text);
}

static void openai_gpt4o_parallel_tools(void **state)
{
	(void)state;
	check_sse(API_OPENAI, OA "fantasy-gpt-4o-parallel-tools-streaming."
		  "turn0.response.sse",
		  "model=gpt-4o-2024-08-06 finish=tool_calls prompt=106 "
		  "completion=50\ncontent=(null)\n"
		  "call call_ehIWdjL1abZk1h8FWGLQ0Hie add {\"a\": 2, \"b\": 3}\n"
		  "call call_fBSgA47J5VeONggizTIvl7AH multiply "
		  "{\"a\": 2, \"b\": 3}\n");
	check_sse(API_OPENAI, OA "fantasy-gpt-4o-parallel-tools-streaming."
		  "turn1.response.sse",
		  "model=gpt-4o-2024-08-06 finish=stop prompt=172 "
		  "completion=20\ncontent=The sum of 2 and 3 is 5, and the "
		  "product is 6.\n");
}

static void openai_gpt5_tool(void **state)
{
	(void)state;
	check_sse(API_OPENAI, OA "fantasy-gpt-5-tool-streaming.turn0."
		  "response.sse",
		  "model=gpt-5-2025-08-07 finish=tool_calls prompt=145 "
		  "completion=89\ncontent=(null)\n"
		  "call call_eKRQDHJdZUhEXo1K1cobzFrl weather "
		  "{\"location\":\"Florence, Italy\"}\n");
	check_sse(API_OPENAI, OA "fantasy-gpt-5-tool-streaming.turn1."
		  "response.sse",
		  "model=gpt-5-2025-08-07 finish=stop prompt=176 "
		  "completion=228\ncontent=It\u2019s currently about 40\u00b0C "
		  "(104\u00b0F) in Florence, Italy. Want a forecast or more "
		  "details like wind and humidity?\n");
}

/* Reasoning deltas are not answer text; usage rides on the last choice. */
static void openai_deepseek_reasoner(void **state)
{
	(void)state;
	check_jsonl(API_OPENAI, OA "vercel-deepseek-reasoner-tool-call."
		    "chunks.jsonl",
		    "model=deepseek-reasoner finish=tool_calls prompt=339 "
		    "completion=83\ncontent=(null)\n"
		    "call call_00_ioIn7yN9p1ZOMNpDLwd4MgAF weather "
		    "{\"location\": \"San Francisco\"}\n");
}

/* Later deltas repeat "id": "" and "arguments": "", which change nothing. */
static void openai_qwen_empty_repeats(void **state)
{
	(void)state;
	check_jsonl(API_OPENAI, OA "vercel-qwen3-max-tool-call.chunks.jsonl",
		    "model=qwen3-max finish=tool_calls prompt=295 "
		    "completion=22\ncontent=(null)\n"
		    "call call_eee11723464a4b9eb8cee71d weather "
		    "{\"location\": \"San Francisco\"}\n");
}

static void openai_stream_cases(void **state)
{
	static const char *const chunks[] = {
		"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Let me "
		"look.\",\"reasoning\":\"hidden\"}}],\"x_groq\":{\"id\":1}}",
		"{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
		"\"index\":1,\"id\":\"c1\",\"type\":\"function\",\"function\":"
		"{\"name\":\"list_directory\",\"arguments\":\"\"}}]}}]}",
		"{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
		"\"index\":1,\"function\":{\"arguments\":\"{\\\"pa\"}}]}}]}",
		"{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
		"\"index\":1,\"id\":\"\",\"function\":{\"name\":\"\","
		"\"arguments\":\"th\\\": \\\".\\\"}\"}}]}}]}",
		"{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
		"\"index\":2,\"id\":\"c2\",\"function\":{\"name\":\"todo\"}}]}}]}",
		"{\"choices\":[{\"index\":1,\"delta\":{\"content\":\"other "
		"choice\"}}]}",
		"{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
		"\"tool_calls\"}],\"usage\":null}",
		"{\"choices\":[],\"usage\":{\"prompt_tokens\":5,"
		"\"completion_tokens\":6}}",
	};
	struct openai_stream s;
	struct openai_response r;
	char err[256], *got;
	size_t i;

	(void)state;
	openai_stream_init(&s);
	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
		if (openai_stream_data(&s, chunks[i], strlen(chunks[i]), err,
				       sizeof(err)) < 0)
			fail_msg("chunk %zu: %s", i, err);
	assert_false(s.done);
	assert_int_equal(s.reasoning_bytes, 6);
	assert_int_equal(openai_stream_data(&s, "[DONE]", 6, err,
					    sizeof(err)), 0);
	assert_true(openai_stream_complete(&s));
	assert_int_equal(openai_stream_result(&s, &r, err, sizeof(err)), 0);
	got = summary(&r);
	assert_string_equal(got, "model=(none) finish=tool_calls prompt=5 "
			    "completion=6\ncontent=Let me look.\n"
			    "call c1 list_directory {\"path\": \".\"}\n"
			    "call c2 todo {}\n");
	free(got);
	openai_response_free(&r);
	openai_stream_free(&s);
}

static void openai_stream_refusal_and_errors(void **state)
{
	static const char refusal[] =
		"{\"choices\":[{\"index\":0,\"delta\":{\"content\":null,"
		"\"refusal\":\"I can't help\"}}]}";
	static const char error[] =
		"{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}";
	struct openai_stream s;
	struct openai_response r;
	char err[256];

	(void)state;
	openai_stream_init(&s);
	assert_int_equal(openai_stream_data(&s, refusal, strlen(refusal), err,
					    sizeof(err)), 0);
	assert_false(openai_stream_complete(&s));
	assert_int_equal(openai_stream_data(&s, "[DONE]", 6, err,
					    sizeof(err)), 0);
	assert_int_equal(openai_stream_result(&s, &r, err, sizeof(err)), 0);
	assert_null(r.content);
	assert_string_equal(r.refusal, "I can't help");
	openai_response_free(&r);
	assert_int_equal(openai_stream_data(&s, error, strlen(error), err,
					    sizeof(err)), -1);
	assert_true(s.server_error);
	assert_string_equal(err, "the model endpoint sent an error in the "
			    "stream: overloaded");
	assert_int_equal(openai_stream_data(&s, "{not json", 9, err,
					    sizeof(err)), -1);
	assert_string_equal(err, "stream chunk 3 is not a JSON object");
	openai_stream_free(&s);
}

static void anthropic_parallel_tools_stream(void **state)
{
	(void)state;
	check_sse(API_ANTHROPIC, AN "fantasy-claude-sonnet-4-parallel-tools-"
		  "streaming.turn0.response.sse",
		  "model=claude-sonnet-4-20250514 finish=tool_use prompt=502 "
		  "completion=137\ncontent=I'll add and multiply the numbers "
		  "2 and 3 for you.\n"
		  "call toolu_01UYxUYC2zRPY8wiutnF48eP add {\"a\": 2, \"b\": 3}\n"
		  "call toolu_01VaRx1jpWCvPhi7L4kywAcd multiply "
		  "{\"a\": 2, \"b\": 3}\n");
	check_sse(API_ANTHROPIC, AN "fantasy-claude-sonnet-4-parallel-tools-"
		  "streaming.turn1.response.sse",
		  "model=claude-sonnet-4-20250514 finish=end_turn prompt=700 "
		  "completion=31\ncontent=The results are:\n- 2 + 3 = 5\n"
		  "- 2 \u00d7 3 = 6\n");
}

static void anthropic_tool_without_arguments(void **state)
{
	(void)state;
	check_jsonl(API_ANTHROPIC, AN "vercel-claude-sonnet-4-5-tool-no-args."
		    "chunks.jsonl",
		    "model=claude-sonnet-4-5-20250929 finish=tool_use "
		    "prompt=565 completion=48\ncontent=I'll update the issue "
		    "list for you.\n"
		    "call toolu_01QE1WLsSVp5hy5Q3GmGTmjP updateIssueList {}\n");
}

static void check_json(const char *path, const char *want)
{
	struct openai_response r;
	char err[256], *text, *got;
	size_t len;

	text = read_fixture(path, &len);
	if (anthropic_parse_response(text, len, &r, err, sizeof(err)) < 0)
		fail_msg("%s: %s", path, err);
	got = summary(&r);
	assert_string_equal(got, want);
	free(got);
	openai_response_free(&r);
	free(text);
}

static void anthropic_json_responses(void **state)
{
	(void)state;
	check_json(AN "fantasy-claude-sonnet-4-tool.turn0.response.json",
		   "model=claude-sonnet-4-20250514 finish=tool_use prompt=394 "
		   "completion=66\ncontent=I'll check the weather in Florence, "
		   "Italy for you.\n"
		   "call toolu_01XLb9pzgfLa2EMyqWot6Ezt weather "
		   "{\"location\":\"Florence,Italy\"}\n");
	check_json(AN "fantasy-claude-sonnet-4-tool.turn1.response.json",
		   "model=claude-sonnet-4-20250514 finish=end_turn prompt=475 "
		   "completion=50\ncontent=The current weather in Florence, "
		   "Italy is 40\u00b0C (104\u00b0F). That's quite hot! It "
		   "would be a good idea to stay hydrated and seek shade or "
		   "air conditioning if you're planning to be outdoors.\n");
}

static void anthropic_thinking_and_errors(void **state)
{
	static const char *const events[] = {
		"{\"type\":\"message_start\",\"message\":{\"model\":\"m\","
		"\"usage\":{\"input_tokens\":3,\"cache_read_input_tokens\":4}}}",
		"{\"type\":\"content_block_start\",\"index\":0,"
		"\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}",
		"{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
		"{\"type\":\"thinking_delta\",\"thinking\":\"secret plan\"}}",
		"{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
		"{\"type\":\"signature_delta\",\"signature\":\"abc\"}}",
		"{\"type\":\"content_block_stop\",\"index\":0}",
		"{\"type\":\"content_block_start\",\"index\":1,"
		"\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
		"{\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
		"{\"type\":\"text_delta\",\"text\":\"Done.\"}}",
		"{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
		"\"end_turn\"},\"usage\":{\"output_tokens\":9}}",
	};
	static const char error[] = "{\"type\":\"error\",\"error\":{\"type\":"
		"\"overloaded_error\",\"message\":\"Overloaded\"}}";
	struct anthropic_stream s;
	struct openai_response r;
	char err[256], *got;
	size_t i;

	(void)state;
	anthropic_stream_init(&s);
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (anthropic_stream_event(&s, NULL, events[i],
					   strlen(events[i]), err,
					   sizeof(err)) < 0)
			fail_msg("event %zu: %s", i, err);
	assert_false(anthropic_stream_complete(&s));
	assert_int_equal(anthropic_stream_event(&s, "message_stop",
						"{}", 2, err, sizeof(err)), 0);
	assert_true(anthropic_stream_complete(&s));
	assert_int_equal(anthropic_stream_result(&s, &r, err, sizeof(err)), 0);
	got = summary(&r);
	assert_string_equal(got, "model=m finish=end_turn prompt=7 "
			    "completion=9\ncontent=Done.\n");
	free(got);
	openai_response_free(&r);
	assert_int_equal(anthropic_stream_event(&s, "error", error,
						strlen(error), err,
						sizeof(err)), -1);
	assert_true(s.server_error);
	assert_string_equal(err, "the model endpoint sent an error in the "
			    "stream: overloaded_error: Overloaded");
	anthropic_stream_free(&s);
}

/* The conversation in Chat Completions form, as the Messages API wants it. */
static void anthropic_request_conversion(void **state)
{
	static const char conversation[] =
		"[{\"role\":\"system\",\"content\":\"Be brief.\"},"
		"{\"role\":\"user\",\"content\":\"hi\"},"
		"{\"role\":\"assistant\",\"content\":\"Checking.\","
		"\"tool_calls\":[{\"id\":\"t1\",\"type\":\"function\","
		"\"function\":{\"name\":\"read_file\",\"arguments\":"
		"\"{\\\"path\\\":\\\"a\\\"}\"}},{\"id\":\"t2\",\"type\":"
		"\"function\",\"function\":{\"name\":\"list_directory\","
		"\"arguments\":\"not json\"}}]},"
		"{\"role\":\"tool\",\"tool_call_id\":\"t1\",\"content\":\"A\"},"
		"{\"role\":\"tool\",\"tool_call_id\":\"t2\",\"content\":"
		"\"error: denied\"}]";
	static const char tools[] =
		"[{\"type\":\"function\",\"function\":{\"name\":\"read_file\","
		"\"description\":\"Read.\",\"parameters\":{\"type\":\"object\"}}}]";
	static const char want[] =
		"{\"messages\":["
		"{\"role\":\"user\",\"content\":\"hi\"},"
		"{\"role\":\"assistant\",\"content\":[{\"type\":\"text\","
		"\"text\":\"Checking.\"},{\"type\":\"tool_use\",\"id\":\"t1\","
		"\"name\":\"read_file\",\"input\":{\"path\":\"a\"}},"
		"{\"type\":\"tool_use\",\"id\":\"t2\",\"name\":"
		"\"list_directory\",\"input\":{}}]},"
		"{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
		"\"tool_use_id\":\"t1\",\"content\":\"A\"},{\"type\":"
		"\"tool_result\",\"tool_use_id\":\"t2\",\"content\":"
		"\"error: denied\",\"is_error\":true}]}],"
		"\"model\":\"claude-x\",\"max_tokens\":8192,\"system\":\"Be brief.\",\"tools\":[{\"input_schema\":"
		"{\"type\":\"object\"},\"name\":\"read_file\",\"description\":"
		"\"Read.\"}],\"stream\":true}";
	cJSON *msgs = cJSON_Parse(conversation), *t = cJSON_Parse(tools);
	cJSON *body;
	char *text;

	(void)state;
	body = anthropic_request("claude-x", msgs, t, true);
	assert_non_null(body);
	text = cJSON_PrintUnformatted(body);
	assert_string_equal(text, want);
	free(text);
	cJSON_Delete(body);
	cJSON_Delete(msgs);
	cJSON_Delete(t);
}

/* Two user texts in a row must not reach the API as two user turns. */
static void anthropic_user_texts_merge(void **state)
{
	static const char conversation[] =
		"[{\"role\":\"user\",\"content\":\"task\"},"
		"{\"role\":\"user\",\"content\":\"summary\"},"
		"{\"role\":\"assistant\",\"content\":\"ok\"},"
		"{\"role\":\"user\",\"content\":\"next\"}]";
	static const char want[] =
		"[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
		"\"text\":\"task\"},{\"type\":\"text\",\"text\":"
		"\"summary\"}]},{\"role\":\"assistant\",\"content\":["
		"{\"type\":\"text\",\"text\":\"ok\"}]},{\"role\":\"user\","
		"\"content\":\"next\"}]";
	cJSON *msgs = cJSON_Parse(conversation), *body;
	char *text;

	(void)state;
	body = anthropic_request("claude-x", msgs, NULL, false);
	assert_non_null(body);
	text = cJSON_PrintUnformatted(cJSON_GetObjectItem(body, "messages"));
	assert_string_equal(text, want);
	free(text);
	cJSON_Delete(body);
	cJSON_Delete(msgs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sse_fixtures_every_split),
		cmocka_unit_test(sse_field_rules),
		cmocka_unit_test(sse_limits),
		cmocka_unit_test(openai_gpt4o_parallel_tools),
		cmocka_unit_test(openai_gpt5_tool),
		cmocka_unit_test(openai_deepseek_reasoner),
		cmocka_unit_test(openai_qwen_empty_repeats),
		cmocka_unit_test(openai_stream_cases),
		cmocka_unit_test(openai_stream_refusal_and_errors),
		cmocka_unit_test(anthropic_parallel_tools_stream),
		cmocka_unit_test(anthropic_tool_without_arguments),
		cmocka_unit_test(anthropic_json_responses),
		cmocka_unit_test(anthropic_thinking_and_errors),
		cmocka_unit_test(anthropic_request_conversion),
		cmocka_unit_test(anthropic_user_texts_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
