#include "tools/gguf_convert/gguf_file.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>
#include <set>

#include "src/common/error.h"
#include "tools/gguf_convert/ggml_types.h"

namespace awq {
namespace {

constexpr int kMaxDims = 4;         // GGML_MAX_DIMS
constexpr int kMaxArrayNesting = 8;  // deeper nesting is surely corruption

// Bounds-checked little-endian reader over the mapped bytes.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, std::string file) : data_(data), size_(size), file_(std::move(file)) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& file() const { return file_; }

  void need(uint64_t n, const std::string& what) const {
    if (n > remaining())
      input_error("{}: truncated or corrupt GGUF: {} needs {} bytes at offset {}, but the file has {} bytes",
                  file_, what, n, pos_, size_);
  }
  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_string(const std::string& what) {
    const uint64_t n = read<uint64_t>(what + " (length)");
    need(n, what);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), size_t(n));
    pos_ += size_t(n);
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string file_;
};

// Smallest encoded size of one value of the type: bounds huge array counts
// before anything is allocated.
uint64_t min_value_bytes(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::Bool: return 1;
    case GgufValueType::U16: case GgufValueType::I16: return 2;
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::F32: return 4;
    case GgufValueType::U64: case GgufValueType::I64: case GgufValueType::F64: case GgufValueType::String: return 8;
    case GgufValueType::Array: return 12;
  }
  return 1;
}

bool known_value_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::F64); }

GgufValue read_value(Cursor& c, GgufValueType type, const std::string& key, int depth) {
  GgufValue v;
  v.type = type;
  const std::string what = fmt::format("value of '{}'", key);
  switch (type) {
    case GgufValueType::U8: v.u = c.read<uint8_t>(what); break;
    case GgufValueType::I8: v.i = c.read<int8_t>(what); break;
    case GgufValueType::U16: v.u = c.read<uint16_t>(what); break;
    case GgufValueType::I16: v.i = c.read<int16_t>(what); break;
    case GgufValueType::U32: v.u = c.read<uint32_t>(what); break;
    case GgufValueType::I32: v.i = c.read<int32_t>(what); break;
    case GgufValueType::U64: v.u = c.read<uint64_t>(what); break;
    case GgufValueType::I64: v.i = c.read<int64_t>(what); break;
    case GgufValueType::F32: v.f = c.read<float>(what); break;
    case GgufValueType::F64: v.f = c.read<double>(what); break;
    case GgufValueType::Bool: {
      const uint8_t b = c.read<uint8_t>(what);
      if (b > 1) input_error("{}: corrupt GGUF: bool '{}' has byte value {}", c.file(), key, b);
      v.u = b;
      break;
    }
    case GgufValueType::String: v.s = c.read_string(what); break;
    case GgufValueType::Array: {
      if (depth >= kMaxArrayNesting)
        input_error("{}: corrupt GGUF: '{}' nests arrays more than {} deep", c.file(), key, kMaxArrayNesting);
      const uint32_t elem = c.read<uint32_t>(what + " (array type)");
      if (!known_value_type(elem))
        input_error("{}: corrupt GGUF: array '{}' has unknown element type {}", c.file(), key, elem);
      v.elem_type = static_cast<GgufValueType>(elem);
      const uint64_t n = c.read<uint64_t>(what + " (array length)");
      if (n > c.remaining() / min_value_bytes(v.elem_type))
        input_error("{}: truncated or corrupt GGUF: array '{}' claims {} elements but only {} bytes remain",
                    c.file(), key, n, c.remaining());
      v.array.reserve(size_t(n));
      for (uint64_t k = 0; k < n; ++k) v.array.push_back(read_value(c, v.elem_type, key, depth + 1));
      break;
    }
  }
  return v;
}

uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& file, const std::string& tensor) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a)
    input_error("{}: corrupt GGUF: tensor '{}' is impossibly large", file, tensor);
  return a * b;
}

GgufTensorInfo read_tensor_info(Cursor& c) {
  GgufTensorInfo t;
  t.name = c.read_string("tensor name");
  const uint32_t n_dims = c.read<uint32_t>(fmt::format("dimension count of tensor '{}'", t.name));
  if (n_dims == 0 || n_dims > kMaxDims)
    input_error("{}: corrupt GGUF: tensor '{}' has {} dimensions (1 to {} allowed)", c.file(), t.name, n_dims,
                kMaxDims);
  uint64_t elems = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    const uint64_t ne = c.read<uint64_t>(fmt::format("shape of tensor '{}'", t.name));
    if (ne == 0 || ne > uint64_t(std::numeric_limits<int64_t>::max()))
      input_error("{}: corrupt GGUF: tensor '{}' has dimension {} of size {}", c.file(), t.name, d, ne);
    elems = checked_mul(elems, ne, c.file(), t.name);
    t.ne.push_back(int64_t(ne));
  }
  t.type = c.read<uint32_t>(fmt::format("type of tensor '{}'", t.name));
  const auto info = ggml_type_info(t.type);
  if (!info) input_error("{}: tensor '{}' has unknown ggml type {}", c.file(), t.name, t.type);
  if (t.ne[0] % info->block_elems != 0)
    input_error("{}: corrupt GGUF: tensor '{}' ({}) has rows of {} values, not a multiple of the {}-value block",
                c.file(), t.name, info->name, t.ne[0], info->block_elems);
  t.nbytes = size_t(checked_mul(elems / info->block_elems, info->block_bytes, c.file(), t.name));
  t.offset = c.read<uint64_t>(fmt::format("data offset of tensor '{}'", t.name));
  return t;
}

}  // namespace

const char* gguf_value_type_name(GgufValueType t) {
  static const char* const names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                      "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(t);
  return i < std::size(names) ? names[i] : "unknown";
}

bool GgufValue::is_unsigned() const {
  return type == GgufValueType::U8 || type == GgufValueType::U16 || type == GgufValueType::U32 ||
         type == GgufValueType::U64;
}
bool GgufValue::is_signed() const {
  return type == GgufValueType::I8 || type == GgufValueType::I16 || type == GgufValueType::I32 ||
         type == GgufValueType::I64;
}

int64_t GgufTensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

std::string GgufTensorInfo::shape_str() const { return fmt::format("[{}]", fmt::join(ne, ", ")); }

GgufFile::GgufFile(const std::filesystem::path& path) : file_(path) { parse(); }

void GgufFile::parse() {
  const std::string name = path().string();
  Cursor c(file_.data(), file_.size(), name);
  c.need(4, "magic");
  const uint8_t* m = file_.data();
  if (std::memcmp(m, "GGUF", 4) != 0) {
    if (std::memcmp(m, "lmgg", 4) == 0 || std::memcmp(m, "tjgg", 4) == 0 || std::memcmp(m, "fmgg", 4) == 0)
      input_error("{}: pre-GGUF llama.cpp file (GGML/GGJT); convert it to GGUF first", name);
    input_error("{}: not a GGUF file (bad magic bytes)", name);
  }
  c.read<uint32_t>("magic");
  version_ = c.read<uint32_t>("version");
  if (version_ != 2 && version_ != 3)
    input_error("{}: GGUF version {} is not supported (2 and 3 are; big-endian files are not)", name, version_);
  const uint64_t n_tensors = c.read<uint64_t>("tensor count");
  const uint64_t n_kv = c.read<uint64_t>("metadata count");
  // A key/value needs at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least 8 + 4 + 8 + 4 + 8.
  if (n_kv > c.remaining() / 13 || n_tensors > c.remaining() / 32)
    input_error("{}: truncated or corrupt GGUF: header claims {} metadata entries and {} tensors in {} bytes", name,
                n_kv, n_tensors, file_.size());

  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = c.read_string("metadata key");
    const uint32_t type = c.read<uint32_t>(fmt::format("type of '{}'", key));
    if (!known_value_type(type)) input_error("{}: corrupt GGUF: metadata '{}' has unknown type {}", name, key, type);
    GgufValue v = read_value(c, static_cast<GgufValueType>(type), key, 0);
    if (!metadata_.emplace(key, std::move(v)).second)
      input_error("{}: corrupt GGUF: metadata key '{}' appears twice", name, key);
  }

  if (has("general.alignment")) {
    const GgufValue& a = get("general.alignment");
    if (a.type != GgufValueType::U32 || a.u == 0 || (a.u & (a.u - 1)) != 0)
      input_error("{}: general.alignment must be a u32 power of two", name);
    alignment_ = a.u;
  }

  std::set<std::string> names;
  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensorInfo t = read_tensor_info(c);
    if (!names.insert(t.name).second) input_error("{}: corrupt GGUF: tensor '{}' appears twice", name, t.name);
    tensors_.push_back(std::move(t));
  }

  const uint64_t data_start = (c.pos() + alignment_ - 1) / alignment_ * alignment_;
  for (GgufTensorInfo& t : tensors_) {
    if (t.offset % alignment_ != 0)
      input_error("{}: corrupt GGUF: tensor '{}' starts at offset {}, not a multiple of the alignment {}", name,
                  t.name, t.offset, alignment_);
    if (data_start > file_.size() || t.offset > file_.size() - data_start ||
        t.nbytes > file_.size() - data_start - t.offset)
      input_error("{}: truncated GGUF: tensor '{}' needs bytes {}..{} but the file has {} bytes", name, t.name,
                  data_start + t.offset, data_start + t.offset + t.nbytes, file_.size());
    t.data = file_.data() + data_start + t.offset;
  }
}

const GgufValue& GgufFile::get(const std::string& key) const {
  const auto it = metadata_.find(key);
  if (it == metadata_.end()) input_error("{}: metadata key '{}' is missing", path().string(), key);
  return it->second;
}

std::string GgufFile::get_string(const std::string& key) const {
  const GgufValue& v = get(key);
  if (v.type != GgufValueType::String)
    input_error("{}: '{}' is {}, expected a string", path().string(), key, gguf_value_type_name(v.type));
  return v.s;
}

uint64_t GgufFile::get_uint(const std::string& key) const {
  const GgufValue& v = get(key);
  if (v.is_unsigned()) return v.u;
  if (v.is_signed() && v.i >= 0) return uint64_t(v.i);
  input_error("{}: '{}' must be a non-negative integer", path().string(), key);
}

double GgufFile::get_float(const std::string& key) const {
  const GgufValue& v = get(key);
  if (v.is_float()) return v.f;
  if (v.is_unsigned()) return double(v.u);
  if (v.is_signed()) return double(v.i);
  input_error("{}: '{}' is {}, expected a number", path().string(), key, gguf_value_type_name(v.type));
}

bool GgufFile::get_bool(const std::string& key) const {
  const GgufValue& v = get(key);
  if (v.type != GgufValueType::Bool)
    input_error("{}: '{}' is {}, expected a bool", path().string(), key, gguf_value_type_name(v.type));
  return v.u != 0;
}

std::vector<std::string> GgufFile::get_string_array(const std::string& key) const {
  const GgufValue& v = get(key);
  if (v.type != GgufValueType::Array || v.elem_type != GgufValueType::String)
    input_error("{}: '{}' must be an array of strings", path().string(), key);
  std::vector<std::string> out;
  out.reserve(v.array.size());
  for (const GgufValue& e : v.array) out.push_back(e.s);
  return out;
}

std::vector<int64_t> GgufFile::get_int_array(const std::string& key) const {
  const GgufValue& v = get(key);
  if (v.type != GgufValueType::Array)
    input_error("{}: '{}' must be an array of integers", path().string(), key);
  std::vector<int64_t> out;
  out.reserve(v.array.size());
  for (const GgufValue& e : v.array) {
    if (e.is_signed()) out.push_back(e.i);
    else if (e.is_unsigned() && e.u <= uint64_t(std::numeric_limits<int64_t>::max())) out.push_back(int64_t(e.u));
    else input_error("{}: '{}' must be an array of integers", path().string(), key);
  }
  return out;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  for (const GgufTensorInfo& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace awq
