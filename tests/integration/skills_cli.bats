#!/usr/bin/env bats
# "coworker skills list|show|check" on the shipped skills, a user folder
# in a private XDG_CONFIG_HOME and a workspace's project skills.

load helpers

SRC=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup() {
	setup_workspace
	export XDG_CONFIG_HOME=$TOP/config
	mkdir -p "$XDG_CONFIG_HOME/coworker/skills"
}

teardown() {
	teardown_workspace
}

# skill DIR NAME DESCRIPTION: write DIR/NAME/SKILL.md.
skill() {
	mkdir -p "$1/$2"
	printf -- '---\nname: %s\ndescription: %s\n---\n# %s\nBody of %s.\n' \
		"$2" "$3" "$2" "$2" > "$1/$2/SKILL.md"
}

@test "skills check passes on the shipped skills" {
	run "$COWORKER" skills check "$SRC/skills"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"10 valid skills, 0 invalid"* ]]
}

@test "skills check accepts the real fixture skills" {
	run "$COWORKER" skills check "$SRC/tests/fixtures/skills"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"3 valid skills, 0 invalid"* ]]
	[[ "$output" == *"note: "*"SKILL.md:10: key \"user-invocable\""* ]]
}

@test "skills check reports file:line and exits 1" {
	mkdir -p "$TOP/bad/wrong-name"
	printf -- '---\nname: right-name\ndescription: d\n---\n' \
		> "$TOP/bad/wrong-name/SKILL.md"
	skill "$TOP/bad" fine "A valid one."
	run "$COWORKER" skills check "$TOP/bad"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$TOP/bad/wrong-name/SKILL.md:2: name \"right-name\" does not match its folder"* ]]
	[[ "$output" == *"1 valid skill, 1 invalid"* ]]
}

@test "skills check takes a single skill folder" {
	skill "$TOP/one" solo "Only one."
	run "$COWORKER" skills check "$TOP/one/solo"
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 valid skill, 0 invalid"* ]]
}

@test "skills list shows shipped skills and overrides" {
	skill "$XDG_CONFIG_HOME/coworker/skills" commit-messages "My own commit style."
	skill "$WS/.coworker/skills" project-only "Only in this project."
	run "$COWORKER" skills list -C "$WS" --trust-project
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"security-review"*"shipped"* ]]
	[[ "$output" == *"commit-messages"*"user"*"My own commit style. (overrides shipped)"* ]]
	[[ "$output" == *"project-only"*"project"*"Only in this project."* ]]
	[ "$(echo "$output" | wc -l)" -eq 11 ]
}

@test "skills list warns about a bad skill and keeps the rest" {
	mkdir -p "$WS/.claude/skills/broken"
	printf 'no front matter\n' > "$WS/.claude/skills/broken/SKILL.md"
	run "$COWORKER" skills list -C "$WS" --trust-project
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"broken/SKILL.md:1: missing front matter"* ]]
	[[ "$output" == *"systematic-debugging"* ]]
}

@test "skills show prints fields and body" {
	run "$COWORKER" skills show coworker-policy -C "$WS"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"name:           coworker-policy"* ]]
	[[ "$output" == *"source:         shipped"* ]]
	[[ "$output" == *"# Writing a coworker policy"* ]]
}

@test "skills show of an unknown name fails" {
	run "$COWORKER" skills show no-such-skill -C "$WS"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no skill named \"no-such-skill\""* ]]
}

@test "skills with a bad subcommand is a usage error" {
	run "$COWORKER" skills frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: coworker skills"* ]]
}

@test "skills list leaves out an untrusted project's skills" {
	mkdir -p "$WS/.coworker/skills/project-only"
	printf -- '---\nname: project-only\ndescription: Only in this project.\n---\nBody.\n' \
		> "$WS/.coworker/skills/project-only/SKILL.md"
	run "$COWORKER" skills list -C "$WS"
	[ "$status" -eq 0 ]
	[[ "$output" != *"project-only"* ]]
	[[ "$output" == *"not listed until you trust the project"* ]]
}
