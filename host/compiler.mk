# Tile compiler (host/compiler/): dense chains and Conv lowered to tile
# programs (include/pal/compile.h, docs/compiler.md). Included by the
# top-level Makefile (*/*.mk). Builds, per variant, $(BUILD)/{rel,san}/libpalcomp.a
# (link order: libpalcomp, libpaldrv, libpaltile, libpalcore), the tests in
# tests/compiler/ (appended to EXTRA_TESTS) and the compile benchmark
# (make bench-compile -> $(BUILD)/bench/compile.json).

COMP_LIB_SRCS := $(wildcard host/compiler/*.c)
COMP_LIB_HDRS := $(wildcard host/compiler/*.h) include/pal/compile.h
COMP_TEST_SRCS := $(wildcard tests/compiler/test_*.c)
COMP_TEST_HDRS := $(wildcard tests/compiler/*.h) tests/unit/pal_test.h

# host/tile.mk is included after this file (sorted order): name the other
# layers' libraries by path.
# $(call comp_variant,NAME,CFLAGS)
define comp_variant
$(1)_COMP_OBJS := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(COMP_LIB_SRCS))
$(1)_COMP_LIB := $(BUILD)/$(1)/libpalcomp.a
$(1)_COMP_DEPLIBS := $(BUILD)/$(1)/libpaldrv.a $(BUILD)/$(1)/libpaltile.a $(BUILD)/$(1)/libpalcore.a
$(1)_COMP_TESTS := $$(patsubst tests/compiler/%.c,$(BUILD)/$(1)/tests/compiler/%,$(COMP_TEST_SRCS))
$$($(1)_COMP_OBJS): $(BUILD)/$(1)/obj/%.o: %.c $(GEN_TABLES)
	@mkdir -p $$(@D)
	$$(CC) $(2) -Ihost/compiler -MMD -MP -c -o $$@ $$<
$$($(1)_COMP_LIB): $$($(1)_COMP_OBJS)
	@rm -f $$@
	ar rcs $$@ $$^
$$($(1)_COMP_TESTS): $(BUILD)/$(1)/tests/compiler/%: tests/compiler/%.c $$($(1)_COMP_LIB) \
                     $$($(1)_COMP_DEPLIBS) $(COMP_TEST_HDRS) $(COMP_LIB_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $(2) -Itests/unit -Itests/compiler -o $$@ $$< $$($(1)_COMP_LIB) $$($(1)_COMP_DEPLIBS) \
	  $$(CMOCKA_LIBS) $$(OPENBLAS_LIBS) $$(DRV_LDLIBS) $$(LDLIBS)
-include $$(patsubst %.o,%.d,$$($(1)_COMP_OBJS))
endef

$(eval $(call comp_variant,rel,$(REL_FLAGS)))
$(eval $(call comp_variant,san,$(SAN_FLAGS)))

COMP_TESTS := $(rel_COMP_TESTS) $(san_COMP_TESTS)

.PHONY: compiler test-compiler
compiler: $(rel_COMP_LIB) $(san_COMP_LIB)
all: compiler

test-compiler: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory $(COMP_TESTS)
	@scripts/run-tests.sh $(COMP_TESTS)
EXTRA_TESTS += $(COMP_TESTS)

# ---- compile benchmark: the demo MLP on 4x4 and 8x8 at batch 1 and 64 -------
# An explicit rule: it overrides the top-level bench pattern, which links
# only libpalcore.
$(BUILD)/rel/bench/bench_compile: bench/bench_compile.c bench/bench_util.h $(COMP_LIB_HDRS) \
                                  $(rel_COMP_LIB) $(rel_COMP_DEPLIBS)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -Ibench -o $@ $< $(rel_COMP_LIB) $(rel_COMP_DEPLIBS) $(OPENBLAS_LIBS) \
	  $(DRV_LDLIBS) $(LDLIBS)

.PHONY: bench-compile
bench-compile: $(DEPS_STAMP) $(BUILD)/rel/bench/bench_compile
	@mkdir -p $(BUILD)/bench
	$(BUILD)/rel/bench/bench_compile --json $(BUILD)/bench/compile.json

# A longer random sweep (random geometries x random chains), not in make test.
.PHONY: test-compiler-sweep
test-compiler-sweep: $(DEPS_STAMP) $(rel_COMP_TESTS)
	PAL_COMPILE_SWEEP=3000 $(BUILD)/rel/tests/compiler/test_compile

# ---- compiled plans on the Verilated RTL (sim/sim.mk's models) --------------
# sim/sim.mk is included after this file: its models are named by path here
# and its tools (SIM_CXX, SIM_LDLIBS) are used in the recipe only.
COMP_RTL_TEST := $(BUILD)/rel/tests/compiler/rtl_compile
COMP_RTL_MODELS := $(BUILD)/sim/pal_sim_4x4.o $(BUILD)/sim/obj_4x4/Vpal_tile_4x4__ALL.a \
                   $(BUILD)/sim/pal_sim_8x8.o $(BUILD)/sim/obj_8x8/Vpal_tile_8x8__ALL.a \
                   $(BUILD)/sim/pal_sim_2x2.o $(BUILD)/sim/obj_2x2/Vpal_tile_2x2__ALL.a
$(COMP_RTL_TEST): tests/compiler/rtl_compile.c $(COMP_TEST_HDRS) $(COMP_LIB_HDRS) include/pal/sim.h \
                  $(COMP_RTL_MODELS) $(BUILD)/sim/libpalsim.a $(rel_COMP_LIB) $(rel_COMP_DEPLIBS)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -Itests/unit -Itests/compiler -c -o $@.o $<
	$(SIM_CXX) -o $@ $@.o $(COMP_RTL_MODELS) $(BUILD)/sim/libpalsim.a $(rel_COMP_LIB) $(rel_COMP_DEPLIBS) \
	  $(CMOCKA_LIBS) $(OPENBLAS_LIBS) $(DRV_LDLIBS) $(SIM_LDLIBS) $(LDLIBS)

.PHONY: test-compiler-rtl
EXTRA_TESTS += $(COMP_RTL_TEST)
test-compiler-rtl: $(DEPS_STAMP) $(COMP_RTL_TEST)
	@scripts/run-tests.sh $(COMP_RTL_TEST)
