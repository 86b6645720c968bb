// The CUDA runner's internals, shared by the three files that implement it,
// one concern each: cuda_runner.cpp (device memory: sizing, the weights'
// upload, buffers), runner_layers.cpp (what one pass computes: the layer
// stack, each linear's kernel, attention, lm_head) and runner_passes.cpp (how
// passes are driven: prefill, the decode graphs, batch rows, sampling pools).
#pragma once
#include <cuda_runtime.h>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cuda/cublas_gemm.h"
#include "cuda/cuda_runner.h"
#include "cuda/device_buffer.h"
#include "cuda/device_linear.h"
#include "cuda/matmul_scratch.h"

namespace awq::cuda_runner_internal {

using cuda::DeviceBuffer;
using cuda::DeviceLinear;

// Tokens per pass through the layers. Above 16 tokens every pass
// dequantizes each layer's weights once for cuBLAS (~9 ms for a 7B model on
// an H200), so a long prompt in 512-token passes paid that 4 times at 2048;
// ~150 KB of activations per token (7B) keeps 2048 at ~0.3 GB.
inline constexpr int kChunk = 2048;
// Rows of logits computed at once when a caller wants every position's
// (perplexity): the buffer is rows x vocab floats (0.26 GB at 128k vocab).
inline constexpr int kLogitRows = 512;
static_assert(kLogitRows >= kMaxCudaSequences, "a decode step's logits fit the logits buffer");

struct LayerDevice {
  DeviceLinear qkv, o, gate_up, down;
  // Unfused modules (--no-fuse): q, k, v and gate, up as their own linears;
  // qkv and gate_up are then empty.
  std::vector<DeviceLinear> qkv_parts, gate_up_parts;
  DeviceBuffer<float> input_norm, post_norm;
};

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
  void greedy_decode(int token, int n_past, int max_steps, const std::function<bool(int)>& on_token) override;
  int forward_slot(int slot, std::span<const int> tokens, int n_past, std::vector<float>* logits) override;
  bool forward_slot_top(int slot, std::span<const int> tokens, int n_past, int count, LogitPool& pool) override;
  bool decode_rows_top(std::span<const DecodeRow> rows, std::span<const int> counts, std::vector<int>& ids,
                       std::vector<LogitPool>& pools) override;
  void prefill_slots(std::span<const SlotPrompt> prompts, std::vector<int>& ids, std::vector<float>* logits) override;
  bool prefill_slots_top(std::span<const SlotPrompt> prompts, std::span<const int> counts, std::vector<int>& ids,
                         std::vector<LogitPool>& pools) override;
  void decode_rows(std::span<const DecodeRow> rows, std::vector<int>& ids, std::vector<float>* logits) override;

 private:
  void check_span(std::span<const int> tokens, int n_past) const;
  // Runs the pass's tokens through every layer and the final norm; xn_ then
  // holds the normalized last hidden states.
  void run_layers(const Pass& p);
  void attention(const Pass& p, size_t layer);
  // y = x W^T for m rows, by the kernel the family and m choose. act
  // (gate+up only): when that kernel has the SwiGLU epilogue, it writes
  // silu(gate) * up there instead of y; returns whether it did.
  bool linear(const DeviceLinear& l, const uint16_t* x, int m, uint16_t* y, uint16_t* act = nullptr);
  bool exllama_linear(const DeviceLinear& l, const uint16_t* x, int m, uint16_t* y, uint16_t* act);
  // act_ = silu(gate) * up of xn_ (fused: one product, SwiGLU in its
  // epilogue where the kernel has one; unfused: two products and a kernel).
  void mlp_activation(const LayerDevice& l, int n);
  // qkv_ = the q, k, v products of xn_.
  void qkv_projection(const LayerDevice& l, int n);
  // The unfused parts' products side by side in y (row width y_width).
  void parts_side_by_side(const std::vector<DeviceLinear>& parts, const uint16_t* x, int n, uint16_t* y,
                          size_t y_width);
  void lm_head(const uint16_t* x, int rows);  // logits_[0..rows) = lm_head(x[0..rows)), x [rows][hidden]
  void lm_head(int row, int rows) { lm_head(xn_.get() + size_t(row) * w_->config.hidden_size, rows); }
  // Uploads tokens and the per-token positions and slots of a Rows or Packed pass.
  void upload_rows(const std::vector<int>& tokens, const std::vector<int>& pos, const std::vector<int>& slot);
  // prefill_slots with, when `pools` is non-null, pools[i] of counts[i] (see
  // take_pools) for each prompt instead of rows of logits.
  void prefill_slots_into(std::span<const SlotPrompt> prompts, std::vector<int>& ids, std::vector<float>* logits,
                          std::span<const int> counts, std::vector<LogitPool>* pools);
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
  // AWQRUN_ABLATE=norm,rope,attention,linears (any subset): the layers skip
  // those kernels - the output is garbage, the time of the rest is true.
  // What a kind of kernel costs inside a replayed, PDL-overlapped decode
  // step, which per-kernel profiling cannot show (scripts/device_ablation).
  struct Ablation {
    bool norm = false, rope = false, attention = false, linears = false;
  } ablate_;
  std::vector<Segment> segments_;  // of the current Rows or Packed pass
  std::vector<int> step_tokens_, step_pos_, step_slot_;  // host side of a decode step's uploads
  DeviceBuffer<uint16_t> last_rows_;  // the last hidden state of each packed prompt
  int kv_splits_ = 1;
  cudaGraphExec_t decode_graph_ = nullptr;
  // greedy_decode's chain: two steps in flight at most, each with its own
  // pinned {position, id} pair (the copies are asynchronous) and event.
  int* chain_host_ = nullptr;  // pinned, [2][2]
  cudaEvent_t chain_done_[2] = {nullptr, nullptr};
  // Decode steps of n rows (index n), captured the second time a row count
  // occurs: continuous batching revisits the same counts, and a step is
  // ~330 launches.
  std::vector<cudaGraphExec_t> rows_graphs_;
  std::vector<uint8_t> rows_seen_;
};

}  // namespace awq::cuda_runner_internal
