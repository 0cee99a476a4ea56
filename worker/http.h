/*
 * The worker's HTTP client: one libcurl easy handle driven by a multi
 * handle, whose connections come from the supervisor.
 *
 * libcurl never opens a socket or resolves a name itself. The open-socket
 * callback sends a "connect" request and uses the connected socket in the
 * reply; the supervisor alone decides where it leads. CURLOPT_RESOLVE
 * fills libcurl's name cache, so no resolver thread ever starts.
 */
#ifndef COWORKER_WORKER_HTTP_H
#define COWORKER_WORKER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "channel.h"
#include "config.h"
#include "text.h"

/* Responses larger than this abort the transfer. */
#define HTTP_RESPONSE_MAX (8L * 1024 * 1024)
/*
 * A streamed response may be larger: every chunk repeats its envelope, so
 * the wire carries several times the text. The parsers bound the text.
 */
#define HTTP_STREAM_MAX (64L * 1024 * 1024)
/* A transfer that moves no byte for this long is abandoned. */
#define HTTP_STALL_SEC 300L

/*
 * Receives the body of a 2xx "text/event-stream" response as it arrives.
 * Returns 0, or -1 with err to abort the transfer.
 */
typedef int (*http_stream_fn)(void *ctx, const char *data, size_t len,
			      char *err, size_t errlen);

/* Why http_post_json failed, so the caller can decide on a retry. */
enum http_failure {
	HTTP_FAIL_NONE,
	HTTP_FAIL_CONNECT,	/* the supervisor opened no connection */
	HTTP_FAIL_TRANSFER,	/* reset, cut short, stalled: worth a retry */
	HTTP_FAIL_TOO_LARGE,
	HTTP_FAIL_STREAM,	/* the stream callback rejected the data */
	HTTP_FAIL_LOCAL,	/* set-up or memory; not the server's fault */
	HTTP_FAIL_CANCELLED,	/* the supervisor sent "cancel" meanwhile */
};

struct http_client {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *resolve;
	char *url;		/* base_url + the provider's endpoint path */
	char *proxy;		/* the proxy the resolve entry names, or NULL */
	char host[256];		/* host and port the resolve entry names */
	long port;
	struct channel *ch;
	struct buf response;	/* a body that is not an event stream */
	bool too_large;		/* the write callback hit a size limit */
	bool streamed;		/* the last response was an event stream */
	size_t stream_bytes;
	http_stream_fn on_stream;
	void *stream_ctx;
	/* Called when the transfer loop wakes, at least every idle_ms. */
	void (*on_idle)(void *ctx);
	void *idle_ctx;
	int idle_ms;
	char stream_error[512];
	char retry_after[64];	/* the last response's Retry-After, or "" */
	enum http_failure failure;
	char connect_error[512];	/* why the supervisor refused */
	char curl_error[CURL_ERROR_SIZE];
	bool global_init;
};

/*
 * All start-up work that needs the filesystem or new descriptors: global
 * init (OpenSSL loads its configuration), the multi and easy handles and
 * their options. Must run before the lock-down. Returns 0 or -1 with err.
 */
int http_client_init(struct http_client *hc, const struct worker_config *cfg,
		     struct channel *ch, char *err, size_t errlen);

/*
 * POST body as JSON to hc->url. A 2xx response of type text/event-stream
 * goes to on_stream (when not NULL) as it arrives and hc->streamed is set;
 * any other body lands in hc->response (valid until the next call). On
 * success returns 0 with *status set. Returns -1 with err and
 * hc->failure when the transfer failed.
 *
 * The supervisor's socket is watched while the transfer runs: a "cancel"
 * arriving then aborts the transfer at once (HTTP_FAIL_CANCELLED), and
 * any other message ends the worker as a protocol violation.
 */
int http_post_json(struct http_client *hc, const char *body,
		   http_stream_fn on_stream, void *ctx, long *status,
		   char *err, size_t errlen);

/*
 * Wait ms milliseconds without a timer descriptor (the worker cannot make
 * new ones). Returns early with 1 when wake_fd (or -1 for none) becomes
 * readable, else 0.
 */
int http_wait(struct http_client *hc, long ms, int wake_fd);

void http_client_free(struct http_client *hc);

/*
 * Check that url's scheme is http or https and its host and port are the
 * ones resolve ("HOST:PORT:ADDRESS") names. Returns 0 or -1 with err.
 */
int http_check_url(const char *url, const char *resolve, char *err,
		   size_t errlen);

#endif
