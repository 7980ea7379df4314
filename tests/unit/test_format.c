/* Unit tests of the PAL golden model (include/pal/format.h) against the
 * definitions of pal-format.md: exact integer checks of the tables, every
 * PAL8 code, long-double references for the encoders, and the corner cases
 * of the MAC datapath and the FP32 accumulator. */
#include <float.h>
#include <math.h>

#include "pal/format.h"
#include "pal_bigint.h"
#include "pal_test.h"

/* ---- tables, proven with exact integer arithmetic ------------------------ */

static void test_table_t8_exact(void **state) {
  (void)state;
  for (unsigned j = 1; j <= 16; j++) {
    uint32_t t = pal_table_t8[j - 1];
    /* T = ceil(2^((2j-1)/32) * 2^23)  <=>  T^32 >= 2^(2j-1+736) > (T-1)^32 */
    assert_true(pal_bigint_pow_cmp_pow2(t, 32, 2 * j - 1 + 736) >= 0);
    assert_true(pal_bigint_pow_cmp_pow2(t - 1, 32, 2 * j - 1 + 736) < 0);
  }
}

static void test_table_l8_exact(void **state) {
  (void)state;
  for (unsigned r = 0; r < 16; r++) {
    uint32_t l = pal_table_l8[r];
    /* L = round(2^(8 - r/16))  <=>  (2L-1)^16 < 2^(144-r) < (2L+1)^16 */
    assert_true(pal_bigint_pow_cmp_pow2(2 * l - 1, 16, 144 - r) < 0);
    assert_true(pal_bigint_pow_cmp_pow2(2 * l + 1, 16, 144 - r) > 0);
    assert_true(l <= 256); /* fits the 9-bit table of the datapath */
  }
}

static void test_table_decode_exact(void **state) {
  (void)state;
  assert_int_equal(pal_table_d8[0], pal_f32_bits(1.0f));
  for (unsigned r = 1; r < 16; r++) {
    /* fp32(2^(-r/16)) = k * 2^-24 with k the integer nearest 2^(24 - r/16) */
    uint32_t b = pal_table_d8[r];
    assert_int_equal(b >> 23, 126);
    uint64_t k = (b & 0x7FFFFFu) | 0x800000u;
    assert_true(pal_bigint_pow_cmp_pow2(2 * k - 1, 16, 400 - r) < 0);
    assert_true(pal_bigint_pow_cmp_pow2(2 * k + 1, 16, 400 - r) > 0);
  }
  assert_int_equal(pal_table_d16[0], pal_f32_bits(1.0f));
  for (unsigned f = 1; f < 256; f++) {
    uint32_t b = pal_table_d16[f];
    assert_int_equal(b >> 23, 127);
    uint64_t k = (b & 0x7FFFFFu) | 0x800000u; /* fp32(2^(f/256)) = k * 2^-23 */
    assert_true(pal_bigint_pow_cmp_pow2(2 * k - 1, 256, 24 * 256 + f) < 0);
    assert_true(pal_bigint_pow_cmp_pow2(2 * k + 1, 256, 24 * 256 + f) > 0);
  }
}

static void test_table_t16_exact(void **state) {
  (void)state;
  for (unsigned j = 1; j <= 256; j++) {
    uint32_t t = pal_table_t16[j - 1];
    assert_true(pal_bigint_pow_cmp_pow2(t, 512, 2 * j - 1 + 23 * 512) >= 0);
    assert_true(pal_bigint_pow_cmp_pow2(t - 1, 512, 2 * j - 1 + 23 * 512) < 0);
  }
}

/* ---- §1 every PAL8 code -------------------------------------------------- */

static const int test_exponents[] = {-127, -126, -125, -1, 0, 1, 126, 127};

static void test_decode_every_code(void **state) {
  (void)state;
  for (size_t ei = 0; ei < sizeof test_exponents / sizeof *test_exponents; ei++) {
    int e = test_exponents[ei];
    for (unsigned c = 0; c < 256; c++) {
      float v = pal_code8_decode((uint8_t)c, e);
      if (c == 0x80) {
        assert_true(isnan(v));
        continue;
      }
      unsigned mag = c & 0x7F;
      if (mag == 0) {
        assert_int_equal(pal_f32_bits(v), 0); /* the only zero, positive */
        continue;
      }
      unsigned d = 127 - mag, q = d >> 4, r = d & 15;
      int a = e - (int)q; /* value = 2^a * 2^(-r/16) */
      if (a < -126 || (a == -126 && r > 0)) {
        /* below FLT_MIN: decodes to zero, as the encoder treats it */
        assert_int_equal(pal_f32_bits(v), 0);
        continue;
      }
      uint32_t b = pal_f32_bits(v);
      assert_int_equal(b >> 31, c >> 7);
      int be = (int)((b >> 23) & 0xFF) - 127;
      uint64_t k = (b & 0x7FFFFFu) | 0x800000u;
      if (r == 0) {
        assert_int_equal(be, a);
        assert_int_equal(k, 0x800000u);
      } else {
        /* v = 2^a * k * 2^-24: k must be the integer nearest 2^(24 - r/16) */
        assert_int_equal(be, a - 1);
        assert_true(pal_bigint_pow_cmp_pow2(2 * k - 1, 16, 400 - r) < 0);
        assert_true(pal_bigint_pow_cmp_pow2(2 * k + 1, 16, 400 - r) > 0);
      }
    }
  }
}

static void test_encode_decode_roundtrip_every_code(void **state) {
  (void)state;
  static const int es[] = {-126, -1, 0, 1, 127, -120, 100};
  for (size_t ei = 0; ei < sizeof es / sizeof *es; ei++)
    for (unsigned c = 0; c < 256; c++) {
      float v = pal_code8_decode((uint8_t)c, es[ei]);
      if (c != 0 && c != 0x80 && v == 0.0f) continue; /* below FLT_MIN: not normal */
      uint8_t back = pal_code8_encode(v, es[ei]);
      if (back != c) fail_msg("E=%d code 0x%02x -> %a -> 0x%02x", es[ei], c, (double)v, back);
    }
}

static void test_block_roundtrip(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  for (int it = 0; it < 2000; it++) {
    uint8_t codes[32], back[32], x = (uint8_t)(1 + pal_test_rng_below(&rng, 254)), xb;
    for (int i = 0; i < 32; i++) codes[i] = (uint8_t)pal_test_rng_below(&rng, 256);
    codes[pal_test_rng_below(&rng, 32)] = pal_test_rng_below(&rng, 2) ? 0x7F : 0xFF; /* sets E */
    float v[32];
    pal_b32_decode_block(codes, x, 32, v);
    pal_b32_encode_block(v, 32, back, &xb);
    PAL_TEST_CHECK(seed, xb == x, "iteration %d: scale %u -> %u", it, x, xb);
    for (int i = 0; i < 32; i++) {
      /* codes whose value is below FLT_MIN decode to 0 and come back as 0 */
      uint8_t want = (codes[i] != 0x80 && v[i] == 0.0f) ? 0 : codes[i];
      PAL_TEST_CHECK(seed, back[i] == want, "iteration %d element %d: 0x%02x -> 0x%02x", it, i,
                     want, back[i]);
    }
  }
}

/* ---- §2 encoders against a long-double reference ------------------------ */

/* Block exponent straight from the definition: ceil(log2(amax)), clamped. */
static int ref_exponent(long double amax) {
  int e = (int)ceill(log2l(amax));
  return e < -127 ? -127 : e > 127 ? 127 : e;
}

/* Nearest code in the log domain, §2 step 4. */
static uint8_t ref_encode8(float x, int e) {
  if (isnan(x) || isinf(x)) return 0x80;
  if (fabsf(x) < FLT_MIN) return 0;
  long double t = 16.0L * ((long double)e - log2l(fabsl((long double)x)));
  long double d = roundl(t);
  if (d > 126) return 0;
  if (d < 0) d = 0;
  return (uint8_t)((signbit(x) ? 0x80 : 0) | (127 - (int)d));
}

/* A random float of widely varying magnitude, sometimes special. */
static float random_value(pal_test_rng_t *rng, int center_exp) {
  switch (pal_test_rng_below(rng, 40)) {
    case 0: return 0.0f;
    case 1: return -0.0f;
    case 2: return NAN;
    case 3: return pal_test_rng_below(rng, 2) ? INFINITY : -INFINITY;
    case 4: return pal_f32_from_bits(1 + pal_test_rng_below(rng, 0x7FFFFF)); /* subnormal */
    case 5: return FLT_MAX;
    case 6: return FLT_MIN;
    default: break;
  }
  int e = center_exp - (int)pal_test_rng_below(rng, 12);
  if (e < -126) e = -126;
  if (e > 127) e = 127;
  uint32_t b = ((uint32_t)(e + 127) << 23) | (pal_test_rng_u32(rng) & 0x7FFFFFu);
  return pal_f32_from_bits(b | (pal_test_rng_below(rng, 2) << 31));
}

static void test_random_blocks_vs_long_double(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() ^ 0xB10C;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  for (int it = 0; it < 20000; it++) {
    float x[32];
    size_t n = pal_test_rng_below(&rng, 4) == 0 ? 1 + pal_test_rng_below(&rng, 32) : 32;
    int center = -130 + (int)pal_test_rng_below(&rng, 262);
    bool all_zero = pal_test_rng_below(&rng, 50) == 0;
    for (size_t i = 0; i < n; i++) x[i] = all_zero ? 0.0f : random_value(&rng, center);
    uint8_t codes[32], scale;
    memset(codes, 0xAA, sizeof codes);
    pal_b32_encode_block(x, n, codes, &scale);

    long double amax = 0;
    for (size_t i = 0; i < n; i++)
      if (isfinite(x[i]) && fabsl(x[i]) > amax) amax = fabsl(x[i]);
    int e = amax < FLT_MIN ? -127 : ref_exponent(amax);
    PAL_TEST_CHECK(seed, scale == e + 127, "iteration %d: scale %u, expected %d", it, scale,
                   e + 127);
    for (size_t i = 0; i < 32; i++) {
      uint8_t want = i < n ? ref_encode8(x[i], e) : 0; /* tail padded with zero codes */
      PAL_TEST_CHECK(seed, codes[i] == want, "iteration %d element %zu (x = %a, E = %d): 0x%02x, expected 0x%02x",
                     it, i, (double)(i < n ? x[i] : 0), e, codes[i], want);
      if (i < n && want != 0 && want != 0x80 && (want & 0x7F) != 127) {
        /* nearest: the neighbouring codes are no closer in the log domain */
        long double t = 16.0L * (e - log2l(fabsl(x[i])));
        long double d = 127 - (want & 0x7F);
        PAL_TEST_CHECK(seed, fabsl(t - d) <= 0.5L, "iteration %d element %zu not nearest", it, i);
      }
    }
  }
}

static void test_encode_edges(void **state) {
  (void)state;
  /* saturation: FLT_MAX has E = ceil(log2) = 128, clamped to 127: d < 0 -> M = 127 */
  float big[2] = {FLT_MAX, -FLT_MAX};
  uint8_t codes[32], scale;
  pal_b32_encode_block(big, 2, codes, &scale);
  assert_int_equal(scale, 254);
  assert_int_equal(codes[0], 0x7F);
  assert_int_equal(codes[1], 0xFF);
  /* flush: 2^-8 below amax (d = 128 > 126) flushes; 2^-7.875 stays */
  float f[3] = {1.0f, ldexpf(1.0f, -8), exp2f(-7.875f)};
  pal_b32_encode_block(f, 3, codes, &scale);
  assert_int_equal(scale, 127);
  assert_int_equal(codes[0], 0x7F);
  assert_int_equal(codes[1], 0x00);
  assert_int_equal(codes[2], 0x01);
  /* NaN and Inf -> NaR, the rest encodes from the finite elements */
  float s[3] = {NAN, 2.0f, -INFINITY};
  pal_b32_encode_block(s, 3, codes, &scale);
  assert_int_equal(scale, 128);
  assert_int_equal(codes[0], 0x80);
  assert_int_equal(codes[1], 0x7F);
  assert_int_equal(codes[2], 0x80);
  /* all zero / subnormal: X = 0 and zero codes; NaR kept */
  float z[3] = {0.0f, -pal_f32_from_bits(5), NAN};
  pal_b32_encode_block(z, 3, codes, &scale);
  assert_int_equal(scale, 0);
  assert_int_equal(codes[0], 0);
  assert_int_equal(codes[1], 0);
  assert_int_equal(codes[2], 0x80);
  /* X = 255 decodes the whole block as NaR */
  float out[32];
  memset(codes, 0x7F, sizeof codes);
  pal_b32_decode_block(codes, PAL_SCALE_NAR, 32, out);
  for (int i = 0; i < 32; i++) assert_true(isnan(out[i]));
  /* block exponent from the bits: exact powers of two are not bumped */
  assert_int_equal(pal_block_exponent(1.0f), 0);
  assert_int_equal(pal_block_exponent(nextafterf(1.0f, 2.0f)), 1);
  assert_int_equal(pal_block_exponent(0.75f), 0);
  assert_int_equal(pal_block_exponent(FLT_MIN), -126);
}

static void test_matrix_encode_ragged(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() ^ 0x3A7;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  const size_t rows = 5, cols = 77, ld = 80; /* 3 blocks, the last 13 long */
  float x[5 * 80], y[5 * 80];
  for (size_t i = 0; i < rows * ld; i++) x[i] = (float)pal_test_rng_gauss(&rng);
  pal_b32_matrix_t m;
  pal_status_t st = pal_b32_matrix_create(rows, cols, &m);
  assert_null(st);
  assert_int_equal(m.kblocks, 3);
  pal_b32_matrix_encode(x, ld, &m);
  for (size_t r = 0; r < rows; r++) {
    for (size_t kb = 0; kb < 3; kb++) {
      size_t n = kb == 2 ? 13 : 32;
      uint8_t codes[32], scale;
      pal_b32_encode_block(x + r * ld + kb * 32, n, codes, &scale);
      assert_memory_equal(codes, m.codes + (r * 3 + kb) * 32, 32);
      assert_int_equal(scale, m.scales[r * 3 + kb]);
    }
  }
  memset(y, 0x55, sizeof y);
  pal_b32_matrix_decode(&m, y, ld);
  for (size_t r = 0; r < rows; r++)
    for (size_t k = 0; k < ld; k++) {
      if (k >= cols) {
        assert_int_equal(pal_f32_bits(y[r * ld + k]), 0x55555555u); /* padding untouched */
        continue;
      }
      float v = x[r * ld + k], q = y[r * ld + k];
      if (q != 0.0f) assert_true(fabsf(q - v) <= fabsf(v) * 0.0222f); /* half a step */
    }
  pal_b32_matrix_release(&m);
  pal_b32_matrix_t huge;
  st = pal_b32_matrix_create(SIZE_MAX / 2, 4096, &huge);
  assert_int_equal(pal_status_code(st), PAL_OUT_OF_RANGE);
  assert_non_null(strstr(pal_status_message(st), "too large"));
  pal_status_free(st);
}

/* ---- PAL8-T and PAL16 ---------------------------------------------------- */

static void test_t8_vs_reference(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() ^ 0x78;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  enum { N = 1000 };
  float x[N], y[N];
  uint8_t codes[N];
  for (int it = 0; it < 20; it++) {
    long double amax = 0;
    for (int i = 0; i < N; i++) {
      x[i] = random_value(&rng, 10 - 5 * it);
      if (isfinite(x[i]) && fabsl(x[i]) > amax) amax = fabsl(x[i]);
    }
    uint8_t scale = pal_t8_encode(x, N, codes);
    int e = amax < FLT_MIN ? -127 : ref_exponent(amax);
    PAL_TEST_CHECK(seed, scale == e + 127, "scale %u expected %d", scale, e + 127);
    for (int i = 0; i < N; i++)
      PAL_TEST_CHECK(seed, codes[i] == ref_encode8(x[i], e), "element %d of %a", i, (double)x[i]);
    pal_t8_decode(codes, N, scale, y);
    for (int i = 0; i < N; i++)
      PAL_TEST_CHECK(seed, pal_f32_bits(y[i]) == pal_f32_bits(pal_code8_decode(codes[i], e)) || isnan(y[i]),
                     "decode %d", i);
  }
}

static uint16_t ref_encode16(float x) {
  if (isnan(x) || isinf(x)) return 0x8000;
  if (fabsf(x) < FLT_MIN) return 0;
  long double m = roundl(256.0L * log2l(fabsl((long double)x))) + 16384;
  if (m < 1) return 0;
  if (m > 32767) m = 32767;
  return (uint16_t)((signbit(x) ? 0x8000 : 0) | (int)m);
}

static void test_pal16(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() ^ 0x16;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  for (int i = 0; i < 200000; i++) {
    float x = random_value(&rng, -70 + (int)pal_test_rng_below(&rng, 140));
    uint16_t c = pal_code16_encode(x), want = ref_encode16(x);
    PAL_TEST_CHECK(seed, c == want, "x = %a: 0x%04x, expected 0x%04x", (double)x, c, want);
  }
  /* the edges: 2^-64 rounds to M = 0 and flushes (a negative one must not
   * become the NaR pattern 0x8000); one step up is M = 1; 2^64 saturates */
  assert_int_equal(pal_code16_encode(0x1p-64f), 0);
  assert_int_equal(pal_code16_encode(-0x1p-64f), 0);
  assert_int_equal(pal_code16_encode(-exp2f(-64.0f + 1.0f / 256)), 0x8001);
  assert_int_equal(pal_code16_encode(0x1p64f), 0x7FFF);
  assert_int_equal(pal_code16_encode(-FLT_MAX), 0xFFFF);
  assert_int_equal(pal_code16_encode(1.0f), 16384);
  assert_int_equal(pal_code16_encode(-INFINITY), 0x8000);
  /* every code: decode is the correctly rounded value (exact table), and
   * encode(decode(c)) == c; decode is monotonic in M */
  float prev = 0.0f;
  for (uint32_t c = 0; c < 0x10000; c++) {
    float v = pal_code16_decode((uint16_t)c);
    if (c == 0x8000) {
      assert_true(isnan(v));
      continue;
    }
    if ((c & 0x7FFF) == 0) {
      assert_true(v == 0.0f);
      continue;
    }
    PAL_TEST_CHECK(seed, pal_code16_encode(v) == c, "code 0x%04x -> %a -> 0x%04x", c, (double)v,
                   pal_code16_encode(v));
    int mag = (int)(c & 0x7FFF);
    long double want = exp2l((mag - 16384) / 256.0L);
    PAL_TEST_CHECK(seed, fabsl(fabsl(v) - want) <= want * 0x1p-24L, "code 0x%04x value", c);
    if (c < 0x8000) {
      assert_true(v > prev);
      prev = v;
    }
  }
}

/* ---- §3 datapath corner cases ------------------------------------------- */

static void test_product_and_block_sum(void **state) {
  (void)state;
  uint8_t w[32], a[32];
  bool nar = false;
  /* largest product: D = 0 -> L[0] << 7 = 32768; 32 of them give 2^20 */
  memset(w, 0x7F, 32);
  memset(a, 0x7F, 32);
  assert_int_equal(pal_b32_block_sum(w, a, &nar), 1 << 20);
  assert_false(nar);
  memset(a, 0xFF, 32);
  assert_int_equal(pal_b32_block_sum(w, a, &nar), -(1 << 20));
  /* smallest: D = 252 -> (134 << 7) >> 15 = 0 after the truncating shift */
  assert_int_equal(pal_product_mag(252), (134u << 7) >> 15);
  for (unsigned dsum = 0; dsum <= 252; dsum++) {
    /* the product approximates 2^(15 - D/16) within the table's rounding */
    double want = exp2(15.0 - dsum / 16.0);
    uint32_t p = pal_product_mag(dsum);
    assert_true(fabs((double)p - want) <= 0.5 * exp2(7.0 - (dsum >> 4)) + 1.0);
  }
  /* zeros skipped; NaR is sticky even against a zero weight */
  memset(w, 0, 32);
  memset(a, 0x7F, 32);
  nar = false;
  assert_int_equal(pal_b32_block_sum(w, a, &nar), 0);
  assert_false(nar);
  a[5] = 0x80;
  assert_int_equal(pal_b32_block_sum(w, a, &nar), 0);
  assert_true(nar);
}

static void test_fp32_accumulate(void **state) {
  (void)state;
  bool nar = false;
  /* s * 2^e exactly: 3 * 2^-15 */
  assert_true(pal_fp32_accumulate(0.0f, 3, -15, &nar) == 3.0f * 0x1p-15f);
  /* below FLT_MIN: adds nothing, even to a negative zero */
  float nz = pal_fp32_accumulate(-0.0f, 1, -127, &nar);
  assert_int_equal(pal_f32_bits(nz), 0x80000000u);
  assert_false(nar);
  /* exactly FLT_MIN is added */
  assert_true(pal_fp32_accumulate(0.0f, 1, -126, &nar) == FLT_MIN);
  /* a subnormal result flushes to zero keeping its sign */
  float acc = 0x1.8p-126f;
  float r = pal_fp32_accumulate(acc, -1, -126, &nar); /* 1.5 - 1 = 0.5 * 2^-126 */
  assert_int_equal(pal_f32_bits(r), 0);
  r = pal_fp32_accumulate(-acc, 1, -126, &nar);
  assert_int_equal(pal_f32_bits(r), 0x80000000u);
  assert_false(nar);
  /* round to nearest even: 1 + 2^-24 -> 1, 1 + 3*2^-24 -> 1 + 2^-22 */
  assert_true(pal_fp32_accumulate(1.0f, 1, -24, &nar) == 1.0f);
  assert_true(pal_fp32_accumulate(1.0f, 3, -24, &nar) == 1.0f + 0x1p-22f);
  assert_false(nar);
  /* |t| > FLT_MAX: NaR */
  pal_fp32_accumulate(0.0f, 1, 128, &nar);
  assert_true(nar);
  /* overflow of the sum: NaR */
  nar = false;
  pal_fp32_accumulate(FLT_MAX, 1 << 20, 107, &nar);
  assert_true(nar);
  /* start value */
  nar = false;
  assert_int_equal(pal_f32_bits(pal_fp32_start(-pal_f32_from_bits(3), &nar)), 0x80000000u);
  assert_false(nar);
  pal_fp32_start(INFINITY, &nar);
  assert_true(nar);
}

static void test_postprocess(void **state) {
  (void)state;
  pal_epilogue_t ep;
  pal_epilogue_initialize(&ep);
  bool nar = false;
  float bias[1] = {2.0f};
  assert_true(pal_postprocess(-3.0f, 0.0f, &ep, &nar) == -3.0f);
  ep.act = PAL_ACT_RELU;
  assert_int_equal(pal_f32_bits(pal_postprocess(-0.0f, 0.0f, &ep, &nar)), 0);
  assert_true(pal_postprocess(-3.0f, 0.0f, &ep, &nar) == 0.0f);
  ep.bias = bias;
  ep.bias_mode = PAL_BIAS_POST;
  assert_true(pal_postprocess(-1.5f, 2.0f, &ep, &nar) == 0.5f);
  ep.act = PAL_ACT_CLIP;
  ep.clip_lo = -1.0f;
  ep.clip_hi = 1.0f;
  assert_true(pal_postprocess(5.0f, 2.0f, &ep, &nar) == 1.0f);
  assert_true(pal_postprocess(-5.0f, 2.0f, &ep, &nar) == -1.0f);
  assert_false(nar);
  nar = true; /* NaR survives ReLU and clip */
  assert_true(isnan(pal_postprocess(5.0f, 2.0f, &ep, &nar)));
  ep.act = PAL_ACT_RELU;
  assert_true(isnan(pal_postprocess(5.0f, 2.0f, &ep, &nar)));
  assert_true(nar);
}

static void test_gemm_ref_small(void **state) {
  (void)state;
  /* a 2x3 by K=40 product checked against a decode-and-sum estimate and
   * with NaR propagation through one element */
  uint64_t seed = pal_test_seed() ^ 0x6E;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  float a[2 * 40], w[3 * 40];
  for (int i = 0; i < 80; i++) a[i] = (float)pal_test_rng_gauss(&rng);
  for (int i = 0; i < 120; i++) w[i] = (float)pal_test_rng_gauss(&rng);
  pal_b32_matrix_t ma, mw;
  assert_null(pal_b32_matrix_create(2, 40, &ma));
  assert_null(pal_b32_matrix_create(3, 40, &mw));
  pal_b32_matrix_encode(a, 40, &ma);
  pal_b32_matrix_encode(w, 40, &mw);
  float ad[80], wd[120], out[6];
  pal_b32_matrix_decode(&ma, ad, 40);
  pal_b32_matrix_decode(&mw, wd, 40);
  assert_int_equal(pal_gemm_ref(&ma, &mw, NULL, out, 3), 0);
  for (int m = 0; m < 2; m++)
    for (int n = 0; n < 3; n++) {
      double ref = 0, mag = 0;
      for (int k = 0; k < 40; k++) {
        ref += (double)ad[m * 40 + k] * wd[n * 40 + k];
        mag += fabs((double)ad[m * 40 + k] * wd[n * 40 + k]);
      }
      /* each product carries the L table's rounding and truncation only */
      PAL_TEST_CHECK(seed, fabs(out[m * 3 + n] - ref) <= 0.01 * mag, "out[%d][%d]", m, n);
    }
  ma.codes[33] = PAL_CODE8_NAR; /* row 0, second block */
  assert_int_equal(pal_gemm_ref(&ma, &mw, NULL, out, 3), 3);
  for (int n = 0; n < 3; n++) assert_true(isnan(out[n]));
  assert_false(isnan(out[3]));
  pal_b32_matrix_release(&ma);
  pal_b32_matrix_release(&mw);
}

static void test_status(void **state) {
  (void)state;
  pal_status_t st = pal_status_make(PAL_DATA_LOSS, "bad CRC in %s", "x.palk");
  assert_int_equal(pal_status_code(st), PAL_DATA_LOSS);
  assert_string_equal(pal_status_message(st), "bad CRC in x.palk");
  st = pal_status_annotate(st, "loading kernel %d", 3);
  assert_string_equal(pal_status_message(st), "loading kernel 3: bad CRC in x.palk");
  assert_string_equal(pal_status_code_name(pal_status_code(st)), "DATA_LOSS");
  pal_status_free(st);
  assert_string_equal(pal_status_message(PAL_STATUS_OK), "ok");
  assert_null(pal_status_annotate(PAL_STATUS_OK, "x"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_t8_exact),
      cmocka_unit_test(test_table_l8_exact),
      cmocka_unit_test(test_table_decode_exact),
      cmocka_unit_test(test_table_t16_exact),
      cmocka_unit_test(test_decode_every_code),
      cmocka_unit_test(test_encode_decode_roundtrip_every_code),
      cmocka_unit_test(test_block_roundtrip),
      cmocka_unit_test(test_random_blocks_vs_long_double),
      cmocka_unit_test(test_encode_edges),
      cmocka_unit_test(test_matrix_encode_ragged),
      cmocka_unit_test(test_t8_vs_reference),
      cmocka_unit_test(test_pal16),
      cmocka_unit_test(test_product_and_block_sum),
      cmocka_unit_test(test_fp32_accumulate),
      cmocka_unit_test(test_postprocess),
      cmocka_unit_test(test_gemm_ref_small),
      cmocka_unit_test(test_status),
  };
  return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
