/* sim+tcp://: a TCP client to palsim (or any server that speaks the link
 * protocol), the byte stream unchanged; Nagle off so a request leaves at
 * once. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pal/driver.h"
#include "pal_fd_io.h"

typedef struct tcp {
  int fd;
  char name[96];
} tcp_t;

static pal_status_t tcp_write(void *self, const uint8_t *data, size_t len, uint32_t timeout_ms) {
  tcp_t *t = self;
  return pal_fd_write_all(t->fd, 1, t->name, data, len, timeout_ms);
}

static pal_status_t tcp_read(void *self, uint8_t *data, size_t cap, size_t *out_len,
                             uint32_t timeout_ms) {
  tcp_t *t = self;
  return pal_fd_read_some(t->fd, t->name, data, cap, out_len, timeout_ms);
}

static pal_status_t tcp_purge(void *self) {
  tcp_t *t = self;
  pal_fd_drain(t->fd);
  return PAL_STATUS_OK;
}

static void tcp_close(void *self) {
  tcp_t *t = self;
  if (!t) return;
  close(t->fd);
  free(t);
}

static const pal_transport_ops_t kTcpOps = {tcp_write, tcp_read, tcp_purge, tcp_close};

/* Non-blocking connect bounded by timeout_ms; returns the socket or -1
 * with errno set. */
static int connect_one(const struct addrinfo *ai, uint32_t timeout_ms) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) return -1;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) goto fail;
    struct pollfd p = {fd, POLLOUT, 0};
    int r;
    do r = poll(&p, 1, (int)timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r == 0) {
      errno = ETIMEDOUT;
      goto fail;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) goto fail;
    if (err) {
      errno = err;
      goto fail;
    }
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
fail: {
  int err = errno;
  close(fd);
  errno = err;
  return -1;
}
}

pal_status_t pal_transport_tcp_open(const char *host, uint16_t port, uint32_t connect_timeout_ms,
                                    pal_transport_t *out_transport) {
  memset(out_transport, 0, sizeof *out_transport);
  char name[96], service[8];
  bool v6 = strchr(host, ':') != NULL;
  snprintf(name, sizeof name, "sim+tcp://%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
           (unsigned)port);
  snprintf(service, sizeof service, "%u", (unsigned)port);
  if (port == 0) return pal_status_make(PAL_INVALID_ARGUMENT, "%s: port 0", name);
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  int gai = getaddrinfo(host, service, &hints, &res);
  if (gai != 0)
    return pal_status_make(PAL_NOT_FOUND, "%s: cannot resolve host \"%s\": %s", name, host,
                           gai_strerror(gai));
  int fd = -1, err = 0;
  for (const struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
    fd = connect_one(ai, connect_timeout_ms);
    if (fd < 0) err = errno;
  }
  freeaddrinfo(res);
  if (fd < 0)
    return pal_status_make(err == ETIMEDOUT ? PAL_DEADLINE_EXCEEDED : PAL_UNAVAILABLE,
                           "%s: cannot connect: %s%s", name, strerror(err),
                           err == ECONNREFUSED ? " (is palsim running?)" : "");
  tcp_t *t = calloc(1, sizeof *t);
  if (!t) {
    close(fd);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", name);
  }
  t->fd = fd;
  memcpy(t->name, name, sizeof t->name);
  out_transport->ops = &kTcpOps;
  out_transport->self = t;
  memcpy(out_transport->name, name, sizeof out_transport->name);
  return PAL_STATUS_OK;
}
