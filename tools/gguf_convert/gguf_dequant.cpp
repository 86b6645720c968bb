#include "tools/gguf_convert/gguf_dequant.h"

#include <cstring>

#include "src/common/error.h"
#include "src/common/half.h"
#include "tools/gguf_convert/ggml_types.h"

namespace awq {
namespace {

constexpr int kQK = 32;   // values per block of the simple quants
constexpr int kQKK = 256;  // values per K-quant super-block

float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return fp16_to_float(h);
}

uint32_t u32_at(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void dequant_q4_0(const uint8_t* b, float* y) {
  const float d = half_at(b);
  const uint8_t* qs = b + 2;
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = float(int(qs[j] & 0x0f) - 8) * d;
    y[j + kQK / 2] = float(int(qs[j] >> 4) - 8) * d;
  }
}

void dequant_q4_1(const uint8_t* b, float* y) {
  const float d = half_at(b), m = half_at(b + 2);
  const uint8_t* qs = b + 4;
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = float(qs[j] & 0x0f) * d + m;
    y[j + kQK / 2] = float(qs[j] >> 4) * d + m;
  }
}

// Q5: the fifth bit of value j (low half) is bit j of qh, of value j+16 bit j+16.
void dequant_q5_0(const uint8_t* b, float* y) {
  const float d = half_at(b);
  const uint32_t qh = u32_at(b + 2);
  const uint8_t* qs = b + 6;
  for (int j = 0; j < kQK / 2; ++j) {
    const int x0 = int((qs[j] & 0x0f) | (((qh >> j) & 1) << 4));
    const int x1 = int((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
    y[j] = float(x0 - 16) * d;
    y[j + kQK / 2] = float(x1 - 16) * d;
  }
}

void dequant_q5_1(const uint8_t* b, float* y) {
  const float d = half_at(b), m = half_at(b + 2);
  const uint32_t qh = u32_at(b + 4);
  const uint8_t* qs = b + 8;
  for (int j = 0; j < kQK / 2; ++j) {
    const int x0 = int((qs[j] & 0x0f) | (((qh >> j) & 1) << 4));
    const int x1 = int((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4));
    y[j] = float(x0) * d + m;
    y[j + kQK / 2] = float(x1) * d + m;
  }
}

void dequant_q8_0(const uint8_t* b, float* y) {
  const float d = half_at(b);
  const auto* qs = reinterpret_cast<const int8_t*>(b + 2);
  for (int j = 0; j < kQK; ++j) y[j] = float(qs[j]) * d;
}

// 6-bit scale and min of sub-block j from the 12 packed scale bytes of Q4_K/Q5_K.
void scale_min_k4(int j, const uint8_t* s, int& sc, int& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
    m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q4_K (qh == nullptr) and Q5_K share the sub-block structure.
void dequant_k4_k5(const uint8_t* b, const uint8_t* scales, const uint8_t* qh, const uint8_t* ql, float* y) {
  const float d = half_at(b), dmin = half_at(b + 2);
  uint8_t u1 = 1, u2 = 2;
  for (int g = 0; g < kQKK / 64; ++g) {
    int sc, m;
    scale_min_k4(2 * g, scales, sc, m);
    const float d1 = d * float(sc), m1 = dmin * float(m);
    scale_min_k4(2 * g + 1, scales, sc, m);
    const float d2 = d * float(sc), m2 = dmin * float(m);
    for (int l = 0; l < 32; ++l) {
      const int hi = (qh && (qh[l] & u1)) ? 16 : 0;
      *y++ = d1 * float((ql[l] & 0x0f) + hi) - m1;
    }
    for (int l = 0; l < 32; ++l) {
      const int hi = (qh && (qh[l] & u2)) ? 16 : 0;
      *y++ = d2 * float((ql[l] >> 4) + hi) - m2;
    }
    ql += 32;
    u1 = uint8_t(u1 << 2);
    u2 = uint8_t(u2 << 2);
  }
}

void dequant_q4_k(const uint8_t* b, float* y) { dequant_k4_k5(b, b + 4, nullptr, b + 16, y); }
void dequant_q5_k(const uint8_t* b, float* y) { dequant_k4_k5(b, b + 4, b + 16, b + 48, y); }

void dequant_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const auto* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = half_at(b + 208);
  for (int half = 0; half < 2; ++half) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = int((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = int((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * float(sc[is]) * float(q1);
      y[l + 32] = d * float(sc[is + 2]) * float(q2);
      y[l + 64] = d * float(sc[is + 4]) * float(q3);
      y[l + 96] = d * float(sc[is + 6]) * float(q4);
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

using BlockFn = void (*)(const uint8_t*, float*);

BlockFn block_fn(uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::Q4_0: return dequant_q4_0;
    case GgmlType::Q4_1: return dequant_q4_1;
    case GgmlType::Q5_0: return dequant_q5_0;
    case GgmlType::Q5_1: return dequant_q5_1;
    case GgmlType::Q8_0: return dequant_q8_0;
    case GgmlType::Q4_K: return dequant_q4_k;
    case GgmlType::Q5_K: return dequant_q5_k;
    case GgmlType::Q6_K: return dequant_q6_k;
    default: return nullptr;
  }
}

bool is_plain_float(uint32_t type) {
  const auto t = static_cast<GgmlType>(type);
  return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16;
}

}  // namespace

bool can_dequantize(uint32_t type) { return is_plain_float(type) || block_fn(type) != nullptr; }

std::string dequantizable_type_names() { return "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K"; }

void dequantize(uint32_t type, const uint8_t* src, int64_t n, float* dst) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::F32: std::memcpy(dst, src, size_t(n) * 4); return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = half_at(src + 2 * i);
      return;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = bf16_to_float(h);
      }
      return;
    default: break;
  }
  const BlockFn fn = block_fn(type);
  const auto info = ggml_type_info(type);
  if (!fn || !info) runtime_error("dequantize: unsupported ggml type {}", ggml_type_name(type));
  for (int64_t b = 0; b < n / info->block_elems; ++b)
    fn(src + b * info->block_bytes, dst + b * info->block_elems);
}

std::vector<float> dequantize_tensor(const GgufFile& file, const GgufTensorInfo& t) {
  if (!can_dequantize(t.type))
    input_error("{}: tensor '{}' has type {}, which the converter cannot dequantize (supported: {})",
                file.path().string(), t.name, ggml_type_name(t.type), dequantizable_type_names());
  std::vector<float> out(size_t(t.n_elements()));
  dequantize(t.type, t.data, t.n_elements(), out.data());
  return out;
}

}  // namespace awq
