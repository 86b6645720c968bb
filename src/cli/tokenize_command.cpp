// awqrun tokenize: the ids and pieces of a text, for debugging prompts and
// comparing with Hugging Face. Default output: one "id<TAB>piece" line per token.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "src/cli/commands.h"
#include "src/cli/model_location.h"
#include "src/cli/prompt_input.h"
#include "src/tokenizer/tokenizer.h"

namespace awq {

int run_tokenize(const TokenizeCommand& cmd) {
  const Tokenizer tok = Tokenizer::load(resolve_model_dir(cmd.model_dir));
  const std::string text = read_prompt(cmd.prompt, cmd.prompt_file);
  const std::vector<int> ids = tok.encode(text, !cmd.no_special);
  if (cmd.ids) {
    std::printf("%s\n", nlohmann::json(ids).dump().c_str());
  } else if (cmd.pieces) {
    nlohmann::json pieces = nlohmann::json::array();
    for (int id : ids) pieces.push_back(tok.id_to_token(id));
    std::printf("%s\n", pieces.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    for (int id : ids) {
      const std::string piece = nlohmann::json(tok.id_to_token(id)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      std::printf("%d\t%s\n", id, piece.c_str());
    }
  }
  return 0;
}

}  // namespace awq
