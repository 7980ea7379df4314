// Post-processing of one FP32 output (pal-format.md §4, pal_postprocess):
// optional post-bias (one binary32 addition with the accumulator's rules,
// the bias first passed through pal_fp32_start), then ReLU or clip, then
// NaR out as the quiet NaN 0x7FC00000 with o_nar set. NaR never becomes a
// number: a NaR input skips the bias and the activation.
//
// As the golden model, also for inputs the datapath never produces but the
// host can write into ACC: without a bias the value passes through the
// adder unchanged (pal_fp32_add's i_pass: adding -0 would flush a
// subnormal), and ReLU is
// !(x > 0) -> +0 as in C, so a NaN that is not NaR becomes +0.
//
// Configuration (i_bias_en, i_act, i_clip_lo, i_clip_hi) is static while
// elements are in flight: i_bias_en is sampled on input, the activation
// fields 3 cycles later. i_act: 0 none, 1 ReLU, 2 clip (pal_activation_t).
//
// Pipeline: latency 4 (3 in pal_fp32_add, 1 activation), one element per
// cycle; o_ready = ~o_valid | i_ready as in pal_fp32_acc. The activation
// stage is evaluated only for a valid sum, for simulation speed (see
// pal_fp32_add).
//
// EXT_ADD = 1: no adder of its own, the bias addition is an adder outside
// (o_add_* its inputs, o_add_en its i_en, i_add_* its outputs), as in
// pal_fp32_acc; EXT_ADD = 0 leaves those ports unused.
`default_nettype none

module pal_post #(
    parameter TAG_W = 1,
    parameter EXT_ADD = 0
) (
    input  wire             i_clk,
    input  wire             i_rst,
    input  wire             i_bias_en,
    input  wire [1:0]       i_act,
    input  wire [31:0]      i_clip_lo,
    input  wire [31:0]      i_clip_hi,
    input  wire             i_valid,
    output wire             o_ready,
    input  wire [31:0]      i_acc,
    input  wire             i_nar,
    input  wire [31:0]      i_bias,
    input  wire [TAG_W-1:0] i_tag,
    output reg              o_valid,
    input  wire             i_ready,
    output reg  [31:0]      o_data,
    output reg              o_nar,
    output reg  [TAG_W-1:0] o_tag,
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
    /* verilator lint_on UNUSEDSIGNAL */
);

  localparam [1:0] ACT_RELU = 2'd1;
  localparam [1:0] ACT_CLIP = 2'd2;
  localparam [31:0] FP32_NAR = 32'h7FC0_0000;

  wire advance = ~o_valid | i_ready;
  assign o_ready = advance;

  // ---- bias: acc + start(bias), or acc itself when there is none ----------
  wire [31:0] bias_value;
  wire        bias_nar;
  pal_fp32_start bias_start (
      .i_bias (i_bias),
      .o_value(bias_value),
      .o_nar  (bias_nar)
  );

  // a NaR input skips the bias; adding it anyway changes nothing (NaR out)
  wire add_en = i_bias_en;
  wire nar_in = i_nar | (add_en & bias_nar);
  // i_pass needs a zero beside the value it passes through
  wire [31:0] addend = add_en ? bias_value : 32'h8000_0000;

  wire             sum_valid;
  wire [31:0]      sum;
  wire             sum_nar;
  wire [TAG_W:0]   side;

  assign o_add_en = advance;
  assign o_add_valid = i_valid;
  assign o_add_a = i_acc;
  assign o_add_b = addend;
  assign o_add_pass = ~add_en;
  assign o_add_side = {i_tag, nar_in};

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
      .o_valid    (sum_valid),
      .o_sum      (sum),
      .o_nar      (sum_nar),
      .o_side     (side)
  );

  // ---- activation -------------------------------------------------------------
  // a < b as C floats: false when either is NaN, -0 == +0
  function automatic fp32_lt(input [31:0] a, input [31:0] b);
    reg nan, mag_lt, mag_eq, both_zero;
    begin
      nan = (&a[30:23] & (|a[22:0])) | (&b[30:23] & (|b[22:0]));
      mag_lt = a[30:0] < b[30:0];
      mag_eq = a[30:0] == b[30:0];
      both_zero = (a[30:0] == 31'd0) & (b[30:0] == 31'd0);
      case ({a[31], b[31]})
        2'b00:   fp32_lt = mag_lt;
        2'b11:   fp32_lt = ~mag_lt & ~mag_eq;
        2'b10:   fp32_lt = ~both_zero;
        default: fp32_lt = 1'b0;
      endcase
      fp32_lt = fp32_lt & ~nan;
    end
  endfunction

  // ReLU: !(x > 0) -> +0 (also -0 -> +0). Clip: if (x < lo) x = lo;
  // if (x > hi) x = hi; in that order, so hi wins when lo > hi.
  function automatic [31:0] activate(input [31:0] x, input nar, input [1:0] act,
                                     input [31:0] lo, input [31:0] hi);
    reg below_lo, above_hi, take_hi, take_lo, take_zero;
    begin
      below_lo = fp32_lt(x, lo);
      above_hi = below_lo ? fp32_lt(hi, lo) : fp32_lt(hi, x);
      take_hi = (act == ACT_CLIP) & above_hi;
      take_lo = (act == ACT_CLIP) & below_lo & ~above_hi;
      // !(x > 0): negative, zero or NaN
      take_zero = (act == ACT_RELU)
                & (x[31] | (x[30:0] == 31'd0) | (&x[30:23] & (|x[22:0])));
      activate = nar ? FP32_NAR : take_hi ? hi : take_lo ? lo : take_zero ? 32'd0 : x;
    end
  endfunction

  // (the adder raises no NaR for an input it passes through)
  wire        nar = side[0] | sum_nar;

  always @(posedge i_clk) begin
    if (i_rst) begin
      o_valid <= 1'b0;
    end else if (advance) begin
      o_valid <= sum_valid;
    end
    if (advance && sum_valid) begin
      o_data <= activate(sum, nar, i_act, i_clip_lo, i_clip_hi);
      o_nar <= nar;
      o_tag <= side[TAG_W:1];
    end
  end

endmodule

`default_nettype wire
