#include "src/cli/interrupt.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace awq {
namespace {

std::atomic<int> g_interrupts{0};

extern "C" void on_sigint(int) {
  if (g_interrupts.fetch_add(1) >= 1) ::_exit(kExitInterrupted);
}

}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
}

bool interrupt_requested() { return g_interrupts.load() > 0; }

void check_interrupt() {
  if (interrupt_requested()) throw Interrupted{};
}

}  // namespace awq
