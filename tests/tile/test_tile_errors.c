/* Bad programs (docs/isa.md §3): every error code with STATUS.error and
 * err_pc as documented, the faulting instruction writing nothing (a
 * snapshot of every memory and register before and after), earlier
 * results kept, the range checks exactly at their boundaries, and the
 * control side: cycle limits, start while busy, reset. */
#include "tile_test_util.h"
#include "tile_error_cases.h"

/* Fills every memory with random contents, so that any write shows. */
static void randomize(uint64_t seed, pal_test_rng_t *rng, pal_tile_device_t *dev) {
  uint32_t P = pal_tile_config_pes(&dev->config);
  for (int r = 0; r < PAL_TILE_REGION_COUNT; r++) {
    pal_tile_region_t reg = (pal_tile_region_t)r;
    if (reg == PAL_TILE_REGION_IMEM) continue;
    size_t len = (size_t)pal_tile_region_length(&dev->config, reg);
    size_t es = pal_tile_region_element_size(reg);
    uint8_t *buf = malloc(len * es);
    for (uint32_t pe = 0; pe < (pal_tile_region_is_per_pe(reg) ? P : 1); pe++) {
      for (size_t i = 0; i < len * es; i++) buf[i] = (uint8_t)pal_test_rng_u32(rng);
      if (reg == PAL_TILE_REGION_ACC_NAR)
        for (size_t i = 0; i < len; i++) buf[i] &= 1;
      if (reg == PAL_TILE_REGION_ACC || reg == PAL_TILE_REGION_BIAS) /* finite values */
        for (size_t i = 0; i < len; i++) buf[4 * i + 3] &= 0x3F;
      TT_OK(seed, pal_tile_device_write(dev, reg, pe, 0, len, buf));
    }
    free(buf);
  }
}


static pal_emu_t *fresh(uint64_t seed, uint64_t data_seed) {
  pal_emu_t *emu = tt_emu_create(seed, 4, 4);
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, data_seed);
  randomize(seed, &rng, pal_emu_device(emu));
  return emu;
}

static void test_each_error_writes_nothing(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  for (size_t i = 0; i < N_CASES; i++) {
    const bad_case_t *c = &kCases[i];
    char prog[512];
    /* A: prefix, bad, end.  B: prefix, end, end (same data). */
    pal_emu_t *a = fresh(seed, seed + 1000 + i), *b = fresh(seed, seed + 1000 + i);
    pal_tile_device_t *da = pal_emu_device(a), *db = pal_emu_device(b);
    snprintf(prog, sizeof prog, "%s%s\nend\n", kPrefix, c->line);
    tt_load_asm(seed, da, prog);
    snprintf(prog, sizeof prog, "%send\nend\n", kPrefix);
    tt_load_asm(seed, db, prog);

    /* started at the bad instruction: nothing at all changes */
    TT_OK(seed, pal_tile_device_write_reg(da, PAL_TILE_REG_START_PC, PREFIX_LEN));
    tt_snapshot_t before, after;
    tt_snapshot_take(seed, da, &before);
    pal_tile_status_t st = tt_run(seed, da, PREFIX_LEN);
    tt_snapshot_take(seed, da, &after);
    char diff[160];
    PAL_TEST_CHECK(seed, !tt_snapshot_diff(&before, &after, diff, sizeof diff),
                   "'%s' changed %s", c->line, diff);
    PAL_TEST_CHECK(seed, st.error == c->error && st.err_pc == PREFIX_LEN && !st.busy && !st.done,
                   "'%s': error %s at pc %u (busy %d done %d), want %s at %d", c->line,
                   pal_tile_error_name(st.error), st.err_pc, st.busy, st.done,
                   pal_tile_error_name(c->error), PREFIX_LEN);
    pal_tile_counters_t ctr = tt_counters(seed, da);
    PAL_TEST_CHECK(seed, ctr.value[PAL_TILE_CTR_CYC_TOTAL] == 1 && ctr.value[PAL_TILE_CTR_CYC_BUSY] == 0,
                   "'%s': a faulting instruction costs 1 cycle, took %llu", c->line,
                   (unsigned long long)ctr.value[PAL_TILE_CTR_CYC_TOTAL]);
    uint32_t status;
    TT_OK(seed, pal_tile_device_read_reg(da, PAL_TILE_REG_STATUS, &status));
    PAL_TEST_CHECK(seed, status == ((uint32_t)PREFIX_LEN << 16 | c->error << 8),
                   "'%s': STATUS = 0x%08x", c->line, status);
    tt_snapshot_release(&before);
    tt_snapshot_release(&after);

    /* from 0: the prefix runs, the bad instruction stops the tile; every
     * memory but IMEM equals B's, which ended where A faulted */
    pal_tile_status_t sa = tt_run(seed, da, 0), sb = tt_run(seed, db, 0);
    PAL_TEST_CHECK(seed, sa.error == c->error && sa.err_pc == PREFIX_LEN && sb.done && !sb.error,
                   "'%s' after the prefix: %s at %u", c->line, pal_tile_error_name(sa.error), sa.err_pc);
    tt_snapshot_take(seed, da, &before);
    tt_snapshot_take(seed, db, &after);
    memset(before.region[PAL_TILE_REGION_IMEM], 0, before.bytes[PAL_TILE_REGION_IMEM]);
    memset(after.region[PAL_TILE_REGION_IMEM], 0, after.bytes[PAL_TILE_REGION_IMEM]);
    PAL_TEST_CHECK(seed, !tt_snapshot_diff(&after, &before, diff, sizeof diff),
                   "'%s' after the prefix: %s", c->line, diff);
    pal_tile_counters_t ca = tt_counters(seed, da), cb = tt_counters(seed, db);
    PAL_TEST_CHECK(seed, !memcmp(&ca, &cb, sizeof ca), "'%s': counters differ from the ended run", c->line);
    tt_snapshot_release(&before);
    tt_snapshot_release(&after);

    /* the neighbour inside the limit runs */
    if (c->ok_line) {
      snprintf(prog, sizeof prog, "%s\nend\n", c->ok_line);
      tt_load_asm(seed, db, prog);
      st = tt_run(seed, db, 0);
      PAL_TEST_CHECK(seed, st.done && !st.error, "'%s' must run, stopped with %s", c->ok_line,
                     pal_tile_error_name(st.error));
    }
    pal_emu_destroy(a);
    pal_emu_destroy(b);
  }
}

static void test_zero_memory_traps(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_emu_t *emu = tt_emu_create(seed, 4, 4);
  pal_tile_device_t *dev = pal_emu_device(emu);
  pal_tile_status_t st = tt_run(seed, dev, 17);
  PAL_TEST_CHECK(seed, st.error == PAL_TILE_ERR_ILLEGAL_OPCODE && st.err_pc == 17,
                 "empty IMEM: %s at %u", pal_tile_error_name(st.error), st.err_pc);
  pal_emu_destroy(emu);
}

static void test_pc_range(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 2, 2);
  cfg.imem_depth = 8;
  pal_emu_t *emu;
  TT_OK(seed, pal_emu_create(&cfg, &emu));
  pal_tile_device_t *dev = pal_emu_device(emu);
  tt_load_asm(seed, dev, "sync\nsync\nsync\nsync\nsetr reg=clip_lo value=2\nsync\nsync\nsync\n");
  tt_snapshot_t before, after;
  tt_snapshot_take(seed, dev, &before);
  pal_tile_status_t st = tt_run(seed, dev, 3);
  PAL_TEST_CHECK(seed, st.error == PAL_TILE_ERR_PC_RANGE && st.err_pc == 8 && !st.done && !st.busy,
                 "ran off the end: %s at %u", pal_tile_error_name(st.error), st.err_pc);
  pal_tile_counters_t ctr = tt_counters(seed, dev);
  PAL_TEST_CHECK(seed, ctr.value[PAL_TILE_CTR_CYC_TOTAL] == 5 + 1, "5 instructions + the failed fetch: %llu",
                 (unsigned long long)ctr.value[PAL_TILE_CTR_CYC_TOTAL]);
  uint32_t v;
  TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_CLIP_LO, &v));
  PAL_TEST_CHECK(seed, v == 0x40000000u, "earlier SETR kept");
  tt_snapshot_take(seed, dev, &after);
  before.regs[0] = after.regs[0], before.regs[1] = after.regs[1];
  char diff[160];
  PAL_TEST_CHECK(seed, !tt_snapshot_diff(&before, &after, diff, sizeof diff), "PC_RANGE changed %s", diff);
  tt_snapshot_release(&before);
  tt_snapshot_release(&after);
  /* START_PC past the end */
  st = tt_run(seed, dev, 200);
  PAL_TEST_CHECK(seed, st.error == PAL_TILE_ERR_PC_RANGE && st.err_pc == 200, "start at 200: %s at %u",
                 pal_tile_error_name(st.error), st.err_pc);
  /* the last instruction may be END */
  tt_load_asm(seed, dev, "sync\nsync\nsync\nsync\nsync\nsync\nsync\nend\n");
  st = tt_run(seed, dev, 0);
  PAL_TEST_CHECK(seed, st.done && !st.error, "END at IMEM_DEPTH - 1");
  pal_emu_destroy(emu);
}

/* A tile without a POST unit (docs/isa.md §1): POST is ILLEGAL_OPCODE at
 * its pc, before any field check (a POST with a bad field, or one out of
 * range, gives the same), writes nothing, and GEOMETRY[24] says so; what
 * ran before it stands, and GEMM is the same as on the full tile. */
static void test_no_post_unit(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 2, 2);
  cfg.no_post = 2;
  pal_emu_t *emu = NULL;
  pal_status_t vs = pal_emu_create(&cfg, &emu);
  PAL_TEST_CHECK(seed, vs && strstr(pal_status_message(vs), "no_post"), "no_post = 2 accepted: %s",
                 vs ? pal_status_message(vs) : "OK");
  pal_status_free(vs);
  const char *posts[] = {
      "post acc=0 n=4 m=1 act=0 fmt=0 out=0 os=4\n",              /* legal on a full tile */
      "post acc=0 n=4 m=1 act=0 fmt=0 out=0 os=4\n",                  /* act = 3 below: BAD_FIELD there */
      "post acc=0 n=0 m=1 act=0 fmt=0 out=0 os=4\n",              /* ZERO_LOOP there */
      "post acc=4090 n=4 m=9 act=0 fmt=0 out=0 os=4\n",           /* ADDR_RANGE there */
  };
  for (int full = 0; full < 2; full++) {
    cfg.no_post = full ? 0 : 1;
    TT_OK(seed, pal_emu_create(&cfg, &emu));
    pal_tile_device_t *dev = pal_emu_device(emu);
    pal_test_rng_t rng;
    pal_test_rng_init(&rng, seed + 7);
    randomize(seed, &rng, dev);
    uint32_t geo;
    TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_GEOMETRY, &geo));
    PAL_TEST_CHECK(seed, geo == (2u | 2u << 8 | 1u << 16 | (full ? 0 : PAL_TILE_GEOMETRY_NO_POST)),
                   "GEOMETRY 0x%08x with no_post = %u", geo, cfg.no_post);
    for (size_t i = 0; i < sizeof posts / sizeof posts[0]; i++) {
      char prog[256];
      snprintf(prog, sizeof prog, "setr reg=clip_lo value=3\n%send\n", posts[i]);
      tt_load_asm(seed, dev, prog);
      if (i == 1) { /* act = 3, which the assembler refuses to write */
        uint32_t w0;
        TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_IMEM, 0, PAL_ISA_INSTR_WORDS, 1, &w0));
        w0 |= 3u << 22;
        TT_OK(seed, pal_tile_device_write(dev, PAL_TILE_REGION_IMEM, 0, PAL_ISA_INSTR_WORDS, 1, &w0));
      }
      tt_snapshot_t before, after;
      tt_snapshot_take(seed, dev, &before);
      pal_tile_status_t st = tt_run(seed, dev, 0);
      pal_tile_error_t want = full ? (i == 0 ? PAL_TILE_ERR_NONE
                                             : i == 1 ? PAL_TILE_ERR_BAD_FIELD
                                                      : i == 2 ? PAL_TILE_ERR_ZERO_LOOP : PAL_TILE_ERR_ADDR_RANGE)
                                   : PAL_TILE_ERR_ILLEGAL_OPCODE;
      PAL_TEST_CHECK(seed, st.error == want && (want == PAL_TILE_ERR_NONE ? st.done : st.err_pc == 1),
                     "%s tile, %s: %s at pc %u, expected %s", full ? "full" : "no-POST", posts[i],
                     pal_tile_error_name(st.error), st.err_pc, pal_tile_error_name(want));
      uint32_t v;
      TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_CLIP_LO, &v));
      /* a tile without POST has no clip bounds: CLIP_LO reads 0 (docs/isa.md §1) */
      PAL_TEST_CHECK(seed, v == (full ? tt_f2u(3.0f) : 0u), "the SETR before the POST, %s tile: CLIP_LO 0x%08x",
                     full ? "full" : "no-POST", v);
      if (!full) {
        TT_OK(seed, pal_tile_device_write_reg(dev, PAL_TILE_REG_CLIP_HI, tt_f2u(2.0f)));
        TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_CLIP_HI, &v));
        PAL_TEST_CHECK(seed, v == 0, "no-POST tile: CLIP_HI reads 0x%08x after a write", v);
      }
      if (!full) {
        tt_snapshot_take(seed, dev, &after);
        before.regs[0] = after.regs[0], before.regs[1] = after.regs[1]; /* STATUS, CLIP_LO */
        char diff[160];
        PAL_TEST_CHECK(seed, !tt_snapshot_diff(&before, &after, diff, sizeof diff),
                       "a POST on a tile without one changed %s", diff);
        tt_snapshot_release(&after);
      }
      tt_snapshot_release(&before);
    }
    pal_emu_destroy(emu);
  }
}

static void test_cycle_limit_and_control(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_emu_t *emu = tt_emu_create(seed, 4, 4);
  pal_tile_device_t *dev = pal_emu_device(emu);
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 7);
  randomize(seed, &rng, dev);
  tt_load_asm(seed, dev, "gemm a=0 as=4 m=8 k=4 w=0 nt=2 acc=0 init=zero\n"
                         "sync\n"
                         "post acc=0 n=32 m=8 out=0 os=32\n"
                         "end\n");
  pal_tile_status_t st = tt_run(seed, dev, 0);
  pal_tile_counters_t full = tt_counters(seed, dev);
  PAL_TEST_CHECK(seed, st.done, "reference run");

  TT_OK(seed, pal_tile_device_write_reg(dev, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET));
  pal_status_t s = pal_tile_device_run(dev, 0, 10, &st);
  PAL_TEST_CHECK(seed, pal_status_code(s) == PAL_DEADLINE_EXCEEDED && st.busy && !st.done,
                 "limit of 10 cycles: %s", pal_status_message(s));
  pal_status_free(s);
  s = pal_tile_device_write_reg(dev, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_START);
  PAL_TEST_CHECK(seed, pal_status_code(s) == PAL_FAILED_PRECONDITION, "start while busy");
  pal_status_free(s);
  int waits = 0;
  for (;;) {
    s = pal_tile_device_wait(dev, 1);
    if (!s) break;
    PAL_TEST_CHECK(seed, pal_status_code(s) == PAL_DEADLINE_EXCEEDED, "wait: %s", pal_status_message(s));
    pal_status_free(s);
    waits++;
  }
  TT_OK(seed, pal_tile_device_read_status(dev, &st));
  pal_tile_counters_t stepped = tt_counters(seed, dev);
  PAL_TEST_CHECK(seed, st.done && waits == 2 && !memcmp(&full, &stepped, sizeof full),
                 "stepped run differs (waits %d)", waits);
  /* counters accumulate across runs until CONTROL.reset */
  TT_OK(seed, pal_tile_device_run(dev, 0, PAL_TILE_NO_CYCLE_LIMIT, &st));
  pal_tile_counters_t twice = tt_counters(seed, dev);
  for (int c = 0; c < PAL_TILE_CTR_COUNT; c++)
    PAL_TEST_CHECK(seed, twice.value[c] == 2 * full.value[c], "counter %s after two runs",
                   pal_tile_counter_name((uint32_t)c));
  TT_OK(seed, pal_tile_device_write_reg(dev, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_RESET));
  uint32_t v;
  TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_STATUS, &v));
  pal_tile_counters_t zero = tt_counters(seed, dev);
  PAL_TEST_CHECK(seed, v == 0, "STATUS after reset: %08x", v);
  for (int c = 0; c < PAL_TILE_CTR_COUNT; c++)
    PAL_TEST_CHECK(seed, zero.value[c] == 0, "counter %s after reset", pal_tile_counter_name((uint32_t)c));
  /* an error clears on the next start */
  tt_load_asm(seed, dev, ".inst 0 0 0 0\nend\n");
  st = tt_run(seed, dev, 0);
  PAL_TEST_CHECK(seed, st.error == PAL_TILE_ERR_ILLEGAL_OPCODE, "error run");
  TT_OK(seed, pal_tile_device_run(dev, 1, PAL_TILE_NO_CYCLE_LIMIT, &st));
  PAL_TEST_CHECK(seed, st.done && st.error == 0 && st.err_pc == 0, "start clears the error");
  pal_emu_destroy(emu);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_error_writes_nothing),
      cmocka_unit_test(test_zero_memory_traps),
      cmocka_unit_test(test_pc_range),
      cmocka_unit_test(test_no_post_unit),
      cmocka_unit_test(test_cycle_limit_and_control),
  };
  return cmocka_run_group_tests_name("tile_errors", tests, NULL, NULL);
}
