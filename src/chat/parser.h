// Builds the syntax tree from lexer tokens following jinja2's grammar and
// operator precedence. Constructs outside the supported subset are located errors.
#pragma once
#include <vector>

#include "src/chat/ast.h"
#include "src/chat/lexer.h"

namespace awq::jinja {

// Throws Error(Input) "<name>:<line>:<col>: <what>".
Body parse_template(const SourceInfo& source, const std::vector<Token>& tokens);

}  // namespace awq::jinja
