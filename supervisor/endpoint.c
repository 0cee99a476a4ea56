/*
 * Base URL parsing, one-time resolution and connecting for the connect
 * broker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "endpoint.h"

static int fail(char *err, size_t errlen, const char *url, const char *why)
{
	snprintf(err, errlen, "invalid base URL \"%.512s\": %s", url, why);
	return -1;
}

/* Split "scheme://host[:port][/path]" into host and port. */
static int parse_url(struct endpoint *ep, const char *url, char *err,
		     size_t errlen)
{
	const char *p, *hostend, *portstr = NULL;
	char *end;
	size_t hostlen;
	long port;

	if (strncmp(url, "http://", 7) == 0) {
		ep->tls = false;
		p = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		ep->tls = true;
		p = url + 8;
	} else {
		return fail(err, errlen, url, "it must start with http:// or "
			    "https://");
	}
	hostend = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(hostend - p)))
		return fail(err, errlen, url, "user names in the URL are not "
			    "supported; use the API key variable");
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(hostend - p));

		if (!close)
			return fail(err, errlen, url, "unterminated [ in host");
		hostlen = (size_t)(close - p - 1);
		p++;
		if (close + 1 < hostend) {
			if (close[1] != ':')
				return fail(err, errlen, url, "junk after ]");
			portstr = close + 2;
		}
	} else {
		const char *colon = memchr(p, ':', (size_t)(hostend - p));

		hostlen = (size_t)((colon ? colon : hostend) - p);
		if (colon)
			portstr = colon + 1;
	}
	if (hostlen == 0 || hostlen >= sizeof(ep->host))
		return fail(err, errlen, url, "missing or over-long host");
	memcpy(ep->host, p, hostlen);
	ep->host[hostlen] = '\0';

	ep->port = ep->tls ? 443 : 80;
	if (portstr) {
		errno = 0;
		port = strtol(portstr, &end, 10);
		if (errno || end != hostend || port < 1 || port > 65535)
			return fail(err, errlen, url, "the port must be a number "
				    "from 1 to 65535");
		ep->port = (int)port;
	}
	return 0;
}

/* Resolve host:port into ep->addr. Errors call the host a "role" host. */
static int resolve_host(struct endpoint *ep, const char *host, int port,
			const char *role, char *err, size_t errlen)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ep->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ep->addr;
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(&ep->addr, 0, sizeof(ep->addr));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((unsigned short)port);
		ep->addrlen = sizeof(*in4);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
		ep->addrlen = sizeof(*in6);
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_ADDRCONFIG;
		rc = getaddrinfo(host, NULL, &hints, &res);
		if (rc != 0 || !res) {
			snprintf(err, errlen, "cannot resolve %s host \"%s\": %s",
				 role, host, gai_strerror(rc));
			return -1;
		}
		memcpy(&ep->addr, res->ai_addr, res->ai_addrlen);
		ep->addrlen = res->ai_addrlen;
		if (res->ai_family == AF_INET)
			in4->sin_port = htons((unsigned short)port);
		else
			in6->sin6_port = htons((unsigned short)port);
		freeaddrinfo(res);
	}
	if (ep->addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &in4->sin_addr, ep->addr_text,
			  sizeof(ep->addr_text));
	else
		inet_ntop(AF_INET6, &in6->sin6_addr, ep->addr_text,
			  sizeof(ep->addr_text));
	return 0;
}

int endpoint_parse(struct endpoint *ep, const char *url, char *err,
		   size_t errlen)
{
	memset(ep, 0, sizeof(*ep));
	return parse_url(ep, url, err, errlen);
}

bool endpoint_host_is_local(const struct endpoint *ep)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(ep->host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, ep->host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, ep->host, &a6) == 1 &&
	       IN6_IS_ADDR_LOOPBACK(&a6);
}

int endpoint_resolve(struct endpoint *ep, char *err, size_t errlen)
{
	const char *host = ep->via_proxy ? ep->proxy_host : ep->host;
	int port = ep->via_proxy ? ep->proxy_port : ep->port;
	bool v6;

	if (resolve_host(ep, host, port, ep->via_proxy ? "proxy" :
			 "model endpoint", err, errlen) < 0)
		return -1;
	v6 = ep->addr.ss_family == AF_INET6;
	snprintf(ep->resolve, sizeof(ep->resolve), "%s%s%s:%d:%s%s%s",
		 strchr(host, ':') ? "[" : "", host,
		 strchr(host, ':') ? "]" : "", port,
		 v6 ? "[" : "", ep->addr_text, v6 ? "]" : "");
	return 0;
}

/* One no_proxy entry: "*", a host, or a ".suffix" / "*.suffix". */
static bool no_proxy_entry_match(const char *entry, size_t len,
				 const char *host)
{
	size_t hlen = strlen(host);

	if (len == 1 && entry[0] == '*')
		return true;
	if (len >= 2 && entry[0] == '*' && entry[1] == '.') {
		entry++;
		len--;
	}
	if (entry[0] == '.')
		return hlen > len &&
		       strncasecmp(host + hlen - len, entry, len) == 0;
	/* A plain domain also covers its subdomains, as curl reads it. */
	if (hlen == len)
		return strncasecmp(host, entry, len) == 0;
	return hlen > len && host[hlen - len - 1] == '.' &&
	       strncasecmp(host + hlen - len, entry, len) == 0;
}

bool endpoint_no_proxy_match(const char *list, const char *host)
{
	const char *p = list, *end;
	size_t len;

	while (*p) {
		p += strspn(p, " \t,");
		end = p + strcspn(p, ",");
		len = (size_t)(end - p);
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len && no_proxy_entry_match(p, len, host))
			return true;
		p = end;
	}
	return false;
}

static const char *env_either(const char *lower, const char *upper)
{
	const char *value = getenv(lower);

	return value ? value : getenv(upper);
}

static int proxy_fail(char *err, size_t errlen, const char *var,
		      const char *url, const char *why)
{
	snprintf(err, errlen, "invalid proxy %s=\"%.256s\": %s", var, url, why);
	return -1;
}

/* Accept only "http://HOST[:PORT][/]"; the proxy itself is spoken to in clear. */
static int parse_proxy(struct endpoint *ep, const char *var, const char *url,
		       char *err, size_t errlen)
{
	struct endpoint px;
	char perr[600];
	const char *rest;

	if (strncmp(url, "http://", 7) != 0)
		return proxy_fail(err, errlen, var, url, "only http:// proxies "
				  "are supported");
	memset(&px, 0, sizeof(px));
	rest = url + 7;
	/* The URL is not echoed: it would print the password. */
	if (memchr(rest, '@', strcspn(rest, "/?#"))) {
		snprintf(err, errlen, "invalid proxy in %s: credentials in the "
			 "proxy URL are not supported; use a proxy that needs "
			 "none", var);
		return -1;
	}
	if (parse_url(&px, url, perr, sizeof(perr)) < 0)
		return proxy_fail(err, errlen, var, url, "expected "
				  "http://HOST:PORT");
	rest += strcspn(rest, "/?#");
	if (*rest && strcmp(rest, "/") != 0)
		return proxy_fail(err, errlen, var, url, "a path is not "
				  "expected; use http://HOST:PORT");
	ep->via_proxy = true;
	snprintf(ep->proxy_host, sizeof(ep->proxy_host), "%s", px.host);
	ep->proxy_port = px.port;
	snprintf(ep->proxy_url, sizeof(ep->proxy_url), "http://%s%s%s:%d",
		 strchr(px.host, ':') ? "[" : "", px.host,
		 strchr(px.host, ':') ? "]" : "", px.port);
	return 0;
}

int endpoint_proxy_from_env(struct endpoint *ep, char *err, size_t errlen)
{
	const char *var = ep->tls ? "https_proxy" : "http_proxy";
	const char *url = getenv(var), *no_proxy;

	if (!url) {
		var = ep->tls ? "HTTPS_PROXY" : "HTTP_PROXY";
		url = getenv(var);
	}
	ep->via_proxy = false;
	if (!url || !*url)
		return 0;
	no_proxy = env_either("no_proxy", "NO_PROXY");
	if (no_proxy ? endpoint_no_proxy_match(no_proxy, ep->host) :
	    endpoint_host_is_local(ep))
		return 0;
	return parse_proxy(ep, var, url, err, errlen);
}

int endpoint_connect(const struct endpoint *ep, int timeout_ms, char *err,
		     size_t errlen)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, soerr = 0, one = 1;

	fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&ep->addr, ep->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		soerr = errno;
		goto fail;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, timeout_ms) != 1) {
		soerr = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr)
		goto fail;

	/* Requests are small writes that Nagle's algorithm would only delay. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	if (ep->via_proxy)
		snprintf(err, errlen, "cannot connect to the proxy %s:%d (%s) "
			 "for %s:%d: %s", ep->proxy_host, ep->proxy_port,
			 ep->addr_text, ep->host, ep->port, strerror(soerr));
	else
		snprintf(err, errlen, "cannot connect to the model endpoint "
			 "%s:%d (%s): %s", ep->host, ep->port, ep->addr_text,
			 strerror(soerr));
	close(fd);
	return -1;
}
