/* libFuzzer target for the IDX parser (outside input: data set files).
 * Any input must give either an error status or an IDX whose sizes agree
 * with the bytes it came from; sanitizers catch the rest. */
#include <stdlib.h>

#include "pal_train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  pal_idx_t idx;
  pal_status_t st = pal_idx_parse(data, size, "fuzz", &idx);
  if (st) {
    pal_status_free(st);
    return 0;
  }
  size_t prod = 1;
  for (size_t i = 0; i < idx.rank; i++) prod *= idx.dims[i];
  if (prod != idx.count || 4 + 4 * idx.rank + idx.count != size) abort();
  pal_idx_release(&idx);
  return 0;
}
