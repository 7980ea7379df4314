#!/usr/bin/env bash
# Builds icetime (IceStorm's static timing analyser) with the iCE40
# UltraPlus DSP timed as the combinational logic it is when its registers
# are bypassed, into DIR/icetime: `scripts/icetime-dsp.sh DIR`.
#
# Why: Yosys' `synth_ice40 -dsp` maps a multiply (and an add after it) onto
# an SB_MAC16 with every register bypassed, but nextpnr-ice40 0.4 times
# every SB_MAC16 port as a register clocked by the cell's CLK pin, tied to a
# constant here: a path register -> DSP -> register is cut into two
# cross-domain halves that no clock constraint checks, so its Fmax leaves
# such paths out (docs/boards.md, "Timing through the DSPs"). Debian's
# icetime times the bypass modes it has data for (16x16 and 8x8 multiply,
# 16- and 32-bit add) but not the multiply-add that Yosys infers
# (SB_MAC16_MAS_U_16X16_BYPASS, a mode iCEcube2 never characterised), and
# takes that one for a register as well. The build here is the source of
# the installed fpga-icestorm package (the same version, from Debian's
# deb-src) changed by scripts/icetime-dsp-patch.py, which says how.
set -euo pipefail

dir=${1:?usage: icetime-dsp.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)  # apt reads relative Dir:: paths from /etc/apt
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
stamp="$dir/icetime.stamp"
want=$( { dpkg-query -W -f='${Version}' fpga-icestorm 2>/dev/null || echo none
          sha256sum "$self" "$(dirname "$self")/icetime-dsp-patch.py"; } | sha256sum | cut -c1-16)
if [ -x "$dir/icetime" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

ver=$(dpkg-query -W -f='${Version}' fpga-icestorm 2>/dev/null) || {
  echo "icetime-dsp: the Debian package fpga-icestorm is not installed (scripts/install-deps.sh)" >&2; exit 1; }
rm -rf "$dir/src" "$dir/apt"
mkdir -p "$dir/src" "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/apt/sources"
: > "$dir/apt/sources.list"

# deb-src entries for the archives the system's deb entries name (one-line
# and deb822 formats), in a private apt state: the system's is left alone
python3 - "$dir/apt/sources/src.sources" <<'EOF'
import glob, re, sys
out = []
for f in glob.glob("/etc/apt/sources.list") + glob.glob("/etc/apt/sources.list.d/*.list"):
    for line in open(f):
        m = re.match(r"\s*deb\s+(\[[^]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)", line)
        if m and "debian" in m.group(2):
            out.append("Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n" % (m.group(2), m.group(3), m.group(4).strip()))
for f in glob.glob("/etc/apt/sources.list.d/*.sources"):
    for stanza in open(f).read().split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.M))
        if "deb" in fields.get("Types", "").split() and "debian" in fields.get("URIs", ""):
            s = "Types: deb-src\n" + "".join("%s: %s\n" % (k, fields[k]) for k in
                ("URIs", "Suites", "Components", "Signed-By") if k in fields)
            out.append(s)
if not out:
    sys.exit("icetime-dsp: no Debian archive among the apt sources")
open(sys.argv[1], "w").write("\n".join(out))
EOF
apt_opts=(-o Dir::Etc::SourceList="$dir/apt/sources.list" -o Dir::Etc::SourceParts="$dir/apt/sources"
          -o Dir::State::Lists="$dir/apt/lists" -o Dir::Cache="$dir/apt/cache"
          -o APT::Sandbox::User=root)
if ! apt-get "${apt_opts[@]}" update >"$dir/apt/update.log" 2>&1 ||
   ! (cd "$dir/src" && apt-get "${apt_opts[@]}" source --download-only "fpga-icestorm=$ver") >"$dir/apt/source.log" 2>&1; then
  echo "icetime-dsp: could not fetch the source of fpga-icestorm $ver from Debian's deb-src" >&2
  echo "  (is the Debian archive reachable from here?); apt's messages:" >&2
  tail -n 5 "$dir/apt/update.log" "$dir/apt/source.log" >&2
  exit 1
fi
(cd "$dir/src" && dpkg-source --no-check -x ./*.dsc tree) >"$dir/src/extract.log" 2>&1 || {
  echo "icetime-dsp: dpkg-source could not unpack the source:" >&2; tail -5 "$dir/src/extract.log" >&2; exit 1; }

python3 "$(dirname "$self")/icetime-dsp-patch.py" "$dir/src/tree/icetime/icetime.cc"

make -j2 -C "$dir/src/tree/icetime" icetime PREFIX=/usr CHIPDB_SUBDIR=fpga-icestorm/chipdb \
  >"$dir/src/build.log" 2>&1 || { echo "icetime-dsp: the build failed:" >&2; tail -10 "$dir/src/build.log" >&2; exit 1; }

# Self-check on a register -> multiply-add -> register path that Yosys maps
# onto one bypassed SB_MAC16 (nextpnr-ice40 gives such a design about
# 160 MHz, the DSP's clock being a constant): the path this icetime calls
# critical must go through the DSP, from an input to an output, and take
# there at least the multiply's own 9 ns (the slowest arc of Lattice's
# 16x16 multiply bypass is 9.05 ns: an add alone would be about 5).
t="$dir/src/check"
mkdir -p "$t"
cat > "$t/t.v" <<'VERILOG'
module t (input wire clk, input wire i, output wire o);
  reg [47:0] sh;
  reg [31:0] q;
  always @(posedge clk) sh <= {sh[46:0], i};
  wire [31:0] m = (sh[15:0] ^ {16{sh[47]}}) * (sh[31:16] ^ {16{sh[46]}}) + {16'd0, sh[47:32] ^ {16{sh[45]}}};
  always @(posedge clk) q <= m ^ {32{sh[44]}};
  assign o = ^q;
endmodule
VERILOG
{ yosys -q -p "read_verilog $t/t.v; synth_ice40 -dsp -top t -json $t/t.json" &&
  nextpnr-ice40 --up5k --package sg48 --json "$t/t.json" --asc "$t/t.asc" --seed 1 &&
  "$dir/src/tree/icetime/icetime" -d up5k -i -t "$t/t.asc"; } >"$t/check.log" 2>&1 || true
arc=$(grep -Eo '\(SB_MAC16_MAS_U_16X16_BYPASS\) [AB]\[[0-9]+\] -> O\[[0-9]+\]: [0-9.]+ ns' "$t/check.log" |
      awk '{print $(NF-1)}' | sort -n | tail -1)
if [ -z "$arc" ] || ! awk -v d="$arc" 'BEGIN { exit !(d >= 9.0) }'; then
  mkdir -p "$dir/failed" && cp "$t/check.log" "$dir/failed/"
  echo "icetime-dsp: the self-check failed: the critical path of a register -> DSP -> register" >&2
  echo "  design does not go through the DSP's multiply-add, or takes less than the multiply's 9 ns" >&2
  echo "  there (${arc:-no DSP arc}; log: $dir/failed/check.log)" >&2
  exit 1
fi

cp "$dir/src/tree/icetime/icetime" "$dir/icetime"
rm -rf "$dir/src" "$dir/apt"
echo "$want" > "$stamp"
echo "icetime-dsp: built $dir/icetime (fpga-icestorm $ver, SB_MAC16 multiply-add bypass timed)"
