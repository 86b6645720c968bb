// Which awqrun produced a benchmark: the version and the git commit the build
// was configured from (both passed in by src/bench/meson.build).
#pragma once
#include <string>

namespace awq {

std::string awqrun_version();
std::string awqrun_git_commit();  // short hash, or "unknown" outside a git checkout

}  // namespace awq
