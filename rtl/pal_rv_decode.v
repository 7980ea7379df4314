`default_nettype none
// RV32I instruction decoder of the control core: splits one instruction into
// the class flags, register numbers and the sign-extended immediate the
// multi-cycle core needs. Pure combinational; anything outside CSR-free
// RV32I (CSRs, MRET, WFI, compressed, M/A/F) is flagged illegal so the core
// halts instead of guessing.
module pal_rv_decode (
    input  wire [31:0] i_instr,
    output wire        o_lui,
    output wire        o_auipc,
    output wire        o_jal,
    output wire        o_jalr,
    output wire        o_branch,
    output wire        o_load,
    output wire        o_store,
    output wire        o_opimm,
    output wire        o_op,
    output wire        o_fence,
    output wire        o_ecall,
    output wire        o_ebreak,
    output wire        o_illegal,
    output wire        o_shift,     // SLL/SRL/SRA and their immediate forms
    output wire        o_sub,       // ALU subtracts: SUB, SLT(I)(U), branches
    output wire        o_arith,     // SRA/SRAI (and SUB, unused there)
    output wire [2:0]  o_funct3,
    output wire [4:0]  o_rd,
    output wire [4:0]  o_rs1,
    output wire [4:0]  o_rs2,
    output reg  [31:0] o_imm
);
    wire [6:0] opcode = i_instr[6:0];
    wire [2:0] f3 = i_instr[14:12];
    wire [6:0] f7 = i_instr[31:25];

    wire is_lui    = opcode == 7'b0110111;
    wire is_auipc  = opcode == 7'b0010111;
    wire is_jal    = opcode == 7'b1101111;
    wire is_jalr   = opcode == 7'b1100111 && f3 == 3'b000;
    wire is_branch = opcode == 7'b1100011 && f3[2:1] != 2'b01;
    wire is_load   = opcode == 7'b0000011 && (f3 == 3'b000 || f3 == 3'b001 || f3 == 3'b010 ||
                                              f3 == 3'b100 || f3 == 3'b101);
    wire is_store  = opcode == 7'b0100011 && (f3 == 3'b000 || f3 == 3'b001 || f3 == 3'b010);
    // OP-IMM: the shift-immediates carry funct7 in imm[11:5].
    wire opimm_op  = opcode == 7'b0010011;
    wire is_opimm  = opimm_op && (f3 == 3'b001 ? f7 == 7'b0000000 :
                                  f3 == 3'b101 ? (f7 == 7'b0000000 || f7 == 7'b0100000) : 1'b1);
    wire op_op     = opcode == 7'b0110011;
    wire is_op     = op_op && (f7 == 7'b0000000 ||
                               (f7 == 7'b0100000 && (f3 == 3'b000 || f3 == 3'b101)));
    // FENCE and FENCE.I are no-ops: one hart, no caches, memory is in order.
    wire is_fence  = opcode == 7'b0001111 && (f3 == 3'b000 || f3 == 3'b001);
    wire is_ecall  = i_instr == 32'h00000073;
    wire is_ebreak = i_instr == 32'h00100073;

    assign o_lui    = is_lui;
    assign o_auipc  = is_auipc;
    assign o_jal    = is_jal;
    assign o_jalr   = is_jalr;
    assign o_branch = is_branch;
    assign o_load   = is_load;
    assign o_store  = is_store;
    assign o_opimm  = is_opimm;
    assign o_op     = is_op;
    assign o_fence  = is_fence;
    assign o_ecall  = is_ecall;
    assign o_ebreak = is_ebreak;
    assign o_illegal = !(is_lui | is_auipc | is_jal | is_jalr | is_branch | is_load | is_store |
                         is_opimm | is_op | is_fence | is_ecall | is_ebreak);
    assign o_shift  = (is_opimm | is_op) && f3[1:0] == 2'b01;
    assign o_sub    = is_branch || ((is_opimm | is_op) && f3[2:1] == 2'b01) ||
                      (is_op && f3 == 3'b000 && f7[5]);
    assign o_arith  = f7[5];
    assign o_funct3 = f3;
    assign o_rd     = i_instr[11:7];
    assign o_rs1    = i_instr[19:15];
    assign o_rs2    = i_instr[24:20];

    always @(*) begin
        if (is_lui || is_auipc)
            o_imm = {i_instr[31:12], 12'b0};
        else if (is_jal)
            o_imm = {{12{i_instr[31]}}, i_instr[19:12], i_instr[20], i_instr[30:21], 1'b0};
        else if (is_branch)
            o_imm = {{20{i_instr[31]}}, i_instr[7], i_instr[30:25], i_instr[11:8], 1'b0};
        else if (is_store)
            o_imm = {{21{i_instr[31]}}, i_instr[30:25], i_instr[11:7]};
        else
            o_imm = {{21{i_instr[31]}}, i_instr[30:20]};
    end
endmodule
