/* usb://: a board's FTDI USB-UART bridge driven from user space through
 * libusb-1.0 (no ftdi_sio, no /dev/ttyUSB*), as a byte-stream transport
 * (pal/transport.h) under the link protocol. The FTDI requests are set up
 * here (reset, purge, baud divisor, latency timer, bit mode, 8N1, no flow
 * control) and the two modem-status bytes that start every bulk IN packet
 * are stripped, so the protocol sees the UART's bytes only. */
#ifndef PAL_USB_H
#define PAL_USB_H

#include <stdint.h>

#include "pal/status.h"
#include "pal/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pal_usb_options {
  uint32_t baud;               /* default 3000000; the spec's ?baud= wins */
  uint32_t latency_ms;         /* FTDI latency timer 1..255; default 1; ?latency_ms= wins */
  uint32_t control_timeout_ms; /* each setup request; default 1000 */
} pal_usb_options_t;

void pal_usb_options_initialize(pal_usb_options_t *options);

/* Opens an FTDI UART by spec
 *   [usb://]VID:PID[?interface=N&serial=S&baud=B&latency_ms=L]
 * (hex VID and PID, "0403:6010?interface=1&baud=3000000"): finds the device
 * (with that serial number string when given; the first one otherwise),
 * lets libusb detach ftdi_sio, claims interface N (default 1 on 0403:6010,
 * the iCEBreaker's UART channel B; 0 elsewhere), and configures the chip.
 * The chip type comes from bcdDevice, the packet size from the IN
 * endpoint's wMaxPacketSize. Messages name the device
 * ("usb://0403:6010: ..."). Close with pal_transport_close. */
pal_status_t pal_usb_transport_open(const char *spec, pal_transport_t *out_transport);
/* As above; `options` may be NULL (defaults). */
pal_status_t pal_usb_transport_open_with_options(const char *spec, const pal_usb_options_t *options,
                                                 pal_transport_t *out_transport);

typedef struct pal_usb_info {
  char chip[16];           /* "FT2232H", "FT-X", ... */
  uint16_t vid, pid, bcd_device;
  uint8_t interface_number;
  uint8_t channel;         /* wIndex channel byte: 1 = A, 2 = B (0 on BM/R) */
  uint8_t endpoint_in, endpoint_out;
  uint16_t max_packet;     /* bulk IN wMaxPacketSize: 512 high speed, 64 full speed */
  uint32_t baud;           /* requested */
  uint32_t actual_baud;    /* what the divisor gives */
  uint32_t byte_time_ns;   /* 10 bits (8N1) at actual_baud */
  char serial[64];         /* iSerialNumber, "" when the device has none */
} pal_usb_info_t;

typedef struct pal_usb_stats {
  uint64_t bytes_in, bytes_out;
  uint64_t packets_in;          /* IN packets seen (status bytes stripped from each) */
  uint64_t status_only_packets; /* packets with no data (latency timer expiries) */
  uint64_t overrun_errors, parity_errors, framing_errors, breaks; /* line status bits */
} pal_usb_stats_t;

/* Both fail with PAL_INVALID_ARGUMENT when `transport` is not a usb:// one. */
pal_status_t pal_usb_transport_get_info(const pal_transport_t *transport, pal_usb_info_t *out_info);
pal_status_t pal_usb_transport_get_stats(const pal_transport_t *transport, pal_usb_stats_t *out_stats);

/* Adds the usb:// scheme to the driver core (pal_device_register_scheme in
 * pal/driver.h): pal_device_open("usb://0403:6010?interface=1") then opens
 * the transport above and runs the link protocol over it. Idempotent. */
pal_status_t pal_usb_register_scheme(void);

#ifdef __cplusplus
}
#endif
#endif /* PAL_USB_H */
