// Where a leaf's FP32 addition happens: its own pal_fp32_add (EXT = 0), or
// an adder outside that the leaf shares with another (EXT = 1; the tile
// shares one between accumulate unit 0 and POST, docs/tile-rtl.md). The
// leaf always drives its operands out as the outside adder's inputs; this
// module gives it the results from whichever adder it uses, with the same
// 3-cycle latency either way (pal_fp32_acc and pal_post, EXT_ADD).
`default_nettype none

module pal_fp32_add_slot #(
    parameter SIDE_W = 1,
    parameter EXT = 0
) (
    input  wire              i_clk,
    input  wire              i_rst,
    // the leaf's operands (also its o_add_* ports)
    input  wire              i_en,
    input  wire              i_valid,
    input  wire [31:0]       i_a,
    input  wire [31:0]       i_b,
    input  wire              i_pass,
    input  wire [SIDE_W-1:0] i_side,
    // the outside adder's results (EXT = 1)
    input  wire              i_ext_valid,
    input  wire [31:0]       i_ext_sum,
    input  wire              i_ext_nar,
    input  wire [SIDE_W-1:0] i_ext_side,
    // the results the leaf uses
    output wire              o_valid,
    output wire [31:0]       o_sum,
    output wire              o_nar,
    output wire [SIDE_W-1:0] o_side
);

  generate
    if (EXT != 0) begin : g_ext
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused = &{1'b0, i_clk, i_rst, i_en, i_valid, i_a, i_b, i_pass, i_side};
      /* verilator lint_on UNUSEDSIGNAL */
      assign o_valid = i_ext_valid;
      assign o_sum = i_ext_sum;
      assign o_nar = i_ext_nar;
      assign o_side = i_ext_side;
    end else begin : g_own
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused = &{1'b0, i_ext_valid, i_ext_sum, i_ext_nar, i_ext_side};
      /* verilator lint_on UNUSEDSIGNAL */
      pal_fp32_add #(
          .SIDE_W(SIDE_W)
      ) adder (
          .i_clk  (i_clk),
          .i_rst  (i_rst),
          .i_en   (i_en),
          .i_valid(i_valid),
          .i_a    (i_a),
          .i_b    (i_b),
          .i_pass (i_pass),
          .i_side (i_side),
          .o_valid(o_valid),
          .o_sum  (o_sum),
          .o_nar  (o_nar),
          .o_side (o_side)
      );
    end
  endgenerate

endmodule

`default_nettype wire
