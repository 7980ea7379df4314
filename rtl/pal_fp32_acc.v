// FP32 accumulate unit (pal-format.md §3, pal_fp32_accumulate): adds one
// block sum s (22-bit two's complement) scaled by 2^e to a running FP32
// accumulator, with e = Ew + Ea - 15 = Xw + Xa - 269 formed by the caller.
// NaR of the block comes in with i_nar: the caller ORs in the PE's NaR flag
// (which covers a weight scale of 255) and an activation scale of 255.
//
//   s = 0 or |t| < FLT_MIN   -> acc unchanged
//   |t| > FLT_MAX            -> acc unchanged, NaR
//   otherwise                -> acc + t, one binary32 addition (RNE),
//                               subnormal result -> signed zero, inf -> NaR
//
// t = s * 2^e is exact in binary32 (|s| < 2^24). "Unchanged" is literal: a
// skipped or overflowing block returns i_acc itself, as the golden model
// does, so a subnormal or NaN accumulator that the host wrote into ACC and
// continues from with GEMM init=acc stays as it is (adding -0 would flush a
// subnormal): the adder passes it through (pal_fp32_add's i_pass), so the
// pipeline carries one bit for it, not the accumulator.
//
// Pipeline: latency 4 (1 stage forms t, 3 in pal_fp32_add), one block per
// cycle. o_ready = ~o_valid | i_ready: the whole pipe stalls while the
// output is held; tie i_ready high for a fixed-latency pipe. i_tag travels
// with the data (e.g. the accumulator-memory address to write back). Stage
// 1 is evaluated only for a valid input, for simulation speed (see
// pal_fp32_add).
//
// EXT_ADD = 1: the unit has no adder of its own; stages 2-4 are an adder
// outside that it shares (the tile shares one between its first accumulate
// unit and POST, which never run in the same cycle): o_add_* are that
// adder's inputs (o_add_en its i_en), i_add_* its outputs. EXT_ADD = 0
// leaves those ports unused.
`default_nettype none

module pal_fp32_acc #(
    parameter TAG_W = 1,
    parameter EXT_ADD = 0
) (
    input  wire             i_clk,
    input  wire             i_rst,
    input  wire             i_valid,
    output wire             o_ready,
    input  wire [31:0]      i_acc,
    input  wire             i_nar,
    input  wire [21:0]      i_sum,
    input  wire [9:0]       i_exp,   // signed
    input  wire [TAG_W-1:0] i_tag,
    output wire             o_valid,
    input  wire             i_ready,
    output wire [31:0]      o_acc,
    output wire             o_nar,
    output wire [TAG_W-1:0] o_tag,
    // the adder outside (EXT_ADD = 1)
    output wire             o_add_en,
    output wire             o_add_valid,
    output wire [31:0]      o_add_a,
    output wire [31:0]      o_add_b,
    output wire             o_add_pass,
    output wire [TAG_W:0]   o_add_side,
    input  wire             i_add_valid,
    input  wire [31:0]      i_add_sum,
    input  wire             i_add_nar,
    input  wire [TAG_W:0]   i_add_side
);

  wire advance = ~o_valid | i_ready;
  assign o_ready = advance;

  // ---- stage 1: t = s * 2^e as binary32 ------------------------------------
  wire        in_neg = i_sum[21];
  wire [21:0] in_mag = in_neg ? 22'd0 - i_sum : i_sum;  // 2^21 fits unsigned
  /* verilator lint_off UNUSEDSIGNAL */
  wire [21:0] in_norm;  // bit 21: the implicit 1 (or 0 for s = 0)
  /* verilator lint_on UNUSEDSIGNAL */
  wire [4:0]  in_zeros;
  pal_norm_lz #(.W(22)) u_norm (
      .i_x    (in_mag),
      .o_norm (in_norm),
      .o_zeros(in_zeros)
  );

  // {skip, over, t[32]} from |s| normalised (mag_norm, with its zero count)
  function automatic [33:0] scaled(input neg, input [21:0] mag, input [20:0] mag_norm,
                                   input [4:0] zeros, input [9:0] e);
    reg signed [11:0] t_exp;
    reg t_skip, t_over;
    begin
      // biased exponent of t: (21 - zeros) + e + 127
      t_exp = $signed({{2{e[9]}}, e}) + 12'sd148 - $signed({7'd0, zeros});
      // t_exp < 1 and t_exp > 254 by its bits: Yosys builds a comparison,
      // even with a constant, as a carry chain whose cells hold nothing else
      t_skip = (mag == 22'd0) | t_exp[11] | (t_exp == 12'sd0);
      t_over = ~t_skip & ((t_exp[10:8] != 3'd0) | (t_exp[7:0] == 8'hFF));
      scaled = {t_skip, t_over,
                (t_skip | t_over) ? 32'h8000_0000 : {neg, t_exp[7:0], mag_norm[20:0], 2'b00}};
    end
  endfunction

  reg             s0_valid;
  reg [31:0]      s0_acc, s0_t;
  reg             s0_nar, s0_skip, s0_over;
  reg [TAG_W-1:0] s0_tag;

  always @(posedge i_clk) begin
    if (i_rst) begin
      s0_valid <= 1'b0;
    end else if (advance) begin
      s0_valid <= i_valid;
    end
    // i_acc is taken in every cycle the pipe advances, not only with a
    // block: pal_tile_accu writes a row's start values to ACC from here
    // (o_add_a) a cycle after it offers them, so that its operand
    // multiplexer has this register as its only load and shares its
    // logic cells (an iCE40 cell has one output)
    if (advance) s0_acc <= i_acc;
    if (advance && i_valid) begin
      s0_nar <= i_nar;
      s0_tag <= i_tag;
      {s0_skip, s0_over, s0_t} <= scaled(in_neg, in_mag, in_norm[20:0], in_zeros, i_exp);
    end
  end

  // ---- stages 2-4: the addition ---------------------------------------------
  wire [TAG_W:0]    side_out;
  wire [31:0]       add_sum;
  wire              add_nar;

  wire             add_valid;
  assign o_add_en = advance;
  assign o_add_valid = s0_valid;
  assign o_add_a = s0_acc;
  assign o_add_b = s0_t;
  // a skipped block leaves the accumulator as it is, an overflowing one
  // too but raises NaR: both pass it through the adder (s0_t is then -0,
  // the zero that i_pass needs beside it)
  assign o_add_pass = s0_skip | s0_over;
  assign o_add_side = {s0_tag, s0_nar | s0_over};

  pal_fp32_add_slot #(
      .SIDE_W(TAG_W + 1),
      .EXT   (EXT_ADD)
  ) adder (
      .i_clk      (i_clk),
      .i_rst      (i_rst),
      .i_en       (o_add_en),
      .i_valid    (o_add_valid),
      .i_a        (o_add_a),
      .i_b        (o_add_b),
      .i_pass     (o_add_pass),
      .i_side     (o_add_side),
      .i_ext_valid(i_add_valid),
      .i_ext_sum  (i_add_sum),
      .i_ext_nar  (i_add_nar),
      .i_ext_side (i_add_side),
      .o_valid    (add_valid),
      .o_sum      (add_sum),
      .o_nar      (add_nar),
      .o_side     (side_out)
  );
  assign o_valid = add_valid;

  // a passed-through accumulator raises no NaR of the adder's, even when it
  // is infinite (a skipped block never raises NaR)
  assign o_nar = side_out[0] | add_nar;
  assign o_acc = add_sum;
  assign o_tag = side_out[TAG_W:1];

endmodule

`default_nettype wire
