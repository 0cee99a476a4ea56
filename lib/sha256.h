/*
 * SHA-256 (FIPS 180-4) and base64 (RFC 4648), the only cryptography the
 * supervisor needs: the audit chain, policy and output digests, and the
 * encoded forms of the API key that the audit log redacts. Kept here so
 * that `coworker` starts without loading or relocating libcrypto.
 */
#ifndef COWORKER_LIB_SHA256_H
#define COWORKER_LIB_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32
#define SHA256_HEX (2 * SHA256_BYTES + 1)

struct sha256 {
	uint32_t state[8];
	uint64_t total;			/* bytes hashed so far */
	unsigned char block[64];	/* a block not full yet */
	size_t used;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);

/* Finish the digest into md; c must be initialised again before reuse. */
void sha256_final(struct sha256 *c, unsigned char md[SHA256_BYTES]);

/* Hash len bytes of data in one call and write the digest as hex. */
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX]);

/* Write md as lower-case hex with a terminating NUL. */
void sha256_to_hex(const unsigned char md[SHA256_BYTES], char hex[SHA256_HEX]);

/*
 * Encode len bytes as base64 with padding into out, which must have room
 * for 4 * ((len + 2) / 3) + 1 bytes. Returns the length written.
 */
size_t base64_encode(const void *data, size_t len, char *out);

#endif
