/* serial://: a tty in raw mode (8N1, no flow control) for boards behind a
 * USB-UART bridge driven by the kernel (ftdi_sio), and for pseudo-terminals
 * in the tests. Timeouts come from poll() on a non-blocking descriptor. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "pal/driver.h"
#include "pal_fd_io.h"

typedef struct serial {
  int fd;
  char name[96];
} serial_t;

static const struct {
  uint32_t baud;
  speed_t speed;
} kBauds[] = {
    {50, B50},           {75, B75},           {110, B110},         {134, B134},
    {150, B150},         {200, B200},         {300, B300},         {600, B600},
    {1200, B1200},       {1800, B1800},       {2400, B2400},       {4800, B4800},
    {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},
    {115200, B115200},   {230400, B230400},
#ifdef B460800
    {460800, B460800},
#endif
#ifdef B500000
    {500000, B500000},   {576000, B576000},   {921600, B921600},   {1000000, B1000000},
    {1152000, B1152000}, {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000},
    {3000000, B3000000}, {3500000, B3500000}, {4000000, B4000000},
#endif
};

static bool baud_speed(uint32_t baud, speed_t *out) {
  for (size_t i = 0; i < sizeof kBauds / sizeof kBauds[0]; i++)
    if (kBauds[i].baud == baud) {
      *out = kBauds[i].speed;
      return true;
    }
  return false;
}

bool pal_transport_serial_baud_supported(uint32_t baud) {
  speed_t s;
  return baud_speed(baud, &s);
}

static pal_status_t serial_write(void *self, const uint8_t *data, size_t len, uint32_t timeout_ms) {
  serial_t *s = self;
  return pal_fd_write_all(s->fd, 0, s->name, data, len, timeout_ms);
}

static pal_status_t serial_read(void *self, uint8_t *data, size_t cap, size_t *out_len,
                                uint32_t timeout_ms) {
  serial_t *s = self;
  return pal_fd_read_some(s->fd, s->name, data, cap, out_len, timeout_ms);
}

static pal_status_t serial_purge(void *self) {
  serial_t *s = self;
  tcflush(s->fd, TCIOFLUSH);
  pal_fd_drain(s->fd);
  return PAL_STATUS_OK;
}

static void serial_close(void *self) {
  serial_t *s = self;
  if (!s) return;
  (void)ioctl(s->fd, TIOCNXCL); /* the next opener of a shared tty (a test's pty) may open it */
  close(s->fd);
  free(s);
}

static const pal_transport_ops_t kSerialOps = {serial_write, serial_read, serial_purge, serial_close};

pal_status_t pal_transport_serial_open(const char *path, uint32_t baud, pal_transport_t *out_transport) {
  memset(out_transport, 0, sizeof *out_transport);
  char name[96];
  snprintf(name, sizeof name, "serial://%s", path);
  speed_t speed;
  if (!baud_speed(baud, &speed))
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: baud %u is not a rate this OS has (it has 50 .. 4000000 in the "
                           "standard steps, 3000000 included)",
                           name, (unsigned)baud);
  int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == EACCES || err == EPERM)
      return pal_status_make(PAL_UNAVAILABLE,
                             "%s: cannot open %s: %s (install driver/99-pal.rules in "
                             "/etc/udev/rules.d and join the plugdev group)",
                             name, path, strerror(err));
    return pal_status_make(err == ENOENT ? PAL_NOT_FOUND : PAL_UNAVAILABLE, "%s: cannot open %s: %s",
                           name, path, strerror(err));
  }
  struct termios tio;
  if (!isatty(fd) || tcgetattr(fd, &tio) != 0) {
    int err = errno;
    close(fd);
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s is not a terminal device (%s)", name, path,
                           strerror(err));
  }
  /* Exclusive: a second opener (a terminal program, ModemManager) would
   * steal bytes and look like line noise. Not every tty supports it. */
  (void)ioctl(fd, TIOCEXCL);
  cfmakeraw(&tio);
  tio.c_cflag |= CLOCAL | CREAD;
  tio.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB);
#ifdef CRTSCTS
  tio.c_cflag &= ~(tcflag_t)CRTSCTS;
#endif
  tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
  /* Timeouts come from poll(). VMIN = 1 makes an empty non-blocking read
   * fail with EAGAIN; with VMIN = 0 the tty would return 0, which reads
   * as end of file. */
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  if (cfsetispeed(&tio, speed) != 0 || cfsetospeed(&tio, speed) != 0 ||
      tcsetattr(fd, TCSANOW, &tio) != 0) {
    int err = errno;
    close(fd);
    return pal_status_make(PAL_UNAVAILABLE, "%s: cannot set raw mode at %u baud: %s", name,
                           (unsigned)baud, strerror(err));
  }
  tcflush(fd, TCIOFLUSH);
  serial_t *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", name);
  }
  s->fd = fd;
  memcpy(s->name, name, sizeof s->name);
  out_transport->ops = &kSerialOps;
  out_transport->self = s;
  memcpy(out_transport->name, name, sizeof out_transport->name);
  return PAL_STATUS_OK;
}
