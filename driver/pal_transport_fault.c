/* Fault injection between the protocol and any transport: drops, corrupts,
 * duplicates and inserts bytes at seeded per-byte rates, in both
 * directions, so the retransmission and resync paths can be exercised
 * without a noisy cable. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pal/driver.h"

typedef struct fault {
  pal_transport_t inner;
  pal_fault_options_t opt;
  uint64_t rng;
  pal_fault_stats_t stats;
  uint8_t *out; /* damaged bytes, both directions reuse it */
  size_t out_cap;
  uint8_t *pending; /* damaged bytes from the device not yet returned */
  size_t pend_pos, pend_len, pend_cap;
} fault_t;

void pal_fault_options_initialize(pal_fault_options_t *options) {
  memset(options, 0, sizeof *options);
  options->seed = 1;
}

bool pal_fault_options_active(const pal_fault_options_t *o) {
  return o && (o->drop_rate > 0 || o->corrupt_rate > 0 || o->duplicate_rate > 0 || o->insert_rate > 0);
}

static uint64_t next(fault_t *f) { /* splitmix64 */
  uint64_t z = (f->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double uniform(fault_t *f) { return (double)(next(f) >> 11) * 0x1.0p-53; }

/* Damages n bytes of `in` into f->out (at most 2n bytes); returns the count,
 * or (size_t)-1 when memory runs out. */
static size_t damage(fault_t *f, const uint8_t *in, size_t n) {
  if (f->out_cap < 2 * n) {
    uint8_t *b = realloc(f->out, 2 * n);
    if (!b) return (size_t)-1;
    f->out = b;
    f->out_cap = 2 * n;
  }
  const pal_fault_options_t *o = &f->opt;
  double t_drop = o->drop_rate, t_corrupt = t_drop + o->corrupt_rate,
         t_dup = t_corrupt + o->duplicate_rate, t_ins = t_dup + o->insert_rate;
  size_t m = 0;
  f->stats.bytes += n;
  for (size_t i = 0; i < n; i++) {
    double u = t_ins > 0 ? uniform(f) : 1.0;
    uint8_t b = in[i];
    if (u < t_drop) {
      f->stats.dropped++;
    } else if (u < t_corrupt) {
      f->stats.corrupted++;
      f->out[m++] = b ^ (uint8_t)(1 + next(f) % 255);
    } else if (u < t_dup) {
      f->stats.duplicated++;
      f->out[m++] = b;
      f->out[m++] = b;
    } else if (u < t_ins) {
      f->stats.inserted++;
      f->out[m++] = (uint8_t)next(f);
      f->out[m++] = b;
    } else {
      f->out[m++] = b;
    }
  }
  return m;
}

static pal_status_t fault_write(void *self, const uint8_t *data, size_t len, uint32_t timeout_ms) {
  fault_t *f = self;
  size_t m = damage(f, data, len);
  if (m == (size_t)-1) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", f->inner.name);
  if (m == 0) return PAL_STATUS_OK;
  return f->inner.ops->write(f->inner.self, f->out, m, timeout_ms);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static pal_status_t fault_read(void *self, uint8_t *data, size_t cap, size_t *out_len,
                               uint32_t timeout_ms) {
  fault_t *f = self;
  uint64_t deadline = now_ms() + timeout_ms;
  *out_len = 0;
  while (f->pend_pos == f->pend_len) {
    uint8_t tmp[4096];
    size_t got = 0;
    uint64_t now = now_ms();
    uint32_t left = now < deadline ? (uint32_t)(deadline - now) : 0;
    PAL_RETURN_IF_ERROR(f->inner.ops->read(f->inner.self, tmp, sizeof tmp, &got, left));
    if (got == 0) return PAL_STATUS_OK; /* the inner transport timed out */
    size_t m = damage(f, tmp, got);
    if (m == (size_t)-1) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", f->inner.name);
    if (m > f->pend_cap) {
      uint8_t *b = realloc(f->pending, m);
      if (!b) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", f->inner.name);
      f->pending = b;
      f->pend_cap = m;
    }
    memcpy(f->pending, f->out, m);
    f->pend_pos = 0;
    f->pend_len = m;
    /* Everything dropped: keep waiting, as the far end would. */
  }
  size_t n = f->pend_len - f->pend_pos;
  if (n > cap) n = cap;
  memcpy(data, f->pending + f->pend_pos, n);
  f->pend_pos += n;
  *out_len = n;
  return PAL_STATUS_OK;
}

static pal_status_t fault_purge(void *self) {
  fault_t *f = self;
  f->pend_pos = f->pend_len = 0;
  return f->inner.ops->purge ? f->inner.ops->purge(f->inner.self) : PAL_STATUS_OK;
}

static void fault_close(void *self) {
  fault_t *f = self;
  if (!f) return;
  pal_transport_close(&f->inner);
  free(f->out);
  free(f->pending);
  free(f);
}

static const pal_transport_ops_t kFaultOps = {fault_write, fault_read, fault_purge, fault_close};

pal_status_t pal_transport_fault_wrap(pal_transport_t inner, const pal_fault_options_t *options,
                                      pal_transport_t *out_transport) {
  memset(out_transport, 0, sizeof *out_transport);
  const pal_fault_options_t *o = options;
  if (!o || o->drop_rate < 0 || o->corrupt_rate < 0 || o->duplicate_rate < 0 ||
      o->insert_rate < 0 || o->drop_rate + o->corrupt_rate + o->duplicate_rate + o->insert_rate > 1) {
    pal_transport_close(&inner);
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: fault rates must be >= 0 and sum to at most 1", inner.name);
  }
  fault_t *f = calloc(1, sizeof *f);
  if (!f) {
    pal_transport_close(&inner);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", inner.name);
  }
  f->inner = inner;
  f->opt = *o;
  f->rng = o->seed;
  out_transport->ops = &kFaultOps;
  out_transport->self = f;
  memcpy(out_transport->name, inner.name, sizeof out_transport->name);
  return PAL_STATUS_OK;
}

pal_status_t pal_transport_fault_get_stats(const pal_transport_t *transport,
                                           pal_fault_stats_t *out_stats) {
  if (!transport || transport->ops != &kFaultOps)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: not a fault-injecting transport",
                           transport ? transport->name : "(null)");
  *out_stats = ((const fault_t *)transport->self)->stats;
  return PAL_STATUS_OK;
}
