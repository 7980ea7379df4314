// Activation buffer (docs/isa.md §1): ABUF_BLOCKS PAL8-B32 blocks, each
// 8 words of 4 codes, their E8M0 scales (4 per word), and what the
// hardware keeps beside them, updated on every write: the non-zero bitmap
// of each block (bit i: code i != 0, NaR included) and, as flip-flops, the
// per-block "any non-zero" and "scale is 255" bits (o_avis is their OR: the
// blocks the walk must visit for the activation side).
//
// The bitmap is the authority on which codes are zero: a stored code whose
// bit is clear reads as 0 on the bus, whatever the byte holds. POST
// therefore writes only the codes of its elements, one byte per cycle as
// pass 2 encodes them, and the bitmap at the block's last element clears
// the tail; the buffer needs no whole-block line (no 256-bit write port, no
// 32:1 read mux) and the codes are 32 bits wide, which on the iCE40 is 4
// EBR per 64 blocks instead of 16 (docs/tile-rtl.md, "ABUF"). The walk
// reads only codes whose bit is set (it steps through the bitmap).
//
// Ports: the walk's step read (a word in the address phase, the code at
// position k in the data phase), the walk front end's bitmap/scale read
// (data the next cycle), POST's code write (one code) and block write
// (bitmap, scale, flags; at the block's last code) and the bus (idle tile
// only; phase A reads, phase B writes with byte strobes, the bitmap
// rewritten from the strobed bytes).
`default_nettype none

module pal_tile_abuf #(
    parameter ABUF_BLOCKS = 512,            // >= 8
    parameter ABUF_SPRAM = 0,               // 1: the codes in iCE40 SPRAM
    parameter ABW = $clog2(ABUF_BLOCKS)     // derived: do not override
) (
    input  wire                   i_clk,
    // step read
    input  wire                   i_step_re,
    input  wire [ABW-1:0]         i_step_blk,
    input  wire [4:0]             i_step_k,
    output wire [7:0]             o_step_code,
    // front-end read
    input  wire                   i_fe_re,
    input  wire [ABW-1:0]         i_fe_blk,
    output wire [31:0]            o_fe_bmap,
    output wire [7:0]             o_fe_scale,
    // POST: a code of block i_pw_blk (i_pc_we), the block's bitmap and
    // scale (i_pw_en, with or after its last code)
    input  wire                   i_pc_we,
    input  wire [4:0]             i_pc_k,
    input  wire [7:0]             i_pc_code,
    input  wire                   i_pw_en,
    input  wire [ABW-1:0]         i_pw_blk,
    input  wire [31:0]            i_pw_bmap,
    input  wire [7:0]             i_pw_scale,
    // bus: code words (8 per block) or scale words (4 blocks each)
    input  wire                   i_bus_rd,
    input  wire                   i_bus_scales,
    input  wire [ABW+2:0]         i_bus_word,
    input  wire [3:0]             i_bus_we,
    input  wire [31:0]            i_bus_wdata,
    output wire [31:0]            o_bus_rdata,
    // blocks with a non-zero code or scale 255
    output wire [ABUF_BLOCKS-1:0] o_avis
);

  /* verilator lint_off UNUSEDPARAM */
  `include "pal_tables.vh"
  /* verilator lint_on UNUSEDPARAM */

  localparam SAW = ABW - 2;  // scale words

  wire [ABW-1:0] bus_blk = i_bus_word[ABW+2:3];
  wire [2:0]     bus_q = i_bus_word[2:0];
  wire [SAW-1:0] bus_sw = i_bus_word[SAW-1:0];
  wire           bus_wr = |i_bus_we;

  // ---- codes ------------------------------------------------------------------
  wire [31:0] word_q;
  wire        code_bus_we = bus_wr & ~i_bus_scales;

  pal_tile_ram #(
      .DEPTH(ABUF_BLOCKS * 8),
      .WIDTH(32),
      .LANES(4),
      // reads (walk, bus phase A) and writes (POST, bus phase B) never
      // share a cycle, so one port does
      .SINGLE_PORT(1),
      .RAM_STYLE(ABUF_SPRAM ? "huge" : "auto")
  ) codes (
      .i_clk  (i_clk),
      .i_re   (i_step_re | (i_bus_rd & ~i_bus_scales)),
      .i_raddr(i_bus_rd ? {bus_blk, bus_q} : {i_step_blk, i_step_k[4:2]}),
      .o_rdata(word_q),
      .i_we   (i_pc_we ? (4'd1 << i_pc_k[1:0]) : (code_bus_we ? i_bus_we : 4'd0)),
      .i_waddr(i_pc_we ? {i_pw_blk, i_pc_k[4:2]} : {bus_blk, bus_q}),
      .i_wdata(i_pc_we ? {4{i_pc_code}} : i_bus_wdata)
  );

  reg [1:0] k_d;
  always @(posedge i_clk) k_d <= i_step_k[1:0];
  assign o_step_code = word_q[8*k_d+:8];

  // ---- non-zero bitmaps ----------------------------------------------------------
  wire [31:0] bmap_q;
  reg  [31:0] bmap_new;  // bus code write: the block's bitmap after the merge
  integer b;
  always @* begin
    bmap_new = bmap_q;
    for (b = 0; b < 4; b = b + 1)
      if (i_bus_we[b]) bmap_new[{bus_q, b[1:0]}] = i_bus_wdata[8*b+:8] != PAL_CODE_ZERO;
  end
  wire bmap_bus_we = code_bus_we;

  pal_tile_ram #(
      .DEPTH(ABUF_BLOCKS),
      .WIDTH(32),
      .LANES(1)
  ) bmaps (
      .i_clk  (i_clk),
      .i_re   (i_fe_re | (i_bus_rd & ~i_bus_scales)),
      .i_raddr(i_bus_rd ? bus_blk : i_fe_blk),
      .o_rdata(bmap_q),
      .i_we   (i_pw_en | bmap_bus_we),
      .i_waddr(i_pw_en ? i_pw_blk : bus_blk),
      .i_wdata(i_pw_en ? i_pw_bmap : bmap_new)
  );
  assign o_fe_bmap = bmap_q;

  // ---- scales -------------------------------------------------------------------
  wire [31:0] scale_q;
  reg  [1:0]  fe_lane_d;
  always @(posedge i_clk) fe_lane_d <= i_fe_blk[1:0];

  pal_tile_ram #(
      .DEPTH(1 << SAW),
      .WIDTH(32),
      .LANES(4)
  ) scales (
      .i_clk  (i_clk),
      .i_re   (i_fe_re | (i_bus_rd & i_bus_scales)),
      .i_raddr(i_bus_rd ? bus_sw : i_fe_blk[ABW-1:2]),
      .o_rdata(scale_q),
      .i_we   (i_pw_en ? (4'd1 << i_pw_blk[1:0]) : ((bus_wr && i_bus_scales) ? i_bus_we : 4'd0)),
      .i_waddr(i_pw_en ? i_pw_blk[ABW-1:2] : bus_sw),
      .i_wdata(i_pw_en ? {4{i_pw_scale}} : i_bus_wdata)
  );
  assign o_fe_scale = scale_q[8*fe_lane_d+:8];

  // a code reads as stored where its bitmap bit is set, else as 0
  reg [2:0] bus_q_d;
  always @(posedge i_clk) bus_q_d <= bus_q;
  wire [3:0]  word_nz = bmap_q[{bus_q_d, 2'b00}+:4];
  wire [31:0] word_vis = word_q & {{8{word_nz[3]}}, {8{word_nz[2]}}, {8{word_nz[1]}}, {8{word_nz[0]}}};
  assign o_bus_rdata = i_bus_scales ? scale_q : word_vis;

  // ---- per-block flags --------------------------------------------------------------
  // A write touches one block's anz (a bitmap: bus code write or POST) or
  // up to four blocks' s255 (a scale word), all in one group of four
  // blocks (pal_tile_abuf_flags).
  reg [SAW-1:0] fl_grp;   // the group of four blocks written
  reg [3:0]     fl_lanes; // its blocks written
  reg [3:0]     fl_val;   // their new flag
  reg           fl_anz, fl_s255;  // which flags
  always @* begin
    fl_grp = bus_sw;
    fl_lanes = 4'd0;
    fl_val = 4'd0;
    fl_anz = 1'b0;
    fl_s255 = 1'b0;
    if (i_pw_en) begin
      // POST writes both: its block's scale is never 255
      fl_grp = i_pw_blk[ABW-1:2];
      fl_lanes = 4'd1 << i_pw_blk[1:0];
      fl_val = {4{|i_pw_bmap}};
      fl_anz = 1'b1;
      fl_s255 = 1'b1;
    end else if (bmap_bus_we) begin
      fl_grp = bus_blk[ABW-1:2];
      fl_lanes = 4'd1 << bus_blk[1:0];
      fl_val = {4{|bmap_new}};
      fl_anz = 1'b1;
    end else if (bus_wr) begin
      fl_lanes = i_bus_we;
      for (b = 0; b < 4; b = b + 1) fl_val[b] = i_bus_wdata[8*b+:8] == PAL_SCALE_NAR;
      fl_s255 = 1'b1;
    end
  end
  pal_tile_abuf_flags #(.N(ABUF_BLOCKS)) flags (
      .i_clk     (i_clk),
      .i_grp     (fl_grp),
      .i_anz_we  (fl_anz ? fl_lanes : 4'd0),
      .i_anz_val (fl_val),
      .i_s255_we (fl_s255 ? fl_lanes : 4'd0),
      .i_s255_val(i_pw_en ? 4'd0 : fl_val),
      .o_avis    (o_avis)
  );

endmodule

`default_nettype wire
