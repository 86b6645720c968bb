// The converter end to end on a tiny synthetic Llama GGUF: tensor names and
// shapes, the Q/K un-permutation (checked with the index formula of
// tokenizer.md §5.4), AWQ packing, config/tokenizer JSON, and the errors for
// what it does not support.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "src/common/error.h"
#include "src/common/half.h"
#include "src/model/awq_format.h"
#include "src/model/awq_quantize.h"
#include "src/model/model_config.h"
#include "src/model/quant_config.h"
#include "src/model/safetensors.h"
#include "tests/model/test_gguf_writer.h"
#include "tools/gguf_convert/converter.h"
#include "tools/gguf_convert/ggml_types.h"
#include "tools/gguf_convert/gguf_dequant.h"
#include "tools/gguf_convert/tensor_map.h"

using namespace awq;
using awq::test::GgufBuilder;
using awq::test::TempDir;

namespace {

constexpr int kHidden = 64, kHeads = 2, kKvHeads = 1, kHeadDim = 32, kFfn = 128;

// Random blocks whose fp16 fields (d, m) hold small finite values.
std::vector<uint8_t> random_blocks(GgmlType type, int64_t n_values, std::mt19937& rng) {
  const auto info = *ggml_type_info(uint32_t(type));
  std::vector<uint8_t> b(size_t(n_values / info.block_elems * info.block_bytes));
  for (auto& x : b) x = uint8_t(rng());
  std::uniform_real_distribution<float> u(0.001f, 0.05f);
  const int halves = (type == GgmlType::Q4_1 || type == GgmlType::Q5_1) ? 2 : 1;
  for (size_t at = 0; at < b.size(); at += size_t(info.block_bytes))
    for (int h = 0; h < halves; ++h) {
      const uint16_t v = float_to_fp16(h == 1 ? -u(rng) : u(rng));
      std::memcpy(&b[at + 2 * size_t(h)], &v, 2);
    }
  if (type == GgmlType::F16 || type == GgmlType::F32) {
    std::normal_distribution<float> n(0.f, 0.1f);
    std::vector<float> f(static_cast<size_t>(n_values));
    for (float& v : f) v = n(rng);
    if (type == GgmlType::F32) return test::f32_bytes(f);
    for (size_t i = 0; i < f.size(); ++i) {
      const uint16_t h = float_to_fp16(f[i]);
      std::memcpy(&b[2 * i], &h, 2);
    }
  }
  return b;
}

GgufBuilder tiny_llama(const std::string& tokenizer_model = "gpt2") {
  GgufBuilder b;
  b.kv_str("general.architecture", "llama");
  b.kv_u32("llama.block_count", 1);
  b.kv_u32("llama.context_length", 256);
  b.kv_u32("llama.embedding_length", kHidden);
  b.kv_u32("llama.feed_forward_length", kFfn);
  b.kv_u32("llama.attention.head_count", kHeads);
  b.kv_u32("llama.attention.head_count_kv", kKvHeads);
  b.kv_f32("llama.rope.freq_base", 100000.f);
  b.kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  b.kv_u32("llama.rope.dimension_count", kHeadDim);
  b.kv_str("tokenizer.ggml.model", tokenizer_model);
  b.kv_str("tokenizer.ggml.pre", "smollm");
  b.kv_strs("tokenizer.ggml.tokens",
            {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "a", "b", "ab", "\xC4\xA0", "\xC4\xA0" "ab", "1",
             "hello world"});
  b.kv_i32s("tokenizer.ggml.token_type", {3, 3, 3, 1, 1, 1, 1, 1, 1, 4});
  b.kv_strs("tokenizer.ggml.merges", {"a b", "\xC4\xA0 ab"});
  b.kv_u32("tokenizer.ggml.bos_token_id", 1);
  b.kv_u32("tokenizer.ggml.eos_token_id", 2);
  b.kv_u32("tokenizer.ggml.padding_token_id", 2);
  b.kv_bool("tokenizer.ggml.add_bos_token", false);
  b.kv_str("tokenizer.chat_template", "{% for m in messages %}{{ m['content'] }}{% endfor %}");
  std::mt19937 rng(5);
  auto add = [&](const std::string& name, std::vector<uint64_t> ne, GgmlType type) {
    int64_t n = 1;
    for (auto d : ne) n *= int64_t(d);
    b.tensor({name, ne, uint32_t(type), random_blocks(type, n, rng)});
  };
  add("token_embd.weight", {kHidden, 10}, GgmlType::Q8_0);
  add("output_norm.weight", {kHidden}, GgmlType::F32);
  add("blk.0.attn_norm.weight", {kHidden}, GgmlType::F32);
  add("blk.0.ffn_norm.weight", {kHidden}, GgmlType::F32);
  add("blk.0.attn_q.weight", {kHidden, kHeads * kHeadDim}, GgmlType::Q4_1);
  add("blk.0.attn_k.weight", {kHidden, kKvHeads * kHeadDim}, GgmlType::Q4_0);
  add("blk.0.attn_v.weight", {kHidden, kKvHeads * kHeadDim}, GgmlType::F16);
  add("blk.0.attn_output.weight", {kHeads * kHeadDim, kHidden}, GgmlType::Q5_0);
  add("blk.0.ffn_gate.weight", {kHidden, kFfn}, GgmlType::Q5_1);
  add("blk.0.ffn_up.weight", {kHidden, kFfn}, GgmlType::F32);
  add("blk.0.ffn_down.weight", {kFfn, kHidden}, GgmlType::Q8_0);
  return b;
}

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

float f16_at(const TensorView& t, size_t i) {
  uint16_t h;
  std::memcpy(&h, t.data + 2 * i, 2);
  return fp16_to_float(h);
}

// GGUF tensor as float [rows][cols], via the (separately tested) dequantizer.
std::vector<float> gguf_values(const GgufFile& f, const std::string& name) {
  return dequantize_tensor(f, *f.find_tensor(name));
}

}  // namespace

TEST_CASE("converter writes fp16 weights in HF order and un-permutes Q/K", "[gguf]") {
  TempDir dir;
  const auto gguf_path = dir.write("tiny.gguf", tiny_llama().build());
  convert_gguf(gguf_path, dir.path() / "out", {.group_size = 32, .quantize = false});
  const GgufFile f(gguf_path);
  const SafetensorsFile st = SafetensorsFile::open(dir.path() / "out" / "model.safetensors");
  CHECK(st.tensors().size() == 11);
  CHECK(st.tensors().count("lm_head.weight") == 0);

  const TensorView& embed = st.tensors().at("model.embed_tokens.weight");
  CHECK(embed.shape == std::vector<int64_t>{10, kHidden});
  const std::vector<float> embed_ref = gguf_values(f, "token_embd.weight");
  for (size_t i = 0; i < embed_ref.size(); ++i) REQUIRE(f16_at(embed, i) == fp16_to_float(float_to_fp16(embed_ref[i])));

  for (const char* leaf : {"q", "k"}) {
    const int heads = leaf[0] == 'q' ? kHeads : kKvHeads;
    const TensorView& w = st.tensors().at(std::string("model.layers.0.self_attn.") + leaf + "_proj.weight");
    CHECK(w.shape == std::vector<int64_t>{heads * kHeadDim, kHidden});
    const std::vector<float> ref = gguf_values(f, std::string("blk.0.attn_") + leaf + ".weight");
    for (int h = 0; h < heads; ++h)
      for (int s = 0; s < 2; ++s)
        for (int i = 0; i < kHeadDim / 2; ++i)
          for (int c = 0; c < kHidden; ++c) {
            const size_t hf_row = size_t(h * kHeadDim + s * kHeadDim / 2 + i);
            const size_t gguf_row = size_t(h * kHeadDim + 2 * i + s);
            REQUIRE(f16_at(w, hf_row * kHidden + c) == fp16_to_float(float_to_fp16(ref[gguf_row * kHidden + c])));
          }
  }
  const TensorView& down = st.tensors().at("model.layers.0.mlp.down_proj.weight");
  CHECK(down.shape == std::vector<int64_t>{kHidden, kFfn});
  const std::vector<float> down_ref = gguf_values(f, "blk.0.ffn_down.weight");
  for (size_t i = 0; i < down_ref.size(); ++i) REQUIRE(f16_at(down, i) == fp16_to_float(float_to_fp16(down_ref[i])));

  const nlohmann::json cfg = read_json(dir.path() / "out" / "config.json");
  CHECK(cfg.count("quantization_config") == 0);
}

TEST_CASE("converter writes AWQ GEMM tensors and a config awqrun accepts", "[gguf]") {
  TempDir dir;
  const auto gguf_path = dir.write("tiny.gguf", tiny_llama().build());
  const auto out = dir.path() / "awq";
  convert_gguf(gguf_path, out, {.group_size = 32, .quantize = true});
  const GgufFile f(gguf_path);
  const SafetensorsFile st = SafetensorsFile::open(out / "model.safetensors");
  const auto& t = st.tensors();
  const std::string p = "model.layers.0.mlp.gate_proj";
  CHECK(t.at(p + ".qweight").shape == std::vector<int64_t>{kHidden, kFfn / 8});
  CHECK(t.at(p + ".qzeros").shape == std::vector<int64_t>{kHidden / 32, kFfn / 8});
  CHECK(t.at(p + ".scales").shape == std::vector<int64_t>{kHidden / 32, kFfn});
  CHECK(t.count(p + ".weight") == 0);
  const QuantLinear got = unpack_linear(AwqLayout::Gemm, p, t.at(p + ".qweight"), t.at(p + ".qzeros"),
                                        t.at(p + ".scales"), nullptr, kHidden, kFfn, 32);
  const std::vector<float> w = gguf_values(f, "blk.0.ffn_gate.weight");
  const QuantLinear want = quantize_rtn(w.data(), kFfn, kHidden, 32);
  CHECK(got.qweight == want.qweight);
  CHECK(got.zeros == want.zeros);
  CHECK(got.scales == want.scales);

  const ModelConfig mc = load_model_config(out);
  CHECK(mc.hidden_size == kHidden);
  CHECK(mc.num_heads == kHeads);
  CHECK(mc.num_kv_heads == kKvHeads);
  CHECK(mc.head_dim == kHeadDim);
  CHECK(mc.intermediate_size == kFfn);
  CHECK(mc.vocab_size == 10);
  CHECK(mc.max_position_embeddings == 256);
  CHECK(mc.rope_theta == 100000.f);
  CHECK(mc.rms_norm_eps == 1e-5f);
  CHECK(mc.tie_word_embeddings);
  const QuantConfig qc = load_quant_config(out);
  CHECK(qc.group_size == 32);
  CHECK(qc.layout == AwqLayout::Gemm);
  const nlohmann::json gen = read_json(out / "generation_config.json");
  CHECK(gen["bos_token_id"] == 1);
  CHECK(gen["eos_token_id"] == 2);
}

TEST_CASE("converter builds SmolLM2's tokenizer files from the GGUF metadata", "[gguf]") {
  TempDir dir;
  const auto gguf_path = dir.write("tiny.gguf", tiny_llama().build());
  convert_gguf(gguf_path, dir.path() / "out", {.group_size = 32, .quantize = false});
  const nlohmann::json tok = read_json(dir.path() / "out" / "tokenizer.json");
  CHECK(tok["normalizer"].is_null());
  CHECK(tok["pre_tokenizer"]["type"] == "Sequence");
  CHECK(tok["pre_tokenizer"]["pretokenizers"][0]["type"] == "Digits");
  CHECK(tok["pre_tokenizer"]["pretokenizers"][0]["individual_digits"] == true);
  CHECK(tok["pre_tokenizer"]["pretokenizers"][1]["type"] == "ByteLevel");
  CHECK(tok["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] == false);
  CHECK(tok["decoder"]["type"] == "ByteLevel");
  CHECK(tok["post_processor"]["type"] == "ByteLevel");
  const auto& added = tok["added_tokens"];
  REQUIRE(added.size() == 4);
  CHECK(added[1]["content"] == "<|im_start|>");
  CHECK(added[1]["special"] == true);
  CHECK(added[3]["content"] == "hello world");
  CHECK(added[3]["special"] == false);
  const auto& vocab = tok["model"]["vocab"];
  CHECK(vocab.size() == 10);
  CHECK(vocab["\xC4\xA0" "ab"] == 7);
  CHECK(vocab["hello\xC4\xA0world"] == 9);  // raw text re-spelled in the byte alphabet
  CHECK(tok["model"]["merges"] == nlohmann::json::array({{"a", "b"}, {"\xC4\xA0", "ab"}}));

  const nlohmann::json tc = read_json(dir.path() / "out" / "tokenizer_config.json");
  CHECK(tc["bos_token"] == "<|im_start|>");
  CHECK(tc["eos_token"] == "<|im_end|>");
  CHECK(tc["pad_token"] == "<|im_end|>");
  CHECK(tc["add_bos_token"] == false);
  CHECK(tc["chat_template"] == "{% for m in messages %}{{ m['content'] }}{% endfor %}");
  CHECK(tc["model_max_length"] == 256);
  CHECK(tc["tokenizer_class"] == "GPT2Tokenizer");
  CHECK(tc["added_tokens_decoder"]["2"]["content"] == "<|im_end|>");
}

TEST_CASE("converter refuses what it does not support, naming it", "[gguf]") {
  TempDir dir;
  SECTION("SentencePiece tokenizer") {
    const auto p = dir.write("spm.gguf", tiny_llama("llama").build());
    CHECK_THROWS_WITH(convert_gguf(p, dir.path() / "o", {}), Catch::Contains("not supported yet"));
  }
  SECTION("group size that does not divide the rows") {
    const auto p = dir.write("g.gguf", tiny_llama().build());
    CHECK_THROWS_WITH(convert_gguf(p, dir.path() / "o", {.group_size = 48, .quantize = true}),
                      Catch::Contains("--group-size 48"));
  }
  SECTION("block type without a dequantizer") {
    GgufBuilder b = tiny_llama();
    b.tensor({"blk.0.attn_norm.bias", {256}, uint32_t(GgmlType::Q2_K), std::vector<uint8_t>(84)});
    const auto p = dir.write("q2.gguf", b.build());
    CHECK_THROWS_WITH(convert_gguf(p, dir.path() / "o", {}),
                      Catch::Contains("'blk.0.attn_norm.bias'") && Catch::Contains("Q2_K"));
  }
  SECTION("other architectures") {
    GgufBuilder b;
    b.kv_str("general.architecture", "qwen2");
    const auto p = dir.write("qwen.gguf", b.build());
    CHECK_THROWS_WITH(convert_gguf(p, dir.path() / "o", {}), Catch::Contains("'qwen2' is not supported yet"));
  }
}

TEST_CASE("GGUF tensor names map to HF Llama names", "[gguf]") {
  CHECK(hf_tensor_name("token_embd.weight")->name == "model.embed_tokens.weight");
  CHECK(hf_tensor_name("output_norm.weight")->name == "model.norm.weight");
  CHECK(hf_tensor_name("output.weight")->name == "lm_head.weight");
  const auto q = hf_tensor_name("blk.12.attn_q.weight");
  CHECK(q->name == "model.layers.12.self_attn.q_proj.weight");
  CHECK(q->is_linear);
  CHECK(q->is_query);
  CHECK(hf_tensor_name("blk.3.ffn_down.weight")->name == "model.layers.3.mlp.down_proj.weight");
  CHECK_FALSE(hf_tensor_name("blk.3.attn_norm.weight")->is_linear);
  CHECK_FALSE(hf_tensor_name("rope_freqs.weight").has_value());
}
