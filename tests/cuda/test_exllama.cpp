// The `--version exllama` kernels (cuda/exllama_matmul.cu) against a float64
// host reference over QuantLinear::weight(), at Mistral-7B and SmolLM2
// shapes, with zero points over the full 0..15 range (groups with zero point
// 0 are the case AutoAWQ's exllama repack corrupts); and the SwiGLU epilogue
// of both layouts' GEMV kernels.
#include <catch2/catch.hpp>

#include <cmath>

#include "cuda/awq_pack.h"
#include "cuda/cublas_gemm.h"
#include "cuda/device_info.h"
#include "cuda/matmul_scratch.h"
#include "cuda/exllama_matmul.h"
#include "cuda/exllama_pack.h"
#include "tests/cuda/test_util.h"

namespace awq {
namespace {

struct UploadedExllama {
  cuda::DeviceBuffer<uint32_t> qweight, qzeros;
  cuda::DeviceBuffer<uint16_t> scales, bias;
  cuda::ExllamaWeightsView view;
  explicit UploadedExllama(const cuda::ExllamaPackedHost& p)
      : qweight(std::span<const uint32_t>(p.qweight)),
        qzeros(std::span<const uint32_t>(p.qzeros)),
        scales(std::span<const uint16_t>(p.scales)),
        bias(std::span<const uint16_t>(p.bias)) {
    view = {qweight.get(), qzeros.get(), scales.get(), p.bias.empty() ? nullptr : bias.get(),
            p.in_features, p.out_features, p.out_padded, p.group_size};
  }
};

using Workspace = cuda::MatmulScratch;

// Zero points uniform over 0..15 (test::random_quant_linear keeps them 4..11).
QuantLinear full_range_linear(int in, int out, int group, bool bias) {
  QuantLinear l = test::random_quant_linear(in, out, group, bias);
  std::uniform_int_distribution<int> zero(0, 15);
  for (auto& z : l.zeros) z = uint8_t(zero(test::rng()));
  for (int o = 0; o < out; o += 3) l.zeros[size_t(o) * l.groups()] = 0;  // many zero-point-0 groups
  return l;
}

std::vector<float> run_gemv(const UploadedExllama& w, const std::vector<uint16_t>& x, int m, Workspace& ws,
                            int split = 0) {
  cuda::DeviceBuffer<uint16_t> dx{std::span<const uint16_t>(x)};
  cuda::DeviceBuffer<uint16_t> dy(size_t(m) * w.view.out_features);
  test::poison(dy);
  cuda::exllama_gemv_matmul(w.view, dx.get(), m, dy.get(), ws.view(), nullptr, split);
  return test::to_float(dy.download());
}

struct Shape {
  int in, out, group;
};

}  // namespace

// fp16 sums of 16 products per chunk (as ExLlama v2) cost ~2x the rounding of
// the fp32-accumulating tensor-core kernels; the bound stays at 2e-3.
TEST_CASE("exllama gemv matches float64 reference", "[cuda][matmul][exllama]") {
  cuda::select_device(0);
  Workspace ws;
  const Shape shapes[] = {{4096, 4096, 128}, {4096, 28672, 128}, {14336, 4096, 128}, {4096, 1024, 128},
                          {576, 576, 64},    {576, 192, 64},     {576, 1536, 32},    {1536, 576, 64},
                          {768, 320, 96},    {1344, 256, 1344},  {4096, 1000, 128}};
  for (const Shape& s : shapes) {
    const QuantLinear lin = full_range_linear(s.in, s.out, s.group, s.out == 192 || s.out == 1000);
    const UploadedExllama w(cuda::pack_exllama(lin));
    for (int m = 1; m <= cuda::kExllamaGemvMaxRows; m += (size_t(s.in) * s.out > (size_t(8) << 20) ? 3 : 1)) {
      const auto x = test::random_f16(size_t(m) * s.in);
      const auto ref = test::reference_linear(lin, test::to_float(x), m);
      INFO("shape " << s.in << "->" << s.out << " g" << s.group << " m=" << m);
      const auto y = run_gemv(w, x, m, ws);
      CHECK(test::count_nonfinite(y) == 0);
      CHECK(test::rel_error(y, ref) < 2e-3);
    }
  }
}

TEST_CASE("exllama gemv split-K is deterministic and split-independent", "[cuda][matmul][exllama][sanitize]") {
  cuda::select_device(0);
  Workspace ws;
  const QuantLinear lin = full_range_linear(4096, 1000, 128, true);
  const UploadedExllama w(cuda::pack_exllama(lin));
  for (int m : {1, 4, 8}) {
    const auto x = test::random_f16(size_t(m) * 4096);
    const auto ref = test::reference_linear(lin, test::to_float(x), m);
    const auto auto_split = run_gemv(w, x, m, ws);
    CHECK(auto_split == run_gemv(w, x, m, ws));  // bitwise repeatable
    for (int split : {1, 2, 7, 128}) {
      INFO("m=" << m << " split=" << split);
      CHECK(test::rel_error(run_gemv(w, x, m, ws, split), ref) < 2e-3);
    }
  }
}

TEST_CASE("exllama dequantize is bit-exact and dequant + cuBLAS matches reference", "[cuda][matmul][exllama]") {
  cuda::select_device(0);
  cuda::Cublas blas(nullptr);
  for (const Shape& s : {Shape{4096, 1024, 128}, Shape{576, 192, 64}, Shape{1536, 576, 32}, Shape{1024, 1000, 128}}) {
    const QuantLinear lin = full_range_linear(s.in, s.out, s.group, true);
    const cuda::ExllamaPackedHost packed = cuda::pack_exllama(lin);
    const UploadedExllama w(packed);
    cuda::DeviceBuffer<uint16_t> dw(size_t(s.in) * packed.out_padded);
    test::poison(dw);
    cuda::exllama_dequantize(w.view, dw.get(), nullptr);
    const auto got = dw.download();
    size_t mismatches = 0;
    for (int i = 0; i < s.in; ++i)
      for (int o = 0; o < packed.out_padded; ++o)
        mismatches += o < s.out ? got[size_t(i) * packed.out_padded + o] != float_to_fp16(lin.weight(o, i))
                                : fp16_to_float(got[size_t(i) * packed.out_padded + o]) != 0.f;  // -0 allowed
    INFO("shape " << s.in << "->" << s.out);
    CHECK(mismatches == 0);

    const int m = 77;
    const auto x = test::random_f16(size_t(m) * s.in);
    const auto ref = test::reference_linear(lin, test::to_float(x), m);
    cuda::DeviceBuffer<uint16_t> dx{std::span<const uint16_t>(x)};
    cuda::DeviceBuffer<uint16_t> dy(size_t(m) * s.out);
    test::poison(dy);
    blas.gemm_f16_kn(dw.get(), packed.out_padded, dx.get(), dy.get(), m, s.out, s.in);
    cuda::add_bias(dy.get(), w.view.bias, m, s.out, cuda::Act::F16, nullptr);
    const auto y = test::to_float(dy.download());
    CHECK(test::count_nonfinite(y) == 0);
    CHECK(test::rel_error(y, ref) < 2e-3);
  }
}

}  // namespace awq

namespace awq {

// SwiGLU in the GEMV kernels' epilogue: gate+up packed interleaved
// (cuda/row_stack.h), act = silu(gate) * up against float64 of the two
// linears, for both layouts, with and without split-K.
TEST_CASE("gemv kernels' SwiGLU epilogue matches float64 reference", "[cuda][matmul][exllama]") {
  cuda::select_device(0);
  Workspace ws;
  for (const Shape& s : {Shape{4096, 14336, 128}, Shape{576, 1536, 64}}) {
    const QuantLinear gate = full_range_linear(s.in, s.out, s.group, false);
    const QuantLinear up = full_range_linear(s.in, s.out, s.group, false);
    const QuantLinear* parts[] = {&gate, &up};
    const UploadedExllama xw(cuda::pack_exllama(parts, cuda::kExllamaSwigluBlock));
    const cuda::MmaPackedHost mp = cuda::pack_mma(parts, cuda::kMmaSwigluBlock);
    cuda::DeviceBuffer<uint32_t> mq{std::span<const uint32_t>(mp.qweight)}, msz{std::span<const uint32_t>(mp.scale_zero)};
    const cuda::MmaWeightsView mview{mq.get(), msz.get(), nullptr, mp.in_features, mp.out_features, mp.out_padded,
                                     mp.group_size};
    for (int m : {1, 3, 8, 20, 40}) {
      const auto x = test::random_f16(size_t(m) * s.in);
      const auto xf = test::to_float(x);
      const auto g = test::reference_linear(gate, xf, m), u = test::reference_linear(up, xf, m);
      std::vector<double> ref(g.size());
      for (size_t i = 0; i < ref.size(); ++i) ref[i] = g[i] / (1 + std::exp(-g[i])) * u[i];
      cuda::DeviceBuffer<uint16_t> dx{std::span<const uint16_t>(x)}, act(size_t(m) * s.out);
      for (int split : {0, 1}) {
        INFO("shape " << s.in << "->2x" << s.out << " m=" << m << " split " << split);
        if (m <= cuda::kExllamaGemvMaxRows) {
          test::poison(act);
          cuda::exllama_gemv_matmul(xw.view, dx.get(), m, act.get(), ws.view(), nullptr, split, true);
          const auto y = test::to_float(act.download());
          CHECK(test::count_nonfinite(y) == 0);
          CHECK(test::rel_error(y, ref) < 3e-3);
        }
        test::poison(act);
        if (m <= cuda::kGemvMaxRows) {
          cuda::awq_gemv_matmul(mview, dx.get(), m, act.get(), ws.view(), nullptr, split, true);
        } else {
          if (split) continue;
          cuda::awq_rows_matmul(mview, dx.get(), m, act.get(), ws.view(), nullptr, true);
        }
        const auto y = test::to_float(act.download());
        CHECK(test::count_nonfinite(y) == 0);
        CHECK(test::rel_error(y, ref) < 3e-3);
      }
    }
  }
}

}  // namespace awq
