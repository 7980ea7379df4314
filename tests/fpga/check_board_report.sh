#!/usr/bin/env bash
# make check-board-report: make bitstream's verdict (bench_fpga.py
# board-report) on synthetic tool outputs. An iCE40 build meets timing only
# when nextpnr's Fmax and icetime's (scripts/icetime-dsp.sh, which times the
# paths through bypassed DSPs) both reach the target: a critical path
# through a DSP that nextpnr does not see fails the build; the reported
# Fmax is the lower one; an icetime that finds no path fails it too.
set -u
build=${1:-build}
work=$build/fpga/check-board-report
rm -rf "$work"
mkdir -p "$work"
fail=0
check() {  # check DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then echo "check-board-report: ok: $what"; else echo "check-board-report: FAILED: $what"; fail=1; fi
}

# nextpnr's report of a build that meets 12 MHz with room (Fmax 13.74)
cat > "$work/nextpnr.json" <<'EOF'
{"utilization": {"ICESTORM_LC": {"used": 5244, "available": 5280}},
 "fmax": {"CLK$SB_IO_IN_$glb_clk": {"achieved": 13.74, "constraint": 12.0}}}
EOF
touch "$work/pal_icebreaker.asc"
# a stand-in icetime: prints the critical path that $work/path holds
fake="$(cd "$work" && pwd)/icetime"
printf '#!/bin/sh\ncat "%s/path"\n' "$(cd "$work" && pwd)" > "$fake"
chmod +x "$fake"

report() {  # report -> rc, and the summary in $work/summary
  python3 bench/bench_fpga.py board-report --board icebreaker --device iCE40UP5K-SG48 \
    --target-mhz 12 --params "R 2 C 2" --dir "$work" --icetime "$fake" > "$work/summary" 2>&1
}
field() { python3 -c "import json,sys; r=json.load(open('$work/report.json')); print(eval(sys.argv[1]))" "$1"; }

# icetime's critical path through a DSP, slower than 12 MHz
printf '        MAC16_25_5_0 (SB_MAC16_MAS_U_16X16_BYPASS) A[15] -> O[16]: 9.680 ns\nTotal path delay: 86.48 ns (11.56 MHz)\n' > "$work/path"
report; rc=$?
check "a DSP path over the period fails the build (exit 1)" [ "$rc" -eq 1 ]
check "... and says NOT MET" grep -q "NOT MET" "$work/summary"
check "... Fmax is icetime's 11.56" [ "$(field 'r["fmax_mhz"]')" = "11.56" ]
check "... nextpnr's 13.74 is kept beside it" [ "$(field 'r["fmax_nextpnr_mhz"]')" = "13.74" ]
check "... the path is through a DSP" [ "$(field 'r["sta"]["dsp_on_path"]')" = "True" ]

# icetime's critical path within the period
printf 'Total path delay: 75.82 ns (13.19 MHz)\n' > "$work/path"
report; rc=$?
check "within the period: exit 0" [ "$rc" -eq 0 ]
check "... and says met" grep -q "target 12 MHz met" "$work/summary"
check "... Fmax is the lower one, 13.19" [ "$(field 'r["fmax_mhz"]')" = "13.19" ]
check "... timing_met" [ "$(field 'r["timing_met"]')" = "True" ]

# icetime faster than nextpnr: nextpnr's Fmax stands
printf 'Total path delay: 70.00 ns (14.29 MHz)\n' > "$work/path"
report; rc=$?
check "icetime faster than nextpnr: Fmax 13.74" [ "$rc" -eq 0 -a "$(field 'r["fmax_mhz"]')" = "13.74" ]

# icetime without a result
printf 'icetime: something went wrong\n' > "$work/path"
report; rc=$?
check "icetime without a path: exit 1" [ "$rc" -eq 1 ]
check "... and the message names icetime's log" grep -q "icetime.log" "$work/summary"

exit $fail
