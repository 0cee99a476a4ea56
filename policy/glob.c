/*
 * Glob matching for workspace-relative paths.
 *
 * "*" matches any run of characters within one path component, "?" one
 * character, "[abc]", "[a-z]" and "[!a-z]" (or "[^a-z]") one character of
 * a class, and "\x" the character x itself. None of them matches "/".
 * A "**" that forms a whole component matches zero or more components;
 * anywhere else it is two "*".
 *
 * Unlike shell globbing, "*" and "?" match a leading dot, so that a rule
 * like deny Read(*) also covers .env: a dotfile is as likely to hold a
 * secret as any other file.
 *
 * Both levels, characters within a component and components within the
 * path, use the classic wildcard algorithm that remembers only the last
 * star. A later star can absorb whatever an earlier one would have, so
 * returning to the last one is enough, and the cost stays at most the
 * product of the two lengths, even for patterns like "*a*a*a*a*b".
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "policy.h"

/* Length of the pattern element at pat[0]: a class, an escape or one char. */
static size_t element_len(const char *pat, size_t plen)
{
	size_t j;

	if (pat[0] == '\\' && plen > 1)
		return 2;
	if (pat[0] != '[')
		return 1;

	j = 1;
	if (j < plen && (pat[j] == '!' || pat[j] == '^'))
		j++;
	if (j < plen && pat[j] == ']')
		j++;	/* a "]" first in a class is a member */
	while (j < plen && pat[j] != ']')
		j++;
	if (j == plen)
		return 1;	/* no closing "]": the "[" is literal */
	return j + 1;
}

static bool class_match(const char *pat, size_t elen, char c)
{
	size_t j = 1;
	size_t end = elen - 1;	/* index of the closing "]" */
	bool negate = false;
	bool found = false;

	if (pat[j] == '!' || pat[j] == '^') {
		negate = true;
		j++;
	}
	for (; j < end; j++) {
		if (j + 2 < end && pat[j + 1] == '-') {
			if ((unsigned char)c >= (unsigned char)pat[j] &&
			    (unsigned char)c <= (unsigned char)pat[j + 2])
				found = true;
			j += 2;
		} else if (pat[j] == c) {
			found = true;
		}
	}
	return found != negate;
}

static bool element_match(const char *pat, size_t elen, char c)
{
	if (elen == 2 && pat[0] == '\\')
		return pat[1] == c;
	if (elen > 1)
		return class_match(pat, elen, c);
	if (pat[0] == '?')
		return true;
	return pat[0] == c;
}

/* Match one pattern component against one path component, neither with "/". */
static bool component_match(const char *pat, size_t plen,
			    const char *str, size_t slen)
{
	size_t p = 0, s = 0;
	size_t star_p = 0, star_s = 0;
	bool have_star = false;
	size_t elen;

	while (s < slen) {
		if (p < plen && pat[p] == '*') {
			p++;
			have_star = true;
			star_p = p;
			star_s = s;
			continue;
		}
		if (p < plen) {
			elen = element_len(pat + p, plen - p);
			if (element_match(pat + p, elen, str[s])) {
				p += elen;
				s++;
				continue;
			}
		}
		if (!have_star)
			return false;
		/* Let the last star absorb one more character and retry. */
		p = star_p;
		s = ++star_s;
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

static size_t component_len(const char *c)
{
	const char *slash = strchr(c, '/');

	return slash ? (size_t)(slash - c) : strlen(c);
}

/* The component after c, or NULL when c is the last one. */
static const char *component_next(const char *c)
{
	const char *slash = strchr(c, '/');

	return slash ? slash + 1 : NULL;
}

static bool is_globstar(const char *c)
{
	return c[0] == '*' && c[1] == '*' && (c[2] == '/' || c[2] == '\0');
}

bool policy_glob_match(const char *pattern, const char *path)
{
	const char *pc = pattern[0] ? pattern : NULL;	/* "" has no components */
	const char *sc = path[0] ? path : NULL;
	const char *star_p = NULL, *star_s = NULL;

	while (sc) {
		if (pc && is_globstar(pc)) {
			pc = component_next(pc);
			star_p = pc;
			star_s = sc;
			continue;
		}
		if (pc && component_match(pc, component_len(pc),
					  sc, component_len(sc))) {
			pc = component_next(pc);
			sc = component_next(sc);
			continue;
		}
		if (!star_s)
			return false;
		/* Let the last "**" absorb one more component and retry. */
		pc = star_p;
		star_s = component_next(star_s);
		sc = star_s;
	}
	while (pc && is_globstar(pc))
		pc = component_next(pc);
	return pc == NULL;
}
