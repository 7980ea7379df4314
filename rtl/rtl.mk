# The PAL tile's RTL (rtl/*.v): Verilator testbenches against the C golden
# model (tests/rtl/test_rtl_<x>.cpp tests rtl/pal_<x>.v), a lint check and a
# synthesis check (both in CHECKS), and resource figures for the iCE40UP5K
# (make rtl-stat, not part of make test).

RTL_SRCS := $(wildcard rtl/*.v)
RTL_MODULES := $(patsubst rtl/%.v,%,$(RTL_SRCS))
RTL_BUILD := $(BUILD)/rtl
RTL_TEST_SRCS := $(wildcard tests/rtl/test_rtl_*.cpp)
RTL_TESTS := $(patsubst tests/rtl/%.cpp,$(RTL_BUILD)/tests/%,$(RTL_TEST_SRCS))

VERILATOR ?= verilator
YOSYS ?= yosys
# Top modules for resource figures (rtl-stat).
RTL_STAT_TOPS ?= pal_pe pal_fp32_acc pal_post pal_requant pal_fp32_add

EXTRA_TESTS += $(RTL_TESTS)
CHECKS += rtl-lint rtl-synth
.PHONY: rtl-tests rtl-lint rtl-synth rtl-stat

rtl-tests: $(RTL_TESTS)

# One Verilated model per testbench, top pal_<x>, no tracing. Every register
# starts random (--x-initial unique, seeded by the testbench) so missing
# resets show up. MAKEFLAGS is cleared: Verilator's own make is not a
# recursive make of this one and builds with one job.
$(RTL_BUILD)/tests/test_rtl_%: tests/rtl/test_rtl_%.cpp tests/rtl/rtl_test.h $(RTL_SRCS) \
                               $(GEN_TABLES) $(rel_LIB)
	@mkdir -p $(@D) $(RTL_BUILD)/obj
	MAKEFLAGS= $(VERILATOR) --cc --exe --build -j 1 -O3 --x-assign unique --x-initial unique \
	  -Irtl -I$(GEN_DIR) --top-module pal_$* -Mdir $(RTL_BUILD)/obj/test_rtl_$* \
	  -CFLAGS "-O2 -ffp-contract=off -fno-fast-math -I$(abspath include) -I$(abspath tests/rtl)" \
	  -LDFLAGS "$(abspath $(rel_LIB)) $(CMOCKA_LIBS) $(LDLIBS)" \
	  -o test_rtl_$* $(abspath $<) rtl/pal_$*.v >$(RTL_BUILD)/obj/test_rtl_$*.log 2>&1 \
	  || { cat $(RTL_BUILD)/obj/test_rtl_$*.log; exit 1; }
	cp $(RTL_BUILD)/obj/test_rtl_$*/test_rtl_$* $@

# Lint: every module as its own top, verilator -Wall, zero warnings.
rtl-lint: $(GEN_TABLES)
	@for m in $(RTL_MODULES); do \
	  $(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module $$m rtl/$$m.v || exit 1; \
	done
	@echo "rtl-lint: $(words $(RTL_MODULES)) modules, verilator -Wall clean"

# Synthesis: every module as its own top through Yosys' generic synth; fails
# on any latch and on anything `check` reports (multiple drivers, undriven
# signals, combinational loops). One stamp per module, so the modules
# synthesise side by side under make -j and only again when a source changes.
RTL_SYNTH_OK := $(patsubst %,$(RTL_BUILD)/synth/%.ok,$(RTL_MODULES))
$(RTL_BUILD)/synth/%.ok: $(RTL_SRCS) $(GEN_TABLES)
	@mkdir -p $(@D)
	@$(YOSYS) -q -l $(RTL_BUILD)/synth/$*.log -p "read_verilog -sv -I$(GEN_DIR) $(RTL_SRCS); \
	    synth -top $*; \
	    select -assert-none t:\$$dlatch t:\$$adlatch t:\$$dlatchsr t:\$$_DLATCH_* t:\$$_DLATCHSR_*; \
	    check -assert" >/dev/null \
	  || { echo "rtl-synth: $* failed, see $(RTL_BUILD)/synth/$*.log"; tail -20 $(RTL_BUILD)/synth/$*.log; exit 1; }
	@touch $@
rtl-synth: $(RTL_SYNTH_OK)
	@echo "rtl-synth: $(words $(RTL_MODULES)) modules, no latches, check -assert clean"

# iCE40UP5K resources per top: Yosys synth_ice40, then nextpnr packing where
# the top's ports fit the package (logic cells after LUT/FF packing).
rtl-stat: $(GEN_TABLES)
	@mkdir -p $(RTL_BUILD)/stat
	@printf '%-14s %6s %6s %6s %6s %8s\n' module LUT4 CARRY DFF EBR packedLC
	@for m in $(RTL_STAT_TOPS); do \
	  $(YOSYS) -q -p "read_verilog -sv -I$(GEN_DIR) $(RTL_SRCS); synth_ice40 -top $$m \
	    -json $(RTL_BUILD)/stat/$$m.json; tee -q -o $(RTL_BUILD)/stat/$$m.stat.json stat -json" \
	    >/dev/null || exit 1; \
	  lc=$$(nextpnr-ice40 --up5k --package sg48 --pack-only --json $(RTL_BUILD)/stat/$$m.json 2>&1 \
	    | sed -n 's/.*ICESTORM_LC: *\([0-9]*\)\/.*/\1/p'); \
	  python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["design"]["num_cells_by_type"]; \
	    g=lambda k: sum(v for t,v in c.items() if t.startswith(k)); \
	    print("%-14s %6d %6d %6d %6d %8s" % (sys.argv[2], g("SB_LUT4"), g("SB_CARRY"), g("SB_DFF"), g("SB_RAM40"), sys.argv[3] or "-"))' \
	    $(RTL_BUILD)/stat/$$m.stat.json $$m "$$lc"; \
	done
