/* make check-gates: the SoC as Yosys synthesises it for the iCE40
 * (synth_ice40 netlist written with write_verilog, simulated with the
 * iCE40 cell models of Yosys' share folder, ice40/cells_sim.v) computes one
 * small GEMM + POST through its UART pins bit for bit like the golden model
 * (pal_gemm_ref), counter for counter like the emulator. The gate-level
 * model is linked in as the sim:// 4x4 UART variant, so the host side is
 * the real driver: link protocol, framing, CRCs, over bit-accurate UART
 * pins at 4 clocks per bit. */
#include "conformance_suite.h"
#include "pal/protocol.h"
#include "pal/soc.h"

static void test_gates_uart_gemm(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 71;
  /* model time bounds the wait; the wall-clock guard must not fire on a
   * loaded machine for a gate-level model */
  const char *uri = "sim://?attach=uart&timeout_ms=60000";
  assert_null(pal_soc_register_scheme());
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  pal_device_t *d = NULL;
  DOK(seed, uri, pal_device_open(uri, NULL, &d));
  pal_device_info_t info;
  DOK(seed, uri, pal_device_info(d, &info));
  pal_tile_config_t want;
  pal_tile_config_initialize(&want, 4, 4);
  PAL_TEST_CHECK(seed, !memcmp(&info.link.tile, &want, sizeof want),
                 "%s: INFO says %ux%u, the netlist is 4x4", uri, info.link.tile.rows, info.link.tile.cols);
  uint32_t v;
  DOK(seed, uri, pal_device_write_reg(d, PAL_TILE_REG_CLIP_HI, 0x40490FDBu));
  DOK(seed, uri, pal_device_read_reg(d, PAL_TILE_REG_CLIP_HI, &v));
  PAL_TEST_CHECK(seed, v == 0x40490FDBu, "%s: CLIP_HI reads 0x%08x", uri, v);

  gemm_job_t j;
  job_make(seed, &rng, 16, &j);
  job_load(seed, d, uri, &j, 16);
  DOK(seed, uri, pal_device_reset(d));
  pal_tile_status_t st;
  DOK(seed, uri, pal_device_run(d, 0, 10000, &st));
  PAL_TEST_CHECK(seed, st.done && !st.busy && st.error == 0, "%s: kernel stopped with %s", uri,
                 pal_tile_error_name(st.error));
  size_t nar = 0;
  check_outputs(seed, d, uri, &j, 16, &nar);
  pal_tile_counters_t c, ref = reference_counters(seed, &want, &j);
  DOK(seed, uri, pal_device_read_counters(d, &c));
  for (int k = 0; k < PAL_TILE_CTR_COUNT; k++)
    PAL_TEST_CHECK(seed, c.value[k] == ref.value[k], "%s: counter %s = %llu, emulator %llu", uri,
                   pal_tile_counter_name((uint32_t)k), (unsigned long long)c.value[k],
                   (unsigned long long)ref.value[k]);
  job_release(&j);
  pal_device_close(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_gates_uart_gemm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
