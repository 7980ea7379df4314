/* The firmware's kernel-image checks, shared by the tests of the Verilated
 * SoC with the control core (test_soc_firmware: the 4x4 with the default
 * buffers; test_soc_board: each ECP5 board's configuration, whose buffers
 * are smaller): raw LOAD_* messages that bypass the host's validator, and
 * a snapshot of every device byte to show a rejected image changed none;
 * and the watchdog stopping a kernel that runs far past its limit.
 * Include once, after conformance_suite.h (DOK). */
#ifndef FW_TEST_UTIL_H
#define FW_TEST_UTIL_H

#include <stdio.h>
#include <time.h>

#include "pal/kernel_image.h"
#include "pal/protocol.h"

/* Every byte of device memory and the writable registers (bare reads). */
static inline uint8_t *fw_snapshot(uint64_t seed, pal_device_t *d, const char *uri, const pal_tile_config_t *cfg,
                                   size_t *out_n) {
  uint32_t P = pal_tile_config_pes(cfg);
  size_t total = 0;
  for (int r = 0; r < PAL_TILE_REGION_COUNT; r++) {
    pal_tile_region_t reg = (pal_tile_region_t)r;
    size_t bytes = (size_t)pal_tile_region_length(cfg, reg) * pal_tile_region_element_size(reg);
    total += bytes * (pal_tile_region_is_per_pe(reg) ? P : 1);
  }
  total += 5 * 4;
  uint8_t *s = malloc(total);
  assert_non_null(s);
  size_t off = 0;
  for (int r = 0; r < PAL_TILE_REGION_COUNT; r++) {
    pal_tile_region_t reg = (pal_tile_region_t)r;
    size_t len = (size_t)pal_tile_region_length(cfg, reg);
    size_t bytes = len * pal_tile_region_element_size(reg);
    for (uint32_t pe = 0; pe < (pal_tile_region_is_per_pe(reg) ? P : 1); pe++) {
      DOK(seed, uri, pal_device_read_region(d, reg, pe, 0, len, s + off));
      off += bytes;
    }
  }
  DOK(seed, uri, pal_device_read(d, PAL_ADDR_TILE_REGS + 0x40, s + off, 20));
  *out_n = total;
  return s;
}

static inline void fw_put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* LOAD_BEGIN, then LOAD_DATA chunks of `chunk` bytes; returns the last reply. */
static inline void fw_load(uint64_t seed, pal_device_t *d, const char *uri, const uint8_t *img, size_t size,
                           size_t chunk, uint32_t *r, size_t *n) {
  uint32_t total = (uint32_t)size;
  DOK(seed, uri, pal_device_fw_command(d, PAL_FWMSG_LOAD_BEGIN, &total, 1, r, 16, n));
  if (r[0] != 0) return;
  for (size_t pos = 0; pos < size; pos += chunk) {
    size_t k = size - pos < chunk ? size - pos : chunk;
    uint32_t p[1 + 64] = {(uint32_t)k};
    memcpy(p + 1, img + pos, k); /* little-endian host: bytes in word order */
    DOK(seed, uri, pal_device_fw_command(d, PAL_FWMSG_LOAD_DATA, p, 1 + (k + 3) / 4, r, 16, n));
    if (r[0] != 0) return;
  }
}

/* The check itself, on the firmware device at `uri`: a kernel image whose
 * ABUF section ends past the tile's real ABUF (the host's checks bypassed,
 * raw LOAD_* messages) is rejected by the firmware and changes no device
 * byte; the same image with its real bounds loads, and runs through
 * pal_device_load_image, which keeps the bad one on the host. */
static inline void fw_bad_image_check(uint64_t seed, const char *uri) {
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  pal_device_t *d = NULL;
  DOK(seed, uri, pal_device_open(uri, NULL, &d));
  pal_device_info_t info;
  DOK(seed, uri, pal_device_info(d, &info));
  const pal_tile_config_t *cfg = &info.link.tile;

  /* A valid image: code, 64 bytes of ABUF codes, 8 BIAS words. */
  pal_kernel_image_builder_t *b = NULL;
  pal_kernel_image_builder_options_t bo; /* compiled for this tile, as pal-compile would */
  pal_kernel_image_builder_options_initialize(&bo);
  bo.required = *cfg;
  DOK(seed, uri, pal_kernel_image_builder_create(&bo, &b));
  pal_asm_program_t prog = {0};
  /* a tile without accumulate units (the iCEBreaker's) takes no GEMM from a
   * kernel image: the host loader refuses it (raw block sums, not FP32) */
  const char *text = cfg->no_accu ? "end\n" : "gemm a=0 as=2 m=1 k=2 w=0 nt=1 acc=0 init=bias bias=0\nend\n";
  DOK(seed, uri, pal_asm_assemble(text, strlen(text), NULL, &prog));
  DOK(seed, uri, pal_kernel_image_builder_add_code(b, 0, prog.words, prog.word_count));
  pal_asm_program_release(&prog);
  uint8_t codes[64];
  uint32_t bias[8];
  for (size_t i = 0; i < sizeof codes; i++) codes[i] = (uint8_t)pal_test_rng_u32(&rng);
  for (size_t i = 0; i < 8; i++) bias[i] = pal_test_rng_u32(&rng);
  const pal_kernel_section_t secs[] = {
      {PAL_KERNEL_SECTION_ABUF_CODES, 0, 0, 64, codes, 0},
      {PAL_KERNEL_SECTION_BIAS, 0, 0, 8, bias, 0},
  };
  for (size_t i = 0; i < 2; i++) DOK(seed, uri, pal_kernel_image_builder_add_section(b, &secs[i]));
  void *data = NULL;
  size_t size = 0;
  DOK(seed, uri, pal_kernel_image_builder_serialize(b, &data, &size));
  pal_kernel_image_builder_destroy(b);
  uint8_t *img = data;

  /* The ABUF section (table entry 1) moved to end 10 bytes past the
   * buffer, the CRC re-sealed so only the bounds are wrong. */
  size_t ent = 64 + 32 * 1;
  PAL_TEST_CHECK(seed, (img[ent] | img[ent + 1] << 8) == PAL_KERNEL_SECTION_ABUF_CODES,
                 "image layout: section 1 is kind %u", (unsigned)(img[ent] | img[ent + 1] << 8));
  fw_put_u32(img + ent + 8, cfg->abuf_blocks * 32 - 54);
  fw_put_u32(img + 16, 0);
  fw_put_u32(img + 16, pal_proto_crc32(img, size));
  /* the host's loader would refuse it: the corruption is real */
  pal_kernel_image_t *parsed = NULL;
  pal_status_t hs = pal_kernel_image_parse(img, size, &parsed);
  if (!hs) hs = pal_kernel_image_validate(parsed, cfg);
  PAL_TEST_CHECK(seed, hs != PAL_STATUS_OK, "the host's validator accepts the patched image");
  pal_status_free(hs);
  pal_kernel_image_destroy(parsed);

  size_t n0 = 0, n1 = 0;
  uint8_t *before = fw_snapshot(seed, d, uri, cfg, &n0);
  uint32_t r[16];
  size_t n = 0;
  fw_load(seed, d, uri, img, size, 240, r, &n);
  PAL_TEST_CHECK(seed, n == 5 && r[0] == 5 && r[1] == 20 && r[2] == 1 && r[4] == 0,
                 "bad image: status %u reason %u detail %u valid %u (want REJECTED, SECTION_BUFFER 20, "
                 "section 1)", (unsigned)r[0], (unsigned)r[1], (unsigned)r[2], (unsigned)r[4]);
  /* not startable */
  DOK(seed, uri, pal_device_fw_command(d, PAL_FWMSG_START, NULL, 0, r, 16, &n));
  PAL_TEST_CHECK(seed, n == 1 && r[0] == 4, "START after a rejected image: status %u", (unsigned)r[0]);
  uint8_t *after = fw_snapshot(seed, d, uri, cfg, &n1);
  size_t diff = n0;
  for (size_t i = 0; i < n0 && diff == n0; i++)
    if (before[i] != after[i]) diff = i;
  PAL_TEST_CHECK(seed, n0 == n1 && diff == n0, "a rejected image changed device byte %zu of %zu", diff, n0);
  free(after);

  /* the same image with its real bounds loads and is startable: the path works */
  fw_put_u32(img + ent + 8, 0);
  fw_put_u32(img + 16, 0);
  fw_put_u32(img + 16, pal_proto_crc32(img, size));
  fw_load(seed, d, uri, img, size, 240, r, &n);
  PAL_TEST_CHECK(seed, n == 5 && r[0] == 0 && r[4] == 1, "good image: status %u reason %u valid %u",
                 (unsigned)r[0], (unsigned)r[1], (unsigned)r[4]);
  uint8_t got[64];
  DOK(seed, uri, pal_device_read_region(d, PAL_TILE_REGION_ABUF_CODES, 0, 0, 64, got));
  PAL_TEST_CHECK(seed, !memcmp(got, codes, 64), "ABUF after the good image");

  /* pal_device_load_image: on the firmware path the good image goes
   * through LOAD_* and runs; the bad one never leaves the host */
  memset(codes, 0x11, sizeof codes);
  DOK(seed, uri, pal_device_write_region(d, PAL_TILE_REGION_ABUF_CODES, 0, 0, 64, codes));
  uint32_t rejects0 = 0, rejects1 = 0;
  uint32_t c[32];
  DOK(seed, uri, pal_device_fw_command(d, PAL_FWMSG_COUNTERS, NULL, 0, c, 32, &n));
  rejects0 = c[20];
  DOK(seed, uri, pal_device_load_image(d, img, size));
  DOK(seed, uri, pal_device_read_region(d, PAL_TILE_REGION_ABUF_CODES, 0, 0, 64, got));
  PAL_TEST_CHECK(seed, memcmp(got, codes, 64) != 0, "pal_device_load_image wrote no ABUF bytes");
  pal_tile_status_t ts;
  DOK(seed, uri, pal_device_run(d, 0, 10000, &ts));
  PAL_TEST_CHECK(seed, ts.done && ts.error == 0, "the loaded image's kernel: error %s",
                 pal_tile_error_name(ts.error));
  fw_put_u32(img + ent + 8, cfg->abuf_blocks * 32 - 54);
  fw_put_u32(img + 16, 0);
  fw_put_u32(img + 16, pal_proto_crc32(img, size));
  pal_status_t ls = pal_device_load_image(d, img, size);
  PAL_TEST_CHECK(seed, ls && pal_status_code(ls) != PAL_FAILED_PRECONDITION && strstr(pal_status_message(ls), uri),
                 "bad image through pal_device_load_image: %s", ls ? pal_status_message(ls) : "OK");
  pal_status_free(ls);
  DOK(seed, uri, pal_device_fw_command(d, PAL_FWMSG_COUNTERS, NULL, 0, c, 32, &n));
  rejects1 = c[20];
  PAL_TEST_CHECK(seed, rejects1 == rejects0, "the host sent the bad image to the firmware (%u rejects, were %u)",
                 (unsigned)rejects1, (unsigned)rejects0);
  free(before);
  free(img);
  pal_device_close(d);
}

#define FW_WD_LIMIT 100000u

static inline double fw_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A kernel several times longer than its watchdog limit, on the firmware
 * device at `uri`: the run fails with the watchdog's DEADLINE_EXCEEDED
 * naming the URI, long before the host's own 10 s; the firmware stopped it
 * between the limit and a poll or two later; the tile is idle, the trip is
 * counted, and the next GEMM job is bit-exact. */
static inline void fw_watchdog_check(uint64_t seed, const char *uri) {
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  pal_device_options_t o;
  pal_device_options_initialize(&o);
  o.fw_watchdog_cycles = FW_WD_LIMIT;
  pal_device_t *d = NULL;
  DOK(seed, uri, pal_device_open(uri, &o, &d));
  pal_device_info_t info;
  DOK(seed, uri, pal_device_info(d, &info));
  const pal_tile_config_t *cfg = &info.link.tile;
  uint32_t P = pal_tile_config_pes(cfg);

  /* Dense non-zero activations and weights (zero-skipping cannot shorten
   * the walk), and IMEM full of the largest GEMM the buffers take, up to
   * 16 x 16 x 16 blocks: on the default 4x4 tile each visits 4096 blocks of
   * ~32 non-zero codes, ~130 000 cycles, so the program runs for tens of
   * millions of cycles, hundreds of times the limit; on the boards' small
   * buffers (8 x 8 x 1 blocks) about 2 000 cycles each, 500 000 in all. */
  size_t abytes = (size_t)cfg->abuf_blocks * 32, wbytes = (size_t)cfg->wmem_blocks * 32;
  uint8_t *buf = malloc(abytes > wbytes ? abytes : wbytes);
  assert_non_null(buf);
  for (size_t i = 0; i < abytes; i++) buf[i] = (uint8_t)(1 + pal_test_rng_u32(&rng) % 254);
  DOK(seed, uri, pal_device_write_region(d, PAL_TILE_REGION_ABUF_CODES, 0, 0, abytes, buf));
  for (size_t i = 0; i < cfg->abuf_blocks; i++) buf[i] = (uint8_t)(120 + pal_test_rng_u32(&rng) % 8);
  DOK(seed, uri, pal_device_write_region(d, PAL_TILE_REGION_ABUF_SCALES, 0, 0, cfg->abuf_blocks, buf));
  for (uint32_t pe = 0; pe < P; pe++) {
    for (size_t i = 0; i < wbytes; i++) buf[i] = (uint8_t)(1 + pal_test_rng_u32(&rng) % 254);
    DOK(seed, uri, pal_device_write_region(d, PAL_TILE_REGION_WMEM_CODES, pe, 0, wbytes, buf));
    for (size_t i = 0; i < cfg->wmem_blocks; i++) buf[i] = (uint8_t)(120 + pal_test_rng_u32(&rng) % 8);
    DOK(seed, uri, pal_device_write_region(d, PAL_TILE_REGION_WMEM_SCALES, pe, 0, cfg->wmem_blocks, buf));
  }
  free(buf);
  pal_asm_program_t prog = {0};
  uint32_t k = cfg->wmem_blocks < 16 ? cfg->wmem_blocks : 16;
  uint32_t nt = cfg->wmem_blocks / k < 16 ? cfg->wmem_blocks / k : 16;
  uint32_t m = cfg->abuf_blocks / k < 16 ? cfg->abuf_blocks / k : 16;
  /* ACC holds m x nt x P sums, or k planes of them without accumulate units */
  while (m > 1 && (uint64_t)m * nt * P * (cfg->no_accu ? k : 1) > cfg->acc_depth) m--;
  char gemm[128];
  snprintf(gemm, sizeof gemm, "gemm a=0 as=%u m=%u k=%u w=0 nt=%u acc=0 init=zero\n", (unsigned)k, (unsigned)m,
           (unsigned)k, (unsigned)nt);
  size_t n_gemm = cfg->imem_depth - 1;
  char *text = malloc(n_gemm * strlen(gemm) + 8);
  assert_non_null(text);
  text[0] = 0;
  for (size_t i = 0; i < n_gemm; i++) strcat(text, gemm);
  strcat(text, "end\n");
  DOK(seed, uri, pal_asm_assemble(text, strlen(text), NULL, &prog));
  free(text);
  DOK(seed, uri, pal_device_load_program(d, 0, prog.words, prog.word_count));
  pal_asm_program_release(&prog);

  /* the host waits up to 10 s; the watchdog must end it long before */
  pal_tile_status_t st;
  double t0 = fw_now_s();
  pal_status_t s = pal_device_run(d, 0, 10000, &st);
  double waited = fw_now_s() - t0;
  PAL_TEST_CHECK(seed, s && pal_status_code(s) == PAL_DEADLINE_EXCEEDED &&
                           strstr(pal_status_message(s), "watchdog") &&
                           strstr(pal_status_message(s), uri),
                 "hung kernel: expected the watchdog's DEADLINE_EXCEEDED naming the URI, got %s",
                 s ? pal_status_message(s) : "OK");
  pal_status_free(s);
  PAL_TEST_CHECK(seed, waited < 10.0, "the watchdog error took %.1f s", waited);
  /* the firmware's own record: stopped after the limit, within a poll or two of it */
  uint32_t r[16];
  size_t n = 0;
  DOK(seed, uri, pal_device_fw_command(d, PAL_FWMSG_STATUS, NULL, 0, r, 16, &n));
  PAL_TEST_CHECK(seed, n == 9 && r[1] == 3 && r[3] > FW_WD_LIMIT && r[3] < FW_WD_LIMIT + 20000 && r[4] == FW_WD_LIMIT,
                 "STATUS after the watchdog: run state %u after %u cycles (limit %u)", (unsigned)r[1],
                 (unsigned)r[3], (unsigned)r[4]);
  /* the tile was reset: not busy */
  DOK(seed, uri, pal_device_read_status(d, &st));
  PAL_TEST_CHECK(seed, !st.busy, "tile still busy after the watchdog reset");
  uint32_t c[32];
  DOK(seed, uri, pal_device_fw_command(d, PAL_FWMSG_COUNTERS, NULL, 0, c, 32, &n));
  PAL_TEST_CHECK(seed, n == 24 && c[21] == 1, "watchdog trips counted: %u", (unsigned)c[21]);

  /* the next kernel runs, bit-exact */
  gemm_job_t j;
  job_make(seed, &rng, P, &j);
  job_fit(seed, cfg, &j);
  job_load(seed, d, uri, &j, P);
  DOK(seed, uri, pal_device_reset(d));
  DOK(seed, uri, pal_device_run(d, 0, 10000, &st));
  PAL_TEST_CHECK(seed, st.done && !st.busy && st.error == 0, "kernel after the watchdog: error %s",
                 pal_tile_error_name(st.error));
  size_t nar_ref = 0;
  check_outputs(seed, d, uri, &j, P, &nar_ref);
  job_release(&j);
  pal_device_close(d);
}

#endif /* FW_TEST_UTIL_H */
