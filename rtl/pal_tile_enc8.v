// PAL8 code of one FP32 value in a block of scale X (pal-format.md §2,
// pal_b32_encode_block), combinational: the per-element half of
// requantisation, used by pal_requant (which streams 32 codes per block)
// and by the tile's POST unit, which encodes one element per cycle into a
// whole ABUF line (pal_requant's stream is slower than docs/isa.md §4
// allows for rows shorter than 16).
//
//   code = NaR (0x80) for NaN/Inf, 0 for zero/subnormal/d > 126, else
//          S, M = 127 - max(d, 0) with d = 16 (X - biased exponent) - u,
//          u = #{ j : significand >= T_j } (the generated pal_t8 table).
`default_nettype none

module pal_tile_enc8 (
    input  wire        i_en,     // 0: o_code is 0 and nothing is evaluated
    input  wire [31:0] i_value,
    input  wire [7:0]  i_scale,
    output reg  [7:0]  o_code
);

  /* verilator lint_off UNUSEDPARAM */
  `include "pal_tables.vh"
  /* verilator lint_on UNUSEDPARAM */

  wire [7:0]  value_exp = i_value[30:23];
  wire [22:0] value_frac = i_value[22:0];

  // m >= c for a constant c, as a chain of ANDs and ORs (as pal_requant)
  function automatic ge_const(input [23:0] m, input [23:0] c);
    integer b;
    reg ge;
    begin
      ge = 1'b1;
      for (b = 0; b < 24; b = b + 1) ge = c[b] ? (m[b] & ge) : (m[b] | ge);
      ge_const = ge;
    end
  endfunction

  // (the enable keeps a simulator from evaluating the 16 comparisons in
  // cycles without a value to encode)
  reg [4:0] steps;
  integer j;
  always @* begin
    steps = 5'd0;
    if (i_en)
      for (j = 0; j < 16; j = j + 1)
        if (ge_const({1'b1, value_frac}, pal_t8(j[3:0]))) steps = j[4:0] + 5'd1;
  end

  // d = 16 (X - exp) - u, signed: -4096 .. 4064
  wire signed [13:0] code_dist = $signed({1'b0, i_scale, 4'd0}) - $signed({1'b0, value_exp, 4'd0})
                               - $signed({9'd0, steps});

  always @* begin
    if (!i_en || value_exp == 8'd0) o_code = PAL_CODE_ZERO;
    else if (&value_exp) o_code = PAL_CODE_NAR;
    else if (code_dist > 14'sd126) o_code = PAL_CODE_ZERO;
    else if (code_dist < 14'sd0) o_code = {i_value[31], 7'd127};
    else o_code = {i_value[31], 7'd127 - code_dist[6:0]};
  end

endmodule

`default_nettype wire
