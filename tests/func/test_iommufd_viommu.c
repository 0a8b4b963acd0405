// SPDX-License-Identifier: MIT
/*
 * vIOMMU, vDEVICE, vEVENTQ and HW queues (reference iommufd.md §4.7)
 * through real ioctls, mmap() and the vEVENTQ fd:
 *
 *  - VIOMMU_ALLOC errnos, driver data in and out, the mmap region
 *    (ENXIO / EINVAL / EPERM, EBUSY while mapped, partial munmap);
 *  - VDEVICE_ALLOC: EEXIST both ways, ENOENT, required before attaching to
 *    a vIOMMU's nested HWPT, tombstone when the device goes;
 *  - vIOMMU invalidation of the device cache, entry_num write-back;
 *  - VEVENTQ_ALLOC errnos, one per type, records, the LOST_EVENTS header,
 *    sequence numbers wrapping at INT_MAX, poll(2);
 *  - HW queues: errnos, the model's index rules, the locked area (UNMAP
 *    EBUSY), the dependency order, contiguity (EFAULT);
 *  - closing a context with all of it alive frees everything.
 */
#include <limits.h>

#include "hw/mock/mock.h"
#include "iommufd_internal.h"
#include "iommufd_objs.h"

/* A device, a NEST_PARENT HWPT, a vIOMMU on it and a nested HWPT of the vIOMMU. */
struct vsetup {
	uint32_t ioas, parent, viommu, nested;
	struct mock_dev_ids d;
};

static void vsetup(struct vsetup *v)
{
	v->ioas = ioas_alloc();
	v->d = mock_domain(v->ioas, 0);
	v->parent = hwpt_alloc(v->d.idev, v->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	CHECK_OK(_viommu_alloc(v->d.idev, v->parent, IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0,
			       &v->viommu));
	v->nested = hwpt_alloc_nested(v->d.idev, v->viommu, 0);
}

static void test_viommu_alloc(void *arg)
{
	struct iommu_viommu_alloc cmd;
	uint32_t ioas, hwpt, viommu, nested, next;
	struct mock_dev_ids d;
	struct vsetup v;

	iommufd_setup();
	ioas = ioas_alloc();
	d = mock_domain(ioas, 0);
	hwpt = hwpt_alloc(d.idev, ioas, 0);
	vsetup(&v);
	next = next_free_id();

	cmd = (struct iommu_viommu_alloc){.size = sizeof(cmd),
					  .flags = 1,
					  .type = IOMMU_VIOMMU_TYPE_SELFTEST,
					  .dev_id = v.d.idev,
					  .hwpt_id = v.parent};
	CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_VIOMMU_ALLOC, &cmd));
	CHECK_ERRNO(EOPNOTSUPP,
		    _viommu_alloc(v.d.idev, v.parent, IOMMU_VIOMMU_TYPE_DEFAULT, NULL, 0, &viommu));
	CHECK_ERRNO(ENOENT,
		    _viommu_alloc(9999, v.parent, IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0, &viommu));
	CHECK_ERRNO(ENOENT,
		    _viommu_alloc(v.d.idev, 0, IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0, &viommu));
	CHECK_ERRNO(ENOENT, _viommu_alloc(v.d.idev, v.nested, IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0,
					  &viommu));
	CHECK_ERRNO(EINVAL,
		    _viommu_alloc(v.d.idev, hwpt, IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0, &viommu));
	CHECK_ERRNO(EOPNOTSUPP, _viommu_alloc(v.d.idev, v.parent, 0xdead, NULL, 0, &viommu));
	/* Driver data: too short, NULL. */
	{
		struct iommu_viommu_selftest data = {.in_data = 0xbeef};

		CHECK_ERRNO(EINVAL, _viommu_alloc(v.d.idev, v.parent, IOMMU_VIOMMU_TYPE_SELFTEST,
						  &data, 4, &viommu));
		CHECK_ERRNO(EFAULT, _viommu_alloc(v.d.idev, v.parent, IOMMU_VIOMMU_TYPE_SELFTEST,
						  NULL, sizeof(data), &viommu));
	}
	TAP_CHECK_EQ(next_free_id(), next, "no ID consumed");
	/* The parent and the vIOMMU are busy; the nested HWPT holds the vIOMMU. */
	CHECK_ERRNO(EBUSY, _destroy(v.parent));
	CHECK_ERRNO(EBUSY, _destroy(v.viommu));
	/* A nested HWPT on a vIOMMU: flags and data rules. */
	CHECK_ERRNO(EOPNOTSUPP, _hwpt_alloc_nested(v.d.idev, v.viommu, IOMMU_HWPT_ALLOC_NEST_PARENT,
						   0, &nested));
	CHECK_ERRNO(EOPNOTSUPP,
		    _hwpt_alloc_nested(v.d.idev, v.viommu, IOMMU_HWPT_FAULT_ID_VALID | (1u << 31),
				       0, &nested));
	CHECK_ERRNO(ENOENT, _hwpt_alloc_nested(v.d.idev, v.viommu, IOMMU_HWPT_FAULT_ID_VALID,
					       UINT32_MAX, &nested));
	CHECK_OK(_destroy(v.nested));
	CHECK_OK(_destroy(v.viommu));
	CHECK_OK(_destroy(v.parent));
	iommufd_teardown();
}

static void test_viommu_mmap(void *arg)
{
	struct iommu_viommu_selftest data = {.in_data = 0xbeef};
	unsigned int files = ufile_count();
	uint32_t viommu;
	uint32_t *map, *map2;
	struct vsetup v;
	uint64_t off, len;

	iommufd_setup();
	vsetup(&v);
	CHECK_OK(_viommu_alloc(v.d.idev, v.parent, IOMMU_VIOMMU_TYPE_SELFTEST, &data, sizeof(data),
			       &viommu));
	TAP_CHECK_EQ(data.out_data, data.in_data, "out_data");
	off = data.out_mmap_offset;
	len = data.out_mmap_length;
	TAP_CHECK(off && len == 2 * PAGE_SIZE && !(off % PAGE_SIZE), "region %llx+%llx",
		  (unsigned long long)off, (unsigned long long)len);

	/* Offset and length are exactly the region's. */
#define MMAP(l, o, prot, flags) uiommu_mmap(self_file, NULL, (l), (prot), (flags), (off_t)(o))
	errno = 0;
	TAP_CHECK(MMAP(len, off + PAGE_SIZE, PROT_READ, MAP_SHARED) == MAP_FAILED && errno == ENXIO,
		  "offset + page: %s", strerror(errno));
	TAP_CHECK(MMAP(len, off + 2 * PAGE_SIZE, PROT_READ, MAP_SHARED) == MAP_FAILED &&
			  errno == ENXIO,
		  "offset + 2 pages");
	TAP_CHECK(MMAP(len / 2, off, PROT_READ, MAP_SHARED) == MAP_FAILED && errno == ENXIO,
		  "half");
	TAP_CHECK(MMAP(len * 2, off, PROT_READ, MAP_SHARED) == MAP_FAILED && errno == ENXIO,
		  "double");
	TAP_CHECK(MMAP(len, off, PROT_READ, MAP_PRIVATE) == MAP_FAILED && errno == EINVAL,
		  "private: %s", strerror(errno));
	TAP_CHECK(MMAP(len, off, PROT_READ | PROT_EXEC, MAP_SHARED) == MAP_FAILED && errno == EPERM,
		  "exec");
	TAP_CHECK(MMAP(len - 1, off, PROT_READ, MAP_SHARED) == MAP_FAILED && errno == EINVAL,
		  "unaligned length");

	map = MMAP(len, off, PROT_READ | PROT_WRITE, MAP_SHARED);
	TAP_CHECK(map != MAP_FAILED, "mmap: %s", strerror(errno));
	TAP_CHECK_EQ(map[0], data.in_data, "loopback");
	/* The same memory as the model's: a second mapping sees a write through the first. */
	map2 = MMAP(len, off, PROT_READ, MAP_SHARED);
	TAP_CHECK(map2 != MAP_FAILED, "second mmap");
	map[1] = 0x12345678;
	TAP_CHECK_EQ(map2[1], 0x12345678, "shared");
	{
		struct iommufd_viommu *o = iommufd_get_viommu(test_ictx(), viommu);

		TAP_CHECK(!IS_ERR(o), "viommu");
		TAP_CHECK_EQ(((uint32_t *)o->core->mmap_base)[1], 0x12345678, "model sees it");
		iommufd_put_object(test_ictx(), &o->obj);
	}
	/* Busy while any page of any mapping is mapped. */
	CHECK_ERRNO(EBUSY, _destroy(viommu));
	CHECK_OK(uiommu_munmap(map2, len));
	CHECK_ERRNO(EBUSY, _destroy(viommu));
	CHECK_OK(uiommu_munmap(map, PAGE_SIZE));
	CHECK_ERRNO(EBUSY, _destroy(viommu));
	CHECK_OK(uiommu_munmap((uint8_t *)map + PAGE_SIZE, PAGE_SIZE));
	CHECK_OK(_destroy(viommu));
	/* A destroyed vIOMMU's region is gone. */
	TAP_CHECK(MMAP(len, off, PROT_READ, MAP_SHARED) == MAP_FAILED && errno == ENXIO, "gone");

	/* A mapping keeps the context alive after close; unmapping releases it. */
	data = (struct iommu_viommu_selftest){.in_data = 7};
	CHECK_OK(_viommu_alloc(v.d.idev, v.parent, IOMMU_VIOMMU_TYPE_SELFTEST, &data, sizeof(data),
			       &viommu));
	map = MMAP(data.out_mmap_length, data.out_mmap_offset, PROT_READ, MAP_SHARED);
	TAP_CHECK(map != MAP_FAILED && map[0] == 7, "mmap");
	iommufd_teardown();
	TAP_CHECK_EQ(ufile_vma_count(), 1, "mapping alive");
	TAP_CHECK_EQ(map[0], 7, "still readable");
	CHECK_OK(uiommu_munmap(map, data.out_mmap_length));
	TAP_CHECK_EQ(ufile_vma_count(), 0, "mapping gone");
	TAP_CHECK_EQ(ufile_count(), files, "context released");
#undef MMAP
}

static void test_vdevice(void *arg)
{
	uint32_t vdev, vdev2, next, num;
	struct mock_dev_ids d2;
	struct vsetup v;

	iommufd_setup();
	vsetup(&v);
	d2 = mock_domain(v.ioas, 0);
	next = next_free_id();

	CHECK_ERRNO(ENOENT, _vdevice_alloc(9999, v.d.idev, 0x99, &vdev));
	CHECK_ERRNO(ENOENT, _vdevice_alloc(v.viommu, 9999, 0x99, &vdev));
	CHECK_ERRNO(ENOENT, _vdevice_alloc(v.parent, v.d.idev, 0x99, &vdev));
	/* No vDEVICE yet: attaching to the vIOMMU's nested HWPT is ENOENT. */
	CHECK_ERRNO(ENOENT, _mock_domain_replace(v.d.stdev, v.nested, NULL));
	TAP_CHECK_EQ(next_free_id(), next, "no ID consumed");

	CHECK_OK(_vdevice_alloc(v.viommu, v.d.idev, 0x99, &vdev));
	TAP_CHECK_EQ(vdev, next, "ID");
	CHECK_ERRNO(EEXIST, _vdevice_alloc(v.viommu, v.d.idev, 0x88, &vdev2));
	CHECK_ERRNO(EEXIST, _vdevice_alloc(v.viommu, d2.idev, 0x99, &vdev2));
	CHECK_ERRNO(EBUSY, _destroy(v.viommu));
	CHECK_ERRNO(EBUSY, _destroy(v.d.idev));
	CHECK_OK(_mock_domain_replace(v.d.stdev, v.nested, NULL));
	/* TRIGGER_VEVENT without a vEVENTQ of its type: EOPNOTSUPP; bad device ENOENT. */
	CHECK_ERRNO(EOPNOTSUPP, _trigger_vevent(v.d.idev));
	CHECK_ERRNO(ENOENT, _trigger_vevent(9999));
	/* Not on a vIOMMU HWPT: ENOENT. */
	CHECK_ERRNO(ENOENT, _trigger_vevent(d2.idev));
	CHECK_OK(_mock_domain_replace(v.d.stdev, v.ioas, NULL));
	CHECK_OK(_destroy(vdev));
	CHECK_OK(_vdevice_alloc(v.viommu, d2.idev, 0x99, &vdev2));

	/* The device cache through the vIOMMU (the vdevice_cache selftest). */
	{
		struct iommu_viommu_invalidate_selftest inv[2] = {0};

		for (uint32_t i = 0; i < MOCK_DEV_CACHE_NUM; i++)
			CHECK_OK(_check_dev_cache(d2.idev, i, IOMMU_TEST_DEV_CACHE_DEFAULT));
		CHECK_ERRNO(EINVAL, _check_dev_cache(d2.idev, 0, 0));
		CHECK_ERRNO(EINVAL, _check_dev_cache(d2.idev, MOCK_DEV_CACHE_ID_MAX + 1,
						     IOMMU_TEST_DEV_CACHE_DEFAULT));
		CHECK_ERRNO(ENOENT, _check_dev_cache(9999, 0, 0));
		num = 0;
		CHECK_OK(_hwpt_invalidate(v.viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					  sizeof(*inv), &num));
		num = 1;
		CHECK_ERRNO(EINVAL, _hwpt_invalidate(v.viommu, inv,
						     IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID,
						     sizeof(*inv), &num));
		TAP_CHECK_EQ(num, 0, "entry_num");
		num = 1;
		CHECK_ERRNO(EINVAL,
			    _hwpt_invalidate(v.viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv) + 1, &num));
		num = 1;
		CHECK_ERRNO(EINVAL,
			    _hwpt_invalidate(v.viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					     1, &num));
		inv[0] = (struct iommu_viommu_invalidate_selftest){.flags = 0xffffffff,
								   .vdev_id = 0x99};
		num = 1;
		CHECK_ERRNO(EOPNOTSUPP,
			    _hwpt_invalidate(v.viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv), &num));
		TAP_CHECK_EQ(num, 0, "entry_num");
		inv[0] = (struct iommu_viommu_invalidate_selftest){.vdev_id = 0x99};
		num = 1;
		CHECK_ERRNO(EINVAL,
			    _hwpt_invalidate(v.viommu, NULL, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv), &num));
		num = 1;
		CHECK_ERRNO(EINVAL,
			    _hwpt_invalidate(v.viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					     0, &num));
		inv[0].cache_id = MOCK_DEV_CACHE_ID_MAX + 1;
		num = 1;
		CHECK_ERRNO(EINVAL,
			    _hwpt_invalidate(v.viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv), &num));
		inv[0] = (struct iommu_viommu_invalidate_selftest){.vdev_id = 0x9};
		num = 1;
		CHECK_ERRNO(EINVAL,
			    _hwpt_invalidate(v.viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv), &num));
		TAP_CHECK_EQ(num, 0, "entry_num");
		/* First done, second refused. */
		inv[0] = (struct iommu_viommu_invalidate_selftest){.vdev_id = 0x99, .cache_id = 0};
		inv[1] = (struct iommu_viommu_invalidate_selftest){
			.flags = 0xffffffff, .vdev_id = 0x99, .cache_id = 1};
		num = 2;
		CHECK_ERRNO(EOPNOTSUPP,
			    _hwpt_invalidate(v.viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					     sizeof(*inv), &num));
		TAP_CHECK_EQ(num, 1, "entry_num");
		CHECK_OK(_check_dev_cache(d2.idev, 0, 0));
		CHECK_OK(_check_dev_cache(d2.idev, 1, IOMMU_TEST_DEV_CACHE_DEFAULT));
		inv[1] = (struct iommu_viommu_invalidate_selftest){.vdev_id = 0x99, .cache_id = 2};
		num = 2;
		CHECK_OK(_hwpt_invalidate(v.viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					  sizeof(*inv), &num));
		TAP_CHECK_EQ(num, 2, "entry_num");
		CHECK_OK(_check_dev_cache(d2.idev, 2, 0));
		CHECK_OK(_check_dev_cache(d2.idev, 3, IOMMU_TEST_DEV_CACHE_DEFAULT));
		inv[0] = (struct iommu_viommu_invalidate_selftest){
			.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL, .vdev_id = 0x99};
		num = 1;
		CHECK_OK(_hwpt_invalidate(v.viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					  sizeof(*inv), &num));
		for (uint32_t i = 0; i < MOCK_DEV_CACHE_NUM; i++)
			CHECK_OK(_check_dev_cache(d2.idev, i, 0));
		/* The other device's cache is untouched. */
		CHECK_OK(_check_dev_cache(v.d.idev, 0, IOMMU_TEST_DEV_CACHE_DEFAULT));
	}

	/* Tombstone: the device goes, its vDEVICE with it, the ID stays taken. */
	CHECK_OK(_destroy(d2.stdev));
	CHECK_ERRNO(ENOENT, _destroy(vdev2));
	TAP_CHECK(next_free_id() != vdev2, "tombstoned ID not reused");
	/* The vIOMMU is free again. */
	CHECK_OK(_destroy(v.nested));
	CHECK_OK(_destroy(v.viommu));
	iommufd_teardown();
}

static ssize_t read_events(int fd, void *buf, size_t count)
{
	return uiommu_read(fd_file(fd), buf, count);
}

struct vrec {
	struct iommufd_vevent_header hdr;
	struct iommu_viommu_event_selftest ev;
} __attribute__((packed));

static void test_veventq(void *arg)
{
	struct iommu_veventq_alloc cmd;
	struct vrec rec[4];
	uint32_t veventq, vdev, next;
	struct vsetup v;
	struct pollfd p;
	int fd, fd2;

	iommufd_setup();
	vsetup(&v);
	next = next_free_id();

	cmd = (struct iommu_veventq_alloc){.size = sizeof(cmd),
					   .viommu_id = v.viommu,
					   .type = IOMMU_VEVENTQ_TYPE_SELFTEST,
					   .veventq_depth = 2,
					   .flags = 1};
	CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_VEVENTQ_ALLOC, &cmd));
	cmd.flags = 0;
	cmd.__reserved = 1;
	CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_VEVENTQ_ALLOC, &cmd));
	CHECK_ERRNO(EOPNOTSUPP,
		    _veventq_alloc(v.viommu, IOMMU_VEVENTQ_TYPE_DEFAULT, 2, NULL, NULL));
	CHECK_ERRNO(EINVAL, _veventq_alloc(v.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 0, NULL, NULL));
	CHECK_ERRNO(ENOENT, _veventq_alloc(v.parent, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, NULL, NULL));
	TAP_CHECK_EQ(next_free_id(), next, "no ID consumed");

	CHECK_OK(_veventq_alloc(v.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, &veventq, &fd));
	CHECK_ERRNO(EEXIST, _veventq_alloc(v.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, NULL, NULL));
	/* Another type is a queue of its own. */
	CHECK_OK(_veventq_alloc(v.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4, NULL, &fd2));
	CHECK_OK(fd_close(fd2));
	CHECK_ERRNO(EBUSY, _destroy(veventq));
	CHECK_ERRNO(EBUSY, _destroy(v.viommu));
	/* Read-only: no write. */
	CHECK_ERRNO(EINVAL, uiommu_write(fd_file(fd), rec, 8));
	TAP_CHECK_EQ(read_events(fd, rec, sizeof(rec)), 0, "empty");

	CHECK_OK(_vdevice_alloc(v.viommu, v.d.idev, 0x99, &vdev));
	CHECK_OK(_mock_domain_replace(v.d.stdev, v.nested, NULL));
	CHECK_OK(_trigger_vevent(v.d.idev));
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	TAP_CHECK(poll(&p, 1, 1000) == 1 && (p.revents & POLLIN), "poll(2)");
	TAP_CHECK_EQ(uiommu_poll(fd_file(fd), POLLIN), POLLIN, "uiommu_poll");
	/* Whole records only. */
	TAP_CHECK_EQ(read_events(fd, rec, 7), 0, "no room for a header");
	TAP_CHECK_EQ(read_events(fd, rec, 11), 0, "no room for the payload");
	TAP_CHECK_EQ(read_events(fd, rec, sizeof(rec)), (ssize_t)sizeof(rec[0]), "one record");
	TAP_CHECK(rec[0].hdr.flags == 0 && rec[0].hdr.sequence == 0 && rec[0].ev.virt_id == 0x99,
		  "record %u %u %#x", rec[0].hdr.flags, rec[0].hdr.sequence, rec[0].ev.virt_id);
	TAP_CHECK_EQ(uiommu_poll(fd_file(fd), POLLIN), 0, "drained");
	/* The virtual ID follows the vDEVICE. */
	CHECK_OK(_mock_domain_replace(v.d.stdev, v.ioas, NULL));
	CHECK_OK(_destroy(vdev));
	CHECK_OK(_vdevice_alloc(v.viommu, v.d.idev, 0x88, &vdev));
	CHECK_OK(_mock_domain_replace(v.d.stdev, v.nested, NULL));

	/* Depth 2, three events: two records, then the LOST_EVENTS header. */
	for (int i = 0; i < 3; i++)
		CHECK_OK(_trigger_vevent(v.d.idev));
	{
		uint8_t buf[64];
		struct vrec *r = (struct vrec *)buf;
		struct iommufd_vevent_header *lost = (void *)(buf + 2 * sizeof(struct vrec));

		TAP_CHECK_EQ(read_events(fd, buf, sizeof(buf)),
			     (ssize_t)(2 * sizeof(struct vrec) + sizeof(*lost)), "two + header");
		TAP_CHECK(r[0].hdr.sequence == 1 && r[1].hdr.sequence == 2 &&
				  r[0].ev.virt_id == 0x88 && r[1].ev.virt_id == 0x88,
			  "records %u %u", r[0].hdr.sequence, r[1].hdr.sequence);
		TAP_CHECK(lost->flags == IOMMU_VEVENTQ_FLAG_LOST_EVENTS && lost->sequence == 3,
			  "lost header %u %u", lost->flags, lost->sequence);
	}
	/* The next event follows the lost header's number. */
	CHECK_OK(_trigger_vevent(v.d.idev));
	TAP_CHECK_EQ(read_events(fd, rec, sizeof(rec)), (ssize_t)sizeof(rec[0]), "one");
	TAP_CHECK_EQ(rec[0].hdr.sequence, 4, "sequence after the lost header");
	/* Lost while partly read: a new event replaces the header, leaving a gap. */
	for (int i = 0; i < 3; i++)
		CHECK_OK(_trigger_vevent(v.d.idev)); /* 5, 6, lost(7) */
	TAP_CHECK_EQ(read_events(fd, rec, sizeof(rec[0])), (ssize_t)sizeof(rec[0]), "read 5");
	CHECK_OK(_trigger_vevent(v.d.idev)); /* 8 takes the header's place */
	TAP_CHECK_EQ(read_events(fd, rec, sizeof(rec)), (ssize_t)(2 * sizeof(rec[0])), "6 and 8");
	TAP_CHECK(rec[0].hdr.sequence == 6 && rec[1].hdr.sequence == 8 && !rec[1].hdr.flags,
		  "gap: %u %u", rec[0].hdr.sequence, rec[1].hdr.sequence);

	/* The sequence wraps from INT_MAX to 0. */
	{
		struct iommufd_object *o =
			iommufd_get_object(test_ictx(), veventq, IOMMUFD_OBJ_VEVENTQ);
		struct iommufd_veventq *q = container_of(o, struct iommufd_veventq, obj);

		TAP_CHECK(!IS_ERR(o), "veventq");
		pthread_mutex_lock(&q->lock);
		q->sequence = INT_MAX;
		pthread_mutex_unlock(&q->lock);
		iommufd_put_object(test_ictx(), o);
	}
	CHECK_OK(_trigger_vevent(v.d.idev));
	CHECK_OK(_trigger_vevent(v.d.idev));
	TAP_CHECK_EQ(read_events(fd, rec, sizeof(rec)), (ssize_t)(2 * sizeof(rec[0])), "two");
	TAP_CHECK(rec[0].hdr.sequence == INT_MAX && rec[1].hdr.sequence == 0, "wrap: %u %u",
		  rec[0].hdr.sequence, rec[1].hdr.sequence);

	/* Events left queued when the fd closes are freed with the queue. */
	CHECK_OK(_trigger_vevent(v.d.idev));
	CHECK_OK(fd_close(fd));
	CHECK_OK(_mock_domain_replace(v.d.stdev, v.ioas, NULL));
	CHECK_OK(_destroy(veventq));
	CHECK_OK(_destroy(vdev));
	iommufd_teardown();
}

static void test_hw_queue(void *arg)
{
	uint64_t iova = MOCK_APERTURE_START, iova2, iova3;
	uint32_t q[2], q3, next;
	struct vsetup v;

	iommufd_setup();
	vsetup(&v);
	next = next_free_id();

	{
		struct iommu_hw_queue_alloc cmd = {.size = sizeof(cmd),
						   .flags = 1,
						   .viommu_id = v.viommu,
						   .type = IOMMU_HW_QUEUE_TYPE_SELFTEST,
						   .nesting_parent_iova = iova,
						   .length = PAGE_SIZE};

		CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_HW_QUEUE_ALLOC, &cmd));
	}
	CHECK_ERRNO(EOPNOTSUPP, _hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_DEFAULT, 0, iova,
						PAGE_SIZE, &q[0]));
	CHECK_ERRNO(EINVAL,
		    _hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, iova, 0, &q[0]));
	CHECK_ERRNO(EOVERFLOW, _hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0,
					       ~(uint64_t)0, PAGE_SIZE, &q[0]));
	CHECK_ERRNO(ENOENT,
		    _hw_queue_alloc(9999, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, iova, PAGE_SIZE, &q[0]));
	/* Not mapped. */
	CHECK_ERRNO(ENOENT, _hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, iova,
					    PAGE_SIZE, &q[0]));

	iova = ioas_map(v.ioas, buffer, PAGE_SIZE);
	iova2 = ioas_map(v.ioas, (uint8_t *)buffer + PAGE_SIZE, PAGE_SIZE);
	/* The model's rules: start at 0, below the maximum; an unsupported type. */
	CHECK_ERRNO(EIO, _hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 1, iova, PAGE_SIZE,
					 &q[0]));
	CHECK_ERRNO(EINVAL, _hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST,
					    IOMMU_TEST_HW_QUEUE_MAX, iova, PAGE_SIZE, &q[0]));
	CHECK_ERRNO(EOPNOTSUPP, _hw_queue_alloc(v.viommu, 0x1234, 0, iova, PAGE_SIZE, &q[0]));
	/*
	 * Each refused queue made an internal access and released it: IDs
	 * are reserved and freed in turn, none stays taken.
	 */
	TAP_CHECK_EQ(next_free_id(), next, "no ID consumed");
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 1, "pinned by the domains only");

	CHECK_OK(
		_hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, iova, PAGE_SIZE, &q[0]));
	CHECK_ERRNO(EEXIST, _hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, iova,
					    PAGE_SIZE, &q3));
	/* The queue's area is locked; the other is not. */
	CHECK_ERRNO(EBUSY, _ioas_unmap(v.ioas, iova, PAGE_SIZE, NULL));
	ioas_unmap(v.ioas, iova2, PAGE_SIZE);
	/* An unaligned queue in the same page. */
	CHECK_OK(_hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 1, iova + PAGE_SIZE / 2,
				 PAGE_SIZE / 2, &q[1]));
	{
		struct iommufd_viommu *o = iommufd_get_viommu(test_ictx(), v.viommu);
		void *base;
		uint64_t len;

		TAP_CHECK(!IS_ERR(o), "viommu");
		TAP_CHECK_EQ(mock_viommu_hw_queue(o->core, 1, &base, &len), 0, "queue 1");
		TAP_CHECK(base == (uint8_t *)buffer + PAGE_SIZE / 2 && len == PAGE_SIZE / 2,
			  "queue memory %p", base);
		iommufd_put_object(test_ictx(), &o->obj);
	}
	/* Lower queues wait for upper ones; the vIOMMU for all. */
	CHECK_ERRNO(EBUSY, _destroy(q[0]));
	CHECK_ERRNO(EBUSY, _destroy(v.viommu));
	CHECK_OK(_destroy(q[1]));
	CHECK_OK(_destroy(q[0]));
	ioas_unmap(v.ioas, iova, PAGE_SIZE);

	/* Host memory that is not contiguous: EFAULT. */
	iova3 = MOCK_APERTURE_START + (8 << 20);
	ioas_map_fixed(v.ioas, (uint8_t *)buffer + 4 * PAGE_SIZE, PAGE_SIZE, iova3);
	ioas_map_fixed(v.ioas, buffer, PAGE_SIZE, iova3 + PAGE_SIZE);
	CHECK_ERRNO(EFAULT, _hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, iova3,
					    2 * PAGE_SIZE, &q3));
	ioas_unmap(v.ioas, iova3, 2 * PAGE_SIZE);

	/* Closing the context with both queues alive destroys them in order. */
	iova = ioas_map(v.ioas, buffer, PAGE_SIZE);
	CHECK_OK(
		_hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, iova, PAGE_SIZE, &q[0]));
	CHECK_OK(
		_hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 1, iova, PAGE_SIZE, &q[1]));
	iommufd_teardown();
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 0, "nothing pinned");
}

static void test_close_all(void *arg)
{
	struct iommu_viommu_selftest data = {.in_data = 1};
	unsigned int files = ufile_count();
	uint32_t viommu2, vdev, veventq, fault_id, iopf_hwpt, q;
	struct vsetup v;
	void *map;
	int fd, fault_fd;

	iommufd_setup();
	vsetup(&v);
	ioas_map_fixed(v.ioas, buffer, BUFFER_SIZE, MOCK_APERTURE_START);
	CHECK_OK(_viommu_alloc(v.d.idev, v.parent, IOMMU_VIOMMU_TYPE_SELFTEST, &data, sizeof(data),
			       &viommu2));
	map = uiommu_mmap(self_file, NULL, data.out_mmap_length, PROT_READ, MAP_SHARED,
			  (off_t)data.out_mmap_offset);
	TAP_CHECK(map != MAP_FAILED, "mmap");
	CHECK_OK(uiommu_munmap(map, data.out_mmap_length));
	CHECK_OK(_vdevice_alloc(v.viommu, v.d.idev, 0x42, &vdev));
	CHECK_OK(_veventq_alloc(v.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 8, &veventq, &fd));
	CHECK_OK(_fault_alloc(&fault_id, &fault_fd));
	CHECK_OK(_hwpt_alloc_nested(v.d.idev, v.viommu, IOMMU_HWPT_FAULT_ID_VALID, fault_id,
				    &iopf_hwpt));
	CHECK_OK(_mock_domain_replace(v.d.stdev, iopf_hwpt, NULL));
	CHECK_OK(_trigger_vevent(v.d.idev));
	CHECK_OK(_trigger_iopf(v.d.idev, 0, 1, 0));
	CHECK_OK(_hw_queue_alloc(v.viommu, IOMMU_HW_QUEUE_TYPE_SELFTEST, 0, MOCK_APERTURE_START,
				 PAGE_SIZE, &q));
	CHECK_OK(fd_close(fd));
	CHECK_OK(fd_close(fault_fd));
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 1, "pinned");
	iommufd_teardown();
	TAP_CHECK_EQ(ufile_count(), files, "every file released");
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 0, "nothing pinned");
	TAP_CHECK_EQ(ufile_vma_count(), 0, "no mapping");
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"VIOMMU_ALLOC: errnos, busy parent, nested HWPTs on a vIOMMU", test_viommu_alloc},
		{"vIOMMU mmap region: ENXIO/EINVAL/EPERM, shared memory, EBUSY while mapped",
		 test_viommu_mmap},
		{"VDEVICE_ALLOC: EEXIST, ENOENT, attach rule, cache invalidation, tombstone",
		 test_vdevice},
		{"VEVENTQ: errnos, records, LOST_EVENTS, sequence wrap, poll", test_veventq},
		{"HW queues: errnos, index rules, locked area, order, contiguity", test_hw_queue},
		{"close frees vIOMMUs, vDEVICEs, vEVENTQs, queues, faults", test_close_all},
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
