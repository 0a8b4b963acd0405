// SPDX-License-Identifier: MIT
/*
 * pages.c - iopt_pages: the memory behind areas, its pinning and its
 * accounting.
 *
 * An iopt_pages is the memory of one MAP / MAP_FILE call: npages host pages
 * from @base. For user memory @base is the program's own address, rounded
 * down to a page; for a file it is a MAP_SHARED mapping of the file that
 * the library makes at MAP_FILE time, so the pages stay reachable (and the
 * file alive) whatever the program later closes or unmaps. That mapping
 * is removed after a grace period of util/epoch, since an emulated device
 * may still be copying into it (lib/hw iommu_dma_rw()). Areas of any
 * IOAS refer to byte ranges of it; COPY shares it between IOASes.
 *
 * "Physical" addresses handed to domains are host addresses (DESIGN.md §1):
 * a page never needs to be looked up, it is at base + index * PAGE_SIZE.
 * What remains of Linux's PFN tiers is the pinning state:
 *
 *   domains_itree  the index range of every area whose IOAS has at least one
 *                  domain ("filled" areas): their pages are mapped in IOMMU
 *                  page tables.
 *   access_itree   the index ranges accesses pinned (iopt_pages_access, one
 *                  node per distinct range, counted).
 *
 * A page is pinned while either tree covers it, once per iopt_pages however
 * many nodes cover it. Pinning a page that becomes covered means what
 * pin_user_pages() means to a caller: the page must be mapped with the
 * permission the mapping needs and is faulted in now (up to
 * IOPT_PROBE_MAX_PAGES by touching each page under the uaccess guard, a
 * load or an atomic no-op write, util/uaccess.h; more with madvise
 * MADV_POPULATE_READ / _WRITE; either way a hole gives EFAULT, read-only
 * memory under a writeable mapping EFAULT as GUP's FOLL_WRITE does, a file
 * page past the end of the file EINVAL as memfd_pin_folios() does), and it
 * is charged:
 *
 *   USER mode  to the user's locked memory, against RLIMIT_MEMLOCK
 *   MM mode    to the process's locked memory, against RLIMIT_MEMLOCK
 *   NONE       not charged (the mapper had CAP_IPC_LOCK)
 *
 * and always to the process's pinned_vm (VmPin). The mode is decided when
 * the pages are first pinned (Linux decides at MAP time; the difference only
 * shows if CAP_IPC_LOCK changes between a map into an IOAS without domains
 * and the first pin). Whether the mapper has CAP_IPC_LOCK is what the
 * context sampled at its first MAP (ictx->cap_ipc_lock, handed to the
 * pages of every MAP), not a capget() per MAP: Linux asks capable() at
 * every MAP, which costs it nothing, and a system call here would cost
 * more than the rest of a small MAP. So a program that changes
 * CAP_IPC_LOCK after a context's first MAP keeps that context's answer
 * (a new context samples again). Userspace cannot keep the program from
 * unmapping pinned user memory; a domain still maps the address afterwards
 * (see DESIGN.md §1); file-backed pages do not have that problem.
 *
 * A dma-buf's pages (IOPT_ADDRESS_DMABUF, MAP_FILE of a dma-buf fd) are
 * the exporter's memory: nothing is faulted in or charged (pin and unpin
 * skip them), accesses cannot use them (EINVAL), and the exporter can
 * revoke them at any time: its move_notify unmaps every (area, domain) pair
 * the pages track and marks them revoked for good (see
 * iopt_dmabuf_revoke()).
 *
 * Design rule kept from Linux: destroy never fails. Unpinning and
 * unaccounting allocate nothing.
 *
 * Overflow: an index is at most npages, far below 2^64, so last_index + 1
 * cannot overflow; IOVAs can reach U64_MAX, so last_iova + 1 can.
 *
 * Locks: pages->mutex guards the two trees, npinned, the accounting state,
 * a dma-buf's revoked flag and (area, domain) tracker, and the area fields
 * filled / num_accesses / num_locks changed here. A revocation holds the
 * dma-buf's reservation lock and takes pages->mutex inside it; the order is
 * iova_rwsem, reservation lock, pages->mutex. Callers hold
 * the owning io_pagetable's iova_rwsem (read is enough for accesses, write
 * for area creation and destruction). pages_list_lock guards the
 * process-wide list used by the pin-count queries (taken without any other
 * lock, then each pages->mutex inside it).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "iommufd/io_pagetable.h"
#include "util/alloc.h"
#include "util/dmabuf.h"
#include "util/epoch.h"
#include "util/trace.h"
#include "util/uaccess.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ  22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef F_GET_SEALS
#define F_GET_SEALS 1034
#endif
#define HUGETLBFS_MAGIC 0x958458f6

static pthread_mutex_t pages_list_lock = PTHREAD_MUTEX_INITIALIZER;
static LIST_HEAD(pages_list);

/* Process-wide charges, in pages (see struct iommufd_pin_stats). */
static _Atomic uint64_t acct_user_locked;
static _Atomic uint64_t acct_mm_locked;
static _Atomic uint64_t acct_mm_pinned;

static bool capget_capable(int cap)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

bool (*iommufd_capable)(int cap) = capget_capable;

void iommufd_pin_stats(struct iommufd_pin_stats *st)
{
	st->user_locked_vm = atomic_load(&acct_user_locked);
	st->mm_locked_vm = atomic_load(&acct_mm_locked);
	st->mm_pinned_vm = atomic_load(&acct_mm_pinned);
}

static uint64_t memlock_limit_pages(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return rl.rlim_cur >> PAGE_SHIFT;
}

/* Add @n to @counter unless that passes @limit (ENOMEM). */
static int charge(_Atomic uint64_t *counter, uint64_t n, uint64_t limit)
{
	uint64_t cur = atomic_load(counter);

	do {
		if (cur + n < cur || cur + n > limit)
			return -ENOMEM;
	} while (!atomic_compare_exchange_weak(counter, &cur, cur + n));
	return 0;
}

/*
 * Linux's account_locked_vm() for callers outside iommufd (the sPAPR TCE
 * container): @bytes (rounded up to host pages) added to or taken from the
 * process's locked memory, the counter type1 charges too; without
 * CAP_IPC_LOCK an increase past RLIMIT_MEMLOCK is -ENOMEM.
 */
int iommufd_account_locked_vm(uint64_t bytes, bool inc)
{
	uint64_t n = (bytes + PAGE_SIZE - 1) >> PAGE_SHIFT;

	if (!n)
		return 0;
	if (!inc) {
		atomic_fetch_sub(&acct_mm_locked, n);
		return 0;
	}
	return charge(&acct_mm_locked, n,
		      iommufd_capable(IOMMUFD_CAP_IPC_LOCK) ? UINT64_MAX : memlock_limit_pages());
}

/* Charge (@inc) or uncharge @npages newly (un)pinned pages. Under pages->mutex. */
static int iopt_pages_update_pinned(struct iopt_pages *pages, uint64_t npages, bool inc)
{
	int rc = 0;

	if (!npages)
		return 0;
	if (!pages->account_decided) {
		pages->account_mode =
			pages->cap_ipc_lock ? IOPT_PAGES_ACCOUNT_NONE : pages->account_req;
		pages->account_decided = true;
	}
	switch (pages->account_mode) {
	case IOPT_PAGES_ACCOUNT_NONE:
		break;
	case IOPT_PAGES_ACCOUNT_USER:
		if (inc)
			rc = charge(&acct_user_locked, npages, memlock_limit_pages());
		else
			atomic_fetch_sub(&acct_user_locked, npages);
		break;
	case IOPT_PAGES_ACCOUNT_MM:
		if (inc)
			rc = charge(&acct_mm_locked, npages, memlock_limit_pages());
		else
			atomic_fetch_sub(&acct_mm_locked, npages);
		break;
	}
	if (rc)
		return rc;
	if (inc)
		atomic_fetch_add(&acct_mm_pinned, npages);
	else
		atomic_fetch_sub(&acct_mm_pinned, npages);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Checking that host memory is there ("pinning")                     */

static int populate_support = -1; /* -1 unknown, 0 no, 1 yes */

static bool have_populate(void)
{
	int v = __atomic_load_n(&populate_support, __ATOMIC_RELAXED);

	if (v < 0) {
		/* A zero-length range still validates the advice. */
		static char probe[1];
		uintptr_t page = (uintptr_t)probe & PAGE_MASK;

		v = !madvise((void *)page, 0, MADV_POPULATE_READ);
		__atomic_store_n(&populate_support, v, __ATOMIC_RELAXED);
	}
	return v;
}

/* Without MADV_POPULATE_*: at least refuse unmapped ranges (mincore). */
static int check_mapped_mincore(uintptr_t addr, size_t len)
{
	unsigned char vec[256];

	while (len) {
		size_t n = len < sizeof(vec) * PAGE_SIZE ? len : sizeof(vec) * PAGE_SIZE;

		if (mincore((void *)addr, n, vec))
			return -EFAULT;
		addr += n;
		len -= n;
	}
	return 0;
}

/*
 * Ranges of at most this many pages are checked by touching each page
 * (probe_user_pages()) rather than with madvise(): a system call costs
 * 0.3-0.7 us in a VM, a touch of a present page a few ns, and the kernel's
 * populate walk about 150 ns a page; beyond it one call amortises.
 */
#define IOPT_PROBE_MAX_PAGES 16

/*
 * The pages of another process (a forked child mapped them, see
 * lib/uiommu_remote.c) become reachable here, all of them at once: our
 * alias replaces @base for good, as the kernel's pinned pages stay with
 * the iopt_pages whatever becomes of the mm afterwards. A process that has
 * exited, or memory of it that is private or not mapped, gives EFAULT.
 * Under pages->mutex.
 */
static int iopt_pages_resolve(struct iopt_pages *pages)
{
	uintptr_t alias;
	size_t mapped;
	int rc;

	if (!pages->remote)
		return 0;
	rc = remote_mm_alias(&pages->mm, pages->base, pages->npages * PAGE_SIZE, pages->writable,
			     &alias, &mapped);
	if (rc)
		return rc;
	pages->base = alias;
	pages->alias_len = mapped;
	pages->remote = false;
	return 0;
}

/*
 * Make sure pages [start, last] of @pages are present with the access the
 * mapping needs, faulting them in like GUP. Nothing to undo afterwards.
 */
static int iopt_pages_check(struct iopt_pages *pages, uint64_t start, uint64_t last)
{
	uintptr_t addr;
	size_t len = (last - start + 1) * PAGE_SIZE;
	int advice = pages->writable ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
	int tries = 0, rc;

	rc = iopt_pages_resolve(pages);
	if (rc)
		return rc;
	addr = pages->base + start * PAGE_SIZE;
	if (pages->type == IOPT_ADDRESS_FILE && (!pages->file_pinnable || !pages->base))
		return -EINVAL;
	/* A few pages: touched under the uaccess guard, no system call. */
	if (last - start < IOPT_PROBE_MAX_PAGES) {
		rc = probe_user_pages((void *)addr, len, PAGE_SIZE, pages->writable);
		/* SIGBUS: a file page past EOF (EINVAL for MAP_FILE), else EFAULT. */
		if (rc == -EIO)
			return pages->type == IOPT_ADDRESS_FILE ? -EINVAL : -EFAULT;
		return rc;
	}
	if (!have_populate())
		return check_mapped_mincore(addr, len);
	while (madvise((void *)addr, len, advice)) {
		switch (errno) {
		case EINTR:
		case EAGAIN:
			if (++tries < 100)
				continue;
			return -EFAULT;
		case EFAULT:
			/* A SIGBUS on access: a file page past EOF. */
			return pages->type == IOPT_ADDRESS_FILE ? -EINVAL : -EFAULT;
		case ENOMEM:
			/* Not mapped. */
		case EINVAL:
			/* PROT_NONE, read-only under FOLL_WRITE, or VM_IO/PFNMAP. */
		default:
			return -EFAULT;
		}
	}
	return 0;
}

static bool iopt_pages_index_pinned(struct iopt_pages *pages, uint64_t index)
{
	return interval_tree_iter_first(&pages->access_itree, index, index) ||
	       interval_tree_iter_first(&pages->domains_itree, index, index);
}

/*
 * Pin the pages of [start, last] that neither tree covers yet. Call before
 * inserting the node that will cover them. Under pages->mutex.
 */
static int iopt_pages_pin(struct iopt_pages *pages, uint64_t start, uint64_t last)
{
	struct interval_tree_double_span_iter span;
	uint64_t npages = 0;
	int rc;

	/* A dma-buf's memory is the exporter's: nothing to fault in, nothing charged. */
	if (iopt_is_dmabuf(pages))
		return 0;
	interval_tree_for_each_double_span(&span, &pages->access_itree, &pages->domains_itree,
					   start, last)
	{
		if (span.is_used)
			continue;
		rc = iopt_pages_check(pages, span.start_hole, span.last_hole);
		if (rc) {
			trace_iopt_pin((void *)(pages->base + span.start_hole * PAGE_SIZE),
				       span.last_hole - span.start_hole + 1, rc);
			return rc;
		}
		npages += span.last_hole - span.start_hole + 1;
	}
	rc = iopt_pages_update_pinned(pages, npages, true);
	trace_iopt_pin((void *)(pages->base + start * PAGE_SIZE), npages, rc);
	if (rc)
		return rc;
	pages->npinned += npages;
	pages->last_npinned = pages->npinned;
	return 0;
}

/*
 * Unpin the pages of [start, last] that neither tree covers any more. Call
 * after removing the node that covered them. Never fails. Under pages->mutex.
 */
static void iopt_pages_unpin(struct iopt_pages *pages, uint64_t start, uint64_t last)
{
	struct interval_tree_double_span_iter span;
	uint64_t npages = 0;

	if (iopt_is_dmabuf(pages))
		return;
	interval_tree_for_each_double_span(&span, &pages->access_itree, &pages->domains_itree,
					   start, last)
	{
		if (!span.is_used)
			npages += span.last_hole - span.start_hole + 1;
	}
	if (!npages)
		return;
	pages->npinned -= npages;
	iopt_pages_update_pinned(pages, npages, false);
	pages->last_npinned = pages->npinned;
	trace_iopt_unpin((void *)(pages->base + start * PAGE_SIZE), npages);
}

/* ------------------------------------------------------------------ */
/* Allocation                                                         */

static struct iopt_pages *iopt_alloc_pages(uint64_t start_byte, uint64_t length, bool writable)
{
	struct iopt_pages *pages;

	/* Keep npages * PAGE_SIZE and the size_t domain API from overflowing. */
	if (length > SIZE_MAX - PAGE_SIZE || length == 0)
		return ERR_PTR(-EINVAL);

	pages = uzalloc(sizeof(*pages));
	if (!pages)
		return ERR_PTR(-ENOMEM);
	atomic_init(&pages->kref, 1);
	pthread_mutex_init(&pages->mutex, NULL);
	pages->npages = (length + start_byte + PAGE_SIZE - 1) / PAGE_SIZE;
	pages->writable = writable;
	pages->account_req = IOPT_PAGES_ACCOUNT_USER;
	pages->access_itree = INTERVAL_TREE_ROOT_INIT;
	pages->domains_itree = INTERVAL_TREE_ROOT_INIT;
	INIT_LIST_HEAD(&pages->all_item);
	INIT_LIST_HEAD(&pages->dmabuf_tracker);
	return pages;
}

static void iopt_pages_publish(struct iopt_pages *pages)
{
	pthread_mutex_lock(&pages_list_lock);
	list_add_tail(&pages->all_item, &pages_list);
	pthread_mutex_unlock(&pages_list_lock);
}

struct iopt_pages *iopt_alloc_user_pages(void *uptr, uint64_t length, bool writable)
{
	uintptr_t down = (uintptr_t)uptr & PAGE_MASK;
	struct iopt_pages *pages;

	if ((uintptr_t)uptr + length < (uintptr_t)uptr)
		return ERR_PTR(-EOVERFLOW);

	pages = iopt_alloc_pages((uintptr_t)uptr - down, length, writable);
	if (IS_ERR(pages))
		return pages;
	pages->base = down;
	pages->type = IOPT_ADDRESS_USER;
	/* Served for a forked child: its memory, reached when first pinned. */
	if (uaccess_current_mm()) {
		pages->mm = *uaccess_current_mm();
		pages->remote = true;
	}
	iopt_pages_publish(pages);
	return pages;
}

struct iopt_pages *iopt_alloc_file_pages(int fd, uint64_t start, uint64_t length, bool writable)
{
	uint64_t start_down = start & PAGE_MASK;
	struct iopt_pages *pages;
	struct statfs sfs;
	struct stat st;
	int fl;
	void *alias;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return ERR_PTR(-EBADF);
	/* A writeable mapping needs a file opened for writing. */
	if (writable && (fl & O_ACCMODE) == O_RDONLY)
		return ERR_PTR(-EPERM);
	if (length && start + (length - 1) < start)
		return ERR_PTR(-EOVERFLOW);

	pages = iopt_alloc_pages(start - start_down, length, writable);
	if (IS_ERR(pages))
		return pages;
	pages->type = IOPT_ADDRESS_FILE;
	pages->file_start = start_down;
	pages->alias_len = pages->npages * PAGE_SIZE;
	if (!fstat(fd, &st)) {
		pages->file_dev = st.st_dev;
		pages->file_ino = st.st_ino;
	}
	/* memfd_pin_folios() takes shmem and hugetlbfs files only. */
	pages->file_pinnable = fcntl(fd, F_GET_SEALS) >= 0 ||
			       (!fstatfs(fd, &sfs) && sfs.f_type == HUGETLBFS_MAGIC);

	/* Our own mapping holds the file and its pages, like get_file() and a pin. */
	alias = mmap(NULL, pages->alias_len, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED,
		     fd, (off_t)start_down);
	if (alias == MAP_FAILED) {
		if (errno == EPERM && writable) {
			/* A write seal: mapping_map_writable() refuses too. */
			pthread_mutex_destroy(&pages->mutex);
			ufree(pages);
			return ERR_PTR(-EPERM);
		}
		alias = NULL;
		pages->file_pinnable = false;
	}
	pages->base = (uintptr_t)alias;
	iopt_pages_publish(pages);
	return pages;
}

static void iopt_dmabuf_revoke(struct iopt_pages *pages);

/* The exporter revoked (or moved) the memory. Under the buffer's reservation lock. */
static void iopt_dmabuf_move_notify(struct dma_buf_attachment *attach)
{
	iopt_dmabuf_revoke(attach->importer_priv);
}

static const struct dma_buf_attach_ops iopt_dmabuf_attach_ops = {
	.move_notify = iopt_dmabuf_move_notify,
};

struct iopt_pages *iopt_alloc_dmabuf_pages(struct dma_buf *dmabuf, uint64_t start, uint64_t length,
					   bool writable)
{
	uint64_t start_down = start & PAGE_MASK;
	struct dma_buf_attachment *attach;
	struct iopt_pages *pages;
	uintptr_t addr;
	size_t len;
	int rc;

	/* The caller checked length != 0 and that start + length - 1 does not wrap. */
	if (dmabuf->size <= start + (length - 1) || length / PAGE_SIZE >= UINT32_MAX)
		return ERR_PTR(-EINVAL);
	pages = iopt_alloc_pages(start - start_down, length, writable);
	if (IS_ERR(pages))
		return pages;
	pages->type = IOPT_ADDRESS_DMABUF;
	/* No pinned-page accounting for a dma-buf. */
	pages->account_req = IOPT_PAGES_ACCOUNT_NONE;
	pages->account_mode = IOPT_PAGES_ACCOUNT_NONE;
	pages->account_decided = true;
	pages->file_start = start_down;

	attach = dma_buf_dynamic_attach(dmabuf, &iopt_dmabuf_attach_ops, pages);
	if (!attach) {
		rc = -ENOMEM;
		goto err_free;
	}
	dma_buf_lock(dmabuf);
	rc = dma_buf_phys(attach, &addr, &len);
	dma_buf_unlock(dmabuf);
	if (!rc && len < dmabuf->size)
		rc = -EINVAL;
	if (rc) {
		dma_buf_detach(dmabuf, attach);
		goto err_free;
	}
	pages->base = addr + start_down;
	pages->dmabuf_attach = attach;
	return pages;

err_free:
	pthread_mutex_destroy(&pages->mutex);
	ufree(pages);
	return ERR_PTR(rc);
}

void iopt_release_pages(struct iopt_pages *pages)
{
	pthread_mutex_lock(&pages_list_lock);
	list_del(&pages->all_item);
	pthread_mutex_unlock(&pages_list_lock);

	if (pages->npinned || !interval_tree_empty(&pages->access_itree) ||
	    !interval_tree_empty(&pages->domains_itree))
		ulog_warn("iommufd: pages released while still pinned (%zu pages)", pages->npinned);
	/*
	 * A device copy that translated into the alias before the domains let
	 * go of it runs inside an epoch section (iommu_dma_rw()): let it end
	 * before the pages go, as an IOTLB sync lets in-flight DMA finish.
	 */
	if ((pages->type == IOPT_ADDRESS_FILE && pages->base) ||
	    (pages->type == IOPT_ADDRESS_USER && pages->alias_len)) {
		epoch_barrier();
		munmap((void *)pages->base, pages->alias_len);
	}
	if (iopt_is_dmabuf(pages)) {
		struct dma_buf *dmabuf = pages->dmabuf_attach->dmabuf;

		if (!list_empty(&pages->dmabuf_tracker))
			ulog_warn("iommufd: dma-buf pages released while still mapped");
		/* The buffer may be the last reference: its memory goes with it. */
		epoch_barrier();
		dma_buf_detach(dmabuf, pages->dmabuf_attach);
		dma_buf_put(dmabuf);
	}
	pthread_mutex_destroy(&pages->mutex);
	ufree(pages);
}

/* ------------------------------------------------------------------ */
/* Domains                                                            */

/* Host address of the first byte of @area. */
static uint64_t iopt_area_host(struct iopt_area *area, struct iopt_pages *pages)
{
	return (uintptr_t)iopt_pages_host(pages, iopt_area_start_byte(area, iopt_area_iova(area)));
}

/*
 * A dma-buf's memory that is still there; a revoked one is neither mapped
 * into a new domain nor unmapped from one (revocation did that already).
 */
static bool iopt_pages_mappable(struct iopt_pages *pages)
{
	return !(iopt_is_dmabuf(pages) && pages->dmabuf_revoked);
}

static int iopt_area_map_one(struct iopt_area *area, struct iopt_pages *pages,
			     struct iommu_domain *domain)
{
	if (!iopt_pages_mappable(pages))
		return 0;
	return iopt_iommu_map(domain, iopt_area_iova(area), iopt_area_host(area, pages),
			      iopt_area_length(area), area->iommu_prot,
			      area->iopt->disable_large_pages);
}

void iopt_area_unmap_domain(struct iopt_area *area, struct iommu_domain *domain)
{
	iopt_iommu_unmap(domain, iopt_area_iova(area), iopt_area_length(area));
}

static void iopt_area_unmap_one(struct iopt_area *area, struct iopt_pages *pages,
				struct iommu_domain *domain)
{
	if (iopt_pages_mappable(pages))
		iopt_area_unmap_domain(area, domain);
}

/*
 * dma-buf revocation tracking: one entry per (area, domain) whose IOPTEs
 * point at the buffer (or would, had it not been revoked), added before
 * the map and removed with the unmap, all under pages->mutex, which is
 * the one lock the revoke path takes. Nothing to do for other pages.
 */
struct iopt_dmabuf_track {
	struct list_head elm;
	struct iopt_area *area;
	struct iommu_domain *domain;
};

static int iopt_dmabuf_track(struct iopt_pages *pages, struct iopt_area *area,
			     struct iommu_domain *domain)
{
	struct iopt_dmabuf_track *track;

	if (!iopt_is_dmabuf(pages))
		return 0;
	track = uzalloc(sizeof(*track));
	if (!track)
		return -ENOMEM;
	track->area = area;
	track->domain = domain;
	list_add_tail(&track->elm, &pages->dmabuf_tracker);
	return 0;
}

/* Untrack @area in @domain, or in every domain when @domain is NULL. */
static void iopt_dmabuf_untrack(struct iopt_pages *pages, struct iopt_area *area,
				struct iommu_domain *domain)
{
	struct iopt_dmabuf_track *track, *tmp;

	if (!iopt_is_dmabuf(pages))
		return;
	list_for_each_entry_safe(track, tmp, &pages->dmabuf_tracker, elm)
	{
		if (track->area != area || (domain && track->domain != domain))
			continue;
		list_del(&track->elm);
		ufree(track);
		if (domain)
			return;
	}
	if (domain)
		ulog_warn("iommufd: untracking a dma-buf area that was not tracked");
}

/*
 * Revocation: unmap the buffer from every domain now, and never map it
 * again; the areas stay until the program unmaps them. Linux treats every
 * move_notify this way, also the one the selftest sends with "revoked =
 * false" (v6.19): the importer cannot tell a restore from a move, and the
 * old mapping is gone either way; a new MAP_FILE maps the buffer again.
 */
static void iopt_dmabuf_revoke(struct iopt_pages *pages)
{
	struct iopt_dmabuf_track *track;

	pthread_mutex_lock(&pages->mutex);
	if (!pages->dmabuf_revoked) {
		list_for_each_entry(track, &pages->dmabuf_tracker, elm)
			iopt_area_unmap_domain(track->area, track->domain);
		pages->dmabuf_revoked = true;
	}
	pthread_mutex_unlock(&pages->mutex);
}

/*
 * A new area, not yet visible (area->pages NULL): pin its pages and map it
 * into every domain of its io_pagetable. On failure nothing changed.
 * Caller holds iova_rwsem for writing.
 */
int iopt_area_fill_domains(struct iopt_area *area, struct iopt_pages *pages)
{
	struct io_pagetable *iopt = area->iopt;
	unsigned int i;
	int rc;

	if (!iopt->next_domain_id)
		return 0;

	pthread_mutex_lock(&pages->mutex);
	for (i = 0; i != iopt->next_domain_id; i++) {
		rc = iopt_dmabuf_track(pages, area, iopt->domains[i]);
		if (rc)
			goto err_untrack;
	}
	rc = iopt_pages_pin(pages, iopt_area_index(area), iopt_area_last_index(area));
	if (rc)
		goto err_untrack;
	for (i = 0; i != iopt->next_domain_id; i++) {
		rc = iopt_area_map_one(area, pages, iopt->domains[i]);
		if (rc)
			goto err_unmap;
	}
	interval_tree_insert(&area->pages_node, &pages->domains_itree);
	area->filled = true;
	pthread_mutex_unlock(&pages->mutex);
	return 0;

err_unmap:
	while (i--)
		iopt_area_unmap_one(area, pages, iopt->domains[i]);
	iopt_pages_unpin(pages, iopt_area_index(area), iopt_area_last_index(area));
err_untrack:
	iopt_dmabuf_untrack(pages, area, NULL);
	pthread_mutex_unlock(&pages->mutex);
	return rc;
}

/* The area is leaving: unmap it from every domain and unpin. Never fails. */
void iopt_area_unfill_domains(struct iopt_area *area, struct iopt_pages *pages)
{
	struct io_pagetable *iopt = area->iopt;
	unsigned int i;

	pthread_mutex_lock(&pages->mutex);
	if (area->filled) {
		for (i = 0; i != iopt->next_domain_id; i++)
			iopt_area_unmap_one(area, pages, iopt->domains[i]);
		interval_tree_remove(&area->pages_node, &pages->domains_itree);
		area->filled = false;
		iopt_pages_unpin(pages, iopt_area_index(area), iopt_area_last_index(area));
		iopt_dmabuf_untrack(pages, area, NULL);
	}
	pthread_mutex_unlock(&pages->mutex);
}

/*
 * A domain is being added: map @area into it, pinning first if the area was
 * not filled yet (the first domain of the io_pagetable).
 */
int iopt_area_fill_domain(struct iopt_area *area, struct iommu_domain *domain)
{
	struct iopt_pages *pages = area->pages;
	int rc;

	pthread_mutex_lock(&pages->mutex);
	rc = iopt_dmabuf_track(pages, area, domain);
	if (rc)
		goto out_unlock;
	if (!area->filled) {
		rc = iopt_pages_pin(pages, iopt_area_index(area), iopt_area_last_index(area));
		if (rc)
			goto err_untrack;
	}
	rc = iopt_area_map_one(area, pages, domain);
	if (rc) {
		if (!area->filled)
			iopt_pages_unpin(pages, iopt_area_index(area), iopt_area_last_index(area));
		goto err_untrack;
	}
	if (!area->filled) {
		interval_tree_insert(&area->pages_node, &pages->domains_itree);
		area->filled = true;
	}
	goto out_unlock;

err_untrack:
	iopt_dmabuf_untrack(pages, area, domain);
out_unlock:
	pthread_mutex_unlock(&pages->mutex);
	return rc;
}

/*
 * @domain is leaving: unmap @area from it; when it was the last domain of the
 * io_pagetable (the caller already removed it from the list), unpin too.
 */
void iopt_area_unfill_domain(struct iopt_area *area, struct iopt_pages *pages,
			     struct iommu_domain *domain)
{
	pthread_mutex_lock(&pages->mutex);
	iopt_area_unmap_one(area, pages, domain);
	iopt_dmabuf_untrack(pages, area, domain);
	if (!area->iopt->next_domain_id && area->filled) {
		interval_tree_remove(&area->pages_node, &pages->domains_itree);
		area->filled = false;
		iopt_pages_unpin(pages, iopt_area_index(area), iopt_area_last_index(area));
	}
	pthread_mutex_unlock(&pages->mutex);
}

/* ------------------------------------------------------------------ */
/* Accesses                                                           */

static struct iopt_pages_access *iopt_pages_get_exact_access(struct iopt_pages *pages,
							     uint64_t index, uint64_t last)
{
	struct interval_tree_node *node;

	for (node = interval_tree_iter_first(&pages->access_itree, index, last); node;
	     node = interval_tree_iter_next(node, index, last))
		if (node->start == index && node->last == last)
			return container_of(node, struct iopt_pages_access, node);
	return NULL;
}

/*
 * Pin [start_index, last_index] of @area's pages for an access and return
 * the host address of each page. Caller holds iova_rwsem (read).
 */
int iopt_area_add_access(struct iopt_area *area, uint64_t start_index, uint64_t last_index,
			 void **out_pages, unsigned int flags, bool lock_area)
{
	struct iopt_pages *pages = area->pages;
	struct iopt_pages_access *access;
	int rc;

	if ((flags & IOMMUFD_ACCESS_RW_WRITE) && !pages->writable)
		return -EPERM;
	/* An access wants struct pages; a dma-buf has none to give. */
	if (iopt_is_dmabuf(pages))
		return -EINVAL;

	pthread_mutex_lock(&pages->mutex);
	access = iopt_pages_get_exact_access(pages, start_index, last_index);
	if (access) {
		access->users++;
	} else {
		access = uzalloc(sizeof(*access));
		if (!access) {
			rc = -ENOMEM;
			goto out_unlock;
		}
		rc = iopt_pages_pin(pages, start_index, last_index);
		if (rc) {
			ufree(access);
			goto out_unlock;
		}
		access->node.start = start_index;
		access->node.last = last_index;
		access->users = 1;
		interval_tree_insert(&access->node, &pages->access_itree);
	}
	if (out_pages)
		for (uint64_t i = start_index; i <= last_index; i++)
			*out_pages++ = (void *)(pages->base + i * PAGE_SIZE);
	area->num_accesses++;
	if (lock_area)
		area->num_locks++;
	rc = 0;
out_unlock:
	pthread_mutex_unlock(&pages->mutex);
	return rc;
}

void iopt_area_remove_access(struct iopt_area *area, uint64_t start_index, uint64_t last_index,
			     bool unlock_area)
{
	struct iopt_pages *pages = area->pages;
	struct iopt_pages_access *access;

	pthread_mutex_lock(&pages->mutex);
	access = iopt_pages_get_exact_access(pages, start_index, last_index);
	if (!access || !area->num_accesses || (unlock_area && !area->num_locks)) {
		ulog_warn("iommufd: unpin of [%" PRIu64 ", %" PRIu64 "] that was not pinned",
			  start_index, last_index);
		goto out_unlock;
	}
	area->num_accesses--;
	if (unlock_area)
		area->num_locks--;
	if (--access->users == 0) {
		interval_tree_remove(&access->node, &pages->access_itree);
		iopt_pages_unpin(pages, start_index, last_index);
		ufree(access);
	}
out_unlock:
	pthread_mutex_unlock(&pages->mutex);
}

int iopt_pages_rw_access(struct iopt_pages *pages, uint64_t start_byte, void *data, uint64_t length,
			 unsigned int flags)
{
	const struct remote_mm *mm;
	void *host;
	int rc;

	if ((flags & IOMMUFD_ACCESS_RW_WRITE) && !pages->writable)
		return -EPERM;
	if (iopt_is_dmabuf(pages))
		return -EINVAL;
	if (pages->type == IOPT_ADDRESS_USER) {
		struct remote_mm rmm;
		uintptr_t at;

		/*
		 * Not pinned yet, another process's memory: reached through
		 * that process while it lives (the kernel's access to an mm it
		 * holds), EFAULT once it has exited.
		 */
		pthread_mutex_lock(&pages->mutex);
		rmm = pages->mm;
		at = pages->base + start_byte;
		rc = pages->remote;
		pthread_mutex_unlock(&pages->mutex);
		if (rc) {
			if (!remote_mm_alive(&rmm))
				return -EFAULT;
			if (flags & IOMMUFD_ACCESS_RW_WRITE)
				return remote_mm_write(&rmm, at, data, length);
			return remote_mm_read(&rmm, data, at, length);
		}
	}
	if (!pages->base)
		return -EFAULT;
	host = iopt_pages_host(pages, start_byte);
	/*
	 * The program's memory may be gone: a guarded copy turns that into
	 * EFAULT. @host is in our own address space even when this thread
	 * serves another process (and @data is the caller's bounce buffer).
	 */
	mm = uaccess_current_mm();
	uaccess_use_mm(NULL);
	if (flags & IOMMUFD_ACCESS_RW_WRITE)
		rc = copy_to_user(host, data, length);
	else
		rc = copy_from_user(data, host, length);
	uaccess_use_mm(mm);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Pin counts (IOMMU_TEST_OP_MD_CHECK_REFS)                           */

unsigned int iopt_pages_pin_count(uintptr_t addr)
{
	uintptr_t page = addr & PAGE_MASK;
	struct iopt_pages *pages;
	unsigned int n = 0;

	pthread_mutex_lock(&pages_list_lock);
	list_for_each_entry(pages, &pages_list, all_item)
	{
		uintptr_t base;

		/* A remote process's pages get their address here when first pinned. */
		pthread_mutex_lock(&pages->mutex);
		base = pages->base;
		if (base && !pages->remote && page >= base &&
		    page - base < pages->npages * PAGE_SIZE)
			n += iopt_pages_index_pinned(pages, (page - base) / PAGE_SIZE);
		pthread_mutex_unlock(&pages->mutex);
	}
	pthread_mutex_unlock(&pages_list_lock);
	return n;
}

unsigned int iopt_pages_file_pin_count(uint64_t dev, uint64_t ino, uint64_t pgoff)
{
	struct iopt_pages *pages;
	unsigned int n = 0;

	pthread_mutex_lock(&pages_list_lock);
	list_for_each_entry(pages, &pages_list, all_item)
	{
		uint64_t first = pages->file_start / PAGE_SIZE;

		if (pages->type != IOPT_ADDRESS_FILE || pages->file_dev != dev ||
		    pages->file_ino != ino || pgoff < first || pgoff - first >= pages->npages)
			continue;
		pthread_mutex_lock(&pages->mutex);
		n += iopt_pages_index_pinned(pages, pgoff - first);
		pthread_mutex_unlock(&pages->mutex);
	}
	pthread_mutex_unlock(&pages_list_lock);
	return n;
}

uintptr_t iopt_pages_file_host(uint64_t dev, uint64_t ino, uint64_t offset)
{
	struct iopt_pages *pages;
	uintptr_t host = 0;

	pthread_mutex_lock(&pages_list_lock);
	list_for_each_entry(pages, &pages_list, all_item) {
		if (pages->type != IOPT_ADDRESS_FILE || !pages->base || pages->file_dev != dev ||
		    pages->file_ino != ino || offset < pages->file_start ||
		    offset - pages->file_start >= pages->alias_len)
			continue;
		host = pages->base + (offset - pages->file_start);
		break;
	}
	pthread_mutex_unlock(&pages_list_lock);
	return host;
}
