// The int8 lm_head's pieces: the block quantizer, and the int8 x int8
// kernels (every SIMD level and every variant this CPU runs, scalar included)
// against a float64 loop over the SAME quantized weights and activations;
// past kDirectMaxTokens tokens, the fp32-tile path against the same quantized
// weights and the unquantized activations.
#include <catch2/catch.hpp>

#include <cmath>

#include "src/common/half.h"
#include "src/engine/cpu_linear.h"
#include "tests/engine/engine_test_util.h"

using namespace awq;

namespace {

// Values whose magnitude changes from block to block (so every block gets a
// scale of its own), with a few exact zeros.
std::vector<float> blocky_floats(std::mt19937& rng, size_t n) {
  std::vector<float> v = test::random_floats(rng, n);
  std::uniform_real_distribution<float> mag(0.05f, 4.f);
  for (size_t i = 0; i < n; i += kInt8Block) {
    const float m = mag(rng);
    for (size_t j = i; j < std::min(n, i + kInt8Block); ++j) v[j] *= m;
  }
  for (size_t i = 3; i < n; i += 41) v[i] = 0.f;
  return v;
}

struct F16Matrix {
  std::vector<uint16_t> bits;
  DenseMatrix m;
};

F16Matrix f16_matrix(const std::vector<float>& values, int rows, int cols) {
  F16Matrix f;
  for (float v : values) f.bits.push_back(float_to_fp16(v));
  f.m = {rows, cols, DType::F16, reinterpret_cast<const uint8_t*>(f.bits.data())};
  return f;
}

// y[t][r] in float64 from the quantized weights and fp32 x (the tiled path).
std::vector<double> reference(const Int8Matrix& w, const std::vector<float>& x, int T) {
  const int nb = w.blocks();
  std::vector<double> y(size_t(T) * w.rows);
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < w.rows; ++r) {
      double acc = 0;
      for (int i = 0; i < w.cols; ++i)
        acc += double(w.q[size_t(r) * nb * kInt8Block + i]) * fp16_to_float(w.scales[size_t(r) * nb + i / kInt8Block]) *
               x[size_t(t) * w.cols + i];
      y[size_t(t) * w.rows + r] = acc;
    }
  return y;
}

// y[t][r] in float64 from the quantized values the int8 x int8 kernels see.
std::vector<double> reference(const Int8Matrix& w, const Int8Activations& x) {
  const int nb = w.blocks();
  std::vector<double> y(size_t(x.rows) * w.rows);
  for (int t = 0; t < x.rows; ++t)
    for (int r = 0; r < w.rows; ++r) {
      double acc = 0;
      for (int b = 0; b < nb; ++b) {
        long dot = 0;
        for (int j = 0; j < kInt8Block; ++j)
          dot += long(w.q[(size_t(r) * nb + b) * kInt8Block + j]) * x.q[(size_t(t) * nb + b) * kInt8Block + j];
        acc += double(dot) * fp16_to_float(w.scales[size_t(r) * nb + b]) * x.scales[size_t(t) * nb + b];
      }
      y[size_t(t) * w.rows + r] = acc;
    }
  return y;
}

// Every int8 kernel variant this CPU can run, by name.
std::vector<std::pair<std::string, Int8RowsFn>> int8_variants() {
  std::vector<std::pair<std::string, Int8RowsFn>> v{{"scalar", int8_rows_scalar}};
#if defined(__x86_64__)
  if (detect_simd_level() >= SimdLevel::Avx2) v.emplace_back("avx2", int8_rows_avx2);
  if (detect_simd_level() >= SimdLevel::Avx512) v.emplace_back("avx512bw", int8_rows_avx512bw);
  if (cpu_has_avx512_vnni()) v.emplace_back("avx512vnni", int8_rows_avx512vnni);
#endif
  return v;
}

}  // namespace

TEST_CASE("int8 quantizer: 32-blocks, scale max|x|/127, error at most half a step", "[engine][int8]") {
  std::mt19937 rng(31);
  const int n = 100;  // three full blocks and one of 4 values
  std::vector<float> x = blocky_floats(rng, n);
  std::fill(x.begin() + 32, x.begin() + 64, 0.f);  // an all-zero block
  std::vector<int8_t> q(4 * kInt8Block, 99);
  std::vector<float> s(4);
  std::vector<uint16_t> s16(4);
  for (bool half_scale : {false, true}) {
    INFO((half_scale ? "fp16" : "fp32") << " scales");
    if (half_scale) quantize_int8_row_f16(x.data(), n, q.data(), s16.data());
    else quantize_int8_row(x.data(), n, q.data(), s.data());
    for (int b = 0; b < 4; ++b) {
      const float scale = half_scale ? fp16_to_float(s16[size_t(b)]) : s[size_t(b)];
      float maxabs = 0.f;
      int maxq = 0;
      for (int j = b * kInt8Block; j < std::min(n, (b + 1) * kInt8Block); ++j) {
        maxabs = std::max(maxabs, std::fabs(x[size_t(j)]));
        maxq = std::max(maxq, std::abs(int(q[size_t(j)])));
        CHECK(std::fabs(x[size_t(j)] - q[size_t(j)] * scale) <= 0.5f * scale * (1 + 1e-6f));
        CHECK(q[size_t(j)] != -128);
      }
      INFO("block " << b);
      if (b == 1) {
        CHECK(scale == 0.f);
        CHECK(maxq == 0);
      } else {
        CHECK(scale == Approx(maxabs / 127.f).epsilon(half_scale ? 1e-3 : 1e-6));
        CHECK(maxq == 127);
      }
    }
    for (int j = n; j < 4 * kInt8Block; ++j) CHECK(q[size_t(j)] == 0);  // padding
  }
}

TEST_CASE("int8 lm_head kernels match a float64 loop over the same quantized values", "[engine][int8][kernels]") {
  std::mt19937 rng(32);
  struct Shape { int in, out; };
  for (const Shape s : {Shape{32, 19}, Shape{64, 40}, Shape{576, 67}, Shape{100, 33}, Shape{96, 8}}) {
    const F16Matrix w = f16_matrix(blocky_floats(rng, size_t(s.out) * s.in), s.out, s.in);
    ThreadPool quant_pool(2);
    const CpuLinear lin = prepare_int8(w.m, quant_pool);
    REQUIRE(lin.int8);
    CHECK(lin.int8->bytes() == size_t(s.out) * int8_blocks(s.in) * (kInt8Block + 2));
    for (int T : {1, 2, 5, 70}) {
      const auto x = blocky_floats(rng, size_t(T) * s.in);
      Int8Activations xq;
      quantize_int8_activations(x.data(), T, s.in, xq);
      const std::vector<double> ref = reference(*lin.int8, xq);
      INFO("in " << s.in << " out " << s.out << " T " << T);
      // Through the runner (which quantizes x itself up to kDirectMaxTokens
      // tokens), every level, 1 and 3 threads.
      const std::vector<double> runner_ref = T <= kDirectMaxTokens ? ref : reference(*lin.int8, x, T);
      for (SimdLevel level : test::available_simd_levels())
        for (int threads : {1, 3}) {
          ThreadPool pool(threads);
          LinearRunner runner(kernel_table(level), pool);
          std::vector<float> y(size_t(T) * s.out, NAN);
          runner.run(lin, x.data(), T, y.data());
          INFO(simd_level_name(level) << " threads " << threads);
          CHECK(test::rel_error(y, runner_ref) < 1e-5);
        }
      // Each kernel variant directly, on a row range that is not the whole matrix.
      for (const auto& [name, fn] : int8_variants()) {
        const int r0 = s.out / 3, r1 = s.out - 1;
        std::vector<float> y(size_t(T) * s.out, NAN);
        fn(*lin.int8, r0, r1, xq, y.data(), s.out);
        INFO(name);
        double diff = 0, norm = 0;
        for (int t = 0; t < T; ++t)
          for (int r = 0; r < s.out; ++r) {
            const size_t i = size_t(t) * s.out + r;
            if (r < r0 || r >= r1) {
              CHECK(std::isnan(y[i]));  // outside the range: untouched
              continue;
            }
            diff += (y[i] - ref[i]) * (y[i] - ref[i]);
            norm += ref[i] * ref[i];
          }
        CHECK(std::sqrt(diff / norm) < 1e-5);
      }
    }
  }
}

TEST_CASE("int8 lm_head stays within 2% of the exact fp16 product", "[engine][int8][kernels]") {
  // The approximation itself: 8-bit weights and activations give a relative
  // error of a few 1e-3 on random data; a wrong scale or block is order 1.
  std::mt19937 rng(33);
  const int in = 576, out = 300, T = 3;
  const F16Matrix w = f16_matrix(test::random_floats(rng, size_t(out) * in), out, in);
  const auto x = test::random_floats(rng, size_t(T) * in);
  std::vector<double> exact(size_t(T) * out);
  for (int t = 0; t < T; ++t)
    for (int r = 0; r < out; ++r) {
      double acc = 0;
      for (int i = 0; i < in; ++i) acc += double(fp16_to_float(w.bits[size_t(r) * in + i])) * x[size_t(t) * in + i];
      exact[size_t(t) * out + r] = acc;
    }
  ThreadPool pool(2);
  const CpuLinear lin = prepare_int8(w.m, pool);
  LinearRunner runner(kernel_table(detect_simd_level()), pool);
  std::vector<float> y(size_t(T) * out, NAN);
  runner.run(lin, x.data(), T, y.data());
  const double err = test::rel_error(y, exact);
  INFO("relative error " << err);
  CHECK(err < 2e-2);
  CHECK(err > 0);  // it is an approximation
}
