/* Start of the boot ROM: a stack at the top of the RAM (the image is
   loaded from its bottom and never reaches it: PAL_FW_FLASH_MAX_IMAGE),
   then pal_boot, which does not return. */
    .section .text.start, "ax"
    .globl _start
_start:
    li sp, 0x01010000
    call pal_boot
1:  ebreak
    j 1b
