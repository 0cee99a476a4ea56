#!/usr/bin/env bats
# Skills in whole sessions: the skills list in the system prompt, load_skill
# through the supervisor, Skill(...) rules, project trust and the
# allowed-tools narrowing. The real supervisor and worker talk to the
# replay model server on 127.0.0.1.

load helpers

SRC=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup() {
	setup_workspace
	# A private configuration: no user skills, policy or trust records.
	export XDG_CONFIG_HOME=$TOP/config
	mkdir -p "$XDG_CONFIG_HOME"
}

teardown() {
	teardown_workspace
}

# scenario JSON: write the scenario file; responses are named t0.json ...
scenario() {
	printf '%s\n' "$1" > "$TOP/scenario/scenario.json"
}

# project_skill NAME DESCRIPTION [ALLOWED_TOOLS]: a skill in the workspace.
project_skill() {
	local dir=$WS/.coworker/skills/$1
	mkdir -p "$dir"
	{
		printf -- '---\nname: %s\ndescription: %s\n' "$1" "$2"
		[ -n "${3:-}" ] && printf 'allowed-tools: %s\n' "$3"
		printf -- '---\n# %s\nProject rule: answer in haiku.\n' "$1"
	} > "$dir/SKILL.md"
}

run_session() {
	OPENAI_API_KEY=sk-test-skills-0123456789 run "$COWORKER" exec \
		-C "$WS" --audit "$TOP/audit.jsonl" --base-url "$BASE_URL" \
		--model gpt-4o "$@"
}

start_recording_server() {
	"$BUILD/replay-server" --scenario "$1" --port-file "$TOP/port" \
		--record "$TOP/rec" 2> "$TOP/server.log" &
	SERVER_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$TOP/port" ] && break
		sleep 0.05
	done
	[ -s "$TOP/port" ] || { cat "$TOP/server.log" >&2; return 1; }
	PORT=$(cat "$TOP/port")
	BASE_URL=http://127.0.0.1:$PORT/v1
}

# system_prompt FILE: the system message of a recorded request.
system_prompt() {
	python3 - "$1" <<'PY'
import json, sys
body = json.load(open(sys.argv[1]))
print(body["messages"][0]["content"])
PY
}

# tool_names FILE: the tools a recorded request offers, one per line.
tool_names() {
	python3 - "$1" <<'PY'
import json, sys
for tool in json.load(open(sys.argv[1]))["tools"]:
    print(tool["function"]["name"])
PY
}

@test "model sees skills, loads a shipped one and answers" {
	line=$(grep -m1 '^# ' "$SRC/skills/commit-messages/SKILL.md")
	response_tool "$TOP/scenario/t0.json" call_skill00000000000000001 \
		load_skill '{"name":"commit-messages"}'
	response_text "$TOP/scenario/t1.json" "Subject: Fix the parser."
	scenario '{"turns": [{"response": "t0.json"},
	  {"response": "t1.json", "expect": [
	    {"tool_call_id": "call_skill00000000000000001",
	     "contains": "'"$line"'"}]}]}'
	start_recording_server "$TOP/scenario/scenario.json"

	run_session "Write a commit message"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Subject: Fix the parser."* ]]
	stop_server

	prompt=$(system_prompt "$TOP/rec/turn0.request.json")
	[[ "$prompt" == *"call load_skill"* ]]
	[[ "$prompt" == *"- commit-messages: Write clear commit messages"* ]]
	[[ "$prompt" == *"- security-review: "* ]]
	# Only names and descriptions: no skill's instructions.
	[[ "$prompt" != *"$line"* ]]
	tool_names "$TOP/rec/turn0.request.json" | grep -qx load_skill

	audit_lines "$TOP/audit.jsonl" session_start | grep -q '"skills": 10'
	audit_lines "$TOP/audit.jsonl" decision tool load_skill |
		grep -q '"subject": "commit-messages".*"decision": "allow"'
	audit_lines "$TOP/audit.jsonl" result tool load_skill |
		grep -q '"source": "shipped".*"ok": true'
	audit_lines "$TOP/audit.jsonl" result tool load_skill |
		grep -q '"sha256": "[0-9a-f]\{64\}"'
	run "$COWORKER" audit verify "$TOP/audit.jsonl"
	[ "$status" -eq 0 ]
}

@test "long skills list is cut at 16 KiB" {
	desc=$(printf 'Long description %.0s' $(seq 1 50))
	for i in $(seq -w 1 40); do
		mkdir -p "$XDG_CONFIG_HOME/coworker/skills/user-skill-$i"
		printf -- '---\nname: user-skill-%s\ndescription: %s\n---\nBody.\n' \
			"$i" "$desc" > "$XDG_CONFIG_HOME/coworker/skills/user-skill-$i/SKILL.md"
	done
	response_text "$TOP/scenario/t0.json" "Fine."
	scenario '{"turns": [{"response": "t0.json"}]}'
	start_recording_server "$TOP/scenario/scenario.json"

	run_session "Nothing"
	echo "$output"
	[ "$status" -eq 0 ]
	stop_server
	system_prompt "$TOP/rec/turn0.request.json" > "$TOP/prompt.txt"
	grep -q -- '- user-skill-01: Long description' "$TOP/prompt.txt"
	grep -q -- '^- ([0-9]* more skills are not listed: the list is limited to 16384 bytes)$' \
		"$TOP/prompt.txt"
	! grep -q -- '- user-skill-40:' "$TOP/prompt.txt"
	audit_lines "$TOP/audit.jsonl" session_start | grep -q '"skills": 50'
}

@test "Skill deny rule stops the load" {
	response_tool "$TOP/scenario/t0.json" call_skill00000000000000002 \
		load_skill '{"name":"commit-messages"}'
	response_text "$TOP/scenario/t1.json" "The skill was denied."
	scenario '{"turns": [{"response": "t0.json"},
	  {"response": "t1.json", "expect": [
	    {"tool_call_id": "call_skill00000000000000002",
	     "contains": "error: denied by rule \"Skill(commit-messages)\""}]}]}'
	start_server "$TOP/scenario/scenario.json"

	run_session --deny 'Skill(commit-messages)' "Write a commit message"
	echo "$output"
	[ "$status" -eq 6 ]
	stop_server
	audit_lines "$TOP/audit.jsonl" decision tool load_skill |
		grep -q '"decision": "deny", "rule": "Skill(commit-messages)"'
	audit_lines "$TOP/audit.jsonl" session_end | grep -q '"denials": 1'
}

@test "Skill ask rule is denied in headless mode" {
	response_tool "$TOP/scenario/t0.json" call_skill00000000000000003 \
		load_skill '{"name":"security-review"}'
	response_text "$TOP/scenario/t1.json" "No review."
	scenario '{"turns": [{"response": "t0.json"},
	  {"response": "t1.json", "expect": [
	    {"tool_call_id": "call_skill00000000000000003",
	     "contains": "rule \"Skill(security-*)\" asks for approval and headless mode answers ask with deny"}]}]}'
	start_server "$TOP/scenario/scenario.json"

	run_session --ask 'Skill(security-*)' "Review"
	[ "$status" -eq 6 ]
	stop_server
}

@test "unknown skill name is an error for the model" {
	response_tool "$TOP/scenario/t0.json" call_skill00000000000000004 \
		load_skill '{"name":"no-such-skill"}'
	response_text "$TOP/scenario/t1.json" "There is no such skill."
	scenario '{"turns": [{"response": "t0.json"},
	  {"response": "t1.json", "expect": [
	    {"tool_call_id": "call_skill00000000000000004",
	     "contains": "error: no skill named \"no-such-skill\""}]}]}'
	start_server "$TOP/scenario/scenario.json"

	run_session "Use it"
	[ "$status" -eq 0 ]
	stop_server
	audit_lines "$TOP/audit.jsonl" result tool load_skill |
		grep -q '"ok": false'
}

@test "project skill counts only in a trusted project" {
	project_skill team-style "House style for this team's answers."
	response_tool "$TOP/scenario/t0.json" call_skill00000000000000005 \
		load_skill '{"name":"team-style"}'
	response_text "$TOP/scenario/t1.json" "Done."
	scenario '{"turns": [{"response": "t0.json"},
	  {"response": "t1.json", "expect": [
	    {"tool_call_id": "call_skill00000000000000005",
	     "contains": "error: no skill named \"team-style\""}]}]}'
	start_recording_server "$TOP/scenario/scenario.json"

	run_session "Answer in house style"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"skills stay inactive until you trust the project"* ]]
	stop_server
	! system_prompt "$TOP/rec/turn0.request.json" | grep -q team-style
	audit_lines "$TOP/audit.jsonl" session_start |
		grep -q '"untrusted_skill_roots": 1'

	rm -rf "$TOP/rec" "$TOP/port" "$TOP/audit.jsonl"
	scenario '{"turns": [{"response": "t0.json"},
	  {"response": "t1.json", "expect": [
	    {"tool_call_id": "call_skill00000000000000005",
	     "contains": "Project rule: answer in haiku."}]}]}'
	start_recording_server "$TOP/scenario/scenario.json"

	run_session --trust-project "Answer in house style"
	echo "$output"
	[ "$status" -eq 0 ]
	stop_server
	system_prompt "$TOP/rec/turn0.request.json" |
		grep -q -- '- team-style: House style'
	audit_lines "$TOP/audit.jsonl" result tool load_skill |
		grep -q '"source": "project"'
}

@test "skill file loads and a path out of the skill is rejected" {
	project_skill with-files "Has a reference file."
	printf 'Checklist item one.\n' > "$WS/.coworker/skills/with-files/checklist.md"
	echo "outside the skill" > "$WS/.coworker/skills/secret.md"
	response_tool "$TOP/scenario/t0.json" call_skill00000000000000006 \
		load_skill '{"name":"with-files","file":"checklist.md"}'
	response_tool "$TOP/scenario/t1.json" call_skill00000000000000007 \
		load_skill '{"name":"with-files","file":"../secret.md"}'
	response_text "$TOP/scenario/t2.json" "Done."
	scenario '{"turns": [{"response": "t0.json"},
	  {"response": "t1.json", "expect": [
	    {"tool_call_id": "call_skill00000000000000006",
	     "contains": "Checklist item one."}]},
	  {"response": "t2.json", "expect": [
	    {"tool_call_id": "call_skill00000000000000007",
	     "contains": "error: skill with-files/../secret.md: the path leads outside its folder"}]}]}'
	start_server "$TOP/scenario/scenario.json"

	run_session --trust-project "Use the checklist"
	echo "$output"
	[ "$status" -eq 0 ]
	stop_server
	audit_lines "$TOP/audit.jsonl" decision tool load_skill |
		grep -q '"subject": "with-files/checklist.md"'
}

@test "allowed-tools narrows commands while the skill is active" {
	project_skill read-only-review "Review without changing anything." Read
	echo "hello" > "$WS/notes.txt"
	response_tool "$TOP/scenario/t0.json" call_skill00000000000000008 \
		run_command '{"command":"ls"}'
	response_tool "$TOP/scenario/t1.json" call_skill00000000000000009 \
		load_skill '{"name":"read-only-review"}'
	response_tool "$TOP/scenario/t2.json" call_skill00000000000000010 \
		run_command '{"command":"ls"}'
	response_tool "$TOP/scenario/t3.json" call_skill00000000000000011 \
		read_file '{"path":"notes.txt"}'
	response_text "$TOP/scenario/t4.json" "Reviewed."
	scenario '{"turns": [{"response": "t0.json"},
	  {"response": "t1.json", "expect": [
	    {"tool_call_id": "call_skill00000000000000008",
	     "contains": "notes.txt"}]},
	  {"response": "t2.json", "expect": [
	    {"tool_call_id": "call_skill00000000000000009",
	     "contains": "Project rule: answer in haiku."}]},
	  {"response": "t3.json", "expect": [
	    {"tool_call_id": "call_skill00000000000000010",
	     "contains": "denied: skill \"read-only-review\" is active and its allowed-tools (Read) do not cover Exec(ls)"}]},
	  {"response": "t4.json", "expect": [
	    {"tool_call_id": "call_skill00000000000000011",
	     "contains": "hello"}]}]}'
	start_server "$TOP/scenario/scenario.json"

	run_session --trust-project --allow 'Exec(ls)' "Review"
	echo "$output"
	[ "$status" -eq 6 ]
	stop_server
	audit_lines "$TOP/audit.jsonl" decision tool run_command |
		grep '"decision": "allow"' | grep -q '"subject": "ls"'
	audit_lines "$TOP/audit.jsonl" decision skill read-only-review |
		grep -q '"decision": "deny".*"asked": true'
	audit_lines "$TOP/audit.jsonl" session_end | grep -q '"denials": 1'
}
