# Driver layer (driver/): libpaldrv, the user-space driver — device URIs,
# the link protocol of docs/protocol.md (host engine and the device-side
# reference model), transports, and whatever else lives in driver/*.c
# (kernel images, USB). Included by the top-level Makefile (*/*.mk).
# Builds, per variant, $(BUILD)/{rel,san}/libpaldrv.a (link order:
# libpaldrv, libpaltile, libpalcore), the pal-info CLI, the tests in
# tests/driver/ (appended to EXTRA_TESTS), the fuzz target of the frame
# parser and link engine (make fuzz, make fuzz-run-protocol) and the link
# benchmark (make bench-link).

# Programs (one main each) stay out of the library.
DRV_TOOL_SRCS := $(wildcard driver/*_cli.c)
DRV_LIB_SRCS := $(filter-out $(DRV_TOOL_SRCS),$(wildcard driver/*.c))
DRV_LIB_HDRS := $(wildcard driver/*.h)
DRV_TEST_SRCS := $(wildcard tests/driver/test_*.c)
# Support code the tests share (the pty/TCP test server); fuzz_* are not tests.
DRV_TEST_SUPPORT := $(filter-out $(DRV_TEST_SRCS) tests/driver/fuzz_%.c,$(wildcard tests/driver/*.c))
DRV_TEST_HDRS := $(wildcard tests/driver/*.h) $(wildcard tests/tile/*.h) tests/unit/pal_test.h
PAL_INFO := $(BUILD)/bin/pal-info

# The USB transport (driver/usb*.c, another layer's) needs libusb.
DRV_CFLAGS := -Idriver $(if $(wildcard driver/usb*.c),$(shell pkg-config --cflags libusb-1.0 2>/dev/null))
DRV_LDLIBS = $(if $(wildcard driver/usb*.c),$(shell pkg-config --libs libusb-1.0 2>/dev/null || echo -lusb-1.0))

# host/tile.mk is included after this file (sorted order), so its library
# variables are not set yet: name its libraries by path.
# $(call drv_variant,NAME,CFLAGS)
define drv_variant
$(1)_DRV_OBJS := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(DRV_LIB_SRCS))
$(1)_DRV_LIB := $(BUILD)/$(1)/libpaldrv.a
$(1)_DRV_SUPPORT_OBJS := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(DRV_TEST_SUPPORT))
$(1)_DRV_TESTS := $$(patsubst tests/driver/%.c,$(BUILD)/$(1)/tests/driver/%,$(DRV_TEST_SRCS))
$$($(1)_DRV_OBJS) $$($(1)_DRV_SUPPORT_OBJS): $(BUILD)/$(1)/obj/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $(2) $(DRV_CFLAGS) -Itests/unit -Itests/driver -MMD -MP -c -o $$@ $$<
$$($(1)_DRV_LIB): $$($(1)_DRV_OBJS)
	@rm -f $$@
	ar rcs $$@ $$^
$$($(1)_DRV_TESTS): $(BUILD)/$(1)/tests/driver/%: tests/driver/%.c $$($(1)_DRV_SUPPORT_OBJS) \
                    $$($(1)_DRV_LIB) $(BUILD)/$(1)/libpaltile.a $$($(1)_LIB) $(DRV_TEST_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $(2) $(DRV_CFLAGS) -Itests/unit -Itests/tile -Itests/driver -o $$@ $$< \
	  $$($(1)_DRV_SUPPORT_OBJS) $$($(1)_DRV_LIB) $(BUILD)/$(1)/libpaltile.a $$($(1)_LIB) \
	  $$(CMOCKA_LIBS) $$(OPENBLAS_LIBS) $$(DRV_LDLIBS) $$(LDLIBS)
-include $$(patsubst %.o,%.d,$$($(1)_DRV_OBJS) $$($(1)_DRV_SUPPORT_OBJS))
endef

$(eval $(call drv_variant,rel,$(REL_FLAGS)))
$(eval $(call drv_variant,san,$(SAN_FLAGS)))

DRV_TESTS := $(rel_DRV_TESTS) $(san_DRV_TESTS)
EXTRA_TESTS += $(DRV_TESTS)

$(PAL_INFO): driver/pal_info_cli.c $(rel_DRV_LIB) $(BUILD)/rel/libpaltile.a $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(DRV_CFLAGS) -o $@ $< $(rel_DRV_LIB) $(BUILD)/rel/libpaltile.a $(rel_LIB) \
	  $(OPENBLAS_LIBS) $(DRV_LDLIBS) $(LDLIBS)

.PHONY: driver test-driver check-pal-info
driver: $(rel_DRV_LIB) $(san_DRV_LIB) $(PAL_INFO)
all: driver

test-driver: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory $(DRV_TESTS) check-pal-info
	@scripts/run-tests.sh $(DRV_TESTS)

# The CLI's contract (its --help): exit 0 with the INFO fields on emu://,
# 2 for usage errors and malformed URIs, 3 for a scheme this build lacks.
CHECKS += check-pal-info
check-pal-info: $(PAL_INFO)
	@d=$(BUILD)/check-pal-info; rm -rf $$d; mkdir -p $$d; \
	$(PAL_INFO) 'emu://?rows=2&cols=8' > $$d/out.txt 2>&1; rc=$$?; \
	[ $$rc -eq 0 ] && grep -q 'geometry *2 x 8' $$d/out.txt && grep -q 'protocol *1' $$d/out.txt || \
	  { echo "check-pal-info: emu:// gave exit $$rc:"; cat $$d/out.txt; exit 1; }; \
	$(PAL_INFO) --json 'emu://?direct=1' > $$d/direct.json 2>&1; rc=$$?; \
	[ $$rc -eq 0 ] && grep -q '"rows": 4' $$d/direct.json || \
	  { echo "check-pal-info: --json emu://?direct=1 gave exit $$rc:"; cat $$d/direct.json; exit 1; }; \
	$(PAL_INFO) 'frob://x' > $$d/bad.txt 2>&1; rc=$$?; \
	[ $$rc -eq 2 ] && grep -q 'unknown scheme' $$d/bad.txt || \
	  { echo "check-pal-info: unknown scheme gave exit $$rc: $$(cat $$d/bad.txt)"; exit 1; }; \
	$(PAL_INFO) 'sim://' > $$d/sim.txt 2>&1; rc=$$?; \
	[ $$rc -eq 3 ] || { echo "check-pal-info: sim:// gave exit $$rc: $$(cat $$d/sim.txt)"; exit 1; }; \
	$(PAL_INFO) > /dev/null 2>&1; rc=$$?; \
	[ $$rc -eq 2 ] || { echo "check-pal-info: no argument gave exit $$rc"; exit 1; }; \
	echo "check-pal-info: ok"

# ---- fuzzing (clang + libFuzzer; built by `make fuzz`, not run by make test)
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_PROTOCOL := $(BUILD)/fuzz/fuzz-protocol
FUZZ_PROTOCOL_SRCS := tests/driver/fuzz_protocol.c driver/pal_protocol.c driver/pal_bus.c \
                      driver/pal_link_model.c
.PHONY: fuzz fuzz-protocol fuzz-run-protocol
fuzz: fuzz-protocol
fuzz-protocol: $(FUZZ_PROTOCOL)
$(FUZZ_PROTOCOL): $(FUZZ_PROTOCOL_SRCS) $(wildcard include/pal/*.h) $(BUILD)/rel/libpaltile.a $(rel_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CSTD) $(WARN) $(INCLUDES) -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -o $@ $(FUZZ_PROTOCOL_SRCS) $(BUILD)/rel/libpaltile.a $(rel_LIB) \
	  $(OPENBLAS_LIBS) $(LDLIBS)
# Runs the fuzzer for FUZZ_SECONDS (default 60) on a corpus kept in the
# build; a crashing input lands in $(BUILD)/fuzz/protocol-crash-*.
fuzz-run-protocol: $(FUZZ_PROTOCOL)
	@mkdir -p $(BUILD)/fuzz/corpus-protocol
	$(FUZZ_PROTOCOL) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  -artifact_prefix=$(BUILD)/fuzz/protocol- $(BUILD)/fuzz/corpus-protocol

# ---- link benchmark: wire efficiency and throughput ----------------------------
# An explicit rule: it overrides the top-level bench pattern, which links
# only libpalcore.
$(BUILD)/rel/bench/bench_link: bench/bench_link.c bench/bench_util.h $(rel_DRV_SUPPORT_OBJS) \
                               $(rel_DRV_LIB) $(BUILD)/rel/libpaltile.a $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) $(DRV_CFLAGS) -Ibench -Itests/driver -o $@ $< $(rel_DRV_SUPPORT_OBJS) \
	  $(rel_DRV_LIB) $(BUILD)/rel/libpaltile.a $(rel_LIB) $(OPENBLAS_LIBS) $(DRV_LDLIBS) $(LDLIBS)

.PHONY: bench-link
bench-link: $(DEPS_STAMP) $(BUILD)/rel/bench/bench_link
	@mkdir -p $(BUILD)/bench
	$(BUILD)/rel/bench/bench_link --json $(BUILD)/bench/link.json

# driver/99-pal.rules must keep granting both boards, both node kinds
# (the USB device for libpaldrv's usb:// and flashing, the tty for serial://).
CHECKS += check-udev-rules
.PHONY: check-udev-rules
check-udev-rules:
	@for id in 6010 6015; do for s in usb tty; do \
	  grep -q "^SUBSYSTEM==\"$$s\", ATTRS{idVendor}==\"0403\", ATTRS{idProduct}==\"$$id\", MODE=\"0660\", GROUP=\"plugdev\", TAG+=\"uaccess\"" driver/99-pal.rules || \
	  { echo "check-udev-rules: no $$s rule for 0403:$$id with plugdev and uaccess in driver/99-pal.rules"; exit 1; }; \
	done; done; echo "check-udev-rules: ok"
