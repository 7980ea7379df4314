// A word buffer split into BANKS interleaved banks (word a lives in bank
// a % BANKS, line a / BANKS), so that the accumulate units can read and
// write BANKS consecutive words per cycle: the ACC values, the ACC NaR
// flags and BIAS are each one of these, with BANKS = ACC_UNITS.
//
// Window ports: lane u reads (writes) word base + u; the lanes always fall
// in distinct banks, rotated by base % BANKS. Read data come back in lane
// order the next cycle. The single port reads or writes one word (POST,
// bus); it never meets a window access in the same cycle (they belong to
// different instructions), and wins if it does.
`default_nettype none

module pal_tile_bankbuf #(
    parameter DEPTH = 4096,
    parameter WIDTH = 32,
    parameter BANKS = 4,
    parameter AW = (DEPTH > 1) ? $clog2(DEPTH) : 1  // derived: do not override
) (
    input  wire                   i_clk,
    // window read
    input  wire                   i_w_re,
    input  wire [AW-1:0]          i_w_raddr,
    input  wire [BANKS-1:0]       i_w_rlane,
    output wire [BANKS*WIDTH-1:0] o_w_rdata,
    // window write
    input  wire [BANKS-1:0]       i_w_we,
    input  wire [AW-1:0]          i_w_waddr,
    input  wire [BANKS*WIDTH-1:0] i_w_wdata,
    // single port
    input  wire                   i_s_re,
    input  wire [AW-1:0]          i_s_raddr,
    output wire [WIDTH-1:0]       o_s_rdata,
    input  wire                   i_s_we,
    input  wire [AW-1:0]          i_s_waddr,
    input  wire [WIDTH-1:0]       i_s_wdata
);

  localparam LINES = (DEPTH + BANKS - 1) / BANKS;
  localparam LAW = (LINES > 1) ? $clog2(LINES) : 1;
  localparam BW = (BANKS > 1) ? $clog2(BANKS) : 1;

  // An address's bank and line. A window at base b puts lane u in bank
  // (b + u) % BANKS; bank k holds the window's word in line b / BANKS, or
  // the next one when k < b % BANKS (the window wrapped past the last bank).
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic [BW+LAW-1:0] split(input [AW-1:0] a);
    reg [31:0] a32, bank, line;
    begin
      a32 = {{(32 - AW) {1'b0}}, a};
      bank = a32 % BANKS;
      line = a32 / BANKS;
      split = {bank[BW-1:0], line[LAW-1:0]};
    end
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  wire [WIDTH-1:0] bank_q[0:BANKS-1];
  reg  [BW-1:0]    rrot_d, srbank_d;

  // (x + y) % BANKS and (x - y) % BANKS for x, y < BANKS
  localparam POW2 = (BANKS & (BANKS - 1)) == 0;
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic [BW-1:0] mod_add(input [BW-1:0] x, input [BW-1:0] y);
    reg [31:0] t;
    begin
      t = ({{(32 - BW) {1'b0}}, x} + {{(32 - BW) {1'b0}}, y}) % BANKS;
      mod_add = POW2 ? x + y : t[BW-1:0];
    end
  endfunction
  function automatic [BW-1:0] mod_sub(input [BW-1:0] x, input [BW-1:0] y);
    reg [31:0] t;
    begin
      t = ({{(32 - BW) {1'b0}}, x} + BANKS - {{(32 - BW) {1'b0}}, y}) % BANKS;
      mod_sub = POW2 ? x - y : t[BW-1:0];
    end
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  // Per-bank ports, computed only when some access is made. A window at
  // base b puts lane u in bank (b + u) % BANKS; bank k holds the window's
  // word in line b / BANKS, or the next one when k < b % BANKS. Every
  // choice of a lane or a bank is a comparison with each constant k or j:
  // a part-select at a variable offset (`x[WIDTH*lane +: WIDTH]`) is a
  // shifter over the whole vector to Yosys (the ECP5 made 3 400 LUT4 of
  // the 4-bank ACC this way).
  reg [BANKS-1:0]       b_re, b_we;
  reg [BANKS*LAW-1:0]   b_raddr, b_waddr;
  reg [BANKS*WIDTH-1:0] b_wdata;
  reg [BW-1:0]     rrot, wrot, srbank, swbank, rl, wl, kk;
  reg [LAW-1:0]    rline, wline, srline, swline;
  integer k, j;
  always @* begin
    b_re = {BANKS{1'b0}};
    b_we = {BANKS{1'b0}};
    {rrot, rline} = split(i_w_raddr);
    {wrot, wline} = split(i_w_waddr);
    {srbank, srline} = split(i_s_raddr);
    {swbank, swline} = split(i_s_waddr);
    b_raddr = {(BANKS * LAW) {1'b0}};
    b_waddr = {(BANKS * LAW) {1'b0}};
    b_wdata = {(BANKS * WIDTH) {1'b0}};
    for (k = 0; k < BANKS; k = k + 1) begin
      kk = k[BW-1:0];
      rl = mod_sub(kk, rrot);
      wl = mod_sub(kk, wrot);
      if (i_w_re) begin
        b_re[k] = i_w_rlane[rl];
        b_raddr[LAW*k+:LAW] = rline + {{(LAW - 1) {1'b0}}, kk < rrot};
      end
      if (i_w_we != {BANKS{1'b0}}) begin
        b_we[k] = i_w_we[wl];
        b_waddr[LAW*k+:LAW] = wline + {{(LAW - 1) {1'b0}}, kk < wrot};
        for (j = 0; j < BANKS; j = j + 1)
          if (wl == j[BW-1:0]) b_wdata[WIDTH*k+:WIDTH] = i_w_wdata[WIDTH*j+:WIDTH];
      end
      if (i_s_re && srbank == kk) begin
        b_re[k] = 1'b1;
        b_raddr[LAW*k+:LAW] = srline;
      end
      if (i_s_we && swbank == kk) begin
        b_we[k] = 1'b1;
        b_waddr[LAW*k+:LAW] = swline;
        b_wdata[WIDTH*k+:WIDTH] = i_s_wdata;
      end
    end
  end

  genvar g;
  generate
    for (g = 0; g < BANKS; g = g + 1) begin : g_bank
      pal_tile_ram #(
          .DEPTH(LINES),
          .WIDTH(WIDTH),
          .LANES(1)
      ) bank (
          .i_clk  (i_clk),
          .i_re   (b_re[g]),
          .i_raddr(b_raddr[LAW*g+:LAW]),
          .o_rdata(bank_q[g]),
          .i_we   (b_we[g]),
          .i_waddr(b_waddr[LAW*g+:LAW]),
          .i_wdata(b_wdata[WIDTH*g+:WIDTH])
      );
    end
  endgenerate

  always @(posedge i_clk) begin
    if (i_w_re) rrot_d <= rrot;
    if (i_s_re) srbank_d <= srbank;
  end

  genvar u;
  generate
    for (u = 0; u < BANKS; u = u + 1) begin : g_lane
      localparam [BW-1:0] UU = u;
      assign o_w_rdata[WIDTH*u+:WIDTH] = bank_q[mod_add(rrot_d, UU)];
    end
  endgenerate
  assign o_s_rdata = bank_q[srbank_d];

endmodule

`default_nettype wire
