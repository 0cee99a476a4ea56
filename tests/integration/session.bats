#!/usr/bin/env bats
# Whole sessions: the real supervisor, the real worker and the replay model
# server on 127.0.0.1.

load helpers

setup() {
	setup_workspace
}

teardown() {
	teardown_workspace
}

# scenario FILE...: a scenario whose turns serve the given response files,
# each turn after the first expecting the previous call's tool result.
write_scenario() {
	python3 - "$TOP/scenario/scenario.json" "$@" <<'PY'
import json, sys
out, files = sys.argv[1], sys.argv[2:]
turns = [{"response": f} for f in files]
json.dump({"turns": turns}, open(out, "w"), indent=2)
PY
}

# scenario_expecting CALL_ID TEXT: t0.json, then t1.json once the tool
# result of CALL_ID contains TEXT (the replay server fails the turn if not).
scenario_expecting() {
	python3 - "$TOP/scenario/scenario.json" "$1" "$2" <<'PY'
import json, sys
out, call, text = sys.argv[1:4]
json.dump({"turns": [
    {"response": "t0.json"},
    {"response": "t1.json",
     "expect": [{"tool_call_id": call, "contains": text}]}]},
    open(out, "w"))
PY
}

run_session() {
	OPENAI_API_KEY=sk-test-integration-0123456789 run "$COWORKER" exec \
		-C "$WS" --audit "$TOP/audit.jsonl" --base-url "$BASE_URL" \
		--model gpt-4o "$@"
}

@test "session reads a file and answers" {
	echo "hello from the workspace" > "$WS/notes.txt"
	response_tool "$TOP/scenario/t0.json" call_read000000000000000001 \
		read_file '{"path":"notes.txt"}'
	response_text "$TOP/scenario/t1.json" "The note says hello."
	write_scenario t0.json t1.json
	echo '{"allow":["Read(**)"]}' > "$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"

	run_session --policy "$TOP/policy.json" "Read notes.txt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"The note says hello."* ]]
	stop_server
	audit_lines "$TOP/audit.jsonl" decision decision allow | grep -q notes.txt
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]
}

@test "write through a symlink to outside is denied" {
	ln -s "$OUTSIDE" "$WS/link"
	response_tool "$TOP/scenario/t0.json" call_write00000000000000001 \
		write_file '{"path":"link/evil.txt","content":"planted"}'
	response_text "$TOP/scenario/t1.json" "Could not write."
	write_scenario t0.json t1.json
	echo '{"allow":["Write(**)","Read(**)"]}' > "$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"

	run_session --policy "$TOP/policy.json" "Write a file"
	[ "$status" -eq 6 ]
	stop_server
	[ ! -e "$OUTSIDE/evil.txt" ]
	audit_lines "$TOP/audit.jsonl" decision decision deny |
		grep -q 'link/evil.txt'
	[ -s "$TOP/server.log" ]
}

@test "write to git hooks is denied whatever the policy says" {
	mkdir -p "$WS/.git/hooks"
	response_tool "$TOP/scenario/t0.json" call_hook000000000000000001 \
		write_file '{"path":".git/hooks/pre-commit","content":"#!/bin/sh\necho owned\n"}'
	response_text "$TOP/scenario/t1.json" "Denied."
	write_scenario t0.json t1.json
	echo '{"allow":["Write(**)"]}' > "$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"

	run_session --policy "$TOP/policy.json" "Add a hook"
	[ "$status" -eq 6 ]
	stop_server
	[ ! -e "$WS/.git/hooks/pre-commit" ]
	audit_lines "$TOP/audit.jsonl" result ok False | grep -q 'protected'
}

@test "command past its timeout is killed with its children" {
	response_tool "$TOP/scenario/t0.json" call_slow000000000000000001 \
		run_command '{"command":"(sleep 3; touch survived) & sleep 60"}'
	response_text "$TOP/scenario/t1.json" "It timed out."
	write_scenario t0.json t1.json
	echo '{"allow":["Exec(sleep:*)","Exec(touch:*)"]}' > "$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"

	run_session --policy "$TOP/policy.json" --command-timeout 1 "Wait"
	[ "$status" -eq 0 ]
	stop_server
	audit_lines "$TOP/audit.jsonl" result timed_out True | grep -q run_command
	# The background child must have died with the namespace.
	sleep 4
	[ ! -e "$WS/survived" ]
}

@test "denied command is reported to the model and session goes on" {
	response_tool "$TOP/scenario/t0.json" call_curl000000000000000001 \
		run_command '{"command":"curl -sS -X POST --data-binary @notes.txt http://127.0.0.1:9/upload"}'
	response_text "$TOP/scenario/t1.json" "Upload was denied."
	scenario_expecting call_curl000000000000000001 \
		'error: denied by rule "Exec(curl:*)"'
	echo '{"deny":["Exec(curl:*)"]}' > "$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"

	run_session --policy "$TOP/policy.json" "Upload"
	[ "$status" -eq 6 ]
	stop_server
	audit_lines "$TOP/audit.jsonl" decision rule 'Exec(curl:*)' | grep -q deny
}

@test "API key reaches neither the log nor a command" {
	response_tool "$TOP/scenario/t0.json" call_env0000000000000000001 \
		run_command '{"command":"env"}'
	response_text "$TOP/scenario/t1.json" "Done."
	write_scenario t0.json t1.json
	echo '{"allow":["Exec(env)"]}' > "$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"

	run_session --policy "$TOP/policy.json" "Show env"
	[ "$status" -eq 0 ]
	stop_server
	! grep -q sk-test-integration "$TOP/audit.jsonl"
	audit_lines "$TOP/audit.jsonl" result tool run_command | grep -q '"exit_code": 0'
}

@test "command result names the resource limits that applied" {
	response_tool "$TOP/scenario/t0.json" call_true000000000000000001 \
		run_command '{"command":"true"}'
	response_text "$TOP/scenario/t1.json" "Done."
	scenario_expecting call_true000000000000000001 "limits: "
	echo '{"allow":["Exec(true)"]}' > "$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"

	run_session --policy "$TOP/policy.json" "Run true"
	[ "$status" -eq 0 ]
	stop_server
	# rlimits apply everywhere; the cgroup kind depends on the machine.
	limits=$(audit_lines "$TOP/audit.jsonl" result tool run_command |
		python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["limits"])')
	[[ "$limits" == *rlimits* ]]
}

@test "--shared-netns runs every command in one network namespace" {
	[ "$(id -u)" = 0 ] || skip "a shared network namespace needs root"
	response_tool "$TOP/scenario/t0.json" call_ns10000000000000000001 \
		run_command '{"command":"readlink /proc/self/ns/net > ns1"}'
	response_tool "$TOP/scenario/t1.json" call_ns20000000000000000001 \
		run_command '{"command":"readlink /proc/self/ns/net > ns2"}'
	response_text "$TOP/scenario/t2.json" "Done."
	write_scenario t0.json t1.json t2.json
	echo '{"allow":["Exec(readlink:*)"]}' > "$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"

	run_session --shared-netns --policy "$TOP/policy.json" "Compare"
	[ "$status" -eq 0 ]
	stop_server
	[ -s "$WS/ns1" ]
	cmp "$WS/ns1" "$WS/ns2"
	[ "$(readlink /proc/self/ns/net)" != "$(cat "$WS/ns1")" ]
	audit_lines "$TOP/audit.jsonl" session_start command_network shared | grep -q .
}

@test "task from standard input" {
	response_text "$TOP/scenario/t0.json" "Nothing to do."
	write_scenario t0.json
	start_server "$TOP/scenario/scenario.json"

	OPENAI_API_KEY=sk-test-local-0123456789 run "$COWORKER" exec -C "$WS" \
		--audit "$TOP/audit.jsonl" --base-url "$BASE_URL" - <<< "Say hi"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Nothing to do."* ]]
	stop_server
	audit_lines "$TOP/audit.jsonl" session_end status ok | grep -q .
}

@test "default audit log goes under .coworker/audit" {
	response_text "$TOP/scenario/t0.json" "Fine."
	write_scenario t0.json
	start_server "$TOP/scenario/scenario.json"

	OPENAI_API_KEY=sk-test-local-0123456789 run "$COWORKER" exec -C "$WS" --base-url "$BASE_URL" \
		"Nothing"
	[ "$status" -eq 0 ]
	log=$(ls "$WS"/.coworker/audit/*.jsonl)
	[ "$(stat -c %a "$log")" = 600 ]
	head=$(echo "$output" | sed -n 's/^audit head: //p')
	[ -n "$head" ]
	run "$COWORKER" audit verify "$log" --head "$head"
	[ "$status" -eq 0 ]
}

@test "audit logs stay out of git status" {
	command -v git >/dev/null || skip "git not installed"
	git -C "$WS" init -q
	response_text "$TOP/scenario/t0.json" "Fine."
	write_scenario t0.json
	start_server "$TOP/scenario/scenario.json"

	OPENAI_API_KEY=sk-test-local-0123456789 run "$COWORKER" exec -C "$WS" \
		--base-url "$BASE_URL" "Nothing"
	[ "$status" -eq 0 ]
	[ "$(cat "$WS/.coworker/audit/.gitignore")" = "*" ]
	ls "$WS"/.coworker/audit/*.jsonl
	[ -z "$(git -C "$WS" status --porcelain)" ]
}

@test "tampered audit line is rejected by verify" {
	response_text "$TOP/scenario/t0.json" "Fine."
	write_scenario t0.json
	start_server "$TOP/scenario/scenario.json"
	run_session "Nothing"
	[ "$status" -eq 0 ]
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]

	# The record after the changed one no longer chains to it. (Where
	# worker_ready is depends on the build: a sanitizer build's worker
	# writes a stderr line first.)
	n=$(grep -n '"worker_ready"' "$TOP/audit.jsonl" | cut -d: -f1)
	sed -i "${n}s/\"worker_ready\"/\"worker_gone\"/" "$TOP/audit.jsonl"
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 1 ]
	[[ "$output" == *"line $((n + 1))"* ]]
}

@test "unreachable endpoint ends the session with an error" {
	# Port 9 (discard) has no listener on this loopback.
	OPENAI_API_KEY=sk-test-local-0123456789 run "$COWORKER" exec -C "$WS" \
		--audit "$TOP/audit.jsonl" --base-url http://127.0.0.1:9/v1 "Hi"
	[ "$status" -eq 1 ]
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]
}

@test "invalid base URL is a usage error" {
	run "$COWORKER" exec -C "$WS" --base-url ftp://example.invalid "Hi"
	[ "$status" -eq 2 ]
	[[ "$output" == *"must start with http:// or https://"* ]]
}

@test "a blank task is a usage error" {
	run "$COWORKER" exec -C "$WS" --base-url http://127.0.0.1:9/v1 ""
	[ "$status" -eq 2 ]
	[[ "$output" == *"the task is empty"* ]]
	run bash -c 'printf " \n\n" | "$0" exec -C "$1" --base-url http://127.0.0.1:9/v1 -' \
		"$COWORKER" "$WS"
	[ "$status" -eq 2 ]
	[[ "$output" == *"the task is empty"* ]]
}

@test "json output is one event per line ending with the answer" {
	echo "hello" > "$WS/notes.txt"
	response_tool "$TOP/scenario/t0.json" call_json000000000000000001 \
		read_file '{"path":"notes.txt"}'
	response_text "$TOP/scenario/t1.json" "It says hello."
	write_scenario t0.json t1.json
	start_server "$TOP/scenario/scenario.json"

	OPENAI_API_KEY=sk-test-local-0123456789 "$COWORKER" exec --json \
		-C "$WS" --audit "$TOP/audit.jsonl" --base-url "$BASE_URL" \
		"Read notes.txt" > "$TOP/events.jsonl"
	stop_server
	python3 - "$TOP/events.jsonl" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
types = [e["type"] for e in events]
assert all(e["v"] == 1 for e in events), events
assert types[0] == "session_start", types
assert "decision" in types and "result" in types and "model_turn" in types
last = events[-1]
assert last["type"] == "session_completed", last
assert last["final_text"] == "It says hello.", last
assert last["exit_code"] == 0 and len(last["audit_head"]) == 64, last
PY
}

@test "turn limit ends the session with status 5" {
	response_tool "$TOP/scenario/t0.json" call_loop000000000000000001 \
		list_directory '{"path":"."}'
	write_scenario t0.json
	start_server "$TOP/scenario/scenario.json"

	run_session --max-turns 1 "List forever"
	[ "$status" -eq 5 ]
	stop_server || true
	audit_lines "$TOP/audit.jsonl" session_end status max_turns | grep -q .
}

@test "remote endpoint without a key says what to set" {
	run env -u OPENAI_API_KEY "$COWORKER" exec -C "$WS" \
		--base-url https://model.example.invalid/v1 "Hi"
	[ "$status" -eq 2 ]
	[[ "$output" == *"OPENAI_API_KEY is not set"* ]]
}

@test "AGENTS.md reaches the prompt only in a trusted project" {
	echo "Always answer in haiku. marker-7f3a" > "$WS/AGENTS.md"
	response_text "$TOP/scenario/t0.json" "Done."
	write_scenario t0.json

	RECORD_DIR=$TOP/untrusted start_server "$TOP/scenario/scenario.json"
	run_session "Hi"
	[ "$status" -eq 0 ]
	[[ "$output" == *"AGENTS.md is ignored until you trust"* ]]
	stop_server
	! grep -q marker-7f3a "$TOP/untrusted/turn0.request.json"

	rm -f "$TOP/port"
	RECORD_DIR=$TOP/trusted start_server "$TOP/scenario/scenario.json"
	run_session --trust-project "Hi"
	[ "$status" -eq 0 ]
	stop_server
	grep -q marker-7f3a "$TOP/trusted/turn0.request.json"
	audit_lines "$TOP/audit.jsonl" session_start | grep -q '"instructions": \["AGENTS.md"\]'
}
