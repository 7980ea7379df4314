// FP8 E4M3 x E4M3 processing element for the PE area comparison
// (make bench-fpga, docs/boards.md): the MX-style counterpart of
// rtl/pal_pe.v. Same weight memory word {E8M0 block scale, code} in one EBR,
// same step bus, one product register, a block accumulator and hand-off
// register; the cross-block FP32 accumulation is outside, as for PAL8.
//
// E4M3 (OCP FP8): bias 7, no infinities, S.1111.111 is NaN, exponent field
// 0 is subnormal. A value is m * 2^(e - 10) with m = {e != 0, mantissa}
// (4 bits) and e = max(exponent field, 1). The product of two is exact as
// (ma * mb) << (ea + eb - 2) in units of 2^-18: at most 225 << 28 < 2^36,
// so 32 of them fit a 42-bit two's-complement block sum with no rounding
// at all (a fixed-point "exact block accumulator"). NaN in either operand
// sets the block's sticky NaR flag, as for PAL8; scale byte 255 marks a
// NaN block.
`default_nettype none

module pal_pe_fp8 #(
    parameter WDEPTH = 256,
    parameter AW = $clog2(WDEPTH)       // derived: do not override
) (
    input  wire          i_clk,
    input  wire          i_rst,
    input  wire          i_w_we,
    input  wire [AW-1:0] i_w_addr,
    input  wire [7:0]    i_w_code,
    input  wire [7:0]    i_w_scale,
    input  wire [AW-1:0] i_step_k,
    input  wire          i_step_valid,
    input  wire [7:0]    i_step_code,
    input  wire          i_step_last,
    input  wire          i_flush,
    output wire          o_end_ready,
    output reg           o_valid,
    input  wire          i_ready,
    output reg  [41:0]   o_sum,
    output reg           o_nar,
    output reg  [7:0]    o_scale,
    output reg           o_gated
);

  (* no_rw_check *)
  reg [15:0] weights[0:WDEPTH-1];
  always @(posedge i_clk) begin
    if (i_w_we) weights[i_w_addr] <= {i_w_scale, i_w_code};
  end

  reg [7:0] wcode;
  reg [7:0] wscale;
  always @(posedge i_clk) begin
    {wscale, wcode} <= weights[i_step_k];
  end

  // ---- data phase: exact product ----------------------------------------
  wire step_end = (i_step_valid & i_step_last) | i_flush;
  wire w_nan = wcode[6:0] == 7'h7F;
  wire a_nan = i_step_code[6:0] == 7'h7F;
  wire w_zero = wcode[6:0] == 7'h00;
  wire w_norm = wcode[6:3] != 4'd0;
  wire a_norm = i_step_code[6:3] != 4'd0;
  wire [3:0] wm = {w_norm, wcode[2:0]};
  wire [3:0] am = {a_norm, i_step_code[2:0]};
  // ea + eb - 2 with e = max(field, 1): 0 .. 28
  wire [4:0] shift = (w_norm ? {1'b0, wcode[6:3]} - 5'd1 : 5'd0)
                   + (a_norm ? {1'b0, i_step_code[6:3]} - 5'd1 : 5'd0);
  wire [7:0]  mprod = wm * am;
  wire [35:0] mag = {28'd0, mprod} << shift;
  wire step_nar = i_step_valid & (w_nan | a_nan);
  wire step_mac = i_step_valid & ~(w_nan | a_nan);
  wire add_neg = step_mac & (wcode[7] ^ i_step_code[7]);
  // One's complement when negative, +1 as the accumulator's carry-in.
  wire [36:0] contrib = {1'b0, step_mac ? mag : 36'd0} ^ {37{add_neg}};

  reg        p_end;
  reg        p_nar;
  reg [36:0] p_contrib;
  reg        p_neg;
  reg [7:0]  p_scale;
  always @(posedge i_clk) begin
    p_contrib <= contrib;
    p_neg <= add_neg;
    p_scale <= wscale;
  end
  always @(posedge i_clk) begin
    if (i_rst) begin
      p_end <= 1'b0;
      p_nar <= 1'b0;
      o_gated <= 1'b0;
    end else begin
      p_end <= step_end;
      p_nar <= step_nar;
      o_gated <= i_step_valid & w_zero;
    end
  end

  // ---- accumulate ---------------------------------------------------------
  reg [41:0] acc;
  reg        acc_nar;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [42:0] acc_sum = {acc, 1'b1} + {{5{p_contrib[36]}}, p_contrib, p_neg};
  /* verilator lint_on UNUSEDSIGNAL */
  wire [41:0] acc_next = acc_sum[42:1];
  wire        nar_next = acc_nar | p_nar;

  always @(posedge i_clk) begin
    if (i_rst) begin
      acc <= 42'd0;
      acc_nar <= 1'b0;
      o_valid <= 1'b0;
    end else if (p_end) begin
      acc <= 42'd0;
      acc_nar <= 1'b0;
      o_valid <= 1'b1;
    end else begin
      acc <= acc_next;
      acc_nar <= nar_next;
      if (i_ready) o_valid <= 1'b0;
    end
  end

  always @(posedge i_clk) begin
    if (p_end) begin
      o_sum <= acc_next;
      o_nar <= nar_next | (&p_scale);
      o_scale <= p_scale;
    end
  end

  assign o_end_ready = ~(p_end | o_valid);

endmodule

`default_nettype wire
