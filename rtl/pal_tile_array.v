// The R x C array of PEs (weight-stationary, activation-broadcast): every
// step (k, activation code) goes to all P PEs, each of which reads its own
// weight and accumulates its own output column. The array also keeps the
// any-PE NaR-weight table the walk needs (docs/isa.md §4: a block is
// visited when some PE, padding columns included, has a NaR code or scale
// 255 in its weight block): per weight block, how many PEs have their NaR
// flag set (gcnt, updated on every WMEM write) and the bit "count != 0"
// (o_wnar_any) for the sequencer.
//
// The array also keeps every PE's block table: per weight block its scale,
// its NaR flag (a NaR code in the block or scale 255) and the count of NaR
// codes that maintains the flag on every write. The PEs need a block's
// scale and flag only when they hand the block off, and the accumulate
// units take the PEs one slot at a time, so the table is one RAM per lane
// (unit) u, holding the blocks of the PEs j*U + u at {j, block}, one block
// per word: it is read in the unit's read phase (i_tab_*) and its entry
// arrives with the slot's hand-off registers. Kept in the PEs, the tables were a memory in
// flip-flops on the iCE40 (720 of the 2x2 SoC's flip-flops,
// docs/boards.md); here they are block RAM.
//
// The accumulate units take the PEs' hand-off registers (valid from the
// cycle after i_xfer) one slot at a time, slot j in the j-th cycle after
// that: lane u of the o_lane_* outputs is then PE j*U + u, whose register
// has moved down its lane's chain to PE u (pal_tile_pe). o_gated_count:
// the gated MACs (zero weight codes) of the steps whose data phase was two
// cycles ago.
`default_nettype none

module pal_tile_array #(
    parameter R = 4,
    parameter C = 4,
    parameter WMEM_BLOCKS = 256,
    parameter U = 4,                        // accumulate units
    parameter P = R * C,                    // derived: do not override
    parameter H = (P + U - 1) / U,          // derived
    parameter HW = (H > 1) ? $clog2(H) : 1, // derived
    parameter PEW = (P > 1) ? $clog2(P) : 1,  // derived
    parameter UW = (U > 1) ? $clog2(U) : 1,   // derived
    parameter GW = $clog2(P + 1),           // derived: count width
    parameter WBW = $clog2(WMEM_BLOCKS),    // derived
    parameter CAW = WBW + 3                 // derived
) (
    input  wire               i_clk,
    input  wire               i_rst,
    // broadcast step
    input  wire               i_step_mac,
    input  wire [WBW-1:0]     i_step_wb,
    input  wire [4:0]         i_step_k,
    input  wire [7:0]         i_code,
    input  wire               i_xfer,
    // block table read (an accumulate unit's read phase): slot, weight block
    input  wire               i_tab_re,
    input  wire [HW-1:0]      i_tab_slot,
    input  wire [WBW-1:0]     i_tab_wblk,
    // hand-off registers of the PEs of one slot (the one whose table
    // entries were read the cycle before), with those entries
    output wire [22*U-1:0]    o_lane_sum,
    output wire [U-1:0]       o_lane_nar,
    output wire [8*U-1:0]     o_lane_scale,
    output wire [GW-1:0]      o_gated_count,
    // bus
    input  wire               i_bus_on,     // a bus transfer is in phase A or B
    input  wire               i_bus_rd,     // phase A of a pass: read
    input  wire               i_bus_b,      // phase B of a pass: write, answer
    input  wire [1:0]         i_bus_pass,   // codes: the half word; scales: the block
    input  wire               i_bus_scales,
    input  wire [PEW-1:0]     i_bus_pe,
    input  wire [CAW-1:0]     i_bus_word,
    input  wire [3:0]         i_bus_we,
    input  wire [31:0]        i_bus_wdata,
    output wire [31:0]        o_bus_rdata,  // in the last pass's phase B
    // any-PE NaR weight, per weight block
    output reg  [WMEM_BLOCKS-1:0] o_wnar_any
);

  /* verilator lint_off UNUSEDPARAM */
  `include "pal_tables.vh"
  /* verilator lint_on UNUSEDPARAM */

  localparam BAW = WBW - 2;

  // ---- bus: one read-modify-write engine for the PE addressed ----------------
  // A bus word goes through in passes (pal_tile.v): a code word in two, one
  // per 16-bit half (2 codes), a scale word in four, one per block. Phase A
  // of a pass reads the half word of every PE at the address and the block
  // table entry of every lane at the PE's slot (only the addressed PE's are
  // used); phase B merges the write and keeps, for the block touched, the
  // count of NaR codes, the flag (count != 0 or scale 255) and the any-PE
  // table. Passes of one word touch one block (codes) or four (scales) one
  // at a time, so each reads what the previous one wrote.
  wire [WBW-1:0] bus_blk = i_bus_scales ? {i_bus_word[BAW-1:0], i_bus_pass}
                                        : i_bus_word[CAW-1:3];
  wire [BAW-1:0] bus_bw = bus_blk[WBW-1:2];    // any-PE count word (4 blocks)
  wire [1:0]     bus_lane = bus_blk[1:0];      // the block in that word
  wire [CAW:0]   bus_hw = {i_bus_word, i_bus_pass[0]};  // code half word
  reg  [P-1:0]   bus_sel;
  reg  [UW-1:0]  bus_u;   // the addressed PE's lane and slot: PE = slot*U + lane
  reg  [HW-1:0]  bus_j;
  wire [15:0] pe_code_q[0:P-1];
  wire [14:0] tab_q[0:U-1];  // {count[6], flag, scale[8]}
  reg  [15:0] code_q;
  reg  [14:0] ent_q;
  integer q;
  /* verilator lint_off UNUSEDSIGNAL */
  reg [31:0] q_u, q_j;  // constants per q: only their low bits are used
  /* verilator lint_on UNUSEDSIGNAL */
  always @* begin
    bus_u = {UW{1'b0}};
    bus_j = {HW{1'b0}};
    q_u = 32'd0;
    q_j = 32'd0;
    for (q = 0; q < P; q = q + 1)
      if (i_bus_pe == q[PEW-1:0]) begin
        q_u = q % U;
        q_j = q / U;
        bus_u = q_u[UW-1:0];
        bus_j = q_j[HW-1:0];
      end
  end

  // this pass's strobes: the half word's two bytes, or the block's scale
  wire [1:0] we_half = i_bus_pass[0] ? i_bus_we[3:2] : i_bus_we[1:0];
  wire [15:0] wd_half = i_bus_pass[0] ? i_bus_wdata[31:16] : i_bus_wdata[15:0];
  wire       we_scale = i_bus_we[i_bus_pass];
  wire [7:0] wd_scale = i_bus_wdata[8*i_bus_pass+:8];

  reg  [3:0]  set, clr;
  reg         code_we, tab_we;
  reg  [15:0] code_wdata;
  reg  [14:0] tab_wdata;
  reg  signed [2:0] nar_delta;
  reg  [5:0]  cnt_new;
  reg  [7:0]  scale_new;
  reg         flag_new;
  integer b;
  // (evaluated only during bus transfers)
  always @* begin
    bus_sel = {P{1'b0}};
    code_q = 16'd0;
    ent_q = 15'd0;
    if (i_bus_on) begin
      bus_sel[i_bus_pe] = 1'b1;
      code_q = pe_code_q[i_bus_pe];
      ent_q = tab_q[bus_u];
    end
    code_wdata = code_q;
    nar_delta = 3'sd0;
    for (b = 0; b < 2; b = b + 1)
      if (we_half[b]) begin
        code_wdata[8*b+:8] = wd_half[8*b+:8];
        nar_delta = nar_delta + ((wd_half[8*b+:8] == PAL_CODE_NAR) ? 3'sd1 : 3'sd0)
                              - ((code_q[8*b+:8] == PAL_CODE_NAR) ? 3'sd1 : 3'sd0);
      end
    // codes: count the NaR codes in and out; scales: the new scale
    cnt_new = ent_q[14:9];
    scale_new = ent_q[7:0];
    code_we = 1'b0;
    tab_we = 1'b0;
    if (i_bus_b && !i_bus_scales && we_half != 2'b00) begin
      cnt_new = ent_q[14:9] + {{3{nar_delta[2]}}, nar_delta};
      code_we = 1'b1;
      tab_we = 1'b1;
    end else if (i_bus_b && i_bus_scales && we_scale) begin
      scale_new = wd_scale;
      tab_we = 1'b1;
    end
    flag_new = (cnt_new != 6'd0) | (scale_new == PAL_SCALE_NAR);
    tab_wdata = {cnt_new, flag_new, scale_new};
    set = 4'd0;
    clr = 4'd0;
    if (tab_we) begin
      set[bus_lane] = flag_new & ~ent_q[8];
      clr[bus_lane] = ent_q[8] & ~flag_new;
    end
  end

  // read answer: the earlier passes' parts kept, the last pass's added
  reg [23:0] rd_keep;
  always @(posedge i_clk) begin
    if (i_bus_b) begin
      if (i_bus_scales) rd_keep[8*i_bus_pass+:8] <= ent_q[7:0];
      else rd_keep[15:0] <= code_q;
    end
  end
  assign o_bus_rdata = i_bus_scales ? {ent_q[7:0], rd_keep[23:0]} : {code_q, rd_keep[15:0]};

  // ---- the PEs ---------------------------------------------------------------
  wire [P-1:0] pe_gated;
  wire [21:0]  pe_sum[0:P-1];
  wire         pe_nar[0:P-1];
  genvar p;
  generate
    for (p = 0; p < P; p = p + 1) begin : g_pe
      pal_tile_pe #(
          .WMEM_BLOCKS(WMEM_BLOCKS)
      ) pe (
          .i_clk       (i_clk),
          .i_rst       (i_rst),
          .i_step_mac  (i_step_mac),
          .i_step_wb   (i_step_wb),
          .i_step_k    (i_step_k),
          .i_code      (i_code),
          .i_xfer      (i_xfer),
          .i_chain_sum ((p + U < P) ? pe_sum[(p+U)%P] : 22'd0),
          .i_chain_nar ((p + U < P) ? pe_nar[(p+U)%P] : 1'b0),
          .o_sum       (pe_sum[p]),
          .o_nar       (pe_nar[p]),
          .o_gated     (pe_gated[p]),
          .i_bus_rd    (i_bus_rd),
          .i_bus_sel   (bus_sel[p]),
          .i_bus_hw    (bus_hw),
          .i_code_we   (code_we),
          .i_code_wdata(code_wdata),
          .o_code_q    (pe_code_q[p])
      );
    end
  endgenerate

  assign o_gated_count = $countones(pe_gated);

  // ---- block tables, one per lane ----------------------------------------------
  // Lane u's table holds the blocks of PEs j*U + u at {j, block}, one
  // block per word. One port each way: the bus (tile idle) and the slot
  // reads (a GEMM's hand-offs) never meet.
  localparam TAW = HW + WBW;
  genvar u;
  generate
    for (u = 0; u < U; u = u + 1) begin : g_lane
      localparam [31:0] U32 = u;
      localparam [UW-1:0] LANE = U32[UW-1:0];
      pal_tile_ram #(
          .DEPTH(1 << TAW),
          .WIDTH(15),
          .LANES(1),
          .RAM_STYLE("block")
      ) tab (
          .i_clk  (i_clk),
          .i_re   (i_bus_rd | i_tab_re),
          .i_raddr(i_bus_rd ? {bus_j, bus_blk} : {i_tab_slot, i_tab_wblk}),
          .o_rdata(tab_q[u]),
          .i_we   (tab_we && bus_u == LANE),
          .i_waddr({bus_j, bus_blk}),
          .i_wdata(tab_wdata)
      );
      // slot j of lane u is PE j*U + u, whose hand-off register has moved
      // down the lane's chain to PE u by then (pal_tile_pe); in a last slot
      // with no PE on the lane (U does not divide P) the chain has brought 0
      if (u < P) begin : g_first
        assign o_lane_sum[22*u+:22] = pe_sum[u];
        assign o_lane_nar[u] = pe_nar[u] | tab_q[u][8];
      end else begin : g_none
        assign o_lane_sum[22*u+:22] = 22'd0;
        assign o_lane_nar[u] = tab_q[u][8];
      end
      assign o_lane_scale[8*u+:8] = tab_q[u][7:0];
    end
  endgenerate

  // ---- any-PE NaR weight table ---------------------------------------------
  wire [4*GW-1:0] gcnt_q;
  reg  [4*GW-1:0] gcnt_new;
  reg  [3:0]      any_new;
  integer l;
  always @* begin
    gcnt_new = gcnt_q;
    for (l = 0; l < 4; l = l + 1) begin
      gcnt_new[GW*l+:GW] = gcnt_q[GW*l+:GW] + {{(GW - 1) {1'b0}}, set[l]} - {{(GW - 1) {1'b0}}, clr[l]};
      any_new[l] = gcnt_new[GW*l+:GW] != {GW{1'b0}};
    end
  end

  pal_tile_ram #(
      .DEPTH(1 << BAW),
      .WIDTH(4 * GW),
      .LANES(4)
  ) gcnt (
      .i_clk  (i_clk),
      .i_re   (i_bus_rd),
      .i_raddr(bus_bw),
      .o_rdata(gcnt_q),
      .i_we   (set | clr),
      .i_waddr(bus_bw),
      .i_wdata(gcnt_new)
  );

  // the four flags of the count word, replaced through one shifted mask
  function automatic [WMEM_BLOCKS-1:0] update(input [WMEM_BLOCKS-1:0] flags, input [3:0] mask,
                                              input [3:0] val, input [BAW-1:0] at);
    /* verilator lint_off UNUSEDSIGNAL */
    reg [WMEM_BLOCKS+3:0] m, v;
    /* verilator lint_on UNUSEDSIGNAL */
    begin
      m = {{WMEM_BLOCKS{1'b0}}, mask} << {at, 2'b00};
      v = {{WMEM_BLOCKS{1'b0}}, val & mask} << {at, 2'b00};
      update = (flags & ~m[WMEM_BLOCKS-1:0]) | v[WMEM_BLOCKS-1:0];
    end
  endfunction
  initial o_wnar_any = {WMEM_BLOCKS{1'b0}};
  always @(posedge i_clk) begin
    if ((set | clr) != 4'd0) o_wnar_any <= update(o_wnar_any, set | clr, any_new, bus_bw);
  end

endmodule

`default_nettype wire
