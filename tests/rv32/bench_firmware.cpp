// make bench-firmware: the control core and its firmware, measured on the
// Verilated control subsystem (rtl/pal_rv_sys.v, real firmware image):
// firmware size against the RAMs, logic cells and EBRs on the iCE40UP5K
// (from make rv-stat), and command latencies in core cycles: INFO round trip,
// START request in -> tile CONTROL.start written, tile done -> STATUS reply
// out, and kernel-image loading cost per byte. The target: command
// overhead (start + done) under 1 % of a 256x256 layer at batch 64 on the
// 4x4 tile; the layer is counted at its ideal M*N*K/P cycles, a lower bound,
// so the ratio printed is an upper bound of the real overhead.
//
// Usage: bench_firmware --json PATH TEXT RODATA DATA BSS STACK IMEM DMEM LC EBR
#include "rv32_sys.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bench_util.h"

using rv32sys::Bench;

int main(int argc, char **argv) {
  if (argc != 12 || strcmp(argv[1], "--json") != 0) {
    fprintf(stderr, "usage: %s --json PATH TEXT RODATA DATA BSS STACK IMEM DMEM LC EBR\n", argv[0]);
    return 2;
  }
  double text = atof(argv[3]), rodata = atof(argv[4]), data = atof(argv[5]), bss = atof(argv[6]);
  double stack = atof(argv[7]), imem = atof(argv[8]), dmem = atof(argv[9]);
  double lc = atof(argv[10]), ebr = atof(argv[11]);

  Bench b;
  uint64_t info = 0, start_rt = 0, done_rt = 0;
  b.request(PAL_FW_CMD_INFO, {}, &info);  // first one includes boot
  b.request(PAL_FW_CMD_INFO, {}, &info);
  size_t size = 0;
  uint8_t *img = fw_test_image(1, &size);
  uint64_t t0 = b.cycle;
  if (rv32sys::load(b, img, size) != PAL_FW_OK) {
    fprintf(stderr, "bench_firmware: the firmware rejected the image\n");
    return 1;
  }
  double per_byte = (double)(b.cycle - t0) / (double)size;
  t0 = b.cycle;
  b.request(PAL_FW_CMD_START, {}, &start_rt);
  double start_latency = (double)(b.start_cycle - t0);
  // the host polls STATUS back to back; done -> reply out counts from the
  // tile's done to the end of the first reply that reports it
  while (!(b.status & PAL_FW_STATUS_DONE)) b.tick();
  uint64_t done_at = b.cycle;
  std::vector<uint32_t> r;
  for (int tries = 0; tries < 100; tries++) {
    r = b.request(PAL_FW_CMD_STATUS, {});
    if (r[2] == PAL_FW_RUN_DONE) break;
  }
  if (r[2] != PAL_FW_RUN_DONE) {
    fprintf(stderr, "bench_firmware: run state %u after the kernel finished\n", r[2]);
    return 1;
  }
  done_rt = b.cycle - done_at;
  free(img);

  const double layer = 256.0 * 256.0 * 64.0 / 16.0;
  double overhead = (start_latency + (double)done_rt) / layer;

  printf("%-34s %10s %s\n", "metric", "value", "unit");
  printf("%-34s %10.0f bytes (IMEM %0.f)\n", "firmware text+rodata+data", text + rodata + data, imem);
  printf("%-34s %10.0f bytes (DMEM %0.f)\n", "firmware data+bss+stack", data + bss + stack, dmem);
  printf("%-34s %10.0f LC of 5280, %0.f EBR of 30\n", "control subsystem (pal_rv_sys)", lc, ebr);
  printf("%-34s %10llu cycles\n", "INFO round trip", (unsigned long long)info);
  printf("%-34s %10.0f cycles\n", "START in -> CONTROL.start", start_latency);
  printf("%-34s %10llu cycles\n", "done -> STATUS reply out", (unsigned long long)done_rt);
  printf("%-34s %10.1f cycles\n", "image load per byte", per_byte);
  printf("%-34s %10.4f ratio (target < 0.01: %s)\n", "overhead / 256x256x64 layer", overhead,
         bench_verdict(overhead, "<", 0.01));

  bench_json_t j;
  if (bench_json_open(&j, argv[2], "firmware") != 0) return 1;
  bench_json_result(&j, "firmware_imem_bytes", text + rodata + data, "bytes", "", "<=", imem);
  bench_json_result(&j, "firmware_dmem_bytes", data + bss + stack, "bytes", "\"stack\": 512", "<=", dmem);
  bench_json_result(&j, "firmware_text_bytes", text, "bytes", "", NULL, 0);
  bench_json_result(&j, "firmware_bss_bytes", bss, "bytes", "", NULL, 0);
  bench_json_result(&j, "control_core_lc", lc, "cells", "\"top\": \"pal_rv_sys\", \"device\": \"up5k\"", NULL, 0);
  bench_json_result(&j, "control_core_ebr", ebr, "blocks", "\"top\": \"pal_rv_sys\"", NULL, 0);
  bench_json_result(&j, "info_round_trip_cycles", (double)info, "cycles", "", NULL, 0);
  bench_json_result(&j, "start_latency_cycles", start_latency, "cycles", "", NULL, 0);
  bench_json_result(&j, "done_reply_cycles", (double)done_rt, "cycles", "", NULL, 0);
  bench_json_result(&j, "load_cycles_per_byte", per_byte, "cycles", "", NULL, 0);
  bench_json_result(&j, "command_overhead_ratio", overhead, "ratio",
                    "\"layer\": \"256x256\", \"batch\": 64, \"geometry\": \"4x4\", \"layer_cycles\": \"ideal MNK/P\"",
                    "<", 0.01);
  return bench_json_close(&j) == 0 ? 0 : 1;
}
