// The seam between generation and a backend (CPU reference or CUDA): run a
// span of tokens through the model, appending to the backend's KV cache.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "src/model/model_config.h"

namespace awq {

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;
  virtual const ModelConfig& config() const = 0;
  virtual int max_context() const = 0;  // KV-cache capacity in positions
  virtual std::string describe() const = 0;  // "cpu float32, 2 threads" / "cuda:0 float16 gemv"

  // Runs tokens at positions [n_past, n_past + tokens.size()). Positions from
  // n_past on are overwritten (so n_past < cached length rewinds the cache).
  // logits receives [tokens.size()][vocab] when all_logits, else [vocab] for
  // the last token. Throws Error(Input) when n_past + tokens.size() > max_context().
  virtual void forward(std::span<const int> tokens, int n_past, bool all_logits, std::vector<float>& logits) = 0;
};

}  // namespace awq
