#include "src/cli/model_location.h"

#include <cstdlib>

#include "src/common/error.h"

#ifndef AWQRUN_SOURCE_DIR
#define AWQRUN_SOURCE_DIR "."
#endif

namespace awq {

std::filesystem::path resolve_model_dir(const std::string& model_flag) {
  namespace fs = std::filesystem;
  if (!model_flag.empty()) {
    if (!fs::is_directory(model_flag)) input_error("model directory {} does not exist", model_flag);
    return model_flag;
  }
  if (const char* env = std::getenv("AWQRUN_MODEL"); env && *env) {
    if (!fs::is_directory(env)) input_error("AWQRUN_MODEL={} is not a directory", env);
    return env;
  }
  const fs::path candidates[] = {fs::path(AWQRUN_SOURCE_DIR) / "models" / kDefaultModelName,
                                 fs::path("models") / kDefaultModelName};
  for (const fs::path& p : candidates)
    if (fs::is_regular_file(p / "config.json")) return p;
  throw Error(ErrorKind::Input,
              fmt::format("no -m DIR given and the default model {} is not installed; "
                          "install it with: scripts/fetch_default_model",
                          kDefaultModelName));
}

}  // namespace awq
