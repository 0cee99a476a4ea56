/*
 * Unit tests for policy layers and positions: rule file, line and column,
 * the layer order, project trust, the protected list, absolute rules,
 * Net and Skill rules, examples, verdict sentences and explanations.
 * Every test works in its own temporary directory with real files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/check.h"
#include "policy/policy.h"

static char top[] = "/tmp/test_policy_layers.XXXXXX";
static char ws[512], cfg[512], home[512], user_file[600];

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	char path[700];

	(void)state;
	snprintf(top, sizeof(top), "/tmp/test_policy_layers.XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(ws, sizeof(ws), "%s/ws", top);
	snprintf(cfg, sizeof(cfg), "%s/cfg", top);
	snprintf(home, sizeof(home), "%s/home", top);
	snprintf(user_file, sizeof(user_file), "%s/policy.json", cfg);
	snprintf(path, sizeof(path), "%s/.coworker", ws);
	if (mkdir(ws, 0700) || mkdir(path, 0700) || mkdir(cfg, 0700) ||
	    mkdir(home, 0700))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[700];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void project_file(const char *name, const char *text)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/.coworker/%s", ws, name);
	write_text(path, text);
}

static void layers_init(struct policy_layers *l)
{
	memset(l, 0, sizeof(*l));
	l->workspace = ws;
	l->home = home;
	/* Tests that want a user file write it first. */
	l->user_file = user_file;
	l->no_user_file = access(user_file, F_OK) != 0;
	l->config_dir = cfg;
}

static void load_ok(struct policy *p, const struct policy_layers *l)
{
	char err[2048] = "";

	policy_init(p);
	if (policy_load_layers(p, l, err, sizeof(err)) < 0)
		fail_msg("load failed: %s", err);
}

static void expect_path(const struct policy *p, enum policy_tool tool,
			const char *path, enum policy_decision d,
			const char *rule)
{
	struct policy_verdict v = policy_decide_path(p, tool, path);

	if (v.decision != d)
		fail_msg("%s: expected %s, got %s (%s)", path,
			 policy_decision_name(d),
			 policy_decision_name(v.decision),
			 v.rule ? v.rule->text : v.reason);
	if (rule) {
		assert_non_null(v.rule);
		assert_string_equal(v.rule->text, rule);
	}
}

static void expect_request(const struct policy *p, const char *request,
			   enum policy_decision d)
{
	struct policy_verdict v;
	char err[1024];

	assert_int_equal(policy_decide_request(p, request, &v, err,
					       sizeof(err)), 0);
	if (v.decision != d)
		fail_msg("%s: expected %s, got %s", request,
			 policy_decision_name(d),
			 policy_decision_name(v.decision));
}

static void cleanup_files(void)
{
	char path[700];

	unlink(user_file);
	snprintf(path, sizeof(path), "%s/.coworker/policy.json", ws);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.coworker/policy.local.json", ws);
	unlink(path);
	snprintf(path, sizeof(path), "%s/trusted-projects.json", cfg);
	unlink(path);
}

/* ---------- positions ---------- */

static void test_rule_positions(void **state)
{
	struct policy p;
	char path[700], err[1024];

	(void)state;
	snprintf(path, sizeof(path), "%s/pos.json", top);
	write_text(path, "{\n  \"allow\": [\"Read\",\n\t\"Exec(make)\"],\n"
			 "  \"deny\" : [ \"Write(\\u00e9t\\u00e9)\" , \"Net\" ]\n}\n");
	policy_init(&p);
	assert_int_equal(policy_load_file(&p, path, err, sizeof(err)), 0);
	assert_int_equal(p.count, 4);
	assert_int_equal(p.rules[0].line, 2);
	assert_int_equal(p.rules[0].column, 13);
	assert_int_equal(p.rules[1].line, 3);
	assert_int_equal(p.rules[1].column, 2);	/* after one tab */
	assert_int_equal(p.rules[2].line, 4);
	assert_int_equal(p.rules[2].column, 14);
	assert_int_equal(p.rules[3].line, 4);
	assert_int_equal(p.rules[3].column, 39);	/* bytes, escapes as written */
	assert_string_equal(p.rules[3].source, path);
	policy_free(&p);
	unlink(path);
}

/* Problems reported by policy_check_file, as "LINE:COLUMN: message". */
struct collected {
	char text[8][512];
	int count;
};

static void collect(void *ctx, const char *file, int line, int column,
		    const char *message)
{
	struct collected *c = ctx;

	(void)file;
	if (c->count < 8)
		snprintf(c->text[c->count], sizeof(c->text[0]), "%d:%d: %s",
			 line, column, message);
	c->count++;
}

static void assert_prefix(const char *text, const char *prefix)
{
	if (strncmp(text, prefix, strlen(prefix)) != 0)
		fail_msg("expected \"%s\" to start with \"%s\"", text, prefix);
}

static void test_check_reports_every_problem(void **state)
{
	struct collected c = { .count = 0 };
	char path[700];

	(void)state;
	snprintf(path, sizeof(path), "%s/bad.json", top);
	write_text(path, "{\"allow\": [\"Bad\", \"Read\",\n \"Write(a//b)\"],\n"
			 " \"x\": 1}\n");
	assert_int_equal(policy_check_file(path, POLICY_LAYER_EXTRA, NULL,
					   NULL, collect, &c), 3);
	assert_int_equal(c.count, 3);
	assert_prefix(c.text[0], "1:12: \"allow\"[0]: unknown tool \"Bad\"");
	assert_prefix(c.text[1], "2:2: \"allow\"[2]: rule \"Write(a//b)\"");
	assert_prefix(c.text[2], "3:2: unknown key \"x\"");
	unlink(path);
}

static void test_check_lint(void **state)
{
	struct collected c = { .count = 0 };
	char path[700];

	(void)state;
	snprintf(path, sizeof(path), "%s/lint.json", top);
	write_text(path, "{\"allow\": [\"Read(src/**)\", \"Read(src/a.c)\", "
			 "\"Read(x/[z-a])\", \"Net(*.a.com)\", \"Net(b.a.com:443)\", "
			 "\"Read(**/.env)\"],\n"
			 " \"deny\": [\"Exec(curl:*)\", \"Exec(curl -s x)\"],\n"
			 " \"ask\": [\"Exec(curl)\"]}\n");
	assert_int_equal(policy_check_file(path, POLICY_LAYER_EXTRA, NULL,
					   NULL, collect, &c), 6);
	assert_prefix(c.text[0], "1:28: rule \"Read(src/a.c)\" is shadowed by the broader rule \"Read(src/**)\"");
	assert_prefix(c.text[1], "1:45: rule \"Read(x/[z-a])\" can never match");
	assert_prefix(c.text[2], "1:78: rule \"Net(b.a.com:443)\" is shadowed");
	assert_prefix(c.text[3], "1:98: rule \"Read(**/.env)\" can never take effect: \"**/.env\"");
	assert_prefix(c.text[4], "2:27: rule \"Exec(curl -s x)\" is shadowed");
	assert_prefix(c.text[5], "3:10: rule \"Exec(curl)\" can never take effect: the broader deny rule \"Exec(curl:*)\"");
	unlink(path);
}

static void test_check_clean_file(void **state)
{
	struct collected c = { .count = 0 };
	char path[700];

	(void)state;
	snprintf(path, sizeof(path), "%s/clean.json", top);
	write_text(path, "{\"allow\": [\"Read(src/**)\", \"Exec(make:*)\"],"
			 " \"deny\": [\"Exec(make install:*)\"],"
			 " \"examples\": {\"allow\": [\"Exec(make -j2)\", \"Read(src/a.c)\"],"
			 " \"deny\": [\"Exec(make install DESTDIR=x)\"],"
			 " \"ask\": [\"Read(docs/a.md)\"]}}");
	assert_int_equal(policy_check_file(path, POLICY_LAYER_EXTRA, NULL,
					   NULL, collect, &c), 0);
	unlink(path);
}

/* ---------- layers ---------- */

static void test_layer_order(void **state)
{
	const char *extra[] = { NULL, NULL };
	const char *allow[] = { "Exec(ls)", NULL };
	const char *deny[] = { "Exec(curl:*)", NULL };
	struct policy_layers l;
	struct policy p;
	char xpath[700];
	size_t i, last = 0;

	(void)state;
	snprintf(xpath, sizeof(xpath), "%s/extra.json", top);
	write_text(user_file, "{\"ask\": [\"Exec(npm:*)\"]}");
	project_file("policy.json", "{\"deny\": [\"Read(secret/**)\"]}");
	project_file("policy.local.json", "{\"ask\": [\"Write(dist/**)\"]}");
	write_text(xpath, "{\"deny\": [\"Exec(sudo:*)\"]}");
	extra[0] = xpath;
	layers_init(&l);
	l.extra_files = extra;
	l.allow = allow;
	l.deny = deny;
	load_ok(&p, &l);

	/* Layers come in order; within a layer, rules keep file order. */
	for (i = 0; i < p.count; i++) {
		assert_true(p.rules[i].layer >= last);
		last = p.rules[i].layer;
	}
	assert_int_equal(p.rules[0].layer, POLICY_LAYER_PRESET);
	assert_string_equal(p.rules[0].source, "preset workspace-write");
	assert_int_equal(p.rules[p.count - 1].layer,
			 POLICY_LAYER_COMMAND_LINE);
	assert_string_equal(p.rules[p.count - 1].source, "--deny");
	assert_string_equal(p.rules[p.count - 2].source, "--allow");
	assert_string_equal(p.rules[p.count - 3].source, xpath);
	assert_int_equal(p.rules[p.count - 4].layer, POLICY_LAYER_LOCAL);
	assert_int_equal(p.rules[p.count - 5].layer, POLICY_LAYER_PROJECT);
	assert_int_equal(p.rules[p.count - 6].layer, POLICY_LAYER_USER);
	assert_int_equal(p.nprotected, 23);
	policy_free(&p);
	unlink(xpath);
	cleanup_files();
}

static void test_presets(void **state)
{
	struct policy_layers l;
	struct policy p;
	char err[512];

	(void)state;
	layers_init(&l);
	l.preset = "read-only";
	load_ok(&p, &l);
	expect_path(&p, POLICY_READ, "src/a.c", POLICY_ALLOW, "Read");
	expect_path(&p, POLICY_WRITE, "src/a.c", POLICY_DENY, "Write");
	expect_request(&p, "Exec(git status)", POLICY_ALLOW);
	expect_request(&p, "Exec(make)", POLICY_ASK);
	expect_request(&p, "Exec(echo x > y)", POLICY_DENY);
	policy_free(&p);

	l.preset = NULL;	/* workspace-write */
	load_ok(&p, &l);
	expect_path(&p, POLICY_WRITE, "src/a.c", POLICY_ALLOW, "Write");
	expect_request(&p, "Exec(make)", POLICY_ASK);
	expect_request(&p, "Net(example.com:443)", POLICY_ASK);
	policy_free(&p);

	l.preset = "full-access";
	load_ok(&p, &l);
	expect_request(&p, "Exec(make)", POLICY_ALLOW);
	expect_request(&p, "Net(example.com:443)", POLICY_ALLOW);
	expect_request(&p, "Read(.env)", POLICY_DENY);
	policy_free(&p);

	l.preset = "yolo";
	policy_init(&p);
	assert_int_equal(policy_load_layers(&p, &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown preset \"yolo\""));
	policy_free(&p);
}

static void test_user_file_default_and_missing(void **state)
{
	struct policy_layers l;
	struct policy p;
	char err[1024], dir[700];

	(void)state;
	/* The default user file comes from XDG_CONFIG_HOME. */
	snprintf(dir, sizeof(dir), "%s/coworker", cfg);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(err, sizeof(err), "%s/policy.json", dir);
	write_text(err, "{\"deny\": [\"Exec(make:*)\"]}");
	setenv("XDG_CONFIG_HOME", cfg, 1);
	layers_init(&l);
	l.user_file = NULL;
	l.no_user_file = false;
	load_ok(&p, &l);
	expect_request(&p, "Exec(make)", POLICY_DENY);
	policy_free(&p);
	unlink(err);
	rmdir(dir);

	/* A missing default user file is fine... */
	load_ok(&p, &l);
	policy_free(&p);

	/* ... but a user file named explicitly must exist. */
	l.user_file = user_file;
	l.no_user_file = false;
	policy_init(&p);
	assert_int_equal(policy_load_layers(&p, &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "policy file not found"));
	policy_free(&p);
	unsetenv("XDG_CONFIG_HOME");
}

/* ---------- trust ---------- */

static void test_untrusted_project_allow_inactive(void **state)
{
	struct policy_layers l;
	struct policy p;

	(void)state;
	write_text(user_file, "{}");
	project_file("policy.json",
		     "{\"allow\": [\"Exec(make:*)\", \"Net\"], \"ask\": [\"Exec(ls:*)\"],"
		     " \"deny\": [\"Write(src/**)\"]}");
	layers_init(&l);
	load_ok(&p, &l);
	assert_false(p.project_trusted);
	assert_int_equal(p.inactive_count, 2);
	assert_int_equal(strlen(p.project_digest), 64);
	expect_request(&p, "Exec(make)", POLICY_ASK);
	assert_non_null(strstr(policy_decide_command(&p, "make").reason,
			       "inactive until you trust the project"));
	expect_request(&p, "Net(x.com)", POLICY_ASK);
	expect_request(&p, "Exec(ls)", POLICY_ASK);	/* ask applies */
	expect_path(&p, POLICY_WRITE, "src/a.c", POLICY_DENY, "Write(src/**)");
	policy_free(&p);

	l.trust_project = true;
	load_ok(&p, &l);
	assert_true(p.project_trusted);
	assert_int_equal(p.inactive_count, 0);
	expect_request(&p, "Exec(make)", POLICY_ALLOW);
	policy_free(&p);
	cleanup_files();
}

static void test_trust_record_and_change(void **state)
{
	struct policy_layers l;
	struct policy p;
	char err[1024];

	(void)state;
	project_file("policy.json", "{\"allow\": [\"Exec(make:*)\"]}");
	layers_init(&l);
	assert_int_equal(policy_trust_record(&l, err, sizeof(err)), 0);
	load_ok(&p, &l);
	assert_true(p.project_trusted);
	policy_free(&p);

	/* A new personal file changes the digest: trust lapses. */
	project_file("policy.local.json", "{\"allow\": [\"Exec(curl:*)\"]}");
	load_ok(&p, &l);
	assert_false(p.project_trusted);
	expect_request(&p, "Exec(curl x)", POLICY_ASK);
	policy_free(&p);

	assert_int_equal(policy_trust_record(&l, err, sizeof(err)), 0);
	load_ok(&p, &l);
	assert_true(p.project_trusted);
	expect_request(&p, "Exec(curl x)", POLICY_ALLOW);
	policy_free(&p);

	/* An edit to the project file lapses it too. */
	project_file("policy.json", "{\"allow\": [\"Exec(make:*)\", \"Exec\"]}");
	load_ok(&p, &l);
	assert_false(p.project_trusted);
	policy_free(&p);
	cleanup_files();
}

static void test_trusted_path_in_user_file(void **state)
{
	struct policy_layers l;
	struct policy p;
	char text[1024];

	(void)state;
	project_file("policy.json", "{\"allow\": [\"Exec(make:*)\"]}");
	snprintf(text, sizeof(text), "{\"trusted\": [\"%s/\"]}", ws);
	write_text(user_file, text);
	layers_init(&l);
	load_ok(&p, &l);
	assert_true(p.project_trusted);
	policy_free(&p);
	cleanup_files();
}

static void test_project_file_symlink_rejected(void **state)
{
	struct policy_layers l;
	struct policy p;
	char target[700], link[700], err[1024];

	(void)state;
	snprintf(target, sizeof(target), "%s/elsewhere.json", top);
	snprintf(link, sizeof(link), "%s/.coworker/policy.json", ws);
	write_text(target, "{}");
	assert_int_equal(symlink(target, link), 0);
	layers_init(&l);
	policy_init(&p);
	assert_int_equal(policy_load_layers(&p, &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	policy_free(&p);
	unlink(target);
	cleanup_files();
}

/* Read a small file whole into buf, NUL-terminated. */
static void read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	assert_int_equal(fclose(f), 0);
}

/*
 * A damaged trust record fails the load with its path and position and
 * what to do, and policy_trust_record leaves it as it is.
 */
static void test_trust_record_damaged(void **state)
{
	static const struct {
		const char *text;
		const char *message;	/* follows "PATH" in the error */
	} cases[] = {
		{ "{\n  \"/elsewhere\": \"ab\",\n}\n",
		  ":3:2: invalid JSON in the trust record" },
		{ "{\"/elsewhere\": \"ab\"} x",
		  ":1:22: invalid JSON in the trust record" },
		{ "", ": the trust record is empty" },
		{ "[\"/elsewhere\"]\n", ": the trust record must be a JSON object" },
		{ "{\"/elsewhere\": \"ab\",\n \"/other\": 5}\n",
		  ":2:12: the value for a workspace must be the digest string" },
	};
	char record[700], expected[1024], err[2048], after[1024];
	struct policy_layers l;
	struct policy p;
	size_t i;

	(void)state;
	snprintf(record, sizeof(record), "%s/trusted-projects.json", cfg);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		project_file("policy.json", "{\"allow\": [\"Exec(make:*)\"]}");
		write_text(record, cases[i].text);
		snprintf(expected, sizeof(expected), "%s%s", record,
			 cases[i].message);
		layers_init(&l);

		policy_init(&p);
		assert_int_equal(policy_load_layers(&p, &l, err, sizeof(err)), -1);
		assert_prefix(err, expected);
		assert_non_null(strstr(err, "run 'coworker policy trust' again"));
		policy_free(&p);

		assert_int_equal(policy_trust_record(&l, err, sizeof(err)), -1);
		assert_prefix(err, expected);
		read_text(record, after, sizeof(after));
		assert_string_equal(after, cases[i].text);

		/* Trust that does not come from the record needs no record. */
		l.trust_project = true;
		load_ok(&p, &l);
		assert_true(p.project_trusted);
		policy_free(&p);
		cleanup_files();
	}
}

static void test_trust_record_not_regular(void **state)
{
	char record[700], target[700], err[2048];
	struct policy_layers l;
	struct policy p;

	(void)state;
	cleanup_files();	/* in case an earlier test stopped half-way */
	snprintf(record, sizeof(record), "%s/trusted-projects.json", cfg);
	snprintf(target, sizeof(target), "%s/record-elsewhere.json", top);
	project_file("policy.json", "{\"allow\": [\"Exec(make:*)\"]}");
	layers_init(&l);

	write_text(target, "{}");
	assert_int_equal(symlink(target, record), 0);
	policy_init(&p);
	assert_int_equal(policy_load_layers(&p, &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is a symbolic link"));
	policy_free(&p);
	assert_int_equal(policy_trust_record(&l, err, sizeof(err)), -1);
	assert_int_equal(unlink(record), 0);
	unlink(target);

	assert_int_equal(mkdir(record, 0700), 0);
	policy_init(&p);
	assert_int_equal(policy_load_layers(&p, &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must be a regular file"));
	policy_free(&p);
	assert_int_equal(policy_trust_record(&l, err, sizeof(err)), -1);
	assert_int_equal(rmdir(record), 0);
	cleanup_files();
}

static void test_trust_record_keeps_entries(void **state)
{
	char record[700], text[1400], after[2048];
	struct policy_layers l;
	struct policy p;
	char err[1024];

	(void)state;
	snprintf(record, sizeof(record), "%s/trusted-projects.json", cfg);
	project_file("policy.json", "{\"allow\": [\"Exec(make:*)\"]}");
	/* Two stale entries for ws: both must go, or one would shadow the new. */
	snprintf(text, sizeof(text),
		 "{\"/elsewhere\": \"ab\", \"%s\": \"old\", \"%s\": \"older\"}",
		 ws, ws);
	write_text(record, text);
	layers_init(&l);
	load_ok(&p, &l);
	assert_false(p.project_trusted);
	policy_free(&p);

	assert_int_equal(policy_trust_record(&l, err, sizeof(err)), 0);
	read_text(record, after, sizeof(after));
	assert_non_null(strstr(after, "\"/elsewhere\":\t\"ab\""));
	assert_null(strstr(after, "\"old"));
	load_ok(&p, &l);
	assert_true(p.project_trusted);
	policy_free(&p);
	cleanup_files();
}

/* ---------- protected list ---------- */

static void test_protected_before_layers(void **state)
{
	const char *allow[] = { "Read(**)", "Write(**)", "Read(~/.ssh/**)", NULL };
	struct policy_layers l;
	struct policy p;
	char path[700];

	(void)state;
	layers_init(&l);
	l.preset = "full-access";
	l.allow = allow;
	load_ok(&p, &l);
	expect_path(&p, POLICY_READ, ".env", POLICY_DENY, "**/.env");
	expect_path(&p, POLICY_WRITE, "app/.env.local", POLICY_DENY, "**/.env.*");
	expect_path(&p, POLICY_READ, "certs/server.pem", POLICY_DENY, "**/*.pem");
	expect_path(&p, POLICY_READ, "server.key", POLICY_DENY, "**/*.key");
	snprintf(path, sizeof(path), "%s/.ssh/id_ed25519", home);
	expect_path(&p, POLICY_READ, path, POLICY_DENY, "~/.ssh/**");
	snprintf(path, sizeof(path), "%s/.config/coworker/keys.json", home);
	expect_path(&p, POLICY_WRITE, path, POLICY_DENY, "~/.config/coworker/**");
	expect_path(&p, POLICY_READ, "src/env.c", POLICY_ALLOW, "Read");
	expect_request(&p, "Exec(cat .env)", POLICY_ALLOW);	/* arguments are not paths */
	expect_request(&p, "Exec(cat < .env)", POLICY_DENY);
	policy_free(&p);
}

static void test_unprotect_user_only(void **state)
{
	struct policy_layers l;
	struct policy p;
	char err[1024];

	(void)state;
	write_text(user_file, "{\"unprotect\": [\"**/.env\", \"**/.env\"]}");
	layers_init(&l);
	load_ok(&p, &l);
	assert_int_equal(p.nunprotected, 1);
	assert_string_equal(p.unprotected[0], "**/.env");
	assert_int_equal(p.nprotected, 22);
	expect_path(&p, POLICY_READ, ".env", POLICY_ALLOW, "Read");
	expect_path(&p, POLICY_READ, ".env.prod", POLICY_DENY, "**/.env.*");
	policy_free(&p);

	write_text(user_file, "{\"unprotect\": [\"~/.ssh\"]}");
	policy_init(&p);
	assert_int_equal(policy_load_layers(&p, &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not on the built-in protected list"));
	policy_free(&p);

	unlink(user_file);
	l.no_user_file = true;
	project_file("policy.json", "{\"unprotect\": [\"**/.env\"]}");
	policy_init(&p);
	assert_int_equal(policy_load_layers(&p, &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "accepted only in the user file"));
	policy_free(&p);
	cleanup_files();
}

/* ---------- absolute rules, Net, Skill ---------- */

static void test_absolute_rules(void **state)
{
	struct policy p;
	char err[512], path[700];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_set_roots(&p, ws, home), 0);
	assert_int_equal(policy_add_rule(&p, POLICY_ALLOW, "Read(/opt/data/**)",
					 NULL, err, sizeof(err)), 0);
	assert_int_equal(policy_add_rule(&p, POLICY_ALLOW, "Read(~/notes/*.md)",
					 NULL, err, sizeof(err)), 0);
	assert_int_equal(policy_add_rule(&p, POLICY_ALLOW, "Write", NULL, err,
					 sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/src/x", ws);
	assert_int_equal(policy_add_rule(&p, POLICY_DENY, "Write(src/x)",
					 NULL, err, sizeof(err)), 0);
	assert_true(p.has_absolute);

	expect_path(&p, POLICY_READ, "/opt/data/a/b.csv", POLICY_ALLOW,
		    "Read(/opt/data/**)");
	expect_path(&p, POLICY_READ, "/opt/database", POLICY_ASK, NULL);
	snprintf(path, sizeof(path), "%s/notes/a.md", home);
	expect_path(&p, POLICY_READ, path, POLICY_ALLOW, "Read(~/notes/*.md)");
	/* Bare Write covers the workspace only. */
	expect_path(&p, POLICY_WRITE, "/etc/motd", POLICY_ASK, NULL);
	snprintf(path, sizeof(path), "%s/src/y", ws);
	expect_path(&p, POLICY_WRITE, path, POLICY_ALLOW, "Write");
	/* An absolute subject beneath the workspace meets relative rules. */
	snprintf(path, sizeof(path), "%s/src/x", ws);
	expect_path(&p, POLICY_WRITE, path, POLICY_DENY, "Write(src/x)");
	/* A sibling sharing the workspace's prefix is not beneath it. */
	snprintf(path, sizeof(path), "%s-other/src/x", ws);
	expect_path(&p, POLICY_WRITE, path, POLICY_ASK, NULL);
	expect_request(&p, "Read(~/notes/b.md)", POLICY_ALLOW);
	expect_request(&p, "Write(src/../src/x)", POLICY_DENY);
	policy_free(&p);
}

static void test_net_rules(void **state)
{
	static const char *const rules[] = {
		"Net(*.example.com:443)", "Net(api.test)", "Net([::1]:8080)",
		"Net(Mixed.Case.ORG)",
	};
	struct policy p;
	char err[512];
	size_t i;

	(void)state;
	policy_init(&p);
	for (i = 0; i < 4; i++)
		assert_int_equal(policy_add_rule(&p, POLICY_ALLOW, rules[i],
						 NULL, err, sizeof(err)), 0);
	assert_int_equal(policy_add_rule(&p, POLICY_DENY,
					 "Net(evil.example.com)", NULL, err,
					 sizeof(err)), 0);
	assert_int_equal(policy_decide_net(&p, "a.example.com", 443).decision,
			 POLICY_ALLOW);
	assert_int_equal(policy_decide_net(&p, "a.b.EXAMPLE.com", 443).decision,
			 POLICY_ALLOW);
	assert_int_equal(policy_decide_net(&p, "example.com", 443).decision,
			 POLICY_ASK);
	assert_int_equal(policy_decide_net(&p, "notexample.com", 443).decision,
			 POLICY_ASK);
	assert_int_equal(policy_decide_net(&p, "a.example.com", 80).decision,
			 POLICY_ASK);
	assert_int_equal(policy_decide_net(&p, "api.test", 1).decision,
			 POLICY_ALLOW);
	assert_int_equal(policy_decide_net(&p, "::1", 8080).decision,
			 POLICY_ALLOW);
	assert_int_equal(policy_decide_net(&p, "mixed.case.org", 22).decision,
			 POLICY_ALLOW);
	assert_int_equal(policy_decide_net(&p, "evil.example.com", 443).decision,
			 POLICY_DENY);
	assert_int_equal(policy_decide_net(&p, "x.com", 0).decision,
			 POLICY_DENY);
	assert_int_equal(policy_decide_net(&p, "", 443).decision, POLICY_DENY);
	expect_request(&p, "Net([::1]:8080)", POLICY_ALLOW);
	expect_request(&p, "Net(a.example.com)", POLICY_ALLOW);	/* 443 */
	policy_free(&p);
}

static void test_skill_rules(void **state)
{
	struct policy p;
	char err[512];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_rule(&p, POLICY_ALLOW, "Skill(pdf-*)", NULL,
					 err, sizeof(err)), 0);
	assert_int_equal(policy_add_rule(&p, POLICY_DENY, "Skill(pdf-sign)",
					 NULL, err, sizeof(err)), 0);
	assert_int_equal(policy_decide_skill(&p, "pdf-fill").decision,
			 POLICY_ALLOW);
	assert_int_equal(policy_decide_skill(&p, "pdf-sign").decision,
			 POLICY_DENY);
	assert_int_equal(policy_decide_skill(&p, "docx").decision, POLICY_ASK);
	assert_int_equal(policy_decide_skill(&p, "pdf-x/../y").decision,
			 POLICY_DENY);
	policy_free(&p);
}

/* ---------- sentences and explanations ---------- */

static void test_verdict_sentence(void **state)
{
	struct policy_verdict v;
	struct policy p;
	char path[700], err[512], buf[1024];

	(void)state;
	snprintf(path, sizeof(path), "%s/s.json", top);
	write_text(path, "{\n  \"deny\": [\"Exec(curl:*)\"],\n  \"allow\": [\"Exec(find:*)\"]\n}");
	policy_init(&p);
	assert_int_equal(policy_load_file(&p, path, err, sizeof(err)), 0);
	v = policy_decide_command(&p, "curl x");
	policy_verdict_sentence(&v, buf, sizeof(buf));
	snprintf(err, sizeof(err), "denied by rule \"Exec(curl:*)\" in %s:2:12",
		 path);
	assert_string_equal(buf, err);
	v = policy_decide_command(&p, "find . -delete");
	policy_verdict_sentence(&v, buf, sizeof(buf));
	assert_non_null(strstr(buf, "ask: find -delete removes files"));
	assert_non_null(strstr(buf, "rule \"Exec(find:*)\""));
	v = policy_decide_command(&p, "ls");
	policy_verdict_sentence(&v, buf, sizeof(buf));
	assert_string_equal(buf, "ask: no rule matches");
	policy_free(&p);
	unlink(path);
}

struct judged {
	int calls;
	char last[256];
};

static struct policy_verdict judge_cb(void *ctx, const struct policy *p,
				      enum policy_tool tool, const char *path)
{
	struct judged *j = ctx;
	struct policy_verdict v = { POLICY_DENY, NULL, "judged by the callback" };

	(void)p;
	j->calls++;
	snprintf(j->last, sizeof(j->last), "%s %s", policy_tool_name(tool),
		 path);
	return v;
}

static void test_redirection_callback(void **state)
{
	struct judged j = { 0, "" };
	struct policy_verdict v;
	struct policy p;
	char err[512];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_rule(&p, POLICY_ALLOW, "Exec(sort:*)", NULL,
					 err, sizeof(err)), 0);
	v = policy_decide_command_with(&p, "sort < in.txt", judge_cb, &j);
	assert_int_equal(v.decision, POLICY_DENY);
	assert_int_equal(j.calls, 1);
	assert_string_equal(j.last, "Read in.txt");
	v = policy_decide_command_with(&p, "sort -o out.txt x", judge_cb, &j);
	assert_int_equal(j.calls, 2);
	assert_string_equal(j.last, "Write out.txt");
	v = policy_decide_command_with(&p, "sort x 2>/dev/null", judge_cb, &j);
	assert_int_equal(v.decision, POLICY_ALLOW);
	assert_int_equal(j.calls, 2);	/* /dev/null is not judged */
	policy_free(&p);
}

static void test_explain_parts(void **state)
{
	struct policy_explanation e;
	struct policy p;
	char err[512];

	(void)state;
	policy_init(&p);
	assert_int_equal(policy_add_rule(&p, POLICY_ALLOW, "Exec(timeout:*)",
					 NULL, err, sizeof(err)), 0);
	assert_int_equal(policy_add_rule(&p, POLICY_DENY, "Write(logs/**)",
					 NULL, err, sizeof(err)), 0);
	assert_int_equal(policy_explain_request(&p,
		"Exec(timeout 5 make > logs/x && [[ -f a ]])", &e, err,
		sizeof(err)), 0);
	assert_int_equal(e.verdict.decision, POLICY_DENY);
	assert_int_equal(e.count, 4);
	assert_int_equal(e.parts[0].kind, POLICY_PART_COMMAND);
	assert_string_equal(e.parts[0].subject, "timeout 5 make");
	assert_int_equal(e.parts[0].verdict.decision, POLICY_ALLOW);
	assert_string_equal(e.parts[1].subject, "make");
	assert_int_equal(e.parts[1].verdict.decision, POLICY_ASK);
	assert_int_equal(e.parts[2].kind, POLICY_PART_WRITE);
	assert_string_equal(e.parts[2].subject, "logs/x");
	assert_int_equal(e.parts[2].verdict.decision, POLICY_DENY);
	assert_int_equal(e.parts[3].kind, POLICY_PART_CONSTRUCT);
	policy_explanation_free(&e);

	assert_int_equal(policy_explain_request(&p, "Read(a.txt)", &e, err,
						sizeof(err)), 0);
	assert_int_equal(e.count, 1);
	assert_int_equal(e.parts[0].kind, POLICY_PART_READ);
	policy_explanation_free(&e);

	assert_int_equal(policy_explain_request(&p, "Fetch(x)", &e, err,
						sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid request"));
	policy_explanation_free(&e);
	policy_free(&p);
}

/* The 8-byte start filters must never change a decision. */
static void test_prefix_filters(void **state)
{
	static const char *const allow[] = {
		"Read(src/very/long/literal/prefix/*.c)", "Read(ab)",
		"Read(abcdefgh)", "Read(abcdefghi*)", "Exec(python3.11 -m:*)",
		"Exec(abcdefg)", "Exec(abcdefgh x)",
	};
	static const char *const deny[] = { "Exec(curl-impersonate:*)",
					    "Exec(wgetwget)" };
	struct policy p;
	char err[512];
	size_t i;

	(void)state;
	policy_init(&p);
	for (i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
		assert_int_equal(policy_add_rule(&p, POLICY_ALLOW, allow[i], NULL,
						 err, sizeof(err)), 0);
	for (i = 0; i < sizeof(deny) / sizeof(deny[0]); i++)
		assert_int_equal(policy_add_rule(&p, POLICY_DENY, deny[i], NULL,
						 err, sizeof(err)), 0);
	expect_path(&p, POLICY_READ, "src/very/long/literal/prefix/a.c",
		    POLICY_ALLOW, allow[0]);
	expect_path(&p, POLICY_READ, "src/very/long/literal/prefix/a/b.c",
		    POLICY_ASK, NULL);
	expect_path(&p, POLICY_READ, "src/very/long/literal/prefiy/a.c",
		    POLICY_ASK, NULL);
	expect_path(&p, POLICY_READ, "ab", POLICY_ALLOW, "Read(ab)");
	expect_path(&p, POLICY_READ, "a", POLICY_ASK, NULL);
	expect_path(&p, POLICY_READ, "abc", POLICY_ASK, NULL);
	expect_path(&p, POLICY_READ, "abcdefgh", POLICY_ALLOW, "Read(abcdefgh)");
	expect_path(&p, POLICY_READ, "abcdefghi", POLICY_ALLOW, "Read(abcdefghi*)");
	expect_path(&p, POLICY_READ, "abcdefghijkl", POLICY_ALLOW, "Read(abcdefghi*)");
	expect_request(&p, "Exec(python3.11 -m pytest)", POLICY_ALLOW);
	expect_request(&p, "Exec(python3.12 -m pytest)", POLICY_ASK);
	expect_request(&p, "Exec(abcdefg)", POLICY_ALLOW);
	expect_request(&p, "Exec(abcdef)", POLICY_ASK);
	expect_request(&p, "Exec(abcdefgh x)", POLICY_ALLOW);
	expect_request(&p, "Exec(abcdefghi x)", POLICY_ASK);
	expect_request(&p, "Exec(/opt/bin/curl-impersonate x)", POLICY_DENY);
	expect_request(&p, "Exec(wgetwget)", POLICY_DENY);
	expect_request(&p, "Exec(./wgetwget)", POLICY_DENY);
	policy_free(&p);
}

static void expect_rules(enum policy_tool tool, const char *subject,
			 const char *expected)
{
	char err[512], got[2048] = "", **rules = NULL;
	size_t i, o = 0;

	if (policy_approval_rules(tool, subject, &rules, err, sizeof(err)) < 0)
		fail_msg("%s: %s", subject, err);
	for (i = 0; rules[i]; i++)
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%s",
				      i ? " | " : "", rules[i]);
	assert_string_equal(got, expected);
	policy_strv_free(rules);
}

static void test_approval_rules_narrow(void **state)
{
	char err[512], **rules = NULL;

	(void)state;
	expect_rules(POLICY_EXEC, "git diff --stat", "Exec(git diff --stat)");
	expect_rules(POLICY_EXEC, "make && npm test -- -t 'a b'",
		     "Exec(make) | Exec(npm test -- -t 'a b')");
	expect_rules(POLICY_EXEC, "echo \"it's\" 'x:*'",
		     "Exec(echo 'it'\\''s' 'x:*')");
	expect_rules(POLICY_EXEC, "find . -name '*.c'",
		     "Exec(find . -name '*.c')");
	expect_rules(POLICY_WRITE, "src/a[1]*.c", "Write(src/a\\[1\\]\\*.c)");
	expect_rules(POLICY_NET, "api.example.com:443", "Net(api.example.com:443)");
	assert_int_equal(policy_approval_rules(POLICY_EXEC, "echo $(id)",
					       &rules, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "approve it once"));
	assert_int_equal(policy_approval_rules(POLICY_EXEC, "ls $DIR", &rules,
					       err, sizeof(err)), -1);
	assert_int_equal(policy_approval_rules(POLICY_READ, "a(b", &rules,
					       err, sizeof(err)), -1);
	assert_null(rules);
}

static void test_approval_saved_and_trusted(void **state)
{
	const char *const rules[] = { "Exec(npm test)", NULL };
	struct policy_layers l;
	struct policy p;
	char err[1024];

	(void)state;
	project_file("policy.json", "{\"allow\": [\"Exec(make:*)\"]}");
	layers_init(&l);
	assert_int_equal(policy_trust_record(&l, err, sizeof(err)), 0);
	assert_int_equal(policy_save_approval(&l, rules, true, err,
					      sizeof(err)), 0);
	assert_int_equal(policy_save_approval(&l, rules, true, err,
					      sizeof(err)), 0);
	load_ok(&p, &l);
	assert_true(p.project_trusted);
	expect_request(&p, "Exec(npm test)", POLICY_ALLOW);
	expect_request(&p, "Exec(npm test --watch)", POLICY_ASK);
	assert_int_equal(p.rules[p.count - 1].layer, POLICY_LAYER_LOCAL);
	assert_string_equal(p.rules[p.count - 1].text, "Exec(npm test)");
	assert_string_not_equal(p.rules[p.count - 2].text, "Exec(npm test)");
	policy_free(&p);
	cleanup_files();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_positions),
		cmocka_unit_test(test_check_reports_every_problem),
		cmocka_unit_test(test_check_lint),
		cmocka_unit_test(test_check_clean_file),
		cmocka_unit_test(test_layer_order),
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_user_file_default_and_missing),
		cmocka_unit_test(test_untrusted_project_allow_inactive),
		cmocka_unit_test(test_trust_record_and_change),
		cmocka_unit_test(test_trusted_path_in_user_file),
		cmocka_unit_test(test_project_file_symlink_rejected),
		cmocka_unit_test(test_trust_record_damaged),
		cmocka_unit_test(test_trust_record_not_regular),
		cmocka_unit_test(test_trust_record_keeps_entries),
		cmocka_unit_test(test_protected_before_layers),
		cmocka_unit_test(test_unprotect_user_only),
		cmocka_unit_test(test_absolute_rules),
		cmocka_unit_test(test_net_rules),
		cmocka_unit_test(test_skill_rules),
		cmocka_unit_test(test_verdict_sentence),
		cmocka_unit_test(test_redirection_callback),
		cmocka_unit_test(test_explain_parts),
		cmocka_unit_test(test_prefix_filters),
		cmocka_unit_test(test_approval_rules_narrow),
		cmocka_unit_test(test_approval_saved_and_trusted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
