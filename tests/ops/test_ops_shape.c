/* Data-movement kernels (Transpose, Concat, Split, Slice, Gather) on
 * several element sizes against index-by-index references, Slice against
 * Python's slice.indices algorithm, and the shape helpers (element count
 * overflow, broadcast, axis normalisation). */
#include "ops_test_util.h"

static const size_t kSizes[] = {1, 2, 4, 8, 3};

static uint8_t *rand_bytes(pal_test_rng_t *r, int64_t n) {
  uint8_t *p = malloc((size_t)n + 1);
  for (int64_t i = 0; i < n; i++) p[i] = (uint8_t)pal_test_rng_u32(r);
  return p;
}

static void test_transpose(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 21);
  for (int iter = 0; iter < 300; iter++) {
    pal_shape_t s = ot_rand_shape(&r, 0, 6, 4, 15);
    size_t es = kSizes[pal_test_rng_below(&r, 5)];
    int64_t perm[PAL_MAX_RANK];
    for (int i = 0; i < s.rank; i++) perm[i] = i;
    for (int i = s.rank - 1; i > 0; i--) {
      int j = (int)pal_test_rng_below(&r, (uint32_t)i + 1);
      int64_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
    int use_default = pal_test_rng_below(&r, 5) == 0;
    if (use_default)
      for (int i = 0; i < s.rank; i++) perm[i] = s.rank - 1 - i;
    int64_t n = ot_numel(&s);
    uint8_t *x = rand_bytes(&r, n * (int64_t)es), *y = malloc((size_t)n * es + 1);
    pal_shape_t os;
    OT_OK(seed, pal_op_transpose_infer(&s, use_default ? NULL : perm, &os));
    OT_OK(seed, pal_op_transpose(x, &s, es, use_default ? NULL : perm, y));
    int64_t oidx[PAL_MAX_RANK], iidx[PAL_MAX_RANK];
    for (int i = 0; i < s.rank; i++)
      PAL_TEST_CHECK(seed, os.dims[i] == s.dims[perm[i]], "iter %d: out dim %d", iter, i);
    for (int64_t i = 0; i < n; i++) {
      ot_unravel(&os, i, oidx);
      for (int d = 0; d < s.rank; d++) iidx[perm[d]] = oidx[d];
      int64_t off = 0;
      for (int d = 0; d < s.rank; d++) off = off * s.dims[d] + iidx[d];
      PAL_TEST_CHECK(seed, memcmp(y + i * (int64_t)es, x + off * (int64_t)es, es) == 0,
                     "iter %d: Transpose element %lld", iter, (long long)i);
    }
    free(x); free(y);
  }
  pal_shape_t s = ot_shape(3, (int64_t[]){2, 3, 4});
  float x[24], y[24];
  OT_ERR(seed, pal_op_transpose(x, &s, 4, (int64_t[]){0, 1, 1}, y), PAL_INVALID_ARGUMENT, "Transpose", "perm", "repeated");
  OT_ERR(seed, pal_op_transpose(x, &s, 4, (int64_t[]){0, 3, 1}, y), PAL_INVALID_ARGUMENT, "Transpose", "perm", "3");
  OT_ERR(seed, pal_op_transpose(x, &s, 0, NULL, y), PAL_INVALID_ARGUMENT, "Transpose", "elem_size");
}

static void test_concat_split(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 22);
  for (int iter = 0; iter < 300; iter++) {
    pal_shape_t base = ot_rand_shape(&r, 1, 5, 4, 0);
    int ax = (int)pal_test_rng_below(&r, (uint32_t)base.rank);
    int64_t axis = pal_test_rng_below(&r, 2) ? ax : ax - base.rank;
    int n = 1 + (int)pal_test_rng_below(&r, 4);
    size_t es = kSizes[pal_test_rng_below(&r, 5)];
    pal_shape_t shapes[4];
    int64_t sizes[4], total = 0;
    const void *ins[4];
    uint8_t *bufs[4];
    for (int k = 0; k < n; k++) {
      shapes[k] = base;
      shapes[k].dims[ax] = sizes[k] = pal_test_rng_below(&r, 4); /* 0 allowed */
      total += sizes[k];
      bufs[k] = rand_bytes(&r, ot_numel(&shapes[k]) * (int64_t)es);
      ins[k] = bufs[k];
    }
    pal_shape_t os;
    OT_OK(seed, pal_op_concat_infer(shapes, n, axis, &os));
    PAL_TEST_CHECK(seed, os.dims[ax] == total, "Concat axis length");
    int64_t no = ot_numel(&os);
    uint8_t *y = malloc((size_t)no * es + 1);
    OT_OK(seed, pal_op_concat(ins, shapes, n, axis, es, y));
    int64_t idx[PAL_MAX_RANK];
    for (int64_t i = 0; i < no; i++) {
      ot_unravel(&os, i, idx);
      int k = 0;
      int64_t pos = idx[ax];
      while (pos >= sizes[k]) pos -= sizes[k++];
      idx[ax] = pos;
      int64_t off = 0;
      for (int d = 0; d < os.rank; d++) off = off * shapes[k].dims[d] + idx[d];
      PAL_TEST_CHECK(seed, memcmp(y + i * (int64_t)es, bufs[k] + off * (int64_t)es, es) == 0,
                     "iter %d: Concat element %lld", iter, (long long)i);
    }
    /* Split with the same sizes gives the inputs back */
    uint8_t *outs[4];
    void *outp[4];
    for (int k = 0; k < n; k++) outp[k] = outs[k] = malloc((size_t)ot_numel(&shapes[k]) * es + 1);
    pal_shape_t ss[4];
    OT_OK(seed, pal_op_split_infer(&os, axis, sizes, n, ss));
    OT_OK(seed, pal_op_split(y, &os, es, axis, sizes, n, outp));
    for (int k = 0; k < n; k++) {
      PAL_TEST_CHECK(seed, pal_shape_equal(&ss[k], &shapes[k]), "Split shape %d", k);
      PAL_TEST_CHECK(seed, memcmp(outs[k], bufs[k], (size_t)(ot_numel(&shapes[k]) * (int64_t)es)) == 0,
                     "iter %d: Split part %d differs from the Concat input", iter, k);
    }
    /* Split without sizes: ceil(d/n) each, remainder last */
    int64_t d = os.dims[ax], part = (d + n - 1) / n, left = d;
    OT_OK(seed, pal_op_split_infer(&os, axis, NULL, n, ss));
    for (int k = 0; k < n; k++) {
      int64_t want = left < part ? left : part;
      left -= want;
      PAL_TEST_CHECK(seed, ss[k].dims[ax] == want, "equal split part %d: %lld, want %lld", k,
                     (long long)ss[k].dims[ax], (long long)want);
    }
    for (int k = 0; k < n; k++) { free(bufs[k]); free(outs[k]); }
    free(y);
  }
  pal_shape_t a = ot_shape(2, (int64_t[]){2, 3}), b = ot_shape(2, (int64_t[]){3, 3}), sh[2] = {a, b};
  float x[18], y[18];
  const void *ins[2] = {x, x};
  OT_ERR(seed, pal_op_concat(ins, sh, 2, 1, 4, y), PAL_INVALID_ARGUMENT, "Concat", "input 1", "[3,3]");
  OT_ERR(seed, pal_op_concat(ins, sh, 2, 2, 4, y), PAL_INVALID_ARGUMENT, "Concat", "axis");
  void *outs[2] = {y, y + 9};
  OT_ERR(seed, pal_op_split(x, &a, 4, 1, (int64_t[]){1, 1}, 2, outs), PAL_INVALID_ARGUMENT, "Split", "sum");
  OT_ERR(seed, pal_op_split(x, &a, 4, -3, NULL, 2, outs), PAL_INVALID_ARGUMENT, "Split", "axis");
}

/* ONNX Slice by membership, straight from the spec text: negative start
 * and end count from the end; start clamps to [0, d] (positive step) or
 * [0, d-1] (negative step), end to [0, d] or [-1, d-1]; index i is taken
 * when it lies in the half-open range and is a whole number of steps from
 * start. (This differs from numpy/Python slicing in one corner: a start
 * still negative after adding d, with a negative step, clamps to 0 here but
 * gives an empty slice in Python; ONNX Runtime follows the spec text.) */
static int64_t onnx_slice(int64_t d, int64_t s, int64_t e, int64_t st, int64_t *out) {
  if (s < 0) s += d;
  if (e < 0) e += d;
  if (st > 0) {
    s = s < 0 ? 0 : s > d ? d : s;
    e = e < 0 ? 0 : e > d ? d : e;
  } else {
    s = s < 0 ? 0 : s > d - 1 ? d - 1 : s;
    e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
  }
  int64_t n = 0;
  if (st > 0) {
    for (int64_t i = 0; i < d; i++)
      if (i >= s && i < e && (i - s) % st == 0) out[n++] = i;
  } else {
    for (int64_t i = d - 1; i >= 0; i--)
      if (i <= s && i > e && (s - i) % -st == 0 /* st > INT64_MIN here */) out[n++] = i;
  }
  return n;
}

static void test_slice(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 23);
  static const int64_t extreme[] = {INT64_MAX, INT64_MIN, -1000, 1000};
  for (int iter = 0; iter < 400; iter++) {
    pal_shape_t s = ot_rand_shape(&r, 1, 5, 6, 15);
    size_t es = kSizes[pal_test_rng_below(&r, 5)];
    int n = (int)pal_test_rng_below(&r, (uint32_t)s.rank + 1);
    int64_t starts[PAL_MAX_RANK], ends[PAL_MAX_RANK], axes[PAL_MAX_RANK], steps[PAL_MAX_RANK];
    int perm[PAL_MAX_RANK];
    for (int i = 0; i < s.rank; i++) perm[i] = i;
    for (int i = s.rank - 1; i > 0; i--) {
      int j = (int)pal_test_rng_below(&r, (uint32_t)i + 1);
      int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
    int use_axes = pal_test_rng_below(&r, 4) != 0, use_steps = pal_test_rng_below(&r, 4) != 0;
    int64_t lists[PAL_MAX_RANK][8], counts[PAL_MAX_RANK];
    for (int d = 0; d < s.rank; d++) {
      counts[d] = s.dims[d];
      for (int64_t i = 0; i < s.dims[d]; i++) lists[d][i] = i;
    }
    for (int k = 0; k < n; k++) {
      int ax = use_axes ? perm[k] : k;
      axes[k] = pal_test_rng_below(&r, 2) ? ax : ax - s.rank;
      int64_t d = s.dims[ax];
      starts[k] = (int64_t)pal_test_rng_below(&r, (uint32_t)(2 * d + 5)) - d - 2;
      ends[k] = (int64_t)pal_test_rng_below(&r, (uint32_t)(2 * d + 5)) - d - 2;
      if (pal_test_rng_below(&r, 6) == 0) starts[k] = extreme[pal_test_rng_below(&r, 4)];
      if (pal_test_rng_below(&r, 6) == 0) ends[k] = extreme[pal_test_rng_below(&r, 4)];
      steps[k] = use_steps ? (int64_t)pal_test_rng_below(&r, 7) - 3 : 1;
      if (steps[k] == 0) steps[k] = pal_test_rng_below(&r, 8) == 0 ? INT64_MAX : 1;
      if (use_steps && pal_test_rng_below(&r, 10) == 0) steps[k] = -steps[k];
      counts[ax] = onnx_slice(d, starts[k], ends[k], steps[k], lists[ax]);
    }
    pal_shape_t os;
    OT_OK(seed, pal_op_slice_infer(&s, starts, ends, use_axes ? axes : NULL, steps, n, &os));
    if (!use_axes)
      for (int k = 0; k < n; k++) axes[k] = k;
    for (int d = 0; d < s.rank; d++)
      if (os.dims[d] != counts[d]) {
        for (int k = 0; k < n; k++)
          print_error("  axis %lld start %lld end %lld step %lld\n", (long long)axes[k], (long long)starts[k],
                      (long long)ends[k], (long long)steps[k]);
        PAL_TEST_FAIL(seed, "iter %d: Slice dim %d (of %lld) has %lld, want %lld", iter, d, (long long)s.dims[d],
                      (long long)os.dims[d], (long long)counts[d]);
      }
    int64_t nx = ot_numel(&s), ny = ot_numel(&os);
    uint8_t *x = rand_bytes(&r, nx * (int64_t)es), *y = malloc((size_t)ny * es + 1);
    OT_OK(seed, pal_op_slice(x, &s, es, starts, ends, use_axes ? axes : NULL, use_steps ? steps : NULL, n, y));
    int64_t idx[PAL_MAX_RANK];
    for (int64_t i = 0; i < ny; i++) {
      ot_unravel(&os, i, idx);
      int64_t off = 0;
      for (int d = 0; d < s.rank; d++) off = off * s.dims[d] + lists[d][idx[d]];
      if (memcmp(y + i * (int64_t)es, x + off * (int64_t)es, es) != 0) {
        char b[96];
        for (int k = 0; k < n; k++)
          print_error("  axis %lld start %lld end %lld step %lld\n", (long long)axes[k], (long long)starts[k],
                      (long long)ends[k], (long long)steps[k]);
        PAL_TEST_FAIL(seed, "iter %d: Slice of %s (es %zu) element %lld differs", iter, ot_fmt(&s, b, sizeof b),
                      es, (long long)i);
      }
    }
    free(x); free(y);
  }
  pal_shape_t s = ot_shape(2, (int64_t[]){2, 3});
  float x[6], y[6];
  OT_ERR(seed, pal_op_slice(x, &s, 4, (int64_t[]){0}, (int64_t[]){1}, (int64_t[]){0}, (int64_t[]){0}, 1, y),
         PAL_INVALID_ARGUMENT, "Slice", "steps");
  OT_ERR(seed, pal_op_slice(x, &s, 4, (int64_t[]){0, 0}, (int64_t[]){1, 1}, (int64_t[]){1, -1}, NULL, 2, y),
         PAL_INVALID_ARGUMENT, "Slice", "twice");
  OT_ERR(seed, pal_op_slice(x, &s, 4, (int64_t[]){0}, (int64_t[]){1}, (int64_t[]){2}, NULL, 1, y),
         PAL_INVALID_ARGUMENT, "Slice", "axes");
}

static void test_gather(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 24);
  for (int iter = 0; iter < 300; iter++) {
    pal_shape_t ds = ot_rand_shape(&r, 1, 4, 5, 0);
    pal_shape_t is = ot_rand_shape(&r, 0, 3, 4, 10);
    int ax = (int)pal_test_rng_below(&r, (uint32_t)ds.rank);
    int64_t axis = pal_test_rng_below(&r, 2) ? ax : ax - ds.rank;
    size_t es = kSizes[pal_test_rng_below(&r, 5)];
    int64_t d = ds.dims[ax], ni = ot_numel(&is), nd = ot_numel(&ds);
    int64_t *ind = malloc((size_t)(ni + 1) * 8);
    for (int64_t i = 0; i < ni; i++) ind[i] = (int64_t)pal_test_rng_below(&r, (uint32_t)(2 * d)) - d;
    pal_shape_t os;
    OT_OK(seed, pal_op_gather_infer(&ds, &is, axis, &os));
    PAL_TEST_CHECK(seed, os.rank == ds.rank - 1 + is.rank, "Gather rank");
    int64_t no = ot_numel(&os);
    uint8_t *x = rand_bytes(&r, nd * (int64_t)es), *y = malloc((size_t)no * es + 1);
    OT_OK(seed, pal_op_gather(x, &ds, es, ind, &is, axis, y));
    int64_t oidx[PAL_MAX_RANK], didx[PAL_MAX_RANK];
    for (int64_t i = 0; i < no; i++) {
      ot_unravel(&os, i, oidx);
      /* out index = data[:ax] ++ indices dims ++ data[ax+1:] */
      for (int k = 0; k < ax; k++) didx[k] = oidx[k];
      int64_t ioff = 0;
      for (int k = 0; k < is.rank; k++) ioff = ioff * is.dims[k] + oidx[ax + k];
      int64_t v = ind[ioff];
      didx[ax] = v < 0 ? v + d : v;
      for (int k = ax + 1; k < ds.rank; k++) didx[k] = oidx[k - 1 + is.rank];
      int64_t off = 0;
      for (int k = 0; k < ds.rank; k++) off = off * ds.dims[k] + didx[k];
      PAL_TEST_CHECK(seed, memcmp(y + i * (int64_t)es, x + off * (int64_t)es, es) == 0, "iter %d: Gather element %lld",
                     iter, (long long)i);
    }
    free(ind); free(x); free(y);
  }
  pal_shape_t ds = ot_shape(2, (int64_t[]){3, 2}), is = ot_shape(1, (int64_t[]){2});
  float x[6] = {0}, y[6];
  OT_ERR(seed, pal_op_gather(x, &ds, 4, (int64_t[]){1, 3}, &is, 0, y), PAL_OUT_OF_RANGE, "Gather", "indices[1]", "3");
  OT_ERR(seed, pal_op_gather(x, &ds, 4, (int64_t[]){-4, 0}, &is, 0, y), PAL_OUT_OF_RANGE, "Gather", "-4");
  OT_ERR(seed, pal_op_gather(x, &ds, 4, (int64_t[]){0, 0}, &is, 2, y), PAL_INVALID_ARGUMENT, "Gather", "axis");
}

static void test_shape_helpers(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  int64_t n;
  pal_shape_t s = ot_shape(3, (int64_t[]){1ll << 31, 1ll << 31, 4});
  OT_ERR(seed, pal_shape_numel(&s, &n), PAL_OUT_OF_RANGE, "[2147483648,2147483648,4]", "int64");
  s.dims[2] = 0;
  OT_OK(seed, pal_shape_numel(&s, &n));
  PAL_TEST_CHECK(seed, n == 0, "zero-size numel %lld", (long long)n);
  s = ot_shape(0, NULL);
  OT_OK(seed, pal_shape_numel(&s, &n));
  PAL_TEST_CHECK(seed, n == 1, "scalar numel %lld", (long long)n);
  OT_ERR(seed, pal_shape_make(9, (int64_t[9]){0}, &s), PAL_INVALID_ARGUMENT, "rank 9");
  OT_ERR(seed, pal_shape_make(2, (int64_t[]){2, -3}, &s), PAL_INVALID_ARGUMENT, "negative");
  pal_shape_t a = ot_shape(3, (int64_t[]){5, 1, 3}), b = ot_shape(2, (int64_t[]){4, 1}), c = ot_shape(0, NULL), o;
  OT_OK(seed, pal_shape_broadcast3("x", &a, &b, &c, &o));
  PAL_TEST_CHECK(seed, o.rank == 3 && o.dims[0] == 5 && o.dims[1] == 4 && o.dims[2] == 3, "broadcast3");
  pal_shape_t z0 = ot_shape(2, (int64_t[]){0, 1});
  OT_OK(seed, pal_shape_broadcast("x", &z0, &a, &o));
  PAL_TEST_CHECK(seed, o.dims[0] == 5 && o.dims[1] == 0 && o.dims[2] == 3, "broadcast with 0");
  pal_shape_t z = ot_shape(2, (int64_t[]){1, 0});
  OT_ERR(seed, pal_shape_broadcast("MyOp", &a, &z, &o), PAL_INVALID_ARGUMENT, "MyOp", "[5,1,3]", "[1,0]");
  int ax;
  OT_OK(seed, pal_shape_normalize_axis("x", "axis", -1, 3, &ax));
  PAL_TEST_CHECK(seed, ax == 2, "axis -1 -> %d", ax);
  OT_ERR(seed, pal_shape_normalize_axis("Op", "axis", 3, 3, &ax), PAL_INVALID_ARGUMENT, "Op", "axis 3");
  int64_t st[PAL_MAX_RANK];
  pal_shape_strides(&a, st);
  PAL_TEST_CHECK(seed, st[0] == 3 && st[1] == 3 && st[2] == 1, "strides");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transpose), cmocka_unit_test(test_concat_split),
      cmocka_unit_test(test_slice),     cmocka_unit_test(test_gather),
      cmocka_unit_test(test_shape_helpers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
