// The PAL SoC: link engine (pal_link) + bus bridge (pal_soc_bridge) + tile
// (pal_tile), attached to the host either by a UART (USE_UART = 1: 8N1 at
// CLKS_PER_BIT clocks per bit, pal_uart_rx/pal_uart_tx, a small receive
// FIFO) or by a byte FIFO port (USE_UART = 0: one byte per cycle each way,
// for simulation). Board tops instantiate it; docs/soc-rtl.md.
//
// CONTROL_CORE = 1 adds the control subsystem (pal_rv_sys: RV32I core,
// firmware in its IMEM from FW_INIT_FILE, mailbox, watchdog tile reset):
// the link engine forwards FW requests to the mailbox, and pal_soc_arb
// shares the tile bus between the link engine and the core
// (docs/control-core.md §9). The default, 0, is the bare SoC: no core, the
// same logic as before it existed, and FW requests are NAKed as unknown.
`default_nettype none

module pal_soc #(
    parameter integer R = 4,
    parameter integer C = 4,
    parameter integer CLKS_PER_BIT = 4,
    parameter integer MAX_PAYLOAD = 4096,
    parameter integer CLOCK_HZ = 12000000,
    parameter integer USE_UART = 1,
    parameter [127:0] DEVICE_NAME = "sim",
    parameter integer ACC_UNITS = (R * C / 4 > 255) ? 255 : (R * C / 4 > 1) ? R * C / 4 : 1,
    parameter integer IMEM_DEPTH = 256,
    parameter integer ABUF_BLOCKS = 512,
    parameter integer WMEM_BLOCKS = 256,
    parameter integer ACC_DEPTH = 4096,
    parameter integer BIAS_DEPTH = 1024,
    parameter integer OBUF_DEPTH = 4096,
    parameter integer ABUF_SPRAM = 0,           // 1: ABUF's codes in iCE40UP5K SPRAM
    parameter integer POST_UNIT = 1,            // 0: the tile without POST (INFO flag NO_POST)
    parameter integer ACCUMULATE = 1,           // 0: nor accumulate units (INFO flag NO_ACCU)
    parameter integer IDLE_BYTE_TIMES = 4096,
    parameter integer LED_STRETCH_BITS = 20,    // activity and error LEDs stay on 2^N cycles
    parameter integer CONTROL_CORE = 0,         // 1: control core + firmware (docs/control-core.md)
    parameter integer LINK_COUNTERS = 1,        // 0: the link engine without its counters (INFO flag NO_LINK_COUNTERS)
    parameter FW_INIT_FILE = "",                // the firmware's $readmemh image (build/firmware/pal_fw.hex)
    parameter integer FW_TIMEOUT = 1 << 20      // link engine: cycles an FW exchange may stall
) (
    input  wire       i_clk,
    input  wire       i_rst,
    input  wire       i_uart_rx,
    output wire       o_uart_tx,
    input  wire       i_rx_valid,
    input  wire [7:0] i_rx_data,
    output wire       o_rx_ready,
    output wire       o_tx_valid,
    output wire [7:0] o_tx_data,
    input  wire       i_tx_ready,
    output wire [3:0] o_leds          // busy, done, error (a NAK sent), link activity
);
  /* verilator lint_off UNUSEDPARAM */
  `include "pal_proto.vh"  // PAL_PROTO_FLAG_*
  /* verilator lint_on UNUSEDPARAM */
  // link-side byte streams
  wire       l_rx_valid, l_rx_ready, l_tx_valid, l_tx_ready;
  wire [7:0] l_rx_data, l_tx_data;

  generate
    if (USE_UART != 0) begin : g_uart
      wire       u_valid;
      wire [7:0] u_data;
      /* verilator lint_off UNUSEDSIGNAL */
      wire [15:0] framing_errors;
      /* verilator lint_on UNUSEDSIGNAL */
      pal_uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_urx (
          .i_clk(i_clk), .i_rst(i_rst), .i_rx(i_uart_rx),
          .o_valid(u_valid), .o_data(u_data), .o_framing_errors(framing_errors));
      pal_soc_fifo #(.DEPTH(16)) u_fifo (
          .i_clk(i_clk), .i_rst(i_rst), .i_valid(u_valid), .i_data(u_data),
          .o_valid(l_rx_valid), .o_data(l_rx_data), .i_ready(l_rx_ready));
      pal_uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_utx (
          .i_clk(i_clk), .i_rst(i_rst), .i_valid(l_tx_valid), .i_data(l_tx_data),
          .o_ready(l_tx_ready), .o_tx(o_uart_tx));
      assign o_rx_ready = 1'b0;
      assign o_tx_valid = 1'b0;
      assign o_tx_data = 8'd0;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_fifo = &{1'b0, i_rx_valid, i_rx_data, i_tx_ready};
      /* verilator lint_on UNUSEDSIGNAL */
    end else begin : g_fifo
      assign l_rx_valid = i_rx_valid;
      assign l_rx_data = i_rx_data;
      assign o_rx_ready = l_rx_ready;
      assign o_tx_valid = l_tx_valid;
      assign o_tx_data = l_tx_data;
      assign l_tx_ready = i_tx_ready;
      assign o_uart_tx = 1'b1;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_uart_rx = i_uart_rx;
      /* verilator lint_on UNUSEDSIGNAL */
    end
  endgenerate

  wire        m_valid, m_we, m_ready;
  wire [31:0] m_addr, m_wdata, m_rdata;
  wire [3:0]  m_wstrb;
  wire        b_valid, b_we, b_ready;        // into the bridge
  wire [31:0] b_addr, b_wdata;
  wire [3:0]  b_wstrb;
  wire        t_valid, t_we, t_ready;
  wire [31:0] t_addr, t_wdata, t_rdata;
  wire [3:0]  t_wstrb;
  wire        tile_busy, tile_done, nak;
  wire        mb_req_valid, mb_req_ready, mb_resp_valid, mb_resp_ready, fw_halted;
  wire [31:0] mb_req_data, mb_resp_data;
  wire        tile_rst;

  pal_link #(
      .MAX_PAYLOAD(MAX_PAYLOAD), .CYCLES_PER_BYTE(USE_UART != 0 ? 10 * CLKS_PER_BIT : 1),
      .IDLE_BYTE_TIMES(IDLE_BYTE_TIMES), .R(R), .C(C), .ACC_UNITS(ACC_UNITS),
      .IMEM_DEPTH(IMEM_DEPTH), .ABUF_BLOCKS(ABUF_BLOCKS), .WMEM_BLOCKS(WMEM_BLOCKS),
      .ACC_DEPTH(ACC_DEPTH), .BIAS_DEPTH(BIAS_DEPTH), .OBUF_DEPTH(OBUF_DEPTH),
      .CLOCK_HZ(CLOCK_HZ),
      .FLAGS((POST_UNIT != 0 ? 0 : PAL_PROTO_FLAG_NO_POST) | (ACCUMULATE != 0 ? 0 : PAL_PROTO_FLAG_NO_ACCU)),
      .DEVICE_NAME(DEVICE_NAME),
      .FIRMWARE(CONTROL_CORE != 0 ? 1 : 0), .LINK_COUNTERS(LINK_COUNTERS),
      .TILE_MAP(CONTROL_CORE != 0 ? 0 : 1), .FW_TIMEOUT(FW_TIMEOUT)
  ) u_link (
      .i_clk(i_clk), .i_rst(i_rst),
      .i_rx_valid(l_rx_valid), .i_rx_data(l_rx_data), .o_rx_ready(l_rx_ready),
      .o_tx_valid(l_tx_valid), .o_tx_data(l_tx_data), .i_tx_ready(l_tx_ready),
      .o_bus_valid(m_valid), .o_bus_we(m_we), .o_bus_addr(m_addr), .o_bus_wdata(m_wdata),
      .o_bus_wstrb(m_wstrb), .i_bus_ready(m_ready), .i_bus_rdata(m_rdata),
      .i_tile_busy(tile_busy), .o_nak(nak),
      .o_mb_req_valid(mb_req_valid), .o_mb_req_data(mb_req_data), .i_mb_req_ready(mb_req_ready),
      .i_mb_resp_valid(mb_resp_valid), .i_mb_resp_data(mb_resp_data),
      .o_mb_resp_ready(mb_resp_ready), .i_fw_halted(fw_halted));

  generate
    if (CONTROL_CORE != 0) begin : g_cc
      wire        c_valid, c_ready, c_error, c_reset;
      wire [31:0] c_addr, c_wdata;
      wire [3:0]  c_wstrb;
      wire        halted;
      /* verilator lint_off UNUSEDSIGNAL */
      wire [2:0]  halt_cause;
      wire [31:0] halt_pc;
      /* verilator lint_on UNUSEDSIGNAL */
      pal_rv_sys #(.INIT_FILE(FW_INIT_FILE)) u_sys (
          .i_clk(i_clk), .i_rst(i_rst),
          .i_req_valid(mb_req_valid), .i_req_data(mb_req_data), .o_req_ready(mb_req_ready),
          .o_resp_valid(mb_resp_valid), .o_resp_data(mb_resp_data), .i_resp_ready(mb_resp_ready),
          .o_tile_valid(c_valid), .o_tile_addr(c_addr), .o_tile_wdata(c_wdata),
          .o_tile_wstrb(c_wstrb), .i_tile_ready(c_ready), .i_tile_rdata(m_rdata),
          .i_tile_error(c_error), .o_tile_reset(c_reset),
          .o_halted(halted), .o_halt_cause(halt_cause), .o_halt_pc(halt_pc));
      pal_soc_arb u_arb (
          .i_clk(i_clk), .i_rst(i_rst),
          .i_l_valid(m_valid), .i_l_we(m_we), .i_l_addr(m_addr), .i_l_wdata(m_wdata),
          .i_l_wstrb(m_wstrb), .o_l_ready(m_ready),
          .i_c_valid(c_valid), .i_c_addr(c_addr), .i_c_wdata(c_wdata), .i_c_wstrb(c_wstrb),
          .o_c_ready(c_ready), .o_c_error(c_error),
          .o_valid(b_valid), .o_we(b_we), .o_addr(b_addr), .o_wdata(b_wdata),
          .o_wstrb(b_wstrb), .i_ready(b_ready));
      // the watchdog holds the tile (not the link engine or the core) in reset
      assign tile_rst = i_rst | c_reset;
      assign fw_halted = halted;
    end else begin : g_bare
      assign b_valid = m_valid;
      assign b_we = m_we;
      assign b_addr = m_addr;
      assign b_wdata = m_wdata;
      assign b_wstrb = m_wstrb;
      assign m_ready = b_ready;
      assign mb_req_ready = 1'b0;
      assign mb_resp_valid = 1'b0;
      assign mb_resp_data = 32'd0;
      assign fw_halted = 1'b0;
      assign tile_rst = i_rst;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_mb = &{1'b0, mb_req_valid, mb_req_data, mb_resp_ready};
      /* verilator lint_on UNUSEDSIGNAL */
    end
  endgenerate

  // Without the control core the link engine addresses the tile's port
  // itself (TILE_MAP) and the bridge only spreads NaR flag bytes; with it,
  // the core's accesses in the protocol's map share the bridge's full
  // translation through the arbiter.
  pal_soc_bridge #(.WMEM_BLOCKS(WMEM_BLOCKS), .TILE_MAP(CONTROL_CORE != 0 ? 0 : 1)) u_bridge (
      .i_clk(i_clk), .i_rst(i_rst),
      .i_valid(b_valid), .i_we(b_we), .i_addr(b_addr), .i_wdata(b_wdata), .i_wstrb(b_wstrb),
      .o_ready(b_ready), .o_rdata(m_rdata),
      .o_bus_valid(t_valid), .o_bus_we(t_we), .o_bus_addr(t_addr), .o_bus_wdata(t_wdata),
      .o_bus_wstrb(t_wstrb), .i_bus_ready(t_ready), .i_bus_rdata(t_rdata));

  pal_tile #(
      .R(R), .C(C), .ACC_UNITS(ACC_UNITS), .IMEM_DEPTH(IMEM_DEPTH), .ABUF_BLOCKS(ABUF_BLOCKS),
      .WMEM_BLOCKS(WMEM_BLOCKS), .ACC_DEPTH(ACC_DEPTH), .BIAS_DEPTH(BIAS_DEPTH),
      .OBUF_DEPTH(OBUF_DEPTH), .ABUF_SPRAM(ABUF_SPRAM), .POST_UNIT(POST_UNIT),
      .ACCUMULATE(ACCUMULATE)
  ) u_tile (
      .i_clk(i_clk), .i_rst(tile_rst),
      .i_bus_valid(t_valid), .i_bus_we(t_we), .i_bus_addr(t_addr), .i_bus_wdata(t_wdata),
      .i_bus_wstrb(t_wstrb), .o_bus_ready(t_ready), .o_bus_rdata(t_rdata),
      .o_busy(tile_busy), .o_done(tile_done));

  // LEDs: link activity and NAKs stretched so a person can see them
  reg [LED_STRETCH_BITS-1:0] act_cnt, err_cnt;
  wire activity = (l_rx_valid && l_rx_ready) || (l_tx_valid && l_tx_ready);
  always @(posedge i_clk) begin
    if (i_rst) begin
      act_cnt <= {LED_STRETCH_BITS{1'b0}};
      err_cnt <= {LED_STRETCH_BITS{1'b0}};
    end else begin
      if (activity) act_cnt <= {LED_STRETCH_BITS{1'b1}};
      else if (act_cnt != 0) act_cnt <= act_cnt - 1'b1;
      if (nak) err_cnt <= {LED_STRETCH_BITS{1'b1}};
      else if (err_cnt != 0) err_cnt <= err_cnt - 1'b1;
    end
  end
  assign o_leds = {act_cnt != 0, err_cnt != 0, tile_done, tile_busy};
endmodule
