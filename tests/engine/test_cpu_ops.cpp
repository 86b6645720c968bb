// RMSNorm, RoPE, attention (GQA, sliding window, 16-bit KV) and KV-cache
// rewinding against float64 loops written from the HF definitions.
#include <catch2/catch.hpp>

#include <cmath>

#include "src/engine/attention.h"
#include "src/engine/cpu_ops.h"
#include "src/engine/cpu_runner.h"
#include "src/engine/rope.h"
#include "tests/engine/engine_test_util.h"

using namespace awq;

TEST_CASE("rms_norm matches the HF definition", "[engine][ops]") {
  std::mt19937 rng(21);
  const int n = 200;
  const auto x = test::random_floats(rng, n, -3.f, 3.f);
  const auto w = test::random_floats(rng, n, 0.5f, 1.5f);
  std::vector<float> y(n);
  rms_norm(x.data(), w.data(), n, 1e-5f, ActivationDType::Float32, y.data());
  double ss = 0;
  for (float v : x) ss += double(v) * v;
  const double inv = 1.0 / std::sqrt(ss / n + 1e-5);
  for (int i = 0; i < n; ++i) CHECK(y[size_t(i)] == Approx(x[size_t(i)] * inv * w[size_t(i)]).epsilon(1e-5));
}

TEST_CASE("rope rotates pairs (i, i + d/2) by position * inv_freq", "[engine][ops]") {
  ModelConfig c;
  c.head_dim = 16;
  c.rope_theta = 10000.f;
  std::mt19937 rng(22);
  for (auto type : {RopeScaling::Type::None, RopeScaling::Type::Linear, RopeScaling::Type::Llama3}) {
    c.rope_scaling.type = type;
    c.rope_scaling.factor = 4.f;
    c.rope_scaling.original_max_position_embeddings = 64;
    const auto inv = rope_inv_freq(c);
    const RopeTable table(inv, 100);
    for (int p : {0, 1, 37, 99}) {
      const auto x = test::random_floats(rng, 16);
      auto y = x;
      apply_rope(table, p, y.data());
      for (int i = 0; i < 8; ++i) {
        const double a = double(p) * inv[size_t(i)];
        CHECK(y[size_t(i)] == Approx(x[size_t(i)] * std::cos(a) - x[size_t(i + 8)] * std::sin(a)).margin(1e-5));
        CHECK(y[size_t(i + 8)] == Approx(x[size_t(i + 8)] * std::cos(a) + x[size_t(i)] * std::sin(a)).margin(1e-5));
      }
    }
    // Frequencies: default is theta^(-2i/d); scaling only ever lowers them.
    for (int i = 0; i < 8; ++i) {
      const double base = std::pow(10000.0, -2.0 * i / 16);
      if (type == RopeScaling::Type::None) CHECK(inv[size_t(i)] == Approx(base).epsilon(1e-6));
      if (type == RopeScaling::Type::Linear) CHECK(inv[size_t(i)] == Approx(base / 4).epsilon(1e-6));
      CHECK(inv[size_t(i)] <= base * (1 + 1e-6));
    }
  }
  c.rope_scaling.type = RopeScaling::Type::Yarn;
  CHECK_THROWS_WITH(rope_inv_freq(c), Catch::Contains("not implemented"));
  c.rope_scaling.type = RopeScaling::Type::Dynamic;
  CHECK_THROWS_WITH(rope_inv_freq(c), Catch::Contains("not implemented"));
}

TEST_CASE("attention with GQA and a sliding window matches a float64 loop", "[engine][ops]") {
  std::mt19937 rng(23);
  const int heads = 6, kv_heads = 2, hd = 8, T = 5, n_past = 7, n = n_past + T;
  for (auto dtype : {ActivationDType::Float32, ActivationDType::Float16}) {
    for (std::optional<int> window : {std::optional<int>{}, std::optional<int>{4}}) {
      KvCache cache(1, kv_heads, hd, 16, dtype);
      std::vector<float> keys = test::random_floats(rng, size_t(n) * kv_heads * hd, -2, 2);
      std::vector<float> values = test::random_floats(rng, size_t(n) * kv_heads * hd);
      round_activations(dtype, keys.data(), keys.size());
      round_activations(dtype, values.data(), values.size());
      for (int p = 0; p < n; ++p)
        cache.store(0, p, keys.data() + size_t(p) * kv_heads * hd, values.data() + size_t(p) * kv_heads * hd);
      const auto q = test::random_floats(rng, size_t(T) * heads * hd, -2, 2);
      std::vector<float> out(q.size());
      ThreadPool pool(2);
      attention(cache, 0, {heads, kv_heads, hd, window}, q.data(), T, n_past, out.data(), pool);
      for (int t = 0; t < T; ++t)
        for (int h = 0; h < heads; ++h) {
          const int kh = h / (heads / kv_heads), p = n_past + t;
          const int lo = window ? std::max(0, p - *window + 1) : 0;
          std::vector<double> w;
          double mx = -1e300, total = 0;
          for (int j = lo; j <= p; ++j) {
            double dot = 0;
            for (int i = 0; i < hd; ++i)
              dot += double(q[(size_t(t) * heads + h) * hd + i]) * keys[(size_t(j) * kv_heads + kh) * hd + i];
            w.push_back(dot / std::sqrt(double(hd)));
            mx = std::max(mx, w.back());
          }
          for (double& v : w) total += (v = std::exp(v - mx));
          for (int i = 0; i < hd; ++i) {
            double acc = 0;
            for (int j = lo; j <= p; ++j) acc += w[size_t(j - lo)] / total * values[(size_t(j) * kv_heads + kh) * hd + i];
            CHECK(out[(size_t(t) * heads + h) * hd + i] == Approx(acc).margin(1e-5));
          }
        }
    }
  }
}

TEST_CASE("rewinding the KV cache gives the logits of a fresh run", "[engine][runner]") {
  auto weights = std::make_shared<const ModelWeights>(load_model(test::engine_data_dir() / "mistral_swa"));
  CpuRunnerOptions opt;
  opt.threads = 2;
  opt.max_context = 32;
  auto runner = make_cpu_runner(weights, opt);
  CHECK(runner->max_context() == 32);
  const std::vector<int> a{5, 9, 11, 40, 77, 3, 8, 120, 9, 10, 250, 31};
  const std::vector<int> b{17, 18, 19, 20, 21};
  std::vector<float> rewound, fresh, scratch;
  runner->forward(a, 0, false, scratch);
  runner->forward(b, 4, true, rewound);  // overwrites positions 4.. of a
  std::vector<int> joined(a.begin(), a.begin() + 4);
  joined.insert(joined.end(), b.begin(), b.end());
  auto other = make_cpu_runner(weights, opt);
  other->forward(joined, 0, true, fresh);
  const size_t vocab = size_t(weights->config.vocab_size);
  REQUIRE(rewound.size() == b.size() * vocab);
  for (size_t i = 0; i < rewound.size(); ++i) REQUIRE(rewound[i] == Approx(fresh[4 * vocab + i]).margin(1e-5));
  // Errors: past the cache, beyond the context, unknown token.
  CHECK_THROWS_WITH(runner->forward(b, 20, false, scratch), Catch::Contains("past the"));
  CHECK_THROWS_WITH(runner->forward(std::vector<int>(30, 1), 4, false, scratch), Catch::Contains("context of 32"));
  CHECK_THROWS_WITH(runner->forward(std::vector<int>{300}, 0, false, scratch), Catch::Contains("outside the vocabulary"));
}

TEST_CASE("decode_rows: sequences in their own slots step together as each steps alone", "[engine][runner][slots]") {
  // mistral_swa: the sliding window, so each row's visible range is its own.
  auto weights = std::make_shared<const ModelWeights>(load_model(test::engine_data_dir() / "mistral_swa"));
  CpuRunnerOptions opt;
  opt.threads = 2;
  opt.max_context = 48;
  opt.sequences = 3;
  auto batch = make_cpu_runner(weights, opt);
  opt.sequences = 1;
  auto alone = make_cpu_runner(weights, opt);
  REQUIRE(batch->max_sequences() == 3);
  const std::vector<std::vector<int>> prompts{{5, 9, 11, 40, 77, 3, 8, 120, 9, 10, 250, 31, 7, 7, 2, 1, 90, 91, 92, 93},
                                              {17, 18},
                                              {60, 61, 62, 63, 64, 65, 66}};
  const size_t vocab = size_t(weights->config.vocab_size);
  std::vector<float> got, want;
  std::vector<int> ids, prefill_ids;
  std::vector<SlotPrompt> packed;
  for (int s = 0; s < 3; ++s) packed.push_back({s, prompts[size_t(s)], 0});
  batch->prefill_slots(packed, prefill_ids, &got);
  std::vector<DecodeRow> rows;
  for (int s = 0; s < 3; ++s) rows.push_back({s, 100 + s, int(prompts[size_t(s)].size())});
  batch->decode_rows(rows, ids, &got);
  for (int s = 0; s < 3; ++s) {
    alone->forward(prompts[size_t(s)], 0, false, want);
    CHECK(prefill_ids[size_t(s)] == int(std::max_element(want.begin(), want.end()) - want.begin()));
    alone->forward(std::vector<int>{100 + s}, int(prompts[size_t(s)].size()), false, want);
    for (size_t i = 0; i < vocab; ++i) REQUIRE(got[size_t(s) * vocab + i] == Approx(want[i]).margin(1e-5));
    CHECK(ids[size_t(s)] == int(std::max_element(want.begin(), want.end()) - want.begin()));
  }
  // A row past its slot's cached positions, or a slot that does not exist, is refused.
  CHECK_THROWS_WITH(batch->decode_rows(std::vector<DecodeRow>{{1, 5, 10}}, ids, nullptr), Catch::Contains("position 10"));
  CHECK_THROWS_WITH(batch->decode_rows(std::vector<DecodeRow>{{3, 5, 0}}, ids, nullptr), Catch::Contains("slot 3"));
}
