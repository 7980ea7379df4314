// The Verilated control subsystem (rtl/pal_rv_sys.v) with the real firmware
// image, a C++ driver on the mailbox's link side and a fake tile on the tile
// bus port (ID registers of a 4x4 tile; STATUS done 20000 cycles after a
// start, or never when `hang`). Shared by test_rv32_firmware.cpp and
// bench_firmware.cpp; needs cmocka (its asserts report protocol failures).
#ifndef PAL_RV32_SYS_H
#define PAL_RV32_SYS_H

#include "Vpal_rv_sys.h"
#include "verilated.h"

#include <deque>
#include <map>
#include <vector>

extern "C" {
#include "fw_test_util.h"
#include "pal_fw_cmd.h"
#include "pal_fw_map.h"
}

namespace rv32sys {

struct Bench {
  VerilatedContext ctx;
  Vpal_rv_sys *sys;
  pal_tile_config_t cfg;
  std::map<uint32_t, uint8_t> written;  // tile buffer bytes written (device address)
  uint32_t status = 0, start_pc = 0, starts = 0, resets = 0;
  uint64_t busy_until = 0;
  uint64_t start_cycle = 0;  // cycle of the last CONTROL write with the start bit
  bool hang = false;
  uint64_t cycle = 0;
  std::deque<uint32_t> to_core;
  std::vector<uint32_t> from_core;
  bool was_reset = false;
  bool pending = false;      // a tile request seen, answered next cycle
  uint32_t bad_accesses = 0;

  Bench() {
    ctx.randReset(2);
    ctx.randSeed(1234);
    sys = new Vpal_rv_sys(&ctx);
    pal_tile_config_initialize(&cfg, 4, 4);
    sys->i_rst = 1;
    for (int i = 0; i < 4; i++) tick();
    sys->i_rst = 0;
    resets = 0;  // o_tile_reset is random until the reset edge
  }
  ~Bench() { delete sys; }

  uint32_t tile_read(uint32_t a) {
    switch (a) {
      case PAL_FW_REG_ID: return PAL_FW_TILE_ID_VALUE;
      case PAL_FW_REG_ISA_VERSION: return 1;
      case PAL_FW_REG_GEOMETRY: return cfg.rows | cfg.cols << 8 | cfg.acc_units << 16;
      case PAL_FW_REG_IMEM_DEPTH: return cfg.imem_depth;
      case PAL_FW_REG_ABUF_BLOCKS: return cfg.abuf_blocks;
      case PAL_FW_REG_WMEM_BLOCKS: return cfg.wmem_blocks;
      case PAL_FW_REG_ACC_DEPTH: return cfg.acc_depth;
      case PAL_FW_REG_BIAS_DEPTH: return cfg.bias_depth;
      case PAL_FW_REG_OBUF_DEPTH: return cfg.obuf_depth;
      case PAL_FW_REG_STATUS: return status;
      case PAL_FW_REG_START_PC: return start_pc;
      default: return 0;
    }
  }

  void tick() {
    // tile bus: answer every request in the cycle after it appears
    sys->i_tile_ready = 0;
    sys->i_tile_error = 0;
    sys->eval();
    if (sys->o_tile_valid) {
      if (pending) {
        uint32_t a = sys->o_tile_addr;
        unsigned strb = sys->o_tile_wstrb;
        sys->i_tile_ready = 1;
        sys->i_tile_rdata = tile_read(a & ~3u);
        if (strb) {
          if (a == PAL_FW_REG_CONTROL && (sys->o_tile_wdata & 1)) {
            starts++;
            start_cycle = cycle;
            status = PAL_FW_STATUS_BUSY;
            busy_until = cycle + 20000;
          } else if (a == PAL_FW_REG_START_PC) {
            start_pc = sys->o_tile_wdata;
          } else if (a >= PAL_FW_DEV_IMEM) {
            for (int b = 0; b < 4; b++)
              if (strb & (1u << b)) written[(a & ~3u) + b] = (uint8_t)(sys->o_tile_wdata >> (8 * b));
          } else {
            bad_accesses++;
          }
        }
        pending = false;
      } else {
        pending = true;
      }
    }
    if ((status & PAL_FW_STATUS_BUSY) && !hang && cycle >= busy_until) status = PAL_FW_STATUS_DONE;
    // mailbox link side
    sys->i_req_valid = !to_core.empty();
    sys->i_req_data = to_core.empty() ? 0 : to_core.front();
    sys->i_resp_ready = 1;
    sys->eval();
    bool req_taken = sys->i_req_valid && sys->o_req_ready;
    bool resp_taken = sys->o_resp_valid;
    uint32_t resp = sys->o_resp_data;
    if (sys->o_tile_reset && !was_reset) {
      resets++;
      status = 0;
    }
    was_reset = sys->o_tile_reset;
    sys->i_clk = 0;
    sys->eval();
    sys->i_clk = 1;
    sys->eval();
    if (req_taken) to_core.pop_front();
    if (resp_taken) from_core.push_back(resp);
    cycle++;
  }

  // Sends a request, clocks until the whole reply is out; returns the reply
  // (header first) and the cycles it took.
  std::vector<uint32_t> request(uint32_t cmd, const std::vector<uint32_t> &payload,
                                uint64_t *cycles = nullptr) {
    static uint32_t tag = 0;
    tag = (tag + 1) & 0xFF;
    from_core.clear();
    to_core.push_back(cmd | tag << 8 | (uint32_t)payload.size() << 16);
    for (uint32_t w : payload) to_core.push_back(w);
    uint64_t t0 = cycle;
    while (cycle - t0 < 2000000) {
      tick();
      if (sys->o_halted) fail_msg("core halted: cause %u at pc 0x%08x", sys->o_halt_cause, sys->o_halt_pc);
      if (!from_core.empty() && from_core.size() >= 1 + (from_core[0] >> 16)) break;
    }
    if (from_core.empty()) fail_msg("no reply to command 0x%02x within 2M cycles", cmd);
    assert_int_equal(from_core[0] & 0xFF, cmd | 0x80);
    assert_int_equal((from_core[0] >> 8) & 0xFF, tag);
    assert_int_equal(from_core.size(), 1 + (from_core[0] >> 16));
    if (cycles) *cycles = cycle - t0;
    return from_core;
  }

  void run(uint64_t n) {
    for (uint64_t i = 0; i < n; i++) tick();
  }
};

inline uint32_t load(Bench &b, const uint8_t *img, size_t size) {
  std::vector<uint32_t> r = b.request(PAL_FW_CMD_LOAD_BEGIN, {(uint32_t)size});
  if (r[1] != PAL_FW_OK) return r[1];
  for (size_t pos = 0; pos < size;) {
    size_t n = size - pos < 4 * 60 ? size - pos : 4 * 60;
    std::vector<uint32_t> p{(uint32_t)n};
    for (size_t i = 0; i < n; i += 4) {
      uint32_t w = 0;
      for (size_t k = 0; k < 4 && i + k < n; k++) w |= (uint32_t)img[pos + i + k] << (8 * k);
      p.push_back(w);
    }
    r = b.request(PAL_FW_CMD_LOAD_DATA, p);
    if (r[1] != PAL_FW_OK) return r[1];
    pos += n;
  }
  assert_int_equal(r[5], 1);  // kernel valid
  return r[1];
}

}  // namespace rv32sys

#endif
