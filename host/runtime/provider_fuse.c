/* What the tile-shaped providers (pal, and cpu in PAL8-B32) share about a
 * fused layer: its constant inputs, and the epilogue (bias Add, Relu, Clip)
 * the partitioner fused into it. One copy, so the cpu provider's bit-exact
 * PAL8 path and the device can never disagree about what a fused node means. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"

const pal_tensor_t *pal_rt_const_input(const pal_graph_t *g, const pal_node_t *n, size_t k) {
  if (k >= n->n_in || n->in[k] < 0) return NULL;
  const pal_value_t *v = &g->values[n->in[k]];
  return v->init ? v->init : v->known;
}

pal_status_t pal_rt_fuse_epilogue(const pal_graph_t *g, const pal_node_t *n, int from, float **bias,
                                  pal_activation_t *act, float *lo, float *hi) {
  if (strcmp(n->op, "Add") == 0) {
    const pal_tensor_t *b = g->values[n->in[1 - from]].init;
    float *copy = malloc(b->count * sizeof(float));
    if (!copy) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(copy, b->data, b->count * sizeof(float));
    free(*bias);
    *bias = copy;
  } else if (strcmp(n->op, "Relu") == 0) {
    *act = PAL_ACT_RELU;
  } else { /* Clip: bounds as attributes before opset 11, as inputs since */
    *act = PAL_ACT_CLIP;
    if (g->opset < 11) {
      *lo = pal_node_attr_float(n, "min", -INFINITY);
      *hi = pal_node_attr_float(n, "max", INFINITY);
    } else {
      const pal_tensor_t *l = pal_rt_const_input(g, n, 1), *h = pal_rt_const_input(g, n, 2);
      *lo = l && l->count ? ((const float *)l->data)[0] : -INFINITY;
      *hi = h && h->count ? ((const float *)h->data)[0] : INFINITY;
    }
  }
  return PAL_STATUS_OK;
}
