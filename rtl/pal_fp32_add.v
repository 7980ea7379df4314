// One IEEE-754 binary32 addition with the PAL accumulator's rules
// (pal-format.md §3): round to nearest even, a subnormal result flushes to a
// zero of its sign, a non-finite result raises o_nar. Shared by the FP32
// accumulate unit and the post-processing unit.
//
// Pipeline: 3 stages, o_* follow i_* by 3 enabled cycles. i_en advances every
// stage at once (tie it high for a fixed-latency pipe). i_side travels with
// the operands untouched.
//
// Subnormal inputs are added exactly (not needed by the golden flow, which
// never produces them, but cheap and it makes the unit a plain IEEE adder).
// NaN results (a NaN input, inf - inf) come out as the quiet NaN 0x7FC00000
// with o_nar set; the golden flow never reaches them.
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
    input  wire [SIDE_W-1:0] i_side,
    output wire              o_valid,
    output wire [31:0]       o_sum,
    output wire              o_nar,
    output wire [SIDE_W-1:0] o_side
);

  // ---- stage 1: classify, order by magnitude, align the smaller -----------
  wire a_max_exp = &i_a[30:23];
  wire b_max_exp = &i_b[30:23];
  wire a_nan = a_max_exp & (|i_a[22:0]);
  wire b_nan = b_max_exp & (|i_b[22:0]);
  wire a_inf = a_max_exp & ~(|i_a[22:0]);
  wire b_inf = b_max_exp & ~(|i_b[22:0]);
  wire nan_in = a_nan | b_nan | (a_inf & b_inf & (i_a[31] ^ i_b[31]));
  wire inf_in = ~nan_in & (a_inf | b_inf);
  wire inf_sign = a_inf ? i_a[31] : i_b[31];

  // x is the operand of larger magnitude (finite bit patterns order like
  // their magnitudes); on equal magnitudes either order gives the same sum.
  wire        a_ge = i_a[30:0] >= i_b[30:0];
  wire [31:0] x = a_ge ? i_a : i_b;
  wire [31:0] y = a_ge ? i_b : i_a;
  wire        x_sub = x[30:23] == 8'd0;  // subnormal or zero: 2^-126 scale
  wire        y_sub = y[30:23] == 8'd0;
  wire [7:0]  xe = {x[30:24], x[23] | x_sub};
  wire [7:0]  ye = {y[30:24], y[23] | y_sub};
  wire [23:0] xm = {~x_sub, x[22:0]};
  wire [23:0] ym = {~y_sub, y[22:0]};
  wire [7:0]  exp_diff = xe - ye;  // >= 0
  // Shifts of 27 or more leave nothing but sticky; 31 stands for all of them.
  wire [4:0]  shift = (|exp_diff[7:5]) ? 5'd31 : exp_diff[4:0];

  // y's significand with guard, round and sticky bits, shifted right in
  // five stages; each stage folds what it shifts out into the sticky bit.
  reg [26:0] y_shr;
  reg        y_sticky;
  always @* begin
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
  end

  reg         s1_valid;
  reg [SIDE_W-1:0] s1_side;
  reg         s1_nan, s1_inf, s1_inf_sign;
  reg         s1_sign, s1_sub;
  reg [7:0]   s1_exp;
  reg [23:0]  s1_xm;
  reg [26:0]  s1_y;

  always @(posedge i_clk) begin
    if (i_rst) begin
      s1_valid <= 1'b0;
    end else if (i_en) begin
      s1_valid <= i_valid;
    end
    if (i_en) begin
      s1_side <= i_side;
      s1_nan <= nan_in;
      s1_inf <= inf_in;
      s1_inf_sign <= inf_sign;
      s1_sign <= x[31];
      s1_sub <= x[31] ^ y[31];
      s1_exp <= xe;
      s1_xm <= xm;
      s1_y <= {y_shr[26:1], y_shr[0] | y_sticky};
    end
  end

  // ---- stage 2: add or subtract ---------------------------------------------
  // Layout of the 28-bit sum: [27] carry, [26:3] significand, [2:0] G R S.
  // x - y = x + ~y + 1: the extra low bit carries the +1 in.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [28:0] sum_ext = {1'b0, s1_xm, 3'b000, 1'b1} + {{1'b0, s1_y} ^ {28{s1_sub}}, s1_sub};
  /* verilator lint_on UNUSEDSIGNAL */
  wire [27:0] sum = sum_ext[28:1];

  reg         s2_valid;
  reg [SIDE_W-1:0] s2_side;
  reg         s2_nan, s2_inf, s2_inf_sign;
  reg         s2_sign, s2_sub;
  reg [7:0]   s2_exp;
  reg [27:0]  s2_sum;

  always @(posedge i_clk) begin
    if (i_rst) begin
      s2_valid <= 1'b0;
    end else if (i_en) begin
      s2_valid <= s1_valid;
    end
    if (i_en) begin
      s2_side <= s1_side;
      s2_nan <= s1_nan;
      s2_inf <= s1_inf;
      s2_inf_sign <= s1_inf_sign;
      s2_sign <= s1_sign;
      s2_sub <= s1_sub;
      s2_exp <= s1_exp;
      s2_sum <= sum;
    end
  end

  // ---- stage 3: normalise, round to nearest even, pack --------------------
  // Left shift until bit 27 is set, in five stages that count the zeros.
  // With 3 extra bits the shift is only ever > 2 for exact results
  // (effective subtraction of operands at most one binade apart).
  reg [27:0] norm;
  reg [4:0]  lead_zeros;
  always @* begin
    norm = s2_sum;
    lead_zeros = 5'd0;
    if (norm[27:12] == 16'd0) begin
      norm = {norm[11:0], 16'd0};
      lead_zeros[4] = 1'b1;
    end
    if (norm[27:20] == 8'd0) begin
      norm = {norm[19:0], 8'd0};
      lead_zeros[3] = 1'b1;
    end
    if (norm[27:24] == 4'd0) begin
      norm = {norm[23:0], 4'd0};
      lead_zeros[2] = 1'b1;
    end
    if (norm[27:26] == 2'd0) begin
      norm = {norm[25:0], 2'd0};
      lead_zeros[1] = 1'b1;
    end
    if (!norm[27]) begin
      norm = {norm[26:0], 1'd0};
      lead_zeros[0] = 1'b1;
    end
  end

  // norm[27] is the leading one (unless the sum is 0); below it the fraction,
  // then guard and sticky.
  wire [22:0] frac = norm[26:4];
  wire        guard = norm[3];
  wire        sticky = |norm[2:0];
  wire        round_up = guard & (sticky | frac[0]);
  // A carry out of the fraction leaves 1.000... of the next binade: the
  // fraction bits are 0 then, and the exponent goes up by one.
  wire [23:0] frac_rounded = {1'b0, frac} + {23'd0, round_up};
  // Biased exponent of the leading bit: exp + 1 - lz, then +1 on a carry.
  // Signed, 10 bits: -26 .. 256.
  wire signed [9:0] exp_norm = $signed({2'b00, s2_exp}) + 10'sd1 - $signed({5'd0, lead_zeros});
  wire signed [9:0] exp_final = exp_norm + $signed({9'd0, frac_rounded[23]});
  wire [22:0] frac_final = frac_rounded[22:0];

  wire sum_zero = s2_sum == 28'd0;
  wire overflow = exp_final > 10'sd254;
  wire underflow = exp_final < 10'sd1;

  reg [31:0] result;
  reg        result_nar;
  always @* begin
    result_nar = 1'b0;
    if (s2_nan) begin
      result = 32'h7FC0_0000;
      result_nar = 1'b1;
    end else if (s2_inf) begin
      result = {s2_inf_sign, 8'hFF, 23'd0};
      result_nar = 1'b1;
    end else if (sum_zero) begin
      // x + (-x) = +0 under round-to-nearest; (-0) + (-0) = -0.
      result = {s2_sign & ~s2_sub, 31'd0};
    end else if (overflow) begin
      result = {s2_sign, 8'hFF, 23'd0};
      result_nar = 1'b1;
    end else if (underflow) begin
      result = {s2_sign, 31'd0};  // subnormal result: flush, keep the sign
    end else begin
      result = {s2_sign, exp_final[7:0], frac_final};
    end
  end

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
    if (i_en) begin
      s3_side <= s2_side;
      s3_sum <= result;
      s3_nar <= result_nar;
    end
  end

  assign o_valid = s3_valid;
  assign o_sum = s3_sum;
  assign o_nar = s3_nar;
  assign o_side = s3_side;

endmodule

`default_nettype wire
