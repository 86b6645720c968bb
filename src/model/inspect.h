// Text for `awqrun inspect -m DIR`: what the checkpoint is and what it needs,
// read from config and headers only (no weights are unpacked).
#pragma once
#include <filesystem>
#include <string>

namespace awq {

std::string describe_checkpoint(const std::filesystem::path& dir);

}  // namespace awq
