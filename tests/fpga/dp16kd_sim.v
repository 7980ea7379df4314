// make check-gates: a simulation model of the ECP5 DP16KD block RAM for the
// gate-level simulation of the OrangeCrab netlist. Yosys 0.23's
// ecp5/cells_sim.v declares DP16KD with its ports and parameters but no
// behaviour (its outputs would float), so the check replaces it with this
// one (constraints/boards.mk strips Yosys' empty module).
//
// It models what Yosys' ecp5/brams_map.v makes of a memory and nothing
// else, with Yosys' own convention for the contents: 1024 words of 18 bits
// (two 9-bit bytes), word 16*k + i in INITVAL_k bits [20*i +: 18];
//  - true dual port (DATA_WIDTH 9 or 18 per port): an 18-bit port
//    addresses word AD[13:4] with byte enables AD[1:0]; a 9-bit port byte
//    AD[3] of word AD[13:4]; write when CE and WE (and the byte's enable);
//    WRITEMODE READBEFOREWRITE reads the old word, NORMAL keeps the output
//    during a write;
//  - pseudo dual port (DATA_WIDTH_A = DATA_WIDTH_B = 36, PDPW16KD through
//    DP16KD): port A writes {DIB, DIA} to words 2*AD[13:5] (low half) and
//    2*AD[13:5] + 1 with byte enables ADA[3:0]; port B reads {DOB, DOA}.
// Outputs unregistered (REGMODE NOREG), clocks not inverted, chip selects
// unused, no reset asserted, both ports on one clock: the settings
// brams_map.v writes and the builds use. Anything else stops the
// simulation rather than being simulated wrongly. Reads see the contents
// before a same-edge write. make test's test_ecp5_models checks it against
// the RTL memories it stands for.
`default_nettype none

/* verilator lint_off UNUSEDSIGNAL */  // the address bits a width does not use, the unused pins
/* verilator lint_off UNUSEDPARAM */
/* verilator lint_off DECLFILENAME */  // the primitive's name
module DP16KD #(
    parameter DATA_WIDTH_A = 18,
    parameter DATA_WIDTH_B = 18,
    parameter REGMODE_A = "NOREG",
    parameter REGMODE_B = "NOREG",
    parameter RESETMODE = "SYNC",
    parameter ASYNC_RESET_RELEASE = "SYNC",
    parameter CSDECODE_A = "0b000",
    parameter CSDECODE_B = "0b000",
    parameter WRITEMODE_A = "NORMAL",
    parameter WRITEMODE_B = "NORMAL",
    parameter DIA17MUX = "DIA17",
    parameter DIA16MUX = "DIA16",
    parameter DIA15MUX = "DIA15",
    parameter DIA14MUX = "DIA14",
    parameter DIA13MUX = "DIA13",
    parameter DIA12MUX = "DIA12",
    parameter DIA11MUX = "DIA11",
    parameter DIA10MUX = "DIA10",
    parameter DIA9MUX = "DIA9",
    parameter DIA8MUX = "DIA8",
    parameter DIA7MUX = "DIA7",
    parameter DIA6MUX = "DIA6",
    parameter DIA5MUX = "DIA5",
    parameter DIA4MUX = "DIA4",
    parameter DIA3MUX = "DIA3",
    parameter DIA2MUX = "DIA2",
    parameter DIA1MUX = "DIA1",
    parameter DIA0MUX = "DIA0",
    parameter ADA13MUX = "ADA13",
    parameter ADA12MUX = "ADA12",
    parameter ADA11MUX = "ADA11",
    parameter ADA10MUX = "ADA10",
    parameter ADA9MUX = "ADA9",
    parameter ADA8MUX = "ADA8",
    parameter ADA7MUX = "ADA7",
    parameter ADA6MUX = "ADA6",
    parameter ADA5MUX = "ADA5",
    parameter ADA4MUX = "ADA4",
    parameter ADA3MUX = "ADA3",
    parameter ADA2MUX = "ADA2",
    parameter ADA1MUX = "ADA1",
    parameter ADA0MUX = "ADA0",
    parameter CEAMUX = "CEA",
    parameter OCEAMUX = "OCEA",
    parameter CLKAMUX = "CLKA",
    parameter WEAMUX = "WEA",
    parameter RSTAMUX = "RSTA",
    parameter CSA2MUX = "CSA2",
    parameter CSA1MUX = "CSA1",
    parameter CSA0MUX = "CSA0",
    parameter DOA17MUX = "DOA17",
    parameter DOA16MUX = "DOA16",
    parameter DOA15MUX = "DOA15",
    parameter DOA14MUX = "DOA14",
    parameter DOA13MUX = "DOA13",
    parameter DOA12MUX = "DOA12",
    parameter DOA11MUX = "DOA11",
    parameter DOA10MUX = "DOA10",
    parameter DOA9MUX = "DOA9",
    parameter DOA8MUX = "DOA8",
    parameter DOA7MUX = "DOA7",
    parameter DOA6MUX = "DOA6",
    parameter DOA5MUX = "DOA5",
    parameter DOA4MUX = "DOA4",
    parameter DOA3MUX = "DOA3",
    parameter DOA2MUX = "DOA2",
    parameter DOA1MUX = "DOA1",
    parameter DOA0MUX = "DOA0",
    parameter DIB17MUX = "DIB17",
    parameter DIB16MUX = "DIB16",
    parameter DIB15MUX = "DIB15",
    parameter DIB14MUX = "DIB14",
    parameter DIB13MUX = "DIB13",
    parameter DIB12MUX = "DIB12",
    parameter DIB11MUX = "DIB11",
    parameter DIB10MUX = "DIB10",
    parameter DIB9MUX = "DIB9",
    parameter DIB8MUX = "DIB8",
    parameter DIB7MUX = "DIB7",
    parameter DIB6MUX = "DIB6",
    parameter DIB5MUX = "DIB5",
    parameter DIB4MUX = "DIB4",
    parameter DIB3MUX = "DIB3",
    parameter DIB2MUX = "DIB2",
    parameter DIB1MUX = "DIB1",
    parameter DIB0MUX = "DIB0",
    parameter ADB13MUX = "ADB13",
    parameter ADB12MUX = "ADB12",
    parameter ADB11MUX = "ADB11",
    parameter ADB10MUX = "ADB10",
    parameter ADB9MUX = "ADB9",
    parameter ADB8MUX = "ADB8",
    parameter ADB7MUX = "ADB7",
    parameter ADB6MUX = "ADB6",
    parameter ADB5MUX = "ADB5",
    parameter ADB4MUX = "ADB4",
    parameter ADB3MUX = "ADB3",
    parameter ADB2MUX = "ADB2",
    parameter ADB1MUX = "ADB1",
    parameter ADB0MUX = "ADB0",
    parameter CEBMUX = "CEB",
    parameter OCEBMUX = "OCEB",
    parameter CLKBMUX = "CLKB",
    parameter WEBMUX = "WEB",
    parameter RSTBMUX = "RSTB",
    parameter CSB2MUX = "CSB2",
    parameter CSB1MUX = "CSB1",
    parameter CSB0MUX = "CSB0",
    parameter DOB17MUX = "DOB17",
    parameter DOB16MUX = "DOB16",
    parameter DOB15MUX = "DOB15",
    parameter DOB14MUX = "DOB14",
    parameter DOB13MUX = "DOB13",
    parameter DOB12MUX = "DOB12",
    parameter DOB11MUX = "DOB11",
    parameter DOB10MUX = "DOB10",
    parameter DOB9MUX = "DOB9",
    parameter DOB8MUX = "DOB8",
    parameter DOB7MUX = "DOB7",
    parameter DOB6MUX = "DOB6",
    parameter DOB5MUX = "DOB5",
    parameter DOB4MUX = "DOB4",
    parameter DOB3MUX = "DOB3",
    parameter DOB2MUX = "DOB2",
    parameter DOB1MUX = "DOB1",
    parameter DOB0MUX = "DOB0",
    parameter WID = 0,
    parameter GSR = "ENABLED",
    parameter INIT_DATA = "STATIC",
    parameter INITVAL_00 = 320'h0,
    parameter INITVAL_01 = 320'h0,
    parameter INITVAL_02 = 320'h0,
    parameter INITVAL_03 = 320'h0,
    parameter INITVAL_04 = 320'h0,
    parameter INITVAL_05 = 320'h0,
    parameter INITVAL_06 = 320'h0,
    parameter INITVAL_07 = 320'h0,
    parameter INITVAL_08 = 320'h0,
    parameter INITVAL_09 = 320'h0,
    parameter INITVAL_0A = 320'h0,
    parameter INITVAL_0B = 320'h0,
    parameter INITVAL_0C = 320'h0,
    parameter INITVAL_0D = 320'h0,
    parameter INITVAL_0E = 320'h0,
    parameter INITVAL_0F = 320'h0,
    parameter INITVAL_10 = 320'h0,
    parameter INITVAL_11 = 320'h0,
    parameter INITVAL_12 = 320'h0,
    parameter INITVAL_13 = 320'h0,
    parameter INITVAL_14 = 320'h0,
    parameter INITVAL_15 = 320'h0,
    parameter INITVAL_16 = 320'h0,
    parameter INITVAL_17 = 320'h0,
    parameter INITVAL_18 = 320'h0,
    parameter INITVAL_19 = 320'h0,
    parameter INITVAL_1A = 320'h0,
    parameter INITVAL_1B = 320'h0,
    parameter INITVAL_1C = 320'h0,
    parameter INITVAL_1D = 320'h0,
    parameter INITVAL_1E = 320'h0,
    parameter INITVAL_1F = 320'h0,
    parameter INITVAL_20 = 320'h0,
    parameter INITVAL_21 = 320'h0,
    parameter INITVAL_22 = 320'h0,
    parameter INITVAL_23 = 320'h0,
    parameter INITVAL_24 = 320'h0,
    parameter INITVAL_25 = 320'h0,
    parameter INITVAL_26 = 320'h0,
    parameter INITVAL_27 = 320'h0,
    parameter INITVAL_28 = 320'h0,
    parameter INITVAL_29 = 320'h0,
    parameter INITVAL_2A = 320'h0,
    parameter INITVAL_2B = 320'h0,
    parameter INITVAL_2C = 320'h0,
    parameter INITVAL_2D = 320'h0,
    parameter INITVAL_2E = 320'h0,
    parameter INITVAL_2F = 320'h0,
    parameter INITVAL_30 = 320'h0,
    parameter INITVAL_31 = 320'h0,
    parameter INITVAL_32 = 320'h0,
    parameter INITVAL_33 = 320'h0,
    parameter INITVAL_34 = 320'h0,
    parameter INITVAL_35 = 320'h0,
    parameter INITVAL_36 = 320'h0,
    parameter INITVAL_37 = 320'h0,
    parameter INITVAL_38 = 320'h0,
    parameter INITVAL_39 = 320'h0,
    parameter INITVAL_3A = 320'h0,
    parameter INITVAL_3B = 320'h0,
    parameter INITVAL_3C = 320'h0,
    parameter INITVAL_3D = 320'h0,
    parameter INITVAL_3E = 320'h0,
    parameter INITVAL_3F = 320'h0
) (
    input wire DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5,
                 DIA4, DIA3, DIA2, DIA1, DIA0,
    input wire ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
    input wire CEA, OCEA, CLKA, WEA, RSTA,
    input wire CSA2, CSA1, CSA0,
    output wire DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5,
                 DOA4, DOA3, DOA2, DOA1, DOA0,
    input wire DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5,
                 DIB4, DIB3, DIB2, DIB1, DIB0,
    input wire ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
    input wire CEB, OCEB, CLKB, WEB, RSTB,
    input wire CSB2, CSB1, CSB0,
    output wire DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5,
                 DOB4, DOB3, DOB2, DOB1, DOB0
);
/* verilator lint_on UNUSEDPARAM */

  localparam [0:0] PDP = DATA_WIDTH_A == 36 && DATA_WIDTH_B == 36;

  /* verilator lint_off WIDTH */  // string parameters against string literals
  localparam [0:0] RBW_A = WRITEMODE_A == "READBEFOREWRITE";
  localparam [0:0] RBW_B = WRITEMODE_B == "READBEFOREWRITE";
  initial begin
    if (!PDP && !((DATA_WIDTH_A == 9 || DATA_WIDTH_A == 18) && (DATA_WIDTH_B == 9 || DATA_WIDTH_B == 18)))
      $fatal(1, "DP16KD model: widths %0d/%0d are not modelled", DATA_WIDTH_A, DATA_WIDTH_B);
    if (REGMODE_A != "NOREG" || REGMODE_B != "NOREG" || CLKAMUX != "CLKA" || CLKBMUX != "CLKB" ||
        CSDECODE_A != "0b000" || CSDECODE_B != "0b000")
      $fatal(1, "DP16KD model: output registers, inverted clocks and chip selects are not modelled");
    if (!PDP && (WRITEMODE_A == "WRITETHROUGH" || WRITEMODE_B == "WRITETHROUGH"))
      $fatal(1, "DP16KD model: WRITEMODE WRITETHROUGH is not modelled");
  end
  /* verilator lint_on WIDTH */

  wire [17:0] dia = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
  wire [17:0] dib = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0};
  wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
  wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};

  reg [17:0] mem[0:1023];
  reg [17:0] doa, dob;

  function automatic [319:0] initval(input integer k);
    case (k)
      0: initval = INITVAL_00;
      1: initval = INITVAL_01;
      2: initval = INITVAL_02;
      3: initval = INITVAL_03;
      4: initval = INITVAL_04;
      5: initval = INITVAL_05;
      6: initval = INITVAL_06;
      7: initval = INITVAL_07;
      8: initval = INITVAL_08;
      9: initval = INITVAL_09;
      10: initval = INITVAL_0A;
      11: initval = INITVAL_0B;
      12: initval = INITVAL_0C;
      13: initval = INITVAL_0D;
      14: initval = INITVAL_0E;
      15: initval = INITVAL_0F;
      16: initval = INITVAL_10;
      17: initval = INITVAL_11;
      18: initval = INITVAL_12;
      19: initval = INITVAL_13;
      20: initval = INITVAL_14;
      21: initval = INITVAL_15;
      22: initval = INITVAL_16;
      23: initval = INITVAL_17;
      24: initval = INITVAL_18;
      25: initval = INITVAL_19;
      26: initval = INITVAL_1A;
      27: initval = INITVAL_1B;
      28: initval = INITVAL_1C;
      29: initval = INITVAL_1D;
      30: initval = INITVAL_1E;
      31: initval = INITVAL_1F;
      32: initval = INITVAL_20;
      33: initval = INITVAL_21;
      34: initval = INITVAL_22;
      35: initval = INITVAL_23;
      36: initval = INITVAL_24;
      37: initval = INITVAL_25;
      38: initval = INITVAL_26;
      39: initval = INITVAL_27;
      40: initval = INITVAL_28;
      41: initval = INITVAL_29;
      42: initval = INITVAL_2A;
      43: initval = INITVAL_2B;
      44: initval = INITVAL_2C;
      45: initval = INITVAL_2D;
      46: initval = INITVAL_2E;
      47: initval = INITVAL_2F;
      48: initval = INITVAL_30;
      49: initval = INITVAL_31;
      50: initval = INITVAL_32;
      51: initval = INITVAL_33;
      52: initval = INITVAL_34;
      53: initval = INITVAL_35;
      54: initval = INITVAL_36;
      55: initval = INITVAL_37;
      56: initval = INITVAL_38;
      57: initval = INITVAL_39;
      58: initval = INITVAL_3A;
      59: initval = INITVAL_3B;
      60: initval = INITVAL_3C;
      61: initval = INITVAL_3D;
      62: initval = INITVAL_3E;
      63: initval = INITVAL_3F;
      default: initval = 320'h0;
    endcase
  endfunction

  integer k, i;
  reg [319:0] row;
  initial begin
    for (k = 0; k < 64; k = k + 1) begin
      row = initval(k);
      for (i = 0; i < 16; i = i + 1) mem[16 * k + i] = row[20 * i +: 18];
    end
    doa = 18'd0;
    dob = 18'd0;
  end

  // the byte of an 18-bit word a 9-bit port addresses
  function automatic [17:0] put9(input [17:0] word, input hi, input [8:0] b);
    put9 = hi ? {b, word[8:0]} : {word[17:9], b};
  endfunction

  // Both ports on one clock, as in every build here: the block runs at
  // CLKA's edge and stops the simulation if CLKB ever rises without it
  // (two clocks would need the port order the hardware has, not modelled).
  always @(posedge CLKB)
    if (CLKA !== 1'b1) $fatal(1, "DP16KD model: CLKA and CLKB must be the same clock");

  generate
    if (PDP) begin : g_pdp
      wire [9:0] wlo = {ada[13:5], 1'b0}, rlo = {adb[13:5], 1'b0};
      always @(posedge CLKA) begin
        if (CEA && WEA) begin
          if (ada[0]) mem[wlo][8:0] <= dia[8:0];
          if (ada[1]) mem[wlo][17:9] <= dia[17:9];
          if (ada[2]) mem[wlo + 10'd1][8:0] <= dib[8:0];
          if (ada[3]) mem[wlo + 10'd1][17:9] <= dib[17:9];
        end
        if (CEB) begin
          doa <= mem[rlo];
          dob <= mem[rlo + 10'd1];
        end
      end
    end else begin : g_tdp
      wire [9:0] wa = ada[13:4], wb = adb[13:4];
      always @(posedge CLKA) begin
        if (CEA) begin
          if (WEA) begin
            if (DATA_WIDTH_A == 18) begin
              if (ada[0]) mem[wa][8:0] <= dia[8:0];
              if (ada[1]) mem[wa][17:9] <= dia[17:9];
            end else begin
              mem[wa] <= put9(mem[wa], ada[3], dia[8:0]);
            end
          end
          if (!WEA || RBW_A)
            doa <= DATA_WIDTH_A == 18 ? mem[wa] : {9'd0, ada[3] ? mem[wa][17:9] : mem[wa][8:0]};
        end
        if (CEB) begin
          if (WEB) begin
            if (DATA_WIDTH_B == 18) begin
              if (adb[0]) mem[wb][8:0] <= dib[8:0];
              if (adb[1]) mem[wb][17:9] <= dib[17:9];
            end else begin
              mem[wb] <= put9(mem[wb], adb[3], dib[8:0]);
            end
          end
          if (!WEB || RBW_B)
            dob <= DATA_WIDTH_B == 18 ? mem[wb] : {9'd0, adb[3] ? mem[wb][17:9] : mem[wb][8:0]};
        end
      end
    end
  endgenerate

  assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = doa;
  assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = dob;

endmodule

`default_nettype wire
