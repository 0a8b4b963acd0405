// SPDX-License-Identifier: MIT
/*
 * uaccess.c - copy_from_user() / copy_to_user() for a userspace kernel.
 *
 * How the guard works. Each thread has a recovery point (a sigjmp_buf) and
 * an "active" flag. A guarded copy records the recovery point with
 * sigsetjmp(.., 0) (no signal mask is saved, so no system call), raises the
 * flag, copies with plain loads and stores, and lowers the flag. The
 * library's SIGSEGV / SIGBUS handler checks the flag of the faulting thread:
 * raised means the fault came from a guarded copy, and the handler jumps
 * back to the recovery point, where the copy returns -EFAULT. The handler is
 * installed with SA_NODEFER, so the signal is not left blocked after the
 * jump and the thread's mask is exactly what it was.
 *
 * Any other fault is handed to the handler that was installed before ours
 * (sa_handler or sa_sigaction, with the original arguments). If that was
 * the default action, ours restores the default and returns: the faulting
 * instruction runs again and the process dies as it would have without us;
 * a SIGSEGV sent with kill() is re-raised.
 *
 * The copy loops are volatile word and byte accesses, compiled without
 * AddressSanitizer instrumentation and never turned into a memcpy() call:
 * the fault must happen here, in code the guard covers, not inside a
 * sanitizer's interceptor.
 *
 * probe_user_pages() is pinning without a system call: one access per
 * page under the same guard, a volatile load, or for a writable pin a
 * locked "or 0" (an atomic read-modify-write that stores the value it
 * read, so a program thread writing the same byte loses nothing). A write
 * access faults on read-only memory and makes the kernel break
 * copy-on-write, exactly what GUP with FOLL_WRITE (and
 * MADV_POPULATE_WRITE) ask of it. Its loop is compiled without the
 * address and thread sanitizers too (their hooks must not be the ones to
 * touch the program's memory, and TSan must not turn the atomic into a
 * call into its runtime). The handler records the signal, so SIGBUS (a
 * file page past EOF) can be told from SIGSEGV.
 *
 * Invariants: the flag is raised only between the sigsetjmp() and the end
 * of the copy loop of the same thread; nothing is allocated and no lock is
 * held while it is raised. Locking: none (per-thread state; the handler is
 * installed once under pthread_once).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "util/uaccess.h"

struct uaccess_guard {
	sigjmp_buf jb;
	volatile sig_atomic_t active;
	volatile sig_atomic_t sig; /* the signal that ended the last guarded access */
};

static _Thread_local struct uaccess_guard guard;
static struct sigaction old_segv, old_bus;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static void uaccess_handler(int sig, siginfo_t *si, void *uc)
{
	struct sigaction *old = sig == SIGSEGV ? &old_segv : &old_bus;
	struct sigaction dfl;

	if (guard.active) {
		guard.active = 0;
		guard.sig = sig;
		siglongjmp(guard.jb, 1);
	}
	if (old->sa_flags & SA_SIGINFO) {
		if (old->sa_sigaction) {
			old->sa_sigaction(sig, si, uc);
			return;
		}
	} else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
		return;
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	if (si && si->si_code <= 0)
		raise(sig);
}

static void uaccess_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = uaccess_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
}

typedef uint64_t __attribute__((may_alias, aligned(1))) u64_unaligned;

/*
 * dst or src may be NULL-ish user addresses: only ever touched here, and
 * only through integer arithmetic (pointer arithmetic on NULL is undefined).
 */
__attribute__((noinline, no_sanitize_address)) static void raw_copy(uintptr_t d, uintptr_t s,
								     size_t n)
{
	for (; n >= 8; n -= 8, d += 8, s += 8)
		*(volatile u64_unaligned *)d = *(const volatile u64_unaligned *)s;
	for (; n; n--, d++, s++)
		*(volatile uint8_t *)d = *(const volatile uint8_t *)s;
}

__attribute__((noinline, no_sanitize_address)) static void raw_zero(uintptr_t d, size_t n)
{
	for (; n >= 8; n -= 8, d += 8)
		*(volatile u64_unaligned *)d = 0;
	for (; n; n--, d++)
		*(volatile uint8_t *)d = 0;
}

/* One access to the first byte of each of @n pages @step bytes apart, from @a. */
__attribute__((noinline, no_sanitize_address, no_sanitize_thread)) static void
raw_touch(uintptr_t a, size_t n, size_t step, bool write)
{
	for (; n; n--, a += step) {
		if (!write) {
			(void)*(const volatile uint8_t *)a;
			continue;
		}
#if defined(__x86_64__) || defined(__i386__)
		__asm__ __volatile__("lock orb $0, %0" : "+m"(*(volatile uint8_t *)a) : : "memory");
#else
		__atomic_fetch_or((volatile uint8_t *)a, 0, __ATOMIC_RELAXED);
#endif
	}
}

/*
 * access_ok(): reject ranges that wrap, and anything in the first page,
 * which is never mapped in a Linux process (mmap_min_addr): a NULL or
 * near-NULL user pointer is answered -EFAULT without a load, so the
 * guarded copy only ever faults on addresses the C rules allow us to form.
 */
#define UACCESS_MIN_ADDR 4096u

static inline int range_ok(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;

	return a >= UACCESS_MIN_ADDR && a + n >= a;
}

static int guarded_copy(void *dst, const void *src, size_t n, const void *user, int zero)
{
	if (!n)
		return 0;
	if (!range_ok(user, n))
		return -EFAULT;
	pthread_once(&guard_once, uaccess_install);
	if (sigsetjmp(guard.jb, 0)) {
		guard.active = 0;
		return -EFAULT;
	}
	guard.active = 1;
	if (zero)
		raw_zero((uintptr_t)dst, n);
	else
		raw_copy((uintptr_t)dst, (uintptr_t)src, n);
	guard.active = 0;
	return 0;
}

int probe_user_pages(const void *uaddr, size_t len, size_t page_size, bool write)
{
	uintptr_t first, last;

	if (!len)
		return 0;
	if (!range_ok(uaddr, len))
		return -EFAULT;
	first = (uintptr_t)uaddr & ~(uintptr_t)(page_size - 1);
	last = ((uintptr_t)uaddr + (len - 1)) & ~(uintptr_t)(page_size - 1);
	/* The first page may start below the minimum: its first byte is never touched then. */
	if (first < UACCESS_MIN_ADDR)
		return -EFAULT;
	pthread_once(&guard_once, uaccess_install);
	if (sigsetjmp(guard.jb, 0)) {
		guard.active = 0;
		return guard.sig == SIGBUS ? -EIO : -EFAULT;
	}
	guard.active = 1;
	raw_touch(first, (last - first) / page_size + 1, page_size, write);
	guard.active = 0;
	return 0;
}

int copy_from_user(void *dst, const void *usrc, size_t n)
{
	return guarded_copy(dst, usrc, n, usrc, 0);
}

int copy_to_user(void *udst, const void *src, size_t n)
{
	return guarded_copy(udst, src, n, udst, 0);
}

int clear_user(void *udst, size_t n)
{
	return guarded_copy(udst, NULL, n, udst, 1);
}

int copy_struct_from_user(void *dst, size_t ksize, const void *usrc, size_t usize)
{
	size_t size = usize < ksize ? usize : ksize;
	int rc;

	if (usize < ksize) {
		memset((char *)dst + size, 0, ksize - size);
	} else if (usize > ksize) {
		/* The tail the library does not know must be zero. */
		const uint8_t *tail = (const uint8_t *)usrc + ksize;
		size_t rest = usize - ksize;
		uint8_t chunk[64];

		while (rest) {
			size_t n = rest < sizeof(chunk) ? rest : sizeof(chunk);

			rc = copy_from_user(chunk, tail, n);
			if (rc)
				return rc;
			for (size_t i = 0; i < n; i++)
				if (chunk[i])
					return -E2BIG;
			tail += n;
			rest -= n;
		}
	}
	return copy_from_user(dst, usrc, size);
}
