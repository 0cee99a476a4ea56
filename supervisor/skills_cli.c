/*
 * "coworker skills list|show|check": inspect the skills a session would
 * offer, and validate a folder of skills before committing it.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "sanitize.h"
#include "skills.h"

/* Width of the description column in "skills list", in bytes. */
#define LIST_DESCRIPTION_MAX 72

static const char skills_usage[] =
	"usage: coworker skills list [-C DIR] [--trust-project]\n"
	"       coworker skills show NAME [-C DIR] [--trust-project]\n"
	"       coworker skills check [DIR]\n"
	"\n"
	"list and show read the shipped skills, the user's\n"
	"($XDG_CONFIG_HOME/coworker/skills) and the workspace's\n"
	"(DIR/.coworker/skills, then DIR/.claude/skills); a later folder's\n"
	"skill replaces an earlier one of the same name. check validates\n"
	"every skill folder in DIR (default: skills), or DIR itself when it\n"
	"holds a SKILL.md, and exits 1 if any skill is invalid.\n";

static int usage_fail(const char *msg)
{
	fprintf(stderr, "coworker skills: %s\n%s", msg, skills_usage);
	return 2;
}

struct check_counts {
	unsigned warnings;
	unsigned notes;
};

static void check_warn(void *ctx, enum skills_severity severity,
		       const char *message)
{
	struct check_counts *c = ctx;

	if (severity == SKILLS_WARNING)
		c->warnings++;
	else
		c->notes++;
	if (severity == SKILLS_NOTE)
		fputs("note: ", stderr);
	sanitize_write(stderr, message, false);
	fputc('\n', stderr);
}

static void list_warn(void *ctx, enum skills_severity severity,
		      const char *message)
{
	(void)ctx;
	if (severity != SKILLS_WARNING)
		return;
	fputs("coworker: warning: ", stderr);
	sanitize_write(stderr, message, false);
	fputc('\n', stderr);
}

/* --trust-project: list the project's skills as a trusting session would. */
static bool trust_flag;

static int parse_one(int argc, char **argv, const char **workspace)
{
	static const struct option opts[] = {
		{ "trust-project", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+C:", opts, NULL)) != -1) {
		if (c == 'T')
			trust_flag = true;
		else if (c == 'C')
			*workspace = optarg;
		else
			return -1;
	}
	return 0;
}

/* Parse "[-C DIR] [--trust-project]" (and, for show, one NAME). */
static int parse_workspace(int argc, char **argv, const char **workspace,
			   const char **name)
{
	*workspace = ".";
	trust_flag = false;
	optind = 1;
	if (parse_one(argc, argv, workspace) < 0)
		return -1;
	if (name) {
		if (optind >= argc)
			return -1;
		*name = argv[optind++];
		/* Allow "show NAME -C DIR" as well as "-C DIR NAME". */
		if (parse_one(argc, argv, workspace) < 0)
			return -1;
	}
	return optind == argc ? 0 : -1;
}

/*
 * Whether a session in workspace would trust the project, from the same
 * policy layers a session loads. A policy that fails to load trusts
 * nothing; the session would not start either.
 */
static bool project_trusted(const char *workspace)
{
	struct policy_layers layers;
	char real[PATH_MAX], err[1024];
	struct policy p;
	bool trusted;

	if (!realpath(workspace, real))
		return false;
	memset(&layers, 0, sizeof(layers));
	layers.workspace = real;
	policy_init(&p);
	trusted = policy_load_layers(&p, &layers, err, sizeof(err)) == 0 &&
		  p.project_trusted;
	policy_free(&p);
	return trusted;
}

static void discover(struct skill_set *set, const char *workspace)
{
	struct skills_roots roots;

	skills_roots_default(&roots, workspace);
	roots.trust_project = trust_flag || project_trusted(workspace);
	skills_init(set);
	skills_discover(set, &roots, list_warn, NULL);
	if (set->untrusted_skipped > 0)
		fprintf(stderr, "coworker: the project's own skills are not "
			"listed until you trust the project ('coworker policy "
			"trust', or --trust-project)\n");
}

/* The description's first line, cut to LIST_DESCRIPTION_MAX bytes at a
 * character boundary. */
static void print_short_description(const char *d)
{
	size_t n = strcspn(d, "\n");
	char buf[LIST_DESCRIPTION_MAX + 4];
	bool cut = n > LIST_DESCRIPTION_MAX;

	if (cut) {
		n = LIST_DESCRIPTION_MAX - 3;
		while (n > 0 && ((unsigned char)d[n] & 0xC0) == 0x80)
			n--;
	}
	snprintf(buf, sizeof(buf), "%.*s%s", (int)n, d, cut ? "..." : "");
	sanitize_write(stdout, buf, false);
}

static int cmd_list(int argc, char **argv)
{
	struct skill_set set;
	const char *workspace;
	size_t i, width = 4;

	if (parse_workspace(argc, argv, &workspace, NULL) < 0)
		return usage_fail("list takes only -C DIR and --trust-project");
	discover(&set, workspace);
	for (i = 0; i < set.count; i++)
		if (strlen(set.skills[i].name) > width)
			width = strlen(set.skills[i].name);
	for (i = 0; i < set.count; i++) {
		const struct skill *sk = &set.skills[i];

		printf("%-*s  %-8s  ", (int)width, sk->name, sk->source);
		print_short_description(sk->description);
		if (sk->overridden_source)
			printf(" (overrides %s)", sk->overridden_source);
		fputc('\n', stdout);
	}
	if (set.count == 0)
		fputs("no skills found\n", stderr);
	skills_free(&set);
	return 0;
}

static void print_field(const char *label, const char *value)
{
	if (!value)
		return;
	printf("%-15s ", label);
	sanitize_write(stdout, value, false);
	fputc('\n', stdout);
}

static void print_skill(const struct skill *sk, const char *body)
{
	size_t i;

	print_field("name:", sk->name);
	print_field("description:", sk->description);
	print_field("source:", sk->source);
	print_field("overrides:", sk->overridden_source);
	print_field("path:", sk->path);
	print_field("license:", sk->license);
	print_field("compatibility:", sk->compatibility);
	if (sk->has_allowed_tools) {
		printf("%-15s", "allowed-tools:");
		for (i = 0; i < sk->nallowed; i++) {
			fputc(' ', stdout);
			sanitize_write(stdout, sk->allowed_tools[i], false);
		}
		fputc('\n', stdout);
	}
	for (i = 0; i < sk->nmetadata; i++) {
		printf("metadata:       ");
		sanitize_write(stdout, sk->metadata_keys[i], false);
		fputs(": ", stdout);
		sanitize_write(stdout, sk->metadata_values[i], false);
		fputc('\n', stdout);
	}
	fputc('\n', stdout);
	sanitize_write(stdout, body, true);
}

static int cmd_show(int argc, char **argv)
{
	const char *workspace, *name;
	const struct skill *sk;
	struct skill_set set;
	char err[1024], *body;
	size_t len;
	int rc = 1;

	if (parse_workspace(argc, argv, &workspace, &name) < 0)
		return usage_fail("show takes one NAME, -C DIR and --trust-project");
	discover(&set, workspace);
	sk = skills_find(&set, name);
	if (!sk) {
		fputs("coworker skills: no skill named \"", stderr);
		sanitize_write(stderr, name, false);
		fputs("\"; run 'coworker skills list' to see them\n", stderr);
		goto out;
	}
	if (skills_load_body(sk, &body, &len, err, sizeof(err)) < 0) {
		fprintf(stderr, "coworker skills: %s\n", err);
		goto out;
	}
	print_skill(sk, body);
	free(body);
	rc = 0;
out:
	skills_free(&set);
	return rc;
}

static int cmd_check(int argc, char **argv)
{
	struct check_counts counts = { 0 };
	const char *dir = "skills";
	struct skill_set set;
	int bad;

	if (argc > 2)
		return usage_fail("check takes at most one DIR");
	if (argc == 2)
		dir = argv[1];
	skills_init(&set);
	bad = skills_check_dir(dir, &set, check_warn, &counts);
	if (bad < 0) {
		skills_free(&set);
		return 1;
	}
	printf("%zu valid skill%s, %d invalid, %u note%s\n", set.count,
	       set.count == 1 ? "" : "s", bad, counts.notes,
	       counts.notes == 1 ? "" : "s");
	skills_free(&set);
	return bad ? 1 : 0;
}

int skills_cli(int argc, char **argv)
{
	if (argc < 2)
		return usage_fail("missing subcommand");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(skills_usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	return usage_fail("unknown subcommand; use list, show or check");
}
