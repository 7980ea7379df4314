# PAL spatial-array accelerator: top-level build.
# Everything builds out of tree under $(BUILD); `make help` lists the targets.

BUILD ?= build
CC ?= cc
NPROC := $(shell nproc 2>/dev/null || echo 2)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CSTD := -std=c11 -D_GNU_SOURCE
INCLUDES := -Iinclude -I$(BUILD)/gen -Ihost/format
# -ffp-contract=off: §3 of the format spec demands plain IEEE additions; no
# fused multiply-add may change a rounding anywhere in the golden model.
BASE_CFLAGS := $(CSTD) $(WARN) $(INCLUDES) -pthread -ffp-contract=off -fno-fast-math -g
OPT_CFLAGS := -O2
SAN_CFLAGS := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
AVX2_CFLAGS := -mavx2 -mfma

OPENBLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
OPENBLAS_LIBS := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
LDLIBS := -lm -pthread

.DEFAULT_GOAL := all
.PHONY: all help deps test demo clean check-exhaustive bench-formats lib tests benches

help:
	@echo "make demo              Fashion-MNIST MLP and CNN: FP32 vs PAL8-B32 on emu:// and the Verilated SoC"
	@echo "make test              install missing deps, build, run every test (also under ASan/UBSan)"
	@echo "make bench-formats     number-format study: table + $(BUILD)/bench/formats.json"
	@echo "make check-exhaustive  scalar PAL8 encoder vs the exact definition over all 2^32 FP32 inputs"
	@echo "make bench-<name>      tile, tile-emu, link, soc, compile, ops, providers, runtime, train, fpga, firmware"
	@echo "make bitstream BOARD=b icebreaker, ulx3s, orangecrab; make flash BOARD=b [DRY_RUN=1]"
	@echo "make palsim            the simulated device server (docs/palsim.md)"
	@echo "make fuzz              build the libFuzzer targets"
	@echo "make clean             remove $(BUILD)/"

# ---- dependencies (stamp-checked, so it is quick when all is there) --------
DEPS_STAMP := $(BUILD)/.deps-stamp
$(DEPS_STAMP): scripts/install-deps.sh
	@scripts/install-deps.sh
	@mkdir -p $(@D) && touch $@
deps: $(DEPS_STAMP)

# ---- generated tables (one source of truth for C and RTL) ------------------
GEN_DIR := $(BUILD)/gen
GEN_TABLES := $(GEN_DIR)/pal_tables.c $(GEN_DIR)/pal_tables.vh
$(BUILD)/tools/palgen: host/format/palgen.c host/format/pal_bigint.h
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -Ihost/format -O2 -o $@ $< -lm
$(GEN_TABLES) &: $(BUILD)/tools/palgen
	@mkdir -p $(GEN_DIR)
	$(BUILD)/tools/palgen $(GEN_DIR)

# ---- libpal core (golden model, fast path, comparison formats) -------------
LIB_SRCS := $(filter-out host/format/palgen.c %_avx2.c,$(wildcard host/core/*.c host/format/*.c))
LIB_AVX2_SRCS := $(wildcard host/format/*_avx2.c)

# $(call variant,NAME,CFLAGS): objects and a static library per build variant.
define variant
$(1)_OBJS := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(LIB_SRCS)) \
             $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(LIB_AVX2_SRCS)) \
             $(BUILD)/$(1)/obj/gen/pal_tables.o
$(1)_LIB := $(BUILD)/$(1)/libpalcore.a
$(BUILD)/$(1)/obj/%_avx2.o: %_avx2.c $(GEN_TABLES)
	@mkdir -p $$(@D)
	$$(CC) $(2) $(AVX2_CFLAGS) -MMD -MP -c -o $$@ $$<
$(BUILD)/$(1)/obj/%.o: %.c $(GEN_TABLES)
	@mkdir -p $$(@D)
	$$(CC) $(2) $(OPENBLAS_CFLAGS) -MMD -MP -c -o $$@ $$<
$(BUILD)/$(1)/obj/gen/pal_tables.o: $(GEN_DIR)/pal_tables.c
	@mkdir -p $$(@D)
	$$(CC) $(2) -c -o $$@ $$<
$$($(1)_LIB): $$($(1)_OBJS)
	@rm -f $$@
	ar rcs $$@ $$^
-include $$(patsubst %.o,%.d,$$($(1)_OBJS))
endef

REL_FLAGS := $(BASE_CFLAGS) $(OPT_CFLAGS)
SAN_FLAGS := $(BASE_CFLAGS) $(SAN_CFLAGS)
$(eval $(call variant,rel,$(REL_FLAGS)))
$(eval $(call variant,san,$(SAN_FLAGS)))

lib: $(rel_LIB)

# ---- unit tests (cmocka): tests/unit/test_*.c, each its own binary ---------
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_REL := $(patsubst tests/unit/%.c,$(BUILD)/rel/tests/%,$(UNIT_SRCS))
UNIT_SAN := $(patsubst tests/unit/%.c,$(BUILD)/san/tests/%,$(UNIT_SRCS))
$(BUILD)/rel/tests/%: tests/unit/%.c $(rel_LIB) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(OPENBLAS_CFLAGS) -Itests/unit -o $@ $< $(rel_LIB) $(CMOCKA_LIBS) $(OPENBLAS_LIBS) $(LDLIBS)
$(BUILD)/san/tests/%: tests/unit/%.c $(san_LIB) $(wildcard tests/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(SAN_FLAGS) $(OPENBLAS_CFLAGS) -Itests/unit -o $@ $< $(san_LIB) $(CMOCKA_LIBS) $(OPENBLAS_LIBS) $(LDLIBS)
tests: $(UNIT_REL) $(UNIT_SAN)

# ---- benchmarks: bench/bench_*.c -------------------------------------------
BENCH_SRCS := $(wildcard bench/bench_*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/rel/bench/%,$(BENCH_SRCS))
$(BUILD)/rel/bench/%: bench/%.c bench/bench_util.h $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(OPENBLAS_CFLAGS) -Ibench -o $@ $< $(rel_LIB) $(OPENBLAS_LIBS) $(LDLIBS)
benches: $(BENCH_BINS)

bench-formats: $(DEPS_STAMP) $(BUILD)/rel/bench/bench_formats
	@mkdir -p $(BUILD)/bench
	$(BUILD)/rel/bench/bench_formats --json $(BUILD)/bench/formats.json

# ---- exhaustive checks (not part of make test) -----------------------------
$(BUILD)/rel/check/check_encoder: tests/exhaustive/check_encoder.c $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -O3 -o $@ $< $(rel_LIB) $(LDLIBS)
check-exhaustive: $(DEPS_STAMP) $(BUILD)/rel/check/check_encoder
	$(BUILD)/rel/check/check_encoder --threads $(NPROC)

# ---- other layers -----------------------------------------------------------
# Each layer's fragment (rtl/rtl.mk, sim/sim.mk, ...) appends its test
# programs to EXTRA_TESTS (run by scripts/run-tests.sh, cmocka output) and its
# pass/fail make targets (lint, synthesis checks) to CHECKS.
EXTRA_TESTS :=
CHECKS := check-spec-copy
# The control core's firmware image (firmware/firmware.mk builds it), named
# here because the board flow (constraints/boards.mk, included first) bakes
# it into the bitstreams of boards built with the core.
FW_BUILD := $(BUILD)/firmware
FW_HEX := $(FW_BUILD)/pal_fw.hex
include $(sort $(wildcard */*.mk))

# docs/pal-format.md is the repo's copy of the normative spec; where the
# shared design folder sits beside the checkout (CI), they must not drift.
.PHONY: check-spec-copy
check-spec-copy:
	@if [ -f ../shared/design/pal-format.md ]; then \
	  cmp -s ../shared/design/pal-format.md docs/pal-format.md || \
	  { echo "docs/pal-format.md differs from the normative ../shared/design/pal-format.md"; exit 1; }; \
	fi

# ---- top-level jobs --------------------------------------------------------
all: $(DEPS_STAMP) lib tests benches

test: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory -j$(NPROC) tests $(EXTRA_TESTS)
	@$(MAKE) --no-print-directory -j$(NPROC) --output-sync=target $(CHECKS)
	@scripts/run-tests.sh $(UNIT_REL) $(UNIT_SAN) $(EXTRA_TESTS)

# The demo (host/train.mk, docs/demo.md): tools, SoC models and the two
# trainings are independent, so they build side by side; each target's
# output is printed whole when it finishes.
demo: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory -j$(NPROC) --output-sync=target demo-story

clean:
	rm -rf $(BUILD)
