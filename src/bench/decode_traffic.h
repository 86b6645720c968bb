// Bytes one batch-1 decode step must read from memory, from the model's
// tensors: the figure that turns decode tok/s into achieved GB/s.
//
// Counted per step: every linear as stored in the AWQ checkpoint (int4
// weights, fp16 scales, int4 zero points; fp16 for modules_to_not_convert;
// fp16 biases), the fp16 lm_head, the norm weights (fp16), one embedding row,
// and the fp16 K and V of every cached position the new token attends to.
// This is the checkpoint's format, not a backend's repacked one, so the
// figure is the same for every backend and a fair yardstick between them.
// Activations and the new K/V written are left out (kilobytes).
#pragma once
#include <cstddef>
#include <optional>

#include "src/model/model_config.h"
#include "src/model/weights.h"

namespace awq {

inline constexpr size_t kFp16Bytes = 2;

// Weight bytes read per decode step (everything above but the KV cache).
size_t decode_weight_bytes(const ModelWeights& w);

// K and V bytes of one cached position over all layers.
size_t kv_bytes_per_position(const ModelConfig& c, size_t element_bytes);

// Mean number of positions attended by `steps` decode steps after a prefill of
// `prefill_len` tokens: step i (from 0) sits at position prefill_len + i and
// attends to prefill_len + i + 1 positions, or to the sliding window when that
// is smaller.
double mean_attended_positions(int prefill_len, int steps, std::optional<int> sliding_window);

// decode_weight_bytes + the KV bytes at the mean attended context of the
// decode steps (the median step of a run sits at about that context).
double decode_step_bytes(const ModelWeights& w, int prefill_len, int steps, size_t kv_element_bytes);

}  // namespace awq
