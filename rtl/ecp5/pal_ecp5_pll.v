// The ECP5 PLL (EHXPLLL) as the ECP5 board tops use it, CLKOP fed back:
// f_out = f_in * CLKFB_DIV / CLKI_DIV, with the phase-detector input
// f_in / CLKI_DIV in 3.125..400 MHz and the VCO f_out * CLKOP_DIV in
// 400..800 MHz (prjtrellis' `ecppll` prints settings for a frequency).
// The boards need it because the whole SoC does not close timing at the
// oscillator's frequency (docs/boards.md): the core runs at a divided clock
// that nextpnr derives from the input pin's FREQUENCY constraint. Under
// Yosys (SYNTHESIS) this is the primitive; elsewhere (Verilator runs the
// same board top) the output is the input clock and lock is immediate:
// simulation counts cycles, so only the top being the same matters there.
`default_nettype none

/* verilator lint_off UNUSEDPARAM */  // used by the primitive only
module pal_ecp5_pll #(
    parameter integer CLKI_DIV = 5,
    parameter integer CLKFB_DIV = 1,
    parameter integer CLKOP_DIV = 120,
    parameter integer CLKOP_CPHASE = 59
) (
/* verilator lint_on UNUSEDPARAM */
    input  wire i_clk,
    output wire o_clk,
    output wire o_locked
);

`ifdef SYNTHESIS
  (* ICP_CURRENT = "12", LPF_RESISTOR = "8", MFG_ENABLE_FILTEROPAMP = "1", MFG_GMCREF_SEL = "2" *)
  EHXPLLL #(
      .PLLRST_ENA("DISABLED"),
      .INTFB_WAKE("DISABLED"),
      .STDBY_ENABLE("DISABLED"),
      .DPHASE_SOURCE("DISABLED"),
      .OUTDIVIDER_MUXA("DIVA"),
      .OUTDIVIDER_MUXB("DIVB"),
      .OUTDIVIDER_MUXC("DIVC"),
      .OUTDIVIDER_MUXD("DIVD"),
      .CLKI_DIV(CLKI_DIV),
      .CLKOP_ENABLE("ENABLED"),
      .CLKOP_DIV(CLKOP_DIV),
      .CLKOP_CPHASE(CLKOP_CPHASE),
      .CLKOP_FPHASE(0),
      .FEEDBK_PATH("CLKOP"),
      .CLKFB_DIV(CLKFB_DIV)
  ) u_pll (
      .RST(1'b0),
      .STDBY(1'b0),
      .CLKI(i_clk),
      .CLKOP(o_clk),
      .CLKFB(o_clk),
      .CLKINTFB(),
      .PHASESEL0(1'b0),
      .PHASESEL1(1'b0),
      .PHASEDIR(1'b1),
      .PHASESTEP(1'b1),
      .PHASELOADREG(1'b1),
      .PLLWAKESYNC(1'b0),
      .ENCLKOP(1'b0),
      .LOCK(o_locked)
  );
`else
  assign o_clk = i_clk;
  assign o_locked = 1'b1;
`endif

endmodule

`default_nettype wire
