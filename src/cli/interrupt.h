// Ctrl-C while generating: the first SIGINT stops at the next token (output so
// far stays intact, exit code 130); a second one exits at once.
#pragma once

namespace awq {

inline constexpr int kExitInterrupted = 130;

struct Interrupted {};

void install_interrupt_handler();
bool interrupt_requested();
// Throws Interrupted when Ctrl-C was pressed.
void check_interrupt();

}  // namespace awq
