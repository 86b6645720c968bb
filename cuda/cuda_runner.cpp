// The CUDA runner's device memory: what a model needs (checked against free
// memory before anything is allocated), the weights' upload in the chosen
// layout, KV-cache slots and activation buffers.
#include "cuda/cuda_runner.h"

#include <algorithm>
#include <cstdlib>

#include "cuda/awq_matmul.h"
#include "cuda/cuda_check.h"
#include "cuda/cuda_runner_impl.h"
#include "cuda/device_info.h"
#include "cuda/exllama_pack.h"
#include "cuda/launch.h"
#include "src/common/error.h"
#include "src/common/log.h"
#include "src/engine/rope.h"

namespace awq {
namespace cuda_runner_internal {
namespace {

// Decode attention splits the context over about this many blocks per SM
// (heads x splits); the kernel sizes the pieces from the current context.
constexpr int kDecodeBlocksPerSm = 4;
constexpr int kDefaultContextCap = 8192;
constexpr size_t kReserveBytes = size_t(512) << 20;  // cuBLAS workspace, CUDA context growth, fragmentation

DeviceBuffer<float> upload_floats(const std::vector<float>& v) { return DeviceBuffer<float>(std::span<const float>(v)); }

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

}  // namespace

CudaRunnerImpl::CudaRunnerImpl(std::shared_ptr<const ModelWeights> w, const CudaRunnerOptions& o)
    : w_(std::move(w)), opt_(o), device_(o.device) {
  const ModelConfig& c = w_->config;
  const std::string name = cuda::select_device(device_);
  const int model_max = c.max_position_embeddings > 0 ? c.max_position_embeddings : kDefaultContextCap;
  max_ctx_ = o.max_context > 0 ? o.max_context : std::min(model_max, kDefaultContextCap);
  if (c.head_dim != 8 && c.head_dim != 16 && c.head_dim != 32 && c.head_dim != 64 && c.head_dim != 128 &&
      c.head_dim != 256)
    input_error("cuda backend: head_dim {} is not supported (8, 16, 32, 64, 128 or 256)", c.head_dim);
  if (o.kernels == CudaKernelFamily::Exllama && o.act != cuda::Act::F16)
    input_error("cuda backend: the exllama kernels run in float16 only");
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
  AWQ_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&chain_host_), 4 * sizeof(int)));
  for (cudaEvent_t& e : chain_done_) AWQ_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  blas_ = std::make_unique<cuda::Cublas>(stream_);
  const auto embed = cuda::dense_to_act(w_->embed, o.act);
  embed_ = DeviceBuffer<uint16_t>(std::span<const uint16_t>(embed));
  if (!c.tie_word_embeddings) {
    const auto head = cuda::dense_to_act(w_->lm_head, o.act);
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
      d.qkv = cuda::upload_linear(qkv, o.act, layout);
      d.gate_up = cuda::upload_linear(gu, o.act, layout, /*swiglu_pair=*/true);
    } else {
      for (const Linear* part : qkv) d.qkv_parts.push_back(cuda::upload_linear(std::span(&part, 1), o.act, layout));
      for (const Linear* part : gu) d.gate_up_parts.push_back(cuda::upload_linear(std::span(&part, 1), o.act, layout));
    }
    d.o = cuda::upload_linear(op, o.act, layout);
    d.down = cuda::upload_linear(dn, o.act, layout);
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
  if (const char* skip = std::getenv("AWQRUN_ABLATE"); skip && *skip) {
    const std::string list = std::string(",") + skip + ",";
    ablate_ = {list.find(",norm,") != std::string::npos, list.find(",rope,") != std::string::npos,
               list.find(",attention,") != std::string::npos, list.find(",linears,") != std::string::npos};
    log_warn("AWQRUN_ABLATE={}: the layers skip these kernels, so every output is garbage (timing only)", skip);
  }
  const char* family = o.kernels == CudaKernelFamily::Gemv      ? "gemv"
                       : o.kernels == CudaKernelFamily::Gemm    ? "gemm"
                       : o.kernels == CudaKernelFamily::Exllama ? "exllama"
                                                                : "auto";
  describe_ = fmt::format("cuda:{} ({}) {} {}{}", device_, name, cuda::act_name(o.act), family, o.fused ? "" : " unfused");
  log_info("cuda: {:.2f} GiB of weights, cache and buffers on {}; KV cache {} x {} positions ({:.2f} GiB)",
           double(need - kReserveBytes) / (1 << 30), name, slots_, max_ctx_, double(per_slot * slots_) / (1 << 30));
}

CudaRunnerImpl::~CudaRunnerImpl() {
  if (stream_) cudaStreamSynchronize(stream_);  // a chained step may still write chain_host_
  for (cudaEvent_t e : chain_done_)
    if (e) cudaEventDestroy(e);
  if (chain_host_) cudaFreeHost(chain_host_);
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

}  // namespace cuda_runner_internal

std::unique_ptr<CudaRunner> make_cuda_runner(std::shared_ptr<const ModelWeights> weights,
                                             const CudaRunnerOptions& options) {
  return std::make_unique<cuda_runner_internal::CudaRunnerImpl>(std::move(weights), options);
}

}  // namespace awq
