/*
 * libcurl set-up and one blocking POST at a time, driven by the multi
 * interface so that no call after start-up needs a new descriptor.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "anthropic.h"
#include "http.h"
#include "lib/error.h"

#define POLL_MS 1000

/* Split "HOST:PORT:ADDRESS" (HOST may be "[v6]") into host and port. */
static int resolve_split(const char *resolve, char *host, size_t hostlen,
			 long *port, char *err, size_t errlen)
{
	const char *end, *colon;
	char *stop;
	size_t len;

	if (resolve[0] == '+' || resolve[0] == '-')
		return error_set(err, errlen, "resolve entry \"%s\": the + and - "
			    "forms are not accepted", resolve);
	end = resolve[0] == '[' ? strchr(resolve, ']') : resolve;
	colon = end ? strchr(end, ':') : NULL;
	if (!colon || colon == resolve)
		return error_set(err, errlen, "resolve entry \"%s\" is not "
			    "HOST:PORT:ADDRESS", resolve);
	len = (size_t)(colon - resolve);
	if (len >= hostlen)
		return error_set(err, errlen, "resolve entry \"%s\": host too long",
			    resolve);
	memcpy(host, resolve, len);
	host[len] = '\0';

	errno = 0;
	*port = strtol(colon + 1, &stop, 10);
	if (errno || stop == colon + 1 || *stop != ':' || stop[1] == '\0' ||
	    *port < 1 || *port > 65535)
		return error_set(err, errlen, "resolve entry \"%s\": the port must be "
			    "1..65535 followed by :ADDRESS", resolve);
	return 0;
}

int http_check_url(const char *url, const char *resolve, char *err,
		   size_t errlen)
{
	char *scheme = NULL, *host = NULL, *portstr = NULL;
	char rhost[256];
	long rport, port;
	CURLU *u;
	int rc = -1;

	if (resolve_split(resolve, rhost, sizeof(rhost), &rport,
			  err, errlen) < 0)
		return -1;
	u = curl_url();
	if (!u)
		return error_set(err, errlen, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &portstr,
			 CURLU_DEFAULT_PORT) != CURLUE_OK) {
		error_set(err, errlen, "base URL \"%s\" is not a valid URL", url);
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		error_set(err, errlen, "base URL \"%s\": the scheme must be http or "
		     "https", url);
		goto out;
	}
	port = strtol(portstr, NULL, 10);
	if (strcasecmp(host, rhost) != 0 || port != rport) {
		error_set(err, errlen, "base URL \"%s\" names %s:%ld but the resolve "
		     "entry names %s:%ld", url, host, port, rhost, rport);
		goto out;
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(portstr);
	curl_url_cleanup(u);
	return rc;
}

/*
 * The resolve entry must name the host curl connects to: the proxy when
 * there is one (the URL itself must still be http or https), else the URL's.
 */
static int http_check_target(const char *url, const char *proxy,
			     const char *resolve, char *err, size_t errlen)
{
	char *scheme = NULL;
	CURLU *u;
	int rc = -1;

	if (!proxy)
		return http_check_url(url, resolve, err, errlen);
	if (http_check_url(proxy, resolve, err, errlen) < 0)
		return -1;
	if (strncmp(proxy, "http://", 7) != 0)
		return error_set(err, errlen, "proxy \"%s\" is not http://", proxy);
	u = curl_url();
	if (!u)
		return error_set(err, errlen, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		error_set(err, errlen, "base URL \"%s\" is not an http or https URL",
		     url);
	else
		rc = 0;
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

/* The supervisor opens the connection; its reply carries the socket. */
static curl_socket_t open_socket_cb(void *clientp, curlsocktype purpose,
				    struct curl_sockaddr *address)
{
	struct http_client *hc = clientp;
	struct proto_msg reply;
	const char *error;
	int fd;

	(void)purpose;
	(void)address;
	channel_request(hc->ch, PROTO_CONNECT, NULL, -1, &reply);
	if (!proto_bool(&reply, "ok", false) || reply.fd < 0) {
		error = proto_str(&reply, "error");
		snprintf(hc->connect_error, sizeof(hc->connect_error), "%s",
			 error ? error : "the reply carried no socket");
		proto_msg_free(&reply);
		return CURL_SOCKET_BAD;
	}
	fd = proto_msg_take_fd(&reply);
	proto_msg_free(&reply);
	return fd;
}

static int sockopt_cb(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	(void)clientp;
	(void)fd;
	(void)purpose;
	return CURL_SOCKOPT_ALREADY_CONNECTED;
}

static int close_socket_cb(void *clientp, curl_socket_t fd)
{
	(void)clientp;
	return close(fd);
}

/*
 * The status and type are known once the first body bytes arrive: only a
 * 2xx event stream goes to the stream callback, so error bodies (JSON or
 * not) are always kept whole for the message.
 */
static void write_start(struct http_client *hc)
{
	char *type = NULL;
	long status = 0;

	curl_easy_getinfo(hc->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(hc->easy, CURLINFO_CONTENT_TYPE, &type);
	hc->streamed = hc->on_stream && status >= 200 && status <= 299 &&
		       type && strncasecmp(type, "text/event-stream", 17) == 0;
}

/* Returning less than given makes libcurl abort with CURLE_WRITE_ERROR. */
static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_client *hc = userp;
	size_t len = size * nmemb;

	if (!hc->streamed && hc->response.len == 0 && hc->stream_bytes == 0)
		write_start(hc);
	if (!hc->streamed) {
		if (buf_append(&hc->response, data, len) < 0) {
			hc->too_large = true;
			return 0;
		}
		return len;
	}

	hc->stream_bytes += len;
	if (hc->stream_bytes > HTTP_STREAM_MAX) {
		hc->too_large = true;
		return 0;
	}
	if (hc->on_stream(hc->stream_ctx, data, len, hc->stream_error,
			  sizeof(hc->stream_error)) < 0) {
		if (!hc->stream_error[0])
			snprintf(hc->stream_error, sizeof(hc->stream_error),
				 "the event stream was rejected");
		return 0;
	}
	return len;
}

/* Keeps the Retry-After value of the response being received. */
static size_t header_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_client *hc = userp;
	size_t len = size * nmemb, vlen;
	const char *value;

	/* A new status line starts a new response (after a 100 Continue). */
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
		hc->retry_after[0] = '\0';
	if (len < 12 || strncasecmp(data, "Retry-After:", 12) != 0)
		return len;
	value = data + 12;
	vlen = len - 12;
	while (vlen && (*value == ' ' || *value == '\t')) {
		value++;
		vlen--;
	}
	while (vlen && strchr(" \t\r\n", value[vlen - 1]))
		vlen--;
	if (vlen >= sizeof(hc->retry_after))
		vlen = 0;
	memcpy(hc->retry_after, value, vlen);
	hc->retry_after[vlen] = '\0';
	return len;
}

static int add_header(struct http_client *hc, const char *line, char *err,
		      size_t errlen)
{
	struct curl_slist *next = curl_slist_append(hc->headers, line);

	if (!next)
		return error_set(err, errlen, "out of memory");
	hc->headers = next;
	return 0;
}

/*
 * OpenAI-compatible servers take "Authorization: Bearer KEY"; Anthropic
 * takes "x-api-key: KEY" and the API version it should speak.
 */
static int build_headers(struct http_client *hc, enum provider provider,
			 const char *api_key, char *err, size_t errlen)
{
	static const char *const fixed[] = {
		"Content-Type: application/json",
		/* Either: the worker streams and falls back to a JSON body. */
		"Accept: text/event-stream, application/json",
		/* No 100-continue round trip before the body. */
		"Expect:",
	};
	const char *prefix = provider == PROVIDER_ANTHROPIC ?
			     "x-api-key: " : "Authorization: Bearer ";
	struct curl_slist *next;
	char *auth;
	size_t i, len;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (add_header(hc, fixed[i], err, errlen) < 0)
			return -1;
	if (provider == PROVIDER_ANTHROPIC &&
	    add_header(hc, "anthropic-version: " ANTHROPIC_VERSION, err,
		       errlen) < 0)
		return -1;
	if (!api_key)
		return 0;

	len = strlen(prefix) + strlen(api_key) + 1;
	auth = malloc(len);
	if (!auth)
		return error_set(err, errlen, "out of memory");
	snprintf(auth, len, "%s%s", prefix, api_key);
	next = curl_slist_append(hc->headers, auth);
	explicit_bzero(auth, len);
	free(auth);
	if (!next)
		return error_set(err, errlen, "out of memory");
	hc->headers = next;
	return 0;
}

#define SETOPT(opt, value)						\
	do {								\
		if (curl_easy_setopt(hc->easy, opt, value) != CURLE_OK)	\
			return error_set(err, errlen, "curl_easy_setopt(%s) "	\
				    "failed", #opt);			\
	} while (0)

static int set_tls_options(struct http_client *hc,
			   const struct worker_config *cfg,
			   char *err, size_t errlen)
{
	struct curl_blob blob;

	/* Never the built-in paths: opening them would need open(). */
	SETOPT(CURLOPT_CAINFO, (char *)NULL);
	SETOPT(CURLOPT_CAPATH, (char *)NULL);
	if (strncasecmp(cfg->base_url, "https:", 6) != 0)
		return 0;

	if (!cfg->ca)
		return error_set(err, errlen, "base URL \"%s\" is https but no CA "
			    "bundle descriptor came with the config",
			    cfg->base_url);
	blob.data = cfg->ca;
	blob.len = cfg->ca_len;
	blob.flags = CURL_BLOB_COPY;
	SETOPT(CURLOPT_CAINFO_BLOB, &blob);
	return 0;
}

static int set_options(struct http_client *hc, const struct worker_config *cfg,
		       char *err, size_t errlen)
{
	SETOPT(CURLOPT_URL, hc->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	/*
	 * Only the supervisor's proxy: the resolve entry names it, the socket
	 * callback gets a connection to it, and curl tunnels https with
	 * CONNECT. The worker's own environment is never consulted.
	 */
	SETOPT(CURLOPT_PROXY, hc->proxy ? hc->proxy : "");
	SETOPT(CURLOPT_NOPROXY, "");
	if (hc->proxy && strncasecmp(hc->url, "https:", 6) == 0)
		SETOPT(CURLOPT_HTTPPROXYTUNNEL, 1L);
	SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SETOPT(CURLOPT_USERAGENT, "coworker-worker");
	SETOPT(CURLOPT_HTTPHEADER, hc->headers);
	SETOPT(CURLOPT_RESOLVE, hc->resolve);
	/* The resolve entry must never expire into a real lookup. */
	SETOPT(CURLOPT_DNS_CACHE_TIMEOUT, -1L);
	SETOPT(CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
	SETOPT(CURLOPT_OPENSOCKETDATA, hc);
	SETOPT(CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	SETOPT(CURLOPT_CLOSESOCKETFUNCTION, close_socket_cb);
	SETOPT(CURLOPT_CLOSESOCKETDATA, hc);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, hc);
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, hc);
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(CURLOPT_LOW_SPEED_TIME, HTTP_STALL_SEC);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_RESPONSE_MAX);
	SETOPT(CURLOPT_ERRORBUFFER, hc->curl_error);
	SETOPT(CURLOPT_POST, 1L);
	return set_tls_options(hc, cfg, err, errlen);
}

/*
 * base_url names the API root, as the providers' own clients take it:
 * OpenAI's ends in "/v1", Anthropic's usually does not, and "/v1" is added
 * there unless it is already the last segment.
 */
static char *endpoint_url(const struct worker_config *cfg)
{
	const char *base = cfg->base_url, *path = "chat/completions";
	size_t len = strlen(base), size;
	char *url;

	while (len > 1 && base[len - 1] == '/')
		len--;
	if (cfg->provider == PROVIDER_ANTHROPIC)
		path = len >= 3 && strncmp(base + len - 3, "/v1", 3) == 0 ?
		       "messages" : "v1/messages";
	size = len + 1 + strlen(path) + 1;
	url = malloc(size);
	if (url)
		snprintf(url, size, "%.*s/%s", (int)len, base, path);
	return url;
}

int http_client_init(struct http_client *hc, const struct worker_config *cfg,
		     struct channel *ch, char *err, size_t errlen)
{
	memset(hc, 0, sizeof(*hc));
	hc->ch = ch;
	buf_init(&hc->response, HTTP_RESPONSE_MAX);

	if (http_check_target(cfg->base_url, cfg->proxy, cfg->resolve,
			      err, errlen) < 0 ||
	    resolve_split(cfg->resolve, hc->host, sizeof(hc->host), &hc->port,
			  err, errlen) < 0)
		return -1;
	hc->url = endpoint_url(cfg);
	if (cfg->proxy)
		hc->proxy = strdup(cfg->proxy);
	if (!hc->url || (cfg->proxy && !hc->proxy))
		return error_set(err, errlen, "out of memory");

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return error_set(err, errlen, "curl_global_init failed");
	hc->global_init = true;

	/* Creates libcurl's wake-up socketpair now, while socketpair works. */
	hc->multi = curl_multi_init();
	hc->easy = curl_easy_init();
	hc->resolve = curl_slist_append(NULL, cfg->resolve);
	if (!hc->multi || !hc->easy || !hc->resolve)
		return error_set(err, errlen, "libcurl initialisation failed");

	if (build_headers(hc, cfg->provider, cfg->api_key, err, errlen) < 0)
		return -1;
	return set_options(hc, cfg, err, errlen);
}

/*
 * Run the transfer to its end; returns libcurl's result for it, or
 * CURLE_ABORTED_BY_CALLBACK once the supervisor cancelled the task. The
 * cancel may also have come while the open-socket callback waited for
 * its "connect" reply, so the flag is checked after every step.
 */
static CURLcode http_drive(struct http_client *hc)
{
	struct curl_waitfd sup = { .fd = hc->ch->sock,
				   .events = CURL_WAIT_POLLIN };
	CURLcode result = CURLE_FAILED_INIT;
	struct CURLMsg *m;
	int running = 1, queued;
	CURLMcode mc;

	while (running && !hc->ch->cancelled) {
		mc = curl_multi_perform(hc->multi, &running);
		if (mc == CURLM_OK && running && !hc->ch->cancelled) {
			sup.revents = 0;
			mc = curl_multi_poll(hc->multi, &sup, 1, hc->on_idle ?
					     hc->idle_ms : POLL_MS, NULL);
			if (sup.revents)
				channel_take_cancel(hc->ch, "a model request "
						    "was running");
			if (hc->on_idle)
				hc->on_idle(hc->idle_ctx);
		}
		if (mc != CURLM_OK)
			return CURLE_RECV_ERROR;
	}
	if (hc->ch->cancelled)
		return CURLE_ABORTED_BY_CALLBACK;
	while ((m = curl_multi_info_read(hc->multi, &queued)))
		if (m->msg == CURLMSG_DONE && m->easy_handle == hc->easy)
			result = m->data.result;
	return result;
}

static int http_result_error(struct http_client *hc, CURLcode result,
			     char *err, size_t errlen)
{
	if (result == CURLE_ABORTED_BY_CALLBACK && hc->ch->cancelled) {
		hc->failure = HTTP_FAIL_CANCELLED;
		return error_set(err, errlen, "the request was cancelled");
	}
	if (hc->connect_error[0]) {
		hc->failure = HTTP_FAIL_CONNECT;
		return error_set(err, errlen, "the supervisor did not open a "
			    "connection to %s: %s", hc->host, hc->connect_error);
	}
	if (result == CURLE_FILESIZE_EXCEEDED || hc->too_large) {
		hc->failure = HTTP_FAIL_TOO_LARGE;
		return error_set(err, errlen, "the model response exceeds %ld bytes",
			    hc->streamed ? HTTP_STREAM_MAX : HTTP_RESPONSE_MAX);
	}
	if (hc->stream_error[0]) {
		hc->failure = HTTP_FAIL_STREAM;
		return error_set(err, errlen, "%s", hc->stream_error);
	}
	hc->failure = result == CURLE_OUT_OF_MEMORY ? HTTP_FAIL_LOCAL :
		      HTTP_FAIL_TRANSFER;
	return error_set(err, errlen, "request to %s failed: %s", hc->url,
		    hc->curl_error[0] ? hc->curl_error :
		    curl_easy_strerror(result));
}

static void http_reset(struct http_client *hc, http_stream_fn on_stream,
		       void *ctx)
{
	buf_free(&hc->response);
	hc->too_large = false;
	hc->streamed = false;
	hc->stream_bytes = 0;
	hc->on_stream = on_stream;
	hc->stream_ctx = ctx;
	hc->stream_error[0] = '\0';
	hc->retry_after[0] = '\0';
	hc->failure = HTTP_FAIL_NONE;
	hc->connect_error[0] = '\0';
	hc->curl_error[0] = '\0';
}

int http_post_json(struct http_client *hc, const char *body,
		   http_stream_fn on_stream, void *ctx, long *status,
		   char *err, size_t errlen)
{
	CURLcode result;

	http_reset(hc, on_stream, ctx);
	hc->failure = HTTP_FAIL_LOCAL;
	/* Deliberate re-check: the name cache must cover this request. */
	if (http_check_target(hc->url, hc->proxy, hc->resolve->data,
			      err, errlen) < 0)
		return -1;

	SETOPT(CURLOPT_POSTFIELDS, body);
	SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	if (curl_multi_add_handle(hc->multi, hc->easy) != CURLM_OK)
		return error_set(err, errlen, "curl_multi_add_handle failed");
	hc->failure = HTTP_FAIL_NONE;
	result = http_drive(hc);
	curl_multi_remove_handle(hc->multi, hc->easy);

	if (result != CURLE_OK)
		return http_result_error(hc, result, err, errlen);
	*status = 0;
	curl_easy_getinfo(hc->easy, CURLINFO_RESPONSE_CODE, status);
	if (buf_append(&hc->response, "", 0) < 0) {
		hc->failure = HTTP_FAIL_LOCAL;
		return error_set(err, errlen, "out of memory");
	}
	return 0;
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - since->tv_sec) * 1000 +
	       (long)(now.tv_nsec - since->tv_nsec) / 1000000;
}

/*
 * curl_multi_poll with no transfer waits on its own wake-up socketpair and
 * the extra descriptor: poll() is on the seccomp allowlist, nanosleep and
 * timerfd are not.
 */
int http_wait(struct http_client *hc, long ms, int wake_fd)
{
	struct curl_waitfd wfd = { .fd = wake_fd, .events = CURL_WAIT_POLLIN };
	struct timespec start;
	long left;
	int ready;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while ((left = ms - elapsed_ms(&start)) > 0) {
		ready = 0;
		wfd.revents = 0;
		if (curl_multi_poll(hc->multi, wake_fd >= 0 ? &wfd : NULL,
				    wake_fd >= 0 ? 1 : 0, (int)left,
				    &ready) != CURLM_OK)
			return 0;
		if (wake_fd >= 0 && wfd.revents)
			return 1;
	}
	return 0;
}

void http_client_free(struct http_client *hc)
{
	if (hc->easy)
		curl_easy_cleanup(hc->easy);
	if (hc->multi)
		curl_multi_cleanup(hc->multi);
	curl_slist_free_all(hc->headers);
	curl_slist_free_all(hc->resolve);
	free(hc->url);
	free(hc->proxy);
	buf_free(&hc->response);
	if (hc->global_init)
		curl_global_cleanup();
	memset(hc, 0, sizeof(*hc));
}
