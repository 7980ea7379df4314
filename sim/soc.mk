# The Verilated SoC (rtl/pal_soc.v: link engine + bus bridge + tile) as a C
# library (include/pal/soc.h): one Verilated model per geometry and
# attachment under $(BUILD)/sim/soc_<RxC>_<fifo|uart>/, the wrapper in
# $(BUILD)/sim/libpalsoc.a (the Verilator runtime comes from libpalsim.a),
# the sim:// scheme, the tests of tests/soc/ (make test), the SoC's lint and
# synthesis checks (CHECKS) and make bench-soc. Included by the top-level
# Makefile after sim/sim.mk (whose variables it uses).

SOC_RTL_SRCS := rtl/pal_soc.v rtl/pal_soc_bridge.v rtl/pal_soc_arb.v rtl/pal_soc_fifo.v rtl/pal_uart_rx.v \
                rtl/pal_uart_tx.v $(sort $(wildcard rtl/pal_link*.v))
SOC_RTL_MODULES := $(patsubst rtl/%.v,%,$(SOC_RTL_SRCS))
SOC_CLOCKS_PER_BIT := 4

# $(call soc_model,NAME,R,C,UART,MAX_PAYLOAD[,FW[,DEPTHS,BOARD]]): a Verilated
# SoC and its wrapper object; FW = 1 puts the control core in, with the
# firmware image of firmware/firmware.mk ($(FW_HEX)) baked into its IMEM;
# FW = 2 the same with the tests' broken firmware ($(FW_BROKEN_HEX)).
# DEPTHS (IMEM ABUF WMEM ACC BIAS OBUF, 0: default, as sim/sim.mk) and BOARD
# for a board's configuration, whose model takes the `board` slot of
# sim/pal_soc.cpp (sim://?board=BOARD).
soc_fw_hex = $(if $(filter 2,$(1)),$(FW_BROKEN_HEX),$(FW_HEX))
define soc_model
$(SIM_BUILD)/soc_$(1)/Vpal_soc_$(1)__ALL.a: $(SOC_RTL_SRCS) $(TILE_RTL_SRCS) $(GEN_TABLES) $(TILE_ISA_VH) \
    $(if $(filter 1 2,$(6)),$(RV_SYS_SRCS) $(call soc_fw_hex,$(6)))
	@mkdir -p $$(@D)
	@echo "VERILATE pal_soc $(2)x$(3) $(if $(filter 1,$(4)),uart,fifo)$(if $(8), ($(8)'s configuration))$(if $(filter 1,$(6)), with the control core)$(if $(filter 2,$(6)), with the control core and a broken firmware)"
	@$(VERILATOR) $(SIM_VFLAGS) --top-module pal_soc --prefix Vpal_soc_$(1) \
	  -GR=$(2) -GC=$(3) -GUSE_UART=$(4) -GCLKS_PER_BIT=$(SOC_CLOCKS_PER_BIT) -GMAX_PAYLOAD=$(5) \
	  $(call sim_depth_gflags,$(7)) $(if $(filter 1 2,$(6)),-GCONTROL_CORE=1 -GFW_INIT_FILE='"$(abspath $(call soc_fw_hex,$(6)))"') \
	  -Mdir $(SIM_BUILD)/soc_$(1) rtl/pal_soc.v >$(SIM_BUILD)/soc_$(1).log 2>&1 \
	  || { tail -30 $(SIM_BUILD)/soc_$(1).log; exit 1; }
	@$(MAKE) --no-print-directory -C $(SIM_BUILD)/soc_$(1) -f Vpal_soc_$(1).mk OPT_FAST=-O2 \
	  OPT_SLOW=-O1 Vpal_soc_$(1)__ALL.a >>$(SIM_BUILD)/soc_$(1).log 2>&1 \
	  || { tail -30 $(SIM_BUILD)/soc_$(1).log; exit 1; }
	@touch $$@  # Verilator keeps the archive when its output did not change
$(SIM_BUILD)/pal_soc_$(1).o: sim/pal_soc_model.cpp sim/pal_soc_model.h include/pal/status.h \
                             $(SIM_BUILD)/soc_$(1)/Vpal_soc_$(1)__ALL.a
	$(SIM_CXX) $(SIM_CXXFLAGS) -Wno-unused-parameter -I$(SIM_BUILD)/soc_$(1) \
	  -DPAL_SOC_CLASS=Vpal_soc_$(1) -DPAL_SOC_HEADER='"Vpal_soc_$(1).h"' \
	  -DPAL_SOC_VARIANT=pal_soc_variant_$(if $(8),board,$(1)) -DPAL_SOC_ROWS=$(2) -DPAL_SOC_COLS=$(3) \
	  -DPAL_SOC_UART=$(4) -DPAL_SOC_MAX_PAYLOAD=$(5) -DPAL_SOC_FIRMWARE=$(if $(6),$(6),0) \
	  $(if $(8),-DPAL_SOC_BOARD='"$(8)"' -DPAL_SOC_DEPTHS='$(call sim_depth_init,$(7))') \
	  -DPAL_SOC_TRACE=0 -c -o $$@ $$<
SOC_MODEL_$(1) := $(SIM_BUILD)/pal_soc_$(1).o $(SIM_BUILD)/soc_$(1)/Vpal_soc_$(1)__ALL.a
endef

# The SIM_VFLAGS top module is pal_tile; the later --top-module wins.
$(eval $(call soc_model,4x4_fifo,4,4,0,4096))
$(eval $(call soc_model,4x4_uart,4,4,1,4096))
$(eval $(call soc_model,8x8_fifo,8,8,0,4096))
$(eval $(call soc_model,8x8_uart,8,8,1,4096))
# The iCE40's 256-byte payload buffer, for the differential tests only
# (pal_soc_create_with_max_payload in sim/pal_soc_debug.h).
$(eval $(call soc_model,4x4_fifo_p256,4,4,0,256))
# With the control core and its firmware (sim://?fw=1), on the FIFO and on
# the UART (sim://?fw=1&attach=uart: the boards' attachment), and the 8x8
# tile on the FIFO (sim://?fw=1&rows=8&cols=8: the firmware reads the
# geometry and the buffer sizes from the tile, it has no 4x4 built in).
$(eval $(call soc_model,4x4_fifo_fw,4,4,0,4096,1))
$(eval $(call soc_model,4x4_uart_fw,4,4,1,4096,1))
$(eval $(call soc_model,8x8_fifo_fw,8,8,0,4096,1))
# With a firmware that never answers, for the tests only
# (pal_soc_create_with_broken_firmware in sim/pal_soc_debug.h).
$(eval $(call soc_model,4x4_fifo_fwbroken,4,4,0,4096,2))

# Each ECP5 board's configuration as its bitstream is built (BOARD_PARAMS_<b>,
# constraints/boards.mk: geometry, depths, payload size, control core), on
# the FIFO attachment, for test_soc_board_<b>: the driver's conformance
# suite, through the firmware where the board has the core.
board_payload = $(or $(call pairs_get,MAX_PAYLOAD,$(BOARD_PARAMS_$(1))),4096)
# (the same parameters as -G flags, for soc-lint)
soc_board_gflags = $(join $(addprefix -G,$(addsuffix =,$(call pairs_names,$(BOARD_PARAMS_$(1))))),$(call \
  pairs_values,$(BOARD_PARAMS_$(1))))
soc_board_model = $(call soc_model,board_$(1),$(call board_r,$(1)),$(call board_c,$(1)),0,$(call \
  board_payload,$(1)),$(call board_core,$(1)),$(call board_depths,$(1)),$(1))
$(foreach b,$(SIM_BOARD_TILES),$(eval $(call soc_board_model,$(b))))
$(foreach b,$(SIM_BOARD_TILES),$(eval $(SIM_BUILD)/soc_board_$(b)/Vpal_soc_board_$(b)__ALL.a \
  $(SIM_BUILD)/pal_soc_board_$(b).o $(SIM_BUILD)/tests/test_soc_board_$(b): $(BUILD)/boards/$(b)/params))

SOC_MODELS := $(SOC_MODEL_4x4_fifo) $(SOC_MODEL_4x4_uart) $(SOC_MODEL_8x8_fifo) $(SOC_MODEL_8x8_uart) \
              $(SOC_MODEL_4x4_fifo_fw) $(SOC_MODEL_4x4_uart_fw) $(SOC_MODEL_8x8_fifo_fw)
SOC_TEST_MODELS := $(SOC_MODELS) $(SOC_MODEL_4x4_fifo_p256) $(SOC_MODEL_4x4_fifo_fwbroken)

# (-MMD: the headers it reaches through these, pal/tile.h's configuration
# among them, are prerequisites too)
$(SIM_BUILD)/pal_soc.o: sim/pal_soc.cpp sim/pal_soc_model.h sim/pal_soc_debug.h include/pal/soc.h include/pal/driver.h \
                        include/pal/transport.h include/pal/tile.h include/pal/protocol.h
	@mkdir -p $(@D)
	$(SIM_CXX) $(SIM_CXXFLAGS) -MMD -MP -c -o $@ $<
-include $(SIM_BUILD)/pal_soc.d

SOC_LIB := $(SIM_BUILD)/libpalsoc.a
$(SOC_LIB): $(SIM_BUILD)/pal_soc.o
	@rm -f $@
	ar rcs $@ $^

# What a program with the SoC links: its models, libpalsoc, libpalsim (the
# Verilator runtime), the driver, tile and core libraries.
SOC_LINK = $(SOC_MODELS) $(SOC_LIB) $(SIM_LIB) $(rel_DRV_LIB) $(rel_TILE_LIB) $(rel_LIB)
SOC_LDLIBS = $(SIM_LDLIBS) $(DRV_LDLIBS) $(LDLIBS)
# The demo's programs need fewer models: the -sim evaluators (host/train.mk)
# only the 4x4 FIFO SoC, pal-soc (host/runtime.mk) that and the one with the
# control core. Linking just those keeps a fresh `make demo` from Verilating
# the other variants; asked for one of them, sim:// says it is not built
# into the program.
SOC_LINK_4x4 = $(SOC_MODEL_4x4_fifo) $(SOC_LIB) $(SIM_LIB) $(rel_DRV_LIB) $(rel_TILE_LIB) $(rel_LIB)
SOC_CLI_LINK = $(SOC_MODEL_4x4_fifo_fw) $(SOC_LINK_4x4)

# ---- tests (tests/soc/), run by make test -----------------------------------------
SOC_TEST_SRCS := $(filter-out tests/soc/test_soc_board.c,$(wildcard tests/soc/test_soc_*.c))
SOC_TESTS := $(patsubst tests/soc/%.c,$(SIM_BUILD)/tests/%,$(SOC_TEST_SRCS))
SOC_TEST_HDRS := $(wildcard tests/soc/*.h) tests/unit/pal_test.h include/pal/soc.h sim/pal_soc_debug.h \
                 include/pal/protocol.h include/pal/driver.h

$(SIM_BUILD)/tests/test_soc_%: tests/soc/test_soc_%.c $(SOC_TEST_HDRS) $(SOC_TEST_MODELS) $(SOC_LIB) \
                               $(SIM_LIB) $(rel_DRV_LIB) $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -Itests/unit -Itests/tile -Itests/driver -Itests/soc -Isim -c -o $@.o $<
	$(SIM_CXX) -o $@ $@.o $(SOC_MODEL_4x4_fifo_p256) $(SOC_MODEL_4x4_fifo_fwbroken) $(SOC_LINK) $(CMOCKA_LIBS) $(OPENBLAS_LIBS) $(SOC_LDLIBS)

# tests/soc/test_soc_board.c once per ECP5 board, linked with that board's
# model alone; what the board is built with comes in as macros, and the test
# checks that the RTL's INFO reports it.
define soc_board_test
$(SIM_BUILD)/tests/test_soc_board_$(1): tests/soc/test_soc_board.c $(SOC_TEST_HDRS) firmware/pal_fw_image.h $(SOC_MODEL_board_$(1)) \
                               $(SOC_LIB) $(SIM_LIB) $(rel_DRV_LIB) $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(REL_FLAGS) -DSOC_BOARD='"$(1)"' -DSOC_BOARD_R=$(call board_r,$(1)) \
	  -DSOC_BOARD_C=$(call board_c,$(1)) -DSOC_BOARD_DEPTHS='$(call sim_depth_init,$(call board_depths,$(1)))' \
	  -DSOC_BOARD_PAYLOAD=$(call board_payload,$(1)) -DSOC_BOARD_FW=$(if $(call board_core,$(1)),1,0) \
	  -Itests/unit -Itests/tile -Itests/driver -Itests/soc -Isim -Ifirmware -c -o $$@.o $$<
	$$(SIM_CXX) -o $$@ $$@.o $(SOC_MODEL_board_$(1)) $(SOC_LIB) $(SIM_LIB) $(rel_DRV_LIB) $(rel_TILE_LIB) \
	  $(rel_LIB) $$(CMOCKA_LIBS) $$(OPENBLAS_LIBS) $$(SOC_LDLIBS)
SOC_TESTS += $(SIM_BUILD)/tests/test_soc_board_$(1)
endef
$(foreach b,$(SIM_BOARD_TILES),$(eval $(call soc_board_test,$(b))))

# The iCEBreaker's SoC: the firmware-link SoC (rtl/pal_fwsoc.v,
# docs/control-core.md §10) with the board's tile, on the FIFO attachment;
# its boot ROM loads the link firmware from a modelled flash holding
# $(FW_LINK_FLASH) (sim/pal_soc_model.cpp), so the whole boot runs too.
FWSOC_RTL_SRCS := rtl/pal_fwsoc.v rtl/pal_fwsoc_io.v rtl/pal_soc_bridge.v rtl/pal_uart_rx.v rtl/pal_uart_tx.v \
                  rtl/pal_link_crc32.v rtl/pal_rv_ram.v rtl/pal_rv_timer.v $(RV_CORE_SRCS)
FWSOC_PAYLOAD := $(shell sed -n 's/^\#define PAL_FW_LINK_MAX_PAYLOAD \([0-9]*\)u.*/\1/p' firmware/pal_fw_link.h)
$(SIM_BUILD)/soc_board_icebreaker/Vpal_soc_board_icebreaker__ALL.a: $(FWSOC_RTL_SRCS) $(TILE_RTL_SRCS) $(GEN_TABLES) \
    $(TILE_ISA_VH) $(FW_BOOT_HEX)
	@mkdir -p $(@D)
	@echo "VERILATE pal_fwsoc 2x2 fifo (the iCEBreaker's configuration: control core, boot ROM, link firmware)"
	@$(VERILATOR) $(SIM_VFLAGS) --top-module pal_fwsoc --prefix Vpal_soc_board_icebreaker \
	  -GR=$(call board_r,icebreaker) -GC=$(call board_c,icebreaker) -GUSE_UART=0 \
	  $(call sim_depth_gflags,$(ICEBREAKER_TILE_DEPTHS)) -GBOOT_INIT_FILE='"$(abspath $(FW_BOOT_HEX))"' \
	  -Mdir $(SIM_BUILD)/soc_board_icebreaker rtl/pal_fwsoc.v >$(SIM_BUILD)/soc_board_icebreaker.log 2>&1 \
	  || { tail -30 $(SIM_BUILD)/soc_board_icebreaker.log; exit 1; }
	@$(MAKE) --no-print-directory -C $(SIM_BUILD)/soc_board_icebreaker -f Vpal_soc_board_icebreaker.mk OPT_FAST=-O2 \
	  OPT_SLOW=-O1 Vpal_soc_board_icebreaker__ALL.a >>$(SIM_BUILD)/soc_board_icebreaker.log 2>&1 \
	  || { tail -30 $(SIM_BUILD)/soc_board_icebreaker.log; exit 1; }
	@touch $@
$(SIM_BUILD)/pal_soc_board_icebreaker.o: sim/pal_soc_model.cpp sim/pal_soc_model.h include/pal/status.h \
    firmware/pal_fw_map.h $(SIM_BUILD)/soc_board_icebreaker/Vpal_soc_board_icebreaker__ALL.a $(FW_LINK_FLASH)
	$(SIM_CXX) $(SIM_CXXFLAGS) -Wno-unused-parameter -I$(SIM_BUILD)/soc_board_icebreaker -Ifirmware \
	  -DPAL_SOC_CLASS=Vpal_soc_board_icebreaker -DPAL_SOC_HEADER='"Vpal_soc_board_icebreaker.h"' \
	  -DPAL_SOC_VARIANT=pal_soc_variant_board -DPAL_SOC_ROWS=$(call board_r,icebreaker) \
	  -DPAL_SOC_COLS=$(call board_c,icebreaker) -DPAL_SOC_UART=0 -DPAL_SOC_MAX_PAYLOAD=$(FWSOC_PAYLOAD) \
	  -DPAL_SOC_FIRMWARE=1 -DPAL_SOC_BOARD='"icebreaker"' \
	  -DPAL_SOC_DEPTHS='$(call sim_depth_init,$(ICEBREAKER_TILE_DEPTHS))' \
	  -DPAL_SOC_FLASH='"$(abspath $(FW_LINK_FLASH))"' -DPAL_SOC_TRACE=0 -c -o $@ $<
SOC_MODEL_board_icebreaker := $(SIM_BUILD)/pal_soc_board_icebreaker.o \
    $(SIM_BUILD)/soc_board_icebreaker/Vpal_soc_board_icebreaker__ALL.a
$(SIM_BUILD)/tests/test_soc_board_icebreaker: tests/soc/test_soc_board.c $(SOC_TEST_HDRS) firmware/pal_fw_image.h \
    $(SOC_MODEL_board_icebreaker) $(SOC_LIB) $(SIM_LIB) $(rel_DRV_LIB) $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -DSOC_BOARD='"icebreaker"' -DSOC_BOARD_R=$(call board_r,icebreaker) \
	  -DSOC_BOARD_C=$(call board_c,icebreaker) -DSOC_BOARD_DEPTHS='$(call sim_depth_init,$(ICEBREAKER_TILE_DEPTHS))' \
	  -DSOC_BOARD_PAYLOAD=$(FWSOC_PAYLOAD) -DSOC_BOARD_FW=1 -DSOC_BOARD_NO_POST=1 -DSOC_BOARD_NO_ACCU=1 \
	  -Itests/unit -Itests/tile -Itests/driver -Itests/soc -Isim -Ifirmware -c -o $@.o $<
	$(SIM_CXX) -o $@ $@.o $(SOC_MODEL_board_icebreaker) $(SOC_LIB) $(SIM_LIB) $(rel_DRV_LIB) $(rel_TILE_LIB) \
	  $(rel_LIB) $(CMOCKA_LIBS) $(OPENBLAS_LIBS) $(SOC_LDLIBS)
SOC_TESTS += $(SIM_BUILD)/tests/test_soc_board_icebreaker

EXTRA_TESTS += $(SOC_TESTS)
CHECKS += soc-lint soc-synth

.PHONY: soc soc-4x4 soc-cli soc-test-models soc-tests soc-lint soc-synth bench-soc
soc: $(SOC_LIB) $(SOC_MODELS) $(SIM_LIB)
soc-4x4: $(SOC_LIB) $(SOC_MODEL_4x4_fifo) $(SIM_LIB)
soc-cli: soc-4x4 $(SOC_MODEL_4x4_fifo_fw)
soc-test-models: $(SOC_TEST_MODELS)
soc-tests: $(SOC_TESTS)

# ---- lint and synthesis -------------------------------------------------------------
soc-lint: $(GEN_TABLES) $(TILE_ISA_VH)
	@for u in 0 1; do for g in 4 8; do \
	  $(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module pal_soc -GR=$$g -GC=$$g \
	    -GUSE_UART=$$u rtl/pal_soc.v || exit 1; \
	done; done
	@$(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module pal_soc -GMAX_PAYLOAD=256 \
	  -GCLKS_PER_BIT=104 rtl/pal_soc.v
	@$(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module pal_soc -GR=2 -GC=2 -GUSE_UART=1 \
	  -GPOST_UNIT=0 -GACCUMULATE=0 rtl/pal_soc.v
	@for u in 0 1; do \
	  $(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module pal_soc -GCONTROL_CORE=1 \
	    -GUSE_UART=$$u rtl/pal_soc.v || exit 1; \
	done
	@$(foreach b,$(SIM_BOARD_TILES),$(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module pal_soc \
	  $(call soc_board_gflags,$(b)) rtl/pal_soc.v || exit 1;)
	@for m in $(SOC_RTL_MODULES); do \
	  $(VERILATOR) --lint-only -Wall -Irtl -I$(GEN_DIR) --top-module $$m rtl/$$m.v || exit 1; \
	done
	@echo "soc-lint: pal_soc 4x4/8x8 x fifo/uart, 256-byte payload, 2x2 without POST and accumulate units, with the control core, the SoCs of $(SIM_BOARD_TILES) and $(words $(SOC_RTL_MODULES)) modules, verilator -Wall clean"

# The link engine, with its counter bank and the iCE40's 256-byte payload
# buffer kept as memory cells (PAL_TILE_RAM_INFER, as tile-synth), and the
# bridge, UART and FIFO alone: no latches, check -assert clean. (The tile's own synthesis is
# tile-synth; the board flow's check-gates maps the whole SoC to iCE40.)
soc-synth: $(GEN_TABLES) $(TILE_ISA_VH)
	@mkdir -p $(SIM_BUILD)/synth
	@for fw in 0 1; do n=pal_link$$( [ $$fw = 1 ] && echo _fw ); \
	  $(YOSYS) -q -l $(SIM_BUILD)/synth/$$n.log -p "read_verilog -sv -DPAL_TILE_RAM_INFER -I$(GEN_DIR) \
	    $(filter-out rtl/pal_soc.v,$(SOC_RTL_SRCS)) rtl/pal_tile_ram.v rtl/pal_tile_ctrs.v rtl/pal_cmp_le.v; \
	  chparam -set MAX_PAYLOAD 256 -set FIRMWARE $$fw pal_link; \
	  hierarchy -top pal_link; synth -top pal_link -run begin:fine; opt -fast -full; techmap; opt -fast; abc -fast; opt -fast; \
	  select -assert-none t:\$$dlatch t:\$$adlatch t:\$$dlatchsr t:\$$_DLATCH_* t:\$$_DLATCHSR_*; \
	  check -assert; tee -q -o $(SIM_BUILD)/synth/$$n.stat stat" >/dev/null \
	  || { echo "soc-synth failed, see $(SIM_BUILD)/synth/$$n.log"; tail -20 $(SIM_BUILD)/synth/$$n.log; exit 1; }; \
	done
	@for m in pal_soc_bridge pal_soc_arb pal_uart_rx pal_uart_tx pal_soc_fifo; do \
	  $(YOSYS) -q -l $(SIM_BUILD)/synth/$$m.log -p "read_verilog -sv -I$(GEN_DIR) rtl/$$m.v; synth -top $$m; \
	    select -assert-none t:\$$dlatch t:\$$adlatch t:\$$dlatchsr t:\$$_DLATCH_* t:\$$_DLATCHSR_*; \
	    check -assert; tee -q -o $(SIM_BUILD)/synth/$$m.stat stat" >/dev/null \
	    || { echo "soc-synth failed on $$m, see $(SIM_BUILD)/synth/$$m.log"; exit 1; }; \
	done
	@echo "soc-synth: pal_link (256-byte payload; without and with FIRMWARE), pal_soc_bridge, pal_soc_arb, UART, FIFO: no latches, check -assert clean ($(SIM_BUILD)/synth/*.stat)"

# ---- make bench-soc ------------------------------------------------------------------
$(BUILD)/rel/bench/bench_soc: bench/bench_soc.c bench/bench_util.h include/pal/soc.h $(SOC_MODELS) \
                              $(SOC_LIB) $(SIM_LIB) $(rel_DRV_LIB) $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -Ibench -c -o $@.o $<
	$(SIM_CXX) -o $@ $@.o $(SOC_LINK) $(OPENBLAS_LIBS) $(SOC_LDLIBS)

bench-soc: $(DEPS_STAMP) $(BUILD)/rel/bench/bench_soc
	@mkdir -p $(BUILD)/bench
	$(BUILD)/rel/bench/bench_soc --json $(BUILD)/bench/soc.json

# ---- the firmware's command latency in the SoC (part of make bench-firmware) ----------
$(BUILD)/rel/bench/bench_soc_firmware: tests/soc/bench_soc_firmware.c bench/bench_util.h include/pal/soc.h \
                                       sim/pal_soc_debug.h $(SOC_MODELS) $(SOC_LIB) $(SIM_LIB) \
                                       $(rel_DRV_LIB) $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -Ibench -Isim -c -o $@.o $<
	$(SIM_CXX) -o $@ $@.o $(SOC_LINK) $(OPENBLAS_LIBS) $(SOC_LDLIBS)

# the same on the iCEBreaker's firmware-link SoC, linked with its model alone
$(BUILD)/rel/bench/bench_soc_firmware_icebreaker: tests/soc/bench_soc_firmware.c bench/bench_util.h \
    include/pal/soc.h sim/pal_soc_debug.h $(SOC_MODEL_board_icebreaker) $(SOC_LIB) $(SIM_LIB) \
    $(rel_DRV_LIB) $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -Ibench -Isim -c -o $@.o $<
	$(SIM_CXX) -o $@ $@.o $(SOC_MODEL_board_icebreaker) $(SOC_LIB) $(SIM_LIB) $(rel_DRV_LIB) $(rel_TILE_LIB) \
	  $(rel_LIB) $(OPENBLAS_LIBS) $(SOC_LDLIBS)

.PHONY: bench-firmware-soc
bench-firmware-soc: $(DEPS_STAMP) $(BUILD)/rel/bench/bench_soc_firmware $(BUILD)/rel/bench/bench_soc_firmware_icebreaker
	@mkdir -p $(BUILD)/bench
	@$(BUILD)/rel/bench/bench_soc_firmware --json $(BUILD)/bench/firmware_soc.json
	@$(BUILD)/rel/bench/bench_soc_firmware_icebreaker --json $(BUILD)/bench/firmware_soc_icebreaker.json \
	  --board icebreaker
	@python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); \
	  a["results"]+=b["results"]; json.dump(a,open(sys.argv[1],"w"),indent=1)' \
	  $(BUILD)/bench/firmware_soc.json $(BUILD)/bench/firmware_soc_icebreaker.json
