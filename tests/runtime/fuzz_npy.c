/* libFuzzer target: the .npy parser on arbitrary bytes: a tensor or an
 * error status, never a crash, a leak or a huge allocation. */
#include <stddef.h>
#include <stdint.h>

#include "pal/pal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  pal_tensor_t *t = NULL;
  pal_status_free(pal_npy_parse(data, size, "fuzz.npy", &t));
  pal_tensor_release(t);
  return 0;
}
