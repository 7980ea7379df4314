// The PAL tile (docs/isa.md, docs/tile-rtl.md): an R x C array of PEs
// (pal_tile_array) fed by the sequencer's walk over the activation buffer
// (pal_tile_abuf), ACC_UNITS FP32 accumulate units (pal_tile_accu) over a
// banked accumulator (pal_tile_bankbuf), the POST unit (pal_tile_post), the
// instruction memory and the output buffer, behind one memory-mapped slave
// port through which every region of include/pal/tile.h and every register
// of docs/isa.md §6 is read and written.
//
// Bus: 32-bit words, byte addresses, region in [31:28] (map in
// docs/tile-rtl.md). A transfer is requested with i_bus_valid and the
// address, write flag, data and byte strobes held until o_bus_ready, which
// comes for one cycle, two cycles after the cycle the request is accepted,
// with the read data: the request is registered (accept), the memories are
// read (phase A), then written or answered (phase B). A word of WMEM's
// codes or scales takes 2 or 4 such passes (A, B, A, B, ...; ready in the
// last B): the PEs' code memories are 16 bits wide and the block tables
// one block wide (pal_tile_array), since the iCE40's block RAM is at most 16
// bits wide and a 32-bit memory costs two whatever its depth. Registers answer at
// any time; memory regions only while the tile is idle (a request waits
// while STATUS.busy is set). Unmapped addresses read as 0 and ignore
// writes.
//
// POST_UNIT = 0 builds the tile without its POST unit (docs/isa.md §1):
// POST is an illegal opcode, GEOMETRY[24] says so, and the host reads ACC
// and post-processes (the iCEBreaker's tile, to fit the iCE40UP5K;
// docs/boards.md). Everything else, the cycle model included, is the same.
// ACCUMULATE = 0 (with POST_UNIT = 0) builds it also without its FP32
// accumulate units and adder: a GEMM writes raw block sums to ACC planes
// (pal_tile_raw, docs/isa.md §1), GEOMETRY[25] says so, the host adds.
`default_nettype none

module pal_tile #(
    parameter R = 4,
    parameter C = 4,
    parameter ACC_UNITS = (R * C / 4 > 255) ? 255 : (R * C / 4 > 1) ? R * C / 4 : 1,
    parameter IMEM_DEPTH = 256,
    parameter ABUF_BLOCKS = 512,
    parameter WMEM_BLOCKS = 256,
    parameter ACC_DEPTH = 4096,
    parameter BIAS_DEPTH = 1024,
    parameter OBUF_DEPTH = 4096,
    parameter ABUF_SPRAM = 0,  // 1: ABUF's codes in iCE40UP5K SPRAM (pal_tile_abuf)
    parameter POST_UNIT = 1,   // 0: no POST unit (POST is ILLEGAL_OPCODE)
    parameter ACCUMULATE = 1   // 0: no accumulate units, raw block sums (only with POST_UNIT = 0)
) (
    input  wire        i_clk,
    input  wire        i_rst,
    input  wire        i_bus_valid,
    input  wire        i_bus_we,
    input  wire [31:0] i_bus_addr,
    input  wire [31:0] i_bus_wdata,
    input  wire [3:0]  i_bus_wstrb,
    output wire        o_bus_ready,
    output reg  [31:0] o_bus_rdata,
    output wire        o_busy,
    output wire        o_done
);

  /* verilator lint_off UNUSEDPARAM */
  `include "pal_isa.vh"
  /* verilator lint_on UNUSEDPARAM */

  localparam P = R * C;
  localparam U = ACC_UNITS;
  localparam PEW = (P > 1) ? $clog2(P) : 1;
  localparam GW = $clog2(P + 1);
  localparam KW = $clog2(((ABUF_BLOCKS < WMEM_BLOCKS) ? ABUF_BLOCKS : WMEM_BLOCKS) + 1);
  localparam KIW = $clog2((ABUF_BLOCKS < WMEM_BLOCKS) ? ABUF_BLOCKS : WMEM_BLOCKS);
  localparam IAW = (IMEM_DEPTH > 1) ? $clog2(IMEM_DEPTH) : 1;
  localparam ABW = $clog2(ABUF_BLOCKS);
  localparam WBW = $clog2(WMEM_BLOCKS);
  localparam AAW = (ACC_DEPTH > 1) ? $clog2(ACC_DEPTH) : 1;
  localparam BAW = (BIAS_DEPTH > 1) ? $clog2(BIAS_DEPTH) : 1;
  localparam OAW = (OBUF_DEPTH > 1) ? $clog2(OBUF_DEPTH) : 1;
  // bytes per PE in the WMEM regions (powers of two, so a PE is an address field)
  localparam WC_SHIFT = WBW + 5;
  localparam WS_SHIFT = (WBW > 2) ? WBW : 2;

  // regions, addr[31:28] (generated from include/pal/tile.h)
  localparam [3:0] RG_REGS = PAL_TILE_PORT_RG_REGS, RG_IMEM = PAL_TILE_PORT_RG_IMEM,
                   RG_ABUF = PAL_TILE_PORT_RG_ABUF_CODES, RG_ASCALE = PAL_TILE_PORT_RG_ABUF_SCALES,
                   RG_WMEM = PAL_TILE_PORT_RG_WMEM_CODES, RG_WSCALE = PAL_TILE_PORT_RG_WMEM_SCALES,
                   RG_ACC = PAL_TILE_PORT_RG_ACC, RG_ACCNAR = PAL_TILE_PORT_RG_ACC_NAR,
                   RG_BIAS = PAL_TILE_PORT_RG_BIAS, RG_OBUF = PAL_TILE_PORT_RG_OBUF;

  // ---- bus front: accept, phase A (read), phase B (write / answer) ------------------
  wire seq_busy;
  reg  pha, phb;
  reg  [1:0] pass;  // WMEM / WSCALE words: the pass through the array
  wire more;        // phase B of a pass that is not the word's last
  wire ctr_wait;    // phase B of a counter read whose value is not there yet
  // The request itself: a master holds it from i_bus_valid until
  // o_bus_ready (docs/tile-rtl.md, "Bus"), so phases A and B read it where
  // it is; copies of it were flip-flops loaded from the master's own
  // registers, each a logic cell of its own on the iCE40. The region checks
  // are still registered at accept (below).
  wire        q_we = i_bus_we;
  wire [31:0] q_addr = i_bus_addr, q_wdata = i_bus_wdata;
  wire [3:0]  q_wstrb = i_bus_wstrb;

  wire accept = !pha && !phb && i_bus_valid && (i_bus_addr[31:28] == RG_REGS || !seq_busy);

  always @(posedge i_clk) begin
    if (i_rst) begin
      pha <= 1'b0;
      phb <= 1'b0;
    end else begin
      pha <= accept | more;
      phb <= pha | ctr_wait;
    end
    if (accept) pass <= 2'd0;
    else if (more) pass <= pass + 2'd1;
  end
  assign o_bus_ready = phb & ~more & ~ctr_wait;

`ifndef SYNTHESIS
  // the master holds its request until o_bus_ready
  reg         held_we;
  reg  [31:0] held_addr, held_wdata;
  reg  [3:0]  held_wstrb;
  always @(posedge i_clk) begin
    if (accept) {held_we, held_addr, held_wdata, held_wstrb} <= {i_bus_we, i_bus_addr, i_bus_wdata, i_bus_wstrb};
    if (!i_rst && (pha || phb) && (!i_bus_valid ||
        {held_we, held_addr, held_wdata, held_wstrb} != {i_bus_we, i_bus_addr, i_bus_wdata, i_bus_wstrb}))
      $fatal(1, "%m: the bus master changed or dropped its request before o_bus_ready");
  end
`endif

  // Everything below sees the request as the master holds it; the region
  // checks are made once, at accept.
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] a = q_addr;
  wire [25:0] word = a[27:2];
  /* verilator lint_on UNUSEDSIGNAL */
  wire phase_a = pha;
  wire [3:0]  region = a[31:28];
  wire        rd_a = phase_a;                 // phase A: read everything addressed
  // Memories take no write before the first reset has ended: registers
  // start random at power-on, memories start at zero. (A register, so that
  // no logic depends on i_rst combinationally.)
  reg wr_ok;
  initial wr_ok = 1'b0;
  always @(posedge i_clk) wr_ok <= !i_rst;
  wire [3:0]  we_b = (phb && q_we && wr_ok) ? q_wstrb : 4'd0;

  // word index limits per region
  localparam [31:0] IMEM_WORDS = IMEM_DEPTH * 4;
  localparam [31:0] ABUF_WORDS = ABUF_BLOCKS * 8;
  localparam [31:0] ASCALE_WORDS = (ABUF_BLOCKS + 3) / 4;
  localparam [31:0] WMEM_WORDS = WMEM_BLOCKS * 8;
  localparam [31:0] WSCALE_WORDS = (WMEM_BLOCKS + 3) / 4;
  localparam [31:0] ACC_WORDS = ACC_DEPTH;
  localparam [31:0] BIAS_WORDS = BIAS_DEPTH;
  localparam [31:0] OBUF_WORDS = OBUF_DEPTH;
  localparam [31:0] P32 = P;

  // x < k for a depth k, bit by bit from the least significant end: with k
  // a constant each step is an AND or an OR (Yosys builds a comparison,
  // even with a constant, as a carry chain as wide as x whose cells hold
  // nothing else; see pal_cmp_le). It is pal_cmp_le's recurrence for x < k,
  // kept as a function of the decode: ten pal_cmp_le instances on the bus
  // address in its place measured 38 LUT4 more on the iCEBreaker build
  function automatic lt_depth(input [31:0] x, input [31:0] k);
    reg r;
    integer b;
    begin
      r = 1'b0;  // equal so far: not less
      for (b = 0; b < 32; b = b + 1)
        r = k[b] ? (~x[b] | r) : (~x[b] & r);
      lt_depth = r;
    end
  endfunction

  // {ok_imem, ok_abuf, ok_ascale, ok_wmem, ok_wscale, ok_acc, ok_accnar,
  //  ok_bias, ok_obuf, WMEM PE, WMEM code or scale word}
  localparam DW = 9 + PEW + WBW + 3;
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic [DW-1:0] decode_addr(input [31:0] addr);
    reg [3:0]  rg;
    reg [27:0] off, wc_pe, ws_pe, wc_word, ws_word;
    reg [31:0] w;
    reg        scales;
    begin
      rg = addr[31:28];
      off = addr[27:0];
      w = {6'd0, off[27:2]};
      wc_pe = off >> WC_SHIFT;
      ws_pe = off >> WS_SHIFT;
      wc_word = (off & ((28'd1 << WC_SHIFT) - 28'd1)) >> 2;
      ws_word = (off & ((28'd1 << WS_SHIFT) - 28'd1)) >> 2;
      scales = rg == RG_WSCALE;
      decode_addr = {rg == RG_IMEM && lt_depth(w, IMEM_WORDS),
                     rg == RG_ABUF && lt_depth(w, ABUF_WORDS),
                     rg == RG_ASCALE && lt_depth(w, ASCALE_WORDS),
                     rg == RG_WMEM && lt_depth({4'd0, wc_pe}, P32) && lt_depth({4'd0, wc_word}, WMEM_WORDS),
                     scales && lt_depth({4'd0, ws_pe}, P32) && lt_depth({4'd0, ws_word}, WSCALE_WORDS),
                     rg == RG_ACC && lt_depth(w, ACC_WORDS),
                     rg == RG_ACCNAR && lt_depth(w, ACC_WORDS),
                     rg == RG_BIAS && lt_depth(w, BIAS_WORDS),
                     rg == RG_OBUF && lt_depth(w, OBUF_WORDS),
                     scales ? ws_pe[PEW-1:0] : wc_pe[PEW-1:0],
                     scales ? ws_word[WBW+2:0] : wc_word[WBW+2:0]};
    end
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */
  reg ok_imem, ok_abuf, ok_ascale, ok_wmem, ok_wscale, ok_acc, ok_accnar, ok_bias, ok_obuf;
  reg [PEW-1:0] w_pe;     // WMEM: the PE
  reg [WBW+2:0] w_word;   // WMEM: its code word or scale word
  always @(posedge i_clk) begin
    if (accept)
      {ok_imem, ok_abuf, ok_ascale, ok_wmem, ok_wscale, ok_acc, ok_accnar, ok_bias, ok_obuf,
       w_pe, w_word} <= decode_addr(i_bus_addr);
  end
  wire ok_w = ok_wmem | ok_wscale;
  assign more = phb && ((ok_wmem && pass != 2'd1) || (ok_wscale && pass != 2'd3));
  wire ok_a = ok_abuf | ok_ascale;

  // ---- sequencer ------------------------------------------------------------------------
  reg  [15:0] start_pc;
  wire reg_we = phb && q_we && q_addr[31:28] == RG_REGS && q_wstrb == 4'hF;
  wire [7:0] reg_off = q_addr[7:0];
  wire ctl_we = reg_we && reg_off == PAL_TILE_REG_CONTROL;
  wire ctl_reset = ctl_we && q_wdata[PAL_TILE_CONTROL_RESET_BIT];
  wire ctl_start = ctl_we && q_wdata[PAL_TILE_CONTROL_START_BIT];

  always @(posedge i_clk) begin
    if (i_rst) start_pc <= 16'd0;
    else if (reg_we && reg_off == PAL_TILE_REG_START_PC) start_pc <= q_wdata[15:0];
  end

  wire        done, s_nar;
  wire [7:0]  error;
  wire [15:0] err_pc;
  wire [31:0] clip_lo, clip_hi;
  wire        ev_busy, ev_stall, ev_idle, ev_nar;
  wire [GW:0] ev_gated;
  wire [5:0]  ev_act;
  wire [KW-1:0] ev_blk;
  wire        imem_re;
  wire [IAW-1:0] imem_raddr;
  wire [127:0] imem_q;
  wire [ABUF_BLOCKS-1:0] avis;
  wire [WMEM_BLOCKS-1:0] wnar_any;
  wire        fe_re;
  wire [ABW-1:0] fe_blk;
  wire [31:0] fe_bmap;
  wire [7:0]  fe_scale;
  wire        step_en, step_mac;
  wire [ABW-1:0] step_ab;
  wire [4:0]  step_k;
  wire [WBW-1:0] step_wb;
  wire        ho_begin, ho_wb, ho_first;
  wire [7:0]  ho_ascale;
  wire [AAW-1:0] ho_accrow;
  wire [BAW-1:0] ho_biasrow;
  wire [WBW-1:0] ho_wblk;
  wire [KIW-1:0] ho_kb;
  wire [AAW-1:0] ho_plane;
  wire [1:0]  init;
  wire [GW-1:0] gated_count;
  wire        pe_issue, pe_pal8, pe_pass2, pe_last;
  wire [4:0]  pe_idx;
  wire [15:0] pe_addr;
  wire [AAW-1:0] pe_acc_raddr;
  wire [BAW-1:0] pe_bias_raddr;
  wire        post_bias_en;
  wire [1:0]  post_act;
  wire        post_nar;
  wire        seq_rst = i_rst | ctl_reset;

  pal_seq #(
      .R(R),
      .C(C),
      .ACC_UNITS(ACC_UNITS),
      .IMEM_DEPTH(IMEM_DEPTH),
      .ABUF_BLOCKS(ABUF_BLOCKS),
      .WMEM_BLOCKS(WMEM_BLOCKS),
      .ACC_DEPTH(ACC_DEPTH),
      .BIAS_DEPTH(BIAS_DEPTH),
      .OBUF_DEPTH(OBUF_DEPTH),
      .POST_UNIT(POST_UNIT),
      .ACCUMULATE(ACCUMULATE)
  ) seq (
      .i_clk          (i_clk),
      .i_rst          (i_rst),
      .i_ctl_start    (ctl_start),
      .i_ctl_reset    (ctl_reset),
      .i_start_pc     (start_pc),
      .i_clip_lo_we   (reg_we && reg_off == PAL_TILE_REG_CLIP_LO),
      .i_clip_hi_we   (reg_we && reg_off == PAL_TILE_REG_CLIP_HI),
      .i_clip_wdata   (q_wdata),
      .o_busy         (seq_busy),
      .o_done         (done),
      .o_nar          (s_nar),
      .o_error        (error),
      .o_err_pc       (err_pc),
      .o_clip_lo      (clip_lo),
      .o_clip_hi      (clip_hi),
      .o_ev_busy      (ev_busy),
      .o_ev_stall     (ev_stall),
      .o_ev_idle      (ev_idle),
      .o_ev_gated     (ev_gated),
      .o_ev_act_skip  (ev_act),
      .o_ev_blk_skip  (ev_blk),
      .o_ev_nar       (ev_nar),
      .o_imem_re      (imem_re),
      .o_imem_raddr   (imem_raddr),
      .i_imem_rdata   (imem_q),
      .i_avis         (avis),
      .i_wnar_any     (wnar_any),
      .o_fe_re        (fe_re),
      .o_fe_blk       (fe_blk),
      .i_fe_bmap      (fe_bmap),
      .i_fe_scale     (fe_scale),
      .o_step_en      (step_en),
      .o_step_mac     (step_mac),
      .o_step_ab      (step_ab),
      .o_step_k       (step_k),
      .o_step_wb      (step_wb),
      .o_ho_begin     (ho_begin),
      .o_ho_wb        (ho_wb),
      .o_ho_first     (ho_first),
      .o_ho_ascale    (ho_ascale),
      .o_ho_accrow    (ho_accrow),
      .o_ho_biasrow   (ho_biasrow),
      .o_ho_wblk      (ho_wblk),
      .o_ho_kb        (ho_kb),
      .o_plane        (ho_plane),
      .o_init         (init),
      .i_gated_count  (gated_count),
      .o_pe_issue     (pe_issue),
      .o_pe_pal8      (pe_pal8),
      .o_pe_pass2     (pe_pass2),
      .o_pe_last      (pe_last),
      .o_pe_idx       (pe_idx),
      .o_pe_addr      (pe_addr),
      .o_pe_acc_raddr (pe_acc_raddr),
      .o_pe_bias_raddr(pe_bias_raddr),
      .o_post_bias_en (post_bias_en),
      .o_post_act     (post_act),
      .i_post_nar     (post_nar)
  );
  assign o_busy = seq_busy;
  assign o_done = done;

  // ---- IMEM -------------------------------------------------------------------------------
  pal_tile_ram #(
      .DEPTH(IMEM_DEPTH),
      .WIDTH(128),
      .LANES(4)
  ) imem (
      .i_clk  (i_clk),
      .i_re   (imem_re | (rd_a & ok_imem)),
      .i_raddr((rd_a & ok_imem) ? word[IAW+1:2] : imem_raddr),
      .o_rdata(imem_q),
      .i_we   ((ok_imem && we_b == 4'hF) ? (4'd1 << word[1:0]) : 4'd0),
      .i_waddr(word[IAW+1:2]),
      .i_wdata({4{q_wdata}})
  );

  // ---- activation buffer -------------------------------------------------------------------
  wire [31:0]  abuf_rdata;
  wire         ab_we, ab_cwe;
  wire [ABW-1:0] ab_blk;
  wire [4:0]   ab_idx;
  wire [7:0]   ab_code;
  wire [31:0]  ab_bmap;
  wire [7:0]   ab_scale;
  wire [7:0]   step_code;

  pal_tile_abuf #(
      .ABUF_BLOCKS(ABUF_BLOCKS),
      .ABUF_SPRAM (ABUF_SPRAM)
  ) abuf (
      .i_clk       (i_clk),
      .i_step_re   (step_en),
      .i_step_blk  (step_ab),
      .i_step_k    (step_k),
      .o_step_code (step_code),
      .i_fe_re     (fe_re),
      .i_fe_blk    (fe_blk),
      .o_fe_bmap   (fe_bmap),
      .o_fe_scale  (fe_scale),
      .i_pc_we     (ab_cwe & wr_ok & ~ctl_reset),
      .i_pc_k      (ab_idx),
      .i_pc_code   (ab_code),
      .i_pw_en     (ab_we & wr_ok & ~ctl_reset),
      .i_pw_blk    (ab_blk),
      .i_pw_bmap   (ab_bmap),
      .i_pw_scale  (ab_scale),
      .i_bus_rd    (rd_a & ok_a),
      .i_bus_scales(region == RG_ASCALE),
      .i_bus_word  (word[ABW+2:0]),
      .i_bus_we    (ok_a ? we_b : 4'd0),
      .i_bus_wdata (q_wdata),
      .o_bus_rdata (abuf_rdata),
      .o_avis      (avis)
  );

  // ---- the array --------------------------------------------------------------------------
  localparam H = (P + U - 1) / U;
  localparam HW = (H > 1) ? $clog2(H) : 1;
  wire [HW-1:0]   tab_slot;
  wire            tab_re;
  wire [WBW-1:0]  tab_wblk;
  wire [22*U-1:0] lane_sum;
  wire [U-1:0]    lane_nar;
  wire [8*U-1:0]  lane_scale;
  wire            xfer;
  wire [31:0]     wmem_rdata;

  pal_tile_array #(
      .R(R),
      .C(C),
      .WMEM_BLOCKS(WMEM_BLOCKS),
      .U(U)
  ) array (
      .i_clk        (i_clk),
      .i_rst        (seq_rst),
      .i_step_mac   (step_mac),
      .i_step_wb    (step_wb),
      .i_step_k     (step_k),
      .i_code       (step_code),
      .i_xfer       (xfer),
      .i_tab_re     (tab_re),
      .i_tab_slot   (tab_slot),
      .i_tab_wblk   (tab_wblk),
      .o_lane_sum   (lane_sum),
      .o_lane_nar   (lane_nar),
      .o_lane_scale (lane_scale),
      .o_gated_count(gated_count),
      .i_bus_on     (pha | phb),
      .i_bus_rd     (rd_a & ok_w),
      .i_bus_b      (phb & ok_w),
      .i_bus_pass   (pass),
      .i_bus_scales (region == RG_WSCALE),
      .i_bus_pe     (w_pe),
      .i_bus_word   (w_word),
      .i_bus_we     (ok_w ? we_b : 4'd0),
      .i_bus_wdata  (q_wdata),
      .o_bus_rdata  (wmem_rdata),
      .o_wnar_any   (wnar_any)
  );

  // ---- accumulate units and the ACC / BIAS banks --------------------------------------------
  wire          acc_re, bias_re;
  wire [AAW-1:0] acc_raddr, acc_waddr;
  wire [BAW-1:0] bias_raddr;
  wire [U-1:0]  acc_rlane, bias_rlane, acc_we;
  wire [32*U-1:0] acc_rdata, acc_wdata, bias_rdata;
  wire [U-1:0]  accnar_rdata, accnar_wdata;

  localparam SH_W = 25;
  wire            aa_en, aa_valid, aa_pass, pa_en, pa_valid, pa_pass;
  wire [31:0]     aa_a, aa_b, pa_a, pa_b;
  wire [HW:0]     aa_side;
  wire [24:0]     pa_side;
  // the adder's results: read by the accumulate unit and POST, neither of
  // which a tile with ACCUMULATE = 0 has
  /* verilator lint_off UNUSEDSIGNAL */
  wire            sh_valid, sh_nar, sh_post;
  wire [31:0]     sh_sum;
  wire [SH_W-1:0] sh_side;
  /* verilator lint_on UNUSEDSIGNAL */
  generate
    if (ACCUMULATE != 0) begin : g_accu
    // a block's place in the row is raw block sums' business
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused_raw = &{1'b0, ho_kb, ho_plane};
    /* verilator lint_on UNUSEDSIGNAL */
    pal_tile_accu #(
        .P(P),
        .U(U),
        .ACC_DEPTH(ACC_DEPTH),
        .BIAS_DEPTH(BIAS_DEPTH),
        .SHARE_ADD(1),
        .WBW(WBW)
    ) accu (
        .i_clk         (i_clk),
        .i_rst         (seq_rst),
        .i_ho_begin    (ho_begin),
        .i_ho_wb       (ho_wb),
        .i_ho_first    (ho_first),
        .i_ho_ascale   (ho_ascale),
        .i_ho_accrow   (ho_accrow),
        .i_ho_biasrow  (ho_biasrow),
        .i_ho_wblk     (ho_wblk),
        .i_init        (init),
        .o_xfer        (xfer),
        .o_tab_re      (tab_re),
        .o_tab_slot    (tab_slot),
        .o_tab_wblk    (tab_wblk),
        .i_lane_sum    (lane_sum),
        .i_lane_nar    (lane_nar),
        .i_lane_scale  (lane_scale),
        .o_acc_re      (acc_re),
        .o_acc_raddr   (acc_raddr),
        .o_acc_rlane   (acc_rlane),
        .i_acc_rdata   (acc_rdata),
        .i_accnar_rdata(accnar_rdata),
        .o_acc_we      (acc_we),
        .o_acc_waddr   (acc_waddr),
        .o_acc_wdata   (acc_wdata),
        .o_accnar_wdata(accnar_wdata),
        .o_bias_re     (bias_re),
        .o_bias_raddr  (bias_raddr),
        .o_bias_rlane  (bias_rlane),
        .i_bias_rdata  (bias_rdata),
        .o_add_en      (aa_en),
        .o_add_valid   (aa_valid),
        .o_add_a       (aa_a),
        .o_add_b       (aa_b),
        .o_add_pass    (aa_pass),
        .o_add_side    (aa_side),
        .i_add_valid   (sh_valid & ~sh_post),
        .i_add_sum     (sh_sum),
        .i_add_nar     (sh_nar),
        .i_add_side    (sh_side[HW:0])
    );

    // ---- the FP32 adder shared by accumulate unit 0 and POST ------------------------
    // A GEMM's blocks have all left the accumulate units before a POST
    // issues its first element, and a POST's last result is written in its
    // last cycle (§4), so the two never offer an operand in the same cycle
    // (the simulation stops if they do); a side bit says whose result comes
    // out. One adder fewer: about 600 LUT4 on the iCE40 (docs/boards.md).
    // sides: POST's 25 bits (pal_post: TAG_W + 1), the unit's HW + 1 < 25
    pal_fp32_add #(
        .SIDE_W(SH_W + 1)
    ) shared_add (
        .i_clk  (i_clk),
        .i_rst  (seq_rst),
        .i_en   (aa_en & pa_en),
        .i_valid(aa_valid | pa_valid),
        .i_a    (pa_valid ? pa_a : aa_a),
        .i_b    (pa_valid ? pa_b : aa_b),
        .i_pass (pa_valid ? pa_pass : aa_pass),
        .i_side (pa_valid ? {1'b1, pa_side} : {1'b0, {(SH_W - HW - 1){1'b0}}, aa_side}),
        .o_valid(sh_valid),
        .o_sum  (sh_sum),
        .o_nar  (sh_nar),
        .o_side ({sh_post, sh_side})
    );
  `ifndef SYNTHESIS
    always @(posedge i_clk)
      if (!seq_rst && aa_valid && pa_valid)
        $fatal(1, "%m: accumulate unit 0 and POST offer the shared adder an operand in one cycle");
  `endif
    end else begin : g_raw
      // the raw write-back (pal_tile_raw): no start values, no running
      // sums, so nothing reads ACC or BIAS through the units' port, and no
      // FP32 adder (POST, its other client, is not there either)
      pal_tile_raw #(
          .P(P),
          .U(U),
          .ACC_DEPTH(ACC_DEPTH),
          .WBW(WBW),
          .KIW(KIW)
      ) raw (
          .i_clk         (i_clk),
          .i_rst         (seq_rst),
          .i_ho_begin    (ho_begin),
          .i_ho_wb       (ho_wb),
          .i_ho_ascale   (ho_ascale),
          .i_ho_accrow   (ho_accrow),
          .i_ho_wblk     (ho_wblk),
          .i_ho_kb       (ho_kb),
          .i_plane       (ho_plane),
          .o_xfer        (xfer),
          .o_tab_re      (tab_re),
          .o_tab_slot    (tab_slot),
          .o_tab_wblk    (tab_wblk),
          .i_lane_sum    (lane_sum),
          .i_lane_nar    (lane_nar),
          .i_lane_scale  (lane_scale),
          .o_acc_we      (acc_we),
          .o_acc_waddr   (acc_waddr),
          .o_acc_wdata   (acc_wdata),
          .o_accnar_wdata(accnar_wdata)
      );
      assign {acc_re, acc_raddr, acc_rlane, bias_re, bias_raddr, bias_rlane} =
          {(1 + AAW + U + 1 + BAW + U) {1'b0}};
      assign {sh_valid, sh_nar, sh_post, sh_sum, sh_side} = {(3 + 32 + SH_W) {1'b0}};
      assign {aa_en, aa_valid, aa_pass, aa_a, aa_b, aa_side} = {(3 + 64 + HW + 1) {1'b0}};
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_accu = &{1'b0, ho_first, ho_biasrow, init, acc_rdata, accnar_rdata, bias_rdata,
                           pa_en, pa_valid, pa_a, pa_b, pa_pass, pa_side, aa_en, aa_valid, aa_pass,
                           aa_a, aa_b, aa_side};
`ifndef SYNTHESIS
      initial
        if (POST_UNIT != 0)
          $fatal(1, "%m: ACCUMULATE = 0 needs POST_UNIT = 0 (POST reads FP32 sums from ACC)");
`endif
      /* verilator lint_on UNUSEDSIGNAL */
    end
  endgenerate

  // single ports: POST reads while running, the bus while idle
  wire [31:0] acc_s_q, bias_s_q;
  wire        accnar_s_q;
  wire        s_acc_re = seq_busy ? pe_issue : rd_a & (ok_acc | ok_accnar);
  wire [AAW-1:0] s_acc_addr = seq_busy ? pe_acc_raddr : word[AAW-1:0];
  wire        s_bias_re = seq_busy ? pe_issue : rd_a & ok_bias;
  wire [BAW-1:0] s_bias_addr = seq_busy ? pe_bias_raddr : word[BAW-1:0];

  pal_tile_bankbuf #(
      .DEPTH(ACC_DEPTH),
      .WIDTH(32),
      .BANKS(U)
  ) acc_vals (
      .i_clk    (i_clk),
      .i_w_re   (acc_re),
      .i_w_raddr(acc_raddr),
      .i_w_rlane(acc_rlane),
      .o_w_rdata(acc_rdata),
      .i_w_we   ((wr_ok && !ctl_reset) ? acc_we : {U{1'b0}}),
      .i_w_waddr(acc_waddr),
      .i_w_wdata(acc_wdata),
      .i_s_re   (s_acc_re),
      .i_s_raddr(s_acc_addr),
      .o_s_rdata(acc_s_q),
      .i_s_we   (ok_acc && we_b == 4'hF),
      .i_s_waddr(word[AAW-1:0]),
      .i_s_wdata(q_wdata)
  );

  pal_tile_bankbuf #(
      .DEPTH(ACC_DEPTH),
      .WIDTH(1),
      .BANKS(U)
  ) acc_nars (
      .i_clk    (i_clk),
      .i_w_re   (acc_re),
      .i_w_raddr(acc_raddr),
      .i_w_rlane(acc_rlane),
      .o_w_rdata(accnar_rdata),
      .i_w_we   ((wr_ok && !ctl_reset) ? acc_we : {U{1'b0}}),
      .i_w_waddr(acc_waddr),
      .i_w_wdata(accnar_wdata),
      .i_s_re   (s_acc_re),
      .i_s_raddr(s_acc_addr),
      .o_s_rdata(accnar_s_q),
      .i_s_we   (ok_accnar && we_b[0]),
      .i_s_waddr(word[AAW-1:0]),
      .i_s_wdata(q_wdata[0])
  );

  pal_tile_bankbuf #(
      .DEPTH(BIAS_DEPTH),
      .WIDTH(32),
      .BANKS(U)
  ) biases (
      .i_clk    (i_clk),
      .i_w_re   (bias_re),
      .i_w_raddr(bias_raddr),
      .i_w_rlane(bias_rlane),
      .o_w_rdata(bias_rdata),
      .i_w_we   ({U{1'b0}}),
      .i_w_waddr({BAW{1'b0}}),
      .i_w_wdata({32 * U{1'b0}}),
      .i_s_re   (s_bias_re),
      .i_s_raddr(s_bias_addr),
      .o_s_rdata(bias_s_q),
      .i_s_we   (ok_bias && we_b == 4'hF),
      .i_s_waddr(word[BAW-1:0]),
      .i_s_wdata(q_wdata)
  );

  // ---- POST and OBUF -------------------------------------------------------------------------
  wire           ob_we;
  wire [OAW-1:0] ob_addr;
  wire [31:0]    ob_data, obuf_q;

  generate
    if (POST_UNIT != 0) begin : g_post
    pal_tile_post #(
        .ABW(ABW),
        .OAW(OAW),
        .SHARE_ADD(1)
    ) post (
        .i_clk     (i_clk),
        .i_rst     (seq_rst),
        .i_bias_en (post_bias_en),
        .i_act     (post_act),
        .i_clip_lo (clip_lo),
        .i_clip_hi (clip_hi),
        .i_issue   (pe_issue),
        .i_pal8    (pe_pal8),
        .i_pass2   (pe_pass2),
        .i_last    (pe_last),
        .i_idx     (pe_idx),
        .i_addr    (pe_addr),
        .i_acc     (acc_s_q),
        .i_acc_nar (accnar_s_q),
        .i_bias    (bias_s_q),
        .o_ob_we   (ob_we),
        .o_ob_addr (ob_addr),
        .o_ob_data (ob_data),
        .o_ab_cwe  (ab_cwe),
        .o_ab_idx  (ab_idx),
        .o_ab_code (ab_code),
        .o_ab_we   (ab_we),
        .o_ab_blk  (ab_blk),
        .o_ab_bmap (ab_bmap),
        .o_ab_scale(ab_scale),
        .o_nar_out (post_nar),
        .o_add_en   (pa_en),
        .o_add_valid(pa_valid),
        .o_add_a    (pa_a),
        .o_add_b    (pa_b),
        .o_add_pass (pa_pass),
        .o_add_side (pa_side),
        .i_add_valid(sh_valid & sh_post),
        .i_add_sum  (sh_sum),
        .i_add_nar  (sh_nar),
        .i_add_side (sh_side[24:0])
    );
    end else begin : g_no_post
      // nothing writes OBUF or ABUF, nothing offers the shared adder an
      // operand but the accumulate unit
      localparam integer TIE_W = 1 + OAW + 32 + 1 + 5 + 8 + 1 + ABW + 32 + 8 + 1 + 1 + 32 + 32 + 1 + 25;
      assign {ob_we, ob_addr, ob_data, ab_cwe, ab_idx, ab_code, ab_we, ab_blk, ab_bmap, ab_scale,
              post_nar, pa_valid, pa_a, pa_b, pa_pass, pa_side} = {TIE_W{1'b0}};
      assign pa_en = 1'b1;
      // the element generator's outputs, constant without a POST unit
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_post = &{1'b0, pe_pal8, pe_pass2, pe_last, pe_idx, pe_addr, post_bias_en, post_act};
      /* verilator lint_on UNUSEDSIGNAL */
    end
  endgenerate

  pal_tile_ram #(
      .DEPTH(OBUF_DEPTH),
      .WIDTH(32),
      .LANES(4)
  ) obuf (
      .i_clk  (i_clk),
      .i_re   (rd_a & ok_obuf),
      .i_raddr(word[OAW-1:0]),
      .o_rdata(obuf_q),
      .i_we   ((ob_we && wr_ok && !ctl_reset) ? 4'hF : (ok_obuf ? we_b : 4'd0)),
      .i_waddr(ob_we ? ob_addr : word[OAW-1:0]),
      .i_wdata(ob_we ? ob_data : q_wdata)
  );

  // ---- registers and read data --------------------------------------------------------------
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic [31:0] geometry(input [31:0] r, input [31:0] c, input [31:0] u,
                                     input integer post_unit, input integer accumulate);
    geometry = {8'd0, u[7:0], c[7:0], r[7:0]} |
               (post_unit != 0 ? 32'd0 : 32'd1 << PAL_TILE_GEOMETRY_NO_POST_BIT) |
               (accumulate != 0 ? 32'd0 : 32'd1 << PAL_TILE_GEOMETRY_NO_ACCU_BIT);
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */
  localparam [31:0] GEOMETRY = geometry(R, C, U, POST_UNIT, ACCUMULATE);
  localparam [3:0] NCTR = PAL_TILE_CTR_COUNT[3:0];
  localparam [31:0] V_IMEM = IMEM_DEPTH, V_ABUF = ABUF_BLOCKS, V_WMEM = WMEM_BLOCKS,
                    V_ACC = ACC_DEPTH, V_BIAS = BIAS_DEPTH, V_OBUF = OBUF_DEPTH;

  // 64-bit counters (pal_tile_ctrs) read low word first: reading a low word
  // keeps its high word, which the following read of the high word returns.
  // Any other counter read takes a snapshot: the request goes out in phase
  // A and phase B waits for the value (a few cycles; the counter bank holds
  // it, and so is the latch).
  localparam integer PI = P;
  localparam IW = (GW + 1 > 6) ? ((GW + 1 > KW) ? GW + 1 : KW) : ((6 > KW) ? 6 : KW);
  localparam [IW-1:0] P_INC = PI[IW-1:0];
  wire [3:0]  ctr_idx = reg_off[6:3];
  wire is_ctr = reg_off[7] && ctr_idx < NCTR && reg_off[1:0] == 2'd0;
  wire ctr_rd = !q_we && q_addr[31:28] == RG_REGS && is_ctr;
  reg  [3:0]  hi_idx;
  reg         hi_valid;
  wire        ctr_busy;
  wire [63:0] ctr_value;
  assign ctr_wait = phb & ctr_busy;

  always @(posedge i_clk) begin
    if (i_rst) begin
      hi_valid <= 1'b0;
    end else if (phb && !ctr_wait && ctr_rd) begin
      hi_valid <= ~reg_off[2];
      hi_idx <= ctr_idx;
    end
  end

  pal_tile_ctrs #(
      .N (PAL_TILE_CTR_COUNT),
      .IW(IW)
  ) ctrs (
      .i_clk    (i_clk),
      .i_clear  (seq_rst),
      // in the order of §6 (include/pal/tile.h)
      .i_inc    ({{{(IW - 1) {1'b0}}, ev_nar}, {{(IW - KW) {1'b0}}, ev_blk},
                  {{(IW - 6) {1'b0}}, ev_act}, {{(IW - GW - 1) {1'b0}}, ev_gated},
                  ev_busy ? P_INC : {IW{1'b0}}, {{(IW - 1) {1'b0}}, ev_idle},
                  {{(IW - 1) {1'b0}}, ev_stall}, {{(IW - 1) {1'b0}}, ev_busy},
                  {{(IW - 1) {1'b0}}, seq_busy}}),
      .i_rd_req (pha && ctr_rd && !(reg_off[2] && hi_valid && hi_idx == ctr_idx)),
      .i_rd_idx (ctr_idx),
      .o_rd_busy(ctr_busy),
      .o_value  (ctr_value)
  );

  // The read data by the offset's fields rather than by an eight-bit
  // comparison per register (ABC left those about 30 LUTs larger): [7:6]
  // picks the group (0: the constant ID and depth words, 1: the live
  // registers, 2 and 3: the counters) and [5:2] the word in it, so each
  // constant bit is one function of four address bits. The map's offsets
  // are checked against that grouping below.
  localparam [1:0] GRP_CONST = 2'd0, GRP_LIVE = 2'd1;
  wire [3:0] r_word = reg_off[5:2];
  reg [31:0] r_const, r_live;
  always @* begin
    case (r_word)
      PAL_TILE_REG_ID[5:2]: r_const = PAL_TILE_ID_VALUE;
      PAL_TILE_REG_ISA_VERSION[5:2]: r_const = PAL_ISA_VERSION;
      PAL_TILE_REG_GEOMETRY[5:2]: r_const = GEOMETRY;
      PAL_TILE_REG_IMEM_DEPTH[5:2]: r_const = V_IMEM;
      PAL_TILE_REG_ABUF_BLOCKS[5:2]: r_const = V_ABUF;
      PAL_TILE_REG_WMEM_BLOCKS[5:2]: r_const = V_WMEM;
      PAL_TILE_REG_ACC_DEPTH[5:2]: r_const = V_ACC;
      PAL_TILE_REG_BIAS_DEPTH[5:2]: r_const = V_BIAS;
      PAL_TILE_REG_OBUF_DEPTH[5:2]: r_const = V_OBUF;
      default: r_const = 32'd0;
    endcase
    case (r_word)
      PAL_TILE_REG_START_PC[5:2]: r_live = {16'd0, start_pc};
      PAL_TILE_REG_STATUS[5:2]: r_live = {err_pc, error, 5'd0, s_nar, done, seq_busy};
      PAL_TILE_REG_CLIP_LO[5:2]: r_live = clip_lo;
      PAL_TILE_REG_CLIP_HI[5:2]: r_live = clip_hi;
      default: r_live = 32'd0;  // CONTROL reads as 0
    endcase
  end
  reg [31:0] reg_rdata;
  always @* begin
    reg_rdata = 32'd0;
    if (phb && reg_off[1:0] == 2'd0)
      case (reg_off[7:6])
        GRP_CONST: reg_rdata = r_const;
        GRP_LIVE: reg_rdata = r_live;
        default: if (is_ctr) reg_rdata = reg_off[2] ? ctr_value[63:32] : ctr_value[31:0];
      endcase
  end
`ifndef SYNTHESIS
  // the grouping above, against the generated map
  initial
    if (PAL_TILE_REG_ID[7:6] != GRP_CONST || PAL_TILE_REG_ISA_VERSION[7:6] != GRP_CONST ||
        PAL_TILE_REG_GEOMETRY[7:6] != GRP_CONST || PAL_TILE_REG_IMEM_DEPTH[7:6] != GRP_CONST ||
        PAL_TILE_REG_ABUF_BLOCKS[7:6] != GRP_CONST || PAL_TILE_REG_WMEM_BLOCKS[7:6] != GRP_CONST ||
        PAL_TILE_REG_ACC_DEPTH[7:6] != GRP_CONST || PAL_TILE_REG_BIAS_DEPTH[7:6] != GRP_CONST ||
        PAL_TILE_REG_OBUF_DEPTH[7:6] != GRP_CONST || PAL_TILE_REG_CONTROL[7:6] != GRP_LIVE ||
        PAL_TILE_REG_START_PC[7:6] != GRP_LIVE || PAL_TILE_REG_STATUS[7:6] != GRP_LIVE ||
        PAL_TILE_REG_CLIP_LO[7:6] != GRP_LIVE || PAL_TILE_REG_CLIP_HI[7:6] != GRP_LIVE ||
        !PAL_TILE_REG_CYC_TOTAL[7])
      $fatal(1, "%m: the register map no longer has the grouping the read multiplexer assumes");
`endif

  reg q_ok;  // a memory answered (registered from phase A)
  always @* begin
    case (q_addr[31:28])
      RG_REGS:   o_bus_rdata = reg_rdata;
      RG_IMEM:   o_bus_rdata = q_ok ? imem_q[32*q_addr[3:2]+:32] : 32'd0;
      RG_ABUF, RG_ASCALE: o_bus_rdata = q_ok ? abuf_rdata : 32'd0;
      RG_WMEM, RG_WSCALE: o_bus_rdata = q_ok ? wmem_rdata : 32'd0;
      RG_ACC:    o_bus_rdata = q_ok ? acc_s_q : 32'd0;
      RG_ACCNAR: o_bus_rdata = q_ok ? {31'd0, accnar_s_q} : 32'd0;
      RG_BIAS:   o_bus_rdata = q_ok ? bias_s_q : 32'd0;
      RG_OBUF:   o_bus_rdata = q_ok ? obuf_q : 32'd0;
      default:   o_bus_rdata = 32'd0;
    endcase
  end
  always @(posedge i_clk) begin
    if (phase_a)
      q_ok <= ok_imem | ok_a | ok_w | ok_acc | ok_accnar | ok_bias | ok_obuf;
  end

endmodule

`default_nettype wire
