/*
 * The connect broker's view of the model endpoint: the supervisor parses
 * the configured base URL once, resolves its host once, and afterwards
 * connects only to that address, whatever the worker asks.
 */
#ifndef COWORKER_ENDPOINT_H
#define COWORKER_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct endpoint {
	bool tls;
	char host[256];		/* as written in the URL, without brackets */
	int port;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char addr_text[64];
	char resolve[600];	/* CURLOPT_RESOLVE entry "HOST:PORT:ADDRESS" */

	/*
	 * When the environment names a proxy for this URL, addr, addr_text
	 * and resolve are the proxy's: the broker connects only there.
	 */
	bool via_proxy;
	char proxy_host[256];
	int proxy_port;
	char proxy_url[300];	/* "http://HOST:PORT", handed to the worker */
};

/* Parse an http or https base URL into ep; nothing is resolved yet. */
int endpoint_parse(struct endpoint *ep, const char *url, char *err,
		   size_t errlen);

/*
 * True when the URL names this machine: "localhost", 127/8 or ::1. Known
 * before any lookup, so a missing key is reported without one.
 */
bool endpoint_host_is_local(const struct endpoint *ep);

/*
 * Pick the proxy for the parsed URL from https_proxy/HTTPS_PROXY (https) or
 * http_proxy/HTTP_PROXY (http), unless no_proxy/NO_PROXY exempts the host.
 * With no no_proxy variable set, loopback hosts bypass the proxy; a set one,
 * even empty, is the whole list. Only "http://HOST[:PORT][/]" proxies are
 * accepted. Sets ep->via_proxy; call before endpoint_resolve.
 */
int endpoint_proxy_from_env(struct endpoint *ep, char *err, size_t errlen);

/* True when the no_proxy list (comma-separated) names host. */
bool endpoint_no_proxy_match(const char *list, const char *host);

/*
 * Resolve the parsed host once: an IP address is used as is; a name goes
 * through getaddrinfo, here and never again for the session.
 */
int endpoint_resolve(struct endpoint *ep, char *err, size_t errlen);

/* Open a TCP connection to the endpoint; returns the fd or -1 with err. */
int endpoint_connect(const struct endpoint *ep, int timeout_ms, char *err,
		     size_t errlen);

#endif
