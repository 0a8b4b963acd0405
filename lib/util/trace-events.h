/* SPDX-License-Identifier: MIT */
/*
 * trace-events.h - every trace point of libuiommu, in one list.
 *
 *	TRACE_EVENT(name, (prototype), (arguments), "printf format")
 *
 * util/trace.h expands this list several times (into an enum of IDs, a
 * table of names and the trace_<name>() inline functions), so the file has
 * no include guard and must contain nothing but TRACE_EVENT lines and
 * comments. Rules for an event:
 *  - the name starts with its layer's prefix (pt_, xlate_, smmu_, vtd_,
 *    iopt_, iommufd_, vfio_ ...) so patterns like "smmu_*" select a layer;
 *  - 1 to 12 arguments of integer or pointer type (a USDT probe carries at
 *    most 12; strings are passed as pointers and printed with %s);
 *  - the format names every argument ("iova=0x%" PRIx64 ...), and the
 *    compiler checks it against the prototype.
 * A USDT probe uiommu:<name> fires with the arguments in order.
 */
/* clang-format off */

/* lib/pt: one call of pt_map / pt_unmap on an owned table; @fmt is pt_format_name(). */
TRACE_EVENT(pt_map,
	    (const char *fmt, uint64_t iova, uint64_t pa, uint64_t size, unsigned int prot,
	     int ret),
	    (fmt, iova, pa, size, prot, ret),
	    "fmt=%s iova=0x%" PRIx64 " pa=0x%" PRIx64 " size=0x%" PRIx64 " prot=0x%x ret=%d")
TRACE_EVENT(pt_unmap,
	    (const char *fmt, uint64_t iova, uint64_t size, uint64_t unmapped),
	    (fmt, iova, size, unmapped),
	    "fmt=%s iova=0x%" PRIx64 " size=0x%" PRIx64 " unmapped=0x%" PRIx64)

/* lib/xlate: a translation that faulted (enum xlate_class, enum pt_fault_reason as numbers). */
TRACE_EVENT(xlate_fault,
	    (int stage, int cls, int level, int reason, uint64_t iova, uint64_t ipa),
	    (stage, cls, level, reason, iova, ipa),
	    "stage=%d class=%d level=%d reason=%d iova=0x%" PRIx64 " ipa=0x%" PRIx64)
/* lib/xlate: a completed translation (access as PT_PROT_* bits). */
TRACE_EVENT(xlate_walk,
	    (uint64_t iova, unsigned int access, uint64_t pa, uint64_t size),
	    (iova, access, pa, size),
	    "iova=0x%" PRIx64 " access=0x%x pa=0x%" PRIx64 " size=0x%" PRIx64)
/* lib/iommufd: the /dev/iommu file, its ioctls and objects. */
TRACE_EVENT(iommufd_open,
	    (int fd),
	    (fd),
	    "fd=%d")
TRACE_EVENT(iommufd_ioctl,
	    (unsigned int nr, int ret),
	    (nr, ret),
	    "nr=0x%x ret=%d")
TRACE_EVENT(iommufd_vfio_ioctl,
	    (unsigned int cmd, long ret),
	    (cmd, ret),
	    "cmd=0x%x ret=%ld")
TRACE_EVENT(iommufd_object_alloc,
	    (unsigned int id, unsigned int type),
	    (id, type),
	    "id=%u type=%u")
TRACE_EVENT(iommufd_object_destroy,
	    (unsigned int id, unsigned int type, int aborted),
	    (id, type, aborted),
	    "id=%u type=%u aborted=%d")
/* lib/iommufd: io_pagetable areas, pinning and domains. */
TRACE_EVENT(iopt_map,
	    (uint64_t iova, uint64_t length, int prot, int ret),
	    (iova, length, prot, ret),
	    "iova=0x%" PRIx64 " length=0x%" PRIx64 " prot=0x%x ret=%d")
TRACE_EVENT(iopt_unmap,
	    (uint64_t iova, uint64_t last, uint64_t unmapped, int ret),
	    (iova, last, unmapped, ret),
	    "iova=0x%" PRIx64 " last=0x%" PRIx64 " unmapped=0x%" PRIx64 " ret=%d")
TRACE_EVENT(iopt_pin,
	    (const void *host, uint64_t npages, int ret),
	    (host, npages, ret),
	    "host=%p npages=%" PRIu64 " ret=%d")
TRACE_EVENT(iopt_unpin,
	    (const void *host, uint64_t npages),
	    (host, npages),
	    "host=%p npages=%" PRIu64)
TRACE_EVENT(iopt_domain_add,
	    (const void *domain, uint64_t alignment, int ret),
	    (domain, alignment, ret),
	    "domain=%p alignment=0x%" PRIx64 " ret=%d")
TRACE_EVENT(iopt_domain_remove,
	    (const void *domain),
	    (domain),
	    "domain=%p")
/* lib/hw/smmuv3 (the driver): commands issued, STEs written, event records consumed. */
TRACE_EVENT(smmu_cmd,
	    (const char *smmu, unsigned int op, uint64_t cmd0, uint64_t cmd1),
	    (smmu, op, cmd0, cmd1),
	    "smmu=%s op=0x%02x cmd0=0x%016" PRIx64 " cmd1=0x%016" PRIx64)
TRACE_EVENT(smmu_cmd_error,
	    (const char *smmu, unsigned int index, unsigned int cerror),
	    (smmu, index, cerror),
	    "smmu=%s index=%u cerror=%u")
TRACE_EVENT(smmu_ste,
	    (const char *smmu, uint32_t sid, uint64_t q0, uint64_t q1, uint64_t q2, uint64_t q3),
	    (smmu, sid, q0, q1, q2, q3),
	    "smmu=%s sid=0x%x q0=0x%016" PRIx64 " q1=0x%016" PRIx64 " q2=0x%016" PRIx64
	    " q3=0x%016" PRIx64)
TRACE_EVENT(smmu_evt,
	    (const char *smmu, unsigned int type, uint32_t sid, uint64_t q1, uint64_t addr,
	     const char *to),
	    (smmu, type, sid, q1, addr, to),
	    "smmu=%s type=0x%02x sid=0x%x q1=0x%016" PRIx64 " addr=0x%" PRIx64 " to=%s")
/* clang-format on */
