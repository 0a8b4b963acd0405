// SPDX-License-Identifier: MIT
/*
 * VFIO under threads (for TSan as much as for the assertions): the model
 * raising interrupts from its own thread while the program switches MSI-X
 * and its eventfds on and off; type1 MAP/UNMAP from two threads on one
 * container while the device DMAs through a mapping neither touches.
 *
 * Checked: every DMA of the stable mapping reads its bytes; each mapping
 * thread's own maps and unmaps succeed (no interference, the entry count
 * adds up: DMA_AVAIL is back to 65535 at the end); an eventfd is only
 * signalled while its vector is on (no signal after the final disable);
 * nothing is left open. Iteration counts are fixed; nothing is timed.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>

#include "iommufd/iommufd_private.h"
#include "util/file.h"

#include "iommufd_utils.h"
#include "vfio_fixture.h"

#define IOVA  (1ULL << 24)
#define ITERS 2000

static struct fixture_dev *dev;
static struct uiommu_file *container, *group, *devfile;
static atomic_bool stop;

static void *raiser(void *arg)
{
	unsigned long n = 0;

	while (!atomic_load(&stop))
		vfio_device_irq(&dev->vdev, VFIO_PCI_MSIX_IRQ_INDEX, (unsigned int)(n++ % 2));
	return NULL;
}

struct mapper {
	uint64_t base;
	unsigned int failures;
};

static void *mapper(void *arg)
{
	struct mapper *m = arg;

	for (int i = 0; i < ITERS / 4; i++) {
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)buffer + PAGE_SIZE,
			.iova = m->base + (uint64_t)(i % 8) * PAGE_SIZE,
			.size = PAGE_SIZE,
		};
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap),
			.iova = map.iova,
			.size = PAGE_SIZE,
		};

		if (uiommu_ioctl(container, VFIO_IOMMU_MAP_DMA, &map))
			m->failures++;
		if (uiommu_ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) ||
		    unmap.size != PAGE_SIZE)
			m->failures++;
	}
	return NULL;
}

static void *dmaer(void *arg)
{
	unsigned int *bad = arg;

	for (int i = 0; i < ITERS / 4; i++) {
		uint64_t regs[2] = {IOVA, 0}, cmd = 1, status, data = 0;

		/* One pwrite of DMA_IOVA and DMA_PASID, then the command. */
		if (uiommu_pwrite(devfile, regs, sizeof(regs), FIX_REG_DMA_IOVA) != sizeof(regs) ||
		    uiommu_pwrite(devfile, &cmd, 8, FIX_REG_DMA_CMD) != 8 ||
		    uiommu_pread(devfile, &status, 8, FIX_REG_DMA_STATUS) != 8 ||
		    uiommu_pread(devfile, &data, 8, FIX_REG_DMA_DATA) != 8 || status ||
		    memcmp(&data, "threads!", 8))
			(*bad)++;
	}
	return NULL;
}

static int msix(uint32_t flags, uint32_t count, const int32_t *fds)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 8];
	struct vfio_irq_set *s = (void *)buf;

	s->argsz = sizeof(buf);
	s->flags = VFIO_IRQ_SET_ACTION_TRIGGER | flags;
	s->index = VFIO_PCI_MSIX_IRQ_INDEX;
	s->start = 0;
	s->count = count;
	if (fds)
		memcpy(s->data, fds, count * sizeof(*fds));
	return uiommu_ioctl(devfile, VFIO_DEVICE_SET_IRQS, s);
}

static void test_threads(void *arg)
{
	struct mapper m[2] = {{IOVA + 64 * PAGE_SIZE, 0}, {IOVA + 128 * PAGE_SIZE, 0}};
	pthread_t t_raise, t_map[2], t_dma;
	unsigned int bad_dma = 0, switch_failures = 0;
	unsigned int base = ufile_count();
	int32_t fds[2];
	uint64_t v;
	int32_t fd;
	int ev[2];

	buffer_init();
	memcpy(buffer, "threads!", 8);
	container = uiommu_open("/dev/vfio/vfio", O_RDWR);
	group = uiommu_open("/dev/vfio/1", O_RDWR);
	TAP_CHECK(container && group, "open");
	fd = uiommu_file_fd(container);
	CHECK_OK(uiommu_ioctl(group, VFIO_GROUP_SET_CONTAINER, &fd));
	CHECK_OK(uiommu_ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	fd = uiommu_ioctl(group, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
	TAP_CHECK(fd >= 0, "device fd");
	devfile = uiommu_file_from_fd(fd);
	{
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ,
			.vaddr = (uintptr_t)buffer,
			.iova = IOVA,
			.size = PAGE_SIZE,
		};

		CHECK_OK(uiommu_ioctl(container, VFIO_IOMMU_MAP_DMA, &map));
	}
	ev[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	fds[0] = ev[0];
	fds[1] = ev[1];

	atomic_store(&stop, false);
	pthread_create(&t_raise, NULL, raiser, NULL);
	pthread_create(&t_map[0], NULL, mapper, &m[0]);
	pthread_create(&t_map[1], NULL, mapper, &m[1]);
	pthread_create(&t_dma, NULL, dmaer, &bad_dma);
	for (int i = 0; i < ITERS / 4; i++) {
		if (msix(VFIO_IRQ_SET_DATA_EVENTFD, 2, fds) ||
		    msix(VFIO_IRQ_SET_DATA_NONE, 2, NULL) || msix(VFIO_IRQ_SET_DATA_NONE, 0, NULL))
			switch_failures++;
	}
	pthread_join(t_map[0], NULL);
	pthread_join(t_map[1], NULL);
	pthread_join(t_dma, NULL);
	/* MSI-X is off now: drain, then nothing more may arrive. */
	while (read(ev[0], &v, 8) == 8 || read(ev[1], &v, 8) == 8)
		;
	for (int i = 0; i < 1000; i++)
		vfio_device_irq(&dev->vdev, VFIO_PCI_MSIX_IRQ_INDEX, (unsigned int)(i % 2));
	atomic_store(&stop, true);
	pthread_join(t_raise, NULL);

	TAP_CHECK(read(ev[0], &v, 8) < 0 && read(ev[1], &v, 8) < 0, "signalled while off");
	TAP_CHECK_EQ(switch_failures, 0, "SET_IRQS failed");
	TAP_CHECK_EQ(bad_dma, 0, "bad DMA reads");
	TAP_CHECK(!m[0].failures && !m[1].failures, "map/unmap failures %u %u", m[0].failures,
		  m[1].failures);
	{
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap),
			.flags = VFIO_DMA_UNMAP_FLAG_ALL,
		};

		CHECK_OK(uiommu_ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap));
		TAP_CHECK_EQ(unmap.size, PAGE_SIZE, "only the stable mapping was left");
	}
	close(ev[0]);
	close(ev[1]);
	CHECK_OK(uiommu_close(devfile));
	CHECK_OK(uiommu_close(group));
	CHECK_OK(uiommu_close(container));
	TAP_CHECK_EQ(ufile_count(), base, "files left");
}

int main(void)
{
	int rc;

	dev = fixture_create("0000:00:01.0", 1, 0);
	if (!dev) {
		printf("Bail out! fixture\n");
		return 1;
	}
	tap_plan(2);
	tap_run("interrupts, SET_IRQS, MAP/UNMAP and DMA from several threads", test_threads, NULL);
	rc = fixture_destroy(dev);
	printf("%s 2 - the device unregisters\n", rc ? "not ok" : "ok");
	if (rc)
		tap.failed++;
	return tap_done();
}
