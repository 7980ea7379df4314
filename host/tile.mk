# Tile layer (host/tile/): ISA encoding, the instruction-level emulator
# (emu://), the assembler and the tile-device interface. Included by the
# top-level Makefile (*/*.mk). Builds, per variant, $(BUILD)/{rel,san}/libpaltile.a
# (link it before libpalcore.a), the pal-asm CLI, the RTL's ISA header
# $(BUILD)/gen/pal_isa.vh, and the tests in tests/tile/ (run by make test).

TILE_TOOL_SRCS := host/tile/pal_asm_cli.c host/tile/pal_isagen.c host/tile/pal_emu_bench.c
TILE_LIB_SRCS := $(filter-out $(TILE_TOOL_SRCS),$(wildcard host/tile/*.c))
TILE_TEST_SRCS := $(wildcard tests/tile/test_*.c)
TILE_TEST_HDRS := $(wildcard tests/tile/*.h) tests/unit/pal_test.h
TILE_ISA_VH := $(GEN_DIR)/pal_isa.vh
TILE_PROTO_VH := $(GEN_DIR)/pal_proto.vh
PAL_ASM := $(BUILD)/bin/pal-asm

# $(call tile_variant,NAME,CFLAGS)
define tile_variant
$(1)_TILE_OBJS := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(TILE_LIB_SRCS))
$(1)_TILE_LIB := $(BUILD)/$(1)/libpaltile.a
$(1)_TILE_TESTS := $$(patsubst tests/tile/%.c,$(BUILD)/$(1)/tests/tile/%,$(TILE_TEST_SRCS))
$$($(1)_TILE_OBJS): $(BUILD)/$(1)/obj/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $(2) -MMD -MP -c -o $$@ $$<
$$($(1)_TILE_LIB): $$($(1)_TILE_OBJS)
	@rm -f $$@
	ar rcs $$@ $$^
$$($(1)_TILE_TESTS): $(BUILD)/$(1)/tests/tile/%: tests/tile/%.c $$($(1)_TILE_LIB) $$($(1)_LIB) $(TILE_TEST_HDRS)
	@mkdir -p $$(@D)
	$$(CC) $(2) -Itests/unit -Itests/tile -o $$@ $$< $$($(1)_TILE_LIB) $$($(1)_LIB) $$(CMOCKA_LIBS) $$(OPENBLAS_LIBS) $$(LDLIBS)
-include $$(patsubst %.o,%.d,$$($(1)_TILE_OBJS))
endef

$(eval $(call tile_variant,rel,$(REL_FLAGS)))
$(eval $(call tile_variant,san,$(SAN_FLAGS)))

TILE_TESTS := $(rel_TILE_TESTS) $(san_TILE_TESTS)
EXTRA_TESTS += $(TILE_TESTS)

$(PAL_ASM): host/tile/pal_asm_cli.c $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -o $@ $< $(rel_TILE_LIB) $(rel_LIB) $(LDLIBS)

# One source of truth for the ISA: the RTL includes this generated header.
$(BUILD)/tools/pal_isagen: host/tile/pal_isagen.c host/tile/pal_isa.c host/tile/pal_tile_device.c \
                           host/core/pal_status.c include/pal/tile.h include/pal/status.h include/pal/protocol.h
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -Iinclude -O2 -o $@ $(filter %.c,$^)
# The same tool writes the link protocol's constants and address map
# (include/pal/protocol.h) as pal_proto.vh, in the same run: whatever needs
# $(TILE_ISA_VH) has both.
$(TILE_ISA_VH) $(TILE_PROTO_VH) &: $(BUILD)/tools/pal_isagen
	@mkdir -p $(@D)
	$(BUILD)/tools/pal_isagen $(TILE_ISA_VH) $(TILE_PROTO_VH)

$(BUILD)/rel/bench/pal_emu_bench: host/tile/pal_emu_bench.c $(rel_TILE_LIB) $(rel_LIB)
	@mkdir -p $(@D)
	$(CC) $(REL_FLAGS) -o $@ $< $(rel_TILE_LIB) $(rel_LIB) $(LDLIBS)

# Emulator speed (host MAC/s) next to pal_gemm_ref: table + $(BUILD)/bench/tile_emu.json
.PHONY: bench-tile-emu
bench-tile-emu: $(BUILD)/rel/bench/pal_emu_bench
	@mkdir -p $(BUILD)/bench
	PAL_COMMIT="$$(git describe --always --dirty 2>/dev/null)" \
	PAL_MACHINE="$$(nproc), $$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)" \
	  $(BUILD)/rel/bench/pal_emu_bench --json $(BUILD)/bench/tile_emu.json

.PHONY: tile test-tile check-pal-asm
tile: $(rel_TILE_LIB) $(PAL_ASM) $(TILE_ISA_VH) $(BUILD)/rel/bench/pal_emu_bench
all: tile

test-tile: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory $(TILE_TESTS) check-pal-asm
	@scripts/run-tests.sh $(TILE_TESTS)

# The CLI's contract: docs/isa.md §5's example assembles and disassembles to
# itself; exit codes 1 (bad input) and 2 (usage) as --help documents.
CHECKS += check-pal-asm
check-pal-asm: $(PAL_ASM) $(TILE_ISA_VH)
	@d=$(BUILD)/check-pal-asm; rm -rf $$d; mkdir -p $$d; \
	sed -n '/^## 5\./,/^## 6\./p' docs/isa.md | sed -n '/^```$$/,/^```$$/p' | sed '/^```/d' > $$d/example.s; \
	$(PAL_ASM) asm $$d/example.s -o $$d/example.bin && \
	$(PAL_ASM) disasm $$d/example.bin > $$d/round.s && \
	cmp -s $$d/example.s $$d/round.s || { echo "check-pal-asm: docs/isa.md §5 example does not round-trip"; diff $$d/example.s $$d/round.s; exit 1; }; \
	printf 'gemm m=1\nfrob x=1\n' > $$d/bad.s; \
	$(PAL_ASM) asm $$d/bad.s -o $$d/bad.bin 2>$$d/bad.err; rc=$$?; \
	[ $$rc -eq 1 ] && grep -q 'line 2' $$d/bad.err || { echo "check-pal-asm: bad input gave exit $$rc: $$(cat $$d/bad.err)"; exit 1; }; \
	$(PAL_ASM) frobnicate >/dev/null 2>&1; rc=$$?; \
	[ $$rc -eq 2 ] || { echo "check-pal-asm: usage error gave exit $$rc"; exit 1; }; \
	echo "check-pal-asm: ok"
