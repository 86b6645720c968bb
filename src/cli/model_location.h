// Resolves -m, or the default model (SmolLM2-135M-Instruct, installed by
// scripts/setup into models/ of the source tree).
#pragma once
#include <filesystem>
#include <string>

namespace awq {

inline constexpr const char* kDefaultModelName = "SmolLM2-135M-Instruct";

// Returns the model directory; throws Error(Input) with the command that
// fetches the default model when none is given and it is not installed.
std::filesystem::path resolve_model_dir(const std::string& model_flag);

}  // namespace awq
