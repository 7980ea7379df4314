// Reset for a board top: held after configuration, while the reset button
// is pressed (i_rst_req, asynchronous: synchronised here) and while the
// clock source is not locked, then for 2^HOLD_BITS more cycles so the PLL
// output and the UART line have settled. The counter starts at zero by the
// FPGA's configuration (and the `initial` for simulation).
`default_nettype none

module pal_board_reset #(
    parameter HOLD_BITS = 10
) (
    input  wire i_clk,
    input  wire i_rst_req,
    input  wire i_locked,
    output wire o_rst
);

  reg [1:0] sync;
  reg [HOLD_BITS-1:0] count;
  reg rst;
  initial begin
    sync = 2'b11;
    count = {HOLD_BITS{1'b0}};
    rst = 1'b1;
  end

  always @(posedge i_clk) begin
    sync <= {sync[0], i_rst_req | ~i_locked};
    if (sync[1]) begin
      count <= {HOLD_BITS{1'b0}};
      rst <= 1'b1;
    end else if (~&count) begin
      count <= count + 1'b1;
    end else begin
      rst <= 1'b0;
    end
  end

  assign o_rst = rst;

endmodule

`default_nettype wire
