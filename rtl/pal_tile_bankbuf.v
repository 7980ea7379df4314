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

  // An address's bank (a % BANKS) and line (a / BANKS).
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

  // Where a window's lanes go: a window at base b puts lane u in bank
  // (b + u) % BANKS, so the lanes are rotated up by b % BANKS into bank
  // order for the banks' ports and the banks' words down by it into lane
  // order (pal_tile_rotate); bank k holds the window's word in line
  // b / BANKS, or the next one when k < b % BANKS (the window wrapped past
  // the last bank). The single port's bank is a comparison with each
  // constant k, and its word lane 0 of the banks rotated down by its bank.
  wire [BW-1:0]  rrot, wrot, srbank, swbank;
  wire [LAW-1:0] rline, wline, srline, swline;
  assign {rrot, rline} = split(i_w_raddr);
  assign {wrot, wline} = split(i_w_waddr);
  assign {srbank, srline} = split(i_s_raddr);
  assign {swbank, swline} = split(i_s_waddr);

  wire [BANKS-1:0]       re_banks, we_banks;
  wire [BANKS*WIDTH-1:0] wdata_banks;
  pal_tile_rotate #(.LANES(BANKS), .WIDTH(1), .DOWN(0)) u_re (
      .i_x(i_w_rlane), .i_rot(rrot), .o_y(re_banks));
  pal_tile_rotate #(.LANES(BANKS), .WIDTH(1), .DOWN(0)) u_we (
      .i_x(i_w_we), .i_rot(wrot), .o_y(we_banks));
  pal_tile_rotate #(.LANES(BANKS), .WIDTH(WIDTH), .DOWN(0)) u_wdata (
      .i_x(i_w_wdata), .i_rot(wrot), .o_y(wdata_banks));

  // Per-bank ports, computed only when some access is made.
  reg [BANKS-1:0]       b_re, b_we;
  reg [BANKS*LAW-1:0]   b_raddr, b_waddr;
  reg [BANKS*WIDTH-1:0] b_wdata;
  reg [BW-1:0]          kk;
  integer k;
  always @* begin
    b_re = {BANKS{1'b0}};
    b_we = {BANKS{1'b0}};
    b_raddr = {(BANKS * LAW) {1'b0}};
    b_waddr = {(BANKS * LAW) {1'b0}};
    b_wdata = {(BANKS * WIDTH) {1'b0}};
    for (k = 0; k < BANKS; k = k + 1) begin
      kk = k[BW-1:0];
      if (i_w_re) begin
        b_re[k] = re_banks[k];
        b_raddr[LAW*k+:LAW] = rline + {{(LAW - 1) {1'b0}}, kk < rrot};
      end
      if (i_w_we != {BANKS{1'b0}}) begin
        b_we[k] = we_banks[k];
        b_waddr[LAW*k+:LAW] = wline + {{(LAW - 1) {1'b0}}, kk < wrot};
        b_wdata[WIDTH*k+:WIDTH] = wdata_banks[WIDTH*k+:WIDTH];
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

  wire [BANKS*WIDTH-1:0] bank_q;  // bank k's word at [WIDTH*k +: WIDTH]
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
          .o_rdata(bank_q[WIDTH*g+:WIDTH]),
          .i_we   (b_we[g]),
          .i_waddr(b_waddr[LAW*g+:LAW]),
          .i_wdata(b_wdata[WIDTH*g+:WIDTH])
      );
    end
  endgenerate

  reg [BW-1:0] rrot_d, srbank_d;
  always @(posedge i_clk) begin
    if (i_w_re) rrot_d <= rrot;
    if (i_s_re) srbank_d <= srbank;
  end

  pal_tile_rotate #(.LANES(BANKS), .WIDTH(WIDTH), .DOWN(1)) u_rdata (
      .i_x(bank_q), .i_rot(rrot_d), .o_y(o_w_rdata));
  /* verilator lint_off UNUSEDSIGNAL */
  wire [BANKS*WIDTH-1:0] s_rot;  // lane 0: bank srbank_d's word
  /* verilator lint_on UNUSEDSIGNAL */
  pal_tile_rotate #(.LANES(BANKS), .WIDTH(WIDTH), .DOWN(1)) u_srdata (
      .i_x(bank_q), .i_rot(srbank_d), .o_y(s_rot));
  assign o_s_rdata = s_rot[WIDTH-1:0];

endmodule

`default_nettype wire
