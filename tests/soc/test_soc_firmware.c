/* The Verilated SoC with the control core and the real firmware
 * (rtl/pal_soc.v CONTROL_CORE = 1, sim://?fw=1; docs/control-core.md §9):
 *  - a firmware command end to end: FW packet -> link engine -> mailbox ->
 *    firmware -> reply packet, through the driver;
 *  - the driver conformance suite, unchanged, with kernel launches, waits,
 *    STATUS and counters going through the firmware (and bare=1 keeping
 *    the link-only path), on 4x4 (FIFO and UART) and 8x8;
 *  - a kernel far longer than its watchdog limit is stopped by the
 *    firmware, the host gets a clear error, the next kernel is exact;
 *  - a bad kernel image sent as raw FW packets (the host's checks
 *    bypassed) is rejected by the firmware and changes no device byte;
 *  - a firmware that hangs or halts (tests/soc/fw_broken.c) gets NAK
 *    FIRMWARE from the link engine (after its timeout, or at once), which
 *    goes on serving everything else. */
#include <time.h>

#include "conformance_suite.h"
#include "fw_test_util.h"
#include "pal/kernel_image.h"
#include "pal/protocol.h"
#include "pal/soc.h"
#include "pal_soc_debug.h"

#define FW_URI "sim://?fw=1"

static void setup_scheme(void) {
  pal_status_t st = pal_soc_register_scheme();
  if (st) fail_msg("%s", pal_status_message(st));
}

/* ---- one command end to end ------------------------------------------------------ */

static void test_fw_command(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  setup_scheme();
  pal_device_t *d = NULL;
  DOK(seed, FW_URI, pal_device_open(FW_URI, NULL, &d));
  pal_device_info_t info;
  DOK(seed, FW_URI, pal_device_info(d, &info));
  PAL_TEST_CHECK(seed, (info.link.flags & PAL_PROTO_FLAG_FIRMWARE) && info.firmware &&
                           info.firmware_version == 1 && pal_device_uses_firmware(d),
                 "INFO flags 0x%x, firmware %d version %u", (unsigned)info.link.flags, info.firmware,
                 (unsigned)info.firmware_version);

  /* INFO through the firmware: the tile's own ID registers */
  uint32_t r[32];
  size_t n = 0;
  DOK(seed, FW_URI, pal_device_fw_command(d, PAL_FWMSG_INFO, NULL, 0, r, 32, &n));
  uint32_t geometry = 0;
  DOK(seed, FW_URI, pal_device_read_reg(d, PAL_TILE_REG_GEOMETRY, &geometry));
  PAL_TEST_CHECK(seed, n == 13 && r[0] == 0 && r[1] == 0x50414C31u && r[2] == PAL_ISA_VERSION &&
                           r[3] == geometry && r[4] == info.link.tile.imem_depth && r[11] == 1 &&
                           r[12] == PAL_FWMSG_MAX_WORDS,
                 "firmware INFO: %zu words, status %u id 0x%08x geometry 0x%08x (register 0x%08x)", n,
                 (unsigned)r[0], (unsigned)r[1], (unsigned)r[3], (unsigned)geometry);
  /* an unknown command is answered (status 1), the stream stays in step */
  DOK(seed, FW_URI, pal_device_fw_command(d, 0x33, NULL, 0, r, 32, &n));
  PAL_TEST_CHECK(seed, n == 1 && r[0] == 1, "unknown command: %zu words, status %u", n, (unsigned)r[0]);
  /* a payload the command does not take: BAD_LENGTH */
  uint32_t junk[3] = {1, 2, 3};
  DOK(seed, FW_URI, pal_device_fw_command(d, PAL_FWMSG_STATUS, junk, 3, r, 32, &n));
  PAL_TEST_CHECK(seed, n == 1 && r[0] == 2, "STATUS with payload: status %u", (unsigned)r[0]);
  /* RUN outside IMEM */
  uint32_t pc = info.link.tile.imem_depth;
  DOK(seed, FW_URI, pal_device_fw_command(d, PAL_FWMSG_RUN, &pc, 1, r, 32, &n));
  PAL_TEST_CHECK(seed, n == 1 && r[0] == 7, "RUN at pc %u: status %u", (unsigned)pc, (unsigned)r[0]);
  /* the firmware counted what it handled: INFO, unknown, STATUS, RUN, and the driver's INFO at open */
  DOK(seed, FW_URI, pal_device_fw_command(d, PAL_FWMSG_COUNTERS, NULL, 0, r, 32, &n));
  PAL_TEST_CHECK(seed, n == 24 && r[0] == 0 && r[19] == 6 && r[22] == 2 && r[23] == 0,
                 "COUNTERS: %zu words, commands %u, bad messages %u", n, (unsigned)r[19],
                 (unsigned)r[22]);
  pal_device_close(d);

  /* bare=1: the same device, the firmware left alone */
  DOK(seed, FW_URI, pal_device_open(FW_URI "&bare=1", NULL, &d));
  DOK(seed, FW_URI, pal_device_info(d, &info));
  PAL_TEST_CHECK(seed, (info.link.flags & PAL_PROTO_FLAG_FIRMWARE) && !info.firmware &&
                           !pal_device_uses_firmware(d),
                 "bare=1: firmware %d", info.firmware);
  pal_device_close(d);

  /* without the core the link engine NAKs FW packets as an unknown type, as
   * the C link model does; the driver does not even try */
  DOK(seed, "sim://", pal_device_open("sim://", NULL, &d));
  pal_status_t st = pal_device_fw_command(d, PAL_FWMSG_INFO, NULL, 0, r, 32, &n);
  PAL_TEST_CHECK(seed, pal_status_code(st) == PAL_UNIMPLEMENTED, "fw command on sim://: %s",
                 pal_status_message(st));
  pal_status_free(st);
  pal_device_close(d);
}

/* ---- the conformance suite on the firmware path --------------------------------- */

static void test_conformance_fw(void **state) {
  (void)state;
  setup_scheme();
  conformance(pal_test_seed() + 11, FW_URI, NULL, 4, 4, true);
}

/* the same over the UART (the boards' attachment), 4 clocks per bit */
static void test_conformance_fw_uart(void **state) {
  (void)state;
  setup_scheme();
  conformance(pal_test_seed() + 13, FW_URI "&attach=uart&timeout_ms=4000", NULL, 4, 4, true);
}

/* the 8x8 tile behind the same firmware image: geometry and buffer sizes
 * come from the tile's ID registers, nothing about 4x4 is built in */
static void test_conformance_fw_8x8(void **state) {
  (void)state;
  setup_scheme();
  conformance(pal_test_seed() + 14, FW_URI "&rows=8&cols=8", NULL, 8, 8, true);
}

static void test_conformance_fw_bare(void **state) {
  (void)state;
  setup_scheme();
  conformance(pal_test_seed() + 12, FW_URI "&bare=1", NULL, 4, 4, true);
}

/* ---- the watchdog ---------------------------------------------------------------- */

static void test_watchdog(void **state) {
  (void)state;
  setup_scheme();
  fw_watchdog_check(pal_test_seed() + 13, FW_URI);
}

/* ---- a bad image through raw FW packets ---------------------------------------- */

static void test_bad_image(void **state) {
  (void)state;
  setup_scheme();
  fw_bad_image_check(pal_test_seed() + 14, FW_URI);
}

/* ---- the link engine's FW rules, raw frames ---------------------------------------- */

/* Sends one frame and clocks until one reply frame is out; returns its
 * type and copies its payload. */
static uint8_t raw_exchange(uint64_t seed, pal_soc_t *soc, pal_frame_parser_t *p, uint8_t type, uint8_t seq,
                            const uint8_t *payload, uint16_t len, uint8_t *out, size_t *out_len) {
  uint8_t buf[512];
  size_t n = 0;
  pal_frame_t f = {type, seq, PAL_PROTO_VERSION, len, payload};
  DOK(seed, "raw", pal_frame_encode(&f, buf, sizeof buf, &n));
  DOK(seed, "raw", pal_soc_write_bytes(soc, buf, n));
  for (int k = 0; k < 3000000; k++) {  /* past the FW timeout, 2^20 */
    DOK(seed, "raw", pal_soc_run(soc, 1));
    uint8_t b[64];
    size_t got = pal_soc_read_bytes(soc, b, sizeof b), off = 0;
    while (off < got) {
      pal_frame_event_t ev;
      pal_frame_t r;
      off += pal_frame_parser_push(p, b + off, got - off, &ev, &r);
      PAL_TEST_CHECK(seed, ev == PAL_FRAME_NONE || ev == PAL_FRAME_OK, "reply frame event %s",
                     pal_frame_event_name(ev));
      if (ev == PAL_FRAME_OK) {
        PAL_TEST_CHECK(seed, r.seq == seq && off == got, "reply seq %u for %u", r.seq, seq);
        memcpy(out, r.payload, r.len);
        *out_len = r.len;
        return r.type;
      }
    }
  }
  PAL_TEST_FAIL(seed, "no reply to a frame of type 0x%02x", type);
  return 0;
}

static void test_fw_link_rules(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 15;
  pal_frame_parser_t *p = NULL;
  DOK(seed, "raw", pal_frame_parser_create(4096, &p));
  uint8_t out[4096];
  size_t n = 0;
  /* FW COUNTERS request: header only */
  uint8_t msg[8] = {0x06, 0x01, 0x00, 0x00};

  /* without the core: NAK 2, as the C link model answers */
  pal_soc_options_t o;
  pal_soc_options_initialize(&o);
  pal_soc_t *soc = NULL;
  DOK(seed, "raw", pal_soc_create(&o, &soc));
  uint8_t t = raw_exchange(seed, soc, p, PAL_MSG_FW, 1, msg, 4, out, &n);
  PAL_TEST_CHECK(seed, t == PAL_MSG_NAK && n == 1 && out[0] == PAL_NAK_UNKNOWN_TYPE,
                 "FW on the bare SoC: type 0x%02x reason %u", t, out[0]);
  pal_soc_destroy(soc);

  o.firmware = true;
  DOK(seed, "raw", pal_soc_create(&o, &soc));
  /* INFO reports the firmware */
  t = raw_exchange(seed, soc, p, PAL_MSG_INFO, 1, NULL, 0, out, &n);
  PAL_TEST_CHECK(seed, t == PAL_MSG_INFO_REPLY && n == 64 && (out[6] & 1), "INFO flags 0x%02x", out[6]);
  /* LEN disagreeing with the header's word count, or not whole words: NAK 3 */
  msg[2] = 1; /* says one payload word, carries none */
  t = raw_exchange(seed, soc, p, PAL_MSG_FW, 2, msg, 4, out, &n);
  PAL_TEST_CHECK(seed, t == PAL_MSG_NAK && out[0] == PAL_NAK_BAD_LENGTH, "FW N=1 in 4 bytes: 0x%02x %u", t, out[0]);
  msg[2] = 0;
  t = raw_exchange(seed, soc, p, PAL_MSG_FW, 3, msg, 6, out, &n);
  PAL_TEST_CHECK(seed, t == PAL_MSG_NAK && out[0] == PAL_NAK_BAD_LENGTH, "FW of 6 bytes: 0x%02x %u", t, out[0]);
  /* a good one: the firmware's COUNTERS (24 words after the header) */
  t = raw_exchange(seed, soc, p, PAL_MSG_FW, 4, msg, 4, out, &n);
  uint32_t head = (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 | (uint32_t)out[3] << 24;
  PAL_TEST_CHECK(seed, t == PAL_MSG_FW_REPLY && n == 4 * 25 && head == (0x86u | 1u << 8 | 24u << 16),
                 "FW COUNTERS: type 0x%02x, %zu bytes, header 0x%08x", t, n, (unsigned)head);
  uint8_t first[4 * 25];
  memcpy(first, out, sizeof first);
  uint32_t commands = (uint32_t)out[4 + 4 * 19] | (uint32_t)out[4 + 4 * 19 + 1] << 8;
  /* the same frame again (a retransmission): not run again, the firmware
   * replays its reply byte for byte */
  t = raw_exchange(seed, soc, p, PAL_MSG_FW, 4, msg, 4, out, &n);
  PAL_TEST_CHECK(seed, t == PAL_MSG_FW_REPLY && n == sizeof first && !memcmp(out, first, sizeof first),
                 "repeated FW: type 0x%02x, %zu bytes, %s the first reply", t, n,
                 n == sizeof first && !memcmp(out, first, sizeof first) ? "equal to" : "not");
  /* a fresh SEQ: run; the firmware ran exactly one more command and made one replay */
  t = raw_exchange(seed, soc, p, PAL_MSG_FW, 5, msg, 4, out, &n);
  uint32_t commands2 = (uint32_t)out[4 + 4 * 19] | (uint32_t)out[4 + 4 * 19 + 1] << 8;
  uint32_t replays = (uint32_t)out[4 + 4 * 23] | (uint32_t)out[4 + 4 * 23 + 1] << 8;
  PAL_TEST_CHECK(seed, t == PAL_MSG_FW_REPLY && commands2 == commands + 1 && replays == 1,
                 "commands %u then %u, %u replays: the repeated frame ran again", (unsigned)commands,
                 (unsigned)commands2, (unsigned)replays);
  pal_soc_destroy(soc);
  pal_frame_parser_destroy(p);
}

/* ---- lost replies ------------------------------------------------------------------ */

/* A FW command whose reply is lost has run; the host retransmits it with
 * the same SEQ, the link engine marks it, and the firmware sends its kept
 * reply again instead of running it twice (docs/protocol.md §4.2). Over a
 * link that drops bytes both ways, 150 rounds of RUN (not idempotent: a
 * kernel start) and STATUS polls all succeed, and nothing ran twice: the
 * tile's CYC_TOTAL is exactly 150 runs' worth, the link engine counted 150
 * kernel starts and the firmware exactly the commands the host made. */
static void test_fw_lost_replies(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 33;
  setup_scheme();
  pal_device_options_t o;
  pal_device_options_initialize(&o);
  o.timeout_ms = 5; /* model time: 60 000 cycles, 20x a STATUS exchange */
  o.retries = 12;
  o.faults.drop_rate = 0.004;
  o.faults.seed = seed;
  pal_device_t *d = NULL;
  DOK(seed, FW_URI, pal_device_open(FW_URI, &o, &d));
  /* one END: a kernel of a few cycles, written over the bare path */
  uint32_t end[4];
  pal_isa_instr_t in;
  memset(&in, 0, sizeof in);
  in.opcode = PAL_ISA_OP_END;
  DOK(seed, FW_URI, pal_isa_encode(&in, end));
  DOK(seed, FW_URI, pal_device_load_program(d, 0, end, 4));
  DOK(seed, FW_URI, pal_device_reset(d));
  uint32_t r[32];
  size_t n = 0;
  DOK(seed, FW_URI, pal_device_fw_command(d, PAL_FWMSG_COUNTERS, NULL, 0, r, 32, &n));
  uint32_t commands0 = r[19];
  pal_link_counters_t l0, l1;
  DOK(seed, FW_URI, pal_device_read_link_counters(d, &l0));
  pal_link_stats_t s0, s1;
  pal_device_link_stats(d, &s0);
  enum { RUNS = 150 };
  uint32_t sent = 0, pc = 0;
  for (int k = 0; k < RUNS; k++) {
    DOK(seed, FW_URI, pal_device_fw_command(d, PAL_FWMSG_RUN, &pc, 1, r, 32, &n));
    sent++;
    PAL_TEST_CHECK(seed, n >= 1 && r[0] == 0, "RUN %d: status %u", k, (unsigned)r[0]);
    do {
      DOK(seed, FW_URI, pal_device_fw_command(d, PAL_FWMSG_STATUS, NULL, 0, r, 32, &n));
      sent++;
    } while (r[1] == 1); /* running */
    PAL_TEST_CHECK(seed, r[0] == 0 && r[1] == 2, "run %d: STATUS status %u, run state %u", k,
                   (unsigned)r[0], (unsigned)r[1]);
  }
  pal_device_link_stats(d, &s1);
  DOK(seed, FW_URI, pal_device_fw_command(d, PAL_FWMSG_COUNTERS, NULL, 0, r, 32, &n));
  sent++;
  PAL_TEST_CHECK(seed, r[23] > 0 && s1.retransmissions > s0.retransmissions,
                 "no reply was lost (%u replays, %llu retransmissions): raise the drop rate",
                 (unsigned)r[23], (unsigned long long)(s1.retransmissions - s0.retransmissions));
  PAL_TEST_CHECK(seed, r[19] - commands0 == sent,
                 "the firmware ran %u commands for the host's %u (%u replays)",
                 (unsigned)(r[19] - commands0), (unsigned)sent, (unsigned)r[23]);
  DOK(seed, FW_URI, pal_device_read_link_counters(d, &l1));
  PAL_TEST_CHECK(seed, l1.value[PAL_LINK_CTR_KERNEL_STARTS] - l0.value[PAL_LINK_CTR_KERNEL_STARTS] == RUNS,
                 "%u kernel starts for %d runs",
                 (unsigned)(l1.value[PAL_LINK_CTR_KERNEL_STARTS] - l0.value[PAL_LINK_CTR_KERNEL_STARTS]), RUNS);
  pal_tile_counters_t c;
  DOK(seed, FW_URI, pal_device_read_counters(d, &c));
  pal_tile_counters_t ref;
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  pal_emu_t *emu = NULL;
  DOK(seed, "emu", pal_emu_create(&cfg, &emu));
  pal_tile_device_t *ed = pal_emu_device(emu);
  DOK(seed, "emu", pal_tile_device_load_program(ed, 0, end, 4));
  DOK(seed, "emu", pal_tile_device_run(ed, 0, PAL_TILE_NO_CYCLE_LIMIT, NULL));
  DOK(seed, "emu", pal_tile_device_read_counters(ed, &ref));
  pal_emu_destroy(emu);
  PAL_TEST_CHECK(seed, c.value[PAL_TILE_CTR_CYC_TOTAL] == RUNS * ref.value[PAL_TILE_CTR_CYC_TOTAL],
                 "CYC_TOTAL %llu after %d runs of a %llu-cycle kernel",
                 (unsigned long long)c.value[PAL_TILE_CTR_CYC_TOTAL], RUNS,
                 (unsigned long long)ref.value[PAL_TILE_CTR_CYC_TOTAL]);
  pal_device_close(d);
}

/* ---- a firmware that stops answering (tests/soc/fw_broken.c) ---------------------- */

#define FW_TIMEOUT_CYCLES (1u << 20) /* rtl/pal_link_exec.v FW_TIMEOUT, the SoC's default */

static void test_fw_broken(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 21;
  pal_frame_parser_t *p = NULL;
  DOK(seed, "broken", pal_frame_parser_create(4096, &p));
  uint8_t out[4096];
  size_t n = 0;
  uint8_t info_msg[4] = {PAL_FWMSG_INFO, 0x01, 0x00, 0x00};     /* hangs the broken firmware */
  uint8_t status_msg[4] = {PAL_FWMSG_STATUS, 0x02, 0x00, 0x00}; /* halts it */

  /* hung: the link engine gives up after its timeout and says so */
  pal_soc_t *soc = NULL;
  DOK(seed, "broken", pal_soc_create_with_broken_firmware(NULL, &soc));
  uint64_t c0 = pal_soc_cycle(soc);
  uint8_t t = raw_exchange(seed, soc, p, PAL_MSG_FW, 1, info_msg, 4, out, &n);
  uint64_t took = pal_soc_cycle(soc) - c0;
  PAL_TEST_CHECK(seed, t == PAL_MSG_NAK && n == 1 && out[0] == PAL_NAK_FIRMWARE,
                 "FW to a hung firmware: type 0x%02x reason %u", t, out[0]);
  PAL_TEST_CHECK(seed, took >= FW_TIMEOUT_CYCLES && took < FW_TIMEOUT_CYCLES + 5000,
                 "NAK FIRMWARE after %llu cycles, the timeout is %u", (unsigned long long)took,
                 FW_TIMEOUT_CYCLES);
  /* given up on: the next FW request is refused at once, a new SEQ too */
  c0 = pal_soc_cycle(soc);
  t = raw_exchange(seed, soc, p, PAL_MSG_FW, 2, status_msg, 4, out, &n);
  took = pal_soc_cycle(soc) - c0;
  PAL_TEST_CHECK(seed, t == PAL_MSG_NAK && out[0] == PAL_NAK_FIRMWARE && took < 2000,
                 "FW after the timeout: type 0x%02x reason %u after %llu cycles", t, out[0],
                 (unsigned long long)took);
  /* the link engine itself still serves everything else */
  uint8_t ping[5] = {1, 2, 3, 4, 5};
  t = raw_exchange(seed, soc, p, PAL_MSG_PING, 3, ping, 5, out, &n);
  PAL_TEST_CHECK(seed, t == PAL_MSG_PONG && n == 5 && !memcmp(out, ping, 5), "PING after: 0x%02x", t);
  uint8_t rd[6] = {0, 0, 0, 0, 4, 0}; /* READ the tile's ID register */
  t = raw_exchange(seed, soc, p, PAL_MSG_READ, 4, rd, 6, out, &n);
  uint32_t id = (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 | (uint32_t)out[3] << 24;
  PAL_TEST_CHECK(seed, t == PAL_MSG_READ_REPLY && n == 4 && id == PAL_TILE_ID_VALUE,
                 "READ ID after: 0x%02x, %zu bytes, 0x%08x", t, n, (unsigned)id);
  /* and through the host's link layer the failure is named, not a timeout */
  pal_transport_t tr;
  DOK(seed, "broken", pal_soc_transport(soc, "sim://broken", &tr));
  pal_link_t *link = NULL;
  DOK(seed, "broken", pal_link_create(tr, NULL, &link));
  pal_status_t st = pal_link_transact(link, PAL_MSG_FW, info_msg, 4, out, sizeof out, &n);
  PAL_TEST_CHECK(seed, st && pal_status_code(st) == PAL_UNAVAILABLE &&
                           strstr(pal_status_message(st), "FIRMWARE") &&
                           strstr(pal_status_message(st), "bare=1"),
                 "link layer: %s", st ? pal_status_message(st) : "OK");
  pal_status_free(st);
  DOK(seed, "broken", pal_link_ping(link, ping, 5));
  pal_link_destroy(link);
  pal_soc_destroy(soc);

  /* halted: NAK FIRMWARE as soon as the core stops, not after the timeout */
  DOK(seed, "broken", pal_soc_create_with_broken_firmware(NULL, &soc));
  c0 = pal_soc_cycle(soc);
  t = raw_exchange(seed, soc, p, PAL_MSG_FW, 1, status_msg, 4, out, &n);
  took = pal_soc_cycle(soc) - c0;
  PAL_TEST_CHECK(seed, t == PAL_MSG_NAK && out[0] == PAL_NAK_FIRMWARE && took < 5000,
                 "FW to a halting firmware: type 0x%02x reason %u after %llu cycles", t, out[0],
                 (unsigned long long)took);
  t = raw_exchange(seed, soc, p, PAL_MSG_PING, 2, ping, 5, out, &n);
  PAL_TEST_CHECK(seed, t == PAL_MSG_PONG, "PING after the halt: 0x%02x", t);
  pal_soc_destroy(soc);
  pal_frame_parser_destroy(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fw_command),
      cmocka_unit_test(test_fw_link_rules),
      cmocka_unit_test(test_fw_broken),
      cmocka_unit_test(test_fw_lost_replies),
      cmocka_unit_test(test_conformance_fw),
      cmocka_unit_test(test_conformance_fw_uart),
      cmocka_unit_test(test_conformance_fw_8x8),
      cmocka_unit_test(test_conformance_fw_bare),
      cmocka_unit_test(test_watchdog),
      cmocka_unit_test(test_bad_image),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
