// Internal to sim/: what pal_sim.cpp needs from one Verilated model of
// pal_tile. Each geometry (and the traced builds) is a separate Verilated
// class; sim/pal_sim_model.cpp is compiled once per model and exports a
// pal_sim_variant_t under a fixed C name that pal_sim.cpp looks up.
#ifndef PAL_SIM_MODEL_H
#define PAL_SIM_MODEL_H

#include <stdint.h>

#include "pal/status.h"

struct pal_sim_model {
  virtual ~pal_sim_model() {}
  // Inputs take effect at the next rising edge.
  virtual void set_rst(bool rst) = 0;
  virtual void set_bus(bool valid, bool we, uint32_t addr, uint32_t wdata, uint32_t strobes) = 0;
  // One clock cycle: rising edge, outputs settled for the new state.
  virtual void tick() = 0;
  // Up to `cycles` cycles, stopping after the first one that ends with
  // o_busy low; returns the cycles clocked.
  virtual uint64_t run_while_busy(uint64_t cycles) = 0;
  virtual bool bus_ready() const = 0;
  virtual uint32_t bus_rdata() const = 0;
  virtual bool busy() const = 0;
  virtual pal_status_t trace_open(const char *path) = 0;
  virtual void trace_close() = 0;
};

extern "C" {
typedef struct pal_sim_variant {
  uint32_t rows, cols;
  int traced;
  // IMEM, ABUF, WMEM, ACC, BIAS, OBUF depths the model was built with (0:
  // the default of docs/isa.md §1)
  uint32_t depths[6];
  // 1: built without a POST unit (pal_tile's POST_UNIT = 0, the iCEBreaker's)
  uint32_t no_post;
  // 1: built without accumulate units either (pal_tile's ACCUMULATE = 0:
  // GEMMs leave raw block sums, docs/isa.md §1)
  uint32_t no_accu;
  pal_sim_model *(*create)(uint64_t seed);
} pal_sim_variant_t;
}

#endif  // PAL_SIM_MODEL_H
