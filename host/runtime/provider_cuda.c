/* The cuda provider's hook. libpalcuda.so (host/cuda/, another layer) is
 * loaded with dlopen through pal_cuda_open (include/pal/cuda.h); when the
 * library was not built, or there is no driver or GPU, the provider is
 * unavailable and says why in one line, and the partitioner skips it.
 * Node placement on the GPU is the cuda layer's to fill in: until it is,
 * the provider accepts no node and says so (the nodes go to the cpu). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"

#if defined(__has_include)
#if __has_include("pal/cuda.h")
#include "pal/cuda.h"
#define PAL_RT_HAVE_CUDA_API 1
#endif
#endif

static bool cuda_can_run(pal_provider_t *p, const pal_graph_t *g, size_t node, char *reason,
                         size_t size) {
  (void)p, (void)g, (void)node;
  snprintf(reason, size, "no GPU kernels are wired into the runtime yet");
  return false;
}

static pal_status_t cuda_prepare(pal_provider_t *p, const pal_graph_t *g, const size_t *nodes,
                                 size_t n, void **out_state) {
  (void)p, (void)g, (void)nodes, (void)n;
  *out_state = NULL;
  return pal_status_make(PAL_UNIMPLEMENTED, "cuda provider: no subgraph can be prepared yet");
}

static pal_status_t cuda_run(pal_provider_t *p, void *state, const pal_graph_t *g,
                             const size_t *nodes, size_t n, pal_tensor_t **vals) {
  (void)p, (void)state, (void)g, (void)nodes, (void)n, (void)vals;
  return pal_status_make(PAL_UNIMPLEMENTED, "cuda provider: not runnable");
}

static void cuda_destroy(pal_provider_t *p) {
#ifdef PAL_RT_HAVE_CUDA_API
  pal_cuda_close(p->ctx);
#endif
  free(p);
}

pal_status_t pal_provider_cuda_create(pal_provider_t **out_provider) {
  pal_provider_t *p = calloc(1, sizeof *p);
  if (!p) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory");
  p->name = PAL_PROVIDER_CUDA;
  p->can_run = cuda_can_run;
  p->prepare = cuda_prepare;
  p->run = cuda_run;
  p->destroy = cuda_destroy;
#ifdef PAL_RT_HAVE_CUDA_API
  pal_cuda_t *cuda = NULL;
  pal_status_t st = pal_cuda_open(NULL, &cuda);
  if (st) {
    p->available = false;
    snprintf(p->detail, sizeof p->detail, "%s", pal_status_message(st));
    pal_status_free(st);
  } else {
    p->ctx = cuda;
    p->available = true;
    snprintf(p->detail, sizeof p->detail, "%s (%s)", pal_cuda_device_name(cuda),
             pal_cuda_library_path(cuda));
  }
#else
  p->available = false;
  snprintf(p->detail, sizeof p->detail, "not built: this build has no CUDA provider interface");
#endif
  *out_provider = p;
  return PAL_STATUS_OK;
}
