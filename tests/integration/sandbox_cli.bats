#!/usr/bin/env bats
# `coworker sandbox` as a user runs it from the shell: options, exit
# statuses, --policy, and the launcher that hands every other command to
# coworker-supervisor. The escape attempts are in tests/escape/.

bats_require_minimum_version 1.5.0

BUILD=${COWORKER_BUILD:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build}
COWORKER=$BUILD/coworker

setup() {
	TOP=$(mktemp -d /tmp/cw-sandbox-cli-XXXXXX)
	WS=$TOP/ws
	mkdir -p "$WS" "$TOP/home"
	export HOME=$TOP/home
	POLICY=$TOP/policy.json
	echo '{"allow": ["Exec(echo hi)"], "deny": ["Exec(rm:*)"]}' > "$POLICY"
}

teardown() {
	[ -n "${TOP:-}" ] && rm -rf "$TOP"
}

# sb ARGS...: coworker sandbox ARGS in the workspace.
sb() {
	(cd "$WS" && "$COWORKER" sandbox "$@")
}

@test "exit status of the command" {
	run sb -- bash -c 'exit 7'
	[ "$status" -eq 7 ]
}

# coworker sandbox returns once nothing the command started runs any more.
@test "returns after the command's background jobs are gone" {
	run sb -- bash -c '(sleep 0.3; echo late > late) & echo started'
	[ "$status" -eq 0 ]
	[ "$output" = started ]
	[ ! -e "$WS/.gitmodules" ]
	sleep 0.6
	[ ! -e "$WS/late" ]
}

# Nothing is left for init to reap: in a container whose first process
# never reaps, each orphan would stay a zombie and keep its user namespace
# counted. A subreaper adopts any orphan, so it would find one here.
@test "leaves no process for init to reap" {
	run python3 - "$COWORKER" "$WS" <<'PY'
import ctypes, os, subprocess, sys, time
PR_SET_CHILD_SUBREAPER = 36
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl failed")
for _ in range(5):
    subprocess.run([sys.argv[1], "sandbox", "--", "true"], cwd=sys.argv[2],
                   check=True)
time.sleep(0.3)
try:
    pid, status = os.waitpid(-1, os.WNOHANG | 0x40000000)
except ChildProcessError:
    pid = 0
print("adopted", pid)
PY
	[ "$status" -eq 0 ]
	[ "$output" = "adopted 0" ]
}

@test "PATH keeps the caller's absolute directories" {
	mkdir "$WS/bin"
	printf '#!/bin/sh\necho tool ran\n' > "$WS/bin/mytool"
	chmod 755 "$WS/bin/mytool"
	run bash -c 'cd "$1" && PATH="$2" exec "$3" sandbox -- mytool' \
		_ "$WS" "$WS/bin:.::$PATH" "$COWORKER"
	[ "$status" -eq 0 ]
	[ "$output" = "tool ran" ]
	run bash -c 'cd "$1" && PATH="$2" exec "$3" sandbox -- printenv PATH' \
		_ "$WS" "$WS/bin:.::/usr/bin:/bin" "$COWORKER"
	[ "$output" = "$WS/bin:/usr/bin:/bin" ]
}

# HOME is the workspace, so git finds the user's identity through
# GIT_CONFIG_GLOBAL. Under root the command runs as another uid, so this
# runs as an unprivileged one.
@test "git commit uses the user's git identity" {
	command -v git >/dev/null || skip "git not installed"
	local as=()
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv >/dev/null || skip "setpriv(1) not installed"
		as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
	chmod 755 "$TOP"
	# The sandbox's /tmp is its own, so the home sits in the workspace.
	mkdir "$WS/.home"
	printf '[user]\n\tname = Sandbox Tester\n\temail = tester@example.invalid\n' \
		> "$WS/.home/.gitconfig"
	git -C "$WS" init -q
	echo a > "$WS/a"
	if [ "$(id -u)" = 0 ]; then
		chown -R 65534:65534 "$WS"
	fi
	"${as[@]}" bash -c 'cd "$1" && "$2" version' _ "$WS" "$COWORKER" \
		>/dev/null 2>&1 || skip "uid 65534 cannot run $COWORKER"
	run "${as[@]}" env HOME="$WS/.home" bash -c 'cd "$1" && "$2" sandbox -- \
		bash -c "git add a && git commit -qm first && git log --format=%an"' \
		_ "$WS" "$COWORKER"
	[ "$status" -eq 0 ]
	[ "$output" = "Sandbox Tester" ]
}

# CI jobs name the committer in the environment, which the sandbox passes.
@test "git commit uses GIT_AUTHOR and GIT_COMMITTER variables" {
	command -v git >/dev/null || skip "git not installed"
	git -C "$WS" init -q
	echo a > "$WS/a"
	run bash -c 'cd "$1" && GIT_AUTHOR_NAME="CI Bot" \
		GIT_AUTHOR_EMAIL=ci@example.invalid GIT_COMMITTER_NAME="CI Bot" \
		GIT_COMMITTER_EMAIL=ci@example.invalid "$2" sandbox -- bash -c \
		"git add a && git commit -qm ci && git log --format=\"%an %ce\""' \
		_ "$WS" "$COWORKER"
	[ "$status" -eq 0 ]
	[ "$output" = "CI Bot ci@example.invalid" ]
}

# A workspace below the top of a repository: git reads the repository
# above, whose files the command's uid does not own under root.
@test "git works in a subdirectory of a repository" {
	command -v git >/dev/null || skip "git not installed"
	local repo
	# Not under /tmp, which the sandbox replaces with its own.
	repo=$(mktemp -d "$BUILD/cli-repo-XXXXXX")
	chmod 755 "$repo"
	git -C "$repo" init -q
	mkdir "$repo/sub"
	echo x > "$repo/sub/f"
	run bash -c 'cd "$1/sub" && "$2" sandbox -- bash -c \
		"test -d ../.git || exit 3; git status --short"' _ "$repo" "$COWORKER"
	rm -rf "$repo"
	[ "$status" -ne 3 ] || skip "the repository above is not visible here"
	[ "$status" -eq 0 ]
	[ "$output" = "?? ./" ]
}

# The workspace mount covers the masks made before it, so credentials in
# a home that is the workspace are masked again on top of it.
@test "credentials stay masked when the home is the workspace" {
	mkdir -p "$WS/.ssh"
	echo SECRET-NPM > "$WS/.npmrc"
	echo SECRET-KEY > "$WS/.ssh/id_test"
	run bash -c 'cd "$1" && HOME="$1" "$2" sandbox -- bash -c \
		"cat .npmrc .ssh/id_test; echo more >> .npmrc"' _ "$WS" "$COWORKER"
	[[ "$output" != *SECRET* ]]
	[ "$(cat "$WS/.npmrc")" = SECRET-NPM ]
}

@test "command not found exits 127" {
	run -127 sb -- no-such-command-here
	[ "$status" -eq 127 ]
	[[ "$output" == *"no-such-command-here: command not found in PATH ("* ]]
}

@test "timeout exits 124" {
	run sb --timeout 1 -- sleep 30
	[ "$status" -eq 124 ]
	[[ "$output" == *"timed out"* ]]
}

@test "unknown option is named" {
	run sb --bogus -- true
	[ "$status" -eq 2 ]
	[[ "$output" == *'coworker sandbox: unknown option "--bogus"'* ]]
	run sb -xi -- true
	[ "$status" -eq 2 ]
	[[ "$output" == *'unknown option "-x"'* ]]
}

@test "missing command is named" {
	run -2 sb
	[[ "$output" == *"missing command; run 'coworker sandbox -- CMD"* ]]
}

@test "root directory as workspace is rejected plainly" {
	run -125 bash -c 'cd / && "$1" sandbox -- true' _ "$COWORKER"
	[[ "$output" == *"the current directory is /, which cannot be the workspace"* ]]
	[[ "$output" != *"command sandbox:"* ]]
}

@test "missing option value is named" {
	run sb --mode
	[ "$status" -eq 2 ]
	[[ "$output" == *'missing value for option "--mode"'* ]]
}

@test "policy allows a listed command" {
	run sb --policy "$POLICY" -- echo hi
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
}

@test "policy judges the line of bash -c" {
	run sb --policy "$POLICY" -- bash -c 'echo hi'
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
}

@test "policy rejects an unlisted bash -c line" {
	touch "$WS/keep"
	run sb --policy "$POLICY" -- bash -c 'echo hi; rm keep'
	[ "$status" -eq 126 ]
	[[ "$output" == *"does not allow the command (deny: Exec(rm:*))"* ]]
	[ -e "$WS/keep" ]
}

@test "policy judges sh -c whole" {
	# dash and the policy's bash parser read some lines differently.
	touch "$WS/keep"
	run sb --policy "$POLICY" -- sh -c '((rm -f keep))'
	[ "$status" -eq 126 ]
	[ -e "$WS/keep" ]
	run sb --policy "$POLICY" -- sh -c 'echo hi'
	[ "$status" -eq 126 ]
}

@test "policy rejects bash -c with more arguments" {
	run sb --policy "$POLICY" -- bash -c 'echo hi' extra
	[ "$status" -eq 126 ]
	[[ "$output" == *"cannot be judged statically"* ]]
}

@test "missing policy file is a usage error" {
	run sb --policy "$TOP/none.json" -- echo hi
	[ "$status" -eq 2 ]
	[[ "$output" == *"none.json"* ]]
}

@test "launcher hands other commands to the supervisor" {
	run "$COWORKER" skills list
	[ "$status" -eq 0 ]
	[[ "$output" == *commit-messages* ]]
}

@test "launcher without the supervisor" {
	# The launcher alone, with no coworker-supervisor beside it.
	mkdir "$TOP/bin"
	cp "$COWORKER" "$TOP/bin/coworker"
	[ ! -e "$TOP/bin/coworker-supervisor" ]
	[ -x "$BUILD/coworker-supervisor" ]
	if [ -x /usr/local/libexec/coworker/coworker-supervisor ]; then
		skip "an installed coworker-supervisor would be found"
	fi
	run -127 "$TOP/bin/coworker" skills list
	[ "$status" -eq 127 ]
	[[ "$output" == *"coworker-supervisor is missing or not executable"* ]]
	[[ "$output" == *"reinstall coworker"* ]]
	# The sandbox itself needs no supervisor.
	run bash -c 'cd "$1" && "$2" sandbox -- echo inside' _ "$WS" "$TOP/bin/coworker"
	[ "$status" -eq 0 ]
	[ "$output" = inside ]
}
