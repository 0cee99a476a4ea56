/*
 * Network namespaces of the command sandbox: bringing up loopback in a
 * fresh one, and the shared namespace that a root supervisor may keep
 * for all its commands (--shared-netns). Making a network namespace is
 * the largest single step of a sandbox's start. Its teardown later costs
 * the kernel roughly as much again (a profile's estimate, in
 * docs/benchmarks.md), while joining a kept one costs two setns calls.
 * The price of sharing: commands that run at the same time see the same
 * loopback, and the namespace's kernel state (ports, sockets in
 * TIME_WAIT) carries over from one command to the next. A command's own
 * processes still end with it, and no other address is reachable.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "supervisor/sandbox_internal.h"

/*
 * Bring up lo, which a new network namespace starts with down. The
 * sandbox's network helper runs this on a small stack of its own while
 * sharing pid 1's memory, so it makes system calls only.
 */
int sandbox_loopback_up(void)
{
	struct ifreq ifr;
	int sock, rc = -1;

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(sock, SIOCSIFFLAGS, &ifr);
	}
	close(sock);
	return rc;
}

/* Open the calling thread's network namespace. */
static int netns_current(void)
{
	return open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
}

int sandbox_netns_create(char *err, size_t errlen)
{
	const char *step = "opening /proc/thread-self/ns/net";
	int host, shared = -1, saved;

	host = netns_current();
	if (host < 0)
		goto fail;
	step = "unshare(CLONE_NEWNET)";
	if (unshare(CLONE_NEWNET) < 0) {
		if (errno == EPERM)
			goto needs_root;
		goto fail;
	}
	step = "bringing up loopback";
	if (sandbox_loopback_up() == 0) {
		step = "opening the new namespace";
		shared = netns_current();
	}
	saved = errno;
	/* This thread must not stay in the new namespace, whatever failed. */
	if (setns(host, CLONE_NEWNET) < 0) {
		snprintf(err, errlen, "command sandbox: shared network namespace: "
			 "returning to the host's failed (%s)", strerror(errno));
		if (shared >= 0)
			close(shared);
		close(host);
		return -1;
	}
	close(host);
	host = -1;
	if (shared >= 0)
		return shared;
	errno = saved;
fail:
	snprintf(err, errlen, "command sandbox: shared network namespace: %s "
		 "failed (%s)", step, strerror(errno));
	if (host >= 0)
		close(host);
	return -1;
needs_root:
	snprintf(err, errlen, "command sandbox: a shared network namespace "
		 "needs a root supervisor (unshare: %s); run without "
		 "--shared-netns to give each command a fresh one",
		 strerror(errno));
	close(host);
	return -1;
}

int sandbox_netns_enter(int netns_fd, int *host, char *err, size_t errlen)
{
	*host = netns_current();
	if (*host >= 0 && setns(netns_fd, CLONE_NEWNET) == 0)
		return 0;
	snprintf(err, errlen, "command sandbox: joining the shared network "
		 "namespace failed (%s)%s", strerror(errno),
		 errno == EPERM ? "; it needs a root supervisor" : "");
	if (*host >= 0)
		close(*host);
	*host = -1;
	return -1;
}

int sandbox_netns_leave(int host)
{
	int rc = setns(host, CLONE_NEWNET);

	close(host);
	return rc;
}
