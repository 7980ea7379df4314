/* ONNX import and export: a model exported and imported back is the same
 * graph and gives the same outputs (bit for bit) as the original and the
 * FP32 reference; malformed and unsupported models fail with messages that
 * name the file, node and field; external data stays inside the folder. */
#include <math.h>

#include "onnx.pb-c.h"
#include "rt_test_util.h"

static const int mlp_dims[] = {40, 24, 10};

static pal_tensor_t *run_cpu(const pal_graph_t *g, const pal_tensor_t *x) {
  pal_session_options_t o;
  pal_session_options_initialize(&o);
  o.providers = "cpu";
  pal_session_t *s;
  RT_OK(pal_session_create(g, &o, &s));
  pal_tensor_t *y;
  RT_OK(pal_session_run(s, 1, &x, 1, &y));
  pal_session_release(s);
  return y;
}

static void test_onnx_roundtrip(void **state) {
  (void)state;
  uint64_t seed = pal_test_seed();
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, seed);
  pal_graph_t *g = rt_make_mlp(&rng, mlp_dims, 2, 5);
  /* Extra attribute kinds, so they are exported too. */
  char dir[256], path[300];
  rt_mkdtemp(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/mlp.onnx", dir);
  RT_OK(pal_onnx_save(g, path));
  pal_graph_t *h;
  RT_OK(pal_onnx_load(path, &h));
  assert_int_equal(pal_graph_opset(h), pal_graph_opset(g));
  assert_int_equal(pal_graph_node_count(h), pal_graph_node_count(g));
  for (size_t i = 0; i < pal_graph_node_count(g); i++) {
    assert_string_equal(pal_graph_node_op(h, i), pal_graph_node_op(g, i));
    assert_string_equal(pal_graph_node_name(h, i), pal_graph_node_name(g, i));
  }
  assert_int_equal(pal_graph_input_count(h), 1);
  assert_string_equal(pal_graph_input_name(h, 0), "x");
  assert_string_equal(pal_graph_output_name(h, 0), pal_graph_output_name(g, 0));
  const char *inits[] = {"w0", "b0", "w1", "b1"};
  for (size_t i = 0; i < 4; i++) {
    const pal_tensor_t *a = pal_graph_initializer(g, inits[i]), *b = pal_graph_initializer(h, inits[i]);
    assert_non_null(b);
    assert_int_equal(pal_tensor_nbytes(a), pal_tensor_nbytes(b));
    assert_memory_equal(pal_tensor_cdata(a), pal_tensor_cdata(b), pal_tensor_nbytes(a));
  }
  pal_shape_t s;
  assert_true(pal_graph_value_info(h, pal_graph_output_name(h, 0), NULL, &s));
  assert_int_equal(s.rank, 2);
  assert_int_equal(s.dims[1], 10);
  /* Serializing the imported graph gives the same bytes again. */
  uint8_t *b1, *b2;
  size_t n1, n2;
  RT_OK(pal_onnx_serialize(g, &b1, &n1));
  RT_OK(pal_onnx_serialize(h, &b2, &n2));
  assert_int_equal(n1, n2);
  assert_memory_equal(b1, b2, n1);
  free(b1);
  free(b2);
  /* Same outputs, and both match the FP32 reference. */
  int64_t xd[2] = {5, 40};
  pal_tensor_t *x = rt_rand_tensor(&rng, 2, xd, 1.0);
  pal_tensor_t *y1 = run_cpu(g, x), *y2 = run_cpu(h, x);
  assert_memory_equal(pal_tensor_cdata(y1), pal_tensor_cdata(y2), pal_tensor_nbytes(y1));
  float ref[50];
  rt_fp32_mlp(g, pal_tensor_cdata(x), 5, mlp_dims, 2, ref);
  const float *y = pal_tensor_cdata(y1);
  for (size_t i = 0; i < 50; i++)
    PAL_TEST_CHECK(seed, fabsf(y[i] - ref[i]) <= 1e-5f + 1e-5f * fabsf(ref[i]),
                   "output %zu: %g, reference %g", i, (double)y[i], (double)ref[i]);
  pal_tensor_release(x);
  pal_tensor_release(y1);
  pal_tensor_release(y2);
  pal_graph_release(g);
  pal_graph_release(h);
  rt_rmdir(dir);
}

/* Serializes a hand-built ModelProto. */
static uint8_t *pack_model(Onnx__ModelProto *m, size_t *out_n) {
  *out_n = onnx__model_proto__get_packed_size(m);
  uint8_t *b = malloc(*out_n);
  onnx__model_proto__pack(m, b);
  return b;
}

/* A one-node model Relu(x) -> y, with opset `opset`, op `op`, and an
 * optional initializer `init` used as the node's second input. */
typedef struct tiny {
  Onnx__ModelProto m;
  Onnx__GraphProto g;
  Onnx__OperatorSetIdProto os;
  Onnx__OperatorSetIdProto *osp[1];
  Onnx__NodeProto n;
  Onnx__NodeProto *np[1];
  Onnx__ValueInfoProto in, out;
  Onnx__ValueInfoProto *inp[1], *outp[1];
  Onnx__TypeProto tp;
  Onnx__TypeProto__Tensor tt;
  char *ins[2], *outs[1];
  Onnx__TensorProto init;
  Onnx__TensorProto *initp[1];
} tiny_t;

static void tiny_init(tiny_t *t, const char *op, int64_t opset) {
  memset(t, 0, sizeof *t);
  onnx__model_proto__init(&t->m);
  onnx__graph_proto__init(&t->g);
  onnx__operator_set_id_proto__init(&t->os);
  onnx__node_proto__init(&t->n);
  onnx__value_info_proto__init(&t->in);
  onnx__value_info_proto__init(&t->out);
  onnx__type_proto__init(&t->tp);
  onnx__type_proto__tensor__init(&t->tt);
  t->os.domain = (char *)"";
  t->os.has_version = 1;
  t->os.version = opset;
  t->osp[0] = &t->os;
  t->m.has_ir_version = 1;
  t->m.ir_version = 8;
  t->m.n_opset_import = 1;
  t->m.opset_import = t->osp;
  t->m.graph = &t->g;
  t->g.name = (char *)"tiny";
  t->tt.has_elem_type = 1;
  t->tt.elem_type = 1;
  t->tp.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  t->tp.tensor_type = &t->tt;
  t->in.name = (char *)"x";
  t->in.type = &t->tp;
  t->out.name = (char *)"y";
  t->inp[0] = &t->in;
  t->outp[0] = &t->out;
  t->g.n_input = 1;
  t->g.input = t->inp;
  t->g.n_output = 1;
  t->g.output = t->outp;
  t->ins[0] = (char *)"x";
  t->ins[1] = (char *)"w";
  t->outs[0] = (char *)"y";
  t->n.op_type = (char *)op;
  t->n.name = (char *)"the_node";
  t->n.n_input = 1;
  t->n.input = t->ins;
  t->n.n_output = 1;
  t->n.output = t->outs;
  t->np[0] = &t->n;
  t->g.n_node = 1;
  t->g.node = t->np;
}

static void tiny_add_init(tiny_t *t, Onnx__StringStringEntryProto **ext, size_t n_ext,
                          int64_t dim, const float *data) {
  onnx__tensor_proto__init(&t->init);
  t->init.name = (char *)"w";
  t->init.has_data_type = 1;
  t->init.data_type = 1;
  t->init.n_dims = 1;
  t->init.dims = malloc(sizeof(int64_t));
  t->init.dims[0] = dim;
  if (ext) {
    t->init.has_data_location = 1;
    t->init.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    t->init.n_external_data = n_ext;
    t->init.external_data = ext;
  } else if (data) {
    t->init.has_raw_data = 1;
    t->init.raw_data.data = (uint8_t *)data;
    t->init.raw_data.len = 4 * 4; /* always 4 floats */
  }
  t->initp[0] = &t->init;
  t->g.n_initializer = 1;
  t->g.initializer = t->initp;
  t->n.op_type = (char *)"Add";
  t->n.n_input = 2;
}

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

static pal_status_t load_tiny(tiny_t *t, const char *dir, const char *name) {
  char path[400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t n;
  uint8_t *b = pack_model(&t->m, &n);
  write_file(path, b, n);
  free(b);
  pal_graph_t *g = NULL;
  pal_status_t st = pal_onnx_load(path, &g);
  pal_graph_release(g);
  return st;
}

static void test_onnx_malformed(void **state) {
  (void)state;
  char dir[256];
  rt_mkdtemp(dir, sizeof dir);
  tiny_t t;
  /* The good one loads. */
  tiny_init(&t, "Relu", 13);
  RT_OK(load_tiny(&t, dir, "ok.onnx"));
  /* Unknown op: names the file, the node and the field. */
  tiny_init(&t, "FrobOp", 13);
  RT_ERR(load_tiny(&t, dir, "unknown_op.onnx"), "unknown_op.onnx: node 0 'the_node' (FrobOp): field 'op_type'");
  /* Bad opsets. */
  tiny_init(&t, "Relu", 3);
  RT_ERR(load_tiny(&t, dir, "old.onnx"), "opset 3 is not supported");
  tiny_init(&t, "Relu", 99);
  RT_ERR(load_tiny(&t, dir, "new.onnx"), "opset 99");
  /* Unsupported element type of an input. */
  tiny_init(&t, "Relu", 13);
  t.tt.elem_type = 11;
  RT_ERR(load_tiny(&t, dir, "double.onnx"), "'elem_type' = 11 (DOUBLE)");
  /* Missing initializer: Add(x, w) without w. */
  tiny_init(&t, "Add", 13);
  t.n.n_input = 2;
  RT_ERR(load_tiny(&t, dir, "missing.onnx"), "'w'");
  /* raw_data shorter than the dims, and a 2 GB dimension, refused before
   * anything that size is allocated. */
  float four[4] = {1, 2, 3, 4};
  tiny_init(&t, "Add", 13);
  tiny_add_init(&t, NULL, 0, 8, four);
  RT_ERR(load_tiny(&t, dir, "short.onnx"), "field 'raw_data' has 16 bytes");
  free(t.init.dims);
  tiny_init(&t, "Add", 13);
  tiny_add_init(&t, NULL, 0, (int64_t)1 << 31, four);
  RT_ERR(load_tiny(&t, dir, "huge.onnx"), "initializer 'w'");
  free(t.init.dims);
  /* An attribute type the runtime does not take (GRAPH). */
  tiny_init(&t, "Relu", 13);
  Onnx__AttributeProto at;
  Onnx__AttributeProto *atp[1] = {&at};
  onnx__attribute_proto__init(&at);
  at.name = (char *)"body";
  at.has_type = 1;
  at.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
  t.n.n_attribute = 1;
  t.n.attribute = atp;
  RT_ERR(load_tiny(&t, dir, "attr.onnx"), "attribute 'body'");

  /* External data: in the folder it loads; escaping it is refused. */
  char path[400];
  snprintf(path, sizeof path, "%s/weights.bin", dir);
  float ext_data[6] = {9, 9, 1.5f, 2.5f, 3.5f, 4.5f};
  write_file(path, ext_data, sizeof ext_data);
  Onnx__StringStringEntryProto loc, off, len;
  Onnx__StringStringEntryProto *ext[3] = {&loc, &off, &len};
  onnx__string_string_entry_proto__init(&loc);
  onnx__string_string_entry_proto__init(&off);
  onnx__string_string_entry_proto__init(&len);
  loc.key = (char *)"location";
  loc.value = (char *)"weights.bin";
  off.key = (char *)"offset";
  off.value = (char *)"8";
  len.key = (char *)"length";
  len.value = (char *)"16";
  tiny_init(&t, "Add", 13);
  tiny_add_init(&t, ext, 3, 4, NULL);
  size_t n;
  uint8_t *b = pack_model(&t.m, &n);
  snprintf(path, sizeof path, "%s/ext.onnx", dir);
  write_file(path, b, n);
  free(b);
  pal_graph_t *g;
  RT_OK(pal_onnx_load(path, &g));
  const pal_tensor_t *w = pal_graph_initializer(g, "w");
  assert_non_null(w);
  assert_memory_equal(pal_tensor_cdata(w), ext_data + 2, 16);
  pal_graph_release(g);
  loc.value = (char *)"../weights.bin";
  RT_ERR(load_tiny(&t, dir, "escape.onnx"), "escapes the model's folder");
  loc.value = (char *)"/etc/passwd";
  RT_ERR(load_tiny(&t, dir, "abs.onnx"), "escapes the model's folder");
  loc.value = (char *)"nothere.bin";
  RT_ERR(load_tiny(&t, dir, "nothere.onnx"), "not found");
  loc.value = (char *)"weights.bin";
  off.value = (char *)"16"; /* 16 + 16 > 24 bytes */
  RT_ERR(load_tiny(&t, dir, "past.onnx"), "does not hold");
  free(t.init.dims);

  /* Truncations of a real model and wrong wire types: errors, never a
   * crash (the ASan build of this test checks the "never"). */
  pal_test_rng_t rng;
  pal_test_rng_init(&rng, pal_test_seed());
  pal_graph_t *mlp = rt_make_mlp(&rng, mlp_dims, 2, 1);
  uint8_t *bytes;
  RT_OK(pal_onnx_serialize(mlp, &bytes, &n));
  pal_graph_release(mlp);
  size_t failures = 0;
  for (size_t cut = 0; cut < n; cut += 1 + cut / 16) {
    pal_status_t st = pal_onnx_parse(bytes, cut, "cut.onnx", NULL, &g);
    if (st) failures++;
    else pal_graph_release(g);
    pal_status_free(st);
  }
  assert_true(failures > 0);
  RT_ERR(pal_onnx_parse(bytes, n / 2, "half.onnx", NULL, &g), "half.onnx");
  /* Field 7 (graph) of ModelProto is length-delimited (tag 0x3a); as a
   * varint (0x38) it is the wrong wire type. */
  uint8_t *wrong = malloc(n);
  memcpy(wrong, bytes, n);
  for (size_t i = 0; i < n; i++)
    if (wrong[i] == 0x3a) {
      wrong[i] = 0x3d; /* fixed32 wire type */
      break;
    }
  RT_ERR(pal_onnx_parse(wrong, n, "wire.onnx", NULL, &g), "wire.onnx");
  free(wrong);
  free(bytes);
  RT_ERR(pal_onnx_load("/nonexistent-dir/m.onnx", &g), "m.onnx");
  rt_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_onnx_roundtrip),
      cmocka_unit_test(test_onnx_malformed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
