/* Link benchmark (make bench-link): wire efficiency of the protocol of
 * docs/protocol.md (payload bytes / wire bytes) for bulk writes and reads
 * at several packet sizes, with the round trips they take, and throughput
 * over the in-memory path (emu://), the direct path, a pseudo-terminal
 * (serial://) and TCP (sim+tcp://) to the test server, and to a palsim
 * process (its emu and rtl devices; docs/palsim.md). Efficiency is a
 * property of the protocol and identical on every machine; throughput is
 * this machine's. Prints a table and writes build/bench/link.json. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>

#include "bench_util.h"
#include "link_test_server.h"
#include "pal/driver.h"
#include "palsim_proc.h"

#define ABUF_BLOCKS 16384u /* 512 KiB of ABUF codes: one contiguous region */
#define BULK_BYTES (ABUF_BLOCKS * 32u)

static void die(pal_status_t st, const char *what) {
  if (!st) return;
  fprintf(stderr, "bench_link: %s: %s\n", what, pal_status_message(st));
  exit(1);
}

static pal_tile_config_t bench_config(void) {
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  cfg.abuf_blocks = ABUF_BLOCKS;
  return cfg;
}

typedef struct measured {
  double seconds;
  uint64_t data, tx, rx, packets;
} measured_t;

/* `reps` bulk writes (or reads) of the whole ABUF code region. */
static measured_t bulk(pal_device_t *d, bool write, int reps, uint8_t *buf) {
  pal_link_stats_t s0, s1;
  pal_device_link_stats(d, &s0);
  double t0 = bench_now();
  for (int r = 0; r < reps; r++) {
    if (write)
      die(pal_device_write(d, PAL_ADDR_ABUF_CODES, buf, BULK_BYTES), "bulk write");
    else
      die(pal_device_read(d, PAL_ADDR_ABUF_CODES, buf, BULK_BYTES), "bulk read");
  }
  measured_t m;
  m.seconds = bench_now() - t0;
  pal_device_link_stats(d, &s1);
  m.data = (uint64_t)reps * BULK_BYTES;
  m.tx = s1.tx_bytes - s0.tx_bytes;
  m.rx = s1.rx_bytes - s0.rx_bytes;
  m.packets = s1.packets_sent - s0.packets_sent;
  return m;
}

/* CPU seconds (user + system) a process has used, from /proc; -1 unknown. */
static double proc_cpu_seconds(pid_t pid) {
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  const char *p = strrchr(text, ')'); /* fields from 3 on follow the name */
  unsigned long long ut, st;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- palsim: the same transfers and a register round trip through a
 * palsim process, one row per device and attachment (skipped where the
 * binary or the rtl device is missing). The region is ABUF's codes of the
 * default 4x4 geometry (16 KiB). */
static void bench_palsim(bench_json_t *j, uint8_t *buf) {
  printf("\npalsim (build/bin/palsim), %u KiB bulk transfers and register reads (this machine)\n",
         512u * 32u / 1024u);
  printf("(MB/cpu-s: per CPU second of the palsim process, steadier than wall time on a shared machine)\n");
  printf("%-34s %12s %12s %12s %12s %12s\n", "path", "write MB/s", "read MB/s", "w MB/cpu-s",
         "r MB/cpu-s", "reg read us");
  typedef struct row {
    const char *name, *json;
    const char *args[8];
    const char *uri_extra;
    int reps;
  } row_t;
  static const row_t rows[] = {
      {"sim+tcp:// palsim --device emu", "palsim_emu_tcp",
       {"--device", "emu", "--listen", "127.0.0.1:0", NULL}, "", 40},
      {"sim+tcp:// palsim --device rtl", "palsim_rtl_fifo_tcp",
       {"--device", "rtl", "--listen", "127.0.0.1:0", NULL}, "", 8},
      {"serial:// palsim --attach uart", "palsim_rtl_uart_pty",
       {"--device", "rtl", "--pty", "--attach", "uart", NULL}, "&timeout_ms=8000", 1},
  };
  const size_t bytes = 512u * 32u;
  for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
    const row_t *r = &rows[k];
    palsim_proc_t p;
    pal_status_t st = palsim_proc_start(r->args, 30000, &p);
    if (st) {
      printf("%-34s skipped: %s\n", r->name, pal_status_message(st));
      pal_status_free(st);
      continue;
    }
    char uri[400];
    snprintf(uri, sizeof uri, "%s%s", p.uri, r->uri_extra);
    pal_device_t *d;
    die(pal_device_open(uri, NULL, &d), uri);
    double c0 = proc_cpu_seconds(p.pid), t0 = bench_now();
    for (int i = 0; i < r->reps; i++) die(pal_device_write(d, PAL_ADDR_ABUF_CODES, buf, bytes), "palsim write");
    double tw = bench_now() - t0, c1 = proc_cpu_seconds(p.pid);
    t0 = bench_now();
    for (int i = 0; i < r->reps; i++) die(pal_device_read(d, PAL_ADDR_ABUF_CODES, buf, bytes), "palsim read");
    double tr = bench_now() - t0, c2 = proc_cpu_seconds(p.pid);
    const int regs = 200;
    uint32_t v;
    t0 = bench_now();
    for (int i = 0; i < regs; i++) die(pal_device_read_reg(d, PAL_TILE_REG_STATUS, &v), "palsim STATUS");
    double us = (bench_now() - t0) / regs * 1e6;
    double wm = (double)bytes * r->reps / tw / 1e6, rm = (double)bytes * r->reps / tr / 1e6;
    double mb = (double)bytes * r->reps / 1e6;
    double wc = c0 >= 0 && c1 > c0 ? mb / (c1 - c0) : 0, rc_ = c1 >= 0 && c2 > c1 ? mb / (c2 - c1) : 0;
    char wcs[32] = "-", rcs[32] = "-"; /* below the clock tick: not measurable */
    if (wc > 0) snprintf(wcs, sizeof wcs, "%.3f", wc);
    if (rc_ > 0) snprintf(rcs, sizeof rcs, "%.3f", rc_);
    printf("%-34s %12.3f %12.3f %12s %12s %12.1f\n", r->name, wm, rm, wcs, rcs, us);
    char params[160];
    snprintf(params, sizeof params, "\"path\": \"%s\", \"max_payload\": 4096, \"bytes\": %zu", r->json,
             bytes * (size_t)r->reps);
    bench_json_result(j, "throughput_write", wm, "MB/s", params, NULL, 0);
    bench_json_result(j, "throughput_read", rm, "MB/s", params, NULL, 0);
    if (wc > 0) bench_json_result(j, "throughput_write_per_server_cpu", wc, "MB/cpu-s", params, NULL, 0);
    if (rc_ > 0) bench_json_result(j, "throughput_read_per_server_cpu", rc_, "MB/cpu-s", params, NULL, 0);
    snprintf(params, sizeof params, "\"path\": \"%s\", \"requests\": %d", r->json, regs);
    bench_json_result(j, "register_read_round_trip", us, "us", params, NULL, 0);
    pal_device_close(d);
    int rc = palsim_proc_stop(&p, SIGTERM, 10000);
    if (rc != 0) fprintf(stderr, "bench_link: palsim %s exited with %d\n", r->name, rc);
  }
}

int main(int argc, char **argv) {
  const char *json_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json") && i + 1 < argc)
      json_path = argv[++i];
    else {
      fprintf(stderr, "usage: bench_link [--json PATH]\n");
      return 2;
    }
  }
  bench_json_t j = {0};
  if (json_path && bench_json_open(&j, json_path, "link") != 0) {
    fprintf(stderr, "bench_link: cannot write %s\n", json_path);
    return 1;
  }
  uint8_t *buf = malloc(BULK_BYTES);
  for (uint32_t i = 0; i < BULK_BYTES; i++) buf[i] = (uint8_t)(i * 2654435761u >> 24);
  pal_tile_config_t cfg = bench_config();
  char params[256];

  /* ---- wire efficiency: emu:// through the protocol, packet sizes as devices set them */
  printf("Wire efficiency, bulk transfers of %u KiB (payload bytes / wire bytes)\n", BULK_BYTES / 1024);
  printf("%-9s %-6s %12s %12s %12s %14s  %s\n", "max LEN", "dir", "data dir", "both dirs",
         "round trips", "trips per MiB", "target >= 0.90 (data dir)");
  const uint32_t sizes[] = {64, 128, 256, 1024, 4096, 16384, 65535};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    pal_device_options_t o;
    pal_device_options_initialize(&o);
    o.emu_config = &cfg;
    o.emu_max_payload = sizes[k];
    pal_device_t *d;
    die(pal_device_open("emu://", &o, &d), "open emu://");
    for (int w = 1; w >= 0; w--) {
      measured_t m = bulk(d, w, 1, buf);
      /* the data direction: requests for writes, replies for reads */
      double eff = (double)m.data / (double)(w ? m.tx : m.rx);
      double both = (double)m.data / (double)(m.tx + m.rx);
      double per_mib = (double)m.packets * 1048576.0 / (double)m.data;
      printf("%-9u %-6s %12.4f %12.4f %12llu %14.1f  %s\n", sizes[k], w ? "write" : "read", eff,
             both, (unsigned long long)m.packets, per_mib, bench_verdict(eff, ">=", 0.90));
      snprintf(params, sizeof params, "\"max_payload\": %u, \"bytes\": %u, \"direction\": \"%s\"",
               sizes[k], BULK_BYTES, w ? "write" : "read");
      bench_json_result(&j, "wire_efficiency", eff, "ratio", params, ">=", 0.90);
      bench_json_result(&j, "wire_efficiency_both_directions", both, "ratio", params, NULL, 0);
      bench_json_result(&j, "round_trips_per_mib", per_mib, "count", params, NULL, 0);
    }
    pal_device_close(d);
  }

  /* ---- throughput per path */
  printf("\nThroughput, bulk transfers of %u KiB (this machine)\n", BULK_BYTES / 1024);
  printf("%-28s %-9s %12s %12s\n", "path", "max LEN", "write MB/s", "read MB/s");
  typedef struct path {
    const char *name;
    int kind; /* 0 emu protocol, 1 emu direct, 2 pty, 3 tcp */
    uint32_t max_payload;
    int reps;
  } path_t;
  const path_t paths[] = {
      {"emu:// (in-memory, protocol)", 0, 4096, 20}, {"emu:// (in-memory, protocol)", 0, 256, 10},
      {"emu://?direct=1 (no protocol)", 1, 0, 40},   {"serial:// (pty)", 2, 4096, 4},
      {"serial:// (pty)", 2, 256, 2},                {"sim+tcp:// (loopback)", 3, 4096, 10},
  };
  for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
    const path_t *p = &paths[k];
    lts_t *srv = NULL;
    pal_device_t *d;
    pal_device_options_t o;
    pal_device_options_initialize(&o);
    o.emu_config = &cfg;
    o.emu_max_payload = p->max_payload;
    o.emu_direct = p->kind == 1;
    if (p->kind >= 2) {
      lts_options_t so;
      lts_options_initialize(&so);
      so.kind = p->kind == 2 ? LTS_PTY : LTS_TCP;
      so.max_payload = p->max_payload;
      so.abuf_blocks = ABUF_BLOCKS;
      die(lts_start(&so, &srv), "test server");
      die(pal_device_open(lts_uri(srv), &o, &d), lts_uri(srv));
    } else {
      die(pal_device_open("emu://", &o, &d), "open emu://");
    }
    measured_t mw = bulk(d, true, p->reps, buf);
    measured_t mr = bulk(d, false, p->reps, buf);
    double wmbps = (double)mw.data / mw.seconds / 1e6, rmbps = (double)mr.data / mr.seconds / 1e6;
    char lenbuf[16];
    snprintf(lenbuf, sizeof lenbuf, p->kind == 1 ? "-" : "%u", p->max_payload);
    printf("%-28s %-9s %12.1f %12.1f\n", p->name, lenbuf, wmbps, rmbps);
    const char *pname = p->kind == 0 ? "emu" : p->kind == 1 ? "emu_direct" : p->kind == 2 ? "pty" : "tcp";
    snprintf(params, sizeof params, "\"path\": \"%s\", \"max_payload\": %u, \"bytes\": %llu", pname,
             p->max_payload, (unsigned long long)mw.data);
    bench_json_result(&j, "throughput_write", wmbps, "MB/s", params, NULL, 0);
    bench_json_result(&j, "throughput_read", rmbps, "MB/s", params, NULL, 0);
    pal_device_close(d);
    lts_stop(srv);
  }
  printf("\nA UART carries 10 bits per byte (8N1): at 3 Mbaud that is 300 kB/s of wire,\n"
         "so 256-byte packets give about %.0f kB/s of written data and 4096-byte packets %.0f kB/s.\n",
         300.0 * 252 / 267, 300.0 * 4092 / 4107);
  bench_palsim(&j, buf);
  bench_json_close(&j);
  free(buf);
  return 0;
}
