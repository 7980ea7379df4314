#!/bin/sh
# Prints make demo's summary table from the key=value lines that
# pal-eval-mnist and pal-eval-cnn append with --summary (the first value of
# a key wins: the full-test-set runs come before the sample runs).
# usage: demo_table.sh SUMMARY_FILE
set -e
[ -r "$1" ] || { echo "demo_table.sh: cannot read '$1'" >&2; exit 1; }
awk -F= '
  !($1 in v) { v[$1] = $2 }
  function g(k) { return (k in v) ? v[k] : "-" }
  function pct(k) { return (k in v) ? sprintf("%.2f %%", v[k]) : "-" }
  function saved(m, t) {   # zero activations walked over without a cycle, as a share of the cycles they would have cost
    if (!((m ".tile_emu_" t ".act_skipped_per_image") in v)) return "-"
    a = v[m ".tile_emu_" t ".act_skipped_per_image"]; c = v[m ".tile_emu_" t ".cycles_per_image"]
    return sprintf("%.0f (%.1f %%)", a, 100 * a / (a + c))
  }
  END {
    printf "\n==== make demo: Fashion-MNIST test set, FP32 vs PAL8-B32 ====\n\n"
    printf "%-5s %-17s %-17s %-6s %-21s %s\n", "model", "FP32 (cpu)", "PAL8-B32 emu://", "diff", "placement", "tile sim:// (Verilated SoC), sample"
    split("mlp cnn", models, " ")
    for (i = 1; i <= 2; i++) {
      m = models[i]
      f = v[m ".fp32.accuracy"]; fn = g(m ".fp32.images")
      if (m == "mlp") { q = v["mlp.tile_emu_4x4.accuracy"]; qn = g("mlp.tile_emu_4x4.images")
                        s = g("mlp.tile_sim_4x4.accuracy"); sn = g("mlp.tile_sim_4x4.images"); sd = g("mlp.tile_sim_4x4.bit_diffs") " logits differ from the golden model" }
      else            { q = v["cnn.pal_provider_emu.accuracy"]; qn = g("cnn.pal_provider_emu.images")
                        s = g("cnn.pal_provider_sim.accuracy"); sn = g("cnn.pal_provider_sim.images"); sd = g("cnn.cmp_emu_vs_sim.bit_diffs") " logits differ from emu://" }
      printf "%-5s %-17s %-17s %-6s %-21s %s\n", m,
             sprintf("%.2f %% (%s)", f, fn), sprintf("%.2f %% (%s)", q, qn),
             (q != "" && f != "") ? sprintf("%+.2f", q - f) : "-",
             sprintf("%s of %s nodes on pal", g(m ".placement.pal_nodes"), g(m ".placement.nodes")),
             sprintf("%s %% (%s images; %s)", s, sn, sd)
    }
    printf "\nper image on the tile (emu://, tile counters):\n"
    printf "%-5s %-10s %-8s %-10s %-8s %-26s %-26s %s\n", "model", "cyc 4x4", "util", "cyc 8x8", "util", "zero-skip saved 4x4", "zero-skip saved 8x8", "MACS_GATED 4x4"
    for (i = 1; i <= 2; i++) {
      m = models[i]
      printf "%-5s %-10s %-8s %-10s %-8s %-26s %-26s %s\n", m, g(m ".tile_emu_4x4.cycles_per_image"),
             g(m ".tile_emu_4x4.utilisation") " %", g(m ".tile_emu_8x8.cycles_per_image"),
             g(m ".tile_emu_8x8.utilisation") " %", saved(m, "4x4"), saved(m, "8x8"),
             g(m ".tile_emu_4x4.macs_gated_per_image")
    }
    printf "\n(zero-skip saved: ACT_SKIPPED, the zero activation codes (ReLU zeros, background pixels) the walk\n passed without a cycle, and their share of the cycles a dense walk would take; util = CYC_BUSY/CYC_TOTAL)\n"
  }' "$1"
