/*
 * Unit tests for the audit log: the hash chain, every kind of tampering the
 * verifier must name, redaction of the secret, file safety and the CLI.
 * Each test works on real files in its own mkdtemp directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "supervisor/audit.h"

#define ZERO_DIGEST \
	"0000000000000000000000000000000000000000000000000000000000000000"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/coworker-audit-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/audit.jsonl", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	struct dirent *entry;
	char path[512];
	DIR *dir;

	dir = opendir(fx->dir);
	if (dir) {
		while ((entry = readdir(dir))) {
			if (strcmp(entry->d_name, ".") == 0 ||
			    strcmp(entry->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", fx->dir,
				 entry->d_name);
			unlink(path);
		}
		closedir(dir);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Read a whole (small) file, NUL-terminated; *len excludes the NUL. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long size;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	buf = malloc((size_t)size + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	buf[size] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)size;
	return buf;
}

static void spew(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Byte offset where line n (from 1) starts. */
static size_t line_start(const char *data, int n)
{
	const char *p = data;

	while (--n > 0) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	return (size_t)(p - data);
}

static bool contains(const char *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle)) != NULL;
}

/* Verify path, keeping the printed report (without newline) in msg. */
static enum audit_verify_status verify(const char *path, const char *head,
				       char *msg, size_t msglen)
{
	enum audit_verify_status status;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	assert_non_null(f);
	status = audit_verify(path, head, f);
	fclose(f);
	assert_non_null(out);
	out[strcspn(out, "\n")] = '\0';
	snprintf(msg, msglen, "%s", out);
	free(out);
	return status;
}

static cJSON *fields_int(const char *name, int value)
{
	cJSON *fields = cJSON_CreateObject();

	assert_non_null(fields);
	assert_non_null(cJSON_AddNumberToObject(fields, name, value));
	return fields;
}

/* Write a log of n lines, each {"event":"test","i":k}; keep its head. */
static void make_log(const char *path, int n, char head[AUDIT_DIGEST_HEX])
{
	char err[256];
	struct audit_log *log = audit_open(path, NULL, err, sizeof(err));
	int i;

	assert_non_null(log);
	for (i = 1; i <= n; i++) {
		cJSON *fields = fields_int("i", i);

		assert_int_equal(audit_append(log, "test", fields, false, err,
					      sizeof(err)), 0);
		cJSON_Delete(fields);
	}
	if (head)
		snprintf(head, AUDIT_DIGEST_HEX, "%s", audit_head(log));
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);
}

static void test_append_verify_roundtrip(void **state)
{
	struct fixture *fx = *state;
	char err[256], msg[512], head[AUDIT_DIGEST_HEX], digest[AUDIT_DIGEST_HEX];
	struct audit_log *log;
	cJSON *fields;
	size_t len, l2, l3;
	char *data;
	int year, month, day, hour, minute, second, ms, end = 0;

	log = audit_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(log);
	assert_string_equal(audit_head(log), ZERO_DIGEST);
	assert_int_equal(audit_count(log), 0);

	fields = cJSON_Parse("{\"argv\":[\"a\",\"b\"],\"n\":3}");
	assert_int_equal(audit_append(log, "session_start", fields, true, err,
				      sizeof(err)), 0);
	cJSON_Delete(fields);
	assert_int_equal(audit_append(log, "tick", NULL, false, err,
				      sizeof(err)), 0);
	fields = cJSON_Parse("{\"nested\":{\"k\":\"v\"}}");
	assert_int_equal(audit_append(log, "end", fields, false, err,
				      sizeof(err)), 0);
	cJSON_Delete(fields);
	assert_int_equal(audit_count(log), 3);
	snprintf(head, sizeof(head), "%s", audit_head(log));
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);

	data = slurp(fx->path, &len);
	assert_true(len > 0);
	assert_int_equal(data[len - 1], '\n');
	assert_memory_equal(data, "{\"seq\":1,\"ts\":\"", 15);
	assert_int_equal(sscanf(data + 15, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ\"%n",
				&year, &month, &day, &hour, &minute, &second,
				&ms, &end), 7);
	assert_int_equal(end, 25);
	assert_true(contains(data, len,
			     ",\"prev\":\"" ZERO_DIGEST "\",\"event\":\"session_start\",\"argv\":[\"a\",\"b\"],\"n\":3}\n"));
	assert_true(contains(data, len, "\"event\":\"tick\"}\n"));
	assert_true(contains(data, len, "\"event\":\"end\",\"nested\":{\"k\":\"v\"}}\n"));

	/* Each prev is the digest of the line before, the head of the last. */
	l2 = line_start(data, 2);
	l3 = line_start(data, 3);
	assert_int_equal(audit_digest_hex(data, l2 - 1, digest), 0);
	assert_true(contains(data + l2, l3 - l2, digest));
	assert_int_equal(audit_digest_hex(data + l2, l3 - l2 - 1, digest), 0);
	assert_true(contains(data + l3, len - l3, digest));
	assert_int_equal(audit_digest_hex(data + l3, len - l3 - 1, digest), 0);
	assert_string_equal(digest, head);
	free(data);

	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_OK);
	assert_non_null(strstr(msg, "audit: 3 lines, chain intact, head "));
	assert_non_null(strstr(msg, head));
}

static void test_continue_existing_log(void **state)
{
	struct fixture *fx = *state;
	char err[256], msg[512], head[AUDIT_DIGEST_HEX];
	struct audit_log *log;
	size_t len;
	char *data;

	make_log(fx->path, 2, head);

	log = audit_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(log);
	assert_int_equal(audit_count(log), 2);
	assert_string_equal(audit_head(log), head);
	assert_int_equal(audit_append(log, "more", NULL, true, err,
				      sizeof(err)), 0);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);

	data = slurp(fx->path, &len);
	assert_true(contains(data + line_start(data, 3), len - line_start(data, 3),
			     "{\"seq\":3,"));
	assert_true(contains(data, len, head));
	free(data);
	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_OK);
	assert_non_null(strstr(msg, "3 lines, chain intact"));
}

static void test_head_match_and_cut_tail(void **state)
{
	struct fixture *fx = *state;
	char msg[512], head[AUDIT_DIGEST_HEX], upper[AUDIT_DIGEST_HEX];
	char line4_head[AUDIT_DIGEST_HEX];
	size_t len, i;
	char *data;

	make_log(fx->path, 5, head);
	assert_int_equal(verify(fx->path, head, msg, sizeof(msg)),
			 AUDIT_VERIFY_OK);
	assert_non_null(strstr(msg, "matches"));
	for (i = 0; i < sizeof(upper); i++)
		upper[i] = (char)(head[i] >= 'a' && head[i] <= 'f' ?
				  head[i] - 'a' + 'A' : head[i]);
	assert_int_equal(verify(fx->path, upper, msg, sizeof(msg)),
			 AUDIT_VERIFY_OK);

	/* Cut the last line: the chain is intact, but the head is gone. */
	data = slurp(fx->path, &len);
	assert_int_equal(audit_digest_hex(data + line_start(data, 4),
					  line_start(data, 5) - line_start(data, 4) - 1,
					  line4_head), 0);
	assert_int_equal(verify(fx->path, line4_head, msg, sizeof(msg)),
			 AUDIT_VERIFY_HEAD_MISMATCH);
	assert_non_null(strstr(msg, "line 4; lines 5..5 were added"));

	spew(fx->path, data, line_start(data, 5));
	free(data);
	assert_int_equal(verify(fx->path, head, msg, sizeof(msg)),
			 AUDIT_VERIFY_HEAD_MISMATCH);
	assert_non_null(strstr(msg, "lines after 4 may have been cut"));
	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_OK);
	assert_int_equal(verify(fx->path, line4_head, msg, sizeof(msg)),
			 AUDIT_VERIFY_OK);
	assert_int_equal(verify(fx->path, "abc", msg, sizeof(msg)),
			 AUDIT_VERIFY_ERROR);
}

/* Change the value "i" of line n (made by make_log) from n to 7. */
static void edit_value(const char *path, int n)
{
	char needle[32], *data, *field;
	size_t len;

	snprintf(needle, sizeof(needle), "\"i\":%d}", n);
	data = slurp(path, &len);
	field = strstr(data + line_start(data, n), needle);
	assert_non_null(field);
	field[4] = '7';
	spew(path, data, len);
	free(data);
}

static void test_edited_line_detected(void **state)
{
	struct fixture *fx = *state;
	char msg[512];

	make_log(fx->path, 5, NULL);
	edit_value(fx->path, 3);

	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_TAMPERED);
	assert_string_equal(msg, "audit: line 4: prev does not match line 3");
}

static void test_edited_first_prev_detected(void **state)
{
	struct fixture *fx = *state;
	char msg[512];
	size_t len;
	char *data, *prev;

	make_log(fx->path, 2, NULL);
	data = slurp(fx->path, &len);
	prev = strstr(data, ZERO_DIGEST);
	assert_non_null(prev);
	prev[0] = '1';
	spew(fx->path, data, len);
	free(data);

	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_TAMPERED);
	assert_non_null(strstr(msg, "line 1: prev is not 64 zeros"));
}

static void test_deleted_middle_line_detected(void **state)
{
	struct fixture *fx = *state;
	char msg[512];
	size_t len, l3, l4;
	char *data;

	make_log(fx->path, 5, NULL);
	data = slurp(fx->path, &len);
	l3 = line_start(data, 3);
	l4 = line_start(data, 4);
	memmove(data + l3, data + l4, len - l4);
	spew(fx->path, data, len - (l4 - l3));
	free(data);

	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_TAMPERED);
	assert_string_equal(msg, "audit: line 3: seq 4, expected 3");
}

static void test_swapped_lines_detected(void **state)
{
	struct fixture *fx = *state;
	char msg[512];
	size_t len, l2, l3, l4;
	char *data, *swapped;

	make_log(fx->path, 5, NULL);
	data = slurp(fx->path, &len);
	l2 = line_start(data, 2);
	l3 = line_start(data, 3);
	l4 = line_start(data, 4);
	swapped = malloc(len);
	assert_non_null(swapped);
	memcpy(swapped, data, l2);
	memcpy(swapped + l2, data + l3, l4 - l3);
	memcpy(swapped + l2 + (l4 - l3), data + l2, l3 - l2);
	memcpy(swapped + l4, data + l4, len - l4);
	spew(fx->path, swapped, len);
	free(swapped);
	free(data);

	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_TAMPERED);
	assert_string_equal(msg, "audit: line 2: seq 3, expected 2");
}

static void test_torn_last_line_is_torn(void **state)
{
	struct fixture *fx = *state;
	char err[512], msg[512], head4[AUDIT_DIGEST_HEX];
	size_t len;
	char *data;

	make_log(fx->path, 5, NULL);
	data = slurp(fx->path, &len);
	assert_int_equal(audit_digest_hex(data + line_start(data, 4),
					  line_start(data, 5) - line_start(data, 4) - 1,
					  head4), 0);

	spew(fx->path, data, len - 5);
	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_TORN);
	assert_non_null(strstr(msg, "line 5 is incomplete (torn write"));
	assert_non_null(strstr(msg, "lines 1..4 verify"));
	assert_non_null(strstr(msg, head4));

	/* Even a line that lacks only its newline was cut short. */
	spew(fx->path, data, len - 1);
	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_TORN);
	free(data);

	assert_null(audit_open(fx->path, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "coworker audit verify"));
	assert_non_null(strstr(err, fx->path));
}

static void test_torn_middle_line_is_tampered(void **state)
{
	struct fixture *fx = *state;
	char msg[512];
	size_t len, l4;
	char *data;

	/* A crash cut line 3 short, and later lines were appended after it. */
	make_log(fx->path, 5, NULL);
	data = slurp(fx->path, &len);
	l4 = line_start(data, 4);
	memmove(data + l4 - 10, data + l4, len - l4);
	spew(fx->path, data, len - 10);
	free(data);

	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_TAMPERED);
	assert_string_equal(msg, "audit: line 3: not valid JSON");
}

static void test_invalid_lines_tampered(void **state)
{
	static const struct {
		const char *content;
		const char *message;
	} cases[] = {
		{ "hello\n", "audit: line 1: not valid JSON" },
		{ "[1,2]\n", "audit: line 1: not valid JSON" },
		{ "{\"seq\":1} trailing\n", "audit: line 1: not valid JSON" },
		{ "{\"seq\":\"1\"}\n", "audit: line 1: seq is missing or not an integer" },
		{ "{\"seq\":1.5}\n", "audit: line 1: seq is missing or not an integer" },
		{ "{\"seq\":2}\n", "audit: line 1: seq 2, expected 1" },
		{ "{\"seq\":1,\"prev\":\"" ZERO_DIGEST "\",\"ts\":\"x\"}\n",
		  "audit: line 1: event is missing or not a string" },
		{ "{\"seq\":1,\"prev\":\"" ZERO_DIGEST "\",\"event\":\"x\"}\n",
		  "audit: line 1: ts is missing or not a string" },
		{ "{\"seq\":1,\"prev\":\"" ZERO_DIGEST "\",\"ts\":\"x\",\"event\":7}\n",
		  "audit: line 1: event is missing or not a string" },
	};
	static const char nul_line[] = "{\"seq\":1,\"ts\":\"x\",\"prev\":\""
		ZERO_DIGEST "\",\"event\":\"a\0b\"}\n";
	struct fixture *fx = *state;
	char msg[512];
	size_t i;

	make_log(fx->path, 0, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		spew(fx->path, cases[i].content, strlen(cases[i].content));
		assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
				 AUDIT_VERIFY_TAMPERED);
		assert_string_equal(msg, cases[i].message);
	}

	spew(fx->path, nul_line, sizeof(nul_line) - 1);
	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_TAMPERED);
	assert_string_equal(msg, "audit: line 1: contains a NUL byte");
}

static void test_overlong_line_tampered(void **state)
{
	struct fixture *fx = *state;
	size_t len = AUDIT_LINE_MAX + 10;
	char *data = malloc(len);
	char msg[512];

	assert_non_null(data);
	make_log(fx->path, 0, NULL);
	memset(data, 'x', len);
	spew(fx->path, data, len);
	free(data);

	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_TAMPERED);
	assert_non_null(strstr(msg, "line 1: longer than"));
}

static void test_empty_log(void **state)
{
	struct fixture *fx = *state;
	char err[256], msg[512];
	struct audit_log *log;

	make_log(fx->path, 0, NULL);
	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_OK);
	assert_string_equal(msg, "audit: 0 lines, chain intact, head " ZERO_DIGEST);
	assert_int_equal(verify(fx->path, ZERO_DIGEST, msg, sizeof(msg)),
			 AUDIT_VERIFY_HEAD_MISMATCH);

	log = audit_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(log);
	assert_int_equal(audit_count(log), 0);
	assert_string_equal(audit_head(log), ZERO_DIGEST);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);
}

/* Append one event with fields parsed from json, under secret. */
static char *append_redacted(const char *path, const char *secret,
			     const char *event, const char *json, size_t *len)
{
	char err[256], msg[512];
	struct audit_log *log = audit_open(path, secret, err, sizeof(err));
	cJSON *fields = json ? cJSON_Parse(json) : NULL;

	assert_non_null(log);
	assert_true(!json || fields);
	assert_int_equal(audit_append(log, event, fields, false, err,
				      sizeof(err)), 0);
	cJSON_Delete(fields);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);
	assert_int_equal(verify(path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_OK);
	return slurp(path, len);
}

#define SECRET "sk-live-4f9a8b7c6d5e"

static void test_redact_nested_fields(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *data;

	data = append_redacted(fx->path, SECRET, "login " SECRET,
			       "{\"a\":{\"b\":[\"x " SECRET " y\",{\"c\":\"" SECRET "\"}]},"
			       "\"d\":\"" SECRET SECRET "\"}", &len);
	assert_false(contains(data, len, SECRET));
	assert_true(contains(data, len, "\"event\":\"login [REDACTED]\""));
	assert_true(contains(data, len, "\"x [REDACTED] y\""));
	assert_true(contains(data, len, "{\"c\":\"[REDACTED]\"}"));
	assert_true(contains(data, len, "\"d\":\"[REDACTED][REDACTED]\""));
	free(data);
}

#define OTHER_SECRET "sk-ant-0123456789abcdef"

/* A key added later (a provider switch) is redacted as well. */
static void test_redact_added_secret(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log;
	char err[256];
	cJSON *fields = cJSON_Parse("{\"a\":\"" SECRET " " OTHER_SECRET "\"}");
	size_t len;
	char *data;

	log = audit_open(fx->path, SECRET, err, sizeof(err));
	assert_non_null(log);
	assert_non_null(fields);
	assert_int_equal(audit_add_secret(log, OTHER_SECRET, err, sizeof(err)), 0);
	/* The same key again takes no room; a third one is rejected. */
	assert_int_equal(audit_add_secret(log, SECRET, err, sizeof(err)), 0);
	assert_int_equal(audit_add_secret(log, "sk-third-key-000000", err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "two keys"));
	assert_int_equal(audit_append(log, "switch", fields, false, err,
				      sizeof(err)), 0);
	cJSON_Delete(fields);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);

	data = slurp(fx->path, &len);
	assert_false(contains(data, len, SECRET));
	assert_false(contains(data, len, OTHER_SECRET));
	assert_true(contains(data, len, "\"a\":\"[REDACTED] [REDACTED]\""));
	free(data);
}

static void test_redact_member_names(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *data;

	data = append_redacted(fx->path, SECRET, "names",
			       "{\"" SECRET "\":1,\"o\":{\"pre-" SECRET "-post\":true}}",
			       &len);
	assert_false(contains(data, len, SECRET));
	assert_true(contains(data, len, "\"[REDACTED]\":1"));
	assert_true(contains(data, len, "\"pre-[REDACTED]-post\":true"));
	free(data);
}

static void test_redact_base64_forms(void **state)
{
	struct fixture *fx = *state;
	unsigned char b64[64];
	char json[256], unpadded[64];
	size_t len;
	char *data;

	/* 20 bytes encode to 28 characters, the last of them padding. */
	assert_int_equal(EVP_EncodeBlock(b64, (const unsigned char *)SECRET,
					 (int)strlen(SECRET)), 28);
	assert_int_equal(b64[27], '=');
	snprintf(unpadded, sizeof(unpadded), "%.27s", (char *)b64);
	snprintf(json, sizeof(json),
		 "{\"auth\":\"Basic %s\",\"raw\":\"%sxyz\",\"list\":[\"%s\"]}",
		 (char *)b64, unpadded, unpadded);

	data = append_redacted(fx->path, SECRET, "b64", json, &len);
	assert_false(contains(data, len, unpadded));
	assert_true(contains(data, len, "\"auth\":\"Basic [REDACTED]\""));
	assert_true(contains(data, len, "\"raw\":\"[REDACTED]xyz\""));
	assert_true(contains(data, len, "\"list\":[\"[REDACTED]\"]"));
	free(data);
}

static void test_redact_escaped_characters(void **state)
{
	static const char secret[] = "k\"ey\\with-a-quote";
	static const char escaped[] = "k\\\"ey\\\\with-a-quote";
	struct fixture *fx = *state;
	char err[256], msg[512];
	struct audit_log *log;
	cJSON *fields, *inner;
	size_t len;
	char *data;

	log = audit_open(fx->path, secret, err, sizeof(err));
	assert_non_null(log);
	fields = cJSON_CreateObject();
	inner = cJSON_CreateObject();
	assert_non_null(cJSON_AddStringToObject(fields, "v",
						"before k\"ey\\with-a-quote after"));
	assert_non_null(cJSON_AddStringToObject(inner, secret, secret));
	assert_true(cJSON_AddItemToObject(fields, "inner", inner));
	assert_int_equal(audit_append(log, secret, fields, true, err,
				      sizeof(err)), 0);
	cJSON_Delete(fields);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);

	data = slurp(fx->path, &len);
	assert_false(contains(data, len, secret));
	assert_false(contains(data, len, escaped));
	assert_true(contains(data, len, "\"before [REDACTED] after\""));
	assert_true(contains(data, len, "{\"[REDACTED]\":\"[REDACTED]\"}"));
	free(data);
	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_OK);
}

/* The shortest secret that is redacted, and one byte less. */
static void test_redact_min_length(void **state)
{
	static const char at_min[] = "q~Z!q~Z!q~Z!q~Z!";
	struct fixture *fx = *state;
	size_t len;
	char *data;

	assert_int_equal(strlen(at_min), AUDIT_SECRET_MIN);
	assert_false(audit_secret_too_short(at_min));
	assert_true(audit_secret_too_short(at_min + 1));
	data = append_redacted(fx->path, at_min, "short",
			       "{\"v\":\"aq~Z!q~Z!q~Z!q~Z!b\"}", &len);
	assert_true(contains(data, len, "\"v\":\"a[REDACTED]b\""));
	free(data);

	assert_int_equal(unlink(fx->path), 0);
	data = append_redacted(fx->path, at_min + 1, "short",
			       "{\"v\":\"a~Z!q~Z!q~Z!q~Z!b\"}", &len);
	assert_true(contains(data, len, "\"v\":\"a~Z!q~Z!q~Z!q~Z!b\""));
	assert_false(contains(data, len, AUDIT_REDACTED));
	free(data);
}

/*
 * Placeholder keys for local model servers are not redacted: "d", "e" and
 * "ab" occur in digests, and "x" and "test" in ordinary text.
 */
static void test_placeholder_key_not_redacted(void **state)
{
	static const char *const keys[] = { "d", "e", "ab", "x", "test" };
	static const char json[] =
		"{\"command\":\"python3 -m unittest\",\"x\":\"dGVzdA== eA\"}";
	struct fixture *fx = *state;
	size_t i, len;
	char *data;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		data = append_redacted(fx->path, keys[i], "test", json, &len);
		assert_true(contains(data, len, "\"event\":\"test\""));
		assert_true(contains(data, len, "python3 -m unittest"));
		assert_true(contains(data, len, "\"x\":\"dGVzdA== eA\""));
		assert_false(contains(data, len, AUDIT_REDACTED));
		free(data);
		assert_int_equal(unlink(fx->path), 0);
	}
}

/* A placeholder passed to audit_add_secret takes none of the room. */
static void test_placeholder_added_takes_no_room(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log;
	char err[256];
	cJSON *fields = cJSON_Parse("{\"a\":\"test " OTHER_SECRET "\"}");
	size_t len;
	char *data;

	log = audit_open(fx->path, SECRET, err, sizeof(err));
	assert_non_null(log);
	assert_non_null(fields);
	assert_int_equal(audit_add_secret(log, "test", err, sizeof(err)), 0);
	assert_int_equal(audit_add_secret(log, OTHER_SECRET, err, sizeof(err)), 0);
	assert_int_equal(audit_append(log, "switch", fields, false, err,
				      sizeof(err)), 0);
	cJSON_Delete(fields);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);

	data = slurp(fx->path, &len);
	assert_true(contains(data, len, "\"a\":\"test [REDACTED]\""));
	free(data);
}

static void test_redact_number(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *data;

	/* Below 2^53, so exact as a double: cJSON prints every digit. */
	data = append_redacted(fx->path, "2718281828459045", "number",
			       "{\"n\":-2718281828459045,\"m\":12}", &len);
	assert_false(contains(data, len, "2718281828459045"));
	assert_true(contains(data, len, "\"n\":\"[REDACTED]\",\"m\":12}"));
	free(data);
}

/* The first line's prev is 64 zeros, which no redaction can change. */
static void test_redact_fixed_text_fails_closed(void **state)
{
	static const char secret[] = "0000000000000000";
	struct fixture *fx = *state;
	char err[512];
	struct audit_log *log;
	size_t len;
	char *data;

	log = audit_open(fx->path, secret, err, sizeof(err));
	assert_non_null(log);
	assert_int_equal(audit_append(log, "x", NULL, false, err,
				      sizeof(err)), -1);
	assert_null(strstr(err, secret));
	assert_non_null(strstr(err, "not written"));
	assert_non_null(strstr(err, "a key to redact"));
	assert_int_equal(audit_count(log), 0);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);

	data = slurp(fx->path, &len);
	assert_int_equal(len, 0);
	free(data);
}

/* The session's notes and final answer are redacted like the log's lines. */
static void test_redact_text_copy(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log;
	char err[256], *text;
	static const char plain[] = "nothing to hide";

	log = audit_open(fx->path, SECRET, err, sizeof(err));
	assert_non_null(log);
	assert_int_equal(audit_add_secret(log, OTHER_SECRET, err, sizeof(err)), 0);

	/* "c2stbGl2ZS00ZjlhOGI3YzZkNWU" is SECRET in unpadded base64. */
	text = audit_redact_text(log, "model: echo " SECRET " and "
				 OTHER_SECRET ", c2stbGl2ZS00ZjlhOGI3YzZkNWU");
	assert_non_null(text);
	assert_string_equal(text, "model: echo [REDACTED] and [REDACTED], "
			    "[REDACTED]");
	free(text);

	text = audit_redact_text(log, plain);
	assert_non_null(text);
	assert_string_equal(text, plain);
	assert_ptr_not_equal(text, plain);
	free(text);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);
}

/* The --json stream's lines are redacted like the log's lines. */
static void test_redact_print_event(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log;
	char err[256], *text;
	cJSON *item;
	size_t len;

	log = audit_open(fx->path, SECRET, err, sizeof(err));
	assert_non_null(log);
	item = cJSON_Parse("{\"v\":1,\"type\":\"request\",\"subject\":"
			   "\"echo " SECRET "\",\"" SECRET "\":[\"" SECRET "\"]}");
	assert_non_null(item);
	text = audit_redact_print(log, item, err, sizeof(err));
	assert_non_null(text);
	assert_string_equal(text, "{\"v\":1,\"type\":\"request\",\"subject\":"
			    "\"echo [REDACTED]\",\"[REDACTED]\":[\"[REDACTED]\"]}");
	cJSON_free(text);
	cJSON_Delete(item);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);

	/* Printing writes nothing to the log. */
	text = slurp(fx->path, &len);
	assert_int_equal(len, 0);
	free(text);
}

static void test_redact_print_number(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log;
	char err[256], *text;
	cJSON *item;

	log = audit_open(fx->path, "2718281828459045", err, sizeof(err));
	assert_non_null(log);
	item = cJSON_Parse("{\"n\":-2718281828459045,\"m\":12}");
	assert_non_null(item);
	text = audit_redact_print(log, item, err, sizeof(err));
	assert_non_null(text);
	assert_string_equal(text, "{\"n\":\"[REDACTED]\",\"m\":12}");
	cJSON_free(text);
	cJSON_Delete(item);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);
}

/* A secret made of the JSON syntax between values cannot be replaced. */
static void test_redact_print_syntax_fails_closed(void **state)
{
	static const char secret[] = ":\"x\",\"bbbb\":\"y\"}";
	struct fixture *fx = *state;
	struct audit_log *log;
	char err[256];
	cJSON *item;

	assert_false(audit_secret_too_short(secret));
	log = audit_open(fx->path, secret, err, sizeof(err));
	assert_non_null(log);
	item = cJSON_Parse("{\"aaaa\":\"x\",\"bbbb\":\"y\"}");
	assert_non_null(item);
	err[0] = '\0';
	assert_null(audit_redact_print(log, item, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot be replaced"));
	assert_null(strstr(err, secret));
	cJSON_Delete(item);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);
}

/* Text that arrives in pieces: how much of its end may begin a secret. */
static void test_secret_prefix(void **state)
{
	struct fixture *fx = *state;
	struct audit_log *log;
	char err[256];

	log = audit_open(fx->path, SECRET, err, sizeof(err));
	assert_non_null(log);
	assert_int_equal(audit_secret_prefix(log, "no key here", 11), 0);
	assert_int_equal(audit_secret_prefix(log, "", 0), 0);
	assert_int_equal(audit_secret_prefix(log, "the key is s", 12), 1);
	assert_int_equal(audit_secret_prefix(log, "echo sk-live", 12), 7);
	assert_int_equal(audit_secret_prefix(log, "sk-sk-live-4", 12), 9);
	/* The whole secret is redacted where it is, so nothing is held. */
	assert_int_equal(audit_secret_prefix(log, "x " SECRET, 22), 0);
	assert_int_equal(audit_secret_prefix(log, "x sk-live-4f9a8b7c6d5", 21),
			 strlen(SECRET) - 1);
	/* Only the first len bytes count. */
	assert_int_equal(audit_secret_prefix(log, "sk-liveXYZ", 7), 7);
	/* A base64 form of the secret begins with "c2stbGl2". */
	assert_int_equal(audit_secret_prefix(log, "Basic c2stbGl2", 14), 8);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);

	/* With a placeholder key, nothing is held back. */
	log = audit_open(fx->path, "test", err, sizeof(err));
	assert_non_null(log);
	assert_int_equal(audit_secret_prefix(log, "a tes", 5), 0);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);
}

static void test_mode_is_0600(void **state)
{
	struct fixture *fx = *state;
	char err[256], loose[192];
	struct audit_log *log;
	mode_t old_umask = umask(0);
	struct stat st;
	int fd;

	make_log(fx->path, 1, NULL);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* An existing file with looser permissions is tightened. */
	snprintf(loose, sizeof(loose), "%s/loose.jsonl", fx->dir);
	fd = open(loose, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(loose, 0664), 0);
	umask(old_umask);

	log = audit_open(loose, NULL, err, sizeof(err));
	assert_non_null(log);
	assert_int_equal(stat(loose, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);
}

static void test_symlink_rejected(void **state)
{
	struct fixture *fx = *state;
	char err[256], target[192], dangling[192];
	struct stat st;
	int fd;

	snprintf(target, sizeof(target), "%s/target", fx->dir);
	fd = open(target, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(symlink(target, fx->path), 0);

	assert_null(audit_open(fx->path, SECRET, err, sizeof(err)));
	assert_non_null(strstr(err, "is a symbolic link"));
	assert_null(strstr(err, SECRET));
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_size, 0);

	/* A dangling link must not create its target either. */
	snprintf(dangling, sizeof(dangling), "%s/dangling", fx->dir);
	assert_int_equal(symlink("missing", dangling), 0);
	assert_null(audit_open(dangling, NULL, err, sizeof(err)));
	snprintf(target, sizeof(target), "%s/missing", fx->dir);
	assert_int_equal(stat(target, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_non_regular_file_rejected(void **state)
{
	struct fixture *fx = *state;
	char err[256];

	assert_int_equal(mkfifo(fx->path, 0600), 0);
	assert_null(audit_open(fx->path, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
}

static void test_second_writer_locked_out(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	struct audit_log *first, *second;

	first = audit_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(first);
	second = audit_open(fx->path, NULL, err, sizeof(err));
	assert_null(second);
	assert_non_null(strstr(err, "in use"));
	assert_int_equal(audit_close(first, err, sizeof(err)), 0);

	second = audit_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(second);
	assert_int_equal(audit_close(second, err, sizeof(err)), 0);
}

static void test_batched_10000_appends_verify(void **state)
{
	struct fixture *fx = *state;
	char err[256], msg[512], head[AUDIT_DIGEST_HEX];

	make_log(fx->path, 10000, head);
	assert_int_equal(verify(fx->path, head, msg, sizeof(msg)),
			 AUDIT_VERIFY_OK);
	assert_non_null(strstr(msg, "audit: 10000 lines, chain intact"));

	/* Continuing a long log reads its whole chain. */
	struct audit_log *log = audit_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(log);
	assert_int_equal(audit_count(log), 10000);
	assert_string_equal(audit_head(log), head);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);
}

static void test_invalid_events_keep_log_usable(void **state)
{
	struct fixture *fx = *state;
	char err[256], msg[512];
	struct audit_log *log;
	cJSON *fields, *deep;
	char *big;
	int i;

	log = audit_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(log);

	fields = fields_int("seq", 9);
	assert_int_equal(audit_append(log, "x", fields, false, err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "reserved"));
	cJSON_Delete(fields);

	fields = cJSON_CreateArray();
	assert_int_equal(audit_append(log, "x", fields, false, err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "must be a JSON object"));
	cJSON_Delete(fields);

	assert_int_equal(audit_append(log, NULL, NULL, false, err,
				      sizeof(err)), -1);

	big = malloc(AUDIT_LINE_MAX + 1);
	assert_non_null(big);
	memset(big, 'a', AUDIT_LINE_MAX);
	big[AUDIT_LINE_MAX] = '\0';
	fields = cJSON_CreateObject();
	assert_non_null(cJSON_AddStringToObject(fields, "big", big));
	free(big);
	assert_int_equal(audit_append(log, "x", fields, false, err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	cJSON_Delete(fields);

	/* Containers nested as deep as the verifier parses, then one more. */
	deep = cJSON_CreateArray();
	for (i = 1; i < CJSON_NESTING_LIMIT - 1; i++) {
		cJSON *outer = cJSON_CreateArray();

		cJSON_AddItemToArray(outer, deep);
		deep = outer;
	}
	fields = cJSON_CreateObject();
	cJSON_AddItemToObject(fields, "deep", deep);
	assert_int_equal(audit_append(log, "deep", fields, false, err,
				      sizeof(err)), 0);
	deep = cJSON_CreateArray();
	cJSON_AddItemToArray(deep, cJSON_DetachItemFromObject(fields, "deep"));
	cJSON_AddItemToObject(fields, "deep", deep);
	assert_int_equal(audit_append(log, "deeper", fields, false, err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "nest deeper"));
	cJSON_Delete(fields);

	assert_int_equal(audit_append(log, "fine", NULL, true, err,
				      sizeof(err)), 0);
	assert_int_equal(audit_count(log), 2);
	assert_int_equal(audit_close(log, err, sizeof(err)), 0);
	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_OK);
	assert_non_null(strstr(msg, "2 lines"));
}

/*
 * A file size limit makes the kernel accept only part of a line, the way a
 * full disk would. The log must then reject every later line, so the
 * partial one stays the last and reads as torn.
 */
static void test_write_failure_poisons_log(void **state)
{
	struct fixture *fx = *state;
	char err[512], msg[512];
	struct audit_log *log;
	struct rlimit old, small;
	void (*old_handler)(int);
	struct stat st;
	int rc;

	make_log(fx->path, 2, NULL);
	log = audit_open(fx->path, NULL, err, sizeof(err));
	assert_non_null(log);
	assert_int_equal(stat(fx->path, &st), 0);

	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = (rlim_t)st.st_size + 20;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	rc = audit_append(log, "cut", NULL, false, err, sizeof(err));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "write to audit log"));
	assert_int_equal(audit_count(log), 2);
	assert_int_equal(audit_append(log, "later", NULL, true, err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "unusable"));
	assert_int_equal(audit_sync(log, err, sizeof(err)), -1);
	assert_int_equal(audit_close(log, err, sizeof(err)), -1);

	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_TORN);
	assert_non_null(strstr(msg, "line 3 is incomplete"));
}

/* Run the CLI with its output sent to /dev/null; returns the exit code. */
static int run_cli(int argc, ...)
{
	char *argv[8];
	int saved_out, saved_err, null_fd, rc, i;
	va_list ap;

	assert_true(argc < 8);
	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;

	fflush(stdout);
	fflush(stderr);
	saved_out = dup(STDOUT_FILENO);
	saved_err = dup(STDERR_FILENO);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(saved_out >= 0 && saved_err >= 0 && null_fd >= 0);
	dup2(null_fd, STDOUT_FILENO);
	dup2(null_fd, STDERR_FILENO);

	rc = audit_cli_verify(argc, argv);

	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	close(null_fd);
	return rc;
}

static void test_cli_exit_codes(void **state)
{
	struct fixture *fx = *state;
	char head[AUDIT_DIGEST_HEX], head_opt[80], missing[192];
	size_t len;
	char *data;

	make_log(fx->path, 3, head);
	snprintf(head_opt, sizeof(head_opt), "--head=%s", head);
	snprintf(missing, sizeof(missing), "%s/missing", fx->dir);

	assert_int_equal(run_cli(2, "verify", fx->path), 0);
	assert_int_equal(run_cli(4, "verify", fx->path, "--head", head), 0);
	assert_int_equal(run_cli(4, "verify", "--head", head, fx->path), 0);
	assert_int_equal(run_cli(3, "verify", head_opt, fx->path), 0);
	assert_int_equal(run_cli(4, "verify", "--head", ZERO_DIGEST, fx->path), 1);
	assert_int_equal(run_cli(2, "verify", "--help"), 0);

	assert_int_equal(run_cli(1, "verify"), 3);
	assert_int_equal(run_cli(2, "verify", missing), 3);
	assert_int_equal(run_cli(2, "verify", fx->dir), 3);
	assert_int_equal(run_cli(3, "verify", fx->path, "--head"), 3);
	assert_int_equal(run_cli(4, "verify", fx->path, "--head", "xyz"), 3);
	assert_int_equal(run_cli(3, "verify", fx->path, "--frobnicate"), 3);
	assert_int_equal(run_cli(3, "verify", fx->path, fx->path), 3);

	data = slurp(fx->path, &len);
	spew(fx->path, data, len - 3);
	assert_int_equal(run_cli(2, "verify", fx->path), 2);
	data[line_start(data, 2) + 3] = 'X';
	spew(fx->path, data, len);
	assert_int_equal(run_cli(2, "verify", fx->path), 1);
	free(data);
}

/* ---------- verify messages and CLI statuses ---------- */

/*
 * Run the CLI with standard output and error sent to a file, and copy the
 * first line of that file to out. Returns the exit code.
 */
static int run_cli_output(struct fixture *fx, char *out, size_t outlen,
			  char **argv, int argc)
{
	char path[192];
	int saved_out, saved_err, fd, rc;
	size_t len;
	char *text;

	snprintf(path, sizeof(path), "%s/cli-output", fx->dir);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(STDOUT_FILENO);
	saved_err = dup(STDERR_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(saved_out >= 0 && saved_err >= 0 && fd >= 0);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);

	rc = audit_cli_verify(argc, argv);

	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	close(fd);
	text = slurp(path, &len);
	text[strcspn(text, "\n")] = '\0';
	snprintf(out, outlen, "%s", text);
	free(text);
	unlink(path);
	return rc;
}

static void test_verify_edited_last_line(void **state)
{
	struct fixture *fx = *state;
	char msg[512], head[AUDIT_DIGEST_HEX];

	make_log(fx->path, 5, head);
	edit_value(fx->path, 5);

	/* The chain alone cannot see it: no later line vouches for line 5. */
	assert_int_equal(verify(fx->path, NULL, msg, sizeof(msg)),
			 AUDIT_VERIFY_OK);
	assert_int_equal(verify(fx->path, head, msg, sizeof(msg)),
			 AUDIT_VERIFY_HEAD_MISMATCH);
	assert_non_null(strstr(msg, "line 5 may have been edited"));
	assert_non_null(strstr(msg, "lines after 5 may have been cut"));
	assert_non_null(strstr(msg, "another log"));
}

static void test_verify_empty_log_fails_cli(void **state)
{
	struct fixture *fx = *state;
	char msg[512], *argv[5] = { "verify", fx->path, "--head", ZERO_DIGEST,
				    NULL };
	struct audit_log *log;

	make_log(fx->path, 0, NULL);
	assert_int_equal(run_cli_output(fx, msg, sizeof(msg), argv, 2), 1);
	assert_non_null(strstr(msg, "is empty (0 bytes), so it records no session"));

	assert_int_equal(run_cli_output(fx, msg, sizeof(msg), argv, 4), 1);
	assert_non_null(strstr(msg, "the log is empty, so it cannot end with the expected head"));

	/* The library still takes an empty file as a log to continue. */
	log = audit_open(fx->path, NULL, msg, sizeof(msg));
	assert_non_null(log);
	assert_int_equal(audit_close(log, msg, sizeof(msg)), 0);
}

static void test_verify_unopenable_exit_3(void **state)
{
	struct fixture *fx = *state;
	char msg[512], missing[192], *argv[3] = { "verify", missing, NULL };

	snprintf(missing, sizeof(missing), "%s/missing.jsonl", fx->dir);
	assert_int_equal(run_cli_output(fx, msg, sizeof(msg), argv, 2), 3);
	assert_non_null(strstr(msg, "cannot open"));
	assert_non_null(strstr(msg, "No such file or directory"));

	argv[1] = fx->dir;
	assert_int_equal(run_cli_output(fx, msg, sizeof(msg), argv, 2), 3);
	assert_non_null(strstr(msg, "cannot read"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_append_verify_roundtrip),
		T(test_continue_existing_log),
		T(test_head_match_and_cut_tail),
		T(test_edited_line_detected),
		T(test_edited_first_prev_detected),
		T(test_deleted_middle_line_detected),
		T(test_swapped_lines_detected),
		T(test_torn_last_line_is_torn),
		T(test_torn_middle_line_is_tampered),
		T(test_invalid_lines_tampered),
		T(test_overlong_line_tampered),
		T(test_empty_log),
		T(test_redact_nested_fields),
		T(test_redact_added_secret),
		T(test_redact_member_names),
		T(test_redact_base64_forms),
		T(test_redact_escaped_characters),
		T(test_redact_min_length),
		T(test_placeholder_key_not_redacted),
		T(test_placeholder_added_takes_no_room),
		T(test_redact_number),
		T(test_redact_fixed_text_fails_closed),
		T(test_redact_text_copy),
		T(test_redact_print_event),
		T(test_redact_print_number),
		T(test_redact_print_syntax_fails_closed),
		T(test_secret_prefix),
		T(test_mode_is_0600),
		T(test_symlink_rejected),
		T(test_non_regular_file_rejected),
		T(test_second_writer_locked_out),
		T(test_batched_10000_appends_verify),
		T(test_invalid_events_keep_log_usable),
		T(test_write_failure_poisons_log),
		T(test_cli_exit_codes),
		T(test_verify_edited_last_line),
		T(test_verify_empty_log_fails_cli),
		T(test_verify_unopenable_exit_3),
#undef T
	};

	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
