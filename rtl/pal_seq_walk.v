// The GEMM walk of docs/isa.md §4, cycle for cycle (docs/tile-rtl.md
// explains the derivation). Two halves joined by a 2-entry queue:
//
// Front end: for t, m, it walks the row's visited blocks (a kb whose
// activation block has a non-zero code or scale 255, from ABUF's flags, or
// whose weight block has a NaR in some PE, from the array's table), one
// event per cycle: VISIT (the next visited kb, whose bitmap and scale it
// reads from ABUF) or, when the row has none left, ROW END (starting the
// next row in the same cycle). Whole zero blocks are never looked at, so
// they cost nothing, however many there are.
//
// Back end: the §4 pseudo-code as a machine that advances one cycle per
// cycle. A VISIT broadcasts one step per non-zero code (lowest first; one
// NaR-only step when it has none); a block that ends leaves its hand-off
// pending; a pending hand-off begins as soon as the accumulate units are
// free (ubusy = units_free - now = 0) and holds the units H cycles; while
// it waits, nothing else happens (a stall cycle). A ROW END is a hand-off
// with no steps. The walk is complete in the cycle the last ROW END begins;
// the instruction then ends H + 3 cycles later in the model's time.
//
// Cycles relative to the GEMM's fetch/decode cycle (abs 0, i_start):
//   abs 0   front end loads row 0
//   abs 1   first event emitted          abs 3  it is at the queue head
//   abs 3   a ROW END at the head (row 0 has no visited block) is taken
//           without a cycle: it begins at walk time 0 with free units
//   abs 4   walk time 0 (the model's time 0 is abs 3: setup is 2 cycles)
// so every walk event happens one cycle after the model's, and the last
// cycle is abs 4 + t_done + H + 1 = the model's 1 + 2 + (t_done + H + 3) - 1.
`default_nettype none

module pal_seq_walk #(
    parameter P = 16,
    parameter U = 4,
    parameter ABUF_BLOCKS = 512,
    parameter WMEM_BLOCKS = 256,
    parameter ACC_DEPTH = 4096,
    parameter BIAS_DEPTH = 1024,
    parameter H = (P + U - 1) / U,                                       // derived
    parameter KMAX = (ABUF_BLOCKS < WMEM_BLOCKS) ? ABUF_BLOCKS : WMEM_BLOCKS, // derived
    parameter KW = $clog2(KMAX + 1),                                     // derived: a count
    parameter KIW = $clog2(KMAX),                                        // derived: an index
    parameter ABW = $clog2(ABUF_BLOCKS),                                 // derived
    parameter WBW = $clog2(WMEM_BLOCKS),                                 // derived
    parameter AAW = (ACC_DEPTH > 1) ? $clog2(ACC_DEPTH) : 1,             // derived
    parameter BAW = (BIAS_DEPTH > 1) ? $clog2(BIAS_DEPTH) : 1            // derived
) (
    input  wire                   i_clk,
    input  wire                   i_rst,
    input  wire                   i_start,
    // the GEMM's fields: held from i_start to o_last
    input  wire [15:0]            i_a_base,
    input  wire [15:0]            i_a_stride,
    input  wire [15:0]            i_m_count,
    input  wire [15:0]            i_k_blocks,
    input  wire [15:0]            i_w_base,
    input  wire [7:0]             i_n_tiles,
    input  wire [15:0]            i_acc_base,
    input  wire [15:0]            i_bias_base,
    input  wire [ABUF_BLOCKS-1:0] i_avis,
    input  wire [WMEM_BLOCKS-1:0] i_wnar_any,
    // front end's ABUF read
    output wire                   o_fe_re,
    output wire [ABW-1:0]         o_fe_blk,
    input  wire [31:0]            i_fe_bmap,
    input  wire [7:0]             i_fe_scale,
    // broadcast step (address phase)
    output wire                   o_step_en,
    output wire                   o_step_mac,
    output wire [ABW-1:0]         o_step_ab,
    output wire [4:0]             o_step_k,
    output wire [WBW-1:0]         o_step_wb,
    // hand-off begin
    output wire                   o_ho_begin,
    output wire                   o_ho_wb,
    output wire                   o_ho_first,
    output wire [7:0]             o_ho_ascale,
    output wire [AAW-1:0]         o_ho_accrow,
    output wire [BAW-1:0]         o_ho_biasrow,
    output wire [WBW-1:0]         o_ho_wblk,    // weight block of the block handed off
    output wire [KIW-1:0]         o_ho_kb,      // its index in the row (raw block sums)
    output wire [AAW-1:0]         o_plane,      // m_count * n_tiles * P, mod 2^AAW (raw block sums)
    // counter increments
    output wire                   o_busy,      // a step (CYC_BUSY)
    output wire                   o_stall,     // CYC_STALL
    output wire                   o_nar_step,  // a NaR-only step: P gated MACs
    output wire [5:0]             o_act_skip,  // ACT_SKIPPED: zero codes stepped over
    output reg  [KW-1:0]          o_blk_skip,  // BLOCKS_SKIPPED: blocks passed over
    output wire                   o_last       // the GEMM's last cycle
);

  localparam DW = $clog2(H + 2);
  localparam integer DRAIN_I = H + 1;
  localparam [DW-1:0] DRAIN = DRAIN_I[DW-1:0];
  localparam UW = (H > 1) ? $clog2(H) : 1;
  localparam integer HBUSY_I = H - 1;
  localparam [UW-1:0] HBUSY = HBUSY_I[UW-1:0];

  // ---- front end ------------------------------------------------------------------
  // Two entries keep the back end fed. Every event it takes ends in a
  // hand-off, which holds the accumulate units H >= 4 cycles, and it takes
  // an event only while no hand-off waits: so it takes at most two events
  // in consecutive cycles (one that ends in its first cycle, then the next
  // as that hand-off begins), and the one after at least H - 1 cycles
  // later. An event emitted in cycle t is at the head in t + 2, and the
  // front end emits as soon as an entry frees, so after two takes from a
  // full queue it is full again within 3 cycles. (One entry starves it;
  // the differential tests check every cycle count against the model.)
  localparam FD = 2;
  reg [2:0] q_count;
  reg       s1_v;

  reg            fe_on, fe_first, fe_any;
  reg [KIW-1:0]  fe_kb;
  // m counts in the width of ACC's depth: a GEMM that starts has passed
  // acc_base + m_count * n_tiles * P <= ACC_DEPTH (docs/isa.md §5)
  localparam MW = $clog2(ACC_DEPTH + 1);
  reg [MW-1:0]   fe_m;
  reg [7:0]      fe_t;
  reg [16:0]     fe_arow, fe_wrow;

  wire emit = fe_on && ({1'b0, q_count} + {3'd0, s1_v}) < FD;
  wire emit_visit = emit & fe_any;
  wire emit_rowend = emit & ~fe_any;
  wire [16:0] fe_kb17 = {{(17 - KIW) {1'b0}}, fe_kb};
  wire [16:0] fe_ab = fe_arow + fe_kb17;
  wire [16:0] fe_wb = fe_wrow + fe_kb17;
  assign o_fe_re = emit_visit;
  assign o_fe_blk = fe_ab[ABW-1:0];

  // the row after this one
  wire more_m = {1'b0, fe_m} + {{MW{1'b0}}, 1'b1} < {1'b0, i_m_count[MW-1:0]};
  wire more_t = {1'b0, fe_t} + 9'd1 < {1'b0, i_n_tiles};
  wire row_last = ~more_m & ~more_t;
  wire [16:0] nx_arow = more_m ? fe_arow + {1'b0, i_a_stride} : {1'b0, i_a_base};
  wire [16:0] nx_wrow = more_m ? fe_wrow : fe_wrow + {1'b0, i_k_blocks};
  localparam integer P_I = P;
  localparam [16:0] P17 = P_I[16:0];

  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0]     acc_stride = {24'd0, i_n_tiles} * P_I;
  /* verilator lint_on UNUSEDSIGNAL */

  // The row's next visited block after this cycle: the lowest kb >= from
  // (0 for a new row, at the start and after a ROW END; the block after the
  // one emitted for a VISIT) whose activation block arow + kb is visited
  // or whose weight block wrow + kb holds a NaR in some PE, if it is below
  // k_blocks. A started GEMM has arow + k_blocks <= ABUF_BLOCKS and
  // wrow + k_blocks <= WMEM_BLOCKS for every row (the decode's range
  // checks).
  wire            next_row = emit_rowend & ~row_last;
  wire            load_row = i_start | next_row;
  wire [16:0]     ld_arow = i_start ? {1'b0, i_a_base} : nx_arow;
  wire [16:0]     ld_wrow = i_start ? {1'b0, i_w_base} : nx_wrow;
  // While the front end is idle it searches the first row of the GEMM at
  // IMEM's output, whether it starts or not, and keeps the result when
  // i_start says it does: the search then waits for the instruction's
  // fields only, not for the decode's checks behind i_start (IMEM's output
  // through the checks and the search was the ULX3S's critical path).
  /* verilator lint_off UNUSEDSIGNAL */
  wire [16:0]     sr_arow = ~fe_on ? {1'b0, i_a_base} : next_row ? nx_arow : fe_arow;
  wire [16:0]     sr_wrow = ~fe_on ? {1'b0, i_w_base} : next_row ? nx_wrow : fe_wrow;
  wire [16:0]     sr_from = (~fe_on | next_row) ? 17'd0 : fe_kb17 + 17'd1;
  /* verilator lint_on UNUSEDSIGNAL */
  wire            nx_any;
  wire [KIW-1:0]  nx_kb;

  // Two ways to find it, the cheaper one for the depths (docs/tile-rtl.md):
  // a row window of each table searched from `from`, or each table searched
  // whole in its own numbering. Measured with synth_ecp5, a window of K of
  // N bits costs about 2 (K log2 N + N) LUT4 and a search about 5 to 8 per
  // block, so the windows win where rows are short and the tables small
  // (the iCEBreaker's and the OrangeCrab's 8 of 64 blocks: also on the
  // iCE40, 615 against 734 LUT4 for the walk) and lose where a row may be
  // half of ABUF (the default 256 of 512: the windows were 9 000 and 2 600
  // of the walk's 20 000 LUT4) and already at 64 of 512 (an 8x8 with 64
  // WMEM blocks: the walk 3 992 LUT4 with windows, 3 336 searching whole).
  // The line between: KMAX (ABW + WBW) against 1.5 x the two tables.
  localparam WINDOWED = 2 * KMAX * (ABW + WBW) < 3 * (ABUF_BLOCKS + WMEM_BLOCKS);
  generate
    if (WINDOWED) begin : g_window
      wire [KMAX-1:0] awin, wwin;
      pal_seq_window #(.N(ABUF_BLOCKS), .K(KMAX)) u_awin (
          .i_vec(i_avis), .i_row(sr_arow[ABW-1:0]), .o_window(awin));
      pal_seq_window #(.N(WMEM_BLOCKS), .K(KMAX)) u_wwin (
          .i_vec(i_wnar_any), .i_row(sr_wrow[WBW-1:0]), .o_window(wwin));
      wire            found;
      wire [KIW-1:0]  idx;
      pal_seq_find #(.N(KMAX)) u_find (
          .i_vec(awin | wwin), .i_from(sr_from[KIW:0]), .o_found(found), .o_idx(idx));
      /* verilator lint_off UNUSEDSIGNAL */
      wire [16:0]     idx17 = {{(17 - KIW) {1'b0}}, idx};
      /* verilator lint_on UNUSEDSIGNAL */
      assign nx_any = found & (idx17[KW-1:0] < i_k_blocks[KW-1:0]);
      assign nx_kb = idx;
    end else begin : g_search
      wire [ABW:0]    a_from = sr_arow[ABW:0] + sr_from[ABW:0];
      wire [WBW:0]    w_from = sr_wrow[WBW:0] + sr_from[WBW:0];
      wire            a_found, w_found;
      wire [ABW-1:0]  a_idx;
      wire [WBW-1:0]  w_idx;
      pal_seq_find #(.N(ABUF_BLOCKS)) u_find_a (
          .i_vec(i_avis), .i_from(a_from), .o_found(a_found), .o_idx(a_idx));
      pal_seq_find #(.N(WMEM_BLOCKS)) u_find_w (
          .i_vec(i_wnar_any), .i_from(w_from), .o_found(w_found), .o_idx(w_idx));
      // the hits as block numbers of the row (at or above the row's start)
      wire [ABW-1:0]  a_kb = a_idx - sr_arow[ABW-1:0];
      wire [WBW-1:0]  w_kb = w_idx - sr_wrow[WBW-1:0];
      wire [16:0]     a_kb17 = {{(17 - ABW) {1'b0}}, a_kb};
      wire [16:0]     w_kb17 = {{(17 - WBW) {1'b0}}, w_kb};
      // in the row: below k_blocks, which is at most KMAX (the range
      // checks), so compared in KW bits, the bits above them zero
      wire a_in = a_found & ~|a_kb17[16:KW] & (a_kb17[KW-1:0] < i_k_blocks[KW-1:0]);
      wire w_in = w_found & ~|w_kb17[16:KW] & (w_kb17[KW-1:0] < i_k_blocks[KW-1:0]);
      wire take_w = w_in & (~a_in | (w_kb17[KW-1:0] < a_kb17[KW-1:0]));
      assign nx_any = a_in | w_in;
      assign nx_kb = take_w ? w_kb17[KIW-1:0] : a_kb17[KIW-1:0];
    end
  endgenerate

  // BLOCKS_SKIPPED (k_blocks - visited blocks per row) counted as the row
  // goes: a VISIT adds the blocks between it and the row's previous VISIT,
  // the ROW END those after the last one. The row's total is the same, the
  // counter only grows, and no population count of the row vector sits
  // behind the row load (at 256 blocks, 4 800 LUT4 of the walk's 20 000 on
  // the ECP5, on the path from IMEM's output).
  reg  [KW-1:0] fe_next;  // the block after the row's last VISIT; 0 at its start
  wire [KW-1:0] fe_kbw = fe_kb17[KW-1:0];
  wire [KW-1:0] blk_to = emit_visit ? fe_kbw : i_k_blocks[KW-1:0];

  always @(posedge i_clk) begin
    o_blk_skip <= emit ? blk_to - fe_next : {KW{1'b0}};
    if (load_row) fe_next <= {KW{1'b0}};
    else if (emit_visit) fe_next <= fe_kbw + 1'b1;
    if (load_row | emit_visit) begin
      fe_kb <= nx_kb;
      fe_any <= nx_any;
    end
    if (load_row) begin
      fe_first <= 1'b1;
      fe_arow <= ld_arow;
      fe_wrow <= ld_wrow;
    end else if (emit_visit) begin
      fe_first <= 1'b0;
    end
    if (i_rst) begin
      fe_on <= 1'b0;
    end else if (i_start) begin
      fe_on <= 1'b1;
      fe_m <= {MW{1'b0}};
      fe_t <= 8'd0;
    end else if (emit_rowend) begin
      if (row_last) begin
        fe_on <= 1'b0;
      end else if (more_m) begin
        fe_m <= fe_m + 1'b1;
      end else begin
        fe_m <= {MW{1'b0}};
        fe_t <= fe_t + 8'd1;
      end
    end
  end

  // ---- stage 1: the ABUF read returns; into the queue -------------------------------
  reg        s1_rowend, s1_last, s1_more, s1_first;
  reg [16:0] s1_ab, s1_wb;
  always @(posedge i_clk) begin
    if (i_rst) s1_v <= 1'b0;
    else s1_v <= emit;
    s1_rowend <= emit_rowend;
    s1_last <= row_last;
    s1_more <= more_m;
    s1_first <= fe_first;
    s1_ab <= fe_ab;
    s1_wb <= fe_wb;
  end

  // The queue shifts toward its head (entry 0) instead of moving a read
  // pointer: each entry loads either the next entry or the incoming event,
  // so on the iCE40 every queue flip-flop shares its logic cell with that
  // 2:1 multiplexer, and the head needs no read multiplexer at all (a
  // circular queue's flip-flops all load the same stage-1 net and sit in
  // logic cells of their own beside a read multiplexer per bit).
  localparam QW = 4 + 2 * 17 + 32 + 8;  // {rowend, last, more, first, ab, wb, bmap, ascale}
  wire [QW-1:0] s1_entry = {s1_rowend, s1_last, s1_more, s1_first, s1_ab, s1_wb,
                            s1_rowend ? 32'd0 : i_fe_bmap, i_fe_scale};
  // one flat vector, not an array: Yosys would infer a memory and map it back
  reg  [FD*QW-1:0] q;
  wire       pop;
  // where the incoming event goes: behind the last entry, one place nearer
  // the head when the head leaves in the same cycle (q_count + s1_v never
  // exceeds FD: the front end's emit condition)
  wire [2:0] q_wpos = q_count - {2'd0, pop};

  genvar qi;
  generate
    for (qi = 0; qi < FD; qi = qi + 1) begin : g_q
      localparam [2:0] QI = qi;
      wire take_in = s1_v && q_wpos == QI;
      wire [QW-1:0] nxt = (qi + 1 < FD) ? q[((qi + 1) % FD)*QW+:QW] : s1_entry;
      always @(posedge i_clk)
        if (take_in) q[qi*QW+:QW] <= s1_entry;
        else if (pop) q[qi*QW+:QW] <= nxt;
    end
  endgenerate

  always @(posedge i_clk) begin
    if (i_rst) q_count <= 3'd0;
    else q_count <= q_count + {2'd0, s1_v} - {2'd0, pop};
  end

  wire        h_v = q_count != 3'd0;
`ifndef SYNTHESIS
  // the instruction's fields hold from i_start to o_last (pal_seq keeps the
  // GEMM at IMEM's output): the walk reads them all along
  reg         chk_on = 1'b0;
  reg [119:0] chk_fields;
  wire [119:0] fields = {i_a_base, i_a_stride, i_m_count, i_k_blocks, i_w_base, i_n_tiles,
                         i_acc_base, i_bias_base};
  always @(posedge i_clk) begin
    if (i_rst) chk_on <= 1'b0;
    else if (i_start) chk_on <= 1'b1;
    else if (o_last) chk_on <= 1'b0;
    if (i_start) chk_fields <= fields;
    if (!i_rst && chk_on && fields != chk_fields)
      $fatal(1, "%m: the GEMM's instruction fields changed while it ran");
  end
  always @(posedge i_clk)
    if (!i_rst && i_start && {16'd0, i_m_count} > ACC_DEPTH)
      $fatal(1, "%m: a GEMM with m_count %0d > ACC_DEPTH started", i_m_count);
  initial if (H < 4) $fatal(1, "%m: the queue (and pal_tile_accu) need H = ceil(P / U) >= 4, not %0d", H);
`endif
  wire        h_rowend, h_last, h_more, h_first;
  wire [16:0] h_ab, h_wb;
  wire [31:0] h_bmap;
  wire [7:0]  h_ascale;
  assign {h_rowend, h_last, h_more, h_first, h_ab, h_wb, h_bmap, h_ascale} = q[QW-1:0];

  // ---- back end -------------------------------------------------------------------
  reg st1, st2, st3, run;
  reg [DW-1:0] drain;
  reg [UW-1:0] ubusy;
  reg          pend, pend_wb, pend_first, pend_last, pend_more;
  reg [7:0]    pend_ascale;
  reg [WBW-1:0] pend_wblk;
  reg          cur_v, cur_first;
  reg [31:0]   cur_rem;
  reg [16:0]   cur_ab, cur_wb;
  reg [7:0]    cur_ascale;
  // The row's ACC and BIAS words, for its hand-offs. Events reach the back
  // end in row order, and a row's block hand-offs all begin before its ROW
  // END's, so the back end keeps its own row position and advances it as
  // the front end does when a ROW END's hand-off begins (the accumulate
  // units take the addresses in that cycle), instead of every event
  // carrying its row's addresses through the queue.
  /* verilator lint_off UNUSEDSIGNAL */
  reg [16:0]   be_accrow, be_acctile, be_biasrow;
  /* verilator lint_on UNUSEDSIGNAL */
  // The N-tile's first weight block (w_base + t * k_blocks), kept the same
  // way, so that a tile without accumulate units can place a block's raw
  // sums by its index in the row (kb = wblk - wrow; docs/isa.md §1). A
  // tile with accumulate units leaves o_ho_kb and o_plane unconnected, and
  // synthesis drops them and this register.
  reg [WBW-1:0] be_wrow;

  wire begin_now = run & pend & (ubusy == {UW{1'b0}});
  wire free = run & (~pend | begin_now);
  wire step_cur = free & cur_v;
  wire take = free & ~cur_v & h_v;
  wire take_visit = take & ~h_rowend;
  wire take_rowend = take & h_rowend;
  wire pre_take = st3 & h_v & h_rowend;  // row 0 without a visited block
  assign pop = take | pre_take;

  wire [31:0] src_rem = step_cur ? cur_rem : h_bmap;
  wire        step_en = step_cur | take_visit;
  wire [31:0] rem_next = src_rem & (src_rem - 32'd1);
  wire        step_last = step_en & (rem_next == 32'd0);
  /* verilator lint_off UNUSEDSIGNAL */
  wire [16:0] src_ab = step_cur ? cur_ab : h_ab;
  wire [16:0] src_wb = step_cur ? cur_wb : h_wb;
  /* verilator lint_on UNUSEDSIGNAL */
  wire        complete = begin_now & pend_last;

  assign o_step_en = step_en;
  assign o_step_mac = step_en & (src_rem != 32'd0);
  pal_seq_ctz32 u_step_k (.i_x(src_rem), .o_idx(o_step_k));
  assign o_step_ab = src_ab[ABW-1:0];
  assign o_step_wb = src_wb[WBW-1:0];

  assign o_ho_begin = begin_now;
  assign o_ho_wb = pend_wb;
  assign o_ho_first = pend_first;
  assign o_ho_ascale = pend_ascale;
  assign o_ho_accrow = be_accrow[AAW-1:0];
  assign o_ho_biasrow = be_biasrow[BAW-1:0];
  assign o_ho_wblk = pend_wblk;
  wire [WBW-1:0] ho_kb = pend_wblk - be_wrow;  // < k_blocks <= KMAX: fits KIW bits
  assign o_ho_kb = ho_kb[KIW-1:0];
  /* verilator lint_off UNUSEDSIGNAL */
  wire [47:0] plane = {32'd0, i_m_count} * {16'd0, acc_stride};
  /* verilator lint_on UNUSEDSIGNAL */
  assign o_plane = plane[AAW-1:0];

  assign o_busy = step_en;
  assign o_stall = run & ~step_en & ~complete;
  assign o_nar_step = step_en & (src_rem == 32'd0);
  // ACT_SKIPPED, the block's 32 - non-zeros, counted as the steps go
  // instead of as a 32-bit population count when the block is taken: each
  // step adds the zeros below its code since the last step (next_k is the
  // position after it), the last adds those above it too; a NaR-only step
  // adds 32. The total per block is the same, and the counter still only
  // grows.
  reg  [4:0] next_k;
  wire [4:0] from_k = take_visit ? 5'd0 : next_k;
  wire [5:0] skip_to = step_last ? (o_step_mac ? 6'd31 : 6'd32) : {1'b0, o_step_k};
  assign o_act_skip = step_en ? skip_to - {1'b0, from_k} : 6'd0;
  assign o_last = drain == {{(DW - 1) {1'b0}}, 1'b1};

  always @(posedge i_clk) begin
    if (i_rst) begin
      st1 <= 1'b0;
      st2 <= 1'b0;
      st3 <= 1'b0;
      run <= 1'b0;
      drain <= {DW{1'b0}};
      pend <= 1'b0;
      cur_v <= 1'b0;
      ubusy <= {UW{1'b0}};
    end else begin
      st1 <= i_start;
      st2 <= st1;
      st3 <= st2;
      if (st3) run <= 1'b1;
      else if (complete) run <= 1'b0;
      if (complete) drain <= DRAIN;
      else if (drain != {DW{1'b0}}) drain <= drain - 1'b1;

      if (i_start) begin
        pend <= 1'b0;
        cur_v <= 1'b0;
        ubusy <= {UW{1'b0}};
      end else if (pre_take) begin
        pend <= 1'b1;
      end else if (run) begin
        if (begin_now) ubusy <= HBUSY;
        else if (ubusy != {UW{1'b0}}) ubusy <= ubusy - 1'b1;
        if (step_last | take_rowend) pend <= 1'b1;
        else if (begin_now) pend <= 1'b0;
        if (step_en) cur_v <= ~step_last;
      end
    end
    // pending hand-off record
    if (pre_take || (run && take_rowend)) begin
      pend_wb <= 1'b1;
      pend_first <= h_first;
      pend_last <= h_last;
      pend_more <= h_more;
      pend_ascale <= h_ascale;
    end else if (run && step_last) begin
      pend_wb <= 1'b0;
      pend_first <= step_cur ? cur_first : h_first;
      pend_last <= 1'b0;
      pend_ascale <= step_cur ? cur_ascale : h_ascale;
      pend_wblk <= src_wb[WBW-1:0];
    end
    // block being stepped
    if (step_en) begin
      cur_rem <= rem_next;
      next_k <= o_step_k + 5'd1;
    end
    if (take_visit) begin
      cur_first <= h_first;
      cur_ab <= h_ab;
      cur_wb <= h_wb;
      cur_ascale <= h_ascale;
    end
    // the next row's ACC and BIAS words, as the front end's rows advance
    if (i_start) begin
      be_accrow <= {1'b0, i_acc_base};
      be_acctile <= {1'b0, i_acc_base};
      be_biasrow <= {1'b0, i_bias_base};
      be_wrow <= i_w_base[WBW-1:0];
    end else if (begin_now && pend_wb && !pend_last) begin
      if (pend_more) begin
        be_accrow <= be_accrow + acc_stride[16:0];
      end else begin
        be_acctile <= be_acctile + P17;
        be_accrow <= be_acctile + P17;
        be_biasrow <= be_biasrow + P17;
        be_wrow <= be_wrow + i_k_blocks[WBW-1:0];
      end
    end
  end

endmodule

`default_nettype wire
