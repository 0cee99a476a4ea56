/*
 * The display sanitiser: nothing a worker or a command sends may reach the
 * terminal as a control sequence or as an invisible character.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/sanitize.h"

struct sanitize_case {
	const char *name;
	const char *in;
	unsigned flags;
	const char *out;
};

#define NL SANITIZE_NEWLINES
#define TAB SANITIZE_TABS
#define STRICT SANITIZE_STRICT

static const struct sanitize_case cases[] = {
	{ "plain ASCII", "hello, world", 0, "hello, world" },
	{ "CSI colour", "\x1b[31mred\x1b[0m", 0, "\\e[31mred\\e[0m" },
	{ "OSC 52 clipboard write", "\x1b]52;c;ZWNobyBoaQ==\x07", 0,
	  "\\e]52;c;ZWNobyBoaQ==\\x07" },
	{ "OSC 8 link", "\x1b]8;;http://127.0.0.1/\x1b\\x\x1b]8;;\x1b\\", 0,
	  "\\e]8;;http://127.0.0.1/\\e\\x\\e]8;;\\e\\" },
	{ "DCS", "\x1bP1$r\x1b\\", 0, "\\eP1$r\\e\\" },
	{ "APC", "\x1b_Gf=100\x1b\\", 0, "\\e_Gf=100\\e\\" },
	{ "8-bit CSI byte", "a\x9b" "31mb", 0, "a\\x9b31mb" },
	{ "C1 CSI in UTF-8", "a\xc2\x9b" "31m", 0, "a<U+009B>31m" },
	{ "C1 OSC in UTF-8", "\xc2\x9d" "52;c;x", 0, "<U+009D>52;c;x" },
	{ "right-to-left override", "abc\xe2\x80\xae" "cba", 0,
	  "abc<U+202E>cba" },
	{ "left-to-right embedding", "\xe2\x80\xaa", 0, "<U+202A>" },
	{ "first strong isolate", "\xe2\x81\xa8", 0, "<U+2068>" },
	{ "pop directional isolate", "\xe2\x81\xa9", 0, "<U+2069>" },
	{ "left-to-right mark", "\xe2\x80\x8e", 0, "<U+200E>" },
	{ "right-to-left mark", "\xe2\x80\x8f", 0, "<U+200F>" },
	{ "arabic letter mark", "\xd8\x9c", 0, "<U+061C>" },
	{ "zero-width space", "r\xe2\x80\x8bm", 0, "r<U+200B>m" },
	{ "zero-width joiner", "\xe2\x80\x8d", 0, "<U+200D>" },
	{ "word joiner", "\xe2\x81\xa0", 0, "<U+2060>" },
	{ "byte order mark", "\xef\xbb\xbfx", 0, "<U+FEFF>x" },
	{ "tag character", "\xf3\xa0\x81\x81", 0, "<U+E0041>" },
	{ "line separator", "a\xe2\x80\xa8" "b", 0, "a<U+2028>b" },
	{ "newline escaped", "a\nb", 0, "a\\nb" },
	{ "newline kept", "a\nb", NL, "a\nb" },
	{ "tab escaped", "a\tb", 0, "a\\tb" },
	{ "tab kept", "a\tb", TAB, "a\tb" },
	{ "carriage return", "safe\rrm -rf", NL, "safe\\rrm -rf" },
	{ "backspace", "x\by", 0, "x\\x08y" },
	{ "delete", "x\x7fy", 0, "x\\x7fy" },
	{ "visible unicode kept", "caf\xc3\xa9 \xe2\x9c\x93", 0,
	  "caf\xc3\xa9 \xe2\x9c\x93" },
	{ "overlong slash", "\xc0\xaf", 0, "\\xc0\\xaf" },
	{ "overlong three bytes", "\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf" },
	{ "surrogate", "\xed\xa0\x80", 0, "\\xed\\xa0\\x80" },
	{ "above U+10FFFF", "\xf4\x90\x80\x80", 0,
	  "\\xf4\\x90\\x80\\x80" },
	{ "truncated at end", "ok\xe2\x80", 0, "ok\\xe2\\x80" },
	{ "lone continuation", "\x80", 0, "\\x80" },
	{ "strict cyrillic er", "\xd1\x80m -rf /", STRICT,
	  "\xd1\x80<U+0440>m -rf /" },
	{ "strict backslash", "a\\eb", STRICT, "a\\\\eb" },
	{ "strict bidi once", "\xe2\x80\xae", STRICT, "<U+202E>" },
	{ "strict ASCII unchanged", "git status", STRICT, "git status" },
	{ "backslash kept outside strict", "C:\\x", 0, "C:\\x" },
};

static void test_sanitize_cases(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = sanitize_dup(cases[i].in, strlen(cases[i].in),
					 cases[i].flags);

		assert_non_null(out);
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("%s: got \"%s\", expected \"%s\"",
				 cases[i].name, out, cases[i].out);
		free(out);
	}
}

static void test_sanitize_nul_byte(void **state)
{
	char *out = sanitize_dup("a\0b", 3, 0);

	(void)state;
	assert_string_equal(out, "a\\x00b");
	free(out);
}

struct collect {
	char text[256];
	size_t len;
};

static void collect(void *ctx, const char *s, size_t n)
{
	struct collect *c = ctx;

	assert_true(c->len + n < sizeof(c->text));
	memcpy(c->text + c->len, s, n);
	c->len += n;
	c->text[c->len] = '\0';
}

/* A character split across two streamed pieces is kept whole. */
static void test_sanitize_partial_utf8(void **state)
{
	const char *piece = "ab\xe2\x80";
	struct collect c = { "", 0 };
	size_t used;

	(void)state;
	used = sanitize_text(piece, strlen(piece), SANITIZE_PARTIAL, collect,
			     &c);
	assert_int_equal(used, 2);
	assert_string_equal(c.text, "ab");

	used = sanitize_text("\xe2\x80\xae" "x", 4, SANITIZE_PARTIAL, collect,
			     &c);
	assert_int_equal(used, 4);
	assert_string_equal(c.text, "ab<U+202E>x");
}

/* An invalid start is escaped at once even in partial mode. */
static void test_sanitize_partial_invalid(void **state)
{
	struct collect c = { "", 0 };

	(void)state;
	assert_int_equal(sanitize_text("\xff", 1, SANITIZE_PARTIAL, collect,
				       &c), 1);
	assert_string_equal(c.text, "\\xff");
}

/* The output never contains a byte a terminal acts on. */
static void test_sanitize_every_byte(void **state)
{
	char in[512];
	char *out;
	size_t i;

	(void)state;
	for (i = 0; i < 256; i++) {
		in[2 * i] = (char)i;
		in[2 * i + 1] = (char)(255 - i);
	}
	out = sanitize_dup(in, sizeof(in), 0);
	assert_non_null(out);
	for (i = 0; out[i]; i++) {
		unsigned char c = (unsigned char)out[i];

		assert_false(c < 0x20 || c == 0x7f);
	}
	assert_null(strstr(out, "\xc2\x9b"));
	free(out);
}

static void test_sanitize_write_keeps_tabs(void **state)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	(void)state;
	assert_non_null(f);
	sanitize_write(f, "a\tb\n\x1b[2J", false);
	sanitize_write(f, "\nc", true);
	fclose(f);
	assert_string_equal(buf, "a\tb\\n\\e[2J\nc");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_cases),
		cmocka_unit_test(test_sanitize_nul_byte),
		cmocka_unit_test(test_sanitize_partial_utf8),
		cmocka_unit_test(test_sanitize_partial_invalid),
		cmocka_unit_test(test_sanitize_every_byte),
		cmocka_unit_test(test_sanitize_write_keeps_tabs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
