/* FTDI chip facts and the baud divisor encoding (driver/ftdi.h). The
 * algorithm follows Linux drivers/usb/serial/ftdi_sio.c
 * (ftdi_232bm_baud_base_to_divisor, ftdi_2232h_baud_base_to_divisor,
 * change_speed, including commit 528222d0c8ce "fix FTX sub-integer
 * prescaler") and FTDI AN232B-05 / AN_120; libftdi's ftdi_convert_baudrate
 * gives the same wValue everywhere and the same wIndex on H-type chips. */
#include "ftdi.h"

#include <inttypes.h>

pal_ftdi_chip_t pal_ftdi_chip_from_bcd(uint16_t bcd_device) {
  switch (bcd_device) {
    case 0x0200: return PAL_FTDI_CHIP_AM;
    case 0x0400: return PAL_FTDI_CHIP_BM;
    case 0x0500: return PAL_FTDI_CHIP_2232C;
    case 0x0600: return PAL_FTDI_CHIP_R;
    case 0x0700: return PAL_FTDI_CHIP_2232H;
    case 0x0800: return PAL_FTDI_CHIP_4232H;
    case 0x0900: return PAL_FTDI_CHIP_232H;
    case 0x1000: return PAL_FTDI_CHIP_X;
    default: return PAL_FTDI_CHIP_UNKNOWN;
  }
}

const char *pal_ftdi_chip_name(pal_ftdi_chip_t chip) {
  switch (chip) {
    case PAL_FTDI_CHIP_AM: return "FT8U232AM";
    case PAL_FTDI_CHIP_BM: return "FT232BM";
    case PAL_FTDI_CHIP_2232C: return "FT2232C";
    case PAL_FTDI_CHIP_R: return "FT232R";
    case PAL_FTDI_CHIP_2232H: return "FT2232H";
    case PAL_FTDI_CHIP_4232H: return "FT4232H";
    case PAL_FTDI_CHIP_232H: return "FT232H";
    case PAL_FTDI_CHIP_X: return "FT-X";
    default: return "unknown FTDI chip";
  }
}

bool pal_ftdi_chip_is_h(pal_ftdi_chip_t chip) {
  return chip == PAL_FTDI_CHIP_2232H || chip == PAL_FTDI_CHIP_4232H || chip == PAL_FTDI_CHIP_232H;
}

uint8_t pal_ftdi_channel(pal_ftdi_chip_t chip, uint8_t interface_number) {
  switch (chip) {
    case PAL_FTDI_CHIP_AM:
    case PAL_FTDI_CHIP_BM:
    case PAL_FTDI_CHIP_R: return 0;
    default: return (uint8_t)(interface_number + 1u);
  }
}

uint8_t pal_ftdi_endpoint_out(uint8_t interface_number) { return (uint8_t)(0x02u + 2u * interface_number); }
uint8_t pal_ftdi_endpoint_in(uint8_t interface_number) { return (uint8_t)(0x81u + 2u * interface_number); }

/* Fraction code of divisor eighths: index = eighths, value = the 3-bit code
 * the chip wants (0, 1/8 -> 3, 1/4 -> 2, 3/8 -> 4, 1/2 -> 1, ...). */
static const uint8_t kFracCode[8] = {0, 3, 2, 4, 1, 5, 6, 7};

/* Rate for a divisor of div8/8 on a clock of `base` (= clock / 16 or / 10). */
static uint32_t rate_of(uint64_t base, uint32_t div8) { return (uint32_t)((base * 8 + div8 / 2) / div8); }

static uint64_t abs_diff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

pal_status_t pal_ftdi_baud_divisor(pal_ftdi_chip_t chip, uint8_t channel, uint32_t baud,
                                   pal_ftdi_baud_t *out_baud) {
  const char *name = pal_ftdi_chip_name(chip);
  if (chip == PAL_FTDI_CHIP_UNKNOWN || chip == PAL_FTDI_CHIP_AM)
    return pal_status_make(PAL_UNIMPLEMENTED, "%s: baud rate divisors are not supported for this chip", name);
  bool h = pal_ftdi_chip_is_h(chip);
  uint32_t max_baud = h ? 12000000u : 3000000u;
  if (baud == 0 || baud > max_baud)
    return pal_status_make(PAL_OUT_OF_RANGE, "%s: baud %" PRIu32 " outside the chip's range (at most %" PRIu32 ")",
                           name, baud, max_baud);
  /* H-type chips run the 120 MHz clock divided by 10 (flag bit 17) from
   * 1200 baud up; below, the legacy 48 MHz clock divided by 16. */
  bool hi_speed = h && baud >= 1200u;
  uint64_t base = hi_speed ? 12000000u : 3000000u;
  /* divisor in eighths, rounded to nearest: base * 8 / baud */
  uint64_t div8 = (base * 8 + baud / 2) / baud;
  if (div8 < 8) div8 = 8; /* unreachable below max_baud; keeps the table below safe */
  if (div8 > 8 && div8 < 16 && div8 != 12) {
    /* AN_120: no sub-integer divisors between 1 and 2 except 1.5. */
    static const uint32_t kAllowed[3] = {8, 12, 16};
    uint32_t best = 8;
    for (int i = 0; i < 3; i++)
      if (abs_diff(rate_of(base, kAllowed[i]), baud) < abs_diff(rate_of(base, best), baud)) best = kAllowed[i];
    div8 = best;
  }
  if (div8 > 0x1FFFFu) {
    uint32_t min_baud = rate_of(base, 0x1FFFFu);
    return pal_status_make(PAL_OUT_OF_RANGE, "%s: baud %" PRIu32 " below the chip's minimum of about %" PRIu32, name,
                           baud, min_baud);
  }
  uint32_t actual = rate_of(base, (uint32_t)div8);
  if (abs_diff(actual, baud) * 100 > 3u * (uint64_t)baud)
    return pal_status_make(PAL_OUT_OF_RANGE,
                           "%s: baud %" PRIu32 " cannot be made: the nearest rate is %" PRIu32
                           " (%.1f %% off; a UART needs it within 3 %%)",
                           name, baud, actual, 100.0 * (double)abs_diff(actual, baud) / baud);
  uint32_t divisor;
  if (div8 == 8)
    divisor = 0; /* 1.0 */
  else if (div8 == 12)
    divisor = 1; /* 1.5 */
  else
    divisor = (uint32_t)(div8 >> 3) | (uint32_t)kFracCode[div8 & 7] << 14;
  if (hi_speed) divisor |= 0x20000u;
  out_baud->divisor = divisor;
  out_baud->value = (uint16_t)(divisor & 0xFFFFu);
  /* Chips with a channel byte take the divisor's high bits in wIndex[15:8];
   * BM and R (channel 0) in wIndex[7:0]. */
  out_baud->index = channel ? (uint16_t)((divisor >> 16) << 8 | channel) : (uint16_t)(divisor >> 16);
  out_baud->actual = actual;
  return PAL_STATUS_OK;
}
