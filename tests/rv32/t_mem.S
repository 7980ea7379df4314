/* Loads and stores of every width at every legal alignment, sign and zero
   extension, positive and negative offsets, store-then-load forwarding
   through memory. */
#define PUT(r) sw r, 0(s11); addi s11, s11, 4
    .text
    .globl main
main:
    la s11, results
    la s0, area
    /* words with the sign bit set in every byte and halfword */
    li t0, 0x80ff7f01
    sw t0, 0(s0)
    li t0, 0xfe8001ff
    sw t0, 4(s0)
    .irp o, 0, 1, 2, 3, 4, 5, 6, 7
    lb t1, \o(s0)
    PUT(t1)
    lbu t1, \o(s0)
    PUT(t1)
    .endr
    .irp o, 0, 2, 4, 6
    lh t1, \o(s0)
    PUT(t1)
    lhu t1, \o(s0)
    PUT(t1)
    .endr
    lw t1, 0(s0)
    PUT(t1)
    lw t1, 4(s0)
    PUT(t1)
    /* byte stores into every lane of a known word */
    li t2, 0x11223344
    .irp o, 8, 9, 10, 11, 12, 13, 14, 15
    sw t2, ((\o) & ~3)(s0)
    li t3, 0xa5 + \o
    sb t3, \o(s0)
    lw t1, ((\o) & ~3)(s0)
    PUT(t1)
    .endr
    /* halfword stores into both halves; upper bits of rs2 must not leak */
    .irp o, 16, 18, 20, 22
    sw t2, ((\o) & ~3)(s0)
    li t3, 0xdead8000 + \o
    sh t3, \o(s0)
    lw t1, ((\o) & ~3)(s0)
    PUT(t1)
    .endr
    /* negative offsets */
    addi s1, s0, 64
    li t3, -12345
    sw t3, -4(s1)
    sh t3, -6(s1)
    sb t3, -7(s1)
    lw t1, -4(s1)
    PUT(t1)
    lh t1, -6(s1)
    PUT(t1)
    lbu t1, -7(s1)
    PUT(t1)
    lw t1, -8(s1)
    PUT(t1)
    /* load into the base register; load to x0 must not write */
    mv t4, s0
    lw t4, 0(t4)
    PUT(t4)
    lw x0, 0(s0)
    PUT(x0)
    fence
    .word 0x0000100f   /* fence.i (zifencei), a no-op here */
    ret

    .data
    .balign 4
area:
    .word 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01020304, 0x05060708
    .bss
    .balign 4
results:
    .space 4 * 96
