#!/usr/bin/env bats
# build/replay-server: the offline Chat Completions server that replays a
# scenario. Every test starts a real server on a free 127.0.0.1 port and
# talks to it with curl.

REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
CALL_ID=call_Q1w2E3r4T5y6U7i8O9p0A1s2

setup() {
	: "${COWORKER_BUILD:?COWORKER_BUILD must name the build directory}"
	SERVER_BIN="$COWORKER_BUILD/replay-server"
	[ -x "$SERVER_BIN" ] || {
		echo "missing $SERVER_BIN: run make build/replay-server" >&2
		return 1
	}
	W="$BATS_TEST_TMPDIR"
	SERVER_PID=
	write_scenario
}

teardown() {
	if [ -n "$SERVER_PID" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
}

# Two turns: a run_command tool call, then a final answer that needs the
# command's result with "exit_code: 1" in it.
write_scenario() {
	mkdir -p "$W/sc"
	cat >"$W/sc/turn0.response.json" <<EOF
{
  "id": "chatcmpl-Tst0aB1cD2eF3gH4iJ5kL6mN7oP8q",
  "object": "chat.completion",
  "created": 1782400000,
  "model": "gpt-4o-2024-08-06",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": null,
        "tool_calls": [
          {
            "id": "$CALL_ID",
            "type": "function",
            "function": {
              "name": "run_command",
              "arguments": "{\"command\": \"false\"}"
            }
          }
        ],
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "tool_calls"
    }
  ],
  "usage": {
    "prompt_tokens": 90,
    "completion_tokens": 14,
    "total_tokens": 104
  },
  "service_tier": "default",
  "system_fingerprint": "fp_0a1b2c3d4e"
}
EOF
	cat >"$W/sc/turn1.response.json" <<'EOF'
{
  "id": "chatcmpl-Tst1aB1cD2eF3gH4iJ5kL6mN7oP8q",
  "object": "chat.completion",
  "created": 1782400002,
  "model": "gpt-4o-2024-08-06",
  "choices": [
    {
      "index": 0,
      "message": {
        "role": "assistant",
        "content": "The command failed with exit code 1.",
        "refusal": null,
        "annotations": []
      },
      "logprobs": null,
      "finish_reason": "stop"
    }
  ],
  "usage": {
    "prompt_tokens": 130,
    "completion_tokens": 9,
    "total_tokens": 139
  },
  "service_tier": "default",
  "system_fingerprint": "fp_0a1b2c3d4e"
}
EOF
	cat >"$W/sc/scenario.json" <<EOF
{
  "turns": [
    {"response": "turn0.response.json"},
    {"response": "turn1.response.json",
     "expect": [{"tool_call_id": "$CALL_ID", "contains": "exit_code: 1"}]}
  ]
}
EOF
	printf '%s' '{"model":"gpt-4o","messages":[{"role":"user","content":"run false"}],"tools":[]}' \
		>"$W/req0.json"
	write_turn1_request "$W/req1.json" 'exit_code: 1\noutput_bytes: 0\noutput:\n'
}

# A turn 1 request whose tool message for CALL_ID has the given content
# (a JSON string body, escapes allowed).
write_turn1_request() {
	printf '%s' '{"model":"gpt-4o","messages":[{"role":"user","content":"run false"},{"role":"assistant","content":null,"tool_calls":[{"id":"'"$CALL_ID"'","type":"function","function":{"name":"run_command","arguments":"{\"command\": \"false\"}"}}]},{"role":"tool","tool_call_id":"'"$CALL_ID"'","content":"'"$2"'"}],"tools":[]}' \
		>"$1"
}

# Start the server on a free port; extra arguments go to the server.
start_server() {
	local i
	rm -f "$W/port"
	"$SERVER_BIN" --scenario "${SCENARIO:-$W/sc/scenario.json}" \
		--port-file "$W/port" "$@" \
		>"$W/server.out" 2>"$W/server.log" 3>&- &
	SERVER_PID=$!
	for i in $(seq 100); do
		[ -s "$W/port" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$W/port" ] || {
		echo "replay-server did not write its port file:" >&2
		cat "$W/server.log" >&2
		return 1
	}
	PORT=$(cat "$W/port")
	URL="http://127.0.0.1:$PORT"
}

# SIGTERM the server and put its exit status in SERVER_STATUS.
stop_server() {
	SERVER_STATUS=0
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" || SERVER_STATUS=$?
	SERVER_PID=
}

# Print one member of the OpenAI-style error object in $W/body.
error_field() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["error"][sys.argv[2]])' \
		"$W/body" "$1"
}

# POST a file to a path; the body lands in $W/body, the status in CODE.
post() {
	CODE=$(curl -sS --noproxy '*' -o "$W/body" -w '%{http_code}' \
		-H 'Content-Type: application/json' \
		--data-binary "@$1" "${@:3}" "$URL$2")
}

@test "served body is byte-identical to the response file" {
	start_server
	post "$W/req0.json" /v1/chat/completions
	[ "$CODE" = 200 ]
	cmp "$W/body" "$W/sc/turn0.response.json"
	post "$W/req1.json" /v1/chat/completions
	[ "$CODE" = 200 ]
	cmp "$W/body" "$W/sc/turn1.response.json"
}

@test "response headers carry type, length and keep-alive" {
	start_server
	curl -sS --noproxy '*' -D "$W/headers" -o "$W/body" \
		--data-binary "@$W/req0.json" "$URL/v1/chat/completions"
	tr -d '\r' <"$W/headers" >"$W/h"
	grep -qx 'HTTP/1.1 200 OK' "$W/h"
	grep -qix 'content-type: application/json' "$W/h"
	grep -qix "content-length: $(wc -c <"$W/sc/turn0.response.json")" "$W/h"
	grep -qix 'connection: keep-alive' "$W/h"
}

@test "tool result check passes with the expected content" {
	start_server
	post "$W/req0.json" /v1/chat/completions
	post "$W/req1.json" /v1/chat/completions
	[ "$CODE" = 200 ]
	stop_server
	[ "$SERVER_STATUS" -eq 0 ]
	grep -q 'replay-server: 2 of 2 turns served, 0 checks failed' "$W/server.log"
}

@test "tool result check fails with 400 naming the content" {
	start_server
	post "$W/req0.json" /v1/chat/completions
	write_turn1_request "$W/bad.json" 'exit_code: 0\noutput_bytes: 3\noutput:\nok\n'
	post "$W/bad.json" /v1/chat/completions
	[ "$CODE" = 400 ]
	want="replay-server: turn 1: expected a tool result for $CALL_ID containing \"exit_code: 1\"; got: \"exit_code: 0\\noutput_bytes: 3\\noutput:\\nok\\n\""
	[ "$(error_field message)" = "$want" ]
	[ "$(error_field type)" = invalid_request_error ]
	grep -qF '"param":null,"code":null' "$W/body"
	grep -qxF "$want" "$W/server.log"
}

@test "missing tool result is reported as none" {
	start_server
	post "$W/req0.json" /v1/chat/completions
	post "$W/req0.json" /v1/chat/completions
	[ "$CODE" = 400 ]
	grep -qF "turn 1: expected a tool result for $CALL_ID (a tool call served in turn 0); got: none" "$W/body"
}

@test "failed check keeps the turn for the next request" {
	start_server
	post "$W/req0.json" /v1/chat/completions
	post "$W/req0.json" /v1/chat/completions
	[ "$CODE" = 400 ]
	post "$W/req1.json" /v1/chat/completions
	[ "$CODE" = 200 ]
	cmp "$W/body" "$W/sc/turn1.response.json"
}

@test "exit status 1 after a failed check" {
	start_server
	post "$W/req0.json" /v1/chat/completions
	post "$W/req0.json" /v1/chat/completions
	post "$W/req1.json" /v1/chat/completions
	stop_server
	[ "$SERVER_STATUS" -eq 1 ]
	grep -q 'replay-server: 2 of 2 turns served, 1 check failed' "$W/server.log"
}

@test "exit status 1 when turns are left" {
	start_server
	post "$W/req0.json" /v1/chat/completions
	stop_server
	[ "$SERVER_STATUS" -eq 1 ]
	grep -q 'replay-server: 1 of 2 turns served, 0 checks failed' "$W/server.log"
}

@test "SIGINT ends the server like SIGTERM" {
	start_server
	post "$W/req0.json" /v1/chat/completions
	post "$W/req1.json" /v1/chat/completions
	kill -INT "$SERVER_PID"
	status=0
	wait "$SERVER_PID" || status=$?
	SERVER_PID=
	[ "$status" -eq 0 ]
}

@test "request after the last turn gets 500" {
	start_server
	post "$W/req0.json" /v1/chat/completions
	post "$W/req1.json" /v1/chat/completions
	post "$W/req1.json" /v1/chat/completions
	[ "$CODE" = 500 ]
	grep -qF 'scenario has no turn 2' "$W/body"
	stop_server
	[ "$SERVER_STATUS" -eq 1 ]
}

@test "other paths and methods get 404" {
	start_server
	CODE=$(curl -sS --noproxy '*' -o "$W/body" -w '%{http_code}' "$URL/v1/models")
	[ "$CODE" = 404 ]
	grep -qF '{"error":{"message":"replay-server: no route for GET /v1/models' "$W/body"
	grep -qF '"type":"invalid_request_error","param":null,"code":null}}' "$W/body"
	post "$W/req0.json" /v1/embeddings
	[ "$CODE" = 404 ]
	CODE=$(curl -sS --noproxy '*' -o "$W/body" -w '%{http_code}' "$URL/v1/chat/completions")
	[ "$CODE" = 404 ]
	# None of these used up a turn.
	post "$W/req0.json" /v1/chat/completions
	cmp "$W/body" "$W/sc/turn0.response.json"
}

@test "query string does not hide the route" {
	start_server
	post "$W/req0.json" '/openai/deployments/x/chat/completions?api-version=2024-06-01'
	[ "$CODE" = 200 ]
}

@test "api key is enforced when given" {
	start_server --api-key test-key-123
	post "$W/req0.json" /v1/chat/completions
	[ "$CODE" = 401 ]
	grep -qF '"code":"invalid_api_key"' "$W/body"
	post "$W/req0.json" /v1/chat/completions -H 'Authorization: Bearer wrong-key'
	[ "$CODE" = 401 ]
	! grep -q wrong-key "$W/body" "$W/server.log"
	post "$W/req0.json" /v1/chat/completions -H 'Authorization: Bearer test-key-123'
	[ "$CODE" = 200 ]
	cmp "$W/body" "$W/sc/turn0.response.json"
}

@test "keep-alive serves two requests on one connection" {
	start_server
	curl -sS --noproxy '*' -o "$W/b0" -o "$W/b1" -w '%{http_code} %{num_connects}\n' \
		--data-binary "@$W/req0.json" "$URL/v1/chat/completions" \
		"$URL/v1/chat/completions" >"$W/out"
	cmp "$W/b0" "$W/sc/turn0.response.json"
	# The second request carries turn 0's body again, so it fails its
	# check, but on the same connection (no new connect).
	[ "$(sed -n 1p "$W/out")" = "200 1" ]
	[ "$(sed -n 2p "$W/out")" = "400 0" ]
	[ "$(grep -c 'accepted$' "$W/server.log")" -eq 1 ]
}

@test "Connection: close is honoured" {
	start_server
	curl -sS --noproxy '*' -D "$W/headers" -o "$W/body" -H 'Connection: close' \
		--data-binary "@$W/req0.json" "$URL/v1/chat/completions"
	tr -d '\r' <"$W/headers" | grep -qix 'connection: close'
}

@test "record writes each request body" {
	start_server --record "$W/rec"
	post "$W/req0.json" /v1/chat/completions
	post "$W/req1.json" /v1/chat/completions
	cmp "$W/rec/turn0.request.json" "$W/req0.json"
	cmp "$W/rec/turn1.request.json" "$W/req1.json"
}

# Fold the data lines of the event stream in $W/body into "content|calls".
fold_stream() {
	python3 - "$W/body" <<'PY'
import json, sys
text, calls, done = "", {}, False
for line in open(sys.argv[1]):
    if line.startswith("data: [DONE]"):
        done = True
    if not line.startswith("data: {"):
        continue
    chunk = json.loads(line[6:])
    for ch in chunk["choices"]:
        d = ch["delta"]
        text += d.get("content") or ""
        for tc in d.get("tool_calls", []):
            c = calls.setdefault(tc["index"], ["", "", ""])
            c[0] = c[0] or tc.get("id", "")
            c[1] = c[1] or tc.get("function", {}).get("name", "")
            c[2] += tc.get("function", {}).get("arguments", "")
print(text + "|" + json.dumps(calls, sort_keys=True) + "|" + str(done))
PY
}

@test "streaming request gets the JSON response as chunks" {
	start_server
	sed 's/"tools":\[\]/"tools":[],"stream":true/' "$W/req0.json" >"$W/s0.json"
	curl -sS --noproxy '*' -D "$W/headers" -o "$W/body" \
		--data-binary "@$W/s0.json" "$URL/v1/chat/completions"
	tr -d '\r' <"$W/headers" | grep -qix 'content-type: text/event-stream'
	[ "$(fold_stream)" = '|{"0": ["'"$CALL_ID"'", "run_command", "{\"command\": \"false\"}"]}|True' ]
	grep -q '"choices":\[\],"usage":{"prompt_tokens":90' "$W/body"
}

@test "event stream response file is served verbatim, only to stream requests" {
	cp "$REPO/tests/fixtures/openai/fantasy-gpt-5-tool-streaming.turn0.response.sse" "$W/sc/s.sse"
	printf '%s' '{"turns":[{"response":"s.sse"}]}' >"$W/sc/sse.json"
	SCENARIO="$W/sc/sse.json" start_server
	post "$W/req0.json" /v1/chat/completions
	[ "$CODE" = 400 ]
	grep -qF 'is an event stream but the request did not ask for \"stream\": true' "$W/body"
	sed 's/"tools":\[\]/"tools":[],"stream":true/' "$W/req0.json" >"$W/s0.json"
	post "$W/s0.json" /v1/chat/completions
	[ "$CODE" = 200 ]
	cmp "$W/body" "$W/sc/s.sse"
}

@test "Messages route streams events and takes x-api-key" {
	cat >"$W/sc/m0.json" <<'JSON'
{"id":"msg_1","type":"message","role":"assistant","model":"claude-x",
 "content":[{"type":"text","text":"Hi there"},
            {"type":"tool_use","id":"toolu_1","name":"read_file","input":{"path":"a"}}],
 "stop_reason":"tool_use","usage":{"input_tokens":3,"output_tokens":4}}
JSON
	printf '%s' '{"turns":[{"response":"m0.json"}]}' >"$W/sc/m.json"
	SCENARIO="$W/sc/m.json" start_server --api-key k-123
	printf '%s' '{"model":"claude-x","max_tokens":100,"stream":true,"messages":[],"tools":[]}' >"$W/m.req"
	post "$W/m.req" /v1/messages -H 'x-api-key: k-123'
	[ "$CODE" = 200 ]
	python3 - "$W/body" <<'PY'
import json, sys
events = [l[7:].strip() for l in open(sys.argv[1]) if l.startswith("event: ")]
assert events[0] == "message_start" and events[-1] == "message_stop", events
text, args = "", ""
for line in open(sys.argv[1]):
    if line.startswith("data: "):
        d = json.loads(line[6:]).get("delta", {})
        text += d.get("text", "")
        args += d.get("partial_json", "")
assert text == "Hi there", text
assert json.loads(args) == {"path": "a"}, args
PY
}

@test "faults: reset, truncated stream, non-JSON and huge bodies" {
	python3 - "$W/sc/f.json" <<'PY'
import json, sys
json.dump({"turns": [{"response": "turn1.response.json", "fault": f}
                     for f in ("reset-mid-stream", "truncate-stream",
                               "non-json", "huge-body")]},
          open(sys.argv[1], "w"))
PY
	SCENARIO="$W/sc/f.json" start_server
	sed 's/"tools":\[\]/"tools":[],"stream":true/' "$W/req0.json" >"$W/s0.json"
	rc=0
	curl -sS --noproxy '*' -o "$W/body" --data-binary "@$W/s0.json" \
		"$URL/v1/chat/completions" 2>"$W/err" || rc=$?
	[ "$rc" -ne 0 ]
	post "$W/s0.json" /v1/chat/completions
	[ "$CODE" = 200 ]
	[ "$(fold_stream)" = '|{}|False' ] || [ "$(fold_stream | cut -d'|' -f3)" = False ]
	post "$W/req0.json" /v1/chat/completions
	[ "$CODE" = 200 ]
	grep -q '^<html>' "$W/body"
	post "$W/req0.json" /v1/chat/completions
	[ "$(wc -c <"$W/body")" -eq $((9 * 1024 * 1024)) ]
	stop_server
	[ "$SERVER_STATUS" -eq 0 ]
}

@test "unknown fault is rejected at start" {
	printf '%s' '{"turns":[{"response":"turn0.response.json","fault":"explode"}]}' >"$W/sc/bad.json"
	run "$SERVER_BIN" --scenario "$W/sc/bad.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *'"fault" must be one of'* ]]
}

@test "request without model, messages or tools is rejected" {
	start_server
	printf '%s' '{"messages":[],"tools":[]}' >"$W/r1.json"
	post "$W/r1.json" /v1/chat/completions
	[ "$CODE" = 400 ]
	grep -qF 'turn 0: request has no \"model\" string' "$W/body"
	printf '%s' '{"model":"gpt-4o","tools":[]}' >"$W/r2.json"
	post "$W/r2.json" /v1/chat/completions
	grep -qF 'turn 0: request has no \"messages\" array' "$W/body"
	printf '%s' '{"model":"gpt-4o","messages":[]}' >"$W/r3.json"
	post "$W/r3.json" /v1/chat/completions
	grep -qF 'turn 0: request has no \"tools\" array' "$W/body"
	printf '%s' '{"model":' >"$W/r4.json"
	post "$W/r4.json" /v1/chat/completions
	[ "$CODE" = 400 ]
	grep -qF 'turn 0: request body is not a JSON object' "$W/body"
}

@test "chunked request body gets 411" {
	start_server
	post "$W/req0.json" /v1/chat/completions -H 'Transfer-Encoding: chunked'
	[ "$CODE" = 411 ]
	grep -qF 'send the body with Content-Length' "$W/body"
}

@test "body over 8 MiB gets 413" {
	start_server
	CODE=$(curl -sS --noproxy '*' -o "$W/body" -w '%{http_code}' \
		-H 'Content-Length: 8388609' -H 'Expect: 100-continue' \
		--data-binary "@$W/req0.json" "$URL/v1/chat/completions")
	[ "$CODE" = 413 ]
	grep -qF 'request body is larger than 8388608 bytes' "$W/body"
}

@test "body over 1 MiB with Expect: 100-continue is read" {
	start_server
	# Padding in a member the server ignores; curl sends
	# "Expect: 100-continue" for bodies this large.
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["pad"]="x"*1500000; print(json.dumps(r))' \
		"$W/req0.json" >"$W/big.json"
	CODE=$(curl -sS --noproxy '*' -o "$W/body" -w '%{http_code}' -H 'Expect: 100-continue' \
		--data-binary "@$W/big.json" "$URL/v1/chat/completions")
	[ "$CODE" = 200 ]
	cmp "$W/body" "$W/sc/turn0.response.json"
}

@test "header block over 16 KiB gets 431" {
	start_server
	CODE=$(curl -sS --noproxy '*' -o "$W/body" -w '%{http_code}' \
		-H "X-Filler: $(head -c 17000 /dev/zero | tr '\0' a)" \
		--data-binary "@$W/req0.json" "$URL/v1/chat/completions")
	[ "$CODE" = 431 ]
}

@test "malformed request line gets 400" {
	start_server
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'POST  /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n' >&5
	IFS= read -r line <&5
	exec 5<&-
	[ "$line" = $'HTTP/1.1 400 Bad Request\r' ]
}

@test "bare LF in the header gets 400" {
	start_server
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'POST /v1/chat/completions HTTP/1.1\nHost: x\r\n\r\n' >&5
	IFS= read -r line <&5
	exec 5<&-
	[ "$line" = $'HTTP/1.1 400 Bad Request\r' ]
}

@test "client closing mid-request does not stop the server" {
	start_server
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n{"mod' >&5
	exec 5<&-
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&5
	exec 5<&-
	post "$W/req0.json" /v1/chat/completions
	[ "$CODE" = 200 ]
	cmp "$W/body" "$W/sc/turn0.response.json"
	kill -0 "$SERVER_PID"
}

@test "scenario with an unknown call id fails at start" {
	cat >"$W/sc/typo.json" <<'EOF'
{"turns": [{"response": "turn0.response.json"},
           {"response": "turn1.response.json",
            "expect": [{"tool_call_id": "call_typo"}]}]}
EOF
	run "$SERVER_BIN" --scenario "$W/sc/typo.json" --port-file "$W/port"
	[ "$status" -eq 2 ]
	[[ "$output" == *'scenario turn 1 expects a tool result for call_typo'* ]]
	[ ! -e "$W/port" ]
}

@test "scenario with a missing response file fails at start" {
	printf '%s' '{"turns": [{"response": "nope.json"}]}' >"$W/sc/missing.json"
	run "$SERVER_BIN" --scenario "$W/sc/missing.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *'cannot open'*'nope.json'* ]]
}

@test "scenario with an unknown member fails at start" {
	printf '%s' '{"turns": [{"response": "turn0.response.json", "expects": []}]}' \
		>"$W/sc/member.json"
	run "$SERVER_BIN" --scenario "$W/sc/member.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *'unknown member "expects"'* ]]
}

@test "contains and lacks check the request's messages" {
	cat >"$W/sc/texts.json" <<'EOF'
{"turns": [{"response": "turn1.response.json",
            "contains": ["run false"], "lacks": ["secret"]},
           {"response": "turn1.response.json", "lacks": ["run false"]}]}
EOF
	SCENARIO=$W/sc/texts.json start_server
	post "$W/req0.json" /v1/chat/completions
	[ "$CODE" = 200 ]
	post "$W/req0.json" /v1/chat/completions
	[ "$CODE" = 400 ]
	[ "$(error_field message)" = "replay-server: turn 1: expected the request's messages not to contain \"run false\"" ]
	stop_server
	[ "$SERVER_STATUS" -eq 1 ]
}

@test "side request leaves tool results due" {
	cat >"$W/sc/side.json" <<'EOF'
{"turns": [{"response": "turn0.response.json"},
           {"response": "turn1.response.json", "side_request": true},
           {"response": "turn1.response.json"}]}
EOF
	printf '%s' '{"model":"gpt-4o","messages":[{"role":"user","content":"summarise"}]}' \
		>"$W/side.json"
	printf '%s' '{"model":"gpt-4o","messages":[{"role":"user","content":"summarise"}],"tools":[{"type":"function"}]}' \
		>"$W/side_tools.json"
	SCENARIO=$W/sc/side.json start_server
	post "$W/req0.json" /v1/chat/completions
	[ "$CODE" = 200 ]
	post "$W/side_tools.json" /v1/chat/completions
	[ "$CODE" = 400 ]
	[ "$(error_field message)" = "replay-server: turn 1: a side request must offer no tools" ]
	post "$W/side.json" /v1/chat/completions
	[ "$CODE" = 200 ]
	# The results of turn 0's calls are still checked on turn 2.
	post "$W/req0.json" /v1/chat/completions
	[ "$CODE" = 400 ]
	grep -qF "expected a tool result for $CALL_ID" "$W/body"
	post "$W/req1.json" /v1/chat/completions
	[ "$CODE" = 200 ]
}

@test "side request making tool calls fails at start" {
	printf '%s' '{"turns": [{"response": "turn0.response.json", "side_request": true}]}' \
		>"$W/sc/side_calls.json"
	run "$SERVER_BIN" --scenario "$W/sc/side_calls.json"
	[ "$status" -eq 2 ]
	[[ "$output" == *"a side request's response may not make tool calls"* ]]
}

@test "turn status and headers are served" {
	cat >"$W/sc/retry.json" <<'EOF'
{"turns": [{"response": "err.json", "status": 429, "headers": {"Retry-After": "0"}},
           {"response": "turn0.response.json"}]}
EOF
	printf '%s\n' '{"error": {"message": "Rate limit reached", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}' \
		>"$W/sc/err.json"
	SCENARIO="$W/sc/retry.json" start_server
	CODE=$(curl -sS --noproxy '*' -D "$W/headers" -o "$W/body" -w '%{http_code}' \
		--data-binary "@$W/req0.json" "$URL/v1/chat/completions")
	[ "$CODE" = 429 ]
	tr -d '\r' <"$W/headers" | grep -qix 'retry-after: 0'
	cmp "$W/body" "$W/sc/err.json"
	post "$W/req0.json" /v1/chat/completions
	[ "$CODE" = 200 ]
}

# Emulates the supervisor well enough to walk the demo scenario: runs the
# scenario's tool calls on a copy of the demo workspace, answers denials the
# way the demo policy would, and posts each turn with curl.
write_demo_client() {
	cat >"$W/demo_client.py" <<'EOF'
import json, os, subprocess, sys

workspace, url, out = sys.argv[1], sys.argv[2], sys.argv[3]
TOOLS = [{"type": "function", "function": {"name": n, "description": n,
          "parameters": {"type": "object", "properties": {}}}}
         for n in ("read_file", "write_file", "edit_file", "list_directory",
                   "run_command")]
DENIED_COMMANDS = ("curl", "wget", "nc")


def inside(path):
    full = os.path.normpath(os.path.join(workspace, path))
    if full != workspace and not full.startswith(workspace + os.sep):
        return None
    return full


def run_tool(name, args):
    path = args.get("path", "")
    if name in ("read_file", "list_directory", "edit_file"):
        full = inside(path)
        if full is None:
            return f'error: denied: "{path}" is outside the workspace'
    if name == "list_directory":
        names = sorted(e + "/" if os.path.isdir(os.path.join(full, e)) else e
                       for e in os.listdir(full))
        return "\n".join(names) + "\n"
    if name == "read_file":
        with open(full) as f:
            return f.read()
    if name == "edit_file":
        with open(full) as f:
            text = f.read()
        if text.count(args["old_string"]) != 1:
            return f'error: old_string occurs {text.count(args["old_string"])} times'
        with open(full, "w") as f:
            f.write(text.replace(args["old_string"], args["new_string"]))
        return f"edited {path}: 1 replacement"
    if name == "run_command":
        word = args["command"].split()[0]
        if word in DENIED_COMMANDS:
            return (f'error: denied by rule "Exec({word}:*)" (deny, '
                    f'{workspace}/.coworker/policy.json)')
        p = subprocess.run(["bash", "-c", args["command"]], cwd=workspace,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL)
        return (f"exit_code: {p.returncode}\noutput_bytes: {len(p.stdout)}\n"
                f"output:\n{p.stdout.decode()}")
    return f'error: unknown tool "{name}"'


messages = [{"role": "system", "content": "You are a coding agent."},
            {"role": "user", "content": "Fix the failing test in this project."}]
for turn in range(20):
    req = os.path.join(out, f"request{turn}.json")
    with open(req, "w") as f:
        json.dump({"model": "gpt-4o", "messages": messages, "tools": TOOLS}, f)
    body = os.path.join(out, f"response{turn}.json")
    code = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", "-o", body, "-w", "%{http_code}",
         "-H", "Content-Type: application/json", "-H", "Authorization: Bearer demo-key",
         "--data-binary", "@" + req, url + "/v1/chat/completions"],
        check=True, stdout=subprocess.PIPE).stdout.decode()
    with open(body) as f:
        reply = json.load(f)
    if code != "200":
        sys.exit(f"turn {turn}: HTTP {code}: {reply['error']['message']}")
    choice = reply["choices"][0]
    messages.append(choice["message"])
    if choice["finish_reason"] == "stop":
        print(choice["message"]["content"])
        sys.exit(0)
    for call in choice["message"]["tool_calls"]:
        result = run_tool(call["function"]["name"],
                          json.loads(call["function"]["arguments"]))
        messages.append({"role": "tool", "tool_call_id": call["id"],
                         "content": result})
sys.exit("no final answer after 20 turns")
EOF
}

@test "demo scenario walks end to end" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	cp -a "$REPO/contrib/demo/workspace" "$W/workspace"
	write_demo_client
	mkdir "$W/walk"
	SCENARIO="$REPO/contrib/demo/scenario/scenario.json" start_server --api-key demo-key
	run python3 "$W/demo_client.py" "$W/workspace" "$URL" "$W/walk"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'passes all 5 tests'* ]]
	stop_server
	cat "$W/server.log"
	[ "$SERVER_STATUS" -eq 0 ]
	grep -q 'replay-server: 8 of 8 turns served, 0 checks failed' "$W/server.log"
	(cd "$W/workspace" && python3 -m unittest)
}

@test "demo scenario rejects an unfixed workspace" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	cp -a "$REPO/contrib/demo/workspace" "$W/workspace"
	write_demo_client
	# The client reports the edit but leaves the file alone, so the rerun
	# of the tests still fails and turn 5 must notice.
	sed -i 's/f.write(text.replace(args\["old_string"\], args\["new_string"\]))/f.write(text)/' \
		"$W/demo_client.py"
	mkdir "$W/walk"
	SCENARIO="$REPO/contrib/demo/scenario/scenario.json" start_server
	run python3 "$W/demo_client.py" "$W/workspace" "$URL" "$W/walk"
	[ "$status" -ne 0 ]
	echo "$output"
	grep -q 'f.write(text)$' "$W/demo_client.py"
	[[ "$output" == *'turn 5: HTTP 400: replay-server: turn 5: expected a tool result for call_'*'containing "exit_code: 0"; got: "exit_code: 1\noutput_bytes: '* ]]
	stop_server
	[ "$SERVER_STATUS" -eq 1 ]
}
