/* libFuzzer target: the firmware's kernel-image loader against the host's
 * validator (fw_image_diff.h). Every input is tried as given and again with
 * its header fixed up and its CRC sealed (tests/driver/palk_fuzz_fixup.h),
 * so mutations reach the checks behind the header and the CRC.
 * The tile has the geometry the image asks for when that is 1..8 x 1..8
 * (the default depths), else 4x4, so the checks past GEOMETRY are reached
 * for any R x C. A disagreement, a write outside a buffer or a write before
 * a rejection aborts with the reason.
 *   make fuzz-run-fw-image [FUZZ_SECONDS=60] */
#include <stdio.h>
#include <stdlib.h>

#include "fw_image_diff.h"
#include "palk_fuzz_fixup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_image(const uint8_t *img, size_t size)
{
    uint32_t rows = 4, cols = 4;
    if (size >= PAL_KERNEL_IMAGE_HEADER_BYTES) {
        uint32_t r = img[PAL_KERNEL_IMAGE_OFF_ROWS] | (uint32_t)img[PAL_KERNEL_IMAGE_OFF_ROWS + 1] << 8;
        uint32_t c = img[PAL_KERNEL_IMAGE_OFF_COLS] | (uint32_t)img[PAL_KERNEL_IMAGE_OFF_COLS + 1] << 8;
        if (r >= 1 && r <= 8 && c >= 1 && c <= 8) {
            rows = r;
            cols = c;
        }
    }
    pal_tile_config_t config;
    pal_tile_config_initialize(&config, rows, cols);
    char why[512];
    if (fw_image_diff(&config, img, size, size * 2654435761u, why, sizeof why, NULL)) {
        fprintf(stderr, "fuzz_fw_image: %s\n", why);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try_image(data, size);
    uint8_t *copy = palk_fuzz_fixed_copy(data, size);
    if (copy) {
        try_image(copy, size);
        free(copy);
    }
    fake_release();
    return 0;
}
