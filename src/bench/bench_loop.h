// The timed part of `awqrun bench`: for one length L, a prefill of L random
// tokens and L greedy decode steps after it, repeated, on any ModelRunner.
#pragma once
#include <functional>
#include <span>
#include <vector>

#include "src/engine/model_runner.h"

namespace awq {

// One greedy step: run tokens at n_past and return the argmax of the last
// position's logits: ModelRunner::forward_greedy (on CUDA only the id
// crosses to the host); elsewhere forward() + an argmax on the host.
using GreedyStep = std::function<int(std::span<const int> tokens, int n_past)>;
GreedyStep make_greedy_step(ModelRunner& runner);

struct LengthTimings {
  std::vector<double> prefill_s;      // one per rep
  std::vector<double> decode_step_s;  // every step of every rep
};

struct LengthRunOptions {
  int length = 0;       // prefill length = decode steps
  int reps = 1;
  int warmup_steps = 4;  // decode steps of the untimed warm-up after its prefill
  int vocab_size = 0;   // prompt ids are uniform in [0, vocab_size)
  std::function<void()> on_step;  // after every forward (the CLI checks Ctrl-C here); may be empty
};

// Warm-up (one prefill + a few decode steps, untimed), then reps x (prefill of
// `length` tokens at position 0, `length` decode steps). Each forward is timed
// on the host clock; GreedyStep returns a token id, so the device has finished.
// Needs 2 x length positions of context.
LengthTimings time_length(const GreedyStep& step, const LengthRunOptions& options);

}  // namespace awq
