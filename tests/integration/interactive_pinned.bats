#!/usr/bin/env bats
# The pinned area in a tmux pane: while a turn stalls, the bottom rows keep
# the status line, the todo list and the busy line, the text scrolls in the
# region above, and the terminal is whole again afterwards.

load interactive_helpers

setup() {
	setup_chat
}

teardown() {
	teardown_chat
}

# stalled_todo_scenario: a todo list of six items, then a streamed answer
# that stalls half-way.
stalled_todo_scenario() {
	response_tool "$TOP/scenario/t0.json" call_todo0000000000000001 \
		todo_write '{"todos":[{"content":"Read notes","status":"completed"},{"content":"Sort notes","status":"completed"},{"content":"Count words","status":"in_progress"},{"content":"Write summary","status":"pending"},{"content":"Check links","status":"pending"},{"content":"Report back","status":"pending"}]}'
	response_text "$TOP/scenario/t1.json" \
		"$(python3 -c 'print(" ".join("word%d" % i for i in range(400)))')"
	scenario '{"response": "t0.json"}' \
		'{"response": "t1.json", "fault": "stall-mid-stream"}'
	start_server "$TOP/scenario/scenario.json"
}

# screen: the visible rows of the pane, without the scrollback.
screen() {
	tm capture-pane -p -t "$TMUX_NAME"
}

# row N: the visible row N, counted from 1 at the top.
row() {
	screen | sed -n "${1}p"
}

# pane_format FORMAT: a tmux format of the pane, such as #{cursor_y}.
pane_format() {
	tm display-message -p -t "$TMUX_NAME" "$1"
}

# wait_row N TEXT: wait until visible row N contains TEXT (a bound of
# 30 s, not a measurement); on failure print the screen.
wait_row() {
	for _ in $(seq 1 300); do
		row "$1" | grep -qF -- "$2" && return 0
		sleep 0.1
	done
	echo "gave up waiting for \"$2\" in row $1:" >&2
	screen | cat -n >&2
	return 1
}

# check_restored: after the chat ended, the shell's terminal has its modes
# and the whole screen scrolls again.
check_restored() {
	key "stty -a > '$TOP/stty.after'; seq 1 100" Enter
	wait_row 39 "100"
	diff "$TOP/stty.before" "$TOP/stty.after"
	[ "$(pane_format '#{scroll_region_lower}')" -eq 39 ]
	[ "$(pane_format '#{cursor_y}')" -eq 39 ]
}

@test "pinned area shows todo and status" {
	stalled_todo_scenario
	start_shell
	key "stty -a > '$TOP/stty.before'" Enter
	start_chat_in_shell
	type_line "Tidy the notes"
	wait_pane "word10 "

	# Status, four todo rows, "+2 more" and the busy line: rows 34 to 40.
	wait_row 40 "(Ctrl-C cancels)"
	[ "$(pane_format '#{scroll_region_lower}')" -eq 32 ]
	row 34 | grep -qF "[workspace-write] gpt-4o  $WS"
	row 35 | grep -qF "[>] Count words"
	row 36 | grep -qF "[ ] Write summary"
	row 37 | grep -qF "[ ] Check links"
	row 38 | grep -qF "[ ] Report back"
	row 39 | grep -qF "+2 more"
	row 40 | grep -qF "thinking"
	[ "$(screen | sed -n '34,40p' | grep -cF "Read notes")" -eq 0 ]

	# The busy line's time goes on while the turn stalls.
	wait_row 40 " 2s (Ctrl-C cancels)"

	key C-c
	wait_pane "coworker: cancelled"
	wait_pane "] gpt-4o"
	[ "$(pane_format '#{scroll_region_lower}')" -eq 39 ]
	type_line "/todo"
	wait_pane "[x] Read notes"
	type_line "/exit"
	wait_pane "chat-exit=0"
	stop_server || true
	check_restored
}

@test "pinned area without colours" {
	stalled_todo_scenario
	start_shell
	key "stty -a > '$TOP/stty.before'" Enter
	key "export NO_COLOR=1" Enter
	start_chat_in_shell --mode full-access
	type_line "Tidy the notes"
	wait_pane "word10 "
	wait_row 40 "(Ctrl-C cancels)"
	[ "$(pane_format '#{scroll_region_lower}')" -eq 32 ]
	row 34 | grep -qF "[full-access] gpt-4o"
	# No colour anywhere in the area.
	[ "$(tm capture-pane -p -e -t "$TMUX_NAME" | sed -n '34,40p' |
	     grep -c $'\033\\[')" -eq 0 ]
	key C-c
	wait_pane "coworker: cancelled"
	type_line "/exit"
	wait_pane "chat-exit=0"
	stop_server || true
	check_restored
}

@test "small terminal has no pinned area" {
	stalled_todo_scenario
	start_shell
	tm resize-window -t "$TMUX_NAME" -x 120 -y 8
	start_chat_in_shell
	type_line "Tidy the notes"
	wait_pane "word10 "
	[ "$(pane_format '#{scroll_region_lower}')" -eq 7 ]
	key C-c
	wait_pane "coworker: cancelled"
	type_line "/exit"
	wait_pane "chat-exit=0"
	stop_server || true
}

@test "pinned area follows a resize" {
	stalled_todo_scenario
	start_shell
	key "stty -a > '$TOP/stty.before'" Enter
	start_chat_in_shell
	type_line "Tidy the notes"
	wait_pane "word10 "
	wait_row 40 "(Ctrl-C cancels)"
	tm resize-window -t "$TMUX_NAME" -x 100 -y 30
	wait_row 30 "(Ctrl-C cancels)"
	row 24 | grep -qF "[workspace-write] gpt-4o"
	[ "$(pane_format '#{scroll_region_lower}')" -eq 22 ]
	key C-c
	wait_pane "coworker: cancelled"
	type_line "/exit"
	wait_pane "chat-exit=0"
	stop_server || true
	key "stty -a > '$TOP/stty.after'; seq 1 100" Enter
	wait_row 29 "100"
	# The first line has the new size; the modes follow it.
	diff <(tail -n +2 "$TOP/stty.before") <(tail -n +2 "$TOP/stty.after")
	[ "$(pane_format '#{scroll_region_lower}')" -eq 29 ]
}

@test "busy line keeps counting while a command runs" {
	response_tool "$TOP/scenario/t0.json" call_sleep0000000000000001 \
		run_command '{"command":"sleep 4"}'
	response_text "$TOP/scenario/t1.json" "Slept well."
	scenario '{"response": "t0.json"}' '{"response": "t1.json"}'
	start_server "$TOP/scenario/scenario.json"
	start_chat "--allow 'Exec(sleep 4)'"
	type_line "Sleep a little"

	# The supervisor's loop waits on the command, yet the time moves on.
	wait_row 40 "running the command"
	wait_row 40 " 2s (Ctrl-C cancels)"
	wait_pane "Slept well."
	type_line "/exit"
	wait_pane "chat-exit=0"
	stop_server
}
