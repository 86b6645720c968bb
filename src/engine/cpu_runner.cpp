#include "src/engine/cpu_runner.h"

#include <algorithm>
#include <fmt/format.h>
#include <thread>

#include "src/common/error.h"
#include "src/common/log.h"
#include "src/engine/attention.h"
#include "src/engine/cpu_linear.h"
#include "src/engine/rope.h"

namespace awq {
namespace {

// Longest span of tokens one internal pass takes: bounds the activation
// buffers (a long prompt is processed in chunks of this size).
constexpr int kMaxChunk = 256;

struct CpuLayer {
  const LayerWeights* w;
  LinearGroup qkv, gate_up;  // stacked when int4 (one pool job each)
  CpuLinear o, down;
};

class CpuRunner final : public ModelRunner {
 public:
  CpuRunner(std::shared_ptr<const ModelWeights> weights, const CpuRunnerOptions& o);
  const ModelConfig& config() const override { return w_->config; }
  int max_context() const override { return caches_[0].capacity(); }
  int max_sequences() const override { return int(caches_.size()); }
  std::string describe() const override {
    return fmt::format("cpu {}, {} thread{}, {}{}", activation_dtype_name(dtype_), pool_.size(),
                       pool_.size() == 1 ? "" : "s", simd_level_name(kernels_.level),
                       lm_head_.int8 ? ", lm_head int8" : "");
  }
  void forward(std::span<const int> tokens, int n_past, bool all_logits, std::vector<float>& logits) override {
    run(0, tokens, n_past, all_logits, logits);
  }
  int forward_slot(int slot, std::span<const int> tokens, int n_past, std::vector<float>* logits) override;
  void decode_rows(std::span<const DecodeRow> rows, std::vector<int>& ids, std::vector<float>* logits) override;

 private:
  // Where the T tokens of a pass go: consecutive positions from n_past of one
  // slot's cache, or (rows non-empty) token t at rows[t].pos of rows[t].slot.
  struct Placement {
    int slot = 0, n_past = 0;
    std::span<const DecodeRow> rows;
  };
  void run(int slot, std::span<const int> tokens, int n_past, bool all_logits, std::vector<float>& logits);
  void forward_chunk(int slot, std::span<const int> tokens, int n_past, bool all_logits, float* logits);
  void embed(std::span<const int> tokens);
  void logits_of(int first, int n, float* logits);  // final norm + lm_head of rows [first, first + n) of h_
  void run_layer(const CpuLayer& L, int layer, int T, const Placement& at);
  void round(float* x, size_t n) const { round_activations(dtype_, x, n); }

  std::shared_ptr<const ModelWeights> w_;
  ActivationDType dtype_;
  const KernelTable& kernels_;
  ThreadPool pool_;
  LinearRunner linear_;
  std::vector<CpuLayer> layers_;
  CpuLinear lm_head_;
  RopeTable rope_;
  std::vector<KvCache> caches_;  // one per sequence slot
  AttentionShape shape_;
  std::vector<int> cached_;  // per slot: positions of its cache that hold valid keys/values
  std::vector<float> slot_logits_;
  // Activations of the current chunk, [T][width].
  std::vector<float> h_, xn_, q_, k_, v_, attn_, proj_, gate_, up_;
};

int resolve_context(const ModelConfig& c, int requested) {
  if (requested > 0) return requested;
  const int model_max = c.max_position_embeddings > 0 ? c.max_position_embeddings : kDefaultCpuContextCap;
  return std::min(model_max, kDefaultCpuContextCap);
}

int resolve_threads(int requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

CpuRunner::CpuRunner(std::shared_ptr<const ModelWeights> weights, const CpuRunnerOptions& o)
    : w_(std::move(weights)),
      dtype_(o.dtype),
      kernels_(kernel_table(o.simd.value_or(detect_simd_level()))),
      pool_(resolve_threads(o.threads)),
      linear_(kernels_, pool_),
      rope_(rope_inv_freq(w_->config), resolve_context(w_->config, o.max_context)) {
  const ModelConfig& c = w_->config;
  if (o.sequences < 1) input_error("cpu runner: {} sequence slots (at least 1)", o.sequences);
  for (int s = 0; s < o.sequences; ++s)
    caches_.emplace_back(c.num_layers, c.num_kv_heads, c.head_dim, resolve_context(c, o.max_context), o.dtype);
  cached_.assign(size_t(o.sequences), 0);
  if (c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0)
    input_error("num_attention_heads {} is not a multiple of num_key_value_heads {}", c.num_heads, c.num_kv_heads);
  shape_ = {c.num_heads, c.num_kv_heads, c.head_dim, c.sliding_window};
  for (const LayerWeights& lw : w_->layers) {
    const Linear* qkv[] = {&lw.q, &lw.k, &lw.v};
    const Linear* gate_up[] = {&lw.gate, &lw.up};
    layers_.push_back({&lw, prepare_group(qkv), prepare_group(gate_up), prepare_linear(lw.o), prepare_linear(lw.down)});
  }
  if (o.lm_head == LmHeadFormat::Int8) {
    // A copy: w_->embed (which lm_head aliases when tied) stays as it is for
    // the embedding lookup.
    lm_head_ = prepare_int8(w_->lm_head, pool_);
    log_info("lm_head int8 (non-reference fast mode): {} x {} in 32-blocks with fp16 scales, {:.1f} MiB extra",
             lm_head_.out, lm_head_.in, double(lm_head_.int8->bytes()) / (1 << 20));
  } else {
    lm_head_ = prepare_dense(w_->lm_head);
  }
  log_debug("cpu runner: {}, context {}, KV cache {} x {:.1f} MiB", describe(), max_context(), caches_.size(),
            double(caches_[0].bytes()) / (1 << 20));
}

int CpuRunner::forward_slot(int slot, std::span<const int> tokens, int n_past, std::vector<float>* logits) {
  check_slot(slot);
  std::vector<float>& out = logits ? *logits : slot_logits_;
  run(slot, tokens, n_past, false, out);
  return int(std::max_element(out.begin(), out.end()) - out.begin());
}

void CpuRunner::run(int slot, std::span<const int> tokens, int n_past, bool all_logits, std::vector<float>& logits) {
  const int T = int(tokens.size());
  const ModelConfig& c = w_->config;
  if (T == 0) input_error("forward: no tokens");
  if (n_past < 0 || n_past > cached_[size_t(slot)])
    input_error("forward: n_past {} is past the {} positions in the KV cache", n_past, cached_[size_t(slot)]);
  if (n_past + T > max_context())
    input_error("{} positions exceed the context of {} (--ctx)", n_past + T, max_context());
  for (int id : tokens)
    if (id < 0 || id >= c.vocab_size) input_error("token id {} is outside the vocabulary (size {})", id, c.vocab_size);
  logits.resize(size_t(all_logits ? T : 1) * c.vocab_size);
  for (int t0 = 0; t0 < T; t0 += kMaxChunk) {
    const int n = std::min(kMaxChunk, T - t0);
    const bool last_chunk = t0 + n == T;
    float* out = all_logits ? logits.data() + size_t(t0) * c.vocab_size : (last_chunk ? logits.data() : nullptr);
    forward_chunk(slot, tokens.subspan(size_t(t0), size_t(n)), n_past + t0, all_logits, out);
  }
}

void CpuRunner::embed(std::span<const int> tokens) {
  const int H = w_->config.hidden_size;
  h_.resize(tokens.size() * H);
  for (size_t t = 0; t < tokens.size(); ++t) dense_row_to_float(w_->embed, tokens[t], h_.data() + t * H);
  round(h_.data(), h_.size());
}

void CpuRunner::forward_chunk(int slot, std::span<const int> tokens, int n_past, bool all_logits, float* logits) {
  const int T = int(tokens.size());
  embed(tokens);
  for (size_t l = 0; l < layers_.size(); ++l) run_layer(layers_[l], int(l), T, {slot, n_past, {}});
  cached_[size_t(slot)] = n_past + T;
  // Only the rows whose logits are wanted go through the final norm and lm_head.
  if (logits) logits_of(all_logits ? 0 : T - 1, all_logits ? T : 1, logits);
}

void CpuRunner::decode_rows(std::span<const DecodeRow> rows, std::vector<int>& ids, std::vector<float>* logits) {
  const ModelConfig& c = w_->config;
  const size_t vocab = size_t(c.vocab_size);
  for (const DecodeRow& r : rows) {
    check_slot(r.slot);
    if (r.pos < 0 || r.pos > cached_[size_t(r.slot)] || r.pos >= max_context())
      input_error("decode_rows: position {} of slot {} (cached {}, context {})", r.pos, r.slot,
                  cached_[size_t(r.slot)], max_context());
    if (r.token < 0 || r.token >= c.vocab_size) input_error("token id {} is outside the vocabulary", r.token);
  }
  ids.resize(rows.size());
  std::vector<float>& out = logits ? *logits : slot_logits_;
  out.resize(rows.size() * vocab);
  // The rows share every matrix product (the weights are read once for all);
  // attention and the caches stay per row.
  for (size_t r0 = 0; r0 < rows.size(); r0 += kMaxChunk) {
    const std::span<const DecodeRow> part = rows.subspan(r0, std::min<size_t>(kMaxChunk, rows.size() - r0));
    std::vector<int> tokens;
    for (const DecodeRow& r : part) tokens.push_back(r.token);
    embed(tokens);
    for (size_t l = 0; l < layers_.size(); ++l) run_layer(layers_[l], int(l), int(part.size()), {0, 0, part});
    for (const DecodeRow& r : part) cached_[size_t(r.slot)] = r.pos + 1;
    logits_of(0, int(part.size()), out.data() + r0 * vocab);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const float* row = out.data() + i * vocab;
    ids[i] = int(std::max_element(row, row + vocab) - row);
  }
}

void CpuRunner::logits_of(int first, int n, float* logits) {
  const ModelConfig& c = w_->config;
  const int H = c.hidden_size;
  xn_.resize(size_t(n) * H);
  for (int t = 0; t < n; ++t)
    rms_norm(h_.data() + size_t(first + t) * H, w_->final_norm.data(), H, c.rms_norm_eps, dtype_,
             xn_.data() + size_t(t) * H);
  linear_.run(lm_head_, xn_.data(), n, logits);
  round(logits, size_t(n) * c.vocab_size);
}

void CpuRunner::run_layer(const CpuLayer& L, int layer, int T, const Placement& at) {
  const ModelConfig& c = w_->config;
  const int H = c.hidden_size, hd = c.head_dim, qw = c.num_heads * hd, kvw = c.num_kv_heads * hd;
  const size_t I = size_t(c.intermediate_size);
  xn_.resize(size_t(T) * H);
  q_.resize(size_t(T) * qw);
  k_.resize(size_t(T) * kvw);
  v_.resize(size_t(T) * kvw);
  attn_.resize(size_t(T) * qw);
  proj_.resize(size_t(T) * H);
  gate_.resize(T * I);
  up_.resize(T * I);

  for (int t = 0; t < T; ++t)
    rms_norm(h_.data() + size_t(t) * H, L.w->input_norm.data(), H, c.rms_norm_eps, dtype_, xn_.data() + size_t(t) * H);
  float* const qkv_out[] = {q_.data(), k_.data(), v_.data()};
  linear_.run(L.qkv, xn_.data(), T, qkv_out);
  round(v_.data(), v_.size());
  for (int t = 0; t < T; ++t) {
    const int p = at.rows.empty() ? at.n_past + t : at.rows[size_t(t)].pos;
    KvCache& cache = caches_[size_t(at.rows.empty() ? at.slot : at.rows[size_t(t)].slot)];
    float* qt = q_.data() + size_t(t) * qw;
    float* kt = k_.data() + size_t(t) * kvw;
    // The linear output is rounded before RoPE and the rotated value again after.
    round(qt, size_t(qw));
    round(kt, size_t(kvw));
    for (int h = 0; h < c.num_heads; ++h) apply_rope(rope_, p, qt + size_t(h) * hd);
    for (int h = 0; h < c.num_kv_heads; ++h) apply_rope(rope_, p, kt + size_t(h) * hd);
    round(qt, size_t(qw));
    round(kt, size_t(kvw));
    cache.store(layer, p, kt, v_.data() + size_t(t) * kvw);
  }
  if (at.rows.empty()) {
    attention(caches_[size_t(at.slot)], layer, shape_, q_.data(), T, at.n_past, attn_.data(), pool_);
  } else {
    for (int t = 0; t < T; ++t)
      attention(caches_[size_t(at.rows[size_t(t)].slot)], layer, shape_, q_.data() + size_t(t) * qw, 1,
                at.rows[size_t(t)].pos, attn_.data() + size_t(t) * qw, pool_);
  }
  round(attn_.data(), attn_.size());
  linear_.run(L.o, attn_.data(), T, proj_.data());
  round(proj_.data(), proj_.size());
  for (size_t i = 0; i < h_.size(); ++i) h_[i] += proj_[i];
  round(h_.data(), h_.size());

  for (int t = 0; t < T; ++t)
    rms_norm(h_.data() + size_t(t) * H, L.w->post_attention_norm.data(), H, c.rms_norm_eps, dtype_,
             xn_.data() + size_t(t) * H);
  float* const gate_up_out[] = {gate_.data(), up_.data()};
  linear_.run(L.gate_up, xn_.data(), T, gate_up_out);
  round(gate_.data(), gate_.size());
  round(up_.data(), up_.size());
  silu_mul(gate_.data(), up_.data(), gate_.size(), dtype_);
  linear_.run(L.down, gate_.data(), T, proj_.data());
  round(proj_.data(), proj_.size());
  for (size_t i = 0; i < h_.size(); ++i) h_[i] += proj_[i];
  round(h_.data(), h_.size());
}

}  // namespace

LmHeadFormat parse_lm_head_format(std::string_view s) {
  if (s == "float16") return LmHeadFormat::Float16;
  if (s == "int8") return LmHeadFormat::Int8;
  usage_error("unknown lm_head format \"{}\" (expected float16 or int8)", s);
}

std::unique_ptr<ModelRunner> make_cpu_runner(std::shared_ptr<const ModelWeights> weights,
                                             const CpuRunnerOptions& options) {
  if (!weights) runtime_error("make_cpu_runner: no weights");
  return std::make_unique<CpuRunner>(std::move(weights), options);
}

}  // namespace awq
