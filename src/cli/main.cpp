// awqrun entry point: parse the command line, dispatch, map errors to exit codes.
#include <cstdio>

#include "src/common/error.h"

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "awqrun: not implemented yet\n");
  return awq::exit_code(awq::ErrorKind::Runtime);
}
