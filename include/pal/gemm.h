/* Fast CPU path of the bit-exact PAL8-B32 GEMM: the same results as
 * pal_gemm_ref (format.h), bit for bit, vectorised (AVX2 where the CPU has
 * it, portable C otherwise) and multi-threaded over output tiles. The
 * emulator and the runtime's CPU provider call this. */
#ifndef PAL_GEMM_H
#define PAL_GEMM_H

#include <stddef.h>

#include "pal/format.h"
#include "pal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pal_cpu_isa {
  PAL_CPU_ISA_AUTO = 0, /* best the running CPU supports */
  PAL_CPU_ISA_PORTABLE, /* plain C */
  PAL_CPU_ISA_AVX2,
} pal_cpu_isa_t;

typedef struct pal_gemm_options {
  int threads;       /* worker threads; 0 = one per online CPU */
  pal_cpu_isa_t isa; /* kernel to use; AUTO picks at run time */
} pal_gemm_options_t;

void pal_gemm_options_initialize(pal_gemm_options_t *options);

/* The ISA that AUTO resolves to on this CPU, and its name ("avx2", "portable"). */
pal_cpu_isa_t pal_gemm_best_isa(void);
const char *pal_cpu_isa_name(pal_cpu_isa_t isa);

/* out[m*ldo + n] for m < a->rows, n < w->rows, exactly as pal_gemm_ref.
 * Fails (and writes nothing) when the shapes disagree, ldo < w->rows, or the
 * requested ISA is not supported by this CPU. *out_nar_count may be NULL. */
pal_status_t pal_gemm(const pal_b32_matrix_t *a, const pal_b32_matrix_t *w,
                      const pal_epilogue_t *epilogue, const pal_gemm_options_t *options,
                      float *out, size_t ldo, size_t *out_nar_count);

#ifdef __cplusplus
}
#endif
#endif /* PAL_GEMM_H */
