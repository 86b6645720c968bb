#include "src/batch/batch_loop.h"

#include <exception>

#include "src/common/error.h"
#include "src/common/log.h"

namespace awq {

BatchResult result_of_current_exception(const BatchRequest& request) {
  try {
    throw;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Device) throw;
    return error_result(request.id, e.what());
  } catch (const std::exception& e) {
    return error_result(request.id, e.what());
  }
}

BatchResult produce_result(const BatchRequest& request, const RequestHandler& handle) {
  if (!request.error.empty()) return error_result(request.id, request.error);
  try {
    BatchResult r = handle(request);
    r.id = request.id;
    return r;
  } catch (...) {
    return result_of_current_exception(request);
  }
}

void submit_result(const BatchRequest& request, const BatchResult& r, OrderedResultWriter& writer,
                   BatchProgress& progress, const ProgressCallback& on_progress) {
  if (r.failed()) {
    ++progress.failed;
    // Parse errors name their line already; failures while generating do not.
    if (r.error.rfind("line ", 0) == 0)
      log_info("request {}: {}", id_key(r.id), r.error);
    else
      log_info("request {} (line {}): {}", id_key(r.id), request.line, r.error);
  }
  progress.completion_tokens += size_t(r.completion_tokens);
  writer.submit(request.index, format_result_line(r));
  ++progress.done;
  if (on_progress) on_progress(progress);
}

BatchProgress run_one_by_one(RequestQueue& queue, OrderedResultWriter& writer, const RequestHandler& handle,
                             const ProgressCallback& on_progress) {
  BatchProgress progress;
  progress.total = queue.remaining();
  while (auto request = queue.pop()) submit_result(*request, produce_result(*request, handle), writer, progress, on_progress);
  return progress;
}

}  // namespace awq
