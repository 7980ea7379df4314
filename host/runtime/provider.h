/* Execution providers, in the manner of ONNX Runtime's GetCapability: each
 * answers node by node whether it can run a node (with the reason when it
 * cannot), prepares the subgraphs the partitioner gives it, and runs them
 * over a table of values indexed by value id. */
#ifndef PAL_RUNTIME_PROVIDER_H
#define PAL_RUNTIME_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime_internal.h"

typedef struct pal_provider pal_provider_t;

struct pal_provider {
  const char *name;
  bool available;     /* false: skipped by the partitioner, `detail` says why */
  char detail[160];   /* one line for `pal info` and the placement summary */
  void *ctx;
  /* True when the provider can run node `node`; otherwise writes why into
   * reason. Must depend only on the graph (not on other assignments). */
  bool (*can_run)(pal_provider_t *p, const pal_graph_t *g, size_t node, char *reason,
                  size_t size);
  /* Prepares the subgraph of n nodes (topological order): compiles it for
   * a device, checks weights... *out_state is passed to run and release. */
  pal_status_t (*prepare)(pal_provider_t *p, const pal_graph_t *g, const size_t *nodes, size_t n,
                          void **out_state);
  /* Runs it: reads vals[input ids], writes new tensors into vals[output ids]
   * (owned by the caller afterwards). */
  pal_status_t (*run)(pal_provider_t *p, void *state, const pal_graph_t *g, const size_t *nodes,
                      size_t n, pal_tensor_t **vals);
  /* Writes a description of a prepared subgraph (tiling...) to f; may be NULL. */
  void (*describe)(pal_provider_t *p, void *state, FILE *f);
  /* Appends kernel images of the prepared state to the .palk at path
   * (NULL when the provider has none). */
  pal_status_t (*save_kernels)(pal_provider_t *p, void *state, const char *path);
  /* Adds the last run's device counters of a prepared state (may be NULL). */
  void (*add_stats)(pal_provider_t *p, void *state, pal_device_run_stats_t *io_stats);
  void (*release_state)(pal_provider_t *p, void *state);
  void (*destroy)(pal_provider_t *p);
  /* Set by the session around a run (may be NULL): providers that run node
   * by node call it after each node, for a finer progress bar. */
  void (*node_done)(void *ctx);
  void *node_done_ctx;
};

/* format: NULL or "fp32" (every op in FP32), or "pal8-b32": Gemm, MatMul
 * and Conv that the tile would take run in PAL8-B32 through pal_gemm
 * (include/pal/gemm.h), with the tile's fusion of bias and ReLU/Clip, bit
 * for bit as the pal provider; everything else in FP32. */
pal_status_t pal_provider_cpu_create(const char *format, pal_provider_t **out_provider);
/* Whether the tile's lowering (pal provider) takes node `node`: a Gemm,
 * MatMul or Conv with constant weights, or a bias Add / Relu / Clip fused
 * into one; otherwise writes why. Depends on the graph only. */
bool pal_tile_can_run(const pal_graph_t *g, size_t node, char *why, size_t size);
/* Opens the device at `uri` (NULL: the default device); when that fails,
 * or the compiler is not built in, the provider is created unavailable with
 * the reason in `detail`. */
pal_status_t pal_provider_pal_create(const char *uri, pal_provider_t **out_provider);
pal_status_t pal_provider_cuda_create(pal_provider_t **out_provider);
/* Whether the cuda provider would run node `node` given a GPU (a rule on
 * the graph alone: op, dtypes, ranks); otherwise writes why. */
bool pal_cuda_node_claim(const pal_graph_t *g, size_t node, char *why, size_t size);
void pal_provider_destroy(pal_provider_t *p);

/* The cpu provider's node runner, for other providers' fallbacks. */
pal_status_t pal_cpu_run_node(const pal_graph_t *g, size_t node, pal_tensor_t **vals);

/* Runs one node with another kernel: reads its inputs from vals, infers and
 * allocates its outputs (Constant and Shape come from the inference), calls
 * kernel(ctx, g, node, in, args, out) to fill them, then stores them in
 * vals. Errors are annotated with the node's label. */
typedef pal_status_t (*pal_node_kernel_fn)(void *ctx, const pal_graph_t *g, size_t node,
                                           pal_tensor_t **in, const pal_infer_arg_t *args,
                                           pal_tensor_t **out);
pal_status_t pal_run_node_with(const pal_graph_t *g, size_t node, pal_tensor_t **vals,
                               pal_node_kernel_fn kernel, void *kernel_ctx);

/* Number of nodes reading value `v` (plus one if it is a graph output). */
size_t pal_graph_value_uses(const pal_graph_t *g, int v);

/* Constant input k of node n (an initializer, or a value shape inference
 * folded to a constant), or NULL. */
const pal_tensor_t *pal_rt_const_input(const pal_graph_t *g, const pal_node_t *n, size_t k);

/* Folds the fused node n (a bias Add of a constant, Relu or Clip; its input
 * `from` is the layer's output) into a tile layer's epilogue: *bias gets a
 * copy of the bias (a previous one is freed), *act / *lo / *hi the
 * activation and Clip's bounds. provider_fuse.c. */
pal_status_t pal_rt_fuse_epilogue(const pal_graph_t *g, const pal_node_t *n, int from, float **bias,
                                  pal_activation_t *act, float *lo, float *hi);

#endif /* PAL_RUNTIME_PROVIDER_H */
