// How one batch request becomes a generate() call on the CPU path.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <span>

#include "src/batch/batch_request.h"
#include "src/batch/batch_result.h"
#include "src/engine/generator.h"

namespace awq {

// The command line's settings with the request's overrides applied. A line
// without "seed" gets base seed + its index, so every request draws the same
// tokens however the batch is ordered, scheduled or resumed. A line's "stop"
// replaces --stop.
GenerateOptions options_for_request(const GenerateOptions& base, const RequestOverrides& overrides, size_t index);

// The result line's fields of a finished generation (id left empty).
BatchResult to_batch_result(const GenerateResult& g);

// Runs generate() and fills a result. poll() is called whenever text is
// produced; it may throw to abandon the request (Ctrl-C).
BatchResult generate_request(ModelRunner& runner, const Tokenizer& tokenizer, std::span<const int> prompt_ids,
                             const GenerateOptions& options, const std::function<void()>& poll);

}  // namespace awq
