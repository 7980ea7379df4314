// One byte of the header check of docs/protocol.md §2: CRC-8, polynomial
// 0x07, init 0, no reflection, no final xor (pal_proto_crc8, bit-serial).
// Combinational, so the receiver and the reply framer update it a byte per
// cycle.
`default_nettype none

module pal_link_crc8 (
    input  wire [7:0] i_crc,
    input  wire [7:0] i_byte,
    output reg  [7:0] o_crc
);
  integer k;
  always @(*) begin
    o_crc = i_crc ^ i_byte;
    for (k = 0; k < 8; k = k + 1)
      o_crc = o_crc[7] ? ((o_crc << 1) ^ 8'h07) : (o_crc << 1);
  end
endmodule
