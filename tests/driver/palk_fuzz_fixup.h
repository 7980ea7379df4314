/* Shared by the libFuzzer targets over kernel images (fuzz_palk.c and
 * tests/firmware/fuzz_fw_image.c): a copy of the input with the header's
 * fixed fields set (magic, format version, header size, total_length = the
 * input's size, ISA version) and the CRC sealed, so that mutations reach the
 * checks behind them. NULL when the input is shorter than a header, longer
 * than 1 MiB, or memory runs out; release with free(). */
#ifndef PAL_PALK_FUZZ_FIXUP_H
#define PAL_PALK_FUZZ_FIXUP_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pal/kernel_image.h"
#include "pal/tile.h"

static inline uint8_t *palk_fuzz_fixed_copy(const uint8_t *data, size_t size) {
  if (size < PAL_KERNEL_IMAGE_HEADER_BYTES || size > (1u << 20)) return NULL;
  uint8_t *copy = malloc(size);
  if (!copy) return NULL;
  memcpy(copy, data, size);
  memcpy(copy, PAL_KERNEL_IMAGE_MAGIC, 4);
  copy[PAL_KERNEL_IMAGE_OFF_FORMAT_VERSION] = 1;
  copy[PAL_KERNEL_IMAGE_OFF_FORMAT_VERSION + 1] = 0;
  copy[PAL_KERNEL_IMAGE_OFF_HEADER_BYTES] = PAL_KERNEL_IMAGE_HEADER_BYTES;
  copy[PAL_KERNEL_IMAGE_OFF_HEADER_BYTES + 1] = 0;
  for (int i = 0; i < 8; i++) copy[PAL_KERNEL_IMAGE_OFF_TOTAL_LENGTH + i] = (uint8_t)((uint64_t)size >> (8 * i));
  for (int i = 0; i < 4; i++) copy[PAL_KERNEL_IMAGE_OFF_ISA_VERSION + i] = (uint8_t)(PAL_ISA_VERSION >> (8 * i));
  pal_kernel_image_seal(copy, size);
  return copy;
}

#endif
