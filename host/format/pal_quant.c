/* Comparison formats of the format study (include/pal/quant.h): OCP FP8
 * E4M3/E5M2, BF16 and the quantise-dequantise round trips of every
 * pal_qformat_t, so PAL8 can be measured against them on the same data.
 *
 * Non-finite inputs, for every format: NaN and +-Inf elements come back as
 * NaN (BF16 and FP32 keep +-Inf, which they can represent), and scales are
 * computed from the finite elements only. This mirrors PAL's NaR rule; INT8
 * and MXINT8 have no NaN code, so there it models a side flag per element.
 * Scaled formats treat a tensor/row/block whose largest finite magnitude is
 * below FLT_MIN as all-zero, as PAL's encoder does with subnormal inputs. */
#include "pal/quant.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pal/format.h"

/* ---- scalar minifloat codecs --------------------------------------------- */

/* Layout of an OCP 8-bit float: S E[ebits] M[mbits]. max_mag is the
 * magnitude code (bits 6..0) of the largest finite value: saturation clamps
 * to it, and for E4M3 it is one below the NaN pattern S.1111.111. */
typedef struct minifloat_layout {
  int mbits;
  int bias;
  uint8_t max_mag;
  uint8_t nan_code; /* canonical NaN, sign bit clear */
} minifloat_layout_t;

static const minifloat_layout_t k_e4m3 = {3, 7, 0x7E, 0x7F};
static const minifloat_layout_t k_e5m2 = {2, 15, 0x7B, 0x7F};

/* value >> shift, rounded to nearest, ties to even. */
static uint64_t shift_right_rne(uint64_t value, int shift) {
  if (shift <= 0) return value;
  if (shift >= 63) return 0; /* value < 2^25 here, far below half an ulp */
  uint64_t kept = value >> shift;
  uint64_t rest = value & ((1ull << shift) - 1);
  uint64_t half = 1ull << (shift - 1);
  if (rest > half || (rest == half && (kept & 1))) kept++;
  return kept;
}

/* Exact RNE from the FP32 bits: the FP32 significand is shifted down to the
 * quantum of the target binade (the subnormal quantum below the smallest
 * normal binade), so double rounding never occurs. A carry out of the
 * significand lands in the next exponent field by plain addition. */
static uint8_t minifloat_encode(float x, const minifloat_layout_t *f) {
  uint32_t u = pal_f32_bits(x);
  uint8_t sign = (uint8_t)((u >> 24) & 0x80u);
  uint32_t e32 = (u >> 23) & 0xFFu;
  uint32_t frac = u & 0x7FFFFFu;
  if (e32 == 0xFFu) return (uint8_t)(sign | f->nan_code); /* NaN and Inf */
  if (e32 == 0) return sign; /* zero; FP32 subnormals are far below half the smallest code */

  int exponent = (int)e32 - 127;
  int emin = 1 - f->bias;
  /* Far above the largest finite value: saturate before the shift below
   * could produce a code that does not fit the arithmetic. */
  if (exponent > f->bias + 2) return (uint8_t)(sign | f->max_mag);
  int eff = exponent < emin ? emin : exponent;
  uint64_t sig = (uint64_t)(frac | 0x800000u);
  /* sig * 2^(exponent - 23) in units of 2^(eff - mbits). */
  int shift = 23 - f->mbits + eff - exponent;
  uint64_t n = shift_right_rne(sig, shift);
  uint64_t code = (uint64_t)(eff + f->bias - 1) * (1ull << f->mbits) + n;
  if (exponent < emin) code = n; /* subnormal quantum: n is the code itself */
  if (code > f->max_mag) code = f->max_mag;
  return (uint8_t)(sign | code);
}

static float minifloat_decode(uint8_t code, const minifloat_layout_t *f, bool has_inf) {
  int emask = (0x7F >> f->mbits);
  int efield = (code & 0x7F) >> f->mbits;
  int mant = code & ((1 << f->mbits) - 1);
  float sign = (code & 0x80) ? -1.0f : 1.0f;
  float mag;
  if (efield == emask && has_inf)
    mag = mant == 0 ? INFINITY : NAN;
  else if (efield == emask && (code & 0x7F) == f->nan_code)
    mag = NAN;
  else if (efield == 0)
    mag = ldexpf((float)mant, 1 - f->bias - f->mbits);
  else
    mag = ldexpf((float)((1 << f->mbits) + mant), efield - f->bias - f->mbits);
  return copysignf(mag, sign); /* keeps the sign of zeros and NaNs too */
}

uint8_t pal_fp8_e4m3_encode(float x) { return minifloat_encode(x, &k_e4m3); }
float pal_fp8_e4m3_decode(uint8_t code) { return minifloat_decode(code, &k_e4m3, false); }
uint8_t pal_fp8_e5m2_encode(float x) { return minifloat_encode(x, &k_e5m2); }
float pal_fp8_e5m2_decode(uint8_t code) { return minifloat_decode(code, &k_e5m2, true); }

/* BF16 is IEEE-like: RNE, overflow rounds to +-Inf, NaN stays a quiet NaN
 * (the quiet bit is forced so truncating a signalling NaN cannot make Inf). */
uint16_t pal_bf16_encode(float x) {
  uint32_t u = pal_f32_bits(x);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u);
  u += 0x7FFFu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

float pal_bf16_decode(uint16_t code) { return pal_f32_from_bits((uint32_t)code << 16); }

/* ---- format table ---------------------------------------------------------- */

static const char *const k_qformat_names[PAL_QF_COUNT] = {
    [PAL_QF_FP32] = "fp32",         [PAL_QF_PAL8_B32] = "pal8_b32", [PAL_QF_PAL8_T] = "pal8_t",
    [PAL_QF_PAL16] = "pal16",       [PAL_QF_FP8_E4M3] = "fp8_e4m3", [PAL_QF_FP8_E5M2] = "fp8_e5m2",
    [PAL_QF_MXFP8] = "mxfp8",       [PAL_QF_INT8_ROW] = "int8_row", [PAL_QF_MXINT8] = "mxint8",
    [PAL_QF_BF16] = "bf16",
};

/* Scale bytes are amortised over their block or tensor; INT8 per row
 * carries 32/cols extra bits that this size-free query leaves out. */
static const double k_qformat_bits[PAL_QF_COUNT] = {
    [PAL_QF_FP32] = 32.0,    [PAL_QF_PAL8_B32] = 8.25, [PAL_QF_PAL8_T] = 8.0,
    [PAL_QF_PAL16] = 16.0,   [PAL_QF_FP8_E4M3] = 8.0,  [PAL_QF_FP8_E5M2] = 8.0,
    [PAL_QF_MXFP8] = 8.25,   [PAL_QF_INT8_ROW] = 8.0,  [PAL_QF_MXINT8] = 8.25,
    [PAL_QF_BF16] = 16.0,
};

static bool qformat_valid(pal_qformat_t format) {
  return (int)format >= 0 && (int)format < (int)PAL_QF_COUNT;
}

const char *pal_qformat_name(pal_qformat_t format) {
  return qformat_valid(format) ? k_qformat_names[format] : "unknown";
}

double pal_qformat_bits(pal_qformat_t format) {
  return qformat_valid(format) ? k_qformat_bits[format] : 0.0;
}

/* ---- round trips ----------------------------------------------------------- */

/* Largest finite magnitude of n values; 0 when there is none or it is
 * below FLT_MIN (see the file comment). */
static float finite_amax(const float *x, size_t n) {
  float amax = 0.0f;
  for (size_t i = 0; i < n; i++) {
    float a = fabsf(x[i]);
    if (isfinite(a) && a > amax) amax = a;
  }
  return amax < FLT_MIN ? 0.0f : amax;
}

/* Per-tensor FP8: x is divided by an FP32 scale amax/fmax so the largest
 * element lands on the format's largest finite value. The quotient is
 * rounded to FP32 before encoding, as an FP32 quantiser would produce it;
 * the rescale (4-bit significand times FP32 scale) is exact in double and
 * rounds once to FP32. */
static void roundtrip_fp8_tensor(const float *x, size_t n, float *out, bool e4m3) {
  const minifloat_layout_t *f = e4m3 ? &k_e4m3 : &k_e5m2;
  double fmax = e4m3 ? 448.0 : 57344.0;
  float amax = finite_amax(x, n);
  double scale = (double)(float)((double)amax / fmax);
  for (size_t i = 0; i < n; i++) {
    float v = x[i];
    if (!isfinite(v)) {
      out[i] = NAN;
    } else if (scale == 0.0) {
      out[i] = 0.0f;
    } else {
      uint8_t c = minifloat_encode((float)((double)v / scale), f);
      out[i] = (float)((double)minifloat_decode(c, f, !e4m3) * scale);
    }
  }
}

/* OCP MX v1.0 shared exponent of a block: floor(log2(amax)) - emax_elem,
 * clamped to the E8M0 range. Returns false for an all-zero block. */
static bool mx_shared_exponent(const float *x, size_t n, int emax_elem, int *out_exp) {
  float amax = finite_amax(x, n);
  if (amax == 0.0f) return false;
  int e = ilogbf(amax) - emax_elem; /* exact floor(log2) of a normal float */
  if (e < -127) e = -127;
  if (e > 127) e = 127;
  *out_exp = e;
  return true;
}

/* MXFP8: E4M3 elements under a power-of-two scale per 32 along the row.
 * Scaling by 2^X is exact in double, so each element rounds only once. */
static void roundtrip_mxfp8_block(const float *x, size_t n, float *out) {
  int e = 0;
  bool nonzero = mx_shared_exponent(x, n, 8, &e);
  for (size_t i = 0; i < n; i++) {
    float v = x[i];
    if (!isfinite(v)) {
      out[i] = NAN;
    } else if (!nonzero) {
      out[i] = 0.0f;
    } else {
      uint8_t c = minifloat_encode((float)ldexp((double)v, -e), &k_e4m3);
      out[i] = (float)ldexp((double)minifloat_decode(c, &k_e4m3, false), e);
    }
  }
}

/* MXINT8: elements are two's complement with an implicit 2^-6 (range
 * +-127/64), emax_elem = 0, rounded half to even like INT8 per row. */
static void roundtrip_mxint8_block(const float *x, size_t n, float *out) {
  int e = 0;
  bool nonzero = mx_shared_exponent(x, n, 0, &e);
  for (size_t i = 0; i < n; i++) {
    float v = x[i];
    if (!isfinite(v)) {
      out[i] = NAN;
    } else if (!nonzero) {
      out[i] = 0.0f;
    } else {
      double q = nearbyint(ldexp((double)v, 6 - e));
      if (q > 127.0) q = 127.0;
      if (q < -127.0) q = -127.0;
      out[i] = (float)ldexp(q, e - 6);
    }
  }
}

/* Symmetric INT8 with an FP32 scale amax/127 per row; -128 is unused so the
 * grid is symmetric. */
static void roundtrip_int8_row(const float *x, size_t cols, float *out) {
  float amax = finite_amax(x, cols);
  double scale = (double)(amax / 127.0f);
  for (size_t i = 0; i < cols; i++) {
    float v = x[i];
    if (!isfinite(v)) {
      out[i] = NAN;
    } else if (scale == 0.0) {
      out[i] = 0.0f;
    } else {
      double q = nearbyint((double)v / scale);
      if (q > 127.0) q = 127.0;
      if (q < -127.0) q = -127.0;
      out[i] = (float)(q * scale);
    }
  }
}

static pal_status_t roundtrip_pal8_b32(const float *x, size_t rows, size_t cols, float *out) {
  pal_b32_matrix_t m;
  PAL_RETURN_IF_ERROR(pal_b32_matrix_create(rows, cols, &m));
  pal_b32_matrix_encode(x, cols, &m);
  pal_b32_matrix_decode(&m, out, cols);
  pal_b32_matrix_release(&m);
  return PAL_STATUS_OK;
}

static pal_status_t roundtrip_pal8_t(const float *x, size_t n, float *out) {
  uint8_t *codes = malloc(n);
  if (!codes)
    return pal_status_make(PAL_RESOURCE_EXHAUSTED,
                           "pal_quant_roundtrip: cannot allocate %zu PAL8-T codes", n);
  uint8_t scale = pal_t8_encode(x, n, codes);
  pal_t8_decode(codes, n, scale, out);
  free(codes);
  return PAL_STATUS_OK;
}

pal_status_t pal_quant_roundtrip(pal_qformat_t format, const float *x, size_t rows,
                                 size_t cols, float *out) {
  if (!qformat_valid(format))
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "pal_quant_roundtrip: unknown format %d (valid: 0..%d)", (int)format,
                           (int)PAL_QF_COUNT - 1);
  if (cols != 0 && rows > SIZE_MAX / sizeof(float) / cols)
    return pal_status_make(PAL_OUT_OF_RANGE,
                           "pal_quant_roundtrip: %zu x %zu elements overflow the address space",
                           rows, cols);
  size_t n = rows * cols;
  if (n == 0) return PAL_STATUS_OK;
  if (!x || !out)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_quant_roundtrip(%s): %s is NULL",
                           pal_qformat_name(format), !x ? "x" : "out");

  switch (format) {
    case PAL_QF_FP32:
      if (out != x) memmove(out, x, n * sizeof(float));
      return PAL_STATUS_OK;
    case PAL_QF_PAL8_B32:
      return roundtrip_pal8_b32(x, rows, cols, out);
    case PAL_QF_PAL8_T:
      return roundtrip_pal8_t(x, n, out);
    case PAL_QF_PAL16:
      for (size_t i = 0; i < n; i++) out[i] = pal_code16_decode(pal_code16_encode(x[i]));
      return PAL_STATUS_OK;
    case PAL_QF_FP8_E4M3:
    case PAL_QF_FP8_E5M2:
      roundtrip_fp8_tensor(x, n, out, format == PAL_QF_FP8_E4M3);
      return PAL_STATUS_OK;
    case PAL_QF_MXFP8:
    case PAL_QF_MXINT8:
      for (size_t r = 0; r < rows; r++) {
        for (size_t k = 0; k < cols; k += PAL_B32_BLOCK) {
          size_t len = cols - k < PAL_B32_BLOCK ? cols - k : PAL_B32_BLOCK;
          const float *src = x + r * cols + k;
          float *dst = out + r * cols + k;
          if (format == PAL_QF_MXFP8)
            roundtrip_mxfp8_block(src, len, dst);
          else
            roundtrip_mxint8_block(src, len, dst);
        }
      }
      return PAL_STATUS_OK;
    case PAL_QF_INT8_ROW:
      for (size_t r = 0; r < rows; r++) roundtrip_int8_row(x + r * cols, cols, out + r * cols);
      return PAL_STATUS_OK;
    case PAL_QF_BF16:
      for (size_t i = 0; i < n; i++) out[i] = pal_bf16_decode(pal_bf16_encode(x[i]));
      return PAL_STATUS_OK;
    case PAL_QF_COUNT:
      break;
  }
  return pal_status_make(PAL_INTERNAL, "pal_quant_roundtrip: format %d not handled",
                         (int)format);
}
