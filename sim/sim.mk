# The Verilated tile (rtl/pal_tile.v) as a C library (include/pal/sim.h):
# one Verilated model per geometry under $(BUILD)/sim/obj_<RxC>/, the
# wrapper and the Verilator runtime in $(BUILD)/sim/libpalsim.a, the
# differential tests of tests/sim/ (run by make test), the tile benchmark
# (make bench-tile) and the tile's own lint and synthesis checks (CHECKS).
# Included by the top-level Makefile (*/*.mk).

SIM_BUILD := $(BUILD)/sim
VERILATOR ?= verilator
YOSYS ?= yosys
VERILATOR_ROOT_DIR := $(shell $(VERILATOR) --getenv VERILATOR_ROOT 2>/dev/null || echo /usr/share/verilator)

# The tile and the leaf modules it instantiates.
TILE_RTL_SRCS := $(sort $(wildcard rtl/pal_tile*.v rtl/pal_seq*.v)) rtl/pal_fp32_start.v \
                 rtl/pal_fp32_add.v rtl/pal_fp32_add_slot.v rtl/pal_fp32_acc.v rtl/pal_norm_lz.v \
                 rtl/pal_pe_prod.v rtl/pal_post.v rtl/pal_cmp_le.v
TILE_RTL_MODULES := $(patsubst rtl/%.v,%,$(TILE_RTL_SRCS))

SIM_CXX ?= g++
SIM_VL_INC := -I$(VERILATOR_ROOT_DIR)/include -I$(VERILATOR_ROOT_DIR)/include/vltstd
SIM_VL_DEFS := -DVM_COVERAGE=0 -DVM_SC=0 -faligned-new
SIM_CXXFLAGS := -std=gnu++17 -O2 -g -Wall -Wextra -Iinclude -Isim $(SIM_VL_INC) $(SIM_VL_DEFS)
SIM_LDLIBS := -lstdc++ -pthread -latomic -lm
# Verilator: -O3, the model's C++ at -O2 (toolchain-and-boards.md); every
# register starts random (the wrapper seeds it) so missing resets show.
SIM_VFLAGS := --cc -O3 --x-assign unique --x-initial unique -Irtl -I$(GEN_DIR) --top-module pal_tile

# $(call sim_model,NAME,R,C,TRACE[,DEPTHS[,NO_POST[,VARIANT[,NO_ACCU]]]]): a Verilated
# model and its wrapper object. DEPTHS (optional): IMEM ABUF WMEM ACC BIAS
# OBUF, the tile's depth parameters, 0 for a default (docs/isa.md §1);
# without it every default. NO_POST = 1: the tile without its POST unit
# (POST_UNIT = 0). VARIANT: the name of the model's slot in
# sim/pal_sim.cpp, where it is not NAME (`board`: a board's configuration,
# any geometry); a program links one model per slot. NO_ACCU = 1 (with
# NO_POST = 1): no accumulate units either (ACCUMULATE = 0, raw block sums).
sim_depth_names := IMEM_DEPTH ABUF_BLOCKS WMEM_BLOCKS ACC_DEPTH BIAS_DEPTH OBUF_DEPTH
sim_depth_gflags = $(if $(1),$(filter-out %=0,$(join $(addprefix -G,$(addsuffix =,$(sim_depth_names))),$(1))))
sim_depth_init = $(if $(1),$(subst $(eval) ,$(comma),$(strip $(1))),0$(comma)0$(comma)0$(comma)0$(comma)0$(comma)0)
comma := ,
define sim_model
$(SIM_BUILD)/obj_$(1)/Vpal_tile_$(1)__ALL.a: $(TILE_RTL_SRCS) $(GEN_TABLES) $(TILE_ISA_VH)
	@mkdir -p $$(@D)
	@echo "VERILATE pal_tile $(2)x$(3)$(if $(filter 1,$(4)), (FST trace))$(if $(7), ($(1)))"
	@$(VERILATOR) $(SIM_VFLAGS) $(if $(filter 1,$(4)),--trace-fst) --prefix Vpal_tile_$(1) \
	  -GR=$(2) -GC=$(3) $(call sim_depth_gflags,$(5)) $(if $(filter 1,$(6)),-GPOST_UNIT=0) \
	  $(if $(filter 1,$(8)),-GACCUMULATE=0) -Mdir $(SIM_BUILD)/obj_$(1) rtl/pal_tile.v \
	  >$(SIM_BUILD)/obj_$(1).log 2>&1 \
	  || { tail -30 $(SIM_BUILD)/obj_$(1).log; exit 1; }
	@# the model's C++ files compile in the jobs of this make (make -j2: at most 2)
	@$(MAKE) --no-print-directory -C $(SIM_BUILD)/obj_$(1) -f Vpal_tile_$(1).mk OPT_FAST=-O2 \
	  OPT_SLOW=-O1 Vpal_tile_$(1)__ALL.a >>$(SIM_BUILD)/obj_$(1).log 2>&1 \
	  || { tail -30 $(SIM_BUILD)/obj_$(1).log; exit 1; }
$(SIM_BUILD)/pal_sim_$(1).o: sim/pal_sim_model.cpp sim/pal_sim_model.h include/pal/status.h \
                             $(SIM_BUILD)/obj_$(1)/Vpal_tile_$(1)__ALL.a
	$(SIM_CXX) $(SIM_CXXFLAGS) -Wno-unused-parameter -I$(SIM_BUILD)/obj_$(1) \
	  -DPAL_SIM_CLASS=Vpal_tile_$(1) -DPAL_SIM_HEADER='"Vpal_tile_$(1).h"' \
	  -DPAL_SIM_VARIANT=pal_sim_variant_$(or $(7),$(1)) -DPAL_SIM_ROWS=$(2) -DPAL_SIM_COLS=$(3) \
	  -DPAL_SIM_TRACE=$(4) -DPAL_SIM_DEPTHS='$(call sim_depth_init,$(5))' \
	  -DPAL_SIM_NO_POST=$(if $(filter 1,$(6)),1,0) -DPAL_SIM_NO_ACCU=$(if $(filter 1,$(8)),1,0) \
	  -c -o $$@ $$<
SIM_MODEL_$(1) := $(SIM_BUILD)/pal_sim_$(1).o $(SIM_BUILD)/obj_$(1)/Vpal_tile_$(1)__ALL.a
endef

$(eval $(call sim_model,4x4,4,4,0))
$(eval $(call sim_model,8x8,8,8,0))
$(eval $(call sim_model,16x16,16,16,0))
# The iCEBreaker's tile geometry and depths (rtl/boards/pal_icebreaker.v's
# defaults: 2x2, small buffers, no POST unit) with one accumulate unit: the
# smallest tile with units, which runs every differential test. The
# Verilated board top's test (constraints/boards.mk) reads the board's INFO
# and fails if these depths are not the board's.
ICEBREAKER_TILE_DEPTHS := 256 64 8 256 256 256
$(eval $(call sim_model,2x2,2,2,0,$(ICEBREAKER_TILE_DEPTHS),1))
# The same tile without accumulate units (raw block sums, docs/isa.md §1):
# the iCEBreaker's own since it builds so (docs/boards.md), and a 4x4 built so at the
# default depths (four write lanes where the 2x2 has one), each in the
# `board` slot: their own test programs, test_sim_random_<name>.
$(eval $(call sim_model,2x2raw,2,2,0,$(ICEBREAKER_TILE_DEPTHS),1,board,1))
$(eval $(call sim_model,4x4raw,4,4,0,,1,board,1))
# The ECP5 boards' tiles (BOARD_PARAMS_<board> in constraints/boards.mk:
# the OrangeCrab's 4x4 with small buffers, the ULX3S's 8x8 with 64 WMEM
# blocks per PE), for test_sim_random_<board>: the random programs on each
# configuration a bitstream is built from.
pairs_get = $(if $(2),$(if $(filter $(1),$(word 1,$(2))),$(word 2,$(2)),$(call pairs_get,$(1),$(wordlist 3,$(words $(2)),$(2)))))
# a pair list's names and values, in order
pairs_names = $(if $(1),$(word 1,$(1)) $(call pairs_names,$(wordlist 3,$(words $(1)),$(1))))
pairs_values = $(if $(1),$(word 2,$(1)) $(call pairs_values,$(wordlist 3,$(words $(1)),$(1))))
board_r = $(call pairs_get,R,$(BOARD_PARAMS_$(1)))
board_c = $(call pairs_get,C,$(BOARD_PARAMS_$(1)))
board_depths = $(foreach n,$(sim_depth_names),$(or $(call pairs_get,$(n),$(BOARD_PARAMS_$(1))),0))
sim_board_model = $(call sim_model,$(1),$(call board_r,$(1)),$(call board_c,$(1)),0,$(call board_depths,$(1)),0,board)
SIM_BOARD_TILES := orangecrab ulx3s
$(foreach b,$(SIM_BOARD_TILES),$(eval $(call sim_board_model,$(b))))
# (constraints/boards.mk rewrites a board's params file when its
# BOARD_PARAMS change, so that its model and test follow)
$(foreach b,$(SIM_BOARD_TILES),$(eval $(SIM_BUILD)/obj_$(b)/Vpal_tile_$(b)__ALL.a $(SIM_BUILD)/pal_sim_$(b).o \
  $(SIM_BUILD)/tests/test_sim_random_$(b): $(BUILD)/boards/$(b)/params))
$(eval $(call sim_model,4x4_fst,4,4,1))
$(eval $(call sim_model,8x8_fst,8,8,1))

# The Verilator runtime, compiled once for every model.
SIM_RT_OBJS := $(SIM_BUILD)/rt/verilated.o $(SIM_BUILD)/rt/verilated_threads.o
$(SIM_BUILD)/rt/%.o: $(VERILATOR_ROOT_DIR)/include/%.cpp
	@mkdir -p $(@D)
	$(SIM_CXX) -std=gnu++17 -O2 $(SIM_VL_INC) $(SIM_VL_DEFS) -DVM_TRACE=1 -DVM_TRACE_FST=1 -c -o $@ $<

$(SIM_BUILD)/pal_sim.o: sim/pal_sim.cpp sim/pal_sim_model.h include/pal/sim.h include/pal/tile.h
	@mkdir -p $(@D)
	$(SIM_CXX) $(SIM_CXXFLAGS) -MMD -MP -c -o $@ $<
-include $(SIM_BUILD)/pal_sim.d

SIM_LIB := $(SIM_BUILD)/libpalsim.a
$(SIM_LIB): $(SIM_BUILD)/pal_sim.o $(SIM_RT_OBJS)
	@rm -f $@
	ar rcs $@ $^

# What a program with the RTL links: its models, the library, the tile and
# core libraries (C++ runtime through SIM_LDLIBS).
SIM_TEST_MODELS := $(SIM_MODEL_4x4) $(SIM_MODEL_8x8) $(SIM_MODEL_2x2)
SIM_LINK = $(SIM_LIB) $(rel_TILE_LIB) $(rel_LIB)

# ---- differential tests (tests/sim/), run by make test ----------------------------
SIM_TEST_SRCS := $(wildcard tests/sim/test_sim_*.c)
SIM_TESTS := $(patsubst tests/sim/%.c,$(SIM_BUILD)/tests/%,$(SIM_TEST_SRCS))
SIM_TEST_HDRS := $(wildcard tests/sim/*.h) $(wildcard tests/tile/*.h) tests/unit/pal_test.h include/pal/sim.h

$(SIM_BUILD)/tests/%: tests/sim/%.c $(SIM_TEST_HDRS) $(SIM_TEST_MODELS) $(SIM_LIB) \
                      $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -Itests/unit -Itests/tile -Itests/sim -c -o $@.o $<
	$(SIM_CXX) -o $@ $@.o $(SIM_TEST_MODELS) $(SIM_LINK) $(CMOCKA_LIBS) $(OPENBLAS_LIBS) $(SIM_LDLIBS) $(LDLIBS)

# The same random programs on each ECP5 board's tile configuration: one
# program per board, linked with that board's model alone (in the `board`
# slot, whatever its geometry).
define sim_board_test
$(SIM_BUILD)/tests/test_sim_random_$(1): tests/sim/test_sim_random.c $(SIM_TEST_HDRS) \
                      $(SIM_MODEL_$(1)) $(SIM_LIB) $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(REL_FLAGS) -DSIM_RANDOM_BOARD='"$(1)"' -DSIM_RANDOM_R=$(call board_r,$(1)) \
	  -DSIM_RANDOM_C=$(call board_c,$(1)) -Itests/unit -Itests/tile -Itests/sim -c -o $$@.o $$<
	$$(SIM_CXX) -o $$@ $$@.o $(SIM_MODEL_$(1)) $$(SIM_LINK) $$(CMOCKA_LIBS) $$(OPENBLAS_LIBS) \
	  $$(SIM_LDLIBS) $$(LDLIBS)
SIM_TESTS += $(SIM_BUILD)/tests/test_sim_random_$(1)
endef
$(foreach b,$(SIM_BOARD_TILES),$(eval $(call sim_board_test,$(b))))
# and on the tiles without accumulate units: $(call sim_raw_test,NAME,R,C)
define sim_raw_test
$(SIM_BUILD)/tests/test_sim_random_$(1): tests/sim/test_sim_random.c $(SIM_TEST_HDRS) \
                      $(SIM_MODEL_$(1)) $(SIM_LIB) $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(REL_FLAGS) -DSIM_RANDOM_BOARD='"$(1)"' -DSIM_RANDOM_R=$(2) -DSIM_RANDOM_C=$(3) -DSIM_RANDOM_RAW=1 \
	  -Itests/unit -Itests/tile -Itests/sim -c -o $$@.o $$<
	$$(SIM_CXX) -o $$@ $$@.o $(SIM_MODEL_$(1)) $$(SIM_LINK) $$(CMOCKA_LIBS) $$(OPENBLAS_LIBS) $$(SIM_LDLIBS) $$(LDLIBS)
SIM_TESTS += $(SIM_BUILD)/tests/test_sim_random_$(1)
endef
$(eval $(call sim_raw_test,2x2raw,2,2))
$(eval $(call sim_raw_test,4x4raw,4,4))

EXTRA_TESTS += $(SIM_TESTS)
CHECKS += tile-lint tile-synth tile-equiv

.PHONY: sim sim-tests sim-trace tile-lint tile-synth tile-equiv bench-tile
sim: $(SIM_LIB) $(SIM_TEST_MODELS)
sim-tests: $(SIM_TESTS)

# ---- pal-sim: a kernel on the RTL; make sim-trace: the same with FST ---------------
# pal-sim runs an assembly program on the RTL (docs/tile-rtl.md, "Running a
# kernel"); pal-sim-trace links the traced models (Verilator --trace-fst),
# built only on request since tracing slows the model a hundredfold.
SIM_CLI := $(BUILD)/bin/pal-sim
SIM_TRACE_CLI := $(BUILD)/bin/pal-sim-trace
SIM_TRACE_RT := $(SIM_BUILD)/rt/verilated_fst_c.o
$(SIM_BUILD)/pal_sim_cli.o: sim/pal_sim_cli.c include/pal/sim.h include/pal/tile.h
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -c -o $@ $<
$(SIM_CLI): $(SIM_BUILD)/pal_sim_cli.o $(SIM_TEST_MODELS) $(SIM_LIB) $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $(@D)
	$(SIM_CXX) -o $@ $< $(SIM_TEST_MODELS) $(SIM_LINK) $(SIM_LDLIBS) $(LDLIBS)
$(SIM_TRACE_CLI): $(SIM_BUILD)/pal_sim_cli.o $(SIM_MODEL_4x4_fst) $(SIM_MODEL_8x8_fst) $(SIM_LIB) \
                  $(SIM_TRACE_RT) $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $(@D)
	$(SIM_CXX) -o $@ $< $(SIM_MODEL_4x4_fst) $(SIM_MODEL_8x8_fst) $(SIM_LINK) $(SIM_TRACE_RT) -lz \
	  $(SIM_LDLIBS) $(LDLIBS)
sim: $(SIM_CLI)
sim-trace: $(SIM_TRACE_CLI)

# ---- lint and synthesis of the tile ------------------------------------------------
# Lint: pal_tile and every submodule, for 4x4, 8x8 and 16x16, the 2x2
# without its POST unit at the iCEBreaker's depths (where the walk takes
# its row-window path) and the ECP5 boards' tiles, verilator -Wall.
tile-lint: $(GEN_TABLES) $(TILE_ISA_VH)
	@for g in 4 8 16; do \
	  $(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module pal_tile -GR=$$g -GC=$$g \
	    rtl/pal_tile.v || exit 1; \
	done
	@$(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module pal_tile -GR=2 -GC=2 -GPOST_UNIT=0 \
	  $(call sim_depth_gflags,$(ICEBREAKER_TILE_DEPTHS)) rtl/pal_tile.v
	@$(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module pal_tile -GR=2 -GC=2 -GPOST_UNIT=0 \
	  -GACCUMULATE=0 $(call sim_depth_gflags,$(ICEBREAKER_TILE_DEPTHS)) rtl/pal_tile.v
	@$(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module pal_tile -GR=4 -GC=4 -GPOST_UNIT=0 \
	  -GACCUMULATE=0 rtl/pal_tile.v
	@$(foreach b,$(SIM_BOARD_TILES),$(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module pal_tile \
	  -GR=$(call board_r,$(b)) -GC=$(call board_c,$(b)) $(call sim_depth_gflags,$(call board_depths,$(b))) \
	  rtl/pal_tile.v || exit 1;)
	@for m in $(TILE_RTL_MODULES); do \
	  $(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module $$m rtl/$$m.v || exit 1; \
	done
	@echo "tile-lint: pal_tile 4x4/8x8/16x16, 2x2 without POST (and without accumulate units), 4x4 without either, the tiles of $(SIM_BOARD_TILES) and $(words $(TILE_RTL_MODULES)) modules, verilator -Wall clean"

# Equivalence: a module with one description for Verilator and another for
# synthesis (`ifdef VERILATOR) must compute the same; Yosys proves it
# (equiv_make, equiv_simple, equiv_induct) at the sizes the builds use:
# the smallest, the iCEBreaker's (64 ABUF blocks, 8 WMEM blocks) and the
# default depths (512, 256), and for the walk's search one depth that is
# not a power of two (100); for the bank buffers' rotator the bank counts
# of the builds (1, 4, 16, 64 at 1 bit), both directions, and counts that
# are not powers of two (3, 5). Cases: module/PARAM=VALUE,...
TILE_EQUIV_CASES := pal_tile_abuf_flags/N=8 pal_tile_abuf_flags/N=64 pal_tile_abuf_flags/N=512 \
                    pal_seq_window/N=8,K=8 pal_seq_window/N=64,K=8 pal_seq_window/N=512,K=64 \
                    pal_seq_find/N=8 pal_seq_find/N=64 pal_seq_find/N=100 pal_seq_find/N=256 \
                    pal_seq_find/N=512 \
                    pal_tile_rotate/LANES=1,WIDTH=32,DOWN=1 pal_tile_rotate/LANES=4,WIDTH=32,DOWN=1 \
                    pal_tile_rotate/LANES=4,WIDTH=32,DOWN=0 pal_tile_rotate/LANES=16,WIDTH=32,DOWN=1 \
                    pal_tile_rotate/LANES=16,WIDTH=1,DOWN=0 pal_tile_rotate/LANES=3,WIDTH=8,DOWN=1 \
                    pal_tile_rotate/LANES=5,WIDTH=2,DOWN=0 pal_tile_rotate/LANES=64,WIDTH=1,DOWN=0 \
                    pal_tile_rotate/LANES=64,WIDTH=1,DOWN=1
# the leaf modules the cases instantiate (flattened into both sides)
TILE_EQUIV_LEAVES := rtl/pal_seq_ctz32.v
tile-equiv:
	@mkdir -p $(SIM_BUILD)/equiv
	@for c in $(TILE_EQUIV_CASES); do \
	  m=$${c%%/*}; ps=$${c#*/}; cp=""; \
	  for kv in $$(echo $$ps | tr , ' '); do cp="$$cp -set $${kv%%=*} $${kv#*=}"; done; \
	  log=$(SIM_BUILD)/equiv/$$m-$$(echo $$ps | tr ,= _-).log; \
	  $(YOSYS) -q -l $$log -p "read_verilog -sv -DVERILATOR rtl/$$m.v $(TILE_EQUIV_LEAVES); \
	    chparam $$cp $$m; prep -flatten -top $$m; rename $$m gold; design -stash gold; \
	    read_verilog -sv rtl/$$m.v $(TILE_EQUIV_LEAVES); chparam $$cp $$m; prep -flatten -top $$m; \
	    rename $$m gate; design -stash gate; \
	    design -copy-from gold -as gold gold; design -copy-from gate -as gate gate; \
	    equiv_make gold gate equiv; hierarchy -top equiv; equiv_simple; equiv_induct; equiv_status -assert" \
	    >/dev/null || { echo "tile-equiv: $$m ($$ps): the Verilator and synthesis descriptions differ, see $$log"; exit 1; }; \
	done
	@echo "tile-equiv: $(words $(TILE_EQUIV_CASES)) cases, the Verilator and synthesis descriptions equivalent (Yosys equiv_induct)"

# Synthesis: pal_tile 4x4 through Yosys' generic synth with the memories kept
# as memory cells (PAL_TILE_RAM_INFER; mapping ~190 KiB to flip-flops takes
# hours and proves nothing): fails on any latch and on anything `check`
# reports (multiple drivers, undriven signals, combinational loops).
tile-synth: $(GEN_TABLES) $(TILE_ISA_VH)
	@mkdir -p $(SIM_BUILD)/synth
	@$(YOSYS) -q -l $(SIM_BUILD)/synth/pal_tile.log -p "read_verilog -sv -DPAL_TILE_RAM_INFER \
	    -I$(GEN_DIR) $(TILE_RTL_SRCS); \
	  synth -top pal_tile -run begin:fine; opt -fast -full; techmap; opt -fast; abc -fast; opt -fast; \
	  select -assert-none t:\$$dlatch t:\$$adlatch t:\$$dlatchsr t:\$$_DLATCH_* t:\$$_DLATCHSR_*; \
	  check -assert; tee -q -o $(SIM_BUILD)/synth/pal_tile.stat stat" >/dev/null \
	  || { echo "tile-synth failed, see $(SIM_BUILD)/synth/pal_tile.log"; tail -20 $(SIM_BUILD)/synth/pal_tile.log; exit 1; }
	@echo "tile-synth: pal_tile 4x4, no latches, check -assert clean ($(SIM_BUILD)/synth/pal_tile.stat)"

# ---- the tile benchmark: make bench-tile -------------------------------------------
SIM_BENCH_MODELS := $(SIM_MODEL_4x4) $(SIM_MODEL_8x8) $(SIM_MODEL_16x16)
$(BUILD)/rel/bench/bench_tile: bench/bench_tile.c bench/bench_util.h include/pal/sim.h \
                               $(SIM_BENCH_MODELS) $(SIM_LIB) $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -Ibench -c -o $@.o $<
	$(SIM_CXX) -o $@ $@.o $(SIM_BENCH_MODELS) $(SIM_LINK) $(OPENBLAS_LIBS) $(SIM_LDLIBS) $(LDLIBS)

bench-tile: $(DEPS_STAMP) $(BUILD)/rel/bench/bench_tile
	@mkdir -p $(BUILD)/bench
	$(BUILD)/rel/bench/bench_tile --json $(BUILD)/bench/tile.json
