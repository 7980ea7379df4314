// One processing element of the tile's array (docs/tile-rtl.md): the block
// sum of pal-format.md §3 over broadcast steps, exactly as rtl/pal_pe.v
// computes it, around the memories and the hand-off the tile needs.
//
// Why not pal_pe itself: the tile's weight memory is a host-visible region
// (codes and scales are read back separately, docs/isa.md §1), so it must be
// readable from the bus, and a weight block holding a NaR code must stay
// stored with the scale the host wrote. pal_pe keeps {scale, code} per word
// behind a write-only port and asks the writer to mark NaR-code blocks with
// scale 255. Here the PE keeps codes (4 per word), one {NaR flag, scale}
// entry per block and the NaR-code count per block that maintains the flag
// on every write; the flag (NaR code or scale 255) is the PE's NaR for a
// block, so NaR weights facing skipped zero activations still make the
// output NaR. The hand-off is scheduled by the sequencer (i_xfer) instead of
// a valid/ready pair: the accumulate units take every PE on a fixed slot.
//
// Step pipeline (the sequencer's walk, docs/isa.md §4):
//   address phase t    i_step_mac (a step that broadcasts an activation
//                      code), i_step_first (the first step of a visited
//                      block, NaR-only ones too), block i_step_wb and
//                      position i_step_k: the weight word, and on a first
//                      step the block's {flag, scale}, are read
//   data phase t+1     i_code: the signed product (L table, shift, sign:
//                      one's complement, the +1 kept as a carry-in bit)
//                      and the step's NaR; registered
//   t+2                added into the 22-bit block sum
// i_xfer in cycle X copies the block sum (with the product registered in
// X-1), its NaR (steps, or the block's flag) and the weight scale into the
// output register and restarts the sum: the sequencer raises it one cycle
// after a hand-off begins, which is after the block's last product and
// before the next block's first one.
//
// Bus (only while the tile is idle): the array reads this PE's three words
// (i_bus_rd, o_*_q the cycle after) and writes them back merged (i_*_we):
// the read-modify-write that keeps the NaR counts and flags lives once in
// pal_tile_array, not in every PE.
`default_nettype none

module pal_tile_pe #(
    parameter WMEM_BLOCKS = 256,                  // >= 8
    parameter WBW = $clog2(WMEM_BLOCKS),          // derived: do not override
    parameter CAW = WBW + 3,                      // derived: code word address
    parameter BAW = WBW - 2                       // derived: block-info word address
) (
    input  wire           i_clk,
    input  wire           i_rst,
    // step, address phase
    input  wire           i_step_first,  // first step of a visited block: read its info
    input  wire           i_step_mac,    // ... that broadcasts an activation code
    input  wire [WBW-1:0] i_step_wb,
    input  wire [4:0]     i_step_k,
    // step, data phase
    input  wire [7:0]     i_code,
    // hand-off
    input  wire           i_xfer,
    output reg  [21:0]    o_sum,
    output reg            o_nar,
    output reg  [7:0]     o_scale,
    output reg            o_gated,
    // bus (tile idle): read the words at the addresses, write them back
    input  wire           i_bus_rd,
    input  wire           i_bus_sel,     // this PE is the one written
    input  wire [CAW-1:0] i_bus_cw,      // code word
    input  wire [BAW-1:0] i_bus_bw,      // block-info word (4 blocks)
    input  wire           i_code_we,     // whole words, merged by the array
    input  wire [31:0]    i_code_wdata,
    input  wire           i_info_we,
    input  wire [59:0]    i_info_wdata,
    output wire [31:0]    o_code_q,      // 4 codes
    output wire [59:0]    o_info_q       // 4 x {NaR-code count[6], NaR flag, scale[8]}
);

  // ---- memories -----------------------------------------------------------
  // codes: 4 per word. info: per block its scale, its NaR flag (a NaR code
  // or scale 255) and the count of NaR codes that keeps the flag; 4 blocks
  // per word, like the bus's scale words.
  wire [31:0] code_q;
  wire [59:0] info_q;

  pal_tile_ram #(
      .DEPTH(WMEM_BLOCKS * 8),
      .WIDTH(32),
      .LANES(1)
  ) codes (
      .i_clk  (i_clk),
      .i_re   (i_step_mac | i_bus_rd),
      .i_raddr(i_bus_rd ? i_bus_cw : {i_step_wb, i_step_k[4:2]}),
      .o_rdata(code_q),
      .i_we   (i_bus_sel & i_code_we),
      .i_waddr(i_bus_cw),
      .i_wdata(i_code_wdata)
  );

  pal_tile_ram #(
      .DEPTH(1 << BAW),
      .WIDTH(60),
      .LANES(1)
  ) info (
      .i_clk  (i_clk),
      .i_re   (i_step_first | i_bus_rd),
      .i_raddr(i_bus_rd ? i_bus_bw : i_step_wb[WBW-1:2]),
      .o_rdata(info_q),
      .i_we   (i_bus_sel & i_info_we),
      .i_waddr(i_bus_bw),
      .i_wdata(i_info_wdata)
  );

  assign o_code_q = code_q;
  assign o_info_q = info_q;

  // ---- data phase -------------------------------------------------------------
  reg       first_d, mac_d;
  reg [1:0] ksel_d, lsel_d;
  always @(posedge i_clk) begin
    if (i_rst) begin
      first_d <= 1'b0;
      mac_d <= 1'b0;
    end else begin
      first_d <= i_step_first;
      mac_d <= i_step_mac;
    end
    ksel_d <= i_step_k[1:0];
    lsel_d <= i_step_wb[1:0];
  end

  wire [7:0] wcode = code_q[8*ksel_d+:8];

  // the block's weight scale and NaR flag, for its hand-off
  reg [7:0] cur_scale;
  reg       cur_wnar;
  always @(posedge i_clk) begin
    if (first_d) {cur_wnar, cur_scale} <= info_q[15*lsel_d+:9];
  end

  // the step's product (pal_pe_prod: L table, shift, sign; one's complement
  // with the +1 apart) and flags, registered, then added into the 22-bit
  // block sum with the +1 as the adder's carry-in
  wire [16:0] term;
  wire        neg, step_nar, step_gated;
  pal_pe_prod u_prod (
      .i_valid(mac_d),
      .i_wcode(wcode),
      .i_acode(i_code),
      .o_term (term),
      .o_neg  (neg),
      .o_nar  (step_nar),
      .o_gated(step_gated)
  );

  reg [16:0] p_term;
  reg        p_neg;
  reg        p_nar;
  always @(posedge i_clk) begin
    if (i_rst) begin
      p_term <= 17'd0;
      p_neg <= 1'b0;
      p_nar <= 1'b0;
      o_gated <= 1'b0;
    end else begin
      p_term <= term;
      p_neg <= neg;
      p_nar <= step_nar;
      o_gated <= step_gated;
    end
  end

  // ---- block sum and hand-off -------------------------------------------------
  reg [21:0] acc;
  reg        acc_nar;
  // acc + term + neg as one carry chain: the extra low bit is the carry-in
  // (bit 0 of the sum is not used).
  /* verilator lint_off UNUSEDSIGNAL */
  wire [22:0] acc_sum = {acc, 1'b1} + {{5{p_term[16]}}, p_term, p_neg};
  /* verilator lint_on UNUSEDSIGNAL */
  wire [21:0] acc_next = acc_sum[22:1];
  wire        nar_next = acc_nar | p_nar;

  always @(posedge i_clk) begin
    if (i_rst || i_xfer) begin
      acc <= 22'd0;
      acc_nar <= 1'b0;
    end else begin
      acc <= acc_next;
      acc_nar <= nar_next;
    end
  end

  always @(posedge i_clk) begin
    if (i_xfer) begin
      o_sum <= acc_next;
      o_nar <= nar_next | cur_wnar;
      o_scale <= cur_scale;
    end
  end

endmodule

`default_nettype wire
