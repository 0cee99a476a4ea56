#!/usr/bin/env bats
# A worker that breaks the protocol is stopped, the violation is in the
# audit log, and the supervisor exits with a clear error instead of crashing.
# tests/helpers/bad-worker.c plays the worker; its behaviour is chosen by
# the model name.

load helpers

setup() {
	setup_workspace
	BAD=$BUILD/tests/helpers/bad-worker
	[ -x "$BAD" ] || skip "bad-worker helper not built (run make check)"
}

teardown() {
	teardown_workspace
}

run_bad() {
	COWORKER_WORKER=$BAD OPENAI_API_KEY=sk-test-bad-0123456789 \
		run timeout 60 "$COWORKER" exec -C "$WS" \
		--audit "$TOP/audit.jsonl" --base-url http://127.0.0.1:9/v1 \
		--model "$1" "Do something"
}

@test "garbage frame ends the worker" {
	run_bad garbage
	[ "$status" -eq 3 ]
	[[ "$output" == *"invalid message"* ]]
	audit_lines "$TOP/audit.jsonl" protocol_violation | grep -q 'not valid JSON'
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]
}

@test "oversized frame ends the worker" {
	run_bad oversize
	[ "$status" -eq 3 ]
	audit_lines "$TOP/audit.jsonl" protocol_violation | grep -q 'exceeds'
}

@test "request before ready ends the worker" {
	run_bad early
	[ "$status" -eq 3 ]
	audit_lines "$TOP/audit.jsonl" protocol_violation |
		grep -q 'not permitted before the worker is ready'
}

@test "unknown message type ends the worker" {
	run_bad unknown
	[ "$status" -eq 3 ]
	audit_lines "$TOP/audit.jsonl" protocol_violation | grep -q 'spawn_shell'
}

@test "unconfined worker never gets the task" {
	run_bad unconfined
	[ "$status" -eq 4 ]
	[[ "$output" == *"not confined"* ]]
	audit_lines "$TOP/audit.jsonl" confinement_failed | grep -q Seccomp
	! audit_lines "$TOP/audit.jsonl" request | grep -q .
}

@test "API key in worker requests is redacted from the log" {
	run_bad leak-key
	[ "$status" -eq 0 ]
	grep -q 'REDACTED' "$TOP/audit.jsonl"
	! grep -q 'sk-test-bad-0123456789' "$TOP/audit.jsonl"
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]
}
