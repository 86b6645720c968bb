#include "src/engine/attention.h"

#include <algorithm>
#include <cmath>

#include "src/common/half.h"

namespace awq {

KvCache::KvCache(int layers, int kv_heads, int head_dim, int capacity, ActivationDType dtype)
    : layers_(layers), kv_heads_(kv_heads), head_dim_(head_dim), capacity_(capacity), dtype_(dtype) {
  const size_t n = size_t(2) * layers * kv_heads * capacity * head_dim;
  if (dtype == ActivationDType::Float32) f32_.resize(n);
  else h16_.resize(n);
}

size_t KvCache::offset(int which, int layer, int kv_head) const {
  return ((size_t(layer) * 2 + which) * kv_heads_ + kv_head) * capacity_ * head_dim_;
}

void KvCache::store(int layer, int pos, const float* k, const float* v) {
  for (int which = 0; which < 2; ++which) {
    const float* src = which == 0 ? k : v;
    for (int h = 0; h < kv_heads_; ++h) {
      const size_t at = offset(which, layer, h) + size_t(pos) * head_dim_;
      const float* s = src + size_t(h) * head_dim_;
      if (dtype_ == ActivationDType::Float32) std::copy(s, s + head_dim_, f32_.begin() + at);
      else if (dtype_ == ActivationDType::Float16)
        for (int i = 0; i < head_dim_; ++i) h16_[at + i] = float_to_fp16(s[i]);
      else
        for (int i = 0; i < head_dim_; ++i) h16_[at + i] = float_to_bf16(s[i]);
    }
  }
}

const float* KvCache::read(int which, int layer, int kv_head, int n, std::vector<float>& scratch) const {
  const size_t at = offset(which, layer, kv_head);
  if (dtype_ == ActivationDType::Float32) return f32_.data() + at;
  const size_t count = size_t(n) * head_dim_;
  if (scratch.size() < count) scratch.resize(count);
  const uint16_t* src = h16_.data() + at;
  if (dtype_ == ActivationDType::Float16)
    for (size_t i = 0; i < count; ++i) scratch[i] = fp16_to_float(src[i]);
  else
    for (size_t i = 0; i < count; ++i) scratch[i] = bf16_to_float(src[i]);
  return scratch.data();
}

// Cloned for AVX-512/AVX2 and the baseline; the loader picks one per CPU.
__attribute__((target_clones("arch=skylake-avx512", "avx2", "default"))) void attend_one(
    const float* q, const float* keys, const float* values, int n, int head_dim, float* scores, float* out) {
  const float scale = 1.f / std::sqrt(float(head_dim));
  float max_score = -INFINITY;
  for (int j = 0; j < n; ++j) {
    const float* k = keys + size_t(j) * head_dim;
    float dot = 0.f;
    for (int i = 0; i < head_dim; ++i) dot += q[i] * k[i];
    scores[j] = dot * scale;
    max_score = std::max(max_score, scores[j]);
  }
  float total = 0.f;
  for (int j = 0; j < n; ++j) {
    scores[j] = std::exp(scores[j] - max_score);
    total += scores[j];
  }
  const float inv_total = 1.f / total;
  for (int i = 0; i < head_dim; ++i) out[i] = 0.f;
  for (int j = 0; j < n; ++j) {
    const float p = scores[j] * inv_total;
    const float* v = values + size_t(j) * head_dim;
    for (int i = 0; i < head_dim; ++i) out[i] += p * v[i];
  }
}

namespace {
struct AttentionScratch {
  std::vector<float> scores, keys, values;
};
}  // namespace

void attention(const KvCache& cache, int layer, const AttentionShape& shape, const float* q, int T, int n_past,
               float* out, ThreadPool& pool) {
  const int hd = shape.head_dim, group = shape.heads / shape.kv_heads;
  const int n_total = n_past + T;
  // One task per kv head and block of query tokens: the head's converted
  // history is reused by all its query heads.
  const int token_blocks = std::max(1, std::min(T, (pool.size() * 4 + shape.kv_heads - 1) / shape.kv_heads));
  const int per_block = (T + token_blocks - 1) / token_blocks;
  pool.run(shape.kv_heads * token_blocks, [&](int task, int) {
    const int kh = task / token_blocks, t0 = (task % token_blocks) * per_block, t1 = std::min(T, t0 + per_block);
    if (t0 >= t1) return;
    const int visible = n_past + t1;
    // Declared here, not in the enclosing function: a block-scope
    // thread_local is constructed (and later destroyed) only in the threads
    // that pass its declaration, and the pool's workers run only this body.
    thread_local AttentionScratch s;
    const float* keys = cache.read(0, layer, kh, visible, s.keys);
    const float* values = cache.read(1, layer, kh, visible, s.values);
    if (s.scores.size() < size_t(n_total)) s.scores.resize(size_t(n_total));
    for (int t = t0; t < t1; ++t) {
      const int p = n_past + t;
      const int lo = shape.sliding_window ? std::max(0, p - *shape.sliding_window + 1) : 0;
      for (int h = kh * group; h < (kh + 1) * group; ++h) {
        const size_t at = size_t(t) * shape.heads * hd + size_t(h) * hd;
        attend_one(q + at, keys + size_t(lo) * hd, values + size_t(lo) * hd, p - lo + 1, hd, s.scores.data(),
                   out + at);
      }
    }
  });
}

}  // namespace awq
