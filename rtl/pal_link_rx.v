// The link engine's receiver (docs/protocol.md §2.1, mirroring
// pal_frame_parser_push in driver/pal_protocol.c): hunt for SYNC, take the
// six header bytes, check HCRC, then VER and LEN, collect LEN payload bytes
// into the payload buffer (written through o_buf_*) and the CRC-32. Every
// outcome that needs an answer is an event held on o_ev_* until the
// executor says i_ev_done; no byte is taken meanwhile, so replies come out
// in the order of the requests, as from the C model.
//
// A header with a bad HCRC is dropped and its six bytes after the SYNC are
// replayed through the same byte logic (input stalled), which is exactly
// the C parser's rescan: bytes before the next SYNC count as discarded and
// a SYNC among them starts the next candidate.
`default_nettype none

module pal_link_rx #(
    parameter integer MAX_PAYLOAD = 4096,
    parameter integer BAW = 12,            // payload buffer address bits
    parameter [31:0]  IDLE_CYCLES = 4096   // silence that drops a partial frame
) (
    input  wire           i_clk,
    input  wire           i_rst,
    input  wire           i_valid,
    input  wire [7:0]     i_data,
    output wire           o_ready,
    // payload buffer write port
    output reg            o_buf_we,
    output reg  [BAW-1:0] o_buf_addr,
    output reg  [7:0]     o_buf_data,
    // event: 0 frame OK, 1 bad version, 2 oversize LEN, 3 bad CRC-32
    output wire           o_ev_valid,
    output reg  [1:0]     o_ev_kind,
    output wire [7:0]     o_ev_type,
    output wire [7:0]     o_ev_seq,
    output wire [15:0]    o_ev_len,
    output reg  [31:0]    o_ev_addr,       // payload bytes 0..3 (WRITE/READ address)
    output reg  [15:0]    o_ev_rlen,       // payload bytes 4..5 (READ length)
    input  wire           i_ev_done,
    // what the §5.1 counters count, a cycle after it happened (the
    // executor keeps them): {DISCARDED, IDLE_RESETS, BAD_CRC, BAD_HCRC,
    // RX_FRAMES}
    output reg  [4:0]     o_ctr_ev
);
  localparam [1:0] EV_OK = 2'd0, EV_BAD_VER = 2'd1, EV_OVERSIZE = 2'd2, EV_BAD_CRC = 2'd3;
  localparam [7:0] SYNC = 8'hA5;
  // CRC-32 IEEE 802.3 (reflected, before the final xor) after a frame's
  // bytes and then its own CRC, least significant byte first
  localparam [31:0] CRC32_RESIDUE = 32'hDEBB20E3;

  reg        waiting;            // an event is out
  reg  [2:0] hdr_n;              // header bytes taken after the SYNC (0: hunting)
  reg        hunting_sync;       // hdr_n == 0 means "have SYNC?": this bit says a SYNC is held
  reg        in_body;
  reg [BAW-1:0] body_n;          // payload bytes taken (the buffer address; LEN <= MAX_PAYLOAD)
  reg [15:0] pl_left;            // payload bytes still to come
  reg [1:0]  crc_n;              // CRC-32 bytes taken
  reg [7:0]  hb [1:6];           // TYPE SEQ LENL LENH VER HCRC
  reg [7:0]  crc8;
  reg [31:0] crc32;
  reg [2:0]  replay_n;           // header bytes 1..6 being replayed: hb[7 - replay_n] next
  // cycles since the last byte, saturating at IDLE_CYCLES (all the idle
  // check needs; a 32-bit count costs twice the logic cells)
  function automatic integer bits_for(input [31:0] v);  // at least 1
    integer b;
    begin
      bits_for = 1;
      for (b = 1; b < 32; b = b + 1)
        if ((v >> b) != 32'd0) bits_for = b + 1;
    end
  endfunction
  localparam integer SLW = bits_for(IDLE_CYCLES);
  localparam [SLW-1:0] IDLE_SL = IDLE_CYCLES[SLW-1:0];
  reg [SLW-1:0] silence;

  assign o_ready = !waiting && replay_n == 3'd0 && !i_rst;
  assign o_ev_valid = waiting;

  wire        take_in = i_valid && o_ready;
  wire        have = take_in || replay_n != 3'd0;
  // A replayed byte comes from hb itself: a SYNC among them starts a
  // header whose bytes go to hb[1..], behind the ones still to replay.
  // While an event is out no byte is taken, so hb holds its fields.
  reg  [7:0]  replay_b;
  always @* begin
    case (replay_n)
      3'd6: replay_b = hb[1];
      3'd5: replay_b = hb[2];
      3'd4: replay_b = hb[3];
      3'd3: replay_b = hb[4];
      3'd2: replay_b = hb[5];
      default: replay_b = hb[6];
    endcase
  end
  wire [7:0]  b = replay_n != 3'd0 ? replay_b : i_data;
  assign o_ev_type = hb[1];
  assign o_ev_seq = hb[2];
  assign o_ev_len = {hb[4], hb[3]};

  wire [7:0]  crc8_next;
  wire [31:0] crc32_next;
  pal_link_crc8  u_crc8 (.i_crc(crc8), .i_byte(b), .o_crc(crc8_next));
  pal_link_crc32 u_crc32 (.i_crc(crc32), .i_byte(b), .o_crc(crc32_next));

  wire [15:0] len = {hb[4], hb[3]};
  wire        len_ok;  // LEN <= MAX_PAYLOAD
  pal_cmp_le #(.W(32), .K(MAX_PAYLOAD)) c_len (.i_x({16'd0, len}), .o_le(len_ok));
  wire        busy = hunting_sync || in_body;   // a frame has begun

  always @(posedge i_clk) begin
    o_buf_we <= 1'b0;
    o_ctr_ev <= 5'd0;
    if (i_rst) begin
      waiting <= 1'b0;
      hdr_n <= 3'd0;
      hunting_sync <= 1'b0;
      in_body <= 1'b0;
      replay_n <= 3'd0;
      silence <= {SLW{1'b0}};
    end else begin
      if (i_ev_done) waiting <= 1'b0;
      if (take_in) silence <= {SLW{1'b0}};
      else if (silence != IDLE_SL) silence <= silence + 1'b1;
      if (replay_n != 3'd0) replay_n <= replay_n - 3'd1;

      if (have) begin
        if (in_body) begin
          // counted down, not compared with LEN: a 16-bit comparison is a
          // carry chain of its own on the iCE40
          if (pl_left != 16'd0) begin
            body_n <= body_n + 1'b1;
            pl_left <= pl_left - 16'd1;
            crc32 <= crc32_next;
            o_buf_we <= 1'b1;
            o_buf_addr <= body_n;
            o_buf_data <= b;
            if (body_n[BAW-1:3] == 0 && body_n[2:1] != 2'b11)  // < 6, without a carry chain
              case (body_n[2:0])
                3'd0: o_ev_addr[7:0] <= b;
                3'd1: o_ev_addr[15:8] <= b;
                3'd2: o_ev_addr[23:16] <= b;
                3'd3: o_ev_addr[31:24] <= b;
                3'd4: o_ev_rlen[7:0] <= b;
                default: o_ev_rlen[15:8] <= b;
              endcase
          end else if (crc_n != 2'd3) begin
            crc_n <= crc_n + 2'd1;
            crc32 <= crc32_next;
          end else begin
            // the last CRC byte: the frame is complete. The register runs
            // on through the received CRC-32 (least significant byte
            // first) and ends at the CRC's residue exactly when it matches
            // the one computed (the last four bytes map one to one onto
            // the register), so the bytes need not be kept: a 24-bit
            // register and a 32-bit comparison of two values fewer.
            in_body <= 1'b0;
            hunting_sync <= 1'b0;
            hdr_n <= 3'd0;
            waiting <= 1'b1;
            if (crc32_next == CRC32_RESIDUE) begin
              o_ev_kind <= EV_OK;
              o_ctr_ev[0] <= 1'b1;
            end else begin
              o_ev_kind <= EV_BAD_CRC;
              o_ctr_ev[2] <= 1'b1;
            end
          end
        end else if (!hunting_sync) begin
          if (b == SYNC) begin
            hunting_sync <= 1'b1;
            hdr_n <= 3'd0;
            crc8 <= 8'd0;
            crc32 <= 32'hFFFFFFFF;
          end else begin
            o_ctr_ev[4] <= 1'b1;
          end
        end else if (hdr_n < 3'd5) begin
          // TYPE, SEQ, LEN low, LEN high, VER
          hb[hdr_n + 3'd1] <= b;
          hdr_n <= hdr_n + 3'd1;
          crc8 <= crc8_next;
          crc32 <= crc32_next;
        end else begin
          // HCRC
          hb[6] <= b;
          hdr_n <= 3'd0;
          if (b != crc8) begin
            // dropped silently; rescan the six bytes after the SYNC
            o_ctr_ev[1] <= 1'b1;
            hunting_sync <= 1'b0;
            replay_n <= 3'd6;
          end else if (hb[5] != 8'd1 || !len_ok) begin
            // answered at once; what follows cannot be trusted to be a payload
            hunting_sync <= 1'b0;
            waiting <= 1'b1;
            o_ev_kind <= hb[5] != 8'd1 ? EV_BAD_VER : EV_OVERSIZE;
          end else begin
            in_body <= 1'b1;
            body_n <= {BAW{1'b0}};
            pl_left <= len;
            crc_n <= 2'd0;
          end
        end
      end else if (silence == IDLE_SL && busy && !waiting && replay_n == 3'd0) begin
        // the idle timeout drops a partial frame
        hunting_sync <= 1'b0;
        in_body <= 1'b0;
        hdr_n <= 3'd0;
        o_ctr_ev[3] <= 1'b1;
      end
    end
  end
endmodule
