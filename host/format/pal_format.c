/* The PAL golden model: element codes, PAL8-B32 / PAL8-T / PAL16 encode and
 * decode, the bit-exact MAC datapath and FP32 accumulation (pal-format.md
 * §1-§4). Written for clarity; the fast path lives in pal_gemm*.c. */
#include "pal/format.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline int clamp_exponent(int e) {
  return e < PAL_EXP_MIN ? PAL_EXP_MIN : e > PAL_EXP_MAX ? PAL_EXP_MAX : e;
}

/* Number of thresholds T_j <= m in a sorted table: the rounding step u. */
static inline unsigned count_thresholds(const uint32_t *t, unsigned n, uint32_t m) {
  unsigned lo = 0, hi = n; /* first index with t[i] > m */
  while (lo < hi) {
    unsigned mid = (lo + hi) / 2;
    if (t[mid] <= m) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

int pal_block_exponent(float amax) {
  uint32_t b = pal_f32_bits(amax) & 0x7FFFFFFFu;
  int biased = (int)(b >> 23);
  if (biased == 0) return PAL_EXP_MIN; /* zero or subnormal: X = 0 */
  if (biased == 255) return PAL_EXP_MAX;
  return clamp_exponent(biased - 127 + ((b & 0x7FFFFFu) != 0));
}

uint8_t pal_code8_encode(float x, int exponent) {
  uint32_t b = pal_f32_bits(x);
  int biased = (int)((b >> 23) & 0xFFu);
  if (biased == 255) return PAL_CODE8_NAR;
  if (biased == 0) return PAL_CODE8_ZERO; /* zero and subnormals */
  uint32_t m = (b & 0x7FFFFFu) | 0x800000u;
  int e = biased - 127;
  int d = 16 * (clamp_exponent(exponent) - e) - (int)count_thresholds(pal_table_t8, 16, m);
  if (d > (int)PAL_CODE8_DIST_MAX) return PAL_CODE8_ZERO;
  if (d < 0) d = 0; /* only when E was clamped */
  return (uint8_t)(((b >> 31) << 7) | (uint32_t)(127 - d));
}

float pal_code8_decode(uint8_t code, int exponent) {
  if (code == PAL_CODE8_NAR) return NAN;
  unsigned mag = code & PAL_CODE8_MAG_MASK;
  if (mag == 0) return 0.0f;
  unsigned d = 127u - mag, q = d >> 4, r = d & 15u;
  /* fp32(2^(-r/16)) has biased exponent 127 (r = 0) or 126; scaling by
   * 2^(E-q) is exact while the result stays normal. */
  int biased = (int)(pal_table_d8[r] >> 23) + clamp_exponent(exponent) - (int)q;
  if (biased < 1) return 0.0f; /* below FLT_MIN */
  uint32_t bits = ((uint32_t)biased << 23) | (pal_table_d8[r] & 0x7FFFFFu);
  return pal_f32_from_bits(bits | ((uint32_t)(code >> 7) << 31));
}

static inline bool is_finite_bits(uint32_t b) { return (b & 0x7F800000u) != 0x7F800000u; }

/* Largest finite magnitude of x[0..n). */
static float finite_amax(const float *x, size_t n) {
  float amax = 0.0f;
  for (size_t i = 0; i < n; i++) {
    if (!is_finite_bits(pal_f32_bits(x[i]))) continue;
    float a = fabsf(x[i]);
    if (a > amax) amax = a;
  }
  return amax;
}

/* E of §2 for a set with largest finite magnitude amax; X = 0 (E = -127)
 * when amax is zero or subnormal. */
static int exponent_for_amax(float amax) {
  return amax < FLT_MIN ? PAL_EXP_MIN : pal_block_exponent(amax);
}

void pal_b32_encode_block(const float *x, size_t n, uint8_t codes[PAL_B32_BLOCK],
                          uint8_t *out_scale) {
  if (n > PAL_B32_BLOCK) n = PAL_B32_BLOCK;
  int e = exponent_for_amax(finite_amax(x, n));
  for (size_t i = 0; i < n; i++) codes[i] = pal_code8_encode(x[i], e);
  memset(codes + n, PAL_CODE8_ZERO, PAL_B32_BLOCK - n);
  *out_scale = (uint8_t)(e + PAL_SCALE_BIAS);
}

void pal_b32_decode_block(const uint8_t codes[PAL_B32_BLOCK], uint8_t scale, size_t n,
                          float *out) {
  if (n > PAL_B32_BLOCK) n = PAL_B32_BLOCK;
  for (size_t i = 0; i < n; i++)
    out[i] = scale == PAL_SCALE_NAR ? NAN : pal_code8_decode(codes[i], (int)scale - PAL_SCALE_BIAS);
}

pal_status_t pal_b32_matrix_create(size_t rows, size_t cols, pal_b32_matrix_t *out_matrix) {
  memset(out_matrix, 0, sizeof *out_matrix);
  size_t kblocks = cols / PAL_B32_BLOCK + (cols % PAL_B32_BLOCK != 0);
  if (rows && kblocks > SIZE_MAX / PAL_B32_BLOCK / rows)
    return pal_status_make(PAL_OUT_OF_RANGE, "PAL8-B32 matrix of %zu x %zu elements is too large",
                           rows, cols);
  size_t nblocks = rows * kblocks;
  uint8_t *codes = calloc(nblocks ? nblocks * PAL_B32_BLOCK : 1, 1);
  uint8_t *scales = calloc(nblocks ? nblocks : 1, 1);
  if (!codes || !scales) {
    free(codes);
    free(scales);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED,
                           "out of memory for a PAL8-B32 matrix of %zu x %zu elements", rows, cols);
  }
  *out_matrix = (pal_b32_matrix_t){rows, cols, kblocks, codes, scales};
  return PAL_STATUS_OK;
}

void pal_b32_matrix_release(pal_b32_matrix_t *matrix) {
  if (!matrix) return;
  free(matrix->codes);
  free(matrix->scales);
  memset(matrix, 0, sizeof *matrix);
}

void pal_b32_matrix_encode(const float *x, size_t ld, pal_b32_matrix_t *matrix) {
  for (size_t r = 0; r < matrix->rows; r++)
    for (size_t kb = 0; kb < matrix->kblocks; kb++) {
      size_t k0 = kb * PAL_B32_BLOCK;
      size_t n = matrix->cols - k0 < PAL_B32_BLOCK ? matrix->cols - k0 : PAL_B32_BLOCK;
      size_t blk = r * matrix->kblocks + kb;
      pal_b32_encode_block(x + r * ld + k0, n, matrix->codes + blk * PAL_B32_BLOCK,
                           matrix->scales + blk);
    }
}

void pal_b32_matrix_decode(const pal_b32_matrix_t *matrix, float *out, size_t ld) {
  for (size_t r = 0; r < matrix->rows; r++)
    for (size_t kb = 0; kb < matrix->kblocks; kb++) {
      size_t k0 = kb * PAL_B32_BLOCK;
      size_t n = matrix->cols - k0 < PAL_B32_BLOCK ? matrix->cols - k0 : PAL_B32_BLOCK;
      size_t blk = r * matrix->kblocks + kb;
      pal_b32_decode_block(matrix->codes + blk * PAL_B32_BLOCK, matrix->scales[blk], n,
                           out + r * ld + k0);
    }
}

uint8_t pal_t8_encode(const float *x, size_t n, uint8_t *codes) {
  int e = exponent_for_amax(finite_amax(x, n));
  for (size_t i = 0; i < n; i++) codes[i] = pal_code8_encode(x[i], e);
  return (uint8_t)(e + PAL_SCALE_BIAS);
}

void pal_t8_decode(const uint8_t *codes, size_t n, uint8_t scale, float *out) {
  for (size_t i = 0; i < n; i++)
    out[i] = scale == PAL_SCALE_NAR ? NAN : pal_code8_decode(codes[i], (int)scale - PAL_SCALE_BIAS);
}

uint16_t pal_code16_encode(float x) {
  uint32_t b = pal_f32_bits(x);
  int biased = (int)((b >> 23) & 0xFFu);
  if (biased == 255) return PAL_CODE16_NAR;
  if (biased == 0) return PAL_CODE16_ZERO;
  uint32_t m = (b & 0x7FFFFFu) | 0x800000u;
  /* M = round(256 * log2|x|) + 16384, the rounding done by the thresholds. */
  long mag = 256L * (biased - 127) + (long)count_thresholds(pal_table_t16, 256, m) + PAL_CODE16_BIAS;
  if (mag < 1) return PAL_CODE16_ZERO;
  if (mag > 0x7FFF) mag = 0x7FFF;
  return (uint16_t)(((b >> 31) << 15) | (uint32_t)mag);
}

float pal_code16_decode(uint16_t code) {
  if (code == PAL_CODE16_NAR) return NAN;
  int mag = code & 0x7FFF;
  if (mag == 0) return 0.0f;
  int v = mag - PAL_CODE16_BIAS;              /* -16383..16383 */
  int k = (v + 256 * 64) / 256 - 64;          /* floor(v / 256), -64..63 */
  unsigned f = (unsigned)(v - 256 * k);       /* 0..255 */
  uint32_t bits = pal_table_d16[f] + ((uint32_t)k << 23); /* exact: stays normal */
  return pal_f32_from_bits(bits | ((uint32_t)(code >> 15) << 31));
}

/* ---- §3 ------------------------------------------------------------------ */

int32_t pal_b32_block_sum(const uint8_t w_codes[PAL_B32_BLOCK],
                          const uint8_t a_codes[PAL_B32_BLOCK], bool *io_nar) {
  int32_t s = 0;
  for (int i = 0; i < PAL_B32_BLOCK; i++) {
    uint8_t cw = w_codes[i], ca = a_codes[i];
    if (cw == PAL_CODE8_NAR || ca == PAL_CODE8_NAR) {
      *io_nar = true; /* NaR is not zero: checked before any skipping */
      continue;
    }
    if (cw == PAL_CODE8_ZERO || ca == PAL_CODE8_ZERO) continue;
    unsigned dist = (127u - (cw & PAL_CODE8_MAG_MASK)) + (127u - (ca & PAL_CODE8_MAG_MASK));
    int32_t p = (int32_t)pal_product_mag(dist);
    s += ((cw ^ ca) & PAL_CODE8_SIGN) ? -p : p;
  }
  return s;
}

/* One IEEE binary32 addition with the accumulator's rules: subnormal
 * results flush to signed zero, infinite results raise NaR. */
static float fp32_add_ftz(float a, float b, bool *io_nar) {
  volatile float r = a + b; /* one rounding in binary32, never contracted */
  float v = r;
  if (isinf(v)) {
    *io_nar = true;
    return v;
  }
  if (fabsf(v) < FLT_MIN) v = copysignf(0.0f, v);
  return v;
}

float pal_fp32_accumulate(float acc, int32_t block_sum, int exp, bool *io_nar) {
  if (block_sum == 0) return acc;
  double t = ldexp((double)block_sum, exp); /* exact: |s| <= 2^20, |exp| < 300 */
  if (fabs(t) < FLT_MIN) return acc;
  if (fabs(t) > FLT_MAX) {
    *io_nar = true;
    return acc;
  }
  return fp32_add_ftz(acc, (float)t, io_nar); /* (float)t is exact, see §3 */
}

float pal_fp32_start(float bias, bool *io_nar) {
  if (!isfinite(bias)) {
    *io_nar = true;
    return 0.0f;
  }
  return fabsf(bias) < FLT_MIN ? copysignf(0.0f, bias) : bias;
}

/* ---- §4 ------------------------------------------------------------------ */

void pal_epilogue_initialize(pal_epilogue_t *epilogue) {
  memset(epilogue, 0, sizeof *epilogue);
  epilogue->bias_mode = PAL_BIAS_START;
  epilogue->act = PAL_ACT_NONE;
}

float pal_postprocess(float acc, float bias, const pal_epilogue_t *epilogue, bool *io_nar) {
  if (epilogue) {
    if (epilogue->bias && epilogue->bias_mode == PAL_BIAS_POST && !*io_nar)
      acc = fp32_add_ftz(acc, pal_fp32_start(bias, io_nar), io_nar);
    if (!*io_nar) {
      if (epilogue->act == PAL_ACT_RELU) {
        if (!(acc > 0.0f)) acc = 0.0f; /* also turns -0 into +0 */
      } else if (epilogue->act == PAL_ACT_CLIP) {
        if (acc < epilogue->clip_lo) acc = epilogue->clip_lo;
        if (acc > epilogue->clip_hi) acc = epilogue->clip_hi;
      }
    }
  }
  return *io_nar ? NAN : acc;
}

size_t pal_gemm_ref(const pal_b32_matrix_t *a, const pal_b32_matrix_t *w,
                    const pal_epilogue_t *epilogue, float *out, size_t ldo) {
  size_t nar_count = 0;
  const float *bias = epilogue ? epilogue->bias : NULL;
  bool bias_start = bias && epilogue->bias_mode == PAL_BIAS_START;
  size_t kblocks = a->kblocks < w->kblocks ? a->kblocks : w->kblocks;
  for (size_t m = 0; m < a->rows; m++)
    for (size_t n = 0; n < w->rows; n++) {
      bool nar = false;
      float acc = bias_start ? pal_fp32_start(bias[n], &nar) : 0.0f;
      for (size_t kb = 0; kb < kblocks; kb++) {
        size_t ia = m * a->kblocks + kb, iw = n * w->kblocks + kb;
        uint8_t xa = a->scales[ia], xw = w->scales[iw];
        if (xa == PAL_SCALE_NAR || xw == PAL_SCALE_NAR) {
          nar = true;
          continue;
        }
        int32_t s = pal_b32_block_sum(w->codes + iw * PAL_B32_BLOCK,
                                      a->codes + ia * PAL_B32_BLOCK, &nar);
        acc = pal_fp32_accumulate(acc, s, (int)xw + (int)xa - 2 * PAL_SCALE_BIAS - 15, &nar);
      }
      out[m * ldo + n] = pal_postprocess(acc, bias ? bias[n] : 0.0f, epilogue, &nar);
      nar_count += nar;
    }
  return nar_count;
}
