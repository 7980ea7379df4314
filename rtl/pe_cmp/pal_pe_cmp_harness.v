// A few-pin harness around an R x C array of one PE type, so that the PE
// area comparison (make bench-fpga) places and routes on the iCE40UP5K-SG48
// with every PE input driven and every output observed. All PEs share one
// operand feed, as in the tile: the broadcast step bus (k, activation code,
// last, flush), while weight writes go to one PE at a time (selected by
// index, so no two PEs hold the same weights and none can be merged away).
//
// Pins: i_sin/i_shift shift a command word in (one bit a cycle, LSB first)
// that drives the array directly; i_cap loads the selected PE's outputs
// into an output shift register that i_cap low shifts out on o_sout. The
// harness logic is identical for every PE type except the output word's
// width, which follows the PE's block-sum width.
//
// Each PE keeps its own hierarchy through synthesis (keep_hierarchy), as
// in a real array where every PE is its own instance: flattening all 16
// into one netlist lets ABC restructure across PEs that share the step
// bus, which inflated the INT8 array by ~75 % over 16 lone INT8 PEs in
// Yosys 0.23 while leaving PAL8 alone, and that would not be a property
// of the arithmetic.
//
// PE_TYPE: 0 PAL8 (rtl/pal_pe.v), 1 INT8 MAC (pal_pe_int8), 2 FP8 E4M3
// (pal_pe_fp8).
`default_nettype none

module pal_pe_cmp_harness #(
    parameter PE_TYPE = 0,
    parameter R = 4,
    parameter C = 4
) (
    input  wire i_clk,
    input  wire i_rst,
    input  wire i_sin,
    input  wire i_shift,
    input  wire i_cap,
    output wire o_sout
);

  localparam N = R * C;
  localparam PW = (N > 1) ? $clog2(N) : 1;
  localparam SUMW = (PE_TYPE == 0) ? 22 : (PE_TYPE == 1) ? 32 : 42;
  localparam OW = SUMW + 12;  // {gated, end_ready, valid, nar, scale, sum}
  // command word: sel, we, waddr, wcode, wscale, k, valid, code, last,
  // flush, ready, osel
  localparam CW = 2 * PW + 8 * 5 + 5;

  reg [CW-1:0] cmd;
  always @(posedge i_clk) begin
    if (i_shift) cmd <= {i_sin, cmd[CW-1:1]};
  end

  wire [PW-1:0] c_sel    = cmd[PW-1:0];
  wire          c_we     = cmd[PW];
  wire [7:0]    c_waddr  = cmd[PW+1+:8];
  wire [7:0]    c_wcode  = cmd[PW+9+:8];
  /* verilator lint_off UNUSEDSIGNAL */  // INT8 has no block scale
  wire [7:0]    c_wscale = cmd[PW+17+:8];
  /* verilator lint_on UNUSEDSIGNAL */
  wire [7:0]    c_k      = cmd[PW+25+:8];
  wire          c_valid  = cmd[PW+33];
  wire [7:0]    c_code   = cmd[PW+34+:8];
  wire          c_last   = cmd[PW+42];
  wire          c_flush  = cmd[PW+43];
  wire          c_ready  = cmd[PW+44];
  wire [PW-1:0] c_osel   = cmd[PW+45+:PW];

  wire [N*OW-1:0] words;

  genvar i;
  generate
    for (i = 0; i < N; i = i + 1) begin : g_pe
      wire we = c_we & (c_sel == i);
      wire ready = c_ready & (c_osel == i);
      wire end_ready, valid, gated;
      if (PE_TYPE == 0) begin : g_pal8
        wire [21:0] sum;
        wire        nar;
        wire [7:0]  scale;
        (* keep_hierarchy *)
        pal_pe #(.WDEPTH(256)) u_pe (
          .i_clk(i_clk), .i_rst(i_rst), .i_w_we(we), .i_w_addr(c_waddr),
          .i_w_code(c_wcode), .i_w_scale(c_wscale), .i_step_k(c_k),
          .i_step_valid(c_valid), .i_step_code(c_code), .i_step_last(c_last),
          .i_flush(c_flush), .o_end_ready(end_ready), .o_valid(valid),
          .i_ready(ready), .o_sum(sum), .o_nar(nar), .o_scale(scale), .o_gated(gated));
        assign words[i*OW+:OW] = {gated, end_ready, valid, nar, scale, sum};
      end else if (PE_TYPE == 1) begin : g_int8
        wire [31:0] sum;
        (* keep_hierarchy *)
        pal_pe_int8 #(.WDEPTH(256)) u_pe (
          .i_clk(i_clk), .i_rst(i_rst), .i_w_we(we), .i_w_addr(c_waddr),
          .i_w_code(c_wcode), .i_step_k(c_k),
          .i_step_valid(c_valid), .i_step_code(c_code), .i_step_last(c_last),
          .i_flush(c_flush), .o_end_ready(end_ready), .o_valid(valid),
          .i_ready(ready), .o_sum(sum), .o_gated(gated));
        // no scale, no NaR: those bits of the word are constant
        assign words[i*OW+:OW] = {gated, end_ready, valid, 9'd0, sum};
      end else begin : g_fp8
        wire [41:0] sum;
        wire        nar;
        wire [7:0]  scale;
        (* keep_hierarchy *)
        pal_pe_fp8 #(.WDEPTH(256)) u_pe (
          .i_clk(i_clk), .i_rst(i_rst), .i_w_we(we), .i_w_addr(c_waddr),
          .i_w_code(c_wcode), .i_w_scale(c_wscale), .i_step_k(c_k),
          .i_step_valid(c_valid), .i_step_code(c_code), .i_step_last(c_last),
          .i_flush(c_flush), .o_end_ready(end_ready), .o_valid(valid),
          .i_ready(ready), .o_sum(sum), .o_nar(nar), .o_scale(scale), .o_gated(gated));
        assign words[i*OW+:OW] = {gated, end_ready, valid, nar, scale, sum};
      end
    end
  endgenerate

  // Output: capture the selected PE's word, then shift it out. An explicit
  // AND-OR mux: `words[c_osel*OW +: OW]` with OW not a power of two became
  // a general shifter in Yosys 0.23 for some widths (thousands of LUTs).
  reg [OW-1:0] sel_word;
  integer j;
  always @(*) begin
    sel_word = {OW{1'b0}};
    for (j = 0; j < N; j = j + 1)
      if (c_osel == j[PW-1:0]) sel_word = sel_word | words[j*OW+:OW];
  end

  reg [OW-1:0] out;
  always @(posedge i_clk) begin
    if (i_cap) out <= sel_word;
    else out <= {1'b0, out[OW-1:1]};
  end
  assign o_sout = out[0];

endmodule

`default_nettype wire
