/* libpal: the runtime. Tensors, a graph IR with shape inference, ONNX import
 * and export, .npy files, and sessions that partition a graph over execution
 * providers (pal > cuda > cpu), print where every node runs and why, and run
 * it. Every fallible call returns a pal_status_t whose message names the
 * file, node and field at fault. */
#ifndef PAL_PAL_H
#define PAL_PAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pal/format.h"
#include "pal/ops.h" /* pal_shape_t, PAL_MAX_RANK */
#include "pal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* Tensors                                                                  */
/* ======================================================================== */

typedef enum pal_dtype {
  PAL_DTYPE_UNDEFINED = 0,
  PAL_DTYPE_FP32,
  PAL_DTYPE_INT64,
  PAL_DTYPE_INT32,
  PAL_DTYPE_BOOL,     /* one byte per element, 0 or 1 */
  PAL_DTYPE_UINT8,
  PAL_DTYPE_PAL8_B32, /* storage only: blocks of 32 along the last axis */
} pal_dtype_t;

const char *pal_dtype_name(pal_dtype_t dtype);
/* Bytes per element of the plain types (0 for PAL8-B32 and UNDEFINED). */
size_t pal_dtype_size(pal_dtype_t dtype);

/* A dense, C-ordered tensor that owns its data. Rank 0 is a scalar. */
typedef struct pal_tensor pal_tensor_t;

/* A zero-filled tensor. Fails on a negative dimension, a rank above
 * PAL_MAX_RANK or a size that overflows or exceeds 2^34 bytes. */
pal_status_t pal_tensor_create(pal_dtype_t dtype, size_t rank, const int64_t *dims,
                               pal_tensor_t **out_tensor);
/* A copy of `data` (count elements of dtype, C order). */
pal_status_t pal_tensor_create_from(pal_dtype_t dtype, size_t rank, const int64_t *dims,
                                    const void *data, pal_tensor_t **out_tensor);
pal_status_t pal_tensor_clone(const pal_tensor_t *tensor, pal_tensor_t **out_tensor);
void pal_tensor_release(pal_tensor_t *tensor);

pal_dtype_t pal_tensor_dtype(const pal_tensor_t *tensor);
size_t pal_tensor_rank(const pal_tensor_t *tensor);
const int64_t *pal_tensor_dims(const pal_tensor_t *tensor);
size_t pal_tensor_count(const pal_tensor_t *tensor);
/* Element data of plain types; NULL for PAL8-B32 (see below). */
void *pal_tensor_data(pal_tensor_t *tensor);
const void *pal_tensor_cdata(const pal_tensor_t *tensor);
size_t pal_tensor_nbytes(const pal_tensor_t *tensor);
/* "f32[2,3]" into buf. */
void pal_tensor_shape_string(const pal_tensor_t *tensor, char *buf, size_t size);

/* FP32 <-> PAL8-B32. The blocks run along the last axis, the other axes are
 * rows (a rank-0 or rank-1 tensor is one row). The PAL8-B32 tensor keeps
 * the logical shape. */
pal_status_t pal_tensor_to_pal8_b32(const pal_tensor_t *fp32, pal_tensor_t **out_tensor);
pal_status_t pal_tensor_from_pal8_b32(const pal_tensor_t *b32, pal_tensor_t **out_tensor);
/* The blocked matrix of a PAL8-B32 tensor (NULL for other types). */
const pal_b32_matrix_t *pal_tensor_b32(const pal_tensor_t *tensor);

/* ======================================================================== */
/* .npy files (format 1.0 and 2.0, C order, '<f4', '<i8', '|b1')            */
/* ======================================================================== */

pal_status_t pal_npy_read(const char *path, pal_tensor_t **out_tensor);
/* The same from memory; `name` is used in messages. */
pal_status_t pal_npy_parse(const void *data, size_t size, const char *name,
                           pal_tensor_t **out_tensor);
pal_status_t pal_npy_write(const char *path, const pal_tensor_t *tensor);

/* ======================================================================== */
/* Graph IR                                                                 */
/* ======================================================================== */

/* A graph: named values (graph inputs, initializers, node outputs), nodes in
 * ONNX form (op type, inputs and outputs by value name, attributes), and the
 * opset it was written against. */
typedef struct pal_graph pal_graph_t;

typedef enum pal_attr_type {
  PAL_ATTR_FLOAT = 1,
  PAL_ATTR_INT,
  PAL_ATTR_STRING,
  PAL_ATTR_TENSOR,
  PAL_ATTR_FLOATS,
  PAL_ATTR_INTS,
  PAL_ATTR_STRINGS,
} pal_attr_type_t;

/* In the graph, a shape may be partly unknown (pal_shape_t of pal/ops.h):
 * rank < 0 means unknown rank, a dim < 0 an unknown (symbolic) dimension. */

pal_status_t pal_graph_create(const char *name, pal_graph_t **out_graph);
void pal_graph_release(pal_graph_t *graph);

const char *pal_graph_name(const pal_graph_t *graph);
void pal_graph_set_opset(pal_graph_t *graph, int64_t opset);
int64_t pal_graph_opset(const pal_graph_t *graph);

/* Declares a graph input. `shape` may be NULL (unknown). */
pal_status_t pal_graph_add_input(pal_graph_t *graph, const char *name, pal_dtype_t dtype,
                                 const pal_shape_t *shape);
/* Adds an initializer (a constant value); takes ownership of `tensor`, also
 * on failure. */
pal_status_t pal_graph_add_initializer(pal_graph_t *graph, const char *name,
                                       pal_tensor_t *tensor);
/* Marks an existing or future value as a graph output. */
pal_status_t pal_graph_add_output(pal_graph_t *graph, const char *name);

/* Appends a node. Empty input names ("") are absent optional inputs. */
pal_status_t pal_graph_add_node(pal_graph_t *graph, const char *op_type, const char *name,
                                size_t n_inputs, const char *const *inputs, size_t n_outputs,
                                const char *const *outputs, size_t *out_node);
/* Attributes of node `node` (an index from pal_graph_add_node). The tensor
 * setter takes ownership. */
pal_status_t pal_graph_set_attr_int(pal_graph_t *graph, size_t node, const char *name, int64_t v);
pal_status_t pal_graph_set_attr_float(pal_graph_t *graph, size_t node, const char *name, float v);
pal_status_t pal_graph_set_attr_string(pal_graph_t *graph, size_t node, const char *name,
                                       const char *v);
pal_status_t pal_graph_set_attr_ints(pal_graph_t *graph, size_t node, const char *name,
                                     size_t n, const int64_t *v);
pal_status_t pal_graph_set_attr_floats(pal_graph_t *graph, size_t node, const char *name,
                                       size_t n, const float *v);
pal_status_t pal_graph_set_attr_tensor(pal_graph_t *graph, size_t node, const char *name,
                                       pal_tensor_t *v);

size_t pal_graph_node_count(const pal_graph_t *graph);
const char *pal_graph_node_op(const pal_graph_t *graph, size_t node);
const char *pal_graph_node_name(const pal_graph_t *graph, size_t node);
size_t pal_graph_input_count(const pal_graph_t *graph);
const char *pal_graph_input_name(const pal_graph_t *graph, size_t i);
size_t pal_graph_output_count(const pal_graph_t *graph);
const char *pal_graph_output_name(const pal_graph_t *graph, size_t i);
/* The inferred (or declared) type and shape of a value; false if unknown. */
bool pal_graph_value_info(const pal_graph_t *graph, const char *name, pal_dtype_t *out_dtype,
                          pal_shape_t *out_shape);

/* The initializer `name`, or NULL. Owned by the graph. */
const pal_tensor_t *pal_graph_initializer(const pal_graph_t *graph, const char *name);

/* Checks the graph (every input produced once, no cycles, known ops with
 * their required attributes), sorts the nodes topologically and infers the
 * dtype and shape of every value it can. Errors name the node and field. */
pal_status_t pal_graph_finalize(pal_graph_t *graph);

/* True if `op_type` (default ONNX domain) is on the supported list. */
bool pal_op_is_supported(const char *op_type);
/* The supported ops, NULL-terminated. */
const char *const *pal_supported_ops(void);

/* Writes a readable listing of the graph (one line a node). */
void pal_graph_print(const pal_graph_t *graph, FILE *f);

/* ======================================================================== */
/* ONNX                                                                     */
/* ======================================================================== */

#define PAL_ONNX_OPSET_MIN 7
#define PAL_ONNX_OPSET_MAX 17

/* Loads an ONNX model: initializers (inline or as external data in the
 * model's folder), graph inputs and outputs, nodes, attributes; checks the
 * opset (default domain, PAL_ONNX_OPSET_MIN..MAX) and every op against the
 * supported list, then finalizes the graph. */
pal_status_t pal_onnx_load(const char *path, pal_graph_t **out_graph);
/* The same from memory. `base_dir` is where external data may live (NULL:
 * external data is refused); `name` is used in messages. */
pal_status_t pal_onnx_parse(const void *data, size_t size, const char *name,
                            const char *base_dir, pal_graph_t **out_graph);
/* Writes `graph` as an ONNX model (IR version 8, opset of the graph, data
 * inline). */
pal_status_t pal_onnx_save(const pal_graph_t *graph, const char *path);
/* The serialized model into a malloc'ed buffer the caller frees. */
pal_status_t pal_onnx_serialize(const pal_graph_t *graph, uint8_t **out_data, size_t *out_size);

/* ======================================================================== */
/* Sessions: partitioning, placement, execution                             */
/* ======================================================================== */

/* Provider names, in default priority order. */
#define PAL_PROVIDER_PAL "pal"
#define PAL_PROVIDER_CUDA "cuda"
#define PAL_PROVIDER_CPU "cpu"

typedef struct pal_provider_status {
  const char *name;
  bool available;
  char detail[160]; /* "emu://, 4 x 4", "not built: no CUDA toolkit", ... */
} pal_provider_status_t;

/* The providers this build knows and whether they can run here. The device
 * URI is used for the pal provider (NULL: the default device). Fills up to
 * `max` entries, returns how many there are. */
size_t pal_providers_list(const char *device_uri, pal_provider_status_t *out, size_t max);
/* The default device URI: "sim://" when that scheme is registered in this
 * process, else "emu://". */
const char *pal_default_device(void);

typedef struct pal_session_options {
  const char *device_uri;   /* pal provider device; NULL: pal_default_device() */
  const char *providers;    /* comma-separated priority list; NULL: "pal,cuda,cpu" */
  bool no_fallback;         /* any node not on the first provider is an error */
  bool profile;             /* time every node / subgraph */
  /* Progress of a run in nodes (done of total; may be NULL): called after
   * each node the cpu and cuda providers run and after each subgraph (a
   * device subgraph counts its nodes at once). For progress bars. */
  void (*progress)(void *ctx, size_t done, size_t total);
  void *progress_ctx;
  /* The cpu provider's number format for Gemm/MatMul/Conv: NULL or
   * PAL_CPU_FORMAT_FP32 (OpenBLAS), or PAL_CPU_FORMAT_PAL8_B32: the nodes
   * the tile would take (constant weights, with the tile's fusion of a bias
   * Add and Relu/Clip) run in PAL8-B32 through pal_gemm (pal/gemm.h), bit
   * for bit as the pal provider on emu://; the other nodes stay FP32. */
  const char *cpu_format;
} pal_session_options_t;

#define PAL_CPU_FORMAT_FP32 "fp32"
#define PAL_CPU_FORMAT_PAL8_B32 "pal8-b32"

void pal_session_options_initialize(pal_session_options_t *options);

typedef struct pal_session pal_session_t;

/* Partitions `graph` (finalized; not owned, must outlive the session) over
 * the providers and prepares each subgraph (compiles device subgraphs). */
pal_status_t pal_session_create(const pal_graph_t *graph, const pal_session_options_t *options,
                                pal_session_t **out_session);
void pal_session_release(pal_session_t *session);

/* The placement summary: counts per provider, the subgraphs, and each
 * fallback with its reason. */
void pal_session_print_placement(const pal_session_t *session, FILE *f);
/* The provider node `node` runs on. */
const char *pal_session_node_provider(const pal_session_t *session, size_t node);
/* How many nodes run on provider `name`. */
size_t pal_session_provider_node_count(const pal_session_t *session, const char *name);

/* Runs the graph. inputs[i] binds graph input i (in graph order; not
 * owned). outputs receives graph output i, owned by the caller. */
pal_status_t pal_session_run(pal_session_t *session, size_t n_inputs,
                             const pal_tensor_t *const *inputs, size_t n_outputs,
                             pal_tensor_t **outputs);
/* What the device subgraphs did in the last run, summed (all zero when
 * nothing ran on a device). Counters as docs/isa.md §6 defines them;
 * array utilisation is cycles_busy / cycles_total. */
typedef struct pal_device_run_stats {
  uint64_t kernel_runs, spills;
  uint64_t bytes_to_device, bytes_from_device;
  uint64_t cycles_total, cycles_busy, macs_issued, macs_gated, act_skipped, blocks_skipped;
} pal_device_run_stats_t;

void pal_session_device_stats(const pal_session_t *session, pal_device_run_stats_t *out_stats);

/* Per-subgraph times of the last run (when options.profile). */
void pal_session_print_profile(const pal_session_t *session, FILE *f);

/* Writes the kernel images of the pal subgraphs to `path` (.palk): fails
 * when there is no device subgraph or the compiler is not built. */
pal_status_t pal_session_save_kernels(const pal_session_t *session, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* PAL_PAL_H */
