#!/usr/bin/env bats
# The glob and grep tools in whole sessions: the real supervisor and worker
# against the replay model server on 127.0.0.1.

load helpers

setup() {
	setup_workspace
	mkdir -p "$WS/src" "$WS/private" "$WS/.git"
	printf 'int main(void)\n/* TODO: more */\n' > "$WS/src/main.c"
	printf 'int add(int a, int b);\n' > "$WS/src/util.c"
	printf 'TOKEN=TODO\n' > "$WS/.env"
	printf 'TODO private\n' > "$WS/private/notes.txt"
	printf 'TODO in git\n' > "$WS/.git/HEAD"
	ln -s "$OUTSIDE" "$WS/outside_link"
	echo '{"allow":["Read(**)"],"deny":["Read(private/**)"]}' \
		> "$TOP/policy.json"
}

teardown() {
	teardown_workspace
}

# response_calls FILE ID NAME ARGS [ID NAME ARGS]...: a Chat Completions
# response that calls several tools in one turn.
response_calls() {
	python3 - "$@" <<'PY'
import json, sys
path, rest = sys.argv[1], sys.argv[2:]
calls = [{"id": rest[i], "type": "function",
          "function": {"name": rest[i + 1], "arguments": rest[i + 2]}}
         for i in range(0, len(rest), 3)]
body = {
    "id": "chatcmpl-search", "object": "chat.completion",
    "created": 1782321897, "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0,
                 "message": {"role": "assistant", "content": None,
                             "tool_calls": calls},
                 "finish_reason": "tool_calls"}],
    "usage": {"prompt_tokens": 100, "completion_tokens": 20,
              "total_tokens": 120}}
open(path, "w").write(json.dumps(body, indent=2) + "\n")
PY
}

# tool_result FILE ID: the content of the tool message for call ID in a
# recorded request body.
tool_result() {
	python3 - "$@" <<'PY'
import json, sys
body = json.load(open(sys.argv[1]))
for m in body["messages"]:
    if m.get("role") == "tool" and m.get("tool_call_id") == sys.argv[2]:
        sys.stdout.write(m["content"])
        break
else:
    sys.exit("no tool message for " + sys.argv[2])
PY
}

run_session() {
	OPENAI_API_KEY=sk-test-integration-0123456789 run "$COWORKER" exec \
		-C "$WS" --audit "$TOP/audit.jsonl" --base-url "$BASE_URL" \
		--model gpt-4o --policy "$TOP/policy.json" "$@"
}

@test "glob and grep in one turn reach the model" {
	response_calls "$TOP/scenario/t0.json" \
		call_glob00000000000000001 glob '{"pattern":"**/*.c"}' \
		call_grep00000000000000001 grep \
		'{"pattern":"todo|secret","ignore_case":true,"max_results":50}'
	response_text "$TOP/scenario/t1.json" "Found it."
	cat > "$TOP/scenario/scenario.json" <<'EOF'
{"turns": [
  {"response": "t0.json"},
  {"response": "t1.json", "expect": [
    {"tool_call_id": "call_glob00000000000000001", "contains": "src/main.c"},
    {"tool_call_id": "call_grep00000000000000001", "contains": "src/main.c:2:"}]}]}
EOF
	RECORD_DIR=$TOP/rec start_server "$TOP/scenario/scenario.json"

	run_session "Find the TODOs"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Found it."* ]]
	stop_server

	run tool_result "$TOP/rec/turn1.request.json" call_glob00000000000000001
	[ "$status" -eq 0 ]
	[ "$output" = $'src/main.c\nsrc/util.c' ]

	# .env is protected, private/ is denied, and neither the symlink to
	# outside nor .git is read.
	run tool_result "$TOP/rec/turn1.request.json" call_grep00000000000000001
	[ "$status" -eq 0 ]
	[ "$output" = $'src/main.c:2:/* TODO: more */\n[2 files skipped: the policy does not allow reading them]' ]

	audit_lines "$TOP/audit.jsonl" decision tool glob | grep -q '"decision": "allow"'
	run audit_lines "$TOP/audit.jsonl" result tool grep
	[[ "$output" == *'"matches": 1'* ]]
	[[ "$output" == *'"files_searched": 2'* ]]
	[[ "$output" == *'"skipped_by_policy": 2'* ]]
	[[ "$output" == *'"cut": null'* ]]
	run audit_lines "$TOP/audit.jsonl" result tool glob
	[[ "$output" == *'"matches": 2'* ]]
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]
}

@test "invalid search arguments become tool errors" {
	response_calls "$TOP/scenario/t0.json" \
		call_back00000000000000001 grep '{"pattern":"(a)\\1"}' \
		call_many00000000000000001 grep '{"pattern":"a","max_results":0}' \
		call_root00000000000000001 glob '{"pattern":"/etc/*"}' \
		call_out000000000000000001 glob '{"pattern":"*","path":"outside_link"}'
	response_text "$TOP/scenario/t1.json" "Done."
	cat > "$TOP/scenario/scenario.json" <<'EOF'
{"turns": [{"response": "t0.json"}, {"response": "t1.json"}]}
EOF
	RECORD_DIR=$TOP/rec start_server "$TOP/scenario/scenario.json"

	run_session "Search badly"
	stop_server
	body=$TOP/rec/turn1.request.json

	run tool_result "$body" call_back00000000000000001
	[[ "$output" == 'error: invalid arguments for grep: pattern contains the back-reference "\1"'* ]]
	run tool_result "$body" call_many00000000000000001
	[ "$output" = 'error: invalid arguments for grep: field "max_results" must be an integer from 1 to 10000' ]
	run tool_result "$body" call_root00000000000000001
	[[ "$output" == 'error: invalid arguments for glob: pattern "/etc/*" starts with "/"'* ]]
	run tool_result "$body" call_out000000000000000001
	[[ "$output" == 'error: denied: "outside_link" leads outside the workspace'* ]]
	[[ "$output" != *secret* ]]
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]
}
