// iCEBreaker (iCE40UP5K-SG48) top, pins in constraints/icebreaker.pcf.
// FW_LINK = 1 (the build): the firmware-link SoC (pal_fwsoc): the control
// core serves the host link on the FT2232H channel-B UART itself, from
// firmware its boot ROM copies out of the board's SPI flash (written there
// with the bitstream, docs/control-core.md §10), beside the tile. FW_LINK = 0:
// the SoC with the hardware link engine (pal_soc; CONTROL_CORE = 1 adds
// the mailbox core, which does not fit the UP5K beside it). The 12 MHz
// oscillator feeds the core directly (USE_PLL = 0: 12 MHz, 3 Mbaud = 4
// clocks per bit) or the PLL (USE_PLL = 1: 24 MHz core clock, 8 clocks per
// bit, not met: docs/boards.md). The tile's geometry and memory depths are
// parameters: make bitstream BOARD=icebreaker picks the build's. LEDs: red
// = link error (a NAK was sent), green = tile busy, PMOD2 LED1..4 = {busy,
// done, error, activity}. The button resets the SoC. Under Verilator the PLL
// wrapper is a wire, so this same top runs in simulation.
`default_nettype none

module pal_icebreaker #(
    parameter integer USE_PLL = 0,
    parameter integer R = 2,
    parameter integer C = 2,
    parameter integer IMEM_DEPTH = 256,
    parameter integer ABUF_BLOCKS = 64,
    parameter integer WMEM_BLOCKS = 8,
    parameter integer ACC_DEPTH = 256,
    parameter integer BIAS_DEPTH = 256,
    parameter integer OBUF_DEPTH = 256,
    parameter integer MAX_PAYLOAD = 1024,
    parameter integer RESET_HOLD_BITS = 10,
    // 1: ABUF's codes in the UP5K's SPRAM (single-port, 4 of the 30 EBR
    // freed; docs/boards.md)
    parameter integer ABUF_SPRAM = 1,
    // 0: the tile without its POST unit (docs/isa.md §1): the host
    // post-processes, and the UP5K is spared POST's logic (docs/boards.md)
    parameter integer POST_UNIT = 0,
    // 0: nor accumulate units: GEMMs leave raw block sums that the host
    // accumulates (docs/isa.md §1), about 1 050 logic cells fewer
    // (docs/boards.md)
    parameter integer ACCUMULATE = 0,
    // 0: the link engine keeps no counters (docs/protocol.md §5.1, INFO
    // flag NO_LINK_COUNTERS): about 350 logic cells (docs/boards.md); the
    // host's own link statistics still count
    parameter integer LINK_COUNTERS = 0,
    // FW_LINK = 0 only: 1 adds the mailbox control core with its firmware
    // baked into its IMEM from FW_INIT_FILE ($readmemh)
    parameter integer CONTROL_CORE = 0,
    parameter FW_INIT_FILE = "",
    // 1: the firmware-link SoC; its boot ROM's image ($readmemh,
    // build/firmware/pal_boot.hex) and its RAM in SPRAM
    parameter integer FW_LINK = 1,
    parameter BOOT_INIT_FILE = ""
) (
    input  wire CLK,
    input  wire RX,
    output wire TX,
    input  wire BTN_N,
    output wire LEDR_N,
    output wire LEDG_N,
    output wire LED1,
    output wire LED2,
    output wire LED3,
    output wire LED4,
    // the configuration flash (W25Q128): the boot ROM reads the firmware
    output wire FLASH_SCK,
    output wire FLASH_SSB,
    output wire FLASH_IO0,   // MOSI
    input  wire FLASH_IO1,   // MISO
    output wire FLASH_IO2,   // /WP, held high
    output wire FLASH_IO3    // /HOLD, held high
);

  localparam integer CLOCK_HZ = (USE_PLL != 0) ? 24000000 : 12000000;
  localparam integer CLKS_PER_BIT = CLOCK_HZ / 3000000;

  wire clk, locked;
  generate
    if (USE_PLL != 0) begin : g_pll
      // 12 MHz * 64 / 32 = 24 MHz (VCO 768 MHz), icepll -i 12 -o 24
      pal_ice40_pll #(.DIVR(4'd0), .DIVF(7'd63), .DIVQ(3'd5), .FILTER_RANGE(3'd1)) u_pll (
          .i_pad_clk(CLK), .o_clk(clk), .o_locked(locked));
    end else begin : g_direct
      assign clk = CLK;
      assign locked = 1'b1;
    end
  endgenerate

  wire rst;
  pal_board_reset #(.HOLD_BITS(RESET_HOLD_BITS)) u_rst (
      .i_clk(clk), .i_rst_req(~BTN_N), .i_locked(locked), .o_rst(rst));

  wire [3:0] leds;  // {activity, error, done, busy}
  generate
    if (FW_LINK != 0) begin : g_fwlink
      /* verilator lint_off PINCONNECTEMPTY */
      pal_fwsoc #(
          .R(R), .C(C), .IMEM_DEPTH(IMEM_DEPTH), .ABUF_BLOCKS(ABUF_BLOCKS), .WMEM_BLOCKS(WMEM_BLOCKS),
          .ACC_DEPTH(ACC_DEPTH), .BIAS_DEPTH(BIAS_DEPTH), .OBUF_DEPTH(OBUF_DEPTH),
          .ABUF_SPRAM(ABUF_SPRAM), .POST_UNIT(POST_UNIT), .ACCUMULATE(ACCUMULATE),
          .USE_UART(1), .CLKS_PER_BIT(CLKS_PER_BIT), .CLOCK_HZ(CLOCK_HZ), .DEVICE_NAME("icebreaker"),
          .RAM_STYLE("huge"), .BOOT_INIT_FILE(BOOT_INIT_FILE)
      ) u_soc (
          .i_clk(clk), .i_rst(rst), .i_uart_rx(RX), .o_uart_tx(TX),
          .i_rx_valid(1'b0), .i_rx_data(8'd0), .o_rx_ready(),
          .o_tx_valid(), .o_tx_data(), .i_tx_ready(1'b0),
          .o_spi_cs_n(FLASH_SSB), .o_spi_sck(FLASH_SCK), .o_spi_mosi(FLASH_IO0), .i_spi_miso(FLASH_IO1),
          .o_leds(leds), .o_halted());
      /* verilator lint_on PINCONNECTEMPTY */
    end else begin : g_link_engine
      /* verilator lint_off PINCONNECTEMPTY */
      pal_soc #(
          .R(R), .C(C), .CLKS_PER_BIT(CLKS_PER_BIT), .MAX_PAYLOAD(MAX_PAYLOAD),
          .CLOCK_HZ(CLOCK_HZ), .USE_UART(1), .DEVICE_NAME("icebreaker"),
          .CONTROL_CORE(CONTROL_CORE), .FW_INIT_FILE(FW_INIT_FILE), .LINK_COUNTERS(LINK_COUNTERS),
          .IMEM_DEPTH(IMEM_DEPTH), .ABUF_BLOCKS(ABUF_BLOCKS), .WMEM_BLOCKS(WMEM_BLOCKS),
          .ACC_DEPTH(ACC_DEPTH), .BIAS_DEPTH(BIAS_DEPTH), .OBUF_DEPTH(OBUF_DEPTH),
          .ABUF_SPRAM(ABUF_SPRAM), .POST_UNIT(POST_UNIT), .ACCUMULATE(ACCUMULATE)
      ) u_soc (
          .i_clk(clk), .i_rst(rst), .i_uart_rx(RX), .o_uart_tx(TX),
          .i_rx_valid(1'b0), .i_rx_data(8'd0), .o_rx_ready(),
          .o_tx_valid(), .o_tx_data(), .i_tx_ready(1'b0),
          .o_leds(leds));
      /* verilator lint_on PINCONNECTEMPTY */
      assign FLASH_SSB = 1'b1;   // the flash stays deselected
      assign FLASH_SCK = 1'b0;
      assign FLASH_IO0 = 1'b0;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_flash = FLASH_IO1;
      /* verilator lint_on UNUSEDSIGNAL */
    end
  endgenerate
  assign FLASH_IO2 = 1'b1;
  assign FLASH_IO3 = 1'b1;

  assign LEDR_N = ~leds[2];
  assign LEDG_N = ~leds[0];
  assign {LED4, LED3, LED2, LED1} = leds;

endmodule

`default_nettype wire
