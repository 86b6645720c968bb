// Host-side repack of AWQ int4 linears (QuantLinear, nn.Linear orientation
// [out][in]) into the "mma tile" layout that the CUDA matmul kernels read.
// No CUDA types: this is plain host code, unit-testable without a GPU.
//
// Rows (output channels) are padded to a multiple of 64 with zero weights and
// zero scales. For a 64-row tile t and a 16-wide k step s, 512 bytes hold the
// tensor-core A fragments of m16n8k16 for the tile's four 16-row blocks:
//   word ((t*ksteps + s)*32 + lane)*4 + j   (uint32, j = 16-row block 0..3)
//   with g = lane/4, c = lane%4, r0 = 64t + 16j + g, r1 = r0 + 8, k0 = 16s + 2c:
//   nibble 0,4 = q[r0][k0], q[r0][k0+1]     nibble 1,5 = q[r1][k0], q[r1][k0+1]
//   nibble 2,6 = q[r0][k0+8], q[r0][k0+9]   nibble 3,7 = q[r1][k0+8], q[r1][k0+9]
// so (w >> 4i) & 0x000f000f is the half2 pair of fragment register i.
// Scales and zeros: one uint32 per (row, group) = half2 {scale, 1024 + zero},
//   word ((t*groups + grp)*8 + g)*8 + 2j + h  for row 64t + 16j + g + 8h,
// so lane group g reads its 8 rows' pairs as two 16-byte loads.
// That is the fp16 form. For bf16 activations mma_pack_to_bf16 rewrites each
// word as bf16 {scale, 128 + zero}: bf16 keeps 8 significant bits, so the
// kernels' 1024 + q offset would not be exact there but 128 + q is (the
// qweight words are the same for both).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "src/model/quant_linear.h"

namespace awq::cuda {

struct MmaPackedHost {
  int in_features = 0, out_features = 0, out_padded = 0, group_size = 0;
  std::vector<uint32_t> qweight;     // out_padded/64 * in/16 * 128 words
  std::vector<uint32_t> scale_zero;  // out_padded/64 * groups * 64 words
  std::vector<uint16_t> bias;        // fp16 [out] (bf16 after mma_pack_to_bf16) or empty
};

// Stacks the parts' rows (fused QKV or gate+up) and repacks them: in order,
// or gate/up interleaved in blocks of `interleave` rows (cuda/row_stack.h;
// 32 puts a feature's gate and up values in one 64-row tile, for the GEMV
// kernel's SwiGLU epilogue).
// All parts must share in_features and group_size; in_features must be a
// multiple of 64 and of group_size, group_size a multiple of 32.
// If any part has a bias, the others get zero bias.
inline constexpr int kMmaSwigluBlock = 32;
MmaPackedHost pack_mma(std::span<const QuantLinear* const> parts, int interleave = 0);
MmaPackedHost pack_mma(const QuantLinear& lin);

// Converts pack_mma's fp16 form in place into the bf16 form (see above):
// scales and bias rounded to bf16 (nearest even), zeros exact. Padding rows
// keep a zero scale, hence zero weights. Throws if `p` is not in fp16 form.
void mma_pack_to_bf16(MmaPackedHost& p);

}  // namespace awq::cuda
