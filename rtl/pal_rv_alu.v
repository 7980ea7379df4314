`default_nettype none
// ALU of the control core, without shifts (pal_rv_shift does those one bit
// per cycle to save logic cells). One adder serves ADD/SUB, the set-less-than
// ops, the branch comparisons and address generation.
module pal_rv_alu (
    input  wire [31:0] i_a,
    input  wire [31:0] i_b,
    input  wire [2:0]  i_funct3,   // RV32I OP funct3; 000 for address adds
    input  wire        i_sub,      // subtract (SUB, SLT*, branches)
    output reg  [31:0] o_result,
    output wire        o_eq,        // a == b when i_sub is set
    output wire        o_lt,
    output wire        o_ltu
);
    wire [31:0] b_in = i_sub ? ~i_b : i_b;
    wire [32:0] sum  = {1'b0, i_a} + {1'b0, b_in} + {32'b0, i_sub};

    // for branches (i_sub = 1): a - b is zero exactly when a == b, and a
    // zero test of the sum is half the LUTs of a 32-bit comparator
    assign o_eq  = sum[31:0] == 32'd0;
    // a - b borrows exactly when a < b unsigned (carry out is 0).
    assign o_ltu = !sum[32];
    assign o_lt  = (i_a[31] != i_b[31]) ? i_a[31] : sum[31];

    always @(*) begin
        case (i_funct3)
            3'b010:  o_result = {31'b0, o_lt};
            3'b011:  o_result = {31'b0, o_ltu};
            3'b100:  o_result = i_a ^ i_b;
            3'b110:  o_result = i_a | i_b;
            3'b111:  o_result = i_a & i_b;
            default: o_result = sum[31:0];   // 000 add/sub; shifts never use this
        endcase
    end
endmodule
