/* The runtime's private structures: tensors, values, nodes and attributes
 * as the importer, the shape inference, the partitioner and the providers
 * see them. Public code goes through include/pal/pal.h. */
#ifndef PAL_RUNTIME_INTERNAL_H
#define PAL_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pal/pal.h"

/* Largest tensor the runtime allocates: a "2 GB dimension" in a malformed
 * model must be an error, not an attempt to allocate it. */
#define PAL_TENSOR_MAX_BYTES ((size_t)1 << 34)

struct pal_tensor {
  pal_dtype_t dtype;
  size_t rank;
  int64_t dims[PAL_MAX_RANK];
  size_t count;
  void *data;            /* plain types */
  pal_b32_matrix_t b32;  /* PAL8-B32 */
};

typedef struct pal_attr {
  char *name;
  pal_attr_type_t type;
  int64_t i;
  float f;
  char *s;
  pal_tensor_t *t;
  size_t n;        /* FLOATS / INTS / STRINGS */
  int64_t *ints;
  float *floats;
  char **strings;
} pal_attr_t;

typedef struct pal_node {
  char *op;
  char *name;
  char *domain;
  size_t n_in, n_out;
  int *in;   /* value ids, -1 for an absent optional input */
  int *out;
  size_t n_attr;
  pal_attr_t *attr;
} pal_node_t;

typedef struct pal_value {
  char *name;
  pal_dtype_t dtype;   /* UNDEFINED until known */
  pal_shape_t shape;   /* rank -1 until known */
  pal_tensor_t *init;  /* initializer, owned */
  pal_tensor_t *known; /* value known before running (Constant, folded Shape), owned */
  int producer;        /* node index, -1 for graph inputs and initializers */
  bool is_input;
} pal_value_t;

struct pal_graph {
  char *name;
  int64_t opset;
  size_t n_values, cap_values;
  pal_value_t *values;
  size_t n_nodes, cap_nodes;
  pal_node_t *nodes;
  size_t n_inputs, n_outputs;
  int *inputs;   /* value ids */
  int *outputs;
  bool finalized;
};

/* pal_tensor_create without the zero fill, for outputs a kernel writes in
 * full (a large GEMM output would otherwise be written twice). */
pal_status_t pal_tensor_create_uninit(pal_dtype_t dtype, size_t rank, const int64_t *dims,
                                      pal_tensor_t **out_tensor);

/* Value lookup; -1 when absent. */
int pal_graph_find_value(const pal_graph_t *graph, const char *name);
/* Finds or creates the value `name`. */
pal_status_t pal_graph_intern_value(pal_graph_t *graph, const char *name, int *out_id);

/* A short label for messages: "node 3 'conv1' (Conv)". */
const char *pal_node_label(const pal_graph_t *graph, size_t node, char *buf, size_t size);

const pal_attr_t *pal_node_attr(const pal_node_t *node, const char *name);
int64_t pal_node_attr_int(const pal_node_t *node, const char *name, int64_t fallback);
float pal_node_attr_float(const pal_node_t *node, const char *name, float fallback);
const char *pal_node_attr_string(const pal_node_t *node, const char *name, const char *fallback);
/* INTS attribute; *out_n = 0 and NULL when absent. */
const int64_t *pal_node_attr_ints(const pal_node_t *node, const char *name, size_t *out_n);

/* ---- shape inference (infer.c) ------------------------------------------ */

/* What is known about one input of a node: its type and shape, and its
 * value when it is a constant (initializers, Constant outputs, folded Shape). */
typedef struct pal_infer_arg {
  pal_dtype_t dtype;
  pal_shape_t shape;
  const pal_tensor_t *value; /* NULL if not known */
} pal_infer_arg_t;

/* Infers the output types and shapes of `node` from its inputs (absent
 * optional inputs have dtype UNDEFINED). Unknown dims stay -1. Fails with a
 * message naming the node and the field when the inputs contradict the op.
 * out_value (may be NULL) receives output values computable without running
 * anything (Constant, Shape of a known shape), owned by the caller. */
pal_status_t pal_infer_node(const pal_graph_t *graph, size_t node_index,
                            const pal_infer_arg_t *in, pal_dtype_t *out_dtype,
                            pal_shape_t *out_shape, pal_tensor_t **out_value);

/* Shapes as numbers: product of dims (0 if any unknown or negative). */
size_t pal_shape_count(const pal_shape_t *shape);
bool pal_shape_known(const pal_shape_t *shape);
void pal_shape_string(const pal_shape_t *shape, char *buf, size_t size);
void pal_shape_of_tensor(const pal_tensor_t *tensor, pal_shape_t *out_shape);

/* Integer elements of an INT64/INT32 tensor as int64 (up to max). */
size_t pal_tensor_ints(const pal_tensor_t *tensor, int64_t *out, size_t max);

/* ---- ONNX pieces for tools (onnx_import.c) ------------------------------- */

/* A serialized TensorProto (the node tests' input_N.pb / output_N.pb). */
pal_status_t pal_onnx_parse_tensor(const void *data, size_t size, const char *name,
                                   pal_tensor_t **out_tensor);
/* Reads a whole file (at most max bytes). */
pal_status_t pal_file_read_all(const char *path, size_t max, uint8_t **out_data, size_t *out_size);
/* ONNX TensorProto data_type -> dtype (UNDEFINED when not supported). */
pal_dtype_t pal_dtype_from_onnx(int64_t onnx_type);

#endif /* PAL_RUNTIME_INTERNAL_H */
