// The bytes-per-decode-step accounting and the linear shapes of `awqrun bench`,
// checked against figures worked out independently from the checkpoint
// files' own tensors (byte sizes and shapes), on every tiny test model.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "src/bench/decode_traffic.h"
#include "src/bench/linear_shapes.h"
#include "src/model/safetensors.h"
#include "src/model/weights.h"

namespace fs = std::filesystem;
using namespace awq;

namespace {

const fs::path kModels = fs::path(AWQRUN_SOURCE_DIR) / "tests/data/engine";
const char* const kAllModels[] = {"llama_gqa2",    "llama_gqa4",        "llama_g128", "llama3_rope_tied",
                                  "llama_not_convert", "llama_mha_linear_rope", "mistral_swa", "qwen2_bias"};

int count_layers(const Checkpoint& ck) {
  int n = 0;
  while (ck.has("model.layers." + std::to_string(n) + ".input_layernorm.weight")) ++n;
  return n;
}

// Every fp16/int tensor of the checkpoint is read once per step, except the
// embedding, of which one row is; a tied lm_head is the embedding read whole.
size_t checkpoint_step_bytes(const Checkpoint& ck) {
  const TensorView& embed = ck.get("model.embed_tokens.weight");
  const size_t row = size_t(embed.shape[1]) * embed.nbytes / size_t(embed.numel());
  const size_t tied_head = ck.has("lm_head.weight") ? 0 : embed.nbytes;
  return ck.total_bytes() - embed.nbytes + row + tied_head;
}

}  // namespace

TEST_CASE("decode weight bytes equal the checkpoint's tensor bytes read per step", "[bench]") {
  for (const char* name : kAllModels) {
    INFO(name);
    const ModelWeights w = load_model(kModels / name);
    const Checkpoint ck = Checkpoint::open(kModels / name);
    // The fixtures keep every floating tensor in fp16, the dtype the accounting assumes.
    for (const auto& [tensor, view] : ck.tensors()) {
      INFO(tensor);
      CHECK((view.dtype == DType::F16 || view.dtype == DType::I32));
    }
    CHECK(decode_weight_bytes(w) == checkpoint_step_bytes(ck));
  }
}

TEST_CASE("KV bytes per position follow the k_proj shapes", "[bench]") {
  for (const char* name : kAllModels) {
    INFO(name);
    const ModelWeights w = load_model(kModels / name);
    const Checkpoint ck = Checkpoint::open(kModels / name);
    // k_proj.scales is [groups, out]: out = KV heads x head_dim (v_proj has the same width).
    const int64_t kv_width = ck.get("model.layers.0.self_attn.k_proj.scales").shape[1];
    const size_t per_layer = size_t(kv_width) * 2;  // K and V
    CHECK(kv_bytes_per_position(w.config, 2) == per_layer * 2 * count_layers(ck));
    CHECK(kv_bytes_per_position(w.config, 4) == per_layer * 4 * count_layers(ck));
  }
}

TEST_CASE("mean attended positions over the decode steps", "[bench]") {
  // Without a window step i attends to L + i + 1 positions: the mean is L + (steps + 1) / 2.
  for (int L : {1, 7, 32, 2048})
    for (int steps : {1, 5, 64}) CHECK(mean_attended_positions(L, steps, std::nullopt) == Approx(L + (steps + 1) / 2.0));
  // Window 10 after a prefill of 6: steps attend to 7, 8, 9, 10, 10, 10.
  CHECK(mean_attended_positions(6, 6, 10) == Approx((7 + 8 + 9 + 10 + 10 + 10) / 6.0));
  CHECK(mean_attended_positions(6, 0, std::nullopt) == 0);
}

TEST_CASE("decode step bytes add the KV cache at the mean context", "[bench]") {
  const ModelWeights w = load_model(kModels / "mistral_swa");
  REQUIRE(w.config.sliding_window);
  const int L = *w.config.sliding_window;  // half the steps run past the window
  const double expected = double(decode_weight_bytes(w)) +
                          double(kv_bytes_per_position(w.config, 2)) * mean_attended_positions(L, L, w.config.sliding_window);
  CHECK(decode_step_bytes(w, L, L, 2) == Approx(expected));
  CHECK(decode_step_bytes(w, L, L, 2) < double(decode_weight_bytes(w)) + double(kv_bytes_per_position(w.config, 2)) * (L + (L + 1) / 2.0));
}

TEST_CASE("linear shapes match the loaded layers", "[bench]") {
  for (const char* name : kAllModels) {
    INFO(name);
    const ModelWeights w = load_model(kModels / name);
    const std::vector<LinearShape> shapes = layer_linear_shapes(w.config);
    for (const LayerWeights& layer : w.layers) {
      const Linear* loaded[] = {&layer.q, &layer.k, &layer.v, &layer.o, &layer.gate, &layer.up, &layer.down};
      REQUIRE(shapes.size() == 7);
      for (size_t i = 0; i < shapes.size(); ++i) {
        INFO(shapes[i].name);
        CHECK(loaded[i]->name.find(shapes[i].name) != std::string::npos);
        CHECK(shapes[i].out_features == loaded[i]->out_features);
        CHECK(shapes[i].in_features == loaded[i]->in_features);
      }
    }
    const LinearShape head = lm_head_shape(w.config);
    CHECK(head.out_features == w.lm_head.rows);
    CHECK(head.in_features == w.lm_head.cols);
  }
}
