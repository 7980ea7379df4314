// INT8 x INT8 -> INT32 processing element for the PE area comparison
// (make bench-fpga, docs/boards.md). It is rtl/pal_pe.v with the PAL8
// product replaced by a signed 8x8 multiply, so the comparison measures the
// arithmetic and nothing else: the same weight memory (one EBR, registered
// read), the same address/data-phase step bus, one product register, an
// accumulator and a block-end hand-off register. INT8 has no block scale
// and no NaR, so the word is the code alone and the sum is 32 bits wide.
//
// Zero weights pulse o_gated (and add nothing, as a zero product would).
`default_nettype none

module pal_pe_int8 #(
    parameter WDEPTH = 256,
    parameter AW = $clog2(WDEPTH)       // derived: do not override
) (
    input  wire          i_clk,
    input  wire          i_rst,
    input  wire          i_w_we,
    input  wire [AW-1:0] i_w_addr,
    input  wire [7:0]    i_w_code,
    input  wire [AW-1:0] i_step_k,
    input  wire          i_step_valid,
    input  wire [7:0]    i_step_code,
    input  wire          i_step_last,
    input  wire          i_flush,
    output wire          o_end_ready,
    output reg           o_valid,
    input  wire          i_ready,
    output reg  [31:0]   o_sum,
    output reg           o_gated
);

  (* no_rw_check *)
  reg [7:0] weights[0:WDEPTH-1];
  always @(posedge i_clk) begin
    if (i_w_we) weights[i_w_addr] <= i_w_code;
  end

  reg [7:0] wcode;
  always @(posedge i_clk) begin
    wcode <= weights[i_step_k];
  end

  // Data phase: the signed product, registered like PAL8's contribution.
  wire step_end = (i_step_valid & i_step_last) | i_flush;
  wire signed [15:0] prod = $signed(wcode) * $signed(i_step_code);

  reg               p_end;
  reg signed [15:0] p_prod;
  always @(posedge i_clk) begin
    p_prod <= i_step_valid ? prod : 16'sd0;
  end
  always @(posedge i_clk) begin
    if (i_rst) begin
      p_end <= 1'b0;
      o_gated <= 1'b0;
    end else begin
      p_end <= step_end;
      o_gated <= i_step_valid & (wcode == 8'd0);
    end
  end

  reg  [31:0] acc;
  wire [31:0] acc_next = acc + {{16{p_prod[15]}}, p_prod};

  always @(posedge i_clk) begin
    if (i_rst) begin
      acc <= 32'd0;
      o_valid <= 1'b0;
    end else if (p_end) begin
      acc <= 32'd0;
      o_valid <= 1'b1;
    end else begin
      acc <= acc_next;
      if (i_ready) o_valid <= 1'b0;
    end
  end

  always @(posedge i_clk) begin
    if (p_end) o_sum <= acc_next;
  end

  assign o_end_ready = ~(p_end | o_valid);

endmodule

`default_nettype wire
