# The demo (host/train/, private header host/train/pal_train.h): the
# Fashion-MNIST IDX reader, the FP32 MLP and CNN trainers (OpenBLAS; the CNN
# through im2col), their ONNX export, and their evaluation in FP32 and
# PAL8-B32 (golden model, tile compiler, runtime providers) on emu:// and
# sim://. Included by the top-level Makefile (*/*.mk). Builds, per variant,
# $(BUILD)/{rel,san}/libpaltrain.a, the CLIs $(BUILD)/bin/pal-train-mnist,
# pal-eval-mnist, pal-train-cnn, pal-eval-cnn (and pal-eval-{mnist,cnn}-sim,
# the evaluators with sim:// in the process, for make demo), the tests in
# tests/train/ (EXTRA_TESTS), check-train-cli (CHECKS), `make bench-train`,
# `make fuzz-idx`, `make demo-mlp`, `make demo-cnn` and `make demo-story`
# (both models trained once, cached under $(BUILD)/demo/, then the whole
# story and one table), which `make demo` runs. docs/demo.md.

TRAIN_TOOL_SRCS := host/train/pal_train_mnist.c host/train/pal_eval_mnist.c host/train/pal_train_bench.c \
                   host/train/pal_train_cnn.c host/train/pal_eval_cnn.c
TRAIN_LIB_SRCS := $(filter-out $(TRAIN_TOOL_SRCS),$(wildcard host/train/*.c))
TRAIN_HDRS := $(wildcard host/train/*.h) include/pal/pal.h include/pal/format.h include/pal/gemm.h
TRAIN_TEST_SRCS := $(wildcard tests/train/test_*.c)
TRAIN_TEST_HDRS := $(wildcard tests/train/*.h) tests/unit/pal_test.h
TRAIN_BIN := $(BUILD)/bin/pal-train-mnist
EVAL_BIN := $(BUILD)/bin/pal-eval-mnist
CNN_TRAIN_BIN := $(BUILD)/bin/pal-train-cnn
CNN_EVAL_BIN := $(BUILD)/bin/pal-eval-cnn
ZLIB_LIBS := $(shell pkg-config --libs zlib 2>/dev/null || echo -lz)
# The tile-compiler path of the evaluator needs the compiler layer.
TRAIN_HAVE_COMPILER := $(if $(wildcard host/compiler/*.c),1,)
TRAIN_CFLAGS := -Ihost/train $(OPENBLAS_CFLAGS) $(if $(TRAIN_HAVE_COMPILER),-DPAL_TRAIN_HAVE_COMPILER=1)
# Other layers' fragments may come later in the sorted include order: name
# their libraries by path. Link order: runtime, compiler, ops, driver, tile, core.
TRAIN_LINK = $(PROTOBUF_C_LIBS) $(ZLIB_LIBS) $(OPENBLAS_LIBS) $(DRV_LDLIBS) -ldl $(LDLIBS)

# $(call train_variant,NAME,CFLAGS)
define train_variant
$(1)_TRAIN_OBJS := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(TRAIN_LIB_SRCS))
$(1)_TRAIN_LIB := $(BUILD)/$(1)/libpaltrain.a
$(1)_TRAIN_DEPLIBS := $$($(1)_TRAIN_LIB) $(BUILD)/$(1)/libpalrt.a \
    $(if $(TRAIN_HAVE_COMPILER),$(BUILD)/$(1)/libpalcomp.a) $(BUILD)/$(1)/libpalops.a \
    $(BUILD)/$(1)/libpaldrv.a $(BUILD)/$(1)/libpaltile.a $(BUILD)/$(1)/libpalcore.a
$(1)_TRAIN_TESTS := $$(patsubst tests/train/%.c,$(BUILD)/$(1)/tests/train/%,$(TRAIN_TEST_SRCS))
$$($(1)_TRAIN_OBJS): $(BUILD)/$(1)/obj/%.o: %.c $(TRAIN_HDRS) $(GEN_TABLES)
	@mkdir -p $$(@D)
	$$(CC) $(2) $(TRAIN_CFLAGS) -MMD -MP -c -o $$@ $$<
$$($(1)_TRAIN_LIB): $$($(1)_TRAIN_OBJS)
	@rm -f $$@
	ar rcs $$@ $$^
$$($(1)_TRAIN_TESTS): $(BUILD)/$(1)/tests/train/%: tests/train/%.c $$($(1)_TRAIN_DEPLIBS) \
                      $(TRAIN_TEST_HDRS) $(TRAIN_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $(2) $(TRAIN_CFLAGS) -Itests/unit -Itests/train -o $$@ $$< $$($(1)_TRAIN_DEPLIBS) \
	  $$(CMOCKA_LIBS) $$(TRAIN_LINK)
-include $$(patsubst %.o,%.d,$$($(1)_TRAIN_OBJS))
endef

$(eval $(call train_variant,rel,$(REL_FLAGS)))
$(eval $(call train_variant,san,$(SAN_FLAGS)))

$(TRAIN_BIN): host/train/pal_train_mnist.c $(rel_TRAIN_DEPLIBS) $(TRAIN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(TRAIN_CFLAGS) -o $@ $< $(rel_TRAIN_DEPLIBS) $(TRAIN_LINK)
$(CNN_TRAIN_BIN): host/train/pal_train_cnn.c $(rel_TRAIN_DEPLIBS) $(TRAIN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(TRAIN_CFLAGS) -o $@ $< $(rel_TRAIN_DEPLIBS) $(TRAIN_LINK)
$(EVAL_BIN): host/train/pal_eval_mnist.c $(rel_TRAIN_DEPLIBS) $(TRAIN_HDRS) \
             $(if $(TRAIN_HAVE_COMPILER),include/pal/compile.h)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(TRAIN_CFLAGS) -o $@ $< $(rel_TRAIN_DEPLIBS) $(TRAIN_LINK)

# The demo model's figures (training time, accuracies against the issue's
# targets, evaluation throughput): table + $(BUILD)/bench/train.json.
TRAIN_BENCH := $(BUILD)/rel/bench/pal_train_bench
$(TRAIN_BENCH): host/train/pal_train_bench.c bench/bench_util.h $(rel_TRAIN_DEPLIBS) $(TRAIN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(TRAIN_CFLAGS) -Ibench -o $@ $< $(rel_TRAIN_DEPLIBS) $(TRAIN_LINK)
.PHONY: bench-train
bench-train: $(DEPS_STAMP) $(TRAIN_BENCH)
	@mkdir -p $(BUILD)/bench
	$(TRAIN_BENCH) --json $(BUILD)/bench/train.json

TRAIN_TESTS := $(rel_TRAIN_TESTS) $(san_TRAIN_TESTS)
EXTRA_TESTS += $(TRAIN_TESTS)

.PHONY: train test-train demo-mlp
train: $(TRAIN_BIN) $(EVAL_BIN) $(TRAIN_BENCH)
all: train

# Only this layer's tests (the full make test takes much longer).
test-train: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory $(TRAIN_TESTS)
	@scripts/run-tests.sh $(TRAIN_TESTS)

# The demo's model, trained once: a second run finds it under $(BUILD)/demo
# (delete that folder, or change the trainer's sources, to train again; a
# rebuild of the libraries underneath does not retrain). fashion_mlp.onnx
# is the trainer's last file, so an interrupted run trains again.
DEMO_DIR := $(BUILD)/demo
DEMO_DEVICE ?= emu://
DEMO_TILE_IMAGES ?= 256
$(DEMO_DIR)/fashion_mlp.onnx: host/train/pal_train_mnist.c host/train/pal_mlp.c host/train/pal_idx.c \
                              | $(TRAIN_BIN) $(DEPS_STAMP)
	$(TRAIN_BIN) --out $(DEMO_DIR)
demo-mlp: $(DEMO_DIR)/fashion_mlp.onnx $(EVAL_BIN)
	$(EVAL_BIN) --model $(DEMO_DIR) --device '$(DEMO_DEVICE)' --tile-images $(DEMO_TILE_IMAGES)

# The CNN, trained once like the MLP (fashion_cnn.onnx is its only file).
$(DEMO_DIR)/fashion_cnn.onnx: host/train/pal_train_cnn.c host/train/pal_cnn.c host/train/pal_idx.c \
                              | $(CNN_TRAIN_BIN) $(DEPS_STAMP)
	$(CNN_TRAIN_BIN) --out $(DEMO_DIR)
.PHONY: demo-cnn demo-story
demo-cnn: $(DEMO_DIR)/fashion_cnn.onnx $(CNN_EVAL_BIN)
	$(CNN_EVAL_BIN) --model $(DEMO_DIR) --device '$(DEMO_DEVICE)'

# The whole story (issue 6's demo): both models trained (cached), the full
# test set in PAL8-B32 on emu:// (MLP through the tile compiler and the
# runtime's pal provider, CNN through the pal provider), the tile counters on
# 4x4 and 8x8, a sample on sim:// (the Verilated SoC in the process) that
# must match emu:// bit for bit, and one table ($(DEMO_DIR)/summary.txt
# holds its numbers).
# The evaluators linked with the Verilated SoC (sim://), built further down.
EVAL_SIM_BIN := $(BUILD)/bin/pal-eval-mnist-sim
CNN_EVAL_SIM_BIN := $(BUILD)/bin/pal-eval-cnn-sim
DEMO_SIM_IMAGES ?= 16
DEMO_SUMMARY := $(DEMO_DIR)/summary.txt
demo-story: $(DEMO_DIR)/fashion_mlp.onnx $(DEMO_DIR)/fashion_cnn.onnx $(EVAL_BIN) $(CNN_EVAL_BIN) \
            $(EVAL_SIM_BIN) $(CNN_EVAL_SIM_BIN) $(BUILD)/bin/pal $(BUILD)/bin/pal-soc
	@rm -f $(DEMO_SUMMARY)
	@echo "==== MLP 784-256-128-10: all test images on emu:// 4x4 (tile compiler + runtime pal provider) ===="
	$(EVAL_BIN) --model $(DEMO_DIR) --device 'emu://' --tile-images 10000 --summary $(DEMO_SUMMARY)
	@echo "==== MLP on an 8x8 tile (emu://), 256 images ===="
	@$(EVAL_BIN) --model $(DEMO_DIR) --device 'emu://?rows=8&cols=8' --tile-images 256 --no-onnx \
	  --summary $(DEMO_SUMMARY) > $(DEMO_DIR)/mlp-8x8.log 2>&1 || { cat $(DEMO_DIR)/mlp-8x8.log; exit 1; }
	@sed -n '/tile compiler/,$$p' $(DEMO_DIR)/mlp-8x8.log
	@echo "==== MLP on sim:// (Verilated SoC, 4x4), $(DEMO_SIM_IMAGES) images ===="
	@$(EVAL_SIM_BIN) --model $(DEMO_DIR) --device 'sim://' --tile-images $(DEMO_SIM_IMAGES) \
	  --summary $(DEMO_SUMMARY) > $(DEMO_DIR)/mlp-sim.log 2>&1 || { cat $(DEMO_DIR)/mlp-sim.log; exit 1; }
	@sed -n '/tile compiler/,$$p' $(DEMO_DIR)/mlp-sim.log
	@echo "==== CNN: all test images on emu:// through the runtime (pal provider), counters on 4x4 and 8x8 ===="
	$(CNN_EVAL_BIN) --model $(DEMO_DIR) --device 'emu://' --summary $(DEMO_SUMMARY)
	@echo "==== CNN on sim:// (Verilated SoC, 4x4) through the runtime, $(DEMO_SIM_IMAGES) images, against emu:// ===="
	@$(CNN_EVAL_SIM_BIN) --model $(DEMO_DIR) --device 'sim://' --limit $(DEMO_SIM_IMAGES) --tile 'emu://' \
	  --tile-images $(DEMO_SIM_IMAGES) --summary $(DEMO_SUMMARY) --write-sample $(DEMO_DIR) > $(DEMO_DIR)/cnn-sim.log 2>&1 \
	  || { cat $(DEMO_DIR)/cnn-sim.log; exit 1; }
	@sed -n '/PAL8-B32, runtime/,$$p' $(DEMO_DIR)/cnn-sim.log
	@echo "==== both models through the runtime CLI on the sim sample: pal run (emu://) and pal-soc run (sim://) ===="
	@for m in mlp:flat cnn:nchw; do n=$${m%%:*}; x=$(DEMO_DIR)/sample_x_$${m##*:}.npy; \
	  $(PAL_CLI) run $(DEMO_DIR)/fashion_$$n.onnx --input $$x --output $(DEMO_DIR)/sample_$$n.emu.npy \
	    --device emu:// --quiet || exit 1; \
	  $(BUILD)/bin/pal-soc run $(DEMO_DIR)/fashion_$$n.onnx --input $$x --output $(DEMO_DIR)/sample_$$n.sim.npy \
	    --device sim:// --quiet || exit 1; \
	  cmp -s $(DEMO_DIR)/sample_$$n.emu.npy $(DEMO_DIR)/sample_$$n.sim.npy \
	    || { echo "$$n: pal run logits on sim:// differ from emu://"; exit 1; }; \
	  echo "  $$n: pal run --device emu:// and pal-soc run --device sim:// wrote identical logits ($$x)"; done
	@host/train/demo_table.sh $(DEMO_SUMMARY)

# The CLIs' contract (their --help): usage errors exit 2; a damaged data
# file or a missing model exits 1 with a message naming the file.
CHECKS += check-train-cli
check-train-cli: $(TRAIN_BIN) $(EVAL_BIN) $(CNN_TRAIN_BIN) $(CNN_EVAL_BIN)
	@d=$(BUILD)/check-train-cli; rm -rf $$d; mkdir -p $$d/data; \
	$(TRAIN_BIN) --frobnicate > $$d/usage.txt 2>&1; rc=$$?; \
	[ $$rc -eq 2 ] || { echo "check-train-cli: unknown option gave exit $$rc"; exit 1; }; \
	$(TRAIN_BIN) --epochs 0 > $$d/usage.txt 2>&1; rc=$$?; \
	[ $$rc -eq 2 ] || { echo "check-train-cli: --epochs 0 gave exit $$rc"; exit 1; }; \
	printf '\000\000\010\003\000\000\000\002\000\000\000\034\000\000\000\034abc' | gzip > $$d/data/train-images-idx3-ubyte.gz; \
	printf '\000\000\010\001\000\000\000\002\001\002' | gzip > $$d/data/train-labels-idx1-ubyte.gz; \
	$(TRAIN_BIN) --data $$d/data --out $$d/out > $$d/trunc.txt 2>&1; rc=$$?; \
	[ $$rc -eq 1 ] && grep -q 'train-images-idx3-ubyte.gz: truncated' $$d/trunc.txt || \
	  { echo "check-train-cli: truncated images gave exit $$rc: $$(cat $$d/trunc.txt)"; exit 1; }; \
	$(EVAL_BIN) --model $$d/none > $$d/none.txt 2>&1; rc=$$?; \
	[ $$rc -eq 1 ] && grep -q 'W1.npy' $$d/none.txt || \
	  { echo "check-train-cli: missing model gave exit $$rc: $$(cat $$d/none.txt)"; exit 1; }; \
	$(EVAL_BIN) --tile-images x > /dev/null 2>&1; rc=$$?; \
	[ $$rc -eq 2 ] || { echo "check-train-cli: bad --tile-images gave exit $$rc"; exit 1; }; \
	$(CNN_TRAIN_BIN) --c1 0 > /dev/null 2>&1; rc=$$?; \
	[ $$rc -eq 2 ] || { echo "check-train-cli: pal-train-cnn --c1 0 gave exit $$rc"; exit 1; }; \
	$(CNN_TRAIN_BIN) --data $$d/data --out $$d/out > $$d/ctrunc.txt 2>&1; rc=$$?; \
	[ $$rc -eq 1 ] && grep -q 'train-images-idx3-ubyte.gz: truncated' $$d/ctrunc.txt || \
	  { echo "check-train-cli: pal-train-cnn on truncated images gave exit $$rc: $$(cat $$d/ctrunc.txt)"; exit 1; }; \
	$(CNN_EVAL_BIN) --model $$d/none > $$d/cnone.txt 2>&1; rc=$$?; \
	[ $$rc -eq 1 ] && grep -q 'fashion_cnn.onnx' $$d/cnone.txt || \
	  { echo "check-train-cli: pal-eval-cnn without a model gave exit $$rc: $$(cat $$d/cnone.txt)"; exit 1; }; \
	$(CNN_EVAL_BIN) --tile-images x > /dev/null 2>&1; rc=$$?; \
	[ $$rc -eq 2 ] || { echo "check-train-cli: pal-eval-cnn bad --tile-images gave exit $$rc"; exit 1; }; \
	echo "check-train-cli: ok"

# ---- fuzzing the IDX parser (clang + libFuzzer; `make fuzz`, not make test)
FUZZ_IDX := $(BUILD)/fuzz/fuzz-idx
.PHONY: fuzz-idx fuzz-run-idx
fuzz: fuzz-idx
fuzz-idx: $(FUZZ_IDX)
$(FUZZ_IDX): tests/train/fuzz_idx.c host/train/pal_idx.c host/core/pal_status.c $(TRAIN_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CSTD) $(WARN) $(INCLUDES) -Ihost/train -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -o $@ tests/train/fuzz_idx.c host/train/pal_idx.c host/core/pal_status.c \
	  $(ZLIB_LIBS) $(LDLIBS)
# Runs the fuzzer for FUZZ_SECONDS (default 60); crashes land in $(BUILD)/fuzz/idx-crash-*.
fuzz-run-idx: $(FUZZ_IDX)
	@mkdir -p $(BUILD)/fuzz/corpus-idx
	$(FUZZ_IDX) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  -artifact_prefix=$(BUILD)/fuzz/idx- $(BUILD)/fuzz/corpus-idx

# ---- the CNN: pal-train-cnn, pal-eval-cnn (and pal-eval-cnn-sim: the same
# evaluator with sim://, the Verilated SoC, in the process; the SoC layer's
# libraries are named by path, sim/soc.mk comes later in the include order).
$(CNN_EVAL_BIN): host/train/pal_eval_cnn.c $(rel_TRAIN_DEPLIBS) $(TRAIN_HDRS) include/pal/compile.h
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(TRAIN_CFLAGS) -o $@ $< $(rel_TRAIN_DEPLIBS) $(TRAIN_LINK)
$(CNN_EVAL_SIM_BIN): host/train/pal_eval_cnn.c $(rel_TRAIN_DEPLIBS) $(TRAIN_HDRS) include/pal/compile.h \
                     include/pal/soc.h | soc-4x4
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(TRAIN_CFLAGS) -DPAL_TRAIN_WITH_SIM=1 -c -o $(BUILD)/rel/obj/pal_eval_cnn_sim.o $<
	$(SIM_CXX) -o $@ $(BUILD)/rel/obj/pal_eval_cnn_sim.o $(rel_TRAIN_LIB) $(BUILD)/rel/libpalrt.a \
	  $(BUILD)/rel/libpalcomp.a $(BUILD)/rel/libpalops.a $(SOC_LINK_4x4) \
	  $(PROTOBUF_C_LIBS) $(ZLIB_LIBS) $(OPENBLAS_LIBS) $(SOC_LDLIBS) -ldl
train: $(CNN_TRAIN_BIN) $(CNN_EVAL_BIN)
$(EVAL_SIM_BIN): host/train/pal_eval_mnist.c $(rel_TRAIN_DEPLIBS) $(TRAIN_HDRS) include/pal/compile.h \
                 include/pal/soc.h | soc-4x4
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(TRAIN_CFLAGS) -DPAL_TRAIN_WITH_SIM=1 -c -o $(BUILD)/rel/obj/pal_eval_mnist_sim.o $<
	$(SIM_CXX) -o $@ $(BUILD)/rel/obj/pal_eval_mnist_sim.o $(rel_TRAIN_LIB) $(BUILD)/rel/libpalrt.a \
	  $(BUILD)/rel/libpalcomp.a $(BUILD)/rel/libpalops.a $(SOC_LINK_4x4) \
	  $(PROTOBUF_C_LIBS) $(ZLIB_LIBS) $(OPENBLAS_LIBS) $(SOC_LDLIBS) -ldl
