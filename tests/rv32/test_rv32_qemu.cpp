// The control core (rtl/pal_rv_core.v) against QEMU's RISC-V user-mode
// emulator: each test program (tests/rv32/t_*.S, c_*.c) runs in both; the
// bytes they print at the end (all 32 registers, then the whole data, bss
// and stack region) must be identical. Also checks the documented halt on
// misaligned accesses, misaligned jump targets, illegal instructions and
// EBREAK (core only: QEMU's RV32GC has none of these traps the same way).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
extern "C" {
#include <cmocka.h>
}
#include <cstdlib>
#include <cstring>
#include <string>

#include "rv32_harness.h"

#ifndef RV32_PROG_DIR
#error "RV32_PROG_DIR must name the directory of the built test programs"
#endif

static const uint32_t kBase = 0x10000;
static const uint32_t kMemSize = 64 * 1024;

static uint64_t seed() {
  const char *s = getenv("PAL_TEST_SEED");
  return s && *s ? strtoull(s, NULL, 0) : 0x5EED0A11ull;
}

static std::string run_qemu(const std::string &elf, int *rc) {
  std::string cmd = "qemu-riscv32 " + elf;
  FILE *p = popen(cmd.c_str(), "r");
  std::string out;
  if (!p) {
    *rc = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *rc = pclose(p);
  return out;
}

static uint32_t word_at(const std::string &s, size_t off) {
  uint32_t w = 0;
  for (int b = 3; b >= 0; b--) w = w << 8 | (uint8_t)s[off + b];
  return w;
}

static void compare_program(const char *name) {
  std::string dir = RV32_PROG_DIR;
  int qrc = 0;
  std::string ref = run_qemu(dir + "/" + name + ".elf", &qrc);
  if (qrc != 0) fail_msg("%s: qemu-riscv32 exited with status %d", name, qrc);
  assert_true(ref.size() > 128);

  uint64_t s = seed();
  rv32::Harness h(kBase, kMemSize, s);
  if (!h.load_binary(dir + "/" + name + ".bin")) fail_msg("%s: cannot load %s.bin", name, name);
  rv32::RunResult r = h.run(50u * 1000 * 1000);
  if (!r.exited)
    fail_msg("%s (seed 0x%llx): core did not exit: %s (halt cause %u at pc 0x%08x)", name,
             (unsigned long long)s, r.error.c_str(), r.halt_cause, r.halt_pc);
  assert_int_equal(r.exit_code, 0);
  if (r.out.size() != ref.size())
    fail_msg("%s (seed 0x%llx): core printed %zu bytes, QEMU %zu", name, (unsigned long long)s,
             r.out.size(), ref.size());
  for (size_t off = 0; off + 4 <= ref.size(); off += 4) {
    uint32_t want = word_at(ref, off), got = word_at(r.out, off);
    if (want != got) {
      if (off < 128)
        fail_msg("%s (seed 0x%llx): x%zu = 0x%08x on the core, 0x%08x on QEMU", name,
                 (unsigned long long)s, off / 4, got, want);
      fail_msg("%s (seed 0x%llx): memory word +0x%zx of the data region = 0x%08x on the core, "
               "0x%08x on QEMU", name, (unsigned long long)s, off - 128, got, want);
    }
  }
  assert_memory_equal(r.out.data(), ref.data(), ref.size());
}

static void test_alu(void **state) { (void)state; compare_program("t_alu"); }
static void test_branch(void **state) { (void)state; compare_program("t_branch"); }
static void test_jump(void **state) { (void)state; compare_program("t_jump"); }
static void test_mem(void **state) { (void)state; compare_program("t_mem"); }
static void test_c_sort(void **state) { (void)state; compare_program("c_sort"); }
static void test_c_rand_alu(void **state) { (void)state; compare_program("c_rand_alu"); }

// Halts: {variant, expected cause}. The faulting instruction is at base + 8.
static void test_halts(void **state) {
  (void)state;
  static const struct { int variant; unsigned cause; const char *what; } cases[] = {
      {1, rv32::CAUSE_MISALIGNED, "lw at +1"},   {2, rv32::CAUSE_MISALIGNED, "lh at +3"},
      {3, rv32::CAUSE_MISALIGNED, "sw at +2"},   {4, rv32::CAUSE_MISALIGNED, "sh at +1"},
      {5, rv32::CAUSE_JUMP, "jalr to +2"},       {6, rv32::CAUSE_JUMP, "beq to +6"},
      {7, rv32::CAUSE_ILLEGAL, "csrrs"},         {8, rv32::CAUSE_ILLEGAL, "zero word"},
      {9, rv32::CAUSE_EBREAK, "ebreak"},
  };
  for (const auto &c : cases) {
    std::string bin = std::string(RV32_PROG_DIR) + "/t_trap" + std::to_string(c.variant) + ".bin";
    rv32::Harness h(kBase, kMemSize, seed() + (uint64_t)c.variant);
    if (!h.load_binary(bin)) fail_msg("cannot load %s", bin.c_str());
    // the buffer is the first data word after the code; find it by its pattern
    uint32_t buf = 0;
    for (uint32_t a = kBase; a < kBase + 256; a += 4)
      if (h.byte(a) == 0x5a && h.byte(a + 1) == 0x5a && h.byte(a + 2) == 0x5a && h.byte(a + 3) == 0x5a) {
        buf = a;
        break;
      }
    assert_true(buf != 0);
    rv32::RunResult r = h.run(10000);
    if (r.exited || r.halt_cause != c.cause || r.halt_pc != kBase + 8)
      fail_msg("%s: halted with cause %u at 0x%08x, expected cause %u at 0x%08x (%s)", c.what,
               r.halt_cause, r.halt_pc, c.cause, kBase + 8, r.error.c_str());
    for (uint32_t a = buf; a < buf + 8; a++)
      if (h.byte(a) != 0x5a) fail_msg("%s: memory at 0x%08x changed", c.what, a);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alu),    cmocka_unit_test(test_branch),
      cmocka_unit_test(test_jump),   cmocka_unit_test(test_mem),
      cmocka_unit_test(test_c_sort), cmocka_unit_test(test_c_rand_alu),
      cmocka_unit_test(test_halts),
  };
  return cmocka_run_group_tests_name("rv32_core_vs_qemu", tests, NULL, NULL);
}
