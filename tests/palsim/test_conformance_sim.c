/* The conformance suite (tests/driver/conformance_suite.h), unchanged, on
 * the RTL: sim:// (the Verilated SoC in this process, FIFO and UART
 * attachments), palsim's rtl device over TCP (sim+tcp://, palsim started
 * on a free port and stopped with SIGTERM, which must give exit 0) and
 * over a pty through the SoC's UART attachment (serial://). */
#include <signal.h>

#include "conformance_suite.h"
#include "pal/soc.h"
#include "palsim_proc.h"

static int setup(void **state) {
  (void)state;
  pal_status_t st = pal_soc_register_scheme();
  if (st) {
    print_error("pal_soc_register_scheme: %s\n", pal_status_message(st));
    pal_status_free(st);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  palsim_proc_kill_all();
  return 0;
}

static void test_sim_fifo(void **state) {
  (void)state;
  conformance(pal_test_seed() + 20, "sim://", NULL, 4, 4, true);
}

/* uri_extra: appended to the URI palsim printed (the UART attachment is
 * slower than the wire it stands for: the host waits longer). */
static void over_palsim(uint64_t seed, const char *const *args, const char *uri_extra, uint32_t rows,
                        uint32_t cols) {
  palsim_proc_t p;
  TT_OK(seed, palsim_proc_start(args, 30000, &p));
  char uri[400];
  snprintf(uri, sizeof uri, "%s%s", p.uri, uri_extra);
  conformance(seed, uri, NULL, rows, cols, true);
  int rc = palsim_proc_stop(&p, SIGTERM, 10000);
  PAL_TEST_CHECK(seed, rc == 0, "palsim %s: exit status %d after SIGTERM", p.where, rc);
}

static void test_palsim_rtl_tcp(void **state) {
  (void)state;
  const char *a[] = {"--device", "rtl", "--listen", "127.0.0.1:0", "--seed", "7", NULL};
  over_palsim(pal_test_seed() + 22, a, "", 4, 4);
}

static void test_palsim_rtl_pty_uart(void **state) {
  (void)state;
  const char *a[] = {"--device", "rtl", "--pty", "--attach", "uart", NULL};
  over_palsim(pal_test_seed() + 23, a, "&timeout_ms=4000", 4, 4);
}

/* palsim --firmware: the SoC with the control core behind TCP. The driver
 * sees the firmware in INFO and takes the firmware path (launches as RUN,
 * waits with STATUS), and the suite passes on it unchanged. */
static void test_palsim_rtl_firmware_tcp(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 25;
  const char *a[] = {"--device", "rtl", "--firmware", "--listen", "127.0.0.1:0", NULL};
  palsim_proc_t p;
  TT_OK(seed, palsim_proc_start(a, 30000, &p));
  pal_device_t *d = NULL;
  DOK(seed, p.uri, pal_device_open(p.uri, NULL, &d));
  bool fw = pal_device_uses_firmware(d);
  pal_device_close(d);
  PAL_TEST_CHECK(seed, fw, "%s (palsim --firmware): the driver does not use the firmware path", p.uri);
  conformance(seed, p.uri, NULL, 4, 4, true);
  int rc = palsim_proc_stop(&p, SIGTERM, 10000);
  PAL_TEST_CHECK(seed, rc == 0, "palsim %s: exit status %d after SIGTERM", p.where, rc);
}

/* palsim's time model on the RTL: a started kernel is seen busy, finishes
 * while the host polls STATUS, and SIGTERM while it runs again ends palsim
 * with status 0. */
static void test_palsim_rtl_kernel_and_sigterm(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 24;
  const char *a[] = {"--device", "rtl", "--listen", "127.0.0.1:0", NULL};
  palsim_proc_t p;
  TT_OK(seed, palsim_proc_start(a, 30000, &p));
  pal_device_t *d = NULL;
  DOK(seed, p.uri, pal_device_open(p.uri, NULL, &d));
  DOK(seed, p.uri, palsim_test_load_long_kernel(d, 30, seed));
  pal_tile_status_t st;
  DOK(seed, p.uri, pal_device_start(d, 0));
  DOK(seed, p.uri, pal_device_read_status(d, &st));
  PAL_TEST_CHECK(seed, st.busy && !st.done, "%s: STATUS right after start: busy %d done %d", p.uri, st.busy,
                 st.done);
  uint64_t polls = 0;
  do {
    DOK(seed, p.uri, pal_device_read_status(d, &st));
    polls++;
  } while (st.busy && polls < 1000000);
  PAL_TEST_CHECK(seed, st.done && st.error == 0, "%s: kernel after %llu polls: done %d error %u", p.uri,
                 (unsigned long long)polls, st.done, st.error);
  pal_tile_counters_t c;
  DOK(seed, p.uri, pal_device_read_counters(d, &c));
  PAL_TEST_CHECK(seed, c.value[PAL_TILE_CTR_CYC_TOTAL] > 0 && c.value[PAL_TILE_CTR_MACS_ISSUED] > 0,
                 "%s: counters after the kernel", p.uri);
  DOK(seed, p.uri, pal_device_start(d, 0));
  DOK(seed, p.uri, pal_device_read_status(d, &st));
  PAL_TEST_CHECK(seed, st.busy, "%s: second run not busy after start", p.uri);
  int rc = palsim_proc_stop(&p, SIGTERM, 10000);
  PAL_TEST_CHECK(seed, rc == 0, "palsim: exit status %d after SIGTERM during a kernel", rc);
  pal_device_close(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_sim_fifo, teardown),
      cmocka_unit_test_teardown(test_palsim_rtl_tcp, teardown),
      cmocka_unit_test_teardown(test_palsim_rtl_pty_uart, teardown),
      cmocka_unit_test_teardown(test_palsim_rtl_firmware_tcp, teardown),
      cmocka_unit_test_teardown(test_palsim_rtl_kernel_and_sigterm, teardown),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
