#include "src/model/awq_format.h"

#include <bit>
#include <cstring>

#include "src/common/error.h"

namespace awq {
namespace {

// Words are read with memcpy, and GEMV rows are copied as bytes: both assume the file's byte order.
static_assert(std::endian::native == std::endian::little, "AWQ checkpoints are little-endian");

uint32_t load_u32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
uint16_t load_u16(const uint8_t* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }

void expect(const std::string& prefix, const char* what, const TensorView& t, DType dtype,
            std::vector<int64_t> shape) {
  if (t.dtype != dtype)
    input_error("{}.{}: dtype {} but AWQ needs {}", prefix, what, dtype_name(t.dtype), dtype_name(dtype));
  if (t.shape != shape) {
    TensorView want;
    want.shape = shape;
    input_error("{}.{}: shape {} but the config implies {}", prefix, what, t.shape_str(), want.shape_str());
  }
}

void store_u32(std::vector<uint8_t>& bytes, size_t index, uint32_t v) {
  std::memcpy(bytes.data() + index * 4, &v, 4);
}

}  // namespace

QuantLinear QuantLinear::allocate(int in_features, int out_features, int group_size, bool with_bias) {
  QuantLinear l;
  l.in_features = in_features;
  l.out_features = out_features;
  l.group_size = group_size;
  l.qweight.assign(size_t(out_features) * in_features / 2, 0);
  l.zeros.assign(size_t(out_features) * (in_features / group_size), 0);
  l.scales.assign(l.zeros.size(), 0);
  if (with_bias) l.bias.assign(out_features, 0.f);
  return l;
}

int gemv_zeros_width(int in_features, int group_size) {
  int w = (in_features / group_size + 7) / 8;
  if (group_size == 64) w = (w + 1) / 2 * 2;
  else if (group_size == 32) w = (w + 3) / 4 * 4;
  return w;
}

QuantLinear unpack_linear(AwqLayout layout, const std::string& prefix, const TensorView& qweight,
                          const TensorView& qzeros, const TensorView& scales, const TensorView* bias,
                          int in, int out, int group) {
  if (group <= 0 || in % group != 0)
    input_error("{}: in_features {} is not a multiple of group_size {}", prefix, in, group);
  if (in % 8 != 0 || out % 8 != 0)
    input_error("{}: AWQ needs in and out features divisible by 8, got {}x{}", prefix, in, out);
  const int groups = in / group;
  QuantLinear l = QuantLinear::allocate(in, out, group, bias != nullptr);

  if (layout == AwqLayout::Gemm) {
    expect(prefix, "qweight", qweight, DType::I32, {in, out / 8});
    expect(prefix, "qzeros", qzeros, DType::I32, {groups, out / 8});
    expect(prefix, "scales", scales, DType::F16, {groups, out});
    // Two input rows at a time, so that every output byte is written once and
    // the eight output rows of a column stripe are filled sequentially.
    const size_t row_bytes = size_t(in) / 2;
    for (int c = 0; c < out / 8; ++c)
      for (int i = 0; i < in; i += 2) {
        const uint32_t w0 = load_u32(qweight.data + (size_t(i) * (out / 8) + c) * 4);
        const uint32_t w1 = load_u32(qweight.data + (size_t(i + 1) * (out / 8) + c) * 4);
        for (int k = 0; k < 8; ++k) {
          const int shift = 4 * kAwqReverseOrder[k];
          const uint32_t lo = (w0 >> shift) & 0xf, hi = (w1 >> shift) & 0xf;
          l.qweight[size_t(8 * c + k) * row_bytes + i / 2] = uint8_t(lo | hi << 4);
        }
      }
    for (int g = 0; g < groups; ++g)
      for (int c = 0; c < out / 8; ++c) {
        const uint32_t w = load_u32(qzeros.data + (size_t(g) * (out / 8) + c) * 4);
        for (int k = 0; k < 8; ++k)
          l.zeros[size_t(8 * c + k) * groups + g] = (w >> (4 * kAwqReverseOrder[k])) & 0xf;
      }
    for (int g = 0; g < groups; ++g)
      for (int o = 0; o < out; ++o)
        l.scales[size_t(o) * groups + g] = load_u16(scales.data + (size_t(g) * out + o) * 2);
  } else {
    if (group != 32 && group != 64 && group < 128)
      input_error("{}: GEMV layout supports group_size 32, 64 or >= 128, got {}", prefix, group);
    const int zw = gemv_zeros_width(in, group);
    expect(prefix, "qweight", qweight, DType::I32, {out, in / 8});
    expect(prefix, "qzeros", qzeros, DType::I32, {out, zw});
    expect(prefix, "scales", scales, DType::F16, {out, zw * 8});
    for (int o = 0; o < out; ++o) {
      // Sequential nibbles in little-endian words are exactly the canonical row bytes.
      std::memcpy(l.qweight.data() + size_t(o) * (in / 2), qweight.data + size_t(o) * (in / 8) * 4, size_t(in) / 2);
      for (int g = 0; g < groups; ++g) {
        const uint32_t w = load_u32(qzeros.data + (size_t(o) * zw + g / 8) * 4);
        l.zeros[size_t(o) * groups + g] = (w >> (4 * (g % 8))) & 0xf;
        l.scales[size_t(o) * groups + g] = load_u16(scales.data + (size_t(o) * zw * 8 + g) * 2);
      }
    }
  }
  if (bias) {
    expect(prefix, "bias", *bias, DType::F16, {out});
    for (int o = 0; o < out; ++o) l.bias[o] = fp16_to_float(load_u16(bias->data + size_t(o) * 2));
  }
  return l;
}

PackedLinear pack_linear(AwqLayout layout, const QuantLinear& l) {
  const int in = l.in_features, out = l.out_features, groups = l.groups();
  PackedLinear p;
  if (layout == AwqLayout::Gemm) {
    p.qweight = {DType::I32, {in, out / 8}, std::vector<uint8_t>(size_t(in) * out / 2)};
    p.qzeros = {DType::I32, {groups, out / 8}, std::vector<uint8_t>(size_t(groups) * out / 2)};
    p.scales = {DType::F16, {groups, out}, std::vector<uint8_t>(size_t(groups) * out * 2)};
    for (int i = 0; i < in; ++i)
      for (int c = 0; c < out / 8; ++c) {
        uint32_t w = 0;
        for (int k = 0; k < 8; ++k) w |= uint32_t(l.q(8 * c + k, i)) << (4 * kAwqReverseOrder[k]);
        store_u32(p.qweight.bytes, size_t(i) * (out / 8) + c, w);
      }
    for (int g = 0; g < groups; ++g) {
      for (int c = 0; c < out / 8; ++c) {
        uint32_t w = 0;
        for (int k = 0; k < 8; ++k) w |= uint32_t(l.zero(8 * c + k, g)) << (4 * kAwqReverseOrder[k]);
        store_u32(p.qzeros.bytes, size_t(g) * (out / 8) + c, w);
      }
      for (int o = 0; o < out; ++o)
        std::memcpy(p.scales.bytes.data() + (size_t(g) * out + o) * 2, &l.scales[size_t(o) * groups + g], 2);
    }
  } else {
    const int zw = gemv_zeros_width(in, l.group_size);
    p.qweight = {DType::I32, {out, in / 8}, std::vector<uint8_t>(size_t(in) * out / 2)};
    p.qzeros = {DType::I32, {out, zw}, std::vector<uint8_t>(size_t(out) * zw * 4)};
    p.scales = {DType::F16, {out, zw * 8}, std::vector<uint8_t>(size_t(out) * zw * 8 * 2)};
    for (int o = 0; o < out; ++o) {
      for (int c = 0; c < in / 8; ++c) {
        uint32_t w = 0;
        for (int j = 0; j < 8; ++j) w |= uint32_t(l.q(o, 8 * c + j)) << (4 * j);
        store_u32(p.qweight.bytes, size_t(o) * (in / 8) + c, w);
      }
      for (int wi = 0; wi < zw; ++wi) {
        uint32_t w = 0;
        for (int j = 0; j < 8 && 8 * wi + j < groups; ++j) w |= uint32_t(l.zero(o, 8 * wi + j)) << (4 * j);
        store_u32(p.qzeros.bytes, size_t(o) * zw + wi, w);
      }
      for (int g = 0; g < groups; ++g)
        std::memcpy(p.scales.bytes.data() + (size_t(o) * zw * 8 + g) * 2, &l.scales[size_t(o) * groups + g], 2);
    }
  }
  if (!l.bias.empty()) {
    TensorData b{DType::F16, {out}, std::vector<uint8_t>(size_t(out) * 2)};
    for (int o = 0; o < out; ++o) {
      const uint16_t h = float_to_fp16(l.bias[o]);
      std::memcpy(b.bytes.data() + size_t(o) * 2, &h, 2);
    }
    p.bias = std::move(b);
  }
  return p;
}

}  // namespace awq
