// Character classes with the meaning Rust's `char` methods give them, since
// the reference implementation (HF tokenizers) is written in Rust.
#pragma once
#include <string>
#include <string_view>

namespace awq::unicode {

bool is_whitespace(char32_t cp);   // White_Space property (char::is_whitespace)
bool is_numeric(char32_t cp);      // general category Nd, Nl or No (char::is_numeric)
bool is_punctuation(char32_t cp);  // ASCII punctuation or category P*

// Unicode normalization forms; input must be valid UTF-8 (invalid bytes are kept as they are).
enum class NormalForm { NFC, NFD, NFKC, NFKD };
std::string normalize(std::string_view text, NormalForm form);

// Full lowercase mapping, code point by code point (as Rust's char::to_lowercase).
std::string lowercase(std::string_view text);

}  // namespace awq::unicode
