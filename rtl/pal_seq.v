// The tile's sequencer (docs/isa.md, docs/tile-rtl.md): fetches 128-bit
// instructions from IMEM, decodes and checks them (pal_seq_decode), runs
// GEMM through the walk (pal_seq_walk) and POST through its element
// generator, executes SETR/SYNC/END, keeps STATUS and CLIP_LO/HI, and says
// what the counters of §6 add in each cycle.
//
// Timing (§4): every instruction has one fetch/decode cycle, in which IMEM's
// registered output holds it (IMEM is always read one instruction ahead);
// a faulting one stops there. SETR, SYNC and END take only that cycle.
// GEMM takes 1 + 2 + end cycles (pal_seq_walk). POST takes 1 + 2 + c*E + 2
// cycles for E = m_count * n_count elements, c = 1 (FP32) or 2 (PAL8): the
// generator issues one element read per cycle from the fetch cycle on (c*E
// reads, each PAL8 block twice), pal_tile_post's pipeline is 1 + 4 deep, so
// its last result is written in the instruction's last cycle.
// CYC_TOTAL counts every cycle with STATUS.busy set.
//
// POST_UNIT = 0 (the iCEBreaker's tile, docs/isa.md §1): the decode takes
// POST for an illegal opcode, and the element generator and POST's cycle
// count are left out (constant zero outputs).
`default_nettype none

module pal_seq #(
    parameter R = 4,
    parameter C = 4,
    parameter ACC_UNITS = 4,
    parameter IMEM_DEPTH = 256,
    parameter ABUF_BLOCKS = 512,
    parameter WMEM_BLOCKS = 256,
    parameter ACC_DEPTH = 4096,
    parameter BIAS_DEPTH = 1024,
    parameter OBUF_DEPTH = 4096,
    parameter POST_UNIT = 1,
    parameter ACCUMULATE = 1,
    parameter P = R * C,                                           // derived: do not override
    parameter IAW = (IMEM_DEPTH > 1) ? $clog2(IMEM_DEPTH) : 1,     // derived
    parameter ABW = $clog2(ABUF_BLOCKS),                           // derived
    parameter WBW = $clog2(WMEM_BLOCKS),                           // derived
    parameter AAW = (ACC_DEPTH > 1) ? $clog2(ACC_DEPTH) : 1,       // derived
    parameter BAW = (BIAS_DEPTH > 1) ? $clog2(BIAS_DEPTH) : 1,     // derived
    parameter GW = $clog2(P + 1),                                  // derived
    parameter KW = $clog2(((ABUF_BLOCKS < WMEM_BLOCKS) ? ABUF_BLOCKS : WMEM_BLOCKS) + 1), // derived
    parameter KIW = $clog2((ABUF_BLOCKS < WMEM_BLOCKS) ? ABUF_BLOCKS : WMEM_BLOCKS)       // derived
) (
    input  wire                   i_clk,
    input  wire                   i_rst,
    // CONTROL, START_PC, CLIP_* from the bus
    input  wire                   i_ctl_start,
    input  wire                   i_ctl_reset,
    input  wire [15:0]            i_start_pc,
    input  wire                   i_clip_lo_we,
    input  wire                   i_clip_hi_we,
    input  wire [31:0]            i_clip_wdata,
    // STATUS, CLIP_*, counters
    output wire                   o_busy,
    output reg                    o_done,
    output reg                    o_nar,
    output reg  [7:0]             o_error,
    output reg  [15:0]            o_err_pc,
    output reg  [31:0]            o_clip_lo,
    output reg  [31:0]            o_clip_hi,
    // what each counter of §6 adds in this cycle (the tile counts:
    // pal_tile_ctrs); CYC_TOTAL adds o_busy
    output wire                   o_ev_busy,
    output wire                   o_ev_stall,
    output wire                   o_ev_idle,
    output wire [GW:0]            o_ev_gated,
    output wire [5:0]             o_ev_act_skip,
    output wire [KW-1:0]          o_ev_blk_skip,
    output wire                   o_ev_nar,
    // IMEM
    output wire                   o_imem_re,
    output wire [IAW-1:0]         o_imem_raddr,
    input  wire [127:0]           i_imem_rdata,
    // the walk's inputs and outputs
    input  wire [ABUF_BLOCKS-1:0] i_avis,
    input  wire [WMEM_BLOCKS-1:0] i_wnar_any,
    output wire                   o_fe_re,
    output wire [ABW-1:0]         o_fe_blk,
    input  wire [31:0]            i_fe_bmap,
    input  wire [7:0]             i_fe_scale,
    output wire                   o_step_en,
    output wire                   o_step_mac,
    output wire [ABW-1:0]         o_step_ab,
    output wire [4:0]             o_step_k,
    output wire [WBW-1:0]         o_step_wb,
    output wire                   o_ho_begin,
    output wire                   o_ho_wb,
    output wire                   o_ho_first,
    output wire [7:0]             o_ho_ascale,
    output wire [AAW-1:0]         o_ho_accrow,
    output wire [BAW-1:0]         o_ho_biasrow,
    output wire [WBW-1:0]         o_ho_wblk,
    output wire [KIW-1:0]         o_ho_kb,
    output wire [AAW-1:0]         o_plane,
    output reg  [1:0]             o_init,
    input  wire [GW-1:0]          i_gated_count,
    // POST element issue (reads in this cycle, pal_tile_post gets the data next)
    output wire                   o_pe_issue,
    output wire                   o_pe_pal8,
    output wire                   o_pe_pass2,
    output wire                   o_pe_last,
    output wire [4:0]             o_pe_idx,
    output wire [15:0]            o_pe_addr,
    output wire [AAW-1:0]         o_pe_acc_raddr,
    output wire [BAW-1:0]         o_pe_bias_raddr,
    output reg                    o_post_bias_en,
    output reg  [1:0]             o_post_act,
    input  wire                   i_post_nar
);

  /* verilator lint_off UNUSEDPARAM */
  `include "pal_isa.vh"
  /* verilator lint_on UNUSEDPARAM */

  localparam [1:0] S_IDLE = 2'd0, S_FETCH = 2'd1, S_GEMM = 2'd2, S_POST = 2'd3;
  localparam [31:0] IMEM_DEPTH32 = IMEM_DEPTH;

  reg [1:0]  state;
  reg [15:0] pc;
  assign o_busy = state != S_IDLE;
  wire fetch = state == S_FETCH;

  wire [15:0] pc_inc = pc + 16'd1;

  // ---- decode -------------------------------------------------------------------
  wire        d_gemm, d_post, d_setr, d_end;
  wire [7:0]  d_error;
  wire [1:0]  d_init, d_out_fmt, d_act;
  wire [7:0]  d_n_tiles, d_reg;
  wire [15:0] d_a_stride, d_a_base, d_k_blocks, d_w_base, d_bias_base, d_m_count, d_acc_base;
  wire        d_bias_post;
  wire [15:0] d_n_count, d_out_stride, d_out_base;
  wire [16:0] d_post_acc_stride;
  wire [31:0] d_value;

  pal_seq_decode #(
      .P(P),
      .ABUF_BLOCKS(ABUF_BLOCKS),
      .WMEM_BLOCKS(WMEM_BLOCKS),
      .ACC_DEPTH(ACC_DEPTH),
      .BIAS_DEPTH(BIAS_DEPTH),
      .OBUF_DEPTH(OBUF_DEPTH),
      .POST_UNIT(POST_UNIT),
      .ACCUMULATE(ACCUMULATE)
  ) decode (
      .i_en             (fetch),
      .i_instr          (i_imem_rdata),
      .o_gemm           (d_gemm),
      .o_post           (d_post),
      .o_setr           (d_setr),
      .o_end            (d_end),
      .o_error          (d_error),
      .o_init           (d_init),
      .o_n_tiles        (d_n_tiles),
      .o_a_stride       (d_a_stride),
      .o_a_base         (d_a_base),
      .o_k_blocks       (d_k_blocks),
      .o_w_base         (d_w_base),
      .o_bias_base      (d_bias_base),
      .o_m_count        (d_m_count),
      .o_acc_base       (d_acc_base),
      .o_out_fmt        (d_out_fmt),
      .o_act            (d_act),
      .o_bias_post      (d_bias_post),
      .o_n_count        (d_n_count),
      .o_out_stride     (d_out_stride),
      .o_out_base       (d_out_base),
      .o_post_acc_stride(d_post_acc_stride),
      .o_reg            (d_reg),
      .o_value          (d_value)
  );

  // pc >= IMEM_DEPTH as logic (pal_cmp_le), not as a 16-cell carry chain
  wire       pc_in;
  pal_cmp_le #(.W(17), .K(IMEM_DEPTH32[16:0] - 17'd1)) c_pc (.i_x({1'b0, pc}), .o_le(pc_in));
  wire       pc_oob = !pc_in;
  wire [7:0] f_error = pc_oob ? PAL_TILE_ERR_PC_RANGE : d_error;
  wire       f_ok = fetch && f_error == PAL_TILE_ERR_NONE;
  wire       gemm_go = f_ok & d_gemm;
  wire       post_go = f_ok & d_post;

  // ---- GEMM walk --------------------------------------------------------------------
  wire w_busy, w_stall, w_nar_step, w_last;
  wire [5:0] w_act_skip;
  wire [KW-1:0] w_blk_skip;
  wire seq_rst = i_rst | i_ctl_reset;

  // IMEM is read one instruction ahead: pc + 1 while running, START_PC at
  // start. A GEMM keeps its own instruction at IMEM's output instead (pc is
  // read again from its fetch/decode cycle to its last), so the walk takes
  // its fields from the decode for as long as it runs, rather than copying
  // them into registers of its own; the bus reaches IMEM only while the
  // tile is idle.
  wire        hold_gemm = (fetch & d_gemm) | (state == S_GEMM & ~w_last);
  assign o_imem_re = i_ctl_start | o_busy;
  assign o_imem_raddr = i_ctl_start ? i_start_pc[IAW-1:0] : hold_gemm ? pc[IAW-1:0] : pc_inc[IAW-1:0];

  pal_seq_walk #(
      .P(P),
      .U(ACC_UNITS),
      .ABUF_BLOCKS(ABUF_BLOCKS),
      .WMEM_BLOCKS(WMEM_BLOCKS),
      .ACC_DEPTH(ACC_DEPTH),
      .BIAS_DEPTH(BIAS_DEPTH)
  ) walk (
      .i_clk       (i_clk),
      .i_rst       (seq_rst),
      .i_start     (gemm_go),
      .i_a_base    (d_a_base),
      .i_a_stride  (d_a_stride),
      .i_m_count   (d_m_count),
      .i_k_blocks  (d_k_blocks),
      .i_w_base    (d_w_base),
      .i_n_tiles   (d_n_tiles),
      .i_acc_base  (d_acc_base),
      .i_bias_base (d_bias_base),
      .i_avis      (i_avis),
      .i_wnar_any  (i_wnar_any),
      .o_fe_re     (o_fe_re),
      .o_fe_blk    (o_fe_blk),
      .i_fe_bmap   (i_fe_bmap),
      .i_fe_scale  (i_fe_scale),
      .o_step_en   (o_step_en),
      .o_step_mac  (o_step_mac),
      .o_step_ab   (o_step_ab),
      .o_step_k    (o_step_k),
      .o_step_wb   (o_step_wb),
      .o_ho_begin  (o_ho_begin),
      .o_ho_wb     (o_ho_wb),
      .o_ho_first  (o_ho_first),
      .o_ho_ascale (o_ho_ascale),
      .o_ho_accrow (o_ho_accrow),
      .o_ho_biasrow(o_ho_biasrow),
      .o_ho_wblk   (o_ho_wblk),
      .o_ho_kb     (o_ho_kb),
      .o_plane     (o_plane),
      .o_busy      (w_busy),
      .o_stall     (w_stall),
      .o_nar_step  (w_nar_step),
      .o_act_skip  (w_act_skip),
      .o_blk_skip  (w_blk_skip),
      .o_last      (w_last)
  );

  // ---- POST element generator ---------------------------------------------------------
  // Its rows, columns, counts and addresses in EW bits: a POST that runs has
  // passed the decode's range checks, so every address it issues is below
  // its buffer's depth and n_count, m_count and the ACC stride are at most
  // ACC_DEPTH (stride * m_count <= ACC_DEPTH). Sums wrap in EW bits where
  // the 16-bit fields would not (a next row after the last one, an
  // unchecked out_stride when m_count = 1), but those values are never
  // issued, and the bits the consumers take are the same.
  function automatic integer max2(input integer a, input integer b);
    max2 = a > b ? a : b;
  endfunction
  localparam integer EDEPTH = max2(max2(ACC_DEPTH, OBUF_DEPTH), max2(ABUF_BLOCKS, BIAS_DEPTH));
  localparam integer EW0 = $clog2(EDEPTH + 1);  // holds 0 .. EDEPTH
  localparam integer EW = (EW0 < 6) ? 6 : (EW0 > 18) ? 18 : EW0;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [17:0] f_acc_base = {2'd0, d_acc_base}, f_out_base = {2'd0, d_out_base},
              f_n_count = {2'd0, d_n_count}, f_m_count = {2'd0, d_m_count},
              f_bias_base = {2'd0, d_bias_base}, f_stride = {1'b0, d_post_acc_stride},
              f_os = {2'd0, d_out_stride};
  /* verilator lint_on UNUSEDSIGNAL */

  reg          g_on, g_pal8, g_pass2;
  reg [EW-1:0] g_m, g_n, g_bstart, g_accrow, g_outrow, g_blk;
  reg [EW-1:0] g_n_count, g_m_count, g_bias_base, g_stride, g_os;

  // The element issued now: element 0 in the fetch cycle (straight from
  // the instruction), else the generator's. Evaluated only while issuing.
  reg          c_pal8, c_pass2, c_row_end, c_blk_end, c_final;
  reg [EW-1:0] c_m, c_n, c_bstart, c_n_count, c_m_count, c_bias_base;
  reg [EW-1:0] c_accrow, c_outrow, c_blk, c_stride, c_os;
  /* verilator lint_off UNUSEDSIGNAL */
  reg [EW-1:0] c_idx, c_bias_addr, c_acc_addr, c_out_addr;
  /* verilator lint_on UNUSEDSIGNAL */
  localparam [EW-1:0] E1 = 1, E31 = 31;
  // (g_on could only be set by a post_go, but synthesis cannot see that
  // a register that starts at zero stays there: without a POST unit the
  // constant says so)
  wire       c_issue = POST_UNIT != 0 && (post_go | g_on);
  always @* begin
    {c_pal8, c_pass2, c_row_end, c_blk_end, c_final} = 5'd0;
    {c_m, c_n, c_bstart, c_n_count, c_m_count, c_bias_base} = {6 * EW{1'b0}};
    {c_accrow, c_outrow, c_blk, c_stride, c_os} = {5 * EW{1'b0}};
    {c_idx, c_bias_addr, c_acc_addr, c_out_addr} = {4 * EW{1'b0}};
    if (c_issue) begin
      if (fetch) begin
        c_pal8 = d_out_fmt == PAL_ISA_OUT_PAL8;
        c_accrow = f_acc_base[EW-1:0];
        c_outrow = f_out_base[EW-1:0];
        c_blk = f_out_base[EW-1:0];
        c_n_count = f_n_count[EW-1:0];
        c_m_count = f_m_count[EW-1:0];
        c_bias_base = f_bias_base[EW-1:0];
        c_stride = f_stride[EW-1:0];
        c_os = f_os[EW-1:0];
      end else begin
        c_pal8 = g_pal8;
        c_pass2 = g_pass2;
        c_m = g_m;
        c_n = g_n;
        c_bstart = g_bstart;
        c_accrow = g_accrow;
        c_outrow = g_outrow;
        c_blk = g_blk;
        c_n_count = g_n_count;
        c_m_count = g_m_count;
        c_bias_base = g_bias_base;
        c_stride = g_stride;
        c_os = g_os;
      end
      c_idx = c_n - c_bstart;
      c_row_end = {1'b0, c_n} + {1'b0, E1} == {1'b0, c_n_count};
      c_blk_end = c_row_end | (c_idx[4:0] == E31[4:0]);
      c_final = ({1'b0, c_m} + {1'b0, E1} == {1'b0, c_m_count}) & c_row_end & (~c_pal8 | c_pass2);
      c_acc_addr = c_accrow + c_n;
      c_out_addr = c_pal8 ? c_blk : c_outrow + c_n;
      c_bias_addr = c_bias_base + c_n;
    end
  end
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] c_out_addr32 = {{(32 - EW) {1'b0}}, c_out_addr};
  /* verilator lint_on UNUSEDSIGNAL */

  assign o_pe_issue = c_issue;
  assign o_pe_pal8 = c_pal8;
  assign o_pe_pass2 = c_pass2;
  assign o_pe_last = c_blk_end;
  assign o_pe_idx = c_idx[4:0];
  assign o_pe_addr = c_out_addr32[15:0];
  assign o_pe_acc_raddr = c_acc_addr[AAW-1:0];
  assign o_pe_bias_raddr = c_bias_addr[BAW-1:0];

  always @(posedge i_clk) begin
    if (seq_rst) begin
      g_on <= 1'b0;
    end else if (c_issue) begin
      g_on <= ~c_final;
    end
    if (post_go) begin
      g_pal8 <= c_pal8;
      g_n_count <= f_n_count[EW-1:0];
      g_m_count <= f_m_count[EW-1:0];
      g_bias_base <= f_bias_base[EW-1:0];
      g_stride <= f_stride[EW-1:0];
      g_os <= f_os[EW-1:0];
    end
    if (c_issue) begin
      if (!c_pal8 || (c_blk_end && c_pass2)) begin
        // next element of the row, or the next row (FP32); the next block
        // or row after a block's second pass (PAL8)
        if (!c_row_end) begin
          g_n <= c_n + E1;
          g_m <= c_m;
          g_bstart <= c_pal8 ? c_n + E1 : c_bstart;
          g_blk <= c_pal8 ? c_blk + E1 : c_blk;
          g_outrow <= c_outrow;
          g_accrow <= c_accrow;
        end else begin
          g_n <= {EW{1'b0}};
          g_m <= c_m + E1;
          g_bstart <= {EW{1'b0}};
          g_blk <= c_outrow + c_os;
          g_outrow <= c_outrow + c_os;
          g_accrow <= c_accrow + c_stride;
        end
        g_pass2 <= 1'b0;
      end else if (c_blk_end) begin
        // PAL8: the same block again, to encode
        g_n <= c_bstart;
        g_m <= c_m;
        g_bstart <= c_bstart;
        g_blk <= c_blk;
        g_outrow <= c_outrow;
        g_accrow <= c_accrow;
        g_pass2 <= 1'b1;
      end else begin
        g_n <= c_n + E1;
        g_m <= c_m;
        g_bstart <= c_bstart;
        g_blk <= c_blk;
        g_outrow <= c_outrow;
        g_accrow <= c_accrow;
        g_pass2 <= c_pass2;
      end
    end
  end

  // ---- instruction sequencing -----------------------------------------------------------
  // A POST that runs has passed the range checks, so its elements fit in
  // ACC (m * n <= m * acc_stride <= ACC_DEPTH) and its cycles in PLW bits.
  localparam integer PLW = $clog2(2 * ACC_DEPTH + 5);
  wire [31:0] d_elems = {16'd0, d_m_count} * {16'd0, d_n_count};
  /* verilator lint_off UNUSEDSIGNAL */
  wire [34:0] d_post_cycles = (d_out_fmt == PAL_ISA_OUT_PAL8 ? {2'd0, d_elems, 1'b0} : {3'd0, d_elems})
                            + 35'd4;
  /* verilator lint_on UNUSEDSIGNAL */
  reg  [PLW-1:0] post_left;

  // CLIP_LO and CLIP_HI are POST's bounds: a tile without a POST unit has
  // no use for them, so they read as 0 and take no write, from the bus or
  // SETR (docs/isa.md §1; 264 logic cells of the iCEBreaker's build)
  always @(posedge i_clk) begin
    if (i_rst || POST_UNIT == 0) begin
      o_clip_lo <= 32'd0;
      o_clip_hi <= 32'd0;
    end else begin
      if (i_clip_lo_we) o_clip_lo <= i_clip_wdata;
      if (i_clip_hi_we) o_clip_hi <= i_clip_wdata;
      if (f_ok && d_setr) begin
        if (d_reg == PAL_ISA_SETR_CLIP_LO) o_clip_lo <= d_value;
        else o_clip_hi <= d_value;
      end
    end
  end

  always @(posedge i_clk) begin
    if (gemm_go) o_init <= d_init;
    if (post_go) begin
      o_post_bias_en <= d_bias_post;
      o_post_act <= d_act;
      post_left <= d_post_cycles[PLW-1:0];
    end else if (state == S_POST) begin
      post_left <= post_left - 1'b1;
    end
  end

  always @(posedge i_clk) begin
    if (seq_rst) begin
      state <= S_IDLE;
      o_done <= 1'b0;
      o_nar <= 1'b0;
      o_error <= 8'd0;
      o_err_pc <= 16'd0;
    end else begin
      case (state)
        S_FETCH: begin
          if (f_error != PAL_TILE_ERR_NONE) begin
            state <= S_IDLE;
            o_error <= f_error;
            o_err_pc <= pc;
          end else if (d_end) begin
            state <= S_IDLE;
            o_done <= 1'b1;
          end else if (d_gemm) begin
            state <= S_GEMM;
          end else if (d_post) begin
            state <= S_POST;
          end else begin
            pc <= pc_inc;  // SETR, SYNC
          end
        end
        S_GEMM: begin
          if (w_last) begin
            state <= S_FETCH;
            pc <= pc_inc;
          end
        end
        S_POST: begin
          if (post_left == {{(PLW - 1) {1'b0}}, 1'b1}) begin
            state <= S_FETCH;
            pc <= pc_inc;
          end
        end
        default: ;
      endcase
      if (i_post_nar) o_nar <= 1'b1;
    end
    // CONTROL.start (after a reset in the same write): clear STATUS, run
    if (!i_rst && i_ctl_start && (state == S_IDLE || i_ctl_reset)) begin
      state <= S_FETCH;
      pc <= i_start_pc;
      o_done <= 1'b0;
      o_nar <= 1'b0;
      o_error <= 8'd0;
      o_err_pc <= 16'd0;
    end
  end

  // ---- counter events -----------------------------------------------------------------------
  assign o_ev_busy = w_busy;
  assign o_ev_stall = w_stall;
  // CYC_IDLE = CYC_TOTAL - CYC_BUSY - CYC_STALL (§6), counted: steps and
  // stalls happen only while busy and never together, so it counts the
  // busy cycles that are neither. One 64-bit counter costs a quarter of
  // the two 64-bit subtractions it replaces on the iCE40.
  assign o_ev_idle = o_busy && !w_busy && !w_stall;
  localparam integer PI = P;
  localparam [GW:0] P_EV = PI[GW:0];
  assign o_ev_gated = {1'b0, i_gated_count} + (w_nar_step ? P_EV : {(GW + 1) {1'b0}});
  assign o_ev_act_skip = w_act_skip;
  assign o_ev_blk_skip = w_blk_skip;
  assign o_ev_nar = i_post_nar;

`ifndef SYNTHESIS
  // what makes the counted CYC_IDLE the identity, checked every cycle
  // once the first reset has ended
  reg ev_known = 1'b0;
  always @(posedge i_clk) begin
    if (seq_rst) ev_known <= 1'b1;
    else if (ev_known && ((w_busy || w_stall) && !o_busy || w_busy && w_stall))
      $fatal(1, "%m: a step or stall outside busy, or both in one cycle: CYC_IDLE would not be CYC_TOTAL - CYC_BUSY - CYC_STALL");
  end
`endif

endmodule

`default_nettype wire
