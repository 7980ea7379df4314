/* JAL and JALR: link values, rd = x0, rd = rs1, a target with bit 0 set
   (JALR clears it), negative offsets, and LUI/AUIPC. */
#define PUT(r) sw r, 0(s11); addi s11, s11, 4
    .text
    .globl main
main:
    mv s10, ra
    la s11, results
    jal ra, f1
    PUT(ra)
    PUT(a0)
    jal x0, 1f
    li a0, 99          /* skipped */
1:  PUT(a0)
    la t0, f2
    jalr t6, 0(t0)
    PUT(t6)
    PUT(a0)
    la t0, f2
    addi t0, t0, -3
    jalr t6, 4(t0)     /* target f2 + 1: bit 0 cleared */
    PUT(t6)
    PUT(a0)
    la t0, f4
    addi t0, t0, 40
    jalr t0, -40(t0)   /* rd == rs1: the old value forms the target */
    PUT(t0)
    la t0, f3
    jalr x0, 0(t0)
back:
    PUT(a0)
    .irp v, 0, 1, 0x80000, 0xfffff, 0x12345, 0x7ffff
    lui t3, \v
    PUT(t3)
    auipc t4, \v
    PUT(t4)
    .endr
    auipc t5, 0
    PUT(t5)
    mv ra, s10
    ret
f1: addi a0, a0, 11
    ret
f2: addi a0, a0, 100
    jr t6
f4: addi a0, a0, 7
    jr t0
f3: addi a0, a0, 1000
    j back

    .bss
    .balign 4
results:
    .space 4 * 64
