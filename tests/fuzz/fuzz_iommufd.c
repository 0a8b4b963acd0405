// SPDX-License-Identifier: MIT
/*
 * fuzz_iommufd.c - libFuzzer target over the /dev/iommu dispatcher.
 *
 * Each input is a fresh context and a program of ioctls decoded from the
 * bytes:
 *
 *   byte 0      setup: bit 0 attaches a test paging domain (2 KiB / 4 KiB /
 *               1 MiB pages, aperture 16 MiB .. 2 GiB - 1) to IOAS 1, bit 1
 *               sets IOAS 1 as the VFIO compat IOAS, bit 2 turns its huge
 *               pages off
 *   then records:
 *     op        which request: one of the iommufd / VFIO requests, or a
 *               raw request number from the next 4 bytes, or (op % 16 ==
 *               14) a byte that picks one of the object-model requests
 *               (HWPT, device, fault, vIOMMU, IOMMU_TEST_CMD with its op
 *               folded to a known one) when its bit 7 is set, and a
 *               near-miss request number otherwise
 *     mode      how the struct's size field is set: ours, our minimum - 1,
 *               ours + a few bytes, or the raw bytes; and whether pointer
 *               fields are pointed into a scratch buffer (most of the time)
 *               or left as the input gives them, and whether the argument
 *               itself is valid, NULL or a wild pointer
 *     payload   the struct bytes (up to 96)
 *
 * Object IDs in the payload are folded to 0..5 so that they mostly name
 * live objects; array counts are capped at 64 so a run stays short.
 *
 * After the program, the context must still answer IOVA_RANGES for every
 * IOAS and unmap everything; the files the program got (fault, vEVENTQ
 * and access fds) are closed, and then closing the iommufd must leave no
 * file, pin or charge behind, and nothing may crash: any violation is
 * __builtin_trap().
 */
#include <stddef.h>
#include <stdint.h>
#include <linux/iommufd_test.h>
#include <linux/vfio.h>

#include "../func/iommufd_internal.h"
#include "fuzz_prog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SCRATCH_SIZE (64 * 1024)

static uint8_t *scratch;     /* 64 KiB, page aligned: pointer targets */
static uint8_t argbuf[4096]; /* the ioctl argument */
static int memfd = -1;

struct req {
	unsigned long request;
	size_t size, min;
	/* Offsets of u64 pointer fields, of u32 id fields, of a u32 count field (or -1). */
	int ptr[2], ids[3], count;
	bool vfio_argsz; /* VFIO struct: the first u32 is argsz */
};

#define NOF -1
static const struct req reqs[] = {
	{IOMMU_DESTROY, 8, 8, {NOF, NOF}, {4, NOF, NOF}, NOF, false},
	{IOMMU_IOAS_ALLOC, 12, 12, {NOF, NOF}, {NOF, NOF, NOF}, NOF, false},
	{IOMMU_IOAS_ALLOW_IOVAS, 24, 24, {16, NOF}, {4, NOF, NOF}, 8, false},
	{IOMMU_IOAS_COPY, 40, 40, {NOF, NOF}, {8, 12, NOF}, NOF, false},
	{IOMMU_IOAS_IOVA_RANGES, 32, 32, {16, NOF}, {4, NOF, NOF}, 8, false},
	{IOMMU_IOAS_MAP, 40, 40, {16, NOF}, {8, NOF, NOF}, NOF, false},
	{IOMMU_IOAS_UNMAP, 24, 24, {NOF, NOF}, {4, NOF, NOF}, NOF, false},
	{IOMMU_OPTION, 24, 24, {NOF, NOF}, {12, NOF, NOF}, NOF, false},
	{IOMMU_VFIO_IOAS, 12, 12, {NOF, NOF}, {4, NOF, NOF}, NOF, false},
	{IOMMU_IOAS_MAP_FILE, 40, 40, {NOF, NOF}, {8, NOF, NOF}, NOF, false},
	{IOMMU_IOAS_CHANGE_PROCESS, 8, 8, {NOF, NOF}, {NOF, NOF, NOF}, NOF, false},
	{VFIO_IOMMU_MAP_DMA, 32, 32, {8, NOF}, {NOF, NOF, NOF}, NOF, true},
	{VFIO_IOMMU_UNMAP_DMA, 24, 24, {NOF, NOF}, {NOF, NOF, NOF}, NOF, true},
	{VFIO_IOMMU_GET_INFO, 24, 16, {NOF, NOF}, {NOF, NOF, NOF}, NOF, true},
};

/* The object model's requests (op % 16 == 14 with bit 7 of the next byte set). */
static const struct req reqs2[] = {
	{IOMMU_HWPT_ALLOC, 48, 24, {32, NOF}, {8, 12, 40}, 28, false},
	{IOMMU_GET_HW_INFO, 40, 32, {16, NOF}, {8, NOF, NOF}, 12, false},
	{IOMMU_HWPT_SET_DIRTY_TRACKING, 16, 16, {NOF, NOF}, {8, NOF, NOF}, NOF, false},
	{IOMMU_HWPT_GET_DIRTY_BITMAP, 48, 48, {40, NOF}, {4, NOF, NOF}, NOF, false},
	{IOMMU_HWPT_INVALIDATE, 32, 32, {8, NOF}, {4, NOF, NOF}, 24, false},
	{IOMMU_FAULT_QUEUE_ALLOC, 16, 16, {NOF, NOF}, {NOF, NOF, NOF}, NOF, false},
	{IOMMU_VIOMMU_ALLOC, 40, 24, {32, NOF}, {12, 16, NOF}, 24, false},
	{IOMMU_VDEVICE_ALLOC, 24, 24, {NOF, NOF}, {4, 8, NOF}, NOF, false},
	{IOMMU_VEVENTQ_ALLOC, 32, 28, {NOF, NOF}, {8, NOF, NOF}, NOF, false},
	{IOMMU_HW_QUEUE_ALLOC, 40, 40, {NOF, NOF}, {8, NOF, NOF}, NOF, false},
	{IOMMU_TEST_CMD, 72, 68, {32, 40}, {8, NOF, NOF}, NOF, false},
	{IOMMU_TEST_CMD, 72, 68, {32, 40}, {8, NOF, NOF}, NOF, false},
	{IOMMU_TEST_CMD, 72, 68, {32, 40}, {8, NOF, NOF}, NOF, false},
};

static void setup_once(void)
{
	if (scratch)
		return;
	scratch =
		mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED)
		__builtin_trap();
	memfd = memfd_create("fuzz", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, 16 * 4096))
		__builtin_trap();
	/* The library logs warnings for refused pins etc.; keep the fuzzer quiet. */
	ulog_set_level(ULOG_ERR);
}

static void run_one(struct input *in)
{
	uint8_t op = get8(in), mode = get8(in);
	const struct req *r = NULL;
	unsigned long request;
	size_t size;
	void *arg;

	if (op % 16 < ARRAY_SIZE_T(reqs)) {
		r = &reqs[op % 16];
		request = r->request;
	} else if (op % 16 == 15) {
		request = get32(in);
	} else {
		uint8_t nr = get8(in);

		if (nr & 0x80) {
			r = &reqs2[(nr & 0x7f) % ARRAY_SIZE_T(reqs2)];
			request = r->request;
		} else {
			/* Near-misses of valid requests: other nr, type, direction bits. */
			request = _IO(IOMMUFD_TYPE, 0x80 + (nr % 0x30)) |
				  ((unsigned long)(get8(in) & 3) << 30);
		}
	}

	fuzz_payload(in, argbuf);
	size = fuzz_size(in, mode, r ? r->size : 40, r ? r->min - 1 : 7);
	if ((mode & 3) != 3 || !r)
		put32(argbuf, (uint32_t)size);

	if (r && !(mode & 4)) {
		/* Fold IDs, point pointers into scratch, cap counts and lengths. */
		for (int i = 0; i < 3; i++)
			if (r->ids[i] != NOF)
				put32(argbuf + r->ids[i], argbuf[r->ids[i]] % 6);
		for (int i = 0; i < 2; i++)
			if (r->ptr[i] != NOF)
				put64(argbuf + r->ptr[i],
				      (uintptr_t)scratch + rd64(argbuf + r->ptr[i]) % SCRATCH_SIZE);
		if (r->count != NOF)
			put32(argbuf + r->count, argbuf[r->count] % 65);
		if (request == IOMMU_IOAS_MAP || request == IOMMU_IOAS_MAP_FILE ||
		    request == IOMMU_IOAS_COPY)
			put64(argbuf + (request == IOMMU_IOAS_COPY ? 16 : 24),
			      rd64(argbuf + (request == IOMMU_IOAS_COPY ? 16 : 24)) %
				      (SCRATCH_SIZE * 2));
		if (request == IOMMU_IOAS_MAP_FILE)
			put32(argbuf + 12, argbuf[12] & 1 ? (uint32_t)memfd : argbuf[12]);
		if (request == VFIO_IOMMU_MAP_DMA)
			put64(argbuf + 24, rd64(argbuf + 24) % (SCRATCH_SIZE * 2));
		/* A known test op (MD_CHECK_DMABUF is the last). */
		if (request == IOMMU_TEST_CMD)
			put32(argbuf + 4, argbuf[4] % (IOMMU_TEST_OP_MD_CHECK_DMABUF + 1));
	}
	if (r && r->vfio_argsz && (mode & 3) == 0)
		put32(argbuf, (uint32_t)(r->size + (mode >> 6)));

	arg = fuzz_arg(in, mode, argbuf);
	/* Requests that take a value (VFIO_CHECK_EXTENSION, SET_IOMMU) get a small one. */
	if ((request & 0xff) < 0x80 && !r && (mode & 0x20))
		arg = (void *)(uintptr_t)(get8(in) % 12);

	uiommu_ioctl(self_file, request, arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	static struct test_domain td;
	struct iommufd_pin_stats ps;
	unsigned int files;
	uint8_t setup;
	uint32_t ioas;

	setup_once();
	files = ufile_count();
	self_file = uiommu_open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (!self_file)
		__builtin_trap();
	if (_ioas_alloc(&ioas) || ioas != 1)
		__builtin_trap();
	setup = get8(&in);
	test_domain_init(&td, 2048 | 4096 | (1ULL << 20), 1ULL << 24, (1ULL << 31) - 1);
	if (setup & 4) {
		uint64_t v = 0;

		if (_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, 1, &v))
			__builtin_trap();
	}
	if ((setup & 1) && _test_domain_attach(&td, 1))
		__builtin_trap();
	if (setup & 2) {
		struct iommu_vfio_ioas v = {
			.size = sizeof(v), .ioas_id = 1, .op = IOMMU_VFIO_IOAS_SET};

		if (uiommu_ioctl(self_file, IOMMU_VFIO_IOAS, &v))
			__builtin_trap();
	}

	for (unsigned int i = 0; in.n && i < 64; i++)
		run_one(&in);

	/* The context is consistent: every IOAS answers and can be emptied. */
	for (uint32_t id = 1; id < 6; id++) {
		struct iommu_iova_range ranges[4];
		uint32_t num = 4;

		if (_iova_ranges(id, ranges, &num, NULL) && errno != ENOENT && errno != EMSGSIZE)
			__builtin_trap();
		if (_ioas_unmap(id, 0, UINT64_MAX, NULL) && errno != ENOENT)
			__builtin_trap();
	}
	/* Close the files the program was given (fault, vEVENTQ, access fds). */
	for (int fd = 0; fd < 4096 && ufile_count() > files + 1; fd++) {
		struct uiommu_file *f = ufile_lookup(fd);

		if (!f)
			continue;
		if (f != self_file)
			ufile_close(f);
		ufile_put(f);
	}
	if (td.ioas) {
		iopt_table_remove_domain(&td.ioas->iopt, &td.dom);
		refcount_dec(&td.ioas->obj.users);
		td.ioas = NULL;
		if (!interval_tree_empty(&td.runs))
			__builtin_trap();
	}
	if (uiommu_close(self_file))
		__builtin_trap();
	self_file = NULL;
	iommufd_pin_stats(&ps);
	if (ufile_count() != files || ps.mm_pinned_vm || ps.user_locked_vm || ps.mm_locked_vm ||
	    iopt_pages_pin_count((uintptr_t)scratch) || ufile_vma_count())
		__builtin_trap();
	return 0;
}
