// One processing element of the weight-stationary, activation-broadcast
// array (ARCHITECTURE.md "The tile", pal-format.md §3). It holds WDEPTH
// weight codes, each stored beside its 32-code block's E8M0 scale byte, takes
// one broadcast step per cycle (k, activation code) and accumulates the
// products of one block into a 22-bit two's-complement block sum:
//
//   D = (127 - Mw) + (127 - Ma),  p = (L[D & 15] << 7) >> (D >> 4),
//   sum += (Sw ^ Sa) ? -p : p
//
// Zero weights are gated (o_gated pulse, no accumulate); NaR in either
// operand sets the block's sticky NaR flag. The sequencer never sends zero
// activations (one that does arrive is not accumulated either).
//
// NaR times zero is NaR (§3), also when the zero activation was skipped and
// the PE never saw the pair. A skipped pair can only hide a NaR *weight*, so
// the contract is: a weight block holding any NaR code is stored with scale
// byte 255 ("the whole block is NaR"; whoever prepares the weight image sets
// it, as the golden model's datapath treats both alike), and the PE raises
// o_nar for every block whose scale byte is 255. o_nar is then the complete
// NaR flag of the weight side of the block's dot product.
//
// Weight memory: one word {scale, code} per code, written through i_w*.
// Every word of a block must carry that block's scale (the loader writes the
// scale with each code). Keeping the scale in the code's word lets a single
// 1R1W memory with registered read (one iCE40 EBR in 256 x 16 mode at the
// default depth) deliver code and scale in the same cycle; a separate scale
// memory would cost a second EBR per PE, and 16 PEs x 2 do not fit the 30
// of an iCE40UP5K. A write and a step read of the same address in one cycle
// return the old or the new word (unspecified).
//
// Step interface: the broadcast bus has an address phase and, one cycle
// later, a data phase, like the synchronous activation-buffer read that
// produces the code. No backpressure on ordinary steps.
//   address phase, cycle t:  i_step_k      weight address (k within memory)
//   data phase, cycle t+1:   i_step_valid  a MAC step with i_step_code
//                            i_step_last   with i_step_valid: last step of
//                                          the block
//                            i_flush       end the block without a MAC (all
//                                          of its activations were zero);
//                                          i_step_k in cycle t still names a
//                                          word of the block, for its scale
//
// Hand-off: the block sum of an end (i_step_valid & i_step_last, or i_flush)
// in data phase d, its NaR flag and the weight block's scale byte are
// written to the output register at the clock edge that ends cycle d+1 and
// shown from cycle d+2 (o_valid) until taken (o_valid & i_ready); the
// accumulator restarts at 0 at once, so the next block's steps go on back
// to back, no cycle lost at a block boundary. The one rule: the output
// register must be free for that write, i.e. in cycle d+1 o_valid is low or
// i_ready is high. A consumer that drains its PEs on a fixed schedule (the
// column's FP32 unit taking one PE per cycle) lets the sequencer end blocks
// as fast as that schedule allows. o_end_ready is the simple, conservative
// form of the rule for sequencers that do not know the schedule: it depends
// on registered state only, an end may be presented in a data phase while it
// is high, and once high it stays high until an end is presented (so it can
// be sampled in the address phase, as long as that cycle's data phase is no
// end). With it, and sums taken at once, a block can end every 4 cycles.
//
// o_gated pulses, one cycle after the data phase, for each step whose weight
// code is zero (the MACS_GATED counter of docs/isa.md).
`default_nettype none

module pal_pe #(
    parameter WDEPTH = 256,             // weight codes, a multiple of 32
    parameter AW = $clog2(WDEPTH)       // derived: do not override
) (
    input  wire          i_clk,
    input  wire          i_rst,
    // weight memory write port
    input  wire          i_w_we,
    input  wire [AW-1:0] i_w_addr,
    input  wire [7:0]    i_w_code,
    input  wire [7:0]    i_w_scale,      // scale of the block holding i_w_addr
    // broadcast step: address phase
    input  wire [AW-1:0] i_step_k,
    // broadcast step: data phase, one cycle after the address phase
    input  wire          i_step_valid,
    input  wire [7:0]    i_step_code,
    input  wire          i_step_last,
    input  wire          i_flush,
    output wire          o_end_ready,
    // block sum out
    output reg           o_valid,
    input  wire          i_ready,
    output reg  [21:0]   o_sum,
    output reg           o_nar,
    output reg  [7:0]    o_scale,
    // performance counter pulse, one cycle after the data phase
    output reg           o_gated
);

  // ---- local weight memory: {scale, code} per code ------------------------
  (* no_rw_check *)
  reg [15:0] weights[0:WDEPTH-1];

  always @(posedge i_clk) begin
    if (i_w_we) weights[i_w_addr] <= {i_w_scale, i_w_code};
  end

  // Address phase: read the weight word.
  reg [7:0] wcode;
  reg [7:0] wscale;
  always @(posedge i_clk) begin
    {wscale, wcode} <= weights[i_step_k];
  end

  // ---- data phase: the product ---------------------------------------------
  wire step_end = (i_step_valid & i_step_last) | i_flush;

  // The step's product (pal_pe_prod: L table, shift, sign) as the one's
  // complement of the signed contribution (0 when there is nothing to add);
  // the accumulate stage adds the +1 of a negation as a carry-in.
  wire [16:0] contrib;
  wire        add_neg, step_nar, step_gated;
  pal_pe_prod u_prod (
      .i_valid(i_step_valid),
      .i_wcode(wcode),
      .i_acode(i_step_code),
      .o_term (contrib),
      .o_neg  (add_neg),
      .o_nar  (step_nar),
      .o_gated(step_gated)
  );

  // Product register: the step's signed contribution and flags.
  reg        p_end;
  reg        p_nar;
  reg [16:0] p_contrib;
  reg        p_neg;
  reg [7:0]  p_scale;

  always @(posedge i_clk) begin
    p_contrib <= contrib;
    p_neg <= add_neg;
    p_scale <= wscale;
  end

  always @(posedge i_clk) begin
    if (i_rst) begin
      p_end <= 1'b0;
      p_nar <= 1'b0;
      o_gated <= 1'b0;
    end else begin
      p_end <= step_end;
      p_nar <= step_nar;
      o_gated <= step_gated;
    end
  end

  // ---- accumulate; at a block end hand the sum over and restart ----------
  reg [21:0] acc;
  reg        acc_nar;

  // acc + contrib + neg as one carry chain: the extra low bit is the carry-in
  // (bit 0 of the sum is not used).
  /* verilator lint_off UNUSEDSIGNAL */
  wire [22:0] acc_sum = {acc, 1'b1} + {{5{p_contrib[16]}}, p_contrib, p_neg};
  /* verilator lint_on UNUSEDSIGNAL */
  wire [21:0] acc_next = acc_sum[22:1];
  wire        nar_next = acc_nar | p_nar;

  always @(posedge i_clk) begin
    if (i_rst) begin
      acc <= 22'd0;
      acc_nar <= 1'b0;
      o_valid <= 1'b0;
    end else begin
      if (p_end) begin
        acc <= 22'd0;
        acc_nar <= 1'b0;
        o_valid <= 1'b1;
      end else begin
        acc <= acc_next;
        acc_nar <= nar_next;
        if (i_ready) o_valid <= 1'b0;
      end
    end
  end

  always @(posedge i_clk) begin
    if (p_end) begin
      o_sum <= acc_next;
      o_nar <= nar_next | (&p_scale);  // scale 255: the whole block is NaR
      o_scale <= p_scale;
    end
  end

  assign o_end_ready = ~(p_end | o_valid);

endmodule

`default_nettype wire
