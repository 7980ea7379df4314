`default_nettype none
// Load/store lane logic of the control core: byte enables and replicated
// store data, sign/zero extension of loads, and the alignment check. The
// bus is 32-bit word addressed with byte strobes; a halfword must not cross
// a word (addr[0] == 0), a word must be aligned (addr[1:0] == 0). Anything
// else is reported as misaligned and the core halts (no trap handler exists).
module pal_rv_lsu (
    input  wire [2:0]  i_funct3,     // LB LH LW LBU LHU / SB SH SW
    input  wire [1:0]  i_addr_lo,
    input  wire [31:0] i_store_data,
    input  wire [31:0] i_bus_rdata,
    output wire        o_misaligned,
    output reg  [3:0]  o_wstrb,
    output wire [31:0] o_wdata,
    output reg  [31:0] o_load_data
);
    wire [1:0] size = i_funct3[1:0];   // 0 byte, 1 half, 2 word

    assign o_misaligned = (size == 2'd1 && i_addr_lo[0]) || (size == 2'd2 && i_addr_lo != 2'b00);
    assign o_wdata = size == 2'd0 ? {4{i_store_data[7:0]}} :
                     size == 2'd1 ? {2{i_store_data[15:0]}} : i_store_data;

    always @(*) begin
        case (size)
            2'd0:    o_wstrb = 4'b0001 << i_addr_lo;
            2'd1:    o_wstrb = i_addr_lo[1] ? 4'b1100 : 4'b0011;
            default: o_wstrb = 4'b1111;
        endcase
    end

    wire [15:0] half  = i_addr_lo[1] ? i_bus_rdata[31:16] : i_bus_rdata[15:0];
    wire [7:0]  byte_ = i_addr_lo[0] ? half[15:8] : half[7:0];
    always @(*) begin
        case (i_funct3)
            3'b000:  o_load_data = {{24{byte_[7]}}, byte_};
            3'b001:  o_load_data = {{16{half[15]}}, half};
            3'b100:  o_load_data = {24'b0, byte_};
            3'b101:  o_load_data = {16'b0, half};
            default: o_load_data = i_bus_rdata;
        endcase
    end
endmodule
