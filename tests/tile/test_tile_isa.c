/* Tile ISA v1 encoding (docs/isa.md §2, §3, §6): encode/decode round trips,
 * every illegal opcode, every reserved bit, the geometry defaults, the
 * register map, and the range checks of the tile-device front end. */
#include "tile_test_util.h"

static const pal_isa_opcode_t kLegal[] = {PAL_ISA_OP_GEMM, PAL_ISA_OP_POST, PAL_ISA_OP_SETR,
                                          PAL_ISA_OP_SYNC, PAL_ISA_OP_END};
#define N_LEGAL (sizeof kLegal / sizeof kLegal[0])

static uint32_t rand_bits(pal_test_rng_t *rng, unsigned bits) {
  uint32_t v = pal_test_rng_u32(rng);
  /* favour the edges: 0, max, and small values */
  switch (pal_test_rng_below(rng, 4)) {
    case 0: return 0;
    case 1: return bits >= 32 ? 0xFFFFFFFFu : (1u << bits) - 1u;
    case 2: v &= 0xFF; break;
    default: break;
  }
  return bits >= 32 ? v : v & ((1u << bits) - 1u);
}

/* A random instruction that pal_isa_decode accepts. */
static void random_valid_instr(pal_test_rng_t *rng, pal_isa_instr_t *in) {
  pal_isa_instr_initialize(in, kLegal[pal_test_rng_below(rng, N_LEGAL)]);
  size_t count;
  const pal_isa_field_t *f = pal_isa_fields(&count);
  for (size_t i = 0; i < count; i++)
    if (f[i].opcode == in->opcode)
      *(uint32_t *)((char *)in + f[i].offset) = rand_bits(rng, f[i].bits);
  if (in->opcode == PAL_ISA_OP_GEMM) in->init = pal_test_rng_below(rng, 3);
  if (in->opcode == PAL_ISA_OP_POST) {
    in->act = pal_test_rng_below(rng, 3);
    in->out_fmt = pal_test_rng_below(rng, 2);
    if (in->out_fmt == PAL_ISA_OUT_PAL8 && in->n_count > in->out_stride * 32u)
      in->out_stride = (in->n_count + 31) / 32;
  }
  if (in->opcode == PAL_ISA_OP_SETR) in->reg = pal_test_rng_below(rng, 2);
}

static void test_config_defaults(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_tile_config_t c;
  pal_tile_config_initialize(&c, 4, 4);
  PAL_TEST_CHECK(seed, c.rows == 4 && c.cols == 4 && c.acc_units == 4, "4x4 geometry");
  PAL_TEST_CHECK(seed, c.imem_depth == 256 && c.abuf_blocks == 512 && c.wmem_blocks == 256 &&
                           c.acc_depth == 4096 && c.bias_depth == 1024 && c.obuf_depth == 4096,
                 "4x4 depths differ from docs/isa.md §1");
  PAL_TEST_CHECK(seed, pal_tile_config_pes_per_unit(&c) == 4, "H of 4x4");
  TT_OK(seed, pal_tile_config_validate(&c));
  pal_tile_config_initialize(&c, 8, 8);
  PAL_TEST_CHECK(seed, c.acc_units == 16 && pal_tile_config_pes_per_unit(&c) == 4, "8x8 units");
  pal_tile_config_initialize(&c, 1, 2);
  PAL_TEST_CHECK(seed, c.acc_units == 1 && pal_tile_config_pes_per_unit(&c) == 2, "1x2 units");
  pal_tile_config_initialize(&c, 3, 3); /* P = 9, 2 units of ceil(9/2) = 5 */
  PAL_TEST_CHECK(seed, c.acc_units == 2 && pal_tile_config_pes_per_unit(&c) == 5, "3x3 units");
  TT_OK(seed, pal_tile_config_validate(&c));
  pal_tile_config_initialize(&c, 64, 64);
  PAL_TEST_CHECK(seed, c.acc_units == 255, "acc_units is capped at its 8-bit field");
  TT_OK(seed, pal_tile_config_validate(&c));

  pal_tile_config_initialize(&c, 0, 4);
  pal_status_t st = pal_tile_config_validate(&c);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "rows"), "rows = 0 must name rows");
  pal_status_free(st);
  pal_tile_config_initialize(&c, 4, 256);
  st = pal_tile_config_validate(&c);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "cols"), "cols = 256 must name cols");
  pal_status_free(st);
  pal_tile_config_initialize(&c, 4, 4);
  c.acc_units = 17;
  st = pal_tile_config_validate(&c);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "acc_units"), "acc_units > P");
  pal_status_free(st);
  pal_tile_config_initialize(&c, 4, 4);
  c.imem_depth = 65536;
  st = pal_tile_config_validate(&c);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "imem_depth"), "imem_depth 65536");
  pal_status_free(st);
  pal_tile_config_initialize(&c, 4, 4);
  c.obuf_depth = 0;
  st = pal_tile_config_validate(&c);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "obuf_depth"), "obuf_depth 0");
  pal_status_free(st);
  pal_emu_t *emu = NULL;
  st = pal_emu_create(&c, &emu);
  PAL_TEST_CHECK(seed, st && !emu, "pal_emu_create must refuse an invalid config");
  pal_status_free(st);
}

static void test_encode_decode_roundtrip(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 1);
  for (int it = 0; it < 20000; it++) {
    pal_isa_instr_t in, back;
    random_valid_instr(&rng, &in);
    uint32_t w[4], w2[4];
    TT_OK(seed, pal_isa_encode(&in, w));
    PAL_TEST_CHECK(seed, (w[0] >> 26) == (uint32_t)in.opcode, "opcode bits");
    TT_OK(seed, pal_isa_decode(w, &back));
    PAL_TEST_CHECK(seed, !memcmp(&in, &back, sizeof in), "iteration %d: decode(encode(x)) != x", it);
    PAL_TEST_CHECK(seed, pal_isa_decode_check(w, &back) == PAL_TILE_ERR_NONE, "decode_check");
    TT_OK(seed, pal_isa_encode(&back, w2));
    PAL_TEST_CHECK(seed, !memcmp(w, w2, sizeof w), "iteration %d: encode not a function", it);
  }
}

static void test_known_encodings(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  /* docs/isa.md §5: gemm a=0 as=2 m=1 k=2 w=0 nt=1 acc=0 init=bias bias=0 */
  pal_isa_instr_t in;
  pal_isa_instr_initialize(&in, PAL_ISA_OP_GEMM);
  in.a_stride = 2, in.m_count = 1, in.k_blocks = 2, in.n_tiles = 1, in.init = PAL_ISA_INIT_BIAS;
  uint32_t w[4];
  TT_OK(seed, pal_isa_encode(&in, w));
  PAL_TEST_CHECK(seed, w[0] == 0x05010000u && w[1] == 0x00020000u && w[2] == 0x00020001u && w[3] == 0,
                 "gemm words %08x %08x %08x %08x", w[0], w[1], w[2], w[3]);
  /* every field at its documented position, each alone */
  struct {
    pal_isa_opcode_t op;
    size_t off;
    uint32_t v;
    unsigned word;
    uint32_t expect;
  } cases[] = {
      {PAL_ISA_OP_GEMM, offsetof(pal_isa_instr_t, init), 2, 0, 0x06000000u},
      {PAL_ISA_OP_GEMM, offsetof(pal_isa_instr_t, n_tiles), 0xAB, 0, 0x04AB0000u},
      {PAL_ISA_OP_GEMM, offsetof(pal_isa_instr_t, bias_base), 0xBEEF, 0, 0x0400BEEFu},
      {PAL_ISA_OP_GEMM, offsetof(pal_isa_instr_t, a_stride), 0x1234, 1, 0x12340000u},
      {PAL_ISA_OP_GEMM, offsetof(pal_isa_instr_t, a_base), 0x1234, 1, 0x1234u},
      {PAL_ISA_OP_GEMM, offsetof(pal_isa_instr_t, k_blocks), 0x1234, 2, 0x12340000u},
      {PAL_ISA_OP_GEMM, offsetof(pal_isa_instr_t, m_count), 0x1234, 2, 0x1234u},
      {PAL_ISA_OP_GEMM, offsetof(pal_isa_instr_t, acc_base), 0x1234, 3, 0x12340000u},
      {PAL_ISA_OP_GEMM, offsetof(pal_isa_instr_t, w_base), 0x1234, 3, 0x1234u},
      {PAL_ISA_OP_POST, offsetof(pal_isa_instr_t, out_fmt), 1, 0, 0x09000000u},
      {PAL_ISA_OP_POST, offsetof(pal_isa_instr_t, act), 2, 0, 0x08800000u},
      {PAL_ISA_OP_POST, offsetof(pal_isa_instr_t, bias_post), 1, 0, 0x08200000u},
      {PAL_ISA_OP_POST, offsetof(pal_isa_instr_t, bias_base), 0x4321, 0, 0x08004321u},
      {PAL_ISA_OP_POST, offsetof(pal_isa_instr_t, n_count), 0x4321, 1, 0x43210000u},
      {PAL_ISA_OP_POST, offsetof(pal_isa_instr_t, acc_base), 0x4321, 1, 0x4321u},
      {PAL_ISA_OP_POST, offsetof(pal_isa_instr_t, out_stride), 0x4321, 2, 0x43210000u},
      {PAL_ISA_OP_POST, offsetof(pal_isa_instr_t, m_count), 0x4321, 2, 0x4321u},
      {PAL_ISA_OP_POST, offsetof(pal_isa_instr_t, out_base), 0x4321, 3, 0x4321u},
      {PAL_ISA_OP_SETR, offsetof(pal_isa_instr_t, reg), 1, 0, 0x0C000001u},
      {PAL_ISA_OP_SETR, offsetof(pal_isa_instr_t, value), 0xDEADBEEFu, 1, 0xDEADBEEFu},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pal_isa_instr_initialize(&in, cases[i].op);
    *(uint32_t *)((char *)&in + cases[i].off) = cases[i].v;
    TT_OK(seed, pal_isa_encode(&in, w));
    PAL_TEST_CHECK(seed, w[cases[i].word] == cases[i].expect, "case %zu: w%u = %08x, want %08x", i,
                   cases[i].word, w[cases[i].word], cases[i].expect);
  }
  pal_isa_instr_initialize(&in, PAL_ISA_OP_END);
  TT_OK(seed, pal_isa_encode(&in, w));
  PAL_TEST_CHECK(seed, w[0] == 0x3C000000u && !w[1] && !w[2] && !w[3], "end");
  pal_isa_instr_initialize(&in, PAL_ISA_OP_SYNC);
  TT_OK(seed, pal_isa_encode(&in, w));
  PAL_TEST_CHECK(seed, w[0] == 0x10000000u && !w[1] && !w[2] && !w[3], "sync");
}

static void test_every_illegal_opcode(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 2);
  int illegal = 0;
  for (uint32_t op = 0; op < 64; op++) {
    bool legal = op == 1 || op == 2 || op == 3 || op == 4 || op == 0xF;
    PAL_TEST_CHECK(seed, pal_isa_opcode_is_legal(op) == legal, "opcode 0x%02x legality", op);
    for (int rep = 0; rep < 4; rep++) {
      uint32_t w[4] = {op << 26, 0, 0, 0};
      if (rep) {
        w[0] |= pal_test_rng_u32(&rng) & 0x03FFFFFFu;
        w[1] = pal_test_rng_u32(&rng), w[2] = pal_test_rng_u32(&rng), w[3] = pal_test_rng_u32(&rng);
      }
      pal_isa_instr_t in;
      pal_tile_error_t e = pal_isa_decode_check(w, &in);
      if (!legal) {
        PAL_TEST_CHECK(seed, e == PAL_TILE_ERR_ILLEGAL_OPCODE, "opcode 0x%02x gave error %d", op, e);
        pal_status_t st = pal_isa_decode(w, &in);
        PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "illegal opcode"),
                       "opcode 0x%02x message", op);
        pal_status_free(st);
        pal_isa_instr_initialize(&in, (pal_isa_opcode_t)op);
        st = pal_isa_encode(&in, w);
        PAL_TEST_CHECK(seed, st != PAL_STATUS_OK, "encode of opcode 0x%02x must fail", op);
        pal_status_free(st);
      } else if (!rep) {
        PAL_TEST_CHECK(seed, e == PAL_TILE_ERR_NONE || op == PAL_ISA_OP_POST,
                       "legal opcode 0x%02x with zero fields gave %d", op, e);
      }
    }
    illegal += !legal;
  }
  PAL_TEST_CHECK(seed, illegal == 59, "59 illegal opcodes, counted %d", illegal);
}

static void test_reserved_bits(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 3);
  /* reserved masks straight from docs/isa.md §2 */
  struct {
    pal_isa_opcode_t op;
    uint32_t reserved[4];
  } ops[] = {
      {PAL_ISA_OP_GEMM, {0, 0, 0, 0}},
      {PAL_ISA_OP_POST, {0x001F0000u, 0, 0, 0xFFFF0000u}},
      {PAL_ISA_OP_SETR, {0x03FFFF00u, 0, 0xFFFFFFFFu, 0xFFFFFFFFu}},
      {PAL_ISA_OP_SYNC, {0x03FFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}},
      {PAL_ISA_OP_END, {0x03FFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}},
  };
  int checked = 0;
  for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
    for (unsigned wi = 0; wi < 4; wi++)
      for (unsigned bit = 0; bit < 32; bit++) {
        if (!(ops[o].reserved[wi] >> bit & 1)) continue;
        pal_isa_instr_t in;
        do random_valid_instr(&rng, &in);
        while (in.opcode != ops[o].op);
        uint32_t w[4];
        TT_OK(seed, pal_isa_encode(&in, w));
        w[wi] |= 1u << bit;
        pal_isa_instr_t out;
        pal_tile_error_t e = pal_isa_decode_check(w, &out);
        PAL_TEST_CHECK(seed, e == PAL_TILE_ERR_BAD_FIELD, "%s w%u bit %u: error %d",
                       pal_isa_opcode_name(in.opcode), wi, bit, e);
        pal_status_t st = pal_isa_decode(w, &out);
        PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "reserved"),
                       "%s w%u bit %u: message '%s'", pal_isa_opcode_name(in.opcode), wi, bit,
                       pal_status_message(st));
        pal_status_free(st);
        checked++;
      }
  PAL_TEST_CHECK(seed, checked == 5 + 16 + 18 + 64 + 26 + 96 + 26 + 96, "checked %d bits", checked);

  /* the bad-field values of §3 */
  struct {
    uint32_t w[4];
    const char *what;
  } bad[] = {
      {{0x07000000u | 0x00010000u, 0, 0x00010001u, 0}, "init"},  /* gemm init = 3 */
      {{0x08C00000u, 0x00010000u, 0x00010001u, 0}, "act"},      /* post act = 3 */
      {{0x0A000000u, 0x00010000u, 0x00010001u, 0}, "fmt"},      /* post out_fmt = 2 */
      {{0x0B000000u, 0x00010000u, 0x00010001u, 0}, "fmt"},      /* post out_fmt = 3 */
      {{0x0C000002u, 0, 0, 0}, "reg"},                          /* setr reg = 2 */
      {{0x0C0000FFu, 0, 0, 0}, "reg"},                          /* setr reg = 255 */
      {{0x09000000u, 0x00210000u, 0x00010001u, 0}, "os"},       /* pal8, n = 33 > 1*32 */
      {{0x09000000u, 0x00010000u, 0x00000001u, 0}, "os"},       /* pal8, n = 1 > 0*32 */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    pal_isa_instr_t out;
    PAL_TEST_CHECK(seed, pal_isa_decode_check(bad[i].w, &out) == PAL_TILE_ERR_BAD_FIELD,
                   "bad case %zu (%s)", i, bad[i].what);
    pal_status_t st = pal_isa_decode(bad[i].w, &out);
    PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), bad[i].what), "case %zu message '%s'",
                   i, pal_status_message(st));
    pal_status_free(st);
  }
  /* pal8 with n = 32 * os is fine */
  uint32_t ok[4] = {0x09000000u, 0x00400000u, 0x00020001u, 0};
  pal_isa_instr_t out;
  PAL_TEST_CHECK(seed, pal_isa_decode_check(ok, &out) == PAL_TILE_ERR_NONE, "pal8 n = 64, os = 2");
}

static void test_encode_rejects(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_isa_instr_t in;
  uint32_t w[4] = {1, 2, 3, 4};
  pal_isa_instr_initialize(&in, PAL_ISA_OP_GEMM);
  in.n_tiles = 256;
  pal_status_t st = pal_isa_encode(&in, w);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "nt") &&
                           strstr(pal_status_message(st), "8 bits"),
                 "n_tiles = 256: '%s'", pal_status_message(st));
  PAL_TEST_CHECK(seed, w[0] == 1 && w[3] == 4, "a failed encode writes nothing");
  pal_status_free(st);
  pal_isa_instr_initialize(&in, PAL_ISA_OP_POST);
  in.a_stride = 3;
  st = pal_isa_encode(&in, w);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "a_stride"), "post a_stride: '%s'",
                 pal_status_message(st));
  pal_status_free(st);
  pal_isa_instr_initialize(&in, PAL_ISA_OP_GEMM);
  in.init = 3;
  st = pal_isa_encode(&in, w);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "init"), "gemm init 3");
  pal_status_free(st);
  pal_isa_instr_initialize(&in, PAL_ISA_OP_POST);
  in.bias_post = 2;
  st = pal_isa_encode(&in, w);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "bp"), "bias_post 2");
  pal_status_free(st);
}

static void test_register_map(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  /* docs/isa.md §6, literally */
  PAL_TEST_CHECK(seed, PAL_TILE_REG_COUNTER(PAL_TILE_CTR_CYC_TOTAL) == 0x80 &&
                           PAL_TILE_REG_COUNTER(PAL_TILE_CTR_CYC_BUSY) == 0x88 &&
                           PAL_TILE_REG_COUNTER(PAL_TILE_CTR_CYC_STALL) == 0x90 &&
                           PAL_TILE_REG_COUNTER(PAL_TILE_CTR_CYC_IDLE) == 0x98 &&
                           PAL_TILE_REG_COUNTER(PAL_TILE_CTR_MACS_ISSUED) == 0xA0 &&
                           PAL_TILE_REG_COUNTER(PAL_TILE_CTR_MACS_GATED) == 0xA8 &&
                           PAL_TILE_REG_COUNTER(PAL_TILE_CTR_ACT_SKIPPED) == 0xB0 &&
                           PAL_TILE_REG_COUNTER(PAL_TILE_CTR_BLOCKS_SKIPPED) == 0xB8 &&
                           PAL_TILE_REG_COUNTER(PAL_TILE_CTR_NAR_OUTPUTS) == 0xC0,
                 "counter offsets");
  PAL_TEST_CHECK(seed, !strcmp(pal_tile_reg_name(0x48), "STATUS") &&
                           !strcmp(pal_tile_reg_name(0xC4), "NAR_OUTPUTS_HI") &&
                           pal_tile_reg_name(0x54) == NULL && pal_tile_reg_name(0x24) == NULL &&
                           pal_tile_reg_name(0xC8) == NULL && pal_tile_reg_name(0x81) == NULL,
                 "register names");
  pal_emu_t *emu = tt_emu_create(seed, 8, 4);
  pal_tile_device_t *dev = pal_emu_device(emu);
  uint32_t v;
  struct {
    uint32_t off, want;
  } ro[] = {{0x00, 0x50414C31u}, {0x04, 1},   {0x08, 8 | 4 << 8 | 8 << 16}, {0x0C, 256},
            {0x10, 512},         {0x14, 256}, {0x18, 4096}, {0x1C, 1024},   {0x20, 4096},
            {0x40, 0},           {0x44, 0},   {0x48, 0},    {0x4C, 0},      {0x50, 0}};
  for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++) {
    TT_OK(seed, pal_tile_device_read_reg(dev, ro[i].off, &v));
    PAL_TEST_CHECK(seed, v == ro[i].want, "reg 0x%02x = 0x%x, want 0x%x", ro[i].off, v, ro[i].want);
  }
  for (uint32_t off = 0; off < 0x20; off += 4) {
    pal_status_t st = pal_tile_device_write_reg(dev, off, 1);
    PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "read-only"), "write 0x%02x", off);
    pal_status_free(st);
  }
  pal_status_t st = pal_tile_device_read_reg(dev, 0x54, &v);
  PAL_TEST_CHECK(seed, pal_status_code(st) == PAL_OUT_OF_RANGE && strstr(pal_status_message(st), "0x54"),
                 "read 0x54");
  pal_status_free(st);
  st = pal_tile_device_write_reg(dev, PAL_TILE_REG_CONTROL, 4);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "reserved"), "CONTROL bit 2");
  pal_status_free(st);
  st = pal_tile_device_write_reg(dev, PAL_TILE_REG_START_PC, 0x10000);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "START_PC"), "START_PC 2^16");
  pal_status_free(st);
  TT_OK(seed, pal_tile_device_write_reg(dev, PAL_TILE_REG_CLIP_HI, 0x3F800000u));
  TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_CLIP_HI, &v));
  PAL_TEST_CHECK(seed, v == 0x3F800000u, "CLIP_HI read back");
  TT_OK(seed, pal_tile_device_write_reg(dev, PAL_TILE_REG_START_PC, 77));
  TT_OK(seed, pal_tile_device_read_reg(dev, PAL_TILE_REG_START_PC, &v));
  PAL_TEST_CHECK(seed, v == 77, "START_PC read back");
  pal_emu_destroy(emu);
}

static void test_device_range_checks(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_emu_t *emu = tt_emu_create(seed, 4, 4);
  pal_tile_device_t *dev = pal_emu_device(emu);
  uint8_t buf[64] = {0};
  struct {
    pal_tile_region_t r;
    uint32_t pe;
    uint64_t index;
    size_t count;
    const char *want1, *want2;
  } cases[] = {
      {PAL_TILE_REGION_IMEM, 0, 1023, 2, "IMEM", "1023"},
      {PAL_TILE_REGION_ABUF_CODES, 0, 512 * 32 - 1, 2, "ABUF_CODES", "16383"},
      {PAL_TILE_REGION_ABUF_SCALES, 0, 512, 1, "ABUF_SCALES", "512"},
      {PAL_TILE_REGION_WMEM_CODES, 3, 256 * 32, 1, "WMEM_CODES", "PE 3"},
      {PAL_TILE_REGION_WMEM_CODES, 16, 0, 1, "WMEM_CODES", "PE 16"},
      {PAL_TILE_REGION_WMEM_SCALES, 0, 250, 7, "WMEM_SCALES", "250"},
      {PAL_TILE_REGION_ACC, 0, 4096, 1, "ACC", "4096"},
      {PAL_TILE_REGION_ACC_NAR, 0, 4095, 2, "ACC_NAR", "4095"},
      {PAL_TILE_REGION_BIAS, 0, 1020, 5, "BIAS", "1020"},
      {PAL_TILE_REGION_OBUF, 0, UINT64_MAX, 1, "OBUF", "OBUF"},
      {PAL_TILE_REGION_ACC, 1, 0, 1, "ACC", "not per PE"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (int rw = 0; rw < 2; rw++) {
      pal_status_t st = rw ? pal_tile_device_read(dev, cases[i].r, cases[i].pe, cases[i].index,
                                                  cases[i].count, buf)
                           : pal_tile_device_write(dev, cases[i].r, cases[i].pe, cases[i].index,
                                                   cases[i].count, buf);
      const char *msg = pal_status_message(st);
      PAL_TEST_CHECK(seed, st && strstr(msg, cases[i].want1) && strstr(msg, cases[i].want2),
                     "case %zu (%s): '%s'", i, rw ? "read" : "write", msg);
      pal_status_free(st);
    }
  /* the last element of every region is reachable */
  for (int r = 0; r < PAL_TILE_REGION_COUNT; r++) {
    uint64_t len = pal_tile_region_length(&dev->config, (pal_tile_region_t)r);
    uint32_t pe = pal_tile_region_is_per_pe((pal_tile_region_t)r) ? 15 : 0;
    TT_OK(seed, pal_tile_device_write(dev, (pal_tile_region_t)r, pe, len - 1, 1, buf));
    TT_OK(seed, pal_tile_device_read(dev, (pal_tile_region_t)r, pe, len - 1, 1, buf));
  }
  uint8_t two = 2;
  pal_status_t st = pal_tile_device_write(dev, PAL_TILE_REGION_ACC_NAR, 0, 9, 1, &two);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "element 9"), "ACC_NAR = 2");
  pal_status_free(st);
  uint32_t w[3] = {0};
  st = pal_tile_device_load_program(dev, 0, w, 3);
  PAL_TEST_CHECK(seed, st != PAL_STATUS_OK, "3 words are not a program");
  pal_status_free(st);
  pal_emu_destroy(emu);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_defaults),
      cmocka_unit_test(test_encode_decode_roundtrip),
      cmocka_unit_test(test_known_encodings),
      cmocka_unit_test(test_every_illegal_opcode),
      cmocka_unit_test(test_reserved_bits),
      cmocka_unit_test(test_encode_rejects),
      cmocka_unit_test(test_register_map),
      cmocka_unit_test(test_device_range_checks),
  };
  return cmocka_run_group_tests_name("tile_isa", tests, NULL, NULL);
}
