#!/usr/bin/env bats
# libedit is loaded only by interactive mode: neither binary links it, and
# a running sandbox command's supervisor does not map it.

load helpers

setup() {
	TOP=$(mktemp -d /tmp/cw-tui-XXXXXX)
}

teardown() {
	[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true
	[ -n "${PID:-}" ] && wait "$PID" 2>/dev/null || true
	rm -rf "$TOP"
}

@test "supervisor binary does not link libedit" {
	run ldd "$BUILD/coworker-supervisor"
	[ "$status" -eq 0 ]
	[[ "$output" != *libedit* ]]
}

@test "worker binary does not link libedit" {
	run ldd "$BUILD/coworker-worker"
	[ "$status" -eq 0 ]
	[[ "$output" != *libedit* ]]
}

@test "sandbox run does not map libedit" {
	# In a workspace of its own: the sandbox makes placeholders there.
	mkdir "$TOP/ws"
	(cd "$TOP/ws" && exec "$COWORKER" sandbox -- sh -c 'echo up > /dev/null; sleep 30') \
		> "$TOP/out" 2>&1 &
	PID=$!
	# The supervisor has mapped everything it will by the time its
	# sandboxed child exists.
	for _ in $(seq 1 100); do
		[ -n "$(pgrep -P "$PID")" ] && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	if ! kill -0 "$PID" 2>/dev/null; then
		skip "coworker sandbox could not start here: $(cat "$TOP/out")"
	fi
	[ -r "/proc/$PID/maps" ]
	run grep -c libedit "/proc/$PID/maps"
	[ "$output" = "0" ]
	# The maps were read: they list the program itself (static or not).
	grep -q "$COWORKER" "/proc/$PID/maps"
}
