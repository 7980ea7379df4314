/* Sessions: the partitioner (each node to the first provider in priority
 * order that can run it, neighbouring nodes of one provider merged into
 * subgraphs), the placement summary, and execution over a value table. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pal/driver.h"
#include "provider.h"

#define MAX_PROVIDERS 4

typedef struct subgraph {
  int prov;
  size_t *nodes;
  size_t n;
  void *state;
  double seconds; /* last run */
} subgraph_t;

struct pal_session {
  const pal_graph_t *g;
  pal_session_options_t opt;
  pal_provider_t *prov[MAX_PROVIDERS];
  size_t n_prov;
  int *assign;    /* provider index per node */
  char **reason;  /* why node i is not on provider 0 (NULL when it is) */
  subgraph_t *subs;
  size_t n_subs;
  size_t runs;
  size_t nodes_done; /* in the current run, for the progress callback */
};

/* Progress in nodes: after each node of the providers that run node by
 * node, and after each subgraph (a device subgraph is one step). */
static void session_node_done(void *ctx) {
  pal_session_t *s = ctx;
  s->nodes_done++;
  if (s->opt.progress) s->opt.progress(s->opt.progress_ctx, s->nodes_done, s->g->n_nodes);
}

void pal_session_options_initialize(pal_session_options_t *o) {
  memset(o, 0, sizeof *o);
}

const char *pal_default_device(void) {
  char buf[2048];
  pal_device_schemes_usage(buf, sizeof buf);
  /* The driver lists its placeholder for sim:// as "(once ... registers
   * it)": only a real registration makes sim:// the default. */
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    line += strspn(line, " \t");
    if (!strncmp(line, "sim://", 6) && !strstr(line, "(once")) return "sim://";
  }
  return "emu://";
}

static pal_status_t make_provider(const char *name, const char *uri, const char *cpu_format,
                                  pal_provider_t **out) {
  if (!strcmp(name, PAL_PROVIDER_CPU)) return pal_provider_cpu_create(cpu_format, out);
  if (!strcmp(name, PAL_PROVIDER_PAL)) return pal_provider_pal_create(uri, out);
  if (!strcmp(name, PAL_PROVIDER_CUDA)) return pal_provider_cuda_create(out);
  return pal_status_make(PAL_INVALID_ARGUMENT,
                         "unknown provider '%s' (the providers are pal, cuda, cpu)", name);
}

size_t pal_providers_list(const char *device_uri, pal_provider_status_t *out, size_t max) {
  static const char *const names[] = {PAL_PROVIDER_PAL, PAL_PROVIDER_CUDA, PAL_PROVIDER_CPU};
  for (size_t i = 0; i < 3 && i < max; i++) {
    pal_provider_t *p = NULL;
    pal_status_t st = make_provider(names[i], device_uri, NULL, &p);
    out[i].name = names[i];
    if (st) {
      out[i].available = false;
      snprintf(out[i].detail, sizeof out[i].detail, "%s", pal_status_message(st));
      pal_status_free(st);
      continue;
    }
    out[i].available = p->available;
    snprintf(out[i].detail, sizeof out[i].detail, "%s", p->detail);
    pal_provider_destroy(p);
  }
  return 3;
}

void pal_session_release(pal_session_t *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n_subs; i++) {
    pal_provider_t *p = s->prov[s->subs[i].prov];
    if (s->subs[i].state && p->release_state) p->release_state(p, s->subs[i].state);
    free(s->subs[i].nodes);
  }
  free(s->subs);
  if (s->reason)
    for (size_t i = 0; i < s->g->n_nodes; i++) free(s->reason[i]);
  free(s->reason);
  free(s->assign);
  for (size_t i = 0; i < s->n_prov; i++) pal_provider_destroy(s->prov[i]);
  free(s);
}

static char *dup_str(const char *str) {
  size_t n = strlen(str);
  char *d = malloc(n + 1);
  if (d) memcpy(d, str, n + 1);
  return d;
}

pal_status_t pal_session_create(const pal_graph_t *g, const pal_session_options_t *options,
                                pal_session_t **out_session) {
  *out_session = NULL;
  if (!g->finalized)
    return pal_status_make(PAL_FAILED_PRECONDITION, "graph '%s' is not finalized", g->name);
  pal_session_t *s = calloc(1, sizeof *s);
  if (!s) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  s->g = g;
  if (options) s->opt = *options;
  pal_status_t st = PAL_STATUS_OK;
  /* Providers in priority order. */
  char list[128];
  snprintf(list, sizeof list, "%s", s->opt.providers ? s->opt.providers : "pal,cuda,cpu");
  char *save = NULL;
  for (char *tok = strtok_r(list, ",", &save); tok && !st; tok = strtok_r(NULL, ",", &save)) {
    if (s->n_prov == MAX_PROVIDERS) {
      st = pal_status_make(PAL_INVALID_ARGUMENT, "providers '%s': too many", s->opt.providers);
      break;
    }
    for (size_t i = 0; i < s->n_prov; i++)
      if (!strcmp(s->prov[i]->name, tok))
        st = pal_status_make(PAL_INVALID_ARGUMENT, "providers: '%s' is listed twice", tok);
    if (!st) st = make_provider(tok, s->opt.device_uri, s->opt.cpu_format, &s->prov[s->n_prov]);
    if (!st) s->n_prov++;
  }
  if (!st && !s->n_prov) st = pal_status_make(PAL_INVALID_ARGUMENT, "providers: the list is empty");
  size_t nn = g->n_nodes;
  if (!st) {
    s->assign = calloc(nn ? nn : 1, sizeof *s->assign);
    s->reason = calloc(nn ? nn : 1, sizeof *s->reason);
    if (!s->assign || !s->reason) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  }
  /* Node by node: the first available provider that accepts it. */
  for (size_t i = 0; i < nn && !st; i++) {
    char why[512] = "", r[256];
    int pick = -1;
    for (size_t p = 0; p < s->n_prov && pick < 0; p++) {
      pal_provider_t *pv = s->prov[p];
      if (!pv->available) {
        if (p == 0) snprintf(why, sizeof why, "%s: unavailable (%s)", pv->name, pv->detail);
        continue;
      }
      r[0] = 0;
      if (pv->can_run(pv, g, i, r, sizeof r)) {
        pick = (int)p;
      } else {
        size_t l = strlen(why);
        snprintf(why + l, sizeof why - l, "%s%s: %s", l ? "; " : "", pv->name, r);
      }
    }
    char lbl[160];
    if (pick < 0) {
      st = pal_status_make(PAL_UNIMPLEMENTED, "graph '%s': %s: no provider can run it (%s)",
                           g->name, pal_node_label(g, i, lbl, sizeof lbl), why);
      break;
    }
    s->assign[i] = pick;
    if (pick != 0) {
      if (!(s->reason[i] = dup_str(why))) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "oom");
      if (s->opt.no_fallback && !st)
        st = pal_status_make(PAL_FAILED_PRECONDITION,
                             "graph '%s': %s would fall back to %s (--no-fallback): %s", g->name,
                             pal_node_label(g, i, lbl, sizeof lbl), s->prov[pick]->name, why);
    }
  }
  /* Neighbouring nodes (in topological order) of one provider: one subgraph. */
  if (!st && nn) {
    s->subs = calloc(nn, sizeof *s->subs);
    if (!s->subs) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
    for (size_t i = 0; i < nn && !st; i++) {
      if (i == 0 || s->assign[i] != s->assign[i - 1]) {
        subgraph_t *sg = &s->subs[s->n_subs++];
        sg->prov = s->assign[i];
        sg->nodes = malloc(nn * sizeof *sg->nodes);
        if (!sg->nodes) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
      }
      if (!st) {
        subgraph_t *sg = &s->subs[s->n_subs - 1];
        sg->nodes[sg->n++] = i;
      }
    }
    for (size_t k = 0; k < s->n_subs && !st; k++) {
      subgraph_t *sg = &s->subs[k];
      pal_provider_t *p = s->prov[sg->prov];
      st = p->prepare(p, g, sg->nodes, sg->n, &sg->state);
      if (st) st = pal_status_annotate(st, "preparing subgraph %zu on %s", k, p->name);
    }
  }
  if (st) {
    pal_session_release(s);
    return st;
  }
  *out_session = s;
  return PAL_STATUS_OK;
}

const char *pal_session_node_provider(const pal_session_t *s, size_t node) {
  return node < s->g->n_nodes ? s->prov[s->assign[node]]->name : NULL;
}

size_t pal_session_provider_node_count(const pal_session_t *s, const char *name) {
  size_t c = 0;
  for (size_t i = 0; i < s->g->n_nodes; i++) c += !strcmp(s->prov[s->assign[i]]->name, name);
  return c;
}

void pal_session_print_placement(const pal_session_t *s, FILE *f) {
  const pal_graph_t *g = s->g;
  fprintf(f, "placement of graph '%s': %zu nodes:", g->name, g->n_nodes);
  for (size_t p = 0; p < s->n_prov; p++)
    fprintf(f, "%s %s %zu", p ? "," : "", s->prov[p]->name,
            pal_session_provider_node_count(s, s->prov[p]->name));
  fputc('\n', f);
  for (size_t p = 0; p < s->n_prov; p++)
    fprintf(f, "  provider %-4s %s: %s\n", s->prov[p]->name,
            s->prov[p]->available ? "ready  " : "skipped", s->prov[p]->detail);
  for (size_t k = 0; k < s->n_subs; k++) {
    const subgraph_t *sg = &s->subs[k];
    fprintf(f, "  subgraph %zu on %s: %zu node%s:", k, s->prov[sg->prov]->name, sg->n,
            sg->n == 1 ? "" : "s");
    for (size_t i = 0; i < sg->n && i < 8; i++)
      fprintf(f, " %s(%s)", g->nodes[sg->nodes[i]].op, g->nodes[sg->nodes[i]].name);
    if (sg->n > 8) fprintf(f, " ...");
    fputc('\n', f);
    pal_provider_t *p = s->prov[sg->prov];
    if (p->describe && sg->state) p->describe(p, sg->state, f);
  }
  size_t nfb = 0;
  for (size_t i = 0; i < g->n_nodes; i++) nfb += s->reason[i] != NULL;
  if (nfb) {
    fprintf(f, "  fallbacks (%zu, not on %s):\n", nfb, s->prov[0]->name);
    char lbl[160];
    for (size_t i = 0; i < g->n_nodes; i++)
      if (s->reason[i])
        fprintf(f, "    %s -> %s: %s\n", pal_node_label(g, i, lbl, sizeof lbl),
                s->prov[s->assign[i]]->name, s->reason[i]);
  } else {
    fprintf(f, "  fallbacks: none\n");
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

pal_status_t pal_session_run(pal_session_t *s, size_t n_inputs, const pal_tensor_t *const *inputs,
                             size_t n_outputs, pal_tensor_t **outputs) {
  const pal_graph_t *g = s->g;
  for (size_t o = 0; o < n_outputs; o++) outputs[o] = NULL;
  if (n_inputs != g->n_inputs)
    return pal_status_make(PAL_INVALID_ARGUMENT, "graph '%s' has %zu inputs, %zu were given",
                           g->name, g->n_inputs, n_inputs);
  if (n_outputs > g->n_outputs)
    return pal_status_make(PAL_INVALID_ARGUMENT, "graph '%s' has %zu outputs, %zu were asked for",
                           g->name, g->n_outputs, n_outputs);
  char a[160], b[160];
  for (size_t i = 0; i < n_inputs; i++) {
    const pal_value_t *v = &g->values[g->inputs[i]];
    const pal_tensor_t *t = inputs[i];
    bool ok = t && t->dtype == v->dtype && (v->shape.rank < 0 || (int)t->rank == v->shape.rank);
    for (int d = 0; ok && v->shape.rank >= 0 && d < v->shape.rank; d++)
      ok = v->shape.dims[d] < 0 || v->shape.dims[d] == t->dims[d];
    if (!ok) {
      pal_shape_string(&v->shape, a, sizeof a);
      if (t) pal_tensor_shape_string(t, b, sizeof b);
      return pal_status_make(PAL_INVALID_ARGUMENT, "graph '%s': input '%s' must be %s%s, got %s",
                             g->name, v->name, pal_dtype_name(v->dtype), a, t ? b : "nothing");
    }
  }
  pal_tensor_t **vals = calloc(g->n_values ? g->n_values : 1, sizeof *vals);
  if (!vals) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  for (size_t v = 0; v < g->n_values; v++)
    if (g->values[v].init) vals[v] = g->values[v].init;
  for (size_t i = 0; i < n_inputs; i++) vals[g->inputs[i]] = (pal_tensor_t *)inputs[i];
  pal_status_t st = PAL_STATUS_OK;
  /* Intermediate values are released after the last subgraph that reads
   * them, so a large batch through a deep model holds only what is live. */
  size_t *last_use = calloc(g->n_values ? g->n_values : 1, sizeof *last_use);
  if (!last_use) {
    free(vals);
    return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  }
  for (size_t k = 0; k < s->n_subs; k++)
    for (size_t i = 0; i < s->subs[k].n; i++) {
      const pal_node_t *n = &g->nodes[s->subs[k].nodes[i]];
      for (size_t q = 0; q < n->n_in; q++)
        if (n->in[q] >= 0) last_use[n->in[q]] = k + 1;
    }
  for (size_t o = 0; o < g->n_outputs; o++) last_use[g->outputs[o]] = SIZE_MAX;
  s->nodes_done = 0;
  size_t through = 0; /* nodes in subgraphs 0..k */
  for (size_t k = 0; k < s->n_subs && !st; k++) {
    subgraph_t *sg = &s->subs[k];
    pal_provider_t *p = s->prov[sg->prov];
    p->node_done = s->opt.progress ? session_node_done : NULL;
    p->node_done_ctx = s;
    double t0 = now_s();
    st = p->run(p, sg->state, g, sg->nodes, sg->n, vals);
    sg->seconds = now_s() - t0;
    p->node_done = NULL;
    if (st) st = pal_status_annotate(st, "subgraph %zu on %s", k, p->name);
    through += sg->n;
    if (s->opt.progress && s->nodes_done != through) {
      s->nodes_done = through;
      s->opt.progress(s->opt.progress_ctx, through, g->n_nodes);
    }
    for (size_t v = 0; v < g->n_values; v++)
      if (g->values[v].producer >= 0 && vals[v] && last_use[v] <= k + 1) {
        pal_tensor_release(vals[v]);
        vals[v] = NULL;
      }
  }
  free(last_use);
  for (size_t o = 0; o < n_outputs && !st; o++) {
    int v = g->outputs[o];
    pal_tensor_t *t = vals[v];
    bool again = false; /* the same value asked for by a later output */
    for (size_t q = o + 1; q < n_outputs; q++) again |= g->outputs[q] == v;
    if (!t) {
      st = pal_status_make(PAL_INTERNAL, "graph '%s': output '%s' was not computed", g->name,
                           g->values[v].name);
    } else if (g->values[v].producer >= 0 && !again) {
      /* A computed value is handed over, not copied (a large output would
       * cost a copy per run). */
      outputs[o] = t;
      vals[v] = NULL;
    } else {
      st = pal_tensor_clone(t, &outputs[o]);
    }
  }
  for (size_t v = 0; v < g->n_values; v++)
    if (g->values[v].producer >= 0) pal_tensor_release(vals[v]);
  free(vals);
  if (st)
    for (size_t o = 0; o < n_outputs; o++) {
      pal_tensor_release(outputs[o]);
      outputs[o] = NULL;
    }
  s->runs++;
  return st;
}

void pal_session_device_stats(const pal_session_t *s, pal_device_run_stats_t *out) {
  memset(out, 0, sizeof *out);
  for (size_t k = 0; k < s->n_subs; k++) {
    pal_provider_t *p = s->prov[s->subs[k].prov];
    if (p->add_stats && s->subs[k].state) p->add_stats(p, s->subs[k].state, out);
  }
}

void pal_session_print_profile(const pal_session_t *s, FILE *f) {
  fprintf(f, "profile (last run):\n");
  double total = 0;
  for (size_t k = 0; k < s->n_subs; k++) total += s->subs[k].seconds;
  for (size_t k = 0; k < s->n_subs; k++)
    fprintf(f, "  subgraph %zu on %-4s %3zu nodes %10.3f ms %5.1f %%\n", k,
            s->prov[s->subs[k].prov]->name, s->subs[k].n, 1e3 * s->subs[k].seconds,
            total > 0 ? 100.0 * s->subs[k].seconds / total : 0.0);
  fprintf(f, "  total %29.3f ms\n", 1e3 * total);
}

pal_status_t pal_session_save_kernels(const pal_session_t *s, const char *path) {
  size_t saved = 0;
  for (size_t k = 0; k < s->n_subs; k++) {
    pal_provider_t *p = s->prov[s->subs[k].prov];
    if (!p->save_kernels || !s->subs[k].state) continue;
    if (saved)
      return pal_status_make(PAL_UNIMPLEMENTED,
                             "%s: the graph has more than one device subgraph; a .palk holds one "
                             "kernel",
                             path);
    PAL_RETURN_IF_ERROR(p->save_kernels(p, s->subs[k].state, path));
    saved++;
  }
  if (!saved)
    return pal_status_make(PAL_FAILED_PRECONDITION,
                           "%s: no subgraph of graph '%s' runs on the device; nothing to compile",
                           path, s->g->name);
  return PAL_STATUS_OK;
}
