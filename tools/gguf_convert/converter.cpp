#include "tools/gguf_convert/converter.h"

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "src/common/error.h"
#include "src/common/half.h"
#include "src/common/log.h"
#include "src/model/awq_format.h"
#include "src/model/awq_quantize.h"
#include "src/model/safetensors_writer.h"
#include "tools/gguf_convert/ggml_types.h"
#include "tools/gguf_convert/gguf_dequant.h"
#include "tools/gguf_convert/gguf_file.h"
#include "tools/gguf_convert/hf_config.h"
#include "tools/gguf_convert/hf_tokenizer.h"
#include "tools/gguf_convert/tensor_map.h"

namespace awq {
namespace {

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out.flush()) runtime_error("cannot write {}", path.string());
}

std::vector<int64_t> hf_shape(const GgufTensorInfo& t) { return {t.ne.rbegin(), t.ne.rend()}; }

TensorData to_fp16(const std::vector<float>& values, std::vector<int64_t> shape) {
  std::vector<uint16_t> h(values.size());
  for (size_t i = 0; i < values.size(); ++i) h[i] = float_to_fp16(values[i]);
  return make_tensor(DType::F16, std::move(shape), h);
}

// Checks a linear's shape and the group size before any heavy work.
void check_linear(const GgufFile& f, const GgufTensorInfo& t, int group_size) {
  if (t.ne.size() != 2) input_error("{}: tensor '{}' should be 2-D, is {}", f.path().string(), t.name, t.shape_str());
  const int64_t in = t.ne[0], out = t.ne[1];
  if (group_size > 0 && in % group_size != 0)
    usage_error("--group-size {} does not divide the input width {} of tensor '{}'", group_size, in, t.name);
  if (group_size > 0 && out % 8 != 0)
    input_error("{}: tensor '{}' has {} outputs; AWQ needs a multiple of 8", f.path().string(), t.name, out);
}

std::vector<float> load_tensor(const GgufFile& f, const GgufTensorInfo& t, const HfTensorName& hf,
                               const LlamaDims& d) {
  std::vector<float> w = dequantize_tensor(f, t);
  for (float v : w)
    if (!std::isfinite(v)) input_error("{}: tensor '{}' holds NaN or infinite values", f.path().string(), t.name);
  if (hf.is_query || hf.is_key) {
    const int heads = hf.is_query ? d.num_heads : d.num_kv_heads;
    const int64_t cols = t.ne.size() == 2 ? t.ne[0] : 1;
    if (int64_t(w.size()) != int64_t(heads) * d.head_dim * cols)
      input_error("{}: tensor '{}' {} does not match {} heads of dim {}", f.path().string(), t.name, t.shape_str(),
                  heads, d.head_dim);
    unpermute_qk_rows(w, heads, d.head_dim, int(cols));
  }
  return w;
}

}  // namespace

void convert_gguf(const std::filesystem::path& gguf_path, const std::filesystem::path& out_dir,
                  const ConvertOptions& options) {
  const GgufFile f(gguf_path);
  const LlamaDims dims = read_llama_dims(f);
  const int group = options.quantize ? options.group_size : 0;
  if (options.quantize && (group <= 0 || group % 8 != 0))
    usage_error("--group-size must be a positive multiple of 8, got {}", options.group_size);

  // Tokenizer first: an unsupported tokenizer fails before the slow part.
  const std::string tokenizer_json = make_tokenizer_json(f);
  const int max_len = int(f.get_uint("llama.context_length"));
  const nlohmann::ordered_json tokenizer_config = make_tokenizer_config_json(f, max_len);

  std::vector<std::pair<const GgufTensorInfo*, HfTensorName>> plan;
  for (const GgufTensorInfo& t : f.tensors()) {
    auto hf = hf_tensor_name(t.name);
    if (!hf) {
      log_warn("skipping GGUF tensor '{}' (no Llama counterpart)", t.name);
      continue;
    }
    if (!can_dequantize(t.type))
      input_error("{}: tensor '{}' has type {}, which the converter cannot dequantize (supported: {})",
                  f.path().string(), t.name, ggml_type_name(t.type), dequantizable_type_names());
    if (hf->is_linear) check_linear(f, t, group);
    plan.emplace_back(&t, std::move(*hf));
  }

  std::map<std::string, TensorData> tensors;
  for (const auto& [t, hf] : plan) {
    log_info("{} ({} {}) -> {}", t->name, ggml_type_name(t->type), t->shape_str(), hf.name);
    const std::vector<float> w = load_tensor(f, *t, hf, dims);
    if (hf.is_linear && options.quantize) {
      const QuantLinear q = quantize_rtn(w.data(), int(t->ne[1]), int(t->ne[0]), group);
      PackedLinear p = pack_linear(AwqLayout::Gemm, q);
      const std::string prefix = hf.name.substr(0, hf.name.size() - std::string(".weight").size());
      tensors[prefix + ".qweight"] = std::move(p.qweight);
      tensors[prefix + ".qzeros"] = std::move(p.qzeros);
      tensors[prefix + ".scales"] = std::move(p.scales);
    } else {
      tensors[hf.name] = to_fp16(w, hf_shape(*t));
    }
  }

  std::filesystem::create_directories(out_dir);
  write_safetensors(out_dir / "model.safetensors", tensors, {{"format", "pt"}});
  write_text(out_dir / "config.json", make_config_json(f, dims, group).dump(2) + "\n");
  write_text(out_dir / "generation_config.json", make_generation_config_json(f).dump(2) + "\n");
  write_text(out_dir / "tokenizer.json", tokenizer_json);
  write_text(out_dir / "tokenizer_config.json",
             tokenizer_config.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
  log_info("wrote {} tensors to {}", tensors.size(), out_dir.string());
}

}  // namespace awq
