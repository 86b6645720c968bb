#include "src/batch/resume.h"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string_view>
#include <system_error>

#include "src/batch/batch_request.h"
#include "src/common/error.h"
#include "src/common/log.h"

namespace awq {

ResumeState prepare_resume(const std::filesystem::path& output) {
  namespace fs = std::filesystem;
  ResumeState state;
  std::error_code ec;
  if (!fs::exists(output, ec)) return state;
  if (!fs::is_regular_file(output, ec)) return state;  // a FIFO or /dev/stdout: nothing to resume

  std::ifstream in(output, std::ios::binary);
  if (!in) input_error("cannot read {} to resume from it", output.string());
  const std::string content(std::istreambuf_iterator<char>(in), {});
  in.close();

  const size_t complete = content.rfind('\n') == std::string::npos ? 0 : content.rfind('\n') + 1;
  if (complete < content.size()) {
    fs::resize_file(output, complete, ec);
    if (ec) input_error("cannot cut the partial last line of {}: {}", output.string(), ec.message());
    state.dropped_bytes = content.size() - complete;
    log_info("{}: dropped a partial last line ({} bytes) left by an interrupted run", output.string(),
             state.dropped_bytes);
  }

  std::string_view rest(content.data(), complete);
  for (int line = 1; !rest.empty(); ++line) {
    const size_t end = rest.find('\n');
    const std::string_view text = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("id"))
      throw Error(ErrorKind::Input,
                  fmt::format("{} line {} is not an awqrun batch result; cannot resume from this file",
                              output.string(), line),
                  "choose another -o file, or remove this one to start over");
    state.finished_ids.insert(id_key(j["id"]));
    if (j.contains("error")) ++state.error_lines;
  }
  return state;
}

}  // namespace awq
