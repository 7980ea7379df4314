/* One GEMM (+ optional POST) case run on the emulator and the RTL side by
 * side, each output checked three ways: RTL vs golden model (pal_gemm_ref,
 * pal_b32_encode_block), RTL vs emulator bit for bit (ACC words and NaR
 * flags, OBUF or the PAL8 blocks in ABUF), and every counter equal. The
 * case generator follows tests/tile/test_tile_emu.c's run_case, with the
 * operands placed at random bases and strides. */
#ifndef SIM_GEMM_CASE_H
#define SIM_GEMM_CASE_H

#include "sim_test_util.h"

typedef struct gemm_case {
  size_t M, N, K;
  tt_gen_t ga, gw;
  uint32_t init;  /* PAL_ISA_INIT_ZERO or _BIAS for the (first) GEMM */
  bool split;     /* second GEMM with init=acc over the rest of K */
  bool post;
  uint32_t act;   /* pal_isa_act_t */
  bool bias_post; /* with init = zero: one bias per output */
  uint32_t fmt;   /* pal_isa_out_fmt_t */
  bool odd_bias;  /* NaN, Inf, subnormal and -0 among the biases */
} gemm_case_t;

static inline void gc_sub_blocks(uint64_t seed, const pal_b32_matrix_t *w, size_t b0, size_t b1,
                          pal_b32_matrix_t *out) {
  TT_OK(seed, pal_b32_matrix_create(w->rows, (b1 - b0) * 32, out));
  for (size_t r = 0; r < w->rows; r++) {
    memcpy(out->codes + r * out->kblocks * 32, w->codes + (r * w->kblocks + b0) * 32, (b1 - b0) * 32);
    memcpy(out->scales + r * out->kblocks, w->scales + r * w->kblocks + b0, b1 - b0);
  }
}

static inline void gc_random_bias(pal_test_rng_t *rng, float *bias, size_t n, bool odd) {
  for (size_t i = 0; i < n; i++) {
    bias[i] = (float)pal_test_rng_gauss(rng);
    if (odd) switch (pal_test_rng_below(rng, 12)) {
        case 0: bias[i] = NAN; break;
        case 1: bias[i] = -INFINITY; break;
        case 2: bias[i] = 1e-40f; break; /* subnormal: flushed */
        case 3: bias[i] = -0.0f; break;
        default: break;
      }
  }
}

/* RTL ACC words acc_base + m*acc_stride + n against the reference (NaN = NaR). */
static inline void gc_check_acc_ref(uint64_t seed, pal_tile_device_t *dev, const float *ref, size_t M,
                             size_t N, uint32_t acc_base, size_t acc_stride, const char *label) {
  uint32_t *bits = malloc(N * sizeof *bits);
  uint8_t *nar = malloc(N);
  for (size_t m = 0; m < M; m++) {
    uint32_t at = (uint32_t)(acc_base + m * acc_stride);
    TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ACC, 0, at, N, bits));
    TT_OK(seed, pal_tile_device_read(dev, PAL_TILE_REGION_ACC_NAR, 0, at, N, nar));
    for (size_t n = 0; n < N; n++) {
      float r = ref[m * N + n];
      PAL_TEST_CHECK(seed, tt_same(tt_u2f(bits[n]), nar[n] != 0, r),
                     "%s: ACC m=%zu n=%zu: rtl %08x nar %d, ref %08x", label, m, n, bits[n], nar[n],
                     tt_f2u(r));
    }
  }
  free(bits);
  free(nar);
}

/* Runs one case on both tiles; every check described at the top. */
static inline void gc_run_case(uint64_t seed, pal_test_rng_t *rng, st_pair_t *pair, const gemm_case_t *c,
                        const char *label) {
  const pal_tile_config_t *cfg = &pair->dev[0]->config;
  const uint32_t P = pair->P;
  const size_t kb = (c->K + 31) / 32, nt = (c->N + P - 1) / P;
  pal_b32_matrix_t A, W;
  tt_random_matrix(seed, rng, c->M, c->K, &c->ga, &A);
  tt_random_matrix(seed, rng, c->N, c->K, &c->gw, &W);
  float *bias = malloc(nt * P * sizeof *bias);
  gc_random_bias(rng, bias, nt * P, c->odd_bias);

  uint32_t a_stride = (uint32_t)(kb + pal_test_rng_below(rng, 3));
  uint32_t a_base = pal_test_rng_below(rng, 8);
  uint32_t w_base = pal_test_rng_below(rng, 8);
  uint32_t acc_base = pal_test_rng_below(rng, 16);
  uint32_t bias_base = pal_test_rng_below(rng, 16);
  size_t a_end = a_base + (c->M - 1) * a_stride + kb;
  PAL_TEST_CHECK(seed, a_end <= cfg->abuf_blocks && w_base + nt * kb <= cfg->wmem_blocks &&
                           acc_base + c->M * nt * P <= cfg->acc_depth &&
                           bias_base + nt * P <= cfg->bias_depth,
                 "%s: case does not fit the tile (test bug)", label);
  for (int d = 0; d < 2; d++) {
    tt_write_act(seed, pair->dev[d], &A, a_base, a_stride);
    tt_write_bias(seed, pair->dev[d], bias, nt * P, bias_base);
  }

  char prog[1024];
  int len = 0;
  const char *init_name = c->init == PAL_ISA_INIT_BIAS ? "bias" : "zero";
  if (c->split && kb >= 2) {
    size_t kb1 = 1 + pal_test_rng_below(rng, (uint32_t)kb - 1);
    pal_b32_matrix_t W1, W2;
    gc_sub_blocks(seed, &W, 0, kb1, &W1);
    gc_sub_blocks(seed, &W, kb1, kb, &W2);
    uint32_t w_base2 = (uint32_t)(w_base + nt * kb1);
    for (int d = 0; d < 2; d++) {
      tt_write_weights(seed, pair->dev[d], &W1, w_base);
      tt_write_weights(seed, pair->dev[d], &W2, w_base2);
    }
    pal_b32_matrix_release(&W1);
    pal_b32_matrix_release(&W2);
    len += snprintf(prog + len, sizeof prog - len,
                    "gemm a=%u as=%u m=%zu k=%zu w=%u nt=%zu acc=%u init=%s bias=%u\n"
                    "gemm a=%zu as=%u m=%zu k=%zu w=%u nt=%zu acc=%u init=acc\n",
                    a_base, a_stride, c->M, kb1, w_base, nt, acc_base, init_name, bias_base,
                    a_base + kb1, a_stride, c->M, kb - kb1, w_base2, nt, acc_base);
  } else {
    for (int d = 0; d < 2; d++) tt_write_weights(seed, pair->dev[d], &W, w_base);
    len += snprintf(prog + len, sizeof prog - len,
                    "gemm a=%u as=%u m=%zu k=%zu w=%u nt=%zu acc=%u init=%s bias=%u\n", a_base,
                    a_stride, c->M, kb, w_base, nt, acc_base, init_name, bias_base);
  }

  float clip_lo = -(float)fabs(pal_test_rng_gauss(rng)), clip_hi = (float)fabs(pal_test_rng_gauss(rng));
  uint32_t out_base = 0, out_stride = 0;
  if (c->post) {
    if (c->fmt == PAL_ISA_OUT_PAL8) {
      out_stride = (uint32_t)((c->N + 31) / 32 + pal_test_rng_below(rng, 2));
      out_base = (uint32_t)(a_end + pal_test_rng_below(rng, 4));
      PAL_TEST_CHECK(seed, out_base + (c->M - 1) * out_stride + (c->N + 31) / 32 <= cfg->abuf_blocks,
                     "%s: PAL8 output does not fit (test bug)", label);
    } else {
      out_stride = (uint32_t)(c->N + pal_test_rng_below(rng, 3));
      out_base = pal_test_rng_below(rng, 32);
    }
    len += snprintf(prog + len, sizeof prog - len,
                    "setr reg=clip_lo value=0x%08x\nsetr reg=clip_hi value=0x%08x\n"
                    "post acc=%u n=%zu m=%zu act=%u fmt=%u out=%u os=%u bias=%u bp=%d\n",
                    tt_f2u(clip_lo), tt_f2u(clip_hi), acc_base, c->N, c->M, c->act, c->fmt,
                    out_base, out_stride, bias_base, c->bias_post ? 1 : 0);
  }
  snprintf(prog + len, sizeof prog - len, "end\n");
  st_load_asm(seed, pair, prog);
  pal_tile_status_t st = st_run(seed, pair, 0, label);
  PAL_TEST_CHECK(seed, st.done && !st.busy && st.error == 0, "%s: stopped with error %s at pc %u\n%s",
                 label, pal_tile_error_name(st.error), st.err_pc, prog);

  /* ACC: RTL vs the unsplit reference, and vs the emulator bit for bit */
  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  if (c->init == PAL_ISA_INIT_BIAS) epi.bias = bias, epi.bias_mode = PAL_BIAS_START;
  float *ref = malloc(c->M * c->N * sizeof *ref);
  pal_gemm_ref(&A, &W, &epi, ref, c->N);
  gc_check_acc_ref(seed, pair->dev[ST_RTL], ref, c->M, c->N, acc_base, nt * P, label);
  st_check_region(seed, pair, PAL_TILE_REGION_ACC, 0, acc_base, c->M * nt * P, label);
  st_check_region(seed, pair, PAL_TILE_REGION_ACC_NAR, 0, acc_base, c->M * nt * P, label);

  if (c->post) {
    if (c->bias_post) epi.bias = bias, epi.bias_mode = PAL_BIAS_POST;
    epi.act = c->act == PAL_ISA_ACT_RELU ? PAL_ACT_RELU : c->act == PAL_ISA_ACT_CLIP ? PAL_ACT_CLIP : PAL_ACT_NONE;
    epi.clip_lo = clip_lo, epi.clip_hi = clip_hi;
    size_t nar_ref = pal_gemm_ref(&A, &W, &epi, ref, c->N);
    pal_tile_device_t *rtl = pair->dev[ST_RTL];
    if (c->fmt == PAL_ISA_OUT_FP32) {
      uint32_t *got = malloc(c->N * sizeof *got);
      for (size_t m = 0; m < c->M; m++) {
        TT_OK(seed, pal_tile_device_read(rtl, PAL_TILE_REGION_OBUF, 0, out_base + m * out_stride, c->N, got));
        for (size_t n = 0; n < c->N; n++) {
          uint32_t want = isnan(ref[m * c->N + n]) ? PAL_TILE_FP32_NAR : tt_f2u(ref[m * c->N + n]);
          PAL_TEST_CHECK(seed, got[n] == want, "%s: OBUF m=%zu n=%zu: rtl %08x, ref %08x", label, m,
                         n, got[n], want);
        }
      }
      free(got);
      st_check_region(seed, pair, PAL_TILE_REGION_OBUF, 0, out_base,
                      (c->M - 1) * out_stride + c->N, label);
    } else {
      size_t nb = (c->N + 31) / 32;
      for (size_t m = 0; m < c->M; m++)
        for (size_t j = 0; j < nb; j++) {
          uint8_t want[32], wscale, got[32], gscale;
          size_t n = c->N - j * 32 < 32 ? c->N - j * 32 : 32;
          pal_b32_encode_block(ref + m * c->N + j * 32, n, want, &wscale);
          size_t blk = out_base + m * out_stride + j;
          TT_OK(seed, pal_tile_device_read(rtl, PAL_TILE_REGION_ABUF_CODES, 0, blk * 32, 32, got));
          TT_OK(seed, pal_tile_device_read(rtl, PAL_TILE_REGION_ABUF_SCALES, 0, blk, 1, &gscale));
          PAL_TEST_CHECK(seed, gscale == wscale && !memcmp(got, want, 32),
                         "%s: PAL8 block m=%zu j=%zu differs from the reference (scale %u vs %u)",
                         label, m, j, gscale, wscale);
        }
      size_t blocks = (c->M - 1) * out_stride + nb;
      st_check_region(seed, pair, PAL_TILE_REGION_ABUF_CODES, 0, (uint64_t)out_base * 32, blocks * 32, label);
      st_check_region(seed, pair, PAL_TILE_REGION_ABUF_SCALES, 0, out_base, blocks, label);
    }
    pal_tile_counters_t ctr = tt_counters(seed, rtl);
    PAL_TEST_CHECK(seed, ctr.value[PAL_TILE_CTR_NAR_OUTPUTS] == nar_ref && st.nar == (nar_ref != 0),
                   "%s: NAR_OUTPUTS %llu, STATUS.nar %d; ref %zu", label,
                   (unsigned long long)ctr.value[PAL_TILE_CTR_NAR_OUTPUTS], st.nar, nar_ref);
  }
  free(ref);
  free(bias);
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
}

#endif /* SIM_GEMM_CASE_H */
