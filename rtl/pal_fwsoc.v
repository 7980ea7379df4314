`default_nettype none
// The firmware-link SoC (docs/control-core.md §10): the control core speaks
// the host protocol itself (firmware/pal_fw_link.c), so there is no link
// engine and no mailbox, only the core, a boot ROM, one RAM for the
// firmware's code and data, the peripherals of pal_fwsoc_io (the link's
// bytes, a CRC-32 unit, the SoC's constants, the flash's SPI), the cycle
// timer, system control, and the tile behind the bus bridge. This is the
// iCEBreaker's SoC: pal_soc with the control core beside its link engine
// would be about 6 500 logic cells of the UP5K's 5 280; this one is 5 198
// (docs/boards.md).
//
// At reset the core runs the boot ROM (BOOT_INIT_FILE, firmware/boot/),
// which copies the firmware image from the SPI flash into the RAM, checks
// its CRC-32 and jumps to it. The RAM is RAM_WORDS x 32; RAM_STYLE "huge"
// puts it into the UP5K's SPRAM (two of the four), which the bitstream
// cannot preload: hence the boot ROM in block RAM.
//
// Address map (select = [31:24]; firmware/pal_fw_map.h):
//   0x00 boot ROM, 0x01 RAM, 0x02 timer, 0x04 system control
//   (0x0 TILE_RESET, 0x4 BUS_ERROR, 0x8 LED), 0x05..0x08 pal_fwsoc_io,
//   bit 31: the tile at device address [27:0] (docs/protocol.md §5).
module pal_fwsoc #(
    parameter integer R = 2,
    parameter integer C = 2,
    parameter integer ACC_UNITS = (R * C / 4 > 1) ? R * C / 4 : 1,
    parameter integer IMEM_DEPTH = 256,
    parameter integer ABUF_BLOCKS = 64,
    parameter integer WMEM_BLOCKS = 8,
    parameter integer ACC_DEPTH = 256,
    parameter integer BIAS_DEPTH = 256,
    parameter integer OBUF_DEPTH = 256,
    parameter integer ABUF_SPRAM = 0,
    parameter integer POST_UNIT = 0,
    parameter integer ACCUMULATE = 0,
    parameter integer USE_UART = 1,
    parameter integer CLKS_PER_BIT = 4,
    parameter integer CLOCK_HZ = 12000000,
    parameter [127:0] DEVICE_NAME = "icebreaker",
    parameter integer BOOT_WORDS = 256,          // 1 KiB
    parameter integer RAM_WORDS = 16384,         // 64 KiB
    parameter RAM_STYLE = "auto",                // "huge": iCE40UP5K SPRAM
    parameter BOOT_INIT_FILE = ""
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
    output wire       o_spi_cs_n,
    output wire       o_spi_sck,
    output wire       o_spi_mosi,
    input  wire       i_spi_miso,
    output wire [3:0] o_leds,        // busy, done, and the firmware's LED bits: error, link activity
    output wire       o_halted       // the core stopped (boot failed, or a trap)
);
  localparam [7:0] SEL_BOOT = 8'h00, SEL_RAM = 8'h01, SEL_TIMER = 8'h02, SEL_SYSCTL = 8'h04;
  localparam integer BOOT_AW = $clog2(BOOT_WORDS);
  localparam integer RAM_AW = $clog2(RAM_WORDS);

  wire        mem_valid, mem_fetch;
  wire [31:0] mem_addr, mem_wdata;
  wire [3:0]  mem_wstrb;
  reg         mem_ready;
  reg  [31:0] mem_rdata;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] dbg_data, halt_pc;
  wire [2:0]  halt_cause;
  /* verilator lint_on UNUSEDSIGNAL */
  pal_rv_core #(.RESET_PC(32'h0000_0000)) u_core (
      .i_clk(i_clk), .i_rst(i_rst),
      .o_mem_valid(mem_valid), .o_mem_addr(mem_addr), .o_mem_wdata(mem_wdata),
      .o_mem_wstrb(mem_wstrb), .o_mem_fetch(mem_fetch), .i_mem_ready(mem_ready),
      .i_mem_rdata(mem_rdata),
      .o_halted(o_halted), .o_halt_cause(halt_cause), .o_halt_pc(halt_pc),
      .i_resume(1'b0), .i_dbg_reg(5'd0), .o_dbg_data(dbg_data));

  wire [7:0] sel = mem_addr[31:24];
  wire is_tile   = mem_addr[31];
  wire is_boot   = !is_tile && sel == SEL_BOOT;
  wire is_ram    = !is_tile && sel == SEL_RAM;
  wire is_timer  = !is_tile && sel == SEL_TIMER;
  wire is_sysctl = !is_tile && sel == SEL_SYSCTL;
  wire is_io     = !is_tile && sel >= 8'h05 && sel <= 8'h08;
  wire is_none   = !(is_tile | is_boot | is_ram | is_timer | is_sysctl | is_io);

  // boot ROM, RAM, system control and unmapped addresses answer one cycle
  // after the request (registered reads); the timer and the peripherals
  // answer themselves
  reg  ack;
  wire local_req = mem_valid && !is_tile && !is_timer && !is_io && !ack;
  wire writing = mem_wstrb != 4'b0000;

  wire [31:0] boot_rdata, ram_rdata, timer_rdata, io_rdata;
  wire        timer_ready, io_ready;
  pal_rv_ram #(.WORDS(BOOT_WORDS), .AW(BOOT_AW), .INIT_FILE(BOOT_INIT_FILE)) u_boot (
      .i_clk(i_clk), .i_en(local_req && is_boot), .i_addr(mem_addr[BOOT_AW+1:2]),
      .i_wstrb(4'b0000), .i_wdata(32'b0), .o_rdata(boot_rdata));
  // single-port: a store reads nothing (the core ignores a store's read data)
  pal_tile_ram #(.DEPTH(RAM_WORDS), .WIDTH(32), .LANES(4), .SINGLE_PORT(1), .RAM_STYLE(RAM_STYLE)) u_ram (
      .i_clk(i_clk), .i_re(local_req && is_ram && !writing), .i_raddr(mem_addr[RAM_AW+1:2]),
      .o_rdata(ram_rdata), .i_we(local_req && is_ram ? mem_wstrb : 4'b0000),
      .i_waddr(mem_addr[RAM_AW+1:2]), .i_wdata(mem_wdata));
  // the firmware only reads the timer: no write path
  pal_rv_timer #(.WRITABLE(0)) u_timer (
      .i_clk(i_clk), .i_rst(i_rst), .i_valid(mem_valid && is_timer), .i_wstrb(mem_wstrb),
      .i_wdata(mem_wdata), .o_ready(timer_ready), .o_rdata(timer_rdata));

  wire io_activity;
  pal_fwsoc_io #(
      .USE_UART(USE_UART), .CLKS_PER_BIT(CLKS_PER_BIT), .CLOCK_HZ(CLOCK_HZ), .DEVICE_NAME(DEVICE_NAME)
  ) u_io (
      .i_clk(i_clk), .i_rst(i_rst),
      .i_valid(mem_valid && is_io), .i_sel(mem_addr[27:24]), .i_addr(mem_addr[4:2]),
      .i_wstrb(mem_wstrb), .i_wdata(mem_wdata), .o_ready(io_ready), .o_rdata(io_rdata),
      .i_uart_rx(i_uart_rx), .o_uart_tx(o_uart_tx),
      .i_rx_valid(i_rx_valid), .i_rx_data(i_rx_data), .o_rx_ready(o_rx_ready),
      .o_tx_valid(o_tx_valid), .o_tx_data(o_tx_data), .i_tx_ready(i_tx_ready),
      .o_activity(io_activity),
      .o_spi_cs_n(o_spi_cs_n), .o_spi_sck(o_spi_sck), .o_spi_mosi(o_spi_mosi), .i_spi_miso(i_spi_miso));

  // system control: TILE_RESET (bit 0), BUS_ERROR (bit 0 unmapped access;
  // sticky, write 1 to clear), LED (bit 0 error, bit 1 link activity: the
  // firmware lights them and puts them out, as pal_soc's counters do)
  reg        tile_reset, bus_error;
  reg [1:0]  led;
  reg [31:0] sysctl_rdata;
  reg [1:0]  rsel;
  localparam [1:0] R_BOOT = 2'd0, R_RAM = 2'd1, R_SYSCTL = 2'd2, R_ZERO = 2'd3;
  always @(posedge i_clk) begin
    if (i_rst) begin
      ack <= 1'b0;
      tile_reset <= 1'b0;
      bus_error <= 1'b0;
      led <= 2'b00;
    end else begin
      ack <= local_req;
      if (local_req && is_sysctl && mem_wstrb[0]) begin
        if (mem_addr[3:2] == 2'd0) tile_reset <= mem_wdata[0];
        if (mem_addr[3:2] == 2'd1 && mem_wdata[0]) bus_error <= 1'b0;
        if (mem_addr[3:2] == 2'd2) led <= mem_wdata[1:0];
      end
      if (local_req && is_none) bus_error <= 1'b1;
    end
    sysctl_rdata <= mem_addr[3:2] == 2'd0 ? {31'd0, tile_reset} : mem_addr[3:2] == 2'd1 ? {31'd0, bus_error}
                                                                : {30'd0, led};
    rsel <= is_boot ? R_BOOT : is_ram ? R_RAM : is_sysctl ? R_SYSCTL : R_ZERO;
  end

  // The tile, through the bus bridge (the protocol's map to the tile's
  // port). The core computes a load's or store's address with its ALU in
  // the access cycle, and the tile reads a request where the master holds
  // it, so a register stage sits between them: without it the path from
  // the core's instruction register through its adder into the tile's
  // write checks is about 100 ns (9.6 MHz). A tile access takes a cycle
  // more; the core holds its request until ready, so the copy is its.
  wire        b_ready, t_valid, t_we, t_ready, tile_busy, tile_done;
  wire [31:0] b_rdata, t_addr, t_wdata, t_rdata;
  wire [3:0]  t_wstrb;
  reg         q_valid;
  reg  [27:0] q_addr;
  reg  [31:0] q_wdata;
  reg  [3:0]  q_wstrb;
  always @(posedge i_clk) begin
    if (i_rst) q_valid <= 1'b0;
    else if (q_valid) q_valid <= !b_ready;
    else q_valid <= mem_valid && is_tile;
    if (!q_valid) begin
      q_addr <= mem_addr[27:0];
      q_wdata <= mem_wdata;
      q_wstrb <= mem_wstrb;
    end
  end
  always @(*) begin
    if (is_tile) begin
      mem_ready = q_valid && b_ready;
      mem_rdata = b_rdata;
    end else if (is_timer) begin
      mem_ready = timer_ready;
      mem_rdata = timer_rdata;
    end else if (is_io) begin
      mem_ready = io_ready;
      mem_rdata = io_rdata;
    end else begin
      mem_ready = ack;
      case (rsel)
        R_BOOT: mem_rdata = boot_rdata;
        R_RAM: mem_rdata = ram_rdata;
        R_SYSCTL: mem_rdata = sysctl_rdata;
        default: mem_rdata = 32'd0;
      endcase
    end
  end

  pal_soc_bridge #(.WMEM_BLOCKS(WMEM_BLOCKS), .TILE_MAP(0)) u_bridge (
      .i_clk(i_clk), .i_rst(i_rst),
      .i_valid(q_valid), .i_we(q_wstrb != 4'b0000), .i_addr({4'd0, q_addr}),
      .i_wdata(q_wdata), .i_wstrb(q_wstrb), .o_ready(b_ready), .o_rdata(b_rdata),
      .o_bus_valid(t_valid), .o_bus_we(t_we), .o_bus_addr(t_addr), .o_bus_wdata(t_wdata),
      .o_bus_wstrb(t_wstrb), .i_bus_ready(t_ready), .i_bus_rdata(t_rdata));

  pal_tile #(
      .R(R), .C(C), .ACC_UNITS(ACC_UNITS), .IMEM_DEPTH(IMEM_DEPTH), .ABUF_BLOCKS(ABUF_BLOCKS),
      .WMEM_BLOCKS(WMEM_BLOCKS), .ACC_DEPTH(ACC_DEPTH), .BIAS_DEPTH(BIAS_DEPTH),
      .OBUF_DEPTH(OBUF_DEPTH), .ABUF_SPRAM(ABUF_SPRAM), .POST_UNIT(POST_UNIT),
      .ACCUMULATE(ACCUMULATE)
  ) u_tile (
      .i_clk(i_clk), .i_rst(i_rst | tile_reset),
      .i_bus_valid(t_valid), .i_bus_we(t_we), .i_bus_addr(t_addr), .i_bus_wdata(t_wdata),
      .i_bus_wstrb(t_wstrb), .o_bus_ready(t_ready), .o_bus_rdata(t_rdata),
      .o_busy(tile_busy), .o_done(tile_done));

  assign o_leds = {led[1], led[0], tile_done, tile_busy};
  /* verilator lint_off UNUSEDSIGNAL */
  wire unused = &{1'b0, mem_fetch, mem_addr[30:28], io_activity};
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
