/* Part of make bench-firmware: the firmware's command latency in the real
 * SoC (rtl/pal_soc.v with CONTROL_CORE = 1, Verilated, FIFO attachment),
 * link engine and mailbox included, in cycles of the one SoC clock:
 *   - FW INFO: the request's last byte into the link engine -> the reply's
 *     last byte out;
 *   - launch: a FW RUN's last byte in -> the tile's STATUS.busy rises
 *     (link engine, mailbox, firmware, tile write);
 *   - done -> reply: the tile's busy falls -> the last byte out of the
 *     first FW STATUS reply that reports the end, the host polling back to
 *     back (a request sent as soon as the previous reply is complete).
 *   - WRITE of 252 bytes: the request's last byte in -> the WRITE_ACK's
 *     last byte out (the link's own cost per packet).
 * Frames are built with the driver's encoder and fed byte by byte, the
 * model clocked one cycle at a time, so the counts are exact. Writes a
 * table to stdout and the results to the JSON file given.
 *
 * --board icebreaker: the same on the iCEBreaker's firmware-link SoC
 * (rtl/pal_fwsoc.v: the control core serves the link itself,
 * docs/control-core.md §10), linked with that model alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "pal/protocol.h"
#include "pal/soc.h"
#include "pal/tile.h"
#include "pal_soc_debug.h"

static pal_soc_t *soc;
static pal_frame_parser_t *parser;
static uint8_t seq;
static uint8_t reply[4096];
static size_t reply_len;
static uint8_t reply_type;
static uint64_t busy_at, done_at; /* the tile's start and end, as the clock saw them */

/* One cycle; watches the tile's busy line for the end of the launched run. */
static void tick(void) {
  pal_soc_run(soc, 1);
  if (busy_at && !done_at && !pal_soc_tile_busy(soc)) done_at = pal_soc_cycle(soc);
}

static void die(pal_status_t st, const char *what) {
  if (!st) return;
  fprintf(stderr, "bench_soc_firmware: %s: %s\n", what, pal_status_message(st));
  exit(1);
}

static void send(uint8_t type, const uint8_t *payload, uint16_t len) {
  uint8_t buf[4096 + PAL_PROTO_OVERHEAD];
  size_t n = 0;
  pal_frame_t f = {type, ++seq, PAL_PROTO_VERSION, len, payload};
  die(pal_frame_encode(&f, buf, sizeof buf, &n), "encode");
  die(pal_soc_write_bytes(soc, buf, n), "write");
}

/* Clocks until every request byte is in; returns that cycle. */
static uint64_t until_sent(void) {
  while (pal_soc_input_pending(soc)) tick();
  return pal_soc_cycle(soc);
}

/* Clocks until a whole reply frame is out (cycle of its last byte). */
static uint64_t until_reply(void) {
  for (uint64_t guard = 0; guard < 50000000ull; guard++) {
    tick();
    uint8_t b[64];
    size_t n = pal_soc_read_bytes(soc, b, sizeof b);
    size_t off = 0;
    while (off < n) {
      pal_frame_event_t ev;
      pal_frame_t f;
      off += pal_frame_parser_push(parser, b + off, n - off, &ev, &f);
      if (ev == PAL_FRAME_OK) {
        reply_type = f.type;
        reply_len = f.len;
        memcpy(reply, f.payload, f.len);
        return pal_soc_cycle(soc);
      }
      if (ev != PAL_FRAME_NONE) {
        fprintf(stderr, "bench_soc_firmware: reply %s\n", pal_frame_event_name(ev));
        exit(1);
      }
    }
  }
  fprintf(stderr, "bench_soc_firmware: no reply\n");
  exit(1);
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A firmware message; returns the cycle its request was all in. */
static uint64_t fw_send(uint32_t cmd, const uint32_t *payload, uint32_t n) {
  uint8_t b[4 * 65];
  put32(b, cmd | (uint32_t)seq << 8 | n << 16);
  for (uint32_t i = 0; i < n; i++) put32(b + 4 + 4 * i, payload[i]);
  send(PAL_MSG_FW, b, (uint16_t)(4 + 4 * n));
  return until_sent();
}

static void expect_fw_ok(const char *what) {
  if (reply_type != PAL_MSG_FW_REPLY || reply_len < 8 || get32(reply + 4) != 0) {
    fprintf(stderr, "bench_soc_firmware: %s: reply type 0x%02x, %zu bytes, status %u\n", what,
            reply_type, reply_len, reply_len >= 8 ? get32(reply + 4) : 0u);
    exit(1);
  }
}

int main(int argc, char **argv) {
  const char *board = NULL;
  if (argc == 5 && strcmp(argv[3], "--board") == 0) board = argv[4];
  if ((argc != 3 && !board) || strcmp(argv[1], "--json") != 0) {
    fprintf(stderr, "usage: %s --json PATH [--board NAME]\n", argv[0]);
    return 2;
  }
  pal_soc_options_t o;
  pal_soc_options_initialize(&o);
  if (board)
    o.board = board;
  else
    o.firmware = true;
  die(pal_soc_create(&o, &soc), "create");
  die(pal_frame_parser_create(4096, &parser), "parser");

  /* a small kernel in IMEM over the bare path: one GEMM and END */
  pal_asm_program_t prog = {0};
  static const char text[] = "gemm a=0 as=2 m=1 k=2 w=0 nt=1 acc=0 init=zero\nend\n";
  die(pal_asm_assemble(text, sizeof text - 1, NULL, &prog), "assemble");
  uint8_t w[4 + 64];
  put32(w, PAL_ADDR_IMEM);
  for (size_t i = 0; i < prog.word_count; i++) put32(w + 4 + 4 * i, prog.words[i]);
  send(PAL_MSG_WRITE, w, (uint16_t)(4 + 4 * prog.word_count));
  until_sent();
  until_reply();
  pal_asm_program_release(&prog);

  /* INFO twice: the first one also waits for the firmware's boot */
  fw_send(0x01, NULL, 0);
  until_reply();
  uint64_t t0 = fw_send(0x01, NULL, 0);
  uint64_t info = until_reply() - t0;
  expect_fw_ok("INFO");
  const uint32_t rows = get32(reply + 8 + 4 * 2) & 0xFF, cols = (get32(reply + 8 + 4 * 2) >> 8) & 0xFF;

  /* a WRITE of 252 bytes into ABUF: the link's cost per packet */
  uint8_t wr[4 + 252];
  put32(wr, PAL_ADDR_ABUF_CODES);
  for (size_t i = 4; i < sizeof wr; i++) wr[i] = (uint8_t)(i * 7);
  send(PAL_MSG_WRITE, wr, sizeof wr);
  t0 = until_sent();
  uint64_t write252 = until_reply() - t0;
  if (reply_type != PAL_MSG_WRITE_ACK) {
    fprintf(stderr, "bench_soc_firmware: WRITE answered with type 0x%02x\n", reply_type);
    return 1;
  }

  /* launch: RUN in -> busy */
  uint32_t pc = 0;
  t0 = fw_send(0x07, &pc, 1);
  while (!pal_soc_tile_busy(soc)) {
    tick();
    if (pal_soc_cycle(soc) - t0 > 10000000ull) {
      fprintf(stderr, "bench_soc_firmware: the tile never started\n");
      return 1;
    }
  }
  busy_at = pal_soc_cycle(soc);
  uint64_t launch = busy_at - t0;
  until_reply();
  expect_fw_ok("RUN");

  /* done -> reply: poll STATUS back to back until it reports run state 2 */
  uint64_t done_reply = 0;
  for (int polls = 0; polls < 1000 && !done_reply; polls++) {
    fw_send(0x05, NULL, 0);
    uint64_t out = until_reply();
    expect_fw_ok("STATUS");
    if (done_at && get32(reply + 8) == 2) done_reply = out - done_at;
  }
  if (!done_reply) {
    fprintf(stderr, "bench_soc_firmware: STATUS never reported the end\n");
    return 1;
  }

  /* the layer at its ideal M N K / P cycles on this SoC's array */
  const double layer = 256.0 * 256.0 * 64.0 / (double)(rows * cols);
  double overhead = (double)(launch + done_reply) / layer;
  char soc_name[64], soc_json[160], layer_json[200];
  snprintf(soc_name, sizeof soc_name, "%ux%u %s", (unsigned)rows, (unsigned)cols,
           board ? "firmware link" : "fifo fw");
  snprintf(soc_json, sizeof soc_json, "\"soc\": \"%s\"", board ? board : "4x4 fifo fw");
  snprintf(layer_json, sizeof layer_json,
           "\"soc\": \"%s\", \"layer\": \"256x256\", \"batch\": 64, \"geometry\": \"%ux%u\", "
           "\"layer_cycles\": \"ideal MNK/P\"",
           board ? board : "4x4 fifo fw", (unsigned)rows, (unsigned)cols);
  printf("%-40s %10s %s\n", board ? "in the Verilated SoC (firmware link)" : "in the Verilated SoC (link + mailbox)",
         "value", "unit");
  printf("%-40s %10llu cycles\n", "FW INFO: request in -> reply out", (unsigned long long)info);
  printf("%-40s %10llu cycles\n", "FW RUN in -> tile busy", (unsigned long long)launch);
  printf("%-40s %10llu cycles\n", "tile done -> FW STATUS reply out", (unsigned long long)done_reply);
  printf("%-40s %10llu cycles\n", "WRITE 252 bytes: request in -> ACK out", (unsigned long long)write252);
  printf("%-40s %10.4f ratio (target < 0.01: %s)\n", "SoC overhead / 256x256x64 layer", overhead,
         bench_verdict(overhead, "<", 0.01));
  printf("(%s; the layer at its ideal %.0f cycles on %u PEs)\n", soc_name, layer, (unsigned)(rows * cols));

  bench_json_t j;
  if (bench_json_open(&j, argv[2], "firmware_soc") != 0) return 1;
  const char *pre = board ? "fwlink_" : "soc_";
  char key[64];
  snprintf(key, sizeof key, "%sinfo_round_trip_cycles", pre);
  bench_json_result(&j, key, (double)info, "cycles", soc_json, NULL, 0);
  snprintf(key, sizeof key, "%slaunch_latency_cycles", pre);
  bench_json_result(&j, key, (double)launch, "cycles", soc_json, NULL, 0);
  snprintf(key, sizeof key, "%sdone_reply_cycles", pre);
  bench_json_result(&j, key, (double)done_reply, "cycles", soc_json, NULL, 0);
  snprintf(key, sizeof key, "%swrite252_cycles", pre);
  bench_json_result(&j, key, (double)write252, "cycles", soc_json, NULL, 0);
  snprintf(key, sizeof key, "%scommand_overhead_ratio", pre);
  bench_json_result(&j, key, overhead, "ratio", layer_json, "<", 0.01);
  pal_frame_parser_destroy(parser);
  pal_soc_destroy(soc);
  return bench_json_close(&j) == 0 ? 0 : 1;
}
