#include "src/model/weights.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <thread>

#include "src/common/error.h"
#include "src/common/half.h"
#include "src/common/log.h"

namespace awq {
namespace {

std::string shape_str(const std::vector<int64_t>& shape) {
  TensorView v;
  v.shape = shape;
  return v.shape_str();
}

bool is_float(DType t) { return t == DType::F16 || t == DType::BF16 || t == DType::F32; }

const TensorView& float_tensor(const Checkpoint& ck, const std::string& name, std::vector<int64_t> shape) {
  const TensorView& t = ck.get(name);
  if (!is_float(t.dtype))
    input_error("{}: dtype {} but a floating-point tensor (F16, BF16, F32) is needed", name, dtype_name(t.dtype));
  if (t.shape != shape)
    input_error("{}: shape {} but the config implies {}", name, t.shape_str(), shape_str(shape));
  return t;
}

float element(const uint8_t* data, DType dtype, size_t index) {
  switch (dtype) {
    case DType::F16: { uint16_t h; std::memcpy(&h, data + index * 2, 2); return fp16_to_float(h); }
    case DType::BF16: { uint16_t h; std::memcpy(&h, data + index * 2, 2); return bf16_to_float(h); }
    case DType::F32: { float f; std::memcpy(&f, data + index * 4, 4); return f; }
    default: return 0.f;  // load_model admits only the three float types
  }
}

std::vector<float> to_floats(const TensorView& t) {
  std::vector<float> out(size_t(t.numel()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = element(t.data, t.dtype, i);
  return out;
}

DenseMatrix dense_of(const TensorView& t) {
  return DenseMatrix{int(t.shape[0]), int(t.shape[1]), t.dtype, t.data};
}

struct LinearSpec {
  const char* name;  // inside a block, as modules_to_not_convert sees it
  int in, out;
  bool bias;
};

Linear load_linear(const Checkpoint& ck, const QuantConfig& qc, const std::string& block, const LinearSpec& s) {
  Linear l;
  l.name = block + "." + s.name;
  l.in_features = s.in;
  l.out_features = s.out;
  const TensorView* bias = ck.find(l.name + ".bias");
  if (s.bias && !bias) input_error("{}.bias is missing (the config implies attention biases)", l.name);
  if (!s.bias && bias) input_error("{}.bias is present but the config implies no bias here", l.name);

  if (qc.keeps_float(s.name)) {
    if (!ck.has(l.name + ".weight") && ck.has(l.name + ".qweight"))
      input_error("{} is quantized but modules_to_not_convert says it stays floating point", l.name);
    l.dense = dense_of(float_tensor(ck, l.name + ".weight", {s.out, s.in}));
    if (bias) l.bias = to_floats(float_tensor(ck, l.name + ".bias", {s.out}));
    return l;
  }
  const TensorView* qweight = ck.find(l.name + ".qweight");
  if (!qweight && ck.has(l.name + ".weight"))
    input_error("{} is stored in floating point (.weight) but is not listed in modules_to_not_convert", l.name);
  for (const char* part : {"qweight", "qzeros", "scales"})
    if (!ck.has(l.name + "." + part))
      input_error("{}.{} is missing: the quantized linear {} is incomplete", l.name, part, l.name);
  l.quant = unpack_linear(qc.layout, l.name, *qweight, ck.get(l.name + ".qzeros"), ck.get(l.name + ".scales"), bias,
                          s.in, s.out, qc.resolved_group_size(s.in));
  return l;
}

LayerWeights load_layer(const Checkpoint& ck, const ModelConfig& c, const QuantConfig& qc, int index) {
  const std::string block = fmt::format("model.layers.{}", index);
  const int h = c.hidden_size, q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
  const bool qkv_bias = c.attention_bias;
  const bool o_bias = c.attention_bias && c.arch == Arch::Llama;  // Qwen2's o_proj never has one
  LayerWeights w;
  w.input_norm = to_floats(float_tensor(ck, block + ".input_layernorm.weight", {h}));
  w.post_attention_norm = to_floats(float_tensor(ck, block + ".post_attention_layernorm.weight", {h}));
  w.q = load_linear(ck, qc, block, {"self_attn.q_proj", h, q_out, qkv_bias});
  w.k = load_linear(ck, qc, block, {"self_attn.k_proj", h, kv_out, qkv_bias});
  w.v = load_linear(ck, qc, block, {"self_attn.v_proj", h, kv_out, qkv_bias});
  w.o = load_linear(ck, qc, block, {"self_attn.o_proj", q_out, h, o_bias});
  w.gate = load_linear(ck, qc, block, {"mlp.gate_proj", h, c.intermediate_size, false});
  w.up = load_linear(ck, qc, block, {"mlp.up_proj", h, c.intermediate_size, false});
  w.down = load_linear(ck, qc, block, {"mlp.down_proj", c.intermediate_size, h, false});
  return w;
}

// Layers unpack independently; the first error in layer order is the one reported.
std::vector<LayerWeights> load_layers(const Checkpoint& ck, const ModelConfig& c, const QuantConfig& qc) {
  std::vector<LayerWeights> layers(c.num_layers);
  std::vector<std::exception_ptr> errors(c.num_layers);
  std::atomic<int> next{0};
  auto worker = [&] {
    for (int i = next++; i < c.num_layers; i = next++) {
      try {
        layers[i] = load_layer(ck, c, qc, i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  const int threads = std::clamp(int(std::thread::hardware_concurrency()), 1, c.num_layers);
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (auto& e : errors) if (e) std::rethrow_exception(e);
  return layers;
}

}  // namespace

float DenseMatrix::at(int r, int c) const { return element(data, dtype, size_t(r) * cols + c); }

void DenseMatrix::row_to_float(int r, float* out) const {
  const size_t base = size_t(r) * cols;
  for (int c = 0; c < cols; ++c) out[c] = element(data, dtype, base + c);
}

ModelWeights load_model(const std::filesystem::path& model_dir) {
  ModelWeights w;
  w.config = load_model_config(model_dir);
  w.quant = load_quant_config(model_dir);
  auto ck = std::make_shared<const Checkpoint>(Checkpoint::open(model_dir));
  const ModelConfig& c = w.config;

  w.embed = dense_of(float_tensor(*ck, "model.embed_tokens.weight", {c.vocab_size, c.hidden_size}));
  w.final_norm = to_floats(float_tensor(*ck, "model.norm.weight", {c.hidden_size}));
  if (c.tie_word_embeddings) {
    w.lm_head = w.embed;
  } else if (ck->has("lm_head.weight")) {
    w.lm_head = dense_of(float_tensor(*ck, "lm_head.weight", {c.vocab_size, c.hidden_size}));
  } else {
    input_error("{}: lm_head.weight is missing and config.json does not set tie_word_embeddings",
                model_dir.string());
  }
  w.layers = load_layers(*ck, c, w.quant);
  w.checkpoint = std::move(ck);
  log_debug("loaded {} layers from {}", c.num_layers, model_dir.string());
  return w;
}

}  // namespace awq
