// POST datapath (docs/isa.md §2 POST, §4): the sequencer issues one element
// per cycle (ACC and BIAS reads in cycle c, data here in c+1), pal_post
// applies bias, activation and NaR, and the result 4 cycles later is
//   FP32 out:  an OBUF word (o_ob_*), or
//   PAL8 out:  one of two passes over each block of up to 32 outputs of a
//              row: pass 1 finds the block's largest finite magnitude and so
//              its scale X (as pal_b32_encode_block), pass 2 recomputes the
//              same elements and encodes each with X (pal_tile_enc8),
//              writing each code to ABUF as it comes (o_ab_cwe); the last
//              one also writes the block's non-zero bitmap and scale
//              (o_ab_we). The bitmap's clear bits make the tail read as 0
//              (pal_tile_abuf), so no line of 32 codes is kept here.
// This is the model's "2 cycles per element: one pass for the block
// maximum, one to encode", and it needs no buffer for the values.
// o_nar_out pulses for every NaR output (pass 2 only for PAL8).
// SHARE_ADD = 1: pal_post's bias addition uses an adder outside through
// o_add_* / i_add_* (pal_post's EXT_ADD), the one the tile shares with its
// first accumulate unit.
`default_nettype none

module pal_tile_post #(
    parameter ABW = 9,
    parameter OAW = 12,
    parameter SHARE_ADD = 0
) (
    input  wire           i_clk,
    input  wire           i_rst,
    // configuration, static while a POST runs
    input  wire           i_bias_en,
    input  wire [1:0]     i_act,
    input  wire [31:0]    i_clip_lo,
    input  wire [31:0]    i_clip_hi,
    // element issue (cycle c)
    input  wire           i_issue,
    input  wire           i_pal8,
    input  wire           i_pass2,
    input  wire           i_last,   // last element of its block (PAL8)
    input  wire [4:0]     i_idx,    // position in its block (PAL8)
    input  wire [15:0]    i_addr,   // OBUF word (FP32) or ABUF block (PAL8)
    // element data (cycle c+1)
    input  wire [31:0]    i_acc,
    input  wire           i_acc_nar,
    input  wire [31:0]    i_bias,
    // results
    output wire           o_ob_we,
    output wire [OAW-1:0] o_ob_addr,
    output wire [31:0]    o_ob_data,
    output wire           o_ab_cwe,   // a code: o_ab_code at o_ab_idx
    output wire [4:0]     o_ab_idx,
    output wire [7:0]     o_ab_code,
    output wire           o_ab_we,    // the block's bitmap and scale
    output wire [ABW-1:0] o_ab_blk,
    output reg  [31:0]    o_ab_bmap,
    output wire [7:0]     o_ab_scale,
    output wire           o_nar_out,
    // the adder outside (SHARE_ADD = 1)
    output wire           o_add_en,
    output wire           o_add_valid,
    output wire [31:0]    o_add_a,
    output wire [31:0]    o_add_b,
    output wire           o_add_pass,
    output wire [24:0]    o_add_side,   // pal_post's TAG_W + 1
    input  wire           i_add_valid,
    input  wire [31:0]    i_add_sum,
    input  wire           i_add_nar,
    input  wire [24:0]    i_add_side
);

  localparam TAG_W = 24;

  reg             el_v;
  reg [TAG_W-1:0] el_tag;
  always @(posedge i_clk) begin
    if (i_rst) el_v <= 1'b0;
    else el_v <= i_issue;
    el_tag <= {i_pal8, i_pass2, i_last, i_idx, i_addr};
  end

  wire             out_v;
  wire [31:0]      out_data;
  wire             out_nar;
  wire [TAG_W-1:0] out_tag;

  pal_post #(
      .TAG_W  (TAG_W),
      .EXT_ADD(SHARE_ADD)
  ) post (
      .i_clk    (i_clk),
      .i_rst    (i_rst),
      .i_bias_en(i_bias_en),
      .i_act    (i_act),
      .i_clip_lo(i_clip_lo),
      .i_clip_hi(i_clip_hi),
      .i_valid  (el_v),
      /* verilator lint_off PINCONNECTEMPTY */
      .o_ready  (),
      /* verilator lint_on PINCONNECTEMPTY */
      .i_acc    (i_acc),
      .i_nar    (i_acc_nar),
      .i_bias   (i_bias),
      .i_tag    (el_tag),
      .o_valid  (out_v),
      .i_ready  (1'b1),
      .o_data   (out_data),
      .o_nar    (out_nar),
      .o_tag    (out_tag),
      .o_add_en   (o_add_en),
      .o_add_valid(o_add_valid),
      .o_add_a    (o_add_a),
      .o_add_b    (o_add_b),
      .o_add_pass (o_add_pass),
      .o_add_side (o_add_side),
      .i_add_valid(i_add_valid),
      .i_add_sum  (i_add_sum),
      .i_add_nar  (i_add_nar),
      .i_add_side (i_add_side)
  );

  wire        t_pal8 = out_tag[23];
  wire        t_pass2 = out_tag[22];
  wire        t_last = out_tag[21];
  wire [4:0]  t_idx = out_tag[20:16];
  /* verilator lint_off UNUSEDSIGNAL */
  wire [15:0] t_addr = out_tag[15:0];
  /* verilator lint_on UNUSEDSIGNAL */

  // ---- FP32 out ------------------------------------------------------------------
  assign o_ob_we = out_v & ~t_pal8;
  assign o_ob_addr = t_addr[OAW-1:0];
  assign o_ob_data = out_data;
  assign o_nar_out = out_v & out_nar & (~t_pal8 | t_pass2);

  // ---- PAL8 pass 1: the block's scale ----------------------------------------------
  reg  [30:0] amax;
  reg  [7:0]  scale;
  wire        finite = ~(&out_data[30:23]);
  wire [30:0] amax_next = (finite && out_data[30:0] > amax) ? out_data[30:0] : amax;
  wire [7:0]  amax_exp = amax_next[30:23];
  wire [8:0]  scale_up = {1'b0, amax_exp} + {8'd0, |amax_next[22:0]};
  wire [7:0]  scale_next = (amax_exp == 8'd0) ? 8'd0 : (scale_up > 9'd254) ? 8'd254 : scale_up[7:0];
  wire        pass1 = out_v & t_pal8 & ~t_pass2;
  wire        pass2 = out_v & t_pal8 & t_pass2;

  always @(posedge i_clk) begin
    if (i_rst) begin
      amax <= 31'd0;
    end else if (pass1) begin
      amax <= t_last ? 31'd0 : amax_next;
    end
    if (pass1 && t_last) scale <= scale_next;
  end

  // ---- PAL8 pass 2: codes into ABUF --------------------------------------------------
  wire [7:0] code;
  pal_tile_enc8 enc (
      .i_en   (pass2),
      .i_value(out_data),
      .i_scale(scale),
      .o_code (code)
  );

  reg [31:0] bmap;
  always @* begin
    o_ab_bmap = bmap;
    o_ab_bmap[t_idx] = code != 8'd0;
  end
  assign o_ab_cwe = pass2;
  assign o_ab_idx = t_idx;
  assign o_ab_code = code;
  assign o_ab_we = pass2 & t_last;
  assign o_ab_blk = t_addr[ABW-1:0];
  assign o_ab_scale = scale;

  always @(posedge i_clk) begin
    if (i_rst || o_ab_we) bmap <= 32'd0;
    else if (pass2) bmap <= o_ab_bmap;
  end

endmodule

`default_nettype wire
