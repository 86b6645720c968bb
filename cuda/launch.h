// Host launchers of the forward-pass kernels (everything except the AWQ
// matmuls, see awq_matmul.h). Device pointers only, fp16 as uint16_t bits,
// streams as void*: no CUDA types leak. Each kernel's .cu file states its
// shapes and preconditions. Positions come from device memory (`pos0`) so
// that a decode step can be captured once in a CUDA graph and replayed.
#pragma once
#include <cstddef>
#include <cstdint>

namespace awq::cuda {

// resid[t][:] = float(table[tokens[t]][:]); table fp16 [vocab][hidden].
void embed_tokens(const uint16_t* table, const int* tokens, int n_tokens, int hidden, float* resid, void* stream);

// Optionally resid += delta (fp16), then out = fp16(rmsnorm(resid) * weight).
// resid fp32 [n][hidden], weight fp32 [hidden], delta may be null.
void add_rmsnorm(float* resid, const uint16_t* delta, const float* weight, uint16_t* out, int n_tokens, int hidden,
                 float eps, void* stream);

// In place on qkv [n][(n_heads + 2 n_kv) * head_dim] (q heads, then k, then v):
// rotates q and k (HF rotate_half pairing j <-> j + head_dim/2, angle
// (pos0 + t) * inv_freq[j]) and stores k and v at positions pos0 + t of the
// layer's caches [n_kv][max_ctx][head_dim].
void rope_store_kv(uint16_t* qkv, int n_tokens, int n_heads, int n_kv, int head_dim, const float* inv_freq,
                   const int* pos0, uint16_t* k_cache, uint16_t* v_cache, int max_ctx, void* stream);

inline constexpr int kMaxKvSplits = 64;  // split-KV pieces of one decode attention

struct AttentionArgs {
  const uint16_t* qkv = nullptr;  // q read from here (row stride (n_heads + 2 n_kv) * head_dim)
  const uint16_t* k_cache = nullptr;
  const uint16_t* v_cache = nullptr;
  uint16_t* out = nullptr;  // [n_tokens][n_heads * head_dim]
  const int* pos0 = nullptr;  // device: position of token 0
  int n_tokens = 0, n_heads = 0, n_kv = 0, head_dim = 0, max_ctx = 0;
  int window = 0;  // sliding window (keys with pos - key < window), 0 = none
  float* partial = nullptr;  // split-KV scratch, attention_partial_floats() floats
  int kv_splits = 1;         // 1..64; > 1 only for n_tokens == 1 (decode)
};
size_t attention_partial_floats(int n_heads, int head_dim, int kv_splits);
void attention(const AttentionArgs& a, void* stream);

// out[t][i] = silu(gate_up[t][i]) * gate_up[t][inter + i], fp16.
void swiglu(const uint16_t* gate_up, uint16_t* out, int n_tokens, int inter, void* stream);

// ids[t] = argmax_v logits[t][v] (first index on ties); logits fp32.
void argmax_rows(const float* logits, int n_rows, int vocab, int* ids, void* stream);

}  // namespace awq::cuda
