`default_nettype none
// The control-core subsystem: pal_rv_core with its IMEM (firmware image,
// read-only for the core), DMEM, cycle timer, mailbox, system-control
// registers, and a bus port onto the tile's device address space
// (docs/protocol.md §5) through which the firmware reaches the tile's
// registers, counters and buffers. The address map is documented in
// docs/control-core.md §2; firmware/pal_fw_map.h holds the same numbers and
// `make rv-map-check` compares the two.
module pal_rv_sys #(
    parameter integer IMEM_WORDS = 2048,     // 8 KiB
    parameter integer DMEM_WORDS = 512,      // 2 KiB
    parameter INIT_FILE = ""
) (
    input  wire        i_clk,
    input  wire        i_rst,
    // mailbox, link side
    input  wire        i_req_valid,
    input  wire [31:0] i_req_data,
    output wire        o_req_ready,
    output wire        o_resp_valid,
    output wire [31:0] o_resp_data,
    input  wire        i_resp_ready,
    // tile bus port: device addresses of docs/protocol.md §5
    output wire        o_tile_valid,
    output wire [31:0] o_tile_addr,
    output wire [31:0] o_tile_wdata,
    output wire [3:0]  o_tile_wstrb,
    input  wire        i_tile_ready,
    input  wire [31:0] i_tile_rdata,
    input  wire        i_tile_error,       // with i_tile_ready: access reached nothing
    output wire        o_tile_reset,       // firmware-controlled tile reset (watchdog)
    // debug
    output wire        o_halted,
    output wire [2:0]  o_halt_cause,
    output wire [31:0] o_halt_pc
);
    // Region select, address bits [31:24] (docs/control-core.md §2).
    localparam [7:0] SEL_IMEM    = 8'h00;
    localparam [7:0] SEL_DMEM    = 8'h01;
    localparam [7:0] SEL_TIMER   = 8'h02;
    localparam [7:0] SEL_MAILBOX = 8'h03;
    localparam [7:0] SEL_SYSCTL  = 8'h04;
    localparam integer IMEM_AW = $clog2(IMEM_WORDS);
    localparam integer DMEM_AW = $clog2(DMEM_WORDS);

    wire        mem_valid, mem_fetch;
    wire [31:0] mem_addr, mem_wdata;
    wire [3:0]  mem_wstrb;
    reg         mem_ready;
    wire [31:0] dbg_data;       // debug port unused in the system
    reg  [31:0] mem_rdata;

    pal_rv_core #(.RESET_PC(32'h0000_0000)) u_core (
        .i_clk(i_clk), .i_rst(i_rst),
        .o_mem_valid(mem_valid), .o_mem_addr(mem_addr), .o_mem_wdata(mem_wdata),
        .o_mem_wstrb(mem_wstrb), .o_mem_fetch(mem_fetch), .i_mem_ready(mem_ready),
        .i_mem_rdata(mem_rdata),
        .o_halted(o_halted), .o_halt_cause(o_halt_cause), .o_halt_pc(o_halt_pc),
        .i_resume(1'b0), .i_dbg_reg(5'd0), .o_dbg_data(dbg_data)
    );

    wire [7:0] sel = mem_addr[31:24];
    wire is_tile    = mem_addr[31];
    wire is_imem    = !is_tile && sel == SEL_IMEM;
    wire is_dmem    = !is_tile && sel == SEL_DMEM;
    wire is_timer   = !is_tile && sel == SEL_TIMER;
    wire is_mailbox = !is_tile && sel == SEL_MAILBOX;
    wire is_sysctl  = !is_tile && sel == SEL_SYSCTL;
    wire is_none    = !(is_tile | is_imem | is_dmem | is_timer | is_mailbox | is_sysctl);

    // Local targets answer one cycle after the request (registered reads).
    reg ack;
    wire local_req = mem_valid && !is_tile && !ack;

    wire [31:0] imem_rdata, dmem_rdata, timer_rdata, mbox_rdata;
    wire        timer_ready, mbox_ready;
    pal_rv_ram #(.WORDS(IMEM_WORDS), .AW(IMEM_AW), .INIT_FILE(INIT_FILE)) u_imem (
        .i_clk(i_clk), .i_en(local_req && is_imem), .i_addr(mem_addr[IMEM_AW+1:2]),
        .i_wstrb(4'b0000), .i_wdata(32'b0), .o_rdata(imem_rdata)
    );
    pal_rv_ram #(.WORDS(DMEM_WORDS), .AW(DMEM_AW)) u_dmem (
        .i_clk(i_clk), .i_en(local_req && is_dmem), .i_addr(mem_addr[DMEM_AW+1:2]),
        .i_wstrb(mem_wstrb), .i_wdata(mem_wdata), .o_rdata(dmem_rdata)
    );
    pal_rv_timer u_timer (
        .i_clk(i_clk), .i_rst(i_rst), .i_valid(mem_valid && is_timer), .i_wstrb(mem_wstrb),
        .i_wdata(mem_wdata), .o_ready(timer_ready), .o_rdata(timer_rdata)
    );
    pal_rv_mailbox u_mailbox (
        .i_clk(i_clk), .i_rst(i_rst), .i_valid(mem_valid && is_mailbox), .i_addr(mem_addr[3:2]),
        .i_wstrb(mem_wstrb), .i_wdata(mem_wdata), .o_ready(mbox_ready), .o_rdata(mbox_rdata),
        .i_req_valid(i_req_valid), .i_req_data(i_req_data), .o_req_ready(o_req_ready),
        .o_resp_valid(o_resp_valid), .o_resp_data(o_resp_data), .i_resp_ready(i_resp_ready)
    );

    // System control: 0x0 TILE_RESET (bit 0, rw), 0x4 BUS_ERROR (bit 0: the
    // core accessed an unmapped address, bit 1: the tile port answered with
    // an error; sticky, write 1 to clear).
    reg        tile_reset;
    reg [1:0]  bus_error;
    reg [31:0] sysctl_rdata;
    reg [1:0]  rsel;            // which local target answers
    localparam [1:0] R_MEM = 2'd0, R_DMEM = 2'd1, R_SYSCTL = 2'd2, R_ZERO = 2'd3;
    always @(posedge i_clk) begin
        if (i_rst) begin
            ack        <= 1'b0;
            tile_reset <= 1'b0;
            bus_error  <= 2'b00;
        end else begin
            ack <= local_req && !is_timer && !is_mailbox;
            if (local_req && is_sysctl && mem_wstrb[0]) begin
                if (mem_addr[3:2] == 2'd0) tile_reset <= mem_wdata[0];
                if (mem_addr[3:2] == 2'd1) bus_error <= bus_error & ~mem_wdata[1:0];
            end
            if (local_req && is_none) bus_error[0] <= 1'b1;
            if (mem_valid && is_tile && i_tile_ready && i_tile_error) bus_error[1] <= 1'b1;
        end
        sysctl_rdata <= mem_addr[3:2] == 2'd0 ? {31'b0, tile_reset} :
                        mem_addr[3:2] == 2'd1 ? {30'b0, bus_error} : 32'b0;
        rsel <= is_imem ? R_MEM : is_dmem ? R_DMEM : is_sysctl ? R_SYSCTL : R_ZERO;
    end

    always @(*) begin
        if (is_tile) begin
            mem_ready = i_tile_ready;
            mem_rdata = i_tile_error ? 32'b0 : i_tile_rdata;
        end else if (is_timer) begin
            mem_ready = timer_ready;
            mem_rdata = timer_rdata;
        end else if (is_mailbox) begin
            mem_ready = mbox_ready;
            mem_rdata = mbox_rdata;
        end else begin
            mem_ready = ack;
            case (rsel)
                R_MEM:    mem_rdata = imem_rdata;
                R_DMEM:   mem_rdata = dmem_rdata;
                R_SYSCTL: mem_rdata = sysctl_rdata;
                default:  mem_rdata = 32'b0;
            endcase
        end
    end

    assign o_tile_valid = mem_valid && is_tile;
    assign o_tile_addr  = {4'b0, mem_addr[27:0]};
    assign o_tile_wdata = mem_wdata;
    assign o_tile_wstrb = mem_wstrb;
    assign o_tile_reset = tile_reset;
    wire unused = &{1'b0, mem_fetch, mem_addr[30:28], dbg_data};
endmodule
