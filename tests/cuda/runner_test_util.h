// Helpers for the runner tests that compare make_cuda_runner with the CPU
// engine on synthetic checkpoints: a temporary checkpoint folder that removes
// itself, and the per-row relative error of logits.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/cuda/test_util.h"
#include "tools/synth_checkpoint/synth_checkpoint.h"

namespace awq::test {

// A synthetic checkpoint of `preset` cut to `layers`, fresh random seed,
// written under the temp folder and removed with the object.
struct TempSynthModel {
  std::filesystem::path dir;
  uint64_t seed = 0;
  TempSynthModel(const std::string& preset, int layers) {
    dir = std::filesystem::temp_directory_path() / ("awqrun-test-" + preset + "-" + std::to_string(::getpid()));
    SynthOptions synth;
    synth.preset = preset;
    synth.layers = layers;
    synth.out_dir = dir;
    synth.seed = seed = rng()();
    write_synthetic_checkpoint(synth);
  }
  ~TempSynthModel() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  TempSynthModel(const TempSynthModel&) = delete;
  TempSynthModel& operator=(const TempSynthModel&) = delete;
};

// Relative L2 error of row r of [rows][vocab] logits.
inline double row_error(const std::vector<float>& got, const std::vector<float>& ref, int r, int vocab) {
  double diff = 0, norm = 0;
  for (int i = 0; i < vocab; ++i) {
    const double g = got[size_t(r) * vocab + i], e = ref[size_t(r) * vocab + i];
    if (!std::isfinite(g)) return INFINITY;
    diff += (g - e) * (g - e);
    norm += e * e;
  }
  return std::sqrt(diff / norm);
}

// The largest row_error over the first `rows` rows.
inline double max_row_error(const std::vector<float>& got, const std::vector<float>& ref, int rows, int vocab) {
  double worst = 0;
  for (int r = 0; r < rows; ++r) worst = std::max(worst, row_error(got, ref, r, vocab));
  return worst;
}

}  // namespace awq::test
