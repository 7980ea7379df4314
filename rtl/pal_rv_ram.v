`default_nettype none
// Block RAM of the control core (IMEM or DMEM): WORDS x 32 bit, byte
// strobes, registered read, so Yosys maps it onto iCE40 EBRs. INIT_FILE is
// a $readmemh image (the firmware, built under build/, never committed);
// empty means no initial contents.
//
// A write cycle reads nothing (o_rdata keeps its word; the core ignores
// the read data of a store), so a read and a write never meet in a cycle
// and the RAM promises Yosys nothing about them (no_rw_check). Without
// that, Yosys keeps a read-before-write copy of every write (data,
// strobes, address: about 80 flip-flops and 40 LUT4 per RAM on the iCE40,
// whose EBR leaves the collision undefined).
module pal_rv_ram #(
    parameter integer WORDS = 1024,
    parameter integer AW = 10,            // address bits, 2^AW >= WORDS
    parameter INIT_FILE = ""
) (
    input  wire          i_clk,
    input  wire          i_en,
    input  wire [AW-1:0] i_addr,          // word index
    input  wire [3:0]    i_wstrb,
    input  wire [31:0]   i_wdata,
    output reg  [31:0]   o_rdata
);
    (* no_rw_check *)
    reg [31:0] mem [0:WORDS-1];

    generate
        if (INIT_FILE != "") begin : g_init
            initial $readmemh(INIT_FILE, mem);
        end
    endgenerate

    always @(posedge i_clk) begin
        if (i_en) begin
            if (i_wstrb[0]) mem[i_addr][7:0]   <= i_wdata[7:0];
            if (i_wstrb[1]) mem[i_addr][15:8]  <= i_wdata[15:8];
            if (i_wstrb[2]) mem[i_addr][23:16] <= i_wdata[23:16];
            if (i_wstrb[3]) mem[i_addr][31:24] <= i_wdata[31:24];
            if (i_wstrb == 4'b0000) o_rdata <= mem[i_addr];
        end
    end
endmodule
