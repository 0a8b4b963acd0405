/* SPDX-License-Identifier: MIT */
/*
 * shim_vfio_machine.h - the VFIO machine of the shim tests that drive the
 * dmatest function through a type1 v2 container (group 1, 0000:00:01.0):
 * the container and group, 64 KiB of this process's memory mapped at IOVA,
 * the device fd with Memory Space and Bus Master on; BAR0 access; the
 * eventfds those tests hand to VFIO; the virqfd watcher thread
 * ("uiommu-virqfd") they wait for. Every helper checks with TAP_CHECK*:
 * a failure is reported and the test goes on.
 */
#ifndef UIOMMU_TESTS_SHIM_VFIO_MACHINE_H
#define UIOMMU_TESTS_SHIM_VFIO_MACHINE_H

#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "shim_utils.h"

#define IOVA	  0x1000000ULL
#define MEM_SIZE  (64u * 1024)
#define REGION(i) ((uint64_t)(i) << 40)
#define BAR0	  REGION(VFIO_PCI_BAR0_REGION_INDEX)
#define CFG	  REGION(VFIO_PCI_CONFIG_REGION_INDEX)
#define WAIT_MS	  20000 /* the bound of a wait for an effect (a hang, not a timing check) */

/* @mark: an eventfd a test ties to the device (-1 for none), closed with it. */
struct machine {
	int c, g, dev, mark;
	uint8_t *mem;
};

/* Container, group 1, type1 v2, the memory mapped; no device yet. */
static inline void machine_setup(struct machine *m)
{
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map)};

	m->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(m->mem != MAP_FAILED, "mmap");
	m->c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	m->g = open("/dev/vfio/1", O_RDWR | O_CLOEXEC);
	TAP_CHECK(m->c >= 0 && m->g >= 0, "container and group: %s", strerror(errno));
	CHECK_OK(ioctl(m->g, VFIO_GROUP_SET_CONTAINER, &m->c));
	CHECK_OK(ioctl(m->c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)m->mem;
	map.iova = IOVA;
	map.size = MEM_SIZE;
	CHECK_OK(ioctl(m->c, VFIO_IOMMU_MAP_DMA, &map));
	m->dev = -1;
	m->mark = -1;
}

/* Memory Space and Bus Master on (again after a reset). */
static inline void machine_cmd_on(struct machine *m)
{
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	TAP_CHECK(pwrite(m->dev, &cmd, 2, (off_t)(CFG + PCI_COMMAND)) == 2, "Command: %s",
		  strerror(errno));
}

/* The device fd, Memory Space and Bus Master on. */
static inline void machine_dev_open(struct machine *m)
{
	m->dev = ioctl(m->g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
	TAP_CHECK(m->dev >= 0, "GET_DEVICE_FD: %s", strerror(errno));
	machine_cmd_on(m);
}

static inline void machine_open(struct machine *m)
{
	machine_setup(m);
	machine_dev_open(m);
}

static inline void machine_dev_close(struct machine *m)
{
	close(m->dev);
	if (m->mark >= 0)
		close(m->mark);
	m->dev = m->mark = -1;
}

static inline void machine_close(struct machine *m)
{
	if (m->dev >= 0)
		machine_dev_close(m);
	close(m->g);
	close(m->c);
	munmap(m->mem, MEM_SIZE);
}

/* VFIO_DEVICE_IOEVENTFD: @flags the width (VFIO_DEVICE_IOEVENTFD_8 ... _64), @fd -1 to remove. */
static inline int vfio_ioeventfd(int dev, uint64_t offset, uint64_t data, uint32_t flags,
				 int32_t fd)
{
	struct vfio_device_ioeventfd ie = {
		.argsz = sizeof(ie),
		.flags = flags,
		.offset = offset,
		.data = data,
		.fd = fd,
	};

	return ioctl(dev, VFIO_DEVICE_IOEVENTFD, &ie);
}

static inline uint64_t rd(int dev, uint64_t off, unsigned int size)
{
	uint64_t v = 0;

	TAP_CHECK(pread(dev, &v, size, (off_t)(BAR0 + off)) == (ssize_t)size,
		  "BAR0 read 0x%llx: %s", (unsigned long long)off, strerror(errno));
	return v;
}

static inline void wr(int dev, uint64_t off, unsigned int size, uint64_t v)
{
	TAP_CHECK(pwrite(dev, &v, size, (off_t)(BAR0 + off)) == (ssize_t)size,
		  "BAR0 write 0x%llx: %s", (unsigned long long)off, strerror(errno));
}

/* A non-blocking eventfd (with @flags besides). */
static inline int efd_new(int flags)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC | flags);

	TAP_CHECK(fd >= 0, "eventfd: %s", strerror(errno));
	return fd;
}

/* An eventfd's count, consumed (0 when it has none). */
static inline uint64_t take(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* A number that is certainly closed (it was open a moment ago, high up). */
static inline int closed_fd(int any)
{
	int fd = fcntl(any, F_DUPFD_CLOEXEC, 5000);

	TAP_CHECK(fd >= 5000, "F_DUPFD: %s", strerror(errno));
	close(fd);
	return fd;
}

static inline void msleep1(void)
{
	struct timespec ts = {0, 1000000};

	nanosleep(&ts, NULL);
}

/* Wait (bounded) until BAR0 at @off reads @want; then check it. */
static inline void wait_reg(int dev, uint64_t off, unsigned int size, uint64_t want)
{
	for (int i = 0; i < WAIT_MS && rd(dev, off, size) != want; i++)
		msleep1();
	TAP_CHECK_EQ(rd(dev, off, size), want, "BAR0 0x%llx", (unsigned long long)off);
}

/* The virqfd watcher threads of this process, by name. */
static inline int watchers(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	TAP_CHECK(d, "opendir: %s", strerror(errno));
	while (d && (de = readdir(d))) {
		char path[300], comm[32] = {0};
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* gone meanwhile */
		if (read(fd, comm, sizeof(comm) - 1) > 0 && !strcmp(comm, "uiommu-virqfd\n"))
			n++;
		close(fd);
	}
	if (d)
		closedir(d);
	return n;
}

/* Wait (bounded) until no watcher is left (one that was told to end goes on its own). */
static inline void wait_no_watcher(void)
{
	for (int i = 0; i < WAIT_MS && watchers(); i++)
		msleep1();
	TAP_CHECK_EQ(watchers(), 0, "watcher threads left");
}

#endif
