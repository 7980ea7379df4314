`default_nettype none
// Bit-serial shifter of the control core: SLL/SRL/SRA one position per
// cycle (0..31 cycles). A barrel shifter would cost ~160 LUTs on the
// iCE40; firmware shifts are rare, so the core trades cycles for cells.
// The word being shifted is the core's rs1 register (it holds nothing else
// during a shift), so this unit is only the count and the one-position
// step: a 32-bit register of its own would be 32 more flip-flops.
module pal_rv_shift (
    input  wire        i_clk,
    input  wire        i_rst,
    input  wire        i_start,     // load the amount (one cycle)
    input  wire [4:0]  i_amount,
    input  wire [31:0] i_value,     // the word as shifted so far
    input  wire        i_right,     // held through the shift
    input  wire        i_arith,     // held through the shift
    output wire        o_done,      // no position left (also right after start with amount 0)
    output wire [31:0] o_next       // i_value shifted by one position
);
    reg [4:0] count;

    always @(posedge i_clk) begin
        if (i_rst) count <= 5'd0;
        else if (i_start) count <= i_amount;
        else if (count != 5'd0) count <= count - 5'd1;
    end

    assign o_done = count == 5'd0;
    assign o_next = i_right ? {i_arith & i_value[31], i_value[31:1]} : {i_value[30:0], 1'b0};
endmodule
