/* A deliberately broken firmware for tests/soc/test_soc_firmware.c: the
 * link engine's handling of a control core that stops answering. It reads
 * one whole request from the mailbox and never replies: an INFO (0x01)
 * leaves the core spinning forever (a hung firmware: the link engine's
 * timeout), any other command halts it with EBREAK (a crashed firmware:
 * the core's halt signal). Built like the real firmware (crt0.S,
 * pal_fw.ld), never shipped. */
#include "hal.h"

int main(void);

static uint32_t take_word(void)
{
    while (!pal_hal_mbox_rx_valid()) {
    }
    return pal_hal_mbox_rx();
}

int main(void)
{
    uint32_t header = take_word();
    for (uint32_t n = header >> 16; n; n--)
        (void)take_word();
    if ((header & 0xFFu) == 0x01u) {
        volatile uint32_t spin = 0;
        for (;;)
            spin++;
    }
    __asm__ volatile("ebreak");
    return 0;
}
