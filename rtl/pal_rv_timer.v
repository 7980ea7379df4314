`default_nettype none
// Cycle timer of the control core: one free-running 32-bit counter, read at
// offset 0x0 (writes set it). The firmware's watchdog and latency figures
// compare differences of it (wrap-safe), so no compare/interrupt logic is
// spent: the core has no interrupts and polls.
module pal_rv_timer #(
    parameter integer WRITABLE = 1    // 0: writes are ignored (no load path)
) (
    input  wire        i_clk,
    input  wire        i_rst,
    input  wire        i_valid,
    input  wire [3:0]  i_wstrb,
    input  wire [31:0] i_wdata,
    output wire        o_ready,
    output wire [31:0] o_rdata
);
    reg [31:0] count;
    reg        ack;

    always @(posedge i_clk) begin
        if (i_rst) begin
            count <= 32'd0;
            ack   <= 1'b0;
        end else begin
            ack <= i_valid && !ack;
            if (WRITABLE != 0 && i_valid && !ack && i_wstrb == 4'b1111)
                count <= i_wdata;
            else
                count <= count + 32'd1;
        end
    end

    // the count of the cycle that answers (a copy taken the cycle before
    // would be 32 flip-flops for a value one cycle older)
    assign o_ready = ack;
    assign o_rdata = count;
endmodule
