// One Verilated pal_tile model behind pal_sim_model. Compiled once per
// model by sim/sim.mk with
//   PAL_SIM_CLASS    the Verilated class (Vpal_tile_4x4, ...)
//   PAL_SIM_HEADER   its header, as a string
//   PAL_SIM_VARIANT  the C name of the exported pal_sim_variant_t
//   PAL_SIM_ROWS, PAL_SIM_COLS, PAL_SIM_TRACE (0 or 1)
#include PAL_SIM_HEADER

#include <memory>

#include "pal_sim_model.h"
#include "verilated.h"
#if PAL_SIM_TRACE
#include "verilated_fst_c.h"
#endif

namespace {

class Model final : public pal_sim_model {
 public:
  explicit Model(uint64_t seed) {
    ctx_.randReset(2);  // every register starts random: resets must matter
    ctx_.randSeed((int)((seed ^ (seed >> 31)) & 0x7FFFFFFF));
#if PAL_SIM_TRACE
    ctx_.traceEverOn(true);
#endif
    top_.reset(new PAL_SIM_CLASS(&ctx_, "tile"));
    top_->i_clk = 0;
    top_->i_rst = 0;
    top_->i_bus_valid = 0;
    top_->i_bus_we = 0;
    top_->i_bus_addr = 0;
    top_->i_bus_wdata = 0;
    top_->i_bus_wstrb = 0;
    top_->eval();
  }
  ~Model() override {
    trace_close();
    top_->final();
  }

  void set_rst(bool rst) override { top_->i_rst = rst; }
  void set_bus(bool valid, bool we, uint32_t addr, uint32_t wdata, uint32_t strobes) override {
    top_->i_bus_valid = valid;
    top_->i_bus_we = we;
    top_->i_bus_addr = addr;
    top_->i_bus_wdata = wdata;
    top_->i_bus_wstrb = strobes & 0xF;
  }
  void tick() override {
    top_->i_clk = 1;
    top_->eval();
    dump();
    top_->i_clk = 0;
    top_->eval();
    dump();
  }
  uint64_t run_while_busy(uint64_t cycles) override {
    uint64_t n = 0;
    while (n < cycles) {
      tick();
      n++;
      if (!top_->o_busy) break;
    }
    return n;
  }
  bool bus_ready() const override { return top_->o_bus_ready; }
  uint32_t bus_rdata() const override { return top_->o_bus_rdata; }
  bool busy() const override { return top_->o_busy; }

  pal_status_t trace_open(const char *path) override {
#if PAL_SIM_TRACE
    trace_close();
    trace_.reset(new VerilatedFstC);
    top_->trace(trace_.get(), 99);
    trace_->open(path);
    if (!trace_->isOpen()) {
      trace_.reset();
      return pal_status_make(PAL_IO_ERROR, "sim: cannot open the FST file %s", path);
    }
    return PAL_STATUS_OK;
#else
    (void)path;
    return pal_status_make(PAL_UNIMPLEMENTED,
                           "sim: the %ux%u model was built without tracing (make sim-trace)",
                           (unsigned)PAL_SIM_ROWS, (unsigned)PAL_SIM_COLS);
#endif
  }
  void trace_close() override {
#if PAL_SIM_TRACE
    if (trace_) {
      trace_->close();
      trace_.reset();
    }
#endif
  }

 private:
  void dump() {
#if PAL_SIM_TRACE
    if (trace_) trace_->dump(time_);
    time_ += 5;  // a 100 MHz clock: 10 ns per cycle
#endif
  }

  VerilatedContext ctx_;
  std::unique_ptr<PAL_SIM_CLASS> top_;
#if PAL_SIM_TRACE
  std::unique_ptr<VerilatedFstC> trace_;
  uint64_t time_ = 0;
#endif
};

pal_sim_model *create(uint64_t seed) { return new Model(seed); }

}  // namespace

extern "C" const pal_sim_variant_t PAL_SIM_VARIANT = {PAL_SIM_ROWS, PAL_SIM_COLS, PAL_SIM_TRACE,
                                                      {PAL_SIM_DEPTHS}, PAL_SIM_NO_POST,
                                                      PAL_SIM_NO_ACCU, create};
