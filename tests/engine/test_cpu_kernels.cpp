// Matrix-product kernels (every SIMD level, including the scalar fallback)
// against float64 loops over the canonical QuantLinear / fp16 weights.
#include <catch2/catch.hpp>

#include <cmath>

#include "src/common/half.h"
#include "src/engine/cpu_linear.h"
#include "tests/engine/engine_test_util.h"

using namespace awq;

namespace {

QuantLinear random_quant(std::mt19937& rng, int in, int out, int group, bool bias) {
  QuantLinear q = QuantLinear::allocate(in, out, group, bias);
  std::uniform_int_distribution<int> nib(0, 15);
  std::uniform_real_distribution<float> sc(0.001f, 0.05f);
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < in; ++i) q.set_q(o, i, uint8_t(nib(rng)));
  for (auto& z : q.zeros) z = uint8_t(nib(rng));
  for (auto& s : q.scales) s = float_to_fp16(sc(rng));
  for (auto& b : q.bias) b = sc(rng) * 10.f;
  return q;
}

}  // namespace

TEST_CASE("int4 linear matches a float64 loop on every SIMD level", "[engine][kernels]") {
  std::mt19937 rng(11);
  struct Shape { int in, out, group; bool bias; };
  // Group sizes 32/64/96/128; row counts that are not multiples of the
  // kernels' 2- and 4-row passes; 3, 9 and 24 groups (the AVX2 scale loop
  // takes 8 at a time) and 128 (more than the 64 whose scales are converted
  // at once).
  for (const Shape s : {Shape{64, 24, 32, false}, Shape{256, 72, 128, true}, Shape{576, 40, 64, false},
                        Shape{96, 16, 96, true}, Shape{192, 5, 64, false}, Shape{1536, 22, 64, false},
                        Shape{640, 7, 128, true}, Shape{4096, 13, 32, false}}) {
    const QuantLinear q = random_quant(rng, s.in, s.out, s.group, s.bias);
    Linear lin;
    lin.in_features = s.in;
    lin.out_features = s.out;
    lin.quant = q;
    const CpuLinear cl = prepare_linear(lin);
    for (int T : {1, 2, 3, 4, 5, 9, 70}) {
      const auto x = test::random_floats(rng, size_t(T) * s.in);
      std::vector<double> ref(size_t(T) * s.out);
      for (int t = 0; t < T; ++t)
        for (int o = 0; o < s.out; ++o) {
          double acc = s.bias ? q.bias[size_t(o)] : 0.0;
          for (int i = 0; i < s.in; ++i) acc += double(x[size_t(t) * s.in + i]) * q.weight(o, i);
          ref[size_t(t) * s.out + o] = acc;
        }
      for (SimdLevel level : test::available_simd_levels()) {
        for (int threads : {1, 3}) {
          ThreadPool pool(threads);
          LinearRunner runner(kernel_table(level), pool);
          std::vector<float> y(size_t(T) * s.out, NAN);
          runner.run(cl, x.data(), T, y.data());
          INFO("in " << s.in << " out " << s.out << " group " << s.group << " T " << T << " "
                     << simd_level_name(level) << " threads " << threads);
          CHECK(test::rel_error(y, ref) < 1e-5);
        }
      }
    }
  }
}

TEST_CASE("fp16 dense linear matches a float64 loop on every SIMD level", "[engine][kernels]") {
  std::mt19937 rng(12);
  for (int K : {64, 37, 300}) {
    const int N = 29;
    std::vector<uint16_t> w(size_t(N) * K);
    for (auto& v : w) v = float_to_fp16(test::random_floats(rng, 1)[0]);
    Linear lin;
    lin.in_features = K;
    lin.out_features = N;
    lin.dense = DenseMatrix{N, K, DType::F16, reinterpret_cast<const uint8_t*>(w.data())};
    const CpuLinear cl = prepare_linear(lin);
    for (int T : {1, 2, 3, 4, 7}) {
      const auto x = test::random_floats(rng, size_t(T) * K);
      std::vector<double> ref(size_t(T) * N);
      for (int t = 0; t < T; ++t)
        for (int o = 0; o < N; ++o) {
          double acc = 0;
          for (int i = 0; i < K; ++i) acc += double(x[size_t(t) * K + i]) * fp16_to_float(w[size_t(o) * K + i]);
          ref[size_t(t) * N + o] = acc;
        }
      for (SimdLevel level : test::available_simd_levels()) {
        ThreadPool pool(2);
        LinearRunner runner(kernel_table(level), pool);
        std::vector<float> y(size_t(T) * N, NAN);
        runner.run(cl, x.data(), T, y.data());
        INFO("K " << K << " T " << T << " " << simd_level_name(level));
        CHECK(test::rel_error(y, ref) < 1e-5);
      }
    }
  }
}

// The decode kernels as the thread pool calls them: any row range (here not
// a multiple of their 2- and 4-row passes, and not starting at 0), an x that
// is not 64-byte aligned (LinearRunner aligns it, the kernels must not need
// it), rows outside the range left alone.
TEST_CASE("decode kernels take any row range and an unaligned x", "[engine][kernels]") {
  std::mt19937 rng(14);
  const int in = 320, out = 23, group = 64, ng = in / group, r0 = 1, r1 = 22;
  const QuantLinear q = random_quant(rng, in, out, group, false);
  const Int4Matrix w = repack_int4(q);
  std::vector<uint16_t> f16(size_t(out) * in);
  for (auto& v : f16) v = float_to_fp16(test::random_floats(rng, 1)[0]);
  for (int T = 1; T <= kDirectMaxTokens; ++T) {
    const auto xbuf = test::random_floats(rng, size_t(T) * in + 1);
    const float* x = xbuf.data() + 1;
    std::vector<float> xsum(size_t(T) * ng, 0.f);
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < in; ++i) xsum[size_t(t) * ng + i / group] += x[size_t(t) * in + i];
    std::vector<double> ref4, ref16;
    for (int t = 0; t < T; ++t)
      for (int o = r0; o < r1; ++o) {
        double a4 = 0, a16 = 0;
        for (int i = 0; i < in; ++i) {
          a4 += double(x[size_t(t) * in + i]) * q.weight(o, i);
          a16 += double(x[size_t(t) * in + i]) * fp16_to_float(f16[size_t(o) * in + i]);
        }
        ref4.push_back(a4);
        ref16.push_back(a16);
      }
    for (SimdLevel level : test::available_simd_levels()) {
      const KernelTable& k = kernel_table(level);
      std::vector<float> y4(size_t(T) * out, NAN), y16(size_t(T) * out, NAN);
      k.int4_rows(w, r0, r1, x, T, xsum.data(), y4.data(), out);
      k.f16_rows(f16.data(), out, in, r0, r1, x, T, y16.data(), out);
      std::vector<float> got4, got16;
      bool outside_untouched = true;
      for (int t = 0; t < T; ++t)
        for (int o = 0; o < out; ++o) {
          const size_t at = size_t(t) * out + o;
          if (o >= r0 && o < r1) got4.push_back(y4[at]), got16.push_back(y16[at]);
          else outside_untouched = outside_untouched && std::isnan(y4[at]) && std::isnan(y16[at]);
        }
      INFO("T " << T << " " << simd_level_name(level));
      CHECK(test::rel_error(got4, ref4) < 1e-5);
      CHECK(test::rel_error(got16, ref16) < 1e-5);
      CHECK(outside_untouched);
    }
  }
}

TEST_CASE("repacked int4 matrix holds the same values", "[engine][kernels]") {
  std::mt19937 rng(13);
  const QuantLinear q = random_quant(rng, 128, 8, 32, false);
  const Int4Matrix m = repack_int4(q);
  for (int o = 0; o < 8; ++o)
    for (int i = 0; i < 128; ++i) REQUIRE(m.at(o, i) == q.q(o, i));
  QuantLinear odd = QuantLinear::allocate(48, 8, 48);
  CHECK_THROWS_WITH(repack_int4(odd), Catch::Contains("multiples of 32"));
}

TEST_CASE("thread pool runs every task exactly once, repeatedly", "[engine][threads]") {
  ThreadPool pool(3);
  for (int round = 0; round < 200; ++round) {
    const int tasks = 1 + round % 37;
    std::vector<std::atomic<int>> hits(static_cast<size_t>(tasks));
    std::atomic<int> bad_thread{0};  // Catch assertions are not thread-safe: count, check after
    pool.run(tasks, [&](int task, int thread) {
      if (thread < 0 || thread >= 3) bad_thread.fetch_add(1);
      hits[size_t(task)].fetch_add(1);
    });
    REQUIRE(bad_thread.load() == 0);
    for (auto& h : hits) REQUIRE(h.load() == 1);
  }
}

TEST_CASE("stacked q/k/v and gate/up give each part's own output, bit for bit", "[engine][kernels]") {
  std::mt19937 rng(23);
  for (const bool bias : {false, true})      // Qwen2's q/k/v biases
    for (const int T : {1, 3, 4, 9, 70}) {  // direct kernels and the tiled path
      INFO("bias " << bias << " T " << T);
      Linear parts[3];
      const int widths[] = {256, 64, 96};
      for (int p = 0; p < 3; ++p) {
        parts[p].in_features = 192;
        parts[p].out_features = widths[p];
        parts[p].quant = random_quant(rng, 192, widths[p], 64, bias && p != 1);  // k without a bias
      }
      const Linear* ptrs[] = {&parts[0], &parts[1], &parts[2]};
      const LinearGroup group = prepare_group(ptrs);
      REQUIRE(group.stacked());
      const auto x = test::random_floats(rng, size_t(T) * 192);
      ThreadPool pool(2);
      LinearRunner runner(kernel_table(detect_simd_level()), pool);
      std::vector<float> got[3], want(1);
      float* outs[3];
      for (int p = 0; p < 3; ++p) {
        got[p].assign(size_t(T) * widths[p], NAN);
        outs[p] = got[p].data();
      }
      runner.run(group, x.data(), T, outs);
      for (int p = 0; p < 3; ++p) {
        want.assign(size_t(T) * widths[p], NAN);
        runner.run(prepare_linear(parts[p]), x.data(), T, want.data());
        CHECK(got[p] == want);
      }
    }
}
