/* The RTL tile against the emulator and the golden model on the epilogues:
 * every POST variant (FP32 and PAL8-B32 out, none/ReLU/clip, post-bias,
 * odd biases and clip bounds), chained layers (PAL8 written to ABUF, read
 * by the next GEMM) and every (weight, activation) code pair, on 4x4 and
 * 8x8. */
#include "sim_gemm_case.h"

static void test_post_variants(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 500);
  for (uint32_t side = 4; side <= 8; side += 4) {
    st_pair_t pair;
    st_pair_create(seed, side, side, &pair);
    gc_sweep_post(seed, &rng, side, side, gc_run_on_pair, &pair);
    st_pair_destroy(&pair);
  }
}

/* Clip bounds that are NaN, infinite, signed zeros, subnormal or crossed
 * (lo > hi), against the emulator (which follows pal_postprocess). */
static void test_odd_clip_bounds(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 550);
  st_pair_t pair;
  st_pair_create(seed, 4, 4, &pair);
  static const uint32_t kBounds[] = {0x7FC00000u, 0xFF800000u, 0x7F800000u, 0x00000000u,
                                     0x80000000u, 0x00000001u, 0x3F800000u, 0xBF800000u};
  uint32_t acc[64];
  uint8_t nar[64];
  for (int i = 0; i < 64; i++) {
    acc[i] = tt_f2u((float)pal_test_rng_gauss(&rng) * 2.0f);
    if (i % 13 == 0) acc[i] = 0x80000000u;
    nar[i] = i % 17 == 5;
  }
  st_write(seed, &pair, PAL_TILE_REGION_ACC, 0, 0, 64, acc);
  st_write(seed, &pair, PAL_TILE_REGION_ACC_NAR, 0, 0, 64, nar);
  for (int lo = 0; lo < 8; lo++)
    for (int hi = 0; hi < 8; hi++) {
      char prog[256];
      snprintf(prog, sizeof prog,
               "setr reg=clip_lo value=0x%08x\nsetr reg=clip_hi value=0x%08x\n"
               "post acc=0 n=64 m=1 act=clip out=0 os=64\n"
               "post acc=0 n=64 m=1 act=clip fmt=pal8 out=10 os=2\nend\n",
               kBounds[lo], kBounds[hi]);
      st_load_asm(seed, &pair, prog);
      char label[64];
      snprintf(label, sizeof label, "clip [%08x, %08x]", kBounds[lo], kBounds[hi]);
      st_run(seed, &pair, 0, label);
      st_check_region(seed, &pair, PAL_TILE_REGION_OBUF, 0, 0, 64, label);
      st_check_region(seed, &pair, PAL_TILE_REGION_ABUF_CODES, 0, 320, 64, label);
      st_check_region(seed, &pair, PAL_TILE_REGION_ABUF_SCALES, 0, 10, 2, label);
    }
  st_pair_destroy(&pair);
}

/* POSTs at the ends of the buffers (4x4, default depths: ACC and OBUF 4096
 * words, ABUF 512 blocks, BIAS 1024): a row of n = ACC_DEPTH elements, m x
 * stride = ACC_DEPTH, bias at the end of BIAS, PAL8 into the last ABUF
 * blocks, and m = 1 with an out stride the decode does not check. The
 * sequencer's element generator counts in the width of the largest depth
 * (pal_seq.v), so these are the values at its limits. */
static void test_post_at_buffer_ends(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 570);
  st_pair_t pair;
  st_pair_create(seed, 4, 4, &pair);
  enum { ACC = 4096, BIAS = 1024 };
  uint32_t *acc = malloc(ACC * sizeof *acc), *bias = malloc(BIAS * sizeof *bias);
  uint8_t *nar = malloc(ACC);
  for (int i = 0; i < ACC; i++) {
    acc[i] = tt_f2u((float)pal_test_rng_gauss(&rng) * 4.0f);
    nar[i] = pal_test_rng_below(&rng, 97) == 0;
  }
  for (int i = 0; i < BIAS; i++) bias[i] = tt_f2u((float)pal_test_rng_gauss(&rng));
  st_write(seed, &pair, PAL_TILE_REGION_ACC, 0, 0, ACC, acc);
  st_write(seed, &pair, PAL_TILE_REGION_ACC_NAR, 0, 0, ACC, nar);
  st_write(seed, &pair, PAL_TILE_REGION_BIAS, 0, 0, BIAS, bias);
  static const struct {
    const char *prog;
    uint32_t obuf_lo, obuf_n, ab_lo, ab_n;
  } kCases[] = {
      {"post acc=0 n=4096 m=1 act=0 fmt=0 out=0 os=4096 bias=0 bp=0\nend\n", 0, 4096, 0, 0},
      {"post acc=0 n=64 m=64 act=1 fmt=0 out=0 os=64 bias=960 bp=1\nend\n", 0, 4096, 0, 0},
      {"post acc=0 n=4000 m=1 act=1 fmt=0 out=96 os=0 bias=0 bp=0\nend\n", 96, 4000, 0, 0},
      {"post acc=4032 n=64 m=1 act=0 fmt=0 out=4032 os=65535 bias=0 bp=0\nend\n", 4032, 64, 0, 0},
      {"post acc=3968 n=64 m=2 act=0 fmt=1 out=508 os=2 bias=0 bp=0\nend\n", 0, 0, 508, 4},
      {"post acc=0 n=4096 m=1 act=1 fmt=1 out=384 os=128 bias=0 bp=0\nend\n", 0, 0, 384, 128},
  };
  for (size_t c = 0; c < sizeof kCases / sizeof kCases[0]; c++) {
    char label[128];
    snprintf(label, sizeof label, "buffer ends, case %zu (%.40s)", c, kCases[c].prog);
    st_load_asm(seed, &pair, kCases[c].prog);
    pal_tile_status_t st = st_run(seed, &pair, 0, label);
    PAL_TEST_CHECK(seed, st.error == PAL_TILE_ERR_NONE, "%s: %s", label, pal_tile_error_name(st.error));
    if (kCases[c].obuf_n)
      st_check_region(seed, &pair, PAL_TILE_REGION_OBUF, 0, kCases[c].obuf_lo, kCases[c].obuf_n, label);
    if (kCases[c].ab_n) {
      st_check_region(seed, &pair, PAL_TILE_REGION_ABUF_CODES, 0, (uint64_t)kCases[c].ab_lo * 32,
                      kCases[c].ab_n * 32, label);
      st_check_region(seed, &pair, PAL_TILE_REGION_ABUF_SCALES, 0, kCases[c].ab_lo, kCases[c].ab_n, label);
    }
  }
  free(acc);
  free(bias);
  free(nar);
  st_pair_destroy(&pair);
}

/* Accumulators the datapath never produces but the host can write: subnormal,
 * NaN and infinite values with a clear NaR flag, signed zeros. POST (with
 * and without bias, every activation) and GEMM init=acc (a skipped block
 * keeps the value, a visited one adds) must treat them as the emulator
 * (the golden model) does. Not covered: adding to a NaN that is not NaR,
 * where the RTL's adder raises NaR (pal_fp32_add's rule) and the golden
 * model lets the host's NaN through (docs/tile-rtl.md, "Limits"). */
static void test_host_written_acc(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 560);
  st_pair_t pair;
  st_pair_create(seed, 4, 4, &pair);
  static const uint32_t kOdd[] = {0x00000001u, 0x807FFFFFu, 0x00400000u, 0x7FC00001u, 0xFFC00000u,
                                  0x7F800000u, 0xFF800000u, 0x80000000u, 0x00000000u, 0x3F800000u,
                                  0x7F7FFFFFu, 0x00800000u};
  uint32_t acc[64], bias[64];
  uint8_t nar[64] = {0};
  for (int i = 0; i < 64; i++) {
    acc[i] = kOdd[i % 12];
    bias[i] = i % 3 ? tt_f2u((float)pal_test_rng_gauss(&rng)) : kOdd[(i / 3) % 12];
  }
  st_write(seed, &pair, PAL_TILE_REGION_ACC, 0, 0, 64, acc);
  st_write(seed, &pair, PAL_TILE_REGION_ACC_NAR, 0, 0, 64, nar);
  st_write(seed, &pair, PAL_TILE_REGION_BIAS, 0, 0, 64, bias);
  for (int act = 0; act < 3; act++)
    for (int bp = 0; bp < 2; bp++) {
      /* NaNs only where nothing is added to them */
      for (int i = 0; i < 64; i++) {
        uint32_t v = kOdd[i % 12];
        bool is_nan = (v & 0x7F800000u) == 0x7F800000u && (v & 0x007FFFFFu);
        acc[i] = is_nan && bp ? 0x00000003u : v;
      }
      st_write(seed, &pair, PAL_TILE_REGION_ACC, 0, 0, 64, acc);
      char prog[256], label[64];
      snprintf(prog, sizeof prog,
               "setr reg=clip_lo value=-1\nsetr reg=clip_hi value=0x00000002\n"
               "post acc=0 n=64 m=1 act=%d bp=%d out=0 os=64\n"
               "post acc=0 n=64 m=1 act=%d bp=%d fmt=pal8 out=20 os=2\nend\n",
               act, bp, act, bp);
      snprintf(label, sizeof label, "odd ACC, act %d, bias %d", act, bp);
      st_load_asm(seed, &pair, prog);
      st_run(seed, &pair, 0, label);
      st_check_region(seed, &pair, PAL_TILE_REGION_OBUF, 0, 0, 64, label);
      st_check_region(seed, &pair, PAL_TILE_REGION_ABUF_CODES, 0, 640, 64, label);
      st_check_region(seed, &pair, PAL_TILE_REGION_ABUF_SCALES, 0, 20, 2, label);
    }
  /* GEMM init=acc over them: block 0 all zero (skipped), block 1 dense */
  uint8_t codes[64], scales[2] = {120, 100}, w[64], ws[2] = {127, 127};
  memset(codes, 0, 32);
  for (int i = 32; i < 64; i++) codes[i] = (uint8_t)(0x10 + i);
  for (int i = 0; i < 64; i++) w[i] = (uint8_t)(0x20 + i);
  st_write(seed, &pair, PAL_TILE_REGION_ABUF_CODES, 0, 0, 64, codes);
  st_write(seed, &pair, PAL_TILE_REGION_ABUF_SCALES, 0, 0, 2, scales);
  for (uint32_t p = 0; p < 16; p++) {
    st_write(seed, &pair, PAL_TILE_REGION_WMEM_CODES, p, 0, 64, w);
    st_write(seed, &pair, PAL_TILE_REGION_WMEM_SCALES, p, 0, 2, ws);
  }
  for (int i = 0; i < 64; i++)
    if ((acc[i] & 0x7F800000u) == 0x7F800000u && (acc[i] & 0x007FFFFFu)) acc[i] = 0x80000005u;
  for (int k = 1; k <= 2; k++) {
    st_write(seed, &pair, PAL_TILE_REGION_ACC, 0, 100, 64, acc);
    st_write(seed, &pair, PAL_TILE_REGION_ACC_NAR, 0, 100, 64, nar);
    char prog[128], label[48];
    snprintf(prog, sizeof prog, "gemm a=0 as=0 m=4 k=%d w=0 nt=1 acc=100 init=acc\nend\n", k);
    snprintf(label, sizeof label, "init=acc over odd ACC, k=%d", k);
    st_load_asm(seed, &pair, prog);
    st_run(seed, &pair, 0, label);
    st_check_region(seed, &pair, PAL_TILE_REGION_ACC, 0, 100, 64, label);
    st_check_region(seed, &pair, PAL_TILE_REGION_ACC_NAR, 0, 100, 64, label);
  }
  st_pair_destroy(&pair);
}

/* Layer 1 writes PAL8-B32 to ABUF, layer 2 reads it as activations; the
 * hidden layer and the output against the golden model, every memory
 * against the emulator. */
static void test_chained_two_layers(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed + 600);
  for (int geo = 0; geo < 2; geo++) {
    uint32_t R = geo ? 8 : 4;
    st_pair_t pair;
    st_pair_create(seed, R, R, &pair);
    for (int rep = 0; rep < 4; rep++) {
      const size_t P = (size_t)R * R;
      size_t M = 1 + pal_test_rng_below(&rng, 4), K1 = 20 + pal_test_rng_below(&rng, 200);
      size_t N1 = 1 + pal_test_rng_below(&rng, 90), N2 = 1 + pal_test_rng_below(&rng, 40);
      size_t kb1 = (K1 + 31) / 32, nt1 = (N1 + P - 1) / P, kb2 = (N1 + 31) / 32,
             nt2 = (N2 + P - 1) / P;
      tt_gen_t ga = {0.3, 0.1, 0, 0}, gw = {0.1, 0, rep == 3 ? 0.002 : 0, 0};
      pal_b32_matrix_t A1, W1, W2, A2;
      tt_random_matrix(seed, &rng, M, K1, &ga, &A1);
      tt_random_matrix(seed, &rng, N1, K1, &gw, &W1);
      tt_random_matrix(seed, &rng, N2, N1, &gw, &W2);
      float *b1 = malloc(nt1 * P * sizeof(float)), *b2 = malloc(nt2 * P * sizeof(float));
      gc_random_bias(&rng, b1, nt1 * P, false);
      gc_random_bias(&rng, b2, nt2 * P, false);
      uint32_t w2_base = (uint32_t)(nt1 * kb1), h_base = (uint32_t)(M * kb1 + 3),
               h_stride = (uint32_t)kb2 + (rep & 1), bias2 = 512, acc2 = 2048;
      for (int d = 0; d < 2; d++) {
        tt_write_act(seed, pair.dev[d], &A1, 0, (uint32_t)kb1);
        tt_write_weights(seed, pair.dev[d], &W1, 0);
        tt_write_weights(seed, pair.dev[d], &W2, w2_base);
        tt_write_bias(seed, pair.dev[d], b1, nt1 * P, 0);
        tt_write_bias(seed, pair.dev[d], b2, nt2 * P, bias2);
      }
      char prog[1024];
      snprintf(prog, sizeof prog,
               "gemm a=0 as=%zu m=%zu k=%zu w=0 nt=%zu acc=0 init=bias bias=0\n"
               "post acc=0 n=%zu m=%zu act=relu fmt=pal8 out=%u os=%u\n"
               "sync\n"
               "gemm a=%u as=%u m=%zu k=%zu w=%u nt=%zu acc=%u init=bias bias=%u\n"
               "post acc=%u n=%zu m=%zu act=none fmt=fp32 out=0 os=%zu\n"
               "end\n",
               kb1, M, kb1, nt1, N1, M, h_base, h_stride, h_base, h_stride, M, kb2, w2_base, nt2,
               acc2, bias2, acc2, N2, M, N2);
      st_load_asm(seed, &pair, prog);
      char label[64];
      snprintf(label, sizeof label, "chained geo %d rep %d", geo, rep);
      pal_tile_status_t st = st_run(seed, &pair, 0, label);
      PAL_TEST_CHECK(seed, st.done && !st.error, "%s: error %u at %u", label, st.error, st.err_pc);

      pal_epilogue_t e1, e2;
      pal_epilogue_initialize(&e1);
      e1.bias = b1, e1.act = PAL_ACT_RELU;
      pal_epilogue_initialize(&e2);
      e2.bias = b2;
      float *h = malloc(M * N1 * sizeof(float)), *y = malloc(M * N2 * sizeof(float));
      pal_gemm_ref(&A1, &W1, &e1, h, N1);
      TT_OK(seed, pal_b32_matrix_create(M, N1, &A2));
      pal_b32_matrix_encode(h, N1, &A2);
      for (size_t m = 0; m < M; m++) {
        uint8_t got[32 * 8], gs[8];
        TT_OK(seed, pal_tile_device_read(pair.dev[ST_RTL], PAL_TILE_REGION_ABUF_CODES, 0,
                                         (h_base + m * h_stride) * 32, kb2 * 32, got));
        TT_OK(seed, pal_tile_device_read(pair.dev[ST_RTL], PAL_TILE_REGION_ABUF_SCALES, 0,
                                         h_base + m * h_stride, kb2, gs));
        PAL_TEST_CHECK(seed, !memcmp(got, A2.codes + m * kb2 * 32, kb2 * 32) &&
                                 !memcmp(gs, A2.scales + m * kb2, kb2),
                       "%s: hidden row %zu differs from the encoded reference", label, m);
      }
      pal_gemm_ref(&A2, &W2, &e2, y, N2);
      for (size_t m = 0; m < M; m++)
        for (size_t n = 0; n < N2; n++) {
          uint32_t got;
          TT_OK(seed, pal_tile_device_read(pair.dev[ST_RTL], PAL_TILE_REGION_OBUF, 0, m * N2 + n, 1, &got));
          uint32_t want = isnan(y[m * N2 + n]) ? PAL_TILE_FP32_NAR : tt_f2u(y[m * N2 + n]);
          PAL_TEST_CHECK(seed, got == want, "%s: y[%zu][%zu] %08x want %08x", label, m, n, got, want);
        }
      if (rep == 0) st_check_snapshots(seed, &pair, true, label);
      free(h), free(y), free(b1), free(b2);
      pal_b32_matrix_release(&A1), pal_b32_matrix_release(&W1);
      pal_b32_matrix_release(&W2), pal_b32_matrix_release(&A2);
    }
    st_pair_destroy(&pair);
  }
}

/* Every (weight, activation) code pair once, each at its own position,
 * against pal_gemm_ref: 256 activation rows of one block against 256
 * weight columns, 16 rows per GEMM (ACC holds 4096 words). */
static void test_every_code_pair(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  st_pair_t pair;
  st_pair_create(seed, 8, 8, &pair);
  pal_b32_matrix_t A, W;
  TT_OK(seed, pal_b32_matrix_create(256, 32, &A));
  TT_OK(seed, pal_b32_matrix_create(256, 32, &W));
  for (int c = 0; c < 256; c++) {
    A.codes[c * 32 + c % 32] = (uint8_t)c;
    A.scales[c] = (uint8_t)(120 + c % 9);
    for (int i = 0; i < 32; i++) W.codes[c * 32 + i] = (uint8_t)c;
    W.scales[c] = (uint8_t)(125 + c % 5);
  }
  for (int d = 0; d < 2; d++) {
    tt_write_act(seed, pair.dev[d], &A, 0, 1);
    tt_write_weights(seed, pair.dev[d], &W, 0);
  }
  float *ref = malloc(256 * 256 * sizeof *ref);
  pal_gemm_ref(&A, &W, NULL, ref, 256);
  for (int chunk = 0; chunk < 16; chunk++) {
    char prog[128], label[48];
    snprintf(prog, sizeof prog, "gemm a=%d as=1 m=16 k=1 w=0 nt=4 acc=0\nend\n", chunk * 16);
    snprintf(label, sizeof label, "code pairs, rows %d..%d", chunk * 16, chunk * 16 + 15);
    st_load_asm(seed, &pair, prog);
    pal_tile_status_t st = st_run(seed, &pair, 0, label);
    PAL_TEST_CHECK(seed, st.done, "%s: ran", label);
    gc_check_acc_ref(seed, pair.dev[ST_RTL], ref + (size_t)chunk * 16 * 256, 16, 256, 0, 256, label);
  }
  free(ref);
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
  st_pair_destroy(&pair);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_post_variants),
      cmocka_unit_test(test_odd_clip_bounds),
      cmocka_unit_test(test_post_at_buffer_ends),
      cmocka_unit_test(test_host_written_acc),
      cmocka_unit_test(test_chained_two_layers),
      cmocka_unit_test(test_every_code_pair),
  };
  return cmocka_run_group_tests_name("sim_post", tests, NULL, NULL);
}
