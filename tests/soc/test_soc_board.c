/* One board's configuration on the Verilated SoC, as its bitstream is
 * built (BOARD_PARAMS_<board>, constraints/boards.mk; sim://?board=NAME):
 * sim/soc.mk compiles this file once per board with what the board is
 * built with as macros, and links that board's model alone.
 *  - INFO (from the RTL's ID registers and the link engine) reports the
 *    board's geometry, buffer depths, payload size and control core;
 *  - the driver conformance suite passes on it: through the firmware where
 *    the board has the control core, and on the bare link path too;
 *  - with the core, kernel images sent past the host's checks are checked
 *    against this board's real tile (the firmware reads its sizes from the
 *    tile's ID registers): one compiled for it with a section 10 bytes past
 *    its ABUF is rejected and changes no device byte, the same with real
 *    bounds loads and runs; one compiled for the default 4x4 tile is
 *    rejected for its geometry or its buffer sizes.
 * SOC_BOARD (name), SOC_BOARD_R, SOC_BOARD_C, SOC_BOARD_DEPTHS (IMEM ABUF
 * WMEM ACC BIAS OBUF, 0: default), SOC_BOARD_PAYLOAD, SOC_BOARD_FW,
 * SOC_BOARD_NO_POST and SOC_BOARD_NO_ACCU (the tile's GEOMETRY flags).
 * The iCEBreaker's is the firmware-link SoC (rtl/pal_fwsoc.v): its control
 * core serves the link itself, after its boot ROM has loaded the firmware
 * from the modelled flash. */
#include "conformance_suite.h"
#include "fw_test_util.h"
#include "pal/soc.h"
#include "pal_fw_image.h"

#ifndef SOC_BOARD_NO_POST
#define SOC_BOARD_NO_POST 0
#endif
#ifndef SOC_BOARD_NO_ACCU
#define SOC_BOARD_NO_ACCU 0
#endif

#define BOARD_URI "sim://?board=" SOC_BOARD

static void setup_scheme(void) {
  pal_status_t st = pal_soc_register_scheme();
  if (st) fail_msg("%s", pal_status_message(st));
}

/* What the board's bitstream is built with. */
static pal_tile_config_t board_config(void) {
  static const uint32_t depths[6] = {SOC_BOARD_DEPTHS};
  pal_tile_config_t c;
  pal_tile_config_initialize(&c, SOC_BOARD_R, SOC_BOARD_C);
  uint32_t *const d[6] = {&c.imem_depth, &c.abuf_blocks, &c.wmem_blocks,
                          &c.acc_depth,  &c.bias_depth,  &c.obuf_depth};
  for (int i = 0; i < 6; i++)
    if (depths[i]) *d[i] = depths[i];
  c.no_post = SOC_BOARD_NO_POST != 0;
  c.no_accu = SOC_BOARD_NO_ACCU != 0;
  return c;
}

static void test_board_info(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  setup_scheme();
  pal_device_t *d = NULL;
  DOK(seed, BOARD_URI, pal_device_open(BOARD_URI, NULL, &d));
  pal_device_info_t info;
  DOK(seed, BOARD_URI, pal_device_info(d, &info));
  pal_tile_config_t want = board_config();
  PAL_TEST_CHECK(seed, !memcmp(&info.link.tile, &want, sizeof want),
                 "%s: INFO %ux%u ABUF %u WMEM %u ACC %u, built %ux%u ABUF %u WMEM %u ACC %u", BOARD_URI,
                 info.link.tile.rows, info.link.tile.cols, info.link.tile.abuf_blocks,
                 info.link.tile.wmem_blocks, info.link.tile.acc_depth, want.rows, want.cols,
                 want.abuf_blocks, want.wmem_blocks, want.acc_depth);
  PAL_TEST_CHECK(seed, info.link.max_payload == SOC_BOARD_PAYLOAD, "%s: INFO max payload %u, built %u",
                 BOARD_URI, (unsigned)info.link.max_payload, (unsigned)SOC_BOARD_PAYLOAD);
  bool fw = (info.link.flags & PAL_PROTO_FLAG_FIRMWARE) != 0;
  PAL_TEST_CHECK(seed, fw == (SOC_BOARD_FW != 0) && info.firmware == fw && pal_device_uses_firmware(d) == fw,
                 "%s: INFO firmware flag %d (driver uses it: %d), built with the core: %d", BOARD_URI, fw,
                 info.firmware, SOC_BOARD_FW);
  pal_device_close(d);

  /* the board's name selects the model; a geometry with it is refused */
  pal_status_t st = pal_device_open("sim://?board=" SOC_BOARD "&rows=2", NULL, &d);
  PAL_TEST_CHECK(seed, st && pal_status_code(st) == PAL_INVALID_ARGUMENT && strstr(pal_status_message(st), "board="),
                 "board= with rows=: %s", st ? pal_status_message(st) : "OK");
  pal_status_free(st);
  st = pal_device_open("sim://?board=nosuchboard", NULL, &d);
  PAL_TEST_CHECK(seed, st && pal_status_code(st) == PAL_NOT_FOUND && strstr(pal_status_message(st), SOC_BOARD),
                 "an unknown board: %s", st ? pal_status_message(st) : "OK");
  pal_status_free(st);
}

static void test_board_conformance(void **state) {
  (void)state;
  setup_scheme();
  pal_tile_config_t want = board_config();
  conformance_config(pal_test_seed() + 21, BOARD_URI, NULL, &want, true);
}

/* the link-only path of the same device (what pal info --bare uses) */
static void test_board_conformance_bare(void **state) {
  (void)state;
  if (!SOC_BOARD_FW) skip();
  setup_scheme();
  pal_tile_config_t want = board_config();
  conformance_config(pal_test_seed() + 22, BOARD_URI "&bare=1", NULL, &want, true);
}

/* the firmware's watchdog stops a kernel far past its limit and the next runs */
static void test_board_watchdog(void **state) {
  (void)state;
  if (!SOC_BOARD_FW) skip();
  setup_scheme();
  fw_watchdog_check(pal_test_seed() + 24, BOARD_URI);
}

static void test_board_bad_image(void **state) {
  (void)state;
  if (!SOC_BOARD_FW) skip();
  uint64_t seed = pal_test_seed() + 23;
  setup_scheme();
  fw_bad_image_check(seed, BOARD_URI);

  /* An image compiled for the default 4x4 tile (the builder's defaults):
   * on a board with another geometry the firmware answers GEOMETRY, on one
   * with smaller buffers BUFFER_TOO_SMALL; it never becomes startable. */
  pal_tile_config_t dflt, want = board_config();
  pal_tile_config_initialize(&dflt, 4, 4);
  int expect = want.rows != 4 || want.cols != 4 ? PAL_FW_REJECT_GEOMETRY : PAL_FW_REJECT_BUFFER_TOO_SMALL;
  PAL_TEST_CHECK(seed, memcmp(&dflt, &want, sizeof want) != 0, "the board's tile is the default one");
  pal_kernel_image_builder_t *b = NULL;
  DOK(seed, BOARD_URI, pal_kernel_image_builder_create(NULL, &b));
  uint32_t end[4];
  pal_isa_instr_t e;
  pal_isa_instr_initialize(&e, PAL_ISA_OP_END);
  TT_OK(seed, pal_isa_encode(&e, end));
  DOK(seed, BOARD_URI, pal_kernel_image_builder_add_code(b, 0, end, 4));
  void *data = NULL;
  size_t size = 0;
  DOK(seed, BOARD_URI, pal_kernel_image_builder_serialize(b, &data, &size));
  pal_kernel_image_builder_destroy(b);
  pal_device_t *d = NULL;
  DOK(seed, BOARD_URI, pal_device_open(BOARD_URI, NULL, &d));
  uint32_t r[16];
  size_t n = 0;
  fw_load(seed, d, BOARD_URI, data, size, 240, r, &n);
  PAL_TEST_CHECK(seed, n == 5 && r[0] == 5 && (int)r[1] == expect && r[4] == 0,
                 "a 4x4 default image on %s: status %u reason %u detail %u valid %u (want REJECTED, reason %d)",
                 SOC_BOARD, (unsigned)r[0], (unsigned)r[1], (unsigned)r[2], (unsigned)r[4], expect);
  DOK(seed, BOARD_URI, pal_device_fw_command(d, PAL_FWMSG_START, NULL, 0, r, 16, &n));
  PAL_TEST_CHECK(seed, n == 1 && r[0] == 4, "START after the rejected image: status %u", (unsigned)r[0]);
  free(data);
  pal_device_close(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_board_info),
      cmocka_unit_test(test_board_conformance),
      cmocka_unit_test(test_board_conformance_bare),
      cmocka_unit_test(test_board_bad_image),
      cmocka_unit_test(test_board_watchdog),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
