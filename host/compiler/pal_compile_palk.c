/* Kernel images of compiled plans: a single-kernel plan (every weight
 * resident, every activation on chip) becomes one .palk with its weights as
 * constant sections, and pal_palk_run_dense runs such an image through its
 * "x" and "y" bindings — what `pal compile` writes and `pal run` can load. */
#include <stdlib.h>
#include <string.h>

#include "pal_compile_internal.h"

pal_status_t pal_plan_build_palk(const pal_plan_t *plan, pal_kernel_image_builder_t **out_builder) {
  if (!plan || !out_builder) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_plan_build_palk: NULL argument");
  *out_builder = NULL;
  if (plan->cfg.no_post)
    return pal_status_make(PAL_UNIMPLEMENTED,
                           "plan: the tile has no POST unit, so its outputs are sums in ACC that the host "
                           "post-processes; a .palk's output is read from OBUF, which only POST writes: run "
                           "this plan with pal_plan_run");
  if (!plan->resident)
    return pal_status_make(PAL_UNIMPLEMENTED,
                           "plan: the weights and biases of its %zu layer(s) do not all fit WMEM (%u blocks) "
                           "and BIAS (%u words) at once (or an input needs streaming); a .palk holds one "
                           "kernel: run this plan with pal_plan_run",
                           plan->n_layers, plan->cfg.wmem_blocks, plan->cfg.bias_depth);
  uint32_t *words = NULL;
  size_t n_words = 0;
  PAL_RETURN_IF_ERROR(pal_status_annotate(
      pal_plan_execute((pal_plan_t *)plan, NULL, NULL, plan->mc, NULL, NULL, &words, &n_words),
      "plan is not a single kernel (run it with pal_plan_run): "));
  const pal_layer_plan_t *first = &plan->layers[0], *last = &plan->layers[plan->n_layers - 1];
  if (!first->in_whole || !last->obuf_whole || !words) {
    free(words);
    return pal_status_make(PAL_UNIMPLEMENTED, "plan: its input or output does not fit ABUF/OBUF in one piece");
  }
  pal_kernel_image_builder_options_t bo;
  pal_kernel_image_builder_options_initialize(&bo);
  bo.required = plan->cfg;
  bo.isa_version = PAL_ISA_VERSION;
  bo.name = "dense plan";
  pal_kernel_image_builder_t *b = NULL;
  pal_status_t st = pal_kernel_image_builder_create(&bo, &b);
  uint8_t *codes = NULL, *scales = NULL;
  uint32_t *bias = NULL;
  const uint32_t P = plan->p;
  uint32_t wsum = 0, bsum = 0;
  for (size_t i = 0; i < plan->n_layers; i++) {
    const pal_layer_plan_t *L = &plan->layers[i];
    if (L->w_base + L->nt * L->kb > wsum) wsum = L->w_base + L->nt * L->kb;
    if (L->bias && L->bias_base + L->nt * P > bsum) bsum = L->bias_base + L->nt * P;
  }
  if (!st) {
    codes = calloc((size_t)P * wsum * PAL_B32_BLOCK, 1);
    scales = calloc((size_t)P * wsum, 1);
    bias = calloc(bsum ? bsum : 1, sizeof(uint32_t));
    if (!codes || !scales || !bias) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory for an image");
  }
  for (size_t i = 0; !st && i < plan->n_layers; i++) {
    const pal_layer_plan_t *L = &plan->layers[i];
    for (uint32_t p = 0; p < P; p++)
      pal_layer_pack_pe(plan, L, p, 0, L->nt, 0, L->kb,
                        codes + ((size_t)p * wsum + L->w_base) * PAL_B32_BLOCK,
                        scales + (size_t)p * wsum + L->w_base);
    if (L->bias)
      for (uint32_t j = 0; j < L->nt * P; j++) bias[L->bias_base + j] = pal_f32_bits(L->bias[j]);
  }
  /* striped sections: P slices of `length` elements, PE 0 first */
  if (!st) {
    pal_kernel_section_t s = {PAL_KERNEL_SECTION_WMEM_CODES, PAL_KERNEL_IMAGE_ALL_PES, 0,
                              (uint64_t)wsum * PAL_B32_BLOCK, codes, 0};
    st = pal_kernel_image_builder_add_section(b, &s);
  }
  if (!st) {
    pal_kernel_section_t s = {PAL_KERNEL_SECTION_WMEM_SCALES, PAL_KERNEL_IMAGE_ALL_PES, 0, wsum, scales, 0};
    st = pal_kernel_image_builder_add_section(b, &s);
  }
  if (!st && bsum) {
    pal_kernel_section_t s = {PAL_KERNEL_SECTION_BIAS, 0, 0, bsum, bias, 0};
    st = pal_kernel_image_builder_add_section(b, &s);
  }
  if (!st) st = pal_kernel_image_builder_add_code(b, 0, words, n_words);
  if (!st) {
    pal_kernel_binding_t x;
    memset(&x, 0, sizeof x);
    strcpy(x.name, "x");
    x.direction = PAL_KERNEL_BINDING_INPUT;
    x.format = PAL_KERNEL_FORMAT_PAL8_B32;
    x.region = PAL_TILE_REGION_ABUF_CODES;
    x.rows = plan->mc;
    x.cols = first->k;
    x.index = first->in_base;
    x.stride = first->kb;
    st = pal_kernel_image_builder_add_binding(b, &x);
  }
  if (!st) {
    pal_kernel_binding_t y;
    memset(&y, 0, sizeof y);
    strcpy(y.name, "y");
    y.direction = PAL_KERNEL_BINDING_OUTPUT;
    y.format = PAL_KERNEL_FORMAT_FP32;
    y.region = PAL_TILE_REGION_OBUF;
    y.rows = plan->mc;
    y.cols = last->n;
    y.index = 0;
    y.stride = last->n;
    st = pal_kernel_image_builder_add_binding(b, &y);
  }
  if (!st) st = pal_kernel_image_builder_set_entry(b, 0);
  free(words);
  free(codes);
  free(scales);
  free(bias);
  if (st) {
    pal_kernel_image_builder_destroy(b);
    return st;
  }
  *out_builder = b;
  return PAL_STATUS_OK;
}

pal_status_t pal_plan_write_palk(const pal_plan_t *plan, const char *path) {
  if (!path) return pal_status_make(PAL_INVALID_ARGUMENT, "pal_plan_write_palk: path is NULL");
  pal_kernel_image_builder_t *b = NULL;
  PAL_RETURN_IF_ERROR(pal_status_annotate(pal_plan_build_palk(plan, &b), "%s: ", path));
  pal_status_t st = pal_kernel_image_builder_write_file(b, path);
  pal_kernel_image_builder_destroy(b);
  return st;
}

pal_status_t pal_palk_run_dense(const pal_kernel_image_t *image, pal_device_t *device, const float *x,
                                uint32_t batch, float *y, pal_plan_stats_t *out_stats) {
  if (!image || !device || !x || !y || batch == 0)
    return pal_status_make(PAL_INVALID_ARGUMENT, "pal_palk_run_dense: NULL argument or batch 0");
  pal_kernel_binding_t bx, by;
  PAL_RETURN_IF_ERROR(pal_kernel_image_find_binding(image, "x", &bx));
  PAL_RETURN_IF_ERROR(pal_kernel_image_find_binding(image, "y", &by));
  const char *name = pal_kernel_image_name(image);
  if (bx.direction != PAL_KERNEL_BINDING_INPUT || bx.format != PAL_KERNEL_FORMAT_PAL8_B32 ||
      by.direction != PAL_KERNEL_BINDING_OUTPUT || by.format != PAL_KERNEL_FORMAT_FP32 || bx.rows != by.rows)
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "%s: not a dense image: needs input \"x\" (PAL8-B32) and output \"y\" (FP32) with equal rows",
                           name);
  pal_plan_stats_t stats;
  memset(&stats, 0, sizeof stats);
  pal_tile_device_t *tile = pal_device_tile(device);
  PAL_RETURN_IF_ERROR(pal_device_reset(device));
  PAL_RETURN_IF_ERROR(pal_kernel_image_load(image, tile));
  size_t image_bytes = 0;
  (void)pal_kernel_image_data(image, &image_bytes);
  stats.bytes_to_device += image_bytes;
  uint32_t rows = bx.rows;
  float *xin = calloc((size_t)rows * bx.cols, sizeof(float));
  float *yout = malloc((size_t)rows * by.cols * sizeof(float));
  pal_b32_matrix_t a;
  memset(&a, 0, sizeof a);
  pal_status_t st = PAL_STATUS_OK;
  if (!xin || !yout) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "out of memory running %s", name);
  if (!st) st = pal_b32_matrix_create(rows, bx.cols, &a);
  for (uint32_t r0 = 0; !st && r0 < batch; r0 += rows) {
    uint32_t m = batch - r0 < rows ? batch - r0 : rows;
    memset(xin, 0, (size_t)rows * bx.cols * sizeof(float));
    memcpy(xin, x + (size_t)r0 * bx.cols, (size_t)m * bx.cols * sizeof(float));
    pal_b32_matrix_encode(xin, bx.cols, &a);
    st = pal_kernel_binding_write_pal8(tile, &bx, &a);
    stats.bytes_to_device += (uint64_t)rows * a.kblocks * (PAL_B32_BLOCK + 1);
    pal_tile_status_t ts;
    if (!st) st = pal_device_run(device, pal_kernel_image_entry_pc(image), 120000, &ts);
    if (!st && (ts.error || !ts.done))
      st = pal_status_make(PAL_INTERNAL, "%s: %s stopped with %s at pc %u", pal_device_uri(device), name,
                           pal_tile_error_name(ts.error), ts.err_pc);
    stats.kernel_runs++;
    if (!st) st = pal_kernel_binding_read_fp32(tile, &by, yout);
    stats.bytes_from_device += (uint64_t)rows * by.cols * 4;
    if (!st) memcpy(y + (size_t)r0 * by.cols, yout, (size_t)m * by.cols * sizeof(float));
  }
  if (!st) st = pal_device_read_counters(device, &stats.counters);
  pal_b32_matrix_release(&a);
  free(xin);
  free(yout);
  if (out_stats) *out_stats = stats;
  return st;
}
