// UTF-8 helpers shared by the tokenizer stages. Input text is not trusted to be
// valid UTF-8: decoding never reads past the end and reports bad bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace awq::utf8 {

constexpr char32_t kInvalid = 0xFFFFFFFF;

// Decodes the code point at s[pos]; sets `len` to the bytes consumed (1 for an
// invalid byte, in which case kInvalid is returned).
char32_t decode(std::string_view s, size_t pos, size_t& len);

void append(std::string& out, char32_t cp);

// Byte length of the sequence a lead byte announces (1 for ASCII and for bytes
// that cannot start a sequence).
inline size_t sequence_length(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return lead < 0xF8 ? 4 : 1;
}

// Like Rust's String::from_utf8_lossy: each maximal invalid subsequence
// becomes one U+FFFD.
std::string lossy(std::string_view bytes);

bool is_valid(std::string_view bytes);

}  // namespace awq::utf8
