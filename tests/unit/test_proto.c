/*
 * Unit tests for the wire protocol decoder and codec.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/proto.h"

static char err[512];

static int decode_worker(const char *text, struct proto_msg *m)
{
	return proto_decode(text, strlen(text), PROTO_FROM_WORKER, -1, m, err,
			    sizeof(err));
}

/* Assert text is rejected and the error mentions needle. */
static void assert_rejected(const char *text, const char *needle)
{
	struct proto_msg m;

	assert_int_equal(decode_worker(text, &m), -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void decode_valid_request(void **state)
{
	struct proto_msg m;

	(void)state;
	assert_int_equal(decode_worker("{\"v\":1,\"id\":7,\"type\":\"read_file\","
				       "\"path\":\"src/a.c\"}", &m), 0);
	assert_int_equal(m.type->id, PROTO_READ_FILE);
	assert_int_equal(m.id, 7);
	assert_string_equal(proto_str(&m, "path"), "src/a.c");
	assert_int_equal(m.fd, -1);
	proto_msg_free(&m);
}

static void decode_rejects_bad_envelope(void **state)
{
	(void)state;
	assert_rejected("", "empty");
	assert_rejected("[1,2]", "not a JSON object");
	assert_rejected("{\"v\":1,\"id\":1", "not valid JSON");
	assert_rejected("{\"id\":1,\"type\":\"connect\"}", "\"v\"");
	assert_rejected("{\"v\":2,\"id\":1,\"type\":\"connect\"}",
			"protocol version 2");
	assert_rejected("{\"v\":1,\"type\":\"connect\"}", "\"id\"");
	assert_rejected("{\"v\":1,\"id\":0,\"type\":\"connect\"}", "\"id\"");
	assert_rejected("{\"v\":1,\"id\":1.5,\"type\":\"connect\"}", "\"id\"");
	assert_rejected("{\"v\":1,\"id\":\"1\",\"type\":\"connect\"}", "\"id\"");
	assert_rejected("{\"v\":1,\"id\":3000000000,\"type\":\"connect\"}",
			"\"id\"");
	assert_rejected("{\"v\":1,\"id\":1}", "\"type\"");
	assert_rejected("{\"v\":1,\"id\":1,\"type\":7}", "\"type\"");
}

static void decode_rejects_unknown_type(void **state)
{
	(void)state;
	assert_rejected("{\"v\":1,\"id\":1,\"type\":\"exec\"}",
			"unknown message type \"exec\"");
}

static void decode_rejects_wrong_direction(void **state)
{
	(void)state;
	/* A worker must not send what only the supervisor sends. */
	assert_rejected("{\"v\":1,\"id\":1,\"type\":\"reply\",\"ok\":true}",
			"not permitted in this direction");
	assert_rejected("{\"v\":1,\"id\":1,\"type\":\"task\",\"text\":\"x\"}",
			"not permitted in this direction");
}

static void decode_rejects_bad_fields(void **state)
{
	(void)state;
	assert_rejected("{\"v\":1,\"id\":1,\"type\":\"read_file\"}",
			"missing field \"path\"");
	assert_rejected("{\"v\":1,\"id\":1,\"type\":\"read_file\",\"path\":3}",
			"read_file.path: expected a string");
	assert_rejected("{\"v\":1,\"id\":1,\"type\":\"read_file\",\"path\":\"\"}",
			"read_file.path: length 0");
	assert_rejected("{\"v\":1,\"id\":1,\"type\":\"read_file\",\"path\":\"a\","
			"\"mode\":\"w\"}", "unknown field \"mode\"");
	assert_rejected("{\"v\":1,\"id\":1,\"type\":\"run_command\","
			"\"command\":\"ls\",\"timeout_ms\":-5}",
			"run_command.timeout_ms: value -5");
	assert_rejected("{\"v\":1,\"id\":1,\"type\":\"run_command\","
			"\"command\":\"ls\",\"timeout_ms\":\"9\"}",
			"expected an integer");
	assert_rejected("{\"v\":1,\"id\":1,\"type\":\"read_file\",\"path\":\"a\","
			"\"path\":\"b\"}", "duplicate member");
}

static void decode_rejects_nul_byte(void **state)
{
	static const char text[] = "{\"v\":1,\"id\":1,\"type\":\"connect\"}\0x";
	struct proto_msg m;

	(void)state;
	assert_int_equal(proto_decode(text, sizeof(text) - 1, PROTO_FROM_WORKER,
				      -1, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL"));
}

static void decode_rejects_oversize(void **state)
{
	size_t len = PROTO_FRAME_MAX + 1;
	char *big = malloc(len + 1);
	struct proto_msg m;

	(void)state;
	memset(big, ' ', len);
	big[len] = '\0';
	assert_int_equal(proto_decode(big, len, PROTO_FROM_WORKER, -1, &m, err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "exceeds"));
	free(big);
}

static void decode_checks_descriptor_rule(void **state)
{
	static const char write_req[] =
		"{\"v\":1,\"id\":2,\"type\":\"write_file\",\"path\":\"a\"}";
	static const char read_req[] =
		"{\"v\":1,\"id\":2,\"type\":\"read_file\",\"path\":\"a\"}";
	struct proto_msg m;

	(void)state;
	assert_int_equal(proto_decode(write_req, strlen(write_req),
				      PROTO_FROM_WORKER, -1, &m, err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "missing file descriptor"));
	assert_int_equal(proto_decode(read_req, strlen(read_req),
				      PROTO_FROM_WORKER, 0, &m, err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "unexpected file descriptor"));
}

static void send_recv_round_trip_with_fd(void **state)
{
	struct proto_msg m;
	cJSON *f = cJSON_CreateObject();
	int sv[2], p[2];
	char buf[8];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(pipe(p), 0);
	cJSON_AddStringToObject(f, "path", "notes.txt");
	assert_int_equal(proto_send(sv[0], PROTO_WRITE_FILE, 9, f, p[0], err,
				    sizeof(err)), 0);
	cJSON_Delete(f);
	close(p[0]);

	assert_int_equal(proto_recv(sv[1], PROTO_FROM_WORKER, &m, err,
				    sizeof(err)), 1);
	assert_int_equal(m.type->id, PROTO_WRITE_FILE);
	assert_int_equal(m.id, 9);
	assert_true(m.fd >= 0);
	assert_int_equal(write(p[1], "hi", 2), 2);
	assert_int_equal(read(m.fd, buf, sizeof(buf)), 2);
	proto_msg_free(&m);
	close(p[1]);

	close(sv[0]);
	assert_int_equal(proto_recv(sv[1], PROTO_FROM_WORKER, &m, err,
				    sizeof(err)), 0);
	close(sv[1]);
}

static void send_refuses_invalid_message(void **state)
{
	cJSON *f = cJSON_CreateObject();
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	cJSON_AddNumberToObject(f, "path", 5);
	assert_int_equal(proto_send(sv[0], PROTO_READ_FILE, 1, f, -1, err,
				    sizeof(err)), -1);
	assert_non_null(strstr(err, "expected a string"));
	cJSON_Delete(f);
	close(sv[0]);
	close(sv[1]);
}

static void recv_rejects_garbage_frame(void **state)
{
	static const char junk[] = "\x01\x02not json at all";
	struct proto_msg m;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(send(sv[0], junk, sizeof(junk) - 1, 0),
			 (ssize_t)sizeof(junk) - 1);
	assert_int_equal(proto_recv(sv[1], PROTO_FROM_WORKER, &m, err,
				    sizeof(err)), -1);
	close(sv[0]);
	close(sv[1]);
}

static void recv_rejects_frame_over_limit(void **state)
{
	size_t len = PROTO_FRAME_MAX + 100;
	char *big = malloc(len);
	struct proto_msg m;
	int sv[2], size = (int)len * 2;

	(void)state;
	memset(big, 'x', len);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	assert_int_equal(send(sv[0], big, len, 0), (ssize_t)len);
	assert_int_equal(proto_recv(sv[1], PROTO_FROM_WORKER, &m, err,
				    sizeof(err)), -1);
	assert_non_null(strstr(err, "exceeds"));
	free(big);
	close(sv[0]);
	close(sv[1]);
}

static void table_numbers_follow_direction_rule(void **state)
{
	int id;
	const struct proto_type *t;

	(void)state;
	for (id = 1; id < 128; id++) {
		t = proto_type_by_id((enum proto_type_id)id);
		if (!t)
			continue;
		assert_ptr_equal(proto_type_by_name(t->name), t);
		if (id < 64)
			assert_int_equal(t->dir, PROTO_FROM_WORKER);
		else
			assert_int_equal(t->dir, PROTO_FROM_SUPERVISOR);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_valid_request),
		cmocka_unit_test(decode_rejects_bad_envelope),
		cmocka_unit_test(decode_rejects_unknown_type),
		cmocka_unit_test(decode_rejects_wrong_direction),
		cmocka_unit_test(decode_rejects_bad_fields),
		cmocka_unit_test(decode_rejects_nul_byte),
		cmocka_unit_test(decode_rejects_oversize),
		cmocka_unit_test(decode_checks_descriptor_rule),
		cmocka_unit_test(send_recv_round_trip_with_fd),
		cmocka_unit_test(send_refuses_invalid_message),
		cmocka_unit_test(recv_rejects_garbage_frame),
		cmocka_unit_test(recv_rejects_frame_over_limit),
		cmocka_unit_test(table_numbers_follow_direction_rule),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
