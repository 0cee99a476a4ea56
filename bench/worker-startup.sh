#!/bin/sh
# Worker start-up time and memory, measured through the real supervisor.
#
#   bench/worker-startup.sh [BUILD_DIR] [RUNS]
#
# Start-up: the time from "session_start" to "worker_ready" in the audit log
# of RUNS one-turn sessions. It covers the clone into namespaces, exec,
# library start-up, lock-down and the supervisor's check. The log has
# millisecond resolution, so the median of many runs is printed. Memory:
# the worker's VmRSS, VmHWM and VmPeak (address space, capped by
# RLIMIT_AS) from /proc, sampled every 5 ms during a 20-turn session of
# list_directory calls against build/replay-server; the last sample is
# taken just before the worker exits.
set -eu

BUILD=$(cd "${1:-build}" && pwd)
RUNS=${2:-30}
TURNS=20
TOP=$(mktemp -d /tmp/cw-bench-XXXXXX)
SERVER_PID=
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$TOP"' EXIT

mkdir -p "$TOP/ws/src" "$TOP/scenario"
echo "int main(void) { return 0; }" > "$TOP/ws/src/main.c"
echo '{"allow":["Read(**)"]}' > "$TOP/policy.json"

# write_scenario N: N-1 list_directory turns, then a final text reply.
write_scenario() {
	python3 - "$TOP/scenario" "$1" <<'PY'
import json, sys
out, turns = sys.argv[1], int(sys.argv[2])
def response(i, message, reason):
    return {"id": "chatcmpl-bench%d" % i, "object": "chat.completion",
            "created": 1782321897, "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "message": message,
                         "logprobs": None, "finish_reason": reason}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20,
                      "total_tokens": 120}}
files = []
for i in range(turns):
    name = "t%d.json" % i
    if i < turns - 1:
        msg = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_bench%020d" % i, "type": "function",
             "function": {"name": "list_directory",
                          "arguments": json.dumps({"path": "src"})}}]}
        body = response(i, msg, "tool_calls")
    else:
        body = response(i, {"role": "assistant", "content": "Done."}, "stop")
    json.dump(body, open("%s/%s" % (out, name), "w"))
    files.append({"response": name})
json.dump({"turns": files}, open(out + "/scenario.json", "w"))
PY
}

start_server() {
	rm -f "$TOP/port"
	"$BUILD/replay-server" --scenario "$TOP/scenario/scenario.json" \
		--port-file "$TOP/port" 2> "$TOP/server.log" &
	SERVER_PID=$!
	i=0
	while [ ! -s "$TOP/port" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	PORT=$(cat "$TOP/port")
}

stop_server() {
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

run_session() {
	OPENAI_API_KEY=sk-bench-0123456789 "$BUILD/coworker" exec -C "$TOP/ws" \
		--audit "$1" --policy "$TOP/policy.json" \
		--base-url "http://127.0.0.1:$PORT/v1" --model gpt-4o "List src" \
		> /dev/null 2>> "$TOP/sessions.log"
}

ready_ms() {
	python3 - "$1" <<'PY'
import json, sys, datetime
ts = {}
for line in open(sys.argv[1]):
    rec = json.loads(line)
    ts.setdefault(rec["event"], rec["ts"])
def parse(t):
    return datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
print((parse(ts["worker_ready"]) - parse(ts["session_start"])).total_seconds() * 1000)
PY
}

# Start-up.
write_scenario 1
: > "$TOP/ready.txt"
n=0
while [ $n -lt "$RUNS" ]; do
	start_server
	run_session "$TOP/a$n.jsonl"
	stop_server
	ready_ms "$TOP/a$n.jsonl" >> "$TOP/ready.txt"
	n=$((n + 1))
done
sort -n "$TOP/ready.txt" | awk '{ v[NR] = $1 } END {
	printf "worker start-up, session_start to worker_ready: median %.0f ms, min %.0f ms, max %.0f ms (%d runs, 1 ms log resolution)\n",
	       v[int((NR + 1) / 2)], v[1], v[NR], NR }'

# Memory over a 20-turn session.
write_scenario $TURNS
start_server
run_session "$TOP/mem.jsonl" &
SESSION_PID=$!
WORKER=
while kill -0 "$SESSION_PID" 2>/dev/null; do
	if [ -z "$WORKER" ]; then
		# The background job is a subshell: its child is coworker,
		# whose child running coworker-worker is the worker.
		SUPERVISOR=$(pgrep -P "$SESSION_PID" -x coworker || true)
		[ -z "$SUPERVISOR" ] ||
			WORKER=$(pgrep -P "$SUPERVISOR" -f coworker-worker || true)
	fi
	if [ -n "$WORKER" ] && [ -r "/proc/$WORKER/status" ]; then
		grep -E '^Vm(RSS|HWM|Peak):' "/proc/$WORKER/status" > "$TOP/mem.new" \
			2>/dev/null && mv "$TOP/mem.new" "$TOP/mem.last"
	fi
	sleep 0.005
done
wait "$SESSION_PID" || true
stop_server
turns=$(grep -c '"event":"model_turn"' "$TOP/mem.jsonl" || true)
if [ ! -s "$TOP/mem.last" ]; then
	echo "worker memory: no sample taken (the session ended first)" >&2
	exit 1
fi
printf 'worker memory after a %s-turn session: %s, %s, %s\n' "$turns" \
	"$(grep VmRSS "$TOP/mem.last" | tr -s ' \t' ' ')" \
	"$(grep VmHWM "$TOP/mem.last" | tr -s ' \t' ' ')" \
	"$(grep VmPeak "$TOP/mem.last" | tr -s ' \t' ' ')"
