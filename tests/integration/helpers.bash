# Shared set-up for the integration tests: a workspace, an "outside"
# directory beside it, and a replay model server playing a scenario.

BUILD=${COWORKER_BUILD:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build}
COWORKER=$BUILD/coworker

setup_workspace() {
	TOP=$(mktemp -d /tmp/cw-it-XXXXXX)
	WS=$TOP/ws
	OUTSIDE=$TOP/outside
	mkdir -p "$WS" "$OUTSIDE" "$TOP/scenario"
	echo "outside secret" > "$OUTSIDE/secret.txt"
}

teardown_workspace() {
	stop_server || true
	[ -n "${TOP:-}" ] && rm -rf "$TOP"
}

# response_tool FILE ID NAME ARGS_JSON: a Chat Completions response that
# calls one tool.
response_tool() {
	python3 - "$@" <<'PY'
import json, sys
path, call_id, name, args = sys.argv[1:5]
body = {
    "id": "chatcmpl-test" + call_id[-6:],
    "object": "chat.completion",
    "created": 1782321897,
    "model": "gpt-4o-2024-08-06",
    "choices": [{
        "index": 0,
        "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": call_id, "type": "function",
                            "function": {"name": name, "arguments": args}}],
            "refusal": None, "annotations": []},
        "logprobs": None, "finish_reason": "tool_calls"}],
    "usage": {"prompt_tokens": 100, "completion_tokens": 20,
              "total_tokens": 120},
    "service_tier": "default", "system_fingerprint": "fp_test"}
open(path, "w").write(json.dumps(body, indent=2) + "\n")
PY
}

# response_text FILE TEXT: a final answer without tool calls.
response_text() {
	python3 - "$@" <<'PY'
import json, sys
path, text = sys.argv[1:3]
body = {
    "id": "chatcmpl-testfinal", "object": "chat.completion",
    "created": 1782321899, "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0,
                 "message": {"role": "assistant", "content": text,
                             "refusal": None, "annotations": []},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 150, "completion_tokens": 10,
              "total_tokens": 160},
    "service_tier": "default", "system_fingerprint": "fp_test"}
open(path, "w").write(json.dumps(body, indent=2) + "\n")
PY
}

# start_server SCENARIO: start the replay server, set PORT and BASE_URL.
# With RECORD_DIR set, the server writes each request body there.
start_server() {
	"$BUILD/replay-server" --scenario "$1" --port-file "$TOP/port" \
		${RECORD_DIR:+--record "$RECORD_DIR"} 2> "$TOP/server.log" &
	SERVER_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$TOP/port" ] && break
		sleep 0.05
	done
	[ -s "$TOP/port" ] || { cat "$TOP/server.log" >&2; return 1; }
	PORT=$(cat "$TOP/port")
	BASE_URL=http://127.0.0.1:$PORT/v1
}

# stop_server: SIGTERM the server; its exit status says whether the whole
# scenario was played without a failed check.
stop_server() {
	[ -n "${SERVER_PID:-}" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	local rc=0
	wait "$SERVER_PID" || rc=$?
	SERVER_PID=
	return $rc
}

# audit_lines FILE EVENT [KEY VALUE]: print lines of that event (and field).
audit_lines() {
	python3 - "$@" <<'PY'
import json, sys
path, event = sys.argv[1:3]
key = sys.argv[3] if len(sys.argv) > 3 else None
val = sys.argv[4] if len(sys.argv) > 4 else None
for line in open(path):
    rec = json.loads(line)
    if rec.get("event") != event:
        continue
    if key is not None and str(rec.get(key)) != val:
        continue
    print(json.dumps(rec))
PY
}
