`default_nettype none
// Mailbox between the link engine and the control core: one 32-bit holding
// register each way with a valid flag (valid/ready on the link side, polled
// registers on the core side). Messages are sequences of words
// (docs/control-core.md §4); one word in flight each way is enough because
// the core drains far faster than a UART fills.
//
// Core-side registers (word offsets of the mailbox window):
//   0x0 STATUS  r  bit 0 RX_VALID: a request word waits in RX_DATA
//                  bit 1 TX_FREE:  TX_DATA can take a reply word
//   0x4 RX_DATA r  the request word; reading it frees the register
//                  (reading it while RX_VALID is 0 returns a stale word
//                  and changes nothing)
//   0x8 TX_DATA w  a reply word; written while TX_FREE is 0 it is dropped
//                  (the firmware checks STATUS first)
//
// Reads answer the cycle after the access with STATUS as it was at the
// access (two flip-flops) and RX_DATA as it is: the word cannot change in
// the answering cycle (a word that a read frees is replaced at its end at
// the earliest), so no 32-bit copy of it is registered.
module pal_rv_mailbox (
    input  wire        i_clk,
    input  wire        i_rst,
    // core bus
    input  wire        i_valid,
    input  wire [3:2]  i_addr,
    input  wire [3:0]  i_wstrb,
    input  wire [31:0] i_wdata,
    output wire        o_ready,
    output wire [31:0] o_rdata,
    // link side: requests in, replies out
    input  wire        i_req_valid,
    input  wire [31:0] i_req_data,
    output wire        o_req_ready,
    output wire        o_resp_valid,
    output wire [31:0] o_resp_data,
    input  wire        i_resp_ready
);
    reg        rx_valid;
    reg [31:0] rx_data;
    reg        tx_valid;
    reg [31:0] tx_data;
    reg        ack;
    reg [1:0]  rsel;   // the register the access reads
    reg [1:0]  status; // STATUS at the access

    wire access = i_valid && !ack;
    wire rd_rx  = access && i_wstrb == 4'b0000 && i_addr == 2'd1;
    wire wr_tx  = access && i_wstrb != 4'b0000 && i_addr == 2'd2;

    always @(posedge i_clk) begin
        if (i_rst) begin
            rx_valid <= 1'b0;
            tx_valid <= 1'b0;
            ack      <= 1'b0;
        end else begin
            ack <= access;
            if (rd_rx && rx_valid)
                rx_valid <= 1'b0;
            else if (i_req_valid && !rx_valid)
                rx_valid <= 1'b1;
            if (wr_tx && !tx_valid)
                tx_valid <= 1'b1;
            else if (tx_valid && i_resp_ready)
                tx_valid <= 1'b0;
        end
        if (i_req_valid && !rx_valid)
            rx_data <= i_req_data;
        if (wr_tx && !tx_valid)
            tx_data <= i_wdata;
        if (access) begin
            rsel   <= i_addr;
            status <= {!tx_valid, rx_valid};
        end
    end

    assign o_rdata = rsel == 2'd0 ? {30'b0, status} :
                     rsel == 2'd1 ? rx_data : 32'b0;

    assign o_ready      = ack;
    assign o_req_ready  = !rx_valid;
    assign o_resp_valid = tx_valid;
    assign o_resp_data  = tx_data;
endmodule
