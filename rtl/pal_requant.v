// Re-quantisation of FP32 values to PAL8-B32 blocks (pal-format.md §2,
// pal_b32_encode_block): a block is up to 32 values in, i_last on the final
// one (the 32nd ends a block by itself); 32 codes out, the tail padded with
// code 0, each code with the block's scale byte X and o_last on the 32nd.
//
//   X    = 0 when the largest finite magnitude is zero or subnormal, else
//          min(biased exponent + (significand != 1.0), 254)  (E = X - 127)
//   code = NaR (0x80) for NaN/Inf, 0 for zero/subnormal/d > 126, else
//          S, M = 127 - max(d, 0) with d = 16 (X - biased exponent) - u,
//          u = #{ j : significand >= T_j } (the generated pal_t8 table);
//          the code of one value is pal_tile_enc8, which the tile's POST
//          unit uses too.
//
// The scale needs the whole block before the first code, so values are kept
// in a 2 x 32 x 32-bit memory (two EBRs on an iCE40): one half fills while
// the other drains, and a stream of blocks runs at one value in and one
// code out per cycle. A block's first code leaves 2 cycles after its last
// value went in (when the output side is idle).
`default_nettype none

module pal_requant (
    input  wire        i_clk,
    input  wire        i_rst,
    input  wire        i_valid,
    output wire        o_ready,
    input  wire [31:0] i_data,
    input  wire        i_last,
    output wire        o_valid,
    input  wire        i_ready,
    output wire [7:0]  o_code,
    output wire [7:0]  o_scale,
    output wire        o_last
);

  (* no_rw_check *)
  reg [31:0] values[0:63];  // {half, index}
  reg [1:0]  full;          // half holds a complete block not yet drained
  reg [7:0]  block_scale[0:1];
  reg [4:0]  block_end[0:1];  // index of the block's last value (n - 1)

  // ---- input side: store values, track the largest finite magnitude ------
  reg        wr_half;
  reg [4:0]  wr_index;
  reg [30:0] amax;

  wire        accept = i_valid & ~full[wr_half];
  wire        finite_in = ~(&i_data[30:23]);
  wire [30:0] amax_next = (finite_in && i_data[30:0] > amax) ? i_data[30:0] : amax;
  wire        block_done = i_last | (wr_index == 5'd31);
  wire [7:0]  amax_exp = amax_next[30:23];
  wire [8:0]  scale_up = {1'b0, amax_exp} + {8'd0, |amax_next[22:0]};
  wire [7:0]  scale_next = (amax_exp == 8'd0) ? 8'd0
                         : (scale_up > 9'd254) ? 8'd254 : scale_up[7:0];

  assign o_ready = ~full[wr_half];

  always @(posedge i_clk) begin
    if (accept) values[{wr_half, wr_index}] <= i_data;
  end

  always @(posedge i_clk) begin
    if (accept && block_done) begin
      block_scale[wr_half] <= scale_next;
      block_end[wr_half] <= wr_index;
    end
  end

  always @(posedge i_clk) begin
    if (i_rst) begin
      wr_half <= 1'b0;
      wr_index <= 5'd0;
      amax <= 31'd0;
    end else if (accept) begin
      if (block_done) begin
        wr_half <= ~wr_half;
        wr_index <= 5'd0;
        amax <= 31'd0;
      end else begin
        wr_index <= wr_index + 5'd1;
        amax <= amax_next;
      end
    end
  end

  // ---- output side: read one value per cycle, encode on the way out -------
  reg       rd_half;
  reg [4:0] rd_index;
  reg       out_valid;
  reg [31:0] out_value;
  reg [7:0] out_scale;
  reg       out_pad;
  reg       out_last;

  wire advance = ~out_valid | i_ready;
  wire issue = advance & full[rd_half];

  always @(posedge i_clk) begin
    if (issue) out_value <= values[{rd_half, rd_index}];
  end

  always @(posedge i_clk) begin
    if (i_rst) begin
      rd_half <= 1'b0;
      rd_index <= 5'd0;
      out_valid <= 1'b0;
    end else if (advance) begin
      out_valid <= full[rd_half];
      if (issue) begin
        rd_index <= rd_index + 5'd1;  // wraps to 0 after 31
        if (rd_index == 5'd31) rd_half <= ~rd_half;
      end
    end
    if (issue) begin
      out_scale <= block_scale[rd_half];
      out_pad <= rd_index > block_end[rd_half];
      out_last <= rd_index == 5'd31;
    end
  end

  always @(posedge i_clk) begin
    if (i_rst) full <= 2'b00;
    else
      full <= (full | ({1'b0, accept & block_done} << wr_half))
            & ~({1'b0, issue && rd_index == 5'd31} << rd_half);
  end

  // ---- per-element encoder: the tile's, so the rule is written once ---------
  wire [7:0] code;
  pal_tile_enc8 enc (
      .i_en(~out_pad),
      .i_value(out_value),
      .i_scale(out_scale),
      .o_code(code)
  );

  assign o_valid = out_valid;
  assign o_code = code;
  assign o_scale = out_scale;
  assign o_last = out_last;

endmodule

`default_nettype wire
