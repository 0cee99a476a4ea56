#!/usr/bin/env bats
# /config provider in a tmux pane: the session replaces its worker and the
# next task reaches the other provider's server in that API's format. Two
# replay servers on 127.0.0.1 play the two providers.

load interactive_helpers

setup() {
	setup_chat
	SERVER2_PID=
}

teardown() {
	[ -z "$SERVER2_PID" ] || kill -TERM "$SERVER2_PID" 2>/dev/null || true
	teardown_chat
}

# anthropic_text FILE TEXT: a Messages API answer without tool calls.
anthropic_text() {
	python3 - "$@" <<'PY'
import json, sys
path, text = sys.argv[1:3]
body = {"id": "msg_switch", "type": "message", "role": "assistant",
        "model": "claude-test", "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 40, "output_tokens": 8}}
open(path, "w").write(json.dumps(body) + "\n")
PY
}

# start_anthropic_server SCENARIO: a second replay server that requires the
# key sk-ant-switch-0123456789; sets PORT2 and records into $TOP/requests2.
start_anthropic_server() {
	mkdir -p "$TOP/requests2"
	"$BUILD/replay-server" --scenario "$1" --port-file "$TOP/port2" \
		--api-key sk-ant-switch-0123456789 \
		--record "$TOP/requests2" 2> "$TOP/server2.log" &
	SERVER2_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$TOP/port2" ] && break
		sleep 0.05
	done
	[ -s "$TOP/port2" ] || { cat "$TOP/server2.log" >&2; return 1; }
	PORT2=$(cat "$TOP/port2")
}

# stop_anthropic_server: SIGTERM it; fails unless every turn was served.
stop_anthropic_server() {
	local rc=0
	kill -TERM "$SERVER2_PID" 2>/dev/null || true
	wait "$SERVER2_PID" || rc=$?
	SERVER2_PID=
	[ "$rc" -eq 0 ] || cat "$TOP/server2.log" >&2
	return $rc
}

@test "provider switch reaches the other API" {
	response_text "$TOP/scenario/t0.json" "Hello from Chat Completions."
	scenario '{"response": "t0.json"}'
	start_server "$TOP/scenario/scenario.json"
	mkdir -p "$TOP/scenario2"
	anthropic_text "$TOP/scenario2/m0.json" "Hello from Messages."
	# The answer repeats the new provider's key, which the log must redact.
	anthropic_text "$TOP/scenario2/m1.json" \
		"Other model here. Your key is sk-ant-switch-0123456789."
	cat > "$TOP/scenario2/scenario.json" <<'JSON'
{"turns": [
  {"response": "m0.json", "contains": ["Second task text"],
   "lacks": ["First task text"]},
  {"response": "m1.json", "contains": ["Third task text"]}
]}
JSON
	start_anthropic_server "$TOP/scenario2/scenario.json"

	start_shell
	tm send-keys -t "$TMUX_NAME" "env ANTHROPIC_BASE_URL=http://127.0.0.1:$PORT2/anthropic" \
		" ANTHROPIC_API_KEY=sk-ant-switch-0123456789 ANTHROPIC_MODEL=claude-test" \
		" '$COWORKER' chat -C '$WS' --audit '$TOP/audit.jsonl'" \
		" --base-url '$BASE_URL' --model gpt-4o; echo chat-exit=\$?" Enter
	wait_pane '] gpt-4o'
	type_line "First task text"
	wait_pane "Hello from Chat Completions."

	type_line "/config provider anthropic"
	wait_pane "provider set to anthropic (model claude-test"
	wait_pane "the conversation starts over"
	wait_pane "--base-url, --model and --api-key-env apply to openai only"
	wait_pane "] claude-test"
	type_line "Second task text"
	wait_pane "Hello from Messages."

	type_line "/config model claude-other"
	wait_pane "] claude-other"
	type_line "Third task text"
	wait_pane "Other model here."
	type_line "/config"
	wait_pane "provider:  anthropic"
	type_line "/exit"
	wait_pane "chat-exit=0"
	stop_server
	stop_anthropic_server

	# The new server got the Messages API's format, with the new model.
	python3 - "$TOP/requests2" <<'PY'
import json, sys
d = sys.argv[1]
first = json.load(open(d + "/turn0.request.json"))
assert first["model"] == "claude-test", first["model"]
assert "max_tokens" in first, sorted(first)
assert "input_schema" in first["tools"][0], first["tools"][0]
assert all(m["role"] != "system" for m in first["messages"])
second = json.load(open(d + "/turn1.request.json"))
assert second["model"] == "claude-other", second["model"]
PY
	[ ! -e "$RECORD_DIR/turn1.request.json" ]

	audit_lines "$TOP/audit.jsonl" provider_switch > "$TOP/switch.jsonl"
	python3 - "$TOP/switch.jsonl" "$PORT2" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
rec = json.loads(lines[0])
assert rec["from"]["provider"] == "openai", rec
assert rec["from"]["model"] == "gpt-4o", rec
assert rec["to"]["provider"] == "anthropic", rec
assert rec["to"]["model"] == "claude-test", rec
assert rec["to"]["base_url"] == "http://127.0.0.1:%s/anthropic" % sys.argv[2], rec
PY
	[ "$(audit_lines "$TOP/audit.jsonl" worker_ready | wc -l)" -eq 2 ]
	[ "$(audit_lines "$TOP/audit.jsonl" worker_exit | wc -l)" -ge 1 ]
	[ "$(grep -cF sk-ant-switch "$TOP/audit.jsonl")" -eq 0 ]
	audit_lines "$TOP/audit.jsonl" text | grep -qF 'Your key is [REDACTED].'
	"$COWORKER" audit verify "$TOP/audit.jsonl"
}

@test "provider switch without key keeps worker" {
	response_text "$TOP/scenario/t0.json" "Still on Chat Completions."
	scenario '{"response": "t0.json", "contains": ["Task after the failed switch"]}'
	start_server "$TOP/scenario/scenario.json"
	start_chat

	type_line "/config provider anthropic"
	wait_pane "the provider stays openai: no API key: ANTHROPIC_API_KEY is not set"
	type_line "Task after the failed switch"
	wait_pane "Still on Chat Completions."
	type_line "/config"
	wait_pane "provider:  openai"
	type_line "/exit"
	wait_pane "chat-exit=0"
	stop_server

	[ -z "$(audit_lines "$TOP/audit.jsonl" provider_switch)" ]
	[ "$(audit_lines "$TOP/audit.jsonl" worker_ready | wc -l)" -eq 1 ]
	"$COWORKER" audit verify "$TOP/audit.jsonl"
}

@test "provider switch to bad URL keeps worker" {
	response_text "$TOP/scenario/t0.json" "Still here."
	scenario '{"response": "t0.json"}'
	start_server "$TOP/scenario/scenario.json"
	start_shell
	tm send-keys -t "$TMUX_NAME" "env ANTHROPIC_BASE_URL=ftp://127.0.0.1/anthropic" \
		" '$COWORKER' chat -C '$WS' --audit '$TOP/audit.jsonl'" \
		" --base-url '$BASE_URL' --model gpt-4o; echo chat-exit=\$?" Enter
	wait_pane '] gpt-4o'

	type_line "/config provider anthropic"
	wait_pane "the provider stays openai:"
	pane | grep -qF "ftp://127.0.0.1/anthropic"
	type_line "A task"
	wait_pane "Still here."
	type_line "/exit"
	wait_pane "chat-exit=0"
	stop_server
	[ -z "$(audit_lines "$TOP/audit.jsonl" provider_switch)" ]
}
