// SPDX-License-Identifier: MIT
/*
 * uiommu_sysfs.c - the few sysfs entries a VMM looks up before it opens a
 * VFIO group: for each PCI device VFIO has, its entry under
 * /sys/bus/pci/devices and its iommu_group link.
 *
 * A VMM given a device as a PCI address (QEMU's -device vfio-pci,host=BDF)
 * finds the group by stat(2)ing /sys/bus/pci/devices/BDF and readlink(2)ing
 * its iommu_group, whose target ends in the group number. The emulated
 * devices have no sysfs of their own, and the host's entry of the same
 * address (if the host has one) is some other device; so these entries are
 * answered here, modelled on Linux's layout (drivers/base, drivers/pci,
 * drivers/iommu/iommu.c):
 *
 *	/sys/bus/pci/devices/BDF      link -> ../../../devices/pciDDDD:BB/BDF
 *	/sys/devices/pciDDDD:BB/BDF   the device's directory
 *	  .../BDF/iommu_group         link -> ../../../kernel/iommu_groups/N
 *	/sys/kernel/iommu_groups/N    the group's directory
 *
 * Every bus is shown as a root bus (pciDDDD:BB), as the topology has no
 * bridges. Nothing else exists below these directories (ENOENT): no
 * attribute files, no config, no driver link, which no VMM using the VFIO
 * uAPI reads (the uAPI answers all of it). The directories cannot be opened
 * or listed (the namespace's rule for directories, uiommu_path.c), and the
 * listing of /sys/bus/pci/devices stays the host's.
 *
 * A path is ours when it has one of these shapes and names a device (or a
 * group) that VFIO has; every other path under /sys stays the host's.
 * Paths arrive normalised lexically (uiommu_path.c): a ".." after a link
 * is taken lexically, not from the link's target as the kernel would.
 *
 * No state and no locks of its own: lib/vfio's registry answers which
 * devices and groups exist (the caller holds the fork gate).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "uiommu_private.h"
#include "util/numparse.h"
#include "vfio/vfio.h"
#include "vmm/topology.h"

#define BUS_DEVICES  "/sys/bus/pci/devices/"
#define DEVICES_PCI  "/sys/devices/pci"
#define IOMMU_GROUPS "/sys/kernel/iommu_groups/"
#define PCI_NAME_LEN 12 /* DDDD:BB:DD.F */

static bool has_prefix(const char *s, const char *prefix, size_t *len)
{
	*len = strlen(prefix);
	return !strncmp(s, prefix, *len);
}

bool usysfs_shape(const char *norm)
{
	size_t n;

	if (strncmp(norm, "/sys/", 5))
		return false;
	return has_prefix(norm, BUS_DEVICES, &n) || has_prefix(norm, DEVICES_PCI, &n) ||
	       has_prefix(norm, IOMMU_GROUPS, &n);
}

/* @s starts with a PCI name followed by the end or a slash: copy it to @name. */
static bool pci_name_at(const char *s, char *name)
{
	uint32_t rid;

	if (strlen(s) < PCI_NAME_LEN || (s[PCI_NAME_LEN] && s[PCI_NAME_LEN] != '/'))
		return false;
	memcpy(name, s, PCI_NAME_LEN);
	name[PCI_NAME_LEN] = '\0';
	return topology_pci_name_rid(name, &rid);
}

static void set_dir(struct usysfs_node *n, const char *canon)
{
	n->kind = USYSFS_DIR;
	snprintf(n->canon, sizeof(n->canon), "%s", canon);
}

/* Below the device's directory @dir (canonical) of group @group: @rest ("" or "/..."). */
static void below_device(const char *dir, unsigned int group, const char *rest, bool follow,
			 struct usysfs_node *n)
{
	static const char link[] = "/iommu_group";
	char canon[sizeof(n->canon)];

	if (!*rest) {
		set_dir(n, dir);
		return;
	}
	if (strncmp(rest, link, sizeof(link) - 1)) {
		n->kind = USYSFS_NONE;
		return;
	}
	rest += sizeof(link) - 1;
	if (*rest == '/') {
		/* Through the link: nothing below a group's directory is emulated. */
		n->kind = rest[1] ? USYSFS_NONE : USYSFS_DIR;
		snprintf(n->canon, sizeof(n->canon), IOMMU_GROUPS "%u", group);
		return;
	}
	if (*rest) {
		n->kind = USYSFS_NONE;
		return;
	}
	if (follow) {
		snprintf(canon, sizeof(canon), IOMMU_GROUPS "%u", group);
		set_dir(n, canon);
		return;
	}
	n->kind = USYSFS_LINK;
	snprintf(n->canon, sizeof(n->canon), "%s%s", dir, link);
	snprintf(n->target, sizeof(n->target), "../../../kernel/iommu_groups/%u", group);
}

int usysfs_lookup(const char *norm, bool follow, struct usysfs_node *n)
{
	char name[PCI_NAME_LEN + 1], dir[sizeof(n->canon)];
	unsigned int group;
	const char *rest;
	size_t len;

	memset(n, 0, sizeof(*n));
	if (strncmp(norm, "/sys/", 5))
		return 0;
	if (has_prefix(norm, BUS_DEVICES, &len)) {
		rest = norm + len;
		if (!pci_name_at(rest, name) || vfio_device_group_id(name, &group))
			return 0;
		rest += PCI_NAME_LEN;
		snprintf(dir, sizeof(dir), DEVICES_PCI "%.7s/%s", name, name);
		if (!*rest && !follow) {
			n->kind = USYSFS_LINK;
			snprintf(n->canon, sizeof(n->canon), "%s", norm);
			snprintf(n->target, sizeof(n->target), "../../../devices/pci%.7s/%s", name,
				 name);
			return 1;
		}
		below_device(dir, group, rest, follow, n);
		return 1;
	}
	if (has_prefix(norm, DEVICES_PCI, &len)) {
		/* pciDDDD:BB/DDDD:BB:DD.F, the bus repeated in the name. */
		rest = norm + len;
		if (strlen(rest) < 8 || rest[7] != '/' || !pci_name_at(rest + 8, name) ||
		    strncmp(rest, name, 7) || vfio_device_group_id(name, &group))
			return 0;
		rest += 8 + PCI_NAME_LEN;
		snprintf(dir, sizeof(dir), DEVICES_PCI "%.7s/%s", name, name);
		below_device(dir, group, rest, follow, n);
		return 1;
	}
	if (has_prefix(norm, IOMMU_GROUPS, &len)) {
		char num[12];
		size_t digits = strcspn(norm + len, "/");

		if (!digits || digits >= sizeof(num))
			return 0;
		memcpy(num, norm + len, digits);
		num[digits] = '\0';
		if (!parse_dec_index(num, &group) || !vfio_group_exists(group))
			return 0;
		rest = norm + len + digits;
		if (*rest) {
			n->kind = USYSFS_NONE;
			return 1;
		}
		snprintf(dir, sizeof(dir), IOMMU_GROUPS "%u", group);
		set_dir(n, dir);
		return 1;
	}
	return 0;
}
