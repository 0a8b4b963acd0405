// SPDX-License-Identifier: MIT
/*
 * lib/vmm/machine: topologies made real, through uiommu_open() and the
 * VFIO registry's queries.
 *
 *  - the default topology: groups 1 and 2 and cdevs 0 and 1 appear, the
 *    devices are dmatest functions behind one SMMUv3 with the documented
 *    stream IDs (the STE the driver writes at attach names them), and
 *    everything goes again with machine_destroy();
 *  - machine_destroy() while a device is open: EBUSY, nothing changes;
 *  - a second machine with the same names (EEXIST) or a group behind
 *    another instance (EINVAL): a message, nothing of it left, the first
 *    machine intact;
 *  - fail-nth over machine_create(): -ENOMEM from every allocation and
 *    nothing registered afterwards;
 *  - the process's machine (in child processes, since it is decided once
 *    per process): built from the default topology or UIOMMU_CONFIG at the
 *    first open under /dev/vfio; a bad file makes every such open EINVAL
 *    and logs one FILE:LINE:COL line; a program that registered its own
 *    devices keeps its topology.
 */
#include <fcntl.h>
#include <sys/wait.h>

#include "dev/dmatest/dmatest_vfio.h"
#include "hw/mock/mock.h"
#include "hw/smmuv3/smmuv3_iommu.h"
#include "hw/vtd/vtd_iommu.h"
#include "util/alloc.h"
#include "util/file.h"
#include "vfio/vfio.h"
#include "vmm/machine.h"

#include "iommufd_utils.h"

#include <linux/vfio.h>

static struct topology *load(const char *text)
{
	struct topology *t = NULL;
	char err[512];

	TAP_CHECK(!topology_parse(text, strlen(text), "test.json", &t, err, sizeof(err)), "%s",
		  err);
	return t;
}

static void check_empty(void)
{
	TAP_CHECK_EQ(vfio_device_count(), 0, "devices left");
	TAP_CHECK(!vfio_group_exists(1) && !vfio_group_exists(2), "groups left");
}

/* Open group @g, give it a type1 container, open @name. */
struct vdev {
	struct uiommu_file *c, *g, *d;
};

static void vdev_open(struct vdev *v, const char *group, const char *name)
{
	int32_t fd;
	int dfd;

	v->c = uiommu_open("/dev/vfio/vfio", O_RDWR);
	v->g = uiommu_open(group, O_RDWR);
	TAP_CHECK(v->c && v->g, "open %s: %s", group, strerror(errno));
	fd = uiommu_file_fd(v->c);
	CHECK_OK(uiommu_ioctl(v->g, VFIO_GROUP_SET_CONTAINER, &fd));
	CHECK_OK(uiommu_ioctl(v->c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	dfd = uiommu_ioctl(v->g, VFIO_GROUP_GET_DEVICE_FD, name);
	TAP_CHECK(dfd >= 0, "GET_DEVICE_FD %s: %s", name, strerror(errno));
	v->d = uiommu_file_from_fd(dfd);
}

static void vdev_close(struct vdev *v)
{
	CHECK_OK(uiommu_close(v->d));
	CHECK_OK(uiommu_close(v->g));
	CHECK_OK(uiommu_close(v->c));
}

static void test_default(void *arg)
{
	struct machine *m;
	struct topology *t;
	struct smmuv3_iommu *smmu;
	uint64_t ste[8];
	char err[256];
	struct vdev v;

	TAP_CHECK(!topology_default(&t), "default");
	CHECK_OK(machine_create(t, &m, err, sizeof(err)));
	topology_free(t);
	TAP_CHECK(vfio_group_exists(1) && vfio_group_exists(2) && !vfio_group_exists(3),
		  "groups 1 and 2");
	TAP_CHECK(vfio_cdev_exists(0) && vfio_cdev_exists(1) && !vfio_cdev_exists(2),
		  "cdevs 0 and 1");
	TAP_CHECK_EQ(vfio_device_count(), 2, "two devices");
	TAP_CHECK_EQ(
		vfio_device_cdev_index(dmatest_vfio_device(machine_dmatest(m, "0000:00:02.0"))), 1,
		"cdev numbers in file order");
	TAP_CHECK(!machine_dmatest(m, "0000:00:03.0"), "no third device");
	smmu = machine_smmu(m, "smmu0");
	TAP_CHECK(smmu && machine_doorbell(m, "smmu0") && !machine_smmu(m, "smmu1"), "instance");
	TAP_CHECK_EQ(dmatest_vfio_device(machine_dmatest(m, "0000:00:01.0"))->group_id, 1,
		     "group of 01.0");
	TAP_CHECK(smmuv3_iommu_dev_is_ours(
			  dmatest_vfio_device(machine_dmatest(m, "0000:00:01.0"))->dev),
		  "behind the SMMUv3 driver");
	/* SET_IOMMU attaches the group's device: the driver writes the STE of SID 0x8. */
	CHECK_OK(smmuv3_iommu_read_ste(smmu, 0x8, ste));
	TAP_CHECK_EQ(ste[0] & 0xe, 0, "SID 0x8: abort before (Config 0)");
	vdev_open(&v, "/dev/vfio/1", "0000:00:01.0");
	CHECK_OK(smmuv3_iommu_read_ste(smmu, 0x8, ste));
	/* A type1 container's domain is a plain paging domain: stage 1, as Linux picks it. */
	TAP_CHECK_EQ(ste[0] & 0xf, 1 | 5 << 1, "SID 0x8: valid, stage 1 translate");
	CHECK_OK(smmuv3_iommu_read_ste(smmu, 0x10, ste));
	TAP_CHECK_EQ(ste[0] & 0xe, 0, "SID 0x10 untouched");
	vdev_close(&v);
	CHECK_OK(machine_destroy(m));
	check_empty();
}

/*
 * The topology's "stages": a type1 container's domain is stage 1 on an
 * SMMU with stage 1 (alone or beside stage 2) and stage 2 on a stage-2-only
 * one (STE.Config 0b101 / 0b110, as Linux's arm-smmu-v3 picks them); a
 * stage-1-only SMMU cannot be a nesting parent (VFIO's nesting type and
 * IOMMU_HWPT_ALLOC with NEST_PARENT: EOPNOTSUPP).
 */
static void test_stages(void *arg)
{
	static const struct {
		const char *stages;
		uint64_t config;
	} cases[] = { { "s1+s2", 5 }, { "s1", 5 }, { "s2", 6 } };
	(void)arg;

	for (size_t i = 0; i < ARRAY_SIZE_T(cases); i++) {
		char text[512], err[256];
		struct topology *t;
		struct machine *m;
		struct vdev v;
		uint64_t ste[8];

		snprintf(text, sizeof(text),
			 "{\"iommus\": [{\"name\": \"smmu0\", \"model\": \"smmuv3\", "
			 "\"stages\": \"%s\"}], \"devices\": [{\"type\": \"dmatest\", "
			 "\"name\": \"0000:00:01.0\", \"iommu\": \"smmu0\", \"group\": 1}, "
			 "{\"type\": \"dmatest\", \"name\": \"0000:00:02.0\", \"iommu\": \"smmu0\", "
			 "\"group\": 2, \"ats\": true, \"pri\": true}]}",
			 cases[i].stages);
		t = load(text);
		CHECK_OK(machine_create(t, &m, err, sizeof(err)));
		topology_free(t);
		/* No "ats" in the file: the device has no ATC (its endpoint is NULL). */
		TAP_CHECK(!smmuv3_iommu_dev_ep(
				  dmatest_vfio_device(machine_dmatest(m, "0000:00:01.0"))->dev),
			  "no ATS by default");
		TAP_CHECK(smmuv3_iommu_dev_ep(
				  dmatest_vfio_device(machine_dmatest(m, "0000:00:02.0"))->dev),
			  "\"ats\": true: an ATS endpoint");
		vdev_open(&v, "/dev/vfio/1", "0000:00:01.0");
		CHECK_OK(smmuv3_iommu_read_ste(machine_smmu(m, "smmu0"), 0x8, ste));
		TAP_CHECK_EQ(ste[0] & 0xf, 1 | cases[i].config << 1, "stages %s: STE.Config",
			     cases[i].stages);
		vdev_close(&v);
		if (!strcmp(cases[i].stages, "s1")) {
			struct uiommu_file *c = uiommu_open("/dev/vfio/vfio", O_RDWR);
			struct uiommu_file *g = uiommu_open("/dev/vfio/1", O_RDWR);
			int32_t fd;

			TAP_CHECK(c && g, "open: %s", strerror(errno));
			fd = uiommu_file_fd(c);
			CHECK_OK(uiommu_ioctl(g, VFIO_GROUP_SET_CONTAINER, &fd));
			TAP_CHECK(uiommu_ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU) == -1 &&
					  errno == EOPNOTSUPP,
				  "stages s1: nesting type: %s", strerror(errno));
			CHECK_OK(uiommu_close(g));
			CHECK_OK(uiommu_close(c));
		}
		CHECK_OK(machine_destroy(m));
		check_empty();
	}
}

/* A VT-d unit with "ats" and "prs": its "ats" device has an endpoint (ATC, PRI), the other none. */
static void test_vtd_ats(void *arg)
{
	static const char text[] =
		"{\"iommus\": [{\"name\": \"dmar0\", \"model\": \"vtd\", \"ats\": true, "
		"\"prs\": true}], \"devices\": [{\"type\": \"dmatest\", \"name\": "
		"\"0000:00:01.0\", \"group\": 1}, {\"type\": \"dmatest\", \"name\": "
		"\"0000:00:02.0\", \"group\": 2, \"ats\": true, \"pri\": true}]}";
	struct topology *t = load(text);
	struct machine *m;
	char err[256];
	(void)arg;

	CHECK_OK(machine_create(t, &m, err, sizeof(err)));
	topology_free(t);
	TAP_CHECK(!vtd_iommu_dev_ep(dmatest_vfio_device(machine_dmatest(m, "0000:00:01.0"))->dev),
		  "no ATS by default");
	TAP_CHECK(vtd_iommu_dev_ep(dmatest_vfio_device(machine_dmatest(m, "0000:00:02.0"))->dev),
		  "\"ats\": true: an endpoint");
	CHECK_OK(machine_destroy(m));
	check_empty();
}

static void test_destroy_busy(void *arg)
{
	struct machine *m;
	struct topology *t;
	char err[256];
	struct vdev v;

	TAP_CHECK(!topology_default(&t), "default");
	CHECK_OK(machine_create(t, &m, err, sizeof(err)));
	topology_free(t);
	vdev_open(&v, "/dev/vfio/2", "0000:00:02.0");
	TAP_CHECK_EQ(machine_destroy(m), -EBUSY, "destroy while 02.0 is open");
	TAP_CHECK_EQ(vfio_device_count(), 2, "both devices still there");
	TAP_CHECK(vfio_cdev_exists(0) && vfio_cdev_exists(1) && vfio_group_exists(1),
		  "paths unchanged");
	TAP_CHECK_EQ(
		vfio_device_cdev_index(dmatest_vfio_device(machine_dmatest(m, "0000:00:01.0"))), 0,
		"01.0 keeps cdev 0");
	vdev_close(&v);
	CHECK_OK(machine_destroy(m));
	check_empty();
}

static void test_conflicts(void *arg)
{
	static const char other[] =
		"{\"iommus\": [{\"name\": \"other\", \"model\": \"smmuv3\"}], \"devices\": "
		"[{\"type\": \"dmatest\", \"name\": \"0000:00:07.0\", \"group\": 1}]}";
	struct machine *m, *m2 = (void *)1;
	struct topology *t;
	char err[256];

	TAP_CHECK(!topology_default(&t), "default");
	CHECK_OK(machine_create(t, &m, err, sizeof(err)));
	TAP_CHECK_EQ(machine_create(t, &m2, err, sizeof(err)), -EEXIST, "same names");
	TAP_CHECK(!m2, "no machine");
	TAP_CHECK(!strcmp(err, "(default): device 0000:00:01.0: VFIO has a device of that name "
			       "already"),
		  "message: %s", err);
	topology_free(t);
	t = load(other);
	TAP_CHECK_EQ(machine_create(t, &m2, err, sizeof(err)), -EINVAL, "group 1 elsewhere");
	TAP_CHECK(!strcmp(err, "test.json: device 0000:00:07.0: VFIO refused it in group 1 (a "
			       "group of another IOMMU instance?)"),
		  "message: %s", err);
	topology_free(t);
	TAP_CHECK_EQ(vfio_device_count(), 2, "the first machine is intact");
	CHECK_OK(machine_destroy(m));
	check_empty();
}

static void test_failnth(void *arg)
{
	static const char text[] =
		"{\"iommus\": [{\"name\": \"s\", \"model\": \"smmuv3\"}, {\"name\": \"m\", "
		"\"model\": \"mock\"}], \"devices\": [{\"type\": \"dmatest\", \"name\": "
		"\"0000:00:01.0\", \"iommu\": \"s\"}, {\"type\": \"dmatest\", \"name\": "
		"\"0000:00:02.0\", \"iommu\": \"m\", \"pasid_width\": 20}]}";
	struct topology *t = load(text);
	unsigned int fired = 0;

	for (unsigned long n = 1; n < 5000; n++) {
		struct machine *m = NULL;
		char err[256];
		int rc;

		ualloc_fail_nth(n);
		rc = machine_create(t, &m, err, sizeof(err));
		if (ualloc_fail_nth_pending()) {
			ualloc_fail_nth(0);
			CHECK_OK(rc);
			CHECK_OK(machine_destroy(m));
			break;
		}
		ualloc_fail_nth(0);
		TAP_CHECK(rc == -ENOMEM && !m, "allocation %lu: rc %d (%s)", n, rc, err);
		TAP_CHECK(vfio_device_count() == 0 && !vfio_group_exists(1),
			  "allocation %lu: something stayed registered", n);
		fired++;
	}
	topology_free(t);
	TAP_CHECK(fired > 20, "only %u allocations", fired);
	check_empty();
}

/* ------------------------------------------------------------------ */
/* The process's machine, in a child                                  */

struct child {
	int status;
	char out[2048]; /* its stderr (the library's log) */
};

/* Run @fn in a child with UIOMMU_CONFIG=@config (NULL: unset); its exit status and stderr. */
static void in_child(const char *config, int (*fn)(void), struct child *c)
{
	int p[2];
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	TAP_CHECK(!pipe(p), "pipe");
	fflush(stdout);
	pid = fork();
	TAP_CHECK(pid >= 0, "fork");
	if (!pid) {
		dup2(p[1], 2);
		close(p[0]);
		if (config)
			setenv("UIOMMU_CONFIG", config, 1);
		else
			unsetenv("UIOMMU_CONFIG");
		_exit(fn());
	}
	close(p[1]);
	while (got < sizeof(c->out) - 1 &&
	       (n = read(p[0], c->out + got, sizeof(c->out) - 1 - got)) > 0)
		got += (size_t)n;
	c->out[got] = 0;
	close(p[0]);
	TAP_CHECK(waitpid(pid, &c->status, 0) == pid, "waitpid");
}

/* Exit codes the children use: 0 as expected, else the step that went wrong. */
static int child_default(void)
{
	struct uiommu_file *g1 = uiommu_open("/dev/vfio/1", O_RDWR);
	struct uiommu_file *g2 = uiommu_open("/dev/vfio/2", O_RDWR);
	struct uiommu_file *cd = uiommu_open("/dev/vfio/devices/vfio1", O_RDWR);

	if (!g1 || !g2 || !cd)
		return 1;
	if (uiommu_open("/dev/vfio/3", O_RDWR) || errno != ENOENT)
		return 2;
	if (!vmm_machine() || vfio_device_count() != 2)
		return 3;
	return 0;
}

static int child_bad(void)
{
	if (uiommu_open("/dev/vfio/1", O_RDWR) || errno != EINVAL)
		return 1;
	/* Sticky: the next one fails the same way, without a second message. */
	if (uiommu_open("/dev/vfio/vfio", O_RDWR) || errno != EINVAL)
		return 2;
	/* /dev/iommu does not need the machine. */
	if (!uiommu_open("/dev/iommu", O_RDWR))
		return 3;
	return vmm_machine() || vfio_device_count() ? 4 : 0;
}

static int child_three(void)
{
	struct uiommu_file *g = uiommu_open("/dev/vfio/5", O_RDWR);

	if (!g || !uiommu_open("/dev/vfio/6", O_RDWR))
		return 1;
	if (uiommu_open("/dev/vfio/1", O_RDWR) || errno != ENOENT)
		return 2;
	return vfio_device_count() == 3 ? 0 : 3;
}

static int child_external(void)
{
	struct dmatest_vfio *dv;
	struct udev *u;
	int err = 0;

	/* The program's own device, registered before anything opens /dev/vfio. */
	u = mock_dev_create(0, &err);
	dv = u ? dmatest_vfio_create(u, "0000:00:09.0", 9, NULL, &err) : NULL;
	if (!dv)
		return 1;
	if (!uiommu_open("/dev/vfio/9", O_RDWR))
		return 2;
	if (uiommu_open("/dev/vfio/1", O_RDWR) || errno != ENOENT)
		return 3;
	return vmm_machine() ? 4 : 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	TAP_CHECK(f && fputs(text, f) >= 0 && !fclose(f), "write %s", path);
}

static void test_process_machine(void *arg)
{
	static const char bad[] =
		"{\n  \"iommus\": [{\"name\": \"s\", \"model\": \"smmuv3\"}],\n"
		"  \"devices\": [{\"type\": \"dmatest\", \"name\": \"0000:00:01.0\", "
		"\"group\": \"one\"}]\n}\n";
	static const char three[] =
		"{\"iommus\": [{\"name\": \"s\", \"model\": \"smmuv3\"}], \"devices\": ["
		"{\"type\": \"dmatest\", \"name\": \"0000:00:01.0\", \"group\": 5},"
		"{\"type\": \"dmatest\", \"name\": \"0000:00:02.0\", \"group\": 5},"
		"{\"type\": \"dmatest\", \"name\": \"0000:00:03.0\", \"group\": 6}]}";
	char dir[] = "/tmp/uiommu-machine-XXXXXX", path[64], want[256];
	struct child c;

	TAP_CHECK(mkdtemp(dir), "mkdtemp");
	in_child(NULL, child_default, &c);
	TAP_CHECK(WIFEXITED(c.status) && !WEXITSTATUS(c.status), "default: status 0x%x; %s",
		  c.status, c.out);
	in_child("", child_default, &c);
	TAP_CHECK(WIFEXITED(c.status) && !WEXITSTATUS(c.status), "empty: status 0x%x", c.status);

	snprintf(path, sizeof(path), "%s/bad.json", dir);
	write_file(path, bad);
	in_child(path, child_bad, &c);
	TAP_CHECK(WIFEXITED(c.status) && !WEXITSTATUS(c.status), "bad file: status 0x%x", c.status);
	snprintf(want, sizeof(want),
		 "uiommu: error: %s:3:68: devices[0].group: expected a number from 0 to "
		 "0x7fffffff, got \"one\" (UIOMMU_CONFIG; /dev/vfio has no devices)\n",
		 path);
	TAP_CHECK(!strcmp(c.out, want), "one message:\n%s\nwanted:\n%s", c.out, want);

	snprintf(path, sizeof(path), "%s/none.json", dir);
	in_child(path, child_bad, &c);
	TAP_CHECK(WIFEXITED(c.status) && !WEXITSTATUS(c.status), "missing file: 0x%x", c.status);
	snprintf(want, sizeof(want),
		 "uiommu: error: %s: No such file or directory (UIOMMU_CONFIG; /dev/vfio has no "
		 "devices)\n",
		 path);
	TAP_CHECK(!strcmp(c.out, want), "message:\n%s", c.out);

	snprintf(path, sizeof(path), "%s/three.json", dir);
	write_file(path, three);
	in_child(path, child_three, &c);
	TAP_CHECK(WIFEXITED(c.status) && !WEXITSTATUS(c.status), "three devices: 0x%x; %s",
		  c.status, c.out);
	in_child(NULL, child_external, &c);
	TAP_CHECK(WIFEXITED(c.status) && !WEXITSTATUS(c.status), "external: 0x%x; %s", c.status,
		  c.out);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *arg);
	} tests[] = {
		/* First: the children must not inherit a decision this process took. */
		{"the process's machine: default, UIOMMU_CONFIG, bad files, the program's own",
		 test_process_machine},
		{"the default topology: groups, cdevs, SMMUv3 SIDs", test_default},
		{"stages s1+s2, s1, s2: the domain's stage, no nesting without stage 2",
		 test_stages},
		{"a VT-d unit with ATS and PRS, a device with ATS and PRI", test_vtd_ats},
		{"machine_destroy while a device is open: EBUSY, nothing changes",
		 test_destroy_busy},
		{"names taken, a group behind another instance", test_conflicts},
		{"fail-nth over machine_create", test_failnth},
	};

	tap_plan(ARRAY_SIZE_T(tests));
	for (size_t i = 0; i < ARRAY_SIZE_T(tests); i++)
		tap_run(tests[i].name, tests[i].fn, NULL);
	return tap_done();
}
