// The iCE40 PLL fed from a clock pad (SB_PLL40_PAD, simple feedback), as
// the board tops use it: f_out = f_in * (DIVF + 1) / ((DIVR + 1) * 2^DIVQ),
// with the VCO (f_in * (DIVF + 1) / (DIVR + 1)) in 533..1066 MHz; `icepll`
// prints the settings for a frequency. Under Yosys (SYNTHESIS) this is the
// primitive; elsewhere (Verilator runs the same board top) the output is
// the input clock and lock is immediate: simulation counts cycles, so the
// frequency does not matter there, only that the top is the same.
`default_nettype none

/* verilator lint_off UNUSEDPARAM */  // used by the primitive only
module pal_ice40_pll #(
    parameter [3:0] DIVR = 4'd0,
    parameter [6:0] DIVF = 7'd63,
    parameter [2:0] DIVQ = 3'd5,
    parameter [2:0] FILTER_RANGE = 3'd1
) (
/* verilator lint_on UNUSEDPARAM */
    input  wire i_pad_clk,   // must be the top's clock port, straight from its pin
    output wire o_clk,       // on a global buffer
    output wire o_locked
);

`ifdef SYNTHESIS
  SB_PLL40_PAD #(
      .FEEDBACK_PATH("SIMPLE"),
      .DIVR(DIVR),
      .DIVF(DIVF),
      .DIVQ(DIVQ),
      .FILTER_RANGE(FILTER_RANGE)
  ) u_pll (
      .PACKAGEPIN(i_pad_clk),
      .PLLOUTGLOBAL(o_clk),
      .LOCK(o_locked),
      .RESETB(1'b1),
      .BYPASS(1'b0)
  );
`else
  assign o_clk = i_pad_clk;
  assign o_locked = 1'b1;
`endif

endmodule

`default_nettype wire
