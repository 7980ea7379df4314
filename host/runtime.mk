# Runtime layer (host/runtime/, public header include/pal/pal.h): tensors,
# the graph IR, ONNX import/export through protobuf-c code generated here at
# build time from Debian's onnx.proto, .npy files, providers, the
# partitioner and sessions; the `pal` CLI (host/cli/ -> $(BUILD)/bin/pal).
# Included by the top-level Makefile (*/*.mk). Builds, per variant,
# $(BUILD)/{rel,san}/libpalrt.a; link order: libpalrt, libpalcomp (when
# the compiler layer is there), libpalops, libpaldrv, libpaltile, libpalcore.

# ---- ONNX schema -> C, at build time ------------------------------------------
ONNX_PROTO ?= $(firstword $(wildcard /usr/include/onnx/onnx.proto) \
                $(shell dpkg -L libonnx-dev 2>/dev/null | grep '/onnx\.proto$$' | head -1))
PROTOC_C ?= protoc-c
ONNX_GEN_DIR := $(GEN_DIR)/onnx
ONNX_GEN_C := $(ONNX_GEN_DIR)/onnx.pb-c.c
ONNX_GEN_H := $(ONNX_GEN_DIR)/onnx.pb-c.h
PROTOBUF_C_LIBS := $(shell pkg-config --libs libprotobuf-c 2>/dev/null || echo -lprotobuf-c)
$(ONNX_GEN_H): $(ONNX_GEN_C)
$(ONNX_GEN_C): $(ONNX_PROTO) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@test -n "$(ONNX_PROTO)" || { echo "runtime: onnx.proto not found (Debian package libonnx-dev)"; exit 1; }
	$(PROTOC_C) --c_out=$(@D) -I$(dir $(ONNX_PROTO)) $(ONNX_PROTO)

# ---- the library ----------------------------------------------------------------
RT_SRCS := $(wildcard host/runtime/*.c)
RT_HDRS := $(wildcard host/runtime/*.h) include/pal/pal.h
CLI_SRCS := $(wildcard host/cli/*.c)
CLI_HDRS := $(wildcard host/cli/*.h)
RT_TEST_SRCS := $(wildcard tests/runtime/test_*.c)
RT_TEST_HDRS := $(wildcard tests/runtime/*.h) tests/unit/pal_test.h
PAL_CLI := $(BUILD)/bin/pal
# The generated code is not ours to keep warning-free: its own flags.
RT_GEN_CFLAGS := $(CSTD) $(INCLUDES) -g -O2 -w
# Messages are cut to fit their buffers on purpose.
RT_CFLAGS := -Ihost/runtime -I$(ONNX_GEN_DIR) -Wno-format-truncation
# The pal provider needs the compiler layer (host/compiler/, compile.h).
RT_HAVE_COMPILER := $(if $(wildcard host/compiler.mk),1,)
ifeq ($(RT_HAVE_COMPILER),1)
RT_CFLAGS += -DPAL_RT_HAVE_COMPILER=1
endif

# $(call rt_variant,NAME,CFLAGS)
define rt_variant
$(1)_RT_OBJS := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(RT_SRCS)) $(BUILD)/$(1)/obj/gen/onnx/onnx.pb-c.o
$(1)_RT_LIB := $(BUILD)/$(1)/libpalrt.a
$(1)_RT_DEPLIBS := $$($(1)_RT_LIB) $(if $(RT_HAVE_COMPILER),$(BUILD)/$(1)/libpalcomp.a) \
    $(BUILD)/$(1)/libpalops.a $(BUILD)/$(1)/libpaldrv.a $(BUILD)/$(1)/libpaltile.a $(BUILD)/$(1)/libpalcore.a
$(1)_RT_TESTS := $$(patsubst tests/runtime/%.c,$(BUILD)/$(1)/tests/runtime/%,$(RT_TEST_SRCS))
$(BUILD)/$(1)/obj/gen/onnx/onnx.pb-c.o: $(ONNX_GEN_C)
	@mkdir -p $$(@D)
	$$(CC) $(RT_GEN_CFLAGS) $(if $(findstring sanitize,$(2)),$(SAN_CFLAGS)) -c -o $$@ $$<
$$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(RT_SRCS)): $(BUILD)/$(1)/obj/%.o: %.c $(ONNX_GEN_H)
	@mkdir -p $$(@D)
	$$(CC) $(2) $(RT_CFLAGS) -MMD -MP -c -o $$@ $$<
$$($(1)_RT_LIB): $$($(1)_RT_OBJS)
	@rm -f $$@
	ar rcs $$@ $$^
$$($(1)_RT_TESTS): $(BUILD)/$(1)/tests/runtime/%: tests/runtime/%.c $$($(1)_RT_DEPLIBS) $(RT_TEST_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $(2) $(RT_CFLAGS) -Itests/unit -Itests/runtime -o $$@ $$< $$($(1)_RT_DEPLIBS) \
	  $$(PROTOBUF_C_LIBS) $$(CMOCKA_LIBS) $$(OPENBLAS_LIBS) $$(DRV_LDLIBS) -ldl $$(LDLIBS)
-include $$(patsubst %.c,$(BUILD)/$(1)/obj/%.d,$(RT_SRCS))
endef

$(eval $(call rt_variant,rel,$(REL_FLAGS)))
$(eval $(call rt_variant,san,$(SAN_FLAGS)))

$(PAL_CLI): $(CLI_SRCS) $(CLI_HDRS) $(rel_RT_DEPLIBS)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(RT_CFLAGS) -Ihost/cli -o $@ $(CLI_SRCS) $(rel_RT_DEPLIBS) \
	  $(PROTOBUF_C_LIBS) $(OPENBLAS_LIBS) $(DRV_LDLIBS) -ldl $(LDLIBS)

RT_TESTS := $(rel_RT_TESTS) $(san_RT_TESTS)
EXTRA_TESTS += $(RT_TESTS)

.PHONY: runtime test-runtime
runtime: $(rel_RT_LIB) $(san_RT_LIB) $(PAL_CLI)
all: runtime

# Only this layer's tests (the full make test takes much longer).
test-runtime: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory $(RT_TESTS) $(PAL_CLI)
	@scripts/run-tests.sh $(RT_TESTS)

# ---- ONNX backend node tests (libonnx-testdata) --------------------------------
ONNX_NODE_DATA ?= $(firstword $(shell dpkg -L libonnx-testdata 2>/dev/null | grep '/data/node$$' | head -1) \
                    /usr/share/libonnx-testdata/data/node)
ONNX_NODE_RUNNER := $(BUILD)/rel/tests/runtime/onnx_node_runner
ONNX_NODE_EXPECT := tests/runtime/onnx_node_expected.txt
$(ONNX_NODE_RUNNER): tests/runtime/onnx_node_runner.c $(rel_RT_DEPLIBS)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(RT_CFLAGS) -o $@ $< $(rel_RT_DEPLIBS) \
	  $(PROTOBUF_C_LIBS) $(OPENBLAS_LIBS) $(DRV_LDLIBS) -ldl $(LDLIBS)
.PHONY: check-onnx-nodes
CHECKS += check-onnx-nodes
# Every test, pass/fail/unsupported per op; fails when a test of the
# asserted set (tests/runtime/onnx_node_expected.txt) does not pass.
# The same runner with the pal provider on emu:// for the tests with
# Gemm/MatMul/Conv (weights bound as constants, PAL8 tolerance); those
# nodes must be placed on pal (tests/runtime/onnx_node_expected_emu.txt).
check-onnx-nodes: $(ONNX_NODE_RUNNER)
	@$(ONNX_NODE_RUNNER) --data $(ONNX_NODE_DATA) --expect $(ONNX_NODE_EXPECT) \
	  > $(BUILD)/onnx-nodes-cpu.txt 2>&1 || { cat $(BUILD)/onnx-nodes-cpu.txt; exit 1; }
	@sed -n '/^op /,/^total/p' $(BUILD)/onnx-nodes-cpu.txt
	@$(ONNX_NODE_RUNNER) --data $(ONNX_NODE_DATA) --device emu:// --expect tests/runtime/onnx_node_expected_emu.txt \
	  > $(BUILD)/onnx-nodes-emu.txt 2>&1 || { cat $(BUILD)/onnx-nodes-emu.txt; exit 1; }
	@grep '^total' $(BUILD)/onnx-nodes-emu.txt | sed 's/^/emu:: /'
	@echo "check-onnx-nodes: ok (full lists: $(BUILD)/onnx-nodes-cpu.txt, $(BUILD)/onnx-nodes-emu.txt)"

# ---- the pal CLI's contract (tests/runtime/cli_check.c) -------------------------
RT_CLI_CHECK := $(BUILD)/rel/tests/runtime/cli_check
$(RT_CLI_CHECK): tests/runtime/cli_check.c $(rel_RT_DEPLIBS) $(RT_TEST_HDRS)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(RT_CFLAGS) -Itests/unit -Itests/runtime -o $@ $< $(rel_RT_DEPLIBS) \
	  $(PROTOBUF_C_LIBS) $(CMOCKA_LIBS) $(OPENBLAS_LIBS) $(DRV_LDLIBS) -ldl $(LDLIBS)
.PHONY: check-pal-cli
CHECKS += check-pal-cli
check-pal-cli: $(RT_CLI_CHECK) $(PAL_CLI)
	@$(RT_CLI_CHECK) $(PAL_CLI) > $(BUILD)/check-pal-cli.log 2>&1 || \
	  { cat $(BUILD)/check-pal-cli.log; echo "check-pal-cli: failed"; exit 1; }; \
	echo "check-pal-cli: ok"

# ---- fuzzing (clang + libFuzzer; built by `make fuzz`, not run by make test) ----
# The runtime's sources are compiled by clang with the fuzzer's
# instrumentation; the layers below come from the rel build.
RT_FUZZ_SRCS := $(RT_SRCS) $(ONNX_GEN_C)
RT_FUZZ_LIBS := $(BUILD)/rel/libpalops.a $(if $(RT_HAVE_COMPILER),$(BUILD)/rel/libpalcomp.a) \
    $(BUILD)/rel/libpaldrv.a $(BUILD)/rel/libpaltile.a $(BUILD)/rel/libpalcore.a
FUZZ_ONNX := $(BUILD)/fuzz/fuzz-onnx
FUZZ_NPY := $(BUILD)/fuzz/fuzz-npy
$(FUZZ_ONNX) $(FUZZ_NPY): $(BUILD)/fuzz/fuzz-%: tests/runtime/fuzz_%.c $(RT_FUZZ_SRCS) $(RT_HDRS) \
                                               $(ONNX_GEN_H) $(RT_FUZZ_LIBS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CSTD) $(INCLUDES) $(RT_CFLAGS) -Wno-unknown-warning-option -g -O1 \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $< $(RT_FUZZ_SRCS) \
	  $(RT_FUZZ_LIBS) $(PROTOBUF_C_LIBS) $(OPENBLAS_LIBS) $(DRV_LDLIBS) -ldl $(LDLIBS)
.PHONY: fuzz-onnx fuzz-npy fuzz-run-onnx fuzz-run-npy
fuzz: fuzz-onnx fuzz-npy
fuzz-onnx: $(FUZZ_ONNX)
fuzz-npy: $(FUZZ_NPY)
# Runs a fuzzer for FUZZ_SECONDS (default 60) on a corpus kept in the build,
# seeded with the ONNX node tests' models (and, for .npy, a few written by
# the runtime tests); crashing inputs land in $(BUILD)/fuzz/<name>-crash-*.
fuzz-run-onnx: $(FUZZ_ONNX)
	@mkdir -p $(BUILD)/fuzz/corpus-onnx
	@n=0; for f in $(ONNX_NODE_DATA)/test_*/model.onnx; do [ -f "$$f" ] || continue; \
	  n=$$((n+1)); [ $$n -le 300 ] && cp -n "$$f" $(BUILD)/fuzz/corpus-onnx/seed-$$n.onnx; done; true
	$(FUZZ_ONNX) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -rss_limit_mb=2048 \
	  -artifact_prefix=$(BUILD)/fuzz/onnx- $(BUILD)/fuzz/corpus-onnx
fuzz-run-npy: $(FUZZ_NPY)
	@mkdir -p $(BUILD)/fuzz/corpus-npy
	@printf '\x93NUMPY\x01\x00\x46\x00{'"'"'descr'"'"': '"'"'<f4'"'"', '"'"'fortran_order'"'"': False, '"'"'shape'"'"': (2,), }        \n\x00\x00\x80\x3f\x00\x00\x00\x40' > $(BUILD)/fuzz/corpus-npy/seed-f4.npy
	$(FUZZ_NPY) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -rss_limit_mb=2048 \
	  -artifact_prefix=$(BUILD)/fuzz/npy- $(BUILD)/fuzz/corpus-npy

# ---- pal-soc: the pal CLI with sim:// (the Verilated SoC) in the process ----------
# Its default device is sim:// (pal info says so). Built on request only:
# the SoC models take minutes to Verilate. Libraries named by path: sim/
# fragments are included after this one.
PAL_SOC_CLI := $(BUILD)/bin/pal-soc
.PHONY: pal-soc
pal-soc: $(PAL_SOC_CLI)
PAL_SOC_CLI_OBJS := $(patsubst %.c,$(BUILD)/rel/obj/%.o,$(filter-out host/cli/pal_main.c,$(CLI_SRCS)))
$(PAL_SOC_CLI): host/cli/pal_main.c $(PAL_SOC_CLI_OBJS) $(CLI_HDRS) $(rel_RT_DEPLIBS) | soc-cli
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(RT_CFLAGS) -Ihost/cli -DPAL_CLI_WITH_SIM=1 -c -o $(BUILD)/rel/obj/pal_main_sim.o host/cli/pal_main.c
	$(SIM_CXX) -o $@ $(BUILD)/rel/obj/pal_main_sim.o $(PAL_SOC_CLI_OBJS) \
	  $(rel_RT_LIB) $(if $(RT_HAVE_COMPILER),$(BUILD)/rel/libpalcomp.a) $(BUILD)/rel/libpalops.a \
	  $(SOC_CLI_LINK) $(PROTOBUF_C_LIBS) $(OPENBLAS_LIBS) $(SOC_LDLIBS) -ldl
$(patsubst %.c,$(BUILD)/rel/obj/%.o,$(CLI_SRCS)): $(BUILD)/rel/obj/%.o: %.c $(CLI_HDRS) $(RT_HDRS) $(ONNX_GEN_H)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(RT_CFLAGS) -Ihost/cli -MMD -MP -c -o $@ $<

# ---- benchmark: providers (cpu Gemm vs OpenBLAS; MLP cycles on emu://) -----------
# An explicit rule: it overrides the top-level bench pattern, which links
# only libpalcore.
$(BUILD)/rel/bench/bench_providers: bench/bench_providers.c bench/bench_util.h $(rel_RT_DEPLIBS)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(OPENBLAS_CFLAGS) -Ibench -o $@ $< $(rel_RT_DEPLIBS) \
	  $(PROTOBUF_C_LIBS) $(OPENBLAS_LIBS) $(DRV_LDLIBS) -ldl $(LDLIBS)
.PHONY: bench-providers
bench-providers: $(DEPS_STAMP) $(BUILD)/rel/bench/bench_providers
	@mkdir -p $(BUILD)/bench
	$(BUILD)/rel/bench/bench_providers --json $(BUILD)/bench/providers.json

# ---- benchmark: the runtime's figures in one table (issue 6's measurements) -----
# The cpu-provider GEMM ratio next to OpenBLAS (measured now, side by side),
# the ONNX node-test pass rates per op and overall with the counts attempted
# (the node runner of check-onnx-nodes, run again: half a second), and the
# demo's accuracy, cycles per image, utilisation and zero-skip savings read
# from make demo's summary (nothing is trained here; without the summary the
# table says "run make demo first"). Table + $(BUILD)/bench/runtime.json.
.PHONY: bench-runtime
bench-runtime: $(DEPS_STAMP) $(BUILD)/rel/bench/bench_providers $(ONNX_NODE_RUNNER)
	@mkdir -p $(BUILD)/bench
	@$(ONNX_NODE_RUNNER) --data $(ONNX_NODE_DATA) > $(BUILD)/onnx-nodes-cpu.txt 2>&1 || true
	@$(ONNX_NODE_RUNNER) --data $(ONNX_NODE_DATA) --device emu:// > $(BUILD)/onnx-nodes-emu.txt 2>&1 || true
	@$(BUILD)/rel/bench/bench_providers --json $(BUILD)/bench/providers.json \
	  --runtime-json $(BUILD)/bench/runtime.json --nodes $(BUILD)/onnx-nodes-cpu.txt \
	  --nodes-emu $(BUILD)/onnx-nodes-emu.txt --demo $(or $(DEMO_SUMMARY),$(BUILD)/demo/summary.txt) \
	  > $(BUILD)/bench/runtime.log 2>&1 || { cat $(BUILD)/bench/runtime.log; exit 1; }
	@sed -n '/^==== bench-runtime/,$$p' $(BUILD)/bench/runtime.log
