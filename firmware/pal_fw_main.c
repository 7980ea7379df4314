/* Firmware entry: read the tile once, then serve the mailbox forever. */
#include "pal_fw_cmd.h"

int main(void);

static pal_fw_t fw;

int main(void)
{
    pal_fw_init(&fw);
    for (;;)
        pal_fw_poll(&fw);
}
