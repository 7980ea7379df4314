`default_nettype none
// PAL control core: a small multi-cycle RV32I (no CSRs, no interrupts) for
// the device's command firmware. One shared memory port (valid/ready, byte
// strobes) for fetch and data, register file in one EBR, bit-serial shifts:
// the aim is few iCE40 logic cells, not speed. Cycles per instruction with a
// one-cycle-latency memory: 4 for ALU/branch/jump, 5 for loads/stores,
// 4 + shift amount for shifts.
//
// ECALL, EBREAK, an illegal instruction, a misaligned load/store and a
// misaligned jump target stop the core in the HALT state with o_halted set,
// o_halt_cause saying why and o_halt_pc the instruction's address; nothing
// of that instruction is executed. i_resume continues at o_halt_pc + 4
// (the test harness emulates ECALL system calls this way). While halted,
// i_dbg_reg selects a register shown on o_dbg_data one cycle later.
module pal_rv_core #(
    parameter [31:0] RESET_PC = 32'h0000_0000
) (
    input  wire        i_clk,
    input  wire        i_rst,
    // memory bus: request held until i_mem_ready (one cycle, with read data)
    output wire        o_mem_valid,
    output wire [31:0] o_mem_addr,      // byte address, word aligned
    output wire [31:0] o_mem_wdata,
    output wire [3:0]  o_mem_wstrb,     // 0 = read
    output wire        o_mem_fetch,     // request is an instruction fetch
    input  wire        i_mem_ready,
    input  wire [31:0] i_mem_rdata,
    // halt / debug
    output wire        o_halted,
    output wire [2:0]  o_halt_cause,
    output wire [31:0] o_halt_pc,
    input  wire        i_resume,
    input  wire [4:0]  i_dbg_reg,
    output wire [31:0] o_dbg_data
);
    localparam [2:0] CAUSE_EBREAK     = 3'd1;
    localparam [2:0] CAUSE_ECALL      = 3'd2;
    localparam [2:0] CAUSE_ILLEGAL    = 3'd3;
    localparam [2:0] CAUSE_MISALIGNED = 3'd4;  // load/store address
    localparam [2:0] CAUSE_JUMP       = 3'd5;  // jump/branch target not word aligned

    localparam [2:0] S_FETCH = 3'd0;  // read instruction; rs1 read starts on ready
    localparam [2:0] S_RS2   = 3'd1;  // rs1 arrives, rs2 read starts
    localparam [2:0] S_EXEC  = 3'd2;  // rs2 arrives; execute, write back, next pc
    localparam [2:0] S_SHIFT = 3'd3;  // serial shift running
    localparam [2:0] S_MEM   = 3'd4;  // load/store bus access
    localparam [2:0] S_HALT  = 3'd5;

    reg [2:0]  state;
    reg [31:0] pc;
    reg [31:0] instr;
    reg [31:0] rs1_val;
    reg [3:0]  mem_wstrb;
    reg [2:0]  cause;

    // ---- decode ------------------------------------------------------------
    wire d_lui, d_auipc, d_jal, d_jalr, d_branch, d_load, d_store, d_opimm, d_op;
    wire d_fence, d_ecall, d_ebreak, d_illegal, d_shift, d_sub, d_arith;
    wire [2:0]  d_f3;
    wire [4:0]  d_rd, d_rs1, d_rs2;
    wire [31:0] d_imm;
    pal_rv_decode u_decode (
        .i_instr(instr), .o_lui(d_lui), .o_auipc(d_auipc), .o_jal(d_jal), .o_jalr(d_jalr),
        .o_branch(d_branch), .o_load(d_load), .o_store(d_store), .o_opimm(d_opimm), .o_op(d_op),
        .o_fence(d_fence), .o_ecall(d_ecall), .o_ebreak(d_ebreak), .o_illegal(d_illegal),
        .o_shift(d_shift), .o_sub(d_sub), .o_arith(d_arith), .o_funct3(d_f3),
        .o_rd(d_rd), .o_rs1(d_rs1), .o_rs2(d_rs2), .o_imm(d_imm)
    );

    // ---- register file -------------------------------------------------------
    reg  [4:0]  rf_raddr;
    wire [31:0] rf_rdata;
    reg         rf_we;
    reg  [31:0] rf_wdata;
    // LUI reads x0 as rs1 (its rs1 field is immediate bits), so the ALU's
    // x0 + imm is its result and the write-back needs no immediate input.
    wire f_lui = i_mem_rdata[6:0] == 7'b0110111;
    always @(*) begin
        case (state)
            S_FETCH: rf_raddr = f_lui ? 5'd0 : i_mem_rdata[19:15];
            S_HALT:  rf_raddr = i_dbg_reg;
            default: rf_raddr = d_rs2;
        endcase
    end
    pal_rv_regfile u_regfile (
        .i_clk(i_clk), .i_raddr(rf_raddr), .o_rdata(rf_rdata),
        .i_we(rf_we), .i_waddr(d_rd), .i_wdata(rf_wdata)
    );
    // rs2 arrives in S_EXEC and stays on the read port through S_MEM (the
    // address is unchanged and nothing writes the file in between), so the
    // store data needs no register of its own.
    wire [31:0] rs2_val = rf_rdata;

    // ---- ALU, shifter, load/store lanes -------------------------------------
    wire        use_rs2 = d_op | d_branch;
    wire [31:0] alu_b = use_rs2 ? rs2_val : d_imm;
    wire [31:0] alu_result;
    wire        alu_eq, alu_lt, alu_ltu;
    pal_rv_alu u_alu (
        .i_a(rs1_val), .i_b(alu_b), .i_funct3((d_op | d_opimm) ? d_f3 : 3'b000), .i_sub(d_sub),
        .o_result(alu_result), .o_eq(alu_eq), .o_lt(alu_lt), .o_ltu(alu_ltu)
    );

    // A shift runs in rs1_val itself, one position per S_SHIFT cycle
    // (nothing else reads rs1_val until the next instruction loads it).
    wire        sh_done;
    wire [31:0] sh_next;
    pal_rv_shift u_shift (
        .i_clk(i_clk), .i_rst(i_rst), .i_start(state == S_EXEC && d_shift),
        .i_amount(alu_b[4:0]), .i_value(rs1_val), .i_right(d_f3[2]), .i_arith(d_arith),
        .o_done(sh_done), .o_next(sh_next)
    );

    wire        lsu_misaligned;
    wire [3:0]  lsu_wstrb;
    wire [31:0] lsu_wdata, lsu_load;
    pal_rv_lsu u_lsu (
        .i_funct3(d_f3), .i_addr_lo(alu_result[1:0]),
        .i_store_data(rs2_val), .i_bus_rdata(i_mem_rdata),
        .o_misaligned(lsu_misaligned), .o_wstrb(lsu_wstrb), .o_wdata(lsu_wdata),
        .o_load_data(lsu_load)
    );

    // ---- next pc ---------------------------------------------------------------
    wire [31:0] pc_plus4 = pc + 32'd4;
    wire [31:0] pc_imm   = pc + d_imm;
    reg         taken;
    always @(*) begin
        case (d_f3)
            3'b000:  taken = alu_eq;
            3'b001:  taken = !alu_eq;
            3'b100:  taken = alu_lt;
            3'b101:  taken = !alu_lt;
            3'b110:  taken = alu_ltu;
            default: taken = !alu_ltu;
        endcase
    end
    wire [31:0] next_pc = d_jal || (d_branch && taken) ? pc_imm :
                          d_jalr ? {alu_result[31:1], 1'b0} : pc_plus4;

    // ---- write-back value ------------------------------------------------------
    always @(*) begin
        rf_we = 1'b0;
        rf_wdata = alu_result;
        case (state)
            S_EXEC: begin
                rf_we = !d_illegal && !(next_pc[1] || next_pc[0]) &&
                        (d_lui | d_auipc | d_jal | d_jalr | ((d_op | d_opimm) & !d_shift));
                rf_wdata = d_auipc ? pc_imm : (d_jal | d_jalr) ? pc_plus4 : alu_result;
            end
            S_SHIFT: begin
                rf_we = sh_done;
                rf_wdata = rs1_val;
            end
            S_MEM: begin
                rf_we = i_mem_ready && d_load;
                rf_wdata = lsu_load;
            end
            default: ;
        endcase
    end

    // ---- state machine ------------------------------------------------------------
    always @(posedge i_clk) begin
        if (i_rst) begin
            state <= S_FETCH;
            pc    <= RESET_PC;
            cause <= 3'd0;
        end else begin
            case (state)
                S_FETCH: if (i_mem_ready) begin
                    instr <= i_mem_rdata;
                    state <= S_RS2;
                end
                S_RS2: begin
                    rs1_val <= rf_rdata;
                    state   <= S_EXEC;
                end
                S_EXEC: begin
                    mem_wstrb <= d_store ? lsu_wstrb : 4'b0000;
                    if (d_illegal) begin
                        cause <= CAUSE_ILLEGAL;
                        state <= S_HALT;
                    end else if (d_ecall || d_ebreak) begin
                        cause <= d_ecall ? CAUSE_ECALL : CAUSE_EBREAK;
                        state <= S_HALT;
                    end else if ((d_load || d_store) && lsu_misaligned) begin
                        cause <= CAUSE_MISALIGNED;
                        state <= S_HALT;
                    end else if (next_pc[1:0] != 2'b00) begin
                        cause <= CAUSE_JUMP;
                        state <= S_HALT;
                    end else if (d_load || d_store) begin
                        state <= S_MEM;
                    end else if (d_shift) begin
                        state <= S_SHIFT;
                    end else begin
                        pc    <= next_pc;
                        state <= S_FETCH;
                    end
                end
                S_SHIFT: if (sh_done) begin
                    pc    <= pc_plus4;
                    state <= S_FETCH;
                end else begin
                    rs1_val <= sh_next;
                end
                S_MEM: if (i_mem_ready) begin
                    pc    <= pc_plus4;
                    state <= S_FETCH;
                end
                S_HALT: if (i_resume) begin
                    pc    <= pc_plus4;
                    cause <= 3'd0;
                    state <= S_FETCH;
                end
                default: state <= S_FETCH;
            endcase
        end
    end

    assign o_mem_valid  = state == S_FETCH || state == S_MEM;
    // In S_MEM the ALU still adds rs1 (latched) and the immediate: the
    // load/store address needs no register either.
    assign o_mem_addr   = state == S_FETCH ? pc : {alu_result[31:2], 2'b00};
    assign o_mem_wdata  = lsu_wdata;
    assign o_mem_wstrb  = state == S_MEM ? mem_wstrb : 4'b0000;
    assign o_mem_fetch  = state == S_FETCH;
    assign o_halted     = state == S_HALT;
    assign o_halt_cause = cause;
    assign o_halt_pc    = pc;
    assign o_dbg_data   = rf_rdata;
    wire unused = &{1'b0, d_fence, d_rs1};
endmodule
