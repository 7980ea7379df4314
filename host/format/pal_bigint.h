/* Tiny unsigned big integers for exact checks of the PAL tables: powers of
 * small integers compared with powers of two (T^32 >= 2^k, ...). Used by the
 * table generator and, independently of it, by the unit tests. Not fast;
 * adequate for numbers up to PAL_BIGINT_LIMBS * 32 bits. */
#ifndef PAL_BIGINT_H
#define PAL_BIGINT_H

#include <stdint.h>
#include <string.h>

#define PAL_BIGINT_LIMBS 420

typedef struct pal_bigint {
  int n; /* limbs in use; limb[n-1] != 0 unless the value is 0 (n = 0) */
  uint32_t limb[PAL_BIGINT_LIMBS];
} pal_bigint_t;

static inline void pal_bigint_set_u64(pal_bigint_t *a, uint64_t v) {
  a->n = 0;
  while (v) {
    a->limb[a->n++] = (uint32_t)v;
    v >>= 32;
  }
}

/* r = a * b; r must not alias a or b. Returns 0, or -1 on overflow of the
 * fixed capacity (callers treat that as a programming error). */
static inline int pal_bigint_mul(pal_bigint_t *r, const pal_bigint_t *a, const pal_bigint_t *b) {
  if (a->n + b->n > PAL_BIGINT_LIMBS) return -1;
  memset(r->limb, 0, sizeof(uint32_t) * (size_t)(a->n + b->n));
  for (int i = 0; i < a->n; i++) {
    uint64_t carry = 0;
    for (int j = 0; j < b->n; j++) {
      uint64_t t = (uint64_t)a->limb[i] * b->limb[j] + r->limb[i + j] + carry;
      r->limb[i + j] = (uint32_t)t;
      carry = t >> 32;
    }
    r->limb[i + b->n] = (uint32_t)carry;
  }
  r->n = a->n + b->n;
  while (r->n > 0 && r->limb[r->n - 1] == 0) r->n--;
  return 0;
}

/* r = base^e. Returns 0, or -1 when the result exceeds the capacity. */
static inline int pal_bigint_pow(pal_bigint_t *r, uint64_t base, unsigned e) {
  static __thread pal_bigint_t acc, sq, tmp;
  pal_bigint_set_u64(r, 1);
  pal_bigint_set_u64(&sq, base);
  while (e) {
    if (e & 1u) {
      if (pal_bigint_mul(&tmp, r, &sq)) return -1;
      *r = tmp;
    }
    e >>= 1;
    if (e) {
      if (pal_bigint_mul(&acc, &sq, &sq)) return -1;
      sq = acc;
    }
  }
  return 0;
}

/* Compares a with 2^k: returns -1, 0 or +1. */
static inline int pal_bigint_cmp_pow2(const pal_bigint_t *a, unsigned k) {
  if (a->n == 0) return -1;
  unsigned top = (unsigned)(a->n - 1) * 32u + (31u - (unsigned)__builtin_clz(a->limb[a->n - 1]));
  if (top != k) return top > k ? 1 : -1;
  /* Highest bit is bit k: equal iff every lower bit is zero. */
  uint32_t top_rest = a->limb[a->n - 1] & ~(1u << (top % 32u));
  if (top_rest) return 1;
  for (int i = 0; i < a->n - 1; i++)
    if (a->limb[i]) return 1;
  return 0;
}

/* Compares base^e with 2^k exactly: -1, 0, +1 (or -2 on capacity overflow). */
static inline int pal_bigint_pow_cmp_pow2(uint64_t base, unsigned e, unsigned k) {
  static __thread pal_bigint_t p;
  if (pal_bigint_pow(&p, base, e)) return -2;
  return pal_bigint_cmp_pow2(&p, k);
}

#endif /* PAL_BIGINT_H */
