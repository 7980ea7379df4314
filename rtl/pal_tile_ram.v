// Every memory of the tile (IMEM, ABUF, the PE weight memories, the ACC and
// BIAS banks, OBUF, the NaR side tables) is one of these: one registered
// read port, one write port with LANES equal lanes that can be written
// separately (byte or word strobes), contents zero at power-on (the
// emulator's power-on state; i_rst does not clear memories).
//
// A read and a write of the same address in one cycle: with OLD_WORD = 1
// the read returns the old word. With OLD_WORD = 0 (the tile's memories)
// the user promises that this never happens: simulation stops with an
// error if it does, and synthesis may return anything (Yosys'
// no_rw_check). Block RAMs do not define the collision (the iCE40's
// SB_RAM40_4K, the ECP5's DP16KD in this mode), so without the promise Yosys
// delays every write by a cycle and forwards it, which is a register per
// data and address bit and a comparator per memory: 1 000 flip-flops and
// 560 LUT4 of the 2x2 iCEBreaker SoC (docs/boards.md).
//
// SINGLE_PORT = 1: one address for both ports (i_waddr while writing, else
// i_raddr) and a read in the cycle of a write is a design error (simulation
// stops), so the memory maps onto a single-port RAM; RAM_STYLE = "huge"
// then puts it into the iCE40UP5K's SPRAM (Yosys' ram_style; the ECP5 has
// no such RAM, so the ECP5 boards keep "auto"). SPRAM contents are not
// defined at power-on, unlike block RAM: only ABUF's codes use it, whose
// bitmap (in block RAM, zero at power-on) masks every code (pal_tile_abuf).
//
// Synthesis: a plain Yosys `synth` would turn each array into flip-flops
// and a read mux (minutes per 16 KiB, and the default tile holds ~190 KiB),
// so under SYNTHESIS the module is a black box, i.e. a RAM macro of the
// target, unless PAL_TILE_RAM_INFER is defined. The tile's own synthesis
// check (make tile-synth) defines it and keeps the arrays as Yosys memory
// cells (docs/tile-rtl.md, "Synthesis").
`default_nettype none

`ifdef SYNTHESIS
`ifndef PAL_TILE_RAM_INFER
(* blackbox *)
`endif
`endif
module pal_tile_ram #(
    parameter DEPTH = 256,
    parameter WIDTH = 32,
    parameter LANES = 1,                          // must divide WIDTH
    parameter OLD_WORD = 0,                       // 1: collisions read old
    parameter SINGLE_PORT = 0,                    // 1: one address, no read while writing
    /* verilator lint_off UNUSEDPARAM */
    parameter RAM_STYLE = "auto",                 // Yosys ram_style ("huge": SPRAM)
    /* verilator lint_on UNUSEDPARAM */
    parameter AW = (DEPTH > 1) ? $clog2(DEPTH) : 1 // derived: do not override
) (
    input  wire             i_clk,
    input  wire             i_re,
    input  wire [AW-1:0]    i_raddr,
    output reg  [WIDTH-1:0] o_rdata,
    input  wire [LANES-1:0] i_we,
    input  wire [AW-1:0]    i_waddr,
    input  wire [WIDTH-1:0] i_wdata
);

  localparam LW = WIDTH / LANES;

  // for Yosys only (Verilator ignores the attribute)
  /* verilator lint_off UNUSEDPARAM */
  localparam RW_ANY = (OLD_WORD == 0) ? 1 : 0;
  /* verilator lint_on UNUSEDPARAM */
  (* no_rw_check = RW_ANY, ram_style = RAM_STYLE *)
  reg [WIDTH-1:0] mem[0:DEPTH-1];
  wire            writing = i_we != {LANES{1'b0}};
  wire [AW-1:0]   raddr = (SINGLE_PORT != 0 && writing) ? i_waddr : i_raddr;
  wire [AW-1:0]   waddr = (SINGLE_PORT != 0) ? raddr : i_waddr;  // one signal: one port
  wire            re = i_re && (SINGLE_PORT == 0 || !writing);

`ifndef SYNTHESIS
  // power-on contents for simulation (FPGA block RAMs start at zero too)
  integer i;
  initial begin
    for (i = 0; i < DEPTH; i = i + 1) mem[i] = {WIDTH{1'b0}};
  end
`endif

  always @(posedge i_clk) begin
    if (re) o_rdata <= mem[raddr];
  end

`ifndef SYNTHESIS
  always @(posedge i_clk) begin
    if (OLD_WORD == 0 && i_re && writing && i_raddr == i_waddr)
      $fatal(1, "%m: read and write of word %0d in one cycle (OLD_WORD = 0)", i_raddr);
    if (SINGLE_PORT != 0 && i_re && writing)
      $fatal(1, "%m: read in the cycle of a write (SINGLE_PORT = 1)");
  end
`endif

  integer l;
  always @(posedge i_clk) begin
    for (l = 0; l < LANES; l = l + 1)
      if (i_we[l]) mem[waddr][l*LW+:LW] <= i_wdata[l*LW+:LW];
  end

endmodule

`default_nettype wire
