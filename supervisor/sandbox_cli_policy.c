/*
 * The policy check of "coworker sandbox --policy FILE", apart from the
 * rest of the command because only coworker-supervisor links the policy
 * parser (see supervisor/launcher.c).
 */
#include <stdio.h>

#include "policy/policy.h"
#include "supervisor/sandbox.h"

int sandbox_cli_check_policy(const char *path, const char *command)
{
	struct policy_verdict v;
	struct policy policy;
	char err[1024];
	int rc = 0;

	policy_init(&policy);
	if (policy_load_file(&policy, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "coworker sandbox: %s\n", err);
		policy_free(&policy);
		return SANDBOX_CLI_EXIT_USAGE;
	}
	v = policy_decide_command(&policy, command);
	if (v.decision != POLICY_ALLOW) {
		fprintf(stderr, "coworker sandbox: %s does not allow the command (%s: %s)\n",
			path, policy_decision_name(v.decision),
			v.rule ? v.rule->text : v.reason);
		rc = SANDBOX_CLI_EXIT_DENIED;
	}
	policy_free(&policy);
	return rc;
}
