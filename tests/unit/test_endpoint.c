/*
 * Unit tests for the connect broker's endpoint: proxy selection from the
 * environment and no_proxy matching. Nothing here opens a socket; every
 * host is an IP literal or a name under .invalid that is never resolved.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/endpoint.h"

static char err[512];

static void clear_proxy_env(void)
{
	static const char *const vars[] = {
		"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
		"no_proxy", "NO_PROXY",
	};
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

static int setup_env(void **state)
{
	(void)state;
	clear_proxy_env();
	return 0;
}

static void parse(struct endpoint *ep, const char *url)
{
	assert_int_equal(endpoint_parse(ep, url, err, sizeof(err)), 0);
}

static void no_proxy_list_matches(void **state)
{
	(void)state;
	assert_true(endpoint_no_proxy_match("*", "api.example.invalid"));
	assert_true(endpoint_no_proxy_match("a.invalid, example.invalid",
					    "api.example.invalid"));
	assert_true(endpoint_no_proxy_match("example.invalid",
					    "example.invalid"));
	assert_true(endpoint_no_proxy_match(".example.invalid",
					    "api.example.invalid"));
	assert_true(endpoint_no_proxy_match("*.example.invalid",
					    "API.Example.invalid"));
	assert_true(endpoint_no_proxy_match(",,127.0.0.1,", "127.0.0.1"));
	assert_false(endpoint_no_proxy_match("", "127.0.0.1"));
	assert_false(endpoint_no_proxy_match("ample.invalid",
					     "example.invalid"));
	assert_false(endpoint_no_proxy_match(".example.invalid",
					     "example.invalid"));
	assert_false(endpoint_no_proxy_match("127.0.0.1", "127.0.0.10"));
}

static void no_variable_no_proxy(void **state)
{
	struct endpoint ep;

	(void)state;
	parse(&ep, "https://10.0.0.1/v1");
	assert_int_equal(endpoint_proxy_from_env(&ep, err, sizeof(err)), 0);
	assert_false(ep.via_proxy);
}

static void https_proxy_applies_to_https_only(void **state)
{
	struct endpoint ep;

	(void)state;
	setenv("HTTPS_PROXY", "http://10.0.0.2:3128/", 1);
	parse(&ep, "https://10.0.0.1/v1");
	assert_int_equal(endpoint_proxy_from_env(&ep, err, sizeof(err)), 0);
	assert_true(ep.via_proxy);
	assert_string_equal(ep.proxy_host, "10.0.0.2");
	assert_int_equal(ep.proxy_port, 3128);
	assert_string_equal(ep.proxy_url, "http://10.0.0.2:3128");
	assert_int_equal(endpoint_resolve(&ep, err, sizeof(err)), 0);
	assert_string_equal(ep.resolve, "10.0.0.2:3128:10.0.0.2");

	parse(&ep, "http://10.0.0.1/v1");
	assert_int_equal(endpoint_proxy_from_env(&ep, err, sizeof(err)), 0);
	assert_false(ep.via_proxy);
	clear_proxy_env();
}

static void lower_case_wins(void **state)
{
	struct endpoint ep;

	(void)state;
	setenv("http_proxy", "http://[::1]:8080", 1);
	setenv("HTTP_PROXY", "http://10.0.0.9:1", 1);
	parse(&ep, "http://10.0.0.1:8000/v1");
	assert_int_equal(endpoint_proxy_from_env(&ep, err, sizeof(err)), 0);
	assert_true(ep.via_proxy);
	assert_string_equal(ep.proxy_url, "http://[::1]:8080");
	assert_int_equal(endpoint_resolve(&ep, err, sizeof(err)), 0);
	assert_string_equal(ep.resolve, "[::1]:8080:[::1]");
	clear_proxy_env();
}

static void loopback_bypass_is_the_default_list(void **state)
{
	struct endpoint ep;

	(void)state;
	setenv("HTTPS_PROXY", "http://10.0.0.2:3128", 1);
	parse(&ep, "https://127.0.0.1:8443/v1");
	assert_int_equal(endpoint_proxy_from_env(&ep, err, sizeof(err)), 0);
	assert_false(ep.via_proxy);

	/* A set NO_PROXY, even empty, replaces the default. */
	setenv("NO_PROXY", "", 1);
	assert_int_equal(endpoint_proxy_from_env(&ep, err, sizeof(err)), 0);
	assert_true(ep.via_proxy);

	setenv("no_proxy", "localhost,127.0.0.1", 1);
	assert_int_equal(endpoint_proxy_from_env(&ep, err, sizeof(err)), 0);
	assert_false(ep.via_proxy);
	clear_proxy_env();
}

static void bad_proxies_rejected(void **state)
{
	static const char *const bad[] = {
		"https://10.0.0.2:3128", "socks5://10.0.0.2:1080",
		"10.0.0.2:3128", "http://10.0.0.2:3128/path",
		"http://10.0.0.2:99999", "http://:3128",
	};
	struct endpoint ep;
	size_t i;

	(void)state;
	parse(&ep, "https://10.0.0.1/v1");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("HTTPS_PROXY", bad[i], 1);
		assert_int_equal(endpoint_proxy_from_env(&ep, err,
							 sizeof(err)), -1);
		assert_non_null(strstr(err, "HTTPS_PROXY"));
	}

	/* A URL with credentials is rejected without echoing the password. */
	setenv("HTTPS_PROXY", "http://user:hunter2@10.0.0.2:3128", 1);
	assert_int_equal(endpoint_proxy_from_env(&ep, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "credentials"));
	assert_null(strstr(err, "hunter2"));
	clear_proxy_env();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_proxy_list_matches),
		cmocka_unit_test(no_variable_no_proxy),
		cmocka_unit_test(https_proxy_applies_to_https_only),
		cmocka_unit_test(lower_case_wins),
		cmocka_unit_test(loopback_bypass_is_the_default_list),
		cmocka_unit_test(bad_proxies_rejected),
	};

	return cmocka_run_group_tests_name("endpoint", tests, setup_env, NULL);
}
