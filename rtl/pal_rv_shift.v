`default_nettype none
// Bit-serial shifter of the control core: SLL/SRL/SRA one position per
// cycle (0..31 cycles). A barrel shifter would cost ~160 LUTs on the
// iCE40; firmware shifts are rare, so the core trades cycles for cells.
module pal_rv_shift (
    input  wire        i_clk,
    input  wire        i_rst,
    input  wire        i_start,     // load value and amount (one cycle)
    input  wire [31:0] i_value,
    input  wire [4:0]  i_amount,
    input  wire        i_right,
    input  wire        i_arith,
    output wire        o_done,      // result valid (also right after start with amount 0)
    output wire [31:0] o_result
);
    reg [31:0] value;
    reg [4:0]  count;
    reg        right;
    reg        arith;

    always @(posedge i_clk) begin
        if (i_rst) begin
            count <= 5'd0;
        end else if (i_start) begin
            value <= i_value;
            count <= i_amount;
            right <= i_right;
            arith <= i_arith;
        end else if (count != 5'd0) begin
            value <= right ? {arith & value[31], value[31:1]} : {value[30:0], 1'b0};
            count <= count - 5'd1;
        end
    end

    assign o_done   = count == 5'd0;
    assign o_result = value;
endmodule
