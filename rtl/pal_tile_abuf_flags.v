// The activation buffer's per-block flags (pal_tile_abuf): for each of N
// blocks "has a non-zero code" (anz) and "its scale is 255" (s255), zero at
// power-on; o_avis is their OR, the blocks the walk must visit. A write
// touches the flags of some of the four blocks of one group (i_grp): those
// of i_anz_we take i_anz_val, those of i_s255_we take i_s255_val, lane by
// lane.
//
// Each flag's next value is and/or, not "if (hit) flag <= val": Yosys turns
// that form into a flip-flop enable, and an iCE40 flip-flop whose D input is
// a shared net takes a logic cell of its own beside its enable's LUT; this
// way the update is the flip-flop's own LUT (its group's decode, its lane's
// write bit, the value and the flag).
//
// The write masks have two descriptions of one function. Synthesis gets a
// decode per group, which every flag's LUT absorbs; Verilator gets the lane
// bits shifted to the group's first block, a few word operations per cycle
// where the per-block decode was one per flag (at 512 blocks that was most
// of the 4x4 tile model's simulation time). A shift costs about 60 LUT4
// more in the iCEBreaker build, hence the two. `make tile-equiv` proves
// them equivalent with Yosys (equiv_make / equiv_induct), in make test.
`default_nettype none

module pal_tile_abuf_flags #(
    parameter N = 512,                 // blocks, a multiple of 4, >= 8
    parameter GW = $clog2(N) - 2       // derived: do not override
) (
    input  wire          i_clk,
    input  wire [GW-1:0] i_grp,        // the group of four blocks written
    input  wire [3:0]    i_anz_we,     // its blocks whose anz is written
    input  wire [3:0]    i_anz_val,
    input  wire [3:0]    i_s255_we,    // its blocks whose s255 is written
    input  wire [3:0]    i_s255_val,
    output wire [N-1:0]  o_avis
);

  reg [N-1:0] anz, s255;
  initial begin
    anz = {N{1'b0}};
    s255 = {N{1'b0}};
  end

  // m_: the flags written; set_: those written as 1
  wire [N-1:0] m_anz, m_s255, set_anz, set_s255;
`ifdef VERILATOR
  wire [GW+1:0] first = {i_grp, 2'b00};  // the group's first block
  assign m_anz = {{(N - 4) {1'b0}}, i_anz_we} << first;
  assign m_s255 = {{(N - 4) {1'b0}}, i_s255_we} << first;
  assign set_anz = {{(N - 4) {1'b0}}, i_anz_we & i_anz_val} << first;
  assign set_s255 = {{(N - 4) {1'b0}}, i_s255_we & i_s255_val} << first;
`else
  genvar gb;
  generate
    for (gb = 0; gb < N; gb = gb + 1) begin : g_mask
      localparam integer GRP_I = gb / 4;
      localparam [GW-1:0] GRP = GRP_I[GW-1:0];
      wire grp = i_grp == GRP;
      assign m_anz[gb] = grp & i_anz_we[gb % 4];
      assign m_s255[gb] = grp & i_s255_we[gb % 4];
      assign set_anz[gb] = grp & i_anz_we[gb % 4] & i_anz_val[gb % 4];
      assign set_s255[gb] = grp & i_s255_we[gb % 4] & i_s255_val[gb % 4];
    end
  endgenerate
`endif

  always @(posedge i_clk) begin
    anz <= (anz & ~m_anz) | set_anz;
    s255 <= (s255 & ~m_s255) | set_s255;
  end
  assign o_avis = anz | s255;

endmodule

`default_nettype wire
