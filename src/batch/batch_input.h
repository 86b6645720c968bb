// The input file of `awqrun batch`: JSONL (one request object a line) or
// plain text (one prompt a line).
//
// Which one: --input-format jsonl|text when given; else the extension (.jsonl
// or .json: JSONL, .txt: text); else JSONL when every non-blank line starts
// with '{' (after leading spaces), text otherwise. Blank lines are skipped in
// both formats. A plain-text request's id is its 1-based line number, as is a
// JSONL request's without "id".
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "src/batch/batch_request.h"

namespace awq {

enum class InputFormat { Jsonl, Text };

InputFormat detect_input_format(const std::filesystem::path& path, std::string_view content);
InputFormat parse_input_format(std::string_view name, const std::filesystem::path& path,
                               std::string_view content);  // "auto" | "jsonl" | "text"

// Requests in file order, index 0, 1, ... Malformed lines become requests that
// carry an error; a repeated id is an error on its later line (results are
// matched by id on resume). Warns once per key that no line field uses.
std::vector<BatchRequest> parse_batch_input(std::string_view content, InputFormat format);

// Reads the whole file ("-": stdin). Throws Error(Input) when unreadable.
std::string read_batch_file(const std::filesystem::path& path);

}  // namespace awq
