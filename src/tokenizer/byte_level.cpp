#include "src/tokenizer/byte_level.h"

#include "src/tokenizer/utf8.h"

namespace awq::byte_level {
namespace {

struct Tables {
  std::array<std::string, 256> to_text;
  std::array<int, 0x144> to_byte;  // code point -> byte, -1 if not in the table
  Tables() {
    to_byte.fill(-1);
    auto keep = [](int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); };
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      const char32_t cp = keep(b) ? char32_t(b) : char32_t(256 + next++);
      utf8::append(to_text[b], cp);
      to_byte[cp] = b;
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const std::array<std::string, 256>& byte_to_text() { return tables().to_text; }

void encode(std::string_view text, std::string& out) {
  const auto& t = tables().to_text;
  const size_t start = out.size();
  out.resize(start + 2 * text.size());  // every byte maps to 1 or 2 UTF-8 bytes
  char* dst = out.data() + start;
  for (char c : text) {
    const std::string& s = t[static_cast<unsigned char>(c)];
    dst[0] = s[0];
    if (s.size() == 2) dst[1] = s[1];
    dst += s.size();
  }
  out.resize(static_cast<size_t>(dst - out.data()));
}

void decode_token(std::string_view token, std::string& out) {
  const auto& to_byte = tables().to_byte;
  const size_t start = out.size();
  for (size_t pos = 0; pos < token.size();) {
    size_t len = 0;
    const char32_t cp = utf8::decode(token, pos, len);
    if (cp == utf8::kInvalid || cp >= to_byte.size() || to_byte[cp] < 0) {
      out.resize(start);
      out.append(token);
      return;
    }
    out += static_cast<char>(to_byte[cp]);
    pos += len;
  }
}

}  // namespace awq::byte_level
