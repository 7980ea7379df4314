/* Private to the tile compiler: the plan's structure, shared by the planner
 * and executor (pal_compile.c) and the kernel-image writer (pal_compile_palk.c). */
#ifndef PAL_COMPILE_INTERNAL_H
#define PAL_COMPILE_INTERNAL_H

#include "pal/compile.h"

/* Where a layer's weights live during a run. */
typedef enum pal_wmode {
  PAL_WMODE_RESIDENT = 0, /* every layer's weights at once: loaded once per run */
  PAL_WMODE_LAYER,        /* the layer's weights whole: loaded at the layer, each M chunk */
  PAL_WMODE_STREAM,       /* one (N group, K chunk) unit at a time */
} pal_wmode_t;

typedef struct pal_layer_plan {
  /* the layer */
  uint32_t k, n, kb, nt; /* K, N, ceil(K/32), ceil(N/P) */
  pal_b32_matrix_t w;    /* nt*P rows (zero rows past N) x K */
  float *bias;           /* nt*P values (zero past N), or NULL */
  pal_bias_mode_t bias_mode;
  pal_activation_t act;
  float clip_lo, clip_hi;
  /* the tiling */
  pal_wmode_t wmode;
  uint32_t w_base;       /* WMEM block of the layer's layout (RESIDENT, LAYER) */
  uint32_t kc;           /* K chunk, blocks */
  uint32_t nk;           /* K chunks */
  uint32_t ntg;          /* N-tiles per group (per GEMM) */
  uint32_t ng;           /* N groups */
  bool bias_whole;       /* all nt*P bias words in BIAS at bias_base */
  bool bias_resident;    /* ... and loaded once per run */
  uint32_t bias_base;
  bool in_on_chip;       /* the input is the previous layer's POST output in ABUF */
  bool in_whole;         /* the input's M chunk is in ABUF at once (else per K chunk) */
  uint32_t in_base;      /* ABUF block of input row 0 (stride kb when whole) */
  bool out_on_chip;      /* POST writes PAL8-B32 into the next layer's input */
  bool obuf_whole;       /* FP32 rows land at OBUF[m*N + n] (else per group) */
} pal_layer_plan_t;

struct pal_plan {
  pal_tile_config_t cfg;
  uint32_t p;            /* PEs */
  uint32_t mc;           /* M chunk */
  uint32_t max_batch;
  bool resident;         /* every layer PAL_WMODE_RESIDENT */
  size_t n_layers;
  pal_layer_plan_t *layers;
};

/* Executes the plan's schedule for `batch` rows. With device NULL nothing
 * touches a device: the single program of a single-kernel plan (for one
 * chunk of `batch` rows) is recorded into *out_words / *out_n_words instead,
 * and a schedule that needs more than one kernel run fails. */
pal_status_t pal_plan_execute(pal_plan_t *plan, pal_device_t *device, const float *x,
                              uint32_t batch, float *y, pal_plan_stats_t *stats,
                              uint32_t **out_words, size_t *out_n_words);

/* Writes weights of tiles [t0, t0+ntiles) x blocks [kb0, kb0+kcc) of a
 * layer, tile-major, into `codes`/`scales` of PE p (the WMEM layout of a
 * GEMM with k_blocks = kcc). */
void pal_layer_pack_pe(const pal_plan_t *plan, const pal_layer_plan_t *layer, uint32_t p,
                       uint32_t t0, uint32_t ntiles, uint32_t kb0, uint32_t kcc, uint8_t *codes,
                       uint8_t *scales);

#endif /* PAL_COMPILE_INTERNAL_H */
