// The iCEBreaker board top (rtl/boards/pal_icebreaker.v) in Verilator, as
// it is flashed but with the PLL wrapper's simulation stand-in and the
// board's SPI flash modelled on its pins, holding the link firmware's
// flash image (BOARD_FLASH) where make bitstream puts it: after the reset
// generator lets go, the boot ROM copies the firmware out of the flash
// (and nothing is sent meanwhile); then a PING frame sent bit by bit into the RX pin
// at the board's 4 clocks per bit (12 MHz core, 3 Mbaud) comes back on the
// TX pin as a PONG with the same sequence number and payload, and the link
// activity LED (LED4) lights; a second PING with a damaged CRC-32 is
// NAKed BAD_CRC and lights the error LED (LEDR_N low); holding the button
// keeps the SoC in reset (no reply at all).
#include <vector>

#include "Vpal_icebreaker.h"
#include "pal_fw_map.h"  // PAL_FW_FLASH_OFFSET
#include "pal_spi_flash.h"
#include "rtl_test.h"

extern "C" {
#include "pal/protocol.h"
}

using rtl_test::Rng;

namespace {

const int CLKS_PER_BIT = 4;

struct Board {
  uint64_t seed;
  VerilatedContext ctx;
  Vpal_icebreaker *m;
  int tx_state = 0, tx_count = 0, tx_bit = 0;
  uint8_t tx_byte = 0;
  std::vector<uint8_t> rx;  // bytes the FPGA sent
  bool led4_seen = false, ledr_seen = false;
  pal_spi_flash flash;

  explicit Board(uint64_t s) : seed(s) {
    ctx.randReset(2);
    ctx.randSeed((int)(s & 0x7FFFFFFF));
    m = new Vpal_icebreaker(&ctx);
    m->CLK = 0;
    m->RX = 1;
    m->BTN_N = 1;
    m->FLASH_IO1 = 1;
    RTL_CHECK(seed, flash.load(BOARD_FLASH, PAL_FW_FLASH_OFFSET), "cannot read %s", BOARD_FLASH);
    m->eval();
  }
  ~Board() { delete m; }

  // One clock; samples TX as a UART receiver (start bit edge, mid-bit samples).
  void tick() {
    m->CLK = 1;
    m->eval();
    m->FLASH_IO1 = flash.step(m->FLASH_SSB, m->FLASH_SCK, m->FLASH_IO0);
    m->CLK = 0;
    m->eval();
    led4_seen |= m->LED4;
    ledr_seen |= !m->LEDR_N;
    switch (tx_state) {
      case 0:
        if (!m->TX) tx_state = 1, tx_count = CLKS_PER_BIT / 2;
        break;
      case 1:  // mid start bit
        if (--tx_count == 0) {
          if (m->TX) tx_state = 0;  // glitch
          else tx_state = 2, tx_count = CLKS_PER_BIT, tx_bit = 0, tx_byte = 0;
        }
        break;
      case 2:
        if (--tx_count == 0) {
          tx_byte |= (uint8_t)(m->TX << tx_bit);
          tx_count = CLKS_PER_BIT;
          if (++tx_bit == 8) tx_state = 3;
        }
        break;
      case 3:  // stop bit
        if (--tx_count == 0) {
          RTL_CHECK(seed, m->TX, "stop bit of byte %zu is 0", rx.size());
          rx.push_back(tx_byte);
          tx_state = 0;
        }
        break;
    }
  }
  void run(int n) {
    for (int i = 0; i < n; i++) tick();
  }
  void send(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
      int bits = (p[i] << 1) | 0x200;  // start, 8 data LSB first, stop
      for (int b = 0; b < 10; b++) {
        m->RX = (bits >> b) & 1;
        run(CLKS_PER_BIT);
      }
    }
    m->RX = 1;
  }
  // Runs until a whole frame has come back (or the cycle budget is spent).
  bool receive(pal_frame_parser_t *parser, int budget, pal_frame_event_t *ev, pal_frame_t *f,
               std::vector<uint8_t> *payload) {
    size_t used = 0;
    for (int i = 0; i < budget; i++) {
      tick();
      while (used < rx.size()) {
        size_t k = pal_frame_parser_push(parser, rx.data() + used, rx.size() - used, ev, f);
        used += k;
        if (*ev != PAL_FRAME_NONE) {
          payload->assign(f->payload, f->payload + (*ev == PAL_FRAME_OK ? f->len : 0));
          rx.erase(rx.begin(), rx.begin() + (long)used);
          return true;
        }
      }
    }
    return false;
  }
};

std::vector<uint8_t> ping_bytes(Rng &rng, uint8_t seq, std::vector<uint8_t> *payload) {
  payload->resize(1 + rng.below(24));
  for (auto &b : *payload) b = (uint8_t)rng.u32();
  pal_frame_t f = {PAL_MSG_PING, seq, PAL_PROTO_VERSION, (uint16_t)payload->size(), payload->data()};
  std::vector<uint8_t> out(payload->size() + PAL_PROTO_OVERHEAD);
  size_t len = 0;
  assert_null(pal_frame_encode(&f, out.data(), out.size(), &len));
  out.resize(len);
  return out;
}

void test_ping_pong_and_nak(void **state) {
  (void)state;
  uint64_t seed = rtl_test::seed();
  Rng rng(seed ^ 0x1CEB);
  Board b(seed);
  pal_frame_parser_t *parser = NULL;
  assert_null(pal_frame_parser_create(4096, &parser));
  b.run(2000);  // configuration reset: 1024 cycles after lock
  // the boot: the firmware image read out of the flash (its header, then
  // every byte), the chip select released
  int boot = 0;
  while (boot < 5000000 && !(b.flash.read_bytes() > 16 && b.m->FLASH_SSB)) b.tick(), boot++;
  RTL_CHECK(seed, b.flash.read_bytes() >= 16 + 4096, "the boot ROM read %llu bytes of the flash",
            (unsigned long long)b.flash.read_bytes());
  // the firmware's start-up (crt0 clears .bss, pal_fw_init and
  // pal_fw_link_init read the tile and clear their state: ~40 000 cycles)
  b.run(100000);
  RTL_CHECK(seed, !b.ledr_seen, "the error LED is on after the boot (the boot ROM refused the image)");
  RTL_CHECK(seed, b.rx.empty(), "TX sent %zu bytes before anything was asked", b.rx.size());
  RTL_CHECK(seed, !b.led4_seen && !b.ledr_seen, "activity/error LED lit before any traffic");

  std::vector<uint8_t> payload, got;
  uint8_t seq = (uint8_t)rng.u32();
  std::vector<uint8_t> frame = ping_bytes(rng, seq, &payload);
  b.send(frame.data(), frame.size());
  pal_frame_event_t ev;
  pal_frame_t f;
  RTL_CHECK(seed, b.receive(parser, 40000, &ev, &f, &got), "no reply to PING");
  RTL_CHECK(seed, ev == PAL_FRAME_OK && f.type == PAL_MSG_PONG && f.seq == seq && got == payload,
            "PING seq %u: reply event %s type %s seq %u len %u (payload %s)", seq,
            pal_frame_event_name(ev), pal_msg_type_name(f.type), f.seq, f.len,
            got == payload ? "echoed" : "differs");
  RTL_CHECK(seed, b.led4_seen, "link activity LED never lit");
  RTL_CHECK(seed, !b.ledr_seen, "error LED lit without an error");

  // INFO: the board's buffers are the ones the 2x2 Verilated tile of the
  // differential tests is built with (sim/sim.mk, ICEBREAKER_TILE_DEPTHS)
  {
    pal_frame_t q = {PAL_MSG_INFO, (uint8_t)(seq + 7), PAL_PROTO_VERSION, 0, NULL};
    std::vector<uint8_t> out(PAL_PROTO_OVERHEAD);
    size_t len = 0;
    assert_null(pal_frame_encode(&q, out.data(), out.size(), &len));
    b.send(out.data(), len);
    RTL_CHECK(seed, b.receive(parser, 60000, &ev, &f, &got), "no reply to INFO");
    pal_link_info_t info;
    RTL_CHECK(seed, ev == PAL_FRAME_OK && f.type == PAL_MSG_INFO_REPLY &&
                        pal_link_info_decode(got.data(), got.size(), &info) == PAL_STATUS_OK,
              "INFO: reply %s type %s len %u", pal_frame_event_name(ev), pal_msg_type_name(f.type), f.len);
    const uint32_t want[6] = {SIM_2X2_DEPTHS};
    const uint32_t have[6] = {info.tile.imem_depth, info.tile.abuf_blocks, info.tile.wmem_blocks,
                              info.tile.acc_depth,  info.tile.bias_depth,  info.tile.obuf_depth};
    RTL_CHECK(seed, info.tile.rows == 2 && info.tile.cols == 2, "INFO: %ux%u, not 2x2", info.tile.rows,
              info.tile.cols);
    // and without a POST unit, as that model (docs/isa.md §1)
    RTL_CHECK(seed, info.tile.no_post == 1 && (info.flags & PAL_PROTO_FLAG_NO_POST),
              "INFO: flags 0x%x, the board's tile has no POST unit", info.flags);
    for (int i = 0; i < 6; i++)
      RTL_CHECK(seed, have[i] == want[i],
                "INFO depth %d (IMEM, ABUF, WMEM, ACC, BIAS, OBUF) is %u, the 2x2 test model's %u", i,
                have[i], want[i]);
    // nor accumulate units (raw block sums, docs/isa.md §1)
    RTL_CHECK(seed, info.tile.no_accu == 1 && (info.flags & PAL_PROTO_FLAG_NO_ACCU),
              "INFO: flags 0x%x, the board's tile has no accumulate units", info.flags);
    // served by the firmware, which keeps the link counters
    RTL_CHECK(seed, (info.flags & PAL_PROTO_FLAG_FIRMWARE) && !(info.flags & PAL_PROTO_FLAG_NO_LINK_COUNTERS),
              "INFO: flags 0x%x, the board's link is the firmware's, with its counters", info.flags);
  }

  // damaged payload CRC: NAK BAD_CRC, error LED
  frame = ping_bytes(rng, (uint8_t)(seq + 1), &payload);
  frame.back() ^= 0x10;
  b.send(frame.data(), frame.size());
  RTL_CHECK(seed, b.receive(parser, 40000, &ev, &f, &got), "no reply to a damaged PING");
  RTL_CHECK(seed, ev == PAL_FRAME_OK && f.type == PAL_MSG_NAK && got.size() == 1 && got[0] == PAL_NAK_BAD_CRC,
            "damaged PING: reply %s type %s, reason %u", pal_frame_event_name(ev),
            pal_msg_type_name(f.type), got.empty() ? 0u : got[0]);
  RTL_CHECK(seed, b.ledr_seen, "error LED did not light after a NAK");

  // The link counters (the firmware's): RX_FRAMES counts the PING, INFO
  // and this READ, RX_BAD_CRC the damaged PING; then the tile's ID register
  for (int k = 0; k < 2; k++) {
    uint8_t rd[6] = {0, 0, 0, 0, (uint8_t)(k == 0 ? 12 : 4), 0};
    uint32_t addr = k == 0 ? PAL_ADDR_LINK_REGS : PAL_ADDR_TILE_REGS + PAL_TILE_REG_ID;
    for (int i = 0; i < 4; i++) rd[i] = (uint8_t)(addr >> (8 * i));
    pal_frame_t q = {PAL_MSG_READ, (uint8_t)(seq + 8 + k), PAL_PROTO_VERSION, sizeof rd, rd};
    std::vector<uint8_t> out(sizeof rd + PAL_PROTO_OVERHEAD);
    size_t len = 0;
    assert_null(pal_frame_encode(&q, out.data(), out.size(), &len));
    b.send(out.data(), len);
    RTL_CHECK(seed, b.receive(parser, 60000, &ev, &f, &got), "no reply to READ 0x%08x", addr);
    if (k == 0)
      RTL_CHECK(seed, ev == PAL_FRAME_OK && f.type == PAL_MSG_READ_REPLY && got.size() == 12 &&
                          got[0] == 3 && got[4] == 0 && got[8] == 1,
                "READ of the link counters: reply %s type %s len %zu, RX_FRAMES %u RX_BAD_HCRC %u RX_BAD_CRC %u",
                pal_frame_event_name(ev), pal_msg_type_name(f.type), got.size(), got.size() > 0 ? got[0] : 0u,
                got.size() > 4 ? got[4] : 0u, got.size() > 8 ? got[8] : 0u);
    else
      RTL_CHECK(seed, ev == PAL_FRAME_OK && f.type == PAL_MSG_READ_REPLY && got.size() == 4 &&
                          (got[0] | got[1] << 8 | got[2] << 16 | (uint32_t)got[3] << 24) == PAL_TILE_ID_VALUE,
                "READ of the tile's ID after the NAK: reply %s type %s len %zu", pal_frame_event_name(ev),
                pal_msg_type_name(f.type), got.size());
  }

  // button held: the SoC is in reset and answers nothing
  b.m->BTN_N = 0;
  b.run(100);
  frame = ping_bytes(rng, (uint8_t)(seq + 2), &payload);
  b.send(frame.data(), frame.size());
  b.run(20000);
  RTL_CHECK(seed, b.rx.empty(), "the SoC answered while the button held it in reset");
  pal_frame_parser_destroy(parser);
}

}  // namespace

int main(int argc, char **argv) {
  Verilated::commandArgs(argc, argv);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ping_pong_and_nak),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
