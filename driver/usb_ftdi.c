/* The usb:// transport (pal/usb.h): an FTDI UART bridge through libusb-1.0,
 * with the chip set up by its vendor requests in user space and the two
 * status bytes stripped from every max-packet-size chunk of IN data. Each
 * transport owns its own libusb context, so there is no global state. */
#include "pal/usb.h"

#include <inttypes.h>
#include <libusb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ftdi.h"

#define USB_DEFAULT_BAUD 3000000u
#define USB_RX_TARGET 4096u   /* bytes per bulk IN request, rounded to packets */
#define USB_TX_CHUNK 16384u   /* bytes per bulk OUT request */
#define USB_SERIAL_MAX 64u

typedef struct usb_ftdi {
  libusb_context *ctx;
  libusb_device_handle *handle;
  bool claimed;
  bool gone; /* LIBUSB_ERROR_NO_DEVICE seen: fail fast from now on */
  char name[96];
  uint32_t control_timeout_ms;
  pal_ftdi_chip_t chip;
  pal_usb_info_t info;
  pal_usb_stats_t stats;
  /* IN data: one transfer's payload, compacted in place; [pend_off, pend_len) unread */
  uint8_t *rx;
  size_t rx_cap;
  size_t pend_off, pend_len;
} usb_ftdi_t;

void pal_usb_options_initialize(pal_usb_options_t *options) {
  options->baud = USB_DEFAULT_BAUD;
  options->latency_ms = 1;
  options->control_timeout_ms = 1000;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- errors ----------------------------------------------------------------- */

static pal_status_t usb_error(const char *name, const char *what, int rc, bool *io_gone) {
  pal_status_code_t code;
  const char *hint = "";
  switch (rc) {
    case LIBUSB_ERROR_NO_DEVICE:
      code = PAL_UNAVAILABLE;
      hint = " (device unplugged?)";
      if (io_gone) *io_gone = true;
      break;
    case LIBUSB_ERROR_ACCESS:
      code = PAL_UNAVAILABLE;
      hint = " (no permission: install driver/99-pal.rules, or run as root)";
      break;
    case LIBUSB_ERROR_BUSY:
      code = PAL_UNAVAILABLE;
      hint = " (another program or kernel driver holds the interface)";
      break;
    case LIBUSB_ERROR_TIMEOUT: code = PAL_DEADLINE_EXCEEDED; break;
    case LIBUSB_ERROR_NO_MEM: code = PAL_RESOURCE_EXHAUSTED; break;
    case LIBUSB_ERROR_NOT_FOUND: code = PAL_NOT_FOUND; break;
    case LIBUSB_ERROR_NOT_SUPPORTED: code = PAL_UNIMPLEMENTED; break;
    case LIBUSB_ERROR_INVALID_PARAM: code = PAL_INVALID_ARGUMENT; break;
    case LIBUSB_ERROR_PIPE:
      code = PAL_IO_ERROR;
      hint = " (endpoint stalled)";
      break;
    default: code = PAL_IO_ERROR; break;
  }
  return pal_status_make(code, "%s: %s failed: %s%s", name, what, libusb_error_name(rc), hint);
}

/* ---- spec ------------------------------------------------------------------- */

typedef struct usb_spec {
  uint16_t vid, pid;
  int interface_number; /* -1: the default for the device */
  char serial[USB_SERIAL_MAX];
  bool has_serial;
  uint32_t baud;
  uint32_t latency_ms;
  char name[96];
} usb_spec_t;

static bool parse_hex16(const char *s, size_t n, uint16_t *out) {
  if (n == 0 || n > 4) return false;
  uint32_t v = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return false;
    v = v * 16 + (uint32_t)d;
  }
  *out = (uint16_t)v;
  return true;
}

static bool parse_dec(const char *s, size_t n, uint32_t max, uint32_t *out) {
  if (n == 0 || n > 10) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v > max) return false;
  *out = (uint32_t)v;
  return true;
}

static pal_status_t parse_spec(const char *spec, const pal_usb_options_t *o, usb_spec_t *out) {
  memset(out, 0, sizeof *out);
  out->interface_number = -1;
  out->baud = o->baud;
  out->latency_ms = o->latency_ms;
  if (!spec) return pal_status_make(PAL_INVALID_ARGUMENT, "usb://: no device spec");
  const char *s = spec;
  if (strncmp(s, "usb://", 6) == 0) s += 6;
  const char *q = strchr(s, '?');
  size_t tlen = q ? (size_t)(q - s) : strlen(s);
  const char *colon = memchr(s, ':', tlen);
  if (!colon || !parse_hex16(s, (size_t)(colon - s), &out->vid) ||
      !parse_hex16(colon + 1, tlen - (size_t)(colon - s) - 1, &out->pid))
    return pal_status_make(PAL_INVALID_ARGUMENT,
                           "usb://%s: want VID:PID in hex, as in usb://0403:6010?interface=1", s);
  snprintf(out->name, sizeof out->name, "usb://%04x:%04x", out->vid, out->pid);
  while (q && *q) {
    const char *k = q + 1;
    const char *amp = strchr(k, '&');
    size_t len = amp ? (size_t)(amp - k) : strlen(k);
    const char *eq = memchr(k, '=', len);
    if (!eq || eq == k)
      return pal_status_make(PAL_INVALID_ARGUMENT, "%s: query item '%.*s' is not KEY=VALUE", out->name, (int)len, k);
    size_t klen = (size_t)(eq - k), vlen = len - klen - 1;
    const char *v = eq + 1;
    if (klen == 9 && memcmp(k, "interface", 9) == 0) {
      uint32_t x;
      if (!parse_dec(v, vlen, 3, &x))
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: interface '%.*s' is not 0..3", out->name, (int)vlen, v);
      out->interface_number = (int)x;
    } else if (klen == 6 && memcmp(k, "serial", 6) == 0) {
      if (vlen == 0 || vlen >= USB_SERIAL_MAX)
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: serial must be 1..%u characters", out->name,
                               USB_SERIAL_MAX - 1);
      memcpy(out->serial, v, vlen);
      out->serial[vlen] = 0;
      out->has_serial = true;
    } else if (klen == 4 && memcmp(k, "baud", 4) == 0) {
      if (!parse_dec(v, vlen, 12000000u, &out->baud) || out->baud == 0)
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: baud '%.*s' is not 1..12000000", out->name, (int)vlen, v);
    } else if (klen == 10 && memcmp(k, "latency_ms", 10) == 0) {
      if (!parse_dec(v, vlen, 255, &out->latency_ms) || out->latency_ms == 0)
        return pal_status_make(PAL_INVALID_ARGUMENT, "%s: latency_ms '%.*s' is not 1..255", out->name, (int)vlen, v);
    } else {
      return pal_status_make(PAL_INVALID_ARGUMENT,
                             "%s: unknown key '%.*s' (usb:// takes interface, serial, baud, latency_ms)", out->name,
                             (int)klen, k);
    }
    q = amp;
  }
  if (out->latency_ms == 0 || out->latency_ms > 255)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: latency_ms %" PRIu32 " is not 1..255", out->name, out->latency_ms);
  if (out->has_serial) {
    size_t n = strlen(out->name);
    snprintf(out->name + n, sizeof out->name - n, "?serial=%s", out->serial);
  }
  return PAL_STATUS_OK;
}

/* ---- control requests --------------------------------------------------------- */

static pal_status_t sio_request(usb_ftdi_t *u, const char *what, uint8_t request, uint16_t value, uint16_t index) {
  int rc = libusb_control_transfer(u->handle, PAL_FTDI_REQTYPE_OUT, request, value, index, NULL, 0,
                                   u->control_timeout_ms);
  if (rc < 0) {
    char buf[96];
    snprintf(buf, sizeof buf, "%s (bRequest 0x%02x, wValue 0x%04x, wIndex 0x%04x)", what, request, value, index);
    return usb_error(u->name, buf, rc, &u->gone);
  }
  return PAL_STATUS_OK;
}

static pal_status_t ftdi_setup(usb_ftdi_t *u, const pal_ftdi_baud_t *baud, uint32_t latency_ms) {
  uint16_t ch = u->info.channel;
  PAL_RETURN_IF_ERROR(sio_request(u, "reset", PAL_FTDI_SIO_RESET, PAL_FTDI_RESET_SIO, ch));
  PAL_RETURN_IF_ERROR(sio_request(u, "bit mode reset", PAL_FTDI_SIO_SET_BITMODE, 0x0000, ch));
  PAL_RETURN_IF_ERROR(sio_request(u, "latency timer", PAL_FTDI_SIO_SET_LATENCY, (uint16_t)latency_ms, ch));
  PAL_RETURN_IF_ERROR(sio_request(u, "line properties 8N1", PAL_FTDI_SIO_SET_DATA, PAL_FTDI_DATA_8N1, ch));
  PAL_RETURN_IF_ERROR(sio_request(u, "flow control off", PAL_FTDI_SIO_SET_FLOW_CTRL, 0x0000, ch));
  PAL_RETURN_IF_ERROR(sio_request(u, "baud rate", PAL_FTDI_SIO_SET_BAUDRATE, baud->value, baud->index));
  PAL_RETURN_IF_ERROR(sio_request(u, "purge RX", PAL_FTDI_SIO_RESET, PAL_FTDI_RESET_PURGE_RX, ch));
  PAL_RETURN_IF_ERROR(sio_request(u, "purge TX", PAL_FTDI_SIO_RESET, PAL_FTDI_RESET_PURGE_TX, ch));
  return PAL_STATUS_OK;
}

/* ---- transport ops ------------------------------------------------------------- */

static void usb_close(void *self) {
  usb_ftdi_t *u = self;
  if (!u) return;
  if (u->handle) {
    if (u->claimed) (void)libusb_release_interface(u->handle, u->info.interface_number);
    libusb_close(u->handle);
  }
  if (u->ctx) libusb_exit(u->ctx);
  free(u->rx);
  free(u);
}

static pal_status_t gone_status(const usb_ftdi_t *u) {
  return pal_status_make(PAL_UNAVAILABLE, "%s: device is gone (LIBUSB_ERROR_NO_DEVICE earlier; unplugged?)", u->name);
}

/* Strips the status bytes of each max-packet-size chunk of rx[0, got),
 * compacting the payload to the front of rx. */
static void strip_status(usb_ftdi_t *u, size_t got) {
  size_t w = 0, mp = u->info.max_packet;
  for (size_t off = 0; off < got; off += mp) {
    size_t chunk = got - off < mp ? got - off : mp;
    u->stats.packets_in++;
    if (chunk < PAL_FTDI_STATUS_BYTES) continue; /* not an FTDI packet; nothing to keep */
    uint8_t line = u->rx[off + 1];
    if (line & PAL_FTDI_LINE_OVERRUN) u->stats.overrun_errors++;
    if (line & PAL_FTDI_LINE_PARITY) u->stats.parity_errors++;
    if (line & PAL_FTDI_LINE_FRAMING) u->stats.framing_errors++;
    if (line & PAL_FTDI_LINE_BREAK) u->stats.breaks++;
    size_t n = chunk - PAL_FTDI_STATUS_BYTES;
    if (n == 0) u->stats.status_only_packets++;
    memmove(u->rx + w, u->rx + off + PAL_FTDI_STATUS_BYTES, n);
    w += n;
  }
  u->pend_off = 0;
  u->pend_len = w;
  u->stats.bytes_in += w;
}

static size_t take_pending(usb_ftdi_t *u, uint8_t *data, size_t cap) {
  size_t n = u->pend_len - u->pend_off < cap ? u->pend_len - u->pend_off : cap;
  memcpy(data, u->rx + u->pend_off, n);
  u->pend_off += n;
  if (u->pend_off == u->pend_len) u->pend_off = u->pend_len = 0;
  return n;
}

static pal_status_t usb_read(void *self, uint8_t *data, size_t cap, size_t *out_len, uint32_t timeout_ms) {
  usb_ftdi_t *u = self;
  *out_len = 0;
  if (u->gone) return gone_status(u);
  if (cap == 0) return PAL_STATUS_OK;
  if (u->pend_len > u->pend_off) {
    *out_len = take_pending(u, data, cap);
    return PAL_STATUS_OK;
  }
  uint64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    uint64_t now = now_ms();
    /* libusb reads a timeout of 0 as "forever": wait at least 1 ms. */
    unsigned int t = now < deadline ? (unsigned int)(deadline - now) : 1u;
    int got = 0;
    int rc = libusb_bulk_transfer(u->handle, u->info.endpoint_in, u->rx, (int)u->rx_cap, &got, t);
    if (got > 0 && (rc == 0 || rc == LIBUSB_ERROR_TIMEOUT)) strip_status(u, (size_t)got);
    if (rc != 0 && rc != LIBUSB_ERROR_TIMEOUT) {
      u->pend_off = u->pend_len = 0;
      return usb_error(u->name, "bulk read", rc, &u->gone);
    }
    if (u->pend_len > 0) {
      *out_len = take_pending(u, data, cap);
      return PAL_STATUS_OK;
    }
    /* Only status bytes (the latency timer fired) or nothing: wait on. */
    if (rc == LIBUSB_ERROR_TIMEOUT || now_ms() >= deadline) return PAL_STATUS_OK;
  }
}

static pal_status_t usb_write(void *self, const uint8_t *data, size_t len, uint32_t timeout_ms) {
  usb_ftdi_t *u = self;
  if (u->gone) return gone_status(u);
  uint64_t deadline = now_ms() + timeout_ms;
  size_t done = 0;
  while (done < len) {
    uint64_t now = now_ms();
    if (now >= deadline && done > 0)
      return pal_status_make(PAL_DEADLINE_EXCEEDED, "%s: bulk write timed out after %" PRIu32 " ms (%zu of %zu bytes sent)",
                             u->name, timeout_ms, done, len);
    unsigned int t = now < deadline ? (unsigned int)(deadline - now) : 1u;
    size_t chunk = len - done < USB_TX_CHUNK ? len - done : USB_TX_CHUNK;
    int sent = 0;
    int rc = libusb_bulk_transfer(u->handle, u->info.endpoint_out, (unsigned char *)(uintptr_t)(data + done),
                                  (int)chunk, &sent, t);
    if (sent > 0) {
      done += (size_t)sent;
      u->stats.bytes_out += (uint64_t)sent;
    }
    if (rc == 0) continue;
    if (rc == LIBUSB_ERROR_TIMEOUT) {
      if (now_ms() >= deadline)
        return pal_status_make(PAL_DEADLINE_EXCEEDED,
                               "%s: bulk write timed out after %" PRIu32 " ms (%zu of %zu bytes sent)", u->name,
                               timeout_ms, done, len);
      continue;
    }
    return usb_error(u->name, "bulk write", rc, &u->gone);
  }
  return PAL_STATUS_OK;
}

static pal_status_t usb_purge(void *self) {
  usb_ftdi_t *u = self;
  if (u->gone) return gone_status(u);
  u->pend_off = u->pend_len = 0;
  uint16_t ch = u->info.channel;
  PAL_RETURN_IF_ERROR(sio_request(u, "purge RX", PAL_FTDI_SIO_RESET, PAL_FTDI_RESET_PURGE_RX, ch));
  return sio_request(u, "purge TX", PAL_FTDI_SIO_RESET, PAL_FTDI_RESET_PURGE_TX, ch);
}

static const pal_transport_ops_t kUsbOps = {
    .write = usb_write,
    .read = usb_read,
    .purge = usb_purge,
    .close = usb_close,
};

/* ---- open ---------------------------------------------------------------------- */

static int interfaces_of(pal_ftdi_chip_t chip) {
  switch (chip) {
    case PAL_FTDI_CHIP_2232C:
    case PAL_FTDI_CHIP_2232H: return 2;
    case PAL_FTDI_CHIP_4232H: return 4;
    default: return 1;
  }
}

/* Appends 'serial' to the comma-separated list of serials seen, for the
 * not-found message (truncated silently when long). */
static void seen_append(char *buf, size_t size, const char *serial) {
  size_t n = strlen(buf);
  if (n + 4 >= size) return;
  snprintf(buf + n, size - n, "%s'%s'", n ? ", " : "", serial);
}

static pal_status_t find_device(usb_ftdi_t *u, const usb_spec_t *spec, struct libusb_device_descriptor *out_desc) {
  libusb_device **list = NULL;
  ssize_t n = libusb_get_device_list(u->ctx, &list);
  if (n < 0) return usb_error(u->name, "listing USB devices", (int)n, NULL);
  size_t matches = 0;
  int open_error = 0;
  char seen[256] = "";
  pal_status_t st = PAL_STATUS_OK;
  for (ssize_t i = 0; i < n && !u->handle && !st; i++) {
    struct libusb_device_descriptor d;
    if (libusb_get_device_descriptor(list[i], &d) != 0) continue;
    if (d.idVendor != spec->vid || d.idProduct != spec->pid) continue;
    matches++;
    libusb_device_handle *h = NULL;
    int rc = libusb_open(list[i], &h);
    if (rc != 0) {
      if (!spec->has_serial) {
        st = usb_error(u->name, "opening the device", rc, NULL);
        break;
      }
      open_error = rc; /* perhaps the one we want; say so if none matches */
      continue;
    }
    char serial[USB_SERIAL_MAX] = "";
    if (d.iSerialNumber) {
      int len = libusb_get_string_descriptor_ascii(h, d.iSerialNumber, (unsigned char *)serial, sizeof serial);
      if (len < 0) serial[0] = 0;
      else serial[len < (int)sizeof serial ? len : (int)sizeof serial - 1] = 0;
    }
    if (spec->has_serial && strcmp(serial, spec->serial) != 0) {
      seen_append(seen, sizeof seen, serial);
      libusb_close(h);
      continue;
    }
    u->handle = h;
    *out_desc = d;
    snprintf(u->info.serial, sizeof u->info.serial, "%s", serial);
    uint8_t iface = (uint8_t)(spec->interface_number >= 0 ? spec->interface_number : (spec->vid == 0x0403 && spec->pid == 0x6010) ? 1 : 0);
    u->info.interface_number = iface;
    u->chip = pal_ftdi_chip_from_bcd(d.bcdDevice);
    snprintf(u->info.chip, sizeof u->info.chip, "%s", pal_ftdi_chip_name(u->chip));
    if (u->chip == PAL_FTDI_CHIP_UNKNOWN || u->chip == PAL_FTDI_CHIP_AM) {
      st = pal_status_make(PAL_UNIMPLEMENTED, "%s: bcdDevice 0x%04x is not an FTDI chip this driver supports", u->name,
                           d.bcdDevice);
      break;
    }
    if (iface >= interfaces_of(u->chip)) {
      st = pal_status_make(PAL_INVALID_ARGUMENT, "%s: interface %u, but an %s has %d", u->name, iface, u->info.chip,
                           interfaces_of(u->chip));
      break;
    }
    int mp = libusb_get_max_packet_size(list[i], pal_ftdi_endpoint_in(iface));
    if (mp < 0) {
      st = usb_error(u->name, "reading the IN endpoint's wMaxPacketSize", mp, NULL);
    } else if (mp <= (int)PAL_FTDI_STATUS_BYTES) {
      st = pal_status_make(PAL_IO_ERROR, "%s: IN endpoint 0x%02x has wMaxPacketSize %d, too small for an FTDI UART",
                           u->name, pal_ftdi_endpoint_in(iface), mp);
    } else {
      u->info.max_packet = (uint16_t)mp;
    }
  }
  libusb_free_device_list(list, 1);
  if (st || u->handle) return st;
  if (matches == 0)
    return pal_status_make(PAL_NOT_FOUND,
                           "%s: no USB device with VID %04x PID %04x among the %zd present (board plugged in? "
                           "lsusb lists what the system sees)",
                           u->name, spec->vid, spec->pid, n);
  if (open_error)
    return pal_status_make(PAL_NOT_FOUND,
                           "%s: no device %04x:%04x with serial '%s': %zu with that VID:PID, serials [%s]; "
                           "one could not be opened to read its serial (%s)",
                           u->name, spec->vid, spec->pid, spec->serial, matches, seen, libusb_error_name(open_error));
  return pal_status_make(PAL_NOT_FOUND, "%s: no device %04x:%04x with serial '%s': %zu with that VID:PID, serials [%s]",
                         u->name, spec->vid, spec->pid, spec->serial, matches, seen);
}

pal_status_t pal_usb_transport_open_with_options(const char *spec_text, const pal_usb_options_t *options,
                                                 pal_transport_t *out_transport) {
  if (!out_transport) return pal_status_make(PAL_INVALID_ARGUMENT, "usb://: out_transport is NULL");
  memset(out_transport, 0, sizeof *out_transport);
  pal_usb_options_t o;
  if (options)
    o = *options;
  else
    pal_usb_options_initialize(&o);
  usb_spec_t spec;
  PAL_RETURN_IF_ERROR(parse_spec(spec_text, &o, &spec));
  usb_ftdi_t *u = calloc(1, sizeof *u);
  if (!u) return pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", spec.name);
  snprintf(u->name, sizeof u->name, "%s", spec.name);
  u->control_timeout_ms = o.control_timeout_ms ? o.control_timeout_ms : 1000;
  pal_status_t st = PAL_STATUS_OK;
  int rc = libusb_init(&u->ctx);
  if (rc != 0) {
    u->ctx = NULL;
    st = usb_error(u->name, "libusb_init", rc, NULL);
  }
  struct libusb_device_descriptor desc;
  memset(&desc, 0, sizeof desc);
  if (!st) st = find_device(u, &spec, &desc);
  pal_ftdi_baud_t baud = {0};
  if (!st) {
    u->info.vid = desc.idVendor;
    u->info.pid = desc.idProduct;
    u->info.bcd_device = desc.bcdDevice;
  }
  if (!st) {
    u->info.channel = pal_ftdi_channel(u->chip, u->info.interface_number);
    u->info.endpoint_in = pal_ftdi_endpoint_in(u->info.interface_number);
    u->info.endpoint_out = pal_ftdi_endpoint_out(u->info.interface_number);
    u->info.baud = spec.baud;
    st = pal_ftdi_baud_divisor(u->chip, u->info.channel, spec.baud, &baud);
    if (st) st = pal_status_annotate(st, "%s", u->name);
  }
  if (!st) {
    u->info.actual_baud = baud.actual;
    u->info.byte_time_ns = (uint32_t)((10ull * 1000000000ull + baud.actual / 2) / baud.actual);
    rc = libusb_set_auto_detach_kernel_driver(u->handle, 1);
    if (rc != 0 && rc != LIBUSB_ERROR_NOT_SUPPORTED) st = usb_error(u->name, "enabling kernel driver auto-detach", rc, NULL);
  }
  if (!st) {
    rc = libusb_claim_interface(u->handle, u->info.interface_number);
    if (rc != 0) {
      char what[48];
      snprintf(what, sizeof what, "claiming interface %u", u->info.interface_number);
      st = usb_error(u->name, what, rc, NULL);
    } else {
      u->claimed = true;
    }
  }
  if (!st) st = ftdi_setup(u, &baud, spec.latency_ms);
  if (!st) {
    size_t mp = u->info.max_packet;
    u->rx_cap = (USB_RX_TARGET + mp - 1) / mp * mp;
    u->rx = malloc(u->rx_cap);
    if (!u->rx) st = pal_status_make(PAL_RESOURCE_EXHAUSTED, "%s: out of memory", u->name);
  }
  if (st) {
    usb_close(u);
    return st;
  }
  out_transport->ops = &kUsbOps;
  out_transport->self = u;
  snprintf(out_transport->name, sizeof out_transport->name, "%s", u->name);
  return PAL_STATUS_OK;
}

pal_status_t pal_usb_transport_open(const char *spec, pal_transport_t *out_transport) {
  return pal_usb_transport_open_with_options(spec, NULL, out_transport);
}

pal_status_t pal_usb_transport_get_info(const pal_transport_t *transport, pal_usb_info_t *out_info) {
  if (!transport || transport->ops != &kUsbOps || !out_info)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: not a usb:// transport",
                           transport ? transport->name : "(null)");
  *out_info = ((const usb_ftdi_t *)transport->self)->info;
  return PAL_STATUS_OK;
}

pal_status_t pal_usb_transport_get_stats(const pal_transport_t *transport, pal_usb_stats_t *out_stats) {
  if (!transport || transport->ops != &kUsbOps || !out_stats)
    return pal_status_make(PAL_INVALID_ARGUMENT, "%s: not a usb:// transport",
                           transport ? transport->name : "(null)");
  *out_stats = ((const usb_ftdi_t *)transport->self)->stats;
  return PAL_STATUS_OK;
}
