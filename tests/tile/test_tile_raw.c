/* A tile without accumulate units (pal_tile_config_t.no_accu, docs/isa.md
 * §1): the raw block words a GEMM leaves in ACC, checked word by word
 * against the golden model's block sums (pal_b32_block_sum) at the planes
 * the contract names, with every word of a block the walk skips, and every
 * word outside the GEMM's planes, still holding what was there before; the
 * host's accumulation of those words (pal_tile_raw_add) against the FP32
 * sums of the same program on a tile with accumulate units, bit for bit;
 * the same cycles and counters on both; and what such a tile refuses
 * (init other than zero, planes past ACC, the configuration without
 * no_post). The compiler's and the kernel loader's refusals are in
 * tests/compiler/test_compile.c and tests/driver/test_palk.c. */
#include "tile_gemm_case.h"

static void test_word_fields(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  static const int32_t sums[] = {0, 1, -1, (1 << 21) - 1, -(1 << 21), 123456, -654321};
  static const int exps[] = {0, 1, -1, -269, 241, 511, -512, -15};
  for (size_t i = 0; i < sizeof sums / sizeof sums[0]; i++)
    for (size_t j = 0; j < sizeof exps / sizeof exps[0]; j++) {
      uint32_t w = pal_tile_raw_word(sums[i], exps[j]);
      int32_t s;
      int e;
      pal_tile_raw_unpack(w, &s, &e);
      PAL_TEST_CHECK(seed, s == sums[i] && e == exps[j], "word %08x of (%d, %d) unpacks to (%d, %d)", w,
                     sums[i], exps[j], s, e);
      PAL_TEST_CHECK(seed, (w & 0x3FFu) == ((uint32_t)exps[j] & 0x3FFu),
                     "the exponent is the low %u bits", PAL_TILE_RAW_EXP_BITS);
    }
  /* the NaR flag wins over the word, and stays */
  bool nar = false;
  float acc = pal_tile_raw_add(1.5f, pal_tile_raw_word(100, 0), true, &nar);
  PAL_TEST_CHECK(seed, nar && acc == 1.5f, "a flagged word: nar %d acc %g", nar, (double)acc);
  acc = pal_tile_raw_add(acc, pal_tile_raw_word(100, 0), false, &nar);
  PAL_TEST_CHECK(seed, nar, "NaR is sticky");
  /* an unflagged word adds s * 2^e: 3 * 2^-1 */
  nar = false;
  acc = pal_tile_raw_add(1.0f, pal_tile_raw_word(3, -1), false, &nar);
  PAL_TEST_CHECK(seed, !nar && acc == 2.5f, "1 + 3*2^-1 = %g", (double)acc);
}

typedef struct raw_ctx {
  uint32_t rows, cols;
  int cases;
} raw_ctx_t;

static pal_emu_t *make_emu(uint64_t seed, uint32_t rows, uint32_t cols, bool no_accu, uint32_t acc_depth) {
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, rows, cols);
  cfg.no_post = 1;
  cfg.no_accu = no_accu;
  if (acc_depth) cfg.acc_depth = acc_depth;
  pal_emu_t *emu = NULL;
  TT_OK(seed, pal_emu_create(&cfg, &emu));
  return emu;
}

static bool block_has(const uint8_t *codes, uint8_t code, bool any_nonzero) {
  for (int i = 0; i < PAL_B32_BLOCK; i++)
    if (any_nonzero ? codes[i] != 0 : codes[i] == code) return true;
  return false;
}

/* One case on a tile with accumulate units (F) and one without (R), the
 * same data on both: R's GEMM starts at zero and the host applies the bias
 * start, as it would. */
static void run_raw(uint64_t seed, pal_test_rng_t *rng, void *vctx, const gemm_case_t *c0,
                    const char *label) {
  raw_ctx_t *ctx = vctx;
  gemm_case_t c = *c0;
  c.split = false; /* a split K is the host's to continue on R */
  c.post = false, c.bias_post = false;
  pal_emu_t *ef = make_emu(seed, ctx->rows, ctx->cols, false, 0);
  pal_emu_t *er = make_emu(seed, ctx->rows, ctx->cols, true, 0);
  pal_tile_device_t *df = pal_emu_device(ef), *dr = pal_emu_device(er);
  pal_tile_device_t *devs[2] = {df, dr};
  gc_layout_t L;
  gc_prepare(seed, rng, devs, 2, &c, label, &L);
  const size_t P = L.P, kbs = L.kb, nt = L.nt, M = c.M, N = c.N;
  const size_t depth = dr->config.acc_depth;

  /* R's ACC: random words and flags before, so that any write shows */
  uint32_t *before = malloc(depth * sizeof *before), *raw = malloc(depth * sizeof *raw);
  uint8_t *before_nar = malloc(depth), *raw_nar = malloc(depth), *expect = calloc(depth, 1);
  for (size_t i = 0; i < depth; i++) before[i] = pal_test_rng_u32(rng), before_nar[i] = pal_test_rng_u32(rng) & 1;
  TT_OK(seed, pal_tile_device_write(dr, PAL_TILE_REGION_ACC, 0, 0, depth, before));
  TT_OK(seed, pal_tile_device_write(dr, PAL_TILE_REGION_ACC_NAR, 0, 0, depth, before_nar));

  char prog[sizeof L.prog];
  snprintf(prog, sizeof prog, "%s", L.prog);
  char *init = strstr(prog, "init=bias");
  if (init) memcpy(init, "init=zero", 9);
  tt_load_asm(seed, df, L.prog);
  tt_load_asm(seed, dr, prog);
  pal_tile_status_t sf = tt_run(seed, df, 0), sr = tt_run(seed, dr, 0);
  PAL_TEST_CHECK(seed, sf.done && !sf.error && sr.done && !sr.error, "%s: F done %d error %u, R done %d error %u",
                 label, sf.done, sf.error, sr.done, sr.error);
  pal_tile_counters_t cf = tt_counters(seed, df), cr = tt_counters(seed, dr);
  for (int k = 0; k < PAL_TILE_CTR_COUNT; k++)
    if (k != PAL_TILE_CTR_NAR_OUTPUTS) /* POST's, and neither runs one */
      PAL_TEST_CHECK(seed, cf.value[k] == cr.value[k], "%s: counter %s: %llu with accumulate units, %llu without",
                     label, pal_tile_counter_name((pal_tile_counter_t)k), (unsigned long long)cf.value[k],
                     (unsigned long long)cr.value[k]);
  TT_OK(seed, pal_tile_device_read(dr, PAL_TILE_REGION_ACC, 0, 0, depth, raw));
  TT_OK(seed, pal_tile_device_read(dr, PAL_TILE_REGION_ACC_NAR, 0, 0, depth, raw_nar));

  /* the walk's visits, from the operands as drawn: a non-zero or NaR
   * activation code, an activation scale of 255, or a NaR weight block in
   * some PE of the N-tile (columns past N are zero weights) */
  static const uint8_t zeros[PAL_B32_BLOCK];
  bool *visited = calloc(nt * M * kbs, sizeof *visited);
  for (size_t t = 0; t < nt; t++)
    for (size_t kb = 0; kb < kbs; kb++) {
      bool wnar = false;
      for (size_t n = t * P; n < (t + 1) * P && n < N; n++)
        wnar |= L.W.scales[n * kbs + kb] == PAL_SCALE_NAR ||
                block_has(L.W.codes + (n * kbs + kb) * PAL_B32_BLOCK, PAL_CODE8_NAR, false);
      for (size_t m = 0; m < M; m++) {
        const uint8_t *ac = L.A.codes + (m * kbs + kb) * PAL_B32_BLOCK;
        visited[(t * M + m) * kbs + kb] =
            wnar || L.A.scales[m * kbs + kb] == PAL_SCALE_NAR || block_has(ac, 0, true);
      }
    }

  /* each visited block's words, at acc_base + (kb*M + m)*nt*P + t*P + p */
  const size_t row_words = nt * P, plane = M * row_words;
  for (size_t t = 0; t < nt; t++)
    for (size_t m = 0; m < M; m++)
      for (size_t kb = 0; kb < kbs; kb++) {
        if (!visited[(t * M + m) * kbs + kb]) continue;
        const uint8_t *ac = L.A.codes + (m * kbs + kb) * PAL_B32_BLOCK;
        uint8_t xa = L.A.scales[m * kbs + kb];
        for (size_t p = 0; p < P; p++) {
          size_t n = t * P + p, at = L.acc_base + kb * plane + m * row_words + n;
          const uint8_t *wc = n < N ? L.W.codes + (n * kbs + kb) * PAL_B32_BLOCK : zeros;
          uint8_t xw = n < N ? L.W.scales[n * kbs + kb] : 0;
          bool nar = false;
          int32_t s = pal_b32_block_sum(wc, ac, &nar);
          nar |= xa == PAL_SCALE_NAR || xw == PAL_SCALE_NAR;
          uint32_t want = nar ? 0u : pal_tile_raw_word(s, (int)xw + (int)xa - 2 * PAL_SCALE_BIAS - 15);
          PAL_TEST_CHECK(seed, raw[at] == want && raw_nar[at] == nar,
                         "%s: t=%zu m=%zu kb=%zu p=%zu: ACC[%zu] = %08x nar %u, want %08x nar %d", label, t, m,
                         kb, p, at, raw[at], raw_nar[at], want, nar);
          expect[at] = 1;
        }
      }
  for (size_t i = 0; i < depth; i++)
    if (!expect[i])
      PAL_TEST_CHECK(seed, raw[i] == before[i] && raw_nar[i] == before_nar[i],
                     "%s: ACC[%zu] changed (%08x nar %u, was %08x nar %u): no visited block's word", label, i,
                     raw[i], raw_nar[i], before[i], before_nar[i]);

  /* the host's accumulation equals the accumulate units' */
  for (size_t m = 0; m < M; m++)
    for (size_t n = 0; n < N; n++) {
      size_t t = n / P;
      bool nar = false;
      float acc = c.init == PAL_ISA_INIT_BIAS ? pal_fp32_start(L.bias[n], &nar) : 0.0f;
      for (size_t kb = 0; kb < kbs; kb++)
        if (visited[(t * M + m) * kbs + kb]) {
          size_t at = L.acc_base + kb * plane + m * row_words + n;
          acc = pal_tile_raw_add(acc, raw[at], raw_nar[at] != 0, &nar);
        }
      bool fnar;
      float f = tt_read_acc(seed, df, (uint32_t)(L.acc_base + m * row_words + n), &fnar);
      PAL_TEST_CHECK(seed, nar == fnar && (nar || tt_f2u(acc) == tt_f2u(f)),
                     "%s: m=%zu n=%zu: host %08x nar %d, accumulate units %08x nar %d", label, m, n,
                     tt_f2u(acc), nar, tt_f2u(f), fnar);
    }
  free(visited), free(before), free(raw), free(before_nar), free(raw_nar), free(expect);
  gc_release(&L);
  pal_emu_destroy(ef);
  pal_emu_destroy(er);
  ctx->cases++;
}

static void test_raw_against_accumulate_units(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  static const uint32_t geos[][2] = {{2, 2}, {4, 4}, {2, 8}};
  int cases = 0;
  for (size_t g = 0; g < sizeof geos / sizeof geos[0]; g++) {
    raw_ctx_t ctx = {geos[g][0], geos[g][1], 0};
    gc_sweep_shapes(seed, &rng, ctx.rows, ctx.cols, run_raw, &ctx);
    gc_sweep_nar(seed, &rng, ctx.rows, ctx.cols, run_raw, &ctx);
    cases += ctx.cases;
  }
  PAL_TEST_CHECK(seed, cases > 100, "only %d cases ran", cases);
}

static pal_tile_status_t run_text(uint64_t seed, pal_emu_t *emu, const char *text) {
  pal_tile_device_t *dev = pal_emu_device(emu);
  tt_load_asm(seed, dev, text);
  return tt_run(seed, dev, 0);
}

static void test_refusals(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  /* init other than zero: BAD_FIELD, before the loop and range checks */
  static const char *const starts[] = {"init=bias bias=0", "init=acc"};
  for (int i = 0; i < 2; i++) {
    pal_emu_t *r = make_emu(seed, 2, 2, true, 0), *f = make_emu(seed, 2, 2, false, 0);
    char text[160];
    snprintf(text, sizeof text, "gemm a=0 as=1 m=1 k=1 w=0 nt=1 acc=0 %s\nend\n", starts[i]);
    pal_tile_status_t sr = run_text(seed, r, text), sf = run_text(seed, f, text);
    PAL_TEST_CHECK(seed, sr.error == PAL_TILE_ERR_BAD_FIELD && sr.err_pc == 0,
                   "%s without accumulate units: error %s", starts[i], pal_tile_error_name(sr.error));
    PAL_TEST_CHECK(seed, sf.done && !sf.error, "%s with accumulate units: error %s", starts[i],
                   pal_tile_error_name(sf.error));
    snprintf(text, sizeof text, "gemm a=0 as=1 m=0 k=1 w=0 nt=1 acc=0 %s\nend\n", starts[i]);
    sr = run_text(seed, r, text);
    PAL_TEST_CHECK(seed, sr.error == PAL_TILE_ERR_BAD_FIELD, "%s and m=0: %s first", starts[i],
                   pal_tile_error_name(sr.error));
    pal_emu_destroy(r), pal_emu_destroy(f);
  }
  /* ACC holds k_blocks planes of m_count*n_tiles*P words: exactly at the
   * end, and one word past it (2x2, ACC of 64 words) */
  static const struct {
    const char *gemm;
    bool raw_ok, fp32_ok;
  } ranges[] = {
      {"gemm a=0 as=2 m=4 k=2 w=0 nt=2 acc=0 init=zero", true, true},    /* 2*4*8 = 64 */
      {"gemm a=0 as=2 m=4 k=2 w=0 nt=2 acc=1 init=zero", false, true},   /* 65 */
      {"gemm a=0 as=2 m=4 k=2 w=0 nt=4 acc=0 init=zero", false, true},   /* 128; FP32 64 */
      {"gemm a=0 as=1 m=4 k=1 w=0 nt=4 acc=0 init=zero", true, true},    /* 64 */
  };
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    pal_emu_t *r = make_emu(seed, 2, 2, true, 64), *f = make_emu(seed, 2, 2, false, 64);
    char text[160];
    snprintf(text, sizeof text, "%s\nend\n", ranges[i].gemm);
    pal_tile_status_t sr = run_text(seed, r, text), sf = run_text(seed, f, text);
    PAL_TEST_CHECK(seed, ranges[i].raw_ok ? sr.done && !sr.error : sr.error == PAL_TILE_ERR_ADDR_RANGE,
                   "'%s' without accumulate units: error %s", ranges[i].gemm, pal_tile_error_name(sr.error));
    PAL_TEST_CHECK(seed, ranges[i].fp32_ok ? sf.done && !sf.error : sf.error == PAL_TILE_ERR_ADDR_RANGE,
                   "'%s' with accumulate units: error %s", ranges[i].gemm, pal_tile_error_name(sf.error));
    pal_emu_destroy(r), pal_emu_destroy(f);
  }

  /* GEOMETRY says it */
  pal_emu_t *r = make_emu(seed, 2, 2, true, 0), *f = make_emu(seed, 2, 2, false, 0);
  uint32_t gr, gf;
  TT_OK(seed, pal_tile_device_read_reg(pal_emu_device(r), PAL_TILE_REG_GEOMETRY, &gr));
  TT_OK(seed, pal_tile_device_read_reg(pal_emu_device(f), PAL_TILE_REG_GEOMETRY, &gf));
  PAL_TEST_CHECK(seed, (gr & PAL_TILE_GEOMETRY_NO_ACCU) && !(gf & PAL_TILE_GEOMETRY_NO_ACCU) &&
                           (gr & ~PAL_TILE_GEOMETRY_NO_ACCU) == gf,
                 "GEOMETRY 0x%08x without accumulate units, 0x%08x with", gr, gf);

  pal_emu_destroy(r), pal_emu_destroy(f);

  /* the configuration needs no_post */
  pal_status_t st;
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 2, 2);
  cfg.no_accu = 1;
  st = pal_tile_config_validate(&cfg);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "no_accu"), "no_accu without no_post: %s",
                 st ? pal_status_message(st) : "accepted");
  pal_status_free(st);
  cfg.no_post = 1;
  TT_OK(seed, pal_tile_config_validate(&cfg));
  cfg.no_accu = 2;
  st = pal_tile_config_validate(&cfg);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "no_accu"), "no_accu = 2: %s",
                 st ? pal_status_message(st) : "accepted");
  pal_status_free(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_word_fields),
      cmocka_unit_test(test_raw_against_accumulate_units),
      cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests_name("tile_raw", tests, NULL, NULL);
}
