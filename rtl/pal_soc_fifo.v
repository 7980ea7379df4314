// A small byte FIFO (DEPTH a power of two) between the UART receiver, which
// cannot wait, and the link engine, which takes no byte while it answers a
// frame. The host is stop-and-wait, so it only fills when a host sends
// while a reply is still going out (a retransmission); a byte that finds
// the FIFO full is dropped, as on a real UART, and the protocol recovers.
`default_nettype none

module pal_soc_fifo #(
    parameter integer DEPTH = 16
) (
    input  wire       i_clk,
    input  wire       i_rst,
    input  wire       i_valid,
    input  wire [7:0] i_data,
    output wire       o_valid,
    output wire [7:0] o_data,
    input  wire       i_ready
);
  localparam integer AW = $clog2(DEPTH);
  reg [7:0]  mem [0:DEPTH-1];
  reg [AW:0] wp, rp;
  wire empty = wp == rp;
  wire full = (wp[AW-1:0] == rp[AW-1:0]) && (wp[AW] != rp[AW]);
  assign o_valid = !empty;
  assign o_data = mem[rp[AW-1:0]];
  always @(posedge i_clk) begin
    if (i_rst) begin
      wp <= {(AW + 1){1'b0}};
      rp <= {(AW + 1){1'b0}};
    end else begin
      if (i_valid && !full) begin
        mem[wp[AW-1:0]] <= i_data;
        wp <= wp + 1'b1;
      end
      if (i_ready && !empty) rp <= rp + 1'b1;
    end
  end
endmodule
