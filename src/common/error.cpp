#include "src/common/error.h"

namespace awq {

int exit_code(ErrorKind kind) { return static_cast<int>(kind); }

}  // namespace awq
