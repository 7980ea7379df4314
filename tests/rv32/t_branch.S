/* Every conditional branch, taken and not taken, forward and backward, on
   signed/unsigned edge cases; records 1 for fall-through, 0 for taken. */
#define PUT(r) sw r, 0(s11); addi s11, s11, 4
    .macro brop op
    .irp a, 0, 1, -1, 0x7fffffff, 0x80000000, 0x80000001, 5
    .irp b, 0, 1, -1, 0x7fffffff, 0x80000000, 5
    li t0, \a
    li t1, \b
    li t2, 0
    \op t0, t1, 1f
    li t2, 1
1:  PUT(t2)
    /* backward form: jump back once over a counter */
    li t3, 0
2:  addi t3, t3, 1
    li t4, 2
    beq t3, t4, 3f
    \op t0, t1, 2b
3:  PUT(t3)
    .endr
    .endr
    .endm

    .text
    .globl main
main:
    la s11, results
    brop beq
    brop bne
    brop blt
    brop bge
    brop bltu
    brop bgeu
    /* a counted loop */
    li t0, 0
    li t1, 100
    li t2, 0
4:  add t2, t2, t0
    addi t0, t0, 1
    blt t0, t1, 4b
    PUT(t2)
    ret

    .bss
    .balign 4
results:
    .space 4 * 600
