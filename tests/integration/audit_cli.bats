#!/usr/bin/env bats
# `coworker audit verify` as a user runs it: exit statuses and messages
# for logs that cannot be verified, in a temporary folder.

BUILD=${COWORKER_BUILD:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build}
COWORKER=$BUILD/coworker

load unprivileged

setup() {
	TOP=$(mktemp -d /tmp/cw-audit-XXXXXX)
}

teardown() {
	[ -n "${TOP:-}" ] && rm -rf "$TOP"
}

@test "audit usage errors exit 3" {
	run "$COWORKER" audit
	[ "$status" -eq 3 ]
	[[ "$output" == *"audit needs a subcommand"* ]]
	run "$COWORKER" audit verfy "$TOP/audit.jsonl"
	[ "$status" -eq 3 ]
	run "$COWORKER" audit verify
	[ "$status" -eq 3 ]
}
