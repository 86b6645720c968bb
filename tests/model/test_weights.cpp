// load_model on small checkpoints built here from random QuantLinears packed
// with pack_linear: every tensor must come back bit-exact, and every missing
// or misshapen tensor must be named.
#include <catch2/catch.hpp>

#include <cstring>
#include <nlohmann/json.hpp>

#include "src/model/awq_format.h"
#include "src/model/inspect.h"
#include "src/model/weights.h"
#include "tests/model/model_test_util.h"

using namespace awq;
using namespace awq::test;
using nlohmann::json;

namespace {

constexpr int kHidden = 64, kInter = 128, kHeads = 4, kKvHeads = 2, kHeadDim = 16, kVocab = 96, kLayers = 2;

struct Options {
  std::string arch = "LlamaForCausalLM";
  bool tied = false;
  bool write_lm_head = true;
  AwqLayout layout = AwqLayout::Gemm;
  int group = 32;
  std::vector<std::string> not_convert;
};

// What the test wrote, to compare against what load_model returns.
struct Reference {
  std::map<std::string, QuantLinear> quant;              // by full linear name
  std::map<std::string, std::vector<float>> floats;      // by tensor name, as stored values
  std::map<std::string, TensorData> tensors;             // everything, before writing
};

std::mt19937 g_rng(20240601u);

std::vector<float> random_values(size_t n, float mean, float spread) {
  std::normal_distribution<float> d(mean, spread);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g_rng);
  return v;
}

// Stores values in `dtype` and records the values as they read back.
void add_float(Reference& ref, const std::string& name, DType dtype, std::vector<int64_t> shape, float mean,
               float spread) {
  size_t n = 1;
  for (auto d : shape) n *= size_t(d);
  std::vector<float> v = random_values(n, mean, spread);
  TensorData t{dtype, std::move(shape), {}};
  if (dtype == DType::F32) {
    t.bytes.resize(n * 4);
    std::memcpy(t.bytes.data(), v.data(), n * 4);
  } else {
    std::vector<uint16_t> h(n);
    for (size_t i = 0; i < n; ++i) {
      h[i] = dtype == DType::F16 ? float_to_fp16(v[i]) : float_to_bf16(v[i]);
      v[i] = dtype == DType::F16 ? fp16_to_float(h[i]) : bf16_to_float(h[i]);
    }
    t.bytes.resize(n * 2);
    std::memcpy(t.bytes.data(), h.data(), n * 2);
  }
  ref.floats[name] = v;
  ref.tensors[name] = std::move(t);
}

QuantLinear random_quant(int in, int out, int group, bool bias) {
  QuantLinear l = QuantLinear::allocate(in, out, group, bias);
  for (auto& b : l.qweight) b = uint8_t(g_rng());
  for (auto& z : l.zeros) z = uint8_t(g_rng() % 16);
  std::uniform_real_distribution<float> u(0.001f, 0.02f);
  for (auto& s : l.scales) s = float_to_fp16(u(g_rng));
  for (auto& b : l.bias) b = fp16_to_float(float_to_fp16(u(g_rng) - 0.01f));
  return l;
}

Reference build(const Options& o) {
  Reference ref;
  const bool qwen = o.arch == "Qwen2ForCausalLM";
  add_float(ref, "model.embed_tokens.weight", DType::F16, {kVocab, kHidden}, 0.f, 0.02f);
  add_float(ref, "model.norm.weight", DType::BF16, {kHidden}, 1.f, 0.05f);
  if (o.write_lm_head) add_float(ref, "lm_head.weight", DType::F32, {kVocab, kHidden}, 0.f, 0.02f);
  struct Spec { const char* name; int in, out; bool bias; };
  const std::vector<Spec> specs = {
      {"self_attn.q_proj", kHidden, kHeads * kHeadDim, qwen}, {"self_attn.k_proj", kHidden, kKvHeads * kHeadDim, qwen},
      {"self_attn.v_proj", kHidden, kKvHeads * kHeadDim, qwen}, {"self_attn.o_proj", kHeads * kHeadDim, kHidden, false},
      {"mlp.gate_proj", kHidden, kInter, false}, {"mlp.up_proj", kHidden, kInter, false},
      {"mlp.down_proj", kInter, kHidden, false}};
  for (int i = 0; i < kLayers; ++i) {
    const std::string block = "model.layers." + std::to_string(i);
    add_float(ref, block + ".input_layernorm.weight", DType::F16, {kHidden}, 1.f, 0.05f);
    add_float(ref, block + ".post_attention_layernorm.weight", DType::F32, {kHidden}, 1.f, 0.05f);
    for (const Spec& s : specs) {
      const std::string name = block + "." + s.name;
      const bool dense = std::any_of(o.not_convert.begin(), o.not_convert.end(),
                                     [&](const std::string& m) { return std::string(s.name).find(m) != std::string::npos; });
      if (dense) {
        add_float(ref, name + ".weight", DType::F16, {s.out, s.in}, 0.f, 0.05f);
        if (s.bias) add_float(ref, name + ".bias", DType::F16, {s.out}, 0.f, 0.05f);
        continue;
      }
      const QuantLinear l = random_quant(s.in, s.out, o.group == -1 ? s.in : o.group, s.bias);
      PackedLinear p = pack_linear(o.layout, l);
      ref.tensors[name + ".qweight"] = std::move(p.qweight);
      ref.tensors[name + ".qzeros"] = std::move(p.qzeros);
      ref.tensors[name + ".scales"] = std::move(p.scales);
      if (p.bias) ref.tensors[name + ".bias"] = std::move(*p.bias);
      ref.quant[name] = l;
    }
  }
  return ref;
}

json config_for(const Options& o) {
  json q = {{"quant_method", "awq"}, {"bits", 4}, {"group_size", o.group}, {"zero_point", true},
            {"version", o.layout == AwqLayout::Gemm ? "gemm" : "gemv"}};
  q["modules_to_not_convert"] = o.not_convert.empty() ? json(nullptr) : json(o.not_convert);
  return {{"architectures", {o.arch}}, {"hidden_size", kHidden}, {"intermediate_size", kInter},
          {"num_hidden_layers", kLayers}, {"num_attention_heads", kHeads}, {"num_key_value_heads", kKvHeads},
          {"vocab_size", kVocab}, {"max_position_embeddings", 256}, {"rms_norm_eps", 1e-5},
          {"tie_word_embeddings", o.tied}, {"bos_token_id", 1}, {"eos_token_id", 2}, {"quantization_config", q}};
}

void write_checkpoint(const TempDir& dir, const Options& o, const std::map<std::string, TensorData>& tensors,
                      bool sharded = false) {
  write_bytes(dir / "config.json", config_for(o).dump(2));
  if (!sharded) {
    write_safetensors(dir / "model.safetensors", tensors);
    return;
  }
  // Layer 0 and the embedding in shard 1, the rest in shard 2.
  std::map<std::string, TensorData> s1, s2;
  json wm = json::object();
  for (const auto& [name, t] : tensors) {
    const bool first = name.starts_with("model.layers.0.") || name.starts_with("model.embed");
    (first ? s1 : s2)[name] = t;
    wm[name] = first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  write_safetensors(dir / "model-00001-of-00002.safetensors", s1);
  write_safetensors(dir / "model-00002-of-00002.safetensors", s2);
  write_bytes(dir / "model.safetensors.index.json", json{{"metadata", {{"total_size", 0}}}, {"weight_map", wm}}.dump());
}

void check_dense(const DenseMatrix& m, const std::vector<float>& values, int rows, int cols) {
  REQUIRE(m.rows == rows);
  REQUIRE(m.cols == cols);
  std::vector<float> row(size_t(cols), 0.f);
  bool all_equal = true;
  for (int r = 0; r < rows; ++r) {
    m.row_to_float(r, row.data());
    for (int c = 0; c < cols; ++c) {
      all_equal &= row[c] == values[size_t(r) * cols + c];
      all_equal &= m.at(r, c) == values[size_t(r) * cols + c];
    }
  }
  CHECK(all_equal);
}

void check_linear(const Linear& l, const Reference& ref) {
  INFO(l.name);
  if (l.is_quantized()) {
    const QuantLinear& want = ref.quant.at(l.name);
    CHECK(l.quant->qweight == want.qweight);
    CHECK(l.quant->zeros == want.zeros);
    CHECK(l.quant->scales == want.scales);
    CHECK(l.quant->bias == want.bias);
    CHECK(l.quant->group_size == want.group_size);
  } else {
    check_dense(l.dense, ref.floats.at(l.name + ".weight"), l.out_features, l.in_features);
    if (ref.floats.count(l.name + ".bias")) CHECK(l.bias == ref.floats.at(l.name + ".bias"));
    else CHECK(l.bias.empty());
  }
}

void check_model(const ModelWeights& w, const Reference& ref, const Options& o) {
  REQUIRE(w.layers.size() == size_t(kLayers));
  check_dense(w.embed, ref.floats.at("model.embed_tokens.weight"), kVocab, kHidden);
  if (o.tied) CHECK(w.lm_head.data == w.embed.data);
  else check_dense(w.lm_head, ref.floats.at("lm_head.weight"), kVocab, kHidden);
  CHECK(w.final_norm == ref.floats.at("model.norm.weight"));
  for (int i = 0; i < kLayers; ++i) {
    const std::string block = "model.layers." + std::to_string(i);
    const LayerWeights& L = w.layers[i];
    CHECK(L.input_norm == ref.floats.at(block + ".input_layernorm.weight"));
    CHECK(L.post_attention_norm == ref.floats.at(block + ".post_attention_layernorm.weight"));
    for (const Linear* l : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down}) check_linear(*l, ref);
    CHECK(L.q.name == block + ".self_attn.q_proj");
    CHECK(L.k.out_features == kKvHeads * kHeadDim);
    CHECK(L.down.in_features == kInter);
  }
}

std::string load_failure(const Options& o, const std::map<std::string, TensorData>& tensors) {
  TempDir dir;
  write_checkpoint(dir, o, tensors);
  const Failure f = failure_of([&] { load_model(dir.path()); });
  CHECK(f.thrown);
  CHECK(f.kind == ErrorKind::Input);
  return f.message;
}

}  // namespace

TEST_CASE("load_model returns every tensor of GEMM and GEMV checkpoints bit-exact", "[weights]") {
  for (AwqLayout layout : {AwqLayout::Gemm, AwqLayout::Gemv})
    for (int group : {32, 64, -1}) {
      Options o;
      o.layout = layout;
      o.group = group;
      INFO("layout " << int(layout) << " group " << group);
      const Reference ref = build(o);
      TempDir dir;
      write_checkpoint(dir, o, ref.tensors);
      const ModelWeights w = load_model(dir.path());
      CHECK(w.config.num_layers == kLayers);
      CHECK(w.quant.layout == layout);
      check_model(w, ref, o);
    }
}

TEST_CASE("sharded checkpoint with tied embeddings and no lm_head tensor", "[weights]") {
  Options o;
  o.tied = true;
  o.write_lm_head = false;
  const Reference ref = build(o);
  TempDir dir;
  write_checkpoint(dir, o, ref.tensors, true);
  check_model(load_model(dir.path()), ref, o);
}

TEST_CASE("Qwen2 q/k/v biases and a modules_to_not_convert linear", "[weights]") {
  Options o;
  o.arch = "Qwen2ForCausalLM";
  o.not_convert = {"k_proj", "down"};
  const Reference ref = build(o);
  TempDir dir;
  write_checkpoint(dir, o, ref.tensors, true);
  const ModelWeights w = load_model(dir.path());
  check_model(w, ref, o);
  CHECK(w.layers[1].q.quant->bias.size() == size_t(kHeads * kHeadDim));
  CHECK_FALSE(w.layers[1].k.is_quantized());
  CHECK(w.layers[1].k.bias.size() == size_t(kKvHeads * kHeadDim));
  CHECK_FALSE(w.layers[0].down.is_quantized());
  CHECK(w.layers[0].o.quant->bias.empty());

  const std::string text = describe_checkpoint(dir.path());
  CHECK_THAT(text, Catch::Contains("Qwen2ForCausalLM"));
  CHECK_THAT(text, Catch::Contains("10 quantized, 4 floating point"));
  CHECK_THAT(text, Catch::Contains("in 2 files"));
  CHECK_THAT(text, Catch::Contains("not converted: k_proj, down"));
}

TEST_CASE("load_model names the missing or misshapen tensor", "[weights]") {
  Options o;
  const Reference ref = build(o);
  auto without = [&](const std::string& name) {
    auto t = ref.tensors;
    REQUIRE(t.erase(name) == 1);
    return t;
  };
  CHECK_THAT(load_failure(o, without("model.layers.1.mlp.up_proj.qzeros")),
             Catch::Contains("model.layers.1.mlp.up_proj.qzeros is missing: the quantized linear"));
  CHECK_THAT(load_failure(o, without("model.layers.0.self_attn.v_proj.scales")),
             Catch::Contains("model.layers.0.self_attn.v_proj.scales is missing"));
  CHECK_THAT(load_failure(o, without("lm_head.weight")),
             Catch::Contains("lm_head.weight is missing and config.json does not set tie_word_embeddings"));
  CHECK_THAT(load_failure(o, without("model.layers.1.input_layernorm.weight")),
             Catch::Contains("tensor model.layers.1.input_layernorm.weight is missing"));
  CHECK_THAT(load_failure(o, without("model.norm.weight")), Catch::Contains("tensor model.norm.weight is missing"));

  auto with_config_change = [&](const char* key, int value) {
    TempDir dir;
    write_checkpoint(dir, o, ref.tensors);
    json c = config_for(o);
    c[key] = value;
    write_bytes(dir / "config.json", c.dump());
    const Failure f = failure_of([&] { load_model(dir.path()); });
    CHECK(f.kind == ErrorKind::Input);
    return f.message;
  };
  CHECK_THAT(with_config_change("intermediate_size", 256),
             Catch::Contains("model.layers.0.mlp.gate_proj.qweight: shape [64, 16] but the config implies [64, 32]"));
  CHECK_THAT(with_config_change("vocab_size", 100),
             Catch::Contains("model.embed_tokens.weight: shape [96, 64] but the config implies [100, 64]"));
  CHECK_THAT(with_config_change("num_key_value_heads", 4),
             Catch::Contains("model.layers.0.self_attn.k_proj.qweight: shape [64, 4] but the config implies [64, 8]"));

  auto t = ref.tensors;
  t["model.layers.0.self_attn.q_proj.bias"] = make_tensor<uint16_t>(DType::F16, {64}, std::vector<uint16_t>(64, 0));
  CHECK_THAT(load_failure(o, t), Catch::Contains("q_proj.bias is present but the config implies no bias"));

  t = without("model.layers.1.mlp.gate_proj.qweight");
  t.erase("model.layers.1.mlp.gate_proj.qzeros");
  t.erase("model.layers.1.mlp.gate_proj.scales");
  t["model.layers.1.mlp.gate_proj.weight"] = make_tensor<uint16_t>(DType::F16, {kInter, kHidden},
                                                                    std::vector<uint16_t>(kInter * kHidden, 0));
  CHECK_THAT(load_failure(o, t), Catch::Contains("gate_proj is stored in floating point (.weight) but is not listed"));

  t = ref.tensors;
  t["model.norm.weight"] = make_tensor<int32_t>(DType::I32, {kHidden}, std::vector<int32_t>(kHidden, 1));
  CHECK_THAT(load_failure(o, t), Catch::Contains("model.norm.weight: dtype I32 but a floating-point tensor"));

  Options qwen = o;
  qwen.arch = "Qwen2ForCausalLM";
  CHECK_THAT(load_failure(qwen, ref.tensors), Catch::Contains("q_proj.bias is missing (the config implies attention"));

  Options dense = o;
  dense.not_convert = {"o_proj"};
  CHECK_THAT(load_failure(dense, ref.tensors),
             Catch::Contains("o_proj is quantized but modules_to_not_convert says it stays floating point"));
}

TEST_CASE("describe_checkpoint summarizes dims, quantization and memory", "[weights]") {
  Options o;
  const Reference ref = build(o);
  TempDir dir;
  write_checkpoint(dir, o, ref.tensors);
  const std::string text = describe_checkpoint(dir.path());
  CHECK_THAT(text, Catch::Contains("LlamaForCausalLM"));
  CHECK_THAT(text, Catch::Contains("hidden 64, intermediate 128, layers 2, vocab 96"));
  CHECK_THAT(text, Catch::Contains("4 heads, 2 kv heads, head_dim 16"));
  CHECK_THAT(text, Catch::Contains("AWQ 4-bit, GEMM, group_size 32"));
  CHECK_THAT(text, Catch::Contains("14 quantized, 0 floating point"));
  CHECK_THAT(text, Catch::Contains("in 1 file,"));
  // KV cache: 2 (k, v) x 2 layers x 2 kv heads x 16 dims x 2 bytes x 1024 = 256 KiB.
  CHECK_THAT(text, Catch::Contains("256.0 KiB KV cache per 1k tokens"));
}
