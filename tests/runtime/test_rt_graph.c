/* Tensors, the graph IR and its shape inference, and .npy files. */
#include <math.h>

#include "rt_test_util.h"

/* FP32 -> PAL8-B32 -> FP32 through the tensor API equals the format's own
 * block functions row by row. */
static void test_tensor_pal8_b32(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  int64_t dims[3] = {2, 3, 45}; /* rows of 45: one full block and a tail */
  pal_tensor_t *x = rt_rand_tensor(&rng, 3, dims, 3.0), *b, *y;
  RT_OK(pal_tensor_to_pal8_b32(x, &b));
  assert_int_equal(pal_tensor_dtype(b), PAL_DTYPE_PAL8_B32);
  assert_int_equal(pal_tensor_rank(b), 3);
  const pal_b32_matrix_t *m = pal_tensor_b32(b);
  assert_non_null(m);
  assert_int_equal(m->rows, 6);
  assert_int_equal(m->cols, 45);
  RT_OK(pal_tensor_from_pal8_b32(b, &y));
  const float *xd = pal_tensor_cdata(x), *yd = pal_tensor_cdata(y);
  for (size_t r = 0; r < 6; r++)
    for (size_t blk = 0; blk < 2; blk++) {
      size_t n = blk ? 13 : 32;
      uint8_t codes[32], scale;
      float dec[32];
      pal_b32_encode_block(xd + r * 45 + blk * 32, n, codes, &scale);
      pal_b32_decode_block(codes, scale, n, dec);
      for (size_t i = 0; i < n; i++)
        PAL_TEST_CHECK(seed, pal_f32_bits(dec[i]) == pal_f32_bits(yd[r * 45 + blk * 32 + i]),
                       "row %zu element %zu", r, blk * 32 + i);
    }
  pal_tensor_release(x);
  pal_tensor_release(b);
  pal_tensor_release(y);
  int64_t bad[2] = {3, -1};
  pal_tensor_t *t;
  RT_ERR(pal_tensor_create(PAL_DTYPE_FP32, 2, bad, &t), "negative");
  int64_t huge[2] = {(int64_t)1 << 31, (int64_t)1 << 20};
  RT_ERR(pal_tensor_create(PAL_DTYPE_FP32, 2, huge, &t), "larger than");
}

static void expect_shape(const pal_graph_t *g, const char *name, int rank, const int64_t *dims) {
  pal_dtype_t dt;
  pal_shape_t s;
  if (!pal_graph_value_info(g, name, &dt, &s)) {
    print_error("value '%s' has no inferred type\n", name);
    fail();
  }
  if (s.rank != rank) {
    print_error("value '%s': rank %d, expected %d\n", name, s.rank, rank);
    fail();
  }
  for (int i = 0; i < rank; i++)
    if (s.dims[i] != dims[i]) {
      print_error("value '%s': dim %d is %lld, expected %lld\n", name, i, (long long)s.dims[i],
                  (long long)dims[i]);
      fail();
    }
}

static size_t add(pal_graph_t *g, const char *op, const char *name, const char *a, const char *b,
                  const char *out) {
  const char *in[2] = {a, b};
  const char *o[1] = {out};
  size_t node;
  RT_OK(pal_graph_add_node(g, op, name, b ? 2 : 1, in, 1, o, &node));
  return node;
}

/* A small CNN: the shapes follow the ONNX formulas
 * out = floor((in + pads - dilation*(k-1) - 1) / stride) + 1. Nodes are
 * added out of order to exercise the topological sort. */
static void test_shape_inference_cnn(void **state) {
  (void)state;
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, pal_test_seed());
  pal_graph_t *g;
  RT_OK(pal_graph_create("cnn", &g));
  pal_shape_t xs = {.rank = 4, .dims = {2, 3, 9, 9}};
  RT_OK(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, &xs));
  int64_t wd[4] = {4, 3, 3, 3}, fd[2] = {10, 64};
  RT_OK(pal_graph_add_initializer(g, "w", rt_rand_tensor(&rng, 4, wd, 0.2)));
  RT_OK(pal_graph_add_initializer(g, "fw", rt_rand_tensor(&rng, 2, fd, 0.1)));
  size_t sm = add(g, "Softmax", "sm", "logits", NULL, "probs");
  size_t gemm = add(g, "Gemm", "fc", "flat", "fw", "logits");
  RT_OK(pal_graph_set_attr_int(g, gemm, "transB", 1));
  add(g, "Flatten", "flatten", "pool", NULL, "flat");
  size_t pool = add(g, "MaxPool", "pool", "act", NULL, "pool");
  int64_t k2[2] = {2, 2};
  RT_OK(pal_graph_set_attr_ints(g, pool, "kernel_shape", 2, k2));
  RT_OK(pal_graph_set_attr_ints(g, pool, "strides", 2, k2));
  add(g, "Relu", "relu", "conv", NULL, "act");
  size_t conv = add(g, "Conv", "conv", "x", "w", "conv");
  int64_t pads[4] = {1, 1, 0, 0}, strides[2] = {1, 1};
  RT_OK(pal_graph_set_attr_ints(g, conv, "pads", 4, pads));
  RT_OK(pal_graph_set_attr_ints(g, conv, "strides", 2, strides));
  RT_OK(pal_graph_add_output(g, "probs"));
  RT_OK(pal_graph_finalize(g));
  (void)sm;
  /* conv: H = (9 + 1 + 0 - 2 - 1)/1 + 1 = 8; pool: (8 - 2)/2 + 1 = 4 */
  expect_shape(g, "conv", 4, (int64_t[]){2, 4, 8, 8});
  expect_shape(g, "pool", 4, (int64_t[]){2, 4, 4, 4});
  expect_shape(g, "flat", 2, (int64_t[]){2, 64});
  expect_shape(g, "probs", 2, (int64_t[]){2, 10});
  /* Sorted: conv first, softmax last. */
  assert_string_equal(pal_graph_node_op(g, 0), "Conv");
  assert_string_equal(pal_graph_node_op(g, pal_graph_node_count(g) - 1), "Softmax");
  pal_graph_release(g);
}

/* The dynamic-reshape idiom of exported models: Shape -> Gather ->
 * Unsqueeze -> Concat -> Reshape, folded to a known shape; Reshape's 0 and
 * -1; Transpose, Slice, Split, Squeeze, ReduceMean, comparisons. */
static void test_shape_inference_dynamic(void **state) {
  (void)state;
  pal_graph_t *g;
  RT_OK(pal_graph_create("dyn", &g));
  pal_shape_t xs = {.rank = 3, .dims = {6, 4, 5}};
  RT_OK(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, &xs));
  pal_tensor_t *t;
  int64_t one = 1, zero[1] = {0}, minus1[1] = {-1}, r0 = 0;
  RT_OK(pal_tensor_create_from(PAL_DTYPE_INT64, 0, NULL, &r0, &t));
  RT_OK(pal_graph_add_initializer(g, "i0", t));
  RT_OK(pal_tensor_create_from(PAL_DTYPE_INT64, 1, &one, zero, &t));
  RT_OK(pal_graph_add_initializer(g, "ax0", t));
  RT_OK(pal_tensor_create_from(PAL_DTYPE_INT64, 1, &one, minus1, &t));
  RT_OK(pal_graph_add_initializer(g, "m1", t));
  add(g, "Shape", "shape", "x", NULL, "shp");
  add(g, "Gather", "gather", "shp", "i0", "batch");
  add(g, "Unsqueeze", "unsq", "batch", "ax0", "batch1");
  const char *cin[2] = {"batch1", "m1"};
  const char *cout[1] = {"newshape"};
  size_t cat;
  RT_OK(pal_graph_add_node(g, "Concat", "concat", 2, cin, 1, cout, &cat));
  RT_OK(pal_graph_set_attr_int(g, cat, "axis", 0));
  add(g, "Reshape", "reshape", "x", "newshape", "flat");
  size_t tr = add(g, "Transpose", "tr", "x", NULL, "xt");
  int64_t perm[3] = {2, 0, 1};
  RT_OK(pal_graph_set_attr_ints(g, tr, "perm", 3, perm));
  size_t rm = add(g, "ReduceMean", "rm", "x", NULL, "mean");
  int64_t axes[1] = {1};
  RT_OK(pal_graph_set_attr_ints(g, rm, "axes", 1, axes));
  RT_OK(pal_graph_set_attr_int(g, rm, "keepdims", 0));
  add(g, "Greater", "gt", "x", "mean3", "mask");
  add(g, "Unsqueeze", "unsq2", "mean", "ax1", "mean3");
  int64_t a1[1] = {1};
  RT_OK(pal_tensor_create_from(PAL_DTYPE_INT64, 1, &one, a1, &t));
  RT_OK(pal_graph_add_initializer(g, "ax1", t));
  RT_OK(pal_graph_add_output(g, "flat"));
  RT_OK(pal_graph_add_output(g, "xt"));
  RT_OK(pal_graph_add_output(g, "mask"));
  RT_OK(pal_graph_finalize(g));
  expect_shape(g, "shp", 1, (int64_t[]){3});
  expect_shape(g, "batch", 0, NULL);
  expect_shape(g, "newshape", 1, (int64_t[]){2});
  expect_shape(g, "flat", 2, (int64_t[]){6, 20});
  expect_shape(g, "xt", 3, (int64_t[]){5, 6, 4});
  expect_shape(g, "mean", 2, (int64_t[]){6, 5});
  expect_shape(g, "mask", 3, (int64_t[]){6, 4, 5});
  pal_dtype_t dt;
  assert_true(pal_graph_value_info(g, "mask", &dt, NULL));
  assert_int_equal(dt, PAL_DTYPE_BOOL);

  /* The same graph runs on the cpu provider, and the reshape is right. */
  pal_session_options_t o;
  pal_session_options_initialize(&o);
  o.providers = "cpu";
  pal_session_t *s;
  RT_OK(pal_session_create(g, &o, &s));
  int64_t xd[3] = {6, 4, 5};
  pal_tensor_t *x;
  RT_OK(pal_tensor_create(PAL_DTYPE_FP32, 3, xd, &x));
  for (size_t i = 0; i < 120; i++) ((float *)pal_tensor_data(x))[i] = (float)i;
  pal_tensor_t *out[3];
  RT_OK(pal_session_run(s, 1, (const pal_tensor_t *const *)&x, 3, out));
  assert_int_equal(pal_tensor_rank(out[0]), 2);
  assert_int_equal(pal_tensor_dims(out[0])[1], 20);
  /* xt[c][n][h] = x[n][h][c] */
  const float *xt = pal_tensor_cdata(out[1]);
  assert_true(xt[(2 * 6 + 3) * 4 + 1] == (float)(3 * 20 + 1 * 5 + 2));
  /* mask: x > mean over h; x[n][h][c] = 20n + 5h + c, mean over h = 20n + 7.5 + c */
  const uint8_t *mask = pal_tensor_cdata(out[2]);
  for (size_t i = 0; i < 120; i++) assert_int_equal(mask[i], (i / 5) % 4 >= 2);
  for (int i = 0; i < 3; i++) pal_tensor_release(out[i]);
  pal_tensor_release(x);
  pal_session_release(s);
  pal_graph_release(g);
}

static void test_graph_errors(void **state) {
  (void)state;
  pal_graph_t *g;
  /* A cycle. */
  RT_OK(pal_graph_create("cyc", &g));
  RT_OK(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, NULL));
  add(g, "Add", "a1", "x", "b", "a");
  add(g, "Relu", "r1", "a", NULL, "b");
  RT_OK(pal_graph_add_output(g, "b"));
  RT_ERR(pal_graph_finalize(g), "cycle");
  pal_graph_release(g);
  /* A missing initializer names the node and the value. */
  RT_OK(pal_graph_create("miss", &g));
  RT_OK(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, NULL));
  add(g, "MatMul", "mm", "x", "weights", "y");
  RT_OK(pal_graph_add_output(g, "y"));
  RT_ERR(pal_graph_finalize(g), "'weights'");
  pal_graph_release(g);
  /* An unknown op. */
  RT_OK(pal_graph_create("unk", &g));
  RT_OK(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, NULL));
  add(g, "FrobnicateOp", "frob", "x", NULL, "y");
  RT_OK(pal_graph_add_output(g, "y"));
  RT_ERR(pal_graph_finalize(g), "FrobnicateOp");
  pal_graph_release(g);
  /* Shapes that contradict the op: the message names the node. */
  RT_OK(pal_graph_create("bad", &g));
  pal_shape_t a = {.rank = 2, .dims = {2, 3}}, b = {.rank = 2, .dims = {4, 5}};
  RT_OK(pal_graph_add_input(g, "a", PAL_DTYPE_FP32, &a));
  RT_OK(pal_graph_add_input(g, "b", PAL_DTYPE_FP32, &b));
  add(g, "MatMul", "badmm", "a", "b", "y");
  RT_OK(pal_graph_add_output(g, "y"));
  RT_ERR(pal_graph_finalize(g), "badmm");
  pal_graph_release(g);
  /* An output produced twice. */
  RT_OK(pal_graph_create("twice", &g));
  RT_OK(pal_graph_add_input(g, "x", PAL_DTYPE_FP32, NULL));
  add(g, "Relu", "r1", "x", NULL, "y");
  add(g, "Relu", "r2", "x", NULL, "y");
  RT_OK(pal_graph_add_output(g, "y"));
  RT_ERR(pal_graph_finalize(g), "already produced");
  pal_graph_release(g);
}

/* ---- .npy ----------------------------------------------------------------- */

static void npy_bytes(const char *header, const void *data, size_t n, uint8_t *out, size_t *out_n) {
  size_t hl = strlen(header);
  memcpy(out, "\x93NUMPY\x01\x00", 8);
  out[8] = (uint8_t)(hl & 0xff);
  out[9] = (uint8_t)(hl >> 8);
  memcpy(out + 10, header, hl);
  memcpy(out + 10 + hl, data, n);
  *out_n = 10 + hl + n;
}

static void test_npy_roundtrip(void **state) {
  (void)state;
  char dir[256], path[300];
  rt_mkdtemp(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/a.npy", dir);
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, pal_test_seed());
  struct {
    pal_dtype_t dt;
    size_t rank;
    int64_t dims[3];
  } cases[] = {{PAL_DTYPE_FP32, 3, {2, 3, 4}}, {PAL_DTYPE_FP32, 0, {0}}, {PAL_DTYPE_INT64, 1, {7}},
               {PAL_DTYPE_BOOL, 2, {3, 5}},     {PAL_DTYPE_FP32, 2, {0, 4}}, {PAL_DTYPE_INT32, 1, {1}}};
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
    pal_tensor_t *t, *back;
    RT_OK(pal_tensor_create(cases[c].dt, cases[c].rank, cases[c].dims, &t));
    uint8_t *raw = pal_tensor_data(t);
    for (size_t i = 0; i < pal_tensor_nbytes(t); i++) raw[i] = (uint8_t)pal_test_rng_u32(&rng);
    if (cases[c].dt == PAL_DTYPE_BOOL)
      for (size_t i = 0; i < pal_tensor_count(t); i++) raw[i] &= 1;
    RT_OK(pal_npy_write(path, t));
    RT_OK(pal_npy_read(path, &back));
    assert_int_equal(pal_tensor_dtype(back), cases[c].dt);
    assert_int_equal(pal_tensor_rank(back), cases[c].rank);
    assert_memory_equal(pal_tensor_dims(back), cases[c].dims, cases[c].rank * sizeof(int64_t));
    if (pal_tensor_nbytes(t)) assert_memory_equal(pal_tensor_cdata(back), raw, pal_tensor_nbytes(t));
    /* NumPy's layout: the data starts at a multiple of 64. */
    FILE *f = fopen(path, "rb");
    uint8_t head[10];
    assert_int_equal(fread(head, 1, 10, f), 10);
    fclose(f);
    assert_int_equal((10 + head[8] + 256 * head[9]) % 64, 0);
    pal_tensor_release(t);
    pal_tensor_release(back);
  }
  /* A file as NumPy 1.x writes it, and format 2.0. */
  float v[6] = {1, 2, 3, 4, 5, 6};
  uint8_t buf[256];
  size_t n;
  npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n", v, sizeof v,
            buf, &n);
  pal_tensor_t *t;
  RT_OK(pal_npy_parse(buf, n, "numpy.npy", &t));
  assert_int_equal(pal_tensor_dims(t)[1], 3);
  assert_true(((const float *)pal_tensor_cdata(t))[5] == 6.0f);
  pal_tensor_release(t);
  uint8_t v2[256];
  const char *h2 = "{'shape': (6,), 'fortran_order': False, 'descr': '<f4'}\n";
  memcpy(v2, "\x93NUMPY\x02\x00", 8);
  size_t hl = strlen(h2);
  v2[8] = (uint8_t)hl, v2[9] = 0, v2[10] = 0, v2[11] = 0;
  memcpy(v2 + 12, h2, hl);
  memcpy(v2 + 12 + hl, v, sizeof v);
  RT_OK(pal_npy_parse(v2, 12 + hl + sizeof v, "v2.npy", &t));
  assert_int_equal(pal_tensor_count(t), 6);
  pal_tensor_release(t);
  rt_rmdir(dir);
}

static void test_npy_malformed(void **state) {
  (void)state;
  float v[6] = {0};
  uint8_t buf[512];
  size_t n;
  pal_tensor_t *t;
  static const struct {
    const char *header;
    size_t data;
    const char *needle;
  } bad[] = {
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }\n", 24, "'>f4'"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n", 24, "'<f8'"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", 24, "fortran_order"},
      {"{'descr': '<f4', 'fortran_order': False, }\n", 24, "'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n", 24, "'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }\n", 24, "28"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}\n", 24, "'x'"},
      {"['descr', '<f4']\n", 24, "dict"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }\n", 24,
       "too large"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,2,3,4,5,6,7,8,9), }\n", 24, "dims"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (6, }\n", 24, "'shape'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    npy_bytes(bad[i].header, v, bad[i].data, buf, &n);
    RT_ERR(pal_npy_parse(buf, n, "bad.npy", &t), bad[i].needle);
  }
  RT_ERR(pal_npy_parse("NOTNUMPY00", 10, "m.npy", &t), "magic");
  npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }\n", v, 24, buf, &n);
  buf[6] = 9;
  RT_ERR(pal_npy_parse(buf, n, "v9.npy", &t), "version 9");
  buf[6] = 1;
  buf[8] = 0xff, buf[9] = 0x7f; /* header longer than the file */
  RT_ERR(pal_npy_parse(buf, n, "long.npy", &t), "header length");
  /* Every truncation of a good file fails cleanly. */
  npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }\n", v, 24, buf, &n);
  for (size_t cut = 0; cut < n; cut++) {
    pal_status_t st = pal_npy_parse(buf, cut, "cut.npy", &t);
    assert_non_null(st);
    pal_status_free(st);
  }
  RT_ERR(pal_npy_read("/nonexistent-dir/x.npy", &t), "x.npy");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tensor_pal8_b32),     cmocka_unit_test(test_shape_inference_cnn),
      cmocka_unit_test(test_shape_inference_dynamic), cmocka_unit_test(test_graph_errors),
      cmocka_unit_test(test_npy_roundtrip),       cmocka_unit_test(test_npy_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
