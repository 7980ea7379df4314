/* Bad input never crashes: every op gets random, mostly invalid arguments
 * (negative, zero, huge and overflowing dims, ranks past PAL_MAX_RANK, wild
 * axes, pads, strides, perms, indices). Whenever the shape function accepts
 * them, the kernel must run on buffers of exactly the inferred size (ASan
 * watches the edges in the san build); whenever it refuses, the kernel must
 * refuse with the same code and a message. */
#include "ops_test_util.h"

#define LIMIT (1 << 16) /* elements we are willing to allocate per tensor */

static int64_t wild(pal_test_rng_t *r) {
  static const int64_t v[] = {-1, 0, 1, 1, 2, 2, 3, 3, 4, 5, 7, 1ll << 40, INT64_MAX, INT64_MIN, -3};
  return v[pal_test_rng_below(r, sizeof v / sizeof v[0])];
}

static pal_shape_t wild_shape(pal_test_rng_t *r) {
  pal_shape_t s;
  memset(&s, 0, sizeof s);
  s.rank = (int)pal_test_rng_below(r, 6);
  if (pal_test_rng_below(r, 40) == 0) s.rank = pal_test_rng_below(r, 2) ? 9 : -1;
  for (int i = 0; i < PAL_MAX_RANK; i++) {
    s.dims[i] = 1 + pal_test_rng_below(r, 4);
    if (pal_test_rng_below(r, 12) == 0) s.dims[i] = wild(r);
  }
  return s;
}

/* numel when valid and small enough to allocate, else -1 */
static int64_t small_numel(const pal_shape_t *s) {
  int64_t n;
  pal_status_t st = pal_shape_numel(s, &n);
  if (st) {
    pal_status_free(st);
    return -1;
  }
  return n <= LIMIT ? n : -1;
}

/* buffers of exactly n elements of es bytes (n may be 0: a 1-byte block so
 * the pointer is valid but any read is out of bounds) */
static void *buf(int64_t n, size_t es) {
  void *p = malloc(n > 0 ? (size_t)n * es : 1);
  if (n > 0) memset(p, 0, (size_t)n * es);
  return p;
}

/* st_infer decides: ok -> kernel ok; error -> kernel same code. */
#define EXPECT_SAME(seed, what, st_infer, KERNEL_EXPR)                                      \
  do {                                                                                       \
    pal_status_code_t ci_ = pal_status_code(st_infer);                                       \
    if (st_infer) {                                                                          \
      PAL_TEST_CHECK(seed, strlen(pal_status_message(st_infer)) > 8, "%s: empty message", what); \
    }                                                                                        \
    pal_status_free(st_infer);                                                               \
    pal_status_t sk_ = (KERNEL_EXPR);                                                        \
    pal_status_code_t ck_ = pal_status_code(sk_);                                            \
    char m_[256];                                                                            \
    snprintf(m_, sizeof m_, "%s", pal_status_message(sk_));                                  \
    pal_status_free(sk_);                                                                    \
    PAL_TEST_CHECK(seed, ci_ == ck_, "%s: infer said %s, kernel %s (%s)", what,              \
                   pal_status_code_name(ci_), pal_status_code_name(ck_), m_);               \
  } while (0)

static void test_robust_elementwise(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 31);
  for (int iter = 0; iter < 3000; iter++) {
    pal_shape_t a = wild_shape(&r), b = wild_shape(&r), c = wild_shape(&r), o;
    if (pal_test_rng_below(&r, 2)) b = a; /* often compatible */
    int64_t na = small_numel(&a), nb = small_numel(&b), nc = small_numel(&c);
    if (na < 0 || nb < 0) {
      /* invalid or too large to allocate: validation must refuse or the
       * tensors are huge-but-valid (then only the shape function runs) */
      pal_status_t st = pal_shape_broadcast("t", &a, &b, &o);
      pal_status_free(st);
      continue;
    }
    pal_status_t st = pal_shape_broadcast("t", &a, &b, &o);
    int64_t no = st ? 0 : small_numel(&o);
    if (!st && no < 0) { pal_status_free(st); continue; }
    float *pa = buf(na, 8), *pb = buf(nb, 8);
    void *py = buf(no, 8);
    /* (integer Div by the zero-filled B would rightly fail: not here) */
    pal_op_dtype_t dt = (pal_op_dtype_t)pal_test_rng_below(&r, 3);
    pal_op_binary_kind_t bk = (pal_op_binary_kind_t)pal_test_rng_below(&r, 5);
    if (dt != PAL_OP_F32 && bk == PAL_OP_DIV) bk = PAL_OP_MUL;
    EXPECT_SAME(seed, "binary", st, pal_op_binary(bk, dt, pa, &a, pb, &b, py));
    st = pal_shape_broadcast("t", &a, &b, &o);
    EXPECT_SAME(seed, "compare", st, pal_op_compare(PAL_OP_LESS, PAL_OP_F32, pa, &a, pb, &b, py));
    if (nc >= 0) {
      st = pal_shape_broadcast3("t", &c, &a, &b, &o);
      int64_t n3 = st ? 0 : small_numel(&o);
      if (st || n3 >= 0) {
        void *pc = buf(nc, 1), *p3 = buf(n3, 8);
        EXPECT_SAME(seed, "where", st, pal_op_where(pc, &c, pa, &a, pb, &b, 8, p3));
        free(pc); free(p3);
      } else {
        pal_status_free(st);
      }
    }
    /* shape-preserving ops with a wild axis */
    int64_t axis = pal_test_rng_below(&r, 4) ? (int64_t)pal_test_rng_below(&r, 9) - 4 : wild(&r);
    int ax;
    st = pal_shape_normalize_axis("Softmax", "axis", axis, a.rank, &ax);
    float *ya = buf(na, 8);
    EXPECT_SAME(seed, "softmax", st, pal_op_softmax(pa, &a, axis, ya));
    int64_t axes[3] = {axis, (int64_t)pal_test_rng_below(&r, 7) - 3, wild(&r)};
    int nax = (int)pal_test_rng_below(&r, 4);
    int keep = (int)pal_test_rng_below(&r, 2);
    st = pal_op_reduce_infer(&a, axes, nax, keep, 0, &o);
    /* reducing an empty axis can give a huge output from an empty input */
    int64_t nr = st ? 0 : small_numel(&o);
    if (nr >= 0) {
      void *yr = buf(nr, 4);
      EXPECT_SAME(seed, "reduce", st, pal_op_reduce(PAL_OP_REDUCE_MEAN, pa, &a, axes, nax, keep, 0, yr));
      free(yr);
    } else {
      pal_status_free(st);
    }
    st = pal_op_transpose_infer(&a, NULL, &o);
    EXPECT_SAME(seed, "transpose", st, pal_op_transpose(pa, &a, 4, NULL, ya));
    int64_t perm[PAL_MAX_RANK];
    for (int i = 0; i < PAL_MAX_RANK; i++) perm[i] = pal_test_rng_below(&r, 5) ? (int64_t)pal_test_rng_below(&r, (uint32_t)(a.rank > 0 ? a.rank : 1)) : wild(&r);
    st = pal_op_transpose_infer(&a, perm, &o);
    EXPECT_SAME(seed, "transpose perm", st, pal_op_transpose(pa, &a, 4, perm, ya));
    free(pa); free(pb); free(py); free(ya);
  }
}

static void test_robust_movement(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 32);
  for (int iter = 0; iter < 3000; iter++) {
    pal_shape_t a = wild_shape(&r), o;
    int64_t na = small_numel(&a);
    if (na < 0) continue;
    uint8_t *pa = buf(na, 4);
    int64_t axis = pal_test_rng_below(&r, 4) ? (int64_t)pal_test_rng_below(&r, 9) - 4 : wild(&r);
    /* Slice */
    int n = (int)pal_test_rng_below(&r, 5);
    int64_t st0[4], en[4], ax[4], sp[4];
    for (int k = 0; k < 4; k++) {
      st0[k] = pal_test_rng_below(&r, 2) ? (int64_t)pal_test_rng_below(&r, 9) - 4 : wild(&r);
      en[k] = pal_test_rng_below(&r, 2) ? (int64_t)pal_test_rng_below(&r, 9) - 4 : wild(&r);
      ax[k] = pal_test_rng_below(&r, 3) ? (int64_t)pal_test_rng_below(&r, 9) - 4 : wild(&r);
      sp[k] = pal_test_rng_below(&r, 3) ? (int64_t)pal_test_rng_below(&r, 7) - 3 : wild(&r);
    }
    pal_status_t st = pal_op_slice_infer(&a, st0, en, ax, sp, n, &o);
    int64_t no = st ? 0 : small_numel(&o);
    void *y = buf(no < 0 ? 0 : no, 4);
    if (no >= 0) EXPECT_SAME(seed, "slice", st, pal_op_slice(pa, &a, 4, st0, en, ax, sp, n, y));
    else pal_status_free(st);
    free(y);
    /* Gather */
    pal_shape_t is = wild_shape(&r);
    int64_t ni = small_numel(&is);
    if (ni >= 0) {
      int64_t *ind = buf(ni, 8);
      for (int64_t i = 0; i < ni; i++) ind[i] = pal_test_rng_below(&r, 4) ? (int64_t)pal_test_rng_below(&r, 9) - 4 : wild(&r);
      st = pal_op_gather_infer(&a, &is, axis, &o);
      no = st ? 0 : small_numel(&o);
      if (no >= 0) {
        y = buf(no, 4);
        pal_status_t sk = pal_op_gather(pa, &a, 4, ind, &is, axis, y);
        /* an index out of range is found only by the kernel */
        PAL_TEST_CHECK(seed, !st || pal_status_code(sk) == pal_status_code(st), "gather codes differ");
        PAL_TEST_CHECK(seed, !sk || pal_status_code(sk) == PAL_OUT_OF_RANGE || st, "gather failed after infer ok: %s",
                       pal_status_message(sk));
        pal_status_free(sk);
        free(y);
      }
      pal_status_free(st);
      free(ind);
    }
    /* Concat / Split */
    pal_shape_t shapes[3] = {a, a, pal_test_rng_below(&r, 2) ? a : wild_shape(&r)};
    int nin = 1 + (int)pal_test_rng_below(&r, 3);
    int64_t n2 = small_numel(&shapes[2]);
    if (n2 >= 0) {
      uint8_t *p2 = buf(n2, 4);
      const void *ins[3] = {pa, pa, p2};
      st = pal_op_concat_infer(shapes, nin, axis, &o);
      no = st ? 0 : small_numel(&o);
      if (no >= 0) {
        y = buf(no, 4);
        EXPECT_SAME(seed, "concat", st, pal_op_concat(ins, shapes, nin, axis, 4, y));
        free(y);
      } else {
        pal_status_free(st);
      }
      free(p2);
    }
    int64_t sizes[3] = {wild(&r), wild(&r), wild(&r)};
    if (pal_test_rng_below(&r, 2) && a.rank > 0 && a.rank <= PAL_MAX_RANK) {
      /* sizes that may well add up */
      int ax2 = (int)pal_test_rng_below(&r, (uint32_t)a.rank);
      axis = ax2;
      sizes[0] = a.dims[ax2] / 2;
      sizes[1] = a.dims[ax2] - sizes[0];
      sizes[2] = 0;
    }
    int ns = 1 + (int)pal_test_rng_below(&r, 3);
    const int64_t *sz = pal_test_rng_below(&r, 2) ? sizes : NULL;
    pal_shape_t outs[3];
    st = pal_op_split_infer(&a, axis, sz, ns, outs);
    void *ob[3] = {NULL, NULL, NULL};
    int alloc_ok = 1;
    for (int k = 0; k < ns && !st; k++) {
      int64_t nk = small_numel(&outs[k]);
      if (nk < 0) alloc_ok = 0;
      else ob[k] = buf(nk, 4);
    }
    if (alloc_ok) EXPECT_SAME(seed, "split", st, pal_op_split(pa, &a, 4, axis, sz, ns, ob));
    else pal_status_free(st);
    for (int k = 0; k < 3; k++) free(ob[k]);
    free(pa);
  }
}

static void test_robust_nn(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t r;
  pal_test_rng_init(&r, seed + 33);
  for (int iter = 0; iter < 3000; iter++) {
    pal_shape_t x = wild_shape(&r), w = wild_shape(&r), o;
    if (pal_test_rng_below(&r, 2)) x.rank = 4;
    if (pal_test_rng_below(&r, 2)) w.rank = 4;
    int64_t nx = small_numel(&x), nw = small_numel(&w);
    if (nx < 0 || nw < 0) continue;
    float *px = buf(nx, 4), *pw = buf(nw, 4), *bias = buf(w.rank > 0 && w.dims[0] > 0 && w.dims[0] <= LIMIT ? w.dims[0] : 0, 4);
    pal_op_pool_params_t pp;
    pal_op_pool_params_initialize(&pp);
    for (int d = 0; d < 2; d++) {
      pp.kernel[d] = pal_test_rng_below(&r, 4) ? 1 + pal_test_rng_below(&r, 3) : wild(&r);
      pp.strides[d] = pal_test_rng_below(&r, 4) ? 1 + pal_test_rng_below(&r, 3) : wild(&r);
      pp.dilations[d] = pal_test_rng_below(&r, 4) ? 1 : wild(&r);
    }
    for (int i = 0; i < 4; i++) pp.pads[i] = pal_test_rng_below(&r, 3) ? pal_test_rng_below(&r, 3) : wild(&r);
    pp.ceil_mode = pal_test_rng_below(&r, 2);
    pp.auto_pad = (pal_op_auto_pad_t)pal_test_rng_below(&r, 5);
    pal_status_t st = pal_op_pool_infer(&x, &pp, &o);
    int64_t no = st ? 0 : small_numel(&o);
    if (no >= 0) {
      float *y = buf(no, 4);
      int64_t *ind = buf(no, 8);
      EXPECT_SAME(seed, "maxpool", st, pal_op_max_pool(px, &x, &pp, y, ind));
      free(y); free(ind);
    } else {
      pal_status_free(st);
    }
    pal_op_conv_params_t cp;
    pal_op_conv_params_initialize(&cp);
    cp.group = pal_test_rng_below(&r, 3) ? 1 : wild(&r);
    memcpy(cp.strides, pp.strides, sizeof cp.strides);
    memcpy(cp.dilations, pp.dilations, sizeof cp.dilations);
    memcpy(cp.pads, pp.pads, sizeof cp.pads);
    cp.auto_pad = pp.auto_pad;
    st = pal_op_conv_infer(&x, &w, &cp, &o);
    no = st ? 0 : small_numel(&o);
    if (no >= 0) {
      float *y = buf(no, 4);
      EXPECT_SAME(seed, "conv", st, pal_op_conv(px, &x, pw, &w, bias, &cp, y));
      free(y);
    } else {
      pal_status_free(st);
    }
    int ta = pal_test_rng_below(&r, 2), tb = pal_test_rng_below(&r, 2);
    pal_shape_t x2 = x, w2 = w;
    x2.rank = w2.rank = 2;
    int64_t nx2 = small_numel(&x2), nw2 = small_numel(&w2);
    if (nx2 >= 0 && nw2 >= 0 && nx2 <= nx && nw2 <= nw) {
      st = pal_op_gemm_infer(&x2, &w2, NULL, ta, tb, &o);
      no = st ? 0 : small_numel(&o);
      if (no >= 0) {
        float *y = buf(no, 4);
        EXPECT_SAME(seed, "gemm", st, pal_op_gemm(px, &x2, pw, &w2, NULL, NULL, 1, 1, ta, tb, y));
        free(y);
      } else {
        pal_status_free(st);
      }
    }
    st = pal_op_matmul_infer(&x, &w, &o);
    no = st ? 0 : small_numel(&o);
    if (no >= 0) {
      float *y = buf(no, 4);
      EXPECT_SAME(seed, "matmul", st, pal_op_matmul(px, &x, pw, &w, y));
      free(y);
    } else {
      pal_status_free(st);
    }
    free(px); free(pw); free(bias);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_robust_elementwise),
      cmocka_unit_test(test_robust_movement),
      cmocka_unit_test(test_robust_nn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
