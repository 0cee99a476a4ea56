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

struct http_client {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *resolve;
	char *url;		/* base_url + "/chat/completions" */
	char host[256];		/* host and port the resolve entry names */
	long port;
	struct channel *ch;
	struct buf response;
	bool too_large;		/* the write callback hit HTTP_RESPONSE_MAX */
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
 * POST body as JSON to hc->url. On success returns 0 with *status set and
 * the response in hc->response (valid until the next call). Returns -1 with
 * err when the transfer failed (no connection, too large a response...).
 */
int http_post_json(struct http_client *hc, const char *body, long *status,
		   char *err, size_t errlen);

void http_client_free(struct http_client *hc);

/*
 * Check that url's scheme is http or https and its host and port are the
 * ones resolve ("HOST:PORT:ADDRESS") names. Returns 0 or -1 with err.
 */
int http_check_url(const char *url, const char *resolve, char *err,
		   size_t errlen);

#endif
