// SPDX-License-Identifier: MIT
/*
 * lib/vmm/topology: the topology loader and the default topology.
 *
 *  - every error the loader reports, as the exact line a user reads
 *    ("FILE:LINE:COL: PATH: ..."), one row per malformed field, the
 *    columns counted by hand from the inputs (1-based characters);
 *  - positions on later lines, after tabs and multi-byte characters;
 *  - files that cannot be read;
 *  - defaults filled in (stages, options, SIDs from the PCI names, PASID
 *    widths, groups of their own), numbers as strings;
 *  - the default topology's shape (doc/topology.md);
 *  - printing as JSON reads back to the same topology;
 *  - a fail-nth sweep: -ENOMEM from any allocation, nothing leaked (ASan).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/alloc.h"
#include "vmm/topology.h"

#define SMMU_A "{\"name\": \"a\", \"model\": \"smmuv3\""
#define VTD_A  "{\"name\": \"a\", \"model\": \"vtd\""
#define DEV1   "{\"type\": \"dmatest\", \"name\": \"0000:00:01.0\""

static int parse(const char *text, struct topology **t, char *err, size_t errlen)
{
	return topology_parse(text, strlen(text), "t.json", t, err, errlen);
}

/* Each row: an input and the one line the loader must answer with. */
static const struct {
	const char *in, *msg;
} bad[] = {
	{"[]", "t.json:1:1: expected an object at the top level, got an array"},
	{"{\"iommus\": [], \"devices\": [], \"x\": 1}",
	 "t.json:1:31: x: unknown key (expected description, iommus, devices)"},
	{"{\"devices\": []}", "t.json:1:1: missing key \"iommus\""},
	{"{\"iommus\": []}", "t.json:1:1: missing key \"devices\""},
	{"{\"iommus\": {}, \"devices\": []}",
	 "t.json:1:12: iommus: expected an array of IOMMU instances, got an object"},
	{"{\"iommus\": [], \"devices\": 3}",
	 "t.json:1:27: devices: expected an array of devices, got 3"},
	{"{\"iommus\": [], \"devices\": [], \"description\": 5}",
	 "t.json:1:46: description: expected a string, got 5"},
	{"{\"iommus\": [5], \"devices\": []}", "t.json:1:13: iommus[0]: expected an object, got 5"},
	{"{\"iommus\": [{\"model\": \"smmuv3\"}], \"devices\": []}",
	 "t.json:1:13: iommus[0]: missing key \"name\""},
	{"{\"iommus\": [{\"name\": \"\", \"model\": \"smmuv3\"}], \"devices\": []}",
	 "t.json:1:22: iommus[0].name: expected a name of 1 to 31 characters, got \"\" (an empty "
	 "string)"},
	{"{\"iommus\": [" SMMU_A "}, {\"name\": \"a\", \"model\": \"mock\"}], \"devices\": []}",
	 "t.json:1:56: iommus[1].name: \"a\" is iommus[0]'s name already"},
	{"{\"iommus\": [{\"name\": \"a\"}], \"devices\": []}",
	 "t.json:1:13: iommus[0]: missing key \"model\""},
	{"{\"iommus\": [{\"name\": \"a\", \"model\": \"amd\"}], \"devices\": []}",
	 "t.json:1:36: iommus[0].model: expected \"smmuv3\", \"vtd\", \"spapr\" or "
	 "\"mock\", got \"amd\""},
	{"{\"iommus\": [{\"name\": \"a\", \"model\": \"vtd\", \"stages\": \"s2\"}], \"devices\": []}",
	 "t.json:1:43: iommus[0].stages: unknown key (expected name, model, ats, prs, cache)"},
	{"{\"iommus\": [" VTD_A ", \"prs\": true}], \"devices\": []}",
	 "t.json:1:50: iommus[0].prs: page requests come from devices' ATS translations: give "
	 "\"ats\": true too"},
	{"{\"iommus\": [" VTD_A ", \"ats\": \"yes\"}], \"devices\": []}",
	 "t.json:1:50: iommus[0].ats: expected true or false, got \"yes\""},
	{"{\"iommus\": [" VTD_A "}], \"devices\": [" DEV1 ", \"ats\": true}]}",
	 "t.json:1:108: devices[0].ats: a has \"ats\": false (no device TLBs), so no device "
	 "behind it uses ATS"},
	{"{\"iommus\": [" VTD_A ", \"ats\": true}], \"devices\": [" DEV1
	 ", \"ats\": true, \"pri\": true}]}",
	 "t.json:1:134: devices[0].pri: a has \"prs\": false (no page requests), so no device "
	 "behind it uses PRI"},
	{"{\"iommus\": [" VTD_A "}], \"devices\": [" DEV1 ", \"sid\": 8}]}",
	 "t.json:1:101: devices[0].sid: only for a device behind an smmuv3 (\"a\" is a vtd: the "
	 "requester ID is the PCI name's)"},
	{"{\"iommus\": [" VTD_A "}], \"devices\": [" DEV1 ", \"pasid_width\": 21}]}",
	 "t.json:1:116: devices[0].pasid_width: expected a number from 0 to 20, got 21"},
	{"{\"iommus\": [" VTD_A "}], \"devices\": [" DEV1 "}, {\"type\": \"dmatest\", "
	 "\"name\": \"0001:00:01.0\"}]}",
	 "t.json:1:130: devices[1].name: requester ID 0x8 is 0000:00:01.0's already, behind the "
	 "same a"},
	{"{\"iommus\": [{\"name\": \"a\", \"model\": \"mock\"}, {\"name\": \"b\", \"model\": "
	 "\"mock\"}], "
	 "\"devices\": []}",
	 "t.json:1:68: iommus[1].model: the mock IOMMU is one per process (the kernel selftest's), "
	 "and iommus[0] is it already"},
	{"{\"iommus\": [{\"name\": \"a\", \"model\": \"mock\", \"httu\": true}], \"devices\": []}",
	 "t.json:1:44: iommus[0].httu: unknown key (expected name, model (the mock has no "
	 "options))"},
	{"{\"iommus\": [" SMMU_A ", \"stages\": \"s3\"}], \"devices\": []}",
	 "t.json:1:56: iommus[0].stages: expected \"s1+s2\", \"s1\" or \"s2\", got \"s3\""},
	{"{\"iommus\": [" SMMU_A ", \"sidsize\": 0}], \"devices\": []}",
	 "t.json:1:57: iommus[0].sidsize: expected a number from 1 to 32, got 0"},
	{"{\"iommus\": [" SMMU_A ", \"ssidsize\": 21}], \"devices\": []}",
	 "t.json:1:58: iommus[0].ssidsize: expected a number from 0 to 20, got 21"},
	{"{\"iommus\": [" SMMU_A ", \"ssidsize\": \"0x14g\"}], \"devices\": []}",
	 "t.json:1:58: iommus[0].ssidsize: expected a number from 0 to 20, got \"0x14g\""},
	{"{\"iommus\": [" SMMU_A ", \"httu\": 1}], \"devices\": []}",
	 "t.json:1:54: iommus[0].httu: expected true or false, got 1"},
	{"{\"iommus\": [" SMMU_A ", \"stall\": \"yes\"}], \"devices\": []}",
	 "t.json:1:55: iommus[0].stall: expected true, false or \"forced\", got \"yes\""},
	{"{\"iommus\": [" SMMU_A ", \"cache\": 4}], \"devices\": []}",
	 "t.json:1:55: iommus[0].cache: expected false (no caches), true (the defaults) or an "
	 "object of cache sizes, got 4"},
	{"{\"iommus\": [" SMMU_A ", \"cache\": {\"tlb\": 4}}], \"devices\": []}",
	 "t.json:1:56: iommus[0].cache.tlb: unknown key (expected iotlb, walk_s1, walk_s2, ipa, "
	 "cfg)"},
	{"{\"iommus\": [" SMMU_A ", \"cache\": {\"iotlb\": 6}}], \"devices\": []}",
	 "t.json:1:65: iommus[0].cache.iotlb: expected a multiple of 4 (the ways of a cache given "
	 "by its size), or {\"entries\": N, \"ways\": W}, got 6"},
	{"{\"iommus\": [" SMMU_A ", \"cache\": {\"iotlb\": {\"ways\": 2}}}], \"devices\": []}",
	 "t.json:1:65: iommus[0].cache.iotlb: missing key \"entries\""},
	{"{\"iommus\": [" SMMU_A ", \"cache\": {\"iotlb\": {\"entries\": 12, \"ways\": 8}}}], "
	 "\"devices\": []}",
	 "t.json:1:77: iommus[0].cache.iotlb.entries: 12 entries do not divide into 8 ways (sets "
	 "of equal size)"},
	{"{\"iommus\": [" SMMU_A ", \"cache\": {\"iotlb\": {\"entries\": 16, \"ways\": 17}}}], "
	 "\"devices\": []}",
	 "t.json:1:89: iommus[0].cache.iotlb.ways: expected a number from 0 to 16, got 17"},
	{"{\"iommus\": [" SMMU_A ", \"cache\": {\"ipa\": 16777220}}], \"devices\": []}",
	 "t.json:1:63: iommus[0].cache.ipa: expected a number from 0 to 0x1000000, got 16777220"},
	{"{\"iommus\": [" SMMU_A ", \"cache\": {\"iotlb\": {\"entries\": 16, \"ways\": 2, \"x\": "
	 "1}}}], \"devices\": []}",
	 "t.json:1:92: iommus[0].cache.iotlb.x: unknown key (expected entries, ways)"},
	{"{\"iommus\": [], \"devices\": [" DEV1 "}]}",
	 "t.json:1:28: devices[0]: no IOMMU instance to put the device behind (\"iommus\" is "
	 "empty)"},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [7]}",
	 "t.json:1:60: devices[0]: expected an object, got 7"},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [{\"name\": \"0000:00:01.0\"}]}",
	 "t.json:1:60: devices[0]: missing key \"type\""},
	{"{\"iommus\": [" SMMU_A
	 "}], \"devices\": [{\"type\": \"nic\", \"name\": \"0000:00:01.0\"}]}",
	 "t.json:1:69: devices[0].type: expected \"dmatest\", got \"nic\""},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [{\"type\": \"dmatest\"}]}",
	 "t.json:1:60: devices[0]: missing key \"name\""},
	{"{\"iommus\": [" SMMU_A
	 "}], \"devices\": [{\"type\": \"dmatest\", \"name\": \"0000:00:20.0\"}]}",
	 "t.json:1:88: devices[0].name: expected a PCI name DDDD:BB:DD.F in lower-case hex (device "
	 "up to 1f, function up to 7) such as \"0000:00:01.0\", got \"0000:00:20.0\""},
	{"{\"iommus\": [" SMMU_A
	 "}], \"devices\": [{\"type\": \"dmatest\", \"name\": \"0000:00:01.8\"}]}",
	 "t.json:1:88: devices[0].name: expected a PCI name DDDD:BB:DD.F in lower-case hex (device "
	 "up to 1f, function up to 7) such as \"0000:00:01.0\", got \"0000:00:01.8\""},
	{"{\"iommus\": [" SMMU_A
	 "}], \"devices\": [{\"type\": \"dmatest\", \"name\": \"0000:0A:01.0\"}]}",
	 "t.json:1:88: devices[0].name: expected a PCI name DDDD:BB:DD.F in lower-case hex (device "
	 "up to 1f, function up to 7) such as \"0000:00:01.0\", got \"0000:0A:01.0\""},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [" DEV1 "}, " DEV1 "}]}",
	 "t.json:1:133: devices[1].name: \"0000:00:01.0\" is devices[0]'s name already"},
	{"{\"iommus\": [" SMMU_A "}, {\"name\": \"b\", \"model\": \"smmuv3\"}], \"devices\": [" DEV1
	 "}]}",
	 "t.json:1:94: devices[0]: missing key \"iommu\" (there is more than one instance)"},
	{"{\"iommus\": [" SMMU_A "}, {\"name\": \"b\", \"model\": \"smmuv3\"}], \"devices\": [" DEV1
	 ", \"iommu\": \"c\"}]}",
	 "t.json:1:147: devices[0].iommu: no IOMMU instance \"c\" (there is \"a\", \"b\")"},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [" DEV1 ", \"sid\": 65536}]}",
	 "t.json:1:111: devices[0].sid: expected a number from 0 to 65535, got 65536"},
	{"{\"iommus\": [" SMMU_A
	 ", \"sidsize\": 4}], \"devices\": [{\"type\": \"dmatest\", \"name\": "
	 "\"0000:00:02.0\"}]}",
	 "t.json:1:102: devices[0].name: the stream ID the PCI name gives, 0x10, is beyond a's "
	 "4-bit stream IDs: give \"sid\""},
	{"{\"iommus\": [" SMMU_A ", \"sidsize\": 20}], \"devices\": [{\"type\": \"dmatest\", "
	 "\"name\": \"0000:01:00.0\", \"sid\": \"0x10000\"}]}",
	 "t.json:1:126: devices[0].sid: expected a number from 0 to 65535, got \"0x10000\""},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [" DEV1 ", \"sid\": \"0x10\"}, {\"type\": "
	 "\"dmatest\", \"name\": \"0000:00:02.0\"}]}",
	 "t.json:1:148: devices[1].name: stream ID 0x10 (from the PCI name) is 0000:00:01.0's "
	 "already, behind the same a: give \"sid\""},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [" DEV1
	 ", \"sid\": 16}, {\"type\": \"dmatest\", "
	 "\"name\": \"0000:00:03.0\", \"sid\": 16}]}",
	 "t.json:1:167: devices[1].sid: stream ID 0x10 is 0000:00:01.0's already, behind the same "
	 "a"},
	{"{\"iommus\": [" SMMU_A ", \"ssidsize\": 8}], \"devices\": [" DEV1
	 ", \"pasid_width\": 9}]}",
	 "t.json:1:134: devices[0].pasid_width: expected a number from 0 to 8, got 9"},
	{"{\"iommus\": [{\"name\": \"a\", \"model\": \"mock\"}], \"devices\": [" DEV1
	 ", \"pasid_width\": 8}]}",
	 "t.json:1:117: devices[0].pasid_width: the mock's devices have PASIDs of 20 bits or none: "
	 "expected 0 or 20, got 8"},
	{"{\"iommus\": [{\"name\": \"a\", \"model\": \"mock\"}], \"devices\": [" DEV1
	 ", \"sid\": 8}]}",
	 "t.json:1:102: devices[0].sid: only for a device behind an smmuv3 (\"a\" is a mock)"},
	{"{\"iommus\": [" SMMU_A ", \"stall\": false}], \"devices\": [" DEV1
	 ", \"can_stall\": true}]}",
	 "t.json:1:133: devices[0].can_stall: a has \"stall\": false, so no device behind it can "
	 "stall"},
	{"{\"iommus\": [" SMMU_A ", \"stall\": \"always\"}], \"devices\": []}",
	 "t.json:1:55: iommus[0].stall: expected true, false or \"forced\", got \"always\""},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [" DEV1 ", \"can_stall\": \"no\"}]}",
	 "t.json:1:117: devices[0].can_stall: expected true or false, got \"no\""},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [" DEV1 ", \"group\": -1}]}",
	 "t.json:1:113: devices[0].group: expected a number from 0 to 0x7fffffff, got -1"},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [" DEV1 ", \"group\": 1.5}]}",
	 "t.json:1:113: devices[0].group: expected a number from 0 to 0x7fffffff, got 1.5"},
	{"{\"iommus\": [" SMMU_A "}, {\"name\": \"b\", \"model\": \"mock\"}], \"devices\": [" DEV1
	 ", \"iommu\": \"a\", \"group\": 3}, {\"type\": \"dmatest\", \"name\": \"0000:00:02.0\", "
	 "\"iommu\": \"b\", \"group\": 3}]}",
	 "t.json:1:230: devices[1].group: group 3 has 0000:00:01.0 behind a, and a group's devices "
	 "are all behind one IOMMU instance (this one is behind b)"},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [" DEV1 ", \"colour\": \"red\"}]}",
	 "t.json:1:104: devices[0].colour: unknown key (expected type, name, iommu, sid, group, "
	 "pasid_width, can_stall, ats, pri)"},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [" DEV1 ", \"pri\": true}]}",
	 "t.json:1:111: devices[0].pri: PRI requests pages for an ATS translation: give \"ats\": "
	 "true too"},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [" DEV1 ", \"ats\": 1}]}",
	 "t.json:1:111: devices[0].ats: expected true or false, got 1"},
	{"{\"iommus\": [{\"name\": \"a\", \"model\": \"mock\"}], \"devices\": [" DEV1
	 ", \"ats\": true}]}",
	 "t.json:1:102: devices[0].ats: only for a device behind an smmuv3 (\"a\" is a mock)"},
	{"{\"iommus\": [{\"name\": \"p\", \"model\": \"spapr\", \"dma32\": 1}], \"devices\": []}",
	 "t.json:1:45: iommus[0].dma32: unknown key (expected name, model (the spapr model has no "
	 "options))"},
	{"{\"iommus\": [{\"name\": \"p\", \"model\": \"spapr\"}], \"devices\": [" DEV1
	 ", \"pasid_width\": 20}]}",
	 "t.json:1:118: devices[0].pasid_width: expected a number from 0 to 0, got 20"},
	{"{\"iommus\": [{\"name\": \"p\", \"model\": \"spapr\"}], \"devices\": [" DEV1
	 ", \"can_stall\": true}]}",
	 "t.json:1:103: devices[0].can_stall: only for a device behind an smmuv3 (\"p\" is an "
	 "spapr "
	 "PHB)"},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [], \"iommus\": []}",
	 "t.json:1:70: invalid JSON: duplicate object key near '\"iommus\"'"},
	{"{\"iommus\": [" SMMU_A "}], \"devices\": [",
	 "t.json:1:59: invalid JSON: ']' expected near end of file"},
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct topology *t = (void *)1;
		char err[512];
		int rc = parse(bad[i].in, &t, err, sizeof(err));

		if (rc != -EINVAL || t || strcmp(err, bad[i].msg))
			fail_msg(
				"row %zu: %s\n  rc %d, topology %p\n  got:      %s\n  expected: %s",
				i, bad[i].in, rc, (void *)t, rc ? err : "(nothing)", bad[i].msg);
	}
}

/* Lines count newlines; columns count characters (a tab is one, a UTF-8 sequence is one). */
static void test_positions(void **state)
{
	static const char text[] =
		"{\n"
		"  \"description\": \"zwei Ger\xc3\xa4te\", \"iommus\": [\n"
		"\t{\"name\": \"smmu\xc3\xa9\", \"model\": \"smmuv3\"}\n"
		"  ],\n"
		"  \"devices\": [\n"
		"    {\"type\": \"dmatest\", \"name\": \"0000:00:01.0\"},\n"
		"\t\t{\"type\": \"dmatest\", \"name\": \"0000:00:02.0\", \"group\": \"x\"}\n"
		"  ]\n"
		"}\n";
	static const char utf8[] =
		"{\"iommus\": [\n"
		"\t{\"name\": \"smmu\xc3\xa9\", \"model\": \"smmuv3\", \"httu\": 2}\n"
		"], \"devices\": []}\n";
	struct topology *t;
	char err[512];

	assert_int_equal(parse(text, &t, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.json:7:56: devices[1].group: expected a number from 0 to "
				 "0x7fffffff, got \"x\"");
	assert_int_equal(parse(utf8, &t, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.json:2:47: iommus[0].httu: expected true or false, got 2");
	/* A syntax error on a later line: jansson's position. */
	assert_int_equal(parse("{\n  \"iommus\": [],\n  \"devices\": [,]\n}", &t, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "t.json:3:15: invalid JSON: unexpected token near ','");
	/* A message cut to a small buffer stays terminated. */
	assert_int_equal(parse("[]", &t, err, 12), -EINVAL);
	assert_string_equal(err, "t.json:1:1:");
}

static void test_files(void **state)
{
	char dir[] = "/tmp/uiommu-topo-XXXXXX", path[64], err[512];
	struct topology *t = (void *)1;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/none.json", dir);
	assert_int_equal(topology_load(path, &t, err, sizeof(err)), -EINVAL);
	assert_null(t);
	assert_non_null(strstr(err, "none.json: No such file or directory"));
	assert_int_equal(topology_load(dir, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ": not a regular file"));
	snprintf(path, sizeof(path), "%s/bad.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"iommus\": [], \"devices\": [], \"x\": 1}\n", f);
	fclose(f);
	assert_int_equal(topology_load(path, &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad.json:1:31: x: unknown key"));
	assert_true(!strncmp(err, dir, strlen(dir)));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"iommus\": [{\"name\": \"m\", \"model\": \"mock\"}], \"devices\": []}", f);
	fclose(f);
	assert_int_equal(topology_load(path, &t, err, sizeof(err)), 0);
	assert_string_equal(t->source, path);
	assert_int_equal(t->nr_iommus, 1);
	assert_int_equal(t->iommus[0].model, TOPO_IOMMU_MOCK);
	topology_free(t);
	unlink(path);
	rmdir(dir);
}

static void test_defaults(void **state)
{
	static const char text[] =
		"{\"iommus\": [{\"name\": \"s\", \"model\": \"smmuv3\", \"stages\": \"s2\", "
		"\"ssidsize\": \"0x8\", \"httu\": false, \"cache\": {\"iotlb\": {\"entries\": 32, "
		"\"ways\": 0}, \"ipa\": 0}}, {\"name\": \"m\", \"model\": \"mock\"}], \"devices\": "
		"["
		"{\"type\": \"dmatest\", \"name\": \"0000:01:02.3\", \"iommu\": \"s\", \"group\": "
		"1},"
		"{\"type\": \"dmatest\", \"name\": \"0000:00:03.0\", \"iommu\": \"s\", \"sid\": "
		"\"0x20\", \"can_stall\": true, \"ats\": true, \"pri\": true},"
		"{\"type\": \"dmatest\", \"name\": \"0000:00:04.0\", \"iommu\": \"m\"},"
		"{\"type\": \"dmatest\", \"name\": \"0000:00:05.0\", \"iommu\": \"m\", \"group\": "
		"2, "
		"\"pasid_width\": 20}]}";
	struct topology *t;
	char err[512];

	assert_int_equal(parse(text, &t, err, sizeof(err)), 0);
	assert_int_equal(t->nr_iommus, 2);
	assert_false(t->iommus[0].s1);
	assert_false(t->iommus[0].httu);
	assert_true(t->iommus[0].stall);
	assert_int_equal(t->iommus[0].sidsize, 16);
	assert_int_equal(t->iommus[0].ssidsize, 8);
	assert_false(t->iommus[0].no_cache);
	assert_int_equal(t->iommus[0].cache.iotlb.entries, 32);
	assert_int_equal(t->iommus[0].cache.iotlb.ways, 0);
	assert_int_equal(t->iommus[0].cache.ipa.entries, 0);
	assert_int_equal(t->iommus[0].cache.walk[0].entries, 256); /* untouched: the default */
	/* SID from the PCI name (bus 1, device 2, function 3), PASID width up to SSIDSIZE. */
	assert_int_equal(t->devices[0].sid, 0x113);
	assert_int_equal(t->devices[0].pasid_width, 8);
	assert_int_equal(t->devices[0].group, 1);
	assert_int_equal(t->devices[1].sid, 0x20);
	assert_true(t->devices[1].can_stall);
	assert_true(t->devices[1].ats && t->devices[1].pri);
	assert_false(t->devices[0].ats || t->devices[0].pri); /* the defaults */
	/* Groups of their own: the lowest numbers not given explicitly (1 and 2 are). */
	assert_int_equal(t->devices[1].group, 3);
	assert_int_equal(t->devices[2].group, 4);
	assert_int_equal(t->devices[2].iommu, 1);
	assert_int_equal(t->devices[2].pasid_width, 0); /* the mock's devices: none by default */
	assert_int_equal(t->devices[3].pasid_width, 20);
	topology_free(t);
}

/* An sPAPR PHB: devices in a group share its PE; the RID from the name; no PASIDs. */
static void test_spapr(void **state)
{
	static const char text[] =
		"{\"iommus\": [{\"name\": \"p\", \"model\": \"spapr\"}], \"devices\": ["
		"{\"type\": \"dmatest\", \"name\": \"0000:00:04.0\", \"group\": 3},"
		"{\"type\": \"dmatest\", \"name\": \"0000:00:05.0\", \"group\": 3},"
		"{\"type\": \"dmatest\", \"name\": \"0000:01:00.1\"}]}";
	struct topology *t;
	char err[512];

	assert_int_equal(parse(text, &t, err, sizeof(err)), 0);
	assert_int_equal(t->nr_iommus, 1);
	assert_int_equal(t->iommus[0].model, TOPO_IOMMU_SPAPR);
	assert_int_equal(t->devices[0].group, 3);
	assert_int_equal(t->devices[1].group, 3);
	assert_int_equal(t->devices[2].group, 1);  /* the lowest number nobody gave */
	assert_int_equal(t->devices[0].sid, 0x20); /* the requester ID: 00:04.0 */
	assert_int_equal(t->devices[2].sid, 0x101);
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(t->devices[i].pasid_width, 0);
	topology_free(t);
}

static void test_default_topology(void **state)
{
	struct topology *t;
	uint32_t rid = 0;

	assert_int_equal(topology_default(&t), 0);
	assert_string_equal(t->source, "(default)");
	assert_int_equal(t->nr_iommus, 1);
	assert_string_equal(t->iommus[0].name, "smmu0");
	assert_int_equal(t->iommus[0].model, TOPO_IOMMU_SMMUV3);
	assert_true(t->iommus[0].s1); /* both stages */
	assert_true(t->iommus[0].httu && t->iommus[0].stall);
	assert_int_equal(t->iommus[0].sidsize, 16);
	assert_int_equal(t->iommus[0].ssidsize, 20);
	assert_false(t->iommus[0].no_cache);
	assert_int_equal(t->nr_devices, 2);
	assert_string_equal(t->devices[0].name, "0000:00:01.0");
	assert_string_equal(t->devices[1].name, "0000:00:02.0");
	assert_int_equal(t->devices[0].sid, 0x8);
	assert_int_equal(t->devices[1].sid, 0x10);
	assert_int_equal(t->devices[0].group, 1);
	assert_int_equal(t->devices[1].group, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(t->devices[i].type, TOPO_DEV_DMATEST);
		assert_int_equal(t->devices[i].iommu, 0);
		assert_int_equal(t->devices[i].pasid_width, 20);
		assert_false(t->devices[i].can_stall);
	}
	topology_free(t);
	assert_true(topology_pci_name_rid("0000:00:1f.7", &rid));
	assert_int_equal(rid, 0xff);
	assert_true(topology_pci_name_rid("abcd:ff:00.1", &rid));
	assert_int_equal(rid, 0xff01);
	assert_false(topology_pci_name_rid("0000:00:01", &rid));
	assert_false(topology_pci_name_rid("0000:00:01.0 ", &rid));
	assert_false(topology_pci_name_rid("00000:0:01.0", &rid));
}

static void assert_same(const struct topology *a, const struct topology *b)
{
	assert_int_equal(a->nr_iommus, b->nr_iommus);
	assert_int_equal(a->nr_devices, b->nr_devices);
	assert_memory_equal(a->iommus, b->iommus, a->nr_iommus * sizeof(*a->iommus));
	assert_memory_equal(a->devices, b->devices, a->nr_devices * sizeof(*a->devices));
	assert_true((!a->description && !b->description) ||
		    (a->description && b->description && !strcmp(a->description, b->description)));
}

/* Print as JSON, parse again: the same topology. */
static void round_trip(const struct topology *t)
{
	struct topology *u;
	char *buf = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(topology_print_json(t, f), 0);
	fclose(f);
	if (topology_parse(buf, len, "printed", &u, err, sizeof(err)))
		fail_msg("%s\n%s", err, buf);
	assert_same(t, u);
	topology_free(u);
	free(buf);
}

static void test_print(void **state)
{
	static const char text[] =
		"{\"description\": \"three\", \"iommus\": [{\"name\": \"s\", \"model\": "
		"\"smmuv3\", "
		"\"cache\": false, \"sidsize\": 20}, {\"name\": \"m\", \"model\": \"mock\"}], "
		"\"devices\": [{\"type\": \"dmatest\", \"name\": \"0000:00:01.0\", \"iommu\": "
		"\"s\", "
		"\"sid\": 65535, \"group\": 5}, {\"type\": \"dmatest\", \"name\": "
		"\"0000:00:02.0\", "
		"\"iommu\": \"m\"}, {\"type\": \"dmatest\", \"name\": \"0000:00:03.0\", \"iommu\": "
		"\"s\", \"group\": 5, \"pasid_width\": 0}]}";
	struct topology *t;
	char *buf = NULL, err[512];
	size_t len = 0;
	FILE *f;

	assert_int_equal(topology_default(&t), 0);
	round_trip(t);
	topology_free(t);
	assert_int_equal(parse(text, &t, err, sizeof(err)), 0);
	round_trip(t);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(topology_print_text(t, f), 0);
	fclose(f);
	assert_string_equal(buf,
			    "topology t.json: three\n"
			    "iommu s: smmuv3, stages s1+s2, SIDSIZE 20, SSIDSIZE 20, HTTU on, "
			    "stall on\n"
			    "  caches: none\n"
			    "iommu m: mock (the kernel selftest's)\n"
			    "group 5: /dev/vfio/5, behind s\n"
			    "  0000:00:01.0 dmatest, SID 0xffff, PASID width 20, "
			    "/dev/vfio/devices/vfio0\n"
			    "  0000:00:03.0 dmatest, SID 0x18, PASID width 0, "
			    "/dev/vfio/devices/vfio2\n"
			    "group 1: /dev/vfio/1, behind m\n"
			    "  0000:00:02.0 dmatest, PASID width 0, /dev/vfio/devices/vfio1\n");
	free(buf);
	topology_free(t);
}

/* "stall": "forced" is STALL_MODEL 0b10 (stall on too); printed and round-tripped as such. */
static void test_stall_forced(void **state)
{
	static const char text[] =
		"{\"iommus\": [{\"name\": \"s\", \"model\": \"smmuv3\", \"stall\": \"forced\"}], "
		"\"devices\": [{\"type\": \"dmatest\", \"name\": \"0000:00:01.0\"}]}";
	struct topology *t;
	char *buf = NULL, err[512];
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(parse(text, &t, err, sizeof(err)), 0);
	assert_true(t->iommus[0].stall && t->iommus[0].stall_force);
	round_trip(t);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(topology_print_json(t, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"stall\": \"forced\""));
	free(buf);
	topology_free(t);
	/* true: configurable, not forced. */
	assert_int_equal(parse("{\"iommus\": [{\"name\": \"s\", \"model\": \"smmuv3\", "
			       "\"stall\": true}], \"devices\": []}",
			       &t, err, sizeof(err)),
			 0);
	assert_true(t->iommus[0].stall);
	assert_false(t->iommus[0].stall_force);
	topology_free(t);
}

/* A VT-d instance: its devices' requester IDs, PASID widths, printing. */
static void test_vtd(void **state)
{
	static const char text[] =
		"{\"iommus\": [{\"name\": \"dmar0\", \"model\": \"vtd\", \"ats\": true, "
		"\"prs\": true, \"cache\": {\"iotlb\": 64}}], \"devices\": [{\"type\": "
		"\"dmatest\", \"name\": \"0000:01:02.3\"}, {\"type\": \"dmatest\", \"name\": "
		"\"0000:00:04.0\", \"pasid_width\": 8, \"ats\": true, \"pri\": true}]}";
	struct topology *t;
	char *buf = NULL, err[512];
	size_t len = 0;
	FILE *f;

	assert_int_equal(parse(text, &t, err, sizeof(err)), 0);
	assert_int_equal(t->iommus[0].model, TOPO_IOMMU_VTD);
	assert_false(t->iommus[0].no_cache);
	assert_int_equal(t->iommus[0].cache.iotlb.entries, 64);
	assert_int_equal(t->devices[0].sid, 0x113);
	assert_int_equal(t->devices[0].pasid_width, 20);
	assert_int_equal(t->devices[1].sid, 0x20);
	assert_int_equal(t->devices[1].pasid_width, 8);
	assert_true(t->iommus[0].ats && t->iommus[0].prs);
	assert_false(t->devices[0].ats || t->devices[0].pri);
	assert_true(t->devices[1].ats && t->devices[1].pri);
	round_trip(t);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(topology_print_text(t, f), 0);
	fclose(f);
	assert_string_equal(buf,
			    "topology t.json\n"
			    "iommu dmar0: vtd, scalable mode, 20-bit PASIDs, device TLBs, page "
			    "requests\n"
			    "  caches: IOTLB 64, walk s1 256, walk s2 256, IPA 1024, config 64\n"
			    "group 1: /dev/vfio/1, behind dmar0\n"
			    "  0000:01:02.3 dmatest, RID 0x113, PASID width 20, "
			    "/dev/vfio/devices/vfio0\n"
			    "group 2: /dev/vfio/2, behind dmar0\n"
			    "  0000:00:04.0 dmatest, RID 0x20, PASID width 8, ATS and PRI, "
			    "/dev/vfio/devices/vfio1\n");
	free(buf);
	topology_free(t);
}

/* Every allocation of a parse fails in turn: -ENOMEM and nothing leaked, or success. */
static void test_fail_nth(void **state)
{
	static const char text[] = "{\"description\": \"d\", \"iommus\": [" SMMU_A
				   "}], \"devices\": [" DEV1 "}, {\"type\": \"dmatest\", "
				   "\"name\": \"0000:00:02.0\"}]}";
	unsigned int fired = 0;

	for (unsigned long n = 1; n < 1000; n++) {
		struct topology *t = NULL, *c = NULL;
		char err[512];
		int rc;

		ualloc_fail_nth(n);
		rc = parse(text, &t, err, sizeof(err));
		if (!rc)
			rc = topology_copy(t, &c);
		if (!rc) {
			topology_free(c);
			c = NULL;
			rc = topology_default(&c);
		}
		if (ualloc_fail_nth_pending()) {
			ualloc_fail_nth(0);
			assert_int_equal(rc, 0);
			topology_free(t);
			topology_free(c);
			break;
		}
		ualloc_fail_nth(0);
		if (rc != -ENOMEM)
			fail_msg("allocation %lu failed: rc %d (%s)", n, rc, err);
		assert_null(c);
		topology_free(t);
		fired++;
	}
	assert_true(fired > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_spapr),
		cmocka_unit_test(test_default_topology),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_vtd),
		cmocka_unit_test(test_stall_forced),
		cmocka_unit_test(test_fail_nth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
