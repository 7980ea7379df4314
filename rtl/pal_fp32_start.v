// Start value of an FP32 accumulator from a bias (pal_fp32_start, §3 and
// format-notes #4): a subnormal bias flushes to a zero of its sign, a NaN or
// infinite bias gives +0 and raises NaR. Combinational.
`default_nettype none

module pal_fp32_start (
    input  wire [31:0] i_bias,
    output wire [31:0] o_value,
    output wire        o_nar
);

  wire max_exp = &i_bias[30:23];
  wire zero_exp = ~(|i_bias[30:23]);

  assign o_nar = max_exp;
  assign o_value = max_exp ? 32'd0 : zero_exp ? {i_bias[31], 31'd0} : i_bias;

endmodule

`default_nettype wire
