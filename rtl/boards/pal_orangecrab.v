// OrangeCrab (ECP5 LFE5U-25F) top, pins in constraints/orangecrab.lpf. The
// board has native USB only (no UART bridge), so the SoC's UART is on the
// header pins 0 (TX, N17) and 1 (RX, M18) for an external 3.3 V USB-UART
// adapter; without one the build is for resources and timing. The SoC does
// not close timing at the 48 MHz oscillator (nextpnr-ecp5: about 23 MHz for
// the 4x4 build, docs/boards.md), so an EHXPLLL makes an 18 MHz core clock
// (48 * 3 / 8, VCO 594 MHz), and the UART runs at the host's default
// 3 Mbaud, 6 clocks per bit. The user button
// (active low) resets the SoC; rst_n is held high (driving it low reboots
// the board into its DFU bootloader). RGB LED (active low): red = error,
// green = busy, blue = activity.
`default_nettype none

module pal_orangecrab #(
    parameter integer R = 4,
    parameter integer C = 4,
    parameter integer IMEM_DEPTH = 256,
    parameter integer ABUF_BLOCKS = 256,
    parameter integer WMEM_BLOCKS = 64,
    parameter integer ACC_DEPTH = 1024,
    parameter integer BIAS_DEPTH = 256,
    parameter integer OBUF_DEPTH = 1024,
    parameter integer MAX_PAYLOAD = 4096,
    parameter integer RESET_HOLD_BITS = 10,
    // 1: the control core with its firmware (docs/control-core.md); the
    // firmware image is baked into its IMEM from FW_INIT_FILE ($readmemh)
    parameter integer CONTROL_CORE = 0,
    parameter FW_INIT_FILE = "",
    // core clock = 48 MHz * PLL_CLKFB_DIV / PLL_CLKI_DIV; CORE_HZ must say
    // the same (the UART divider and the INFO reply use it)
    // (48 x 3 / 8 = 18 MHz, VCO 18 x 33 = 594 MHz; 6 clocks per bit at
    // 3 Mbaud)
    parameter integer PLL_CLKI_DIV = 8,
    parameter integer PLL_CLKFB_DIV = 3,
    parameter integer PLL_CLKOP_DIV = 33,
    parameter integer CORE_HZ = 18000000,
    parameter integer BAUD = 3000000
) (
    input  wire clk48,
    input  wire usr_btn,
    output wire rst_n,
    input  wire gpio_1,
    output wire gpio_0,
    output wire rgb_led0_r,
    output wire rgb_led0_g,
    output wire rgb_led0_b
);

  localparam integer CLOCK_HZ = CORE_HZ;

  wire clk, locked;
  pal_ecp5_pll #(
      .CLKI_DIV(PLL_CLKI_DIV), .CLKFB_DIV(PLL_CLKFB_DIV),
      .CLKOP_DIV(PLL_CLKOP_DIV), .CLKOP_CPHASE(PLL_CLKOP_DIV / 2 - 1)
  ) u_pll (
      .i_clk(clk48), .o_clk(clk), .o_locked(locked));

  wire rst;
  pal_board_reset #(.HOLD_BITS(RESET_HOLD_BITS)) u_rst (
      .i_clk(clk), .i_rst_req(~usr_btn), .i_locked(locked), .o_rst(rst));

  wire [3:0] leds;  // {activity, error, done, busy}
  /* verilator lint_off PINCONNECTEMPTY */
  pal_soc #(
      .R(R), .C(C), .CLKS_PER_BIT(CLOCK_HZ / BAUD), .MAX_PAYLOAD(MAX_PAYLOAD),
      .CLOCK_HZ(CLOCK_HZ), .USE_UART(1), .DEVICE_NAME("orangecrab"),
      .CONTROL_CORE(CONTROL_CORE), .FW_INIT_FILE(FW_INIT_FILE),
      .IMEM_DEPTH(IMEM_DEPTH), .ABUF_BLOCKS(ABUF_BLOCKS), .WMEM_BLOCKS(WMEM_BLOCKS),
      .ACC_DEPTH(ACC_DEPTH), .BIAS_DEPTH(BIAS_DEPTH), .OBUF_DEPTH(OBUF_DEPTH)
  ) u_soc (
      .i_clk(clk), .i_rst(rst), .i_uart_rx(gpio_1), .o_uart_tx(gpio_0),
      .i_rx_valid(1'b0), .i_rx_data(8'd0), .o_rx_ready(),
      .o_tx_valid(), .o_tx_data(), .i_tx_ready(1'b0),
      .o_leds(leds));
  /* verilator lint_on PINCONNECTEMPTY */

  assign rst_n = 1'b1;
  assign rgb_led0_r = ~leds[2];
  assign rgb_led0_g = ~leds[0];
  assign rgb_led0_b = ~leds[3];

  /* verilator lint_off UNUSEDSIGNAL */
  wire unused = leds[1];
  /* verilator lint_on UNUSEDSIGNAL */

endmodule

`default_nettype wire
