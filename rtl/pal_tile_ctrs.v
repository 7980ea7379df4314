// The tile's 64-bit event counters (docs/isa.md §6) as a counter bank: the
// low LW bits of each counter in flip-flops, the bits above them in one
// block RAM, 16 bits per word, CHUNKS words per counter. The link engine
// keeps its ten 32-bit counters (docs/protocol.md §5.1) in one as well
// (W = 32: one RAM word per counter).
//
// Why: an iCE40 logic cell has one output, so a 64-bit counter in
// flip-flops is 64 logic cells however it is added to, and the tile has
// nine (docs/boards.md, "Which flip-flops take a logic cell of their
// own"). The upper bits change once in 2^LW events, so they can live in a
// RAM that a small engine updates on the side, one 16-bit word per cycle.
//
// Counting: each cycle counter i adds i_inc[i] (at most 2^IW - 1) to its
// low bits. A carry out of them sets pend[i]; the engine takes one pending
// counter at a time and adds the carry into its RAM words, word 0 first,
// as far as the carry ripples (one cycle per word, after one to read the
// first). A pending carry waits at most for the other counters' services,
// each behind at most one read (a read holds the engine off for CHUNKS + 2
// cycles, and between two reads there is a cycle in which a service can
// start): under N * (2 * CHUNKS + 3) cycles. A counter carries at most
// once in 2^(LW - IW) cycles, so LW = IW + 7 leaves 128, enough for the
// tile's nine counters (at most 99 cycles) and the link engine's ten
// (70); the simulation checks the bound at start and stops if a carry
// ever finds its counter still pending. Each low bit is a logic cell on
// the iCE40, so LW is no larger than that.
//
// Clearing (i_clear, the tile's reset) zeroes the low bits and sets a
// zero flag per counter instead of writing the RAM: a counter whose flag
// is set reads its RAM words as 0, and its first service writes all of
// them and drops the flag.
//
// Reading: i_rd_req (a pulse) asks for counter i_rd_idx. The bank takes
// the snapshot in the first cycle in which the engine is not in a service
// (so the RAM words and pend agree): the low bits and pend[i] of that
// cycle, then the RAM words one per cycle, adding pend[i] as it ripples.
// The engine starts no service while a read waits or runs, so the words
// it reads are those of the snapshot's cycle. o_rd_busy is set from the
// cycle after the request until o_value holds the value, which stays
// until the next request (the tile's latched high word).
//
// The simulation keeps every counter in full beside the bank and stops if
// a read ever returns anything else.
`default_nettype none

module pal_tile_ctrs #(
    parameter N = 9,           // counters
    parameter W = 64,          // counter width (they wrap)
    parameter IW = 6,          // increment width
    parameter LW = IW + 7,     // low bits in flip-flops (see above)
    parameter NW = (N > 1) ? $clog2(N) : 1       // derived: do not override
) (
    input  wire            i_clk,
    input  wire            i_clear,
    input  wire [N*IW-1:0] i_inc,
    input  wire            i_rd_req,
    input  wire [NW-1:0]   i_rd_idx,
    output wire            o_rd_busy,
    output wire [W-1:0]    o_value
);

  localparam CHUNKS = (W - LW + 15) / 16;   // RAM words per counter
  localparam CW = (CHUNKS > 1) ? $clog2(CHUNKS) : 1;
  localparam integer LASTI = CHUNKS - 1;
  localparam [CW-1:0] LAST = LASTI[CW-1:0];

  // ---- low bits and pending carries ----------------------------------------------------
  // one flat vector, not an array: Yosys would make an array with a write
  // per counter a memory, then map it back to flip-flops with a write
  // multiplexer per word and port
  wire [N*LW-1:0] lo;
  reg  [N-1:0]  pend, zero;
  wire [N-1:0]  carry;
  wire [N-1:0]  served;  // the engine's service of counter i ends this cycle

  genvar gi;
  generate
    for (gi = 0; gi < N; gi = gi + 1) begin : g_lo
      reg  [LW-1:0] q;
      wire [LW:0] sum = {1'b0, q} + {{(LW + 1 - IW) {1'b0}}, i_inc[gi*IW+:IW]};
      assign carry[gi] = sum[LW];
      assign lo[gi*LW+:LW] = q;
      always @(posedge i_clk) begin
        if (i_clear) q <= {LW{1'b0}};
        else q <= sum[LW-1:0];
      end
    end
  endgenerate

  always @(posedge i_clk) begin
    if (i_clear) begin
      pend <= {N{1'b0}};
      zero <= {N{1'b1}};
    end else begin
      pend <= (pend & ~served) | carry;
      zero <= zero & ~served;
    end
  end

  // ---- the RAM and its one adder -----------------------------------------------------------
  reg           ram_re;
  reg  [NW-1:0] ram_ridx;
  reg  [CW-1:0] ram_rch;
  wire [15:0]   ram_q;
  reg           e_on, r_on;
  reg  [NW-1:0] e_idx, r_idx;
  reg  [CW-1:0] e_ch, r_ch;
  reg           e_cin, r_cin, r_zero;

  // the engine and a read never run together, so they share the adder
  wire        add_zero = e_on ? zero[e_idx] : r_zero;
  wire        add_cin = e_on ? e_cin : r_cin;
  wire [16:0] add = {1'b0, add_zero ? 16'd0 : ram_q} + {16'd0, add_cin};

  pal_tile_ram #(
      .DEPTH(1 << (NW + CW)),
      .WIDTH(16)
  ) hi (
      .i_clk  (i_clk),
      .i_re   (ram_re),
      .i_raddr({ram_ridx, ram_rch}),
      .o_rdata(ram_q),
      .i_we   (e_on & ~i_clear),
      .i_waddr({e_idx, e_ch}),
      .i_wdata(add[15:0])
  );

  // ---- the engine ------------------------------------------------------------------------
  reg  r_req;
  reg  [NW-1:0] pick;
  integer k;
  always @* begin
    pick = {NW{1'b0}};
    for (k = N - 1; k >= 0; k = k - 1)
      if (pend[k]) pick = k[NW-1:0];
  end
  wire e_start = !e_on && !r_on && !r_req && |pend;
  // go on to the next word while the carry ripples (or the RAM words are
  // stale: a zeroed counter's first service writes all of them)
  wire e_more = e_ch != LAST && (add[16] || zero[e_idx]);
  wire r_start = r_req && !e_on;

  generate
    for (gi = 0; gi < N; gi = gi + 1) begin : g_served
      assign served[gi] = e_on && !e_more && e_idx == gi;
    end
  endgenerate

  always @* begin
    ram_re = 1'b0;
    ram_ridx = e_idx;
    ram_rch = e_ch + {{(CW - 1) {1'b0}}, 1'b1};
    if (e_start) begin
      ram_re = 1'b1;
      ram_ridx = pick;
      ram_rch = {CW{1'b0}};
    end else if (e_on) begin
      ram_re = e_more;
    end else if (r_start) begin
      ram_re = 1'b1;
      ram_ridx = r_idx;
      ram_rch = {CW{1'b0}};
    end else if (r_on) begin
      ram_re = r_ch != LAST;
      ram_ridx = r_idx;
      ram_rch = r_ch + {{(CW - 1) {1'b0}}, 1'b1};
    end
  end

  // the snapshot: its low bits, then each RAM word into its place (bits
  // above W, in the last word, are not kept)
  reg [W-1:0] value;
  integer kb;
  // the read's low bits, a multiplexer by constant part-selects (an index
  // times LW would be a shifter when LW is not a power of two)
  reg [LW-1:0] lo_sel;
  always @* begin
    lo_sel = {LW{1'b0}};
    for (k = 0; k < N; k = k + 1)
      if (r_idx == k[NW-1:0]) lo_sel = lo[k*LW+:LW];
  end
  always @(posedge i_clk) begin
    if (i_clear) begin
      e_on <= 1'b0;
      r_on <= 1'b0;
      r_req <= 1'b0;
    end else begin
      if (e_start) begin
        e_on <= 1'b1;
        e_idx <= pick;
        e_ch <= {CW{1'b0}};
        e_cin <= 1'b1;
      end else if (e_on) begin
        e_on <= e_more;
        e_ch <= e_ch + {{(CW - 1) {1'b0}}, 1'b1};
        e_cin <= add[16];
      end
      if (i_rd_req) begin
        r_req <= 1'b1;
        r_idx <= i_rd_idx;
      end
      if (r_start) begin
        r_req <= 1'b0;
        r_on <= 1'b1;
        r_ch <= {CW{1'b0}};
        r_cin <= pend[r_idx];
        r_zero <= zero[r_idx];
        value[LW-1:0] <= lo_sel;
      end else if (r_on) begin
        // the words come lowest first, word r_ch into its place
        for (kb = 0; kb < W - LW; kb = kb + 1)
          if ({{(32 - CW) {1'b0}}, r_ch} == kb / 16) value[LW+kb] <= add[kb%16];
        r_ch <= r_ch + {{(CW - 1) {1'b0}}, 1'b1};
        r_cin <= add[16];
        r_on <= r_ch != LAST;
      end
    end
  end
  assign o_rd_busy = r_req | r_on;
  assign o_value = value;

`ifndef SYNTHESIS
  initial
    if (N * (2 * CHUNKS + 3) >= (1 << (LW - IW)))
      $fatal(1, "%m: LW = %0d leaves too few cycles between carries", LW);

  // every counter in full, and the one the current read must return
  reg [W-1:0] full[0:N-1];
  reg [W-1:0] expect_value;
  reg        check = 1'b0;
  integer j;
  always @(posedge i_clk) begin
    for (j = 0; j < N; j = j + 1) begin
      if (i_clear) full[j] <= {W{1'b0}};
      else full[j] <= full[j] + {{(W - IW) {1'b0}}, i_inc[j*IW+:IW]};
      if (!i_clear && carry[j] && pend[j] && !served[j])
        $fatal(1, "%m: counter %0d carried again before its RAM words were updated", j);
    end
    if (!i_clear && r_start) expect_value <= full[r_idx];
    check <= !i_clear && r_on && r_ch == LAST;
    if (check && o_value != expect_value)
      $fatal(1, "%m: counter %0d read %h, counted %h", r_idx, o_value, expect_value);
  end
`endif

endmodule

`default_nettype wire
