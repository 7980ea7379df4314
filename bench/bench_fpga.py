#!/usr/bin/env python3
"""make bench-fpga: what the PAL8 number format buys in silicon.

Builds the PE-comparison harness (rtl/pe_cmp/pal_pe_cmp_harness.v) for
PAL8, INT8 and FP8 E4M3 processing elements on the iCE40UP5K-SG48 (Yosys
synth_ice40 with and without -dsp, nextpnr-ice40), measures the largest
array of each that places and routes, and collects the board builds of
`make bitstream` (build/boards/<board>/report.json). Prints a table and
writes build/bench/fpga.json in the shape of docs/conventions (bench,
commit, machine, results[]).

Synthesis and place-and-route results are cached under build/fpga/pe_cmp,
keyed by a hash of the sources and the command, so a rerun only redoes
what changed. One tool runs at a time (the machines are shared).
"""
import argparse
import hashlib
import json
import os
import platform
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PE_TYPES = {"pal8": 0, "int8": 1, "fp8": 2}
PE_MODULE = {"pal8": ("pal_pe", ["rtl/pal_pe.v", "rtl/pal_pe_prod.v"]),
             "int8": ("pal_pe_int8", ["rtl/pe_cmp/pal_pe_int8.v"]),
             "fp8": ("pal_pe_fp8", ["rtl/pe_cmp/pal_pe_fp8.v"])}
HARNESS_SRCS = ["rtl/pal_pe.v", "rtl/pal_pe_prod.v", "rtl/pe_cmp/pal_pe_int8.v",
                "rtl/pe_cmp/pal_pe_fp8.v", "rtl/pe_cmp/pal_pe_cmp_harness.v"]
PCF = "constraints/pe_cmp_up5k.pcf"
# Place-and-route target for the comparison: high enough that nextpnr
# optimises for speed; the achieved Fmax is what is reported.
PNR_FREQ_MHZ = 40
UP5K_LC = 5280
# bump when the timing analysis of a build changes (cached results redone)
STA_KEY = "icetime-dsp-2"
# Largest-array candidates, largest first (PEs = R x C). Every PE holds one
# EBR (30 on the UP5K) and INT8 with -dsp one SB_MAC16 (8).
SWEEP = {
    ("pal8", False): [(6, 5), (7, 4), (6, 4), (5, 4), (4, 4)],
    ("int8", False): [(5, 4), (4, 4), (4, 3), (4, 2), (2, 2)],
    ("int8", True): [(4, 2), (3, 2), (2, 2)],
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def digest(paths, extra):
    h = hashlib.sha256(extra.encode())
    for p in paths:
        with open(os.path.join(ROOT, p), "rb") as f:
            h.update(p.encode() + b"\0" + f.read())
    return h.hexdigest()[:16]


def run(cmd, logfile):
    with open(logfile, "w") as f:
        return subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT).returncode


def icetime_sta(icetime, asc, device, mhz, logfile):
    """The second timing analysis of an iCE40 build: icetime as
    scripts/icetime-dsp.sh builds it, which times an SB_MAC16 with its
    registers bypassed as the combinational logic it is. nextpnr-ice40 times
    every SB_MAC16 port as a register of the cell's (here constant) clock, so
    its Fmax leaves out register -> DSP -> register paths (docs/boards.md,
    "Timing through the DSPs"). Returns {fmax_mhz, critical_path_ns,
    dsp_on_path} or {error}."""
    rc = run([icetime, "-d", device, "-c", "%g" % mhz, "-t", asc], logfile)
    with open(logfile) as f:
        text = f.read()
    m = re.search(r"Total path delay: ([0-9.]+) ns \(([0-9.]+) MHz\)", text)
    if not m:
        return {"error": "icetime found no path (exit status %d), see %s" % (rc, logfile)}
    return {"fmax_mhz": float(m.group(2)), "critical_path_ns": float(m.group(1)),
            "dsp_on_path": "SB_MAC16" in text[:m.start()]}


class Flow:
    def __init__(self, build, gen, icetime):
        self.out = os.path.join(build, "fpga", "pe_cmp")
        self.gen = gen
        self.icetime = icetime
        os.makedirs(os.path.join(ROOT, self.out), exist_ok=True)

    def cached(self, name, key):
        meta = os.path.join(ROOT, self.out, name + ".meta.json")
        if os.path.exists(meta):
            with open(meta) as f:
                m = json.load(f)
            if m.get("key") == key:
                return m
        return None

    def save(self, name, m):
        with open(os.path.join(ROOT, self.out, name + ".meta.json"), "w") as f:
            json.dump(m, f, indent=1)
        return m

    def synth(self, name, top, srcs, params, dsp):
        """synth_ice40 -> netlist JSON and cell counts."""
        chp = "".join("chparam -set %s %d %s; " % (k, v, top) for k, v in params.items())
        script = ("read_verilog -sv -I%s %s; %ssynth_ice40 %s-top %s -json %s/%s.json; "
                  "tee -q -o %s/%s.stat.json stat -json"
                  % (self.gen, " ".join(srcs), chp, "-dsp " if dsp else "", top,
                     self.out, name, self.out, name))
        key = digest(srcs + PE_MODULE["pal8"][1], script)
        m = self.cached(name + ".synth", key)
        if m:
            return m
        log("bench-fpga: yosys %s" % name)
        rc = run(["yosys", "-q", "-p", script], os.path.join(ROOT, self.out, name + ".yosys.log"))
        if rc != 0:
            raise SystemExit("bench-fpga: yosys failed for %s, see %s/%s.yosys.log"
                             % (name, self.out, name))
        with open(os.path.join(ROOT, self.out, name + ".stat.json")) as f:
            cells = json.load(f)["design"]["num_cells_by_type"]
        g = lambda pre: sum(v for t, v in cells.items() if t.startswith(pre))
        return self.save(name + ".synth", {"key": key, "lut4": g("SB_LUT4"), "carry": g("SB_CARRY"),
                                           "ff": g("SB_DFF"), "ebr": g("SB_RAM40_4K"),
                                           "dsp": g("SB_MAC16")})

    def pack_only(self, name, key):
        m = self.cached(name + ".pack", key)
        if m:
            return m
        log("bench-fpga: nextpnr --pack-only %s" % name)
        logf = os.path.join(ROOT, self.out, name + ".pack.log")
        run(["nextpnr-ice40", "--up5k", "--package", "sg48", "--pack-only",
             "--json", "%s/%s.json" % (self.out, name)], logf)
        with open(logf) as f:
            mm = re.findall(r"ICESTORM_LC:\s*(\d+)/", f.read())
        return self.save(name + ".pack", {"key": key, "lc": int(mm[-1]) if mm else None})

    def pnr(self, name, key):
        """nextpnr-ice40 on the SG48 with the harness pins: fits? LCs, Fmax."""
        m = self.cached(name + ".pnr", key)
        if m:
            return m
        log("bench-fpga: nextpnr-ice40 %s" % name)
        report = "%s/%s.report.json" % (self.out, name)
        if os.path.exists(os.path.join(ROOT, report)):
            os.remove(os.path.join(ROOT, report))
        logf = os.path.join(ROOT, self.out, name + ".pnr.log")
        asc = "%s/%s.asc" % (self.out, name)
        rc = run(["nextpnr-ice40", "--up5k", "--package", "sg48", "--pcf", PCF,
                  "--freq", str(PNR_FREQ_MHZ), "--timing-allow-fail", "--seed", "1",
                  "--json", "%s/%s.json" % (self.out, name), "--report", report, "--asc", asc], logf)
        res = {"key": key, "fits": False, "lc": None, "ebr": None, "dsp": None, "fmax_mhz": None}
        if rc == 0 and os.path.exists(os.path.join(ROOT, report)):
            with open(os.path.join(ROOT, report)) as f:
                r = json.load(f)
            u = r["utilization"]
            # Fmax: the lower of nextpnr's and icetime's, which also times
            # the paths through bypassed DSPs (icetime_sta)
            fmax_pnr = round(min(v["achieved"] for v in r["fmax"].values()), 2)
            sta = icetime_sta(self.icetime, os.path.join(ROOT, asc), "up5k", PNR_FREQ_MHZ,
                              os.path.join(ROOT, self.out, name + ".icetime.log"))
            if "error" in sta:
                raise SystemExit("bench-fpga: %s" % sta["error"])
            res.update(fits=True, lc=u["ICESTORM_LC"]["used"], ebr=u["ICESTORM_RAM"]["used"],
                       dsp=u.get("ICESTORM_DSP", {}).get("used", 0), fmax_nextpnr_mhz=fmax_pnr,
                       fmax_icetime_mhz=round(sta["fmax_mhz"], 2), dsp_on_critical_path=sta["dsp_on_path"],
                       fmax_mhz=round(min(fmax_pnr, sta["fmax_mhz"]), 2))
            os.remove(os.path.join(ROOT, asc))
        else:
            with open(logf) as f:
                errs = [l.strip() for l in f if "ERROR" in l]
            res["error"] = errs[-1] if errs else "nextpnr exit status %d" % rc
        return self.save(name + ".pnr", res)

    def array(self, pe, r, c, dsp):
        name = "%s_%dx%d%s" % (pe, r, c, "_dsp" if dsp else "")
        s = self.synth(name, "pal_pe_cmp_harness", HARNESS_SRCS,
                       {"PE_TYPE": PE_TYPES[pe], "R": r, "C": c}, dsp)
        p = self.pnr(name, s["key"] + PCF + str(PNR_FREQ_MHZ) + digest([PCF], "") + STA_KEY)
        if not p["fits"]:
            p = dict(p, lc_packed=self.pack_only(name, s["key"])["lc"])
        return s, p

    def lone_pe(self, pe, dsp):
        top, srcs = PE_MODULE[pe]
        name = "%s_lone%s" % (pe, "_dsp" if dsp else "")
        s = self.synth(name, top, srcs, {}, dsp)
        return s, self.pack_only(name, s["key"])


def commit():
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def machine():
    cpu = platform.processor() or "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d cpus, %s" % (os.cpu_count() or 0, cpu)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--gen", default="build/gen")
    ap.add_argument("--json", default="build/bench/fpga.json")
    ap.add_argument("--no-sweep", action="store_true", help="skip the largest-array search")
    ap.add_argument("--boards-only", action="store_true",
                    help="only the board builds' table (from make bitstream's reports)")
    ap.add_argument("--icetime", default="build/tools/icetime-dsp/icetime",
                    help="icetime as scripts/icetime-dsp.sh builds it")
    a = ap.parse_args()
    flow = Flow(a.build, a.gen, os.path.join(ROOT, a.icetime))
    results = []

    def add(metric, value, unit, params, target=None):
        r = {"metric": metric, "value": value, "unit": unit, "params": params}
        if target:
            r["target"] = target
        results.append(r)

    if not a.boards_only:
        pe_comparison(a, flow, add)
    board_table(a, add)

    os.makedirs(os.path.dirname(os.path.join(ROOT, a.json)), exist_ok=True)
    with open(os.path.join(ROOT, a.json), "w") as f:
        json.dump({"bench": "fpga", "commit": commit(), "machine": machine(),
                   "results": results}, f, indent=1)
    print("\nwrote %s" % a.json)


def sta_params(p):
    """A placed build's two timing analyses, for the JSON."""
    return {"fmax_nextpnr_mhz": p.get("fmax_nextpnr_mhz"), "fmax_icetime_mhz": p.get("fmax_icetime_mhz"),
            "dsp_on_critical_path": p.get("dsp_on_critical_path")}


def pe_comparison(a, flow, add):
    # ---- 4x4 arrays, with and without DSP inference --------------------------
    rows = {}
    print("PE comparison: 4x4 array in the same few-pin harness, iCE40UP5K-SG48, "
          "nextpnr-ice40 --freq %d" % PNR_FREQ_MHZ)
    print("(Fmax: the lower of nextpnr's and icetime's, which times paths through bypassed DSPs)")
    print("%-6s %-4s %6s %6s %6s %4s %4s %9s %8s  %s" % ("PE", "dsp", "LUT4", "CARRY", "FF",
                                                     "EBR", "DSP", "LC(pnr)", "Fmax", "one PE (LC, packed)"))
    for pe in PE_TYPES:
        for dsp in (False, True):
            s, p = flow.array(pe, 4, 4, dsp)
            lone_s, lone_p = flow.lone_pe(pe, dsp)
            rows[(pe, dsp)] = (s, p, lone_p)
            lc = p["lc"] if p["fits"] else None
            print("%-6s %-4s %6d %6d %6d %4d %4d %9s %8s  %s" % (
                pe, "yes" if dsp else "no", s["lut4"], s["carry"], s["ff"], s["ebr"], s["dsp"],
                lc if lc is not None else "(%s)" % p.get("lc_packed"),
                "%.2f" % p["fmax_mhz"] if p["fits"] else "no fit", lone_p["lc"]))
            prm = {"pe": pe, "array": "4x4", "dsp": dsp, "device": "up5k-sg48"}
            add("pe_array_lut4", s["lut4"], "cells", prm)
            add("pe_array_ff", s["ff"], "cells", prm)
            add("pe_array_dsp", s["dsp"], "cells", prm)
            add("pe_array_ebr", s["ebr"], "cells", prm)
            add("pe_array_fits", 1 if p["fits"] else 0, "bool", prm)
            if p["fits"]:
                add("pe_array_lc", p["lc"], "cells", prm)
                add("pe_array_fmax", p["fmax_mhz"], "MHz", dict(prm, **sta_params(p)))
            else:
                add("pe_array_lc_packed", p.get("lc_packed"), "cells", prm)
            add("pe_lc_one", lone_p["lc"], "cells", dict(prm, array="1x1 (out of context)"))
    print("  LC(pnr) in parentheses: the array did not place on the UP5K; LC count after packing")

    # ---- ratios (no DSPs) --------------------------------------------------
    def lc_of(pe):
        s, p, _ = rows[(pe, False)]
        return p["lc"] if p["fits"] else p.get("lc_packed")
    print()
    for other, tgt in (("int8", 0.6), ("fp8", 0.5)):
        for what, num, den in (("array LC", lc_of("pal8"), lc_of(other)),
                               ("one PE LC", rows[("pal8", False)][2]["lc"], rows[(other, False)][2]["lc"])):
            if num and den:
                ratio = num / den
                print("PAL8 / %-4s %-10s %6d / %6d = %.3f  (target <= %.1f: %s)" % (
                    other, what, num, den, ratio, tgt, "met" if ratio <= tgt else "MISSED"))
                add("pal8_lc_ratio", round(ratio, 4), "ratio",
                    {"vs": other, "dsp": False, "what": what.replace(" ", "_")},
                    {"op": "<=", "value": tgt})
        fp, fo = rows[("pal8", False)][1]["fmax_mhz"], rows[(other, False)][1]["fmax_mhz"]
        if fp and fo:
            print("PAL8 / %-4s Fmax       %6.2f / %6.2f MHz (target: equal or higher: %s)" % (
                other, fp, fo, "met" if fp >= fo else "MISSED"))
            add("pal8_fmax_ratio", round(fp / fo, 4), "ratio", {"vs": other, "dsp": False},
                {"op": ">=", "value": 1.0})

    # ---- largest arrays that place and route -------------------------------
    if not a.no_sweep:
        print()
        print("Largest array that places and routes on the UP5K (peak = PEs x Fmax MAC/s)")
        peaks = {}
        for (pe, dsp), cands in SWEEP.items():
            best = None
            for r, c in cands:
                s, p = flow.array(pe, r, c, dsp)
                if p["fits"]:
                    best = (r, c, s, p)
                    break
            if not best:
                print("%-6s dsp=%-3s none of %s fits" % (pe, "yes" if dsp else "no", cands))
                continue
            r, c, s, p = best
            peak = r * c * p["fmax_mhz"] * 1e6
            print("%-6s dsp=%-3s %dx%d = %2d PEs  LC %4d/%d  EBR %2d  DSP %d  Fmax %6.2f MHz  "
                  "peak %.2f GMAC/s" % (pe, "yes" if dsp else "no", r, c, r * c, p["lc"], UP5K_LC,
                                         p["ebr"], p["dsp"], p["fmax_mhz"], peak / 1e9))
            if p.get("dsp_on_critical_path"):
                print("  (%s with DSPs: nextpnr %.2f MHz, icetime %.2f MHz on a path through a DSP)"
                      % (pe, p["fmax_nextpnr_mhz"], p["fmax_icetime_mhz"]))
            prm = {"pe": pe, "dsp": dsp, "array": "%dx%d" % (r, c), "device": "up5k-sg48"}
            add("largest_array_pes", r * c, "PEs", prm)
            add("largest_array_lc", p["lc"], "cells", prm)
            add("largest_array_fmax", p["fmax_mhz"], "MHz", dict(prm, **sta_params(p)))
            add("largest_array_peak_macs", peak, "MAC/s", prm)
            peaks[pe] = max(peaks.get(pe, 0.0), peak)
        if peaks.get("pal8") and peaks.get("int8"):
            r = peaks["pal8"] / peaks["int8"]
            print("peak MAC/s, largest PAL8 array / largest INT8 array (best of -dsp or not): %.2f" % r)
            add("largest_array_peak_ratio", round(r, 4), "ratio", {"vs": "int8", "device": "up5k-sg48"})



def board_table(a, add):
    # ---- board builds (make bitstream BOARD=...) -----------------------------
    print()
    print("Board builds (make bitstream BOARD=<board>; build/boards/<board>/report.json)")
    print("%-11s %-20s %-5s %-18s %-14s %-10s %-8s %8s %8s %-7s %s" % (
        "board", "device", "tile", "logic", "FF", "BRAM", "DSP", "Fmax", "target", "timing",
        "peak at target"))
    for board in ("icebreaker", "ulx3s", "orangecrab"):
        rp = os.path.join(ROOT, a.build, "boards", board, "report.json")
        if not os.path.exists(rp):
            print("%-11s not built (run make bitstream BOARD=%s)" % (board, board))
            continue
        with open(rp) as f:
            r = json.load(f)
        used, avail = r.get("used", {}), r.get("available", {})

        def cell(*names):
            for k in names:
                if k in used:
                    return "%d/%d (%d%%)" % (used[k], avail[k], round(100.0 * used[k] / avail[k]))
            return "-"
        pes = 1
        for k in ("R", "C"):
            pes *= int(r.get("params", {}).get(k, 0) or 0)
        peak = pes * r["target_mhz"] * 1e6 if r.get("placed") and r.get("timing_met") else None
        print("%-11s %-20s %-5s %-18s %-14s %-10s %-8s %8s %8s %-7s %s" % (
            board, r.get("device"), r.get("array"), cell("ICESTORM_LC", "TRELLIS_COMB"),
            cell("TRELLIS_FF") if "TRELLIS_FF" in used else "-",
            cell("ICESTORM_RAM", "DP16KD"), cell("ICESTORM_DSP", "MULT18X18D"),
            "%.2f" % r["fmax_mhz"] if r.get("fmax_mhz") is not None else "-",
            "%.2f" % r["target_mhz"],
            ("met" if r.get("timing_met") else "MISSED") if r.get("placed") else "no fit",
            "%.2f GMAC/s" % (peak / 1e9) if peak else "-"))
        prm = {"board": board, "device": r.get("device"), "array": r.get("array"),
               "core_clock_mhz": r.get("target_mhz")}
        for k, v in sorted(used.items()):
            add("board_used_" + k.lower(), v, "cells", dict(prm, available=avail.get(k)))
        add("board_placed", 1 if r.get("placed") else 0, "bool", prm)
        add("board_target_mhz", r.get("target_mhz"), "MHz", prm)
        if r.get("fmax_mhz") is not None:
            add("board_fmax", r["fmax_mhz"], "MHz", prm, {"op": ">=", "value": r["target_mhz"]})
        add("board_timing_met", 1 if r.get("timing_met") else 0, "bool", prm)
        if peak:
            add("board_peak_macs", peak, "MAC/s", prm)
        if board == "icebreaker" and r.get("lc_fraction") is not None:
            add("board_lc_fraction", r["lc_fraction"], "ratio", prm, {"op": "<=", "value": 0.9})
    print("  (target: the board's core clock, from its PLL or oscillator; peak = PEs x target clock, one MAC "
          "per PE per cycle)")
    # the iCEBreaker's tile alone, packed (make fpga-fit-tile), and the same
    # tile without accumulate units (make fpga-fit-tile-raw), where they ran
    for stem, target, metric, note in (
            ("tile", "fpga-fit-tile", "icebreaker_tile_alone_lcs", "pal_tile alone, no link"),
            ("tile-raw", "fpga-fit-tile-raw", "icebreaker_tile_raw_alone_lcs",
             "pal_tile alone without accumulate units (raw block sums), no link")):
        log_path = os.path.join(ROOT, a.build, "fpga", "fit", stem + "-nextpnr.log")
        if not os.path.exists(log_path):
            continue
        m = re.search(r"ICESTORM_LC:\s+(\d+)/\s*(\d+)", open(log_path).read())
        if m:
            used, avail = int(m.group(1)), int(m.group(2))
            print("iCEBreaker %s (make %s): %d of %d LCs (%.0f %%)"
                  % ("tile alone" if stem == "tile" else "tile alone without accumulate units", target,
                     used, avail, 100.0 * used / avail))
            add(metric, used, "cells", {"board": "icebreaker", "available": avail, "note": note})


def board_report(argv):
    """make bitstream's check: utilisation and Fmax from nextpnr's --report
    JSON (or, when placement failed, the utilisation lines of its log) into
    report.json; exit status 1 unless it placed and met the target clock."""
    ap = argparse.ArgumentParser(prog="bench_fpga.py board-report")
    ap.add_argument("--board", required=True)
    ap.add_argument("--device", required=True)
    ap.add_argument("--target-mhz", type=float, required=True)
    ap.add_argument("--params", default="")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--icetime", help="iCE40: icetime as scripts/icetime-dsp.sh builds it")
    ap.add_argument("--icetime-device", default="up5k")
    a = ap.parse_args(argv)
    kv = a.params.split()
    params = dict(zip(kv[0::2], kv[1::2]))
    out = {"board": a.board, "device": a.device, "params": params,
           "array": "%sx%s" % (params.get("R", "?"), params.get("C", "?")),
           "target_mhz": a.target_mhz, "used": {}, "available": {}, "fmax_mhz": None,
           "placed": False, "timing_met": False}
    rp = os.path.join(a.dir, "nextpnr.json")
    if os.path.exists(rp):
        with open(rp) as f:
            r = json.load(f)
        for k, v in r.get("utilization", {}).items():
            if v["used"]:
                out["used"][k] = v["used"]
                out["available"][k] = v["available"]
        # every clock against its own constraint (nextpnr derives a PLL
        # output's from the input pin's FREQUENCY) and the core clock, the
        # slowest one, against the board's target
        clocks = r.get("fmax", {})
        out["clocks"] = {k: {"achieved": round(v["achieved"], 2), "constraint": round(v.get("constraint", 0.0), 2)}
                         for k, v in clocks.items()}
        fm = [v["achieved"] for v in clocks.values()]
        out["fmax_mhz"] = round(min(fm), 2) if fm else None
        out["placed"] = True
        out["timing_met"] = bool(fm) and min(fm) >= a.target_mhz and \
            all(v["achieved"] >= v.get("constraint", 0.0) for v in clocks.values())
        if a.icetime:
            # nextpnr-ice40 does not time the paths through bypassed DSPs:
            # icetime does (icetime_sta), and the lower Fmax is the build's
            sta = icetime_sta(a.icetime, os.path.join(a.dir, "pal_%s.asc" % a.board), a.icetime_device,
                              a.target_mhz, os.path.join(a.dir, "icetime.log"))
            out["sta"] = dict(sta, tool="icetime (scripts/icetime-dsp.sh: SB_MAC16 bypass paths timed)")
            out["fmax_nextpnr_mhz"] = out["fmax_mhz"]
            if "error" in sta:
                out["timing_met"] = False
                out["summary_note"] = sta["error"]
            else:
                out["fmax_mhz"] = round(min(out["fmax_mhz"], sta["fmax_mhz"]), 2)
                out["timing_met"] = out["timing_met"] and sta["fmax_mhz"] >= a.target_mhz
    else:  # placement failed: the log's utilisation table says by how much
        with open(os.path.join(a.dir, "nextpnr.log")) as f:
            for m in re.finditer(r"Info:\s+(\w+):\s+(\d+)/\s*(\d+)", f.read()):
                if int(m.group(2)):
                    out["used"][m.group(1)] = int(m.group(2))
                    out["available"][m.group(1)] = int(m.group(3))
    lc = "ICESTORM_LC" if "ICESTORM_LC" in out["used"] else "TRELLIS_COMB"
    if lc in out["used"]:
        out["lc_fraction"] = round(out["used"][lc] / out["available"][lc], 4)
    util = ", ".join("%s %d/%d" % (k, out["used"][k], out["available"][k])
                     for k in sorted(out["used"]) if not k.endswith("_IO") and k != "SB_IO")
    if not out["placed"]:
        verdict = "DOES NOT FIT"
    elif out["timing_met"]:
        verdict = "Fmax %.2f MHz, target %.0f MHz met" % (out["fmax_mhz"], a.target_mhz)
    else:
        verdict = "Fmax %.2f MHz, target %.0f MHz NOT MET" % (out["fmax_mhz"] or 0, a.target_mhz)
    if "sta" in out and "error" not in out["sta"]:
        verdict += " (nextpnr %.2f MHz, icetime %.2f MHz%s)" % (
            out["fmax_nextpnr_mhz"], out["sta"]["fmax_mhz"],
            ", its critical path through a DSP" if out["sta"]["dsp_on_path"] else "")
    elif "summary_note" in out:
        verdict += "; " + out["summary_note"]
    out["summary"] = "%s %s tile %s: %s; %s" % (a.board, a.device, out["array"], util, verdict)
    with open(os.path.join(a.dir, "report.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("bitstream: " + out["summary"])
    return 0 if out["placed"] and out["timing_met"] else 1


def fit_study(argv):
    """make fpga-fit: where the iCEBreaker SoC's cells go. Reads the
    `stat -json` of a hierarchical (synth_ice40 -noflatten) run and prints,
    per instance down to --depth levels, the cells of the instance and
    everything under it, with the estimated logic cells (an iCE40 LC holds
    one LUT4, one carry and one flip-flop: LCs >= max(LUT4, CARRY, DFF); the
    packer's count after placement is higher where they cannot pair)."""
    ap = argparse.ArgumentParser(prog="bench_fpga.py fit-study")
    ap.add_argument("--stat", required=True)
    ap.add_argument("--netlist", required=True, help="the hierarchical Yosys JSON (for instance names)")
    ap.add_argument("--top", default="pal_icebreaker")
    ap.add_argument("--depth", type=int, default=5)
    ap.add_argument("--json", required=True)
    a = ap.parse_args(argv)
    with open(a.stat) as f:
        text = f.read()
    # Yosys 0.23's `stat -json` on a hierarchy appends a text tree after
    # the modules object, inside the JSON: read the modules object alone
    start = text.index("{", text.index('"modules"'))
    stat, _ = json.JSONDecoder().raw_decode(text[start:])
    with open(a.netlist) as f:
        mods = json.load(f)["modules"]
    strip = lambda n: n.lstrip("\\")
    stat = {strip(k): v for k, v in stat.items()}
    mods = {strip(k): v for k, v in mods.items()}

    def kind(t):
        if t.startswith("SB_LUT4"):
            return "lut4"
        if t == "SB_CARRY":
            return "carry"
        if t.startswith("SB_DFF"):
            return "dff"
        if t.startswith("SB_RAM40"):
            return "ebr"
        if t.startswith("SB_SPRAM"):
            return "spram"
        if t.startswith("SB_MAC16"):
            return "dsp"
        return "other"
    memo = {}

    def total(m):
        if m in memo:
            return memo[m]
        t = {"lut4": 0, "carry": 0, "dff": 0, "ebr": 0, "spram": 0, "dsp": 0, "other": 0}
        for cname, cell in mods[m]["cells"].items():
            ct = strip(cell["type"])
            if ct in stat:  # a module of the design (the cell library's are not in stat)
                for k, v in total(ct).items():
                    t[k] += v
            else:
                t[kind(ct)] += 1
        memo[m] = t
        return t

    def lcs(t):
        return max(t["lut4"], t["carry"], t["dff"])
    rows = []

    def walk(m, path, level):
        t = total(m)
        rows.append((path, m, t, level))
        if level >= a.depth:
            return
        subs = [(strip(n), strip(c["type"])) for n, c in mods[m]["cells"].items() if strip(c["type"]) in stat]
        for n, ct in sorted(subs, key=lambda x: -lcs(total(x[1]))):
            walk(ct, path + "." + n, level + 1)
    walk(a.top, a.top, 0)
    whole = lcs(total(a.top))
    print("%-58s %7s %6s %6s %5s %5s %7s" % ("instance", "LUT4", "CARRY", "DFF", "EBR", "DSP", "LC est"))
    out = []
    for path, m, t, level in rows:
        if level and lcs(t) < 0.005 * whole and t["ebr"] == 0:
            continue
        mod = next((p for p in m.split("\\") if p.startswith("pal_")), m)
        name = "  " * level + path.split(".")[-1] + ("" if level == 0 else " (%s)" % mod)
        print("%-58s %7d %6d %6d %5d %5d %7d" % (name[:58], t["lut4"], t["carry"], t["dff"], t["ebr"],
                                                  t["dsp"], lcs(t)))
        out.append({"instance": path, "module": m, "cells": t, "lc_estimate": lcs(t)})
    with open(a.json, "w") as f:
        json.dump({"top": a.top, "up5k_lc": UP5K_LC, "up5k_ebr": 30, "instances": out}, f, indent=1)
    print("wrote %s" % a.json)
    return 0


def read_flat_netlist(path, top):
    """A flattened Yosys JSON: the top's cells, the name of each net bit
    (the public name with the fewest generated parts), the cell driving
    each net bit and each cell's input (port, bit) pairs."""
    with open(path) as f:
        mod = json.load(f)["modules"][top]
    name = {}
    for n, v in mod["netnames"].items():
        for b in v["bits"]:
            if isinstance(b, int) and (b not in name or n.count("$") < name[b].count("$")):
                name[b] = n
    driver, inputs = {}, {}
    for cn, c in mod["cells"].items():
        dirs = c.get("port_directions", {})
        for port, bits in c["connections"].items():
            for b in bits:
                if not isinstance(b, int):
                    continue
                if dirs.get(port) == "output":
                    driver[b] = cn
                else:
                    inputs.setdefault(cn, []).append((port, b))
    return mod["cells"], name, driver, inputs


def pack_study(argv):
    """make fpga-pack: which flip-flops of the flattened iCEBreaker netlist
    cannot share a logic cell with a LUT. An iCE40 LC has one output, the
    LUT's or the flip-flop's, so a flip-flop packs with the LUT that drives
    its D only when that LUT drives nothing else; every other flip-flop (D
    from a LUT with more loads, from a RAM, another flip-flop, a constant)
    takes an LC of its own, as nextpnr-ice40's packer does it. Grouped by
    the instance path of the flip-flop's output signal."""
    ap = argparse.ArgumentParser(prog="bench_fpga.py pack-study")
    ap.add_argument("--netlist", required=True, help="the flattened Yosys JSON of make bitstream")
    ap.add_argument("--top", default="pal_icebreaker")
    ap.add_argument("--depth", type=int, default=4, help="instance levels to group by")
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--json", required=True)
    a = ap.parse_args(argv)
    cells, name, drv, inputs = read_flat_netlist(a.netlist, a.top)
    driver = {b: cells[cn]["type"] for b, cn in drv.items()}
    loads = {}
    for pins in inputs.values():
        for _, b in pins:
            loads[b] = loads.get(b, 0) + 1
    ffs = alone = 0
    reasons, groups = {}, {}
    for c in cells.values():
        if not c["type"].startswith("SB_DFF"):
            continue
        ffs += 1
        d = c["connections"]["D"][0]
        if not isinstance(d, int):
            why = "constant"
        elif driver.get(d) == "SB_LUT4":
            if loads.get(d, 0) == 1:
                continue
            why = "LUT with other loads"
        else:
            why = "from %s" % driver.get(d, "a port")
        alone += 1
        reasons[why] = reasons.get(why, 0) + 1
        q = c["connections"]["Q"][0]
        path = re.sub(r"\[[0-9]+\]", "", name.get(q, "?")).split(".")
        key = ".".join(path[:-1][:a.depth]) or "(top)"
        g = groups.setdefault(key, {"ffs_alone": 0, "signals": {}})
        g["ffs_alone"] += 1
        g["signals"][path[-1]] = g["signals"].get(path[-1], 0) + 1
    print("flip-flops: %d, of which %d cannot share an LC with their LUT" % (ffs, alone))
    for why, n in sorted(reasons.items(), key=lambda x: -x[1]):
        print("  %6d  %s" % (n, why))
    print("%-44s %6s  %s" % ("instance", "alone", "largest signals"))
    rows = sorted(groups.items(), key=lambda x: -x[1]["ffs_alone"])
    for key, g in rows[:a.rows]:
        top = sorted(g["signals"].items(), key=lambda x: -x[1])[:3]
        print("%-44s %6d  %s" % (key[:44], g["ffs_alone"], ", ".join("%s %d" % (n[:24], k) for n, k in top)))
    with open(a.json, "w") as f:
        json.dump({"top": a.top, "flip_flops": ffs, "flip_flops_alone": alone, "reasons": reasons,
                   "instances": [{"instance": k, **g} for k, g in rows]}, f, indent=1)
    print("wrote %s" % a.json)
    return 0


def depth_study(argv):
    """make fpga-depth: how many LUTs deep the logic between registers is,
    per instance, in the flattened iCEBreaker netlist. A register-to-register
    path on the UP5K takes about 3.6 ns per LUT level at this density
    (nextpnr's critical path: 72.8 ns over 20 LUTs and a few carries), so a
    clock of F MHz allows about 1000 / (3.6 F) levels: 11 at 24 MHz. Lists,
    per instance of the path's end, the endpoints deeper than --levels and
    the deepest one's path by signal name. Sources and ends are flip-flops,
    RAMs, DSPs and pins; a carry stage counts a quarter of a level; a DSP
    with bypassed registers ends one path and starts another (its own
    delay is icetime's to time, scripts/icetime-dsp.sh)."""
    ap = argparse.ArgumentParser(prog="bench_fpga.py depth-study")
    ap.add_argument("--netlist", required=True, help="the flattened Yosys JSON of make bitstream")
    ap.add_argument("--top", default="pal_icebreaker")
    ap.add_argument("--levels", type=float, default=11.0, help="report endpoints deeper than this")
    ap.add_argument("--depth", type=int, default=4, help="instance levels to group by")
    ap.add_argument("--json", required=True)
    a = ap.parse_args(argv)
    cells, name, driver, inputs = read_flat_netlist(a.netlist, a.top)
    weight = {"SB_LUT4": 1.0, "SB_CARRY": 0.25}
    # arrival in levels at each net, and the net it came through
    arrival = {}

    def arrive(net):
        stack = [net]
        while stack:
            n = stack[-1]
            if n in arrival:
                stack.pop()
                continue
            cn = driver.get(n)
            if cn is None or cells[cn]["type"] not in weight:
                arrival[n] = (0.0, None)
                stack.pop()
                continue
            ins = [b for p, b in inputs.get(cn, []) if not (cells[cn]["type"] == "SB_CARRY" and p == "I0")]
            todo = [b for b in ins if b not in arrival]
            if todo:
                stack.extend(todo)
                continue
            best = max(ins, key=lambda b: arrival[b][0], default=None)
            arrival[n] = ((arrival[best][0] if best is not None else 0.0) + weight[cells[cn]["type"]], best)
            stack.pop()
    clock_ports = {"C", "CLK", "RCLK", "WCLK", "CLOCK", "CLKHF", "REFERENCECLK"}
    ends = []
    for cn, c in cells.items():
        if c["type"] in weight:
            continue
        for port, b in inputs.get(cn, []):
            if port in clock_ports:
                continue
            arrive(b)
            ends.append((arrival[b][0], cn, port, b))
    ends.sort(key=lambda e: -e[0])

    def path_of(net):
        names, n = [], net
        while n is not None:
            sig = re.sub(r"_SB_(LUT4|CARRY|DFF\w*)_.*$", "", name.get(n, "?"))
            if sig and not sig.startswith("$") and (not names or names[-1] != sig):
                names.append(sig)
            n = arrival.get(n, (0, None))[1]
        return list(reversed(names))

    groups = {}
    for lv, cn, port, b in ends:
        if lv <= a.levels:
            break
        q = cells[cn]["connections"].get("Q", [None])[0]
        label = name.get(q, cn) if isinstance(q, int) else cn
        path = re.sub(r"\[[0-9]+\]", "", label).split(".")
        key = ".".join(path[:-1][:a.depth]) or "(top)"
        g = groups.setdefault(key, {"endpoints": 0, "max_levels": lv, "deepest": None})
        g["endpoints"] += 1
        if g["deepest"] is None:
            g["deepest"] = {"end": "%s.%s" % (cn, port), "levels": lv, "path": path_of(b)}
    deeper = sum(g["endpoints"] for g in groups.values())
    print("register-to-register logic depth, %s: %d of %d endpoints deeper than %g LUT levels "
          "(deepest %.2f)" % (a.top, deeper, len(ends), a.levels, ends[0][0] if ends else 0))
    print("%-44s %9s %6s  %s" % ("instance of the end", "endpoints", "levels", "deepest path (signals)"))
    rows = sorted(groups.items(), key=lambda x: -x[1]["max_levels"])
    for key, g in rows:
        p = g["deepest"]["path"]
        short = " > ".join(x.split(".")[-1] for x in (p if len(p) <= 6 else p[:3] + ["~"] + p[-2:]))
        print("%-44s %9d %6.2f  %s" % (key[:44], g["endpoints"], g["max_levels"], short[:110]))
    with open(a.json, "w") as f:
        json.dump({"top": a.top, "levels": a.levels, "endpoints": len(ends), "deeper": deeper,
                   "instances": [{"instance": k, **g} for k, g in rows]}, f, indent=1)
    print("wrote %s" % a.json)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "board-report":
        sys.exit(board_report(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "fit-study":
        sys.exit(fit_study(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "pack-study":
        sys.exit(pack_study(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "depth-study":
        sys.exit(depth_study(sys.argv[2:]))
    main()
