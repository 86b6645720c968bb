#include "src/bench/build_info.h"

#include "git_commit.h"

#ifndef AWQRUN_VERSION
#define AWQRUN_VERSION "unknown"
#endif

namespace awq {

std::string awqrun_version() { return AWQRUN_VERSION; }
std::string awqrun_git_commit() { return AWQRUN_GIT_COMMIT; }

}  // namespace awq
