#!/usr/bin/env bats
# Redaction of the API key in a whole `coworker exec` session: a
# placeholder key is left alone.

load helpers

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

# echo_scenario KEY: the model says the key, echoes it, and answers with it.
echo_scenario() {
	response_text_tool "$TOP/scenario/t0.json" call_echo000000000000000001 \
		"I will print $1 now." "echo $1"
	response_text "$TOP/scenario/t1.json" "The key is $1."
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
