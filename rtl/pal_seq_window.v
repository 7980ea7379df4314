// The window i_vec[i_row +: K] of a vector, zeros past its end: the walk's
// (pal_seq_walk) view of one row in ABUF's visit flags or WMEM's NaR flags,
// where rows are short against ABUF (its WINDOWED path).
//
// Two descriptions of one function. Synthesis gets a logarithmic shifter
// that keeps, after each stage, only the bits the later stages can still
// bring into the window: on the iCE40 (64 blocks, K 8) 105 two-input
// multiplexers, where Yosys built the part-select as about 220 LUT4.
// The Verilated model gets a whole-vector shift, a few word operations, where the
// staged loops were thousands of bit operations per cycle at 512 blocks.
// `make tile-equiv` proves them equivalent with Yosys, in make test.
`default_nettype none

module pal_seq_window #(
    parameter N = 512,              // bits of the vector
    parameter K = 256,              // bits of the window, <= N
    parameter AW = $clog2(N)        // derived: do not override
) (
    input  wire [N-1:0]  i_vec,
    input  wire [AW-1:0] i_row,
    output wire [K-1:0]  o_window
);

`ifdef VERILATOR
  /* verilator lint_off UNUSEDSIGNAL */
  wire [N+K-1:0] sh = {{K{1'b0}}, i_vec} >> i_row;
  /* verilator lint_on UNUSEDSIGNAL */
  assign o_window = sh[K-1:0];
`else
  function automatic [K-1:0] window(input [N-1:0] v, input [AW-1:0] row);
    reg [N+K-1:0] x;
    integer st, i;
    begin
      x = {{K{1'b0}}, v};
      for (st = AW - 1; st >= 0; st = st - 1)
        for (i = 0; i < K + (1 << st) - 1; i = i + 1)
          if (row[st])
            x[i] = (i + (1 << st) < N + K) ? x[i+(1<<st)] : 1'b0;
      window = x[K-1:0];
    end
  endfunction
  assign o_window = window(i_vec, i_row);
`endif

endmodule

`default_nettype wire
