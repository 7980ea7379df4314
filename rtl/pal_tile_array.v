// The R x C array of PEs (weight-stationary, activation-broadcast): every
// step (k, activation code) goes to all P PEs, each of which reads its own
// weight and accumulates its own output column. The array also keeps the
// any-PE NaR-weight table the walk needs (docs/isa.md §4: a block is
// visited when some PE, padding columns included, has a NaR code or scale
// 255 in its weight block): per weight block, how many PEs have their NaR
// flag set (gcnt, updated on every WMEM write) and the bit "count != 0"
// (o_wnar_any) for the sequencer.
//
// The accumulate units take the PEs' hand-off registers (valid from the
// cycle after i_xfer) one slot at a time: lane u of the o_lane_* outputs is
// PE i_slot*U + u. o_gated_count: the gated MACs (zero weight codes) of the
// steps whose data phase was two cycles ago.
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
    parameter GW = $clog2(P + 1),           // derived: count width
    parameter WBW = $clog2(WMEM_BLOCKS),    // derived
    parameter CAW = WBW + 3                 // derived
) (
    input  wire               i_clk,
    input  wire               i_rst,
    // broadcast step
    input  wire               i_step_first,
    input  wire               i_step_mac,
    input  wire [WBW-1:0]     i_step_wb,
    input  wire [4:0]         i_step_k,
    input  wire [7:0]         i_code,
    input  wire               i_xfer,
    // hand-off registers of the PEs of one slot
    input  wire [HW-1:0]      i_slot,
    output wire [22*U-1:0]    o_lane_sum,
    output wire [U-1:0]       o_lane_nar,
    output wire [8*U-1:0]     o_lane_scale,
    output wire [GW-1:0]      o_gated_count,
    // bus
    input  wire               i_bus_on,     // a bus transfer is in phase A or B
    input  wire               i_bus_rd,
    input  wire               i_bus_scales,
    input  wire [PEW-1:0]     i_bus_pe,
    input  wire [CAW-1:0]     i_bus_word,
    input  wire [3:0]         i_bus_we,
    input  wire [31:0]        i_bus_wdata,
    output wire [31:0]        o_bus_rdata,
    // any-PE NaR weight, per weight block
    output reg  [WMEM_BLOCKS-1:0] o_wnar_any
);

  /* verilator lint_off UNUSEDPARAM */
  `include "pal_tables.vh"
  /* verilator lint_on UNUSEDPARAM */

  localparam BAW = WBW - 2;

  // ---- bus: one read-modify-write engine for the PE addressed ----------------
  // Phase A reads the code word, the block-info word ({NaR flag, scale} x 4)
  // and the NaR-code count word of every PE at the address (only the one
  // addressed is used); phase B merges the write and keeps, for the blocks
  // touched, the count of NaR codes, the flag (count != 0 or scale 255) and
  // the any-PE table.
  wire [BAW-1:0] bus_bw = i_bus_scales ? i_bus_word[BAW-1:0] : i_bus_word[CAW-1:5];
  reg  [P-1:0]   bus_sel;
  wire [31:0] pe_code_q[0:P-1];
  wire [59:0] pe_info_q[0:P-1];
  reg  [31:0] code_q;
  reg  [59:0] info_q;  // 4 x {count[6], flag, scale[8]}
  wire        bus_wr = |i_bus_we;

  reg  [3:0]  set, clr;
  reg         code_we, info_we;
  reg  [31:0] code_wdata;
  reg  [59:0] info_wdata;
  reg  signed [3:0] nar_delta;
  reg  [5:0]  cnt_new;
  reg  [7:0]  lane_scale;
  reg  [14:0] lane_info;
  reg         flag_old, flag_new;
  wire [1:0]  code_lane = i_bus_word[4:3];  // block within the 4-block word
  integer b;
  // (evaluated only during bus transfers)
  always @* begin
    bus_sel = {P{1'b0}};
    code_q = 32'd0;
    info_q = 60'd0;
    if (i_bus_on) begin
      bus_sel[i_bus_pe] = 1'b1;
      code_q = pe_code_q[i_bus_pe];
      info_q = pe_info_q[i_bus_pe];
    end
    code_we = 1'b0;
    info_we = 1'b0;
    code_wdata = code_q;
    info_wdata = info_q;
    set = 4'd0;
    clr = 4'd0;
    nar_delta = 4'sd0;
    cnt_new = 6'd0;
    lane_scale = 8'd0;
    lane_info = 15'd0;
    flag_old = 1'b0;
    flag_new = 1'b0;
    if (bus_wr && !i_bus_scales) begin
      // codes: count the NaR codes in and out, refresh the block's flag
      for (b = 0; b < 4; b = b + 1)
        if (i_bus_we[b]) begin
          code_wdata[8*b+:8] = i_bus_wdata[8*b+:8];
          nar_delta = nar_delta + ((i_bus_wdata[8*b+:8] == PAL_CODE_NAR) ? 4'sd1 : 4'sd0)
                                - ((code_q[8*b+:8] == PAL_CODE_NAR) ? 4'sd1 : 4'sd0);
        end
      // The block's fields by a case on its lane, not a part-select at
      // 15*lane: Yosys builds the latter as a 60-bit shifter in each
      // direction (about 600 LUT4 on the iCE40).
      case (code_lane)
        2'd0: lane_info = info_q[14:0];
        2'd1: lane_info = info_q[29:15];
        2'd2: lane_info = info_q[44:30];
        default: lane_info = info_q[59:45];
      endcase
      cnt_new = lane_info[14:9] + {{2{nar_delta[3]}}, nar_delta};
      lane_scale = lane_info[7:0];
      flag_old = lane_info[8];
      flag_new = (cnt_new != 6'd0) | (lane_scale == PAL_SCALE_NAR);
      code_we = 1'b1;
      info_we = 1'b1;
      for (b = 0; b < 4; b = b + 1)
        if (code_lane == b[1:0]) begin
          info_wdata[15*b+:15] = {cnt_new, flag_new, lane_scale};
          set[b] = flag_new & ~flag_old;
          clr[b] = flag_old & ~flag_new;
        end
    end else if (bus_wr) begin
      // scales: each strobed block gets its new scale and flag
      info_we = 1'b1;
      for (b = 0; b < 4; b = b + 1)
        if (i_bus_we[b]) begin
          info_wdata[15*b+:9] = {(info_q[15*b+9+:6] != 6'd0) | (i_bus_wdata[8*b+:8] == PAL_SCALE_NAR),
                                 i_bus_wdata[8*b+:8]};
          set[b] = info_wdata[15*b+8] & ~info_q[15*b+8];
          clr[b] = info_q[15*b+8] & ~info_wdata[15*b+8];
        end
    end
  end

  assign o_bus_rdata = i_bus_scales ? {info_q[52:45], info_q[37:30], info_q[22:15], info_q[7:0]}
                                    : code_q;

  // ---- the PEs ---------------------------------------------------------------
  wire [P-1:0] pe_gated;
  wire [21:0]  pe_sum[0:P-1];
  wire         pe_nar[0:P-1];
  wire [7:0]   pe_scale[0:P-1];
  genvar p;
  generate
    for (p = 0; p < P; p = p + 1) begin : g_pe
      pal_tile_pe #(
          .WMEM_BLOCKS(WMEM_BLOCKS)
      ) pe (
          .i_clk       (i_clk),
          .i_rst       (i_rst),
          .i_step_first(i_step_first),
          .i_step_mac  (i_step_mac),
          .i_step_wb   (i_step_wb),
          .i_step_k    (i_step_k),
          .i_code      (i_code),
          .i_xfer      (i_xfer),
          .o_sum       (pe_sum[p]),
          .o_nar       (pe_nar[p]),
          .o_scale     (pe_scale[p]),
          .o_gated     (pe_gated[p]),
          .i_bus_rd    (i_bus_rd),
          .i_bus_sel   (bus_sel[p]),
          .i_bus_cw    (i_bus_word),
          .i_bus_bw    (bus_bw),
          .i_code_we   (code_we),
          .i_code_wdata(code_wdata),
          .i_info_we   (info_we),
          .i_info_wdata(info_wdata),
          .o_code_q    (pe_code_q[p]),
          .o_info_q    (pe_info_q[p])
      );
    end
  endgenerate

  assign o_gated_count = $countones(pe_gated);

  // slot i_slot: lane u is PE i_slot*U + u (none past P)
  wire [31:0] slot_pe0 = {{(32 - HW) {1'b0}}, i_slot} * U;
  genvar u;
  generate
    for (u = 0; u < U; u = u + 1) begin : g_lane
      wire [31:0] pe = slot_pe0 + u;
      wire ok = pe < P;
      wire [PEW-1:0] pe_i = ok ? pe[PEW-1:0] : {PEW{1'b0}};
      assign o_lane_sum[22*u+:22] = pe_sum[pe_i];
      assign o_lane_nar[u] = pe_nar[pe_i];
      assign o_lane_scale[8*u+:8] = pe_scale[pe_i];
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
