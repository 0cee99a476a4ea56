/*
 * One model call, whatever the provider: build the request, stream or read
 * the response, decode it, and retry what is worth retrying.
 *
 * Retried, with exponential backoff and jitter, at most MODEL_TRIES times
 * in all: HTTP 408, 409, 429 and 5xx (honouring Retry-After in seconds or
 * as an HTTP date), connection resets, stalled transfers, event streams
 * that stop before their final event, and error events inside a stream.
 * A retry is safe because nothing from a response is acted on before it
 * is complete. Every retry is reported to the supervisor first, as a
 * "log" event of level "warn" whose message starts with "retry:".
 * Not retried: 400, 401, 403, 404 and other statuses, bodies that are not
 * the expected JSON, responses over the size limits, and a connection the
 * supervisor refused.
 */
#ifndef COWORKER_WORKER_MODEL_H
#define COWORKER_WORKER_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "channel.h"
#include "config.h"
#include "deltas.h"
#include "http.h"
#include "openai.h"

#define MODEL_TRIES 5
#define MODEL_BACKOFF_FIRST_MS 1000L
#define MODEL_BACKOFF_MAX_MS 60000L

struct model_client {
	struct channel *ch;
	struct http_client *http;
	const struct worker_config *cfg;
	bool stream;		/* ask for an event stream */
	unsigned retries;	/* retries made over the whole session */
	struct deltas deltas;	/* text_delta events, when cfg->deltas */
};

/* model_ask's result when the supervisor cancelled the task. */
#define MODEL_CANCELLED (-2)

void model_init(struct model_client *m, struct channel *ch,
		struct http_client *http, const struct worker_config *cfg);
void model_free(struct model_client *m);

/*
 * Ask the model for the next message of the conversation (Chat
 * Completions form, see openai.h). Returns 0 with resp filled, -1 with
 * err holding the message for the user (the API key redacted), or
 * MODEL_CANCELLED when a "cancel" came before or during the transfer or
 * during a backoff wait (resp is then empty). With cfg->deltas, the
 * answer's text goes out in "text_delta" events as it streams; a retry
 * after a stream was cut starts the text over, behind a "retry" event.
 */
int model_ask(struct model_client *m, cJSON *messages, cJSON *tools,
	      struct openai_response *resp, char *err, size_t errlen);

/*
 * The wait a Retry-After value asks for, in milliseconds: delta seconds or
 * an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") compared with now_s
 * (seconds since the epoch). Returns -1 when the value is neither.
 */
long model_retry_after_ms(const char *value, long long now_s);

/*
 * The backoff before retry number n (1 for the first): half of
 * MODEL_BACKOFF_FIRST_MS * 2^(n-1), capped at MODEL_BACKOFF_MAX_MS, plus
 * a random part of up to the other half. random is any value.
 */
long model_backoff_ms(unsigned n, unsigned random);

#endif
