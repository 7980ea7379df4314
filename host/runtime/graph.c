/* The graph IR: named values, ONNX-style nodes with attributes, graph
 * inputs and outputs; finalize() checks it, sorts it topologically and runs
 * shape inference (infer.c) over it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "runtime_internal.h"

static char *dup_str(const char *s) {
  size_t n = strlen(s ? s : "");
  char *d = malloc(n + 1);
  if (d) memcpy(d, s ? s : "", n + 1);
  return d;
}

#define OOM() pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory building the graph")

pal_status_t pal_graph_create(const char *name, pal_graph_t **out_graph) {
  pal_graph_t *g = calloc(1, sizeof *g);
  if (!g || !(g->name = dup_str(name ? name : "graph"))) {
    free(g);
    return OOM();
  }
  g->opset = 17;
  *out_graph = g;
  return PAL_STATUS_OK;
}

static void attr_free(pal_attr_t *a) {
  free(a->name);
  free(a->s);
  pal_tensor_release(a->t);
  free(a->ints);
  free(a->floats);
  if (a->strings)
    for (size_t i = 0; i < a->n; i++) free(a->strings[i]);
  free(a->strings);
}

void pal_graph_release(pal_graph_t *g) {
  if (!g) return;
  for (size_t i = 0; i < g->n_values; i++) {
    free(g->values[i].name);
    pal_tensor_release(g->values[i].init);
    pal_tensor_release(g->values[i].known);
  }
  for (size_t i = 0; i < g->n_nodes; i++) {
    pal_node_t *n = &g->nodes[i];
    free(n->op);
    free(n->name);
    free(n->domain);
    free(n->in);
    free(n->out);
    for (size_t a = 0; a < n->n_attr; a++) attr_free(&n->attr[a]);
    free(n->attr);
  }
  free(g->values);
  free(g->nodes);
  free(g->inputs);
  free(g->outputs);
  free(g->name);
  free(g);
}

const char *pal_graph_name(const pal_graph_t *g) { return g->name; }
void pal_graph_set_opset(pal_graph_t *g, int64_t opset) { g->opset = opset; }
int64_t pal_graph_opset(const pal_graph_t *g) { return g->opset; }

int pal_graph_find_value(const pal_graph_t *g, const char *name) {
  for (size_t i = 0; i < g->n_values; i++)
    if (strcmp(g->values[i].name, name) == 0) return (int)i;
  return -1;
}

pal_status_t pal_graph_intern_value(pal_graph_t *g, const char *name, int *out_id) {
  int id = pal_graph_find_value(g, name);
  if (id >= 0) {
    *out_id = id;
    return PAL_STATUS_OK;
  }
  if (g->n_values == g->cap_values) {
    size_t cap = g->cap_values ? 2 * g->cap_values : 16;
    pal_value_t *v = realloc(g->values, cap * sizeof *v);
    if (!v) return OOM();
    g->values = v;
    g->cap_values = cap;
  }
  pal_value_t *v = &g->values[g->n_values];
  memset(v, 0, sizeof *v);
  if (!(v->name = dup_str(name))) return OOM();
  v->shape.rank = -1;
  v->producer = -1;
  *out_id = (int)g->n_values++;
  g->finalized = false;
  return PAL_STATUS_OK;
}

static pal_status_t push_id(int **arr, size_t *n, int id) {
  int *a = realloc(*arr, (*n + 1) * sizeof *a);
  if (!a) return OOM();
  a[(*n)++] = id;
  *arr = a;
  return PAL_STATUS_OK;
}

pal_status_t pal_graph_add_input(pal_graph_t *g, const char *name, pal_dtype_t dtype,
                                 const pal_shape_t *shape) {
  if (!name || !*name)
    return pal_status_make(PAL_INVALID_ARGUMENT, "graph '%s': a graph input has no name", g->name);
  int id;
  PAL_RETURN_IF_ERROR(pal_graph_intern_value(g, name, &id));
  pal_value_t *v = &g->values[id];
  if (v->is_input)
    return pal_status_make(PAL_INVALID_ARGUMENT, "graph '%s': input '%s' is declared twice",
                           g->name, name);
  v->is_input = true;
  v->dtype = dtype;
  if (shape) v->shape = *shape;
  return push_id(&g->inputs, &g->n_inputs, id);
}

pal_status_t pal_graph_add_initializer(pal_graph_t *g, const char *name, pal_tensor_t *tensor) {
  int id;
  pal_status_t st = pal_graph_intern_value(g, name, &id);
  if (st) {
    pal_tensor_release(tensor);
    return st;
  }
  pal_value_t *v = &g->values[id];
  if (v->init) {
    pal_tensor_release(tensor);
    return pal_status_make(PAL_INVALID_ARGUMENT, "graph '%s': initializer '%s' is given twice",
                           g->name, name);
  }
  v->init = tensor;
  v->dtype = tensor->dtype;
  pal_shape_of_tensor(tensor, &v->shape);
  return PAL_STATUS_OK;
}

pal_status_t pal_graph_add_output(pal_graph_t *g, const char *name) {
  int id;
  PAL_RETURN_IF_ERROR(pal_graph_intern_value(g, name, &id));
  return push_id(&g->outputs, &g->n_outputs, id);
}

pal_status_t pal_graph_add_node(pal_graph_t *g, const char *op_type, const char *name,
                                size_t n_inputs, const char *const *inputs, size_t n_outputs,
                                const char *const *outputs, size_t *out_node) {
  if (g->n_nodes == g->cap_nodes) {
    size_t cap = g->cap_nodes ? 2 * g->cap_nodes : 16;
    pal_node_t *n = realloc(g->nodes, cap * sizeof *n);
    if (!n) return OOM();
    g->nodes = n;
    g->cap_nodes = cap;
  }
  pal_node_t *n = &g->nodes[g->n_nodes];
  memset(n, 0, sizeof *n);
  char auto_name[32];
  snprintf(auto_name, sizeof auto_name, "node%zu", g->n_nodes);
  n->op = dup_str(op_type);
  n->name = dup_str(name && *name ? name : auto_name);
  n->domain = dup_str("");
  n->in = calloc(n_inputs ? n_inputs : 1, sizeof *n->in);
  n->out = calloc(n_outputs ? n_outputs : 1, sizeof *n->out);
  if (!n->op || !n->name || !n->domain || !n->in || !n->out) {
    free(n->op), free(n->name), free(n->domain), free(n->in), free(n->out);
    return OOM();
  }
  size_t index = g->n_nodes++;
  n->n_in = n_inputs;
  n->n_out = n_outputs;
  for (size_t i = 0; i < n_inputs; i++) {
    n->in[i] = -1;
    if (inputs[i] && *inputs[i]) {
      int id;
      PAL_RETURN_IF_ERROR(pal_graph_intern_value(g, inputs[i], &id));
      g->nodes[index].in[i] = id;
    }
  }
  for (size_t i = 0; i < n_outputs; i++) {
    g->nodes[index].out[i] = -1;
    if (outputs[i] && *outputs[i]) {
      int id;
      PAL_RETURN_IF_ERROR(pal_graph_intern_value(g, outputs[i], &id));
      g->nodes[index].out[i] = id;
    }
  }
  g->finalized = false;
  if (out_node) *out_node = index;
  return PAL_STATUS_OK;
}

/* A fresh attribute slot on node `node` named `name` (replacing one of the
 * same name). */
static pal_status_t attr_slot(pal_graph_t *g, size_t node, const char *name, pal_attr_type_t type,
                              pal_attr_t **out) {
  if (node >= g->n_nodes)
    return pal_status_make(PAL_OUT_OF_RANGE, "graph '%s': no node %zu", g->name, node);
  pal_node_t *n = &g->nodes[node];
  for (size_t i = 0; i < n->n_attr; i++)
    if (strcmp(n->attr[i].name, name) == 0) {
      attr_free(&n->attr[i]);
      memmove(&n->attr[i], &n->attr[i + 1], (n->n_attr - i - 1) * sizeof *n->attr);
      n->n_attr--;
      break;
    }
  pal_attr_t *a = realloc(n->attr, (n->n_attr + 1) * sizeof *a);
  if (!a) return OOM();
  n->attr = a;
  pal_attr_t *slot = &a[n->n_attr];
  memset(slot, 0, sizeof *slot);
  if (!(slot->name = dup_str(name))) return OOM();
  slot->type = type;
  n->n_attr++;
  *out = slot;
  return PAL_STATUS_OK;
}

pal_status_t pal_graph_set_attr_int(pal_graph_t *g, size_t node, const char *name, int64_t v) {
  pal_attr_t *a;
  PAL_RETURN_IF_ERROR(attr_slot(g, node, name, PAL_ATTR_INT, &a));
  a->i = v;
  return PAL_STATUS_OK;
}

pal_status_t pal_graph_set_attr_float(pal_graph_t *g, size_t node, const char *name, float v) {
  pal_attr_t *a;
  PAL_RETURN_IF_ERROR(attr_slot(g, node, name, PAL_ATTR_FLOAT, &a));
  a->f = v;
  return PAL_STATUS_OK;
}

pal_status_t pal_graph_set_attr_string(pal_graph_t *g, size_t node, const char *name,
                                       const char *v) {
  pal_attr_t *a;
  PAL_RETURN_IF_ERROR(attr_slot(g, node, name, PAL_ATTR_STRING, &a));
  if (!(a->s = dup_str(v))) return OOM();
  return PAL_STATUS_OK;
}

pal_status_t pal_graph_set_attr_ints(pal_graph_t *g, size_t node, const char *name, size_t n,
                                     const int64_t *v) {
  pal_attr_t *a;
  PAL_RETURN_IF_ERROR(attr_slot(g, node, name, PAL_ATTR_INTS, &a));
  a->n = n;
  if (!(a->ints = malloc((n ? n : 1) * sizeof *v))) return OOM();
  if (n) memcpy(a->ints, v, n * sizeof *v);
  return PAL_STATUS_OK;
}

pal_status_t pal_graph_set_attr_floats(pal_graph_t *g, size_t node, const char *name, size_t n,
                                       const float *v) {
  pal_attr_t *a;
  PAL_RETURN_IF_ERROR(attr_slot(g, node, name, PAL_ATTR_FLOATS, &a));
  a->n = n;
  if (!(a->floats = malloc((n ? n : 1) * sizeof *v))) return OOM();
  if (n) memcpy(a->floats, v, n * sizeof *v);
  return PAL_STATUS_OK;
}

pal_status_t pal_graph_set_attr_tensor(pal_graph_t *g, size_t node, const char *name,
                                       pal_tensor_t *v) {
  pal_attr_t *a;
  pal_status_t st = attr_slot(g, node, name, PAL_ATTR_TENSOR, &a);
  if (st) {
    pal_tensor_release(v);
    return st;
  }
  a->t = v;
  return PAL_STATUS_OK;
}

size_t pal_graph_node_count(const pal_graph_t *g) { return g->n_nodes; }
const char *pal_graph_node_op(const pal_graph_t *g, size_t node) { return g->nodes[node].op; }
const char *pal_graph_node_name(const pal_graph_t *g, size_t node) { return g->nodes[node].name; }
size_t pal_graph_input_count(const pal_graph_t *g) { return g->n_inputs; }
const char *pal_graph_input_name(const pal_graph_t *g, size_t i) {
  return g->values[g->inputs[i]].name;
}
size_t pal_graph_output_count(const pal_graph_t *g) { return g->n_outputs; }
const char *pal_graph_output_name(const pal_graph_t *g, size_t i) {
  return g->values[g->outputs[i]].name;
}

bool pal_graph_value_info(const pal_graph_t *g, const char *name, pal_dtype_t *out_dtype,
                          pal_shape_t *out_shape) {
  int id = pal_graph_find_value(g, name);
  if (id < 0 || g->values[id].dtype == PAL_DTYPE_UNDEFINED) return false;
  if (out_dtype) *out_dtype = g->values[id].dtype;
  if (out_shape) *out_shape = g->values[id].shape;
  return true;
}

const pal_tensor_t *pal_graph_initializer(const pal_graph_t *g, const char *name) {
  int id = pal_graph_find_value(g, name);
  return id >= 0 ? g->values[id].init : NULL;
}

const char *pal_node_label(const pal_graph_t *g, size_t node, char *buf, size_t size) {
  snprintf(buf, size, "node %zu '%s' (%s)", node, g->nodes[node].name, g->nodes[node].op);
  return buf;
}

const pal_attr_t *pal_node_attr(const pal_node_t *n, const char *name) {
  for (size_t i = 0; i < n->n_attr; i++)
    if (strcmp(n->attr[i].name, name) == 0) return &n->attr[i];
  return NULL;
}

int64_t pal_node_attr_int(const pal_node_t *n, const char *name, int64_t fallback) {
  const pal_attr_t *a = pal_node_attr(n, name);
  return a && a->type == PAL_ATTR_INT ? a->i : fallback;
}

float pal_node_attr_float(const pal_node_t *n, const char *name, float fallback) {
  const pal_attr_t *a = pal_node_attr(n, name);
  return a && a->type == PAL_ATTR_FLOAT ? a->f : fallback;
}

const char *pal_node_attr_string(const pal_node_t *n, const char *name, const char *fallback) {
  const pal_attr_t *a = pal_node_attr(n, name);
  return a && a->type == PAL_ATTR_STRING ? a->s : fallback;
}

const int64_t *pal_node_attr_ints(const pal_node_t *n, const char *name, size_t *out_n) {
  const pal_attr_t *a = pal_node_attr(n, name);
  if (!a || a->type != PAL_ATTR_INTS) {
    *out_n = 0;
    return NULL;
  }
  *out_n = a->n;
  return a->ints;
}

/* Kahn's algorithm over value producers; ties keep the original order so
 * an already sorted graph is left as it is. */
static pal_status_t topo_sort(pal_graph_t *g) {
  size_t nn = g->n_nodes;
  if (!nn) return PAL_STATUS_OK;
  size_t *pending = calloc(nn, sizeof *pending);
  size_t *order = malloc(nn * sizeof *order);
  bool *done = calloc(nn, sizeof *done);
  pal_status_t st = PAL_STATUS_OK;
  if (!pending || !order || !done) {
    st = OOM();
    goto out;
  }
  for (size_t i = 0; i < nn; i++)
    for (size_t k = 0; k < g->nodes[i].n_in; k++) {
      int v = g->nodes[i].in[k];
      if (v >= 0 && g->values[v].producer >= 0) pending[i]++;
    }
  size_t placed = 0;
  while (placed < nn) {
    size_t pick = nn;
    for (size_t i = 0; i < nn; i++)
      if (!done[i] && pending[i] == 0) {
        pick = i;
        break;
      }
    if (pick == nn) {
      char lbl[160];
      for (size_t i = 0; i < nn; i++)
        if (!done[i]) {
          st = pal_status_make(PAL_INVALID_ARGUMENT, "graph '%s': %s is part of a cycle", g->name,
                               pal_node_label(g, i, lbl, sizeof lbl));
          break;
        }
      goto out;
    }
    done[pick] = true;
    order[placed++] = pick;
    for (size_t o = 0; o < g->nodes[pick].n_out; o++) {
      int v = g->nodes[pick].out[o];
      if (v < 0) continue;
      for (size_t i = 0; i < nn; i++)
        for (size_t k = 0; k < g->nodes[i].n_in; k++)
          if (g->nodes[i].in[k] == v) pending[i]--;
    }
  }
  pal_node_t *sorted = malloc(nn * sizeof *sorted);
  if (!sorted) {
    st = OOM();
    goto out;
  }
  for (size_t i = 0; i < nn; i++) sorted[i] = g->nodes[order[i]];
  memcpy(g->nodes, sorted, nn * sizeof *sorted);
  free(sorted);
  for (size_t i = 0; i < nn; i++)
    for (size_t o = 0; o < g->nodes[i].n_out; o++)
      if (g->nodes[i].out[o] >= 0) g->values[g->nodes[i].out[o]].producer = (int)i;
out:
  free(pending);
  free(order);
  free(done);
  return st;
}

pal_status_t pal_graph_finalize(pal_graph_t *g) {
  char lbl[160];
  for (size_t v = 0; v < g->n_values; v++) g->values[v].producer = -1;
  for (size_t i = 0; i < g->n_nodes; i++) {
    pal_node_t *n = &g->nodes[i];
    if (!pal_op_is_supported(n->op) || (n->domain[0] && strcmp(n->domain, "ai.onnx") != 0))
      return pal_status_make(PAL_UNIMPLEMENTED, "graph '%s': %s: op '%s%s%s' is not supported",
                             g->name, pal_node_label(g, i, lbl, sizeof lbl), n->domain,
                             n->domain[0] ? "." : "", n->op);
    for (size_t o = 0; o < n->n_out; o++) {
      int v = n->out[o];
      if (v < 0) continue;
      if (g->values[v].producer >= 0 || g->values[v].is_input || g->values[v].init)
        return pal_status_make(PAL_INVALID_ARGUMENT,
                               "graph '%s': %s: output %zu '%s' is already produced elsewhere",
                               g->name, lbl, o, g->values[v].name);
      g->values[v].producer = (int)i;
    }
  }
  for (size_t i = 0; i < g->n_nodes; i++)
    for (size_t k = 0; k < g->nodes[i].n_in; k++) {
      int v = g->nodes[i].in[k];
      if (v >= 0 && g->values[v].producer < 0 && !g->values[v].is_input && !g->values[v].init)
        return pal_status_make(PAL_INVALID_ARGUMENT,
                               "graph '%s': %s: input %zu '%s' is neither a graph input, an "
                               "initializer nor a node output (missing initializer?)",
                               g->name, pal_node_label(g, i, lbl, sizeof lbl), k,
                               g->values[v].name);
    }
  for (size_t o = 0; o < g->n_outputs; o++) {
    pal_value_t *v = &g->values[g->outputs[o]];
    if (v->producer < 0 && !v->is_input && !v->init)
      return pal_status_make(PAL_INVALID_ARGUMENT, "graph '%s': output '%s' is never produced",
                             g->name, v->name);
  }
  PAL_RETURN_IF_ERROR(topo_sort(g));

  /* Shape inference in topological order. */
  for (size_t i = 0; i < g->n_nodes; i++) {
    pal_node_t *n = &g->nodes[i];
    pal_infer_arg_t args[16];
    pal_dtype_t odt[8];
    pal_shape_t osh[8];
    pal_tensor_t *oval[8] = {0};
    if (n->n_in > 16 || n->n_out > 8)
      return pal_status_make(PAL_UNIMPLEMENTED, "graph '%s': %s has %zu inputs and %zu outputs; "
                             "at most 16 and 8 are supported", g->name,
                             pal_node_label(g, i, lbl, sizeof lbl), n->n_in, n->n_out);
    for (size_t k = 0; k < n->n_in; k++) {
      memset(&args[k], 0, sizeof args[k]);
      args[k].shape.rank = -1;
      if (n->in[k] < 0) continue;
      pal_value_t *v = &g->values[n->in[k]];
      args[k].dtype = v->dtype;
      args[k].shape = v->shape;
      args[k].value = v->init ? v->init : v->known;
    }
    for (size_t o = 0; o < n->n_out; o++) {
      odt[o] = PAL_DTYPE_UNDEFINED;
      osh[o].rank = -1;
    }
    pal_status_t st = pal_infer_node(g, i, args, odt, osh, oval);
    if (st) return pal_status_annotate(st, "graph '%s'", g->name);
    for (size_t o = 0; o < n->n_out; o++) {
      if (n->out[o] < 0) {
        pal_tensor_release(oval[o]);
        continue;
      }
      pal_tensor_release(g->values[n->out[o]].known);
      g->values[n->out[o]].known = oval[o];
    }
    /* Constant folding of small results whose inputs are all known (the
     * shape arithmetic of exported models: Gather, Concat, Cast, Mul on a
     * Shape), with the cpu kernels, so later shapes become known. */
    bool all_known = n->n_in > 0, small = true;
    for (size_t k = 0; k < n->n_in; k++)
      if (n->in[k] >= 0 && !args[k].value) all_known = false;
    for (size_t o = 0; o < n->n_out; o++)
      if (!pal_shape_known(&osh[o]) || pal_shape_count(&osh[o]) > 4096 || !odt[o] ||
          (n->out[o] >= 0 && g->values[n->out[o]].known))
        small = false;
    if (all_known && small) {
      pal_tensor_t **vals = calloc(g->n_values, sizeof *vals);
      if (!vals) return OOM();
      for (size_t k = 0; k < n->n_in; k++)
        if (n->in[k] >= 0) vals[n->in[k]] = (pal_tensor_t *)args[k].value;
      pal_status_t fst = pal_cpu_run_node(g, i, vals);
      for (size_t o = 0; o < n->n_out; o++) {
        if (n->out[o] < 0) continue;
        if (!fst) g->values[n->out[o]].known = vals[n->out[o]];
        else pal_tensor_release(vals[n->out[o]]);
      }
      free(vals);
      /* A node that cannot be folded now fails the same way at run time,
       * with the run's message; folding is only an optimisation here. */
      pal_status_free(fst);
    }
    for (size_t o = 0; o < n->n_out; o++) {
      if (n->out[o] < 0) continue;
      pal_value_t *v = &g->values[n->out[o]];
      v->dtype = odt[o];
      v->shape = osh[o];
    }
  }
  g->finalized = true;
  return PAL_STATUS_OK;
}

void pal_graph_print(const pal_graph_t *g, FILE *f) {
  char buf[160];
  fprintf(f, "graph '%s' (opset %lld): %zu inputs, %zu outputs, %zu nodes\n", g->name,
          (long long)g->opset, g->n_inputs, g->n_outputs, g->n_nodes);
  for (size_t i = 0; i < g->n_nodes; i++) {
    const pal_node_t *n = &g->nodes[i];
    fprintf(f, "  %3zu %-20s %-12s", i, n->name, n->op);
    for (size_t k = 0; k < n->n_in; k++)
      fprintf(f, "%s%s", k ? ", " : " ", n->in[k] >= 0 ? g->values[n->in[k]].name : "-");
    fprintf(f, " ->");
    for (size_t o = 0; o < n->n_out; o++) {
      if (n->out[o] < 0) continue;
      const pal_value_t *v = &g->values[n->out[o]];
      pal_shape_string(&v->shape, buf, sizeof buf);
      fprintf(f, " %s:%s%s", v->name, pal_dtype_name(v->dtype), buf);
    }
    fputc('\n', f);
  }
}
