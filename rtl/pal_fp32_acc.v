// FP32 accumulate unit (pal-format.md §3, pal_fp32_accumulate): adds one
// block sum s (22-bit two's complement) scaled by 2^e to a running FP32
// accumulator, with e = Ew + Ea - 15 = Xw + Xa - 269 formed by the caller.
// NaR of the block comes in with i_nar: the caller ORs in pal_pe's o_nar
// (which covers a weight scale of 255) and an activation scale of 255.
//
//   s = 0 or |t| < FLT_MIN   -> acc unchanged
//   |t| > FLT_MAX            -> acc unchanged, NaR
//   otherwise                -> acc + t, one binary32 addition (RNE),
//                               subnormal result -> signed zero, inf -> NaR
//
// t = s * 2^e is exact in binary32 (|s| < 2^24). A skipped block is added as
// -0, which leaves every non-subnormal acc unchanged (the accumulator never
// holds a subnormal: pal_fp32_start and every addition flush them).
//
// Pipeline: latency 4 (1 stage forms t, 3 in pal_fp32_add), one block per
// cycle. o_ready = ~o_valid | i_ready: the whole pipe stalls while the
// output is held; tie i_ready high for a fixed-latency pipe. i_tag travels
// with the data (e.g. the accumulator-memory address to write back).
`default_nettype none

module pal_fp32_acc #(
    parameter TAG_W = 1
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
    output wire [TAG_W-1:0] o_tag
);

  wire advance = ~o_valid | i_ready;
  assign o_ready = advance;

  // ---- stage 1: t = s * 2^e as binary32 ------------------------------------
  wire        neg = i_sum[21];
  wire [21:0] mag = neg ? 22'd0 - i_sum : i_sum;  // 2^21 fits unsigned

  // Normalise |s|: shift left until bit 21 is set, in five stages that
  // count the zeros; the leading one is then at bit 21 - zeros.
  reg [21:0] mag_norm;
  reg [4:0]  zeros;
  always @* begin
    mag_norm = mag;
    zeros = 5'd0;
    if (mag_norm[21:6] == 16'd0) begin
      mag_norm = {mag_norm[5:0], 16'd0};
      zeros[4] = 1'b1;
    end
    if (mag_norm[21:14] == 8'd0) begin
      mag_norm = {mag_norm[13:0], 8'd0};
      zeros[3] = 1'b1;
    end
    if (mag_norm[21:18] == 4'd0) begin
      mag_norm = {mag_norm[17:0], 4'd0};
      zeros[2] = 1'b1;
    end
    if (mag_norm[21:20] == 2'd0) begin
      mag_norm = {mag_norm[19:0], 2'd0};
      zeros[1] = 1'b1;
    end
    if (!mag_norm[21]) begin
      mag_norm = {mag_norm[20:0], 1'd0};
      zeros[0] = 1'b1;
    end
  end

  // Biased exponent of t: (21 - zeros) + e + 127, signed, 12 bits is plenty.
  wire signed [11:0] t_exp = $signed({{2{i_exp[9]}}, i_exp}) + 12'sd148 - $signed({7'd0, zeros});
  wire t_skip = (mag == 22'd0) | (t_exp < 12'sd1);
  wire t_over = ~t_skip & (t_exp > 12'sd254);
  wire [31:0] t_bits = (t_skip | t_over) ? 32'h8000_0000
                                          : {neg, t_exp[7:0], mag_norm[20:0], 2'b00};

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
    if (advance) begin
      s0_acc <= i_acc;
      s0_t <= t_bits;
      s0_nar <= i_nar;
      s0_skip <= t_skip;
      s0_over <= t_over;
      s0_tag <= i_tag;
    end
  end

  // ---- stages 2-4: the addition ---------------------------------------------
  wire [TAG_W+2:0] side_out;
  wire             add_nar;

  pal_fp32_add #(
      .SIDE_W(TAG_W + 3)
  ) adder (
      .i_clk(i_clk),
      .i_rst(i_rst),
      .i_en(advance),
      .i_valid(s0_valid),
      .i_a(s0_acc),
      .i_b(s0_t),
      .i_side({s0_tag, s0_nar, s0_skip, s0_over}),
      .o_valid(o_valid),
      .o_sum(o_acc),
      .o_nar(add_nar),
      .o_side(side_out)
  );

  wire side_nar = side_out[2];
  wire side_skip = side_out[1];
  wire side_over = side_out[0];
  // A skipped block never raises NaR, even when acc itself is infinite.
  assign o_nar = side_nar | side_over | (add_nar & ~side_skip);
  assign o_tag = side_out[TAG_W+2:3];

endmodule

`default_nettype wire
