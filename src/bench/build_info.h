// Which awqrun produced a benchmark: the version (src/bench/meson.build) and
// the git commit it was built from (git_commit.h, generated at build time).
#pragma once
#include <string>

namespace awq {

std::string awqrun_version();
std::string awqrun_git_commit();  // short hash (+ "-dirty"), or "unknown" outside a git checkout

}  // namespace awq
