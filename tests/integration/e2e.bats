#!/usr/bin/env bats
# Whole sessions per provider, streamed, against the replay server: parallel
# tool calls, a todo list, a compaction forced by a small context window
# and the final answer; then a run that the token budget stops.

load helpers

# The window is small enough that reading big.txt fills more than 80% of
# it, and large enough that the system prompt and tools schema, which
# other changes may grow, use well under the rest.
WINDOW=40000
BIG_MARK=BIGFILE-MARK-7731
SUMMARY="SUMMARY-E2E: big.txt was read and notes.txt was written."

setup() {
	setup_workspace
	RECORD_DIR=$TOP/requests
	mkdir -p "$RECORD_DIR"
	python3 - "$WS/big.txt" "$BIG_MARK" <<'PY'
import sys
path, mark = sys.argv[1:3]
with open(path, "w") as f:
    f.write(mark + "\n")
    for i in range(2200):
        f.write("line %05d of the big file, only here to fill the window\n" % i)
PY
	echo '{"allow":["Read(**)","Write(**)"]}' >"$TOP/policy.json"
}

teardown() {
	teardown_workspace
}

# response FILE PROVIDER TEXT [ID NAME ARGS_JSON]...: a response with
# optional text and any number of tool calls, in the provider's format.
response() {
	python3 - "$@" <<'PY'
import json, sys
path, provider, text = sys.argv[1:4]
rest = sys.argv[4:]
calls = [rest[i:i + 3] for i in range(0, len(rest), 3)]
if provider == "anthropic":
    content = [{"type": "text", "text": text}] if text else []
    content += [{"type": "tool_use", "id": c[0], "name": c[1],
                 "input": json.loads(c[2])} for c in calls]
    body = {"id": "msg_e2e", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-20250514", "content": content,
            "stop_reason": "tool_use" if calls else "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 90, "output_tokens": 30}}
else:
    message = {"role": "assistant", "content": text or None,
               "refusal": None, "annotations": []}
    if calls:
        message["tool_calls"] = [
            {"id": c[0], "type": "function",
             "function": {"name": c[1], "arguments": c[2]}} for c in calls]
    body = {"id": "chatcmpl-e2e", "object": "chat.completion",
            "created": 1782321897, "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": {"prompt_tokens": 90, "completion_tokens": 30,
                      "total_tokens": 120}}
open(path, "w").write(json.dumps(body, indent=2) + "\n")
PY
}

# scenario TURN_JSON...: each argument is one turn object.
scenario() {
	python3 - "$TOP/scenario/scenario.json" "$@" <<'PY'
import json, sys
out, turns = sys.argv[1], [json.loads(t) for t in sys.argv[2:]]
json.dump({"turns": turns}, open(out, "w"), indent=2)
PY
}

# run_exec PROVIDER ARGS...: a session against the replay server.
run_exec() {
	local provider=$1 model=gpt-4o base=$BASE_URL
	shift
	if [ "$provider" = anthropic ]; then
		model=claude-sonnet-4-20250514
		base=http://127.0.0.1:$PORT/anthropic
	fi
	OPENAI_API_KEY=sk-test-e2e-0123456789 \
	ANTHROPIC_API_KEY=sk-test-e2e-0123456789 run "$COWORKER" exec \
		-C "$WS" --audit "$TOP/audit.jsonl" --base-url "$base" \
		--provider "$provider" --model "$model" \
		--policy "$TOP/policy.json" "$@"
}

# audit_field EVENT KEY: the value of KEY in each EVENT line of the log.
audit_field() {
	audit_lines "$TOP/audit.jsonl" "$1" | python3 -c '
import json, sys
for line in sys.stdin:
    print(json.dumps(json.loads(line).get(sys.argv[1])))' "$2"
}

whole_session() {
	local provider=$1 p=call_e2e
	[ "$provider" = anthropic ] && p=toolu_e2e

	response "$TOP/scenario/t0.json" "$provider" "Reading and writing." \
		${p}_big read_file '{"path":"big.txt"}' \
		${p}_note write_file '{"path":"notes.txt","content":"e2e note\n"}'
	response "$TOP/scenario/t1.json" "$provider" "" \
		${p}_todo todo_write '{"todos":[
			{"content":"Read big.txt","status":"completed"},
			{"content":"Write\nnotes.txt","status":"completed"},
			{"content":"Report back","status":"in_progress"}]}'
	response "$TOP/scenario/t2.json" "$provider" "$SUMMARY"
	response "$TOP/scenario/t3.json" "$provider" "All done: E2E-FINAL."
	scenario '{"response":"t0.json"}' \
		"{\"response\":\"t1.json\",\"expect\":[
			{\"tool_call_id\":\"${p}_big\",\"contains\":\"$BIG_MARK\"},
			{\"tool_call_id\":\"${p}_note\"}]}" \
		"{\"response\":\"t2.json\",\"side_request\":true,
		  \"contains\":[\"$BIG_MARK\",\"Do the e2e task\"],
		  \"lacks\":[\"The todo list now has\"]}" \
		"{\"response\":\"t3.json\",\"expect\":[
			{\"tool_call_id\":\"${p}_todo\",
			 \"contains\":\"The todo list now has 3 items\"}],
		  \"contains\":[\"SUMMARY-E2E\",\"Do the e2e task\"],
		  \"lacks\":[\"$BIG_MARK\",\"${p}_big\",\"${p}_note\"]}"
	start_server "$TOP/scenario/scenario.json"

	run_exec "$provider" --context-tokens "$WINDOW" "Do the e2e task"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"All done: E2E-FINAL."* ]]
	stop_server
	[ "$(cat "$WS/notes.txt")" = "e2e note" ]

	# The summary request went out streamed and without tools.
	python3 - "$RECORD_DIR/turn2.request.json" <<'PY'
import json, sys
body = json.load(open(sys.argv[1]))
assert body.get("stream") is True, body.get("stream")
assert not body.get("tools"), "the summary request offered tools"
PY

	[ "$(audit_field compaction messages_before)" = 7 ]
	[ "$(audit_field compaction messages_after)" = 5 ]
	[ "$(audit_field compaction turn)" = 3 ]
	python3 - "$TOP/audit.jsonl" "$WINDOW" <<'PY'
import json, sys
path, window = sys.argv[1], int(sys.argv[2])
recs = [json.loads(l) for l in open(path)]
c = [r for r in recs if r["event"] == "compaction"][0]
assert c["tokens_before"] > window * 0.7, c
assert c["tokens_after"] < c["tokens_before"] / 4, c
# The summary request's usage is in the record, as every response has 90/30.
assert c["prompt_tokens"] == 90 and c["completion_tokens"] == 30, c
todo = [r for r in recs if r["event"] == "todo"]
assert len(todo) == 1, todo
assert todo[0]["items"] == [
    {"status": "completed", "text": "Read big.txt"},
    {"status": "completed", "text": "Write notes.txt"},
    {"status": "in_progress", "text": "Report back"}], todo[0]["items"]
results = {r["tool"]: r["ok"] for r in recs
           if r["event"] == "result" and r["tool"] != "connect"}
assert results == {"read_file": True, "write_file": True}, results
turns = [r for r in recs if r["event"] == "model_turn"]
assert [t["tool_calls"] for t in turns] == [2, 1, 0], turns
end = recs[-1]
assert end["event"] == "session_end" and end["status"] == "ok", end
PY
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]
}

budget_stop() {
	local provider=$1 p=call_e2e
	[ "$provider" = anthropic ] && p=toolu_e2e

	response "$TOP/scenario/t0.json" "$provider" "Reading." \
		${p}_big read_file '{"path":"big.txt"}'
	scenario '{"response":"t0.json"}'
	start_server "$TOP/scenario/scenario.json"

	# The one turn reports 120 tokens, over the budget of 100.
	run_exec "$provider" --token-budget 100 "Do the e2e task"
	echo "$output"
	[ "$status" -eq 5 ]
	[[ "$output" == *"token budget of 100"* ]]
	stop_server
	audit_lines "$TOP/audit.jsonl" session_end status token_budget |
		grep -q '"exit_code": 5'
	# The calls of the last turn were not run.
	! audit_lines "$TOP/audit.jsonl" request | grep -q read_file
}

# A tool result that alone overflows the context window is cut to fit,
# and the session goes on instead of ending.
@test "a tool result longer than the window is cut, not fatal" {
	response "$TOP/scenario/t0.json" openai "" \
		call_cut read_file '{"path":"big.txt"}'
	response "$TOP/scenario/t1.json" openai "Done: CUT-OK."
	scenario '{"response":"t0.json"}' \
		'{"response":"t1.json","expect":[{"tool_call_id":"call_cut",
		  "contains":"more bytes left out]"}]}'
	start_server "$TOP/scenario/scenario.json"

	run_exec openai --context-tokens 8000 "Read big.txt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Done: CUT-OK."* ]]
	stop_server
}

@test "openai session with tools, todo and compaction" {
	whole_session openai
}

@test "anthropic session with tools, todo and compaction" {
	whole_session anthropic
}

@test "openai session stops at token budget" {
	budget_stop openai
}

@test "anthropic session stops at token budget" {
	budget_stop anthropic
}

@test "context and budget flags reject bad values" {
	run "$COWORKER" exec --context-tokens 999 "task"
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid --context-tokens \"999\""* ]]
	run "$COWORKER" exec --token-budget 0 "task"
	[ "$status" -eq 2 ]
	[[ "$output" == *"invalid --token-budget \"0\""* ]]
	run "$COWORKER" exec --token-budget 12x "task"
	[ "$status" -eq 2 ]
}
