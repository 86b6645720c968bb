// The synthetic checkpoint generator (tools/synth_checkpoint) writes what
// load_model accepts, with the intended value distributions, reproducibly.
#include <catch2/catch.hpp>

#include <cmath>

#include "src/model/weights.h"
#include "tests/model/model_test_util.h"
#include "tools/synth_checkpoint/synth_checkpoint.h"

using namespace awq;
using namespace awq::test;

namespace {

std::string file_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

TEST_CASE("tiny synthetic checkpoints load and have realistic statistics", "[synth]") {
  for (AwqLayout layout : {AwqLayout::Gemm, AwqLayout::Gemv}) {
    INFO("layout " << int(layout));
    TempDir dir;
    SynthOptions o;
    o.preset = "tiny";
    o.out_dir = dir.path();
    o.layers = 2;
    o.group_size = 64;
    o.layout = layout;
    o.seed = 7;
    write_synthetic_checkpoint(o);
    const ModelWeights w = load_model(dir.path());
    REQUIRE(w.layers.size() == 2);
    CHECK(w.config.hidden_size == 256);
    CHECK(w.config.num_kv_heads == 2);
    CHECK(w.quant.layout == layout);
    CHECK(w.quant.group_size == 64);

    // int4 values bell-shaped around 8; zero points mostly 4..11 with some 0 and 15.
    const QuantLinear& gate = *w.layers[1].gate.quant;
    std::vector<int> q_hist(16), z_hist(16);
    for (int o2 = 0; o2 < gate.out_features; ++o2) {
      for (int i = 0; i < gate.in_features; ++i) ++q_hist[gate.q(o2, i)];
      for (int g = 0; g < gate.groups(); ++g) ++z_hist[gate.zero(o2, g)];
    }
    const double n = double(gate.in_features) * gate.out_features;
    double q_mean = 0;
    for (int v = 0; v < 16; ++v) q_mean += v * q_hist[v] / n;
    CHECK(q_mean == Approx(8.0).margin(0.2));
    CHECK(q_hist[8] > q_hist[2] * 5);
    CHECK(z_hist[0] > 0);
    CHECK(z_hist[15] > 0);
    int z_mid = 0;
    for (int v = 4; v <= 11; ++v) z_mid += z_hist[v];
    CHECK(z_mid > 0.9 * gate.out_features * gate.groups());

    // Weights of std about 1/sqrt(in), so activations keep their scale.
    double sum_sq = 0;
    for (int o2 = 0; o2 < gate.out_features; ++o2)
      for (int i = 0; i < gate.in_features; ++i) sum_sq += double(gate.weight(o2, i)) * gate.weight(o2, i);
    CHECK(std::sqrt(sum_sq / n) == Approx(1.0 / std::sqrt(256.0)).epsilon(0.25));

    double e_sum = 0, e_sq = 0;
    std::vector<float> row(256);
    for (int r = 0; r < w.embed.rows; ++r) {
      w.embed.row_to_float(r, row.data());
      for (float x : row) { e_sum += x; e_sq += double(x) * x; }
    }
    const double count = double(w.embed.rows) * w.embed.cols;
    CHECK(std::abs(e_sum / count) < 0.002);
    CHECK(std::sqrt(e_sq / count) == Approx(0.02).epsilon(0.1));
    CHECK(w.final_norm[3] == Approx(1.0).margin(0.3));
  }
}

TEST_CASE("synthetic output depends on the seed only, and shards with an index", "[synth]") {
  TempDir a, b;
  SynthOptions o;
  o.preset = "tiny";
  o.out_dir = a.path();
  o.threads = 1;
  write_synthetic_checkpoint(o);
  o.out_dir = b.path();
  o.threads = 5;
  o.max_shard_bytes = 400'000;
  o.tokenizer_dir = std::filesystem::path(AWQRUN_SHARED_DIR) / "testdata/tokenizers/llama2";
  write_synthetic_checkpoint(o);
  CHECK(std::filesystem::exists(b / "model.safetensors.index.json"));
  CHECK(std::filesystem::exists(b / "tokenizer.json"));
  CHECK(std::filesystem::exists(b / "model-00001-of-00005.safetensors"));
  const ModelWeights wa = load_model(a.path()), wb = load_model(b.path());
  for (size_t l = 0; l < wa.layers.size(); ++l) {
    CHECK(wa.layers[l].down.quant->qweight == wb.layers[l].down.quant->qweight);
    CHECK(wa.layers[l].k.quant->scales == wb.layers[l].k.quant->scales);
    CHECK(wa.layers[l].input_norm == wb.layers[l].input_norm);
  }
  CHECK(file_bytes(a / "config.json") == file_bytes(b / "config.json"));

  o.out_dir = a.path();
  o.seed = 2;
  o.threads = 3;
  write_synthetic_checkpoint(o);
  CHECK(load_model(a.path()).layers[0].q.quant->qweight != wb.layers[0].q.quant->qweight);
  const Failure f = failure_of([&] { o.preset = "gpt2"; write_synthetic_checkpoint(o); });
  CHECK(f.kind == ErrorKind::Usage);
  CHECK_THAT(f.message, Catch::Contains("unknown preset gpt2 (choose one of: llama2-7b, mistral-7b"));
}
