/* Assembler and disassembler (docs/isa.md §5, §7): asm(disasm(x)) == x on
 * random programs (valid or not), the documented example, the syntax
 * accepted, and error messages that name line, column and field. */
#include "tile_test_util.h"

static const pal_isa_opcode_t kLegal[] = {PAL_ISA_OP_GEMM, PAL_ISA_OP_POST, PAL_ISA_OP_SETR,
                                          PAL_ISA_OP_SYNC, PAL_ISA_OP_END};

static uint32_t rand_field(pal_test_rng_t *rng, unsigned bits) {
  uint32_t v = pal_test_rng_u32(rng);
  if (pal_test_rng_below(rng, 3) == 0) v &= 0xF;
  return bits >= 32 ? v : v & ((1u << bits) - 1u);
}

static void random_valid_words(pal_test_rng_t *rng, uint32_t w[4]) {
  pal_isa_instr_t in;
  pal_isa_instr_initialize(&in, kLegal[pal_test_rng_below(rng, 5)]);
  size_t count;
  const pal_isa_field_t *f = pal_isa_fields(&count);
  for (size_t i = 0; i < count; i++)
    if (f[i].opcode == in.opcode) *(uint32_t *)((char *)&in + f[i].offset) = rand_field(rng, f[i].bits);
  in.init = in.opcode == PAL_ISA_OP_GEMM ? pal_test_rng_below(rng, 3) : 0;
  if (in.opcode == PAL_ISA_OP_POST) {
    in.act = pal_test_rng_below(rng, 3);
    in.out_fmt = pal_test_rng_below(rng, 2);
    if (in.out_fmt && in.n_count > in.out_stride * 32u) in.out_stride = (in.n_count + 31) / 32;
  }
  if (in.opcode == PAL_ISA_OP_SETR) in.reg = pal_test_rng_below(rng, 2);
  pal_status_t st = pal_isa_encode(&in, w);
  if (st) abort(); /* the generator is wrong, not the code under test */
}

static void roundtrip(uint64_t seed, const uint32_t *words, size_t n, bool pc_comments) {
  pal_disasm_options_t o;
  pal_disasm_options_initialize(&o);
  o.pc_comments = pc_comments;
  char *text;
  TT_OK(seed, pal_asm_disassemble(words, n, &o, &text));
  pal_asm_program_t prog;
  pal_status_t st = pal_asm_assemble(text, strlen(text), NULL, &prog);
  PAL_TEST_CHECK(seed, st == PAL_STATUS_OK, "disassembly does not assemble: %s\n%s",
                 pal_status_message(st), text);
  PAL_TEST_CHECK(seed, prog.word_count == n, "%zu words back, want %zu", prog.word_count, n);
  for (size_t i = 0; i < n; i++)
    PAL_TEST_CHECK(seed, prog.words[i] == words[i], "word %zu: %08x, want %08x\n%s", i,
                   prog.words[i], words[i], text);
  /* and the text is a fixed point */
  char *text2;
  TT_OK(seed, pal_asm_disassemble(prog.words, prog.word_count, &o, &text2));
  PAL_TEST_CHECK(seed, !strcmp(text, text2), "disasm(asm(disasm(x))) != disasm(x)");
  pal_asm_text_release(text2);
  pal_asm_program_release(&prog);
  pal_asm_text_release(text);
}

static void test_roundtrip_valid_programs(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 10);
  for (int it = 0; it < 300; it++) {
    size_t n = 1 + pal_test_rng_below(&rng, 40);
    uint32_t *w = malloc(n * 16);
    for (size_t i = 0; i < n; i++) random_valid_words(&rng, w + 4 * i);
    roundtrip(seed, w, n * 4, it & 1);
    free(w);
  }
}

static void test_roundtrip_any_words(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 11);
  uint32_t w[4 * 64];
  for (int it = 0; it < 100; it++) {
    for (size_t i = 0; i < 64; i++) {
      if (pal_test_rng_below(&rng, 2)) {
        random_valid_words(&rng, w + 4 * i);
        w[4 * i + pal_test_rng_below(&rng, 4)] ^= 1u << pal_test_rng_below(&rng, 32);
      } else {
        for (int j = 0; j < 4; j++) w[4 * i + j] = pal_test_rng_u32(&rng);
      }
    }
    roundtrip(seed, w, 4 * 64, it & 1);
  }
  roundtrip(seed, w, 0, false);
}

static void test_documented_example(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const char *text =
      "gemm  a=0 as=2 m=1 k=2 w=0 nt=1 acc=0 init=bias bias=0\n"
      "post  acc=0 n=8 m=1 act=relu fmt=fp32 out=0 os=8\n"
      "end\n";
  pal_asm_program_t prog;
  TT_OK(seed, pal_asm_assemble(text, strlen(text), NULL, &prog));
  const uint32_t want[12] = {0x05010000u, 0x00020000u, 0x00020001u, 0,
                             0x08400000u, 0x00080000u, 0x00080001u, 0,
                             0x3C000000u, 0,           0,           0};
  PAL_TEST_CHECK(seed, prog.word_count == 12, "%zu words", prog.word_count);
  for (int i = 0; i < 12; i++)
    PAL_TEST_CHECK(seed, prog.words[i] == want[i], "word %d: %08x want %08x", i, prog.words[i], want[i]);
  char *back;
  TT_OK(seed, pal_asm_disassemble(prog.words, prog.word_count, NULL, &back));
  PAL_TEST_CHECK(seed, !strcmp(back, text), "disassembly differs:\n%s", back);
  pal_asm_text_release(back);
  pal_asm_program_release(&prog);
}

static void test_syntax_accepted(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const char *text =
      "# a comment line\n"
      "\n"
      "   ; another\r\n"
      "\tGEMM bias=7 init=zero nt=0x2 m=3 ; fields in any order, hex, upper case\n"
      "post m=1 n=8 fmt=1 os=1 act=2 bp=1 bias=5 # numbers for symbols\n"
      "setr reg=clip_lo value=1.5\n"
      "setr reg=clip_hi value=0x7f800000\n"
      "setr reg=1 value=-2\n"
      "setr reg=0 value=-inf\n"
      "setr reg=0 value=1e-3\n"
      ".inst 0x3c000000 0 0 0\n"
      "sync\n"
      "end";
  pal_asm_program_t prog;
  TT_OK(seed, pal_asm_assemble(text, strlen(text), NULL, &prog));
  PAL_TEST_CHECK(seed, prog.word_count == 4 * 10, "%zu words", prog.word_count);
  pal_isa_instr_t in;
  TT_OK(seed, pal_isa_decode(prog.words, &in));
  PAL_TEST_CHECK(seed, in.opcode == PAL_ISA_OP_GEMM && in.bias_base == 7 && in.n_tiles == 2 &&
                           in.m_count == 3 && in.init == 0 && in.k_blocks == 0,
                 "gemm fields");
  TT_OK(seed, pal_isa_decode(prog.words + 4, &in));
  PAL_TEST_CHECK(seed, in.out_fmt == 1 && in.act == 2 && in.bias_post == 1 && in.bias_base == 5 &&
                           in.out_stride == 1,
                 "post fields");
  const uint32_t values[5] = {0x3FC00000u, 0x7F800000u, 0xC0000000u, 0xFF800000u, tt_f2u(1e-3f)};
  for (int i = 0; i < 5; i++) {
    TT_OK(seed, pal_isa_decode(prog.words + 8 + 4 * i, &in));
    PAL_TEST_CHECK(seed, in.value == values[i], "setr %d value %08x want %08x", i, in.value, values[i]);
  }
  PAL_TEST_CHECK(seed, prog.words[28] == 0x3C000000u && prog.words[32] == 0x10000000u &&
                           prog.words[36] == 0x3C000000u,
                 ".inst, sync, end");
  pal_asm_program_release(&prog);

  TT_OK(seed, pal_asm_assemble("", 0, NULL, &prog));
  PAL_TEST_CHECK(seed, prog.word_count == 0, "empty text, empty program");
  pal_asm_program_release(&prog);

  pal_asm_options_t o;
  pal_asm_options_initialize(&o);
  o.max_instructions = 2;
  pal_status_t st = pal_asm_assemble("sync\nsync\n\nsync\n", 16, &o, &prog);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "line 4"), "IMEM limit: '%s'",
                 pal_status_message(st));
  pal_status_free(st);
}

typedef struct err_case {
  const char *text;
  const char *want[3]; /* substrings the message must contain */
} err_case_t;

static void test_error_messages(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const err_case_t cases[] = {
      {"sync\n\n  gemx a=1\n", {"line 3", "column 3", "unknown mnemonic 'gemx'"}},
      {"gemm a=1 zz=4\n", {"line 1", "column 10", "unknown field 'zz'"}},
      {"sync\ngemm m=65536\n", {"line 2", "field 'm'", "does not fit in 16 bits"}},
      {"gemm nt=256\n", {"line 1", "field 'nt'", "8 bits"}},
      {"gemm m=99999999999999999999\n", {"line 1", "field 'm'", "does not fit"}},
      {"end\nend\nend\npost n=\n", {"line 4", "column 8", "missing value"}},
      {"gemm m\n", {"line 1", "field 'm'", "missing '=value'"}},
      {"gemm m = 3\n", {"line 1", "field 'm'", "missing '=value'"}},
      {"gemm =3\n", {"line 1", "column 6", "missing field name"}},
      {"gemm m=1 m=2\n", {"line 1", "column 10", "given twice"}},
      {"gemm m=x1\n", {"line 1", "field 'm'", "not an unsigned number"}},
      {"gemm m=-1\n", {"line 1", "field 'm'", "not an unsigned number"}},
      {"gemm init=sometimes\n", {"line 1", "field 'init'", "zero, bias, acc"}},
      {"gemm init=3\n", {"line 1", "column 11", "field 'init'"}},
      {"post act=3\n", {"line 1", "field 'act'", "not a valid value"}},
      {"post fmt=2\n", {"line 1", "field 'fmt'", "not a valid value"}},
      {"setr reg=clip_mid\n", {"line 1", "field 'reg'", "clip_lo, clip_hi"}},
      {"setr value=1e39\n", {"line 1", "field 'value'", "too large"}},
      {"setr value=nan\n", {"line 1", "field 'value'", "bit pattern"}},
      {"setr value=0x100000000\n", {"line 1", "field 'value'", "32 bits"}},
      {"setr value=1.5x\n", {"line 1", "field 'value'", "neither"}},
      {"end x=1\n", {"line 1", "unknown field 'x' for end", "none"}},
      {"post n=33 os=1 fmt=pal8\n", {"line 1", "n = 33", "os"}},
      {".inst 1 2 3\n", {"line 1", ".inst", "found 3"}},
      {".inst 1 2 3 4 5\n", {"line 1", "column 15", "found more"}},
      {".inst 1 2 3 0x1ffffffff\n", {"line 1", "word 3", "32 bits"}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pal_asm_program_t prog = {(uint32_t *)1, 99};
    pal_status_t st = pal_asm_assemble(cases[i].text, strlen(cases[i].text), NULL, &prog);
    const char *msg = pal_status_message(st);
    PAL_TEST_CHECK(seed, st != PAL_STATUS_OK, "case %zu must fail: %s", i, cases[i].text);
    for (int j = 0; j < 3; j++)
      PAL_TEST_CHECK(seed, strstr(msg, cases[i].want[j]), "case %zu (%s): '%s' lacks '%s'", i,
                     cases[i].text, msg, cases[i].want[j]);
    PAL_TEST_CHECK(seed, prog.words == NULL && prog.word_count == 0, "case %zu: output not empty", i);
    pal_status_free(st);
  }
  pal_asm_program_t prog;
  pal_status_t st = pal_asm_assemble("sync\nen\0d\n", 10, NULL, &prog);
  PAL_TEST_CHECK(seed, st && strstr(pal_status_message(st), "NUL"), "NUL byte");
  pal_status_free(st);
  char *text;
  uint32_t w[3] = {0};
  st = pal_asm_disassemble(w, 3, NULL, &text);
  PAL_TEST_CHECK(seed, st && !text, "3 words do not disassemble");
  pal_status_free(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip_valid_programs),
      cmocka_unit_test(test_roundtrip_any_words),
      cmocka_unit_test(test_documented_example),
      cmocka_unit_test(test_syntax_accepted),
      cmocka_unit_test(test_error_messages),
  };
  return cmocka_run_group_tests_name("tile_asm", tests, NULL, NULL);
}
