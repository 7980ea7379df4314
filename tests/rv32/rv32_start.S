/* Start-up and exit of the core-vs-QEMU test programs. Every register gets
   a defined value first (QEMU's initial sp/a0 differ from the core's), the
   test's main runs, then all 32 registers are stored below the stack
   pointer and written to stdout (write syscall, ECALL a7=64), followed by
   the whole data/bss/stack region, then exit (a7=93). On the core, the
   harness emulates those two syscalls, so both runs print the same bytes
   iff the final states match. */
    .section .text.start, "ax"
    .globl _start
_start:
    .irp r, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    li x\r, 0
    .endr
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, __stack_top
    call main
    /* registers as main left them (sp is back at __stack_top) */
    .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sw x\r, (-128 + 4 * \r)(sp)
    .endr
    sw x0, -128(sp)
    li a0, 1
    addi a1, sp, -128
    li a2, 128
    li a7, 64
    ecall
    li a0, 1
    la a1, __sig_start
    la a2, __sig_end
    sub a2, a2, a1
    li a7, 64
    ecall
    li a0, 0
    li a7, 93
    ecall
1:  j 1b
