// The link engine's reply framer (docs/protocol.md §2): SYNC, TYPE, SEQ,
// LEN, VER 1, HCRC, the payload pulled from the executor's byte stream,
// then the CRC-32, little endian. One byte per cycle on a valid/ready
// output; o_done pulses when the last byte has been handed on, so the
// executor counts the frame as sent only then (a READ of TX_FRAMES does
// not include its own reply, §5.1). The executor holds i_type, i_seq and
// i_len from i_start until o_done, so the framer reads them where they are
// instead of keeping copies (each a logic cell of its own on the iCE40).
`default_nettype none

module pal_link_tx (
    input  wire        i_clk,
    input  wire        i_rst,
    input  wire        i_start,       // only while o_idle; type/seq/len held until o_done
    input  wire [7:0]  i_type,
    input  wire [7:0]  i_seq,
    input  wire [15:0] i_len,
    output wire        o_idle,
    input  wire        i_pl_valid,    // payload bytes, exactly len of them
    input  wire [7:0]  i_pl_data,
    output wire        o_pl_ready,
    output reg         o_valid,
    output reg  [7:0]  o_data,
    input  wire        i_ready,
    output reg         o_done
);
  localparam [1:0] T_IDLE = 2'd0, T_HDR = 2'd1, T_PL = 2'd2, T_CRC = 2'd3;
  reg [1:0]  state;
  reg [2:0]  hi;          // header byte index
  reg [15:0] n;           // payload bytes left
  reg [1:0]  ci;          // CRC byte index
  reg [7:0]  crc8;
  reg [31:0] crc32;

  wire slot = !o_valid || i_ready;   // the output register can take a byte
  assign o_idle = state == T_IDLE;
  assign o_pl_ready = state == T_PL && slot;

  reg [7:0] hbyte;
  always @(*) begin
    case (hi)
      3'd0: hbyte = 8'hA5;
      3'd1: hbyte = i_type;
      3'd2: hbyte = i_seq;
      3'd3: hbyte = i_len[7:0];
      3'd4: hbyte = i_len[15:8];
      3'd5: hbyte = 8'd1;
      default: hbyte = crc8;
    endcase
  end
  wire [7:0] cbyte = state == T_PL ? i_pl_data : hbyte;
  wire [7:0] crc8_next;
  wire [31:0] crc32_next;
  pal_link_crc8  u_crc8 (.i_crc(crc8), .i_byte(cbyte), .o_crc(crc8_next));
  pal_link_crc32 u_crc32 (.i_crc(crc32), .i_byte(cbyte), .o_crc(crc32_next));
  wire [31:0] crc_out = ~crc32;

  always @(posedge i_clk) begin
    o_done <= 1'b0;
    if (i_ready) o_valid <= 1'b0;
    if (i_rst) begin
      state <= T_IDLE;
      o_valid <= 1'b0;
    end else begin
      case (state)
        T_IDLE:
          if (i_start) begin
            n <= i_len;
            hi <= 3'd0;
            crc8 <= 8'd0;
            crc32 <= 32'hFFFFFFFF;
            state <= T_HDR;
          end
        T_HDR:
          if (slot) begin
            o_valid <= 1'b1;
            o_data <= hbyte;
            if (hi >= 3'd1 && hi <= 3'd5) begin
              crc8 <= crc8_next;
              crc32 <= crc32_next;
            end
            hi <= hi + 3'd1;
            if (hi == 3'd6) begin
              ci <= 2'd0;
              state <= n == 16'd0 ? T_CRC : T_PL;
            end
          end
        T_PL:
          if (slot && i_pl_valid) begin
            o_valid <= 1'b1;
            o_data <= i_pl_data;
            crc32 <= crc32_next;
            n <= n - 16'd1;
            if (n == 16'd1) begin
              ci <= 2'd0;
              state <= T_CRC;
            end
          end
        default:
          if (slot) begin
            o_valid <= 1'b1;
            o_data <= crc_out[8*ci+:8];
            ci <= ci + 2'd1;
            if (ci == 2'd3) begin
              state <= T_IDLE;
              o_done <= 1'b1;
            end
          end
      endcase
    end
  end
endmodule
