/* The conformance suite (conformance_suite.h), run unchanged on every
 * device URI the driver can reach without the Verilated SoC: emu://
 * through the link protocol (two packet sizes), emu:// direct, serial://
 * over a pseudo-terminal and sim+tcp:// to the in-process test server,
 * and sim+tcp:// and serial:// to a real palsim process (its emu device).
 * The same suite on sim:// and palsim's rtl device is
 * tests/palsim/test_conformance_sim.c. */
#include <signal.h>

#include "conformance_suite.h"
#include "link_test_server.h"
#include "palsim_proc.h"

static void test_emu_protocol(void **state) {
  (void)state;
  conformance(pal_test_seed(), "emu://", NULL, 4, 4, true);
}

static void test_emu_protocol_small_packets(void **state) {
  (void)state;
  conformance(pal_test_seed() + 1, "emu://?rows=2&cols=8&max_payload=64", NULL, 2, 8, true);
}

/* a link engine without its counters, as the iCEBreaker's: the suite
 * expects pal_device_read_link_counters to say so */
static void test_emu_no_link_counters(void **state) {
  (void)state;
  conformance(pal_test_seed() + 4, "emu://?linkctrs=0", NULL, 4, 4, true);
}

/* tiles without POST, and without accumulate units either (the
 * iCEBreaker's, whose link engine also keeps no counters): the suite
 * trims its job to GEMM + END and folds the raw block sums on the host */
static void test_emu_reduced_tiles(void **state) {
  (void)state;
  pal_tile_config_t want;
  pal_tile_config_initialize(&want, 4, 4);
  want.no_post = 1;
  conformance_config(pal_test_seed() + 5, "emu://?post=0", NULL, &want, true);
  pal_tile_config_initialize(&want, 2, 2);
  want.no_post = want.no_accu = 1;
  conformance_config(pal_test_seed() + 6, "emu://?post=0&accu=0&linkctrs=0&rows=2&cols=2", NULL, &want, true);
  conformance_config(pal_test_seed() + 7, "emu://?post=0&accu=0&rows=2&cols=2&direct=1", NULL, &want, false);
}

static void test_emu_direct(void **state) {
  (void)state;
  conformance(pal_test_seed() + 2, "emu://?direct=1", NULL, 4, 4, false);
  pal_device_options_t o;
  pal_device_options_initialize(&o);
  o.emu_direct = true;
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 8, 8);
  o.emu_config = &cfg;
  conformance(pal_test_seed() + 3, "emu://", &o, 8, 8, false);
}

static void over_server(uint64_t seed, lts_kind_t kind, uint32_t rows, uint32_t cols, uint32_t max_payload) {
  lts_options_t so;
  lts_options_initialize(&so);
  so.kind = kind;
  so.rows = rows;
  so.cols = cols;
  so.max_payload = max_payload;
  lts_t *srv;
  TT_OK(seed, lts_start(&so, &srv));
  conformance(seed, lts_uri(srv), NULL, rows, cols, true);
  lts_stop(srv);
}

static void test_serial_pty(void **state) {
  (void)state;
  /* 256-byte packets, as on the iCE40 board */
  over_server(pal_test_seed() + 4, LTS_PTY, 4, 4, 256);
}

static void test_sim_tcp(void **state) {
  (void)state;
  over_server(pal_test_seed() + 5, LTS_TCP, 4, 4, 4096);
  over_server(pal_test_seed() + 6, LTS_TCP, 2, 8, 1024);
}

/* palsim started on a free port or a pty; the suite through it; then
 * SIGTERM, which must end it with status 0. */
static void over_palsim(uint64_t seed, const char *const *args, uint32_t rows, uint32_t cols) {
  palsim_proc_t p;
  TT_OK(seed, palsim_proc_start(args, 10000, &p));
  conformance(seed, p.uri, NULL, rows, cols, true);
  int rc = palsim_proc_stop(&p, SIGTERM, 5000);
  PAL_TEST_CHECK(seed, rc == 0, "palsim %s: exit status %d after SIGTERM", p.where, rc);
}

static void test_palsim_emu_tcp(void **state) {
  (void)state;
  const char *a[] = {"--device", "emu", "--listen", "127.0.0.1:0", NULL};
  over_palsim(pal_test_seed() + 7, a, 4, 4);
  const char *b[] = {"--device", "emu", "--listen", "127.0.0.1:0", "--rows", "2", "--cols", "8",
                     "--max-payload", "256", NULL};
  over_palsim(pal_test_seed() + 8, b, 2, 8);
}

static void test_palsim_emu_pty(void **state) {
  (void)state;
  const char *a[] = {"--device", "emu", "--pty", "--max-payload", "256", NULL};
  over_palsim(pal_test_seed() + 9, a, 4, 4);
}

static int teardown(void **state) {
  (void)state;
  palsim_proc_kill_all();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_emu_protocol, teardown),
      cmocka_unit_test_teardown(test_emu_protocol_small_packets, teardown),
      cmocka_unit_test_teardown(test_emu_no_link_counters, teardown),
      cmocka_unit_test_teardown(test_emu_reduced_tiles, teardown),
      cmocka_unit_test_teardown(test_emu_direct, teardown),
      cmocka_unit_test_teardown(test_serial_pty, teardown),
      cmocka_unit_test_teardown(test_sim_tcp, teardown),
      cmocka_unit_test_teardown(test_palsim_emu_tcp, teardown),
      cmocka_unit_test_teardown(test_palsim_emu_pty, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
