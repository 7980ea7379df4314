/* Bad programs on the RTL tile (docs/isa.md §3) against the emulator: the
 * same error code and err_pc, one cycle for the faulting instruction, and
 * nothing written: a whole-memory snapshot of the RTL before and after is
 * equal, and after a valid prefix every memory of the RTL equals the
 * emulator's. Every case of tests/tile/tile_error_cases.h, the neighbours
 * just inside each limit, PC_RANGE (running off IMEM, START_PC past it),
 * zero-filled IMEM, and the control side (reset, start while busy, cycle
 * limits, counters across runs). */
#include "sim_test_util.h"
#include "tile_error_cases.h"

static void snapshot_unchanged(uint64_t seed, pal_tile_device_t *dev, const tt_snapshot_t *before,
                               const char *label) {
  tt_snapshot_t after;
  tt_snapshot_take(seed, dev, &after);
  char diff[200];
  PAL_TEST_CHECK(seed, !tt_snapshot_diff(before, &after, diff, sizeof diff), "%s changed %s", label, diff);
  tt_snapshot_release(&after);
}

static void test_each_error_writes_nothing(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 1000);
  st_pair_t pair;
  st_pair_create(seed, 4, 4, &pair);
  st_randomize(seed, &rng, &pair);
  pal_tile_device_t *rtl = pair.dev[ST_RTL];
  for (size_t i = 0; i < N_CASES; i++) {
    const bad_case_t *c = &kCases[i];
    char prog[512];
    snprintf(prog, sizeof prog, "%s%s\nend\n", kPrefix, c->line);
    st_load_asm(seed, &pair, prog);

    /* started at the bad instruction: nothing at all changes */
    TT_OK(seed, pal_tile_device_write_reg(rtl, PAL_TILE_REG_START_PC, PREFIX_LEN));
    tt_snapshot_t before;
    tt_snapshot_take(seed, rtl, &before);
    pal_tile_status_t st = st_run(seed, &pair, PREFIX_LEN, c->line);
    snapshot_unchanged(seed, rtl, &before, c->line);
    tt_snapshot_release(&before);
    PAL_TEST_CHECK(seed, st.error == c->error && st.err_pc == PREFIX_LEN && !st.busy && !st.done,
                   "'%s': error %s at pc %u, want %s at %d", c->line, pal_tile_error_name(st.error),
                   st.err_pc, pal_tile_error_name(c->error), PREFIX_LEN);
    pal_tile_counters_t ctr = tt_counters(seed, rtl);
    PAL_TEST_CHECK(seed, ctr.value[PAL_TILE_CTR_CYC_TOTAL] == 1 && ctr.value[PAL_TILE_CTR_CYC_BUSY] == 0,
                   "'%s': a faulting instruction costs 1 cycle, took %llu", c->line,
                   (unsigned long long)ctr.value[PAL_TILE_CTR_CYC_TOTAL]);
    uint32_t status;
    TT_OK(seed, pal_tile_device_read_reg(rtl, PAL_TILE_REG_STATUS, &status));
    PAL_TEST_CHECK(seed, status == ((uint32_t)PREFIX_LEN << 16 | c->error << 8), "'%s': STATUS = 0x%08x",
                   c->line, status);

    /* from 0: the prefix runs, the bad instruction stops the tile, every
     * memory equal to the emulator's */
    st = st_run(seed, &pair, 0, c->line);
    PAL_TEST_CHECK(seed, st.error == c->error && st.err_pc == PREFIX_LEN, "'%s' after the prefix: %s at %u",
                   c->line, pal_tile_error_name(st.error), st.err_pc);
    if (i % 4 == 0) st_check_snapshots(seed, &pair, true, c->line);
    else {
      st_check_region(seed, &pair, PAL_TILE_REGION_ACC, 0, 100, 3 * 32, c->line);
      st_check_region(seed, &pair, PAL_TILE_REGION_ABUF_CODES, 0, 300 * 32, 3 * 32, c->line);
      st_check_region(seed, &pair, PAL_TILE_REGION_ABUF_SCALES, 0, 300, 3, c->line);
    }

    /* the neighbour inside the limit runs, the same on both */
    if (c->ok_line) {
      snprintf(prog, sizeof prog, "%s\nend\n", c->ok_line);
      st_load_asm(seed, &pair, prog);
      st = st_run(seed, &pair, 0, c->ok_line);
      PAL_TEST_CHECK(seed, st.done && !st.error, "'%s' must run, stopped with %s", c->ok_line,
                     pal_tile_error_name(st.error));
    }
  }
  st_check_snapshots(seed, &pair, true, "after every case");
  st_pair_destroy(&pair);
}

static void test_zero_memory_traps(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  st_pair_t pair;
  st_pair_create(seed, 4, 4, &pair);
  pal_tile_status_t st = st_run(seed, &pair, 17, "empty IMEM");
  PAL_TEST_CHECK(seed, st.error == PAL_TILE_ERR_ILLEGAL_OPCODE && st.err_pc == 17,
                 "empty IMEM: %s at %u", pal_tile_error_name(st.error), st.err_pc);
  st_pair_destroy(&pair);
}

/* PC_RANGE: running off the end of IMEM (256 instructions), starting past
 * it; END at the last slot is fine. */
static void test_pc_range(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  st_pair_t pair;
  st_pair_create(seed, 4, 4, &pair);
  const uint32_t depth = pair.dev[0]->config.imem_depth;
  char *prog = malloc(16 * depth);
  size_t len = 0;
  for (uint32_t i = 0; i < depth; i++)
    len += (size_t)sprintf(prog + len, i == 200 ? "setr reg=clip_lo value=2\n" : "sync\n");
  st_load_asm(seed, &pair, prog);
  pal_tile_status_t st = st_run(seed, &pair, depth - 60, "off the end");
  PAL_TEST_CHECK(seed, st.error == PAL_TILE_ERR_PC_RANGE && st.err_pc == depth && !st.done && !st.busy,
                 "ran off the end: %s at %u", pal_tile_error_name(st.error), st.err_pc);
  pal_tile_counters_t ctr = tt_counters(seed, pair.dev[ST_RTL]);
  PAL_TEST_CHECK(seed, ctr.value[PAL_TILE_CTR_CYC_TOTAL] == 60 + 1, "60 instructions + the failed fetch: %llu",
                 (unsigned long long)ctr.value[PAL_TILE_CTR_CYC_TOTAL]);
  uint32_t v;
  TT_OK(seed, pal_tile_device_read_reg(pair.dev[ST_RTL], PAL_TILE_REG_CLIP_LO, &v));
  PAL_TEST_CHECK(seed, v == 0x40000000u, "earlier SETR kept");
  st = st_run(seed, &pair, 0xFFFF, "start at 65535");
  PAL_TEST_CHECK(seed, st.error == PAL_TILE_ERR_PC_RANGE && st.err_pc == 0xFFFF, "start at 65535: %s at %u",
                 pal_tile_error_name(st.error), st.err_pc);
  st = st_run(seed, &pair, depth, "start at IMEM_DEPTH");
  PAL_TEST_CHECK(seed, st.error == PAL_TILE_ERR_PC_RANGE && st.err_pc == depth, "start at %u: %s at %u",
                 depth, pal_tile_error_name(st.error), st.err_pc);
  uint32_t end_words[4] = {PAL_ISA_OP_END << PAL_ISA_OPCODE_LSB, 0, 0, 0};
  for (int d = 0; d < 2; d++)
    TT_OK(seed, pal_tile_device_load_program(pair.dev[d], depth - 1, end_words, 4));
  st = st_run(seed, &pair, depth - 5, "END at IMEM_DEPTH - 1");
  PAL_TEST_CHECK(seed, st.done && !st.error, "END at IMEM_DEPTH - 1");
  free(prog);
  st_pair_destroy(&pair);
}

/* CONTROL: a cycle limit leaves the tile busy; start while busy is
 * refused; waiting finishes the same run (counters equal to an unlimited
 * run); counters accumulate across runs until CONTROL.reset, which clears
 * them and STATUS; reset + start in one write; reset stops a running tile
 * and a later program still matches the emulator. */
static void test_cycle_limit_and_control(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 7);
  st_pair_t pair;
  st_pair_create(seed, 4, 4, &pair);
  st_randomize(seed, &rng, &pair);
  pal_tile_device_t *rtl = pair.dev[ST_RTL];
  const char *prog = "gemm a=0 as=4 m=8 k=4 w=0 nt=2 acc=0 init=zero\n"
                     "sync\n"
                     "post acc=0 n=32 m=8 out=0 os=32\n"
                     "end\n";
  st_load_asm(seed, &pair, prog);
  pal_tile_status_t st = st_run(seed, &pair, 0, "reference run");
  pal_tile_counters_t full = tt_counters(seed, rtl);
  PAL_TEST_CHECK(seed, st.done, "reference run");

  TT_OK(seed, pal_tile_device_write_reg(rtl, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET));
  pal_status_t s = pal_tile_device_run(rtl, 0, 10, &st);
  PAL_TEST_CHECK(seed, pal_status_code(s) == PAL_DEADLINE_EXCEEDED && st.busy && !st.done,
                 "limit of 10 cycles: %s", pal_status_message(s));
  pal_status_free(s);
  s = pal_tile_device_write_reg(rtl, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_START);
  PAL_TEST_CHECK(seed, pal_status_code(s) == PAL_FAILED_PRECONDITION, "start while busy");
  pal_status_free(s);
  uint8_t byte;
  s = pal_tile_device_read(rtl, PAL_TILE_REGION_OBUF, 0, 0, 1, &byte);
  PAL_TEST_CHECK(seed, pal_status_code(s) == PAL_FAILED_PRECONDITION, "memory while busy: %s",
                 pal_status_message(s));
  pal_status_free(s);
  int waits = 0;
  for (;;) {
    s = pal_tile_device_wait(rtl, 7);
    if (!s) break;
    PAL_TEST_CHECK(seed, pal_status_code(s) == PAL_DEADLINE_EXCEEDED, "wait: %s", pal_status_message(s));
    pal_status_free(s);
    waits++;
  }
  TT_OK(seed, pal_tile_device_read_status(rtl, &st));
  pal_tile_counters_t stepped = tt_counters(seed, rtl);
  PAL_TEST_CHECK(seed, st.done && waits > 10 && !memcmp(&full, &stepped, sizeof full),
                 "stepped run differs (waits %d)", waits);

  /* counters accumulate across runs until CONTROL.reset */
  TT_OK(seed, pal_tile_device_run(rtl, 0, PAL_TILE_NO_CYCLE_LIMIT, &st));
  pal_tile_counters_t twice = tt_counters(seed, rtl);
  for (int c = 0; c < PAL_TILE_CTR_COUNT; c++)
    PAL_TEST_CHECK(seed, twice.value[c] == 2 * full.value[c], "counter %s after two runs",
                   pal_tile_counter_name((uint32_t)c));
  TT_OK(seed, pal_tile_device_write_reg(rtl, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET));
  uint32_t v;
  TT_OK(seed, pal_tile_device_read_reg(rtl, PAL_TILE_REG_STATUS, &v));
  pal_tile_counters_t zero = tt_counters(seed, rtl);
  PAL_TEST_CHECK(seed, v == 0, "STATUS after reset: %08x", v);
  for (int c = 0; c < PAL_TILE_CTR_COUNT; c++)
    PAL_TEST_CHECK(seed, zero.value[c] == 0, "counter %s after reset", pal_tile_counter_name((uint32_t)c));

  /* reset stops a running tile: STATUS and counters clear, the tile idles */
  TT_OK(seed, pal_tile_device_write_reg(rtl, PAL_TILE_REG_START_PC, 0));
  TT_OK(seed, pal_tile_device_write_reg(rtl, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_START));
  TT_OK(seed, pal_sim_run(pair.sim, 40));
  TT_OK(seed, pal_tile_device_write_reg(rtl, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET));
  TT_OK(seed, pal_tile_device_read_reg(rtl, PAL_TILE_REG_STATUS, &v));
  TT_OK(seed, pal_sim_run(pair.sim, 50));
  zero = tt_counters(seed, rtl);
  PAL_TEST_CHECK(seed, v == 0 && !pal_sim_busy(pair.sim) && zero.value[PAL_TILE_CTR_CYC_TOTAL] == 0,
                 "reset of a running tile: STATUS %08x, busy %d, CYC_TOTAL %llu", v,
                 pal_sim_busy(pair.sim), (unsigned long long)zero.value[PAL_TILE_CTR_CYC_TOTAL]);
  /* reset + start in one write runs the program afresh; the GEMM redoes
   * the ACC rows the stopped run may have left half written */
  TT_OK(seed, pal_tile_device_write_reg(pair.dev[ST_EMU], PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET));
  for (int d = 0; d < 2; d++) {
    TT_OK(seed, pal_tile_device_write_reg(pair.dev[d], PAL_TILE_REG_START_PC, 0));
    TT_OK(seed, pal_tile_device_write_reg(pair.dev[d], PAL_TILE_REG_CONTROL,
                                          PAL_TILE_CONTROL_RESET | PAL_TILE_CONTROL_START));
    TT_OK(seed, pal_tile_device_wait(pair.dev[d], PAL_TILE_NO_CYCLE_LIMIT));
  }
  st_check_same_state(seed, &pair, "reset + start");
  st_check_region(seed, &pair, PAL_TILE_REGION_ACC, 0, 0, 8 * 32, "reset + start");
  st_check_region(seed, &pair, PAL_TILE_REGION_OBUF, 0, 0, 8 * 32, "reset + start");

  /* an error clears on the next start */
  st_load_asm(seed, &pair, ".inst 0 0 0 0\nend\n");
  st = st_run(seed, &pair, 0, "error run");
  PAL_TEST_CHECK(seed, st.error == PAL_TILE_ERR_ILLEGAL_OPCODE, "error run");
  TT_OK(seed, pal_tile_device_run(rtl, 1, PAL_TILE_NO_CYCLE_LIMIT, &st));
  PAL_TEST_CHECK(seed, st.done && st.error == 0 && st.err_pc == 0, "start clears the error");
  st_pair_destroy(&pair);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_error_writes_nothing),
      cmocka_unit_test(test_zero_memory_traps),
      cmocka_unit_test(test_pc_range),
      cmocka_unit_test(test_cycle_limit_and_control),
  };
  return cmocka_run_group_tests_name("sim_errors", tests, NULL, NULL);
}
