/* The usb:// FTDI transport against a fake device: every libusb function
 * driver/usb_ftdi.c calls is replaced at link time (-Wl,--wrap=<f>, see
 * driver/palk.mk), control requests are cmocka expectations checked field
 * by field (bmRequestType, bRequest, wValue, wIndex) in order, and bulk IN
 * data comes from a script. Also the baud divisor encoding against the
 * values Linux ftdi_sio and libftdi compute. */
#include <libusb.h>
#include <time.h>

#include "ftdi.h"
#include "pal/driver.h"
#include "pal/kernel_image.h"
#include "pal/protocol.h"
#include "pal/usb.h"
#include "tile_test_util.h"

/* ======================================================================== */
/* The fake libusb                                                          */
/* ======================================================================== */

#define MAX_DEVS 4
#define MAX_IN 16

typedef struct fake_dev {
  uint16_t vid, pid, bcd;
  const char *serial; /* NULL: iSerialNumber = 0 */
  int open_error;
  int max_packet; /* or a negative libusb error */
} fake_dev_t;

typedef struct in_step {
  int rc;         /* 0, LIBUSB_ERROR_TIMEOUT with or without data, or an error */
  size_t len;     /* bytes "transferred" */
  uint8_t data[4096];
} in_step_t;

static struct {
  fake_dev_t devs[MAX_DEVS];
  size_t n_devs;
  int init_error, claim_error, detach_error, release_error;
  bool opened[MAX_DEVS], closed[MAX_DEVS];
  int claimed_interface;
  bool released, exited, list_freed, detach_enabled;
  in_step_t in[MAX_IN];
  size_t n_in, in_pos;
  bool in_status_only_forever; /* after the script: status-only packets, else timeouts */
  uint64_t in_calls, out_calls;
  unsigned char expect_in_ep, expect_out_ep;
  int in_max_packet;
  /* bulk OUT: each call takes up to out_limit bytes, then returns out_rc once */
  uint8_t out[65536];
  size_t out_len, out_limit;
  int out_rc[8];
  size_t n_out_rc, out_rc_pos;
  int out_rc_forever; /* after the script */
  /* far-end mode: a link-engine model answers what is written */
  pal_link_model_t *model;
  uint8_t *fifo;
  size_t fifo_head, fifo_tail, fifo_cap;
  bool control_lenient; /* accept any setup/purge request */
  uint64_t control_calls;
} g;

static char g_ctx_token, g_handle_tokens[MAX_DEVS];

static void fake_reset(void) {
  memset(&g, 0, sizeof g);
  g.claimed_interface = -1;
  g.out_limit = SIZE_MAX;
}

static size_t handle_index(libusb_device_handle *h) { return (size_t)((char *)(void *)h - g_handle_tokens); }
static size_t dev_index(libusb_device *d) { return (size_t)((fake_dev_t *)(void *)d - g.devs); }

int __wrap_libusb_init(libusb_context **ctx);
int __wrap_libusb_init(libusb_context **ctx) {
  *ctx = g.init_error ? NULL : (libusb_context *)(void *)&g_ctx_token;
  return g.init_error;
}

void __wrap_libusb_exit(libusb_context *ctx);
void __wrap_libusb_exit(libusb_context *ctx) {
  assert_ptr_equal(ctx, &g_ctx_token);
  g.exited = true;
}

static libusb_device *g_list[MAX_DEVS + 1];

ssize_t __wrap_libusb_get_device_list(libusb_context *ctx, libusb_device ***list);
ssize_t __wrap_libusb_get_device_list(libusb_context *ctx, libusb_device ***list) {
  assert_ptr_equal(ctx, &g_ctx_token);
  for (size_t i = 0; i < g.n_devs; i++) g_list[i] = (libusb_device *)(void *)&g.devs[i];
  g_list[g.n_devs] = NULL;
  *list = g_list;
  return (ssize_t)g.n_devs;
}

void __wrap_libusb_free_device_list(libusb_device **list, int unref);
void __wrap_libusb_free_device_list(libusb_device **list, int unref) {
  assert_ptr_equal(list, g_list);
  assert_int_equal(unref, 1);
  g.list_freed = true;
}

int __wrap_libusb_get_device_descriptor(libusb_device *dev, struct libusb_device_descriptor *desc);
int __wrap_libusb_get_device_descriptor(libusb_device *dev, struct libusb_device_descriptor *desc) {
  const fake_dev_t *d = &g.devs[dev_index(dev)];
  memset(desc, 0, sizeof *desc);
  desc->bLength = LIBUSB_DT_DEVICE_SIZE;
  desc->bDescriptorType = LIBUSB_DT_DEVICE;
  desc->idVendor = d->vid;
  desc->idProduct = d->pid;
  desc->bcdDevice = d->bcd;
  desc->iSerialNumber = d->serial ? 3 : 0;
  desc->bNumConfigurations = 1;
  return 0;
}

int __wrap_libusb_open(libusb_device *dev, libusb_device_handle **handle);
int __wrap_libusb_open(libusb_device *dev, libusb_device_handle **handle) {
  size_t i = dev_index(dev);
  if (g.devs[i].open_error) return g.devs[i].open_error;
  g.opened[i] = true;
  *handle = (libusb_device_handle *)(void *)&g_handle_tokens[i];
  return 0;
}

void __wrap_libusb_close(libusb_device_handle *h);
void __wrap_libusb_close(libusb_device_handle *h) {
  size_t i = handle_index(h);
  assert_true(g.opened[i]);
  assert_false(g.closed[i]);
  g.closed[i] = true;
}

int __wrap_libusb_get_string_descriptor_ascii(libusb_device_handle *h, uint8_t index, unsigned char *data, int length);
int __wrap_libusb_get_string_descriptor_ascii(libusb_device_handle *h, uint8_t index, unsigned char *data, int length) {
  const fake_dev_t *d = &g.devs[handle_index(h)];
  assert_int_equal(index, 3);
  assert_non_null(d->serial);
  int n = (int)strlen(d->serial);
  if (n > length - 1) n = length - 1;
  memcpy(data, d->serial, (size_t)n);
  data[n] = 0;
  return n;
}

int __wrap_libusb_get_max_packet_size(libusb_device *dev, unsigned char endpoint);
int __wrap_libusb_get_max_packet_size(libusb_device *dev, unsigned char endpoint) {
  assert_int_equal(endpoint, g.expect_in_ep);
  g.in_max_packet = g.devs[dev_index(dev)].max_packet;
  return g.in_max_packet;
}

int __wrap_libusb_set_auto_detach_kernel_driver(libusb_device_handle *h, int enable);
int __wrap_libusb_set_auto_detach_kernel_driver(libusb_device_handle *h, int enable) {
  (void)h;
  assert_int_equal(enable, 1);
  assert_int_equal(g.claimed_interface, -1); /* before claiming */
  g.detach_enabled = g.detach_error == 0;
  return g.detach_error;
}

int __wrap_libusb_claim_interface(libusb_device_handle *h, int interface_number);
int __wrap_libusb_claim_interface(libusb_device_handle *h, int interface_number) {
  (void)h;
  if (g.claim_error) return g.claim_error;
  g.claimed_interface = interface_number;
  return 0;
}

int __wrap_libusb_release_interface(libusb_device_handle *h, int interface_number);
int __wrap_libusb_release_interface(libusb_device_handle *h, int interface_number) {
  (void)h;
  assert_int_equal(interface_number, g.claimed_interface);
  g.released = true;
  return g.release_error;
}

int __wrap_libusb_control_transfer(libusb_device_handle *h, uint8_t request_type, uint8_t request, uint16_t value,
                                   uint16_t index, unsigned char *data, uint16_t length, unsigned int timeout);
int __wrap_libusb_control_transfer(libusb_device_handle *h, uint8_t request_type, uint8_t request, uint16_t value,
                                   uint16_t index, unsigned char *data, uint16_t length, unsigned int timeout) {
  (void)h, (void)data;
  g.control_calls++;
  if (g.control_lenient) {
    assert_int_equal(request_type, 0x40);
    return 0;
  }
  check_expected(request_type);
  check_expected(request);
  check_expected(value);
  check_expected(index);
  assert_int_equal(length, 0);
  assert_true(timeout > 0); /* 0 would wait forever */
  return (int)mock();
}

int __wrap_libusb_bulk_transfer(libusb_device_handle *h, unsigned char endpoint, unsigned char *data, int length,
                                int *transferred, unsigned int timeout);
int __wrap_libusb_bulk_transfer(libusb_device_handle *h, unsigned char endpoint, unsigned char *data, int length,
                                int *transferred, unsigned int timeout) {
  (void)h;
  assert_true(timeout > 0); /* 0 would wait forever */
  *transferred = 0;
  if (endpoint & 0x80) {
    g.in_calls++;
    assert_int_equal(endpoint, g.expect_in_ep);
    /* IN requests must be whole packets, or the chip's data overflows them */
    assert_int_equal(length % g.in_max_packet, 0);
    if (g.model) { /* packets of the model's replies, two status bytes each */
      if (g.fifo_head == g.fifo_tail) return LIBUSB_ERROR_TIMEOUT;
      int off = 0;
      while (off + g.in_max_packet <= length && g.fifo_head < g.fifo_tail) {
        size_t n = g.fifo_tail - g.fifo_head;
        if (n > (size_t)g.in_max_packet - 2) n = (size_t)g.in_max_packet - 2;
        data[off] = 0x01;
        data[off + 1] = 0x60;
        memcpy(data + off + 2, g.fifo + g.fifo_head, n);
        g.fifo_head += n;
        off += (int)n + 2;
        if ((int)n + 2 < g.in_max_packet) break; /* a short packet ends the transfer */
      }
      *transferred = off;
      return 0;
    }
    if (g.in_pos < g.n_in) {
      const in_step_t *s = &g.in[g.in_pos++];
      assert_true((int)s->len <= length);
      memcpy(data, s->data, s->len);
      *transferred = (int)s->len;
      return s->rc;
    }
    if (g.in_status_only_forever) {
      data[0] = 0x01;
      data[1] = 0x60;
      *transferred = 2;
      return 0;
    }
    return LIBUSB_ERROR_TIMEOUT;
  }
  g.out_calls++;
  assert_int_equal(endpoint, g.expect_out_ep);
  if (g.model) {
    pal_link_model_receive(g.model, data, (size_t)length);
    *transferred = length;
    return 0;
  }
  size_t n = (size_t)length < g.out_limit ? (size_t)length : g.out_limit;
  bool scripted = g.out_rc_pos < g.n_out_rc;
  int rc = scripted ? g.out_rc[g.out_rc_pos++] : g.out_rc_forever;
  if (!scripted && rc == LIBUSB_ERROR_TIMEOUT) n = 0; /* a stuck device */
  if (rc != 0 && rc != LIBUSB_ERROR_TIMEOUT) n = 0;
  assert_true(g.out_len + n <= sizeof g.out);
  memcpy(g.out + g.out_len, data, n);
  g.out_len += n;
  *transferred = (int)n;
  return rc;
}

/* ======================================================================== */
/* Helpers                                                                  */
/* ======================================================================== */

static void add_dev(uint16_t vid, uint16_t pid, uint16_t bcd, const char *serial, int max_packet) {
  fake_dev_t *d = &g.devs[g.n_devs++];
  d->vid = vid;
  d->pid = pid;
  d->bcd = bcd;
  d->serial = serial;
  d->max_packet = max_packet;
}

static void expect_control(uint8_t request, uint16_t value, uint16_t index, int rc) {
  expect_value(__wrap_libusb_control_transfer, request_type, 0x40);
  expect_value(__wrap_libusb_control_transfer, request, request);
  expect_value(__wrap_libusb_control_transfer, value, value);
  expect_value(__wrap_libusb_control_transfer, index, index);
  will_return(__wrap_libusb_control_transfer, rc);
}

/* The whole setup sequence, in order, with the exact requests. */
static void expect_setup(uint16_t ch, uint16_t latency, uint16_t baud_value, uint16_t baud_index) {
  expect_control(0x00, 0x0000, ch, 0);          /* reset SIO */
  expect_control(0x0B, 0x0000, ch, 0);          /* bit mode: reset (UART) */
  expect_control(0x09, latency, ch, 0);         /* latency timer */
  expect_control(0x04, 0x0008, ch, 0);          /* 8 data bits, no parity, 1 stop bit */
  expect_control(0x02, 0x0000, ch, 0);          /* flow control off */
  expect_control(0x03, baud_value, baud_index, 0); /* baud rate */
  expect_control(0x00, 0x0001, ch, 0);          /* purge RX */
  expect_control(0x00, 0x0002, ch, 0);          /* purge TX */
}

static void must_ok(pal_status_t st) {
  if (st) {
    print_error("unexpected failure: %s\n", pal_status_message(st));
    pal_status_free(st);
    fail();
  }
}

static void must_fail(pal_status_t st, pal_status_code_t code, const char *substring) {
  if (!st) fail_msg("expected %s \"%s\", got success", pal_status_code_name(code), substring);
  if (pal_status_code(st) != code || !strstr(pal_status_message(st), substring)) {
    print_error("expected %s \"%s\", got %s: %s\n", pal_status_code_name(code), substring,
                pal_status_code_name(pal_status_code(st)), pal_status_message(st));
    pal_status_free(st);
    fail();
  }
  pal_status_free(st);
}

/* An FT2232H on channel B (the iCEBreaker), open at 3 Mbaud. */
static void open_ft2232h(pal_transport_t *t) {
  add_dev(0x0403, 0x6010, 0x0700, "FT2232H-1", 512);
  g.expect_in_ep = 0x83;
  g.expect_out_ep = 0x04;
  expect_setup(0x0002, 1, 0x0004, 0x0202);
  must_ok(pal_usb_transport_open("usb://0403:6010?interface=1", t));
}

static void open_ft231x(pal_transport_t *t) {
  add_dev(0x0403, 0x6015, 0x1000, "D00001", 64);
  g.expect_in_ep = 0x81;
  g.expect_out_ep = 0x02;
  expect_setup(0x0001, 1, 0x0000, 0x0001);
  must_ok(pal_usb_transport_open("0403:6015", t));
}

static void check_closed_cleanly(size_t dev) {
  assert_true(g.closed[dev]);
  assert_true(g.exited);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Appends one IN transfer made of packets: each packet is the two status
 * bytes then `payload[i]` bytes of a running counter. */
static uint8_t g_counter;
static void script_in(int rc, const size_t *payload, size_t n_packets, uint8_t line_status) {
  in_step_t *s = &g.in[g.n_in++];
  s->rc = rc;
  s->len = 0;
  for (size_t p = 0; p < n_packets; p++) {
    s->data[s->len++] = 0x01; /* modem status: CTS etc.; whatever the chip says */
    s->data[s->len++] = line_status;
    for (size_t k = 0; k < payload[p]; k++) s->data[s->len++] = g_counter++;
  }
}

static int setup(void **state) {
  (void)state;
  fake_reset();
  g_counter = 0;
  return 0;
}

/* ======================================================================== */
/* Baud divisors                                                            */
/* ======================================================================== */

/* Expected values derived from the Linux ftdi_sio algorithm
 * (ftdi_2232h_baud_base_to_divisor: divisor3 = round(8 * 120 MHz / (10 *
 * baud)), flag 0x20000; ftdi_232bm_baud_base_to_divisor: divisor3 =
 * round(48 MHz / (2 * baud)); fraction codes {0,3,2,4,1,5,6,7}; 1.0 -> 0,
 * 1.5 -> 1; change_speed: wIndex = (divisor >> 16) << 8 | channel when the
 * chip has a channel byte, since 528222d0c8ce also on FT-X). libftdi's
 * ftdi_convert_baudrate gives the same wValue in every row and the same
 * wIndex on the H chips; 9600 -> 0x4138 and 115200 -> 0x001A are the worked
 * examples of FTDI AN232B-05. */
static void test_divisor_known_values(void **state) {
  (void)state;
  static const struct {
    pal_ftdi_chip_t chip;
    uint8_t channel;
    uint32_t baud;
    uint16_t value, index;
    uint32_t actual;
  } kCases[] = {
      /* FT2232H, channel B (iCEBreaker UART) and A */
      {PAL_FTDI_CHIP_2232H, 2, 3000000, 0x0004, 0x0202, 3000000},  /* 12 MHz / 4, exact */
      {PAL_FTDI_CHIP_2232H, 2, 115200, 0xC068, 0x0202, 115246},    /* 104.125 */
      {PAL_FTDI_CHIP_2232H, 1, 3000000, 0x0004, 0x0201, 3000000},
      {PAL_FTDI_CHIP_2232H, 2, 12000000, 0x0000, 0x0202, 12000000}, /* divisor 1 */
      {PAL_FTDI_CHIP_2232H, 2, 8000000, 0x0001, 0x0202, 8000000},  /* divisor 1.5 */
      {PAL_FTDI_CHIP_2232H, 2, 6000000, 0x0002, 0x0202, 6000000},  /* divisor 2 */
      {PAL_FTDI_CHIP_2232H, 2, 9600, 0x04E2, 0x0202, 9600},        /* 1250 */
      {PAL_FTDI_CHIP_2232H, 2, 1000000, 0x000C, 0x0202, 1000000},  /* 12 */
      {PAL_FTDI_CHIP_2232H, 2, 600, 0x1388, 0x0002, 600},          /* below 1200: 48 MHz clock, 5000 */
      {PAL_FTDI_CHIP_232H, 1, 3000000, 0x0004, 0x0201, 3000000},
      /* FT231X (ULX3S), channel byte 1 */
      {PAL_FTDI_CHIP_X, 1, 3000000, 0x0000, 0x0001, 3000000},      /* 3 MHz / 1 */
      {PAL_FTDI_CHIP_X, 1, 115200, 0x001A, 0x0001, 115385},        /* 26 */
      {PAL_FTDI_CHIP_X, 1, 2000000, 0x0001, 0x0001, 2000000},      /* 1.5 */
      {PAL_FTDI_CHIP_X, 1, 1000000, 0x0003, 0x0001, 1000000},      /* 3 */
      {PAL_FTDI_CHIP_X, 1, 921600, 0x8003, 0x0001, 923077},        /* 3.25 */
      {PAL_FTDI_CHIP_X, 1, 9600, 0x4138, 0x0001, 9600},            /* 312.5 */
      {PAL_FTDI_CHIP_X, 1, 1152000, 0x4002, 0x0101, 1142857},      /* 2.625: fraction MSB in wIndex[8] */
      /* FT232R: no channel byte, the fraction MSB in wIndex[0] */
      {PAL_FTDI_CHIP_R, 0, 115200, 0x001A, 0x0000, 115385},
      {PAL_FTDI_CHIP_R, 0, 1152000, 0x4002, 0x0001, 1142857},
  };
  for (size_t i = 0; i < sizeof kCases / sizeof kCases[0]; i++) {
    pal_ftdi_baud_t b;
    pal_status_t st = pal_ftdi_baud_divisor(kCases[i].chip, kCases[i].channel, kCases[i].baud, &b);
    if (st) fail_msg("case %zu (%u baud): %s", i, kCases[i].baud, pal_status_message(st));
    if (b.value != kCases[i].value || b.index != kCases[i].index || b.actual != kCases[i].actual)
      fail_msg("case %zu (%s, %u baud): wValue 0x%04x wIndex 0x%04x actual %u, want 0x%04x 0x%04x %u", i,
               pal_ftdi_chip_name(kCases[i].chip), kCases[i].baud, b.value, b.index, b.actual, kCases[i].value,
               kCases[i].index, kCases[i].actual);
  }
}

static void test_divisor_rejects(void **state) {
  (void)state;
  pal_ftdi_baud_t b;
  must_fail(pal_ftdi_baud_divisor(PAL_FTDI_CHIP_X, 1, 12000000, &b), PAL_OUT_OF_RANGE, "FT-X: baud 12000000 outside");
  must_fail(pal_ftdi_baud_divisor(PAL_FTDI_CHIP_2232H, 2, 13000000, &b), PAL_OUT_OF_RANGE, "at most 12000000");
  /* 2.5 Mbaud would need divisor 1.2: sub-integer divisors below 2 are only 1 and 1.5 */
  must_fail(pal_ftdi_baud_divisor(PAL_FTDI_CHIP_X, 1, 2500000, &b), PAL_OUT_OF_RANGE,
            "baud 2500000 cannot be made: the nearest rate is");
  must_fail(pal_ftdi_baud_divisor(PAL_FTDI_CHIP_X, 1, 100, &b), PAL_OUT_OF_RANGE, "below the chip's minimum");
  must_fail(pal_ftdi_baud_divisor(PAL_FTDI_CHIP_X, 1, 0, &b), PAL_OUT_OF_RANGE, "baud 0");
  must_fail(pal_ftdi_baud_divisor(PAL_FTDI_CHIP_AM, 0, 9600, &b), PAL_UNIMPLEMENTED, "FT8U232AM");
  must_fail(pal_ftdi_baud_divisor(PAL_FTDI_CHIP_UNKNOWN, 0, 9600, &b), PAL_UNIMPLEMENTED, "not supported");
  /* every rate the chips accept is within 3 % */
  for (uint32_t baud = 300; baud <= 3000000; baud = baud * 21 / 20 + 1) {
    pal_status_t st = pal_ftdi_baud_divisor(PAL_FTDI_CHIP_X, 1, baud, &b);
    if (st == PAL_STATUS_OK) {
      double err = ((double)b.actual - baud) / baud;
      assert_true(err < 0.03 && err > -0.03);
    }
    pal_status_free(st);
  }
}

static void test_chip_facts(void **state) {
  (void)state;
  assert_int_equal(pal_ftdi_chip_from_bcd(0x0700), PAL_FTDI_CHIP_2232H);
  assert_int_equal(pal_ftdi_chip_from_bcd(0x1000), PAL_FTDI_CHIP_X);
  assert_int_equal(pal_ftdi_chip_from_bcd(0x0600), PAL_FTDI_CHIP_R);
  assert_int_equal(pal_ftdi_chip_from_bcd(0x1234), PAL_FTDI_CHIP_UNKNOWN);
  assert_int_equal(pal_ftdi_channel(PAL_FTDI_CHIP_2232H, 1), 2);
  assert_int_equal(pal_ftdi_channel(PAL_FTDI_CHIP_X, 0), 1);
  assert_int_equal(pal_ftdi_channel(PAL_FTDI_CHIP_R, 0), 0);
  assert_int_equal(pal_ftdi_endpoint_out(1), 0x04);
  assert_int_equal(pal_ftdi_endpoint_in(1), 0x83);
  assert_int_equal(pal_ftdi_endpoint_out(0), 0x02);
  assert_int_equal(pal_ftdi_endpoint_in(0), 0x81);
}

/* ======================================================================== */
/* Open: the exact setup requests                                           */
/* ======================================================================== */

static void test_open_ft2232h_3mbaud(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft2232h(&t);
  assert_string_equal(t.name, "usb://0403:6010");
  assert_true(g.detach_enabled);
  assert_int_equal(g.claimed_interface, 1);
  assert_true(g.list_freed);
  pal_usb_info_t info;
  must_ok(pal_usb_transport_get_info(&t, &info));
  assert_string_equal(info.chip, "FT2232H");
  assert_int_equal(info.interface_number, 1);
  assert_int_equal(info.channel, 2);
  assert_int_equal(info.endpoint_in, 0x83);
  assert_int_equal(info.endpoint_out, 0x04);
  assert_int_equal(info.max_packet, 512);
  assert_int_equal(info.actual_baud, 3000000);
  assert_int_equal(info.byte_time_ns, 3333);
  assert_string_equal(info.serial, "FT2232H-1");
  pal_transport_close(&t);
  assert_true(g.released);
  check_closed_cleanly(0);
}

static void test_open_ft2232h_115200_default_interface(void **state) {
  (void)state;
  add_dev(0x0403, 0x6010, 0x0700, NULL, 512);
  g.expect_in_ep = 0x83; /* 0403:6010 defaults to interface 1, channel B */
  g.expect_out_ep = 0x04;
  expect_setup(0x0002, 1, 0xC068, 0x0202);
  pal_transport_t t;
  must_ok(pal_usb_transport_open("0403:6010?baud=115200", &t));
  pal_usb_info_t info;
  must_ok(pal_usb_transport_get_info(&t, &info));
  assert_int_equal(info.actual_baud, 115246);
  assert_string_equal(info.serial, "");
  pal_transport_close(&t);
  check_closed_cleanly(0);
}

static void test_open_ft2232h_channel_a(void **state) {
  (void)state;
  add_dev(0x0403, 0x6010, 0x0700, NULL, 512);
  g.expect_in_ep = 0x81;
  g.expect_out_ep = 0x02;
  expect_setup(0x0001, 16, 0x0004, 0x0201);
  pal_transport_t t;
  must_ok(pal_usb_transport_open("usb://0403:6010?interface=0&latency_ms=16", &t));
  assert_int_equal(g.claimed_interface, 0);
  pal_transport_close(&t);
}

static void test_open_ft231x_3mbaud(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft231x(&t);
  pal_usb_info_t info;
  must_ok(pal_usb_transport_get_info(&t, &info));
  assert_string_equal(info.chip, "FT-X");
  assert_int_equal(info.interface_number, 0);
  assert_int_equal(info.channel, 1);
  assert_int_equal(info.max_packet, 64);
  assert_int_equal(info.actual_baud, 3000000);
  pal_transport_close(&t);
  check_closed_cleanly(0);
}

static void test_open_ft231x_115200(void **state) {
  (void)state;
  add_dev(0x0403, 0x6015, 0x1000, NULL, 64);
  g.expect_in_ep = 0x81;
  g.expect_out_ep = 0x02;
  expect_setup(0x0001, 1, 0x001A, 0x0001);
  pal_usb_options_t o;
  pal_usb_options_initialize(&o);
  o.baud = 115200; /* options give the default, the spec can override */
  pal_transport_t t;
  must_ok(pal_usb_transport_open_with_options("usb://0403:6015", &o, &t));
  pal_usb_info_t info;
  must_ok(pal_usb_transport_get_info(&t, &info));
  assert_int_equal(info.actual_baud, 115385);
  assert_int_equal(info.byte_time_ns, 86666);
  pal_transport_close(&t);
}

static void test_auto_detach_not_supported_is_fine(void **state) {
  (void)state;
  g.detach_error = LIBUSB_ERROR_NOT_SUPPORTED; /* e.g. macOS, or no kernel driver */
  pal_transport_t t;
  open_ft2232h(&t);
  pal_transport_close(&t);
}

/* ======================================================================== */
/* Open failures: clear statuses, everything released                       */
/* ======================================================================== */

static void test_not_found_lists_what_was_looked_for(void **state) {
  (void)state;
  add_dev(0x1d6b, 0x0002, 0x0100, NULL, 64);
  add_dev(0x0403, 0x6015, 0x1000, NULL, 64);
  pal_transport_t t;
  must_fail(pal_usb_transport_open("usb://0403:6010", &t), PAL_NOT_FOUND,
            "usb://0403:6010: no USB device with VID 0403 PID 6010 among the 2 present");
  assert_false(g.opened[0] || g.opened[1]);
  assert_true(g.list_freed);
  assert_true(g.exited);
  assert_null(t.ops);
}

static void test_serial_filter(void **state) {
  (void)state;
  add_dev(0x0403, 0x6010, 0x0700, "FT0001", 512);
  add_dev(0x0403, 0x6010, 0x0700, "FT0002", 512);
  g.expect_in_ep = 0x83;
  g.expect_out_ep = 0x04;
  expect_setup(0x0002, 1, 0x0004, 0x0202);
  pal_transport_t t;
  must_ok(pal_usb_transport_open("usb://0403:6010?serial=FT0002", &t));
  assert_string_equal(t.name, "usb://0403:6010?serial=FT0002");
  assert_true(g.opened[0] && g.closed[0]); /* looked at, put back */
  assert_true(g.opened[1] && !g.closed[1]);
  pal_usb_info_t info;
  must_ok(pal_usb_transport_get_info(&t, &info));
  assert_string_equal(info.serial, "FT0002");
  pal_transport_close(&t);
  assert_true(g.closed[1]);
}

static void test_serial_filter_no_match(void **state) {
  (void)state;
  add_dev(0x0403, 0x6010, 0x0700, "FT0001", 512);
  add_dev(0x0403, 0x6010, 0x0700, "FT0002", 512);
  pal_transport_t t;
  must_fail(pal_usb_transport_open("usb://0403:6010?serial=FT9999", &t), PAL_NOT_FOUND,
            "no device 0403:6010 with serial 'FT9999': 2 with that VID:PID, serials ['FT0001', 'FT0002']");
  assert_true(g.closed[0] && g.closed[1]);
  assert_true(g.exited);
}

static void test_open_errors(void **state) {
  (void)state;
  pal_transport_t t;
  /* no permission */
  add_dev(0x0403, 0x6010, 0x0700, NULL, 512);
  g.devs[0].open_error = LIBUSB_ERROR_ACCESS;
  must_fail(pal_usb_transport_open("0403:6010", &t), PAL_UNAVAILABLE,
            "usb://0403:6010: opening the device failed: LIBUSB_ERROR_ACCESS (no permission");
  assert_true(g.exited);
  /* interface busy */
  fake_reset();
  add_dev(0x0403, 0x6010, 0x0700, NULL, 512);
  g.expect_in_ep = 0x83;
  g.claim_error = LIBUSB_ERROR_BUSY;
  must_fail(pal_usb_transport_open("0403:6010", &t), PAL_UNAVAILABLE,
            "usb://0403:6010: claiming interface 1 failed: LIBUSB_ERROR_BUSY");
  assert_true(g.closed[0] && g.exited && !g.released);
  /* a setup request stalls: the interface is released, the handle closed */
  fake_reset();
  add_dev(0x0403, 0x6010, 0x0700, NULL, 512);
  g.expect_in_ep = 0x83;
  expect_control(0x00, 0x0000, 0x0002, 0);
  expect_control(0x0B, 0x0000, 0x0002, 0);
  expect_control(0x09, 1, 0x0002, 0);
  expect_control(0x04, 0x0008, 0x0002, 0);
  expect_control(0x02, 0x0000, 0x0002, 0);
  expect_control(0x03, 0x0004, 0x0202, LIBUSB_ERROR_PIPE);
  must_fail(pal_usb_transport_open("0403:6010", &t), PAL_IO_ERROR,
            "usb://0403:6010: baud rate (bRequest 0x03, wValue 0x0004, wIndex 0x0202) failed: LIBUSB_ERROR_PIPE");
  assert_true(g.released && g.closed[0] && g.exited);
  /* the device vanishes during setup */
  fake_reset();
  add_dev(0x0403, 0x6015, 0x1000, NULL, 64);
  g.expect_in_ep = 0x81;
  expect_control(0x00, 0x0000, 0x0001, LIBUSB_ERROR_NO_DEVICE);
  g.release_error = LIBUSB_ERROR_NO_DEVICE;
  must_fail(pal_usb_transport_open("0403:6015", &t), PAL_UNAVAILABLE,
            "reset (bRequest 0x00, wValue 0x0000, wIndex 0x0001) failed: LIBUSB_ERROR_NO_DEVICE (device unplugged?)");
  assert_true(g.closed[0] && g.exited);
  /* libusb itself */
  fake_reset();
  g.init_error = LIBUSB_ERROR_NO_MEM;
  must_fail(pal_usb_transport_open("0403:6010", &t), PAL_RESOURCE_EXHAUSTED, "libusb_init failed: LIBUSB_ERROR_NO_MEM");
  /* not a chip we know */
  fake_reset();
  add_dev(0x0403, 0x6010, 0x0300, NULL, 64);
  must_fail(pal_usb_transport_open("0403:6010", &t), PAL_UNIMPLEMENTED, "bcdDevice 0x0300 is not an FTDI chip");
  assert_true(g.closed[0]);
  /* a port the chip lacks */
  fake_reset();
  add_dev(0x0403, 0x6015, 0x1000, NULL, 64);
  must_fail(pal_usb_transport_open("0403:6015?interface=1", &t), PAL_INVALID_ARGUMENT, "interface 1, but an FT-X has 1");
  /* a rate the chip cannot make, before anything is sent */
  fake_reset();
  add_dev(0x0403, 0x6015, 0x1000, NULL, 64);
  g.expect_in_ep = 0x81;
  must_fail(pal_usb_transport_open("0403:6015?baud=6000000", &t), PAL_OUT_OF_RANGE,
            "usb://0403:6015: FT-X: baud 6000000 outside the chip's range");
  assert_int_equal(g.claimed_interface, -1);
}

static void test_bad_specs(void **state) {
  (void)state;
  pal_transport_t t;
  must_fail(pal_usb_transport_open("usb://0403", &t), PAL_INVALID_ARGUMENT, "want VID:PID in hex");
  must_fail(pal_usb_transport_open("zz03:6010", &t), PAL_INVALID_ARGUMENT, "want VID:PID in hex");
  must_fail(pal_usb_transport_open("0403:6010?frob=1", &t), PAL_INVALID_ARGUMENT,
            "usb://0403:6010: unknown key 'frob' (usb:// takes interface, serial, baud, latency_ms)");
  must_fail(pal_usb_transport_open("0403:6010?interface=9", &t), PAL_INVALID_ARGUMENT, "interface '9' is not 0..3");
  must_fail(pal_usb_transport_open("0403:6010?baud=0", &t), PAL_INVALID_ARGUMENT, "baud '0'");
  must_fail(pal_usb_transport_open("0403:6010?latency_ms=300", &t), PAL_INVALID_ARGUMENT, "latency_ms '300'");
  must_fail(pal_usb_transport_open("0403:6010?serial", &t), PAL_INVALID_ARGUMENT, "'serial' is not KEY=VALUE");
  assert_false(g.exited); /* rejected before libusb was touched */
}

/* ======================================================================== */
/* Reading: status bytes stripped from every packet                         */
/* ======================================================================== */

static void check_counter_bytes(const uint8_t *buf, size_t n, uint8_t first) {
  for (size_t i = 0; i < n; i++)
    if (buf[i] != (uint8_t)(first + i)) fail_msg("byte %zu is 0x%02x, want 0x%02x", i, buf[i], (uint8_t)(first + i));
}

static void test_read_strips_every_packet_1030_bytes(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft2232h(&t);
  /* 1030 bytes on 512-byte packets: 2+510, 2+510, 2+4 */
  size_t payload[] = {510, 510, 4};
  script_in(0, payload, 3, 0x60);
  assert_int_equal(g.in[0].len, 1030);
  uint8_t buf[2048];
  size_t n = 0;
  must_ok(t.ops->read(t.self, buf, sizeof buf, &n, 100));
  assert_int_equal(n, 1024);
  check_counter_bytes(buf, n, 0);
  pal_usb_stats_t s;
  must_ok(pal_usb_transport_get_stats(&t, &s));
  assert_int_equal(s.packets_in, 3);
  assert_int_equal(s.bytes_in, 1024);
  pal_transport_close(&t);
}

static void test_read_full_speed_packets(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft231x(&t);
  /* 64-byte packets: 2+62 three times, then a status-only packet ends it */
  size_t payload[] = {62, 62, 62, 0};
  script_in(0, payload, 4, 0x60);
  uint8_t buf[512];
  size_t n = 0;
  must_ok(t.ops->read(t.self, buf, sizeof buf, &n, 100));
  assert_int_equal(n, 186);
  check_counter_bytes(buf, n, 0);
  pal_usb_stats_t s;
  must_ok(pal_usb_transport_get_stats(&t, &s));
  assert_int_equal(s.packets_in, 4);
  assert_int_equal(s.status_only_packets, 1);
  pal_transport_close(&t);
}

static void test_read_skips_status_only_packets(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft2232h(&t);
  size_t none[] = {0}, some[] = {7};
  script_in(0, none, 1, 0x60); /* latency timer fired: nothing yet */
  script_in(0, none, 1, 0x60);
  script_in(0, some, 1, 0x60);
  uint8_t buf[64];
  size_t n = 0;
  must_ok(t.ops->read(t.self, buf, sizeof buf, &n, 1000));
  assert_int_equal(n, 7);
  check_counter_bytes(buf, n, 0);
  assert_int_equal(g.in_calls, 3);
  pal_usb_stats_t s;
  must_ok(pal_usb_transport_get_stats(&t, &s));
  assert_int_equal(s.status_only_packets, 2);
  pal_transport_close(&t);
}

static void test_short_reads_keep_the_rest(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft2232h(&t);
  size_t payload[] = {510, 90};
  script_in(0, payload, 2, 0x60);
  uint8_t buf[700];
  size_t got = 0, n = 0;
  must_ok(t.ops->read(t.self, buf, 10, &n, 100));
  assert_int_equal(n, 10);
  got += n;
  while (got < 600) { /* the rest comes from the buffer, not from new transfers */
    must_ok(t.ops->read(t.self, buf + got, 128, &n, 100));
    assert_true(n > 0 && n <= 128);
    got += n;
  }
  assert_int_equal(got, 600);
  check_counter_bytes(buf, got, 0);
  assert_int_equal(g.in_calls, 1);
  /* nothing more: a timeout is OK with no bytes */
  must_ok(t.ops->read(t.self, buf, 128, &n, 20));
  assert_int_equal(n, 0);
  pal_transport_close(&t);
}

static void test_read_timeout_with_data_in_flight(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft231x(&t);
  /* libusb reports a timeout that still carried some packets */
  size_t payload[] = {62, 5};
  script_in(LIBUSB_ERROR_TIMEOUT, payload, 2, 0x60);
  uint8_t buf[256];
  size_t n = 0;
  must_ok(t.ops->read(t.self, buf, sizeof buf, &n, 50));
  assert_int_equal(n, 67);
  check_counter_bytes(buf, n, 0);
  pal_transport_close(&t);
}

static void test_read_timeout_no_data_no_hang(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft2232h(&t);
  uint8_t buf[64];
  size_t n = 99;
  /* the device answers nothing at all */
  uint64_t t0 = now_ms();
  must_ok(t.ops->read(t.self, buf, sizeof buf, &n, 30));
  assert_int_equal(n, 0);
  /* the device sends status-only packets forever (latency timer): read
   * keeps waiting until its timeout, then returns no bytes */
  g.in_status_only_forever = true;
  uint64_t t1 = now_ms();
  must_ok(t.ops->read(t.self, buf, sizeof buf, &n, 30));
  uint64_t t2 = now_ms();
  assert_int_equal(n, 0);
  assert_true(t2 - t1 >= 29 && t2 - t1 < 1000);
  assert_true(t1 - t0 < 1000);
  assert_true(g.in_calls > 1);
  pal_transport_close(&t);
}

static void test_line_status_counted(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft231x(&t);
  size_t payload[] = {62, 3};
  script_in(0, payload, 1, 0x60 | 0x02);     /* overrun */
  script_in(0, payload + 1, 1, 0x60 | 0x08); /* framing error */
  uint8_t buf[256];
  size_t n;
  must_ok(t.ops->read(t.self, buf, sizeof buf, &n, 50));
  must_ok(t.ops->read(t.self, buf, sizeof buf, &n, 50));
  pal_usb_stats_t s;
  must_ok(pal_usb_transport_get_stats(&t, &s));
  assert_int_equal(s.overrun_errors, 1);
  assert_int_equal(s.framing_errors, 1);
  assert_int_equal(s.parity_errors, 0);
  pal_transport_close(&t);
}

/* ======================================================================== */
/* Unplugging mid-transfer                                                  */
/* ======================================================================== */

static void test_no_device_mid_read(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft2232h(&t);
  size_t some[] = {10};
  script_in(0, some, 1, 0x60);
  g.in[g.n_in++].rc = LIBUSB_ERROR_NO_DEVICE;
  g.release_error = LIBUSB_ERROR_NO_DEVICE;
  uint8_t buf[64];
  size_t n = 0;
  must_ok(t.ops->read(t.self, buf, sizeof buf, &n, 100));
  assert_int_equal(n, 10);
  must_fail(t.ops->read(t.self, buf, sizeof buf, &n, 100), PAL_UNAVAILABLE,
            "usb://0403:6010: bulk read failed: LIBUSB_ERROR_NO_DEVICE (device unplugged?)");
  assert_int_equal(n, 0);
  /* from now on every call fails at once, without touching libusb */
  uint64_t calls = g.in_calls + g.out_calls;
  must_fail(t.ops->read(t.self, buf, sizeof buf, &n, 100), PAL_UNAVAILABLE, "usb://0403:6010: device is gone");
  must_fail(t.ops->write(t.self, buf, 8, 100), PAL_UNAVAILABLE, "device is gone");
  must_fail(t.ops->purge(t.self), PAL_UNAVAILABLE, "device is gone");
  assert_int_equal(g.in_calls + g.out_calls, calls);
  pal_transport_close(&t); /* releases what it can; no crash, no hang */
  check_closed_cleanly(0);
}

static void test_no_device_mid_write(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft231x(&t);
  g.out_limit = 100;
  g.out_rc[0] = 0;
  g.out_rc[1] = LIBUSB_ERROR_NO_DEVICE;
  g.n_out_rc = 2;
  uint8_t data[20000] = {0};
  must_fail(t.ops->write(t.self, data, sizeof data, 500), PAL_UNAVAILABLE,
            "usb://0403:6015: bulk write failed: LIBUSB_ERROR_NO_DEVICE (device unplugged?)");
  assert_int_equal(g.out_calls, 2);
  pal_transport_close(&t);
}

/* ======================================================================== */
/* Writing and purging                                                      */
/* ======================================================================== */

static void test_write_all_bytes_in_order(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft2232h(&t);
  static uint8_t data[40000];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7 + 3);
  /* the device takes at most 1000 bytes a call, and times out once midway */
  g.out_limit = 1000;
  g.out_rc[0] = 0;
  g.out_rc[1] = LIBUSB_ERROR_TIMEOUT;
  g.n_out_rc = 2;
  must_ok(t.ops->write(t.self, data, sizeof data, 1000));
  assert_int_equal(g.out_len, sizeof data);
  assert_memory_equal(g.out, data, sizeof data);
  pal_usb_stats_t s;
  must_ok(pal_usb_transport_get_stats(&t, &s));
  assert_int_equal(s.bytes_out, sizeof data);
  pal_transport_close(&t);
}

static void test_write_timeout(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft2232h(&t);
  g.out_rc_forever = LIBUSB_ERROR_TIMEOUT; /* a device that takes nothing */
  uint8_t data[100] = {0};
  uint64_t t0 = now_ms();
  must_fail(t.ops->write(t.self, data, sizeof data, 20), PAL_DEADLINE_EXCEEDED,
            "usb://0403:6010: bulk write timed out after 20 ms (0 of 100 bytes sent)");
  assert_true(now_ms() - t0 < 1000);
  pal_transport_close(&t);
}

static void test_purge(void **state) {
  (void)state;
  pal_transport_t t;
  open_ft2232h(&t);
  size_t payload[] = {100};
  script_in(0, payload, 1, 0x60);
  uint8_t buf[200];
  size_t n = 0;
  must_ok(t.ops->read(t.self, buf, 10, &n, 50)); /* 90 bytes stay buffered */
  expect_control(0x00, 0x0001, 0x0002, 0);
  expect_control(0x00, 0x0002, 0x0002, 0);
  must_ok(t.ops->purge(t.self));
  must_ok(t.ops->read(t.self, buf, sizeof buf, &n, 20));
  assert_int_equal(n, 0); /* the buffered bytes went with the purge */
  pal_transport_close(&t);
}

static void test_not_a_usb_transport(void **state) {
  (void)state;
  pal_transport_t t;
  memset(&t, 0, sizeof t);
  snprintf(t.name, sizeof t.name, "serial:///dev/null");
  pal_usb_info_t info;
  must_fail(pal_usb_transport_get_info(&t, &info), PAL_INVALID_ARGUMENT, "serial:///dev/null: not a usb:// transport");
}

/* ======================================================================== */
/* End to end: pal_device_open("usb://...") through the fake FTDI to a link */
/* engine model on the emulator, then a kernel image loaded and run         */
/* ======================================================================== */

static void fifo_push(void *ctx, const uint8_t *bytes, size_t len) {
  (void)ctx;
  if (g.fifo_tail + len > g.fifo_cap) {
    memmove(g.fifo, g.fifo + g.fifo_head, g.fifo_tail - g.fifo_head);
    g.fifo_tail -= g.fifo_head;
    g.fifo_head = 0;
  }
  assert_true(g.fifo_tail + len <= g.fifo_cap);
  memcpy(g.fifo + g.fifo_tail, bytes, len);
  g.fifo_tail += len;
}

static void test_device_over_usb_runs_a_kernel(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed ^ 0x75736200ull);
  /* the board: an emulator behind the link-engine model, behind the FTDI */
  pal_emu_t *emu = tt_emu_create(seed, 4, 4);
  pal_link_model_options_t mo;
  pal_link_model_options_initialize(&mo);
  mo.emit = fifo_push;
  TT_OK(seed, pal_link_model_create(pal_emu_device(emu), &mo, &g.model));
  g.fifo_cap = 1u << 20;
  g.fifo = malloc(g.fifo_cap);
  add_dev(0x0403, 0x6010, 0x0700, "ICEBREAKER", 512);
  g.expect_in_ep = 0x83;
  g.expect_out_ep = 0x04;
  g.control_lenient = true;

  TT_OK(seed, pal_usb_register_scheme());
  pal_device_t *dev = NULL;
  pal_status_t st = pal_device_open("usb://0403:6010?frob=1", NULL, &dev);
  assert_int_equal(pal_status_code(st), PAL_INVALID_ARGUMENT);
  assert_non_null(strstr(pal_status_message(st), "unknown query key \"frob\" for usb://"));
  pal_status_free(st);
  assert_false(g.exited); /* refused before libusb */
  TT_OK(seed, pal_device_open("usb://0403:6010?interface=1&serial=ICEBREAKER&timeout_ms=500", NULL, &dev));
  assert_int_equal(g.claimed_interface, 1);
  assert_true(g.control_calls >= 8);
  pal_device_info_t info;
  TT_OK(seed, pal_device_info(dev, &info));
  assert_int_equal(info.link.tile.rows, 4);
  assert_int_equal(info.link.tile.cols, 4);

  /* a one-layer kernel: y = relu(x W^T + b), M=2, K=64, N=20 (two N-tiles) */
  const size_t M = 2, K = 64, N = 20, P = 16, kb = 2, nt = 2;
  tt_gen_t ga = {0.3, 0.0, 0.0, 0.0}, gw = {0.2, 0.0, 0.0, 0.0};
  pal_b32_matrix_t A, W;
  tt_random_matrix(seed, &rng, M, K, &ga, &A);
  tt_random_matrix(seed, &rng, N, K, &gw, &W);
  float bias[32] = {0};
  for (size_t n = 0; n < N; n++) bias[n] = (float)pal_test_rng_gauss(&rng);
  pal_kernel_image_builder_t *b = NULL;
  TT_OK(seed, pal_kernel_image_builder_create(NULL, &b));
  static const char text[] = "gemm a=0 as=2 m=2 k=2 w=0 nt=2 acc=0 init=bias bias=0\n"
                             "post acc=0 n=20 m=2 act=relu fmt=fp32 out=0 os=20\n"
                             "end\n";
  pal_asm_program_t prog;
  TT_OK(seed, pal_asm_assemble(text, strlen(text), NULL, &prog));
  TT_OK(seed, pal_kernel_image_builder_add_code(b, 0, prog.words, prog.word_count));
  pal_asm_program_release(&prog);
  uint8_t *wc = calloc(P * nt * kb * 32, 1), *ws = calloc(P * nt * kb, 1);
  for (size_t p = 0; p < P; p++)
    for (size_t t = 0; t < nt; t++)
      if (t * P + p < N) {
        memcpy(wc + (p * nt * kb + t * kb) * 32, W.codes + (t * P + p) * kb * 32, kb * 32);
        memcpy(ws + p * nt * kb + t * kb, W.scales + (t * P + p) * kb, kb);
      }
  pal_kernel_section_t s = {PAL_KERNEL_SECTION_WMEM_CODES, PAL_KERNEL_IMAGE_ALL_PES, 0, nt * kb * 32, wc, 0};
  TT_OK(seed, pal_kernel_image_builder_add_section(b, &s));
  s = (pal_kernel_section_t){PAL_KERNEL_SECTION_WMEM_SCALES, PAL_KERNEL_IMAGE_ALL_PES, 0, nt * kb, ws, 0};
  TT_OK(seed, pal_kernel_image_builder_add_section(b, &s));
  uint8_t bias_le[32 * 4];
  for (size_t n = 0; n < 32; n++) {
    uint32_t u = tt_f2u(bias[n]);
    for (int k = 0; k < 4; k++) bias_le[4 * n + k] = (uint8_t)(u >> (8 * k));
  }
  s = (pal_kernel_section_t){PAL_KERNEL_SECTION_BIAS, 0, 0, 32, bias_le, 0};
  TT_OK(seed, pal_kernel_image_builder_add_section(b, &s));
  pal_kernel_binding_t bx = {"x", PAL_KERNEL_BINDING_INPUT, PAL_KERNEL_FORMAT_PAL8_B32, PAL_TILE_REGION_ABUF_CODES,
                             (uint32_t)M, (uint32_t)K, 0, 2};
  pal_kernel_binding_t by = {"y", PAL_KERNEL_BINDING_OUTPUT, PAL_KERNEL_FORMAT_FP32, PAL_TILE_REGION_OBUF,
                             (uint32_t)M, (uint32_t)N, 0, 20};
  TT_OK(seed, pal_kernel_image_builder_add_binding(b, &bx));
  TT_OK(seed, pal_kernel_image_builder_add_binding(b, &by));
  void *bytes;
  size_t size;
  TT_OK(seed, pal_kernel_image_builder_serialize(b, &bytes, &size));
  pal_kernel_image_builder_destroy(b);
  free(wc);
  free(ws);
  pal_kernel_image_t *img = NULL;
  TT_OK(seed, pal_kernel_image_parse_named(bytes, size, "usb-test.palk", &img));
  free(bytes);

  /* load, bind, run, read: every byte crosses the fake USB link */
  pal_tile_device_t *tile = pal_device_tile(dev);
  uint64_t out_before = g.out_calls;
  TT_OK(seed, pal_kernel_image_load(img, tile));
  assert_true(g.out_calls > out_before);
  pal_kernel_binding_t x, y;
  TT_OK(seed, pal_kernel_image_find_binding(img, "x", &x));
  TT_OK(seed, pal_kernel_image_find_binding(img, "y", &y));
  TT_OK(seed, pal_kernel_binding_write_pal8(tile, &x, &A));
  pal_tile_status_t ts;
  TT_OK(seed, pal_tile_device_run(tile, pal_kernel_image_entry_pc(img), PAL_TILE_NO_CYCLE_LIMIT, &ts));
  PAL_TEST_CHECK(seed, ts.done && ts.error == 0, "kernel stopped with %s", pal_tile_error_name(ts.error));
  float got[2 * 20], ref[2 * 20];
  TT_OK(seed, pal_kernel_binding_read_fp32(tile, &y, got));
  pal_epilogue_t epi;
  pal_epilogue_initialize(&epi);
  epi.bias = bias;
  epi.bias_mode = PAL_BIAS_START;
  epi.act = PAL_ACT_RELU;
  pal_gemm_ref(&A, &W, &epi, ref, N);
  for (size_t i = 0; i < M * N; i++) {
    uint32_t want = isnan(ref[i]) ? PAL_TILE_FP32_NAR : tt_f2u(ref[i]);
    PAL_TEST_CHECK(seed, tt_f2u(got[i]) == want, "y[%zu]: %08x over usb://, pal_gemm_ref %08x", i, tt_f2u(got[i]),
                   want);
  }
  /* the device rejects a kernel for another geometry before sending a byte */
  pal_kernel_image_builder_options_t o;
  pal_kernel_image_builder_options_initialize(&o);
  pal_tile_config_initialize(&o.required, 2, 2);
  TT_OK(seed, pal_kernel_image_builder_create(&o, &b));
  uint32_t end_words[4];
  pal_isa_instr_t end;
  pal_isa_instr_initialize(&end, PAL_ISA_OP_END);
  TT_OK(seed, pal_isa_encode(&end, end_words));
  TT_OK(seed, pal_kernel_image_builder_add_code(b, 0, end_words, 4));
  TT_OK(seed, pal_kernel_image_builder_serialize(b, &bytes, &size));
  pal_kernel_image_builder_destroy(b);
  pal_kernel_image_t *other = NULL;
  TT_OK(seed, pal_kernel_image_parse(bytes, size, &other));
  free(bytes);
  out_before = g.out_calls;
  st = pal_kernel_image_load(other, tile);
  assert_int_equal(pal_status_code(st), PAL_FAILED_PRECONDITION);
  assert_non_null(strstr(pal_status_message(st), "geometry mismatch: compiled for a 2x2 PE array, the device has 4x4"));
  assert_int_equal(g.out_calls, out_before);
  pal_status_free(st);
  pal_kernel_image_destroy(other);

  pal_kernel_image_destroy(img);
  pal_device_close(dev);
  assert_true(g.released && g.closed[0] && g.exited);
  pal_link_model_destroy(g.model);
  pal_emu_destroy(emu);
  free(g.fifo);
  pal_b32_matrix_release(&A);
  pal_b32_matrix_release(&W);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_divisor_known_values, setup),
      cmocka_unit_test_setup(test_divisor_rejects, setup),
      cmocka_unit_test_setup(test_chip_facts, setup),
      cmocka_unit_test_setup(test_open_ft2232h_3mbaud, setup),
      cmocka_unit_test_setup(test_open_ft2232h_115200_default_interface, setup),
      cmocka_unit_test_setup(test_open_ft2232h_channel_a, setup),
      cmocka_unit_test_setup(test_open_ft231x_3mbaud, setup),
      cmocka_unit_test_setup(test_open_ft231x_115200, setup),
      cmocka_unit_test_setup(test_auto_detach_not_supported_is_fine, setup),
      cmocka_unit_test_setup(test_not_found_lists_what_was_looked_for, setup),
      cmocka_unit_test_setup(test_serial_filter, setup),
      cmocka_unit_test_setup(test_serial_filter_no_match, setup),
      cmocka_unit_test_setup(test_open_errors, setup),
      cmocka_unit_test_setup(test_bad_specs, setup),
      cmocka_unit_test_setup(test_read_strips_every_packet_1030_bytes, setup),
      cmocka_unit_test_setup(test_read_full_speed_packets, setup),
      cmocka_unit_test_setup(test_read_skips_status_only_packets, setup),
      cmocka_unit_test_setup(test_short_reads_keep_the_rest, setup),
      cmocka_unit_test_setup(test_read_timeout_with_data_in_flight, setup),
      cmocka_unit_test_setup(test_read_timeout_no_data_no_hang, setup),
      cmocka_unit_test_setup(test_line_status_counted, setup),
      cmocka_unit_test_setup(test_no_device_mid_read, setup),
      cmocka_unit_test_setup(test_no_device_mid_write, setup),
      cmocka_unit_test_setup(test_write_all_bytes_in_order, setup),
      cmocka_unit_test_setup(test_write_timeout, setup),
      cmocka_unit_test_setup(test_purge, setup),
      cmocka_unit_test_setup(test_not_a_usb_transport, setup),
      cmocka_unit_test_setup(test_device_over_usb_runs_a_kernel, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
