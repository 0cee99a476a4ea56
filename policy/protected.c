/*
 * The built-in protected list: files that hold secrets (keys, cloud and
 * GPG credentials, .env files, coworker's own configuration with API
 * keys). Reads and writes of them are denied before any layer's rules are
 * looked at, so no allow rule anywhere reaches them. Only the user file
 * can take an entry off ("unprotect"), and the policy records which.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *const policy_protected_list[] = {
	"~/.ssh/**",
	"~/.aws/**",
	"~/.config/gcloud/**",
	"~/.azure/**",
	"~/.gnupg/**",
	"~/.netrc",
	"~/.git-credentials",
	"~/.docker/config.json",
	"~/.kube/config",
	"~/.config/gh/**",
	"~/.npmrc",
	"~/.pypirc",
	"~/.cargo/credentials",
	"~/.cargo/credentials.toml",
	"~/.gem/credentials",
	"~/.pgpass",
	"~/.vault-token",
	"~/.terraform.d/credentials.tfrc.json",
	"~/.config/coworker/**",
	"**/.env",
	"**/.env.*",
	"**/*.pem",
	"**/*.key",
	NULL,
};

static bool is_unprotected(const struct policy *p, const char *entry)
{
	size_t i;

	for (i = 0; i < p->nunprotected; i++) {
		if (strcmp(p->unprotected[i], entry) == 0)
			return true;
	}
	return false;
}

static void protected_clear(struct policy *p)
{
	size_t i;

	for (i = 0; i < p->nprotected; i++)
		policy_rule_free(&p->protected_rules[i]);
	free(p->protected_rules);
	p->protected_rules = NULL;
	p->nprotected = 0;
}

int policy_protected_load(struct policy *p, char *err, size_t errlen)
{
	struct policy_origin o = { "built-in protected list", 0, 0,
				   POLICY_LAYER_PROTECTED };
	struct policy_rule *r;
	char text[256];
	size_t i, n = 0;

	protected_clear(p);
	while (policy_protected_list[n])
		n++;
	p->protected_rules = calloc(n, sizeof(*p->protected_rules));
	if (!p->protected_rules) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (is_unprotected(p, policy_protected_list[i]))
			continue;
		r = &p->protected_rules[p->nprotected];
		snprintf(text, sizeof(text), "Read(%s)", policy_protected_list[i]);
		if (policy_rule_parse(r, POLICY_DENY, text, &o, err,
				      errlen) < 0) {
			policy_rule_free(r);
			protected_clear(p);
			return -1;
		}
		/* Shown as the entry itself, the form "unprotect" takes. */
		free(r->text);
		r->text = strdup(policy_protected_list[i]);
		p->nprotected++;
		if (!r->text) {
			protected_clear(p);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}
