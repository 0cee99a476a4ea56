/*
 * Output capture for the command sandbox. The combined stdout and stderr
 * pipe is read into a memfd up to a cap, and the rest is only counted. The
 * kept bytes are hashed as they arrive, so no second pass is needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>


#include "supervisor/sandbox_internal.h"

#define OUTPUT_CHUNK 65536

int sandbox_output_open(struct sandbox_output *out, size_t cap, char *err,
			size_t errlen)
{
	out->memfd = -1;
	out->cap = cap;
	out->kept = 0;
	out->total = 0;

	out->memfd = memfd_create("coworker-output",
				  MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (out->memfd < 0) {
		snprintf(err, errlen,
			 "command sandbox: memfd_create for the output failed (%s)",
			 strerror(errno));
		return -1;
	}

	sha256_init(&out->digest);
	return 0;
}

static int output_keep(struct sandbox_output *out, const char *buf,
		       size_t len, char *err, size_t errlen)
{
	size_t room = out->cap - out->kept;
	size_t done = 0;

	if (len > room)
		len = room;

	while (done < len) {
		ssize_t n = write(out->memfd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen,
				 "command sandbox: writing the output memfd failed (%s)",
				 n < 0 ? strerror(errno) : "short write");
			return -1;
		}
		done += (size_t)n;
	}

	sha256_update(&out->digest, buf, len);
	out->kept += len;
	return 0;
}

int sandbox_output_read(struct sandbox_output *out, int fd, char *err,
			size_t errlen)
{
	char buf[OUTPUT_CHUNK];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n < 0) {
			snprintf(err, errlen,
				 "command sandbox: reading the output pipe failed (%s)",
				 strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;

		out->total += (size_t)n;
		if (output_keep(out, buf, (size_t)n, err, errlen) < 0)
			return -1;
		if (out->total - out->kept > SANDBOX_OUTPUT_SURPLUS_MAX)
			return 0;
	}
}

int sandbox_output_finish(struct sandbox_output *out,
			  struct sandbox_result *result, char *err,
			  size_t errlen)
{
	const int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
			  F_SEAL_SEAL;
	unsigned char md[SHA256_BYTES];

	sha256_final(&out->digest, md);

	if (fcntl(out->memfd, F_ADD_SEALS, seals) < 0 ||
	    lseek(out->memfd, 0, SEEK_SET) < 0) {
		snprintf(err, errlen,
			 "command sandbox: sealing the output memfd failed (%s)",
			 strerror(errno));
		return -1;
	}

	sha256_to_hex(md, result->output_sha256);
	result->output_bytes = out->total;
	result->truncated = out->total > out->kept;
	result->output_fd = out->memfd;
	out->memfd = -1;
	return 0;
}

void sandbox_output_close(struct sandbox_output *out)
{
	if (out->memfd >= 0)
		close(out->memfd);
	out->memfd = -1;
}
