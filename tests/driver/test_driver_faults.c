/* Fault injection: the byte stream between the host and the device loses,
 * damages, duplicates and gains bytes at seeded rates up to 1% per byte in
 * both directions, over more than 100,000 packets. Every transfer must
 * either complete with the right data (every write is checked in the
 * device's memory, every read against a shadow copy) or fail with a clear
 * error after its retries; silent corruptions are counted and must be 0.
 * A failed multi-packet write may stop between packets, but no packet is
 * ever half-written; and a kernel start is never executed twice, however
 * often its WRITE is retransmitted (the duplicate-WRITE rule). */
#include "pal_test.h"

#include "link_test_server.h"
#include "pal/driver.h"

#define OK(seed, expr)                                                                   \
  do {                                                                                   \
    pal_status_t ok_st_ = (expr);                                                        \
    if (ok_st_) PAL_TEST_FAIL(seed, "%s failed: %s", #expr, pal_status_message(ok_st_)); \
  } while (0)

/* The memory the test moves data through: byte-sized and word-sized regions. */
typedef struct area {
  pal_tile_region_t region;
  uint32_t pe;
} area_t;

static const area_t kAreas[] = {
    {PAL_TILE_REGION_ABUF_CODES, 0}, {PAL_TILE_REGION_WMEM_CODES, 0}, {PAL_TILE_REGION_WMEM_CODES, 5},
    {PAL_TILE_REGION_WMEM_SCALES, 15}, {PAL_TILE_REGION_BIAS, 0},     {PAL_TILE_REGION_OBUF, 0},
};
#define N_AREAS (sizeof kAreas / sizeof kAreas[0])

typedef struct tally {
  uint64_t ops, writes, reads, starts;
  uint64_t failed_writes, failed_reads, failed_starts;
  uint64_t silent_corruptions; /* OK, but the data is wrong: must stay 0 */
  uint64_t torn_packets;       /* a packet partly written: must stay 0 */
  uint64_t double_starts;      /* one start WRITE run twice: must stay 0 */
  uint64_t unclear_errors;     /* a failure without the URI or of an unexpected code */
} tally_t;

typedef struct phase {
  const char *name;
  pal_fault_options_t faults;
  uint32_t max_payload;  /* the device's */
  uint32_t max_transfer; /* bytes per call */
  uint64_t packets;      /* run until the host has sent this many */
} phase_t;

static bool clear_failure(pal_status_t st, const char *uri) {
  pal_status_code_t c = pal_status_code(st);
  return (c == PAL_DEADLINE_EXCEEDED || c == PAL_DATA_LOSS) && strstr(pal_status_message(st), uri) &&
         strstr(pal_status_message(st), "attempts");
}

typedef struct rig {
  pal_emu_t *emu;
  pal_tile_device_t *tile;
  pal_link_model_t *model;
  pal_device_t *dev;
  const char *uri;
} rig_t;

static void rig_open(uint64_t seed, const phase_t *ph, rig_t *r) {
  memset(r, 0, sizeof *r);
  r->uri = "emu+faults://";
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  OK(seed, pal_emu_create(&cfg, &r->emu));
  r->tile = pal_emu_device(r->emu);
  pal_link_model_options_t mo;
  pal_link_model_options_initialize(&mo);
  mo.max_payload = ph->max_payload;
  OK(seed, pal_link_model_create(r->tile, &mo, &r->model));
  /* a kernel to start: SYNC, END (2 cycles, no memory touched) */
  uint32_t prog[8];
  pal_isa_instr_t in;
  pal_isa_instr_initialize(&in, PAL_ISA_OP_SYNC);
  OK(seed, pal_isa_encode(&in, prog));
  pal_isa_instr_initialize(&in, PAL_ISA_OP_END);
  OK(seed, pal_isa_encode(&in, prog + 4));
  OK(seed, pal_tile_device_load_program(r->tile, 0, prog, 8));
  pal_device_options_t o;
  pal_device_options_initialize(&o);
  o.faults = ph->faults;
  o.retries = 10;
  o.resync_attempts = 8;
  /* INFO itself may be lost on a bad line: the open is retried like any request */
  pal_status_t st = PAL_STATUS_OK;
  for (int attempt = 0; attempt < 5; attempt++) {
    pal_status_free(st);
    pal_transport_t t;
    OK(seed, pal_transport_model_open(r->model, r->uri, &t));
    o.faults.seed = ph->faults.seed + (uint64_t)attempt;
    st = pal_device_open_transport(r->uri, t, 0, &o, &r->dev);
    if (!st) return;
  }
  PAL_TEST_FAIL(seed, "%s: could not open: %s", ph->name, pal_status_message(st));
}

static void rig_close(rig_t *r) {
  pal_device_close(r->dev);
  pal_link_model_destroy(r->model);
  pal_emu_destroy(r->emu);
}

static uint64_t kernel_starts(const rig_t *r) {
  pal_link_counters_t c;
  pal_link_model_get_counters(r->model, &c);
  return c.value[PAL_LINK_CTR_KERNEL_STARTS];
}

static void run_phase(uint64_t seed, const phase_t *ph, tally_t *t, pal_link_stats_t *stats,
                      pal_link_counters_t *device, pal_fault_stats_t *fstats) {
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed ^ ph->faults.seed);
  rig_t r;
  rig_open(seed, ph, &r);
  uint8_t *shadow[N_AREAS];
  size_t bytes[N_AREAS];
  for (size_t a = 0; a < N_AREAS; a++) {
    bytes[a] = (size_t)pal_tile_region_length(&r.tile->config, kAreas[a].region) *
               pal_tile_region_element_size(kAreas[a].region);
    shadow[a] = calloc(bytes[a], 1); /* the emulator starts zeroed */
  }
  uint8_t *data = malloc(ph->max_transfer), *actual = malloc(ph->max_transfer);
  pal_link_stats_t s;
  pal_device_link_stats(r.dev, &s);
  while (s.packets_sent < ph->packets) {
    t->ops++;
    uint32_t what = pal_test_rng_below(&rng, 20);
    if (what < 2) { /* start the kernel */
      t->starts++;
      uint64_t k0 = kernel_starts(&r);
      uint32_t c0, c1;
      OK(seed, pal_tile_device_read_reg(r.tile, PAL_TILE_REG_COUNTER(PAL_TILE_CTR_CYC_TOTAL), &c0));
      pal_status_t st = pal_device_write_reg(r.dev, PAL_TILE_REG_CONTROL, PAL_TILE_CONTROL_START);
      uint64_t runs = kernel_starts(&r) - k0;
      OK(seed, pal_tile_device_read_reg(r.tile, PAL_TILE_REG_COUNTER(PAL_TILE_CTR_CYC_TOTAL), &c1));
      if (runs > 1 || c1 - c0 != 2 * runs || (!st && runs != 1)) {
        t->double_starts++;
        print_error("%s: a start WRITE ran the kernel %llu times (%u cycles), status %s\n", ph->name,
                    (unsigned long long)runs, c1 - c0, pal_status_message(st));
      }
      if (st) {
        t->failed_starts++;
        if (!clear_failure(st, r.uri)) t->unclear_errors++;
      }
      pal_status_free(st);
    } else {
      size_t a = pal_test_rng_below(&rng, N_AREAS);
      size_t es = pal_tile_region_element_size(kAreas[a].region);
      size_t elems = bytes[a] / es;
      size_t max_elems = ph->max_transfer / es;
      size_t n = 1 + pal_test_rng_below(&rng, (uint32_t)(max_elems < elems ? max_elems : elems));
      size_t idx = pal_test_rng_below(&rng, (uint32_t)(elems - n + 1));
      size_t off = idx * es, len = n * es;
      if (what < 11) { /* write */
        t->writes++;
        for (size_t i = 0; i < len; i++) data[i] = (uint8_t)pal_test_rng_u32(&rng);
        pal_status_t st = pal_device_write_region(r.dev, kAreas[a].region, kAreas[a].pe, idx, n, data);
        OK(seed, pal_tile_device_read(r.tile, kAreas[a].region, kAreas[a].pe, idx, n, actual));
        if (!st) {
          if (memcmp(actual, data, len)) {
            t->silent_corruptions++;
            print_error("%s: write of %zu bytes reported OK, device memory differs\n", ph->name, len);
          }
        } else {
          t->failed_writes++;
          if (!clear_failure(st, r.uri)) {
            t->unclear_errors++;
            print_error("%s: unclear write failure: %s\n", ph->name, pal_status_message(st));
          }
          /* packet by packet: all old or all new, never a mix */
          size_t chunk = ph->max_payload - 4;
          for (size_t p = 0; p < len; p += chunk) {
            size_t m = len - p < chunk ? len - p : chunk;
            if (memcmp(actual + p, data + p, m) && memcmp(actual + p, shadow[a] + off + p, m)) {
              t->torn_packets++;
              print_error("%s: packet at +%zu of a failed write is half written\n", ph->name, p);
            }
          }
        }
        pal_status_free(st);
        memcpy(shadow[a] + off, actual, len);
      } else { /* read */
        t->reads++;
        memset(actual, 0xA5, len);
        pal_status_t st = pal_device_read_region(r.dev, kAreas[a].region, kAreas[a].pe, idx, n, actual);
        if (!st) {
          if (memcmp(actual, shadow[a] + off, len)) {
            t->silent_corruptions++;
            print_error("%s: read of %zu bytes reported OK with wrong data\n", ph->name, len);
          }
        } else {
          t->failed_reads++;
          if (!clear_failure(st, r.uri)) {
            t->unclear_errors++;
            print_error("%s: unclear read failure: %s\n", ph->name, pal_status_message(st));
          }
        }
        pal_status_free(st);
      }
    }
    pal_device_link_stats(r.dev, &s);
  }
  /* the whole of every area, read directly, is what the host believes */
  for (size_t a = 0; a < N_AREAS; a++) {
    uint8_t *all = malloc(bytes[a]);
    size_t es = pal_tile_region_element_size(kAreas[a].region);
    OK(seed, pal_tile_device_read(r.tile, kAreas[a].region, kAreas[a].pe, 0, bytes[a] / es, all));
    if (memcmp(all, shadow[a], bytes[a])) t->silent_corruptions++;
    free(all);
    free(shadow[a]);
  }
  *stats = s;
  pal_link_model_get_counters(r.model, device);
  OK(seed, pal_device_fault_stats(r.dev, fstats));
  free(data);
  free(actual);
  rig_close(&r);
}

static void test_fault_injection_100k_packets(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const phase_t phases[] = {
      {"drop 1%", {0.01, 0, 0, 0, seed + 11}, 256, 96, 20000},
      {"corrupt 1%", {0, 0.01, 0, 0, seed + 12}, 256, 96, 20000},
      {"duplicate 1%", {0, 0, 0.01, 0, seed + 13}, 256, 96, 20000},
      {"insert 1%", {0, 0, 0, 0.01, seed + 14}, 256, 96, 20000},
      {"mix 4 x 0.25%", {0.0025, 0.0025, 0.0025, 0.0025, seed + 15}, 256, 600, 20000},
      {"mix 4 x 0.0025%, 4 KiB packets", {0.000025, 0.000025, 0.000025, 0.000025, seed + 16}, 4096, 9000, 4000},
  };
  tally_t t;
  memset(&t, 0, sizeof t);
  uint64_t packets = 0, retx = 0, timeouts = 0, failures = 0, resyncs = 0, dups = 0, bad_crc = 0;
  uint64_t data_bytes = 0, wire_bytes = 0, faults = 0, damaged = 0;
  for (size_t k = 0; k < sizeof phases / sizeof phases[0]; k++) {
    pal_link_stats_t s;
    pal_link_counters_t dev;
    pal_fault_stats_t f;
    tally_t before = t;
    run_phase(seed, &phases[k], &t, &s, &dev, &f);
    print_message("  %-32s packets %6llu  retransmissions %5llu  timeouts %5llu  failed ops %3llu/%-5llu"
                  "  dup WRITEs %4u  faults %5llu\n",
                  phases[k].name, (unsigned long long)s.packets_sent,
                  (unsigned long long)s.retransmissions, (unsigned long long)s.timeouts,
                  (unsigned long long)(t.failed_writes + t.failed_reads + t.failed_starts -
                                       before.failed_writes - before.failed_reads - before.failed_starts),
                  (unsigned long long)(t.ops - before.ops), dev.value[PAL_LINK_CTR_DUP_WRITES],
                  (unsigned long long)(f.dropped + f.corrupted + f.duplicated + f.inserted));
    packets += s.packets_sent, retx += s.retransmissions, timeouts += s.timeouts;
    failures += s.failures, resyncs += s.resyncs, dups += dev.value[PAL_LINK_CTR_DUP_WRITES];
    bad_crc += dev.value[PAL_LINK_CTR_RX_BAD_CRC] + s.rx_bad_crc;
    data_bytes += s.data_written + s.data_read, wire_bytes += s.tx_bytes + s.rx_bytes;
    faults += f.dropped + f.corrupted + f.duplicated + f.inserted;
    damaged += f.bytes;
    PAL_TEST_CHECK(seed, s.retransmissions > 0 && f.dropped + f.corrupted + f.duplicated + f.inserted > 0,
                   "%s: no fault was injected", phases[k].name);
  }
  print_message("  total: %llu packets, %llu retransmissions, %llu timeouts, %llu transactions failed "
                "after retries (%llu resyncs), %llu duplicate WRITEs acked without re-executing, "
                "%llu faults in %llu bytes; %llu ops (%llu writes, %llu reads, %llu kernel starts), "
                "%llu failed cleanly; silent corruptions %llu, torn packets %llu, double starts %llu\n",
                (unsigned long long)packets, (unsigned long long)retx, (unsigned long long)timeouts,
                (unsigned long long)failures, (unsigned long long)resyncs, (unsigned long long)dups,
                (unsigned long long)faults, (unsigned long long)damaged, (unsigned long long)t.ops,
                (unsigned long long)t.writes, (unsigned long long)t.reads, (unsigned long long)t.starts,
                (unsigned long long)(t.failed_writes + t.failed_reads + t.failed_starts),
                (unsigned long long)t.silent_corruptions, (unsigned long long)t.torn_packets,
                (unsigned long long)t.double_starts);
  PAL_TEST_CHECK(seed, packets >= 100000, "only %llu packets", (unsigned long long)packets);
  PAL_TEST_CHECK(seed, t.silent_corruptions == 0, "%llu silent corruptions", (unsigned long long)t.silent_corruptions);
  PAL_TEST_CHECK(seed, t.torn_packets == 0, "%llu half-written packets", (unsigned long long)t.torn_packets);
  PAL_TEST_CHECK(seed, t.double_starts == 0, "%llu kernel starts ran twice", (unsigned long long)t.double_starts);
  PAL_TEST_CHECK(seed, t.unclear_errors == 0, "%llu failures without a clear message", (unsigned long long)t.unclear_errors);
  /* the duplicate-WRITE rule was exercised, not just present */
  PAL_TEST_CHECK(seed, dups > 100, "only %llu duplicate WRITEs", (unsigned long long)dups);
  PAL_TEST_CHECK(seed, bad_crc > 100 && timeouts > 100, "faults did not reach the CRC and timeout paths");
  (void)data_bytes, (void)wire_bytes;
}

/* The same over a real transport (a pty, wall-clock timeouts, the device's
 * idle timeout in real time), fewer packets: known bytes only are compared,
 * and a clean device read at the end holds everything the host believes. */
static void test_fault_injection_pty(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 77;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  lts_options_t so;
  lts_options_initialize(&so);
  so.kind = LTS_PTY;
  so.max_payload = 256;
  so.idle_ms = 5;
  lts_t *srv;
  OK(seed, lts_start(&so, &srv));
  pal_device_options_t o;
  pal_device_options_initialize(&o);
  o.timeout_ms = 40;
  o.retries = 10;
  o.resync_attempts = 8;
  o.faults.drop_rate = o.faults.corrupt_rate = o.faults.duplicate_rate = o.faults.insert_rate = 0.0002;
  o.faults.seed = seed;
  pal_device_t *d = NULL;
  OK(seed, pal_device_open(lts_uri(srv), &o, &d));
  enum { BYTES = 16384 };
  static uint8_t shadow[BYTES], known[BYTES], data[512], got[512];
  memset(known, 1, sizeof known); /* zeros at power-on */
  uint64_t silent = 0, failed = 0;
  pal_link_stats_t s;
  pal_device_link_stats(d, &s);
  while (s.packets_sent < 1500) {
    size_t n = 1 + pal_test_rng_below(&rng, sizeof data), off = pal_test_rng_below(&rng, BYTES - (uint32_t)n + 1);
    if (pal_test_rng_below(&rng, 2)) {
      for (size_t i = 0; i < n; i++) data[i] = (uint8_t)pal_test_rng_u32(&rng);
      pal_status_t st = pal_device_write_region(d, PAL_TILE_REGION_ABUF_CODES, 0, off, n, data);
      memcpy(shadow + off, data, n);
      memset(known + off, st ? 0 : 1, n);
      if (st) {
        failed++;
        PAL_TEST_CHECK(seed, clear_failure(st, lts_uri(srv)), "%s", pal_status_message(st));
      }
      pal_status_free(st);
    } else {
      pal_status_t st = pal_device_read_region(d, PAL_TILE_REGION_ABUF_CODES, 0, off, n, got);
      if (!st) {
        for (size_t i = 0; i < n; i++) silent += known[off + i] && got[i] != shadow[off + i];
        memcpy(shadow + off, got, n); /* what a failed write left is now known */
        memset(known + off, 1, n);
      } else {
        failed++;
        PAL_TEST_CHECK(seed, clear_failure(st, lts_uri(srv)), "%s", pal_status_message(st));
      }
      pal_status_free(st);
    }
    pal_device_link_stats(d, &s);
  }
  pal_device_close(d);
  OK(seed, pal_device_open(lts_uri(srv), NULL, &d));
  static uint8_t all[BYTES];
  OK(seed, pal_device_read_region(d, PAL_TILE_REGION_ABUF_CODES, 0, 0, BYTES, all));
  for (size_t i = 0; i < BYTES; i++) silent += known[i] && all[i] != shadow[i];
  pal_device_close(d);
  pal_link_counters_t c;
  lts_link_counters(srv, &c);
  lts_stop(srv);
  print_message("  pty: %llu packets, %llu retransmissions, %llu timeouts, %llu failed ops, device: %u "
                "bad CRCs, %u bad headers, %u idle resets, %u duplicate WRITEs; silent corruptions %llu\n",
                (unsigned long long)s.packets_sent, (unsigned long long)s.retransmissions,
                (unsigned long long)s.timeouts, (unsigned long long)failed,
                c.value[PAL_LINK_CTR_RX_BAD_CRC], c.value[PAL_LINK_CTR_RX_BAD_HCRC],
                c.value[PAL_LINK_CTR_RX_IDLE_RESETS], c.value[PAL_LINK_CTR_DUP_WRITES],
                (unsigned long long)silent);
  PAL_TEST_CHECK(seed, silent == 0, "%llu silent corruptions over the pty", (unsigned long long)silent);
  PAL_TEST_CHECK(seed, s.retransmissions > 0, "no retransmission over the pty");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fault_injection_100k_packets),
      cmocka_unit_test(test_fault_injection_pty),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
