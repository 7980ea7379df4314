/* AVX2 kernel of the fast PAL8-B32 GEMM: weight packing and the per-tile
 * loop (block sums by table lookup in 16-bit lanes, FP32 accumulation with a
 * vector fast path). Built with -mavx2 -mfma; pal_gemm.c only calls it on
 * CPUs with AVX2. */
#include <immintrin.h>
#include <string.h>

#include "pal_gemm_internal.h"

/* How one activation (distance da = 16 qa + ra) meets 16 weights in 16-bit
 * lanes, 16 products per vector instruction:
 *
 *  1. Table. P[D] = (L[D & 15] << 7) >> (D >> 4). Floor-shifts compose, so
 *     for a weight dw = 16 qw + rw, P[da + dw] = P[da + rw] >> qw: the
 *     activation's 16-entry table E[rw] = 2 P[da + rw] and a per-weight shift
 *     give every product. E is stored as low bytes (lane 0) and high bytes
 *     (lane 1) of one 32-byte vector; vpshufb with the weights' rw bytes
 *     (broadcast to both lanes) looks up both halves at once, and vpermq +
 *     vpshufb interleave them into 16 words in slot order.
 *  2. Shift. p = mulhi_u16(E, 2^(15 - qw)) = floor(2P 2^(15-qw) / 2^16) =
 *     floor(P / 2^qw): a truncating shift per lane (AVX2 has no vpsrlvw).
 *     The factor 2 keeps the multiplier within 16 bits for qw = 0.
 *  3. 2P fits 16 bits except 2 P[0] = 2^16 (da = 0, rw = 0 only). It is
 *     stored as 65535, which yields 2^(15 - qw) - 1, one too small; after
 *     the block, each da = 0 activation adds the signs of the weights it
 *     met with rw = 0 back from a per-(k, column) correction byte. This also
 *     keeps every p <= 32767, a valid signed word for step 4.
 *  4. Sign and widen. vpmaddwd with word pairs (s, 0) and (0, s), s = +-1
 *     (0 for a zero weight), gives the signed products of the even and the
 *     odd slots as int32, added to (or, for a negative activation,
 *     subtracted from) the block sums.
 *
 * Slot 2j of a 16-column group holds column j and slot 2j + 1 column 8 + j,
 * so the even and odd sums are columns 0-7 and 8-15 in order. */

#define NGROUP (PAL_GEMM_NT / 16)
_Static_assert(NGROUP == 4, "the AVX2 step below is unrolled for four 16-column groups");

/* Layout of one k inside a (tile, block) chunk. */
typedef struct krec {
  uint8_t idx[NGROUP][16]; /* rw per slot, 0x80 (reads as 0) for a zero weight */
  uint16_t mul[NGROUP][16];   /* 2^(15 - qw) per slot */
  int16_t sign_even[NGROUP][16]; /* s in even slots, 0 in odd ones */
  int16_t sign_odd[NGROUP][16];  /* 0 in even slots, s in odd ones */
} krec_t;
_Static_assert(sizeof(krec_t) == PAL_GEMM_AVX2_KREC, "krec layout");

void pal_gemm_avx2_tables(pal_gemm_tables_t *tables) {
  for (unsigned da = 0; da <= PAL_CODE8_DIST_MAX; da++)
    for (unsigned rw = 0; rw < 16; rw++) {
      uint32_t e = 2 * pal_product_mag(da + rw);
      if (e > 0xFFFFu) e = 0xFFFFu; /* da = rw = 0, see step 3 */
      tables->avx2[da][rw] = (uint8_t)(e & 0xFFu);
      tables->avx2[da][16 + rw] = (uint8_t)(e >> 8);
    }
}

void pal_gemm_avx2_pack_tile(const pal_b32_matrix_t *w, const uint8_t *w_nar, size_t tile,
                             uint8_t *dst) {
  /* The packed fields of each of the 256 codes (NaR codes only occur in NaR
   * rows, which pack as zeros). */
  uint8_t idx_of[256];
  uint16_t mul_of[256];
  int16_t sign_of[256];
  for (unsigned c = 0; c < 256; c++) {
    unsigned mag = c & PAL_CODE8_MAG_MASK, dw = 127u - mag;
    idx_of[c] = mag == 0 ? 0x80 : (uint8_t)(dw & 15u);
    mul_of[c] = mag == 0 ? 0 : (uint16_t)(1u << (15 - (dw >> 4)));
    sign_of[c] = mag == 0 ? 0 : (c & PAL_CODE8_SIGN) ? -1 : 1;
  }
  const size_t kb = w->kblocks;
  for (size_t b = 0; b < kb; b++) {
    /* The tile's 64 x 32 codes of this block, dead rows as zeros. */
    uint8_t codes[PAL_GEMM_NT][PAL_B32_BLOCK];
    for (size_t j = 0; j < PAL_GEMM_NT; j++) {
      size_t n = tile * PAL_GEMM_NT + j;
      if (n < w->rows && !w_nar[j])
        memcpy(codes[j], w->codes + (n * kb + b) * PAL_B32_BLOCK, PAL_B32_BLOCK);
      else
        memset(codes[j], PAL_CODE8_ZERO, PAL_B32_BLOCK);
    }
    uint8_t *chunk = dst + b * PAL_GEMM_AVX2_CHUNK;
    int8_t *corr = (int8_t *)(chunk + PAL_B32_BLOCK * PAL_GEMM_AVX2_KREC);
    for (size_t k = 0; k < PAL_B32_BLOCK; k++) {
      krec_t *r = (krec_t *)(void *)(chunk + k * PAL_GEMM_AVX2_KREC);
      memset(r->sign_even, 0, sizeof r->sign_even + sizeof r->sign_odd);
      for (size_t g = 0; g < NGROUP; g++)
        for (size_t i = 0; i < 16; i++) {
          size_t j = 16 * g + i, slot = i < 8 ? 2 * i : 2 * (i - 8) + 1;
          uint8_t code = codes[j][k];
          r->idx[g][slot] = idx_of[code];
          r->mul[g][slot] = mul_of[code];
          if (i < 8)
            r->sign_even[g][slot] = sign_of[code];
          else
            r->sign_odd[g][slot] = sign_of[code];
          corr[k * PAL_GEMM_NT + j] = (int8_t)(idx_of[code] == 0 ? sign_of[code] : 0);
        }
    }
  }
}

/* Steps 1, 2 and 4 for one 16-column group. */
#define PAL_AVX2_GROUP(G, SE, SO, OP)                                                        \
  do {                                                                                       \
    __m256i idx = _mm256_broadcastsi128_si256(_mm_load_si128((const __m128i *)r->idx[G]));   \
    __m256i x = _mm256_shuffle_epi8(t, idx);                                                 \
    x = _mm256_shuffle_epi8(_mm256_permute4x64_epi64(x, 0xD8), interleave);                  \
    x = _mm256_mulhi_epu16(x, _mm256_load_si256((const __m256i *)r->mul[G]));                \
    SE = OP(SE, _mm256_madd_epi16(x, _mm256_load_si256((const __m256i *)r->sign_even[G])));  \
    SO = OP(SO, _mm256_madd_epi16(x, _mm256_load_si256((const __m256i *)r->sign_odd[G])));   \
  } while (0)

/* One activation against the 64 columns of a tile. */
#define PAL_AVX2_STEP(OP)                                                                    \
  do {                                                                                       \
    const krec_t *r = (const krec_t *)(const void *)(chunk + al->koff[i]);                   \
    __m256i t = _mm256_loadu_si256((const __m256i *)(const void *)(tab + al->doff[i]));      \
    PAL_AVX2_GROUP(0, s0, s1, OP);                                                           \
    PAL_AVX2_GROUP(1, s2, s3, OP);                                                           \
    PAL_AVX2_GROUP(2, s4, s5, OP);                                                           \
    PAL_AVX2_GROUP(3, s6, s7, OP);                                                           \
  } while (0)

/* Step 3 for the da = 0 activations at the set bits of MASK. */
#define PAL_AVX2_CORRECT(MASK, OP)                                                           \
  for (uint32_t mask = (MASK); mask; mask &= mask - 1) {                                     \
    const int8_t *c = corr + (unsigned)__builtin_ctz(mask) * PAL_GEMM_NT;                    \
    s0 = OP(s0, _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(c + 0))));            \
    s1 = OP(s1, _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(c + 8))));            \
    s2 = OP(s2, _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(c + 16))));           \
    s3 = OP(s3, _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(c + 24))));           \
    s4 = OP(s4, _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(c + 32))));           \
    s5 = OP(s5, _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(c + 40))));           \
    s6 = OP(s6, _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(c + 48))));           \
    s7 = OP(s7, _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(c + 56))));           \
  }

/* acc += s * 2^e for 8 outputs (§3). The vector path covers the common case
 * (t = s * 2^e a normal FP32 value, the sum a normal value), where the rule
 * is one IEEE addition; every other non-zero lane (t out of range, a sum
 * that is zero, subnormal or infinite) goes through the golden model's
 * pal_fp32_accumulate. Range tests are single signed compares of biased
 * values: x in [lo, hi] <=> x - lo <u hi - lo + 1. */
static inline __attribute__((always_inline)) void flush(float *accp, uint8_t *narp, __m256i s,
                                                        __m256i e) {
  __m256 a = _mm256_loadu_ps(accp);
  __m256i skip = _mm256_cmpeq_epi32(s, _mm256_setzero_si256()); /* adds nothing */
  __m256i fb = _mm256_castps_si256(_mm256_cvtepi32_ps(s));       /* exact: |s| <= 2^20 */
  /* t's biased exponent, bits 30..23 of fb plus e, must be 1..254. */
  __m256i bt = _mm256_add_epi32(_mm256_srli_epi32(_mm256_slli_epi32(fb, 1), 24), e);
  __m256i tnorm = _mm256_cmpgt_epi32(_mm256_set1_epi32(INT32_MIN + 254),
                                     _mm256_add_epi32(bt, _mm256_set1_epi32(INT32_MAX)));
  __m256 sum = _mm256_add_ps(a, _mm256_castsi256_ps(_mm256_add_epi32(fb, _mm256_slli_epi32(e, 23))));
  /* The sum's exponent field, as (bits << 1) in [2^24, 255 * 2^24). */
  __m256i sy = _mm256_slli_epi32(_mm256_castps_si256(sum), 1);
  __m256i snorm = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x7E000000),
                                     _mm256_add_epi32(sy, _mm256_set1_epi32(0x7F000000)));
  __m256i good = _mm256_andnot_si256(skip, _mm256_and_si256(tnorm, snorm));
  _mm256_storeu_ps(accp, _mm256_blendv_ps(a, sum, _mm256_castsi256_ps(good)));
  unsigned slow = ~(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_or_si256(good, skip))) & 0xFFu;
  if (__builtin_expect(slow != 0, 0)) {
    int32_t sv[8], ev[8];
    _mm256_storeu_si256((__m256i *)sv, s);
    _mm256_storeu_si256((__m256i *)ev, e);
    for (; slow; slow &= slow - 1) {
      unsigned l = (unsigned)__builtin_ctz(slow);
      pal_gemm_accumulate_lane(&accp[l], &narp[l], sv[l], ev[l]);
    }
  }
}

void pal_gemm_avx2_run_tile(const pal_gemm_plan_t *plan, size_t tile, size_t m0, size_t m1,
                            float *acc, uint8_t *nar) {
  const size_t kb = plan->kblocks;
  const uint8_t *tab = &plan->tables->avx2[0][0];
  const __m256i interleave = _mm256_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15,
                                              0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
  for (size_t b = 0; b < kb; b++) {
    const uint8_t *chunk = plan->wpack + (tile * kb + b) * plan->wpack_chunk;
    const int8_t *corr = (const int8_t *)(chunk + PAL_B32_BLOCK * PAL_GEMM_AVX2_KREC);
    const int32_t *we = plan->wexp + (tile * kb + b) * PAL_GEMM_NT;
    for (size_t m = m0; m < m1; m++) {
      if (plan->a_nar[m]) continue; /* the whole row is NaR anyway */
      const pal_gemm_alist_t *al = plan->alists + m * kb + b;
      unsigned np = al->npos, nt = np + al->nneg, i = 0;
      if (nt == 0) continue; /* an all-zero block adds nothing */
      __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0,
              s6 = s0, s7 = s0;
      for (; i < np; i++) PAL_AVX2_STEP(_mm256_add_epi32);
      for (; i < nt; i++) PAL_AVX2_STEP(_mm256_sub_epi32);
      PAL_AVX2_CORRECT(al->d0pos, _mm256_add_epi32);
      PAL_AVX2_CORRECT(al->d0neg, _mm256_sub_epi32);
      __m256i ea = _mm256_set1_epi32(plan->aexp[m * kb + b]);
      float *accp = acc + (m - m0) * PAL_GEMM_NT;
      uint8_t *narp = nar + (m - m0) * PAL_GEMM_NT;
      const __m256i *wev = (const __m256i *)(const void *)we;
      flush(accp + 0, narp + 0, s0, _mm256_add_epi32(ea, _mm256_loadu_si256(wev + 0)));
      flush(accp + 8, narp + 8, s1, _mm256_add_epi32(ea, _mm256_loadu_si256(wev + 1)));
      flush(accp + 16, narp + 16, s2, _mm256_add_epi32(ea, _mm256_loadu_si256(wev + 2)));
      flush(accp + 24, narp + 24, s3, _mm256_add_epi32(ea, _mm256_loadu_si256(wev + 3)));
      flush(accp + 32, narp + 32, s4, _mm256_add_epi32(ea, _mm256_loadu_si256(wev + 4)));
      flush(accp + 40, narp + 40, s5, _mm256_add_epi32(ea, _mm256_loadu_si256(wev + 5)));
      flush(accp + 48, narp + 48, s6, _mm256_add_epi32(ea, _mm256_loadu_si256(wev + 6)));
      flush(accp + 56, narp + 56, s7, _mm256_add_epi32(ea, _mm256_loadu_si256(wev + 7)));
    }
  }
}
