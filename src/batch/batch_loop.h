// Running the requests of a batch one after another (the CPU path). The
// loop only connects a RequestQueue, something that produces a result for a
// request (RequestHandler) and the OrderedResultWriter, so a scheduler that
// interleaves many sequences on a GPU can take its place.
#pragma once
#include <cstddef>
#include <functional>

#include "src/batch/batch_request.h"
#include "src/batch/batch_result.h"
#include "src/batch/ordered_writer.h"
#include "src/batch/request_queue.h"

namespace awq {

// Produces the result of a well-formed request. An awq::Error or
// std::exception it throws becomes that request's {"id", "error"} result,
// except Error(Device), which stops the batch (the GPU is unusable for the
// rest). Anything else (e.g. the Ctrl-C exception) stops the batch too.
using RequestHandler = std::function<BatchResult(const BatchRequest&)>;

struct BatchProgress {
  size_t done = 0, failed = 0, total = 0;  // of this run (requests skipped on resume excluded)
  size_t completion_tokens = 0;
};
using ProgressCallback = std::function<void(const BatchProgress&)>;

// Pops every request, runs it and submits its result line. Results written
// before an exception escapes stay in the output. Returns the final counts.
BatchProgress run_one_by_one(RequestQueue& queue, OrderedResultWriter& writer, const RequestHandler& handle,
                             const ProgressCallback& on_progress);

// The result of one request: its parse error, or handle(request) with the
// exceptions above turned into an error result.
BatchResult produce_result(const BatchRequest& request, const RequestHandler& handle);

// The result of the exception being handled (call inside a catch block): an
// error result, except that Error(Device) and anything not derived from
// std::exception are rethrown, as produce_result() does.
BatchResult result_of_current_exception(const BatchRequest& request);

// Hands a finished request's line to the writer, logs a failure, counts it
// and reports progress: what every batch loop does with a result.
void submit_result(const BatchRequest& request, const BatchResult& r, OrderedResultWriter& writer,
                   BatchProgress& progress, const ProgressCallback& on_progress);

}  // namespace awq
