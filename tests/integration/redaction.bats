#!/usr/bin/env bats
# The API key in what `coworker exec` prints: the --json stream, the
# progress lines on stderr and the final answer on stdout hide it as the
# audit log does, and a placeholder key is left alone.

load helpers

KEY=sk-redact-test-SECRETVALUE1234567890

setup() {
	setup_workspace
	echo '{"allow":["Exec(echo:*)"]}' > "$TOP/policy.json"
}

teardown() {
	teardown_workspace
}

# response_text_tool FILE ID TEXT COMMAND: a Chat Completions response with
# text and one run_command call.
response_text_tool() {
	python3 - "$@" <<'PY'
import json, sys
path, call_id, text, command = sys.argv[1:5]
body = {
    "id": "chatcmpl-redact", "object": "chat.completion",
    "created": 1782321897, "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "finish_reason": "tool_calls",
                 "message": {
                     "role": "assistant", "content": text,
                     "tool_calls": [{
                         "id": call_id, "type": "function",
                         "function": {"name": "run_command",
                                      "arguments": json.dumps(
                                          {"command": command})}}]}}],
    "usage": {"prompt_tokens": 100, "completion_tokens": 20,
              "total_tokens": 120}}
open(path, "w").write(json.dumps(body) + "\n")
PY
}

# echo_scenario KEY: the model says the key, echoes it, and answers with it
# and its base64 form.
echo_scenario() {
	response_text_tool "$TOP/scenario/t0.json" call_echo000000000000000001 \
		"I will print $1 now." "echo $1"
	response_text "$TOP/scenario/t1.json" \
		"The key is $1, or $(printf %s "$1" | base64 -w0) in base64."
	echo '{"turns": [{"response": "t0.json"},
	       {"response": "t1.json",
	        "expect": [{"tool_call_id": "call_echo000000000000000001"}]}]}' \
		> "$TOP/scenario/scenario.json"
	start_server "$TOP/scenario/scenario.json"
}

# exec_with_key KEY ARGS...: run exec with stdout and stderr in separate
# files; status is its exit status.
exec_with_key() {
	local key=$1
	shift
	status=0
	OPENAI_API_KEY="$key" "$COWORKER" exec -C "$WS" \
		--audit "$TOP/audit.jsonl" --policy "$TOP/policy.json" \
		--base-url "$BASE_URL" --model gpt-4o "$@" \
		> "$TOP/stdout" 2> "$TOP/stderr" || status=$?
}

@test "exec --json hides the key on stdout and stderr" {
	echo_scenario "$KEY"
	exec_with_key "$KEY" --json "Print the key"
	[ "$status" -eq 0 ]
	stop_server

	! grep -qF "$KEY" "$TOP/stdout"
	! grep -qF "$KEY" "$TOP/stderr"
	! grep -qF "$KEY" "$TOP/audit.jsonl"
	! grep -qF "$(printf %s "$KEY" | base64 -w0)" "$TOP/stdout"
	grep -qF 'model: I will print [REDACTED] now.' "$TOP/stderr"
	grep -qF 'allow run_command echo [REDACTED]' "$TOP/stderr"
	python3 - "$TOP/stdout" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
texts = [e["text"] for e in events if e["type"] == "text"]
assert texts == ["I will print [REDACTED] now.",
                 "The key is [REDACTED], or [REDACTED] in base64."], texts
for kind in ("request", "decision"):
    subjects = [e["subject"] for e in events
                if e["type"] == kind and e["tool"] == "run_command"]
    assert subjects == ["echo [REDACTED]"], (kind, subjects)
last = events[-1]
assert last["type"] == "session_completed", last
assert last["final_text"] == texts[-1], last
PY
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]
}

@test "exec prints the final answer with the key redacted" {
	echo_scenario "$KEY"
	exec_with_key "$KEY" "Print the key"
	[ "$status" -eq 0 ]
	stop_server

	[ "$(cat "$TOP/stdout")" = "The key is [REDACTED], or [REDACTED] in base64." ]
	! grep -qF "$KEY" "$TOP/stderr"
}

@test "exec --json-deltas redacts a key split between two deltas" {
	# The replay server streams the text in two halves, and the worker
	# sends the first half on its own, so the key is cut in the middle.
	local text
	text="$(printf 'x%.0s' $(seq 2000))$KEY$(printf 'y%.0s' $(seq 2000))"
	response_text "$TOP/scenario/t0.json" "$text"
	echo '{"turns": [{"response": "t0.json"}]}' > "$TOP/scenario/scenario.json"
	start_server "$TOP/scenario/scenario.json"

	exec_with_key "$KEY" --json --json-deltas "Say something long"
	[ "$status" -eq 0 ]
	stop_server

	! grep -qF "$KEY" "$TOP/stdout"
	python3 - "$TOP/stdout" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
deltas = [e["text"] for e in events if e["type"] == "text_delta"]
text = [e["text"] for e in events if e["type"] == "text"][0]
assert len(deltas) >= 2, [len(d) for d in deltas]
assert text == "x" * 2000 + "[REDACTED]" + "y" * 2000, text[1990:2050]
assert "".join(deltas) == text, [d[-40:] for d in deltas]
PY
}

@test "placeholder key is not redacted and a note says so" {
	local key
	for key in test x d ab; do
		echo_scenario "$key"
		exec_with_key "$key" --json "Print the key"
		[ "$status" -eq 0 ]
		stop_server

		grep -qF "OPENAI_API_KEY is shorter than 16 characters" "$TOP/stderr"
		! grep -qF '[REDACTED]' "$TOP/stdout"
		! grep -qF '[REDACTED]' "$TOP/audit.jsonl"
		grep -qF "\"subject\":\"echo $key\"" "$TOP/stdout"
		grep -qF '"event":"text"' "$TOP/audit.jsonl"
		run "$COWORKER" audit verify "$TOP/audit.jsonl"
		[ "$status" -eq 0 ]
		rm -f "$TOP/audit.jsonl" "$TOP/port"
	done
}
