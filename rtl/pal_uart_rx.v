// UART receiver, 8N1, CLKS_PER_BIT clocks per bit: the pin goes through a
// two-flop synchroniser; a falling edge starts a frame, the start bit is
// checked at its middle and every later bit sampled at its middle. A byte
// whose stop bit is low (framing error, or a break) is dropped and counted,
// and the receiver waits for the line to go high before it hunts again.
`default_nettype none

module pal_uart_rx #(
    parameter integer CLKS_PER_BIT = 4
) (
    input  wire       i_clk,
    input  wire       i_rst,
    input  wire       i_rx,
    output reg        o_valid,         // one cycle per byte received
    output reg  [7:0] o_data,
    output reg [15:0] o_framing_errors
);
  localparam integer CW = $clog2(CLKS_PER_BIT + 1);
  localparam [31:0] LAST32 = CLKS_PER_BIT - 1;
  localparam [CW-1:0] LAST = LAST32[CW-1:0];
  localparam [31:0] HALF32 = (CLKS_PER_BIT - 1) / 2;
  localparam [CW-1:0] HALF = HALF32[CW-1:0];
  localparam [1:0] S_IDLE = 2'd0, S_START = 2'd1, S_DATA = 2'd2, S_STOP = 2'd3;

  reg        sync1, sync2, prev;
  reg [1:0]  state;
  reg [CW-1:0] cnt;
  reg [2:0]  nbit;
  reg [7:0]  shift;
  reg        broken;           // after a framing error: wait for the line to go high

  always @(posedge i_clk) begin
    sync1 <= i_rx;
    sync2 <= sync1;
    prev <= sync2;
    o_valid <= 1'b0;
    if (i_rst) begin
      sync1 <= 1'b1;
      sync2 <= 1'b1;
      prev <= 1'b1;
      state <= S_IDLE;
      broken <= 1'b0;
      o_framing_errors <= 16'd0;
    end else begin
      case (state)
        S_IDLE:
          if (broken) begin
            if (sync2) broken <= 1'b0;
          end else if (prev && !sync2) begin
            // falling edge: the middle of the start bit is HALF cycles on
            state <= S_START;
            cnt <= HALF;
          end
        S_START:
          if (cnt != {CW{1'b0}}) cnt <= cnt - 1'b1;
          else if (sync2) state <= S_IDLE;          // a glitch, not a start bit
          else begin
            state <= S_DATA;
            cnt <= LAST;
            nbit <= 3'd0;
          end
        S_DATA:
          if (cnt != {CW{1'b0}}) cnt <= cnt - 1'b1;
          else begin
            shift <= {sync2, shift[7:1]};
            nbit <= nbit + 3'd1;
            cnt <= LAST;
            if (nbit == 3'd7) state <= S_STOP;
          end
        default:
          if (cnt != {CW{1'b0}}) cnt <= cnt - 1'b1;
          else begin
            state <= S_IDLE;
            if (sync2) begin
              o_valid <= 1'b1;
              o_data <= shift;
            end else begin
              o_framing_errors <= o_framing_errors + 16'd1;
              broken <= 1'b1;
            end
          end
      endcase
    end
  end
endmodule
