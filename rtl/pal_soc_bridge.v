// The bus bridge between the link engine's bus master (the geometry-free
// map of docs/protocol.md §5) and the tile's slave port (docs/tile-rtl.md:
// region in [31:28], per-PE fields sized by the geometry, one word per ACC
// NaR flag). Windows map to tile regions; PE p and its offset move into the
// tile's PE field; a word of four byte-sized NaR flags becomes up to four
// one-word transfers (bit 0 each). The executor has already checked the
// access (bounds, alignment, busy tile), so nothing is checked here.
`default_nettype none

module pal_soc_bridge #(
    parameter integer WMEM_BLOCKS = 256,
    // 1: the master already addresses the tile's port (pal_link_exec's
    // TILE_MAP) but for the NaR flags, one byte per flag at region
    // PAL_TILE_PORT_RG_ACC_NAR's byte offsets: only they are translated
    parameter integer TILE_MAP = 0
) (
    input  wire        i_clk,
    input  wire        i_rst,
    // link side
    input  wire        i_valid,
    input  wire        i_we,
    input  wire [31:0] i_addr,
    input  wire [31:0] i_wdata,
    input  wire [3:0]  i_wstrb,
    output wire        o_ready,
    output wire [31:0] o_rdata,
    // tile side
    output wire        o_bus_valid,
    output wire        o_bus_we,
    output reg  [31:0] o_bus_addr,
    output wire [31:0] o_bus_wdata,
    output wire [3:0]  o_bus_wstrb,
    input  wire        i_bus_ready,
    input  wire [31:0] i_bus_rdata
);
  // the protocol map, generated from include/pal/protocol.h (pal_isagen)
  /* verilator lint_off UNUSEDPARAM */
  `include "pal_proto.vh"
  `include "pal_isa.vh"  // PAL_TILE_PORT_RG_*
  /* verilator lint_on UNUSEDPARAM */
  localparam integer WBW = $clog2(WMEM_BLOCKS);
  localparam integer WC_SHIFT = WBW + 5;
  localparam integer WS_SHIFT = (WBW > 2) ? WBW : 2;
  localparam integer WC_SB = PAL_ADDR_WMEM_CODES_STRIDE_BITS, WS_SB = PAL_ADDR_WMEM_SCALES_STRIDE_BITS;
  localparam integer IMEM_BITS = $clog2(PAL_ADDR_IMEM_END - PAL_ADDR_IMEM);

  // in the aligned power-of-two window at base (pal_isagen checks the map
  // has only such windows besides IMEM): compare the bits above the size
  function automatic in_win(input [31:0] a, input [31:0] base, input integer bits);
    in_win = (a >> bits) == (base >> bits);
  endfunction
  function automatic [31:0] low(input [31:0] a, input integer bits);
    low = a & ((32'd1 << bits) - 32'd1);
  endfunction

  wire nar = TILE_MAP != 0 ? i_addr[31:28] == PAL_TILE_PORT_RG_ACC_NAR
                            : in_win(i_addr, PAL_ADDR_ACC_NAR, PAL_ADDR_ACC_NAR_BITS);
  reg  [1:0]  lane;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] nar_off = low(i_addr, PAL_ADDR_ACC_NAR_BITS);
  wire [31:0] nar_word = {nar_off[29:2], lane, 2'b00};  // one tile word per flag byte
  /* verilator lint_on UNUSEDSIGNAL */

  // translation of every other window: tile region in [31:28], the offset
  // (or PE and offset) below
  always @(*) begin
    if (TILE_MAP != 0)
      o_bus_addr = nar ? {PAL_TILE_PORT_RG_ACC_NAR, i_addr[25:2], lane, 2'b00} : i_addr;
    else if (in_win(i_addr, PAL_ADDR_TILE_REGS, PAL_ADDR_TILE_REGS_BITS))
      o_bus_addr = {PAL_TILE_PORT_RG_REGS, 28'd0} | low(i_addr, PAL_ADDR_TILE_REGS_BITS);
    else if (in_win(i_addr, PAL_ADDR_WMEM_CODES, PAL_ADDR_WMEM_CODES_BITS))
      o_bus_addr = {PAL_TILE_PORT_RG_WMEM_CODES, 28'd0} | ({24'd0, i_addr[WC_SB +: 8]} << WC_SHIFT) | low(i_addr, WC_SB);
    else if (in_win(i_addr, PAL_ADDR_WMEM_SCALES, PAL_ADDR_WMEM_SCALES_BITS))
      o_bus_addr = {PAL_TILE_PORT_RG_WMEM_SCALES, 28'd0} | ({24'd0, i_addr[WS_SB +: 8]} << WS_SHIFT) | low(i_addr, WS_SB);
    else if (in_win(i_addr, PAL_ADDR_ACC, PAL_ADDR_ACC_BITS))
      o_bus_addr = {PAL_TILE_PORT_RG_ACC, 28'd0} | low(i_addr, PAL_ADDR_ACC_BITS);
    else if (nar)
      o_bus_addr = {PAL_TILE_PORT_RG_ACC_NAR, nar_word[27:0]};
    else if (in_win(i_addr, PAL_ADDR_BIAS, PAL_ADDR_BIAS_BITS))
      o_bus_addr = {PAL_TILE_PORT_RG_BIAS, 28'd0} | low(i_addr, PAL_ADDR_BIAS_BITS);
    else if (in_win(i_addr, PAL_ADDR_OBUF, PAL_ADDR_OBUF_BITS))
      o_bus_addr = {PAL_TILE_PORT_RG_OBUF, 28'd0} | low(i_addr, PAL_ADDR_OBUF_BITS);
    else if (in_win(i_addr, PAL_ADDR_ABUF_CODES, PAL_ADDR_ABUF_CODES_BITS))
      o_bus_addr = {PAL_TILE_PORT_RG_ABUF_CODES, 28'd0} | low(i_addr, PAL_ADDR_ABUF_CODES_BITS);
    else if (in_win(i_addr, PAL_ADDR_ABUF_SCALES, PAL_ADDR_ABUF_SCALES_BITS))
      o_bus_addr = {PAL_TILE_PORT_RG_ABUF_SCALES, 28'd0} | low(i_addr, PAL_ADDR_ABUF_SCALES_BITS);
    else                                     // IMEM
      o_bus_addr = {PAL_TILE_PORT_RG_IMEM, 28'd0} | low(i_addr - PAL_ADDR_IMEM, IMEM_BITS);
  end

  // NaR flags: one tile transfer per strobed lane (all four for a read)
  reg [3:0]  flags;  // bit 0 of each flag byte (the others read 0)
  wire       lane_on = !i_we || i_wstrb[lane];
  wire       last_lane = lane == 2'd3;
  reg        nar_done;

  assign o_bus_valid = i_valid && (!nar || (lane_on && !nar_done));
  assign o_bus_we = i_we;
  // a NaR flag is bit 0 of its tile word, the only bit the tile takes: the
  // other bits pass as they are (no 32-bit multiplexer)
  assign o_bus_wdata = {i_wdata[31:1], nar ? i_wdata[8 * lane] : i_wdata[0]};
  assign o_bus_wstrb = nar ? 4'hF : i_wstrb;
  assign o_ready = nar ? nar_done : i_bus_ready;
  assign o_rdata = nar ? {7'd0, flags[3], 7'd0, flags[2], 7'd0, flags[1], 7'd0, flags[0]} : i_bus_rdata;

  always @(posedge i_clk) begin
    if (i_rst) begin
      lane <= 2'd0;
      nar_done <= 1'b0;
    end else if (nar_done) begin
      nar_done <= 1'b0;
      lane <= 2'd0;
    end else if (i_valid && nar && (!lane_on || i_bus_ready)) begin
      if (i_bus_ready) flags[lane] <= i_bus_rdata[0];
      if (!lane_on) flags[lane] <= 1'b0;
      lane <= lane + 2'd1;
      if (last_lane) nar_done <= 1'b1;
    end
  end
endmodule
