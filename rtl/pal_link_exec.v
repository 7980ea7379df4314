// The link engine's executor (docs/protocol.md §4, §5, §7; mirrors
// execute() in driver/pal_link_model.c and the checks of driver/pal_bus.c):
// takes one receiver event at a time, decodes the request, checks the whole
// access (address map, bounds, alignment, writability, register values,
// NaR flags, busy tile) before its first bus transfer, applies the
// duplicate-WRITE rule, drives the bus master (protocol-map addresses,
// 32-bit words with byte strobes; pal_soc_bridge translates), streams the
// reply payload into the framer and keeps the §5.1 counters.
//
// The payload buffer (MAX_PAYLOAD bytes rounded up to a power of two,
// written by the receiver; pal_tile_ram) lives here; its read port is
// registered and addressed by the next value of `ptr`, so `q` is always
// the byte at `ptr`.
`default_nettype none

module pal_link_exec #(
    parameter integer MAX_PAYLOAD = 4096,
    parameter integer BAW = 12,
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
    parameter integer IDLE_BYTE_TIMES = 4096,
    parameter integer FLAGS = 0,
    parameter [127:0] DEVICE_NAME = "sim",
    parameter integer FIRMWARE = 0,            // 1: FW requests go to the control core's mailbox
    // 0: no §5.1 counters (INFO flag NO_LINK_COUNTERS, which FLAGS then
    // carries): their window is unmapped, NAK BAD_ADDRESS like any hole.
    // The bank and its read path are about 350 logic cells of the iCE40
    // build, which the UP5K cannot spare (docs/boards.md)
    parameter integer LINK_COUNTERS = 1,
    // 1: the bus master addresses the tile's own port (docs/tile-rtl.md,
    // "Bus": region in [31:28], a WMEM access's PE where the tile's map
    // has it) instead of the protocol's map (§5), but for the NaR flags,
    // which stay one byte per flag for pal_soc_bridge (TILE_MAP = 1) to
    // spread over the tile's words. The decode below knows the window
    // anyway: that saves the bridge's translation, about 175 logic cells
    // of the iCE40 build (docs/boards.md). pal_soc uses it where the link
    // engine is the tile's only master (no control core)
    parameter integer TILE_MAP = 0,
    // words a READ fetches ahead of the reply stream: 2 keeps a byte-per-
    // cycle attachment busy; 1 does for a UART, which takes a byte in tens
    // of cycles while a word takes a few (and saves the second word's
    // register and its multiplexer)
    parameter integer READ_WORDS = 2,
    // cycles an FW exchange may go without progress (the mailbox taking a
    // request word or giving a reply word) before the firmware counts as
    // hung: the firmware answers in thousands of cycles (it never waits
    // for a kernel), so 2^20 leaves a wide margin and still answers the
    // host (NAK FIRMWARE) long before its own reply timeout
    parameter integer FW_TIMEOUT = 1 << 20
) (
    input  wire           i_clk,
    input  wire           i_rst,
    // payload buffer write port (receiver)
    input  wire           i_buf_we,
    input  wire [BAW-1:0] i_buf_addr,
    input  wire [7:0]     i_buf_data,
    // receiver event
    input  wire           i_ev_valid,
    input  wire [1:0]     i_ev_kind,
    input  wire [7:0]     i_ev_type,
    input  wire [7:0]     i_ev_seq,
    input  wire [15:0]    i_ev_len,
    input  wire [31:0]    i_ev_addr,
    input  wire [15:0]    i_ev_rlen,
    output wire           o_ev_done,
    // the receiver's counter events (pal_link_rx's o_ctr_ev)
    input  wire [4:0]     i_rx_ctr_ev,
    // reply framer
    output wire           o_tx_start,
    output reg  [7:0]     o_tx_type,
    output wire [7:0]     o_tx_seq,
    output reg  [15:0]    o_tx_len,
    input  wire           i_tx_idle,
    output wire           o_pl_valid,
    output reg  [7:0]     o_pl_data,
    input  wire           i_pl_ready,
    input  wire           i_tx_done,
    // bus master: protocol-map byte address of a word, strobes
    output reg            o_bus_valid,
    output reg            o_bus_we,
    output wire [31:0]    o_bus_addr,
    output reg  [31:0]    o_bus_wdata,
    output reg  [3:0]     o_bus_wstrb,
    input  wire           i_bus_ready,
    input  wire [31:0]    i_bus_rdata,
    input  wire           i_tile_busy,
    output wire           o_nak,               // a NAK is being sent (for an LED)
    // control-core mailbox (FIRMWARE = 1; docs/control-core.md §4): request
    // words out, reply words in
    output reg            o_mb_req_valid,
    output wire [31:0]    o_mb_req_data,
    input  wire           i_mb_req_ready,
    input  wire           i_mb_resp_valid,
    input  wire [31:0]    i_mb_resp_data,
    output wire           o_mb_resp_ready,
    input  wire           i_fw_halted          // the control core has stopped (trap, ebreak)
);
  // frame types, NAK reasons, firmware commands, the address map and the
  // register runs: generated from include/pal/protocol.h (pal_isagen)
  /* verilator lint_off UNUSEDPARAM */
  `include "pal_proto.vh"
  `include "pal_isa.vh"
  /* verilator lint_on UNUSEDPARAM */
  localparam integer P = R * C;
  localparam [1:0] EV_OK = 2'd0, EV_BAD_VER = 2'd1, EV_OVERSIZE = 2'd2;
  localparam [7:0] T_INFO = PAL_MSG_INFO, T_WRITE = PAL_MSG_WRITE, T_READ = PAL_MSG_READ,
                   T_PING = PAL_MSG_PING, T_FW = PAL_MSG_FW, T_NAK = PAL_MSG_NAK;
  // firmware commands whose OK reply counts as a kernel start (START, RUN)
  localparam [7:0] FW_START = PAL_FWMSG_START, FW_RUN = PAL_FWMSG_RUN;
  localparam [7:0] NAK_BAD_CRC = PAL_NAK_BAD_CRC, NAK_UNKNOWN_TYPE = PAL_NAK_UNKNOWN_TYPE,
                   NAK_BAD_LENGTH = PAL_NAK_BAD_LENGTH, NAK_BAD_ADDRESS = PAL_NAK_BAD_ADDRESS,
                   NAK_BAD_VERSION = PAL_NAK_BAD_VERSION, NAK_REFUSED = PAL_NAK_REFUSED,
                   NAK_FIRMWARE = PAL_NAK_FIRMWARE;
  localparam [2:0] SRC_NAK = 3'd0, SRC_ACK = 3'd1, SRC_INFO = 3'd2, SRC_BUF = 3'd3, SRC_RD = 3'd4;
  localparam [3:0] X_IDLE = 4'd0, X_DEC = 4'd1, X_WCHK = 4'd2, X_WR = 4'd3, X_START = 4'd4,
                   X_STREAM = 4'd5, X_FIN = 4'd6, X_FWIN = 4'd7, X_FWOUT = 4'd8;

  // ---- INFO reply (§4.1), a constant -------------------------------------------------
  function automatic [127:0] left_justify(input [127:0] s);
    integer k;
    reg [127:0] v;
    begin
      v = s;
      for (k = 0; k < 16; k = k + 1)
        if (v[127:120] == 8'd0) v = v << 8;
      left_justify = v;
    end
  endfunction
  localparam [127:0] NAME_LJ = left_justify(DEVICE_NAME);
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic [511:0] info_bytes(input integer dummy);
    reg [511:0] v;
    integer k;
    begin
      v = 512'd0;
      v[31:0] = PAL_PROTO_INFO_MAGIC;      // "PAL1"
      v[39:32] = PAL_PROTO_VERSION;
      v[47:40] = PAL_ISA_VERSION[7:0];
      v[63:48] = FLAGS[15:0];
      v[71:64] = R[7:0];
      v[79:72] = C[7:0];
      v[87:80] = ACC_UNITS[7:0];
      v[127:96] = IMEM_DEPTH;
      v[159:128] = ABUF_BLOCKS;
      v[191:160] = WMEM_BLOCKS;
      v[223:192] = ACC_DEPTH;
      v[255:224] = BIAS_DEPTH;
      v[287:256] = OBUF_DEPTH;
      v[319:288] = MAX_PAYLOAD;
      v[351:320] = CLOCK_HZ;
      v[383:352] = IDLE_BYTE_TIMES;
      for (k = 0; k < 16; k = k + 1) v[384 + 8 * k +: 8] = NAME_LJ[127 - 8 * k -: 8];
      info_bytes = v + {511'd0, dummy[0] & 1'b0};
    end
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */
  localparam [511:0] INFO = info_bytes(0);

  // ---- payload buffer ----------------------------------------------------------------
  // The project's RAM primitive (a RAM macro under synthesis: block RAM on
  // the FPGA, as the tile's memories).
  reg [BAW-1:0] ptr, ptr_nxt;
  wire [7:0] q;
  // The executor writes a firmware reply into the buffer (X_FWOUT) while
  // the receiver is stalled on the event, so the two writers never meet.
  // The read port runs every cycle beside the receiver's writes, so a
  // collision reads the old byte (OLD_WORD).
  wire           fw_we;
  wire [BAW-1:0] fw_waddr;
  wire [7:0]     fw_wdata;
  pal_tile_ram #(.DEPTH(1 << BAW), .WIDTH(8), .LANES(1), .OLD_WORD(1)) u_buf (
      .i_clk(i_clk), .i_re(1'b1), .i_raddr(ptr_nxt), .o_rdata(q),
      .i_we(i_buf_we | fw_we), .i_waddr(fw_we ? fw_waddr : i_buf_addr),
      .i_wdata(fw_we ? fw_wdata : i_buf_data));

  // ---- request fields and the address decode (pal_bus_decode) ------------------------
  wire [31:0] A = i_ev_addr;
  wire        is_write = i_ev_type == T_WRITE;
  wire [16:0] n = is_write ? {1'b0, i_ev_len} - 17'd4 : {1'b0, i_ev_rlen};
  localparam [32:0] B_IMEM = IMEM_DEPTH * 16, B_ABUF = ABUF_BLOCKS * 32, B_ASCALE = ABUF_BLOCKS * 1,
                    B_WMEM = WMEM_BLOCKS * 32, B_WSCALE = WMEM_BLOCKS * 1, B_ACC = ACC_DEPTH * 4,
                    B_NAR = ACC_DEPTH * 1, B_BIAS = BIAS_DEPTH * 4, B_OBUF = OBUF_DEPTH * 4;
  // the largest buffer in bytes, and the mask of its width: the bounds
  // check below compares in that width (a term with a bit above it is out
  // of bounds by itself), not in 33 bits
  function automatic [32:0] max33(input [32:0] a, input [32:0] b);
    max33 = a > b ? a : b;
  endfunction
  function automatic [32:0] mask33(input [32:0] k);
    integer b;
    begin
      mask33 = 33'd0;
      for (b = 0; b < 33; b = b + 1)
        if ((k >> b) != 33'd0) mask33[b] = 1'b1;
    end
  endfunction
  localparam [32:0] B_MAX = max33(max33(max33(B_IMEM, B_ABUF), max33(B_ASCALE, B_WMEM)),
                                  max33(max33(B_WSCALE, B_ACC), max33(max33(B_NAR, B_BIAS), B_OBUF)));
  localparam [32:0] B_MASK = mask33(B_MAX);
  localparam [31:0] PM1 = P - 1;
  localparam [7:0]  P8 = PM1[7:0];   // highest PE (P <= 256: pal_bus_check_geometry)
  localparam [1:0] K_NONE = 2'd0, K_REGS = 2'd1, K_LINK = 2'd2, K_MEM = 2'd3;
  localparam integer WC_SB = PAL_ADDR_WMEM_CODES_STRIDE_BITS, WS_SB = PAL_ADDR_WMEM_SCALES_STRIDE_BITS;
  // Every window but IMEM is an aligned power of two (pal_isagen refuses a
  // map where it is not), so the decode uses the generated pal_addr_in and
  // pal_addr_off: no 32-bit subtractions or comparisons.
  function automatic [32:0] low_bits(input [31:0] a, input integer bits);
    low_bits = {1'b0, pal_addr_off(a, bits)};
  endfunction
  // The register windows (TRW and LRW bits of offset): an access
  // [off, off + n) inside a run [lo, hi). An n at or above twice the
  // window's size is out by itself, so the end is added in the window's
  // width plus 2 bits, and the comparisons with the runs' constant bounds
  // are pal_cmp_le: logic, not carry chains as wide as the operands (each
  // chain cell a logic cell of its own on the iCE40).
  localparam integer TRW = PAL_ADDR_TILE_REGS_BITS, LRW = PAL_ADDR_LINK_REGS_BITS;
  wire [TRW-1:0] tr_off = A[TRW-1:0];
  wire [LRW-1:0] lr_off = A[LRW-1:0];
  wire [TRW+1:0] tr_end = {2'b00, tr_off} + n[TRW+1:0];
  wire [LRW+1:0] lr_end = {2'b00, lr_off} + n[LRW+1:0];
  wire           tr_n_ok = (n >> (TRW + 1)) == 17'd0;
  wire           lr_n_ok = (n >> (LRW + 1)) == 17'd0;
  localparam [31:0] RUN_LO0 = PAL_TILE_REGS_RUN0_LO - PAL_ADDR_TILE_REGS,
                    RUN_LO1 = PAL_TILE_REGS_RUN1_LO - PAL_ADDR_TILE_REGS,
                    RUN_LO2 = PAL_TILE_REGS_RUN2_LO - PAL_ADDR_TILE_REGS,
                    RUN_HI0 = PAL_TILE_REGS_RUN0_END - PAL_ADDR_TILE_REGS,
                    RUN_HI1 = PAL_TILE_REGS_RUN1_END - PAL_ADDR_TILE_REGS,
                    RUN_HI2 = PAL_TILE_REGS_RUN2_END - PAL_ADDR_TILE_REGS;
  // off >= lo is "not off <= lo - 1" (always, for lo = 0)
  wire [2:0] run_below, run_end_ok;
  wire       lr_end_ok;
  pal_cmp_le #(.W(TRW), .K(RUN_LO0[TRW-1:0] - 1'b1)) c_lo0 (.i_x(tr_off), .o_le(run_below[0]));
  pal_cmp_le #(.W(TRW), .K(RUN_LO1[TRW-1:0] - 1'b1)) c_lo1 (.i_x(tr_off), .o_le(run_below[1]));
  pal_cmp_le #(.W(TRW), .K(RUN_LO2[TRW-1:0] - 1'b1)) c_lo2 (.i_x(tr_off), .o_le(run_below[2]));
  pal_cmp_le #(.W(TRW + 2), .K(RUN_HI0[TRW+1:0])) c_hi0 (.i_x(tr_end), .o_le(run_end_ok[0]));
  pal_cmp_le #(.W(TRW + 2), .K(RUN_HI1[TRW+1:0])) c_hi1 (.i_x(tr_end), .o_le(run_end_ok[1]));
  pal_cmp_le #(.W(TRW + 2), .K(RUN_HI2[TRW+1:0])) c_hi2 (.i_x(tr_end), .o_le(run_end_ok[2]));
  pal_cmp_le #(.W(LRW + 2), .K(PAL_LINK_REGS_BYTES[LRW+1:0])) c_lhi (.i_x(lr_end), .o_le(lr_end_ok));
  wire [2:0] run_lo_ok = ~run_below | {RUN_LO2 == 32'd0, RUN_LO1 == 32'd0, RUN_LO0 == 32'd0};
  wire       tr_ok = tr_n_ok && |(run_lo_ok & run_end_ok);
  wire       lr_ok = lr_n_ok && lr_end_ok;
  // IMEM's window [PAL_ADDR_IMEM, PAL_ADDR_IMEM_END) is not an aligned
  // power of two, but it lies in one: the bits above IMW are zero, and
  // the comparison and the offset need only the bits above the base's
  // trailing zeros (a comparison or subtraction with a constant is a carry
  // chain as wide as its operand in Yosys' iCE40 mapping: 32 bits each way
  // otherwise)
  function automatic integer bits_of(input [31:0] k);  // ceil(log2(k))
    integer b;
    begin
      bits_of = 0;
      for (b = 0; b < 32; b = b + 1)
        if ((32'd1 << b) < k) bits_of = b + 1;
    end
  endfunction
  function automatic integer tz_of(input [31:0] k);  // trailing zeros
    integer b;
    begin
      tz_of = 32;
      for (b = 31; b >= 0; b = b - 1)
        if (k[b]) tz_of = b;
    end
  endfunction
  localparam integer IMW = bits_of(PAL_ADDR_IMEM_END);
  localparam integer ITZ = tz_of(PAL_ADDR_IMEM);
  localparam [31:0] IMEM_HI = PAL_ADDR_IMEM >> ITZ;
  localparam [31:0] IMEM_END_HI = PAL_ADDR_IMEM_END >> ITZ;
  localparam ITZ_END = (PAL_ADDR_IMEM_END & ((32'd1 << ITZ) - 32'd1)) == 32'd0;  // END shares them
  /* verilator lint_off UNUSEDSIGNAL */
  wire [31:0] a_hi = A >> ITZ;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [IMW-ITZ-1:0] a_imem = a_hi[IMW-ITZ-1:0];
  wire in_imem = (A >> IMW) == 32'd0 && a_imem >= IMEM_HI[IMW-ITZ-1:0] &&
                 (PAL_ADDR_IMEM_END == (32'd1 << IMW) ||
                  (ITZ_END ? a_imem < IMEM_END_HI[IMW-ITZ-1:0] : A < PAL_ADDR_IMEM_END));
  wire [IMW-ITZ-1:0] imem_off_hi = a_imem - IMEM_HI[IMW-ITZ-1:0];
  wire [32:0] imem_off = {{(33 - IMW) {1'b0}}, imem_off_hi, A[ITZ-1:0]};

  // the PE field of a WMEM address within the geometry, a READ's length
  // within the payload, a WRITE's length (logic, not carry chains:
  // pal_cmp_le)
  wire wc_pe_ok, ws_pe_ok, rlen_ok;
  pal_cmp_le #(.W(8), .K(P8)) c_wc_pe (.i_x(A[WC_SB +: 8]), .o_le(wc_pe_ok));
  pal_cmp_le #(.W(8), .K(P8)) c_ws_pe (.i_x(A[WS_SB +: 8]), .o_le(ws_pe_ok));
  pal_cmp_le #(.W(32), .K(MAX_PAYLOAD)) c_rlen (.i_x({16'd0, i_ev_rlen}), .o_le(rlen_ok));
  wire len_le4;  // a WRITE without a data byte
  pal_cmp_le #(.W(16), .K(16'd4)) c_wlen (.i_x(i_ev_len), .o_le(len_le4));

  // the tile port's placement of a WMEM access's PE (pal_tile: its bytes
  // per PE, powers of two)
  localparam integer WBW_T = $clog2(WMEM_BLOCKS);
  localparam integer WC_SHIFT = WBW_T + 5, WS_SHIFT = (WBW_T > 2) ? WBW_T : 2;
  reg [3:0]  dec_rg;       // the tile port's region (TILE_MAP)
  reg [27:0] dec_pe_base;  // a WMEM access's PE where the tile port has it (TILE_MAP)
  reg [1:0]  dec_kind;
  reg        dec_ok, dec_nar;
  reg [32:0] o33, bytes33;
  reg        es4;
  always @(*) begin
    dec_kind = K_MEM;
    dec_rg = PAL_TILE_PORT_RG_REGS;
    dec_pe_base = 28'd0;
    dec_nar = 1'b0;
    es4 = 1'b0;
    o33 = 33'd0;
    bytes33 = 33'd0;
    dec_ok = 1'b0;
    if (pal_addr_in(A, PAL_ADDR_TILE_REGS, PAL_ADDR_TILE_REGS_BITS)) begin
      dec_kind = K_REGS;
      dec_ok = A[1:0] == 2'd0 && n[1:0] == 2'd0 && tr_ok;
    end else if (LINK_COUNTERS != 0 && pal_addr_in(A, PAL_ADDR_LINK_REGS, PAL_ADDR_LINK_REGS_BITS)) begin
      dec_kind = K_LINK;
      dec_ok = A[1:0] == 2'd0 && n[1:0] == 2'd0 && lr_ok;
    end else begin
      if (in_imem) begin  // not a power of two: see in_imem
        dec_rg = PAL_TILE_PORT_RG_IMEM;
        o33 = imem_off;
        bytes33 = B_IMEM;
        es4 = 1'b1;
      end else if (pal_addr_in(A, PAL_ADDR_ABUF_CODES, PAL_ADDR_ABUF_CODES_BITS)) begin
        dec_rg = PAL_TILE_PORT_RG_ABUF_CODES;
        o33 = low_bits(A, PAL_ADDR_ABUF_CODES_BITS);
        bytes33 = B_ABUF;
      end else if (pal_addr_in(A, PAL_ADDR_ABUF_SCALES, PAL_ADDR_ABUF_SCALES_BITS)) begin
        dec_rg = PAL_TILE_PORT_RG_ABUF_SCALES;
        o33 = low_bits(A, PAL_ADDR_ABUF_SCALES_BITS);
        bytes33 = B_ASCALE;
      end else if (pal_addr_in(A, PAL_ADDR_WMEM_CODES, PAL_ADDR_WMEM_CODES_BITS)) begin
        // PE in the bits above the stride, the offset below
        dec_rg = PAL_TILE_PORT_RG_WMEM_CODES;
        dec_pe_base = {20'd0, A[WC_SB +: 8]} << WC_SHIFT;
        o33 = low_bits(A, WC_SB);
        bytes33 = wc_pe_ok ? B_WMEM : 33'd0;
      end else if (pal_addr_in(A, PAL_ADDR_WMEM_SCALES, PAL_ADDR_WMEM_SCALES_BITS)) begin
        dec_rg = PAL_TILE_PORT_RG_WMEM_SCALES;
        dec_pe_base = {20'd0, A[WS_SB +: 8]} << WS_SHIFT;
        o33 = low_bits(A, WS_SB);
        bytes33 = ws_pe_ok ? B_WSCALE : 33'd0;
      end else if (pal_addr_in(A, PAL_ADDR_ACC, PAL_ADDR_ACC_BITS)) begin
        dec_rg = PAL_TILE_PORT_RG_ACC;
        o33 = low_bits(A, PAL_ADDR_ACC_BITS);
        bytes33 = B_ACC;
        es4 = 1'b1;
      end else if (pal_addr_in(A, PAL_ADDR_ACC_NAR, PAL_ADDR_ACC_NAR_BITS)) begin
        dec_rg = PAL_TILE_PORT_RG_ACC_NAR;
        o33 = low_bits(A, PAL_ADDR_ACC_NAR_BITS);
        bytes33 = B_NAR;
        dec_nar = 1'b1;
      end else if (pal_addr_in(A, PAL_ADDR_BIAS, PAL_ADDR_BIAS_BITS)) begin
        dec_rg = PAL_TILE_PORT_RG_BIAS;
        o33 = low_bits(A, PAL_ADDR_BIAS_BITS);
        bytes33 = B_BIAS;
        es4 = 1'b1;
      end else if (pal_addr_in(A, PAL_ADDR_OBUF, PAL_ADDR_OBUF_BITS)) begin
        dec_rg = PAL_TILE_PORT_RG_OBUF;
        o33 = low_bits(A, PAL_ADDR_OBUF_BITS);
        bytes33 = B_OBUF;
        es4 = 1'b1;
      end else begin
        dec_kind = K_NONE;
      end
      dec_ok = dec_kind == K_MEM && ((o33 | {16'd0, n}) & ~B_MASK) == 33'd0 &&
               (o33 & B_MASK) + ({16'd0, n} & B_MASK) <= bytes33 &&
               (!es4 || (o33[1:0] == 2'd0 && n[1:0] == 2'd0));
    end
  end

  // ---- state -------------------------------------------------------------------------
  reg [3:0]  state;
  reg [2:0]  src;
  reg [7:0]  nak_reason;
  reg        have_last, last_was_write, last_was_fw;
  reg [7:0]  last_seq;
  reg        executed;            // the reply is not a NAK (the request counts as executed)
  // this cycle's events of {KERNEL_STARTS, WRITES_EXECUTED, DUP_WRITES,
  // NAKS_SENT, TX_FRAMES}, counted a cycle later
  reg [4:0]  ctr_ev;
  reg [16:0] rem;                 // data bytes of this access still to consume
  // An access never leaves an aligned block of 2^CW bytes, so the address
  // walk keeps the low CW bits and the bus address takes the rest from A,
  // which the receiver holds until the request is done. Every window but
  // IMEM's, and every PE's stride in the WMEM windows, is an aligned power
  // of two of at least the buffer it holds, and the checks above keep an
  // access inside the first B_* bytes of it (or inside a register window):
  // so inside an aligned block of the largest buffer's size, B_MAX, or of
  // a register window's. IMEM's window starts at an aligned 2^ITZ and
  // needs more bits only where IMEM is larger than that. These are the
  // device's real sizes, not the windows': on the iCEBreaker 12 bits where
  // the windows would take 20 (three registers and two incrementers of the
  // walk are that wide).
  function automatic integer imax(input integer a, input integer b);
    imax = a > b ? a : b;
  endfunction
  localparam integer CW = imax(imax(bits_of(B_MAX[31:0]), imax(TRW, LRW)),
                               B_IMEM > (33'd1 << ITZ) ? bits_of(PAL_ADDR_IMEM + B_IMEM[31:0]) : 0);
  reg [CW-1:0] ca;                // protocol address of the next byte (its low CW bits)
  reg [CW-1:0] bus_lo;            // the bus address's low CW bits
  localparam [CW-1:0] CW_ONE = 1, CW_FOUR = 4, CW_ONES = {CW{1'b1}};
  // TILE_MAP: the region and a WMEM access's PE, from the decode; the
  // offset in the region is bus_lo, but for the bits of a PE's or of
  // IMEM's place in the protocol's map that CW may take in (none on the
  // small boards: the masks and the subtraction are constants there)
  reg [3:0]  t_rg;
  reg [27:0] t_pe_base;
  reg        t_imem, t_wc, t_ws;
  localparam [CW-1:0] IMEM_LO = PAL_ADDR_IMEM[CW-1:0];
  localparam [CW-1:0] WC_MASK = (WC_SB >= CW) ? CW_ONES : CW_ONES >> (CW - WC_SB);
  localparam [CW-1:0] WS_MASK = (WS_SB >= CW) ? CW_ONES : CW_ONES >> (CW - WS_SB);
  wire [CW-1:0] t_off = t_imem ? bus_lo - IMEM_LO : bus_lo & (t_wc ? WC_MASK : t_ws ? WS_MASK : CW_ONES);
  assign o_bus_addr = TILE_MAP != 0 ? {t_rg, t_pe_base | {{(28 - CW) {1'b0}}, t_off}} : {A[31:CW], bus_lo};
  reg        kind_link, kind_nar, kind_regs;
  reg [23:0] pack;                // bytes of the word being assembled
  reg [2:0]  pstrb;
  // READ: a queue of READ_WORDS words in front of the reply stream, so the
  // next word is fetched while the current one goes out
  reg [31:0] w0, w1;              // w0: the word the next byte comes from (w1: READ_WORDS = 2)
  reg [1:0]  wcnt;
  reg [CW-1:0] fw_addr;           // next word to fetch (its low CW bits)
  reg [15:0] fw_left;             // words still to fetch
  // firmware reply: words taken from the mailbox into the payload buffer
  reg [31:0] fw_word;             // the word being written, a byte a cycle
  reg [2:0]  fw_bytes;            // bytes of fw_word still to write
  reg [16:0] fw_words;            // reply words still to take (header included)
  reg        fw_have_hdr;
  reg [16:0] fw_wpos;             // next buffer byte
  reg [15:0] fw_len;              // reply length in bytes, capped at MAX_PAYLOAD
  reg [1:0]  fw_nth;              // words taken so far, saturating at 2 (1: the status word next)
  localparam [31:0] MAXP32 = MAX_PAYLOAD;
  // A firmware that halted or stopped answering is given up on until the
  // SoC is reset (fw_dead): a late reply, or a request the core read only
  // in part, would otherwise put the mailbox out of step with the frames.
  localparam integer TW = $clog2(FW_TIMEOUT + 1);
  localparam [TW-1:0] FW_TIMEOUT_W = FW_TIMEOUT[TW-1:0];
  reg          fw_dead;
  reg          fw_replay;         // this FW request is a retransmission: replay marker
  reg          fw_first;          // the next word to the mailbox is the header
  reg [TW-1:0] fw_wait;           // cycles of this exchange without progress
  localparam [16:0] MAXP17 = MAXP32[16:0];

  assign o_ev_done = state == X_FIN;
  assign o_tx_start = state == X_START;
  assign o_tx_seq = i_ev_seq;
  assign o_nak = state != X_IDLE && o_tx_type == T_NAK;

  // The firmware states exist only with a control core: synthesis cannot
  // tell that nothing enters them otherwise, so the states say so (about
  // 250 logic cells of the iCE40 build without a core).
  reg [31:0] mb_req_data;
  assign o_mb_req_data = FIRMWARE != 0 ? mb_req_data : 32'd0;
  wire in_fwin = FIRMWARE != 0 && state == X_FWIN;
  wire in_fwout = FIRMWARE != 0 && state == X_FWOUT;

  wire [1:0] lane = ca[1:0];
  // counted down: "bytes remain" and "the last byte" are tests of rem
  // against constants (an up count needs comparators with the length);
  // the length itself is n, from the request the receiver holds
  wire [16:0] rem_dec = rem - 17'd1;
  wire       last = rem == 17'd1;
  wire       bus_free = !o_bus_valid || i_bus_ready;
  wire       dup_write = have_last && last_was_write && last_seq == i_ev_seq;
  wire [31:0] word_now = {q, pack};  // lane 3 completes a word

  // The ten §5.1 counters, in the order of their registers: a counter bank
  // (low 8 bits in flip-flops, the upper 24 in a block RAM; pal_tile_ctrs). A
  // READ of them asks the bank for one word at a time (lk_rd: a request
  // out, its word not yet pushed), like a bus read.
  reg         lk_rd;
  wire        lk_req, lk_busy;
  wire [31:0] ctr;
  generate
    if (LINK_COUNTERS != 0) begin : g_ctrs
      pal_tile_ctrs #(
          .N (10),
          .W (32),
          .IW(1)
      ) ctrs (
          .i_clk    (i_clk),
          .i_clear  (i_rst),
          .i_inc    ({ctr_ev, i_rx_ctr_ev}),
          .i_rd_req (lk_req),
          .i_rd_idx (fw_addr[5:2]),
          .o_rd_busy(lk_busy),
          .o_value  (ctr)
      );
    end else begin : g_no_ctrs
      // nothing reads them: kind_link is never set
      assign {lk_busy, ctr} = 33'd0;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_ctrs = &{1'b0, ctr_ev, i_rx_ctr_ev, lk_req};
      /* verilator lint_on UNUSEDSIGNAL */
    end
  endgenerate

  // INFO's 64 bytes in a block RAM that the bitstream initialises, read
  // like the payload buffer (the byte at ptr): as a 64:1 multiplexer of
  // constants it was about 50 LUT4 of the iCE40 build (docs/boards.md)
  (* ram_style = "block" *) reg [7:0] info_rom [0:63];
  integer ik;
  initial
    for (ik = 0; ik < 64; ik = ik + 1) info_rom[ik] = INFO[8 * ik +: 8];
  reg [7:0] info_q;
  always @(posedge i_clk) info_q <= info_rom[ptr_nxt[5:0]];

  // reply payload
  always @(*) begin
    case (src)
      SRC_NAK: o_pl_data = nak_reason;
      // the address is the request's first four payload bytes, still in
      // the buffer (streamed from byte 0 like a PONG), then the data length
      SRC_ACK: o_pl_data = !ptr[2] ? q : ptr[0] ? n[15:8] : n[7:0];
      SRC_INFO: o_pl_data = info_q;
      SRC_BUF: o_pl_data = q;
      default: o_pl_data = w0[8 * ca[1:0] +: 8];
    endcase
  end
  assign o_pl_valid = state == X_STREAM && (src != SRC_RD || wcnt != 2'd0);
  wire pull = o_pl_valid && i_pl_ready;
  /* verilator lint_off UNUSEDSIGNAL */
  wire [17:0] n_words = ({16'd0, A[1:0]} + {1'b0, n} + 18'd3) >> 2;  // READs: n <= 4096
  /* verilator lint_on UNUSEDSIGNAL */
  // READ word queue traffic (X_STREAM)
  wire        rd_pop = pull && src == SRC_RD && (ca[1:0] == 2'd3 || last);
  // fetch ahead: one read in flight at most, so a word that arrives always
  // finds room
  localparam [1:0] RDQ = READ_WORDS == 1 ? 2'd1 : 2'd2;
  // (with one word: a fetch whenever the queue is empty and bytes remain)
  wire        rd_more = RDQ == 2'd1 ? wcnt == 2'd0 && rem != 17'd0 : fw_left != 16'd0 && wcnt != RDQ;
  wire        rd_fetch = state == X_STREAM && src == SRC_RD && rd_more &&
                         (kind_link ? !lk_rd : !o_bus_valid);
  assign      lk_req = rd_fetch && kind_link;
  wire        rd_push = state == X_STREAM && src == SRC_RD &&
                        (kind_link ? lk_rd && !lk_busy : o_bus_valid && !o_bus_we && i_bus_ready);
  wire [31:0] rd_word = kind_link ? ctr : i_bus_rdata;

  // register writes: writable offsets and refused values (pal_bus.c write_regs)
  wire [7:0] woff = {ca[7:2], 2'b00};
  wire w_writable = woff == PAL_TILE_REG_CONTROL || woff == PAL_TILE_REG_START_PC ||
                    woff == PAL_TILE_REG_CLIP_LO || woff == PAL_TILE_REG_CLIP_HI;
  localparam [31:0] CONTROL_BITS = (32'd1 << PAL_TILE_CONTROL_START_BIT) |
                                  (32'd1 << PAL_TILE_CONTROL_RESET_BIT);
  wire w_refused = (woff == PAL_TILE_REG_CONTROL &&
                    ((word_now & ~CONTROL_BITS) != 32'd0 ||
                     (word_now[PAL_TILE_CONTROL_START_BIT] && !word_now[PAL_TILE_CONTROL_RESET_BIT] &&
                      i_tile_busy))) ||
                   (woff == PAL_TILE_REG_START_PC && word_now[31:16] != 16'd0);

  // write engine: consume the byte at ptr when its word can go
  wire wr_consume = state == X_WR && rem != 17'd0 && ((lane != 2'd3 && !last) || bus_free);
  // firmware request: bytes into words, a word to the mailbox when it can take it
  wire mb_free = !o_mb_req_valid || i_mb_req_ready;
  // (a FW message is whole words: byte 4j + 3 is the one with rem[1:0] == 1)
  wire fw_consume = in_fwin && rem != 17'd0 && (rem[1:0] != 2'd1 || mb_free);
  // firmware reply: a word is taken when the previous one is in the buffer
  assign o_mb_resp_ready = in_fwout && fw_bytes == 3'd0 && fw_words != 17'd0;
  wire fw_take = o_mb_resp_ready && i_mb_resp_valid;
  wire [18:0] fw_hdr_bytes = ({3'd0, i_mb_resp_data[31:16]} + 19'd1) << 2;  // header + N words
  assign fw_we = in_fwout && fw_bytes != 3'd0 && fw_wpos < MAXP17;
  assign fw_waddr = fw_wpos[BAW-1:0];
  assign fw_wdata = fw_word[7:0];

  always @(*) begin
    ptr_nxt = ptr;
    if (state == X_WCHK || wr_consume || fw_consume ||
        (state == X_STREAM && (src == SRC_BUF || src == SRC_ACK || src == SRC_INFO) && pull))
      ptr_nxt = ptr + 1'b1;  // (ptr is the byte index of an ACK's or INFO's payload too)
    // the ACK of a WRITE done or of a duplicate streams from byte 0
    if (state == X_WR && rem == 17'd0) ptr_nxt = 0;
    if (in_fwout) ptr_nxt = 0;  // the reply is streamed from byte 0
    if (state == X_DEC) ptr_nxt = (is_write && i_ev_kind == EV_OK && !dup_write) ? 4 : 0;
    if (state == X_WCHK && (last || (kind_regs && lane == 2'd3 && (!w_writable || w_refused))))
      ptr_nxt = 4;
  end

  task automatic reply(input [7:0] typ, input [15:0] ln, input [2:0] s, input ok);
    begin
      o_tx_type <= typ;
      o_tx_len <= ln;
      src <= s;
      executed <= ok;
      state <= X_START;
    end
  endtask
  task automatic nak(input [7:0] why);
    begin
      nak_reason <= why;
      reply(T_NAK, 16'd1, SRC_NAK, 1'b0);
    end
  endtask

  always @(posedge i_clk) begin
    ctr_ev <= 5'd0;
    ptr <= ptr_nxt;
    if (i_rst) begin
      state <= X_IDLE;
      have_last <= 1'b0;
      last_was_write <= 1'b0;
      last_was_fw <= 1'b0;
      o_mb_req_valid <= 1'b0;

      last_seq <= 8'd0;
      o_bus_valid <= 1'b0;
      o_tx_type <= 8'd0;
      lk_rd <= 1'b0;
      wcnt <= 2'd0;
      fw_dead <= 1'b0;
      fw_replay <= 1'b0;
    end else begin
      if (o_bus_valid && i_bus_ready) o_bus_valid <= 1'b0;
      if (o_mb_req_valid && i_mb_req_ready) o_mb_req_valid <= 1'b0;
      case (state)
        X_IDLE:
          if (i_ev_valid) state <= X_DEC;
        X_DEC: begin
          rem <= n;
          ca <= A[CW-1:0];
          kind_link <= LINK_COUNTERS != 0 && dec_kind == K_LINK;
          kind_regs <= dec_kind == K_REGS;
          kind_nar <= dec_nar;
          t_rg <= dec_rg;
          t_pe_base <= dec_pe_base;
          t_imem <= dec_rg == PAL_TILE_PORT_RG_IMEM;
          t_wc <= dec_rg == PAL_TILE_PORT_RG_WMEM_CODES;
          t_ws <= dec_rg == PAL_TILE_PORT_RG_WMEM_SCALES;
          pstrb <= 3'd0;
          wcnt <= 2'd0;
          fw_addr <= {A[CW-1:2], 2'b00};
          fw_left <= n_words[15:0];
          if (i_ev_kind == EV_BAD_VER) nak(NAK_BAD_VERSION);
          else if (i_ev_kind == EV_OVERSIZE) nak(NAK_BAD_LENGTH);
          else if (i_ev_kind != EV_OK) nak(NAK_BAD_CRC);
          else case (i_ev_type)
            T_INFO:
              if (i_ev_len != 16'd0) nak(NAK_BAD_LENGTH);
              else reply(PAL_MSG_INFO_REPLY, 16'd64, SRC_INFO, 1'b1);
            T_PING: reply(PAL_MSG_PONG, i_ev_len, SRC_BUF, 1'b1);
            T_WRITE:
              if (len_le4) nak(NAK_BAD_LENGTH);
              else if (dup_write) begin
                ctr_ev[2] <= 1'b1;
                reply(PAL_MSG_WRITE_ACK, 16'd6, SRC_ACK, 1'b1);
              end else if (!dec_ok || dec_kind == K_LINK) nak(NAK_BAD_ADDRESS);
              else if (dec_kind == K_MEM && i_tile_busy) nak(NAK_REFUSED);
              else if (dec_kind == K_REGS || dec_nar) state <= X_WCHK;
              else state <= X_WR;
            T_READ:
              if (i_ev_len != 16'd6 || i_ev_rlen == 16'd0 || !rlen_ok)
                nak(NAK_BAD_LENGTH);
              else if (!dec_ok) nak(NAK_BAD_ADDRESS);
              else if (dec_kind == K_MEM && i_tile_busy) nak(NAK_REFUSED);
              else reply(PAL_MSG_READ_REPLY, i_ev_rlen, SRC_RD, 1'b1);
            T_FW:
              // a whole message: header word + its payload words (§4.2)
              if (FIRMWARE == 0) nak(NAK_UNKNOWN_TYPE);
              else if (i_ev_len == 16'd0 || i_ev_len[1:0] != 2'd0 ||
                       {2'b00, A[31:16]} != {4'd0, i_ev_len[15:2]} - 18'd1)
                nak(NAK_BAD_LENGTH);
              else if (fw_dead || i_fw_halted)
                nak(NAK_FIRMWARE);
              else begin
                // a retransmission (the command ran, its reply was lost)
                // goes to the firmware marked for a replay of that reply
                fw_replay <= have_last && last_was_fw && last_seq == i_ev_seq;
                rem <= {1'b0, i_ev_len};
                fw_first <= 1'b1;
                fw_wait <= {TW{1'b0}};
                state <= X_FWIN;
              end
            default: nak(NAK_UNKNOWN_TYPE);
          endcase
        end
        X_WCHK: begin
          // every byte checked before the first bus write (q = byte at ptr)
          rem <= rem_dec;
          ca <= ca + CW_ONE;
          pack <= {q, pack[23:8]};
          if (kind_nar && |q[7:1]) nak(NAK_REFUSED);  // a flag byte is 0 or 1
          else if (kind_regs && lane == 2'd3 && !w_writable) nak(NAK_BAD_ADDRESS);
          else if (kind_regs && lane == 2'd3 && w_refused) nak(NAK_REFUSED);
          else if (last) begin
            rem <= n;
            ca <= A[CW-1:0];
            state <= X_WR;
          end
        end
        X_WR: begin
          if (wr_consume) begin
            rem <= rem_dec;
            ca <= ca + CW_ONE;
            if (lane == 2'd3 || last) begin
              o_bus_valid <= 1'b1;
              o_bus_we <= 1'b1;
              bus_lo <= {ca[CW-1:2], 2'b00};
              o_bus_wdata <= word_now >> {3'd3 - {1'b0, lane}, 3'b000};
              o_bus_wstrb <= ({1'b1, pstrb} >> (3 - lane)) | (4'd1 << lane);
              pstrb <= 3'd0;
              if (kind_regs && {ca[7:2], 2'b00} == PAL_TILE_REG_CONTROL &&
                  word_now[PAL_TILE_CONTROL_START_BIT])
                ctr_ev[4] <= 1'b1;
            end else begin
              pack <= {q, pack[23:8]};
              pstrb <= {1'b1, pstrb[2:1]};
            end
          end else if (rem == 17'd0 && bus_free) begin
            ctr_ev[3] <= 1'b1;
            ca <= A[CW-1:0];
            reply(PAL_MSG_WRITE_ACK, 16'd6, SRC_ACK, 1'b1);
          end
        end
        X_FWIN: if (FIRMWARE != 0) begin
          // q = byte at ptr; lane 3 completes a word for the mailbox
          fw_wait <= fw_consume ? {TW{1'b0}} : fw_wait + 1'b1;
          if (i_fw_halted || fw_wait == FW_TIMEOUT_W) begin
            fw_dead <= 1'b1;
            o_mb_req_valid <= 1'b0;
            nak(NAK_FIRMWARE);
          end else if (fw_consume) begin
            rem <= rem_dec;
            if (rem[1:0] == 2'd1) begin
              o_mb_req_valid <= 1'b1;
              fw_first <= 1'b0;
              // header word: bit 7 marks a replay (commands are 0x01..0x7F)
              mb_req_data <= word_now | {24'd0, fw_first && fw_replay, 7'd0};
            end else begin
              pack <= {q, pack[23:8]};
            end
          end else if (rem == 17'd0 && mb_free) begin
            fw_bytes <= 3'd0;
            fw_words <= 17'd1;
            fw_have_hdr <= 1'b0;
            fw_wpos <= 17'd0;
            fw_nth <= 2'd0;
            fw_wait <= {TW{1'b0}};
            state <= X_FWOUT;
          end
        end
        X_FWOUT: if (FIRMWARE != 0) begin
          fw_wait <= fw_take ? {TW{1'b0}} : fw_wait + 1'b1;
          if ((i_fw_halted && !i_mb_resp_valid && (!fw_have_hdr || fw_words != 17'd0)) ||
              fw_wait == FW_TIMEOUT_W) begin
            // halted with words of the reply missing and none waiting: they never come
            fw_dead <= 1'b1;
            nak(NAK_FIRMWARE);
          end else if (fw_take) begin
            fw_word <= i_mb_resp_data;
            fw_bytes <= 3'd4;
            if (!fw_have_hdr) begin
              fw_have_hdr <= 1'b1;
              fw_words <= {1'b0, i_mb_resp_data[31:16]};
              fw_len <= fw_hdr_bytes > {2'b00, MAXP17} ? MAXP17[15:0] : fw_hdr_bytes[15:0];
            end else begin
              fw_words <= fw_words - 17'd1;
            end
            if (fw_nth != 2'd2) fw_nth <= fw_nth + 2'd1;
            if (fw_nth == 2'd1 && i_mb_resp_data == 32'd0 && !fw_replay &&
                (A[7:0] == FW_START || A[7:0] == FW_RUN))
              ctr_ev[4] <= 1'b1;
          end else if (fw_bytes != 3'd0) begin
            fw_word <= fw_word >> 8;
            fw_bytes <= fw_bytes - 3'd1;
            fw_wpos <= fw_wpos + 17'd1;
          end else if (fw_have_hdr && fw_words == 17'd0) begin
            reply(PAL_MSG_FW_REPLY, fw_len, SRC_BUF, 1'b1);
          end
        end
        X_START:
          if (i_tx_idle) state <= X_STREAM;
        X_STREAM: begin
          if (pull && src == SRC_RD) begin
            ca <= ca + CW_ONE;
            rem <= rem_dec;
          end
          if (src == SRC_RD) begin
            // the word queue: pop when its last byte goes, push what arrives
            // (one word: a word arrives only into an empty queue)
            if (RDQ == 2'd1) begin
              if (rd_push) w0 <= rd_word;
              wcnt <= wcnt + {1'b0, rd_push} - {1'b0, rd_pop};
            end else
            case ({rd_push, rd_pop})
              2'b01: begin
                w0 <= w1;
                wcnt <= wcnt - 2'd1;
              end
              2'b10: begin
                if (wcnt == 2'd0) w0 <= rd_word;
                else w1 <= rd_word;
                wcnt <= wcnt + 2'd1;
              end
              2'b11: begin
                if (wcnt == 2'd1) w0 <= rd_word;
                else begin
                  w0 <= w1;
                  w1 <= rd_word;
                end
              end
              default: ;
            endcase
            if (rd_push && kind_link) lk_rd <= 1'b0;
            if (rd_fetch) begin
              if (kind_link) lk_rd <= 1'b1;
              fw_addr <= fw_addr + CW_FOUR;
              fw_left <= fw_left - 16'd1;
              if (!kind_link) begin
                o_bus_valid <= 1'b1;
                o_bus_we <= 1'b0;
                bus_lo <= fw_addr;
                o_bus_wstrb <= 4'hF;
              end
            end
          end
          if (i_tx_done) state <= X_FIN;
        end
        default: begin  // X_FIN: the reply has gone; count it, release the receiver
          ctr_ev[0] <= 1'b1;
          if (!executed) ctr_ev[1] <= 1'b1;
          if (executed) begin
            have_last <= 1'b1;
            last_was_write <= i_ev_type == T_WRITE;
            last_was_fw <= i_ev_type == T_FW;
            last_seq <= i_ev_seq;
          end
          state <= X_IDLE;
        end
      endcase
    end
  end
endmodule
