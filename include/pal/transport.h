/* Byte-stream transports under the link protocol (docs/protocol.md): a
 * pseudo-terminal or serial port, an FTDI chip through libusb, a TCP socket
 * to palsim, or an in-process model of the device. The protocol layer sees
 * only this interface, so every transport gets the same framing, CRC,
 * retransmission and resync. */
#ifndef PAL_TRANSPORT_H
#define PAL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "pal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pal_transport_ops {
  /* Sends all len bytes or fails (PAL_DEADLINE_EXCEEDED after timeout_ms,
   * PAL_UNAVAILABLE when the device went away, PAL_IO_ERROR otherwise). */
  pal_status_t (*write)(void *self, const uint8_t *data, size_t len, uint32_t timeout_ms);
  /* Waits up to timeout_ms for at least one byte, then returns what is
   * there (up to cap) in *out_len. No byte in time: PAL_STATUS_OK with
   * *out_len = 0. */
  pal_status_t (*read)(void *self, uint8_t *data, size_t cap, size_t *out_len,
                       uint32_t timeout_ms);
  /* Drops everything buffered in both directions (resync). */
  pal_status_t (*purge)(void *self);
  /* Releases the transport; self is invalid afterwards. */
  void (*close)(void *self);
} pal_transport_ops_t;

typedef struct pal_transport {
  const pal_transport_ops_t *ops;
  void *self;
  char name[96]; /* for messages: "serial:///dev/ttyUSB1", "usb://0403:6010" */
} pal_transport_t;

static inline void pal_transport_close(pal_transport_t *t) {
  if (t && t->ops && t->ops->close) t->ops->close(t->self);
}

#ifdef __cplusplus
}
#endif
#endif /* PAL_TRANSPORT_H */
