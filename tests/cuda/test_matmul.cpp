// AWQ matmul kernels (tensor-core kernel, dequant + cuBLAS) against a float64
// host reference over QuantLinear::weight(), at Mistral-7B and SmolLM2 shapes,
// with fp16 and (without cuBLAS) bf16 activations.
#include <catch2/catch.hpp>

#include "cuda/awq_matmul.h"
#include "cuda/awq_pack.h"
#include "cuda/cublas_gemm.h"
#include "cuda/device_info.h"
#include "cuda/matmul_scratch.h"
#include "src/common/error.h"
#include "tests/cuda/test_util.h"

namespace awq {
namespace {

struct UploadedLinear {
  cuda::DeviceBuffer<uint32_t> qweight, scale_zero;
  cuda::DeviceBuffer<uint16_t> bias;
  cuda::MmaWeightsView view;
  // `act` must match the form of `p`: Act::BF16 after mma_pack_to_bf16.
  explicit UploadedLinear(const cuda::MmaPackedHost& p, cuda::Act act = cuda::Act::F16)
      : qweight(std::span<const uint32_t>(p.qweight)),
        scale_zero(std::span<const uint32_t>(p.scale_zero)),
        bias(std::span<const uint16_t>(p.bias)) {
    view = {qweight.get(), scale_zero.get(), p.bias.empty() ? nullptr : bias.get(), p.in_features, p.out_features,
            p.out_padded, p.group_size, act};
  }
};

using Workspace = cuda::MatmulScratch;

enum class Kernel { Dispatch, Gemv, Gemm, Rows };

std::vector<float> run_mma(const UploadedLinear& w, const std::vector<uint16_t>& x, int m, Workspace& ws,
                           int split = 0, Kernel kernel = Kernel::Dispatch) {
  cuda::DeviceBuffer<uint16_t> dx{std::span<const uint16_t>(x)};
  cuda::DeviceBuffer<uint16_t> dy(size_t(m) * w.view.out_features);
  test::poison(dy);
  switch (kernel) {
    case Kernel::Dispatch: cuda::awq_mma_matmul(w.view, dx.get(), m, dy.get(), ws.view(), nullptr, split); break;
    case Kernel::Gemv: cuda::awq_gemv_matmul(w.view, dx.get(), m, dy.get(), ws.view(), nullptr, split); break;
    case Kernel::Gemm: cuda::awq_gemm_matmul(w.view, dx.get(), m, dy.get(), ws.view(), nullptr, split); break;
    case Kernel::Rows: cuda::awq_rows_matmul(w.view, dx.get(), m, dy.get(), ws.view(), nullptr); break;
  }
  return test::to_float(w.view.act, dy.download());
}

struct Shape {
  int in, out, group;
};

// The linear that a bf16-packed copy of `l` holds: scales rounded to bf16
// (exact in fp16 at these magnitudes), so that a reference built from it
// differs from the kernels only by their accumulation and output rounding.
QuantLinear with_bf16_scales(QuantLinear l) {
  for (auto& s : l.scales) s = float_to_fp16(bf16_to_float(float_to_bf16(fp16_to_float(s))));
  return l;
}

// awq_dequantize into dw (poisoned first): the weights whose bits differ
// from `expected(o, i)`.
template <class Expected>
size_t dequant_mismatches(const UploadedLinear& w, cuda::DeviceBuffer<uint16_t>& dw, Expected expected) {
  const int in = w.view.in_features, out = w.view.out_features;
  test::poison(dw);
  cuda::awq_dequantize(w.view, dw.get(), nullptr);
  const auto got = dw.download();
  size_t mismatches = 0;
  for (int o = 0; o < out; ++o)
    for (int i = 0; i < in; ++i) mismatches += got[size_t(o) * in + i] != expected(o, i);
  return mismatches;
}

cuda::MmaPackedHost pack_bf16(const QuantLinear& l) {
  cuda::MmaPackedHost p = cuda::pack_mma(l);
  cuda::mma_pack_to_bf16(p);
  return p;
}

}  // namespace

TEST_CASE("awq mma matmul matches float64 reference", "[cuda][matmul]") {
  cuda::select_device(0);
  Workspace ws;
  const Shape shapes[] = {{4096, 4096, 128}, {4096, 14336, 128}, {14336, 4096, 128}, {4096, 1024, 128},
                          {576, 576, 64},    {576, 192, 64},     {576, 1536, 32},    {1536, 576, 64},
                          // groups of 96 (a boundary mid-chunk) and one group per row (per-channel)
                          {768, 320, 96},    {1344, 256, 1344}};
  for (const Shape& s : shapes) {
    const QuantLinear lin = test::random_quant_linear(s.in, s.out, s.group, s.out == 192);
    const UploadedLinear w(cuda::pack_mma(lin));
    const bool big = size_t(s.in) * s.out > (size_t(8) << 20);
    for (int m : big ? std::vector<int>{1, 3, 8, 11, 27} : std::vector<int>{1, 2, 7, 8, 13, 16, 17, 31, 32, 64, 77, 200}) {
      const auto x = test::random_f16(size_t(m) * s.in);
      const auto ref = test::reference_linear(lin, test::to_float(x), m);
      INFO("shape " << s.in << "->" << s.out << " g" << s.group << " m=" << m);
      const auto y = run_mma(w, x, m, ws);
      CHECK(test::count_nonfinite(y) == 0);
      CHECK(test::rel_error(y, ref) < 2e-3);
      if (m <= 16) {  // the GEMM kernel must also be right at decode sizes
        const auto y2 = run_mma(w, x, m, ws, 0, Kernel::Gemm);
        CHECK(test::count_nonfinite(y2) == 0);
        CHECK(test::rel_error(y2, ref) < 2e-3);
      }
      if (m > 16 && m <= 32) {  // the GEMV kernel's 4-tile variant (continuous-batching rows)
        const auto y3 = run_mma(w, x, m, ws, 0, Kernel::Gemv);
        CHECK(test::count_nonfinite(y3) == 0);
        CHECK(test::rel_error(y3, ref) < 2e-3);
      }
      if (m > 16) {  // a decode step of m sequences: GEMV pieces
        const auto y4 = run_mma(w, x, m, ws, 0, Kernel::Rows);
        CHECK(test::count_nonfinite(y4) == 0);
        CHECK(test::rel_error(y4, ref) < 2e-3);
      }
    }
  }
}

TEST_CASE("awq mma matmul split-K is deterministic and split-independent", "[cuda][matmul][sanitize]") {
  cuda::select_device(0);
  Workspace ws;
  const QuantLinear lin = test::random_quant_linear(4096, 1024, 128);
  const UploadedLinear w(cuda::pack_mma(lin));
  for (int m : {1, 5, 29}) {
    const auto x = test::random_f16(size_t(m) * 4096);
    const auto ref = test::reference_linear(lin, test::to_float(x), m);
    const auto auto_split = run_mma(w, x, m, ws);
    CHECK(auto_split == run_mma(w, x, m, ws));  // bitwise repeatable
    for (int split : {1, 2, 7, 64}) {
      INFO("gemv m=" << m << " split=" << split);
      CHECK(test::rel_error(run_mma(w, x, m, ws, split, Kernel::Gemv), ref) < 2e-3);
    }
    for (int split : {1, 3}) {
      INFO("gemm m=" << m << " split=" << split);
      CHECK(test::rel_error(run_mma(w, x, m, ws, split, Kernel::Gemm), ref) < 2e-3);
    }
  }
}

TEST_CASE("awq dequantize is bit-exact and dequant + cuBLAS matches reference", "[cuda][matmul]") {
  cuda::select_device(0);
  // 1000 rows: a partial last 64-row tile; 576 in: a partial last 128-k block
  for (const Shape& s : {Shape{4096, 1024, 128}, Shape{576, 192, 64}, Shape{1536, 576, 32}, Shape{1024, 1000, 128}}) {
    const QuantLinear lin = test::random_quant_linear(s.in, s.out, s.group, true);
    const cuda::MmaPackedHost packed = cuda::pack_mma(lin);
    const UploadedLinear w(packed);
    cuda::DeviceBuffer<uint16_t> dw(size_t(s.in) * s.out);
    INFO("shape " << s.in << "->" << s.out);
    CHECK(dequant_mismatches(w, dw, [&](int o, int i) { return float_to_fp16(lin.weight(o, i)); }) == 0);

    const int m = 300;
    const auto x = test::random_f16(size_t(m) * s.in);
    const auto ref = test::reference_linear(lin, test::to_float(x), m);
    cuda::DeviceBuffer<uint16_t> dx{std::span<const uint16_t>(x)}, dy(size_t(m) * s.out);
    test::poison(dy);
    cuda::Cublas blas(nullptr);
    blas.gemm(cuda::Act::F16, dw.get(), dx.get(), dy.get(), m, s.out, s.in);
    cuda::add_bias(dy.get(), w.view.bias, m, s.out, cuda::Act::F16, nullptr);
    const auto y = test::to_float(dy.download());
    CHECK(test::count_nonfinite(y) == 0);
    CHECK(test::rel_error(y, ref) < 2e-3);
  }
}

// bf16 keeps 8 significant bits: output rounding alone is ~1.7e-3 relative
// (rms), the GEMM kernel's bf16 weights add about as much (~2.3e-3 in a host
// simulation); a zero point off by one gives ~0.17.
TEST_CASE("awq mma matmul with bf16 activations matches float64 reference", "[cuda][matmul][bf16]") {
  cuda::select_device(0);
  Workspace ws;
  struct Run {
    Kernel kernel;
    int m;
  };
  const Run runs[] = {{Kernel::Gemv, 1},  {Kernel::Gemv, 3},  {Kernel::Gemv, 8},  {Kernel::Gemv, 13},
                      {Kernel::Gemv, 27}, {Kernel::Gemm, 1},  {Kernel::Gemm, 16}, {Kernel::Gemm, 77},
                      {Kernel::Gemm, 200}, {Kernel::Rows, 20}};
  for (const Shape& s : {Shape{4096, 4096, 128}, Shape{4096, 14336, 128}, Shape{576, 192, 64}, Shape{768, 320, 96}}) {
    const QuantLinear lin = test::random_quant_linear(s.in, s.out, s.group, s.out == 192);
    const QuantLinear rounded = with_bf16_scales(lin);
    const UploadedLinear w(pack_bf16(lin), cuda::Act::BF16);
    const bool big = size_t(s.in) * s.out > (size_t(8) << 20);
    for (const Run& r : runs) {
      if (big && r.m > 32) continue;  // the float64 reference would take too long
      const auto x = test::random_act(cuda::Act::BF16, size_t(r.m) * s.in);
      const auto ref = test::reference_linear(rounded, test::to_float(cuda::Act::BF16, x), r.m);
      INFO("shape " << s.in << "->" << s.out << " g" << s.group << " m=" << r.m << " kernel " << int(r.kernel));
      const auto y = run_mma(w, x, r.m, ws, 0, r.kernel);
      CHECK(test::count_nonfinite(y) == 0);
      CHECK(test::rel_error(y, ref) < 6e-3);
    }
  }
}

// The device's bf16 hsub2 and hmul2 round to nearest even: (128 + q) - (128 + z)
// is exact, the product by the bf16 scale rounds once, as float_to_bf16 does.
TEST_CASE("awq dequantize and add_bias with bf16 activations are bit-exact", "[cuda][matmul][bf16]") {
  cuda::select_device(0);
  for (const Shape& s : {Shape{576, 192, 64}, Shape{1536, 576, 32}, Shape{1024, 1000, 128}}) {
    const QuantLinear lin = test::random_quant_linear(s.in, s.out, s.group, true);
    const QuantLinear rounded = with_bf16_scales(lin);
    const cuda::MmaPackedHost packed = pack_bf16(lin);
    const UploadedLinear w(packed, cuda::Act::BF16);
    cuda::DeviceBuffer<uint16_t> dw(size_t(s.in) * s.out);
    INFO("shape " << s.in << "->" << s.out);
    CHECK(dequant_mismatches(w, dw, [&](int o, int i) { return float_to_bf16(rounded.weight(o, i)); }) == 0);

    const int m = 5;
    const auto y0 = test::random_act(cuda::Act::BF16, size_t(m) * s.out);
    cuda::DeviceBuffer<uint16_t> dy{std::span<const uint16_t>(y0)};
    cuda::add_bias(dy.get(), w.view.bias, m, s.out, cuda::Act::BF16, nullptr);
    const auto y = dy.download();
    size_t bias_mismatches = 0;
    for (size_t i = 0; i < y.size(); ++i)
      bias_mismatches += y[i] != float_to_bf16(bf16_to_float(y0[i]) + bf16_to_float(packed.bias[i % s.out]));
    CHECK(bias_mismatches == 0);
  }
}

TEST_CASE("pack_mma rejects shapes the kernel cannot run", "[cuda][matmul]") {
  const QuantLinear bad = test::random_quant_linear(96, 64, 32);  // in % 64 != 0
  CHECK_THROWS_AS(cuda::pack_mma(bad), Error);
}

}  // namespace awq
