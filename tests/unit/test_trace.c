// SPDX-License-Identifier: MIT
/*
 * lib/util/trace: enabling by pattern (environment first, then
 * trace_enable), the log lines of enabled events, silence of disabled
 * ones, and the state bytes the inline check reads.
 *
 * main() sets UIOMMU_TRACE before anything here touches a trace point, so
 * the first test sees the environment's patterns; the tests run in order.
 * This program also fires every event, so check_usdt.sh can look for one
 * USDT note per event in its ELF file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/log.h"
#include "util/trace.h"

static struct {
	int n;
	enum ulog_level level;
	char last[512];
} cap;

static void capture(enum ulog_level level, const char *msg, void *arg)
{
	cap.n++;
	cap.level = level;
	snprintf(cap.last, sizeof(cap.last), "%s", msg);
	errno = EIO; /* a handler may clobber errno; the log layer must restore it */
}

static int setup(void **state)
{
	memset(&cap, 0, sizeof(cap));
	ulog_set_handler(capture, NULL);
	return 0;
}

static int teardown(void **state)
{
	ulog_set_handler(NULL, NULL);
	return 0;
}

static void fire_all(void)
{
	trace_pt_map("vmsa-s1", 0x1000, 0x80002000, 0x1000, 0x3, 0);
	trace_pt_unmap("vmsa-s2", 0x200000, 0x200000, 0x1000);
	trace_xlate_fault(2, 1, 3, 1, 0xdead000, 0x4000);
	trace_xlate_walk(0x123000, 3, 0x456000, 0x1000);
}

/* Every lib/iommufd event, once (their USDT notes are checked by check_usdt.py). */
static void fire_iommufd(void)
{
	trace_iommufd_open(3);
	trace_iommufd_ioctl(0x85, 0);
	trace_iommufd_vfio_ioctl(0x3b71, -19);
	trace_iommufd_object_alloc(1, 5);
	trace_iommufd_object_destroy(1, 5, 0);
	trace_iopt_map(0x1000, 0x2000, 0x7, 0);
	trace_iopt_unmap(0x1000, 0x2fff, 0x2000, 0);
	trace_iopt_pin((void *)0x7f0000000000, 4, 0);
	trace_iopt_unpin((void *)0x7f0000000000, 4);
	trace_iopt_domain_add((void *)0x1234, 0x800, 0);
	trace_iopt_domain_remove((void *)0x1234);
}

/* Every lib/hw/smmuv3 driver event, once. */
static void fire_smmu(void)
{
	trace_smmu_cmd("smmuv3.0", 0x46, 0x46, 0);
	trace_smmu_cmd_error("smmuv3.0", 2, 1);
	trace_smmu_ste("smmuv3.0", 0x10, 0xd, 0x100000000000ULL, 0x5a00510010000001ULL, 0x1000);
	trace_smmu_evt("smmuv3.0", 0x10, 0x10, 0x200000000ULL, 0x20000, "vevent");
}

static void test_smmu_events(void **state)
{
	trace_disable_all();
	assert_int_equal(trace_enable("smmu_*"), 4);
	fire_smmu();
	assert_int_equal(cap.n, 4);
	assert_string_equal(cap.last, "smmu_evt smmu=smmuv3.0 type=0x10 sid=0x10 "
				      "q1=0x0000000200000000 addr=0x20000 to=vevent");
	cap.n = 0;
	trace_disable_all();
	fire_smmu();
	assert_int_equal(cap.n, 0);
}

static void test_iommufd_events(void **state)
{
	trace_disable_all();
	assert_int_equal(trace_enable("iommufd_*,iopt_*"), 11);
	fire_iommufd();
	assert_int_equal(cap.n, 11);
	assert_string_equal(cap.last, "iopt_domain_remove domain=0x1234");
	cap.n = 0;
	trace_disable_all();
	fire_iommufd();
	assert_int_equal(cap.n, 0);
}

/* UIOMMU_TRACE="pt_*, -pt_unmap,xlate_w*" (set in main). */
static void test_env_patterns(void **state)
{
	/* Nothing has been read yet: every state is still unknown. */
	for (unsigned int i = 0; i < trace_event_count(); i++)
		assert_int_equal(trace_event_state[i], TRACE_STATE_UNKNOWN);

	trace_pt_map("vmsa-s1", 0x1000, 0x80002000, 0x1000, 0x3, 0);
	assert_int_equal(cap.n, 1);
	assert_int_equal(cap.level, ULOG_TRACE);
	assert_string_equal(cap.last, "pt_map fmt=vmsa-s1 iova=0x1000 pa=0x80002000 size=0x1000 "
				      "prot=0x3 ret=0");

	/* The first event settled every state from the environment. */
	assert_int_equal(trace_event_state[TRACE_EV_pt_map], TRACE_STATE_ON);
	assert_int_equal(trace_event_state[TRACE_EV_pt_unmap], TRACE_STATE_OFF);
	assert_int_equal(trace_event_state[TRACE_EV_xlate_fault], TRACE_STATE_OFF);
	assert_int_equal(trace_event_state[TRACE_EV_xlate_walk], TRACE_STATE_ON);

	trace_pt_unmap("vmsa-s2", 0x200000, 0x200000, 0x1000);
	trace_xlate_fault(2, 1, 3, 1, 0xdead000, 0x4000);
	assert_int_equal(cap.n, 1);
	trace_xlate_walk(0x123000, 3, 0x456000, 0x1000);
	assert_int_equal(cap.n, 2);
	assert_string_equal(cap.last, "xlate_walk iova=0x123000 access=0x3 pa=0x456000 size=0x1000");
}

static void test_disabled_is_silent(void **state)
{
	trace_disable_all();
	for (unsigned int i = 0; i < trace_event_count(); i++)
		assert_int_equal(trace_event_state[i], TRACE_STATE_OFF);
	fire_all();
	assert_int_equal(cap.n, 0);
	for (unsigned int i = 0; i < trace_event_count(); i++)
		assert_false(trace_event_enabled(i));
}

static void test_enable_patterns(void **state)
{
	trace_disable_all();
	assert_int_equal(trace_enable("xlate_*"), 2);
	fire_all();
	assert_int_equal(cap.n, 2);
	assert_string_equal(cap.last, "xlate_walk iova=0x123000 access=0x3 pa=0x456000 size=0x1000");

	/* Left to right: enable all, then take one away. Blanks around commas are fine. */
	cap.n = 0;
	trace_disable_all();
	assert_int_equal(trace_enable("* , -xlate_walk"), TRACE_NR_EVENTS + 1);
	fire_all();
	assert_int_equal(cap.n, 3);
	assert_string_equal(
		cap.last, "xlate_fault stage=2 class=1 level=3 reason=1 iova=0xdead000 ipa=0x4000");

	/* Character classes and '?' are fnmatch globs. */
	trace_disable_all();
	assert_int_equal(trace_enable("pt_[u]nmap"), 1);
	assert_true(trace_event_enabled(TRACE_EV_pt_unmap));
	assert_int_equal(trace_enable("xlate_wal?"), 1);
	assert_true(trace_event_enabled(TRACE_EV_xlate_walk));
	assert_false(trace_event_enabled(TRACE_EV_pt_map));

	/* Nothing matched: 0, so a CLI can report the typo. Empty parts are skipped. */
	assert_int_equal(trace_enable("smmu_nonexistent"), 0);
	assert_int_equal(trace_enable(",,"), 0);
	assert_int_equal(trace_enable(""), 0);
	assert_int_equal(trace_enable(NULL), -EINVAL);
}

static void test_long_pattern(void **state)
{
	char pat[300];

	trace_disable_all();
	memset(pat, 'a', sizeof(pat) - 1);
	pat[sizeof(pat) - 1] = '\0';
	memcpy(pat, "pt_map,", 7);
	/* The pattern before the over-long one still applies. */
	assert_int_equal(trace_enable(pat), -EINVAL);
	assert_true(trace_event_enabled(TRACE_EV_pt_map));
}

static void test_level_and_errno(void **state)
{
	trace_disable_all();
	trace_enable("pt_map");
	/* Trace lines ignore the log level: the pattern is the filter. */
	ulog_set_level(ULOG_ERR);
	errno = ENOSPC;
	trace_pt_map("x86", 0, 0, 0x1000, 0x1, -22);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(cap.n, 1);
	assert_string_equal(cap.last,
			    "pt_map fmt=x86 iova=0x0 pa=0x0 size=0x1000 prot=0x1 ret=-22");
	/* ... while ordinary lines below the level are still dropped. */
	ulog_debug("not shown");
	assert_int_equal(cap.n, 1);
	ulog_set_level(ULOG_WARN);
}

static void test_names(void **state)
{
	assert_int_equal(trace_event_count(), TRACE_NR_EVENTS);
	assert_int_equal(TRACE_NR_EVENTS, 19);
	assert_string_equal(trace_event_name(TRACE_EV_pt_map), "pt_map");
	assert_string_equal(trace_event_name(TRACE_EV_xlate_walk), "xlate_walk");
	assert_null(trace_event_name(TRACE_NR_EVENTS));
	assert_int_equal(trace_event_lookup("xlate_fault"), TRACE_EV_xlate_fault);
	assert_int_equal(trace_event_lookup("xlate"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_env_patterns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_is_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_patterns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_pattern, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_and_errno, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iommufd_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_smmu_events, setup, teardown),
		cmocka_unit_test(test_names),
	};

	setenv("UIOMMU_TRACE", "pt_*, -pt_unmap,xlate_w*", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
