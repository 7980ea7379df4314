// Leading-zero normaliser: shifts i_x left until its top bit is set and
// counts the shift, in five stages of 16, 8, 4, 2 and 1 bits (the binary
// digits of the count). The FP32 paths use it where a magnitude becomes a
// mantissa: pal_fp32_acc (a 22-bit block sum times 2^e) and pal_fp32_add
// (the 28-bit sum before rounding). Combinational.
//
// An all-zero i_x gives o_norm = 0 and o_zeros = 31; callers test for zero
// themselves (the count alone cannot tell 0 from a 2^(W-32) input).
`default_nettype none

module pal_norm_lz #(
    parameter W = 22  // 17..32: the first stage shifts by 16
) (
    input  wire [W-1:0] i_x,
    output wire [W-1:0] o_norm,
    output wire [4:0]   o_zeros
);

  // stage s: the top 2^s bits clear -> shift them out, count bit s
  wire         z4 = i_x[W-1-:16] == 16'd0;
  wire [W-1:0] n4 = z4 ? i_x << 16 : i_x;
  wire         z3 = n4[W-1-:8] == 8'd0;
  wire [W-1:0] n3 = z3 ? n4 << 8 : n4;
  wire         z2 = n3[W-1-:4] == 4'd0;
  wire [W-1:0] n2 = z2 ? n3 << 4 : n3;
  wire         z1 = n2[W-1-:2] == 2'd0;
  wire [W-1:0] n1 = z1 ? n2 << 2 : n2;
  wire         z0 = ~n1[W-1];

  assign o_norm = z0 ? n1 << 1 : n1;
  assign o_zeros = {z4, z3, z2, z1, z0};

endmodule

`default_nettype wire
