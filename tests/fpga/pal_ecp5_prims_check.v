// make test (test_ecp5_models): memories and multipliers shaped like the
// ones the boards' tiles and control core have, for the check that
// tests/fpga/dp16kd_sim.v and mult18x18d_sim.v compute what this RTL does
// once Yosys' synth_ecp5 has mapped it onto DP16KD and MULT18X18D:
//  - A/B: 1024 x 18 with two 9-bit byte enables, port A read-before-write
//    and port B read-only (true dual port, 18 bits a port);
//  - C: 2048 x 9, read-before-write (a 9-bit port);
//  - D: 512 x 36 with four byte enables, one write and one read port
//    (the 36-bit pseudo dual port);
//  - an unsigned and a signed 18 x 18 product.
// Every memory starts from its own pattern (Yosys' INITVAL layout) and
// every read register at zero, as on the FPGA.
`default_nettype none

module pal_ecp5_prims_check (
    input  wire        i_clk,
    input  wire        i_a_en,
    input  wire [1:0]  i_a_we,
    input  wire [9:0]  i_a_addr,
    input  wire [17:0] i_a_wdata,
    output reg  [17:0] o_a_rdata,
    input  wire        i_b_en,
    input  wire [9:0]  i_b_addr,
    output reg  [17:0] o_b_rdata,
    input  wire        i_c_en,
    input  wire        i_c_we,
    input  wire [10:0] i_c_addr,
    input  wire [8:0]  i_c_wdata,
    output reg  [8:0]  o_c_rdata,
    input  wire [3:0]  i_d_we,
    input  wire [8:0]  i_d_waddr,
    input  wire [35:0] i_d_wdata,
    input  wire        i_d_re,
    input  wire [8:0]  i_d_raddr,
    output reg  [35:0] o_d_rdata,
    input  wire [17:0] i_m_a,
    input  wire [17:0] i_m_b,
    output wire [35:0] o_m_u,
    output wire [35:0] o_m_s
);
  reg [17:0] m18[0:1023];
  reg [8:0]  m9[0:2047];
  reg [35:0] m36[0:511];
  integer i;
  /* verilator lint_off UNUSEDSIGNAL */
  reg [31:0] h;  // a pattern's upper bits are dropped
  /* verilator lint_on UNUSEDSIGNAL */
  assign o_m_u = i_m_a * i_m_b;
  assign o_m_s = $signed(i_m_a) * $signed(i_m_b);
  initial begin
    for (i = 0; i < 1024; i = i + 1) begin
      h = i * 2749;
      m18[i] = h[17:0] ^ 18'h2A5A5;
    end
    for (i = 0; i < 2048; i = i + 1) begin
      h = i * 37;
      m9[i] = h[8:0] ^ 9'h155;
    end
    for (i = 0; i < 512; i = i + 1)
      m36[i] = {i[8:0] * 9'd101, i[8:0] * 9'd59, i[8:0] ^ 9'h0F0, i[8:0] * 9'd3};
    o_a_rdata = 0;
    o_b_rdata = 0;
    o_c_rdata = 0;
    o_d_rdata = 0;
  end
  always @(posedge i_clk) begin
    if (i_a_en) begin
      o_a_rdata <= m18[i_a_addr];
      if (i_a_we[0]) m18[i_a_addr][8:0] <= i_a_wdata[8:0];
      if (i_a_we[1]) m18[i_a_addr][17:9] <= i_a_wdata[17:9];
    end
    if (i_b_en) o_b_rdata <= m18[i_b_addr];
  end
  always @(posedge i_clk)
    if (i_c_en) begin
      o_c_rdata <= m9[i_c_addr];
      if (i_c_we) m9[i_c_addr] <= i_c_wdata;
    end
  always @(posedge i_clk) begin
    if (i_d_we[0]) m36[i_d_waddr][8:0] <= i_d_wdata[8:0];
    if (i_d_we[1]) m36[i_d_waddr][17:9] <= i_d_wdata[17:9];
    if (i_d_we[2]) m36[i_d_waddr][26:18] <= i_d_wdata[26:18];
    if (i_d_we[3]) m36[i_d_waddr][35:27] <= i_d_wdata[35:27];
    if (i_d_re) o_d_rdata <= m36[i_d_raddr];
  end
endmodule

`default_nettype wire
