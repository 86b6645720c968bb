#include "src/bench/decode_traffic.h"

#include <algorithm>

namespace awq {
namespace {

size_t linear_bytes(const Linear& l) {
  if (!l.is_quantized()) return (size_t(l.out_features) * l.in_features + l.bias.size()) * kFp16Bytes;
  const QuantLinear& q = *l.quant;
  const size_t groups_total = size_t(q.out_features) * q.groups();
  const size_t int4_weights = size_t(q.out_features) * q.in_features / 2;
  const size_t scales = groups_total * kFp16Bytes;
  const size_t zeros = groups_total / 2;  // int4, eight to a 32-bit word on disk
  return int4_weights + scales + zeros + q.bias.size() * kFp16Bytes;
}

}  // namespace

size_t decode_weight_bytes(const ModelWeights& w) {
  size_t bytes = 0;
  for (const LayerWeights& layer : w.layers) {
    for (const Linear* l : {&layer.q, &layer.k, &layer.v, &layer.o, &layer.gate, &layer.up, &layer.down})
      bytes += linear_bytes(*l);
    bytes += (layer.input_norm.size() + layer.post_attention_norm.size()) * kFp16Bytes;
  }
  bytes += w.final_norm.size() * kFp16Bytes;
  bytes += size_t(w.lm_head.rows) * w.lm_head.cols * kFp16Bytes;
  bytes += size_t(w.embed.cols) * kFp16Bytes;  // the one embedding row of the new token
  return bytes;
}

size_t kv_bytes_per_position(const ModelConfig& c, size_t element_bytes) {
  return 2 * size_t(c.num_layers) * c.num_kv_heads * c.head_dim * element_bytes;
}

double mean_attended_positions(int prefill_len, int steps, std::optional<int> sliding_window) {
  if (steps <= 0) return 0;
  double total = 0;
  for (int i = 0; i < steps; ++i) {
    const long attended = long(prefill_len) + i + 1;
    total += double(sliding_window ? std::min<long>(attended, *sliding_window) : attended);
  }
  return total / steps;
}

double decode_step_bytes(const ModelWeights& w, int prefill_len, int steps, size_t kv_element_bytes) {
  return double(decode_weight_bytes(w)) +
         double(kv_bytes_per_position(w.config, kv_element_bytes)) *
             mean_attended_positions(prefill_len, steps, w.config.sliding_window);
}

}  // namespace awq
