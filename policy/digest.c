/*
 * The policy digest, recorded in the audit log and with project trust, so
 * that a changed policy is noticed. The canonical text has one line per
 * rule, "decision<TAB>rule text<LF>", in the order the rules were added.
 * The file a rule came from is left out, so moving a rule between files of
 * the same policy keeps the digest.
 */
#include <stdio.h>
#include <string.h>

#include "lib/sha256.h"
#include "policy.h"

static void digest_rules(struct sha256 *c, const struct policy *p)
{
	const struct policy_rule *r;
	const char *name;
	size_t i;

	for (i = 0; i < p->count; i++) {
		r = &p->rules[i];
		name = policy_decision_name(r->decision);
		sha256_update(c, name, strlen(name));
		sha256_update(c, "\t", 1);
		sha256_update(c, r->text, strlen(r->text));
		sha256_update(c, "\n", 1);
	}
}

void policy_digest(const struct policy *p, char hex[65])
{
	unsigned char md[SHA256_BYTES];
	struct sha256 c;

	sha256_init(&c);
	digest_rules(&c, p);
	sha256_final(&c, md);
	sha256_to_hex(md, hex);
}
