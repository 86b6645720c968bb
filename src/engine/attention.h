// The KV cache and causal grouped-query attention of the CPU backend.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "src/engine/cpu_ops.h"
#include "src/engine/thread_pool.h"

namespace awq {

// Preallocated keys and values for `capacity` positions, laid out
// [layer][kv_head][position][head_dim] so one head's history is contiguous.
// Stored in fp32 for the Float32 mode, else in the 16-bit activation dtype.
class KvCache {
 public:
  KvCache(int layers, int kv_heads, int head_dim, int capacity, ActivationDType dtype);
  int capacity() const { return capacity_; }
  size_t bytes() const { return f32_.size() * 4 + h16_.size() * 2; }
  // k, v: [kv_heads][head_dim] of one position.
  void store(int layer, int pos, const float* k, const float* v);
  // Keys (which = 0) or values (1) of positions [0, n) of one head as fp32:
  // a pointer into the cache, or into `scratch` after conversion.
  const float* read(int which, int layer, int kv_head, int n, std::vector<float>& scratch) const;

 private:
  size_t offset(int which, int layer, int kv_head) const;
  int layers_, kv_heads_, head_dim_, capacity_;
  ActivationDType dtype_;
  std::vector<float> f32_;
  std::vector<uint16_t> h16_;
};

struct AttentionShape {
  int heads = 0, kv_heads = 0, head_dim = 0;
  std::optional<int> sliding_window;  // a query at p sees keys in (p - window, p]
};

// out[t][h * head_dim ...] = softmax(q k^T / sqrt(head_dim)) v for the T query
// tokens at positions n_past + t; the cache already holds their keys/values.
void attention(const KvCache& cache, int layer, const AttentionShape& shape, const float* q, int T, int n_past,
               float* out, ThreadPool& pool);

// One query against n keys/values (fp32, [n][head_dim]); exposed for tests.
void attend_one(const float* q, const float* keys, const float* values, int n, int head_dim, float* scores,
                float* out);

}  // namespace awq
