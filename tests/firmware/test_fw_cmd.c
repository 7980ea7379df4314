/* The firmware's command loop (firmware/pal_fw_cmd.c) on the host over the
 * fake HAL: INFO from the tile's registers, a load in mailbox chunks, START
 * and STATUS, the watchdog resetting a hung tile and the next kernel
 * running, RUN of code already in IMEM, COUNTERS, and every error reply (unknown command, bad lengths,
 * an over-long request that must not throw the stream out of step, load
 * sequence, busy, no kernel, rejected image), and the replay of a
 * retransmitted request's kept reply. */
#include "fw_test_util.h"

#include "fw_cmd_script.h"
#include "pal_fw_cmd.h"
#include "pal_fw_map.h"

static pal_fw_t fw;
static pal_tile_config_t device;

static void boot(void)
{
    pal_tile_config_initialize(&device, 4, 4);
    fake_init(&device);
    pal_fw_init(&fw);
}

/* Polls until a whole reply is out (or gives up); returns its length. */
static size_t run_until_reply(void)
{
    for (int i = 0; i < 100000; i++) {
        if (fake.tx_len > 0 && fake.tx_len >= 1 + (fake.tx[0] >> 16) && fake.rx_head == fake.rx_tail)
            break;
        pal_fw_poll(&fw);
    }
    assert_true(fake.tx_len > 0);
    assert_int_equal(fake.tx_len, 1 + (fake.tx[0] >> 16));
    return fake.tx_len;
}

/* Sends one request, runs the loop, checks the reply header; returns the
 * status word. The reply stays in fake.tx until the next call. */
static uint32_t request(uint32_t cmd, const uint32_t *payload, uint32_t n)
{
    static uint32_t tag;
    tag = (tag + 1) & 0xFF;
    fake.tx_len = 0;
    fake_send(cmd, tag, payload, n);
    run_until_reply();
    assert_int_equal(fake.tx[0] & 0xFF, (cmd & 0xFF) | PAL_FW_REPLY);
    assert_int_equal((fake.tx[0] >> 8) & 0xFF, tag);
    return fake.tx[1];
}

/* Loads an image through LOAD_BEGIN / LOAD_DATA chunks; returns the status
 * of the last reply. */
static uint32_t load(const uint8_t *img, size_t size, uint64_t seed)
{
    uint32_t total = (uint32_t)size;
    uint32_t st = request(PAL_FW_CMD_LOAD_BEGIN, &total, 1);
    if (st != PAL_FW_OK)
        return st;
    pal_test_rng_t rng;
    pal_test_rng_init(&rng, seed);
    size_t pos = 0;
    while (pos < size) {
        uint32_t max = 4 * (PAL_FW_MSG_MAX_WORDS - 1);
        uint32_t n = 1 + pal_test_rng_below(&rng, max);
        if (n > size - pos)
            n = (uint32_t)(size - pos);
        uint32_t msg[PAL_FW_MSG_MAX_WORDS] = {n};
        memcpy(&msg[1], img + pos, n);  /* little-endian host: bytes in word order */
        st = request(PAL_FW_CMD_LOAD_DATA, msg, 1 + (n + 3) / 4);
        if (st != PAL_FW_OK)
            return st;
        pos += n;
    }
    return st;
}

static void test_info(void **state)
{
    (void)state;
    boot();
    assert_int_equal(request(PAL_FW_CMD_INFO, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.tx_len, 2 + 12);
    assert_int_equal(fake.tx[2], PAL_FW_TILE_ID_VALUE);
    assert_int_equal(fake.tx[3], 1);
    assert_int_equal(fake.tx[4], device.rows | device.cols << 8 | device.acc_units << 16);
    assert_int_equal(fake.tx[5], device.imem_depth);
    assert_int_equal(fake.tx[6], device.abuf_blocks);
    assert_int_equal(fake.tx[7], device.wmem_blocks);
    assert_int_equal(fake.tx[8], device.acc_depth);
    assert_int_equal(fake.tx[9], device.bias_depth);
    assert_int_equal(fake.tx[10], device.obuf_depth);
    assert_int_equal(fake.tx[11], PAL_FW_VERSION);
    assert_int_equal(fake.tx[12] & 1, 1);
    fake_release();
}

static void test_load_start_status(void **state)
{
    (void)state;
    uint64_t seed = pal_test_seed();
    size_t size = 0;
    uint8_t *img = fw_test_image(seed, &size);
    boot();
    assert_int_equal(request(PAL_FW_CMD_START, NULL, 0), PAL_FW_ERR_NO_KERNEL);
    assert_int_equal(load(img, size, seed), PAL_FW_OK);
    assert_int_equal(fake.tx[2], PAL_FW_REJECT_NONE);
    assert_int_equal(fake.tx[4], size);    /* bytes received */
    assert_int_equal(fake.tx[5], 1);       /* kernel valid */
    assert_int_equal(fake.outside_writes, 0);
    assert_int_equal(request(PAL_FW_CMD_START, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.starts, 1);
    assert_int_equal(fake.start_pc, 0);
    /* running: another START or a load is refused */
    fake.hang = 1;
    assert_int_equal(request(PAL_FW_CMD_START, NULL, 0), PAL_FW_ERR_BUSY);
    uint32_t total = (uint32_t)size;
    assert_int_equal(request(PAL_FW_CMD_LOAD_BEGIN, &total, 1), PAL_FW_ERR_BUSY);
    assert_int_equal(request(PAL_FW_CMD_STATUS, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.tx[2], PAL_FW_RUN_RUNNING);
    fake.hang = 0;
    for (int i = 0; i < 10; i++)
        pal_fw_poll(&fw);
    assert_int_equal(request(PAL_FW_CMD_STATUS, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.tx[2], PAL_FW_RUN_DONE);
    assert_int_equal(fake.tx[3] & PAL_FW_STATUS_DONE, PAL_FW_STATUS_DONE);
    assert_true(fake.tx[4] > 0);
    /* a second run of the same kernel */
    assert_int_equal(request(PAL_FW_CMD_START, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.starts, 2);
    free(img);
    fake_release();
}

static void test_watchdog(void **state)
{
    (void)state;
    uint64_t seed = pal_test_seed();
    size_t size = 0;
    uint8_t *img = fw_test_image(seed, &size);
    boot();
    assert_int_equal(load(img, size, seed), PAL_FW_OK);
    fake.hang = 1;
    uint32_t limit = 50000; /* cycles; the fake timer steps 1000 per read */
    assert_int_equal(request(PAL_FW_CMD_START, &limit, 1), PAL_FW_OK);
    int polls = 0;
    while (fake.resets == 0 && polls < 1000) {
        pal_fw_poll(&fw);
        polls++;
    }
    assert_int_equal(fake.resets, 1);
    /* not before the limit: at least limit/step timer reads happened */
    assert_true(polls >= (int)(limit / fake.time_step) - 2);
    assert_int_equal(request(PAL_FW_CMD_STATUS, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.tx[2], PAL_FW_RUN_WATCHDOG);
    assert_true(fake.tx[4] > limit);
    assert_int_equal(fake.tx[6], 0); /* kernel no longer valid */
    assert_int_equal(request(PAL_FW_CMD_START, NULL, 0), PAL_FW_ERR_NO_KERNEL);
    assert_int_equal(request(PAL_FW_CMD_COUNTERS, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.tx[2 + PAL_FW_COUNTER_WORDS + 2], 1); /* watchdog trips */
    /* the next kernel runs normally */
    fake.hang = 0;
    assert_int_equal(load(img, size, seed + 1), PAL_FW_OK);
    assert_int_equal(request(PAL_FW_CMD_START, NULL, 0), PAL_FW_OK);
    for (int i = 0; i < 10; i++)
        pal_fw_poll(&fw);
    assert_int_equal(request(PAL_FW_CMD_STATUS, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.tx[2], PAL_FW_RUN_DONE);
    assert_int_equal(fake.resets, 1);
    free(img);
    fake_release();
}

static void test_counters(void **state)
{
    (void)state;
    boot();
    assert_int_equal(request(PAL_FW_CMD_COUNTERS, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.tx_len, 2 + PAL_FW_COUNTER_WORDS + 5);
    for (uint32_t i = 0; i < PAL_FW_COUNTER_WORDS; i++)
        assert_int_equal(fake.tx[2 + i], fake.counters[i]);
    assert_int_equal(fake.tx[2 + PAL_FW_COUNTER_WORDS], 1); /* this command */
    fake_release();
}

/* The link engine marks a retransmitted request with PAL_FW_REPLAY: the
 * kept reply comes back word for word and the command does not run again.
 * Here a LOAD_DATA chunk is replayed in the middle of a load (a second run
 * would append the chunk twice and the image would fail its checks) and a
 * START is replayed (a second run would be refused as busy, or start the
 * tile twice). */
static void test_replay(void **state)
{
    (void)state;
    uint64_t seed = pal_test_seed() + 5;
    size_t size = 0;
    uint8_t *img = fw_test_image(seed, &size);
    boot();
    uint32_t total = (uint32_t)size;
    assert_int_equal(request(PAL_FW_CMD_LOAD_BEGIN, &total, 1), PAL_FW_OK);
    uint32_t n = size > 100 ? 100 : (uint32_t)size;
    uint32_t msg[PAL_FW_MSG_MAX_WORDS] = {n};
    memcpy(&msg[1], img, n);
    assert_int_equal(request(PAL_FW_CMD_LOAD_DATA, msg, 1 + (n + 3) / 4), PAL_FW_OK);
    uint32_t first[64];
    size_t first_len = fake.tx_len;
    memcpy(first, fake.tx, first_len * sizeof first[0]);
    assert_int_equal(first[4], n); /* bytes received */
    uint32_t tag = (first[0] >> 8) & 0xFF;
    fake.tx_len = 0;
    fake_send(PAL_FW_CMD_LOAD_DATA | PAL_FW_REPLAY, tag, msg, 1 + (n + 3) / 4);
    run_until_reply();
    assert_int_equal(fake.tx_len, first_len);
    assert_memory_equal(fake.tx, first, first_len * sizeof first[0]);
    /* the rest of the image: it validates, so the chunk went in once */
    size_t pos = n;
    while (pos < size) {
        uint32_t k = size - pos > 200 ? 200 : (uint32_t)(size - pos);
        msg[0] = k;
        memcpy(&msg[1], img + pos, k);
        assert_int_equal(request(PAL_FW_CMD_LOAD_DATA, msg, 1 + (k + 3) / 4), PAL_FW_OK);
        pos += k;
    }
    assert_int_equal(fake.tx[4], size);
    assert_int_equal(fake.tx[5], 1); /* kernel valid */
    fake.hang = 1;
    assert_int_equal(request(PAL_FW_CMD_START, NULL, 0), PAL_FW_OK);
    tag = (fake.tx[0] >> 8) & 0xFF;
    fake.tx_len = 0;
    fake_send(PAL_FW_CMD_START | PAL_FW_REPLAY, tag, NULL, 0);
    run_until_reply();
    assert_int_equal(fake.tx_len, 2);
    assert_int_equal(fake.tx[1], PAL_FW_OK); /* the first START's answer, not BUSY */
    assert_int_equal(fake.starts, 1);
    /* a replay that is not of the last request: NO_REPLAY, nothing runs */
    fake.tx_len = 0;
    fake_send(PAL_FW_CMD_START | PAL_FW_REPLAY, (tag + 7) & 0xFF, NULL, 0);
    run_until_reply();
    assert_int_equal(fake.tx[0] & 0xFF, PAL_FW_CMD_START | PAL_FW_REPLY);
    assert_int_equal(fake.tx[1], PAL_FW_ERR_NO_REPLAY);
    assert_int_equal(fake.starts, 1);
    fake.hang = 0;
    assert_int_equal(request(PAL_FW_CMD_COUNTERS, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.tx[2 + PAL_FW_COUNTER_WORDS + 0], 2 + (size + 199 - n) / 200 + 2); /* commands */
    assert_int_equal(fake.tx[2 + PAL_FW_COUNTER_WORDS + 3], 1); /* bad messages: the stray replay */
    assert_int_equal(fake.tx[2 + PAL_FW_COUNTER_WORDS + 4], 3); /* replays */
    free(img);
    fake_release();
}

static void test_errors(void **state)
{
    (void)state;
    uint64_t seed = pal_test_seed();
    size_t size = 0;
    uint8_t *img = fw_test_image(seed, &size);
    boot();
    assert_int_equal(request(0x55, NULL, 0), PAL_FW_ERR_UNKNOWN_COMMAND);
    uint32_t junk[100] = {0};
    assert_int_equal(request(PAL_FW_CMD_INFO, junk, 1), PAL_FW_ERR_BAD_LENGTH);
    assert_int_equal(request(PAL_FW_CMD_STATUS, junk, 2), PAL_FW_ERR_BAD_LENGTH);
    assert_int_equal(request(PAL_FW_CMD_LOAD_BEGIN, NULL, 0), PAL_FW_ERR_BAD_LENGTH);
    assert_int_equal(request(PAL_FW_CMD_START, junk, 2), PAL_FW_ERR_BAD_LENGTH);
    /* over-long request: consumed whole, answered, and the next one works */
    assert_int_equal(request(PAL_FW_CMD_INFO, junk, 100), PAL_FW_ERR_BAD_LENGTH);
    assert_int_equal(request(PAL_FW_CMD_INFO, NULL, 0), PAL_FW_OK);
    /* LOAD_DATA: byte count inconsistent with the words sent */
    uint32_t bad[3] = {9, 0, 0};
    assert_int_equal(request(PAL_FW_CMD_LOAD_DATA, bad, 3), PAL_FW_ERR_BAD_LENGTH);
    bad[0] = 3;
    assert_int_equal(request(PAL_FW_CMD_LOAD_DATA, bad, 3), PAL_FW_ERR_BAD_LENGTH);
    /* LOAD_DATA before LOAD_BEGIN */
    bad[0] = 8;
    assert_int_equal(request(PAL_FW_CMD_LOAD_DATA, bad, 3), PAL_FW_ERR_SEQUENCE);
    /* a rejected image: reason in the reply, sticky until the next begin, no start */
    img[0] = 'Q';
    assert_int_equal(load(img, size, seed), PAL_FW_ERR_REJECTED);
    assert_int_equal(fake.tx[2], PAL_FW_REJECT_MAGIC);
    assert_int_equal(request(PAL_FW_CMD_LOAD_DATA, bad, 3), PAL_FW_ERR_SEQUENCE);
    assert_int_equal(request(PAL_FW_CMD_START, NULL, 0), PAL_FW_ERR_NO_KERNEL);
    assert_true(fake_pristine());
    /* a CRC failure writes inside the buffers but never becomes startable */
    img[0] = 'P';
    img[size - 1] ^= 1;
    assert_int_equal(load(img, size, seed), PAL_FW_ERR_REJECTED);
    assert_int_equal(fake.tx[2], PAL_FW_REJECT_CRC);
    assert_int_equal(request(PAL_FW_CMD_START, NULL, 0), PAL_FW_ERR_NO_KERNEL);
    assert_int_equal(fake.outside_writes, 0);
    assert_int_equal(fake.starts, 0);
    /* announced size under a header */
    uint32_t tiny = 10;
    assert_int_equal(request(PAL_FW_CMD_LOAD_BEGIN, &tiny, 1), PAL_FW_ERR_REJECTED);
    assert_int_equal(fake.tx[2], PAL_FW_REJECT_TOTAL_LENGTH);
    /* the STATUS reply remembers the last rejection */
    assert_int_equal(request(PAL_FW_CMD_STATUS, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.tx[7], PAL_FW_REJECT_TOTAL_LENGTH);
    free(img);
    fake_release();
}

/* RUN: code already in IMEM (written over the link's bare path), no image
 * needed; the entry point checked against the tile's IMEM; guarded by the
 * watchdog like START. STATUS's last word is the tile's STATUS now. */
static void test_run(void **state)
{
    (void)state;
    boot();
    uint32_t p[2] = {device.imem_depth, 0};
    assert_int_equal(request(PAL_FW_CMD_RUN, p, 1), PAL_FW_ERR_BAD_PC);
    assert_int_equal(request(PAL_FW_CMD_RUN, NULL, 0), PAL_FW_ERR_BAD_LENGTH);
    uint32_t three[3] = {0, 0, 0};
    assert_int_equal(request(PAL_FW_CMD_RUN, three, 3), PAL_FW_ERR_BAD_LENGTH);
    assert_int_equal(fake.starts, 0);
    p[0] = 7;
    fake.hang = 1;
    assert_int_equal(request(PAL_FW_CMD_RUN, p, 1), PAL_FW_OK);
    assert_int_equal(fake.starts, 1);
    assert_int_equal(fake.start_pc, 7);
    assert_int_equal(request(PAL_FW_CMD_RUN, p, 1), PAL_FW_ERR_BUSY);
    assert_int_equal(request(PAL_FW_CMD_STATUS, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.tx_len, 1 + 9);
    assert_int_equal(fake.tx[2], PAL_FW_RUN_RUNNING);
    assert_int_equal(fake.tx[9] & PAL_FW_STATUS_BUSY, PAL_FW_STATUS_BUSY);
    assert_int_equal(fake.tx[5], PAL_FW_DEFAULT_WATCHDOG);
    /* the watchdog ends it at the limit RUN gave */
    fake.hang = 0;
    for (int i = 0; i < 10; i++)
        pal_fw_poll(&fw);
    assert_int_equal(request(PAL_FW_CMD_STATUS, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.tx[2], PAL_FW_RUN_DONE);
    fake.hang = 1;
    p[0] = 0;
    p[1] = 30000;
    assert_int_equal(request(PAL_FW_CMD_RUN, p, 2), PAL_FW_OK);
    for (int i = 0; i < 1000 && fake.resets == 0; i++)
        pal_fw_poll(&fw);
    assert_int_equal(fake.resets, 1);
    assert_int_equal(request(PAL_FW_CMD_STATUS, NULL, 0), PAL_FW_OK);
    assert_int_equal(fake.tx[2], PAL_FW_RUN_WATCHDOG);
    assert_int_equal(fake.tx[5], 30000);
    assert_true(fake.tx[4] > 30000);
    /* no image was ever loaded: START still refuses */
    assert_int_equal(request(PAL_FW_CMD_START, NULL, 0), PAL_FW_ERR_NO_KERNEL);
    fake_release();
}

/* Random request streams (fw_cmd_script.h): every request answered once,
 * in step, with its documented reply length; replays word for word; the
 * tile started exactly on START/RUN OK; nothing written outside the tile.
 * The scripts mix whole image loads, hanging kernels, small payload values
 * (so watchdog limits and PCs are often in range) and raw command bytes;
 * over all scripts every status and the deep paths must be reached. */
static void test_random_request_streams(void **state)
{
    (void)state;
    uint64_t seed = pal_test_seed();
    pal_test_rng_t rng;
    pal_test_rng_init(&rng, seed);
    size_t image_size = 0;
    uint8_t *image = fw_test_image(seed, &image_size);
    pal_tile_config_initialize(&device, 4, 4);
    fw_script_stats_t total = {0};
    static uint8_t script[4096];
    const uint32_t near[5] = {device.imem_depth, device.abuf_blocks, device.wmem_blocks, device.acc_depth, 64};
    for (int it = 0; it < 200; it++) {
        size_t len = 0;
        int requests = 1 + (int)pal_test_rng_below(&rng, 40);
        for (int r = 0; r < requests && len + 8 + 4 * 72 < sizeof script; r++) {
            uint32_t op = pal_test_rng_below(&rng, 8);
            if (pal_test_rng_below(&rng, 6) == 0)
                op |= pal_test_rng_below(&rng, 2) ? 0x48 : 0x08; /* a retransmission, or another replay */
            if (pal_test_rng_below(&rng, 8) == 0)
                op |= 0x10; /* hang toggles */
            if (pal_test_rng_below(&rng, 10) == 0) {
                script[len++] = (uint8_t)(op | 0x20); /* a whole load */
                script[len++] = (uint8_t)(63 + pal_test_rng_below(&rng, 190));
                continue;
            }
            script[len++] = (uint8_t)op;
            if ((op & 7) == 7)
                script[len++] = (uint8_t)pal_test_rng_below(&rng, 12);
            uint32_t n = pal_test_rng_below(&rng, 5) ? pal_test_rng_below(&rng, 3) : pal_test_rng_below(&rng, 72);
            script[len++] = (uint8_t)n;
            for (uint32_t i = 0; i < n; i++) {
                /* watchdog limits of a few polls, PCs and sizes near the tile's, any word */
                uint32_t kind = pal_test_rng_below(&rng, 3);
                uint32_t w = kind == 0   ? pal_test_rng_below(&rng, 300) * 1000u + pal_test_rng_below(&rng, 4)
                             : kind == 1 ? near[pal_test_rng_below(&rng, 5)] + pal_test_rng_below(&rng, 5) - 2u
                                         : pal_test_rng_u32(&rng);
                if (i == 0 && (op & 7) == 2 && n >= 2 && pal_test_rng_below(&rng, 3))
                    w = 4 * (n - 1) - pal_test_rng_below(&rng, 4); /* a LOAD_DATA byte count that fits */
                if (i == 0 && (op & 7) == 1 && pal_test_rng_below(&rng, 4) == 0)
                    w = pal_test_rng_below(&rng, 80); /* an image size, too short or not */
                memcpy(script + len, &w, 4);
                len += 4;
            }
        }
        fw_script_stats_t st;
        char why[512];
        PAL_TEST_CHECK(seed, fw_cmd_script(&device, script, len, image, image_size, &st, why, sizeof why) == 0,
                       "script %d: %s", it, why);
        total.requests += st.requests;
        total.replays_matched += st.replays_matched;
        total.started += st.started;
        total.watchdogs += st.watchdogs;
        total.loads_complete += st.loads_complete;
        for (int k = 0; k <= PAL_FW_ERR_NO_REPLAY; k++)
            total.status[k] += st.status[k];
    }
    for (int k = 0; k <= PAL_FW_ERR_NO_REPLAY; k++)
        PAL_TEST_CHECK(seed, total.status[k] > 0, "no reply with status %d in %u requests", k, total.requests);
    PAL_TEST_CHECK(seed, total.loads_complete > 0 && total.started > 0 && total.watchdogs > 0 &&
                             total.replays_matched > 0,
                   "deep paths not reached: %u loads, %u starts, %u watchdogs, %u replays", total.loads_complete,
                   total.started, total.watchdogs, total.replays_matched);
    free(image);
    fake_release();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_info),     cmocka_unit_test(test_load_start_status),
        cmocka_unit_test(test_watchdog),
        cmocka_unit_test(test_run), cmocka_unit_test(test_counters),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_random_request_streams),
    };
    return cmocka_run_group_tests_name("firmware_cmd", tests, NULL, NULL);
}
