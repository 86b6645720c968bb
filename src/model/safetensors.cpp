#include "src/model/safetensors.h"

#include <algorithm>

#include "src/common/error.h"
#include "src/model/json_util.h"

namespace awq {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // the reference implementation's limit

uint64_t load_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

bool is_integer(const nlohmann::json& j) { return j.is_number_integer() || j.is_number_unsigned(); }

// One header entry -> TensorView without a data pointer (offsets checked by the caller).
struct Entry {
  TensorView view;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& file, const std::string& name, const nlohmann::json& j) {
  if (!j.is_object()) input_error("{}: tensor {}: header entry is not an object", file, name);
  Entry e;
  e.view.name = name;
  e.view.file = file;

  const auto dt = j.find("dtype");
  if (dt == j.end()) input_error("{}: tensor {}: missing dtype", file, name);
  if (!dt->is_string()) input_error("{}: tensor {}: dtype must be a string, got {}", file, name, json_brief(*dt));
  const auto dtype = dtype_from_name(dt->get<std::string>());
  if (!dtype)
    input_error("{}: tensor {}: unknown dtype \"{}\" (known: F16, BF16, F32, F64, I8, U8, I16, I32, I64, BOOL)",
                file, name, dt->get<std::string>());
  e.view.dtype = *dtype;

  const auto sh = j.find("shape");
  if (sh == j.end()) input_error("{}: tensor {}: missing shape", file, name);
  if (!sh->is_array()) input_error("{}: tensor {}: shape must be a list, got {}", file, name, json_brief(*sh));
  for (const auto& d : *sh) {
    if (!is_integer(d) || (d.is_number_integer() && d.get<int64_t>() < 0))
      input_error("{}: tensor {}: shape {} has a dimension that is not a non-negative integer", file, name,
                  json_brief(*sh));
    e.view.shape.push_back(d.get<int64_t>());
  }

  const auto off = j.find("data_offsets");
  if (off == j.end()) input_error("{}: tensor {}: missing data_offsets", file, name);
  if (!off->is_array() || off->size() != 2 || !is_integer((*off)[0]) || !is_integer((*off)[1]) ||
      ((*off)[0].is_number_integer() && (*off)[0].get<int64_t>() < 0) ||
      ((*off)[1].is_number_integer() && (*off)[1].get<int64_t>() < 0))
    input_error("{}: tensor {}: data_offsets must be two non-negative integers, got {}", file, name,
                json_brief(*off));
  e.begin = (*off)[0].get<uint64_t>();
  e.end = (*off)[1].get<uint64_t>();
  if (e.begin > e.end)
    input_error("{}: tensor {}: data_offsets [{}, {}] end before they begin", file, name, e.begin, e.end);

  // numel * size in 128 bits: absurd shapes must not wrap around to a plausible size.
  unsigned __int128 bytes = dtype_size(e.view.dtype);
  for (int64_t d : e.view.shape) {
    bytes *= uint64_t(d);
    if (bytes > (unsigned __int128)(UINT64_MAX)) bytes = (unsigned __int128)(UINT64_MAX);
  }
  if (bytes != e.end - e.begin)
    input_error("{}: tensor {}: shape {} x {} needs {} bytes but data_offsets cover {}", file, name,
                e.view.shape_str(), dtype_name(e.view.dtype), uint64_t(bytes), e.end - e.begin);
  e.view.nbytes = e.end - e.begin;
  return e;
}

std::map<std::string, std::string> parse_metadata(const std::string& file, const nlohmann::json& j) {
  if (!j.is_object()) input_error("{}: __metadata__ must be an object of strings, got {}", file, json_brief(j));
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) input_error("{}: __metadata__ value of \"{}\" is not a string: {}", file, k, json_brief(v));
    out[k] = v.get<std::string>();
  }
  return out;
}

// Tensors must tile the data blob exactly: sorted by offset, no overlap, no hole, no tail.
void check_tiling(const std::string& file, std::vector<Entry>& entries, uint64_t blob_size) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.end > blob_size)
      input_error("{}: tensor {}: data_offsets [{}, {}] lie beyond the {}-byte data section (truncated file?)",
                  file, e.view.name, e.begin, e.end, blob_size);
    if (e.begin < covered)
      input_error("{}: tensors {} and {} overlap (bytes {}..{})", file, previous->view.name, e.view.name, e.begin,
                  covered);
    if (e.begin > covered)
      input_error("{}: {} bytes before tensor {} belong to no tensor (hole in the data section)", file,
                  e.begin - covered, e.view.name);
    covered = e.end;
    previous = &e;
  }
  if (covered != blob_size)
    input_error("{}: the data section has {} bytes but the tensors cover only {} (trailing bytes)", file, blob_size,
                covered);
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile sf;
  sf.file_ = std::make_shared<MappedFile>(path);
  const std::string file = path.string();
  const size_t size = sf.file_->size();
  if (size == 0) input_error("{}: file is empty", file);
  if (size < 8) input_error("{}: file is {} bytes, too short for a safetensors header", file, size);
  const uint8_t* base = sf.file_->data();
  const uint64_t header_len = load_u64_le(base);
  if (header_len > kMaxHeaderBytes)
    input_error("{}: header length {} is implausibly large (limit 100 MB); not a safetensors file?", file, header_len);
  if (header_len > size - 8)
    input_error("{}: header length {} exceeds the file size {} (truncated file?)", file, header_len, size);

  const std::string_view text(reinterpret_cast<const char*>(base + 8), header_len);
  const nlohmann::json header = parse_json_strict(text, file + " (safetensors header)");
  if (!header.is_object()) input_error("{}: safetensors header is not a JSON object", file);

  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      sf.metadata_ = parse_metadata(file, value);
      continue;
    }
    entries.push_back(parse_entry(file, name, value));
  }
  const uint64_t blob_size = size - 8 - header_len;
  check_tiling(file, entries, blob_size);

  const uint8_t* blob = base + 8 + header_len;
  const std::string file_name = path.filename().string();
  for (Entry& e : entries) {
    e.view.data = blob + e.begin;
    e.view.file = file_name;
    sf.tensors_.emplace(e.view.name, std::move(e.view));
  }
  return sf;
}

}  // namespace awq
