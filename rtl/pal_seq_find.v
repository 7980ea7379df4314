// The lowest set bit of a vector at or above a position: the walk's
// (pal_seq_walk) search for a row's next visited block, either in the
// numbering of a whole table (ABUF's visit flags, WMEM's NaR-weight flags,
// where rows are long) or within a row's window (where they are short).
//
// Two descriptions of one function. Synthesis gets a mask from a word
// part and a bit part of i_from (each a thermometer decode) and a
// two-level priority encoder: the lowest non-zero word of 32, then the
// lowest bit in it (pal_seq_ctz32 for both). The Verilated model gets
// whole-vector operations (shift, isolate the lowest bit, count the ones
// below it), a few word operations where the staged loops would be
// thousands of bit operations per cycle at 512 blocks. `make tile-equiv`
// proves them equivalent with Yosys, in make test.
`default_nettype none

module pal_seq_find #(
    parameter N = 512,              // bits of the vector, >= 2
    parameter AW = $clog2(N)        // derived: do not override
) (
    input  wire [N-1:0]  i_vec,
    input  wire [AW:0]   i_from,    // N or more: nothing is found
    output wire          o_found,   // a set bit at or above i_from
    output wire [AW-1:0] o_idx      // the lowest one; 0 when none
);

  localparam NP = 1 << AW;          // N padded to a power of two
  wire [NP-1:0] vec = {{(NP - N) {1'b0}}, i_vec};

`ifdef VERILATOR
  wire [NP-1:0] m = vec & ({NP{1'b1}} << i_from);
  // the ones below the lowest set bit: all NP when m = 0, so o_idx is 0
  wire [NP-1:0] below = (m & (~m + 1'b1)) - 1'b1;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] n_below = $countones(below);
  /* verilator lint_on UNUSEDSIGNAL */
  assign o_found = |m;
  assign o_idx = n_below[AW-1:0];
`else
  localparam WB = (NP < 32) ? NP : 32;  // bits per word
  localparam NW = NP / WB;              // words, at most 32 (N <= 1024)
  localparam WAW = $clog2(WB);

  // t[i] = (i >= from) for i < 2^W: after bit b, t[i] compares the low
  // b + 1 bits of i and from (i's bit 1: from's bit 0 or the lower bits'
  // answer; i's bit 0: from's bit 0 and the lower bits' answer)
  function automatic [31:0] at_or_above(input [5:0] from, input integer W);
    reg [31:0] t;
    integer b, i;
    begin
      t = 32'hFFFFFFFF;
      for (b = 0; b < W; b = b + 1)
        for (i = 0; i < 32; i = i + 1)
          t[i] = ((i >> b) & 1) != 0 ? (~from[b] | t[i]) : (~from[b] & t[i]);
      at_or_above = from[W] ? 32'd0 : t;
    end
  endfunction

  // The mask in two parts: word w is above from's word, or is its word and
  // bit j is at or above from's bit. Each mask bit is then one LUT's
  // function of the vector's bit and three decoded signals, where a mask
  // built across all of from's bits made ABC's result about twice the size.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [5:0]  from_w = {{(5 - AW + WAW) {1'b0}}, i_from[AW:WAW]};
  wire [5:0]  from_b = {{(6 - WAW) {1'b0}}, i_from[WAW-1:0]};
  wire [31:0] ge_w = at_or_above(from_w, AW - WAW);  // word w at or above from's
  wire [31:0] ge_b = at_or_above(from_b, WAW);       // bit j at or above from's
  /* verilator lint_on UNUSEDSIGNAL */
  reg [NP-1:0] m;
  integer wi, bj;
  always @* begin
    for (wi = 0; wi < NW; wi = wi + 1)
      for (bj = 0; bj < WB; bj = bj + 1)
        m[wi*WB+bj] = vec[wi*WB+bj] & ge_w[wi] & ((from_w != wi) | ge_b[bj]);
  end

  // the lowest non-zero word: its index, and its bits chosen by a one-hot
  // AND-OR (a multiplexer indexed by the word number is a shifter to Yosys)
  reg [31:0] any;   // word w has a set bit
  reg [31:0] first; // ... and no word below it has
  reg [WB-1:0] word;
  reg below;
  integer w;
  always @* begin
    any = 32'd0;
    first = 32'd0;
    below = 1'b0;
    for (w = 0; w < NW; w = w + 1) begin
      any[w] = |m[w*WB+:WB];
      first[w] = any[w] & ~below;
      below = below | any[w];
    end
    word = {WB{1'b0}};
    for (w = 0; w < NW; w = w + 1) word = word | (m[w*WB+:WB] & {WB{first[w]}});
  end
  // (widths below 32 come zero-padded and give the same position)
  wire [4:0] widx, bidx;
  pal_seq_ctz32 u_widx (.i_x(any), .o_idx(widx));
  pal_seq_ctz32 u_bidx (.i_x({{(32 - WB) {1'b0}}, word}), .o_idx(bidx));
  /* verilator lint_off UNUSEDSIGNAL */
  wire [9:0] idx = (NW > 1) ? {widx, bidx} : {5'd0, bidx};
  /* verilator lint_on UNUSEDSIGNAL */
  assign o_found = |any;
  assign o_idx = o_found ? idx[AW-1:0] : {AW{1'b0}};
`endif

`ifndef SYNTHESIS
  initial if (N < 2 || N > 1024) $fatal(1, "%m: N = %0d, not in 2..1024", N);
`endif

endmodule

`default_nettype wire
