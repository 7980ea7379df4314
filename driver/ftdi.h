/* FTDI USB-UART bridges as seen from user space (private to driver/): chip
 * types, the vendor control requests of the SIO protocol, and the baud rate
 * divisor encoding, as a pure function so it can be checked against the
 * values the Linux ftdi_sio driver and libftdi compute. */
#ifndef PAL_FTDI_H
#define PAL_FTDI_H

#include <stdbool.h>
#include <stdint.h>

#include "pal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* bmRequestType of every SIO request: vendor, host-to-device, device. */
#define PAL_FTDI_REQTYPE_OUT 0x40u

/* bRequest */
#define PAL_FTDI_SIO_RESET 0x00u        /* wValue: PAL_FTDI_RESET_* */
#define PAL_FTDI_SIO_MODEM_CTRL 0x01u   /* not used: ULX3S wires DTR/RTS to JTAG */
#define PAL_FTDI_SIO_SET_FLOW_CTRL 0x02u /* wIndex high byte: 0 = none */
#define PAL_FTDI_SIO_SET_BAUDRATE 0x03u
#define PAL_FTDI_SIO_SET_DATA 0x04u     /* wValue: bits | parity << 8 | stop << 11 | break << 14 */
#define PAL_FTDI_SIO_SET_LATENCY 0x09u  /* wValue: 1..255 ms */
#define PAL_FTDI_SIO_SET_BITMODE 0x0Bu  /* wValue: mode << 8 | pin mask; 0 = reset (UART) */

/* SIO_RESET wValue (names as in Linux ftdi_sio.h; libftdi 1.5 notes that
 * FTDI's own RX/TX naming is the other way round; we always send both). */
#define PAL_FTDI_RESET_SIO 0u
#define PAL_FTDI_RESET_PURGE_RX 1u
#define PAL_FTDI_RESET_PURGE_TX 2u

/* SET_DATA value for 8 data bits, no parity, one stop bit. */
#define PAL_FTDI_DATA_8N1 0x0008u

/* Every bulk IN packet starts with these two bytes: modem status, then line
 * status. */
#define PAL_FTDI_STATUS_BYTES 2u
#define PAL_FTDI_LINE_OVERRUN 0x02u
#define PAL_FTDI_LINE_PARITY 0x04u
#define PAL_FTDI_LINE_FRAMING 0x08u
#define PAL_FTDI_LINE_BREAK 0x10u

typedef enum pal_ftdi_chip {
  PAL_FTDI_CHIP_UNKNOWN = 0,
  PAL_FTDI_CHIP_AM,    /* bcdDevice 0x0200: FT8U232AM, not supported */
  PAL_FTDI_CHIP_BM,    /* 0x0400 */
  PAL_FTDI_CHIP_2232C, /* 0x0500 */
  PAL_FTDI_CHIP_R,     /* 0x0600: FT232R, FT245R */
  PAL_FTDI_CHIP_2232H, /* 0x0700: iCEBreaker */
  PAL_FTDI_CHIP_4232H, /* 0x0800 */
  PAL_FTDI_CHIP_232H,  /* 0x0900 */
  PAL_FTDI_CHIP_X,     /* 0x1000: FT230X, FT231X (ULX3S), FT234XD */
} pal_ftdi_chip_t;

/* The chip from the device descriptor's bcdDevice (as ftdi_sio and libftdi
 * decide it); PAL_FTDI_CHIP_UNKNOWN for other values. */
pal_ftdi_chip_t pal_ftdi_chip_from_bcd(uint16_t bcd_device);
const char *pal_ftdi_chip_name(pal_ftdi_chip_t chip);
/* H-type chips: 120 MHz baud clock, high-speed USB (512-byte packets). */
bool pal_ftdi_chip_is_h(pal_ftdi_chip_t chip);
/* The channel byte of wIndex for interface `interface_number` (0-based):
 * interface + 1 (1 = A, 2 = B, ...) on 2232C, H-type and FT-X chips, and 0
 * on BM and R, which have one port and read wIndex as divisor bits (Linux
 * ftdi_sio, priv->channel). */
uint8_t pal_ftdi_channel(pal_ftdi_chip_t chip, uint8_t interface_number);
/* Bulk endpoints of an interface: OUT 0x02 + 2i, IN 0x81 + 2i (channel B of
 * an FT2232H: 0x04 and 0x83). */
uint8_t pal_ftdi_endpoint_out(uint8_t interface_number);
uint8_t pal_ftdi_endpoint_in(uint8_t interface_number);

typedef struct pal_ftdi_baud {
  uint32_t divisor; /* encoded: integer part [13:0], fraction code [16:14], 120 MHz flag [17] */
  uint16_t value;   /* wValue of SET_BAUDRATE */
  uint16_t index;   /* wIndex of SET_BAUDRATE */
  uint32_t actual;  /* the rate the chip will run at */
} pal_ftdi_baud_t;

/* The SET_BAUDRATE request for `baud` on `chip`, `channel` being the
 * wIndex channel byte (pal_ftdi_channel). H-type chips use the 120 MHz
 * clock with the high-speed flag from 1200 baud to 12 Mbaud and the 48 MHz
 * one below; other chips 48 MHz, up to 3 Mbaud. Divisors are rounded to the
 * nearest eighth; those between 1 and 2 other than 1.5 do not exist and
 * snap to 1, 1.5 or 2. Fails (PAL_OUT_OF_RANGE, naming the chip and the
 * nearest rate) when the rate is outside the chip's range or the nearest
 * one it can make is more than 3 % off; PAL_UNIMPLEMENTED for AM and
 * unknown chips. */
pal_status_t pal_ftdi_baud_divisor(pal_ftdi_chip_t chip, uint8_t channel, uint32_t baud,
                                   pal_ftdi_baud_t *out_baud);

#ifdef __cplusplus
}
#endif
#endif /* PAL_FTDI_H */
