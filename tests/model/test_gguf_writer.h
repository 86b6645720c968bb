// Test-only GGUF writer: builds small GGUF files byte by byte (also broken
// ones) so that the reader and the converter can be tested without a model.
#pragma once
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace awq::test {

class GgufBytes {
 public:
  std::vector<uint8_t> bytes;

  template <typename T>
  GgufBytes& put(T v) {
    const size_t at = bytes.size();
    bytes.resize(at + sizeof(T));
    std::memcpy(bytes.data() + at, &v, sizeof(T));
    return *this;
  }
  GgufBytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  GgufBytes& raw(const std::vector<uint8_t>& b) {
    bytes.insert(bytes.end(), b.begin(), b.end());
    return *this;
  }
  void pad_to(size_t alignment) {
    while (bytes.size() % alignment) bytes.push_back(0);
  }
};

struct TensorSpec {
  std::string name;
  std::vector<uint64_t> ne;
  uint32_t type;
  std::vector<uint8_t> data;  // encoded blocks
};

// A GGUF v3 file from pre-encoded metadata entries (each: key, type, value)
// and tensors laid out at `alignment`.
class GgufBuilder {
 public:
  uint32_t alignment = 32;

  GgufBytes& kv(const std::string& key, uint32_t type) {
    ++n_kv_;
    kvs_.str(key).put<uint32_t>(type);
    return kvs_;
  }
  void kv_u32(const std::string& k, uint32_t v) { kv(k, 4).put(v); }
  void kv_f32(const std::string& k, float v) { kv(k, 6).put(v); }
  void kv_bool(const std::string& k, bool v) { kv(k, 7).put<uint8_t>(v ? 1 : 0); }
  void kv_str(const std::string& k, const std::string& v) { kv(k, 8).str(v); }
  void kv_strs(const std::string& k, const std::vector<std::string>& v) {
    GgufBytes& b = kv(k, 9).put<uint32_t>(8).put<uint64_t>(v.size());
    for (const auto& s : v) b.str(s);
  }
  void kv_i32s(const std::string& k, const std::vector<int32_t>& v) {
    GgufBytes& b = kv(k, 9).put<uint32_t>(5).put<uint64_t>(v.size());
    for (int32_t x : v) b.put(x);
  }
  void tensor(TensorSpec t) { tensors_.push_back(std::move(t)); }

  std::vector<uint8_t> build() const {
    GgufBytes out;
    out.put<uint32_t>(0x46554747u).put<uint32_t>(3).put<uint64_t>(tensors_.size()).put<uint64_t>(n_kv_);
    out.raw(kvs_.bytes);
    uint64_t offset = 0;
    for (const TensorSpec& t : tensors_) {
      out.str(t.name).put<uint32_t>(uint32_t(t.ne.size()));
      for (uint64_t d : t.ne) out.put(d);
      out.put(t.type).put(offset);
      offset += (t.data.size() + alignment - 1) / alignment * alignment;
    }
    out.pad_to(alignment);
    for (const TensorSpec& t : tensors_) {
      out.raw(t.data);
      out.pad_to(alignment);
    }
    return out.bytes;
  }

 private:
  GgufBytes kvs_;
  uint64_t n_kv_ = 0;
  std::vector<TensorSpec> tensors_;
};

// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("awq_gguf_test_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::vector<uint8_t>& bytes) const {
    const auto p = path_ / name;
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    return p;
  }

 private:
  std::filesystem::path path_;
};

inline std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

}  // namespace awq::test
