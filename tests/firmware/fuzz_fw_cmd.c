/* libFuzzer target: the firmware's command loop under any request stream
 * (fw_cmd_script.h says how the input becomes requests and what must hold).
 * The tile is the default 4x4; the script's whole-image loads use a valid
 * image built here with the host's builder (one END instruction and a few
 * sections), so START, RUN, the watchdog and replays of every reply are
 * reached without a corpus. A violation aborts with the reason.
 *   make fuzz-run-fw-cmd [FUZZ_SECONDS=60] */
#include <stdio.h>
#include <stdlib.h>

#include "fw_cmd_script.h"
#include "pal/tile.h"
#include "pal/kernel_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *image;
static size_t image_size;

static void build_image(void)
{
    pal_kernel_image_builder_t *b = NULL;
    pal_isa_instr_t end = {0};
    end.opcode = PAL_ISA_OP_END;
    uint32_t words[PAL_ISA_INSTR_WORDS];
    static uint8_t bytes[32 * 16]; /* 32 codes for each of the 16 PEs */
    static uint32_t bias[8];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)(i * 37u + 1u);
    pal_kernel_section_t wmem = {PAL_KERNEL_SECTION_WMEM_CODES, PAL_KERNEL_IMAGE_ALL_PES, 0, 32, bytes, 0};
    pal_kernel_section_t bsec = {PAL_KERNEL_SECTION_BIAS, 0, 0, 8, bias, 0};
    void *out = NULL;
    if (pal_isa_encode(&end, words) || pal_kernel_image_builder_create(NULL, &b) ||
        pal_kernel_image_builder_add_code(b, 0, words, PAL_ISA_INSTR_WORDS) ||
        pal_kernel_image_builder_add_section(b, &wmem) || pal_kernel_image_builder_add_section(b, &bsec) ||
        pal_kernel_image_builder_serialize(b, &out, &image_size)) {
        fprintf(stderr, "fuzz_fw_cmd: cannot build the test image\n");
        abort();
    }
    pal_kernel_image_builder_destroy(b);
    image = out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!image)
        build_image();
    pal_tile_config_t config;
    pal_tile_config_initialize(&config, 4, 4);
    fw_script_stats_t stats;
    char why[512];
    if (fw_cmd_script(&config, data, size, image, image_size, &stats, why, sizeof why)) {
        fprintf(stderr, "fuzz_fw_cmd: %s\n", why);
        abort();
    }
    return 0;
}
