`default_nettype none
// The peripherals of the firmware-link SoC (pal_fwsoc, docs/control-core.md
// §10) on the control core's bus at selects 0x05..0x08 of address bits
// [31:24] (i_sel is [27:24]): the host link's bytes (UART or FIFO port, a
// receive FIFO of one block RAM), a CRC-32 unit for the frame check, the
// SoC's constants for INFO, and an SPI master for the board's flash, from
// which the boot ROM copies the firmware. The offsets are those of
// firmware/pal_fw_map.h (PAL_FW_UART_*, PAL_FW_CRC_*, PAL_FW_SYSINFO_*,
// PAL_FW_SPI_*; make rv-map-check compares them).
module pal_fwsoc_io #(
    parameter integer USE_UART = 1,
    parameter integer CLKS_PER_BIT = 4,
    parameter integer CLOCK_HZ = 12000000,
    parameter [127:0] DEVICE_NAME = "icebreaker",
    parameter integer RX_FIFO_BYTES = 512
) (
    input  wire        i_clk,
    input  wire        i_rst,
    // core side: a request is held until o_ready (one cycle later)
    input  wire        i_valid,
    input  wire [3:0]  i_sel,          // 5 UART, 6 CRC, 7 SYSINFO, 8 SPI
    input  wire [4:2]  i_addr,         // word offset (byte offset [4:2])
    input  wire [3:0]  i_wstrb,
    input  wire [31:0] i_wdata,
    output reg         o_ready,
    output reg  [31:0] o_rdata,
    // the host link
    input  wire        i_uart_rx,
    output wire        o_uart_tx,
    input  wire        i_rx_valid,     // byte-FIFO port (USE_UART = 0)
    input  wire [7:0]  i_rx_data,
    output wire        o_rx_ready,
    output wire        o_tx_valid,
    output wire [7:0]  o_tx_data,
    input  wire        i_tx_ready,
    output wire        o_activity,     // a byte moved either way
    // the flash
    output wire        o_spi_cs_n,
    output wire        o_spi_sck,
    output wire        o_spi_mosi,
    input  wire        i_spi_miso
);
  localparam [3:0] SEL_UART = 4'h5, SEL_CRC = 4'h6, SEL_SYSINFO = 4'h7, SEL_SPI = 4'h8;
  localparam integer BYTE_CYCLES = USE_UART != 0 ? 10 * CLKS_PER_BIT : 1;
  localparam integer FAW = $clog2(RX_FIFO_BYTES);

  wire req = i_valid && !o_ready;
  wire wr = req && i_wstrb != 4'b0000;
  wire rd = req && i_wstrb == 4'b0000;

  // ---- receive: bytes into a FIFO the firmware drains ------------------------
  wire       in_valid;
  wire [7:0] in_data;
  reg  [7:0] fifo [0:RX_FIFO_BYTES-1];
  reg  [FAW:0] wp, rp;
  reg  [7:0] head;              // fifo[rp], read every cycle (block RAM)
  wire empty = wp == rp;
  wire full = wp[FAW-1:0] == rp[FAW-1:0] && wp[FAW] != rp[FAW];
  wire pop = rd && i_sel == SEL_UART && i_addr[3:2] == 2'd1 && !empty;
  always @(posedge i_clk) begin
    if (in_valid && !full) fifo[wp[FAW-1:0]] <= in_data;
    head <= fifo[rp[FAW-1:0]];
    if (i_rst) begin
      wp <= {(FAW + 1){1'b0}};
      rp <= {(FAW + 1){1'b0}};
    end else begin
      // a byte that finds the FIFO full is dropped, as on a UART; the
      // host's stop-and-wait never sends more than a frame (267 bytes)
      if (in_valid && !full) wp <= wp + 1'b1;
      if (pop) rp <= rp + 1'b1;
    end
  end

  // ---- transmit ---------------------------------------------------------------
  wire tx_write = wr && i_sel == SEL_UART && i_addr[3:2] == 2'd2;
  wire tx_free;
  generate
    if (USE_UART != 0) begin : g_uart
      /* verilator lint_off UNUSEDSIGNAL */
      wire [15:0] framing_errors;
      /* verilator lint_on UNUSEDSIGNAL */
      pal_uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_urx (
          .i_clk(i_clk), .i_rst(i_rst), .i_rx(i_uart_rx),
          .o_valid(in_valid), .o_data(in_data), .o_framing_errors(framing_errors));
      pal_uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_utx (
          .i_clk(i_clk), .i_rst(i_rst), .i_valid(tx_write), .i_data(i_wdata[7:0]),
          .o_ready(tx_free), .o_tx(o_uart_tx));
      assign o_rx_ready = 1'b0;
      assign o_tx_valid = 1'b0;
      assign o_tx_data = 8'd0;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_fifo_port = &{1'b0, i_rx_valid, i_rx_data, i_tx_ready};
      /* verilator lint_on UNUSEDSIGNAL */
    end else begin : g_fifo
      // one byte a cycle each way (simulation); one held byte to send
      reg       tx_full;
      reg [7:0] tx_byte;
      always @(posedge i_clk) begin
        if (i_rst) tx_full <= 1'b0;
        else if (tx_write) tx_full <= 1'b1;
        else if (i_tx_ready) tx_full <= 1'b0;
        if (tx_write) tx_byte <= i_wdata[7:0];
      end
      assign in_valid = i_rx_valid && !full;
      assign in_data = i_rx_data;
      assign o_rx_ready = !full;
      assign o_tx_valid = tx_full;
      assign o_tx_data = tx_byte;
      assign tx_free = !tx_full;
      assign o_uart_tx = 1'b1;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_uart_rx = i_uart_rx;
      /* verilator lint_on UNUSEDSIGNAL */
    end
  endgenerate
  assign o_activity = (in_valid && !full) || tx_write;

  // ---- CRC-32: VALUE (rw), BYTE (w: one byte into VALUE) ----------------------
  reg  [31:0] crc;
  wire [31:0] crc_next;
  pal_link_crc32 u_crc (.i_crc(crc), .i_byte(i_wdata[7:0]), .o_crc(crc_next));
  always @(posedge i_clk) begin
    if (i_rst) crc <= 32'hFFFFFFFF;
    else if (wr && i_sel == SEL_CRC && i_addr[2] == 1'b0 && i_wstrb == 4'b1111) crc <= i_wdata;
    else if (wr && i_sel == SEL_CRC && i_addr[2] == 1'b1) crc <= crc_next;
  end

  // ---- SPI master, mode 0, SCK = clock / 2: CTRL (bit 0 chip select, read
  // bit 1 busy), DATA (write: send a byte, MSB first; read: the byte
  // received meanwhile) -----------------------------------------------------------
  reg       cs, sck, miso_bit;
  reg [7:0] spi_sh;
  reg [4:0] spi_left;           // half periods left
  always @(posedge i_clk) begin
    if (i_rst) begin
      cs <= 1'b0;
      sck <= 1'b0;
      spi_left <= 5'd0;
    end else if (wr && i_sel == SEL_SPI && i_addr[2] == 1'b0) begin
      cs <= i_wdata[0];
    end else if (wr && i_sel == SEL_SPI && i_addr[2] == 1'b1 && spi_left == 5'd0) begin
      spi_sh <= i_wdata[7:0];
      spi_left <= 5'd16;
    end else if (spi_left != 5'd0) begin
      spi_left <= spi_left - 1'b1;
      sck <= !sck;
      if (!sck) miso_bit <= i_spi_miso;               // rising edge: sample
      else spi_sh <= {spi_sh[6:0], miso_bit};         // falling edge: shift
    end
  end
  assign o_spi_cs_n = !cs;
  assign o_spi_sck = sck;
  assign o_spi_mosi = spi_sh[7];

  // ---- reads ------------------------------------------------------------------
  function automatic [31:0] name_word(input integer w);
    integer b;
    begin
      name_word = 32'd0;
      for (b = 0; b < 4; b = b + 1)
        name_word[8*b +: 8] = DEVICE_NAME[127 - 8 * (4 * w + b) -: 8];
    end
  endfunction
  localparam [31:0] CLOCK_WORD = CLOCK_HZ;
  localparam [31:0] BYTE_CYCLES_WORD = BYTE_CYCLES;

  reg [31:0] rdata;
  always @(*) begin
    rdata = 32'd0;
    case (i_sel)
      SEL_UART: rdata = i_addr[3:2] == 2'd0 ? {30'd0, tx_free, !empty} : {24'd0, head};
      SEL_CRC: rdata = crc;
      SEL_SYSINFO:
        case (i_addr[4:2])
          3'd0: rdata = CLOCK_WORD;
          3'd1: rdata = BYTE_CYCLES_WORD;
          3'd4: rdata = name_word(0);
          3'd5: rdata = name_word(1);
          3'd6: rdata = name_word(2);
          3'd7: rdata = name_word(3);
          default: rdata = 32'd0;
        endcase
      SEL_SPI: rdata = i_addr[2] ? {24'd0, spi_sh} : {30'd0, spi_left != 5'd0, cs};
      default: rdata = 32'd0;
    endcase
  end

  // Answers one cycle after the request: the FIFO's head is then the word
  // read at the request, and a pop moves rp as the answer goes out.
  always @(posedge i_clk) begin
    if (i_rst) o_ready <= 1'b0;
    else o_ready <= req;
  end
  always @(posedge i_clk) o_rdata <= rdata;
endmodule
