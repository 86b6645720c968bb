// Reader for GGUF files (llama.cpp's model format, versions 2 and 3).
// Layout: ../shared/reference/tokenizer.md §5.1. The file is memory-mapped;
// tensors point into the mapping. Every length and offset is checked against
// the file size, so a truncated or corrupt file gives one Error(Input) line
// naming the file and what was being read, never a crash.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "src/common/mapped_file.h"

namespace awq {

enum class GgufValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
  String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};

const char* gguf_value_type_name(GgufValueType t);

struct GgufValue {
  GgufValueType type = GgufValueType::U8;
  uint64_t u = 0;                          // U8..U64 and Bool
  int64_t i = 0;                           // I8..I64
  double f = 0;                            // F32, F64
  std::string s;                           // String
  GgufValueType elem_type = GgufValueType::U8;  // Array
  std::vector<GgufValue> array;            // Array (may nest)

  bool is_unsigned() const;
  bool is_signed() const;
  bool is_float() const { return type == GgufValueType::F32 || type == GgufValueType::F64; }
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> ne;  // ggml order: ne[0] is the row length (fastest varying)
  uint32_t type = 0;        // ggml type id, see ggml_types.h
  uint64_t offset = 0;      // from the start of the data section
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t n_elements() const;
  int64_t rows() const { return n_elements() / ne[0]; }
  std::string shape_str() const;  // "[576, 49152]" in ggml order
};

class GgufFile {
 public:
  explicit GgufFile(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_.path(); }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }

  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  bool has(const std::string& key) const { return metadata_.count(key) != 0; }
  const GgufValue& get(const std::string& key) const;  // throws when absent

  // Typed getters: throw Error(Input) naming the file and key when the key is
  // absent or holds an incompatible type.
  std::string get_string(const std::string& key) const;
  uint64_t get_uint(const std::string& key) const;  // any non-negative integer
  double get_float(const std::string& key) const;   // any float or integer
  bool get_bool(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;

 private:
  void parse();

  MappedFile file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
};

}  // namespace awq
