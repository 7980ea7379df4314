/* The firmware names the tile's device addresses, registers and bits in
 * firmware/pal_fw_map.h and its command codes in firmware/pal_fw_cmd.h (it
 * is built freestanding and keeps its own headers); this test holds every
 * one of them to the project's source of truth, include/pal/protocol.h
 * and include/pal/tile.h, so the two can never drift apart. */
#include "fw_test_util.h"

#include "pal/protocol.h"
#include "pal_fw_cmd.h"
#include "pal_fw_map.h"

typedef struct pair {
    const char *name;
    uint32_t firmware, truth;
} pair_t;

static void test_device_map_matches_protocol(void **state)
{
    (void)state;
    const pair_t pairs[] = {
        {"IMEM", PAL_FW_DEV_IMEM, PAL_ADDR_IMEM},
        {"ABUF_CODES", PAL_FW_DEV_ABUF_CODES, PAL_ADDR_ABUF_CODES},
        {"ABUF_SCALES", PAL_FW_DEV_ABUF_SCALES, PAL_ADDR_ABUF_SCALES},
        {"WMEM_CODES", PAL_FW_DEV_WMEM_CODES, PAL_ADDR_WMEM_CODES},
        {"WMEM_CODES_STRIDE", PAL_FW_DEV_WMEM_CODES_STRIDE, PAL_ADDR_WMEM_CODES_STRIDE},
        {"WMEM_SCALES", PAL_FW_DEV_WMEM_SCALES, PAL_ADDR_WMEM_SCALES},
        {"WMEM_SCALES_STRIDE", PAL_FW_DEV_WMEM_SCALES_STRIDE, PAL_ADDR_WMEM_SCALES_STRIDE},
        {"ACC", PAL_FW_DEV_ACC, PAL_ADDR_ACC},
        {"ACC_NAR", PAL_FW_DEV_ACC_NAR, PAL_ADDR_ACC_NAR},
        {"BIAS", PAL_FW_DEV_BIAS, PAL_ADDR_BIAS},
        {"OBUF", PAL_FW_DEV_OBUF, PAL_ADDR_OBUF},
        {"REG_ID", PAL_FW_REG_ID, PAL_ADDR_TILE_REGS + PAL_TILE_REG_ID},
        {"REG_ISA_VERSION", PAL_FW_REG_ISA_VERSION, PAL_ADDR_TILE_REGS + PAL_TILE_REG_ISA_VERSION},
        {"REG_GEOMETRY", PAL_FW_REG_GEOMETRY, PAL_ADDR_TILE_REGS + PAL_TILE_REG_GEOMETRY},
        {"REG_IMEM_DEPTH", PAL_FW_REG_IMEM_DEPTH, PAL_ADDR_TILE_REGS + PAL_TILE_REG_IMEM_DEPTH},
        {"REG_ABUF_BLOCKS", PAL_FW_REG_ABUF_BLOCKS, PAL_ADDR_TILE_REGS + PAL_TILE_REG_ABUF_BLOCKS},
        {"REG_WMEM_BLOCKS", PAL_FW_REG_WMEM_BLOCKS, PAL_ADDR_TILE_REGS + PAL_TILE_REG_WMEM_BLOCKS},
        {"REG_ACC_DEPTH", PAL_FW_REG_ACC_DEPTH, PAL_ADDR_TILE_REGS + PAL_TILE_REG_ACC_DEPTH},
        {"REG_BIAS_DEPTH", PAL_FW_REG_BIAS_DEPTH, PAL_ADDR_TILE_REGS + PAL_TILE_REG_BIAS_DEPTH},
        {"REG_OBUF_DEPTH", PAL_FW_REG_OBUF_DEPTH, PAL_ADDR_TILE_REGS + PAL_TILE_REG_OBUF_DEPTH},
        {"REG_CONTROL", PAL_FW_REG_CONTROL, PAL_ADDR_TILE_REGS + PAL_TILE_REG_CONTROL},
        {"REG_START_PC", PAL_FW_REG_START_PC, PAL_ADDR_TILE_REGS + PAL_TILE_REG_START_PC},
        {"REG_STATUS", PAL_FW_REG_STATUS, PAL_ADDR_TILE_REGS + PAL_TILE_REG_STATUS},
        {"REG_COUNTERS", PAL_FW_REG_COUNTERS, PAL_ADDR_TILE_REGS + PAL_TILE_REG_COUNTERS},
        {"COUNTER_WORDS", PAL_FW_COUNTER_WORDS, 2u * PAL_TILE_CTR_COUNT},
        {"TILE_ID_VALUE", PAL_FW_TILE_ID_VALUE, PAL_TILE_ID_VALUE},
        {"CONTROL_START", PAL_FW_CONTROL_START, PAL_TILE_CONTROL_START},
        {"CONTROL_CLEAR", PAL_FW_CONTROL_CLEAR, PAL_TILE_CONTROL_RESET},
        {"STATUS_BUSY", PAL_FW_STATUS_BUSY, PAL_TILE_STATUS_BUSY},
        {"STATUS_DONE", PAL_FW_STATUS_DONE, PAL_TILE_STATUS_DONE},
        /* the firmware's command codes (pal_fw_cmd.h) against the host's */
        {"CMD_INFO", PAL_FW_CMD_INFO, PAL_FWMSG_INFO},
        {"CMD_LOAD_BEGIN", PAL_FW_CMD_LOAD_BEGIN, PAL_FWMSG_LOAD_BEGIN},
        {"CMD_LOAD_DATA", PAL_FW_CMD_LOAD_DATA, PAL_FWMSG_LOAD_DATA},
        {"CMD_START", PAL_FW_CMD_START, PAL_FWMSG_START},
        {"CMD_STATUS", PAL_FW_CMD_STATUS, PAL_FWMSG_STATUS},
        {"CMD_COUNTERS", PAL_FW_CMD_COUNTERS, PAL_FWMSG_COUNTERS},
        {"CMD_RUN", PAL_FW_CMD_RUN, PAL_FWMSG_RUN},
        {"MSG_MAX_WORDS", PAL_FW_MSG_MAX_WORDS, PAL_FWMSG_MAX_WORDS},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i].firmware != pairs[i].truth) {
            print_error("pal_fw_map.h PAL_FW_*%s = 0x%08x, but the protocol/tile headers say 0x%08x\n",
                        pairs[i].name, (unsigned)pairs[i].firmware, (unsigned)pairs[i].truth);
            bad++;
        }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_map_matches_protocol),
    };
    return cmocka_run_group_tests_name("firmware_map", tests, NULL, NULL);
}
