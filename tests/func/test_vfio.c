// SPDX-License-Identifier: MIT
/*
 * VFIO through uiommu_open()/uiommu_ioctl(), the classic flow and the cdev
 * (reference vfio.md §3 and §5), against the test fixture device of
 * vfio_fixture.h behind the mock IOMMU:
 *
 *  - paths and topology (ENOENT for nodes that do not exist, EBUSY);
 *  - the container: API version, CHECK_EXTENSION before and after
 *    SET_IOMMU, the "no IOMMU yet" EINVALs, SET_IOMMU's errnos;
 *  - groups: exclusive open, GET_STATUS before / after, SET_CONTAINER and
 *    UNSET_CONTAINER errnos, GET_DEVICE_FD;
 *  - type1: GET_INFO and its capability chain at several argsz, MAP_DMA and
 *    UNMAP_DMA (each errno of §3.5-3.6, sizes written back), v1 unmap,
 *    VADDR updates, the entry limit, locked-memory accounting,
 *    DIRTY_PAGES and UNMAP's dirty bitmap, nesting's NEST_PARENT domain;
 *  - DMA by the device through what MAP_DMA mapped;
 *  - the device fd: GET_INFO, regions (capabilities, read / write / mmap),
 *    IRQs (info, SET_IRQS validation, eventfds for INTx, MSI-X, ERR and
 *    the device-specific fault IRQ), RESET;
 *  - the cdev: EINVAL before bind, BIND / ATTACH (IOAS, HWPT, replace,
 *    PASID) / DETACH, the group blocked while bound; the group path on an
 *    iommufd;
 *  - closing in any order leaves no file, mapping or binding behind, and
 *    a fail-nth sweep over the classic flow.
 */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

#include "iommufd/iommufd_private.h"
#include "util/alloc.h"
#include "util/file.h"
#include "vfio/vfio_private.h"
#include "vfio/virqfd.h"

#include "iommufd_utils.h"
#include "vfio_fixture.h"

#define NAME_A	"0000:00:01.0" /* group 1 */
#define NAME_C	"0000:00:03.0" /* group 1 */
#define NAME_B	"0000:00:02.0" /* group 2, PASID capable */
#define GROUP_1 "/dev/vfio/1"
#define GROUP_2 "/dev/vfio/2"
#define IOVA	(1ULL << 24) /* the mock aperture starts at 16 MiB */
#define RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static struct fixture_dev *dev_a, *dev_b, *dev_c;
static unsigned int base_files;

/* ------------------------------------------------------------------ */
/* Helpers                                                            */

static struct uiommu_file *xopen(const char *path)
{
	struct uiommu_file *f = uiommu_open(path, O_RDWR | O_CLOEXEC);

	TAP_CHECK(f, "open %s: %s", path, strerror(errno));
	return f;
}

static int set_container(struct uiommu_file *group, struct uiommu_file *container)
{
	int32_t fd = uiommu_file_fd(container);

	return uiommu_ioctl(group, VFIO_GROUP_SET_CONTAINER, &fd);
}

static struct uiommu_file *get_device(struct uiommu_file *group, const char *name)
{
	int fd = uiommu_ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);

	TAP_CHECK(fd >= 0, "GET_DEVICE_FD %s: %s", name, strerror(errno));
	return uiommu_file_from_fd(fd);
}

static int map_dma(struct uiommu_file *c, uint64_t iova, const void *vaddr, uint64_t size,
		   uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = flags,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return uiommu_ioctl(c, VFIO_IOMMU_MAP_DMA, &m);
}

/* *out: the size field afterwards (UINT64_MAX-poisoned before the call). */
static int unmap_dma(struct uiommu_file *c, uint64_t iova, uint64_t size, uint32_t flags,
		     uint64_t *out)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.flags = flags,
		.iova = iova,
		.size = size,
	};
	int rc = uiommu_ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u);

	if (out)
		*out = u.size;
	return rc;
}

static uint32_t dma_avail(struct uiommu_file *c)
{
	uint8_t buf[256] = {0};
	struct vfio_iommu_type1_info *info = (void *)buf;
	uint32_t off;

	info->argsz = sizeof(buf);
	TAP_CHECK(!uiommu_ioctl(c, VFIO_IOMMU_GET_INFO, info), "GET_INFO: %s", strerror(errno));
	for (off = info->cap_offset; off; off = ((struct vfio_info_cap_header *)(buf + off))->next)
		if (((struct vfio_info_cap_header *)(buf + off))->id ==
		    VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL)
			return ((struct vfio_iommu_type1_info_dma_avail *)(buf + off))->avail;
	tap_fail_at(__FILE__, __LINE__, "DMA_AVAIL", "no DMA_AVAIL capability");
}

static void reg_write(struct uiommu_file *dev, unsigned int reg, uint64_t v)
{
	TAP_CHECK(uiommu_pwrite(dev, &v, 8, reg) == 8, "BAR0 write 0x%x: %s", reg, strerror(errno));
}

static uint64_t reg_read(struct uiommu_file *dev, unsigned int reg)
{
	uint64_t v = 0;

	TAP_CHECK(uiommu_pread(dev, &v, 8, reg) == 8, "BAR0 read 0x%x: %s", reg, strerror(errno));
	return v;
}

/* The device DMAs 8 bytes (cmd 1 read, 2 write) through its IOMMU; its status (0 / -errno). */
static int64_t dev_dma(struct uiommu_file *dev, uint64_t iova, uint32_t pasid, int cmd,
		       uint64_t *data)
{
	reg_write(dev, FIX_REG_DMA_IOVA, iova);
	reg_write(dev, FIX_REG_DMA_PASID, pasid);
	if (cmd == 2)
		reg_write(dev, FIX_REG_DMA_DATA, *data);
	reg_write(dev, FIX_REG_DMA_CMD, (uint64_t)cmd);
	if (cmd == 1)
		*data = reg_read(dev, FIX_REG_DMA_DATA);
	return (int64_t)reg_read(dev, FIX_REG_DMA_STATUS);
}

/* The device raises vector @vector of IRQ index @index (its doorbell register). */
static void dev_raise(struct uiommu_file *dev, unsigned int index, unsigned int vector)
{
	reg_write(dev, FIX_REG_IRQ, (uint64_t)index << 16 | vector);
}

/* Drain an eventfd: its counter, 0 when it was not signalled. */
static uint64_t ev_take(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* A container with group 1 (devices A and C), SET_IOMMU(@type), device A open. */
struct classic {
	struct uiommu_file *container, *group, *dev;
};

static void classic_setup(struct classic *c, unsigned long type)
{
	c->container = xopen("/dev/vfio/vfio");
	c->group = xopen(GROUP_1);
	CHECK_OK(set_container(c->group, c->container));
	CHECK_OK(uiommu_ioctl(c->container, VFIO_SET_IOMMU, type));
	c->dev = get_device(c->group, NAME_A);
}

static void classic_teardown(struct classic *c)
{
	if (c->dev)
		CHECK_OK(uiommu_close(c->dev));
	CHECK_OK(uiommu_close(c->group));
	CHECK_OK(uiommu_close(c->container));
	*c = (struct classic){0};
}

static void check_no_leak(void)
{
	TAP_CHECK_EQ(ufile_count(), base_files, "files left open");
	TAP_CHECK_EQ(ufile_vma_count(), 0, "mappings left");
	TAP_CHECK(!dev_a->vdev.dev->iommufd_priv && !dev_b->vdev.dev->iommufd_priv &&
			  !dev_c->vdev.dev->iommufd_priv,
		  "a device is still bound");
}

/* ------------------------------------------------------------------ */
/* Paths and the container                                            */

static void test_paths(void *arg)
{
	static const char *const absent[] = {
		"/dev/vfio/3",
		"/dev/vfio/01",
		"/dev/vfio/1x",
		"/dev/vfio/devices/vfio3",
		"/dev/vfio/devices/vfio",
		"/dev/vfio/devices/vfio01",
		"/dev/vfio/-1",
		"/dev/vfio/4294967297",
	};
	struct uiommu_file *g, *c1, *c2;

	for (size_t i = 0; i < ARRAY_SIZE_T(absent); i++) {
		errno = 0;
		TAP_CHECK(!uiommu_open(absent[i], O_RDWR) && errno == ENOENT, "%s: errno %d",
			  absent[i], errno);
	}
	/* The directories exist (the devices are registered): not openable for writing. */
	errno = 0;
	TAP_CHECK(!uiommu_open("/dev/vfio/", O_RDWR) && errno == EISDIR, "/dev/vfio/: %d", errno);
	errno = 0;
	TAP_CHECK(!uiommu_open("/dev/vfio/devices/", O_RDWR) && errno == EISDIR,
		  "/dev/vfio/devices/: %d", errno);
	TAP_CHECK(vfio_group_exists(1) && vfio_group_exists(2) && !vfio_group_exists(3),
		  "groups 1 and 2");
	TAP_CHECK_EQ(vfio_device_cdev_index(&dev_a->vdev), 0, "cdev of A");
	TAP_CHECK_EQ(vfio_device_cdev_index(&dev_b->vdev), 1, "cdev of B");
	TAP_CHECK_EQ(vfio_device_cdev_index(&dev_c->vdev), 2, "cdev of C");
	/* Every open of the container is a new one; a group opens once. */
	c1 = xopen("/dev/vfio/vfio");
	c2 = xopen("/dev/vfio/vfio");
	TAP_CHECK(c1 != c2 && uiommu_file_fd(c1) != uiommu_file_fd(c2), "two containers");
	g = xopen(GROUP_1);
	errno = 0;
	TAP_CHECK(!uiommu_open(GROUP_1, O_RDWR) && errno == EBUSY, "second group open: %d", errno);
	CHECK_OK(uiommu_close(g));
	g = xopen(GROUP_1);
	CHECK_OK(uiommu_close(g));
	CHECK_OK(uiommu_close(c1));
	CHECK_OK(uiommu_close(c2));
	/* A device cannot leave while its group is open. */
	g = xopen(GROUP_2);
	TAP_CHECK_EQ(vfio_unregister_device(&dev_b->vdev), -EBUSY, "unregister while open");
	CHECK_OK(uiommu_close(g));
	check_no_leak();
}

static void test_container_unset(void *arg)
{
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map)};
	struct vfio_iommu_type1_info info = {.argsz = sizeof(info)};
	struct uiommu_file *c = xopen("/dev/vfio/vfio");

	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_GET_API_VERSION), VFIO_API_VERSION, "API version");
	/* Before SET_IOMMU, type1 answers from its static table (Linux polls its backends). */
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 1, "TYPE1");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1, "TYPE1v2");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_NESTING_IOMMU), 1, "NESTING");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL), 1, "UNMAP_ALL");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 0, "UPDATE_VADDR");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU), 0, "DMA_CC");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU), 0, "NOIOMMU");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 0, "SPAPR");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU), 0, "SPAPRv2");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_EEH), 0, "EEH");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, 0), 0, "0");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, 1000), 0, "1000");
	/* No backend yet: everything else is EINVAL, SET_IOMMU needs a group. */
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_MAP_DMA, &map));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_GET_INFO, &info));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_ENABLE));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, IOMMU_IOAS_ALLOC, &info));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	/* The container is no iommufd. */
	CHECK_ERRNO(EINVAL, uiommu_read(c, &info, 8));
	CHECK_OK(uiommu_close(c));
	check_no_leak();
}

static void test_group_status_and_container(void *arg)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	struct uiommu_file *c, *c2, *g, *iommufd;
	int32_t fd;
	int efd;

	c = xopen("/dev/vfio/vfio");
	g = xopen(GROUP_1);
	st.argsz = 7;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(g, VFIO_GROUP_GET_STATUS, &st));
	st.argsz = sizeof(st);
	CHECK_ERRNO(EFAULT, uiommu_ioctl(g, VFIO_GROUP_GET_STATUS, NULL));
	st.flags = 0xffff;
	CHECK_OK(uiommu_ioctl(g, VFIO_GROUP_GET_STATUS, &st));
	TAP_CHECK_EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE, "viable, no container");
	TAP_CHECK_EQ(st.argsz, sizeof(st), "argsz kept");
	CHECK_ERRNO(EINVAL, uiommu_ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(g, VFIO_DEVICE_GET_INFO, &st));
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(g, VFIO_GET_API_VERSION));
	/* GET_DEVICE_FD: unknown name ENODEV, known name EINVAL (no IOMMU yet). */
	CHECK_ERRNO(ENODEV, uiommu_ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:09.0"));
	CHECK_ERRNO(ENODEV, uiommu_ioctl(g, VFIO_GROUP_GET_DEVICE_FD, NAME_B));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(g, VFIO_GROUP_GET_DEVICE_FD, NAME_A));
	CHECK_ERRNO(EFAULT, uiommu_ioctl(g, VFIO_GROUP_GET_DEVICE_FD, NULL));
	{
		/* A name without a NUL in its first page. */
		char *big = malloc(PAGE_SIZE + 16);

		memset(big, 'a', PAGE_SIZE + 16);
		CHECK_ERRNO(EINVAL, uiommu_ioctl(g, VFIO_GROUP_GET_DEVICE_FD, big));
		free(big);
	}

	/* SET_CONTAINER: bad pointer, closed fd, a real fd of another kind. */
	CHECK_ERRNO(EFAULT, uiommu_ioctl(g, VFIO_GROUP_SET_CONTAINER, NULL));
	fd = -1;
	CHECK_ERRNO(EBADF, uiommu_ioctl(g, VFIO_GROUP_SET_CONTAINER, &fd));
	fd = 1000;
	CHECK_ERRNO(EBADF, uiommu_ioctl(g, VFIO_GROUP_SET_CONTAINER, &fd));
	efd = eventfd(0, EFD_CLOEXEC);
	fd = efd;
	CHECK_ERRNO(EBADFD, uiommu_ioctl(g, VFIO_GROUP_SET_CONTAINER, &fd));
	close(efd);
	/* An emulated file of another kind (the group itself). */
	fd = uiommu_file_fd(g);
	CHECK_ERRNO(EBADFD, uiommu_ioctl(g, VFIO_GROUP_SET_CONTAINER, &fd));

	CHECK_OK(set_container(g, c));
	CHECK_OK(uiommu_ioctl(g, VFIO_GROUP_GET_STATUS, &st));
	TAP_CHECK_EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET,
		     "container set");
	c2 = xopen("/dev/vfio/vfio");
	CHECK_ERRNO(EINVAL, set_container(g, c2));
	CHECK_ERRNO(EINVAL, set_container(g, c));
	/* SET_CONTAINER done, SET_IOMMU not: no device yet. */
	CHECK_ERRNO(EINVAL, uiommu_ioctl(g, VFIO_GROUP_GET_DEVICE_FD, NAME_A));
	/* SET_IOMMU: types nobody offers ENODEV, UNMAP_ALL (claimed, then refused) EINVAL. */
	CHECK_ERRNO(ENODEV, uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU));
	CHECK_ERRNO(ENODEV, uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU));
	CHECK_ERRNO(ENODEV, uiommu_ioctl(c, VFIO_SET_IOMMU, 0));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_UNMAP_ALL));
	TAP_CHECK(!dev_a->vdev.dev->iommufd_priv, "nothing bound by failed SET_IOMMUs");
	CHECK_OK(uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	/* Both devices of the group are now bound to the container. */
	TAP_CHECK(dev_a->vdev.dev->iommufd_priv && dev_c->vdev.dev->iommufd_priv,
		  "group devices bound");
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 1, "UPDATE_VADDR");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU), 1, "DMA_CC");
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 0, "SPAPR");
	/* Unknown to type1: ENOTTY now (ENABLE / DISABLE are sPAPR's). */
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(c, VFIO_IOMMU_ENABLE));
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(c, VFIO_IOMMU_SET_PASID_TABLE, &st));
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(c, IOMMU_IOAS_ALLOC, &st));

	/* The group leaves: the backend goes with it; it can come back. */
	CHECK_OK(uiommu_ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	TAP_CHECK(!dev_a->vdev.dev->iommufd_priv, "unbound by UNSET_CONTAINER");
	CHECK_OK(uiommu_ioctl(g, VFIO_GROUP_GET_STATUS, &st));
	TAP_CHECK_EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE, "container unset");
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c, VFIO_IOMMU_GET_INFO, &st));
	TAP_CHECK_EQ(uiommu_ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 0, "no backend");
	CHECK_OK(set_container(g, c));
	CHECK_OK(uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));

	/* An iommufd is a container too (compat mode); status is the same. */
	CHECK_OK(uiommu_ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	iommufd = xopen("/dev/iommu");
	CHECK_OK(set_container(g, iommufd));
	CHECK_OK(uiommu_ioctl(g, VFIO_GROUP_GET_STATUS, &st));
	TAP_CHECK_EQ(st.flags, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET,
		     "iommufd set");
	CHECK_OK(uiommu_close(iommufd));
	CHECK_OK(uiommu_close(g));
	CHECK_OK(uiommu_close(c2));
	CHECK_OK(uiommu_close(c));
	check_no_leak();
}

/* ------------------------------------------------------------------ */
/* type1                                                              */

static void test_get_info(void *arg)
{
	/* mig 32 + dma_avail 12 -> 16 + iova_range 16 + 16 */
	const uint32_t full = 24 + 32 + 16 + 32;
	struct vfio_iommu_type1_info_cap_iova_range *iovas;
	struct vfio_iommu_type1_info_cap_migration *mig;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info *info;
	uint8_t buf[256];
	struct classic c;

	classic_setup(&c, VFIO_TYPE1v2_IOMMU);
	info = (void *)buf;
	memset(buf, 0xee, sizeof(buf));
	info->argsz = 15;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.container, VFIO_IOMMU_GET_INFO, info));
	CHECK_ERRNO(EFAULT, uiommu_ioctl(c.container, VFIO_IOMMU_GET_INFO, NULL));

	/* argsz 16: only 16 bytes come back, argsz says what all takes. */
	info->argsz = 16;
	CHECK_OK(uiommu_ioctl(c.container, VFIO_IOMMU_GET_INFO, info));
	TAP_CHECK_EQ(info->argsz, full, "argsz needed");
	TAP_CHECK_EQ(info->flags, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, "flags");
	/* The mock's 2 KiB pages show as PAGE_SIZE. */
	TAP_CHECK_EQ(info->iova_pgsizes, PAGE_SIZE, "page sizes");
	for (size_t i = 16; i < sizeof(buf); i++)
		TAP_CHECK(buf[i] == 0xee, "byte %zu written past argsz 16", i);

	/* argsz 24: the struct, no capability (cap_offset 0). */
	memset(buf, 0xee, sizeof(buf));
	info->argsz = 24;
	CHECK_OK(uiommu_ioctl(c.container, VFIO_IOMMU_GET_INFO, info));
	TAP_CHECK_EQ(info->argsz, full, "argsz needed");
	TAP_CHECK_EQ(info->cap_offset, 0, "no chain when it does not fit");
	for (size_t i = 24; i < sizeof(buf); i++)
		TAP_CHECK(buf[i] == 0xee, "byte %zu written past argsz 24", i);
	/* One byte short: still nothing. */
	memset(buf, 0xee, sizeof(buf));
	info->argsz = full - 1;
	CHECK_OK(uiommu_ioctl(c.container, VFIO_IOMMU_GET_INFO, info));
	TAP_CHECK(info->cap_offset == 0 && buf[24] == 0xee && info->argsz == full, "short by one");

	/* Exactly enough, and more: the chain MIGRATION -> DMA_AVAIL -> IOVA_RANGE. */
	for (uint32_t argsz = full; argsz <= sizeof(buf); argsz += sizeof(buf) - full) {
		memset(buf, 0xee, sizeof(buf));
		info->argsz = argsz;
		CHECK_OK(uiommu_ioctl(c.container, VFIO_IOMMU_GET_INFO, info));
		TAP_CHECK_EQ(info->argsz, argsz, "argsz unchanged when it fits");
		TAP_CHECK_EQ(info->cap_offset, 24, "chain right after the struct");
		mig = (void *)(buf + 24);
		TAP_CHECK(mig->header.id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION &&
				  mig->header.version == 1 && mig->header.next == 56,
			  "migration header %u %u %u", mig->header.id, mig->header.version,
			  mig->header.next);
		TAP_CHECK(mig->flags == 0 && mig->pgsize_bitmap == PAGE_SIZE &&
				  mig->max_dirty_bitmap_size == 0x10000000,
			  "migration payload");
		avail = (void *)(buf + 56);
		TAP_CHECK(avail->header.id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL &&
				  avail->header.next == 72 && avail->avail == 65535,
			  "dma_avail %u next %u", avail->avail, avail->header.next);
		iovas = (void *)(buf + 72);
		TAP_CHECK(iovas->header.id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE &&
				  iovas->header.next == 0 && iovas->nr_iovas == 1,
			  "iova ranges header");
		TAP_CHECK(iovas->iova_ranges[0].start == MOCK_APERTURE_START &&
				  iovas->iova_ranges[0].end == MOCK_APERTURE_LAST,
			  "aperture %llx..%llx", (unsigned long long)iovas->iova_ranges[0].start,
			  (unsigned long long)iovas->iova_ranges[0].end);
		if (argsz > full)
			TAP_CHECK(buf[full] == 0xee, "nothing past the chain");
		if (argsz == sizeof(buf))
			break;
	}
	classic_teardown(&c);
	check_no_leak();
}

static void test_map_dma_rules(void *arg)
{
	struct vfio_iommu_type1_dma_map m = {.argsz = sizeof(m)};
	struct classic c;
	uint64_t v = 0;
	void *hole;

	buffer_init();
	classic_setup(&c, VFIO_TYPE1v2_IOMMU);
	m.flags = RW;
	m.vaddr = (uintptr_t)buffer;
	m.iova = IOVA;
	m.size = PAGE_SIZE;
	m.argsz = 31;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.container, VFIO_IOMMU_MAP_DMA, &m));
	m.argsz = sizeof(m);
	CHECK_ERRNO(EFAULT, uiommu_ioctl(c.container, VFIO_IOMMU_MAP_DMA, NULL));
	/* Flags: unknown, none, permission with VADDR. */
	CHECK_ERRNO(EINVAL, map_dma(c.container, IOVA, buffer, PAGE_SIZE, 1u << 3));
	CHECK_ERRNO(EINVAL, map_dma(c.container, IOVA, buffer, PAGE_SIZE, 0));
	CHECK_ERRNO(EINVAL, map_dma(c.container, IOVA, buffer, PAGE_SIZE,
				    VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_VADDR));
	/* Sizes and alignment (the smallest page size, 4 KiB). */
	CHECK_ERRNO(EINVAL, map_dma(c.container, IOVA, buffer, 0, RW));
	CHECK_ERRNO(EINVAL, map_dma(c.container, IOVA, buffer, PAGE_SIZE + 2048, RW));
	CHECK_ERRNO(EINVAL, map_dma(c.container, IOVA + 2048, buffer, PAGE_SIZE, RW));
	CHECK_ERRNO(EINVAL, map_dma(c.container, IOVA, (char *)buffer + 2048, PAGE_SIZE, RW));
	/* Wraps. */
	CHECK_ERRNO(EINVAL,
		    map_dma(c.container, UINT64_MAX - PAGE_SIZE + 1, buffer, 2 * PAGE_SIZE, RW));
	CHECK_ERRNO(EINVAL, map_dma(c.container, IOVA, (void *)(UINTPTR_MAX - PAGE_SIZE + 1),
				    2 * PAGE_SIZE, RW));
	/* Outside the usable ranges (the mock aperture is [16 MiB, 2 GiB)). */
	CHECK_ERRNO(EINVAL, map_dma(c.container, 0, buffer, PAGE_SIZE, RW));
	CHECK_ERRNO(EINVAL, map_dma(c.container, (uint64_t)MOCK_APERTURE_LAST + 1 - PAGE_SIZE,
				    buffer, 2 * PAGE_SIZE, RW));
	/* Memory that is not there: pinning fails. */
	hole = mmap(NULL, PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, PAGE_SIZE);
	CHECK_ERRNO(EFAULT, map_dma(c.container, IOVA, hole, PAGE_SIZE, RW));
	TAP_CHECK_EQ(dma_avail(c.container), 65535, "failed maps consume no entry");

	/* A mapping; the device sees it. */
	memcpy(buffer, "vfiomap!", 8);
	CHECK_OK(map_dma(c.container, IOVA, buffer, 4 * PAGE_SIZE, RW));
	TAP_CHECK_EQ(dma_avail(c.container), 65534, "one entry used");
	TAP_CHECK_EQ(dev_dma(c.dev, IOVA, 0, 1, &v), 0, "device read");
	TAP_CHECK(!memcmp(&v, "vfiomap!", 8), "device read the buffer");
	v = 0x1122334455667788ULL;
	TAP_CHECK_EQ(dev_dma(c.dev, IOVA + 3 * PAGE_SIZE + 8, 0, 2, &v), 0, "device write");
	TAP_CHECK(!memcmp((char *)buffer + 3 * PAGE_SIZE + 8, &v, 8), "the write landed");
	TAP_CHECK(dev_dma(c.dev, IOVA + 4 * PAGE_SIZE, 0, 1, &v) < 0, "past the mapping faults");
	/* Any overlap is EEXIST, whatever else is wrong after it. */
	CHECK_ERRNO(EEXIST, map_dma(c.container, IOVA, buffer, 4 * PAGE_SIZE, RW));
	CHECK_ERRNO(EEXIST, map_dma(c.container, IOVA + 3 * PAGE_SIZE, buffer, 2 * PAGE_SIZE, RW));
	CHECK_ERRNO(EEXIST, map_dma(c.container, IOVA - PAGE_SIZE, buffer, 2 * PAGE_SIZE, RW));
	CHECK_ERRNO(EEXIST, map_dma(c.container, IOVA - PAGE_SIZE, buffer, 8 * PAGE_SIZE, RW));
	/* Read-only from the device: writes fault. */
	CHECK_OK(map_dma(c.container, IOVA + 8 * PAGE_SIZE, buffer, PAGE_SIZE,
			 VFIO_DMA_MAP_FLAG_READ));
	TAP_CHECK_EQ(dev_dma(c.dev, IOVA + 8 * PAGE_SIZE, 0, 1, &v), 0, "read of a R mapping");
	TAP_CHECK(dev_dma(c.dev, IOVA + 8 * PAGE_SIZE, 0, 2, &v) < 0, "write of a R mapping");
	/* The second device of the group shares the container's IOAS. */
	{
		struct uiommu_file *d2 = get_device(c.group, NAME_C);

		TAP_CHECK_EQ(dev_dma(d2, IOVA, 0, 1, &v), 0, "device C reads");
		TAP_CHECK(!memcmp(&v, "vfiomap!", 8), "device C read the buffer");
		CHECK_OK(uiommu_close(d2));
	}
	classic_teardown(&c);
	check_no_leak();
}

static void test_unmap_dma_rules(void *arg)
{
	struct vfio_iommu_type1_dma_unmap u = {.argsz = sizeof(u)};
	struct classic c;
	uint64_t size;

	buffer_init();
	classic_setup(&c, VFIO_TYPE1v2_IOMMU);
	/* Mappings A [0, 4) and B [4, 6) pages, C [8, 9). */
	CHECK_OK(map_dma(c.container, IOVA, buffer, 4 * PAGE_SIZE, RW));
	CHECK_OK(map_dma(c.container, IOVA + 4 * PAGE_SIZE, buffer, 2 * PAGE_SIZE, RW));
	CHECK_OK(map_dma(c.container, IOVA + 8 * PAGE_SIZE, buffer, PAGE_SIZE, RW));

	u.argsz = 23;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.container, VFIO_IOMMU_UNMAP_DMA, &u));
	CHECK_ERRNO(EFAULT, uiommu_ioctl(c.container, VFIO_IOMMU_UNMAP_DMA, NULL));
	CHECK_ERRNO(EINVAL, unmap_dma(c.container, IOVA, PAGE_SIZE, 1u << 3, NULL));
	CHECK_ERRNO(EINVAL,
		    unmap_dma(c.container, 0, 0,
			      VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
			      NULL));
	CHECK_ERRNO(EINVAL,
		    unmap_dma(c.container, IOVA, PAGE_SIZE,
			      VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
			      NULL));
	CHECK_ERRNO(EINVAL, unmap_dma(c.container, IOVA + 2048, PAGE_SIZE, 0, NULL));
	CHECK_ERRNO(EINVAL, unmap_dma(c.container, IOVA, 0, 0, NULL));
	CHECK_ERRNO(EINVAL, unmap_dma(c.container, IOVA, PAGE_SIZE + 2048, 0, NULL));
	CHECK_ERRNO(EINVAL, unmap_dma(c.container, IOVA, UINT64_MAX - PAGE_SIZE + 1, 0, NULL));
	CHECK_ERRNO(EINVAL, unmap_dma(c.container, IOVA, PAGE_SIZE, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	CHECK_ERRNO(EINVAL, unmap_dma(c.container, IOVA, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	/* v2 never splits: a range starting or ending inside a mapping is EINVAL. */
	size = 12345;
	CHECK_ERRNO(EINVAL, unmap_dma(c.container, IOVA + PAGE_SIZE, PAGE_SIZE, 0, &size));
	TAP_CHECK_EQ(size, PAGE_SIZE, "size not written back on error");
	CHECK_ERRNO(EINVAL, unmap_dma(c.container, IOVA, 5 * PAGE_SIZE, 0, NULL));
	CHECK_ERRNO(EINVAL, unmap_dma(c.container, IOVA + 2 * PAGE_SIZE, 4 * PAGE_SIZE, 0, NULL));
	TAP_CHECK_EQ(dma_avail(c.container), 65532, "nothing unmapped by the errors");
	/* Nothing mapped in the range: success, size 0. */
	CHECK_OK(unmap_dma(c.container, IOVA + 6 * PAGE_SIZE, 2 * PAGE_SIZE, 0, &size));
	TAP_CHECK_EQ(size, 0, "empty range");
	/* Whole mappings, several at once, holes between them allowed. */
	CHECK_OK(unmap_dma(c.container, IOVA - PAGE_SIZE, 8 * PAGE_SIZE, 0, &size));
	TAP_CHECK_EQ(size, 6 * PAGE_SIZE, "A and B unmapped");
	TAP_CHECK_EQ(dma_avail(c.container), 65534, "entries back");
	CHECK_OK(map_dma(c.container, IOVA, buffer, PAGE_SIZE, RW));
	/* UNMAP_ALL. */
	CHECK_OK(unmap_dma(c.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &size));
	TAP_CHECK_EQ(size, 2 * PAGE_SIZE, "all");
	TAP_CHECK_EQ(dma_avail(c.container), 65535, "every entry back");
	CHECK_OK(unmap_dma(c.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &size));
	TAP_CHECK_EQ(size, 0, "all of nothing");
	classic_teardown(&c);
	check_no_leak();
}

static void test_unmap_v1(void *arg)
{
	struct vfio_iommu_type1_dirty_bitmap d = {.argsz = sizeof(d)};
	struct classic c;
	uint64_t size;

	buffer_init();
	classic_setup(&c, VFIO_TYPE1_IOMMU);
	CHECK_OK(map_dma(c.container, IOVA, buffer, 4 * PAGE_SIZE, RW));
	CHECK_OK(map_dma(c.container, IOVA + 4 * PAGE_SIZE, buffer, 4 * PAGE_SIZE, RW));
	/* v1: a range starting inside a mapping unmaps nothing and succeeds. */
	CHECK_OK(unmap_dma(c.container, IOVA + PAGE_SIZE, PAGE_SIZE, 0, &size));
	TAP_CHECK_EQ(size, 0, "inside a mapping");
	CHECK_OK(unmap_dma(c.container, IOVA + PAGE_SIZE, 6 * PAGE_SIZE, 0, &size));
	TAP_CHECK_EQ(size, 0, "starting inside stops the walk");
	/* ... and one whose first IOVA is in the range goes whole. */
	CHECK_OK(unmap_dma(c.container, IOVA + 4 * PAGE_SIZE, PAGE_SIZE, 0, &size));
	TAP_CHECK_EQ(size, 4 * PAGE_SIZE, "whole mapping removed");
	CHECK_OK(unmap_dma(c.container, IOVA, PAGE_SIZE, 0, &size));
	TAP_CHECK_EQ(size, 4 * PAGE_SIZE, "whole mapping removed");
	/* Dirty tracking is v2's. */
	d.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START;
	CHECK_ERRNO(EACCES, uiommu_ioctl(c.container, VFIO_IOMMU_DIRTY_PAGES, &d));
	classic_teardown(&c);
	check_no_leak();
}

static void test_vaddr(void *arg)
{
	struct uiommu_file *g2;
	struct classic c;
	uint64_t size, v;

	buffer_init();
	classic_setup(&c, VFIO_TYPE1v2_IOMMU);
	memcpy(buffer, "vaddr-ok", 8);
	CHECK_OK(map_dma(c.container, IOVA, buffer, 2 * PAGE_SIZE, RW));
	CHECK_OK(map_dma(c.container, IOVA + 2 * PAGE_SIZE, buffer, 2 * PAGE_SIZE, RW));
	/* VADDR updates of a mapping whose vaddr is valid, or of nothing. */
	CHECK_ERRNO(ENOENT, map_dma(c.container, IOVA + 8 * PAGE_SIZE, buffer, PAGE_SIZE,
				    VFIO_DMA_MAP_FLAG_VADDR));
	CHECK_ERRNO(EINVAL,
		    map_dma(c.container, IOVA, buffer, 2 * PAGE_SIZE, VFIO_DMA_MAP_FLAG_VADDR));

	/* Invalidate the first mapping: reported as unmapped, still mapped. */
	CHECK_OK(unmap_dma(c.container, IOVA, 2 * PAGE_SIZE, VFIO_DMA_UNMAP_FLAG_VADDR, &size));
	TAP_CHECK_EQ(size, 2 * PAGE_SIZE, "invalidated bytes");
	TAP_CHECK_EQ(dma_avail(c.container), 65533, "the entry is kept");
	TAP_CHECK_EQ(dev_dma(c.dev, IOVA, 0, 1, &v), 0, "DMA keeps working");
	TAP_CHECK(!memcmp(&v, "vaddr-ok", 8), "same memory");
	CHECK_ERRNO(EEXIST, map_dma(c.container, IOVA, buffer, 2 * PAGE_SIZE, RW));
	/* Across both: the first is invalid already, so nothing changes (B stays valid). */
	size = 7;
	CHECK_ERRNO(EINVAL,
		    unmap_dma(c.container, IOVA, 4 * PAGE_SIZE, VFIO_DMA_UNMAP_FLAG_VADDR, &size));
	CHECK_ERRNO(EINVAL, map_dma(c.container, IOVA + 2 * PAGE_SIZE, buffer, 2 * PAGE_SIZE,
				    VFIO_DMA_MAP_FLAG_VADDR));
	/* The first valid, the second invalid: the first's mark is rolled back. */
	CHECK_OK(unmap_dma(c.container, IOVA + 2 * PAGE_SIZE, 2 * PAGE_SIZE,
			   VFIO_DMA_UNMAP_FLAG_VADDR, &size));
	CHECK_OK(map_dma(c.container, IOVA, buffer, 2 * PAGE_SIZE, VFIO_DMA_MAP_FLAG_VADDR));
	CHECK_ERRNO(EINVAL,
		    unmap_dma(c.container, IOVA, 4 * PAGE_SIZE, VFIO_DMA_UNMAP_FLAG_VADDR, &size));
	CHECK_ERRNO(EINVAL,
		    map_dma(c.container, IOVA, buffer, 2 * PAGE_SIZE, VFIO_DMA_MAP_FLAG_VADDR));
	/* No group may join while a vaddr is invalid. */
	g2 = xopen(GROUP_2);
	CHECK_ERRNO(EBUSY, set_container(g2, c.container));
	/* Re-validate: only the exact range. */
	CHECK_ERRNO(EINVAL, map_dma(c.container, IOVA + 2 * PAGE_SIZE, buffer, PAGE_SIZE,
				    VFIO_DMA_MAP_FLAG_VADDR));
	CHECK_OK(map_dma(c.container, IOVA + 2 * PAGE_SIZE, buffer, 2 * PAGE_SIZE,
			 VFIO_DMA_MAP_FLAG_VADDR));
	CHECK_ERRNO(EINVAL, map_dma(c.container, IOVA + 2 * PAGE_SIZE, buffer, 2 * PAGE_SIZE,
				    VFIO_DMA_MAP_FLAG_VADDR));
	CHECK_OK(set_container(g2, c.container));
	/* An invalidated mapping can be unmapped for real. */
	CHECK_OK(unmap_dma(c.container, IOVA, 2 * PAGE_SIZE, VFIO_DMA_UNMAP_FLAG_VADDR, &size));
	CHECK_OK(unmap_dma(c.container, IOVA, 2 * PAGE_SIZE, 0, &size));
	TAP_CHECK_EQ(size, 2 * PAGE_SIZE, "invalid mapping unmapped");
	CHECK_ERRNO(ENOENT,
		    map_dma(c.container, IOVA, buffer, 2 * PAGE_SIZE, VFIO_DMA_MAP_FLAG_VADDR));
	CHECK_OK(uiommu_close(g2));
	classic_teardown(&c);
	check_no_leak();
}

static void test_entry_limit(void *arg)
{
	struct classic c;
	uint64_t size;

	buffer_init();
	/* VFIO's dma_entry_limit module parameter, read when type1 opens. */
	iommufd_vfio_dma_entry_limit = 4;
	classic_setup(&c, VFIO_TYPE1v2_IOMMU);
	iommufd_vfio_dma_entry_limit = UINT16_MAX;
	TAP_CHECK_EQ(dma_avail(c.container), 4, "limit");
	for (int i = 0; i < 4; i++)
		CHECK_OK(map_dma(c.container, IOVA + 2ULL * i * PAGE_SIZE, buffer, PAGE_SIZE, RW));
	TAP_CHECK_EQ(dma_avail(c.container), 0, "all used");
	CHECK_ERRNO(ENOSPC, map_dma(c.container, IOVA + 16 * PAGE_SIZE, buffer, PAGE_SIZE, RW));
	/* EEXIST comes first, the usable ranges after. */
	CHECK_ERRNO(EEXIST, map_dma(c.container, IOVA, buffer, PAGE_SIZE, RW));
	CHECK_ERRNO(ENOSPC, map_dma(c.container, 0, buffer, PAGE_SIZE, RW));
	CHECK_OK(unmap_dma(c.container, IOVA, PAGE_SIZE, 0, &size));
	TAP_CHECK_EQ(dma_avail(c.container), 1, "one back");
	CHECK_OK(map_dma(c.container, IOVA + 16 * PAGE_SIZE, buffer, PAGE_SIZE, RW));
	classic_teardown(&c);
	check_no_leak();
}

static bool never_capable(int cap)
{
	return false;
}

static void test_locked_memory(void *arg)
{
	bool (*saved_capable)(int) = iommufd_capable;
	struct iommufd_pin_stats before, after;
	struct rlimit saved, rl;
	struct classic c;
	uint64_t size;

	buffer_init();
	classic_setup(&c, VFIO_TYPE1v2_IOMMU);
	iommufd_capable = never_capable;
	iommufd_pin_stats(&before);
	getrlimit(RLIMIT_MEMLOCK, &saved);
	rl = saved;
	/* Room for 4 more pages of this process's locked memory. */
	rl.rlim_cur = (before.mm_locked_vm + 4) * PAGE_SIZE;
	if (saved.rlim_cur != RLIM_INFINITY && rl.rlim_cur > saved.rlim_cur)
		rl.rlim_cur = saved.rlim_cur;
	TAP_CHECK(!setrlimit(RLIMIT_MEMLOCK, &rl), "setrlimit: %s", strerror(errno));
	CHECK_ERRNO(ENOMEM, map_dma(c.container, IOVA, buffer, 8 * PAGE_SIZE, RW));
	iommufd_pin_stats(&after);
	TAP_CHECK_EQ(after.mm_locked_vm, before.mm_locked_vm, "a failed map leaves no charge");
	TAP_CHECK_EQ(dma_avail(c.container), 65535, "nor an entry");
	CHECK_OK(map_dma(c.container, IOVA, buffer, 4 * PAGE_SIZE, RW));
	iommufd_pin_stats(&after);
	TAP_CHECK_EQ(after.mm_locked_vm, before.mm_locked_vm + 4, "charged to the process");
	CHECK_ERRNO(ENOMEM, map_dma(c.container, IOVA + 8 * PAGE_SIZE, buffer, PAGE_SIZE, RW));
	CHECK_OK(unmap_dma(c.container, IOVA, 4 * PAGE_SIZE, 0, &size));
	iommufd_pin_stats(&after);
	TAP_CHECK_EQ(after.mm_locked_vm, before.mm_locked_vm, "uncharged by unmap");
	setrlimit(RLIMIT_MEMLOCK, &saved);
	iommufd_capable = saved_capable;
	classic_teardown(&c);
	check_no_leak();
}

/* DIRTY_PAGES with GET_BITMAP over [iova, iova + size) into @bits. */
static int get_dirty(struct uiommu_file *c, uint64_t iova, uint64_t size, uint64_t pgsize,
		     uint64_t *bits, uint64_t bits_size, uint32_t argsz)
{
	uint8_t buf[sizeof(struct vfio_iommu_type1_dirty_bitmap) +
		    sizeof(struct vfio_iommu_type1_dirty_bitmap_get)];
	struct vfio_iommu_type1_dirty_bitmap *d = (void *)buf;
	struct vfio_iommu_type1_dirty_bitmap_get *r = (void *)d->data;

	d->argsz = argsz;
	d->flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	r->iova = iova;
	r->size = size;
	r->bitmap.pgsize = pgsize;
	r->bitmap.size = bits_size;
	r->bitmap.data = (__u64 *)bits;
	return uiommu_ioctl(c, VFIO_IOMMU_DIRTY_PAGES, d);
}

static void test_dirty_pages(void *arg)
{
	const uint32_t full = sizeof(struct vfio_iommu_type1_dirty_bitmap) +
			      sizeof(struct vfio_iommu_type1_dirty_bitmap_get);
	struct vfio_iommu_type1_dirty_bitmap d = {.argsz = sizeof(d)};
	uint64_t bits[4], size;
	struct classic c;
	struct {
		struct vfio_iommu_type1_dma_unmap u;
		struct vfio_bitmap b;
	} ub;

	buffer_init();
	classic_setup(&c, VFIO_TYPE1v2_IOMMU);
	/* Mappings at pages [2, 6) and [8, 10) of a 100-page window, and [70, 71). */
	CHECK_OK(map_dma(c.container, IOVA + 2 * PAGE_SIZE, buffer, 4 * PAGE_SIZE, RW));
	CHECK_OK(map_dma(c.container, IOVA + 8 * PAGE_SIZE, buffer, 2 * PAGE_SIZE, RW));
	CHECK_OK(map_dma(c.container, IOVA + 70 * PAGE_SIZE, buffer, PAGE_SIZE, RW));

	d.argsz = 7;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.container, VFIO_IOMMU_DIRTY_PAGES, &d));
	d.argsz = sizeof(d);
	d.flags = 0;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.container, VFIO_IOMMU_DIRTY_PAGES, &d));
	d.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START | VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.container, VFIO_IOMMU_DIRTY_PAGES, &d));
	d.flags = 1u << 3;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.container, VFIO_IOMMU_DIRTY_PAGES, &d));
	/* Not tracking yet. */
	memset(bits, 0, sizeof(bits));
	CHECK_ERRNO(EINVAL, get_dirty(c.container, IOVA, 100 * PAGE_SIZE, PAGE_SIZE, bits,
				      sizeof(bits), full));
	d.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_START;
	CHECK_OK(uiommu_ioctl(c.container, VFIO_IOMMU_DIRTY_PAGES, &d));
	CHECK_OK(uiommu_ioctl(c.container, VFIO_IOMMU_DIRTY_PAGES, &d));

	CHECK_ERRNO(EINVAL, get_dirty(c.container, IOVA, 100 * PAGE_SIZE, PAGE_SIZE, bits,
				      sizeof(bits), full - 1));
	CHECK_ERRNO(EINVAL, get_dirty(c.container, IOVA, 100 * PAGE_SIZE, 2 * PAGE_SIZE, bits,
				      sizeof(bits), full));
	CHECK_ERRNO(EINVAL,
		    get_dirty(c.container, IOVA, 100 * PAGE_SIZE, 0, bits, sizeof(bits), full));
	CHECK_ERRNO(EINVAL, get_dirty(c.container, IOVA + 2048, 100 * PAGE_SIZE, PAGE_SIZE, bits,
				      sizeof(bits), full));
	CHECK_ERRNO(EINVAL, get_dirty(c.container, IOVA, 0, PAGE_SIZE, bits, sizeof(bits), full));
	/* A bitmap too small for 100 pages (16 bytes), one too large for the limit. */
	CHECK_ERRNO(EINVAL,
		    get_dirty(c.container, IOVA, 200 * PAGE_SIZE, PAGE_SIZE, bits, 8, full));
	CHECK_ERRNO(EINVAL, get_dirty(c.container, IOVA, 100 * PAGE_SIZE, PAGE_SIZE, bits,
				      0x10000008, full));
	CHECK_ERRNO(EINVAL, get_dirty(c.container, IOVA, 100 * PAGE_SIZE, PAGE_SIZE,
				      (uint64_t *)(uintptr_t)(1ULL << 50), sizeof(bits), full));
	/* Splitting a mapping. */
	CHECK_ERRNO(EINVAL, get_dirty(c.container, IOVA + 3 * PAGE_SIZE, 10 * PAGE_SIZE, PAGE_SIZE,
				      bits, sizeof(bits), full));
	CHECK_ERRNO(EINVAL, get_dirty(c.container, IOVA, 3 * PAGE_SIZE, PAGE_SIZE, bits,
				      sizeof(bits), full));
	/* Every mapped page reads dirty; words past the range stay untouched. */
	memset(bits, 0, sizeof(bits));
	bits[3] = 0xdead;
	CHECK_OK(get_dirty(c.container, IOVA, 100 * PAGE_SIZE, PAGE_SIZE, bits, 16, full));
	TAP_CHECK_EQ(bits[0], 0x33cULL, "pages 2-5, 8-9");
	TAP_CHECK_EQ(bits[1], 1ULL << 6, "page 70");
	TAP_CHECK_EQ(bits[3], 0xdead, "beyond the bitmap");
	/* The bits before a mapping in its first word are kept. */
	bits[0] = 0x3;
	CHECK_OK(get_dirty(c.container, IOVA + 8 * PAGE_SIZE, 2 * PAGE_SIZE, PAGE_SIZE, bits, 8,
			   full));
	TAP_CHECK_EQ(bits[0], 0x3, "a range starting at a mapping");

	/* UNMAP with the bitmap. */
	memset(&ub, 0, sizeof(ub));
	memset(bits, 0, sizeof(bits));
	ub.u.argsz = sizeof(ub);
	ub.u.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	ub.u.iova = IOVA;
	ub.u.size = 10 * PAGE_SIZE;
	ub.b.pgsize = PAGE_SIZE;
	ub.b.size = 8;
	ub.b.data = (__u64 *)bits;
	ub.u.argsz = sizeof(ub.u) + sizeof(ub.b) - 1;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.container, VFIO_IOMMU_UNMAP_DMA, &ub));
	ub.u.argsz = sizeof(ub);
	ub.b.pgsize = 2 * PAGE_SIZE;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.container, VFIO_IOMMU_UNMAP_DMA, &ub));
	ub.b.pgsize = PAGE_SIZE;
	CHECK_OK(uiommu_ioctl(c.container, VFIO_IOMMU_UNMAP_DMA, &ub));
	TAP_CHECK_EQ(ub.u.size, 6 * PAGE_SIZE, "unmapped");
	TAP_CHECK_EQ(bits[0], 0x33cULL, "dirty bits of what went");

	d.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	CHECK_OK(uiommu_ioctl(c.container, VFIO_IOMMU_DIRTY_PAGES, &d));
	ub.u.iova = IOVA + 70 * PAGE_SIZE;
	ub.u.size = PAGE_SIZE;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.container, VFIO_IOMMU_UNMAP_DMA, &ub));
	CHECK_ERRNO(EINVAL, get_dirty(c.container, IOVA, 100 * PAGE_SIZE, PAGE_SIZE, bits,
				      sizeof(bits), full));
	CHECK_OK(unmap_dma(c.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &size));
	TAP_CHECK_EQ(size, PAGE_SIZE, "the rest");
	classic_teardown(&c);
	check_no_leak();
}

static void test_nesting(void *arg)
{
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_hwpt_paging *paging;
	struct classic c;
	uint64_t v;

	buffer_init();
	classic_setup(&c, VFIO_TYPE1_NESTING_IOMMU);
	/* The host keeps stage 2: the container's domain is a nesting parent. */
	hwpt = iommufd_device_attached_hwpt(vfio_core(&dev_a->vdev)->idev, IOMMU_NO_PASID);
	paging = hwpt ? find_hwpt_paging(hwpt) : NULL;
	TAP_CHECK(paging && paging->nest_parent, "NEST_PARENT stage-2 domain");
	/* Otherwise type1 v2. */
	CHECK_OK(map_dma(c.container, IOVA, buffer, 2 * PAGE_SIZE, RW));
	TAP_CHECK_EQ(dev_dma(c.dev, IOVA, 0, 1, &v), 0, "DMA through stage 2");
	CHECK_ERRNO(EINVAL, unmap_dma(c.container, IOVA, PAGE_SIZE, 0, NULL));
	classic_teardown(&c);
	check_no_leak();
}

/* ------------------------------------------------------------------ */
/* The device fd                                                      */

static void test_device_info_regions(void *arg)
{
	struct vfio_device_info info;
	struct vfio_region_info *ri;
	uint8_t buf[256];
	struct classic c;
	uint64_t v;
	uint32_t id;
	char data[16];

	classic_setup(&c, VFIO_TYPE1v2_IOMMU);
	TAP_CHECK_EQ(dev_a->opens - dev_a->closes, 1, "open_device once");

	memset(&info, 0xee, sizeof(info));
	info.argsz = 15;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_GET_INFO, &info));
	info.argsz = 16;
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_INFO, &info));
	TAP_CHECK_EQ(info.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET, "flags");
	TAP_CHECK(info.num_regions == FIX_NUM_REGIONS && info.num_irqs == FIX_NUM_IRQS,
		  "regions %u irqs %u", info.num_regions, info.num_irqs);
	TAP_CHECK_EQ(info.cap_offset, 0xeeeeeeee, "nothing past argsz 16");
	info.argsz = sizeof(info);
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_INFO, &info));
	TAP_CHECK_EQ(info.cap_offset, 0, "no device capability");
	/* info.flags (PCI | RESET) is not a hot reset's 0. */
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_PCI_HOT_RESET, &info));
	/* The cdev's ioctls are not a group-path fd's. */
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(c.dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &info));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_BIND_IOMMUFD, &info));

	ri = (void *)buf;
	memset(buf, 0xee, sizeof(buf));
	ri->argsz = 31;
	ri->index = 0;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	ri->argsz = 32;
	ri->index = FIX_NUM_REGIONS;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	ri->index = VFIO_PCI_VGA_REGION_INDEX;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	/* BAR0: plain. */
	ri->index = VFIO_PCI_BAR0_REGION_INDEX;
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	TAP_CHECK(ri->size == FIX_BAR0_SIZE && ri->offset == 0 && ri->cap_offset == 0 &&
			  ri->flags == (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE),
		  "BAR0 size %llu flags %x", (unsigned long long)ri->size, ri->flags);
	/* Absent BAR: size 0, flags 0, the offset still its place. */
	ri->index = VFIO_PCI_BAR1_REGION_INDEX;
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	TAP_CHECK(ri->size == 0 && ri->flags == 0 && ri->offset == 1ULL << 40, "BAR1 absent");
	ri->index = VFIO_PCI_CONFIG_REGION_INDEX;
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	TAP_CHECK(ri->size == FIX_CFG_SIZE && ri->offset == 7ULL << 40, "config");
	ri->index = VFIO_PCI_ROM_REGION_INDEX;
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	TAP_CHECK(ri->size == FIX_ROM_SIZE && ri->flags == VFIO_REGION_INFO_FLAG_READ, "ROM");
	/* BAR2: MSIX_MAPPABLE then SPARSE_MMAP with two areas; first too small. */
	memset(buf, 0xee, sizeof(buf));
	ri->argsz = 32;
	ri->index = VFIO_PCI_BAR2_REGION_INDEX;
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	TAP_CHECK_EQ(ri->argsz, 32 + 8 + 16 + 2 * 16, "argsz needed");
	TAP_CHECK(ri->flags == (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
				VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS) &&
			  ri->cap_offset == 0 && buf[32] == 0xee,
		  "BAR2 flags %x cap_offset %u", ri->flags, ri->cap_offset);
	ri->argsz = sizeof(buf);
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	{
		struct vfio_info_cap_header *h = (void *)(buf + 32);
		struct vfio_region_info_cap_sparse_mmap *sp = (void *)(buf + 40);

		TAP_CHECK(ri->cap_offset == 32 && h->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE &&
				  h->next == 40,
			  "msix mappable cap %u next %u", h->id, h->next);
		TAP_CHECK(sp->header.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP &&
				  sp->header.next == 0 && sp->nr_areas == 2 &&
				  sp->areas[0].offset == 0 && sp->areas[0].size == 16384 &&
				  sp->areas[1].offset == 32768 && sp->areas[1].size == 32768,
			  "sparse areas");
	}
	/* The device-specific region: TYPE. */
	ri->index = VFIO_PCI_NUM_REGIONS;
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	{
		struct vfio_region_info_cap_type *t = (void *)(buf + 32);

		TAP_CHECK(ri->offset == 9ULL << 40 && ri->cap_offset == 32 &&
				  t->header.id == VFIO_REGION_INFO_CAP_TYPE &&
				  t->type ==
					  (uint32_t)(VFIO_REGION_TYPE_PCI_VENDOR_TYPE | 0xabcd) &&
				  t->subtype == 1 && t->header.next == 0,
			  "type cap");
	}

	/* read / write. */
	TAP_CHECK_EQ(reg_read(c.dev, FIX_REG_ID), FIX_ID, "BAR0 id");
	reg_write(c.dev, FIX_REG_SCRATCH, 0x5a5a5a5a12345678ULL);
	TAP_CHECK_EQ(reg_read(c.dev, FIX_REG_SCRATCH), 0x5a5a5a5a12345678ULL, "scratch");
	TAP_CHECK(uiommu_pread(c.dev, &id, 4, 7ULL << 40) == 4 && id == FIX_ID, "config ids");
	/* Config: the whole access inside (EFAULT), unaligned pieces fine. */
	CHECK_ERRNO(EFAULT, (int)uiommu_pread(c.dev, data, 8, (7ULL << 40) + FIX_CFG_SIZE - 4));
	CHECK_ERRNO(EFAULT, (int)uiommu_pread(c.dev, data, 1, (7ULL << 40) + FIX_CFG_SIZE));
	memcpy(data, "abcdefg", 7);
	TAP_CHECK(uiommu_pwrite(c.dev, data, 7, (7ULL << 40) + 0x41) == 7, "config write");
	memset(data, 0, sizeof(data));
	TAP_CHECK(uiommu_pread(c.dev, data, 7, (7ULL << 40) + 0x41) == 7 &&
			  !memcmp(data, "abcdefg", 7),
		  "config read back");
	/* Other regions: the start inside (EINVAL), the end clamped. */
	CHECK_ERRNO(EINVAL, (int)uiommu_pread(c.dev, data, 8, FIX_BAR0_SIZE));
	TAP_CHECK_EQ(uiommu_pread(c.dev, data, 16, FIX_BAR0_SIZE - 6), 6, "clamped to the end");
	CHECK_ERRNO(EINVAL, (int)uiommu_pread(c.dev, data, 8, 1ULL << 40));
	CHECK_ERRNO(EINVAL, (int)uiommu_pwrite(c.dev, data, 8, 6ULL << 40));
	TAP_CHECK(uiommu_pread(c.dev, data, 4, 6ULL << 40) == 4 && (uint8_t)data[0] == 0xa5,
		  "ROM read");
	CHECK_ERRNO(EINVAL, (int)uiommu_pread(c.dev, data, 8, (uint64_t)FIX_NUM_REGIONS << 40));
	CHECK_ERRNO(EINVAL, (int)uiommu_pread(c.dev, data, 8, -1));
	CHECK_ERRNO(EFAULT, (int)uiommu_pread(c.dev, NULL, 8, 0));
	TAP_CHECK(uiommu_pwrite(c.dev, "devreg!", 8, (9ULL << 40) + 100) == 8, "devreg write");
	TAP_CHECK(uiommu_pread(c.dev, &v, 8, (9ULL << 40) + 100) == 8 && !memcmp(&v, "devreg!", 8),
		  "devreg read");
	/* read(2) moves the position. */
	TAP_CHECK(uiommu_read(c.dev, &v, 8) == 8 && v == FIX_ID, "read at 0");
	TAP_CHECK(uiommu_read(c.dev, &v, 8) == 8 && v == 0x5a5a5a5a12345678ULL, "read at 8");

	/* RESET. */
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_RESET));
	TAP_CHECK(dev_a->resets == 1 && reg_read(c.dev, FIX_REG_SCRATCH) == 0, "reset");
	dev_a->resets = 0;
	classic_teardown(&c);
	TAP_CHECK_EQ(dev_a->opens, dev_a->closes, "close_device at the last close");
	check_no_leak();
}

static void test_device_mmap(void *arg)
{
	struct uiommu_file *d2;
	struct classic c;
	unsigned int closes;
	char *p, *q;
	char v[8];

	classic_setup(&c, VFIO_TYPE1v2_IOMMU);
	/* Not mappable: private mappings, BAR0, config, ROM, beyond BAR2. */
	TAP_CHECK(uiommu_mmap(c.dev, NULL, PAGE_SIZE, PROT_READ, MAP_PRIVATE, 2ULL << 40) ==
				  MAP_FAILED &&
			  errno == EINVAL,
		  "private");
	TAP_CHECK(uiommu_mmap(c.dev, NULL, PAGE_SIZE, PROT_READ, MAP_SHARED, 0) == MAP_FAILED &&
			  errno == EINVAL,
		  "BAR0");
	TAP_CHECK(uiommu_mmap(c.dev, NULL, PAGE_SIZE, PROT_READ, MAP_SHARED, 7ULL << 40) ==
				  MAP_FAILED &&
			  errno == EINVAL,
		  "config");
	TAP_CHECK(uiommu_mmap(c.dev, NULL, 2 * PAGE_SIZE, PROT_READ, MAP_SHARED,
			      (2ULL << 40) + FIX_BAR2_SIZE - PAGE_SIZE) == MAP_FAILED &&
			  errno == EINVAL,
		  "past BAR2");
	TAP_CHECK(uiommu_mmap(c.dev, NULL, PAGE_SIZE, PROT_READ, MAP_SHARED, (2ULL << 40) + 100) ==
				  MAP_FAILED &&
			  errno == EINVAL,
		  "unaligned offset");
	/* BAR2 maps the same memory read / write reach. */
	p = uiommu_mmap(c.dev, NULL, FIX_BAR2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, 2ULL << 40);
	TAP_CHECK(p != MAP_FAILED, "mmap BAR2: %s", strerror(errno));
	memcpy(p + 40000, "mmapped", 8);
	TAP_CHECK(uiommu_pread(c.dev, v, 8, (2ULL << 40) + 40000) == 8 && !memcmp(v, "mmapped", 8),
		  "pread sees the mapping");
	TAP_CHECK(uiommu_pwrite(c.dev, "written", 8, (2ULL << 40) + 100) == 8 &&
			  !memcmp(p + 100, "written", 8),
		  "the mapping sees pwrite");
	q = uiommu_mmap(c.dev, NULL, PAGE_SIZE, PROT_READ, MAP_SHARED,
			(2ULL << 40) + 8 * PAGE_SIZE);
	TAP_CHECK(q != MAP_FAILED, "mmap a page of BAR2: %s", strerror(errno));
	p[8 * PAGE_SIZE + 5] = 'x';
	TAP_CHECK(q[5] == 'x', "the page at 32 KiB");
	CHECK_OK(uiommu_munmap(q, PAGE_SIZE));

	/* Closing the fd keeps the device open while mapped. */
	d2 = c.dev;
	c.dev = NULL;
	closes = dev_a->closes;
	CHECK_OK(uiommu_close(d2));
	TAP_CHECK_EQ(dev_a->closes, closes, "still open while mapped");
	TAP_CHECK(p[100] == 'w', "mapping still usable");
	TAP_CHECK_EQ(vfio_unregister_device(&dev_a->vdev), -EBUSY, "unregister while mapped");
	CHECK_OK(uiommu_munmap(p, FIX_BAR2_SIZE / 2));
	TAP_CHECK_EQ(dev_a->closes, closes, "half unmapped");
	CHECK_OK(uiommu_munmap(p + FIX_BAR2_SIZE / 2, FIX_BAR2_SIZE / 2));
	TAP_CHECK_EQ(dev_a->closes, closes + 1, "closed with the last page");
	classic_teardown(&c);
	check_no_leak();
}

static int eventfd_nb(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	TAP_CHECK(fd >= 0, "eventfd: %s", strerror(errno));
	return fd;
}

/* SET_IRQS with @count data items of @dsize bytes each (copied from @data). */
static int set_irqs(struct uiommu_file *dev, uint32_t flags, uint32_t index, uint32_t start,
		    uint32_t count, const void *data, size_t dsize)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 64];
	struct vfio_irq_set *s = (void *)buf;

	s->argsz = (uint32_t)(sizeof(*s) + count * dsize);
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	if (count && dsize)
		memcpy(s->data, data, count * dsize);
	return uiommu_ioctl(dev, VFIO_DEVICE_SET_IRQS, s);
}

#define TRIG_FD	  (VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD)
#define TRIG_NONE (VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE)
#define TRIG_BOOL (VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_BOOL)

/*
 * Linux 6.12's vfio-pci for a device on a root bus, with no hotplug slot, no
 * migration, dirty logging or SR-IOV: the argument checks, then ENODEV for
 * hot reset and ENOTTY for every feature.
 */
static void test_hot_reset_and_features(void *arg)
{
	struct {
		struct vfio_pci_hot_reset_info hdr;
		struct vfio_pci_dependent_device devices[4];
	} ri;
	struct {
		struct vfio_pci_hot_reset hdr;
		int32_t fds[1];
	} hr;
	struct {
		struct vfio_device_feature hdr;
		uint8_t data[64];
	} f;
	static const uint32_t features[] = {
		VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
		VFIO_DEVICE_FEATURE_MIGRATION,
		VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
		VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
		VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
		VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
		VFIO_DEVICE_FEATURE_BUS_MASTER,
		0xffff,
	};
	struct classic c;

	classic_setup(&c, VFIO_TYPE1v2_IOMMU);
	memset(&ri, 0xee, sizeof(ri));
	CHECK_ERRNO(EFAULT, uiommu_ioctl(c.dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, NULL));
	ri.hdr.argsz = 11;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &ri));
	ri.hdr.argsz = sizeof(ri);
	CHECK_ERRNO(ENODEV, uiommu_ioctl(c.dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &ri));
	TAP_CHECK_EQ(ri.hdr.count, 0xeeeeeeee, "nothing written back");

	memset(&hr, 0, sizeof(hr));
	CHECK_ERRNO(EFAULT, uiommu_ioctl(c.dev, VFIO_DEVICE_PCI_HOT_RESET, NULL));
	hr.hdr.argsz = 11;
	hr.hdr.count = 1;
	hr.fds[0] = uiommu_file_fd(c.group);
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.hdr.argsz = sizeof(hr);
	hr.hdr.flags = 1;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.hdr.flags = 0;
	/* Opened through its group: the group fds must be listed (count 0 is the cdev's). */
	hr.hdr.count = 0;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	hr.hdr.count = 1;
	CHECK_ERRNO(ENODEV, uiommu_ioctl(c.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr));

	memset(&f, 0, sizeof(f));
	CHECK_ERRNO(EFAULT, uiommu_ioctl(c.dev, VFIO_DEVICE_FEATURE, NULL));
	f.hdr.argsz = 7;
	f.hdr.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_MIGRATION;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_FEATURE, &f));
	f.hdr.argsz = sizeof(f);
	f.hdr.flags = (1u << 19) | VFIO_DEVICE_FEATURE_MIGRATION;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_FEATURE, &f));
	f.hdr.flags =
		VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIGRATION;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_FEATURE, &f));
	for (size_t i = 0; i < ARRAY_SIZE_T(features); i++) {
		f.hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_PROBE | features[i];
		CHECK_ERRNO(ENOTTY, uiommu_ioctl(c.dev, VFIO_DEVICE_FEATURE, &f));
		f.hdr.flags = VFIO_DEVICE_FEATURE_GET | features[i];
		CHECK_ERRNO(ENOTTY, uiommu_ioctl(c.dev, VFIO_DEVICE_FEATURE, &f));
	}
	/* +17 on the container is DIRTY_PAGES, not a feature. */
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.container, VFIO_DEVICE_FEATURE, &f));
	classic_teardown(&c);
}

static void test_irq_info(void *arg)
{
	static const struct {
		uint32_t flags, count;
	} want[VFIO_PCI_NUM_IRQS] = {
		{VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED, 1},
		{VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 4},
		{VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 8},
		{VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 1},
		{VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 1},
	};
	struct vfio_irq_info *ii;
	uint8_t buf[64];
	struct classic c;

	classic_setup(&c, VFIO_TYPE1v2_IOMMU);
	ii = (void *)buf;
	ii->argsz = 15;
	ii->index = 0;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_GET_IRQ_INFO, ii));
	ii->argsz = 16;
	ii->index = FIX_NUM_IRQS;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_GET_IRQ_INFO, ii));
	for (uint32_t i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		memset(buf, 0xee, sizeof(buf));
		ii->argsz = 16;
		ii->index = i;
		CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_IRQ_INFO, ii));
		TAP_CHECK(ii->flags == want[i].flags && ii->count == want[i].count &&
				  buf[16] == 0xee,
			  "index %u: flags %x count %u", i, ii->flags, ii->count);
	}
	/* The fault IRQ: described by its type only, the cap behind the 20-byte struct. */
	memset(buf, 0xee, sizeof(buf));
	ii->argsz = 16;
	ii->index = VFIO_PCI_NUM_IRQS;
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_IRQ_INFO, ii));
	TAP_CHECK(ii->argsz == 36 &&
			  ii->flags == (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_FLAG_CAPS) &&
			  ii->count == 1 && buf[16] == 0xee,
		  "16-byte caller: argsz %u flags %x", ii->argsz, ii->flags);
	ii->argsz = 20;
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_IRQ_INFO, ii));
	TAP_CHECK(ii->argsz == 36 && ii->cap_offset == 0 && buf[20] == 0xee, "20 bytes");
	ii->argsz = 36;
	CHECK_OK(uiommu_ioctl(c.dev, VFIO_DEVICE_GET_IRQ_INFO, ii));
	{
		struct vfio_irq_info_cap_type *t = (void *)(buf + 20);

		TAP_CHECK(ii->cap_offset == 20 && t->header.id == VFIO_IRQ_INFO_CAP_TYPE &&
				  t->header.version == 1 && t->header.next == 0 &&
				  t->type == VFIO_IRQ_TYPE_NESTED &&
				  t->subtype == VFIO_IRQ_SUBTYPE_DMA_FAULT,
			  "type cap at %u", ii->cap_offset);
	}
	classic_teardown(&c);
	check_no_leak();
}

static void test_set_irqs(void *arg)
{
	uint8_t bools[8] = {0, 1};
	int32_t fds[8];
	struct classic c;
	int ev[3], notev, pipefd[2];

	classic_setup(&c, VFIO_TYPE1v2_IOMMU);
	for (int i = 0; i < 3; i++)
		ev[i] = eventfd_nb();
	TAP_CHECK(!pipe(pipefd), "pipe");
	notev = pipefd[0];

	/* Generic validation. */
	{
		struct vfio_irq_set s = {.argsz = 19, .flags = TRIG_NONE, .count = 0};

		CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_SET_IRQS, &s));
		CHECK_ERRNO(EFAULT, uiommu_ioctl(c.dev, VFIO_DEVICE_SET_IRQS, NULL));
	}
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_NONE, FIX_NUM_IRQS, 0, 0, NULL, 0));
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_NONE | (1u << 6), 2, 0, 0, NULL, 0));
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_NONE, 2, 8, 0, NULL, 0));
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_NONE, 2, 7, 2, NULL, 0));
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_NONE, 2, 1, UINT32_MAX - 1, NULL, 0));
	CHECK_ERRNO(EINVAL, set_irqs(c.dev,
				     VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE |
					     VFIO_IRQ_SET_DATA_BOOL,
				     2, 0, 1, bools, 1));
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, VFIO_IRQ_SET_ACTION_TRIGGER, 2, 0, 1, NULL, 0));
	{
		/* Data shorter than count says. */
		uint8_t buf[sizeof(struct vfio_irq_set) + 8];
		struct vfio_irq_set *s = (void *)buf;

		*s = (struct vfio_irq_set){
			.argsz = sizeof(buf), .flags = TRIG_FD, .index = 2, .count = 3};
		CHECK_ERRNO(EINVAL, uiommu_ioctl(c.dev, VFIO_DEVICE_SET_IRQS, s));
	}
	CHECK_ERRNO(ENOTTY, set_irqs(c.dev, VFIO_IRQ_SET_DATA_NONE, 2, 0, 1, NULL, 0));
	CHECK_ERRNO(ENOTTY, set_irqs(c.dev,
				     VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK |
					     VFIO_IRQ_SET_ACTION_UNMASK,
				     0, 0, 1, NULL, 0));
	/* MSI / MSI-X cannot be masked from here. */
	CHECK_ERRNO(ENOTTY, set_irqs(c.dev, VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_DATA_NONE, 2, 0,
				     1, NULL, 0));
	/* Loopback and masking before anything is enabled. */
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_NONE, 2, 0, 1, NULL, 0));
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE, 0,
				     0, 1, NULL, 0));

	/* MSI-X: vectors 0 and 1 on eventfds; bad fds change nothing. */
	fds[0] = ev[0];
	fds[1] = notev;
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_FD, 2, 0, 2, fds, 4));
	fds[1] = 999;
	CHECK_ERRNO(EBADF, set_irqs(c.dev, TRIG_FD, 2, 0, 2, fds, 4));
	TAP_CHECK(dev_a->irq_index == -1 || dev_a->irq_nvec == 0, "not enabled by a failure");
	fds[1] = ev[1];
	CHECK_OK(set_irqs(c.dev, TRIG_FD, 2, 0, 2, fds, 4));
	TAP_CHECK(dev_a->irq_index == VFIO_PCI_MSIX_IRQ_INDEX && dev_a->irq_nvec == 2,
		  "MSI-X enabled with 2 vectors (%d, %u)", dev_a->irq_index, dev_a->irq_nvec);
	dev_raise(c.dev, VFIO_PCI_MSIX_IRQ_INDEX, 1);
	TAP_CHECK(ev_take(ev[1]) == 1 && ev_take(ev[0]) == 0, "vector 1 fired");
	dev_raise(c.dev, VFIO_PCI_MSIX_IRQ_INDEX, 0);
	dev_raise(c.dev, VFIO_PCI_MSIX_IRQ_INDEX, 0);
	TAP_CHECK_EQ(ev_take(ev[0]), 2, "vector 0 twice");
	dev_raise(c.dev, VFIO_PCI_MSIX_IRQ_INDEX, 5);
	dev_raise(c.dev, VFIO_PCI_MSI_IRQ_INDEX, 0);
	TAP_CHECK(ev_take(ev[0]) == 0 && ev_take(ev[1]) == 0, "vectors not enabled stay quiet");
	/* Loopback. */
	CHECK_OK(set_irqs(c.dev, TRIG_NONE, 2, 0, 2, NULL, 0));
	TAP_CHECK(ev_take(ev[0]) == 1 && ev_take(ev[1]) == 1, "loopback NONE");
	CHECK_OK(set_irqs(c.dev, TRIG_BOOL, 2, 0, 2, bools, 1));
	TAP_CHECK(ev_take(ev[0]) == 0 && ev_take(ev[1]) == 1, "loopback BOOL");
	/* The user may close its fd: the device keeps its own reference. */
	{
		int tmp = eventfd_nb(), dup_fd;

		fds[0] = tmp;
		CHECK_OK(set_irqs(c.dev, TRIG_FD, 2, 0, 1, fds, 4));
		dup_fd = dup(tmp);
		close(tmp);
		dev_raise(c.dev, VFIO_PCI_MSIX_IRQ_INDEX, 0);
		TAP_CHECK_EQ(ev_take(dup_fd), 1, "signalled after the user closed its fd");
		close(dup_fd);
	}
	/* Vector 1 de-assigned with -1. */
	fds[0] = -1;
	CHECK_OK(set_irqs(c.dev, TRIG_FD, 2, 1, 1, fds, 4));
	dev_raise(c.dev, VFIO_PCI_MSIX_IRQ_INDEX, 1);
	TAP_CHECK_EQ(ev_take(ev[1]), 0, "de-assigned");
	/* Past the enabled vectors (NORESIZE). */
	fds[0] = ev[0];
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_FD, 2, 2, 1, fds, 4));
	/* One kind at a time. */
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_FD, 0, 0, 1, fds, 4));
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_FD, 1, 0, 1, fds, 4));
	CHECK_OK(set_irqs(c.dev, TRIG_NONE, 2, 0, 0, NULL, 0));
	TAP_CHECK(dev_a->irq_index == VFIO_PCI_MSIX_IRQ_INDEX && dev_a->irq_nvec == 0,
		  "MSI-X disabled");

	/* INTx: auto-masked, a raise while masked replays at unmask. */
	fds[0] = ev[2];
	CHECK_OK(set_irqs(c.dev, TRIG_FD, 0, 0, 1, fds, 4));
	TAP_CHECK(dev_a->irq_index == VFIO_PCI_INTX_IRQ_INDEX && dev_a->irq_nvec == 1, "INTx on");
	dev_raise(c.dev, VFIO_PCI_INTX_IRQ_INDEX, 0);
	TAP_CHECK_EQ(ev_take(ev[2]), 1, "INTx fired");
	dev_raise(c.dev, VFIO_PCI_INTX_IRQ_INDEX, 0);
	TAP_CHECK_EQ(ev_take(ev[2]), 0, "masked");
	CHECK_OK(set_irqs(c.dev, VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE, 0, 0, 1, NULL,
			  0));
	TAP_CHECK_EQ(ev_take(ev[2]), 1, "pending one at unmask");
	CHECK_OK(set_irqs(c.dev, VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE, 0, 0, 1, NULL,
			  0));
	TAP_CHECK_EQ(ev_take(ev[2]), 0, "nothing pending");
	dev_raise(c.dev, VFIO_PCI_INTX_IRQ_INDEX, 0);
	TAP_CHECK_EQ(ev_take(ev[2]), 1, "fires again after unmask");
	bools[0] = 0;
	CHECK_OK(set_irqs(c.dev, VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_BOOL, 0, 0, 1,
			  bools, 1));
	dev_raise(c.dev, VFIO_PCI_INTX_IRQ_INDEX, 0);
	TAP_CHECK_EQ(ev_take(ev[2]), 0, "BOOL 0 did not unmask");
	/* No mask eventfd (Linux: same); the unmask eventfd: test_shim_vfio_virqfd. */
	CHECK_ERRNO(ENOTTY, set_irqs(c.dev, VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_DATA_EVENTFD, 0,
				     0, 1, fds, 4));
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_DATA_NONE, 0, 0,
				     0, NULL, 0));
	CHECK_OK(set_irqs(c.dev, TRIG_NONE, 0, 0, 1, NULL, 0));
	TAP_CHECK_EQ(ev_take(ev[2]), 1, "INTx loopback ignores the mask");
	CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_FD, 2, 0, 1, fds, 4));
	CHECK_OK(set_irqs(c.dev, TRIG_NONE, 0, 0, 0, NULL, 0));
	TAP_CHECK(dev_a->irq_index == VFIO_PCI_INTX_IRQ_INDEX && dev_a->irq_nvec == 0, "INTx off");

	/* ERR and the device-specific fault IRQ: one eventfd each. */
	for (uint32_t index = VFIO_PCI_ERR_IRQ_INDEX; index < FIX_NUM_IRQS; index++) {
		if (index == VFIO_PCI_REQ_IRQ_INDEX)
			continue;
		CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_NONE, index, 0, 1, NULL, 0));
		CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_FD, index, 0, 0, fds, 4));
		CHECK_ERRNO(ENOTTY,
			    set_irqs(c.dev, VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_DATA_NONE,
				     index, 0, 1, NULL, 0));
		fds[0] = notev;
		CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_FD, index, 0, 1, fds, 4));
		fds[0] = ev[0];
		CHECK_OK(set_irqs(c.dev, TRIG_FD, index, 0, 1, fds, 4));
		dev_raise(c.dev, index, 0);
		TAP_CHECK_EQ(ev_take(ev[0]), 1, "index %u fired", index);
		CHECK_OK(set_irqs(c.dev, TRIG_NONE, index, 0, 1, NULL, 0));
		bools[0] = 1;
		CHECK_OK(set_irqs(c.dev, TRIG_BOOL, index, 0, 1, bools, 1));
		TAP_CHECK_EQ(ev_take(ev[0]), 2, "index %u loopback", index);
		CHECK_OK(set_irqs(c.dev, TRIG_NONE, index, 0, 0, NULL, 0));
		dev_raise(c.dev, index, 0);
		TAP_CHECK_EQ(ev_take(ev[0]), 0, "index %u released", index);
		CHECK_ERRNO(EINVAL, set_irqs(c.dev, TRIG_NONE, index, 0, 0, NULL, 0));
	}
	/* Left enabled at close: the last close turns everything off. */
	fds[0] = ev[0];
	fds[1] = ev[1];
	CHECK_OK(set_irqs(c.dev, TRIG_FD, 1, 0, 2, fds, 4));
	TAP_CHECK(dev_a->irq_index == VFIO_PCI_MSI_IRQ_INDEX && dev_a->irq_nvec == 2, "MSI on");
	classic_teardown(&c);
	TAP_CHECK(dev_a->irq_index == VFIO_PCI_MSI_IRQ_INDEX && dev_a->irq_nvec == 0,
		  "MSI off at the last close");
	for (int i = 0; i < 3; i++)
		close(ev[i]);
	close(pipefd[0]);
	close(pipefd[1]);
	check_no_leak();
}

/* ------------------------------------------------------------------ */
/* The cdev and the iommufd group path                                */

static int bind_iommufd(struct uiommu_file *cdev, int iommufd, uint32_t *devid)
{
	struct vfio_device_bind_iommufd b = {.argsz = sizeof(b), .iommufd = iommufd};
	int rc = uiommu_ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, &b);

	if (devid)
		*devid = b.out_devid;
	return rc;
}

static int attach_pt(struct uiommu_file *cdev, uint32_t *pt_id, bool pasid_mode, uint32_t pasid)
{
	struct vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a),
		.flags = pasid_mode ? VFIO_DEVICE_ATTACH_PASID : 0,
		.pt_id = *pt_id,
		.pasid = pasid,
	};
	int rc = uiommu_ioctl(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

	*pt_id = a.pt_id;
	return rc;
}

static int detach_pt(struct uiommu_file *cdev, bool pasid_mode, uint32_t pasid)
{
	struct vfio_device_detach_iommufd_pt d = {
		.argsz = sizeof(d),
		.flags = pasid_mode ? VFIO_DEVICE_DETACH_PASID : 0,
		.pasid = pasid,
	};

	return uiommu_ioctl(cdev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
}

static uint32_t hwpt_alloc(uint32_t dev_id, uint32_t pt_id, uint32_t flags)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
	};

	CHECK_OK(uiommu_ioctl(self_file, IOMMU_HWPT_ALLOC, &cmd));
	return cmd.out_hwpt_id;
}

static void test_cdev(void *arg)
{
	struct vfio_device_attach_iommufd_pt a = {.argsz = sizeof(a)};
	struct vfio_device_detach_iommufd_pt d = {.argsz = sizeof(d)};
	struct vfio_device_info info = {.argsz = sizeof(info)};
	struct uiommu_file *cdev, *cdev2, *container, *g;
	uint32_t devid, pt, ioas, hwpt, hwpt_pasid;
	uint64_t v;
	char byte;
	int efd;

	buffer_init();
	iommufd_setup();
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, 4 * PAGE_SIZE, IOVA);
	memcpy(buffer, "cdev-dma", 8);

	cdev = xopen("/dev/vfio/devices/vfio1"); /* device B */
	/* Before BIND: no access at all. */
	CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_GET_INFO, &info));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_RESET));
	CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, 0x1234));
	CHECK_ERRNO(EINVAL, (int)uiommu_pread(cdev, &byte, 1, 0));
	CHECK_ERRNO(EINVAL, (int)uiommu_pwrite(cdev, &byte, 1, 0));
	TAP_CHECK(uiommu_mmap(cdev, NULL, PAGE_SIZE, PROT_READ, MAP_SHARED, 2ULL << 40) ==
				  MAP_FAILED &&
			  errno == EINVAL,
		  "mmap before bind");
	/* BIND's own checks. */
	{
		struct vfio_device_bind_iommufd b = {.argsz = 15,
						     .iommufd = uiommu_file_fd(self_file)};

		CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, &b));
		b.argsz = sizeof(b);
		b.flags = 1;
		CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, &b));
		CHECK_ERRNO(EFAULT, uiommu_ioctl(cdev, VFIO_DEVICE_BIND_IOMMUFD, NULL));
	}
	CHECK_ERRNO(EINVAL, bind_iommufd(cdev, -1, NULL));
	CHECK_ERRNO(EBADF, bind_iommufd(cdev, 999, NULL));
	efd = eventfd_nb();
	CHECK_ERRNO(EBADFD, bind_iommufd(cdev, efd, NULL));
	close(efd);
	container = xopen("/dev/vfio/vfio");
	CHECK_ERRNO(EBADFD, bind_iommufd(cdev, uiommu_file_fd(container), NULL));
	/* The group is open: EBUSY. */
	g = xopen(GROUP_2);
	CHECK_ERRNO(EBUSY, bind_iommufd(cdev, uiommu_file_fd(self_file), NULL));
	CHECK_OK(uiommu_close(g));
	TAP_CHECK(!dev_b->vdev.dev->iommufd_priv, "nothing bound by the failures");

	CHECK_OK(bind_iommufd(cdev, uiommu_file_fd(self_file), &devid));
	TAP_CHECK(devid > ioas, "devid %u is a new object", devid);
	TAP_CHECK_EQ(dev_b->opens - dev_b->closes, 1, "opened by BIND");
	CHECK_ERRNO(EBUSY, _destroy(devid));
	CHECK_ERRNO(EINVAL, bind_iommufd(cdev, uiommu_file_fd(self_file), NULL));
	/* The group cannot be opened now; a second cdev fd cannot bind. */
	errno = 0;
	TAP_CHECK(!uiommu_open(GROUP_2, O_RDWR) && errno == EBUSY, "group blocked: %d", errno);
	cdev2 = xopen("/dev/vfio/devices/vfio1");
	CHECK_ERRNO(EINVAL, bind_iommufd(cdev2, uiommu_file_fd(self_file), NULL));
	CHECK_OK(uiommu_close(cdev2));
	CHECK_OK(uiommu_ioctl(cdev, VFIO_DEVICE_GET_INFO, &info));
	{
		/* A cdev-bound device names no group fds: count 0 passes, then no slot or bus. */
		struct vfio_pci_hot_reset hr = {.argsz = sizeof(hr), .count = 1};

		CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
		hr.count = 0;
		CHECK_ERRNO(ENODEV, uiommu_ioctl(cdev, VFIO_DEVICE_PCI_HOT_RESET, &hr));
	}
	/* Not attached: DMA is blocked. */
	TAP_CHECK(dev_dma(cdev, IOVA, 0, 1, &v) < 0, "blocked before ATTACH");

	/* ATTACH's checks. */
	a.argsz = 11;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a));
	a.argsz = 12;
	a.flags = 2;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a));
	a.flags = VFIO_DEVICE_ATTACH_PASID;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a));
	pt = 9999;
	CHECK_ERRNO(ENOENT, attach_pt(cdev, &pt, false, 0));
	pt = devid;
	CHECK_ERRNO(EINVAL, attach_pt(cdev, &pt, false, 0));

	/* To the IOAS: an automatic HWPT, its ID written back. */
	pt = ioas;
	CHECK_OK(attach_pt(cdev, &pt, false, 0));
	TAP_CHECK(pt != ioas && pt > devid, "auto HWPT %u", pt);
	TAP_CHECK(dev_dma(cdev, IOVA, 0, 1, &v) == 0 && !memcmp(&v, "cdev-dma", 8), "DMA");
	/* Again: replace, the same HWPT. */
	hwpt = pt;
	pt = ioas;
	CHECK_OK(attach_pt(cdev, &pt, false, 0));
	TAP_CHECK_EQ(pt, hwpt, "replace to the same auto HWPT");
	/* To a HWPT of our own (PASID capable), then the old auto HWPT is gone. */
	hwpt_pasid = hwpt_alloc(devid, ioas, IOMMU_HWPT_ALLOC_PASID);
	pt = hwpt_pasid;
	CHECK_OK(attach_pt(cdev, &pt, false, 0));
	TAP_CHECK_EQ(pt, hwpt_pasid, "pt_id of a HWPT is kept");
	CHECK_ERRNO(ENOENT, _destroy(hwpt));
	TAP_CHECK(mock_dev_pasid_domain(dev_b->vdev.dev, 0) != NULL, "RID attached");

	/* PASIDs. */
	pt = hwpt_pasid;
	CHECK_ERRNO(EINVAL, attach_pt(cdev, &pt, true, 0));
	pt = hwpt_pasid;
	CHECK_ERRNO(EINVAL, attach_pt(cdev, &pt, true, 1u << MOCK_PASID_WIDTH));
	pt = hwpt_pasid;
	CHECK_OK(attach_pt(cdev, &pt, true, 7));
	TAP_CHECK_EQ(pt, hwpt_pasid, "PASID pt_id");
	TAP_CHECK(mock_dev_pasid_domain(dev_b->vdev.dev, 7) ==
			  mock_dev_pasid_domain(dev_b->vdev.dev, 0),
		  "PASID 7 on the HWPT");
	TAP_CHECK(dev_dma(cdev, IOVA, 7, 1, &v) == 0 && !memcmp(&v, "cdev-dma", 8), "PASID DMA");
	/* An IOAS's automatic HWPT does not serve PASIDs; PASID 7 stays where it was. */
	pt = ioas;
	CHECK_ERRNO(EINVAL, attach_pt(cdev, &pt, true, 7));
	TAP_CHECK(dev_dma(cdev, IOVA, 7, 1, &v) == 0, "PASID 7 unchanged");
	/* PASID attached again: replaced, not refused. */
	hwpt = hwpt_alloc(devid, ioas, IOMMU_HWPT_ALLOC_PASID);
	pt = hwpt;
	CHECK_OK(attach_pt(cdev, &pt, true, 7));
	TAP_CHECK_EQ(pt, hwpt, "replaced");
	TAP_CHECK(mock_dev_pasid_domain(dev_b->vdev.dev, 7) !=
			  mock_dev_pasid_domain(dev_b->vdev.dev, 0),
		  "PASID 7 on the second HWPT");
	CHECK_ERRNO(EBUSY, _destroy(hwpt_pasid)); /* the RID is on it */
	pt = hwpt_pasid;
	CHECK_OK(attach_pt(cdev, &pt, true, 7));
	CHECK_OK(_destroy(hwpt));
	CHECK_ERRNO(EBUSY, _destroy(hwpt_pasid));
	/* DETACH's checks; PASID detach. */
	d.argsz = 7;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d));
	d.argsz = 8;
	d.flags = 2;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d));
	d.flags = VFIO_DEVICE_DETACH_PASID;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(cdev, VFIO_DEVICE_DETACH_IOMMUFD_PT, &d));
	CHECK_OK(detach_pt(cdev, true, 7));
	TAP_CHECK(mock_dev_pasid_domain(dev_b->vdev.dev, 7) == NULL, "PASID 7 detached");
	TAP_CHECK(dev_dma(cdev, IOVA, 7, 1, &v) < 0, "PASID DMA blocked");
	CHECK_OK(detach_pt(cdev, true, 7));
	/* A PASID left attached is dropped at close. */
	pt = hwpt_pasid;
	CHECK_OK(attach_pt(cdev, &pt, true, 9));
	/* RID detach: blocked; twice is fine. */
	CHECK_OK(detach_pt(cdev, false, 0));
	TAP_CHECK(dev_dma(cdev, IOVA, 0, 1, &v) < 0, "RID blocked");
	CHECK_OK(detach_pt(cdev, false, 0));

	/* Close: unbound, the group free again. */
	CHECK_OK(uiommu_close(cdev));
	TAP_CHECK(!dev_b->vdev.dev->iommufd_priv, "unbound at close");
	TAP_CHECK_EQ(dev_b->opens, dev_b->closes, "closed");
	CHECK_ERRNO(ENOENT, _destroy(devid));
	CHECK_OK(_destroy(hwpt_pasid));
	g = xopen(GROUP_2);
	CHECK_OK(uiommu_close(g));

	/* A device without PASID support (A): PASID attach is EINVAL. */
	cdev = xopen("/dev/vfio/devices/vfio0");
	CHECK_OK(bind_iommufd(cdev, uiommu_file_fd(self_file), &devid));
	pt = ioas;
	CHECK_ERRNO(EINVAL, attach_pt(cdev, &pt, true, 3));
	pt = ioas;
	CHECK_OK(attach_pt(cdev, &pt, false, 0));
	/* Closing the iommufd first: the binding keeps its context. */
	iommufd_teardown();
	TAP_CHECK(dev_dma(cdev, IOVA, 0, 1, &v) == 0, "DMA after the iommufd fd closed");
	CHECK_OK(uiommu_close(cdev));
	CHECK_OK(uiommu_close(container));
	check_no_leak();
}

static void test_group_iommufd(void *arg)
{
	struct uiommu_file *g, *dev, *dev2;
	uint32_t id = 0;
	uint64_t v;

	buffer_init();
	iommufd_setup();
	g = xopen(GROUP_2);
	CHECK_OK(set_container(g, self_file));
	/* SET_CONTAINER made the compat IOAS. */
	{
		struct iommu_vfio_ioas cmd = {.size = sizeof(cmd), .op = IOMMU_VFIO_IOAS_GET};

		CHECK_OK(uiommu_ioctl(self_file, IOMMU_VFIO_IOAS, &cmd));
		id = cmd.ioas_id;
	}
	ioas_map_fixed(id, buffer, 2 * PAGE_SIZE, IOVA);
	memcpy(buffer, "grp-fd!!", 8);
	TAP_CHECK(!dev_b->vdev.dev->iommufd_priv, "bound only at the device's open");
	dev = get_device(g, NAME_B);
	TAP_CHECK(dev_b->vdev.dev->iommufd_priv, "bound");
	TAP_CHECK(dev_dma(dev, IOVA, 0, 1, &v) == 0 && !memcmp(&v, "grp-fd!!", 8),
		  "DMA through the compat IOAS");
	/* A second fd of the same device: one open. */
	dev2 = get_device(g, NAME_B);
	TAP_CHECK(uiommu_file_fd(dev2) != uiommu_file_fd(dev), "a new fd");
	TAP_CHECK_EQ(dev_b->opens - dev_b->closes, 1, "open_device once");
	CHECK_OK(uiommu_close(dev));
	TAP_CHECK(dev_b->vdev.dev->iommufd_priv, "still bound");
	CHECK_OK(uiommu_close(dev2));
	TAP_CHECK(!dev_b->vdev.dev->iommufd_priv, "unbound at the last close");
	CHECK_OK(uiommu_ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	CHECK_OK(uiommu_close(g));
	iommufd_teardown();
	check_no_leak();
}

static void test_unset_busy_and_close_orders(void *arg)
{
	struct uiommu_file *c, *g1, *g2, *d1, *d2, *d3;
	char *p;
	uint64_t v;

	buffer_init();
	/* UNSET while a device opened through the container is open: EBUSY. */
	c = xopen("/dev/vfio/vfio");
	g1 = xopen(GROUP_1);
	CHECK_OK(set_container(g1, c));
	CHECK_OK(uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	d1 = get_device(g1, NAME_A);
	CHECK_ERRNO(EBUSY, uiommu_ioctl(g1, VFIO_GROUP_UNSET_CONTAINER));
	CHECK_OK(uiommu_close(d1));
	CHECK_OK(uiommu_ioctl(g1, VFIO_GROUP_UNSET_CONTAINER));
	CHECK_OK(uiommu_close(g1));
	CHECK_OK(uiommu_close(c));
	check_no_leak();

	/* Two groups, devices, a mapping of a region; closed container first. */
	c = xopen("/dev/vfio/vfio");
	g1 = xopen(GROUP_1);
	g2 = xopen(GROUP_2);
	CHECK_OK(set_container(g1, c));
	CHECK_OK(uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	CHECK_OK(set_container(g2, c));
	TAP_CHECK(dev_b->vdev.dev->iommufd_priv, "group 2 attached to the open container");
	CHECK_OK(map_dma(c, IOVA, buffer, PAGE_SIZE, RW));
	memcpy(buffer, "shared!!", 8);
	d1 = get_device(g1, NAME_A);
	d2 = get_device(g2, NAME_B);
	d3 = get_device(g1, NAME_C);
	TAP_CHECK(dev_dma(d2, IOVA, 0, 1, &v) == 0 && !memcmp(&v, "shared!!", 8),
		  "group 2 DMAs through the same container");
	p = uiommu_mmap(d1, NULL, PAGE_SIZE, PROT_READ, MAP_SHARED, 2ULL << 40);
	TAP_CHECK(p != MAP_FAILED, "mmap");
	CHECK_OK(uiommu_close(c));
	TAP_CHECK(dev_dma(d1, IOVA, 0, 1, &v) == 0, "container alive while groups use it");
	CHECK_OK(uiommu_close(g1));
	CHECK_OK(uiommu_close(d1));
	TAP_CHECK(dev_dma(d3, IOVA, 0, 1, &v) == 0, "group 1 alive while C is open");
	CHECK_OK(uiommu_close(d3));
	TAP_CHECK(dev_a->vdev.dev->iommufd_priv, "A bound while its BAR is mapped");
	CHECK_OK(uiommu_munmap(p, PAGE_SIZE));
	TAP_CHECK(!dev_a->vdev.dev->iommufd_priv, "group 1 left with the last mapping");
	CHECK_OK(uiommu_close(d2));
	CHECK_OK(uiommu_close(g2));
	check_no_leak();
}

/*
 * Fail the N-th allocation of the classic flow, for every N until the flow
 * passes untouched: each failure must come out as an errno, and closing
 * everything must leave nothing behind.
 */
static void test_failnth(void *arg)
{
	unsigned long n;
	unsigned int failures = 0;

	buffer_init();
	for (n = 1; n < 5000; n++) {
		struct uiommu_file *c = NULL, *g = NULL, *dev = NULL;
		int rc = 0, efd = eventfd_nb();
		int32_t fds[1] = {efd};
		uint64_t size;

		ualloc_fail_nth(n);
		c = uiommu_open("/dev/vfio/vfio", O_RDWR);
		g = c ? uiommu_open(GROUP_1, O_RDWR) : NULL;
		if (!c || !g)
			rc = -1;
		if (!rc)
			rc = set_container(g, c);
		if (!rc)
			rc = uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
		if (!rc)
			rc = map_dma(c, IOVA, buffer, 2 * PAGE_SIZE, RW);
		if (!rc) {
			int fd = uiommu_ioctl(g, VFIO_GROUP_GET_DEVICE_FD, NAME_A);

			rc = fd < 0 ? -1 : 0;
			dev = fd < 0 ? NULL : uiommu_file_from_fd(fd);
		}
		if (!rc)
			rc = set_irqs(dev, TRIG_FD, 2, 0, 1, fds, 4);
		/* IOEVENTFD: its entry, our reference, the watcher and its thread. */
		if (!rc) {
			struct vfio_device_ioeventfd ie = {
				.argsz = sizeof(ie),
				.flags = VFIO_DEVICE_IOEVENTFD_64,
				.offset = FIX_REG_SCRATCH,
				.data = 1,
				.fd = efd,
			};

			rc = uiommu_ioctl(dev, VFIO_DEVICE_IOEVENTFD, &ie);
		}
		/* Low power with a wake-up eventfd, a BAR mapped while engaged (zapped). */
		if (!rc) {
			struct {
				struct vfio_device_feature hdr;
				struct vfio_device_low_power_entry_with_wakeup w;
			} f = {
				.hdr = {.argsz = sizeof(f),
					.flags = VFIO_DEVICE_FEATURE_SET |
						 VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP},
				.w = {.wakeup_eventfd = efd},
			};
			void *p;

			rc = uiommu_ioctl(dev, VFIO_DEVICE_FEATURE, &f);
			p = rc ? MAP_FAILED
			       : uiommu_mmap(dev, NULL, PAGE_SIZE, PROT_READ, MAP_SHARED,
					     2ULL << 40);
			if (!rc && p == MAP_FAILED)
				rc = -1;
			if (!rc)
				CHECK_OK(uiommu_munmap(p, PAGE_SIZE));
		}
		/* INTx in MSI-X's place, with an unmask eventfd (left set: the close ends it). */
		if (!rc)
			rc = set_irqs(dev, TRIG_NONE, 2, 0, 0, NULL, 0);
		if (!rc)
			rc = set_irqs(dev, TRIG_FD, 0, 0, 1, fds, 4);
		if (!rc)
			rc = set_irqs(dev, VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_EVENTFD, 0,
				      0, 1, fds, 4);
		if (!rc) {
			uint8_t buf[128] = {0};

			((struct vfio_iommu_type1_info *)buf)->argsz = sizeof(buf);
			rc = uiommu_ioctl(c, VFIO_IOMMU_GET_INFO, buf);
		}
		if (!rc)
			rc = unmap_dma(c, IOVA, 2 * PAGE_SIZE, 0, &size);
		TAP_CHECK(!rc || errno, "N=%lu: failed without an errno", n);
		if (dev)
			uiommu_close(dev);
		if (g)
			uiommu_close(g);
		if (c)
			uiommu_close(c);
		close(efd);
		TAP_CHECK_EQ(ufile_count(), base_files, "N=%lu: files left", n);
		TAP_CHECK(!dev_a->vdev.dev->iommufd_priv, "N=%lu: A still bound", n);
		TAP_CHECK_EQ(vfio_virqfd_count(), 0, "N=%lu: virqfds left", n);
		if (!ualloc_fail_nth_pending()) {
			failures++;
			continue;
		}
		ualloc_fail_nth(0);
		TAP_CHECK(!rc, "N=%lu: the flow failed with no injected failure", n);
		break;
	}
	tap_diag("%u allocation points failed one by one", failures);
	TAP_CHECK(failures > 20, "only %u allocation points", failures);
	check_no_leak();
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *arg);
	} tests[] = {
		{"paths and topology", test_paths},
		{"container before SET_IOMMU", test_container_unset},
		{"group status, SET/UNSET_CONTAINER, SET_IOMMU", test_group_status_and_container},
		{"type1 GET_INFO capability chain at every argsz", test_get_info},
		{"type1 MAP_DMA rules and device DMA", test_map_dma_rules},
		{"type1 UNMAP_DMA rules (v2)", test_unmap_dma_rules},
		{"type1 UNMAP_DMA (v1)", test_unmap_v1},
		{"type1 VADDR updates", test_vaddr},
		{"type1 entry limit", test_entry_limit},
		{"type1 locked memory", test_locked_memory},
		{"type1 DIRTY_PAGES and UNMAP's bitmap", test_dirty_pages},
		{"TYPE1_NESTING container", test_nesting},
		{"device info, regions, read/write, reset", test_device_info_regions},
		{"device region mmap", test_device_mmap},
		{"device hot reset and features: Linux's checks, ENODEV, ENOTTY",
		 test_hot_reset_and_features},
		{"device IRQ info", test_irq_info},
		{"device SET_IRQS and eventfds", test_set_irqs},
		{"device cdev", test_cdev},
		{"group on an iommufd", test_group_iommufd},
		{"UNSET busy, close in any order", test_unset_busy_and_close_orders},
		{"fail-nth over the classic flow", test_failnth},
	};

	/* Group 1: A and C; group 2: B (PASID capable). */
	dev_a = fixture_create(NAME_A, 1, 0);
	dev_b = fixture_create(NAME_B, 2, MOCK_FLAGS_DEVICE_PASID);
	dev_c = fixture_create(NAME_C, 1, 0);
	if (!dev_a || !dev_b || !dev_c) {
		printf("Bail out! fixture devices\n");
		return 1;
	}
	base_files = ufile_count();
	tap_plan(ARRAY_SIZE_T(tests) + 1);
	for (size_t i = 0; i < ARRAY_SIZE_T(tests); i++)
		tap_run(tests[i].name, tests[i].fn, NULL);
	{
		int rc = fixture_destroy(dev_c) | fixture_destroy(dev_b) | fixture_destroy(dev_a);

		printf("%s %u - devices unregister at the end\n", rc ? "not ok" : "ok", ++tap.n);
		if (rc)
			tap.failed++;
		if (vfio_group_exists(1) || vfio_device_count())
			printf("# groups or devices left\n");
	}
	return tap_done();
}
