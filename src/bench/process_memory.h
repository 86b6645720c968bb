// Memory of this process, for the CPU rows of `awqrun bench`.
#pragma once
#include <cstddef>

namespace awq {

// Resident set size in bytes (VmRSS of /proc/self/status); 0 where the
// kernel does not say.
size_t resident_bytes();

}  // namespace awq
