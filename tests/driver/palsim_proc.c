/* Test support: palsim as a child process (palsim_proc.h). */
#include "palsim_proc.h"

#include "pal/driver.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Children not yet reaped, so that a test that fails half-way (cmocka
 * longjmps out of it) leaves no palsim behind: palsim_proc_kill_all(). */
#define MAX_LIVE 16
static pid_t g_live[MAX_LIVE];

static void live_add(pid_t pid) {
  for (int i = 0; i < MAX_LIVE; i++)
    if (!g_live[i]) {
      g_live[i] = pid;
      return;
    }
}

static void live_remove(pid_t pid) {
  for (int i = 0; i < MAX_LIVE; i++)
    if (g_live[i] == pid) g_live[i] = 0;
}

void palsim_proc_kill_all(void) {
  for (int i = 0; i < MAX_LIVE; i++)
    if (g_live[i] > 0) {
      kill(g_live[i], SIGKILL);
      waitpid(g_live[i], NULL, 0);
      g_live[i] = 0;
    }
}

static uint64_t proc_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *palsim_proc_binary(const char **out_why) {
  static char path[PATH_MAX + 16];
  const char *env = getenv("PALSIM");
  if (env && *env) {
    if (access(env, X_OK) == 0) return env;
    if (out_why) *out_why = "$PALSIM is not an executable";
    return NULL;
  }
  char exe[PATH_MAX - 16];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) {
    if (out_why) *out_why = "cannot read /proc/self/exe (set $PALSIM)";
    return NULL;
  }
  exe[n] = 0;
  for (int up = 0; up < 5; up++) {
    char *slash = strrchr(exe, '/');
    if (!slash) break;
    *slash = 0;
    snprintf(path, sizeof path, "%s/bin/palsim", exe);
    if (access(path, X_OK) == 0) return path;
  }
  if (out_why) *out_why = "no bin/palsim above the test executable (make palsim, or set $PALSIM)";
  return NULL;
}

/* fork + exec with stdout (and, when err_fd >= 0, stderr) to pipes. */
static pal_status_t spawn(const char *const *args, int *out_fd, int *err_fd, pid_t *out_pid) {
  const char *why = NULL;
  const char *bin = palsim_proc_binary(&why);
  if (!bin) return pal_status_make(PAL_NOT_FOUND, "palsim: %s", why);
  const char *argv[32];
  size_t n = 0;
  argv[n++] = bin;
  for (size_t i = 0; args && args[i] && n < 31; i++) argv[n++] = args[i];
  argv[n] = NULL;
  int po[2], pe[2] = {-1, -1};
  if (pipe2(po, O_CLOEXEC) != 0 || (err_fd && pipe2(pe, O_CLOEXEC) != 0))
    return pal_status_make(PAL_UNAVAILABLE, "palsim: pipe: %s", strerror(errno));
  pid_t pid = fork();
  if (pid < 0) return pal_status_make(PAL_UNAVAILABLE, "palsim: fork: %s", strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
    dup2(po[1], 1);
    if (err_fd) dup2(pe[1], 2);
    execv(bin, (char *const *)argv);
    _exit(127);
  }
  live_add(pid);
  close(po[1]);
  *out_fd = po[0];
  if (err_fd) {
    close(pe[1]);
    *err_fd = pe[0];
  }
  *out_pid = pid;
  return PAL_STATUS_OK;
}

pal_status_t palsim_proc_start(const char *const *args, uint32_t timeout_ms, palsim_proc_t *p) {
  memset(p, 0, sizeof *p);
  p->pid = -1;
  p->out_fd = -1;
  pal_status_t st = spawn(args, &p->out_fd, NULL, &p->pid);
  if (st) return st;
  char text[2048];
  size_t len = 0;
  uint64_t deadline = proc_now_ms() + timeout_ms;
  for (;;) {
    text[len] = 0;
    const char *l = strstr(text, "palsim: listening on ");
    const char *t = strstr(text, "palsim: pty ");
    const char *v = l ? l + strlen("palsim: listening on ") : t ? t + strlen("palsim: pty ") : NULL;
    const char *nl = v ? strchr(v, '\n') : NULL;
    if (nl) {
      size_t k = (size_t)(nl - v) < sizeof p->where - 1 ? (size_t)(nl - v) : sizeof p->where - 1;
      memcpy(p->where, v, k);
      p->where[k] = 0;
      if (l)
        snprintf(p->uri, sizeof p->uri, "sim+tcp://%s", p->where);
      else
        snprintf(p->uri, sizeof p->uri, "serial://%s?baud=3000000", p->where);
      return PAL_STATUS_OK;
    }
    uint64_t now = proc_now_ms();
    struct pollfd pf = {p->out_fd, POLLIN, 0};
    int r = now < deadline ? poll(&pf, 1, (int)(deadline - now)) : 0;
    ssize_t got = r > 0 ? read(p->out_fd, text + len, sizeof text - 1 - len) : 0;
    if (r < 0 && errno == EINTR) continue;
    if (got <= 0 || len + (size_t)got >= sizeof text - 1) {
      int rc = palsim_proc_stop(p, SIGKILL, 2000);
      return pal_status_make(PAL_UNAVAILABLE, "palsim %s: no address line within %u ms (exit %d); stdout: %s",
                             args && args[0] ? args[0] : "", (unsigned)timeout_ms, rc, text);
    }
    len += (size_t)got;
  }
}

static int wait_exit(pid_t pid, uint32_t timeout_ms) {
  uint64_t deadline = proc_now_ms() + timeout_ms;
  for (;;) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) live_remove(pid);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0 && errno != EINTR) return -2;
    if (proc_now_ms() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      live_remove(pid);
      return -1;
    }
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
}

int palsim_proc_stop(palsim_proc_t *p, int sig, uint32_t timeout_ms) {
  int rc = -2;
  if (p->pid > 0) {
    if (sig) kill(p->pid, sig);
    rc = wait_exit(p->pid, timeout_ms);
    p->pid = -1;
  }
  if (p->out_fd >= 0) close(p->out_fd);
  p->out_fd = -1;
  return rc;
}

int palsim_proc_run(const char *const *args, uint32_t timeout_ms, char *err_buf, size_t err_size) {
  int out_fd = -1, err_fd = -1;
  pid_t pid;
  pal_status_t st = spawn(args, &out_fd, &err_fd, &pid);
  if (st) {
    snprintf(err_buf, err_size, "%s", pal_status_message(st));
    pal_status_free(st);
    return -3;
  }
  size_t len = 0;
  uint64_t deadline = proc_now_ms() + timeout_ms;
  int fds[2] = {err_fd, out_fd};
  for (int k = 0; k < 2; k++) {
    for (;;) {
      uint64_t now = proc_now_ms();
      struct pollfd pf = {fds[k], POLLIN, 0};
      int r = now < deadline ? poll(&pf, 1, (int)(deadline - now)) : 0;
      if (r < 0 && errno == EINTR) continue;
      char tmp[512];
      ssize_t got = r > 0 ? read(fds[k], tmp, sizeof tmp) : 0;
      if (got <= 0) break;
      size_t room = err_size > len + 1 ? err_size - len - 1 : 0;
      size_t take = (size_t)got < room ? (size_t)got : room;
      memcpy(err_buf + len, tmp, take);
      len += take;
    }
  }
  if (err_size) err_buf[len < err_size ? len : err_size - 1] = 0;
  close(out_fd);
  close(err_fd);
  uint64_t now = proc_now_ms();
  return wait_exit(pid, now < deadline ? (uint32_t)(deadline - now) : 0);
}

/* splitmix64, for operands only (the tests' seeded RNG lives in pal_test.h). */
static uint64_t mix(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

pal_status_t palsim_test_load_long_kernel(pal_device_t *d, uint32_t gemms, uint64_t seed) {
  pal_device_info_t info;
  PAL_RETURN_IF_ERROR(pal_device_info(d, &info));
  const pal_tile_config_t *cfg = &info.link.tile;
  uint32_t P = pal_tile_config_pes(cfg);
  if (gemms + 1 > cfg->imem_depth || P > 256)
    return pal_status_make(PAL_INVALID_ARGUMENT, "long kernel: %u GEMMs do not fit", (unsigned)gemms);
  /* ACC holds M x nt x P words; ABUF M x kb blocks, WMEM nt x kb per PE. */
  uint32_t kb = 16, nt = 16, M = cfg->acc_depth / (nt * P);
  if (M > 16) M = 16;
  if (M == 0) return pal_status_make(PAL_INVALID_ARGUMENT, "long kernel: ACC too small");
  size_t abytes = (size_t)M * kb * 32, wbytes = (size_t)nt * kb * 32;
  uint8_t *buf = malloc(abytes > wbytes ? abytes : wbytes), sc[256];
  uint32_t *prog = calloc((size_t)(gemms + 1) * 4, sizeof *prog);
  pal_status_t st = buf && prog ? PAL_STATUS_OK : pal_status_make(PAL_RESOURCE_EXHAUSTED, "long kernel: out of memory");
  uint64_t x = seed;
  /* non-zero codes (nothing to skip), scales near 1 */
  for (size_t i = 0; !st && i < abytes; i++) buf[i] = (uint8_t)(mix(&x) | 1);
  for (size_t i = 0; i < sizeof sc; i++) sc[i] = (uint8_t)(120 + mix(&x) % 8);
  if (!st) st = pal_device_write_region(d, PAL_TILE_REGION_ABUF_CODES, 0, 0, abytes, buf);
  if (!st) st = pal_device_write_region(d, PAL_TILE_REGION_ABUF_SCALES, 0, 0, (size_t)M * kb, sc);
  for (uint32_t pe = 0; !st && pe < P; pe++) {
    for (size_t i = 0; i < wbytes; i++) buf[i] = (uint8_t)(mix(&x) | 1);
    st = pal_device_write_region(d, PAL_TILE_REGION_WMEM_CODES, pe, 0, wbytes, buf);
    if (!st) st = pal_device_write_region(d, PAL_TILE_REGION_WMEM_SCALES, pe, 0, (size_t)nt * kb, sc);
  }
  pal_isa_instr_t g, e;
  pal_isa_instr_initialize(&g, PAL_ISA_OP_GEMM);
  g.init = PAL_ISA_INIT_ZERO, g.n_tiles = nt, g.a_stride = kb, g.a_base = 0, g.k_blocks = kb;
  g.m_count = M, g.acc_base = 0, g.w_base = 0, g.bias_base = 0;
  pal_isa_instr_initialize(&e, PAL_ISA_OP_END);
  for (uint32_t i = 0; !st && i < gemms; i++) st = pal_isa_encode(&g, prog + 4 * i);
  if (!st) st = pal_isa_encode(&e, prog + 4 * gemms);
  if (!st) st = pal_device_load_program(d, 0, prog, (size_t)(gemms + 1) * 4);
  free(buf);
  free(prog);
  return st;
}
