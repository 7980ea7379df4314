// The bus bridge between the link engine's bus master (the geometry-free
// map of docs/protocol.md §5) and the tile's slave port (docs/tile-rtl.md:
// region in [31:28], per-PE fields sized by the geometry, one word per ACC
// NaR flag). Windows map to tile regions; PE p and its offset move into the
// tile's PE field; a word of four byte-sized NaR flags becomes up to four
// one-word transfers (bit 0 each). The executor has already checked the
// access (bounds, alignment, busy tile), so nothing is checked here.
`default_nettype none

module pal_soc_bridge #(
    parameter integer WMEM_BLOCKS = 256
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
  localparam integer WBW = $clog2(WMEM_BLOCKS);
  localparam integer WC_SHIFT = WBW + 5;
  localparam integer WS_SHIFT = (WBW > 2) ? WBW : 2;

  wire nar = i_addr[31:20] == 12'h031;

  // translation of every other window
  always @(*) begin
    if (i_addr[31:8] == 24'd0)
      o_bus_addr = {4'h0, 20'd0, i_addr[7:0]};
    else if (i_addr[31:24] == 8'h01)        // WMEM codes: PE in [23:16]
      o_bus_addr = {4'h4, 28'd0} | ({24'd0, i_addr[23:16]} << WC_SHIFT) | {16'd0, i_addr[15:0]};
    else if (i_addr[31:20] == 12'h020)      // WMEM scales: PE in [19:12]
      o_bus_addr = {4'h5, 28'd0} | ({24'd0, i_addr[19:12]} << WS_SHIFT) | {20'd0, i_addr[11:0]};
    else if (i_addr[31:20] == 12'h030)
      o_bus_addr = {4'h6, 8'd0, i_addr[19:0]};
    else if (nar)
      o_bus_addr = {4'h7, 6'd0, i_addr[19:2], lane, 2'b00};
    else if (i_addr[31:20] == 12'h032)
      o_bus_addr = {4'h8, 8'd0, i_addr[19:0]};
    else if (i_addr[31:20] == 12'h033)
      o_bus_addr = {4'h9, 8'd0, i_addr[19:0]};
    else if (i_addr[31:19] == 13'h0002)     // ABUF codes 0x10_0000..0x17_FFFF
      o_bus_addr = {4'h2, 9'd0, i_addr[18:0]};
    else if (i_addr[31:16] == 16'h0018)     // ABUF scales
      o_bus_addr = {4'h3, 12'd0, i_addr[15:0]};
    else                                     // IMEM 0x1_0000..0xF_FFFF
      o_bus_addr = {4'h1, 8'd0, i_addr[19:0] - 20'h10000};
  end

  // NaR flags: one tile transfer per strobed lane (all four for a read)
  reg [1:0]  lane;
  reg [31:0] flags;
  wire       lane_on = !i_we || i_wstrb[lane];
  wire       last_lane = lane == 2'd3;
  reg        nar_done;

  assign o_bus_valid = i_valid && (!nar || (lane_on && !nar_done));
  assign o_bus_we = i_we;
  assign o_bus_wdata = nar ? {31'd0, i_wdata[8 * lane]} : i_wdata;
  assign o_bus_wstrb = nar ? 4'hF : i_wstrb;
  assign o_ready = nar ? nar_done : i_bus_ready;
  assign o_rdata = nar ? flags : i_bus_rdata;

  always @(posedge i_clk) begin
    if (i_rst) begin
      lane <= 2'd0;
      nar_done <= 1'b0;
    end else if (nar_done) begin
      nar_done <= 1'b0;
      lane <= 2'd0;
    end else if (i_valid && nar && (!lane_on || i_bus_ready)) begin
      if (i_bus_ready) flags[8 * lane +: 8] <= {7'd0, i_bus_rdata[0]};
      if (!lane_on) flags[8 * lane +: 8] <= 8'd0;
      lane <= lane + 2'd1;
      if (last_lane) nar_done <= 1'b1;
    end
  end
endmodule
