`default_nettype none
// Register file of the control core: 32 x 32 bit, one synchronous read port
// and one write port so Yosys maps it onto a single iCE40 EBR; the core
// reads rs1 and rs2 in consecutive cycles. x0 reads as zero because the
// RAM starts zeroed (block RAM initial contents, also in simulation) and x0
// is never written; that saves the 32-bit output mux a read-side check
// would cost.
module pal_rv_regfile (
    input  wire        i_clk,
    input  wire [4:0]  i_raddr,
    output wire [31:0] o_rdata,     // regs[i_raddr] of the previous cycle
    input  wire        i_we,
    input  wire [4:0]  i_waddr,
    input  wire [31:0] i_wdata
);
    reg [31:0] regs [0:31];
    reg [31:0] rdata;
    integer i;

    initial begin
        for (i = 0; i < 32; i = i + 1)
            regs[i] = 32'b0;
    end

    always @(posedge i_clk) begin
        if (i_we && i_waddr != 5'd0)
            regs[i_waddr] <= i_wdata;
        rdata <= regs[i_raddr];
    end

    assign o_rdata = rdata;
endmodule
