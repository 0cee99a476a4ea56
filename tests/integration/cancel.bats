#!/usr/bin/env bats
# Cancelling a running session (SIGINT, --timeout), streamed text deltas
# and the user's config.json, with the real supervisor, worker, sandbox
# and the replay model server on 127.0.0.1.

load helpers

setup() {
	setup_workspace
	# Only the config this test writes, never the user's own.
	export XDG_CONFIG_HOME=$TOP/config
	mkdir -p "$XDG_CONFIG_HOME/coworker"
}

teardown() {
	if [ -n "${EXEC_PID:-}" ]; then
		kill -KILL "$EXEC_PID" 2>/dev/null || true
		wait "$EXEC_PID" 2>/dev/null || true
	fi
	teardown_workspace
}

# scenario TURN_JSON...: one turn per argument, written as given.
scenario() {
	python3 - "$TOP/scenario/scenario.json" "$@" <<'PY'
import json, sys
turns = [json.loads(t) for t in sys.argv[2:]]
json.dump({"turns": turns}, open(sys.argv[1], "w"))
PY
}

# start_exec ARGS...: coworker exec in the background; sets EXEC_PID.
start_exec() {
	"$COWORKER" exec -C "$WS" --audit "$TOP/audit.jsonl" \
		--base-url "$BASE_URL" --model gpt-4o "$@" \
		> "$TOP/stdout" 2> "$TOP/stderr" &
	EXEC_PID=$!
}

# wait_exec: wait for the background exec; sets EXEC_STATUS.
wait_exec() {
	EXEC_STATUS=0
	wait "$EXEC_PID" || EXEC_STATUS=$?
	EXEC_PID=
	cat "$TOP/stderr"
}

# wait_until CMD...: retry CMD for up to 30 s (a bound, not a measurement).
wait_until() {
	for _ in $(seq 1 300); do
		"$@" && return 0
		sleep 0.1
	done
	echo "gave up waiting for: $*" >&2
	return 1
}

server_served_turn0() {
	grep -q 'turn 0: served' "$TOP/server.log"
}

# descendant_sleep PID: the pid of a "sleep" process below PID, if any.
descendant_sleep() {
	python3 - "$1" <<'PY'
import os, sys
parent = {}
comm = {}
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        stat = open("/proc/%s/stat" % d).read()
    except OSError:
        continue
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    parent[int(d)] = int(fields[1])
    comm[int(d)] = name
root = int(sys.argv[1])
for pid, name in comm.items():
    p = pid
    while p > 1 and p != root:
        p = parent.get(p, 0)
    if p == root and name == "sleep":
        print(pid)
        sys.exit(0)
sys.exit(1)
PY
}

long_text() {
	python3 -c 'print(" ".join("word%d é ✓" % i for i in range(600)))'
}

@test "SIGINT during a stalled model stream cancels with 130" {
	response_text "$TOP/scenario/t0.json" "$(long_text)"
	scenario '{"response": "t0.json", "fault": "stall-mid-stream"}'
	start_server "$TOP/scenario/scenario.json"

	start_exec "Say something long"
	wait_until server_served_turn0
	kill -INT "$EXEC_PID"
	wait_exec
	[ "$EXEC_STATUS" -eq 130 ]
	audit_lines "$TOP/audit.jsonl" cancel reason interrupted | grep -q '"signal": 2'
	audit_lines "$TOP/audit.jsonl" session_end status cancelled | grep -q '"exit_code": 130'
	# The worker confirmed the cancel and then ended on its own.
	audit_lines "$TOP/audit.jsonl" worker_exit | grep -q '"exit status 0"'
	"$COWORKER" audit verify "$TOP/audit.jsonl"
}

# start_sleep_command: start a headless run whose model runs "sleep 30",
# and set sleep_pid once the command's sleep is running.
start_sleep_command() {
	response_tool "$TOP/scenario/t0.json" call_sleep0000000000000001 \
		run_command '{"command":"sleep 30"}'
	response_text "$TOP/scenario/t1.json" "Slept."
	scenario '{"response": "t0.json"}' '{"response": "t1.json"}'
	start_server "$TOP/scenario/scenario.json"

	start_exec --allow 'Exec(sleep 30)' "Sleep a while"
	wait_until descendant_sleep "$EXEC_PID"
	sleep_pid=$(descendant_sleep "$EXEC_PID")
}

@test "SIGINT while a command runs kills the command and ends the run" {
	start_sleep_command
	kill -INT "$EXEC_PID"
	wait_exec
	[ "$EXEC_STATUS" -eq 130 ]
	# The command's process is gone, not left running after the session.
	! kill -0 "$sleep_pid" 2>/dev/null
	audit_lines "$TOP/audit.jsonl" result tool run_command | grep -q '"cancelled": true'
	audit_lines "$TOP/audit.jsonl" cancel | grep -q interrupted
	audit_lines "$TOP/audit.jsonl" session_end status cancelled
	"$COWORKER" audit verify "$TOP/audit.jsonl"
}

@test "SIGHUP while a command runs ends the run and removes placeholders" {
	start_sleep_command
	# The workspace has no .gitmodules; the command's placeholder is there.
	[ -d "$WS/.gitmodules" ]
	kill -HUP "$EXEC_PID"
	wait_exec
	# Interrupted, as with SIGINT and SIGTERM.
	[ "$EXEC_STATUS" -eq 130 ]
	! kill -0 "$sleep_pid" 2>/dev/null
	[ ! -e "$WS/.gitmodules" ]
	audit_lines "$TOP/audit.jsonl" cancel | grep -q '"signal": 1'
	audit_lines "$TOP/audit.jsonl" session_end status cancelled
	"$COWORKER" audit verify "$TOP/audit.jsonl"
}

@test "--timeout cancels a stalled stream with exit status 5" {
	response_text "$TOP/scenario/t0.json" "$(long_text)"
	scenario '{"response": "t0.json", "fault": "stall-mid-stream"}'
	start_server "$TOP/scenario/scenario.json"

	start_exec --timeout 2 "Say something long"
	wait_exec
	[ "$EXEC_STATUS" -eq 5 ]
	audit_lines "$TOP/audit.jsonl" cancel reason timeout | grep -q timeout
	audit_lines "$TOP/audit.jsonl" session_end status timeout | grep -q '"exit_code": 5'
	"$COWORKER" audit verify "$TOP/audit.jsonl"
}

@test "--timeout that cuts a running command ends with exit status 5" {
	response_tool "$TOP/scenario/t0.json" call_sleep0000000000000002 \
		run_command '{"command":"sleep 30"}'
	response_text "$TOP/scenario/t1.json" "Slept."
	scenario '{"response": "t0.json"}' '{"response": "t1.json"}'
	start_server "$TOP/scenario/scenario.json"

	start_exec --timeout 2 --allow 'Exec(sleep 30)' "Sleep a while"
	wait_exec
	[ "$EXEC_STATUS" -eq 5 ]
	audit_lines "$TOP/audit.jsonl" result tool run_command | grep -q '"cancelled": true'
	audit_lines "$TOP/audit.jsonl" cancel reason timeout | grep -q timeout
	audit_lines "$TOP/audit.jsonl" session_end status timeout | grep -q '"exit_code": 5'
	"$COWORKER" audit verify "$TOP/audit.jsonl"
}

@test "--json-deltas streams text whose concatenation is the final text" {
	response_text "$TOP/scenario/t0.json" "$(long_text)"
	scenario '{"response": "t0.json"}'
	start_server "$TOP/scenario/scenario.json"

	start_exec --json --json-deltas "Say something long"
	wait_exec
	[ "$EXEC_STATUS" -eq 0 ]
	python3 - "$TOP/stdout" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
deltas = [e["text"] for e in events if e["type"] == "text_delta"]
final = [e["text"] for e in events if e["type"] == "text"]
starts = [e for e in events if e["type"] == "turn_start"]
assert len(deltas) >= 2, "expected several deltas, got %d" % len(deltas)
assert len(final) == 1 and "".join(deltas) == final[0], "deltas differ"
assert starts and starts[0]["turn"] == 1
# Deltas come before the final text, after turn_start.
kinds = [e["type"] for e in events]
assert kinds.index("turn_start") < kinds.index("text_delta") < kinds.index("text")
PY
}

@test "--json without --json-deltas prints no text_delta" {
	response_text "$TOP/scenario/t0.json" "$(long_text)"
	scenario '{"response": "t0.json"}'
	start_server "$TOP/scenario/scenario.json"

	start_exec --json "Say something long"
	wait_exec
	[ "$EXEC_STATUS" -eq 0 ]
	! grep -q '"text_delta"' "$TOP/stdout"
	grep -q '"turn_start"' "$TOP/stdout"
}

@test "config.json supplies defaults and flags win" {
	response_text "$TOP/scenario/t0.json" "Configured."
	response_text "$TOP/scenario/t1.json" "Flagged."
	scenario '{"response": "t0.json"}' '{"response": "t1.json"}'
	start_server "$TOP/scenario/scenario.json"
	cat > "$XDG_CONFIG_HOME/coworker/config.json" <<JSON
{"model": "model-from-config", "base_url": "$BASE_URL", "max_turns": 7,
 "mode": "read-only", "command_timeout": 9, "provider": "openai",
 "api_key_env": "CW_TEST_KEY"}
JSON

	run "$COWORKER" exec -C "$WS" --audit "$TOP/a1.jsonl" "Hello"
	echo "$output"
	[ "$status" -eq 0 ]
	audit_lines "$TOP/a1.jsonl" session_start | grep -q '"model": "model-from-config"'
	audit_lines "$TOP/a1.jsonl" session_start | grep -q '"mode": "read-only"'

	run "$COWORKER" exec -C "$WS" --audit "$TOP/a2.jsonl" --model flag-model \
		--mode workspace-write "Hello"
	[ "$status" -eq 0 ]
	audit_lines "$TOP/a2.jsonl" session_start | grep -q '"model": "flag-model"'
	audit_lines "$TOP/a2.jsonl" session_start | grep -q '"mode": "workspace-write"'
}

@test "config.json with an unknown key is an error naming the file" {
	echo '{"modle": "gpt-4o"}' > "$XDG_CONFIG_HOME/coworker/config.json"
	run "$COWORKER" exec -C "$WS" --base-url http://127.0.0.1:9/v1 "Hello"
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$XDG_CONFIG_HOME/coworker/config.json"* ]]
	[[ "$output" == *'unknown key "modle"'* ]]

	echo '{"max_turns": "many"}' > "$XDG_CONFIG_HOME/coworker/config.json"
	run "$COWORKER" exec -C "$WS" --base-url http://127.0.0.1:9/v1 "Hello"
	[ "$status" -eq 2 ]
	[[ "$output" == *'"max_turns" must be a whole number'* ]]

	echo '{"api_key_env": "sk-not-a-name"}' > "$XDG_CONFIG_HOME/coworker/config.json"
	run "$COWORKER" exec -C "$WS" --base-url http://127.0.0.1:9/v1 "Hello"
	[ "$status" -eq 2 ]
	[[ "$output" == *'"api_key_env" must be the name of an environment variable'* ]]

	printf '{\n  "model": "gpt-4o",\n}\n' > "$XDG_CONFIG_HOME/coworker/config.json"
	run "$COWORKER" exec -C "$WS" --base-url http://127.0.0.1:9/v1 "Hello"
	[ "$status" -eq 2 ]
	[[ "$output" == *"config.json:3:"*"invalid JSON"* ]]
}
