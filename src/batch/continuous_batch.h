// Continuous batching: up to runner.max_sequences() requests generate
// together, one decode step for all of them at a time (ModelRunner::
// decode_rows), and the slot of a request that finishes takes the next
// request from the queue before the next step. Results reach the
// OrderedResultWriter as requests finish, so input order and crash safety
// are the writer's as in the one-by-one loop.
//
// Each sequence keeps its own sampler, seed, stop strings and token budget
// (SequenceGeneration), so its text is the one generate() would give on the
// same logits; only the rounding of batched matrix products differs.
#pragma once
#include <functional>
#include <vector>

#include "src/batch/batch_loop.h"
#include "src/engine/generator.h"

namespace awq {

// What a request generates from: its prompt ids and its settings.
struct PreparedRequest {
  std::vector<int> prompt_ids;
  GenerateOptions options;
};
// Builds a well-formed request's PreparedRequest; what it throws becomes the
// request's error result (Error(Device) stops the batch).
using RequestPreparer = std::function<PreparedRequest(const BatchRequest&)>;

// Runs every request of the queue. poll() is called once per decode step and
// may throw to stop the batch (Ctrl-C): finished results stay written, the
// requests in flight are left for a resumed run. Returns the final counts.
BatchProgress run_continuous(RequestQueue& queue, OrderedResultWriter& writer, ModelRunner& runner,
                             const Tokenizer& tokenizer, const RequestPreparer& prepare,
                             const std::function<void()>& poll, const ProgressCallback& on_progress);

}  // namespace awq
