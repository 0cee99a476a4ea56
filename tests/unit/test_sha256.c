/*
 * lib/sha256.c against the FIPS 180-4 example digests and against
 * libcrypto on many lengths and every way of splitting the input; base64
 * against libcrypto's encoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "lib/sha256.h"

static void hex_of(const char *text, size_t len, char hex[SHA256_HEX])
{
	sha256_hex(text, len, hex);
}

static void known_digests(void **state)
{
	static const struct {
		const char *text;
		const char *hex;
	} cases[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	char hex[SHA256_HEX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hex_of(cases[i].text, strlen(cases[i].text), hex);
		assert_string_equal(hex, cases[i].hex);
	}
}

static void million_a(void **state)
{
	unsigned char md[SHA256_BYTES];
	char hex[SHA256_HEX], block[1000];
	struct sha256 c;
	int i;

	(void)state;
	memset(block, 'a', sizeof(block));
	sha256_init(&c);
	for (i = 0; i < 1000; i++)
		sha256_update(&c, block, sizeof(block));
	sha256_final(&c, md);
	sha256_to_hex(md, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
			    "f1809a48a497200e046d39ccc7112cd0");
}

static void openssl_hex(const unsigned char *data, size_t len,
			char hex[SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL),
			 1);
	assert_int_equal(mdlen, SHA256_BYTES);
	sha256_to_hex(md, hex);
}

/* Lengths around every block boundary, hashed whole and in two parts. */
static void matches_libcrypto(void **state)
{
	unsigned char data[300], md[SHA256_BYTES];
	char want[SHA256_HEX], got[SHA256_HEX];
	struct sha256 c;
	size_t len, cut;

	(void)state;
	srand(7);
	for (len = 0; len < sizeof(data); len++)
		data[len] = (unsigned char)rand();
	for (len = 0; len <= sizeof(data); len++) {
		openssl_hex(data, len, want);
		for (cut = 0; cut <= len; cut++) {
			sha256_init(&c);
			sha256_update(&c, data, cut);
			sha256_update(&c, data + cut, len - cut);
			sha256_final(&c, md);
			sha256_to_hex(md, got);
			assert_string_equal(got, want);
		}
	}
}

static void base64_matches_libcrypto(void **state)
{
	unsigned char data[100], want[200];
	char got[200];
	size_t len, n;

	(void)state;
	for (len = 0; len < sizeof(data); len++)
		data[len] = (unsigned char)(len * 37 + 11);
	for (len = 0; len <= sizeof(data); len++) {
		EVP_EncodeBlock(want, data, (int)len);
		n = base64_encode(data, len, got);
		assert_int_equal(n, strlen((char *)want));
		assert_string_equal(got, (char *)want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_digests),
		cmocka_unit_test(million_a),
		cmocka_unit_test(matches_libcrypto),
		cmocka_unit_test(base64_matches_libcrypto),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
