// One processing element of the tile's array (docs/tile-rtl.md): the block
// sum of pal-format.md §3 over broadcast steps, exactly as rtl/pal_pe.v
// computes it, around the weight-code memory and the hand-off the tile
// needs.
//
// Why not pal_pe itself: the tile's weight memory is a host-visible region
// (codes and scales are read back separately, docs/isa.md §1), so it must be
// readable from the bus, and a weight block holding a NaR code must stay
// stored with the scale the host wrote. pal_pe keeps {scale, code} per word
// behind a write-only port and asks the writer to mark NaR-code blocks with
// scale 255. Here the PE keeps only the codes, 2 per 16-bit word (the
// iCE40's block RAM is 16 bits wide: a 32-bit memory takes two, whatever
// its depth; the bus writes a 32-bit word in two passes). A block's
// scale and NaR flag (a NaR code in the block or scale 255, so that NaR
// weights facing skipped zero activations still make the output NaR) are
// needed only when the block is handed off, so they live in the array's
// block table (pal_tile_array), which the accumulate units read at the
// PE's slot: in flip-flops inside every PE they were 180 of each PE's 269
// flip-flops on the iCE40 (docs/boards.md). The hand-off is scheduled by
// the sequencer (i_xfer) instead of a valid/ready pair: the accumulate
// units take every PE on a fixed slot.
//
// Step pipeline (the sequencer's walk, docs/isa.md §4):
//   address phase t    i_step_mac (a step that broadcasts an activation
//                      code), block i_step_wb and position i_step_k: the
//                      weight word is read
//   data phase t+1     i_code: the signed product (L table, shift, sign:
//                      one's complement, the +1 kept as a carry-in bit)
//                      and the step's NaR; registered
//   t+2                added into the 22-bit block sum
// i_xfer in cycle X copies the block sum (with the product registered in
// X-1) and its NaR (from the steps) into the output register and restarts
// the sum: the sequencer raises it one cycle after a hand-off begins,
// which is after the block's last product and before the next block's
// first one. In every other cycle the output register takes the next PE's
// of the same accumulate lane (i_chain_*), so PE j*U + u's sum is at lane
// u's first PE j cycles after X, when the unit takes slot j.
//
// Bus (only while the tile is idle): the array reads this PE's code half
// word (i_bus_rd, o_code_q the cycle after) and writes it back merged
// (i_code_we): the read-modify-write that keeps the NaR counts and flags
// lives once in pal_tile_array, not in every PE.
`default_nettype none

module pal_tile_pe #(
    parameter WMEM_BLOCKS = 256,                  // >= 8
    parameter WBW = $clog2(WMEM_BLOCKS),          // derived: do not override
    parameter HAW = WBW + 4                       // derived: code half-word address
) (
    input  wire           i_clk,
    input  wire           i_rst,
    // step, address phase
    input  wire           i_step_mac,    // a step that broadcasts an activation code
    input  wire [WBW-1:0] i_step_wb,
    input  wire [4:0]     i_step_k,
    // step, data phase
    input  wire [7:0]     i_code,
    // hand-off
    input  wire           i_xfer,
    input  wire [21:0]    i_chain_sum,   // the next PE of this PE's lane: shifted in
    input  wire           i_chain_nar,   // when there is no i_xfer
    output reg  [21:0]    o_sum,
    output reg            o_nar,         // a NaR operand in the block's steps
    output reg            o_gated,
    // bus (tile idle): read the words at the addresses, write them back
    input  wire           i_bus_rd,
    input  wire           i_bus_sel,     // this PE is the one written
    input  wire [HAW-1:0] i_bus_hw,      // code half word
    input  wire           i_code_we,     // whole half words, merged by the array
    input  wire [15:0]    i_code_wdata,
    output wire [15:0]    o_code_q       // 2 codes
);

  // ---- weight codes, 2 per word -----------------------------------------------
  pal_tile_ram #(
      .DEPTH(WMEM_BLOCKS * 16),
      .WIDTH(16),
      .LANES(1)
  ) codes (
      .i_clk  (i_clk),
      .i_re   (i_step_mac | i_bus_rd),
      .i_raddr(i_bus_rd ? i_bus_hw : {i_step_wb, i_step_k[4:1]}),
      .o_rdata(o_code_q),
      .i_we   (i_bus_sel & i_code_we),
      .i_waddr(i_bus_hw),
      .i_wdata(i_code_wdata)
  );

  // ---- data phase -------------------------------------------------------------
  reg mac_d;
  reg ksel_d;
  always @(posedge i_clk) begin
    if (i_rst) mac_d <= 1'b0;
    else mac_d <= i_step_mac;
    ksel_d <= i_step_k[0];
  end

  wire [7:0] wcode = ksel_d ? o_code_q[15:8] : o_code_q[7:0];

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

  // The hand-off register loads the block sum on i_xfer and otherwise
  // takes the next PE's of its lane: the lane's registers form a chain that
  // moves one PE toward the accumulate unit every cycle, so the unit reads
  // slot j from the lane's first PE j cycles after the transfer, with no
  // multiplexer across the lane (on the iCE40 the chain's 2:1 multiplexer
  // is the flip-flop's own LUT, where a register loaded only on i_xfer sat
  // in a logic cell of its own).
  always @(posedge i_clk) begin
    o_sum <= i_xfer ? acc_next : i_chain_sum;
    o_nar <= i_xfer ? nar_next : i_chain_nar;
  end

endmodule

`default_nettype wire
