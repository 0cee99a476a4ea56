/*
 * Model calls with retries, for both providers.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "agent.h"
#include "anthropic.h"
#include "model.h"
#include "sse.h"
#include "lib/error.h"

#define SERVER_MESSAGE_MAX 1024

enum attempt {
	ATTEMPT_OK,
	ATTEMPT_RETRY,
	ATTEMPT_FAIL,
	ATTEMPT_CANCELLED,
};

/* The decoder a streamed response feeds, chosen by provider. */
struct stream_ctx {
	enum provider provider;
	struct sse_parser sse;
	struct openai_stream openai;
	struct anthropic_stream anthropic;
	struct deltas *deltas;
	/* How much of the decoders' text went out as deltas already. */
	size_t openai_sent;
	size_t block_sent[ANTHROPIC_BLOCKS_MAX];
};

void model_init(struct model_client *m, struct channel *ch,
		struct http_client *http, const struct worker_config *cfg)
{
	memset(m, 0, sizeof(*m));
	m->ch = ch;
	m->http = http;
	m->cfg = cfg;
	m->stream = true;
	deltas_init(&m->deltas, ch, cfg->deltas);
}

void model_free(struct model_client *m)
{
	deltas_free(&m->deltas);
}

/* ---- waiting ---- */

static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* IMF-fixdate only; the obsolete RFC 850 and asctime forms are rare. */
static long long http_date(const char *value)
{
	char mon[4];
	struct tm tm;
	int day, year, h, mi, s, n = 0, i;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(value, "%*3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n",
		   &day, mon, &year, &h, &mi, &s, &n) != 6 || value[n])
		return -1;
	for (i = 0; i < 12; i++)
		if (strcmp(mon, months[i]) == 0)
			break;
	if (i == 12 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60 ||
	    year < 1970)
		return -1;
	tm.tm_mday = day;
	tm.tm_mon = i;
	tm.tm_year = year - 1900;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (long long)timegm(&tm);
}

long model_retry_after_ms(const char *value, long long now_s)
{
	long long seconds = 0, when;
	const char *p;

	if (!value || !value[0])
		return -1;
	if (isdigit((unsigned char)value[0])) {
		for (p = value; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return -1;
			seconds = seconds * 10 + (*p - '0');
			if (seconds > 86400LL * 365)
				return -1;
		}
		return (long)(seconds * 1000);
	}
	when = http_date(value);
	if (when < 0)
		return -1;
	if (when <= now_s)
		return 0;
	if (when - now_s > 86400LL * 365)
		return -1;
	return (long)((when - now_s) * 1000);
}

long model_backoff_ms(unsigned n, unsigned random)
{
	long ms = MODEL_BACKOFF_FIRST_MS;

	while (n-- > 1 && ms < MODEL_BACKOFF_MAX_MS)
		ms *= 2;
	if (ms > MODEL_BACKOFF_MAX_MS)
		ms = MODEL_BACKOFF_MAX_MS;
	return ms / 2 + (long)(random % (unsigned long)(ms / 2 + 1));
}

static unsigned random_value(void)
{
	unsigned r = 0;

	/* getrandom is allowed for OpenSSL; a failure only loses jitter. */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = 0;
	return r;
}

/*
 * Wait ms before a retry. Only "cancel" may arrive meanwhile; it ends the
 * wait. Returns true when the task was cancelled.
 */
static bool wait_or_cancel(struct model_client *m, long ms)
{
	struct timespec start, now;
	long left = ms;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (left > 0 && !m->ch->cancelled) {
		if (http_wait(m->http, left, m->ch->sock))
			channel_take_cancel(m->ch, "waiting to retry a model "
					    "request");
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ms - ((long)(now.tv_sec - start.tv_sec) * 1000 +
			     (long)(now.tv_nsec - start.tv_nsec) / 1000000);
	}
	return m->ch->cancelled;
}

/* ---- one attempt ---- */

/* Pass on the answer text the last event added to the decoder. */
static void stream_deltas(struct stream_ctx *s)
{
	const struct anthropic_block *b;
	size_t i;

	if (!s->deltas->enabled)
		return;
	if (s->provider != PROVIDER_ANTHROPIC) {
		if (s->openai.content.len > s->openai_sent)
			deltas_push(s->deltas, s->openai.content.data +
				    s->openai_sent,
				    s->openai.content.len - s->openai_sent);
		s->openai_sent = s->openai.content.len;
		return;
	}
	for (i = 0; i < s->anthropic.block_slots; i++) {
		b = &s->anthropic.blocks[i];
		if (b->type != ANTHROPIC_BLOCK_TEXT ||
		    b->text.len <= s->block_sent[i])
			continue;
		deltas_push(s->deltas, b->text.data + s->block_sent[i],
			    b->text.len - s->block_sent[i]);
		s->block_sent[i] = b->text.len;
	}
}

static int on_sse_event(void *ctx, const struct sse_event *ev, char *err,
			size_t errlen)
{
	struct stream_ctx *s = ctx;
	int rc;

	if (s->provider == PROVIDER_ANTHROPIC)
		rc = anthropic_stream_event(&s->anthropic, ev->name, ev->data,
					    ev->data_len, err, errlen);
	else
		rc = openai_stream_data(&s->openai, ev->data, ev->data_len,
					err, errlen);
	if (rc == 0)
		stream_deltas(s);
	return rc;
}

static void on_idle(void *ctx)
{
	deltas_tick(ctx);
}

static int on_bytes(void *ctx, const char *data, size_t len, char *err,
		    size_t errlen)
{
	struct stream_ctx *s = ctx;

	return sse_feed(&s->sse, data, len, err, errlen);
}

static void stream_init(struct stream_ctx *s, enum provider provider,
			struct deltas *deltas)
{
	memset(s, 0, sizeof(*s));
	s->provider = provider;
	s->deltas = deltas;
	sse_init(&s->sse, 0, 0, on_sse_event, s);
	openai_stream_init(&s->openai);
	anthropic_stream_init(&s->anthropic);
}

static void stream_free(struct stream_ctx *s)
{
	sse_free(&s->sse);
	openai_stream_free(&s->openai);
	anthropic_stream_free(&s->anthropic);
}

static bool stream_server_error(const struct stream_ctx *s)
{
	return s->openai.server_error || s->anthropic.server_error;
}

/* A complete event stream becomes the response; a cut one is retried. */
static enum attempt stream_finish(struct stream_ctx *s,
				  struct openai_response *resp,
				  char *err, size_t errlen)
{
	bool complete;
	int rc;

	sse_finish(&s->sse);
	if (s->provider == PROVIDER_ANTHROPIC)
		complete = anthropic_stream_complete(&s->anthropic);
	else
		complete = openai_stream_complete(&s->openai);
	if (!complete) {
		error_set(err, errlen, "the model's event stream ended before its "
		     "final event");
		return ATTEMPT_RETRY;
	}
	if (s->provider == PROVIDER_ANTHROPIC)
		rc = anthropic_stream_result(&s->anthropic, resp, err, errlen);
	else
		rc = openai_stream_result(&s->openai, resp, err, errlen);
	return rc < 0 ? ATTEMPT_FAIL : ATTEMPT_OK;
}

static enum attempt body_finish(struct model_client *m,
				struct openai_response *resp,
				char *err, size_t errlen)
{
	const struct buf *b = &m->http->response;
	char detail[512];
	int rc;

	if (m->cfg->provider == PROVIDER_ANTHROPIC)
		rc = anthropic_parse_response(b->data, b->len, resp, detail,
					      sizeof(detail));
	else
		rc = openai_parse_response(b->data, b->len, resp, detail,
					   sizeof(detail));
	if (rc == 0) {
		/* Not streamed: the whole text is one piece. */
		if (resp->content)
			deltas_push(&m->deltas, resp->content,
				    strlen(resp->content));
		return ATTEMPT_OK;
	}
	error_set(err, errlen, "the model endpoint returned an invalid response: "
	     "%s", detail);
	return ATTEMPT_FAIL;
}

static bool status_retryable(long status)
{
	return status == 408 || status == 409 || status == 429 ||
	       (status >= 500 && status <= 599);
}

/* The message for an HTTP error status, with the server's own words. */
static enum attempt status_error(struct model_client *m, long status,
				 char *err, size_t errlen)
{
	const struct buf *b = &m->http->response;
	char *server = openai_error_message(b->data, b->len,
					    SERVER_MESSAGE_MAX);
	const char *said = server ? server : "(no message)";
	enum attempt result = ATTEMPT_FAIL;

	if (status == 401 || status == 403)
		error_set(err, errlen, "the model endpoint rejected the API key "
		     "(HTTP %ld): %s (check that the API key is set and valid "
		     "for this endpoint)", status, said);
	else if (status == 404)
		error_set(err, errlen, "the model endpoint returned HTTP 404 for "
		     "model \"%s\" at %s: %s; check the model name and the "
		     "base URL", m->cfg->model, m->http->url, said);
	else if (status == 400)
		error_set(err, errlen, "the model endpoint rejected the request "
		     "(HTTP 400): %s", said);
	else
		error_set(err, errlen, "the model endpoint returned HTTP %ld: %s",
		     status, said);

	if (status_retryable(status))
		result = ATTEMPT_RETRY;
	/* A server that cannot stream says so; ask again without. */
	if (status == 400 && m->stream && server &&
	    strcasestr(server, "stream")) {
		m->stream = false;
		result = ATTEMPT_RETRY;
	}
	free(server);
	return result;
}

static char *request_text(struct model_client *m, cJSON *messages,
			  cJSON *tools)
{
	cJSON *body;
	char *text;

	if (m->cfg->provider == PROVIDER_ANTHROPIC)
		body = anthropic_request(m->cfg->model, messages, tools,
					 m->stream);
	else
		body = openai_request(m->cfg->model, messages, tools,
				      m->stream);
	text = body ? cJSON_PrintUnformatted(body) : NULL;
	cJSON_Delete(body);
	if (!text)
		channel_die("out of memory");
	return text;
}

static enum attempt transfer_error(struct model_client *m,
				   const struct stream_ctx *s, const char *detail,
				   char *err, size_t errlen)
{
	error_set(err, errlen, "model request failed: %s", detail);
	switch (m->http->failure) {
	case HTTP_FAIL_CANCELLED:
		return ATTEMPT_CANCELLED;
	case HTTP_FAIL_TRANSFER:
		return ATTEMPT_RETRY;
	case HTTP_FAIL_STREAM:
		return stream_server_error(s) ? ATTEMPT_RETRY : ATTEMPT_FAIL;
	default:
		return ATTEMPT_FAIL;
	}
}

static enum attempt model_attempt(struct model_client *m, cJSON *messages,
				  cJSON *tools, struct openai_response *resp,
				  char *err, size_t errlen)
{
	struct stream_ctx s;
	char detail[1024];
	enum attempt result;
	long status = 0;
	char *text;
	int rc;

	text = request_text(m, messages, tools);
	stream_init(&s, m->cfg->provider, &m->deltas);
	if (m->deltas.enabled) {
		m->http->on_idle = on_idle;
		m->http->idle_ctx = &m->deltas;
		m->http->idle_ms = (int)DELTAS_FLUSH_MS;
	}
	rc = http_post_json(m->http, text, on_bytes, &s, &status, detail,
			    sizeof(detail));
	m->http->on_idle = NULL;
	free(text);

	if (rc < 0)
		result = transfer_error(m, &s, detail, err, errlen);
	else if (status < 200 || status > 299)
		result = status_error(m, status, err, errlen);
	else if (m->http->streamed)
		result = stream_finish(&s, resp, err, errlen);
	else
		result = body_finish(m, resp, err, errlen);
	stream_free(&s);
	deltas_flush(&m->deltas);
	return result;
}

/* ---- retries ---- */

/* Returns the wait before the next try, or -1 when none may follow. */
static long retry_delay(struct model_client *m, unsigned tries, char *err,
			size_t errlen)
{
	struct timespec now;
	long ms, asked;

	if (tries >= MODEL_TRIES) {
		snprintf(err + strlen(err), errlen - strlen(err),
			 " (gave up after %u tries)", tries);
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	ms = model_backoff_ms(tries, random_value());
	asked = model_retry_after_ms(m->http->retry_after, now.tv_sec);
	if (asked > MODEL_BACKOFF_MAX_MS) {
		snprintf(err + strlen(err), errlen - strlen(err),
			 " (the server asks to retry after %ld s, longer than "
			 "the %ld s this worker waits)", asked / 1000,
			 MODEL_BACKOFF_MAX_MS / 1000);
		return -1;
	}
	return asked >= 0 ? asked : ms;
}

static void report_retry(struct model_client *m, const char *why,
			 unsigned next, long ms)
{
	char *clean = agent_redact(why, m->cfg->api_key);
	cJSON *fields;

	if (!clean)
		channel_die("out of memory");
	m->retries++;
	text_truncate(clean, 4000);
	fields = cJSON_CreateObject();
	if (!fields ||
	    !cJSON_AddNumberToObject(fields, "attempt", next) ||
	    !cJSON_AddNumberToObject(fields, "max_attempts", MODEL_TRIES) ||
	    !cJSON_AddNumberToObject(fields, "delay_ms", (double)ms) ||
	    !cJSON_AddStringToObject(fields, "reason", clean))
		channel_die("out of memory");
	channel_event(m->ch, PROTO_RETRY, fields);
	cJSON_Delete(fields);
	free(clean);
}

int model_ask(struct model_client *m, cJSON *messages, cJSON *tools,
	      struct openai_response *resp, char *err, size_t errlen)
{
	enum attempt result;
	unsigned tries = 0;
	bool streamed;
	long ms;

	for (;;) {
		streamed = m->stream;
		memset(resp, 0, sizeof(*resp));
		/* A cancel may have come with a tool's reply, before this. */
		if (m->ch->cancelled)
			return MODEL_CANCELLED;
		result = model_attempt(m, messages, tools, resp, err, errlen);
		tries++;
		if (result == ATTEMPT_OK)
			return 0;
		if (result == ATTEMPT_CANCELLED)
			return MODEL_CANCELLED;
		if (result == ATTEMPT_FAIL)
			return -1;

		/* Dropping the stream option is a correction, not a wait. */
		ms = streamed && !m->stream ? 0 :
		     retry_delay(m, tries, err, errlen);
		if (ms < 0)
			return -1;
		report_retry(m, err, tries + 1, ms);
		if (wait_or_cancel(m, ms))
			return MODEL_CANCELLED;
	}
}
