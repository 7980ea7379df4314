// The PAL SoC: link engine (pal_link) + bus bridge (pal_soc_bridge) + tile
// (pal_tile), attached to the host either by a UART (USE_UART = 1: 8N1 at
// CLKS_PER_BIT clocks per bit, pal_uart_rx/pal_uart_tx, a small receive
// FIFO) or by a byte FIFO port (USE_UART = 0: one byte per cycle each way,
// for simulation). Board tops instantiate it; docs/soc-rtl.md.
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
    parameter integer IDLE_BYTE_TIMES = 4096,
    parameter integer LED_STRETCH_BITS = 20     // activity and error LEDs stay on 2^N cycles
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
  wire        t_valid, t_we, t_ready;
  wire [31:0] t_addr, t_wdata, t_rdata;
  wire [3:0]  t_wstrb;
  wire        tile_busy, tile_done, nak;

  pal_link #(
      .MAX_PAYLOAD(MAX_PAYLOAD), .CYCLES_PER_BYTE(USE_UART != 0 ? 10 * CLKS_PER_BIT : 1),
      .IDLE_BYTE_TIMES(IDLE_BYTE_TIMES), .R(R), .C(C), .ACC_UNITS(ACC_UNITS),
      .IMEM_DEPTH(IMEM_DEPTH), .ABUF_BLOCKS(ABUF_BLOCKS), .WMEM_BLOCKS(WMEM_BLOCKS),
      .ACC_DEPTH(ACC_DEPTH), .BIAS_DEPTH(BIAS_DEPTH), .OBUF_DEPTH(OBUF_DEPTH),
      .CLOCK_HZ(CLOCK_HZ), .FLAGS(0), .DEVICE_NAME(DEVICE_NAME)
  ) u_link (
      .i_clk(i_clk), .i_rst(i_rst),
      .i_rx_valid(l_rx_valid), .i_rx_data(l_rx_data), .o_rx_ready(l_rx_ready),
      .o_tx_valid(l_tx_valid), .o_tx_data(l_tx_data), .i_tx_ready(l_tx_ready),
      .o_bus_valid(m_valid), .o_bus_we(m_we), .o_bus_addr(m_addr), .o_bus_wdata(m_wdata),
      .o_bus_wstrb(m_wstrb), .i_bus_ready(m_ready), .i_bus_rdata(m_rdata),
      .i_tile_busy(tile_busy), .o_nak(nak));

  pal_soc_bridge #(.WMEM_BLOCKS(WMEM_BLOCKS)) u_bridge (
      .i_clk(i_clk), .i_rst(i_rst),
      .i_valid(m_valid), .i_we(m_we), .i_addr(m_addr), .i_wdata(m_wdata), .i_wstrb(m_wstrb),
      .o_ready(m_ready), .o_rdata(m_rdata),
      .o_bus_valid(t_valid), .o_bus_we(t_we), .o_bus_addr(t_addr), .o_bus_wdata(t_wdata),
      .o_bus_wstrb(t_wstrb), .i_bus_ready(t_ready), .i_bus_rdata(t_rdata));

  pal_tile #(
      .R(R), .C(C), .ACC_UNITS(ACC_UNITS), .IMEM_DEPTH(IMEM_DEPTH), .ABUF_BLOCKS(ABUF_BLOCKS),
      .WMEM_BLOCKS(WMEM_BLOCKS), .ACC_DEPTH(ACC_DEPTH), .BIAS_DEPTH(BIAS_DEPTH),
      .OBUF_DEPTH(OBUF_DEPTH)
  ) u_tile (
      .i_clk(i_clk), .i_rst(i_rst),
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
