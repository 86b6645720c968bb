#include "cuda/device_linear.h"

#include <cstring>

#include "cuda/awq_pack.h"
#include "cuda/exllama_pack.h"
#include "src/common/error.h"
#include "src/common/half.h"

namespace awq::cuda {
namespace {

float dense_at(const DenseMatrix& m, size_t index) {
  switch (m.dtype) {
    case DType::F16: { uint16_t h; std::memcpy(&h, m.data + index * 2, 2); return fp16_to_float(h); }
    case DType::BF16: { uint16_t h; std::memcpy(&h, m.data + index * 2, 2); return bf16_to_float(h); }
    case DType::F32: { float f; std::memcpy(&f, m.data + index * 4, 4); return f; }
    default: runtime_error("cuda: unexpected dense dtype {}", dtype_name(m.dtype));
  }
}

bool all_quantized(std::span<const Linear* const> parts) {
  for (const Linear* p : parts)
    if (!p->is_quantized()) return false;
  return true;
}

uint16_t to_act(float f, Act act) { return act == Act::F16 ? float_to_fp16(f) : float_to_bf16(f); }

}  // namespace

std::vector<uint16_t> dense_to_act(const DenseMatrix& m, Act act) {
  std::vector<uint16_t> out(size_t(m.rows) * m.cols);
  if ((m.dtype == DType::F16 && act == Act::F16) || (m.dtype == DType::BF16 && act == Act::BF16)) {
    std::memcpy(out.data(), m.data, out.size() * 2);
  } else {
    for (size_t i = 0; i < out.size(); ++i) out[i] = to_act(dense_at(m, i), act);
  }
  return out;
}

size_t device_linear_bytes(std::span<const Linear* const> parts, WeightLayout layout) {
  int out = 0;
  for (const Linear* p : parts) out += p->out_features;
  const int in = parts[0]->in_features;
  if (!all_quantized(parts)) return size_t(out) * in * 2 + size_t(out) * 2;
  const int group = parts[0]->quant->group_size;
  if (layout == WeightLayout::Exllama) return exllama_packed_bytes(in, out, group);
  const size_t tiles = (size_t(out) + 63) / 64;
  return tiles * (in / 16) * 512 + tiles * (in / group) * 256 + size_t(out) * 2;
}

DeviceLinear upload_linear(std::span<const Linear* const> parts, Act act, WeightLayout layout, bool swiglu_pair) {
  DeviceLinear d;
  d.in_features = parts[0]->in_features;
  bool any_bias = false;
  for (const Linear* p : parts) {
    if (p->in_features != d.in_features) runtime_error("cuda: fused linears with different in_features");
    d.out_features += p->out_features;
    any_bias = any_bias || !p->bias.empty() || (p->is_quantized() && !p->quant->bias.empty());
  }
  d.quantized = all_quantized(parts);
  if (d.quantized) {
    std::vector<const QuantLinear*> q;
    for (const Linear* p : parts) q.push_back(&*p->quant);
    d.layout = layout;
    const int block = layout == WeightLayout::Exllama ? kExllamaSwigluBlock : kMmaSwigluBlock;
    if (swiglu_pair && q.size() == 2 && q[0]->out_features == q[1]->out_features && q[0]->out_features % block == 0)
      d.interleave = block;
    if (layout == WeightLayout::Exllama) {
      if (act != Act::F16) runtime_error("cuda: the exllama layout is fp16 only");
      const ExllamaPackedHost packed = pack_exllama(q, d.interleave);
      d.qweight = DeviceBuffer<uint32_t>(std::span<const uint32_t>(packed.qweight));
      d.qzeros = DeviceBuffer<uint32_t>(std::span<const uint32_t>(packed.qzeros));
      d.scales = DeviceBuffer<uint16_t>(std::span<const uint16_t>(packed.scales));
      if (!packed.bias.empty()) d.bias = DeviceBuffer<uint16_t>(std::span<const uint16_t>(packed.bias));
      d.xview = {d.qweight.get(), d.qzeros.get(), d.scales.get(), packed.bias.empty() ? nullptr : d.bias.get(),
                 packed.in_features, packed.out_features, packed.out_padded, packed.group_size};
      return d;
    }
    MmaPackedHost packed = pack_mma(q, d.interleave);
    if (act == Act::BF16) mma_pack_to_bf16(packed);
    d.qweight = DeviceBuffer<uint32_t>(std::span<const uint32_t>(packed.qweight));
    d.scale_zero = DeviceBuffer<uint32_t>(std::span<const uint32_t>(packed.scale_zero));
    if (!packed.bias.empty()) d.bias = DeviceBuffer<uint16_t>(std::span<const uint16_t>(packed.bias));
    d.view = {d.qweight.get(), d.scale_zero.get(), packed.bias.empty() ? nullptr : d.bias.get(),
              packed.in_features, packed.out_features, packed.out_padded, packed.group_size, act};
    return d;
  }
  std::vector<uint16_t> w(size_t(d.out_features) * d.in_features), bias;
  size_t row = 0;
  for (const Linear* p : parts) {
    for (int o = 0; o < p->out_features; ++o, ++row)
      for (int i = 0; i < d.in_features; ++i)
        w[row * d.in_features + i] = to_act(p->is_quantized() ? p->quant->weight(o, i)
                                                              : dense_at(p->dense, size_t(o) * d.in_features + i),
                                            act);
    if (any_bias) {
      const std::vector<float>& b = p->is_quantized() ? p->quant->bias : p->bias;
      for (int o = 0; o < p->out_features; ++o) bias.push_back(to_act(b.empty() ? 0.f : b[o], act));
    }
  }
  d.dense = DeviceBuffer<uint16_t>(std::span<const uint16_t>(w));
  if (any_bias) d.bias = DeviceBuffer<uint16_t>(std::span<const uint16_t>(bias));
  return d;
}

}  // namespace awq::cuda
