/* ONNX import: unpacks a ModelProto with the protobuf-c code generated at
 * build time from Debian's onnx.proto and turns it into the graph IR.
 * Everything read from the file is untrusted: sizes are checked against the
 * data before anything is allocated, external data must stay inside the
 * model's folder, and every error names the file, the node and the field. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "onnx.pb-c.h"
#include "runtime_internal.h"


/* Largest model file read into memory. */
#define PAL_ONNX_MAX_FILE ((size_t)1 << 31)

static const char *onnx_type_name(int64_t t) {
  static const char *const names[] = {"UNDEFINED", "FLOAT",  "UINT8",     "INT8",      "UINT16",
                                      "INT16",     "INT32",  "INT64",     "STRING",    "BOOL",
                                      "FLOAT16",   "DOUBLE", "UINT32",    "UINT64",    "COMPLEX64",
                                      "COMPLEX128", "BFLOAT16"};
  return t >= 0 && t <= 16 ? names[t] : "unknown";
}

typedef struct import_ctx {
  const char *file;     /* for messages */
  const char *base_dir; /* NULL: external data refused */
} import_ctx_t;

pal_status_t pal_file_read_all(const char *path, size_t max, uint8_t **out_data, size_t *out_size) {
  *out_data = NULL;
  *out_size = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return pal_status_make(PAL_NOT_FOUND, "%s: cannot open: %s", path, strerror(errno));
  struct stat stt;
  if (fstat(fileno(f), &stt) != 0 || !S_ISREG(stt.st_mode)) {
    fclose(f);
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: not a regular file", path);
  }
  if ((size_t)stt.st_size > max) {
    fclose(f);
    return pal_status_make(PAL_OUT_OF_RANGE, "%s: %lld bytes is larger than the %zu allowed", path,
                           (long long)stt.st_size, max);
  }
  size_t size = (size_t)stt.st_size;
  uint8_t *data = malloc(size ? size : 1);
  if (!data) {
    fclose(f);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory for %zu bytes", path, size);
  }
  size_t got = fread(data, 1, size, f);
  fclose(f);
  if (got != size) {
    free(data);
    return pal_status_make(PAL_IO_ERROR, "%s: short read (%zu of %zu bytes)", path, got, size);
  }
  *out_data = data;
  *out_size = size;
  return PAL_STATUS_OK;
}

/* Reads `length` bytes at `offset` of an external data file `location`,
 * which must name a file inside base_dir (no absolute paths, no "..", no
 * symlink leading out). */
static pal_status_t read_external(const import_ctx_t *cx, const char *what, const char *location,
                                  int64_t offset, int64_t length, size_t expect, uint8_t **out) {
  *out = NULL;
  if (!cx->base_dir)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: %s: external data '%s' cannot be read (model not loaded from a file)",
                           cx->file, what, location);
  if (!location || !*location || location[0] == '/' || strstr(location, "..") ||
      strchr(location, '\\'))
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: %s: external_data 'location' = '%s' escapes the model's folder",
                           cx->file, what, location ? location : "");
  char path[PATH_MAX], real_base[PATH_MAX], real_path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", cx->base_dir, location) >= (int)sizeof path)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: external data path too long", cx->file,
                           what);
  if (!realpath(cx->base_dir, real_base) || !realpath(path, real_path))
    return pal_status_make(PAL_NOT_FOUND, "%s: %s: external data file '%s' not found", cx->file,
                           what, location);
  size_t bl = strlen(real_base);
  if (strncmp(real_path, real_base, bl) != 0 || real_path[bl] != '/')
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: %s: external data '%s' resolves outside the model's folder",
                           cx->file, what, location);
  FILE *f = fopen(real_path, "rb");
  if (!f)
    return pal_status_make(PAL_NOT_FOUND, "%s: %s: cannot open external data '%s': %s", cx->file,
                           what, location, strerror(errno));
  struct stat stt;
  fstat(fileno(f), &stt);
  int64_t fsize = stt.st_size;
  if (length < 0) length = fsize - offset;
  if (offset < 0 || offset > fsize || length != (int64_t)expect || offset + length > fsize) {
    fclose(f);
    return pal_status_make(PAL_DATA_LOSS,
                           "%s: %s: external data '%s' (offset %lld, length %lld) does not hold the "
                           "%zu bytes the dims need (file has %lld)",
                           cx->file, what, location, (long long)offset, (long long)length, expect,
                           (long long)fsize);
  }
  uint8_t *buf = malloc(expect ? expect : 1);
  if (!buf) {
    fclose(f);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: %s: out of memory", cx->file, what);
  }
  if (fseeko(f, offset, SEEK_SET) != 0 || fread(buf, 1, expect, f) != expect) {
    free(buf);
    fclose(f);
    return pal_status_make(PAL_IO_ERROR, "%s: %s: short read of external data '%s'", cx->file,
                           what, location);
  }
  fclose(f);
  *out = buf;
  return PAL_STATUS_OK;
}

/* TensorProto -> tensor. `what` names it in messages ("initializer 'w'"). */
static pal_status_t tensor_from_proto(const import_ctx_t *cx, const Onnx__TensorProto *tp,
                                      const char *what, pal_tensor_t **out) {
  *out = NULL;
  int32_t dt = tp->has_data_type ? tp->data_type : 0;
  pal_dtype_t dtype = pal_dtype_from_onnx(dt);
  if (!dtype)
    return pal_status_make(PAL_UNIMPLEMENTED,
                           "%s: %s: field 'data_type' = %d (%s) is not supported (FLOAT, INT64, "
                           "INT32, BOOL, UINT8 are)",
                           cx->file, what, (int)dt, onnx_type_name(dt));
  if (tp->n_dims > PAL_MAX_RANK)
    return pal_status_make(PAL_UNIMPLEMENTED, "%s: %s: field 'dims' has rank %zu (at most %d)",
                           cx->file, what, tp->n_dims, PAL_MAX_RANK);
  if (tp->segment)
    return pal_status_make(PAL_UNIMPLEMENTED, "%s: %s: field 'segment' is not supported", cx->file,
                           what);
  size_t count = 1;
  for (size_t i = 0; i < tp->n_dims; i++) {
    if (tp->dims[i] < 0)
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: field 'dims'[%zu] is negative (%lld)",
                             cx->file, what, i, (long long)tp->dims[i]);
    if (tp->dims[i] && count > (PAL_TENSOR_MAX_BYTES / 8) / (uint64_t)tp->dims[i])
      return pal_status_make(PAL_OUT_OF_RANGE, "%s: %s: field 'dims' describes a tensor too large",
                             cx->file, what);
    count *= (size_t)tp->dims[i];
  }
  size_t es = pal_dtype_size(dtype);
  size_t nbytes = count * es;
  /* Where the data is, and that it is exactly as long as the dims say,
   * before allocating anything of that size. */
  const uint8_t *raw = NULL;
  uint8_t *ext = NULL;
  size_t typed = 0;
  bool external = tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  if (external) {
    const char *loc = NULL;
    int64_t off = 0, len = -1;
    for (size_t i = 0; i < tp->n_external_data; i++) {
      const Onnx__StringStringEntryProto *e = tp->external_data[i];
      if (!e->key || !e->value) continue;
      if (!strcmp(e->key, "location")) loc = e->value;
      else if (!strcmp(e->key, "offset")) off = strtoll(e->value, NULL, 10);
      else if (!strcmp(e->key, "length")) len = strtoll(e->value, NULL, 10);
    }
    if (!loc)
      return pal_status_make(PAL_INVALID_ARGUMENT,
                             "%s: %s: field 'external_data' has no 'location'", cx->file, what);
    PAL_RETURN_IF_ERROR(read_external(cx, what, loc, off, len, nbytes, &ext));
    raw = ext;
  } else if (tp->has_raw_data) {
    if (tp->raw_data.len != nbytes)
      return pal_status_make(PAL_DATA_LOSS,
                             "%s: %s: field 'raw_data' has %zu bytes, the dims need %zu", cx->file,
                             what, tp->raw_data.len, nbytes);
    raw = tp->raw_data.data;
  } else {
    typed = dtype == PAL_DTYPE_FP32    ? tp->n_float_data
            : dtype == PAL_DTYPE_INT64 ? tp->n_int64_data
                                       : tp->n_int32_data;
    if (typed != count)
      return pal_status_make(PAL_DATA_LOSS,
                             "%s: %s: field '%s' has %zu values, the dims need %zu", cx->file, what,
                             dtype == PAL_DTYPE_FP32    ? "float_data"
                             : dtype == PAL_DTYPE_INT64 ? "int64_data"
                                                        : "int32_data",
                             typed, count);
  }
  pal_tensor_t *t;
  pal_status_t st = pal_tensor_create(dtype, tp->n_dims, tp->dims, &t);
  if (st) {
    free(ext);
    return pal_status_annotate(st, "%s: %s", cx->file, what);
  }
  if (!nbytes) {
    /* empty tensor: nothing to copy (the typed arrays may be NULL) */
  } else if (raw) {
    memcpy(t->data, raw, nbytes); /* little-endian host */
  } else if (dtype == PAL_DTYPE_FP32) {
    memcpy(t->data, tp->float_data, nbytes);
  } else if (dtype == PAL_DTYPE_INT64) {
    memcpy(t->data, tp->int64_data, nbytes);
  } else if (dtype == PAL_DTYPE_INT32) {
    memcpy(t->data, tp->int32_data, nbytes);
  } else if (dtype == PAL_DTYPE_UINT8) { /* UINT8 in int32_data */
    for (size_t i = 0; i < count; i++) ((uint8_t *)t->data)[i] = (uint8_t)tp->int32_data[i];
  } else { /* BOOL in int32_data */
    for (size_t i = 0; i < count; i++) ((uint8_t *)t->data)[i] = tp->int32_data[i] != 0;
  }
  if (dtype == PAL_DTYPE_BOOL)
    for (size_t i = 0; i < count; i++) ((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
  free(ext);
  *out = t;
  return PAL_STATUS_OK;
}

static pal_status_t import_attr(const import_ctx_t *cx, pal_graph_t *g, size_t node,
                                const char *lbl, const Onnx__AttributeProto *a) {
  const char *name = a->name ? a->name : "";
  if (!*name)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: an attribute has no 'name'", cx->file, lbl);
  if (a->ref_attr_name && *a->ref_attr_name)
    return pal_status_make(PAL_UNIMPLEMENTED,
                           "%s: %s: attribute '%s': field 'ref_attr_name' (function attributes) is "
                           "not supported",
                           cx->file, lbl, name);
  int type = a->has_type ? (int)a->type : 0;
  if (!type) { /* old writers left the type out: guess it from what is set */
    if (a->has_f) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    else if (a->has_i) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    else if (a->has_s) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    else if (a->t) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    else if (a->n_floats) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    else if (a->n_ints) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    else if (a->n_strings) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
  }
  pal_status_t st = PAL_STATUS_OK;
  switch (type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
      st = pal_graph_set_attr_float(g, node, name, a->f);
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
      st = pal_graph_set_attr_int(g, node, name, a->i);
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
      char *s = malloc(a->s.len + 1);
      if (!s) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", cx->file);
      if (a->s.len) memcpy(s, a->s.data, a->s.len);
      s[a->s.len] = 0;
      st = pal_graph_set_attr_string(g, node, name, s);
      free(s);
      break;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
      if (!a->t)
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: attribute '%s' of type TENSOR has no 't'",
                               cx->file, lbl, name);
      char what[256];
      snprintf(what, sizeof what, "%s: attribute '%s'", lbl, name);
      pal_tensor_t *t;
      PAL_RETURN_IF_ERROR(tensor_from_proto(cx, a->t, what, &t));
      st = pal_graph_set_attr_tensor(g, node, name, t);
      break;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
      st = pal_graph_set_attr_floats(g, node, name, a->n_floats, a->floats);
      break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
      st = pal_graph_set_attr_ints(g, node, name, a->n_ints, a->ints);
      break;
    default:
      return pal_status_make(PAL_UNIMPLEMENTED,
                             "%s: %s: attribute '%s': field 'type' = %d is not supported (FLOAT, "
                             "INT, STRING, TENSOR, FLOATS, INTS are)",
                             cx->file, lbl, name, type);
  }
  return st;
}

static pal_status_t import_graph(const import_ctx_t *cx, const Onnx__ModelProto *m,
                                 pal_graph_t **out_graph) {
  const Onnx__GraphProto *gp = m->graph;
  if (!gp) return pal_status_make(PAL_INVALID_ARGUMENT, "%s: the model has no field 'graph'", cx->file);
  /* Opset of the default domain. */
  int64_t opset = -1;
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if (!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx"))
      opset = o->has_version ? o->version : -1;
  }
  if (opset < 0)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: field 'opset_import' has no version for the default ONNX domain",
                           cx->file);
  if (opset < PAL_ONNX_OPSET_MIN || opset > PAL_ONNX_OPSET_MAX)
    return pal_status_make(PAL_UNIMPLEMENTED,
                           "%s: field 'opset_import': opset %lld is not supported (%d..%d are)",
                           cx->file, (long long)opset, PAL_ONNX_OPSET_MIN, PAL_ONNX_OPSET_MAX);
  if (gp->n_sparse_initializer)
    return pal_status_make(PAL_UNIMPLEMENTED, "%s: field 'graph.sparse_initializer' is not supported",
                           cx->file);
  pal_graph_t *g;
  PAL_RETURN_IF_ERROR(pal_graph_create(gp->name && *gp->name ? gp->name : "main", &g));
  pal_graph_set_opset(g, opset);
  pal_status_t st = PAL_STATUS_OK;
  char what[256];

  for (size_t i = 0; i < gp->n_initializer && !st; i++) {
    const Onnx__TensorProto *tp = gp->initializer[i];
    if (!tp->name || !*tp->name) {
      st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: graph.initializer[%zu] has no 'name'", cx->file, i);
      break;
    }
    snprintf(what, sizeof what, "initializer '%s'", tp->name);
    pal_tensor_t *t;
    st = tensor_from_proto(cx, tp, what, &t);
    if (!st) st = pal_graph_add_initializer(g, tp->name, t);
  }
  for (size_t i = 0; i < gp->n_input && !st; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    if (!vi->name || !*vi->name) {
      st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: graph.input[%zu] has no 'name'", cx->file, i);
      break;
    }
    int id = pal_graph_find_value(g, vi->name);
    if (id >= 0 && g->values[id].init) continue; /* IR < 4: initializers listed as inputs */
    if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !vi->type->tensor_type) {
      st = pal_status_make(PAL_UNIMPLEMENTED, "%s: graph input '%s': field 'type' is not a tensor type",
                           cx->file, vi->name);
      break;
    }
    const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
    int64_t et = tt->has_elem_type ? tt->elem_type : 0;
    pal_dtype_t dtype = pal_dtype_from_onnx(et);
    if (!dtype) {
      st = pal_status_make(PAL_UNIMPLEMENTED,
                           "%s: graph input '%s': field 'elem_type' = %lld (%s) is not supported",
                           cx->file, vi->name, (long long)et, onnx_type_name(et));
      break;
    }
    pal_shape_t shape = {.rank = -1};
    if (tt->shape) {
      if (tt->shape->n_dim > PAL_MAX_RANK) {
        st = pal_status_make(PAL_UNIMPLEMENTED, "%s: graph input '%s': rank %zu exceeds %d", cx->file,
                             vi->name, tt->shape->n_dim, PAL_MAX_RANK);
        break;
      }
      shape.rank = (int)tt->shape->n_dim;
      for (size_t d = 0; d < tt->shape->n_dim; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        shape.dims[d] = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                            ? dim->dim_value
                            : -1;
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
            dim->dim_value < 0) {
          st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: graph input '%s': dim %zu is negative",
                               cx->file, vi->name, d);
          break;
        }
      }
      if (st) break;
    }
    st = pal_graph_add_input(g, vi->name, dtype, &shape);
  }
  for (size_t i = 0; i < gp->n_node && !st; i++) {
    const Onnx__NodeProto *np = gp->node[i];
    char lbl[200];
    snprintf(lbl, sizeof lbl, "node %zu '%s' (%s)", i, np->name ? np->name : "",
             np->op_type ? np->op_type : "?");
    if (!np->op_type || !*np->op_type) {
      st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: %s: field 'op_type' is empty", cx->file, lbl);
      break;
    }
    if (np->domain && *np->domain && strcmp(np->domain, "ai.onnx") != 0) {
      st = pal_status_make(PAL_UNIMPLEMENTED, "%s: %s: field 'domain' = '%s' is not supported",
                           cx->file, lbl, np->domain);
      break;
    }
    if (!pal_op_is_supported(np->op_type)) {
      st = pal_status_make(PAL_UNIMPLEMENTED, "%s: %s: field 'op_type': op '%s' is not supported",
                           cx->file, lbl, np->op_type);
      break;
    }
    size_t idx;
    st = pal_graph_add_node(g, np->op_type, np->name, np->n_input, (const char *const *)np->input,
                            np->n_output, (const char *const *)np->output, &idx);
    for (size_t a = 0; a < np->n_attribute && !st; a++)
      st = import_attr(cx, g, idx, lbl, np->attribute[a]);
  }
  for (size_t i = 0; i < gp->n_output && !st; i++) {
    const Onnx__ValueInfoProto *vi = gp->output[i];
    if (!vi->name || !*vi->name) {
      st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: graph.output[%zu] has no 'name'", cx->file, i);
      break;
    }
    st = pal_graph_add_output(g, vi->name);
  }
  if (!st) {
    st = pal_graph_finalize(g);
    if (st) st = pal_status_annotate(st, "%s", cx->file);
  }
  if (st) {
    pal_graph_release(g);
    return st;
  }
  *out_graph = g;
  return PAL_STATUS_OK;
}

pal_status_t pal_onnx_parse(const void *data, size_t size, const char *name, const char *base_dir,
                            pal_graph_t **out_graph) {
  *out_graph = NULL;
  import_ctx_t cx = {.file = name ? name : "<memory>", .base_dir = base_dir};
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
  if (!m)
    return pal_status_make(PAL_DATA_LOSS,
                           "%s: not a valid ONNX protobuf (truncated, or a field of the wrong wire "
                           "type) in %zu bytes",
                           cx.file, size);
  pal_status_t st = import_graph(&cx, m, out_graph);
  onnx__model_proto__free_unpacked(m, NULL);
  return st;
}

pal_status_t pal_onnx_load(const char *path, pal_graph_t **out_graph) {
  *out_graph = NULL;
  uint8_t *data;
  size_t size;
  PAL_RETURN_IF_ERROR(pal_file_read_all(path, PAL_ONNX_MAX_FILE, &data, &size));
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  else snprintf(dir, sizeof dir, ".");
  pal_status_t st = pal_onnx_parse(data, size, path, dir, out_graph);
  free(data);
  return st;
}

pal_status_t pal_onnx_parse_tensor(const void *data, size_t size, const char *name,
                                   pal_tensor_t **out_tensor) {
  *out_tensor = NULL;
  import_ctx_t cx = {.file = name ? name : "<memory>", .base_dir = NULL};
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, size, data);
  if (!tp)
    return pal_status_make(PAL_DATA_LOSS, "%s: not a valid ONNX TensorProto (%zu bytes)", cx.file,
                           size);
  pal_status_t st = tensor_from_proto(&cx, tp, "tensor", out_tensor);
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return st;
}
