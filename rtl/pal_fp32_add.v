// One IEEE-754 binary32 addition with the PAL accumulator's rules
// (pal-format.md §3): round to nearest even, a subnormal result flushes to a
// zero of its sign, a non-finite result raises o_nar. Shared by the FP32
// accumulate unit (pal_fp32_acc) and the post-processing unit (pal_post).
//
// Pipeline: 3 stages, o_* follow i_* by 3 enabled cycles. i_en advances every
// stage at once (tie it high for a fixed-latency pipe). i_side travels with
// the operands untouched. The stage registers load only with a valid
// operand, so o_sum and o_side are meaningful only while o_valid is set.
//
// Subnormal inputs are added exactly (not needed by the golden flow, which
// never produces them, but cheap and it makes the unit a plain IEEE adder).
// NaN results (a NaN input, inf - inf) come out as the quiet NaN 0x7FC00000
// with o_nar set; the golden flow never reaches them.
//
// i_pass (with i_b a zero of either sign): the result is i_a itself, bit
// for bit (a subnormal, an infinity and a NaN's payload included), with
// o_nar clear. The accumulate unit returns its accumulator unchanged this
// way for a block it skips; the stages carry one bit for it instead of the
// 32-bit operand: a + 0 leaves stages 1 and 2 with a's significand
// unshifted and unrounded (x - 0 = x + ~0 + 1 gives the same sum as x + 0),
// and stage 3 packs a back from its fields. The simulation stops if i_b is
// not a zero.
//
// Why each stage's logic is a function called in the clocked block: a
// Verilated model evaluates all combinational logic of a clock domain every
// cycle, and the tile holds ACC_UNITS of these adders (unit 0's shared with
// POST), idle most of the time. Evaluated only when a stage takes a valid operand, they cost the 4x4
// tile 5 081 host instructions per simulated cycle instead of 6 733 with the
// same stages written as continuous logic. Synthesis gets the same
// function (docs/tile-rtl.md, "Modules", has the cost in logic cells of the
// enabled stage registers).
`default_nettype none

module pal_fp32_add #(
    parameter SIDE_W = 1
) (
    input  wire              i_clk,
    input  wire              i_rst,
    input  wire              i_en,
    input  wire              i_valid,
    input  wire [31:0]       i_a,
    input  wire [31:0]       i_b,
    input  wire              i_pass,
    input  wire [SIDE_W-1:0] i_side,
    output wire              o_valid,
    output wire [31:0]       o_sum,
    output wire              o_nar,
    output wire [SIDE_W-1:0] o_side
);

  // ---- stage 1: classify, order by magnitude, align the smaller ------------
  // {nan, inf, inf_sign, sign, sub, exp[8], xm[24], y[27]}: 64 bits
  function automatic [63:0] align(input [31:0] a, input [31:0] b);
    reg a_max_exp, b_max_exp, a_nan, b_nan, a_inf, b_inf, nan_in, inf_in, inf_sign;
    reg a_ge, x_sub, y_sub;
    reg [31:0] x, y;
    reg [7:0] xe, ye, exp_diff;
    reg [23:0] xm, ym;
    reg [4:0] shift;
    reg [26:0] y_shr;
    reg y_sticky;
    begin
      a_max_exp = &a[30:23];
      b_max_exp = &b[30:23];
      a_nan = a_max_exp & (|a[22:0]);
      b_nan = b_max_exp & (|b[22:0]);
      a_inf = a_max_exp & ~(|a[22:0]);
      b_inf = b_max_exp & ~(|b[22:0]);
      nan_in = a_nan | b_nan | (a_inf & b_inf & (a[31] ^ b[31]));
      inf_in = ~nan_in & (a_inf | b_inf);
      inf_sign = a_inf ? a[31] : b[31];
      // x: the operand of larger magnitude (equal magnitudes: either order)
      a_ge = a[30:0] >= b[30:0];
      x = a_ge ? a : b;
      y = a_ge ? b : a;
      x_sub = x[30:23] == 8'd0;  // subnormal or zero: 2^-126 scale
      y_sub = y[30:23] == 8'd0;
      xe = {x[30:24], x[23] | x_sub};
      ye = {y[30:24], y[23] | y_sub};
      xm = {~x_sub, x[22:0]};
      ym = {~y_sub, y[22:0]};
      exp_diff = xe - ye;
      // shifts of 27 or more leave nothing but sticky; 31 stands for all
      shift = (|exp_diff[7:5]) ? 5'd31 : exp_diff[4:0];
      // y with guard, round and sticky bits, shifted right in five stages,
      // each folding what it shifts out into the sticky bit
      y_shr = {ym, 3'b000};
      y_sticky = 1'b0;
      if (shift[4]) begin
        y_sticky = |y_shr[15:0];
        y_shr = {16'd0, y_shr[26:16]};
      end
      if (shift[3]) begin
        y_sticky = y_sticky | (|y_shr[7:0]);
        y_shr = {8'd0, y_shr[26:8]};
      end
      if (shift[2]) begin
        y_sticky = y_sticky | (|y_shr[3:0]);
        y_shr = {4'd0, y_shr[26:4]};
      end
      if (shift[1]) begin
        y_sticky = y_sticky | (|y_shr[1:0]);
        y_shr = {2'd0, y_shr[26:2]};
      end
      if (shift[0]) begin
        y_sticky = y_sticky | y_shr[0];
        y_shr = {1'd0, y_shr[26:1]};
      end
      align = {nan_in, inf_in, inf_sign, x[31], x[31] ^ y[31], xe, xm,
               y_shr[26:1], y_shr[0] | y_sticky};
    end
  endfunction

  reg              s1_valid;
  reg [SIDE_W-1:0] s1_side;
  reg              s1_nan, s1_inf, s1_inf_sign, s1_sign, s1_sub, s1_pass;
  reg [7:0]        s1_exp;
  reg [23:0]       s1_xm;
  reg [26:0]       s1_y;

`ifndef SYNTHESIS
  always @(posedge i_clk)
    if (!i_rst && i_en && i_valid && i_pass && i_b[30:0] != 31'd0)
      $fatal(1, "%m: i_pass with i_b = %h, not a zero", i_b);
`endif

  always @(posedge i_clk) begin
    if (i_rst) begin
      s1_valid <= 1'b0;
    end else if (i_en) begin
      s1_valid <= i_valid;
    end
    if (i_en && i_valid) begin
      s1_side <= i_side;
      s1_pass <= i_pass;
      {s1_nan, s1_inf, s1_inf_sign, s1_sign, s1_sub, s1_exp, s1_xm, s1_y} <= align(i_a, i_b);
    end
  end

  // ---- stage 2: add or subtract ---------------------------------------------
  // Layout of the 28-bit sum: [27] carry, [26:3] significand, [2:0] G R S;
  // x - y = x + ~y + 1, the extra low bit carries the +1 in.
  function automatic [27:0] add(input [23:0] xm, input [26:0] y, input sub);
    /* verilator lint_off UNUSEDSIGNAL */
    reg [28:0] sum_ext;
    /* verilator lint_on UNUSEDSIGNAL */
    begin
      sum_ext = {1'b0, xm, 3'b000, 1'b1} + {{1'b0, y} ^ {28{sub}}, sub};
      add = sum_ext[28:1];
    end
  endfunction

  reg              s2_valid;
  reg [SIDE_W-1:0] s2_side;
  reg              s2_nan, s2_inf, s2_inf_sign, s2_sign, s2_sub, s2_pass;
  reg [7:0]        s2_exp;
  reg [27:0]       s2_sum;

  always @(posedge i_clk) begin
    if (i_rst) begin
      s2_valid <= 1'b0;
    end else if (i_en) begin
      s2_valid <= s1_valid;
    end
    if (i_en && s1_valid) begin
      s2_side <= s1_side;
      s2_nan <= s1_nan;
      s2_inf <= s1_inf;
      s2_inf_sign <= s1_inf_sign;
      s2_sign <= s1_sign;
      s2_sub <= s1_sub;
      s2_pass <= s1_pass;
      s2_exp <= s1_exp;
      s2_sum <= add(s1_xm, s1_y, s1_sub);
    end
  end

  // ---- stage 3: normalise, round to nearest even, pack --------------------
  // the sum shifted left until bit 27 is set, and the shift
  /* verilator lint_off UNUSEDSIGNAL */
  wire [27:0] s2_norm;  // bit 27: the implicit 1 (or 0 for a zero sum)
  /* verilator lint_on UNUSEDSIGNAL */
  wire [4:0]  s2_zeros;
  pal_norm_lz #(.W(28)) u_norm (
      .i_x    (s2_sum),
      .o_norm (s2_norm),
      .o_zeros(s2_zeros)
  );

  // {nar, result[32]}
  function automatic [32:0] round(input nan, input inf, input inf_sign, input sign, input sub,
                                  input pass, input [7:0] exp, input [27:0] sum,
                                  input [26:0] norm, input [4:0] lead_zeros);
    reg [22:0] frac, frac_final;
    reg guard, sticky, round_up, sum_zero, overflow, underflow;
    reg [23:0] frac_rounded;
    reg signed [9:0] exp_norm, exp_final;
    reg [31:0] result;
    reg result_nar;
    begin
      frac = norm[26:4];
      guard = norm[3];
      sticky = |norm[2:0];
      round_up = guard & (sticky | frac[0]);
      // a carry out of the fraction leaves 1.000... of the next binade
      frac_rounded = {1'b0, frac} + {23'd0, round_up};
      exp_norm = $signed({2'b00, exp}) + 10'sd1 - $signed({5'd0, lead_zeros});
      exp_final = exp_norm + $signed({9'd0, frac_rounded[23]});
      frac_final = frac_rounded[22:0];
      sum_zero = sum == 28'd0;
      // > 254 and < 1 by the bits (a comparison would be a carry chain)
      overflow = ~exp_final[9] & (exp_final[8] | (exp_final[7:0] == 8'hFF));
      underflow = exp_final[9] | (exp_final == 10'sd0);
      result_nar = 1'b0;
      if (pass) begin
        // a + (a zero): the sum is a's significand, unshifted (bit 26 its
        // implicit 1, clear for a subnormal or zero a, whose exponent
        // field is 0 however stage 1 scaled it)
        result = {sign, sum[26] ? exp : 8'd0, sum[25:3]};
      end else if (nan) begin
        result = 32'h7FC0_0000;
        result_nar = 1'b1;
      end else if (inf) begin
        result = {inf_sign, 8'hFF, 23'd0};
        result_nar = 1'b1;
      end else if (sum_zero) begin
        // x + (-x) = +0 under round-to-nearest; (-0) + (-0) = -0
        result = {sign & ~sub, 31'd0};
      end else if (overflow) begin
        result = {sign, 8'hFF, 23'd0};
        result_nar = 1'b1;
      end else if (underflow) begin
        result = {sign, 31'd0};  // subnormal result: flush, keep the sign
      end else begin
        result = {sign, exp_final[7:0], frac_final};
      end
      round = {result_nar, result};
    end
  endfunction

  reg              s3_valid;
  reg [SIDE_W-1:0] s3_side;
  reg [31:0]       s3_sum;
  reg              s3_nar;

  always @(posedge i_clk) begin
    if (i_rst) begin
      s3_valid <= 1'b0;
    end else if (i_en) begin
      s3_valid <= s2_valid;
    end
    if (i_en && s2_valid) begin
      s3_side <= s2_side;
      {s3_nar, s3_sum} <= round(s2_nan, s2_inf, s2_inf_sign, s2_sign, s2_sub, s2_pass, s2_exp,
                                s2_sum, s2_norm[26:0], s2_zeros);
    end
  end

  assign o_valid = s3_valid;
  assign o_sum = s3_sum;
  assign o_nar = s3_nar;
  assign o_side = s3_side;

endmodule

`default_nettype wire
