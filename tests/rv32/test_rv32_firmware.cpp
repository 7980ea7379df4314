// The real firmware (build/firmware/pal_fw.hex) on the Verilated control
// subsystem (rtl/pal_rv_sys.v: core, IMEM/DMEM, timer, mailbox, sysctl),
// driven through the mailbox's link-side port like the link engine will,
// with a fake tile on the tile bus port (ID registers of a 4x4 tile, a
// STATUS that reports done some cycles after a start, or never). Checks
// INFO, an error reply, a kernel image loaded and started (its bytes where
// the host parser says), and the watchdog resetting a hung tile.
#include "rv32_sys.h"

using rv32sys::Bench;
using rv32sys::load;

static void test_info(void **state) {
  (void)state;
  Bench b;
  uint64_t cycles = 0;
  std::vector<uint32_t> r = b.request(PAL_FW_CMD_INFO, {}, &cycles);
  assert_int_equal(r.size(), 14);
  assert_int_equal(r[1], PAL_FW_OK);
  assert_int_equal(r[2], PAL_FW_TILE_ID_VALUE);
  assert_int_equal(r[3], 1);
  assert_int_equal(r[4], b.cfg.rows | b.cfg.cols << 8 | b.cfg.acc_units << 16);
  assert_int_equal(r[5], b.cfg.imem_depth);
  assert_int_equal(r[10], b.cfg.obuf_depth);
  assert_int_equal(r[11], PAL_FW_VERSION);
  r = b.request(PAL_FW_CMD_INFO, {}, &cycles);
  assert_int_equal(r[1], PAL_FW_OK);
  r = b.request(0x77, {1, 2, 3});
  assert_int_equal(r[1], PAL_FW_ERR_UNKNOWN_COMMAND);
  assert_int_equal(b.bad_accesses, 0);
}

static void test_load_start_watchdog(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  size_t size = 0;
  uint8_t *img = fw_test_image(seed, &size);
  Bench b;
  assert_int_equal(load(b, img, size), PAL_FW_OK);
  // every section byte where the host parser places it
  pal_kernel_image_t *k = NULL;
  must(pal_kernel_image_parse(img, size, &k));
  static const uint32_t base[] = {0, PAL_FW_DEV_IMEM, PAL_FW_DEV_ABUF_CODES, PAL_FW_DEV_ABUF_SCALES,
                                  PAL_FW_DEV_WMEM_CODES, PAL_FW_DEV_WMEM_SCALES, PAL_FW_DEV_BIAS,
                                  PAL_FW_DEV_ACC};
  size_t expected = 0;
  uint32_t P = b.cfg.rows * b.cfg.cols;
  for (size_t i = 0; i < pal_kernel_image_section_count(k); i++) {
    pal_kernel_section_t s;
    pal_kernel_image_section(k, i, &s);
    uint32_t esize = (s.kind == 1 || s.kind == 6 || s.kind == 7) ? 4 : 1;
    bool striped = s.pe == PAL_KERNEL_IMAGE_ALL_PES;
    for (uint32_t q = 0; q < (striped ? P : 1); q++) {
      uint32_t pe = striped ? q : s.pe;
      uint32_t stride = s.kind == 4 ? PAL_FW_DEV_WMEM_CODES_STRIDE : s.kind == 5 ? PAL_FW_DEV_WMEM_SCALES_STRIDE : 0;
      for (uint64_t e = 0; e < s.length * esize; e++) {
        uint32_t a = base[s.kind] + pe * stride + (uint32_t)(s.index * esize + e);
        auto it = b.written.find(a);
        if (it == b.written.end() || it->second != ((const uint8_t *)s.data)[q * s.length * esize + e])
          fail_msg("section %zu PE %u byte %llu at 0x%08x not written correctly", i, pe,
                   (unsigned long long)e, a);
        expected++;
      }
    }
    if (s.kind == 7) expected += s.length;  // NaR flags cleared
  }
  assert_int_equal(b.written.size(), expected);
  pal_kernel_image_destroy(k);

  std::vector<uint32_t> r = b.request(PAL_FW_CMD_START, {});
  assert_int_equal(r[1], PAL_FW_OK);
  assert_int_equal(b.starts, 1);
  assert_int_equal(b.start_pc, 0);
  b.run(30000);
  r = b.request(PAL_FW_CMD_STATUS, {});
  assert_int_equal(r[2], PAL_FW_RUN_DONE);

  // a hung kernel: the watchdog (limit 100000 cycles) resets the tile
  b.hang = true;
  r = b.request(PAL_FW_CMD_START, {100000});
  assert_int_equal(r[1], PAL_FW_OK);
  b.run(60000);
  assert_int_equal(b.resets, 0);
  b.run(100000);
  assert_int_equal(b.resets, 1);
  r = b.request(PAL_FW_CMD_STATUS, {});
  assert_int_equal(r[2], PAL_FW_RUN_WATCHDOG);
  assert_true(r[4] > 100000);
  r = b.request(PAL_FW_CMD_START, {});
  assert_int_equal(r[1], PAL_FW_ERR_NO_KERNEL);
  // the next kernel runs
  b.hang = false;
  assert_int_equal(load(b, img, size), PAL_FW_OK);
  r = b.request(PAL_FW_CMD_START, {});
  assert_int_equal(r[1], PAL_FW_OK);
  b.run(30000);
  r = b.request(PAL_FW_CMD_STATUS, {});
  assert_int_equal(r[2], PAL_FW_RUN_DONE);
  assert_int_equal(b.bad_accesses, 0);
  free(img);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_info),
      cmocka_unit_test(test_load_start_watchdog),
  };
  return cmocka_run_group_tests_name("rv32_firmware_on_core", tests, NULL, NULL);
}
