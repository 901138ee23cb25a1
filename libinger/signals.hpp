// signals.hpp — the process-wide signal handlers libinger installs.
#pragma once

#include <cstddef>

namespace inger::detail {

// Install the preemption and stack-overflow handlers once per process.
// Returns false with errno set if sigaction failed.
bool signals_install();

// Give the calling thread an alternate signal stack if it has none (the overflow handler
// cannot run on the stack that overflowed). Returns the stack we mapped, or nullptr.
void *altstack_ensure(std::size_t *size);
void altstack_release(void *stack, std::size_t size);

} // namespace inger::detail
