/*
 * The new mount API and close_range for the command sandbox, under glibc
 * and under musl. glibc 2.36 declares them in <sys/mount.h> and
 * <unistd.h>. musl 1.2.3, which builds the statically linked `coworker`
 * (see the Makefile), has only the system call numbers, so the calls go
 * through syscall(2) with the kernel's own structures and flags.
 */
#ifndef COWORKER_SANDBOX_SYS_H
#define COWORKER_SANDBOX_SYS_H

#include <sys/mount.h>
#include <unistd.h>

#ifndef __GLIBC__
#include <stddef.h>
#include <sys/syscall.h>

#include <linux/close_range.h>
#include <linux/mount.h>

static inline int fsopen(const char *fs_name, unsigned int flags)
{
	return (int)syscall(SYS_fsopen, fs_name, flags);
}

static inline int fsconfig(int fd, unsigned int cmd, const char *key,
			   const void *value, int aux)
{
	return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}

static inline int fsmount(int fd, unsigned int flags, unsigned int attrs)
{
	return (int)syscall(SYS_fsmount, fd, flags, attrs);
}

static inline int move_mount(int from_dirfd, const char *from_path,
			     int to_dirfd, const char *to_path,
			     unsigned int flags)
{
	return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd,
			    to_path, flags);
}

static inline int open_tree(int dirfd, const char *path, unsigned int flags)
{
	return (int)syscall(SYS_open_tree, dirfd, path, flags);
}

static inline int mount_setattr(int dirfd, const char *path,
				unsigned int flags, struct mount_attr *attr,
				size_t size)
{
	return (int)syscall(SYS_mount_setattr, dirfd, path, flags, attr, size);
}

static inline int close_range(unsigned int first, unsigned int last,
			      int flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
}
#endif

#endif
