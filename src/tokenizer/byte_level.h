// GPT-2's reversible byte <-> printable code point table (ByteLevel
// pre-tokenizer and decoder).
#pragma once
#include <array>
#include <string>
#include <string_view>

namespace awq::byte_level {

// UTF-8 spelling of the code point that stands for each byte.
const std::array<std::string, 256>& byte_to_text();

// Appends the byte-level spelling of every byte of `text`.
void encode(std::string_view text, std::string& out);

// Appends the bytes a byte-level token stands for; a token holding any code
// point outside the table contributes its raw UTF-8 bytes instead (as HF does).
void decode_token(std::string_view token, std::string& out);

}  // namespace awq::byte_level
