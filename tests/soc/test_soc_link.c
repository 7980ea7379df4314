/* Differential tests of the RTL link engine (rtl/pal_link*.v, through the
 * Verilated SoC's FIFO attachment) against driver/pal_link_model.c over the
 * emulator: every request type, malformed frames of every kind, the
 * duplicate-WRITE rule, the idle timeout, a start while busy, garbage
 * between frames and seeded random streams. Replies must be identical byte
 * for byte; link counters, tile registers and every memory region are then
 * read back on both sides (READ replies compared the same way). */
#include "soc_diff.h"

static void random_bytes(pal_test_rng_t *rng, uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)pal_test_rng_u32(rng);
}

/* A small GEMM + POST + END program over whatever the buffers hold. */
static void program(uint64_t seed, uint32_t m_count, uint32_t k_blocks, uint32_t words[12]) {
  pal_isa_instr_t g, p, e;
  pal_isa_instr_initialize(&g, PAL_ISA_OP_GEMM);
  g.init = PAL_ISA_INIT_BIAS, g.n_tiles = 1, g.a_stride = k_blocks, g.a_base = 0;
  g.k_blocks = k_blocks, g.m_count = m_count, g.acc_base = 0, g.w_base = 0, g.bias_base = 0;
  pal_isa_instr_initialize(&p, PAL_ISA_OP_POST);
  p.out_fmt = PAL_ISA_OUT_FP32, p.act = PAL_ISA_ACT_RELU, p.n_count = 4;
  p.acc_base = 0, p.m_count = m_count, p.out_stride = 4, p.out_base = 0;
  pal_isa_instr_initialize(&e, PAL_ISA_OP_END);
  TT_OK(seed, pal_isa_encode(&g, words));
  TT_OK(seed, pal_isa_encode(&p, words + 4));
  TT_OK(seed, pal_isa_encode(&e, words + 8));
}

static void load_operands(sd_t *d, pal_test_rng_t *rng, uint32_t blocks) {
  uint8_t buf[4096];
  uint32_t P = d->rows * d->cols;
  random_bytes(rng, buf, sizeof buf);
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(buf[i] % 7 == 0 ? 0 : buf[i]);
  sd_write(d, PAL_ADDR_ABUF_CODES, buf, blocks * 32 > 4092 ? 4092 : blocks * 32, "ABUF codes");
  for (uint32_t b = 0; b < blocks; b++) buf[b] = (uint8_t)(120 + pal_test_rng_below(rng, 12));
  sd_write(d, PAL_ADDR_ABUF_SCALES, buf, blocks, "ABUF scales");
  for (uint32_t pe = 0; pe < P; pe++) {
    random_bytes(rng, buf, 256);
    sd_write(d, PAL_ADDR_WMEM_CODES + pe * PAL_ADDR_WMEM_CODES_STRIDE, buf, 256, "WMEM codes");
    for (int b = 0; b < 8; b++) buf[b] = (uint8_t)(118 + pal_test_rng_below(rng, 12));
    sd_write(d, PAL_ADDR_WMEM_SCALES + pe * PAL_ADDR_WMEM_SCALES_STRIDE, buf, 8, "WMEM scales");
  }
  for (uint32_t i = 0; i < P; i++) put32(buf + 4 * i, 0x3F800000u + (pal_test_rng_u32(rng) & 0xFFFF));
  sd_write(d, PAL_ADDR_BIAS, buf, 4 * P, "BIAS");
}

/* ---- every request type, good -------------------------------------------------- */
static void requests(uint64_t seed, uint32_t rows, uint32_t cols) {
  sd_t d;
  sd_open(&d, seed, rows, cols, PAL_TILE_NO_CYCLE_LIMIT);
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  uint8_t buf[4096];

  sd_frame(&d, PAL_MSG_INFO, NULL, 0, "INFO");
  /* INFO itself against the geometry: the RTL's parameters are the tile's */
  {
    uint8_t f[16], rep[128];
    size_t n = sd_encode(PAL_MSG_INFO, 200, NULL, 0, f);
    SD_OK(&d, pal_soc_write_bytes(d.soc, f, n));
    SD_OK(&d, pal_soc_run(d.soc, 300));
    size_t got = pal_soc_read_bytes(d.soc, rep, sizeof rep);
    PAL_TEST_CHECK(seed, got == 64 + PAL_PROTO_OVERHEAD, "INFO reply of %zu bytes", got);
    pal_link_info_t info;
    SD_OK(&d, pal_link_info_decode(rep + 7, 64, &info));
    PAL_TEST_CHECK(seed, !memcmp(&info.tile, pal_soc_config(d.soc), sizeof info.tile) &&
                             info.max_payload == 4096 && info.idle_byte_times == 4096 &&
                             info.clock_hz == 12000000 && !strcmp(info.name, "sim"),
                   "INFO: %ux%u units %u, max payload %u, idle %u, clock %u, name %s", info.tile.rows,
                   info.tile.cols, info.tile.acc_units, info.max_payload, info.idle_byte_times,
                   info.clock_hz, info.name);
    pal_link_model_receive(d.model, f, n); /* keep the counters in step */
    d.mout.n = 0;
  }
  for (size_t len = 0; len <= 4096; len = len ? len * 4 : 1) {
    random_bytes(&rng, buf, len);
    sd_frame(&d, PAL_MSG_PING, buf, len, "PING");
  }
  random_bytes(&rng, buf, 4096);
  sd_frame(&d, PAL_MSG_PING, buf, 4096, "PING 4096");

  /* every region: starts, ends, unaligned byte accesses, the last PE */
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, rows, cols);
  uint32_t P = rows * cols;
  for (int r = 0; r < PAL_TILE_REGION_COUNT; r++) {
    pal_tile_region_t reg = (pal_tile_region_t)r;
    size_t es = pal_tile_region_element_size(reg);
    uint64_t bytes = pal_tile_region_length(&cfg, reg) * es;
    uint32_t pes[3] = {0, P / 2, P - 1};
    for (int k = 0; k < (pal_tile_region_is_per_pe(reg) ? 3 : 1); k++) {
      uint32_t base;
      SD_OK(&d, pal_bus_region_address(&cfg, reg, pes[k], 0, &base));
      for (int t = 0; t < 4; t++) {
        uint32_t n = (uint32_t)(1 + pal_test_rng_below(&rng, 700));
        if (n > bytes / 2) n = (uint32_t)(bytes / 2);
        uint32_t off = (uint32_t)pal_test_rng_below(&rng, (uint32_t)(bytes - n));
        if (t == 1) off = 0, n = (uint32_t)(bytes < 4092 ? bytes : 4092);
        if (t == 2) off = (uint32_t)(bytes - (n < bytes ? n : bytes));
        if (es == 4) off &= ~3u, n = (n + 3) & ~3u;
        if (off + n > bytes) n = (uint32_t)(bytes - off);
        random_bytes(&rng, buf, n);
        if (reg == PAL_TILE_REGION_ACC_NAR)
          for (uint32_t i = 0; i < n; i++) buf[i] &= 1;
        sd_write(&d, base + off, buf, n, pal_tile_region_name(reg));
        sd_read(&d, base + off, n, pal_tile_region_name(reg));
      }
    }
  }
  /* registers: the writable ones, runs of several, reads of every run */
  sd_write32(&d, 0x44, 0x1234, "START_PC");
  sd_write32(&d, 0x4C, 0xBF800000u, "CLIP_LO");
  put32(buf, 0x40490FDBu), put32(buf + 4, 0xC0000000u);
  sd_write(&d, 0x4C, buf, 8, "CLIP_LO, CLIP_HI");
  put32(buf, 0), put32(buf + 4, 0x20);
  sd_write(&d, 0x40, buf, 8, "CONTROL, START_PC");
  sd_read(&d, 0x00, 36, "ID registers");
  sd_read(&d, 0x40, 20, "CONTROL..CLIP_HI");
  sd_read(&d, 0x48, 4, "STATUS");
  sd_read(&d, 0x80, 72, "counters");
  sd_read(&d, PAL_ADDR_LINK_REGS + 8, 12, "three link counters");

  /* a kernel: program, operands, start (and reset+start), results */
  uint32_t prog[12];
  program(seed, 4, 2, prog);
  sd_write(&d, PAL_ADDR_IMEM, (const uint8_t *)prog, sizeof prog, "program");
  load_operands(&d, &rng, 8);
  sd_write32(&d, 0x44, 0, "START_PC 0");
  sd_write32(&d, 0x40, PAL_TILE_CONTROL_START, "CONTROL start");
  sd_read(&d, 0x48, 4, "STATUS after the kernel");
  sd_read(&d, 0x80, 72, "counters after the kernel");
  sd_write32(&d, 0x40, PAL_TILE_CONTROL_START | PAL_TILE_CONTROL_RESET, "CONTROL reset+start");
  sd_write32(&d, 0x40, PAL_TILE_CONTROL_RESET, "CONTROL reset");
  sd_read(&d, 0x80, 72, "counters after a reset");
  sd_write32(&d, 0x40, PAL_TILE_CONTROL_START, "CONTROL start again");
  sd_read_everything(&d);
  sd_close(&d);
}

static void test_requests_4x4(void **state) {
  (void)state;
  requests(pal_test_seed(), 4, 4);
}
static void test_requests_8x8(void **state) {
  (void)state;
  requests(pal_test_seed() + 1, 8, 8);
}

/* ---- malformed frames ------------------------------------------------------------- */
static void test_malformed(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 2;
  sd_t d;
  sd_open(&d, seed, 4, 4, PAL_TILE_NO_CYCLE_LIMIT);
  uint8_t f[4200], p[4200];
  size_t n;

  /* bad HCRC, with a SYNC inside the dropped header, then a good frame */
  n = sd_encode(PAL_MSG_INFO, 1, NULL, 0, f);
  f[6] ^= 0x40;
  sd_feed(&d, f, n, "bad HCRC");
  n = sd_encode(PAL_MSG_PING, 2, (const uint8_t *)"\xA5\x01\x02", 3, f);
  f[6] ^= 1;
  sd_feed(&d, f, n, "bad HCRC, SYNC in the payload");
  uint8_t tricky[] = {0xA5, 0x04, 0xA5, 0x04, 0x09, 0x00, 0x01, 0x00};
  sd_feed(&d, tricky, sizeof tricky, "SYNC inside a bad header");
  n = sd_encode(PAL_MSG_PING, 3, NULL, 0, f);
  sd_feed(&d, f, n, "good PING after");
  /* bad CRC: every byte position of a WRITE in turn */
  put32(p, PAL_ADDR_ABUF_CODES), memset(p + 4, 0x11, 8);
  size_t wn = sd_encode(PAL_MSG_WRITE, 4, p, 12, f);
  for (size_t k = 7; k < wn; k++) {
    uint8_t g[64];
    memcpy(g, f, wn);
    g[k] ^= (uint8_t)(1u << (k % 8));
    sd_feed(&d, g, wn, "bad CRC");
  }
  /* truncated frame, then silence: shorter than the timeout, then past it */
  sd_feed(&d, f, wn - 3, "truncated");
  sd_idle(&d, 1000);
  sd_feed(&d, f + wn - 3, 3, "rest of it");
  sd_feed(&d, f, 5, "truncated header");
  sd_idle(&d, 5000);
  sd_feed(&d, f, wn - 1, "truncated payload");
  sd_idle(&d, 4096);
  sd_feed(&d, f, wn, "whole after idle");
  /* oversize LEN, wrong VER: answered at the header */
  uint8_t h[16] = {0xA5, PAL_MSG_PING, 9, 0x01, 0x10, 1, 0};
  h[6] = pal_proto_crc8(h + 1, 5);
  sd_feed(&d, h, 7, "LEN 4097");
  h[3] = 0xFF, h[4] = 0xFF, h[6] = pal_proto_crc8(h + 1, 5);
  sd_feed(&d, h, 7, "LEN 65535");
  h[3] = 0, h[4] = 0x10, h[6] = pal_proto_crc8(h + 1, 5);
  sd_feed(&d, h, 7, "LEN 4096 header only");
  memset(p, 0x5A, 4100);
  sd_feed(&d, p, 4100, "its payload");
  for (int ver = 0; ver < 4; ver++) {
    uint8_t v[11] = {0xA5, PAL_MSG_INFO, 10, 0, 0, (uint8_t)ver, 0};
    v[6] = pal_proto_crc8(v + 1, 5);
    uint32_t c = pal_proto_crc32(v + 1, 5);
    put32(v + 7, c);
    sd_feed(&d, v, 11, "version");
  }
  /* unknown types, replies sent to the device */
  const uint8_t types[] = {0x00, 0x05, 0x7F, 0x81, 0x82, 0x83, 0x84, 0xFF};
  for (size_t i = 0; i < sizeof types; i++) sd_frame(&d, types[i], (const uint8_t *)"ab", 2, "type");
  /* wrong lengths per type */
  memset(p, 0, 16);
  sd_frame(&d, PAL_MSG_INFO, p, 1, "INFO with payload");
  sd_frame(&d, PAL_MSG_READ, p, 5, "READ of 5");
  sd_frame(&d, PAL_MSG_READ, p, 7, "READ of 7");
  sd_frame(&d, PAL_MSG_WRITE, p, 4, "WRITE of 4");
  sd_frame(&d, PAL_MSG_WRITE, p, 0, "WRITE of 0");
  sd_read(&d, PAL_ADDR_ABUF_CODES, 0, "READ length 0");
  sd_read(&d, PAL_ADDR_ABUF_CODES, 4097, "READ length 4097");
  sd_read(&d, PAL_ADDR_ABUF_CODES, 4096, "READ length 4096");
  /* bad addresses */
  const uint32_t bad[] = {0x00000024, 0x0000003C, 0x00000054, 0x000000C8, 0x000000FC, 0x00000002,
                          0x00000100, 0x00000FFC, 0x00010000 + 256 * 16, 0x00010002, 0x000FFFFC,
                          0x00100000 + 512 * 32, 0x00180000 + 512, 0x00190000,
                          0x01000000 + 16 * 0x10000, 0x01000000 + 8192, 0x0100FFFF,
                          0x02000000 + 16 * 0x1000, 0x02000000 + 256, 0x03000000 + 4096 * 4,
                          0x03000001, 0x03100000 + 4096, 0x03200000 + 1024 * 4, 0x03200002,
                          0x03300000 + 4096 * 4, 0x03400000, 0x0F000028, 0x0F000002,
                          0x0F0000FC, 0x0F000100, 0x10000000, 0x70000000, 0xFFFFFFFC,
                          /* far past the end: offsets whose low bits alone are in range */
                          0x00100000 + 0x40000, 0x03000000 + 0x40000, 0x03300000 + 0x80000};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sd_read(&d, bad[i], 4, "bad address READ");
    sd_write32(&d, bad[i], 0, "bad address WRITE");
  }
  sd_read(&d, 0x20, 8, "run into a hole");
  sd_read(&d, 0x50, 8, "run past CLIP_HI");
  sd_read(&d, 0xC0, 16, "run past the counters");
  sd_read(&d, 0x0F000020, 12, "run past the link counters");
  sd_read(&d, 0x03000000 + 4096 * 4 - 4, 8, "ACC past its end");
  sd_read(&d, 0x03000000, 6, "ACC length 6");
  sd_read(&d, 0x00010000, 3, "IMEM length 3");
  sd_read(&d, 0x03100000 + 4093, 4, "NaR past its end");
  sd_read(&d, 0x03100000 + 4092, 4, "NaR last four");
  /* read-only and link registers, refused values, in run order */
  sd_write32(&d, 0x00, 1, "write ID");
  sd_write32(&d, 0x48, 0, "write STATUS");
  sd_write32(&d, 0x80, 0, "write a counter");
  sd_write32(&d, PAL_ADDR_LINK_REGS, 0, "write a link register");
  sd_write32(&d, 0x40, 4, "CONTROL reserved bit");
  sd_write32(&d, 0x40, 0x80000001u, "CONTROL reserved high bit");
  sd_write32(&d, 0x44, 0x10000, "START_PC 2^16");
  sd_write32(&d, 0x44, 0xFFFF, "START_PC 2^16-1");
  put32(p, 0x10000), put32(p + 4, 0);
  sd_write(&d, 0x44, p, 8, "START_PC bad, STATUS");
  put32(p, 0x1), put32(p + 4, 0);
  sd_write(&d, 0x44, p, 8, "START_PC good, STATUS read-only");
  put32(p, 8), put32(p + 4, 0x10000);
  sd_write(&d, 0x40, p, 8, "CONTROL bad, START_PC bad");
  put32(p, 0), put32(p + 4, 0x10000);
  sd_write(&d, 0x40, p, 8, "CONTROL good, START_PC bad");
  uint8_t flags[8] = {0, 1, 1, 0, 2, 0, 1, 1};
  sd_write(&d, PAL_ADDR_ACC_NAR + 5, flags, 8, "NaR flag 2");
  flags[4] = 1;
  sd_write(&d, PAL_ADDR_ACC_NAR + 5, flags, 8, "NaR flags 0/1");
  sd_read(&d, PAL_ADDR_ACC_NAR, 16, "NaR back");
  sd_write(&d, PAL_ADDR_ACC_NAR + 4095, flags, 1, "NaR last flag");
  sd_read(&d, PAL_ADDR_ACC_NAR + 4093, 3, "NaR last three");
  sd_read(&d, PAL_ADDR_LINK_REGS, 40, "link counters");
  sd_close(&d);
}

/* ---- the duplicate-WRITE rule ---------------------------------------------------------- */
static void test_duplicate_writes(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 3;
  sd_t d;
  sd_open(&d, seed, 4, 4, PAL_TILE_NO_CYCLE_LIMIT);
  uint32_t prog[12];
  program(seed, 2, 1, prog);
  sd_write(&d, PAL_ADDR_IMEM, (const uint8_t *)prog, sizeof prog, "program");
  uint8_t p[16], f[32], g[32];
  put32(p, 0x40), put32(p + 4, PAL_TILE_CONTROL_START);
  size_t n = sd_encode(PAL_MSG_WRITE, 5, p, 8, f);
  sd_feed(&d, f, n, "start, SEQ 5");
  sd_feed(&d, f, n, "the same again: duplicate");
  memcpy(g, f, n);
  g[9] ^= 0x20;
  sd_feed(&d, g, n, "a damaged copy: NAK 1");
  sd_feed(&d, f, n, "the intact copy: still a duplicate");
  sd_read(&d, PAL_ADDR_LINK_REGS, 40, "KERNEL_STARTS 1, DUP_WRITES 2");
  /* a READ ends the rule (it took SEQ 0 via sd_frame; reuse 5 explicitly) */
  put32(p, 0x48), p[4] = 4, p[5] = 0;
  n = sd_encode(PAL_MSG_READ, 5, p, 6, g);
  sd_feed(&d, g, n, "READ with SEQ 5");
  put32(p, 0x40), put32(p + 4, PAL_TILE_CONTROL_START);
  n = sd_encode(PAL_MSG_WRITE, 5, p, 8, f);
  sd_feed(&d, f, n, "WRITE SEQ 5 after a READ: executed");
  /* a NAKed WRITE with the same SEQ does not count as executed */
  put32(p, 0x44), put32(p + 4, 0x10000);
  n = sd_encode(PAL_MSG_WRITE, 6, p, 8, f);
  sd_feed(&d, f, n, "refused WRITE SEQ 6");
  put32(p + 4, 0);
  n = sd_encode(PAL_MSG_WRITE, 6, p, 8, f);
  sd_feed(&d, f, n, "good WRITE SEQ 6: executed");
  sd_feed(&d, f, n, "again: duplicate");
  /* PING and INFO end it as well */
  n = sd_encode(PAL_MSG_PING, 6, NULL, 0, g);
  sd_feed(&d, g, n, "PING SEQ 6");
  sd_feed(&d, f, n + 8, "WRITE SEQ 6 after PING: executed");
  sd_read(&d, PAL_ADDR_LINK_REGS, 40, "counters");
  sd_read(&d, 0x80, 72, "tile counters");
  sd_close(&d);
}

/* The link engine keeps its counters' upper bits (all but 9) in block RAM
 * (pal_tile_ctrs): three runs of 50 000 bytes outside any frame take
 * RX_DISCARDED past 2^16 and 2^17, through every RAM word, and the
 * counters read after each (and the tile's) must equal the model's. */
static void test_link_counters_past_low_bits(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 9;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  sd_t d;
  sd_open(&d, seed, 4, 4, PAL_TILE_NO_CYCLE_LIMIT);
  enum { RUN = 50000 };
  uint8_t *junk = malloc(RUN);
  PAL_TEST_CHECK(seed, junk != NULL, "out of memory");
  for (int r = 0; r < 3; r++) {
    random_bytes(&rng, junk, RUN);
    for (size_t i = 0; i < RUN; i++)
      if (junk[i] == 0xA5) junk[i] = 0x5A; /* no SYNC: every byte is discarded */
    sd_feed(&d, junk, RUN, "bytes outside frames");
    sd_read(&d, PAL_ADDR_LINK_REGS, 40, "link counters");
    sd_read(&d, PAL_ADDR_TILE_REGS + 0x80, 72, "tile counters");
  }
  free(junk);
  pal_link_counters_t c;
  pal_link_model_get_counters(d.model, &c);
  PAL_TEST_CHECK(seed, c.value[PAL_LINK_CTR_RX_DISCARDED] == 3 * RUN && c.value[PAL_LINK_CTR_TX_FRAMES] == 6,
                 "model: DISCARDED %u, TX_FRAMES %u", c.value[PAL_LINK_CTR_RX_DISCARDED],
                 c.value[PAL_LINK_CTR_TX_FRAMES]);
  sd_close(&d);
}

/* ---- a start while the tile is busy ----------------------------------------------------- */
static void test_start_while_busy(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 4;
  sd_t d;
  /* the model's tile does not move by itself: both stay busy until the
   * test lets them finish */
  sd_open(&d, seed, 4, 4, 0);
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  uint32_t prog[12];
  program(seed, 64, 8, prog);
  sd_write(&d, PAL_ADDR_IMEM, (const uint8_t *)prog, sizeof prog, "program");
  load_operands(&d, &rng, 512);
  sd_write32(&d, 0x40, PAL_TILE_CONTROL_START, "start");
  sd_write32(&d, 0x40, PAL_TILE_CONTROL_START, "start while busy: refused");
  sd_read(&d, 0x48, 4, "STATUS busy");
  sd_read(&d, PAL_ADDR_ABUF_CODES, 4, "a memory READ while busy: refused");
  sd_write32(&d, PAL_ADDR_ACC, 0, "a memory WRITE while busy: refused");
  sd_write32(&d, 0x4C, 0x3F800000u, "a register while busy: fine");
  PAL_TEST_CHECK(seed, pal_soc_tile_busy(d.soc), "the RTL tile finished too soon for this test");
  /* let both finish */
  pal_status_free(pal_tile_device_wait(pal_emu_device(d.emu), PAL_TILE_NO_CYCLE_LIMIT));
  for (int k = 0; k < 100000 && pal_soc_tile_busy(d.soc); k++) SD_OK(&d, pal_soc_run(d.soc, 64));
  sd_read(&d, 0x48, 4, "STATUS done");
  sd_read(&d, 0x80, 72, "counters");
  sd_read(&d, PAL_ADDR_OBUF, 64 * 16, "OBUF");
  sd_read(&d, PAL_ADDR_LINK_REGS, 40, "link counters");
  sd_close(&d);
}

/* ---- garbage and seeded random streams ------------------------------------------------- */
static size_t random_frame(pal_test_rng_t *rng, uint8_t seq, uint8_t *out) {
  static const uint32_t bases[] = {0x00000040, 0x00000044, 0x0000004C, 0x00000000, 0x00000080,
                                   0x00010000, 0x00100000, 0x00180000, 0x01000000, 0x01030000,
                                   0x02000000, 0x03000000, 0x03100000, 0x03200000, 0x03300000,
                                   0x0F000000, 0x00200000};
  uint8_t p[600];
  uint32_t kind = pal_test_rng_below(rng, 10), len = 0;
  uint8_t type;
  uint32_t a = bases[pal_test_rng_below(rng, sizeof bases / sizeof bases[0])];
  a += pal_test_rng_below(rng, 4) ? (pal_test_rng_below(rng, 64) & ~3u) : pal_test_rng_below(rng, 9000);
  if (kind < 4) {
    type = PAL_MSG_WRITE;
    len = 4 + pal_test_rng_below(rng, 4) * 4 + (pal_test_rng_below(rng, 3) ? 4 : pal_test_rng_below(rng, 500));
    put32(p, a);
    for (uint32_t i = 4; i < len; i++) p[i] = (uint8_t)pal_test_rng_u32(rng);
    if (a == 0x40) put32(p + 4, 0); /* no kernel starts from random data */
    if (a >= 0x03100000 && a < 0x03200000 && pal_test_rng_below(rng, 4))
      for (uint32_t i = 4; i < len; i++) p[i] &= 1;
    if (a < 0x100 && pal_test_rng_below(rng, 2))
      for (uint32_t i = 4; i < len; i++) p[i] = 0;
  } else if (kind < 7) {
    type = PAL_MSG_READ;
    len = pal_test_rng_below(rng, 8) ? 6 : pal_test_rng_below(rng, 9);
    put32(p, a);
    uint32_t n = pal_test_rng_below(rng, 3) ? 4 * (1 + pal_test_rng_below(rng, 16)) : pal_test_rng_below(rng, 5000);
    p[4] = (uint8_t)n, p[5] = (uint8_t)(n >> 8);
  } else if (kind < 8) {
    type = PAL_MSG_PING;
    len = pal_test_rng_below(rng, 300);
    for (uint32_t i = 0; i < len; i++) p[i] = (uint8_t)pal_test_rng_u32(rng);
  } else if (kind < 9) {
    type = PAL_MSG_INFO;
    len = pal_test_rng_below(rng, 6) ? 0 : 1 + pal_test_rng_below(rng, 4);
    memset(p, 0, len);
  } else {
    type = (uint8_t)pal_test_rng_u32(rng);
    len = pal_test_rng_below(rng, 16);
    memset(p, 0xA5, len);
  }
  pal_frame_t f = {type, seq, PAL_PROTO_VERSION, (uint16_t)len, p};
  size_t n = 0;
  pal_status_free(pal_frame_encode(&f, out, 700, &n));
  uint32_t m = pal_test_rng_below(rng, 20);
  if (m == 0) out[1 + pal_test_rng_below(rng, 6)] ^= (uint8_t)(1u << pal_test_rng_below(rng, 8)); /* header */
  if (m == 1) out[7 + pal_test_rng_below(rng, (uint32_t)n - 7)] ^= (uint8_t)(1u << pal_test_rng_below(rng, 8));
  if (m == 2) n = 1 + pal_test_rng_below(rng, (uint32_t)n - 1); /* truncated: eats what follows */
  if (m == 3) out[5] = (uint8_t)pal_test_rng_u32(rng), out[6] = pal_proto_crc8(out + 1, 5);
  return n;
}

static void fuzz(uint64_t seed, uint32_t rows, uint32_t cols, int frames, uint32_t max_payload) {
  sd_t d;
  sd_open_payload(&d, seed, rows, cols, PAL_TILE_NO_CYCLE_LIMIT, max_payload);
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  uint8_t chunk[16384];
  for (int i = 0; i < frames;) {
    size_t n = 0;
    int per = 1 + (int)pal_test_rng_below(&rng, 12), k = 0;
    for (; k < per && n + 800 < sizeof chunk; k++, i++) {
      if (pal_test_rng_below(&rng, 6) == 0) { /* garbage, SYNCs included */
        uint32_t g = 1 + pal_test_rng_below(&rng, 40);
        for (uint32_t j = 0; j < g; j++)
          chunk[n++] = pal_test_rng_below(&rng, 5) ? (uint8_t)pal_test_rng_u32(&rng) : 0xA5;
      }
      /* a SEQ that repeats now and then, so duplicates happen */
      uint8_t seq = pal_test_rng_below(&rng, 4) ? d.seq++ : (uint8_t)(d.seq - 1);
      n += random_frame(&rng, seq, chunk + n);
    }
    d.frames += (uint64_t)k;
    bool cut = pal_test_rng_below(&rng, 25) == 0;
    if (cut) { /* end on a partial frame, which only the idle timeout drops */
      uint8_t f[700];
      size_t fl = random_frame(&rng, d.seq++, f);
      size_t keep = 1 + pal_test_rng_below(&rng, (uint32_t)(fl < 12 ? fl : 12));
      memcpy(chunk + n, f, keep);
      n += keep;
    }
    sd_feed(&d, chunk, n, "random stream");
    if (cut || pal_test_rng_below(&rng, 40) == 0) sd_idle(&d, 5000);
  }
  sd_idle(&d, 5000);
  sd_read_everything(&d);
  /* what the streams exercised (the model's view; the RTL's was compared) */
  pal_link_counters_t c;
  pal_link_model_get_counters(d.model, &c);
  printf("fuzz %ux%u: %llu frames, %llu bytes:", rows, cols, (unsigned long long)d.frames,
         (unsigned long long)d.bytes);
  for (uint32_t k = 0; k < PAL_LINK_CTR_COUNT; k++) printf(" %s %u", pal_link_counter_name(k), c.value[k]);
  printf("\n");
  PAL_TEST_CHECK(seed, c.value[PAL_LINK_CTR_WRITES_EXECUTED] > (uint32_t)frames / 20 &&
                           c.value[PAL_LINK_CTR_DUP_WRITES] > 0 && c.value[PAL_LINK_CTR_RX_BAD_HCRC] > 0 &&
                           c.value[PAL_LINK_CTR_RX_BAD_CRC] > 0 && c.value[PAL_LINK_CTR_RX_IDLE_RESETS] > 0,
                 "the random streams missed a case");
  sd_close(&d);
}

static void test_fuzz_4x4(void **state) {
  (void)state;
  fuzz(pal_test_seed() + 5, 4, 4, 3000, 4096);
}
static void test_fuzz_8x8(void **state) {
  (void)state;
  fuzz(pal_test_seed() + 6, 8, 8, 600, 4096);
}

/* The iCE40 build's 256-byte payload buffer: the length limits at and
 * around it, then random streams (whose WRITEs, READs and PINGs often
 * exceed it). */
static void test_payload_256(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed() + 7;
  sd_t d;
  sd_open_payload(&d, seed, 4, 4, PAL_TILE_NO_CYCLE_LIMIT, 256);
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  uint8_t buf[300];
  random_bytes(&rng, buf, sizeof buf);
  sd_frame(&d, PAL_MSG_INFO, NULL, 0, "INFO (max payload 256)");
  sd_frame(&d, PAL_MSG_PING, buf, 256, "PING 256");
  sd_frame(&d, PAL_MSG_PING, buf, 257, "PING 257");
  sd_write(&d, PAL_ADDR_ABUF_CODES + 1, buf, 252, "WRITE of 252 data bytes");
  sd_write(&d, PAL_ADDR_ABUF_CODES + 1, buf, 253, "WRITE of 253");
  sd_read(&d, PAL_ADDR_ABUF_CODES, 256, "READ 256");
  sd_read(&d, PAL_ADDR_ABUF_CODES, 257, "READ 257");
  sd_read(&d, PAL_ADDR_ACC_NAR + 100, 256, "READ 256 NaR flags");
  sd_close(&d);
  fuzz(seed + 1, 4, 4, 800, 256);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_requests_4x4),    cmocka_unit_test(test_requests_8x8),
      cmocka_unit_test(test_malformed),       cmocka_unit_test(test_duplicate_writes),
      cmocka_unit_test(test_link_counters_past_low_bits),
      cmocka_unit_test(test_start_while_busy), cmocka_unit_test(test_fuzz_4x4),
      cmocka_unit_test(test_fuzz_8x8),        cmocka_unit_test(test_payload_256),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
