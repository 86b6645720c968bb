// Resuming `awqrun batch` with the output file of an earlier run: requests
// whose id already has a result line (success or error) are skipped, so a
// rerun after Ctrl-C or a kill finishes the file without duplicates.
#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <unordered_set>

namespace awq {

struct ResumeState {
  std::unordered_set<std::string> finished_ids;  // id_key() of every result line
  size_t error_lines = 0;      // finished lines that carry "error"
  size_t dropped_bytes = 0;    // length of the partial last line that was cut away
};

// Reads the existing output file (absent or empty: nothing finished). A last
// line without its '\n' (a write cut short by a kill) is truncated away.
// Throws Error(Input) naming the file and line when a complete line is not a
// result object with an "id": that file is not this program's output.
ResumeState prepare_resume(const std::filesystem::path& output);

}  // namespace awq
