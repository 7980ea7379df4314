/* libFuzzer target for kernel images: parse + validate + load of arbitrary
 * bytes must never crash, leak or touch memory out of bounds, and every
 * image that validates must load. The input is tried as given and again
 * with its header fixed up and its CRC sealed (palk_fuzz_fixup.h), so
 * mutations reach the checks behind the CRC. Loading goes into a fake tile device
 * whose backend aborts on any access outside its memories.
 *   make fuzz-palk && build/fuzz/fuzz-palk -max_total_time=30 CORPUS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pal/kernel_image.h"
#include "palk_fuzz_fixup.h"

typedef struct fake_tile {
  pal_tile_config_t config;
  uint64_t writes;
} fake_tile_t;

static pal_status_t fake_access(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index, size_t count) {
  fake_tile_t *t = self;
  uint64_t len = pal_tile_region_length(&t->config, region);
  uint32_t pes = t->config.rows * t->config.cols;
  if ((unsigned)region >= PAL_TILE_REGION_COUNT || index > len || count > len - index ||
      (pal_tile_region_is_per_pe(region) ? pe >= pes : pe != 0)) {
    fprintf(stderr, "fuzz_palk: out-of-bounds device access: region %d pe %u index %llu count %zu\n", (int)region,
            pe, (unsigned long long)index, count);
    abort();
  }
  t->writes++;
  return PAL_STATUS_OK;
}

static pal_status_t fake_write(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index, size_t count,
                               const void *data) {
  /* read the data, so ASan checks the loader's source pointers too */
  volatile uint8_t sink = 0;
  size_t bytes = count * pal_tile_region_element_size(region);
  for (size_t i = 0; i < bytes; i++) sink ^= ((const uint8_t *)data)[i];
  (void)sink;
  return fake_access(self, region, pe, index, count);
}
static pal_status_t fake_read(void *self, pal_tile_region_t region, uint32_t pe, uint64_t index, size_t count,
                              void *out) {
  memset(out, 0, count * pal_tile_region_element_size(region));
  return fake_access(self, region, pe, index, count);
}
static pal_status_t fake_write_reg(void *self, uint32_t offset, uint32_t value) {
  (void)self, (void)offset, (void)value;
  return PAL_STATUS_OK;
}
static pal_status_t fake_read_reg(void *self, uint32_t offset, uint32_t *out) {
  (void)self, (void)offset;
  *out = 0;
  return PAL_STATUS_OK;
}
static pal_status_t fake_wait(void *self, uint64_t max_cycles) {
  (void)self, (void)max_cycles;
  return PAL_STATUS_OK;
}

static const pal_tile_device_ops_t kFakeOps = {fake_write, fake_read, fake_write_reg, fake_read_reg, fake_wait};

static void try_image(const uint8_t *data, size_t size) {
  pal_kernel_image_t *img = NULL;
  pal_status_t st = pal_kernel_image_parse(data, size, &img);
  if (st) {
    if (!pal_status_message(st)[0]) abort(); /* every failure says something */
    pal_status_free(st);
    return;
  }
  /* against its own requirements, then two devices */
  st = pal_kernel_image_validate(img, NULL);
  pal_status_free(st);
  pal_kernel_image_info_t info;
  pal_kernel_image_get_info(img, &info);
  fake_tile_t tiles[2];
  pal_tile_config_initialize(&tiles[0].config, 4, 4);
  pal_tile_config_initialize(&tiles[1].config, info.required.rows, info.required.cols);
  for (int d = 0; d < 2; d++) {
    tiles[d].writes = 0;
    pal_tile_device_t dev = {&kFakeOps, &tiles[d], tiles[d].config, "fake"};
    pal_status_t vs = pal_kernel_image_validate(img, &dev.config);
    pal_status_t ls = pal_kernel_image_load(img, &dev);
    /* load validates first: it succeeds exactly when validation does, and
     * writes nothing when it does not */
    if ((vs == PAL_STATUS_OK) != (ls == PAL_STATUS_OK)) abort();
    if (vs && tiles[d].writes) abort();
    pal_status_free(vs);
    pal_status_free(ls);
  }
  for (size_t i = 0; i < pal_kernel_image_binding_count(img); i++) {
    pal_kernel_binding_t b;
    pal_kernel_image_binding(img, i, &b);
    pal_kernel_binding_t found;
    pal_status_t fs = pal_kernel_image_find_binding(img, b.name, &found);
    if (fs) abort();
  }
  pal_kernel_image_destroy(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try_image(data, size);
  uint8_t *copy = palk_fuzz_fixed_copy(data, size);
  if (copy) {
    try_image(copy, size);
    free(copy);
  }
  return 0;
}
