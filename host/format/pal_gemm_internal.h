/* Private interface of the fast PAL8-B32 GEMM (include/pal/gemm.h) between
 * pal_gemm.c (checks, packing of activations, threads, epilogue, portable
 * kernel) and pal_gemm_avx2.c (the AVX2 weight packing and kernel). */
#ifndef PAL_GEMM_INTERNAL_H
#define PAL_GEMM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pal/format.h"

/* Output columns per tile: eight 8-lane int32 block sums in the AVX2
 * kernel, enough to amortise each activation's table load. Weights are
 * packed tile by tile and block by block, so one (tile, block) chunk (16 KiB
 * for AVX2) stays in L1 while every activation row of a work item passes
 * over it. */
#define PAL_GEMM_NT 64

/* Per-call read-only tables shared by all workers. */
typedef struct pal_gemm_tables {
  /* AVX2: for each activation distance da, the 16 values E[rw] = 2 P[da + rw]
   * (rw = 0..15) as low bytes (bytes 0-15) and high bytes (16-31), where
   * P[D] = (L[D & 15] << 7) >> (D >> 4). One pshufb reads both halves;
   * pal_gemm_avx2.c says why the factor 2 and how E[0] of da = 0 is kept in
   * 16 bits. */
  _Alignas(32) uint8_t avx2[PAL_CODE8_DIST_MAX + 1][32];
  /* Portable kernel: prod[wi + da] is the signed product of a positive
   * activation with distance da and a weight packed as wi (see pal_gemm.c). */
  int32_t prod[1024];
} pal_gemm_tables_t;

/* The non-zero activations of one (row, block), grouped by sign so the
 * kernels add the first npos entries and subtract the next nneg with no
 * data-dependent branch per product. NaR codes never appear here: a row
 * holding one is NaR as a whole and skipped. */
typedef struct pal_gemm_alist {
  uint32_t d0pos, d0neg; /* bit k: the code at k has da = 0 (positive, negative) */
  uint8_t npos, nneg;
  /* Per entry, precomputed for the kernel's layouts (pal_gemm_plan_t):
   * kstride * k for the position k within the block and dstride * da for the
   * distance da = 127 - Ma. */
  uint16_t koff[PAL_B32_BLOCK];
  uint16_t doff[PAL_B32_BLOCK];
} pal_gemm_alist_t;

/* Everything a kernel needs, prepared once per call. */
typedef struct pal_gemm_plan {
  size_t m, n, kblocks;
  size_t ntiles;                  /* ceil(n / PAL_GEMM_NT) */
  const pal_gemm_alist_t *alists; /* [m][kblocks] */
  const int32_t *aexp;            /* [m][kblocks]: Ea - 15 */
  const uint8_t *a_nar;           /* [m]: the row holds a NaR code or X = 255 */
  const int32_t *wexp;            /* [ntiles][kblocks][PAL_GEMM_NT]: Ew */
  const uint8_t *wpack;           /* kernel-specific, [ntiles][kblocks] chunks */
  size_t wpack_chunk;             /* bytes of one (tile, block) chunk */
  const pal_gemm_tables_t *tables;
} pal_gemm_plan_t;

/* The AVX2 kernel's strides for pal_gemm_alist_t: bytes per k in a weight
 * chunk and per da in tables->avx2. */
#define PAL_GEMM_AVX2_KSTRIDE PAL_GEMM_AVX2_KREC
#define PAL_GEMM_AVX2_DSTRIDE 32

/* Bytes of one (tile, block) chunk of AVX2-packed weights: per k, 16 index
 * bytes and three 16-word vectors per group of 16 columns, then one int8
 * correction per (k, column). */
#define PAL_GEMM_AVX2_KREC ((size_t)(PAL_GEMM_NT / 16) * (16 + 3 * 32))
#define PAL_GEMM_AVX2_CHUNK ((size_t)PAL_B32_BLOCK * (PAL_GEMM_AVX2_KREC + PAL_GEMM_NT))

/* Fills tables->avx2 (done in pal_gemm_avx2.c with the kernel that reads it). */
void pal_gemm_avx2_tables(pal_gemm_tables_t *tables);

/* Packs weight rows [tile * NT, tile * NT + NT) of w for the AVX2 kernel into
 * dst (PAL_GEMM_AVX2_CHUNK * kblocks bytes, 32-byte aligned). Rows past
 * w->rows and rows j with w_nar[j] set (w_nar holds the tile's NT flags) pack
 * as zero weights. */
void pal_gemm_avx2_pack_tile(const pal_b32_matrix_t *w, const uint8_t *w_nar, size_t tile,
                             uint8_t *dst);

/* Runs all K blocks of rows [m0, m1) against tile `tile`: acc holds
 * (m1 - m0) x NT running FP32 sums (already at their start values), nar the
 * matching sticky NaR flags. */
void pal_gemm_avx2_run_tile(const pal_gemm_plan_t *plan, size_t tile, size_t m0, size_t m1,
                            float *acc, uint8_t *nar);

/* The FP32 accumulation of §3 for one lane the vector fast paths leave
 * alone (t out of range, or a sum that is subnormal or infinite): the golden
 * model's rule, applied to the running value. */
static inline void pal_gemm_accumulate_lane(float *acc, uint8_t *nar, int32_t block_sum,
                                            int exp) {
  bool flag = *nar != 0;
  *acc = pal_fp32_accumulate(*acc, block_sum, exp, &flag);
  *nar = flag;
}

#endif /* PAL_GEMM_INTERNAL_H */
