/*
 * `coworker policy check|explain|show|trust`: the policy tools for users.
 *
 * explain and show load the layers exactly as a session does (the same -C,
 * --policy, --allow, --ask, --deny, --trust-project and --mode options),
 * so that what they print is what a session would decide.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "supervisor/broker.h"
#include "policy/check.h"
#include "policy/policy.h"
#include "policy/policy_cli.h"

/* Most rules or files one option may be given. */
#define OPT_LIST_MAX 64

/* parse_options printed the usage; the command exits 0. */
#define HELP_SHOWN (-100)

static const char policy_usage[] =
	"usage: coworker policy check [FILE...]\n"
	"       coworker policy explain [options] REQUEST\n"
	"       coworker policy show [options]\n"
	"       coworker policy trust [-C DIR]\n"
	"\n"
	"check validates policy files (default: the user file and the project\n"
	"files that exist) and prints each problem as FILE:LINE:COLUMN: message.\n"
	"explain prints the decision for REQUEST, written as Exec(command),\n"
	"Read(path), Write(path), Net(host:port) or Skill(name), and for each\n"
	"part of it, with the rule, file and line that decided.\n"
	"show prints the merged policy, each rule with its origin.\n"
	"trust records that the project's policy files, as they are now, may\n"
	"grant permissions (their allow rules take effect).\n"
	"\n"
	"options for explain and show:\n"
	"  -C DIR             workspace directory (default: .)\n"
	"  --mode PRESET      read-only, workspace-write (default) or full-access\n"
	"  --policy FILE      add the rules of FILE (repeatable)\n"
	"  --allow RULE       add an allow rule (repeatable); also --ask, --deny\n"
	"  --trust-project    let the project's allow rules take effect\n"
	"  --json             print JSON (explain only)\n";

struct cli_options {
	const char *workspace_arg;
	char workspace[PATH_MAX];
	bool json;
	struct policy_layers layers;
	const char *files[OPT_LIST_MAX + 1];
	const char *allow[OPT_LIST_MAX + 1];
	const char *ask[OPT_LIST_MAX + 1];
	const char *deny[OPT_LIST_MAX + 1];
	size_t nfiles, nallow, nask, ndeny;
};

enum {
	OPT_JSON = 256, OPT_POLICY, OPT_ALLOW, OPT_ASK, OPT_DENY, OPT_TRUST,
	OPT_MODE,
};

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "coworker policy: ");
	fprintf(stderr, msg, arg);
	fprintf(stderr, "\nRun 'coworker policy --help' for usage.\n");
	return 2;
}

static int push(const char **list, size_t *n, const char *value,
		const char *flag)
{
	if (*n == OPT_LIST_MAX)
		return usage_error("%s is given too many times (at most 64)",
				   flag);
	list[(*n)++] = value;
	list[*n] = NULL;
	return 0;
}

static int parse_option(struct cli_options *o, int c)
{
	switch (c) {
	case 'C':
		o->workspace_arg = optarg;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_POLICY:
		return push(o->files, &o->nfiles, optarg, "--policy");
	case OPT_ALLOW:
		return push(o->allow, &o->nallow, optarg, "--allow");
	case OPT_ASK:
		return push(o->ask, &o->nask, optarg, "--ask");
	case OPT_DENY:
		return push(o->deny, &o->ndeny, optarg, "--deny");
	case OPT_TRUST:
		o->layers.trust_project = true;
		return 0;
	case OPT_MODE:
		o->layers.preset = optarg;
		return 0;
	default:
		return usage_error("%s", "invalid option");
	}
}

static int parse_options(int argc, char **argv, struct cli_options *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "allow", required_argument, NULL, OPT_ALLOW },
		{ "ask", required_argument, NULL, OPT_ASK },
		{ "deny", required_argument, NULL, OPT_DENY },
		{ "trust-project", no_argument, NULL, OPT_TRUST },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->workspace_arg = ".";
	optind = 1;
	while ((c = getopt_long(argc, argv, "+C:h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(policy_usage, stdout);
			return HELP_SHOWN;
		}
		rc = parse_option(o, c);
		if (rc)
			return rc;
	}
	if (!realpath(o->workspace_arg, o->workspace)) {
		fprintf(stderr, "coworker policy: workspace %s: %s\n",
			o->workspace_arg, strerror(errno));
		return 2;
	}
	o->layers.workspace = o->workspace;
	o->layers.extra_files = o->files;
	o->layers.allow = o->allow;
	o->layers.ask = o->ask;
	o->layers.deny = o->deny;
	return 0;
}

static int load(struct policy *p, const struct cli_options *o)
{
	char err[2048];

	policy_init(p);
	if (policy_load_layers(p, &o->layers, err, sizeof(err)) < 0) {
		fprintf(stderr, "coworker policy: %s\n", err);
		policy_free(p);
		return 2;
	}
	return 0;
}

/* ---------- check ---------- */

static void print_diag(void *ctx, const char *file, int line, int column,
		       const char *message)
{
	(void)ctx;
	if (!file)
		printf("%s\n", message);
	else if (line > 0)
		printf("%s:%d:%d: %s\n", file, line, column, message);
	else
		printf("%s: %s\n", file, message);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* The layer a file would load as: the user file, a project file or another. */
static enum policy_layer file_layer(const char *path)
{
	char user[PATH_MAX], a[PATH_MAX], b[PATH_MAX];

	if (policy_user_file_path(user, sizeof(user)) == 0 &&
	    realpath(user, a) && realpath(path, b) && strcmp(a, b) == 0)
		return POLICY_LAYER_USER;
	if (ends_with(path, ".coworker/policy.local.json"))
		return POLICY_LAYER_LOCAL;
	if (ends_with(path, ".coworker/policy.json"))
		return POLICY_LAYER_PROJECT;
	return POLICY_LAYER_EXTRA;
}

static int check_one(const char *path, const char *workspace, int *problems)
{
	int n = policy_check_file(path, file_layer(path), workspace,
				  getenv("HOME"), print_diag, NULL);

	*problems += n;
	return n;
}

static int cmd_check(int argc, char **argv)
{
	char ws[PATH_MAX], path[PATH_MAX + 64];
	const char *defaults[3] = { NULL, NULL, NULL };
	int problems = 0, i, files = 0;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
			 strcmp(argv[1], "-h") == 0)) {
		fputs(policy_usage, stdout);
		return 0;
	}
	if (argc > 1 && argv[1][0] == '-' && argv[1][1])
		return usage_error("check takes only file names, not \"%s\"",
				   argv[1]);
	if (!getcwd(ws, sizeof(ws)))
		ws[0] = '\0';
	for (i = 1; i < argc; i++, files++)
		check_one(argv[i], ws[0] ? ws : NULL, &problems);
	if (argc > 1)
		goto out;

	/* No files named: the user file and the project files that exist. */
	if (policy_user_file_path(path, sizeof(path)) == 0 &&
	    access(path, F_OK) == 0)
		defaults[0] = strdup(path);
	snprintf(path, sizeof(path), "%s/.coworker/policy.json", ws);
	if (access(path, F_OK) == 0)
		defaults[1] = strdup(path);
	snprintf(path, sizeof(path), "%s/.coworker/policy.local.json", ws);
	if (access(path, F_OK) == 0)
		defaults[2] = strdup(path);
	for (i = 0; i < 3; i++) {
		if (!defaults[i])
			continue;
		check_one(defaults[i], ws, &problems);
		files++;
		free((char *)defaults[i]);
	}
	if (files == 0) {
		printf("no policy files found: none of the user file and .coworker/policy*.json exists\n");
		return 0;
	}
out:
	if (problems)
		fprintf(stderr, "%d problem%s found\n", problems,
			problems == 1 ? "" : "s");
	else
		printf("%d file%s checked, no problems\n", files,
		       files == 1 ? "" : "s");
	return problems ? 1 : 0;
}

/* ---------- explain ---------- */

static const char *part_kind_name(enum policy_part_kind k)
{
	switch (k) {
	case POLICY_PART_COMMAND:
		return "command";
	case POLICY_PART_READ:
		return "read";
	case POLICY_PART_WRITE:
		return "write";
	case POLICY_PART_CONSTRUCT:
		return "construct";
	}
	return "?";
}

static void json_add_part(cJSON *parts, const struct policy_part *pt)
{
	const struct policy_rule *r = pt->verdict.rule;
	cJSON *o = cJSON_CreateObject();
	char sentence[2048];

	cJSON_AddStringToObject(o, "kind", part_kind_name(pt->kind));
	cJSON_AddStringToObject(o, "subject", pt->subject);
	cJSON_AddStringToObject(o, "decision",
				policy_decision_name(pt->verdict.decision));
	if (r) {
		cJSON_AddStringToObject(o, "rule", r->text);
		cJSON_AddStringToObject(o, "file", r->source);
		if (r->line > 0)
			cJSON_AddNumberToObject(o, "line", r->line);
		else
			cJSON_AddNullToObject(o, "line");
	} else {
		cJSON_AddNullToObject(o, "rule");
		cJSON_AddNullToObject(o, "file");
		cJSON_AddNullToObject(o, "line");
	}
	cJSON_AddStringToObject(o, "reason",
				policy_verdict_sentence(&pt->verdict, sentence,
							sizeof(sentence)));
	cJSON_AddItemToArray(parts, o);
}

static int print_json(const char *request, const struct policy_explanation *e)
{
	cJSON *root = cJSON_CreateObject(), *parts;
	char sentence[2048];
	char *text;
	size_t i;

	cJSON_AddStringToObject(root, "request", request);
	cJSON_AddStringToObject(root, "decision",
				policy_decision_name(e->verdict.decision));
	cJSON_AddStringToObject(root, "reason",
				policy_verdict_sentence(&e->verdict, sentence,
							sizeof(sentence)));
	parts = cJSON_AddArrayToObject(root, "parts");
	for (i = 0; i < e->count; i++)
		json_add_part(parts, &e->parts[i]);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text) {
		fprintf(stderr, "coworker policy: out of memory\n");
		return 2;
	}
	printf("%s\n", text);
	cJSON_free(text);
	return 0;
}

static void print_text(const char *request, const struct policy_explanation *e)
{
	char sentence[2048];
	size_t i;

	printf("%s %s\n  %s\n", policy_decision_name(e->verdict.decision),
	       request, policy_verdict_sentence(&e->verdict, sentence,
						sizeof(sentence)));
	for (i = 0; i < e->count; i++) {
		const struct policy_part *pt = &e->parts[i];

		printf("  %-9s %-5s %s\n            %s\n", part_kind_name(pt->kind),
		       policy_decision_name(pt->verdict.decision), pt->subject,
		       policy_verdict_sentence(&pt->verdict, sentence,
					       sizeof(sentence)));
	}
}

/* A request not written as Tool(...) is taken as a command. */
static char *request_text(const char *arg)
{
	static const char *const tools[] = { "Exec(", "Read(", "Write(",
					     "Net(", "Skill(" };
	char *out;
	size_t i, n = strlen(arg);

	for (i = 0; i < 5; i++) {
		if (strncmp(arg, tools[i], strlen(tools[i])) == 0 && n &&
		    arg[n - 1] == ')')
			return strdup(arg);
	}
	if (asprintf(&out, "Exec(%s)", arg) < 0)
		return NULL;
	return out;
}

/*
 * Apply the broker's own rules to the path parts, so explain gives the
 * decision a session would: paths outside the workspace and its roots are
 * never reached, protected paths are never written, whatever the policy,
 * and the file itself is judged too (its hardlinks, a case-insensitive
 * directory). notes[i] receives a copy of part i's new reason, for the
 * caller to free.
 */
static void apply_broker_rules(const struct broker *b, const struct policy *p,
			       struct policy_explanation *e, char **notes)
{
	char rel[BROKER_PATH_MAX], real[BROKER_PATH_MAX], err[1024];
	struct policy_part *part;
	struct policy_verdict v;
	enum broker_status st;
	enum policy_tool tool;
	size_t i;

	for (i = 0; i < e->count; i++) {
		part = &e->parts[i];
		if (part->kind != POLICY_PART_READ &&
		    part->kind != POLICY_PART_WRITE)
			continue;
		tool = part->kind == POLICY_PART_READ ? POLICY_READ :
		       POLICY_WRITE;
		st = broker_normalize(b, part->subject, rel, sizeof(rel), err,
				      sizeof(err));
		if (st == BROKER_OK)
			st = broker_resolve(b, rel, real, sizeof(real), err,
					    sizeof(err));
		if (st == BROKER_NOT_FOUND) {
			snprintf(real, sizeof(real), "%s", rel);
			st = BROKER_OK;
		}
		if (st == BROKER_OUTSIDE || st == BROKER_FAILED) {
			part->verdict.decision = POLICY_DENY;
			part->verdict.rule = NULL;
			part->verdict.reason = "the path is outside the "
				"workspace: the broker never reaches it";
		} else if (tool == POLICY_WRITE &&
			   (broker_is_protected(rel) ||
			    broker_is_protected(real))) {
			part->verdict.decision = POLICY_DENY;
			part->verdict.rule = NULL;
			part->verdict.reason = "protected: the broker never "
				"writes there, whatever the policy says";
		} else {
			v = broker_decide(b, p, tool, rel, real);
			if (v.decision > part->verdict.decision ||
			    (v.reason && v.decision == part->verdict.decision &&
			     !part->verdict.reason)) {
				notes[i] = v.reason ? strdup(v.reason) : NULL;
				v.reason = notes[i];
				part->verdict = v;
			}
		}
		if (part->verdict.decision > e->verdict.decision)
			e->verdict = part->verdict;
	}
}

static int cmd_explain(int argc, char **argv)
{
	struct policy_explanation e;
	struct cli_options o;
	struct broker b = { .root_fd = -1 };
	struct policy p;
	char err[2048], *request, **notes;
	size_t i;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc == HELP_SHOWN ? 0 : rc;
	if (optind != argc - 1)
		return usage_error("%s", "explain needs exactly one REQUEST, e.g. 'Exec(make test)'");
	if (load(&p, &o))
		return 2;
	request = request_text(argv[optind]);
	if (!request || policy_explain_request(&p, request, &e, err,
					       sizeof(err)) < 0) {
		fprintf(stderr, "coworker policy: %s\n",
			request ? err : "out of memory");
		policy_explanation_free(&e);
		free(request);
		policy_free(&p);
		return 2;
	}
	notes = calloc(e.count ? e.count : 1, sizeof(*notes));
	if (!notes || broker_open(&b, o.workspace, err, sizeof(err)) < 0 ||
	    broker_add_roots(&b, &p, err, sizeof(err)) < 0) {
		fprintf(stderr, "coworker policy: %s\n",
			notes ? err : "out of memory");
		rc = 2;
		goto out;
	}
	apply_broker_rules(&b, &p, &e, notes);
	if (o.json)
		rc = print_json(request, &e);
	else
		print_text(request, &e);
out:
	broker_close(&b);
	for (i = 0; notes && i < e.count; i++)
		free(notes[i]);
	free(notes);
	policy_explanation_free(&e);
	free(request);
	policy_free(&p);
	return rc;
}

/* ---------- show ---------- */

static void print_rule(const struct policy_rule *r)
{
	char where[1200];

	if (r->line > 0)
		snprintf(where, sizeof(where), "%s:%d:%d", r->source, r->line,
			 r->column);
	else
		snprintf(where, sizeof(where), "%s", r->source);
	printf("  %-5s %-40s %s (%s)%s\n", policy_decision_name(r->decision),
	       r->text, where, policy_layer_name(r->layer),
	       r->inactive ? "  [inactive: project not trusted]" : "");
}

static int cmd_show(int argc, char **argv)
{
	struct cli_options o;
	struct policy p;
	size_t i;
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc == HELP_SHOWN ? 0 : rc;
	if (optind != argc)
		return usage_error("%s", "show takes no arguments besides options");
	if (load(&p, &o))
		return 2;
	printf("workspace: %s\n", o.workspace);
	if (p.project_digest[0])
		printf("project policy: %s (sha256 %s)%s\n",
		       p.project_trusted ? "trusted" : "not trusted",
		       p.project_digest,
		       p.inactive_count ? "; its allow rules are inactive" : "");
	printf("protected (deny Read and Write before any rule):\n");
	for (i = 0; i < p.nprotected; i++)
		printf("  deny  %-40s built-in protected list\n",
		       p.protected_rules[i].text);
	for (i = 0; i < p.nunprotected; i++)
		printf("  unprotected by the user file: %s\n", p.unprotected[i]);
	printf("rules (deny beats ask beats allow, whatever the layer):\n");
	for (i = 0; i < p.count; i++)
		print_rule(&p.rules[i]);
	policy_free(&p);
	return 0;
}

/* ---------- trust ---------- */

static int cmd_trust(int argc, char **argv)
{
	struct cli_options o;
	char err[2048];
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc)
		return rc == HELP_SHOWN ? 0 : rc;
	if (optind != argc)
		return usage_error("%s", "trust takes no arguments besides -C DIR");
	if (policy_trust_record(&o.layers, err, sizeof(err)) < 0) {
		fprintf(stderr, "coworker policy: %s\n", err);
		return 1;
	}
	printf("trusted %s with its policy files as they are now\n",
	       o.workspace);
	return 0;
}

int policy_cli(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(policy_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return cmd_explain(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "trust") == 0)
		return cmd_trust(argc - 1, argv + 1);
	return usage_error("unknown subcommand \"%s\": use check, explain, show or trust",
			   argv[1]);
}
