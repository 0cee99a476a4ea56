#!/usr/bin/env bats
# Interactive mode driven as a user drives it: coworker chat in a tmux
# pane, keys sent with send-keys, the screen read with capture-pane, the
# model played by the replay server on 127.0.0.1.

load interactive_helpers

setup() {
	setup_chat
}

teardown() {
	teardown_chat
}

# one_command_scenario COMMAND: the model runs COMMAND, then answers.
one_command_scenario() {
	local args
	args=$(python3 -c 'import json,sys; print(json.dumps({"command": sys.argv[1]}))' "$1")
	response_tool "$TOP/scenario/t0.json" call_cmd000000000000000001 \
		run_command "$args"
	response_text "$TOP/scenario/t1.json" "Finished the task."
	scenario '{"response": "t0.json"}' \
		'{"response": "t1.json", "expect": [{"tool_call_id": "call_cmd000000000000000001"}]}'
	start_server "$TOP/scenario/scenario.json"
}

# user_decisions: the audit log's decisions that the user answered.
user_decisions() {
	audit_lines "$TOP/audit.jsonl" decision answered_by user
}

@test "approval answered y runs the command once" {
	one_command_scenario "date -u"
	start_chat
	type_line "What is the time?"
	wait_pane "Allow? [y] yes once"
	pane | grep -qF '1. argv: "date" "-u"'
	key y
	wait_pane "Finished the task."
	pane | grep -qF "run_command date -u  [allow by user]"
	pane | grep -qF -- "-> exit 0"
	key C-d
	wait_pane "chat-exit=0"
	stop_server
	user_decisions | grep -q '"answer": "once"'
	user_decisions | grep -q '"decision": "allow"'
	"$COWORKER" audit verify "$TOP/audit.jsonl"
}

@test "approval answered s is not asked again" {
	response_tool "$TOP/scenario/t0.json" call_cmd000000000000000001 \
		run_command '{"command":"date -u"}'
	response_tool "$TOP/scenario/t1.json" call_cmd000000000000000002 \
		run_command '{"command":"date -u"}'
	response_tool "$TOP/scenario/t2.json" call_cmd000000000000000003 \
		run_command '{"command":"date -R"}'
	response_text "$TOP/scenario/t3.json" "Three dates."
	scenario '{"response": "t0.json"}' '{"response": "t1.json"}' \
		'{"response": "t2.json"}' '{"response": "t3.json"}'
	start_server "$TOP/scenario/scenario.json"
	start_chat
	type_line "Show the date three times"
	wait_pane "Allow? [y]"
	key s
	# The same command again runs without a prompt; another one asks.
	wait_pane "date -R"
	wait_pane "Allow? [y]"
	[ "$(count_in_pane 'Approval needed')" -eq 2 ]
	pane | grep -qF "run_command date -u  [allow by session]"
	key n
	wait_pane "Three dates."
	key C-d
	wait_pane "chat-exit="
	stop_server
	user_decisions | grep -q '"answer": "session"'
	audit_lines "$TOP/audit.jsonl" decision answered_by session | grep -q '"subject": "date -u"'
}

@test "approval answered a saves the exact rule" {
	one_command_scenario "date -u"
	start_chat
	type_line "What is the time?"
	wait_pane "Allow? [y]"
	key a
	wait_pane "Finished the task."
	pane | grep -qF "saved to .coworker/policy.local.json: allow Exec(date -u)"
	key C-d
	wait_pane "chat-exit=0"
	stop_server
	python3 - "$WS/.coworker/policy.local.json" <<'PY'
import json, sys
policy = json.load(open(sys.argv[1]))
assert policy["allow"] == ["Exec(date -u)"], policy
PY
	user_decisions | grep -q '"answer": "always"'
	audit_lines "$TOP/audit.jsonl" approval_saved | grep -qF '"rules": ["Exec(date -u)"]'
}

@test "approval answered n denies the command" {
	response_tool "$TOP/scenario/t0.json" call_cmd000000000000000001 \
		run_command '{"command":"touch made.txt"}'
	response_text "$TOP/scenario/t1.json" "Could not touch it."
	scenario '{"response": "t0.json"}' \
		'{"response": "t1.json", "expect": [{"tool_call_id": "call_cmd000000000000000001", "contains": "denied by the user"}]}'
	start_server "$TOP/scenario/scenario.json"
	start_chat
	type_line "Touch a file"
	wait_pane "Allow? [y]"
	key n
	wait_pane "Could not touch it."
	pane | grep -qF "run_command touch made.txt  [deny by user]"
	[ ! -e "$WS/made.txt" ]
	key C-d
	wait_pane "chat-exit="
	stop_server
	user_decisions | grep -q '"answer": "deny"'
}

@test "approval answered m sends the message to the model" {
	response_tool "$TOP/scenario/t0.json" call_cmd000000000000000001 \
		run_command '{"command":"touch made.txt"}'
	response_text "$TOP/scenario/t1.json" "Understood."
	scenario '{"response": "t0.json"}' \
		'{"response": "t1.json", "expect": [{"tool_call_id": "call_cmd000000000000000001", "contains": "denied by the user: use the notes file instead"}]}'
	start_server "$TOP/scenario/scenario.json"
	start_chat
	type_line "Touch a file"
	wait_pane "Allow? [y]"
	key m
	type_line "use the notes file instead"
	wait_pane "Understood."
	key C-d
	wait_pane "chat-exit="
	stop_server
	grep -qF "denied by the user: use the notes file instead" \
		"$RECORD_DIR"/turn1.request.json
	user_decisions | grep -q '"answer": "deny_message"'
	[ ! -e "$WS/made.txt" ]
}

@test "write_file approval shows the diff" {
	printf 'line one\nline two\n' > "$WS/notes.txt"
	response_tool "$TOP/scenario/t0.json" call_write00000000000000001 \
		write_file '{"path":"notes.txt","content":"line one\nline 2\n"}'
	response_text "$TOP/scenario/t1.json" "Rewrote the notes."
	scenario '{"response": "t0.json"}' '{"response": "t1.json"}'
	start_server "$TOP/scenario/scenario.json"
	start_chat --ask "'Write(notes.txt)'"
	type_line "Fix the notes"
	wait_pane "Allow? [y]"
	pane | grep -qxF -- "-line two"
	pane | grep -qxF -- "+line 2"
	key y
	wait_pane "Rewrote the notes."
	[ "$(sed -n 2p "$WS/notes.txt")" = "line 2" ]
	key C-d
	wait_pane "chat-exit="
}

@test "escape sequences from the model appear escaped" {
	local text
	text=$(printf 'red:\033[31mRED\033[0m clip:\033]52;c;aGk=\007 link:\033]8;;http://127.0.0.1/\033\\here\033]8;;\033\\ bidi:\u202egnp.exe zw:a\u200bb END')
	response_text "$TOP/scenario/t0.json" "$text"
	scenario '{"response": "t0.json"}'
	start_server "$TOP/scenario/scenario.json"
	start_chat
	type_line "Say something odd"
	wait_pane "END"
	pane | grep -qF 'red:\e[31mRED\e[0m'
	pane | grep -qF 'clip:\e]52;c;aGk=\x07'
	pane | grep -qF 'link:\e]8;;http://127.0.0.1/\e\here\e]8;;\e\'
	pane | grep -qF 'bidi:<U+202E>gnp.exe'
	pane | grep -qF 'zw:a<U+200B>b'
	key C-d
	wait_pane "chat-exit="
}

@test "Ctrl-C cancels a stalled turn and the next task works" {
	response_text "$TOP/scenario/t0.json" \
		"$(python3 -c 'print(" ".join("word%d" % i for i in range(400)))')"
	response_text "$TOP/scenario/t1.json" "Second answer."
	scenario '{"response": "t0.json", "fault": "stall-mid-stream"}' \
		'{"response": "t1.json"}'
	start_server "$TOP/scenario/scenario.json"
	start_chat
	type_line "Say something long"
	wait_pane "word10 "
	key C-c
	wait_pane "coworker: cancelled"
	wait_pane "] gpt-4o"
	type_line "And now?"
	wait_pane "Second answer."
	key C-d
	wait_pane "chat-exit=0"
	stop_server
	audit_lines "$TOP/audit.jsonl" cancel reason interrupted | grep -q '"signal": 2'
	audit_lines "$TOP/audit.jsonl" task_done status cancelled | grep -q cancelled
	audit_lines "$TOP/audit.jsonl" task_done status ok | grep -q ok
}

@test "Ctrl-D exit restores the terminal" {
	response_text "$TOP/scenario/t0.json" "Hello."
	scenario '{"response": "t0.json"}'
	start_server "$TOP/scenario/scenario.json"
	start_shell
	key "stty -a > '$TOP/stty.before'" Enter
	tm send-keys -t "$TMUX_NAME" "'$COWORKER' chat -C '$WS' --base-url" \
		" '$BASE_URL'; echo chat-exit=\$?" Enter
	wait_pane "] gpt-4o"
	type_line "Hi"
	wait_pane "Hello."
	key C-d
	wait_pane "chat-exit=0"
	key "stty -a > '$TOP/stty.after'" Enter
	for _ in $(seq 1 100); do
		[ -s "$TOP/stty.after" ] && break
		sleep 0.1
	done
	diff "$TOP/stty.before" "$TOP/stty.after"
}

@test "Ctrl-C twice at the prompt exits" {
	# No task is sent, so nothing listens on this port.
	BASE_URL=http://127.0.0.1:9/v1
	start_chat
	key C-c
	wait_pane "press Ctrl-C again or Ctrl-D to exit"
	key C-c
	wait_pane "chat-exit=0"
}

@test "piped input without a terminal runs tasks line by line" {
	response_text "$TOP/scenario/t0.json" "Piped answer."
	scenario '{"response": "t0.json"}'
	start_server "$TOP/scenario/scenario.json"
	run bash -c "printf 'A piped task\n/cost\n/exit\n' | '$COWORKER' chat \
		-C '$WS' --base-url '$BASE_URL' 2>&1"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Piped answer."* ]]
	[[ "$output" == *"turns: 1"* ]]
}

@test "chat rejects a task argument and exec-only flags" {
	run "$COWORKER" chat "a task"
	[ "$status" -eq 2 ]
	[[ "$output" == *"chat takes no task argument"* ]]
	run "$COWORKER" chat --json
	[ "$status" -eq 2 ]
	[[ "$output" == *"chat does not take --json"* ]]
}

# slash_scenario: a todo list, an allowed command, an answer; then one
# answer after /config model and one after /clear.
slash_scenario() {
	response_tool "$TOP/scenario/t0.json" call_todo0000000000000001 \
		todo_write '{"todos":[{"content":"Count the notes","status":"completed"},{"content":"Report back","status":"in_progress"}]}'
	response_tool "$TOP/scenario/t1.json" call_wc000000000000000001 \
		run_command '{"command":"wc -c notes.txt"}'
	response_text "$TOP/scenario/t2.json" "Todo written."
	response_text "$TOP/scenario/t3.json" "Model switched."
	response_text "$TOP/scenario/t4.json" "Fresh start."
	scenario '{"response": "t0.json"}' '{"response": "t1.json"}' \
		'{"response": "t2.json"}' \
		'{"response": "t3.json", "contains": ["First task text", "Second task text"]}' \
		'{"response": "t4.json", "contains": ["Third task text"], "lacks": ["First task text"]}'
	start_server "$TOP/scenario/scenario.json"
}

@test "slash commands show and change the session" {
	echo "some notes" > "$WS/notes.txt"
	mkdir -p "$XDG_CONFIG_HOME/coworker/skills/tidy-notes"
	printf -- '---\nname: tidy-notes\ndescription: Tidy the notes file.\n---\nTidy.\n' \
		> "$XDG_CONFIG_HOME/coworker/skills/tidy-notes/SKILL.md"
	slash_scenario
	start_chat

	type_line "/help"
	wait_pane "/compact"
	type_line "First task text"
	wait_pane "Todo written."
	type_line "/todo"
	wait_count "[>] Report back" 2
	wait_count "[x] Count the notes" 2

	type_line "/skills"
	wait_pane "tidy-notes: Tidy the notes file."
	type_line "/policy"
	wait_pane "recent decisions (1 in this session):"
	pane | grep -qF "rules (deny beats ask beats allow"
	pane | grep -qE "allow +run_command +wc -c notes.txt  \(policy\)"
	type_line "/cost"
	wait_pane "turns: 3"
	pane | grep -qF "tokens: 350 in, 50 out, 400 total"

	type_line "/config"
	wait_pane "provider:  openai"
	type_line "/config mode read-only"
	wait_pane "[read-only] gpt-4o"
	type_line "/config model gpt-test"
	wait_pane "[read-only] gpt-test"
	type_line "/config provider anthropic"
	wait_pane "the provider stays openai: no API key: ANTHROPIC_API_KEY"
	type_line "Second task text"
	wait_pane "Model switched."

	type_line "/compact"
	wait_pane "nothing to compact"
	type_line "/clear"
	wait_pane "the conversation was cleared"
	type_line "Third task text"
	wait_pane "Fresh start."
	type_line "/bogus"
	wait_pane "coworker: unknown command; type /help for the list"
	type_line "/exit"
	wait_pane "chat-exit=0"
	stop_server

	python3 - "$RECORD_DIR" <<'PY'
import json, sys
d = sys.argv[1]
assert json.load(open(d + "/turn2.request.json"))["model"] == "gpt-4o"
assert json.load(open(d + "/turn3.request.json"))["model"] == "gpt-test"
PY
	audit_lines "$TOP/audit.jsonl" policy_reload mode read-only | grep -q read-only
	audit_lines "$TOP/audit.jsonl" set_model model gpt-test | grep -q gpt-test
	audit_lines "$TOP/audit.jsonl" clear | grep -q clear
	# /compact is its own request: one "compact", one "compact_done",
	# and a task_done for each of the three tasks only.
	[ "$(audit_lines "$TOP/audit.jsonl" compact | wc -l)" -eq 1 ]
	[ "$(audit_lines "$TOP/audit.jsonl" compact_done | wc -l)" -eq 1 ]
	[ "$(audit_lines "$TOP/audit.jsonl" task | wc -l)" -eq \
	  "$(audit_lines "$TOP/audit.jsonl" task_done | wc -l)" ]
}

@test "untrusted project is asked about once at start" {
	mkdir -p "$WS/.coworker"
	echo '{"allow": ["Exec(date -u)"]}' > "$WS/.coworker/policy.json"
	one_command_scenario "date -u"
	start_shell
	tm send-keys -t "$TMUX_NAME" "'$COWORKER' chat -C '$WS' --audit" \
		" '$TOP/audit.jsonl' --base-url '$BASE_URL'; echo chat-exit=\$?" Enter
	wait_pane "Trust this project? [y/n]"
	key y
	wait_pane "] gpt-4o"
	type_line "What is the time?"
	wait_pane "Finished the task."
	[ "$(count_in_pane 'Approval needed')" -eq 0 ]
	key C-d
	wait_pane "chat-exit=0"
	grep -qF "$WS" "$XDG_CONFIG_HOME/coworker/trusted-projects.json"
	audit_lines "$TOP/audit.jsonl" session_start | grep -q '"project_trusted": true'
}

@test "declined project trust keeps its allow rules inactive" {
	mkdir -p "$WS/.coworker"
	echo '{"allow": ["Exec(date -u)"]}' > "$WS/.coworker/policy.json"
	one_command_scenario "date -u"
	start_shell
	tm send-keys -t "$TMUX_NAME" "'$COWORKER' chat -C '$WS' --audit" \
		" '$TOP/audit.jsonl' --base-url '$BASE_URL'; echo chat-exit=\$?" Enter
	wait_pane "Trust this project? [y/n]"
	key n
	wait_pane "] gpt-4o"
	type_line "What is the time?"
	wait_pane "Allow? [y]"
	key y
	wait_pane "Finished the task."
	key C-d
	wait_pane "chat-exit=0"
	[ ! -e "$XDG_CONFIG_HOME/coworker/trusted-projects.json" ]
}

@test "worker crash ends the session and restores the terminal" {
	response_text "$TOP/scenario/t0.json" \
		"$(python3 -c 'print(" ".join("word%d" % i for i in range(400)))')"
	scenario '{"response": "t0.json", "fault": "stall-mid-stream"}'
	start_server "$TOP/scenario/scenario.json"
	start_shell
	key "stty -a > '$TOP/stty.before'" Enter
	start_chat_in_shell
	type_line "Say something long"
	wait_pane "word10 "
	local shell_pid chat_pid worker_pid
	shell_pid=$(tm display-message -p -t "$TMUX_NAME" '#{pane_pid}')
	chat_pid=$(pgrep -P "$shell_pid" -x coworker)
	worker_pid=$(pgrep -P "$chat_pid" -x coworker-worker)
	[ -n "$worker_pid" ]
	kill -KILL "$worker_pid"
	wait_pane "the worker ended before finishing the task (killed by signal 9"
	wait_pane "chat-exit=3"
	key "stty -a > '$TOP/stty.after'" Enter
	for _ in $(seq 1 100); do
		[ -s "$TOP/stty.after" ] && break
		sleep 0.1
	done
	diff "$TOP/stty.before" "$TOP/stty.after"
}
