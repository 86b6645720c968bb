#include "cuda/cuda_runner.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>

#include "cuda/awq_matmul.h"
#include "cuda/cublas_gemm.h"
#include "cuda/cuda_check.h"
#include "cuda/device_buffer.h"
#include "cuda/device_info.h"
#include "cuda/device_linear.h"
#include "cuda/exllama_pack.h"
#include "cuda/matmul_scratch.h"
#include "cuda/launch.h"
#include "src/common/error.h"
#include "src/common/log.h"
#include "src/engine/rope.h"

namespace awq {
namespace {

using cuda::DeviceBuffer;
using cuda::DeviceLinear;

// Tokens per pass through the layers. Above 16 tokens every pass
// dequantizes each layer's weights once for cuBLAS (~9 ms for a 7B model on
// an H200), so a long prompt in 512-token passes paid that 4 times at 2048;
// ~150 KB of activations per token (7B) keeps 2048 at ~0.3 GB.
constexpr int kChunk = 2048;
// Rows of logits computed at once when a caller wants every position's
// (perplexity): the buffer is rows x vocab floats (0.26 GB at 128k vocab).
constexpr int kLogitRows = 512;
static_assert(kLogitRows >= kMaxCudaSequences, "a decode step's logits fit the logits buffer");
// Auto above kGemvMaxTokens: dequantize + cuBLAS, except for the largest
// matrices up to kMmaMaxTokens, where the tensor-core GEMM kernel measured
// faster (awq-kernel-bench, H100: gate+up 4096x28672 at m 64/256: 137/248 us
// vs 251/264 us; every smaller shape favours cuBLAS from m 64, docs/PERF.md).
constexpr size_t kMmaMinWeights = size_t(100) << 20;
constexpr int kMmaMaxTokens = 256;
// A decode step of up to this many sequences runs the GEMV kernel on 32-row
// pieces (awq_rows_matmul, measured up to 64); more rows take the prefill rule.
constexpr int kRowsGemvMaxTokens = 64;
// Decode attention splits the context over about this many blocks per SM
// (heads x splits); the kernel sizes the pieces from the current context.
constexpr int kDecodeBlocksPerSm = 4;
constexpr int kDefaultContextCap = 8192;
constexpr size_t kReserveBytes = size_t(512) << 20;  // cuBLAS workspace, CUDA context growth, fragmentation

struct LayerDevice {
  DeviceLinear qkv, o, gate_up, down;
  // Unfused modules (--no-fuse): q, k, v and gate, up as their own linears;
  // qkv and gate_up are then empty.
  std::vector<DeviceLinear> qkv_parts, gate_up_parts;
  DeviceBuffer<float> input_norm, post_norm;
};

DeviceBuffer<float> upload_floats(const std::vector<float>& v) { return DeviceBuffer<float>(std::span<const float>(v)); }

// What one pass through the layers works on:
//  - Sequence: n tokens at consecutive positions (from pos_) of the
//    sequence in `slot`;
//  - Rows: a decode step of n sequences, one token each;
//  - Packed: the prompts of several sequences back to back (prefill).
// Rows and Packed give each token's position and slot in row_pos_/row_slot_
// and each sequence's tokens in segments_.
struct Pass {
  enum class Kind { Sequence, Rows, Packed } kind = Kind::Sequence;
  int n = 0, slot = 0;
};

// The tokens [start, start + len) of a Rows or Packed pass that belong to the
// sequence in `slot`.
struct Segment {
  int slot = 0, start = 0, len = 0;
};

class CudaRunnerImpl final : public CudaRunner {
 public:
  CudaRunnerImpl(std::shared_ptr<const ModelWeights> w, const CudaRunnerOptions& o);
  ~CudaRunnerImpl() override;

  const ModelConfig& config() const override { return w_->config; }
  int max_context() const override { return max_ctx_; }
  int max_sequences() const override { return slots_; }
  std::string describe() const override { return describe_; }
  void forward(std::span<const int> tokens, int n_past, bool all_logits, std::vector<float>& logits) override;
  int forward_greedy(std::span<const int> tokens, int n_past) override;
  int forward_slot(int slot, std::span<const int> tokens, int n_past, std::vector<float>* logits) override;
  bool forward_slot_top(int slot, std::span<const int> tokens, int n_past, int count, LogitPool& pool) override;
  bool decode_rows_top(std::span<const DecodeRow> rows, std::span<const int> counts, std::vector<int>& ids,
                       std::vector<LogitPool>& pools) override;
  void prefill_slots(std::span<const SlotPrompt> prompts, std::vector<int>& ids, std::vector<float>* logits) override;
  void decode_rows(std::span<const DecodeRow> rows, std::vector<int>& ids, std::vector<float>* logits) override;

 private:
  void check_span(std::span<const int> tokens, int n_past) const;
  // Runs the pass's tokens through every layer and the final norm; xn_ then
  // holds the normalized last hidden states.
  void run_layers(const Pass& p);
  void attention(const Pass& p, size_t layer);
  // decode: the m rows are a decode step of m sequences (awq_rows_matmul).
  // act (gate+up only): when the kernel chosen for m has the SwiGLU
  // epilogue, it writes silu(gate) * up there instead of y; returns whether
  // it did.
  bool linear(const DeviceLinear& l, const uint16_t* x, int m, uint16_t* y, bool decode = false,
              uint16_t* act = nullptr);
  bool exllama_linear(const DeviceLinear& l, const uint16_t* x, int m, uint16_t* y, bool decode, uint16_t* act);
  // act_ = silu(gate) * up of xn_ (fused: one product, SwiGLU in its
  // epilogue where the kernel has one; unfused: two products and a kernel).
  void mlp_activation(const LayerDevice& l, int n, bool decode);
  // qkv_ = the q, k, v products of xn_.
  void qkv_projection(const LayerDevice& l, int n, bool decode);
  // The unfused parts' products side by side in y (row width y_width).
  void parts_side_by_side(const std::vector<DeviceLinear>& parts, const uint16_t* x, int n, uint16_t* y,
                          size_t y_width, bool decode);
  void lm_head(const uint16_t* x, int rows);  // logits_[0..rows) = lm_head(x[0..rows)), x [rows][hidden]
  void lm_head(int row, int rows) { lm_head(xn_.get() + size_t(row) * w_->config.hidden_size, rows); }
  // Uploads tokens and the per-token positions and slots of a Rows or Packed pass.
  void upload_rows(const std::vector<int>& tokens, const std::vector<int>& pos, const std::vector<int>& slot);
  // Runs the prompts as one pass: ids[i] = the argmax of prompt i's last
  // token, logits [prompts][vocab] when non-null (host memory).
  void prefill_packed(std::span<const SlotPrompt> prompts, int* ids, float* logits);
  void decode_step(int token, int n_past);  // one token of slot 0 through the captured graph, argmax in ids_[0]
  void rows_step(int n);  // the uploaded rows through the layers, lm_head and argmax (a graph when it can)
  cudaGraphExec_t capture(const std::function<void()>& launches);  // records the launches without running them
  void upload_decode_rows(std::span<const DecodeRow> rows);  // checks and uploads a decode step's rows
  // The pools of logits_'s first counts.size() rows (counts: 0 = no pool)
  // into pools[i]; a row whose ties overflow kMaxLogitPool gets its whole row.
  void take_pools(std::span<const int> counts, std::vector<LogitPool>& pools);
  void prefill(int slot, std::span<const int> tokens, int n_past, bool all_logits, std::vector<float>* logits);
  size_t slot_stride() const { return size_t(w_->config.num_kv_heads) * max_ctx_ * w_->config.head_dim; }

  std::shared_ptr<const ModelWeights> w_;
  CudaRunnerOptions opt_;
  int max_ctx_ = 0, device_ = 0, slots_ = 1;
  std::string describe_;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<cuda::Cublas> blas_;
  DeviceBuffer<uint16_t> embed_, lm_head_;  // lm_head_ empty when tied
  DeviceBuffer<float> final_norm_, inv_freq_;
  std::vector<LayerDevice> layers_;
  std::vector<DeviceBuffer<uint16_t>> k_cache_, v_cache_;  // per layer: [slots][n_kv][max_ctx][head_dim]
  // Activations for up to kChunk tokens.
  DeviceBuffer<float> resid_, logits_, attn_partial_;
  std::optional<cuda::MatmulScratch> matmul_scratch_;  // split-K scratch of every matmul; made once cuda:N is selected
  DeviceBuffer<uint16_t> xn_, qkv_, attn_, proj_, gate_up_, act_, dequant_;
  DeviceBuffer<uint16_t> part_out_;  // unfused: one part's product before it joins the others
  DeviceBuffer<int> tokens_, pos_, ids_, row_pos_, row_slot_;
  DeviceBuffer<int> pool_ids_;       // [slots][kMaxLogitPool + 1]: ids, then the count (top_candidates)
  DeviceBuffer<float> pool_values_;  // [slots][kMaxLogitPool]
  DeviceBuffer<int> pool_counts_;    // [slots]
  bool logit_pool_ = true;  // AWQRUN_NO_LOGIT_POOL=1: the whole row, an A/B switch for benchmarks
  std::vector<Segment> segments_;  // of the current Rows or Packed pass
  std::vector<int> step_tokens_, step_pos_, step_slot_;  // host side of a decode step's uploads
  DeviceBuffer<uint16_t> last_rows_;  // the last hidden state of each packed prompt
  int kv_splits_ = 1;
  cudaGraphExec_t decode_graph_ = nullptr;
  // Decode steps of n rows (index n), captured the second time a row count
  // occurs: continuous batching revisits the same counts, and a step is
  // ~330 launches.
  std::vector<cudaGraphExec_t> rows_graphs_;
  std::vector<uint8_t> rows_seen_;
};

// Bytes of one sequence's KV cache (all layers).
size_t slot_bytes(const ModelConfig& c, int ctx) { return size_t(2) * c.num_layers * c.num_kv_heads * ctx * c.head_dim * 2; }

cuda::WeightLayout layout_of(CudaKernelFamily f) {
  return f == CudaKernelFamily::Exllama ? cuda::WeightLayout::Exllama : cuda::WeightLayout::Mma;
}

// Output channels as the layout stores them (exllama pads to its 128-column tile).
size_t stored_columns(size_t out, cuda::WeightLayout layout) {
  return layout == cuda::WeightLayout::Exllama ? (out + cuda::kExllamaColumnTile - 1) / cuda::kExllamaColumnTile *
                                                     cuda::kExllamaColumnTile
                                               : out;
}

// Elements of the buffer where an unfused part's product waits for its
// columns of qkv_ or gate_up_ (the widest part: q or gate).
size_t unfused_part_elements(const ModelConfig& c) {
  return size_t(kChunk) * std::max<size_t>(c.intermediate_size, size_t(c.num_heads) * c.head_dim);
}

// Bytes of everything but the KV cache.
size_t fixed_bytes(const ModelWeights& w, int kv_splits, int max_rows, cuda::WeightLayout layout, bool fused) {
  const ModelConfig& c = w.config;
  size_t bytes = size_t(c.vocab_size) * c.hidden_size * 2 * (c.tie_word_embeddings ? 1 : 2);
  size_t largest = 0;
  for (const LayerWeights& l : w.layers) {
    const Linear* qkv[] = {&l.q, &l.k, &l.v};
    const Linear* gu[] = {&l.gate, &l.up};
    const Linear* o[] = {&l.o};
    const Linear* d[] = {&l.down};
    for (auto parts : {std::span<const Linear* const>(qkv), std::span<const Linear* const>(gu),
                       std::span<const Linear* const>(o), std::span<const Linear* const>(d)}) {
      bytes += cuda::device_linear_bytes(parts, layout);
      size_t out = 0;
      for (const Linear* p : parts) out += p->out_features;
      largest = std::max(largest, stored_columns(out, layout) * parts[0]->in_features * 2);
    }
    bytes += size_t(c.hidden_size) * 8;
  }
  const size_t qkv_width = size_t(c.num_heads + 2 * c.num_kv_heads) * c.head_dim;
  bytes += size_t(kChunk) * (c.hidden_size * (4 + 2 + 2) + qkv_width * 2 + size_t(c.num_heads) * c.head_dim * 2 +
                             size_t(c.intermediate_size) * 6);
  bytes += size_t(kLogitRows) * c.vocab_size * 4;
  bytes += largest;  // dequantize scratch of the cuBLAS path
  if (!fused) bytes += unfused_part_elements(c) * 2;
  bytes += cuda::kMatmulPartialFloats * 4 + cuda::kMatmulCounters * 4;
  bytes += cuda::attention_partial_floats(c.num_heads, c.head_dim, kv_splits) * 4;
  bytes += size_t(std::max(kChunk, max_rows)) * 2 * sizeof(int) + size_t(max_rows) * (sizeof(int) + c.hidden_size * 2);
  return bytes + kReserveBytes;
}

CudaRunnerImpl::CudaRunnerImpl(std::shared_ptr<const ModelWeights> w, const CudaRunnerOptions& o)
    : w_(std::move(w)), opt_(o), device_(o.device) {
  const ModelConfig& c = w_->config;
  const std::string name = cuda::select_device(device_);
  const int model_max = c.max_position_embeddings > 0 ? c.max_position_embeddings : kDefaultContextCap;
  max_ctx_ = o.max_context > 0 ? o.max_context : std::min(model_max, kDefaultContextCap);
  if (c.head_dim != 8 && c.head_dim != 16 && c.head_dim != 32 && c.head_dim != 64 && c.head_dim != 128 &&
      c.head_dim != 256)
    input_error("cuda backend: head_dim {} is not supported (8, 16, 32, 64, 128 or 256)", c.head_dim);
  // At most one split per 32-key attention tile of the longest context.
  kv_splits_ = std::clamp(kDecodeBlocksPerSm * cuda::device_sm_count() / c.num_heads, 1,
                          std::min(cuda::kMaxKvSplits, (max_ctx_ + 31) / 32));
  const std::vector<float> inv_freq = rope_inv_freq(c);  // Input error for dynamic / yarn

  const int wanted = std::clamp(o.sequences, 1, kMaxCudaSequences);
  const size_t fixed = fixed_bytes(*w_, kv_splits_, wanted, layout_of(o.kernels), o.fused), per_slot = slot_bytes(c, max_ctx_);
  const cuda::MemInfo mem = cuda::device_memory();
  if (fixed + per_slot > mem.free_bytes)
    device_error("model needs {:.2f} GiB, {:.2f} GiB free on cuda:{} (try a smaller --ctx)",
                 double(fixed + per_slot) / (1 << 30), double(mem.free_bytes) / (1 << 30), device_);
  // As many sequences as wanted and as fit (KV-cache slots of max_ctx_ positions).
  slots_ = int(std::min<size_t>(wanted, (mem.free_bytes - fixed) / per_slot));
  const size_t need = fixed + per_slot * slots_;

  AWQ_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  blas_ = std::make_unique<cuda::Cublas>(stream_);
  const auto embed = cuda::dense_to_f16(w_->embed);
  embed_ = DeviceBuffer<uint16_t>(std::span<const uint16_t>(embed));
  if (!c.tie_word_embeddings) {
    const auto head = cuda::dense_to_f16(w_->lm_head);
    lm_head_ = DeviceBuffer<uint16_t>(std::span<const uint16_t>(head));
  }
  final_norm_ = upload_floats(w_->final_norm);
  inv_freq_ = upload_floats(inv_freq);
  for (const LayerWeights& l : w_->layers) {
    LayerDevice d;
    const Linear* qkv[] = {&l.q, &l.k, &l.v};
    const Linear* gu[] = {&l.gate, &l.up};
    const Linear* op[] = {&l.o};
    const Linear* dn[] = {&l.down};
    const cuda::WeightLayout layout = layout_of(o.kernels);
    if (o.fused) {
      d.qkv = cuda::upload_linear(qkv, layout);
      d.gate_up = cuda::upload_linear(gu, layout, /*swiglu_pair=*/true);
    } else {
      for (const Linear* part : qkv) d.qkv_parts.push_back(cuda::upload_linear(std::span(&part, 1), layout));
      for (const Linear* part : gu) d.gate_up_parts.push_back(cuda::upload_linear(std::span(&part, 1), layout));
    }
    d.o = cuda::upload_linear(op, layout);
    d.down = cuda::upload_linear(dn, layout);
    d.input_norm = upload_floats(l.input_norm);
    d.post_norm = upload_floats(l.post_attention_norm);
    layers_.push_back(std::move(d));
    k_cache_.emplace_back(slot_stride() * slots_);
    v_cache_.emplace_back(slot_stride() * slots_);
  }
  const size_t qkv_width = size_t(c.num_heads + 2 * c.num_kv_heads) * c.head_dim;
  size_t largest = 0;
  auto consider = [&](const DeviceLinear& x) {
    largest = std::max(largest, stored_columns(x.out_features, layout_of(o.kernels)) * x.in_features);
  };
  for (const LayerDevice& l : layers_) {
    for (const DeviceLinear* x : {&l.qkv, &l.o, &l.gate_up, &l.down}) consider(*x);
    for (const DeviceLinear& x : l.qkv_parts) consider(x);
    for (const DeviceLinear& x : l.gate_up_parts) consider(x);
  }
  resid_ = DeviceBuffer<float>(size_t(kChunk) * c.hidden_size);
  xn_ = DeviceBuffer<uint16_t>(size_t(kChunk) * c.hidden_size);
  qkv_ = DeviceBuffer<uint16_t>(size_t(kChunk) * qkv_width);
  attn_ = DeviceBuffer<uint16_t>(size_t(kChunk) * c.num_heads * c.head_dim);
  proj_ = DeviceBuffer<uint16_t>(size_t(kChunk) * c.hidden_size);
  gate_up_ = DeviceBuffer<uint16_t>(size_t(kChunk) * 2 * c.intermediate_size);
  act_ = DeviceBuffer<uint16_t>(size_t(kChunk) * c.intermediate_size);
  dequant_ = DeviceBuffer<uint16_t>(largest);
  if (!o.fused) part_out_ = DeviceBuffer<uint16_t>(unfused_part_elements(c));
  logits_ = DeviceBuffer<float>(size_t(kLogitRows) * c.vocab_size);
  attn_partial_ = DeviceBuffer<float>(cuda::attention_partial_floats(c.num_heads, c.head_dim, kv_splits_));
  matmul_scratch_.emplace();
  tokens_ = DeviceBuffer<int>(kChunk);
  pos_ = DeviceBuffer<int>(1);
  ids_ = DeviceBuffer<int>(size_t(slots_));
  row_pos_ = DeviceBuffer<int>(size_t(std::max(kChunk, slots_)));
  row_slot_ = DeviceBuffer<int>(size_t(std::max(kChunk, slots_)));
  last_rows_ = DeviceBuffer<uint16_t>(size_t(slots_) * c.hidden_size);
  pool_ids_ = DeviceBuffer<int>(size_t(slots_) * (kMaxLogitPool + 1));
  pool_values_ = DeviceBuffer<float>(size_t(slots_) * kMaxLogitPool);
  pool_counts_ = DeviceBuffer<int>(size_t(slots_));
  logit_pool_ = !cuda::env_switch_on("AWQRUN_NO_LOGIT_POOL");
  const char* family = o.kernels == CudaKernelFamily::Gemv      ? "gemv"
                       : o.kernels == CudaKernelFamily::Gemm    ? "gemm"
                       : o.kernels == CudaKernelFamily::Exllama ? "exllama"
                                                                : "auto";
  describe_ = fmt::format("cuda:{} ({}) float16 {}{}", device_, name, family, o.fused ? "" : " unfused");
  log_info("cuda: {:.2f} GiB of weights, cache and buffers on {}; KV cache {} x {} positions ({:.2f} GiB)",
           double(need - kReserveBytes) / (1 << 30), name, slots_, max_ctx_, double(per_slot * slots_) / (1 << 30));
}

CudaRunnerImpl::~CudaRunnerImpl() {
  if (decode_graph_) cudaGraphExecDestroy(decode_graph_);
  for (cudaGraphExec_t g : rows_graphs_)
    if (g) cudaGraphExecDestroy(g);
  blas_.reset();
  if (stream_) cudaStreamDestroy(stream_);
}

void CudaRunnerImpl::check_span(std::span<const int> tokens, int n_past) const {
  if (n_past < 0) input_error("n_past {} is negative", n_past);
  if (n_past + int(tokens.size()) > max_ctx_)
    input_error("{} positions exceed the context of {} (--ctx)", n_past + tokens.size(), max_ctx_);
  for (int t : tokens)
    if (t < 0 || t >= w_->config.vocab_size) input_error("token id {} is outside the vocabulary ({})", t, w_->config.vocab_size);
}

bool CudaRunnerImpl::linear(const DeviceLinear& l, const uint16_t* x, int m, uint16_t* y, bool decode,
                            uint16_t* act) {
  const cuda::MatmulWorkspace ws = matmul_scratch_->view();
  if (!l.quantized) {
    blas_->gemm_f16(l.dense.get(), x, y, m, l.out_features, l.in_features);
    if (l.bias.size()) cuda::add_bias(y, l.bias.get(), m, l.out_features, stream_);
    return false;
  }
  if (l.layout == cuda::WeightLayout::Exllama) return exllama_linear(l, x, m, y, decode, act);
  const bool swiglu = act && l.interleave;  // the GEMV kernel's epilogue
  if (decode && m <= kRowsGemvMaxTokens && opt_.kernels != CudaKernelFamily::Gemm) {
    cuda::awq_rows_matmul(l.view, x, m, swiglu ? act : y, ws, stream_, swiglu);
    return swiglu;
  }
  if (m <= cuda::kGemvMaxTokens && opt_.kernels != CudaKernelFamily::Gemm) {
    cuda::awq_gemv_matmul(l.view, x, m, swiglu ? act : y, ws, stream_, 0, swiglu);
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
        blas_->gemm_f16(dequant_.get(), x, y, m, l.out_features, l.in_features);
        if (l.view.bias) cuda::add_bias(y, l.view.bias, m, l.out_features, stream_);
      }
      break;
  }
  return false;
}

void CudaRunnerImpl::mlp_activation(const LayerDevice& l, int n, bool decode) {
  const int inter = w_->config.intermediate_size;
  if (!l.gate_up_parts.empty()) {
    parts_side_by_side(l.gate_up_parts, xn_.get(), n, gate_up_.get(), size_t(2) * inter, decode);
    cuda::swiglu(gate_up_.get(), act_.get(), n, inter, 0, stream_);
    return;
  }
  if (!linear(l.gate_up, xn_.get(), n, gate_up_.get(), decode, act_.get()))
    cuda::swiglu(gate_up_.get(), act_.get(), n, inter, l.gate_up.interleave, stream_);
}

void CudaRunnerImpl::qkv_projection(const LayerDevice& l, int n, bool decode) {
  const ModelConfig& c = w_->config;
  if (l.qkv_parts.empty()) {
    linear(l.qkv, xn_.get(), n, qkv_.get(), decode);
    return;
  }
  parts_side_by_side(l.qkv_parts, xn_.get(), n, qkv_.get(), size_t(c.num_heads + 2 * c.num_kv_heads) * c.head_dim,
                     decode);
}

void CudaRunnerImpl::parts_side_by_side(const std::vector<DeviceLinear>& parts, const uint16_t* x, int n,
                                        uint16_t* y, size_t y_width, bool decode) {
  size_t column = 0;
  for (const DeviceLinear& part : parts) {
    const size_t width = size_t(part.out_features);
    if (n == 1) {  // one row: the part's product lands in place
      linear(part, x, n, y + column, decode);
    } else {
      linear(part, x, n, part_out_.get(), decode);
      AWQ_CUDA_CHECK(cudaMemcpy2DAsync(y + column, y_width * 2, part_out_.get(), width * 2, width * 2, size_t(n),
                                       cudaMemcpyDeviceToDevice, stream_));
    }
    column += width;
  }
}

// ExLlama v2's rule: its GEMV kernel for up to 8 tokens, dequantize + cuBLAS
// above; a decode step of up to kRowsGemvMaxTokens sequences runs the GEMV
// kernel on 8-row pieces instead (each piece reads the int4 weights, still
// fewer bytes than writing and reading the fp16 matrix up to 64 rows).
bool CudaRunnerImpl::exllama_linear(const DeviceLinear& l, const uint16_t* x, int m, uint16_t* y, bool decode,
                                    uint16_t* act) {
  const cuda::MatmulWorkspace ws = matmul_scratch_->view();
  constexpr int kPiece = cuda::kExllamaGemvMaxRows;
  if (m <= kPiece || (decode && m <= kRowsGemvMaxTokens)) {
    const bool swiglu = act && l.interleave;
    const size_t width = swiglu ? l.out_features / 2 : l.out_features;
    for (int r = 0; r < m; r += kPiece)
      cuda::exllama_gemv_matmul(l.xview, x + size_t(r) * l.in_features, std::min(kPiece, m - r),
                                (swiglu ? act : y) + size_t(r) * width, ws, stream_, 0, swiglu);
    return swiglu;
  }
  cuda::exllama_dequantize(l.xview, dequant_.get(), stream_);
  blas_->gemm_f16_kn(dequant_.get(), l.xview.out_padded, x, y, m, l.out_features, l.in_features);
  if (l.xview.bias) cuda::add_bias(y, l.xview.bias, m, l.out_features, stream_);
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
  const bool per_token = p.kind != Pass::Kind::Sequence, decode = p.kind == Pass::Kind::Rows;
  const cuda::KvRows rows = per_token ? cuda::KvRows{row_pos_.get(), row_slot_.get(), slot_stride()} : cuda::KvRows{};
  const size_t cache_offset = per_token ? 0 : size_t(p.slot) * slot_stride();
  cuda::embed_tokens(embed_.get(), tokens_.get(), n, c.hidden_size, resid_.get(), stream_);
  for (size_t li = 0; li < layers_.size(); ++li) {
    const LayerDevice& l = layers_[li];
    cuda::add_rmsnorm(resid_.get(), li == 0 ? nullptr : proj_.get(), l.input_norm.get(), xn_.get(), n, c.hidden_size,
                      eps, stream_);
    qkv_projection(l, n, decode);
    cuda::rope_store_kv(qkv_.get(), n, c.num_heads, c.num_kv_heads, c.head_dim, inv_freq_.get(), pos_.get(), rows,
                        k_cache_[li].get() + cache_offset, v_cache_[li].get() + cache_offset, max_ctx_, stream_);
    attention(p, li);
    linear(l.o, attn_.get(), n, proj_.get(), decode);
    cuda::add_rmsnorm(resid_.get(), proj_.get(), l.post_norm.get(), xn_.get(), n, c.hidden_size, eps, stream_);
    mlp_activation(l, n, decode);
    linear(l.down, act_.get(), n, proj_.get(), decode);
  }
  cuda::add_rmsnorm(resid_.get(), proj_.get(), final_norm_.get(), xn_.get(), n, c.hidden_size, eps, stream_);
}

void CudaRunnerImpl::lm_head(const uint16_t* x, int rows) {
  const ModelConfig& c = w_->config;
  const uint16_t* head = c.tie_word_embeddings ? embed_.get() : lm_head_.get();
  blas_->gemm_f32out(head, x, logits_.get(), rows, c.vocab_size, c.hidden_size);
}

void CudaRunnerImpl::upload_rows(const std::vector<int>& tokens, const std::vector<int>& pos,
                                 const std::vector<int>& slot) {
  const size_t bytes = tokens.size() * sizeof(int);
  AWQ_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), tokens.data(), bytes, cudaMemcpyHostToDevice, stream_));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(row_pos_.get(), pos.data(), bytes, cudaMemcpyHostToDevice, stream_));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(row_slot_.get(), slot.data(), bytes, cudaMemcpyHostToDevice, stream_));
}

void CudaRunnerImpl::decode_step(int token, int n_past) {
  AWQ_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), &token, sizeof(int), cudaMemcpyHostToDevice, stream_));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(pos_.get(), &n_past, sizeof(int), cudaMemcpyHostToDevice, stream_));
  auto step = [&] {
    run_layers({Pass::Kind::Sequence, 1, 0});
    lm_head(0, 1);
    cuda::argmax_rows(logits_.get(), 1, w_->config.vocab_size, ids_.get(), stream_);
  };
  // Unfused modules: every kernel launched from the host, as an eager framework does.
  if (!opt_.fused) return step();
  if (!decode_graph_) {
    step();  // warm-up outside capture (kernel attributes, cuBLAS heuristics); it computes this step
    decode_graph_ = capture(step);
    return;
  }
  AWQ_CUDA_CHECK(cudaGraphLaunch(decode_graph_, stream_));
}

cudaGraphExec_t CudaRunnerImpl::capture(const std::function<void()>& launches) {
  cudaGraph_t graph;
  AWQ_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  launches();
  AWQ_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
  cudaGraphExec_t exec = nullptr;
  AWQ_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  AWQ_CUDA_CHECK(cudaGraphDestroy(graph));
  return exec;
}

void CudaRunnerImpl::prefill(int slot, std::span<const int> tokens, int n_past, bool all_logits,
                             std::vector<float>* logits) {
  const int vocab = w_->config.vocab_size, n = int(tokens.size());
  for (int start = 0; start < n; start += kChunk) {
    const int len = std::min(kChunk, n - start), pos = n_past + start;
    AWQ_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), tokens.data() + start, len * sizeof(int), cudaMemcpyHostToDevice, stream_));
    AWQ_CUDA_CHECK(cudaMemcpyAsync(pos_.get(), &pos, sizeof(int), cudaMemcpyHostToDevice, stream_));
    run_layers({Pass::Kind::Sequence, len, slot});
    const bool last = start + len == n;
    if (all_logits) {
      for (int row = 0; row < len; row += kLogitRows) {
        const int rows = std::min(kLogitRows, len - row);
        lm_head(row, rows);
        if (logits)
          AWQ_CUDA_CHECK(cudaMemcpyAsync(logits->data() + size_t(start + row) * vocab, logits_.get(),
                                         size_t(rows) * vocab * 4, cudaMemcpyDeviceToHost, stream_));
        if (last && row + rows == len)
          cuda::argmax_rows(logits_.get() + size_t(rows - 1) * vocab, 1, vocab, ids_.get(), stream_);
        AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));  // logits_ is reused by the next rows
      }
    } else if (last) {
      lm_head(len - 1, 1);
      if (logits) AWQ_CUDA_CHECK(cudaMemcpyAsync(logits->data(), logits_.get(), size_t(vocab) * 4, cudaMemcpyDeviceToHost, stream_));
      cuda::argmax_rows(logits_.get(), 1, vocab, ids_.get(), stream_);
    }
    AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));  // host sources above live on this stack frame
  }
}

void CudaRunnerImpl::forward(std::span<const int> tokens, int n_past, bool all_logits, std::vector<float>& logits) {
  check_span(tokens, n_past);
  const int vocab = w_->config.vocab_size;
  logits.resize(size_t(all_logits ? tokens.size() : 1) * vocab);
  if (tokens.empty()) return;
  if (tokens.size() == 1) {
    decode_step(tokens[0], n_past);
    AWQ_CUDA_CHECK(cudaMemcpyAsync(logits.data(), logits_.get(), size_t(vocab) * 4, cudaMemcpyDeviceToHost, stream_));
    AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return;
  }
  prefill(0, tokens, n_past, all_logits, &logits);
}

int CudaRunnerImpl::forward_greedy(std::span<const int> tokens, int n_past) {
  check_span(tokens, n_past);
  if (tokens.empty()) input_error("forward_greedy needs at least one token");
  return forward_slot(0, tokens, n_past, nullptr);
}

int CudaRunnerImpl::forward_slot(int slot, std::span<const int> tokens, int n_past, std::vector<float>* logits) {
  check_slot(slot);
  check_span(tokens, n_past);
  if (tokens.empty()) input_error("forward_slot needs at least one token");
  if (logits) logits->resize(size_t(w_->config.vocab_size));
  if (tokens.size() == 1 && slot == 0) {  // the captured graph bakes slot 0's cache in
    decode_step(tokens[0], n_past);
    if (logits)
      AWQ_CUDA_CHECK(cudaMemcpyAsync(logits->data(), logits_.get(), logits->size() * 4, cudaMemcpyDeviceToHost, stream_));
  } else {
    prefill(slot, tokens, n_past, false, logits);
  }
  int id = 0;
  AWQ_CUDA_CHECK(cudaMemcpyAsync(&id, ids_.get(), sizeof(int), cudaMemcpyDeviceToHost, stream_));
  AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));
  return id;
}

bool CudaRunnerImpl::forward_slot_top(int slot, std::span<const int> tokens, int n_past, int count, LogitPool& pool) {
  if (!logit_pool_) return false;
  check_slot(slot);
  check_span(tokens, n_past);
  if (tokens.empty()) input_error("forward_slot_top needs at least one token");
  if (tokens.size() == 1 && slot == 0) decode_step(tokens[0], n_past);  // the graph's argmax is not needed; it is cheap
  else prefill(slot, tokens, n_past, false, nullptr);
  const int counts[] = {count};
  std::vector<LogitPool> pools(1);
  take_pools(counts, pools);
  pool = std::move(pools[0]);
  return true;
}

void CudaRunnerImpl::take_pools(std::span<const int> counts, std::vector<LogitPool>& pools) {
  const int vocab = w_->config.vocab_size, rows = int(counts.size());
  std::vector<int> clamped(counts.begin(), counts.end());
  for (int& c : clamped) c = std::clamp(c, 1, vocab);
  AWQ_CUDA_CHECK(cudaMemcpyAsync(pool_counts_.get(), clamped.data(), size_t(rows) * sizeof(int), cudaMemcpyHostToDevice,
                                 stream_));
  cuda::top_candidates(logits_.get(), rows, vocab, pool_counts_.get(), kMaxLogitPool, pool_ids_.get(),
                       pool_values_.get(), stream_);
  // One copy of each array (~8 KB a row) instead of the rows of logits.
  std::vector<int> ids(size_t(rows) * (kMaxLogitPool + 1));
  std::vector<float> values(size_t(rows) * kMaxLogitPool);
  AWQ_CUDA_CHECK(cudaMemcpyAsync(ids.data(), pool_ids_.get(), ids.size() * sizeof(int), cudaMemcpyDeviceToHost, stream_));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(values.data(), pool_values_.get(), values.size() * 4, cudaMemcpyDeviceToHost, stream_));
  AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));  // also keeps `clamped` alive for its upload
  pools.resize(size_t(rows));
  for (int r = 0; r < rows; ++r) {
    LogitPool& pool = pools[size_t(r)];
    pool.ids.clear();
    pool.values.clear();
    if (counts[size_t(r)] <= 0) continue;
    const int* row_ids = ids.data() + size_t(r) * (kMaxLogitPool + 1);
    const int n = row_ids[kMaxLogitPool];
    if (n > kMaxLogitPool) {  // too many ties at the cut: the whole row
      pool.ids.resize(size_t(vocab));
      for (int i = 0; i < vocab; ++i) pool.ids[size_t(i)] = i;
      pool.values.resize(size_t(vocab));
      AWQ_CUDA_CHECK(cudaMemcpy(pool.values.data(), logits_.get() + size_t(r) * vocab, size_t(vocab) * 4,
                                cudaMemcpyDeviceToHost));
      continue;
    }
    pool.ids.assign(row_ids, row_ids + n);
    const float* row_values = values.data() + size_t(r) * kMaxLogitPool;
    pool.values.assign(row_values, row_values + n);
  }
}

void CudaRunnerImpl::prefill_slots(std::span<const SlotPrompt> prompts, std::vector<int>& ids,
                                   std::vector<float>* logits) {
  const size_t vocab = size_t(w_->config.vocab_size);
  if (prompts.size() > size_t(slots_)) input_error("prefill_slots: {} prompts for {} slots", prompts.size(), slots_);
  for (const SlotPrompt& p : prompts) {
    check_slot(p.slot);
    check_span(p.tokens, p.n_past);
    if (p.tokens.empty()) input_error("prefill_slots: an empty prompt");
  }
  ids.resize(prompts.size());
  if (logits) logits->resize(prompts.size() * vocab);
  std::vector<float> one;
  for (size_t i = 0; i < prompts.size();) {
    if (prompts[i].tokens.size() > size_t(kChunk)) {  // a long prompt takes passes of its own
      ids[i] = forward_slot(prompts[i].slot, prompts[i].tokens, prompts[i].n_past, logits ? &one : nullptr);
      if (logits) std::copy(one.begin(), one.end(), logits->begin() + i * vocab);
      ++i;
      continue;
    }
    // As many of the following prompts as fit in one pass.
    size_t j = i, total = 0;
    while (j < prompts.size() && total + prompts[j].tokens.size() <= size_t(kChunk)) total += prompts[j++].tokens.size();
    prefill_packed(prompts.subspan(i, j - i), ids.data() + i, logits ? logits->data() + i * vocab : nullptr);
    i = j;
  }
}

void CudaRunnerImpl::prefill_packed(std::span<const SlotPrompt> prompts, int* ids, float* logits) {
  const ModelConfig& c = w_->config;
  segments_.clear();
  std::vector<int> tokens, pos, slot;
  for (const SlotPrompt& p : prompts) {
    segments_.push_back({p.slot, int(tokens.size()), int(p.tokens.size())});
    for (size_t t = 0; t < p.tokens.size(); ++t) {
      tokens.push_back(p.tokens[t]);
      pos.push_back(p.n_past + int(t));
      slot.push_back(p.slot);
    }
  }
  upload_rows(tokens, pos, slot);
  run_layers({Pass::Kind::Packed, int(tokens.size()), 0});
  // Only each prompt's last position needs logits: gather those rows.
  const size_t row_bytes = size_t(c.hidden_size) * 2;
  for (size_t k = 0; k < segments_.size(); ++k)
    AWQ_CUDA_CHECK(cudaMemcpyAsync(last_rows_.get() + k * c.hidden_size,
                                   xn_.get() + size_t(segments_[k].start + segments_[k].len - 1) * c.hidden_size,
                                   row_bytes, cudaMemcpyDeviceToDevice, stream_));
  const int n = int(segments_.size());
  lm_head(last_rows_.get(), n);
  cuda::argmax_rows(logits_.get(), n, c.vocab_size, ids_.get(), stream_);
  AWQ_CUDA_CHECK(cudaMemcpyAsync(ids, ids_.get(), n * sizeof(int), cudaMemcpyDeviceToHost, stream_));
  if (logits)
    AWQ_CUDA_CHECK(cudaMemcpyAsync(logits, logits_.get(), size_t(n) * c.vocab_size * 4, cudaMemcpyDeviceToHost,
                                   stream_));
  // The host vectors above live on this frame; logits_ and ids_ serve the next pass.
  AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void CudaRunnerImpl::rows_step(int n) {
  auto step = [&] {
    run_layers({Pass::Kind::Rows, n, 0});
    lm_head(0, n);
    cuda::argmax_rows(logits_.get(), n, w_->config.vocab_size, ids_.get(), stream_);
  };
  // A step of n rows depends on n alone (positions, slots and tokens are
  // read from device memory), except with small heads, whose attention is
  // launched per row from host data (segments_); unfused modules stay eager.
  if (!opt_.fused || w_->config.head_dim < 64) return step();
  if (rows_graphs_.empty()) {
    rows_graphs_.assign(size_t(slots_) + 1, nullptr);
    rows_seen_.assign(size_t(slots_) + 1, 0);
  }
  cudaGraphExec_t& graph = rows_graphs_[size_t(n)];
  if (graph) {
    AWQ_CUDA_CHECK(cudaGraphLaunch(graph, stream_));
    return;
  }
  step();
  if (++rows_seen_[size_t(n)] == 2) graph = capture(step);
}

void CudaRunnerImpl::upload_decode_rows(std::span<const DecodeRow> rows) {
  const int n = int(rows.size());
  if (n == 0 || n > slots_) input_error("decode_rows: {} rows for {} sequence slots", n, slots_);
  segments_.clear();
  // Members: the uploads are asynchronous, and the step's caller synchronizes later.
  step_tokens_.resize(rows.size());
  step_pos_.resize(rows.size());
  step_slot_.resize(rows.size());
  for (int i = 0; i < n; ++i) {
    check_slot(rows[i].slot);
    check_span(std::span<const int>(&rows[i].token, 1), rows[i].pos);
    step_tokens_[i] = rows[i].token;
    step_pos_[i] = rows[i].pos;
    step_slot_[i] = rows[i].slot;
    segments_.push_back({rows[i].slot, i, 1});
  }
  upload_rows(step_tokens_, step_pos_, step_slot_);
}

void CudaRunnerImpl::decode_rows(std::span<const DecodeRow> rows, std::vector<int>& ids, std::vector<float>* logits) {
  const int n = int(rows.size()), vocab = w_->config.vocab_size;
  upload_decode_rows(rows);
  rows_step(n);
  ids.resize(size_t(n));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(ids.data(), ids_.get(), n * sizeof(int), cudaMemcpyDeviceToHost, stream_));
  if (logits) {
    logits->resize(size_t(n) * vocab);
    AWQ_CUDA_CHECK(cudaMemcpyAsync(logits->data(), logits_.get(), logits->size() * 4, cudaMemcpyDeviceToHost, stream_));
  }
  AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the host vectors above live on this frame
}

bool CudaRunnerImpl::decode_rows_top(std::span<const DecodeRow> rows, std::span<const int> counts, std::vector<int>& ids,
                                     std::vector<LogitPool>& pools) {
  if (!logit_pool_) return false;
  if (counts.size() != rows.size()) runtime_error("decode_rows_top: {} counts for {} rows", counts.size(), rows.size());
  const int n = int(rows.size());
  upload_decode_rows(rows);
  rows_step(n);
  ids.resize(size_t(n));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(ids.data(), ids_.get(), n * sizeof(int), cudaMemcpyDeviceToHost, stream_));
  take_pools(counts, pools);  // synchronizes the stream
  return true;
}

}  // namespace

std::unique_ptr<CudaRunner> make_cuda_runner(std::shared_ptr<const ModelWeights> weights,
                                             const CudaRunnerOptions& options) {
  return std::make_unique<CudaRunnerImpl>(std::move(weights), options);
}

}  // namespace awq
