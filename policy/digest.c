/*
 * The policy digest, recorded in the audit log and with project trust, so
 * that a changed policy is noticed. The canonical text has one line per
 * rule, "decision<TAB>rule text<LF>", in the order the rules were added.
 * The file a rule came from is left out, so moving a rule between files of
 * the same policy keeps the digest.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "policy.h"

static int digest_rules(EVP_MD_CTX *ctx, const struct policy *p)
{
	const struct policy_rule *r;
	const char *name;
	size_t i;

	for (i = 0; i < p->count; i++) {
		r = &p->rules[i];
		name = policy_decision_name(r->decision);
		if (!EVP_DigestUpdate(ctx, name, strlen(name)) ||
		    !EVP_DigestUpdate(ctx, "\t", 1) ||
		    !EVP_DigestUpdate(ctx, r->text, strlen(r->text)) ||
		    !EVP_DigestUpdate(ctx, "\n", 1))
			return -1;
	}
	return 0;
}

/* On a libcrypto failure hex is the empty string, never a valid digest. */
void policy_digest(const struct policy *p, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	hex[0] = '\0';
	if (!ctx)
		return;
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) ||
	    digest_rules(ctx, p) < 0 ||
	    !EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32)
		goto out;
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
out:
	EVP_MD_CTX_free(ctx);
}
