// Decode and check of one 128-bit instruction (docs/isa.md §2, §3),
// combinational, for the sequencer's fetch/decode cycle. Field positions
// and codes come from the generated build/gen/pal_isa.vh (the C field table
// is the single source of truth). The error is the first that applies in
// the emulator's order: ILLEGAL_OPCODE, BAD_FIELD, ZERO_LOOP, ADDR_RANGE
// (include/pal/tile.h, at pal_emu_t). The range checks are exact integer
// comparisons, as §3 states them. A tile built without its POST unit
// (POST_UNIT = 0, docs/isa.md §1) decodes POST as an opcode it does not
// have: ILLEGAL_OPCODE, and none of POST's checks are built.
`default_nettype none

module pal_seq_decode #(
    parameter P = 16,
    parameter ABUF_BLOCKS = 512,
    parameter WMEM_BLOCKS = 256,
    parameter ACC_DEPTH = 4096,
    parameter BIAS_DEPTH = 1024,
    parameter OBUF_DEPTH = 4096,
    parameter POST_UNIT = 1,
    parameter ACCUMULATE = 1
) (
    input  wire         i_en,      // decode cycle: check (else o_error is 0)
    input  wire [127:0] i_instr,
    output wire         o_gemm,
    output wire         o_post,
    output wire         o_setr,
    output wire         o_end,
    output reg  [7:0]   o_error,   // PAL_TILE_ERR_*, 0 when the instruction may run
    // GEMM
    output wire [1:0]   o_init,
    output wire [7:0]   o_n_tiles,
    output wire [15:0]  o_a_stride,
    output wire [15:0]  o_a_base,
    output wire [15:0]  o_k_blocks,
    output wire [15:0]  o_w_base,
    // GEMM and POST
    output wire [15:0]  o_bias_base,
    output wire [15:0]  o_m_count,
    output wire [15:0]  o_acc_base,
    // POST
    output wire [1:0]   o_out_fmt,
    output wire [1:0]   o_act,
    output wire         o_bias_post,
    output wire [15:0]  o_n_count,
    output wire [15:0]  o_out_stride,
    output wire [15:0]  o_out_base,
    output wire [16:0]  o_post_acc_stride,  // ceil(n_count / P) * P
    // SETR
    output wire [7:0]   o_reg,
    output wire [31:0]  o_value
);

  /* verilator lint_off UNUSEDPARAM */
  `include "pal_isa.vh"
  /* verilator lint_on UNUSEDPARAM */

  // ---- fields -----------------------------------------------------------------
`define PAL_FIELD(NAME) i_instr[32*PAL_ISA_``NAME``_W+PAL_ISA_``NAME``_LSB+:PAL_ISA_``NAME``_BITS]
  wire [5:0] opcode = i_instr[PAL_ISA_OPCODE_LSB+:PAL_ISA_OPCODE_BITS];
  assign o_gemm = opcode == PAL_ISA_OP_GEMM;
  assign o_post = POST_UNIT != 0 && opcode == PAL_ISA_OP_POST;
  assign o_setr = opcode == PAL_ISA_OP_SETR;
  wire   sync = opcode == PAL_ISA_OP_SYNC;
  assign o_end = opcode == PAL_ISA_OP_END;

  assign o_init = `PAL_FIELD(GEMM_INIT);
  assign o_n_tiles = `PAL_FIELD(GEMM_N_TILES);
  assign o_a_stride = `PAL_FIELD(GEMM_A_STRIDE);
  assign o_a_base = `PAL_FIELD(GEMM_A_BASE);
  assign o_k_blocks = `PAL_FIELD(GEMM_K_BLOCKS);
  assign o_w_base = `PAL_FIELD(GEMM_W_BASE);
  wire [15:0] g_bias_base = `PAL_FIELD(GEMM_BIAS_BASE);
  wire [15:0] g_m_count = `PAL_FIELD(GEMM_M_COUNT);
  wire [15:0] g_acc_base = `PAL_FIELD(GEMM_ACC_BASE);
  wire [15:0] p_bias_base = `PAL_FIELD(POST_BIAS_BASE);
  wire [15:0] p_m_count = `PAL_FIELD(POST_M_COUNT);
  wire [15:0] p_acc_base = `PAL_FIELD(POST_ACC_BASE);
  assign o_bias_base = o_post ? p_bias_base : g_bias_base;
  assign o_m_count = o_post ? p_m_count : g_m_count;
  assign o_acc_base = o_post ? p_acc_base : g_acc_base;
  assign o_out_fmt = `PAL_FIELD(POST_OUT_FMT);
  assign o_act = `PAL_FIELD(POST_ACT);
  assign o_bias_post = `PAL_FIELD(POST_BIAS_POST);
  assign o_n_count = `PAL_FIELD(POST_N_COUNT);
  assign o_out_stride = `PAL_FIELD(POST_OUT_STRIDE);
  assign o_out_base = `PAL_FIELD(POST_OUT_BASE);
  assign o_reg = `PAL_FIELD(SETR_REG);
  assign o_value = `PAL_FIELD(SETR_VALUE);
`undef PAL_FIELD

  // ---- reserved bits: everything an opcode's fields (and the opcode) leave ----
  function automatic [31:0] fmask(input integer w, input integer fw, input integer lsb,
                                  input integer bits);
    integer b;
    begin
      fmask = 32'd0;
      if (w == fw)
        for (b = 0; b < bits; b = b + 1) fmask[lsb+b] = 1'b1;
    end
  endfunction
`define PAL_FMASK(W, NAME) fmask(W, PAL_ISA_``NAME``_W, PAL_ISA_``NAME``_LSB, PAL_ISA_``NAME``_BITS)
  function automatic [31:0] used_gemm(input integer w);
    used_gemm = `PAL_FMASK(w, GEMM_A_BASE) | `PAL_FMASK(w, GEMM_A_STRIDE)
              | `PAL_FMASK(w, GEMM_M_COUNT) | `PAL_FMASK(w, GEMM_K_BLOCKS)
              | `PAL_FMASK(w, GEMM_W_BASE) | `PAL_FMASK(w, GEMM_N_TILES)
              | `PAL_FMASK(w, GEMM_ACC_BASE) | `PAL_FMASK(w, GEMM_INIT)
              | `PAL_FMASK(w, GEMM_BIAS_BASE);
  endfunction
  function automatic [31:0] used_post(input integer w);
    used_post = `PAL_FMASK(w, POST_ACC_BASE) | `PAL_FMASK(w, POST_N_COUNT)
              | `PAL_FMASK(w, POST_M_COUNT) | `PAL_FMASK(w, POST_ACT)
              | `PAL_FMASK(w, POST_OUT_FMT) | `PAL_FMASK(w, POST_OUT_BASE)
              | `PAL_FMASK(w, POST_OUT_STRIDE) | `PAL_FMASK(w, POST_BIAS_BASE)
              | `PAL_FMASK(w, POST_BIAS_POST);
  endfunction
  function automatic [31:0] used_setr(input integer w);
    used_setr = `PAL_FMASK(w, SETR_REG) | `PAL_FMASK(w, SETR_VALUE);
  endfunction
`undef PAL_FMASK

  localparam [31:0] OPC = fmask(0, 0, PAL_ISA_OPCODE_LSB, PAL_ISA_OPCODE_BITS);
  localparam [127:0] USED_GEMM = {used_gemm(3), used_gemm(2), used_gemm(1), used_gemm(0) | OPC};
  localparam [127:0] USED_POST = {used_post(3), used_post(2), used_post(1), used_post(0) | OPC};
  localparam [127:0] USED_SETR = {used_setr(3), used_setr(2), used_setr(1), used_setr(0) | OPC};
  localparam [127:0] USED_NONE = {96'd0, OPC};

  wire [127:0] used = o_gemm ? USED_GEMM : o_post ? USED_POST : o_setr ? USED_SETR : USED_NONE;
  wire reserved = |(i_instr & ~used);

  // ---- checks -------------------------------------------------------------------
  // Evaluated only with i_en (the fetch cycle), which also spares a
  // simulator the multiplications in every other cycle.
  function automatic [47:0] c48(input [31:0] v);
    c48 = {16'd0, v};
  endfunction
  localparam [31:0] P32 = P;
  localparam [47:0] AB48 = c48(ABUF_BLOCKS);
  localparam [47:0] WB48 = c48(WMEM_BLOCKS);
  localparam [47:0] ACC48 = c48(ACC_DEPTH);
  localparam [47:0] BIAS48 = c48(BIAS_DEPTH);
  localparam [47:0] OBUF48 = c48(OBUF_DEPTH);
  function automatic [47:0] x48(input [15:0] v);
    x48 = {32'd0, v};
  endfunction

  // The range checks: each sum below is compared with its buffer's depth
  // by pal_cmp_le (logic; a comparison would be a carry chain as wide as
  // the sum, each cell a logic cell of its own on the iCE40).
  reg illegal, bad, zero;
  reg [15:0] m1;
  reg [31:0] rows, a_span, out_span;
  reg [23:0] w_span;
  reg [47:0] acc_span, out_last;
  reg [31:0] p_stride;
  reg [47:0] sum_a, sum_w, sum_acc, sum_bias, sum_pbias, sum_out32, sum_out8;
  always @* begin
    illegal = 1'b0;
    bad = 1'b0;
    zero = 1'b0;
    m1 = 16'd0;
    rows = 32'd0;
    a_span = 32'd0;
    out_span = 32'd0;
    w_span = 24'd0;
    acc_span = 48'd0;
    out_last = 48'd0;
    p_stride = 32'd0;
    sum_a = 48'd0;
    sum_w = 48'd0;
    sum_acc = 48'd0;
    sum_bias = 48'd0;
    sum_pbias = 48'd0;
    sum_out32 = 48'd0;
    sum_out8 = 48'd0;
    if (i_en) begin
      illegal = ~(o_gemm | o_post | o_setr | sync | o_end);
      bad = reserved
          | (o_gemm & (o_init == 2'd3))
          // without accumulate units there is no start value to add to
          | (o_gemm & (ACCUMULATE == 0) & (o_init != PAL_ISA_INIT_ZERO))
          | (o_post & ((o_act == 2'd3) | (o_out_fmt > PAL_ISA_OUT_PAL8)
                       | ((o_out_fmt == PAL_ISA_OUT_PAL8)
                          & ({5'd0, o_n_count} > {o_out_stride, 5'd0}))))
          | (o_setr & (o_reg > PAL_ISA_SETR_CLIP_HI));
      if (o_gemm) begin
        zero = (o_n_tiles == 8'd0) | (g_m_count == 16'd0) | (o_k_blocks == 16'd0);
        // products at their exact widths, sums in 48 bits
        m1 = g_m_count - 16'd1;
        a_span = m1 * o_a_stride;
        w_span = o_n_tiles * o_k_blocks;
        rows = {24'd0, o_n_tiles} * P32;
        acc_span = {16'd0, rows} * {32'd0, g_m_count};
        sum_a = x48(o_a_base) + {16'd0, a_span} + x48(o_k_blocks);
        sum_w = x48(o_w_base) + {24'd0, w_span};
        sum_acc = x48(g_acc_base) + acc_span;
        if (o_init == PAL_ISA_INIT_BIAS) sum_bias = x48(g_bias_base) + {16'd0, rows};
      end
      if (o_post) begin
        zero = (o_n_count == 16'd0) | (p_m_count == 16'd0);
        // acc_stride = ceil(n / P) * P
        p_stride = ({16'd0, o_n_count} + P32 - 32'd1) / P32 * P32;
        m1 = p_m_count - 16'd1;
        out_span = m1 * o_out_stride;
        acc_span = {16'd0, p_stride} * {32'd0, p_m_count};
        out_last = x48(o_out_base) + {16'd0, out_span};
        sum_acc = x48(p_acc_base) + acc_span;
        if (o_bias_post) sum_pbias = x48(p_bias_base) + x48(o_n_count);
        if (o_out_fmt == PAL_ISA_OUT_FP32) sum_out32 = out_last + x48(o_n_count);
        if (o_out_fmt == PAL_ISA_OUT_PAL8) sum_out8 = out_last + ((x48(o_n_count) + 48'd31) >> 5);
      end
    end
  end
  // each sum within its depth (a sum that does not apply is 0)
  wire [6:0] in_range;
  pal_cmp_le #(.W(48), .K(AB48)) c_a (.i_x(sum_a), .o_le(in_range[0]));
  pal_cmp_le #(.W(48), .K(WB48)) c_w (.i_x(sum_w), .o_le(in_range[1]));
  // Without accumulate units (ACCUMULATE = 0) a GEMM writes k_blocks
  // planes of m_count * n_tiles * P words (docs/isa.md §1): when both
  // factors are within ACC's depth they fit AW bits and their product is
  // exact in 2 * AW; when either is not, no GEMM fits (each is >= 1 once
  // ZERO_LOOP has passed).
  generate
    if (ACCUMULATE != 0) begin : g_acc_fp32
      pal_cmp_le #(.W(48), .K(ACC48)) c_acc (.i_x(sum_acc), .o_le(in_range[2]));
    end else begin : g_acc_raw
      localparam AW = $clog2(ACC_DEPTH + 1);
      wire span_le, kb_le, raw_le;
      wire [16:0] kb17 = {1'b0, o_k_blocks};
      wire [2*AW-1:0] raw_span = acc_span[AW-1:0] * kb17[AW-1:0];
      wire [47:0] sum_raw = x48(g_acc_base) + {{(48 - 2 * AW) {1'b0}}, raw_span};
      pal_cmp_le #(.W(48), .K(ACC48)) c_span (.i_x(acc_span), .o_le(span_le));
      pal_cmp_le #(.W(17), .K(ACC48[16:0])) c_kb (.i_x(kb17), .o_le(kb_le));
      pal_cmp_le #(.W(48), .K(ACC48)) c_raw (.i_x(sum_raw), .o_le(raw_le));
      // sum_acc (g_acc_base + acc_span) is the check of a tile with units
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_sum_acc = &{1'b0, sum_acc};
      /* verilator lint_on UNUSEDSIGNAL */
      assign in_range[2] = ~(i_en & o_gemm) | (span_le & kb_le & raw_le);
    end
  endgenerate
  pal_cmp_le #(.W(48), .K(BIAS48)) c_bias (.i_x(sum_bias), .o_le(in_range[3]));
  pal_cmp_le #(.W(48), .K(BIAS48)) c_pbias (.i_x(sum_pbias), .o_le(in_range[4]));
  pal_cmp_le #(.W(48), .K(OBUF48)) c_out32 (.i_x(sum_out32), .o_le(in_range[5]));
  pal_cmp_le #(.W(48), .K(AB48)) c_out8 (.i_x(sum_out8), .o_le(in_range[6]));
  wire range = ~&in_range;

  assign o_post_acc_stride = p_stride[16:0];

  always @* begin
    if (illegal) o_error = PAL_TILE_ERR_ILLEGAL_OPCODE;
    else if (bad) o_error = PAL_TILE_ERR_BAD_FIELD;
    else if (zero) o_error = PAL_TILE_ERR_ZERO_LOOP;
    else if (range) o_error = PAL_TILE_ERR_ADDR_RANGE;
    else o_error = PAL_TILE_ERR_NONE;
  end

endmodule

`default_nettype wire
