/*
 * Table-driven tests for the shell parser behind Exec decisions: the bash
 * grammar agents write, the risky-option table, wrapped programs and
 * redirection targets. Then every real agent command line from the
 * mini-swe-agent and SWE-agent trajectories is judged against one
 * reference policy. Those lines are copied verbatim, with their recorded
 * newline and backslash escapes written as C escapes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct decision_case {
	const char *command;
	enum policy_decision decision;
	const char *why;	/* part of the deciding rule's text or the reason */
};

static void add_all(struct policy *p, enum policy_decision d,
		    const char *const *rules)
{
	char err[1024];
	size_t i;

	for (i = 0; rules[i]; i++) {
		if (policy_add_rule(p, d, rules[i], "test", err,
				    sizeof(err)) < 0)
			fail_msg("rule \"%s\" rejected: %s", rules[i], err);
	}
}

static void check_cases(const struct policy *p,
			const struct decision_case *cases, size_t n)
{
	struct policy_verdict v;
	char got[4096];
	size_t i;

	for (i = 0; i < n; i++) {
		v = policy_decide_command(p, cases[i].command);
		snprintf(got, sizeof(got), "%s %s",
			 v.rule ? v.rule->text : "", v.reason ? v.reason : "");
		if (v.decision != cases[i].decision)
			fail_msg("case %zu \"%.200s\": expected %s, got %s (%s)",
				 i, cases[i].command,
				 policy_decision_name(cases[i].decision),
				 policy_decision_name(v.decision), got);
		if (!strstr(got, cases[i].why))
			fail_msg("case %zu \"%.200s\": expected \"%s\" in \"%s\"",
				 i, cases[i].command, cases[i].why, got);
	}
}

/* ---------- the bash grammar, wrappers and risky options ---------- */

static const char *const grammar_allow[] = {
	"Read", "Write", "Exec(ls:*)", "Exec(echo:*)", "Exec(make:*)",
	"Exec(git status)", "Exec(git diff:*)", "Exec(git log:*)",
	"Exec(find:*)", "Exec(find . -name '*.o' -delete)", "Exec(sed:*)",
	"Exec(xargs:*)", "Exec(grep:*)", "Exec(sort:*)", "Exec(env:*)",
	"Exec(timeout:*)", "Exec(nice:*)", "Exec(nohup:*)", "Exec(cat:*)",
	"Exec(tar:*)", "Exec(rg:*)", "Exec(awk:*)", "Exec(cd:*)",
	"Exec(wc:*)", "Exec(head:*)", "Exec(test:*)", "Exec(true)",
	"Exec(sed -i:*)", "Exec(python3 -m pytest:*)", "Exec(bash)", NULL,
};
static const char *const grammar_ask[] = { "Exec(npm publish:*)", NULL };
static const char *const grammar_deny[] = {
	"Exec(curl:*)", "Exec(rm -rf:*)", "Write(.git/**)", "Read(secrets/**)",
	NULL,
};

static const struct decision_case grammar_cases[] = {
	/* words, quoting, escapes */
	{ "ls -la", POLICY_ALLOW, "Exec(ls:*)" },
	{ "'ls' \"-la\"", POLICY_ALLOW, "Exec(ls:*)" },
	{ "l\\s", POLICY_ALLOW, "Exec(ls:*)" },
	{ "$'l\\x73' -l", POLICY_ALLOW, "Exec(ls:*)" },
	{ "$'\\143url' x", POLICY_DENY, "Exec(curl:*)" },
	{ "$'\\x63url' x", POLICY_DENY, "Exec(curl:*)" },
	{ "c'u'rl x", POLICY_DENY, "Exec(curl:*)" },
	{ "\"c\"url x", POLICY_DENY, "Exec(curl:*)" },
	{ "/usr/bin/curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "echo 'a; curl x'", POLICY_ALLOW, "Exec(echo:*)" },
	{ "echo \"a && curl x\"", POLICY_ALLOW, "Exec(echo:*)" },
	{ "echo a\\;curl x", POLICY_ALLOW, "Exec(echo:*)" },
	{ "git status", POLICY_ALLOW, "Exec(git status)" },
	{ "git status --short", POLICY_ASK, "no rule matches" },
	{ "git  diff   HEAD", POLICY_ALLOW, "Exec(git diff:*)" },
	{ "git diffx", POLICY_ASK, "no rule matches" },
	/* lists and pipelines */
	{ "ls && curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "ls || curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "ls; curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "ls | curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "ls |& curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "ls & curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "ls\ncurl x", POLICY_DENY, "Exec(curl:*)" },
	{ "ls | grep x | wc -l", POLICY_ALLOW, "Exec(ls:*)" },
	{ "make && make test || echo failed", POLICY_ALLOW, "Exec(make:*)" },
	/* subshells, braces, tests, arithmetic, loops */
	{ "(cd sub && make)", POLICY_ALLOW, "Exec(cd:*)" },
	{ "(curl x)", POLICY_DENY, "Exec(curl:*)" },
	{ "( (ls) )", POLICY_ALLOW, "Exec(ls:*)" },
	{ "{ ls; make; }", POLICY_ALLOW, "Exec(ls:*)" },
	{ "{ ls; curl x; }", POLICY_DENY, "Exec(curl:*)" },
	{ "[[ -f Makefile ]] && make", POLICY_ALLOW, "Exec(make:*)" },
	{ "[[ $x == a && $y < b ]] || make", POLICY_ALLOW, "Exec(make:*)" },
	{ "[[ -f a ]] && curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "[[ $(curl x) ]]", POLICY_DENY, "Exec(curl:*)" },
	{ "[[ -f a", POLICY_ASK, "closing ]]" },
	{ "((n = 1 + 2)) && make", POLICY_ALLOW, "Exec(make:*)" },
	{ "echo $((1 + 2))", POLICY_ALLOW, "Exec(echo:*)" },
	{ "echo $(( $(curl x) + 1 ))", POLICY_DENY, "Exec(curl:*)" },
	{ "echo $(( $(ls | wc -l) + 1 ))", POLICY_ASK, "command substitution" },
	{ "for f in a b; do echo $f; done", POLICY_ALLOW, "Exec(echo:*)" },
	{ "for f in *.c; do curl $f; done", POLICY_DENY, "Exec(curl:*)" },
	{ "for f in $(ls); do echo $f; done", POLICY_ASK, "command substitution" },
	{ "while true; do make; done", POLICY_ALLOW, "Exec(true)" },
	{ "if test -f a; then make; else echo no; fi", POLICY_ALLOW, "Exec(test:*)" },
	{ "if curl x; then ls; fi", POLICY_DENY, "Exec(curl:*)" },
	{ "! grep -q x f", POLICY_ALLOW, "Exec(grep:*)" },
	{ "case $x in a) ls;; esac", POLICY_ASK, "case" },
	{ "f() { ls; }; f", POLICY_ASK, "function definition" },
	{ "function f { ls; }", POLICY_ASK, "function" },
	{ "coproc ls", POLICY_ASK, "coproc" },
	/* expansions */
	{ "echo ${HOME}", POLICY_ALLOW, "Exec(echo:*)" },
	{ "echo ${X:-$(curl x)}", POLICY_ASK, "command substitution" },
	{ "$CMD x", POLICY_DENY, "Exec(curl:*)" },	/* it may be curl */
	{ "${CMD} x", POLICY_DENY, "Exec(curl:*)" },	/* it may be curl */
	{ "l$IFS-la", POLICY_DENY, "Exec(curl:*)" },	/* it may be curl */
	{ "ls$IFS-la", POLICY_DENY, "Exec(curl:*)" },	/* it may be curl */
	{ "cat$IFS/etc/passwd", POLICY_DENY, "Exec(curl:*)" },	/* it may be curl */
	{ "echo $(ls)", POLICY_ASK, "command substitution" },
	{ "echo `ls`", POLICY_ASK, "command substitution" },
	{ "echo $(curl x)", POLICY_DENY, "Exec(curl:*)" },
	{ "echo \"$(curl x)\"", POLICY_DENY, "Exec(curl:*)" },
	{ "diff <(ls a) <(ls b)", POLICY_ASK, "process substitution" },
	{ "ls {a,b}", POLICY_ALLOW, "Exec(ls:*)" },
	{ "c{u,x}rl x", POLICY_DENY, "Exec(curl:*)" },	/* it may be curl */
	{ "echo ~", POLICY_ALLOW, "Exec(echo:*)" },
	{ "eval ls", POLICY_ASK, "eval" },
	{ "bash -c 'ls'", POLICY_ASK, "sh -c" },
	{ "bash <<'EOF'\nls\nEOF", POLICY_ASK, "here-document" },
	{ "bash", POLICY_ALLOW, "Exec(bash)" },
	/* assignments */
	{ "CC=clang make", POLICY_ALLOW, "Exec(make:*)" },
	{ "A=1 B=\"x y\" make -j2", POLICY_ALLOW, "Exec(make:*)" },
	{ "PATH=/tmp make", POLICY_ASK, "PATH, LD_PRELOAD" },
	{ "LD_PRELOAD=/tmp/x.so ls", POLICY_ASK, "PATH, LD_PRELOAD" },
	{ "X=$(curl x) make", POLICY_DENY, "Exec(curl:*)" },
	{ "X=1", POLICY_DENY, "no program" },
	/* redirections and here-documents */
	{ "echo hi > out.txt", POLICY_ALLOW, "Exec(echo:*)" },
	{ "echo hi > .git/config", POLICY_DENY, "Write(.git/**)" },
	{ "echo hi >> .git/hooks/pre-commit", POLICY_DENY, "Write(.git/**)" },
	{ "echo hi 2> .git/x", POLICY_DENY, "Write(.git/**)" },
	{ "echo hi &> .git/x", POLICY_DENY, "Write(.git/**)" },
	{ "echo hi >& .git/x", POLICY_DENY, "Write(.git/**)" },
	{ "echo hi >| .git/x", POLICY_DENY, "Write(.git/**)" },
	{ "echo hi > a/../.git/x", POLICY_DENY, "Write(.git/**)" },
	{ "echo hi > ./.git/x", POLICY_DENY, "Write(.git/**)" },
	{ "cat < secrets/key.txt", POLICY_DENY, "Read(secrets/**)" },
	{ "cat 0< secrets/key.txt", POLICY_DENY, "Read(secrets/**)" },
	{ "cat <> secrets/x", POLICY_DENY, "Read(secrets/**)" },
	{ "echo hi > /etc/motd", POLICY_ASK, "no rule matches" },
	{ "echo hi > ../out", POLICY_ASK, "leaves the workspace" },
	{ "echo hi > $OUT", POLICY_ASK, "expansion" },
	{ "echo hi > /dev/null 2>&1", POLICY_ALLOW, "Exec(echo:*)" },
	{ "ls 2>&1 | head", POLICY_ALLOW, "Exec(ls:*)" },
	{ "cd sub && echo x > out", POLICY_ASK, "after \"cd\"" },
	{ "cat > a.py <<'EOF'\nimport os\nEOF", POLICY_ALLOW, "Exec(cat:*)" },
	{ "cat > .git/x <<EOF\nhi\nEOF", POLICY_DENY, "Write(.git/**)" },
	{ "cat <<EOF\n$(curl x)\nEOF", POLICY_DENY, "Exec(curl:*)" },
	{ "cat <<'EOF'\n$(curl x)\nEOF", POLICY_ALLOW, "Exec(cat:*)" },
	{ "cat <<-EOF\n\tcurl x\n\tEOF\nls", POLICY_ALLOW, "Exec(cat:*)" },
	{ "cat <<< 'curl x'", POLICY_ALLOW, "Exec(cat:*)" },
	{ "> out.txt", POLICY_DENY, "no program" },
	/* wrappers: the wrapped program is judged too */
	{ "env FOO=1 make", POLICY_ALLOW, "Exec(env:*)" },
	{ "env FOO=1 curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "env -i curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "env -u HOME npm publish", POLICY_ASK, "Exec(npm publish:*)" },
	{ "env -S 'curl x'", POLICY_ASK, "env -S" },
	{ "timeout 10 make test", POLICY_ALLOW, "Exec(timeout:*)" },
	{ "timeout -s KILL 10 curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "timeout 5 npm install", POLICY_ASK, "no rule matches" },
	{ "nice -n 10 make", POLICY_ALLOW, "Exec(nice:*)" },
	{ "nice -n 10 curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "nohup make &", POLICY_ALLOW, "Exec(nohup:*)" },
	{ "nohup rm -rf build", POLICY_DENY, "Exec(rm -rf:*)" },
	{ "nohup nice timeout 5 curl x", POLICY_DENY, "Exec(curl:*)" },
	{ "ls | xargs grep x", POLICY_ALLOW, "Exec(ls:*)" },
	{ "ls | xargs -n1 -I{} rm -rf {}", POLICY_DENY, "Exec(rm -rf:*)" },
	{ "ls | xargs -0 wc -l", POLICY_ALLOW, "Exec(ls:*)" },
	{ "ls | xargs", POLICY_ALLOW, "Exec(ls:*)" },
	{ "find . -name '*.c' -exec grep -l x {} +", POLICY_ASK, "find -exec runs another program" },
	{ "find . -exec rm -rf {} \\;", POLICY_DENY, "Exec(rm -rf:*)" },
	{ "find . -exec curl {} \\; -exec ls {} \\;", POLICY_DENY, "Exec(curl:*)" },
	{ "find . -name '*.c' -delete", POLICY_ASK, "find -delete removes files" },
	{ "find . -name '*.o' -delete", POLICY_ALLOW, "Exec(find . -name '*.o' -delete)" },
	{ "find . -fprint .git/list", POLICY_DENY, "Write(.git/**)" },
	{ "find . -name x -print", POLICY_ALLOW, "Exec(find:*)" },
	/* risky options need a rule that spells them out */
	{ "sed -n '1,5p' f", POLICY_ALLOW, "Exec(sed:*)" },
	{ "sed -i 's/a/b/' f", POLICY_ALLOW, "Exec(sed -i:*)" },
	{ "sed -ni 's/a/b/p' f", POLICY_ASK, "sed -i edits files" },
	{ "sed --in-place=.bak 's/a/b/' f", POLICY_ASK, "sed -i edits files" },
	{ "sed 's/a/b/w out' f", POLICY_ASK, "sed script writes files" },
	{ "sed 's/a/b/e' f", POLICY_ASK, "sed script writes files" },
	{ "sed -e '1e id' f", POLICY_ASK, "sed script writes files" },
	{ "sed '/x/w out' f", POLICY_ASK, "sed script writes files" },
	{ "sed 's/w/e/g' f", POLICY_ALLOW, "Exec(sed:*)" },
	{ "sed -f script.sed f", POLICY_ASK, "sed -f" },
	{ "sort -o out.txt in.txt", POLICY_ASK, "sort -o writes a file" },
	{ "sort -u in.txt", POLICY_ALLOW, "Exec(sort:*)" },
	{ "tar -czf a.tgz src", POLICY_ALLOW, "Exec(tar:*)" },
	{ "tar --to-command=sh -xf a.tar", POLICY_ASK, "tar option runs another program" },
	{ "tar -I 'sh -c id' -xf a.tar", POLICY_ASK, "tar option runs another program" },
	{ "tar --use-compress-program=x -cf a src", POLICY_ASK, "tar option" },
	{ "rg --pre ./x pattern", POLICY_ASK, "rg --pre runs a program" },
	{ "rg -n pattern src", POLICY_ALLOW, "Exec(rg:*)" },
	{ "git -c core.pager=sh log", POLICY_ASK, "no rule matches" },
	{ "git --config-env=core.pager=X log", POLICY_ASK, "no rule matches" },
	{ "git diff --output=.git/x", POLICY_DENY, "Write(.git/**)" },
	{ "git diff --output=out.diff", POLICY_ASK, "git option writes a file" },
	{ "git diff --ext-diff", POLICY_ASK, "git option" },
	{ "git log --oneline -5", POLICY_ALLOW, "Exec(git log:*)" },
	{ "awk '{print $1}' f", POLICY_ALLOW, "Exec(awk:*)" },
	{ "awk 'BEGIN{system(\"id\")}'", POLICY_ASK, "awk program runs commands" },
	{ "awk '{print | \"sh\"}' f", POLICY_ASK, "awk program runs commands" },
	{ "awk '{print > \"out\"}' f", POLICY_ASK, "awk program runs commands" },
	{ "awk -f prog.awk f", POLICY_ASK, "awk -f" },
	{ "python3 -m pytest -x tests", POLICY_ALLOW, "Exec(python3 -m pytest:*)" },
	{ "npm publish", POLICY_ASK, "Exec(npm publish:*)" },
	{ "rm -rf /", POLICY_DENY, "Exec(rm -rf:*)" },
	{ "rm -r -f /", POLICY_ASK, "no rule matches" },
};

/* Under Exec(git:*), the forms that run programs still need their own rule. */
static const struct decision_case git_cases[] = {
	{ "git log --oneline", POLICY_ALLOW, "Exec(git:*)" },
	{ "git -C sub status", POLICY_ALLOW, "Exec(git:*)" },
	{ "git -c core.pager=sh log", POLICY_ASK, "git -c" },
	{ "git -ccore.sshCommand=x fetch", POLICY_ASK, "git -c" },
	{ "git --config-env=core.pager=X log", POLICY_ASK, "git -c" },
	{ "git --exec-path=/tmp status", POLICY_ASK, "git -c" },
	{ "git difftool", POLICY_ASK, "git subcommand" },
	{ "git submodule foreach ls", POLICY_ASK, "git subcommand" },
	{ "git config core.pager sh", POLICY_ASK, "git subcommand" },
	{ "git rebase -x make main", POLICY_ASK, "git option runs another program" },
	{ "git grep -O x", POLICY_ASK, "git option runs another program" },
	{ "git fetch --upload-pack=x origin", POLICY_ASK, "git option" },
	{ "git format-patch --output=x.patch HEAD~1", POLICY_ASK, "git option" },
	{ "git -c x=y status", POLICY_ALLOW, "Exec(git -c x=y status)" },
};

static void test_git_risky_forms(void **state)
{
	static const char *const allow[] = { "Exec(git:*)",
					     "Exec(git -c x=y status)",
					     "Write", NULL };
	struct policy p;

	(void)state;
	policy_init(&p);
	add_all(&p, POLICY_ALLOW, allow);
	check_cases(&p, git_cases, ARRAY_LEN(git_cases));
	policy_free(&p);
}

static void test_grammar_table(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add_all(&p, POLICY_ALLOW, grammar_allow);
	add_all(&p, POLICY_ASK, grammar_ask);
	add_all(&p, POLICY_DENY, grammar_deny);
	check_cases(&p, grammar_cases, ARRAY_LEN(grammar_cases));
	policy_free(&p);
}

/* ---------- real agent command lines ---------- */

static const char *const agent_allow[] = {
	"Read", "Write", "Exec(cd:*)", "Exec(find:*)", "Exec(cat:*)",
	"Exec(grep:*)", "Exec(head:*)", "Exec(tail:*)", "Exec(sed -n:*)",
	"Exec(python:*)", "Exec(python3:*)", "Exec(pip install:*)",
	"Exec(git diff:*)", "Exec(ls:*)", "Exec(echo:*)", "Exec(cp:*)", NULL,
};
static const char *const agent_ask[] = { "Exec(rm:*)", NULL };
static const char *const agent_deny[] = {
	"Exec(pip uninstall:*)", "Write(patch.txt)", NULL,
};

static const struct decision_case agent_cases[] = {
	{ "cd /testbed && find . -path \"*/separable*\" -type f | head -20",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && cat astropy/modeling/separable.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python3 -c \"\nfrom astropy.modeling import models as m\nfrom astropy.modeling.separable import separability_matrix\n\ncm = m.Linear1D(10) & m.Linear1D(5)\nprint('cm type:', type(cm))\nprint('cm.n_inputs:', cm.n_inputs)\nprint('cm.n_outputs:', cm.n_outputs)\nprint('cm.separable:', cm.separable)\nprint()\n\n# Check the compound model structure\nprint('cm.left:', type(cm.left), cm.left)\nprint('cm.right:', type(cm.right), cm.right)\nprint('cm.op:', cm.op)\nprint()\n\n# Now the nested case\ncm2 = m.Pix2Sky_TAN() & cm\nprint('cm2 type:', type(cm2))\nprint('cm2.n_inputs:', cm2.n_inputs)\nprint('cm2.n_outputs:', cm2.n_outputs)\nprint('cm2.separable:', cm2.separable)\nprint('cm2.left:', type(cm2.left))\nprint('cm2.right:', type(cm2.right))\nprint('cm2.op:', cm2.op)\nprint()\n\n# Check what _coord_matrix returns for cm\nfrom astropy.modeling.separable import _coord_matrix\nimport numpy as np\n\n# For cm as right child with noutp = 4\nresult = _coord_matrix(cm, 'right', 4)\nprint('_coord_matrix(cm, right, 4):')\nprint(result)\n\"\n",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && pip install -e . 2>&1 | tail -5",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && pip install erfa 2>&1 | tail -3",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"import astropy; print(astropy.__version__)\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && find / -name \"erfa*\" -type f 2>/dev/null | head -10",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && pip install astropy-iers-data 2>&1 | tail -3",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && pip install -e . 2>&1 | tail -10",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\nimport sys\nsys.path.insert(0, '.')\n# Try importing just the modeling module\nfrom astropy.modeling import models as m\nfrom astropy.modeling.separable import separability_matrix, _coord_matrix, _cstack\nimport numpy as np\n\ncm = m.Linear1D(10) & m.Linear1D(5)\nprint('cm type:', type(cm))\nprint('cm.n_inputs:', cm.n_inputs)\nprint('cm.n_outputs:', cm.n_outputs)\nprint('cm.separable:', cm.separable)\nprint()\n\n# Check the compound model structure\nprint('cm.left:', type(cm.left), cm.left)\nprint('cm.right:', type(cm.right), cm.right)\nprint('cm.op:', cm.op)\nprint()\n\n# Now the nested case\ncm2 = m.Pix2Sky_TAN() & cm\nprint('cm2 type:', type(cm2))\nprint('cm2.n_inputs:', cm2.n_inputs)\nprint('cm2.n_outputs:', cm2.n_outputs)\nprint('cm2.separable:', cm2.separable)\nprint('cm2.left:', type(cm2.left))\nprint('cm2.right:', type(cm2.right))\nprint('cm2.op:', cm2.op)\nprint()\n\n# For cm as right child with noutp = 4\nresult = _coord_matrix(cm, 'right', 4)\nprint('_coord_matrix(cm, right, 4):')\nprint(result)\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && find / -name \"erfa*.so\" -o -name \"erfa*.py\" 2>/dev/null | head -10",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && pip install erfa 2>&1; pip install --no-deps astropy 2>&1 | tail -5",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\nfrom astropy.modeling import models as m\nfrom astropy.modeling.separable import separability_matrix, _coord_matrix, _cstack\nimport numpy as np\n\ncm = m.Linear1D(10) & m.Linear1D(5)\nprint('cm type:', type(cm))\nprint('cm.n_inputs:', cm.n_inputs)\nprint('cm.n_outputs:', cm.n_outputs)\nprint('cm.separable:', cm.separable)\nprint()\n\n# Check the compound model structure\nprint('cm.left:', type(cm.left), cm.left)\nprint('cm.right:', type(cm.right), cm.right)\nprint('cm.op:', cm.op)\nprint()\n\n# Now the nested case\ncm2 = m.Pix2Sky_TAN() & cm\nprint('cm2 type:', type(cm2))\nprint('cm2.n_inputs:', cm2.n_inputs)\nprint('cm2.n_outputs:', cm2.n_outputs)\nprint('cm2.separable:', cm2.separable)\nprint('cm2.left:', type(cm2.left))\nprint('cm2.right:', type(cm2.right))\nprint('cm2.op:', cm2.op)\nprint()\n\n# For cm as right child with noutp = 4\nresult = _coord_matrix(cm, 'right', 4)\nprint('_coord_matrix(cm, right, 4):')\nprint(result)\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "pip uninstall astropy -y 2>&1; cd /testbed && PYTHONPATH=/testbed python -c \"\nimport sys\n# Skip the top-level astropy init to avoid erfa issue\n# Let's directly import the modeling module\nsys.path.insert(0, '/testbed')\n# Try importing just the separable module directly\nimport importlib.util\nspec = importlib.util.spec_from_file_location('separable', '/testbed/astropy/modeling/separable.py')\n\" 2>&1",
	  POLICY_DENY, "Exec(pip uninstall:*)" },
	{ "cd /testbed && python -c \"\nimport sys\nsys.path.insert(0, '/testbed')\n# Try importing just the separable module directly\nimport importlib.util\nspec = importlib.util.spec_from_file_location('separable', '/testbed/astropy/modeling/separable.py')\nmod = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(mod)\nprint('Module loaded successfully')\nprint(dir(mod))\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && pip install numpy 2>&1 | tail -3",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\nimport sys\nsys.path.insert(0, '/testbed')\n# Try importing just the separable module directly\nimport importlib.util\nspec = importlib.util.spec_from_file_location('separable', '/testbed/astropy/modeling/separable.py')\nmod = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(mod)\nprint('Module loaded successfully')\nprint(dir(mod))\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && PYTHONPATH=/testbed python -c \"\nfrom astropy.modeling import models as m\nfrom astropy.modeling.separable import separability_matrix, _coord_matrix, _cstack\nimport numpy as np\n\ncm = m.Linear1D(10) & m.Linear1D(5)\nprint('cm type:', type(cm))\nprint('cm.n_inputs:', cm.n_inputs)\nprint('cm.n_outputs:', cm.n_outputs)\nprint('cm.separable:', cm.separable)\nprint()\n\n# Check the compound model structure\nprint('cm.left:', type(cm.left), cm.left)\nprint('cm.right:', type(cm.right), cm.right)\nprint('cm.op:', cm.op)\nprint()\n\n# Now the nested case\ncm2 = m.Pix2Sky_TAN() & cm\nprint('cm2 type:', type(cm2))\nprint('cm2.n_inputs:', cm2.n_inputs)\nprint('cm2.n_outputs:', cm2.n_outputs)\nprint('cm2.separable:', cm2.separable)\nprint('cm2.left:', type(cm2.left))\nprint('cm2.right:', type(cm2.right))\nprint('cm2.op:', cm2.op)\nprint()\n\n# For cm as right child with noutp = 4\nresult = _coord_matrix(cm, 'right', 4)\nprint('_coord_matrix(cm, right, 4):')\nprint(result)\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && pip install erfa 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && find / -name \"erfa*\" -type f 2>/dev/null",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\n# Let's try to create a minimal reproduction by directly importing the relevant functions\nimport numpy as np\n\n# Simulate the _coord_matrix function\ndef _coord_matrix(model, pos, noutp):\n    if not model.separable:\n        mat = np.zeros((noutp, model.n_inputs))\n        if pos == 'left':\n            mat[:model.n_outputs, :model.n_inputs] = 1\n        else:\n            mat[-model.n_outputs:, -model.n_inputs:] = 1\n    else:\n        mat = np.zeros((noutp, model.n_inputs))\n        for i in range(model.n_inputs):\n            mat[i, i] = 1\n        if pos == 'right':\n            mat = np.roll(mat, (noutp - model.n_outputs))\n    return mat\n\n# Let's just analyze the logic\nprint('Analysis of the bug:')\nprint()\nprint('When _cstack is called with left=Pix2Sky_TAN() and right=cm (CompoundModel):')\nprint('1. noutp = _compute_n_outputs(left, right) = 2 + 2 = 4')\nprint('2. left is a Model (Pix2Sky_TAN), so cleft = _coord_matrix(left, left, 4)')\nprint('3. right is a CompoundModel (cm), which IS a Model, so cright = _coord_matrix(right, right, 4)')\nprint()\nprint('The problem: _coord_matrix does not handle CompoundModel correctly!')\nprint('For a CompoundModel, it checks model.separable which may be True,')\nprint('but it treats it as a simple model with n_inputs=2 and n_outputs=2,')\nprint('creating a 2x2 identity-like matrix placed in a 4x2 matrix.')\nprint()\nprint('But the correct behavior would be to recursively compute the separability')\nprint('of the CompoundModel and then place it correctly.')\n\"",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\n# Let's trace through the logic manually to confirm the fix\nimport numpy as np\n\n# Simulating what happens currently for m.Pix2Sky_TAN() & cm\n# where cm = m.Linear1D(10) & m.Linear1D(5)\n\n# _cstack(left=Pix2Sky_TAN, right=cm)\n# noutp = 2 + 2 = 4\n\n# left is Model -> _coord_matrix(Pix2Sky_TAN, 'left', 4)\n# Pix2Sky_TAN is not separable, so:\n# mat = zeros((4, 2))\n# mat[:2, :2] = 1\n# cleft = [[1,1],[1,1],[0,0],[0,0]]\n\n# right is CompoundModel (but isinstance check passes for Model)\n# -> _coord_matrix(cm, 'right', 4)\n# cm is separable (Linear1D & Linear1D is separable)\n# mat = zeros((4, 2))\n# for i in range(2): mat[i,i] = 1\n# mat = [[1,0],[0,1],[0,0],[0,0]]\n# pos='right', so mat = np.roll(mat, (4-2)) = np.roll(mat, 2)\n# cright = [[0,0],[0,0],[1,0],[0,1]]\n\n# result = np.hstack([cleft, cright])\n# = [[1,1,0,0],\n#    [1,1,0,0],\n#    [0,0,1,0],\n#    [0,0,0,1]]\n\n# But the expected result is:\n# [[1,1,0,0],\n#  [1,1,0,0],\n#  [0,0,1,0],\n#  [0,0,0,1]]\n\n# Wait, that IS the expected result! Let me re-check the PR description...\nprint('Expected from PR:')\nprint('[[ True,  True, False, False],')\nprint(' [ True,  True, False, False],')\nprint(' [False, False,  True, False],')\nprint(' [False, False, False,  True]]')\nprint()\nprint('But the bug report says the nested case gives:')\nprint('[[ True,  True, False, False],')\nprint(' [ True,  True, False, False],')\nprint(' [False, False,  True,  True],')\nprint(' [False, False,  True,  True]]')\nprint()\nprint('So the issue is that cm (Linear1D & Linear1D) is being treated as')\nprint('having n_inputs=2 and n_outputs=2, but its separable property')\nprint('makes _coord_matrix create a 2x2 identity, then roll it.')\nprint()\nprint('But wait - cm = Linear1D(10) & Linear1D(5) has n_inputs=2, n_outputs=2')\nprint('and is separable. So _coord_matrix creates:')\nprint('mat = [[1,0],[0,1],[0,0],[0,0]]')\nprint('then roll by 2: [[0,0],[0,0],[1,0],[0,1]]')\nprint()\nprint('That gives the correct result! So maybe the bug is elsewhere?')\nprint()\nprint('Let me check: what if cm is NOT separable?')\nprint('cm = Linear1D(10) & Linear1D(5)')\nprint('cm.separable = ?')\n\"",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && grep -n \"separable\" astropy/modeling/core.py | head -30",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && sed -n '1525,1545p' astropy/modeling/core.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && grep -n \"class CompoundModel\" astropy/modeling/core.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && sed -n '2894,2950p' astropy/modeling/core.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && grep -n \"_separable\" astropy/modeling/core.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && grep -n \"_separable\" astropy/modeling/core.py | grep -v \"None\\|True\\|False\"",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && grep -n \"separable\" astropy/modeling/core.py | grep -i \"compound\\|def separable\"",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && grep -n \"_separable\" astropy/modeling/core.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && sed -n '2820,2830p' astropy/modeling/core.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\nimport numpy as np\n\n# Simulating the current buggy behavior\nleft = np.array([[1,1],[1,1]])  # Pix2Sky_TAN separability\nright = np.array([[1,0],[0,1]])  # cm separability\n\nnoutp = 4\n\n# Current code for right when it's not a Model:\ncright = np.zeros((noutp, right.shape[1]))\ncright[-right.shape[0]:, -right.shape[1]:] = 1\nprint('Buggy cright:')\nprint(cright)\n\n# Fixed code:\ncright_fixed = np.zeros((noutp, right.shape[1]))\ncright_fixed[-right.shape[0]:, -right.shape[1]:] = right\nprint('Fixed cright:')\nprint(cright_fixed)\n\n# Current code for left:\ncleft = np.zeros((noutp, left.shape[1]))\ncleft[: left.shape[0], : left.shape[1]] = left\nprint('cleft:')\nprint(cleft)\n\nprint()\nprint('Buggy result:')\nprint(np.hstack([cleft, cright]))\nprint()\nprint('Fixed result:')\nprint(np.hstack([cleft, cright_fixed]))\n\"",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && grep -rn \"_cstack\\|_cdot\\|_arith_oper\" astropy/",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && sed -n '98,114p' astropy/modeling/tests/test_separable.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && sed -n '250,280p' astropy/modeling/separable.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && sed -n '219,248p' astropy/modeling/separable.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && sed -i 's/cright\\[-right.shape\\[0\\]:, -right.shape\\[1\\]:\\] = 1/cright[-right.shape[0]:, -right.shape[1]:] = right/' astropy/modeling/separable.py",
	  POLICY_ASK, "no rule matches" },
	{ "cd /testbed && sed -n '219,248p' astropy/modeling/separable.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\nimport sys\nsys.path.insert(0, '/testbed')\n\n# We need to import astropy but it has the erfa issue\n# Let's just test the separable module directly by simulating the fix\nimport numpy as np\n\n# Replicate the fixed _cstack\ndef _compute_n_outputs(left, right):\n    if isinstance(left, np.ndarray):\n        lnout = left.shape[0]\n    else:\n        lnout = left.shape[0]\n    if isinstance(right, np.ndarray):\n        rnout = right.shape[0]\n    else:\n        rnout = right.shape[0]\n    noutp = lnout + rnout\n    return noutp\n\ndef _cstack_fixed(left, right):\n    noutp = _compute_n_outputs(left, right)\n\n    if isinstance(left, np.ndarray):\n        cleft = np.zeros((noutp, left.shape[1]))\n        cleft[: left.shape[0], : left.shape[1]] = left\n    else:\n        # Model case - simplified for testing\n        pass\n    \n    if isinstance(right, np.ndarray):\n        cright = np.zeros((noutp, right.shape[1]))\n        cright[-right.shape[0]:, -right.shape[1]:] = right\n    else:\n        # Model case - simplified for testing\n        pass\n\n    return np.hstack([cleft, cright])\n\n# Test case from PR: m.Pix2Sky_TAN() & cm where cm = m.Linear1D(10) & m.Linear1D(5)\n# After recursive _separable calls:\n# left_result = _separable(Pix2Sky_TAN()) = 2x2 matrix of all 1s (nonseparable)\n# right_result = _separable(cm) = 2x2 identity matrix (separable)\n\nleft = np.array([[1, 1], [1, 1]])\nright = np.array([[1, 0], [0, 1]])\n\nresult = _cstack_fixed(left, right)\nprint('Fixed result:')\nprint(result)\nprint()\nprint('Expected:')\nprint('[[1, 1, 0, 0],')\nprint(' [1, 1, 0, 0],')\nprint(' [0, 0, 1, 0],')\nprint(' [0, 0, 0, 1]]')\nprint()\nprint('Match:', np.array_equal(result, np.array([[1,1,0,0],[1,1,0,0],[0,0,1,0],[0,0,0,1]])))\n\"",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\n# Let's try to import astropy properly\nimport importlib\nimport sys\n\n# First, let's see if we can install erfa\nimport subprocess\nresult = subprocess.run(['pip', 'install', 'erfa'], capture_output=True, text=True)\nprint(result.stdout[-200:])\nprint(result.stderr[-200:])\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && find / -name \"erfa*.so\" 2>/dev/null",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\n# Let's try to create a mock for erfa\nimport sys\nimport types\n\n# Create a mock erfa module\nerfa_mock = types.ModuleType('erfa')\nclass ErfaError(Exception):\n    pass\nclass ErfaWarning(Warning):\n    pass\nerfa_mock.ErfaError = ErfaError\nerfa_mock.ErfaWarning = ErfaWarning\nsys.modules['erfa'] = erfa_mock\n\n# Now try importing astropy\nfrom astropy.modeling import models as m\nfrom astropy.modeling.separable import separability_matrix\nimport numpy as np\n\n# Test case 1: Simple compound model\ncm = m.Linear1D(10) & m.Linear1D(5)\nprint('Test 1 - Simple & model:')\nresult = separability_matrix(cm)\nprint(result)\nexpected = np.array([[True, False], [False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 2: Non-nested compound model\nprint('Test 2 - Non-nested & model:')\nresult = separability_matrix(m.Pix2Sky_TAN() & m.Linear1D(10) & m.Linear1D(5))\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 3: Nested compound model (the bug case)\nprint('Test 3 - Nested & model (the bug):')\ncm = m.Linear1D(10) & m.Linear1D(5)\nresult = separability_matrix(m.Pix2Sky_TAN() & cm)\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python setup.py build_ext --inplace 2>&1 | tail -20",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && pip install extension_helpers 2>&1 | tail -3",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python setup.py build_ext --inplace 2>&1 | tail -20",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && find /opt/miniconda3 -name \"longintrepr.h\" 2>/dev/null",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && CFLAGS=\"-I/opt/miniconda3/include/python3.11\" python setup.py build_ext --inplace 2>&1 | tail -20",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && CFLAGS=\"-I/opt/miniconda3/include/python3.11 -I/opt/miniconda3/include/python3.11/cpython\" python setup.py build_ext --inplace 2>&1 | tail -20",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\nimport sys\nimport types\n\n# Create mock modules needed\nfor mod_name in ['erfa', 'astropy.utils._compiler']:\n    mock_mod = types.ModuleType(mod_name)\n    if mod_name == 'erfa':\n        class ErfaError(Exception): pass\n        class ErfaWarning(Warning): pass\n        mock_mod.ErfaError = ErfaError\n        mock_mod.ErfaWarning = ErfaWarning\n    sys.modules[mod_name] = mock_mod\n\n# Now try importing\nfrom astropy.modeling import models as m\nfrom astropy.modeling.separable import separability_matrix\nimport numpy as np\n\n# Test case 1: Simple compound model\ncm = m.Linear1D(10) & m.Linear1D(5)\nprint('Test 1 - Simple & model:')\nresult = separability_matrix(cm)\nprint(result)\nexpected = np.array([[True, False], [False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 2: Non-nested compound model\nprint('Test 2 - Non-nested & model:')\nresult = separability_matrix(m.Pix2Sky_TAN() & m.Linear1D(10) & m.Linear1D(5))\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 3: Nested compound model (the bug case)\nprint('Test 3 - Nested & model (the bug):')\ncm = m.Linear1D(10) & m.Linear1D(5)\nresult = separability_matrix(m.Pix2Sky_TAN() & cm)\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && pip install 'numpy<2' 2>&1 | tail -3",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\nimport sys\nimport types\n\n# Create mock modules needed\nfor mod_name in ['erfa', 'astropy.utils._compiler']:\n    mock_mod = types.ModuleType(mod_name)\n    if mod_name == 'erfa':\n        class ErfaError(Exception): pass\n        class ErfaWarning(Warning): pass\n        mock_mod.ErfaError = ErfaError\n        mock_mod.ErfaWarning = ErfaWarning\n    sys.modules[mod_name] = mock_mod\n\n# Now try importing\nfrom astropy.modeling import models as m\nfrom astropy.modeling.separable import separability_matrix\nimport numpy as np\n\n# Test case 1: Simple compound model\ncm = m.Linear1D(10) & m.Linear1D(5)\nprint('Test 1 - Simple & model:')\nresult = separability_matrix(cm)\nprint(result)\nexpected = np.array([[True, False], [False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 2: Non-nested compound model\nprint('Test 2 - Non-nested & model:')\nresult = separability_matrix(m.Pix2Sky_TAN() & m.Linear1D(10) & m.Linear1D(5))\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 3: Nested compound model (the bug case)\nprint('Test 3 - Nested & model (the bug):')\ncm = m.Linear1D(10) & m.Linear1D(5)\nresult = separability_matrix(m.Pix2Sky_TAN() & cm)\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\nimport sys\nimport types\n\n# Create mock modules needed\nfor mod_name in ['erfa', 'astropy.utils._compiler']:\n    mock_mod = types.ModuleType(mod_name)\n    if mod_name == 'erfa':\n        class ErfaError(Exception): pass\n        class ErfaWarning(Warning): pass\n        mock_mod.ErfaError = ErfaError\n        mock_mod.ErfaWarning = ErfaWarning\n        # Add the ufunc submodule\n        ufunc_mod = types.ModuleType('erfa.ufunc')\n        sys.modules['erfa.ufunc'] = ufunc_mod\n    sys.modules[mod_name] = mock_mod\n\n# Now try importing\nfrom astropy.modeling import models as m\nfrom astropy.modeling.separable import separability_matrix\nimport numpy as np\n\n# Test case 1: Simple compound model\ncm = m.Linear1D(10) & m.Linear1D(5)\nprint('Test 1 - Simple & model:')\nresult = separability_matrix(cm)\nprint(result)\nexpected = np.array([[True, False], [False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 2: Non-nested compound model\nprint('Test 2 - Non-nested & model:')\nresult = separability_matrix(m.Pix2Sky_TAN() & m.Linear1D(10) & m.Linear1D(5))\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 3: Nested compound model (the bug case)\nprint('Test 3 - Nested & model (the bug):')\ncm = m.Linear1D(10) & m.Linear1D(5)\nresult = separability_matrix(m.Pix2Sky_TAN() & cm)\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\nimport sys\nimport types\n\n# Create mock modules needed\nfor mod_name in ['erfa', 'astropy.utils._compiler']:\n    mock_mod = types.ModuleType(mod_name)\n    if mod_name == 'erfa':\n        class ErfaError(Exception): pass\n        class ErfaWarning(Warning): pass\n        mock_mod.ErfaError = ErfaError\n        mock_mod.ErfaWarning = ErfaWarning\n        # Add the ufunc submodule with needed attributes\n        ufunc_mod = types.ModuleType('erfa.ufunc')\n        ufunc_mod.dt_pv = None\n        ufunc_mod.dt_eraLDBODY = None\n        ufunc_mod.dt_eraASTROM = None\n        sys.modules['erfa.ufunc'] = ufunc_mod\n    sys.modules[mod_name] = mock_mod\n\n# Now try importing\nfrom astropy.modeling import models as m\nfrom astropy.modeling.separable import separability_matrix\nimport numpy as np\n\n# Test case 1: Simple compound model\ncm = m.Linear1D(10) & m.Linear1D(5)\nprint('Test 1 - Simple & model:')\nresult = separability_matrix(cm)\nprint(result)\nexpected = np.array([[True, False], [False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 2: Non-nested compound model\nprint('Test 2 - Non-nested & model:')\nresult = separability_matrix(m.Pix2Sky_TAN() & m.Linear1D(10) & m.Linear1D(5))\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 3: Nested compound model (the bug case)\nprint('Test 3 - Nested & model (the bug):')\ncm = m.Linear1D(10) & m.Linear1D(5)\nresult = separability_matrix(m.Pix2Sky_TAN() & cm)\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\nimport sys\nimport types\n\n# Create a proper mock for erfa\nerfa_mock = types.ModuleType('erfa')\nclass ErfaError(Exception): pass\nclass ErfaWarning(Warning): pass\nerfa_mock.ErfaError = ErfaError\nerfa_mock.ErfaWarning = ErfaWarning\nerfa_mock.dt_pv = None\nerfa_mock.dt_eraLDBODY = None\nerfa_mock.dt_eraASTROM = None\n# ufunc is a submodule\nufunc_mod = types.ModuleType('erfa.ufunc')\nufunc_mod.__path__ = []\nufunc_mod.__file__ = ''\nsys.modules['erfa'] = erfa_mock\nsys.modules['erfa.ufunc'] = ufunc_mod\n\n# Also mock astropy.utils._compiler\ncompiler_mock = types.ModuleType('astropy.utils._compiler')\nsys.modules['astropy.utils._compiler'] = compiler_mock\n\n# Now try importing\nfrom astropy.modeling import models as m\nfrom astropy.modeling.separable import separability_matrix\nimport numpy as np\n\n# Test case 1: Simple compound model\ncm = m.Linear1D(10) & m.Linear1D(5)\nprint('Test 1 - Simple & model:')\nresult = separability_matrix(cm)\nprint(result)\nexpected = np.array([[True, False], [False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 2: Non-nested compound model\nprint('Test 2 - Non-nested & model:')\nresult = separability_matrix(m.Pix2Sky_TAN() & m.Linear1D(10) & m.Linear1D(5))\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 3: Nested compound model (the bug case)\nprint('Test 3 - Nested & model (the bug):')\ncm = m.Linear1D(10) & m.Linear1D(5)\nresult = separability_matrix(m.Pix2Sky_TAN() & cm)\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\nimport sys\nimport types\n\n# Create a proper mock for erfa\nerfa_mock = types.ModuleType('erfa')\nerfa_mock.__file__ = '/testbed/astropy/extern/erfa.py'  # fake file path\nclass ErfaError(Exception): pass\nclass ErfaWarning(Warning): pass\nerfa_mock.ErfaError = ErfaError\nerfa_mock.ErfaWarning = ErfaWarning\nerfa_mock.dt_pv = None\nerfa_mock.dt_eraLDBODY = None\nerfa_mock.dt_eraASTROM = None\n# ufunc is a submodule\nufunc_mod = types.ModuleType('erfa.ufunc')\nufunc_mod.__file__ = '/testbed/astropy/extern/erfa_ufunc.py'\nsys.modules['erfa'] = erfa_mock\nsys.modules['erfa.ufunc'] = ufunc_mod\n\n# Also mock astropy.utils._compiler\ncompiler_mock = types.ModuleType('astropy.utils._compiler')\ncompiler_mock.__file__ = '/testbed/astropy/utils/_compiler.py'\nsys.modules['astropy.utils._compiler'] = compiler_mock\n\n# Now try importing\nfrom astropy.modeling import models as m\nfrom astropy.modeling.separable import separability_matrix\nimport numpy as np\n\n# Test case 1: Simple compound model\ncm = m.Linear1D(10) & m.Linear1D(5)\nprint('Test 1 - Simple & model:')\nresult = separability_matrix(cm)\nprint(result)\nexpected = np.array([[True, False], [False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 2: Non-nested compound model\nprint('Test 2 - Non-nested & model:')\nresult = separability_matrix(m.Pix2Sky_TAN() & m.Linear1D(10) & m.Linear1D(5))\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\nprint()\n\n# Test case 3: Nested compound model (the bug case)\nprint('Test 3 - Nested & model (the bug):')\ncm = m.Linear1D(10) & m.Linear1D(5)\nresult = separability_matrix(m.Pix2Sky_TAN() & cm)\nprint(result)\nexpected = np.array([[True, True, False, False],\n                     [True, True, False, False],\n                     [False, False, True, False],\n                     [False, False, False, True]])\nprint('Expected:')\nprint(expected)\nprint('Match:', np.array_equal(result, expected))\n\" 2>&1",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -c \"\nimport numpy as np\nimport sys\n\n# Directly test the _cstack function logic\n# Replicate the relevant functions from separable.py\n\ndef _compute_n_outputs(left, right):\n    if isinstance(left, np.ndarray):\n        lnout = left.shape[0]\n    else:\n        lnout = left.shape[0]\n    if isinstance(right, np.ndarray):\n        rnout = right.shape[0]\n    else:\n        rnout = right.shape[0]\n    noutp = lnout + rnout\n    return noutp\n\n# Buggy version (original)\ndef _cstack_buggy(left, right):\n    noutp = _compute_n_outputs(left, right)\n\n    if isinstance(left, np.ndarray):\n        cleft = np.zeros((noutp, left.shape[1]))\n        cleft[: left.shape[0], : left.shape[1]] = left\n    if isinstance(right, np.ndarray):\n        cright = np.zeros((noutp, right.shape[1]))\n        cright[-right.shape[0]:, -right.shape[1]:] = 1  # BUG: using 1 instead of right\n\n    return np.hstack([cleft, cright])\n\n# Fixed version\ndef _cstack_fixed(left, right):\n    noutp = _compute_n_outputs(left, right)\n\n    if isinstance(left, np.ndarray):\n        cleft = np.zeros((noutp, left.shape[1]))\n        cleft[: left.shape[0], : left.shape[1]] = left\n    if isinstance(right, np.ndarray):\n        cright = np.zeros((noutp, right.shape[1]))\n        cright[-right.shape[0]:, -right.shape[1]:] = right  # FIXED: using right\n\n    return np.hstack([cleft, cright])\n\n# Test: Simulate the recursive _separable calls\n# _separable(Pix2Sky_TAN()) returns 2x2 all-ones (nonseparable)\nleft = np.array([[1, 1], [1, 1]])\n# _separable(Linear1D(10) & Linear1D(5)) returns 2x2 identity (separable)\nright = np.array([[1, 0], [0, 1]])\n\nprint('Buggy result:')\nprint(_cstack_buggy(left, right))\nprint()\nprint('Fixed result:')\nprint(_cstack_fixed(left, right))\nprint()\n\n# Verify the fixed result matches expected\nexpected = np.array([[1, 1, 0, 0],\n                     [1, 1, 0, 0],\n                     [0, 0, 1, 0],\n                     [0, 0, 0, 1]])\nprint('Expected:')\nprint(expected)\nprint()\nprint('Fixed matches expected:', np.array_equal(_cstack_fixed(left, right), expected))\nprint('Buggy matches expected:', np.array_equal(_cstack_buggy(left, right), expected))\n\"",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && cat astropy/modeling/tests/test_separable.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && sed -n '219,248p' astropy/modeling/separable.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && grep -n \"= 1\" astropy/modeling/separable.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && grep -n \"def _coord_matrix\" astropy/modeling/separable.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && sed -n '171,217p' astropy/modeling/separable.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && git diff astropy/modeling/separable.py",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && git diff astropy/modeling/separable.py > patch.txt && cat patch.txt",
	  POLICY_ASK, "a relative path after \"cd\" on the same line cannot be resolved before the command runs" },
	{ "cd /testbed && echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && cat patch.txt",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "find . -type f -name \"*.py\" | grep -i validator | head -20",
	  POLICY_ALLOW, "Exec(find:*)" },
	{ "cat ./django/contrib/auth/validators.py",
	  POLICY_ALLOW, "Exec(cat:*)" },
	{ "grep -r \"ASCIIUsernameValidator\\|UnicodeUsernameValidator\" --include=\"*.py\" . | grep -v \"__pycache__\" | head -20",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "cat > test_username_validator.py << 'EOF'\nimport re\nfrom django.contrib.auth.validators import ASCIIUsernameValidator, UnicodeUsernameValidator\n\n# Test the current regex behavior\ncurrent_regex = r'^[\\w.@+-]+$'\ntest_cases = [\n    \"validusername\",\n    \"user.name\",\n    \"user@example\",\n    \"user+name\",\n    \"user-name\",\n    \"validusername\\n\",  # Should fail but currently passes\n    \"\\nvalidusername\",  # Should fail\n    \"validusername\\n\\n\",  # Should fail\n    \"valid\\nusername\",  # Should fail\n]\n\nprint(\"Testing current regex pattern:\", current_regex)\nprint(\"=\" * 60)\n\nfor test in test_cases:\n    match = re.match(current_regex, test, re.ASCII)\n    result = \"MATCHES\" if match else \"REJECTS\"\n    print(f\"{repr(test):30} -> {result}\")\n    if match:\n        print(f\"  Matched: {repr(match.group())}\")\n\nprint(\"\\n\" + \"=\" * 60)\nprint(\"\\nTesting with \\\\A and \\\\Z anchors:\")\nnew_regex = r'\\A[\\w.@+-]+\\Z'\n\nfor test in test_cases:\n    match = re.match(new_regex, test, re.ASCII)\n    result = \"MATCHES\" if match else \"REJECTS\"\n    print(f\"{repr(test):30} -> {result}\")\n\nprint(\"\\n\" + \"=\" * 60)\nprint(\"\\nTesting actual validators:\")\n\nascii_validator = ASCIIUsernameValidator()\nunicode_validator = UnicodeUsernameValidator()\n\nfor test in test_cases:\n    try:\n        ascii_validator(test)\n        ascii_result = \"ACCEPTS\"\n    except Exception:\n        ascii_result = \"REJECTS\"\n    \n    try:\n        unicode_validator(test)\n        unicode_result = \"ACCEPTS\"\n    except Exception:\n        unicode_result = \"REJECTS\"\n    \n    print(f\"{repr(test):30} -> ASCII: {ascii_result:8} Unicode: {unicode_result}\")\nEOF",
	  POLICY_ALLOW, "Exec(cat:*)" },
	{ "python test_username_validator.py",
	  POLICY_ALLOW, "Exec(python:*)" },
	{ "pip install pytz -q",
	  POLICY_ALLOW, "Exec(pip install:*)" },
	{ "cat > test_regex_issue.py << 'EOF'\nimport re\n\n# Test the current regex behavior\ncurrent_regex = r'^[\\w.@+-]+$'\nnew_regex = r'\\A[\\w.@+-]+\\Z'\n\ntest_cases = [\n    \"validusername\",\n    \"user.name\",\n    \"user@example\",\n    \"user+name\",\n    \"user-name\",\n    \"validusername\\n\",  # Should fail but currently passes with $\n    \"\\nvalidusername\",  # Should fail\n    \"validusername\\n\\n\",  # Should fail\n    \"valid\\nusername\",  # Should fail\n    \"user_name\",\n    \"user123\",\n    \"user.123@test+name-here\",\n]\n\nprint(\"Testing current regex pattern (with ^ and $):\", current_regex)\nprint(\"=\" * 60)\n\nfor test in test_cases:\n    # Using re.match which implicitly anchors at start\n    match = re.match(current_regex, test, re.ASCII)\n    result = \"MATCHES\" if match else \"REJECTS\"\n    print(f\"{repr(test):35} -> {result}\")\n    if match:\n        print(f\"  Matched string: {repr(match.group())}\")\n        print(f\"  Full match length: {len(match.group())}, input length: {len(test)}\")\n\nprint(\"\\n\" + \"=\" * 60)\nprint(\"\\nTesting with \\\\A and \\\\Z anchors:\", new_regex)\n\nfor test in test_cases:\n    match = re.match(new_regex, test, re.ASCII)\n    result = \"MATCHES\" if match else \"REJECTS\"\n    print(f\"{repr(test):35} -> {result}\")\n\nprint(\"\\n\" + \"=\" * 60)\nprint(\"\\nDemonstrating the issue with $ vs \\\\Z:\")\nprint(\"re.match(r'^abc$', 'abc\\\\n'):\", bool(re.match(r'^abc$', 'abc\\n')))\nprint(\"re.match(r'\\\\Aabc\\\\Z', 'abc\\\\n'):\", bool(re.match(r'\\Aabc\\Z', 'abc\\n')))\nprint(\"re.fullmatch(r'^abc$', 'abc\\\\n'):\", bool(re.fullmatch(r'^abc$', 'abc\\n')))\nEOF",
	  POLICY_ALLOW, "Exec(cat:*)" },
	{ "python test_regex_issue.py",
	  POLICY_ALLOW, "Exec(python:*)" },
	{ "cat ./tests/auth_tests/test_validators.py",
	  POLICY_ALLOW, "Exec(cat:*)" },
	{ "grep -A 30 \"class UsernameValidatorsTests\" ./tests/auth_tests/test_validators.py",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "grep -n \"newline\\|\\\\\\\\n\" ./tests/auth_tests/test_validators.py",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "cd /testbed && python -m pytest tests/auth_tests/test_validators.py::UsernameValidatorsTests -xvs",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cd /testbed && python -m django test auth_tests.test_validators.UsernameValidatorsTests --settings=django.conf.global_settings",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cat > test_validators_directly.py << 'EOF'\nimport sys\nimport os\nsys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n\n# Mock minimal Django setup\nimport django\nfrom django.conf import settings\n\nif not settings.configured:\n    settings.configure(\n        DEBUG=True,\n        SECRET_KEY='test-secret-key',\n        INSTALLED_APPS=[\n            'django.contrib.auth',\n            'django.contrib.contenttypes',\n        ],\n        DATABASES={\n            'default': {\n                'ENGINE': 'django.db.backends.sqlite3',\n                'NAME': ':memory:',\n            }\n        },\n        USE_TZ=True,\n    )\n    django.setup()\n\nfrom django.contrib.auth.validators import ASCIIUsernameValidator, UnicodeUsernameValidator\nfrom django.core.exceptions import ValidationError\n\nprint(\"Testing current validators (before fix)\")\nprint(\"=\" * 60)\n\ntest_cases = [\n    (\"validusername\", True),\n    (\"user.name\", True),\n    (\"user@example\", True),\n    (\"user+name\", True),\n    (\"user-name\", True),\n    (\"validusername\\n\", False),  # Should fail but currently passes\n    (\"\\nvalidusername\", False),  # Should fail\n    (\"validusername\\n\\n\", False),  # Should fail\n    (\"valid\\nusername\", False),  # Should fail\n    (\"user_name\", True),\n    (\"user123\", True),\n    (\"user.123@test+name-here\", True),\n]\n\nascii_validator = ASCIIUsernameValidator()\nunicode_validator = UnicodeUsernameValidator()\n\nall_passed = True\nfor username, should_pass in test_cases:\n    ascii_result = \"PASS\" if should_pass else \"FAIL\"\n    unicode_result = \"PASS\" if should_pass else \"FAIL\"\n    \n    try:\n        ascii_validator(username)\n        actual_ascii = \"PASS\"\n    except ValidationError:\n        actual_ascii = \"FAIL\"\n    \n    try:\n        unicode_validator(username)\n        actual_unicode = \"PASS\"\n    except ValidationError:\n        actual_unicode = \"FAIL\"\n    \n    ascii_ok = (actual_ascii == ascii_result)\n    unicode_ok = (actual_unicode == unicode_result)\n    \n    if not ascii_ok or not unicode_ok:\n        all_passed = False\n        print(f\"FAIL: {repr(username):35} -> ASCII: {actual_ascii} (expected {ascii_result}), Unicode: {actual_unicode} (expected {unicode_result})\")\n    else:\n        print(f\"OK:   {repr(username):35} -> ASCII: {actual_ascii}, Unicode: {actual_unicode}\")\n\nif all_passed:\n    print(\"\\nAll tests passed!\")\nelse:\n    print(\"\\nSome tests failed - this shows the bug exists\")\nEOF",
	  POLICY_ALLOW, "Exec(cat:*)" },
	{ "python test_validators_directly.py",
	  POLICY_ALLOW, "Exec(python:*)" },
	{ "pip install sqlparse -q",
	  POLICY_ALLOW, "Exec(pip install:*)" },
	{ "python test_validators_directly.py",
	  POLICY_ALLOW, "Exec(python:*)" },
	{ "cp ./django/contrib/auth/validators.py ./django/contrib/auth/validators.py.backup",
	  POLICY_ALLOW, "Exec(cp:*)" },
	{ "cat > ./django/contrib/auth/validators.py << 'EOF'\nimport re\n\nfrom django.core import validators\nfrom django.utils.deconstruct import deconstructible\nfrom django.utils.translation import gettext_lazy as _\n\n\n@deconstructible\nclass ASCIIUsernameValidator(validators.RegexValidator):\n    regex = r'\\A[\\w.@+-]+\\Z'\n    message = _(\n        'Enter a valid username. This value may contain only English letters, '\n        'numbers, and @/./+/-/_ characters.'\n    )\n    flags = re.ASCII\n\n\n@deconstructible\nclass UnicodeUsernameValidator(validators.RegexValidator):\n    regex = r'\\A[\\w.@+-]+\\Z'\n    message = _(\n        'Enter a valid username. This value may contain only letters, '\n        'numbers, and @/./+/-/_ characters.'\n    )\n    flags = 0\nEOF",
	  POLICY_ALLOW, "Exec(cat:*)" },
	{ "cat ./django/contrib/auth/validators.py",
	  POLICY_ALLOW, "Exec(cat:*)" },
	{ "cat > test_fix_verification.py << 'EOF'\nimport sys\nimport os\nsys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n\n# Mock minimal Django setup\nimport django\nfrom django.conf import settings\n\nif not settings.configured:\n    settings.configure(\n        DEBUG=True,\n        SECRET_KEY='test-secret-key',\n        INSTALLED_APPS=[\n            'django.contrib.auth',\n            'django.contrib.contenttypes',\n        ],\n        DATABASES={\n            'default': {\n                'ENGINE': 'django.db.backends.sqlite3',\n                'NAME': ':memory:',\n            }\n        },\n        USE_TZ=True,\n    )\n    django.setup()\n\nfrom django.contrib.auth.validators import ASCIIUsernameValidator, UnicodeUsernameValidator\nfrom django.core.exceptions import ValidationError\n\nprint(\"Testing validators AFTER fix\")\nprint(\"=\" * 60)\n\ntest_cases = [\n    (\"validusername\", True),\n    (\"user.name\", True),\n    (\"user@example\", True),\n    (\"user+name\", True),\n    (\"user-name\", True),\n    (\"validusername\\n\", False),  # Should now fail with \\A and \\Z\n    (\"\\nvalidusername\", False),  # Should fail\n    (\"validusername\\n\\n\", False),  # Should fail\n    (\"valid\\nusername\", False),  # Should fail\n    (\"user_name\", True),\n    (\"user123\", True),\n    (\"user.123@test+name-here\", True),\n    # Edge cases\n    (\"\", False),  # Empty string should fail\n    (\"a\", True),  # Single character should pass\n    (\"a\\n\", False),  # Single char with newline should fail\n    (\"\\na\", False),  # Newline then char should fail\n    (\"a\\nb\", False),  # Newline in middle should fail\n]\n\nascii_validator = ASCIIUsernameValidator()\nunicode_validator = UnicodeUsernameValidator()\n\nall_passed = True\nfor username, should_pass in test_cases:\n    expected_result = \"PASS\" if should_pass else \"FAIL\"\n    \n    try:\n        ascii_validator(username)\n        actual_ascii = \"PASS\"\n    except ValidationError:\n        actual_ascii = \"FAIL\"\n    \n    try:\n        unicode_validator(username)\n        actual_unicode = \"PASS\"\n    except ValidationError:\n        actual_unicode = \"FAIL\"\n    \n    ascii_ok = (actual_ascii == expected_result)\n    unicode_ok = (actual_unicode == expected_result)\n    \n    if not ascii_ok or not unicode_ok:\n        all_passed = False\n        print(f\"FAIL: {repr(username):35} -> ASCII: {actual_ascii} (expected {expected_result}), Unicode: {actual_unicode} (expected {expected_result})\")\n    else:\n        print(f\"OK:   {repr(username):35} -> ASCII: {actual_ascii}, Unicode: {actual_unicode}\")\n\nif all_passed:\n    print(\"\\n✓ All tests passed! The fix works correctly.\")\nelse:\n    print(\"\\n✗ Some tests failed - the fix may not be working correctly\")\nEOF",
	  POLICY_ALLOW, "Exec(cat:*)" },
	{ "python test_fix_verification.py",
	  POLICY_ALLOW, "Exec(python:*)" },
	{ "cd /testbed && python -m django test auth_tests.test_validators.UsernameValidatorsTests --settings=django.conf.global_settings 2>&1 | tail -50",
	  POLICY_ALLOW, "Exec(cd:*)" },
	{ "cat > run_existing_tests.py << 'EOF'\nimport sys\nimport os\nsys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n\n# Mock minimal Django setup\nimport django\nfrom django.conf import settings\n\nif not settings.configured:\n    settings.configure(\n        DEBUG=True,\n        SECRET_KEY='test-secret-key',\n        INSTALLED_APPS=[\n            'django.contrib.auth',\n            'django.contrib.contenttypes',\n        ],\n        DATABASES={\n            'default': {\n                'ENGINE': 'django.db.backends.sqlite3',\n                'NAME': ':memory:',\n            }\n        },\n        USE_TZ=True,\n    )\n    django.setup()\n\n# Now run the specific test class\nfrom django.test import SimpleTestCase\nfrom django.contrib.auth import validators\nfrom django.core.exceptions import ValidationError\n\n# Recreate the test class from the existing tests\nclass UsernameValidatorsTests(SimpleTestCase):\n    def test_unicode_validator(self):\n        valid_usernames = ['joe', 'René', 'ᴮᴵᴳᴮᴵᴿᴰ', 'أحمد']\n        invalid_usernames = [\n            \"o'connell\", \"عبد ال\",\n            \"zerowidth\\u200Bspace\", \"nonbreaking\\u00A0space\",\n            \"en\\u2013dash\",\n        ]\n        v = validators.UnicodeUsernameValidator()\n        for valid in valid_usernames:\n            with self.subTest(valid=valid):\n                v(valid)\n        for invalid in invalid_usernames:\n            with self.subTest(invalid=invalid):\n                with self.assertRaises(ValidationError):\n                    v(invalid)\n\n    def test_ascii_validator(self):\n        valid_usernames = ['glenn', 'GLEnN', 'jean-marc']\n        invalid_usernames = [\"o'connell\", 'Éric', 'jean marc', \"أحمد\"]\n        v = validators.ASCIIUsernameValidator()\n        for valid in valid_usernames:\n            with self.subTest(valid=valid):\n                v(valid)\n        for invalid in invalid_usernames:\n            with self.subTest(invalid=invalid):\n                with self.assertRaises(ValidationError):\n                    v(invalid)\n\n# Run the tests\nimport unittest\nsuite = unittest.TestLoader().loadTestsFromTestCase(UsernameValidatorsTests)\nrunner = unittest.TextTestRunner(verbosity=2)\nresult = runner.run(suite)\n\nif result.wasSuccessful():\n    print(\"\\n✓ All existing tests pass with the fix!\")\nelse:\n    print(\"\\n✗ Some existing tests failed\")\nEOF",
	  POLICY_ALLOW, "Exec(cat:*)" },
	{ "python run_existing_tests.py",
	  POLICY_ALLOW, "Exec(python:*)" },
	{ "grep -r \"r'^\\[\" --include=\"*.py\" . | grep -v \"__pycache__\" | grep -v \"test_\" | head -20",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "grep -n \"r'^\\[\" ./django/core/validators.py",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "grep -n \"username\" ./django/core/validators.py -i",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "grep -n \"regex = \" ./django/contrib/auth/validators.py",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "grep -r \"ASCIIUsernameValidator\\|UnicodeUsernameValidator\" --include=\"*.py\" . | grep -v \"__pycache__\" | grep -v \"test_\" | grep -v \".pyc\"",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "cat > test_comprehensive.py << 'EOF'\nimport sys\nimport os\nsys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\n\n# Mock minimal Django setup\nimport django\nfrom django.conf import settings\n\nif not settings.configured:\n    settings.configure(\n        DEBUG=True,\n        SECRET_KEY='test-secret-key',\n        INSTALLED_APPS=[\n            'django.contrib.auth',\n            'django.contrib.contenttypes',\n        ],\n        DATABASES={\n            'default': {\n                'ENGINE': 'django.db.backends.sqlite3',\n                'NAME': ':memory:',\n            }\n        },\n        USE_TZ=True,\n    )\n    django.setup()\n\nfrom django.contrib.auth.validators import ASCIIUsernameValidator, UnicodeUsernameValidator\nfrom django.core.exceptions import ValidationError\nimport re\n\nprint(\"Comprehensive test of username validators with \\\\A and \\\\Z\")\nprint(\"=\" * 60)\n\n# Test that \\A and \\Z behave correctly vs ^ and $\nprint(\"\\n1. Testing regex behavior:\")\nprint(\"-\" * 40)\n\ntest_strings = [\n    \"test\",\n    \"test\\n\",\n    \"\\ntest\",\n    \"test\\n\\n\",\n    \"te\\nst\",\n    \"test\\r\",  # Carriage return\n    \"test\\r\\n\",  # Windows newline\n    \"test\\t\",  # Tab\n    \"test \",  # Space\n]\n\nfor s in test_strings:\n    pattern_with_caret_dollar = r'^[\\w.@+-]+$'\n    pattern_with_a_z = r'\\A[\\w.@+-]+\\Z'\n    \n    match_caret = re.match(pattern_with_caret_dollar, s, re.ASCII)\n    match_az = re.match(pattern_with_a_z, s, re.ASCII)\n    \n    print(f\"{repr(s):15} | ^$: {bool(match_caret):5} | \\\\A\\\\Z: {bool(match_az):5}\")\n\nprint(\"\\n2. Testing actual validators with various whitespace characters:\")\nprint(\"-\" * 40)\n\nwhitespace_chars = [\n    '\\n',  # newline\n    '\\r',  # carriage return\n    '\\t',  # tab\n    ' ',   # space\n    '\\v',  # vertical tab\n    '\\f',  # form feed\n]\n\nascii_validator = ASCIIUsernameValidator()\nunicode_validator = UnicodeUsernameValidator()\n\nfor ws in whitespace_chars:\n    test_cases = [\n        f\"user{ws}\",\n        f\"{ws}user\",\n        f\"user{ws}name\",\n        f\"user{ws}{ws}\",\n    ]\n    \n    for test in test_cases:\n        try:\n            ascii_validator(test)\n            ascii_result = \"PASS\"\n        except ValidationError:\n            ascii_result = \"FAIL\"\n        \n        try:\n            unicode_validator(test)\n            unicode_result = \"PASS\"\n        except ValidationError:\n            unicode_result = \"FAIL\"\n        \n        # All should fail\n        if ascii_result == \"FAIL\" and unicode_result == \"FAIL\":\n            print(f\"✓ {repr(test):20} -> Both reject (correct)\")\n        else:\n            print(f\"✗ {repr(test):20} -> ASCII: {ascii_result}, Unicode: {unicode_result} (should both fail)\")\n\nprint(\"\\n3. Testing valid usernames still work:\")\nprint(\"-\" * 40)\n\nvalid_usernames = [\n    \"john\",\n    \"john.doe\",\n    \"john@example\",\n    \"john+doe\",\n    \"john-doe\",\n    \"john_doe\",\n    \"johndoe123\",\n    \"JOHNdoe\",  # mixed case\n    \"a\",  # single character\n    \"a.b@c+d-e_f\",  # all allowed characters\n]\n\nfor username in valid_usernames:\n    try:\n        ascii_validator(username)\n        ascii_result = \"PASS\"\n    except ValidationError:\n        ascii_result = \"FAIL\"\n    \n    try:\n        unicode_validator(username)\n        unicode_result = \"PASS\"\n    except ValidationError:\n        unicode_result = \"FAIL\"\n    \n    if ascii_result == \"PASS\" and unicode_result == \"PASS\":\n        print(f\"✓ {repr(username):20} -> Both accept (correct)\")\n    else:\n        print(f\"✗ {repr(username):20} -> ASCII: {ascii_result}, Unicode: {unicode_result} (should both pass)\")\n\nprint(\"\\n\" + \"=\" * 60)\nprint(\"Summary: The fix correctly handles all edge cases!\")\nEOF",
	  POLICY_ALLOW, "Exec(cat:*)" },
	{ "python test_comprehensive.py",
	  POLICY_ALLOW, "Exec(python:*)" },
	{ "grep -r \"RegexValidator\" --include=\"*.py\" . | grep -v \"__pycache__\" | grep -v \"test_\" | grep \"regex =\" | head -20",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "find . -name \"*.py\" -type f -exec grep -l \"class.*RegexValidator\" {} \\; | grep -v \"__pycache__\" | grep -v \"test_\" | head -10",
	  POLICY_ASK, "find -exec runs another program; it needs a rule that spells out -exec" },
	{ "grep -n \"class.*RegexValidator\" ./django/core/validators.py",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "grep -A5 \"class URLValidator\" ./django/core/validators.py",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "grep -n \"regex =\" ./django/core/validators.py",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "sed -n '95,110p' ./django/core/validators.py",
	  POLICY_ALLOW, "Exec(sed -n:*)" },
	{ "grep -n \"r'.*\\^.*\\$\" ./django/core/validators.py",
	  POLICY_ALLOW, "Exec(grep:*)" },
	{ "git diff -- ./django/contrib/auth/validators.py > patch.txt",
	  POLICY_DENY, "Write(patch.txt)" },
	{ "cat patch.txt",
	  POLICY_ALLOW, "Exec(cat:*)" },
	{ "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && cat patch.txt",
	  POLICY_ALLOW, "Exec(echo:*)" },
	{ "create reproduce.py",
	  POLICY_ASK, "no rule matches" },
	{ "insert 'from marshmallow.fields import TimeDelta\nfrom datetime import timedelta\n\ntd_field = TimeDelta(precision=\"milliseconds\")\n\nobj = dict()\nobj[\"td_field\"] = timedelta(milliseconds=345)\n\nprint(td_field.serialize(\"td_field\", obj))'",
	  POLICY_ASK, "no rule matches" },
	{ "python reproduce.py",
	  POLICY_ALLOW, "Exec(python:*)" },
	{ "ls -F",
	  POLICY_ALLOW, "Exec(ls:*)" },
	{ "find_file fields.py src",
	  POLICY_ASK, "no rule matches" },
	{ "open \"src/marshmallow/fields.py\" 1474",
	  POLICY_ASK, "no rule matches" },
	{ "edit 'return int(value.total_seconds() / base_unit.total_seconds())' '# round to nearest int\nreturn int(round(value.total_seconds() / base_unit.total_seconds()))'",
	  POLICY_ASK, "no rule matches" },
	{ "edit 'return int(value.total_seconds() / base_unit.total_seconds())' '# round to nearest int\n        return int(round(value.total_seconds() / base_unit.total_seconds()))'",
	  POLICY_ASK, "no rule matches" },
	{ "python reproduce.py",
	  POLICY_ALLOW, "Exec(python:*)" },
	{ "rm reproduce.py",
	  POLICY_ASK, "Exec(rm:*)" },
	{ "submit",
	  POLICY_ASK, "no rule matches" },
	{ "create reproduce_bug.py",
	  POLICY_ASK, "no rule matches" },
	{ "edit 1:1\nimport numpy as np\nfrom pydicom.dataset import Dataset, FileMetaDataset\n\nds = Dataset()\nds.file_meta = FileMetaDataset()\nds.file_meta.TransferSyntaxUID = '1.2.840.10008.1.2.1'\n\nds.BitsAllocated = 32\nds.SamplesPerPixel = 1\nds.Rows = 5\nds.Columns = 5\nds.PhotometricInterpretation = 'MONOCHROME2'\n\npixel_array = np.zeros((ds.Rows, ds.Columns), dtype=np.float32)\nds.FloatPixelData = pixel_array.flatten().tobytes()\n\nresult = np.array_equal(ds.pixel_array, pixel_array)\nprint(\"Script completed successfully, no errors. Result:\", result)\nend_of_edit",
	  POLICY_ASK, "a function definition is not judged" },
	{ "python reproduce_bug.py",
	  POLICY_ALLOW, "Exec(python:*)" },
	{ "find_file \"numpy_handler.py\"",
	  POLICY_ASK, "no rule matches" },
	{ "open pydicom/pixel_data_handlers/numpy_handler.py 293",
	  POLICY_ASK, "no rule matches" },
	{ "edit 287:295\n        'BitsAllocated', 'Rows', 'Columns', 'SamplesPerPixel', 'PhotometricInterpretation'\n    ]\n    if 'PixelData' in ds:\n        required_elements.append('PixelRepresentation')\n    missing = [elem for elem in required_elements if elem not in ds]\n    if missing:\n        raise AttributeError(\n            \"Unable to convert the pixel data as the following required \"\n            \"elements are missing from the dataset: \" + \", \".join(missing)\n        )\nend_of_edit",
	  POLICY_ASK, "no rule matches" },
	{ "edit 287:295\n    required_elements = [\n        'BitsAllocated', 'Rows', 'Columns', 'SamplesPerPixel', 'PhotometricInterpretation'\n    ]\n    if 'PixelData' in ds:\n        required_elements.append('PixelRepresentation')\n    missing = [elem for elem in required_elements if elem not in ds]\n    if missing:\n        raise AttributeError(\n            \"Unable to convert the pixel data as the following required \"\n            \"elements are missing from the dataset: \" + \", \".join(missing)\n        )\nend_of_edit",
	  POLICY_ASK, "no rule matches" },
	{ "edit 287:295\n    required_elements = [\n        'BitsAllocated', 'Rows', 'Columns', 'SamplesPerPixel', 'PhotometricInterpretation'\n    ]\n    if 'PixelData' in ds:\n        required_elements.append('PixelRepresentation')\n    missing = [elem for elem in required_elements if elem not in ds]\n    if missing:\n        raise AttributeError(\n            \"Unable to convert the pixel data as the following required \"\n            \"elements are missing from the dataset: \" + \", \".join(missing)\n        )\nend_of_edit",
	  POLICY_ASK, "no rule matches" },
	{ "edit 287:296\n    required_elements = [\n        'BitsAllocated', 'Rows', 'Columns', 'SamplesPerPixel', 'PhotometricInterpretation'\n    ]\n    if 'PixelData' in ds:\n        required_elements.append('PixelRepresentation')\n    missing = [elem for elem in required_elements if elem not in ds]\n    if missing:\n        raise AttributeError(\n            \"Unable to convert the pixel data as the following required \"\n            \"elements are missing from the dataset: \" + \", \".join(missing)\n        )\nend_of_edit",
	  POLICY_ASK, "no rule matches" },
	{ "python reproduce_bug.py",
	  POLICY_ALLOW, "Exec(python:*)" },
	{ "rm reproduce_bug.py",
	  POLICY_ASK, "Exec(rm:*)" },
	{ "submit",
	  POLICY_ASK, "no rule matches" },
	{ "find_file \"missing_colon.py\"",
	  POLICY_ASK, "no rule matches" },
	{ "open tests/missing_colon.py",
	  POLICY_ASK, "no rule matches" },
	{ "edit 4:4\ndef division(a: float, b: float) -> float:\nend_of_edit",
	  POLICY_ASK, "no rule matches" },
	{ "python tests/missing_colon.py",
	  POLICY_ALLOW, "Exec(python:*)" },
	{ "submit",
	  POLICY_ASK, "no rule matches" },
};

static void test_agent_commands(void **state)
{
	struct policy p;

	(void)state;
	policy_init(&p);
	add_all(&p, POLICY_ALLOW, agent_allow);
	add_all(&p, POLICY_ASK, agent_ask);
	add_all(&p, POLICY_DENY, agent_deny);
	check_cases(&p, agent_cases, ARRAY_LEN(agent_cases));
	policy_free(&p);
}

/* Every agent line splits, and each split lists its programs in order. */
static void test_agent_commands_split(void **state)
{
	struct policy_command_list l;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(agent_cases); i++) {
		assert_int_equal(policy_shell_split(agent_cases[i].command,
						    &l), 0);
		assert_true(l.count >= 1);
		policy_command_list_free(&l);
	}
}

static void test_table_sizes(void **state)
{
	(void)state;
	/* At least 150 command lines between the two tables. */
	assert_true(ARRAY_LEN(grammar_cases) + ARRAY_LEN(git_cases) +
		    ARRAY_LEN(agent_cases) >= 150);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammar_table),
		cmocka_unit_test(test_git_risky_forms),
		cmocka_unit_test(test_agent_commands),
		cmocka_unit_test(test_agent_commands_split),
		cmocka_unit_test(test_table_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
