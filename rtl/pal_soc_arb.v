// Arbiter of the tile bus between the link engine's bus master (the bare
// path) and the control core's tile port (pal_rv_sys), both in the
// protocol's device map (docs/protocol.md §5), in front of pal_soc_bridge.
// One transfer at a time: the grant is held from a request until its
// ready, so the bridge's multi-transfer NaR sequence is never split; when
// both ask in the same cycle the one not served last wins (neither can
// starve the other). The link engine has checked its own accesses; the
// core's are checked here only against the map's windows (an address in
// no window answers at once with i_c_error and reaches nothing), because
// the firmware validates everything else itself (docs/control-core.md §5).
`default_nettype none

module pal_soc_arb (
    input  wire        i_clk,
    input  wire        i_rst,
    // link engine master
    input  wire        i_l_valid,
    input  wire        i_l_we,
    input  wire [31:0] i_l_addr,
    input  wire [31:0] i_l_wdata,
    input  wire [3:0]  i_l_wstrb,
    output wire        o_l_ready,
    // control core master (a write has strobes, a read none)
    input  wire        i_c_valid,
    input  wire [31:0] i_c_addr,
    input  wire [31:0] i_c_wdata,
    input  wire [3:0]  i_c_wstrb,
    output wire        o_c_ready,
    output wire        o_c_error,
    // to the bridge
    output wire        o_valid,
    output wire        o_we,
    output wire [31:0] o_addr,
    output wire [31:0] o_wdata,
    output wire [3:0]  o_wstrb,
    input  wire        i_ready
);
  // the protocol map, generated from include/pal/protocol.h (pal_isagen)
  /* verilator lint_off UNUSEDPARAM */
  `include "pal_proto.vh"
  /* verilator lint_on UNUSEDPARAM */
  // IMEM is the one window that is not an aligned power of two (pal_isagen
  // checks the others); those are decoded by their upper bits alone
  wire [31:0] a = i_c_addr;
  // the windows of the map that reach the tile (not the link registers)
  wire c_mapped = pal_addr_in(a, PAL_ADDR_TILE_REGS, PAL_ADDR_TILE_REGS_BITS) ||
                  (a >= PAL_ADDR_IMEM && a < PAL_ADDR_IMEM_END) ||
                  pal_addr_in(a, PAL_ADDR_ABUF_CODES, PAL_ADDR_ABUF_CODES_BITS) ||
                  pal_addr_in(a, PAL_ADDR_ABUF_SCALES, PAL_ADDR_ABUF_SCALES_BITS) ||
                  pal_addr_in(a, PAL_ADDR_WMEM_CODES, PAL_ADDR_WMEM_CODES_BITS) ||
                  pal_addr_in(a, PAL_ADDR_WMEM_SCALES, PAL_ADDR_WMEM_SCALES_BITS) ||
                  pal_addr_in(a, PAL_ADDR_ACC, PAL_ADDR_ACC_BITS) ||
                  pal_addr_in(a, PAL_ADDR_ACC_NAR, PAL_ADDR_ACC_NAR_BITS) ||
                  pal_addr_in(a, PAL_ADDR_BIAS, PAL_ADDR_BIAS_BITS) ||
                  pal_addr_in(a, PAL_ADDR_OBUF, PAL_ADDR_OBUF_BITS);
  wire c_req = i_c_valid && c_mapped;

  reg lock, owner, last;      // owner/last: 1 = core
  wire sel = lock ? owner : (c_req && (!i_l_valid || !last));
  wire sel_valid = sel ? c_req : i_l_valid;

  assign o_valid = sel_valid;
  assign o_we = sel ? (i_c_wstrb != 4'd0) : i_l_we;
  assign o_addr = sel ? i_c_addr : i_l_addr;
  assign o_wdata = sel ? i_c_wdata : i_l_wdata;
  assign o_wstrb = sel ? (i_c_wstrb != 4'd0 ? i_c_wstrb : 4'hF) : i_l_wstrb;
  assign o_l_ready = !sel && i_ready;
  assign o_c_ready = (sel && i_ready) || (i_c_valid && !c_mapped);
  assign o_c_error = i_c_valid && !c_mapped;

  always @(posedge i_clk) begin
    if (i_rst) begin
      lock <= 1'b0;
      owner <= 1'b0;
      last <= 1'b0;
    end else begin
      lock <= sel_valid && !i_ready;
      owner <= sel;
      if (sel_valid && i_ready) last <= sel;
    end
  end
endmodule
