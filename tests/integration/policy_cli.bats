#!/usr/bin/env bats
# `coworker policy check|explain|show|trust` as a user runs them, with a
# private home and configuration directory in a temporary folder.

BUILD=${COWORKER_BUILD:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/build}
COWORKER=$BUILD/coworker

load unprivileged

setup() {
	TOP=$(mktemp -d /tmp/cw-policy-XXXXXX)
	WS=$TOP/ws
	mkdir -p "$WS/.coworker" "$TOP/home" "$TOP/config/coworker"
	export HOME=$TOP/home
	export XDG_CONFIG_HOME=$TOP/config
	USER_FILE=$XDG_CONFIG_HOME/coworker/policy.json
}

teardown() {
	[ -n "${TOP:-}" ] && rm -rf "$TOP"
}

# json_get JSON EXPR: evaluate a Python expression over the parsed JSON j.
json_get() {
	python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

@test "check passes a clean project file" {
	cat > "$WS/.coworker/policy.json" <<'JSON'
{
  "allow": ["Exec(make:*)", "Read(src/**)"],
  "deny": ["Exec(curl:*)"],
  "examples": {"allow": ["Exec(make test)"], "deny": ["Exec(curl -s x)"]}
}
JSON
	cd "$WS"
	run "$COWORKER" policy check
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 file checked, no problems"* ]]
}

@test "check reports unknown key at its position" {
	printf '{\n  "allow": [],\n  "denied": ["Read"]\n}\n' > "$TOP/p.json"
	run "$COWORKER" policy check "$TOP/p.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$TOP/p.json:3:3: unknown key \"denied\""* ]]
}

@test "check reports every bad rule with line and column" {
	cat > "$TOP/p.json" <<'JSON'
{
  "allow": ["Raed(src/**)",
            "Read(a[b)"],
  "deny": ["Net(x:99999)"]
}
JSON
	run "$COWORKER" policy check "$TOP/p.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"p.json:2:13: \"allow\"[0]: unknown tool \"Raed\""* ]]
	[[ "$output" == *"p.json:3:13: \"allow\"[1]: rule \"Read(a[b)\": unclosed"* ]]
	[[ "$output" == *"p.json:4:12: \"deny\"[0]: rule \"Net(x:99999)\": invalid port"* ]]
}

@test "check reports shadowed and dead rules" {
	cat > "$TOP/p.json" <<'JSON'
{
  "allow": ["Exec(git:*)", "Exec(git status)", "Read(keys/*.pem)",
            "Write(build/out.txt)"],
  "deny": ["Write(build/**)"]
}
JSON
	run "$COWORKER" policy check "$TOP/p.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"p.json:2:28: rule \"Exec(git status)\" is shadowed by the broader rule \"Exec(git:*)\""* ]]
	[[ "$output" == *"p.json:2:48: rule \"Read(keys/*.pem)\" can never take effect: \"**/*.pem\" is on the built-in protected list"* ]]
	[[ "$output" == *"p.json:3:13: rule \"Write(build/out.txt)\" can never take effect: the broader deny rule \"Write(build/**)\""* ]]
}

@test "check reports a failing example" {
	cat > "$TOP/p.json" <<'JSON'
{
  "allow": ["Exec(find:*)"],
  "examples": {
    "allow": ["Exec(find . -name '*.c')", "Exec(find . -delete)"]
  }
}
JSON
	run "$COWORKER" policy check "$TOP/p.json"
	[ "$status" -eq 1 ]
	[[ "$output" == *"p.json:4:43: example \"Exec(find . -delete)\" expects allow but gets ask"* ]]
	[[ "$output" != *"name '*.c'"* ]]
}

@test "check rejects unprotect in a project file" {
	echo '{"unprotect": ["**/.env"]}' > "$WS/.coworker/policy.json"
	cd "$WS"
	run "$COWORKER" policy check
	[ "$status" -eq 1 ]
	[[ "$output" == *"policy.json:1:2: \"unprotect\" is accepted only in the user file"* ]]
}

@test "check with no files says so" {
	cd "$WS"
	run "$COWORKER" policy check
	[ "$status" -eq 0 ]
	[[ "$output" == *"no policy files found"* ]]
}

@test "explain names rule file and line per command" {
	printf '{\n  "allow": ["Exec(make)"],\n  "deny": ["Exec(rm:*)"]\n}\n' > "$TOP/p.json"
	run "$COWORKER" policy explain -C "$WS" --policy "$TOP/p.json" \
		'Exec(rm -rf build && make)'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "deny Exec(rm -rf build && make)" ]]
	[[ "$output" == *"denied by rule \"Exec(rm:*)\" in $TOP/p.json:3:12"* ]]
	[[ "$output" == *"allowed by rule \"Exec(make)\" in $TOP/p.json:2:13"* ]]
}

@test "explain json lists the parts" {
	printf '{\n  "allow": ["Exec(make)"],\n  "deny": ["Write(dist/**)"]\n}\n' > "$TOP/p.json"
	run "$COWORKER" policy explain -C "$WS" --json --policy "$TOP/p.json" \
		'Exec(make > dist/log.txt)'
	[ "$status" -eq 0 ]
	[ "$(json_get "$output" 'j["decision"]')" = deny ]
	[ "$(json_get "$output" 'len(j["parts"])')" = 2 ]
	[ "$(json_get "$output" 'j["parts"][0]["kind"]')" = command ]
	[ "$(json_get "$output" 'j["parts"][0]["rule"]')" = "Exec(make)" ]
	[ "$(json_get "$output" 'j["parts"][0]["line"]')" = 2 ]
	[ "$(json_get "$output" 'j["parts"][1]["kind"]')" = write ]
	[ "$(json_get "$output" 'j["parts"][1]["subject"]')" = dist/log.txt ]
	[ "$(json_get "$output" 'j["parts"][1]["decision"]')" = deny ]
	[ "$(json_get "$output" 'j["parts"][1]["file"]')" = "$TOP/p.json" ]
}

@test "explain judges a wrapped program too" {
	run "$COWORKER" policy explain -C "$WS" --json --allow 'Exec(xargs:*)' \
		--deny 'Exec(rm:*)' 'Exec(find . -name x | xargs rm -f)'
	[ "$status" -eq 0 ]
	[ "$(json_get "$output" 'j["decision"]')" = deny ]
	[ "$(json_get "$output" '[p["subject"] for p in j["parts"]]')" = "['find . -name x', 'xargs rm -f', 'rm -f']" ]
}

@test "explain takes command-line rules and presets" {
	run "$COWORKER" policy explain -C "$WS" --mode read-only 'Write(a.txt)'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "deny Write(a.txt)" ]]
	[[ "$output" == *"preset read-only"* ]]
	run "$COWORKER" policy explain -C "$WS" --allow 'Net(*.example.com:443)' \
		'Net(api.example.com:443)'
	[[ "${lines[0]}" == "allow Net(api.example.com:443)" ]]
	[[ "$output" == *"in --allow"* ]]
}

@test "explain protects secrets before every layer" {
	run "$COWORKER" policy explain -C "$WS" --mode full-access \
		--allow 'Read(**)' 'Read(config/.env)'
	[[ "${lines[0]}" == "deny Read(config/.env)" ]]
	[[ "$output" == *"built-in protected list"* ]]
	run "$COWORKER" policy explain -C "$WS" "Read($HOME/.ssh/id_ed25519)"
	[[ "${lines[0]}" == "deny Read($HOME/.ssh/id_ed25519)" ]]
}

@test "user file can unprotect an entry" {
	echo '{"unprotect": ["**/.env"]}' > "$USER_FILE"
	run "$COWORKER" policy explain -C "$WS" 'Read(.env)'
	[[ "${lines[0]}" == "allow Read(.env)" ]]
	run "$COWORKER" policy show -C "$WS"
	[[ "$output" == *"unprotected by the user file: **/.env"* ]]
}

@test "untrusted project allow rules are inactive" {
	echo '{"allow": ["Exec(make:*)"], "deny": ["Exec(curl:*)"]}' > "$WS/.coworker/policy.json"
	run "$COWORKER" policy explain -C "$WS" 'Exec(make)'
	[[ "${lines[0]}" == "ask Exec(make)" ]]
	[[ "$output" == *"a project allow rule would, but it is inactive until you trust the project"* ]]
	run "$COWORKER" policy explain -C "$WS" 'Exec(curl x)'
	[[ "${lines[0]}" == "deny Exec(curl x)" ]]
	run "$COWORKER" policy explain -C "$WS" --trust-project 'Exec(make)'
	[[ "${lines[0]}" == "allow Exec(make)" ]]
	run "$COWORKER" policy show -C "$WS"
	[[ "$output" == *"not trusted"* ]]
	[[ "$output" == *"Exec(make:*)"*"[inactive: project not trusted]"* ]]
}

@test "recorded trust lapses when the file changes" {
	echo '{"allow": ["Exec(make:*)"]}' > "$WS/.coworker/policy.json"
	run "$COWORKER" policy trust -C "$WS"
	[ "$status" -eq 0 ]
	[ -f "$XDG_CONFIG_HOME/coworker/trusted-projects.json" ]
	run "$COWORKER" policy explain -C "$WS" 'Exec(make)'
	[[ "${lines[0]}" == "allow Exec(make)" ]]
	echo '{"allow": ["Exec(make:*)", "Exec(curl:*)"]}' > "$WS/.coworker/policy.json"
	run "$COWORKER" policy explain -C "$WS" 'Exec(make)'
	[[ "${lines[0]}" == "ask Exec(make)" ]]
}

@test "trust creates a missing configuration directory" {
	echo '{"allow": ["Exec(make:*)"]}' > "$WS/.coworker/policy.json"
	export XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/fresh-home/.config"
	[ ! -e "$BATS_TEST_TMPDIR/fresh-home" ]
	run "$COWORKER" policy trust -C "$WS"
	[ "$status" -eq 0 ]
	[ -f "$XDG_CONFIG_HOME/coworker/trusted-projects.json" ]
	run "$COWORKER" policy explain -C "$WS" 'Exec(make)'
	[[ "${lines[0]}" == "allow Exec(make)" ]]
}

@test "damaged trust record is an error and kept" {
	mkdir -p "$TOP/other/.coworker"
	echo '{"allow": ["Exec(make:*)"]}' > "$WS/.coworker/policy.json"
	echo '{"allow": ["Exec(make:*)"]}' > "$TOP/other/.coworker/policy.json"
	run "$COWORKER" policy trust -C "$WS"
	[ "$status" -eq 0 ]
	local record=$XDG_CONFIG_HOME/coworker/trusted-projects.json
	# A trailing comma after the last entry.
	sed -i 's/"$/",/' "$record"
	cp "$record" "$TOP/record.before"

	run "$COWORKER" policy show -C "$WS"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$record:3:2: invalid JSON in the trust record"* ]]
	[[ "$output" == *"run 'coworker policy trust' again in each project you trust"* ]]
	run "$COWORKER" policy explain -C "$WS" 'Exec(make)'
	[ "$status" -eq 2 ]
	[[ "$output" == *"$record:3:2: invalid JSON"* ]]
	run "$COWORKER" policy trust -C "$TOP/other"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$record:3:2: invalid JSON"* ]]
	cmp "$record" "$TOP/record.before"

	rm "$record"
	run "$COWORKER" policy show -C "$WS"
	[ "$status" -eq 0 ]
	[[ "$output" == *"project policy: not trusted"* ]]
}

@test "trusted path in user file trusts project" {
	echo '{"allow": ["Exec(make:*)"]}' > "$WS/.coworker/policy.local.json"
	printf '{"trusted": ["%s"]}\n' "$WS" > "$USER_FILE"
	run "$COWORKER" policy explain -C "$WS" 'Exec(make)'
	[[ "${lines[0]}" == "allow Exec(make)" ]]
}

@test "project cannot lift a user deny" {
	echo '{"deny": ["Exec(git push:*)"]}' > "$USER_FILE"
	echo '{"allow": ["Exec(git push:*)"]}' > "$WS/.coworker/policy.json"
	run "$COWORKER" policy explain -C "$WS" --trust-project 'Exec(git push origin main)'
	[[ "${lines[0]}" == "deny Exec(git push origin main)" ]]
	[[ "$output" == *"$USER_FILE:1:11"* ]]
}

@test "show lists rules with their origin" {
	printf '{\n  "deny": ["Read(secrets/**)"]\n}\n' > "$WS/.coworker/policy.json"
	run "$COWORKER" policy show -C "$WS" --deny 'Exec(curl:*)'
	[ "$status" -eq 0 ]
	[[ "$output" == *"Read(secrets/**)"*"$WS/.coworker/policy.json:2:12 (project)"* ]]
	[[ "$output" == *"Exec(curl:*)"*"--deny (command line)"* ]]
	[[ "$output" == *"preset workspace-write (preset)"* ]]
	[[ "$output" == *"~/.ssh/**"* ]]
}

@test "bad layer options exit 2" {
	run "$COWORKER" policy explain -C "$WS" --mode everything 'Exec(ls)'
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown preset \"everything\""* ]]
	run "$COWORKER" policy explain -C "$WS" --allow 'Exec(a && b)' 'Exec(ls)'
	[ "$status" -eq 2 ]
	[[ "$output" == *"--allow Exec(a && b)"* ]]
	run "$COWORKER" policy frobnicate
	[ "$status" -eq 2 ]
}

@test "explain gives a hardlink the secret's decision" {
	echo 'TOKEN=abc' > "$WS/.env"
	ln "$WS/.env" "$WS/notes.txt"
	cd "$WS"
	run "$COWORKER" policy explain --allow Read --json 'Read(notes.txt)'
	[ "$status" -eq 0 ]
	[ "$(json_get "$output" 'j["decision"]')" = deny ]
	[[ "$(json_get "$output" 'j["parts"][0]["reason"]')" == *'"notes.txt" is a hardlink of a file the policy denies'* ]]
	[ "$(json_get "$output" 'j["parts"][0]["rule"]')" = '**/.env' ]
}

@test "explain asks before writing a linked file" {
	echo 'x' > "$WS/a.txt"
	ln "$WS/a.txt" "$WS/b.txt"
	cd "$WS"
	run "$COWORKER" policy explain --allow Write 'Write(b.txt)'
	[ "$status" -eq 0 ]
	[[ "$output" == *'ask Write(b.txt)'* ]]
	[[ "$output" == *'"b.txt" has 2 links; a write would change the other names too'* ]]
	run "$COWORKER" policy explain --allow Write 'Write(a2.txt)'
	[[ "$output" == *'allow Write(a2.txt)'* ]]
}

@test "explain reaches a root a rule names" {
	mkdir -p "$HOME/notes" "$TOP/elsewhere"
	echo 'milk' > "$HOME/notes/todo.md"
	echo 'no' > "$TOP/elsewhere/x.md"
	ln -s "$TOP/elsewhere/x.md" "$HOME/notes/escape.md"
	cd "$WS"
	run "$COWORKER" policy explain --allow 'Read(~/notes/**)' 'Read(~/notes/todo.md)'
	[[ "$output" == *'allow Read(~/notes/todo.md)'* ]]
	run "$COWORKER" policy explain --allow 'Read(~/notes/**)' 'Read(~/notes/escape.md)'
	[[ "$output" == *'deny Read(~/notes/escape.md)'* ]]
	[[ "$output" == *'outside the workspace'* ]]
	run "$COWORKER" policy explain --allow 'Read(~/notes/**)' "Read($TOP/elsewhere/x.md)"
	[[ "$output" == *"deny Read($TOP/elsewhere/x.md)"* ]]
}

@test "unreadable project file is named with its cause" {
	echo '{"allow": ["Exec(make:*)"]}' > "$WS/.coworker/policy.json"
	echo '{"allow": ["Exec(ls:*)"]}' > "$WS/.coworker/policy.local.json"
	use_unprivileged_user
	chmod 000 "$WS/.coworker/policy.json"
	run "${AS[@]}" "$COWORKER" policy show -C "$WS"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$WS/.coworker/policy.json: cannot read policy file: Permission denied"* ]]
	run "${AS[@]}" "$COWORKER" policy trust -C "$WS"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$WS/.coworker/policy.json: cannot read policy file: Permission denied"* ]]
	[ ! -e "$XDG_CONFIG_HOME/coworker/trusted-projects.json" ]

	chmod 644 "$WS/.coworker/policy.json"
	chmod 000 "$WS/.coworker/policy.local.json"
	run "${AS[@]}" "$COWORKER" policy show -C "$WS"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$WS/.coworker/policy.local.json: cannot read policy file: Permission denied"* ]]
}
