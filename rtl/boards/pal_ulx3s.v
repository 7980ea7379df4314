// ULX3S (ECP5, LFE5U-85F by default) top: the PAL SoC on the FT231X UART
// (FPGA receives on M1 = ftdi_txd, transmits on L4 = ftdi_rxd), pins in
// constraints/ulx3s.lpf. The whole 4x4 SoC does not close timing at the
// 25 MHz oscillator (the routed SoC with its control core reaches about
// 19 MHz, docs/boards.md), so an EHXPLLL makes a 15 MHz core clock
// (25 * 3 / 5, VCO 600 MHz), a whole number of cycles per bit of the UART
// at 1 Mbaud (15 clocks per bit; 3 Mbaud, the host's default, is not), so
// the host names the rate: serial:///dev/ttyUSB0?baud=1000000. FIRE1 resets the
// SoC; led[3:0] = {activity, error, done, busy}. wifi_gpio0 is held high:
// the ESP32 would otherwise take the board over.
`default_nettype none

module pal_ulx3s #(
    parameter integer R = 4,
    parameter integer C = 4,
    parameter integer IMEM_DEPTH = 256,
    parameter integer ABUF_BLOCKS = 512,
    parameter integer WMEM_BLOCKS = 256,
    parameter integer ACC_DEPTH = 4096,
    parameter integer BIAS_DEPTH = 1024,
    parameter integer OBUF_DEPTH = 4096,
    parameter integer MAX_PAYLOAD = 4096,
    parameter integer RESET_HOLD_BITS = 10,
    // 1: the control core with its firmware (docs/control-core.md); the
    // firmware image is baked into its IMEM from FW_INIT_FILE ($readmemh)
    parameter integer CONTROL_CORE = 0,
    parameter FW_INIT_FILE = "",
    // core clock = 25 MHz * PLL_CLKFB_DIV / PLL_CLKI_DIV; CORE_HZ must say
    // the same (the UART divider and the INFO reply use it)
    // (25 x 3 / 5 = 15 MHz, VCO 15 x 40 = 600 MHz; 15 clocks per bit at
    // 1 Mbaud)
    parameter integer PLL_CLKI_DIV = 5,
    parameter integer PLL_CLKFB_DIV = 3,
    parameter integer PLL_CLKOP_DIV = 40,
    parameter integer CORE_HZ = 15000000
) (
    input  wire       clk_25mhz,
    input  wire       ftdi_txd,
    output wire       ftdi_rxd,
    input  wire [1:0] btn,
    output wire [7:0] led,
    output wire       wifi_gpio0
);

  localparam integer CLOCK_HZ = CORE_HZ;

  wire clk, locked;
  pal_ecp5_pll #(
      .CLKI_DIV(PLL_CLKI_DIV), .CLKFB_DIV(PLL_CLKFB_DIV),
      .CLKOP_DIV(PLL_CLKOP_DIV), .CLKOP_CPHASE(PLL_CLKOP_DIV / 2 - 1)
  ) u_pll (
      .i_clk(clk_25mhz), .o_clk(clk), .o_locked(locked));

  wire rst;
  pal_board_reset #(.HOLD_BITS(RESET_HOLD_BITS)) u_rst (
      .i_clk(clk), .i_rst_req(btn[1]), .i_locked(locked), .o_rst(rst));

  wire [3:0] leds;
  /* verilator lint_off PINCONNECTEMPTY */
  pal_soc #(
      .R(R), .C(C), .CLKS_PER_BIT(CLOCK_HZ / 1000000), .MAX_PAYLOAD(MAX_PAYLOAD),
      .CLOCK_HZ(CLOCK_HZ), .USE_UART(1), .DEVICE_NAME("ulx3s"),
      .CONTROL_CORE(CONTROL_CORE), .FW_INIT_FILE(FW_INIT_FILE),
      .IMEM_DEPTH(IMEM_DEPTH), .ABUF_BLOCKS(ABUF_BLOCKS), .WMEM_BLOCKS(WMEM_BLOCKS),
      .ACC_DEPTH(ACC_DEPTH), .BIAS_DEPTH(BIAS_DEPTH), .OBUF_DEPTH(OBUF_DEPTH)
  ) u_soc (
      .i_clk(clk), .i_rst(rst), .i_uart_rx(ftdi_txd), .o_uart_tx(ftdi_rxd),
      .i_rx_valid(1'b0), .i_rx_data(8'd0), .o_rx_ready(),
      .o_tx_valid(), .o_tx_data(), .i_tx_ready(1'b0),
      .o_leds(leds));
  /* verilator lint_on PINCONNECTEMPTY */

  assign led = {3'd0, rst, leds};
  assign wifi_gpio0 = 1'b1;

  /* verilator lint_off UNUSEDSIGNAL */
  wire unused = btn[0];  // power button: left to the board
  /* verilator lint_on UNUSEDSIGNAL */

endmodule

`default_nettype wire
