/* palsim (sim/palsim.c) as a process, with its emu device: bad arguments
 * exit 2 with a message naming them, a port in use exits 1, SIGINT and
 * SIGTERM end it with status 0 while a client is connected and while a
 * kernel runs, a client that hangs up mid-frame does not wedge the device
 * (and the next client finds the state the last one left), a second
 * client at once is turned away, --once, the pty and IPv6. The protocol
 * conformance suite through palsim is in test_driver_conformance.c. */
#include "pal_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pal/driver.h"
#include "palsim_proc.h"

#define POK(seed, expr)                                                                  \
  do {                                                                                   \
    pal_status_t pok_st_ = (expr);                                                       \
    if (pok_st_) PAL_TEST_FAIL(seed, "%s failed: %s", #expr, pal_status_message(pok_st_)); \
  } while (0)

static uint64_t ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void start(uint64_t seed, const char *const *args, palsim_proc_t *p) {
  POK(seed, palsim_proc_start(args, 10000, p));
}

static pal_device_t *open_dev(uint64_t seed, const char *uri) {
  pal_device_t *d = NULL;
  POK(seed, pal_device_open(uri, NULL, &d));
  return d;
}

static void test_bad_arguments(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  static const struct {
    const char *args[8];
    const char *names; /* the message must contain this */
  } cases[] = {
      {{NULL}, "--listen"},
      {{"--bogus", NULL}, "--bogus"},
      {{"--listen", "127.0.0.1:99999", NULL}, "99999"},
      {{"--listen", "127.0.0.1", NULL}, "HOST:PORT"},
      {{"--listen", "[::1:5", NULL}, "[::1:5"},
      {{"--listen", "127.0.0.1:0", "--pty", NULL}, "exactly one"},
      {{"--pty", "--device", "fpga", NULL}, "fpga"},
      {{"--pty", "--device", "emu", "--rows", "0", NULL}, "--rows"},
      {{"--pty", "--device", "emu", "--cols", "x", NULL}, "--cols"},
      {{"--pty", "--device", "emu", "--max-payload", "10", NULL}, "--max-payload"},
      {{"--pty", "--device", "emu", "--attach", "spi", NULL}, "spi"},
      {{"--pty", "--device", "emu", "--attach", "uart", NULL}, "uart"},
      {{"--pty", "--device", "emu", "--trace", "x.fst", NULL}, "--trace"},
      {{"--pty", "--device", "emu", "--firmware", NULL}, "--firmware"},
      {{"--pty", "--seed", "-3", NULL}, "--seed"},
      {{"--pty", "--once", NULL}, "--once"},
      {{"--pty", "extra", NULL}, "extra"},
      {{"--pty", "--rows", NULL}, "--rows"},
  };
  char err[4096];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = palsim_proc_run(cases[i].args, 10000, err, sizeof err);
    PAL_TEST_CHECK(seed, rc == 2 && strstr(err, "palsim: ") && strstr(err, cases[i].names),
                   "case %zu (%s ...): exit %d, expected 2 with a message naming \"%s\": %s", i,
                   cases[i].args[0] ? cases[i].args[0] : "no arguments", rc, cases[i].names, err);
  }
  /* --device rtl in a build without the SoC is a usage error too; with it,
   * a geometry the SoC does not link is one. */
  const char *rtl[] = {"--pty", "--device", "rtl", "--rows", "3", "--cols", "5", NULL};
  int rc = palsim_proc_run(rtl, 60000, err, sizeof err);
  PAL_TEST_CHECK(seed, rc == 2 && strstr(err, "palsim: "), "--device rtl 3x5: exit %d: %s", rc, err);
  const char *help[] = {"--help", NULL};
  rc = palsim_proc_run(help, 10000, err, sizeof err);
  PAL_TEST_CHECK(seed, rc == 0 && strstr(err, "usage: palsim") && strstr(err, "--listen"),
                 "--help: exit %d: %s", rc, err);
}

static void test_port_in_use(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  PAL_TEST_CHECK(seed, fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 1) == 0 &&
                           getsockname(fd, (struct sockaddr *)&a, &len) == 0,
                 "cannot set up a listening socket");
  char spec[64], err[4096];
  snprintf(spec, sizeof spec, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
  const char *args[] = {"--device", "emu", "--listen", spec, NULL};
  int rc = palsim_proc_run(args, 10000, err, sizeof err);
  close(fd);
  PAL_TEST_CHECK(seed, rc == 1 && strstr(err, spec) && strstr(err, "in use"),
                 "palsim on a port in use: exit %d: %s", rc, err);
}

static void test_sigint_with_client(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const char *args[] = {"--device", "emu", "--listen", "127.0.0.1:0", NULL};
  palsim_proc_t p;
  start(seed, args, &p);
  pal_device_t *d = open_dev(seed, p.uri);
  POK(seed, pal_device_write_reg(d, PAL_TILE_REG_CLIP_LO, 0x3F800000u));
  uint64_t t0 = ms_now();
  int rc = palsim_proc_stop(&p, SIGINT, 3000);
  PAL_TEST_CHECK(seed, rc == 0, "SIGINT with a client connected: exit %d after %llu ms", rc,
                 (unsigned long long)(ms_now() - t0));
  uint32_t v;
  pal_status_t st = pal_device_read_reg(d, PAL_TILE_REG_CLIP_LO, &v);
  PAL_TEST_CHECK(seed, st != NULL, "a request after palsim exited succeeded");
  pal_status_free(st);
  pal_device_close(d);
}

/* The time model: a started kernel is seen busy, runs to completion while
 * the host polls STATUS, and a SIGTERM while it runs ends palsim with 0. */
static void test_kernel_runs_while_polled_and_sigterm(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const char *args[] = {"--device", "emu", "--listen", "127.0.0.1:0", NULL};
  palsim_proc_t p;
  start(seed, args, &p);
  pal_device_t *d = open_dev(seed, p.uri);
  POK(seed, palsim_test_load_long_kernel(d, 60, seed));
  pal_tile_status_t st;
  POK(seed, pal_device_reset(d));
  POK(seed, pal_device_start(d, 0));
  POK(seed, pal_device_read_status(d, &st));
  PAL_TEST_CHECK(seed, st.busy && !st.done, "STATUS right after start: busy %d done %d", st.busy, st.done);
  uint64_t polls = 0, t0 = ms_now();
  do {
    POK(seed, pal_device_read_status(d, &st));
    polls++;
  } while (st.busy && ms_now() - t0 < 20000);
  PAL_TEST_CHECK(seed, !st.busy && st.done && st.error == 0,
                 "kernel did not finish while polled (%llu polls): busy %d error %u", (unsigned long long)polls,
                 st.busy, st.error);
  pal_tile_counters_t c;
  POK(seed, pal_device_read_counters(d, &c));
  PAL_TEST_CHECK(seed, c.value[PAL_TILE_CTR_MACS_ISSUED] > 0, "no MACs counted");
  /* again, and this time stop palsim while it runs */
  POK(seed, pal_device_start(d, 0));
  POK(seed, pal_device_read_status(d, &st));
  PAL_TEST_CHECK(seed, st.busy, "second run: not busy right after start");
  t0 = ms_now();
  int rc = palsim_proc_stop(&p, SIGTERM, 3000);
  PAL_TEST_CHECK(seed, rc == 0, "SIGTERM while a kernel runs: exit %d after %llu ms", rc,
                 (unsigned long long)(ms_now() - t0));
  pal_device_close(d);
}

/* Raw bytes to palsim over a fresh TCP connection, then hang up. */
static void send_and_hang_up(uint64_t seed, const char *where, const uint8_t *data, size_t len) {
  char host[64];
  unsigned port = 0;
  PAL_TEST_CHECK(seed, sscanf(where, "%63[^:]:%u", host, &port) == 2, "address %s", where);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, host, &a.sin_addr);
  PAL_TEST_CHECK(seed, fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect to %s", where);
  PAL_TEST_CHECK(seed, write(fd, data, len) == (ssize_t)len, "write to %s", where);
  close(fd);
}

static void test_disconnect_mid_frame(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  const char *args[] = {"--device", "emu", "--listen", "127.0.0.1:0", NULL};
  palsim_proc_t p;
  start(seed, args, &p);
  /* client 1 leaves state behind */
  uint32_t clip = 0x40000000u | (pal_test_rng_u32(&rng) & 0xFFFFF);
  pal_device_t *d = open_dev(seed, p.uri);
  POK(seed, pal_device_write_reg(d, PAL_TILE_REG_CLIP_HI, clip));
  pal_device_close(d);
  /* client 2: a WRITE of 4000 bytes, cut after 100; client 3: half a header */
  uint8_t payload[4004], frame[4004 + 16];
  memset(payload, 0x5A, sizeof payload);
  payload[0] = payload[1] = payload[2] = payload[3] = 0;
  pal_frame_t f = {PAL_MSG_WRITE, 7, PAL_PROTO_VERSION, (uint16_t)sizeof payload, payload};
  size_t n = 0;
  POK(seed, pal_frame_encode(&f, frame, sizeof frame, &n));
  send_and_hang_up(seed, p.where, frame, 100);
  send_and_hang_up(seed, p.where, frame, 4);
  /* client 4: the device answers, with the state of client 1 */
  d = open_dev(seed, p.uri);
  uint32_t v = 0;
  POK(seed, pal_device_read_reg(d, PAL_TILE_REG_CLIP_HI, &v));
  PAL_TEST_CHECK(seed, v == clip, "CLIP_HI after reconnecting: 0x%08x, client 1 wrote 0x%08x", v, clip);
  uint32_t words[64], back[64];
  for (int i = 0; i < 64; i++) words[i] = pal_test_rng_u32(&rng);
  POK(seed, pal_device_write_region(d, PAL_TILE_REGION_OBUF, 0, 0, 64, words));
  POK(seed, pal_device_read_region(d, PAL_TILE_REGION_OBUF, 0, 0, 64, back));
  PAL_TEST_CHECK(seed, !memcmp(words, back, sizeof words), "OBUF does not read back after a cut frame");
  pal_link_stats_t s;
  pal_device_link_stats(d, &s);
  PAL_TEST_CHECK(seed, s.failures == 0 && s.retransmissions == 0,
                 "the next client needed %llu retransmissions", (unsigned long long)s.retransmissions);
  pal_device_close(d);
  int rc = palsim_proc_stop(&p, SIGTERM, 3000);
  PAL_TEST_CHECK(seed, rc == 0, "SIGTERM: exit %d", rc);
}

static void test_second_client_refused(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const char *args[] = {"--device", "emu", "--listen", "127.0.0.1:0", NULL};
  palsim_proc_t p;
  start(seed, args, &p);
  pal_device_t *d1 = open_dev(seed, p.uri), *d2 = NULL;
  pal_device_options_t o;
  pal_device_options_initialize(&o);
  o.timeout_ms = 100;
  o.retries = 1;
  o.resync_attempts = 1;
  pal_status_t st = pal_device_open(p.uri, &o, &d2);
  PAL_TEST_CHECK(seed, st != NULL && d2 == NULL, "a second client at once was served");
  pal_status_free(st);
  uint32_t v;
  POK(seed, pal_device_read_reg(d1, PAL_TILE_REG_ID, &v));
  PAL_TEST_CHECK(seed, v == PAL_TILE_ID_VALUE, "first client: ID 0x%08x", v);
  pal_device_close(d1);
  int rc = palsim_proc_stop(&p, SIGTERM, 3000);
  PAL_TEST_CHECK(seed, rc == 0, "SIGTERM: exit %d", rc);
}

static void test_once(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const char *args[] = {"--device", "emu", "--listen", "127.0.0.1:0", "--once", NULL};
  palsim_proc_t p;
  start(seed, args, &p);
  pal_device_t *d = open_dev(seed, p.uri);
  pal_device_close(d);
  int rc = palsim_proc_stop(&p, 0, 3000);
  PAL_TEST_CHECK(seed, rc == 0, "--once: exit %d after the client left", rc);
}

static void test_pty(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const char *args[] = {"--device", "emu", "--pty", "--rows", "2", "--cols", "8", NULL};
  palsim_proc_t p;
  start(seed, args, &p);
  PAL_TEST_CHECK(seed, !strncmp(p.where, "/dev/", 5), "pty path %s", p.where);
  for (int round = 0; round < 2; round++) { /* a second open finds the same device */
    pal_device_t *d = open_dev(seed, p.uri);
    pal_device_info_t info;
    POK(seed, pal_device_info(d, &info));
    PAL_TEST_CHECK(seed, info.link.tile.rows == 2 && info.link.tile.cols == 8, "pty INFO %ux%u",
                   info.link.tile.rows, info.link.tile.cols);
    uint32_t v;
    if (round == 0) POK(seed, pal_device_write_reg(d, PAL_TILE_REG_CLIP_LO, 0xC0000000u));
    POK(seed, pal_device_read_reg(d, PAL_TILE_REG_CLIP_LO, &v));
    PAL_TEST_CHECK(seed, v == 0xC0000000u, "pty round %d: CLIP_LO 0x%08x", round, v);
    pal_device_close(d);
  }
  int rc = palsim_proc_stop(&p, SIGTERM, 3000);
  PAL_TEST_CHECK(seed, rc == 0, "SIGTERM: exit %d", rc);
  PAL_TEST_CHECK(seed, access(p.where, F_OK) != 0, "%s still exists after palsim exited", p.where);
}

static void test_ipv6(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof a);
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool have = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
  if (fd >= 0) close(fd);
  if (!have) {
    print_message("no IPv6 loopback here: skipped\n");
    skip();
  }
  const char *args[] = {"--device", "emu", "--listen", "[::1]:0", NULL};
  palsim_proc_t p;
  start(seed, args, &p);
  PAL_TEST_CHECK(seed, !strncmp(p.where, "[::1]:", 6), "IPv6 address line %s", p.where);
  pal_device_t *d = open_dev(seed, p.uri);
  uint32_t v;
  POK(seed, pal_device_read_reg(d, PAL_TILE_REG_ID, &v));
  PAL_TEST_CHECK(seed, v == PAL_TILE_ID_VALUE, "ID over IPv6 0x%08x", v);
  pal_device_close(d);
  int rc = palsim_proc_stop(&p, SIGINT, 3000);
  PAL_TEST_CHECK(seed, rc == 0, "SIGINT: exit %d", rc);
}

static int teardown(void **state) {
  (void)state;
  palsim_proc_kill_all();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_bad_arguments, teardown),
      cmocka_unit_test_teardown(test_port_in_use, teardown),
      cmocka_unit_test_teardown(test_sigint_with_client, teardown),
      cmocka_unit_test_teardown(test_kernel_runs_while_polled_and_sigterm, teardown),
      cmocka_unit_test_teardown(test_disconnect_mid_frame, teardown),
      cmocka_unit_test_teardown(test_second_client_refused, teardown),
      cmocka_unit_test_teardown(test_once, teardown),
      cmocka_unit_test_teardown(test_pty, teardown),
      cmocka_unit_test_teardown(test_ipv6, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
