#!/usr/bin/env bats
# The bundled demo end to end: the real supervisor, worker, sandbox and
# replay model server fix a bug, and two denials land in the audit log.

load helpers

@test "demo fixes the bug and records both denials" {
	run "$BATS_TEST_DIRNAME/../../contrib/demo/run-demo" "$BUILD"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"all checks passed"* ]]
}
