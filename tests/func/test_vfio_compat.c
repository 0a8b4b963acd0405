// SPDX-License-Identifier: MIT
/*
 * VFIO type1 compatibility on /dev/iommu (reference iommufd.md §4.11,
 * vfio.md §3): the ioctls without a compat IOAS (argsz/flags EINVAL, then
 * ENODEV), IOMMU_VFIO_IOAS get/set/clear, SET_IOMMU, CHECK_EXTENSION,
 * GET_INFO at every argsz (nothing written past argsz, the capability chain
 * when it fits), MAP_DMA / UNMAP_DMA in v2 (no cutting: ENOENT) and v1
 * (cutting) modes, UNMAP_ALL, the unmapped size written back.
 */
#include <linux/vfio.h>

#include "iommufd_internal.h"

#define APERTURE_START (1ULL << 24)
#define APERTURE_LAST  ((1ULL << 31) - 1)

static struct test_domain td;

static int _vfio_ioas(uint16_t op, uint32_t *id)
{
	struct iommu_vfio_ioas cmd = {.size = sizeof(cmd), .ioas_id = *id, .op = op};
	int rc = uiommu_ioctl(self_file, IOMMU_VFIO_IOAS, &cmd);

	*id = cmd.ioas_id;
	return rc;
}

static int map_dma(uint64_t iova, void *vaddr, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = flags,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return uiommu_ioctl(self_file, VFIO_IOMMU_MAP_DMA, &m);
}

static int unmap_dma(uint64_t iova, uint64_t size, uint32_t flags, uint64_t *out)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.flags = flags,
		.iova = iova,
		.size = size,
	};
	int rc = uiommu_ioctl(self_file, VFIO_IOMMU_UNMAP_DMA, &u);

	if (out)
		*out = u.size;
	return rc;
}

#define RW (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static void test_no_ioas(void *arg)
{
	struct vfio_iommu_type1_dma_unmap unmap = {.iova = APERTURE_START, .size = PAGE_SIZE};
	struct vfio_iommu_type1_dma_map map = {
		.iova = APERTURE_START, .size = PAGE_SIZE, .vaddr = 0};
	struct vfio_iommu_type1_info info = {0};
	uint32_t id = 0;

	iommufd_setup();
	map.vaddr = (uintptr_t)buffer;
	TAP_CHECK_EQ(uiommu_ioctl(self_file, VFIO_GET_API_VERSION), VFIO_API_VERSION, "version");
	TAP_CHECK_EQ(uiommu_ioctl(self_file, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1, "v2");
	TAP_CHECK_EQ(uiommu_ioctl(self_file, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 1, "v1");
	TAP_CHECK_EQ(uiommu_ioctl(self_file, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL), 1, "unmap all");
	TAP_CHECK_EQ(uiommu_ioctl(self_file, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 0, "tce");
	TAP_CHECK_EQ(uiommu_ioctl(self_file, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU), 0,
		     "noiommu");
	TAP_CHECK_EQ(
		uiommu_ioctl(self_file, VFIO_CHECK_EXTENSION, __VFIO_RESERVED_TYPE1_NESTING_IOMMU),
		0, "nesting");
	TAP_CHECK_EQ(uiommu_ioctl(self_file, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 0, "vaddr");
	TAP_CHECK_EQ(uiommu_ioctl(self_file, VFIO_CHECK_EXTENSION, 12345), 0, "unknown");
	CHECK_ERRNO(ENODEV, uiommu_ioctl(self_file, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU));

	/* unmap_cmd / map_cmd / info_cmd / set_iommu_cmd of the selftest. */
	unmap.argsz = 1;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, VFIO_IOMMU_UNMAP_DMA, &unmap));
	unmap.argsz = sizeof(unmap);
	unmap.flags = 1u << 31;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, VFIO_IOMMU_UNMAP_DMA, &unmap));
	unmap.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, VFIO_IOMMU_UNMAP_DMA, &unmap));
	unmap.flags = 0;
	CHECK_ERRNO(ENODEV, uiommu_ioctl(self_file, VFIO_IOMMU_UNMAP_DMA, &unmap));

	map.argsz = 1;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, VFIO_IOMMU_MAP_DMA, &map));
	map.argsz = sizeof(map);
	map.flags = 1u << 31;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, VFIO_IOMMU_MAP_DMA, &map));
	map.flags = VFIO_DMA_MAP_FLAG_VADDR;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, VFIO_IOMMU_MAP_DMA, &map));
	map.flags = RW;
	CHECK_ERRNO(ENODEV, uiommu_ioctl(self_file, VFIO_IOMMU_MAP_DMA, &map));

	info.argsz = 1;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, VFIO_IOMMU_GET_INFO, &info));
	info.argsz = sizeof(info);
	CHECK_ERRNO(ENODEV, uiommu_ioctl(self_file, VFIO_IOMMU_GET_INFO, &info));

	CHECK_ERRNO(ENODEV, uiommu_ioctl(self_file, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	CHECK_ERRNO(ENODEV, uiommu_ioctl(self_file, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU));

	/* Bad pointers. */
	CHECK_ERRNO(EFAULT, uiommu_ioctl(self_file, VFIO_IOMMU_MAP_DMA, NULL));
	CHECK_ERRNO(EFAULT, uiommu_ioctl(self_file, VFIO_IOMMU_UNMAP_DMA, NULL));
	CHECK_ERRNO(EFAULT, uiommu_ioctl(self_file, VFIO_IOMMU_GET_INFO, NULL));
	/* Other VFIO numbers are unknown here. */
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(self_file, VFIO_IOMMU_DIRTY_PAGES, &info));
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(self_file, VFIO_IOMMU_ENABLE, &info));
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(self_file, _IO(VFIO_TYPE, VFIO_BASE + 3), &info));

	/* IOMMU_VFIO_IOAS: the selftest's vfio_ioas. */
	CHECK_ERRNO(ENODEV, _vfio_ioas(IOMMU_VFIO_IOAS_GET, &id));
	id = 0;
	CHECK_ERRNO(ENOENT, _vfio_ioas(IOMMU_VFIO_IOAS_SET, &id));
	id = ioas_alloc();
	CHECK_OK(_vfio_ioas(IOMMU_VFIO_IOAS_SET, &id));
	id = 0;
	CHECK_OK(_vfio_ioas(IOMMU_VFIO_IOAS_GET, &id));
	TAP_CHECK_EQ(id, 1, "same id back");
	CHECK_OK(_vfio_ioas(IOMMU_VFIO_IOAS_CLEAR, &id));
	CHECK_ERRNO(ENODEV, _vfio_ioas(IOMMU_VFIO_IOAS_GET, &id));
	/* CLEAR never destroys; DESTROY of the compat IOAS clears it. */
	id = 1;
	CHECK_OK(_vfio_ioas(IOMMU_VFIO_IOAS_SET, &id));
	CHECK_OK(_destroy(1));
	CHECK_ERRNO(ENODEV, _vfio_ioas(IOMMU_VFIO_IOAS_GET, &id));
	iommufd_teardown();
}

/* A compat IOAS with a domain, in @version mode (the selftest's fixture). */
static uint32_t compat_setup(unsigned long version)
{
	uint32_t id;

	iommufd_setup();
	id = ioas_alloc();
	test_domain_init(&td, 2048 | 4096 | (1ULL << 20), APERTURE_START, APERTURE_LAST);
	test_domain_attach(&td, id);
	CHECK_OK(_vfio_ioas(IOMMU_VFIO_IOAS_SET, &id));
	CHECK_OK(uiommu_ioctl(self_file, VFIO_SET_IOMMU, version));
	return id;
}

static void compat_teardown(void)
{
	test_domain_detach(&td);
	iommufd_teardown();
}

static bool is_filled(const uint8_t *p, uint8_t c, size_t n)
{
	for (; n; n--, p++)
		if (*p != c)
			return false;
	return true;
}

static void check_cap_chain(const uint8_t *buf, const struct vfio_iommu_type1_info *info,
			    bool with_domain)
{
	const struct vfio_info_cap_header *cap;
	unsigned int seen = 0;

	TAP_CHECK(info->argsz >= info->cap_offset + sizeof(*cap), "cap_offset");
	cap = (const void *)(buf + info->cap_offset);
	for (;;) {
		size_t cap_size = cap->next ? (size_t)(buf + cap->next - (const uint8_t *)cap)
					    : (size_t)(buf + info->argsz - (const uint8_t *)cap);

		switch (cap->id) {
		case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE: {
			const struct vfio_iommu_type1_info_cap_iova_range *r = (const void *)cap;

			TAP_CHECK_EQ(r->header.version, 1, "version");
			TAP_CHECK_EQ(r->nr_iovas, 1, "one range");
			TAP_CHECK_EQ(cap_size, sizeof(*r) + sizeof(r->iova_ranges[0]), "size");
			TAP_CHECK_EQ(r->iova_ranges[0].start, with_domain ? APERTURE_START : 0,
				     "start");
			TAP_CHECK_EQ(r->iova_ranges[0].end,
				     with_domain ? APERTURE_LAST : UINT64_MAX, "end");
			seen |= 1;
			break;
		}
		case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL: {
			const struct vfio_iommu_type1_info_dma_avail *d = (const void *)cap;

			TAP_CHECK_EQ(d->header.version, 1, "version");
			TAP_CHECK_EQ(d->avail, UINT32_MAX, "avail");
			/* 12 bytes, padded to 8 in the chain. */
			TAP_CHECK_EQ(cap_size, 16, "padded");
			TAP_CHECK_EQ(seen, 0, "DMA_AVAIL comes first");
			seen |= 2;
			break;
		}
		default:
			TAP_CHECK(0, "unknown cap %u", cap->id);
		}
		if (!cap->next)
			break;
		TAP_CHECK(info->argsz >= cap->next + sizeof(*cap), "next inside");
		TAP_CHECK(buf + cap->next > (const uint8_t *)cap, "forward");
		cap = (const void *)(buf + cap->next);
	}
	TAP_CHECK_EQ(seen, 3, "both capabilities");
}

static void get_info_sweep(bool with_domain)
{
	static uint8_t buf[4096];
	struct vfio_iommu_type1_info *info = (void *)buf;
	uint32_t full;

#define GET_INFO(sz)                                                                      \
	do {                                                                              \
		memset(buf, 0xaa, sizeof(buf));                                           \
		memset(buf, 0, MIN((size_t)(sz), sizeof(*info)));                         \
		info->argsz = (sz);                                                       \
		CHECK_OK(uiommu_ioctl(self_file, VFIO_IOMMU_GET_INFO, buf));              \
		TAP_CHECK(is_filled(buf + (sz), 0xaa, sizeof(buf) - (sz)),                \
			  "argsz %u: wrote past argsz", (unsigned int)(sz));              \
		TAP_CHECK_EQ(info->flags, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, \
			     "flags");                                                    \
	} while (0)

	/* Pre-cap ABI: 16 bytes. */
	GET_INFO(offsetof(struct vfio_iommu_type1_info, cap_offset));
	TAP_CHECK(info->iova_pgsizes, "pgsizes");
	/* The chain size. */
	GET_INFO(sizeof(*info));
	TAP_CHECK_EQ(info->cap_offset, 0, "no caps fit");
	full = info->argsz;
	TAP_CHECK_EQ(full, sizeof(*info) + 16 + 32, "full size");
	if (with_domain)
		TAP_CHECK_EQ(info->iova_pgsizes, 4096 | (1ULL << 20),
			     "sub-page sizes shown as PAGE_SIZE");
	else
		TAP_CHECK_EQ(info->iova_pgsizes, ~(PAGE_SIZE - 1), "no domain: every size");
	/* Every argsz up to the full size: nothing past argsz, chain valid when set. */
	for (uint32_t sz = sizeof(*info); sz <= full; sz++) {
		GET_INFO(sz);
		TAP_CHECK_EQ(info->argsz, full, "argsz is the full size");
		if (sz < full) {
			TAP_CHECK_EQ(info->cap_offset, 0, "cap_offset only when all fit");
			continue;
		}
		TAP_CHECK_EQ(info->cap_offset, sizeof(*info), "cap_offset");
		check_cap_chain(buf, info, with_domain);
	}
	/* A partial chain: the first cap is written once it fits, its next only when known. */
	GET_INFO(sizeof(*info) + 12);
	{
		const struct vfio_info_cap_header *cap = (const void *)(buf + sizeof(*info));

		TAP_CHECK_EQ(cap->id, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, "first cap written");
		TAP_CHECK_EQ(cap->next, 0, "next not written");
	}
#undef GET_INFO
}

static void test_get_info(void *arg)
{
	uint32_t id;

	iommufd_setup();
	id = ioas_alloc();
	CHECK_OK(_vfio_ioas(IOMMU_VFIO_IOAS_SET, &id));
	get_info_sweep(false);
	iommufd_teardown();

	compat_setup(VFIO_TYPE1v2_IOMMU);
	get_info_sweep(true);
	TAP_CHECK_EQ(uiommu_ioctl(self_file, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU), 1, "cc");
	compat_teardown();
}

static void shuffle(uint64_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t j = i + (size_t)rand() % (n - i);
		uint64_t t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
}

static void test_map_v2(void *arg)
{
	uint64_t pages[BUFFER_SIZE / PAGE_SIZE], out;
	uint32_t id;
	uint64_t val = 0;

	id = compat_setup(VFIO_TYPE1v2_IOMMU);
	CHECK_OK(_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, id, &val));
	TAP_CHECK_EQ(val, 1, "v2 keeps huge pages");

	/* Simple map/unmap; the size is written back. */
	CHECK_OK(map_dma(APERTURE_START, buffer, BUFFER_SIZE, RW));
	check_domain_map(&td, APERTURE_START, buffer, BUFFER_SIZE);
	CHECK_OK(unmap_dma(APERTURE_START, BUFFER_SIZE, 0, &out));
	TAP_CHECK_EQ(out, BUFFER_SIZE, "unmapped");
	/* UNMAP_ALL needs iova = size = 0. */
	CHECK_OK(map_dma(APERTURE_START, buffer, BUFFER_SIZE, RW));
	CHECK_ERRNO(EINVAL, unmap_dma(APERTURE_START, BUFFER_SIZE, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	CHECK_ERRNO(EINVAL, unmap_dma(0, 1, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	CHECK_OK(unmap_dma(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &out));
	TAP_CHECK_EQ(out, BUFFER_SIZE, "unmap all size");
	/* Page by page, unmapped in random order. */
	for (unsigned int i = 0; i < ARRAY_SIZE_T(pages); i++) {
		pages[i] = APERTURE_START + i * PAGE_SIZE;
		CHECK_OK(map_dma(pages[i], (uint8_t *)buffer + i * PAGE_SIZE, PAGE_SIZE, RW));
	}
	shuffle(pages, ARRAY_SIZE_T(pages));
	for (unsigned int i = 0; i < ARRAY_SIZE_T(pages); i++) {
		CHECK_OK(unmap_dma(pages[i], PAGE_SIZE, 0, &out));
		TAP_CHECK_EQ(out, PAGE_SIZE, "one page");
	}
	/* An empty range succeeds with size 0 (unlike IOMMU_IOAS_UNMAP). */
	out = 1;
	CHECK_OK(unmap_dma(APERTURE_START, PAGE_SIZE, 0, &out));
	TAP_CHECK_EQ(out, 0, "nothing");
	/* v2 never cuts: ENOENT, and the mapping stays. */
	CHECK_OK(map_dma(APERTURE_START, buffer, BUFFER_SIZE, RW));
	out = 1;
	CHECK_ERRNO(ENOENT, unmap_dma(APERTURE_START + PAGE_SIZE, PAGE_SIZE, 0, &out));
	TAP_CHECK_EQ(out, 0, "size written back on error");
	CHECK_ERRNO(ENOENT, unmap_dma(APERTURE_START, PAGE_SIZE, 0, NULL));
	check_domain_map(&td, APERTURE_START, buffer, BUFFER_SIZE);
	/* Map errors come from the IOAS: EEXIST, EINVAL (aperture), EFAULT. */
	CHECK_ERRNO(EEXIST, map_dma(APERTURE_START, buffer, PAGE_SIZE, RW));
	CHECK_ERRNO(EINVAL, map_dma(0, buffer, PAGE_SIZE, RW));
	CHECK_ERRNO(EINVAL, map_dma(APERTURE_START + BUFFER_SIZE, buffer, 100, RW));
	CHECK_ERRNO(EFAULT,
		    map_dma(APERTURE_START + BUFFER_SIZE, (void *)(1UL << 40), PAGE_SIZE, RW));
	/* SET_IOMMU TYPE1 now: huge pages cannot be disabled over mappings. */
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	/* The compat IOAS is a normal IOAS: IOMMU_IOAS_UNMAP sees the maps. */
	ioas_unmap(id, APERTURE_START, BUFFER_SIZE);
	compat_teardown();
}

static void test_map_v1(void *arg)
{
	uint64_t iovas[16], out, val = 1;
	size_t buf_size = 2 * HUGEPAGE_SIZE, piece = buf_size / 16;
	uint8_t *buf;
	uint32_t id;

	id = compat_setup(VFIO_TYPE1_IOMMU);
	CHECK_OK(_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, id, &val));
	TAP_CHECK_EQ(val, 0, "v1 turns huge pages off");

	/* The selftest's huge_map: type1 cuts up a larger mapping. */
	buf = mmap(NULL, buf_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(buf != MAP_FAILED, "mmap");
	CHECK_OK(map_dma(APERTURE_START, buf, buf_size, RW));
	for (unsigned int i = 0; i < 16; i++)
		iovas[i] = APERTURE_START + i * piece;
	shuffle(iovas, 16);
	for (unsigned int i = 0; i < 16; i++) {
		CHECK_OK(unmap_dma(iovas[i], piece, 0, &out));
		TAP_CHECK_EQ(out, piece, "piece");
	}
	TAP_CHECK(interval_tree_empty(&td.runs), "all gone from the domain");

	/* A hole in the middle, then the rest. */
	CHECK_OK(map_dma(APERTURE_START, buf, 16 * PAGE_SIZE, RW));
	CHECK_OK(unmap_dma(APERTURE_START + 4 * PAGE_SIZE, 2 * PAGE_SIZE, 0, &out));
	TAP_CHECK_EQ(out, 2 * PAGE_SIZE, "hole");
	TAP_CHECK_EQ(test_domain_phys(&td, APERTURE_START + 4 * PAGE_SIZE), 0, "hole unmapped");
	check_domain_map(&td, APERTURE_START, buf, 4 * PAGE_SIZE);
	check_domain_map(&td, APERTURE_START + 6 * PAGE_SIZE, buf + 6 * PAGE_SIZE, 10 * PAGE_SIZE);
	/* A range spanning the hole: both sides go. */
	CHECK_OK(unmap_dma(APERTURE_START + 2 * PAGE_SIZE, 6 * PAGE_SIZE, 0, &out));
	TAP_CHECK_EQ(out, 4 * PAGE_SIZE, "around the hole");
	/* Cuts must be page aligned. */
	CHECK_ERRNO(EINVAL, unmap_dma(APERTURE_START + 9 * PAGE_SIZE + 2048, PAGE_SIZE, 0, NULL));
	CHECK_OK(unmap_dma(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &out));
	TAP_CHECK_EQ(out, 10 * PAGE_SIZE, "the rest");
	munmap(buf, buf_size);
	compat_teardown();
}

/* SET_IOMMU needs a compat IOAS; TYPE1 fails once a domain holds mappings. */
static void test_set_iommu(void *arg)
{
	uint32_t id;

	iommufd_setup();
	id = ioas_alloc();
	CHECK_OK(_vfio_ioas(IOMMU_VFIO_IOAS_SET, &id));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, VFIO_SET_IOMMU, 0));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU));
	CHECK_OK(uiommu_ioctl(self_file, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	/* Without domains, TYPE1 is fine even with mappings (they are not in IOPTEs yet). */
	CHECK_OK(map_dma(APERTURE_START, buffer, PAGE_SIZE, RW));
	CHECK_OK(uiommu_ioctl(self_file, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	/* Setting it twice is allowed here (Linux's iommufd does not track it). */
	CHECK_OK(uiommu_ioctl(self_file, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	iommufd_teardown();
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"no compat IOAS: EINVAL then ENODEV; VFIO_IOAS get/set/clear", test_no_ioas},
		{"GET_INFO at every argsz, capability chain", test_get_info},
		{"type1v2: map, unmap, unmap-all, no cutting (ENOENT)", test_map_v2},
		{"type1: huge pages off, cutting", test_map_v1},
		{"SET_IOMMU rules", test_set_iommu},
	};

	srand(1);
	tap_plan(ARRAY_SIZE_T(tests));
	for (unsigned int i = 0; i < ARRAY_SIZE_T(tests); i++) {
		tap_run(tests[i].name, tests[i].fn, NULL);
		test_domain_detach(&td);
		if (self_file) {
			uiommu_close(self_file);
			self_file = NULL;
		}
	}
	return tap_done();
}
