/* SPDX-License-Identifier: MIT */
/*
 * Guarded access to "user" memory: the userspace analogue of the kernel's
 * copy_from_user() / copy_to_user().
 *
 * The emulated ioctls receive pointers from the program (the ioctl argument,
 * arrays such as allowed_iovas, capability buffers). The kernel never
 * crashes on a bad one: it returns EFAULT. These helpers give the library
 * the same property at the cost of a plain copy: the copy runs under a
 * SIGSEGV/SIGBUS guard (a per-thread recovery point that the library's
 * signal handler jumps back to), so a fault in the copy becomes -EFAULT.
 * Faults anywhere else are passed on to whatever handler was installed
 * before ours (or to the default action), so the guard is invisible to the
 * program. Addresses outside the user half of the address space are refused
 * up front, as access_ok() does.
 *
 * The handler is installed on the first call. A program that later
 * replaces the SIGSEGV handler with one that does not chain removes the
 * guard: bad pointers then crash instead of failing with EFAULT.
 *
 * All functions return 0 or -EFAULT, and may be called from any thread.
 */
#ifndef UIOMMU_UTIL_UACCESS_H
#define UIOMMU_UTIL_UACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copy @n bytes from user address @usrc into @dst. */
int copy_from_user(void *dst, const void *usrc, size_t n);
/* Copy @n bytes from @src to user address @udst. */
int copy_to_user(void *udst, const void *src, size_t n);
/* Zero @n bytes at user address @udst. */
int clear_user(void *udst, size_t n);

/*
 * Touch the first byte of every @page_size-byte page (a power of two) that
 * [@uaddr, @uaddr + @len) overlaps, the way pinning (GUP) would: a load,
 * or with @write an atomic read-modify-write that stores what it read. The
 * write needs write permission, so it faults on read-only memory and
 * breaks copy-on-write sharing as GUP's FOLL_WRITE does; a page that is
 * not present is faulted in by the kernel on the way; the contents never
 * change. Returns 0, -EFAULT when a page is not mapped or lacks the
 * permission (SIGSEGV), or -EIO when touching one raises SIGBUS (a file
 * page past the end of its file). Pages before the one that failed stay
 * faulted in. No system call unless a page must be faulted in.
 */
int probe_user_pages(const void *uaddr, size_t len, size_t page_size, bool write);

/*
 * The kernel's copy_struct_from_user(): copy a user struct of @usize bytes
 * into a @ksize-byte buffer. A shorter user struct is zero-extended; a longer
 * one is accepted only when every byte past @ksize is zero (-E2BIG
 * otherwise). -EFAULT when the memory cannot be read.
 */
int copy_struct_from_user(void *dst, size_t ksize, const void *usrc, size_t usize);

/*
 * A user address @off bytes after @p. User pointers may be NULL or wild, so
 * they are offset as integers (pointer arithmetic on NULL is undefined).
 */
static inline void *uptr_add(const void *p, uint64_t off)
{
	return (void *)((uintptr_t)p + (uintptr_t)off);
}

/* The user pointer carried in a __u64 field. */
static inline void *u64_to_user_ptr(uint64_t v)
{
	return (void *)(uintptr_t)v;
}

#endif
