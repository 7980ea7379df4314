#!/usr/bin/env python3
"""Changes IceStorm's icetime/icetime.cc (Debian 12's fpga-icestorm) so that
it times the SB_MAC16 configurations Yosys' `synth_ice40 -dsp` infers with
every register bypassed; called by scripts/icetime-dsp.sh, which says why.

1. The 16x16 multiply-add bypass (SB_MAC16_MAS_U_16X16_BYPASS) is
   combinational, like the bypass modes icetime already times.
2. Its delays come from the two bypass modes Lattice characterised: C/D
   reach O through the adder (the 32-bit add's arcs from C/D); A/B through
   the multiplier, whose product bit k enters the adder where the add takes
   B[k] (k < 16) or A[k - 16], so an arc A/B -> O[j] is the slowest sum of
   the multiply's arc to O[k] and the add's arc from that input to O[j].
   Each sum counts the pins' own delays twice: it errs on the slow side.
3. A 16x16 configuration whose two output selects take the product itself
   (its adder unused) has the multiply's delays.

Usage: icetime-dsp-patch.py ICETIME_CC"""
import sys

MAS_DELAY = r'''static double mas_16x16_bypass_delay(std::string in_port, std::string out_port)
{
	static std::map<std::pair<std::string, std::string>, double> memo;
	auto key = std::make_pair(in_port, out_port);
	auto it = memo.find(key);
	if (it != memo.end())
		return it->second;
	const char *mul = "SB_MAC16_MUL_U_16X16_BYPASS", *add = "SB_MAC16_ADS_U_32P32_BYPASS";
	double d = 0;
	if (in_port[0] == 'A' || in_port[0] == 'B') {
		for (int k = 0; k < 32; k++) {
			double m = get_delay_up5k(mul, in_port, stringf("O[%d]", k));
			double a = get_delay_up5k(add, k < 16 ? stringf("B[%d]", k) : stringf("A[%d]", k - 16), out_port);
			if (m > 0 && a > 0)
				d = std::max(d, m + a);
		}
	} else {
		d = get_delay_up5k(add, in_port, out_port);
	}
	memo[key] = d;
	return d;
}

'''


def main():
    path = sys.argv[1]
    with open(path) as f:
        s = f.read()

    def replace(old, new):
        nonlocal s
        if s.count(old) != 1:
            sys.exit("icetime-dsp: %s is not the icetime.cc this script changes (looked for %r)"
                     % (path, old[:60]))
        s = s.replace(old, new)

    # 1
    reg = '&& cell_type != "SB_MAC16_ADS_U_16P16_BYPASS" && cell_type != "SB_MAC16_ADS_U_32P32_BYPASS");'
    replace(reg, reg[:-2] + ' && cell_type != "SB_MAC16_MAS_U_16X16_BYPASS");')
    # 3
    mas = '} else if (!mode_8x8 && botuprin && (botlwrin == 2)) {'
    replace(mas, '} else if (!mode_8x8 && botout == 3 &&\n'
                 '\t\t           ((get_dsp_ip_cbit(extra_cells[key].at("TOPOUTPUT_SELECT_1")) << 1) |\n'
                 '\t\t            get_dsp_ip_cbit(extra_cells[key].at("TOPOUTPUT_SELECT_0"))) == 3) {\n'
                 '\t\t\tbasename = "SB_MAC16_MUL_U_16X16";\n'
                 '\t\t' + mas)
    # 2
    replace('\tif (device_type == "up5k" || device_type == "up3k")\n'
            '\t\treturn get_delay_up5k(cell_type, in_port, out_port);\n',
            '\tif (device_type == "up5k" || device_type == "up3k") {\n'
            '\t\tif (cell_type == "SB_MAC16_MAS_U_16X16_BYPASS")\n'
            '\t\t\treturn mas_16x16_bypass_delay(in_port, out_port);\n'
            '\t\treturn get_delay_up5k(cell_type, in_port, out_port);\n'
            '\t}\n')
    anchor = "double get_delay(std::string cell_type, std::string in_port, std::string out_port)\n{"
    if "std::string stringf(" not in s.split(anchor)[0]:
        sys.exit("icetime-dsp: %s defines no stringf before get_delay" % path)
    replace(anchor, MAS_DELAY + anchor)
    with open(path, "w") as f:
        f.write(s)


if __name__ == "__main__":
    main()
