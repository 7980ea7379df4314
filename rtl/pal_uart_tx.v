// UART transmitter, 8N1, CLKS_PER_BIT clocks per bit: a start bit, eight
// data bits LSB first, a stop bit. The next byte is taken (valid/ready) in
// the last cycle of the stop bit, so back-to-back bytes leave no gap.
`default_nettype none

module pal_uart_tx #(
    parameter integer CLKS_PER_BIT = 4
) (
    input  wire       i_clk,
    input  wire       i_rst,
    input  wire       i_valid,
    input  wire [7:0] i_data,
    output wire       o_ready,
    output reg        o_tx
);
  localparam integer CW = $clog2(CLKS_PER_BIT + 1);
  localparam [31:0] LAST32 = CLKS_PER_BIT - 1;
  localparam [CW-1:0] LAST = LAST32[CW-1:0];
  reg [8:0]    shift;      // data[7:0] then the stop bit, LSB first
  reg [3:0]    bits;       // bits of the frame left, the one on the line included
  reg [CW-1:0] cnt;        // cycles left of the bit on the line, minus one

  assign o_ready = !i_rst && (bits == 4'd0 || (bits == 4'd1 && cnt == {CW{1'b0}}));

  always @(posedge i_clk) begin
    if (i_rst) begin
      bits <= 4'd0;
      o_tx <= 1'b1;
      cnt <= {CW{1'b0}};
      shift <= 9'h1FF;
    end else if (i_valid && o_ready) begin
      o_tx <= 1'b0;                      // start bit
      shift <= {1'b1, i_data};
      bits <= 4'd10;
      cnt <= LAST;
    end else if (bits != 4'd0) begin
      if (cnt != {CW{1'b0}}) begin
        cnt <= cnt - 1'b1;
      end else begin
        bits <= bits - 4'd1;
        o_tx <= bits == 4'd1 ? 1'b1 : shift[0];
        shift <= {1'b1, shift[8:1]};
        cnt <= LAST;
      end
    end
  end
endmodule
