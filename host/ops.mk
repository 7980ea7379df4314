# CPU operator library (host/ops/, public header include/pal/ops.h): the FP32
# kernels behind the runtime's cpu provider. Included by the top-level
# Makefile (*/*.mk). Builds, per variant, $(BUILD)/{rel,san}/libpalops.a (link
# it before libpalcore.a, which holds pal_status, and with $(OPENBLAS_LIBS))
# and the tests in tests/ops/ (run by make test).

OPS_SRCS := $(wildcard host/ops/*.c)
OPS_TEST_SRCS := $(wildcard tests/ops/test_*.c)
OPS_TEST_HDRS := $(wildcard tests/ops/*.h) tests/unit/pal_test.h include/pal/ops.h

# $(call ops_variant,NAME,CFLAGS)
define ops_variant
$(1)_OPS_OBJS := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(OPS_SRCS))
$(1)_OPS_LIB := $(BUILD)/$(1)/libpalops.a
$(1)_OPS_TESTS := $$(patsubst tests/ops/%.c,$(BUILD)/$(1)/tests/ops/%,$(OPS_TEST_SRCS))
$$($(1)_OPS_OBJS): $(BUILD)/$(1)/obj/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $(2) $(OPENBLAS_CFLAGS) -MMD -MP -c -o $$@ $$<
$$($(1)_OPS_LIB): $$($(1)_OPS_OBJS)
	@rm -f $$@
	ar rcs $$@ $$^
$$($(1)_OPS_TESTS): $(BUILD)/$(1)/tests/ops/%: tests/ops/%.c $$($(1)_OPS_LIB) $$($(1)_LIB) $(OPS_TEST_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $(2) $(OPENBLAS_CFLAGS) -Itests/unit -Itests/ops -o $$@ $$< $$($(1)_OPS_LIB) $$($(1)_LIB) $$(CMOCKA_LIBS) $$(OPENBLAS_LIBS) $$(LDLIBS)
-include $$(patsubst %.o,%.d,$$($(1)_OPS_OBJS))
endef

$(eval $(call ops_variant,rel,$(REL_FLAGS)))
$(eval $(call ops_variant,san,$(SAN_FLAGS)))

OPS_TESTS := $(rel_OPS_TESTS) $(san_OPS_TESTS)
EXTRA_TESTS += $(OPS_TESTS)

.PHONY: ops test-ops
ops: $(rel_OPS_LIB) $(san_OPS_LIB)
all: ops

# Only this library's tests (the full make test takes much longer).
test-ops: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory $(OPS_TESTS)
	@scripts/run-tests.sh $(OPS_TESTS)

# Speed side by side with OpenBLAS called directly: table + $(BUILD)/bench/ops.json
$(BUILD)/rel/bench/bench_ops: bench/bench_ops.c bench/bench_util.h include/pal/ops.h $(rel_OPS_LIB) $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(OPENBLAS_CFLAGS) -Ibench -o $@ $< $(rel_OPS_LIB) $(rel_LIB) $(OPENBLAS_LIBS) $(LDLIBS)

.PHONY: bench-ops
bench-ops: $(DEPS_STAMP) $(BUILD)/rel/bench/bench_ops
	@mkdir -p $(BUILD)/bench
	$(BUILD)/rel/bench/bench_ops --json $(BUILD)/bench/ops.json
