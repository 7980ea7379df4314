/* The firmware's kernel-image validator and loader (firmware/pal_fw_image.c)
 * on the host, HAL replaced by the fake tile: every rejection path with an
 * image that differs from a valid one in one field, each also rejected by
 * the host's own validator (driver/palk.c) as a cross-check that the
 * corruption is real; nothing is written to the tile before the tables pass,
 * and never outside a buffer; a valid image lands exactly where the host's
 * parser says its sections go. */
#include "fw_test_util.h"

#include "fw_image_diff.h"
#include "pal_fw_image.h"

static pal_tile_config_t device;
static pal_fw_tile_info_t tile;

static void setup_device(void)
{
    pal_tile_config_initialize(&device, 4, 4);
    fake_init(&device);
    memset(&tile, 0, sizeof tile);
    tile.id = fake.id;
    tile.isa_version = fake.isa_version;
    tile.rows = device.rows;
    tile.cols = device.cols;
    tile.imem_depth = device.imem_depth;
    tile.abuf_blocks = device.abuf_blocks;
    tile.wmem_blocks = device.wmem_blocks;
    tile.acc_depth = device.acc_depth;
    tile.bias_depth = device.bias_depth;
    tile.obuf_depth = device.obuf_depth;
}

/* Feeds the image in seeded random chunks; returns the reject code. */
static uint32_t fw_load(const uint8_t *img, size_t size, uint32_t announced, uint64_t seed,
                        pal_fw_loader_t *ld)
{
    pal_test_rng_t rng;
    pal_test_rng_init(&rng, seed);
    pal_fw_loader_begin(ld, &tile, announced);
    size_t pos = 0;
    uint32_t r = ld->reject;
    while (pos < size && r == 0) {
        size_t n = 1 + pal_test_rng_below(&rng, 97);
        if (n > size - pos)
            n = size - pos;
        r = pal_fw_loader_feed(ld, img + pos, (uint32_t)n);
        pos += n;
    }
    return r;
}

static int host_rejects(const uint8_t *img, size_t size)
{
    pal_kernel_image_t *k = NULL;
    pal_status_t s = pal_kernel_image_parse(img, size, &k);
    if (s == PAL_STATUS_OK) {
        s = pal_kernel_image_validate(k, &device);
        pal_kernel_image_destroy(k);
    }
    int rejected = s != PAL_STATUS_OK;
    pal_status_free(s);
    return rejected;
}

typedef struct reject_case {
    const char *what;
    uint32_t expect;
    int reseal;     /* recompute the CRC after patching */
    int host_check; /* the host validator must reject it too */
} reject_case_t;

/* Applies case `i` to a copy of the valid image. */
static void mutate(int i, uint8_t *img, size_t size)
{
    switch (i) {
    case 0: img[0] = 'X'; break;                                          /* magic */
    case 1: put16(img, 4, 2); break;                                      /* format version */
    case 2: put16(img, 6, 72); break;                                     /* header bytes */
    case 3: put32(img, 8, (uint32_t)size + 8); break;                     /* total length */
    case 4: put32(img, 12, 1); break;                                     /* total length >= 2^32 */
    case 5: put32(img, 24, 1); break;                                     /* header flags */
    case 6: put32(img, 20, 2); break;                                     /* ISA version */
    case 7: put16(img, 28, 0); break;                                     /* rows 0 */
    case 8: put32(img, 32, 65536); break;                                 /* imem > 65535 */
    case 9: put32(img, 52, 0); break;                                     /* obuf 0 */
    case 10: put32(img, 36, 65537); break;                                /* abuf > 65536 */
    case 11: put16(img, 28, 2); break;                                    /* 2x4, device 4x4 */
    case 12: put32(img, 40, device.wmem_blocks + 1); break;               /* needs more WMEM */
    case 13: put16(img, 60, PAL_FW_MAX_SECTIONS + 1); break;              /* too many sections */
    case 14: put16(img, 62, 1000); break;                                 /* tables past the end */
    case 15: put16(img, sec_off(SEC_BIAS), 0); break;                     /* kind 0 */
    case 16: put16(img, sec_off(SEC_BIAS), 8); break;                     /* kind 8 */
    case 17: put16(img, sec_off(SEC_BIAS) + 2, 1); break;                 /* section flags */
    case 18: put32(img, sec_off(SEC_BIAS) + 4, 1); break;                 /* pe on BIAS */
    case 19: put32(img, sec_off(SEC_WMEM_PE3) + 4, 16); break;            /* pe 16 of 16 */
    case 20: put32(img, sec_off(SEC_BIAS) + 16, 0); break;                /* length 0 */
    case 21: put32(img, sec_off(SEC_CODE) + 16, 10); break;               /* partial instruction */
    case 22: put32(img, sec_off(SEC_CODE) + 8, 2); break;                 /* code index 2 */
    case 23: put32(img, sec_off(SEC_BIAS) + 12, 1); break;                /* index >= 2^32 */
    case 24: put32(img, sec_off(SEC_BIAS) + 20, 1); break;                /* length >= 2^32 */
    case 25: put32(img, sec_off(SEC_BIAS) + 24, get32(img, sec_off(SEC_BIAS) + 24) + 4); break;
    case 26: put32(img, sec_off(SEC_BIAS) + 24, 64); break;               /* data inside tables */
    case 27: put32(img, sec_off(SEC_ACC) + 24, (uint32_t)size); break;    /* data past the end */
    case 28: put32(img, sec_off(SEC_BIAS) + 28, 1); break;                /* offset >= 2^32 */
    case 29: put32(img, sec_off(SEC_BIAS) + 16, 0x10000000u); break;      /* bytes past the end */
    case 30: put32(img, sec_off(SEC_BIAS) + 8, device.bias_depth - 4); break; /* past the tile's BIAS */
    case 31: put32(img, 48, 4); break;                                    /* past the required BIAS */
    case 32: put32(img, sec_off(SEC_CODE) + 8, device.imem_depth * 4 - 4); break; /* past IMEM */
    case 33: put32(img, sec_off(SEC_ACC) + 24, get32(img, sec_off(SEC_BIAS) + 24)); break;
    case 34: put32(img, sec_off(SEC_WMEM_PE3) + 8, 32); break;            /* overlaps the striped one */
    case 35: put32(img, sec_off(SEC_ACC) + 8, 4); break;                  /* ACC 4..11: fine */
    case 36: img[bind_off(BIND_X)] = ' '; break;                          /* name with a blank */
    case 37: img[bind_off(BIND_X)] = 0; break;                            /* empty name */
    case 38: img[bind_off(BIND_X) + 20] = 'z'; break;                     /* bytes after the NUL */
    case 39: img[bind_off(BIND_X) + 32] = 2; break;                       /* direction */
    case 40: img[bind_off(BIND_X) + 33] = 2; break;                       /* format */
    case 41: img[bind_off(BIND_X) + 34] = PAL_TILE_REGION_ABUF_SCALES; break; /* region */
    case 42: img[bind_off(BIND_X) + 35] = 1; break;                       /* reserved byte */
    case 43: img[bind_off(BIND_X) + 60] = 1; break;                       /* reserved tail */
    case 44: img[bind_off(BIND_B) + 34] = PAL_TILE_REGION_OBUF; break;    /* FP32 input in OBUF */
    case 45: put32(img, bind_off(BIND_Y) + 36, 0); break;                 /* rows 0 */
    case 46: put32(img, bind_off(BIND_Y) + 48, 4); break;                 /* stride < cols */
    case 47: put32(img, bind_off(BIND_Y) + 44, device.obuf_depth - 4); break; /* past OBUF */
    case 48: put32(img, bind_off(BIND_Y) + 36, 0xFFFFFFFFu); break;       /* rows*stride > 2^32 */
    case 49: put16(img, sec_off(SEC_CODE), PAL_KERNEL_SECTION_ACC); break; /* no CODE section */
    case 50: put32(img, 56, 50); break;                                   /* entry outside code */
    case 51: img[size - 1] ^= 0x40; break;                                /* CRC (not resealed) */
    case 52: put32(img, bind_off(BIND_X) + 32 - 32 + 0, 0x20787878u); break; /* "xxx " */
    default: break;
    }
}

static const reject_case_t cases[] = {
    {"magic", PAL_FW_REJECT_MAGIC, 1, 1},
    {"format version 2", PAL_FW_REJECT_FORMAT_VERSION, 1, 1},
    {"header bytes 72", PAL_FW_REJECT_HEADER_BYTES, 1, 1},
    {"total_length != size", PAL_FW_REJECT_TOTAL_LENGTH, 1, 1},
    {"total_length >= 2^32", PAL_FW_REJECT_TOTAL_LENGTH, 1, 1},
    {"header flags", PAL_FW_REJECT_FLAGS, 1, 1},
    {"ISA version 2", PAL_FW_REJECT_ISA_VERSION, 1, 1},
    {"rows 0", PAL_FW_REJECT_REQUIRED_RANGE, 1, 1},
    {"imem 65536", PAL_FW_REJECT_REQUIRED_RANGE, 1, 1},
    {"obuf 0", PAL_FW_REJECT_REQUIRED_RANGE, 1, 1},
    {"abuf 65537", PAL_FW_REJECT_REQUIRED_RANGE, 1, 1},
    {"2x4 on a 4x4 tile", PAL_FW_REJECT_GEOMETRY, 1, 1},
    {"requires more WMEM than the tile has", PAL_FW_REJECT_BUFFER_TOO_SMALL, 1, 1},
    {"17 sections", PAL_FW_REJECT_TOO_MANY_SECTIONS, 1, 0},
    {"tables past the end", PAL_FW_REJECT_TABLES_OUTSIDE, 1, 1},
    {"section kind 0", PAL_FW_REJECT_SECTION_KIND, 1, 1},
    {"section kind 8", PAL_FW_REJECT_SECTION_KIND, 1, 1},
    {"section flags", PAL_FW_REJECT_SECTION_FLAGS, 1, 1},
    {"pe 1 on BIAS", PAL_FW_REJECT_SECTION_PE, 1, 1},
    {"pe 16 of 16", PAL_FW_REJECT_SECTION_PE, 1, 1},
    {"length 0", PAL_FW_REJECT_SECTION_LENGTH, 1, 1},
    {"CODE length 10 words", PAL_FW_REJECT_SECTION_LENGTH, 1, 1},
    {"CODE index 2", PAL_FW_REJECT_SECTION_LENGTH, 1, 1},
    {"index >= 2^32", PAL_FW_REJECT_SIZE_OVERFLOW, 1, 1},
    {"length >= 2^32", PAL_FW_REJECT_SIZE_OVERFLOW, 1, 1},
    {"offset not a multiple of 8", PAL_FW_REJECT_SECTION_ALIGN, 1, 1},
    {"data inside the tables", PAL_FW_REJECT_SECTION_OFFSET, 1, 1},
    {"data starts at the end", PAL_FW_REJECT_SECTION_DATA, 1, 1},
    {"offset >= 2^32", PAL_FW_REJECT_SECTION_DATA, 1, 1},
    {"data runs past the end", PAL_FW_REJECT_SECTION_DATA, 1, 1},
    {"BIAS past the tile's buffer", PAL_FW_REJECT_SECTION_BUFFER, 1, 1},
    {"BIAS past the required size", PAL_FW_REJECT_SECTION_BUFFER, 1, 1},
    {"CODE past IMEM", PAL_FW_REJECT_SECTION_BUFFER, 1, 1},
    {"two sections share file bytes", PAL_FW_REJECT_FILE_OVERLAP, 1, 1},
    {"WMEM of PE 3 overlaps the striped section", PAL_FW_REJECT_SECTION_OVERLAP, 1, 1},
    {"(control) ACC moved to 4..11 is valid", PAL_FW_REJECT_NONE, 1, 0},
    {"binding name with a blank", PAL_FW_REJECT_BINDING_NAME, 1, 1},
    {"empty binding name", PAL_FW_REJECT_BINDING_NAME, 1, 1},
    {"binding name bytes after the NUL", PAL_FW_REJECT_BINDING_NAME, 1, 1},
    {"binding direction 2", PAL_FW_REJECT_BINDING_FIELD, 1, 1},
    {"binding format 2", PAL_FW_REJECT_BINDING_FIELD, 1, 1},
    {"PAL8 binding on ABUF scales", PAL_FW_REJECT_BINDING_FIELD, 1, 1},
    {"binding reserved byte", PAL_FW_REJECT_BINDING_FIELD, 1, 1},
    {"binding reserved tail", PAL_FW_REJECT_BINDING_FIELD, 1, 1},
    {"FP32 input bound to OBUF", PAL_FW_REJECT_BINDING_FIELD, 1, 1},
    {"binding rows 0", PAL_FW_REJECT_BINDING_SHAPE, 1, 1},
    {"binding stride shorter than a row", PAL_FW_REJECT_BINDING_SHAPE, 1, 1},
    {"binding past OBUF", PAL_FW_REJECT_BINDING_BUFFER, 1, 1},
    {"binding rows*stride beyond 2^32", PAL_FW_REJECT_BINDING_BUFFER, 1, 1},
    {"no CODE section", PAL_FW_REJECT_NO_CODE, 1, 1},
    {"entry pc 50", PAL_FW_REJECT_ENTRY_PC, 1, 1},
    {"CRC", PAL_FW_REJECT_CRC, 0, 1},
    {"binding name 'xxx '", PAL_FW_REJECT_BINDING_NAME, 1, 1},
};

static void test_every_rejection(void **state)
{
    (void)state;
    uint64_t seed = pal_test_seed();
    size_t size = 0;
    uint8_t *good = fw_test_image(seed, &size);
    uint8_t *img = malloc(size);
    int seen[PAL_FW_REJECT_COUNT] = {0};
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        const reject_case_t *c = &cases[i];
        setup_device();
        memcpy(img, good, size);
        mutate(i, img, size);
        if (c->reseal)
            pal_kernel_image_seal(img, size);
        pal_fw_loader_t ld;
        uint32_t r = fw_load(img, size, (uint32_t)size, seed + (uint64_t)i, &ld);
        PAL_TEST_CHECK(seed, r == c->expect, "case '%s': firmware says %u, expected %u (detail %u)",
                       c->what, r, c->expect, ld.detail);
        PAL_TEST_CHECK(seed, fake.outside_writes == 0, "case '%s': %u writes outside the buffers",
                       c->what, fake.outside_writes);
        if (c->expect != PAL_FW_REJECT_NONE && c->expect != PAL_FW_REJECT_CRC)
            PAL_TEST_CHECK(seed, fake_pristine(), "case '%s': the tile was written before rejection",
                           c->what);
        PAL_TEST_CHECK(seed, pal_fw_loader_complete(&ld) == (c->expect == PAL_FW_REJECT_NONE),
                       "case '%s': complete flag wrong", c->what);
        if (c->host_check)
            PAL_TEST_CHECK(seed, host_rejects(img, size), "case '%s': the host validator accepts it",
                           c->what);
        seen[c->expect] = 1;
    }
    /* The table covers every reject code. */
    for (int r = 1; r < PAL_FW_REJECT_COUNT; r++)
        PAL_TEST_CHECK(seed, seen[r] || r == PAL_FW_REJECT_TOTAL_LENGTH, "reject code %d untested", r);
    free(img);
    free(good);
    fake_release();
}

/* Rejections that come from the tile rather than the image, and from the
 * announced size. */
static void test_device_and_stream_rejections(void **state)
{
    (void)state;
    uint64_t seed = pal_test_seed();
    size_t size = 0;
    uint8_t *img = fw_test_image(seed, &size);
    pal_fw_loader_t ld;

    setup_device();
    tile.isa_version = 2; /* a tile of a later ISA: the image is for 1 */
    assert_int_equal(fw_load(img, size, (uint32_t)size, seed, &ld), PAL_FW_REJECT_ISA_VERSION);

    setup_device();
    tile.wmem_blocks = 128; /* a smaller tile than the image was built for */
    assert_int_equal(fw_load(img, size, (uint32_t)size, seed, &ld), PAL_FW_REJECT_BUFFER_TOO_SMALL);
    assert_true(fake_pristine());

    setup_device();
    tile.rows = 8;
    assert_int_equal(fw_load(img, size, (uint32_t)size, seed, &ld), PAL_FW_REJECT_GEOMETRY);

    setup_device();
    assert_int_equal(fw_load(img, size, 32, seed, &ld), PAL_FW_REJECT_TOTAL_LENGTH);
    setup_device();
    assert_int_equal(fw_load(img, size, (uint32_t)size + 8, seed, &ld), PAL_FW_REJECT_TOTAL_LENGTH);
    /* truncated stream: everything announced never arrives -> never complete */
    setup_device();
    assert_int_equal(fw_load(img, size - 8, (uint32_t)size - 8, seed, &ld), PAL_FW_REJECT_TOTAL_LENGTH);
    /* one byte more than announced */
    setup_device();
    assert_int_equal(fw_load(img, size, (uint32_t)size, seed, &ld), PAL_FW_REJECT_NONE);
    assert_true(pal_fw_loader_complete(&ld));
    uint8_t extra = 0;
    assert_int_equal(pal_fw_loader_feed(&ld, &extra, 1), PAL_FW_REJECT_TOTAL_LENGTH);
    free(img);
    fake_release();
}

/* A valid image: accepted by both validators, every section byte where the
 * host parser places it, the ACC section's NaR flags cleared, nothing else
 * touched (fw_image_diff.h). */
static void test_valid_image_placement(void **state)
{
    (void)state;
    uint64_t seed = pal_test_seed();
    for (int rep = 0; rep < 8; rep++) {
        size_t size = 0;
        uint8_t *img = fw_test_image(seed + (uint64_t)rep, &size);
        setup_device();
        char why[512];
        PAL_TEST_CHECK(seed, fw_image_diff(&device, img, size, seed * 31 + (uint64_t)rep, why, sizeof why, NULL) == 0,
                       "valid image %d: %s", rep, why);
        pal_fw_loader_t ld;
        uint32_t r = fw_load(img, size, (uint32_t)size, seed + (uint64_t)rep, &ld);
        PAL_TEST_CHECK(seed, r == 0 && pal_fw_loader_complete(&ld), "valid image rejected: %u/%u", r,
                       ld.detail);
        free(img);
    }
    fake_release();
}

/* Random mutations of a valid image, most of them in the header and the
 * tables and most re-sealed (so they get past the CRC): the firmware and the
 * host must reach the same verdict (fw_image_diff.h says where they may
 * differ), the firmware must never write outside a buffer or before its
 * tables pass, and an image both accept must land as the host says. The
 * same check as the fuzz target fuzz_fw_image.c, on a seeded stream. */
static void test_random_mutations_agree_with_host(void **state)
{
    (void)state;
    uint64_t seed = pal_test_seed();
    pal_test_rng_t rng;
    pal_test_rng_init(&rng, seed);
    setup_device();
    size_t size = 0;
    uint8_t *good = fw_test_image(seed, &size);
    uint8_t *img = malloc(size);
    assert_non_null(img);
    const size_t tables = bind_off(BIND_N);
    static const uint32_t interesting[] = {0,     1,      2,          3,          4,          8,
                                           16,    31,     32,         64,         255,        256,
                                           4095,  4096,   65535,      65536,      0x7FFFFFFFu, 0x80000000u,
                                           0xFFFFFFFFu, 0xFFFFFFF8u};
    const int iterations = 3000;
    int n_accepted = 0, n_rejected = 0;
    for (int it = 0; it < iterations; it++) {
        memcpy(img, good, size);
        int edits = 1 + (int)pal_test_rng_below(&rng, 3);
        for (int e = 0; e < edits; e++) {
            size_t off = pal_test_rng_below(&rng, 4) ? pal_test_rng_below(&rng, (uint32_t)tables)
                                                      : pal_test_rng_below(&rng, (uint32_t)size);
            switch (pal_test_rng_below(&rng, 4)) {
            case 0: img[off] = (uint8_t)pal_test_rng_u32(&rng); break;
            case 1: img[off] ^= (uint8_t)(1u << pal_test_rng_below(&rng, 8)); break;
            case 2: /* a small change of a 32-bit field */
                off &= ~(size_t)3;
                put32(img, off, get32(img, off) + (uint32_t)pal_test_rng_below(&rng, 9) - 4u);
                break;
            default:
                off &= ~(size_t)3;
                put32(img, off,
                      interesting[pal_test_rng_below(&rng, sizeof interesting / sizeof interesting[0])]);
                break;
            }
        }
        if (pal_test_rng_below(&rng, 8) != 0)
            pal_kernel_image_seal(img, size);
        char why[512];
        int accepted = 0;
        PAL_TEST_CHECK(seed, fw_image_diff(&device, img, size, seed ^ (uint64_t)it, why, sizeof why, &accepted) == 0,
                       "mutation %d: %s", it, why);
        if (accepted)
            n_accepted++;
        else
            n_rejected++;
    }
    /* the stream must reach both verdicts, or it checks little */
    PAL_TEST_CHECK(seed, n_accepted >= iterations / 50 && n_rejected >= iterations / 2,
                   "%d of %d mutations accepted, %d rejected", n_accepted, iterations, n_rejected);
    free(img);
    free(good);
    fake_release();
}

static void test_crc32(void **state)
{
    (void)state;
    const char *s = "123456789";
    uint32_t c = 0xFFFFFFFFu;
    for (int i = 0; i < 9; i++)
        c = pal_fw_crc32_update(c, (uint8_t)s[i]);
    assert_int_equal(~c, 0xCBF43926u);
    /* against the host's CRC on random data */
    pal_test_rng_t rng;
    pal_test_rng_init(&rng, pal_test_seed());
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)pal_test_rng_u32(&rng);
    c = 0xFFFFFFFFu;
    for (size_t i = 0; i < sizeof buf; i++)
        c = pal_fw_crc32_update(c, buf[i]);
    assert_int_equal(~c, pal_kernel_image_crc32(buf, sizeof buf));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_every_rejection),
        cmocka_unit_test(test_device_and_stream_rejections),
        cmocka_unit_test(test_valid_image_placement),
        cmocka_unit_test(test_random_mutations_agree_with_host),
    };
    return cmocka_run_group_tests_name("firmware_image", tests, NULL, NULL);
}
