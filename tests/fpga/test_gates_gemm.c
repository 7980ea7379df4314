/* make check-gates: a board top as make bitstream synthesises it (the same
 * Yosys run writes the netlist back as Verilog, simulated with the family's
 * cell models from Yosys' share folder: ice40/cells_sim.v for the
 * iCEBreaker, ecp5/cells_sim.v for the OrangeCrab, with
 * tests/fpga/mult18x18d_sim.v for the DSPs Yosys has no model of; the PLL
 * is a wire) computes one small GEMM (+ POST where the board's tile has a
 * POST unit; the iCEBreaker's has none, nor accumulate units, so its raw
 * block sums are folded on the host, docs/isa.md §1) through its UART
 * pins bit for bit like the golden model (pal_gemm_ref), counter for
 * counter like the emulator. The host side is the real driver: link
 * protocol, framing, CRCs, over bit-accurate 8N1 on the RX/TX pins at the
 * board's bit time (tests/fpga/gates_model.cpp); on a board with the
 * control core (the OrangeCrab) launches, waits, status and counters go
 * through the firmware in the netlist's block RAM. The same program built
 * on the RTL top (GATES_RTL) checks the harness itself. */
#include "conformance_suite.h"
#include "pal/protocol.h"
#include "pal/soc.h"
#include "pal_soc_debug.h"

static void test_gates_uart_gemm(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 71;
  const char *uri = GATES_NAME;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);

  pal_soc_options_t so;
  pal_soc_options_initialize(&so);
  so.board = GATES_NAME; /* the program's one model (gates_model.cpp) */
  so.attach = PAL_SOC_ATTACH_UART;
  so.clocks_per_bit = GATES_HOST_CYCLES_PER_BIT;
  so.cycles_per_ms = GATES_HOST_CYCLES_PER_MS;
  so.seed = seed | 1;
  pal_soc_t *soc = NULL;
  DOK(seed, uri, pal_soc_create(&so, &soc));
  pal_transport_t t;
  DOK(seed, uri, pal_soc_transport(soc, uri, &t));
  pal_device_options_t o;
  pal_device_options_initialize(&o);
  o.timeout_ms = 2000; /* model time: the transport counts cycles */
  pal_device_t *d = NULL;
  /* wire time per byte: 10 bits at the board's bit time */
  DOK(seed, uri,
      pal_device_open_transport(uri, t, 10u * GATES_HOST_CYCLES_PER_BIT * 1000000u / GATES_HOST_CYCLES_PER_MS,
                                &o, &d));

  pal_device_info_t info;
  DOK(seed, uri, pal_device_info(d, &info));
  pal_tile_config_t want;
  pal_tile_config_initialize(&want, GATES_ROWS, GATES_COLS);
  PAL_TEST_CHECK(seed, info.link.tile.rows == want.rows && info.link.tile.cols == want.cols,
                 "%s: INFO says %ux%u, the board build is %ux%u", uri, info.link.tile.rows,
                 info.link.tile.cols, want.rows, want.cols);
  PAL_TEST_CHECK(seed, info.link.max_payload == GATES_MAX_PAYLOAD, "%s: INFO max_payload %u", uri,
                 info.link.max_payload);
  /* the host side's idea of the board clock (constraints/boards.mk) is the top's */
  PAL_TEST_CHECK(seed,
                 info.link.clock_hz == (uint32_t)GATES_HOST_CYCLES_PER_MS * 1000u * GATES_CLOCKS_PER_HOST_CYCLE,
                 "%s: INFO clock %u Hz, the harness assumes %u", uri, (unsigned)info.link.clock_hz,
                 (unsigned)GATES_HOST_CYCLES_PER_MS * 1000u * GATES_CLOCKS_PER_HOST_CYCLE);
  PAL_TEST_CHECK(seed, info.firmware == (GATES_FIRMWARE != 0) && pal_device_uses_firmware(d) == (GATES_FIRMWARE != 0),
                 "%s: INFO firmware %d, the board build has the control core: %d", uri, info.firmware,
                 GATES_FIRMWARE);
  /* the geometry's other fields (depths) come from the board: check them
   * against what the tile reports rather than the 4x4 defaults */
  want = info.link.tile;
  uint32_t v;
  DOK(seed, uri, pal_device_write_reg(d, PAL_TILE_REG_START_PC, 0xBEEFu));
  DOK(seed, uri, pal_device_read_reg(d, PAL_TILE_REG_START_PC, &v));
  PAL_TEST_CHECK(seed, v == 0xBEEFu, "%s: START_PC reads 0x%08x", uri, v);
  /* CLIP_HI keeps what is written, except on a tile without a POST unit,
   * where it reads as 0 (docs/isa.md §1) */
  DOK(seed, uri, pal_device_write_reg(d, PAL_TILE_REG_CLIP_HI, 0x40490FDBu));
  DOK(seed, uri, pal_device_read_reg(d, PAL_TILE_REG_CLIP_HI, &v));
  PAL_TEST_CHECK(seed, v == (want.no_post ? 0u : 0x40490FDBu), "%s: CLIP_HI reads 0x%08x", uri, v);

  const uint32_t P = GATES_ROWS * GATES_COLS;
  gemm_job_t j;
  job_make(seed, &rng, P, &j);
  job_fit(seed, &want, &j); /* the iCEBreaker's tile: no POST, no accumulate units */
  job_load(seed, d, uri, &j, P);
  DOK(seed, uri, pal_device_reset(d));
  pal_tile_status_t st;
  DOK(seed, uri, pal_device_run(d, 0, 10000, &st));
  PAL_TEST_CHECK(seed, st.done && !st.busy && st.error == 0, "%s: kernel stopped with %s", uri,
                 pal_tile_error_name(st.error));
  size_t nar = 0;
  check_outputs(seed, d, uri, &j, P, &nar);
  pal_tile_counters_t c, ref = reference_counters(seed, &want, &j);
  DOK(seed, uri, pal_device_read_counters(d, &c));
  for (int k = 0; k < PAL_TILE_CTR_COUNT; k++)
    PAL_TEST_CHECK(seed, c.value[k] == ref.value[k], "%s: counter %s = %llu, emulator %llu", uri,
                   pal_tile_counter_name((uint32_t)k), (unsigned long long)c.value[k],
                   (unsigned long long)ref.value[k]);
  printf("%s: %ux%u GEMM M=%u N=%u K=%u%s over the UART%s: outputs and %d counters match, "
         "%llu host cycles (%llu board clocks)\n",
         uri, GATES_ROWS, GATES_COLS, (unsigned)j.M, (unsigned)j.N, (unsigned)j.K,
         j.no_accu ? " (no POST or accumulate units: raw block sums folded on the host)"
         : j.no_post ? " (no POST unit: ACC checked)" : " + POST",
         GATES_FIRMWARE ? ", through the firmware" : "", PAL_TILE_CTR_COUNT,
         (unsigned long long)pal_soc_cycle(soc),
         (unsigned long long)GATES_CLOCKS_PER_HOST_CYCLE * (unsigned long long)pal_soc_cycle(soc));
  job_release(&j);
  pal_device_close(d); /* closes the transport; the SoC is ours */
  pal_soc_destroy(soc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gates_uart_gemm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
