/* Model and data files of the demo: the MLP's parameters as .npy (through
 * the runtime's .npy reader and writer, include/pal/pal.h) and as an ONNX
 * model of Gemm and Relu nodes that `pal run` executes. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pal/pal.h"
#include "pal_train.h"

static pal_status_t write_f32(const char *path, size_t rank, const int64_t *dims, const float *data) {
  pal_tensor_t *t;
  PAL_RETURN_IF_ERROR(pal_tensor_create_from(PAL_DTYPE_FP32, rank, dims, data, &t));
  pal_status_t st = pal_npy_write(path, t);
  pal_tensor_release(t);
  return st;
}

pal_status_t pal_mlp_save_npy(const pal_mlp_t *mlp, const char *dir) {
  if (!mlp || !dir) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_save_npy: NULL argument");
  char path[PATH_MAX];
  for (size_t l = 0; l < mlp->n_layers; l++) {
    int64_t wd[2] = {(int64_t)mlp->sizes[l + 1], (int64_t)mlp->sizes[l]};
    snprintf(path, sizeof path, "%s/W%zu.npy", dir, l + 1);
    PAL_RETURN_IF_ERROR(write_f32(path, 2, wd, mlp->w[l]));
    snprintf(path, sizeof path, "%s/b%zu.npy", dir, l + 1);
    PAL_RETURN_IF_ERROR(write_f32(path, 1, wd, mlp->b[l]));
  }
  return PAL_STATUS_OK;
}

/* Reads an FP32 .npy of rank `rank`; dims[i] < 0 means "any" and is filled in. */
static pal_status_t read_f32(const char *path, size_t rank, int64_t *dims, pal_tensor_t **out) {
  pal_tensor_t *t;
  PAL_RETURN_IF_ERROR(pal_npy_read(path, &t));
  pal_status_t st = PAL_STATUS_OK;
  if (pal_tensor_dtype(t) != PAL_DTYPE_FP32)
    st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: dtype %s, expected float32 ('<f4')", path,
                         pal_dtype_name(pal_tensor_dtype(t)));
  else if (pal_tensor_rank(t) != rank)
    st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: rank %zu, expected %zu", path, pal_tensor_rank(t), rank);
  for (size_t i = 0; !st && i < rank; i++) {
    int64_t got = pal_tensor_dims(t)[i];
    if (dims[i] >= 0 && got != dims[i])
      st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: dimension %zu is %lld, expected %lld", path, i,
                           (long long)got, (long long)dims[i]);
    dims[i] = got;
  }
  if (st) {
    pal_tensor_release(t);
    return st;
  }
  *out = t;
  return PAL_STATUS_OK;
}

pal_status_t pal_mlp_load_npy(const char *dir, pal_mlp_t **out_mlp) {
  if (!dir || !out_mlp) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_load_npy: NULL argument");
  *out_mlp = NULL;
  char path[PATH_MAX];
  pal_tensor_t *w[PAL_MLP_MAX_LAYERS] = {0}, *b[PAL_MLP_MAX_LAYERS] = {0};
  size_t sizes[PAL_MLP_MAX_LAYERS + 1];
  size_t n = 0;
  pal_status_t st = PAL_STATUS_OK;
  for (; n < PAL_MLP_MAX_LAYERS; n++) {
    snprintf(path, sizeof path, "%s/W%zu.npy", dir, n + 1);
    if (access(path, F_OK) != 0) break;
    int64_t wd[2] = {-1, n ? (int64_t)sizes[n] : -1};
    st = read_f32(path, 2, wd, &w[n]);
    if (st) break;
    if (n == 0) sizes[0] = (size_t)wd[1];
    sizes[n + 1] = (size_t)wd[0];
    snprintf(path, sizeof path, "%s/b%zu.npy", dir, n + 1);
    int64_t bd[1] = {wd[0]};
    st = read_f32(path, 1, bd, &b[n]);
    if (st) break;
  }
  if (!st && n == 0)
    st = pal_status_make(PAL_NOT_FOUND, "%s/W1.npy: not found (train a model first: pal-train-mnist --out %s)",
                         dir, dir);
  pal_mlp_t *mlp = NULL;
  if (!st) st = pal_mlp_create(n, sizes, &mlp);
  for (size_t l = 0; !st && l < n; l++) {
    memcpy(mlp->w[l], pal_tensor_cdata(w[l]), sizes[l] * sizes[l + 1] * sizeof(float));
    memcpy(mlp->b[l], pal_tensor_cdata(b[l]), sizes[l + 1] * sizeof(float));
  }
  for (size_t l = 0; l < PAL_MLP_MAX_LAYERS; l++) {
    pal_tensor_release(w[l]);
    pal_tensor_release(b[l]);
  }
  if (st) {
    pal_mlp_destroy(mlp);
    return st;
  }
  *out_mlp = mlp;
  return PAL_STATUS_OK;
}

pal_status_t pal_mlp_save_onnx(const pal_mlp_t *mlp, const char *path) {
  if (!mlp || !path) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_mlp_save_onnx: NULL argument");
  pal_graph_t *g;
  PAL_RETURN_IF_ERROR(pal_graph_create("fashion_mlp", &g));
  pal_graph_set_opset(g, 13);
  pal_shape_t in_shape = {.rank = 2, .dims = {-1, (int64_t)mlp->sizes[0]}}; /* batch is symbolic */
  pal_status_t st = pal_graph_add_input(g, "x", PAL_DTYPE_FP32, &in_shape);
  char prev[32] = "x", wname[32], bname[32], yname[32], rname[32], nname[32];
  for (size_t l = 0; !st && l < mlp->n_layers; l++) {
    int64_t wd[2] = {(int64_t)mlp->sizes[l + 1], (int64_t)mlp->sizes[l]};
    pal_tensor_t *wt = NULL, *bt = NULL;
    snprintf(wname, sizeof wname, "W%zu", l + 1);
    snprintf(bname, sizeof bname, "b%zu", l + 1);
    st = pal_tensor_create_from(PAL_DTYPE_FP32, 2, wd, mlp->w[l], &wt);
    if (!st) st = pal_graph_add_initializer(g, wname, wt);
    if (!st) st = pal_tensor_create_from(PAL_DTYPE_FP32, 1, wd, mlp->b[l], &bt);
    if (!st) st = pal_graph_add_initializer(g, bname, bt);
    bool last = l + 1 == mlp->n_layers;
    snprintf(yname, sizeof yname, last ? "logits" : "gemm%zu", l + 1);
    snprintf(nname, sizeof nname, "fc%zu", l + 1);
    const char *ins[3] = {prev, wname, bname};
    const char *outs[1] = {yname};
    size_t node = 0;
    if (!st) st = pal_graph_add_node(g, "Gemm", nname, 3, ins, 1, outs, &node);
    if (!st) st = pal_graph_set_attr_int(g, node, "transB", 1);
    if (!st && !last) {
      snprintf(rname, sizeof rname, "relu%zu", l + 1);
      snprintf(nname, sizeof nname, "relu%zu", l + 1);
      const char *rins[1] = {yname};
      const char *routs[1] = {rname};
      st = pal_graph_add_node(g, "Relu", nname, 1, rins, 1, routs, &node);
      snprintf(prev, sizeof prev, "%s", rname);
    }
  }
  if (!st) st = pal_graph_add_output(g, "logits");
  if (!st) st = pal_graph_finalize(g);
  if (!st) st = pal_onnx_save(g, path);
  pal_graph_release(g);
  return st;
}

pal_status_t pal_save_dataset_npy(const float *x, const uint8_t *labels, size_t n, size_t d,
                                  const char *x_path, const char *y_path) {
  if (!x || !labels || !x_path || !y_path || n == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_save_dataset_npy: bad argument");
  int64_t xd[2] = {(int64_t)n, (int64_t)d};
  PAL_RETURN_IF_ERROR(write_f32(x_path, 2, xd, x));
  pal_tensor_t *t;
  int64_t yd[1] = {(int64_t)n};
  PAL_RETURN_IF_ERROR(pal_tensor_create(PAL_DTYPE_INT64, 1, yd, &t));
  int64_t *y = pal_tensor_data(t);
  for (size_t i = 0; i < n; i++) y[i] = labels[i];
  pal_status_t st = pal_npy_write(y_path, t);
  pal_tensor_release(t);
  return st;
}
