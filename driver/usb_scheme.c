/* The usb:// device scheme: pal_device_open("usb://0403:6010?interface=1")
 * opens the FTDI transport (usb_ftdi.c) and runs the link protocol over it
 * through the driver core's pal_device_open_transport. The core has already
 * taken the protocol keys (timeout_ms, retries) out of the URI. */
#include <stdio.h>
#include <string.h>

#include "pal/driver.h"
#include "pal/usb.h"

static pal_status_t usb_scheme_open(const pal_device_uri_t *uri, const pal_device_options_t *options,
                                    pal_device_t **out_device) {
  static const char *const keys[] = {"interface", "serial", "baud", "latency_ms", NULL};
  *out_device = NULL;
  PAL_RETURN_IF_ERROR(pal_device_uri_check_keys(uri, keys));
  /* Rebuild the transport's spec from the parsed URI (only our keys are left). */
  char spec[PAL_URI_MAX + PAL_URI_MAX_QUERY * 130];
  size_t n = (size_t)snprintf(spec, sizeof spec, "%s", uri->target);
  for (size_t i = 0; i < uri->query_count && n < sizeof spec; i++)
    n += (size_t)snprintf(spec + n, sizeof spec - n, "%c%s=%s", i ? '&' : '?', uri->query[i].key,
                          uri->query[i].value);
  if (n >= sizeof spec)
    return pal_status_make(PAL_INVALID_ARGUMENT, "device URI \"%s\": too long", uri->text);
  pal_transport_t t;
  pal_status_t st = pal_usb_transport_open(spec, &t);
  if (st) return pal_status_annotate(st, "%s", uri->text);
  pal_usb_info_t info;
  st = pal_usb_transport_get_info(&t, &info);
  if (st) {
    pal_transport_close(&t);
    return st;
  }
  /* Takes ownership of the transport, also on failure. */
  return pal_device_open_transport(uri->text, t, info.byte_time_ns, options, out_device);
}

static const pal_device_scheme_t kUsbScheme = {
    "usb",
    "usb://VID:PID[?interface=N&serial=S&baud=B&latency_ms=L]  board's FTDI UART over libusb "
    "(default 3000000 baud; interface 1 on 0403:6010)",
    usb_scheme_open,
};

pal_status_t pal_usb_register_scheme(void) { return pal_device_register_scheme(&kUsbScheme); }
