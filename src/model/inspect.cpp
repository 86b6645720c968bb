#include "src/model/inspect.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "src/model/model_config.h"
#include "src/model/quant_config.h"
#include "src/model/safetensors.h"

namespace awq {
namespace {

std::string bytes_str(double b) {
  if (b >= 1 << 30) return fmt::format("{:.2f} GiB", b / (1 << 30));
  if (b >= 1 << 20) return fmt::format("{:.1f} MiB", b / (1 << 20));
  return fmt::format("{:.1f} KiB", b / 1024);
}

std::string rope_str(const ModelConfig& c) {
  const RopeScaling& r = c.rope_scaling;
  switch (r.type) {
    case RopeScaling::Type::None: return "none";
    case RopeScaling::Type::Linear: return fmt::format("linear x{}", r.factor);
    case RopeScaling::Type::Dynamic: return fmt::format("dynamic x{}", r.factor);
    case RopeScaling::Type::Llama3:
      return fmt::format("llama3 x{} (low {}, high {}, original {})", r.factor, r.low_freq_factor,
                         r.high_freq_factor, r.original_max_position_embeddings);
    case RopeScaling::Type::Yarn:
      return fmt::format("yarn x{} (original {})", r.factor, r.original_max_position_embeddings);
  }
  return "?";
}

// Bytes of the weights as the engines hold them, from the tensors present.
struct Footprint {
  int quantized = 0, dense_linears = 0;
  double int4 = 0;         // packed 4-bit values
  double zeros_cpu = 0;    // one byte per zero (CPU form)
  double scales = 0;       // fp16 scales (both devices)
  double float_disk = 0;   // floating-point tensors as stored
  double float_fp16 = 0;   // the same converted to fp16
};

Footprint footprint(const Checkpoint& ck, const QuantConfig& q) {
  Footprint f;
  for (const auto& [name, t] : ck.tensors()) {
    const bool is_qweight = name.ends_with(".qweight");
    if (is_qweight) {
      ++f.quantized;
      f.int4 += double(t.nbytes);  // 8 nibbles per int32 in either layout
    } else if (name.ends_with(".qzeros") || name.ends_with(".scales")) {
      continue;  // counted from qweight below, without GEMV padding
    } else if (t.dtype == DType::F16 || t.dtype == DType::BF16 || t.dtype == DType::F32) {
      f.float_disk += double(t.nbytes);
      f.float_fp16 += double(t.numel()) * 2;
      if (name.ends_with("_proj.weight")) ++f.dense_linears;
    }
    if (is_qweight) {
      const int64_t values = t.numel() * 8;
      const int64_t in = q.layout == AwqLayout::Gemm ? t.shape[0] : t.shape[1] * 8;
      const int64_t group = q.resolved_group_size(int(in));
      const double entries = group > 0 ? double(values) / double(group) : 0;
      f.zeros_cpu += entries;
      f.scales += entries * 2;
    }
  }
  return f;
}

}  // namespace

std::string describe_checkpoint(const std::filesystem::path& dir) {
  const ModelConfig c = load_model_config(dir);
  const QuantConfig q = load_quant_config(dir);
  const Checkpoint ck = Checkpoint::open(dir);

  std::string out;
  auto line = [&](const char* key, const std::string& value) { out += fmt::format("{:<13}{}\n", key, value); };
  line("model", dir.string());
  line("architecture", fmt::format("{}{}", c.architecture, c.torch_dtype.empty() ? "" : " (" + c.torch_dtype + ")"));
  line("dimensions", fmt::format("hidden {}, intermediate {}, layers {}, vocab {}", c.hidden_size,
                                 c.intermediate_size, c.num_layers, c.vocab_size));
  line("attention", fmt::format("{} heads, {} kv heads, head_dim {}{}", c.num_heads, c.num_kv_heads, c.head_dim,
                                c.attention_bias ? ", qkv bias" : ""));
  line("positions", fmt::format("max {}, rope_theta {}, rope_scaling {}, sliding_window {}",
                                c.max_position_embeddings, c.rope_theta, rope_str(c),
                                c.sliding_window ? std::to_string(*c.sliding_window) : "none"));
  line("embeddings", c.tie_word_embeddings ? "lm_head tied to embed_tokens" : "separate lm_head");
  line("quantization", fmt::format("AWQ {}-bit, {}, group_size {}, zero_point, not converted: {}", q.bits,
                                   q.layout == AwqLayout::Gemm ? "GEMM" : "GEMV", q.group_size,
                                   q.modules_to_not_convert.empty() ? "none"
                                                                    : fmt::format("{}", fmt::join(q.modules_to_not_convert, ", "))));

  std::map<std::string, std::pair<int, size_t>> by_dtype;
  std::map<std::string, int> files;
  for (const auto& [name, t] : ck.tensors()) {
    auto& [count, bytes] = by_dtype[std::string(dtype_name(t.dtype))];
    ++count;
    bytes += t.nbytes;
    ++files[t.file];
  }
  std::string dtypes;
  for (const auto& [d, cb] : by_dtype)
    dtypes += fmt::format("{}{} {} ({})", dtypes.empty() ? "" : ", ", d, cb.first, bytes_str(double(cb.second)));
  line("tensors", fmt::format("{} in {} file{}, {} total: {}", ck.tensors().size(), files.size(),
                              files.size() == 1 ? "" : "s", bytes_str(double(ck.total_bytes())), dtypes));

  const Footprint f = footprint(ck, q);
  line("linears", fmt::format("{} quantized, {} floating point", f.quantized, f.dense_linears));
  const double cpu = f.int4 + f.zeros_cpu + f.scales + f.float_disk;
  const double gpu = f.int4 + 2 * f.scales + f.float_fp16;  // zeros kept as fp16 beside the scales
  const double kv_per_1k = 2.0 * c.num_layers * c.num_kv_heads * c.head_dim * 2 * 1024;
  line("memory cpu", fmt::format("{} (int4 weights + float tensors as stored)", bytes_str(cpu)));
  line("memory cuda", fmt::format("{} fp16 weights + {} KV cache per 1k tokens", bytes_str(gpu), bytes_str(kv_per_1k)));
  return out;
}

}  // namespace awq
