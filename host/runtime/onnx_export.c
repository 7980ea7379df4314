/* ONNX export: builds a ModelProto from the graph IR with the generated
 * protobuf-c types and packs it. Every allocation of the message tree goes
 * into one arena, freed in one place after packing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "runtime_internal.h"

typedef struct arena {
  void **ptrs;
  size_t n, cap;
  bool failed;
} arena_t;

static void *arena_alloc(arena_t *a, size_t size) {
  if (a->failed) return NULL;
  if (a->n == a->cap) {
    size_t cap = a->cap ? 2 * a->cap : 256;
    void **p = realloc(a->ptrs, cap * sizeof *p);
    if (!p) {
      a->failed = true;
      return NULL;
    }
    a->ptrs = p;
    a->cap = cap;
  }
  void *m = calloc(1, size ? size : 1);
  if (!m) {
    a->failed = true;
    return NULL;
  }
  a->ptrs[a->n++] = m;
  return m;
}

static void arena_free(arena_t *a) {
  for (size_t i = 0; i < a->n; i++) free(a->ptrs[i]);
  free(a->ptrs);
}

static int onnx_type_of(pal_dtype_t d) {
  switch (d) {
    case PAL_DTYPE_FP32: return ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    case PAL_DTYPE_INT64: return ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    case PAL_DTYPE_INT32: return ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    case PAL_DTYPE_BOOL: return ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
    case PAL_DTYPE_UINT8: return ONNX__TENSOR_PROTO__DATA_TYPE__UINT8;
    default: return 0;
  }
}

static Onnx__TensorProto *tensor_proto(arena_t *a, const pal_tensor_t *t, char *name,
                                       pal_status_t *st) {
  if (!onnx_type_of(t->dtype)) {
    *st = pal_status_make(PAL_UNIMPLEMENTED, "ONNX export: tensor '%s' of type %s has no ONNX type",
                          name ? name : "", pal_dtype_name(t->dtype));
    return NULL;
  }
  Onnx__TensorProto *tp = arena_alloc(a, sizeof *tp);
  if (!tp) return NULL;
  onnx__tensor_proto__init(tp);
  tp->name = name;
  tp->has_data_type = 1;
  tp->data_type = onnx_type_of(t->dtype);
  tp->n_dims = t->rank;
  tp->dims = arena_alloc(a, (t->rank ? t->rank : 1) * sizeof(int64_t));
  if (!tp->dims) return NULL;
  for (size_t i = 0; i < t->rank; i++) tp->dims[i] = t->dims[i];
  tp->has_raw_data = 1;
  tp->raw_data.len = pal_tensor_nbytes(t);
  tp->raw_data.data = arena_alloc(a, tp->raw_data.len);
  if (!tp->raw_data.data) return NULL;
  if (tp->raw_data.len) memcpy(tp->raw_data.data, t->data, tp->raw_data.len);
  return tp;
}

static Onnx__ValueInfoProto *value_info(arena_t *a, const pal_value_t *v) {
  Onnx__ValueInfoProto *vi = arena_alloc(a, sizeof *vi);
  if (!vi) return NULL;
  onnx__value_info_proto__init(vi);
  vi->name = v->name;
  if (!onnx_type_of(v->dtype)) return vi; /* type unknown: leave it out */
  Onnx__TypeProto *tp = arena_alloc(a, sizeof *tp);
  Onnx__TypeProto__Tensor *tt = arena_alloc(a, sizeof *tt);
  if (!tp || !tt) return NULL;
  onnx__type_proto__init(tp);
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1;
  tt->elem_type = onnx_type_of(v->dtype);
  if (v->shape.rank >= 0) {
    Onnx__TensorShapeProto *sp = arena_alloc(a, sizeof *sp);
    if (!sp) return NULL;
    onnx__tensor_shape_proto__init(sp);
    sp->n_dim = (size_t)v->shape.rank;
    sp->dim = arena_alloc(a, (sp->n_dim ? sp->n_dim : 1) * sizeof *sp->dim);
    if (!sp->dim) return NULL;
    for (int i = 0; i < v->shape.rank; i++) {
      Onnx__TensorShapeProto__Dimension *d = arena_alloc(a, sizeof *d);
      if (!d) return NULL;
      onnx__tensor_shape_proto__dimension__init(d);
      if (v->shape.dims[i] >= 0) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = v->shape.dims[i];
      } else {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
        d->dim_param = arena_alloc(a, 24);
        if (!d->dim_param) return NULL;
        snprintf(d->dim_param, 24, "d%d", i);
      }
      sp->dim[i] = d;
    }
    tt->shape = sp;
  }
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->type = tp;
  return vi;
}

static Onnx__AttributeProto *attr_proto(arena_t *a, const pal_attr_t *at, pal_status_t *st) {
  Onnx__AttributeProto *ap = arena_alloc(a, sizeof *ap);
  if (!ap) return NULL;
  onnx__attribute_proto__init(ap);
  ap->name = at->name;
  ap->has_type = 1;
  switch (at->type) {
    case PAL_ATTR_FLOAT:
      ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
      ap->has_f = 1;
      ap->f = at->f;
      break;
    case PAL_ATTR_INT:
      ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
      ap->has_i = 1;
      ap->i = at->i;
      break;
    case PAL_ATTR_STRING:
      ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
      ap->has_s = 1;
      ap->s.data = (uint8_t *)at->s;
      ap->s.len = strlen(at->s);
      break;
    case PAL_ATTR_TENSOR:
      ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
      ap->t = tensor_proto(a, at->t, NULL, st);
      if (!ap->t) return NULL;
      break;
    case PAL_ATTR_FLOATS:
      ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
      ap->n_floats = at->n;
      ap->floats = at->floats;
      break;
    case PAL_ATTR_INTS:
      ap->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
      ap->n_ints = at->n;
      ap->ints = at->ints;
      break;
    default:
      *st = pal_status_make(PAL_UNIMPLEMENTED, "ONNX export: attribute '%s' has a type export lacks",
                            at->name);
      return NULL;
  }
  return ap;
}

pal_status_t pal_onnx_serialize(const pal_graph_t *g, uint8_t **out_data, size_t *out_size) {
  *out_data = NULL;
  *out_size = 0;
  arena_t a = {0};
  pal_status_t st = PAL_STATUS_OK;
  static char empty[] = "";
  static char producer[] = "libpal";

  Onnx__ModelProto m;
  Onnx__GraphProto gp;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsets[1] = {&opset};
  onnx__model_proto__init(&m);
  onnx__graph_proto__init(&gp);
  onnx__operator_set_id_proto__init(&opset);
  opset.domain = empty;
  opset.has_version = 1;
  opset.version = g->opset;
  m.has_ir_version = 1;
  m.ir_version = 8;
  m.n_opset_import = 1;
  m.opset_import = opsets;
  m.producer_name = producer;
  m.graph = &gp;
  gp.name = g->name;

  size_t n_init = 0;
  for (size_t i = 0; i < g->n_values; i++) n_init += g->values[i].init != NULL;
  gp.initializer = arena_alloc(&a, (n_init + 1) * sizeof *gp.initializer);
  gp.input = arena_alloc(&a, (g->n_inputs + 1) * sizeof *gp.input);
  gp.output = arena_alloc(&a, (g->n_outputs + 1) * sizeof *gp.output);
  gp.node = arena_alloc(&a, (g->n_nodes + 1) * sizeof *gp.node);
  if (a.failed) goto oom;
  for (size_t i = 0; i < g->n_values; i++) {
    if (!g->values[i].init) continue;
    Onnx__TensorProto *tp = tensor_proto(&a, g->values[i].init, g->values[i].name, &st);
    if (st) goto out;
    if (!tp) goto oom;
    gp.initializer[gp.n_initializer++] = tp;
  }
  for (size_t i = 0; i < g->n_inputs; i++) {
    if (!(gp.input[gp.n_input++] = value_info(&a, &g->values[g->inputs[i]]))) goto oom;
  }
  for (size_t i = 0; i < g->n_outputs; i++) {
    if (!(gp.output[gp.n_output++] = value_info(&a, &g->values[g->outputs[i]]))) goto oom;
  }
  for (size_t i = 0; i < g->n_nodes; i++) {
    const pal_node_t *n = &g->nodes[i];
    Onnx__NodeProto *np = arena_alloc(&a, sizeof *np);
    if (!np) goto oom;
    onnx__node_proto__init(np);
    np->op_type = n->op;
    np->name = n->name;
    np->domain = n->domain;
    np->n_input = n->n_in;
    np->input = arena_alloc(&a, (n->n_in + 1) * sizeof(char *));
    np->n_output = n->n_out;
    np->output = arena_alloc(&a, (n->n_out + 1) * sizeof(char *));
    np->attribute = arena_alloc(&a, (n->n_attr + 1) * sizeof *np->attribute);
    if (a.failed) goto oom;
    for (size_t k = 0; k < n->n_in; k++) np->input[k] = n->in[k] >= 0 ? g->values[n->in[k]].name : empty;
    for (size_t k = 0; k < n->n_out; k++)
      np->output[k] = n->out[k] >= 0 ? g->values[n->out[k]].name : empty;
    for (size_t k = 0; k < n->n_attr; k++) {
      Onnx__AttributeProto *ap = attr_proto(&a, &n->attr[k], &st);
      if (st) goto out;
      if (!ap) goto oom;
      np->attribute[np->n_attribute++] = ap;
    }
    gp.node[gp.n_node++] = np;
  }
  {
    size_t size = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) goto oom;
    onnx__model_proto__pack(&m, buf);
    *out_data = buf;
    *out_size = size;
  }
  goto out;
oom:
  st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "ONNX export of graph '%s': out of memory", g->name);
out:
  arena_free(&a);
  return st;
}

pal_status_t pal_onnx_save(const pal_graph_t *g, const char *path) {
  uint8_t *data;
  size_t size;
  PAL_RETURN_IF_ERROR(pal_onnx_serialize(g, &data, &size));
  FILE *f = fopen(path, "wb");
  if (!f) {
    free(data);
    return pal_status_make(PAL_IO_ERROR, "%s: cannot create the ONNX file", path);
  }
  size_t put = fwrite(data, 1, size, f);
  int rc = fclose(f);
  free(data);
  if (put != size || rc != 0)
    return pal_status_make(PAL_IO_ERROR, "%s: write failed (%zu of %zu bytes)", path, put, size);
  return PAL_STATUS_OK;
}
