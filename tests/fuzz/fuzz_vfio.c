// SPDX-License-Identifier: MIT
/*
 * fuzz_vfio.c - libFuzzer target over the VFIO files: the container
 * (/dev/vfio/vfio), the groups of the default topology (/dev/vfio/1 and
 * /dev/vfio/2, one dmatest behind an SMMUv3 each, built by the library at
 * the first open) and the device fds they hand out.
 *
 * Each input is a program decoded from the bytes, on fresh files:
 *
 *   byte 0    setup: bit 0 opens group 1 and sets the container on it,
 *             bit 1 then selects VFIO_TYPE1_NESTING_IOMMU (else TYPE1v2),
 *             bit 2 also opens group 2 and sets the container on it,
 *             bit 3 maps a scratch buffer (MAP_DMA) at IOVA/GPA 0x40000000
 *   records:
 *     op      bits 2:0 the kind, bits 7:3 (sel) its operand:
 *               0 container ioctl: container_reqs[sel % n]
 *               1 group ioctl: group_reqs[sel % 4] on group (op >> 6) & 1
 *               2 device ioctl: dev_reqs[sel % n] on device fd mode >> 6
 *               3 / 4 pread / pwrite of device fd sel % 4 at index << 40 |
 *                 offset (index, offset, length and bytes follow)
 *               5 open a group, close it, GET_DEVICE_FD, close a device fd
 *               6 a raw VFIO request number (with random direction bits)
 *               7 a by-value request (GET_API_VERSION, CHECK_EXTENSION,
 *                 SET_IOMMU) with a small value
 *     mode    how argsz is set (ours, our minimum - 1, ours + a few, raw),
 *             whether pointers are folded into the scratch buffer and the
 *             eventfds of SET_IRQS into ours, and whether the argument is
 *             valid, NULL or wild
 *     payload the struct bytes (up to 96)
 *
 * Seeds: tests/fuzz/gen_vfio_seeds.py writes corpus/fuzz_vfio/.
 *
 * Invariants (any violation is FAIL(): a message, then a trap): every call returns 0 (or
 * a byte count, or a new fd) or -1 with an errno the reference (vfio.md)
 * gives for these files; after the program the files are closed (device
 * fds, groups, container, in that order), and then no file, mapping, pin,
 * device binding or fault handler is left behind (the next input opens
 * the same devices again).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommu.h>
#include <linux/vfio.h>
#include <uiommu/uiommu.h>

#include "dev/dmatest/dmatest_vfio.h"
#include "hw/iommu.h"
#include "iommufd/iommufd_private.h"
#include "util/file.h"
#include "util/log.h"
#include "vmm/machine.h"

#include "fuzz_prog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: say which, then crash (the runner saves the input). */
#define FAIL()                                                                                     \
	do {                                                                                       \
		fprintf(stderr, "fuzz_vfio.c:%d: invariant broken (errno %d)\n", __LINE__, errno); \
		__builtin_trap();                                                                  \
	} while (0)

#define SCRATCH_SIZE (64 * 1024)
#define ARG_SIZE     16384
#define MAX_DEVS     4
#define GPA	     0x40000000ULL
#define ARRAY_N(a)   (sizeof(a) / sizeof((a)[0]))

static const char *const names[] = {"0000:00:01.0", "0000:00:02.0", "0000:00:03.0", ""};

static uint8_t *scratch; /* 2 x SCRATCH_SIZE, page aligned: MAP_DMA's memory, pointer targets */
static uint8_t argbuf[ARG_SIZE + 64];
static int evfd[2] = {-1, -1};

struct files {
	struct uiommu_file *container, *group[2], *dev[MAX_DEVS];
};

struct req {
	unsigned long request;
	size_t size, min;
	int ptr;    /* offset of a u64 user pointer (-1: none) */
	int efds;   /* SET_IRQS: the data holds eventfds */
	bool noarg; /* the request takes no argument */
};

#define NOP -1
static const struct req container_reqs[] = {
	{VFIO_IOMMU_GET_INFO, 24, 16, NOP, 0, false},
	{VFIO_IOMMU_MAP_DMA, 32, 32, 8, 0, false},
	{VFIO_IOMMU_UNMAP_DMA, 48, 24, 40, 0, false},
	{VFIO_IOMMU_DIRTY_PAGES, 48, 8, 40, 0, false},
	{VFIO_IOMMU_SET_PASID_TABLE, 40, 8, NOP, 0, false},
	{VFIO_IOMMU_CACHE_INVALIDATE, 64, 8, NOP, 0, false},
	{VFIO_IOMMU_SET_MSI_BINDING, 32, 32, NOP, 0, false},
	{VFIO_IOMMU_SPAPR_REGISTER_MEMORY, 24, 24, 8, 0, false},
	{VFIO_IOMMU_SPAPR_TCE_GET_INFO, 32, 16, NOP, 0, false},
	{VFIO_EEH_PE_OP, 40, 12, NOP, 0, false},
	{VFIO_IOMMU_ENABLE, 0, 0, NOP, 0, true},
};

static const struct req group_reqs[] = {
	{VFIO_GROUP_GET_STATUS, 8, 8, NOP, 0, false},
	{VFIO_GROUP_UNSET_CONTAINER, 0, 0, NOP, 0, true},
	{VFIO_GROUP_SET_CONTAINER, 4, 4, NOP, 0, false},
	{VFIO_GROUP_GET_DEVICE_FD, 16, 16, NOP, 0, false},
};

static const struct req dev_reqs[] = {
	{VFIO_DEVICE_GET_INFO, 24, 16, NOP, 0, false},
	{VFIO_DEVICE_GET_REGION_INFO, 32, 32, NOP, 0, false},
	{VFIO_DEVICE_GET_IRQ_INFO, 20, 16, NOP, 0, false},
	{VFIO_DEVICE_SET_IRQS, 28, 20, NOP, 1, false},
	{VFIO_DEVICE_RESET, 0, 0, NOP, 0, true},
	{VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, 16, 16, NOP, 0, false},
	{_IO(VFIO_TYPE, VFIO_BASE + 17), 16, 16, NOP, 0, false}, /* DEVICE_FEATURE */
	{VFIO_DEVICE_BIND_IOMMUFD, 16, 16, NOP, 0, false},
};

/* The errnos vfio.md gives these files (ioctls, read / write, open). */
static bool errno_allowed(int e)
{
	switch (e) {
	case EINVAL:
	case ENOTTY:
	case EFAULT:
	case EBUSY:
	case ENODEV:
	case EEXIST:
	case ENOENT:
	case ENOSPC:
	case ENOMEM:
	case EPERM:
	case EBADF:
	case EBADFD:
	case EIO:
	case ENXIO:
	case EACCES:
	case EOVERFLOW:
	case EOPNOTSUPP:
		return true;
	default:
		return false;
	}
}

static bool trace; /* FUZZ_VFIO_TRACE set: each call and its result on stderr */

static void check(long rc)
{
	if (trace)
		fprintf(stderr, "  -> %ld%s%s\n", rc, rc < 0 ? " " : "",
			rc < 0 ? strerror(errno) : "");
	if (rc < 0 && (rc != -1 || !errno_allowed(errno)))
		FAIL();
}

static void setup_once(void)
{
	struct uiommu_file *c;

	if (scratch)
		return;
	scratch = mmap(NULL, 2 * SCRATCH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	evfd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	evfd[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (scratch == MAP_FAILED || evfd[0] < 0 || evfd[1] < 0)
		FAIL();
	ulog_set_level(ULOG_ERR);
	trace = getenv("FUZZ_VFIO_TRACE");
	/* The first open under /dev/vfio builds the default machine; it stays. */
	c = uiommu_open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (!c || uiommu_close(c) || !vmm_machine())
		FAIL();
}

static struct uiommu_file *pick_file(struct files *f, uint8_t sel)
{
	switch (sel % 4) {
	case 0:
		return f->container;
	case 1:
		return f->group[(sel >> 2) & 1];
	default:
		return f->dev[(sel >> 2) % MAX_DEVS];
	}
}

/* Fill argbuf for @r from the input; the argument to pass. */
static void *build_arg(struct input *in, const struct req *r, struct files *f, uint8_t mode)
{
	size_t size;
	void *arg;

	fuzz_payload(in, argbuf);
	size = fuzz_size(in, mode, r->size, r->min ? r->min - 1 : 0);
	/*
	 * User pointers always point into the scratch buffer: memory a program
	 * hands to MAP_DMA is the device's to write, so a pointer into this
	 * process's own heap would let the device corrupt the harness (the
	 * program's own doing, not the library's).
	 */
	if (r->ptr != NOP)
		put64(argbuf + r->ptr, (uintptr_t)scratch + rd64(argbuf + r->ptr) % SCRATCH_SIZE);
	/* And so do the ranges they start (scratch is twice SCRATCH_SIZE). */
	if (r->request == VFIO_IOMMU_MAP_DMA)
		put64(argbuf + 24, rd64(argbuf + 24) % (SCRATCH_SIZE + 1));
	if (r->request == VFIO_IOMMU_SPAPR_REGISTER_MEMORY)
		put64(argbuf + 16, rd64(argbuf + 16) % (SCRATCH_SIZE + 1));
	if (!(mode & 4)) {
		if (r->efds)
			for (unsigned int i = 0; i < 2; i++) {
				uint8_t s = argbuf[20 + 4 * i];

				put32(argbuf + 20 + 4 * i,
				      (uint32_t)(s % 3 == 2 ? -1 : evfd[s % 3 == 1]));
			}
	}
	if (r->request == VFIO_GROUP_SET_CONTAINER) {
		struct uiommu_file *t = pick_file(f, argbuf[0]);
		int32_t fd = t ? uiommu_file_fd(t) : (int32_t)rd64(argbuf + 4);

		memcpy(argbuf, &fd, 4);
	} else if (r->request == VFIO_GROUP_GET_DEVICE_FD) {
		if (!(mode & 4))
			strcpy((char *)argbuf, names[argbuf[0] % ARRAY_N(names)]);
		argbuf[ARG_SIZE - 1] = 0;
	} else {
		put32(argbuf, (uint32_t)size); /* argsz */
	}
	arg = fuzz_arg(in, mode, argbuf);
	if (r->noarg)
		arg = (void *)(uintptr_t)get8(in);
	return arg;
}

static void take_device_fd(struct files *f, int fd)
{
	struct uiommu_file *d;

	if (fd < 0)
		return;
	d = uiommu_file_from_fd(fd);
	if (!d)
		FAIL();
	for (unsigned int i = 0; i < MAX_DEVS; i++)
		if (!f->dev[i]) {
			f->dev[i] = d;
			return;
		}
	if (uiommu_close(d))
		FAIL();
}

static void close_file(struct uiommu_file **p)
{
	if (*p && uiommu_close(*p))
		FAIL();
	*p = NULL;
}

static void region_rw(struct input *in, struct files *f, uint8_t op, bool write)
{
	struct uiommu_file *d = f->dev[(op >> 3) % MAX_DEVS];
	uint64_t idx = get8(in) % 12, off = get32(in) % 0x12000;
	size_t len = get8(in);
	ssize_t rc;

	if (!d)
		return;
	if (len > 200)
		len = (len - 200) * 0x120; /* up to 15.5 KiB (argbuf) now and then */
	if (write)
		for (size_t i = 0; i < 64 && i < len; i++)
			argbuf[i] = get8(in);
	rc = write ? uiommu_pwrite(d, argbuf, len, (off_t)(idx << 40 | off))
		   : uiommu_pread(d, argbuf, len, (off_t)(idx << 40 | off));
	if (trace)
		fprintf(stderr, "%s region %u at 0x%x, %zu bytes -> %zd\n",
			write ? "write" : "read", (unsigned int)idx, (unsigned int)off, len, rc);
	if (rc < 0 && !errno_allowed(errno))
		FAIL();
	if (rc > (ssize_t)len)
		FAIL();
}

static void open_close(struct input *in, struct files *f, uint8_t op)
{
	uint8_t sel = op >> 3;
	int fd;

	switch (sel % 4) {
	case 0: /* (re)open a group */
		if (!f->group[(sel >> 2) & 1]) {
			f->group[(sel >> 2) & 1] = uiommu_open(
				(sel >> 2) & 1 ? "/dev/vfio/2" : "/dev/vfio/1", O_RDWR | O_CLOEXEC);
			if (!f->group[(sel >> 2) & 1] && !errno_allowed(errno))
				FAIL();
		}
		break;
	case 1: /* close a group */
		close_file(&f->group[(sel >> 2) & 1]);
		break;
	case 2: /* a device fd */
		if (!f->group[(sel >> 2) & 1])
			break;
		fd = uiommu_ioctl(f->group[(sel >> 2) & 1], VFIO_GROUP_GET_DEVICE_FD,
				  names[get8(in) % ARRAY_N(names)]);
		check(fd < 0 ? -1 : 0);
		take_device_fd(f, fd);
		break;
	default: /* close a device fd */
		close_file(&f->dev[(sel >> 2) % MAX_DEVS]);
		break;
	}
}

static void run_one(struct input *in, struct files *f)
{
	uint8_t op = get8(in), mode = get8(in);
	const struct req *r = NULL;
	struct uiommu_file *t = NULL;
	unsigned long request;
	long rc;
	void *arg;

	switch (op & 7) {
	case 0:
		r = &container_reqs[(op >> 3) % ARRAY_N(container_reqs)];
		t = f->container;
		break;
	case 1:
		r = &group_reqs[(op >> 3) % ARRAY_N(group_reqs)];
		t = f->group[(op >> 6) & 1];
		break;
	case 2:
		r = &dev_reqs[(op >> 3) % ARRAY_N(dev_reqs)];
		t = f->dev[mode >> 6];
		break;
	case 3:
	case 4:
		region_rw(in, f, op, (op & 7) == 4);
		return;
	case 5:
		open_close(in, f, op);
		return;
	case 6: {
		/* A raw request: VFIO's number space and its near-misses. */
		static const struct req raw = {0, 64, 8, NOP, 0, false};

		t = pick_file(f, op >> 3);
		request = _IO(VFIO_TYPE, VFIO_BASE + get8(in) % 40) |
			  ((unsigned long)(get8(in) & 3) << 30);
		if (!t)
			return;
		arg = build_arg(in, &raw, f, mode);
		rc = uiommu_ioctl(t, request, arg);
		check(rc);
		if (rc > 2 && (request & 0xff) == (VFIO_BASE + 6))
			take_device_fd(f, (int)rc);
		return;
	}
	default:
		t = pick_file(f, op >> 3);
		if (!t)
			return;
		request = (op >> 5) % 3 == 0   ? VFIO_GET_API_VERSION
			  : (op >> 5) % 3 == 1 ? VFIO_CHECK_EXTENSION
					       : VFIO_SET_IOMMU;
		check(uiommu_ioctl(t, request, (unsigned long)(get8(in) % 12)));
		return;
	}
	if (!t)
		return;
	arg = build_arg(in, r, f, mode);
	if (trace)
		fprintf(stderr, "ioctl 0x%lx argsz %u\n", r->request, *(uint32_t *)argbuf);
	rc = uiommu_ioctl(t, r->request, arg);
	check(rc);
	if (r->request == VFIO_GROUP_GET_DEVICE_FD && rc >= 0)
		take_device_fd(f, (int)rc);
}

static void setup_files(struct files *f, uint8_t setup)
{
	f->container = uiommu_open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (!f->container)
		FAIL();
	if (setup & 1) {
		int32_t cfd = uiommu_file_fd(f->container);

		f->group[0] = uiommu_open("/dev/vfio/1", O_RDWR | O_CLOEXEC);
		if (!f->group[0] || uiommu_ioctl(f->group[0], VFIO_GROUP_SET_CONTAINER, &cfd))
			FAIL();
		if (setup & 4) {
			f->group[1] = uiommu_open("/dev/vfio/2", O_RDWR | O_CLOEXEC);
			if (!f->group[1] ||
			    uiommu_ioctl(f->group[1], VFIO_GROUP_SET_CONTAINER, &cfd))
				FAIL();
		}
		if (uiommu_ioctl(f->container, VFIO_SET_IOMMU,
				 (unsigned long)(setup & 2 ? VFIO_TYPE1_NESTING_IOMMU
							   : VFIO_TYPE1v2_IOMMU)))
			FAIL();
		if (setup & 8) {
			struct vfio_iommu_type1_dma_map m = {
				.argsz = sizeof(m),
				.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
				.vaddr = (uintptr_t)scratch,
				.iova = GPA,
				.size = SCRATCH_SIZE,
			};

			if (uiommu_ioctl(f->container, VFIO_IOMMU_MAP_DMA, &m))
				FAIL();
		}
	}
}

/* Every device of the machine is closed, unbound and without a fault handler. */
static void check_devices_idle(void)
{
	struct machine *m = vmm_machine();

	for (unsigned int i = 0; i < 2; i++) {
		struct dmatest_vfio *dv = machine_dmatest(m, names[i]);
		struct vfio_device *vdev = dv ? dmatest_vfio_device(dv) : NULL;

		if (!vdev || vdev->dev->iommufd_priv || vdev->dev->fault_param)
			FAIL();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct files f = {0};
	struct iommufd_pin_stats ps;
	unsigned int files;

	setup_once();
	files = ufile_count();
	setup_files(&f, get8(&in));
	for (unsigned int i = 0; in.n && i < 64; i++)
		run_one(&in, &f);

	for (unsigned int i = 0; i < MAX_DEVS; i++)
		close_file(&f.dev[i]);
	close_file(&f.group[0]);
	close_file(&f.group[1]);
	close_file(&f.container);
	iommufd_pin_stats(&ps);
	if (ufile_count() != files || ufile_vma_count() || ps.mm_pinned_vm || ps.user_locked_vm ||
	    ps.mm_locked_vm)
		FAIL();
	check_devices_idle();
	/* The eventfds may have been signalled: empty them for the next input. */
	for (unsigned int i = 0; i < 2; i++) {
		uint64_t v;

		if (read(evfd[i], &v, sizeof(v)) < 0 && errno != EAGAIN)
			FAIL();
	}
	return 0;
}
