#include "src/tokenizer/utf8.h"

namespace awq::utf8 {
namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Number of bytes of a well-formed sequence starting at s[pos] that are
// present (validating second-byte ranges as Unicode requires), and the full
// length the sequence needs. Returns 0 needed for an invalid lead byte.
void scan(std::string_view s, size_t pos, size_t& valid, size_t& needed) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  valid = 1;
  if (b0 < 0x80) {
    needed = 1;
    return;
  }
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    needed = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    needed = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    needed = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    needed = 0;
    return;
  }
  for (size_t i = 1; i < needed && pos + i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[pos + i]);
    const bool ok = i == 1 ? (c >= lo && c <= hi) : is_continuation(c);
    if (!ok) return;
    ++valid;
  }
}

}  // namespace

char32_t decode(std::string_view s, size_t pos, size_t& len) {
  size_t valid = 0, needed = 0;
  scan(s, pos, valid, needed);
  if (needed == 0 || valid < needed) {
    len = 1;
    return kInvalid;
  }
  len = needed;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + pos);
  switch (needed) {
    case 1: return p[0];
    case 2: return (char32_t(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    case 3: return (char32_t(p[0] & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    default:
      return (char32_t(p[0] & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) | (char32_t(p[2] & 0x3F) << 6) |
             (p[3] & 0x3F);
  }
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t valid = 0, needed = 0;
    scan(bytes, pos, valid, needed);
    if (needed != 0 && valid == needed) {
      out.append(bytes.substr(pos, needed));
    } else {
      out.append("\xEF\xBF\xBD");
    }
    pos += valid;
  }
  return out;
}

bool is_valid(std::string_view bytes) {
  for (size_t pos = 0; pos < bytes.size();) {
    size_t valid = 0, needed = 0;
    scan(bytes, pos, valid, needed);
    if (needed == 0 || valid < needed) return false;
    pos += needed;
  }
  return true;
}

}  // namespace awq::utf8
