/*
 * Escaping of untrusted text for the terminal.
 */
#include <string.h>

#include "sanitize.h"

/*
 * UTF-8 encodings of characters that reorder or hide text: the
 * bidirectional embeddings, overrides and isolates (U+202A..U+202E,
 * U+2066..U+2069) and the zero-width characters (U+200B..U+200F, U+2060,
 * U+FEFF). All start with 0xE2 0x80, 0xE2 0x81 or 0xEF 0xBB.
 */
static bool is_hidden_format(const unsigned char *p)
{
	if (p[0] == 0xE2 && p[1] == 0x80)
		return (p[2] >= 0x8B && p[2] <= 0x8F) ||
		       (p[2] >= 0xAA && p[2] <= 0xAE);
	if (p[0] == 0xE2 && p[1] == 0x81)
		return p[2] == 0xA0 || (p[2] >= 0xA6 && p[2] <= 0xA9);
	return p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF;
}

/* Code point of a three-byte UTF-8 sequence. */
static unsigned decode3(const unsigned char *p)
{
	return ((unsigned)(p[0] & 0x0F) << 12) | ((unsigned)(p[1] & 0x3F) << 6) |
	       (unsigned)(p[2] & 0x3F);
}

void sanitize_write(FILE *out, const char *text, bool keep_newlines)
{
	const unsigned char *p = (const unsigned char *)text;

	while (*p) {
		if (*p == '\n' && keep_newlines) {
			fputc('\n', out);
		} else if (*p == '\t') {
			fputc('\t', out);
		} else if (*p == 0x1b) {
			fputs("\\e", out);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\x%02x", *p);
		} else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
			/* C1 controls such as CSI (U+009B) act like ESC [. */
			fprintf(out, "\\u%04x", p[1]);
			p++;
		} else if (*p >= 0xE0 && p[1] && p[2] && is_hidden_format(p)) {
			fprintf(out, "\\u%04x", decode3(p));
			p += 2;
		} else {
			fputc(*p, out);
		}
		p++;
	}
}
