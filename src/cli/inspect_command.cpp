// awqrun inspect -m DIR: what the checkpoint is and what running it would take.
#include <cstdio>

#include "src/cli/commands.h"
#include "src/cli/model_location.h"
#include "src/model/inspect.h"

namespace awq {

int run_inspect(const InspectCommand& cmd) {
  const std::string text = describe_checkpoint(resolve_model_dir(cmd.model_dir));
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

}  // namespace awq
