#!/usr/bin/env bats
# --weaker-worker-sandbox on a host that refuses user namespaces. The
# refusal is made for this test alone: the supervisor runs in a user
# namespace of its own whose user.max_user_namespaces is 0 (the limit is
# per user namespace), so the kernel refuses the worker's namespaces there
# and nowhere else on the machine.

load ../integration/helpers

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root to map the worker's uid 65534"
	"$COWORKER" --help 2>&1 | grep -q -- --weaker-worker-sandbox ||
		skip "coworker exec has no --weaker-worker-sandbox option yet"
	setup_workspace
	response_text "$TOP/scenario/t0.json" "Done without namespaces."
	echo '{"turns":[{"response":"t0.json"}]}' > "$TOP/scenario/scenario.json"
	start_server "$TOP/scenario/scenario.json"
}

teardown() {
	[ -z "${TOP:-}" ] || teardown_workspace
}

# without_userns CMD...: run CMD in a new user namespace that maps ids
# 0-65535 to the same host ids and allows no nested user namespace.
without_userns() {
	python3 - "$@" <<'PY'
import ctypes, os, sys
CLONE_NEWUSER = 0x10000000
libc = ctypes.CDLL(None, use_errno=True)
ready_r, ready_w = os.pipe()
go_r, go_w = os.pipe()
pid = os.fork()
if pid == 0:
    if libc.unshare(CLONE_NEWUSER) != 0:
        os._exit(90)
    os.write(ready_w, b"u")
    os.read(go_r, 1)
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write("0")
    os.execvp(sys.argv[1], sys.argv[1:])
os.read(ready_r, 1)
for name in ("uid_map", "gid_map"):
    with open("/proc/%d/%s" % (pid, name), "w") as f:
        f.write("0 0 65536\n")
os.write(go_w, b"g")
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

run_session() {
	run without_userns "$COWORKER" exec "$@" -C "$WS" \
		--audit "$TOP/audit.jsonl" --base-url "$BASE_URL" --model m "go"
}

@test "a refused user namespace stops the session and names the fix" {
	run_session
	[ "$status" -eq 4 ]
	[[ "$output" == *"namespaces layer"* ]]
	[[ "$output" == *"user.max_user_namespaces is 0"* ]]
	[[ "$output" == *"--weaker-worker-sandbox"* ]]
}

@test "--weaker-worker-sandbox runs the worker without namespaces, audited" {
	run_session --weaker-worker-sandbox
	[ "$status" -eq 0 ]
	[[ "$output" == *"Done without namespaces."* ]]
	[[ "$output" == *"the worker runs without namespaces"* ]]
	audit_lines "$TOP/audit.jsonl" weaker_worker_sandbox |
		grep -q 'max_user_namespaces is 0'
	audit_lines "$TOP/audit.jsonl" worker_ready | grep -q '"weaker": true'
	audit_lines "$TOP/audit.jsonl" worker_ready | grep -q '"namespaces": \[\]'
	"$COWORKER" audit verify "$TOP/audit.jsonl"
}
