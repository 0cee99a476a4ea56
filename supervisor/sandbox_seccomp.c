/*
 * The command sandbox's seccomp denylist, written as a classic BPF program
 * at compile time. Building it with libseccomp at run time cost about
 * 190 us on every "coworker sandbox" start; loading this array is one
 * seccomp(2) call. tests/unit/test_sandbox.c builds the same rules with
 * libseccomp and checks that both programs return the same action for every
 * system call number, architecture and flag combination it tries.
 *
 * Layout: check the architecture, load the system call number, then one
 * self-contained block per rule whose jumps only skip within the block,
 * so no jump offset depends on another rule. Everything else is allowed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
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

/* Two instructions: nr == N returns EPERM, anything else goes on. */
#define DENY(name) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_##name, 0, 1), \
	RET_ERRNO(EPERM)

/*
 * Four instructions: nr == N with CLONE_NEWUSER in the flags (argument 0)
 * returns EPERM. Every path out of the block reloads the number.
 */
#define DENY_NEWUSER(name) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_##name, 0, 3), \
	LOAD(ARG_LO(0)), \
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWUSER, 0, 1), \
	RET_ERRNO(EPERM), \
	LOAD_NR

/* Six instructions: ioctl with request r1 or r2 (low 32 bits) is EPERM. */
#define DENY_IOCTLS(r1, r2) \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 5), \
	LOAD(ARG_LO(1)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (r1), 2, 0), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (r2), 1, 0), \
	BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0), \
	RET_ERRNO(EPERM), \
	LOAD_NR

static const struct sock_filter program[] = {
	/*
	 * Only the native architecture: the 32-bit entry (int 0x80) and x32
	 * system calls answer EPERM, so a 32-bit build tool fails cleanly
	 * instead of being killed.
	 */
	LOAD(offsetof(struct seccomp_data, arch)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FILTER_ARCH, 1, 0),
	RET_ERRNO(EPERM),
	LOAD_NR,
#ifdef __X32_SYSCALL_BIT
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
	RET_ERRNO(EPERM),
#endif

	/* System calls that no build or test needs and that widen the attack surface. */
	DENY(ptrace), DENY(process_vm_readv), DENY(process_vm_writev),
	DENY(mount), DENY(umount2), DENY(pivot_root),
	DENY(fsopen), DENY(fsconfig), DENY(fsmount), DENY(fspick),
	DENY(move_mount), DENY(mount_setattr),
	DENY(bpf), DENY(keyctl), DENY(add_key), DENY(request_key),
	DENY(io_uring_setup), DENY(io_uring_enter), DENY(io_uring_register),
	DENY(perf_event_open), DENY(userfaultfd),
	DENY(kexec_load), DENY(kexec_file_load),
	DENY(init_module), DENY(finit_module), DENY(delete_module),

	/* Nested user namespaces would give the command capabilities again. */
	DENY_NEWUSER(unshare),
	DENY_NEWUSER(clone),

	/*
	 * clone3 passes its flags in memory, which seccomp cannot read.
	 * ENOSYS makes glibc fall back to clone, which the rule above checks.
	 */
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
	RET_ERRNO(ENOSYS),

	/*
	 * The kernel compares the ioctl request as an unsigned int, so only
	 * the low 32 bits are compared: a request with bits set above them
	 * must not slip past.
	 */
	DENY_IOCTLS(TIOCSTI, TIOCLINUX),

	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

void sandbox_seccomp_program(const struct sock_filter **insns,
			     unsigned short *len)
{
	*insns = program;
	*len = (unsigned short)(sizeof(program) / sizeof(program[0]));
}

int sandbox_seccomp_load(char *err, size_t errlen)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(program) / sizeof(program[0])),
		.filter = (struct sock_filter *)program,
	};

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
		return 0;
	snprintf(err, errlen,
		 "command sandbox: seccomp: loading the filter failed (%s)%s",
		 strerror(errno), errno == EINVAL ?
		 "; the kernel needs CONFIG_SECCOMP_FILTER=y" : "");
	return -1;
}
