// The position of the lowest set bit of a 32-bit word, found by halves
// (31 when no bit is set): the walk's step position within a block
// (pal_seq_walk) and the word and bit of pal_seq_find's search.
// Combinational.
`default_nettype none

module pal_seq_ctz32 (
    input  wire [31:0] i_x,
    output reg  [4:0]  o_idx
);

  reg [31:0] y;
  always @* begin
    y = i_x;
    o_idx = 5'd0;
    if (y[15:0] == 16'd0) begin
      o_idx[4] = 1'b1;
      y = y >> 16;
    end
    if (y[7:0] == 8'd0) begin
      o_idx[3] = 1'b1;
      y = y >> 8;
    end
    if (y[3:0] == 4'd0) begin
      o_idx[2] = 1'b1;
      y = y >> 4;
    end
    if (y[1:0] == 2'd0) begin
      o_idx[1] = 1'b1;
      y = y >> 2;
    end
    if (y[0] == 1'b0) o_idx[0] = 1'b1;
  end

endmodule

`default_nettype wire
