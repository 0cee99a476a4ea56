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

# run_bad_valgrind MODE: run_bad with the supervisor under valgrind, which
# lists the descriptors still open at exit and fails (status 99) on a
# definite leak or a memory error. Valgrind 3.19 does not know openat2,
# so only frames rejected before the broker opens anything are run here.
# Valgrind cannot run an ASan binary: the sanitizer build runs the mode
# plainly, LeakSanitizer checks memory, and the descriptor check is
# reported as skipped.
run_bad_valgrind() {
	# The supervisor itself: coworker only executes it for "exec".
	local supervisor=$BUILD/coworker-supervisor
	FD_CHECK=1
	if ldd "$supervisor" | grep -q libasan; then
		echo "# sanitizer build: descriptor leak check skipped" >&3
		FD_CHECK=0
		run_bad "$1"
		return
	fi
	command -v valgrind > /dev/null || skip "valgrind is not installed"
	COWORKER_WORKER=$BAD OPENAI_API_KEY=sk-test-bad-0123456789 \
		run timeout 120 valgrind --log-file="$TOP/valgrind.log" \
		--track-fds=yes --leak-check=full --errors-for-leak-kinds=definite \
		--error-exitcode=99 "$supervisor" exec -C "$WS" \
		--audit "$TOP/audit.jsonl" --base-url http://127.0.0.1:9/v1 \
		--model "$1" "Do something"
}

# Every descriptor open when the supervisor exits came from its parent
# (bats), so none that a frame brought in was left open.
assert_no_fd_leak() {
	[ "$FD_CHECK" -eq 1 ] || return 0
	grep -q 'FILE DESCRIPTORS' "$TOP/valgrind.log"
	local open inherited
	open=$(grep -c 'Open file descriptor' "$TOP/valgrind.log" || true)
	inherited=$(grep -c '<inherited from parent>' "$TOP/valgrind.log" || true)
	if [ "$open" -ne "$inherited" ]; then
		cat "$TOP/valgrind.log" >&2
		return 1
	fi
}

assert_violation() {
	[ "$status" -eq 3 ]
	audit_lines "$TOP/audit.jsonl" protocol_violation | grep -qF "$1"
	audit_lines "$TOP/audit.jsonl" session_end | grep -q '"exit_code": 3'
	"$COWORKER" audit verify "$TOP/audit.jsonl"
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

@test "worker without Landlock never gets the task" {
	run_bad no-landlock
	[ "$status" -eq 4 ]
	[[ "$output" == *"could not apply Landlock"* ]]
	[[ "$output" == *"--weaker-worker-sandbox"* ]]
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

# The modes below pass the confinement check and get the task first, so
# the supervisor judges them as a running worker.

@test "truncated frame ends the worker" {
	run_bad 'raw:{"v":1,"id":2,"type":"read_file","path":"a'
	assert_violation 'not valid JSON'
}

@test "wrong field types end the worker" {
	run_bad 'raw:{"v":1,"id":2,"type":"read_file","path":42}'
	assert_violation 'read_file.path: expected a string'
	rm "$TOP/audit.jsonl"
	run_bad 'raw:{"v":1,"id":"2","type":"read_file","path":"a"}'
	assert_violation '\"id\" must be an integer'
	rm "$TOP/audit.jsonl"
	run_bad 'raw:{"v":"1","id":2,"type":"read_file","path":"a"}'
	assert_violation 'non-integer \"v\"'
	rm "$TOP/audit.jsonl"
	run_bad 'raw:{"v":1,"id":2,"type":"run_command","command":"true","timeout_ms":1.5}'
	assert_violation 'run_command.timeout_ms: expected an integer'
}

@test "descriptor on a request that takes none ends the worker, no leak" {
	run_bad_valgrind fd-unexpected
	assert_violation 'read_file: unexpected file descriptor'
	assert_no_fd_leak
}

@test "two descriptors on one frame end the worker, no leak" {
	run_bad_valgrind fd-two
	assert_violation 'frame carries 2 descriptors'
	assert_no_fd_leak
}

@test "more descriptors than a frame has room for end the worker, no leak" {
	run_bad_valgrind fd-many
	assert_violation 'descriptors, at most 1 is permitted'
	assert_no_fd_leak
}

@test "a flood of 10000 requests is answered in order" {
	echo "flood" > "$WS/flood.txt"
	run_bad flood
	[ "$status" -eq 0 ]
	[[ "$output" == *"flood: 10000 requests, 10000 replies in order"* ]]
	[ "$(audit_lines "$TOP/audit.jsonl" result ok True | wc -l)" -eq 10000 ]
	"$COWORKER" audit verify "$TOP/audit.jsonl"
}

# The supervisor handles each request to its reply before it reads the
# next frame, so no request of the supervisor's is pending when another
# arrives: a reused id is a new request and gets its own reply.
@test "an id reused before its reply was read is answered twice" {
	echo "a" > "$WS/a.txt"
	run_bad reuse-id
	[ "$status" -eq 0 ]
	[[ "$output" == *"reuse: replies 7 and 7"* ]]
	[ "$(audit_lines "$TOP/audit.jsonl" result req 7 | wc -l)" -eq 2 ]
}

@test "a worker that stops reading its socket is ended" {
	# Listings near the frame limit fill the socket after a few replies.
	python3 -c '
import os, sys
for i in range(600):
    open(os.path.join(sys.argv[1], "f%03d-%s" % (i, "x" * 90)), "w").close()
' "$WS"
	run_bad deaf
	[ "$status" -eq 3 ]
	assert_violation 'the worker stopped reading its socket'
	audit_lines "$TOP/audit.jsonl" session_end | grep -q '"exit_code": 3'
	"$COWORKER" audit verify "$TOP/audit.jsonl"
}

@test "worker that closes its socket but lingers is killed" {
	run_bad linger
	[ "$status" -eq 3 ]
	[[ "$output" == *"the worker ended before finishing the task"* ]]
	audit_lines "$TOP/audit.jsonl" worker_exit | grep -q 'signal 9'
	"$COWORKER" audit verify "$TOP/audit.jsonl"
}
