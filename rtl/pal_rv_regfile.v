`default_nettype none
// Register file of the control core: 32 x 32 bit, one synchronous read port
// and one write port so Yosys maps it onto a single iCE40 EBR; the core
// reads rs1 and rs2 in consecutive cycles. x0 reads as zero because the
// RAM starts zeroed (block RAM initial contents, also in simulation) and x0
// is never written; that saves the 32-bit output mux a read-side check
// would cost.
//
// A read of the register written in the same cycle happens (pal_rv_core
// writes rd in S_EXEC while rs2 is on the read port), but its result is
// never used: every state that writes is followed by S_FETCH or S_HALT,
// which do not look at the read data of the cycle before. So the file
// promises Yosys nothing about such a collision (no_rw_check); otherwise
// Yosys delays every write by a cycle and forwards it (the iCE40 EBR
// leaves the collision undefined), which is 71 flip-flops and 39 LUT4 here.
// Simulation returns a poison word on a collision, so a core that ever
// used one would fail the QEMU comparison (tests/rv32).
module pal_rv_regfile (
    input  wire        i_clk,
    input  wire [4:0]  i_raddr,
    output wire [31:0] o_rdata,     // regs[i_raddr] of the previous cycle
    input  wire        i_we,
    input  wire [4:0]  i_waddr,
    input  wire [31:0] i_wdata
);
    (* no_rw_check *)
    reg [31:0] regs [0:31];
    reg [31:0] rdata;
    integer i;
`ifndef SYNTHESIS
    localparam [31:0] POISON = 32'hdead_beef;
`endif

    initial begin
        for (i = 0; i < 32; i = i + 1)
            regs[i] = 32'b0;
    end

    always @(posedge i_clk) begin
        if (i_we && i_waddr != 5'd0)
            regs[i_waddr] <= i_wdata;
`ifdef SYNTHESIS
        rdata <= regs[i_raddr];
`else
        rdata <= (i_we && i_waddr != 5'd0 && i_waddr == i_raddr) ? POISON : regs[i_raddr];
`endif
    end

    assign o_rdata = rdata;
endmodule
