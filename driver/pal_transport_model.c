/* An in-memory byte stream to an in-process link-engine model (the emu://
 * device through the protocol). Host bytes go to the model at once; its
 * replies queue up until read. Time is virtual: a read that finds nothing
 * tells the model the line has been idle past its timeout and returns
 * without sleeping, so retransmission tests run at memory speed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/driver.h"

typedef struct model_transport {
  pal_link_model_t *model;
  uint8_t *buf; /* replies not yet read: buf[pos..len) */
  size_t pos, len, cap;
  int oom;      /* a reply was lost for want of memory: reads as line noise would */
} model_transport_t;

static void model_emit(void *ctx, const uint8_t *bytes, size_t n) {
  model_transport_t *t = ctx;
  if (t->pos == t->len) t->pos = t->len = 0;
  if (t->len + n > t->cap) {
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + n) cap *= 2;
    uint8_t *b = realloc(t->buf, cap);
    if (!b) {
      t->oom = 1;
      return;
    }
    t->buf = b;
    t->cap = cap;
  }
  memcpy(t->buf + t->len, bytes, n);
  t->len += n;
}

static pal_status_t model_write(void *self, const uint8_t *data, size_t len, uint32_t timeout_ms) {
  (void)timeout_ms;
  model_transport_t *t = self;
  pal_link_model_receive(t->model, data, len);
  return PAL_STATUS_OK;
}

static pal_status_t model_read(void *self, uint8_t *data, size_t cap, size_t *out_len,
                               uint32_t timeout_ms) {
  (void)timeout_ms;
  model_transport_t *t = self;
  size_t n = t->len - t->pos;
  if (n == 0) {
    /* The host waited out its timeout; the device saw that much silence. */
    pal_link_model_idle(t->model, UINT64_MAX);
    *out_len = 0;
    return PAL_STATUS_OK;
  }
  if (n > cap) n = cap;
  memcpy(data, t->buf + t->pos, n);
  t->pos += n;
  *out_len = n;
  return PAL_STATUS_OK;
}

static pal_status_t model_purge(void *self) {
  model_transport_t *t = self;
  t->pos = t->len = 0;
  return PAL_STATUS_OK;
}

static void model_close(void *self) {
  model_transport_t *t = self;
  if (!t) return;
  pal_link_model_set_emit(t->model, NULL, NULL);
  free(t->buf);
  free(t);
}

static const pal_transport_ops_t kModelOps = {model_write, model_read, model_purge, model_close};

pal_status_t pal_transport_model_open(pal_link_model_t *model, const char *name,
                                      pal_transport_t *out_transport) {
  memset(out_transport, 0, sizeof *out_transport);
  model_transport_t *t = calloc(1, sizeof *t);
  if (!t) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", name);
  t->model = model;
  pal_link_model_set_emit(model, model_emit, t);
  out_transport->ops = &kModelOps;
  out_transport->self = t;
  snprintf(out_transport->name, sizeof out_transport->name, "%s", name ? name : "emu://");
  return PAL_STATUS_OK;
}
