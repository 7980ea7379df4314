# Kernel images (.palk) and the usb:// transport, part of the driver layer
# (docs/kernel-image.md, include/pal/kernel_image.h, include/pal/usb.h).
# Included by the top-level Makefile after driver/driver.mk (sorted order).
#
# Sources: driver/palk.c (builder, parser/validator, loader), driver/ftdi.c
# + driver/usb_ftdi.c (the FTDI transport over libusb-1.0), driver/usb_scheme.c
# (usb:// for pal_device_open), driver/palk_cli.c (pal-palk). Tests:
# tests/driver/test_palk.c and tests/driver/test_usb_ftdi.c, the latter
# linked with -Wl,--wrap=<f> for every libusb function usb_ftdi.c calls, so
# a fake device in the test answers them (no hardware, no umockdev).
#
# driver/driver.mk compiles every driver/*.c into libpaldrv and builds every
# tests/driver/test_*.c; when it does (the case today), this fragment only
# adds the wrap flags to the USB test's link and builds pal-palk, the CLI
# check and the fuzz target. Should driver.mk leave these files out, the
# fallback below builds $(BUILD)/{rel,san}/libpalk.a and the two tests here.

PALK_CLI_SRC := driver/palk_cli.c
PALK_CLI := $(BUILD)/bin/pal-palk
PALK_TEST_NAMES := test_palk test_usb_ftdi
USB_CFLAGS := $(shell pkg-config --cflags libusb-1.0 2>/dev/null || echo -I/usr/include/libusb-1.0)
USB_LIBS := $(shell pkg-config --libs libusb-1.0 2>/dev/null || echo -lusb-1.0)
# Every libusb function driver/usb_ftdi.c calls, except the pure
# libusb_error_name: the test supplies __wrap_<name> for each.
USB_WRAPPED := libusb_init libusb_exit libusb_get_device_list libusb_free_device_list \
               libusb_get_device_descriptor libusb_open libusb_close \
               libusb_get_string_descriptor_ascii libusb_get_max_packet_size \
               libusb_set_auto_detach_kernel_driver libusb_claim_interface \
               libusb_release_interface libusb_control_transfer libusb_bulk_transfer
USB_WRAP_LDFLAGS := $(foreach f,$(USB_WRAPPED),-Wl,--wrap=$(f))
PALK_TESTS := $(foreach v,rel san,$(foreach t,$(PALK_TEST_NAMES),$(BUILD)/$(v)/tests/driver/$(t)))

ifneq ($(filter driver/palk.c driver/usb_ftdi.c,$(DRV_LIB_SRCS)),)
# ---- driver.mk builds the objects into libpaldrv ----------------------------
PALK_LIBS_rel := $(BUILD)/rel/libpaldrv.a
PALK_LIBS_san := $(BUILD)/san/libpaldrv.a
else
# ---- fallback: our own libraries ---------------------------------------------
PALK_LIB_SRCS := driver/palk.c driver/ftdi.c driver/usb_ftdi.c driver/usb_scheme.c
# $(call palk_lib_variant,NAME,CFLAGS)
define palk_lib_variant
$(1)_PALK_OBJS := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(PALK_LIB_SRCS))
$$($(1)_PALK_OBJS): $(BUILD)/$(1)/obj/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $(2) -Idriver $$(USB_CFLAGS) -MMD -MP -c -o $$@ $$<
$(BUILD)/$(1)/libpalk.a: $$($(1)_PALK_OBJS)
	@rm -f $$@
	ar rcs $$@ $$^
-include $$(patsubst %.o,%.d,$$($(1)_PALK_OBJS))
endef
$(eval $(call palk_lib_variant,rel,$(REL_FLAGS)))
$(eval $(call palk_lib_variant,san,$(SAN_FLAGS)))
PALK_LIBS_rel := $(BUILD)/rel/libpalk.a
PALK_LIBS_san := $(BUILD)/san/libpalk.a
endif

ifneq ($(filter tests/driver/test_palk.c tests/driver/test_usb_ftdi.c,$(DRV_TEST_SRCS)),)
# ---- driver.mk builds and lists the tests: add the wrap flags ---------------
# (private: not inherited by the test's prerequisites)
$(BUILD)/rel/tests/driver/test_usb_ftdi $(BUILD)/san/tests/driver/test_usb_ftdi: private LDLIBS += $(USB_WRAP_LDFLAGS)
else
# ---- fallback: build and list them here --------------------------------------
# $(call palk_test_variant,NAME,CFLAGS)
define palk_test_variant
$(BUILD)/$(1)/tests/driver/test_palk: tests/driver/test_palk.c $$(PALK_LIBS_$(1)) $(BUILD)/$(1)/libpaltile.a $$($(1)_LIB) tests/unit/pal_test.h
	@mkdir -p $$(@D)
	$$(CC) $(2) -Itests/unit -Itests/tile -o $$@ $$< $$(PALK_LIBS_$(1)) $(BUILD)/$(1)/libpaltile.a $$($(1)_LIB) \
	  $$(CMOCKA_LIBS) $$(OPENBLAS_LIBS) $$(USB_LIBS) $$(LDLIBS)
$(BUILD)/$(1)/tests/driver/test_usb_ftdi: tests/driver/test_usb_ftdi.c $$(PALK_LIBS_$(1)) $(BUILD)/$(1)/libpaldrv.a \
                                          $(BUILD)/$(1)/libpaltile.a $$($(1)_LIB) tests/unit/pal_test.h
	@mkdir -p $$(@D)
	$$(CC) $(2) -Idriver $$(USB_CFLAGS) -Itests/unit -Itests/tile -o $$@ $$< $$(PALK_LIBS_$(1)) \
	  $(BUILD)/$(1)/libpaldrv.a $(BUILD)/$(1)/libpaltile.a $$($(1)_LIB) \
	  $$(USB_WRAP_LDFLAGS) $$(USB_LIBS) $$(CMOCKA_LIBS) $$(OPENBLAS_LIBS) $$(LDLIBS)
endef
$(eval $(call palk_test_variant,rel,$(REL_FLAGS)))
$(eval $(call palk_test_variant,san,$(SAN_FLAGS)))
EXTRA_TESTS += $(PALK_TESTS)
endif

$(PALK_CLI): $(PALK_CLI_SRC) $(PALK_LIBS_rel) $(BUILD)/rel/libpaltile.a $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -o $@ $< $(PALK_LIBS_rel) $(BUILD)/rel/libpaltile.a $(rel_LIB) $(OPENBLAS_LIBS) \
	  $(USB_LIBS) $(LDLIBS)

.PHONY: palk test-palk check-pal-palk
palk: $(PALK_LIBS_rel) $(PALK_CLI)
all: palk

test-palk: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory $(PALK_TESTS) check-pal-palk
	@scripts/run-tests.sh $(PALK_TESTS)

# The CLI's contract: build an image from docs/isa.md §5's example with data
# files and bindings, dump it, check it against the geometry it was built
# for (ok) and a smaller one (exit 1); a corrupted copy is rejected (exit 1);
# usage errors exit 2.
CHECKS += check-pal-palk
check-pal-palk: $(PALK_CLI)
	@d=$(BUILD)/check-pal-palk; rm -rf $$d; mkdir -p $$d; \
	sed -n '/^## 5\./,/^## 6\./p' docs/isa.md | sed -n '/^```$$/,/^```$$/p' | sed '/^```/d' > $$d/k.s; \
	head -c 1024 /dev/zero > $$d/w.bin; head -c 32 /dev/zero > $$d/b.bin; \
	$(PALK_CLI) build $$d/k.s -o $$d/k.palk --section wmem-codes:all:0:$$d/w.bin --section bias:0:0:$$d/b.bin \
	  --binding x:in:pal8:1x64:abuf:0:2 --binding y:out:fp32:1x8:obuf:0:8 \
	  || { echo "check-pal-palk: build failed"; exit 1; }; \
	$(PALK_CLI) dump $$d/k.palk > $$d/dump.txt && grep -q "WMEM codes  all PEs" $$d/dump.txt && grep -q "gemm" $$d/dump.txt \
	  || { echo "check-pal-palk: dump is missing sections or code"; cat $$d/dump.txt; exit 1; }; \
	$(PALK_CLI) check $$d/k.palk --geometry 4x4 >/dev/null || { echo "check-pal-palk: check 4x4 failed"; exit 1; }; \
	$(PALK_CLI) check $$d/k.palk --geometry 2x2 2>$$d/c.err; rc=$$?; \
	[ $$rc -eq 1 ] && grep -q "geometry mismatch" $$d/c.err || { echo "check-pal-palk: 2x2 gave exit $$rc: $$(cat $$d/c.err)"; exit 1; }; \
	cp $$d/k.palk $$d/bad.palk; printf 'X' | dd of=$$d/bad.palk bs=1 seek=200 conv=notrunc 2>/dev/null; \
	$(PALK_CLI) check $$d/bad.palk 2>$$d/bad.err; rc=$$?; \
	[ $$rc -eq 1 ] && grep -q "CRC-32 mismatch" $$d/bad.err || { echo "check-pal-palk: corrupted image gave exit $$rc: $$(cat $$d/bad.err)"; exit 1; }; \
	$(PALK_CLI) frobnicate >/dev/null 2>&1; rc=$$?; \
	[ $$rc -eq 2 ] || { echo "check-pal-palk: usage error gave exit $$rc"; exit 1; }; \
	echo "check-pal-palk: ok"

# ---- fuzzing (not part of make test) ----------------------------------------
# libFuzzer + ASan + UBSan over parse, validate and load (into a checking fake
# tile device). The sources it needs are compiled in, so coverage reaches them.
PALK_FUZZ_CC ?= clang
PALK_FUZZ := $(BUILD)/fuzz/fuzz-palk
PALK_FUZZ_SRCS := tests/driver/fuzz_palk.c driver/palk.c host/core/pal_status.c host/tile/pal_isa.c \
                  host/tile/pal_tile_device.c
PALK_FUZZ_CORPUS := $(BUILD)/fuzz/palk-corpus
PALK_FUZZ_SECONDS ?= 30
.PHONY: fuzz fuzz-palk fuzz-run-palk
fuzz: fuzz-palk
fuzz-palk: $(PALK_FUZZ)
$(PALK_FUZZ): $(PALK_FUZZ_SRCS) tests/driver/palk_fuzz_fixup.h include/pal/kernel_image.h include/pal/tile.h \
              include/pal/status.h
	@mkdir -p $(@D)
	$(PALK_FUZZ_CC) $(CSTD) $(WARN) $(INCLUDES) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  -o $@ $(PALK_FUZZ_SRCS)

# Seeds: the images check-pal-palk builds (valid, and one with a bad CRC).
fuzz-run-palk: $(PALK_FUZZ) check-pal-palk
	@mkdir -p $(PALK_FUZZ_CORPUS)
	cp $(BUILD)/check-pal-palk/k.palk $(BUILD)/check-pal-palk/bad.palk $(PALK_FUZZ_CORPUS)/
	$(PALK_FUZZ) -max_total_time=$(PALK_FUZZ_SECONDS) -print_final_stats=1 $(PALK_FUZZ_CORPUS)
