// Host launchers of the forward-pass kernels (everything except the AWQ
// matmuls, see awq_matmul.h). Device pointers only, activations as uint16_t
// bits of the activation type (fp16 or bf16) that `act` names
// (cuda/act_type.h), streams as void*: no CUDA types leak. Each kernel's .cu
// file states its shapes and preconditions. Positions come from device
// memory (`pos0`) so that a decode step can be captured once in a CUDA graph
// and replayed.
#pragma once
#include <cstddef>
#include <cstdint>

#include "cuda/act_type.h"

namespace awq::cuda {

// resid[t][:] = float(table[tokens[t]][:]); table [vocab][hidden] of type act.
void embed_tokens(const uint16_t* table, const int* tokens, int n_tokens, int hidden, float* resid, Act act,
                  void* stream);

// Optionally resid += delta, then out = rmsnorm(resid) * weight rounded to
// act. resid fp32 [n][hidden], weight fp32 [hidden], delta (may be null) and
// out of type act.
void add_rmsnorm(float* resid, const uint16_t* delta, const float* weight, uint16_t* out, int n_tokens, int hidden,
                 float eps, Act act, void* stream);

// Rows mode of a multi-sequence decode step: token t is the next token of
// its own sequence, at position pos[t] of the cache slot slot[t] (device
// arrays); a layer's cache is [slots][n_kv][max_ctx][head_dim], slot_stride
// = n_kv * max_ctx * head_dim elements. Default (pos null): the tokens are
// consecutive positions pos0[0] + t of one sequence, whose cache the
// pointers address.
struct KvRows {
  const int* pos = nullptr;
  const int* slot = nullptr;
  size_t slot_stride = 0;
};

// In place on qkv [n][(n_heads + 2 n_kv) * head_dim] (q heads, then k, then v):
// rotates q and k (HF rotate_half pairing j <-> j + head_dim/2, angle
// position * inv_freq[j]) and stores k and v at their positions in the
// layer's caches [n_kv][max_ctx][head_dim] (per slot in rows mode). qkv and
// the caches are of type act.
void rope_store_kv(uint16_t* qkv, int n_tokens, int n_heads, int n_kv, int head_dim, const float* inv_freq,
                   const int* pos0, const KvRows& rows, uint16_t* k_cache, uint16_t* v_cache, int max_ctx, Act act,
                   void* stream);

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
  int kv_splits = 1;         // 1..64; > 1 only for decode (n_tokens == 1, or rows mode)
  Act act = Act::F16;        // type of qkv, the caches and out
  // Rows mode: n_tokens sequences with one query each (head_dim >= 64 only;
  // the caller loops over rows for smaller heads).
  KvRows rows;
};
size_t attention_partial_floats(int n_heads, int head_dim, int kv_splits, int n_rows = 1);
void attention(const AttentionArgs& a, void* stream);

// out[t][i] = silu(gate) * up from gate_up [n][2 inter], both of type act:
// gate_up[t][i] and gate_up[t][inter + i] (block 0), or gate and up
// interleaved in blocks of `block` features (cuda/row_stack.h: the packing
// of the GEMV kernels' SwiGLU epilogue, whose other kernels write the same
// order).
void swiglu(const uint16_t* gate_up, uint16_t* out, int n_tokens, int inter, int block, Act act, void* stream);

// The sampler's LogitPool of each row on the device: for row r of logits
// [rows][vocab], ids[r][0 .. min(n, cap)) and values[r][...] = every logit
// >= the row's counts[r]-th largest (counts: device, 1..vocab), in no order,
// and ids[r][cap] = n (> cap: too many ties at the cut; then the pool is
// incomplete). ids is [rows][cap + 1], values [rows][cap].
void top_candidates(const float* logits, int rows, int vocab, const int* counts, int cap, int* ids, float* values,
                    void* stream);

// ids[t] = argmax_v logits[t][v] (first index on ties); logits fp32.
void argmax_rows(const float* logits, int n_rows, int vocab, int* ids, void* stream);

}  // namespace awq::cuda
