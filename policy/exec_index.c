/*
 * An index of the Exec rules, so that judging a command looks at the
 * rules that could match it rather than at all of them.
 *
 * Allow rules compare the program name and every other word literally,
 * so an allow rule with a pattern can only match a command whose first
 * word (and second, when the rule has two or more words) equals its own.
 * Those rules go into buckets hashed by the first word alone (rules of
 * one word) or by the first two words. Deny and ask rules also match by
 * a name's last component, an expanded word or a command after a wrapper,
 * and bare rules match everything, so they stay in one list scanned in
 * full. Every list keeps rules in the order they were added.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static size_t hash_word(size_t h, const char *w)
{
	const unsigned char *s = (const unsigned char *)w;

	/* FNV-1a, with the NUL, so that "ab"+"c" and "a"+"bc" differ. */
	do {
		h ^= *s;
		h *= 1099511628211ULL;
	} while (*s++);
	return h;
}

size_t policy_exec_bucket(const char *first, const char *second)
{
	size_t h = hash_word(14695981039346656037ULL, first);

	if (second)
		h = hash_word(h, second);
	return h & (POLICY_EXEC_BUCKETS - 1);
}

static int index_push(struct policy_index *x, size_t value)
{
	size_t *grown, cap;

	if (x->n == x->cap) {
		cap = x->cap ? x->cap * 2 : 8;
		grown = realloc(x->v, cap * sizeof(*grown));
		if (!grown)
			return -1;
		x->v = grown;
		x->cap = cap;
	}
	x->v[x->n++] = value;
	return 0;
}

int policy_exec_index_add(struct policy *p, const struct policy_rule *r,
			  size_t index)
{
	size_t bucket;

	if (r->decision != POLICY_ALLOW || r->nwords == 0)
		return index_push(&p->exec_rest, index);
	if (!p->exec_buckets) {
		p->exec_buckets = calloc(POLICY_EXEC_BUCKETS,
					 sizeof(*p->exec_buckets));
		if (!p->exec_buckets)
			return -1;
	}
	bucket = policy_exec_bucket(r->words[0],
				    r->nwords > 1 ? r->words[1] : NULL);
	return index_push(&p->exec_buckets[bucket], index);
}

/* Drop the entries for rules at count and after (they were added last). */
static void index_truncate(struct policy_index *x, size_t count)
{
	while (x->n > 0 && x->v[x->n - 1] >= count)
		x->n--;
}

void policy_exec_index_truncate(struct policy *p, size_t count)
{
	size_t i;

	index_truncate(&p->exec_rest, count);
	for (i = 0; p->exec_buckets && i < POLICY_EXEC_BUCKETS; i++)
		index_truncate(&p->exec_buckets[i], count);
}

void policy_exec_index_free(struct policy *p)
{
	size_t i;

	free(p->exec_rest.v);
	for (i = 0; p->exec_buckets && i < POLICY_EXEC_BUCKETS; i++)
		free(p->exec_buckets[i].v);
	free(p->exec_buckets);
}
