// SPDX-License-Identifier: MIT
/*
 * lib/util/uaccess: probe_user_pages(), pinning by touch. What it must do
 * is what GUP (and MADV_POPULATE_READ / _WRITE) do for iommufd's pinning:
 *  - read and write probes of ordinary memory succeed and change no byte;
 *  - a write probe of read-only memory, any probe of PROT_NONE memory, of
 *    a hole, of the first page or of a wrapping range is -EFAULT;
 *  - a page of a file mapping past the end of the file is -EIO (SIGBUS);
 *  - a write probe breaks copy-on-write of a private file mapping (the
 *    process gets its own copy: later writes to the file no longer show),
 *    a read probe does not;
 *  - the write probe is an atomic read-modify-write: a thread incrementing
 *    the probed byte with atomics loses no increment;
 *  - the guard is per call: faults in one probe leave the next working.
 * TAP (tests/tap.h), not cmocka: cmocka replaces the SIGSEGV handler
 * around every test, which would take the library's guard away.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"
#include "util/uaccess.h"

#define PG 4096UL

static uint8_t *map_anon(size_t pages, int prot)
{
	void *p = mmap(NULL, pages * PG, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TAP_CHECK(p != MAP_FAILED, "mmap of %zu pages", pages);
	return p;
}

static void test_ordinary(void *arg)
{
	uint8_t *m = map_anon(8, PROT_READ | PROT_WRITE);

	for (size_t i = 0; i < 4 * PG; i++)
		m[i] = (uint8_t)(i * 7 + 3);
	TAP_CHECK_EQ(probe_user_pages(m, 8 * PG, PG, false), 0, "read, 8 pages");
	TAP_CHECK_EQ(probe_user_pages(m, 8 * PG, PG, true), 0, "write, 8 pages");
	/* Unaligned start and end: the pages they overlap. */
	TAP_CHECK_EQ(probe_user_pages(m + 100, 3 * PG, PG, true), 0, "write, unaligned");
	TAP_CHECK_EQ(probe_user_pages(m, 0, PG, true), 0, "empty range");
	for (size_t i = 0; i < 4 * PG; i++)
		TAP_CHECK_EQ(m[i], (uint8_t)(i * 7 + 3), "byte %zu unchanged", i);
	for (size_t i = 4 * PG; i < 8 * PG; i++)
		TAP_CHECK_EQ(m[i], 0, "fresh byte %zu still zero", i);
	munmap(m, 8 * PG);
}

static void test_refusals(void *arg)
{
	uint8_t *ro = map_anon(2, PROT_READ), *none = map_anon(1, PROT_NONE);
	uint8_t *h = map_anon(3, PROT_READ | PROT_WRITE);

	TAP_CHECK_EQ(probe_user_pages(ro, 2 * PG, PG, false), 0, "read-only, read");
	TAP_CHECK_EQ(probe_user_pages(ro, 2 * PG, PG, true), -EFAULT, "read-only, write");
	TAP_CHECK_EQ(probe_user_pages(ro + PG, 1, PG, true), -EFAULT, "last byte, write");
	TAP_CHECK_EQ(probe_user_pages(none, 1, PG, false), -EFAULT, "PROT_NONE");
	munmap(h + 2 * PG, PG);
	TAP_CHECK_EQ(probe_user_pages(h, 3 * PG, PG, false), -EFAULT, "hole at the end");
	TAP_CHECK_EQ(probe_user_pages(h, 2 * PG, PG, true), 0, "the mapped part");
	TAP_CHECK_EQ(probe_user_pages(NULL, 1, PG, false), -EFAULT, "NULL");
	TAP_CHECK_EQ(probe_user_pages((void *)(PG - 1), 2, PG, false), -EFAULT, "first page");
	TAP_CHECK_EQ(probe_user_pages((void *)(UINTPTR_MAX - PG), 2 * PG, PG, false), -EFAULT,
		     "wraps");
	/* Kernel half (x86-64 and arm64 user space ends below it). */
	TAP_CHECK_EQ(probe_user_pages((void *)(UINTPTR_MAX - 2 * PG + 1), 8, PG, false),
		     -EFAULT, "kernel address");
	/* Every failure left the guard ready for the next call. */
	TAP_CHECK_EQ(probe_user_pages(h, PG, PG, true), 0, "after the faults");
	munmap(ro, 2 * PG);
	munmap(none, PG);
	munmap(h, 2 * PG);
}

static void test_file(void *arg)
{
	int fd = memfd_create("uaccess", MFD_CLOEXEC);
	uint8_t *sh, *priv, v = 0x11, nv = 0x22;

	TAP_CHECK(fd >= 0 && !ftruncate(fd, (off_t)PG), "memfd of one page");
	sh = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TAP_CHECK(sh != MAP_FAILED, "mmap shared");
	TAP_CHECK_EQ(probe_user_pages(sh, PG, PG, true), 0, "inside the file");
	TAP_CHECK_EQ(probe_user_pages(sh, 2 * PG, PG, false), -EIO, "past EOF: SIGBUS");
	TAP_CHECK_EQ(probe_user_pages(sh, 2 * PG, PG, true), -EIO, "past EOF, write");
	munmap(sh, 2 * PG);

	/* Copy-on-write: a write probe gives the process its own page. */
	for (int w = 0; w <= 1; w++) {
		TAP_CHECK_EQ(pwrite(fd, &v, 1, 0), 1, "pwrite");
		priv = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		TAP_CHECK(priv != MAP_FAILED, "mmap private");
		TAP_CHECK_EQ(priv[0], v, "sees the file");
		TAP_CHECK_EQ(probe_user_pages(priv, PG, PG, w), 0, "probe");
		TAP_CHECK_EQ(priv[0], v, "unchanged");
		TAP_CHECK_EQ(pwrite(fd, &nv, 1, 0), 1, "pwrite");
		TAP_CHECK_EQ(priv[0], w ? v : nv, w ? "write probe: a private copy"
						    : "read probe: still the file's page");
		munmap(priv, PG);
	}
	close(fd);
}

#define INCREMENTS 2000000u

static void *incrementer(void *arg)
{
	uint8_t *b = arg;

	for (unsigned int i = 0; i < INCREMENTS; i++)
		__atomic_fetch_add(b, 1, __ATOMIC_RELAXED);
	__atomic_store_n(b + 64, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A non-atomic load and store of the same value would lose increments that fall between. */
static void test_atomic(void *arg)
{
	uint8_t *m = map_anon(1, PROT_READ | PROT_WRITE);
	unsigned long probes = 0;
	pthread_t t;

	TAP_CHECK(!pthread_create(&t, NULL, incrementer, m), "thread");
	while (!__atomic_load_n(m + 64, __ATOMIC_ACQUIRE)) {
		TAP_CHECK_EQ(probe_user_pages(m, 1, PG, true), 0, "probe");
		probes++;
	}
	pthread_join(t, NULL);
	tap_diag("%lu write probes raced %u increments", probes, INCREMENTS);
	TAP_CHECK_EQ(m[0], (uint8_t)INCREMENTS, "no increment lost");
	munmap(m, PG);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"probe: ordinary memory, no byte changed", test_ordinary},
		{"probe: read-only, PROT_NONE, holes, bad ranges: EFAULT", test_refusals},
		{"probe: past EOF is EIO; a write probe breaks COW", test_file},
		{"probe: the write is atomic", test_atomic},
	};

	tap_plan(sizeof(tests) / sizeof(tests[0]));
	for (unsigned int i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		tap_run(tests[i].name, tests[i].fn, NULL);
	return tap_done();
}
