/* IDX reader and Fashion-MNIST loader: good files (plain and gzip) read
 * back exactly what was written; malformed ones (truncated, bad magic,
 * wrong dimensions, bad labels, damaged gzip) fail with a status that
 * names the file and never crash. Files are synthesised in a temp folder. */
#include <unistd.h>
#include <zlib.h>

#include "pal_test.h"
#include "pal_train.h"

/* ---- helpers ------------------------------------------------------------------ */

typedef struct tmpdir {
  char path[256];
} tmpdir_t;

static void tmpdir_make(tmpdir_t *t) {
  const char *base = getenv("TMPDIR");
  snprintf(t->path, sizeof t->path, "%s/pal-train-idx-XXXXXX", base && *base ? base : "/tmp");
  assert_non_null(mkdtemp(t->path));
}

static void tmpdir_remove(tmpdir_t *t) {
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->path);
  assert_int_equal(system(cmd), 0);
}

/* An IDX image of u8 elements: header for `rank` dims, then `count` bytes
 * from a seeded stream (count may differ from the dims' product). */
static uint8_t *make_idx(const uint32_t *dims, size_t rank, size_t count, uint64_t seed, size_t *out_size) {
  size_t size = 4 + 4 * rank + count;
  uint8_t *p = malloc(size);
  assert_non_null(p);
  p[0] = 0;
  p[1] = 0;
  p[2] = PAL_IDX_TYPE_U8;
  p[3] = (uint8_t)rank;
  for (size_t i = 0; i < rank; i++) {
    p[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
    p[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
    p[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
    p[7 + 4 * i] = (uint8_t)dims[i];
  }
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  for (size_t i = 0; i < count; i++) p[4 + 4 * rank + i] = (uint8_t)pal_test_rng_u32(&rng);
  *out_size = size;
  return p;
}

static void write_file(const char *path, const void *data, size_t size, bool gz) {
  if (gz) {
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, data, (unsigned)size), (int)size);
    assert_int_equal(gzclose(f), Z_OK);
  } else {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
  }
}

/* Expects an error of `code` whose message contains `what`. */
static void expect_error(pal_status_t st, pal_status_code_t code, const char *what) {
  assert_non_null(st);
  if (pal_status_code(st) != code || !strstr(pal_status_message(st), what)) {
    print_error("expected %s mentioning '%s', got %s: %s\n", pal_status_code_name(code), what,
                pal_status_code_name(pal_status_code(st)), pal_status_message(st));
    pal_status_free(st);
    fail();
  }
  pal_status_free(st);
}

/* ---- parser ------------------------------------------------------------------- */

static void test_parse_good(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  const uint32_t dims[3] = {7, 5, 3};
  size_t size;
  uint8_t *p = make_idx(dims, 3, 105, seed, &size);
  pal_idx_t idx;
  pal_status_t st = pal_idx_parse(p, size, "mem", &idx);
  assert_null(st);
  assert_int_equal(idx.rank, 3);
  assert_int_equal(idx.dims[0], 7);
  assert_int_equal(idx.dims[1], 5);
  assert_int_equal(idx.dims[2], 3);
  assert_int_equal(idx.count, 105);
  assert_memory_equal(idx.data, p + 16, 105);
  pal_idx_release(&idx);
  assert_null(idx.data);
  free(p);
}

static void test_parse_malformed(void **state) {
  (void)state;
  const uint32_t dims[2] = {10, 4};
  size_t size;
  uint8_t *p = make_idx(dims, 2, 40, 1, &size);
  pal_idx_t idx;
  /* Every truncation of a good file fails: header or data. */
  for (size_t cut = 0; cut < size; cut++) {
    pal_status_t st = pal_idx_parse(p, cut, "cut.idx", &idx);
    expect_error(st, PAL_DATA_LOSS, "cut.idx");
    assert_null(idx.data);
  }
  uint8_t *q = malloc(size);
  assert_non_null(q);
  /* Bad magic. */
  memcpy(q, p, size);
  q[0] = 0x1f;
  expect_error(pal_idx_parse(q, size, "magic.idx", &idx), PAL_INVALID_ARGUMENT, "magic.idx: bad IDX magic");
  memcpy(q, p, size);
  q[1] = 0x08;
  expect_error(pal_idx_parse(q, size, "magic.idx", &idx), PAL_INVALID_ARGUMENT, "bad IDX magic");
  /* Element types other than u8. */
  memcpy(q, p, size);
  q[2] = 0x0D; /* float */
  expect_error(pal_idx_parse(q, size, "type.idx", &idx), PAL_UNIMPLEMENTED, "type 0x0d");
  /* Rank 0 and too large a rank. */
  memcpy(q, p, size);
  q[3] = 0;
  expect_error(pal_idx_parse(q, size, "rank.idx", &idx), PAL_INVALID_ARGUMENT, "rank 0");
  memcpy(q, p, size);
  q[3] = 9;
  expect_error(pal_idx_parse(q, size, "rank.idx", &idx), PAL_INVALID_ARGUMENT, "rank 9");
  /* Dimensions that disagree with the data: too many elements promised,
   * too few (trailing bytes), a zero dimension. */
  memcpy(q, p, size);
  q[7] = 11;
  expect_error(pal_idx_parse(q, size, "dims.idx", &idx), PAL_DATA_LOSS, "truncated");
  memcpy(q, p, size);
  q[7] = 9;
  expect_error(pal_idx_parse(q, size, "dims.idx", &idx), PAL_INVALID_ARGUMENT, "dimensions do not match");
  memcpy(q, p, size);
  q[11] = 0;
  expect_error(pal_idx_parse(q, size, "dims.idx", &idx), PAL_INVALID_ARGUMENT, "dimension 1 is zero");
  /* Dimensions whose product overflows, and a 4 GiB promise on a tiny file. */
  const uint32_t huge[4] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 2};
  size_t hsize;
  uint8_t *h = make_idx(huge, 4, 3, 1, &hsize);
  pal_status_t st = pal_idx_parse(h, hsize, "huge.idx", &idx);
  assert_non_null(st);
  assert_non_null(strstr(pal_status_message(st), "huge.idx"));
  pal_status_free(st);
  free(h);
  const uint32_t big[1] = {0xFFFFFFFFu};
  h = make_idx(big, 1, 3, 1, &hsize);
  expect_error(pal_idx_parse(h, hsize, "big.idx", &idx), PAL_DATA_LOSS, "truncated");
  free(h);
  free(q);
  free(p);
}

/* Random bytes never crash the parser and never pass with wrong sizes. */
static void test_parse_random(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  uint8_t buf[64];
  for (int it = 0; it < 20000; it++) {
    size_t n = pal_test_rng_below(&rng, sizeof buf + 1);
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)pal_test_rng_u32(&rng);
    if (n >= 4 && pal_test_rng_below(&rng, 2)) { /* often a plausible header */
      buf[0] = buf[1] = 0;
      buf[2] = PAL_IDX_TYPE_U8;
      buf[3] = (uint8_t)(1 + pal_test_rng_below(&rng, 4));
      for (size_t i = 4; i < n && i < 4 + 4u * buf[3]; i++)
        if ((i & 3) != 3) buf[i] = 0;
    }
    pal_idx_t idx;
    pal_status_t st = pal_idx_parse(buf, n, "rnd", &idx);
    if (st) {
      pal_status_free(st);
      continue;
    }
    size_t prod = 1;
    for (size_t i = 0; i < idx.rank; i++) prod *= idx.dims[i];
    PAL_TEST_CHECK(seed, prod == idx.count && 4 + 4 * idx.rank + idx.count == n,
                   "accepted %zu bytes with rank %zu and %zu elements", n, idx.rank, idx.count);
    pal_idx_release(&idx);
  }
}

/* ---- files -------------------------------------------------------------------- */

static void test_read_files(void **state) {
  (void)state;
  tmpdir_t t;
  tmpdir_make(&t);
  const uint32_t dims[3] = {3, 28, 28};
  size_t size;
  uint8_t *p = make_idx(dims, 3, 3 * 784, 7, &size);
  char path[400];
  for (int gz = 0; gz < 2; gz++) {
    snprintf(path, sizeof path, "%s/a.idx%s", t.path, gz ? ".gz" : "");
    write_file(path, p, size, gz);
    pal_idx_t idx;
    assert_null(pal_idx_read(path, &idx));
    assert_int_equal(idx.count, 3 * 784);
    assert_memory_equal(idx.data, p + 16, 3 * 784);
    pal_idx_release(&idx);
  }
  /* A gzip file cut short: the stream is damaged, the error names the file. */
  snprintf(path, sizeof path, "%s/a.idx.gz", t.path);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  uint8_t gzbuf[8192];
  size_t gzlen = fread(gzbuf, 1, sizeof gzbuf, f);
  fclose(f);
  assert_true(gzlen > 40 && gzlen < sizeof gzbuf);
  snprintf(path, sizeof path, "%s/cut.idx.gz", t.path);
  write_file(path, gzbuf, gzlen / 2, false);
  pal_idx_t idx;
  pal_status_t st = pal_idx_read(path, &idx);
  assert_non_null(st);
  assert_int_equal(pal_status_code(st), PAL_DATA_LOSS);
  assert_non_null(strstr(pal_status_message(st), "cut.idx.gz"));
  pal_status_free(st);
  /* A missing file. */
  snprintf(path, sizeof path, "%s/none.idx", t.path);
  expect_error(pal_idx_read(path, &idx), PAL_NOT_FOUND, "none.idx");
  free(p);
  tmpdir_remove(&t);
}

/* Writes a PREFIX-images / PREFIX-labels pair with the given shapes. */
static void write_set(const char *dir, const char *prefix, const uint32_t *img_dims, size_t img_rank,
                      uint32_t n_labels, uint8_t bad_label_at, bool gz) {
  char path[400];
  size_t size, count = 1;
  for (size_t i = 0; i < img_rank; i++) count *= img_dims[i];
  uint8_t *p = make_idx(img_dims, img_rank, count, 3, &size);
  snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
  write_file(path, p, size, gz);
  free(p);
  const uint32_t ld[1] = {n_labels};
  p = make_idx(ld, 1, n_labels, 4, &size);
  for (size_t i = 0; i < n_labels; i++) p[8 + i] %= 10;
  if (bad_label_at < n_labels) p[8 + bad_label_at] = 10;
  snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
  write_file(path, p, size, gz);
  free(p);
}

static void test_mnist_load(void **state) {
  (void)state;
  tmpdir_t t;
  tmpdir_make(&t);
  const uint32_t good[3] = {5, 28, 28};
  write_set(t.path, "good", good, 3, 5, 255, true);
  pal_mnist_set_t set;
  assert_null(pal_mnist_load(t.path, "good", 0, &set));
  assert_int_equal(set.n, 5);
  /* Pixels scaled to [0, 1] from the bytes of the file. */
  size_t size;
  uint8_t *p = make_idx(good, 3, 5 * 784, 3, &size);
  for (size_t i = 0; i < 5 * 784; i++) assert_true(set.images[i] == p[16 + i] / 255.0f);
  for (size_t i = 0; i < 5; i++) assert_true(set.labels[i] < 10);
  free(p);
  pal_mnist_release(&set);
  assert_null(pal_mnist_load(t.path, "good", 2, &set));
  assert_int_equal(set.n, 2);
  pal_mnist_release(&set);

  /* Plain (not gzip) files are found too. */
  write_set(t.path, "plain", good, 3, 5, 255, false);
  assert_null(pal_mnist_load(t.path, "plain", 0, &set));
  pal_mnist_release(&set);

  const uint32_t wrong_hw[3] = {5, 28, 27};
  write_set(t.path, "hw", wrong_hw, 3, 5, 255, true);
  expect_error(pal_mnist_load(t.path, "hw", 0, &set), PAL_INVALID_ARGUMENT, "hw-images-idx3-ubyte.gz: images must be");
  const uint32_t rank2[2] = {5, 784};
  write_set(t.path, "r2", rank2, 2, 5, 255, true);
  expect_error(pal_mnist_load(t.path, "r2", 0, &set), PAL_INVALID_ARGUMENT, "r2-images");
  write_set(t.path, "count", good, 3, 4, 255, true);
  expect_error(pal_mnist_load(t.path, "count", 0, &set), PAL_INVALID_ARGUMENT, "count-labels-idx1-ubyte.gz holds 4 labels");
  write_set(t.path, "label", good, 3, 5, 2, true);
  expect_error(pal_mnist_load(t.path, "label", 0, &set), PAL_INVALID_ARGUMENT, "label 2 is 10");
  expect_error(pal_mnist_load(t.path, "absent", 0, &set), PAL_NOT_FOUND, "absent-images-idx3-ubyte");
  assert_null(set.images);
  tmpdir_remove(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_good),  cmocka_unit_test(test_parse_malformed),
      cmocka_unit_test(test_parse_random), cmocka_unit_test(test_read_files),
      cmocka_unit_test(test_mnist_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
