#include "cuda/cuda_runner.h"

#include <algorithm>
#include <cstring>

#include "cuda/awq_matmul.h"
#include "cuda/cublas_gemm.h"
#include "cuda/cuda_check.h"
#include "cuda/device_buffer.h"
#include "cuda/device_info.h"
#include "cuda/device_linear.h"
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
// Auto above kGemvMaxTokens: dequantize + cuBLAS, except for the largest
// matrices up to kMmaMaxTokens, where the tensor-core GEMM kernel measured
// faster (awq-kernel-bench, H100: gate+up 4096x28672 at m 64/256: 137/248 us
// vs 251/264 us; every smaller shape favours cuBLAS from m 64, docs/PERF.md).
constexpr size_t kMmaMinWeights = size_t(100) << 20;
constexpr int kMmaMaxTokens = 256;
// Decode attention splits the context over about this many blocks per SM
// (heads x splits); the kernel sizes the pieces from the current context.
constexpr int kDecodeBlocksPerSm = 4;
constexpr int kDefaultContextCap = 8192;
constexpr size_t kReserveBytes = size_t(512) << 20;  // cuBLAS workspace, CUDA context growth, fragmentation

struct LayerDevice {
  DeviceLinear qkv, o, gate_up, down;
  DeviceBuffer<float> input_norm, post_norm;
};

DeviceBuffer<float> upload_floats(const std::vector<float>& v) { return DeviceBuffer<float>(std::span<const float>(v)); }

class CudaRunnerImpl final : public CudaRunner {
 public:
  CudaRunnerImpl(std::shared_ptr<const ModelWeights> w, const CudaRunnerOptions& o);
  ~CudaRunnerImpl() override;

  const ModelConfig& config() const override { return w_->config; }
  int max_context() const override { return max_ctx_; }
  std::string describe() const override { return describe_; }
  void forward(std::span<const int> tokens, int n_past, bool all_logits, std::vector<float>& logits) override;
  int forward_greedy(std::span<const int> tokens, int n_past) override;

 private:
  void check_span(std::span<const int> tokens, int n_past) const;
  // Runs tokens through every layer and the final norm; xn_ then holds the
  // normalized last hidden states. pos_ must hold the first position.
  void run_layers(int n_tokens);
  void linear(const DeviceLinear& l, const uint16_t* x, int m, uint16_t* y);
  void lm_head(int row, int rows);  // logits_[0..rows) = lm_head(xn_[row..row+rows))
  void decode_step(int token, int n_past);  // one token through the captured graph, argmax in ids_[0]
  void prefill(std::span<const int> tokens, int n_past, bool all_logits, std::vector<float>* logits);

  std::shared_ptr<const ModelWeights> w_;
  CudaRunnerOptions opt_;
  int max_ctx_ = 0, device_ = 0;
  std::string describe_;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<cuda::Cublas> blas_;
  DeviceBuffer<uint16_t> embed_, lm_head_;  // lm_head_ empty when tied
  DeviceBuffer<float> final_norm_, inv_freq_;
  std::vector<LayerDevice> layers_;
  std::vector<DeviceBuffer<uint16_t>> k_cache_, v_cache_;
  // Activations for up to kChunk tokens.
  DeviceBuffer<float> resid_, logits_, attn_partial_, mm_partial_;
  DeviceBuffer<uint16_t> xn_, qkv_, attn_, proj_, gate_up_, act_, dequant_;
  DeviceBuffer<unsigned> mm_counters_;
  DeviceBuffer<int> tokens_, pos_, ids_;
  int kv_splits_ = 1;
  cudaGraphExec_t decode_graph_ = nullptr;
};

size_t fit_bytes(const ModelWeights& w, int ctx, int kv_splits) {
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
      bytes += cuda::device_linear_bytes(parts);
      size_t out = 0;
      for (const Linear* p : parts) out += p->out_features;
      largest = std::max(largest, out * parts[0]->in_features * 2);
    }
    bytes += size_t(c.hidden_size) * 8;
  }
  const size_t qkv_width = size_t(c.num_heads + 2 * c.num_kv_heads) * c.head_dim;
  bytes += size_t(2) * c.num_layers * c.num_kv_heads * ctx * c.head_dim * 2;  // KV cache
  bytes += size_t(kChunk) * (c.hidden_size * (4 + 2 + 2) + qkv_width * 2 + size_t(c.num_heads) * c.head_dim * 2 +
                             size_t(c.intermediate_size) * 6);
  bytes += size_t(kLogitRows) * c.vocab_size * 4;
  bytes += largest;  // dequantize scratch of the cuBLAS path
  bytes += cuda::kMatmulPartialFloats * 4 + cuda::kMatmulCounters * 4;
  bytes += cuda::attention_partial_floats(c.num_heads, c.head_dim, kv_splits) * 4;
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

  const size_t need = fit_bytes(*w_, max_ctx_, kv_splits_);
  const cuda::MemInfo mem = cuda::device_memory();
  if (need > mem.free_bytes)
    device_error("model needs {:.2f} GiB, {:.2f} GiB free on cuda:{} (try a smaller --ctx)",
                 double(need) / (1 << 30), double(mem.free_bytes) / (1 << 30), device_);

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
    d.qkv = cuda::upload_linear(qkv);
    d.gate_up = cuda::upload_linear(gu);
    d.o = cuda::upload_linear(op);
    d.down = cuda::upload_linear(dn);
    d.input_norm = upload_floats(l.input_norm);
    d.post_norm = upload_floats(l.post_attention_norm);
    layers_.push_back(std::move(d));
    const size_t cache = size_t(c.num_kv_heads) * max_ctx_ * c.head_dim;
    k_cache_.emplace_back(cache);
    v_cache_.emplace_back(cache);
  }
  const size_t qkv_width = size_t(c.num_heads + 2 * c.num_kv_heads) * c.head_dim;
  size_t largest = 0;
  for (const LayerDevice& l : layers_)
    for (const DeviceLinear* x : {&l.qkv, &l.o, &l.gate_up, &l.down})
      largest = std::max(largest, size_t(x->out_features) * x->in_features);
  resid_ = DeviceBuffer<float>(size_t(kChunk) * c.hidden_size);
  xn_ = DeviceBuffer<uint16_t>(size_t(kChunk) * c.hidden_size);
  qkv_ = DeviceBuffer<uint16_t>(size_t(kChunk) * qkv_width);
  attn_ = DeviceBuffer<uint16_t>(size_t(kChunk) * c.num_heads * c.head_dim);
  proj_ = DeviceBuffer<uint16_t>(size_t(kChunk) * c.hidden_size);
  gate_up_ = DeviceBuffer<uint16_t>(size_t(kChunk) * 2 * c.intermediate_size);
  act_ = DeviceBuffer<uint16_t>(size_t(kChunk) * c.intermediate_size);
  dequant_ = DeviceBuffer<uint16_t>(largest);
  logits_ = DeviceBuffer<float>(size_t(kLogitRows) * c.vocab_size);
  attn_partial_ = DeviceBuffer<float>(cuda::attention_partial_floats(c.num_heads, c.head_dim, kv_splits_));
  mm_partial_ = DeviceBuffer<float>(cuda::kMatmulPartialFloats);
  mm_counters_ = DeviceBuffer<unsigned>(cuda::kMatmulCounters);
  cuda::device_memset(mm_counters_.get(), 0, mm_counters_.bytes());
  tokens_ = DeviceBuffer<int>(kChunk);
  pos_ = DeviceBuffer<int>(1);
  ids_ = DeviceBuffer<int>(1);
  const char* family = o.kernels == CudaKernelFamily::Gemv ? "gemv" : o.kernels == CudaKernelFamily::Gemm ? "gemm" : "auto";
  describe_ = fmt::format("cuda:{} ({}) float16 {}", device_, name, family);
  log_info("cuda: {:.2f} GiB of weights, cache and buffers on {}", double(need - kReserveBytes) / (1 << 30), name);
}

CudaRunnerImpl::~CudaRunnerImpl() {
  if (decode_graph_) cudaGraphExecDestroy(decode_graph_);
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

void CudaRunnerImpl::linear(const DeviceLinear& l, const uint16_t* x, int m, uint16_t* y) {
  const cuda::MatmulWorkspace ws{mm_partial_.get(), mm_partial_.size(), mm_counters_.get(), mm_counters_.size()};
  if (!l.quantized) {
    blas_->gemm_f16(l.dense.get(), x, y, m, l.out_features, l.in_features);
    if (l.bias.size()) cuda::add_bias(y, l.bias.get(), m, l.out_features, stream_);
    return;
  }
  switch (opt_.kernels) {
    case CudaKernelFamily::Gemm: cuda::awq_gemm_matmul(l.view, x, m, y, ws, stream_); return;
    case CudaKernelFamily::Gemv: cuda::awq_mma_matmul(l.view, x, m, y, ws, stream_); return;
    case CudaKernelFamily::Auto:
      if (m <= cuda::kGemvMaxTokens ||
          (m <= kMmaMaxTokens && size_t(l.out_features) * l.in_features >= kMmaMinWeights)) {
        cuda::awq_mma_matmul(l.view, x, m, y, ws, stream_);
      } else {
        cuda::awq_dequantize(l.view, dequant_.get(), stream_);
        blas_->gemm_f16(dequant_.get(), x, y, m, l.out_features, l.in_features);
        if (l.view.bias) cuda::add_bias(y, l.view.bias, m, l.out_features, stream_);
      }
      return;
  }
}

void CudaRunnerImpl::run_layers(int n) {
  const ModelConfig& c = w_->config;
  const float eps = c.rms_norm_eps;
  cuda::embed_tokens(embed_.get(), tokens_.get(), n, c.hidden_size, resid_.get(), stream_);
  for (size_t li = 0; li < layers_.size(); ++li) {
    const LayerDevice& l = layers_[li];
    cuda::add_rmsnorm(resid_.get(), li == 0 ? nullptr : proj_.get(), l.input_norm.get(), xn_.get(), n, c.hidden_size,
                      eps, stream_);
    linear(l.qkv, xn_.get(), n, qkv_.get());
    cuda::rope_store_kv(qkv_.get(), n, c.num_heads, c.num_kv_heads, c.head_dim, inv_freq_.get(), pos_.get(),
                        k_cache_[li].get(), v_cache_[li].get(), max_ctx_, stream_);
    cuda::AttentionArgs a;
    a.qkv = qkv_.get();
    a.k_cache = k_cache_[li].get();
    a.v_cache = v_cache_[li].get();
    a.out = attn_.get();
    a.pos0 = pos_.get();
    a.n_tokens = n;
    a.n_heads = c.num_heads;
    a.n_kv = c.num_kv_heads;
    a.head_dim = c.head_dim;
    a.max_ctx = max_ctx_;
    a.window = c.sliding_window.value_or(0);
    a.partial = attn_partial_.get();
    a.kv_splits = kv_splits_;
    cuda::attention(a, stream_);
    linear(l.o, attn_.get(), n, proj_.get());
    cuda::add_rmsnorm(resid_.get(), proj_.get(), l.post_norm.get(), xn_.get(), n, c.hidden_size, eps, stream_);
    linear(l.gate_up, xn_.get(), n, gate_up_.get());
    cuda::swiglu(gate_up_.get(), act_.get(), n, c.intermediate_size, stream_);
    linear(l.down, act_.get(), n, proj_.get());
  }
  cuda::add_rmsnorm(resid_.get(), proj_.get(), final_norm_.get(), xn_.get(), n, c.hidden_size, eps, stream_);
}

void CudaRunnerImpl::lm_head(int row, int rows) {
  const ModelConfig& c = w_->config;
  const uint16_t* head = c.tie_word_embeddings ? embed_.get() : lm_head_.get();
  blas_->gemm_f32out(head, xn_.get() + size_t(row) * c.hidden_size, logits_.get(), rows, c.vocab_size, c.hidden_size);
}

void CudaRunnerImpl::decode_step(int token, int n_past) {
  AWQ_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), &token, sizeof(int), cudaMemcpyHostToDevice, stream_));
  AWQ_CUDA_CHECK(cudaMemcpyAsync(pos_.get(), &n_past, sizeof(int), cudaMemcpyHostToDevice, stream_));
  if (!decode_graph_) {
    run_layers(1);  // warm-up outside capture (kernel attributes, cuBLAS heuristics)
    lm_head(0, 1);
    cuda::argmax_rows(logits_.get(), 1, w_->config.vocab_size, ids_.get(), stream_);
    cudaGraph_t graph;
    AWQ_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    run_layers(1);
    lm_head(0, 1);
    cuda::argmax_rows(logits_.get(), 1, w_->config.vocab_size, ids_.get(), stream_);
    AWQ_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
    AWQ_CUDA_CHECK(cudaGraphInstantiate(&decode_graph_, graph, 0));
    AWQ_CUDA_CHECK(cudaGraphDestroy(graph));
    return;  // the warm-up pass already computed this step
  }
  AWQ_CUDA_CHECK(cudaGraphLaunch(decode_graph_, stream_));
}

void CudaRunnerImpl::prefill(std::span<const int> tokens, int n_past, bool all_logits, std::vector<float>* logits) {
  const int vocab = w_->config.vocab_size, n = int(tokens.size());
  for (int start = 0; start < n; start += kChunk) {
    const int len = std::min(kChunk, n - start), pos = n_past + start;
    AWQ_CUDA_CHECK(cudaMemcpyAsync(tokens_.get(), tokens.data() + start, len * sizeof(int), cudaMemcpyHostToDevice, stream_));
    AWQ_CUDA_CHECK(cudaMemcpyAsync(pos_.get(), &pos, sizeof(int), cudaMemcpyHostToDevice, stream_));
    run_layers(len);
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
  prefill(tokens, n_past, all_logits, &logits);
}

int CudaRunnerImpl::forward_greedy(std::span<const int> tokens, int n_past) {
  check_span(tokens, n_past);
  if (tokens.empty()) input_error("forward_greedy needs at least one token");
  if (tokens.size() == 1) decode_step(tokens[0], n_past);
  else prefill(tokens, n_past, false, nullptr);
  int id = 0;
  AWQ_CUDA_CHECK(cudaMemcpyAsync(&id, ids_.get(), sizeof(int), cudaMemcpyDeviceToHost, stream_));
  AWQ_CUDA_CHECK(cudaStreamSynchronize(stream_));
  return id;
}

}  // namespace

std::unique_ptr<CudaRunner> make_cuda_runner(std::shared_ptr<const ModelWeights> weights,
                                             const CudaRunnerOptions& options) {
  return std::make_unique<CudaRunnerImpl>(std::move(weights), options);
}

}  // namespace awq
