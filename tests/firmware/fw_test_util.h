/* Shared by the firmware host tests: a valid kernel image built with the
 * host's own builder (driver/palk.c), field patching with re-sealing, and
 * the section and binding layout of that image. */
#ifndef PAL_FW_TEST_UTIL_H
#define PAL_FW_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_hal.h"
#include "pal/kernel_image.h"
#include "pal/tile.h"
#include "pal_test.h"

/* Sections of the test image, in table order. */
enum {
    SEC_CODE, SEC_WMEM_STRIPED, SEC_WSCALE_STRIPED, SEC_WMEM_PE3, SEC_ABUF, SEC_ASCALE, SEC_BIAS,
    SEC_ACC, SEC_N
};
enum { BIND_X, BIND_Y, BIND_B, BIND_N };

static inline size_t sec_off(int i) { return 64u + 32u * (size_t)i; }
static inline size_t bind_off(int j) { return 64u + 32u * SEC_N + 64u * (size_t)j; }

static inline void put16(uint8_t *p, size_t off, uint32_t v)
{
    p[off] = (uint8_t)v;
    p[off + 1] = (uint8_t)(v >> 8);
}
static inline void put32(uint8_t *p, size_t off, uint32_t v)
{
    put16(p, off, v & 0xFFFFu);
    put16(p, off + 2, v >> 16);
}
static inline uint32_t get32(const uint8_t *p, size_t off)
{
    return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
           (uint32_t)p[off + 3] << 24;
}

static inline void must(pal_status_t s)
{
    if (s != PAL_STATUS_OK) {
        print_error("%s\n", pal_status_message(s));
        pal_status_free(s);
        fail();
    }
}

/* A valid image for the 4x4 default geometry, random data from `seed`.
 * Release with free(). */
static inline uint8_t *fw_test_image(uint64_t seed, size_t *out_size)
{
    pal_test_rng_t rng;
    pal_test_rng_init(&rng, seed);
    pal_kernel_image_builder_t *b = NULL;
    must(pal_kernel_image_builder_create(NULL, &b));
    static const char text[] =
        "gemm a=0 as=2 m=1 k=2 w=0 nt=1 acc=0 init=bias bias=0\n"
        "post acc=0 n=8 m=1 act=relu fmt=fp32 out=0 os=8\n"
        "end\n";
    pal_asm_program_t prog = {0};
    must(pal_asm_assemble(text, sizeof text - 1, NULL, &prog));
    must(pal_kernel_image_builder_add_code(b, 0, prog.words, prog.word_count));
    pal_asm_program_release(&prog);
    static uint8_t bytes[16 * 64 + 64];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)pal_test_rng_u32(&rng);
    static uint32_t words[16];
    for (size_t i = 0; i < 16; i++)
        words[i] = pal_test_rng_u32(&rng);
    const pal_kernel_section_t secs[] = {
        {PAL_KERNEL_SECTION_WMEM_CODES, PAL_KERNEL_IMAGE_ALL_PES, 0, 64, bytes, 0},
        {PAL_KERNEL_SECTION_WMEM_SCALES, PAL_KERNEL_IMAGE_ALL_PES, 0, 2, bytes + 7, 0},
        {PAL_KERNEL_SECTION_WMEM_CODES, 3, 128, 32, bytes + 100, 0},
        {PAL_KERNEL_SECTION_ABUF_CODES, 0, 0, 64, bytes + 200, 0},
        {PAL_KERNEL_SECTION_ABUF_SCALES, 0, 0, 2, bytes + 300, 0},
        {PAL_KERNEL_SECTION_BIAS, 0, 0, 8, words, 0},
        {PAL_KERNEL_SECTION_ACC, 0, 16, 8, words + 8, 0},
    };
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++)
        must(pal_kernel_image_builder_add_section(b, &secs[i]));
    pal_kernel_binding_t x = {"x", PAL_KERNEL_BINDING_INPUT, PAL_KERNEL_FORMAT_PAL8_B32,
                              PAL_TILE_REGION_ABUF_CODES, 1, 64, 0, 2};
    pal_kernel_binding_t y = {"y", PAL_KERNEL_BINDING_OUTPUT, PAL_KERNEL_FORMAT_FP32,
                              PAL_TILE_REGION_OBUF, 1, 8, 0, 8};
    pal_kernel_binding_t bb = {"b", PAL_KERNEL_BINDING_INPUT, PAL_KERNEL_FORMAT_FP32,
                               PAL_TILE_REGION_BIAS, 1, 8, 0, 8};
    must(pal_kernel_image_builder_add_binding(b, &x));
    must(pal_kernel_image_builder_add_binding(b, &y));
    must(pal_kernel_image_builder_add_binding(b, &bb));
    void *data = NULL;
    must(pal_kernel_image_builder_serialize(b, &data, out_size));
    pal_kernel_image_builder_destroy(b);
    uint8_t *img = (uint8_t *)data;
    /* the layout the tests patch */
    assert_int_equal(get32(img, 60) & 0xFFFFu, SEC_N);
    assert_int_equal(get32(img, 60) >> 16, BIND_N);
    assert_int_equal(get32(img, sec_off(SEC_CODE)) & 0xFFFFu, PAL_KERNEL_SECTION_CODE);
    assert_int_equal(get32(img, sec_off(SEC_ACC)) & 0xFFFFu, PAL_KERNEL_SECTION_ACC);
    assert_int_equal(img[bind_off(BIND_Y)], 'y');
    return img;
}

#endif
