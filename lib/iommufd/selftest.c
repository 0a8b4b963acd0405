// SPDX-License-Identifier: MIT
/*
 * selftest.c - IOMMU_TEST_CMD: the operations the kernel's iommufd selftest
 * (tools/testing/selftests/iommu) uses to reach inside iommufd and its mock
 * driver, on lib/hw/mock and the core (reference iommufd.md §2).
 *
 * What it owns.
 *   SELFTEST objects ("stdev"): a mock device made by MOCK_DOMAIN(_FLAGS),
 *     bound to the context (an ordinary DEVICE object, the idev) and
 *     attached to the IOAS or HWPT given. The stdev is the binding driver:
 *     destroying it detaches every PASID and the RID, unbinds (which
 *     tombstones the device's vDEVICE) and unplugs the mock device. The
 *     idev does not hold the context (the stdev lives inside it).
 *   access fds (CREATE_ACCESS): an emulated device using the IOAS through
 *     an iommufd_access, as a real fd (O_CLOEXEC); ACCESS_PAGES pins
 *     ranges as numbered items, DESTROY_ACCESS_PAGES unpins one, the unmap
 *     callback drops every item an UNMAP touches (so DESTROY_ACCESS_PAGES
 *     of it then gives ENOENT), and closing the fd unpins everything and
 *     destroys the access. Ops on an fd that is not an access fd: EBADFD.
 *
 * The checks that Linux does with GUP and page refcounts are made against
 * what this library knows (DESIGN.md §1: a "physical" address is a host
 * address):
 *   MD_CHECK_MAP   the domain must map each 2 KiB step to the same backing
 *                  as the user address: the address itself, or, for a
 *                  file mapping (memfd, /proc/self/maps), the same byte of
 *                  the same file, which is how MAP_FILE pages (mapped
 *                  through the library's own alias) compare equal;
 *   MD_CHECK_REFS  the pins of each page counted over every iopt_pages of
 *                  the process (pages.c), by address for user memory and
 *                  by file and offset for file memory;
 *   ACCESS_PAGES   the pinned pages must be the user's pages (EBADE).
 * A user page that is not mapped gives EFAULT in all three, as GUP does.
 *
 *   test dma-bufs (DMABUF_GET, v6.19): an exporter of zeroed whole pages
 *     (1..512) with no CPU access, handed out as a dma-buf fd (the ioctl's
 *     value; util/dmabuf.c). DMABUF_REVOKE sets or clears its revoked
 *     flag and moves the buffer (dma_buf_move_notify() on every call, as
 *     Linux does), so iommufd's importer unmaps it from every domain
 *     (pages.c); while revoked, the exporter refuses new maps with ENODEV.
 *     An fd that is not open is EBADF, an open file that is not a dma-buf
 *     EINVAL (dma_buf_get()). MD_CHECK_DMABUF (after v6.19) compares a
 *     mock domain's translation with the buffer's memory.
 *
 * SET_TEMP_MEMORY_LIMIT is validated and stored, but pinning here needs no
 * batch memory, so it changes nothing.
 *
 * Device models in this process reach a stdev's mock device through
 * iommufd_selftest_dev_hold(), which holds the object and the context the
 * way an mmap of a vIOMMU region does, so the device cannot be unplugged
 * under a DMA.
 *
 * Locks: none of its own beyond an access fd's item lock, which is taken
 * around pin and unpin (and by the unmap callback, which the core calls
 * with no lock held), and a test dma-buf's revoked flag, which is under
 * the buffer's reservation lock. Attach changes and the fault / event triggers are
 * ordered by the device's iopf_rwsem (device.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/iommufd_test.h>

#include "hw/mock/mock.h"
#include "iommufd/io_pagetable.h"
#include "util/alloc.h"
#include "util/dmabuf.h"

/* ------------------------------------------------------------------ */
/* What the user address space looks like (/proc/self/maps)           */

struct umap {
	uintptr_t start, end; /* [start, end) */
	uint64_t offset, dev, ino;
};

struct umaps {
	struct umap *v;
	size_t n;
};

static void umaps_free(struct umaps *m)
{
	ufree(m->v);
	m->v = NULL;
	m->n = 0;
}

/* The file-backed mappings of the process, in address order. 0 or -ENOMEM / -EIO. */
static int umaps_read(struct umaps *m)
{
	size_t cap = 64, len = 0, bufsz = 1 << 16;
	char *buf = ualloc(bufsz), *line;
	int fd, rc = 0;
	ssize_t n;

	m->v = NULL;
	m->n = 0;
	if (!buf)
		return -ENOMEM;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ufree(buf);
		return -EIO;
	}
	for (;;) {
		if (len + 1 >= bufsz) {
			char *nbuf = ualloc(bufsz * 2);

			if (!nbuf) {
				rc = -ENOMEM;
				goto out;
			}
			memcpy(nbuf, buf, len);
			ufree(buf);
			buf = nbuf;
			bufsz *= 2;
		}
		n = read(fd, buf + len, bufsz - len - 1);
		if (n < 0) {
			rc = -EIO;
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';

	m->v = ucalloc(cap, sizeof(*m->v));
	if (!m->v) {
		rc = -ENOMEM;
		goto out;
	}
	for (line = buf; line && *line;) {
		char *next = strchr(line, '\n');
		unsigned long long start, end, off, ino;
		unsigned int maj, min;

		if (next)
			*next++ = '\0';
		if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu", &start, &end, &off, &maj, &min,
			   &ino) == 6 &&
		    ino) {
			if (m->n == cap) {
				struct umap *nv = ucalloc(cap * 2, sizeof(*nv));

				if (!nv) {
					rc = -ENOMEM;
					goto out;
				}
				memcpy(nv, m->v, cap * sizeof(*nv));
				ufree(m->v);
				m->v = nv;
				cap *= 2;
			}
			m->v[m->n++] = (struct umap){.start = (uintptr_t)start,
						     .end = (uintptr_t)end,
						     .offset = off,
						     .dev = makedev(maj, min),
						     .ino = ino};
		}
		line = next;
	}
out:
	close(fd);
	ufree(buf);
	if (rc)
		umaps_free(m);
	return rc;
}

static const struct umap *umaps_find(const struct umaps *m, uintptr_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}

/*
 * Do host addresses @a and @b reach the same memory? The same address, or
 * the same byte of the same file (two mappings of one memfd).
 */
static bool same_backing(const struct umaps *m, uintptr_t a, uintptr_t b)
{
	const struct umap *ma, *mb;

	if (a == b)
		return true;
	ma = umaps_find(m, a);
	mb = umaps_find(m, b);
	return ma && mb && ma->dev == mb->dev && ma->ino == mb->ino &&
	       ma->offset + (a - ma->start) == mb->offset + (b - mb->start);
}

/* GUP's EFAULT: every page of [uptr, uptr + length) must be readable. */
static int user_pages_readable(uintptr_t uptr, uint64_t length)
{
	return probe_user_pages((const void *)uptr, length, PAGE_SIZE, false) ? -EFAULT : 0;
}

/* ------------------------------------------------------------------ */
/* Selftest objects: a bound, attached mock device                    */

enum selftest_obj_type {
	TYPE_IDEV,
};

struct selftest_obj {
	struct iommufd_object obj;
	enum selftest_obj_type type;
	struct {
		struct iommufd_device *idev;
		struct udev *mock_dev;
	} idev;
};

static struct selftest_obj *iommufd_test_get_selftest_obj(struct iommufd_ctx *ictx, uint32_t id)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_SELFTEST);
	struct selftest_obj *sobj;

	if (IS_ERR(obj))
		return (struct selftest_obj *)obj;
	sobj = container_of(obj, struct selftest_obj, obj);
	if (sobj->type != TYPE_IDEV) {
		iommufd_put_object(ictx, obj);
		return ERR_PTR(-EINVAL);
	}
	return sobj;
}

/* Detach every PASID, then the RID. */
static void selftest_detach_all(struct iommufd_device *idev)
{
	for (;;) {
		uint32_t pasid = IOMMU_NO_PASID;
		bool found = false;

		pthread_mutex_lock(&idev->lock);
		for (unsigned int i = 0; i < idev->nattach; i++) {
			if (idev->attach[i].pasid != IOMMU_NO_PASID) {
				pasid = idev->attach[i].pasid;
				found = true;
				break;
			}
		}
		pthread_mutex_unlock(&idev->lock);
		if (!found)
			break;
		iommufd_device_detach(idev, pasid);
	}
	iommufd_device_detach(idev, IOMMU_NO_PASID);
}

void iommufd_selftest_destroy(struct iommufd_object *obj)
{
	struct selftest_obj *sobj = container_of(obj, struct selftest_obj, obj);

	switch (sobj->type) {
	case TYPE_IDEV:
		selftest_detach_all(sobj->idev.idev);
		iommufd_device_unbind(sobj->idev.idev);
		mock_dev_destroy(sobj->idev.mock_dev);
		break;
	}
}

static int iommufd_test_mock_domain(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	struct iommufd_device *idev;
	struct selftest_obj *sobj;
	uint32_t pt_id = cmd->id, idev_id, dev_flags = 0;
	int rc, err = 0;

	sobj = iommufd_object_alloc(ucmd->ictx, sobj, IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(sobj))
		return (int)PTR_ERR(sobj);
	sobj->type = TYPE_IDEV;

	if (cmd->op == IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS)
		dev_flags = cmd->mock_domain_flags.dev_flags;
	sobj->idev.mock_dev = mock_dev_create(dev_flags, &err);
	if (!sobj->idev.mock_dev) {
		rc = err ? err : -ENOMEM;
		goto out_sobj;
	}

	idev = iommufd_device_bind(ucmd->ictx, sobj->idev.mock_dev, &idev_id, false);
	if (IS_ERR(idev)) {
		rc = (int)PTR_ERR(idev);
		goto out_mdev;
	}
	sobj->idev.idev = idev;

	rc = iommufd_device_attach(idev, IOMMU_NO_PASID, &pt_id);
	if (rc)
		goto out_unbind;

	/* The stdev is what userspace destroys to get rid of the device. */
	cmd->mock_domain.out_hwpt_id = pt_id;
	cmd->mock_domain.out_stdev_id = sobj->obj.id;
	cmd->mock_domain.out_idev_id = idev_id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_detach;
	iommufd_object_finalize(ucmd->ictx, &sobj->obj);
	return 0;

out_detach:
	iommufd_device_detach(idev, IOMMU_NO_PASID);
out_unbind:
	iommufd_device_unbind(idev);
out_mdev:
	mock_dev_destroy(sobj->idev.mock_dev);
out_sobj:
	iommufd_object_abort(ucmd->ictx, &sobj->obj);
	return rc;
}

struct iommufd_selftest_hold {
	struct iommufd_ctx *ictx;
	struct selftest_obj *sobj;
};

struct iommufd_selftest_hold *iommufd_selftest_dev_hold(struct uiommu_file *file,
							 uint32_t stdev_id, struct udev **dev,
							 int *err)
{
	struct iommufd_selftest_hold *hold;
	struct iommufd_ctx *ictx;
	struct selftest_obj *sobj;

	ictx = iommufd_ctx_from_file(file);
	if (IS_ERR(ictx)) {
		*err = (int)PTR_ERR(ictx);
		return NULL;
	}
	hold = uzalloc(sizeof(*hold));
	if (!hold) {
		iommufd_ctx_put(ictx);
		*err = -ENOMEM;
		return NULL;
	}
	sobj = iommufd_test_get_selftest_obj(ictx, stdev_id);
	if (IS_ERR(sobj)) {
		ufree(hold);
		iommufd_ctx_put(ictx);
		*err = (int)PTR_ERR(sobj);
		return NULL;
	}
	/* A users reference, like a mapping's: DESTROY now says EBUSY. */
	iommufd_ref_to_users(&sobj->obj);
	hold->ictx = ictx;
	hold->sobj = sobj;
	*dev = sobj->idev.mock_dev;
	*err = 0;
	return hold;
}

void iommufd_selftest_dev_release(struct iommufd_selftest_hold *hold)
{
	struct iommufd_ctx *ictx;

	if (!hold)
		return;
	ictx = hold->ictx;
	refcount_dec(&hold->sobj->obj.users);
	ufree(hold);
	iommufd_ctx_put(ictx);
}

static int iommufd_test_mock_domain_replace(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj;
	uint32_t pt_id = cmd->mock_domain_replace.pt_id;
	int rc;

	sobj = iommufd_test_get_selftest_obj(ucmd->ictx, cmd->id);
	if (IS_ERR(sobj))
		return (int)PTR_ERR(sobj);
	rc = iommufd_device_replace(sobj->idev.idev, IOMMU_NO_PASID, &pt_id);
	if (!rc) {
		cmd->mock_domain_replace.pt_id = pt_id;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

static int iommufd_test_pasid_attach(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd,
				     bool replace)
{
	struct selftest_obj *sobj;
	/* pasid_attach and pasid_replace have the same layout. */
	uint32_t pasid = cmd->pasid_attach.pasid, pt_id = cmd->pasid_attach.pt_id;
	int rc;

	sobj = iommufd_test_get_selftest_obj(ucmd->ictx, cmd->id);
	if (IS_ERR(sobj))
		return (int)PTR_ERR(sobj);
	if (replace)
		rc = iommufd_device_replace(sobj->idev.idev, pasid, &pt_id);
	else
		rc = iommufd_device_attach(sobj->idev.idev, pasid, &pt_id);
	if (rc)
		goto out_put;
	cmd->pasid_attach.pt_id = pt_id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc && !replace)
		iommufd_device_detach(sobj->idev.idev, pasid);
out_put:
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

static int iommufd_test_pasid_detach(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj;

	sobj = iommufd_test_get_selftest_obj(ucmd->ictx, cmd->id);
	if (IS_ERR(sobj))
		return (int)PTR_ERR(sobj);
	iommufd_device_detach(sobj->idev.idev, cmd->pasid_detach.pasid);
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return 0;
}

static int iommufd_test_pasid_check_hwpt(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	struct iommu_domain *attached;
	struct iommufd_object *obj;
	struct selftest_obj *sobj;
	int rc = 0;

	sobj = iommufd_test_get_selftest_obj(ucmd->ictx, cmd->id);
	if (IS_ERR(sobj))
		return (int)PTR_ERR(sobj);
	attached = mock_dev_pasid_domain(sobj->idev.mock_dev, cmd->pasid_check.pasid);
	/* hwpt_id 0: the PASID must be detached. */
	if (!cmd->pasid_check.hwpt_id) {
		if (attached)
			rc = -EINVAL;
		goto out_put;
	}
	obj = iommufd_get_object(ucmd->ictx, cmd->pasid_check.hwpt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(obj)) {
		rc = (int)PTR_ERR(obj);
		goto out_put;
	}
	if (obj->type != IOMMUFD_OBJ_HWPT_PAGING && obj->type != IOMMUFD_OBJ_HWPT_NESTED)
		rc = -EINVAL;
	else if (attached != to_hwpt(obj)->domain)
		rc = -EINVAL;
	iommufd_put_object(ucmd->ictx, obj);
out_put:
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Checks on mock HWPTs                                               */

/* A mock paging HWPT (ENOENT: not a paging HWPT; EINVAL: not the mock's). */
static struct iommufd_hw_pagetable *get_md_pagetable(struct iommufd_ctx *ictx, uint32_t id,
						     enum iommufd_object_type type)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id, type);
	struct iommufd_hw_pagetable *hwpt;
	bool ok;

	if (IS_ERR(obj))
		return (struct iommufd_hw_pagetable *)obj;
	hwpt = to_hwpt(obj);
	ok = type == IOMMUFD_OBJ_HWPT_PAGING ? mock_domain_is_paging(hwpt->domain)
					     : mock_domain_is_nested(hwpt->domain);
	if (!ok) {
		iommufd_put_object(ictx, obj);
		return ERR_PTR(-EINVAL);
	}
	return hwpt;
}

struct check_map_arg {
	struct iommu_domain *domain;
	uint64_t iova, uptr;
	const struct umaps *maps;
};

/*
 * For mock_domain_check_map(): the host address that user address @uva
 * stands for. That is what the domain maps there when it is the same
 * memory (the address, or another mapping of the same file byte); anything
 * else makes the check fail.
 */
static uint64_t check_map_resolve(void *priv, uint64_t uva)
{
	const struct check_map_arg *arg = priv;
	uint64_t pa = arg->domain->ops->iova_to_phys(arg->domain, arg->iova + (uva - arg->uptr));

	if (pa && same_backing(arg->maps, (uintptr_t)pa, (uintptr_t)uva))
		return pa;
	return uva;
}

static int iommufd_test_md_check_pa(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	uint64_t iova = cmd->check_map.iova, length = cmd->check_map.length;
	uint64_t uptr = cmd->check_map.uptr, end;
	struct iommufd_hw_pagetable *hwpt;
	struct check_map_arg arg;
	struct umaps maps;
	int rc;

	if (iova % MOCK_PAGE_SIZE || length % MOCK_PAGE_SIZE || uptr % MOCK_PAGE_SIZE ||
	    __builtin_add_overflow(uptr, length, &end))
		return -EINVAL;
	hwpt = get_md_pagetable(ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_PAGING);
	if (IS_ERR(hwpt))
		return (int)PTR_ERR(hwpt);
	rc = user_pages_readable((uintptr_t)uptr, length);
	if (rc)
		goto out_put;
	rc = umaps_read(&maps);
	if (rc)
		goto out_put;
	arg = (struct check_map_arg){
		.domain = hwpt->domain, .iova = iova, .uptr = uptr, .maps = &maps};
	rc = mock_domain_check_map(hwpt->domain, iova, length, uptr, check_map_resolve, &arg);
	umaps_free(&maps);
out_put:
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

static int iommufd_test_md_check_refs(struct iommu_test_cmd *cmd)
{
	uint64_t length = cmd->check_refs.length, uptr = cmd->check_refs.uptr, end;
	struct umaps maps;
	int rc;

	if (length % PAGE_SIZE || uptr % PAGE_SIZE || __builtin_add_overflow(uptr, length, &end))
		return -EINVAL;
	rc = user_pages_readable((uintptr_t)uptr, length);
	if (rc)
		return rc;
	rc = umaps_read(&maps);
	if (rc)
		return rc;
	for (uint64_t off = 0; off < length; off += PAGE_SIZE) {
		uintptr_t addr = (uintptr_t)(uptr + off);
		const struct umap *m = umaps_find(&maps, addr);
		unsigned int count = iopt_pages_pin_count(addr);

		/* Pages of a file also count the pins of MAP_FILE maps of that file. */
		if (m)
			count += iopt_pages_file_pin_count(
				m->dev, m->ino, (m->offset + (addr - m->start)) / PAGE_SIZE);
		if (count != cmd->check_refs.refs) {
			rc = -EIO;
			break;
		}
	}
	umaps_free(&maps);
	return rc;
}

static int iommufd_test_md_check_iotlb(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	struct iommufd_hw_pagetable *hwpt;
	int rc;

	hwpt = get_md_pagetable(ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_NESTED);
	if (IS_ERR(hwpt))
		return (int)PTR_ERR(hwpt);
	rc = mock_nested_check_iotlb(hwpt->domain, cmd->check_iotlb.id, cmd->check_iotlb.iotlb);
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

static int iommufd_test_dev_check_cache(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	struct iommufd_device *idev;
	int rc;

	idev = iommufd_get_device(ucmd->ictx, cmd->id);
	if (IS_ERR(idev))
		return (int)PTR_ERR(idev);
	rc = mock_dev_check_cache(idev->dev, cmd->check_dev_cache.id, cmd->check_dev_cache.cache);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

/* The most bits DIRTY takes (Linux 6.12: 16 MiB of bitmap). */
#define DIRTY_MAX_BITS (16ULL * 1024 * 1024 * 8)

static int iommufd_test_dirty(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	uint64_t iova = cmd->dirty.iova, length = cmd->dirty.length;
	uint64_t page_size = cmd->dirty.page_size, max, nr = 0;
	struct iommufd_hw_pagetable *hwpt;
	uint8_t *bits;
	int rc;

	if (!page_size || !length || iova % page_size || length % page_size || !cmd->dirty.uptr)
		return -EINVAL;
	max = length / page_size;
	if (max > DIRTY_MAX_BITS)
		return -EOVERFLOW;

	hwpt = get_md_pagetable(ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_PAGING);
	if (IS_ERR(hwpt))
		return (int)PTR_ERR(hwpt);
	if (!mock_domain_dirty_tracking(hwpt->domain)) {
		rc = -EINVAL;
		goto out_put;
	}
	bits = ualloc((size_t)((max + 7) / 8));
	if (!bits) {
		rc = -ENOMEM;
		goto out_put;
	}
	if (copy_from_user(bits, u64_to_user_ptr(cmd->dirty.uptr), (size_t)((max + 7) / 8))) {
		rc = -EFAULT;
		goto out_free;
	}
	rc = mock_domain_dirty(hwpt->domain, iova, length, page_size, bits, &nr);
	if (rc)
		goto out_free;
	cmd->dirty.out_nr_dirty = nr;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	ufree(bits);
out_put:
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

static int iommufd_test_add_reserved(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	uint64_t start = cmd->add_reserved.start, length = cmd->add_reserved.length, last;
	struct iommufd_ioas *ioas;
	int rc;

	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(start, length - 1, &last))
		return -EOVERFLOW;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->id);
	if (IS_ERR(ioas))
		return (int)PTR_ERR(ioas);
	rc = iopt_reserve_iova(&ioas->iopt, start, last, NULL);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Fault and event triggers                                           */

static int iommufd_test_trigger_iopf(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	struct iommufd_device *idev;

	idev = iommufd_get_device(ucmd->ictx, cmd->trigger_iopf.dev_id);
	if (IS_ERR(idev))
		return (int)PTR_ERR(idev);
	/* Like Linux's: whether anybody took the request is not the op's business. */
	pthread_rwlock_rdlock(&idev->iopf_rwsem);
	(void)mock_dev_trigger_iopf(idev->dev, cmd->trigger_iopf.pasid, cmd->trigger_iopf.grpid,
				    cmd->trigger_iopf.perm, cmd->trigger_iopf.addr);
	pthread_rwlock_unlock(&idev->iopf_rwsem);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return 0;
}

static int iommufd_test_trigger_vevent(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	struct iommufd_device *idev;
	int rc;

	idev = iommufd_get_device(ucmd->ictx, cmd->trigger_vevent.dev_id);
	if (IS_ERR(idev))
		return (int)PTR_ERR(idev);
	pthread_rwlock_rdlock(&idev->iopf_rwsem);
	rc = mock_dev_trigger_vevent(idev->dev);
	pthread_rwlock_unlock(&idev->iopf_rwsem);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Access fds                                                         */

struct selftest_access {
	struct iommufd_access *access; /* NULL until the fd is handed out */
	pthread_mutex_t lock;	       /* guards items and next_id */
	struct list_head items;
	unsigned int next_id;
};

struct selftest_access_item {
	struct list_head items_elm;
	uint64_t iova, length;
	unsigned int id;
};

static const struct ufile_ops iommufd_test_staccess_fops;

/* The access behind fd @fd, with a file reference; ERR_PTR(-EBADFD). */
static struct selftest_access *iommufd_access_get(int fd, struct uiommu_file **filep)
{
	struct uiommu_file *file = ufile_lookup(fd);

	if (!file)
		return ERR_PTR(-EBADFD);
	if (file->ops != &iommufd_test_staccess_fops || !file->private_data ||
	    !((struct selftest_access *)file->private_data)->access) {
		ufile_put(file);
		return ERR_PTR(-EBADFD);
	}
	*filep = file;
	return file->private_data;
}

/* The core unmaps [iova, iova + length): drop every item that touches it. */
static void iommufd_test_access_unmap(void *data, uint64_t iova, uint64_t length)
{
	uint64_t iova_last = iova + (length - 1);
	struct selftest_access *staccess = data;
	struct selftest_access_item *item, *tmp;

	pthread_mutex_lock(&staccess->lock);
	list_for_each_entry_safe(item, tmp, &staccess->items, items_elm)
	{
		if (iova > item->iova + (item->length - 1) || iova_last < item->iova)
			continue;
		list_del(&item->items_elm);
		iommufd_access_unpin_pages(staccess->access, item->iova, item->length);
		ufree(item);
	}
	pthread_mutex_unlock(&staccess->lock);
}

static void iommufd_test_staccess_release(struct uiommu_file *file)
{
	struct selftest_access *staccess = file->private_data;

	if (staccess->access) {
		iommufd_test_access_unmap(staccess, 0, UINT64_MAX);
		iommufd_access_destroy(staccess->access);
	}
	pthread_mutex_destroy(&staccess->lock);
	ufree(staccess);
}

static const struct ufile_ops iommufd_test_staccess_fops = {
	.name = "iommufd_test_staccess",
	.release = iommufd_test_staccess_release,
};

static const struct iommufd_access_ops selftest_access_ops_pin = {
	.needs_pin_pages = true,
	.unmap = iommufd_test_access_unmap,
};

static const struct iommufd_access_ops selftest_access_ops = {
	.unmap = iommufd_test_access_unmap,
};

static int iommufd_test_create_access(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	uint32_t flags = cmd->create_access.flags;
	struct selftest_access *staccess;
	struct iommufd_access *access;
	struct uiommu_file *file;
	uint32_t id;
	int rc, err = 0;

	if (flags & ~MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)
		return -EOPNOTSUPP;

	staccess = uzalloc(sizeof(*staccess));
	if (!staccess)
		return -ENOMEM;
	INIT_LIST_HEAD(&staccess->items);
	pthread_mutex_init(&staccess->lock, NULL);
	file = ufile_create(&iommufd_test_staccess_fops, staccess, UFILE_BACKING_MEMFD,
			    O_RDWR | O_CLOEXEC, &err);
	if (!file) {
		pthread_mutex_destroy(&staccess->lock);
		ufree(staccess);
		return err;
	}

	access = iommufd_access_create(ucmd->ictx,
				       flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES
					       ? &selftest_access_ops_pin
					       : &selftest_access_ops,
				       staccess, &id);
	if (IS_ERR(access)) {
		rc = (int)PTR_ERR(access);
		goto out_close;
	}
	rc = iommufd_access_attach(access, cmd->id);
	if (rc)
		goto out_destroy;
	cmd->create_access.out_access_fd = (uint32_t)file->fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_destroy;
	staccess->access = access;
	return 0;

out_destroy:
	iommufd_access_destroy(access);
out_close:
	ufile_close(file);
	return rc;
}

static int iommufd_test_access_replace_ioas(struct iommu_test_cmd *cmd)
{
	struct selftest_access *staccess;
	struct uiommu_file *file;
	int rc;

	staccess = iommufd_access_get((int)cmd->id, &file);
	if (IS_ERR(staccess))
		return (int)PTR_ERR(staccess);
	rc = iommufd_access_replace(staccess->access, cmd->access_replace_ioas.ioas_id);
	ufile_put(file);
	return rc;
}

/*
 * MOCK_FLAGS_ACCESS_SYZ: syzkaller's IOVA is {u32 nth area, u32 offset}
 * (little endian in the u64): the offset into the nth area of the access's
 * IOAS, 0 when there is no such area.
 */
static uint64_t iommufd_test_syz_conv_iova(struct iommufd_access *access, uint64_t iova)
{
	uint32_t nth = (uint32_t)iova, offset = (uint32_t)(iova >> 32);
	struct iopt_area *area;
	struct io_pagetable *iopt;
	uint64_t ret = 0;

	pthread_mutex_lock(&access->ioas_lock);
	if (access->ioas) {
		iopt = &access->ioas->iopt;
		pthread_rwlock_rdlock(&iopt->iova_rwsem);
		for (area = iopt_area_iter_first(iopt, 0, UINT64_MAX); area;
		     area = iopt_area_iter_next(area, 0, UINT64_MAX)) {
			if (!nth--) {
				ret = iopt_area_iova(area) + offset;
				break;
			}
		}
		pthread_rwlock_unlock(&iopt->iova_rwsem);
	}
	pthread_mutex_unlock(&access->ioas_lock);
	return ret;
}

/* The pinned pages must be the user's pages at @uptr (EBADE otherwise). */
static int iommufd_test_check_pages(uintptr_t uptr, void **pages, uint64_t npages)
{
	struct umaps maps;
	int rc;

	rc = user_pages_readable(uptr, npages * PAGE_SIZE);
	if (rc)
		return rc;
	rc = umaps_read(&maps);
	if (rc)
		return rc;
	for (uint64_t i = 0; i < npages; i++) {
		if (!same_backing(&maps, (uintptr_t)pages[i], uptr + i * PAGE_SIZE)) {
			rc = -EBADE;
			break;
		}
	}
	umaps_free(&maps);
	return rc;
}

#define ACCESS_MAX_LENGTH (16ULL * 1024 * 1024)

static int iommufd_test_access_pages(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	uint64_t iova = cmd->access_pages.iova, length = cmd->access_pages.length;
	uint32_t flags = cmd->access_pages.flags;
	struct selftest_access_item *item;
	struct selftest_access *staccess;
	struct uiommu_file *file;
	uint64_t npages, first, end;
	void **pages;
	int rc;

	/* Linux's guard against huge page arrays. */
	if (length > ACCESS_MAX_LENGTH)
		return -ENOMEM;
	if (flags & ~(MOCK_FLAGS_ACCESS_WRITE | MOCK_FLAGS_ACCESS_SYZ))
		return -EOPNOTSUPP;

	staccess = iommufd_access_get((int)cmd->id, &file);
	if (IS_ERR(staccess))
		return (int)PTR_ERR(staccess);
	if (staccess->access->ops != &selftest_access_ops_pin) {
		rc = -EOPNOTSUPP;
		goto out_put;
	}
	if (flags & MOCK_FLAGS_ACCESS_SYZ)
		iova = iommufd_test_syz_conv_iova(staccess->access, iova);

	if (!length || __builtin_add_overflow(iova, length, &end) ||
	    end > UINT64_MAX - (PAGE_SIZE - 1)) {
		/* Let the core give the errno (EINVAL, EOVERFLOW). */
		npages = 1;
	} else {
		first = iova & PAGE_MASK;
		npages = (((end + PAGE_SIZE - 1) & PAGE_MASK) - first) / PAGE_SIZE;
	}
	pages = ucalloc(npages, sizeof(*pages));
	if (!pages) {
		rc = -ENOMEM;
		goto out_put;
	}

	pthread_mutex_lock(&staccess->lock);
	rc = iommufd_access_pin_pages(staccess->access, iova, length, pages,
				      flags & MOCK_FLAGS_ACCESS_WRITE ? IOMMUFD_ACCESS_RW_WRITE
								      : 0);
	if (rc)
		goto out_unlock;

	/* syzkaller passes no user pointer to skip the check. */
	if (cmd->access_pages.uptr) {
		rc = iommufd_test_check_pages(
			(uintptr_t)(cmd->access_pages.uptr - (iova & (PAGE_SIZE - 1))), pages,
			npages);
		if (rc)
			goto out_unaccess;
	}

	item = uzalloc(sizeof(*item));
	if (!item) {
		rc = -ENOMEM;
		goto out_unaccess;
	}
	item->iova = iova;
	item->length = length;
	item->id = staccess->next_id++;
	list_add_tail(&item->items_elm, &staccess->items);

	cmd->access_pages.out_access_pages_id = item->id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_free_item;
	goto out_unlock;

out_free_item:
	list_del(&item->items_elm);
	ufree(item);
out_unaccess:
	iommufd_access_unpin_pages(staccess->access, iova, length);
out_unlock:
	pthread_mutex_unlock(&staccess->lock);
	ufree(pages);
out_put:
	ufile_put(file);
	return rc;
}

static int iommufd_test_access_item_destroy(struct iommu_test_cmd *cmd)
{
	struct selftest_access_item *item;
	struct selftest_access *staccess;
	struct uiommu_file *file;
	int rc = -ENOENT;

	staccess = iommufd_access_get((int)cmd->id, &file);
	if (IS_ERR(staccess))
		return (int)PTR_ERR(staccess);
	pthread_mutex_lock(&staccess->lock);
	list_for_each_entry(item, &staccess->items, items_elm)
	{
		if (item->id != cmd->destroy_access_pages.access_pages_id)
			continue;
		list_del(&item->items_elm);
		iommufd_access_unpin_pages(staccess->access, item->iova, item->length);
		ufree(item);
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&staccess->lock);
	ufile_put(file);
	return rc;
}

static int iommufd_test_access_rw(struct iommu_test_cmd *cmd)
{
	uint64_t iova = cmd->access_rw.iova, length = cmd->access_rw.length;
	uint32_t flags = cmd->access_rw.flags;
	void *ubuf = u64_to_user_ptr(cmd->access_rw.uptr);
	struct selftest_access *staccess;
	struct uiommu_file *file;
	void *tmp;
	int rc;

	if (length > ACCESS_MAX_LENGTH)
		return -ENOMEM;
	if (flags & ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH | MOCK_FLAGS_ACCESS_SYZ))
		return -EOPNOTSUPP;

	staccess = iommufd_access_get((int)cmd->id, &file);
	if (IS_ERR(staccess))
		return (int)PTR_ERR(staccess);
	tmp = uzalloc(length ? (size_t)length : 1);
	if (!tmp) {
		rc = -ENOMEM;
		goto out_put;
	}
	if ((flags & MOCK_ACCESS_RW_WRITE) && copy_from_user(tmp, ubuf, (size_t)length)) {
		rc = -EFAULT;
		goto out_free;
	}
	if (flags & MOCK_FLAGS_ACCESS_SYZ)
		iova = iommufd_test_syz_conv_iova(staccess->access, iova);
	/* The copy has one path here: SLOW_PATH changes nothing. */
	rc = iommufd_access_rw(staccess->access, iova, tmp, (size_t)length,
			       flags & MOCK_ACCESS_RW_WRITE ? IOMMUFD_ACCESS_RW_WRITE : 0);
	if (rc)
		goto out_free;
	if (!(flags & MOCK_ACCESS_RW_WRITE) && copy_to_user(ubuf, tmp, (size_t)length))
		rc = -EFAULT;
out_free:
	ufree(tmp);
out_put:
	ufile_put(file);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The test dma-buf exporter (DMABUF_GET / DMABUF_REVOKE, v6.19)      */

/*
 * Zeroed memory of whole pages that only importers reach (no CPU access
 * through the fd), and whether the test revoked it. @revoked is under the
 * buffer's reservation lock.
 */
struct iommufd_test_dma_buf {
	void *memory;
	size_t length;
	bool revoked;
};

/* The most DMABUF_GET makes: 512 pages. */
#define DMABUF_MAX_PAGES 512

static int iommufd_test_dma_buf_phys(struct dma_buf *dmabuf, uintptr_t *addr, size_t *len)
{
	struct iommufd_test_dma_buf *priv = dmabuf->priv;

	if (priv->revoked)
		return -ENODEV;
	*addr = (uintptr_t)priv->memory;
	*len = priv->length;
	return 0;
}

static void iommufd_test_dma_buf_release(struct dma_buf *dmabuf)
{
	struct iommufd_test_dma_buf *priv = dmabuf->priv;

	ufree(priv->memory);
	ufree(priv);
}

static const struct dma_buf_ops iommufd_test_dmabuf_ops = {
	.phys = iommufd_test_dma_buf_phys,
	.release = iommufd_test_dma_buf_release,
};

/* A new buffer of @length rounded up to pages; its fd is the ioctl's value. */
static int iommufd_test_dmabuf_get(unsigned int open_flags, uint64_t length)
{
	struct iommufd_test_dma_buf *priv;
	struct dma_buf *dmabuf;
	int fd;

	length = (length + PAGE_SIZE - 1) & PAGE_MASK;
	if (!length || length > (uint64_t)DMABUF_MAX_PAGES * PAGE_SIZE)
		return -EINVAL;
	priv = uzalloc(sizeof(*priv));
	if (!priv)
		return -ENOMEM;
	priv->length = (size_t)length;
	priv->memory = ualloc_aligned(PAGE_SIZE, priv->length);
	if (!priv->memory) {
		fd = -ENOMEM;
		goto err_free;
	}
	fd = dma_buf_export(&iommufd_test_dmabuf_ops, priv, priv->length, (int)open_flags, &dmabuf);
	if (fd < 0)
		goto err_free;
	return fd;

err_free:
	ufree(priv->memory);
	ufree(priv);
	return fd;
}

/*
 * Set or clear the revoked state and tell the importers (every call, as
 * Linux's dma_buf_move_notify() does; see pages.c for what they do).
 */
static int iommufd_test_dmabuf_revoke(int fd, bool revoked)
{
	struct iommufd_test_dma_buf *priv;
	struct dma_buf *dmabuf;
	int rc = 0;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return (int)PTR_ERR(dmabuf);
	if (dmabuf->ops != &iommufd_test_dmabuf_ops) {
		rc = -EOPNOTSUPP;
		goto out_put;
	}
	priv = dmabuf->priv;
	dma_buf_lock(dmabuf);
	priv->revoked = revoked;
	dma_buf_move_notify(dmabuf);
	dma_buf_unlock(dmabuf);
out_put:
	dma_buf_put(dmabuf);
	return rc;
}

/*
 * MD_CHECK_DMABUF: the mock paging domain @hwpt_id must translate each
 * mock page of [iova, iova + length) to the same byte of the test dma-buf
 * at [offset, offset + length). Looks at the exporter's memory directly,
 * so a revoked buffer is checked too (and then does not match).
 */
static int iommufd_test_md_check_dmabuf(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	uint64_t iova = cmd->check_dmabuf.iova, length = cmd->check_dmabuf.length;
	uint64_t offset = cmd->check_dmabuf.offset, end;
	struct iommufd_test_dma_buf *priv;
	struct iommufd_hw_pagetable *hwpt;
	struct dma_buf *dmabuf;
	int rc;

	hwpt = get_md_pagetable(ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_PAGING);
	if (IS_ERR(hwpt))
		return (int)PTR_ERR(hwpt);
	dmabuf = dma_buf_get(cmd->check_dmabuf.dmabuf_fd);
	if (IS_ERR(dmabuf)) {
		rc = (int)PTR_ERR(dmabuf);
		goto out_put_hwpt;
	}
	priv = dmabuf->priv;
	if (dmabuf->ops != &iommufd_test_dmabuf_ops ||
	    __builtin_add_overflow(offset, length, &end) || end > priv->length) {
		rc = -EINVAL;
		goto out_put_dmabuf;
	}
	/* Alignment to the domain's smallest page is checked there (EINVAL). */
	rc = mock_domain_check_map(hwpt->domain, iova, length,
				   (uintptr_t)priv->memory + offset, NULL, NULL);
out_put_dmabuf:
	dma_buf_put(dmabuf);
out_put_hwpt:
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The multiplexer                                                    */

/* SET_TEMP_MEMORY_LIMIT's value; pinning here uses no batch memory. */
static _Atomic uint32_t iommufd_test_memory_limit = 65536;

int iommufd_test(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;

	switch (cmd->op) {
	case IOMMU_TEST_OP_ADD_RESERVED:
		return iommufd_test_add_reserved(ucmd, cmd);
	case IOMMU_TEST_OP_MOCK_DOMAIN:
	case IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
		return iommufd_test_mock_domain(ucmd, cmd);
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
		return iommufd_test_mock_domain_replace(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_MAP:
		return iommufd_test_md_check_pa(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_REFS:
		return iommufd_test_md_check_refs(cmd);
	case IOMMU_TEST_OP_MD_CHECK_IOTLB:
		return iommufd_test_md_check_iotlb(ucmd, cmd);
	case IOMMU_TEST_OP_DEV_CHECK_CACHE:
		return iommufd_test_dev_check_cache(ucmd, cmd);
	case IOMMU_TEST_OP_CREATE_ACCESS:
		return iommufd_test_create_access(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_REPLACE_IOAS:
		return iommufd_test_access_replace_ioas(cmd);
	case IOMMU_TEST_OP_ACCESS_PAGES:
		return iommufd_test_access_pages(ucmd, cmd);
	case IOMMU_TEST_OP_ACCESS_RW:
		return iommufd_test_access_rw(cmd);
	case IOMMU_TEST_OP_DESTROY_ACCESS_PAGES:
		return iommufd_test_access_item_destroy(cmd);
	case IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		/* Linux's batch needs room for one element (a long and a u32). */
		if (cmd->memory_limit.limit < sizeof(unsigned long) + sizeof(uint32_t))
			return -EINVAL;
		iommufd_test_memory_limit = cmd->memory_limit.limit;
		return 0;
	case IOMMU_TEST_OP_DIRTY:
		return iommufd_test_dirty(ucmd, cmd);
	case IOMMU_TEST_OP_TRIGGER_IOPF:
		return iommufd_test_trigger_iopf(ucmd, cmd);
	case IOMMU_TEST_OP_TRIGGER_VEVENT:
		return iommufd_test_trigger_vevent(ucmd, cmd);
	case IOMMU_TEST_OP_PASID_ATTACH:
		return iommufd_test_pasid_attach(ucmd, cmd, false);
	case IOMMU_TEST_OP_PASID_REPLACE:
		return iommufd_test_pasid_attach(ucmd, cmd, true);
	case IOMMU_TEST_OP_PASID_DETACH:
		return iommufd_test_pasid_detach(ucmd, cmd);
	case IOMMU_TEST_OP_PASID_CHECK_HWPT:
		return iommufd_test_pasid_check_hwpt(ucmd, cmd);
	case IOMMU_TEST_OP_DMABUF_GET:
		return iommufd_test_dmabuf_get(cmd->dmabuf_get.open_flags,
					       cmd->dmabuf_get.length);
	case IOMMU_TEST_OP_DMABUF_REVOKE:
		return iommufd_test_dmabuf_revoke(cmd->dmabuf_revoke.dmabuf_fd,
						  cmd->dmabuf_revoke.revoked);
	case IOMMU_TEST_OP_MD_CHECK_DMABUF:
		return iommufd_test_md_check_dmabuf(ucmd, cmd);
	default:
		return -EOPNOTSUPP;
	}
}
