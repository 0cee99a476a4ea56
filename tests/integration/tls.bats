#!/usr/bin/env bats
# https end to end: a test CA made with the openssl tool, a TLS server on
# 127.0.0.1 that answers Chat Completions, and a whole session whose worker
# checks the server against the CA that the supervisor hands it as an fd.

load helpers
load tls_helpers

setup() {
	command -v openssl > /dev/null || skip "the openssl command is not installed"
	setup_workspace
	make_certificates
}

teardown() {
	if [ -n "${TLS_PID:-}" ]; then
		kill -TERM "$TLS_PID" 2>/dev/null || true
		wait "$TLS_PID" 2>/dev/null || true
	fi
	teardown_workspace
}

run_tls_session() {
	SSL_CERT_FILE=$1 OPENAI_API_KEY=sk-test-tls-0123456789 run timeout 60 \
		"$COWORKER" exec -C "$WS" --audit "$TOP/audit.jsonl" \
		--base-url "$BASE_URL" --model gpt-4o "Say hello"
}

@test "https session with a test CA" {
	response_text "$TOP/answer.json" "Hello over TLS."
	start_tls_server "$TOP/answer.json"

	run_tls_session "$TOP/pki/ca.pem"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Hello over TLS."* ]]
	grep -q '^/v1/chat/completions ' "$TOP/requests"
	audit_lines "$TOP/audit.jsonl" worker_exit | grep -q '"exit status 0"'
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]
}

@test "https session with the wrong CA fails" {
	response_text "$TOP/answer.json" "Hello over TLS."
	start_tls_server "$TOP/answer.json"

	run_tls_session "$TOP/pki/other.pem"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" != *"Hello over TLS."* ]]
	[[ "$output" == *"certificate"* ]]
	# The worker failed cleanly: no seccomp kill on the error path.
	! audit_lines "$TOP/audit.jsonl" worker_exit | grep -q SIGSYS
	[ ! -s "$TOP/requests" ]
}
