// Rotation of LANES lanes of WIDTH bits by i_rot (< LANES) lanes: DOWN = 1
// gives lane u the input lane (u + i_rot) % LANES, DOWN = 0 the input lane
// (u - i_rot) % LANES. The bank buffers (pal_tile_bankbuf) turn the
// accumulate units' lanes into banks and back with it.
//
// A logarithmic rotator: stage s rotates the whole vector by the constant
// 2^s % LANES where bit s of i_rot is set, since rotations compose by adding
// their amounts modulo LANES (any LANES, not only powers of two). That is
// LANES x WIDTH x log2(LANES) two-input multiplexers. Selecting each output
// lane from an array by a variable index instead (`q[(u + r) % LANES]`)
// gives Yosys a shifter over all LANES x WIDTH bits per lane: the 16-bank
// ACC of an 8x8 tile was 35 000 LUT4 on the ECP5 that way. The stages are
// whole-vector shifts; Verilator would run them every cycle, word by word
// (the 16x16 model, 64 banks, simulated at half its former speed), so the
// Verilated model gets a second description: one variable shift of the
// doubled vector, with the amount reduced below LANES by one comparison
// (i_rot < 2 * LANES), no division. `make tile-equiv` proves the two equal.
`default_nettype none

module pal_tile_rotate #(
    parameter LANES = 4,
    parameter WIDTH = 32,
    parameter DOWN = 1,
    parameter RW = (LANES > 1) ? $clog2(LANES) : 1  // derived: do not override
) (
    input  wire [LANES*WIDTH-1:0] i_x,
    input  wire [RW-1:0]          i_rot,
    output wire [LANES*WIDTH-1:0] o_y
);

  localparam N = LANES * WIDTH;

`ifdef VERILATOR
  // i_rot < 2^RW < 2 * LANES, so one subtraction reduces it modulo LANES
  wire [31:0] r = (32'(i_rot) >= LANES) ? 32'(i_rot) - LANES : 32'(i_rot);
  /* verilator lint_off UNUSEDSIGNAL */
  wire [2*N-1:0] xx = {i_x, i_x};
  wire [2*N-1:0] sh = (DOWN != 0) ? xx >> (r * WIDTH) : xx << (r * WIDTH);
  /* verilator lint_on UNUSEDSIGNAL */
  assign o_y = (DOWN != 0) ? sh[N-1:0] : sh[2*N-1:N];
`else
  function automatic [N-1:0] rotate(input [N-1:0] x, input [RW-1:0] r);
    reg [N-1:0] y;
    integer s, c;
    begin
      y = x;
      for (s = 0; s < RW; s = s + 1) begin
        c = (1 << s) % LANES;  // lanes this stage rotates by; 0: none
        if (r[s] && c != 0) begin
          if (DOWN != 0) y = (y >> (c * WIDTH)) | (y << ((LANES - c) * WIDTH));
          else y = (y << (c * WIDTH)) | (y >> ((LANES - c) * WIDTH));
        end
      end
      rotate = y;
    end
  endfunction

  assign o_y = rotate(i_x, i_rot);
`endif

endmodule

`default_nettype wire
