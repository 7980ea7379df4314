/* Core-only programs for the defined halt behaviour (no QEMU run): each
   variant (selected with -DTRAP=n) executes exactly one faulting instruction
   at _start + 8, after which the harness expects the core halted with the
   documented cause, pc = _start + 8, and the store target untouched. */
    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    lui t0, %hi(buf)
    addi t0, t0, %lo(buf)
    .option pop
#if TRAP == 1
    lw t1, 1(t0)            /* misaligned word load */
#elif TRAP == 2
    lh t1, 3(t0)            /* misaligned halfword load */
#elif TRAP == 3
    sw t0, 2(t0)            /* misaligned word store */
#elif TRAP == 4
    sh t0, 1(t0)            /* misaligned halfword store */
#elif TRAP == 5
    jalr ra, 2(t0)          /* jump target not word aligned */
#elif TRAP == 6
    .word 0x00000363        /* beq x0, x0, +6: taken, target not word aligned */
#elif TRAP == 7
    .word 0xc0002573        /* rdcycle a0: CSRs do not exist */
#elif TRAP == 8
    .word 0x00000000        /* all-zero word is illegal */
#elif TRAP == 9
    ebreak
#endif
    ebreak
    .data
    .balign 4
buf:
    .word 0x5a5a5a5a, 0x5a5a5a5a
