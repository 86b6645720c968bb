// The seam between generation and a backend (CPU reference or CUDA): run a
// span of tokens through the model, appending to the backend's KV cache.
#pragma once
#include <algorithm>
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

  // forward() for the last token's argmax (first index on ties) only. The
  // CUDA runner takes the argmax on the device, so only the id crosses to
  // the host; this default takes it from the host logits.
  virtual int forward_greedy(std::span<const int> tokens, int n_past) {
    forward(tokens, n_past, false, greedy_logits_);
    return int(std::max_element(greedy_logits_.begin(), greedy_logits_.end()) - greedy_logits_.begin());
  }

 private:
  std::vector<float> greedy_logits_;
};

}  // namespace awq
