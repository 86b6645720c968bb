// Forward-pass kernels (embedding, attention, RoPE + cache store, RMSNorm,
// SwiGLU, argmax) against float64 host references at Mistral-7B / SmolLM2
// shapes. Each check of a kernel with activations runs once per activation
// type: the fp16 test cases as before, their bf16 twins tagged [bf16].
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "cuda/device_info.h"
#include "cuda/launch.h"
#include "tests/cuda/test_util.h"

namespace awq {
namespace {

using cuda::Act;
using cuda::DeviceBuffer;

// A bound met by fp16 outputs, widened for bf16: its 8 significant bits
// (fp16: 11) make each rounding 8x coarser. Reading one type's bits as the
// other still errs by O(1).
double bound(Act act, double f16_bound) { return act == Act::F16 ? f16_bound : 8 * f16_bound; }

struct AttnCase {
  int heads, kv, dim, n_past, n_tokens, window, max_ctx, splits;
  float amp = 1.f;  // of q and k: 8 makes the softmax peaked (scores ~20 apart)
};

// Reference: causal softmax attention over the cache's values, float64.
std::vector<double> reference_attention(const AttnCase& c, const std::vector<float>& q, const std::vector<float>& kc,
                                        const std::vector<float>& vc) {
  std::vector<double> out(size_t(c.n_tokens) * c.heads * c.dim);
  const double scale = 1.0 / std::sqrt(double(c.dim));
  for (int t = 0; t < c.n_tokens; ++t)
    for (int h = 0; h < c.heads; ++h) {
      const int kvh = h / (c.heads / c.kv), pos = c.n_past + t;
      const int lo = c.window > 0 ? std::max(0, pos - c.window + 1) : 0;
      std::vector<double> s;
      for (int j = lo; j <= pos; ++j) {
        double d = 0;
        for (int i = 0; i < c.dim; ++i)
          d += double(q[(size_t(t) * (c.heads + 2 * c.kv) + h) * c.dim + i]) *
               kc[(size_t(kvh) * c.max_ctx + j) * c.dim + i];
        s.push_back(d * scale);
      }
      const double mx = *std::max_element(s.begin(), s.end());
      double den = 0;
      for (double& v : s) den += (v = std::exp(v - mx));
      for (int i = 0; i < c.dim; ++i) {
        double acc = 0;
        for (int j = lo; j <= pos; ++j) acc += s[j - lo] * vc[(size_t(kvh) * c.max_ctx + j) * c.dim + i];
        out[(size_t(t) * c.heads + h) * c.dim + i] = acc / den;
      }
    }
  return out;
}

struct AttnBuffers {
  const DeviceBuffer<uint16_t>&q, &k, &v;
  DeviceBuffer<uint16_t>& out;
  DeviceBuffer<float>& partial;
};

// Launch arguments for n_tokens queries; positions (pos0 or rows) are the caller's.
cuda::AttentionArgs attention_args(const AttnBuffers& b, int n_tokens, int heads, int kv, int dim, int max_ctx,
                                   int window, int splits, Act act) {
  cuda::AttentionArgs a;
  a.qkv = b.q.get();
  a.k_cache = b.k.get();
  a.v_cache = b.v.get();
  a.out = b.out.get();
  a.partial = b.partial.get();
  a.n_tokens = n_tokens;
  a.n_heads = heads;
  a.n_kv = kv;
  a.head_dim = dim;
  a.max_ctx = max_ctx;
  a.window = window;
  a.kv_splits = splits;
  a.act = act;
  return a;
}

void check_attention(Act act) {
  INFO("act " << cuda::act_name(act));
  const AttnCase cases[] = {
      {32, 8, 128, 0, 77, 0, 512, 1},     {32, 8, 128, 263, 37, 100, 512, 1}, {32, 8, 128, 1000, 1, 0, 2048, 8},
      {32, 8, 128, 1000, 1, 300, 2048, 8}, {9, 3, 64, 5, 40, 0, 256, 1},      {9, 3, 64, 200, 1, 0, 256, 4},
      {4, 2, 16, 3, 9, 8, 64, 1},         {4, 2, 32, 30, 1, 0, 64, 2},        {8, 2, 8, 11, 6, 0, 64, 1},
      // decode with the most splits: a short context leaves most of them empty
      {32, 8, 128, 5, 1, 0, 2048, 64},    {4, 2, 64, 3000, 1, 0, 4096, 64},   {4, 2, 64, 3000, 1, 1000, 4096, 37},
      // decode at the cache's end: two splits of a 200-key window that starts
      // mid-tile; exactly one split's worth of keys (128)
      {32, 8, 128, 2047, 1, 200, 2048, 16}, {9, 3, 64, 127, 1, 0, 128, 8},
      // tensor-core prefill: several 64-query tiles, ragged ends, windows that
      // cut key tiles, a chunk after a cached prefix, two queries
      {32, 8, 128, 0, 300, 0, 512, 1},    {32, 8, 128, 50, 200, 70, 512, 1},  {9, 3, 64, 100, 130, 0, 256, 1},
      {9, 3, 64, 0, 193, 33, 256, 1},     {4, 4, 128, 7, 2, 0, 64, 1},
      // head_dim 256: decode (4 warps, lane-owned dims) and CUDA-core prefill
      {8, 2, 256, 500, 1, 0, 1024, 4},    {8, 2, 256, 10, 20, 0, 64, 1},      {8, 2, 256, 40, 1, 0, 64, 1},
      // peaked softmax (P rounded to the activation type in the tensor-core kernel)
      {32, 8, 128, 0, 300, 0, 512, 1, 8.f}, {32, 8, 128, 1000, 1, 0, 2048, 8, 8.f}};
  for (const AttnCase& c : cases) {
    INFO("heads " << c.heads << "/" << c.kv << " dim " << c.dim << " n_past " << c.n_past << " n " << c.n_tokens
                  << " window " << c.window << " splits " << c.splits << " amp " << c.amp);
    const size_t cache = size_t(c.kv) * c.max_ctx * c.dim;
    const auto kc = test::random_act(act, cache, c.amp), vc = test::random_act(act, cache);
    const auto qkv = test::random_act(act, size_t(c.n_tokens) * (c.heads + 2 * c.kv) * c.dim, c.amp);
    DeviceBuffer<uint16_t> dk{std::span<const uint16_t>(kc)}, dv{std::span<const uint16_t>(vc)},
        dq{std::span<const uint16_t>(qkv)}, dout(size_t(c.n_tokens) * c.heads * c.dim);
    const std::vector<int> pos{c.n_past};
    DeviceBuffer<int> dpos{std::span<const int>(pos)};
    DeviceBuffer<float> partial(cuda::attention_partial_floats(c.heads, c.dim, c.splits));
    test::poison(dout);
    cuda::AttentionArgs a = attention_args({dq, dk, dv, dout, partial}, c.n_tokens, c.heads, c.kv, c.dim, c.max_ctx,
                                           c.window, c.splits, act);
    a.pos0 = dpos.get();
    cuda::attention(a, nullptr);
    const auto out = test::to_float(act, dout.download());
    const auto ref =
        reference_attention(c, test::to_float(act, qkv), test::to_float(act, kc), test::to_float(act, vc));
    CHECK(test::count_nonfinite(out) == 0);
    CHECK(test::rel_error(out, ref) < bound(act, 3e-3));
  }
}

void check_attention_rows(Act act) {
  INFO("act " << cuda::act_name(act));
  struct RowsCase { int heads, kv, dim, slots, max_ctx, splits, window; std::vector<int> slot, pos; };
  const RowsCase cases[] = {
      {32, 8, 128, 6, 600, 1, 0, {4, 0, 5, 2}, {0, 517, 33, 260}},
      {32, 8, 128, 3, 2048, 8, 0, {2, 1}, {1500, 9}},
      {9, 3, 64, 4, 300, 4, 100, {3, 1, 0}, {299, 150, 64}},
      {8, 2, 256, 2, 128, 2, 0, {1, 0}, {100, 3}}};
  for (const RowsCase& c : cases) {
    const int rows = int(c.slot.size());
    INFO("heads " << c.heads << "/" << c.kv << " dim " << c.dim << " rows " << rows << " splits " << c.splits);
    const size_t slot_stride = size_t(c.kv) * c.max_ctx * c.dim;
    const auto kc = test::random_act(act, slot_stride * c.slots), vc = test::random_act(act, slot_stride * c.slots);
    const size_t qkv_row = size_t(c.heads + 2 * c.kv) * c.dim;
    const auto qkv = test::random_act(act, rows * qkv_row);
    DeviceBuffer<uint16_t> dk{std::span<const uint16_t>(kc)}, dv{std::span<const uint16_t>(vc)},
        dq{std::span<const uint16_t>(qkv)}, dout(size_t(rows) * c.heads * c.dim);
    DeviceBuffer<int> dpos{std::span<const int>(c.pos)}, dslot{std::span<const int>(c.slot)};
    DeviceBuffer<float> partial(cuda::attention_partial_floats(c.heads, c.dim, c.splits, rows));
    test::poison(dout);
    cuda::AttentionArgs a =
        attention_args({dq, dk, dv, dout, partial}, rows, c.heads, c.kv, c.dim, c.max_ctx, c.window, c.splits, act);
    a.rows = {dpos.get(), dslot.get(), slot_stride};
    cuda::attention(a, nullptr);
    const auto out = test::to_float(act, dout.download());
    const auto q = test::to_float(act, qkv), k = test::to_float(act, kc), v = test::to_float(act, vc);
    std::vector<double> ref;
    for (int r = 0; r < rows; ++r) {
      const AttnCase one{c.heads, c.kv, c.dim, c.pos[r], 1, c.window, c.max_ctx, c.splits};
      const auto at = [&](const std::vector<float>& x, size_t begin, size_t n) {
        return std::vector<float>(x.begin() + begin, x.begin() + begin + n);
      };
      const auto row = reference_attention(one, at(q, r * qkv_row, qkv_row), at(k, c.slot[r] * slot_stride, slot_stride),
                                           at(v, c.slot[r] * slot_stride, slot_stride));
      ref.insert(ref.end(), row.begin(), row.end());
    }
    CHECK(test::count_nonfinite(out) == 0);
    CHECK(test::rel_error(out, ref) < bound(act, 3e-3));
  }
}

void check_rope(Act act) {
  INFO("act " << cuda::act_name(act));
  const int heads = 32, kv = 8, dim = 128, n = 5, n_past = 70000, max_ctx = 70010;
  std::vector<float> inv(dim / 2);
  for (int i = 0; i < dim / 2; ++i) inv[i] = 1.f / std::pow(1e6f, float(2 * i) / dim);
  const auto qkv = test::random_act(act, size_t(n) * (heads + 2 * kv) * dim);
  DeviceBuffer<uint16_t> dqkv{std::span<const uint16_t>(qkv)}, kc(size_t(kv) * max_ctx * dim), vc(size_t(kv) * max_ctx * dim);
  DeviceBuffer<float> dinv{std::span<const float>(inv)};
  const std::vector<int> pos{n_past};
  DeviceBuffer<int> dpos{std::span<const int>(pos)};
  test::poison(kc);
  test::poison(vc);
  cuda::rope_store_kv(dqkv.get(), n, heads, kv, dim, dinv.get(), dpos.get(), {}, kc.get(), vc.get(), max_ctx, act,
                      nullptr);
  const auto got = test::to_float(act, dqkv.download()), kgot = test::to_float(act, kc.download()),
             vgot = test::to_float(act, vc.download());
  const auto x = test::to_float(act, qkv);
  std::vector<double> ref(x.size());
  std::vector<float> out(x.size()), kref_out, vref_out;
  std::vector<double> kref, vref;
  for (int t = 0; t < n; ++t)
    for (int h = 0; h < heads + 2 * kv; ++h) {
      const size_t b = (size_t(t) * (heads + 2 * kv) + h) * dim;
      for (int i = 0; i < dim / 2; ++i) {
        const double ang = double(n_past + t) * double(inv[i]);
        const double a = x[b + i], c = x[b + i + dim / 2];
        const bool rot = h < heads + kv;
        ref[b + i] = rot ? a * std::cos(ang) - c * std::sin(ang) : a;
        ref[b + i + dim / 2] = rot ? c * std::cos(ang) + a * std::sin(ang) : c;
      }
      if (h >= heads) {
        const bool is_k = h < heads + kv;
        const int kvh = is_k ? h - heads : h - heads - kv;
        const auto& cache = is_k ? kgot : vgot;
        auto& dst_ref = is_k ? kref : vref;
        auto& dst_out = is_k ? kref_out : vref_out;
        for (int i = 0; i < dim; ++i) {
          dst_ref.push_back(ref[b + i]);
          dst_out.push_back(cache[(size_t(kvh) * max_ctx + n_past + t) * dim + i]);
        }
      }
    }
  // fp32 angles at position 7e4 carry ~4e-3 rad of rounding, as in the CPU path and HF.
  CHECK(test::rel_error(got, ref) < bound(act, 5e-3));
  CHECK(test::rel_error(kref_out, kref) < bound(act, 5e-3));
  CHECK(test::rel_error(vref_out, vref) < 1e-6);  // copied bit for bit
}

// Gathered rows are the table's values exactly (every fp16 or bf16 value is a float).
void check_embed(Act act) {
  INFO("act " << cuda::act_name(act));
  const int vocab = 1000, hidden = 576;
  const std::vector<int> tokens{3, 999, 0, 3, 517};
  const int n = int(tokens.size());
  const auto table = test::random_act(act, size_t(vocab) * hidden);
  DeviceBuffer<uint16_t> dtable{std::span<const uint16_t>(table)};
  DeviceBuffer<int> dtokens{std::span<const int>(tokens)};
  DeviceBuffer<float> resid(size_t(n) * hidden);
  test::poison(resid);
  cuda::embed_tokens(dtable.get(), dtokens.get(), n, hidden, resid.get(), act, nullptr);
  const auto got = resid.download(), values = test::to_float(act, table);
  size_t wrong = 0;
  for (int t = 0; t < n; ++t)
    for (int i = 0; i < hidden; ++i)
      wrong += got[size_t(t) * hidden + i] != values[size_t(tokens[t]) * hidden + i];  // NaN poison counts too
  CHECK(wrong == 0);
}

void check_add_rmsnorm(Act act) {
  INFO("act " << cuda::act_name(act));
  const int n = 3;
  // 12288 passes the register span of the norm kernel (8192) and uses its tail loop.
  for (const int hidden : {64, 576, 4096, 12288})
    for (const bool with_delta : {true, false}) {
      INFO("hidden " << hidden << (with_delta ? " with" : " without") << " residual delta");
      std::vector<float> resid(size_t(n) * hidden), weight(hidden);
      for (auto& v : resid) v = fp16_to_float(test::random_f16(1, 4.f)[0]);
      for (auto& v : weight) v = fp16_to_float(test::random_f16(1, 2.f)[0]);
      const auto delta = test::random_act(act, size_t(n) * hidden);
      DeviceBuffer<float> dres{std::span<const float>(resid)}, dw{std::span<const float>(weight)};
      DeviceBuffer<uint16_t> ddelta{std::span<const uint16_t>(delta)}, dout(size_t(n) * hidden);
      test::poison(dout);
      cuda::add_rmsnorm(dres.get(), with_delta ? ddelta.get() : nullptr, dw.get(), dout.get(), n, hidden, 1e-5f, act,
                        nullptr);
      std::vector<double> ref(size_t(n) * hidden), ref_res(ref.size());
      const auto dl = test::to_float(act, delta);
      for (int t = 0; t < n; ++t) {
        double ss = 0;
        for (int i = 0; i < hidden; ++i) {
          const size_t at = size_t(t) * hidden + i;
          ref_res[at] = double(resid[at]) + (with_delta ? dl[at] : 0.0);
          ss += ref_res[at] * ref_res[at];
        }
        const double r = 1.0 / std::sqrt(ss / hidden + 1e-5);
        for (int i = 0; i < hidden; ++i) ref[size_t(t) * hidden + i] = ref_res[size_t(t) * hidden + i] * r * weight[i];
      }
      CHECK(test::rel_error(test::to_float(act, dout.download()), ref) < bound(act, 1e-3));
      CHECK(test::rel_error(dres.download(), ref_res) < 1e-6);
    }
}

void check_swiglu(Act act) {
  INFO("act " << cuda::act_name(act));
  const int n = 3, inter = 14336;
  const auto gu = test::random_act(act, size_t(n) * 2 * inter, 4.f);
  DeviceBuffer<uint16_t> dgu{std::span<const uint16_t>(gu)}, dact(size_t(n) * inter);
  const auto g = test::to_float(act, gu);
  for (const int block : {0, 32, 64}) {  // gate | up halves, or interleaved in blocks (cuda/row_stack.h)
    INFO("swiglu block " << block);
    test::poison(dact);
    cuda::swiglu(dgu.get(), dact.get(), n, inter, block, act, nullptr);
    std::vector<double> aref(size_t(n) * inter);
    for (int t = 0; t < n; ++t)
      for (int i = 0; i < inter; ++i) {
        const size_t gi = block ? size_t(i / block) * 2 * block + i % block : size_t(i);
        const double x = g[size_t(t) * 2 * inter + gi], u = g[size_t(t) * 2 * inter + gi + (block ? block : inter)];
        aref[size_t(t) * inter + i] = x / (1 + std::exp(-x)) * u;
      }
    CHECK(test::rel_error(test::to_float(act, dact.download()), aref) < bound(act, 1e-3));
  }
}

}  // namespace

TEST_CASE("attention matches float64 reference (prefill, decode split-KV, GQA, window)", "[cuda][attention][sanitize]") {
  cuda::select_device(0);
  check_attention(Act::F16);
}

TEST_CASE("attention matches float64 reference (bf16)", "[cuda][attention][bf16]") {
  cuda::select_device(0);
  check_attention(Act::BF16);
}

TEST_CASE("attention rows mode: one query per sequence, each in its own cache slot", "[cuda][attention][sanitize]") {
  cuda::select_device(0);
  check_attention_rows(Act::F16);
}

TEST_CASE("attention rows mode (bf16)", "[cuda][attention][bf16]") {
  cuda::select_device(0);
  check_attention_rows(Act::BF16);
}

TEST_CASE("rope_store_kv rotates q/k like rotate_half and fills the cache", "[cuda][rope]") {
  cuda::select_device(0);
  check_rope(Act::F16);
}

TEST_CASE("rope_store_kv (bf16)", "[cuda][rope][bf16]") {
  cuda::select_device(0);
  check_rope(Act::BF16);
}

TEST_CASE("embed_tokens, add_rmsnorm, swiglu and argmax match host references", "[cuda][ops]") {
  cuda::select_device(0);
  check_embed(Act::F16);
  check_add_rmsnorm(Act::F16);
  check_swiglu(Act::F16);

  const int n = 3, vocab = 32000;
  std::vector<float> logits(size_t(n) * vocab);
  for (auto& v : logits) v = fp16_to_float(test::random_f16(1, 10.f)[0]);
  logits[vocab + 777] = 50.f;
  logits[vocab + 778] = 50.f;  // tie: the first index wins
  DeviceBuffer<float> dlog{std::span<const float>(logits)};
  DeviceBuffer<int> ids(n);
  cuda::argmax_rows(dlog.get(), n, vocab, ids.get(), nullptr);
  const auto got = ids.download();
  for (int t = 0; t < n; ++t) {
    const float* row = &logits[size_t(t) * vocab];
    CHECK(got[t] == int(std::max_element(row, row + vocab) - row));
  }
  CHECK(got[1] == 777);
}

TEST_CASE("embed_tokens, add_rmsnorm and swiglu match host references (bf16)", "[cuda][ops][bf16]") {
  cuda::select_device(0);
  check_embed(Act::BF16);
  check_add_rmsnorm(Act::BF16);
  check_swiglu(Act::BF16);
}

}  // namespace awq
