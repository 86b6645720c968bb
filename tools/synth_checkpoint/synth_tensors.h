// Internal to awq-synth: the list of tensors of a synthetic checkpoint and how
// each is filled. Any byte range of any tensor can be generated on its own.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "src/common/dtype.h"
#include "tools/synth_checkpoint/synth_checkpoint.h"

namespace awq::synth {

enum class Fill { Normal, QWeight, QZeros, Scales };

struct PlannedTensor {
  std::string name;
  DType dtype = DType::F16;
  std::vector<int64_t> shape;
  uint64_t nbytes = 0;
  Fill fill = Fill::Normal;
  float mean = 0.f, spread = 0.f;  // Normal: value distribution; Scales: mean and sd of the scale
  int groups = 0;                  // QZeros/Scales: valid groups per output (GEMV rows are padded)
  int row_width = 0;               // QZeros/Scales (GEMV): stored width of a row, in elements
  bool padded_rows = false;        // GEMV layout: entries past `groups` in a row are zero
  uint64_t stream = 0;             // random stream of this tensor
};

// Tensors in model order: embeddings, then each layer, then final norm and lm_head.
std::vector<PlannedTensor> plan_tensors(const SynthPreset& preset, int group_size, AwqLayout layout, uint64_t seed);

// Writes bytes [begin, end) of tensor t into out (begin and end multiples of 4).
void fill_bytes(const PlannedTensor& t, uint64_t begin, uint64_t end, uint8_t* out);

}  // namespace awq::synth
