/* SPDX-License-Identifier: MIT */
/*
 * tests/func/iommufd_objs.h - helpers for the object-model ioctls (HWPT,
 * device, fault queue, vIOMMU, vDEVICE, vEVENTQ, HW queue, GET_HW_INFO,
 * dirty tracking) and for IOMMU_TEST_CMD, in the habit of
 * iommufd_utils.h: _name() returns what uiommu_ioctl() returns (0, or -1
 * with errno) and writes the outputs; name() checks success.
 *
 * Files the library hands out as fds (fault, vEVENTQ and access fds) are
 * reached with fd_file() and read, written, polled and closed through the
 * public API, as a program under the preload shim would with read(2) ...
 */
#ifndef UIOMMU_TESTS_FUNC_IOMMUFD_OBJS_H
#define UIOMMU_TESTS_FUNC_IOMMUFD_OBJS_H

#include <poll.h>

#include <linux/iommufd_test.h>

#include "iommufd_utils.h"

static inline struct uiommu_file *fd_file(int fd)
{
	struct uiommu_file *f = uiommu_file_from_fd(fd);

	TAP_CHECK(f, "fd %d is not one of the library's", fd);
	return f;
}

static inline int fd_close(int fd)
{
	return uiommu_close(fd_file(fd));
}

/* ------------------------------------------------------------------ */
/* IOMMU_TEST_CMD                                                      */

static inline int _test_cmd(struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return uiommu_ioctl(self_file, IOMMU_TEST_CMD, cmd);
}

static inline int _mock_domain_flags(uint32_t pt_id, uint32_t dev_flags, uint32_t *stdev_id,
				     uint32_t *hwpt_id, uint32_t *idev_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = pt_id,
		.mock_domain_flags = {.dev_flags = dev_flags},
	};
	int rc = _test_cmd(&cmd);

	if (rc)
		return rc;
	if (stdev_id)
		*stdev_id = cmd.mock_domain_flags.out_stdev_id;
	if (hwpt_id)
		*hwpt_id = cmd.mock_domain_flags.out_hwpt_id;
	if (idev_id)
		*idev_id = cmd.mock_domain_flags.out_idev_id;
	return 0;
}

static inline int _mock_domain(uint32_t pt_id, uint32_t *stdev_id, uint32_t *hwpt_id,
			       uint32_t *idev_id)
{
	struct iommu_test_cmd cmd = {.op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = pt_id};
	int rc = _test_cmd(&cmd);

	if (rc)
		return rc;
	if (stdev_id)
		*stdev_id = cmd.mock_domain.out_stdev_id;
	if (hwpt_id)
		*hwpt_id = cmd.mock_domain.out_hwpt_id;
	if (idev_id)
		*idev_id = cmd.mock_domain.out_idev_id;
	return 0;
}

/* A mock device attached to @pt_id: its stdev, HWPT and idev IDs. */
struct mock_dev_ids {
	uint32_t stdev, hwpt, idev;
};

static inline struct mock_dev_ids mock_domain(uint32_t pt_id, uint32_t dev_flags)
{
	struct mock_dev_ids d = {0};

	CHECK_OK(_mock_domain_flags(pt_id, dev_flags, &d.stdev, &d.hwpt, &d.idev));
	TAP_CHECK(d.stdev && d.hwpt && d.idev, "IDs %u %u %u", d.stdev, d.hwpt, d.idev);
	return d;
}

static inline int _mock_domain_replace(uint32_t stdev_id, uint32_t pt_id, uint32_t *hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev_id,
		.mock_domain_replace = {.pt_id = pt_id},
	};
	int rc = _test_cmd(&cmd);

	if (!rc && hwpt_id)
		*hwpt_id = cmd.mock_domain_replace.pt_id;
	return rc;
}

static inline int _check_map(uint32_t hwpt_id, uint64_t iova, uint64_t length, const void *uptr)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = hwpt_id,
		.check_map = {.iova = iova, .length = length, .uptr = (uintptr_t)uptr},
	};

	return _test_cmd(&cmd);
}

static inline int _check_refs(const void *uptr, uint64_t length, uint32_t refs)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = {.length = length, .uptr = (uintptr_t)uptr, .refs = refs},
	};

	return _test_cmd(&cmd);
}

static inline int _check_iotlb(uint32_t hwpt_id, uint32_t id, uint32_t val)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_IOTLB,
		.id = hwpt_id,
		.check_iotlb = {.id = id, .iotlb = val},
	};

	return _test_cmd(&cmd);
}

static inline void check_iotlb_all(uint32_t hwpt_id, uint32_t val)
{
	for (uint32_t i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
		CHECK_OK(_check_iotlb(hwpt_id, i, val));
}

static inline int _check_dev_cache(uint32_t idev_id, uint32_t id, uint32_t val)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DEV_CHECK_CACHE,
		.id = idev_id,
		.check_dev_cache = {.id = id, .cache = val},
	};

	return _test_cmd(&cmd);
}

static inline int _add_reserved(uint32_t ioas_id, uint64_t start, uint64_t length)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = ioas_id,
		.add_reserved = {.start = start, .length = length},
	};

	return _test_cmd(&cmd);
}

static inline int _trigger_iopf(uint32_t idev_id, uint32_t pasid, uint32_t grpid, uint64_t addr)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {.dev_id = idev_id,
				 .pasid = pasid,
				 .grpid = grpid,
				 .perm = IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_WRITE,
				 .addr = addr},
	};

	return _test_cmd(&cmd);
}

static inline int _trigger_vevent(uint32_t idev_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_TRIGGER_VEVENT,
		.trigger_vevent = {.dev_id = idev_id},
	};

	return _test_cmd(&cmd);
}

static inline int _pasid_op(uint32_t op, uint32_t stdev_id, uint32_t pasid, uint32_t pt_id)
{
	struct iommu_test_cmd cmd = {
		.op = op,
		.id = stdev_id,
		.pasid_attach = {.pasid = pasid, .pt_id = pt_id},
	};

	return _test_cmd(&cmd);
}

#define _pasid_attach(s, p, pt)	 _pasid_op(IOMMU_TEST_OP_PASID_ATTACH, s, p, pt)
#define _pasid_replace(s, p, pt) _pasid_op(IOMMU_TEST_OP_PASID_REPLACE, s, p, pt)
#define _pasid_detach(s, p)	 _pasid_op(IOMMU_TEST_OP_PASID_DETACH, s, p, 0)
#define _pasid_check(s, p, h)	 _pasid_op(IOMMU_TEST_OP_PASID_CHECK_HWPT, s, p, h)

static inline int _dirty(uint32_t hwpt_id, uint64_t iova, uint64_t length, uint64_t page_size,
			 const void *bitmap, uint64_t *nr)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DIRTY,
		.id = hwpt_id,
		.dirty = {.iova = iova,
			  .length = length,
			  .page_size = page_size,
			  .uptr = (uintptr_t)bitmap},
	};
	int rc = _test_cmd(&cmd);

	if (!rc && nr)
		*nr = cmd.dirty.out_nr_dirty;
	return rc;
}

static inline int _create_access(uint32_t ioas_id, uint32_t flags, int *fd)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas_id,
		.create_access = {.flags = flags},
	};
	int rc = _test_cmd(&cmd);

	if (!rc)
		*fd = (int)cmd.create_access.out_access_fd;
	return rc;
}

static inline int _access_pages(int fd, uint64_t iova, uint64_t length, const void *uptr,
				uint32_t flags, uint32_t *item)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = (uint32_t)fd,
		.access_pages = {.flags = flags,
				 .iova = iova,
				 .length = length,
				 .uptr = (uintptr_t)uptr},
	};
	int rc = _test_cmd(&cmd);

	if (!rc && item)
		*item = cmd.access_pages.out_access_pages_id;
	return rc;
}

static inline int _destroy_access_pages(int fd, uint32_t item)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
		.id = (uint32_t)fd,
		.destroy_access_pages = {.access_pages_id = item},
	};

	return _test_cmd(&cmd);
}

static inline int _access_rw(int fd, uint64_t iova, void *buf, uint64_t length, uint32_t flags)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_RW,
		.id = (uint32_t)fd,
		.access_rw = {.iova = iova,
			      .length = length,
			      .uptr = (uintptr_t)buf,
			      .flags = flags},
	};

	return _test_cmd(&cmd);
}

static inline int _access_replace_ioas(int fd, uint32_t ioas_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_REPLACE_IOAS,
		.id = (uint32_t)fd,
		.access_replace_ioas = {.ioas_id = ioas_id},
	};

	return _test_cmd(&cmd);
}

static inline int _set_temp_memory_limit(uint32_t limit)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = {.limit = limit},
	};

	return _test_cmd(&cmd);
}

/* ------------------------------------------------------------------ */
/* The object-model ioctls                                            */

static inline int _hwpt_alloc_data(uint32_t dev_id, uint32_t pt_id, uint32_t flags,
				   uint32_t fault_id, uint32_t data_type, const void *data,
				   uint32_t data_len, uint32_t *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = data_type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
		.fault_id = fault_id,
	};
	int rc = uiommu_ioctl(self_file, IOMMU_HWPT_ALLOC, &cmd);

	if (!rc && hwpt_id)
		*hwpt_id = cmd.out_hwpt_id;
	return rc;
}

static inline int _hwpt_alloc(uint32_t dev_id, uint32_t pt_id, uint32_t flags, uint32_t *hwpt_id)
{
	return _hwpt_alloc_data(dev_id, pt_id, flags, 0, IOMMU_HWPT_DATA_NONE, NULL, 0, hwpt_id);
}

static inline uint32_t hwpt_alloc(uint32_t dev_id, uint32_t pt_id, uint32_t flags)
{
	uint32_t id = 0;

	CHECK_OK(_hwpt_alloc(dev_id, pt_id, flags, &id));
	TAP_CHECK(id, "HWPT id 0");
	return id;
}

/* A mock nested HWPT on @parent (a NEST_PARENT HWPT or a vIOMMU), IOTLB at the default. */
static inline int _hwpt_alloc_nested(uint32_t dev_id, uint32_t parent, uint32_t flags,
				     uint32_t fault_id, uint32_t *hwpt_id)
{
	struct iommu_hwpt_selftest data = {.iotlb = IOMMU_TEST_IOTLB_DEFAULT};

	return _hwpt_alloc_data(dev_id, parent, flags, fault_id, IOMMU_HWPT_DATA_SELFTEST, &data,
				sizeof(data), hwpt_id);
}

static inline uint32_t hwpt_alloc_nested(uint32_t dev_id, uint32_t parent, uint32_t flags)
{
	uint32_t id = 0;

	CHECK_OK(_hwpt_alloc_nested(dev_id, parent, flags, 0, &id));
	return id;
}

static inline int _hwpt_invalidate(uint32_t hwpt_id, const void *reqs, uint32_t data_type,
				   uint32_t entry_len, uint32_t *entry_num)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt_id,
		.data_uptr = (uintptr_t)reqs,
		.data_type = data_type,
		.entry_len = entry_len,
		.entry_num = *entry_num,
	};
	int rc = uiommu_ioctl(self_file, IOMMU_HWPT_INVALIDATE, &cmd);

	*entry_num = cmd.entry_num;
	return rc;
}

static inline int _set_dirty_tracking(uint32_t hwpt_id, bool enable)
{
	struct iommu_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = enable ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
		.hwpt_id = hwpt_id,
	};

	return uiommu_ioctl(self_file, IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd);
}

static inline int _get_dirty_bitmap(uint32_t hwpt_id, uint64_t iova, uint64_t length,
				    uint64_t page_size, void *bitmap, uint32_t flags)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt_id,
		.flags = flags,
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.data = (uintptr_t)bitmap,
	};

	return uiommu_ioctl(self_file, IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd);
}

static inline int _get_hw_info(struct iommu_hw_info *cmd)
{
	cmd->size = sizeof(*cmd);
	return uiommu_ioctl(self_file, IOMMU_GET_HW_INFO, cmd);
}

static inline int _fault_alloc(uint32_t *fault_id, int *fault_fd)
{
	struct iommu_fault_alloc cmd = {.size = sizeof(cmd)};
	int rc = uiommu_ioctl(self_file, IOMMU_FAULT_QUEUE_ALLOC, &cmd);

	if (!rc) {
		*fault_id = cmd.out_fault_id;
		*fault_fd = (int)cmd.out_fault_fd;
	}
	return rc;
}

static inline int _viommu_alloc(uint32_t dev_id, uint32_t hwpt_id, uint32_t type, void *data,
				uint32_t data_len, uint32_t *viommu_id)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = type,
		.dev_id = dev_id,
		.hwpt_id = hwpt_id,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
	};
	int rc = uiommu_ioctl(self_file, IOMMU_VIOMMU_ALLOC, &cmd);

	if (!rc && viommu_id)
		*viommu_id = cmd.out_viommu_id;
	return rc;
}

static inline int _vdevice_alloc(uint32_t viommu_id, uint32_t dev_id, uint64_t virt_id,
				 uint32_t *vdev_id)
{
	struct iommu_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	int rc = uiommu_ioctl(self_file, IOMMU_VDEVICE_ALLOC, &cmd);

	if (!rc && vdev_id)
		*vdev_id = cmd.out_vdevice_id;
	return rc;
}

static inline int _veventq_alloc(uint32_t viommu_id, uint32_t type, uint32_t depth,
				 uint32_t *veventq_id, int *veventq_fd)
{
	struct iommu_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.veventq_depth = depth,
	};
	int rc = uiommu_ioctl(self_file, IOMMU_VEVENTQ_ALLOC, &cmd);

	if (!rc) {
		if (veventq_id)
			*veventq_id = cmd.out_veventq_id;
		if (veventq_fd)
			*veventq_fd = (int)cmd.out_veventq_fd;
	}
	return rc;
}

static inline int _hw_queue_alloc(uint32_t viommu_id, uint32_t type, uint32_t index, uint64_t iova,
				  uint64_t length, uint32_t *hw_queue_id)
{
	struct iommu_hw_queue_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.index = index,
		.nesting_parent_iova = iova,
		.length = length,
	};
	int rc = uiommu_ioctl(self_file, IOMMU_HW_QUEUE_ALLOC, &cmd);

	if (!rc && hw_queue_id)
		*hw_queue_id = cmd.out_hw_queue_id;
	return rc;
}

/* The ID the next object would get (the lowest free one): allocate an IOAS and free it. */
static inline uint32_t next_free_id(void)
{
	uint32_t id = ioas_alloc();

	CHECK_OK(_destroy(id));
	return id;
}

#endif
