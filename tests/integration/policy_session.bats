#!/usr/bin/env bats
# The broker's judgement of files in whole headless sessions: hardlinks of
# secrets and directories outside the workspace that a rule names. Also
# how a session reports policy and trust files that it cannot use. The
# home directory is one the test makes.

load helpers
load unprivileged

setup() {
	setup_workspace
	export HOME=$TOP/home
	export XDG_CONFIG_HOME=$TOP/config
	mkdir -p "$HOME" "$XDG_CONFIG_HOME"
}

teardown() {
	teardown_workspace
}

# write_scenario FILE...: one turn per response file.
write_scenario() {
	python3 - "$TOP/scenario/scenario.json" "$@" <<'PY'
import json, sys
out, files = sys.argv[1], sys.argv[2:]
json.dump({"turns": [{"response": f} for f in files]}, open(out, "w"))
PY
}

run_session() {
	OPENAI_API_KEY=sk-test-integration-0123456789 run "$COWORKER" exec \
		-C "$WS" --audit "$TOP/audit.jsonl" --base-url "$BASE_URL" \
		--model gpt-4o "$@"
}

@test "session denies reading a hardlink of .env" {
	echo 'TOKEN=abc' > "$WS/.env"
	ln "$WS/.env" "$WS/notes.txt"
	response_tool "$TOP/scenario/t0.json" call_link000000000000000001 \
		read_file '{"path":"notes.txt"}'
	response_text "$TOP/scenario/t1.json" "Could not read."
	write_scenario t0.json t1.json
	echo '{"allow":["Read(**)"]}' > "$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"

	run_session --policy "$TOP/policy.json" "Read notes.txt"
	stop_server
	audit_lines "$TOP/audit.jsonl" decision decision deny | grep -q notes.txt
	audit_lines "$TOP/audit.jsonl" decision decision deny |
		grep -q 'hardlink of a file the policy denies'
	audit_lines "$TOP/audit.jsonl" result ok False | grep -q read_file
	! audit_lines "$TOP/audit.jsonl" result ok True | grep -q read_file
}

@test "session denies writing a linked file headless" {
	echo 'one' > "$WS/a.txt"
	ln "$WS/a.txt" "$WS/b.txt"
	response_tool "$TOP/scenario/t0.json" call_link000000000000000002 \
		write_file '{"path":"b.txt","content":"two"}'
	response_text "$TOP/scenario/t1.json" "Could not write."
	write_scenario t0.json t1.json
	echo '{"allow":["Write(**)","Read(**)"]}' > "$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"

	run_session --policy "$TOP/policy.json" "Write b.txt"
	stop_server
	[ "$(cat "$WS/a.txt")" = one ]
	audit_lines "$TOP/audit.jsonl" result |
		grep -q 'has 2 links; a write would change the other names too'
}

@test "session reads beneath a root a rule names" {
	mkdir -p "$HOME/notes"
	echo 'buy milk' > "$HOME/notes/todo.md"
	response_tool "$TOP/scenario/t0.json" call_root000000000000000001 \
		read_file '{"path":"~/notes/todo.md"}'
	response_tool "$TOP/scenario/t1.json" call_root000000000000000002 \
		read_file "{\"path\":\"$OUTSIDE/secret.txt\"}"
	response_text "$TOP/scenario/t2.json" "Done."
	write_scenario t0.json t1.json t2.json
	echo '{"allow":["Read(~/notes/**)"]}' > "$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"

	run_session --policy "$TOP/policy.json" "Read my notes"
	stop_server
	audit_lines "$TOP/audit.jsonl" decision decision allow |
		grep -q 'notes/todo.md'
	audit_lines "$TOP/audit.jsonl" decision decision deny |
		grep -q 'secret.txt'
	# The first read succeeds, the second is refused.
	[ "$(audit_lines "$TOP/audit.jsonl" result ok True | grep -c read_file)" -eq 1 ]
	[ "$(audit_lines "$TOP/audit.jsonl" result ok False | grep -c read_file)" -eq 1 ]
}

@test "session names an unreadable project file and its cause" {
	mkdir -p "$WS/.coworker"
	echo '{"allow": ["Read"]}' > "$WS/.coworker/policy.json"
	use_unprivileged_user
	chmod 000 "$WS/.coworker/policy.json"
	OPENAI_API_KEY=sk-test-integration-0123456789 run "${AS[@]}" \
		"$COWORKER" exec -C "$WS" --audit "$TOP/audit.jsonl" \
		--base-url http://127.0.0.1:9/v1 --model gpt-4o "Read a file"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$WS/.coworker/policy.json: cannot read policy file: Permission denied"* ]]
	[[ "$output" != *"No such file or directory"* ]]
	[ ! -e "$TOP/audit.jsonl" ]
}

@test "session stops on a damaged trust record" {
	mkdir -p "$WS/.coworker" "$XDG_CONFIG_HOME/coworker"
	echo '{"allow": ["Read"]}' > "$WS/.coworker/policy.json"
	printf '{"%s": "0123",}\n' "$WS" > "$XDG_CONFIG_HOME/coworker/trusted-projects.json"
	OPENAI_API_KEY=sk-test-integration-0123456789 run "$COWORKER" exec \
		-C "$WS" --audit "$TOP/audit.jsonl" \
		--base-url http://127.0.0.1:9/v1 --model gpt-4o "Read a file"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$XDG_CONFIG_HOME/coworker/trusted-projects.json:1:"*": invalid JSON in the trust record"* ]]
	[ ! -e "$TOP/audit.jsonl" ]
}
