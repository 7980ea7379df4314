/* The RTL tile's bus port, registers and memories, and the timing contract
 * (docs/isa.md §4) on the RTL: hand-computed cycle counts, and random GEMM
 * programs against an independent transcription of the §4 model
 * (tests/tile/tile_timing_model.h, from the operands alone) and against the
 * emulator, counter by counter, on 4x4 and 8x8. */
#include "sim_test_util.h"
#include "tile_timing_model.h"

/* ---- registers and memories ------------------------------------------------ */

static void test_registers(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  for (uint32_t g = 4; g <= 8; g += 4) {
    pal_sim_options_t so;
    pal_sim_options_initialize(&so);
    so.rows = so.cols = g, so.seed = seed;
    pal_sim_t *sim;
    TT_OK(seed, pal_sim_create(&so, &sim));
    pal_tile_device_t *dev = pal_sim_device(sim);
    pal_tile_config_t cfg;
    pal_tile_config_initialize(&cfg, g, g);
    uint32_t v;
    static const struct {
      uint32_t off, want;
    } kIds[] = {{PAL_TILE_REG_ID, PAL_TILE_ID_VALUE}, {PAL_TILE_REG_ISA_VERSION, PAL_ISA_VERSION}};
    for (size_t i = 0; i < 2; i++) {
      TT_OK(seed, pal_tile_device_read_reg(dev, kIds[i].off, &v));
      PAL_TEST_CHECK(seed, v == kIds[i].want, "%s = 0x%08x", pal_tile_reg_name(kIds[i].off), v);
    }
    TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_GEOMETRY, &v));
    PAL_TEST_CHECK(seed, v == (g | g << 8 | cfg.acc_units << 16), "GEOMETRY 0x%08x", v);
    TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_ACC_DEPTH, &v));
    PAL_TEST_CHECK(seed, v == cfg.acc_depth, "ACC_DEPTH %u", v);
    /* power-on: START_PC, CLIP_*, STATUS and counters 0 */
    uint32_t regs[] = {PAL_TILE_REG_START_PC, PAL_TILE_REG_CLIP_LO, PAL_TILE_REG_CLIP_HI,
                       PAL_TILE_REG_STATUS};
    for (size_t i = 0; i < 4; i++) {
      TT_OK(seed, pal_tile_device_read_reg(dev, regs[i], &v));
      PAL_TEST_CHECK(seed, v == 0, "%s = 0x%08x after power-on", pal_tile_reg_name(regs[i]), v);
    }
    pal_tile_counters_t c = tt_counters(seed, dev);
    for (int i = 0; i < PAL_TILE_CTR_COUNT; i++)
      PAL_TEST_CHECK(seed, c.value[i] == 0, "%s after power-on", pal_tile_counter_name((uint32_t)i));
    /* read/write registers keep what is written; CONTROL reads 0 */
    TT_OK(seed, pal_tile_device_write_reg(dev, PAL_TILE_REG_START_PC, 0xBEEF));
    TT_OK(seed, pal_tile_device_write_reg(dev, PAL_TILE_REG_CLIP_LO, 0xC0000000u));
    TT_OK(seed, pal_tile_device_write_reg(dev, PAL_TILE_REG_CLIP_HI, 0x7F800000u));
    TT_OK(seed, pal_sim_bus_read(sim, PAL_TILE_REG_START_PC, &v));
    PAL_TEST_CHECK(seed, v == 0xBEEF, "START_PC 0x%x", v);
    TT_OK(seed, pal_sim_bus_read(sim, PAL_TILE_REG_CLIP_LO, &v));
    PAL_TEST_CHECK(seed, v == 0xC0000000u, "CLIP_LO 0x%x", v);
    TT_OK(seed, pal_sim_bus_read(sim, PAL_TILE_REG_CLIP_HI, &v));
    PAL_TEST_CHECK(seed, v == 0x7F800000u, "CLIP_HI 0x%x", v);
    TT_OK(seed, pal_sim_bus_read(sim, PAL_TILE_REG_CONTROL, &v));
    PAL_TEST_CHECK(seed, v == 0, "CONTROL reads 0x%x", v);
    /* offsets with no register read 0 and ignore writes; read-only ones
     * ignore writes */
    uint32_t holes[] = {0x24, 0x3C, 0x54, 0x7C, 0xC8, 0xFC, 0x0FFFFFFC};
    for (size_t i = 0; i < sizeof holes / sizeof holes[0]; i++) {
      TT_OK(seed, pal_sim_bus_write(sim, holes[i], 0xFFFFFFFFu, 0xF));
      TT_OK(seed, pal_sim_bus_read(sim, holes[i], &v));
      PAL_TEST_CHECK(seed, v == 0, "hole 0x%x reads 0x%08x", holes[i], v);
    }
    TT_OK(seed, pal_sim_bus_write(sim, PAL_TILE_REG_ID, 0, 0xF));
    TT_OK(seed, pal_sim_bus_write(sim, PAL_TILE_REG_STATUS, 0xFFFFFFFFu, 0xF));
    TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_ID, &v));
    PAL_TEST_CHECK(seed, v == PAL_TILE_ID_VALUE, "ID after a write: 0x%08x", v);
    TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_STATUS, &v));
    PAL_TEST_CHECK(seed, v == 0, "STATUS after a write: 0x%08x", v);
    /* unmapped regions and past-the-end words read 0 (also far past the
     * end, where the word index's low bits alone would be in range) */
    const uint32_t past[] = {0xA0000000u, 0xF0000000u,
                             pal_sim_region_address(&cfg, PAL_TILE_REGION_OBUF, 0, cfg.obuf_depth),
                             pal_sim_region_address(&cfg, PAL_TILE_REGION_OBUF, 0, 2 * cfg.obuf_depth + 1),
                             pal_sim_region_address(&cfg, PAL_TILE_REGION_ACC, 0, 4 * cfg.acc_depth + 3),
                             pal_sim_region_address(&cfg, PAL_TILE_REGION_WMEM_CODES, g * g, 0)};
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
      TT_OK(seed, pal_sim_bus_write(sim, past[i], 0x12345678u, 0xF));
      TT_OK(seed, pal_sim_bus_read(sim, past[i], &v));
      PAL_TEST_CHECK(seed, v == 0, "0x%08x reads 0x%08x", past[i], v);
    }
    pal_sim_destroy(sim);
  }
}

/* Power-on memories are zero; random data written to every region (every
 * PE, unaligned byte runs) reads back; the emulator holds the same. */
static void test_regions_round_trip(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 11);
  st_pair_t pair;
  st_pair_create(seed, 4, 4, &pair);
  st_check_snapshots(seed, &pair, true, "power-on");
  st_randomize(seed, &rng, &pair);
  uint32_t words[64];
  for (int i = 0; i < 64; i++) words[i] = pal_test_rng_u32(&rng);
  st_write(seed, &pair, PAL_TILE_REGION_IMEM, 0, 37, 64, words);
  /* odd runs of bytes in the byte regions, over word and block edges */
  for (int it = 0; it < 40; it++) {
    pal_tile_region_t reg = (pal_tile_region_t[]){PAL_TILE_REGION_ABUF_CODES, PAL_TILE_REGION_ABUF_SCALES,
                                                  PAL_TILE_REGION_WMEM_CODES,
                                                  PAL_TILE_REGION_WMEM_SCALES}[it % 4];
    uint32_t pe = pal_tile_region_is_per_pe(reg) ? pal_test_rng_below(&rng, pair.P) : 0;
    uint64_t len = pal_tile_region_length(&pair.dev[0]->config, reg);
    uint32_t count = 1 + pal_test_rng_below(&rng, 70);
    uint64_t at = pal_test_rng_below(&rng, (uint32_t)(len - count));
    uint8_t bytes[80];
    for (uint32_t i = 0; i < count; i++) bytes[i] = (uint8_t)pal_test_rng_u32(&rng);
    if (it % 7 == 0) memset(bytes, PAL_CODE8_NAR, count);
    st_write(seed, &pair, reg, pe, at, count, bytes);
    uint8_t back[80];
    TT_OK(seed, pal_tile_device_read(pair.dev[ST_RTL], reg, pe, at, count, back));
    PAL_TEST_CHECK(seed, !memcmp(bytes, back, count), "%s pe %u at %llu: read back differs",
                   pal_tile_region_name(reg), pe, (unsigned long long)at);
  }
  st_check_snapshots(seed, &pair, true, "after writes");
  st_pair_destroy(&pair);
}

/* ---- the timing contract -------------------------------------------------- */

#define CTR(c, name) ((unsigned long long)(c).value[PAL_TILE_CTR_##name])

static void load_row(uint64_t seed, st_pair_t *pair, size_t K, const uint32_t *nz_mask) {
  pal_b32_matrix_t A, W;
  TT_OK(seed, pal_b32_matrix_create(1, K, &A));
  TT_OK(seed, pal_b32_matrix_create(pair->P, K, &W));
  for (size_t k = 0; k < A.kblocks; k++) {
    A.scales[k] = 127;
    for (int i = 0; i < 32; i++)
      if (nz_mask[k] >> i & 1) A.codes[k * 32 + i] = 0x40;
  }
  for (size_t i = 0; i < W.rows * W.kblocks * 32; i++) W.codes[i] = 0xC1;
  memset(W.scales, 120, W.rows * W.kblocks);
  for (int d = 0; d < 2; d++) {
    tt_write_act(seed, pair->dev[d], &A, 0, (uint32_t)A.kblocks);
    tt_write_weights(seed, pair->dev[d], &W, 0);
  }
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
}

static pal_tile_counters_t run_prog(uint64_t seed, st_pair_t *pair, const char *text) {
  st_load_asm(seed, pair, text);
  pal_tile_status_t st = st_run(seed, pair, 0, text);
  PAL_TEST_CHECK(seed, st.done && !st.error, "program stopped with %s:\n%s", pal_tile_error_name(st.error), text);
  return tt_counters(seed, pair->dev[ST_RTL]);
}

/* tests/tile/test_tile_timing.c's hand-computed programs, on the RTL. */
static void test_hand_computed(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  st_pair_t pair;
  st_pair_create(seed, 4, 4, &pair);
  const uint32_t dense[2] = {0xFFFFFFFFu, 0xFFFFFFFFu}, none[2] = {0, 0};
  load_row(seed, &pair, 64, dense);
  pal_tile_counters_t c = run_prog(seed, &pair, "gemm a=0 as=2 m=1 k=2 w=0 nt=1 acc=0\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 79 && CTR(c, CYC_BUSY) == 64 && CTR(c, CYC_STALL) == 4 &&
                           CTR(c, CYC_IDLE) == 11 && CTR(c, MACS_ISSUED) == 1024 && CTR(c, MACS_GATED) == 0,
                 "dense K=64: total %llu busy %llu stall %llu", CTR(c, CYC_TOTAL), CTR(c, CYC_BUSY),
                 CTR(c, CYC_STALL));
  load_row(seed, &pair, 64, none);
  c = run_prog(seed, &pair, "gemm a=0 as=2 m=1 k=2 w=0 nt=1 acc=0\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 11 && CTR(c, CYC_BUSY) == 0 && CTR(c, BLOCKS_SKIPPED) == 2,
                 "zero row: total %llu", CTR(c, CYC_TOTAL));
  const uint32_t sparse[1] = {0x80000401u};
  load_row(seed, &pair, 32, sparse);
  c = run_prog(seed, &pair, "gemm a=0 as=1 m=1 k=1 w=0 nt=1 acc=0\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 18 && CTR(c, CYC_BUSY) == 3 && CTR(c, CYC_STALL) == 4 &&
                           CTR(c, ACT_SKIPPED) == 29,
                 "sparse block: total %llu", CTR(c, CYC_TOTAL));
  const uint32_t two[1] = {0x00000011u};
  load_row(seed, &pair, 32, two);
  c = run_prog(seed, &pair, "gemm a=0 as=0 m=2 k=1 w=0 nt=1 acc=0\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 25 && CTR(c, CYC_BUSY) == 4 && CTR(c, CYC_STALL) == 10,
                 "two rows: total %llu busy %llu stall %llu", CTR(c, CYC_TOTAL), CTR(c, CYC_BUSY),
                 CTR(c, CYC_STALL));
  c = run_prog(seed, &pair, "post acc=0 n=5 m=2 out=0 os=5\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 1 + 2 + 10 + 2 + 1, "post fp32: %llu", CTR(c, CYC_TOTAL));
  c = run_prog(seed, &pair, "post acc=0 n=5 m=2 fmt=pal8 out=100 os=1\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 1 + 2 + 20 + 2 + 1, "post pal8: %llu", CTR(c, CYC_TOTAL));
  c = run_prog(seed, &pair, "setr reg=clip_lo value=1\nsync\nsync\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 4 && CTR(c, CYC_IDLE) == 4, "setr, sync: %llu", CTR(c, CYC_TOTAL));
  /* the first row empty, the second dense: the first row end begins at
   * time 0 with free units, the second row's steps start at 0 too */
  pal_b32_matrix_t A, W;
  TT_OK(seed, pal_b32_matrix_create(2, 32, &A));
  TT_OK(seed, pal_b32_matrix_create(16, 32, &W));
  for (int i = 0; i < 32; i++) A.codes[32 + i] = 0x41;
  A.scales[0] = A.scales[1] = 127;
  memset(W.codes, 0x33, 16 * 32);
  memset(W.scales, 126, 16);
  for (int d = 0; d < 2; d++) {
    tt_write_act(seed, pair.dev[d], &A, 0, 1);
    tt_write_weights(seed, pair.dev[d], &W, 0);
  }
  /* walk: row end 0 at 0 (units till 4); block at 32 (till 36); row end
   * 32 -> 36 (till 40); drain 43. GEMM 46, END 1. */
  c = run_prog(seed, &pair, "gemm a=0 as=1 m=2 k=1 w=0 nt=1 acc=0\nend\n");
  PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) == 47 && CTR(c, CYC_STALL) == 4 && CTR(c, CYC_BUSY) == 32,
                 "empty first row: total %llu stall %llu", CTR(c, CYC_TOTAL), CTR(c, CYC_STALL));
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
  st_pair_destroy(&pair);
}

/* Random GEMM programs against the model and the emulator. */
static void random_against_model(uint32_t g, uint64_t salt, int iterations) {
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + salt);
  st_pair_t pair;
  st_pair_create(seed, g, g, &pair);
  const uint32_t P = pair.P, H = pal_tile_config_pes_per_unit(&pair.dev[0]->config);
  for (int it = 0; it < iterations; it++) {
    size_t M = 1 + pal_test_rng_below(&rng, 6), N = 1 + pal_test_rng_below(&rng, 3 * P),
           K = 1 + pal_test_rng_below(&rng, 256);
    if (it % 9 == 0) M = 1, K = 32 * (1 + pal_test_rng_below(&rng, 8));
    tt_gen_t ga = {pal_test_rng_uniform(&rng), 0.3 * pal_test_rng_uniform(&rng),
                   it % 5 == 1 ? 0.003 : 0.0, it % 5 == 2 ? 0.05 : 0.0};
    tt_gen_t gw = {pal_test_rng_uniform(&rng), 0.2 * pal_test_rng_uniform(&rng),
                   it % 5 == 3 ? 0.001 : 0.0, it % 5 == 4 ? 0.02 : 0.0};
    pal_b32_matrix_t A, W;
    tt_random_matrix(seed, &rng, M, K, &ga, &A);
    tt_random_matrix(seed, &rng, N, K, &gw, &W);
    size_t kb = A.kblocks, nt = (N + P - 1) / P;
    for (int d = 0; d < 2; d++) {
      tt_write_act(seed, pair.dev[d], &A, 0, (uint32_t)kb);
      tt_write_weights(seed, pair.dev[d], &W, 0);
    }
    model_t md = {0};
    model_gemm(&A, &W, P, H, &md);
    model_gemm(&A, &W, P, H, &md);
    md.total += (1 + 2 + M * N + 2) + (1 + 2 + 2 * M * N + 2) + 3;
    char prog[512];
    snprintf(prog, sizeof prog,
             "gemm a=0 as=%zu m=%zu k=%zu w=0 nt=%zu acc=0 init=zero\n"
             "sync\n"
             "gemm a=0 as=%zu m=%zu k=%zu w=0 nt=%zu acc=0 init=acc\n"
             "post acc=0 n=%zu m=%zu out=0 os=%zu\n"
             "post acc=0 n=%zu m=%zu fmt=pal8 out=300 os=%zu\n"
             "setr reg=clip_hi value=3\n"
             "end\n",
             kb, M, kb, nt, kb, M, kb, nt, N, M, N, N, M, (N + 31) / 32);
    char label[128];
    snprintf(label, sizeof label, "%ux%u M=%zu N=%zu K=%zu it %d", g, g, M, N, K, it);
    run_prog(seed, &pair, prog);
    check_counters(seed, pair.dev[ST_RTL], &md, label);
    st_check_region(seed, &pair, PAL_TILE_REGION_ACC, 0, 0, M * nt * P, label);
    st_check_region(seed, &pair, PAL_TILE_REGION_OBUF, 0, 0, M * N, label);
    st_check_region(seed, &pair, PAL_TILE_REGION_ABUF_CODES, 0, 300 * 32, ((N + 31) / 32) * M * 32, label);
    pal_b32_matrix_release(&A);
    pal_b32_matrix_release(&W);
  }
  st_pair_destroy(&pair);
}

static void test_random_against_model_4x4(void **state) {
  (void)state;
  random_against_model(4, 77, 60);
}
static void test_random_against_model_8x8(void **state) {
  (void)state;
  random_against_model(8, 78, 40);
}

/* A run of GEMMs of over 200 000 cycles, so that the busy-time counters
 * pass 2^17 and their upper bits, which pal_tile_ctrs keeps in block RAM
 * and updates on the side, are what the final comparison sees. The RTL is
 * read while it runs, every few thousand cycles: each counter must never
 * go back (a carry not yet added to the upper bits would take 2^LW off)
 * and CYC_TOTAL must grow by at least the cycles waited. (The counter bank
 * also checks every read against a full-width copy in the simulation.)
 * The GEMM: M rows of A (all one row when stride0), K, N, run `passes`
 * times; `low` is 2^LW of the geometry's counter bank. */
static void counters_past_low_bits(uint32_t g, uint64_t seed_off, size_t M, size_t K, size_t N, bool stride0,
                                   int passes, uint64_t low) {
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + seed_off);
  st_pair_t pair;
  st_pair_create(seed, g, g, &pair);
  tt_gen_t ga = {0.3, 0.05, 0.0, 0.0}, gw = {0.1, 0.0, 0.0005, 0.0};
  pal_b32_matrix_t A, W;
  tt_random_matrix(seed, &rng, stride0 ? 1 : M, K, &ga, &A);
  tt_random_matrix(seed, &rng, N, K, &gw, &W);
  size_t kb = A.kblocks, nt = N / pair.P;
  for (int d = 0; d < 2; d++) {
    tt_write_act(seed, pair.dev[d], &A, 0, (uint32_t)kb);
    tt_write_weights(seed, pair.dev[d], &W, 0);
  }
  char prog[4096], gemm[128];
  snprintf(gemm, sizeof gemm, "gemm a=0 as=%zu m=%zu k=%zu w=0 nt=%zu acc=0", stride0 ? (size_t)0 : kb, M, kb,
           nt);
  size_t len = (size_t)snprintf(prog, sizeof prog, "%s init=zero\n", gemm);
  for (int i = 1; i < passes && len < sizeof prog; i++)
    len += (size_t)snprintf(prog + len, sizeof prog - len, "%s init=acc\n", gemm);
  PAL_TEST_CHECK(seed, len + 5 < sizeof prog, "a program of %d passes is too long", passes);
  snprintf(prog + len, sizeof prog - len, "end\n");
  st_load_asm(seed, &pair, prog);
  (void)tt_run(seed, pair.dev[ST_EMU], 0);

  pal_tile_device_t *rtl = pair.dev[ST_RTL];
  TT_OK(seed, pal_tile_device_write_reg(rtl, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET));
  TT_OK(seed, pal_tile_device_write_reg(rtl, PAL_TILE_REG_START_PC, 0));
  TT_OK(seed, pal_tile_device_write_reg(rtl, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_START));
  pal_tile_counters_t last = {0};
  int reads = 0;
  for (;;) {
    uint64_t step = 3000 + pal_test_rng_below(&rng, 2000);
    pal_status_t s = pal_tile_device_wait(rtl, step);
    bool running = s != PAL_STATUS_OK;
    PAL_TEST_CHECK(seed, !running || pal_status_code(s) == PAL_DEADLINE_EXCEEDED, "wait: %s",
                   pal_status_message(s));
    pal_status_free(s);
    pal_tile_counters_t c = tt_counters(seed, rtl);
    for (int i = 0; i < PAL_TILE_CTR_COUNT; i++)
      PAL_TEST_CHECK(seed, c.value[i] >= last.value[i], "read %d while running: %s went from %llu to %llu",
                     reads, pal_tile_counter_name((uint32_t)i), (unsigned long long)last.value[i],
                     (unsigned long long)c.value[i]);
    if (running)
      PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) >= CTR(last, CYC_TOTAL) + step,
                     "read %d: CYC_TOTAL %llu after %llu and %llu cycles", reads, CTR(c, CYC_TOTAL),
                     CTR(last, CYC_TOTAL), (unsigned long long)step);
    last = c;
    reads++;
    if (!running) break;
  }
  pal_tile_status_t st;
  TT_OK(seed, pal_tile_device_read_status(rtl, &st));
  PAL_TEST_CHECK(seed, st.done && !st.error, "long GEMM stopped with %s", pal_tile_error_name(st.error));
  st_check_same_state(seed, &pair, "long GEMM");
  PAL_TEST_CHECK(seed, CTR(last, CYC_BUSY) > 131072 && CTR(last, ACT_SKIPPED) > 65536 &&
                           CTR(last, CYC_TOTAL) > CTR(last, CYC_BUSY),
                 "the GEMM is too short to test the upper bits: busy %llu, act skipped %llu",
                 CTR(last, CYC_BUSY), CTR(last, ACT_SKIPPED));
  PAL_TEST_CHECK(seed, reads > 40, "only %d reads while running", reads);
  st_check_region(seed, &pair, PAL_TILE_REGION_ACC, 0, 0, M * nt * pair.P, "long GEMM");
  /* A carry out of the low bits waits a cycle or more for its service;
   * a read in that window must add it. Runs stopped around CYC_TOTAL =
   * 2^LW, one cycle apart, put a read into it: CYC_TOTAL carries there. */
  for (uint64_t at = low - 16; at < low + 4; at++) {
    TT_OK(seed, pal_tile_device_write_reg(rtl, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET));
    TT_OK(seed, pal_tile_device_write_reg(rtl, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_START));
    pal_status_t s = pal_tile_device_wait(rtl, at);
    PAL_TEST_CHECK(seed, pal_status_code(s) == PAL_DEADLINE_EXCEEDED, "wait %llu: %s", (unsigned long long)at,
                   pal_status_message(s));
    pal_status_free(s);
    pal_tile_counters_t c = tt_counters(seed, rtl);
    PAL_TEST_CHECK(seed, CTR(c, CYC_TOTAL) >= at && CTR(c, CYC_TOTAL) < at + 200,
                   "CYC_TOTAL %llu after %llu cycles", CTR(c, CYC_TOTAL), (unsigned long long)at);
  }
  TT_OK(seed, pal_tile_device_wait(rtl, PAL_TILE_NO_CYCLE_LIMIT));
  /* CONTROL.reset zeroes them again, upper bits included */
  st_load_asm(seed, &pair, "sync\nend\n");
  (void)st_run(seed, &pair, 0, "after the long GEMM");
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
  st_pair_destroy(&pair);
}

/* 4x4, default buffers: three passes of a 16 x 1024 x 128 GEMM (all of
 * ABUF, WMEM and ACC by half); its bank keeps 17 low bits */
static void test_counters_past_low_bits(void **state) {
  (void)state;
  counters_past_low_bits(4, 81, 16, 1024, 8 * 16, false, 3, 1u << 17);
}

/* The iCEBreaker's 2x2 (64 ABUF blocks, 8 WMEM blocks per PE, 256 ACC
 * words, no POST unit), whose bank keeps 13 low bits: one row of A read
 * 64 times (a_stride 0) against one tile of 4 columns, K = 256, thirty-two
 * passes (its buffers hold no longer GEMM) */
static void test_counters_past_low_bits_2x2_board(void **state) {
  (void)state;
  counters_past_low_bits(2, 82, 64, 256, 4, true, 32, 1u << 13);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registers),
      cmocka_unit_test(test_regions_round_trip),
      cmocka_unit_test(test_hand_computed),
      cmocka_unit_test(test_counters_past_low_bits),
      cmocka_unit_test(test_counters_past_low_bits_2x2_board),
      cmocka_unit_test(test_random_against_model_4x4),
      cmocka_unit_test(test_random_against_model_8x8),
  };
  return cmocka_run_group_tests_name("sim_basic", tests, NULL, NULL);
}
