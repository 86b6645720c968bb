// Read-only memory map of a whole file (RAII). Checkpoint weights stay mapped,
// never copied, so a 7B model costs no RAM beyond the page cache.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>

namespace awq {

class MappedFile {
 public:
  MappedFile() = default;
  // Throws Error(Input) naming the path when it cannot be opened or mapped.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace awq
