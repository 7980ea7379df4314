// The product of one PAL8 step (pal-format.md §3), the arithmetic both PEs
// share (pal_pe, the standalone PE, and pal_tile_pe, the tile's):
//
//   D = (127 - Mw) + (127 - Ma),  p = (L[D & 15] << 7) >> (D >> 4),
//   signed by Sw ^ Sa
//
// given as the one's complement of the signed contribution (o_term, 0 when
// nothing is added) and the +1 of a negation apart (o_neg), so that the
// block sum adds both in one carry chain (o_neg as its carry-in) and the
// product needs no adder of its own. A step with a zero code in either
// operand adds nothing; a NaR code in either operand adds nothing and
// raises o_nar; a zero weight code raises o_gated (MACS_GATED, docs/isa.md).
// Combinational.
`default_nettype none

module pal_pe_prod (
    input  wire        i_valid,   // a step: i_wcode and i_acode are operands
    input  wire [7:0]  i_wcode,
    input  wire [7:0]  i_acode,
    output wire [16:0] o_term,    // ~(signed p) if negative, else p; 0 if no MAC
    output wire        o_neg,     // the +1 of a negative term
    output wire        o_nar,
    output wire        o_gated
);

  /* verilator lint_off UNUSEDPARAM */
  `include "pal_tables.vh"
  /* verilator lint_on UNUSEDPARAM */

  wire w_nar = i_wcode == PAL_CODE_NAR;
  wire a_nar = i_acode == PAL_CODE_NAR;
  wire w_zero = i_wcode == PAL_CODE_ZERO;
  wire a_zero = i_acode == PAL_CODE_ZERO;
  wire mac = i_valid & ~(w_nar | a_nar) & ~w_zero & ~a_zero;

  // L is a 16-entry ROM filled from the generated table (a lookup rather
  // than a tree of comparisons, for the simulator).
  reg [8:0] l_rom[0:15];
  integer r;
  initial begin
    for (r = 0; r < 16; r = r + 1) l_rom[r] = pal_l8(r[3:0]);
  end

  // 127 - M is the one's complement of the 7-bit magnitude.
  wire [7:0]  code_dist = {1'b0, ~i_wcode[6:0]} + {1'b0, ~i_acode[6:0]};
  wire [15:0] prod = {l_rom[code_dist[3:0]], 7'd0} >> code_dist[7:4];

  // "no MAC" as the outer choice with a constant: the register that takes
  // o_term gets it as a synchronous reset (SB_DFFSR on the iCE40), and the
  // sign's XOR fits the shifter's last LUT; with the XOR outside the
  // choice each term bit needed a LUT of its own (11 LCs per PE)
  wire sgn = i_wcode[7] ^ i_acode[7];
  assign o_neg = mac & sgn;
  assign o_term = mac ? {1'b0, prod} ^ {17{sgn}} : 17'd0;
  assign o_nar = i_valid & (w_nar | a_nar);
  assign o_gated = i_valid & w_zero;

endmodule

`default_nettype wire
