# palsim (sim/palsim*.c): a simulated device served over TCP (sim+tcp://)
# or a pseudo-terminal (serial://), docs/palsim.md. Included by the
# top-level Makefile (*/*.mk).
#
# The rtl device (the Verilated SoC of include/pal/soc.h, sim/soc.mk) is
# linked in when sim/soc.mk exists, unless PALSIM_RTL=0; without it palsim
# is built with the emu device only. This file sorts before sim/sim.mk and
# sim/soc.mk, so their libraries are named here by path for the
# prerequisites (the models by their sources, with `soc` built first) and
# by their variables in the recipes.
#
# Tests: tests/driver/test_palsim.c (palsim's emu device as a process:
# arguments, signals, clients) and the palsim cases of
# tests/driver/test_driver_conformance.c are built by driver/driver.mk like
# every driver test; with the SoC, tests/palsim/test_conformance_sim.c runs
# the conformance suite on sim://, on palsim's rtl device over TCP and over
# a pty through the UART attachment.

PALSIM := $(BUILD)/bin/palsim
PALSIM_SRCS := sim/palsim.c sim/palsim_emu.c sim/palsim_rtl.c
PALSIM_HDRS := sim/palsim_device.h $(wildcard include/pal/*.h)
PALSIM_BASE_LIBS := $(rel_DRV_LIB) $(BUILD)/rel/libpaltile.a $(rel_LIB)
PALSIM_RTL ?= $(if $(wildcard sim/soc.mk),1,0)

.PHONY: palsim test-palsim
palsim: $(PALSIM)
all: palsim

ifeq ($(PALSIM_RTL),1)
# The SoC's libraries (sim/soc.mk, sim/sim.mk) and what its models are
# built from: a change there relinks palsim, after `soc` rebuilt them.
PALSIM_SOC_DEPS := $(BUILD)/sim/libpalsoc.a $(BUILD)/sim/libpalsim.a $(wildcard rtl/*.v) \
                   $(wildcard sim/pal_soc*.cpp sim/pal_soc*.h) sim/soc.mk
$(PALSIM): $(PALSIM_SRCS) $(PALSIM_HDRS) $(PALSIM_BASE_LIBS) $(PALSIM_SOC_DEPS) | soc
	@mkdir -p $(@D) $(BUILD)/palsim
	$(CC) $(REL_FLAGS) -DPALSIM_HAVE_RTL -Isim -c -o $(BUILD)/palsim/palsim_rtl.o sim/palsim_rtl.c
	$(CC) $(REL_FLAGS) -Isim -c -o $(BUILD)/palsim/palsim.o sim/palsim.c
	$(CC) $(REL_FLAGS) -Isim -c -o $(BUILD)/palsim/palsim_emu.o sim/palsim_emu.c
	$(SIM_CXX) -o $@ $(BUILD)/palsim/palsim.o $(BUILD)/palsim/palsim_emu.o $(BUILD)/palsim/palsim_rtl.o \
	  $(SOC_LINK) $(OPENBLAS_LIBS) $(SOC_LDLIBS)

# The conformance suite on the SoC: sim:// in this process, palsim's rtl
# device over TCP and over a pty with the UART attachment.
PALSIM_SIM_TEST := $(BUILD)/palsim/tests/test_conformance_sim
$(PALSIM_SIM_TEST): tests/palsim/test_conformance_sim.c tests/driver/conformance_suite.h \
                    tests/driver/palsim_proc.c tests/driver/palsim_proc.h $(wildcard tests/tile/*.h) \
                    tests/unit/pal_test.h $(PALSIM_BASE_LIBS) $(PALSIM_SOC_DEPS) | soc $(PALSIM)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -Itests/unit -Itests/tile -Itests/driver -c -o $@.o $<
	$(CC) $(REL_FLAGS) -Itests/driver -c -o $@.proc.o tests/driver/palsim_proc.c
	$(SIM_CXX) -o $@ $@.o $@.proc.o $(SOC_LINK) $(CMOCKA_LIBS) $(OPENBLAS_LIBS) $(SOC_LDLIBS)
PALSIM_TESTS := $(PALSIM_SIM_TEST)
else
$(PALSIM): $(PALSIM_SRCS) $(PALSIM_HDRS) $(PALSIM_BASE_LIBS)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -Isim -o $@ $(PALSIM_SRCS) $(PALSIM_BASE_LIBS) $(OPENBLAS_LIBS) $(DRV_LDLIBS) $(LDLIBS)
PALSIM_TESTS :=
endif

# driver.mk builds tests/driver/test_palsim*.c and the conformance test;
# they run $(PALSIM).
PALSIM_DRV_TESTS := $(filter %/test_palsim %/test_driver_conformance,$(DRV_TESTS))
$(PALSIM_DRV_TESTS): | $(PALSIM)
EXTRA_TESTS += $(PALSIM_TESTS)

test-palsim: $(DEPS_STAMP) $(PALSIM) $(PALSIM_DRV_TESTS) $(PALSIM_TESTS)
	@scripts/run-tests.sh $(PALSIM_DRV_TESTS) $(PALSIM_TESTS)

# make bench-link's palsim rows (bench/bench_link.c) run $(PALSIM).
bench-link: $(PALSIM)
