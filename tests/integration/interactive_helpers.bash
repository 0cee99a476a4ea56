# Set-up for the interactive tests: coworker chat runs in a shell inside a
# tmux session of its own (a private tmux server on a socket in the test's
# directory), against the replay model server on 127.0.0.1.

load helpers

setup_chat() {
	setup_workspace
	# Configuration, state and home are directories of this test only.
	export XDG_CONFIG_HOME=$TOP/config
	export XDG_STATE_HOME=$TOP/state
	export HOME=$TOP/home
	mkdir -p "$XDG_CONFIG_HOME" "$XDG_STATE_HOME" "$HOME"
	# /config provider reads these; no test may reach a real endpoint.
	unset ANTHROPIC_API_KEY ANTHROPIC_BASE_URL ANTHROPIC_MODEL \
		OPENAI_BASE_URL OPENAI_MODEL
	TMUX_SOCKET=$TOP/tmux.sock
	TMUX_NAME=cw-chat-$$-${BATS_TEST_NUMBER:-0}
	RECORD_DIR=$TOP/requests
	mkdir -p "$RECORD_DIR"
	export RECORD_DIR
}

teardown_chat() {
	tmux -S "$TMUX_SOCKET" kill-server 2>/dev/null || true
	teardown_workspace
}

# tm ARGS...: tmux on the test's own server.
tm() {
	tmux -S "$TMUX_SOCKET" "$@"
}

# scenario TURN_JSON...: one turn per argument, written as given.
scenario() {
	python3 - "$TOP/scenario/scenario.json" "$@" <<'PY'
import json, sys
turns = [json.loads(t) for t in sys.argv[2:]]
json.dump({"turns": turns}, open(sys.argv[1], "w"))
PY
}

# pane: the visible pane and its scrollback, wrapped lines joined.
pane() {
	tm capture-pane -p -J -S -1000 -t "$TMUX_NAME"
}

# wait_pane TEXT: wait until the pane shows TEXT (at most 30 s, a bound,
# not a measurement); on failure print the pane.
wait_pane() {
	for _ in $(seq 1 300); do
		pane | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	echo "gave up waiting for \"$1\" in the pane:" >&2
	pane >&2
	return 1
}

# count_in_pane TEXT: how many lines of the pane contain TEXT.
count_in_pane() {
	pane | grep -cF -- "$1" || true
}

# wait_count TEXT N: wait until at least N lines of the pane contain TEXT.
wait_count() {
	for _ in $(seq 1 300); do
		[ "$(count_in_pane "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "gave up waiting for $2 lines with \"$1\" in the pane:" >&2
	pane >&2
	return 1
}

# start_shell: a plain shell in a 120x40 tmux pane, in the workspace.
start_shell() {
	tm -f /dev/null new-session -d -s "$TMUX_NAME" -x 120 -y 40 \
		"env PS1='sh\$ ' bash --norc --noprofile"
	tm send-keys -t "$TMUX_NAME" "cd '$WS'" Enter
	wait_pane 'sh$ '
}

# start_chat ARGS...: coworker chat in the pane, against the replay
# server, with the audit log at $TOP/audit.jsonl. Waits for the prompt.
start_chat() {
	start_shell
	start_chat_in_shell "$@"
}

# start_chat_in_shell ARGS...: start_chat in the shell already running.
start_chat_in_shell() {
	tm send-keys -t "$TMUX_NAME" "'$COWORKER' chat -C '$WS'" \
		" --audit '$TOP/audit.jsonl' --base-url '$BASE_URL'" \
		" --model gpt-4o $*; echo chat-exit=\$?" Enter
	wait_pane '] gpt-4o'
}

# type_line TEXT: type TEXT at the prompt and press Enter.
type_line() {
	tm send-keys -t "$TMUX_NAME" -l -- "$1"
	tm send-keys -t "$TMUX_NAME" Enter
}

# key KEY...: send tmux key names (C-c, C-d, y, Enter).
key() {
	tm send-keys -t "$TMUX_NAME" "$@"
}

# recorded_requests: every request body the replay server recorded.
recorded_requests() {
	cat "$RECORD_DIR"/* 2>/dev/null
}
