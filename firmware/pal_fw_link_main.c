/* Firmware entry on the SoC without a link engine (rtl/pal_fwsoc.v): read
 * the tile once, then serve the host protocol on the UART forever. */
#include "pal_fw_link.h"

int main(void);

static pal_fw_t fw;
static pal_fw_link_t link;

int main(void)
{
    pal_fw_init(&fw);
    pal_fw_link_init(&link, &fw);
    for (;;)
        pal_fw_link_poll(&link);
}
