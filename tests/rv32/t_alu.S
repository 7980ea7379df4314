/* Register-register and register-immediate arithmetic, logic, compares and
   shifts over edge-case operands; every result is stored to `results`. */
#define PUT(r) sw r, 0(s11); addi s11, s11, 4
    .macro binop op
    .irp a, 0, 1, -1, 0x7fffffff, 0x80000000, 0x12345678, 0xfedcba98, 31, 32, 0x80000001
    .irp b, 0, 1, -1, 0x7fffffff, 0x80000000, 31, 32, 33, 0x1f3, 0xffffffe0
    li t0, \a
    li t1, \b
    \op t2, t0, t1
    PUT(t2)
    .endr
    .endr
    .endm
    .macro immop op
    .irp a, 0, 1, -1, 0x7fffffff, 0x80000000, 0x12345678, 0x7ff, 0xfffff800
    .irp i, 0, 1, -1, 2047, -2048, 0x555, -0x556, 2046
    li t0, \a
    \op t2, t0, \i
    PUT(t2)
    .endr
    .endr
    .endm
    .macro shiftimm op
    .irp a, 0, 1, -1, 0x7fffffff, 0x80000000, 0x12345678, 0x87654321
    .irp i, 0, 1, 2, 7, 15, 16, 30, 31
    li t0, \a
    \op t2, t0, \i
    PUT(t2)
    .endr
    .endr
    .endm

    .text
    .globl main
main:
    la s11, results
    binop add
    binop sub
    binop and
    binop or
    binop xor
    binop slt
    binop sltu
    binop sll
    binop srl
    binop sra
    immop addi
    immop andi
    immop ori
    immop xori
    immop slti
    immop sltiu
    shiftimm slli
    shiftimm srli
    shiftimm srai
    /* rd == rs1 == rs2, and writes to x0 must vanish */
    li t0, 0x1234
    add t0, t0, t0
    PUT(t0)
    li t0, -7
    sra t0, t0, t0
    PUT(t0)
    addi x0, x0, 123
    add x0, t0, t0
    PUT(x0)
    ret

    .bss
    .balign 4
results:
    .space 4 * 1200
