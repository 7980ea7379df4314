// A SPI NOR flash as the firmware-link SoC's boot ROM uses it
// (firmware/boot/pal_boot.c): mode 0, command 0xAB (release from deep
// power-down: nothing to do here) and 0x03 (READ: a 24-bit address, then
// bytes for as long as the chip select stays low). It samples MOSI on SCK's
// rising edges and sets the next MISO bit on its falling edges. The
// contents are an image file placed at an offset; everything else reads
// 0xFF, as erased flash does. Shared by the Verilated SoC model
// (sim/pal_soc_model.cpp), the gate-level harness (tests/fpga/gates_model.cpp)
// and the board test (tests/fpga/test_board_icebreaker.cpp).
#ifndef PAL_SPI_FLASH_H
#define PAL_SPI_FLASH_H

#include <cstdint>
#include <cstdio>
#include <vector>

class pal_spi_flash {
 public:
  // false when the file cannot be read (the flash then reads erased).
  bool load(const char *path, uint32_t offset) {
    offset_ = offset;
    image_.clear();
    FILE *f = std::fopen(path, "rb");
    if (!f) return false;
    int c;
    while ((c = std::fgetc(f)) != EOF) image_.push_back((uint8_t)c);
    std::fclose(f);
    return true;
  }
  // The pins after a clock edge of the design; returns the MISO level.
  bool step(bool cs_n, bool sck, bool mosi) {
    if (cs_n) {
      bits_ = 0;
    } else if (sck && !sck_) {
      shift_ = (shift_ << 1) | (mosi ? 1u : 0u);
      bits_++;
      if (bits_ == 8) cmd_ = shift_ & 0xFF;
      if (bits_ == 32 && cmd_ == 0x03) addr_ = shift_ & 0xFFFFFF;
      if (bits_ > 32 && cmd_ == 0x03 && (bits_ - 32) % 8 == 0) read_bytes_++;
    } else if (!sck && sck_ && cmd_ == 0x03 && bits_ >= 32) {
      uint32_t k = bits_ - 32;
      miso_ = (byte(addr_ + k / 8) >> (7 - k % 8)) & 1u;
    }
    sck_ = sck;
    return miso_;
  }
  // Data bytes sent by READ commands so far.
  uint64_t read_bytes() const { return read_bytes_; }

 private:
  uint8_t byte(uint32_t a) const {
    if (a < offset_ || a - offset_ >= image_.size()) return 0xFF;
    return image_[a - offset_];
  }
  std::vector<uint8_t> image_;
  uint32_t offset_ = 0;
  bool sck_ = false, miso_ = true;
  uint32_t bits_ = 0, shift_ = 0, cmd_ = 0, addr_ = 0;
  uint64_t read_bytes_ = 0;
};

#endif  // PAL_SPI_FLASH_H
