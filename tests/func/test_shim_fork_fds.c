// SPDX-License-Identifier: MIT
/*
 * The preload shim across fork(), the calls that Linux serves from the
 * open file a child inherited and that make or map something in the child:
 * an ioctl that installs a new fd, mmap(), a grandchild's calls, and the
 * file's status flags (lib/uiommu_remote.c, util/file.c).
 *
 * What is checked, each through what a program can see:
 *   - a child allocates a fault queue on its inherited iommufd: the fd is
 *     its lowest free number, close-on-exec, O_RDWR; a nested HWPT of the
 *     child's on it receives the page request the parent's device raises
 *     (TRIGGER_IOPF), and the child polls and reads that record, and
 *     answers it;
 *   - a child allocates a vEVENTQ on the parent's vIOMMU and reads the
 *     event the parent triggers (the virtual ID, sequence 0);
 *   - a child creates a selftest access (its number, named in ACCESS_RW)
 *     and reads and writes the parent's IOAS through it;
 *   - a child maps the vIOMMU's region on the inherited iommufd: the
 *     parent's mapping and the child's are the same pages both ways;
 *   - a child asks the inherited VFIO group for the device fd, reads its
 *     config space, maps its BAR0 buffer: the parent's mapping (of its own
 *     device fd) and the child's see each other's bytes, and the device's
 *     DMA (a WRITE programmed by the child) reads what the child wrote;
 *     the child unmapping the mapping it inherited leaves the parent's
 *     objects alone; the group can be opened again once everything is closed and the
 *     child has exited (nothing the child held is left);
 *   - a child's DMABUF_GET gives it its number; MAP_FILE of that number,
 *     and of a memfd of its own, maps the child's files (a decoy of the
 *     parent's sits at the memfd's number);
 *   - a grandchild's ioctl acts on the original owner's context, through
 *     its parent's inherited file and through one the parent's ioctl made,
 *     and after its parent has exited;
 *   - F_GETFL / F_SETFL / F_GETFD against a real character device opened
 *     the same way (/dev/null), O_PATH, anonymous files, a dup and a child
 *     sharing the flags.
 * Children report through their exit status (the step that failed).
 */
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "shim_utils.h"

#define BUF_PAGES 8
#define BUF_SIZE  (BUF_PAGES * SHIM_PAGE)
#define IOVA	  MOCK_APERTURE_START

static uint8_t *shared_buf; /* MAP_SHARED | MAP_ANONYMOUS, made before any fork */

static void wait_byte(int rfd)
{
	char c;

	while (read(rfd, &c, 1) < 0 && errno == EINTR)
		;
}

static void send_byte(int wfd)
{
	(void)!write(wfd, "x", 1);
}

/* The number open() would get now: the lowest free one. */
static int lowest_free(void)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd >= 0)
		close(fd);
	return fd;
}

/* poll() for @fd readable, up to 10 s (a child waiting on its parent). */
static bool wait_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 10000) == 1 && (p.revents & POLLIN);
}

static bool cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	return fl >= 0 && (fl & FD_CLOEXEC);
}

/* ---------------------------------------------------------------------- */

static void test_fault_queue(void *arg)
{
	struct iommu_hwpt_selftest data = {.iotlb = IOMMU_TEST_IOTLB_DEFAULT};
	int fd = iommufd_open(), go[2], ready[2];
	uint32_t ioas = ioas_alloc(fd), parent;
	struct shim_mock_dev d = mock_domain(fd, ioas);
	pid_t pid;

	(void)arg;
	CHECK_OK(_hwpt_alloc(fd, d.idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
			     IOMMU_HWPT_DATA_NONE, NULL, 0, &parent));
	TAP_CHECK(pipe2(go, O_CLOEXEC) == 0 && pipe2(ready, O_CLOEXEC) == 0, "pipe");
	pid = fork_child();
	if (!pid) {
		struct iommu_test_cmd replace = {.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
						 .id = d.stdev};
		struct iommu_hwpt_page_response resp = {0};
		struct iommu_hwpt_pgfault rec;
		int want = lowest_free(), ffd;
		uint32_t fault_id, nested;

		if (_fault_alloc(fd, &fault_id, &ffd))
			_exit(1);
		if (ffd != want || !cloexec(ffd) || fcntl(ffd, F_GETFL) != O_RDWR)
			_exit(2);
		if (_hwpt_alloc(fd, d.idev, parent, IOMMU_HWPT_FAULT_ID_VALID, fault_id,
				IOMMU_HWPT_DATA_SELFTEST, &data, sizeof(data), &nested))
			_exit(3);
		replace.mock_domain_replace.pt_id = nested;
		if (_test_cmd(fd, &replace))
			_exit(4);
		/* Nothing yet. */
		if (poll_now(ffd, POLLIN))
			_exit(5);
		send_byte(ready[1]);
		if (!wait_readable(ffd))
			_exit(6);
		if (read(ffd, &rec, sizeof(rec)) != sizeof(rec))
			_exit(7);
		if (rec.dev_id != d.idev || rec.grpid != 0x5 || rec.addr != 0x7000 ||
		    !(rec.perm & IOMMU_PGFAULT_PERM_READ) ||
		    !(rec.flags & IOMMU_PGFAULT_FLAGS_LAST_PAGE))
			_exit(8);
		resp.cookie = rec.cookie;
		resp.code = IOMMUFD_PAGE_RESP_SUCCESS;
		if (write(ffd, &resp, sizeof(resp)) != sizeof(resp))
			_exit(9);
		/* Back to the IOAS, so the parent can take the HWPTs down. */
		replace.mock_domain_replace.pt_id = ioas;
		if (_test_cmd(fd, &replace))
			_exit(10);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	/* Only the child writes: its exit ends the wait. */
	close(ready[1]);
	ready[1] = -1;
	wait_byte(ready[0]);
	/* The parent's device raises a page request: it reaches the child's queue. */
	CHECK_OK(_trigger_iopf(fd, d.idev, 0x5, 0x7000));
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	CHECK_OK(close(fd));
}

/* A vIOMMU of the selftest on @ioas's device, with its mmap region. */
struct vsetup {
	uint32_t ioas, parent, viommu, vdev, nested;
	struct shim_mock_dev d;
	struct iommu_viommu_selftest data;
};

static void vsetup(int fd, struct vsetup *v)
{
	struct iommu_hwpt_selftest hdata = {.iotlb = IOMMU_TEST_IOTLB_DEFAULT};
	struct iommu_viommu_alloc va = {.size = sizeof(va), .type = IOMMU_VIOMMU_TYPE_SELFTEST};
	struct iommu_vdevice_alloc vd = {.size = sizeof(vd), .virt_id = 0x99};
	struct iommu_test_cmd replace = {.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE};

	v->ioas = ioas_alloc(fd);
	v->d = mock_domain(fd, v->ioas);
	CHECK_OK(_hwpt_alloc(fd, v->d.idev, v->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
			     IOMMU_HWPT_DATA_NONE, NULL, 0, &v->parent));
	v->data = (struct iommu_viommu_selftest){.in_data = 0xbeef};
	va.dev_id = v->d.idev;
	va.hwpt_id = v->parent;
	va.data_len = sizeof(v->data);
	va.data_uptr = (uintptr_t)&v->data;
	CHECK_OK(ioctl(fd, IOMMU_VIOMMU_ALLOC, &va));
	v->viommu = va.out_viommu_id;
	vd.viommu_id = v->viommu;
	vd.dev_id = v->d.idev;
	CHECK_OK(ioctl(fd, IOMMU_VDEVICE_ALLOC, &vd));
	v->vdev = vd.out_vdevice_id;
	CHECK_OK(_hwpt_alloc(fd, v->d.idev, v->viommu, 0, 0, IOMMU_HWPT_DATA_SELFTEST, &hdata,
			     sizeof(hdata), &v->nested));
	replace.id = v->d.stdev;
	replace.mock_domain_replace.pt_id = v->nested;
	CHECK_OK(_test_cmd(fd, &replace));
}

static void test_veventq(void *arg)
{
	int fd = iommufd_open(), ready[2];
	struct iommu_test_cmd trig = {.op = IOMMU_TEST_OP_TRIGGER_VEVENT};
	struct vsetup v;
	uint32_t id;
	pid_t pid;

	(void)arg;
	vsetup(fd, &v);
	TAP_CHECK(pipe2(ready, O_CLOEXEC) == 0, "pipe");
	pid = fork_child();
	if (!pid) {
		struct iommu_veventq_alloc cmd = {
			.size = sizeof(cmd),
			.viommu_id = v.viommu,
			.type = IOMMU_VEVENTQ_TYPE_SELFTEST,
			.veventq_depth = 4,
		};
		struct {
			struct iommufd_vevent_header h;
			struct iommu_viommu_event_selftest e;
		} rec;
		int want = lowest_free();

		if (ioctl(fd, IOMMU_VEVENTQ_ALLOC, &cmd))
			_exit(1);
		if ((int)cmd.out_veventq_fd != want || !cloexec(want))
			_exit(2);
		send_byte(ready[1]);
		if (!wait_readable(want))
			_exit(3);
		if (read(want, &rec, sizeof(rec)) != sizeof(rec))
			_exit(4);
		if (rec.h.flags || rec.h.sequence != 0 || rec.e.virt_id != 0x99)
			_exit(5);
		memcpy(shared_buf, &cmd.out_veventq_id, sizeof(uint32_t));
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	/* Only the child writes: its exit ends the wait. */
	close(ready[1]);
	ready[1] = -1;
	wait_byte(ready[0]);
	trig.trigger_vevent.dev_id = v.d.idev;
	CHECK_OK(_test_cmd(fd, &trig));
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	/* The child's fd went with the child: the object is no longer busy. */
	memcpy(&id, shared_buf, sizeof(id));
	CHECK_OK(_destroy(fd, id));
	CHECK_ERRNO(EOPNOTSUPP, _test_cmd(fd, &trig));
	close(ready[0]);
	CHECK_OK(close(fd));
}

static int _access_rw(int fd, int access_fd, uint64_t iova, void *buf, uint64_t len, bool write)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_RW,
		.id = (uint32_t)access_fd,
		.access_rw = {.iova = iova,
			      .length = len,
			      .uptr = (uintptr_t)buf,
			      .flags = write ? MOCK_ACCESS_RW_WRITE : 0},
	};

	return _test_cmd(fd, &cmd);
}

static void test_access(void *arg)
{
	int fd = iommufd_open();
	uint32_t ioas = ioas_alloc(fd);
	uint64_t iova = IOVA;
	pid_t pid;

	(void)arg;
	for (unsigned int i = 0; i < BUF_SIZE; i++)
		shared_buf[i] = (uint8_t)(i * 3 + 7);
	CHECK_OK(_ioas_map(fd, ioas, shared_buf, BUF_SIZE, &iova));
	pid = fork_child();
	if (!pid) {
		struct iommu_test_cmd cmd = {.op = IOMMU_TEST_OP_CREATE_ACCESS, .id = ioas};
		int want = lowest_free(), afd;
		uint8_t in[64], out[16];

		if (_test_cmd(fd, &cmd))
			_exit(1);
		afd = (int)cmd.create_access.out_access_fd;
		if (afd != want || !cloexec(afd))
			_exit(2);
		/* The access is named by the child's number. */
		if (_access_rw(fd, afd, iova + 100, in, sizeof(in), false))
			_exit(3);
		for (unsigned int i = 0; i < sizeof(in); i++)
			if (in[i] != (uint8_t)((100 + i) * 3 + 7))
				_exit(4);
		memset(out, 0xc3, sizeof(out));
		if (_access_rw(fd, afd, iova + SHIM_PAGE, out, sizeof(out), true))
			_exit(5);
		/* A number that is no access (stdin): the selftest's EBADFD. */
		if (_access_rw(fd, 0, iova, in, 8, false) != -1 || errno != EBADFD)
			_exit(6);
		if (close(afd))
			_exit(7);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	/*
	 * The server thread wrote for the child: the unmap (the IOAS's lock)
	 * orders that before this thread's reads, where ThreadSanitizer can
	 * see it (the child's exit is another process).
	 */
	CHECK_OK(_ioas_unmap(fd, ioas, iova, BUF_SIZE));
	for (unsigned int i = 0; i < 16; i++)
		TAP_CHECK_EQ(shared_buf[SHIM_PAGE + i], 0xc3, "byte %u written by the child", i);
	CHECK_OK(close(fd));
}

static void test_viommu_mmap(void *arg)
{
	int fd = iommufd_open(), go[2], ready[2];
	volatile uint32_t *mine;
	struct vsetup v;
	size_t len;
	pid_t pid;

	(void)arg;
	vsetup(fd, &v);
	len = v.data.out_mmap_length;
	mine = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    (off_t)v.data.out_mmap_offset);
	TAP_CHECK(mine != MAP_FAILED, "parent's mmap: %s", strerror(errno));
	TAP_CHECK_EQ(mine[0], 0xbeef, "in_data in the region");
	TAP_CHECK(pipe2(go, O_CLOEXEC) == 0 && pipe2(ready, O_CLOEXEC) == 0, "pipe");
	pid = fork_child();
	if (!pid) {
		volatile uint32_t *theirs;

		/* The inherited mapping is left alone: a mapping of the child's own. */
		theirs = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			      (off_t)v.data.out_mmap_offset);
		if (theirs == MAP_FAILED || theirs == mine)
			_exit(1);
		if (theirs[0] != 0xbeef)
			_exit(2);
		/* The region's rules are the owner's: a private mapping is EINVAL. */
		if (mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)v.data.out_mmap_offset) !=
			    MAP_FAILED ||
		    errno != EINVAL)
			_exit(3);
		theirs[1024 + 5] = 0x1234; /* second page */
		send_byte(ready[1]);
		wait_byte(go[0]);
		if (theirs[7] != 0x5678)
			_exit(4);
		if (munmap((void *)theirs, len))
			_exit(5);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	/* Only the child writes: its exit ends the wait. */
	close(ready[1]);
	ready[1] = -1;
	wait_byte(ready[0]);
	TAP_CHECK_EQ(mine[1024 + 5], 0x1234, "the child's store in the parent's mapping");
	mine[7] = 0x5678;
	send_byte(go[1]);
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	CHECK_OK(munmap((void *)mine, len));
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	CHECK_OK(close(fd));
}

#define VFIO_IOVA   0x1000000ULL
#define MEM_SIZE    (64u * 1024)

static int reg_wr(int dev, uint64_t bar0, unsigned int off, unsigned int size, uint64_t v)
{
	return pwrite(dev, &v, size, (off_t)(bar0 + off)) == (ssize_t)size ? 0 : -1;
}

static uint64_t reg_rd(int dev, uint64_t bar0, unsigned int off, unsigned int size)
{
	uint64_t v = 0;

	return pread(dev, &v, size, (off_t)(bar0 + off)) == (ssize_t)size ? v : ~0ULL;
}

static void test_vfio(void *arg)
{
	struct vfio_iommu_type1_dma_map map = {.argsz = sizeof(map)};
	struct vfio_region_info bar0 = {.argsz = sizeof(bar0), .index = VFIO_PCI_BAR0_REGION_INDEX};
	struct vfio_region_info cfg = {.argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX};
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	uint8_t *mem =
		mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int c, g, dev, go[2], ready[2];
	uint8_t *win;
	pid_t pid;

	(void)arg;
	TAP_CHECK(mem != MAP_FAILED, "mmap");
	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	g = open("/dev/vfio/1", O_RDWR | O_CLOEXEC);
	TAP_CHECK(c >= 0 && g >= 0, "container, group: %s", strerror(errno));
	CHECK_OK(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	CHECK_OK(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	map.vaddr = (uintptr_t)mem;
	map.iova = VFIO_IOVA;
	map.size = MEM_SIZE;
	CHECK_OK(ioctl(c, VFIO_IOMMU_MAP_DMA, &map));
	dev = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
	TAP_CHECK(dev >= 0, "GET_DEVICE_FD: %s", strerror(errno));
	CHECK_OK(ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &bar0));
	CHECK_OK(ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &cfg));
	TAP_CHECK(pwrite(dev, &cmd, 2, (off_t)cfg.offset + PCI_COMMAND) == 2, "bus master");
	win = mmap(NULL, DT_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, dev,
		   (off_t)(bar0.offset + DT_BUF));
	TAP_CHECK(win != MAP_FAILED, "parent's BAR mapping: %s", strerror(errno));
	memset(win, 0x11, 0x100);
	TAP_CHECK(pipe2(go, O_CLOEXEC) == 0 && pipe2(ready, O_CLOEXEC) == 0, "pipe");
	pid = fork_child();
	if (!pid) {
		int want = lowest_free(), cdev;
		uint16_t vendor = 0;
		uint8_t *w, *w2;

		cdev = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:01.0");
		if (cdev != want || !cloexec(cdev) || fcntl(cdev, F_GETFL) != O_RDWR)
			_exit(1);
		if (pread(cdev, &vendor, 2, (off_t)cfg.offset + PCI_VENDOR_ID) != 2 ||
		    vendor != DT_VENDOR)
			_exit(2);
		w = mmap(NULL, DT_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, cdev,
			 (off_t)(bar0.offset + DT_BUF));
		if (w == MAP_FAILED || w[0] != 0x11 || w[0xff] != 0x11)
			_exit(3);
		/* The parent's device fd, inherited, maps the same pages too. */
		w2 = mmap(NULL, DT_BUF_SIZE, PROT_READ, MAP_SHARED, dev,
			  (off_t)(bar0.offset + DT_BUF));
		if (w2 == MAP_FAILED || w2 == w)
			_exit(4);
		memset(w, 0x22, 0x100);
		if (w2[0] != 0x22 || w2[0xff] != 0x22)
			_exit(5);
		/* The device's DMA reads what the child wrote (WRITE: the buffer's start). */
		memset(mem + 0x4000, 0, 0x100);
		if (reg_wr(cdev, bar0.offset, DT_DST, 8, VFIO_IOVA + 0x4000) ||
		    reg_wr(cdev, bar0.offset, DT_LEN, 4, 0x100) ||
		    reg_wr(cdev, bar0.offset, DT_OP, 4, OP_WRITE) ||
		    reg_wr(cdev, bar0.offset, DT_GO, 4, 1))
			_exit(6);
		if (reg_rd(cdev, bar0.offset, DT_STATUS, 4) != ST_DONE)
			_exit(7);
		for (unsigned int i = 0; i < 0x100; i++)
			if (mem[0x4000 + i] != 0x22)
				_exit(8);
		/*
		 * The parent's mapping, inherited, unmapped here: what the
		 * parent's registration holds is not the child's to drop, and
		 * the inherited device fd still works.
		 */
		if (munmap(win, DT_BUF_SIZE) ||
		    reg_rd(dev, bar0.offset, DT_STATUS, 4) != ST_DONE)
			_exit(11);
		send_byte(ready[1]);
		wait_byte(go[0]);
		if (w[0x300] != 0x33 || w2[0x300] != 0x33)
			_exit(9);
		if (munmap(w2, DT_BUF_SIZE))
			_exit(10);
		/* w stays mapped: the exit unmaps it. */
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	/* Only the child writes: its exit ends the wait. */
	close(ready[1]);
	ready[1] = -1;
	wait_byte(ready[0]);
	for (unsigned int i = 0; i < 0x100; i++)
		TAP_CHECK(win[i] == 0x22, "byte %u of the child's store", i);
	memset(win + 0x300, 0x33, 0x10);
	send_byte(go[1]);
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	CHECK_OK(munmap(win, DT_BUF_SIZE));
	close(dev);
	close(g);
	close(c);
	/* Nothing of the child's holds the group: it opens again. */
	g = open("/dev/vfio/1", O_RDWR | O_CLOEXEC);
	TAP_CHECK(g >= 0, "group again: %s", strerror(errno));
	close(g);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	munmap(mem, MEM_SIZE);
}

static int _map_file(int fd, uint32_t ioas, int mfd, uint64_t length, uint64_t *iova)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.fd = mfd,
		.length = length,
	};
	int rc = ioctl(fd, IOMMU_IOAS_MAP_FILE, &cmd);

	if (!rc)
		*iova = cmd.iova;
	return rc;
}

static int _dmabuf_cmd(int fd, struct iommu_test_cmd *cmd)
{
	return _test_cmd(fd, cmd);
}

/*
 * A child's DMABUF_GET and MAP_FILE: the dma-buf fd is the child's number,
 * and MAP_FILE of it, and of a memfd of the child's own, maps the child's
 * files (not the owner's files of the same numbers: the parent holds a
 * decoy memfd at the number the child's memfd gets).
 */
static void test_dmabuf(void *arg)
{
	int fd = iommufd_open(), decoy = memfd_create("decoy", MFD_CLOEXEC);
	uint32_t ioas = ioas_alloc(fd);
	struct shim_mock_dev md = mock_domain(fd, ioas);
	pid_t pid;

	(void)arg;
	TAP_CHECK(decoy >= 0 && ftruncate(decoy, BUF_SIZE) == 0, "decoy memfd");
	pid = fork_child();
	if (!pid) {
		struct iommu_test_cmd get = {
			.op = IOMMU_TEST_OP_DMABUF_GET,
			.dmabuf_get = {.length = BUF_SIZE, .open_flags = O_CLOEXEC},
		};
		struct iommu_test_cmd check = {.op = IOMMU_TEST_OP_MD_CHECK_DMABUF, .id = md.hwpt};
		struct iommu_test_cmd revoke = {.op = IOMMU_TEST_OP_DMABUF_REVOKE};
		struct iommu_test_cmd acc = {.op = IOMMU_TEST_OP_CREATE_ACCESS, .id = ioas};
		uint64_t iova, miova;
		int want = lowest_free(), dfd, mfd;
		uint8_t pat[64], in[64];

		dfd = _dmabuf_cmd(fd, &get);
		if (dfd != want || !cloexec(dfd))
			_exit(1);
		if (_map_file(fd, ioas, dfd, BUF_SIZE, &iova))
			_exit(2);
		check.check_dmabuf.dmabuf_fd = dfd;
		check.check_dmabuf.iova = iova;
		check.check_dmabuf.length = BUF_SIZE;
		if (_dmabuf_cmd(fd, &check))
			_exit(3);
		revoke.dmabuf_revoke.dmabuf_fd = dfd;
		revoke.dmabuf_revoke.revoked = 1;
		if (_dmabuf_cmd(fd, &revoke) || _dmabuf_cmd(fd, &check) != -1 || errno != EINVAL)
			_exit(4);
		if (_ioas_unmap(fd, ioas, iova, BUF_SIZE))
			_exit(5);
		/* The decoy's number becomes the child's own memfd. */
		close(decoy);
		mfd = memfd_create("child", MFD_CLOEXEC);
		if (mfd != decoy || ftruncate(mfd, BUF_SIZE))
			_exit(6);
		for (unsigned int i = 0; i < sizeof(pat); i++)
			pat[i] = (uint8_t)(0x80 + i);
		if (pwrite(mfd, pat, sizeof(pat), 100) != sizeof(pat))
			_exit(7);
		if (_map_file(fd, ioas, mfd, BUF_SIZE, &miova))
			_exit(8);
		if (_test_cmd(fd, &acc) ||
		    _access_rw(fd, (int)acc.create_access.out_access_fd, miova + 100, in,
			       sizeof(in), false) ||
		    memcmp(in, pat, sizeof(in)))
			_exit(9);
		if (_ioas_unmap(fd, ioas, miova, BUF_SIZE))
			_exit(10);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	close(decoy);
	CHECK_OK(close(fd));
}

/*
 * The owner's child forks: the grandchild's ioctls act on the owner's
 * context, on the inherited iommufd and on an access fd its parent made.
 */
static void test_grandchild(void *arg)
{
	int fd = iommufd_open(), res[2];
	char r = 1;
	uint32_t ioas = ioas_alloc(fd), ioas2 = 0;
	uint64_t iova = IOVA;
	pid_t pid;

	(void)arg;
	memset(shared_buf, 0x4d, BUF_SIZE);
	CHECK_OK(_ioas_map(fd, ioas, shared_buf, BUF_SIZE, &iova));
	pid = fork_child();
	if (!pid) {
		struct iommu_test_cmd cmd = {.op = IOMMU_TEST_OP_CREATE_ACCESS, .id = ioas};
		int afd, status;
		pid_t gc;

		if (_test_cmd(fd, &cmd))
			_exit(1);
		afd = (int)cmd.create_access.out_access_fd;
		gc = fork();
		if (!gc) {
			uint8_t in[32];
			uint32_t id;

			if (_ioas_alloc(fd, &id))
				_exit(1);
			memcpy(shared_buf + BUF_SIZE - 4, &id, 4);
			if (_access_rw(fd, afd, iova + 8, in, sizeof(in), false))
				_exit(2);
			for (unsigned int i = 0; i < sizeof(in); i++)
				if (in[i] != 0x4d)
					_exit(3);
			_exit(0);
		}
		if (gc < 0 || waitpid(gc, &status, 0) != gc || !WIFEXITED(status))
			_exit(2);
		if (WEXITSTATUS(status))
			_exit(10 + WEXITSTATUS(status));
		/* The grandchild's IOAS is in the owner's context. */
		memcpy(&ioas2, shared_buf + BUF_SIZE - 4, 4);
		if (_ioas_ranges(fd, ioas2))
			_exit(3);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	memcpy(&ioas2, shared_buf + BUF_SIZE - 4, 4);
	CHECK_OK(_ioas_ranges(fd, ioas2));
	CHECK_OK(_destroy(fd, ioas2));

	/* A grandchild whose parent has exited still reaches the owner. */
	TAP_CHECK(pipe(res) == 0, "pipe");
	pid = fork_child();
	if (!pid) {
		int gone[2];
		pid_t gc;

		if (pipe(gone))
			_exit(1);
		gc = fork();
		if (!gc) {
			char v;

			close(gone[1]);
			close(res[0]);
			/* EOF: the parent has exited. */
			wait_byte(gone[0]);
			v = _ioas_ranges(fd, ioas) ? 1 : 0;
			(void)!write(res[1], &v, 1);
			_exit(0);
		}
		_exit(gc > 0 ? 0 : 2);
	}
	close(res[1]);
	TAP_CHECK(pid > 0, "fork: %s", strerror(errno));
	TAP_CHECK_EQ(wait_child(pid), 0, "middle child");
	TAP_CHECK_EQ(read(res[0], &r, 1), 1, "the orphan's result");
	TAP_CHECK_EQ(r, 0, "the orphan's ioctl");
	/* EOF once it has exited, and so (uiommu_process_exit()) its channel is gone. */
	TAP_CHECK_EQ(read(res[0], &r, 1), 0, "the orphan's exit");
	close(res[0]);
	CHECK_OK(_ioas_unmap(fd, ioas, iova, BUF_SIZE));
	CHECK_OK(close(fd));
}

/*
 * What the owner keeps for a child (the channel, a served file's backing
 * fd, the file itself) goes when the child exits: the owner's fd count
 * and its context's objects are as before.
 */
static void test_leaks(void *arg)
{
	int fd = iommufd_open(), before;
	uint32_t ioas = ioas_alloc(fd);
	pid_t pid;

	(void)arg;
	before = count_fds();
	pid = fork_child();
	if (!pid) {
		uint32_t fault_id;
		int ffd;

		/* Left open on purpose: the exit closes it. */
		_exit(_fault_alloc(fd, &fault_id, &ffd) ? 1 : 0);
	}
	TAP_CHECK(pid > 0, "fork");
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	TAP_CHECK_EQ(count_fds(), before, "the owner's fds");
	/* The fault object's fd is gone: destroying it is no longer EBUSY. */
	CHECK_OK(_destroy(fd, ioas + 1));
	CHECK_OK(close(fd));
}

/* ---------------------------------------------------------------------- */
/* F_GETFL / F_SETFL                                                      */

static void test_fcntl(void *arg)
{
	static const int acc[] = {O_RDONLY, O_WRONLY, O_RDWR};
	static const int extra[] = {0, O_NONBLOCK, O_CLOEXEC, O_APPEND | O_NONBLOCK, O_NOFOLLOW};
	static const int setfl[] = {0, O_NONBLOCK, O_APPEND, O_NONBLOCK | O_RDONLY | O_CREAT,
				    O_DIRECT, O_NOATIME};
	int fd, ref, dupfd, efd, pid, ffd;
	uint32_t fault_id;

	(void)arg;
	for (unsigned int a = 0; a < ARRAY_SIZE_T(acc); a++) {
		for (unsigned int x = 0; x < ARRAY_SIZE_T(extra); x++) {
			int flags = acc[a] | extra[x];

			fd = open("/dev/iommu", flags);
			ref = open("/dev/null", flags);
			TAP_CHECK(fd >= 0 && ref >= 0, "open 0x%x: %s", flags, strerror(errno));
			TAP_CHECK_EQ(fcntl(fd, F_GETFL), fcntl(ref, F_GETFL), "F_GETFL of 0x%x",
				     flags);
			TAP_CHECK_EQ(fcntl(fd, F_GETFD), fcntl(ref, F_GETFD), "F_GETFD of 0x%x",
				     flags);
			for (unsigned int s = 0; s < ARRAY_SIZE_T(setfl); s++) {
				int r1 = fcntl(fd, F_SETFL, setfl[s]), e1 = errno;
				int r2 = fcntl(ref, F_SETFL, setfl[s]), e2 = errno;

				TAP_CHECK(r1 == r2 && (r1 == 0 || e1 == e2),
					  "F_SETFL 0x%x on 0x%x: %d/%d errno %d/%d", setfl[s],
					  flags, r1, r2, e1, e2);
				TAP_CHECK_EQ(fcntl(fd, F_GETFL), fcntl(ref, F_GETFL),
					     "F_GETFL after F_SETFL 0x%x on 0x%x", setfl[s], flags);
			}
			close(fd);
			close(ref);
		}
	}

	/* O_PATH: only O_PATH (and O_NOFOLLOW) shows; F_SETFL is EBADF. */
	fd = open("/dev/iommu", O_PATH | O_NOFOLLOW);
	ref = open("/dev/null", O_PATH | O_NOFOLLOW);
	TAP_CHECK(fd >= 0 && ref >= 0, "O_PATH opens");
	TAP_CHECK_EQ(fcntl(fd, F_GETFL), fcntl(ref, F_GETFL), "O_PATH F_GETFL");
	CHECK_ERRNO(EBADF, fcntl(ref, F_SETFL, O_NONBLOCK));
	CHECK_ERRNO(EBADF, fcntl(fd, F_SETFL, O_NONBLOCK));
	close(fd);
	close(ref);

	/* The flags are the file's: a dup shares them, F_GETFD is the number's. */
	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	dupfd = dup(fd);
	TAP_CHECK(dupfd >= 0, "dup");
	TAP_CHECK(cloexec(fd) && !cloexec(dupfd), "FD_CLOEXEC per number");
	CHECK_OK(fcntl(dupfd, F_SETFL, O_NONBLOCK));
	TAP_CHECK_EQ(fcntl(fd, F_GETFL) & (O_NONBLOCK | O_ACCMODE), O_NONBLOCK | O_RDWR,
		     "the dup's O_NONBLOCK on the first number");
	CHECK_OK(fcntl(fd, F_SETFL, 0));
	close(dupfd);

	/* An anonymous file (a fault queue) is O_RDWR only, as an eventfd is. */
	efd = eventfd(0, EFD_CLOEXEC);
	CHECK_OK(_fault_alloc(fd, &fault_id, &ffd));
	TAP_CHECK_EQ(fcntl(ffd, F_GETFL), fcntl(efd, F_GETFL), "anonymous F_GETFL");
	TAP_CHECK(cloexec(ffd), "fault fd close-on-exec");
	CHECK_OK(fcntl(ffd, F_SETFL, O_NONBLOCK));
	TAP_CHECK_EQ(fcntl(ffd, F_GETFL), O_RDWR | O_NONBLOCK, "fault fd O_NONBLOCK");
	close(efd);

	/* A child shares the open file: its F_SETFL is the parent's F_GETFL. */
	pid = fork_child();
	if (!pid) {
		int got = fcntl(fd, F_GETFL);

		if (got != fcntl(fd, F_GETFL) || (got & O_ACCMODE) != O_RDWR || (got & O_NONBLOCK))
			_exit(1);
		if (fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND))
			_exit(2);
		if (fcntl(ffd, F_GETFL) != (O_RDWR | O_NONBLOCK))
			_exit(3);
		/* FD_CLOEXEC stayed with the number. */
		if (!cloexec(fd))
			_exit(4);
		_exit(0);
	}
	TAP_CHECK(pid > 0, "fork");
	TAP_CHECK_EQ(wait_child(pid), 0, "child step");
	TAP_CHECK_EQ(fcntl(fd, F_GETFL) & (O_NONBLOCK | O_APPEND), O_NONBLOCK | O_APPEND,
		     "the child's F_SETFL");
	close(ffd);
	CHECK_OK(close(fd));
}

int main(void)
{
	shim_check_preloaded();
	shared_buf =
		mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared_buf == MAP_FAILED) {
		printf("Bail out! mmap\n");
		return 1;
	}
	tap_plan(9);
	tap_run("F_GETFL / F_SETFL / F_GETFD as a character device's, O_PATH, dup, child",
		test_fcntl, NULL);
	tap_run("a child's fault queue: its number, the parent's page request", test_fault_queue,
		NULL);
	tap_run("a child's vEVENTQ: the event the parent triggers", test_veventq, NULL);
	tap_run("a child's selftest access, named by its number", test_access, NULL);
	tap_run("a child maps the vIOMMU region: the same pages as the parent's", test_viommu_mmap,
		NULL);
	tap_run("a child's VFIO device fd, BAR mapping and DMA", test_vfio, NULL);
	tap_run("a child's dma-buf and MAP_FILE of its own memfd", test_dmabuf, NULL);
	tap_run("a grandchild acts on the owner's context", test_grandchild, NULL);
	tap_run("nothing is left once the children are gone", test_leaks, NULL);
	return tap_done();
}
