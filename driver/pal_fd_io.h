/* Private to libpaldrv: blocking-with-deadline I/O on a non-blocking file
 * descriptor (serial ports, pseudo-terminals, TCP sockets), shared by the
 * transports so they time out and report a vanished peer the same way. */
#ifndef PAL_FD_IO_H
#define PAL_FD_IO_H

#include <stddef.h>
#include <stdint.h>

#include "pal/status.h"

/* Writes all len bytes within timeout_ms (PAL_DEADLINE_EXCEEDED), or fails
 * (PAL_UNAVAILABLE when the peer went away, PAL_IO_ERROR otherwise).
 * `name` starts every message; is_socket selects send(MSG_NOSIGNAL). */
pal_status_t pal_fd_write_all(int fd, int is_socket, const char *name, const uint8_t *data,
                              size_t len, uint32_t timeout_ms);
/* Waits up to timeout_ms for bytes; returns what is there (0 on timeout).
 * End of stream is PAL_UNAVAILABLE. */
pal_status_t pal_fd_read_some(int fd, const char *name, uint8_t *data, size_t cap,
                              size_t *out_len, uint32_t timeout_ms);
/* Reads and drops whatever is readable now. */
void pal_fd_drain(int fd);

#endif /* PAL_FD_IO_H */
