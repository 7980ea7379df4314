// Runs rtl/pal_rv_core.v (Verilated as Vpal_rv_core) on a flat memory image
// and emulates the two system calls the test programs use (ECALL a7=64
// write to fd 1, a7=93 exit), the same way QEMU user mode does for them.
// Memory answers after a seeded random 0..2 wait cycles, so the core is
// checked against a bus that does not always answer at once.
#ifndef PAL_RV32_HARNESS_H
#define PAL_RV32_HARNESS_H

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "Vpal_rv_core.h"
#include "verilated.h"

namespace rv32 {

enum { CAUSE_EBREAK = 1, CAUSE_ECALL = 2, CAUSE_ILLEGAL = 3, CAUSE_MISALIGNED = 4, CAUSE_JUMP = 5 };

struct RunResult {
  bool exited = false;        // exit syscall reached
  int exit_code = -1;
  unsigned halt_cause = 0;    // cause of the halt that ended the run (if not exit)
  uint32_t halt_pc = 0;
  uint64_t cycles = 0;
  uint64_t instructions = 0;  // fetches
  std::string out;            // bytes written to fd 1
  std::string error;          // why the run stopped abnormally
};

class Harness {
 public:
  Harness(uint32_t base, uint32_t size, uint64_t seed)
      : base_(base), mem_(size / 4, 0), rng_(seed ? seed : 1) {
    ctx_.randReset(2);
    ctx_.randSeed((int)(seed & 0x7fffffff));
    core_ = new Vpal_rv_core(&ctx_);
  }
  ~Harness() { delete core_; }

  bool load_binary(const std::string &path) {
    FILE *f = fopen(path.c_str(), "rb");
    if (!f) return false;
    std::vector<uint8_t> bytes;
    uint8_t buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) bytes.insert(bytes.end(), buf, buf + n);
    fclose(f);
    if (bytes.size() > mem_.size() * 4) return false;
    for (size_t i = 0; i < bytes.size(); i++) set_byte(base_ + (uint32_t)i, bytes[i]);
    return true;
  }

  uint8_t byte(uint32_t addr) const {
    uint32_t off = addr - base_;
    if (off >= mem_.size() * 4) return 0;
    return (uint8_t)(mem_[off / 4] >> (8 * (off % 4)));
  }
  void set_byte(uint32_t addr, uint8_t v) {
    uint32_t off = addr - base_;
    uint32_t &w = mem_[off / 4];
    w = (w & ~(0xffu << (8 * (off % 4)))) | (uint32_t)v << (8 * (off % 4));
  }

  uint32_t reg(unsigned r) {  // only while halted: the debug read port
    core_->i_dbg_reg = r;
    tick();
    return core_->o_dbg_data;
  }

  RunResult run(uint64_t max_cycles) {
    RunResult res;
    core_->i_rst = 1;
    core_->i_resume = 0;
    core_->i_mem_ready = 0;
    for (int i = 0; i < 4; i++) tick();
    core_->i_rst = 0;
    unsigned wait = 0;
    bool pending = false;
    while (res.cycles < max_cycles) {
      core_->eval();
      if (core_->o_halted) {
        unsigned cause = core_->o_halt_cause;
        uint32_t pc = core_->o_halt_pc;
        if (cause != CAUSE_ECALL) {
          res.halt_cause = cause;
          res.halt_pc = pc;
          return res;
        }
        uint32_t a7 = reg(17), a0 = reg(10), a1 = reg(11), a2 = reg(12);
        if (a7 == 93) {
          res.exited = true;
          res.exit_code = (int)a0;
          return res;
        }
        if (a7 != 64 || a0 != 1) {
          res.error = "unsupported ecall a7=" + std::to_string(a7);
          return res;
        }
        for (uint32_t i = 0; i < a2; i++) res.out.push_back((char)byte(a1 + i));
        core_->i_resume = 1;
        tick();
        core_->i_resume = 0;
        continue;
      }
      core_->i_mem_ready = 0;
      if (core_->o_mem_valid) {
        if (!pending) {
          pending = true;
          wait = (unsigned)(next_rand() % 3);
        }
        if (wait == 0) {
          uint32_t addr = core_->o_mem_addr;
          uint32_t off = addr - base_;
          if ((addr & 3) || off >= mem_.size() * 4) {
            res.error = "bus access outside memory or unaligned: 0x" + hex(addr);
            return res;
          }
          uint32_t &w = mem_[off / 4];
          if (core_->o_mem_fetch) res.instructions++;
          core_->i_mem_rdata = w;
          unsigned strb = core_->o_mem_wstrb;
          for (int b = 0; b < 4; b++)
            if (strb & (1u << b))
              w = (w & ~(0xffu << (8 * b))) | (core_->o_mem_wdata & (0xffu << (8 * b)));
          core_->i_mem_ready = 1;
          pending = false;
        } else {
          wait--;
          core_->i_mem_rdata = 0xdeadbeef;  // garbage while not ready
        }
      }
      tick();
      res.cycles++;
    }
    res.error = "no exit within " + std::to_string(max_cycles) + " cycles";
    return res;
  }

 private:
  void tick() {
    core_->i_clk = 0;
    core_->eval();
    core_->i_clk = 1;
    core_->eval();
  }
  uint64_t next_rand() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }
  static std::string hex(uint32_t v) {
    char b[16];
    snprintf(b, sizeof b, "%08x", v);
    return b;
  }

  uint32_t base_;
  std::vector<uint32_t> mem_;
  uint64_t rng_;
  VerilatedContext ctx_;
  Vpal_rv_core *core_;
};

}  // namespace rv32

#endif
