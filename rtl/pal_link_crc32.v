// One byte of the frame check of docs/protocol.md §2: CRC-32 IEEE 802.3,
// reflected polynomial 0xEDB88320. The register holds the running value
// before the final xor (start at 0xFFFFFFFF, the frame's CRC is ~o_crc
// after the last byte), as pal_proto_crc32_update does.
`default_nettype none

module pal_link_crc32 (
    input  wire [31:0] i_crc,
    input  wire [7:0]  i_byte,
    output reg  [31:0] o_crc
);
  integer k;
  always @(*) begin
    o_crc = i_crc ^ {24'd0, i_byte};
    for (k = 0; k < 8; k = k + 1)
      o_crc = o_crc[0] ? ((o_crc >> 1) ^ 32'hEDB88320) : (o_crc >> 1);
  end
endmodule
