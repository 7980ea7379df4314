/* The MLP in PAL8-B32 through the golden model's fast path (pal_gemm): the
 * numbers the tile produces for the same chain of dense layers, so the
 * evaluator can report PAL8 accuracy for the whole test set without
 * simulating the tile image by image. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pal/gemm.h"
#include "pal_train.h"

struct pal_mlp_pal8 {
  size_t n_layers;
  size_t sizes[PAL_MLP_MAX_LAYERS + 1];
  pal_b32_matrix_t w[PAL_MLP_MAX_LAYERS]; /* out x in, blocks along in */
  float *b[PAL_MLP_MAX_LAYERS];
};

size_t pal_argmax(const float *v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (v[i] > v[best] || (isnan(v[best]) && !isnan(v[i]))) best = i;
  return best;
}

pal_status_t pal_mlp_pal8_create(const pal_mlp_t *mlp, pal_mlp_pal8_t **out_q) {
  if (!mlp || !out_q) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_pal8_create: NULL argument");
  *out_q = NULL;
  pal_mlp_pal8_t *q = calloc(1, sizeof *q);
  if (!q) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_mlp_pal8_create: out of memory");
  q->n_layers = mlp->n_layers;
  memcpy(q->sizes, mlp->sizes, sizeof q->sizes);
  for (size_t l = 0; l < mlp->n_layers; l++) {
    size_t in = mlp->sizes[l], out = mlp->sizes[l + 1];
    pal_status_t st = pal_b32_matrix_create(out, in, &q->w[l]);
    q->b[l] = malloc(out * sizeof(float));
    if (st || !q->b[l]) {
      pal_mlp_pal8_destroy(q);
      return st ? pal_status_annotate(st, "encoding layer %zu", l)
                : pal_status_make(PAL_RESOURCE_EXHAUSTED, "pal_mlp_pal8_create: out of memory");
    }
    pal_b32_matrix_encode(mlp->w[l], in, &q->w[l]);
    memcpy(q->b[l], mlp->b[l], out * sizeof(float));
  }
  *out_q = q;
  return PAL_STATUS_OK;
}

void pal_mlp_pal8_destroy(pal_mlp_pal8_t *q) {
  if (!q) return;
  for (size_t l = 0; l < q->n_layers; l++) {
    pal_b32_matrix_release(&q->w[l]);
    free(q->b[l]);
  }
  free(q);
}

pal_status_t pal_mlp_pal8_forward(const pal_mlp_pal8_t *q, const float *x, size_t batch,
                                  int threads, float *const *acts, size_t *out_nar) {
  if (!q || !x || !acts) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_pal8_forward: NULL argument");
  if (batch == 0) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_pal8_forward: empty batch");
  pal_gemm_options_t go;
  pal_gemm_options_initialize(&go);
  go.threads = threads;
  size_t nar_total = 0;
  const float *cur = x;
  pal_status_t st = PAL_STATUS_OK;
  for (size_t l = 0; !st && l < q->n_layers; l++) {
    size_t in = q->sizes[l], out = q->sizes[l + 1];
    /* The layer's input in PAL8-B32 along its features: the host encodes
     * x, the tile's POST re-quantises every hidden output the same way. */
    pal_b32_matrix_t a;
    st = pal_b32_matrix_create(batch, in, &a);
    if (st) break;
    pal_b32_matrix_encode(cur, in, &a);
    pal_epilogue_t ep;
    pal_epilogue_initialize(&ep);
    ep.bias = q->b[l];
    ep.bias_mode = PAL_BIAS_START; /* the compiler's default (compile.h) */
    ep.act = l + 1 < q->n_layers ? PAL_ACT_RELU : PAL_ACT_NONE;
    size_t nar = 0;
    st = pal_gemm(&a, &q->w[l], &ep, &go, acts[l], out, &nar);
    pal_b32_matrix_release(&a);
    if (st) st = pal_status_annotate(st, "PAL8 layer %zu", l);
    nar_total += nar;
    cur = acts[l];
  }
  if (out_nar) *out_nar = nar_total;
  return st;
}
