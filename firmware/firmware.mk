# The control core (rtl/pal_rv_*.v) and its firmware (firmware/):
# - the core against QEMU user mode (tests/rv32/, in make test),
# - the firmware image for the core's block RAM ($(BUILD)/firmware/, hex for
#   $readmemh, never committed) with a size report (make firmware-size),
# - host unit tests of the firmware logic (tests/firmware/, cmocka),
# - the core's synthesis figures (make rv-stat).
# Included by the top-level Makefile (*/*.mk).

RV_PREFIX ?= riscv64-unknown-elf-
RV_CC := $(RV_PREFIX)gcc
RV_OBJCOPY := $(RV_PREFIX)objcopy
RV_SIZE := $(RV_PREFIX)size
RV_ARCH := -march=rv32i -mabi=ilp32
QEMU_RV32 ?= qemu-riscv32
VERILATOR ?= verilator
YOSYS ?= yosys

RV_CORE_SRCS := rtl/pal_rv_core.v rtl/pal_rv_decode.v rtl/pal_rv_alu.v rtl/pal_rv_shift.v \
                rtl/pal_rv_regfile.v rtl/pal_rv_lsu.v
RV32_BUILD := $(BUILD)/rv32

# ---- core vs QEMU: test programs --------------------------------------------
RV32_PROGS := t_alu t_branch t_jump t_mem c_sort c_rand_alu
RV32_TRAPS := 1 2 3 4 5 6 7 8 9
RV32_TEST_CFLAGS := $(RV_ARCH) -static -nostdlib -nostartfiles -ffreestanding -O2 -Wall -Wextra \
                    -Werror -T tests/rv32/rv32_test.ld -Wl,--no-warn-rwx-segments
RV32_PROG_FILES := $(foreach p,$(RV32_PROGS),$(RV32_BUILD)/progs/$(p).elf $(RV32_BUILD)/progs/$(p).bin) \
                   $(foreach t,$(RV32_TRAPS),$(RV32_BUILD)/progs/t_trap$(t).bin)

$(RV32_BUILD)/progs/%.elf: tests/rv32/%.S tests/rv32/rv32_start.S firmware/pal_fw_libc.c tests/rv32/rv32_test.ld $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(RV_CC) $(RV32_TEST_CFLAGS) -o $@ tests/rv32/rv32_start.S $< firmware/pal_fw_libc.c -lgcc
$(RV32_BUILD)/progs/%.elf: tests/rv32/%.c tests/rv32/rv32_start.S firmware/pal_fw_libc.c tests/rv32/rv32_test.ld $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(RV_CC) $(RV32_TEST_CFLAGS) -o $@ tests/rv32/rv32_start.S $< firmware/pal_fw_libc.c -lgcc
$(RV32_BUILD)/progs/t_trap%.elf: tests/rv32/t_trap.S tests/rv32/rv32_test.ld $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(RV_CC) $(RV32_TEST_CFLAGS) -DTRAP=$* -o $@ $<
.SECONDARY: $(foreach t,$(RV32_TRAPS),$(RV32_BUILD)/progs/t_trap$(t).elf)
$(RV32_BUILD)/progs/%.bin: $(RV32_BUILD)/progs/%.elf
	$(RV_OBJCOPY) -O binary $< $@

# ---- core vs QEMU: the Verilated core and the comparison test ---------------
RV32_QEMU_TEST := $(RV32_BUILD)/tests/test_rv32_qemu
$(RV32_QEMU_TEST): tests/rv32/test_rv32_qemu.cpp tests/rv32/rv32_harness.h $(RV_CORE_SRCS) \
                   $(RV32_PROG_FILES)
	@mkdir -p $(@D) $(RV32_BUILD)/obj
	MAKEFLAGS= $(VERILATOR) --cc --exe --build -j 1 -O3 --x-assign unique --x-initial unique \
	  -Irtl --top-module pal_rv_core -GRESET_PC=65536 -Mdir $(RV32_BUILD)/obj/test_rv32_qemu \
	  -CFLAGS "-O2 -I$(abspath tests/rv32) -DRV32_PROG_DIR='\"$(abspath $(RV32_BUILD)/progs)\"'" \
	  -LDFLAGS "$(CMOCKA_LIBS)" \
	  -o test_rv32_qemu $(abspath $<) $(RV_CORE_SRCS) >$(RV32_BUILD)/obj/test_rv32_qemu.log 2>&1 \
	  || { cat $(RV32_BUILD)/obj/test_rv32_qemu.log; exit 1; }
	cp $(RV32_BUILD)/obj/test_rv32_qemu/test_rv32_qemu $@

EXTRA_TESTS += $(RV32_QEMU_TEST)
.PHONY: rv32-tests
rv32-tests: $(RV32_QEMU_TEST)

# ---- firmware image -----------------------------------------------------------
# FW_BUILD and FW_HEX ($(FW_BUILD)/pal_fw.hex): the top-level Makefile.
FW_SRCS := firmware/pal_fw_main.c firmware/pal_fw_cmd.c firmware/pal_fw_image.c firmware/pal_fw_libc.c
FW_HDRS := $(wildcard firmware/*.h)
FW_CFLAGS := $(RV_ARCH) -Os -msave-restore -std=c11 $(WARN) -ffreestanding -nostdlib -nostartfiles \
             -static -ffunction-sections -fdata-sections -Wl,--gc-sections -T firmware/pal_fw.ld
FW_IMEM_WORDS := 2048
FW_ELF := $(FW_BUILD)/pal_fw.elf

$(FW_ELF): firmware/crt0.S $(FW_SRCS) $(FW_HDRS) firmware/pal_fw.ld $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(RV_CC) $(FW_CFLAGS) -Wl,-Map=$(FW_BUILD)/pal_fw.map -o $@ firmware/crt0.S $(FW_SRCS) -lgcc
# The image (.bin: text, rodata, data) and its $readmemh form, one 32-bit
# word a line padded to the whole IMEM: the pattern rules below.

# The firmware-link SoC (rtl/pal_fwsoc.v, docs/control-core.md §10): the
# link firmware, linked for its RAM, wrapped for the board's flash
# ($(FW_LINK_FLASH): header + image, scripts/pal_fw_flash.py), and the boot
# ROM that loads it ($(FW_BOOT_HEX), 256 words for $readmemh).
FW_LINK_SRCS := firmware/pal_fw_link_main.c firmware/pal_fw_link.c firmware/pal_fw_cmd.c \
                firmware/pal_fw_image.c firmware/pal_fw_libc.c
FW_LINK_ELF := $(FW_BUILD)/pal_fw_link.elf
FW_LINK_FLASH := $(FW_BUILD)/pal_fw_link.flash
FW_BOOT_HEX := $(FW_BUILD)/pal_boot.hex
FW_BOOT_WORDS := 256
FW_FREESTANDING := $(RV_ARCH) -Os -std=c11 $(WARN) -ffreestanding -nostdlib -nostartfiles -static \
                   -ffunction-sections -fdata-sections -Wl,--gc-sections -Wl,--no-warn-rwx-segments
$(FW_LINK_ELF): firmware/crt0.S $(FW_LINK_SRCS) $(FW_HDRS) firmware/pal_fw_link.ld $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(RV_CC) $(FW_FREESTANDING) -O2 -T firmware/pal_fw_link.ld -Wl,-Map=$(FW_BUILD)/pal_fw_link.map \
	  -o $@ firmware/crt0.S $(FW_LINK_SRCS) -lgcc
$(FW_LINK_FLASH): $(FW_BUILD)/pal_fw_link.bin scripts/pal_fw_flash.py firmware/pal_fw_map.h
	python3 scripts/pal_fw_flash.py $< $@ \
	  $$(sed -n 's/#define PAL_FW_FLASH_MAX_IMAGE \([0-9]*\)u.*/\1/p' firmware/pal_fw_map.h)
$(FW_BUILD)/pal_boot.elf: firmware/boot/crt0_boot.S firmware/boot/pal_boot.c firmware/boot/pal_boot.ld \
                          $(FW_HDRS) $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(RV_CC) $(FW_FREESTANDING) -Ifirmware -T firmware/boot/pal_boot.ld -o $@ firmware/boot/crt0_boot.S \
	  firmware/boot/pal_boot.c
$(FW_BOOT_HEX): $(FW_BUILD)/pal_boot.bin
	python3 -c 'import sys,struct; b=open(sys.argv[1],"rb").read(); n=int(sys.argv[2]); \
	  b+=bytes((-len(b))%4); w=struct.unpack("<%dI"%(len(b)//4),b); \
	  assert len(w)<=n, "boot code larger than the boot ROM"; \
	  open(sys.argv[3],"w").write("".join("%08x\n"%x for x in w+(0,)*(n-len(w))))' $< $(FW_BOOT_WORDS) $@
.PHONY: firmware-link
firmware-link: $(FW_LINK_FLASH) $(FW_BOOT_HEX)

# A broken firmware for the SoC tests (tests/soc/fw_broken.c): reads one
# request and never answers, so the link engine's FW timeout and halt
# handling can be tested on the Verilated SoC.
FW_BROKEN_HEX := $(FW_BUILD)/fw_broken.hex
$(FW_BUILD)/fw_broken.elf: firmware/crt0.S tests/soc/fw_broken.c firmware/pal_fw_libc.c $(FW_HDRS) \
                           firmware/pal_fw.ld $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(RV_CC) $(FW_CFLAGS) -Ifirmware -o $@ firmware/crt0.S tests/soc/fw_broken.c firmware/pal_fw_libc.c -lgcc
$(FW_BUILD)/%.bin: $(FW_BUILD)/%.elf
	$(RV_OBJCOPY) -O binary -j .text -j .rodata -j .data $< $@
$(FW_BUILD)/%.hex: $(FW_BUILD)/%.bin
	python3 -c 'import sys,struct; b=open(sys.argv[1],"rb").read(); n=int(sys.argv[2]); \
	  b+=bytes((-len(b))%4); w=struct.unpack("<%dI"%(len(b)//4),b); \
	  assert len(w)<=n, "firmware larger than IMEM"; \
	  open(sys.argv[3],"w").write("".join("%08x\n"%x for x in w+(0,)*(n-len(w))))' $< $(FW_IMEM_WORDS) $@

.PHONY: firmware firmware-size
firmware: $(FW_HEX)

# Size report: text/data/bss against the core's RAMs (firmware/pal_fw_map.h).
firmware-size: $(FW_ELF)
	@$(RV_SIZE) -A $< | awk -v imem=$$(sed -n 's/#define PAL_FW_IMEM_BYTES \([0-9]*\)u/\1/p' firmware/pal_fw_map.h) \
	  -v dmem=$$(sed -n 's/#define PAL_FW_DMEM_BYTES \([0-9]*\)u/\1/p' firmware/pal_fw_map.h) \
	  -v stack=$$(sed -n 's/^__stack_size = \([0-9]*\);/\1/p' firmware/pal_fw.ld) \
	  '$$1==".text"{t=$$2} $$1==".rodata"{r=$$2} $$1==".data"{d=$$2} $$1==".bss"{b=$$2} \
	  END{printf "firmware   text %5d  rodata %4d  data %4d  bss %4d  stack %4d\n", t, r, d, b, stack; \
	      printf "IMEM  %5d of %5d bytes (%.0f%%)\n", t+r+d, imem, 100*(t+r+d)/imem; \
	      printf "DMEM  %5d of %5d bytes (%.0f%%, stack included)\n", d+b+stack, dmem, 100*(d+b+stack)/dmem}'
	@$(MAKE) --no-print-directory $(FW_LINK_ELF) $(FW_BUILD)/pal_boot.elf >/dev/null
	@$(RV_SIZE) -A $(FW_LINK_ELF) | awk -v ram=$$(sed -n 's/#define PAL_FW_RAM_BYTES \([0-9]*\)u.*/\1/p' firmware/pal_fw_map.h) \
	  -v stack=$$(sed -n 's/^__stack_size = \([0-9]*\);/\1/p' firmware/pal_fw_link.ld) \
	  '$$1==".text"{t=$$2} $$1==".rodata"{r=$$2} $$1==".data"{d=$$2} $$1==".bss"{b=$$2} \
	  END{printf "link firmware (the iCEBreaker'"'"'s, pal_fw_link.elf)   text %5d  rodata %4d  data %4d  bss %4d  stack %4d\n", t, r, d, b, stack; \
	      printf "RAM   %5d of %5d bytes (%.0f%%, stack included)\n", t+r+d+b+stack, ram, 100*(t+r+d+b+stack)/ram}'
	@$(RV_SIZE) -A $(FW_BUILD)/pal_boot.elf | awk -v rom=$$(sed -n 's/#define PAL_FW_BOOT_BYTES \([0-9]*\)u.*/\1/p' firmware/pal_fw_map.h) \
	  '$$1==".text"{t=$$2} END{printf "boot ROM  %5d of %5d bytes (%.0f%%)\n", t, rom, 100*t/rom}'

# ---- host unit tests of the firmware logic (cmocka, fake HAL) -----------------
FW_HOST_SRCS := firmware/pal_fw_image.c firmware/pal_fw_cmd.c tests/firmware/fake_hal.c
FW_TEST_NAMES := $(patsubst tests/firmware/%.c,%,$(wildcard tests/firmware/test_fw_*.c))
FW_TEST_HDRS := $(FW_HDRS) $(wildcard tests/firmware/*.h) tests/unit/pal_test.h include/pal/kernel_image.h
# $(call fw_tests,VARIANT,CFLAGS)
define fw_tests
$(BUILD)/$(1)/tests/firmware/%: tests/firmware/%.c $(FW_HOST_SRCS) $(FW_TEST_HDRS) \
                                $(BUILD)/$(1)/libpaldrv.a $(BUILD)/$(1)/libpaltile.a $$($(1)_LIB)
	@mkdir -p $$(@D)
	$$(CC) $(2) -DPAL_FW_HOST -Ifirmware -Itests/firmware -Itests/unit -o $$@ $$< $(FW_HOST_SRCS) \
	  $(BUILD)/$(1)/libpaldrv.a $(BUILD)/$(1)/libpaltile.a $$($(1)_LIB) $$(CMOCKA_LIBS) \
	  $$(OPENBLAS_LIBS) $$(DRV_LDLIBS) $$(LDLIBS)
FW_TESTS_$(1) := $(patsubst %,$(BUILD)/$(1)/tests/firmware/%,$(FW_TEST_NAMES))
endef
$(eval $(call fw_tests,rel,$(REL_FLAGS)))
$(eval $(call fw_tests,san,$(SAN_FLAGS)))
EXTRA_TESTS += $(FW_TESTS_rel) $(FW_TESTS_san)
.PHONY: firmware-tests
firmware-tests: $(FW_TESTS_rel) $(FW_TESTS_san)

# The firmware link (firmware/pal_fw_link.c, the host protocol served by the
# firmware on the SoC without a link engine) against the C link model, each
# in front of its own emulator (tests/firmware/link/: its own HAL).
FW_LINK_HOST_SRCS := firmware/pal_fw_link.c firmware/pal_fw_cmd.c firmware/pal_fw_image.c \
                     tests/firmware/link/emu_hal.c
define fw_link_test
$(BUILD)/$(1)/tests/firmware/test_fw_link: tests/firmware/link/test_fw_link.c $(FW_LINK_HOST_SRCS) \
    $(FW_HDRS) tests/firmware/link/emu_hal.h sim/sim.mk $(BUILD)/$(1)/libpaldrv.a $(BUILD)/$(1)/libpaltile.a $$($(1)_LIB)
	@mkdir -p $$(@D)
	$$(CC) $(2) -DPAL_FW_HOST -Ifirmware -Itests/firmware/link \
	  -DFW_LINK_TEST_DEPTHS='$$(call sim_depth_init,$$(ICEBREAKER_TILE_DEPTHS))' -o $$@ $$< $(FW_LINK_HOST_SRCS) \
	  $(BUILD)/$(1)/libpaldrv.a $(BUILD)/$(1)/libpaltile.a $$($(1)_LIB) $$(CMOCKA_LIBS) \
	  $$(OPENBLAS_LIBS) $$(DRV_LDLIBS) $$(LDLIBS)
endef
$(eval $(call fw_link_test,rel,$(REL_FLAGS)))
$(eval $(call fw_link_test,san,$(SAN_FLAGS)))
EXTRA_TESTS += $(BUILD)/rel/tests/firmware/test_fw_link $(BUILD)/san/tests/firmware/test_fw_link
firmware-tests: $(BUILD)/rel/tests/firmware/test_fw_link $(BUILD)/san/tests/firmware/test_fw_link

# ---- fuzzing the firmware (not part of make test) ------------------------------
# fuzz-fw-image: the image loader against the host's validator
# (tests/firmware/fw_image_diff.h says what must hold; test_fw_image runs the
# same check on a seeded stream of mutations), seeded with the images
# check-pal-palk builds. fuzz-fw-cmd: the command loop under any request
# stream (tests/firmware/fw_cmd_script.h; test_fw_cmd runs it on seeded
# streams). A failing input lands in $(BUILD)/fuzz/fw-<name>-crash-*.
FW_FUZZ_CC ?= clang
FW_FUZZ_COMMON := firmware/pal_fw_image.c tests/firmware/fake_hal.c driver/palk.c host/core/pal_status.c \
                  host/tile/pal_isa.c host/tile/pal_tile_device.c
# $(call fw_fuzz,NAME,EXTRA SOURCES,HEADER): $(BUILD)/fuzz/fuzz-fw-NAME from
# tests/firmware/fuzz_fw_NAME.c
define fw_fuzz
$(BUILD)/fuzz/fuzz-fw-$(1): tests/firmware/fuzz_fw_$(1).c $(2) $(FW_FUZZ_COMMON) $(FW_HDRS) $(3) \
    tests/firmware/fake_hal.h tests/driver/palk_fuzz_fixup.h include/pal/kernel_image.h include/pal/tile.h \
    include/pal/status.h
	@mkdir -p $$(@D)
	$(FW_FUZZ_CC) $(CSTD) $(WARN) $(INCLUDES) -DPAL_FW_HOST -Ifirmware -Itests/firmware -Itests/driver -g -O1 \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $$@ $$< $(2) $(FW_FUZZ_COMMON)
.PHONY: fuzz-fw-$(1)
fuzz: fuzz-fw-$(1)
fuzz-fw-$(1): $(BUILD)/fuzz/fuzz-fw-$(1)
endef
$(eval $(call fw_fuzz,image,,tests/firmware/fw_image_diff.h))
$(eval $(call fw_fuzz,cmd,firmware/pal_fw_cmd.c,tests/firmware/fw_cmd_script.h))
FW_FUZZ := $(BUILD)/fuzz/fuzz-fw-image
FW_CMD_FUZZ := $(BUILD)/fuzz/fuzz-fw-cmd
FW_FUZZ_CORPUS := $(BUILD)/fuzz/corpus-fw-image
.PHONY: fuzz-run-fw-image fuzz-run-fw-cmd
fuzz-run-fw-cmd: $(FW_CMD_FUZZ)
	@mkdir -p $(BUILD)/fuzz/corpus-fw-cmd
	$(FW_CMD_FUZZ) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  -artifact_prefix=$(BUILD)/fuzz/fw-cmd- $(BUILD)/fuzz/corpus-fw-cmd
fuzz-run-fw-image: $(FW_FUZZ) check-pal-palk
	@mkdir -p $(FW_FUZZ_CORPUS)
	cp $(BUILD)/check-pal-palk/k.palk $(BUILD)/check-pal-palk/bad.palk $(FW_FUZZ_CORPUS)/
	$(FW_FUZZ) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  -artifact_prefix=$(BUILD)/fuzz/fw-image- $(FW_FUZZ_CORPUS)

# ---- the firmware on the Verilated control subsystem (smoke co-simulation) ----
RV_SYS_SRCS := $(RV_CORE_SRCS) rtl/pal_rv_sys.v rtl/pal_rv_ram.v rtl/pal_rv_timer.v rtl/pal_rv_mailbox.v
RV32_FW_TEST := $(RV32_BUILD)/tests/test_rv32_firmware
$(RV32_FW_TEST): tests/rv32/test_rv32_firmware.cpp $(RV_SYS_SRCS) $(FW_HEX) $(FW_TEST_HDRS) \
                 $(BUILD)/rel/libpaldrv.a $(BUILD)/rel/libpaltile.a $(rel_LIB)
	@mkdir -p $(@D) $(RV32_BUILD)/obj
	MAKEFLAGS= $(VERILATOR) --cc --exe --build -j 1 -O3 --x-assign unique --x-initial unique \
	  -Irtl --top-module pal_rv_sys -GINIT_FILE='"$(abspath $(FW_HEX))"' \
	  -Mdir $(RV32_BUILD)/obj/test_rv32_firmware \
	  -CFLAGS "-O2 -I$(abspath include) -I$(abspath firmware) -I$(abspath tests/firmware) -I$(abspath tests/unit)" \
	  -LDFLAGS "$(abspath $(BUILD)/rel/libpaldrv.a) $(abspath $(BUILD)/rel/libpaltile.a) $(abspath $(rel_LIB)) \
	    $(CMOCKA_LIBS) $(OPENBLAS_LIBS) $(DRV_LDLIBS) $(LDLIBS)" \
	  -o test_rv32_firmware $(abspath $<) $(RV_SYS_SRCS) >$(RV32_BUILD)/obj/test_rv32_firmware.log 2>&1 \
	  || { cat $(RV32_BUILD)/obj/test_rv32_firmware.log; exit 1; }
	cp $(RV32_BUILD)/obj/test_rv32_firmware/test_rv32_firmware $@
EXTRA_TESTS += $(RV32_FW_TEST)
rv32-tests: $(RV32_FW_TEST)

# ---- checks and figures ---------------------------------------------------------
# The address map agrees between pal_fw_map.h, pal_rv_sys.v, pal_rv_mailbox.v,
# pal_fw.ld and this file. (rtl-lint and rtl-synth of rtl/rtl.mk cover the
# pal_rv_* modules: every rtl/*.v is linted and synthesised there.)
.PHONY: rv-map-check rv-stat
rv-map-check:
	@python3 firmware/check_map.py
CHECKS += rv-map-check

# iCE40UP5K resources of the core alone and of the subsystem with the
# firmware in its IMEM: Yosys synth_ice40, nextpnr packing for logic cells.
rv-stat: $(FW_HEX)
	@mkdir -p $(RV32_BUILD)/stat
	@printf '%-12s %6s %6s %6s %6s %8s\n' top LUT4 CARRY DFF EBR packedLC
	@for m in pal_rv_core pal_rv_sys; do \
	  $(YOSYS) -q -p "read_verilog -sv $(RV_SYS_SRCS); \
	    chparam -set INIT_FILE \"$(abspath $(FW_HEX))\" pal_rv_sys; synth_ice40 -top $$m \
	    -json $(RV32_BUILD)/stat/$$m.json; tee -q -o $(RV32_BUILD)/stat/$$m.stat.json stat -json" \
	    >/dev/null || exit 1; \
	  lc=$$(nextpnr-ice40 --up5k --package sg48 --pack-only --json $(RV32_BUILD)/stat/$$m.json 2>&1 \
	    | sed -n 's/.*ICESTORM_LC: *\([0-9]*\)\/.*/\1/p'); \
	  python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["design"]["num_cells_by_type"]; \
	    g=lambda k: sum(v for t,v in c.items() if t.startswith(k)); \
	    print("%-12s %6d %6d %6d %6d %8s" % (sys.argv[2], g("SB_LUT4"), g("SB_CARRY"), g("SB_DFF"), g("SB_RAM40"), sys.argv[3] or "-"))' \
	    $(RV32_BUILD)/stat/$$m.stat.json $$m "$$lc"; \
	done

# ---- benchmark ------------------------------------------------------------------
# make bench-firmware: table + $(BUILD)/bench/firmware.json (sizes, logic
# cells from rv-stat, command latencies on the Verilated subsystem, then
# the latencies in the whole Verilated SoC, link engine and mailbox
# included: sim/soc.mk's bench-firmware-soc, merged into the same file).
RV32_FW_BENCH := $(RV32_BUILD)/bench/bench_firmware
$(RV32_FW_BENCH): tests/rv32/bench_firmware.cpp tests/rv32/rv32_sys.h bench/bench_util.h $(RV_SYS_SRCS) \
                  $(FW_HEX) $(FW_TEST_HDRS) $(BUILD)/rel/libpaldrv.a $(BUILD)/rel/libpaltile.a $(rel_LIB)
	@mkdir -p $(@D) $(RV32_BUILD)/obj
	MAKEFLAGS= $(VERILATOR) --cc --exe --build -j 1 -O3 --x-assign unique --x-initial unique \
	  -Irtl --top-module pal_rv_sys -GINIT_FILE='"$(abspath $(FW_HEX))"' \
	  -Mdir $(RV32_BUILD)/obj/bench_firmware \
	  -CFLAGS "-O2 -I$(abspath include) -I$(abspath bench) -I$(abspath firmware) -I$(abspath tests/firmware) -I$(abspath tests/unit)" \
	  -LDFLAGS "$(abspath $(BUILD)/rel/libpaldrv.a) $(abspath $(BUILD)/rel/libpaltile.a) $(abspath $(rel_LIB)) \
	    $(CMOCKA_LIBS) $(OPENBLAS_LIBS) $(DRV_LDLIBS) $(LDLIBS)" \
	  -o bench_firmware $(abspath $<) $(RV_SYS_SRCS) >$(RV32_BUILD)/obj/bench_firmware.log 2>&1 \
	  || { cat $(RV32_BUILD)/obj/bench_firmware.log; exit 1; }
	cp $(RV32_BUILD)/obj/bench_firmware/bench_firmware $@

.PHONY: bench-firmware
bench-firmware: $(DEPS_STAMP) $(RV32_FW_BENCH) $(FW_ELF)
	@$(MAKE) --no-print-directory rv-stat >/dev/null
	@mkdir -p $(BUILD)/bench
	@set -e; sz() { $(RV_SIZE) -A $(FW_ELF) | awk -v s=$$1 '$$1==s{print $$2; f=1} END{if(!f) print 0}'; }; \
	  lcebr=$$(python3 -c 'import json,sys,subprocess; \
	    c=json.load(open(sys.argv[1]))["design"]["num_cells_by_type"]; \
	    print(sum(v for t,v in c.items() if t.startswith("SB_RAM40")))' $(RV32_BUILD)/stat/pal_rv_sys.stat.json); \
	  lc=$$(nextpnr-ice40 --up5k --package sg48 --pack-only --json $(RV32_BUILD)/stat/pal_rv_sys.json 2>&1 \
	    | sed -n 's/.*ICESTORM_LC: *\([0-9]*\)\/.*/\1/p'); \
	  $(RV32_FW_BENCH) --json $(BUILD)/bench/firmware.json $$(sz .text) $$(sz .rodata) $$(sz .data) \
	    $$(sz .bss) $$(sed -n 's/^__stack_size = \([0-9]*\);/\1/p' firmware/pal_fw.ld) \
	    $$(sed -n 's/#define PAL_FW_IMEM_BYTES \([0-9]*\)u/\1/p' firmware/pal_fw_map.h) \
	    $$(sed -n 's/#define PAL_FW_DMEM_BYTES \([0-9]*\)u/\1/p' firmware/pal_fw_map.h) $$lc $$lcebr
	@$(MAKE) --no-print-directory bench-firmware-soc
	@python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); \
	  a["results"]+=b["results"]; json.dump(a,open(sys.argv[1],"w"),indent=1)' \
	  $(BUILD)/bench/firmware.json $(BUILD)/bench/firmware_soc.json

# ---- the mailbox alone (seeded random traffic against a reference model) ------
RV32_MBOX_TEST := $(RV32_BUILD)/tests/test_rv32_mailbox
$(RV32_MBOX_TEST): tests/rv32/test_rv32_mailbox.cpp rtl/pal_rv_mailbox.v
	@mkdir -p $(@D) $(RV32_BUILD)/obj
	MAKEFLAGS= $(VERILATOR) --cc --exe --build -j 1 -O3 --x-assign unique --x-initial unique \
	  -Irtl --top-module pal_rv_mailbox -Mdir $(RV32_BUILD)/obj/test_rv32_mailbox -CFLAGS -O2 \
	  -LDFLAGS "$(CMOCKA_LIBS)" -o test_rv32_mailbox $(abspath $<) rtl/pal_rv_mailbox.v \
	  >$(RV32_BUILD)/obj/test_rv32_mailbox.log 2>&1 || { cat $(RV32_BUILD)/obj/test_rv32_mailbox.log; exit 1; }
	cp $(RV32_BUILD)/obj/test_rv32_mailbox/test_rv32_mailbox $@
EXTRA_TESTS += $(RV32_MBOX_TEST)
rv32-tests: $(RV32_MBOX_TEST)
