// What one pass through the layers computes, and which kernel runs each linear.
#include <algorithm>

#include "cuda/awq_matmul.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_runner_impl.h"
#include "cuda/exllama_pack.h"
#include "cuda/launch.h"

namespace awq::cuda_runner_internal {
namespace {

// Auto above kRowsGemvMaxTokens: dequantize + cuBLAS, except for the largest
// matrices up to kMmaMaxTokens, where the tensor-core GEMM kernel measured
// faster (awq-kernel-bench, H100: gate+up 4096x28672 at m 64/256: 137/248 us
// vs 251/264 us; every smaller shape favours cuBLAS from m 64, docs/PERF.md).
constexpr size_t kMmaMinWeights = size_t(100) << 20;
constexpr int kMmaMaxTokens = 256;
// Up to this many rows (a decode step of many sequences, or a short prompt)
// run the GEMV kernel on 32-row pieces (awq_rows_matmul, measured faster than
// the GEMM kernel and than dequantize + cuBLAS up to 64); more rows take the
// prefill rule below.
constexpr int kRowsGemvMaxTokens = 64;

}  // namespace

bool CudaRunnerImpl::linear(const DeviceLinear& l, const uint16_t* x, int m, uint16_t* y, uint16_t* act) {
  const cuda::MatmulWorkspace ws = matmul_scratch_->view();
  if (!l.quantized) {
    blas_->gemm(opt_.act, l.dense.get(), x, y, m, l.out_features, l.in_features);
    if (l.bias.size()) cuda::add_bias(y, l.bias.get(), m, l.out_features, opt_.act, stream_);
    return false;
  }
  if (l.layout == cuda::WeightLayout::Exllama) return exllama_linear(l, x, m, y, act);
  const bool swiglu = act && l.interleave;  // the GEMV kernel's epilogue
  if (m <= kRowsGemvMaxTokens && opt_.kernels != CudaKernelFamily::Gemm) {
    cuda::awq_rows_matmul(l.view, x, m, swiglu ? act : y, ws, stream_, swiglu);
    return swiglu;
  }
  switch (opt_.kernels) {
    case CudaKernelFamily::Exllama: break;  // the exllama layout, above
    case CudaKernelFamily::Gemm:
    case CudaKernelFamily::Gemv: cuda::awq_gemm_matmul(l.view, x, m, y, ws, stream_); break;
    case CudaKernelFamily::Auto:
      if (m <= kMmaMaxTokens && size_t(l.out_features) * l.in_features >= kMmaMinWeights) {
        cuda::awq_gemm_matmul(l.view, x, m, y, ws, stream_);
      } else {
        cuda::awq_dequantize(l.view, dequant_.get(), stream_);
        blas_->gemm(opt_.act, dequant_.get(), x, y, m, l.out_features, l.in_features);
        if (l.view.bias) cuda::add_bias(y, l.view.bias, m, l.out_features, opt_.act, stream_);
      }
      break;
  }
  return false;
}

void CudaRunnerImpl::mlp_activation(const LayerDevice& l, int n) {
  const int inter = w_->config.intermediate_size;
  if (!l.gate_up_parts.empty()) {
    parts_side_by_side(l.gate_up_parts, xn_.get(), n, gate_up_.get(), size_t(2) * inter);
    cuda::swiglu(gate_up_.get(), act_.get(), n, inter, 0, opt_.act, stream_);
    return;
  }
  if (!linear(l.gate_up, xn_.get(), n, gate_up_.get(), act_.get()))
    cuda::swiglu(gate_up_.get(), act_.get(), n, inter, l.gate_up.interleave, opt_.act, stream_);
}

void CudaRunnerImpl::qkv_projection(const LayerDevice& l, int n) {
  const ModelConfig& c = w_->config;
  if (l.qkv_parts.empty()) {
    linear(l.qkv, xn_.get(), n, qkv_.get());
    return;
  }
  parts_side_by_side(l.qkv_parts, xn_.get(), n, qkv_.get(), size_t(c.num_heads + 2 * c.num_kv_heads) * c.head_dim);
}

void CudaRunnerImpl::parts_side_by_side(const std::vector<DeviceLinear>& parts, const uint16_t* x, int n,
                                        uint16_t* y, size_t y_width) {
  size_t column = 0;
  for (const DeviceLinear& part : parts) {
    const size_t width = size_t(part.out_features);
    if (n == 1) {  // one row: the part's product lands in place
      linear(part, x, n, y + column);
    } else {
      linear(part, x, n, part_out_.get());
      AWQ_CUDA_CHECK(cudaMemcpy2DAsync(y + column, y_width * 2, part_out_.get(), width * 2, width * 2, size_t(n),
                                       cudaMemcpyDeviceToDevice, stream_));
    }
    column += width;
  }
}

// ExLlama v2's rule, its GEMV kernel for up to 8 tokens and dequantize +
// cuBLAS above, stretched to two 8-row pieces: up to 16 rows the pieces read
// fewer bytes than the fp16 matrix is written and read. Not further: a
// 32-token prompt in four pieces prefilled at 1.9k tok/s against 3.4k through
// dequantize + cuBLAS (H200, Mistral-7B shape) - the CUDA-core kernel's cost
// grows with the rows, unlike the tensor-core GEMV's.
constexpr int kExllamaPiecesMaxRows = 2 * cuda::kExllamaGemvMaxRows;
bool CudaRunnerImpl::exllama_linear(const DeviceLinear& l, const uint16_t* x, int m, uint16_t* y, uint16_t* act) {
  const cuda::MatmulWorkspace ws = matmul_scratch_->view();
  constexpr int kPiece = cuda::kExllamaGemvMaxRows;
  if (m <= kExllamaPiecesMaxRows) {
    const bool swiglu = act && l.interleave;
    const size_t width = swiglu ? l.out_features / 2 : l.out_features;
    for (int r = 0; r < m; r += kPiece)
      cuda::exllama_gemv_matmul(l.xview, x + size_t(r) * l.in_features, std::min(kPiece, m - r),
                                (swiglu ? act : y) + size_t(r) * width, ws, stream_, 0, swiglu);
    return swiglu;
  }
  cuda::exllama_dequantize(l.xview, dequant_.get(), stream_);
  blas_->gemm_f16_kn(dequant_.get(), l.xview.out_padded, x, y, m, l.out_features, l.in_features);
  if (l.xview.bias) cuda::add_bias(y, l.xview.bias, m, l.out_features, cuda::Act::F16, stream_);
  return false;
}

void CudaRunnerImpl::attention(const Pass& p, size_t li) {
  const ModelConfig& c = w_->config;
  cuda::AttentionArgs a;
  a.qkv = qkv_.get();
  a.k_cache = k_cache_[li].get() + size_t(p.slot) * slot_stride();
  a.v_cache = v_cache_[li].get() + size_t(p.slot) * slot_stride();
  a.out = attn_.get();
  a.pos0 = pos_.get();
  a.n_tokens = p.n;
  a.n_heads = c.num_heads;
  a.n_kv = c.num_kv_heads;
  a.head_dim = c.head_dim;
  a.max_ctx = max_ctx_;
  a.window = c.sliding_window.value_or(0);
  a.partial = attn_partial_.get();
  a.kv_splits = kv_splits_;
  a.act = opt_.act;
  if (p.kind == Pass::Kind::Sequence) return cuda::attention(a, stream_);
  if (p.kind == Pass::Kind::Rows && c.head_dim >= 64) {
    // Rows fill the grid as split-KV pieces do; the scratch holds kv_splits_ pieces.
    a.k_cache = k_cache_[li].get();
    a.v_cache = v_cache_[li].get();
    a.kv_splits = std::max(1, kv_splits_ / p.n);
    a.rows = {row_pos_.get(), row_slot_.get(), slot_stride()};
    return cuda::attention(a, stream_);
  }
  // Packed prompts, or rows with small heads (tiny test models): one
  // single-sequence launch per segment.
  const size_t qkv_width = size_t(c.num_heads + 2 * c.num_kv_heads) * c.head_dim;
  for (const Segment& seg : segments_) {
    cuda::AttentionArgs one = a;
    one.qkv = qkv_.get() + seg.start * qkv_width;
    one.k_cache = k_cache_[li].get() + size_t(seg.slot) * slot_stride();
    one.v_cache = v_cache_[li].get() + size_t(seg.slot) * slot_stride();
    one.out = attn_.get() + size_t(seg.start) * c.num_heads * c.head_dim;
    one.pos0 = row_pos_.get() + seg.start;
    one.n_tokens = seg.len;
    cuda::attention(one, stream_);
  }
}

void CudaRunnerImpl::run_layers(const Pass& p) {
  const ModelConfig& c = w_->config;
  const float eps = c.rms_norm_eps;
  const int n = p.n;
  const bool per_token = p.kind != Pass::Kind::Sequence;
  const cuda::KvRows rows = per_token ? cuda::KvRows{row_pos_.get(), row_slot_.get(), slot_stride()} : cuda::KvRows{};
  const size_t cache_offset = per_token ? 0 : size_t(p.slot) * slot_stride();
  cuda::embed_tokens(embed_.get(), tokens_.get(), n, c.hidden_size, resid_.get(), opt_.act, stream_);
  for (size_t li = 0; li < layers_.size(); ++li) {
    const LayerDevice& l = layers_[li];
    const Ablation& skip = ablate_;
    if (!skip.norm)
      cuda::add_rmsnorm(resid_.get(), li == 0 ? nullptr : proj_.get(), l.input_norm.get(), xn_.get(), n,
                        c.hidden_size, eps, opt_.act, stream_);
    if (!skip.linears) qkv_projection(l, n);
    if (!skip.rope)
      cuda::rope_store_kv(qkv_.get(), n, c.num_heads, c.num_kv_heads, c.head_dim, inv_freq_.get(), pos_.get(), rows,
                          k_cache_[li].get() + cache_offset, v_cache_[li].get() + cache_offset, max_ctx_, opt_.act,
                          stream_);
    if (!skip.attention) attention(p, li);
    if (!skip.linears) linear(l.o, attn_.get(), n, proj_.get());
    if (!skip.norm)
      cuda::add_rmsnorm(resid_.get(), proj_.get(), l.post_norm.get(), xn_.get(), n, c.hidden_size, eps, opt_.act,
                        stream_);
    if (!skip.linears) {
      mlp_activation(l, n);
      linear(l.down, act_.get(), n, proj_.get());
    }
  }
  cuda::add_rmsnorm(resid_.get(), proj_.get(), final_norm_.get(), xn_.get(), n, c.hidden_size, eps, opt_.act, stream_);
}

void CudaRunnerImpl::lm_head(const uint16_t* x, int rows) {
  const ModelConfig& c = w_->config;
  const uint16_t* head = c.tie_word_embeddings ? embed_.get() : lm_head_.get();
  blas_->gemm_f32out(opt_.act, head, x, logits_.get(), rows, c.vocab_size, c.hidden_size);
}

}  // namespace awq::cuda_runner_internal
