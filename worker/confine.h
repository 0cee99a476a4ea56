/*
 * Lock-down of the worker process after its start-up work, one named step
 * per layer. confine_all runs them in the only order that works; the tests
 * call the steps the same way.
 *
 * Every step is irreversible. A worker that fails half-way must exit rather
 * than carry on partly confined, so callers treat -1 as fatal.
 */
#ifndef COWORKER_WORKER_CONFINE_H
#define COWORKER_WORKER_CONFINE_H

#include <stddef.h>

/*
 * Replace the root with an empty read-only tmpfs in a mount namespace of
 * its own. Needs CAP_SYS_ADMIN, which the worker has in the user namespace
 * the supervisor starts it in (or as host root in tests).
 */
int confine_empty_root(char *err, size_t errlen);

/*
 * Core dumps off, not dumpable (no ptrace or /proc/PID/mem by others of
 * the same uid), at most 64 descriptors, file size capped for memfds,
 * address space capped (except in the sanitizer profile).
 */
int confine_rlimits(char *err, size_t errlen);

/* PR_SET_NO_NEW_PRIVS: no exec can grant privileges from now on. */
int confine_no_new_privs(char *err, size_t errlen);

/*
 * Drop every capability from all sets, the bounding set and ambient set.
 * Fails without CAP_SETPCAP, so that a worker never runs with a bounding
 * set it could not clear.
 */
int confine_drop_caps(char *err, size_t errlen);

/*
 * confine_drop_caps for a weaker sandbox: the bounding set is emptied when
 * CAP_SETPCAP allows it and left as it is otherwise (EPERM).
 */
int confine_drop_caps_weaker(char *err, size_t errlen);

/*
 * Enforce a Landlock ruleset that handles every access right the running
 * kernel supports and grants none. *abi is the kernel's Landlock ABI version,
 * or 0 when Landlock is unavailable (then nothing is enforced and 0 is
 * still returned, so that the supervisor can decide).
 */
int confine_landlock(int *abi, char *err, size_t errlen);

/* Load the seccomp allowlist; any other system call kills the process. */
int confine_seccomp(char *err, size_t errlen);

/*
 * Flags for confine_all_flags. CONFINE_WEAKER is for a worker started
 * without namespaces (coworker --weaker-worker-sandbox, announced to the
 * worker as COWORKER_SANDBOX=weaker): it has no CAP_SYS_ADMIN for the empty
 * root, and under an unprivileged supervisor no CAP_SETPCAP to empty its
 * bounding set, so those two steps are left out. Every other step stays.
 */
enum confine_flags {
	CONFINE_WEAKER = 1 << 0,
};

/* All of the above, in order. */
int confine_all(int *landlock_abi, char *err, size_t errlen);

/* confine_all with flags (enum confine_flags). */
int confine_all_flags(unsigned int flags, int *landlock_abi, char *err,
		      size_t errlen);

/*
 * The name of the seccomp and rlimit profile this build applies: "normal",
 * or "sanitizer" in a build with COWORKER_SANITIZER_PROFILE (make
 * SANITIZE=1), whose filter and limits are wider so that ASan and UBSan
 * can run and report inside the worker.
 */
const char *confine_profile(void);

#endif
