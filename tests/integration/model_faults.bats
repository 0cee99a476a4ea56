#!/usr/bin/env bats
# Whole sessions against a misbehaving model endpoint: the real supervisor
# and worker, the replay server injecting one fault per turn, over both
# providers and with streamed responses.

load helpers

FIX="$BATS_TEST_DIRNAME/../fixtures"

setup() {
	setup_workspace
}

teardown() {
	teardown_workspace
}

# scenario TURN_JSON...: each argument is one turn object.
scenario() {
	python3 - "$TOP/scenario/scenario.json" "$@" <<'PY'
import json, sys
out, turns = sys.argv[1], [json.loads(t) for t in sys.argv[2:]]
json.dump({"turns": turns}, open(out, "w"), indent=2)
PY
}

# An OpenAI-style error body for the status turns.
error_body() {
	printf '{"error":{"message":"%s","type":"server_error","param":null,"code":null}}\n' \
		"$2" >"$TOP/scenario/$1"
}

# anthropic_text FILE TEXT: a Messages response with one text block.
anthropic_text() {
	python3 - "$@" <<'PY'
import json, sys
path, text = sys.argv[1:3]
json.dump({"id": "msg_test", "type": "message", "role": "assistant",
           "model": "claude-sonnet-4-20250514",
           "content": [{"type": "text", "text": text}],
           "stop_reason": "end_turn", "stop_sequence": None,
           "usage": {"input_tokens": 40, "output_tokens": 5}},
          open(path, "w"))
PY
}

# anthropic_tool FILE ID NAME INPUT_JSON: a Messages response with a tool_use.
anthropic_tool() {
	python3 - "$@" <<'PY'
import json, sys
path, call_id, name, args = sys.argv[1:5]
json.dump({"id": "msg_tool", "type": "message", "role": "assistant",
           "model": "claude-sonnet-4-20250514",
           "content": [{"type": "text", "text": "Let me look."},
                       {"type": "tool_use", "id": call_id, "name": name,
                        "input": json.loads(args)}],
           "stop_reason": "tool_use", "stop_sequence": None,
           "usage": {"input_tokens": 30, "output_tokens": 9}},
          open(path, "w"))
PY
}

# run_exec ARGS...: a session; MODEL and PROVIDER (default openai) pick the API.
run_exec() {
	OPENAI_API_KEY=sk-test-faults-0123456789 \
	ANTHROPIC_API_KEY=sk-test-faults-0123456789 run "$COWORKER" exec \
		-C "$WS" --audit "$TOP/audit.jsonl" --base-url "$BASE_URL" \
		--provider "${PROVIDER:-openai}" --model "${MODEL:-gpt-4o}" "$@"
}

# The worker's retry reports, one message per line.
retries() {
	audit_lines "$TOP/audit.jsonl" retry | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print("retry: try %d of %d in %.1f s after: %s" % (r["attempt"],
          r["max_attempts"], r["delay_ms"] / 1000.0, r["reason"]))'
}

@test "429 with Retry-After is retried and reported" {
	error_body busy.json "Rate limit reached"
	response_text "$TOP/scenario/ok.json" "Done after waiting."
	scenario '{"response":"busy.json","status":429,"headers":{"Retry-After":"1"}}' \
		'{"response":"ok.json"}'
	start_server "$TOP/scenario/scenario.json"
	run_exec "Hi"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Done after waiting."* ]]
	stop_server
	retries | grep -q '^retry: try 2 of 5 in 1.0 s after: the model endpoint returned HTTP 429: Rate limit reached'
}

@test "500 is retried with backoff" {
	error_body broken.json "Internal error"
	response_text "$TOP/scenario/ok.json" "Recovered."
	scenario '{"response":"broken.json","status":500}' \
		'{"response":"broken.json","status":503}' '{"response":"ok.json"}'
	start_server "$TOP/scenario/scenario.json"
	run_exec "Hi"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Recovered."* ]]
	stop_server
	[ "$(retries | wc -l)" -eq 2 ]
	retries | grep -q 'HTTP 503: Internal error'
}

@test "connection reset mid-stream is retried" {
	response_text "$TOP/scenario/ok.json" "Complete answer."
	scenario '{"response":"ok.json","fault":"reset-mid-stream"}' \
		'{"response":"ok.json"}'
	start_server "$TOP/scenario/scenario.json"
	run_exec "Hi"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Complete answer."* ]]
	stop_server
	retries | grep -q 'model request failed'
}

@test "stream cut before its final event is retried, tool calls not run twice" {
	echo "note" >"$WS/notes.txt"
	response_tool "$TOP/scenario/t0.json" call_trunc0000000000000001 \
		read_file '{"path":"notes.txt"}'
	response_text "$TOP/scenario/t1.json" "Read it once."
	python3 - "$TOP/scenario/scenario.json" <<'PY'
import json, sys
json.dump({"turns": [
    {"response": "t0.json", "fault": "truncate-stream"},
    {"response": "t0.json"},
    {"response": "t1.json", "expect": [{"tool_call_id": "call_trunc0000000000000001",
                                         "contains": "note"}]}]},
    open(sys.argv[1], "w"))
PY
	echo '{"allow":["Read(**)"]}' >"$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"
	run_exec --policy "$TOP/policy.json" "Read notes.txt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Read it once."* ]]
	stop_server
	retries | grep -q 'event stream ended before its final event'
	[ "$(audit_lines "$TOP/audit.jsonl" request | grep -c notes.txt)" -eq 1 ]
}

@test "non-JSON body ends the session with a clear error" {
	response_text "$TOP/scenario/ok.json" "never seen"
	scenario '{"response":"ok.json","fault":"non-json"}'
	start_server "$TOP/scenario/scenario.json"
	run_exec "Hi"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the model endpoint returned an invalid response: the response is not a JSON object"* ]]
	stop_server
	[ -z "$(retries)" ]
}

@test "huge body is rejected at the size limit" {
	response_text "$TOP/scenario/ok.json" "never seen"
	scenario '{"response":"ok.json","fault":"huge-body"}'
	start_server "$TOP/scenario/scenario.json"
	run_exec "Hi"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the model response exceeds 8388608 bytes"* ]]
	stop_server
	[ -z "$(retries)" ]
}

@test "401 names the API key and is not retried" {
	error_body denied.json "Incorrect API key provided"
	scenario '{"response":"denied.json","status":401}'
	start_server "$TOP/scenario/scenario.json"
	run_exec "Hi"
	[ "$status" -eq 1 ]
	[[ "$output" == *"rejected the API key (HTTP 401): Incorrect API key provided"* ]]
	[[ "$output" == *"the API key was read from OPENAI_API_KEY"* ]]
	stop_server
	[ -z "$(retries)" ]
}

@test "recorded OpenAI stream replays a parallel tool call session" {
	cp "$FIX"/openai/fantasy-gpt-4o-parallel-tools-streaming.turn*.response.sse "$TOP/scenario/"
	scenario '{"response":"fantasy-gpt-4o-parallel-tools-streaming.turn0.response.sse"}' \
		'{"response":"fantasy-gpt-4o-parallel-tools-streaming.turn1.response.sse","expect":[{"tool_call_id":"call_ehIWdjL1abZk1h8FWGLQ0Hie","contains":"unknown tool"}]}'
	start_server "$TOP/scenario/scenario.json"
	run_exec "Add and multiply 2 and 3"
	[ "$status" -eq 0 ]
	[[ "$output" == *"The sum of 2 and 3 is 5, and the product is 6."* ]]
	stop_server
	audit_lines "$TOP/audit.jsonl" model_turn tool_calls 2 | grep -q '"prompt_tokens": 106'
}

@test "Anthropic session streams, runs a tool and sends tool_result back" {
	echo "anthropic note" >"$WS/notes.txt"
	anthropic_tool "$TOP/scenario/t0.json" toolu_test0000000000000001 \
		read_file '{"path":"notes.txt"}'
	anthropic_text "$TOP/scenario/t1.json" "The note says anthropic note."
	scenario '{"response":"t0.json"}' \
		'{"response":"t1.json","expect":[{"tool_call_id":"toolu_test0000000000000001","contains":"anthropic note"}]}'
	echo '{"allow":["Read(**)"]}' >"$TOP/policy.json"
	start_server "$TOP/scenario/scenario.json"
	BASE_URL=http://127.0.0.1:$PORT/anthropic
	PROVIDER=anthropic MODEL=claude-sonnet-4-20250514 run_exec --policy "$TOP/policy.json" "Read notes.txt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"The note says anthropic note."* ]]
	stop_server
	grep -q 'served t0.json .*streamed' "$TOP/server.log"
	audit_lines "$TOP/audit.jsonl" model_turn finish_reason tool_use | grep -q '"prompt_tokens": 30'
}

@test "recorded Anthropic stream with an overloaded error first" {
	cp "$FIX"/anthropic/fantasy-claude-sonnet-4-parallel-tools-streaming.turn*.response.sse "$TOP/scenario/"
	printf '%s\n' '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' \
		>"$TOP/scenario/overloaded.json"
	scenario '{"response":"overloaded.json","status":529}' \
		'{"response":"fantasy-claude-sonnet-4-parallel-tools-streaming.turn0.response.sse"}' \
		'{"response":"fantasy-claude-sonnet-4-parallel-tools-streaming.turn1.response.sse","expect":[{"tool_call_id":"toolu_01VaRx1jpWCvPhi7L4kywAcd","contains":"unknown tool"}]}'
	start_server "$TOP/scenario/scenario.json"
	BASE_URL=http://127.0.0.1:$PORT/anthropic
	PROVIDER=anthropic MODEL=claude-sonnet-4-20250514 run_exec "Add and multiply 2 and 3"
	[ "$status" -eq 0 ]
	[[ "$output" == *"2 × 3 = 6"* ]]
	stop_server
	retries | grep -q 'HTTP 529: Overloaded'
}
