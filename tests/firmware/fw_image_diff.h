/* The firmware's kernel-image loader (firmware/pal_fw_image.c) against the
 * host's parser and validator (driver/palk.c) on one image and one tile: the
 * two were written independently from docs/kernel-image.md, so where they
 * disagree one of them is wrong. Shared by the cmocka test of random image
 * mutations (test_fw_image.c, in make test) and the libFuzzer target
 * (fuzz_fw_image.c, make fuzz-run-fw-image); no cmocka here.
 *
 * What must hold (docs/control-core.md §5):
 *  - the firmware never writes outside a buffer, whatever the image;
 *  - an image it rejects for any reason but the CRC writes nothing (the CRC
 *    is known only at the end; the data before it was checked in bounds);
 *  - an image the firmware accepts, the host accepts too, unless the host
 *    rejects it for one of its own checks the firmware leaves out by design
 *    (a CODE word that does not decode, two bindings of one name);
 *  - an image the host accepts, the firmware accepts too (the firmware's
 *    one extra limit: at most PAL_FW_MAX_SECTIONS sections), and every
 *    section's bytes land where the host's parser says, ACC's NaR flags
 *    cleared, nothing else touched. */
#ifndef PAL_FW_IMAGE_DIFF_H
#define PAL_FW_IMAGE_DIFF_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fake_hal.h"
#include "pal/kernel_image.h"
#include "pal/tile.h"
#include "pal_fw_image.h"

/* The firmware's view of the fake tile (its ID registers). */
static inline void fw_diff_tile_info(pal_fw_tile_info_t *t)
{
    memset(t, 0, sizeof *t);
    t->id = fake.id;
    t->isa_version = fake.isa_version;
    t->rows = fake.config.rows;
    t->cols = fake.config.cols;
    t->imem_depth = fake.config.imem_depth;
    t->abuf_blocks = fake.config.abuf_blocks;
    t->wmem_blocks = fake.config.wmem_blocks;
    t->acc_depth = fake.config.acc_depth;
    t->bias_depth = fake.config.bias_depth;
    t->obuf_depth = fake.config.obuf_depth;
}

static inline uint64_t fw_diff_next(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s >> 33;
}

/* Feeds the image to a loader for the fake tile in chunks of 1..97 bytes
 * drawn from chunk_seed (the mailbox delivers it in pieces); returns the
 * reject code. */
static inline uint32_t fw_diff_load(const pal_fw_tile_info_t *tile, const uint8_t *img, size_t size,
                                    uint64_t chunk_seed, pal_fw_loader_t *ld)
{
    pal_fw_loader_begin(ld, tile, (uint32_t)size);
    size_t pos = 0;
    uint32_t r = ld->reject;
    while (pos < size && r == PAL_FW_REJECT_NONE) {
        size_t n = 1 + (size_t)(fw_diff_next(&chunk_seed) % 97u);
        if (n > size - pos)
            n = size - pos;
        r = pal_fw_loader_feed(ld, img + pos, (uint32_t)n);
        pos += n;
    }
    return r;
}

static inline int fw_diff_fail(char *why, size_t why_n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_n, fmt, ap);
    va_end(ap);
    return 1;
}

/* Every section of a host-parsed image where the host puts it, ACC's NaR
 * flags cleared, and no other byte of the fake tile changed. */
static inline int fw_diff_placement(const pal_kernel_image_t *k, char *why, size_t why_n)
{
    static const int region_of[] = {0, FAKE_R_IMEM, FAKE_R_ABUF_CODES, FAKE_R_ABUF_SCALES,
                                    FAKE_R_WMEM_CODES, FAKE_R_WMEM_SCALES, FAKE_R_BIAS, FAKE_R_ACC};
    uint32_t p = fake.config.rows * fake.config.cols;
    size_t expected_changed = 0;
    for (size_t i = 0; i < pal_kernel_image_section_count(k); i++) {
        pal_kernel_section_t s;
        pal_kernel_image_section(k, i, &s);
        int region = region_of[s.kind];
        size_t esize = region == FAKE_R_IMEM || region == FAKE_R_BIAS || region == FAKE_R_ACC ? 4 : 1;
        int per_pe_region = region == FAKE_R_WMEM_CODES || region == FAKE_R_WMEM_SCALES;
        int striped = s.pe == PAL_KERNEL_IMAGE_ALL_PES;
        uint32_t n_pe = striped ? p : 1;
        size_t per_pe = fake.mem_bytes[region] / (per_pe_region ? p : 1);
        size_t n = (size_t)s.length * esize;
        const uint8_t *src = s.data;
        for (uint32_t q = 0; q < n_pe; q++) {
            uint32_t pe = striped ? q : s.pe;
            const uint8_t *dst = fake.mem[region] + (size_t)pe * per_pe + (size_t)s.index * esize;
            if (memcmp(dst, src + (size_t)q * n, n) != 0)
                return fw_diff_fail(why, why_n, "section %zu (kind %u, PE %u): the firmware wrote other bytes",
                                    i, (unsigned)s.kind, pe);
            for (size_t b = 0; b < n; b++)
                expected_changed += src[(size_t)q * n + b] != FAKE_CANARY;
        }
        if (s.kind == PAL_KERNEL_SECTION_ACC)
            for (uint64_t e = 0; e < s.length; e++) {
                if (fake.mem[FAKE_R_ACC_NAR][s.index + e] != 0)
                    return fw_diff_fail(why, why_n, "section %zu: ACC word %llu's NaR flag not cleared", i,
                                        (unsigned long long)(s.index + e));
                expected_changed++;
            }
    }
    /* the bytes that differ from the canary are exactly the sections' bytes
     * that do (sections never overlap) and the NaR flags cleared: nothing
     * else was written */
    size_t changed = 0;
    for (int rg = 0; rg < FAKE_R_COUNT; rg++)
        for (size_t i = 0; i < fake.mem_bytes[rg]; i++)
            changed += fake.mem[rg][i] != FAKE_CANARY;
    if (changed != expected_changed)
        return fw_diff_fail(why, why_n, "%zu bytes of the tile differ from the canary, the sections account for %zu",
                            changed, expected_changed);
    return 0;
}

/* The host's verdict on the image for the fake tile's geometry: 1 accepted
 * (*out_image set, release it), 0 rejected (its message in msg). */
static inline int fw_diff_host(const uint8_t *img, size_t size, pal_kernel_image_t **out_image, char *msg,
                               size_t msg_n)
{
    pal_kernel_image_t *k = NULL;
    *out_image = NULL;
    pal_status_t s = pal_kernel_image_parse(img, size, &k);
    if (s == PAL_STATUS_OK)
        s = pal_kernel_image_validate(k, &fake.config);
    if (s != PAL_STATUS_OK) {
        snprintf(msg, msg_n, "%s", pal_status_message(s));
        pal_status_free(s);
        pal_kernel_image_destroy(k);
        return 0;
    }
    *out_image = k;
    return 1;
}

/* Loads the image through the firmware into a fresh fake tile of `config`
 * and compares with the host. 0 when all of the above holds; else 1 with
 * the reason in why. *out_fw_accepted (if not NULL): the firmware's verdict. */
static inline int fw_image_diff(const pal_tile_config_t *config, const uint8_t *img, size_t size,
                                uint64_t chunk_seed, char *why, size_t why_n, int *out_fw_accepted)
{
    if (out_fw_accepted)
        *out_fw_accepted = 0;
    if (size > UINT32_MAX)
        return 0; /* the mailbox announces 32-bit sizes */
    fake_init(config);
    pal_fw_tile_info_t tile;
    fw_diff_tile_info(&tile);
    pal_fw_loader_t ld;
    uint32_t r = fw_diff_load(&tile, img, size, chunk_seed, &ld);
    int fw_ok = pal_fw_loader_complete(&ld);
    if (out_fw_accepted)
        *out_fw_accepted = fw_ok;
    if (fw_ok != (r == PAL_FW_REJECT_NONE))
        return fw_diff_fail(why, why_n, "reject code %u but complete flag %d", r, fw_ok);
    if (fake.outside_writes != 0)
        return fw_diff_fail(why, why_n, "%u writes outside the buffers (last at 0x%08x), reject code %u",
                            fake.outside_writes, fake.last_outside, r);
    if (r != PAL_FW_REJECT_NONE && r != PAL_FW_REJECT_CRC && !fake_pristine())
        return fw_diff_fail(why, why_n, "rejected (code %u, detail %u) after writing to the tile", r,
                            ld.detail);

    char msg[512];
    pal_kernel_image_t *k = NULL;
    int host_ok = fw_diff_host(img, size, &k, msg, sizeof msg);
    int rc = 0;
    if (fw_ok && !host_ok) {
        if (!strstr(msg, ": instruction at pc ") && !strstr(msg, "have the same name"))
            rc = fw_diff_fail(why, why_n, "the firmware accepts an image the host rejects: %s", msg);
    } else if (host_ok && !fw_ok) {
        if (!(r == PAL_FW_REJECT_TOO_MANY_SECTIONS &&
              pal_kernel_image_section_count(k) > PAL_FW_MAX_SECTIONS))
            rc = fw_diff_fail(why, why_n, "the host accepts an image the firmware rejects (code %u, detail %u)",
                              r, ld.detail);
    } else if (host_ok && fw_ok) {
        if (ld.entry_pc != pal_kernel_image_entry_pc(k))
            rc = fw_diff_fail(why, why_n, "entry PC %u, the host says %u", ld.entry_pc,
                              pal_kernel_image_entry_pc(k));
        else
            rc = fw_diff_placement(k, why, why_n);
    }
    pal_kernel_image_destroy(k);
    return rc;
}

#endif
