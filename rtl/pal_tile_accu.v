// The FP32 accumulate units (docs/isa.md §1, §4): U = ACC_UNITS instances
// of pal_fp32_acc, unit u serving the PEs p = j*U + u (j < H = ceil(P/U)),
// one PE per cycle, so a hand-off occupies the units for H cycles and the
// U words a slot touches in ACC or BIAS are consecutive (one per bank of
// pal_tile_bankbuf). Each unit keeps the running sums of its H outputs.
//
// A hand-off that begins in cycle b (i_ho_begin, from the walk) runs
//   read phase     b+1+j   slot j: start values read (BIAS or ACC), when
//                          this is the row's first hand-off
//   execute phase  b+2+j   slot j: unit u takes PE j*U+u's hand-off register
//                          (a block: acc (+) s * 2^e into pal_fp32_acc), or
//                          writes the running sum to ACC (a row end)
// and i_xfer (o_xfer) loads the PEs' hand-off registers in b+1. In read
// phase b+1+j o_tab_* address the block table of pal_tile_array (slot j,
// the weight block handed off), whose {NaR flag, scale} of each lane
// arrive with the slot's hand-off registers in execute phase b+2+j. The first
// hand-off of a row starts from the start value (init zero, bias through
// pal_fp32_start, or the ACC word and its NaR flag); later ones from the
// running sum (below). Needs H >= 4.
//
// The running sums live in ACC itself: each unit writes its result to the
// slot's ACC word (NaR as the quiet NaN, the flag beside it) when it
// arrives, four cycles after its execute phase, and a later hand-off of the
// row reads it back in its read phase like a start value. A row end that is
// not the row's first hand-off has nothing left to do; one that is (a row
// with no visited block) writes the start values a cycle after its execute
// phase, from the unit's operand register. The
// two kinds of write never meet: the row end that follows a block hand-off
// is at least H cycles after it, and the next row's first hand-off another
// H. Only a hand-off that begins 4 or 5 cycles after the row's previous one
// reads a slot before (or as) its sum is written: the sum arriving now, or
// the one that arrived in the cycle before (held one cycle), stands in for
// the word read. (An earlier design kept the sums in a queue of H entries
// per unit: 132 flip-flops and as many multiplexer LUTs per unit at H = 4.)
//
// SHARE_ADD = 1: unit 0 has no FP32 adder of its own but uses one outside
// through o_add_* / i_add_* (pal_fp32_acc's EXT_ADD); the tile shares that
// adder with POST, which never runs while a GEMM's blocks are in flight.
`default_nettype none

module pal_tile_accu #(
    parameter P = 16,
    parameter U = 4,
    parameter ACC_DEPTH = 4096,
    parameter BIAS_DEPTH = 1024,
    parameter SHARE_ADD = 0,
    parameter WBW = 8,                                      // weight block index width
    parameter H = (P + U - 1) / U,                          // derived: do not override
    parameter HW = (H > 1) ? $clog2(H) : 1,                 // derived
    parameter AAW = (ACC_DEPTH > 1) ? $clog2(ACC_DEPTH) : 1,   // derived
    parameter BAW = (BIAS_DEPTH > 1) ? $clog2(BIAS_DEPTH) : 1  // derived
) (
    input  wire              i_clk,
    input  wire              i_rst,
    // hand-off begin
    input  wire              i_ho_begin,
    input  wire              i_ho_wb,      // row end: write the running sums back
    input  wire              i_ho_first,   // the row's first hand-off: start values
    input  wire [7:0]        i_ho_ascale,  // activation block scale
    input  wire [AAW-1:0]    i_ho_accrow,  // ACC word of the row's PE 0
    input  wire [BAW-1:0]    i_ho_biasrow, // BIAS word of the row's PE 0
    input  wire [WBW-1:0]    i_ho_wblk,    // weight block of the block handed off
    input  wire [1:0]        i_init,       // of the GEMM
    output wire              o_xfer,
    // read phase: the block table entry of slot o_tab_slot, block o_tab_wblk
    output wire              o_tab_re,
    output wire [HW-1:0]     o_tab_slot,
    output wire [WBW-1:0]    o_tab_wblk,
    input  wire [22*U-1:0]   i_lane_sum,
    input  wire [U-1:0]      i_lane_nar,
    input  wire [8*U-1:0]    i_lane_scale,
    // ACC (values and NaR flags at the same addresses) and BIAS windows
    output wire              o_acc_re,
    output wire [AAW-1:0]    o_acc_raddr,
    output wire [U-1:0]      o_acc_rlane,
    input  wire [32*U-1:0]   i_acc_rdata,
    input  wire [U-1:0]      i_accnar_rdata,
    output wire [U-1:0]      o_acc_we,
    output wire [AAW-1:0]    o_acc_waddr,
    output wire [32*U-1:0]   o_acc_wdata,
    output wire [U-1:0]      o_accnar_wdata,
    output wire              o_bias_re,
    output wire [BAW-1:0]    o_bias_raddr,
    output wire [U-1:0]      o_bias_rlane,
    input  wire [32*U-1:0]   i_bias_rdata,
    // unit 0's adder outside (SHARE_ADD = 1; pal_fp32_acc's o_add_*, i_add_*)
    output wire              o_add_en,
    output wire              o_add_valid,
    output wire [31:0]       o_add_a,
    output wire [31:0]       o_add_b,
    output wire              o_add_pass,
    output wire [HW:0]       o_add_side,
    input  wire              i_add_valid,
    input  wire [31:0]       i_add_sum,
    input  wire              i_add_nar,
    input  wire [HW:0]       i_add_side
);

  /* verilator lint_off UNUSEDPARAM */
  `include "pal_isa.vh"
  /* verilator lint_on UNUSEDPARAM */

  // ---- slot schedule ----------------------------------------------------------
  localparam integer HLAST_I = H - 1;
  localparam [HW-1:0] HLAST = HLAST_I[HW-1:0];
  reg          rd_v, rd_wb, rd_first;
  reg [HW-1:0] rd_j;
  reg [7:0]    rd_ascale;
  reg [AAW-1:0] rd_accrow;
  reg [BAW-1:0] rd_biasrow;
  reg [WBW-1:0] rd_wblk;
  reg          ex_v, ex_wb, ex_first;
  reg [HW-1:0] ex_j;
  reg [7:0]    ex_ascale;
  reg [AAW-1:0] ex_accrow;

  always @(posedge i_clk) begin
    if (i_rst) begin
      rd_v <= 1'b0;
      ex_v <= 1'b0;
    end else begin
      if (i_ho_begin) begin
        rd_v <= 1'b1;
      end else if (rd_v && rd_j == HLAST) begin
        rd_v <= 1'b0;
      end
      ex_v <= rd_v;
    end
    if (i_ho_begin) begin
      rd_j <= {HW{1'b0}};
      rd_wb <= i_ho_wb;
      rd_first <= i_ho_first;
      rd_ascale <= i_ho_ascale;
      rd_accrow <= i_ho_accrow;
      rd_biasrow <= i_ho_biasrow;
      rd_wblk <= i_ho_wblk;
    end else if (rd_v) begin
      rd_j <= rd_j + 1'b1;
    end
    ex_j <= rd_j;
    ex_wb <= rd_wb;
    ex_first <= rd_first;
    ex_ascale <= rd_ascale;
    ex_accrow <= rd_accrow;
  end

  assign o_xfer = rd_v && rd_j == {HW{1'b0}} && !rd_wb;
  assign o_tab_re = rd_v && !rd_wb;
  assign o_tab_slot = rd_j;
  assign o_tab_wblk = rd_wblk;

  // slot j covers PEs j*U .. j*U+U-1 (fewer in the last slot when U does
  // not divide P)
  wire [31:0] rd_pe0 = {{(32 - HW) {1'b0}}, rd_j} * U;
  wire [31:0] ex_pe0 = {{(32 - HW) {1'b0}}, ex_j} * U;
  wire [U-1:0] rd_lanes, ex_lanes;
  genvar u;
  generate
    for (u = 0; u < U; u = u + 1) begin : g_lanes
      assign rd_lanes[u] = rd_pe0 + u < P;
      assign ex_lanes[u] = ex_pe0 + u < P;
    end
  endgenerate

  wire start_read = rd_v & rd_first;
  // ACC is read for the start values (INIT_ACC) and for the running sums
  // of a block hand-off that is not the row's first, except for a slot
  // whose sum is written in the same cycle (the memories promise nothing
  // for a read and a write of one word; the sum is held a cycle instead)
  wire         arr;       // a result arrives (unit 0 serves every slot)
  wire [HW-1:0] arr_tag;
  assign o_acc_re = start_read ? i_init == PAL_ISA_INIT_ACC :
                    rd_v && !rd_wb && !(arr && arr_tag == rd_j);
  assign o_acc_raddr = rd_accrow + rd_pe0[AAW-1:0];
  assign o_acc_rlane = rd_lanes;
  assign o_bias_re = start_read && i_init == PAL_ISA_INIT_BIAS;
  assign o_bias_raddr = rd_biasrow + rd_pe0[BAW-1:0];
  assign o_bias_rlane = rd_lanes;

  // ACC writes: the units' results as they arrive (slot fa_tag), or the
  // start values of a row end that is the row's first hand-off, one cycle
  // after its execute phase, from the unit's operand register (o_add_a)
  // and a NaR bit of its own: the operand multiplexer then has that
  // register as its only load and shares its logic cells (an iCE40 cell
  // has one output)
  wire         wb_first = ex_v && ex_wb && ex_first;
  wire [U-1:0] arr_lanes;
  reg          wbd_v;
  reg [U-1:0]  wbd_lanes;
  reg [AAW-1:0] wbd_addr;
  always @(posedge i_clk) begin
    if (i_rst) wbd_v <= 1'b0;
    else wbd_v <= wb_first;
    wbd_lanes <= ex_lanes;
    wbd_addr <= ex_accrow + ex_pe0[AAW-1:0];
  end
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0]  arr_pe0 = {{(32 - HW) {1'b0}}, arr_tag} * U;
  /* verilator lint_on UNUSEDSIGNAL */
  assign o_acc_we = arr ? arr_lanes : wbd_v ? wbd_lanes : {U{1'b0}};
  assign o_acc_waddr = arr ? ex_accrow + arr_pe0[AAW-1:0] : wbd_addr;
`ifndef SYNTHESIS
  always @(posedge i_clk)
    if (!i_rst && arr && wbd_v)
      $fatal(1, "%m: a result arrived in a row end's write cycle");
`endif

  // ---- the units ----------------------------------------------------------------
  wire a_nar = ex_ascale == 8'd255;

  wire        fa_valid[0:U-1];
  wire [31:0] fa_acc[0:U-1];
  wire        fa_nar[0:U-1];
  wire [HW-1:0] fa_tag[0:U-1];

  generate
    for (u = 0; u < U; u = u + 1) begin : g_unit
      wire [31:0] bias_value;
      wire        bias_nar;
      pal_fp32_start bias_start (
          .i_bias (i_bias_rdata[32*u+:32]),
          .o_value(bias_value),
          .o_nar  (bias_nar)
      );
      // The slot's running sum: the ACC word read in the read phase, or the
      // sum arriving now (a hand-off 4 cycles after the row's previous one)
      // or the one held from the cycle before (5 cycles after), which ACC
      // has not returned yet. A slot's results arrive at least H cycles
      // apart, so a tag match is that slot's newest sum.
      wire [32:0] arriving = {fa_nar[u], fa_acc[u]};
      reg         held_v;
      reg  [HW-1:0] held_tag;
      reg  [32:0] held;
      always @(posedge i_clk) begin
        if (i_rst) held_v <= 1'b0;
        else held_v <= fa_valid[u];
        held_tag <= fa_tag[u];
        held <= arriving;
      end
      wire [32:0] run_sum = (fa_valid[u] && fa_tag[u] == ex_j) ? arriving :
                            (held_v && held_tag == ex_j) ? held :
                            {i_accnar_rdata[u], i_acc_rdata[32*u+:32]};
      assign arr_lanes[u] = fa_valid[u];

      // the slot's operands, evaluated in execute cycles only: the start
      // value on the row's first hand-off, else the running sum; e = Xw +
      // Xa - 269 (pal-format.md §3: Ew + Ea - 15)
      reg [32:0] base;
      reg [9:0]  exponent;
      always @* begin
        base = 33'd0;
        exponent = 10'd0;
        if (ex_v) begin
          if (ex_first) begin
            case (i_init)
              PAL_ISA_INIT_BIAS: base = {bias_nar, bias_value};
              PAL_ISA_INIT_ACC:  base = {i_accnar_rdata[u], i_acc_rdata[32*u+:32]};
              default:           base = 33'd0;
            endcase
          end else begin
            base = run_sum;
          end
          exponent = {2'b00, i_lane_scale[8*u+:8]} + {2'b00, ex_ascale} - 10'd269;
        end
      end

`ifndef SYNTHESIS
      // the slot-indexed running sums that ACC holds: every read of a
      // running sum must find its own slot's newest sum (one arriving in
      // the same cycle is the newest)
      reg [32:0] run_ref[0:H-1];
      wire [32:0] newest = (fa_valid[u] && fa_tag[u] == ex_j) ? arriving : run_ref[ex_j];
      always @(posedge i_clk) begin
        if (fa_valid[u]) run_ref[fa_tag[u]] <= arriving;
        if (!i_rst && ex_v && !ex_first && !ex_wb && ex_lanes[u] &&
            (run_sum[32] != newest[32] || (!run_sum[32] && run_sum[31:0] != newest[31:0])))
          $fatal(1, "%m: slot %0d read a running sum other than its own", ex_j);
      end
`endif

      // unit 0's adder ports reach the tile; the other units' stay inside
      /* verilator lint_off UNUSEDSIGNAL */
      wire          add_en, add_valid, add_pass;
      wire [31:0]   add_a, add_b;
      wire [HW:0]   add_side;
      /* verilator lint_on UNUSEDSIGNAL */
      pal_fp32_acc #(
          .TAG_W  (HW),
          .EXT_ADD((u == 0) ? SHARE_ADD : 0)
      ) unit (
          .i_clk  (i_clk),
          .i_rst  (i_rst),
          .i_valid(ex_v && !ex_wb && ex_lanes[u]),
          /* verilator lint_off PINCONNECTEMPTY */
          .o_ready(),
          /* verilator lint_on PINCONNECTEMPTY */
          .i_acc  (base[31:0]),
          .i_nar  (base[32] | i_lane_nar[u] | a_nar),
          .i_sum  (i_lane_sum[22*u+:22]),
          .i_exp  (exponent),
          .i_tag  (ex_j),
          .o_valid(fa_valid[u]),
          .i_ready(1'b1),
          .o_acc  (fa_acc[u]),
          .o_nar  (fa_nar[u]),
          .o_tag  (fa_tag[u]),
          .o_add_en   (add_en),
          .o_add_valid(add_valid),
          .o_add_a    (add_a),
          .o_add_b    (add_b),
          .o_add_pass (add_pass),
          .o_add_side (add_side),
          .i_add_valid(i_add_valid),
          .i_add_sum  (i_add_sum),
          .i_add_nar  (i_add_nar),
          .i_add_side (i_add_side)
      );
      if (u == 0) begin : g_add0
        assign o_add_en = add_en;
        assign o_add_valid = add_valid;
        assign o_add_a = add_a;
        assign o_add_b = add_b;
        assign o_add_pass = add_pass;
        assign o_add_side = add_side;
      end

      // write-back value: NaR as the quiet NaN, the flag beside it
      reg wbd_nar;
      always @(posedge i_clk) wbd_nar <= base[32];
      wire [32:0] wr = arr ? arriving : {wbd_nar, add_a};
      assign o_acc_wdata[32*u+:32] = wr[32] ? PAL_TILE_FP32_NAR : wr[31:0];
      assign o_accnar_wdata[u] = wr[32];
      if (u == 0) begin : g_arr
        assign arr = fa_valid[0];
        assign arr_tag = fa_tag[0];
      end
    end
  endgenerate

endmodule

`default_nettype wire
