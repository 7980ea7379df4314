// The write-back of a tile without accumulate units (ACCUMULATE = 0,
// docs/isa.md §1): in place of pal_tile_accu and its FP32 adders, each
// block hand-off writes the P block sums as raw words to ACC plane kb,
//
//   acc[accrow + kb * plane + p] = {s[21:0], e[9:0]},  e = Xw + Xa - 269
//
// (plane = m_count * n_tiles * P; 0 with the NaR flag for a NaR block),
// and the host folds them into FP32 sums (pal_tile_raw_add). It keeps the
// accumulate units' slot schedule, so the walk, the PEs' hand-off
// registers, the block table and the cycle model are those of a tile with
// units: a hand-off that begins in cycle b (i_ho_begin) runs
//   read phase     b+1+j   slot j: the block table is read (o_tab_*)
//   execute phase  b+2+j   slot j: the lanes' sums and {NaR, scale} arrive
//   write          b+3+j   slot j's U words are written
// and o_xfer loads the PEs' hand-off registers in b+1. A row end
// (i_ho_wb) has nothing to write: a tile with units writes its running
// sums there, and the walk still gives it H cycles. Needs H >= 4 like the
// units (the hand-offs are H apart, so a slot's phases never overlap the
// next hand-off's). Why it exists: on the iCE40UP5K the tile packs into
// 3 577 logic cells with it and 4 633 with the accumulate unit and its
// adder (make fpga-fit-tile-raw, make fpga-fit-tile; docs/boards.md).
`default_nettype none

module pal_tile_raw #(
    parameter P = 16,
    parameter U = 4,
    parameter ACC_DEPTH = 4096,
    parameter WBW = 8,                                      // weight block index width
    parameter KIW = 8,                                      // block-in-row index width
    parameter H = (P + U - 1) / U,                          // derived: do not override
    parameter HW = (H > 1) ? $clog2(H) : 1,                 // derived
    parameter AAW = (ACC_DEPTH > 1) ? $clog2(ACC_DEPTH) : 1 // derived
) (
    input  wire              i_clk,
    input  wire              i_rst,
    // hand-off begin
    input  wire              i_ho_begin,
    input  wire              i_ho_wb,      // row end: nothing to write
    input  wire [7:0]        i_ho_ascale,  // activation block scale
    input  wire [AAW-1:0]    i_ho_accrow,  // ACC word of the row's PE 0 in plane 0
    input  wire [WBW-1:0]    i_ho_wblk,    // weight block of the block handed off
    input  wire [KIW-1:0]    i_ho_kb,      // its index in the row: its plane
    input  wire [AAW-1:0]    i_plane,      // words per plane, mod 2^AAW
    output wire              o_xfer,
    // read phase: the block table entry of slot o_tab_slot, block o_tab_wblk
    output wire              o_tab_re,
    output wire [HW-1:0]     o_tab_slot,
    output wire [WBW-1:0]    o_tab_wblk,
    input  wire [22*U-1:0]   i_lane_sum,
    input  wire [U-1:0]      i_lane_nar,
    input  wire [8*U-1:0]    i_lane_scale,
    // ACC writes (values and NaR flags at the same addresses)
    output reg  [U-1:0]      o_acc_we,
    output reg  [AAW-1:0]    o_acc_waddr,
    output reg  [32*U-1:0]   o_acc_wdata,
    output reg  [U-1:0]      o_accnar_wdata
);

  localparam integer HLAST_I = H - 1;
  localparam [HW-1:0] HLAST = HLAST_I[HW-1:0];

  // ---- slot schedule (pal_tile_accu's, for block hand-offs only) ------------
  reg           rd_v, ex_v;
  reg [HW-1:0]  rd_j, ex_j;
  reg [7:0]     rd_ascale, ex_ascale;
  reg [AAW-1:0] rd_base, ex_base;
  reg [WBW-1:0] rd_wblk;

  always @(posedge i_clk) begin
    if (i_rst) begin
      rd_v <= 1'b0;
      ex_v <= 1'b0;
    end else begin
      if (i_ho_begin && !i_ho_wb) rd_v <= 1'b1;
      else if (rd_v && rd_j == HLAST) rd_v <= 1'b0;
      ex_v <= rd_v;
    end
    if (i_ho_begin) begin
      rd_j <= {HW{1'b0}};
      rd_ascale <= i_ho_ascale;
      // the address arithmetic is exact modulo 2^AAW: the decode's range
      // check has put every word the GEMM writes below ACC_DEPTH
      rd_base <= i_ho_accrow + i_ho_kb * i_plane;
      rd_wblk <= i_ho_wblk;
    end else if (rd_v) begin
      rd_j <= rd_j + 1'b1;
    end
    ex_j <= rd_j;
    ex_ascale <= rd_ascale;
    ex_base <= rd_base;
  end

  // the PEs' hand-off registers load in b+1 of a block hand-off, its
  // first read phase
  assign o_xfer = rd_v && rd_j == {HW{1'b0}};
  assign o_tab_re = rd_v;
  assign o_tab_slot = rd_j;
  assign o_tab_wblk = rd_wblk;

  // slot j covers PEs j*U .. j*U+U-1 (fewer in the last slot when U does
  // not divide P)
  wire [31:0] ex_pe0 = {{(32 - HW) {1'b0}}, ex_j} * U;
  wire [U-1:0] ex_lanes;
  genvar u;
  generate
    for (u = 0; u < U; u = u + 1) begin : g_lanes
      assign ex_lanes[u] = ex_pe0 + u < P;
    end
  endgenerate

  // ---- the words ----------------------------------------------------------------
  wire a_nar = ex_ascale == 8'd255;
  always @(posedge i_clk) begin
    if (i_rst) o_acc_we <= {U{1'b0}};
    else o_acc_we <= ex_v ? ex_lanes : {U{1'b0}};
    o_acc_waddr <= ex_base + ex_pe0[AAW-1:0];
  end
  generate
    for (u = 0; u < U; u = u + 1) begin : g_words
      // e = Xw + Xa - 269 (pal-format.md §3: Ew + Ea - 15), 10-bit two's complement
      wire [9:0] e = {2'b00, i_lane_scale[8*u+:8]} + {2'b00, ex_ascale} - 10'd269;
      wire       nar = i_lane_nar[u] | a_nar;
      always @(posedge i_clk) begin
        o_acc_wdata[32*u+:32] <= nar ? 32'd0 : {i_lane_sum[22*u+:22], e};
        o_accnar_wdata[u] <= nar;
      end
    end
  endgenerate

endmodule

`default_nettype wire
