// SPDX-License-Identifier: MIT
/*
 * lib/hw/iommu.c: the blob copy helpers, the user dirty-bitmap writer and
 * mmap offsets.
 *
 * Expected bytes are written out by hand: which bytes of a destination
 * hold copied data, which are zero-filled and which must stay untouched
 * (a canary of 0xaa), and for bitmaps the exact byte values bit n of a
 * little-endian u64 array lands in (byte n / 8, bit n % 8).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/iommu.h"

#define T_TYPE 0xdead
#define T_OTHER 0xbeef

struct blob {
	uint32_t a; /* the mandatory field: min_len = 4 */
	uint32_t b;
	uint64_t c;
};

static void fill(void *p, size_t n, uint8_t v)
{
	memset(p, v, n);
}

/* ---------------------------------------------------------------------- */

static void test_copy_from_user_rules(void **state)
{
	uint8_t src[24];
	struct blob dst;
	struct iommu_user_data d = { .type = T_TYPE, .uptr = src, .len = sizeof(struct blob) };

	for (unsigned int i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i + 1);

	/* Exact size: every byte copied. */
	fill(&dst, sizeof(dst), 0xaa);
	assert_int_equal(iommu_copy_struct_from_user(&dst, sizeof(dst), 4, &d, T_TYPE), 0);
	assert_memory_equal(&dst, src, 16);

	/* Type mismatch. */
	assert_int_equal(iommu_copy_struct_from_user(&dst, sizeof(dst), 4, &d, T_OTHER), -EINVAL);
	/* Shorter than the mandatory part, longer than the struct. */
	d.len = 3;
	assert_int_equal(iommu_copy_struct_from_user(&dst, sizeof(dst), 4, &d, T_TYPE), -EINVAL);
	d.len = 17;
	assert_int_equal(iommu_copy_struct_from_user(&dst, sizeof(dst), 4, &d, T_TYPE), -EINVAL);
	/* A NULL pointer (or one into the first page) faults. */
	d.len = 8;
	d.uptr = NULL;
	assert_int_equal(iommu_copy_struct_from_user(&dst, sizeof(dst), 4, &d, T_TYPE), -EFAULT);
	d.uptr = (const void *)(uintptr_t)0x10;
	assert_int_equal(iommu_copy_struct_from_user(&dst, sizeof(dst), 4, &d, T_TYPE), -EFAULT);
	/* No data at all. */
	assert_int_equal(iommu_copy_struct_from_user(&dst, sizeof(dst), 4, NULL, T_TYPE), -EINVAL);

	/* Short but valid: 6 bytes copied, the other 10 zeroed. */
	d.uptr = src;
	d.len = 6;
	fill(&dst, sizeof(dst), 0xaa);
	assert_int_equal(iommu_copy_struct_from_user(&dst, sizeof(dst), 4, &d, T_TYPE), 0);
	{
		const uint8_t want[16] = { 1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

		assert_memory_equal(&dst, want, 16);
	}
	/* Exactly the minimum. */
	d.len = 4;
	fill(&dst, sizeof(dst), 0xaa);
	assert_int_equal(iommu_copy_struct_from_user(&dst, sizeof(dst), 4, &d, T_TYPE), 0);
	assert_int_equal(dst.a, 0x04030201);
	assert_int_equal(dst.b, 0);
	assert_int_equal(dst.c, 0);
}

static void test_copy_from_user_array(void **state)
{
	uint8_t src[3 * 10];
	struct blob dst;
	struct iommu_user_data_array a = { .type = T_TYPE, .uptr = src, .entry_len = 10,
					   .entry_num = 3 };

	for (unsigned int i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(0x10 + i);

	/* Entry 2 starts at byte 20; 10 bytes copied, 6 zeroed. */
	fill(&dst, sizeof(dst), 0xaa);
	assert_int_equal(iommu_copy_struct_from_user_array(&dst, sizeof(dst), 8, &a, T_TYPE, 2), 0);
	{
		const uint8_t want[16] = { 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b,
					   0x2c, 0x2d, 0, 0, 0, 0, 0, 0 };

		assert_memory_equal(&dst, want, 16);
	}
	/* Index out of range, empty array, wrong type. */
	assert_int_equal(iommu_copy_struct_from_user_array(&dst, sizeof(dst), 8, &a, T_TYPE, 3),
			 -EINVAL);
	a.entry_num = 0;
	assert_int_equal(iommu_copy_struct_from_user_array(&dst, sizeof(dst), 8, &a, T_TYPE, 0),
			 -EINVAL);
	a.entry_num = 3;
	assert_int_equal(iommu_copy_struct_from_user_array(&dst, sizeof(dst), 8, &a, T_OTHER, 0),
			 -EINVAL);
	/* entry_len below min, above the struct (sizeof + 1), NULL. */
	a.entry_len = 7;
	assert_int_equal(iommu_copy_struct_from_user_array(&dst, sizeof(dst), 8, &a, T_TYPE, 0),
			 -EINVAL);
	a.entry_len = sizeof(dst) + 1;
	assert_int_equal(iommu_copy_struct_from_user_array(&dst, sizeof(dst), 8, &a, T_TYPE, 0),
			 -EINVAL);
	a.entry_len = 8;
	a.uptr = NULL;
	assert_int_equal(iommu_copy_struct_from_user_array(&dst, sizeof(dst), 8, &a, T_TYPE, 0),
			 -EFAULT);
}

struct ent12 {
	uint32_t x, y, z;
};

static void test_copy_full_array(void **state)
{
	uint8_t src[2 * 13];
	struct ent12 dst[2];
	struct iommu_user_data_array a = { .type = T_TYPE, .uptr = src, .entry_len = 13,
					   .entry_num = 2 };

	memset(src, 0, sizeof(src));
	src[0] = 0x11;	/* entry 0: x = 0x11 */
	src[13] = 0x22; /* entry 1: x = 0x22 */
	src[21] = 0x33; /* entry 1: z = 0x33 */

	/* Longer entries with zero tails are accepted. */
	fill(dst, sizeof(dst), 0xaa);
	assert_int_equal(iommu_copy_struct_from_full_user_array(dst, sizeof(dst[0]), &a, T_TYPE),
			 0);
	assert_int_equal(dst[0].x, 0x11);
	assert_int_equal(dst[0].y, 0);
	assert_int_equal(dst[0].z, 0);
	assert_int_equal(dst[1].x, 0x22);
	assert_int_equal(dst[1].z, 0x33);

	/* A non-zero byte past the struct in entry 1: E2BIG. */
	src[25] = 1;
	assert_int_equal(iommu_copy_struct_from_full_user_array(dst, sizeof(dst[0]), &a, T_TYPE),
			 -E2BIG);
	src[25] = 0;

	/* Short entries (1 byte) are zero-extended, no minimum. */
	a.entry_len = 1;
	fill(dst, sizeof(dst), 0xaa);
	assert_int_equal(iommu_copy_struct_from_full_user_array(dst, sizeof(dst[0]), &a, T_TYPE),
			 0);
	assert_int_equal(dst[0].x, 0x11);
	assert_int_equal(dst[0].y, 0);
	assert_int_equal(dst[1].x, 0);	/* src[1] */
	assert_int_equal(dst[1].z, 0);

	/* Wrong type, empty, NULL. */
	a.entry_len = 12;
	assert_int_equal(iommu_copy_struct_from_full_user_array(dst, sizeof(dst[0]), &a, T_OTHER),
			 -EINVAL);
	a.entry_num = 0;
	assert_int_equal(iommu_copy_struct_from_full_user_array(dst, sizeof(dst[0]), &a, T_TYPE),
			 -EINVAL);
	a.entry_num = 2;
	a.uptr = NULL;
	assert_int_equal(iommu_copy_struct_from_full_user_array(dst, sizeof(dst[0]), &a, T_TYPE),
			 -EFAULT);
}

static void test_copy_to_user(void **state)
{
	const struct blob src = { .a = 0x01020304, .b = 0x05060708, .c = 0x090a0b0c0d0e0f10ULL };
	uint8_t user[20];
	struct iommu_user_data d = { .type = T_TYPE, .uptr = user, .len = 8 };

	/* 8 bytes written; the rest of the user buffer untouched. */
	fill(user, sizeof(user), 0xaa);
	assert_int_equal(iommu_copy_struct_to_user(&d, &src, sizeof(src), 8, T_TYPE), 0);
	{
		const uint8_t want[10] = { 4, 3, 2, 1, 8, 7, 6, 5, 0xaa, 0xaa };

		assert_memory_equal(user, want, 10);
	}
	assert_int_equal(iommu_copy_struct_to_user(&d, &src, sizeof(src), 8, T_OTHER), -EINVAL);
	d.len = 7;
	assert_int_equal(iommu_copy_struct_to_user(&d, &src, sizeof(src), 8, T_TYPE), -EINVAL);
	d.len = 17;
	assert_int_equal(iommu_copy_struct_to_user(&d, &src, sizeof(src), 8, T_TYPE), -EINVAL);
	d.len = 16;
	d.uptr = NULL;
	assert_int_equal(iommu_copy_struct_to_user(&d, &src, sizeof(src), 8, T_TYPE), -EFAULT);
}

/* ---------------------------------------------------------------------- */
/* Dirty bitmaps                                                          */

static void test_dirty_bitmap_init(void **state)
{
	struct iommu_dirty_bitmap b;
	uint8_t map[8];

	assert_int_equal(iommu_dirty_bitmap_init(&b, map, 0x1000, 0x10000, 3000), -EINVAL);
	assert_int_equal(iommu_dirty_bitmap_init(&b, map, 0x1000, 0, 4096), -EINVAL);
	assert_int_equal(iommu_dirty_bitmap_init(&b, map, ~0ULL - 10, 4096, 4096), -EINVAL);
	assert_int_equal(iommu_dirty_bitmap_init(&b, map, 0x1000, 0x10000, 4096), 0);
	assert_int_equal(b.pgshift, 12);
	assert_int_equal(b.last, 0x10fff);
}

static void test_dirty_bitmap_record(void **state)
{
	/* 2 KiB pages from IOVA 16 MiB; 256 bits = 32 bytes. */
	const uint64_t base = 1ULL << 24;
	uint8_t map[40];
	struct iommu_dirty_bitmap b;

	memset(map, 0, sizeof(map));
	assert_int_equal(iommu_dirty_bitmap_init(&b, map, base, 256 * 2048, 2048), 0);

	/* Bit 0 only. */
	iommu_dirty_bitmap_record(&b, base, 2048);
	assert_int_equal(map[0], 0x01);
	/* Bits 3..10: byte 0 gets 0xf8, byte 1 gets 0x07. */
	iommu_dirty_bitmap_record(&b, base + 3 * 2048, 8 * 2048);
	assert_int_equal(map[0], 0xf9);
	assert_int_equal(map[1], 0x07);
	/* A partial page marks its page: one byte inside page 63 -> byte 7, bit 7. */
	iommu_dirty_bitmap_record(&b, base + 63 * 2048 + 100, 1);
	assert_int_equal(map[7], 0x80);
	/* Bits 64..255 (a run over whole bytes 8..31). */
	iommu_dirty_bitmap_record(&b, base + 64 * 2048, 192 * 2048);
	for (unsigned int i = 8; i < 32; i++)
		assert_int_equal(map[i], 0xff);
	/* Beyond the bitmap: clipped, bytes 32.. untouched. */
	iommu_dirty_bitmap_record(&b, base + 250 * 2048, 100 * 2048);
	assert_int_equal(map[32], 0);
	iommu_dirty_bitmap_record(&b, base - 4096, 4096); /* entirely before */
	iommu_dirty_bitmap_record(&b, base + 256 * 2048, 2048); /* entirely after */
	assert_int_equal(map[32], 0);
	/* Starting before the bitmap: clipped to bit 0.. (already set: OR only). */
	iommu_dirty_bitmap_record(&b, base - 4096, 3 * 2048);
	assert_int_equal(map[0], 0xf9);
	/* Nothing is ever cleared. */
	assert_int_equal(map[1], 0x07);
	/* A NULL bitmap or NULL dirty: nothing happens. */
	iommu_dirty_bitmap_record(NULL, base, 2048);
	b.data = NULL;
	iommu_dirty_bitmap_record(&b, base, 2048);
}

static void test_dirty_bitmap_unaligned(void **state)
{
	/*
	 * The selftest's "u64 unaligned bitmap": data at buf + 0xff1. Bit n
	 * of the LE u64 array is byte n / 8, bit n % 8, from that address.
	 */
	static uint8_t buf[0x1100];
	uint8_t *map = buf + 0xff1;
	struct iommu_dirty_bitmap b;

	memset(buf, 0, sizeof(buf));
	assert_int_equal(iommu_dirty_bitmap_init(&b, map, 0, 128 * 4096, 4096), 0);
	iommu_dirty_bitmap_record(&b, 0, 4096);		  /* bit 0 */
	iommu_dirty_bitmap_record(&b, 62 * 4096, 3 * 4096); /* bits 62, 63, 64 */
	iommu_dirty_bitmap_record(&b, 127 * 4096, 4096);    /* bit 127 */
	assert_int_equal(buf[0xff0], 0);
	assert_int_equal(map[0], 0x01);
	assert_int_equal(map[7], 0xc0);
	assert_int_equal(map[8], 0x01);
	assert_int_equal(map[15], 0x80);
	assert_int_equal(map[16], 0);
	for (unsigned int i = 1; i < 7; i++)
		assert_int_equal(map[i], 0);
	assert_int_equal(b.nr_records, 3);
}

static void test_mmap_offsets(void **state)
{
	uint64_t a = iommu_mmap_offset_alloc(8192);
	uint64_t b2 = iommu_mmap_offset_alloc(0x20001); /* three 64 KiB units */
	uint64_t c = iommu_mmap_offset_alloc(1);

	assert_true(a != 0);
	assert_int_equal(a % 0x10000, 0);
	assert_int_equal(b2, a + 0x10000);
	assert_int_equal(c, b2 + 0x30000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_from_user_rules),
		cmocka_unit_test(test_copy_from_user_array),
		cmocka_unit_test(test_copy_full_array),
		cmocka_unit_test(test_copy_to_user),
		cmocka_unit_test(test_dirty_bitmap_init),
		cmocka_unit_test(test_dirty_bitmap_record),
		cmocka_unit_test(test_dirty_bitmap_unaligned),
		cmocka_unit_test(test_mmap_offsets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
