/* Unit tests of the comparison formats (include/pal/quant.h): every FP8 code
 * against values computed from its bit fields, rounding and saturation at
 * exact midpoints, BF16 ties, and the error bounds, exact cases, scale
 * choices and NaN rule of every pal_quant_roundtrip format. */
#include "pal_test.h"

#include <float.h>
#include <stdbool.h>

#include "pal/format.h"
#include "pal/quant.h"
#include "pal/status.h"

/* ---- helpers ------------------------------------------------------------- */

/* OCP value of an 8-bit float code from its fields, in double; NaN for the
 * NaN patterns, +-Inf for E5M2's infinities. */
static double fp8_expected(uint8_t c, int mbits, int bias, bool ieee_specials) {
  int ebits = 7 - mbits;
  int s = c >> 7, e = (c >> mbits) & ((1 << ebits) - 1), m = c & ((1 << mbits) - 1);
  int emax_field = (1 << ebits) - 1;
  double sign = s ? -1.0 : 1.0;
  if (ieee_specials && e == emax_field) return m == 0 ? sign * INFINITY : NAN;
  if (!ieee_specials && e == emax_field && m == (1 << mbits) - 1) return NAN;
  if (e == 0) return sign * ldexp((double)m, 1 - bias - mbits);
  return sign * ldexp((double)((1 << mbits) + m), e - bias - mbits);
}

typedef struct fp8_codec {
  const char *name;
  uint8_t (*encode)(float);
  float (*decode)(uint8_t);
  int mbits, bias;
  bool ieee_specials;
  double max_finite;
} fp8_codec_t;

static const fp8_codec_t k_codecs[2] = {
    {"e4m3", pal_fp8_e4m3_encode, pal_fp8_e4m3_decode, 3, 7, false, 448.0},
    {"e5m2", pal_fp8_e5m2_encode, pal_fp8_e5m2_decode, 2, 15, true, 57344.0},
};

static bool fp8_code_is_finite(const fp8_codec_t *k, uint8_t c) {
  return isfinite(fp8_expected(c, k->mbits, k->bias, k->ieee_specials));
}

/* The nearest finite code of x's sign by exhaustive search, ties to the even
 * code (mantissa LSB 0): what RNE with saturation must return. */
static uint8_t fp8_nearest(const fp8_codec_t *k, float x) {
  uint8_t sign = signbit(x) ? 0x80 : 0x00;
  double ax = fabs((double)x);
  int best = -1;
  double best_err = INFINITY;
  for (int m = 0; m < 128; m++) {
    uint8_t c = (uint8_t)(sign | m);
    if (!fp8_code_is_finite(k, c)) continue;
    double err = fabs(fabs(fp8_expected(c, k->mbits, k->bias, k->ieee_specials)) - ax);
    if (err < best_err || (err == best_err && (m & 1) == 0)) {
      best_err = err;
      best = m;
    }
  }
  return (uint8_t)(sign | best);
}

static void check_ok(uint64_t seed, pal_status_t st, const char *what) {
  if (!pal_status_is_ok(st)) {
    print_error("%s: %s\n", what, pal_status_message(st));
    pal_status_free(st);
    PAL_TEST_FAIL(seed, "%s failed", what);
  }
}

/* Gaussian rows with a per-row power-of-two gain, so rows and blocks see
 * different scales. */
static void fill_gauss(pal_test_rng_t *rng, float *x, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; r++) {
    int gain = (int)pal_test_rng_below(rng, 9) - 4;
    for (size_t c = 0; c < cols; c++)
      x[r * cols + c] = (float)ldexp(pal_test_rng_gauss(rng), gain);
  }
}

static float amax_of(const float *x, size_t n) {
  float a = 0.0f;
  for (size_t i = 0; i < n; i++)
    if (isfinite(x[i]) && fabsf(x[i]) > a) a = fabsf(x[i]);
  return a;
}

/* ---- FP8 scalar codecs --------------------------------------------------- */

static void test_fp8_decode_all_codes(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  for (int ki = 0; ki < 2; ki++) {
    const fp8_codec_t *k = &k_codecs[ki];
    int n_nan = 0, n_inf = 0;
    for (int c = 0; c < 256; c++) {
      double want = fp8_expected((uint8_t)c, k->mbits, k->bias, k->ieee_specials);
      float got = k->decode((uint8_t)c);
      if (isnan(want)) {
        n_nan++;
        PAL_TEST_CHECK(seed, isnan(got), "%s code 0x%02x: want NaN, got %g", k->name, c,
                       (double)got);
        continue;
      }
      if (isinf(want)) n_inf++;
      PAL_TEST_CHECK(seed, (double)got == want && !signbit(got) == !(c & 0x80),
                     "%s code 0x%02x: want %.9g, got %.9g", k->name, c, want, (double)got);
    }
    /* OCP: E4M3 has two NaNs and no Inf; E5M2 six NaNs and two Infs. */
    PAL_TEST_CHECK(seed, n_nan == (k->ieee_specials ? 6 : 2), "%s: %d NaN codes", k->name,
                   n_nan);
    PAL_TEST_CHECK(seed, n_inf == (k->ieee_specials ? 2 : 0), "%s: %d Inf codes", k->name,
                   n_inf);
  }
  assert_true(pal_fp8_e4m3_decode(0x7E) == 448.0f);
  assert_true(pal_fp8_e4m3_decode(0x01) == 0x1p-9f);
  assert_true(pal_fp8_e5m2_decode(0x7B) == 57344.0f);
  assert_true(pal_fp8_e5m2_decode(0x01) == 0x1p-16f);
}

static void test_fp8_encode_decode_identity(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  for (int ki = 0; ki < 2; ki++) {
    const fp8_codec_t *k = &k_codecs[ki];
    for (int c = 0; c < 256; c++) {
      float v = k->decode((uint8_t)c);
      if (!isfinite(v)) continue; /* NaN codes, and E5M2 Inf which encodes to NaN */
      uint8_t back = k->encode(v);
      PAL_TEST_CHECK(seed, back == c, "%s: encode(decode(0x%02x) = %g) = 0x%02x", k->name, c,
                     (double)v, back);
    }
    /* The two zeros keep their sign. */
    assert_int_equal(k->encode(0.0f), 0x00);
    assert_int_equal(k->encode(-0.0f), 0x80);
  }
}

/* At every midpoint between adjacent codes the even code wins; one FP32 ulp
 * either side picks the nearer code. Midpoints have one more significand bit
 * than the format, so they are exact in FP32 (checked). */
static void test_fp8_round_ties_to_even(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  for (int ki = 0; ki < 2; ki++) {
    const fp8_codec_t *k = &k_codecs[ki];
    for (int sgn = 0; sgn < 2; sgn++) {
      for (int m = 0; m < 127; m++) {
        uint8_t lo = (uint8_t)((sgn << 7) | m), hi = (uint8_t)(lo + 1);
        if (!fp8_code_is_finite(k, hi)) break;
        double a = fp8_expected(lo, k->mbits, k->bias, k->ieee_specials);
        double b = fp8_expected(hi, k->mbits, k->bias, k->ieee_specials);
        double mid = 0.5 * (a + b);
        float midf = (float)mid;
        PAL_TEST_CHECK(seed, (double)midf == mid, "%s midpoint %.17g not exact", k->name, mid);
        uint8_t even = (lo & 1) ? hi : lo;
        uint8_t got = k->encode(midf);
        PAL_TEST_CHECK(seed, got == even, "%s: midpoint %.9g of 0x%02x/0x%02x -> 0x%02x",
                       k->name, mid, lo, hi, got);
        float toward_lo = nextafterf(midf, (float)a), toward_hi = nextafterf(midf, (float)b);
        PAL_TEST_CHECK(seed, k->encode(toward_lo) == lo, "%s: below midpoint %.9g", k->name,
                       mid);
        PAL_TEST_CHECK(seed, k->encode(toward_hi) == hi, "%s: above midpoint %.9g", k->name,
                       mid);
      }
    }
  }
}

static void test_fp8_saturation_and_nan(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  for (int ki = 0; ki < 2; ki++) {
    const fp8_codec_t *k = &k_codecs[ki];
    uint8_t max_code = k->encode((float)k->max_finite);
    PAL_TEST_CHECK(seed, k->decode(max_code) == (float)k->max_finite, "%s max", k->name);
    /* Past the largest finite value, including the region that would round
     * to the next binade (480 for E4M3, 65536 for E5M2), clamps. */
    const float over[] = {(float)k->max_finite * 1.0625f, (float)k->max_finite * 1.125f,
                          (float)k->max_finite * 1.25f,   (float)k->max_finite * 2.0f,
                          1e30f,                          FLT_MAX};
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
      PAL_TEST_CHECK(seed, k->encode(over[i]) == max_code, "%s: %g does not saturate", k->name,
                     (double)over[i]);
      PAL_TEST_CHECK(seed, k->encode(-over[i]) == (max_code | 0x80),
                     "%s: %g does not saturate", k->name, -(double)over[i]);
    }
    /* NaN and Inf inputs give a NaN code, keeping the sign bit. */
    const float bad[] = {NAN, -NAN, INFINITY, -INFINITY, pal_f32_from_bits(0x7F800001u)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
      uint8_t c = k->encode(bad[i]);
      PAL_TEST_CHECK(seed, isnan(k->decode(c)), "%s: %g -> 0x%02x is not NaN", k->name,
                     (double)bad[i], c);
      PAL_TEST_CHECK(seed, (c >> 7) == (signbit(bad[i]) ? 1 : 0), "%s: NaN sign", k->name);
    }
    assert_int_equal(k->encode(NAN), 0x7F); /* canonical NaN */
    /* Below half the smallest subnormal: signed zero. FP32 subnormals too. */
    double min_sub = ldexp(1.0, 1 - k->bias - k->mbits);
    assert_int_equal(k->encode((float)(min_sub / 2)), 0x00);
    assert_int_equal(k->encode(-(float)(min_sub / 2)), 0x80);
    assert_int_equal(k->encode(nextafterf((float)(min_sub / 2), 1.0f)), 0x01);
    assert_int_equal(k->encode(FLT_TRUE_MIN), 0x00);
    assert_int_equal(k->encode(-FLT_MIN), 0x80);
  }
  /* E5M2's infinities decode as such but are never produced. */
  assert_true(isinf(pal_fp8_e5m2_decode(0x7C)) && pal_fp8_e5m2_decode(0x7C) > 0);
  assert_true(isinf(pal_fp8_e5m2_decode(0xFC)) && pal_fp8_e5m2_decode(0xFC) < 0);
}

/* Random FP32 inputs over the whole range of the format and beyond against
 * an exhaustive nearest-code search. */
static void test_fp8_encode_matches_nearest(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  for (int ki = 0; ki < 2; ki++) {
    const fp8_codec_t *k = &k_codecs[ki];
    int lo_exp = -k->bias - k->mbits - 4, span = 2 * k->bias + k->mbits + 10;
    for (int i = 0; i < 40000; i++) {
      uint32_t frac = pal_test_rng_u32(&rng) & 0x7FFFFFu;
      if (i & 1) frac &= ~((1u << pal_test_rng_below(&rng, 23)) - 1u); /* near-ties */
      int e = lo_exp + (int)pal_test_rng_below(&rng, (uint32_t)span);
      uint32_t u = ((uint32_t)(e + 127) << 23) | frac | (pal_test_rng_u32(&rng) & 0x80000000u);
      float x = pal_f32_from_bits(u);
      uint8_t want = fp8_nearest(k, x), got = k->encode(x);
      PAL_TEST_CHECK(seed, got == want, "%s: encode(%a) = 0x%02x, nearest is 0x%02x", k->name,
                     (double)x, got, want);
    }
  }
}

/* ---- BF16 ------------------------------------------------------------------ */

static void test_bf16_rne(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  /* Exact ties: the even neighbour wins. */
  assert_int_equal(pal_bf16_encode(pal_f32_from_bits(0x3F808000u)), 0x3F80); /* 1 + 2^-8 -> 1 */
  assert_int_equal(pal_bf16_encode(pal_f32_from_bits(0x3F818000u)), 0x3F82); /* odd lower -> up */
  assert_int_equal(pal_bf16_encode(pal_f32_from_bits(0xBF808000u)), 0xBF80);
  assert_int_equal(pal_bf16_encode(pal_f32_from_bits(0x3F808001u)), 0x3F81); /* just above the tie */
  assert_int_equal(pal_bf16_encode(pal_f32_from_bits(0x3F807FFFu)), 0x3F80); /* just below */
  /* Specials: Inf stays Inf, overflow rounds to Inf (IEEE), NaN stays NaN
   * even when its payload lives only in the low half. */
  assert_int_equal(pal_bf16_encode(INFINITY), 0x7F80);
  assert_int_equal(pal_bf16_encode(-INFINITY), 0xFF80);
  assert_int_equal(pal_bf16_encode(FLT_MAX), 0x7F80);
  assert_true(isnan(pal_bf16_decode(pal_bf16_encode(pal_f32_from_bits(0x7F800001u)))));
  assert_true(isnan(pal_bf16_decode(pal_bf16_encode(NAN))));
  assert_int_equal(pal_bf16_encode(-0.0f), 0x8000);

  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  for (int i = 0; i < 200000; i++) {
    uint32_t u = pal_test_rng_u32(&rng);
    if (i & 1) u = (u & 0xFFFF0000u) | 0x8000u;    /* an exact tie */
    if ((u & 0x7FFFFFFFu) >= 0x7F7F8000u) continue; /* rounds to Inf, or NaN */
    uint32_t lo = u & 0xFFFF0000u, hi = lo + 0x10000u;
    double x = fabs((double)pal_f32_from_bits(u));
    double dlo = fabs((double)pal_f32_from_bits(lo)), dhi = fabs((double)pal_f32_from_bits(hi));
    uint32_t want = (x - dlo < dhi - x || (x - dlo == dhi - x && !((lo >> 16) & 1))) ? lo : hi;
    uint16_t got = pal_bf16_encode(pal_f32_from_bits(u));
    PAL_TEST_CHECK(seed, ((uint32_t)got << 16) == want, "bf16(0x%08x) = 0x%04x, want 0x%04x", u,
                   got, want >> 16);
    PAL_TEST_CHECK(seed, pal_f32_bits(pal_bf16_decode(got)) == ((uint32_t)got << 16), "bf16 decode");
  }
}

/* ---- round trips: error bounds on random data --------------------------- */

#define RT_ROWS 16
#define RT_COLS 100 /* 3 full blocks of 32 and a ragged tail of 4 */

/* Checks every element of one format's round trip of gaussian data against
 * the format's worst-case error. */
static void check_roundtrip_bounds(uint64_t seed, pal_qformat_t f, const float *x,
                                   const float *q, size_t rows, size_t cols) {
  const char *name = pal_qformat_name(f);
  const double eps = 0x1p-23; /* FP32 rounding of the decoded value */
  const double pal8_rel = exp2(1.0 / 32) - 1, pal16_rel = exp2(1.0 / 512) - 1;
  float tensor_amax = amax_of(x, rows * cols);
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float row_amax = amax_of(xr, cols);
    for (size_t c = 0; c < cols; c++) {
      size_t b0 = c / 32 * 32, blen = cols - b0 < 32 ? cols - b0 : 32;
      float block_amax = amax_of(xr + b0, blen);
      double xv = xr[c], qv = q[r * cols + c], err = fabs(qv - xv), ax = fabs(xv);
      bool ok = true;
      switch (f) {
        case PAL_QF_FP32:
          ok = qv == xv;
          break;
        case PAL_QF_BF16:
          ok = err <= 0x1p-8 * ax; /* 8-bit significand: half an ulp */
          break;
        case PAL_QF_PAL16:
          ok = err <= (pal16_rel + eps) * ax;
          break;
        case PAL_QF_PAL8_B32:
        case PAL_QF_PAL8_T: {
          int e = pal_block_exponent(f == PAL_QF_PAL8_B32 ? block_amax : tensor_amax);
          if (qv == 0.0) /* flushed: d = round(16 (E - log2|x|)) > 126 */
            ok = ax <= exp2(e - 126.5 / 16) * (1 + eps);
          else
            ok = err <= (pal8_rel + eps) * ax;
          break;
        }
        case PAL_QF_FP8_E4M3:
        case PAL_QF_FP8_E5M2: {
          bool e4 = f == PAL_QF_FP8_E4M3;
          double scale = (double)(float)((double)tensor_amax / (e4 ? 448.0 : 57344.0));
          double min_normal = e4 ? 0x1p-6 : 0x1p-14, half_sub = e4 ? 0x1p-10 : 0x1p-17;
          if (ax / scale >= min_normal)
            ok = err <= ((e4 ? 0x1p-4 : 0x1p-3) + 4 * eps) * ax;
          else
            ok = err <= half_sub * scale * (1 + 4 * eps) + 4 * eps * ax;
          break;
        }
        case PAL_QF_MXFP8: {
          double s = ldexp(1.0, ilogbf(block_amax) - 8), y = ax / s;
          if (y > 448.0)
            ok = qv == copysign(448.0 * s, xv);
          else if (y >= 0x1p-6)
            ok = err <= 0x1p-4 * ax;
          else
            ok = err <= 0x1p-10 * s;
          break;
        }
        case PAL_QF_INT8_ROW: {
          double s = (double)(row_amax / 127.0f);
          ok = err <= 0.5 * s * (1 + 4 * eps) + eps * ax;
          break;
        }
        case PAL_QF_MXINT8: {
          double s = ldexp(1.0, ilogbf(block_amax) - 6), y = ax / s;
          if (y > 127.5)
            ok = qv == copysign(127.0 * s, xv);
          else
            ok = err <= 0.5 * s;
          break;
        }
        case PAL_QF_COUNT:
          ok = false;
          break;
      }
      PAL_TEST_CHECK(seed, ok, "%s: row %zu col %zu: x = %.9g, q = %.9g (rel err %.3g)", name, r,
                     c, xv, qv, ax > 0 ? err / ax : err);
    }
  }
}

static void test_roundtrip_error_bounds(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  size_t n = RT_ROWS * RT_COLS;
  float x[RT_ROWS * RT_COLS], q[RT_ROWS * RT_COLS], q2[RT_ROWS * RT_COLS];
  for (int trial = 0; trial < 8; trial++) {
    fill_gauss(&rng, x, RT_ROWS, RT_COLS);
    if (trial & 1) /* heavy tails, as in the bench's outlier distributions */
      for (size_t i = 0; i < n; i += 37) x[i] *= 100.0f;
    for (int f = 0; f < PAL_QF_COUNT; f++) {
      check_ok(seed, pal_quant_roundtrip((pal_qformat_t)f, x, RT_ROWS, RT_COLS, q), "roundtrip");
      check_roundtrip_bounds(seed, (pal_qformat_t)f, x, q, RT_ROWS, RT_COLS);
      /* In place gives the same bits. */
      memcpy(q2, x, n * sizeof(float));
      check_ok(seed, pal_quant_roundtrip((pal_qformat_t)f, q2, RT_ROWS, RT_COLS, q2), "in place");
      PAL_TEST_CHECK(seed, memcmp(q, q2, n * sizeof(float)) == 0, "%s: in-place differs",
                     pal_qformat_name((pal_qformat_t)f));
    }
  }
}

/* ---- round trips: values already representable come back exactly -------- */

static void random_sign(pal_test_rng_t *rng, float *v) {
  if (pal_test_rng_u32(rng) & 1) *v = -*v;
}

/* Fills rows x cols with values of `f`'s grid, arranged so that the
 * format's scale reproduces the grid (each block/row/tensor holds its
 * scale-defining maximum). */
static void fill_representable(pal_test_rng_t *rng, pal_qformat_t f, float *x, size_t rows,
                               size_t cols) {
  size_t n = rows * cols;
  switch (f) {
    case PAL_QF_FP32:
    case PAL_QF_BF16:
      for (size_t i = 0; i < n; i++) {
        x[i] = (float)pal_test_rng_gauss(rng);
        if (f == PAL_QF_BF16) x[i] = pal_f32_from_bits(pal_f32_bits(x[i]) & 0xFFFF0000u);
      }
      break;
    case PAL_QF_PAL16:
      for (size_t i = 0; i < n; i++) {
        /* codes spanning 2^-60 .. 2^60 */
        uint16_t m = (uint16_t)(16384 - 15360 + pal_test_rng_below(rng, 30720));
        x[i] = pal_code16_decode((uint16_t)(m | ((pal_test_rng_u32(rng) & 1) << 15)));
      }
      break;
    case PAL_QF_PAL8_B32:
    case PAL_QF_PAL8_T: {
      size_t group = f == PAL_QF_PAL8_B32 ? 32 : n;
      int e = 0;
      for (size_t i = 0; i < n; i++) {
        size_t pos = f == PAL_QF_PAL8_B32 ? (i % cols) : i;
        if (pos % group == 0) e = (int)pal_test_rng_below(rng, 40) - 20;
        uint8_t m = (uint8_t)(1 + pal_test_rng_below(rng, 127));
        if (pos % group == 0) m = PAL_CODE8_MAG_MAX; /* sets the block exponent to e */
        x[i] = pal_code8_decode(m, e);
        random_sign(rng, &x[i]);
      }
      break;
    }
    case PAL_QF_FP8_E4M3:
    case PAL_QF_FP8_E5M2: {
      bool e4 = f == PAL_QF_FP8_E4M3;
      for (size_t i = 0; i < n; i++) {
        uint8_t c;
        do c = (uint8_t)pal_test_rng_below(rng, 128);
        while (!isfinite(e4 ? pal_fp8_e4m3_decode(c) : pal_fp8_e5m2_decode(c)));
        x[i] = e4 ? pal_fp8_e4m3_decode(c) : pal_fp8_e5m2_decode(c);
        random_sign(rng, &x[i]);
      }
      x[0] = e4 ? 448.0f : 57344.0f; /* scale = 1 exactly */
      break;
    }
    case PAL_QF_MXFP8:
    case PAL_QF_MXINT8: {
      int e = 0;
      for (size_t i = 0; i < n; i++) {
        size_t pos = i % cols;
        if (pos % 32 == 0) e = (int)pal_test_rng_below(rng, 40) - 20;
        if (f == PAL_QF_MXFP8) {
          uint8_t c = (uint8_t)pal_test_rng_below(rng, 127); /* not the NaN 0x7F */
          if (pos % 32 == 0) c = (uint8_t)(0x78 + pal_test_rng_below(rng, 7)); /* 256..448 */
          x[i] = ldexpf(pal_fp8_e4m3_decode(c), e);
        } else {
          int k = (int)pal_test_rng_below(rng, 128);
          if (pos % 32 == 0) k = 64 + (int)pal_test_rng_below(rng, 64); /* amax in [1, 2) */
          x[i] = ldexpf((float)k, e - 6);
        }
        random_sign(rng, &x[i]);
      }
      break;
    }
    case PAL_QF_INT8_ROW:
      for (size_t r = 0; r < rows; r++) {
        int e = (int)pal_test_rng_below(rng, 40) - 20;
        for (size_t c = 0; c < cols; c++) {
          int k = c == 0 ? 127 : (int)pal_test_rng_below(rng, 128);
          x[r * cols + c] = ldexpf((float)k, e);
          random_sign(rng, &x[r * cols + c]);
        }
      }
      break;
    case PAL_QF_COUNT:
      break;
  }
}

static void test_roundtrip_exact_on_representable(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  size_t n = RT_ROWS * RT_COLS;
  float x[RT_ROWS * RT_COLS], q[RT_ROWS * RT_COLS];
  for (int f = 0; f < PAL_QF_COUNT; f++) {
    for (int trial = 0; trial < 4; trial++) {
      fill_representable(&rng, (pal_qformat_t)f, x, RT_ROWS, RT_COLS);
      check_ok(seed, pal_quant_roundtrip((pal_qformat_t)f, x, RT_ROWS, RT_COLS, q), "roundtrip");
      for (size_t i = 0; i < n; i++)
        PAL_TEST_CHECK(seed, pal_f32_bits(q[i]) == pal_f32_bits(x[i]) || (q[i] == 0 && x[i] == 0),
                       "%s: element %zu: %a -> %a", pal_qformat_name((pal_qformat_t)f), i,
                       (double)x[i], (double)q[i]);
    }
  }
}

/* ---- zeros, NaN, scale choices ------------------------------------------- */

static void test_roundtrip_zero_rows(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  size_t n = RT_ROWS * RT_COLS;
  float x[RT_ROWS * RT_COLS], q[RT_ROWS * RT_COLS];
  for (int f = 0; f < PAL_QF_COUNT; f++) {
    /* All zero, then zero rows (one of them -0 and +0 mixed) between
     * ordinary ones. */
    memset(x, 0, n * sizeof(float));
    check_ok(seed, pal_quant_roundtrip((pal_qformat_t)f, x, RT_ROWS, RT_COLS, q), "zeros");
    for (size_t i = 0; i < n; i++)
      PAL_TEST_CHECK(seed, q[i] == 0.0f, "%s: zero -> %g", pal_qformat_name((pal_qformat_t)f),
                     (double)q[i]);
    fill_gauss(&rng, x, RT_ROWS, RT_COLS);
    for (size_t c = 0; c < RT_COLS; c++) {
      x[3 * RT_COLS + c] = (c & 1) ? -0.0f : 0.0f;
      x[7 * RT_COLS + c] = 0.0f;
    }
    check_ok(seed, pal_quant_roundtrip((pal_qformat_t)f, x, RT_ROWS, RT_COLS, q), "zero rows");
    for (size_t c = 0; c < RT_COLS; c++)
      PAL_TEST_CHECK(seed, q[3 * RT_COLS + c] == 0.0f && q[7 * RT_COLS + c] == 0.0f,
                     "%s: zero row col %zu", pal_qformat_name((pal_qformat_t)f), c);
  }
}

/* NaN and +-Inf come back as NaN (FP32 and BF16 keep Inf), and the other
 * elements quantise as if those were zero: scales come from finite values. */
static void test_roundtrip_nan_rule(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  size_t n = RT_ROWS * RT_COLS;
  float x[RT_ROWS * RT_COLS], x0[RT_ROWS * RT_COLS], q[RT_ROWS * RT_COLS], q0[RT_ROWS * RT_COLS];
  fill_gauss(&rng, x, RT_ROWS, RT_COLS);
  memcpy(x0, x, n * sizeof(float));
  const float specials[3] = {NAN, INFINITY, -INFINITY};
  bool special_at[RT_ROWS * RT_COLS] = {false};
  for (int i = 0; i < 40; i++) {
    size_t at = pal_test_rng_below(&rng, (uint32_t)n);
    x[at] = specials[i % 3];
    x0[at] = 0.0f;
    special_at[at] = true;
  }
  for (int f = 0; f < PAL_QF_COUNT; f++) {
    const char *name = pal_qformat_name((pal_qformat_t)f);
    check_ok(seed, pal_quant_roundtrip((pal_qformat_t)f, x, RT_ROWS, RT_COLS, q), "nan");
    check_ok(seed, pal_quant_roundtrip((pal_qformat_t)f, x0, RT_ROWS, RT_COLS, q0), "zeroed");
    for (size_t i = 0; i < n; i++) {
      if (special_at[i]) {
        bool keeps_inf = f == PAL_QF_FP32 || f == PAL_QF_BF16;
        bool ok = isinf(x[i]) && keeps_inf ? q[i] == x[i] : isnan(q[i]);
        PAL_TEST_CHECK(seed, ok, "%s: %g -> %g", name, (double)x[i], (double)q[i]);
      } else {
        PAL_TEST_CHECK(seed, pal_f32_bits(q[i]) == pal_f32_bits(q0[i]),
                       "%s: element %zu: %.9g with non-finite neighbours, %.9g without", name,
                       i, (double)q[i], (double)q0[i]);
      }
    }
  }
}

static void test_int8_row_scale(void **state) {
  (void)state;
  /* Row 0: amax 127/16, scale exactly 1/16; x = k/16 with k = 2.5, 3.5,
   * -2.5 are ties (to even), 0.4 rounds to 0. Row 1: amax 127, scale 1, so
   * the 0.5 of row 1 rounds to 0 while row 0 is unaffected by row 1. */
  const float x[2][6] = {{127.0f / 16, 2.5f / 16, 3.5f / 16, -2.5f / 16, 0.4f / 16, -127.0f / 16},
                         {127.0f, 0.5f, 1.5f, -63.5f, 200.0f / 3, 1.0f}};
  const float want[2][6] = {{127.0f / 16, 2.0f / 16, 4.0f / 16, -2.0f / 16, 0.0f, -127.0f / 16},
                            {127.0f, 0.0f, 2.0f, -64.0f, 67.0f, 1.0f}};
  float q[2][6];
  check_ok(0, pal_quant_roundtrip(PAL_QF_INT8_ROW, &x[0][0], 2, 6, &q[0][0]), "int8");
  for (int r = 0; r < 2; r++)
    for (int c = 0; c < 6; c++) assert_true(q[r][c] == want[r][c]);
}

static void test_mx_scale_choice(void **state) {
  (void)state;
  float x[40], q[40];
  /* MXFP8: amax 1.0 -> X = 0 - 8, 1.0 is 256 * 2^-8 exactly; 3 * 2^-17 is
   * the E4M3 subnormal 3 * 2^-9 under that scale; 2^-20 is below half the
   * smallest subnormal and flushes. */
  memset(x, 0, sizeof x);
  x[0] = 1.0f;
  x[1] = 3 * 0x1p-17f;
  x[2] = 0x1p-20f;
  x[3] = -0.8125f;
  check_ok(0, pal_quant_roundtrip(PAL_QF_MXFP8, x, 1, 32, q), "mxfp8");
  assert_true(q[0] == 1.0f && q[1] == 3 * 0x1p-17f && q[2] == 0.0f && q[3] == -0.8125f);
  /* amax 500: floor(log2) = 8 -> X = 0; 500 saturates to 448 (OCP MX: the
   * block maximum may exceed the element range). 0.75 -> X = -9 keeps 0.75. */
  x[0] = 500.0f;
  check_ok(0, pal_quant_roundtrip(PAL_QF_MXFP8, x, 1, 32, q), "mxfp8 sat");
  assert_true(q[0] == 448.0f && q[3] == -0.8125f);
  x[0] = 0.75f;
  x[1] = x[2] = x[3] = 0.0f;
  x[4] = 0x1p-9f * 1.5f;
  check_ok(0, pal_quant_roundtrip(PAL_QF_MXFP8, x, 1, 32, q), "mxfp8 0.75");
  assert_true(q[0] == 0.75f && q[4] == 0x1p-9f * 1.5f);

  /* MXINT8: amax 1.99 -> X = 0, 1.99 * 64 = 127.36 -> 127; ties 1.5 and 0.5
   * (in units of 2^-6) go to even. */
  memset(x, 0, sizeof x);
  x[0] = 1.99f;
  x[1] = 1.5f / 64;
  x[2] = 0.5f / 64;
  x[3] = -0.5f;
  check_ok(0, pal_quant_roundtrip(PAL_QF_MXINT8, x, 1, 32, q), "mxint8");
  assert_true(q[0] == 127.0f / 64 && q[1] == 2.0f / 64 && q[2] == 0.0f && q[3] == -0.5f);
  /* amax 3 -> X = 1: element quantum 2^-5. */
  x[0] = 3.0f;
  x[1] = 1.0f / 64;
  check_ok(0, pal_quant_roundtrip(PAL_QF_MXINT8, x, 1, 32, q), "mxint8 X=1");
  assert_true(q[0] == 3.0f && q[1] == 0.0f); /* 0.5 quantum: tie to even 0 */

  /* Ragged tail: cols = 40, the 8-element tail block gets its own scale, so
   * 2^-20 survives next to a 2^10 block in all three block formats. */
  const pal_qformat_t blocked[3] = {PAL_QF_PAL8_B32, PAL_QF_MXFP8, PAL_QF_MXINT8};
  for (int i = 0; i < 3; i++) {
    memset(x, 0, sizeof x);
    x[0] = 1024.0f;
    x[35] = 0x1p-20f;
    x[39] = -0x1p-21f;
    check_ok(0, pal_quant_roundtrip(blocked[i], x, 1, 40, q), "tail");
    assert_true(q[0] == 1024.0f);
    assert_true(q[35] == 0x1p-20f);
    assert_true(q[39] == -0x1p-21f);
  }
  /* ... whereas a per-tensor scale loses it. */
  check_ok(0, pal_quant_roundtrip(PAL_QF_FP8_E4M3, x, 1, 40, q), "tensor");
  assert_true(q[0] == 1024.0f && q[35] == 0.0f);
}

/* ---- names, bits, errors ------------------------------------------------- */

static void test_names_and_bits(void **state) {
  (void)state;
  const double want_bits[PAL_QF_COUNT] = {32, 8.25, 8, 16, 8, 8, 8.25, 8, 8.25, 16};
  for (int f = 0; f < PAL_QF_COUNT; f++) {
    const char *name = pal_qformat_name((pal_qformat_t)f);
    assert_non_null(name);
    assert_string_not_equal(name, "unknown");
    for (const char *p = name; *p; p++)
      assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
    for (int g = 0; g < f; g++) assert_string_not_equal(name, pal_qformat_name((pal_qformat_t)g));
    assert_true(pal_qformat_bits((pal_qformat_t)f) == want_bits[f]);
  }
  assert_string_equal(pal_qformat_name(PAL_QF_PAL8_B32), "pal8_b32");
  assert_string_equal(pal_qformat_name(PAL_QF_FP8_E4M3), "fp8_e4m3");
  assert_string_equal(pal_qformat_name(PAL_QF_COUNT), "unknown");
  assert_true(pal_qformat_bits(PAL_QF_COUNT) == 0.0);
}

static void test_roundtrip_errors(void **state) {
  (void)state;
  float x[4] = {1, 2, 3, 4}, q[4];
  const int bad[3] = {PAL_QF_COUNT, PAL_QF_COUNT + 7, -1};
  for (int i = 0; i < 3; i++) {
    pal_status_t st = pal_quant_roundtrip((pal_qformat_t)bad[i], x, 1, 4, q);
    assert_int_equal(pal_status_code(st), PAL_INVALID_ARGUMENT);
    assert_non_null(strstr(pal_status_message(st), "unknown format"));
    pal_status_free(st);
  }
  pal_status_t st = pal_quant_roundtrip(PAL_QF_BF16, x, SIZE_MAX / 2, 3, q);
  assert_int_equal(pal_status_code(st), PAL_OUT_OF_RANGE);
  assert_non_null(strstr(pal_status_message(st), "overflow"));
  pal_status_free(st);
  st = pal_quant_roundtrip(PAL_QF_INT8_ROW, NULL, 1, 4, q);
  assert_int_equal(pal_status_code(st), PAL_INVALID_ARGUMENT);
  assert_non_null(strstr(pal_status_message(st), "NULL"));
  pal_status_free(st);
  /* Empty tensors are fine and touch nothing. */
  for (int f = 0; f < PAL_QF_COUNT; f++) {
    assert_null(pal_quant_roundtrip((pal_qformat_t)f, NULL, 0, 4, NULL));
    assert_null(pal_quant_roundtrip((pal_qformat_t)f, x, 4, 0, q));
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fp8_decode_all_codes),
      cmocka_unit_test(test_fp8_encode_decode_identity),
      cmocka_unit_test(test_fp8_round_ties_to_even),
      cmocka_unit_test(test_fp8_saturation_and_nan),
      cmocka_unit_test(test_fp8_encode_matches_nearest),
      cmocka_unit_test(test_bf16_rne),
      cmocka_unit_test(test_roundtrip_error_bounds),
      cmocka_unit_test(test_roundtrip_exact_on_representable),
      cmocka_unit_test(test_roundtrip_zero_rows),
      cmocka_unit_test(test_roundtrip_nan_rule),
      cmocka_unit_test(test_int8_row_scale),
      cmocka_unit_test(test_mx_scale_choice),
      cmocka_unit_test(test_names_and_bits),
      cmocka_unit_test(test_roundtrip_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
