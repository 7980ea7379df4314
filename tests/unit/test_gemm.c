/* Differential tests of the fast PAL8-B32 GEMM (include/pal/gemm.h): every
 * kernel and thread count against pal_gemm_ref and against an independent
 * reading of pal-format.md §3-§4 written here, bit for bit, over many shapes,
 * sparsities, NaR patterns, extreme block exponents and epilogues; plus the
 * argument checks. */
#include <float.h>
#include <math.h>

#include "pal/gemm.h"
#include "pal_test.h"

static uint32_t f2u(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/* ---- an independent model, straight from the spec text ------------------ */

/* Unsigned integers of up to 192 bits, enough for (2L+1)^16 < 2^160. */
typedef struct big {
  uint32_t w[6];
} big_t;

static big_t big_pow(uint32_t base, unsigned p) {
  big_t x = {{1}};
  for (unsigned i = 0; i < p; i++) {
    uint64_t carry = 0;
    for (int j = 0; j < 6; j++) {
      uint64_t v = (uint64_t)x.w[j] * base + carry;
      x.w[j] = (uint32_t)v;
      carry = v >> 32;
    }
    assert_true(carry == 0);
  }
  return x;
}

/* Sign of x - 2^k. */
static int big_cmp_pow2(big_t x, unsigned k) {
  big_t y = {{0}};
  y.w[k / 32] = 1u << (k % 32);
  for (int j = 5; j >= 0; j--)
    if (x.w[j] != y.w[j]) return x.w[j] < y.w[j] ? -1 : 1;
  return 0;
}

/* §3: L[r] = round(2^(8 - r/16)), i.e. the integer L with
 * (L - 1/2)^16 < 2^(128 - r) < (L + 1/2)^16, times 2^16 on both sides. */
static unsigned spec_l[16];

static void spec_tables_init(void) {
  for (unsigned r = 0; r < 16; r++) {
    spec_l[r] = 0;
    for (uint32_t l = 1; l < 512; l++)
      if (big_cmp_pow2(big_pow(2 * l - 1, 16), 144 - r) < 0 &&
          big_cmp_pow2(big_pow(2 * l + 1, 16), 144 - r) > 0) {
        spec_l[r] = l;
        break;
      }
  }
}

/* Counts of the rare accumulator events the random cases hit, so the tests
 * can assert that the edge cases were exercised at all. */
typedef struct spec_events {
  size_t underflow_t; /* |t| < FLT_MIN: block skipped */
  size_t overflow_t;  /* |t| > FLT_MAX: NaR */
  size_t flush_sum;   /* subnormal sum flushed to zero */
  size_t inf_sum;     /* infinite sum: NaR */
  size_t nar_code;    /* a NaR code met in a product */
  size_t nar_scale;   /* an X = 255 block met */
  size_t outputs, nar_outputs;
} spec_events_t;

static spec_events_t events;

/* An FP32 sum with the accumulator's rules: subnormal -> signed zero,
 * infinite -> NaR. */
static float spec_add(float x, float y, bool *nar) {
  float r = x + y;
  if (isinf(r)) {
    events.inf_sum++;
    *nar = true;
  } else if (r != 0.0f && fabsf(r) < FLT_MIN) {
    events.flush_sum++;
    r = r < 0 ? -0.0f : 0.0f;
  }
  return r;
}

/* A bias as an FP32 operand of the accumulator: NaN/Inf is NaR, subnormals
 * flush to zero like every other accumulator value. */
static float spec_bias(float b, bool *nar) {
  if (isnan(b) || isinf(b)) {
    *nar = true;
    return 0.0f;
  }
  return fabsf(b) < FLT_MIN ? copysignf(0.0f, b) : b;
}

static size_t spec_gemm(const pal_b32_matrix_t *a, const pal_b32_matrix_t *w,
                        const pal_epilogue_t *ep, float *out, size_t ldo) {
  size_t nar_count = 0;
  const float *bias = ep ? ep->bias : NULL;
  for (size_t m = 0; m < a->rows; m++)
    for (size_t n = 0; n < w->rows; n++) {
      bool nar = false;
      float acc = 0.0f;
      if (bias && ep->bias_mode == PAL_BIAS_START) acc = spec_bias(bias[n], &nar);
      for (size_t blk = 0; blk < a->kblocks; blk++) {
        int xa = a->scales[m * a->kblocks + blk], xw = w->scales[n * w->kblocks + blk];
        if (xa == 255 || xw == 255) { /* the whole block is NaR */
          events.nar_scale++;
          nar = true;
          continue;
        }
        const uint8_t *ca = a->codes + (m * a->kblocks + blk) * 32;
        const uint8_t *cw = w->codes + (n * w->kblocks + blk) * 32;
        int32_t s = 0; /* the 22-bit block accumulator */
        for (int k = 0; k < 32; k++) {
          if (ca[k] == 0x80 || cw[k] == 0x80) { /* NaR, even against a zero */
            events.nar_code++;
            nar = true;
            continue;
          }
          if (ca[k] == 0 || cw[k] == 0) continue;
          unsigned d = (127u - (ca[k] & 127u)) + (127u - (cw[k] & 127u));
          int32_t p = (int32_t)((spec_l[d % 16] << 7) >> (d / 16));
          s += ((ca[k] ^ cw[k]) & 0x80) ? -p : p;
        }
        assert_true(s >= -(1 << 21) && s < (1 << 21));
        if (s == 0) continue;
        /* t = s * 2^e, with 2^te <= |t| < 2^(te+1) */
        int e = (xw - 127) + (xa - 127) - 15;
        uint32_t mag = (uint32_t)(s < 0 ? -s : s);
        int te = 31 - __builtin_clz(mag) + e;
        if (te < -126) {
          events.underflow_t++;
          continue;
        }
        if (te > 127) {
          events.overflow_t++;
          nar = true;
          continue;
        }
        acc = spec_add(acc, ldexpf((float)s, e), &nar);
      }
      if (!nar && bias && ep->bias_mode == PAL_BIAS_POST) {
        float b = spec_bias(bias[n], &nar);
        if (!nar) acc = spec_add(acc, b, &nar);
      }
      if (!nar && ep && ep->act == PAL_ACT_RELU) acc = acc > 0.0f ? acc : 0.0f;
      if (!nar && ep && ep->act == PAL_ACT_CLIP)
        acc = acc < ep->clip_lo ? ep->clip_lo : acc > ep->clip_hi ? ep->clip_hi : acc;
      out[m * ldo + n] = nar ? NAN : acc;
      nar_count += nar;
      events.outputs++;
    }
  events.nar_outputs += nar_count;
  return nar_count;
}

static void test_spec_table(void **state) {
  (void)state;
  static const unsigned listed[16] = {256, 245, 235, 225, 215, 206, 197, 189,
                                      181, 173, 166, 159, 152, 146, 140, 134};
  for (int r = 0; r < 16; r++) {
    assert_int_equal(spec_l[r], listed[r]);
    assert_int_equal(pal_table_l8[r], listed[r]);
  }
}

/* ---- random operands ----------------------------------------------------- */

typedef enum scale_mode {
  SCALE_NORMAL,  /* around 2^0 */
  SCALE_EXTREME, /* X in {0, 1, 253, 254} and a few normal ones */
  SCALE_LOW,     /* products near FLT_MIN: t underflows, sums go subnormal */
  SCALE_HIGH,    /* products near FLT_MAX: t and sums overflow */
  SCALE_ANY,     /* 0..254 */
} scale_mode_t;

typedef struct gen {
  double zero_p;       /* probability of a zero element */
  double zero_block_p; /* probability of an all-zero block */
  double nar_p;        /* probability of a NaR element */
  double nar_scale_p;  /* probability of X = 255 */
  scale_mode_t scale;
  bool large_mags;     /* codes near the block maximum (big products, D small) */
  bool nar_padding;    /* a NaR code in the tail padding (read by the reference) */
} gen_t;

static uint8_t gen_scale(pal_test_rng_t *rng, scale_mode_t mode) {
  static const uint8_t extreme[] = {0, 1, 253, 254, 254, 0, 127, 140};
  switch (mode) {
    case SCALE_NORMAL: return (uint8_t)(120 + pal_test_rng_below(rng, 15));
    case SCALE_EXTREME: return extreme[pal_test_rng_below(rng, 8)];
    case SCALE_LOW: return (uint8_t)(62 + pal_test_rng_below(rng, 9));
    case SCALE_HIGH: return (uint8_t)(188 + pal_test_rng_below(rng, 7));
    case SCALE_ANY: return (uint8_t)pal_test_rng_below(rng, 255);
  }
  return 127;
}

static void gen_matrix(pal_test_rng_t *rng, size_t rows, size_t cols, const gen_t *g,
                       pal_b32_matrix_t *x) {
  assert_true(pal_status_is_ok(pal_b32_matrix_create(rows, cols, x)));
  for (size_t r = 0; r < rows; r++)
    for (size_t b = 0; b < x->kblocks; b++) {
      size_t blk = r * x->kblocks + b;
      uint8_t *codes = x->codes + blk * 32;
      x->scales[blk] = pal_test_rng_uniform(rng) < g->nar_scale_p ? 255 : gen_scale(rng, g->scale);
      bool zero_block = pal_test_rng_uniform(rng) < g->zero_block_p;
      size_t valid = cols - b * 32 < 32 ? cols - b * 32 : 32;
      for (size_t k = 0; k < 32; k++) {
        uint8_t c = 0;
        if (k >= valid) {
          c = g->nar_padding && pal_test_rng_below(rng, 64) == 0 ? 0x80 : 0;
        } else if (zero_block || pal_test_rng_uniform(rng) < g->zero_p) {
          c = 0;
        } else if (pal_test_rng_uniform(rng) < g->nar_p) {
          c = 0x80;
        } else {
          unsigned mag = g->large_mags ? 112 + pal_test_rng_below(rng, 16)
                                       : 1 + pal_test_rng_below(rng, 127);
          c = (uint8_t)(mag | (pal_test_rng_below(rng, 2) << 7));
        }
        codes[k] = c;
      }
    }
}

/* ---- comparing all implementations -------------------------------------- */

#define SENTINEL 0x7FA5A5A5u /* a signalling-NaN pattern no kernel writes */

static bool same_float(float x, float y) {
  return (isnan(x) && isnan(y)) || f2u(x) == f2u(y);
}

static float *alloc_out(size_t m, size_t ldo) {
  size_t n = m * ldo > 0 ? m * ldo : 1;
  float *o = malloc(n * sizeof *o);
  assert_non_null(o);
  for (size_t i = 0; i < n; i++) memcpy(&o[i], &(uint32_t){SENTINEL}, sizeof(float));
  return o;
}

/* Finds the first difference between two outputs (padding included). */
static bool outputs_equal(const float *x, const float *y, size_t m, size_t ldo, size_t *at) {
  for (size_t i = 0; i < m * ldo; i++)
    if (!same_float(x[i], y[i])) {
      *at = i;
      return false;
    }
  return true;
}

/* Runs the reference, the independent model and pal_gemm on every ISA the
 * CPU has with 1, 2 and 3 threads, and requires identical outputs. */
static void check_all(uint64_t seed, const char *label, const pal_b32_matrix_t *a,
                      const pal_b32_matrix_t *w, const pal_epilogue_t *ep, size_t ldo_pad) {
  size_t m = a->rows, n = w->rows, ldo = n + ldo_pad, at = 0;
  float *ref = alloc_out(m, ldo), *spec = alloc_out(m, ldo), *out = alloc_out(m, ldo);
  size_t nref = pal_gemm_ref(a, w, ep, ref, ldo);
  size_t nspec = spec_gemm(a, w, ep, spec, ldo);
  bool eq = outputs_equal(ref, spec, m, ldo, &at);
  PAL_TEST_CHECK(seed, eq, "%s (%zux%zux%zu): pal_gemm_ref and the spec model differ at %zu,%zu: %a vs %a",
                 label, m, n, a->cols, at / ldo, at % ldo, (double)ref[at], (double)spec[at]);
  PAL_TEST_CHECK(seed, nref == nspec, "%s: NaR counts ref %zu spec %zu", label, nref, nspec);

  const pal_cpu_isa_t isas[] = {PAL_CPU_ISA_PORTABLE, PAL_CPU_ISA_AVX2};
  for (size_t i = 0; i < 2; i++) {
    if (isas[i] == PAL_CPU_ISA_AVX2 && pal_gemm_best_isa() != PAL_CPU_ISA_AVX2) continue;
    for (int threads = 1; threads <= 3; threads++) {
      pal_gemm_options_t opt;
      pal_gemm_options_initialize(&opt);
      opt.isa = isas[i];
      opt.threads = threads;
      size_t nar = SIZE_MAX;
      for (size_t j = 0; j < m * ldo; j++) memcpy(&out[j], &(uint32_t){SENTINEL}, sizeof(float));
      pal_status_t st = pal_gemm(a, w, ep, &opt, out, ldo, &nar);
      PAL_TEST_CHECK(seed, pal_status_is_ok(st), "%s: pal_gemm failed: %s", label,
                     pal_status_message(st));
      eq = outputs_equal(ref, out, m, ldo, &at);
      PAL_TEST_CHECK(seed, eq,
                     "%s (%zux%zux%zu), isa %s, %d threads: differs from pal_gemm_ref at "
                     "m=%zu n=%zu: %a (0x%08x) vs %a (0x%08x)",
                     label, m, n, a->cols, pal_cpu_isa_name(isas[i]), threads, at / ldo, at % ldo,
                     (double)out[at], (unsigned)f2u(out[at]), (double)ref[at],
                     (unsigned)f2u(ref[at]));
      PAL_TEST_CHECK(seed, nar == nref, "%s, isa %s, %d threads: NaR count %zu, reference %zu",
                     label, pal_cpu_isa_name(isas[i]), threads, nar, nref);
    }
  }
  free(ref);
  free(spec);
  free(out);
}

static void run_case(uint64_t seed, pal_test_rng_t *rng, const char *label, size_t m, size_t n,
                     size_t k, const gen_t *ga, const gen_t *gw, const pal_epilogue_t *ep) {
  pal_b32_matrix_t a, w;
  gen_matrix(rng, m, k, ga, &a);
  gen_matrix(rng, n, k, gw, &w);
  check_all(seed, label, &a, &w, ep, pal_test_rng_below(rng, 3) == 0 ? 5 : 0);
  pal_b32_matrix_release(&a);
  pal_b32_matrix_release(&w);
}

static const gen_t dense = {.scale = SCALE_NORMAL};

/* ---- the tests ----------------------------------------------------------- */

static void test_shapes(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  static const size_t shapes[][3] = {
      {1, 1, 1},   {1, 1, 32},   {1, 13, 7},   {7, 13, 1},    {7, 13, 33},  {7, 13, 64},
      {32, 32, 32}, {1, 40, 100}, {40, 1, 100}, {5, 33, 95},  {17, 64, 31}, {3, 100, 257},
      {64, 31, 128}, {2, 65, 63},  {130, 20, 40}, {33, 65, 300}, {9, 96, 0},
      {70, 129, 64}, {4, 200, 33},
  };
  gen_t mixed = {.zero_p = 0.3, .scale = SCALE_NORMAL};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    char label[64];
    snprintf(label, sizeof label, "shape #%zu", i);
    run_case(seed, &rng, label, shapes[i][0], shapes[i][1], shapes[i][2], &mixed, &mixed, NULL);
  }
  /* Codes near the block maximum: the largest products, 2^15 at D = 0. */
  gen_t big = {.large_mags = true, .scale = SCALE_NORMAL};
  run_case(seed, &rng, "large magnitudes", 19, 45, 160, &big, &big, NULL);
  run_case(seed, &rng, "large magnitudes, dense x mixed", 8, 70, 96, &big, &mixed, NULL);
}

static void test_sparsity(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 1);
  const double levels[] = {0.0, 0.5, 0.9, 1.0};
  for (size_t i = 0; i < 4; i++) {
    char label[64];
    gen_t ga = {.zero_p = levels[i], .scale = SCALE_NORMAL};
    snprintf(label, sizeof label, "%.0f%% zero activations", 100 * levels[i]);
    run_case(seed, &rng, label, 21, 50, 200, &ga, &dense, NULL);
    gen_t gb = {.zero_block_p = levels[i], .zero_p = 0.2, .scale = SCALE_NORMAL};
    snprintf(label, sizeof label, "%.0f%% zero activation blocks", 100 * levels[i]);
    run_case(seed, &rng, label, 21, 50, 200, &gb, &dense, NULL);
    gen_t gw = {.zero_p = levels[i], .zero_block_p = levels[i] / 2, .scale = SCALE_NORMAL};
    snprintf(label, sizeof label, "%.0f%% zero weights", 100 * levels[i]);
    run_case(seed, &rng, label, 13, 41, 100, &ga, &gw, NULL);
  }
}

static void test_nar(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 2);
  spec_events_t before = events;
  /* NaR against mostly-zero partners: zero-skipping must not skip NaR. */
  gen_t nar_a = {.zero_p = 0.5, .nar_p = 0.002, .scale = SCALE_NORMAL};
  gen_t sparse_w = {.zero_p = 0.95, .scale = SCALE_NORMAL};
  run_case(seed, &rng, "NaR activations", 30, 40, 130, &nar_a, &sparse_w, NULL);
  gen_t nar_w = {.zero_p = 0.5, .nar_p = 0.003, .scale = SCALE_NORMAL};
  gen_t zero_a = {.zero_p = 1.0, .scale = SCALE_NORMAL};
  run_case(seed, &rng, "NaR weights x zero activations", 9, 70, 90, &zero_a, &nar_w, NULL);
  gen_t nar_s = {.zero_p = 0.3, .nar_scale_p = 0.02, .scale = SCALE_NORMAL};
  run_case(seed, &rng, "NaR scales", 25, 37, 200, &nar_s, &nar_s, NULL);
  gen_t pad = {.zero_p = 0.3, .nar_padding = true, .scale = SCALE_NORMAL};
  run_case(seed, &rng, "NaR in tail padding", 20, 30, 45, &pad, &pad, NULL);
  PAL_TEST_CHECK(seed, events.nar_code > before.nar_code && events.nar_scale > before.nar_scale,
                 "the NaR cases met no NaR code or scale");
  PAL_TEST_CHECK(seed, events.nar_outputs > before.nar_outputs &&
                           events.nar_outputs - before.nar_outputs <
                               events.outputs - before.outputs,
                 "the NaR cases should give some NaR and some numeric outputs");
}

static void test_extreme_exponents(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 3);
  spec_events_t before = events;
  const scale_mode_t modes[] = {SCALE_EXTREME, SCALE_LOW, SCALE_HIGH, SCALE_ANY};
  for (size_t i = 0; i < 4; i++)
    for (int rep = 0; rep < 3; rep++) {
      gen_t g = {.zero_p = rep * 0.3, .large_mags = rep == 2, .scale = modes[i]};
      char label[64];
      snprintf(label, sizeof label, "scale mode %zu rep %d", i, rep);
      run_case(seed, &rng, label, 23, 35, 32 * (size_t)(3 + rep), &g, &g, NULL);
    }
  /* Low exponents with long K: sums cancel into the subnormal range. */
  gen_t low = {.scale = SCALE_LOW, .large_mags = true};
  run_case(seed, &rng, "low exponents, long K", 16, 40, 640, &low, &low, NULL);
  PAL_TEST_CHECK(seed, events.underflow_t > before.underflow_t, "no block sum underflowed");
  PAL_TEST_CHECK(seed, events.overflow_t > before.overflow_t, "no block sum overflowed");
  PAL_TEST_CHECK(seed, events.flush_sum > before.flush_sum, "no subnormal sum was flushed");
  PAL_TEST_CHECK(seed, events.inf_sum > before.inf_sum, "no sum overflowed to infinity");
}

static void test_epilogues(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 4);
  const size_t n = 45;
  float bias[45];
  for (size_t i = 0; i < n; i++) bias[i] = (float)(pal_test_rng_gauss(&rng) * 4.0);
  bias[3] = NAN;
  bias[7] = INFINITY;
  bias[9] = 1e-40f; /* subnormal */
  bias[11] = -0.0f;
  bias[13] = FLT_MAX; /* overflows when added after the K loop */
  bias[17] = -FLT_MAX;
  gen_t g = {.zero_p = 0.4, .scale = SCALE_NORMAL};
  gen_t high = {.zero_p = 0.4, .scale = SCALE_HIGH};
  for (int mode = 0; mode < 2; mode++)
    for (int act = 0; act < 3; act++) {
      pal_epilogue_t ep;
      pal_epilogue_initialize(&ep);
      ep.bias = bias;
      ep.bias_mode = mode ? PAL_BIAS_POST : PAL_BIAS_START;
      ep.act = (pal_activation_t)act;
      ep.clip_lo = -2.5f;
      ep.clip_hi = 3.0f;
      char label[64];
      snprintf(label, sizeof label, "bias %s, act %d", mode ? "post" : "start", act);
      run_case(seed, &rng, label, 17, n, 70, &g, &g, &ep);
      run_case(seed, &rng, label, 6, n, 33, &high, &g, &ep);
      ep.bias = NULL;
      run_case(seed, &rng, label, 9, n, 40, &g, &g, &ep);
    }
  /* Sub-normal accumulations meet ReLU: -0 must become +0. */
  pal_epilogue_t relu;
  pal_epilogue_initialize(&relu);
  relu.act = PAL_ACT_RELU;
  gen_t low = {.scale = SCALE_LOW};
  run_case(seed, &rng, "relu on underflowing sums", 12, 40, 96, &low, &low, &relu);
}

/* Gaussian data through the encoder, as the runtime produces it. */
static void test_encoded_data(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 5);
  size_t m = 24, n = 70, k = 150;
  float *xa = malloc(m * k * sizeof(float)), *xw = malloc(n * k * sizeof(float));
  assert_non_null(xa);
  assert_non_null(xw);
  for (size_t i = 0; i < m * k; i++) {
    float v = (float)pal_test_rng_gauss(&rng);
    xa[i] = v > 0 ? v : 0.0f; /* post-ReLU activations: half zero */
  }
  for (size_t i = 0; i < n * k; i++) xw[i] = (float)(pal_test_rng_gauss(&rng) * 0.05);
  pal_b32_matrix_t a, w;
  assert_true(pal_status_is_ok(pal_b32_matrix_create(m, k, &a)));
  assert_true(pal_status_is_ok(pal_b32_matrix_create(n, k, &w)));
  pal_b32_matrix_encode(xa, k, &a);
  pal_b32_matrix_encode(xw, k, &w);
  check_all(seed, "encoded gaussian", &a, &w, NULL, 0);
  pal_b32_matrix_release(&a);
  pal_b32_matrix_release(&w);
  free(xa);
  free(xw);
}

static void test_options(void **state) {
  (void)state;
  pal_gemm_options_t opt;
  memset(&opt, 0x5A, sizeof opt);
  pal_gemm_options_initialize(&opt);
  assert_int_equal(opt.threads, 0);
  assert_int_equal(opt.isa, PAL_CPU_ISA_AUTO);
  assert_string_equal(pal_cpu_isa_name(PAL_CPU_ISA_PORTABLE), "portable");
  assert_string_equal(pal_cpu_isa_name(PAL_CPU_ISA_AVX2), "avx2");
  pal_cpu_isa_t best = pal_gemm_best_isa();
  assert_int_equal(best, __builtin_cpu_supports("avx2") ? PAL_CPU_ISA_AVX2 : PAL_CPU_ISA_PORTABLE);

  /* Default options (AUTO, one thread per CPU), NULL options and NULL
   * nar count all give the reference result. */
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 6);
  pal_b32_matrix_t a, w;
  gen_matrix(&rng, 11, 90, &dense, &a);
  gen_matrix(&rng, 37, 90, &dense, &w);
  float *ref = alloc_out(11, 37), *out = alloc_out(11, 37);
  size_t at = 0;
  pal_gemm_ref(&a, &w, NULL, ref, 37);
  assert_true(pal_status_is_ok(pal_gemm(&a, &w, NULL, &opt, out, 37, NULL)));
  assert_true(outputs_equal(ref, out, 11, 37, &at));
  memset(out, 0, 11 * 37 * sizeof(float));
  assert_true(pal_status_is_ok(pal_gemm(&a, &w, NULL, NULL, out, 37, NULL)));
  assert_true(outputs_equal(ref, out, 11, 37, &at));
  free(ref);
  free(out);
  pal_b32_matrix_release(&a);
  pal_b32_matrix_release(&w);

  /* K = 0 with no code storage at all: the outputs are the epilogue alone. */
  pal_b32_matrix_t a0 = {.rows = 3}, w0 = {.rows = 5};
  float bias[5] = {1.0f, -2.0f, NAN, 1e-40f, 3.5f};
  pal_epilogue_t ep;
  pal_epilogue_initialize(&ep);
  ep.bias = bias;
  ep.act = PAL_ACT_RELU;
  float ref0[15], out0[15];
  size_t nref = pal_gemm_ref(&a0, &w0, &ep, ref0, 5), nar = 0;
  assert_true(pal_status_is_ok(pal_gemm(&a0, &w0, &ep, NULL, out0, 5, &nar)));
  assert_true(outputs_equal(ref0, out0, 3, 5, &at));
  assert_int_equal(nar, nref);
  assert_int_equal(nar, 3);
}

/* A failing call returns a status with a message and leaves out alone. */
static void expect_failure(const char *what, const pal_b32_matrix_t *a, const pal_b32_matrix_t *w,
                           const pal_epilogue_t *ep, const pal_gemm_options_t *opt, float *out,
                           size_t ldo, size_t out_floats, pal_status_code_t code) {
  for (size_t i = 0; i < out_floats; i++) memcpy(&out[i], &(uint32_t){SENTINEL}, sizeof(float));
  pal_status_t st = pal_gemm(a, w, ep, opt, out, ldo, NULL);
  if (pal_status_is_ok(st)) fail_msg("%s: pal_gemm accepted it", what);
  if (pal_status_code(st) != code)
    fail_msg("%s: code %s, expected %s (%s)", what, pal_status_code_name(pal_status_code(st)),
             pal_status_code_name(code), pal_status_message(st));
  assert_true(strlen(pal_status_message(st)) > 10);
  assert_non_null(strstr(pal_status_message(st), "pal_gemm"));
  pal_status_free(st);
  for (size_t i = 0; i < out_floats; i++)
    if (f2u(out[i]) != SENTINEL) fail_msg("%s: out[%zu] was written", what, i);
}

static void test_errors(void **state) {
  (void)state;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, pal_test_seed() + 7);
  pal_b32_matrix_t a, w, w2;
  gen_matrix(&rng, 4, 40, &dense, &a);
  gen_matrix(&rng, 6, 40, &dense, &w);
  gen_matrix(&rng, 6, 41, &dense, &w2);
  float out[64];
  pal_gemm_options_t opt;
  pal_gemm_options_initialize(&opt);
  pal_epilogue_t ep;
  pal_epilogue_initialize(&ep);

  expect_failure("mismatched K", &a, &w2, NULL, NULL, out, 6, 64, PAL_INVALID_ARGUMENT);
  expect_failure("ldo < N", &a, &w, NULL, NULL, out, 5, 64, PAL_INVALID_ARGUMENT);
  expect_failure("NULL activations", NULL, &w, NULL, NULL, out, 6, 64, PAL_INVALID_ARGUMENT);
  expect_failure("NULL weights", &a, NULL, NULL, NULL, out, 6, 64, PAL_INVALID_ARGUMENT);
  pal_status_t st = pal_gemm(&a, &w, NULL, NULL, NULL, 6, NULL);
  assert_int_equal(pal_status_code(st), PAL_INVALID_ARGUMENT);
  pal_status_free(st);

  pal_b32_matrix_t bad = a;
  bad.codes = NULL;
  expect_failure("NULL codes", &bad, &w, NULL, NULL, out, 6, 64, PAL_INVALID_ARGUMENT);
  bad = w;
  bad.scales = NULL;
  expect_failure("NULL scales", &a, &bad, NULL, NULL, out, 6, 64, PAL_INVALID_ARGUMENT);
  bad = a;
  bad.kblocks = 1;
  expect_failure("kblocks inconsistent with cols", &bad, &w, NULL, NULL, out, 6, 64,
                 PAL_INVALID_ARGUMENT);

  opt.threads = -1;
  expect_failure("negative threads", &a, &w, NULL, &opt, out, 6, 64, PAL_INVALID_ARGUMENT);
  pal_gemm_options_initialize(&opt);
  opt.isa = (pal_cpu_isa_t)42;
  expect_failure("unknown ISA", &a, &w, NULL, &opt, out, 6, 64, PAL_INVALID_ARGUMENT);
  if (pal_gemm_best_isa() != PAL_CPU_ISA_AVX2) {
    opt.isa = PAL_CPU_ISA_AVX2;
    expect_failure("AVX2 on a CPU without it", &a, &w, NULL, &opt, out, 6, 64, PAL_UNAVAILABLE);
  }
  ep.act = (pal_activation_t)9;
  expect_failure("unknown activation", &a, &w, &ep, NULL, out, 6, 64, PAL_INVALID_ARGUMENT);
  pal_epilogue_initialize(&ep);
  ep.bias_mode = (pal_bias_mode_t)7;
  expect_failure("unknown bias mode", &a, &w, &ep, NULL, out, 6, 64, PAL_INVALID_ARGUMENT);

  /* Empty outputs are fine and write nothing. */
  pal_b32_matrix_t none = a;
  none.rows = 0;
  size_t nar = 99;
  assert_true(pal_status_is_ok(pal_gemm(&none, &w, NULL, NULL, NULL, 6, &nar)));
  assert_int_equal(nar, 0);

  pal_b32_matrix_release(&a);
  pal_b32_matrix_release(&w);
  pal_b32_matrix_release(&w2);
}

static int setup(void **state) {
  (void)state;
  spec_tables_init();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_spec_table),
      cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_sparsity),
      cmocka_unit_test(test_nar),
      cmocka_unit_test(test_extreme_exponents),
      cmocka_unit_test(test_epilogues),
      cmocka_unit_test(test_encoded_data),
      cmocka_unit_test(test_options),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests_name("gemm", tests, setup, NULL);
}
