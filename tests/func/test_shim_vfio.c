// SPDX-License-Identifier: MIT
/*
 * A VMM's view of the machine, through libc alone under the preload shim:
 * open, ioctl, pread, pwrite, mmap, poll on /dev/vfio and /dev/iommu, the
 * uAPI headers, and the dmatest data sheet (doc/dmatest.md) for the
 * device's registers. It runs twice (tests/func/meson.build):
 *
 *   default   no UIOMMU_CONFIG: the default topology, one SMMUv3 with
 *             0000:00:01.0 in group 1 and 0000:00:02.0 in group 2;
 *   three     UIOMMU_CONFIG = scenarios/topology-three-devices.json:
 *             01.0 and 02.0 in group 5 behind an SMMUv3, 03.0 alone in
 *             group 6 behind the mock;
 *   vtd       UIOMMU_CONFIG = scenarios/topology-vtd.json: the default's
 *             groups and devices behind an Intel VT-d unit (its HW_INFO
 *             type, its fault reason).
 *
 * The classic flow: container, group, GET_STATUS, SET_CONTAINER, SET_IOMMU
 * TYPE1v2, MAP_DMA, GET_DEVICE_FD, the device's config space (the dmatest
 * IDs), a COPY programmed with pwrite at the BAR0 region's offset (every
 * byte moved, none past the end), its completion on the MSI-X eventfd of
 * SET_IRQS, a fault on the error vector with the SMMU's event type, the
 * buffer through mmap of the sparse area. The cdev flow: BIND_IOMMUFD,
 * IOAS_MAP, ATTACH_IOMMUFD_PT, GET_HW_INFO (which IOMMU model the device
 * sits behind), DMA, and the group blocked while a device of it is bound.
 * The three-device topology changes the paths, the devices a group hands
 * out, and which groups a bound cdev blocks.
 */
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <sys/eventfd.h>
#include <sys/sysmacros.h>

#include "shim_utils.h"

#define SMMU_F_TRANSLATION 0x10 /* the SMMUv3 event type a fault reports */
#define VTD_FR_SM_READ	   0x86 /* the VT-d fault reason of a read the second stage refuses */

#define IOVA	 0x1000000ULL /* 16 MiB: inside the mock's aperture too */
#define MEM_SIZE (64u * 1024)

static bool three; /* the three-device topology */
static bool vtd;   /* the default's layout behind VT-d */

/* The fault reason a read past the mapping reports behind 01.0 / 02.0's IOMMU. */
static uint32_t iommu_fault_reason(void)
{
	return vtd ? VTD_FR_SM_READ : SMMU_F_TRANSLATION;
}

struct dev {
	int fd;
	struct vfio_region_info bar0, cfg;
};

static void region_info(int fd, uint32_t index, struct vfio_region_info *ri)
{
	*ri = (struct vfio_region_info){.argsz = sizeof(*ri), .index = index};
	CHECK_OK(ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, ri));
}

static void dev_init(struct dev *d, int fd)
{
	d->fd = fd;
	region_info(fd, VFIO_PCI_BAR0_REGION_INDEX, &d->bar0);
	region_info(fd, VFIO_PCI_CONFIG_REGION_INDEX, &d->cfg);
}

static uint32_t cfg_rd(struct dev *d, unsigned int off, unsigned int size)
{
	uint32_t v = 0;

	TAP_CHECK(pread(d->fd, &v, size, (off_t)(d->cfg.offset + off)) == (ssize_t)size,
		  "config read 0x%x: %s", off, strerror(errno));
	return v;
}

static void cfg_wr(struct dev *d, unsigned int off, unsigned int size, uint32_t v)
{
	TAP_CHECK(pwrite(d->fd, &v, size, (off_t)(d->cfg.offset + off)) == (ssize_t)size,
		  "config write 0x%x: %s", off, strerror(errno));
}

static uint64_t reg_rd(struct dev *d, unsigned int off, unsigned int size)
{
	uint64_t v = 0;

	TAP_CHECK(pread(d->fd, &v, size, (off_t)(d->bar0.offset + off)) == (ssize_t)size,
		  "BAR0 read 0x%x: %s", off, strerror(errno));
	return v;
}

static void reg_wr(struct dev *d, unsigned int off, unsigned int size, uint64_t v)
{
	TAP_CHECK(pwrite(d->fd, &v, size, (off_t)(d->bar0.offset + off)) == (ssize_t)size,
		  "BAR0 write 0x%x: %s", off, strerror(errno));
}

static uint32_t run_op(struct dev *d, uint32_t op, uint64_t src, uint64_t dst, uint32_t len)
{
	reg_wr(d, DT_SRC, 8, src);
	reg_wr(d, DT_DST, 8, dst);
	reg_wr(d, DT_LEN, 4, len);
	reg_wr(d, DT_OP, 4, op);
	reg_wr(d, DT_GO, 4, 1);
	return (uint32_t)reg_rd(d, DT_STATUS, 4);
}

/* The eventfd's count, 0 when it was not signalled (non-blocking). */
static uint64_t ev_take(int efd)
{
	uint64_t v = 0;

	if (poll_now(efd, POLLIN) != POLLIN || read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static uint8_t *dma_mem(void)
{
	uint8_t *p =
		mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TAP_CHECK(p != MAP_FAILED, "mmap");
	for (unsigned int i = 0; i < MEM_SIZE; i++)
		p[i] = (uint8_t)(i * 13 + (i >> 8));
	return p;
}

static uint8_t pat(unsigned int i)
{
	return (uint8_t)(i * 13 + (i >> 8));
}

static int eventfd_nb(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	TAP_CHECK(fd >= 0, "eventfd");
	return fd;
}

static int set_msix(struct dev *d, int ev0, int ev1)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 2 * sizeof(int32_t)];
	struct vfio_irq_set *s = (void *)buf;
	int32_t fds[2] = {ev0, ev1};

	*s = (struct vfio_irq_set){
		.argsz = sizeof(buf),
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSIX_IRQ_INDEX,
		.start = 0,
		.count = 2,
	};
	memcpy(s->data, fds, sizeof(fds));
	return ioctl(d->fd, VFIO_DEVICE_SET_IRQS, s);
}

/*
 * The device at @iova-mapped memory @mem: IDs, a COPY with its MSI-X
 * completion, a fault (error vector, the IOMMU's reason), a WRITE from the
 * mmap()ed buffer.
 */
static void exercise(struct dev *d, uint8_t *mem, uint32_t fault_reason)
{
	int ev0 = eventfd_nb(), ev1 = eventfd_nb();
	uint32_t st, info;
	uint8_t *win;

	TAP_CHECK_EQ(cfg_rd(d, PCI_VENDOR_ID, 2), DT_VENDOR, "vendor ID");
	TAP_CHECK_EQ(cfg_rd(d, PCI_DEVICE_ID, 2), DT_DEVICE, "device ID");
	cfg_wr(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	CHECK_OK(set_msix(d, ev0, ev1));
	reg_wr(d, DT_CTRL, 4, 3); /* completion and error interrupts */

	memset(mem + 0x8000, 0, 0x2000);
	st = run_op(d, OP_COPY, IOVA + 0x100, IOVA + 0x8000, 0x1234);
	TAP_CHECK_EQ(st, ST_DONE, "COPY done");
	for (unsigned int i = 0; i < 0x1234; i++)
		TAP_CHECK(mem[0x8000 + i] == pat(0x100 + i), "byte %u: 0x%x", i, mem[0x8000 + i]);
	TAP_CHECK(mem[0x8000 + 0x1234] == 0, "nothing past the end");
	TAP_CHECK_EQ(reg_rd(d, DT_DONE_BYTES, 8), 0x1234, "DONE_BYTES");
	TAP_CHECK_EQ(ev_take(ev0), 1, "the completion on MSI-X vector 0's eventfd");
	TAP_CHECK_EQ(ev_take(ev1), 0, "nothing on vector 1");

	/* A read past the mapping: the error vector, the IOMMU's reason. */
	st = run_op(d, OP_COPY, IOVA + MEM_SIZE - 0x40, IOVA, 0x80);
	TAP_CHECK_EQ(st, ST_DONE | ST_ERROR | ERR_DMA_FAULT << 8, "fault status 0x%x", st);
	TAP_CHECK_EQ(reg_rd(d, DT_FAULT_IOVA, 8), IOVA + MEM_SIZE, "FAULT_IOVA");
	info = (uint32_t)reg_rd(d, DT_FAULT_INFO, 4);
	TAP_CHECK_EQ(info, 1u | fault_reason << 8 | (uint32_t)EFAULT << 24, "FAULT_INFO");
	TAP_CHECK_EQ(reg_rd(d, DT_DONE_BYTES, 8), 0x40, "bytes before the fault");
	TAP_CHECK(ev_take(ev1) == 1 && ev_take(ev0) == 0, "the error on vector 1");

	/* The buffer, through a mapping of the sparse mmap area, written out by WRITE. */
	win = mmap(NULL, DT_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd,
		   (off_t)(d->bar0.offset + DT_BUF));
	TAP_CHECK(win != MAP_FAILED, "mmap of the buffer: %s", strerror(errno));
	memset(win, 0x5a, 0x100);
	st = run_op(d, OP_WRITE, 0, IOVA + 0x4000, 0x100);
	TAP_CHECK_EQ(st, ST_DONE, "WRITE done");
	for (unsigned int i = 0; i < 0x100; i++)
		TAP_CHECK(mem[0x4000 + i] == 0x5a, "WRITE byte %u", i);
	TAP_CHECK_EQ(ev_take(ev0), 1, "its completion");
	CHECK_OK(munmap(win, DT_BUF_SIZE));
	close(ev0);
	close(ev1);
}

static uint32_t group_status(int g)
{
	struct vfio_group_status s = {.argsz = sizeof(s)};

	CHECK_OK(ioctl(g, VFIO_GROUP_GET_STATUS, &s));
	return s.flags;
}

static void test_paths(void *arg)
{
	static const char *const def_present[] = {
		"/dev/vfio/1", "/dev/vfio/2", "/dev/vfio/devices/vfio0", "/dev/vfio/devices/vfio1"};
	static const char *const def_absent[] = {"/dev/vfio/0", "/dev/vfio/3", "/dev/vfio/5",
						 "/dev/vfio/devices/vfio2"};
	static const char *const three_present[] = {
		"/dev/vfio/5", "/dev/vfio/6", "/dev/vfio/devices/vfio0", "/dev/vfio/devices/vfio1",
		"/dev/vfio/devices/vfio2"};
	static const char *const three_absent[] = {"/dev/vfio/1", "/dev/vfio/2", "/dev/vfio/7",
						   "/dev/vfio/devices/vfio3"};
	const char *const *present = three ? three_present : def_present;
	const char *const *absent = three ? three_absent : def_absent;
	size_t np = three ? ARRAY_SIZE_T(three_present) : ARRAY_SIZE_T(def_present);
	size_t na = three ? ARRAY_SIZE_T(three_absent) : ARRAY_SIZE_T(def_absent);
	struct stat st;

	/* The first look at /dev/vfio (a stat) already sees the machine. */
	for (size_t i = 0; i < np; i++) {
		CHECK_OK(stat(present[i], &st));
		TAP_CHECK(S_ISCHR(st.st_mode), "%s: a character device", present[i]);
	}
	for (size_t i = 0; i < na; i++)
		CHECK_ERRNO(ENOENT, stat(absent[i], &st));
	for (size_t i = 0; i < na; i++)
		CHECK_ERRNO(ENOENT, open(absent[i], O_RDWR));
}

static void test_classic(void *arg)
{
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map)};
	const char *group_path = three ? "/dev/vfio/5" : "/dev/vfio/1";
	int c, g, fd, other;
	uint8_t *mem = dma_mem();
	struct vfio_device_info di = {.argsz = sizeof(di)};
	struct dev d;

	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	TAP_CHECK(c >= 0, "container: %s", strerror(errno));
	TAP_CHECK_EQ(ioctl(c, VFIO_GET_API_VERSION), VFIO_API_VERSION, "API version");
	TAP_CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1, "TYPE1v2");
	g = open(group_path, O_RDWR | O_CLOEXEC);
	TAP_CHECK(g >= 0, "%s: %s", group_path, strerror(errno));
	CHECK_ERRNO(EBUSY, open(group_path, O_RDWR));
	TAP_CHECK_EQ(group_status(g), VFIO_GROUP_FLAGS_VIABLE, "viable, no container");
	CHECK_OK(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	TAP_CHECK_EQ(group_status(g), VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET,
		     "viable, container set");
	CHECK_ERRNO(EINVAL, ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0"));
	CHECK_OK(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)mem;
	map.iova = IOVA;
	map.size = MEM_SIZE;
	CHECK_OK(ioctl(c, VFIO_IOMMU_MAP_DMA, &map));

	/* Group 5 of the three-device topology hands out both of its devices, 03.0 is not its. */
	if (three) {
		other = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
		TAP_CHECK(other >= 0, "01.0 from group 5: %s", strerror(errno));
		CHECK_ERRNO(ENODEV, ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:03.0"));
		close(other);
	} else {
		CHECK_ERRNO(ENODEV, ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:02.0"));
	}
	fd = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, three ? "0000:00:02.0" : "0000:00:01.0");
	TAP_CHECK(fd >= 0, "GET_DEVICE_FD: %s", strerror(errno));
	CHECK_OK(ioctl(fd, VFIO_DEVICE_GET_INFO, &di));
	TAP_CHECK(di.flags & VFIO_DEVICE_FLAGS_PCI && di.flags & VFIO_DEVICE_FLAGS_RESET &&
			  di.num_regions == VFIO_PCI_NUM_REGIONS &&
			  di.num_irqs == VFIO_PCI_NUM_IRQS,
		  "a PCI device with reset");
	dev_init(&d, fd);
	TAP_CHECK(d.bar0.size == 0x10000 && d.bar0.flags & VFIO_REGION_INFO_FLAG_MMAP &&
			  d.bar0.flags & VFIO_REGION_INFO_FLAG_CAPS,
		  "BAR0: 64 KiB, mmap-able in parts");
	exercise(&d, mem, iommu_fault_reason());
	CHECK_OK(ioctl(fd, VFIO_DEVICE_RESET));
	TAP_CHECK_EQ(reg_rd(&d, DT_CTRL, 4), 0, "RESET cleared CTRL");
	close(fd);
	close(g);
	close(c);
	munmap(mem, MEM_SIZE);
}

static uint32_t hw_info_type(int iommufd, uint32_t dev_id)
{
	uint8_t data[256];
	struct iommu_hw_info info = {
		.size = sizeof(info),
		.dev_id = dev_id,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)data,
	};

	CHECK_OK(ioctl(iommufd, IOMMU_GET_HW_INFO, &info));
	return info.out_data_type;
}

/* Bind @cdev to a new iommufd, map the memory, attach: the device fd, DMA-ready. */
static int cdev_bind(const char *cdev, uint8_t *mem, int *iommufd_out, uint32_t *dev_id)
{
	struct vfio_device_bind_iommufd bind = {.argsz = sizeof(bind)};
	struct vfio_device_attach_iommufd_pt at = {.argsz = sizeof(at)};
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)mem,
		.length = MEM_SIZE,
		.iova = IOVA,
	};
	int fd = open(cdev, O_RDWR | O_CLOEXEC), iommufd;
	struct vfio_device_info di = {.argsz = sizeof(di)};

	TAP_CHECK(fd >= 0, "%s: %s", cdev, strerror(errno));
	CHECK_ERRNO(EINVAL, ioctl(fd, VFIO_DEVICE_GET_INFO, &di)); /* not bound yet */
	iommufd = iommufd_open();
	bind.iommufd = iommufd;
	CHECK_OK(ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	map.ioas_id = ioas_alloc(iommufd);
	CHECK_OK(ioctl(iommufd, IOMMU_IOAS_MAP, &map));
	at.pt_id = map.ioas_id;
	CHECK_OK(ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	TAP_CHECK(at.pt_id != map.ioas_id, "attached to an automatic HWPT (%u)", at.pt_id);
	*iommufd_out = iommufd;
	*dev_id = bind.out_devid;
	return fd;
}

static void test_cdev(void *arg)
{
	uint8_t *mem = dma_mem();
	uint32_t dev_id;
	int fd, iommufd, g;
	struct dev d;

	/* 0000:00:02.0 is cdev 1 in both topologies. */
	fd = cdev_bind("/dev/vfio/devices/vfio1", mem, &iommufd, &dev_id);
	TAP_CHECK_EQ(hw_info_type(iommufd, dev_id),
		     vtd ? IOMMU_HW_INFO_TYPE_INTEL_VTD : IOMMU_HW_INFO_TYPE_ARM_SMMUV3,
		     "behind the topology's IOMMU");
	dev_init(&d, fd);
	exercise(&d, mem, iommu_fault_reason());
	/* Bound through its cdev, the device blocks its group: group 2, or 5 with 01.0 in it. */
	CHECK_ERRNO(EBUSY, open(three ? "/dev/vfio/5" : "/dev/vfio/2", O_RDWR));
	g = open(three ? "/dev/vfio/6" : "/dev/vfio/1", O_RDWR);
	TAP_CHECK(g >= 0, "the other group opens: %s", strerror(errno));
	close(g);
	close(fd);
	close(iommufd);
	/* Unbound: the group is free again. */
	g = open(three ? "/dev/vfio/5" : "/dev/vfio/2", O_RDWR);
	TAP_CHECK(g >= 0, "group free after close: %s", strerror(errno));
	close(g);
	munmap(mem, MEM_SIZE);
}

/* The three-device topology's 03.0 is behind the mock: its hw info and its faults are the mock's.
 */
static void test_mock_device(void *arg)
{
	uint8_t *mem;
	uint32_t dev_id;
	int fd, iommufd;
	struct dev d;

	if (!three)
		tap_skip("this topology has no mock device");
	mem = dma_mem();
	fd = cdev_bind("/dev/vfio/devices/vfio2", mem, &iommufd, &dev_id);
	TAP_CHECK_EQ(hw_info_type(iommufd, dev_id), IOMMU_HW_INFO_TYPE_SELFTEST, "behind the mock");
	dev_init(&d, fd);
	/* The mock's reason for an unmapped page: MOCK_DMA_FAULT_NOT_MAPPED (2). */
	exercise(&d, mem, 2);
	close(fd);
	close(iommufd);
	munmap(mem, MEM_SIZE);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void *arg);
	} tests[] = {
		{"the topology's groups and cdevs, from the first stat", test_paths},
		{"classic flow: container, group, type1, MAP_DMA, config, COPY, MSI-X, fault, mmap",
		 test_classic},
		{"cdev flow: BIND_IOMMUFD, IOAS, ATTACH, HW_INFO, DMA; the group blocked",
		 test_cdev},
		{"a device behind the mock (three-device topology)", test_mock_device},
	};

	shim_check_preloaded();
	if (argc != 2 ||
	    (strcmp(argv[1], "default") && strcmp(argv[1], "three") && strcmp(argv[1], "vtd"))) {
		printf("Bail out! usage: %s default|three|vtd\n", argv[0]);
		return 1;
	}
	three = !strcmp(argv[1], "three");
	vtd = !strcmp(argv[1], "vtd");
	if ((three || vtd) != (getenv("UIOMMU_CONFIG") != NULL)) {
		printf("Bail out! UIOMMU_CONFIG must be set exactly for 'three' and 'vtd'\n");
		return 1;
	}
	tap_plan(ARRAY_SIZE_T(tests));
	for (size_t i = 0; i < ARRAY_SIZE_T(tests); i++)
		tap_run(tests[i].name, tests[i].fn, NULL);
	return tap_done();
}
