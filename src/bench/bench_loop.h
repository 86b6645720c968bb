// The timed part of `awqrun bench`: for one length L, a prefill of L random
// tokens and L greedy decode steps after it, repeated, on any ModelRunner.
#pragma once
#include <functional>
#include <span>
#include <vector>

#include "src/engine/model_runner.h"

namespace awq {

// What the timed loop drives: a prefill that returns the argmax of the last
// position's logits (ModelRunner::forward_greedy: on CUDA only the id
// crosses to the host), and greedy decoding of `steps` tokens from `token`
// at n_past, on_token called after each (ModelRunner::greedy_decode, as
// generation runs it: on CUDA each step is enqueued before the previous
// step's id is read).
struct GreedyDriver {
  std::function<int(std::span<const int> tokens, int n_past)> prefill;
  std::function<void(int token, int n_past, int steps, const std::function<bool(int)>& on_token)> decode;
};
GreedyDriver make_greedy_driver(ModelRunner& runner);

struct LengthTimings {
  std::vector<double> prefill_s;      // one per rep
  std::vector<double> decode_step_s;  // every step of every rep
};

struct LengthRunOptions {
  int length = 0;       // prefill length = decode steps
  int reps = 1;
  int warmup_steps = 4;  // decode steps of the untimed warm-up after its prefill
  int vocab_size = 0;   // prompt ids are uniform in [0, vocab_size)
  std::function<void()> on_step;  // after every prefill and decode step (the CLI checks Ctrl-C here); may be empty
};

// Warm-up (one prefill + a few decode steps, untimed), then reps x (prefill of
// `length` tokens at position 0, `length` decode steps). Times on the host
// clock: the prefill until its id is back, each decode step from the
// previous step's id to its own (the steady-state rate of a chained decode).
// Needs 2 x length positions of context.
LengthTimings time_length(const GreedyDriver& driver, const LengthRunOptions& options);

}  // namespace awq
