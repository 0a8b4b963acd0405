// SPDX-License-Identifier: MIT
/*
 * Fault queues (reference iommufd.md §4.6) through real ioctls and the fault
 * fd: FAULT_QUEUE_ALLOC, page requests from the mock (TRIGGER_IOPF) and,
 * for multi-fault groups, from the core's sink directly; read / write /
 * poll rules (ESPIPE, whole groups, cookies, partial writes), poll(2) on
 * the real fd, INVALID auto-responses when an attachment ends, and the
 * lifetime of the object, its fd and the context.
 */
#include <sys/stat.h>

#include "hw/mock/mock.h"
#include "iommufd_internal.h"
#include "iommufd_objs.h"

#define FSZ sizeof(struct iommu_hwpt_pgfault)

/* A device on a nested HWPT whose faults go to a fresh queue. */
struct iopf_setup {
	uint32_t ioas, parent, iopf_hwpt, fault_id;
	int fault_fd;
	struct mock_dev_ids d;
};

static void iopf_setup(struct iopf_setup *s)
{
	s->ioas = ioas_alloc();
	s->d = mock_domain(s->ioas, 0);
	s->parent = hwpt_alloc(s->d.idev, s->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	CHECK_OK(_fault_alloc(&s->fault_id, &s->fault_fd));
	TAP_CHECK(s->fault_id && s->fault_fd > 2, "ids %u %d", s->fault_id, s->fault_fd);
	CHECK_OK(_hwpt_alloc_nested(s->d.idev, s->parent, IOMMU_HWPT_FAULT_ID_VALID, s->fault_id,
				    &s->iopf_hwpt));
	CHECK_OK(_mock_domain_replace(s->d.stdev, s->iopf_hwpt, NULL));
}

static struct udev *idev_udev(uint32_t idev_id)
{
	struct iommufd_device *idev = iommufd_get_device(test_ictx(), idev_id);
	struct udev *dev;

	TAP_CHECK(!IS_ERR(idev), "device %u", idev_id);
	dev = idev->dev;
	iommufd_put_object(test_ictx(), &idev->obj);
	return dev;
}

static int poll_fd(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, 0);

	TAP_CHECK(n >= 0, "poll: %s", strerror(errno));
	return n ? p.revents : 0;
}

static void test_alloc_and_lifetime(void *arg)
{
	struct iommu_fault_alloc cmd = {.size = sizeof(cmd), .flags = 1};
	unsigned int files = ufile_count();
	uint32_t fault_id, next;
	int fault_fd, fl;

	iommufd_setup();
	next = next_free_id();
	CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_FAULT_QUEUE_ALLOC, &cmd));
	TAP_CHECK_EQ(next_free_id(), next, "no ID consumed");
	CHECK_OK(_fault_alloc(&fault_id, &fault_fd));
	TAP_CHECK_EQ(fault_id, next, "ID");
	/* A real, close-on-exec fd. */
	fl = fcntl(fault_fd, F_GETFD);
	TAP_CHECK(fl >= 0 && (fl & FD_CLOEXEC), "FD_CLOEXEC: %d", fl);
	/* Empty: reads 0, never blocks; always writable; not readable. */
	{
		struct iommu_hwpt_pgfault f;

		TAP_CHECK_EQ(uiommu_read(fd_file(fault_fd), &f, FSZ), 0, "empty read");
	}
	TAP_CHECK_EQ(uiommu_poll(fd_file(fault_fd), POLLIN | POLLOUT), POLLOUT, "poll");
	TAP_CHECK_EQ(poll_fd(fault_fd, POLLIN), 0, "poll(2)");
	/* The fd holds the object. */
	CHECK_ERRNO(EBUSY, _destroy(fault_id));
	CHECK_OK(fd_close(fault_fd));
	CHECK_OK(_destroy(fault_id));

	/* The fd keeps the context alive after the iommufd is closed. */
	CHECK_OK(_fault_alloc(&fault_id, &fault_fd));
	iommufd_teardown();
	TAP_CHECK_EQ(ufile_count(), files + 1, "context kept by the fault fd");
	CHECK_OK(fd_close(fault_fd));
	TAP_CHECK_EQ(ufile_count(), files, "all released");
}

static void test_read_write(void *arg)
{
	struct iommu_hwpt_page_response resp[2];
	struct iommu_hwpt_pgfault f[3];
	struct iommu_page_response last;
	struct iopf_setup s;
	struct uiommu_file *ff;
	unsigned int nresp;
	struct udev *dev;

	iommufd_setup();
	iopf_setup(&s);
	ff = fd_file(s.fault_fd);
	dev = idev_udev(s.d.idev);
	nresp = mock_dev_page_responses(dev, NULL);

	CHECK_OK(_trigger_iopf(s.d.idev, 1, 2, 0xdeadbeef));
	TAP_CHECK_EQ(poll_fd(s.fault_fd, POLLIN), POLLIN, "poll(2) readable");
	TAP_CHECK_EQ(uiommu_poll(ff, POLLIN | POLLOUT), POLLIN | POLLOUT, "uiommu_poll");
	/* Record-sized counts only. */
	CHECK_ERRNO(ESPIPE, uiommu_read(ff, f, FSZ - 1));
	CHECK_ERRNO(ESPIPE, uiommu_read(ff, f, FSZ + 1));
	TAP_CHECK_EQ(uiommu_read(ff, f, 0), 0, "count 0");
	CHECK_ERRNO(EFAULT, uiommu_read(ff, (void *)(uintptr_t)0x10000000000ULL, FSZ));
	TAP_CHECK_EQ(uiommu_read(ff, f, 3 * FSZ), (ssize_t)FSZ, "one record");
	TAP_CHECK(f[0].flags == (IOMMU_PGFAULT_FLAGS_LAST_PAGE | IOMMU_PGFAULT_FLAGS_PASID_VALID) &&
			  f[0].dev_id == s.d.idev && f[0].pasid == 1 && f[0].grpid == 2 &&
			  f[0].perm == (IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_WRITE) &&
			  f[0].addr == 0xdeadbeef && f[0].length == 0 && f[0].cookie == 1,
		  "record: flags %#x dev %u pasid %u grp %u perm %#x addr %#llx cookie %u",
		  f[0].flags, f[0].dev_id, f[0].pasid, f[0].grpid, f[0].perm,
		  (unsigned long long)f[0].addr, f[0].cookie);
	TAP_CHECK_EQ(poll_fd(s.fault_fd, POLLIN), 0, "read: not readable");
	TAP_CHECK_EQ(uiommu_read(ff, f, FSZ), 0, "nothing left");

	/* Responses: sizes, codes, cookies. */
	CHECK_ERRNO(ESPIPE, uiommu_write(ff, resp, 7));
	resp[0] = (struct iommu_hwpt_page_response){.cookie = f[0].cookie, .code = 2};
	CHECK_ERRNO(EINVAL, uiommu_write(ff, resp, sizeof(resp[0])));
	resp[0] = (struct iommu_hwpt_page_response){.cookie = 77};
	CHECK_ERRNO(EINVAL, uiommu_write(ff, resp, sizeof(resp[0])));
	resp[0] = (struct iommu_hwpt_page_response){.cookie = 0};
	CHECK_ERRNO(EINVAL, uiommu_write(ff, resp, sizeof(resp[0])));
	CHECK_ERRNO(EFAULT, uiommu_write(ff, (void *)(uintptr_t)0x10000000000ULL, 8));
	TAP_CHECK_EQ(mock_dev_page_responses(dev, NULL), nresp, "nothing answered yet");
	/* One good, one bad: the good one is consumed, partial success. */
	resp[0] = (struct iommu_hwpt_page_response){.cookie = f[0].cookie,
						    .code = IOMMUFD_PAGE_RESP_SUCCESS};
	resp[1] = (struct iommu_hwpt_page_response){.cookie = 5};
	TAP_CHECK_EQ(uiommu_write(ff, resp, sizeof(resp)), 8, "partial write");
	TAP_CHECK_EQ(mock_dev_page_responses(dev, &last), nresp + 1, "answered");
	TAP_CHECK(last.code == IOMMUFD_PAGE_RESP_SUCCESS && last.grpid == 2 && last.pasid == 1,
		  "response %u %u %u", last.code, last.grpid, last.pasid);
	/* The cookie is gone; cookies are reused lowest first. */
	CHECK_ERRNO(EINVAL, uiommu_write(ff, resp, sizeof(resp[0])));
	CHECK_OK(_trigger_iopf(s.d.idev, 0, 3, 0x1000));
	CHECK_OK(_trigger_iopf(s.d.idev, 0, 4, 0x2000));
	TAP_CHECK_EQ(uiommu_read(ff, f, 3 * FSZ), (ssize_t)(2 * FSZ), "two groups");
	TAP_CHECK(f[0].cookie == 1 && f[1].cookie == 2 && f[0].grpid == 3 && f[1].grpid == 4 &&
			  f[0].flags == IOMMU_PGFAULT_FLAGS_LAST_PAGE,
		  "cookies %u %u flags %#x", f[0].cookie, f[1].cookie, f[0].flags);
	resp[0] = (struct iommu_hwpt_page_response){.cookie = 2, .code = IOMMUFD_PAGE_RESP_INVALID};
	resp[1] = (struct iommu_hwpt_page_response){.cookie = 1};
	TAP_CHECK_EQ(uiommu_write(ff, resp, sizeof(resp)), (ssize_t)sizeof(resp), "both");
	TAP_CHECK_EQ(mock_dev_page_responses(dev, &last), nresp + 3, "answered");
	TAP_CHECK(last.grpid == 3 && last.code == IOMMUFD_PAGE_RESP_SUCCESS, "in write order");

	/* A bad device: ENOENT; a device with no fault queue: 0, the model answers INVALID. */
	CHECK_ERRNO(ENOENT, _trigger_iopf(9999, 0, 1, 0));
	CHECK_OK(_mock_domain_replace(s.d.stdev, s.parent, NULL));
	nresp = mock_dev_page_responses(dev, NULL);
	CHECK_OK(_trigger_iopf(s.d.idev, 0, 9, 0));
	TAP_CHECK_EQ(mock_dev_page_responses(dev, &last), nresp + 1, "model answered");
	TAP_CHECK(last.code == IOMMUFD_PAGE_RESP_INVALID && last.grpid == 9, "INVALID");
	TAP_CHECK_EQ(uiommu_read(ff, f, FSZ), 0, "nothing queued");
	iommufd_teardown();
	CHECK_OK(fd_close(s.fault_fd));
}

/* A fault through the core's sink, as a model delivering PRI would (LAST_PAGE optional). */
static int report(uint32_t hwpt_id, struct udev *dev, uint32_t grpid, uint64_t addr, bool last)
{
	struct iommufd_object *obj = iommufd_get_object(test_ictx(), hwpt_id, IOMMUFD_OBJ_ANY);
	struct iopf_fault f = {
		.flags = last ? IOMMU_PGFAULT_FLAGS_LAST_PAGE : 0,
		.grpid = grpid,
		.perm = IOMMU_PGFAULT_PERM_READ,
		.addr = addr,
	};
	struct iommu_domain *domain;
	int rc;

	TAP_CHECK(!IS_ERR(obj), "HWPT %u", hwpt_id);
	domain = to_hwpt(obj)->domain;
	rc = domain->sink->report_iopf(domain, dev, &f);
	iommufd_put_object(test_ictx(), obj);
	return rc;
}

static void test_groups(void *arg)
{
	struct iommu_hwpt_pgfault f[4];
	struct iommu_hwpt_page_response resp;
	struct iommu_page_response last;
	struct iopf_setup s;
	struct uiommu_file *ff;
	struct udev *dev;
	unsigned int n;

	iommufd_setup();
	iopf_setup(&s);
	ff = fd_file(s.fault_fd);
	dev = idev_udev(s.d.idev);
	n = mock_dev_page_responses(dev, NULL);

	/* Partial faults wait for their last page. */
	CHECK_OK(report(s.iopf_hwpt, dev, 7, 0x1000, false));
	CHECK_OK(report(s.iopf_hwpt, dev, 8, 0x9000, false));
	CHECK_OK(report(s.iopf_hwpt, dev, 7, 0x2000, false));
	TAP_CHECK_EQ(uiommu_read(ff, f, 4 * FSZ), 0, "incomplete groups are not readable");
	TAP_CHECK_EQ(poll_fd(s.fault_fd, POLLIN), 0, "not readable");
	CHECK_OK(report(s.iopf_hwpt, dev, 7, 0x3000, true));
	TAP_CHECK_EQ(poll_fd(s.fault_fd, POLLIN), POLLIN, "readable");
	/* A group is read whole or not at all. */
	TAP_CHECK_EQ(uiommu_read(ff, f, 2 * FSZ), 0, "does not fit");
	TAP_CHECK_EQ(uiommu_read(ff, f, 4 * FSZ), (ssize_t)(3 * FSZ), "the group");
	TAP_CHECK(f[0].addr == 0x1000 && f[1].addr == 0x2000 && f[2].addr == 0x3000 &&
			  f[0].cookie == f[2].cookie && f[0].grpid == 7 && !f[0].flags &&
			  f[2].flags == IOMMU_PGFAULT_FLAGS_LAST_PAGE,
		  "group in order, one cookie");
	/* One response completes the whole group. */
	resp = (struct iommu_hwpt_page_response){.cookie = f[0].cookie};
	TAP_CHECK_EQ(uiommu_write(ff, &resp, sizeof(resp)), (ssize_t)sizeof(resp), "respond");
	TAP_CHECK_EQ(mock_dev_page_responses(dev, &last), n + 1, "one response");

	/* Leaving the HWPT: queued and unanswered groups get INVALID, partials vanish. */
	CHECK_OK(_trigger_iopf(s.d.idev, 0, 20, 0));
	CHECK_OK(_trigger_iopf(s.d.idev, 0, 21, 0));
	TAP_CHECK_EQ(uiommu_read(ff, f, FSZ), (ssize_t)FSZ, "read one");
	n = mock_dev_page_responses(dev, NULL);
	CHECK_OK(_mock_domain_replace(s.d.stdev, s.parent, NULL));
	TAP_CHECK_EQ(mock_dev_page_responses(dev, &last), n + 2, "auto responses");
	TAP_CHECK_EQ(last.code, IOMMUFD_PAGE_RESP_INVALID, "INVALID");
	TAP_CHECK_EQ(uiommu_read(ff, f, 4 * FSZ), 0, "queue emptied");
	resp = (struct iommu_hwpt_page_response){.cookie = f[0].cookie};
	CHECK_ERRNO(EINVAL, uiommu_write(ff, &resp, sizeof(resp)));
	/* The partial group of 8 went too: a last page alone completes a new group. */
	CHECK_OK(_mock_domain_replace(s.d.stdev, s.iopf_hwpt, NULL));
	CHECK_OK(report(s.iopf_hwpt, dev, 8, 0xa000, true));
	TAP_CHECK_EQ(uiommu_read(ff, f, 4 * FSZ), (ssize_t)FSZ, "just the last page");

	/* Destroying the device (detach) answers too. */
	CHECK_OK(_trigger_iopf(s.d.idev, 0, 30, 0));
	CHECK_OK(_destroy(s.d.stdev));
	TAP_CHECK_EQ(uiommu_read(ff, f, 4 * FSZ), 0, "queue emptied");
	CHECK_OK(_destroy(s.iopf_hwpt));
	CHECK_OK(fd_close(s.fault_fd));
	CHECK_OK(_destroy(s.fault_id));
	iommufd_teardown();
}

static void test_vfio_style_poll(void *arg)
{
	struct iommu_hwpt_pgfault f;
	struct iopf_setup s;
	struct pollfd p;

	iommufd_setup();
	iopf_setup(&s);
	/* A blocking poll(2) with a timeout returns as soon as a fault is queued. */
	CHECK_OK(_trigger_iopf(s.d.idev, 0, 1, 0x5000));
	p = (struct pollfd){.fd = s.fault_fd, .events = POLLIN};
	TAP_CHECK_EQ(poll(&p, 1, 1000), 1, "poll");
	TAP_CHECK(p.revents & POLLIN, "POLLIN");
	TAP_CHECK_EQ(uiommu_read(fd_file(s.fault_fd), &f, FSZ), (ssize_t)FSZ, "read");
	/* Closing the iommufd with a fault unanswered: the context goes when the fd does. */
	iommufd_teardown();
	CHECK_OK(fd_close(s.fault_fd));
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 0, "nothing pinned");
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"FAULT_QUEUE_ALLOC: errnos, fd, lifetime of object and context",
		 test_alloc_and_lifetime},
		{"fault fd read/write: ESPIPE, records, cookies, partial writes, poll",
		 test_read_write},
		{"groups: partial faults, whole-group reads, auto INVALID responses", test_groups},
		{"poll(2) wakes on a fault; close with faults pending", test_vfio_style_poll},
	};

	buffer_init();
	tap_plan(ARRAY_SIZE_T(tests));
	for (unsigned int i = 0; i < ARRAY_SIZE_T(tests); i++) {
		tap_run(tests[i].name, tests[i].fn, NULL);
		if (self_file) {
			uiommu_close(self_file);
			self_file = NULL;
		}
	}
	return tap_done();
}
