// The device's link engine (docs/protocol.md §7, the RTL twin of
// driver/pal_link_model.c): receiver (pal_link_rx), executor with the
// payload buffer, the checks, the duplicate-WRITE rule, the bus master and
// the counters (pal_link_exec), reply framer (pal_link_tx). A byte stream
// in and out (valid/ready), a 32-bit bus master in the protocol's address
// map out (pal_soc_bridge puts it on the tile's port).
`default_nettype none

module pal_link #(
    parameter integer MAX_PAYLOAD = 4096,
    parameter integer CYCLES_PER_BYTE = 1,     // of the attachment, for the idle timeout
    parameter integer IDLE_BYTE_TIMES = 4096,
    parameter integer R = 4,
    parameter integer C = 4,
    parameter integer ACC_UNITS = 4,
    parameter integer IMEM_DEPTH = 256,
    parameter integer ABUF_BLOCKS = 512,
    parameter integer WMEM_BLOCKS = 256,
    parameter integer ACC_DEPTH = 4096,
    parameter integer BIAS_DEPTH = 1024,
    parameter integer OBUF_DEPTH = 4096,
    parameter integer CLOCK_HZ = 0,
    parameter integer FLAGS = 0,
    parameter [127:0] DEVICE_NAME = "sim",
    parameter integer FIRMWARE = 0,     // FW requests to the mailbox; INFO flags bit 0
    parameter integer LINK_COUNTERS = 1,  // 0: no §5.1 counters, INFO flag NO_LINK_COUNTERS
    parameter integer TILE_MAP = 0,       // 1: the bus master in the tile port's map (pal_link_exec)
    parameter integer FW_TIMEOUT = 1 << 20  // cycles without progress before the firmware is given up on
) (
    input  wire        i_clk,
    input  wire        i_rst,
    input  wire        i_rx_valid,
    input  wire [7:0]  i_rx_data,
    output wire        o_rx_ready,
    output wire        o_tx_valid,
    output wire [7:0]  o_tx_data,
    input  wire        i_tx_ready,
    output wire        o_bus_valid,
    output wire        o_bus_we,
    output wire [31:0] o_bus_addr,
    output wire [31:0] o_bus_wdata,
    output wire [3:0]  o_bus_wstrb,
    input  wire        i_bus_ready,
    input  wire [31:0] i_bus_rdata,
    input  wire        i_tile_busy,
    output wire        o_nak,
    // control-core mailbox (used when FIRMWARE = 1)
    output wire        o_mb_req_valid,
    output wire [31:0] o_mb_req_data,
    input  wire        i_mb_req_ready,
    input  wire        i_mb_resp_valid,
    input  wire [31:0] i_mb_resp_data,
    output wire        o_mb_resp_ready,
    input  wire        i_fw_halted     // the control core has stopped
);
  /* verilator lint_off UNUSEDPARAM */
  `include "pal_proto.vh"  // PAL_PROTO_FLAG_*
  /* verilator lint_on UNUSEDPARAM */
  localparam integer BAW = $clog2(MAX_PAYLOAD);
  localparam [63:0] IDLE64 = IDLE_BYTE_TIMES * CYCLES_PER_BYTE;
  localparam [31:0] IDLE_CYCLES = IDLE64[31:0];

  wire           buf_we;
  wire [BAW-1:0] buf_addr;
  wire [7:0]     buf_data;
  wire           ev_valid, ev_done;
  wire [1:0]     ev_kind;
  wire [7:0]     ev_type, ev_seq;
  wire [15:0]    ev_len, ev_rlen;
  wire [31:0]    ev_addr;
  wire [4:0]     rx_ctr_ev;

  pal_link_rx #(.MAX_PAYLOAD(MAX_PAYLOAD), .BAW(BAW), .IDLE_CYCLES(IDLE_CYCLES)) u_rx (
      .i_clk(i_clk), .i_rst(i_rst),
      .i_valid(i_rx_valid), .i_data(i_rx_data), .o_ready(o_rx_ready),
      .o_buf_we(buf_we), .o_buf_addr(buf_addr), .o_buf_data(buf_data),
      .o_ev_valid(ev_valid), .o_ev_kind(ev_kind), .o_ev_type(ev_type), .o_ev_seq(ev_seq),
      .o_ev_len(ev_len), .o_ev_addr(ev_addr), .o_ev_rlen(ev_rlen), .i_ev_done(ev_done),
      .o_ctr_ev(rx_ctr_ev));

  wire        tx_start, tx_idle, tx_done, pl_valid, pl_ready;
  wire [7:0]  tx_type, tx_seq, pl_data;
  wire [15:0] tx_len;

  pal_link_exec #(
      .MAX_PAYLOAD(MAX_PAYLOAD), .BAW(BAW), .R(R), .C(C), .ACC_UNITS(ACC_UNITS),
      .IMEM_DEPTH(IMEM_DEPTH), .ABUF_BLOCKS(ABUF_BLOCKS), .WMEM_BLOCKS(WMEM_BLOCKS),
      .ACC_DEPTH(ACC_DEPTH), .BIAS_DEPTH(BIAS_DEPTH), .OBUF_DEPTH(OBUF_DEPTH),
      .CLOCK_HZ(CLOCK_HZ), .IDLE_BYTE_TIMES(IDLE_BYTE_TIMES), .FLAGS(FLAGS | (FIRMWARE != 0 ? PAL_PROTO_FLAG_FIRMWARE : 0) |
              (LINK_COUNTERS != 0 ? 0 : PAL_PROTO_FLAG_NO_LINK_COUNTERS)),
      .DEVICE_NAME(DEVICE_NAME), .FIRMWARE(FIRMWARE), .LINK_COUNTERS(LINK_COUNTERS), .TILE_MAP(TILE_MAP),
      .FW_TIMEOUT(FW_TIMEOUT),
      .READ_WORDS(CYCLES_PER_BYTE >= 16 ? 1 : 2)
  ) u_exec (
      .i_clk(i_clk), .i_rst(i_rst),
      .i_buf_we(buf_we), .i_buf_addr(buf_addr), .i_buf_data(buf_data),
      .i_ev_valid(ev_valid), .i_ev_kind(ev_kind), .i_ev_type(ev_type), .i_ev_seq(ev_seq),
      .i_ev_len(ev_len), .i_ev_addr(ev_addr), .i_ev_rlen(ev_rlen), .o_ev_done(ev_done),
      .i_rx_ctr_ev(rx_ctr_ev),
      .o_tx_start(tx_start), .o_tx_type(tx_type), .o_tx_seq(tx_seq), .o_tx_len(tx_len),
      .i_tx_idle(tx_idle), .o_pl_valid(pl_valid), .o_pl_data(pl_data), .i_pl_ready(pl_ready),
      .i_tx_done(tx_done),
      .o_bus_valid(o_bus_valid), .o_bus_we(o_bus_we), .o_bus_addr(o_bus_addr),
      .o_bus_wdata(o_bus_wdata), .o_bus_wstrb(o_bus_wstrb), .i_bus_ready(i_bus_ready),
      .i_bus_rdata(i_bus_rdata), .i_tile_busy(i_tile_busy), .o_nak(o_nak),
      .o_mb_req_valid(o_mb_req_valid), .o_mb_req_data(o_mb_req_data), .i_mb_req_ready(i_mb_req_ready),
      .i_mb_resp_valid(i_mb_resp_valid), .i_mb_resp_data(i_mb_resp_data),
      .o_mb_resp_ready(o_mb_resp_ready), .i_fw_halted(i_fw_halted));

  pal_link_tx u_tx (
      .i_clk(i_clk), .i_rst(i_rst),
      .i_start(tx_start), .i_type(tx_type), .i_seq(tx_seq), .i_len(tx_len), .o_idle(tx_idle),
      .i_pl_valid(pl_valid), .i_pl_data(pl_data), .o_pl_ready(pl_ready),
      .o_valid(o_tx_valid), .o_data(o_tx_data), .i_ready(i_tx_ready), .o_done(tx_done));
endmodule
