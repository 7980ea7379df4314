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

field() { python3 -c "import json,sys; r=json.load(open('$work/report.json')); print(eval(sys.argv[1]))" "$1"; }

# case WHAT ICETIME-OUTPUT RC SUMMARY-TEXT FMAX TIMING-MET: make bitstream's
# report of the build above with that icetime output
case_() {
  local what=$1 out=$2 want_rc=$3 text=$4 fmax=$5 met=$6 rc
  printf '%b' "$out" > "$work/path"
  python3 bench/bench_fpga.py board-report --board icebreaker --device iCE40UP5K-SG48 \
    --target-mhz 12 --params "R 2 C 2" --dir "$work" --icetime "$fake" > "$work/summary" 2>&1
  rc=$?
  check "$what: exit $want_rc" [ "$rc" -eq "$want_rc" ]
  check "$what: the summary says '$text'" grep -q "$text" "$work/summary"
  check "$what: Fmax $fmax" [ "$(field 'r["fmax_mhz"]')" = "$fmax" ]
  check "$what: timing_met $met" [ "$(field 'r["timing_met"]')" = "$met" ]
}

case_ "a path through a DSP over the period" \
  '        MAC16_25_5_0 (SB_MAC16_MAS_U_16X16_BYPASS) A[15] -> O[16]: 9.680 ns\nTotal path delay: 86.48 ns (11.56 MHz)\n' \
  1 "NOT MET" 11.56 False
check "... nextpnr's 13.74 is kept beside it" [ "$(field 'r["fmax_nextpnr_mhz"]')" = "13.74" ]
check "... the path is through a DSP" [ "$(field 'r["sta"]["dsp_on_path"]')" = "True" ]
case_ "icetime within the period, below nextpnr" 'Total path delay: 75.82 ns (13.19 MHz)\n' \
  0 "target 12 MHz met" 13.19 True
case_ "icetime faster than nextpnr" 'Total path delay: 70.00 ns (14.29 MHz)\n' \
  0 "target 12 MHz met" 13.74 True
case_ "icetime without a result" 'icetime: something went wrong\n' \
  1 "icetime.log" 13.74 False

exit $fail
