/* The SoC through the driver: sim:// opened with pal_device_open after
 * pal_soc_register_scheme(): on the UART attachment (the C++ side drives
 * and samples the pins bit-accurately at 4 clocks per bit) INFO, writes,
 * reads and a GEMM + POST + END checked bit for bit against pal_gemm_ref
 * and counter for counter against the emulator; on the FIFO attachment
 * the whole driver conformance suite (tests/driver/conformance_suite.h),
 * 4x4 and 8x8. Also: the UART and FIFO attachments
 * answer the same byte streams with the same bytes, and sim:// URIs with
 * bad keys or values fail with a message naming the URI. */
#include "conformance_suite.h"
#include "pal/protocol.h"
#include "pal/soc.h"

/* INFO, writes and reads, and a GEMM + POST + END through the driver over
 * the UART pins. (The whole conformance suite moves ~200 KB, 8 M cycles at
 * 40 cycles a byte: that runs on the FIFO attachment below.) The timeout
 * is generous because its wall-clock guard (twice timeout_ms, soc.h) must
 * not fire on a loaded machine: a 4 KiB packet is 164 000 UART cycles. */
static void test_uart_driver_gemm(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 4;
  const char *uri = "sim://?attach=uart&timeout_ms=4000";
  assert_null(pal_soc_register_scheme());
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  pal_device_t *d = NULL;
  DOK(seed, uri, pal_device_open(uri, NULL, &d));
  pal_device_info_t info;
  DOK(seed, uri, pal_device_info(d, &info));
  pal_tile_config_t want;
  pal_tile_config_initialize(&want, 4, 4);
  PAL_TEST_CHECK(seed, !memcmp(&info.link.tile, &want, sizeof want) && info.link.max_payload == 4096 &&
                           info.link.clock_hz == 12000000 && !strcmp(info.link.name, "sim"),
                 "%s: INFO %ux%u max payload %u clock %u name %s", uri, info.link.tile.rows,
                 info.link.tile.cols, info.link.max_payload, info.link.clock_hz, info.link.name);
  uint32_t v;
  DOK(seed, uri, pal_device_write_reg(d, PAL_TILE_REG_CLIP_HI, 0x40490FDBu));
  DOK(seed, uri, pal_device_read_reg(d, PAL_TILE_REG_CLIP_HI, &v));
  PAL_TEST_CHECK(seed, v == 0x40490FDBu, "%s: CLIP_HI reads 0x%08x", uri, v);
  /* a packet of the full 4 KiB payload each way, and unaligned bytes */
  uint8_t in[4200], out[4200];
  random_bytes(&rng, in, sizeof in);
  DOK(seed, uri, pal_device_write(d, PAL_ADDR_ABUF_CODES + 3, in, sizeof in));
  DOK(seed, uri, pal_device_read(d, PAL_ADDR_ABUF_CODES + 3, out, sizeof out));
  PAL_TEST_CHECK(seed, !memcmp(in, out, sizeof in), "%s: ABUF does not read back", uri);
  expect_error(seed, uri, pal_device_read(d, PAL_ADDR_OBUF + 2, out, 4), PAL_OUT_OF_RANGE, "misaligned");
  /* GEMM + POST + END, bit for bit against pal_gemm_ref, counters against the emulator */
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
  pal_link_counters_t l;
  DOK(seed, uri, pal_device_read_link_counters(d, &l));
  PAL_TEST_CHECK(seed, l.value[PAL_LINK_CTR_KERNEL_STARTS] == 1 && l.value[PAL_LINK_CTR_RX_BAD_CRC] == 0 &&
                           l.value[PAL_LINK_CTR_DUP_WRITES] == 0 && l.value[PAL_LINK_CTR_RX_FRAMES] > 20,
                 "%s: link counters: %u starts, %u bad CRC, %u duplicates, %u frames", uri,
                 l.value[PAL_LINK_CTR_KERNEL_STARTS], l.value[PAL_LINK_CTR_RX_BAD_CRC],
                 l.value[PAL_LINK_CTR_DUP_WRITES], l.value[PAL_LINK_CTR_RX_FRAMES]);
  job_release(&j);
  pal_device_close(d);
}

static void test_fifo_conformance(void **state) {
  (void)state;
  assert_null(pal_soc_register_scheme());
  assert_null(pal_soc_register_scheme()); /* idempotent */
  conformance(pal_test_seed() + 1, "sim://", NULL, 4, 4, true);
  conformance(pal_test_seed() + 2, "sim://?rows=8&cols=8&attach=fifo&seed=7", NULL, 8, 8, true);
}

/* The same stream (good frames, a damaged one, garbage) into both
 * attachments: the same reply bytes. */
static void uart_matches_fifo(uint64_t seed, uint32_t rows, uint32_t cols) {
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  uint8_t stream[12][128];
  size_t len_of[12];
  for (int k = 0; k < 12; k++) {
    uint8_t p[64];
    size_t len = pal_test_rng_below(&rng, 40), fl = 0;
    random_bytes(&rng, p, len);
    pal_frame_t f = {k % 3 ? PAL_MSG_PING : PAL_MSG_INFO, (uint8_t)k, 1, (uint16_t)(k % 3 ? len : 0), p};
    assert_null(pal_frame_encode(&f, stream[k], sizeof stream[k], &fl));
    if (k == 5) stream[k][8] ^= 1; /* bad CRC (or bad HCRC when the payload is empty) */
    stream[k][fl] = (uint8_t)pal_test_rng_u32(&rng); /* a garbage byte after the frame */
    len_of[k] = fl + 1;
  }
  uint8_t out[2][8192];
  size_t got[2] = {0, 0};
  for (int a = 0; a < 2; a++) {
    pal_soc_options_t o;
    pal_soc_options_initialize(&o);
    o.attach = a ? PAL_SOC_ATTACH_UART : PAL_SOC_ATTACH_FIFO;
    o.rows = rows, o.cols = cols;
    o.seed = seed + (uint64_t)a;
    pal_soc_t *soc = NULL;
    assert_null(pal_soc_create(&o, &soc));
    /* a frame at a time, as a stop-and-wait host sends them: the engine
     * takes no byte while it answers, and a UART cannot wait */
    for (int k = 0; k < 12; k++) {
      assert_null(pal_soc_write_bytes(soc, stream[k], len_of[k]));
      assert_null(pal_soc_run(soc, a ? 40ull * (len_of[k] + 90) : 400));
      got[a] += pal_soc_read_bytes(soc, out[a] + got[a], sizeof out[a] - got[a]);
    }
    pal_soc_destroy(soc);
  }
  PAL_TEST_CHECK(seed, got[0] > 100 && got[0] == got[1] && !memcmp(out[0], out[1], got[0]),
                 "%ux%u: FIFO answered %zu bytes, UART %zu", rows, cols, got[0], got[1]);
}

static void test_uart_matches_fifo(void **state) {
  (void)state;
  uart_matches_fifo(pal_test_seed() + 3, 4, 4);
  uart_matches_fifo(pal_test_seed() + 5, 8, 8);
}

static void expect_open_error(const char *uri, pal_status_code_t code, const char *needle) {
  pal_device_t *d = NULL;
  pal_status_t st = pal_device_open(uri, NULL, &d);
  PAL_TEST_CHECK(0, st && pal_status_code(st) == code && strstr(pal_status_message(st), needle),
                 "%s: expected %s mentioning \"%s\", got %s: %s", uri, pal_status_code_name(code),
                 needle, st ? pal_status_code_name(pal_status_code(st)) : "OK",
                 st ? pal_status_message(st) : "");
  pal_status_free(st);
  if (d) pal_device_close(d);
}

static void test_sim_uri_errors(void **state) {
  (void)state;
  assert_null(pal_soc_register_scheme());
  expect_open_error("sim://?frob=1", PAL_INVALID_ARGUMENT, "frob");
  expect_open_error("sim://?attach=spi", PAL_INVALID_ARGUMENT, "attach=spi");
  expect_open_error("sim://?rows=x", PAL_INVALID_ARGUMENT, "rows=x");
  expect_open_error("sim://?rows=3&cols=5", PAL_NOT_FOUND, "3x5");
  expect_open_error("sim://?attach=uart&clocks_per_bit=7", PAL_NOT_FOUND, "7 clocks per bit");
  expect_open_error("sim://somewhere", PAL_INVALID_ARGUMENT, "sim://somewhere");
  expect_open_error("sim://?seed=12z", PAL_INVALID_ARGUMENT, "seed=12z");
  /* the protocol keys belong to the driver and pass */
  pal_device_t *d = NULL;
  pal_status_t st = pal_device_open("sim://?timeout_ms=100&retries=2", NULL, &d);
  PAL_TEST_CHECK(0, st == NULL, "sim:// with timeout_ms and retries: %s", st ? pal_status_message(st) : "");
  if (d) pal_device_close(d);
}

/* The transport's timing (soc.h): a read with nothing to answer clocks the
 * model for exactly the cycles timeout_ms stands for and returns no byte;
 * purge drops queued bytes; bad options are refused with a message. */
static void test_transport_timing(void **state) {
  (void)state;
  pal_soc_options_t o;
  pal_soc_options_initialize(&o);
  o.cycles_per_ms = 1000;
  pal_soc_t *soc = NULL;
  assert_null(pal_soc_create(&o, &soc));
  pal_transport_t t;
  assert_null(pal_soc_transport(soc, "sim://test", &t));
  PAL_TEST_CHECK(0, !strcmp(t.name, "sim://test"), "transport name %s", t.name);
  uint8_t buf[256];
  size_t n = 99;
  uint64_t c0 = pal_soc_cycle(soc);
  assert_null(t.ops->read(t.self, buf, sizeof buf, &n, 7));
  PAL_TEST_CHECK(0, n == 0 && pal_soc_cycle(soc) - c0 == 7000, "silent read: %zu bytes after %llu cycles",
                 n, (unsigned long long)(pal_soc_cycle(soc) - c0));
  /* INFO queued then purged: nothing comes back */
  uint8_t f[16];
  size_t fl = 0;
  pal_frame_t fr = {PAL_MSG_INFO, 1, 1, 0, NULL};
  assert_null(pal_frame_encode(&fr, f, sizeof f, &fl));
  assert_null(t.ops->write(t.self, f, fl, 100));
  assert_null(t.ops->purge(t.self));
  assert_null(t.ops->read(t.self, buf, sizeof buf, &n, 2));
  PAL_TEST_CHECK(0, n == 0, "purged INFO still answered with %zu bytes", n);
  /* and unpurged: the whole reply in one read */
  assert_null(t.ops->write(t.self, f, fl, 100));
  assert_null(t.ops->read(t.self, buf, sizeof buf, &n, 100));
  PAL_TEST_CHECK(0, n == 64 + PAL_PROTO_OVERHEAD && buf[0] == 0xA5 && buf[1] == PAL_MSG_INFO_REPLY,
                 "INFO: %zu bytes in one read", n);
  pal_transport_close(&t); /* leaves the SoC alive */
  PAL_TEST_CHECK(0, pal_soc_run(soc, 10) == NULL && pal_soc_config(soc)->rows == 4, "SoC after close");
  pal_soc_destroy(soc);
  o.cycles_per_ms = 0;
  pal_status_t st = pal_soc_create(&o, &soc);
  PAL_TEST_CHECK(0, st && pal_status_code(st) == PAL_INVALID_ARGUMENT && strstr(pal_status_message(st), "cycles_per_ms"),
                 "cycles_per_ms 0: %s", st ? pal_status_message(st) : "OK");
  pal_status_free(st);
  pal_soc_options_initialize(&o);
  o.attach = (pal_soc_attach_t)7;
  st = pal_soc_create(&o, &soc);
  PAL_TEST_CHECK(0, st && pal_status_code(st) == PAL_INVALID_ARGUMENT, "attach 7: %s",
                 st ? pal_status_message(st) : "OK");
  pal_status_free(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sim_uri_errors),
      cmocka_unit_test(test_transport_timing),
      cmocka_unit_test(test_uart_matches_fifo),
      cmocka_unit_test(test_fifo_conformance),
      cmocka_unit_test(test_uart_driver_gemm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
