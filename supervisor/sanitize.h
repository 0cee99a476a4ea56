/*
 * Text from a worker or a command is never interpreted by the terminal:
 * control characters, escape sequences (CSI, OSC, DCS, APC and the 8-bit
 * C1 controls), bidirectional controls, zero-width and other invisible
 * characters, and invalid UTF-8 are written in a visible escaped form:
 *
 *   ESC          \e       so "\e]52;c;..." shows an OSC 52 clipboard write
 *   other C0     \xNN     (\n, \t and \r by name; see the flags)
 *   invalid byte \xNN     e.g. a lone 0x9b (8-bit CSI) shows as \x9b
 *   invisible    <U+XXXX> e.g. <U+202E> for RIGHT-TO-LEFT OVERRIDE, and the
 *                         C1 controls U+0080..U+009F encoded in UTF-8
 *
 * Only the escaped text reaches the terminal, so an escape sequence split
 * across two pieces of streamed text is harmless: its ESC is already text.
 */
#ifndef COWORKER_SANITIZE_H
#define COWORKER_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum sanitize_flags {
	SANITIZE_NEWLINES = 1 << 0,	/* write "\n" as a newline, not \n */
	SANITIZE_TABS = 1 << 1,		/* write "\t" as a tab, not \t */
	/*
	 * For approvals: every character outside printable ASCII is followed
	 * by its code point ("р<U+0440>"), and "\" is written as "\\", so
	 * escaped text cannot be mistaken for a literal.
	 */
	SANITIZE_STRICT = 1 << 2,
	/*
	 * For streamed text: an incomplete UTF-8 sequence at the end is left
	 * unconsumed, so the caller can prepend it to the next piece.
	 */
	SANITIZE_PARTIAL = 1 << 3,
};

/* Receives escaped output in pieces; s is not NUL-terminated. */
typedef void (*sanitize_emit_fn)(void *ctx, const char *s, size_t n);

/*
 * Escape len bytes of in (which may contain NUL bytes, shown as \x00) and
 * hand the result to emit. Returns the number of bytes consumed: len,
 * unless SANITIZE_PARTIAL left an incomplete UTF-8 sequence at the end.
 */
size_t sanitize_text(const char *in, size_t len, unsigned flags,
		     sanitize_emit_fn emit, void *ctx);

/*
 * Return a malloc'd, NUL-terminated escaped copy of len bytes of in, or
 * NULL when memory runs out. Without SANITIZE_PARTIAL.
 */
char *sanitize_dup(const char *in, size_t len, unsigned flags);

/*
 * Decode one UTF-8 character at p (n bytes available) into *cp. Returns
 * its length (1 to 4), 0 when p contains the valid start of a longer
 * sequence than n allows, or -1 when the bytes are not valid UTF-8
 * (overlong forms, surrogates and values above U+10FFFF included).
 */
int sanitize_utf8_decode(const unsigned char *p, size_t n, unsigned *cp);

/* Whether code point cp is invisible or reorders text (escaped always). */
bool sanitize_is_invisible(unsigned cp);

/* Write text to out escaped; tabs are kept, newlines when asked. */
void sanitize_write(FILE *out, const char *text, bool keep_newlines);

#endif
