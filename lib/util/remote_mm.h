/* SPDX-License-Identifier: MIT */
/*
 * Another process's memory: what the kernel reaches through a struct
 * mm_struct that is not current->mm (an iommufd file inherited over fork()
 * and used by the child, see lib/uiommu_remote.c).
 *
 * A remote_mm names a process by its PID and its start time (field 22 of
 * /proc/<pid>/stat), so a PID reused by a later process is never mistaken
 * for the one that made a mapping. A process that has exited (or is a
 * zombie, whose memory is already gone) is "dead": every operation on its
 * memory fails with EFAULT, as GUP on an mm without VMAs does.
 *
 * Three things can be done with it:
 *   - copy bytes in and out (process_vm_readv/writev): util/uaccess.h does
 *     this for the thread that serves the process (uaccess_use_mm());
 *   - check that it is alive;
 *   - alias a range of it in our own address space (remote_mm_alias()), so
 *     that a domain can map the pages and a device write lands in the
 *     process's memory. Only shared mappings can be aliased: the same
 *     pages are reachable at the same address when our own address space
 *     has the same mapping there (one inherited over fork(): same device,
 *     inode and file offset in /proc/<pid>/maps), or through
 *     /proc/<pid>/map_files/ (which needs CAP_SYS_ADMIN or
 *     CAP_CHECKPOINT_RESTORE). Private memory of another process is never
 *     reachable from here: a copy would not see the process's later
 *     writes, nor the process a device's, so it is refused with EFAULT.
 *
 * Functions return 0 or -errno and may be called from any thread.
 */
#ifndef UIOMMU_UTIL_REMOTE_MM_H
#define UIOMMU_UTIL_REMOTE_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct remote_mm {
	pid_t pid;	/* 0: our own memory */
	uint64_t start; /* start time in clock ticks after boot */
};

/* Name process @pid (alive now): -ESRCH when it is not. */
int remote_mm_init(struct remote_mm *mm, pid_t pid);

/* Is the process still the one @mm named, and not a zombie? */
bool remote_mm_alive(const struct remote_mm *mm);

/* Copy @n bytes between @local and the process's @remote address. -EFAULT if short. */
int remote_mm_read(const struct remote_mm *mm, void *local, uintptr_t remote, size_t n);
int remote_mm_write(const struct remote_mm *mm, uintptr_t remote, const void *local, size_t n);

/*
 * Make [addr, addr + len) of the process (page aligned) reachable here:
 * *alias is where. *mapped is 0 when the pages are at the same address in
 * our own mappings (nothing to undo), else the length of a mapping this
 * call made at *alias (munmap it when done). Writable: every page must be
 * mapped writeable. -EFAULT: dead, unmapped, private, or not reachable.
 */
int remote_mm_alias(const struct remote_mm *mm, uintptr_t addr, size_t len, bool writable,
		    uintptr_t *alias, size_t *mapped);

#endif
