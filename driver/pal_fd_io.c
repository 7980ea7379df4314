/* Deadline-bounded I/O on non-blocking descriptors for the serial and TCP
 * transports (pal_fd_io.h). */
#include "pal_fd_io.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static pal_status_t io_failed(const char *name, const char *verb, int err) {
  /* EIO on a tty whose far end closed, ENXIO/ENODEV on an unplugged
   * adapter, EPIPE/ECONNRESET on a socket: the device is gone. */
  pal_status_code_t code = (err == EIO || err == ENXIO || err == ENODEV || err == EPIPE ||
                            err == ECONNRESET || err == ENOTCONN)
                               ? PAL_UNAVAILABLE
                               : PAL_IO_ERROR;
  return pal_status_make(code, "%s: %s: %s", name, verb, strerror(err));
}

pal_status_t pal_fd_write_all(int fd, int is_socket, const char *name, const uint8_t *data,
                              size_t len, uint32_t timeout_ms) {
  uint64_t deadline = now_ms() + timeout_ms;
  size_t done = 0;
  while (done < len) {
    ssize_t n = is_socket ? send(fd, data + done, len - done, MSG_NOSIGNAL)
                          : write(fd, data + done, len - done);
    if (n > 0) {
      done += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return io_failed(name, "write", errno);
    uint64_t now = now_ms();
    if (now >= deadline)
      return pal_status_make(PAL_DEADLINE_EXCEEDED,
                             "%s: write: only %zu of %zu bytes accepted within %u ms (is the "
                             "device reading?)",
                             name, done, len, (unsigned)timeout_ms);
    struct pollfd p = {fd, POLLOUT, 0};
    int r = poll(&p, 1, (int)(deadline - now));
    if (r < 0 && errno != EINTR) return io_failed(name, "poll", errno);
    if (r > 0 && (p.revents & (POLLERR | POLLNVAL)))
      return pal_status_make(PAL_UNAVAILABLE, "%s: write: the device went away", name);
  }
  return PAL_STATUS_OK;
}

pal_status_t pal_fd_read_some(int fd, const char *name, uint8_t *data, size_t cap,
                              size_t *out_len, uint32_t timeout_ms) {
  *out_len = 0;
  uint64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    ssize_t n = read(fd, data, cap);
    if (n > 0) {
      *out_len = (size_t)n;
      return PAL_STATUS_OK;
    }
    if (n == 0) return pal_status_make(PAL_UNAVAILABLE, "%s: read: the device closed the connection", name);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return io_failed(name, "read", errno);
    uint64_t now = now_ms();
    if (now >= deadline) return PAL_STATUS_OK;
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, (int)(deadline - now));
    if (r < 0 && errno != EINTR) return io_failed(name, "poll", errno);
    if (r == 0) return PAL_STATUS_OK;
    if (p.revents & POLLNVAL) return pal_status_make(PAL_IO_ERROR, "%s: read: bad descriptor", name);
    /* POLLHUP/POLLERR: the read above reports what happened. */
  }
}

void pal_fd_drain(int fd) {
  uint8_t buf[4096];
  for (int i = 0; i < 1024; i++) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0 && !(n < 0 && errno == EINTR)) break;
  }
}
