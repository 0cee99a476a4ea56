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

@test "empty log fails verification" {
	: > "$TOP/audit.jsonl"
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$TOP/audit.jsonl is empty (0 bytes), so it records no session"* ]]
}

@test "unreadable log exits 3 with the cause" {
	echo '{}' > "$TOP/audit.jsonl"
	use_unprivileged_user
	chmod 000 "$TOP/audit.jsonl"
	run "${AS[@]}" "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 3 ]
	[[ "$output" == *"cannot open $TOP/audit.jsonl: Permission denied"* ]]
	run "$COWORKER" audit verify "$TOP/missing.jsonl"
	[ "$status" -eq 3 ]
	[[ "$output" == *"cannot open $TOP/missing.jsonl: No such file or directory"* ]]
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
