/*
 * The command sandbox's seccomp denylist, a classic BPF program built
 * from the table below without libseccomp. Building it with libseccomp
 * at run time cost about 190 us on every "coworker sandbox" start. This
 * one takes microseconds to build, and loading it is one seccomp(2) call. tests/unit/test_sandbox.c builds the same rules with
 * libseccomp and checks that both programs return the same action for every
 * system call number, architecture and flag combination it tries.
 *
 * Layout: check the architecture, load the system call number, then a
 * binary search over the rules' numbers (emit_tree). The program is built
 * once per process, in the parent before the first clone, because the
 * sandbox's processes must not allocate or lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include "supervisor/sandbox_internal.h"

#if defined(__x86_64__)
#define FILTER_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FILTER_ARCH AUDIT_ARCH_AARCH64
#else
#error "the sandbox's seccomp filter knows x86-64 and aarch64 only"
#endif

/* The low 32 bits of argument i, which is all the kernel reads of an int. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#else
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

#define RET_ERRNO(e) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (e))
#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define LOAD_NR LOAD(offsetof(struct seccomp_data, nr))

/* The action of a rule whose system call number matched. */
enum rule_kind {
	RULE_DENY,		/* EPERM */
	RULE_DENY_NEWUSER,	/* EPERM with CLONE_NEWUSER in argument 0 */
	RULE_ENOSYS,		/* ENOSYS, so glibc falls back */
	RULE_DENY_IOCTLS,	/* EPERM for TIOCSTI and TIOCLINUX */
};

struct rule {
	unsigned int nr;
	enum rule_kind kind;
};

#define RULE(name, kind) { __NR_##name, kind }

/* Sorted by number when the program is built. */
static struct rule rules[] = {
	/* System calls that no build or test needs and that widen the attack surface. */
	RULE(ptrace, RULE_DENY), RULE(process_vm_readv, RULE_DENY),
	RULE(process_vm_writev, RULE_DENY),
	RULE(mount, RULE_DENY), RULE(umount2, RULE_DENY),
	RULE(pivot_root, RULE_DENY),
	RULE(fsopen, RULE_DENY), RULE(fsconfig, RULE_DENY),
	RULE(fsmount, RULE_DENY), RULE(fspick, RULE_DENY),
	RULE(move_mount, RULE_DENY), RULE(mount_setattr, RULE_DENY),
	RULE(bpf, RULE_DENY), RULE(keyctl, RULE_DENY), RULE(add_key, RULE_DENY),
	RULE(request_key, RULE_DENY),
	RULE(io_uring_setup, RULE_DENY), RULE(io_uring_enter, RULE_DENY),
	RULE(io_uring_register, RULE_DENY),
	RULE(perf_event_open, RULE_DENY), RULE(userfaultfd, RULE_DENY),
	RULE(kexec_load, RULE_DENY), RULE(kexec_file_load, RULE_DENY),
	RULE(init_module, RULE_DENY), RULE(finit_module, RULE_DENY),
	RULE(delete_module, RULE_DENY),

	/* Nested user namespaces would give the command capabilities again. */
	RULE(unshare, RULE_DENY_NEWUSER),
	RULE(clone, RULE_DENY_NEWUSER),

	/*
	 * clone3 passes its flags in memory, which seccomp cannot read.
	 * ENOSYS makes glibc fall back to clone, which the rule above checks.
	 */
	RULE(clone3, RULE_ENOSYS),

	/*
	 * The kernel compares the ioctl request as an unsigned int, so only
	 * the low 32 bits are compared: a request with bits set above them
	 * must not slip past.
	 */
	RULE(ioctl, RULE_DENY_IOCTLS),
};
#define RULE_COUNT (sizeof(rules) / sizeof(rules[0]))

/* Rules at a leaf of the tree, matched one after the other. */
#define LEAF_RULES 4
#define PROGRAM_MAX 256

static struct sock_filter program[PROGRAM_MAX];
static unsigned short program_len;
static pthread_once_t program_once = PTHREAD_ONCE_INIT;

/* Return the length of a rule's action, each of whose paths returns. */
static unsigned int action_len(enum rule_kind kind)
{
	switch (kind) {
	case RULE_DENY_NEWUSER:
		return 4;
	case RULE_DENY_IOCTLS:
		return 5;
	default:
		return 1;
	}
}

static void emit(struct sock_filter insn)
{
	program[program_len++] = insn;
}

static void emit_action(enum rule_kind kind)
{
	switch (kind) {
	case RULE_DENY:
		emit((struct sock_filter)RET_ERRNO(EPERM));
		break;
	case RULE_ENOSYS:
		emit((struct sock_filter)RET_ERRNO(ENOSYS));
		break;
	case RULE_DENY_NEWUSER:
		emit((struct sock_filter)LOAD(ARG_LO(0)));
		emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K,
						  CLONE_NEWUSER, 1, 0));
		emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						  SECCOMP_RET_ALLOW));
		emit((struct sock_filter)RET_ERRNO(EPERM));
		break;
	case RULE_DENY_IOCTLS:
		emit((struct sock_filter)LOAD(ARG_LO(1)));
		emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						  TIOCSTI, 2, 0));
		emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						  TIOCLINUX, 1, 0));
		emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						  SECCOMP_RET_ALLOW));
		emit((struct sock_filter)RET_ERRNO(EPERM));
		break;
	}
}

/* Return the length of what emit_tree writes for rules[lo, hi). */
static unsigned int tree_len(size_t lo, size_t hi)
{
	unsigned int len = 0;
	size_t i, mid;

	if (hi - lo <= LEAF_RULES) {
		for (i = lo; i < hi; i++)
			len += 1 + action_len(rules[i].kind);
		return len + 1;
	}
	mid = lo + (hi - lo) / 2;
	return 1 + tree_len(lo, mid) + tree_len(mid, hi);
}

/*
 * Write a binary search over the sorted numbers, so that each system call
 * takes a few comparisons and not one per rule. That matters at load
 * time too: the kernel runs the filter for every system call number to
 * find those it may allow without running it again. The number is in
 * the accumulator on entry; each leaf compares its rules one by one and
 * allows the rest.
 */
static void emit_tree(size_t lo, size_t hi)
{
	size_t i, mid;

	if (hi - lo <= LEAF_RULES) {
		for (i = lo; i < hi; i++) {
			emit((struct sock_filter)BPF_JUMP(
				BPF_JMP | BPF_JEQ | BPF_K, rules[i].nr, 0,
				action_len(rules[i].kind)));
			emit_action(rules[i].kind);
		}
		emit((struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						  SECCOMP_RET_ALLOW));
		return;
	}
	mid = lo + (hi - lo) / 2;
	emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
					  rules[mid].nr, tree_len(lo, mid), 0));
	emit_tree(lo, mid);
	emit_tree(mid, hi);
}

static int rule_cmp(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;

	return (x->nr > y->nr) - (x->nr < y->nr);
}

static void program_build(void)
{
	qsort(rules, RULE_COUNT, sizeof(rules[0]), rule_cmp);

	/*
	 * Only the native architecture: the 32-bit entry (int 0x80) and x32
	 * system calls get EPERM, so a 32-bit build tool fails cleanly
	 * instead of being killed.
	 */
	emit((struct sock_filter)LOAD(offsetof(struct seccomp_data, arch)));
	emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					  FILTER_ARCH, 1, 0));
	emit((struct sock_filter)RET_ERRNO(EPERM));
	emit((struct sock_filter)LOAD_NR);
#ifdef __X32_SYSCALL_BIT
	emit((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
					  __X32_SYSCALL_BIT, 0, 1));
	emit((struct sock_filter)RET_ERRNO(EPERM));
#endif
	emit_tree(0, RULE_COUNT);
}

void sandbox_seccomp_program(const struct sock_filter **insns,
			     unsigned short *len)
{
	pthread_once(&program_once, program_build);
	*insns = program;
	*len = program_len;
}

int sandbox_seccomp_load(char *err, size_t errlen)
{
	struct sock_fprog prog = {
		.len = program_len,
		.filter = program,
	};

	/* Built by the parent (sandbox_seccomp_program) before clone. */
	if (program_len == 0) {
		snprintf(err, errlen, "command sandbox: seccomp: the filter "
			 "was not built before the sandbox started");
		return -1;
	}
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
		return 0;
	snprintf(err, errlen,
		 "command sandbox: seccomp: loading the filter failed (%s)%s",
		 strerror(errno), errno == EINVAL ?
		 "; the kernel needs CONFIG_SECCOMP_FILTER=y" : "");
	return -1;
}
