// SPDX-License-Identifier: MIT
/*
 * readlink.c - the interposers that read a symbolic link: readlink,
 * readlinkat and their _FORTIFY_SOURCE variants.
 *
 * The emulated namespace has links of its own: the sysfs entries of the
 * emulated PCI devices (/sys/bus/pci/devices/<BDF> and its iommu_group,
 * see uiommu_readlink()), through which a VMM such as QEMU finds a
 * device's VFIO group. A path shim_classify() calls emulated is answered
 * by the library; the debugfs stand-in's paths are read there; everything
 * else goes to libc unchanged.
 *
 * realpath(3) is not interposed: glibc resolves links with its own
 * internal calls, so it sees the host's sysfs only.
 *
 * No state, no locks.
 */
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "shim.h"

ssize_t __readlink_chk(const char *path, char *buf, size_t size, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t size, size_t buflen);

enum readlink_kind { RL_PLAIN, RL_AT, RL_CHK, RL_AT_CHK };

static ssize_t readlink_real(enum readlink_kind kind, int dirfd, const char *path, char *buf,
			     size_t size, size_t buflen)
{
	switch (kind) {
	case RL_PLAIN:
		return REAL(readlink)(path, buf, size);
	case RL_AT:
		return REAL(readlinkat)(dirfd, path, buf, size);
	case RL_CHK:
		return REAL(__readlink_chk)(path, buf, size, buflen);
	default:
		return REAL(__readlinkat_chk)(dirfd, path, buf, size, buflen);
	}
}

static ssize_t readlink_common(enum readlink_kind kind, int dirfd, const char *path, char *buf,
			       size_t size, size_t buflen)
{
	char abs[PATH_MAX];

	/* A checked read larger than the buffer is libc's to report (it aborts). */
	if (SHIM_BYPASS() || ((kind == RL_CHK || kind == RL_AT_CHK) && size > buflen))
		return readlink_real(kind, dirfd, path, buf, size, buflen);
	switch (shim_classify(dirfd, path, abs, sizeof(abs))) {
	case SHIM_PATH_EMULATED:
		return LIB(uiommu_readlink(abs, buf, size));
	case SHIM_PATH_REDIRECT:
		return readlink_real(kind == RL_CHK || kind == RL_AT_CHK ? RL_CHK : RL_PLAIN,
				     AT_FDCWD, abs, buf, size, buflen);
	case SHIM_PATH_ERROR:
		return -1;
	case SHIM_PATH_HOST:
		break;
	}
	return readlink_real(kind, dirfd, path, buf, size, buflen);
}

ssize_t readlink(const char *path, char *buf, size_t size)
{
	return readlink_common(RL_PLAIN, AT_FDCWD, path, buf, size, 0);
}

ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	return readlink_common(RL_AT, dirfd, path, buf, size, 0);
}

ssize_t __readlink_chk(const char *path, char *buf, size_t size, size_t buflen)
{
	return readlink_common(RL_CHK, AT_FDCWD, path, buf, size, buflen);
}

ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t size, size_t buflen)
{
	return readlink_common(RL_AT_CHK, dirfd, path, buf, size, buflen);
}
