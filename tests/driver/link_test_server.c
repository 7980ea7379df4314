/* The driver tests' device server (link_test_server.h): one thread that
 * polls the device end of a pty or TCP connection, feeds the link model,
 * writes its replies back, and tells the model about silence so partial
 * frames are dropped as the RTL does after its idle timeout. */
#include "link_test_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "pal_fd_io.h"

struct lts {
  lts_options_t opt;
  char uri[128];
  pal_emu_t *emu;
  pal_link_model_t *model;
  pthread_mutex_t lock;
  pthread_t thread;
  int stop_pipe[2];
  int io_fd;     /* pty master, or the accepted connection (-1 none) */
  int slave_fd;  /* pty: kept open so the master never sees a hangup */
  int listen_fd; /* tcp */
};

void lts_options_initialize(lts_options_t *options) {
  memset(options, 0, sizeof *options);
  options->kind = LTS_PTY;
  options->rows = 4;
  options->cols = 4;
  options->max_payload = 4096;
  options->idle_ms = 20;
  options->mute = false;
}

static void emit(void *ctx, const uint8_t *bytes, size_t len) {
  lts_t *s = ctx;
  if (s->io_fd < 0) return;
  /* A host that stopped reading must not wedge the server: give up after 1 s. */
  pal_status_free(pal_fd_write_all(s->io_fd, s->opt.kind == LTS_TCP, "lts", bytes, len, 1000));
}

static void *serve(void *arg) {
  lts_t *s = arg;
  uint8_t buf[65536];
  for (;;) {
    struct pollfd p[3];
    int n = 0;
    p[n++] = (struct pollfd){s->stop_pipe[0], POLLIN, 0};
    if (s->io_fd >= 0) p[n++] = (struct pollfd){s->io_fd, POLLIN, 0};
    if (s->listen_fd >= 0) p[n++] = (struct pollfd){s->listen_fd, POLLIN, 0};
    int r = poll(p, (nfds_t)n, (int)s->opt.idle_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (p[0].revents & POLLIN)) break;
    pthread_mutex_lock(&s->lock);
    if (r == 0) {
      pal_link_model_idle(s->model, UINT64_MAX); /* the line was silent for idle_ms */
      pthread_mutex_unlock(&s->lock);
      continue;
    }
    for (int i = 1; i < n; i++) {
      if (!p[i].revents) continue;
      if (p[i].fd == s->listen_fd) {
        int c = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0) {
          if (s->io_fd >= 0) close(s->io_fd); /* one host at a time: the newest */
          s->io_fd = c;
          pal_link_model_idle(s->model, UINT64_MAX);
        }
        continue;
      }
      ssize_t got = read(s->io_fd, buf, sizeof buf);
      if (got > 0) {
        if (!s->opt.mute) pal_link_model_receive(s->model, buf, (size_t)got);
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        if (s->opt.kind == LTS_TCP) { /* the host hung up: wait for the next */
          close(s->io_fd);
          s->io_fd = -1;
        }
      }
    }
    pthread_mutex_unlock(&s->lock);
  }
  return NULL;
}

static pal_status_t open_pty(lts_t *s) {
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (m < 0) return pal_status_make(PAL_UNAVAILABLE, "test server: posix_openpt: %s", strerror(errno));
  char name[64];
  if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, sizeof name) != 0) {
    close(m);
    return pal_status_make(PAL_UNAVAILABLE, "test server: pty setup: %s", strerror(errno));
  }
  int sl = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  struct termios tio;
  if (sl < 0 || tcgetattr(sl, &tio) != 0) {
    if (sl >= 0) close(sl);
    close(m);
    return pal_status_make(PAL_UNAVAILABLE, "test server: opening %s: %s", name, strerror(errno));
  }
  cfmakeraw(&tio); /* no echo before the host configures its end */
  tcsetattr(sl, TCSANOW, &tio);
  s->io_fd = m;
  s->slave_fd = sl;
  snprintf(s->uri, sizeof s->uri, "serial://%s?baud=3000000", name);
  return PAL_STATUS_OK;
}

static pal_status_t open_tcp(lts_t *s) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0; /* ephemeral */
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    int err = errno;
    if (fd >= 0) close(fd);
    return pal_status_make(PAL_UNAVAILABLE, "test server: TCP listen on 127.0.0.1: %s", strerror(err));
  }
  s->listen_fd = fd;
  snprintf(s->uri, sizeof s->uri, "sim+tcp://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
  return PAL_STATUS_OK;
}

pal_status_t lts_start(const lts_options_t *options, lts_t **out_server) {
  *out_server = NULL;
  lts_t *s = calloc(1, sizeof *s);
  if (!s) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "test server: out of memory");
  if (options)
    s->opt = *options;
  else
    lts_options_initialize(&s->opt);
  s->io_fd = s->slave_fd = s->listen_fd = -1;
  s->stop_pipe[0] = s->stop_pipe[1] = -1;
  pthread_mutex_init(&s->lock, NULL);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, s->opt.rows, s->opt.cols);
  if (s->opt.abuf_blocks) cfg.abuf_blocks = s->opt.abuf_blocks;
  pal_status_t st = pal_emu_create(&cfg, &s->emu);
  if (!st) {
    pal_link_model_options_t mo;
    pal_link_model_options_initialize(&mo);
    mo.max_payload = s->opt.max_payload;
    mo.name = s->opt.kind == LTS_PTY ? "lts-pty" : "lts-tcp";
    mo.emit = emit;
    mo.emit_ctx = s;
    st = pal_link_model_create(pal_emu_device(s->emu), &mo, &s->model);
  }
  if (!st) st = s->opt.kind == LTS_PTY ? open_pty(s) : open_tcp(s);
  if (!st && pipe2(s->stop_pipe, O_CLOEXEC) != 0)
    st = pal_status_make(PAL_UNAVAILABLE, "test server: pipe: %s", strerror(errno));
  if (!st && pthread_create(&s->thread, NULL, serve, s) != 0)
    st = pal_status_make(PAL_UNAVAILABLE, "test server: cannot start its thread");
  if (st) {
    if (s->stop_pipe[0] >= 0) close(s->stop_pipe[0]), close(s->stop_pipe[1]);
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    lts_stop(s);
    return st;
  }
  *out_server = s;
  return PAL_STATUS_OK;
}

void lts_stop(lts_t *s) {
  if (!s) return;
  if (s->stop_pipe[1] >= 0) {
    ssize_t w = write(s->stop_pipe[1], "x", 1);
    (void)w;
    pthread_join(s->thread, NULL);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
  }
  if (s->io_fd >= 0) close(s->io_fd);
  if (s->slave_fd >= 0) close(s->slave_fd);
  if (s->listen_fd >= 0) close(s->listen_fd);
  pal_link_model_destroy(s->model);
  pal_emu_destroy(s->emu);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

const char *lts_uri(const lts_t *s) { return s->uri; }

void lts_link_counters(lts_t *s, pal_link_counters_t *out_counters) {
  pthread_mutex_lock(&s->lock);
  pal_link_model_get_counters(s->model, out_counters);
  pthread_mutex_unlock(&s->lock);
}
