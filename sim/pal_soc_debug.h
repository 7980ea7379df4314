/* Internal to sim/ and its tests: what a differential test needs to see of
 * the Verilated SoC beyond include/pal/soc.h. */
#ifndef PAL_SOC_DEBUG_H
#define PAL_SOC_DEBUG_H

#include <stdbool.h>
#include <stddef.h>

#include "pal/soc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* pal_soc_create for a model whose link engine was built with another
 * MAX_PAYLOAD (soc.h's models all have 4096; sim/soc.mk builds a 4x4 FIFO
 * one with the iCE40's 256 for the tests). */
pal_status_t pal_soc_create_with_max_payload(const pal_soc_options_t *options, uint32_t max_payload,
                                             pal_soc_t **out_soc);
/* pal_soc_create for the 4x4 FIFO SoC with the control core running the
 * tests' broken firmware (tests/soc/fw_broken.c: reads one request, never
 * answers; INFO hangs it, any other command halts it), for the link
 * engine's FW timeout and halt handling. */
pal_status_t pal_soc_create_with_broken_firmware(const pal_soc_options_t *options, pal_soc_t **out_soc);
/* Bytes written but not yet taken by the model (FIFO) or sent (UART). */
size_t pal_soc_input_pending(const pal_soc_t *soc);
/* The tile's STATUS.busy (o_leds[0]), without a bus transfer. */
bool pal_soc_tile_busy(const pal_soc_t *soc);

#ifdef __cplusplus
}
#endif
#endif /* PAL_SOC_DEBUG_H */
