#!/usr/bin/env bats
# Escape attempts against the command sandbox, driven through the real
# "coworker sandbox" binary. Each case tries to break out and passes only
# when the attempt fails. "Outside" is a directory this file creates; the
# listeners are ones it starts on 127.0.0.1, in an abstract socket and in
# a directory it creates under /run.
#
# SANDBOX_UNDER=bwrap or SANDBOX_UNDER=unshare runs the same attempts under
# those tools with comparable command lines, to compare (docs/security.md).

bats_require_minimum_version 1.5.0

BUILD=${COWORKER_BUILD:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build}
COWORKER=$BUILD/coworker
UNDER=${SANDBOX_UNDER:-coworker}
PY=/usr/bin/python3

setup() {
	# Not under /tmp: the sandbox hides /tmp, and outside must stay visible.
	TOP=$(mktemp -d "$BUILD/escape-XXXXXX")
	chmod 755 "$TOP"
	WS=$TOP/ws
	OUT=$TOP/outside
	mkdir -p "$WS" "$OUT" "$TOP/home"
	chmod 777 "$OUT"
	echo original > "$OUT/target"
	chmod 666 "$OUT/target"
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$TOP" "${RUNDIR:-/nonexistent-coworker-test}"
}

# sb [coworker options] -- CMD...: run CMD in the sandbox under test, with
# the workspace as the current directory and HOME set to a test home.
sb() {
	local opts=()
	while [ "$1" != "--" ]; do
		opts+=("$1")
		shift
	done
	shift
	case $UNDER in
	coworker)
		(cd "$WS" && HOME=$TOP/home "$COWORKER" sandbox "${opts[@]}" -- "$@")
		;;
	bwrap)
		bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp \
			--unshare-all --die-with-parent --bind "$WS" "$WS" \
			--chdir "$WS" "$@"
		;;
	unshare)
		(cd "$WS" && unshare -Urmnpf --mount-proc "$@")
		;;
	esac
}

need_coworker() {
	[ -x "$COWORKER" ] || skip "$COWORKER not built"
}

@test "write outside directly" {
	need_coworker
	run sb -- bash -c "echo x > '$OUT/direct'"
	[ ! -e "$OUT/direct" ]
	[ "$(cat "$OUT/target")" = original ]
}

@test "write through a symlink" {
	need_coworker
	ln -s "$OUT/target" "$WS/link"
	run sb -- bash -c "echo changed > link; ln -s '$OUT/new' link2; echo x > link2"
	[ "$(cat "$OUT/target")" = original ]
	[ ! -e "$OUT/new" ]
}

@test "write through a hardlink" {
	need_coworker
	run sb -- bash -c "ln '$OUT/target' hl && echo changed > hl"
	[ "$(cat "$OUT/target")" = original ]
}

@test "write through /proc/self/root and /proc/1/cwd" {
	need_coworker
	run sb -- bash -c "echo x > /proc/self/root$OUT/viaroot; echo x > /proc/1/cwd$OUT/viacwd; echo x > /proc/1/root$OUT/viaroot1"
	[ ! -e "$OUT/viaroot" ]
	[ ! -e "$OUT/viacwd" ]
	[ ! -e "$OUT/viaroot1" ]
}

@test "write .git/hooks and .git/config" {
	need_coworker
	mkdir -p "$WS/.git/hooks" "$WS/.git/objects"
	echo "[core]" > "$WS/.git/config"
	run sb -- bash -c "echo evil > .git/hooks/pre-commit; echo fsmonitor=evil >> .git/config; touch .git/objects/ok"
	[ ! -e "$WS/.git/hooks/pre-commit" ]
	[ "$(cat "$WS/.git/config")" = "[core]" ]
	[ -e "$WS/.git/objects/ok" ] || [ "$UNDER" != coworker ]
}

@test "create .coworker/policy.local.json" {
	need_coworker
	run sb -- bash -c "mkdir -p .coworker && echo '{\"allow\":[\"Exec\"]}' > .coworker/policy.local.json"
	[ ! -e "$WS/.coworker/policy.local.json" ]
}

@test "create .coworker/policy.local.json in an existing .coworker" {
	need_coworker
	mkdir "$WS/.coworker"
	echo '{}' > "$WS/.coworker/policy.json"
	run sb -- bash -c "echo '{\"allow\":[\"Exec\"]}' > .coworker/policy.local.json"
	[ ! -e "$WS/.coworker/policy.local.json" ]
}

@test "create .gitmodules" {
	need_coworker
	run sb -- bash -c "printf '[submodule \"x\"]\\n\\tpath = x\\n\\turl = ../evil\\n' > .gitmodules; mv /dev/null .gitmodules; ln -s x .gitmodules"
	[ ! -e "$WS/.gitmodules" ]
	[ ! -L "$WS/.gitmodules" ]
}

@test "create .git/hooks/post-checkout without .git" {
	need_coworker
	run sb -- bash -c "mkdir -p .git/hooks && echo evil > .git/hooks/post-checkout; git init -q .; mkdir -p .git/hooks; echo evil > .git/hooks/post-checkout"
	[ ! -e "$WS/.git/hooks/post-checkout" ]
	[ ! -e "$WS/.git" ] || [ "$UNDER" != coworker ]
}

@test "create .git/hooks/post-checkout with .git" {
	need_coworker
	mkdir -p "$WS/.git/objects"
	run sb -- bash -c "mkdir -p .git/hooks; echo evil > .git/hooks/post-checkout; rmdir .git/hooks; mv .git .git.old"
	[ ! -e "$WS/.git/hooks/post-checkout" ]
	[ -d "$WS/.git/objects" ]
}

@test "placeholders leave nothing behind" {
	need_coworker
	[ "$UNDER" = coworker ] || skip "coworker's own placeholders"
	command -v git >/dev/null || skip "git not installed"
	run sb -- bash -c 'ls -A; echo ok > file'
	[ "$status" = 0 ]
	# Inside, the missing protected names are read-only placeholders.
	[[ "$output" == *.coworker* ]]
	[[ "$output" == *.gitmodules* ]]
	[ "$(ls -A "$WS")" = file ]
	git -C "$WS" init -q
	run sb -- true
	[ "$(git -C "$WS" status --porcelain)" = "?? file" ]
	[ ! -e "$WS/.gitmodules" ]
}

# Two commands in one workspace share a placeholder. The one that ends
# first must not remove it from under the other, which could then create
# .gitmodules or .coworker for real.
@test "concurrent commands keep their placeholders" {
	need_coworker
	[ "$UNDER" = coworker ] || skip "coworker's own placeholders"
	command -v git >/dev/null || skip "git not installed"
	git -C "$WS" init -q
	local r
	for r in $(seq 20); do
		sb -- bash -c 'sleep 0.2; test -d .gitmodules && test -d .coworker ||
			echo > .gitmodules; echo done' > "$TOP/long.out" &
		sb -- true &
		sb -- true &
		sb -- true
		wait
		[ "$(cat "$TOP/long.out")" = done ]
		[ ! -e "$WS/.gitmodules" ]
	done
}

# A directory that looks like a placeholder (sticky bit, no write bit,
# modes cut by a umask) is taken as one and removed; a directory of the
# user's is left alone.
@test "placeholder told from a user's directory" {
	need_coworker
	[ "$UNDER" = coworker ] || skip "coworker's own placeholders"
	mkdir -m 1500 "$WS/.gitmodules"
	mkdir -m 755 "$WS/.coworker"
	run sb -- bash -c 'touch .coworker/x; test -w .gitmodules && echo writable'
	[ "$status" -ne 0 ]
	[ -z "$(echo "$output" | grep writable)" ]
	[ ! -e "$WS/.gitmodules" ]
	[ -d "$WS/.coworker" ]
	[ ! -e "$WS/.coworker/x" ]
}

@test "read a masked secret" {
	need_coworker
	mkdir -p "$TOP/home/.ssh" "$TOP/home/.config/gh"
	echo SECRET-KEY > "$TOP/home/.ssh/id_test"
	echo SECRET-ENV > "$WS/.env"
	echo SECRET-NPM > "$TOP/home/.npmrc"
	echo SECRET-GH > "$TOP/home/.config/gh/hosts.yml"
	run sb -- bash -c "cat '$TOP/home/.ssh/id_test' .env '$TOP/home/.npmrc' \
		'$TOP/home/.config/gh/hosts.yml'"
	[[ "$output" != *SECRET* ]]
}

# A monorepo keeps its .env at the top, above the package a command works
# in.
@test "read a .env above the workspace" {
	need_coworker
	echo SECRET-PARENT > "$TOP/.env"
	run sb -- cat ../.env
	[[ "$output" != *SECRET* ]]
}

# A masked .env is an empty read-only file: a write fails instead of
# vanishing, git sees a file rather than a device, and a committed
# template such as .env.example stays readable.
@test "masked .env rejects writes" {
	need_coworker
	[ "$UNDER" = coworker ] || skip "coworker's own masks"
	echo SECRET-ENV > "$WS/.env"
	echo PORT=1 > "$WS/.env.example"
	run sb -- bash -c 'stat -c %F .env; echo NEW=1 >> .env && echo appended; cat .env.example'
	[[ "$output" == *"regular empty file"* ]]
	[[ "$output" != *appended* ]]
	[[ "$output" == *PORT=1* ]]
	[ "$(cat "$WS/.env")" = SECRET-ENV ]
}

@test "read another process's environment" {
	need_coworker
	COWORKER_TEST_SECRET=SECRET-IN-ENV sleep 60 &
	PIDS+=($!)
	run sb -- bash -c "cat /proc/$!/environ; cat /proc/*/environ"
	[[ "$output" != *SECRET-IN-ENV* ]]
}

# listen KIND ADDR: start a listener outside that writes "got" into
# $TOP/got-KIND when anything reaches it. Prints nothing.
listen() {
	"$PY" - "$1" "$2" "$TOP/got-$1" "$TOP/ready-$1" <<'PY' &
import os, socket, sys
kind, addr, got, ready = sys.argv[1:5]
if kind == "tcp":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", int(addr))); s.listen(4)
elif kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", int(addr)))
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(("\0" + addr) if kind == "abstract" else addr); s.listen(4)
open(ready, "w").close()
if kind == "udp":
    s.recvfrom(64)
else:
    s.accept()
open(got, "w").close()
PY
	PIDS+=($!)
	while [ ! -e "$TOP/ready-$1" ]; do sleep 0.05; done
}

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

@test "reach a TCP listener on host loopback" {
	need_coworker
	port=$(free_port)
	listen tcp "$port"
	run sb -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
	sleep 0.2
	[ ! -e "$TOP/got-tcp" ]
}

@test "send a UDP packet to host loopback" {
	need_coworker
	port=$(free_port)
	listen udp "$port"
	run sb -- bash -c "echo hi > /dev/udp/127.0.0.1/$port"
	sleep 0.2
	[ ! -e "$TOP/got-udp" ]
}

@test "connect to an abstract unix socket" {
	need_coworker
	listen abstract "coworker-escape-$$"
	run sb -- "$PY" -c "import socket; s=socket.socket(socket.AF_UNIX); s.connect('\0coworker-escape-$$')"
	sleep 0.2
	[ ! -e "$TOP/got-abstract" ]
}

@test "connect to a unix socket under /run" {
	need_coworker
	[ -w /run ] || skip "/run is not writable for the test"
	RUNDIR=$(mktemp -d /run/coworker-escape-XXXXXX)
	chmod 755 "$RUNDIR"
	listen path "$RUNDIR/sock"
	chmod 777 "$RUNDIR/sock"
	run sb -- "$PY" -c "import socket; s=socket.socket(socket.AF_UNIX); s.connect('$RUNDIR/sock')"
	sleep 0.2
	[ ! -e "$TOP/got-path" ]
}

@test "inject input with TIOCSTI" {
	need_coworker
	command -v script >/dev/null || skip "script(1) not installed"
	[ "$UNDER" = coworker ] || skip "needs -i to pass the terminal"
	cmd="$COWORKER sandbox -i -- $PY -c 'import fcntl, termios; fcntl.ioctl(0, termios.TIOCSTI, b\"x\"); print(\"INJECTED\")'"
	run bash -c "cd '$WS' && script -qec \"$cmd\" /dev/null < /dev/null"
	[[ "$output" != *INJECTED* ]]
}

@test "ptrace another process" {
	need_coworker
	run sb -- "$PY" -c "
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    import time; time.sleep(5); os._exit(0)
print('ATTACHED' if libc.ptrace(16, pid, 0, 0) == 0 else 'denied')
os.kill(pid, 9)"
	[[ "$output" != *ATTACHED* ]]
}

@test "mount, unshare -r and chroot" {
	need_coworker
	# chroot lives in /usr/sbin, outside the sandbox's PATH: name it in
	# full, so the attempt fails for lack of permission, not of a program.
	run sb -- bash -c "mount -t tmpfs none '$WS' && echo MOUNTED; unshare -r true && echo UNSHARED; /usr/sbin/chroot / true && echo CHROOTED; echo chroot-status=\$?"
	[[ "$output" != *MOUNTED* ]]
	[[ "$output" != *UNSHARED* ]]
	[[ "$output" != *CHROOTED* ]]
	[[ "$output" == *chroot-status=* ]]
	[[ "$output" != *chroot-status=127* ]]
}

@test "io_uring_setup" {
	need_coworker
	run sb -- "$PY" -c "
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)
print('IO_URING' if libc.syscall(425, 4, params) >= 0 else 'denied')"
	[[ "$output" != *IO_URING* ]]
}

@test "setuid binary gains privileges" {
	need_coworker
	[ "$(id -u)" = 0 ] || skip "making a setuid-root binary needs root"
	cp /usr/bin/id "$WS/suid-id"
	chmod 4755 "$WS/suid-id"
	run sb -- ./suid-id -u
	[ "$output" != 0 ]
}

@test "fork bomb is bounded" {
	need_coworker
	run sb --timeout 20 -- bash -c 'for i in $(seq 5000); do sleep 30 & done 2>&1 | grep -m1 -c "Resource temporarily unavailable"'
	[ "$output" = 1 ]
}

# The cgroup this sandbox would use, from the trace of a probe run: sets
# CGROUP_DIR (the coworker parent in the memory or v2 hierarchy), or skips
# with the reason the trace gives.
need_cgroup() {
	local line
	need_coworker
	line=$(cd "$WS" && COWORKER_SANDBOX_TRACE=1 "$COWORKER" sandbox -- true 2>&1 |
		grep -E 'parent: (cgroup|no cgroup)')
	case $line in
	*"parent: cgroup "*)
		CGROUP_DIR=${line#*parent: cgroup }
		CGROUP_DIR=${CGROUP_DIR%/*}
		;;
	*)
		skip "no cgroup limits here: ${line#*rlimits only: }"
		;;
	esac
}

@test "fork bomb stops at the pids limit" {
	need_cgroup
	# 64 tasks is far below RLIMIT_NPROC (2048), so only the cgroup can
	# stop the loop this early.
	run sb --timeout 20 --pids 64 -- python3 -c 'import os, time
n = 0
try:
    while n < 1000:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
except BlockingIOError:
    pass
print("started=%d" % n)'
	[[ "$output" == *started=* ]]
	n=${output##*started=}
	[ "$n" -lt 64 ]
	[ "$n" -gt 8 ]
}

@test "memory bomb is bounded" {
	need_cgroup
	# Allocates without end; the cgroup's OOM killer must end it at 64 MiB.
	run sb --timeout 60 --memory 64M -- python3 -c 'b = []
while True: b.append(bytearray(1 << 20))'
	[ "$status" = 137 ]
	if [ "$UNDER" = coworker ]; then
		[[ "$output" == *"the memory limit killed the command"* ]]
	fi
}

# slot_tasks: the pids in every slot's cgroup.procs, one per line.
slot_tasks() {
	cat "$CGROUP_DIR"/slot-*/cgroup.procs 2>/dev/null
}

# wait_slots_empty: true once no slot holds a task (tasks leave their
# cgroup a moment after the kernel reaps them), false after 5 seconds.
wait_slots_empty() {
	local i
	for i in $(seq 50); do
		[ -z "$(slot_tasks)" ] && return 0
		sleep 0.1
	done
	return 1
}

@test "cgroup slots hold no task after commands" {
	need_cgroup
	local status=0
	# Timed out, with processes left in the cgroup at the end.
	(cd "$WS" && exec "$COWORKER" sandbox --timeout 2 -- bash -c 'sleep 30 & sleep 30 & sleep 100') || status=$?
	[ "$status" = 124 ]
	wait_slots_empty
	status=0
	(cd "$WS" && exec "$COWORKER" sandbox -- bash -c 'exit 3') || status=$?
	[ "$status" = 3 ]
	wait_slots_empty
}

@test "a command that cannot run exits 127 or 126, as in a shell" {
	need_coworker
	run -127 bash -c 'cd "$1" && "$2" sandbox -- no-such-command-here' _ "$WS" "$COWORKER"
	[ "$status" = 127 ]
	[[ "$output" == *"no-such-command-here: command not found in PATH"* ]]
	printf 'data\n' > "$WS/not-a-program"
	chmod 0644 "$WS/not-a-program"
	run bash -c 'cd "$1" && "$2" sandbox -- ./not-a-program' _ "$WS" "$COWORKER"
	[ "$status" = 126 ]
}

@test "a killed supervisor's cgroup slot is freed and reused" {
	need_cgroup
	wait_slots_empty
	(cd "$WS" && exec "$COWORKER" sandbox -- sleep 100) &
	local pid=$! i slot=
	PIDS+=("$pid")
	for i in $(seq 100); do
		slot=$(grep -l . "$CGROUP_DIR"/slot-*/cgroup.procs 2>/dev/null | head -n 1)
		[ -n "$slot" ] && break
		sleep 0.1
	done
	[ -n "$slot" ]
	slot=$(basename "$(dirname "$slot")")
	kill -9 "$pid"
	wait "$pid" || true
	# Its pid 1 dies with it (parent-death signal), and the lock with it.
	wait_slots_empty
	run sb -- cat /proc/self/cgroup
	[ "$status" = 0 ]
	[[ "$output" == *"/coworker/$slot"* ]]
}

@test "supervisors in different memory cgroups get their own pids slot" {
	need_cgroup
	[[ "$CGROUP_DIR" == /sys/fs/cgroup/memory/* ]] || skip "checks cgroup v1"
	local other status=0 i
	other="$(dirname "$CGROUP_DIR")/cw-test-$$"
	mkdir "$other"
	# The first supervisor runs in a sibling memory cgroup, the pids one
	# stays shared.
	(echo "$BASHPID" > "$other/cgroup.procs" && cd "$WS" &&
		exec "$COWORKER" sandbox -- bash -c 'grep pids: /proc/self/cgroup > first; sleep 2') &
	local pid=$!
	PIDS+=("$pid")
	for i in $(seq 100); do
		[ -s "$WS/first" ] && break
		sleep 0.05
	done
	run sb -- grep pids: /proc/self/cgroup
	wait "$pid" || status=$?
	rmdir "$other"/coworker/slot-* "$other/coworker" "$other"
	[ "$status" = 0 ]
	[ -s "$WS/first" ]
	[[ "$output" == *"pids:/coworker/slot-"* ]]
	[ "$output" != "$(cat "$WS/first")" ]
}

@test "--memory without a cgroup is warned about" {
	need_coworker
	[ "$UNDER" = coworker ] || skip "checks coworker's own warning"
	command -v setpriv >/dev/null || skip "setpriv(1) not installed"
	# As root the v1 cgroups apply, so the check runs as a plain user.
	local as=()
	[ "$(id -u)" = 0 ] && as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	chmod 0777 "$WS"
	# The build may sit below a directory that uid 65534 cannot enter.
	"${as[@]}" bash -c 'cd "$1" && "$2" version' _ "$WS" "$COWORKER" \
		>/dev/null 2>&1 || skip "uid 65534 cannot enter $WS or run $COWORKER"
	run bash -c 'cd "$1" && shift && COWORKER_SANDBOX_TRACE=1 "$@" sandbox --memory 64M -- true' \
		_ "$WS" "${as[@]}" "$COWORKER"
	[ "$status" = 0 ]
	if [[ "$output" == *"parent: no cgroup"* ]]; then
		[[ "$output" == *"warning: --memory and --pids cannot apply here"* ]]
	else
		[[ "$output" != *"warning:"* ]]
	fi
}

@test "tmpfs files of one command do not count against the next" {
	need_cgroup
	[ -d /dev/shm ] || skip "no /dev/shm"
	local ws status=0
	ws=$(mktemp -d /dev/shm/cw-escape-XXXXXX)
	chmod 0777 "$ws"
	# 96 MiB left on a tmpfs, charged to the slot the command ran in.
	(cd "$ws" && "$COWORKER" sandbox -- bash -c 'head -c 96M /dev/zero > big') || status=$?
	[ "$status" = 0 ] || { rm -rf "$ws"; false; }
	run bash -c 'cd "$1" && "$2" sandbox --memory 64M -- true' _ "$ws" "$COWORKER"
	rm -rf "$ws"
	[ "$status" = 0 ]
}

@test "interrupted sandbox leaves nothing behind" {
	need_coworker
	[ "$UNDER" = coworker ] || skip "checks coworker's own clean-up"
	(cd "$WS" && exec "$COWORKER" sandbox -- sleep 100) &
	local pid=$! i status=0
	PIDS+=("$pid")
	for i in $(seq 100); do
		[ -d "$WS/.gitmodules" ] && break
		sleep 0.05
	done
	[ -d "$WS/.gitmodules" ]
	kill -INT "$pid"
	wait "$pid" || status=$?
	# Ended by the signal, as a shell expects of Ctrl-C.
	[ "$status" = 130 ]
	[ ! -e "$WS/.gitmodules" ]
	[ ! -e "$WS/.coworker" ]
	[ ! -e "$WS/.git" ]
	! pgrep -f "sleep 100" >/dev/null
}

@test "a stop signal the caller ignores stays ignored" {
	need_coworker
	[ "$UNDER" = coworker ] || skip "checks coworker's own signals"
	run bash -c "trap '' HUP; cd '$WS' && { '$COWORKER' sandbox -- bash -c 'sleep 1; echo finished' & p=\$!; sleep 0.4; kill -HUP \$p; wait \$p; }"
	[ "$status" = 0 ]
	[[ "$output" == *finished* ]]
}

@test "command gets default signal dispositions" {
	need_coworker
	[ "$UNDER" = coworker ] || skip "checks coworker's own reset"
	local ignore=$BUILD/tests/helpers/ignore-signals
	[ -x "$ignore" ] || skip "ignore-signals helper not built (run make check)"
	# Every signal ignored and blocked by the caller, 32 and 33 included.
	run bash -c 'cd "$1" && shift && "$@" sandbox -- grep -E "^Sig(Blk|Ign):" /proc/self/status' \
		_ "$WS" "$ignore" "$COWORKER"
	echo "# $output" >&3
	[ "$status" = 0 ]
	[[ "$output" == *"SigBlk:	0000000000000000"* ]]
	[[ "$output" == *"SigIgn:	0000000000000000"* ]]
}

@test "fill /tmp past its size cap" {
	need_coworker
	run sb -- bash -c 'head -c 700M /dev/zero > /tmp/fill; echo rc=$?'
	[[ "$output" == *"No space left"* ]]
}

@test "daemon ignoring SIGTERM outlives the timeout" {
	need_coworker
	run sb --timeout 1 -- bash -c "trap '' TERM; (setsid bash -c \"trap '' TERM; sleep 3; echo survived > '$WS/late'\" &); sleep 100"
	sleep 4
	[ ! -e "$WS/late" ]
}

@test "file descriptors do not leak in" {
	need_coworker
	exec 7<"$OUT/target"
	run sb -- bash -c 'ls /proc/self/fd'
	exec 7<&-
	[ "$output" = "$(printf '0\n1\n2\n3')" ]
}
