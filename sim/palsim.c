/* palsim: a simulated PAL device on a TCP port (sim+tcp://) or a
 * pseudo-terminal (serial://). One client at a time talks the link
 * protocol of docs/protocol.md to the device (the Verilated SoC, or the C
 * link model + emulator); the serving loop moves bytes and runs the
 * device's clock in slices. docs/palsim.md has the options, exit codes and
 * the time model. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "palsim_device.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/* Silence (ms) after which the loop stops running the device flat out and
 * ticks it every IDLE_TICK_MS instead, to spare the CPU. */
#define BUSY_WINDOW_MS 50
#define IDLE_TICK_MS 10
/* A client that stops reading may not make palsim hoard replies forever. */
#define MAX_PENDING_OUT (64u << 20)

typedef struct palsim_args {
  const char *listen; /* HOST:PORT, NULL with --pty */
  bool pty;
  bool once;
  palsim_device_options_t dev;
} palsim_args_t;

static volatile sig_atomic_t g_stop_signal;
static int g_stop_pipe[2] = {-1, -1};

static void on_signal(int sig) {
  g_stop_signal = sig;
  int saved = errno;
  if (g_stop_pipe[1] >= 0) {
    ssize_t w = write(g_stop_pipe[1], "x", 1);
    (void)w;
  }
  errno = saved;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: palsim (--listen HOST:PORT | --pty) [options]\n"
          "Serves a simulated PAL device: sim+tcp://HOST:PORT or serial://PTY for the driver.\n"
          "  --listen HOST:PORT   TCP on HOST (127.0.0.1, [::1], a name); PORT 0 picks a free\n"
          "                       one; prints \"palsim: listening on HOST:PORT\"\n"
          "  --pty                a pseudo-terminal in raw mode; prints \"palsim: pty PATH\"\n"
          "  --device rtl|emu     rtl: the Verilated SoC (default where built); emu: the C link\n"
          "                       model in front of the emulator\n"
          "  --rows R --cols C    tile geometry (default 4 x 4)\n"
          "  --attach fifo|uart   rtl: the link engine's byte port, or its UART pins (default fifo)\n"
          "  --max-payload N      the link engine's max payload (emu; default 4096)\n"
          "  --seed N             rtl: seed of the random power-on register state\n"
          "  --trace FILE         rtl (traced build): FST waveform of everything\n"
          "  --firmware           rtl: the SoC with the control core and its firmware (4x4 fifo)\n"
          "  --once               exit after the first client disconnects (TCP)\n"
          "  --help               this text\n"
          "Exit status: 0 on SIGINT/SIGTERM or --once, 1 runtime failure, 2 bad arguments.\n"
          "This build: rtl device %s.\n",
          palsim_device_have_rtl() ? "available" : "NOT built (emu only)");
}

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out) {
  if (!s || !*s) return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || s[0] == '-' || v < min || v > max) return false;
  *out = (uint32_t)v;
  return true;
}

/* 0: go on; otherwise the exit status (0 after --help). */
static int parse_args(int argc, char **argv, palsim_args_t *a) {
  memset(a, 0, sizeof *a);
  a->dev.kind = palsim_device_have_rtl() ? "rtl" : NULL;
  a->dev.rows = 4;
  a->dev.cols = 4;
  enum { O_LISTEN = 1, O_PTY, O_DEVICE, O_ROWS, O_COLS, O_ATTACH, O_MAXP, O_SEED, O_TRACE, O_FW, O_ONCE, O_HELP };
  static const struct option opts[] = {
      {"listen", required_argument, NULL, O_LISTEN}, {"pty", no_argument, NULL, O_PTY},
      {"device", required_argument, NULL, O_DEVICE}, {"rows", required_argument, NULL, O_ROWS},
      {"cols", required_argument, NULL, O_COLS},     {"attach", required_argument, NULL, O_ATTACH},
      {"max-payload", required_argument, NULL, O_MAXP}, {"seed", required_argument, NULL, O_SEED},
      {"trace", required_argument, NULL, O_TRACE},   {"once", no_argument, NULL, O_ONCE},
      {"firmware", no_argument, NULL, O_FW},
      {"help", no_argument, NULL, O_HELP},           {NULL, 0, NULL, 0},
  };
  bool device_given = false;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
    switch (c) {
      case O_LISTEN: a->listen = optarg; break;
      case O_PTY: a->pty = true; break;
      case O_DEVICE:
        if (strcmp(optarg, "rtl") != 0 && strcmp(optarg, "emu") != 0) {
          fprintf(stderr, "palsim: --device %s: expected rtl or emu\n", optarg);
          return EXIT_USAGE;
        }
        a->dev.kind = optarg;
        device_given = true;
        break;
      case O_ROWS:
      case O_COLS: {
        uint32_t v;
        if (!parse_u32(optarg, 1, 256, &v)) {
          fprintf(stderr, "palsim: --%s %s: expected an integer in 1..256\n", c == O_ROWS ? "rows" : "cols", optarg);
          return EXIT_USAGE;
        }
        *(c == O_ROWS ? &a->dev.rows : &a->dev.cols) = v;
        break;
      }
      case O_ATTACH:
        if (strcmp(optarg, "fifo") != 0 && strcmp(optarg, "uart") != 0) {
          fprintf(stderr, "palsim: --attach %s: expected fifo or uart\n", optarg);
          return EXIT_USAGE;
        }
        a->dev.attach = optarg;
        break;
      case O_MAXP:
        if (!parse_u32(optarg, 64, 65535, &a->dev.max_payload)) {
          fprintf(stderr, "palsim: --max-payload %s: expected an integer in 64..65535\n", optarg);
          return EXIT_USAGE;
        }
        break;
      case O_SEED: {
        char *end;
        errno = 0;
        a->dev.seed = strtoull(optarg, &end, 0);
        if (errno || *end || !*optarg || optarg[0] == '-') {
          fprintf(stderr, "palsim: --seed %s: expected an unsigned integer\n", optarg);
          return EXIT_USAGE;
        }
        a->dev.seed_given = true;
        break;
      }
      case O_TRACE: a->dev.trace_path = optarg; break;
      case O_FW: a->dev.firmware = true; break;
      case O_ONCE: a->once = true; break;
      case O_HELP: usage(stdout); return -1;
      case ':':
        fprintf(stderr, "palsim: %s needs an argument (see --help)\n", argv[optind - 1]);
        return EXIT_USAGE;
      default:
        fprintf(stderr, "palsim: unknown option %s (see --help)\n", argv[optind - 1]);
        return EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "palsim: unexpected argument \"%s\" (see --help)\n", argv[optind]);
    return EXIT_USAGE;
  }
  if (!a->listen == !a->pty) {
    fprintf(stderr, "palsim: give exactly one of --listen HOST:PORT and --pty (see --help)\n");
    return EXIT_USAGE;
  }
  if (a->pty && a->once) {
    fprintf(stderr, "palsim: --once needs --listen: a pty has no connections to count\n");
    return EXIT_USAGE;
  }
  if (!a->dev.kind) {
    /* An emu-only build: the default falls back, an explicit rtl fails below. */
    a->dev.kind = "emu";
  }
  if (device_given && !strcmp(a->dev.kind, "rtl") && !palsim_device_have_rtl()) {
    fprintf(stderr, "palsim: --device rtl: this build has no Verilated SoC (build it, or use --device emu)\n");
    return EXIT_USAGE;
  }
  return 0;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* HOST:PORT or [V6]:PORT -> a listening socket. Returns -1 (message on
 * stderr) with *out_usage set when the text itself is malformed. */
static int open_listener(const char *spec, bool *out_usage, char *printed, size_t printed_size) {
  *out_usage = false;
  char host[256];
  const char *colon;
  if (spec[0] == '[') {
    const char *rb = strchr(spec, ']');
    if (!rb || rb[1] != ':' || rb == spec + 1 || (size_t)(rb - spec - 1) >= sizeof host) {
      fprintf(stderr, "palsim: --listen %s: expected [IPV6]:PORT\n", spec);
      *out_usage = true;
      return -1;
    }
    memcpy(host, spec + 1, (size_t)(rb - spec - 1));
    host[rb - spec - 1] = 0;
    colon = rb + 1;
  } else {
    colon = strrchr(spec, ':');
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host || memchr(spec, ':', (size_t)(colon - spec))) {
      fprintf(stderr, "palsim: --listen %s: expected HOST:PORT (IPv6 as [ADDR]:PORT)\n", spec);
      *out_usage = true;
      return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = 0;
  }
  uint32_t port;
  if (!parse_u32(colon + 1, 0, 65535, &port)) {
    fprintf(stderr, "palsim: --listen %s: port \"%s\" is not in 0..65535\n", spec, colon + 1);
    *out_usage = true;
    return -1;
  }
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  char portstr[8];
  snprintf(portstr, sizeof portstr, "%u", port);
  int gai = getaddrinfo(host, portstr, &hints, &res);
  if (gai != 0) {
    fprintf(stderr, "palsim: --listen %s: cannot resolve \"%s\": %s\n", spec, host, gai_strerror(gai));
    return -1;
  }
  int fd = -1, err = 0;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int one = 1;
    /* Restarting palsim on the same port must not wait out TIME_WAIT; a
     * live listener still makes bind() fail (port in use). */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0) break;
    err = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    fprintf(stderr, "palsim: cannot listen on %s: %s\n", spec, strerror(err));
    return -1;
  }
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  char numhost[NI_MAXHOST], numport[NI_MAXSERV];
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
      getnameinfo((struct sockaddr *)&ss, len, numhost, sizeof numhost, numport, sizeof numport,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    fprintf(stderr, "palsim: --listen %s: cannot read back the bound address: %s\n", spec, strerror(errno));
    close(fd);
    return -1;
  }
  snprintf(printed, printed_size, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", numhost, numport);
  return fd;
}

/* A pty master in raw mode; the slave stays open in palsim so that the
 * master never sees a hangup between clients. */
static int open_pty(int *out_slave, char *name, size_t name_size) {
  int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (m < 0) {
    fprintf(stderr, "palsim: posix_openpt: %s\n", strerror(errno));
    return -1;
  }
  if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, name_size) != 0) {
    fprintf(stderr, "palsim: pty setup: %s\n", strerror(errno));
    close(m);
    return -1;
  }
  int sl = open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  struct termios tio;
  if (sl < 0 || tcgetattr(sl, &tio) != 0) {
    fprintf(stderr, "palsim: opening %s: %s\n", name, strerror(errno));
    if (sl >= 0) close(sl);
    close(m);
    return -1;
  }
  cfmakeraw(&tio); /* no echo, no line discipline before the client sets its end */
  if (tcsetattr(sl, TCSANOW, &tio) != 0) {
    fprintf(stderr, "palsim: raw mode on %s: %s\n", name, strerror(errno));
    close(sl);
    close(m);
    return -1;
  }
  *out_slave = sl;
  return m;
}

typedef struct palsim_server {
  palsim_args_t *args;
  palsim_device_t dev;
  int listen_fd, io_fd, slave_fd;
  uint8_t *out; /* replies not yet written to the client */
  size_t out_len, out_head, out_cap;
  uint64_t clients;
} palsim_server_t;

static void drop_client(palsim_server_t *s, const char *why) {
  if (s->io_fd < 0) return;
  close(s->io_fd);
  s->io_fd = -1;
  s->out_len = s->out_head = 0;
  s->dev.ops->disconnect(s->dev.self);
  fprintf(stderr, "palsim: client %llu %s\n", (unsigned long long)s->clients, why);
}

/* Moves the device's reply bytes into the outgoing buffer. */
static bool collect(palsim_server_t *s) {
  bool got = false;
  for (;;) {
    if (s->out_head && s->out_cap - s->out_len < 4096) { /* compact before growing */
      memmove(s->out, s->out + s->out_head, s->out_len - s->out_head);
      s->out_len -= s->out_head;
      s->out_head = 0;
    }
    if (s->out_cap - s->out_len < 4096) {
      if (s->out_len - s->out_head >= MAX_PENDING_OUT) break;
      size_t cap = s->out_cap ? s->out_cap * 2 : 65536;
      uint8_t *p = realloc(s->out, cap);
      if (!p) break;
      s->out = p;
      s->out_cap = cap;
    }
    size_t n = s->dev.ops->take(s->dev.self, s->out + s->out_len, s->out_cap - s->out_len);
    if (!n) break;
    s->out_len += n;
    got = true;
  }
  if (s->io_fd < 0) s->out_len = s->out_head = 0; /* nobody to hear it */
  return got;
}

/* Exit status meaning "keep serving". */
#define SERVE_ON (-1)

/* Reads what the client sent into the device (all of it when `until_dry`,
 * else one read). A hang-up drops the client (TCP); returns SERVE_ON or
 * the status palsim exits with. */
static int read_client(palsim_server_t *s, bool until_dry, bool *fed) {
  static uint8_t buf[65536];
  while (s->io_fd >= 0) {
    ssize_t got = read(s->io_fd, buf, sizeof buf);
    if (got > 0) {
      pal_status_t st = s->dev.ops->feed(s->dev.self, buf, (size_t)got);
      if (st) {
        fprintf(stderr, "palsim: %s\n", pal_status_message(st));
        pal_status_free(st);
        return EXIT_RUNTIME;
      }
      *fed = true;
      if (!until_dry) break;
      continue;
    }
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) break;
    if (s->listen_fd < 0) break; /* a pty: no client to drop (EIO while none is open) */
    drop_client(s, got == 0 ? "disconnected" : "connection failed");
    if (s->args->once) return 0;
  }
  return SERVE_ON;
}

static int write_client(palsim_server_t *s) {
  if (s->io_fd < 0 || s->out_len == s->out_head) return SERVE_ON;
  ssize_t w = s->listen_fd >= 0
                  ? send(s->io_fd, s->out + s->out_head, s->out_len - s->out_head, MSG_NOSIGNAL)
                  : write(s->io_fd, s->out + s->out_head, s->out_len - s->out_head);
  if (w > 0) {
    s->out_head += (size_t)w;
  } else if (w < 0 && errno != EAGAIN && errno != EINTR && s->listen_fd >= 0) {
    drop_client(s, "connection failed");
    if (s->args->once) return 0;
  }
  return SERVE_ON;
}

static int accept_client(palsim_server_t *s, bool *fed) {
  int c = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (c < 0) return SERVE_ON;
  /* A client that hung up just before this one came may not have been
   * noticed yet: read it to its end first. */
  int rc = read_client(s, true, fed);
  if (rc != SERVE_ON) {
    close(c);
    return rc;
  }
  if (s->io_fd >= 0) {
    /* One client at a time: a second one is turned away at once rather
     * than left waiting for replies that would never come. */
    close(c);
    fprintf(stderr, "palsim: refused a second client (one at a time)\n");
    return SERVE_ON;
  }
  int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  s->io_fd = c;
  s->clients++;
  fprintf(stderr, "palsim: client %llu connected\n", (unsigned long long)s->clients);
  return SERVE_ON;
}

static int device_failed(pal_status_t st) {
  fprintf(stderr, "palsim: device: %s\n", pal_status_message(st));
  pal_status_free(st);
  return EXIT_RUNTIME;
}

/* The serving loop (docs/palsim.md, "Time model"): while bytes flow or the
 * device has work, poll without waiting and run the device one slice per
 * turn; after BUSY_WINDOW_MS of quiet, wake every IDLE_TICK_MS for one
 * slice and the link engine's idle timer. */
static int serve(palsim_server_t *s) {
  uint64_t last_traffic = 0, last_tick = now_ms();
  bool active = false;
  while (!g_stop_signal) {
    uint64_t now = now_ms();
    bool busy = active || s->out_len > s->out_head || now - last_traffic < BUSY_WINDOW_MS;
    struct pollfd p[3];
    int n = 0, i_io = -1, i_listen = -1;
    p[n++] = (struct pollfd){g_stop_pipe[0], POLLIN, 0};
    if (s->io_fd >= 0) {
      i_io = n;
      p[n++] = (struct pollfd){s->io_fd, (short)(POLLIN | (s->out_len > s->out_head ? POLLOUT : 0)), 0};
    }
    if (s->listen_fd >= 0) {
      i_listen = n;
      p[n++] = (struct pollfd){s->listen_fd, POLLIN, 0};
    }
    int r = poll(p, (nfds_t)n, busy ? 0 : IDLE_TICK_MS);
    if (r < 0 && errno != EINTR) {
      fprintf(stderr, "palsim: poll: %s\n", strerror(errno));
      return EXIT_RUNTIME;
    }
    if (g_stop_signal) break;
    bool fed = false;
    int rc = SERVE_ON;
    if (r > 0 && i_io >= 0 && (p[i_io].revents & (POLLIN | POLLHUP | POLLERR)))
      rc = read_client(s, false, &fed);
    if (rc == SERVE_ON && r > 0 && i_io >= 0 && (p[i_io].revents & POLLOUT)) rc = write_client(s);
    if (rc == SERVE_ON && r > 0 && i_listen >= 0 && (p[i_listen].revents & POLLIN))
      rc = accept_client(s, &fed);
    if (rc != SERVE_ON) return rc;

    now = now_ms();
    if (fed) last_traffic = now;
    if (fed || busy) {
      pal_status_t st = s->dev.ops->advance(s->dev.self, &active);
      if (st) return device_failed(st);
      last_tick = now;
    } else if (now - last_tick >= IDLE_TICK_MS) {
      /* Silence: the link engine's idle timer runs, and a kernel the host
       * left running still moves on (one slice per tick). */
      s->dev.ops->idle(s->dev.self, (uint32_t)(now - last_tick));
      pal_status_t st = s->dev.ops->advance(s->dev.self, &active);
      if (st) return device_failed(st);
      last_tick = now;
    }
    if (collect(s)) last_traffic = now;
    if (s->out_len - s->out_head >= MAX_PENDING_OUT && s->listen_fd >= 0) {
      drop_client(s, "stopped reading replies");
      if (s->args->once) return 0;
    }
  }
  fprintf(stderr, "palsim: %s, exiting\n", g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
  return 0;
}

int main(int argc, char **argv) {
  palsim_args_t args;
  int rc = parse_args(argc, argv, &args);
  if (rc) return rc < 0 ? 0 : rc;

  palsim_server_t s;
  memset(&s, 0, sizeof s);
  s.args = &args;
  s.listen_fd = s.io_fd = s.slave_fd = -1;

  /* Signals first, so a SIGTERM during a slow start (Verilated model) is
   * still a clean exit. */
  if (pipe2(g_stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    fprintf(stderr, "palsim: pipe: %s\n", strerror(errno));
    return EXIT_RUNTIME;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  pal_status_t st = !strcmp(args.dev.kind, "rtl") ? palsim_device_create_rtl(&args.dev, &s.dev)
                                                  : palsim_device_create_emu(&args.dev, &s.dev);
  if (st) {
    /* Options the device (or this build of it) cannot take — a geometry
     * not linked in, --trace without a traced model — are usage errors. */
    pal_status_code_t code = pal_status_code(st);
    rc = code == PAL_INVALID_ARGUMENT || code == PAL_NOT_FOUND || code == PAL_UNIMPLEMENTED ? EXIT_USAGE
                                                                                          : EXIT_RUNTIME;
    fprintf(stderr, "palsim: %s\n", pal_status_message(st));
    pal_status_free(st);
    goto out;
  }
  char desc[160], where[320];
  s.dev.ops->describe(s.dev.self, desc, sizeof desc);
  if (args.listen) {
    bool bad;
    s.listen_fd = open_listener(args.listen, &bad, where, sizeof where);
    if (s.listen_fd < 0) {
      rc = bad ? EXIT_USAGE : EXIT_RUNTIME;
      goto out;
    }
    printf("palsim: device %s\npalsim: listening on %s\n", desc, where);
  } else {
    s.io_fd = open_pty(&s.slave_fd, where, sizeof where);
    if (s.io_fd < 0) {
      rc = EXIT_RUNTIME;
      goto out;
    }
    printf("palsim: device %s\npalsim: pty %s\n", desc, where);
  }
  fflush(stdout);
  rc = serve(&s);

out:
  if (s.io_fd >= 0) close(s.io_fd);
  if (s.slave_fd >= 0) close(s.slave_fd);
  if (s.listen_fd >= 0) close(s.listen_fd);
  if (s.dev.ops) s.dev.ops->destroy(s.dev.self);
  free(s.out);
  close(g_stop_pipe[0]);
  close(g_stop_pipe[1]);
  return rc;
}
