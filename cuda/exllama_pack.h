// Host-side repack of AWQ int4 linears into the ExLlama-v2-style layout that
// the `--version exllama` kernels read (cuda/exllama_matmul.cu). Plain host
// code, unit-tested without a GPU (tests/model/test_exllama_pack.cpp).
//
// K = in_features, N = out_features padded to a multiple of 128 (the
// kernel's column tile; padded columns have zero weights and scales).
//  - qweight [K/8][N] uint32, packed along K as GPTQ does: word (r, n) holds
//    q[n][8r .. 8r+7]; the nibbles are shuffled so that one lop3 yields a
//    half2 pair without shifting: nibble positions 0..7 hold k offsets
//    0, 2, 4, 6, 1, 3, 5, 7, hence w & 0x000f000f = (k0, k1),
//    w & 0x00f000f0 = 16 * (k2, k3), and the same of w >> 8 for k4..k7.
//  - qzeros [G][N/8] uint32, column n in nibble n % 8, stored as
//    (zero - 1) & 15: GPTQ's z - 1 convention, with EVERY nibble masked on
//    its own, so a group whose zero point is 0 is stored as 15 and read back
//    as (15 + 1) & 15 = 0. (AutoAWQ's exllama repack subtracts 1 from whole
//    packed words; a zero nibble then borrows from its neighbour and both
//    groups come out wrong.)
//  - scales [G][N] fp16.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "src/model/quant_linear.h"

namespace awq::cuda {

inline constexpr int kExllamaColumnTile = 128;

struct ExllamaPackedHost {
  int in_features = 0, out_features = 0, out_padded = 0, group_size = 0;
  std::vector<uint32_t> qweight;  // [in/8][out_padded]
  std::vector<uint32_t> qzeros;   // [groups][out_padded/8]
  std::vector<uint16_t> scales;   // fp16 [groups][out_padded]
  std::vector<uint16_t> bias;     // fp16 [out] or empty
};

// Stacks the parts' rows (fused QKV or gate+up) and repacks them: in order,
// or gate/up interleaved in blocks of `interleave` rows (cuda/row_stack.h;
// 64 puts a feature's gate and up values in one 128-column tile, for the
// GEMV kernel's SwiGLU epilogue).
// All parts must share in_features and group_size; in_features must be a
// multiple of 32 and of group_size, group_size a multiple of 32.
inline constexpr int kExllamaSwigluBlock = 64;
ExllamaPackedHost pack_exllama(std::span<const QuantLinear* const> parts, int interleave = 0);
ExllamaPackedHost pack_exllama(const QuantLinear& lin);

// Device bytes of the packed form of an in x out linear (the fit check).
size_t exllama_packed_bytes(int in_features, int out_features, int group_size);

// The weight W[n][k] as the kernels decode it from the packed words (the
// host twin of their dequantization): (q - ((stored zero + 1) & 15)) * scale.
float exllama_weight(const ExllamaPackedHost& p, int n, int k);

}  // namespace awq::cuda
