/* Shared helpers for the libpalops tests: random shapes (broadcast corners:
 * size-1 dims, rank mismatch, scalars, zero-size dims), random data with
 * occasional NaN/Inf, index arithmetic for the naive double references, and
 * status assertions. The references never call the code under test. */
#ifndef OPS_TEST_UTIL_H
#define OPS_TEST_UTIL_H

#include "pal_test.h"
#include "pal/ops.h"

#define OT_OK(seed, expr)                                                                       \
  do {                                                                                          \
    pal_status_t st_ = (expr);                                                                  \
    if (st_) {                                                                                  \
      char m_[512];                                                                             \
      snprintf(m_, sizeof m_, "%s", pal_status_message(st_));                                   \
      pal_status_free(st_);                                                                     \
      PAL_TEST_FAIL(seed, "%s:%d: %s failed: %s", __FILE__, __LINE__, #expr, m_);               \
    }                                                                                           \
  } while (0)

/* The call must fail with `code` and a message containing every listed
 * substring (the op name and the argument at fault). */
#define OT_ERR(seed, expr, code, ...)                                                           \
  do {                                                                                          \
    pal_status_t st_ = (expr);                                                                  \
    PAL_TEST_CHECK(seed, st_ != PAL_STATUS_OK, "%s:%d: %s succeeded, want %s", __FILE__,        \
                   __LINE__, #expr, pal_status_code_name(code));                                \
    char m_[512];                                                                               \
    snprintf(m_, sizeof m_, "%s", pal_status_message(st_));                                     \
    pal_status_code_t c_ = pal_status_code(st_);                                                \
    pal_status_free(st_);                                                                       \
    PAL_TEST_CHECK(seed, c_ == (code), "%s:%d: %s gave %s (%s), want %s", __FILE__, __LINE__,   \
                   #expr, pal_status_code_name(c_), m_, pal_status_code_name(code));            \
    const char *subs_[] = {__VA_ARGS__};                                                        \
    for (size_t i_ = 0; i_ < sizeof subs_ / sizeof subs_[0]; i_++)                              \
      PAL_TEST_CHECK(seed, strstr(m_, subs_[i_]) != NULL, "%s:%d: message \"%s\" lacks \"%s\"", \
                     __FILE__, __LINE__, m_, subs_[i_]);                                        \
  } while (0)

static inline int64_t ot_numel(const pal_shape_t *s) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++) n *= s->dims[i];
  return n;
}

static inline pal_shape_t ot_shape(int rank, const int64_t *dims) {
  pal_shape_t s;
  memset(&s, 0, sizeof s);
  s.rank = rank;
  for (int i = 0; i < rank; i++) s.dims[i] = dims[i];
  return s;
}

/* Random shape: rank in [rmin, rmax], dims in [1, dmax], one dim 0 with
 * probability 1/zero_odds (0: never). */
static inline pal_shape_t ot_rand_shape(pal_test_rng_t *r, int rmin, int rmax, int dmax,
                                        int zero_odds) {
  pal_shape_t s;
  memset(&s, 0, sizeof s);
  s.rank = rmin + (int)pal_test_rng_below(r, (uint32_t)(rmax - rmin + 1));
  for (int i = 0; i < s.rank; i++) s.dims[i] = 1 + pal_test_rng_below(r, (uint32_t)dmax);
  if (zero_odds && s.rank && pal_test_rng_below(r, (uint32_t)zero_odds) == 0)
    s.dims[pal_test_rng_below(r, (uint32_t)s.rank)] = 0;
  return s;
}

/* An operand that broadcasts to `out`: leading dims dropped at random, kept
 * dims set to 1 at random. */
static inline pal_shape_t ot_bcast_operand(pal_test_rng_t *r, const pal_shape_t *out) {
  pal_shape_t s;
  memset(&s, 0, sizeof s);
  int drop = pal_test_rng_below(r, 3) == 0 ? (int)pal_test_rng_below(r, (uint32_t)out->rank + 1) : 0;
  s.rank = out->rank - drop;
  for (int i = 0; i < s.rank; i++) {
    s.dims[i] = out->dims[drop + i];
    if (pal_test_rng_below(r, 3) == 0) s.dims[i] = 1;
  }
  return s;
}

/* row-major unravel and the offset of `idx` (an index into `out`) in a
 * tensor of shape `in` that broadcasts to `out` */
static inline void ot_unravel(const pal_shape_t *s, int64_t flat, int64_t *idx) {
  for (int i = s->rank - 1; i >= 0; i--) {
    idx[i] = s->dims[i] ? flat % s->dims[i] : 0;
    flat = s->dims[i] ? flat / s->dims[i] : 0;
  }
}
static inline int64_t ot_bcast_offset(const pal_shape_t *in, const pal_shape_t *out,
                                      const int64_t *idx) {
  int64_t off = 0;
  for (int i = 0; i < in->rank; i++) {
    int j = i + out->rank - in->rank;
    off = off * in->dims[i] + (in->dims[i] == 1 ? 0 : idx[j]);
  }
  return off;
}

/* Gaussian data scaled by `scale`; with special != 0, about 1 in 16 values
 * is NaN, +Inf, -Inf or 0. */
static inline float *ot_rand_floats(pal_test_rng_t *r, int64_t n, double scale, int special) {
  float *p = malloc((size_t)(n ? n : 1) * sizeof *p);
  for (int64_t i = 0; i < n; i++) {
    p[i] = (float)(pal_test_rng_gauss(r) * scale);
    if (special && pal_test_rng_below(r, 16) == 0) {
      static const float sv[4] = {NAN, INFINITY, -INFINITY, 0.0f};
      p[i] = sv[pal_test_rng_below(r, 4)];
    }
  }
  return p;
}

/* got (float) vs want (double): NaN matches NaN, infinities match exactly,
 * otherwise |got - want| <= atol + rtol * |want|. */
static inline int ot_close(double got, double want, double rtol, double atol) {
  if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
  if (isinf(want) || isinf(got)) {
    /* a finite reference beyond FLT_MAX rounds to inf in float */
    if (isinf(got) && !isinf(want) && fabs(want) > 3.4028234663852886e38) return (got > 0) == (want > 0);
    return got == want;
  }
  return fabs(got - want) <= atol + rtol * fabs(want);
}

static inline const char *ot_fmt(const pal_shape_t *s, char *buf, size_t n) {
  return pal_shape_format(s, buf, n);
}

#endif /* OPS_TEST_UTIL_H */
