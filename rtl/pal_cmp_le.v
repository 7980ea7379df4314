// x <= K for a constant K, as logic rather than as a comparison: Yosys maps
// every comparison, constant or not, onto an iCE40 carry chain as wide as
// its operand, and the chain's cells carry nothing else (their LUTs would
// only feed the discarded sum), so each bit costs a logic cell of its own.
// Written bit by bit from the least significant end, with K known, each
// step is an AND or an OR with the chain so far, which ABC packs three or
// four bits to a LUT4.
`default_nettype none

module pal_cmp_le #(
    parameter integer W = 16,
    parameter [W-1:0] K = 0
) (
    input  wire [W-1:0] i_x,
    output wire         o_le
);
  function automatic le(input [W-1:0] x);
    integer b;
    reg r;
    begin
      r = 1'b1;  // equal so far: x <= K
      for (b = 0; b < W; b = b + 1)
        r = K[b] ? (~x[b] | r) : (~x[b] & r);
      le = r;
    end
  endfunction
  assign o_le = le(i_x);
endmodule

`default_nettype wire
