/* The host side of the link: URI parsing and its errors, the scheme
 * registry, the request engine against a device that misbehaves on purpose
 * (late and duplicated replies, wrong SEQ or type, short READ replies,
 * every NAK, damaged replies, silence), and dead devices on every
 * transport: a clear PAL_DEADLINE_EXCEEDED naming the URI, never a hang. */
#include "pal_test.h"

#include <time.h>

#include "link_test_server.h"
#include "pal/driver.h"

#define OK(expr)                                                                  \
  do {                                                                            \
    pal_status_t ok_st_ = (expr);                                                 \
    if (ok_st_) fail_msg("%s failed: %s", #expr, pal_status_message(ok_st_));     \
  } while (0)

/* Expects `st` to fail with `code` and a message containing each of the
 * (up to two) strings; frees it. */
static void expect_error(pal_status_t st, pal_status_code_t code, const char *has1, const char *has2) {
  if (!st) fail_msg("expected %s, got OK", pal_status_code_name(code));
  const char *msg = pal_status_message(st);
  if (pal_status_code(st) != code || (has1 && !strstr(msg, has1)) || (has2 && !strstr(msg, has2)))
    fail_msg("expected %s mentioning \"%s\"%s%s%s, got %s: %s", pal_status_code_name(code),
             has1 ? has1 : "", has2 ? " and \"" : "", has2 ? has2 : "", has2 ? "\"" : "",
             pal_status_code_name(pal_status_code(st)), msg);
  pal_status_free(st);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- URIs ---------------------------------------------------------------- */

static void test_uri_parse(void **state) {
  (void)state;
  pal_device_uri_t u;
  OK(pal_device_uri_parse("serial:///dev/ttyUSB1?baud=3000000", &u));
  assert_string_equal(u.scheme, "serial");
  assert_string_equal(u.target, "/dev/ttyUSB1");
  assert_int_equal(u.query_count, 1);
  assert_string_equal(pal_device_uri_query(&u, "baud"), "3000000");
  assert_null(pal_device_uri_query(&u, "parity"));
  OK(pal_device_uri_parse("SIM+TCP://127.0.0.1:5555", &u));
  assert_string_equal(u.scheme, "sim+tcp");
  assert_string_equal(u.target, "127.0.0.1:5555");
  OK(pal_device_uri_parse("emu://", &u));
  assert_string_equal(u.target, "");
  assert_int_equal(u.query_count, 0);
  uint32_t v;
  OK(pal_device_uri_parse("emu://?rows=8&cols=2", &u));
  OK(pal_device_uri_query_u32(&u, "rows", 4, 1, 255, &v));
  assert_int_equal(v, 8);
  OK(pal_device_uri_query_u32(&u, "max_payload", 77, 1, 100, &v));
  assert_int_equal(v, 77);
  expect_error(pal_device_uri_query_u32(&u, "cols", 4, 3, 255, &v), PAL_INVALID_ARGUMENT, "cols=2", "3..255");

  const struct {
    const char *uri, *says;
  } bad[] = {
      {"/dev/ttyUSB1", "expected SCHEME://"},
      {"://x", "scheme"},
      {"1emu://", "scheme may hold"},
      {"e_mu://", "scheme may hold"},
      {"emu://?rows", "not KEY=VALUE"},
      {"emu://?=4", "empty key"},
      {"emu://?rows=1&rows=2", "given twice"},
      {"emu://?rows=1&", "ends with '&'"},
      {"emu://?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9", "more than 8"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_error(pal_device_uri_parse(bad[i].uri, &u), PAL_INVALID_ARGUMENT, bad[i].uri, bad[i].says);
}

static void test_open_errors(void **state) {
  (void)state;
  pal_device_t *d = NULL;
  const struct {
    const char *uri;
    pal_status_code_t code;
    const char *says;
  } bad[] = {
      {"frob://x", PAL_INVALID_ARGUMENT, "unknown scheme \"frob\""},
      {"emu://?rows=4&frob=1", PAL_INVALID_ARGUMENT, "unknown query key \"frob\""},
      {"emu://?rows=0", PAL_INVALID_ARGUMENT, "rows=0"},
      {"emu://?max_payload=63", PAL_INVALID_ARGUMENT, "max_payload=63"},
      {"emu://?direct=2", PAL_INVALID_ARGUMENT, "direct=2"},
      {"emu://?post=2", PAL_INVALID_ARGUMENT, "post=2"},
      {"emu://somewhere", PAL_INVALID_ARGUMENT, "takes no path"},
      {"emu://?rows=16&cols=17", PAL_OUT_OF_RANGE, "address map"},
      {"emu://?timeout_ms=0", PAL_INVALID_ARGUMENT, "timeout_ms=0"},
      {"emu://?retries=x", PAL_INVALID_ARGUMENT, "retries=x"},
      {"serial://", PAL_INVALID_ARGUMENT, "absolute device path"},
      {"serial:///dev/ttyS0?baud=12345", PAL_INVALID_ARGUMENT, "baud=12345"},
      {"serial:///dev/ttyS0?baud=fast", PAL_INVALID_ARGUMENT, "baud=fast"},
      {"serial:///dev/ttyS0?speed=9600", PAL_INVALID_ARGUMENT, "unknown query key \"speed\""},
      {"serial:///nonexistent/ttyPAL", PAL_NOT_FOUND, "No such file"},
      {"serial:///dev/null", PAL_INVALID_ARGUMENT, "not a terminal"},
      {"sim+tcp://127.0.0.1", PAL_INVALID_ARGUMENT, "no port"},
      {"sim+tcp://127.0.0.1:0", PAL_INVALID_ARGUMENT, "bad port \"0\""},
      {"sim+tcp://127.0.0.1:65536", PAL_INVALID_ARGUMENT, "bad port \"65536\""},
      {"sim+tcp://127.0.0.1:http", PAL_INVALID_ARGUMENT, "bad port \"http\""},
      {"sim+tcp://:5555", PAL_INVALID_ARGUMENT, "no host"},
      {"sim+tcp://[::1:5555", PAL_INVALID_ARGUMENT, "[IPV6]:PORT"},
      {"sim+tcp://127.0.0.1:5555?x=1", PAL_INVALID_ARGUMENT, "unknown query key \"x\""},
      {"sim://", PAL_UNAVAILABLE, "not available in this build"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    pal_status_t st = pal_device_open(bad[i].uri, NULL, &d);
    assert_null(d);
    expect_error(st, bad[i].code, bad[i].uri, bad[i].says);
  }
  /* post=0: a tile without a POST unit, which INFO (through the link) and
   * the tile's GEOMETRY register both report */
  const char *np_uris[] = {"emu://?post=0&rows=2&cols=2", "emu://?post=0&direct=1"};
  for (size_t i = 0; i < 2; i++) {
    OK(pal_device_open(np_uris[i], NULL, &d));
    pal_device_info_t info;
    OK(pal_device_info(d, &info));
    assert_int_equal(info.link.tile.no_post, 1);
    assert_int_equal(pal_device_tile(d)->config.no_post, 1);
    uint32_t geo = 0;
    OK(pal_tile_device_read_reg(pal_device_tile(d), PAL_TILE_REG_GEOMETRY, &geo));
    assert_true(geo & PAL_TILE_GEOMETRY_NO_POST);
    pal_device_close(d);
    d = NULL;
  }
  /* accu=0 (with post=0): nor accumulate units, INFO flag NO_ACCU and
   * GEOMETRY[25]; without post=0 the configuration is refused by name */
  const char *na_uris[] = {"emu://?post=0&accu=0&rows=2&cols=2", "emu://?post=0&accu=0&direct=1"};
  for (size_t i = 0; i < 2; i++) {
    OK(pal_device_open(na_uris[i], NULL, &d));
    pal_device_info_t info;
    OK(pal_device_info(d, &info));
    assert_int_equal(info.link.tile.no_accu, 1);
    assert_int_equal(info.link.tile.no_post, 1);
    assert_int_equal(pal_device_tile(d)->config.no_accu, 1);
    uint32_t geo = 0;
    OK(pal_tile_device_read_reg(pal_device_tile(d), PAL_TILE_REG_GEOMETRY, &geo));
    assert_true((geo & PAL_TILE_GEOMETRY_NO_ACCU) && (geo & PAL_TILE_GEOMETRY_NO_POST));
    pal_device_close(d);
    d = NULL;
  }
  expect_error(pal_device_open("emu://?accu=0", NULL, &d), PAL_INVALID_ARGUMENT, "emu://?accu=0", "no_accu");
  assert_null(d);
  /* linkctrs=0: the link engine keeps no counters (INFO flag
   * NO_LINK_COUNTERS): their window is a hole (NAK BAD_ADDRESS), the
   * driver names the flag, and the link goes on working */
  OK(pal_device_open("emu://?linkctrs=0", NULL, &d));
  pal_device_info_t nl;
  OK(pal_device_info(d, &nl));
  assert_true(nl.link.flags & PAL_PROTO_FLAG_NO_LINK_COUNTERS);
  pal_link_counters_t lc;
  expect_error(pal_device_read_link_counters(d, &lc), PAL_UNIMPLEMENTED, "emu://?linkctrs=0",
               "NO_LINK_COUNTERS");
  uint8_t raw[4];
  expect_error(pal_device_read(d, PAL_ADDR_LINK_REGS, raw, sizeof raw), PAL_OUT_OF_RANGE,
               "emu://?linkctrs=0", "0x0f000000");
  uint32_t id = 0;
  OK(pal_tile_device_read_reg(pal_device_tile(d), PAL_TILE_REG_ID, &id));
  assert_int_equal(id, PAL_TILE_ID_VALUE);
  pal_device_close(d);
  d = NULL;
  OK(pal_device_open("emu://?linkctrs=1", NULL, &d));
  OK(pal_device_read_link_counters(d, &lc));
  assert_true(lc.value[PAL_LINK_CTR_RX_FRAMES] > 0);
  pal_device_close(d);
  d = NULL;
  expect_error(pal_device_open("emu://?linkctrs=2", NULL, &d), PAL_INVALID_ARGUMENT, "linkctrs", NULL);
  assert_null(d);
  OK(pal_device_open("emu://?post=1", NULL, &d));
  pal_device_info_t full;
  OK(pal_device_info(d, &full));
  assert_int_equal(full.link.tile.no_post, 0);
  assert_int_equal(full.link.tile.no_accu, 0);
  pal_device_close(d);
  d = NULL;
  /* a closed TCP port: refused at once, naming the URI */
  expect_error(pal_device_open("sim+tcp://127.0.0.1:1", NULL, &d), PAL_UNAVAILABLE,
               "sim+tcp://127.0.0.1:1", "cannot connect");
}

/* ---- the scheme registry ---------------------------------------------------- */

static pal_status_t test_scheme_open(const pal_device_uri_t *uri, const pal_device_options_t *options,
                                     pal_device_t **out_device) {
  static const char *const keys[] = {"rows", NULL};
  PAL_RETURN_IF_ERROR(pal_device_uri_check_keys(uri, keys));
  char inner[64];
  snprintf(inner, sizeof inner, "emu://?rows=%s", pal_device_uri_query(uri, "rows") ? pal_device_uri_query(uri, "rows") : "2");
  return pal_device_open(inner, options, out_device);
}

static void test_scheme_registry(void **state) {
  (void)state;
  static const pal_device_scheme_t s = {"testdev", "testdev://[?rows=R]  a test scheme", test_scheme_open};
  OK(pal_device_register_scheme(&s));
  OK(pal_device_register_scheme(&s)); /* again: replaces, does not add */
  pal_device_t *d = NULL;
  /* The protocol keys are applied and removed before the scheme sees the URI. */
  OK(pal_device_open("testdev://?rows=3&timeout_ms=100&retries=1", NULL, &d));
  pal_device_info_t info;
  OK(pal_device_info(d, &info));
  assert_int_equal(info.link.tile.rows, 3);
  pal_device_close(d);
  expect_error(pal_device_open("testdev://?cols=3", NULL, &d), PAL_INVALID_ARGUMENT, "testdev://?cols=3", "rows");
  char usage[1024];
  pal_device_schemes_usage(usage, sizeof usage);
  assert_non_null(strstr(usage, "testdev://[?rows=R]"));
  assert_non_null(strstr(usage, "serial://PATH"));
  /* A layer may take over a built-in name (sim:// from libpalsim). */
  static const pal_device_scheme_t sim = {"sim", "sim://  test stand-in", test_scheme_open};
  OK(pal_device_register_scheme(&sim));
  OK(pal_device_open("sim://", NULL, &d));
  pal_device_close(d);
  static const pal_device_scheme_t nameless = {"", NULL, test_scheme_open};
  expect_error(pal_device_register_scheme(&nameless), PAL_INVALID_ARGUMENT, "name", NULL);
}

/* ---- a device that misbehaves on purpose ------------------------------------- */

typedef enum act {
  ACT_OK = 0,     /* the model's reply */
  ACT_SILENT,     /* no reply (the request or the reply was lost) */
  ACT_EXECUTE_SILENT, /* executed, reply lost */
  ACT_WRONG_SEQ,  /* a reply with SEQ - 1 first (a late duplicate), then the real one */
  ACT_WRONG_TYPE, /* a PONG with our SEQ first, then the real one */
  ACT_DOUBLE,     /* the reply twice */
  ACT_SHORT,      /* the reply with its payload one byte short (valid CRCs) */
  ACT_DAMAGED,    /* the reply with one payload bit flipped */
  ACT_NAK,        /* NAK with `reason` instead */
  ACT_GARBAGE,    /* 40 bytes of noise with SYNCs, then the reply */
} act_t;

typedef struct evil {
  pal_emu_t *emu;
  pal_link_model_t *model;
  pal_frame_parser_t *req;
  act_t script[64];
  uint8_t reason[64];
  size_t n_script, next;
  uint8_t model_out[70000];
  size_t model_len;
  uint8_t out[140000];
  size_t out_len, out_pos;
  size_t requests;
} evil_t;

static void evil_capture(void *ctx, const uint8_t *b, size_t n) {
  evil_t *e = ctx;
  memcpy(e->model_out + e->model_len, b, n);
  e->model_len += n;
}

static void evil_put(evil_t *e, const uint8_t *b, size_t n) {
  memcpy(e->out + e->out_len, b, n);
  e->out_len += n;
}

/* Re-encodes the model's reply (one frame in model_out) with changes. */
static void evil_put_modified(evil_t *e, int seq_delta, int type, long len_delta, bool flip) {
  pal_frame_event_t ev;
  pal_frame_t f;
  pal_frame_parser_t *p;
  OK(pal_frame_parser_create(PAL_PROTO_MAX_LEN, &p));
  pal_frame_parser_push(p, e->model_out, e->model_len, &ev, &f);
  assert_int_equal(ev, PAL_FRAME_OK);
  static uint8_t payload[PAL_PROTO_MAX_LEN], buf[PAL_PROTO_MAX_LEN + 16];
  memcpy(payload, f.payload, f.len);
  f.payload = payload;
  f.seq = (uint8_t)(f.seq + seq_delta);
  if (type >= 0) f.type = (uint8_t)type;
  if (len_delta < 0 && f.len > 0) f.len = (uint16_t)(f.len - 1);
  size_t n;
  OK(pal_frame_encode(&f, buf, sizeof buf, &n));
  if (flip) buf[PAL_PROTO_HEADER_BYTES] ^= 0x04;
  evil_put(e, buf, n);
  pal_frame_parser_destroy(p);
}

static pal_status_t evil_write(void *self, const uint8_t *data, size_t len, uint32_t timeout_ms) {
  (void)timeout_ms;
  evil_t *e = self;
  size_t i = 0;
  while (i < len) {
    pal_frame_event_t ev;
    pal_frame_t f;
    i += pal_frame_parser_push(e->req, data + i, len - i, &ev, &f);
    if (ev != PAL_FRAME_OK) continue;
    e->requests++;
    act_t a = e->next < e->n_script ? e->script[e->next] : ACT_OK;
    uint8_t reason = e->next < e->n_script ? e->reason[e->next] : 0;
    e->next++;
    static uint8_t raw[PAL_PROTO_MAX_LEN + 16];
    size_t rn;
    pal_frame_t g = f;
    OK(pal_frame_encode(&g, raw, sizeof raw, &rn));
    e->model_len = 0;
    if (a != ACT_SILENT && a != ACT_NAK) pal_link_model_receive(e->model, raw, rn);
    switch (a) {
      case ACT_OK: evil_put(e, e->model_out, e->model_len); break;
      case ACT_SILENT:
      case ACT_EXECUTE_SILENT: break;
      case ACT_WRONG_SEQ:
        evil_put_modified(e, -1, -1, 0, false);
        evil_put(e, e->model_out, e->model_len);
        break;
      case ACT_WRONG_TYPE:
        evil_put_modified(e, 0, PAL_MSG_PONG, 0, false);
        evil_put(e, e->model_out, e->model_len);
        break;
      case ACT_DOUBLE:
        evil_put(e, e->model_out, e->model_len);
        evil_put(e, e->model_out, e->model_len);
        break;
      case ACT_SHORT: evil_put_modified(e, 0, -1, -1, false); break;
      case ACT_DAMAGED: evil_put_modified(e, 0, -1, 0, true); break;
      case ACT_NAK: {
        pal_frame_t n = {PAL_MSG_NAK, f.seq, PAL_PROTO_VERSION, 1, &reason};
        OK(pal_frame_encode(&n, raw, sizeof raw, &rn));
        evil_put(e, raw, rn);
        break;
      }
      case ACT_GARBAGE: {
        uint8_t junk[40];
        for (int k = 0; k < 40; k++) junk[k] = k % 5 == 0 ? PAL_PROTO_SYNC : (uint8_t)(k * 37 + 11);
        evil_put(e, junk, sizeof junk);
        evil_put(e, e->model_out, e->model_len);
        break;
      }
    }
  }
  return PAL_STATUS_OK;
}

static pal_status_t evil_read(void *self, uint8_t *data, size_t cap, size_t *out_len, uint32_t timeout_ms) {
  (void)timeout_ms;
  evil_t *e = self;
  size_t n = e->out_len - e->out_pos;
  if (n > cap) n = cap;
  memcpy(data, e->out + e->out_pos, n);
  e->out_pos += n;
  if (e->out_pos == e->out_len) e->out_pos = e->out_len = 0;
  *out_len = n;
  return PAL_STATUS_OK;
}

static pal_status_t evil_purge(void *self) {
  evil_t *e = self;
  e->out_pos = e->out_len = 0;
  return PAL_STATUS_OK;
}

static void evil_close(void *self) { (void)self; }

static const pal_transport_ops_t kEvilOps = {evil_write, evil_read, evil_purge, evil_close};

static evil_t *evil_new(void) {
  evil_t *e = calloc(1, sizeof *e);
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 2, 2);
  OK(pal_emu_create(&cfg, &e->emu));
  pal_link_model_options_t mo;
  pal_link_model_options_initialize(&mo);
  mo.max_payload = 128;
  mo.emit = evil_capture;
  mo.emit_ctx = e;
  OK(pal_link_model_create(pal_emu_device(e->emu), &mo, &e->model));
  OK(pal_frame_parser_create(PAL_PROTO_MAX_LEN, &e->req));
  return e;
}

static void evil_free(evil_t *e) {
  pal_frame_parser_destroy(e->req);
  pal_link_model_destroy(e->model);
  pal_emu_destroy(e->emu);
  free(e);
}

static pal_device_t *evil_open(evil_t *e, uint32_t retries) {
  pal_transport_t t = {&kEvilOps, e, ""};
  pal_device_options_t o;
  pal_device_options_initialize(&o);
  o.retries = retries;
  o.resync_attempts = 2;
  pal_device_t *d;
  OK(pal_device_open_transport("evil://", t, 0, &o, &d));
  return d;
}

static void script(evil_t *e, const act_t *acts, size_t n) {
  memcpy(e->script, acts, n * sizeof *acts);
  e->n_script = n;
  e->next = 0;
}

static void test_engine_misbehaving_device(void **state) {
  (void)state;
  evil_t *e = evil_new();
  pal_device_t *d = evil_open(e, 3);
  uint8_t data[300], back[300];
  for (int i = 0; i < 300; i++) data[i] = (uint8_t)(i ^ 0x5A);
  uint32_t a = PAL_ADDR_ABUF_CODES + 64;
  pal_link_stats_t s0, s1;

  /* every recoverable misbehaviour, one per request of a split transfer */
  const act_t acts[] = {ACT_WRONG_SEQ, ACT_WRONG_TYPE, ACT_DOUBLE, ACT_SHORT, ACT_DAMAGED,
                        ACT_SILENT,    ACT_EXECUTE_SILENT, ACT_GARBAGE, ACT_OK};
  for (size_t k = 0; k < sizeof acts / sizeof acts[0]; k++) {
    for (int verb = 0; verb < 2; verb++) {
      pal_device_link_stats(d, &s0);
      act_t one[1] = {acts[k]};
      script(e, one, 1);
      if (verb == 0) {
        OK(pal_device_write(d, a, data, 300)); /* 3 packets of 124 bytes and less */
      } else {
        memset(back, 0, sizeof back);
        OK(pal_device_read(d, a, back, 300));
        assert_memory_equal(back, data, 300);
      }
      pal_device_link_stats(d, &s1);
      uint64_t retx = s1.retransmissions - s0.retransmissions;
      bool needs_retry = acts[k] == ACT_SHORT || acts[k] == ACT_DAMAGED || acts[k] == ACT_SILENT ||
                         acts[k] == ACT_EXECUTE_SILENT;
      if (retx != (needs_retry ? 1u : 0u))
        fail_msg("act %zu verb %d: %llu retransmissions", k, verb, (unsigned long long)retx);
    }
  }
  uint8_t dev[300];
  OK(pal_tile_device_read(pal_emu_device(e->emu), PAL_TILE_REGION_ABUF_CODES, 0, 64, 300, dev));
  assert_memory_equal(dev, data, 300);
  pal_device_link_stats(d, &s1);
  assert_true(s1.replies_discarded >= 4); /* wrong SEQ, wrong type, doubles */
  assert_true(s1.replies_malformed >= 2);

  /* NAK 1 (and 3, 5) are retried; 2, 4, 6 fail at once with a clear code */
  const struct {
    uint8_t reason;
    pal_status_code_t code; /* PAL_OK: retried, then succeeds */
  } naks[] = {{PAL_NAK_BAD_CRC, PAL_OK},
              {PAL_NAK_BAD_LENGTH, PAL_OK},
              {PAL_NAK_BAD_VERSION, PAL_OK},
              {PAL_NAK_UNKNOWN_TYPE, PAL_INVALID_ARGUMENT},
              {PAL_NAK_BAD_ADDRESS, PAL_OUT_OF_RANGE},
              {PAL_NAK_REFUSED, PAL_FAILED_PRECONDITION},
              {PAL_NAK_FIRMWARE, PAL_UNAVAILABLE}};
  for (size_t k = 0; k < sizeof naks / sizeof naks[0]; k++) {
    act_t one[1] = {ACT_NAK};
    script(e, one, 1);
    e->reason[0] = naks[k].reason;
    pal_device_link_stats(d, &s0);
    pal_status_t st = pal_device_write(d, a, data, 10);
    pal_device_link_stats(d, &s1);
    if (naks[k].code == PAL_OK) {
      OK(st);
      assert_int_equal(s1.retransmissions - s0.retransmissions, 1);
    } else {
      expect_error(st, naks[k].code, "evil://", pal_nak_reason_name(naks[k].reason));
      assert_int_equal(s1.packets_sent - s0.packets_sent, 1);
    }
  }

  /* a device that keeps failing: retries, resync, then a clear error */
  act_t bad4[] = {ACT_DAMAGED, ACT_DAMAGED, ACT_DAMAGED, ACT_DAMAGED};
  script(e, bad4, 4);
  pal_status_t st = pal_device_read(d, a, back, 10);
  expect_error(st, PAL_DATA_LOSS, "evil://", "no valid reply after 4 attempts");
  act_t quiet[] = {ACT_SILENT, ACT_SILENT, ACT_SILENT, ACT_SILENT, ACT_SILENT, ACT_SILENT};
  script(e, quiet, 6);
  st = pal_device_read(d, a, back, 10);
  expect_error(st, PAL_DEADLINE_EXCEEDED, "evil://", "resync failed");
  OK(pal_device_read(d, a, back, 10)); /* and it works again afterwards */
  assert_memory_equal(back, data, 10);
  pal_device_close(d);
  evil_free(e);
}

/* ---- dead and vanishing devices ------------------------------------------------ */

static void test_dead_device_emu(void **state) {
  (void)state;
  pal_device_options_t o;
  pal_device_options_initialize(&o);
  o.faults.drop_rate = 1.0; /* nothing ever arrives */
  pal_device_t *d = NULL;
  double t0 = now_s();
  expect_error(pal_device_open("emu://", &o, &d), PAL_DEADLINE_EXCEEDED, "emu://", "INFO");
  assert_null(d);
  assert_true(now_s() - t0 < 2.0); /* virtual time: no real waiting */
}

static void dead_device(lts_kind_t kind) {
  lts_options_t so;
  lts_options_initialize(&so);
  so.kind = kind;
  so.mute = true;
  lts_t *srv;
  OK(lts_start(&so, &srv));
  pal_device_options_t o;
  pal_device_options_initialize(&o);
  o.timeout_ms = 40;
  o.retries = 2;
  o.resync_attempts = 2;
  pal_device_t *d = NULL;
  double t0 = now_s();
  pal_status_t st = pal_device_open(lts_uri(srv), &o, &d);
  double dt = now_s() - t0;
  assert_null(d);
  expect_error(st, PAL_DEADLINE_EXCEEDED, lts_uri(srv), "no valid reply after 3 attempts");
  /* 3 attempts + 2 resync PINGs of 40 ms each (plus wire time): bounded */
  if (dt < 0.15 || dt > 3.0) fail_msg("a dead device took %.3f s to report", dt);
  lts_stop(srv);
}

static void test_dead_device_pty(void **state) {
  (void)state;
  dead_device(LTS_PTY);
}

static void test_dead_device_tcp(void **state) {
  (void)state;
  dead_device(LTS_TCP);
}

/* The server goes away mid-session: the next request fails at once. */
static void test_vanishing_device(void **state) {
  (void)state;
  lts_options_t so;
  lts_options_initialize(&so);
  so.kind = LTS_TCP;
  lts_t *srv;
  OK(lts_start(&so, &srv));
  pal_device_t *d = NULL;
  char uri[128];
  snprintf(uri, sizeof uri, "%s", lts_uri(srv));
  OK(pal_device_open(uri, NULL, &d));
  uint32_t v;
  OK(pal_device_read_reg(d, PAL_TILE_REG_ID, &v));
  assert_int_equal(v, PAL_TILE_ID_VALUE);
  lts_stop(srv);
  double t0 = now_s();
  expect_error(pal_device_read_reg(d, PAL_TILE_REG_ID, &v), PAL_UNAVAILABLE, uri, "closed");
  assert_true(now_s() - t0 < 1.0);
  pal_device_close(d);
}

/* A kernel that outlives the wait: PAL_DEADLINE_EXCEEDED naming the URI. */
static void test_wait_timeout(void **state) {
  (void)state;
  pal_tile_config_t cfg;
  pal_tile_config_initialize(&cfg, 4, 4);
  pal_emu_t *emu;
  OK(pal_emu_create(&cfg, &emu));
  pal_link_model_options_t mo;
  pal_link_model_options_initialize(&mo);
  mo.run_cycles = 1; /* the tile moves one instruction per request */
  pal_link_model_t *model;
  OK(pal_link_model_create(pal_emu_device(emu), &mo, &model));
  pal_transport_t t;
  OK(pal_transport_model_open(model, "slow://", &t));
  pal_device_t *d;
  OK(pal_device_open_transport("slow://", t, 0, NULL, &d));
  uint32_t prog[4 * 255];
  pal_isa_instr_t in;
  pal_isa_instr_initialize(&in, PAL_ISA_OP_SYNC);
  for (int i = 0; i < 254; i++) OK(pal_isa_encode(&in, prog + 4 * i));
  pal_isa_instr_initialize(&in, PAL_ISA_OP_END);
  OK(pal_isa_encode(&in, prog + 4 * 254));
  OK(pal_device_load_program(d, 0, prog, 4 * 255));
  OK(pal_device_start(d, 0));
  pal_tile_status_t s;
  expect_error(pal_device_wait(d, 20, &s), PAL_DEADLINE_EXCEEDED, "slow://", "still running");
  /* given time, it finishes: every poll moves it on */
  OK(pal_device_wait(d, 60000, &s));
  assert_true(s.done && s.error == 0);
  /* a start while busy is refused by the device */
  OK(pal_device_start(d, 0));
  expect_error(pal_device_start(d, 0), PAL_FAILED_PRECONDITION, "slow://", "REFUSED");
  pal_device_close(d);
  pal_link_model_destroy(model);
  pal_emu_destroy(emu);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_uri_parse),
      cmocka_unit_test(test_open_errors),
      cmocka_unit_test(test_scheme_registry),
      cmocka_unit_test(test_engine_misbehaving_device),
      cmocka_unit_test(test_dead_device_emu),
      cmocka_unit_test(test_dead_device_pty),
      cmocka_unit_test(test_dead_device_tcp),
      cmocka_unit_test(test_vanishing_device),
      cmocka_unit_test(test_wait_timeout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
