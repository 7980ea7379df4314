/* Raw block sums (include/pal/tile.h, docs/isa.md §1): the ACC words a GEMM
 * leaves on a tile without accumulate units, and the host's half of the
 * accumulation, which must give the bits an accumulate unit gives. */
#include "pal/format.h"
#include "pal/tile.h"

#define RAW_SUM_BITS 22u
#define RAW_EXP_MASK ((1u << PAL_TILE_RAW_EXP_BITS) - 1u)

uint32_t pal_tile_raw_word(int32_t block_sum, int exp) {
  return ((uint32_t)block_sum << PAL_TILE_RAW_EXP_BITS) | ((uint32_t)exp & RAW_EXP_MASK);
}

void pal_tile_raw_unpack(uint32_t word, int32_t *out_block_sum, int *out_exp) {
  /* sign-extend both fields from their widths (arithmetic shifts of the
   * word placed at the top of a 32-bit value) */
  *out_block_sum = (int32_t)word >> PAL_TILE_RAW_EXP_BITS;
  *out_exp = (int32_t)(word << (32u - PAL_TILE_RAW_EXP_BITS)) >> (32u - PAL_TILE_RAW_EXP_BITS);
}

float pal_tile_raw_add(float acc, uint32_t word, bool nar_flag, bool *io_nar) {
  if (nar_flag) *io_nar = true;
  if (*io_nar) return acc;
  int32_t s;
  int e;
  pal_tile_raw_unpack(word, &s, &e);
  return pal_fp32_accumulate(acc, s, e, io_nar);
}
