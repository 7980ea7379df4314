/* The driver conformance suite (one function, conformance(), written
 * against pal_device_t only), shared by every test program that runs it
 * on some device URI: tests/driver/test_driver_conformance.c (emu://,
 * serial:// and sim+tcp:// to the test server and to palsim's emu device)
 * and tests/palsim/test_conformance_sim.c (sim://, palsim's rtl device
 * over TCP and over a pty through the UART). It checks INFO, registers,
 * every memory region, then loads a GEMM + POST + END program
 * (pal_isa_encode), writes the operands, runs it, and compares ACC and
 * OBUF with pal_gemm_ref bit for bit and every performance counter with
 * the emulator driven directly. Include it once, from the test's .c; its
 * helpers (job_make, check_outputs, ...) may also be used on their own,
 * hence static inline (no warning for the ones a program leaves unused). */
#ifndef CONFORMANCE_SUITE_H
#define CONFORMANCE_SUITE_H

#include "pal_test.h"

#include "pal/driver.h"
#include "pal/format.h"
#include "tile_test_util.h"

#define DOK(seed, uri, expr)                                                                   \
  do {                                                                                         \
    pal_status_t dok_st_ = (expr);                                                             \
    if (dok_st_) PAL_TEST_FAIL(seed, "%s: %s failed: %s", uri, #expr, pal_status_message(dok_st_)); \
  } while (0)

static inline void expect_error(uint64_t seed, const char *uri, pal_status_t st, pal_status_code_t code,
                         const char *what) {
  PAL_TEST_CHECK(seed, st && pal_status_code(st) == code && strstr(pal_status_message(st), uri),
                 "%s: %s: expected %s naming the URI, got %s: %s", uri, what,
                 pal_status_code_name(code), pal_status_code_name(pal_status_code(st)),
                 pal_status_message(st));
  pal_status_free(st);
}

static inline void random_bytes(pal_test_rng_t *rng, uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)pal_test_rng_u32(rng);
}

static inline void check_registers(uint64_t seed, pal_device_t *d, const char *uri,
                            const pal_tile_config_t *cfg) {
  uint32_t v;
  DOK(seed, uri, pal_device_read_reg(d, PAL_TILE_REG_ID, &v));
  PAL_TEST_CHECK(seed, v == PAL_TILE_ID_VALUE, "%s: ID = 0x%08x", uri, v);
  DOK(seed, uri, pal_device_read_reg(d, PAL_TILE_REG_ISA_VERSION, &v));
  PAL_TEST_CHECK(seed, v == PAL_ISA_VERSION, "%s: ISA_VERSION = %u", uri, v);
  DOK(seed, uri, pal_device_read_reg(d, PAL_TILE_REG_GEOMETRY, &v));
  PAL_TEST_CHECK(seed,
                 v == (cfg->rows | cfg->cols << 8 | cfg->acc_units << 16 |
                       (cfg->no_post ? PAL_TILE_GEOMETRY_NO_POST : 0) | (cfg->no_accu ? PAL_TILE_GEOMETRY_NO_ACCU : 0)),
                 "%s: GEOMETRY = 0x%08x", uri, v);
  /* the nine ID registers in one read */
  uint8_t ids[36];
  DOK(seed, uri, pal_device_read(d, PAL_ADDR_TILE_REGS, ids, sizeof ids));
  PAL_TEST_CHECK(seed, ids[0x0C] == (cfg->imem_depth & 0xFF) && ids[0x20] == (cfg->obuf_depth & 0xFF),
                 "%s: ID block read differs", uri);
  const uint32_t rw[] = {PAL_TILE_REG_START_PC, PAL_TILE_REG_CLIP_LO, PAL_TILE_REG_CLIP_HI};
  const uint32_t val[] = {0x1234, 0xBF800000u, 0x40490FDBu};
  for (int i = 0; i < 3; i++) {
    DOK(seed, uri, pal_device_write_reg(d, rw[i], val[i]));
    DOK(seed, uri, pal_device_read_reg(d, rw[i], &v));
    /* the clip bounds go with POST: 0 without it (docs/isa.md §1) */
    uint32_t want = i > 0 && cfg->no_post ? 0u : val[i];
    PAL_TEST_CHECK(seed, v == want, "%s: %s reads 0x%08x after writing 0x%08x", uri,
                   pal_tile_reg_name(rw[i]), v, val[i]);
  }
  DOK(seed, uri, pal_device_write_reg(d, PAL_TILE_REG_START_PC, 0));
  DOK(seed, uri, pal_device_read_reg(d, PAL_TILE_REG_CONTROL, &v));
  PAL_TEST_CHECK(seed, v == 0, "%s: CONTROL reads 0x%08x", uri, v);
  expect_error(seed, uri, pal_device_write_reg(d, PAL_TILE_REG_ID, 1), PAL_OUT_OF_RANGE, "write to ID");
  expect_error(seed, uri, pal_device_write_reg(d, PAL_TILE_REG_START_PC, 0x10000),
               PAL_FAILED_PRECONDITION, "START_PC = 2^16");
  expect_error(seed, uri, pal_device_read_reg(d, 0x3C, &v), PAL_OUT_OF_RANGE, "read of a hole");
  uint8_t b[8];
  expect_error(seed, uri, pal_device_read(d, 0x04000000u, b, 4), PAL_OUT_OF_RANGE, "unmapped read");
  expect_error(seed, uri, pal_device_read(d, PAL_ADDR_OBUF + 1, b, 4), PAL_OUT_OF_RANGE, "misaligned read");
}

/* Every region (every PE's for WMEM, sampled): random data in, same data out. */
static inline void check_memories(uint64_t seed, pal_test_rng_t *rng, pal_device_t *d, const char *uri,
                           const pal_tile_config_t *cfg) {
  uint32_t P = pal_tile_config_pes(cfg);
  for (int r = 0; r < PAL_TILE_REGION_COUNT; r++) {
    pal_tile_region_t region = (pal_tile_region_t)r;
    size_t len = (size_t)pal_tile_region_length(cfg, region);
    size_t bytes = len * pal_tile_region_element_size(region);
    uint8_t *in = malloc(bytes), *out = malloc(bytes);
    uint32_t pes[3] = {0, P / 2, P - 1};
    int npe = pal_tile_region_is_per_pe(region) ? 3 : 1;
    for (int k = 0; k < npe; k++) {
      random_bytes(rng, in, bytes);
      if (region == PAL_TILE_REGION_ACC_NAR)
        for (size_t i = 0; i < bytes; i++) in[i] &= 1;
      DOK(seed, uri, pal_device_write_region(d, region, pes[k], 0, len, in));
      memset(out, 0xEE, bytes);
      DOK(seed, uri, pal_device_read_region(d, region, pes[k], 0, len, out));
      PAL_TEST_CHECK(seed, !memcmp(in, out, bytes), "%s: %s of PE %u does not read back", uri,
                     pal_tile_region_name(region), pes[k]);
    }
    /* one element past the end: refused before anything is sent */
    expect_error(seed, uri, pal_device_write_region(d, region, 0, len, 1, in), PAL_OUT_OF_RANGE,
                 "write past a region");
    free(in);
    free(out);
  }
  uint8_t two = 2;
  expect_error(seed, uri, pal_device_write_region(d, PAL_TILE_REGION_ACC_NAR, 0, 0, 1, &two),
               PAL_FAILED_PRECONDITION, "NaR flag 2");
  expect_error(seed, uri, pal_device_write_region(d, PAL_TILE_REGION_WMEM_CODES, P, 0, 1, &two),
               PAL_OUT_OF_RANGE, "PE P");
}

/* The operands and program of one GEMM + POST + END. */
typedef struct gemm_job {
  size_t M, N, K, kb, nt;
  pal_b32_matrix_t A, W;
  float *bias;
  uint32_t prog[12];
  bool no_post; /* job_drop_post: GEMM + END, for a tile without a POST unit */
  bool no_accu; /* job_drop_accu: the GEMM starts at 0 and leaves raw block sums */
} gemm_job_t;

static inline void job_make(uint64_t seed, pal_test_rng_t *rng, uint32_t P, gemm_job_t *j) {
  j->M = 3, j->N = P + 4, j->K = 96;
  j->no_post = false;
  j->no_accu = false;
  j->kb = (j->K + 31) / 32, j->nt = (j->N + P - 1) / P;
  tt_gen_t ga = {0.3, 0.1, 0.0, 0.0}, gw = {0.2, 0.0, 0.002, 0.0};
  tt_random_matrix(seed, rng, j->M, j->K, &ga, &j->A);
  tt_random_matrix(seed, rng, j->N, j->K, &gw, &j->W);
  j->bias = malloc(j->nt * P * sizeof *j->bias);
  for (size_t i = 0; i < j->nt * P; i++) j->bias[i] = (float)pal_test_rng_gauss(rng);
  pal_isa_instr_t g, p, e;
  pal_isa_instr_initialize(&g, PAL_ISA_OP_GEMM);
  g.init = PAL_ISA_INIT_BIAS, g.n_tiles = (uint32_t)j->nt, g.a_stride = (uint32_t)j->kb;
  g.a_base = 0, g.k_blocks = (uint32_t)j->kb, g.m_count = (uint32_t)j->M, g.acc_base = 0;
  g.w_base = 0, g.bias_base = 0;
  pal_isa_instr_initialize(&p, PAL_ISA_OP_POST);
  p.out_fmt = PAL_ISA_OUT_FP32, p.act = PAL_ISA_ACT_RELU, p.n_count = (uint32_t)j->N;
  p.acc_base = 0, p.m_count = (uint32_t)j->M, p.out_stride = (uint32_t)j->N, p.out_base = 0;
  pal_isa_instr_initialize(&e, PAL_ISA_OP_END);
  TT_OK(seed, pal_isa_encode(&g, j->prog));
  TT_OK(seed, pal_isa_encode(&p, j->prog + 4));
  TT_OK(seed, pal_isa_encode(&e, j->prog + 8));
}

/* For a tile without a POST unit (docs/isa.md §1): the program becomes
 * GEMM + END (+ END, never reached), and check_outputs checks ACC only. */
static inline void job_drop_post(uint64_t seed, gemm_job_t *j) {
  pal_isa_instr_t e;
  pal_isa_instr_initialize(&e, PAL_ISA_OP_END);
  TT_OK(seed, pal_isa_encode(&e, j->prog + 4));
  j->no_post = true;
}

/* For a tile without accumulate units (docs/isa.md §1; after
 * job_drop_post): the GEMM starts at 0 (init BIAS is a bad field there),
 * and check_outputs folds the raw block sums it leaves in ACC on the host,
 * from the bias, as the compiler does. */
static inline void job_drop_accu(uint64_t seed, gemm_job_t *j) {
  pal_isa_instr_t g;
  TT_OK(seed, pal_isa_decode(j->prog, &g));
  g.init = PAL_ISA_INIT_ZERO;
  TT_OK(seed, pal_isa_encode(&g, j->prog));
  j->no_accu = true;
  /* one all-zero activation block (m 1, block 1): the walk skips it and
   * writes no word there, so the fold must leave that word out (it holds
   * what was there before: random data after check_memories) */
  memset(j->A.codes + (1 * j->kb + 1) * PAL_B32_BLOCK, 0, PAL_B32_BLOCK);
}

/* A device's tile without POST or accumulate units gets the job trimmed to
 * what it has. */
static inline void job_fit(uint64_t seed, const pal_tile_config_t *cfg, gemm_job_t *j) {
  if (cfg->no_post) job_drop_post(seed, j);
  if (cfg->no_accu) job_drop_accu(seed, j);
}

static inline void job_release(gemm_job_t *j) {
  pal_b32_matrix_release(&j->A);
  pal_b32_matrix_release(&j->W);
  free(j->bias);
}

/* Writes the job through pal_device_t: activations row by row, weights PE
 * by PE (column n = t*P + p in PE p), the bias, the program. */
static inline void job_load(uint64_t seed, pal_device_t *d, const char *uri, const gemm_job_t *j, uint32_t P) {
  DOK(seed, uri, pal_device_write_region(d, PAL_TILE_REGION_ABUF_CODES, 0, 0, j->M * j->kb * 32, j->A.codes));
  DOK(seed, uri, pal_device_write_region(d, PAL_TILE_REGION_ABUF_SCALES, 0, 0, j->M * j->kb, j->A.scales));
  uint8_t *codes = calloc(j->nt * j->kb * 32, 1), *scales = calloc(j->nt * j->kb, 1);
  for (uint32_t pe = 0; pe < P; pe++) {
    memset(codes, 0, j->nt * j->kb * 32);
    memset(scales, 0, j->nt * j->kb);
    for (size_t t = 0; t < j->nt; t++) {
      size_t n = t * P + pe;
      if (n >= j->N) continue;
      memcpy(codes + t * j->kb * 32, j->W.codes + n * j->kb * 32, j->kb * 32);
      memcpy(scales + t * j->kb, j->W.scales + n * j->kb, j->kb);
    }
    DOK(seed, uri, pal_device_write_region(d, PAL_TILE_REGION_WMEM_CODES, pe, 0, j->nt * j->kb * 32, codes));
    DOK(seed, uri, pal_device_write_region(d, PAL_TILE_REGION_WMEM_SCALES, pe, 0, j->nt * j->kb, scales));
  }
  free(codes);
  free(scales);
  uint32_t *bits = malloc(j->nt * P * sizeof *bits);
  for (size_t i = 0; i < j->nt * P; i++) bits[i] = tt_f2u(j->bias[i]);
  DOK(seed, uri, pal_device_write_region(d, PAL_TILE_REGION_BIAS, 0, 0, j->nt * P, bits));
  free(bits);
  DOK(seed, uri, pal_device_load_program(d, 0, j->prog, 12));
}

/* The same job on an emulator driven directly: the counters to expect. */
static inline pal_tile_counters_t reference_counters(uint64_t seed, const pal_tile_config_t *cfg,
                                              const gemm_job_t *j) {
  pal_emu_t *emu;
  TT_OK(seed, pal_emu_create(cfg, &emu));
  pal_tile_device_t *dev = pal_emu_device(emu);
  tt_write_act(seed, dev, &j->A, 0, (uint32_t)j->kb);
  tt_write_weights(seed, dev, &j->W, 0);
  tt_write_bias(seed, dev, j->bias, j->nt * pal_tile_config_pes(cfg), 0);
  TT_OK(seed, pal_tile_device_load_program(dev, 0, j->prog, 12));
  tt_run(seed, dev, 0);
  pal_tile_counters_t c = tt_counters(seed, dev);
  pal_emu_destroy(emu);
  return c;
}

static inline bool job_block_has(const uint8_t *codes, uint8_t code, bool any_nonzero) {
  for (size_t i = 0; i < PAL_B32_BLOCK; i++)
    if (any_nonzero ? codes[i] != 0 : codes[i] == code) return true;
  return false;
}

/* A tile without accumulate units (job_drop_accu): the raw block words of
 * the blocks the walk visits, at (kb*M + m)*nt*P + n, folded on the host in
 * K order from pal_fp32_start(bias) (pal_tile_raw_add), equal the golden
 * model's sums bit for bit. A block is visited where its activation block
 * has a non-zero (or NaR) code or scale 255, or a weight block of the
 * N-tile is NaR. */
static inline void check_raw_sums(uint64_t seed, pal_device_t *d, const char *uri, const gemm_job_t *j,
                                  uint32_t P, const float *ref) {
  size_t row_words = j->nt * P, plane = j->M * row_words, words = j->kb * plane;
  uint32_t *raw = malloc(words * sizeof *raw);
  uint8_t *raw_nar = malloc(words);
  DOK(seed, uri, pal_device_read_region(d, PAL_TILE_REGION_ACC, 0, 0, words, raw));
  DOK(seed, uri, pal_device_read_region(d, PAL_TILE_REGION_ACC_NAR, 0, 0, words, raw_nar));
  for (size_t m = 0; m < j->M; m++)
    for (size_t n = 0; n < j->N; n++) {
      size_t t = n / P;
      bool nar = false;
      float acc = pal_fp32_start(j->bias[n], &nar);
      for (size_t kb = 0; kb < j->kb; kb++) {
        bool visit = j->A.scales[m * j->kb + kb] == PAL_SCALE_NAR ||
                     job_block_has(j->A.codes + (m * j->kb + kb) * PAL_B32_BLOCK, 0, true);
        for (size_t c = t * P; c < (t + 1) * P && c < j->N; c++)
          visit |= j->W.scales[c * j->kb + kb] == PAL_SCALE_NAR ||
                   job_block_has(j->W.codes + (c * j->kb + kb) * PAL_B32_BLOCK, PAL_CODE8_NAR, false);
        size_t at = kb * plane + m * row_words + n;
        if (visit) acc = pal_tile_raw_add(acc, raw[at], raw_nar[at] != 0, &nar);
      }
      PAL_TEST_CHECK(seed, tt_same(acc, nar, ref[m * j->N + n]),
                     "%s: m=%zu n=%zu: the raw block sums fold to %08x nar %d, pal_gemm_ref %08x", uri, m, n,
                     tt_f2u(acc), nar, tt_f2u(ref[m * j->N + n]));
    }
  free(raw);
  free(raw_nar);
}

static inline void check_outputs(uint64_t seed, pal_device_t *d, const char *uri, const gemm_job_t *j,
                          uint32_t P, size_t *out_nar) {
  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  epi.bias = j->bias, epi.bias_mode = PAL_BIAS_START;
  float *ref = malloc(j->M * j->N * sizeof *ref);
  pal_gemm_ref(&j->A, &j->W, &epi, ref, j->N);
  if (j->no_accu) {
    check_raw_sums(seed, d, uri, j, P, ref);
    epi.act = PAL_ACT_RELU;
    *out_nar = pal_gemm_ref(&j->A, &j->W, &epi, ref, j->N);
    free(ref);
    return;
  }
  size_t acc_n = j->M * j->nt * P;
  uint32_t *acc = malloc(acc_n * sizeof *acc), *obuf = malloc(j->M * j->N * sizeof *obuf);
  uint8_t *nar = malloc(acc_n);
  DOK(seed, uri, pal_device_read_region(d, PAL_TILE_REGION_ACC, 0, 0, acc_n, acc));
  DOK(seed, uri, pal_device_read_region(d, PAL_TILE_REGION_ACC_NAR, 0, 0, acc_n, nar));
  for (size_t m = 0; m < j->M; m++)
    for (size_t n = 0; n < j->N; n++) {
      size_t i = m * j->nt * P + n;
      PAL_TEST_CHECK(seed, tt_same(tt_u2f(acc[i]), nar[i] != 0, ref[m * j->N + n]),
                     "%s: ACC m=%zu n=%zu: %08x nar %u, pal_gemm_ref %08x", uri, m, n, acc[i],
                     nar[i], tt_f2u(ref[m * j->N + n]));
    }
  epi.act = PAL_ACT_RELU;
  *out_nar = pal_gemm_ref(&j->A, &j->W, &epi, ref, j->N);
  if (!j->no_post) DOK(seed, uri, pal_device_read_region(d, PAL_TILE_REGION_OBUF, 0, 0, j->M * j->N, obuf));
  for (size_t i = 0; i < j->M * j->N && !j->no_post; i++) {
    uint32_t want = isnan(ref[i]) ? PAL_TILE_FP32_NAR : tt_f2u(ref[i]);
    PAL_TEST_CHECK(seed, obuf[i] == want, "%s: OBUF %zu: %08x, pal_gemm_ref %08x", uri, i, obuf[i], want);
  }
  free(ref);
  free(acc);
  free(obuf);
  free(nar);
}

/* The suite on a device whose tile is *want (a board's configuration:
 * its own depths); conformance() below for the default depths. */
static inline void conformance_config(uint64_t seed, const char *uri, const pal_device_options_t *options,
                                      const pal_tile_config_t *want, bool protocol) {
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  pal_device_t *d = NULL;
  DOK(seed, uri, pal_device_open(uri, options, &d));

  /* INFO */
  pal_device_info_t info;
  DOK(seed, uri, pal_device_info(d, &info));
  const pal_tile_config_t *t = &info.link.tile;
  PAL_TEST_CHECK(seed, !memcmp(t, want, sizeof *want),
                 "%s: INFO %ux%u, depths %u %u %u %u %u %u; expected %ux%u, %u %u %u %u %u %u", uri,
                 t->rows, t->cols, t->imem_depth, t->abuf_blocks, t->wmem_blocks, t->acc_depth,
                 t->bias_depth, t->obuf_depth, want->rows, want->cols, want->imem_depth,
                 want->abuf_blocks, want->wmem_blocks, want->acc_depth, want->bias_depth,
                 want->obuf_depth);
  PAL_TEST_CHECK(seed, info.protocol == protocol && info.link.protocol_version == 1 &&
                           info.link.isa_version == PAL_ISA_VERSION && !strcmp(info.uri, uri),
                 "%s: INFO protocol %d version %u isa %u", uri, info.protocol,
                 info.link.protocol_version, info.link.isa_version);
  PAL_TEST_CHECK(seed, !strcmp(pal_device_uri(d), uri), "%s: pal_device_uri", uri);
  const pal_tile_config_t *cfg = &info.link.tile;
  uint32_t P = pal_tile_config_pes(cfg);

  check_registers(seed, d, uri, cfg);
  check_memories(seed, &rng, d, uri, cfg);

  /* GEMM + POST + END, bit for bit */
  gemm_job_t j;
  job_make(seed, &rng, P, &j);
  job_fit(seed, cfg, &j);
  job_load(seed, d, uri, &j, P);
  pal_link_counters_t l0, l1;
  /* a device without link counters (INFO flag NO_LINK_COUNTERS) says so */
  bool link_ctrs = protocol && !(info.link.flags & PAL_PROTO_FLAG_NO_LINK_COUNTERS);
  if (link_ctrs) DOK(seed, uri, pal_device_read_link_counters(d, &l0));
  DOK(seed, uri, pal_device_reset(d));
  pal_tile_status_t st;
  DOK(seed, uri, pal_device_run(d, 0, 10000, &st));
  PAL_TEST_CHECK(seed, st.done && !st.busy && st.error == 0, "%s: kernel stopped with %s at pc %u",
                 uri, pal_tile_error_name(st.error), st.err_pc);
  size_t nar_ref = 0;
  check_outputs(seed, d, uri, &j, P, &nar_ref);
  pal_tile_counters_t c, ref = reference_counters(seed, cfg, &j);
  DOK(seed, uri, pal_device_read_counters(d, &c));
  for (int k = 0; k < PAL_TILE_CTR_COUNT; k++)
    PAL_TEST_CHECK(seed, c.value[k] == ref.value[k], "%s: counter %s = %llu, emulator %llu", uri,
                   pal_tile_counter_name((uint32_t)k), (unsigned long long)c.value[k],
                   (unsigned long long)ref.value[k]);
  /* (POST counts NaR outputs: without it, none) */
  size_t nar_posted = j.no_post ? 0 : nar_ref;
  PAL_TEST_CHECK(seed, c.value[PAL_TILE_CTR_NAR_OUTPUTS] == nar_posted && st.nar == (nar_posted != 0),
                 "%s: NaR outputs %llu, reference %zu", uri,
                 (unsigned long long)c.value[PAL_TILE_CTR_NAR_OUTPUTS], nar_posted);
  PAL_TEST_CHECK(seed, c.value[PAL_TILE_CTR_MACS_ISSUED] > 0, "%s: no MACs counted", uri);
  if (link_ctrs) {
    DOK(seed, uri, pal_device_read_link_counters(d, &l1));
    PAL_TEST_CHECK(seed, l1.value[PAL_LINK_CTR_KERNEL_STARTS] - l0.value[PAL_LINK_CTR_KERNEL_STARTS] == 1,
                   "%s: %u kernel starts for one run", uri,
                   l1.value[PAL_LINK_CTR_KERNEL_STARTS] - l0.value[PAL_LINK_CTR_KERNEL_STARTS]);
  } else {
    expect_error(seed, uri, pal_device_read_link_counters(d, &l1), PAL_UNIMPLEMENTED, "link counters");
  }

  /* The same kernel through the device's tile view (tile-level code on any
   * device): counters accumulate, outputs stay the same. */
  pal_tile_device_t *view = pal_device_tile(d);
  PAL_TEST_CHECK(seed, view->config.rows == want->rows, "%s: tile view geometry", uri);
  pal_tile_status_t vs;
  DOK(seed, uri, pal_tile_device_run(view, 0, PAL_TILE_NO_CYCLE_LIMIT, &vs));
  PAL_TEST_CHECK(seed, vs.done && vs.error == 0, "%s: tile view run", uri);
  check_outputs(seed, d, uri, &j, P, &nar_ref);
  DOK(seed, uri, pal_device_read_counters(d, &c));
  PAL_TEST_CHECK(seed, c.value[PAL_TILE_CTR_CYC_TOTAL] == 2 * ref.value[PAL_TILE_CTR_CYC_TOTAL],
                 "%s: CYC_TOTAL after two runs %llu", uri, (unsigned long long)c.value[PAL_TILE_CTR_CYC_TOTAL]);

  /* A kernel that stops with an error is reported in STATUS, not as a failure. */
  uint32_t zeros[4] = {0, 0, 0, 0};
  DOK(seed, uri, pal_device_load_program(d, 10, zeros, 4));
  DOK(seed, uri, pal_device_run(d, 10, 10000, &st));
  PAL_TEST_CHECK(seed, st.done == false && st.error == PAL_TILE_ERR_ILLEGAL_OPCODE && st.err_pc == 10,
                 "%s: illegal opcode gave error %u at pc %u", uri, st.error, st.err_pc);
  DOK(seed, uri, pal_device_reset(d));
  DOK(seed, uri, pal_device_read_counters(d, &c));
  DOK(seed, uri, pal_device_read_status(d, &st));
  PAL_TEST_CHECK(seed, c.value[PAL_TILE_CTR_CYC_TOTAL] == 0 && !st.done && st.error == 0,
                 "%s: reset left CYC_TOTAL %llu, STATUS error %u", uri,
                 (unsigned long long)c.value[PAL_TILE_CTR_CYC_TOTAL], st.error);
  DOK(seed, uri, pal_device_resync(d));

  if (protocol) {
    pal_link_stats_t s;
    pal_device_link_stats(d, &s);
    PAL_TEST_CHECK(seed, s.failures == 0 && s.data_written > 0 && s.tx_bytes > s.data_written,
                   "%s: link stats failures %llu", uri, (unsigned long long)s.failures);
  }
  job_release(&j);
  pal_device_close(d);
}

static inline void conformance(uint64_t seed, const char *uri, const pal_device_options_t *options,
                               uint32_t rows, uint32_t cols, bool protocol) {
  pal_tile_config_t want;
  pal_tile_config_initialize(&want, rows, cols);
  conformance_config(seed, uri, options, &want, protocol);
}

#endif /* CONFORMANCE_SUITE_H */
